//! Session behaviour that transcripts cannot show: timeouts on a fake clock,
//! greeting delay and early talkers, STARTTLS discards, AUTH via sasl,
//! backpressure, usage errors.

use proto_core::Secret;
use smtp_proto::checks::ServerApp;
use smtp_proto::*;
use std::time::{Duration, Instant};

mod common;
use common::{client_events, out_of, server_events};

const MIN: Duration = Duration::from_secs(60);

#[test]
fn server_idle_timeout_is_421() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(ServerConfig::default(), t0);
    assert!(out_of(&mut s).starts_with("220 "));
    assert_eq!(s.poll_timeout(), Some(t0 + 5 * MIN));
    s.handle_timeout(t0 + 4 * MIN);
    assert!(!s.is_closed());
    s.handle_timeout(t0 + 5 * MIN);
    assert!(s.is_closed());
    assert_eq!(out_of(&mut s), "421 4.4.2 localhost Error: timeout exceeded\r\n");
    assert_eq!(server_events(&mut s), vec!["error Timeout"]);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn server_timeout_restarts_after_input() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(ServerConfig::default(), t0);
    out_of(&mut s);
    s.handle_input(b"NOOP\r\n");
    server_events(&mut s);
    s.handle_timeout(t0 + 5 * MIN);
    assert!(!s.is_closed(), "activity since the timer started");
    assert_eq!(s.poll_timeout(), Some(t0 + 10 * MIN));
    s.handle_timeout(t0 + 10 * MIN);
    assert!(s.is_closed());
}

#[test]
fn greeting_delay_and_early_talkers() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        greeting_delay: Some(Duration::from_secs(6)),
        reject_early_talkers: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg.clone(), t0);
    assert_eq!(out_of(&mut s), "");
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(6)));
    s.handle_input(b"EHLO spam.example\r\n");
    assert!(
        server_events(&mut s).is_empty(),
        "nothing is parsed before the greeting"
    );
    s.handle_timeout(t0 + Duration::from_secs(6));
    assert_eq!(out_of(&mut s), "554 5.5.1 Error: talking before the greeting\r\n");
    assert_eq!(server_events(&mut s), vec!["error ProtocolSync"]);

    // A patient client gets the greeting and is served.
    let mut s = ServerSession::new(cfg.clone(), t0);
    s.handle_timeout(t0 + Duration::from_secs(6));
    assert_eq!(out_of(&mut s), "220 localhost ESMTP\r\n");
    s.handle_input(b"HELO ok.example\r\n");
    assert_eq!(server_events(&mut s).len(), 1);
    assert!(out_of(&mut s).starts_with("250 localhost greets ok.example"));

    // Without the refusal an early talker is simply answered after the greeting.
    let mut s = ServerSession::new(
        ServerConfig {
            reject_early_talkers: false,
            ..cfg
        },
        t0,
    );
    s.handle_input(b"HELO early.example\r\n");
    s.handle_timeout(t0 + Duration::from_secs(6));
    server_events(&mut s);
    assert!(out_of(&mut s).contains("250 localhost greets early.example"));
}

#[test]
fn starttls_discards_and_reports_plaintext() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        starttls: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    out_of(&mut s);
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    out_of(&mut s);
    s.handle_input(b"STARTTLS\r\nRSET\r\n");
    assert_eq!(
        server_events(&mut s),
        vec!["StartTls", "PlaintextDiscarded { len: 6 }"]
    );
    assert_eq!(out_of(&mut s), "220 2.0.0 Ready to start TLS\r\n");
    s.handle_input(b"NOOP\r\n");
    assert!(
        server_events(&mut s).is_empty(),
        "input is refused until tls_established"
    );
    assert_eq!(s.tls_established(t0), Ok(()));
    assert_eq!(server_events(&mut s), vec!["PlaintextDiscarded { len: 6 }"]);
    assert_eq!(s.tls_established(t0), Err(UsageError::WrongState));
    assert!(s.is_tls());
    s.handle_input(b"MAIL FROM:<a@b.example>\r\n");
    server_events(&mut s);
    assert_eq!(out_of(&mut s), "503 5.5.1 Send HELO/EHLO first\r\n");
}

#[test]
fn auth_line_limit_and_usage_errors() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        auth_mechanisms: vec!["PLAIN".into()],
        implicit_tls: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    assert_eq!(s.accept(), Err(UsageError::NothingPending));
    assert_eq!(s.auth_challenge(b"x"), Err(UsageError::NothingPending));
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    assert!(out_of(&mut s).contains("250 AUTH PLAIN\r\n"));
    s.handle_input(b"AUTH PLAIN\r\n");
    assert_eq!(
        server_events(&mut s),
        vec!["AuthStart { mechanism: b\"PLAIN\", initial_response: None }"]
    );
    s.auth_challenge(b"").unwrap();
    assert_eq!(out_of(&mut s), "334 \r\n");
    // 12288 octets including CRLF are allowed, one more is not.
    let long = "QUFB".repeat(12284 / 4);
    s.handle_input(format!("{long}\r\n").as_bytes());
    let ev = server_events(&mut s);
    assert!(ev[0].starts_with("AuthResponse(Secret(<redacted>))"), "{ev:?}");
    s.auth_finish(AuthOutcome::Failure(None)).unwrap();
    assert_eq!(out_of(&mut s), "535 5.7.8 Authentication credentials invalid\r\n");
    s.handle_input(b"AUTH PLAIN\r\n");
    server_events(&mut s);
    s.auth_challenge(b"").unwrap();
    out_of(&mut s);
    s.handle_input(format!("{long}AAAA\r\n").as_bytes());
    assert_eq!(server_events(&mut s), vec!["AuthCancelled"]);
    assert_eq!(
        out_of(&mut s),
        "500 5.5.6 Authentication Exchange line is too long\r\n"
    );
}

#[test]
fn eof_errors_limits() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        limits: Limits {
            recipients: 2,
            errors: 3,
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let mut app = ServerApp::default();
    let mut s = ServerSession::new(cfg.clone(), t0);
    s.handle_input(b"HELO c.example\r\nNOOP\r\n");
    assert_eq!(app.drive(&mut s, t0).unwrap_err().kind(), ErrorKind::ProtocolSync);
    // A HELO client that pipelines is refused Postfix-style; use the lenient setting to count recipients.
    let cfg = ServerConfig {
        reject_unsync_pipelining: false,
        ..cfg
    };
    let mut s = ServerSession::new(cfg, t0);
    out_of(&mut s);
    s.handle_input(b"HELO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nRCPT TO:<x@y.example>\r\nRCPT TO:<x@y.example>\r\n");
    app.drive(&mut s, t0).unwrap();
    assert!(out_of(&mut s).ends_with("452 4.5.3 Too many recipients\r\n"));
    s.handle_input(b"BAD\r\nBAD\r\nBAD\r\nBAD\r\nNOOP\r\n");
    assert_eq!(
        app.drive(&mut s, t0).unwrap_err().kind(),
        ErrorKind::TooManyErrors
    );
    assert!(out_of(&mut s).ends_with("421 4.7.0 Too many errors, closing connection\r\n"));
    let mut s = ServerSession::new(ServerConfig::default(), t0);
    s.handle_input(b"HELO c.example\r\n");
    s.handle_eof();
    assert_eq!(server_events(&mut s).last().unwrap(), "error Eof");
}

