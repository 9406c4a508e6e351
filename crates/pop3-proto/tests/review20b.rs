//! Review session 20 (second pass): one test per confirmed bug, each citing
//! the rule it checks. Every test here failed on the code as it was before
//! its fix, except those marked as guards.

use bytes::Bytes;
use pop3_proto::{
    AuthOutcome, CloseReason, Maildrop, MessageInfo, ResponseCode, ServerConfig, ServerEvent, ServerSession,
    StatusLine,
};
use proto_core::{Session, drain_transmit};
use std::time::Instant;

fn server(cfg: impl FnOnce(&mut ServerConfig)) -> ServerSession {
    let mut c = ServerConfig::default();
    c.tls_active = true;
    cfg(&mut c);
    let mut s = ServerSession::new(c, Instant::now());
    drain_transmit(&mut s);
    s
}

/// Feeds `input`, drains every event, returns (events, output as text).
fn run(s: &mut ServerSession, input: &[u8]) -> (Vec<ServerEvent>, String) {
    s.handle_input(input);
    let mut evs = Vec::new();
    while let Ok(Some(ev)) = s.poll_event() {
        evs.push(ev);
    }
    (evs, String::from_utf8_lossy(&drain_transmit(s)).into_owned())
}

fn logins(evs: &[ServerEvent]) -> usize {
    evs.iter()
        .filter(|e| matches!(e, ServerEvent::Login { .. }))
        .count()
}

fn two_messages() -> Maildrop {
    Maildrop {
        messages: vec![
            MessageInfo {
                size: 10,
                uid: Bytes::from_static(b"uid-1"),
            },
            MessageInfo {
                size: 20,
                uid: Bytes::from_static(b"uid-2"),
            },
        ],
    }
}

fn logged_in() -> ServerSession {
    let mut s = server(|_| {});
    let (evs, _) = run(&mut s, b"USER u\r\nPASS p\r\n");
    assert_eq!(logins(&evs), 1);
    s.auth_finish(AuthOutcome::Success(two_messages())).unwrap();
    drain_transmit(&mut s);
    s
}

// RFC 1939 7, PASS: "may only be given in the AUTHORIZATION state
// immediately after a successful USER command". A USER that failed left the
// name of an earlier successful USER in place, so the PASS after it logged
// in as that earlier name.
#[test]
fn pass_after_a_failed_user_is_refused() {
    for failed_user in [&b"USER\r\n"[..], b"USER \xff\xfe\r\n"] {
        let mut s = server(|c| {
            c.utf8 = true;
            c.utf8_user = true;
        });
        let (_, out) = run(&mut s, b"USER alice\r\n");
        assert_eq!(out, "+OK send PASS\r\n");
        let (_, out) = run(&mut s, failed_user);
        assert!(out.starts_with("-ERR"), "{out}");
        let (evs, out) = run(&mut s, b"PASS secret\r\n");
        assert_eq!(logins(&evs), 0, "PASS logged in after {failed_user:?}");
        assert!(out.starts_with("-ERR"), "{out}");
    }
}

// RFC 1939 7, PASS: "may only be given in the AUTHORIZATION state
// immediately after a successful USER command". Any other command between
// them (a refused APOP, an out-of-state or unknown command, CAPA) left the
// USER in force.
#[test]
fn pass_not_immediately_after_user_is_refused() {
    let between: [&[u8]; 5] = [
        b"APOP alice 0123456789abcdef0123456789abcdef\r\n",
        b"NOOP\r\n",
        b"XYZZY\r\n",
        b"CAPA\r\n",
        b"AUTH\r\n",
    ];
    for cmd in between {
        let mut s = server(|_| {});
        let (_, out) = run(&mut s, b"USER alice\r\n");
        assert_eq!(out, "+OK send PASS\r\n");
        run(&mut s, cmd);
        let (evs, out) = run(&mut s, b"PASS secret\r\n");
        assert_eq!(
            logins(&evs),
            0,
            "PASS logged in after {:?}",
            String::from_utf8_lossy(cmd)
        );
        assert!(out.starts_with("-ERR"), "{out}");
    }
}

// Guard, RFC 1939 6: a session that ends without QUIT (here a QUIT with no
// CRLF, then EOF) deletes nothing.
#[test]
fn dele_then_eof_without_complete_quit_deletes_nothing() {
    let mut s = logged_in();
    let (evs, out) = run(&mut s, b"DELE 1\r\nQUIT");
    assert!(out.starts_with("+OK"), "{out}");
    assert!(evs.is_empty(), "{evs:?}");
    s.handle_eof();
    let mut evs = Vec::new();
    while let Ok(Some(ev)) = s.poll_event() {
        evs.push(ev);
    }
    assert_eq!(evs, vec![ServerEvent::Closed(CloseReason::Eof)]);
}

