//! Transcript and RFC-example tests: every message of the RFC 3501 and
//! RFC 9051 sample connections, of an extension exchange, and every
//! single-line example of the IMAP RFCs parses; parse -> encode -> parse is
//! stable; the server side re-encodes to exactly the bytes it came from; and
//! the framer gives the same units whatever the split of the stream.

use bytes::{Bytes, BytesMut};
use imap_proto::{
    AuthLine, Command, CommandBody, Direction, Frame, Framer, Limits, Options, Response, parse_auth_line,
    parse_idle_done,
};
use proto_core::transcript::{Side, Transcript};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn frame_all(dir: Direction, pieces: &[&[u8]]) -> Vec<Frame> {
    let mut f = Framer::new(dir, Limits::default());
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for p in pieces {
        buf.extend_from_slice(p);
        while let Some(x) = f.next(&mut buf) {
            out.push(x.expect("transcript frames cleanly"));
        }
    }
    assert!(buf.is_empty(), "bytes left over");
    out
}

fn units(frames: Vec<Frame>) -> Vec<imap_proto::Unit> {
    frames
        .into_iter()
        .filter_map(|f| match f {
            Frame::Unit(u) => Some(u),
            _ => None,
        })
        .collect()
}

fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn check_transcript(name: &str, opts: &Options) {
    let path = root().join("testdata/transcripts/imap").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let t = Transcript::parse(&text).unwrap();
    let server = t.side_bytes(Side::Server);
    let client = t.side_bytes(Side::Client);

    // Server side: every unit parses, and re-encodes to the same bytes.
    let mut re = Vec::new();
    for u in units(frame_all(Direction::ServerToClient, &[&server])) {
        let r = Response::parse_unit(&u, opts).unwrap_or_else(|e| panic!("{name}: {e} in {:?}", u.bytes()));
        let enc = r.encode(opts).unwrap();
        assert_eq!(Response::parse(&enc.bytes, opts).unwrap(), r);
        re.extend_from_slice(&enc.bytes);
    }
    assert_eq!(
        String::from_utf8_lossy(&re),
        String::from_utf8_lossy(&server),
        "{name}: server re-encoding"
    );

    // Client side: commands, SASL lines after AUTHENTICATE, DONE after IDLE.
    let mut in_auth = false;
    let mut in_idle = false;
    let mut re = Vec::new();
    for u in units(frame_all(Direction::ClientToServer, &[&client])) {
        let b = u.bytes().clone();
        if in_idle {
            assert!(parse_idle_done(&b), "{name}: expected DONE");
            in_idle = false;
            re.extend_from_slice(&b);
            continue;
        }
        if in_auth && let Ok(AuthLine::Data(_) | AuthLine::Cancel) = parse_auth_line(&b) {
            re.extend_from_slice(&b);
            continue;
        }
        let c = Command::parse_unit(&u, opts).unwrap_or_else(|e| panic!("{name}: {e} in {b:?}"));
        in_auth = matches!(c.body, CommandBody::Authenticate { .. });
        in_idle = matches!(c.body, CommandBody::Idle);
        let enc = c.encode(opts).unwrap();
        assert_eq!(Command::parse(&enc.bytes, opts).unwrap(), c);
        re.extend_from_slice(&enc.bytes);
    }
    // The one legitimate difference: STORE flags without parentheses are
    // written with them.
    let expected = String::from_utf8_lossy(&client).replace("+flags \\deleted", "+FLAGS (\\Deleted)");
    assert!(
        eq_ignore_case(&re, expected.as_bytes()),
        "{name}: client re-encoding\n{}",
        String::from_utf8_lossy(&re)
    );

    // Split invariance: byte by byte and at every split point.
    for (dir, bytes) in [
        (Direction::ServerToClient, &server),
        (Direction::ClientToServer, &client),
    ] {
        let whole = frame_all(dir, &[bytes]);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(frame_all(dir, &singles), whole);
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(frame_all(dir, &[a, b]), whole, "{name}: split at {cut}");
        }
    }
}

#[test]
fn rfc3501_sample_connection() {
    check_transcript("rfc3501-sample.txt", &Options::default());
}

#[test]
fn rfc9051_sample_connection() {
    check_transcript("rfc9051-sample.txt", &Options::rev2());
}

#[test]
fn extension_exchange() {
    // IMAP4rev2: the transcript has RFC 6851's `* OK [COPYUID 432432 42:69
    // 1202:1229]` (also in RFC 9051 section 6.4.8), a resp-text without
    // text, which RFC 3501's grammar does not have (`text = 1*TEXT-CHAR`).
    let opts = Options {
        literal_plus: true,
        ..Options::rev2()
    };
    check_transcript("extensions.txt", &opts);
}

/// Every single-line example of the IMAP RFCs (testdata/imap/rfc-examples.txt).
#[test]
fn rfc_example_lines() {
    let text = std::fs::read_to_string(root().join("testdata/imap/rfc-examples.txt")).unwrap();
    let opts = Options::rev2();
    let mut n = 0;
    let mut exact = 0;
    for line in text.lines() {
        let (client, msg) = match line.get(..3) {
            Some("C: ") => (true, &line[3..]),
            Some("S: ") => (false, &line[3..]),
            _ => continue,
        };
        let unit = Bytes::from(format!("{msg}\r\n"));
        let enc = if client {
            let c = Command::parse(&unit, &opts).unwrap_or_else(|e| panic!("{e}: {msg}"));
            let enc = c.encode(&opts).unwrap_or_else(|e| panic!("{e}: {msg}"));
            assert_eq!(Command::parse(&enc.bytes, &opts).unwrap(), c, "{msg}");
            enc
        } else {
            let r = Response::parse(&unit, &opts).unwrap_or_else(|e| panic!("{e}: {msg}"));
            let enc = r.encode(&opts).unwrap_or_else(|e| panic!("{e}: {msg}"));
            assert_eq!(Response::parse(&enc.bytes, &opts).unwrap(), r, "{msg}");
            enc
        };
        n += 1;
        // Split invariance: one unit at every split point.
        for cut in 0..=unit.len() {
            let (a, b) = unit.split_at(cut);
            let dir = if client {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            };
            let frames = frame_all(dir, &[a, b]);
            assert!(
                matches!(&frames[..], [Frame::Unit(u)] if u.bytes() == &unit),
                "{msg}: split at {cut}"
            );
        }
        if eq_ignore_case(&enc.bytes, &unit) {
            exact += 1;
        }
    }
    assert!(n > 1000, "only {n} vectors");
    // Known-answer encoding: nearly every example re-encodes to its own
    // bytes (up to letter case); the rest differ only in a legitimate
    // choice (e.g. `1:1` written `1`, a quoted string that can be an atom).
    assert!(exact * 100 >= n * 95, "{exact} of {n} re-encode exactly");
}
