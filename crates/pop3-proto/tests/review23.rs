//! Review session 23: gaps left open by earlier reviews, each test citing the
//! rule it checks. Every test here failed on the code before its fix.

use bytes::Bytes;
use pop3_proto::{
    AuthOutcome, ClientConfig, ClientEvent, ClientSession, Credentials, FetchMode, Maildrop, MessageInfo,
    ServerConfig, ServerEvent, ServerSession, TlsMode, UsageError,
};
use proto_core::{Secret, Session, drain_transmit};
use std::time::Instant;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn info(uid: &'static [u8]) -> MessageInfo {
    MessageInfo {
        size: 10,
        uid: Bytes::from_static(uid),
    }
}

/// A server under TLS with USER and PASS given, waiting for the login decision.
fn server_at_login() -> ServerSession {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"USER u\r\nPASS p\r\n");
    while let Some(ev) = s.poll_event().unwrap() {
        if matches!(ev, ServerEvent::Login { .. }) {
            return s;
        }
    }
    panic!("no Login event");
}

// RFC 1939 7, UIDL: the unique-id "uniquely identifies a message within a
// maildrop and ... persists across sessions". A client that keeps the ids
// it has fetched skips (and in "delete known" mode deletes) a message whose
// id it knows, so a listing that gives two messages one id makes it skip or
// delete one it never downloaded. The session already refused an id of the
// wrong syntax; it took a maildrop with two messages of one id and listed
// both.
#[test]
fn a_maildrop_with_a_repeated_unique_id_is_refused() {
    let mut s = server_at_login();
    let dup = Maildrop {
        messages: vec![info(b"one"), info(b"two"), info(b"one")],
    };
    assert_eq!(
        s.auth_finish(AuthOutcome::Success(dup)),
        Err(UsageError::InvalidMaildrop("unique id"))
    );
    assert!(!s.is_authenticated());
    // The login is still waiting: a valid listing goes through.
    let ok = Maildrop {
        messages: vec![info(b"one"), info(b"two"), info(b"One")],
    };
    s.auth_finish(AuthOutcome::Success(ok)).unwrap();
    assert!(s.is_authenticated());
    s.handle_input(b"UIDL\r\n");
    while s.poll_event().unwrap().is_some() {}
    let out = text(&drain_transmit(&mut s));
    assert!(out.ends_with("1 one\r\n2 two\r\n3 One\r\n.\r\n"), "{out}");
}

/// A client logged in by USER/PASS to a server without CAPA (so without
/// pipelining: one command at a time).
fn logged_in_client() -> ClientSession {
    let mut cfg = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("p".into())),
        ..Credentials::default()
    });
    cfg.tls = TlsMode::Implicit;
    let mut c = ClientSession::new(cfg, Instant::now());
    c.handle_input(b"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    assert!(c.is_logged_in());
    drain_transmit(&mut c);
    c
}

/// Runs a fetch in `mode` against a server whose UIDL answer is `uidl` and
/// whose messages are `sizes` long (each RETR answered with that many
/// "x" and DELE with +OK); returns the commands the client sent.
fn fetch_against(mode: FetchMode, uidl: &[u8], sizes: &[usize]) -> String {
    let mut c = logged_in_client();
    c.fetch(mode).unwrap();
    let mut sent = String::new();
    let mut answers: Vec<Vec<u8>> = vec![uidl.to_vec()];
    let mut listing = b"+OK\r\n".to_vec();
    for (i, n) in sizes.iter().enumerate() {
        listing.extend_from_slice(format!("{} {n}\r\n", i + 1).as_bytes());
    }
    listing.extend_from_slice(b".\r\n");
    answers.push(listing);
    let mut done = false;
    for _ in 0..100 {
        let out = String::from_utf8(drain_transmit(&mut c)).unwrap();
        sent.push_str(&out);
        for cmd in out.lines() {
            let answer = match cmd.split(' ').collect::<Vec<_>>()[..] {
                ["RETR", n] => {
                    let size = sizes[n.parse::<usize>().unwrap() - 1];
                    format!("+OK\r\n{}\r\n.\r\n", "x".repeat(size)).into_bytes()
                }
                ["DELE", _] => b"+OK\r\n".to_vec(),
                _ if !answers.is_empty() => answers.remove(0),
                _ => panic!("unexpected {cmd}"),
            };
            c.handle_input(&answer);
        }
        while let Some(ev) = c.poll_event().unwrap() {
            if let ClientEvent::FetchDone { .. } = ev {
                done = true;
            }
        }
        if done {
            return sent;
        }
    }
    panic!("fetch never ended: {sent}");
}