// Guard: deleted messages are refused by every command naming them and left
// out of both listings (RFC 1939 5, 7).
#[test]
fn deleted_messages_are_refused_and_unlisted() {
    let mut s = logged_in();
    run(&mut s, b"DELE 1\r\n");
    for cmd in [
        "RETR 1", "TOP 1 0", "LIST 1", "UIDL 1", "DELE 1", "LIST 0", "RETR 3", "TOP 0 1",
    ] {
        let (evs, out) = run(&mut s, format!("{cmd}\r\n").as_bytes());
        assert!(evs.is_empty(), "{cmd}: {evs:?}");
        assert!(out.starts_with("-ERR"), "{cmd}: {out}");
    }
    let (_, out) = run(&mut s, b"LIST\r\n");
    assert_eq!(out, "+OK 1 messages (20 octets)\r\n2 20\r\n.\r\n");
    let (_, out) = run(&mut s, b"UIDL\r\n");
    assert_eq!(out, "+OK unique-id listing follows\r\n2 uid-2\r\n.\r\n");
    let (_, out) = run(&mut s, b"STAT\r\n");
    assert_eq!(out, "+OK 1 20\r\n");
}
// RFC 2449 5: "Each capability line is limited to 512 octets (including
// the CRLF)."
#[test]
fn capa_lines_stay_within_512_octets() {
    let mut s = server(|c| {
        c.implementation = Some("i".repeat(600));
        c.expire = Some("NEVER ".repeat(100));
        c.sasl_mechanisms = (0..40).map(|i| format!("X-MECHANISM-NAME-{i:03}")).collect();
    });
    let (_, out) = run(&mut s, b"CAPA\r\n");
    for line in out.split_inclusive("\r\n") {
        assert!(line.len() <= 512, "{} octets: {}...", line.len(), &line[..40]);
    }
    assert!(out.contains("\r\nUIDL\r\n"), "{out}");
    assert!(out.contains("\r\nSASL X-MECHANISM-NAME-000 "), "{out}");
}

// RFC 2449 8: "The response code is hierarchical, with a "/" separating
// levels of detail about the error. Clients MUST ignore unknown hierarchical
// detail about the response code." A known code with more detail was read
// as an unknown code, so a client could not tell [IN-USE/...] from any
// other failure (and would, say, not retry later).
#[test]
fn response_codes_ignore_unknown_detail() {
    for (line, want) in [
        (&b"-ERR [IN-USE/OTHER-HOST] locked"[..], ResponseCode::InUse),
        (b"-ERR [sys/temp/disk] try later", ResponseCode::SysTemp),
        (b"-ERR [SYS/PERM/QUOTA] no", ResponseCode::SysPerm),
        (b"-ERR [AUTH/EXPIRED] no", ResponseCode::Auth),
        (b"-ERR [LOGIN-DELAY/60] wait", ResponseCode::LoginDelay),
    ] {
        let st = StatusLine::parse(&Bytes::from_static(line)).unwrap();
        assert_eq!(st.code, Some(want), "{}", String::from_utf8_lossy(line));
    }
    // Not a level boundary, or an unknown top level: other codes.
    for line in [
        &b"-ERR [IN-USEX] no"[..],
        b"-ERR [SYS/OTHER] no",
        b"-ERR [X-AUTH] no",
    ] {
        let st = StatusLine::parse(&Bytes::from_static(line)).unwrap();
        assert!(matches!(st.code, Some(ResponseCode::Other(_))), "{st:?}");
    }
}

// RFC 6856 2.1: "When UTF-8 mode has not been enabled, character strings
// outside the ASCII repertoire MUST NOT be sent to the client as is" (and
// RFC 2449 3: `schar` is printable ASCII). Application texts (the greeting,
// login failures, a failed update) went out as given.
#[test]
fn non_ascii_texts_only_in_utf8_mode() {
    let mut s = ServerSession::new(
        {
            let mut c = ServerConfig::default();
            c.tls_active = true;
            c.utf8 = true;
            c.greeting = "Grüße".into();
            c
        },
        Instant::now(),
    );
    let out = drain_transmit(&mut s);
    assert!(out.is_ascii(), "{}", String::from_utf8_lossy(&out));
    assert!(out.starts_with(b"+OK"));
    run(&mut s, b"USER u\r\nPASS p\r\n");
    s.auth_finish(AuthOutcome::Failure(pop3_proto::LoginFailure::sys_temp(
        "überlastet",
    )))
    .unwrap();
    let (_, out) = run(&mut s, b"");
    assert!(out.is_ascii() && out.starts_with("-ERR [SYS/TEMP]"), "{out}");
    // After UTF8 the text goes out as given.
    let (evs, out) = run(&mut s, b"UTF8\r\nUSER u\r\nPASS p\r\n");
    assert!(out.starts_with("+OK"), "{out}");
    assert_eq!(logins(&evs), 1);
    s.auth_finish(AuthOutcome::Failure(pop3_proto::LoginFailure::sys_temp(
        "überlastet",
    )))
    .unwrap();
    let (_, out) = run(&mut s, b"");
    assert_eq!(out, "-ERR [SYS/TEMP] überlastet\r\n");
}

