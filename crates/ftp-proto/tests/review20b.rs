//! Review session 20, second pass: each test cites the rule it checks and
//! failed on the code before its fix, except the one marked as a guard,
//! which pins what its neighbour's fix must keep.

mod common;

use common::{alice, client_events, logged_in_client_with, logged_in_server_with};

use ftp_proto::client::{ClientEvent, ClientTls, Op};
use ftp_proto::server::{DataMode, TransferKind};
use ftp_proto::{ClientConfig, ClientSession, ServerConfig, ServerEvent};
use proto_core::{Secret, drain_transmit};
use std::time::Instant;

// RFC 3659 5.3: "Server-FTP processes may permit transfer commands other
// than RETR and STOR, such as APPE and STOU, to complete a restart; however,
// this is not recommended. [...] If APPE (append) is permitted, it MUST act
// identically to STOR when a restart marker has been set. That is, in both
// cases, octets from the data connection are placed into the file at the
// location indicated by the restart marker value."
// The server ran `REST 5` + `APPE f` as a plain append at the end of the
// file: the marker was dropped and the octets landed in the wrong place.
#[test]
fn appe_after_rest_acts_as_stor_at_the_marker() {
    let now = Instant::now();
    let mut s = logged_in_server_with(common::server_config(), now);
    s.handle_input(b"REST 5\r\nPORT 192,0,2,10,40,0\r\nAPPE f\r\n");
    match s.poll_event().unwrap() {
        Some(ServerEvent::OpenDataChannel { transfer, .. }) => {
            assert_eq!(transfer.kind, TransferKind::Store, "{transfer:?}");
            assert_eq!(transfer.offset, 5, "{transfer:?}");
            assert_eq!(transfer.path.as_deref(), Some(&b"/f"[..]));
        }
        other => panic!("{other:?}"),
    }
    // Without a marker APPE stays an append.
    let mut s = logged_in_server_with(common::server_config(), now);
    s.handle_input(b"PORT 192,0,2,10,40,0\r\nAPPE f\r\n");
    match s.poll_event().unwrap() {
        Some(ServerEvent::OpenDataChannel { transfer, .. }) => {
            assert_eq!((transfer.kind, transfer.offset), (TransferKind::Append, 0));
        }
        other => panic!("{other:?}"),
    }
}

