//! Review session 22: gaps left open by earlier reviews, each test citing the
//! rule it checks. Every test here failed on the code before its fix.

mod common;
use common::sent;

use ftp_proto::server::{CloseReason, DataFailure, Outcome, Request};
use ftp_proto::{ServerEvent, ServerSession};
use std::time::Instant;

fn fresh(now: Instant) -> ServerSession {
    let mut s = common::new_server(now);
    assert_eq!(sent(&mut s), "220 FTP server ready\r\n");
    s
}

// ----- Gap 1: complete commands that arrive with the end of input -----

// RFC 959 4.1.1 QUIT: "This command terminates a USER and if file transfer
// is not in progress, the server closes the control connection. If file
// transfer is in progress, the connection will remain open for result
// response and the server will then close it." A client that writes its
// commands and half-closes (shutdown(SHUT_WR), `nc -q`) has not aborted:
// every complete line before the end of input is a command to answer.
// `handle_eof` dropped whatever was buffered, the 221 included.
#[test]
fn pipelined_commands_before_eof_are_all_answered() {
    let now = Instant::now();
    let mut s = fresh(now);
    s.handle_input(b"NOOP\r\nQUIT\r\n");
    s.handle_eof();
    assert_eq!(
        s.poll_event().unwrap(),
        Some(ServerEvent::Closed(CloseReason::Quit))
    );
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(s.is_closed());
    assert_eq!(sent(&mut s), "200 NOOP ok\r\n221 Goodbye\r\n");
}

