//! Review session 23: gaps left open by earlier reviews, each test citing the
//! rule it checks. Every test here failed on the code before its fix.

use bytes::Bytes;
use pop3_proto::{AuthOutcome, Maildrop, MessageInfo, ServerConfig, ServerEvent, ServerSession, UsageError};
use proto_core::{Session, drain_transmit};
use std::time::Instant;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn info(uid: &'static [u8]) -> MessageInfo {
    MessageInfo {
        size: 10,
        uid: Bytes::from_static(uid),
    }
}

/// A server under TLS with USER and PASS given, waiting for the login decision.
fn server_at_login() -> ServerSession {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"USER u\r\nPASS p\r\n");
    while let Some(ev) = s.poll_event().unwrap() {
        if matches!(ev, ServerEvent::Login { .. }) {
            return s;
        }
    }
    panic!("no Login event");
}

// RFC 1939 7, UIDL: the unique-id "uniquely identifies a message within a
// maildrop and ... persists across sessions". A client that keeps the ids
// it has fetched skips (and in "delete known" mode deletes) a message whose
// id it knows, so a listing that gives two messages one id makes it skip or
// delete one it never downloaded. The session already refused an id of the
// wrong syntax; it took a maildrop with two messages of one id and listed
// both.
#[test]
fn a_maildrop_with_a_repeated_unique_id_is_refused() {
    let mut s = server_at_login();
    let dup = Maildrop {
        messages: vec![info(b"one"), info(b"two"), info(b"one")],
    };
    assert_eq!(
        s.auth_finish(AuthOutcome::Success(dup)),
        Err(UsageError::InvalidMaildrop("unique id"))
    );
    assert!(!s.is_authenticated());
    // The login is still waiting: a valid listing goes through.
    let ok = Maildrop {
        messages: vec![info(b"one"), info(b"two"), info(b"One")],
    };
    s.auth_finish(AuthOutcome::Success(ok)).unwrap();
    assert!(s.is_authenticated());
    s.handle_input(b"UIDL\r\n");
    while s.poll_event().unwrap().is_some() {}
    let out = text(&drain_transmit(&mut s));
    assert!(out.ends_with("1 one\r\n2 two\r\n3 One\r\n.\r\n"), "{out}");
}