#[test]
fn data_streams_and_size_limit_stops_chunks() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        limits: Limits {
            message_size: 10,
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    for l in [&b"MAIL FROM:<a@b.example>\r\n"[..], b"RCPT TO:<x@y.example>\r\n"] {
        s.handle_input(l);
        server_events(&mut s);
        s.accept().unwrap();
    }
    s.handle_input(b"DATA\r\n");
    assert_eq!(server_events(&mut s), vec!["DataStart"]);
    s.handle_input(b"12345\r\n");
    assert_eq!(server_events(&mut s), vec!["DataChunk(b\"12345\\r\\n\")"]);
    s.handle_input(b"67890\r\nmore and more\r\n.\r\n");
    assert_eq!(server_events(&mut s), vec!["DataAborted(TooLarge)"]);
    assert!(out_of(&mut s).ends_with("552 5.3.4 Message size exceeds fixed maximum message size\r\n"));
    assert_eq!(s.accept(), Err(UsageError::NothingPending));
    assert_eq!(s.lmtp_replies(&[]), Err(UsageError::NothingPending));
}

// ---- client ----------------------------------------------------------------

fn env() -> Envelope {
    Envelope {
        from: "a@example.test".into(),
        recipients: vec![Recipient::new("b@example.test")],
        ..Envelope::default()
    }
}

