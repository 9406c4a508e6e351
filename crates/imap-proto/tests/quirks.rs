//! One test per named quirk (strict by default, lenient when asked), depth
//! limits on every recursive rule, streamed literals, string forms.

use bytes::{Bytes, BytesMut};
use imap_proto::command::{AppendMessage, SearchKey};
use imap_proto::response::{BodyStructure, FetchItem};
use imap_proto::{
    Command, CommandBody, Data, Direction, Frame, Framer, Limits, Mailbox, Options, Quirks, Response,
    Sensitive, Str, StrForm, Tag,
};

fn b(s: &str) -> Bytes {
    Bytes::from(s.to_owned())
}

fn with(q: impl FnOnce(&mut Quirks)) -> Options {
    let mut o = Options::default();
    q(&mut o.quirks);
    o
}

fn both(line: &str, q: impl FnOnce(&mut Quirks)) -> Response {
    let unit = b(line);
    assert!(
        Response::parse(&unit, &Options::default()).is_err(),
        "strict must refuse {line:?}"
    );
    Response::parse(&unit, &with(q)).unwrap_or_else(|e| panic!("quirk must accept {line:?}: {e}"))
}

#[test]
fn quirk_trailing_space() {
    let r = both("* SEARCH 1 2 \r\n", |q| {
        q.trailing_space = true;
    });
    assert_eq!(
        r,
        Response::Data(Data::Search {
            nums: vec![1, 2],
            mod_seq: None
        })
    );
    both("* CAPABILITY IMAP4rev1 IDLE \r\n", |q| {
        q.trailing_space = true;
    });
    // Spaces that end a literal's data are data, not trailing spaces (found
    // by fuzzing the encode -> parse oracle); spaces after it still are.
    let o = with(|q| q.trailing_space = true);
    for (unit, rest) in [
        ("a1 SEARCH TEXT {4}\r\nab  \r\n", ""),
        ("a1 SEARCH TEXT {4}\r\nab    \r\n", "  "),
    ] {
        let c = Command::parse(&b(unit), &o).unwrap_or_else(|e| panic!("{unit:?}: {e}"));
        let CommandBody::Search { criteria, .. } = c.body else {
            panic!("{unit:?}: not a SEARCH");
        };
        assert_eq!(
            criteria,
            [SearchKey::Text(Str::from("ab  "))],
            "{unit:?} ({rest:?} trailing)"
        );
    }
    assert!(Command::parse(&b("a1 SEARCH TEXT {5}\r\nab  \r\n"), &o).is_err());
}

#[test]
fn quirk_missing_status_list() {
    let r = both("* STATUS INBOX\r\n", |q| {
        q.missing_status_list = true;
    });
    assert!(matches!(r, Response::Data(Data::Status { items, .. }) if items.is_empty()));
    // An empty list is plain RFC 3501 grammar.
    assert!(Response::parse(&b("* STATUS INBOX ()\r\n"), &Options::default()).is_ok());
}

#[test]
fn quirk_bracket_in_flags() {
    let r = both("* FLAGS (\\Seen [Gmail]Important)\r\n", |q| {
        q.bracket_in_flags = true;
    });
    assert!(matches!(r, Response::Data(Data::Flags(f)) if f.len() == 2));
}

#[test]
fn quirk_bare_continuation() {
    let r = both("+\r\n", |q| {
        q.bare_continuation = true;
    });
    assert!(matches!(r, Response::Continue(c) if c.text.is_empty()));
}

#[test]
fn quirk_empty_text() {
    // RFC 6851 section 4.3 and RFC 9051 section 6.4.8 show this line, which
    // RFC 3501's `text = 1*TEXT-CHAR` does not allow under IMAP4rev1.
    for line in [
        "* OK [COPYUID 432432 42:69 1202:1229]\r\n",
        "a1 OK\r\n",
        "+ [ALERT]\r\n",
    ] {
        let r = both(line, |q| {
            q.empty_text = true;
        });
        // IMAP4rev2 reads it without the quirk and writes it back; the
        // encoder does not write it under IMAP4rev1.
        assert_eq!(Response::parse(&b(line), &Options::rev2()).unwrap(), r);
        assert!(r.encode(&Options::rev2()).is_ok());
        assert!(r.encode(&Options::default()).is_err());
    }
}

