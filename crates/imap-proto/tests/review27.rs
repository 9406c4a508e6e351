//! Review (session 27, helper H4): gaps closed against the public API. Each
//! test failed on the code before its fix.

use bytes::Bytes;
use imap_proto::{Options, Response};

fn parse(wire: &[u8], o: &Options) -> Result<Response, imap_proto::ParseError> {
    Response::parse(&Bytes::copy_from_slice(wire), o)
}

// RFC 9051 section 9: `mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE
// QUOTED-CHAR DQUOTE / nil) SP mailbox`, with `QUOTED-CHAR = <any TEXT-CHAR
// except quoted-specials> / "\" quoted-specials / UTF8-2 / UTF8-3 /
// UTF8-4`; RFC 6855 section 3 extends QUOTED-CHAR so under UTF8=ACCEPT.
// The delimiter was one byte, so an IMAP4rev2 server's UTF-8 delimiter was
// refused (LIST, LSUB and NAMESPACE). IMAP4rev1's QUOTED-CHAR stays ASCII
// (RFC 3501 section 9).
#[test]
fn utf8_hierarchy_delimiter_under_imap4rev2() {
    let utf8 = Options {
        utf8_accept: true,
        ..Options::default()
    };
    let wires: [&[u8]; 6] = [
        "* LIST () \"\u{e9}\" INBOX\r\n".as_bytes(),
        "* LSUB (\\Noselect) \"\u{2192}\" \"a\u{2192}b\"\r\n".as_bytes(),
        "* LIST () \"\u{1f4c1}\" x\r\n".as_bytes(),
        "* NAMESPACE ((\"\" \"\u{b7}\")) NIL NIL\r\n".as_bytes(),
        b"* LIST () \"\\\\\" a\r\n",
        b"* NAMESPACE ((\"\" \"\\\"\")) NIL ((\"#\" NIL))\r\n",
    ];
    for o in [Options::rev2(), utf8] {
        for wire in wires {
            let r = parse(wire, &o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
            assert_eq!(&r.encode(&o).unwrap().bytes[..], wire, "{r:?}");
        }
    }
    // IMAP4rev1: QUOTED-CHAR is a 7-bit TEXT-CHAR; escaped specials as before.
    let rev1 = Options::default();
    for wire in &wires[..4] {
        assert!(parse(wire, &rev1).is_err(), "{wire:?}");
    }
    for wire in &wires[4..] {
        let r = parse(wire, &rev1).unwrap();
        assert_eq!(&r.encode(&rev1).unwrap().bytes[..], *wire);
    }
    // Still one character: two, a bare special, a broken UTF-8 sequence or
    // CR/LF/NUL are refused under every version.
    for o in [Options::default(), Options::rev2()] {
        for wire in [
            "* LIST () \"\u{e9}\u{e9}\" a\r\n".as_bytes(),
            b"* LIST () \"ab\" a\r\n",
            b"* LIST () \"\"\" a\r\n",
            b"* LIST () \"\\\" a\r\n",
            b"* LIST () \"\xc3\" a\r\n",
            b"* LIST () \"\xe2\x86\" a\r\n",
            b"* LIST () \"\xff\" a\r\n",
            b"* LIST () \"\xed\xa0\x80\" a\r\n",
            b"* LIST () \"\" a\r\n",
            b"* LIST () \"\0\" a\r\n",
        ] {
            assert!(parse(wire, &o).is_err(), "{wire:?}");
        }
    }
}

// The same rule, for the encoder: a delimiter past US-ASCII is written only
// where UTF-8 is in effect, and never CR, LF or NUL.
#[test]
fn delimiter_encoding_follows_the_version() {
    use imap_proto::response::{ListData, NamespaceDesc};
    use imap_proto::{Data, Mailbox, Str};
    let list = |d| {
        Response::Data(Data::List(ListData {
            attrs: imap_proto::FlagList::new(),
            delimiter: d,
            mailbox: Mailbox::from("a"),
            extended: vec![],
        }))
    };
    let ns = |d| {
        Response::Data(Data::Namespace {
            personal: Some(vec![NamespaceDesc {
                prefix: Str::from(""),
                delimiter: d,
                extensions: vec![],
            }]),
            other: None,
            shared: None,
        })
    };
    let rev2 = Options::rev2();
    let rev1 = Options::default();
    let r = list(Some('\u{e9}'));
    assert_eq!(
        &r.encode(&rev2).unwrap().bytes[..],
        "* LIST () \"\u{e9}\" a\r\n".as_bytes()
    );
    assert!(r.encode(&rev1).is_err());
    assert!(ns(Some('\u{e9}')).encode(&rev1).is_err());
    assert_eq!(
        &ns(Some('\u{e9}')).encode(&rev2).unwrap().bytes[..],
        "* NAMESPACE ((\"\" \"\u{e9}\")) NIL NIL\r\n".as_bytes()
    );
    assert_eq!(
        &list(Some('"')).encode(&rev1).unwrap().bytes[..],
        b"* LIST () \"\\\"\" a\r\n"
    );
    assert_eq!(
        &list(Some('\\')).encode(&rev2).unwrap().bytes[..],
        b"* LIST () \"\\\\\" a\r\n"
    );
    for o in [rev1, rev2] {
        for c in ['\r', '\n', '\0'] {
            assert!(list(Some(c)).encode(&o).is_err(), "{c:?}");
            assert!(ns(Some(c)).encode(&o).is_err(), "{c:?}");
        }
        let r = parse(b"* LIST () \"/\" a\r\n", &o).unwrap();
        assert_eq!(r, list(Some('/')));
    }
    let r = parse("* LIST () \"\u{1f4c1}\" a\r\n".as_bytes(), &rev2).unwrap();
    assert_eq!(r, list(Some('\u{1f4c1}')));
}

// RFC 9051 section 9 (RFC 3501 the same): `resp-text = ["[" resp-text-code
// "]" SP] [text]` and `text = 1*TEXT-CHAR`, where TEXT-CHAR is any CHAR but
// CR and LF, "[" included. `* OK [not a code` (a "[" that opens no
// resp-text-code) is text, but it was refused, and the encoder refused any
// text starting with "[". Now a "[" opens a code only where `"["
// resp-text-code "]"` reads; otherwise the whole is text, and the encoder
// writes such text (it refuses text that would read back as a code).
#[test]
fn a_bracket_that_opens_no_code_is_text() {
    use imap_proto::{Continue, StatusKind, StatusResponse, Tag};
    let status = |tag: Option<&str>, text: &[u8]| {
        Response::Status(StatusResponse {
            tag: tag.map(|t| Tag::new(t).unwrap()),
            kind: StatusKind::Ok,
            code: None,
            text: Bytes::copy_from_slice(text),
        })
    };
    for o in [Options::default(), Options::rev2()] {
        for text in [
            &b"[not a code"[..],
            b"[",
            b"[]",
            b"[] x",
            b"[ ALERT] x",
            b"[ALERT",
            b"[UIDNEXT 5 no close",
            b"[X ] y",
            b"[(x)] y",
        ] {
            for tag in [None, Some("a1")] {
                let mut wire = match tag {
                    Some(t) => format!("{t} OK ").into_bytes(),
                    None => b"* OK ".to_vec(),
                };
                wire.extend_from_slice(text);
                wire.extend_from_slice(b"\r\n");
                let r = parse(&wire, &o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
                assert_eq!(r, status(tag, text), "{wire:?}");
                assert_eq!(&r.encode(&o).unwrap().bytes[..], &wire[..]);
            }
            let mut wire = b"+ ".to_vec();
            wire.extend_from_slice(text);
            wire.extend_from_slice(b"\r\n");
            let r = parse(&wire, &o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
            let want = Response::Continue(Continue {
                code: None,
                text: Bytes::copy_from_slice(text),
            });
            assert_eq!(r, want, "{wire:?}");
            assert_eq!(&r.encode(&o).unwrap().bytes[..], &wire[..]);
        }
        // A "[" that opens a code is one: known, generic, or malformed known.
        for (wire, code) in [
            (&b"* OK [ALERT] x\r\n"[..], "ALERT"),
            (b"* OK [X-FOO bar baz] x\r\n", "X-FOO"),
            (b"* OK [UIDNEXT 0] x\r\n", "UIDNEXT"),
            // "[" is an ATOM-CHAR: `[[ALERT]` is the code `[ALERT`.
            (b"* OK [[ALERT] x\r\n", "[ALERT"),
        ] {
            let Ok(Response::Status(s)) = parse(wire, &o) else {
                panic!("{wire:?}")
            };
            assert!(
                s.code
                    .is_some_and(|c| format!("{c:?}").to_uppercase().contains(code))
            );
            assert_eq!(&s.text[..], b"x");
        }
        // Where a code reads, the grammar's "]" SP still holds; NUL, CR and
        // (IMAP4rev1) 8-bit bytes are no TEXT-CHAR.
        for wire in [
            &b"* OK [ALERT]x\r\n"[..],
            b"* OK [X-FOO a]b\r\n",
            b"* OK [not\0a code\r\n",
            b"* OK [\xff\r\n",
        ] {
            assert!(parse(wire, &o).is_err(), "{wire:?}");
        }
        // The encoder never writes, as text, what reads back as a code.
        for text in [
            &b"[ALERT] x"[..],
            b"[ALERT]x",
            b"[X-FOO bar] x",
            b"[UIDNEXT 0] x",
            b"[ALERT]",
        ] {
            assert!(status(None, text).encode(&o).is_err(), "{text:?}");
            let c = Response::Continue(Continue {
                code: None,
                text: Bytes::copy_from_slice(text),
            });
            assert!(c.encode(&o).is_err(), "{text:?}");
        }
    }
    assert!(parse(b"* OK [\xc3\xa9\r\n", &Options::default()).is_err());
    assert!(parse(b"* OK [\xc3\xa9\r\n", &Options::rev2()).is_ok());
    // IMAP4rev1 still needs text after a code (RFC 3501 section 9).
    assert!(parse(b"* OK [ALERT]\r\n", &Options::default()).is_err());
}
