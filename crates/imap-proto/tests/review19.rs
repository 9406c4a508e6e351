//! Review (session 19): each test failed on the code before its fix and
//! cites the rule it checks.

use bytes::{Bytes, BytesMut};
use imap_proto::{
    Command, CommandBody, Continue, Direction, Frame, FrameError, Framer, Limits, Options, Response,
    Sensitive, StatusKind, StatusResponse, Str, Tag,
};

fn all(f: &mut Framer, buf: &mut BytesMut) -> Vec<Result<Frame, FrameError>> {
    let mut v = Vec::new();
    while let Some(x) = f.next(buf) {
        v.push(x);
    }
    v
}

fn unit_bytes(x: &Result<Frame, FrameError>) -> Option<&[u8]> {
    match x {
        Ok(Frame::Unit(u)) => Some(&u.bytes()[..]),
        _ => None,
    }
}

// RFC 9051 section 9: `literal = "{" number64 ["+"] "}" CRLF *CHAR8`, and
// RFC 7888 section 5: "Note that the form of the non-synchronizing literal
// does not change: it still uses the "+" in the literal itself, even if the
// applicable extension is LITERAL-." A line ending in `{5-}` announces no
// literal, so the next line is the next command; reading five bytes of it as
// literal data puts the framer out of step with every conforming peer.
#[test]
fn minus_form_is_not_a_literal() {
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let mut f = Framer::new(dir, Limits::default());
        let mut buf = BytesMut::from(&b"a1 NOOP {5-}\r\na2 NOOP\r\n"[..]);
        let v = all(&mut f, &mut buf);
        assert_eq!(v.len(), 2, "{dir:?}: {v:?}");
        assert_eq!(unit_bytes(&v[0]), Some(&b"a1 NOOP {5-}\r\n"[..]), "{v:?}");
        assert_eq!(unit_bytes(&v[1]), Some(&b"a2 NOOP\r\n"[..]), "{v:?}");
    }
    let o = Options::default();
    let unit = Bytes::from_static(b"a1 LOGIN {3-}\r\nabc pw\r\n");
    assert!(Command::parse(&unit, &o).is_err(), "{{3-}} is no literal");
}

// RFC 9051 section 4.3: "Unless otherwise specified in an IMAP extension,
// non-synchronizing literals MUST NOT be larger than 4096 octets." and RFC
// 7888 section 5 (LITERAL-): "A server that is compliant with LITERAL- and
// encounters a non-synchronizing literal larger than 4096 bytes proceeds as
// described in Section 4" (read the octets and reject the command). The
// default limits must refuse `{5000+}` and skip its data, so the next
// command is read in step.
#[test]
fn nonsync_literal_over_4096_is_refused() {
    let mut f = Framer::new(Direction::ClientToServer, Limits::default());
    let mut buf = BytesMut::from(&b"a1 APPEND x {5000+}\r\n"[..]);
    buf.extend_from_slice(&[b'x'; 5000]);
    buf.extend_from_slice(b"\r\na2 NOOP\r\n");
    let v = all(&mut f, &mut buf);
    assert!(
        matches!(
            &v[0],
            Err(FrameError::LiteralTooLarge {
                len: 5000,
                limit: 4096,
                ..
            })
        ),
        "{v:?}"
    );
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(unit_bytes(&v[1]), Some(&b"a2 NOOP\r\n"[..]));
    // The limit is a setting: a server that offers LITERAL+ raises it.
    let lim = Limits {
        max_nonsync_literal_len: 1 << 20,
        ..Limits::default()
    };
    let mut f = Framer::new(Direction::ClientToServer, lim);
    let mut buf = BytesMut::from(&b"a1 APPEND x {5000+}\r\n"[..]);
    buf.extend_from_slice(&[b'x'; 5000]);
    buf.extend_from_slice(b"\r\n");
    let v = all(&mut f, &mut buf);
    assert!(
        matches!(&v[..], [Ok(Frame::Unit(u))] if u.bytes().len() == 5023),
        "{v:?}"
    );
}

