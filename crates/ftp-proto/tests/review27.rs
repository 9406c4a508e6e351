//! Review (session 27, helper 3): an adversarial pass over the sessions.
//! Each test failed on the code before its fix; the rule it checks is quoted
//! above it.

mod common;

use common::{logged_in_server, logged_in_server_with, sent, server_config, server_event};
use ftp_proto::server::{Outcome, Request};
use ftp_proto::{ClientConfig, ClientEvent, ErrorKind, Limits, ServerConfig, ServerEvent, ServerSession};
use proto_core::drain_transmit;
use std::time::{Duration, Instant};

// RFC 959 4.1.3 (RNFR): "This command must be immediately followed by a
// 'rename to' command", and RFC 3659 5.3: REST is followed by the transfer
// it restarts. A line the server refused at the framing stage (too long, or
// a bare CR) is a command answered with 500 all the same, as a line that
// failed to parse is (review19): the RNTO after it gets 503, the RETR
// after it starts at 0.
#[test]
fn a_line_refused_by_the_framer_breaks_rnfr_and_rest_sequences() {
    let now = Instant::now();
    let long = [&b"NOOP "[..], &[b'x'; 5000], b"\r\n"].concat();
    for between in [&long[..], b"NOOP a\rb\r\n"] {
        let mut s = logged_in_server(now);
        assert!(matches!(
            server_event(&mut s, b"RNFR a\r\n"),
            Some(ServerEvent::Request(Request::RenameFrom(_)))
        ));
        s.complete(Outcome::Ok).unwrap();
        s.handle_input(between);
        assert_eq!(server_event(&mut s, b"RNTO b\r\n"), None);
        let out = sent(&mut s);
        assert!(out.ends_with("503 RNFR required first\r\n"), "{out}");

        assert_eq!(server_event(&mut s, b"REST 100\r\n"), None);
        s.handle_input(between);
        assert_eq!(server_event(&mut s, b"EPRT |1|192.0.2.10|40001|\r\n"), None);
        let Some(ServerEvent::OpenDataChannel { transfer, .. }) = server_event(&mut s, b"RETR f\r\n") else {
            panic!("no transfer")
        };
        assert_eq!(transfer.offset, 0, "REST survived a line between it and RETR");
        // During a transfer such a line waits its turn like any command:
        // its 500 must not come before the transfer's final reply, which
        // the client would take it for (RFC 959 5.4: replies in order).
        s.data_connected(transfer.id).unwrap();
        sent(&mut s);
        s.handle_input(b"NOOP\r\n");
        s.handle_input(between);
        assert_eq!(s.poll_event().unwrap(), None);
        assert_eq!(sent(&mut s), "");
        s.data_finished(transfer.id, 1).unwrap();
        assert_eq!(s.poll_event().unwrap(), None);
        let out = sent(&mut s);
        assert!(
            out.starts_with("226 Transfer complete (1 bytes)\r\n200 NOOP ok\r\n500 "),
            "{out}"
        );
    }
}

// RFC 2428 3: "The network protocol used by the data connection will be the
// same network protocol used by the control connection. In addition, the
// network address used to establish the data connection will be the same
// network address used for the control connection." and "EPSV<space><net-prt>
// ... If the requested protocol is supported by the server, it SHOULD use
// the protocol. If not, the server MUST return the 522 error messages". The
// 229 reply can name no other address than the control connection's, so an
// EPSV asking for the other protocol cannot be honoured: 522, not a listener.
#[test]
fn epsv_for_the_other_network_protocol_gets_522() {
    let now = Instant::now();
    for (peer, other, same, use_) in [
        ("192.0.2.10:40000", b"EPSV 2\r\n", b"EPSV 1\r\n", "(1)"),
        ("[2001:db8::10]:40000", b"EPSV 1\r\n", b"EPSV 2\r\n", "(2)"),
        ("[::ffff:192.0.2.10]:40000", b"EPSV 2\r\n", b"EPSV 1\r\n", "(1)"),
    ] {
        let mut s = ServerSession::new(server_config(), peer.parse().unwrap(), now);
        s.handle_input(b"USER anonymous\r\nPASS a@b\r\n");
        let Some(ServerEvent::Login { .. }) = s.poll_event().unwrap() else {
            panic!()
        };
        s.login_accept().unwrap();
        sent(&mut s);
        assert_eq!(server_event(&mut s, other), None, "{peer}");
        assert_eq!(
            sent(&mut s),
            format!("522 Network protocol not supported, use {use_}\r\n"),
            "{peer}"
        );
        assert_eq!(
            server_event(&mut s, same),
            Some(ServerEvent::PassiveListen { extended: true }),
            "{peer}"
        );
    }
}

