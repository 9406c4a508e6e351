//! Review session 27: an adversarial pass over the codec and both sessions,
//! each test citing the rule it checks. Every test here failed on the code
//! before its fix.

use bytes::Bytes;
use pop3_proto::{
    ClientConfig, ClientEvent, ClientSession, Command, CommandError, Credentials, FetchMode, ServerConfig,
    ServerEvent, ServerSession, TlsMode, UsageError,
};
use proto_core::{Secret, Session, drain_transmit};
use std::time::Instant;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A server under TLS (so USER/PASS are offered), greeting drained.
fn tls_server() -> ServerSession {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s
}

/// Feeds `input`, drains every event, returns (events, output as text).
fn run(s: &mut ServerSession, input: &[u8]) -> (Vec<ServerEvent>, String) {
    s.handle_input(input);
    let mut evs = Vec::new();
    while let Some(ev) = s.poll_event().unwrap() {
        evs.push(ev);
    }
    (evs, text(&drain_transmit(s)))
}

// RFC 2449 section 3: `param = 1*VCHAR`, and RFC 1939 section 7 widens
// PASS only to spaces. A NUL is no part of any command, and the encoder
// already refuses one (DESIGN.md: CR, LF or NUL in an argument). The
// parser took "USER alice\0admin" and "PASS pw\0x" and handed them to the
// application as a login, where NUL is the field separator of SASL PLAIN
// (RFC 4616 section 2): an application that checks USER/PASS through a
// PLAIN back end could be handed an authorization identity the client
// chose. Parse and encode now agree: such a line is a syntax error.
#[test]
fn nul_in_user_or_pass_is_a_syntax_error() {
    for line in [&b"USER alice\0admin"[..], b"PASS pw\0x", b"PASS \0", b"USER \0"] {
        let parsed = Command::parse(&Bytes::copy_from_slice(line));
        assert!(
            matches!(parsed, Err(CommandError::Syntax { .. })),
            "{}: {parsed:?}",
            text(line)
        );
    }
    let mut s = tls_server();
    let (evs, out) = run(&mut s, b"USER alice\0admin\r\nPASS pw\r\n");
    assert!(evs.is_empty(), "{evs:?}");
    assert!(out.starts_with("-ERR") && !out.contains("+OK"), "{out}");
    let (evs, out) = run(&mut s, b"USER alice\r\nPASS pw\0x\r\n");
    assert!(evs.is_empty(), "{evs:?}");
    assert_eq!(out.lines().filter(|l| l.starts_with("-ERR")).count(), 1, "{out}");
    // Spaces and tabs in a password are still the password (RFC 1939 7).
    let (evs, _) = run(&mut s, b"USER alice\r\nPASS a b\tc\r\n");
    assert!(
        matches!(&evs[..], [ServerEvent::Login { password, .. }] if password.expose() == b"a b\tc"),
        "{evs:?}"
    );
}

/// A client to an implicit-TLS server, logged in by USER/PASS to a server
/// without CAPA (so without pipelining: one command at a time).
fn logged_in_client(cfg: impl FnOnce(&mut ClientConfig)) -> ClientSession {
    let mut config = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("hunter2pw".into())),
        ..Credentials::default()
    });
    config.tls = TlsMode::Implicit;
    cfg(&mut config);
    let mut c = ClientSession::new(config, Instant::now());
    c.handle_input(b"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    assert!(c.is_logged_in());
    drain_transmit(&mut c);
    c
}

// RFC 1939 section 6: QUIT ends the session, so nothing may be queued
// after it; the check looked for a QUIT through every command still
// queued or unanswered on each call. Commands queue up while the server
// answers one at a time (no PIPELINING, RFC 2449 6.6), so an application
// that marks a large maildrop for deletion took quadratic time: 40 000
// DELE calls ran for 16 seconds. The session now remembers that QUIT was
// issued.
#[test]
fn queueing_many_commands_takes_linear_time() {
    // No timing is asserted (the tests never time anything): this many
    // took about a minute with the quadratic check, so its return shows as
    // a test that hangs; what is checked is the result.
    let mut c = logged_in_client(|_| {});
    for n in 1..=100_000 {
        c.dele(n).unwrap();
    }
    // Only the first went out; QUIT is still refused after QUIT.
    assert_eq!(text(&drain_transmit(&mut c)), "DELE 1\r\n");
    c.quit().unwrap();
    assert!(matches!(c.dele(1), Err(UsageError::WrongState(_))));
    assert!(matches!(c.quit(), Err(UsageError::WrongState(_))));
}