// Limits::max_unit_len: "Largest unit (all its lines and buffered
// literals)", and DESIGN.md: exceeding a limit gives a clear error, "never
// unbounded memory". Each line that ends in a streamed literal is kept until
// the unit ends; with no check there, a peer that keeps announcing streamed
// literals grows the framer's buffer without bound.
#[test]
fn streamed_literal_lines_are_bounded_by_unit_limit() {
    let lim = Limits {
        stream_literals_over: Some(4),
        max_unit_len: 256,
        ..Limits::default()
    };
    let mut f = Framer::new(Direction::ServerToClient, lim);
    let mut buf = BytesMut::from(&b"* 1 FETCH (UID 1"[..]);
    let mut errors = 0;
    for i in 1..=200 {
        buf.extend_from_slice(format!(" BODY[{i}] {{5}}\r\n12345").as_bytes());
        for x in all(&mut f, &mut buf) {
            if matches!(x, Err(FrameError::UnitTooLarge { .. })) {
                errors += 1;
            }
        }
    }
    assert_eq!(errors, 1, "the unit is refused once it outgrows the limit");
    buf.extend_from_slice(b")\r\n* 2 EXISTS\r\n");
    let v = all(&mut f, &mut buf);
    assert_eq!(v.len(), 1, "the rest of the refused unit is skipped: {v:?}");
    assert_eq!(unit_bytes(&v[0]), Some(&b"* 2 EXISTS\r\n"[..]));
}

// RFC 7888 section 3: "the server MUST treat the specified number of
// following octets and the following line ... as part of the same command",
// and the client does not wait before sending them. Framer::reject_literal
// drops "the unit whose synchronizing literal was just announced"; called on
// a non-synchronizing one (a streamed `{n+}`, which Frame::StreamStart also
// reports), it must not let the literal's data, which is already on its way,
// be read as commands.
#[test]
fn rejecting_a_nonsync_literal_skips_its_data() {
    let lim = Limits {
        stream_literals_over: Some(4),
        ..Limits::default()
    };
    let mut f = Framer::new(Direction::ClientToServer, lim);
    let mut buf = BytesMut::from(&b"a1 APPEND INBOX {17+}\r\n"[..]);
    assert!(matches!(f.next(&mut buf), Some(Ok(Frame::StreamStart(i))) if i.len == 17));
    f.reject_literal(&mut buf);
    // The message the client appends holds a line that looks like a command.
    buf.extend_from_slice(b"x1 DELETE INBOX\r\n\r\na2 NOOP\r\n");
    let v = all(&mut f, &mut buf);
    let units: Vec<&[u8]> = v.iter().filter_map(unit_bytes).collect();
    assert_eq!(units, vec![&b"a2 NOOP\r\n"[..]], "{v:?}");
}

// RFC 9051 section 9: `resp-text = ["[" resp-text-code "]" SP] [text]`;
// text cannot hold a literal, but every receiver frames a line that ends in
// `{n}` as announcing one (RFC 7888 section 3: "MUST check the end of every
// received line"). A server that echoes a peer-chosen name in its text would
// make the client read the next response as literal data; DESIGN.md:
// "Encoders refuse what cannot be sent safely". The crate's own framer and
// parser must give back what the encoder wrote.
#[test]
fn response_text_cannot_announce_a_literal() {
    let o = Options::default();
    let texts: [&[u8]; 4] = [b"no mailbox x{5}", b"x {12+}", b"x ~{3}", b"{0}"];
    for text in texts {
        let st = Response::Status(StatusResponse {
            tag: Some(Tag::new("a1").unwrap()),
            kind: StatusKind::No,
            code: None,
            text: Bytes::from_static(text),
        });
        let cont = Response::Continue(Continue {
            code: None,
            text: Bytes::from_static(text),
        });
        for r in [st, cont] {
            if let Ok(enc) = r.encode(&o) {
                let mut f = Framer::new(Direction::ServerToClient, Limits::default());
                let mut buf = BytesMut::from(&enc.bytes[..]);
                buf.extend_from_slice(b"* 3 EXISTS\r\n");
                let v = all(&mut f, &mut buf);
                let units: Vec<&[u8]> = v.iter().filter_map(unit_bytes).collect();
                assert_eq!(units, vec![&enc.bytes[..], b"* 3 EXISTS\r\n"], "{r:?}");
            }
        }
    }
    // Session 22: the framer reads a status line's `{n}` as text (RFC 9051
    // section 9, resp-text), so the parser takes the unit it frames, and
    // parse -> encode stays total (tests/review22.rs).
    let unit = Bytes::from_static(b"a1 NO x {5}\r\n");
    let r = Response::parse(&unit, &o).unwrap();
    assert_eq!(r.encode(&o).unwrap().bytes, unit);
}

