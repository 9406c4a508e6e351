//! Review session 21: gaps left open by earlier reviews, each test citing the
//! rule it checks. Every test here failed on the code before its fix (some at
//! compile time, where the fix had to add what the application needs),
//! except those marked as guards.

mod common;

use common::{alice, client_events, logged_in_client};

use bytes::BytesMut;
use ftp_proto::client::{ClientEvent, ClientTls, DataTarget, Op};
use ftp_proto::{ClientConfig, ClientSession, Command, Timestamp};
use proto_core::drain_transmit;
use std::time::Instant;

// ----- Gap 5: time-val encoder refuses what it cannot represent -----

// RFC 3659 2.3: "four digits giving the year, with a range of 1000--9999,
// two digits giving the month of the year, with a range of 01--12 ...
// Years in the tenth century, and earlier, cannot be expressed."
// `write_time_val` wrote year 10000 as "0000" (the low four digits) and a
// month 13 as "13": a wrong or invalid time on the wire, silently.
#[test]
fn write_time_val_refuses_times_outside_rfc3659() {
    let good = Timestamp::new(2024, 2, 29, 23, 59, 60).unwrap();
    let mut out = BytesMut::new();
    good.write_time_val(&mut out).unwrap();
    assert_eq!(&out[..], b"20240229235960");
    for bad in [
        Timestamp {
            year: 10000,
            month: 1,
            day: 1,
            ..Timestamp::default()
        },
        Timestamp {
            year: 999,
            month: 12,
            day: 31,
            ..Timestamp::default()
        },
        Timestamp {
            year: 2024,
            month: 13,
            day: 1,
            ..Timestamp::default()
        },
        Timestamp {
            year: 2023,
            month: 2,
            day: 29,
            ..Timestamp::default()
        },
    ] {
        let mut out = BytesMut::from(&b"x"[..]);
        assert!(bad.write_time_val(&mut out).is_err(), "{bad:?}");
        assert_eq!(&out[..], b"x", "nothing written for {bad:?}");
    }
}

// RFC 3659 2.3 (same range): an MFMT time of year 0999 is no time-val; the
// parser took it, so a server answered `213 Modify=09990101000000` for a
// time the encoder (`Command::encode`) refuses to send.
#[test]
fn mfmt_parse_refuses_years_before_1000() {
    assert!(Command::parse(b"MFMT 09990101000000 f").is_err());
    assert!(Command::parse(b"MFMT 00000101000000 f").is_err());
    assert!(matches!(
        Command::parse(b"MFMT 10000101000000 f"),
        Ok(Command::Mfmt { .. })
    ));
}

// ----- Gap 3: success is the first digit -----

