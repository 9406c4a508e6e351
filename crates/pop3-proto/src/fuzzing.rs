//! The reference checks behind the fuzz targets (`fuzz/fuzz_targets/pop3_*.rs`)
//! and the stable replay test (`tests/fuzz_replay.rs`).
//!
//! Each function panics when an invariant breaks; the first input byte seeds
//! the split plan where one is needed.
//!
//! * [`command_parser`]: parsing never panics; what parses and encodes
//!   parses back to the same command.
//! * [`response_parser`]: the same for status lines, and the listing parsers
//!   never panic; valid listing lines and capability lists round-trip.
//! * [`server_session`]: a scripted server fed the input whole and in
//!   seeded random pieces sends the same bytes and reports the same events.
//! * [`client_session`]: the same for a scripted client fed server bytes
//!   (consecutive message chunks are joined before comparing).

use crate::client::{ClientConfig, ClientEvent, ClientSession, Credentials, FetchMode, TlsMode};
use crate::command::Command;
use crate::response::{
    Capabilities, LanguageListing, ScanListing, ServerLine, StatInfo, StatusLine, UidListing,
};
use crate::server::{
    AuthOutcome, LoginFailure, Maildrop, MessageInfo, ServerConfig, ServerEvent, ServerSession,
};
use bytes::{Bytes, BytesMut};
use proto_core::{Secret, Session};
use std::time::{Duration, Instant};

fn plan(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&seed, rest)) => (seed, rest),
        None => (0, &[]),
    }
}

/// Deterministic pieces of 1 to 16 bytes from a seed.
fn chunks(seed: u8, input: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut s = u32::from(seed) | 1;
    while !rest.is_empty() {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (((s >> 16) % 16) as usize + 1).min(rest.len());
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
    }
    out
}

/// Fuzz invariant for [`Command::parse`] / [`Command::encode`].
pub fn command_parser(data: &[u8]) {
    for line in data.split(|&b| b == b'\n') {
        let line = Bytes::copy_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        if let Ok(cmd) = Command::parse(&line) {
            let mut out = BytesMut::new();
            if cmd.encode(&mut out).is_ok() {
                assert!(out.ends_with(b"\r\n"), "encoding lacks CRLF");
                let body = out.split_to(out.len() - 2).freeze();
                assert!(
                    !body.contains(&b'\n') && !body.contains(&b'\r'),
                    "CR/LF escaped the encoder"
                );
                let again = Command::parse(&body).expect("encoded command does not parse");
                assert_eq!(again, cmd, "round trip changed the command");
            }
        }
        let _ = crate::command::AuthLine::parse(&line);
    }
}

/// Fuzz invariant for the response parsers.
pub fn response_parser(data: &[u8]) {
    let mut caps = Capabilities::default();
    for line in data.split(|&b| b == b'\n') {
        let line = Bytes::copy_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        if let Ok(st) = StatusLine::parse(&line) {
            let mut out = BytesMut::new();
            if st.encode(&mut out).is_ok() {
                let body = out.split_to(out.len() - 2).freeze();
                let again = StatusLine::parse(&body).expect("encoded status line does not parse");
                assert_eq!(again.status, st.status);
                assert_eq!(again.code, st.code);
                assert_eq!(again.text, st.text);
            }
            let _ = st.apop_timestamp();
            let _ = StatInfo::parse(&st.text);
        }
        let _ = ServerLine::parse(&line);
        if let Ok(s) = ScanListing::parse(&line) {
            let mut out = BytesMut::new();
            s.encode(&mut out);
            assert_eq!(ScanListing::parse(&out[..out.len() - 2]), Ok(s));
        }
        if let Ok(u) = UidListing::parse(&line) {
            let mut out = BytesMut::new();
            if u.encode(&mut out).is_ok() {
                let body = out.split_to(out.len() - 2).freeze();
                assert_eq!(UidListing::parse(&body), Ok(u));
            }
        }
        let _ = LanguageListing::parse(&line);
        caps.add_line(&line);
    }
    let mut out = BytesMut::new();
    if caps.encode(&mut out).is_ok() {
        let mut again = Capabilities::default();
        for line in out[..].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let line = line.strip_suffix(b"\r").expect("capability line without CRLF");
            again.add_line(&Bytes::copy_from_slice(line.strip_prefix(b".").unwrap_or(line)));
        }
        assert_eq!(again, caps, "capabilities changed in a round trip");
    }
}