// RFC 9051 section 4.3: "A quoted string is a sequence of zero or more
// Unicode characters, excluding CR and LF, encoded in UTF-8"; section 9:
// `QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials
// / UTF8-2 / UTF8-3 / UTF8-4`. Bytes that are not UTF-8 (a Latin-1 password)
// must go in a literal even under IMAP4rev2, or a conforming server refuses
// the command.
#[test]
fn non_utf8_bytes_are_sent_as_literal_under_rev2() {
    let o = Options::rev2();
    let c = Command {
        tag: Tag::new("t").unwrap(),
        body: CommandBody::Login {
            username: Str::from("fred"),
            password: Sensitive(Str::new(&b"p\xe4ss"[..])),
        },
    };
    let enc = c.encode(&o).unwrap();
    assert_eq!(&enc.bytes[..], b"t LOGIN fred {4}\r\np\xe4ss\r\n");
    // Valid UTF-8 still goes quoted.
    let c = Command {
        tag: Tag::new("t").unwrap(),
        body: CommandBody::Login {
            username: Str::from("fred"),
            password: Sensitive(Str::from("p\u{e4}ss")),
        },
    };
    let enc = c.encode(&o).unwrap();
    assert_eq!(&enc.bytes[..], "t LOGIN fred \"p\u{e4}ss\"\r\n".as_bytes());
    // The parser holds quoted strings to the same rule (strict by default;
    // the eight_bit_quoted quirk keeps raw bytes).
    let unit = Bytes::from_static(b"* LIST () \"/\" \"p\xe4ss\"\r\n");
    assert!(Response::parse(&unit, &o).is_err());
    let mut lenient = Options::rev2();
    lenient.quirks.eight_bit_quoted = true;
    assert!(Response::parse(&unit, &lenient).is_ok());
}

// RFC 7162 section 7: `entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE`
// with `attr-flag-keyword = atom`: an entry name is ASCII. The parser took
// 8-bit names (under the eight_bit_quoted quirk) that the encoder refuses,
// so a parsed command did not encode and the fuzz check
// `checks::command_parser` panicked.
#[test]
fn modseq_entry_name_is_ascii() {
    imap_proto::checks::command_parser(b"\x20t SEARCH MODSEQ \"/flags/\xe9\" all 5\r\n");
    let mut o = Options::default();
    o.quirks.eight_bit_quoted = true;
    let unit = Bytes::from_static(b"t SEARCH MODSEQ \"/flags/\xe9\" all 5\r\n");
    assert!(Command::parse(&unit, &o).is_err());
    let unit = Bytes::from("t SEARCH MODSEQ \"/flags/\u{e9}\" all 5\r\n");
    assert!(Command::parse(&unit, &Options::rev2()).is_err());
    let unit = Bytes::from_static(b"t SEARCH MODSEQ \"/flags/\\\\Seen\" all 5\r\n");
    assert!(Command::parse(&unit, &o).is_ok());
}

// RFC 5256 section 5: `thread-members = nz-number *(SP nz-number) [SP
// thread-nested]`, `thread-nested = 2*thread-list`: a thread never branches
// into a single sub-thread (that is written as one chain). The parser took
// `(1 (2))`, which the encoder refuses, so a parsed response did not encode
// and the fuzz check `checks::response_parser` panicked.
#[test]
fn thread_with_one_branch_is_refused() {
    imap_proto::checks::response_parser(b"\0* THREAD (1 (2))\r\n");
    let o = Options::default();
    assert!(Response::parse(&Bytes::from_static(b"* THREAD (1 (2))\r\n"), &o).is_err());
    assert!(Response::parse(&Bytes::from_static(b"* THREAD (1 (2)(3))\r\n"), &o).is_ok());
    assert!(Response::parse(&Bytes::from_static(b"* THREAD ((2)(3))\r\n"), &o).is_ok());
}

// RFC 9051 section 9: `namespace-response-extension = SP string SP "("
// string *(SP string) ")"`: at least one value. The parser took `()`, which
// the encoder refuses, so a parsed response did not encode and the fuzz
// check `checks::response_parser` panicked.
#[test]
fn namespace_extension_needs_a_value() {
    let line = b"* NAMESPACE ((\"\" \"/\" \"X-EXT\" ())) NIL NIL\r\n";
    let mut fuzz_input = vec![0u8];
    fuzz_input.extend_from_slice(line);
    imap_proto::checks::response_parser(&fuzz_input);
    let o = Options::default();
    assert!(Response::parse(&Bytes::from_static(line), &o).is_err());
    let ok = b"* NAMESPACE ((\"\" \"/\" \"X-EXT\" (\"a\"))) NIL NIL\r\n";
    assert!(Response::parse(&Bytes::from_static(ok), &o).is_ok());
}

