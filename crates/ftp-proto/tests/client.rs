//! Client-session behaviour against scripted server replies: fallbacks,
//! reply orderings, ABOR, TLS policy, timeouts and malformed replies.

use ftp_proto::client::{ClientEvent, ClientTls, DataTarget};
use ftp_proto::{ClientConfig, ClientSession, ErrorKind, Limits};
use proto_core::Secret;
use std::time::{Duration, Instant};

fn sent(c: &mut ClientSession) -> String {
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit() {
        out.extend_from_slice(b);
        let n = b.len();
        c.advance_transmit(n);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn events(c: &mut ClientSession) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event().unwrap()).collect()
}

fn config() -> ClientConfig {
    ClientConfig {
        user: b"alice".to_vec(),
        password: Secret::new(b"secret".to_vec()),
        tls: ClientTls::Never,
        ..ClientConfig::default()
    }
}

/// A client that is logged in (plain), with the FEAT reply given.
fn logged_in(config: ClientConfig, now: Instant) -> ClientSession {
    let mut c = ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "FEAT\r\n");
    c.handle_input(b"211-Features:\r\n EPSV\r\n UTF8\r\n211 End\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "USER alice\r\n");
    c.handle_input(b"331 pw\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "PASS secret\r\n");
    c.handle_input(b"230 ok\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::LoggedIn]);
    assert!(c.features().has("utf8"));
    c
}

#[test]
fn epsv_refused_falls_back_to_pasv_and_ignores_the_pasv_host() {
    let now = Instant::now();
    let mut c = logged_in(config(), now);
    let id = c.retr(b"a file", 0).unwrap();
    assert_eq!(sent(&mut c), "TYPE I\r\n");
    c.handle_input(b"200 ok\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "EPSV\r\n");
    c.handle_input(b"502 no EPSV\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "PASV\r\n");
    c.handle_input(b"227 Entering Passive Mode (10,0,0,5,4,1)\r\n");
    let ev = events(&mut c);
    assert!(
        matches!(ev[0], ClientEvent::OpenDataChannel { target: DataTarget::Connect(a), .. } if a == "203.0.113.1:1025".parse().unwrap())
    );
    assert_eq!(sent(&mut c), "RETR a file\r\n");
    // 226 before the data connection closed: complete only when both happened.
    c.handle_input(b"150 go\r\n226 done\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::TransferStarted(id)]);
    assert!(!c.is_ready());
    c.data_closed(id).unwrap();
    assert!(matches!(&events(&mut c)[..], [ClientEvent::TransferComplete { id: i, .. }] if *i == id));
    // The next transfer goes straight to PASV; TYPE I is remembered.
    c.nlst(None).unwrap();
    assert_eq!(sent(&mut c), "TYPE A\r\n");
    c.handle_input(b"200 ok\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "PASV\r\n");
}

#[test]
fn pasv_host_used_when_configured() {
    let now = Instant::now();
    let mut c = logged_in(
        ClientConfig {
            use_pasv_host: true,
            extended: false,
            ..config()
        },
        now,
    );
    c.list(Some(b"-la")).unwrap();
    assert_eq!(sent(&mut c), "TYPE A\r\n");
    c.handle_input(b"200 ok\r\n227 =10,0,0,5,4,1\r\n");
    let ev = events(&mut c);
    assert!(
        matches!(ev[0], ClientEvent::OpenDataChannel { target: DataTarget::Connect(a), ascii: true, .. } if a == "10.0.0.5:1025".parse().unwrap())
    );
    assert_eq!(sent(&mut c), "PASV\r\nLIST -la\r\n");
}

#[test]
fn completion_without_150_and_close_before_reply() {
    let now = Instant::now();
    let mut c = logged_in(config(), now);
    let id = c.mlsd(None).unwrap();
    c.handle_input(b"200 ok\r\n229 (|||6000|)\r\n");
    let _ = events(&mut c);
    assert_eq!(sent(&mut c), "TYPE A\r\nEPSV\r\nMLSD\r\n");
    c.data_closed(id).unwrap();
    assert!(events(&mut c).is_empty());
    // A 2xx with no 150 before it.
    c.handle_input(b"226 empty\r\n");
    assert!(
        matches!(&events(&mut c)[..], [ClientEvent::TransferComplete { reply, .. }] if reply.code == 226)
    );
    assert!(c.is_ready());
}

#[test]
fn resume_sends_rest_and_abort_collects_two_replies() {
    let now = Instant::now();
    let mut c = logged_in(config(), now);
    let id = c.retr(b"big", 1000).unwrap();
    c.handle_input(b"200 ok\r\n229 (|||6000|)\r\n");
    let _ = events(&mut c);
    assert_eq!(sent(&mut c), "TYPE I\r\nEPSV\r\nREST 1000\r\n");
    c.handle_input(b"350 restarting\r\n150 go\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::TransferStarted(id)]);
    assert_eq!(sent(&mut c), "RETR big\r\n");
    c.abort().unwrap();
    assert!(c.abort().is_err());
    assert_eq!(sent(&mut c), "ABOR\r\n");
    c.handle_input(b"426 aborted\r\n");
    assert!(events(&mut c).is_empty());
    c.handle_input(b"226 abort ok\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::Aborted(id)]);
    assert!(c.is_ready());
    // REST refused: the transfer fails with that reply.
    let id = c.stor(b"x", 5).unwrap();
    c.handle_input(b"229 (|||6000|)\r\n502 no REST\r\n");
    let ev = events(&mut c);
    assert!(matches!(&ev[1], ClientEvent::TransferFailed { id: i, reply } if *i == id && reply.code == 502));
}

#[test]
fn active_mode_eprt_falls_back_to_port() {
    let now = Instant::now();
    let mut c = logged_in(
        ClientConfig {
            passive: false,
            ..config()
        },
        now,
    );
    let id = c.stor(b"up", 0).unwrap();
    c.handle_input(b"200 ok\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::Listen(id)]);
    c.data_listening(id, "198.51.100.7:50001".parse().unwrap())
        .unwrap();
    assert_eq!(sent(&mut c), "TYPE I\r\nEPRT |1|198.51.100.7|50001|\r\n");
    c.handle_input(b"500 what\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "PORT 198,51,100,7,195,81\r\n");
    c.handle_input(b"200 ok\r\n");
    assert!(matches!(
        events(&mut c)[0],
        ClientEvent::OpenDataChannel {
            target: DataTarget::Accept,
            ..
        }
    ));
    assert_eq!(sent(&mut c), "STOR up\r\n");
}

#[test]
fn simple_operations_and_their_results() {
    let now = Instant::now();
    let mut c = logged_in(config(), now);
    c.pwd().unwrap();
    assert!(c.cwd(b"x").is_err(), "busy");
    c.handle_input(b"257 \"/a \"\"q\"\"\" is cwd\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::Pwd(b"/a \"q\"".to_vec())]);
    // SIZE is asked in TYPE I, the type files move in (RFC 3659 4).
    c.size(b"f").unwrap();
    c.handle_input(b"200 ok\r\n213 77\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::Size(77)]);
    c.mdtm(b"f").unwrap();
    c.handle_input(b"213 20240102030405\r\n");
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::Modified(
            ftp_proto::Timestamp::new(2024, 1, 2, 3, 4, 5).unwrap()
        )]
    );
    c.mlst(Some(b"f")).unwrap();
    c.handle_input(b"250-Listing f\r\n type=file;size=3; f\r\n250 End\r\n");
    assert_eq!(
        events(&mut c),
        vec![ClientEvent::MlstEntry(b"type=file;size=3; f".to_vec())]
    );
    c.rename(b"a", b"b").unwrap();
    c.handle_input(b"350 ok\r\n250 renamed\r\n");
    assert!(matches!(&events(&mut c)[..], [ClientEvent::Done { .. }]));
    c.delete(b"nope").unwrap();
    c.handle_input(b"550 no\r\n");
    assert!(matches!(&events(&mut c)[..], [ClientEvent::Failed { reply, .. }] if reply.code == 550));
    assert_eq!(
        sent(&mut c),
        "PWD\r\nTYPE I\r\nSIZE f\r\nMDTM f\r\nMLST f\r\nRNFR a\r\nRNTO b\r\nDELE nope\r\n"
    );
    // Injection attempts never reach the wire.
    assert!(c.delete(b"x\r\nDELE y").is_err());
    assert!(c.retr(b"x\ny", 0).is_err());
    assert_eq!(sent(&mut c), "");
    // An unsolicited 421 closes.
    c.handle_input(b"421 bye\r\n");
    assert!(matches!(&events(&mut c)[..], [ClientEvent::Closed(r)] if r.code == 421));
    assert!(c.is_closed());
}

#[test]
fn tls_offered_and_required() {
    let now = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig {
            tls: ClientTls::IfOffered,
            ..config()
        },
        "203.0.113.1:21".parse().unwrap(),
        now,
    );
    c.handle_input(b"220 hi\r\n211-Features:\r\n AUTH TLS;SSL\r\n211 End\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "FEAT\r\nAUTH TLS\r\n");
    // Plaintext after 234 is dropped.
    c.handle_input(b"234 go\r\n230 injected\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::StartTls]);
    c.tls_established().unwrap();
    // FEAT again over TLS (the plaintext list is forgotten), then USER.
    assert_eq!(sent(&mut c), "FEAT\r\n");
    c.handle_input(b"211-Features:\r\n AUTH TLS;SSL\r\n UTF8\r\n211 End\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "USER alice\r\n");
    assert!(c.features().has("utf8"));
    c.handle_input(b"230 no password needed\r\n200 PBSZ=0\r\n200 PROT P\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::LoggedIn]);
    assert_eq!(sent(&mut c), "PBSZ 0\r\nPROT P\r\n");
    assert!(c.is_tls());
    let mut r = ClientSession::new(
        ClientConfig {
            tls: ClientTls::Required,
            ..config()
        },
        "203.0.113.1:21".parse().unwrap(),
        now,
    );
    r.handle_input(b"220 hi\r\n500 FEAT?\r\n");
    assert!(events(&mut r).is_empty());
    assert_eq!(sent(&mut r), "FEAT\r\nAUTH TLS\r\n");
    r.handle_input(b"502 no TLS here\r\n");
    assert!(matches!(&events(&mut r)[..], [ClientEvent::LoginFailed(reply)] if reply.code == 502));
    assert!(r.is_closed());
}

#[test]
fn account_and_login_failure() {
    let now = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig {
            account: Some(b"acct".to_vec()),
            ..config()
        },
        "203.0.113.1:21".parse().unwrap(),
        now,
    );
    c.handle_input(b"220 hi\r\n502 no FEAT\r\n331 pw\r\n332 account\r\n230 in\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::LoggedIn]);
    assert_eq!(sent(&mut c), "FEAT\r\nUSER alice\r\nPASS secret\r\nACCT acct\r\n");
    let mut c = ClientSession::new(config(), "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n502 no FEAT\r\n331 pw\r\n530 wrong\r\n");
    assert!(matches!(&events(&mut c)[..], [ClientEvent::LoginFailed(r)] if r.code == 530));
}

#[test]
fn reply_timeout_on_a_fake_clock() {
    let t0 = Instant::now();
    let limit = Duration::from_secs(10);
    let mut c = ClientSession::new(
        ClientConfig {
            limits: Limits {
                reply_timeout: limit,
                ..Limits::default()
            },
            ..config()
        },
        "203.0.113.1:21".parse().unwrap(),
        t0,
    );
    assert_eq!(c.poll_timeout(), Some(t0 + limit));
    c.handle_input(b"220 hi\r\n");
    assert!(events(&mut c).is_empty());
    // A reply arrived since: the deadline restarts.
    c.handle_timeout(t0 + limit);
    assert_eq!(c.poll_timeout(), Some(t0 + limit + limit));
    c.handle_timeout(t0 + limit + limit);
    assert_eq!(c.poll_event().unwrap_err().kind, ErrorKind::Timeout);
}

#[test]
fn malformed_and_oversized_replies_are_fatal() {
    let now = Instant::now();
    let mut c = ClientSession::new(config(), "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"HTTP/1.1 400 Bad\r\n");
    assert_eq!(c.poll_event().unwrap_err().kind, ErrorKind::Protocol);
    let mut c = ClientSession::new(
        ClientConfig {
            limits: Limits {
                reply: 64,
                ..Limits::default()
            },
            ..config()
        },
        "203.0.113.1:21".parse().unwrap(),
        now,
    );
    // A multi-line reply past the limit is cut, not fatal (RFC 1123
    // 4.1.2.11: the excess lines are ignored up to the reply's end) ...
    c.handle_input(b"220-hello\r\n");
    for _ in 0..10 {
        c.handle_input(b"more lines of greeting\r\n");
    }
    assert_eq!(c.poll_event().unwrap(), None);
    c.handle_input(b"220 welcome\r\n");
    assert_eq!(c.poll_event().unwrap(), None);
    assert_eq!(sent(&mut c), "FEAT\r\n");
    // ... but one line past it is.
    c.handle_input(b"211 ");
    c.handle_input(&[b'a'; 100]);
    assert_eq!(c.poll_event().unwrap_err().kind, ErrorKind::Limit);
    let mut c = ClientSession::new(config(), "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n");
    let _ = events(&mut c);
    c.handle_eof();
    assert_eq!(c.poll_event().unwrap_err().kind, ErrorKind::UnexpectedEof);
}