// The same with an application decision in between (the login), and a
// partial line after the last CRLF, which is no command and is dropped.
#[test]
fn eof_waits_for_the_application_then_answers_the_rest() {
    let now = Instant::now();
    let mut s = fresh(now);
    s.handle_input(b"USER alice\r\nPASS secret\r\nPWD\r\nNOOP\r\nQUI");
    s.handle_eof();
    let Some(ServerEvent::Login { .. }) = s.poll_event().unwrap() else {
        panic!("no login event")
    };
    assert!(!s.is_closed(), "closed while the login decision was pending");
    s.login_accept().unwrap();
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(s.is_closed(), "not closed once every line was answered");
    assert_eq!(
        sent(&mut s),
        "331 Password required\r\n230 Login successful\r\n\
         257 \"/\" is the current directory\r\n200 NOOP ok\r\n"
    );
    // Nothing more is taken once closed.
    s.handle_input(b"NOOP\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "");
}

// A file-system request pipelined before EOF is asked and answered too.
#[test]
fn a_request_before_eof_is_still_asked() {
    let now = Instant::now();
    let mut s = fresh(now);
    s.handle_input(b"USER alice\r\nPASS secret\r\n");
    let Some(ServerEvent::Login { .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.login_accept().unwrap();
    sent(&mut s);
    s.handle_input(b"DELE f\r\nQUIT\r\n");
    s.handle_eof();
    assert_eq!(
        s.poll_event().unwrap(),
        Some(ServerEvent::Request(Request::Delete("/f".into())))
    );
    s.complete(Outcome::Ok).unwrap();
    assert_eq!(
        s.poll_event().unwrap(),
        Some(ServerEvent::Closed(CloseReason::Quit))
    );
    assert_eq!(
        sent(&mut s),
        "250 Requested file action okay, completed\r\n221 Goodbye\r\n"
    );
}

// QUIT during a transfer, then EOF: the transfer's reply, then the 221
// (RFC 959 4.1.1, quoted above).
#[test]
fn quit_during_a_transfer_then_eof_waits_for_the_transfer() {
    let now = Instant::now();
    let mut s = fresh(now);
    s.handle_input(b"USER alice\r\nPASS secret\r\n");
    let Some(ServerEvent::Login { .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.login_accept().unwrap();
    s.handle_input(b"PORT 192,0,2,10,7,208\r\nRETR f\r\nQUIT\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.data_connected(transfer.id).unwrap();
    s.handle_eof();
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(!s.is_closed(), "closed with a transfer under way");
    s.data_finished(transfer.id, 5).unwrap();
    assert_eq!(
        s.poll_event().unwrap(),
        Some(ServerEvent::Closed(CloseReason::Quit))
    );
    assert!(sent(&mut s).ends_with(
        "150 Opening ASCII mode data connection\r\n226 Transfer complete (5 bytes)\r\n221 Goodbye\r\n"
    ));
    // And a transfer that fails after EOF without QUIT: its reply, then closed.
    let mut s = fresh(now);
    s.handle_input(b"USER alice\r\nPASS secret\r\n");
    let Some(ServerEvent::Login { .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.login_accept().unwrap();
    s.handle_input(b"PORT 192,0,2,10,7,208\r\nRETR f\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.handle_eof();
    assert_eq!(s.poll_event().unwrap(), None);
    s.data_failed(transfer.id, DataFailure::Connect).unwrap();
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(s.is_closed());
    assert!(sent(&mut s).ends_with("425 Cannot open data connection\r\n"));
}

// A session with nothing to answer closes at EOF at once, as before.
#[test]
fn eof_with_nothing_buffered_closes_at_once() {
    let now = Instant::now();
    let mut s = fresh(now);
    s.handle_eof();
    assert!(s.is_closed());
    let mut s = fresh(now);
    s.handle_input(b"NOO");
    s.handle_eof();
    assert!(s.is_closed(), "a partial line is no command");
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "");
}

// ----- Gap 5: the client when the server refuses PROT P -----

/// A client with `tls` through AUTH TLS and the login, up to the PBSZ.
fn tls_client(tls: ftp_proto::client::ClientTls, now: Instant) -> ftp_proto::ClientSession {
    use proto_core::drain_transmit;
    let config = ftp_proto::ClientConfig {
        tls,
        ..common::alice(None)
    };
    let mut c = ftp_proto::ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n211-Features:\r\n AUTH TLS\r\n211 End\r\n");
    assert!(common::client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\nAUTH TLS\r\n");
    c.handle_input(b"234 go\r\n");
    assert_eq!(common::client_events(&mut c), [ftp_proto::ClientEvent::StartTls]);
    c.tls_established().unwrap();
    c.handle_input(b"211 no features\r\n331 pw\r\n230 ok\r\n");
    assert!(common::client_events(&mut c).is_empty());
    assert_eq!(
        drain_transmit(&mut c),
        b"FEAT\r\nUSER alice\r\nPASS secret\r\nPBSZ 0\r\n"
    );
    c
}

/// The `protected` flag of the next LIST's data channel.
fn list_protected(c: &mut ftp_proto::ClientSession) -> bool {
    use ftp_proto::ClientEvent;
    use proto_core::drain_transmit;
    c.list(None).unwrap();
    drain_transmit(c);
    c.handle_input(b"200 type A\r\n229 Entering Extended Passive Mode (|||50000|)\r\n");
    let evs = common::client_events(c);
    match evs.last() {
        Some(ClientEvent::OpenDataChannel { protected, .. }) => *protected,
        other => panic!("no data channel: {other:?}"),
    }
}

// RFC 4217 9: "the security of subsequent data connections MUST be at that
// level [of an accepted PROT] until another PROT command is issued and
// accepted"; the level before any is Clear (RFC 2228 3: "The default
// protection level if no other level is specified is Clear"). A server may
// refuse PROT P (536, RFC 2228 4) or PBSZ. The client ended the login on
// either, whatever the user asked for. Now: with TLS opportunistic
// (`ClientTls::IfOffered`) it carries on, the data connections in the
// clear (the level left at C), and says so with
// `ClientEvent::DataProtectionRefused` before `LoggedIn`; with TLS
// required it stops, and the same event names the refusal before the
// `LoginFailed`.
#[test]
fn opportunistic_tls_carries_on_in_the_clear_when_prot_p_is_refused() {
    use ftp_proto::ClientEvent;
    use ftp_proto::client::ClientTls;
    use proto_core::drain_transmit;
    let now = Instant::now();
    // PROT P refused.
    let mut c = tls_client(ClientTls::IfOffered, now);
    c.handle_input(b"200 PBSZ=0\r\n");
    assert!(common::client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"PROT P\r\n");
    c.handle_input(b"536 Protection level not supported\r\n");
    let evs = common::client_events(&mut c);
    assert!(
        matches!(&evs[..], [ClientEvent::DataProtectionRefused(r), ClientEvent::LoggedIn] if r.code == 536),
        "{evs:?}"
    );
    assert!(!c.is_closed());
    assert!(c.is_tls(), "the control connection stays protected");
    assert!(!list_protected(&mut c), "data must go in the clear (PROT C)");
    // PBSZ refused: no PROT may follow it (RFC 4217 9: PROT "MUST be
    // preceded by a PBSZ command").
    let mut c = tls_client(ClientTls::IfOffered, now);
    c.handle_input(b"502 PBSZ not implemented\r\n");
    let evs = common::client_events(&mut c);
    assert!(
        matches!(&evs[..], [ClientEvent::DataProtectionRefused(r), ClientEvent::LoggedIn] if r.code == 502),
        "{evs:?}"
    );
    assert_eq!(drain_transmit(&mut c), b"");
    assert!(!list_protected(&mut c));
    // Accepted: protected, as before.
    let mut c = tls_client(ClientTls::IfOffered, now);
    c.handle_input(b"200 PBSZ=0\r\n200 PROT P\r\n");
    assert_eq!(common::client_events(&mut c), [ClientEvent::LoggedIn]);
    assert!(list_protected(&mut c));
}

#[test]
fn required_tls_names_the_prot_p_refusal() {
    use ftp_proto::ClientEvent;
    use ftp_proto::client::ClientTls;
    let now = Instant::now();
    for (pbsz, prot, code) in [
        (
            &b"200 PBSZ=0\r\n"[..],
            &b"536 Protection level not supported\r\n"[..],
            536,
        ),
        (b"502 PBSZ not implemented\r\n", b"", 502),
    ] {
        let mut c = tls_client(ClientTls::Required, now);
        c.handle_input(pbsz);
        c.handle_input(prot);
        let evs = common::client_events(&mut c);
        assert!(
            matches!(&evs[..], [ClientEvent::DataProtectionRefused(r), ClientEvent::LoginFailed(f)]
                if r.code == code && f.code == code),
            "{evs:?}"
        );
        assert!(c.is_closed());
    }
}