// RFC 2449 section 6 lets a capability line hold up to 512 octets, and
// `Limits::max_listing_entries` bounds the entries a client keeps of a
// CAPA answer; it counted lines, but one "SASL" line names up to 250
// mechanisms of one letter, each kept as a `Bytes` of 32 octets: 16 times
// the input, so a hostile server could make the client hold gigabytes
// within the default limit. Every mechanism name now counts as an entry.
#[test]
fn capa_limit_counts_every_sasl_name() {
    let mut cfg = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("p".into())),
        ..Credentials::default()
    });
    cfg.tls = TlsMode::Implicit;
    cfg.limits.max_listing_entries = 50;
    let mut c = ClientSession::new(cfg, Instant::now());
    let names: Vec<String> = (0..100).map(|i| format!("M{i}")).collect();
    let capa = format!("+OK hi\r\n+OK\r\nSASL {}\r\n.\r\n", names.join(" "));
    c.handle_input(capa.as_bytes());
    let err = loop {
        match c.poll_event() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("100 SASL names taken with a limit of 50"),
            Err(e) => break e,
        }
    };
    assert_eq!(
        err,
        pop3_proto::Error::Limit {
            what: "listing entries"
        }
    );
    // Within the limit, a long SASL line is read in full.
    let mut cfg = ClientConfig::new(Credentials::default());
    cfg.tls = TlsMode::Implicit;
    cfg.limits.max_listing_entries = 101;
    let mut c = ClientSession::new(cfg, Instant::now());
    c.handle_input(capa.as_bytes());
    while let Ok(Some(_)) = c.poll_event() {}
    assert_eq!(c.capabilities().map(|k| k.sasl.len()), Some(100));
}