// DESIGN.md quality bar: "no panics on bad input". Sizes the application
// lists at login are added up for STAT, RSET and the login reply; sizes
// whose sum passes u64::MAX panicked on overflow (debug builds) or wrapped.
#[test]
fn huge_maildrop_sizes_do_not_overflow() {
    let mut s = server(|_| {});
    run(&mut s, b"USER u\r\nPASS p\r\n");
    let big = |uid: &'static [u8]| MessageInfo {
        size: u64::MAX,
        uid: Bytes::from_static(uid),
    };
    s.auth_finish(AuthOutcome::Success(Maildrop {
        messages: vec![big(b"a"), big(b"b")],
    }))
    .unwrap();
    let (_, out) = run(&mut s, b"STAT\r\n");
    assert!(out.contains(&format!("+OK 2 {}\r\n", u64::MAX)), "{out}");
}

// Guard, RFC 2449 6.6 (responses in the order of the commands) and RFC 2449
// 4 (255-octet commands): an over-long line, whole or in pieces, gets one
// -ERR and the next command its own answer.
#[test]
fn over_long_line_gets_one_answer() {
    let long = format!("LANG {}\r\n", "a".repeat(3000));
    for piece in [1usize, 7, 100, 4096] {
        let mut s = logged_in();
        let input = format!("{long}NOOP\r\n");
        let mut out = String::new();
        for chunk in input.as_bytes().chunks(piece) {
            out.push_str(&run(&mut s, chunk).1);
        }
        assert_eq!(out.matches("\r\n").count(), 2, "piece {piece}: {out}");
        assert!(out.starts_with("-ERR") && out.ends_with("+OK\r\n"), "{out}");
    }
}

// RFC 6856 2.1: "If a client requests a UTF-8 message when UTF-8 mode is not
// enabled, the server MUST either send the client a surrogate message ... or
// fail the request with an -ERR response", and 5: the "UTF8" response code
// "indicates that a failure is due to a request for message content that
// contains a UTF-8 string when the client is not in UTF-8 mode" (valid for
// TOP and RETR). The application could only refuse with [SYS/TEMP] ("try
// later"), and could not ask the session whether UTF-8 mode was on.
#[test]
fn retr_of_a_utf8_message_can_be_refused_with_utf8_code() {
    let mut s = server(|c| c.utf8 = true);
    run(&mut s, b"USER u\r\nPASS p\r\n");
    s.auth_finish(AuthOutcome::Success(two_messages())).unwrap();
    drain_transmit(&mut s);
    assert!(!s.is_utf8_mode());
    let (evs, _) = run(&mut s, b"RETR 1\r\nNOOP\r\n");
    assert!(
        matches!(evs[..], [ServerEvent::Retrieve { msg: 1, .. }]),
        "{evs:?}"
    );
    s.message_needs_utf8("message needs UTF8 mode").unwrap();
    let (_, out) = run(&mut s, b"");
    assert_eq!(out, "-ERR [UTF8] message needs UTF8 mode\r\n+OK\r\n");
    // Once in UTF-8 mode the message is sent as it is.
    let mut s = server(|c| c.utf8 = true);
    run(&mut s, b"UTF8\r\nUSER u\r\nPASS p\r\n");
    s.auth_finish(AuthOutcome::Success(two_messages())).unwrap();
    assert!(s.is_utf8_mode());
    run(&mut s, b"RETR 1\r\n");
    assert!(s.message_needs_utf8("x").is_err());
}

fn logged_in_client() -> pop3_proto::ClientSession {
    use pop3_proto::{ClientConfig, ClientSession, Credentials, TlsMode};
    let mut c = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(proto_core::Secret::new("p".into())),
        ..Credentials::default()
    });
    c.tls = TlsMode::Implicit;
    let mut c = ClientSession::new(c, Instant::now());
    // Greeting, CAPA refused (no pipelining), USER, PASS.
    c.handle_input(b"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    assert!(c.is_logged_in());
    drain_transmit(&mut c);
    c
}

// RFC 1939 7, UIDL: the server answers with "a line containing information
// for that message" for each message, and a unique-id "uniquely identifies a
// message within a maildrop". A listing naming one message number twice
// with two ids cannot be trusted: the client kept the last id, so in
// DeleteKnown mode it deleted message 1 (id A, never downloaded) because
// the second line called it B, which it already had. Data loss.
#[test]
fn delete_known_never_deletes_on_an_ambiguous_uid_listing() {
    use pop3_proto::FetchMode;
    let mut c = logged_in_client();
    let known = std::iter::once(Bytes::from_static(b"B")).collect();
    c.fetch(FetchMode::DeleteKnown(known)).unwrap();
    let mut sent = drain_transmit(&mut c);
    c.handle_input(b"+OK\r\n1 A\r\n1 B\r\n.\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    sent.extend(drain_transmit(&mut c));
    c.handle_input(b"+OK\r\n1 10\r\n.\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    sent.extend(drain_transmit(&mut c));
    let sent = String::from_utf8_lossy(&sent).into_owned();
    // Message 1 counts as unknown: downloaded first, deleted only after.
    assert!(!sent.contains("DELE 1"), "{sent}");
    assert!(sent.ends_with("RETR 1\r\n"), "{sent}");
}
