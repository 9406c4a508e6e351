//! Review (session 26, helper H2): adversarial inputs against the public
//! API. Each test failed on the code before its fix.

use bytes::Bytes;
use imap_proto::response::ESearchItem;
use imap_proto::{Data, Options, Response};

fn parse(wire: &[u8], o: &Options) -> Result<Response, imap_proto::ParseError> {
    Response::parse(&Bytes::copy_from_slice(wire), o)
}

// RFC 4731 section 4 (with RFC 7162 section 3.1.10): `search-return-data
// =/ "MODSEQ" SP mod-sequence-value`, and RFC 7162 section 7 has
// `mod-sequence-value = 1*DIGIT ;; (1 <= n <= 9,223,372,036,854,775,807)`:
// the highest mod-sequence of a non-empty result is never 0 (the SEARCH
// form, `search-sort-mod-seq`, was already read so). `* ESEARCH MODSEQ 0`
// parsed, and `ESearchItem::ModSeq(0)` was written.
#[test]
fn esearch_modseq_is_not_zero() {
    for o in [Options::default(), Options::rev2()] {
        assert!(parse(b"* ESEARCH ALL 1:3 MODSEQ 0\r\n", &o).is_err());
        let r = parse(b"* ESEARCH ALL 1:3 MODSEQ 1236\r\n", &o).unwrap();
        let Response::Data(Data::ESearch { items, .. }) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(items[1], ESearchItem::ModSeq(1236));
        assert_eq!(
            &r.encode(&o).unwrap().bytes[..],
            b"* ESEARCH ALL 1:3 MODSEQ 1236\r\n"
        );
        let zero = Response::Data(Data::ESearch {
            tag: None,
            mailbox: None,
            uid: false,
            items: vec![ESearchItem::ModSeq(0)],
        });
        assert!(zero.encode(&o).is_err());
    }
}

/// Frames `wire` (whole) as `dir` under `limits` and parses every unit
/// with `parse`; stream chunks are dropped. The parse result of each unit.
fn frame_and_parse<T>(
    dir: imap_proto::Direction,
    limits: imap_proto::Limits,
    wire: &[u8],
    parse: impl Fn(&imap_proto::Unit) -> Result<T, imap_proto::ParseError>,
) -> Vec<Result<T, imap_proto::ParseError>> {
    use imap_proto::{Frame, Framer};
    let mut f = Framer::new(dir, limits);
    let mut buf = bytes::BytesMut::from(wire);
    let mut out = Vec::new();
    while let Some(frame) = f.next(&mut buf) {
        match frame.expect("framed") {
            Frame::Unit(u) => out.push(parse(&u)),
            Frame::LiteralAnnounced(_) | Frame::StreamStart(_) | Frame::StreamChunk(_) | Frame::StreamEnd => {
            }
        }
    }
    out
}

