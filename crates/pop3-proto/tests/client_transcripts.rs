//! Runs every transcript in testdata/transcripts/pop3/client/ against a
//! `ClientSession`: the `S:` lines are fed in (whole turns, then byte by
//! byte), and what the client sends must be exactly the `C:` lines.

use pop3_proto::{ClientConfig, ClientEvent, ClientSession, Credentials, FetchMode, TlsMode};
use proto_core::transcript::{Side, Transcript};
use proto_core::{Secret, Session};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

fn directives(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("#! "))
        .map(|d| {
            let (k, v) = d.split_once(' ').unwrap_or((d, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\\r\\n\n")
}

#[derive(Default)]
struct Outcome {
    messages: usize,
    deleted: Vec<u32>,
    error: Option<String>,
    closed: bool,
    failed_commands: usize,
    languages: usize,
    oks: Vec<&'static str>,
}

fn run(name: &str, text: &str, byte_by_byte: bool) -> Outcome {
    let t = Transcript::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let d = directives(text);
    let get = |k: &str| d.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let mut cfg = ClientConfig::new(Credentials {
        username: "mrose".into(),
        password: Some(Secret::new("tanstaaf".into())),
        ..Credentials::default()
    });
    cfg.tls = match get("tls") {
        Some("implicit") => TlsMode::Implicit,
        Some("opportunistic") => TlsMode::Opportunistic,
        _ => TlsMode::Required,
    };
    cfg.utf8 = get("utf8").is_some();
    let mut c = ClientSession::new(cfg, Instant::now());
    let mut o = Outcome::default();
    let mut got: Vec<u8> = Vec::new();
    let mut tls_pending = false;
    let drive = |c: &mut ClientSession, o: &mut Outcome, tls_pending: &mut bool| loop {
        let ev = match c.poll_event() {
            Ok(Some(ev)) => ev,
            Ok(None) => return,
            Err(e) => {
                o.error.get_or_insert(e.to_string());
                return;
            }
        };
        match ev {
            ClientEvent::StartTls => *tls_pending = true,
            ClientEvent::LoggedIn(_) => match get("action") {
                Some("commands") => {
                    c.stat().unwrap();
                    c.list(Some(2)).unwrap();
                    c.uidl(Some(1)).unwrap();
                    c.top(1, 0).unwrap();
                    c.retr(9).unwrap();
                    c.noop().unwrap();
                    c.rset().unwrap();
                    c.quit().unwrap();
                }
                Some("lang") => {
                    c.lang(None).unwrap();
                    c.lang(Some("de")).unwrap();
                    assert!(c.lang(Some("a b")).is_err());
                    c.quit().unwrap();
                }
                Some(a) if a.starts_with("fetch ") => {
                    let mode = match &a[6..] {
                        "keep" => FetchMode::Keep,
                        "delete" => FetchMode::Delete,
                        new => {
                            let known: HashSet<_> = new
                                .strip_prefix("new:")
                                .unwrap()
                                .split(',')
                                .map(|u| bytes::Bytes::copy_from_slice(u.as_bytes()))
                                .collect();
                            FetchMode::KeepNew(known)
                        }
                    };
                    c.fetch(mode).unwrap();
                }
                _ => {}
            },
            ClientEvent::MessageEnd { .. } => o.messages += 1,
            ClientEvent::Deleted(n) => o.deleted.push(n),
            ClientEvent::FetchDone { .. } => c.quit().unwrap(),
            ClientEvent::CommandFailed { .. } => o.failed_commands += 1,
            ClientEvent::Languages(l) => o.languages = l.len(),
            ClientEvent::Ok { command, .. } => o.oks.push(command),
            ClientEvent::Closed { .. } => o.closed = true,
            _ => {}
        }
    };
    let drain = |c: &mut ClientSession, got: &mut Vec<u8>| {
        while let Some(b) = c.poll_transmit() {
            got.extend_from_slice(b);
            let n = b.len();
            c.advance_transmit(n);
        }
    };
    for (side, bytes) in t.turns() {
        match side {
            Side::Client => {
                assert!(
                    got.starts_with(&bytes),
                    "{name}: expected client to send\n{}\ngot\n{}",
                    show(&bytes),
                    show(&got)
                );
                got.drain(..bytes.len());
            }
            Side::Server => {
                let pieces: Vec<&[u8]> = if byte_by_byte {
                    bytes.chunks(1).collect()
                } else {
                    vec![&bytes[..]]
                };
                for p in pieces {
                    c.handle_input(p);
                    drive(&mut c, &mut o, &mut tls_pending);
                    drain(&mut c, &mut got);
                }
                // The handshake happens after the plaintext turn.
                if std::mem::take(&mut tls_pending) {
                    c.tls_established().unwrap();
                    drive(&mut c, &mut o, &mut tls_pending);
                    drain(&mut c, &mut got);
                }
            }
        }
    }
    assert!(
        got.is_empty(),
        "{name}: unexpected trailing output\n{}",
        show(&got)
    );
    o
}

#[test]
fn client_transcripts() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/transcripts/pop3/client");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("client transcript dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for bbb in [false, true] {
            let o = run(&name, &text, bbb);
            let d = directives(&text);
            let mut expect_error = false;
            for (k, v) in &d {
                match k.as_str() {
                    "expect-error" => {
                        expect_error = true;
                        let e = o.error.clone().unwrap_or_default();
                        assert!(e.contains(v.as_str()), "{name}: error {e:?}, want {v:?}");
                    }
                    "expect-messages" => assert_eq!(o.messages, v.parse::<usize>().unwrap(), "{name}"),
                    "expect-deleted" => {
                        let want: Vec<u32> = v
                            .split(',')
                            .filter(|x| !x.is_empty())
                            .map(|x| x.parse().unwrap())
                            .collect();
                        assert_eq!(o.deleted, want, "{name}");
                    }
                    _ => {}
                }
            }
            if !expect_error {
                assert_eq!(o.error, None, "{name}");
                assert!(o.closed, "{name}: not closed");
            }
            if name.starts_with("utf8_lang") {
                assert_eq!((o.languages, &o.oks[..]), (2, &["UTF8", "LANG"][..]), "{name}");
            }
            if name.starts_with("sasl_plain_commands") {
                assert_eq!(o.failed_commands, 1, "{name}");
            }
        }
    }
}