// DESIGN.md: "a protocol error carries the offending bytes (redacted where
// they may hold secrets)"; `Secret` redacts itself in `Debug`. The sessions
// derived `Debug`, which printed their receive and transmit buffers as
// they are: a client's `{:?}` showed "PASS <password>" or the base64 of a
// SASL PLAIN initial response (RFC 4616 2: the password in the clear) while
// it waited to be written, and a server's showed a pipelined PASS line not
// yet parsed (RFC 1939 7). `Debug` now gives the state and buffer sizes.
#[test]
fn session_debug_shows_no_credentials() {
    // A client with PASS waiting to be written.
    let mut config = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("hunter2pw".into())),
        ..Credentials::default()
    });
    config.tls = TlsMode::Implicit;
    let mut c = ClientSession::new(config.clone(), Instant::now());
    c.handle_input(b"+OK hi\r\n-ERR\r\n+OK\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    let out = text(c.poll_transmit().unwrap());
    assert!(out.ends_with("PASS hunter2pw\r\n"), "{out}");
    let debug = format!("{c:?}");
    assert!(debug.starts_with("ClientSession"), "{debug}");
    assert!(!debug.contains("hunter2pw"), "{debug}");
    // A client with AUTH PLAIN and its initial response waiting.
    let mut c = ClientSession::new(config, Instant::now());
    c.handle_input(b"+OK hi\r\n+OK\r\nSASL PLAIN\r\n.\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    let out = text(c.poll_transmit().unwrap());
    let ir = out.split("AUTH PLAIN ").nth(1).expect(&out).trim_end();
    assert!(ir.len() > 8, "{out}");
    let debug = format!("{c:?}");
    assert!(!debug.contains(ir), "{debug}");
    // A server holding a pipelined PASS line it has not parsed yet.
    let mut s = tls_server();
    s.handle_input(b"USER u\r\nPASS hunter2pw\r\n");
    let debug = format!("{s:?}");
    assert!(debug.starts_with("ServerSession"), "{debug}");
    assert!(!debug.contains("hunter2pw"), "{debug}");
    // Parsed, it is a `Secret` in the event, and gone from the session.
    assert!(matches!(s.poll_event(), Ok(Some(ServerEvent::Login { .. }))));
    assert!(!format!("{s:?}").contains("hunter2pw"));
}

// RFC 1939 section 5, LIST: the server answers "a line containing
// information for" each message, so a message number comes once. A
// listing that named message 1 twice made a fetch download it twice (two
// MessageStart..MessageEnd of the same message, data the application
// stores twice) and send DELE 1 twice. A fetch now plans each message
// number once.
#[test]
fn fetch_takes_a_message_listed_twice_once() {
    let mut c = logged_in_client(|_| {});
    c.fetch(FetchMode::Delete).unwrap();
    let mut sent = String::new();
    let mut starts = Vec::new();
    let mut done = None;
    let mut answers: Vec<&[u8]> = vec![
        b"+OK\r\n1 a\r\n2 b\r\n.\r\n",
        b"+OK\r\n1 3\r\n1 3\r\n2 4\r\n.\r\n",
    ];
    for _ in 0..20 {
        let out = text(&drain_transmit(&mut c));
        sent.push_str(&out);
        for cmd in out.lines() {
            let answer: &[u8] = if cmd.starts_with("RETR") {
                b"+OK\r\nabc\r\n.\r\n"
            } else if cmd.starts_with("DELE") {
                b"+OK\r\n"
            } else {
                answers.remove(0)
            };
            c.handle_input(answer);
        }
        while let Some(ev) = c.poll_event().unwrap() {
            match ev {
                ClientEvent::MessageStart { msg, .. } => starts.push(msg),
                ClientEvent::FetchDone { fetched, deleted, .. } => done = Some((fetched, deleted)),
                _ => {}
            }
        }
        if done.is_some() {
            break;
        }
    }
    assert_eq!(starts, [1, 2], "{sent}");
    assert_eq!(done, Some((2, 2)), "{sent}");
    assert_eq!(sent.matches("DELE 1\r\n").count(), 1, "{sent}");
}

// RFC 6856 section 2.1: "Clients MUST NOT issue the "STLS" command
// [RFC2595] after issuing UTF8; servers MAY (but are not required to)
// enforce this by rejecting with an -ERR response an "STLS" command issued
// subsequent to a successful "UTF8" command." The server took STLS after
// UTF8 and kept UTF-8 mode under TLS, so a UTF8 command injected into the
// plaintext before STLS by a man in the middle (RFC 2595 section 4 protects
// only what follows STLS) made the server send 8-bit messages as they are
// (RFC 6856 2.1) to a client that never asked for UTF-8 mode. STLS is now
// refused after UTF8, and no longer advertised then (RFC 2595 section 4:
// the STLS capability says the command "is present and permitted in the
// current state"); the client, which sends UTF8 only after TLS, is
// unaffected.
#[test]
fn stls_is_refused_after_utf8() {
    let mut cfg = ServerConfig::default();
    cfg.stls = true;
    cfg.utf8 = true;
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    let (_, capa) = run(&mut s, b"CAPA\r\n");
    assert!(capa.lines().any(|l| l == "STLS"), "{capa}");
    let (evs, out) = run(&mut s, b"UTF8\r\nCAPA\r\nSTLS\r\n");
    assert!(!evs.contains(&ServerEvent::StartTls), "{evs:?}");
    assert!(!out.lines().any(|l| l == "STLS"), "{out}");
    assert!(
        out.trim_end().lines().last().unwrap().starts_with("-ERR"),
        "{out}"
    );
    assert!(!s.is_tls());
}

// RFC 1939 section 7: USER/PASS and APOP name one mailbox and carry no
// authorization identity; only SASL does (RFC 4422 section 3.4.1, RFC 4616
// section 2). The sasl crate already refuses a mechanism that cannot carry
// the authzid asked for (CRAM-MD5, LOGIN), but the client fell back to
// APOP or USER/PASS with the user name alone: asked to act as "bob" with
// the credentials of "admin", it logged into admin's own maildrop, where a
// deleting fetch then deleted admin's mail. With an authzid those methods
// are not used.
#[test]
fn login_without_sasl_refuses_an_authorization_identity() {
    for greeting in [&b"+OK hi\r\n"[..], b"+OK hi <1.2@host>\r\n"] {
        let mut config = ClientConfig::new(Credentials {
            username: "admin".into(),
            password: Some(Secret::new("pw".into())),
            authzid: Some("bob".into()),
            ..Credentials::default()
        });
        config.tls = TlsMode::Implicit;
        let mut c = ClientSession::new(config, Instant::now());
        c.handle_input(greeting);
        c.handle_input(b"+OK\r\nUSER\r\nSASL CRAM-MD5\r\n.\r\n");
        let err = loop {
            match c.poll_event() {
                Ok(Some(_)) => {}
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        let sent = text(&drain_transmit(&mut c));
        assert_eq!(sent, "CAPA\r\n", "{}", text(greeting));
        assert_eq!(err, Some(pop3_proto::Error::NoLoginMethod));
    }
    // An authzid equal to the user name, or empty, is no other identity.
    for authzid in ["", "admin"] {
        let mut config = ClientConfig::new(Credentials {
            username: "admin".into(),
            password: Some(Secret::new("pw".into())),
            authzid: Some(authzid.into()),
            ..Credentials::default()
        });
        config.tls = TlsMode::Implicit;
        let mut c = ClientSession::new(config, Instant::now());
        c.handle_input(b"+OK hi\r\n-ERR\r\n");
        while c.poll_event().unwrap().is_some() {}
        assert!(text(&drain_transmit(&mut c)).ends_with("USER admin\r\n"));
    }
}

// RFC 2449 section 4: "The maximum length of a command is increased ... to
// 255 octets, including the terminating CRLF" (`command = keyword *(SP
// param) CRLF ;255 octets maximum`, section 3), the bound a server must
// take (`Limits::max_command_line`, which a server of this crate enforces).
// The client kept it only for the AUTH initial response (RFC 5034 4); any
// other command went out at any length: the application's LANG argument,
// and a long password as a PASS line, which the server answers "line too
// long", so the login failed as if the password were wrong. Such a command
// is now refused before it is sent: an application command with a
// `UsageError`, a login line with `Error::Limit`; a SASL login still takes
// the long password (its lines have their own limit).
#[test]
fn client_keeps_commands_within_the_command_line_limit() {
    let mut c = logged_in_client(|_| {});
    let long = "x".repeat(300);
    assert!(matches!(c.lang(Some(&long)), Err(UsageError::Encode(_))));
    assert!(drain_transmit(&mut c).is_empty());
    c.lang(Some("en")).unwrap();
    assert_eq!(text(&drain_transmit(&mut c)), "LANG en\r\n");

    // USER/PASS only, a 300-octet password.
    let mut config = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new(long.clone())),
        ..Credentials::default()
    });
    config.tls = TlsMode::Implicit;
    let mut c = ClientSession::new(config.clone(), Instant::now());
    c.handle_input(b"+OK hi\r\n-ERR\r\n");
    let err = loop {
        match c.poll_event() {
            Ok(Some(_)) => {}
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(!text(&drain_transmit(&mut c)).contains("USER"));
    assert_eq!(
        err,
        Some(pop3_proto::Error::Limit {
            what: "command line length"
        })
    );
    // A raised limit lets it through.
    config.limits.max_command_line = 400;
    let mut c = ClientSession::new(config.clone(), Instant::now());
    c.handle_input(b"+OK hi\r\n-ERR\r\n+OK\r\n");
    while c.poll_event().unwrap().is_some() {}
    assert!(text(&drain_transmit(&mut c)).ends_with(&format!("PASS {long}\r\n")));
    // SASL PLAIN carries it after an empty challenge (RFC 5034 4).
    config.limits.max_command_line = 255;
    let mut c = ClientSession::new(config, Instant::now());
    c.handle_input(b"+OK hi\r\n+OK\r\nSASL PLAIN\r\n.\r\n");
    while c.poll_event().unwrap().is_some() {}
    assert!(text(&drain_transmit(&mut c)).ends_with("AUTH PLAIN\r\n"));
}

// RFC 3206 section 5: "[AUTH]" says the failure "is due to a problem with
// the credentials", which the server counts and delays (a guess). A
// `LoginFailure` whose code was `ResponseCode::Other("AUTH")` (or "auth",
// or "AUTH/..." with detail, RFC 2449 8) went out as "[AUTH]" but was
// taken as some other failure: answered at once and not counted, so an
// application that built its codes from text let a client guess passwords
// without delay or limit. The code is now read as the client reads it.
#[test]
fn an_auth_code_written_as_other_counts_as_a_failed_login() {
    use pop3_proto::{AuthOutcome, LoginFailure, ResponseCode};
    for code in ["AUTH", "auth", "AUTH/LOCKED"] {
        let mut s = tls_server();
        let mut failures = 0;
        for _ in 0..3 {
            s.handle_input(b"USER u\r\nPASS p\r\n");
            // The third failure closes the session (an `Err` from `poll_event`).
            while let Ok(Some(ev)) = s.poll_event() {
                match ev {
                    ServerEvent::Login { .. } => s
                        .auth_finish(AuthOutcome::Failure(LoginFailure {
                            code: Some(ResponseCode::Other(Bytes::from(code))),
                            text: "no".into(),
                        }))
                        .unwrap(),
                    ServerEvent::LoginFailed { .. } => failures += 1,
                    _ => {}
                }
            }
            // The delay starts once the session is told the time.
            let now = Instant::now();
            s.handle_timeout(now);
            s.handle_timeout(now + std::time::Duration::from_secs(5));
            while let Ok(Some(ev)) = s.poll_event() {
                failures += usize::from(matches!(ev, ServerEvent::LoginFailed { .. }));
            }
        }
        assert_eq!(failures, 2, "{code}");
        assert!(s.is_closed(), "{code}: three failed logins");
        let out = text(&drain_transmit(&mut s));
        assert_eq!(out.matches("-ERR [AUTH] no\r\n").count(), 3, "{code}: {out}");
    }
}

// RFC 1939 section 5: STAT answers the count and size of the messages not
// marked deleted, RSET unmarks them. Both walked the whole maildrop on
// every call, so a client that pipelines short commands (RFC 2449 6.6)
// made the server work in proportion to commands times messages: six
// octets of "STAT\r\n" cost a pass over 200 000 messages, and 20 000 of
// them with RSETs ran for minutes. The totals are now kept as DELE and
// RSET change them, and RSET unmarks only the marked messages.
#[test]
fn stat_and_rset_take_constant_time() {
    use pop3_proto::{AuthOutcome, Maildrop, MessageInfo};
    let mut s = tls_server();
    s.handle_input(b"USER u\r\nPASS p\r\n");
    while let Some(ev) = s.poll_event().unwrap() {
        if let ServerEvent::Login { .. } = ev {
            let messages = (0..200_000)
                .map(|i| MessageInfo {
                    size: 10,
                    uid: Bytes::from(format!("u{i}")),
                })
                .collect();
            s.auth_finish(AuthOutcome::Success(Maildrop { messages }))
                .unwrap();
        }
    }
    drain_transmit(&mut s);
    let (_, out) = run(
        &mut s,
        b"DELE 2\r\nDELE 200000\r\nSTAT\r\nRSET\r\nSTAT\r\nDELE 7\r\nSTAT\r\n",
    );
    assert_eq!(
        out,
        "+OK message 2 deleted\r\n+OK message 200000 deleted\r\n+OK 199998 1999980\r\n\
         +OK maildrop has 200000 messages (2000000 octets)\r\n+OK 200000 2000000\r\n\
         +OK message 7 deleted\r\n+OK 199999 1999990\r\n"
    );
    // No timing is asserted (the tests never time anything): these took
    // minutes when each walked the maildrop, so their return shows as a
    // test that hangs; what is checked is each answer.
    for _ in 0..100 {
        let (_, out) = run(&mut s, &b"STAT\r\nRSET\r\nDELE 1\r\n".repeat(100));
        assert_eq!(
            out,
            "+OK 199999 1999990\r\n+OK maildrop has 200000 messages (2000000 octets)\r\n\
             +OK message 1 deleted\r\n"
                .repeat(100)
        );
    }
    // QUIT deletes what is marked at the end.
    let (evs, _) = run(&mut s, b"QUIT\r\n");
    assert_eq!(evs, [ServerEvent::Update { delete: vec![1] }]);
}

// RFC 6856 section 2.1: UTF8 "switches the session ... to UTF-8 mode",
// and is valid only in AUTHORIZATION, so a client configured to use it
// sends it before logging in; RFC 2595 section 4 lets STLS fail ("-ERR")
// and an opportunistic client then carries on in the clear. On that path
// the client went straight to the login and never sent UTF8, so the
// server kept to ASCII (RFC 6856 2.1: surrogates or "-ERR [UTF8]") though
// both sides had asked for UTF-8 mode.
#[test]
fn utf8_is_sent_when_opportunistic_stls_is_refused() {
    let mut config = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("p".into())),
        ..Credentials::default()
    });
    config.tls = TlsMode::Opportunistic;
    config.utf8 = true;
    config.allow_plaintext_without_tls = true;
    let mut c = ClientSession::new(config, Instant::now());
    c.handle_input(b"+OK hi\r\n+OK\r\nSTLS\r\nUTF8\r\nUSER\r\n.\r\n");
    while c.poll_event().unwrap().is_some() {}
    assert_eq!(text(&drain_transmit(&mut c)), "CAPA\r\nSTLS\r\n");
    c.handle_input(b"-ERR not now\r\n");
    while c.poll_event().unwrap().is_some() {}
    assert_eq!(text(&drain_transmit(&mut c)), "UTF8\r\n");
    c.handle_input(b"+OK\r\n");
    while c.poll_event().unwrap().is_some() {}
    assert_eq!(text(&drain_transmit(&mut c)), "USER u\r\n");
}