// RFC 9051 section 9 (RFC 3501 the same): `literal = "{" number64 ["+"]
// "}" CRLF *CHAR8` with `CHAR8 = %x01-ff`: only a literal8 (`~{n}`,
// RFC 3516) may carry NUL. A buffered literal with a NUL was refused; the
// same literal, when the framer streamed it (over
// `Limits::stream_literals_over`), parsed: whether a command was valid
// depended on a buffering threshold. Now the framer notes a NUL in a
// streamed literal that is no literal8, and the parser refuses the unit as
// it refuses the buffered one.
#[test]
fn nul_in_a_streamed_literal_is_refused_as_when_buffered() {
    use imap_proto::{Command, Direction, Limits};
    let o = Options::default();
    let wire = b"a APPEND INBOX {6}\r\nab\0cde\r\nb APPEND INBOX ~{6}\r\nab\0cde\r\nc APPEND INBOX {6}\r\nabXcde\r\n";
    for stream in [None, Some(4)] {
        let limits = Limits {
            stream_literals_over: stream,
            ..Limits::default()
        };
        let r = frame_and_parse(Direction::ClientToServer, limits, wire, |u| {
            Command::parse_unit(u, &o)
        });
        assert_eq!(r.len(), 3);
        assert!(r[0].is_err(), "{stream:?}: {:?}", r[0]);
        assert!(r[1].is_ok(), "{stream:?}: {:?}", r[1]);
        assert!(r[2].is_ok(), "{stream:?}: {:?}", r[2]);
        // The same in a response, where a client streams BODY[].
        let wire = b"* 1 FETCH (BODY[] {6}\r\nab\0cde)\r\n* 1 FETCH (BINARY[] ~{6}\r\nab\0cde)\r\n";
        let r = frame_and_parse(Direction::ServerToClient, limits, wire, |u| {
            Response::parse_unit(u, &o)
        });
        assert_eq!(r.len(), 2);
        assert!(r[0].is_err(), "{stream:?}: {:?}", r[0]);
        assert!(r[1].is_ok(), "{stream:?}: {:?}", r[1]);
    }
}
// RFC 2971 section 3.3: "Field strings MUST NOT be longer than 30 octets.
// Value strings MUST NOT be longer than 1024 octets." The parser checked
// the length of the data it held, which for a literal the framer streamed
// is none: a 2000-octet value (or a 100-octet field) passed when streamed,
// and the encoder wrote such a streamed value too.
#[test]
fn id_bounds_hold_for_streamed_literals() {
    use imap_proto::{Command, CommandBody, Direction, Limits, Str, StrForm, Tag};
    let o = Options::default();
    let limits = Limits {
        stream_literals_over: Some(16),
        ..Limits::default()
    };
    let value = "v".repeat(2000);
    let field = "f".repeat(100);
    let long_value = format!("a ID (\"name\" {{2000}}\r\n{value})\r\n");
    let long_field = format!("a ID ({{100}}\r\n{field} \"x\")\r\n");
    let fine = format!("a ID (\"name\" {{1000}}\r\n{})\r\n", "v".repeat(1000));
    for (wire, ok) in [(&long_value, false), (&long_field, false), (&fine, true)] {
        for limits in [Limits::default(), limits] {
            let r = frame_and_parse(Direction::ClientToServer, limits, wire.as_bytes(), |u| {
                Command::parse_unit(u, &o)
            });
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].is_ok(), ok, "{:?} {:?}", limits.stream_literals_over, r[0]);
        }
        let resp = wire.replacen("a ID", "* ID", 1);
        for limits in [Limits::default(), limits] {
            let r = frame_and_parse(Direction::ServerToClient, limits, resp.as_bytes(), |u| {
                Response::parse_unit(u, &o)
            });
            assert_eq!(r.len(), 1);
            assert_eq!(r[0].is_ok(), ok, "{:?} {:?}", limits.stream_literals_over, r[0]);
        }
    }
    let streamed = |len| Str {
        form: StrForm::Streamed { len, binary: false },
        ..Str::default()
    };
    let cmd = |k: Str, v: Str| Command {
        tag: Tag::new("a").unwrap(),
        body: CommandBody::Id(Some(vec![(k, Some(v))])),
    };
    assert!(cmd(Str::from("name"), streamed(2000)).encode(&o).is_err());
    assert!(cmd(streamed(100), Str::from("x")).encode(&o).is_err());
    assert!(cmd(Str::from("name"), streamed(1000)).encode(&o).is_ok());
}

// Limits that say "no bound" with their type's largest value are a
// caller's fair choice, and a peer's literal length is any number64 (RFC
// 9051 section 4.3, leading zeros and all; the framer saturates one past
// u64). The unit-size check added the literal's length to the unit's
// length without saturating: `{18446744073709551615}` overflowed it (a
// panic with overflow checks, a wrapped sum that let the literal through
// without them). It is now refused as too large for the unit.
#[test]
fn unbounded_limits_do_not_overflow_on_a_huge_literal() {
    use imap_proto::{Direction, Frame, FrameError, Framer, Limits};
    let limits = Limits {
        max_literal_len: u64::MAX,
        max_unit_len: usize::MAX,
        max_nonsync_literal_len: u64::MAX,
        ..Limits::default()
    };
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        for wire in [
            &b"a APPEND x {18446744073709551615}\r\nb NOOP\r\n"[..],
            b"a APPEND x {99999999999999999999999}\r\nb NOOP\r\n",
        ] {
            let mut f = Framer::new(dir, limits);
            let mut buf = bytes::BytesMut::from(wire);
            let first = f.next(&mut buf);
            assert!(
                matches!(first, Some(Err(FrameError::UnitTooLarge { .. }))),
                "{dir:?}: {first:?}"
            );
            if dir == Direction::ClientToServer {
                // A synchronizing literal's data never comes: the next
                // command is read.
                let Some(Ok(Frame::Unit(u))) = f.next(&mut buf) else {
                    panic!()
                };
                assert_eq!(&u.bytes()[..], b"b NOOP\r\n");
            }
        }
    }
}

