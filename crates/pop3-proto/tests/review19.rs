//! Review session 19: one test per confirmed bug, each citing the rule it
//! checks. Every test here failed on the code as it was before its fix.

use bytes::Bytes;
use pop3_proto::{
    AuthOutcome, ClientConfig, ClientEvent, ClientSession, Credentials, Error, FetchMode, Maildrop,
    MessageInfo, ServerConfig, ServerEvent, ServerSession, TlsMode, UsageError,
};
use proto_core::{Secret, Session, drain_transmit, transfer};
use std::time::Instant;

fn creds() -> Credentials {
    Credentials {
        username: "u".into(),
        password: Some(Secret::new("p".into())),
        ..Credentials::default()
    }
}

fn implicit_client(cfg: impl FnOnce(&mut ClientConfig)) -> ClientSession {
    let mut c = ClientConfig::new(creds());
    c.tls = TlsMode::Implicit;
    cfg(&mut c);
    ClientSession::new(c, Instant::now())
}

/// Drains events until one is an error; returns the events and the error.
fn events_until_err(c: &mut ClientSession) -> (Vec<ClientEvent>, Option<Error>) {
    let mut evs = Vec::new();
    loop {
        match c.poll_event() {
            Ok(Some(ev)) => evs.push(ev),
            Ok(None) => return (evs, None),
            Err(e) => return (evs, Some(e)),
        }
    }
}

/// A client logged in with USER/PASS, server without CAPA (no pipelining).
fn logged_in_client() -> ClientSession {
    let mut c = implicit_client(|_| {});
    c.handle_input(b"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n");
    let (evs, err) = events_until_err(&mut c);
    assert!(err.is_none(), "{err:?}");
    assert!(evs.iter().any(|e| matches!(e, ClientEvent::LoggedIn(_))));
    drain_transmit(&mut c);
    c
}

// Crate docs (error::Error): "A fatal session error: the session is closed";
// DESIGN: "while let Some(ev) = s.poll_event()? { .. } // Err = fatal; the
// session is closed". A malformed server line gave Err but left the client
// open and reading on: the next poll took the following line as the answer
// to the same command (RFC 2449 6.6: responses are matched "to commands in
// order"), so one bad line shifted every later answer.
#[test]
fn client_error_closes_the_session() {
    let mut c = logged_in_client();
    c.stat().unwrap();
    c.noop().unwrap();
    c.handle_input(b"garbage\r\n");
    let (_, err) = events_until_err(&mut c);
    assert!(err.is_some());
    assert!(c.is_closed(), "an Err from poll_event must close the session");
    // Nothing after the fatal error is taken as an answer.
    c.handle_input(b"+OK 2 320\r\n+OK\r\n");
    let (evs, err) = events_until_err(&mut c);
    assert!(evs.is_empty(), "{evs:?}");
    assert!(err.is_some(), "the error repeats");
    assert!(c.stat().is_err());
}

// Same rule for a well-formed status line whose text does not parse as the
// command's answer (RFC 1939 5, STAT: "+OK nn mm").
#[test]
fn client_bad_stat_answer_closes_the_session() {
    let mut c = logged_in_client();
    c.stat().unwrap();
    c.handle_input(b"+OK lots\r\n");
    let (_, err) = events_until_err(&mut c);
    assert!(err.is_some());
    assert!(c.is_closed());
}

// RFC 2449 section 5: "An +OK response is followed by a list of capabilities,
// one per line." `Limits::max_listing_entries` is "Most entries a client
// accepts in one LIST, UIDL, CAPA or LANG listing": a CAPA listing of SASL
// lines must not grow the client's memory past it (it counted only the
// unknown capability lines, so endless "SASL" lines grew without bound).
#[test]
fn capa_listing_limit_counts_every_line() {
    let mut c = implicit_client(|c| c.limits.max_listing_entries = 4);
    let mut input = b"+OK hi\r\n+OK caps\r\n".to_vec();
    for _ in 0..50 {
        input.extend_from_slice(b"SASL A B C D E F G H\r\n");
    }
    input.extend_from_slice(b".\r\n");
    c.handle_input(&input);
    let (_, err) = events_until_err(&mut c);
    assert!(
        matches!(
            err,
            Some(Error::Limit {
                what: "listing entries"
            })
        ),
        "{err:?}; caps: {:?}",
        c.capabilities().map(|k| k.sasl.len())
    );
}

