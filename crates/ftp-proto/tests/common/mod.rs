//! A deterministic application for server tests: the answers depend only on
//! names, so transcripts are reproducible.
#![allow(dead_code, unreachable_pub)]

use ftp_proto::server::{DataFailure, Outcome, Request};
use ftp_proto::{Limits, ServerConfig, ServerEvent, ServerSession, Timestamp};
use std::time::{Duration, Instant};

pub const CLIENT: &str = "192.0.2.10:40000";
pub const SERVER_DATA: &str = "192.0.2.1:50000";

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