// RFC 9051 section 9: `continue-req = "+" SP (resp-text / base64)` with
// `base64 = *(4base64-char) [base64-terminal]`, so `+ ` alone is an empty
// challenge: what a server sends for AUTHENTICATE PLAIN without an initial
// response (RFC 4616 section 2, RFC 9051 section 6.2.2). With
// `Quirks::trailing_space` on, that space was trimmed as a trailing one and
// the line refused as a bare `+` (a quirk meant to accept more refused a
// strictly valid line, and every such AUTHENTICATE failed).
#[test]
fn empty_challenge_survives_the_trailing_space_quirk() {
    use imap_proto::Continue;
    let mut o = Options::default();
    o.quirks.trailing_space = true;
    let empty = Response::Continue(Continue {
        code: None,
        text: Bytes::new(),
    });
    for wire in [&b"+ \r\n"[..], b"+   \r\n"] {
        assert_eq!(parse(wire, &o), Ok(empty.clone()), "{wire:?}");
    }
    assert_eq!(parse(b"+ \r\n", &Options::default()), Ok(empty.clone()));
    // A bare `+` stays a quirk of its own.
    assert!(parse(b"+\r\n", &o).is_err());
}

// RFC 3501 section 9: `resp-text = ["[" resp-text-code "]" SP] text`,
// `text = 1*TEXT-CHAR`, and a space is a TEXT-CHAR: `* OK  ` (OK, SP, and
// a text of one space) is a valid IMAP4rev1 status response. With
// `Quirks::trailing_space` on, the text's spaces were trimmed as trailing
// ones and the line refused for want of text, so the quirk, meant to
// accept more, refused what the strict parser reads.
#[test]
fn text_of_spaces_survives_the_trailing_space_quirk() {
    let strict = Options::default();
    let mut o = Options::default();
    o.quirks.trailing_space = true;
    for wire in [
        &b"* OK  \r\n"[..],
        b"a1 NO   \r\n",
        b"* OK [ALERT]  \r\n",
        b"* BYE  \r\n",
        b"+ [ALERT]  \r\n",
    ] {
        assert!(parse(wire, &strict).is_ok(), "{wire:?}");
        let r = parse(wire, &o);
        assert!(r.is_ok(), "{wire:?}: {r:?}");
    }
}

// DESIGN.md (Errors): a protocol error carries the offending bytes,
// "redacted where they may hold secrets" (RFC 9051 section 6.2.3: LOGIN
// sends the password in the clear; section 6.2.2: SASL data). The cut
// after LOGIN or AUTHENTICATE was found only after a valid tag and exactly
// one space: a LOGIN with two spaces or a tab after its tag, with no tag,
// or with an invalid one (each a BAD the server logs) kept the password in
// `ParseError::input` and in the framer's `FrameError::head`.
#[test]
fn malformed_login_keeps_no_password_in_errors() {
    use imap_proto::{Command, Direction, Framer, Limits};
    let o = Options::default();
    let lines: [&[u8]; 6] = [
        b"a1  LOGIN fred s3cr3t-pw\r\n",
        b"a1\tLOGIN fred s3cr3t-pw\r\n",
        b"LOGIN fred s3cr3t-pw\r\n",
        b"+ LOGIN fred s3cr3t-pw\r\n",
        b"* login fred s3cr3t-pw\r\n",
        b"a1 \tAUTHENTICATE PLAIN czNjcjN0LXB3\r\n",
    ];
    let leaks = |b: &[u8]| b.windows(6).any(|w| w == b"s3cr3t" || w == b"czNjcj");
    for line in lines {
        let e = Command::parse(&Bytes::copy_from_slice(line), &o).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!leaks(&e.input) && !shown.contains("s3cr3t"), "{:?}", e.input);
        // The framer's error for the same line ending in a bare LF.
        let mut bare = line[..line.len() - 2].to_vec();
        bare.extend_from_slice(b"\nb NOOP\r\n");
        let mut f = Framer::new(Direction::ClientToServer, Limits::default());
        let mut buf = bytes::BytesMut::from(&bare[..]);
        let Some(Err(fe)) = f.next(&mut buf) else {
            panic!("{line:?}")
        };
        assert!(!leaks(fe.head()), "{:?}", fe.head());
    }
    // A command that only mentions LOGIN later keeps its bytes.
    let e = Command::parse(&Bytes::from_static(b"a1 SELECT LOGIN x\r\n"), &o).unwrap_err();
    assert_eq!(&e.input[..], b"a1 SELECT LOGIN x\r\n");
}

