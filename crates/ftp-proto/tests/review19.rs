//! Review of session 19: each test pins a rule of the RFCs that the crate
//! broke, with the rule quoted above the test.

mod common;

use common::{alice, client_events, logged_in_client, logged_in_server, server_event};

use ftp_proto::client::ClientEvent;
use ftp_proto::server::{Outcome, Request};
use ftp_proto::{
    ClientConfig, ClientSession, ErrorKind, Limits, ServerConfig, ServerEvent, ServerSession, Timestamp,
};
use proto_core::drain_transmit;
use std::time::{Duration, Instant};

// RFC 959 4.1.3 (ABOR) and 5.4: every command gets its reply, in order. An
// ABOR sent while the reply to EPSV (or TYPE, PASV, PORT, REST) is still due
// is answered after that reply: two replies are owed, not one. Counting one
// leaves the ABOR's reply to be taken as the answer to the next command.
#[test]
fn abort_while_epsv_reply_is_due_waits_for_both_replies() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.retr(b"f", 0).unwrap();
    assert_eq!(drain_transmit(&mut c), b"TYPE I\r\n");
    c.handle_input(b"200 ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\n");
    c.abort().unwrap();
    assert_eq!(drain_transmit(&mut c), b"ABOR\r\n");
    // The reply to EPSV, then the reply to ABOR (no transfer to abort).
    c.handle_input(b"229 Entering Extended Passive Mode (|||50000|)\r\n");
    assert!(client_events(&mut c).is_empty(), "ABOR's own reply is still due");
    c.handle_input(b"225 No transfer to abort\r\n");
    assert!(matches!(&client_events(&mut c)[..], [ClientEvent::Aborted(_)]));
    // The next command gets its own reply, not a leftover one.
    c.cwd(b"/pub").unwrap();
    assert_eq!(drain_transmit(&mut c), b"CWD /pub\r\n");
    c.handle_input(b"250 ok\r\n");
    let ev = client_events(&mut c);
    assert!(
        matches!(&ev[..], [ClientEvent::Done { reply, .. }] if reply.code == 250),
        "{ev:?}"
    );
}

// RFC 854 (Telnet, which RFC 959 4 makes the control connection's protocol):
// "a byte with value 255 ... must be doubled (IAC IAC) when sent as data";
// RFC 1123 4.1.2.12: "A user-FTP MUST NOT send any Telnet controls other
// than SYNCH and IP". A path byte 0xFF sent undoubled is a Telnet command to
// the server, which drops it and the byte after it: the wrong file is deleted.
#[test]
fn client_doubles_iac_in_paths_so_the_server_sees_the_same_path() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.delete(b"caf\xff.txt").unwrap();
    let wire = drain_transmit(&mut c);
    assert_eq!(wire, b"DELE caf\xff\xff.txt\r\n");
    let mut s = logged_in_server(now);
    match server_event(&mut s, &wire) {
        Some(ServerEvent::Request(Request::Delete(p))) => assert_eq!(&p[..], b"/caf\xff.txt"),
        other => panic!("{other:?}"),
    }
}

// RFC 854: the Telnet commands are the codes 240 to 255 after IAC; a byte
// below 240 after IAC is no command. Many clients (ftplib, curl) send a path
// byte 0xFF undoubled: treating "IAC x" as a command for any x drops a byte
// of the path, and the server acts on another file than the one named.
#[test]
fn server_keeps_iac_followed_by_a_non_command_byte() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    match server_event(&mut s, b"DELE caf\xff.txt\r\n") {
        Some(ServerEvent::Request(Request::Delete(p))) => assert_eq!(&p[..], b"/caf\xff.txt"),
        other => panic!("{other:?}"),
    }
    s.complete(Outcome::Ok).unwrap();
}