// RFC 9051 section 9: `esearch-response = "ESEARCH" [search-correlator] [SP
// "UID"] *(SP search-return-data)`, where search-return-data may be any
// `search-ret-data-ext = search-modifier-name SP search-return-value`. After
// another item, `UID 3` is such an extension item; the parser reads it so,
// but the encoder refused every item named UID, so a parsed response did not
// encode and the fuzz check `checks::response_parser` panicked.
#[test]
fn esearch_item_named_uid_after_others_encodes() {
    imap_proto::checks::response_parser(b"\0* ESEARCH COUNT 5 UID 3\r\n");
    let o = Options::default();
    let r = Response::parse(&Bytes::from_static(b"* ESEARCH COUNT 5 UID 3\r\n"), &o).unwrap();
    assert_eq!(&r.encode(&o).unwrap().bytes[..], b"* ESEARCH COUNT 5 UID 3\r\n");
}

// RFC 9051 section 9: `flag-perm = flag / "\*"` appears only in
// `"PERMANENTFLAGS" SP "(" [flag-perm *(SP flag-perm)] ")"`; STORE, APPEND,
// FLAGS, FETCH FLAGS and LIST use `flag` / `flag-list`, which has no `\*`.
// The encoder wrote `\*` anywhere, so parse(encode(x)) failed for such a
// command or response.
#[test]
fn wildcard_flag_only_in_permanentflags() {
    use imap_proto::command::StoreMode;
    use imap_proto::{Code, Data, Flag, SeqSet};
    let o = Options::default();
    let store = Command {
        tag: Tag::new("t").unwrap(),
        body: CommandBody::Store {
            uid: false,
            set: SeqSet::single(1),
            unchanged_since: None,
            mode: StoreMode::Add,
            silent: false,
            flags: vec![Flag::Wildcard],
        },
    };
    if let Ok(enc) = store.encode(&o) {
        assert_eq!(Command::parse(&enc.bytes, &o).ok(), Some(store));
    }
    let flags = Response::Data(Data::Flags(vec![Flag::Seen, Flag::Wildcard]));
    if let Ok(enc) = flags.encode(&o) {
        assert_eq!(Response::parse(&enc.bytes, &o).ok(), Some(flags));
    }
    let perm = Response::Status(StatusResponse {
        tag: None,
        kind: StatusKind::Ok,
        code: Some(Code::PermanentFlags(vec![Flag::Seen, Flag::Wildcard])),
        text: Bytes::from_static(b"Limited"),
    });
    let enc = perm.encode(&o).unwrap();
    assert_eq!(&enc.bytes[..], b"* OK [PERMANENTFLAGS (\\Seen \\*)] Limited\r\n");
    assert_eq!(Response::parse(&enc.bytes, &o).unwrap(), perm);
}

// RFC 9051 section 9: `literal = "{" number64 ["+"] "}" CRLF *CHAR8` with
// `number64 = 1*DIGIT`, so `{000000000000000000003}` announces three octets
// (the parser reads it so). The framer gave up on counts of more than 19
// digits and took the line for a whole command, reading the literal's data
// as the next command.
#[test]
fn zero_padded_literal_count_is_a_literal() {
    let o = Options::default();
    let mut f = Framer::new(Direction::ServerToClient, Limits::default());
    let mut buf = BytesMut::from(&b"* 1 FETCH (BODY[] {000000000000000000003}\r\nabc)\r\n* 2 EXISTS\r\n"[..]);
    let v = all(&mut f, &mut buf);
    assert_eq!(v.len(), 2, "{v:?}");
    let Ok(Frame::Unit(u)) = &v[0] else {
        panic!("{v:?}")
    };
    assert!(Response::parse_unit(u, &o).is_ok());
    assert_eq!(unit_bytes(&v[1]), Some(&b"* 2 EXISTS\r\n"[..]));
    // A count beyond any limit is refused, not taken for the end of the command.
    let mut f = Framer::new(Direction::ClientToServer, Limits::default());
    let mut buf = BytesMut::from(&b"a1 LOGIN {99999999999999999999}\r\n"[..]);
    assert!(matches!(
        f.next(&mut buf),
        Some(Err(FrameError::LiteralTooLarge { .. }))
    ));
}