// RFC 1939 7, UIDL: a unique-id "uniquely identifies a message within a
// maildrop". A server that gives two messages one id breaks that, and the
// client cannot tell which of them it fetched before. "Fetch only new,
// delete known" skipped both and deleted both, so a message it never
// downloaded was lost. Such an id now counts as unknown, as an id of a
// number listed twice already did: both messages are downloaded, and
// deleted only after.
#[test]
fn delete_known_never_deletes_on_a_unique_id_given_to_two_messages() {
    let known = std::iter::once(Bytes::from_static(b"A")).collect();
    let sent = fetch_against(
        FetchMode::DeleteKnown(known),
        b"+OK\r\n1 A\r\n2 A\r\n3 B\r\n.\r\n",
        &[3, 4, 5],
    );
    for n in 1..=3 {
        let retr = sent.find(&format!("RETR {n}\r\n"));
        let dele = sent.find(&format!("DELE {n}\r\n"));
        assert!(
            retr.is_some() && retr < dele,
            "message {n} deleted unread: {sent}"
        );
    }
}

/// The CAPA answer of a fresh server with `cfg`.
fn capa_of(cfg: ServerConfig) -> String {
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"CAPA\r\n");
    while s.poll_event().unwrap().is_some() {}
    text(&drain_transmit(&mut s))
}

// RFC 2449 6.7, EXPIRE: "Arguments: server-guaranteed minimum retention
// days, or NEVER; optionally followed by USER in AUTHENTICATION state".
// The per-user value given to `set_user_policy` was checked against that,
// but the configured one went out as written, so a client read "EXPIRE 30
// days" or "EXPIRE soon" as a policy it cannot parse. Such a text is now
// left out of CAPA, as one too long for its line already was.
#[test]
fn capa_leaves_out_an_expire_policy_that_is_not_days_or_never() {
    for (policy, want) in [
        ("30", Some("EXPIRE 30")),
        ("NEVER", Some("EXPIRE NEVER")),
        ("0", Some("EXPIRE 0")),
        ("5 USER", Some("EXPIRE 5 USER")),
        ("30 days", None),
        ("soon", None),
        ("-1", None),
        ("NEVER NEVER", None),
        ("USER", None),
    ] {
        let mut cfg = ServerConfig::default();
        cfg.expire = Some(policy.into());
        let capa = capa_of(cfg);
        let line = capa.lines().find(|l| l.starts_with("EXPIRE"));
        assert_eq!(line, want, "{policy:?}: {capa}");
    }
}

// RFC 6856 2.2: "When applying SASLprep to the APOP password argument, a
// compliant server or client MUST treat them as a stored string" (RFC 3454
// 7: no unassigned code points). Session 22 made the server's `check_apop`
// do so; the client still prepared the password as a query, so with a
// password holding U+0221 (unassigned in Unicode 3.2) it sent an APOP
// digest the server must refuse, a failed login, where USER/PASS (a query
// string, RFC 6856 2.2) would have logged in.
#[test]
fn client_apop_prepares_the_password_as_a_stored_string() {
    let run = |password: &str| {
        let mut cfg = ClientConfig::new(Credentials {
            username: "u".into(),
            password: Some(Secret::new(password.into())),
            ..Credentials::default()
        });
        cfg.tls = TlsMode::Implicit;
        let mut c = ClientSession::new(cfg, Instant::now());
        c.handle_input(b"+OK hi <1.2@test>\r\n+OK\r\nUSER\r\nUTF8 USER\r\n.\r\n");
        while let Ok(Some(_)) = c.poll_event() {}
        text(&drain_transmit(&mut c))
    };
    let sent = run("p\u{e4}ss\u{0221}");
    assert!(!sent.contains("APOP"), "{sent}");
    assert!(sent.ends_with("USER u\r\n"), "{sent}");
    // An assigned non-ASCII password still goes by APOP, prepared.
    let sent = run("pa\u{308}ss");
    let digest = pop3_proto::apop_digest(b"<1.2@test>", "p\u{e4}ss".as_bytes());
    assert!(sent.ends_with(&format!("APOP u {}\r\n", text(&digest))), "{sent}");
}

// RFC 6856 2.1: "When UTF-8 mode has not been enabled, character strings
// outside the ASCII repertoire MUST NOT be sent to the client as is." The
// session kept non-ASCII text out of the greeting and of every status line
// until UTF8 (or LANG), but sent a configured IMPLEMENTATION text (RFC 2449
// 6.9, free text) in CAPA as it was. It now goes out only once the client
// has enabled UTF-8.
#[test]
fn capa_sends_a_non_ascii_implementation_text_only_in_utf8_mode() {
    let mut cfg = ServerConfig::default();
    cfg.utf8 = true;
    cfg.implementation = Some("Srv\u{e9}r 1.0".into());
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"CAPA\r\n");
    while s.poll_event().unwrap().is_some() {}
    let before = drain_transmit(&mut s);
    assert!(before.is_ascii(), "{}", text(&before));
    s.handle_input(b"UTF8\r\nCAPA\r\n");
    while s.poll_event().unwrap().is_some() {}
    let after = text(&drain_transmit(&mut s));
    assert!(after.contains("\r\nIMPLEMENTATION Srv\u{e9}r 1.0\r\n"), "{after}");
    // An ASCII text goes out before UTF8 as ever.
    let mut cfg = ServerConfig::default();
    cfg.implementation = Some("Server 1.0".into());
    assert!(capa_of(cfg).contains("\r\nIMPLEMENTATION Server 1.0\r\n"));
}