// DESIGN.md: `parse(encode(x)) == x` for every message type. RFC 2449
// section 5 gives each capability one line, `capa-tag *(SP param)` with a
// tag of one or more characters. `Capabilities::encode` wrote any `other`
// line as it was: an empty line, or one whose tag is a capability with its
// own field ("STLS", "sasl PLAIN"), which reads back into that field, so
// the listing said something else than the value (a second "SASL" line
// even adds mechanisms). Such a line is now refused.
#[test]
fn capabilities_encode_only_what_reads_back() {
    use pop3_proto::{Capabilities, EncodeError};
    for bad in [&b""[..], b"STLS", b"sasl PLAIN", b"Utf8 USER", b" "] {
        let caps = Capabilities {
            other: vec![Bytes::copy_from_slice(bad)],
            ..Capabilities::default()
        };
        let mut out = bytes::BytesMut::new();
        assert!(
            matches!(caps.encode(&mut out), Err(EncodeError::Invalid { .. })),
            "{:?}: {:?}",
            text(bad),
            text(&out)
        );
        assert!(out.is_empty());
    }
    // Other capabilities, parameters and all, read back as they were.
    let caps = Capabilities {
        top: true,
        other: vec![Bytes::from_static(b"X-FOO bar"), Bytes::from_static(b"XTND")],
        ..Capabilities::default()
    };
    let mut out = bytes::BytesMut::new();
    caps.encode(&mut out).unwrap();
    let mut back = Capabilities::default();
    for line in text(&out).lines() {
        back.add_line(&Bytes::copy_from_slice(line.as_bytes()));
    }
    assert_eq!(back, caps);
}