#[test]
fn quirk_eight_bit_text() {
    // A server that answers in its own charset (here Latin-1).
    let line = "a1 NO [X-INFO d\u{e9}j\u{e0}] d\u{e9}j\u{e0} vu\r\n";
    let latin1: Vec<u8> = line.chars().map(|c| c as u8).collect();
    let unit = Bytes::from(latin1);
    for o in [Options::default(), Options::rev2()] {
        assert!(Response::parse(&unit, &o).is_err());
        let mut lenient = o;
        lenient.quirks.eight_bit_text = true;
        let r = Response::parse(&unit, &lenient).unwrap();
        assert!(matches!(&r, Response::Status(s) if &s.text[..] == b"d\xe9j\xe0 vu"));
        // The encoder writes no such text.
        assert!(r.encode(&lenient).is_err());
    }
}

const BS: &str = "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL ENC OCT 3))\r\n";

#[test]
fn quirk_nil_body_encoding() {
    let r = both(&BS.replace("ENC", "NIL").replace("OCT", "12"), |q| {
        q.nil_body_encoding = true;
    });
    let Response::Data(Data::Fetch { items, .. }) = r else {
        panic!()
    };
    let FetchItem::BodyStructure(bs) = &items[0] else {
        panic!()
    };
    let BodyStructure::Single { fields, .. } = bs.as_ref() else {
        panic!()
    };
    assert_eq!(fields.encoding, None);
}

#[test]
fn quirk_negative_octets() {
    let r = both(&BS.replace("ENC", "\"7BIT\"").replace("OCT", "-1"), |q| {
        q.negative_octets = true;
    });
    assert!(matches!(r, Response::Data(Data::Fetch { .. })));
}

#[test]
fn quirk_eight_bit_filenames() {
    let line = "* 1 FETCH (BODYSTRUCTURE (\"APPLICATION\" \"PDF\" (\"NAME\" \"r\u{e9}sum\u{e9}.pdf\") NIL NIL \"BASE64\" 4 NIL (\"ATTACHMENT\" (\"FILENAME\" \"\u{fc}ber.pdf\")) NIL NIL))\r\n";
    let r = both(line, |q| {
        q.eight_bit_quoted = true;
    });
    let Response::Data(Data::Fetch { items, .. }) = r else {
        panic!()
    };
    let FetchItem::BodyStructure(bs) = &items[0] else {
        panic!()
    };
    let BodyStructure::Single { fields, .. } = bs.as_ref() else {
        panic!()
    };
    assert_eq!(
        fields.params.as_ref().unwrap()[0].1.as_str(),
        Some("r\u{e9}sum\u{e9}.pdf")
    );
    // IMAP4rev2 allows UTF-8 in quoted strings anyway.
    assert!(Response::parse(&b(line), &Options::rev2()).is_ok());
}

#[test]
fn quirk_spaces_between_addresses() {
    let line = "* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\") (NIL NIL \"c\" \"d\")) NIL NIL NIL NIL NIL NIL NIL))\r\n";
    both(line, |q| {
        q.spaces_between_addresses = true;
    });
}

fn deep_err(unit: String, command: bool) {
    let o = Options::default();
    let unit = Bytes::from(unit);
    let e = if command {
        Command::parse(&unit, &o).unwrap_err()
    } else {
        Response::parse(&unit, &o).unwrap_err()
    };
    assert_eq!(e.reason, "nesting too deep");
}

#[test]
fn depth_limits() {
    let n = 100_000;
    deep_err(format!("a SEARCH {}ALL\r\n", "NOT ".repeat(n)), true);
    deep_err(
        format!("a SEARCH {}ALL{}\r\n", "(".repeat(n), ")".repeat(n)),
        true,
    );
    deep_err(format!("a SEARCH {}ALL ALL\r\n", "OR ".repeat(n)), true);
    deep_err(format!("* 1 FETCH (BODYSTRUCTURE {}\r\n", "(".repeat(n)), false);
    deep_err(format!("* THREAD {}1{}\r\n", "(".repeat(n), ")".repeat(n)), false);
    deep_err(
        format!(
            "* LIST () \"/\" x (\"T\" {}1{})\r\n",
            "(".repeat(n),
            ")".repeat(n)
        ),
        false,
    );
    deep_err(format!("a SELECT x (X {})\r\n", "(".repeat(n)), true);
    let ext = format!(
        "* 1 FETCH (BODYSTRUCTURE (\"A\" \"B\" NIL NIL NIL \"7BIT\" 1 NIL NIL NIL NIL {}1{}))\r\n",
        "(".repeat(n),
        ")".repeat(n)
    );
    deep_err(ext, false);
    // Nested message/rfc822 parts.
    let env = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";
    let mut body = String::from("(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)");
    for _ in 0..100 {
        body = format!("(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 1 {env} {body} 1)");
    }
    deep_err(format!("* 1 FETCH (BODY {body})\r\n"), false);
    // Within the limit, fine.
    let o = Options::default();
    assert!(Command::parse(&b(&format!("a SEARCH {}ALL\r\n", "NOT ".repeat(60))), &o).is_ok());
    // The encoder refuses what the parser would refuse.
    let mut k = SearchKey::All;
    for _ in 0..100 {
        k = SearchKey::Not(Box::new(k));
    }
    let c = Command {
        tag: Tag::new("a").unwrap(),
        body: CommandBody::Search {
            uid: false,
            returns: None,
            charset: None,
            criteria: vec![k],
        },
    };
    assert!(c.encode(&o).is_err());
}

