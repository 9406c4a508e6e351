//! Review (session 27, helper H4): gaps closed against the public API. Each
//! test failed on the code before its fix.

mod common;

use bytes::Bytes;
use common::frame_and_parse;
use imap_proto::{Command, Direction, Limits, Options, Response};
use proptest::prelude::*;

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

// A literal is streamed when it is longer than
// `Limits::stream_literals_over`, and a streamed literal has no content for
// the parser to read. Yet the parser reads some strings by their content: a
// BODYSTRUCTURE media type and subtype decide which fields follow (RFC 9051
// section 9: `body-type-text = media-text SP body-fields SP body-fld-lines`,
// `media-message = DQUOTE "MESSAGE" DQUOTE SP DQUOTE ("RFC822" / "GLOBAL")
// DQUOTE`, whose quoted forms a literal may take: `string = quoted /
// literal`), and INBOX is one name in any case (section 5.1). Under a tiny
// threshold `("TEXT" "PLAIN" ... 10 2)` with the type as `{4}` failed to
// parse (read as a basic part, the line count left over), and `{5} INBOX`
// was no INBOX. Now short literals are never streamed
// (`Limits::ALWAYS_BUFFERED`), and a longer one, which cannot be such a
// value, reads the same streamed or buffered.

/// A string on the wire: quoted, or a literal when `lit`.
fn wire_str(v: &str, lit: bool) -> String {
    if lit {
        format!("{{{}}}\r\n{v}", v.len())
    } else {
        format!("\"{v}\"")
    }
}

/// Each unit's result: its Debug, or `None` for an error.
type Results = Vec<Option<String>>;

/// Each unit's result, parsed from `wire` framed with literals buffered
/// (the default) and with `stream_literals_over: Some(1)`: its Debug, or
/// `None` for an error. In the buffered Debug, each of `long` (the values of literals
/// longer than `Limits::ALWAYS_BUFFERED`) is shown as the streamed one is.
fn buffered_and_streamed(dir: Direction, wire: &[u8], long: &[&str]) -> (Results, Results) {
    let o = Options::default();
    let run = |limits: Limits| {
        let parse = |u: &imap_proto::Unit| match dir {
            Direction::ClientToServer => Command::parse_unit(u, &o).map(|c| format!("{c:?}")),
            Direction::ServerToClient => Response::parse_unit(u, &o).map(|r| format!("{r:?}")),
        };
        frame_and_parse(dir, limits, wire, parse)
            .into_iter()
            .map(Result::ok)
            .collect::<Vec<_>>()
    };
    let mut buffered = run(Limits::default());
    for v in long {
        for r in buffered.iter_mut().flatten() {
            *r = r.replace(
                &format!("Str(b\"{v}\")"),
                &format!("Str(<streamed {} bytes>)", v.len()),
            );
        }
    }
    let streamed = run(Limits {
        stream_literals_over: Some(1),
        ..Limits::default()
    });
    (buffered, streamed)
}

const MEDIA: [&str; 6] = [
    "TEXT",
    "text",
    "MESSAGE",
    "Message",
    "APPLICATION",
    "x-a-long-media-type",
];
const SUBTYPES: [&str; 6] = [
    "PLAIN",
    "RFC822",
    "rfc822",
    "GLOBAL",
    "OCTET-STREAM",
    "x-a-long-subtype-name",
];
const TAILS: [&str; 3] = [
    "",
    " 2",
    " (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1) 3",
];
const MAILBOXES: [&str; 5] = ["INBOX", "inbox", "InBoX", "Drafts", "a-long-mailbox-name"];