// RFC 1123 4.1.2.12: "a server-FTP MUST be capable of accepting and refusing
// Telnet negotiations (i.e., sending DONT/WONT)."
#[test]
fn server_refuses_telnet_option_negotiation() {
    let now = Instant::now();
    let mut s = common::new_server(now);
    drain_transmit(&mut s);
    // IAC WILL ECHO, IAC DO SUPPRESS-GO-AHEAD, then a command.
    s.handle_input(b"\xff\xfb\x01\xff\xfd\x03NOOP\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    let out = drain_transmit(&mut s);
    assert_eq!(out, b"\xff\xfe\x01\xff\xfc\x03200 NOOP ok\r\n");
}

// RFC 959 4.1.3 (RNFR): "This command must be immediately followed by a
// 'rename to' command". A line between them that the server answered with
// 500 is a command all the same; the RNTO after it must get 503, not rename.
#[test]
fn rnto_after_an_unparseable_line_is_out_of_sequence() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    drain_transmit(&mut s);
    assert!(matches!(
        server_event(&mut s, b"RNFR a\r\n"),
        Some(ServerEvent::Request(Request::RenameFrom(_)))
    ));
    s.complete(Outcome::Ok).unwrap();
    assert_eq!(server_event(&mut s, b"X!Y\r\nRNTO b\r\n"), None);
    assert_eq!(
        drain_transmit(&mut s),
        b"350 File exists, ready for destination name\r\n\
          500 Syntax error, command unrecognized\r\n\
          503 RNFR required first\r\n"
    );
}

// RFC 7151 3.1: "the server-PI MUST respond with a 501 reply if the client
// sends a HOST command with syntax like either of the following examples:
// HOST 192.0.2.1:2112 / HOST [2001:db8::c000:201]:2112".
#[test]
fn host_with_a_port_is_a_syntax_error() {
    let now = Instant::now();
    for line in [
        &b"HOST 192.0.2.1:2112\r\n"[..],
        b"HOST [2001:db8::c000:201]:2112\r\n",
        b"HOST ftp.example.test:21\r\n",
    ] {
        let mut s = common::new_server(now);
        drain_transmit(&mut s);
        assert_eq!(server_event(&mut s, line), None, "{line:?}");
        assert!(drain_transmit(&mut s).starts_with(b"501 "), "{line:?}");
    }
    // A bracketed IPv6 literal without a port is a host name like any other.
    let mut s = common::new_server(now);
    assert!(matches!(
        server_event(&mut s, b"HOST [2001:db8::c000:201]\r\n"),
        Some(ServerEvent::Request(Request::Host(_)))
    ));
}

// RFC 2428 2: "The response code 522 indicates that the server does not
// support the requested network protocol"; 3: "If not, the server MUST
// return the 522 error messages as outlined in section 2."
#[test]
fn eprt_with_an_unknown_network_protocol_gets_522() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    drain_transmit(&mut s);
    assert_eq!(server_event(&mut s, b"EPRT |3|192.0.2.10|50001|\r\n"), None);
    let out = drain_transmit(&mut s);
    assert!(out.starts_with(b"522 "), "{}", String::from_utf8_lossy(&out));
    assert!(out.ends_with(b"(1,2)\r\n"), "{}", String::from_utf8_lossy(&out));
}

