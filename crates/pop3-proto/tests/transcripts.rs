//! Runs every transcript in testdata/transcripts/pop3/ against a
//! `ServerSession` driven by the scripted application of `common`: whole
//! client turns, and again byte by byte (the output must be identical).

mod common;

use common::{App, config_from_directives, rfc_messages};
use pop3_proto::ServerSession;
use proto_core::Session;
use proto_core::transcript::{Side, Transcript};
use std::path::PathBuf;
use std::time::Instant;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/transcripts/pop3")
}

fn drain(s: &mut ServerSession) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = s.poll_transmit() {
        out.extend_from_slice(b);
        let n = b.len();
        s.advance_transmit(n);
    }
    out
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\\r\\n\n")
}

struct Outcome {
    app: App,
    fatal: bool,
    closed: bool,
}

fn run(name: &str, text: &str, byte_by_byte: bool) -> Outcome {
    let t = Transcript::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut s = ServerSession::new(config_from_directives(text), Instant::now());
    let mut app = App::new(rfc_messages());
    let mut fatal = false;
    let mut got = drain(&mut s);
    for (side, bytes) in t.turns() {
        match side {
            Side::Server => {
                assert!(
                    got.starts_with(&bytes),
                    "{name}: expected\n{}\ngot\n{}",
                    show(&bytes),
                    show(&got)
                );
                got.drain(..bytes.len());
            }
            Side::Client => {
                assert!(got.is_empty(), "{name}: unexpected server output\n{}", show(&got));
                let pieces: Vec<&[u8]> = if byte_by_byte {
                    bytes.chunks(1).collect()
                } else {
                    vec![&bytes[..]]
                };
                for p in pieces {
                    s.handle_input(p);
                    if app.drive(&mut s).is_err() {
                        fatal = true;
                    }
                    got.extend_from_slice(&drain(&mut s));
                }
                if app.finish_turn(&mut s).is_err() {
                    fatal = true;
                }
                got.extend_from_slice(&drain(&mut s));
            }
        }
    }
    assert!(
        got.is_empty(),
        "{name}: unexpected trailing output\n{}",
        show(&got)
    );
    if !s.is_closed() {
        s.handle_eof();
        if app.drive(&mut s).is_err() {
            fatal = true;
        }
    }
    let closed = s.is_closed();
    Outcome { app, fatal, closed }
}

#[test]
fn transcripts() {
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .expect("transcript dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "transcripts missing");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for bbb in [false, true] {
            let o = run(&name, &text, bbb);
            assert!(o.closed, "{name}: session not closed at the end");
            for line in text.lines() {
                let Some(d) = line.strip_prefix("#! ") else {
                    continue;
                };
                let (k, v) = d.split_once(' ').unwrap_or((d, ""));
                match k {
                    "closed" => assert_eq!(format!("{:?}", o.app.closed.unwrap()), v, "{name}"),
                    "deleted" => {
                        let want: Vec<u32> = v
                            .split(',')
                            .filter(|x| !x.is_empty())
                            .map(|x| x.parse().unwrap())
                            .collect();
                        assert_eq!(o.app.deleted.as_deref(), Some(&want[..]), "{name}");
                    }
                    "fatal" => assert!(o.fatal, "{name}: expected a fatal error"),
                    _ => {}
                }
            }
            if !text.contains("#! fatal") {
                assert!(!o.fatal, "{name}: unexpected fatal error");
            }
            if !text.contains("#! deleted") {
                assert_eq!(o.app.deleted, None, "{name}: UPDATE happened");
            }
        }
    }
}