proptest! {
    #[test]
    fn short_literals_read_the_same_streamed_or_buffered(
        mt in 0..MEDIA.len(),
        st in 0..SUBTYPES.len(),
        tail in 0..TAILS.len(),
        mb in 0..MAILBOXES.len(),
        lits in any::<[bool; 4]>(),
    ) {
        let (mt, st, mb) = (MEDIA[mt], SUBTYPES[st], MAILBOXES[mb]);
        let long: Vec<&str> = [mt, st, mb]
            .into_iter()
            .zip(lits)
            .filter(|&(v, lit)| lit && v.len() as u64 > Limits::ALWAYS_BUFFERED)
            .map(|(v, _)| v)
            .collect();
        let responses = format!(
            "* 1 FETCH (BODYSTRUCTURE ({} {} NIL NIL NIL \"7BIT\" 10{}))\r\n\
             * LIST () \"/\" {}\r\n* STATUS {} (MESSAGES 1)\r\n",
            wire_str(mt, lits[0]),
            wire_str(st, lits[1]),
            TAILS[tail],
            wire_str(mb, lits[2]),
            wire_str(mb, lits[2]),
        );
        let (b, s) = buffered_and_streamed(Direction::ServerToClient, responses.as_bytes(), &long);
        prop_assert_eq!(b.len(), 3);
        prop_assert_eq!(b, s);
        let m = wire_str(mb, lits[2]);
        let commands = format!(
            "a SELECT {m}\r\nb STATUS {m} (MESSAGES)\r\nc APPEND {m} {}\r\nd RENAME {m} {m}\r\n",
            wire_str("abc", lits[3]),
        );
        let (b, s) = buffered_and_streamed(Direction::ClientToServer, commands.as_bytes(), &long);
        prop_assert_eq!(b.len(), 4);
        prop_assert_eq!(b, s);
    }
}

#[test]
fn short_literals_are_read_under_a_tiny_threshold() {
    use imap_proto::response::{BodyStructure, FetchItem, SingleKind};
    use imap_proto::{CommandBody, Data};
    let limits = Limits {
        stream_literals_over: Some(1),
        ..Limits::default()
    };
    let o = Options::default();
    let wire = b"* 1 FETCH (BODYSTRUCTURE ({4}\r\nTEXT {5}\r\nPLAIN NIL NIL NIL {4}\r\n7BIT 10 2))\r\n\
                 * LIST () \"/\" {5}\r\ninbox\r\n";
    let r = frame_and_parse(Direction::ServerToClient, limits, wire, |u| {
        Response::parse_unit(u, &o)
    });
    let Ok(Response::Data(Data::Fetch { items, .. })) = &r[0] else {
        panic!("{r:?}")
    };
    let FetchItem::BodyStructure(b) = &items[0] else {
        panic!("{items:?}")
    };
    assert!(
        matches!(
            &**b,
            BodyStructure::Single {
                kind: SingleKind::Text { lines: 2 },
                ..
            }
        ),
        "{b:?}"
    );
    let Ok(Response::Data(Data::List(l))) = &r[1] else {
        panic!("{r:?}")
    };
    assert!(l.mailbox.is_inbox());
    let r = frame_and_parse(
        Direction::ClientToServer,
        limits,
        b"a SELECT {5}\r\nInbox\r\n",
        |u| Command::parse_unit(u, &o),
    );
    let Ok(Command {
        body: CommandBody::Select { mailbox, .. },
        ..
    }) = &r[0]
    else {
        panic!("{r:?}")
    };
    assert!(mailbox.is_inbox());
    // A longer literal is still streamed.
    let long = "x".repeat(Limits::ALWAYS_BUFFERED as usize + 1);
    let wire = format!("a APPEND INBOX {{{}}}\r\n{long}\r\n", long.len());
    let r = frame_and_parse(Direction::ClientToServer, limits, wire.as_bytes(), |u| {
        Ok(u.streamed_offsets().len())
    });
    assert_eq!(r, vec![Ok(1)]);
}