// DESIGN.md (limits): "Exceeding one gives a clear error and the right
// reply, never unbounded memory." While the session waits (here: the delay
// before a 530), nothing consumes input, and a client could fill memory.
#[test]
fn input_piling_up_while_the_session_waits_is_bounded() {
    let now = Instant::now();
    let config = ServerConfig {
        limits: Limits {
            failed_login_delay: Duration::from_secs(2),
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(config, common::CLIENT.parse().unwrap(), now);
    s.handle_input(b"USER alice\r\nPASS wrong\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
    s.login_reject(now).unwrap();
    let flood = b"NOOP\r\n".repeat(16 * 1024);
    for _ in 0..64 {
        s.handle_input(&flood);
    }
    let err = s.poll_event().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Limit);
    assert!(
        drain_transmit(&mut s).ends_with(b"421 Too much pipelined input, closing control connection\r\n")
    );
}

// RFC 2428 3: the 229 reply carries the TCP port of the listener; port 0 is
// no port a server listens on (RFC 959 4.1.2 also). A client that connects
// there connects nowhere: the reply is a failure.
#[test]
fn epsv_reply_with_port_zero_fails_the_transfer() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    let id = c.retr(b"f", 0).unwrap();
    drain_transmit(&mut c);
    c.handle_input(b"200 ok\r\n");
    client_events(&mut c);
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\n");
    c.handle_input(b"229 Entering Extended Passive Mode (|||0|)\r\n");
    let ev = client_events(&mut c);
    assert!(
        matches!(&ev[..], [ClientEvent::TransferFailed { id: i, .. }] if *i == id),
        "{ev:?}"
    );
}

// RFC 4217 13: "When this command [REIN] is processed by the server, the TLS
// session(s) MUST be cleared and the control and data connections revert to
// unprotected, clear communications." A server that answers 220 to REIN
// while it keeps TLS and PROT P in force leaves the client, which now
// expects clear communications, out of step with it.
#[test]
fn rein_on_a_tls_session_does_not_leave_tls_half_reset() {
    let now = Instant::now();
    let mut s = common::new_server(now);
    s.handle_input(b"AUTH TLS\r\n");
    assert_eq!(s.poll_event().unwrap(), Some(ServerEvent::StartTls));
    s.tls_established().unwrap();
    s.handle_input(b"PBSZ 0\r\nPROT P\r\nUSER anonymous\r\nPASS a@b\r\n");
    let mut log = Vec::new();
    common::drain(&mut s, now, &mut log);
    assert!(s.user().is_some() && s.is_tls(), "{log:?}");
    assert_eq!(server_event(&mut s, b"REIN\r\n"), None);
    let out = drain_transmit(&mut s);
    if out.starts_with(b"220 ") {
        assert!(!s.is_tls(), "220 to REIN while TLS stays in force");
    } else {
        assert!(out.starts_with(b"502 "), "{}", String::from_utf8_lossy(&out));
        // Refused: the session is as it was.
        assert!(s.is_tls() && s.user().is_some());
    }
}

// RFC 1123 4.1.2.9: "When it receives an STOU command, a Server-FTP MUST
// return the actual file name in the "125 Transfer Starting" or the "150
// Opening Data Connection" message that precedes the transfer ... 125 FILE:
// pppp / 150 FILE: pppp".
#[test]
fn stou_preliminary_reply_names_the_file() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    s.handle_input(b"PASV\r\n");
    let mut log = Vec::new();
    common::drain(&mut s, now, &mut log);
    drain_transmit(&mut s);
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = server_event(&mut s, b"STOU\r\n") else {
        panic!("no transfer");
    };
    s.data_unique_name(transfer.id, b"upload.1").unwrap();
    s.data_connected(transfer.id).unwrap();
    assert_eq!(drain_transmit(&mut s), b"150 FILE: upload.1\r\n");
    s.data_finished(transfer.id, 3).unwrap();
    assert!(drain_transmit(&mut s).starts_with(b"226 "));
    // The name is a reply text: no line breaks in it, and only for STOU.
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) =
        server_event(&mut s, b"PASV\r\n").and_then(|_| {
            s.passive_ready(common::SERVER_DATA.parse().unwrap()).unwrap();
            server_event(&mut s, b"STOU x\r\n")
        })
    else {
        panic!("no transfer");
    };
    assert!(s.data_unique_name(transfer.id, b"a\r\n226 fake").is_err());
    s.data_reused(transfer.id).unwrap();
    s.data_finished(transfer.id, 0).unwrap();
    let out = drain_transmit(&mut s);
    assert!(out.starts_with(b"227 "), "{}", String::from_utf8_lossy(&out));
}

// RFC 3659 2.3: time-val = 14DIGIT [ "." 1*DIGIT ]; the fraction digits "may
// be given to whatever precision is appropriate to the circumstance". A
// server that sends ten or more of them sends a valid MDTM reply and a valid
// modify fact.
#[test]
fn time_val_fraction_of_any_precision_parses() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.mdtm(b"f").unwrap();
    drain_transmit(&mut c);
    c.handle_input(b"213 20240102030405.1234567890123\r\n");
    let want = Timestamp {
        nanos: 123_456_789,
        ..Timestamp::new(2024, 1, 2, 3, 4, 5).unwrap()
    };
    assert_eq!(client_events(&mut c), vec![ClientEvent::Modified(want)]);
    let e = ftp_proto::list::parse_mlsx(b"type=file;modify=20240102030405.1234567890; f").unwrap();
    assert_eq!(e.modify, Some(want));
    // Still no "." without a digit, and no other byte among the digits.
    assert_eq!(Timestamp::parse_time_val(b"20240102030405."), None);
    assert_eq!(Timestamp::parse_time_val(b"20240102030405.1234567890x"), None);
}

