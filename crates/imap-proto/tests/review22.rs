//! Review (session 22): each test failed on the code before its fix and
//! cites the rule it checks.

use bytes::{Bytes, BytesMut};
use imap_proto::response::CodeAtom;
use imap_proto::{
    Code, Continue, Direction, Frame, Framer, Limits, Options, Response, StatusKind, StatusResponse, Str, Tag,
};

fn parse(wire: &[u8], o: &Options) -> Result<Response, imap_proto::ParseError> {
    Response::parse(&Bytes::copy_from_slice(wire), o)
}

/// The units a client's framer cuts from `wire`, fed whole and byte by byte
/// (both must agree).
fn frame(wire: &[u8]) -> Vec<Frame> {
    let run = |pieces: Vec<&[u8]>| {
        let mut f = Framer::new(Direction::ServerToClient, Limits::default());
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for p in pieces {
            buf.extend_from_slice(p);
            while let Some(x) = f.next(&mut buf) {
                out.push(x.unwrap());
            }
        }
        out
    };
    let whole = run(vec![wire]);
    assert_eq!(whole, run(wire.chunks(1).collect()), "{wire:?}");
    whole
}

// RFC 9051 section 9 (and RFC 3501 section 9):
//   resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text
//   resp-cond-bye   = "BYE" SP resp-text
//   resp-cond-auth  = ("OK" / "PREAUTH") SP resp-text
//   continue-req    = "+" SP (resp-text / base64) CRLF
//   resp-text       = ["[" resp-text-code "]" SP] [text]
//   text            = 1*TEXT-CHAR
// so a `{n}` at the end of a status line is text, not a literal. The framer
// already framed such a line alone; the parser then refused it ("text
// ending in a literal announcement") and the encoder refused to write it.
#[test]
fn status_text_ending_like_a_literal_is_text() {
    for o in [Options::default(), Options::rev2()] {
        for (wire, text) in [
            (&b"* OK see {5}\r\n"[..], &b"see {5}"[..]),
            (b"a1 NO bad {12}\r\n", b"bad {12}"),
            (b"a1 BAD {0+}\r\n", b"{0+}"),
            (b"* NO [ALERT] disk {3}\r\n", b"disk {3}"),
            (b"* BYE going {1}\r\n", b"going {1}"),
            (b"* PREAUTH as fred ~{2}\r\n", b"as fred ~{2}"),
            (b"+ send {5}\r\n", b"send {5}"),
            (b"+ [ALERT] go {7+}\r\n", b"go {7+}"),
        ] {
            // One unit, the line alone, however it is split.
            assert_eq!(
                frame(wire),
                vec![Frame::Unit(imap_proto::Unit::new(wire.to_vec()))]
            );
            let r = parse(wire, &o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
            let got = match &r {
                Response::Status(s) => &s.text,
                Response::Continue(c) => &c.text,
                Response::Data(_) => panic!("{r:?}"),
            };
            assert_eq!(&got[..], text);
            // And it writes back as it came.
            let enc = r.encode(&o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
            assert_eq!(&enc.bytes[..], wire);
        }
    }
}

// RFC 3501 section 9: `"BADCHARSET" [SP "(" astring *(SP astring) ")" ]`:
// this code may hold literals, so the framer reads a line whose code starts
// with it by the usual end-of-line rule, and a `{n}` ending its text is a
// literal. Such text cannot be sent; what the framer would not cut as one
// line is refused by the parser too. (A guard for the fix above: it held
// before, when all such text was refused.)
#[test]
fn badcharset_text_ending_like_a_literal_is_refused() {
    let o = Options::default();
    let r = Response::Status(StatusResponse {
        tag: Tag::new("a1"),
        kind: StatusKind::No,
        code: Some(Code::BadCharset(vec![Str::from("UTF-8")])),
        text: Bytes::from_static(b"no {3}"),
    });
    assert!(r.encode(&o).is_err());
    assert!(parse(b"a1 NO [BADCHARSET (UTF-8)] no {3}\r\n", &o).is_err());
    assert!(parse(b"a1 NO [BADCHARSET ({5}\r\nUTF-8)] no {3}\r\n", &o).is_err());
    // Text that does not end in `{n}` is fine, literal charset included.
    let wire = b"a1 NO [BADCHARSET ({5}\r\nUTF-8)] no {3} charset\r\n";
    assert_eq!(frame(wire).len(), 1);
    let r = parse(wire, &o).unwrap();
    assert_eq!(&r.encode(&o).unwrap().bytes[..], &wire[..]);
}
// RFC 3501 section 9: `resp-text = ["[" resp-text-code "]" SP] text` with
// `text = 1*TEXT-CHAR`: under IMAP4rev1 a status response always has text
// (RFC 9051 section 9 made it optional: `[text]`). The encoder wrote
// `a1 OK \r\n` and `* OK [ALERT]\r\n` under IMAP4rev1.
#[test]
fn rev1_status_text_is_never_empty() {
    let rev1 = Options::default();
    let status = |code: Option<Code>| {
        Response::Status(StatusResponse {
            tag: Tag::new("a1"),
            kind: StatusKind::Ok,
            code,
            text: Bytes::new(),
        })
    };
    for r in [
        status(None),
        status(Some(Code::Atom(CodeAtom::ReadWrite))),
        Response::Continue(Continue {
            code: Some(Code::Atom(CodeAtom::Alert)),
            text: Bytes::new(),
        }),
    ] {
        assert!(r.encode(&rev1).is_err(), "{r:?}");
        // IMAP4rev2 allows it, and reads back what it wrote.
        let enc = r.encode(&Options::rev2()).unwrap();
        assert_eq!(parse(&enc.bytes, &Options::rev2()).unwrap(), r);
    }
    // The parser holds IMAP4rev1 to the same rule...
    for wire in [
        &b"a1 OK\r\n"[..],
        b"a1 OK \r\n",
        b"* OK [READ-WRITE]\r\n",
        b"+ [ALERT]\r\n",
    ] {
        assert!(parse(wire, &rev1).is_err(), "{wire:?}");
        assert!(parse(wire, &Options::rev2()).is_ok(), "{wire:?}");
    }
    // ...but `+ ` alone is an empty base64 challenge (`continue-req = "+" SP
    // (resp-text / base64)`, `base64 = *(4base64-char) [base64-terminal]`).
    let plus = parse(b"+ \r\n", &rev1).unwrap();
    assert_eq!(&plus.encode(&rev1).unwrap().bytes[..], b"+ \r\n");
}

// RFC 9051 section 9:
//   status-att-val = ("MESSAGES" SP number) / ("UIDNEXT" SP nz-number) /
//                    ("UIDVALIDITY" SP nz-number) / ("UNSEEN" SP number) /
//                    ("DELETED" SP number) / ("SIZE" SP number64)
//   number = 1*DIGIT ; Unsigned 32-bit integer
// (RFC 3501 section 9: `status-att SP number`, RECENT included; RFC 9208
// section 9: `"DELETED-STORAGE" SP number64`). Every value was read and
// written as a 63-bit number, so `MESSAGES 4294967296` and `UIDVALIDITY 0`
// went both ways.
#[test]
fn status_values_keep_their_grammar_bounds() {
    use imap_proto::command::StatusItem;
    use imap_proto::{Data, Mailbox};
    let status = |item: StatusItem, n: u64| {
        Response::Data(Data::Status {
            mailbox: Mailbox::from("INBOX"),
            items: vec![(item, Some(n))],
            mailbox_id: None,
            other: vec![],
        })
    };
    for o in [Options::default(), Options::rev2()] {
        for (item, name, bad, good) in [
            (StatusItem::Messages, "MESSAGES", 1u64 << 32, 0u64),
            (StatusItem::Recent, "RECENT", 1 << 32, 0),
            (StatusItem::Unseen, "UNSEEN", 1 << 32, 0),
            (StatusItem::Deleted, "DELETED", 1 << 32, 0),
            (StatusItem::UidNext, "UIDNEXT", 0, 1),
            (StatusItem::UidNext, "UIDNEXT", 1 << 32, u64::from(u32::MAX)),
            (StatusItem::UidValidity, "UIDVALIDITY", 0, 1),
            (
                StatusItem::UidValidity,
                "UIDVALIDITY",
                1 << 32,
                u64::from(u32::MAX),
            ),
        ] {
            let wire = format!("* STATUS INBOX ({name} {bad})\r\n");
            assert!(parse(wire.as_bytes(), &o).is_err(), "{wire}");
            assert!(status(item, bad).encode(&o).is_err(), "{wire}");
            let r = status(item, good);
            let enc = r.encode(&o).unwrap();
            assert_eq!(parse(&enc.bytes, &o).unwrap(), r);
        }
        // 63-bit values stay 63-bit.
        for item in [
            StatusItem::Size,
            StatusItem::DeletedStorage,
            StatusItem::HighestModSeq,
        ] {
            let r = status(item, i64::MAX as u64);
            let enc = r.encode(&o).unwrap();
            assert_eq!(parse(&enc.bytes, &o).unwrap(), r);
        }
    }
}

// RFC 3501 section 9: `text = 1*TEXT-CHAR`, `TEXT-CHAR = <any CHAR except CR
// and LF>`, `CHAR = %x01-7F`; RFC 9051 section 9: `text = 1*(TEXT-CHAR /
// UTF8-2 / UTF8-3 / UTF8-4) ; Non-ASCII text can only be returned after
// ENABLE IMAP4rev2`; a response code's argument is `1*<any TEXT-CHAR except
// "]">`. Any byte but CR, LF and NUL was read and written as text: 8-bit
// under IMAP4rev1, bytes that are not UTF-8 under IMAP4rev2.
#[test]
fn response_text_is_ascii_under_rev1_and_utf8_under_rev2() {
    let rev1 = Options::default();
    let rev2 = Options::rev2();
    let st = |code: Option<Code>, text: &'static [u8]| {
        Response::Status(StatusResponse {
            tag: Tag::new("a1"),
            kind: StatusKind::No,
            code,
            text: Bytes::from_static(text),
        })
    };
    let other = |arg: &'static [u8]| {
        Some(Code::Other(
            Bytes::from_static(b"X-INFO"),
            Some(Bytes::from_static(arg)),
        ))
    };
    let utf8 = "caf\u{e9}".as_bytes();
    let latin1 = &b"caf\xe9"[..];
    // UTF-8: IMAP4rev2 only.
    for r in [
        st(None, utf8),
        st(other(utf8), b"x"),
        Response::Continue(Continue {
            code: None,
            text: Bytes::from_static(utf8),
        }),
    ] {
        assert!(r.encode(&rev1).is_err(), "{r:?}");
        let enc = r.encode(&rev2).unwrap();
        assert_eq!(parse(&enc.bytes, &rev2).unwrap(), r);
        assert!(parse(&enc.bytes, &rev1).is_err(), "{r:?}");
    }
    // Not UTF-8: neither.
    for r in [st(None, latin1), st(other(latin1), b"x")] {
        for o in [rev1, rev2] {
            assert!(r.encode(&o).is_err(), "{r:?}");
        }
    }
    for wire in [
        &b"a1 NO caf\xe9\r\n"[..],
        b"* OK [X-INFO caf\xe9] x\r\n",
        b"+ \xff\r\n",
    ] {
        assert!(parse(wire, &rev1).is_err(), "{wire:?}");
        assert!(parse(wire, &rev2).is_err(), "{wire:?}");
    }
    // ASCII controls other than CR, LF and NUL are CHARs: fine in both.
    let r = st(None, b"tab\there \x7f");
    for o in [rev1, rev2] {
        assert_eq!(parse(&r.encode(&o).unwrap().bytes, &o).unwrap(), r);
    }
}

