//! Review session 27: an adversarial pass over the codec and both sessions,
//! each test citing the rule it checks. Every test here failed on the code
//! before its fix.

use bytes::Bytes;
use pop3_proto::{Command, CommandError, ServerConfig, ServerEvent, ServerSession};
use proto_core::{Session, drain_transmit};
use std::time::Instant;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A server under TLS (so USER/PASS are offered), greeting drained.
fn tls_server() -> ServerSession {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s
}

/// Feeds `input`, drains every event, returns (events, output as text).
fn run(s: &mut ServerSession, input: &[u8]) -> (Vec<ServerEvent>, String) {
    s.handle_input(input);
    let mut evs = Vec::new();
    while let Some(ev) = s.poll_event().unwrap() {
        evs.push(ev);
    }
    (evs, text(&drain_transmit(s)))
}

// RFC 2449 section 3: `param = 1*VCHAR`, and RFC 1939 section 7 widens
// PASS only to spaces. A NUL is no part of any command, and the encoder
// already refuses one (DESIGN.md: CR, LF or NUL in an argument). The
// parser took "USER alice\0admin" and "PASS pw\0x" and handed them to the
// application as a login, where NUL is the field separator of SASL PLAIN
// (RFC 4616 section 2): an application that checks USER/PASS through a
// PLAIN back end could be handed an authorization identity the client
// chose. Parse and encode now agree: such a line is a syntax error.
#[test]
fn nul_in_user_or_pass_is_a_syntax_error() {
    for line in [&b"USER alice\0admin"[..], b"PASS pw\0x", b"PASS \0", b"USER \0"] {
        let parsed = Command::parse(&Bytes::copy_from_slice(line));
        assert!(
            matches!(parsed, Err(CommandError::Syntax { .. })),
            "{}: {parsed:?}",
            text(line)
        );
    }
    let mut s = tls_server();
    let (evs, out) = run(&mut s, b"USER alice\0admin\r\nPASS pw\r\n");
    assert!(evs.is_empty(), "{evs:?}");
    assert!(out.starts_with("-ERR") && !out.contains("+OK"), "{out}");
    let (evs, out) = run(&mut s, b"USER alice\r\nPASS pw\0x\r\n");
    assert!(evs.is_empty(), "{evs:?}");
    assert_eq!(out.lines().filter(|l| l.starts_with("-ERR")).count(), 1, "{out}");
    // Spaces and tabs in a password are still the password (RFC 1939 7).
    let (evs, _) = run(&mut s, b"USER alice\r\nPASS a b\tc\r\n");
    assert!(
        matches!(&evs[..], [ServerEvent::Login { password, .. }] if password.expose() == b"a b\tc"),
        "{evs:?}"
    );
}
