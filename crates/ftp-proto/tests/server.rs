//! Server-session behaviour that transcripts cannot show: security checks,
//! timers on a fake clock, TLS states, data-channel ordering, usage errors.

mod common;
use common::sent;

use ftp_proto::server::{DataFailure, DataMode, Outcome, TlsPolicy, TransferKind};
use ftp_proto::{ErrorKind, Limits, ServerConfig, ServerEvent, ServerSession};
use std::time::{Duration, Instant};

fn login(s: &mut ServerSession) {
    s.handle_input(b"USER alice\r\nPASS secret\r\n");
    let Some(ServerEvent::Login { .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.login_accept().unwrap();
    assert!(sent(s).ends_with("230 Login successful\r\n"));
}

fn server_with(config: ServerConfig, now: Instant) -> ServerSession {
    let mut s = ServerSession::new(config, common::CLIENT.parse().unwrap(), now);
    assert_eq!(sent(&mut s), "220 FTP server ready\r\n");
    s
}

#[test]
fn pasv_theft_is_refused_and_the_transfer_keeps_waiting() {
    let now = Instant::now();
    let mut s = server_with(common::server_config(), now);
    login(&mut s);
    s.handle_input(b"PASV\r\nRETR f\r\n");
    assert_eq!(
        s.poll_event().unwrap(),
        Some(ServerEvent::PassiveListen { extended: false })
    );
    s.passive_ready("192.0.2.1:50000".parse().unwrap()).unwrap();
    let Some(ServerEvent::OpenDataChannel { mode, transfer }) = s.poll_event().unwrap() else {
        panic!()
    };
    assert_eq!(mode, DataMode::Passive);
    // A thief connects first: refused; the real client then connects.
    assert!(!s.accept_data_peer("203.0.113.66:41000".parse().unwrap()));
    assert!(s.accept_data_peer("192.0.2.10:41001".parse().unwrap()));
    assert!(s.accept_data_peer("[::ffff:192.0.2.10]:41001".parse().unwrap()));
    s.data_connected(transfer.id).unwrap();
    s.data_finished(transfer.id, 3).unwrap();
    assert!(
        sent(&mut s)
            .ends_with("150 Opening ASCII mode data connection\r\n226 Transfer complete (3 bytes)\r\n")
    );
    let lax = server_with(
        ServerConfig {
            allow_foreign_passive: true,
            ..common::server_config()
        },
        now,
    );
    assert!(lax.accept_data_peer("203.0.113.66:41000".parse().unwrap()));
}

#[test]
fn bounce_rules_can_be_relaxed_by_configuration() {
    let now = Instant::now();
    let config = ServerConfig {
        allow_foreign_active: true,
        allow_low_active_ports: true,
        ..common::server_config()
    };
    let mut s = server_with(config, now);
    login(&mut s);
    s.handle_input(b"PORT 203,0,113,5,0,20\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "200 PORT command successful\r\n");
    assert_eq!(
        s.data_mode(),
        Some(DataMode::Active("203.0.113.5:20".parse().unwrap()))
    );
}

#[test]
fn failed_login_delay_holds_the_reply_and_the_next_commands() {
    let t0 = Instant::now();
    let config = ServerConfig {
        limits: Limits {
            failed_login_delay: Duration::from_secs(2),
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let mut s = server_with(config, t0);
    s.handle_input(b"USER alice\r\nPASS wrong\r\nNOOP\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
    s.login_reject(t0).unwrap();
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "331 Password required\r\n");
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(2)));
    s.handle_timeout(t0 + Duration::from_secs(1));
    assert_eq!(sent(&mut s), "");
    s.handle_timeout(t0 + Duration::from_secs(2));
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "530 Login incorrect\r\n200 NOOP ok\r\n");
}

#[test]
fn failed_login_limit_closes_with_421() {
    let now = Instant::now();
    let mut s = server_with(common::server_config(), now);
    for i in 0..3 {
        s.handle_input(b"USER alice\r\nPASS wrong\r\n");
        assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
        s.login_reject(now).unwrap();
        if i < 2 {
            assert!(sent(&mut s).ends_with("530 Login incorrect\r\n"));
        }
    }
    let err = s.poll_event().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Limit);
    assert!(sent(&mut s).ends_with("421 Too many failed logins, closing control connection\r\n"));
    assert!(s.is_closed());
    s.handle_input(b"NOOP\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
}

#[test]
fn idle_timeout_on_a_fake_clock() {
    let t0 = Instant::now();
    let mut s = server_with(ServerConfig::default(), t0);
    let idle = Limits::default().idle_timeout;
    assert_eq!(s.poll_timeout(), Some(t0 + idle));
    // Activity since the deadline was armed: it restarts instead of firing.
    s.handle_input(b"NOOP\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    s.handle_timeout(t0 + idle);
    assert_eq!(sent(&mut s), "200 NOOP ok\r\n");
    assert_eq!(s.poll_timeout(), Some(t0 + idle + idle));
    s.handle_timeout(t0 + idle + idle);
    assert_eq!(sent(&mut s), "421 Timeout: closing control connection\r\n");
    assert_eq!(s.poll_event().unwrap_err().kind, ErrorKind::Timeout);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn tls_handshake_drops_input_and_required_policy() {
    let now = Instant::now();
    let config = ServerConfig {
        tls: TlsPolicy::Required,
        ..common::server_config()
    };
    let mut s = server_with(config, now);
    s.handle_input(b"USER alice\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "530 TLS required: use AUTH TLS first\r\n");
    s.handle_input(b"AUTH TLS\r\n");
    assert_eq!(s.poll_event().unwrap(), Some(ServerEvent::StartTls));
    assert_eq!(sent(&mut s), "234 AUTH TLS successful\r\n");
    // Bytes that arrive before the handshake completes are dropped.
    s.handle_input(b"USER evil\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    s.tls_established().unwrap();
    assert!(s.is_tls());
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "");
    login(&mut s);
    s.handle_input(b"PASV\r\n");
    assert!(s.poll_event().unwrap().is_some());
    s.passive_ready("192.0.2.1:50000".parse().unwrap()).unwrap();
    s.handle_input(b"RETR f\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(sent(&mut s).ends_with("521 Data connections must be protected: use PROT P\r\n"));
    s.handle_input(b"PBSZ 0\r\nPROT P\r\nEPSV\r\n");
    assert!(s.poll_event().unwrap().is_some());
    s.passive_ready("192.0.2.1:50000".parse().unwrap()).unwrap();
    s.handle_input(b"RETR f\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    assert!(transfer.protected);
}

#[test]
fn tls_unavailable_and_failed_handshake() {
    let now = Instant::now();
    let mut s = server_with(
        ServerConfig {
            tls: TlsPolicy::Unavailable,
            ..common::server_config()
        },
        now,
    );
    s.handle_input(b"AUTH TLS\r\nFEAT\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    let out = sent(&mut s);
    assert!(out.starts_with("431 TLS not available\r\n211-Features:\r\n"));
    assert!(!out.contains("AUTH TLS\r\n"));
    let mut s = server_with(common::server_config(), now);
    s.handle_input(b"AUTH TLS\r\n");
    assert_eq!(s.poll_event().unwrap(), Some(ServerEvent::StartTls));
    s.tls_failed();
    assert_eq!(s.poll_event().unwrap_err().kind, ErrorKind::Protocol);
}

#[test]
fn rest_and_list_options_reach_the_transfer() {
    let now = Instant::now();
    let mut s = server_with(common::server_config(), now);
    login(&mut s);
    s.handle_input(b"CWD /pub\r\n");
    assert!(s.poll_event().unwrap().is_some());
    s.complete(Outcome::Ok).unwrap();
    s.handle_input(b"TYPE I\r\nREST 4096\r\nPORT 192,0,2,10,200,1\r\nRETR ../a file\r\n");
    let Some(ServerEvent::OpenDataChannel { mode, transfer }) = s.poll_event().unwrap() else {
        panic!()
    };
    assert_eq!(mode, DataMode::Active("192.0.2.10:51201".parse().unwrap()));
    assert_eq!(
        (transfer.kind, transfer.offset, transfer.ascii),
        (TransferKind::Retrieve, 4096, false)
    );
    assert_eq!(transfer.path.as_deref(), Some(&b"/a file"[..]));
    s.data_failed(transfer.id, DataFailure::Connect).unwrap();
    s.handle_input(b"EPRT |1|192.0.2.10|50000|\r\nLIST -la sub dir\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    assert_eq!(transfer.options.as_deref(), Some(&b"-la"[..]));
    assert_eq!(transfer.path.as_deref(), Some(&b"/pub/sub dir"[..]));
    assert_eq!(transfer.offset, 0);
    assert!(transfer.ascii);
    // ABOR before the data connection opened: 426 then 226; late reports are refused.
    s.handle_input(b"ABOR\r\n");
    assert_eq!(
        s.poll_event().unwrap(),
        Some(ServerEvent::AbortTransfer(transfer.id))
    );
    assert!(s.data_connected(transfer.id).is_err());
    assert!(s.data_finished(transfer.id, 1).is_err());
    assert!(sent(&mut s).ends_with("426 Connection closed; transfer aborted\r\n226 Abort successful\r\n"));
}

#[test]
fn finished_without_connected_still_sends_150_first() {
    let now = Instant::now();
    let mut s = server_with(common::server_config(), now);
    login(&mut s);
    s.handle_input(b"EPSV\r\n");
    assert!(s.poll_event().unwrap().is_some());
    s.passive_ready("[2001:db8::1]:50000".parse().unwrap()).unwrap();
    s.handle_input(b"STOR x\r\n");
    let Some(ServerEvent::OpenDataChannel { mode, transfer }) = s.poll_event().unwrap() else {
        panic!()
    };
    assert_eq!(mode, DataMode::ExtendedPassive);
    s.data_finished(transfer.id, 0).unwrap();
    let out = sent(&mut s);
    assert!(out.ends_with("229 Entering Extended Passive Mode (|||50000|)\r\n150 Opening ASCII mode data connection\r\n226 Transfer complete (0 bytes)\r\n"), "{out}");
    // A reused data connection is announced with 125.
    s.handle_input(b"EPSV\r\n");
    assert!(s.poll_event().unwrap().is_some());
    s.passive_ready("192.0.2.1:50000".parse().unwrap()).unwrap();
    let _ = sent(&mut s);
    s.handle_input(b"NLST\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.data_reused(transfer.id).unwrap();
    assert!(s.data_reused(transfer.id).is_err());
    s.data_finished(transfer.id, 9).unwrap();
    assert_eq!(
        sent(&mut s),
        "125 Data connection already open; transfer starting\r\n226 Transfer complete (9 bytes)\r\n"
    );
    // PASV cannot describe an IPv6 listener.
    s.handle_input(b"PASV\r\n");
    assert!(s.poll_event().unwrap().is_some());
    s.passive_ready("[2001:db8::1]:50000".parse().unwrap()).unwrap();
    assert_eq!(sent(&mut s), "425 PASV needs IPv4, use EPSV\r\n");
    s.handle_input(b"PASV\r\n");
    assert!(s.poll_event().unwrap().is_some());
    s.passive_failed().unwrap();
    assert_eq!(sent(&mut s), "425 Cannot open passive connection\r\n");
}

#[test]
fn usage_errors_and_bad_outcomes() {
    let now = Instant::now();
    let mut s = server_with(common::server_config(), now);
    assert!(s.login_accept().is_err());
    assert!(s.complete(Outcome::Ok).is_err());
    assert!(s.passive_ready("192.0.2.1:1".parse().unwrap()).is_err());
    assert!(s.tls_established().is_err());
    login(&mut s);
    s.handle_input(b"SIZE f\r\n");
    assert!(s.poll_event().unwrap().is_some());
    assert!(s.complete(Outcome::Time(common::ts())).is_err());
    assert!(s.complete(Outcome::Ok).is_err());
    s.complete(Outcome::Failed(200, b"bad code becomes 550".to_vec()))
        .unwrap();
    assert_eq!(sent(&mut s), "550 bad code becomes 550\r\n");
    s.handle_input(b"SITE X\r\n");
    assert!(s.poll_event().unwrap().is_some());
    // Reply text with a line break is never sent as is.
    s.complete(Outcome::Reply(200, b"ok\r\n230 injected".to_vec()))
        .unwrap();
    assert_eq!(
        sent(&mut s),
        "200 (reply text withheld: it held a line break)\r\n"
    );
}

#[test]
fn line_limits_and_named_leniencies() {
    let now = Instant::now();
    let config = ServerConfig {
        limits: Limits {
            line: 16,
            ..Limits::default()
        },
        ..common::server_config()
    };
    let mut s = server_with(config, now);
    s.handle_input(b"NOOP aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nNOOP\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "500 Command line too long\r\n200 NOOP ok\r\n");
    let mut lenient = server_with(
        ServerConfig {
            accept_bare_lf: true,
            ..common::server_config()
        },
        now,
    );
    lenient.handle_input(b"NOOP\n");
    assert_eq!(lenient.poll_event().unwrap(), None);
    assert_eq!(sent(&mut lenient), "200 NOOP ok\r\n");
    let mut raw = server_with(
        ServerConfig {
            strip_telnet: false,
            ..common::server_config()
        },
        now,
    );
    raw.handle_input(b"\xff\xf4\xff\xf2ABOR\r\nNO\xff\xffOP\r\n");
    assert_eq!(raw.poll_event().unwrap(), None);
    assert_eq!(
        sent(&mut raw),
        "500 Syntax error, command unrecognized\r\n500 Syntax error, command unrecognized\r\n"
    );
    // With stripping (the default), IAC IAC is one 0xFF byte and IAC DO x
    // vanishes from the line, refused with IAC WONT x (RFC 1123 4.1.2.12).
    let mut s = server_with(common::server_config(), now);
    s.handle_input(b"NO\xff\xfd\x01OP\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(s.poll_transmit(), Some(&b"\xff\xfc\x01200 NOOP ok\r\n"[..]));
}

#[test]
fn quit_closes_and_eof_stops() {
    let now = Instant::now();
    let mut s = server_with(common::server_config(), now);
    s.handle_input(b"QUIT\r\nNOOP\r\n");
    assert_eq!(
        s.poll_event().unwrap(),
        Some(ServerEvent::Closed(ftp_proto::server::CloseReason::Quit))
    );
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "221 Goodbye\r\n");
    let mut s = server_with(common::server_config(), now);
    s.handle_eof();
    assert!(s.is_closed());
}
