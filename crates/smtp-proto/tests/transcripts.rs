//! Transcript tests: every `testdata/transcripts/smtp/*.txt` runs against a
//! single `ServerSession` driven by `checks::ServerApp` (accepts senders,
//! refuses recipients whose line holds "reject", accepts messages, toy PLAIN
//! with `\0user\0pass`). Each client turn is fed at once, then whole and byte
//! by byte; the server's bytes must equal the `S:` lines up to the next client turn.
//!
//! A transcript configures the server with comment lines `# config: word ...`:
//! `lmtp`, `starttls`, `auth`, `plaintext-auth`, `no-pipelining`, `no-chunking`,
//! `size=N`, `normalize`, `allow-unsync`, `implicit-tls`, `requiretls`, `mt-priority`,
//! `helo-literal`, `no-8bitmime`.

use proto_core::BareLineEndings;
use proto_core::transcript::{Side, Transcript};
use smtp_proto::checks::ServerApp;
use smtp_proto::{ServerConfig, ServerSession};
use std::path::Path;
use std::time::Instant;

fn config(text: &str) -> ServerConfig {
    let mut cfg = ServerConfig {
        hostname: "mx.example.test".into(),
        ..ServerConfig::default()
    };
    for line in text.lines() {
        let Some(words) = line.strip_prefix("# config:") else {
            continue;
        };
        for w in words.split_whitespace() {
            match w {
                "lmtp" => cfg.lmtp = true,
                "starttls" => cfg.starttls = true,
                "auth" => cfg.auth_mechanisms = vec!["PLAIN".into()],
                "plaintext-auth" => cfg.allow_plaintext_auth = true,
                "no-pipelining" => cfg.pipelining = false,
                "no-chunking" => cfg.chunking = false,
                "normalize" => cfg.bare_line_endings = BareLineEndings::Normalize,
                "allow-unsync" => cfg.reject_unsync_pipelining = false,
                "implicit-tls" => cfg.implicit_tls = true,
                "requiretls" => cfg.requiretls = true,
                "mt-priority" => cfg.mt_priority = true,
                "helo-literal" => cfg.helo_address_literal = true,
                "no-8bitmime" => cfg.eight_bit_mime = false,
                _ => match w.strip_prefix("size=") {
                    Some(n) => cfg.limits.message_size = n.parse().expect("size"),
                    None => panic!("unknown config word {w}"),
                },
            }
        }
    }
    cfg
}

/// Runs the transcript; `bytewise` feeds each client turn one byte at a time.
fn run(name: &str, text: &str, bytewise: bool) {
    let t = Transcript::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let now = Instant::now();
    let mut s = ServerSession::new(config(text), now);
    let mut app = ServerApp::with_auto_tls();
    let mut got = Vec::new();
    let drain = |s: &mut ServerSession, got: &mut Vec<u8>| {
        while let Some(b) = s.poll_transmit() {
            let n = b.len();
            got.extend_from_slice(b);
            s.advance_transmit(n);
        }
    };
    drain(&mut s, &mut got);
    for (side, bytes) in t.turns() {
        match side {
            Side::Client => {
                let pieces: Vec<&[u8]> = if bytewise {
                    bytes.chunks(1).collect()
                } else {
                    vec![&bytes[..]]
                };
                for p in pieces {
                    s.handle_input(p);
                    let r = app.drive(&mut s, now);
                    drain(&mut s, &mut got);
                    if let Err(e) = r {
                        got.extend_from_slice(format!("[fatal {:?}]", e.kind()).as_bytes());
                    }
                }
            }
            Side::Server => {
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&bytes),
                    "{name} (bytewise {bytewise}): server output differs"
                );
                got.clear();
            }
        }
    }
    assert!(
        got.is_empty(),
        "{name}: unexpected trailing output {:?}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn transcripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/transcripts/smtp");
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("transcript dir")
        .flatten()
        .collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for e in entries {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "txt") {
            let text = std::fs::read_to_string(&p).expect("read");
            let name = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            run(&name, &text, false);
            if !text.contains("# whole-turns-only") {
                run(&name, &text, true);
            }
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} transcripts");
}