const FUZZ_MESSAGES: [&[u8]; 3] = [
    b"Subject: a\r\n\r\nbody\r\n.dot\r\n",
    b"",
    b"X: y\n\n.\nlast line without CRLF",
];

fn server_config() -> ServerConfig {
    ServerConfig {
        apop_timestamp: Some("<1.2@fuzz.test>".into()),
        stls: true,
        allow_plaintext_without_tls: true,
        sasl_mechanisms: vec!["PLAIN".into(), "X-TEST".into()],
        utf8: true,
        languages: vec![("en".into(), "English".into())],
        expire: Some("NEVER".into()),
        login_delay: Some(60),
        implementation: Some("fuzz".into()),
        failed_login_delay: Duration::ZERO,
        ..ServerConfig::default()
    }
}

fn fuzz_maildrop() -> Maildrop {
    Maildrop {
        messages: FUZZ_MESSAGES
            .iter()
            .enumerate()
            .map(|(i, m)| MessageInfo {
                size: m.len() as u64,
                uid: Bytes::from(format!("u{i}")),
            })
            .collect(),
    }
}

fn decide(user: &[u8], pass: &[u8]) -> AuthOutcome {
    match (user, pass) {
        (_, b"pw") => AuthOutcome::Success(fuzz_maildrop()),
        (b"locked", _) => AuthOutcome::Failure(LoginFailure::in_use()),
        _ => AuthOutcome::Failure(LoginFailure::bad_credentials()),
    }
}

/// Runs a scripted server over `pieces`; returns its output and event log.
fn run_server(t0: Instant, pieces: &[&[u8]]) -> (Vec<u8>, Vec<String>) {
    let mut s = ServerSession::new(server_config(), t0);
    let mut log = Vec::new();
    let mut wire = Vec::new();
    let drain = |s: &mut ServerSession, wire: &mut Vec<u8>| {
        while let Some(b) = s.poll_transmit() {
            wire.extend_from_slice(b);
            let n = b.len();
            s.advance_transmit(n);
        }
    };
    let mut failed = false;
    for piece in pieces.iter().chain(std::iter::once(&&b""[..])) {
        if failed {
            break;
        }
        if piece.is_empty() {
            s.handle_eof();
        } else {
            s.handle_input(piece);
        }
        loop {
            let ev = match s.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    log.push(format!("error {e}"));
                    failed = true;
                    break;
                }
            };
            log.push(format!("{ev:?}"));
            let r = match ev {
                ServerEvent::Login { user, password } => s.auth_finish(decide(&user, password.expose())),
                ServerEvent::Apop { user, digest } => {
                    let ok = s.check_apop(digest.expose(), b"pw");
                    s.auth_finish(decide(&user, if ok { b"pw" } else { b"" }))
                }
                ServerEvent::AuthStart {
                    initial_response: Some(ir),
                    ..
                }
                | ServerEvent::AuthResponse(ir) => {
                    let ir = ir.expose();
                    if ir.first() == Some(&b'c') {
                        s.auth_challenge(&ir[1..])
                    } else {
                        s.auth_finish(decide(b"", ir))
                    }
                }
                ServerEvent::AuthStart { .. } => s.auth_challenge(b"go"),
                ServerEvent::Retrieve { index, .. } => {
                    let m = FUZZ_MESSAGES.get(index).copied().unwrap_or_default();
                    for p in m.chunks(5) {
                        if !s.message_data(p).unwrap_or(false) {
                            break;
                        }
                    }
                    s.message_end()
                }
                ServerEvent::Update { delete } => s.update_finish(if delete.len() > 1 {
                    Err("partial".into())
                } else {
                    Ok(())
                }),
                // STLS: the handshake never completes, so later input is ignored
                // the same way whatever the split.
                _ => Ok(()),
            };
            assert!(r.is_ok(), "scripted server call refused: {r:?}");
        }
        drain(&mut s, &mut wire);
    }
    // The autologout never deletes anything and sends nothing.
    s.handle_timeout(t0 + Duration::from_secs(601));
    while let Ok(Some(ev)) = s.poll_event() {
        log.push(format!("{ev:?}"));
        assert!(!matches!(ev, ServerEvent::Update { .. }), "timeout ran UPDATE");
    }
    drain(&mut s, &mut wire);
    (wire, log)
}

/// Fuzz invariant for [`ServerSession`]: client bytes fed whole and in pieces
/// give the same replies and events; every reply line is CRLF-terminated.
pub fn server_session(data: &[u8]) {
    let (seed, input) = plan(data);
    let t0 = Instant::now();
    let whole = run_server(t0, &[input]);
    let split = run_server(t0, &chunks(seed, input));
    assert_eq!(whole, split, "chunking changed the server's behaviour");
    assert!(
        whole.0.is_empty() || whole.0.ends_with(b"\r\n"),
        "unterminated reply"
    );
}