// RFC 959 4.1.2 (PORT): the argument is "the concatenation of a 32-bit
// internet host address and a 16-bit TCP port address"; RFC 2428 2 (EPRT)
// likewise names "the TCP port number on which the host is listening for
// the data connection". Port 0 is no port anything listens on (it only asks
// the system to pick one when binding). With `allow_low_active_ports` on,
// the server accepted PORT and EPRT to port 0 and would have had the driver
// connect there.
#[test]
fn port_and_eprt_to_port_zero_are_refused() {
    let now = Instant::now();
    let config = ServerConfig {
        allow_low_active_ports: true,
        ..common::server_config()
    };
    for line in [&b"PORT 192,0,2,10,0,0\r\n"[..], b"EPRT |1|192.0.2.10|0|\r\n"] {
        let mut s = logged_in_server_with(config.clone(), now);
        s.handle_input(line);
        assert_eq!(s.poll_event().unwrap(), None);
        let out = drain_transmit(&mut s);
        assert!(out.starts_with(b"501 "), "{}", String::from_utf8_lossy(&out));
        assert_eq!(s.data_mode(), None);
    }
    // A low port other than 0 is still allowed by the option.
    let mut s = logged_in_server_with(config, now);
    s.handle_input(b"PORT 192,0,2,10,0,20\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(drain_transmit(&mut s).starts_with(b"200 "));
    assert_eq!(
        s.data_mode(),
        Some(DataMode::Active("192.0.2.10:20".parse().unwrap()))
    );
}

// RFC 959 4.1.1 (ACCT): "if the account information is needed for a
// command issued later in the dialogue, the server should return a 332 or
// 532 reply depending on whether it stores (pending receipt of the ACCounT
// command) or discards the command, respectively." And 4.2: a 3yz reply
// means "The command has been accepted, but the requested action is being
// held in abeyance, pending receipt of further information."
// The client reported a 332 answer to CWD as `Done` (success) though the
// directory was not changed, and never sent the account it was given.
#[test]
fn account_asked_for_a_later_command_is_sent_and_not_taken_as_success() {
    let now = Instant::now();
    let mut c = logged_in_client_with(alice(Some(b"acct1")), now);
    c.cwd(b"/pub").unwrap();
    assert_eq!(drain_transmit(&mut c), b"CWD /pub\r\n");
    c.handle_input(b"332 Need account\r\n");
    assert_eq!(client_events(&mut c), vec![]);
    assert_eq!(drain_transmit(&mut c), b"ACCT acct1\r\n");
    c.handle_input(b"250 Directory changed\r\n");
    let ev = client_events(&mut c);
    assert!(
        matches!(&ev[..], [ClientEvent::Done { op: Op::Cwd, reply }] if reply.code == 250),
        "{ev:?}"
    );
    assert!(c.is_ready());

    // Without an account to give, the operation failed.
    let mut c = logged_in_client_with(alice(None), now);
    c.delete(b"f").unwrap();
    drain_transmit(&mut c);
    c.handle_input(b"332 Need account\r\n");
    let ev = client_events(&mut c);
    assert!(
        matches!(&ev[..], [ClientEvent::Failed { op: Op::Delete, reply }] if reply.code == 332),
        "{ev:?}"
    );
    assert!(drain_transmit(&mut c).is_empty());
}

// RFC 1123 4.1.2.11: "A User-FTP SHOULD generally use only the highest-order
// digit of a 3-digit reply code for making a procedural decision, to
// prevent difficulties when a Server-FTP uses non-standard reply codes."
// The client went on after RNFR and REST only on exactly 350, so a server
// that answers them with another 3yz (the command accepted, pending the
// next one) had the rename or the resumed transfer fail.
#[test]
fn rnfr_and_rest_go_on_after_any_positive_intermediate_reply() {
    let now = Instant::now();
    let mut c = logged_in_client_with(alice(None), now);
    c.rename(b"a", b"b").unwrap();
    assert_eq!(drain_transmit(&mut c), b"RNFR a\r\n");
    c.handle_input(b"351 File exists, send RNTO\r\n");
    assert_eq!(client_events(&mut c), vec![]);
    assert_eq!(drain_transmit(&mut c), b"RNTO b\r\n");
    c.handle_input(b"250 Renamed\r\n");
    let ev = client_events(&mut c);
    assert!(
        matches!(&ev[..], [ClientEvent::Done { op: Op::Rename, .. }]),
        "{ev:?}"
    );

    let mut c = logged_in_client_with(alice(None), now);
    c.retr(b"f", 10).unwrap();
    assert_eq!(drain_transmit(&mut c), b"TYPE I\r\n");
    c.handle_input(b"200 ok\r\n");
    client_events(&mut c);
    assert_eq!(drain_transmit(&mut c), b"EPSV\r\n");
    c.handle_input(b"229 Entering Extended Passive Mode (|||5000|)\r\n");
    client_events(&mut c);
    assert_eq!(drain_transmit(&mut c), b"REST 10\r\n");
    c.handle_input(b"355 Restarting at 10\r\n");
    assert_eq!(client_events(&mut c), vec![]);
    assert_eq!(drain_transmit(&mut c), b"RETR f\r\n");

    // A 332 is still no go-ahead: the server wants an account first.
    let mut c = logged_in_client_with(alice(None), now);
    c.rename(b"a", b"b").unwrap();
    drain_transmit(&mut c);
    c.handle_input(b"332 Need account\r\n");
    let ev = client_events(&mut c);
    assert!(
        matches!(&ev[..], [ClientEvent::Failed { op: Op::Rename, .. }]),
        "{ev:?}"
    );
    assert!(drain_transmit(&mut c).is_empty());
}

// RFC 3659 7.5.1: the type fact's value is `"file" / "cdir" / "pdir" /
// "dir" / os-type`, with `os-type = "OS." os-name "=" os-kind`. For a file
// of a kind it does not know, `write_mlsx` wrote `type=OS.unknown;`: no
// "=" and no os-kind, a value outside that grammar that a strict reader
// refuses. Facts may be left out (7.5: a server supplies those it can), so
// the type of an unknown kind is now not written at all.
#[test]
fn write_mlsx_writes_no_type_outside_the_grammar() {
    use ftp_proto::list::{FileInfo, FileKind, MlsxFacts, parse_mlsx, write_mlsx};
    let info = FileInfo {
        name: b"odd",
        kind: FileKind::Other,
        size: 3,
        modified: ftp_proto::Timestamp::new(2024, 1, 2, 3, 4, 5).unwrap(),
        mode: 0o644,
        links: 1,
        owner: b"ftp",
        group: b"ftp",
        link_target: None,
        perm: None,
        unique: None,
    };
    let mut out = bytes::BytesMut::new();
    write_mlsx(&info, MlsxFacts::default(), &mut out).unwrap();
    let e = parse_mlsx(&out).unwrap();
    for (name, value) in e.facts() {
        if name.eq_ignore_ascii_case(b"type") {
            let ok = [&b"file"[..], b"cdir", b"pdir", b"dir"]
                .iter()
                .any(|t| value.eq_ignore_ascii_case(t))
                || value.len() > 3
                    && value[..3].eq_ignore_ascii_case(b"OS.")
                    && value[3..]
                        .iter()
                        .position(|&c| c == b'=')
                        .is_some_and(|i| i > 0 && 3 + i + 1 < value.len());
            assert!(ok, "type={}", String::from_utf8_lossy(value));
        }
    }
    assert_eq!((e.name, e.kind), (&b"odd"[..], None));
}

// `parse_unix` documents its year inference as "the latest year that does
// not put the date more than a day after `now`" (ls shows a time, not a
// year, for recent files, and `write_unix` does so for a file up to a day
// ahead of `now`, for clocks that differ). Across New Year that year is the
// next one, but only `now`'s year and earlier ones were tried: a file
// stamped 1 January 10:00 listed at 23:00 on 31 December came back a whole
// year early, so `parse_unix(write_unix(x))` did not give `x`'s time.
#[test]
fn unix_date_just_after_new_year_gets_the_next_year() {
    use ftp_proto::Timestamp;
    use ftp_proto::list::{FileInfo, FileKind, parse_unix, write_unix};
    let now = Timestamp::new(2024, 12, 31, 23, 0, 0).unwrap();
    let e = parse_unix(b"-rw-r--r-- 1 ftp ftp 3 Jan  1 10:00 f", now).unwrap();
    assert_eq!(e.modified, Timestamp::new(2025, 1, 1, 10, 0, 0).unwrap());

    let modified = Timestamp::new(2025, 1, 1, 10, 0, 0).unwrap();
    let info = FileInfo {
        name: b"f",
        kind: FileKind::File,
        size: 3,
        modified,
        mode: 0o644,
        links: 1,
        owner: b"ftp",
        group: b"ftp",
        link_target: None,
        perm: None,
        unique: None,
    };
    let mut out = bytes::BytesMut::new();
    write_unix(&info, now, &mut out).unwrap();
    assert_eq!(
        parse_unix(&out, now).unwrap().modified,
        modified,
        "{:?}",
        String::from_utf8_lossy(&out)
    );

    // A date more than a day ahead still belongs to the year before.
    let e = parse_unix(b"-rw-r--r-- 1 ftp ftp 3 Jan  2 10:00 f", now).unwrap();
    assert_eq!(e.modified.year, 2024);
}

// RFC 3659 2.3: a time-val's year is "four digits giving the year, with a
// range of 1000--9999", and "Years in the tenth century, and earlier,
// cannot be expressed." The writers kept only the last four digits of a
// later year, so MFMT for the year 12024 set 2024 (another time than asked
// for), and a year below 1000 was written outside the range. They now
// refuse such times; `write_unix` refuses a year it cannot show in four
// digits as well.
#[test]
fn time_vals_outside_years_1000_to_9999_are_refused() {
    use ftp_proto::list::{FileInfo, FileKind, MlsxFacts, write_mlsx, write_unix};
    use ftp_proto::{Command, Timestamp};
    let far = Timestamp::new(12024, 5, 6, 7, 8, 9).unwrap();
    let early = Timestamp::new(999, 5, 6, 7, 8, 9).unwrap();
    let now = Timestamp::new(2024, 1, 1, 0, 0, 0).unwrap();
    for t in [far, early] {
        let mut out = bytes::BytesMut::new();
        let r = Command::Mfmt { time: t, path: b"f" }.encode(&mut out);
        assert!(r.is_err(), "{t:?} went as {:?}", String::from_utf8_lossy(&out));

        let info = FileInfo {
            name: b"f",
            kind: FileKind::File,
            size: 1,
            modified: t,
            mode: 0o644,
            links: 1,
            owner: b"ftp",
            group: b"ftp",
            link_target: None,
            perm: None,
            unique: None,
        };
        let mut out = bytes::BytesMut::new();
        let r = write_mlsx(&info, MlsxFacts::default(), &mut out);
        assert!(r.is_err(), "{t:?} went as {:?}", String::from_utf8_lossy(&out));
        if t == far {
            let mut out = bytes::BytesMut::new();
            let r = write_unix(&info, now, &mut out);
            assert!(r.is_err(), "{t:?} went as {:?}", String::from_utf8_lossy(&out));
        }
    }
    // The client refuses the operation instead of sending another time.
    let now_i = Instant::now();
    let mut c = logged_in_client_with(alice(None), now_i);
    assert!(c.mfmt(b"f", far).is_err());
    assert!(drain_transmit(&mut c).is_empty());
    // The server does not answer MDTM with such a time.
    let mut s = logged_in_server_with(common::server_config(), now_i);
    s.handle_input(b"MDTM f\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Request(_))));
    assert!(s.complete(ftp_proto::server::Outcome::Time(far)).is_err());
}

// RFC 959 4.2 / 5.4: the final reply to RETR (226/250) comes only when the
// data transfer has ended, after the 1yz that opened it; a transfer of a
// large file may take far longer than any reply timeout. `Limits::
// reply_timeout` is "how long a client waits for a reply", but the client
// counted it while the data connection was still moving data after a 150,
// so every download or upload longer than about two reply timeouts failed
// with `Timeout` (the driver in examples/ftp calls `handle_timeout` at
// `poll_timeout`). The same held after an early 226 while the data was
// still arriving. The wait for the final reply now starts when the data
// connection is done.
#[test]
fn a_long_transfer_does_not_time_out_the_control_connection() {
    use ftp_proto::Limits;
    use std::time::Duration;
    let t0 = Instant::now();
    let limit = Duration::from_secs(10);
    let config = ClientConfig {
        limits: Limits {
            reply_timeout: limit,
            ..Limits::default()
        },
        user: b"alice".to_vec(),
        password: Secret::new(b"secret".to_vec()),
        tls: ClientTls::Never,
        ..ClientConfig::default()
    };
    for early_226 in [false, true] {
        let mut c = ClientSession::new(config.clone(), "203.0.113.1:21".parse().unwrap(), t0);
        c.handle_input(b"220 hi\r\n211 no features\r\n");
        client_events(&mut c);
        c.handle_input(b"331 pw\r\n230 ok\r\n");
        client_events(&mut c);
        let id = c.retr(b"big.iso", 0).unwrap();
        c.handle_input(b"200 ok\r\n229 (|||5000|)\r\n150 Opening BINARY mode\r\n");
        if early_226 {
            c.handle_input(b"226 Transfer complete\r\n");
        }
        client_events(&mut c);
        // An hour of data on the data connection, the driver calling
        // handle_timeout whenever the session asks it to.
        let mut now = t0;
        for _ in 0..360 {
            now += limit;
            if c.poll_timeout().is_some_and(|t| t <= now) {
                c.handle_timeout(now);
            }
            assert!(
                c.poll_event().is_ok(),
                "timed out during the transfer (early 226: {early_226})"
            );
        }
        c.data_closed(id).unwrap();
        if !early_226 {
            // The final reply is awaited from here, with the usual limit.
            if c.poll_timeout().is_some_and(|t| t <= now) {
                c.handle_timeout(now);
            }
            assert!(client_events(&mut c).is_empty());
            c.handle_input(b"226 Transfer complete\r\n");
        }
        let ev = client_events(&mut c);
        assert!(
            matches!(&ev[..], [ClientEvent::TransferComplete { id: i, .. }] if *i == id),
            "{ev:?}"
        );
    }
}

// Guard: with the data connection done and no final reply, the reply
// timeout still applies.
#[test]
fn a_missing_final_reply_after_the_data_still_times_out() {
    use ftp_proto::{ErrorKind, Limits};
    use std::time::Duration;
    let t0 = Instant::now();
    let limit = Duration::from_secs(10);
    let config = ClientConfig {
        limits: Limits {
            reply_timeout: limit,
            ..Limits::default()
        },
        tls: ClientTls::Never,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), t0);
    c.handle_input(b"220 hi\r\n211 no features\r\n331 pw\r\n230 ok\r\n");
    client_events(&mut c);
    let id = c.retr(b"f", 0).unwrap();
    c.handle_input(b"200 ok\r\n229 (|||5000|)\r\n150 go\r\n");
    client_events(&mut c);
    c.data_closed(id).unwrap();
    let mut now = t0;
    let mut failed = false;
    for _ in 0..4 {
        now += limit;
        if let Some(t) = c.poll_timeout().filter(|&t| t <= now) {
            c.handle_timeout(t.max(now));
        }
        if let Err(e) = c.poll_event() {
            assert_eq!(e.kind, ErrorKind::Timeout);
            failed = true;
            break;
        }
    }
    assert!(failed);
}