#[test]
fn streamed_literals() {
    let limits = Limits {
        stream_literals_over: Some(1024),
        ..Limits::default()
    };
    let o = Options {
        limits,
        ..Options::default()
    };
    let msg = vec![b'x'; 100_000];
    let cmd = Command {
        tag: Tag::new("A3").unwrap(),
        body: CommandBody::Append {
            mailbox: Mailbox::from("INBOX"),
            messages: vec![AppendMessage {
                flags: vec![],
                date: None,
                message: Str::new(msg.clone()),
                utf8: false,
            }],
        },
    };
    let enc = cmd.encode(&o).unwrap();
    let mut f = Framer::new(Direction::ClientToServer, limits);
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    let mut unit = None;
    let mut started = false;
    for chunk in enc.bytes.chunks(4000) {
        buf.extend_from_slice(chunk);
        while let Some(fr) = f.next(&mut buf) {
            match fr.unwrap() {
                Frame::StreamStart(i) => {
                    assert!(i.needs_continuation(Direction::ClientToServer) && i.len == 100_000);
                    started = true;
                }
                Frame::StreamChunk(c) => got.extend_from_slice(&c),
                Frame::StreamEnd => {}
                Frame::Unit(u) => unit = Some(u),
                Frame::LiteralAnnounced(_) => panic!("streamed, not announced"),
            }
        }
    }
    assert!(started);
    assert_eq!(got, msg);
    let unit = unit.unwrap();
    assert!(unit.bytes().len() < 100);
    let parsed = Command::parse_unit(&unit, &o).unwrap();
    let CommandBody::Append { messages, .. } = &parsed.body else {
        panic!()
    };
    assert_eq!(
        messages[0].message.form,
        StrForm::Streamed {
            len: 100_000,
            binary: false
        }
    );
    // Re-encoding a streamed value leaves a pause where the data goes.
    let again = parsed.encode(&o).unwrap();
    assert!(
        matches!(again.pauses.last(), Some(p) if p.kind == imap_proto::PauseKind::StreamedLiteral { len: 100_000 })
    );

    // Server side: a FETCH BODY[] literal.
    let resp = format!(
        "* 7 FETCH (UID 9 BODY[] {{2000}}\r\n{} FLAGS (\\Seen))\r\n",
        "y".repeat(2000)
    );
    let mut f = Framer::new(Direction::ServerToClient, limits);
    let mut buf = BytesMut::from(resp.as_bytes());
    let mut n = 0;
    let mut unit = None;
    while let Some(fr) = f.next(&mut buf) {
        match fr.unwrap() {
            Frame::StreamChunk(c) => n += c.len(),
            Frame::Unit(u) => unit = Some(u),
            _ => {}
        }
    }
    assert_eq!(n, 2000);
    let r = Response::parse_unit(&unit.unwrap(), &o).unwrap();
    let Response::Data(Data::Fetch { items, .. }) = r else {
        panic!()
    };
    assert!(matches!(&items[1], FetchItem::BodySection { data: Some(s), .. } if s.is_streamed()));
    assert!(matches!(&items[2], FetchItem::Flags(_)));
}