// RFC 9051 section 7.5.2: "BODY: A form of BODYSTRUCTURE without extension
// data." The parser reads `FETCH (BODY ...)` without extension data; the
// encoder dropped a part's extension data from a `FetchItem::Body` without a
// word, so parse(encode(x)) != x. It refuses it now.
#[test]
fn body_without_extension_data() {
    use imap_proto::Data;
    use imap_proto::response::{BodyFields, BodyStructure, FetchItem, MultiExt, SingleExt, SingleKind};
    let o = Options::default();
    let part = |ext: Option<Box<SingleExt>>| BodyStructure::Single {
        fields: BodyFields {
            media_type: Str::from("TEXT"),
            subtype: Str::from("PLAIN"),
            params: None,
            id: None,
            description: None,
            encoding: Some(Str::from("7BIT")),
            octets: 3,
        },
        kind: SingleKind::Text { lines: 1 },
        ext,
    };
    let md5 = || {
        Some(Box::new(SingleExt {
            md5: None,
            tail: None,
        }))
    };
    let multi = |parts, ext| BodyStructure::Multi {
        parts,
        subtype: Str::from("MIXED"),
        ext,
    };
    let fetch = |item| {
        Response::Data(Data::Fetch {
            seq: 1,
            items: vec![item],
        })
    };
    for b in [
        part(md5()),
        multi(vec![part(md5())], None),
        multi(
            vec![part(None)],
            Some(Box::new(MultiExt {
                params: None,
                tail: None,
            })),
        ),
    ] {
        assert!(
            fetch(FetchItem::Body(Box::new(b.clone()))).encode(&o).is_err(),
            "{b:?}"
        );
        // BODYSTRUCTURE carries it.
        let r = fetch(FetchItem::BodyStructure(Box::new(b)));
        assert_eq!(parse(&r.encode(&o).unwrap().bytes, &o).unwrap(), r);
    }
    let r = fetch(FetchItem::Body(Box::new(multi(vec![part(None)], None))));
    assert_eq!(parse(&r.encode(&o).unwrap().bytes, &o).unwrap(), r);
}

