//! Review session 20: gaps left open by review 19, each test citing the rule
//! it checks. Every test here failed on the code before its fix (some at
//! compile time, where the fix had to add what the application needs).

mod common;

use ftp_proto::server::{Outcome, Request};
use ftp_proto::{ServerEvent, ServerSession};
use proto_core::drain_transmit;
use std::time::Instant;

/// A server with an anonymous user logged in.
fn logged_in_server(now: Instant) -> ServerSession {
    let mut s = common::new_server(now);
    s.handle_input(b"USER anonymous\r\nPASS a@b\r\n");
    let mut log = Vec::new();
    common::drain(&mut s, now, &mut log);
    assert!(s.user().is_some(), "{log:?}");
    drain_transmit(&mut s);
    s
}

/// Feeds one line to a server and returns the first event, if any.
fn server_event(s: &mut ServerSession, line: &[u8]) -> Option<ServerEvent> {
    s.handle_input(line);
    s.poll_event().unwrap()
}

// ----- Gap 2: SIZE depends on TYPE -----

// RFC 3659 4: "The SIZE command returns how many octets would be transferred
// if the file were to be transferred using the current transfer structure,
// mode, and type." and 4.4: after TYPE A the same file reports "an extra 112
// octets". `Request::Size` named only the path, so an application could not
// know which of the two sizes to give (ftpd gave the stored size in TYPE A).
#[test]
fn size_request_says_which_type_is_in_force() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    // TYPE A is the default (RFC 959 3.1.1.1).
    match server_event(&mut s, b"SIZE f\r\n") {
        Some(ServerEvent::Request(Request::Size { path, ascii })) => {
            assert_eq!(&path[..], b"/f");
            assert!(ascii, "TYPE A is the default");
        }
        other => panic!("{other:?}"),
    }
    s.complete(Outcome::Size(1942)).unwrap();
    assert_eq!(drain_transmit(&mut s), b"213 1942\r\n");
    assert_eq!(server_event(&mut s, b"TYPE I\r\n"), None);
    drain_transmit(&mut s);
    match server_event(&mut s, b"SIZE f\r\n") {
        Some(ServerEvent::Request(Request::Size { ascii, .. })) => assert!(!ascii),
        other => panic!("{other:?}"),
    }
    s.complete(Outcome::Size(1830)).unwrap();
    assert_eq!(drain_transmit(&mut s), b"213 1830\r\n");
}

// ----- Gap 3: REIN reaches the application and resets HOST -----

// RFC 959 4.1.1 (REIN): "This command terminates a USER, flushing all I/O
// and account information ... All parameters are reset to the default
// settings". RFC 7151 3.2.1: "The effect of a HOST command MUST be reset if
// a REIN command is performed". The application holds the user's state and
// the virtual host; it was never told that REIN happened.
#[test]
fn rein_is_reported_and_resets_the_session() {
    let now = Instant::now();
    let mut s = common::new_server(now);
    drain_transmit(&mut s);
    match server_event(&mut s, b"HOST ftp.example.test\r\n") {
        Some(ServerEvent::Request(Request::Host(h))) => assert_eq!(&h[..], b"ftp.example.test"),
        other => panic!("{other:?}"),
    }
    s.complete(Outcome::Ok).unwrap();
    assert_eq!(s.host(), Some(&b"ftp.example.test"[..]));
    s.handle_input(b"USER anonymous\r\nPASS a@b\r\nTYPE I\r\nEPSV ALL\r\nOPTS MLST size;\r\n");
    let mut log = Vec::new();
    common::drain(&mut s, now, &mut log);
    assert!(s.user().is_some(), "{log:?}");
    drain_transmit(&mut s);
    // RNFR pending and a REST offset saved when REIN comes.
    assert!(matches!(
        server_event(&mut s, b"RNFR a\r\n"),
        Some(ServerEvent::Request(Request::RenameFrom(_)))
    ));
    s.complete(Outcome::Ok).unwrap();
    assert_eq!(server_event(&mut s, b"REST 10\r\n"), None);
    drain_transmit(&mut s);
    assert_eq!(
        server_event(&mut s, b"REIN\r\n"),
        Some(ServerEvent::Reinitialized)
    );
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(drain_transmit(&mut s), b"220 Service ready for new user\r\n");
    assert_eq!(s.user(), None);
    assert_eq!(s.host(), None, "RFC 7151 3.2.1: HOST is reset by REIN");
    assert_eq!(s.cwd(), b"/");
    // Logged in again: the parameters are the defaults.
    s.handle_input(b"USER anonymous\r\nPASS a@b\r\n");
    common::drain(&mut s, now, &mut log);
    drain_transmit(&mut s);
    match server_event(&mut s, b"SIZE f\r\n") {
        Some(ServerEvent::Request(Request::Size { ascii, .. })) => assert!(ascii, "TYPE back to A"),
        other => panic!("{other:?}"),
    }
    s.complete(Outcome::Size(1)).unwrap();
    drain_transmit(&mut s);
    // EPSV ALL is gone: PASV is allowed again.
    assert_eq!(
        server_event(&mut s, b"PASV\r\n"),
        Some(ServerEvent::PassiveListen { extended: false })
    );
    s.passive_failed().unwrap();
    drain_transmit(&mut s);
    // RNFR and REST did not survive.
    assert_eq!(server_event(&mut s, b"RNTO b\r\n"), None);
    assert!(drain_transmit(&mut s).starts_with(b"503 "));
    // The facts selected with OPTS MLST are the defaults again.
    match server_event(&mut s, b"MLST f\r\n") {
        Some(ServerEvent::Request(Request::Mlst { facts, .. })) => {
            assert_eq!(facts, ftp_proto::list::MlsxFacts::default());
        }
        other => panic!("{other:?}"),
    }
}
