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