// RFC 7162 section 7:
//   search-modsequence = "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer
//   search-modseq-ext  = SP entry-name SP entry-type-req
//   entry-name         = entry-flag-name
//   entry-flag-name    = DQUOTE "/flags/" attr-flag DQUOTE
//   entry-type-req     = entry-type-resp / "all"
//   entry-type-resp    = "priv" / "shared"
// The encoder wrote any atom as the entry type (`MODSEQ "/flags/x" bogus
// 1`), which its own parser refuses, and neither side checked the
// `/flags/` prefix of the entry name.
#[test]
fn search_modseq_entry_follows_its_grammar() {
    use imap_proto::command::SearchKey;
    use imap_proto::{Command, CommandBody};
    let o = Options::default();
    let cmd = |name: &str, t: &'static [u8]| Command {
        tag: Tag::new("a").unwrap(),
        body: CommandBody::Search {
            uid: false,
            returns: None,
            charset: None,
            criteria: vec![SearchKey::ModSeq {
                entry: Some((Str::from(name), Bytes::from_static(t))),
                mod_seq: 7,
            }],
        },
    };
    for (name, t) in [
        ("/flags/\\Seen", &b"bogus"[..]),
        ("/other/x", b"all"),
        ("\\Seen", b"priv"),
    ] {
        assert!(cmd(name, t).encode(&o).is_err(), "{name} {t:?}");
    }
    for wire in [
        &b"a SEARCH MODSEQ \"/other/x\" all 7\r\n"[..],
        b"a SEARCH MODSEQ \"flags/x\" all 7\r\n",
    ] {
        assert!(Command::parse(&Bytes::from_static(wire), &o).is_err(), "{wire:?}");
    }
    for (name, t) in [
        ("/flags/\\Seen", &b"priv"[..]),
        ("/FLAGS/$Junk", b"Shared"),
        ("/flags/x", b"ALL"),
    ] {
        let c = cmd(name, t);
        let enc = c.encode(&o).unwrap();
        assert_eq!(Command::parse(&enc.bytes, &o).unwrap(), c);
    }
}

