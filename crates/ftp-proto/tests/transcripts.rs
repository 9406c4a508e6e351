//! Runs every testdata/transcripts/ftp/server_*.txt against a ServerSession
//! with the deterministic application of tests/common: each client turn is fed
//! whole, and the server's reply bytes must equal the next server turn.
//! The same transcripts are replayed byte by byte (split invariance).

mod common;

use proto_core::transcript::{Side, Transcript};
use std::path::PathBuf;
use std::time::Instant;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/transcripts/ftp")
}

fn files(prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".txt"))
        })
        .collect();
    v.sort();
    v
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(path: &PathBuf, byte_by_byte: bool) {
    let text = std::fs::read_to_string(path).unwrap();
    let t = Transcript::parse(&text).unwrap();
    let now = Instant::now();
    let mut s = common::new_server(now);
    let mut log = Vec::new();
    let mut pending = common::drain(&mut s, now, &mut log);
    for (side, bytes) in t.turns() {
        match side {
            Side::Server => {
                assert_eq!(
                    show(&pending[..bytes.len().min(pending.len())]),
                    show(&bytes),
                    "{}: server output differs (events {log:?})",
                    path.display()
                );
                pending.drain(..bytes.len().min(pending.len()));
            }
            Side::Client => {
                assert!(
                    pending.is_empty(),
                    "{}: unexpected server output {:?}",
                    path.display(),
                    show(&pending)
                );
                if byte_by_byte {
                    for b in &bytes {
                        s.handle_input(std::slice::from_ref(b));
                        pending.extend(common::drain(&mut s, now, &mut log));
                    }
                } else {
                    s.handle_input(&bytes);
                    pending.extend(common::drain(&mut s, now, &mut log));
                }
            }
        }
    }
    assert!(
        pending.is_empty(),
        "{}: trailing server output {:?}",
        path.display(),
        show(&pending)
    );
}

#[test]
fn server_transcripts() {
    let all = files("server_");
    assert!(all.len() >= 10, "transcripts missing");
    for p in &all {
        run(p, false);
    }
}

#[test]
fn server_transcripts_byte_by_byte() {
    for p in &files("server_") {
        // AUTH TLS discards what is pipelined after it, so feeding byte by byte
        // legitimately differs there; every other transcript must not.
        if p.to_string_lossy().contains("tls_injection") {
            continue;
        }
        run(p, true);
    }
}
