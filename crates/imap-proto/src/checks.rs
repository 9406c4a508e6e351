//! Checks shared by the fuzz targets and the replay test
//! (`tests/fuzz_replay.rs`): each takes arbitrary bytes and panics only on a
//! real bug.

use bytes::{Bytes, BytesMut};

use crate::{Command, Direction, Frame, Framer, Limits, Options, Response, Version};

fn opts_from(byte: u8) -> Options {
    let mut o = Options::default();
    if byte & 1 != 0 {
        o = Options::rev2();
    }
    o.literal_plus = byte & 2 != 0;
    o.quirks.trailing_space = byte & 4 != 0;
    o.quirks.nil_body_encoding = byte & 8 != 0;
    o.quirks.negative_octets = byte & 8 != 0;
    o.quirks.bare_continuation = byte & 16 != 0;
    o.quirks.eight_bit_quoted = byte & 32 != 0;
    o.quirks.empty_text = byte & 64 != 0;
    o.quirks.eight_bit_text = byte & 128 != 0;
    o.limits.max_depth = 16;
    o
}

/// Command parser: never panics; what parses re-encodes and parses back to
/// the same value (parse -> encode -> parse is stable).
pub fn command_parser(data: &[u8]) {
    let (o, data) = match data.split_first() {
        Some((b, rest)) => (opts_from(*b), rest),
        None => (Options::default(), data),
    };
    let unit = Bytes::copy_from_slice(data);
    if let Ok(c) = Command::parse(&unit, &o) {
        let enc = c.encode(&o).expect("a parsed command encodes");
        let back = Command::parse(&enc.bytes, &o).expect("an encoded command parses");
        assert_eq!(back, c);
    }
}

/// Response parser: as [`command_parser`], for responses.
pub fn response_parser(data: &[u8]) {
    let (o, data) = match data.split_first() {
        Some((b, rest)) => (opts_from(*b), rest),
        None => (Options::default(), data),
    };
    let unit = Bytes::copy_from_slice(data);
    if let Ok(r) = Response::parse(&unit, &o) {
        let enc = match r.encode(&o) {
            Ok(e) => e,
            // Quirk-accepted input may not be encodable strictly.
            Err(_) if o.quirks != crate::Quirks::default() => return,
            Err(e) => panic!("a parsed response does not encode: {e} {r:?}"),
        };
        let back = Response::parse(&enc.bytes, &o).expect("an encoded response parses");
        assert_eq!(back, r);
    }
}

/// Framer: the same units come out whatever the split of the input, and
/// nothing is lost or invented (every byte is in a unit, a streamed chunk,
/// an error, or still buffered).
pub fn framer(data: &[u8]) {
    let Some((&ctl, data)) = data.split_first() else {
        return;
    };
    let dir = if ctl & 1 == 0 {
        Direction::ClientToServer
    } else {
        Direction::ServerToClient
    };
    // Bit 2: the IMAP version (it decides whether a BADCHARSET status line
    // may end in a literal).
    let version = if ctl & 4 == 0 {
        Version::Rev1
    } else {
        Version::Rev2
    };
    let limits = Limits {
        max_line_len: 64,
        max_literal_len: 32,
        max_unit_len: 128,
        stream_literals_over: (ctl & 2 != 0).then_some(8),
        ..Limits::default()
    };
    let whole = run_framer(dir, version, limits, &[data]);
    let step = usize::from(ctl >> 3).max(1);
    let pieces: Vec<&[u8]> = data.chunks(step).collect();
    let split = run_framer(dir, version, limits, &pieces);
    assert_eq!(merge_chunks(whole), merge_chunks(split));
}

fn run_framer(dir: Direction, version: Version, limits: Limits, pieces: &[&[u8]]) -> Vec<String> {
    let mut f = Framer::new(dir, limits);
    f.set_version(version);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for p in pieces {
        buf.extend_from_slice(p);
        while let Some(x) = f.next(&mut buf) {
            out.push(match x {
                Ok(Frame::Unit(u)) => format!("unit {:?} {:?}", u.bytes(), u.streamed_offsets()),
                Ok(Frame::StreamChunk(c)) => c.iter().fold(String::from("chunk "), |mut s, b| {
                    s.push_str(&format!("{b:02x}"));
                    s
                }),
                Ok(other) => format!("{other:?}"),
                Err(e) => format!("error {e:?}"),
            });
        }
    }
    out
}

/// Stream chunk boundaries depend on the input split; compare their
/// concatenation.
fn merge_chunks(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        if let (Some(last), Some(rest)) = (out.last_mut(), s.strip_prefix("chunk "))
            && last.starts_with("chunk ")
        {
            last.push_str(rest);
            continue;
        }
        out.push(s);
    }
    out
}

/// Encode -> parse oracle: builds a command and a response from the input
/// bytes used as field values; whatever encodes must parse back equal.
pub fn encode_oracle(data: &[u8]) {
    use crate::command::{CommandBody, SearchKey};
    use crate::types::{Mailbox, SeqSet, Str};
    let o = Options::default();
    let mut parts = data.splitn(3, |&b| b == 0xff);
    let a = Str::new(Bytes::copy_from_slice(parts.next().unwrap_or_default()));
    let b = Str::new(Bytes::copy_from_slice(parts.next().unwrap_or_default()));
    let c = Str::new(Bytes::copy_from_slice(parts.next().unwrap_or_default()));
    let cmds = [
        CommandBody::Login {
            username: a.clone(),
            password: crate::Sensitive(b.clone()),
        },
        CommandBody::Rename {
            from: Mailbox(a.clone()),
            to: Mailbox(c.clone()),
        },
        CommandBody::Search {
            uid: true,
            returns: None,
            charset: Some(Str::from("UTF-8")),
            criteria: vec![
                SearchKey::Header(a.clone(), b.clone()),
                SearchKey::Or(
                    Box::new(SearchKey::Subject(c.clone())),
                    Box::new(SearchKey::Uid(SeqSet::single(7))),
                ),
            ],
        },
        CommandBody::List {
            selection: vec![],
            reference: Mailbox(a.clone()),
            patterns: vec![b.clone(), c.clone()],
            returns: None,
        },
    ];
    for body in cmds {
        let cmd = Command {
            tag: crate::Tag(Bytes::from_static(b"t1")),
            body,
        };
        if let Ok(enc) = cmd.encode(&o) {
            let back = Command::parse(&enc.bytes, &o).expect("encoded command parses");
            assert_eq!(back, cmd);
        }
    }
    let resp = Response::Data(crate::Data::Fetch {
        seq: 1,
        items: vec![
            crate::response::FetchItem::Rfc822Header(Some(a)),
            crate::response::FetchItem::BodySection {
                section: crate::command::Section::default(),
                origin: None,
                data: Some(b),
            },
            crate::response::FetchItem::Envelope(Box::new(crate::response::Envelope {
                subject: Some(c),
                ..Default::default()
            })),
        ],
    });
    if let Ok(enc) = resp.encode(&o) {
        let back = Response::parse(&enc.bytes, &o).expect("encoded response parses");
        assert_eq!(back, resp);
    }
}