// `Framer::set_limits` says the limits take effect "from the next unit on",
// and a session may well change them while a unit is partly read (after a
// literal announcement it answered, say). They took effect at once: the
// rest of the unit in progress was judged by the new limits (here its
// second literal refused as too large), the framer's own contract broken.
#[test]
fn new_limits_wait_for_the_next_unit() {
    use imap_proto::{Direction, Frame, Framer, Limits};
    let mut f = Framer::new(Direction::ClientToServer, Limits::default());
    let mut buf = bytes::BytesMut::from(&b"a LOGIN {10}\r\n"[..]);
    assert!(matches!(f.next(&mut buf), Some(Ok(Frame::LiteralAnnounced(_)))));
    let small = Limits {
        max_literal_len: 4,
        ..Limits::default()
    };
    f.set_limits(small);
    buf.extend_from_slice(b"0123456789 {8}\r\n");
    assert!(matches!(f.next(&mut buf), Some(Ok(Frame::LiteralAnnounced(i))) if i.len == 8));
    buf.extend_from_slice(b"abcdefgh\r\nb LOGIN {8}\r\n");
    let Some(Ok(Frame::Unit(u))) = f.next(&mut buf) else {
        panic!()
    };
    assert_eq!(&u.bytes()[..], b"a LOGIN {10}\r\n0123456789 {8}\r\nabcdefgh\r\n");
    // The next unit is read under the new limits.
    assert_eq!(f.limits(), &small);
    assert!(f.next(&mut buf).is_some_and(|r| r.is_err()));
}

// No limit bounds how many literals a unit holds but the unit's size
// (RFC 9051 has none), and a server may stream every literal
// (`stream_literals_over: Some(0)`, an APPEND straight to disk). The
// parser looked each literal up in the list of streamed offsets with a
// linear scan: quadratic in their number, 100,000 one-octet literals (800
// KB on the wire, well within the unit limit) took 37 s to parse in a debug
// build. The offsets are in increasing order; a binary search makes it
// O(n log n).
#[test]
fn many_streamed_literals_parse_in_quasi_linear_time() {
    use imap_proto::{Command, CommandBody, Direction, Frame, Framer, Limits};
    let o = Options {
        literal_plus: true,
        ..Options::default()
    };
    let limits = Limits {
        stream_literals_over: Some(0),
        ..Limits::default()
    };
    let n = 200_000;
    let mut wire = b"a APPEND x".to_vec();
    for _ in 0..n {
        wire.extend_from_slice(b" {1+}\r\nx");
    }
    wire.extend_from_slice(b"\r\n");
    let mut f = Framer::new(Direction::ClientToServer, limits);
    let mut buf = bytes::BytesMut::from(&wire[..]);
    let mut unit = None;
    while let Some(frame) = f.next(&mut buf) {
        if let Frame::Unit(u) = frame.unwrap() {
            unit = Some(u);
        }
    }
    let unit = unit.unwrap();
    assert_eq!(unit.streamed_offsets().len(), n);
    let t = std::time::Instant::now();
    let c = Command::parse_unit(&unit, &o).unwrap();
    // Well under a second once linear (a quadratic scan took minutes).
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
    let CommandBody::Append { messages, .. } = c.body else {
        panic!()
    };
    assert_eq!(messages.len(), n);
    assert!(messages.iter().all(|m| m.message.is_streamed()));
}