// Limits::max_unit_len bounds a unit's bytes, but nothing bounded how many
// values a unit parses into: 200,000 empty MULTIAPPEND messages (`{0+}`,
// 1.4 MB on the wire, RFC 3502 section 6.3.11: `append = "APPEND" SP
// mailbox 1*append-message`) or numbers in one SEARCH response parsed into
// some 100 bytes a value, about 15 times the unit (RFC 9051 sets no bound
// on either). `Limits::max_items` now bounds the values a unit's lists
// hold; a command over it is refused with its tag, for the server's `BAD
// [TOOBIG]` (RFC 7888 section 4, RFC 9051 section 7.1).
#[test]
fn items_in_a_unit_are_bounded() {
    let o = Options {
        literal_plus: true,
        ..Options::default()
    };
    let n = 200_000;
    let mut wire = b"a APPEND x".to_vec();
    for _ in 0..n {
        wire.extend_from_slice(b" {0+}\r\n");
    }
    wire.extend_from_slice(b"\r\n");
    let wire = Bytes::from(wire);
    let Err(e) = Command::parse(&wire, &o) else {
        panic!("parsed")
    };
    assert_eq!(e.tag.as_deref(), Some(&b"a"[..]));
    assert!(e.is_over_limit(), "{e}");
    // The bound is a limit: raised, the same unit parses.
    let more = Options {
        limits: Limits {
            max_items: n,
            ..Limits::default()
        },
        ..o
    };
    assert!(Command::parse(&wire, &more).is_ok());
    let mut wire = b"* SEARCH".to_vec();
    for _ in 0..n {
        wire.extend_from_slice(b" 1");
    }
    wire.extend_from_slice(b"\r\n");
    assert!(parse(&wire, &o).is_err_and(|e| e.is_over_limit()));
    assert!(parse(&wire, &more).is_ok());
    let mut wire = b"a UID FETCH 1".to_vec();
    for _ in 0..n {
        wire.extend_from_slice(b",1");
    }
    wire.extend_from_slice(b" FLAGS\r\n");
    assert!(Command::parse(&Bytes::from(wire), &o).is_err_and(|e| e.is_over_limit()));
    // Every list counts, all together, up to the limit and not past it.
    let few = |max_items| Options {
        limits: Limits {
            max_items,
            ..Limits::default()
        },
        ..Options::default()
    };
    let cases: [(&[u8], usize); 8] = [
        // 3 numbers.
        (b"* SEARCH 1 2 3\r\n", 3),
        // 2 FETCH items, 2 flags.
        (b"* 1 FETCH (FLAGS (\\Seen \\Draft) UID 4)\r\n", 4),
        // 2 ranges, 2 attributes.
        (b"a FETCH 1,2:3 (FLAGS UID)\r\n", 4),
        // 2 messages, the first with 1 flag.
        (b"a APPEND x (\\Seen) {1}\r\na {1}\r\nb\r\n", 3),
        // 2 capabilities (a code is no list).
        (b"* OK [CAPABILITY IMAP4rev1 IDLE] x\r\n", 2),
        // 1 FETCH item, with 1 address or 1 parameter pair.
        (
            b"* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
            2,
        ),
        (
            b"* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 1 1))\r\n",
            2,
        ),
        // 1 search key, a group of 2.
        (b"a SEARCH (SEEN DRAFT)\r\n", 3),
    ];
    for (wire, items) in cases {
        let wire = Bytes::from_static(wire);
        let parse_with = |o: &Options| {
            if wire.starts_with(b"a ") {
                Command::parse(&wire, o).map(|_| ())
            } else {
                Response::parse(&wire, o).map(|_| ())
            }
        };
        assert!(parse_with(&few(items)).is_ok(), "{wire:?} with {items}");
        let Err(e) = parse_with(&few(items - 1)) else {
            panic!("{wire:?} parsed with {}", items - 1)
        };
        assert!(e.is_over_limit(), "{wire:?} with {}: {e}", items - 1);
    }
}

/// DESIGN.md: bytes that may hold secrets are redacted. The framer's
/// `Debug` output (what `{:?}` in a log line or a panic message prints)
/// must not show a LOGIN whose password literal (RFC 9051 section 6.2.3)
/// is still arriving. It held (the bytes stay in the caller's buffer, and
/// literals short enough to be a password are never streamed); this pins
/// it, as the other crates' sessions were found printing such bytes.
#[test]
fn framer_debug_shows_no_password() {
    use bytes::BytesMut;
    use imap_proto::{Direction, Frame, Framer, Limits};
    let mut f = Framer::new(Direction::ClientToServer, Limits::default());
    let mut buf = BytesMut::from(&b"a1 LOGIN {4}\r\n"[..]);
    assert!(matches!(f.next(&mut buf), Some(Ok(Frame::LiteralAnnounced(_)))));
    buf.extend_from_slice(b"fred {14}\r\n");
    assert!(matches!(f.next(&mut buf), Some(Ok(Frame::LiteralAnnounced(_)))));
    buf.extend_from_slice(b"Tanstaaf-pw-27");
    assert_eq!(f.next(&mut buf), None);
    let debug = format!("{f:?} {f:#?}");
    assert!(!debug.contains("Tanstaaf"), "{debug}");
    assert!(!debug.contains("fred"), "{debug}");
}