// RFC 4217 4: "all other transfer parameters (other than the AUTH
// parameter) must be reset, almost as if a REIN command was issued. Reset
// transfer parameters after the AUTH command, including (but are not
// limited to): user identity, default data ports, TYPE, STRU, MODE, and
// current working directory." AUTH is taken whenever no user is logged in,
// also after a login that a new USER ended (RFC 959 4.1.1 lets USER change
// the user at any time); what was set in the clear before it stayed in
// force over TLS.
#[test]
fn auth_tls_resets_the_transfer_parameters() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    s.handle_input(b"TYPE I\r\nEPSV ALL\r\nOPTS MLST size;\r\nEPRT |1|192.0.2.10|40001|\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    s.handle_input(b"CWD /pub\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Request(_))));
    s.complete(Outcome::Ok).unwrap();
    s.handle_input(b"USER alice\r\nAUTH TLS\r\n");
    assert_eq!(s.poll_event().unwrap(), Some(ServerEvent::StartTls));
    s.tls_established().unwrap();
    sent(&mut s);
    s.handle_input(b"FEAT\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    let feat = sent(&mut s);
    assert!(
        feat.contains(" MLST type*;size*;modify*;perm*;unique*;UNIX.mode;\r\n"),
        "{feat}"
    );
    s.handle_input(b"USER anonymous\r\nPASS a@b\r\n");
    let Some(ServerEvent::Login { .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.login_accept().unwrap();
    sent(&mut s);
    // No data port left from before: the transfer needs a new one.
    s.handle_input(b"RETR f\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert_eq!(sent(&mut s), "425 Use PORT, PASV, EPRT or EPSV first\r\n");
    // EPSV ALL is gone, TYPE is back to A.
    assert_eq!(
        server_event(&mut s, b"PASV\r\n"),
        Some(ServerEvent::PassiveListen { extended: false })
    );
    s.passive_failed().unwrap();
    sent(&mut s);
    let Some(ServerEvent::Request(Request::Size { ascii, .. })) = server_event(&mut s, b"SIZE f\r\n") else {
        panic!()
    };
    assert!(ascii, "TYPE I set in the clear is still in force");
}

// RFC 959 4.1.3 (ABOR, STAT) and 5.4: during a transfer the server reads
// the commands that follow and keeps them for later. Limits::buffered_input
// says how much unread input the server holds "while nothing consumes it";
// the commands kept during a transfer were bounded only by their count (64
// lines of up to Limits::line bytes each), so a client could make the server
// hold 64 times the line limit whatever buffered_input said.
/// A logged-in server under `limits` with a RETR's data connection open,
/// its replies read; and the transfer's id.
fn server_in_a_transfer(limits: Limits, now: Instant) -> (ServerSession, ftp_proto::server::TransferId) {
    let config = ServerConfig {
        limits,
        ..server_config()
    };
    let mut s = logged_in_server_with(config, now);
    s.handle_input(b"EPRT |1|192.0.2.10|40001|\r\nRETR f\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.data_connected(transfer.id).unwrap();
    sent(&mut s);
    (s, transfer.id)
}

#[test]
fn commands_kept_during_a_transfer_are_bounded_by_buffered_input() {
    let now = Instant::now();
    let limits = Limits {
        buffered_input: 8192,
        failed_login_delay: Duration::ZERO,
        ..Limits::default()
    };
    let (mut s, _) = server_in_a_transfer(limits, now);
    let line = [&b"SITE "[..], &[b'x'; 3000], b"\r\n"].concat();
    let mut closed = None;
    for i in 0..20 {
        s.handle_input(&line);
        match s.poll_event() {
            Ok(None) => {}
            Err(e) => {
                closed = Some((i, e.kind));
                break;
            }
            Ok(Some(ev)) => panic!("{ev:?}"),
        }
    }
    let (i, kind) = closed.expect("20 lines of 3000 bytes kept with buffered_input 8192");
    assert!(i <= 3, "closed only after {i} lines");
    assert_eq!(kind, ErrorKind::Limit);
    assert!(sent(&mut s).ends_with("421 Too many commands during a transfer\r\n"));
}

/// Feeds `reply` to a logged-in client waiting for a NOOP's answer, in
/// pieces of `piece` bytes, polling after each; the events.
fn feed_in_pieces(reply_limit: usize, reply: &[u8], piece: usize) -> Vec<ClientEvent> {
    let now = Instant::now();
    let config = ClientConfig {
        limits: Limits {
            reply: reply_limit,
            ..Limits::default()
        },
        ..common::alice(None)
    };
    let mut c = common::logged_in_client_with(config, now);
    c.noop().unwrap();
    drain_transmit(&mut c);
    let mut events = Vec::new();
    for p in reply.chunks(piece) {
        c.handle_input(p);
        events.extend(common::client_events(&mut c));
    }
    events
}

// RFC 959 4.2 frames a multi-line reply by its last line, and RFC 1123
// 4.1.2.11 has a user-FTP take long ones (dropping the lines past its
// limit). The client looked for the end of the reply from its first byte
// again on every read, and for the end of a line from its first byte: a
// reply of many short lines, or a long line, arriving in small pieces cost
// time quadratic in its length (a hostile server sends a 1 MiB reply a few
// bytes per segment, or an endless one that the client cuts). Each piece
// must cost time in proportion to itself.
#[test]
fn a_long_multiline_reply_in_small_pieces_is_read_whole() {
    // No timing is asserted (the tests never time anything): the quadratic
    // scan took 17-70 s per case here, where the fixed one takes well under
    // a second, so a return of the old scan shows as a test that hangs.
    // Many short lines.
    let mut reply = b"200-start\r\n".to_vec();
    while reply.len() < 1 << 19 {
        reply.extend_from_slice(b"x\r\n");
    }
    reply.extend_from_slice(b"200 end\r\n");
    let events = feed_in_pieces(1 << 20, &reply, 128);
    let [ClientEvent::Done { reply: r, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(r.as_reply().lines().count(), (reply.len() - 20) / 3 + 2);
    // One long line.
    let reply = [&b"200-start\r\n"[..], &[b'x'; 1000 * 1024], b"\r\n200 end\r\n"].concat();
    let events = feed_in_pieces(1 << 20, &reply, 32);
    let [ClientEvent::Done { reply: r, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(r.as_reply().lines().nth(1).map(<[u8]>::len), Some(1000 * 1024));
    // Lines just under the limit in a reply the client cuts.
    let mut reply = b"200-start\r\n".to_vec();
    for _ in 0..16 {
        reply.extend_from_slice(&[b'x'; 120 * 1024]);
        reply.extend_from_slice(b"\r\n");
    }
    reply.extend_from_slice(b"200 end\r\n");
    let events = feed_in_pieces(128 * 1024, &reply, 8);
    let [ClientEvent::Done { reply, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(reply.text(), b"start");
}

// RFC 3659 2.2: "All implementations supporting MLST MUST support [RFC
// 2640]", whose 3.1 says of a pathname with a CR on the control
// connection: it "MUST be padded with a <NUL> character prior to sending"
// and "On receipt of a pathname containing a <CR><NUL> sequence the <NUL>
// character MUST be stripped away". The client handed the MLST entry over
// with the NUL still in it, a name no later command could send (LF and NUL
// are refused in arguments), and the server withheld an MLST or STAT reply
// whose entry named a file with a CR instead of padding it.
#[test]
fn mlst_entries_carry_a_pathname_cr_as_cr_nul() {
    let now = Instant::now();
    let mut c = common::logged_in_client(now);
    c.mlst(Some(b"/a\rb")).unwrap();
    assert_eq!(drain_transmit(&mut c), b"MLST /a\r\0b\r\n");
    c.handle_input(b"250-Listing /a\r\0b\r\n type=file;size=3; /a\r\0b\r\n250 End\r\n");
    let entry = b"type=file;size=3; /a\rb".to_vec();
    assert_eq!(
        common::client_events(&mut c),
        [ClientEvent::MlstEntry(entry.clone())]
    );
    let name = ftp_proto::list::parse_mlsx(&entry).unwrap().name;
    c.retr(name, 0).expect("the name from MLST is one RETR can send");

    let mut s = logged_in_server(now);
    let Some(ServerEvent::Request(Request::Mlst { path, .. })) = server_event(&mut s, b"MLST a\r\0b\r\n")
    else {
        panic!()
    };
    assert_eq!(&path[..], b"/a\rb");
    let mut line = b"type=file;size=3; ".to_vec();
    line.extend_from_slice(&path);
    s.complete(Outcome::Lines(vec![line])).unwrap();
    assert_eq!(
        sent(&mut s),
        "250-Listing /a\r\0b\r\n type=file;size=3; /a\r\0b\r\n250 End\r\n"
    );
    // STAT lists over the control connection too (RFC 959 4.1.3).
    let Some(ServerEvent::Request(Request::Stat(_))) = server_event(&mut s, b"STAT a\r\0b\r\n") else {
        panic!()
    };
    s.complete_part(&[b"-rw-r--r-- 1 ftp ftp 3 Jan 02  2024 a\rb"])
        .unwrap();
    s.complete(Outcome::Lines(vec![
        b"-rw-r--r-- 1 ftp ftp 3 Jan 02  2024 c\rd".to_vec(),
    ]))
    .unwrap();
    assert_eq!(
        sent(&mut s),
        "213-Status follows:\r\n-rw-r--r-- 1 ftp ftp 3 Jan 02  2024 a\r\0b\r\n\
         -rw-r--r-- 1 ftp ftp 3 Jan 02  2024 c\r\0d\r\n213 End of status\r\n"
    );
    let Some(ServerEvent::Request(Request::Stat(_))) = server_event(&mut s, b"STAT e\r\n") else {
        panic!()
    };
    s.complete(Outcome::Lines(vec![
        b"-rw-r--r-- 1 ftp ftp 3 Jan 02  2024 e\rf".to_vec(),
    ]))
    .unwrap();
    assert_eq!(
        sent(&mut s),
        "213-Status follows:\r\n-rw-r--r-- 1 ftp ftp 3 Jan 02  2024 e\r\0f\r\n213 End of status\r\n"
    );
}

// RFC 959 4.2: after a preliminary reply "the user-process should expect
// another reply before proceeding with a new command", and the 5.4 state
// diagrams take one 1yz to a transfer command, then a completion or a
// failure. A hostile server that repeats the 150 made the client report
// the transfer started again each time: an application that starts
// sending an upload on TransferStarted would send it again.
#[test]
fn a_repeated_preliminary_reply_starts_the_transfer_once() {
    let now = Instant::now();
    let mut c = common::logged_in_client(now);
    let id = c.stor(b"up", 0).unwrap();
    assert_eq!(drain_transmit(&mut c), b"TYPE I\r\n");
    c.handle_input(b"200 ok\r\n229 (|||5000|)\r\n");
    let ev = common::client_events(&mut c);
    assert!(matches!(ev[..], [ClientEvent::OpenDataChannel { .. }]), "{ev:?}");
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\nSTOR up\r\n");
    c.handle_input(b"150 go\r\n150 go again\r\n125 and again\r\n");
    assert_eq!(common::client_events(&mut c), [ClientEvent::TransferStarted(id)]);
    c.data_closed(id).unwrap();
    c.handle_input(b"226 done\r\n");
    let ev = common::client_events(&mut c);
    assert!(matches!(ev[..], [ClientEvent::TransferComplete { .. }]), "{ev:?}");
}

// RFC 959 5.4: replies come in the order of the commands. STAT during a
// transfer (4.1.3: "the server shall respond with the status of the
// operation in progress") is answered at once, the transfer command's
// preliminary reply being out. A STAT that arrived before the 150 was
// answered ahead of it, and a client waiting for the RETR's first reply
// took the 211 for it (a 2yz: the transfer's completion, RFC 959 4.2). It
// waits its turn then, as other commands do.
#[test]
fn stat_before_the_preliminary_reply_waits_its_turn() {
    let now = Instant::now();
    let mut s = logged_in_server(now);
    s.handle_input(b"EPRT |1|192.0.2.10|40001|\r\nRETR f\r\nSTAT\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    assert_eq!(s.poll_event().unwrap(), None);
    s.data_connected(transfer.id).unwrap();
    let out = sent(&mut s);
    assert_eq!(
        out,
        "200 EPRT command successful\r\n150 Opening ASCII mode data connection\r\n"
    );
    s.data_finished(transfer.id, 3).unwrap();
    assert_eq!(s.poll_event().unwrap(), None);
    let out = sent(&mut s);
    assert!(
        out.starts_with("226 Transfer complete (3 bytes)\r\n211-FTP server status:\r\n"),
        "{out}"
    );
    // After the 150, a STAT is answered at once (RFC 959 4.1.3), ahead of
    // the commands kept for after the transfer.
    s.handle_input(b"EPRT |1|192.0.2.10|40001|\r\nRETR f\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!()
    };
    s.data_connected(transfer.id).unwrap();
    sent(&mut s);
    s.handle_input(b"NOOP\r\nSTAT\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(sent(&mut s).starts_with("211-FTP server status:\r\n"));
}

/// DESIGN.md: bytes that may hold secrets are redacted. A session's `Debug`
/// output (what `{:?}` in a log line or a panic message prints) showed its
/// buffers byte for byte: the client's PASS line not yet written (RFC 959
/// 4.1.1) and the server's pipelined PASS line not yet read, also while it
/// is held during a transfer.
#[test]
fn session_debug_shows_no_password() {
    const PW: &str = "Tanstaaf-pw-27";
    let now = Instant::now();
    let config = ClientConfig {
        password: proto_core::Secret::new(PW.as_bytes().to_vec()),
        ..common::alice(None)
    };
    let mut c = ftp_proto::ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), now);
    c.handle_input(b"220 hi\r\n211-Features:\r\n EPSV\r\n211 End\r\n331 pw\r\n");
    assert!(common::client_events(&mut c).is_empty());
    let debug = format!("{c:?} {c:#?}");
    assert!(!debug.contains(PW), "{debug}");

    let mut s = common::new_server(now);
    s.handle_input(format!("USER alice\r\nPASS {PW}\r\n").as_bytes());
    let debug = format!("{s:?} {s:#?}");
    assert!(!debug.contains(PW), "{debug}");
}

// RFC 959 4.2 replies are Telnet NVT lines (RFC 854): a CR is followed by
// LF or by NUL, and RFC 2640 3.1 pads a pathname's CR with NUL. The
// client took a bare CR or a NUL inside a reply line as text, handing it to
// the application (a log line, a name used in a later command), where the
// server's framer refuses both. Strict by default; `accept_bare_cr` is the
// named leniency.
#[test]
fn reply_lines_with_a_bare_cr_or_nul_are_refused_unless_lenient() {
    use ftp_proto::{Reply, ReplyConfig, ReplyError};
    let strict = ReplyConfig::default();
    let lenient = ReplyConfig {
        accept_bare_cr: true,
        ..strict
    };
    for (wire, err) in [
        (&b"220 a\rb\r\n"[..], ReplyError::BareCr),
        (b"220 a\r\r\n", ReplyError::BareCr),
        (b"220 a\0b\r\n", ReplyError::Nul),
        (b"211-x\r\n in\rner\r\n211 end\r\n", ReplyError::BareCr),
        (b"211-x\r\n \0\r\n211 end\r\n", ReplyError::Nul),
    ] {
        assert_eq!(Reply::parse(wire, &strict), Err(err.clone()), "{wire:?}");
        // Split anywhere, the same error.
        for cut in 1..wire.len() {
            let first = Reply::parse(&wire[..cut], &strict);
            assert!(
                matches!(first, Ok(None) | Err(_)),
                "{wire:?} cut at {cut}: {first:?}"
            );
            if let Err(e) = first {
                assert_eq!(e, err, "{wire:?} cut at {cut}");
            }
        }
        let (r, n) = Reply::parse(wire, &lenient).unwrap().unwrap();
        assert_eq!(n, wire.len());
        assert!(r.lines().count() >= 1);
    }
    // A CR padded with NUL is a pathname's CR (RFC 2640 3.1), taken strictly.
    let wire = b"257 \"a\r\0b\" created\r\n";
    let (r, _) = Reply::parse(wire, &strict).unwrap().unwrap();
    assert_eq!(ftp_proto::reply::parse_257_path(r.text()).unwrap(), b"a\rb");

    // The client session ends on such a reply, as on any malformed one.
    let now = Instant::now();
    let mut c = common::logged_in_client(now);
    c.noop().unwrap();
    drain_transmit(&mut c);
    c.handle_input(b"200 fine\rINJECTED\r\n");
    assert_eq!(c.poll_event().unwrap_err().kind, ErrorKind::Protocol);
    let mut c = common::logged_in_client_with(
        ClientConfig {
            accept_bare_cr: true,
            ..common::alice(None)
        },
        now,
    );
    c.noop().unwrap();
    drain_transmit(&mut c);
    c.handle_input(b"200 fine\rINJECTED\r\n");
    assert!(matches!(c.poll_event(), Ok(Some(ClientEvent::Done { .. }))));
}

// How many commands the server keeps during a transfer (RFC 959 4.1.3 acts
// on ABOR and STAT at once, the rest wait their turn) was a hard-coded 64;
// it is Limits::deferred_commands now, and the bytes they hold are counted
// as they come and go. The commands kept are acted on, in order, once the
// transfer ends.
#[test]
fn commands_kept_during_a_transfer_follow_limits_deferred_commands() {
    let now = Instant::now();
    let start = |deferred_commands| {
        server_in_a_transfer(
            Limits {
                deferred_commands,
                ..Limits::default()
            },
            now,
        )
    };
    // Three kept with room for three; the session goes on.
    let (mut s, _) = start(3);
    s.handle_input(b"NOOP\r\nNOOP\r\nNOOP\r\n");
    assert!(s.poll_event().unwrap().is_none());
    assert_eq!(sent(&mut s), "");
    // A fourth closes it.
    s.handle_input(b"NOOP\r\n");
    assert_eq!(s.poll_event().unwrap_err().kind, ErrorKind::Limit);
    assert!(sent(&mut s).ends_with("421 Too many commands during a transfer\r\n"));
    // Many more than 64 when the limit allows, answered after the transfer.
    let (mut s, id) = start(1000);
    s.handle_input(&b"NOOP\r\n".repeat(500));
    assert!(s.poll_event().unwrap().is_none());
    s.data_finished(id, 0).unwrap();
    let mut log = Vec::new();
    let out = common::drain(&mut s, now, &mut log);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.matches("200 ").count(), 500, "{out}");
}