// RFC 6856 section 3.2: "A language listing consists of the language tag
// [RFC5646] of the message, optionally followed by a single space and a
// human-readable description", and a successful LANG answers "+OK", a
// space, "the exact language tag selected" and another space. A
// configured tag that is empty or holds a space went out as it was: the
// listing line " Empty" has no tag (this crate's client closes the session
// on it), "de DE Deutsch" reads as the tag "de", and "LANG *" could select
// the empty tag. Only tags that are one token are listed and selectable.
#[test]
fn lang_lists_and_selects_only_token_tags() {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.languages = vec![
        (String::new(), "Empty".into()),
        ("de DE".into(), "Deutsch".into()),
        ("en".into(), "English".into()),
    ];
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    let (_, out) = run(&mut s, b"LANG\r\n");
    assert_eq!(out, "+OK language listing follows\r\nen English\r\n.\r\n");
    let (evs, out) = run(&mut s, b"LANG *\r\n");
    assert_eq!(evs, [ServerEvent::LanguageChanged("en".into())]);
    assert_eq!(out, "+OK en language changed\r\n");
    // No usable tag: no LANG at all (RFC 6856 3.1 capability).
    let mut cfg = ServerConfig::default();
    cfg.languages = vec![(" ".into(), "Space".into())];
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    let (_, out) = run(&mut s, b"CAPA\r\nLANG *\r\n");
    assert!(!out.lines().any(|l| l == "LANG"), "{out}");
    assert!(out.ends_with("-ERR LANG not supported\r\n"), "{out}");
}

