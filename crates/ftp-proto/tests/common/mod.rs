//! A deterministic application for server tests: the answers depend only on
//! names, so transcripts are reproducible.
#![allow(dead_code, unreachable_pub)]

use ftp_proto::client::ClientTls;
use ftp_proto::server::{DataFailure, Outcome, Request};
use ftp_proto::{
    ClientConfig, ClientEvent, ClientSession, Limits, ServerConfig, ServerEvent, ServerSession, Timestamp,
};
use proto_core::{Secret, drain_transmit};
use std::time::{Duration, Instant};

pub const CLIENT: &str = "192.0.2.10:40000";
pub const SERVER_DATA: &str = "192.0.2.1:50000";

/// Everything the server has to send, as text.
pub fn sent(s: &mut ServerSession) -> String {
    let mut out = Vec::new();
    while let Some(b) = s.poll_transmit() {
        out.extend_from_slice(b);
        let n = b.len();
        s.advance_transmit(n);
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn server_config() -> ServerConfig {
    ServerConfig {
        limits: Limits {
            failed_login_delay: Duration::ZERO,
            ..Limits::default()
        },
        allow_anonymous: true,
        ..ServerConfig::default()
    }
}

pub fn new_server(now: Instant) -> ServerSession {
    ServerSession::new(server_config(), CLIENT.parse().unwrap(), now)
}

pub fn ts() -> Timestamp {
    Timestamp::new(2024, 1, 2, 3, 4, 5).unwrap()
}

/// Answers one event the way the test application does.
pub fn answer(s: &mut ServerSession, ev: &ServerEvent, now: Instant) {
    let r = match ev {
        ServerEvent::Login { anonymous: true, .. } => s.login_accept(),
        ServerEvent::Login { user, password, .. } => match (&user[..], password.expose().as_slice()) {
            (b"alice", b"secret") => s.login_accept(),
            (b"bob", b"hunter2") => s.login_need_account(),
            _ => s.login_reject(now),
        },
        ServerEvent::Account { account, .. } => {
            if &account[..] == b"acct1" {
                s.login_accept()
            } else {
                s.login_reject(now)
            }
        }
        ServerEvent::StartTls => s.tls_established(),
        ServerEvent::Request(req) => {
            let missing = |p: &[u8]| p.ends_with(b"missing");
            let outcome = match req {
                Request::ChangeDir(p) if p.starts_with(b"/secret") => Outcome::Denied,
                Request::ChangeDir(p)
                | Request::RemoveDir(p)
                | Request::Delete(p)
                | Request::RenameFrom(p)
                | Request::Size { path: p, .. }
                | Request::ModTime(p)
                    if missing(p) =>
                {
                    Outcome::NotFound
                }
                Request::Size { .. } => Outcome::Size(1234),
                Request::ModTime(_) => Outcome::Time(ts()),
                Request::Mlst { path, .. } => {
                    let mut l = b"type=file;size=1234;modify=20240102030405; ".to_vec();
                    l.extend_from_slice(path);
                    Outcome::Lines(vec![l])
                }
                Request::Stat(_) => {
                    Outcome::Lines(vec![b"-rw-r--r-- 1 ftp ftp 1234 Jan 02  2024 file".to_vec()])
                }
                Request::Site(args) if args.starts_with(b"CHMOD") => {
                    Outcome::Reply(200, b"SITE CHMOD ok".to_vec())
                }
                Request::Site(_) => Outcome::Failed(502, b"SITE command not implemented".to_vec()),
                Request::Host(h) if &h[..] != b"ftp.example.test" => {
                    Outcome::Failed(504, b"Unknown host".to_vec())
                }
                _ => Outcome::Ok,
            };
            s.complete(outcome)
        }
        ServerEvent::PassiveListen { .. } => s.passive_ready(SERVER_DATA.parse().unwrap()),
        ServerEvent::OpenDataChannel { transfer, .. } => {
            let p = transfer.path.as_deref().unwrap_or_default();
            if p.ends_with(b"missing") {
                s.data_failed(transfer.id, DataFailure::Unavailable)
            } else if p.ends_with(b"noconn") {
                s.data_failed(transfer.id, DataFailure::Connect)
            } else if p.ends_with(b"lost") {
                s.data_connected(transfer.id)
                    .and_then(|()| s.data_failed(transfer.id, DataFailure::Lost))
            } else if p.ends_with(b"slow") {
                s.data_connected(transfer.id)
            } else {
                s.data_connected(transfer.id)
                    .and_then(|()| s.data_finished(transfer.id, 100))
            }
        }
        _ => Ok(()),
    };
    r.unwrap();
}

/// Drains the server: events answered, returns the bytes it sent.
pub fn drain(s: &mut ServerSession, now: Instant, log: &mut Vec<String>) -> Vec<u8> {
    loop {
        match s.poll_event() {
            Ok(Some(ev)) => {
                log.push(format!("{ev:?}"));
                answer(s, &ev, now);
            }
            Ok(None) => break,
            Err(e) => {
                log.push(format!("error {e:?}"));
                break;
            }
        }
    }
    let mut out = Vec::new();
    while let Some(b) = s.poll_transmit() {
        out.extend_from_slice(b);
        let n = b.len();
        s.advance_transmit(n);
    }
    out
}

// ----- shared by the review tests: sessions brought to a logged-in state -----

/// Every event the client has ready.
pub fn client_events(c: &mut ClientSession) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event().unwrap()).collect()
}

/// Feeds one line to the server and returns its next event.
pub fn server_event(s: &mut ServerSession, line: &[u8]) -> Option<ServerEvent> {
    s.handle_input(line);
    s.poll_event().unwrap()
}

/// A plain (no TLS) client logging in as alice/secret, with an optional ACCT.
pub fn alice(account: Option<&[u8]>) -> ClientConfig {
    ClientConfig {
        user: b"alice".to_vec(),
        password: Secret::new(b"secret".to_vec()),
        account: account.map(<[u8]>::to_vec),
        tls: ClientTls::Never,
        ..ClientConfig::default()
    }
}

/// A client with `config` (user alice, password secret) taken through the
/// greeting, FEAT (EPSV only) and USER/PASS, its `LoggedIn` event read.
pub fn logged_in_client_with(config: ClientConfig, now: Instant) -> ClientSession {
    let mut c = ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\n");
    c.handle_input(b"211-Features:\r\n EPSV\r\n211 End\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"USER alice\r\n");
    c.handle_input(b"331 pw\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"PASS secret\r\n");
    c.handle_input(b"230 ok\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::LoggedIn]);
    c
}

/// [`logged_in_client_with`] for [`alice`] without an account.
pub fn logged_in_client(now: Instant) -> ClientSession {
    logged_in_client_with(alice(None), now)
}

/// A server with `config` after an anonymous login, its replies drained.
pub fn logged_in_server_with(config: ServerConfig, now: Instant) -> ServerSession {
    let mut s = ServerSession::new(config, CLIENT.parse().unwrap(), now);
    s.handle_input(b"USER anonymous\r\nPASS a@b\r\n");
    let mut log = Vec::new();
    drain(&mut s, now, &mut log);
    assert!(s.user().is_some(), "{log:?}");
    drain_transmit(&mut s);
    s
}

/// [`logged_in_server_with`] the default test configuration.
pub fn logged_in_server(now: Instant) -> ServerSession {
    logged_in_server_with(server_config(), now)
}
