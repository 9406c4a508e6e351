//! Fake-clock tests of every timer: the 10-minute autologout (RFC 1939
//! section 3), the failed-login delay, and the client's response timeout.

mod common;

use common::{App, config_from_directives, rfc_messages};
use pop3_proto::{ClientConfig, ClientSession, CloseReason, Credentials, Error, ServerSession, TlsMode};
use proto_core::{Secret, Session};
use std::time::{Duration, Instant};

fn drain(s: &mut impl Session) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = s.poll_transmit() {
        out.extend_from_slice(b);
        let n = b.len();
        s.advance_transmit(n);
    }
    out
}

#[test]
fn autologout_after_ten_idle_minutes_deletes_nothing() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(config_from_directives("#! tls\n"), t0);
    let mut app = App::new(rfc_messages());
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(600)));
    let t1 = t0 + Duration::from_secs(300);
    s.handle_input_at(b"USER mrose\r\nPASS tanstaaf\r\nDELE 1\r\n", t1);
    app.drive(&mut s).unwrap();
    drain(&mut s);
    // Activity restarted the timer.
    assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(600)));
    s.handle_timeout(t1 + Duration::from_secs(599));
    assert!(!s.is_closed());
    s.handle_timeout(t1 + Duration::from_secs(600));
    assert!(s.is_closed());
    app.drive(&mut s).unwrap();
    assert_eq!(app.closed, Some(CloseReason::Timeout));
    assert_eq!(app.deleted, None, "autologout must not enter UPDATE");
    assert!(drain(&mut s).is_empty(), "autologout sends nothing");
}

#[test]
fn input_without_time_postpones_the_autologout() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(config_from_directives("#! tls\n"), t0);
    s.handle_input(b"NOOP\r\n");
    let _ = s.poll_event();
    s.handle_timeout(t0 + Duration::from_secs(600));
    assert!(!s.is_closed());
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(1200)));
    s.handle_timeout(t0 + Duration::from_secs(1200));
    assert!(s.is_closed());
}

#[test]
fn failed_login_reply_is_delayed() {
    let t0 = Instant::now();
    let mut cfg = config_from_directives("#! tls\n");
    cfg.failed_login_delay = Duration::from_secs(2);
    let mut s = ServerSession::new(cfg, t0);
    let mut app = App::new(rfc_messages());
    drain(&mut s);
    let t1 = t0 + Duration::from_secs(10);
    s.handle_input_at(b"USER mrose\r\nPASS wrong\r\nUSER mrose\r\n", t1);
    app.drive(&mut s).unwrap();
    assert!(
        app.events
            .iter()
            .any(|e| e.starts_with("LoginFailed { failures: 1"))
    );
    assert_eq!(drain(&mut s), b"+OK send PASS\r\n");
    assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(2)));
    s.handle_timeout(t1 + Duration::from_secs(1));
    app.drive(&mut s).unwrap();
    assert!(drain(&mut s).is_empty(), "reply left early");
    s.handle_timeout(t1 + Duration::from_secs(2));
    app.drive(&mut s).unwrap();
    // The delayed -ERR, then the pipelined USER is answered.
    assert_eq!(
        drain(&mut s),
        b"-ERR [AUTH] invalid user name or password\r\n+OK send PASS\r\n"
    );
    assert!(matches!(
        app.events.last().map(String::as_str),
        Some(e) if e.starts_with("LoginFailed")
    ));
}

#[test]
fn client_gives_up_on_a_silent_server() {
    let t0 = Instant::now();
    let mut cfg = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("p".into())),
        ..Credentials::default()
    });
    cfg.tls = TlsMode::Implicit;
    let mut c = ClientSession::new(cfg, t0);
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(600)));
    let t1 = t0 + Duration::from_secs(5);
    c.handle_input_at(b"+OK hi\r\n", t1);
    while let Some(_ev) = c.poll_event().unwrap() {}
    assert_eq!(drain(&mut c), b"CAPA\r\n");
    assert_eq!(c.poll_timeout(), Some(t1 + Duration::from_secs(600)));
    c.handle_timeout(t1 + Duration::from_secs(600));
    assert_eq!(c.poll_event(), Err(Error::Timeout));
}

#[test]
fn pipelined_input_is_bounded_while_waiting() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(config_from_directives("#! tls\n"), t0);
    drain(&mut s);
    s.handle_input(b"USER mrose\r\nPASS tanstaaf\r\n");
    // The application has not decided the login yet; the client keeps sending.
    while let Ok(Some(ev)) = s.poll_event() {
        if format!("{ev:?}").starts_with("Login") {
            break;
        }
    }
    for _ in 0..20_000 {
        s.handle_input(b"NOOP\r\n");
    }
    assert!(s.is_closed());
    assert_eq!(
        s.poll_event(),
        Ok(Some(pop3_proto::ServerEvent::Closed(CloseReason::Error)))
    );
    assert!(matches!(s.poll_event(), Err(Error::Limit { .. })));
    assert!(drain(&mut s).ends_with(b"-ERR too much pipelined input, closing connection\r\n"));
}

// RFC 1939 section 3: "the receipt of any command from the client during
// that interval should suffice to reset the autologout timer". Any byte
// reset it, so a client that sent a command a byte at a time, each within
// the interval, held the session (and one of the server's connection
// slots) for ever. Only input that ends a line counts now.
#[test]
fn a_command_trickled_byte_by_byte_does_not_postpone_the_autologout() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(config_from_directives("#! tls\n"), t0);
    let mut now = t0;
    for &b in b"USER mrose" {
        now += Duration::from_secs(300);
        s.handle_timeout(now);
        if s.is_closed() {
            break;
        }
        s.handle_input_at(&[b], now);
        let _ = s.poll_event();
    }
    assert!(s.is_closed(), "open at {:?}", now - t0);
    assert_eq!(now - t0, Duration::from_secs(600));
    // The same without times: closed within two intervals.
    let mut s = ServerSession::new(config_from_directives("#! tls\n"), t0);
    let mut now = t0;
    for &b in b"USER mrose" {
        now += Duration::from_secs(300);
        s.handle_timeout(now);
        if s.is_closed() {
            break;
        }
        s.handle_input(&[b]);
        let _ = s.poll_event();
    }
    assert!(
        s.is_closed() && now - t0 <= Duration::from_secs(1200),
        "{:?}",
        now - t0
    );
    // A whole command every 300 s keeps the session.
    let mut s = ServerSession::new(config_from_directives("#! tls\n"), t0);
    let mut now = t0;
    for _ in 0..10 {
        now += Duration::from_secs(300);
        s.handle_timeout(now);
        s.handle_input_at(b"NOOP\r\n", now);
        let _ = s.poll_event();
        drain(&mut s);
    }
    assert!(!s.is_closed());
}