fn run_client(pieces: &[&[u8]]) -> (Vec<u8>, Vec<String>) {
    let mut config = ClientConfig::new(Credentials {
        username: "user".into(),
        password: Some(Secret::new("pw".into())),
        ..Credentials::default()
    });
    config.tls = TlsMode::Opportunistic;
    config.allow_plaintext_without_tls = true;
    // SCRAM nonces are random: keep the client's output a function of its input.
    config.sasl = false;
    config.limits.max_listing_entries = 64;
    let mut c = ClientSession::new(config, Instant::now());
    let mut log: Vec<String> = Vec::new();
    let mut data = Vec::new();
    let mut wire = Vec::new();
    let mut done = false;
    for piece in pieces.iter().chain(std::iter::once(&&b""[..])) {
        if done {
            break;
        }
        if piece.is_empty() {
            c.handle_eof();
        } else {
            c.handle_input(piece);
        }
        loop {
            let ev = match c.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    log.push(format!("error {e}"));
                    done = true;
                    break;
                }
            };
            if let ClientEvent::MessageData(d) = &ev {
                data.extend_from_slice(d);
                continue;
            }
            if !data.is_empty() {
                log.push(format!("data {:?}", std::mem::take(&mut data)));
            }
            log.push(format!("{ev:?}"));
            // StartTls is left unanswered: the handshake never completes (as in
            // the server check), so what follows STLS is dropped whatever the split.
            let r = match ev {
                ClientEvent::LoggedIn(_) => c
                    .fetch(FetchMode::Delete)
                    .and_then(|()| c.top(1, 1))
                    .and_then(|()| c.stat()),
                ClientEvent::FetchDone { .. } => c.quit(),
                _ => Ok(()),
            };
            assert!(r.is_ok() || c.is_closed(), "scripted client call refused: {r:?}");
        }
        while let Some(b) = c.poll_transmit() {
            wire.extend_from_slice(b);
            let n = b.len();
            c.advance_transmit(n);
        }
    }
    if !data.is_empty() {
        log.push(format!("data {data:?}"));
    }
    (wire, log)
}

/// Fuzz invariant for [`ClientSession`]: server bytes fed whole and in pieces
/// give the same commands and events.
pub fn client_session(data: &[u8]) {
    let (seed, input) = plan(data);
    let whole = run_client(&[input]);
    let split = run_client(&chunks(seed, input));
    assert_eq!(whole, split, "chunking changed the client's behaviour");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_server_serves_a_session() {
        let (wire, log) = run_server(
            Instant::now(),
            &[b"USER a\r\nPASS pw\r\nRETR 3\r\nTOP 1 0\r\nDELE 2\r\nQUIT\r\n"],
        );
        let text = String::from_utf8_lossy(&wire);
        assert!(text.contains("+OK maildrop has 3 messages"), "{text}");
        assert!(
            text.contains("X: y\r\n\r\n..\r\nlast line without CRLF\r\n.\r\n"),
            "{text}"
        );
        assert!(
            text.contains("+OK top of message follows\r\nSubject: a\r\n\r\n.\r\n"),
            "{text}"
        );
        assert!(log.iter().any(|l| l == "Update { delete: [2] }"), "{log:?}");
    }

    #[test]
    fn scripted_client_fetches() {
        let server = b"+OK hi\r\n-ERR no capa\r\n+OK\r\n+OK in\r\n+OK\r\n1 u1\r\n.\r\n+OK\r\n1 5\r\n.\r\n\
+OK top\r\nA: b\r\n.\r\n+OK 1 5\r\n+OK 5 octets\r\n..x\r\n\r\n.\r\n+OK deleted\r\n+OK bye\r\n";
        let (wire, log) = run_client(&[server]);
        assert_eq!(
            String::from_utf8_lossy(&wire),
            "CAPA\r\nUSER user\r\nPASS pw\r\nUIDL\r\nLIST\r\nTOP 1 1\r\nSTAT\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n"
        );
        assert!(
            log.iter().any(|l| l == "data [46, 120, 13, 10, 13, 10]"),
            "{log:?}"
        );
        assert!(
            log.iter().any(|l| l.starts_with("Closed { quit_ok: true }")),
            "{log:?}"
        );
        client_session(&[&[3u8][..], server].concat());
    }
}
