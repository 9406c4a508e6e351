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