// RFC 3659 7.9.1: mlst-opt-resp = "MLST OPTS" [ SP 1*( factname ";" ) ]
// (no space without a fact after it), and "the list of facts returned will
// be the same as those marked by a trailing asterisk ("*") in a subsequent
// FEAT command response".
#[test]
fn feat_marks_the_facts_selected_by_opts_mlst() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    drain_transmit(&mut s);
    let feat_mlst = |s: &mut ServerSession| {
        assert_eq!(server_event(s, b"FEAT\r\n"), None);
        let out = drain_transmit(s);
        let line = out
            .split(|&c| c == b'\n')
            .find(|l| l.starts_with(b" MLST "))
            .unwrap()
            .to_vec();
        String::from_utf8(line).unwrap()
    };
    assert_eq!(
        feat_mlst(&mut s),
        " MLST type*;size*;modify*;perm*;unique*;UNIX.mode;\r"
    );
    assert_eq!(server_event(&mut s, b"OPTS MLST size;Type;\r\n"), None);
    assert_eq!(drain_transmit(&mut s), b"200 MLST OPTS size;Type;\r\n");
    assert_eq!(
        feat_mlst(&mut s),
        " MLST type*;size*;modify;perm;unique;UNIX.mode;\r"
    );
    assert_eq!(server_event(&mut s, b"OPTS MLST\r\n"), None);
    assert_eq!(drain_transmit(&mut s), b"200 MLST OPTS\r\n");
    assert_eq!(
        feat_mlst(&mut s),
        " MLST type;size;modify;perm;unique;UNIX.mode;\r"
    );
}

// RFC 3659 7.9: "Facts not included in the "OPTS MLST" command MUST NOT be
// returned by the server", and "the fact names set with the "OPTS MLST"
// command apply to both MLST and MLSD commands". The MLSD transfer must tell
// the application which facts to write.
#[test]
fn mlsd_transfer_carries_the_facts_selected_by_opts_mlst() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    s.handle_input(b"OPTS MLST type;\r\nPASV\r\n");
    let mut log = Vec::new();
    common::drain(&mut s, now, &mut log);
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = server_event(&mut s, b"MLSD\r\n") else {
        panic!("no transfer: {log:?}");
    };
    let only_type = ftp_proto::list::MlsxFacts {
        kind: true,
        size: false,
        modify: false,
        perm: false,
        unique: false,
        unix_mode: false,
    };
    assert_eq!(transfer.mlst_facts, only_type);
}

// RFC 959 4.1.3: ABOR is sent after the Telnet IP and Synch; RFC 854: the
// Synch is "IAC DM" sent as TCP urgent data, the DM being the urgent octet.
// A socket without SO_OOBINLINE takes that octet out of the stream, so the
// line reads IAC IP IAC ABOR: the IAC left over before the verb (which never
// holds 0xFF) belongs to the Synch, and the ABOR must still be seen.
#[test]
fn abor_after_a_synch_whose_dm_went_out_of_band_is_recognised() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    s.handle_input(b"PASV\r\n");
    let mut log = Vec::new();
    common::drain(&mut s, now, &mut log);
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = server_event(&mut s, b"RETR f\r\n") else {
        panic!("no transfer: {log:?}");
    };
    s.data_connected(transfer.id).unwrap();
    drain_transmit(&mut s);
    assert_eq!(
        server_event(&mut s, b"\xff\xf4\xffABOR\r\n"),
        Some(ServerEvent::AbortTransfer(transfer.id))
    );
    assert_eq!(
        drain_transmit(&mut s),
        b"426 Connection closed; transfer aborted\r\n226 Abort successful\r\n"
    );
}