#[test]
fn string_forms() {
    let o = Options::default();
    let login = |u: &str, p: &[u8]| {
        Command {
            tag: Tag::new("t").unwrap(),
            body: CommandBody::Login {
                username: Str::from(u),
                password: Sensitive(Str::new(p.to_vec())),
            },
        }
        .encode(&o)
    };
    assert_eq!(&login("fred", b"pw").unwrap().bytes[..], b"t LOGIN fred pw\r\n");
    assert_eq!(&login("a b", b"").unwrap().bytes[..], b"t LOGIN \"a b\" \"\"\r\n");
    assert_eq!(
        &login("nil", b"q\"\\").unwrap().bytes[..],
        b"t LOGIN \"nil\" \"q\\\"\\\\\"\r\n"
    );
    let e = login("x", b"a\r\nb").unwrap();
    assert_eq!(&e.bytes[..], b"t LOGIN x {4}\r\na\r\nb\r\n");
    assert_eq!(e.pauses[0].offset, 15);
    assert_eq!(
        &login("x", "\u{e9}".as_bytes()).unwrap().bytes[..],
        b"t LOGIN x {2}\r\n\xc3\xa9\r\n"
    );
    assert!(login("x", b"a\0b").is_err(), "NUL only in literal8");
    // IMAP4rev2: UTF-8 goes quoted; LITERAL+ makes literals non-synchronizing.
    let o2 = Options {
        literal_plus: true,
        ..Options::rev2()
    };
    let c = Command {
        tag: Tag::new("t").unwrap(),
        body: CommandBody::Login {
            username: Str::from("\u{e9}"),
            password: Sensitive(Str::from("a\nb")),
        },
    };
    let e = c.encode(&o2).unwrap();
    assert_eq!(&e.bytes[..], b"t LOGIN \"\xc3\xa9\" {3+}\r\na\nb\r\n");
    assert!(e.pauses.is_empty());

    // NIL vs "" vs {0} are kept apart on parse.
    for (wire, expect) in [
        ("NIL", None),
        ("\"\"", Some(StrForm::Quoted)),
        (
            "{0}\r\n",
            Some(StrForm::Literal {
                mode: imap_proto::LiteralMode::Sync,
                binary: false,
            }),
        ),
    ] {
        let r = Response::parse(&b(&format!("* 1 FETCH (BODY[] {wire})\r\n")), &o).unwrap();
        let Response::Data(Data::Fetch { items, .. }) = r else {
            panic!()
        };
        let FetchItem::BodySection { data, .. } = &items[0] else {
            panic!()
        };
        assert_eq!(data.as_ref().map(|s| s.form), expect);
        assert!(data.as_ref().is_none_or(|s| s.data.is_empty()));
    }
}

#[test]
fn mailbox_names() {
    let o = Options::default();
    let m = Mailbox::from_unicode("~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}", false);
    let c = Command {
        tag: Tag::new("a").unwrap(),
        body: CommandBody::Select {
            mailbox: m,
            params: vec![],
        },
    };
    let e = c.encode(&o).unwrap();
    assert_eq!(&e.bytes[..], b"a SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-\r\n");
    let back = Command::parse(&e.bytes, &o).unwrap();
    let CommandBody::Select { mailbox, .. } = back.body else {
        panic!()
    };
    assert_eq!(
        mailbox.to_unicode(false).unwrap(),
        "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}"
    );
    // UTF-8 names under IMAP4rev2.
    let o2 = Options::rev2();
    let m = Mailbox::from_unicode("Entw\u{fc}rfe", o2.utf8());
    assert_eq!(m.as_bytes(), "Entw\u{fc}rfe".as_bytes());
    let c = Command {
        tag: Tag::new("a").unwrap(),
        body: CommandBody::Select {
            mailbox: m,
            params: vec![],
        },
    };
    assert_eq!(
        &c.encode(&o2).unwrap().bytes[..],
        "a SELECT \"Entw\u{fc}rfe\"\r\n".as_bytes()
    );
    assert!(Mailbox::from("INBOX").is_inbox() && Mailbox::from("inBox").is_inbox());
}

