//! Review (session 24, helper 3) of the BADCHARSET response code. Each test
//! failed on the code before its fix; the rule it checks is quoted above it.

use bytes::Bytes;
use imap_proto::{Code, LiteralMode, Options, Response, StatusKind, StatusResponse, Str, StrForm, Tag};

fn parse(wire: &[u8], o: &Options) -> Result<Response, imap_proto::ParseError> {
    Response::parse(&Bytes::copy_from_slice(wire), o)
}

fn code_of(wire: &[u8], o: &Options) -> Option<Code> {
    match parse(wire, o) {
        Ok(Response::Status(s)) => s.code,
        other => panic!("{wire:?}: {other:?}"),
    }
}

fn no_with(charsets: Vec<Str>) -> Response {
    Response::Status(StatusResponse {
        tag: Tag::new("a1"),
        kind: StatusKind::No,
        code: Some(Code::BadCharset(charsets)),
        text: Bytes::from_static(b"no"),
    })
}

// RFC 3501 section 9 and RFC 9051 section 9 alike: `"BADCHARSET" [SP "("
// astring *(SP astring) ")"]` and `[SP "(" charset *(SP charset) ")"]`: a list
// holds one charset at least. `[BADCHARSET ()]` was read as BADCHARSET
// without a list (and so encoded back as `[BADCHARSET]`, another line); it is
// now a malformed code kept as it came, like any known code with arguments
// that do not follow its grammar.
#[test]
fn badcharset_empty_list_is_malformed() {
    for o in [Options::default(), Options::rev2()] {
        let wire = b"a1 NO [BADCHARSET ()] no\r\n";
        let c = code_of(wire, &o).unwrap();
        assert!(c.is_malformed(), "{c:?}");
        assert_eq!(&parse(wire, &o).unwrap().encode(&o).unwrap().bytes[..], wire);
        // without a list it is fine
        let wire = b"a1 NO [BADCHARSET] no\r\n";
        assert_eq!(code_of(wire, &o), Some(Code::BadCharset(vec![])));
    }
}

// RFC 9051 section 9: `"BADCHARSET" [SP "(" charset *(SP charset) ")"]` with
// `charset = atom / quoted`: under IMAP4rev2 no literal and no `]` in an atom
// (resp-specials are atom-specials). The parser read RFC 3501's astring under
// both versions, so an IMAP4rev2 server's literal or `a]b` was taken.
// IMAP4rev1 keeps RFC 3501's astring.
#[test]
fn rev2_badcharset_is_atom_or_quoted() {
    let rev1 = Options::default();
    let rev2 = Options::rev2();
    let literal = b"a1 NO [BADCHARSET ({5}\r\nUTF-8)] no\r\n";
    assert_eq!(
        code_of(literal, &rev1),
        Some(Code::BadCharset(vec![Str::from("UTF-8")]))
    );
    assert!(parse(literal, &rev2).is_err());
    let bracket = b"a1 NO [BADCHARSET (a]b)] no\r\n";
    assert_eq!(
        code_of(bracket, &rev1),
        Some(Code::BadCharset(vec![Str::from("a]b")]))
    );
    assert!(parse(bracket, &rev2).is_err());
    // quoted and atom charsets, under both, and back to the same line
    for o in [&rev1, &rev2] {
        let wire = b"a1 NO [BADCHARSET (UTF-8 \"x y\" \"a]b\" \"q\\\"\")] no\r\n";
        assert_eq!(
            code_of(wire, o),
            Some(Code::BadCharset(vec![
                Str::from("UTF-8"),
                Str::from("x y"),
                Str::from("a]b"),
                Str::from("q\""),
            ]))
        );
        assert_eq!(&parse(wire, o).unwrap().encode(o).unwrap().bytes[..], &wire[..]);
    }
}

// RFC 9051 section 9, `charset = atom / quoted`: the encoder wrote a charset
// as a literal under IMAP4rev2 too (one read from an IMAP4rev1 literal, or
// one no quoted string holds). It now quotes what a quoted string holds and
// refuses the rest; IMAP4rev1 (astring) still takes a literal.
#[test]
fn rev2_badcharset_is_never_written_as_a_literal() {
    let rev1 = Options::default();
    let rev2 = Options::rev2();
    let lit = Str::from("UTF-8").with_form(StrForm::Literal {
        mode: LiteralMode::Sync,
        binary: false,
    });
    let r = no_with(vec![lit]);
    assert_eq!(
        &r.encode(&rev1).unwrap().bytes[..],
        b"a1 NO [BADCHARSET ({5}\r\nUTF-8)] no\r\n"
    );
    let enc = r.encode(&rev2).unwrap();
    assert_eq!(&enc.bytes[..], b"a1 NO [BADCHARSET (\"UTF-8\")] no\r\n");
    assert_eq!(parse(&enc.bytes, &rev2).unwrap(), r);
    // a charset that only a literal holds
    let r = no_with(vec![Str::from("a\nb")]);
    assert!(r.encode(&rev2).is_err());
    let enc = r.encode(&rev1).unwrap();
    assert_eq!(parse(&enc.bytes, &rev1).unwrap(), r);
}