// RFC 3659 4: "the result of the SIZE command is dependent on the currently
// established STRU, MODE, and TYPE parameters"; 4.1: the value suits REST
// "provided the transfer mode and type are not altered". The server starts
// in TYPE A (RFC 959 3.1.1.1 default) and a listing leaves TYPE A set, so a
// client that asks SIZE to resume a TYPE I transfer must set TYPE I first.
#[test]
fn size_is_asked_in_the_type_files_are_moved_in() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    c.size(b"f").unwrap();
    assert_eq!(drain_transmit(&mut c), b"TYPE I\r\n");
    c.handle_input(b"200 ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"SIZE f\r\n");
    c.handle_input(b"213 42\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::Size(42)]);
    // TYPE I is now known: the next SIZE goes straight out, and so does RETR's.
    c.size(b"g").unwrap();
    assert_eq!(drain_transmit(&mut c), b"SIZE g\r\n");
    c.handle_input(b"213 7\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::Size(7)]);
    c.retr(b"g", 7).unwrap();
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\n");
}

// RFC 3659 2.3 (time-val: month 01--12, day 01--31, ...) and 7.5.3 (modify
// is a time-val): write_mlsx wrote whatever digits an out-of-range time
// gave, a fact that no reader parses, where write_unix refuses such a time.
#[test]
fn write_mlsx_refuses_a_time_out_of_range() {
    use ftp_proto::list::{FileInfo, FileKind, MlsxFacts, write_mlsx};
    let good = Timestamp::new(2024, 1, 2, 3, 4, 5).unwrap();
    for bad in [
        Timestamp { month: 13, ..good },
        Timestamp { day: 0, ..good },
        Timestamp {
            nanos: 1_000_000_000,
            ..good
        },
    ] {
        let f = FileInfo {
            name: b"f",
            kind: FileKind::File,
            size: 1,
            modified: bad,
            mode: 0o644,
            links: 1,
            owner: b"o",
            group: b"g",
            link_target: None,
            perm: None,
            unique: None,
        };
        let mut out = bytes::BytesMut::new();
        assert!(write_mlsx(&f, MlsxFacts::default(), &mut out).is_err(), "{bad:?}");
        assert!(out.is_empty());
    }
}

// RFC 959 3.1.1 and 4.1.2 (TYPE): the type stays in force until changed.
// An ABOR sent while the reply to TYPE is due does not undo the TYPE: the
// server switched. A client that still believes the old type skips TYPE on
// the next transfer, and a binary file then moves in TYPE A (altered data).
#[test]
fn abort_during_type_does_not_leave_a_stale_type() {
    let now = Instant::now();
    let mut c = logged_in_client(now);
    // TYPE I becomes known.
    c.size(b"f").unwrap();
    drain_transmit(&mut c);
    c.handle_input(b"200 ok\r\n213 1\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::Size(1)]);
    assert_eq!(drain_transmit(&mut c), b"SIZE f\r\n");
    // A listing sends TYPE A; ABOR goes out before its reply.
    c.list(None).unwrap();
    assert_eq!(drain_transmit(&mut c), b"TYPE A\r\n");
    c.abort().unwrap();
    assert_eq!(drain_transmit(&mut c), b"ABOR\r\n");
    c.handle_input(b"200 Type set to A\r\n225 No transfer to abort\r\n");
    assert!(matches!(&client_events(&mut c)[..], [ClientEvent::Aborted(_)]));
    // The server is in TYPE A now: a download must set TYPE I again.
    c.retr(b"f", 0).unwrap();
    assert_eq!(drain_transmit(&mut c), b"TYPE I\r\n");
}

// RFC 4217 9 (note 2, with RFC 2228 4): "The PASS command might not be
// required at all ... The server would indicate this by issuing a '232'
// reply to the USER command instead of the '331'"; RFC 1123 4.1.2.11: "A
// User-FTP SHOULD generally use only the highest-order digit of a 3-digit
// reply code for making a procedural decision".
#[test]
fn login_completed_by_232_or_any_2xx() {
    let now = Instant::now();
    let config = alice(None);
    let mut c = ClientSession::new(config.clone(), "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n211 End\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\nUSER alice\r\n");
    c.handle_input(b"232 User logged in, authorized by security data exchange\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::LoggedIn]);
    // A 2xx other than 230/202 after PASS completes the login too.
    let mut c = ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n211 End\r\n331 pw\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\nUSER alice\r\nPASS secret\r\n");
    c.handle_input(b"231 ok\r\n");
    assert_eq!(client_events(&mut c), vec![ClientEvent::LoggedIn]);
}

// RFC 1123 4.1.2.2: "A host that makes no distinction between TYPE N and
// TYPE T SHOULD implement TYPE T to be identical to TYPE N."
#[test]
fn type_a_t_is_taken_as_type_a_n() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    drain_transmit(&mut s);
    assert_eq!(server_event(&mut s, b"TYPE I\r\nTYPE A T\r\n"), None);
    assert_eq!(
        drain_transmit(&mut s),
        b"200 Type set to I\r\n200 Type set to A\r\n"
    );
}

// RFC 1123 4.1.2.11: "A User-FTP MUST be able to handle multi-line replies.
// If the implementation imposes a limit on the number of lines and if this
// limit is exceeded, the User-FTP MUST recover, e.g., by ignoring the excess
// lines until the end of the multi-line reply is reached."
#[test]
fn multiline_reply_over_the_limit_is_cut_not_fatal() {
    let now = Instant::now();
    let config = ClientConfig {
        limits: Limits {
            reply: 256,
            ..Limits::default()
        },
        ..alice(None)
    };
    let mut feat = b"211-Features:\r\n EPSV\r\n".to_vec();
    for i in 0..100 {
        feat.extend_from_slice(format!(" X-FEATURE-{i} with some parameters\r\n").as_bytes());
    }
    feat.extend_from_slice(b"211 End\r\n");
    // Whole and byte by byte: the same outcome.
    for split in [feat.len(), 1] {
        let mut c = ClientSession::new(config.clone(), "203.0.113.1:21".parse().unwrap(), now);
        c.handle_input(b"220 hi\r\n");
        assert!(client_events(&mut c).is_empty());
        assert_eq!(drain_transmit(&mut c), b"FEAT\r\n");
        for chunk in feat.chunks(split) {
            c.handle_input(chunk);
            assert!(client_events(&mut c).is_empty());
        }
        // The lines that fit were kept, the rest skipped up to "211 End".
        assert!(c.features().has("EPSV"));
        assert!(!c.features().has("X-FEATURE-99"));
        assert_eq!(drain_transmit(&mut c), b"USER alice\r\n");
        c.handle_input(b"331 pw\r\n");
        assert!(client_events(&mut c).is_empty());
        assert_eq!(drain_transmit(&mut c), b"PASS secret\r\n");
        c.handle_input(b"230 ok\r\n");
        assert_eq!(client_events(&mut c), vec![ClientEvent::LoggedIn]);
    }
}

/// The cut of an over-long multi-line reply does not depend on how the
/// bytes arrive (the fuzz oracle's split invariance), last line long or short.
#[test]
fn cut_multiline_reply_is_split_invariant() {
    for last in [
        b"211 End\r\n".to_vec(),
        [&b"211 "[..], &[b'x'; 3000], b"\r\n"].concat(),
    ] {
        let mut input = b"220 hi\r\n211-Features:\r\n EPSV\r\n".to_vec();
        for i in 0..80 {
            input.extend_from_slice(format!(" X-{i} {}\r\n", "p".repeat(i)).as_bytes());
        }
        input.extend_from_slice(&last);
        input.extend_from_slice(b"331 pw\r\n230 ok\r\n");
        for seed in 0..8u8 {
            let mut data = vec![seed];
            data.extend_from_slice(&input);
            ftp_proto::fuzzing::client_session(&data);
        }
        let (sent, log) = ftp_proto::fuzzing::run_client(&[&input]);
        assert!(log.iter().any(|l| l == "LoggedIn"), "{log:?}");
        assert!(
            sent.starts_with(b"FEAT\r\nUSER"),
            "{}",
            String::from_utf8_lossy(&sent)
        );
    }
}