// RFC 2449 section 3: `greeting = "+OK" [resp-code] *gchar [timestamp]
// *gchar`, so greeting text that starts with "[" reads as a response code,
// and the encoder refuses it. The server then sent a bare "+OK" and lost
// the APOP timestamp with the text (RFC 1939 section 7: the client finds
// APOP support by it), so every client fell back from APOP. Such a text is
// now left out and the timestamp kept, as for a non-ASCII text.
#[test]
fn greeting_keeps_the_apop_timestamp_whatever_the_text() {
    for greeting in ["[beta] POP3 ready", "ready\r\nQUIT", "[", "ready"] {
        let mut cfg = ServerConfig::default();
        cfg.greeting = greeting.into();
        cfg.apop_timestamp = Some("<1.2@host.test>".into());
        let mut s = ServerSession::new(cfg, Instant::now());
        let out = text(&drain_transmit(&mut s));
        assert!(
            out.starts_with("+OK ") && out.ends_with(" <1.2@host.test>\r\n"),
            "{greeting:?}: {out:?}"
        );
        assert_eq!(out.matches("\r\n").count(), 1, "{out:?}");
    }
}

// RFC 1939 section 7: the APOP digest is MD5 over the greeting's timestamp
// and the shared secret, so with the greeting (sent in the clear) it lets
// anyone who sees it test password guesses offline, as a CRAM-MD5 response
// does (RFC 2195), which the session hands over as a `Secret`, as it does
// PASS. The digest was plain bytes in `ServerEvent::Apop` and
// `Command::Apop`, printed by their `Debug` wherever events or commands are
// logged. It is now a `Secret` too.
#[test]
fn apop_digest_is_redacted_in_debug() {
    let digest = "c4c9334bac560ecc979e58001b3e22fb";
    let cmd = Command::parse(&Bytes::from(format!("APOP mrose {digest}"))).unwrap();
    assert!(!format!("{cmd:?}").contains(digest), "{cmd:?}");
    let mut cfg = ServerConfig::default();
    cfg.apop_timestamp = Some("<1896.697170952@dbc.mtview.ca.us>".into());
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    let (evs, _) = run(&mut s, format!("APOP mrose {digest}\r\n").as_bytes());
    assert!(matches!(&evs[..], [ServerEvent::Apop { .. }]), "{evs:?}");
    assert!(!format!("{evs:?}").contains(digest), "{evs:?}");
}