// RFC 6154 section 6:
//   create-param =/ "USE" SP "(" [use-attr *(SP use-attr)] ")"
//   use-attr     = "\All" / "\Archive" / "\Drafts" / "\Flagged" / "\Junk" /
//                  "\Sent" / "\Trash" / use-attr-ext
//   use-attr-ext = "\" atom
// A keyword (no backslash) is no use-attr; `CREATE a (USE (x))` was read and
// written.
#[test]
fn create_use_takes_backslash_attributes_only() {
    use imap_proto::{Command, CommandBody, Flag, Mailbox};
    let o = Options::default();
    let create = |f: Flag| Command {
        tag: Tag::new("a").unwrap(),
        body: CommandBody::Create {
            mailbox: Mailbox::from("a"),
            special_use: vec![f],
        },
    };
    assert!(
        create(Flag::Keyword(imap_proto::SmallBytes::from_static(b"x")))
            .encode(&o)
            .is_err()
    );
    assert!(Command::parse(&Bytes::from_static(b"a CREATE a (USE (x))\r\n"), &o).is_err());
    assert!(Command::parse(&Bytes::from_static(b"a CREATE a (USE (\\Drafts x))\r\n"), &o).is_err());
    for f in [
        Flag::Extension(imap_proto::SmallBytes::from_static(b"Drafts")),
        Flag::Extension(imap_proto::SmallBytes::from_static(b"X-Mine")),
    ] {
        let c = create(f);
        let enc = c.encode(&o).unwrap();
        assert_eq!(Command::parse(&enc.bytes, &o).unwrap(), c);
    }
}

// RFC 9051 section 9 (RFC 3501 section 9 alike):
//   mailbox-list   = "(" [mbx-list-flags] ")" SP ...
//   mbx-list-oflag = "\Noinferiors" / child-mbox-flag / "\Subscribed" /
//                    "\Remote" / flag-extension
//   mbx-list-sflag = "\NonExistent" / "\Noselect" / "\Marked" / "\Unmarked"
//   flag-extension = "\" atom
// A mailbox attribute always has its backslash; `* LIST (foo) "/" INBOX`
// was read and written.
#[test]
fn list_attributes_take_backslash_flags_only() {
    use imap_proto::response::ListData;
    use imap_proto::{Data, Flag, Mailbox};
    let o = Options::default();
    let list = |f: Flag| {
        Response::Data(Data::List(ListData {
            attrs: vec![f].into(),
            delimiter: Some('/'),
            mailbox: Mailbox::from("INBOX"),
            extended: vec![],
        }))
    };
    assert!(
        list(Flag::Keyword(imap_proto::SmallBytes::from_static(b"foo")))
            .encode(&o)
            .is_err()
    );
    for wire in [
        &b"* LIST (foo) \"/\" INBOX\r\n"[..],
        b"* LSUB (\\Noselect foo) \"/\" INBOX\r\n",
    ] {
        assert!(parse(wire, &o).is_err(), "{wire:?}");
    }
    let r = list(Flag::Extension(imap_proto::SmallBytes::from_static(
        b"HasChildren",
    )));
    assert_eq!(parse(&r.encode(&o).unwrap().bytes, &o).unwrap(), r);
}