#[test]
fn errors_carry_tag_and_bytes() {
    let o = Options::default();
    let e = Command::parse(&b("a1 FROB x\r\n"), &o).unwrap_err();
    assert_eq!(e.tag.as_deref(), Some(&b"a1"[..]));
    assert_eq!(&e.input[..], b"a1 FROB x\r\n");
    assert_eq!(e.reason, "unknown command");
    let e = Command::parse(&b("+bad NOOP\r\n"), &o).unwrap_err();
    assert_eq!(e.tag, None);
    // NUL is no TEXT-CHAR: refused in status text, as the encoder refuses it
    // (found by fuzzing imap_response).
    let e = Response::parse(&b("* OK [PERMANENTFLAGS ()] x\0y\r\n"), &o).unwrap_err();
    assert_eq!(e.reason, "CR, LF or NUL in text");
    // Nor in the argument of an unknown response code.
    assert!(Response::parse(&b("* OK [X-CODE a\0b] hi\r\n"), &o).is_err());
    assert!(Response::parse(&b("* OK [X-CODE ab] hi\r\n"), &o).is_ok());
    // Greeting.
    assert!(Response::parse_greeting(&b("* OK ready\r\n"), &o).is_ok());
    assert!(Response::parse_greeting(&b("* PREAUTH hi\r\n"), &o).is_ok());
    assert!(Response::parse_greeting(&b("a OK x\r\n"), &o).is_err());
    assert!(Response::parse_greeting(&b("* NO x\r\n"), &o).is_err());
    // Encoder refuses CR/LF in text.
    let r = Response::Status(imap_proto::StatusResponse {
        tag: None,
        kind: imap_proto::StatusKind::Ok,
        code: None,
        text: b("x\r\n* BYE"),
    });
    assert!(r.encode(&o).is_err());
}

// RFC 3501 section 9 writes RFC822.SIZE, body-fld-lines, body extension
// numbers, BODY[]/BINARY[] origins, BINARY.SIZE, LARGER/SMALLER and partial
// ranges as `number` (32-bit); RFC 9051 section 9 made them `number64`.
// IMAP4rev1 servers that store messages over 4 GiB send the larger value.
#[test]
fn quirk_wide_rev1_numbers() {
    let big = u64::from(u32::MAX) + 1;
    let max = i64::MAX as u64;
    let wide = with(|q| q.wide_rev1_numbers = true);
    for n in [big, max] {
        let responses = [
            format!("* 1 FETCH (RFC822.SIZE {n})\r\n"),
            format!("* 1 FETCH (BODY (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 {n}))\r\n"),
            format!(
                "* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL NIL NIL NIL {n}))\r\n"
            ),
            format!("* 1 FETCH (BODY[]<{n}> \"x\")\r\n"),
            format!("* 1 FETCH (BINARY[1]<{n}> \"x\")\r\n"),
            format!("* 1 FETCH (BINARY.SIZE[1] {n})\r\n"),
        ];
        for wire in &responses {
            let r = both(wire, |q| q.wide_rev1_numbers = true);
            // Read as IMAP4rev2 reads it; the IMAP4rev1 encoder still
            // refuses to write it.
            assert_eq!(r, Response::parse(&b(wire), &Options::rev2()).unwrap(), "{wire}");
            assert!(r.encode(&wide).is_err(), "{wire}");
        }
        let commands = [
            format!("a SEARCH LARGER {n}\r\n"),
            format!("a SEARCH SMALLER {n}\r\n"),
            format!("a FETCH 1 BODY.PEEK[]<{n}.1>\r\n"),
            format!("a FETCH 1 BODY[]<0.{n}>\r\n"),
            format!("a FETCH 1 BINARY[1]<{n}.1>\r\n"),
        ];
        for wire in &commands {
            assert!(Command::parse(&b(wire), &Options::default()).is_err(), "{wire}");
            let c = Command::parse(&b(wire), &wide).unwrap_or_else(|e| panic!("{wire}: {e}"));
            assert_eq!(c, Command::parse(&b(wire), &Options::rev2()).unwrap(), "{wire}");
        }
    }
    let r = Response::parse(&b("* 1 FETCH (RFC822.SIZE 5000000000)\r\n"), &wide).unwrap();
    let Response::Data(Data::Fetch { items, .. }) = r else {
        panic!()
    };
    assert_eq!(items, [FetchItem::Rfc822Size(5_000_000_000)]);
    // Still 63-bit, as under IMAP4rev2, and nz where the grammar says so.
    let wire = format!("* 1 FETCH (RFC822.SIZE {})\r\n", max + 1);
    assert!(Response::parse(&b(&wire), &wide).is_err(), "{wire}");
    assert!(Command::parse(&b("a FETCH 1 BODY[]<0.0>\r\n"), &wide).is_err());
    assert!(!Quirks::default().wide_rev1_numbers);
}