// RFC 9051 section 9: `"BADCHARSET" [SP "(" charset *(SP charset) ")" ]`
// with `charset = atom / quoted`; an atom has no resp-specials (`]`). The
// encoder wrote a charset as an astring, which may hold `]`, so a charset
// name with `]` ended the response code early for a receiver that looks for
// the closing bracket. SEARCH, SORT and THREAD take the same charset rule.
#[test]
fn charset_with_bracket_is_quoted() {
    use imap_proto::Code;
    use imap_proto::command::SearchKey;
    let o = Options::default();
    let r = Response::Status(StatusResponse {
        tag: Some(Tag::new("a1").unwrap()),
        kind: StatusKind::No,
        code: Some(Code::BadCharset(vec![Str::from("UTF-8"), Str::from("x]y")])),
        text: Bytes::from_static(b"unknown charset"),
    });
    let enc = r.encode(&o).unwrap();
    assert_eq!(
        &enc.bytes[..],
        b"a1 NO [BADCHARSET (UTF-8 \"x]y\")] unknown charset\r\n"
    );
    assert_eq!(Response::parse(&enc.bytes, &o).unwrap(), r);
    let c = Command {
        tag: Tag::new("t").unwrap(),
        body: CommandBody::Search {
            uid: false,
            returns: None,
            charset: Some(Str::from("x]y")),
            criteria: vec![SearchKey::All],
        },
    };
    let enc = c.encode(&o).unwrap();
    assert_eq!(&enc.bytes[..], b"t SEARCH CHARSET \"x]y\" ALL\r\n");
}

// DESIGN.md (Errors): "a protocol error carries the offending bytes
// (redacted where they may hold secrets)"; the parsed LOGIN password and
// AUTHENTICATE initial response are `Sensitive` for that reason (RFC 9051
// section 6.2.3: LOGIN sends the password in plaintext; section 6.2.2: SASL
// responses carry credentials). A malformed LOGIN or AUTHENTICATE kept them in
// ParseError::input, which a server logs.
#[test]
fn parse_error_does_not_keep_credentials() {
    let o = Options::default();
    for line in [
        &b"a1 LOGIN fred s3cr3t-pw extra\r\n"[..],
        b"a1 login {4}\r\nfred {9}\r\ns3cr3t-pw extra\r\n",
        b"a1 AUTHENTICATE PLAIN czNjcjN0LXB3 extra\r\n",
    ] {
        let e = Command::parse(&Bytes::copy_from_slice(line), &o).unwrap_err();
        assert_eq!(e.tag.as_deref(), Some(&b"a1"[..]));
        let shown = format!("{e} {e:?}");
        assert!(
            !e.input.windows(6).any(|w| w == b"s3cr3t" || w == b"czNjcj") && !shown.contains("s3cr3t"),
            "{:?}",
            e.input
        );
    }
}

// As above, for the framer: a LOGIN line refused for a bare LF (or for its
// length) kept the password in FrameError::head.
#[test]
fn frame_error_does_not_keep_credentials() {
    let lim = Limits {
        max_line_len: 40,
        ..Limits::default()
    };
    for input in [
        &b"a1 LOGIN fred s3cr3t-pw\nb NOOP\r\n"[..],
        b"a1 LOGIN fred s3cr3t-pw-that-is-much-too-long-for-the-limit\r\nb NOOP\r\n",
        b"a1 AUTHENTICATE PLAIN czNjcjN0LXB3\r x\r\nb NOOP\r\n",
    ] {
        let mut f = Framer::new(Direction::ClientToServer, lim);
        let mut buf = BytesMut::from(input);
        let v = all(&mut f, &mut buf);
        let Some(Err(e)) = v.first() else { panic!("{v:?}") };
        let head = e.head();
        assert!(head.starts_with(b"a1 "), "{head:?}");
        assert!(
            !head.windows(6).any(|w| w == b"s3cr3t" || w == b"czNjcj"),
            "{head:?}"
        );
        assert_eq!(unit_bytes(&v[1]), Some(&b"b NOOP\r\n"[..]), "{v:?}");
    }
}

// RFC 9051 section 9: `resp-cond-state = ("OK" / "NO" / "BAD") SP
// resp-text`: the SP is there even when code and text are empty. The encoder
// wrote "a1 OK" without it, which Python's imaplib does not take as a tagged
// response (its pattern needs the space) and a strict reader refuses.
#[test]
fn status_without_code_or_text_keeps_its_space() {
    // Session 22: IMAP4rev1 has no empty resp-text (RFC 3501 section 9:
    // `text = 1*TEXT-CHAR`), so this holds under IMAP4rev2 (tests/review22.rs).
    let o = Options::rev2();
    for (tag, kind, want) in [
        (Some("a1"), StatusKind::Ok, &b"a1 OK \r\n"[..]),
        (Some("a2"), StatusKind::No, b"a2 NO \r\n"),
        (None, StatusKind::Bye, b"* BYE \r\n"),
    ] {
        let r = Response::Status(StatusResponse {
            tag: tag.map(|t| Tag::new(t).unwrap()),
            kind,
            code: None,
            text: Bytes::new(),
        });
        let enc = r.encode(&o).unwrap();
        assert_eq!(&enc.bytes[..], want);
        assert_eq!(Response::parse(&enc.bytes, &o).unwrap(), r);
    }
}