#[test]
fn client_helo_fallback_and_no_pipelining() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig {
            helo_name: "me.example".into(),
            ..ClientConfig::default()
        },
        t0,
    );
    c.handle_input(b"220 old.example\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(out_of(&mut c), "EHLO me.example\r\n");
    c.handle_input(b"502 5.5.1 what\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "HELO me.example\r\n");
    c.handle_input(b"250 old.example\r\n");
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    c.send_mail(env(), t0).unwrap();
    assert_eq!(
        out_of(&mut c),
        "MAIL FROM:<a@example.test>\r\n",
        "no pipelining without EHLO"
    );
    c.handle_input(b"250 ok\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "RCPT TO:<b@example.test>\r\n");
    c.handle_input(b"250 ok\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "DATA\r\n");
    let mut e8 = env();
    e8.body = Some(BodyType::EightBitMime);
    assert_eq!(c.send_mail(e8, t0), Err(UsageError::WrongState));
}

#[test]
fn client_refuses_what_the_server_lacks() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 SIZE 1000\r\n");
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    let mut e = env();
    e.size = Some(1001);
    assert_eq!(c.send_mail(e, t0), Err(UsageError::TooLarge));
    let mut e = env();
    e.body = Some(BodyType::EightBitMime);
    assert_eq!(c.send_mail(e, t0), Err(UsageError::MissingExtension("8BITMIME")));
    let mut e = env();
    e.recipients[0].notify = Some(Notify::NEVER);
    assert_eq!(c.send_mail(e, t0), Err(UsageError::MissingExtension("DSN")));
    let mut e = env();
    e.from = "jö@example.test".into();
    assert_eq!(
        c.send_mail(e, t0),
        Err(UsageError::BadArgument("non-ASCII address needs SMTPUTF8"))
    );
    let mut e = env();
    e.from = "a\r\nRSET@example.test".into();
    assert!(c.send_mail(e, t0).is_err());
    assert_eq!(
        out_of(&mut c),
        "EHLO localhost\r\n",
        "nothing was sent for refused envelopes"
    );
}

#[test]
fn client_starttls_required_and_discard() {
    let t0 = Instant::now();
    let cfg = ClientConfig {
        tls: TlsPolicy::Required,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg.clone(), t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
    // It still says QUIT (RFC 5321 4.1.1.10), and fails once that is answered.
    assert_eq!(client_events(&mut c), Vec::<String>::new());
    assert_eq!(out_of(&mut c), "EHLO localhost\r\nQUIT\r\n");
    c.handle_input(b"221 bye\r\n");
    assert_eq!(client_events(&mut c), vec!["error TlsUnavailable"]);

    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 STARTTLS\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "EHLO localhost\r\nSTARTTLS\r\n");
    // A man in the middle appends a fake EHLO reply after the 220.
    c.handle_input(b"220 go ahead\r\n250-evil\r\n250 AUTH PLAIN\r\n");
    assert_eq!(
        client_events(&mut c),
        vec!["StartTls", "PlaintextDiscarded { len: 26 }"]
    );
    c.handle_input(b"more plaintext");
    c.tls_established(t0).unwrap();
    assert_eq!(client_events(&mut c), vec!["PlaintextDiscarded { len: 14 }"]);
    assert!(c.is_tls());
    assert_eq!(out_of(&mut c), "EHLO localhost\r\n");
    c.handle_input(b"250-mx\r\n250 STARTTLS\r\n");
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    assert_eq!(out_of(&mut c), "", "no second STARTTLS");

    // A "220" already waiting behind the EHLO reply, before STARTTLS was
    // sent, is no answer to it: the session fails instead of starting TLS
    // on the wrong bytes.
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 STARTTLS\r\n220 early\r\n");
    assert_eq!(client_events(&mut c), vec!["error UnexpectedReply"]);
    assert_eq!(out_of(&mut c), "EHLO localhost\r\n");
}

#[test]
fn client_auth_through_sasl() {
    let t0 = Instant::now();
    let creds = sasl::Credentials {
        username: "user".into(),
        password: Some(Secret::new("pass".into())),
        ..sasl::Credentials::default()
    };
    let cfg = ClientConfig {
        credentials: Some(creds.clone()),
        ..ClientConfig::default()
    };
    // Without TLS, plaintext mechanisms are not used.
    let mut c = ClientSession::new(cfg.clone(), t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
    assert_eq!(client_events(&mut c), vec!["AuthFailed(None)", "Ready"]);
    // Under TLS: LOGIN answers the server's challenges.
    let mut c = ClientSession::new(
        ClientConfig {
            implicit_tls: true,
            ..cfg.clone()
        },
        t0,
    );
    c.handle_input(b"220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "EHLO localhost\r\nAUTH LOGIN\r\n");
    c.handle_input(b"334 VXNlcm5hbWU6\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "dXNlcg==\r\n");
    c.handle_input(b"334 UGFzc3dvcmQ6\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "cGFzcw==\r\n");
    c.handle_input(b"235 2.7.0 ok\r\n");
    assert_eq!(client_events(&mut c), vec!["Authenticated", "Ready"]);
    assert!(c.is_authenticated());
    // PLAIN with an initial response, failing.
    let mut c = ClientSession::new(
        ClientConfig {
            implicit_tls: true,
            ..cfg
        },
        t0,
    );
    c.handle_input(b"220 mx\r\n250-mx\r\n250 AUTH PLAIN\r\n");
    client_events(&mut c);
    assert_eq!(
        out_of(&mut c),
        "EHLO localhost\r\nAUTH PLAIN AHVzZXIAcGFzcw==\r\n"
    );
    c.handle_input(b"535 5.7.8 no\r\n");
    let ev = client_events(&mut c);
    assert!(ev[0].starts_with("AuthFailed(Some(Reply { code: 535"), "{ev:?}");
    assert_eq!(ev[1], "Ready");
}

#[test]
fn client_auth_against_server_session() {
    // The pair harness's server accepts PLAIN \0user\0pass.
    let creds = sasl::Credentials {
        username: "user".into(),
        password: Some(Secret::new("pass".into())),
        ..sasl::Credentials::default()
    };
    let ccfg = ClientConfig {
        credentials: Some(creds),
        allow_plaintext_auth: true,
        ..ClientConfig::default()
    };
    let scfg = ServerConfig {
        auth_mechanisms: vec!["PLAIN".into()],
        allow_plaintext_auth: true,
        ..ServerConfig::default()
    };
    let run = checks::run_pair(ccfg, scfg, vec![(env(), b"hi\r\n".to_vec())], 3, 7);
    assert!(
        run.client.log.iter().any(|l| l == "Authenticated"),
        "{:?}",
        run.client.log
    );
    assert_eq!(run.server.messages, vec![b"hi\r\n".to_vec()]);
}

fn client_in_body(max_buffer: usize, chunking: bool) -> ClientSession {
    let t0 = Instant::now();
    let cfg = ClientConfig {
        max_buffer,
        chunking,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250-CHUNKING\r\n250 PIPELINING\r\n");
    client_events(&mut c);
    c.send_mail(env(), t0).unwrap();
    if chunking {
        c.handle_input(b"250 ok\r\n250 ok\r\n");
    } else {
        c.handle_input(b"250 ok\r\n250 ok\r\n354 go\r\n");
    }
    assert_eq!(client_events(&mut c).last().unwrap(), "SendBody");
    out_of(&mut c);
    c
}

#[test]
fn client_never_emits_smuggling_sequences() {
    for chunking in [false, true] {
        for seq in [
            &b"\n.\n"[..],
            b"\n.\r\n",
            b"\r\n.\n",
            b"\r.\r\n",
            b"\r\n.\rX",
            b"\r\n.\r\r\n",
            b"a\nb",
            b"a\rb",
        ] {
            let mut c = client_in_body(1 << 16, chunking);
            let mut body = b"hello".to_vec();
            body.extend_from_slice(seq);
            body.extend_from_slice(b"MAIL FROM:<evil@example.test>\r\n");
            assert_eq!(
                c.send_data(&body),
                Err(UsageError::BadArgument("bare CR or LF in body"))
            );
            let out = out_of(&mut c);
            assert!(!out.contains("evil"), "{out:?}");
        }
        // A body ending in a lone CR cannot be finished.
        let mut c = client_in_body(1 << 16, chunking);
        c.send_data(b"abc\r").unwrap();
        assert!(c.finish_data().is_err());
    }
}

#[test]
fn client_backpressure() {
    let mut c = client_in_body(100, false);
    let body = vec![b'x'; 1000];
    assert_eq!(c.send_data(&body), Ok(100));
    assert_eq!(c.send_data(&body[100..]), Ok(0));
    assert_eq!(out_of(&mut c).len(), 100);
    assert_eq!(c.send_data(&body[100..]), Ok(100));
    let mut c = client_in_body(100, true);
    assert_eq!(c.send_data(&body), Ok(100));
    assert_eq!(out_of(&mut c), format!("BDAT 100\r\n{}", "x".repeat(100)));
    c.finish_data().unwrap();
    assert_eq!(out_of(&mut c), "BDAT 0 LAST\r\n");
}

#[test]
fn client_timeouts() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    assert_eq!(c.poll_timeout(), Some(t0 + 5 * MIN));
    c.handle_timeout(t0 + 5 * MIN);
    assert_eq!(client_events(&mut c), vec!["error Timeout"]);
    // DATA initiation waits 2 minutes.
    let mut c = ClientSession::new(
        ClientConfig {
            pipelining: false,
            ..ClientConfig::default()
        },
        t0,
    );
    c.handle_input(b"220 mx\r\n250 mx\r\n");
    client_events(&mut c);
    let t1 = t0 + MIN;
    c.send_mail(env(), t1).unwrap();
    c.handle_timeout(t1);
    c.handle_input(b"250 ok\r\n250 ok\r\n");
    client_events(&mut c);
    assert!(out_of(&mut c).ends_with("DATA\r\n"));
    let at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    assert!(!c.is_closed(), "progress since the timer started: restarted");
    assert_eq!(c.poll_timeout(), Some(at + 2 * MIN));
    c.handle_timeout(at + 2 * MIN);
    // RFC 5321 3.8: the transaction in progress ends as if with a 451.
    let ev = client_events(&mut c);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(
        ev[0].starts_with("TransactionFailed") && ev[0].contains("code: 451"),
        "{ev:?}"
    );
    assert_eq!(ev[1], "error Timeout");
}

#[test]
fn client_stops_and_resets_after_a_refused_bdat_chunk() {
    // A refused chunk: no further BDAT goes out, the transaction fails, RSET follows.
    let mut c = client_in_body(1 << 16, true);
    assert_eq!(c.send_data(b"abc\r\n"), Ok(5));
    assert_eq!(out_of(&mut c), "BDAT 5\r\nabc\r\n");
    c.handle_input(b"552 5.3.4 Too big\r\n");
    let ev = client_events(&mut c);
    assert!(
        ev.len() == 1 && ev[0].starts_with("TransactionFailed") && ev[0].contains("552"),
        "{ev:?}"
    );
    assert_eq!(out_of(&mut c), "RSET\r\n");
    assert_eq!(c.send_data(b"more\r\n"), Err(UsageError::WrongState));
    assert_eq!(c.finish_data(), Err(UsageError::WrongState));
    assert_eq!(out_of(&mut c), "");
    c.handle_input(b"250 2.0.0 Ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert!(c.is_ready());

    // Chunks already pipelined when the refusal arrives: their replies (and
    // the one to BDAT LAST) are read and ignored; the next transaction is clean.
    let mut c = client_in_body(1 << 16, true);
    c.send_data(b"one\r\n").unwrap();
    c.send_data(b"two\r\n").unwrap();
    c.finish_data().unwrap();
    assert_eq!(
        out_of(&mut c),
        "BDAT 5\r\none\r\nBDAT 5\r\ntwo\r\nBDAT 0 LAST\r\n"
    );
    c.handle_input(b"451 4.3.0 Disk full\r\n");
    let ev = client_events(&mut c);
    assert!(ev.len() == 1 && ev[0].contains("451"), "{ev:?}");
    assert_eq!(out_of(&mut c), "RSET\r\n");
    c.handle_input(b"503 5.5.1 Send RSET\r\n503 5.5.1 Send RSET\r\n250 2.0.0 Ok\r\n");
    assert!(client_events(&mut c).is_empty());
    c.send_mail(env(), Instant::now()).unwrap();
    assert!(out_of(&mut c).starts_with("MAIL FROM:<a@example.test>"));
    c.handle_input(b"250 ok\r\n250 ok\r\n");
    let ev = client_events(&mut c);
    assert!(
        ev[0].starts_with("MailResult") && ev.last().unwrap() == "SendBody",
        "{ev:?}"
    );
}

#[test]
fn client_never_sends_a_truncated_message_beyond_size() {
    let setup = |chunking: bool| {
        let t0 = Instant::now();
        let cfg = ClientConfig {
            chunking,
            ..ClientConfig::default()
        };
        let mut c = ClientSession::new(cfg, t0);
        c.handle_input(b"220 mx\r\n250-mx\r\n250-CHUNKING\r\n250-SIZE 10\r\n250 PIPELINING\r\n");
        client_events(&mut c);
        c.send_mail(env(), t0).unwrap();
        c.handle_input(if chunking {
            &b"250 ok\r\n250 ok\r\n"[..]
        } else {
            b"250 ok\r\n250 ok\r\n354 go\r\n"
        });
        assert_eq!(client_events(&mut c).last().unwrap(), "SendBody");
        out_of(&mut c);
        c
    };
    // BDAT: the transaction is reset, nothing of the message is completed.
    let mut c = setup(true);
    assert_eq!(c.send_data(b"12345\r\n"), Ok(7));
    assert_eq!(c.send_data(b"67890\r\n"), Err(UsageError::TooLarge));
    let ev = client_events(&mut c);
    assert!(ev.len() == 1 && ev[0].contains("552"), "{ev:?}");
    assert_eq!(out_of(&mut c), "BDAT 7\r\n12345\r\nRSET\r\n");
    assert_eq!(c.finish_data(), Err(UsageError::WrongState));
    // DATA cannot be cancelled: the session fails and no end of data is sent.
    let mut c = setup(false);
    assert_eq!(c.send_data(b"12345\r\n"), Ok(7));
    assert_eq!(c.send_data(b"67890\r\n"), Err(UsageError::TooLarge));
    assert_eq!(client_events(&mut c), vec!["error MessageTooLarge"]);
    assert!(c.is_closed());
    assert!(c.finish_data().is_err());
    assert_eq!(out_of(&mut c), "12345\r\n");
}

#[test]
fn a_refused_bdat_that_is_one_error_too_many_closes_for_good() {
    // Found by fuzzing: the 421 for too many errors closed the session, then
    // the refused BDAT switched it back to reading chunk data.
    let t0 = Instant::now();
    let cfg = ServerConfig {
        limits: Limits {
            errors: 1,
            ..Limits::default()
        },
        reject_unsync_pipelining: false,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    out_of(&mut s);
    s.handle_input(b"BAD\r\nBDAT 5\r\n");
    assert_eq!(server_events(&mut s), vec!["error TooManyErrors"]);
    assert!(out_of(&mut s).ends_with("421 4.7.0 Too many errors, closing connection\r\n"));
    assert!(s.is_closed());
    s.handle_input(b"hello");
    s.handle_input(b"BAD\r\nBAD\r\n");
    assert!(server_events(&mut s).is_empty());
    assert_eq!(out_of(&mut s), "");
    assert_eq!(s.poll_timeout(), None);
}

/// A store that knows one user, `user` / `pencil`, by SCRAM-SHA-256 keys.
struct OneUser(sasl::ScramKeys);

impl sasl::CredentialStore for OneUser {
    fn scram_keys(&self, hash: sasl::ScramHash, authcid: &str) -> Option<sasl::ScramKeys> {
        (hash == sasl::ScramHash::Sha256 && authcid == "user").then(|| self.0.clone())
    }
}

/// Runs a whole SCRAM-SHA-256 exchange over the server session (no TLS):
/// a `sasl` client writes the AUTH lines, a `sasl` server answers the events.
fn scram_login(s: &mut ServerSession) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let creds = sasl::Credentials::with_password("user", "pencil");
    let mut client = sasl::client(sasl::Mechanism::ScramSha256, &creds).unwrap();
    let mut server = sasl::server(sasl::Mechanism::ScramSha256, &sasl::ServerOptions::default()).unwrap();
    let store =
        OneUser(sasl::ScramKeys::derive(sasl::ScramHash::Sha256, "pencil", b"salt-salt", 4096).unwrap());
    let ir = client.initial_response().unwrap().unwrap();
    s.handle_input(format!("AUTH SCRAM-SHA-256 {}\r\n", b64.encode(ir.expose())).as_bytes());
    let mut step = match s.poll_event().unwrap().unwrap() {
        ServerEvent::AuthStart {
            mechanism,
            initial_response,
        } => {
            assert_eq!(&mechanism[..], b"SCRAM-SHA-256");
            server
                .start(initial_response.as_ref().map(|r| &r.expose()[..]), &store)
                .unwrap()
        }
        other => panic!("{other:?}"),
    };
    loop {
        match step {
            sasl::ServerStep::Challenge(c) => {
                s.auth_challenge(&c).unwrap();
                let line = out_of(s);
                let text = line.strip_prefix("334 ").unwrap().trim_end();
                let answer = client.respond(&b64.decode(text).unwrap()).unwrap();
                s.handle_input(format!("{}\r\n", b64.encode(answer.expose())).as_bytes());
                let Some(ServerEvent::AuthResponse(r)) = s.poll_event().unwrap() else {
                    panic!("no AuthResponse");
                };
                step = server.step(r.expose(), &store).unwrap();
            }
            sasl::ServerStep::Success { .. } => {
                s.auth_finish(AuthOutcome::Success).unwrap();
                client.finish(None).unwrap();
                return out_of(s);
            }
        }
    }
}

#[test]
fn safe_mechanisms_before_tls_plaintext_ones_after() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        starttls: true,
        auth_mechanisms: vec![
            "PLAIN".into(),
            "SCRAM-SHA-256".into(),
            "LOGIN".into(),
            "CRAM-MD5".into(),
            "XOAUTH2".into(),
            "X-UNKNOWN".into(),
        ],
        allow_safe_auth_before_tls: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg.clone(), t0);
    out_of(&mut s);
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    let ehlo = out_of(&mut s);
    assert!(ehlo.ends_with("250 AUTH SCRAM-SHA-256 CRAM-MD5\r\n"), "{ehlo}");
    for refused in [
        &b"AUTH PLAIN AHVzZXIAcGVuY2ls\r\n"[..],
        b"AUTH LOGIN\r\n",
        b"AUTH XOAUTH2\r\n",
        b"AUTH X-UNKNOWN\r\n",
    ] {
        s.handle_input(refused);
        assert!(server_events(&mut s).is_empty());
        assert_eq!(
            out_of(&mut s),
            "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
        );
    }
    assert_eq!(scram_login(&mut s), "235 2.7.0 Authentication successful\r\n");
    assert!(s.is_authenticated());
    assert!(!s.is_tls());

    // After STARTTLS every configured mechanism is offered and PLAIN is accepted.
    let mut s = ServerSession::new(cfg.clone(), t0);
    out_of(&mut s);
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    out_of(&mut s);
    s.handle_input(b"STARTTLS\r\n");
    assert_eq!(server_events(&mut s), vec!["StartTls"]);
    out_of(&mut s);
    s.tls_established(t0).unwrap();
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    let ehlo = out_of(&mut s);
    assert!(
        ehlo.ends_with("250 AUTH PLAIN SCRAM-SHA-256 LOGIN CRAM-MD5 XOAUTH2 X-UNKNOWN\r\n"),
        "{ehlo}"
    );
    s.handle_input(b"AUTH PLAIN AHVzZXIAcGVuY2ls\r\n");
    assert_eq!(server_events(&mut s).len(), 1, "AuthStart");

    // Off (the default): no AUTH before TLS at all, not even SCRAM.
    let mut s = ServerSession::new(
        ServerConfig {
            allow_safe_auth_before_tls: false,
            ..cfg
        },
        t0,
    );
    out_of(&mut s);
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    s.handle_input(b"AUTH SCRAM-SHA-256\r\n");
    server_events(&mut s);
    let out = out_of(&mut s);
    assert!(!out.contains("AUTH"), "{out}");
    assert!(out.ends_with("538 5.7.11 Encryption required for requested authentication mechanism\r\n"));
}

#[test]
fn client_enforces_the_reply_line_limit_except_for_auth_challenges() {
    let t0 = Instant::now();
    // 512 octets with the CRLF pass, 513 fail the session.
    for (len, ok) in [(512, true), (513, false)] {
        let mut c = ClientSession::new(ClientConfig::default(), t0);
        let text = "x".repeat(len - "220 \r\n".len());
        c.handle_input(format!("220 {text}\r\n").as_bytes());
        let ev = client_events(&mut c);
        if ok {
            assert!(ev.is_empty(), "{ev:?}");
            assert_eq!(out_of(&mut c), "EHLO localhost\r\n");
        } else {
            assert_eq!(ev, vec!["error BadReply"]);
        }
    }
    // A long line inside a multi-line EHLO reply fails too.
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    let long = "X".repeat(600);
    c.handle_input(format!("220 mx\r\n250-mx\r\n250 {long}\r\n").as_bytes());
    assert_eq!(client_events(&mut c), vec!["error BadReply"]);
    // Configurable: a larger reply_line accepts it.
    let mut c = ClientSession::new(
        ClientConfig {
            limits: Limits {
                reply_line: 1024,
                ..Limits::default()
            },
            ..ClientConfig::default()
        },
        t0,
    );
    c.handle_input(format!("220 mx\r\n250-mx\r\n250 {long}\r\n").as_bytes());
    assert_eq!(client_events(&mut c), vec!["Ready"]);

    // A 334 challenge may be up to auth_line (12288) long during AUTH.
    let creds = sasl::Credentials::with_password("user", "pass");
    let cfg = ClientConfig {
        credentials: Some(creds),
        implicit_tls: true,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg.clone(), t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "EHLO localhost\r\nAUTH LOGIN\r\n");
    let challenge = "QUFB".repeat((12288 - "334 \r\n".len()) / 4);
    c.handle_input(format!("334 {challenge}\r\n").as_bytes());
    assert!(client_events(&mut c).is_empty());
    assert_eq!(out_of(&mut c), "dXNlcg==\r\n");
    // ... but not a long final reply to AUTH.
    c.handle_input(format!("535 {long}\r\n").as_bytes());
    assert_eq!(client_events(&mut c), vec!["error BadReply"]);
    // Nor a 334 line longer than auth_line.
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n");
    client_events(&mut c);
    out_of(&mut c);
    c.handle_input(format!("334 {challenge}AAAA\r\n").as_bytes());
    assert_eq!(client_events(&mut c), vec!["error BadReply"]);
    // Outside AUTH a 334 line is held to reply_line like any other.
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(format!("334 {long}\r\n").as_bytes());
    assert_eq!(client_events(&mut c), vec!["error BadReply"]);
}

#[test]
fn handle_input_buf_keeps_the_readers_buffer_and_behaves_like_handle_input() {
    use bytes::BytesMut;
    let t0 = Instant::now();
    let script: &[u8] = b"EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n\
        Subject: hi\r\n\r\n..dotted\r\nbody line\r\n.\r\nMAIL FROM:<a@b.example>\r\n\
        RCPT TO:<c@d.example>\r\nBDAT 12 LAST\r\nchunk body\r\nQUIT\r\n";
    let cfg = ServerConfig {
        reject_unsync_pipelining: false,
        ..ServerConfig::default()
    };
    // Body chunk boundaries are not part of the behaviour (the copying path
    // unstuffs a read into one chunk, the owned one splits at each stuffed
    // dot): the log holds the body bytes between two other events.
    let run = |pieces: &[&[u8]], owned: bool| {
        let mut s = ServerSession::new(cfg.clone(), t0);
        let mut log = vec![out_of(&mut s)];
        let mut body = Vec::new();
        for p in pieces {
            if owned {
                s.handle_input_buf(BytesMut::from(*p));
            } else {
                s.handle_input(p);
            }
            while let Some(ev) = s.poll_event().unwrap() {
                if let ServerEvent::DataChunk(c) = &ev {
                    body.extend_from_slice(c);
                    continue;
                }
                if !body.is_empty() {
                    log.push(format!("body {:?}", String::from_utf8_lossy(&body)));
                    body.clear();
                }
                if matches!(
                    ev,
                    ServerEvent::Mail(_) | ServerEvent::Rcpt(_) | ServerEvent::DataEnd
                ) {
                    s.accept().unwrap();
                }
                log.push(format!("{ev:?}"));
            }
            log.push(out_of(&mut s));
        }
        log
    };
    let whole = run(&[script], true);
    assert_eq!(whole.iter().filter(|l| *l == "DataEnd").count(), 2, "{whole:?}");
    assert!(whole.iter().any(|l| l == "Quit"), "{whole:?}");
    for size in [1, 2, 3, 7, 16, 1000] {
        let pieces: Vec<&[u8]> = script.chunks(size).collect();
        assert_eq!(run(&pieces, true), run(&pieces, false), "pieces of {size}");
    }
    // A body arriving in its own read comes back as slices of that buffer.
    let mut s = ServerSession::new(ServerConfig::default(), t0);
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    for line in [&b"MAIL FROM:<a@b.example>\r\n"[..], b"RCPT TO:<c@d.example>\r\n"] {
        s.handle_input(line);
        server_events(&mut s);
        s.accept().unwrap();
    }
    s.handle_input(b"DATA\r\n");
    assert_eq!(server_events(&mut s), vec!["DataStart"]);
    let body = BytesMut::from(&b"line one\r\nline two\r\n"[..]);
    let base = body.as_ptr();
    s.handle_input_buf(body);
    match s.poll_event().unwrap() {
        Some(ServerEvent::DataChunk(c)) => {
            assert_eq!(c.as_ptr(), base, "not copied");
            assert_eq!(&c[..], b"line one\r\nline two\r\n");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn client_refused_body_piece_changes_nothing() {
    // A refused piece must not change the stuffing state: the corrected
    // piece's leading dot is still doubled, so a "." line can never end the
    // body early and let the next line through as a command.
    let mut c = client_in_body(1 << 16, false);
    assert_eq!(c.send_data(b"line\r\n"), Ok(6));
    assert!(c.send_data(b".x\n").is_err());
    assert_eq!(c.send_data(b".\r\nRSET\r\n"), Ok(9));
    c.finish_data().unwrap();
    assert_eq!(out_of(&mut c), "line\r\n..\r\nRSET\r\n.\r\n");
    // A CR already sent keeps waiting for its LF across a refused piece.
    for chunking in [false, true] {
        let mut c = client_in_body(1 << 16, chunking);
        assert_eq!(c.send_data(b"abc\r"), Ok(4));
        assert!(c.send_data(b"x").is_err());
        assert!(c.send_data(b"y\r\n").is_err());
        assert!(c.send_data(b".\r\n").is_err());
        assert_eq!(c.send_data(b"\ndone\r\n"), Ok(7));
        c.finish_data().unwrap();
        let out = out_of(&mut c);
        assert!(!out.contains("\ry") && !out.contains("\r."), "{out:?}");
    }
}

#[test]
fn client_refuses_unsendable_envelope_parameters_up_front() {
    // An ORCPT type that is not an atom, or MT-PRIORITY outside -9..9, is a
    // usage error from send_mail: nothing is sent and the session stays usable.
    for pipelining in [true, false] {
        let t0 = Instant::now();
        let mut c = ClientSession::new(ClientConfig::default(), t0);
        let ehlo: &[u8] = if pipelining {
            b"220 mx\r\n250-mx\r\n250-DSN\r\n250-MT-PRIORITY\r\n250 PIPELINING\r\n"
        } else {
            b"220 mx\r\n250-mx\r\n250-DSN\r\n250 MT-PRIORITY\r\n"
        };
        c.handle_input(ehlo);
        assert_eq!(client_events(&mut c), vec!["Ready"]);
        out_of(&mut c);
        for bad in ["rfc 822", "rfc822\r\nRSET", ""] {
            let mut e = env();
            e.recipients.push(Recipient {
                address: "c@example.test".into(),
                notify: None,
                orcpt: Some((bad.into(), "c@example.test".into())),
            });
            assert!(
                matches!(c.send_mail(e, t0), Err(UsageError::BadArgument(_))),
                "{bad:?}"
            );
        }
        for p in [10, -10, 42, i8::MIN] {
            let mut e = env();
            e.mt_priority = Some(p);
            assert!(
                matches!(c.send_mail(e, t0), Err(UsageError::BadArgument(_))),
                "{p}"
            );
        }
        assert_eq!(out_of(&mut c), "");
        assert!(c.is_ready() && !c.is_closed());
        let mut e = env();
        e.mt_priority = Some(-9);
        c.send_mail(e, t0).unwrap();
        assert!(out_of(&mut c).starts_with("MAIL FROM:<a@example.test> MT-PRIORITY=-9"));
    }
}

/// A client past EHLO with the given reply (after the 220).
fn client_ready(cfg: ClientConfig, ehlo: &[u8], t0: Instant) -> ClientSession {
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx\r\n");
    c.handle_input(ehlo);
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    assert_eq!(out_of(&mut c), "EHLO localhost\r\n");
    c
}

#[test]
fn client_bdat_without_pipelining_waits_for_each_chunk_reply() {
    // RFC 5321 4.3.1 / RFC 3030 2: without PIPELINING each BDAT waits for
    // its reply. Plain bodies then go with DATA; BINARYMIME needs BDAT, and
    // `send_data` takes nothing while a chunk's reply is due.
    let t0 = Instant::now();
    let cfg = ClientConfig {
        chunking: true,
        ..ClientConfig::default()
    };
    let ehlo = b"250-mx\r\n250-CHUNKING\r\n250 BINARYMIME\r\n";
    let mut c = client_ready(cfg.clone(), ehlo, t0);
    c.send_mail(env(), t0).unwrap();
    c.handle_input(b"250 ok\r\n");
    client_events(&mut c);
    c.handle_input(b"250 ok\r\n");
    client_events(&mut c);
    assert_eq!(
        out_of(&mut c),
        "MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"
    );

    let mut c = client_ready(cfg, ehlo, t0);
    let mut e = env();
    e.body = Some(BodyType::BinaryMime);
    c.send_mail(e, t0).unwrap();
    c.handle_input(b"250 ok\r\n");
    client_events(&mut c);
    c.handle_input(b"250 ok\r\n");
    assert_eq!(client_events(&mut c).last().unwrap(), "SendBody");
    out_of(&mut c);
    assert_eq!(c.send_data(b"one\n"), Ok(4));
    assert_eq!(c.send_data(b"two\n"), Ok(0), "the first chunk's reply is due");
    assert_eq!(out_of(&mut c), "BDAT 4\r\none\n");
    c.handle_input(b"250 ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(c.send_data(b"two\n"), Ok(4));
    c.finish_data().unwrap();
    assert_eq!(out_of(&mut c), "BDAT 4\r\ntwo\n", "BDAT LAST waits for the reply");
    c.handle_input(b"250 ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(out_of(&mut c), "BDAT 0 LAST\r\n");
    c.handle_input(b"250 2.0.0 queued\r\n");
    let ev = client_events(&mut c);
    assert!(ev.len() == 1 && ev[0].starts_with("MessageResult"), "{ev:?}");
    assert!(c.is_ready());
}

#[test]
fn client_quit_waits_for_outstanding_replies_without_pipelining() {
    let t0 = Instant::now();
    let min = Duration::from_secs(60);
    // A refused recipient: the session sends RSET; QUIT waits for its reply.
    let mut c = client_ready(ClientConfig::default(), b"250 mx\r\n", t0);
    c.send_mail(env(), t0).unwrap();
    c.handle_input(b"250 ok\r\n550 no such user\r\n");
    assert!(
        client_events(&mut c)
            .last()
            .unwrap()
            .starts_with("TransactionFailed")
    );
    c.quit(t0 + min).unwrap();
    assert_eq!(
        out_of(&mut c),
        "MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRSET\r\n"
    );
    c.handle_input(b"250 ok\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(out_of(&mut c), "QUIT\r\n");
    c.handle_input(b"221 bye\r\n");
    assert_eq!(client_events(&mut c), vec!["Closed"]);

    // QUIT during an envelope: the rest of it is dropped, QUIT follows the
    // reply already due; the second call changes nothing.
    let mut c = client_ready(ClientConfig::default(), b"250 mx\r\n", t0);
    c.send_mail(env(), t0).unwrap();
    c.quit(t0).unwrap();
    c.quit(t0).unwrap();
    assert_eq!(out_of(&mut c), "MAIL FROM:<a@example.test>\r\n");
    assert!(!c.is_ready());
    c.handle_input(b"250 ok\r\n");
    assert_eq!(client_events(&mut c).len(), 1);
    assert_eq!(out_of(&mut c), "QUIT\r\n");

    // With PIPELINING it joins the group at once, but never behind DATA.
    let mut c = client_ready(ClientConfig::default(), b"250-mx\r\n250 PIPELINING\r\n", t0);
    c.send_mail(env(), t0).unwrap();
    c.quit(t0).unwrap();
    assert_eq!(
        out_of(&mut c),
        "MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"
    );
    c.handle_input(b"250 ok\r\n250 ok\r\n354 go\r\n");
    assert_eq!(client_events(&mut c).last().unwrap(), "SendBody");
    c.send_data(b"hi\r\n").unwrap();
    c.finish_data().unwrap();
    assert_eq!(out_of(&mut c), "hi\r\n.\r\n");
    c.handle_input(b"250 queued\r\n");
    assert!(client_events(&mut c)[0].starts_with("MessageResult"));
    assert_eq!(out_of(&mut c), "QUIT\r\n");
}

#[test]
fn client_says_quit_after_a_refused_greeting_or_setup() {
    // RFC 5321 3.1: a server that answers 554 still waits for QUIT; the
    // client sends it and reports the refusal once it is answered.
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"554 5.7.1 go away\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(out_of(&mut c), "QUIT\r\n");
    c.handle_input(b"221 bye\r\n");
    assert_eq!(client_events(&mut c), vec!["error ServiceClosing"]);
    // Also when the server hangs up instead of answering.
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"554 go away\r\n");
    client_events(&mut c);
    c.handle_eof();
    assert_eq!(client_events(&mut c), vec!["error ServiceClosing"]);
    // HELO refused after EHLO was.
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n500 no EHLO\r\n550 no HELO either\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(out_of(&mut c), "EHLO localhost\r\nHELO localhost\r\nQUIT\r\n");
    c.handle_input(b"221 bye\r\n");
    assert_eq!(client_events(&mut c), vec!["error UnexpectedReply"]);
}

#[test]
fn client_quit_timer_starts_when_quit_is_called() {
    let min = Duration::from_secs(60);
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n");
    client_events(&mut c);
    c.handle_timeout(t0 + 5 * min);
    c.handle_input(b"250 mx\r\n");
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    assert_eq!(c.poll_timeout(), None);
    out_of(&mut c);
    let t_quit = t0 + 60 * min;
    c.quit(t_quit).unwrap();
    assert_eq!(out_of(&mut c), "QUIT\r\n");
    assert_eq!(c.poll_timeout(), Some(t_quit + 5 * min));
    c.handle_timeout(t_quit + 4 * min);
    assert!(client_events(&mut c).is_empty() && !c.is_closed());
}

#[test]
fn client_sends_8bit_octets_only_when_declared() {
    // RFC 6152 3: no octet above 127 without BODY=8BITMIME (or BINARYMIME,
    // or SMTPUTF8); the refused piece sends nothing.
    let body = "Subject: caf\u{e9}\r\n\r\n\u{e9}t\u{e9}\r\n".as_bytes();
    for chunking in [false, true] {
        let mut c = client_in_body(1 << 16, chunking);
        assert!(matches!(c.send_data(body), Err(UsageError::BadArgument(_))));
        assert_eq!(out_of(&mut c), "");
        assert_eq!(c.send_data(b"ascii\r\n"), Ok(7));
    }
    let t0 = Instant::now();
    let mut c = client_ready(
        ClientConfig::default(),
        b"250-mx\r\n250-8BITMIME\r\n250 PIPELINING\r\n",
        t0,
    );
    let mut e = env();
    e.body = Some(BodyType::EightBitMime);
    c.send_mail(e, t0).unwrap();
    c.handle_input(b"250 ok\r\n250 ok\r\n354 go\r\n");
    assert_eq!(client_events(&mut c).last().unwrap(), "SendBody");
    assert_eq!(c.send_data(body), Ok(body.len()));
}

#[test]
fn server_holds_bounded_input_while_a_decision_is_due() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        limits: Limits {
            buffered_input: 10_000,
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    out_of(&mut s);
    s.handle_input(b"EHLO c.test\r\n");
    server_events(&mut s);
    s.handle_input(b"MAIL FROM:<a@example.test>\r\n");
    let ev = server_events(&mut s);
    assert!(ev.last().unwrap().starts_with("Mail"), "{ev:?}");
    // The MAIL decision is due: the session reads no further. Pipelined
    // input up to the limit is kept ...
    s.handle_input(&vec![b'x'; 9_000]);
    assert_eq!(s.buffered_input(), 9_000);
    assert!(!s.is_closed());
    // ... past it the server gives up with 421 instead of holding more.
    s.handle_input_buf(bytes::BytesMut::from(&vec![b'y'; 2_000][..]));
    assert!(s.is_closed());
    assert!(
        out_of(&mut s).ends_with("421 4.7.0 Too much input ahead of the replies, closing connection\r\n")
    );
    assert_eq!(server_events(&mut s), vec!["error TooMuchInput"]);
    assert_eq!(s.buffered_input(), 0);
    // Reading on as usual, far more than the limit passes through.
    let mut s = ServerSession::new(
        ServerConfig {
            limits: Limits {
                buffered_input: 10_000,
                message_size: 0,
                ..Limits::default()
            },
            ..ServerConfig::default()
        },
        t0,
    );
    out_of(&mut s);
    s.handle_input(b"EHLO c.test\r\n");
    server_events(&mut s);
    s.handle_input(b"MAIL FROM:<a@example.test>\r\n");
    server_events(&mut s);
    s.accept().unwrap();
    s.handle_input(b"RCPT TO:<b@example.test>\r\n");
    server_events(&mut s);
    s.accept().unwrap();
    s.handle_input(b"DATA\r\n");
    server_events(&mut s);
    let line = [&[b'z'; 998][..], b"\r\n"].concat();
    for _ in 0..100 {
        s.handle_input(&line);
        server_events(&mut s);
    }
    assert!(!s.is_closed());
}

#[test]
fn client_quit_during_an_auth_exchange_cancels_it_first() {
    // QUIT cannot be sent as an answer to a 334 challenge: the exchange is
    // cancelled with "*" (RFC 4954 4), and QUIT follows the server's 501.
    let t0 = Instant::now();
    let cfg = ClientConfig {
        implicit_tls: true,
        credentials: Some(sasl::Credentials {
            username: "user".into(),
            password: Some(Secret::new("pass".into())),
            ..sasl::Credentials::default()
        }),
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 AUTH LOGIN\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "EHLO localhost\r\nAUTH LOGIN\r\n");
    c.quit(t0).unwrap();
    assert_eq!(out_of(&mut c), "");
    c.handle_input(b"334 VXNlcm5hbWU6\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "*\r\n");
    c.handle_input(b"501 5.7.0 cancelled\r\n");
    let ev = client_events(&mut c);
    assert!(ev.iter().all(|e| e != "Ready"), "{ev:?}");
    assert_eq!(out_of(&mut c), "QUIT\r\n");
    c.handle_input(b"221 bye\r\n");
    assert_eq!(client_events(&mut c), vec!["Closed"]);
}

/// RFC 5321 4.5.3.1.6: "The maximum total length of a text line including
/// the <CRLF> is 1000 octets (not counting the leading dot duplicated for
/// transparency)." The client refuses body data that would make a longer
/// line, however the line is split into pieces; `Limits::text_line` of
/// `usize::MAX` turns the check off.
#[test]
fn client_refuses_text_lines_over_1000_octets() {
    for chunking in [false, true] {
        let mut c = client_in_body(1 << 16, chunking);
        let line = format!(".{}\r\n", "x".repeat(997));
        assert_eq!(line.len(), 1000);
        assert_eq!(c.send_data(line.as_bytes()), Ok(1000));
        let long = format!("{}\r\n", "y".repeat(999));
        assert!(matches!(
            c.send_data(long.as_bytes()),
            Err(UsageError::BadArgument(_))
        ));
        // In pieces: 998 octets, then its CR, then its LF are fine; the 999th
        // octet is refused whether the CR comes with it or not.
        assert_eq!(c.send_data("z".repeat(500).as_bytes()), Ok(500));
        assert_eq!(c.send_data("z".repeat(498).as_bytes()), Ok(498));
        assert!(c.send_data(b"z").is_err());
        assert!(c.send_data(b"z\r").is_err());
        assert_eq!(c.send_data(b"\r"), Ok(1));
        assert_eq!(c.send_data(b"\nnext\r\n"), Ok(7));
        c.finish_data().unwrap();
        let out = out_of(&mut c);
        assert!(!out.contains('y'), "the refused line was not sent");
        assert_eq!(out.matches('z').count(), 998);
        if !chunking {
            let z = out.find('z').unwrap();
            assert_eq!(&out[z..z + 1000], format!("{}\r\n", "z".repeat(998)));
        }
    }
    let t0 = Instant::now();
    let mut cfg = ClientConfig::default();
    cfg.limits.text_line = usize::MAX;
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
    client_events(&mut c);
    c.send_mail(env(), t0).unwrap();
    c.handle_input(b"250 ok\r\n250 ok\r\n354 go\r\n");
    assert_eq!(client_events(&mut c).last().unwrap(), "SendBody");
    let long = format!("{}\r\n", "y".repeat(5000));
    assert_eq!(c.send_data(long.as_bytes()), Ok(long.len()));
}

/// RFC 5321 4.5.3.2.5: the data-block timeout (3 minutes) runs "while
/// awaiting the completion of each TCP SEND call transmitting a chunk of
/// data". A pause of the application with nothing queued does not fail the
/// session; body bytes that do not leave for 3 minutes do; bytes leaving
/// count as progress.
#[test]
fn client_data_block_timeout_counts_only_unsent_body_bytes() {
    let t0 = Instant::now();
    let mut c = client_in_body(1 << 16, false);
    c.handle_timeout(t0);
    // The application pauses for ten minutes with nothing queued.
    for m in 1..=10 {
        let now = t0 + m * MIN;
        if c.poll_timeout().is_some_and(|at| at <= now) {
            c.handle_timeout(now);
        }
    }
    assert!(!c.is_closed(), "{:?}", client_events(&mut c));
    // Bytes queued and partly written: progress each time some leave.
    assert_eq!(c.send_data(&[b'x'; 300]), Ok(300));
    let mut now = t0 + 10 * MIN;
    for _ in 0..5 {
        c.advance_transmit(10);
        now = c.poll_timeout().unwrap().max(now);
        c.handle_timeout(now);
        assert!(!c.is_closed());
    }
    // Then the server stops reading: nothing leaves, and the next expiry,
    // one period on, fails the session.
    let last = now;
    let at = c.poll_timeout().unwrap();
    assert_eq!(at, last + 3 * MIN);
    c.handle_timeout(at);
    assert!(c.is_closed());
    assert_eq!(client_events(&mut c).last().unwrap(), "error Timeout");
}

/// RFC 5321 4.5.3.1.3: "The maximum total length of a reverse-path or
/// forward-path is 256 octets (including the punctuation and element
/// separators)." The client refuses a longer path before sending anything
/// (local part and domain are each within their own limits here).
#[test]
fn client_refuses_paths_over_256_octets() {
    let t0 = Instant::now();
    let domain = |n: usize| {
        let labels: Vec<String> = (0..n).map(|i| format!("{}{i}", "d".repeat(58))).collect();
        format!("{}.test", labels.join("."))
    };
    // 64 + 1 + 4 * 60 - 1 + 5 = 309 octets: too long; 64 + 1 + 3 * 60 - 1 + 5 = 249 fits.
    let long = format!("{}@{}", "l".repeat(64), domain(4));
    let fits = format!("{}@{}", "l".repeat(64), domain(3));
    assert!(long.len() + 2 > 256 && fits.len() + 2 <= 256);
    for (from, to) in [
        (long.as_str(), "b@example.test"),
        ("a@example.test", long.as_str()),
    ] {
        let mut c = ClientSession::new(ClientConfig::default(), t0);
        c.handle_input(b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
        client_events(&mut c);
        out_of(&mut c);
        let env = Envelope {
            from: from.into(),
            recipients: vec![Recipient::new(to)],
            ..Envelope::default()
        };
        assert!(matches!(c.send_mail(env, t0), Err(UsageError::BadArgument(_))));
        assert_eq!(out_of(&mut c), "");
        let env = Envelope {
            from: fits.clone(),
            recipients: vec![Recipient::new(&fits)],
            ..Envelope::default()
        };
        c.send_mail(env, t0).unwrap();
        assert!(out_of(&mut c).starts_with("MAIL FROM:<lll"));
    }
}

/// The copying `handle_input` unstuffs a DATA body as it copies a read in:
/// one `DataChunk` per read however many stuffed dots it holds, the same
/// bytes as the owned path, and the terminator, a bare line ending and
/// anything after the body still go through the usual path.
#[test]
fn copying_input_unstuffs_a_read_into_one_chunk() {
    let t0 = Instant::now();
    let start = |s: &mut ServerSession| {
        s.handle_input(b"EHLO c.example\r\n");
        server_events(s);
        for line in [&b"MAIL FROM:<a@b.example>\r\n"[..], b"RCPT TO:<c@d.example>\r\n"] {
            s.handle_input(line);
            server_events(s);
            s.accept().unwrap();
        }
        s.handle_input(b"DATA\r\n");
        assert_eq!(server_events(s), vec!["DataStart"]);
    };
    let chunks = |s: &mut ServerSession| {
        let mut v = Vec::new();
        while let Some(ev) = s.poll_event().unwrap() {
            match ev {
                ServerEvent::DataChunk(c) => v.push(c.to_vec()),
                other => v.push(format!("{other:?}").into_bytes()),
            }
        }
        v
    };
    let mut s = ServerSession::new(ServerConfig::default(), t0);
    start(&mut s);
    let read = b"..one\r\n..two\r\n...three\r\nfour\r\n";
    s.handle_input(read);
    assert_eq!(s.buffered_input(), 0, "unstuffed as it was copied");
    assert_eq!(
        chunks(&mut s),
        vec![b".one\r\n.two\r\n..three\r\nfour\r\n".to_vec()]
    );
    // The terminator arrives in pieces; the pipelined command after it is
    // read as a command.
    s.handle_input(b"last\r\n.");
    assert_eq!(chunks(&mut s), vec![b"last\r\n".to_vec()]);
    s.handle_input(b"\r");
    s.handle_input(b"\nNOOP\r\n");
    assert_eq!(chunks(&mut s), vec![b"DataEnd".to_vec()]);
    s.accept().unwrap();
    assert!(chunks(&mut s).is_empty());
    assert_eq!(s.buffered_input(), 0);
    let replies = out_of(&mut s);
    assert!(
        replies.ends_with(
            "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Message accepted\r\n250 2.0.0 Ok\r\n"
        ),
        "{replies}"
    );

    // A bare LF: the bytes before it may go out, the message is refused.
    let mut s = ServerSession::new(ServerConfig::default(), t0);
    start(&mut s);
    out_of(&mut s);
    s.handle_input(b"fine\r\n..dot\r\nbare\nmore\r\n.\r\n");
    let got = chunks(&mut s);
    assert_eq!(got.last().unwrap(), b"DataAborted(BareLineEnding)", "{got:?}");
    assert!(out_of(&mut s).starts_with("550 5.6.0 "));
}