/// A client and a server in memory: the server holds `n` one-line messages.
fn pair_fetch(n: usize, chunk: usize, mode: &FetchMode) -> (Option<(u32, u32, u32)>, Option<String>) {
    let now = Instant::now();
    let mut scfg = ServerConfig::default();
    scfg.tls_active = true;
    let mut server = ServerSession::new(scfg, now);
    let mut client = implicit_client(|c| c.limits.max_listing_entries = 1_000_000);
    let body = b"Subject: x\r\n\r\nhi\r\n";
    let mut done = None;
    let mut pending = false;
    for _ in 0..100_000 {
        let a = transfer(&mut server, &mut client, chunk);
        let b = transfer(&mut client, &mut server, chunk);
        if std::mem::take(&mut pending) {
            let sent = server.message_data(body).and_then(|_| server.message_end());
            if let Err(e) = sent {
                return (done, Some(format!("server: {e}")));
            }
        }
        loop {
            match server.poll_event() {
                Ok(Some(ServerEvent::Login { .. })) => {
                    let messages = (0..n)
                        .map(|i| MessageInfo {
                            size: body.len() as u64,
                            uid: Bytes::from(format!("uid{i}")),
                        })
                        .collect();
                    server
                        .auth_finish(AuthOutcome::Success(Maildrop { messages }))
                        .unwrap();
                }
                Ok(Some(ServerEvent::Retrieve { .. })) => {
                    // Streamed over the next round, as a full-duplex driver
                    // that keeps reading while it writes the message would.
                    pending = true;
                    break;
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return (done, Some(format!("server: {e}"))),
            }
        }
        loop {
            match client.poll_event() {
                Ok(Some(ClientEvent::LoggedIn(_))) => client.fetch(mode.clone()).unwrap(),
                Ok(Some(ClientEvent::FetchDone {
                    fetched,
                    deleted,
                    skipped,
                })) => done = Some((fetched, deleted, skipped)),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return (done, Some(format!("client: {e}"))),
            }
        }
        if done.is_some()
            || (a + b == 0 && server.poll_transmit().is_none() && client.poll_transmit().is_none())
        {
            break;
        }
    }
    (done, None)
}

// RFC 2449 section 6.6: "If either the client or server uses blocking
// writes, it MUST not exceed the window size of the underlying transport
// layer." The client pipelined every RETR of a fetch at once (88 KB of
// commands for 8000 messages, without bound for larger maildrops: a driver
// that writes them all before it reads can deadlock against a server busy
// writing a message). Our own server, which buffers at most
// `Limits::max_pipelined_input` (64 KiB) while it streams a message, then
// closed the connection when the first DELE of a deleting fetch arrived.
#[test]
fn pipelined_fetch_of_a_large_maildrop_completes() {
    let (done, err) = pair_fetch(8_000, 16 * 1024, &FetchMode::Keep);
    assert_eq!(err, None);
    assert_eq!(done, Some((8_000, 0, 0)));
    let (done, err) = pair_fetch(8_000, 16 * 1024, &FetchMode::Delete);
    assert_eq!(err, None);
    assert_eq!(done, Some((8_000, 8_000, 0)));
}

// RFC 5034 section 4: "If the client cannot Base64 decode any of the
// server's challenges, it MUST cancel the authentication using the "*"
// response."
#[test]
fn client_cancels_undecodable_challenge_with_star() {
    let mut c = implicit_client(|_| {});
    c.handle_input(b"+OK hi\r\n+OK\r\nSASL PLAIN\r\n.\r\n");
    let (_, err) = events_until_err(&mut c);
    assert!(err.is_none(), "{err:?}");
    let sent = drain_transmit(&mut c);
    assert!(
        sent.ends_with(b"\r\n") && sent.windows(10).any(|w| w == b"AUTH PLAIN"),
        "{sent:?}"
    );
    c.handle_input(b"+ !!not base64!!\r\n");
    let (_, err) = events_until_err(&mut c);
    assert!(err.is_some(), "the exchange cannot go on");
    let sent = drain_transmit(&mut c);
    assert_eq!(sent, b"*\r\n", "{:?}", String::from_utf8_lossy(&sent));
}

fn sasl_server() -> ServerSession {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.sasl_mechanisms = vec!["X-TEST".into()];
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s
}

// RFC 5034 section 4: a challenge is answered by "a line containing a string
// encoded as Base64" (or "*"). Once the server has sent a challenge, the next
// client line is that answer; a decision taken before it arrives would turn
// the answer into a command ("-ERR unknown command", one reply too many:
// client and server out of step). `auth_finish` documents
// `UsageError::WrongState` "unless a login awaits a decision".
#[test]
fn server_auth_finish_refused_while_awaiting_client_line() {
    let mut s = sasl_server();
    s.handle_input(b"AUTH X-TEST\r\n");
    assert!(matches!(
        s.poll_event().unwrap(),
        Some(ServerEvent::AuthStart { .. })
    ));
    s.auth_challenge(b"challenge").unwrap();
    let r = s.auth_finish(AuthOutcome::Success(Maildrop::default()));
    assert!(matches!(r, Err(UsageError::WrongState(_))), "{r:?}");
    // The client's answer still reaches the application as the answer.
    s.handle_input(b"Zm9v\r\n");
    assert!(matches!(
        s.poll_event().unwrap(),
        Some(ServerEvent::AuthResponse(_))
    ));
    s.auth_finish(AuthOutcome::Success(Maildrop::default())).unwrap();
    let out = drain_transmit(&mut s);
    assert!(out.starts_with(b"+ ") && out.ends_with(b"+OK maildrop has 0 messages (0 octets)\r\n"));
}

/// A logged-in server holding `message` as message 1.
fn server_with(message: &[u8]) -> ServerSession {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    let mut s = ServerSession::new(cfg, Instant::now());
    s.handle_input(b"USER u\r\nPASS p\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
    let messages = vec![MessageInfo {
        size: message.len() as u64,
        uid: Bytes::from_static(b"m1"),
    }];
    s.auth_finish(AuthOutcome::Success(Maildrop { messages }))
        .unwrap();
    drain_transmit(&mut s);
    s
}

/// The bytes a server sends for `command` on `message`, streamed in pieces.
fn retrieve(message: &[u8], command: &[u8], piece: usize) -> Vec<u8> {
    let mut s = server_with(message);
    s.handle_input(command);
    assert!(matches!(
        s.poll_event().unwrap(),
        Some(ServerEvent::Retrieve { .. })
    ));
    for p in message.chunks(piece.max(1)) {
        if !s.message_data(p).unwrap() {
            break;
        }
    }
    s.message_end().unwrap();
    drain_transmit(&mut s)
}

// RFC 1939 section 7, TOP: "the POP3 server sends the headers of the
// message, the blank line separating the headers from the body, and then
// the number of lines of the indicated message's body". The server sends a
// stored bare CR as a line break (CRLF), but the TOP cut counted only LFs:
// it sent more body lines than asked for, and missed a header end written
// with bare CRs, sending the whole body for TOP n 0.
#[test]
fn top_counts_the_lines_it_sends() {
    for piece in [1, 2, 3, 100] {
        let out = retrieve(b"Subject: x\r\n\r\nl1\rl2\rl3\r\n", b"TOP 1 1\r\n", piece);
        assert_eq!(
            out,
            b"+OK top of message follows\r\nSubject: x\r\n\r\nl1\r\n.\r\n",
            "piece {piece}: {:?}",
            String::from_utf8_lossy(&out)
        );
        let out = retrieve(b"Subject: x\r\rbody\r\nmore\r\n", b"TOP 1 0\r\n", piece);
        assert_eq!(
            out,
            b"+OK top of message follows\r\nSubject: x\r\n\r\n.\r\n",
            "piece {piece}: {:?}",
            String::from_utf8_lossy(&out)
        );
        // CRLF split across pieces is still one line end.
        let out = retrieve(b"A: 1\r\n\r\nx\r\ny\r\nz\r\n", b"TOP 1 2\r\n", piece);
        assert_eq!(out, b"+OK top of message follows\r\nA: 1\r\n\r\nx\r\ny\r\n.\r\n");
    }
}

// RFC 6856 section 2.2: "The server MUST reject UTF-8 usernames or passwords
// that fail to comply with the formal syntax in UTF-8 [RFC3629]." A server
// advertising "UTF8 USER" passed such names and passwords to the application
// as a login attempt.
#[test]
fn utf8_user_server_rejects_malformed_utf8_credentials() {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.utf8 = true;
    cfg.utf8_user = true;
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"USER \xff\xfe\r\nUSER caf\xc3\xa9\r\nPASS p\xc3\r\n");
    let mut events = Vec::new();
    while let Some(ev) = s.poll_event().unwrap() {
        events.push(ev);
    }
    assert!(events.is_empty(), "{events:?}");
    let out = drain_transmit(&mut s);
    let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{:?}", String::from_utf8_lossy(&out));
    assert!(lines[0].starts_with(b"-ERR"));
    assert!(lines[1].starts_with(b"+OK"), "well-formed UTF-8 is accepted");
    assert!(lines[2].starts_with(b"-ERR"));
    // Well-formed UTF-8 still logs in.
    s.handle_input(b"USER caf\xc3\xa9\r\nPASS p\xc3\xa9\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
}

// RFC 1939 section 3: "A POP3 server MAY have an inactivity autologout
// timer. Such a timer MUST be of at least 10 minutes' duration. The receipt
// of any command from the client during that interval should suffice to
// reset the autologout timer." A client waiting for the answer to its
// command is not inactive: the timer ran on while the server streamed a
// message, so a RETR taking over 10 minutes was cut off, or the session
// closed as soon as it ended, before the client could send DELE (a deleting
// client would then fetch the same message again on every connection).
#[test]
fn autologout_does_not_count_time_spent_answering() {
    use std::time::Duration;
    let min = |m: u64| Duration::from_secs(60 * m);
    let t0 = Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    let mut s = ServerSession::new(cfg, t0);
    s.handle_input_at(b"USER u\r\nPASS p\r\n", t0);
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
    let messages = vec![MessageInfo {
        size: 4,
        uid: Bytes::from_static(b"m1"),
    }];
    s.auth_finish(AuthOutcome::Success(Maildrop { messages }))
        .unwrap();
    s.handle_input_at(b"RETR 1\r\n", t0 + min(1));
    assert!(matches!(
        s.poll_event().unwrap(),
        Some(ServerEvent::Retrieve { .. })
    ));
    s.message_data(b"a\r\n").unwrap();
    // Eleven minutes into a slow download.
    s.handle_timeout(t0 + min(12));
    assert!(!s.is_closed(), "closed while the client was receiving its answer");
    s.message_data(b"b\r\n").unwrap();
    s.message_end().unwrap();
    // The answer is complete at about 20 minutes: the client has ten more.
    s.handle_timeout(t0 + min(20));
    assert!(!s.is_closed(), "closed right after the answer");
    s.handle_input(b"DELE 1\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(drain_transmit(&mut s).ends_with(b"+OK message 1 deleted\r\n"));
    s.handle_timeout(t0 + min(29));
    assert!(!s.is_closed());
    // Idle for the whole ten minutes: the autologout still happens.
    s.handle_timeout(t0 + min(40));
    assert!(s.is_closed());
}

// RFC 6856 section 2.2: "Clients MUST NOT use UTF-8 characters when
// authenticating if the server did not include the USER argument in the
// UTF8 capability response." The client sent a non-ASCII user name and
// password with USER/PASS to any server.
#[test]
fn client_sends_utf8_credentials_only_to_utf8_user_servers() {
    for (user, pass) in [("caf\u{e9}", "p"), ("u", "p\u{e4}ss")] {
        for (capa, allowed) in [
            (&b"+OK\r\nUSER\r\n.\r\n"[..], false),
            (b"-ERR no CAPA\r\n", false),
            (b"+OK\r\nUSER\r\nUTF8\r\n.\r\n", false),
            (b"+OK\r\nUSER\r\nUTF8 USER\r\n.\r\n", true),
        ] {
            let mut cfg = ClientConfig::new(Credentials {
                username: user.into(),
                password: Some(Secret::new(pass.into())),
                ..Credentials::default()
            });
            cfg.tls = TlsMode::Implicit;
            let mut c = ClientSession::new(cfg, Instant::now());
            c.handle_input(b"+OK hi\r\n");
            c.handle_input(capa);
            let (_, err) = events_until_err(&mut c);
            let sent = drain_transmit(&mut c);
            let sent_user = sent.windows(5).any(|w| w == b"USER ");
            if allowed {
                assert!(err.is_none() && sent_user, "{err:?} {sent:?}");
            } else {
                assert_eq!(
                    err,
                    Some(Error::NoLoginMethod),
                    "{}",
                    String::from_utf8_lossy(capa)
                );
                assert!(!sent_user, "{:?}", String::from_utf8_lossy(&sent));
            }
        }
    }
}

// RFC 6856 section 2.2: "If the server includes the USER argument in the
// UTF8 capability response, the client MAY use UTF-8 characters with a
// "USER", "PASS", or "APOP" command". The APOP parser took only ASCII
// names, so such a server answered a UTF-8 APOP name with a syntax error
// (and the encoder refused to write one).
#[test]
fn apop_accepts_utf8_names() {
    let mut cfg = ServerConfig::default();
    cfg.utf8 = true;
    cfg.utf8_user = true;
    cfg.apop_timestamp = Some("<1.2@test>".into());
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"APOP caf\xc3\xa9 c4c9334bac560ecc979e58001b3e22fb\r\n");
    match s.poll_event().unwrap() {
        Some(ServerEvent::Apop { user, .. }) => assert_eq!(&user[..], "caf\u{e9}".as_bytes()),
        other => panic!(
            "{other:?}: {:?}",
            String::from_utf8_lossy(&drain_transmit(&mut s))
        ),
    }
    let cmd = pop3_proto::Command::Apop {
        name: Bytes::from("caf\u{e9}"),
        digest: proto_core::Secret::new(b"c4c9334bac560ecc979e58001b3e22fb".to_vec()),
    };
    let wire = cmd.to_bytes().unwrap();
    let line = Bytes::copy_from_slice(&wire[..wire.len() - 2]);
    assert_eq!(pop3_proto::Command::parse(&line).unwrap(), cmd);
    // Malformed UTF-8 is still refused by a UTF8 USER server.
    let mut cfg = ServerConfig::default();
    cfg.utf8 = true;
    cfg.utf8_user = true;
    cfg.apop_timestamp = Some("<1.2@test>".into());
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"APOP caf\xc3 c4c9334bac560ecc979e58001b3e22fb\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    assert!(drain_transmit(&mut s).starts_with(b"-ERR"));
}

// RFC 3206 section 6: "The AUTH-RESP-CODE capability indicates that the
// server includes the AUTH response code with any authentication error
// caused by a problem with the user's credentials." The server always
// advertises AUTH-RESP-CODE and treats a failure without a code as wrong
// credentials (delayed, counted), but sent it without [AUTH].
#[test]
fn credential_failure_without_code_carries_auth() {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.failed_login_delay = std::time::Duration::ZERO;
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"CAPA\r\nUSER u\r\nPASS wrong\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
    s.auth_finish(AuthOutcome::Failure(pop3_proto::LoginFailure {
        code: None,
        text: "no".into(),
    }))
    .unwrap();
    let out = drain_transmit(&mut s);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("\r\nAUTH-RESP-CODE\r\n"), "{text}");
    assert!(text.ends_with("-ERR [AUTH] no\r\n"), "{text}");
}

// RFC 2449 section 4: "The maximum length of the first line of a command
// response (including the initial greeting) is unchanged at 512 octets
// (including the terminating CRLF)." The server wrote application text
// (greeting, failure texts) at any length, and a client holding to the
// limit, ours included, dropped the connection.
#[test]
fn server_status_lines_stay_within_512_octets() {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.greeting = "g".repeat(600);
    cfg.apop_timestamp = Some("<1.2@test>".into());
    cfg.failed_login_delay = std::time::Duration::ZERO;
    let mut s = ServerSession::new(cfg, Instant::now());
    s.handle_input(b"USER u\r\nPASS p\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
    s.auth_finish(AuthOutcome::Failure(pop3_proto::LoginFailure::sys_temp(
        "t".repeat(700),
    )))
    .unwrap();
    let out = drain_transmit(&mut s);
    for line in out.split_inclusive(|&b| b == b'\n') {
        assert!(
            line.len() <= 512,
            "{} octets: {:?}",
            line.len(),
            String::from_utf8_lossy(&line[..40])
        );
    }
    // The APOP timestamp survives the cut, and our client reads the greeting.
    let greeting = out.split_inclusive(|&b| b == b'\n').next().unwrap();
    assert!(greeting.ends_with(b" <1.2@test>\r\n"));
    let mut c = implicit_client(|_| {});
    c.handle_input(greeting);
    let (evs, err) = events_until_err(&mut c);
    assert!(err.is_none(), "{err:?}");
    assert!(matches!(evs.first(), Some(ClientEvent::Greeting(_))));
}

// The same limit for a wrong-credentials reply, which goes out through the
// failed-login delay; a text the encoder refuses (CR LF inside) must still
// give a reply, or the client waits for an answer that never comes (RFC 1939
// 3: every command is answered).
#[test]
fn delayed_login_failure_reply_is_bounded_and_always_sent() {
    use std::time::Duration;
    for (text, want) in [
        ("t".repeat(700), 512),
        ("bad\r\n+OK injected".to_owned(), "-ERR [AUTH]\r\n".len()),
    ] {
        for delay in [Duration::ZERO, Duration::from_secs(1)] {
            let t0 = Instant::now();
            let mut cfg = ServerConfig::default();
            cfg.tls_active = true;
            cfg.failed_login_delay = delay;
            let mut s = ServerSession::new(cfg, t0);
            drain_transmit(&mut s);
            s.handle_input(b"USER u\r\nPASS p\r\n");
            assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
            s.auth_finish(AuthOutcome::Failure(pop3_proto::LoginFailure {
                code: Some(pop3_proto::ResponseCode::Auth),
                text: text.clone(),
            }))
            .unwrap();
            // Input came without a time: the first `handle_timeout` starts
            // the delay, the second ends it.
            s.handle_timeout(t0);
            s.handle_timeout(t0 + delay);
            let out = drain_transmit(&mut s);
            let last = out
                .split_inclusive(|&b| b == b'\n')
                .next_back()
                .unwrap_or_default();
            assert!(
                last.starts_with(b"-ERR [AUTH]"),
                "{:?}",
                String::from_utf8_lossy(&out)
            );
            assert_eq!(last.len(), want, "{:?}", String::from_utf8_lossy(last));
        }
    }
}

// RFC 2449 section 5: "An +OK response is followed by a list of
// capabilities"; RFC 2595 section 4: "The capability name "STLS" indicates
// this command is present and permitted in the current state." One
// configured text the encoder refuses (a CR or LF in IMPLEMENTATION or
// EXPIRE) emptied the whole CAPA list: STLS and SASL vanished, and a client
// that runs STLS only when offered stayed in plaintext.
#[test]
fn one_bad_capability_text_does_not_empty_capa() {
    let mut cfg = ServerConfig::default();
    cfg.stls = true;
    cfg.sasl_mechanisms = vec!["SCRAM-SHA-256".into()];
    cfg.implementation = Some("srv\r\nSTLS".into());
    cfg.expire = Some("NEVER\r\n".into());
    let mut s = ServerSession::new(cfg, Instant::now());
    drain_transmit(&mut s);
    s.handle_input(b"CAPA\r\n");
    assert_eq!(s.poll_event().unwrap(), None);
    let out = String::from_utf8(drain_transmit(&mut s)).unwrap();
    assert!(out.contains("\r\nSTLS\r\n"), "{out}");
    assert!(out.contains("\r\nSASL SCRAM-SHA-256\r\n"), "{out}");
    assert_eq!(out.matches("STLS").count(), 1, "{out}");
    assert!(out.ends_with("\r\n.\r\n"));
}

// RFC 6856 section 2.2: "Clients MUST NOT use UTF-8 characters when
// authenticating if the server did not include the USER argument in the
// UTF8 capability response", and "A client or server that supports APOP and
// permits UTF-8 in usernames or passwords MUST apply SASLprep [RFC4013] ...
// to the username and password used to compute the APOP digest." The client
// computed APOP digests over a non-ASCII password for any server, without
// SASLprep.
#[test]
fn apop_with_a_non_ascii_password() {
    let ts = "<1.2@test>";
    let run = |capa: &[u8]| {
        let mut cfg = ClientConfig::new(Credentials {
            username: "u".into(),
            password: Some(Secret::new("p\u{a0}ss".into())),
            ..Credentials::default()
        });
        cfg.tls = TlsMode::Implicit;
        let mut c = ClientSession::new(cfg, Instant::now());
        c.handle_input(format!("+OK hi {ts}\r\n").as_bytes());
        c.handle_input(capa);
        let (_, err) = events_until_err(&mut c);
        (err, String::from_utf8(drain_transmit(&mut c)).unwrap())
    };
    let (err, sent) = run(b"+OK\r\nUSER\r\n.\r\n");
    assert_eq!(err, Some(Error::NoLoginMethod));
    assert!(!sent.contains("APOP"), "{sent}");
    let (err, sent) = run(b"+OK\r\nUSER\r\nUTF8 USER\r\n.\r\n");
    assert_eq!(err, None);
    // SASLprep maps the no-break space to a space.
    let digest = pop3_proto::apop_digest(ts.as_bytes(), b"p ss");
    let want = format!("APOP u {}\r\n", String::from_utf8_lossy(&digest));
    assert!(sent.ends_with(&want), "{sent}");
}

// The server side of the same rule (RFC 6856 2.2, "A client or server that
// supports APOP and permits UTF-8 in usernames or passwords MUST apply
// SASLprep"): with UTF8 USER advertised, `check_apop` compared the digest
// against the raw secret, so a client that applied SASLprep was refused.
#[test]
fn check_apop_applies_saslprep_for_utf8_user() {
    let mut cfg = ServerConfig::default();
    cfg.utf8 = true;
    cfg.utf8_user = true;
    cfg.apop_timestamp = Some("<1.2@test>".into());
    let s = ServerSession::new(cfg, Instant::now());
    let digest = pop3_proto::apop_digest(b"<1.2@test>", b"p ss");
    assert!(s.check_apop(&digest, "p\u{a0}ss".as_bytes()));
    assert!(s.check_apop(&digest, b"p ss"));
    assert!(!s.check_apop(&digest, "p\u{e4}ss".as_bytes()));
}

// Limits (DESIGN: never unbounded memory): a LIST answer grows with the
// maildrop, so a client that pipelines many LISTs (RFC 2449 6.6 lets it)
// and never reads made the server buffer every answer. The server now stops
// taking commands while more than `Limits::max_pending_output` waits to be
// written, says so with `output_blocked`, and goes on once the driver has
// written it; the answers come out complete and in order.
#[test]
fn pipelined_listings_wait_for_the_output_to_drain() {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.limits.max_pending_output = 4096;
    let mut s = ServerSession::new(cfg, Instant::now());
    s.handle_input(b"USER u\r\nPASS p\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
    let messages = (0..200)
        .map(|i| MessageInfo {
            size: 1000 + i,
            uid: Bytes::from(format!("uid{i}")),
        })
        .collect();
    s.auth_finish(AuthOutcome::Success(Maildrop { messages }))
        .unwrap();
    drain_transmit(&mut s);
    // One LIST answer here is about 1.9 KB; 500 of them almost 1 MB.
    let one = {
        s.handle_input(b"LIST\r\n");
        while s.poll_event().unwrap().is_some() {}
        drain_transmit(&mut s)
    };
    assert!(
        one.len() > 1500 && one.ends_with(b"\r\n.\r\n"),
        "{}",
        String::from_utf8_lossy(&one)
    );
    s.handle_input(&b"LIST\r\n".repeat(500));
    let mut out = Vec::new();
    let mut rounds = 0;
    loop {
        while s.poll_event().unwrap().is_some() {}
        let pending = s.poll_transmit().map_or(0, <[u8]>::len);
        assert!(pending < 4096 + one.len(), "{pending} octets waiting");
        let blocked = s.output_blocked();
        out.extend_from_slice(&drain_transmit(&mut s));
        rounds += 1;
        if !blocked {
            break;
        }
    }
    assert!(rounds > 100, "{rounds}");
    assert_eq!(out, one.repeat(500));
}
