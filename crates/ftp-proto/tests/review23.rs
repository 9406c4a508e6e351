//! Review session 23: gaps left open by earlier reviews, each test citing the
//! rule it checks.

mod common;
use common::sent;

use ftp_proto::ServerEvent;
use ftp_proto::server::{Outcome, Request};
use std::time::Instant;

// RFC 959 4.1.3 STAT with an argument: "the status command is analogous to
// the LIST command except that data shall be transferred over the control
// connection", with no bound on its size. The session could only send a
// STAT reply whole (Outcome::Lines), so an application had to hold a whole
// directory listing in memory or refuse large ones (ftpd answered 450 past
// 2000 entries). `complete_part` sends the multi-line 213 in pieces, each
// written out before the next is made; `complete` ends it.
#[test]
fn a_stat_listing_goes_out_in_pieces() {
    let now = Instant::now();
    let mut s = common::logged_in_server(now);
    // No STAT waiting: a usage error, nothing sent.
    assert!(s.complete_part(&[b"x"]).is_err());
    assert_eq!(
        common::server_event(&mut s, b"STAT /d\r\n"),
        Some(ServerEvent::Request(Request::Stat("/d".into())))
    );
    s.complete_part(&[&b"-rw-r--r-- 1 ftp ftp 1 Jan 01 2024 a"[..]])
        .unwrap();
    assert_eq!(
        sent(&mut s),
        "213-Status follows:\r\n-rw-r--r-- 1 ftp ftp 1 Jan 01 2024 a\r\n"
    );
    // A line that looks like a reply line is padded (RFC 959 4.2); one
    // with a line break is withheld. Input meanwhile waits.
    s.handle_input(b"NOOP\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    s.complete_part(&[&b"213 b"[..], b"c\r\nd"]).unwrap();
    assert_eq!(
        sent(&mut s),
        " 213 b\r\n (line withheld: it held a line break)\r\n"
    );
    s.complete(Outcome::Lines(vec![b"e".to_vec()])).unwrap();
    assert_eq!(sent(&mut s), "e\r\n213 End of status\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "200 NOOP ok\r\n");
    // A failure after the reply opened cannot change its code: it ends it.
    common::server_event(&mut s, b"STAT /d\r\n").unwrap();
    s.complete_part(&[b"a"]).unwrap();
    s.complete(Outcome::Failed(451, b"Local error".to_vec())).unwrap();
    assert_eq!(
        sent(&mut s),
        "213-Status follows:\r\na\r\n213 End of status (incomplete: Local error)\r\n"
    );
    // A 421 still closes the session, after the 213 ends.
    common::server_event(&mut s, b"STAT /d\r\n").unwrap();
    s.complete_part(&[b"a"]).unwrap();
    s.complete(Outcome::Failed(421, b"Shutting down".to_vec()))
        .unwrap();
    assert!(sent(&mut s).ends_with(
        "213 End of status (incomplete: Shutting down)\r\n421 Service closing control connection\r\n"
    ));
    assert!(s.is_closed());
    // A STAT answered whole is as before.
    let mut s = common::logged_in_server(now);
    common::server_event(&mut s, b"STAT /d\r\n").unwrap();
    s.complete(Outcome::Lines(vec![b"a".to_vec()])).unwrap();
    assert_eq!(sent(&mut s), "213-Status follows:\r\na\r\n213 End of status\r\n");
    // Only STAT takes pieces.
    common::server_event(&mut s, b"MLST /d\r\n").unwrap();
    assert!(s.complete_part(&[b"a"]).is_err());
}

// RFC 959 4.1.3 STAT with an argument "is analogous to the LIST command",
// and LIST takes `ls` options before the path ("LIST -la /d"), as the
// session already allowed. STAT did not: "STAT -la /d" asked about a file
// named "-la /d" in the working directory (550), and "STAT -l" about "-l",
// where vsftpd and pyftpdlib list /d and the working directory. The options
// now come off STAT's argument as off LIST's.
#[test]
fn stat_takes_ls_options_as_list_does() {
    let now = Instant::now();
    let mut s = common::logged_in_server(now);
    assert_eq!(
        common::server_event(&mut s, b"STAT -la /d\r\n"),
        Some(ServerEvent::Request(Request::Stat("/d".into())))
    );
    s.complete(Outcome::NotFound).unwrap();
    assert_eq!(
        common::server_event(&mut s, b"STAT -l\r\n"),
        Some(ServerEvent::Request(Request::Stat("/".into())))
    );
    s.complete(Outcome::NotFound).unwrap();
    assert_eq!(
        common::server_event(&mut s, b"STAT d\r\n"),
        Some(ServerEvent::Request(Request::Stat("/d".into())))
    );
}
