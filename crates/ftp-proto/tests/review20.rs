//! Review session 20: gaps left open by review 19, each test citing the rule
//! it checks. Every test here failed on the code before its fix (some at
//! compile time, where the fix had to add what the application needs),
//! except the one marked as a guard.

mod common;

use common::{client_events, logged_in_client, logged_in_server, server_event};

use ftp_proto::ServerEvent;
use ftp_proto::client::ClientEvent;
use ftp_proto::server::{Outcome, Request};
use proto_core::{drain_transmit, transfer};
use std::time::Instant;

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

// ----- Gap 4: IAC in replies -----

// RFC 959 5.2: "Server- and user- processes should follow the conventions of
// the Telnet protocol" on the control connection, where a data byte 255 is
// sent as IAC IAC (RFC 854), and RFC 959 4: "The FTP uses the Telnet
// protocol on the control connection." A 257 reply naming a directory with a
// 0xFF byte went out with that byte undoubled: a Telnet peer takes it and
// the byte after it as a command, and reads another path.
#[test]
fn server_doubles_iac_in_replies() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    match server_event(&mut s, b"MKD caf\xff\xff\r\n") {
        Some(ServerEvent::Request(Request::MakeDir(p))) => assert_eq!(&p[..], b"/caf\xff"),
        other => panic!("{other:?}"),
    }
    s.complete(Outcome::Ok).unwrap();
    assert_eq!(drain_transmit(&mut s), b"257 \"/caf\xff\xff\" created\r\n");
    // An application text too (a 550 naming the file).
    assert!(matches!(
        server_event(&mut s, b"DELE x\r\n"),
        Some(ServerEvent::Request(Request::Delete(_)))
    ));
    s.complete(Outcome::Failed(550, b"caf\xff: busy".to_vec()))
        .unwrap();
    assert_eq!(drain_transmit(&mut s), b"550 caf\xff\xff: busy\r\n");
}

// The other direction: the client undoes IAC IAC in a reply (RFC 854), so
// the path in a 257 is the one the server meant; Telnet commands a server
// might send (IAC NOP, option negotiation) are not reply text.
#[test]
fn client_reads_iac_iac_in_replies_as_one_byte() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.pwd().unwrap();
    assert_eq!(drain_transmit(&mut c), b"PWD\r\n");
    // Split inside the IAC IAC pair, with an IAC NOP and an IAC WILL ECHO.
    c.handle_input(b"257 \"/caf\xff");
    c.handle_input(b"\xff\xff\xf1\" is\xff\xfb\x01 cwd\r\n");
    assert_eq!(
        client_events(&mut c),
        vec![ClientEvent::Pwd(b"/caf\xff".to_vec())]
    );
}

// Guard (passed before too, when neither side spoke Telnet): both sessions
// together, a directory named with a 0xFF byte keeps its name through MKD
// and its 257 reply.
#[test]
fn path_with_0xff_round_trips_through_mkd() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    let mut s = logged_in_server(now);
    c.mkdir(b"d\xffe").unwrap();
    transfer(&mut c, &mut s, 3);
    match s.poll_event().unwrap() {
        Some(ServerEvent::Request(Request::MakeDir(p))) => assert_eq!(&p[..], b"/d\xffe"),
        other => panic!("{other:?}"),
    }
    s.complete(Outcome::Ok).unwrap();
    transfer(&mut s, &mut c, 3);
    match &client_events(&mut c)[..] {
        [ClientEvent::Done { reply, .. }] => {
            assert_eq!(reply.text(), b"\"/d\xffe\" created");
            assert_eq!(
                ftp_proto::reply::parse_257_path(reply.text()).as_deref(),
                Some(&b"/d\xffe"[..])
            );
        }
        other => panic!("{other:?}"),
    }
}

// RFC 7151 3: "Server-FTP processes MUST treat a situation in which the HOST
// command is issued after the user has been authenticated as an erroneous
// sequence of commands and return a 503 reply", and 4: an additional HOST
// "sent before a user has been authenticated" MUST count "as though a
// previous HOST command was not sent", and the server "MUST reset the
// authentication environment". Between USER and PASS the user is not yet
// authenticated, but HOST got 503 there; it now goes to the application and
// the USER given before it is forgotten (the users may differ per host).
#[test]
fn host_between_user_and_pass_resets_the_login() {
    let now = Instant::now();
    let mut s = common::new_server(now);
    drain_transmit(&mut s);
    assert_eq!(server_event(&mut s, b"USER alice\r\n"), None);
    assert!(drain_transmit(&mut s).starts_with(b"331 "));
    match server_event(&mut s, b"HOST ftp.example.test\r\n") {
        Some(ServerEvent::Request(Request::Host(h))) => assert_eq!(&h[..], b"ftp.example.test"),
        other => panic!("{other:?}"),
    }
    s.complete(Outcome::Ok).unwrap();
    assert_eq!(drain_transmit(&mut s), b"220 Host accepted\r\n");
    // The USER before HOST is gone: PASS needs a new USER.
    assert_eq!(server_event(&mut s, b"PASS secret\r\n"), None);
    assert!(drain_transmit(&mut s).starts_with(b"503 "));
    // After the login, HOST is out of sequence.
    s.handle_input(b"USER anonymous\r\nPASS a@b\r\n");
    let mut log = Vec::new();
    common::drain(&mut s, now, &mut log);
    assert!(s.user().is_some(), "{log:?}");
    drain_transmit(&mut s);
    assert_eq!(server_event(&mut s, b"HOST other.test\r\n"), None);
    assert!(drain_transmit(&mut s).starts_with(b"503 "));
    assert_eq!(s.host(), Some(&b"ftp.example.test"[..]));
}