// RFC 959 4.2: "the first digit of the reply code ... is the only one needed
// [by an unsophisticated user-process]"; RFC 1123 4.1.2.11: a User-FTP
// "SHOULD use only the highest-order digit of a 3-digit reply code for
// making a procedural decision". A greeting of 200 failed the login, a 200
// with a PASV address failed the transfer, a 250 SIZE failed the operation.
#[test]
fn any_2yz_greeting_is_accepted() {
    let now = Instant::now();
    let mut c = ClientSession::new(alice(None), "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"200 hello\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\n");
}

#[test]
fn any_2yz_with_a_passive_address_opens_the_data_connection() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.retr(b"f", 0).unwrap();
    assert_eq!(drain_transmit(&mut c), b"TYPE I\r\n");
    c.handle_input(b"200 ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\n");
    c.handle_input(b"200 Entering Extended Passive Mode (|||6446|)\r\n");
    match &client_events(&mut c)[..] {
        [ClientEvent::OpenDataChannel { target, .. }] => {
            assert_eq!(*target, DataTarget::Connect("203.0.113.1:6446".parse().unwrap()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(drain_transmit(&mut c), b"RETR f\r\n");

    let config = ClientConfig {
        extended: false,
        ..alice(None)
    };
    let mut c = ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n211 End\r\n331 pw\r\n230 ok\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::LoggedIn]);
    drain_transmit(&mut c);
    c.list(None).unwrap();
    c.handle_input(b"200 ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"TYPE A\r\nPASV\r\n");
    c.handle_input(b"200 Entering Passive Mode (203,0,113,1,4,1)\r\n");
    assert!(matches!(
        &client_events(&mut c)[..],
        [ClientEvent::OpenDataChannel { target: DataTarget::Connect(a), .. }] if a.port() == 1025
    ));
}

// The other side of the same rule: a 2yz whose text holds no address cannot
// be acted on; the transfer fails cleanly and the session stays usable.
// (A guard: it passed before the fix and must still pass after it.)
#[test]
fn a_2yz_without_an_address_fails_the_transfer_cleanly() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    let id = c.retr(b"f", 0).unwrap();
    c.handle_input(b"200 ok\r\n200 whatever\r\n");
    assert!(matches!(
        &client_events(&mut c)[..],
        [ClientEvent::TransferFailed { id: i, reply }] if *i == id && reply.code == 200
    ));
    assert!(c.is_ready());
}

#[test]
fn size_and_mdtm_accept_any_2yz() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.size(b"f").unwrap();
    c.handle_input(b"200 ok\r\n250 1234\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::Size(1234)]);
    c.mdtm(b"f").unwrap();
    c.handle_input(b"250 20240102030405\r\n");
    assert_eq!(
        client_events(&mut c),
        vec![ClientEvent::Modified(
            Timestamp::new(2024, 1, 2, 3, 4, 5).unwrap()
        )]
    );
    // A 2yz whose text is no size is still no size.
    c.size(b"f").unwrap();
    c.handle_input(b"200 File status okay\r\n");
    assert!(matches!(
        &client_events(&mut c)[..],
        [ClientEvent::Failed { op: Op::Size, .. }]
    ));
}

// RFC 2228 AUTH: "If the server is willing to accept the named security
// mechanism, and does not require any security data, it must respond with
// reply code 234" - a 2yz is acceptance all the same (RFC 959 4.2); read
// as a refusal, the client sent USER in plaintext on a connection where the
// server waited for a TLS handshake.
#[test]
fn any_2yz_to_auth_tls_starts_the_handshake() {
    let now = Instant::now();
    let config = ClientConfig {
        tls: ClientTls::Required,
        ..alice(None)
    };
    let mut c = ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n211 End\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\nAUTH TLS\r\n");
    c.handle_input(b"200 go ahead\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::StartTls]);
}

// ----- Gap 2: 421 answers the pending command, then closes -----

// RFC 959 4.2 (421): "Service not available, closing control connection.
// This may be a reply to any command if the service knows it must shut
// down." It is the reply to the pending command: the application is told
// that command failed (with the 421 text), then that the session closed.
#[test]
fn a_421_fails_the_pending_simple_operation_then_closes() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.cwd(b"/pub").unwrap();
    c.handle_input(b"421 shutting down\r\n");
    match &client_events(&mut c)[..] {
        [
            ClientEvent::Failed { op: Op::Cwd, reply },
            ClientEvent::Closed(r2),
        ] => {
            assert_eq!((reply.code, r2.code), (421, 421));
            assert_eq!(reply.text(), b"shutting down");
        }
        other => panic!("{other:?}"),
    }
    assert!(c.is_closed());
}

#[test]
fn a_421_fails_the_pending_transfer_then_closes() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    let id = c.retr(b"f", 0).unwrap();
    c.handle_input(b"421 shutting down\r\n");
    match &client_events(&mut c)[..] {
        [
            ClientEvent::TransferFailed { id: i, reply },
            ClientEvent::Closed(_),
        ] => {
            assert_eq!((*i, reply.code), (id, 421));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_421_during_login_fails_the_login() {
    let now = Instant::now();
    let mut c = ClientSession::new(alice(None), "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n211 End\r\n421 too many users\r\n");
    match &client_events(&mut c)[..] {
        [ClientEvent::LoginFailed(r), ClientEvent::Closed(_)] => assert_eq!(r.code, 421),
        other => panic!("{other:?}"),
    }
}

// Nothing already received is lost: the 226 of a transfer whose data
// connection is still draining came before the 421, so the transfer is
// complete once the driver reports the data connection's end, and the
// server's closing of the control connection in between is expected.
#[test]
fn a_421_after_226_keeps_the_completed_transfer() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    let id = c.retr(b"f", 0).unwrap();
    c.handle_input(b"200 ok\r\n229 (|||6446|)\r\n");
    assert!(matches!(
        &client_events(&mut c)[..],
        [ClientEvent::OpenDataChannel { .. }]
    ));
    c.handle_input(b"150 go\r\n226 done\r\n421 closing\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::TransferStarted(id)]);
    c.handle_eof();
    assert!(client_events(&mut c).is_empty(), "EOF after 421 is expected");
    c.data_closed(id).unwrap();
    match &client_events(&mut c)[..] {
        [
            ClientEvent::TransferComplete { id: i, reply },
            ClientEvent::Closed(r),
        ] => {
            assert_eq!((*i, reply.code, r.code), (id, 226, 421));
        }
        other => panic!("{other:?}"),
    }
    assert!(c.is_closed());
}

// An unsolicited 421 (idle timeout) with nothing pending only closes.
// (A guard: it passed before the fix and must still pass after it.)
#[test]
fn an_unsolicited_421_only_closes() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.handle_input(b"421 idle\r\n");
    assert!(matches!(&client_events(&mut c)[..], [ClientEvent::Closed(r)] if r.code == 421));
}

// ----- Gap 1: CR in pathnames (RFC 2640 3.1) -----

// RFC 2640 3.1: "When a <CR> character is encountered as part of a pathname
// it MUST be padded with a <NUL> character prior to sending the command. On
// receipt of a pathname containing a <CR><NUL> sequence the <NUL> character
// MUST be stripped away." The encoder refused such a pathname and the server
// answered the padded line with 500. LF and NUL stay refused: lines end only
// at CRLF, and an LF could end a line at a lenient peer.
#[test]
fn pathname_cr_is_padded_with_nul() {
    let mut out = BytesMut::new();
    Command::Retr(b"foo\rboo.bar").encode(&mut out).unwrap();
    assert_eq!(&out[..], b"RETR foo\r\0boo.bar\r\n");
    out.clear();
    Command::List(Some(b"a\r")).encode(&mut out).unwrap();
    assert_eq!(&out[..], b"LIST a\r\0\r\n");
    out.clear();
    Command::Mfmt {
        time: Timestamp::new(2024, 1, 2, 3, 4, 5).unwrap(),
        path: b"x\ry",
    }
    .encode(&mut out)
    .unwrap();
    assert_eq!(&out[..], b"MFMT 20240102030405 x\r\0y\r\n");
    // Still refused: LF or NUL anywhere, CR outside a pathname.
    for bad in [
        Command::Retr(b"foo\r\nDELE x"),
        Command::Retr(b"foo\nbar"),
        Command::Retr(b"foo\0bar"),
        Command::User(b"a\rb"),
        Command::Site(b"a\rb"),
    ] {
        out.clear();
        assert!(bad.encode(&mut out).is_err(), "{bad:?}");
        assert!(out.is_empty());
    }
    // Received: the NUL is stripped; a CR is taken in a pathname only.
    let line = ftp_proto::command::unpad_cr(b"DELE a\r\0b").unwrap();
    assert_eq!(Command::parse(&line).unwrap(), Command::Dele(b"a\rb"));
    assert!(ftp_proto::command::unpad_cr(b"DELE a\rb").is_none(), "bare CR");
    assert!(Command::parse(b"USER a\rb").is_err());
    assert!(
        Command::parse(b"DELE a\r\0b").is_err(),
        "padded form is for unpad_cr"
    );
}

#[test]
fn server_takes_padded_cr_in_pathnames_only() {
    use ftp_proto::server::Request;
    let now = Instant::now();
    let mut s = common::new_server(now);
    s.handle_input(b"USER anonymous\r\nPASS a@b\r\n");
    let mut log = Vec::new();
    common::drain(&mut s, now, &mut log);
    assert!(s.user().is_some(), "{log:?}");
    drain_transmit(&mut s);
    s.handle_input(b"DELE a\r\0b\r\n");
    match s.poll_event().unwrap() {
        Some(ftp_proto::ServerEvent::Request(Request::Delete(p))) => assert_eq!(&p[..], b"/a\rb"),
        other => panic!("{other:?}"),
    }
    s.complete(ftp_proto::server::Outcome::Ok).unwrap();
    drain_transmit(&mut s);
    // A bare CR (not padded) never reaches the application.
    s.handle_input(b"DELE a\rb\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(drain_transmit(&mut s).starts_with(b"500 "));
    // Padded CR where no pathname goes: refused.
    s.handle_input(b"SITE a\r\0b\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(drain_transmit(&mut s).starts_with(b"501 "));
    // MKD answers 257 with the path padded the same way.
    s.handle_input(b"MKD d\r\0\r\n");
    match s.poll_event().unwrap() {
        Some(ftp_proto::ServerEvent::Request(Request::MakeDir(p))) => assert_eq!(&p[..], b"/d\r"),
        other => panic!("{other:?}"),
    }
    s.complete(ftp_proto::server::Outcome::Ok).unwrap();
    assert_eq!(drain_transmit(&mut s), b"257 \"/d\r\0\" created\r\n");
    // Other replies that name the path pad it too, rather than withhold it.
    s.handle_input(b"CWD d\r\0\r\n");
    assert!(matches!(
        s.poll_event().unwrap(),
        Some(ftp_proto::ServerEvent::Request(Request::ChangeDir(_)))
    ));
    s.complete(ftp_proto::server::Outcome::Ok).unwrap();
    assert_eq!(drain_transmit(&mut s), b"250 Directory changed to /d\r\0\r\n");
    assert_eq!(s.cwd(), b"/d\r");
}

#[test]
fn client_pads_and_unpads_pathname_cr() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.delete(b"a\rb").unwrap();
    assert_eq!(drain_transmit(&mut c), b"DELE a\r\0b\r\n");
    c.handle_input(b"250 ok\r\n");
    assert!(matches!(
        &client_events(&mut c)[..],
        [ClientEvent::Done { op: Op::Delete, .. }]
    ));
    c.pwd().unwrap();
    c.handle_input(b"257 \"/x\r\0y\" is cwd\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::Pwd(b"/x\ry".to_vec())]);
    let id = c.retr(b"f\r", 0).unwrap();
    c.handle_input(b"200 ok\r\n229 (|||6446|)\r\n");
    assert!(matches!(&client_events(&mut c)[..], [ClientEvent::OpenDataChannel { id: i, .. }] if *i == id));
    assert!(drain_transmit(&mut c).ends_with(b"RETR f\r\0\r\n"));
    assert!(c.delete(b"a\nb").is_err());
}

// ----- Gap 4: a REST that no transfer command followed -----

// RFC 3659 5.3: "a user-PI that has issued a REST command, but that has not
// successfully transmitted the following data transfer command for any
// reason, should send another REST command before the next data transfer
// command. If that transfer is not to be restarted, then "REST 0" should be
// issued." (The server "may ... save the restart value and apply it to the
// next data transfer command".) A transfer aborted between REST and RETR
// left the marker with the server, and the next transfer from offset 0 sent
// no REST: such a server sends the file from the old offset.
#[test]
fn rest_0_after_a_rest_that_no_transfer_used() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    let id = c.retr(b"f", 100).unwrap();
    c.handle_input(b"200 ok\r\n229 (|||6446|)\r\n");
    assert!(matches!(
        &client_events(&mut c)[..],
        [ClientEvent::OpenDataChannel { .. }]
    ));
    assert_eq!(drain_transmit(&mut c), b"TYPE I\r\nEPSV\r\nREST 100\r\n");
    c.abort().unwrap();
    assert_eq!(drain_transmit(&mut c), b"ABOR\r\n");
    c.handle_input(b"350 Restarting at 100\r\n226 ABOR ok\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::Aborted(id)]);
    c.retr(b"g", 0).unwrap();
    c.handle_input(b"229 (|||6447|)\r\n");
    assert!(matches!(
        &client_events(&mut c)[..],
        [ClientEvent::OpenDataChannel { .. }]
    ));
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\nREST 0\r\n");
    c.handle_input(b"350 Restarting at 0\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"RETR g\r\n");
    // Used once: the transfer after that sends no REST.
    c.handle_input(b"150 go\r\n226 done\r\n");
    client_events(&mut c);
    c.data_closed(ftp_proto::server::TransferId(2)).unwrap();
    client_events(&mut c);
    c.retr(b"h", 0).unwrap();
    c.handle_input(b"229 (|||6448|)\r\n");
    client_events(&mut c);
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\nRETR h\r\n");
}

// The REST 0 is a precaution: a server that refuses it holds no marker, and
// the transfer goes on from the start.
#[test]
fn a_refused_rest_0_does_not_fail_the_transfer() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.retr(b"f", 100).unwrap();
    c.handle_input(b"200 ok\r\n229 (|||6446|)\r\n");
    client_events(&mut c);
    c.abort().unwrap();
    c.handle_input(b"502 REST not implemented\r\n226 ABOR ok\r\n");
    client_events(&mut c);
    drain_transmit(&mut c);
    c.retr(b"g", 0).unwrap();
    c.handle_input(b"229 (|||6447|)\r\n502 REST not implemented\r\n");
    client_events(&mut c);
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\nREST 0\r\nRETR g\r\n");
}

// ----- Review: a 1yz is never the final reply -----

// RFC 959 4.2: "1yz Positive Preliminary reply ... the user-process should
// expect another reply before proceeding with a new command." A 1yz to FEAT
// was taken as FEAT's answer: USER went out, and FEAT's real 211 was then
// read as USER's answer, so the client reported LoggedIn without ever
// sending the password (client and server out of step from there on).
#[test]
fn a_preliminary_reply_to_feat_is_not_its_answer() {
    let now = Instant::now();
    let mut c = ClientSession::new(alice(None), "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\n");
    c.handle_input(b"150 thinking\r\n211 End\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"USER alice\r\n");
    c.handle_input(b"331 pw\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"PASS secret\r\n");
}

// The same inside a transfer: a 1yz to TYPE failed the transfer, and the
// TYPE's real 200 was left to answer whatever command came next.
#[test]
fn a_preliminary_reply_to_type_is_not_its_answer() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.retr(b"f", 0).unwrap();
    assert_eq!(drain_transmit(&mut c), b"TYPE I\r\n");
    c.handle_input(b"150 hm\r\n200 ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\n");
}
