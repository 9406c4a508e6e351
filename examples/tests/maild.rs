//! maild end to end, on loopback: the built binary is started on free ports
//! in a temporary data directory and driven with raw protocol lines (so the
//! tests see exactly what a client sees), plus smtp-proto's client for
//! SCRAM submission.

use examples::net::Conn;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

mod common;
use common::*;

#[tokio::test]
async fn deliver_then_pop3_byte_exact_and_refusals() {
    let dir = temp_dir("basic");
    let m = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@example.test:wonderland",
            "--user",
            "bob@example.test:builder",
        ],
    );
    let mut c = Raw::connect(m.port("smtp")).await;
    let (code, greeting) = c.reply().await;
    assert_eq!(code, 220);
    assert!(greeting.starts_with("mx.test"), "{greeting}");
    let (code, ehlo) = c.cmd("EHLO client.test").await;
    assert_eq!(code, 250);
    assert!(ehlo.contains("SIZE ") && ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(
        ehlo.lines().any(|l| l == "AUTH SCRAM-SHA-256"),
        "only SCRAM before TLS: {ehlo}"
    );
    assert_eq!(c.cmd("MAIL FROM:<sender@remote.test>").await.0, 250);
    let (code, text) = c.cmd("RCPT TO:<nobody@example.test>").await;
    assert_eq!(code, 550, "{text}");
    let (code, text) = c.cmd("RCPT TO:<someone@elsewhere.test>").await;
    assert_eq!(code, 554, "{text}");
    assert!(text.starts_with("5.7.1"), "{text}");
    assert_eq!(c.cmd("RCPT TO:<Alice@Example.Test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    let body = "Subject: test\r\nFrom: sender@remote.test\r\n\r\nline one\r\n..leading dot\r\n\r\nlast\r\n";
    c.send(body.as_bytes()).await;
    let (code, text) = c.cmd(".").await;
    assert_eq!(code, 250, "{text}");
    assert_eq!(c.cmd("QUIT").await.0, 221);

    let files = m.messages("alice@example.test");
    assert_eq!(files.len(), 1);
    assert!(files[0].parent().unwrap().ends_with("new"));
    let stored = std::fs::read(&files[0]).unwrap();
    let text = String::from_utf8(stored.clone()).unwrap();
    assert!(text.starts_with("Return-Path: <sender@remote.test>\r\nReceived: from client.test ([127.0.0.1])\r\n\tby mx.test (maild) with ESMTP id "), "{text}");
    assert!(text.contains("\r\n\tfor <Alice@example.test>;\r\n"), "{text}");
    assert!(
        text.ends_with(&body.replace("\r\n..", "\r\n.")),
        "unstuffed body stored as sent: {text}"
    );
    assert!(m.messages("bob@example.test").is_empty());

    // POP3: USER/PASS refused without TLS, then STLS; the message comes back byte-exact.
    let mut p = Raw::connect(m.port("pop3")).await;
    assert!(p.line().await.starts_with("+OK"));
    assert!(p.cmd_pop("USER alice").await.starts_with("-ERR"));
    assert!(p.cmd_pop("CAPA").await.starts_with("+OK"));
    let capa = String::from_utf8(p.multiline().await).unwrap();
    assert!(
        capa.contains("SASL SCRAM-SHA-256\r\n") && !capa.contains("PLAIN") && !capa.contains("USER"),
        "before STLS only SCRAM: {capa}"
    );
    assert!(
        p.cmd_pop(&format!("AUTH PLAIN {}", plain("alice", "wonderland")))
            .await
            .starts_with("-ERR")
    );
    assert!(p.cmd_pop("STLS").await.starts_with("+OK"));
    p.tls().await;
    assert!(p.cmd_pop("USER alice").await.starts_with("+OK"));
    assert!(p.cmd_pop("PASS wrong").await.starts_with("-ERR [AUTH]"));
    assert!(p.cmd_pop("USER alice@example.test").await.starts_with("+OK"));
    assert!(
        p.cmd_pop("PASS wonderland")
            .await
            .starts_with("+OK maildrop has 1 messages")
    );
    // A second session is locked out.
    let mut p2 = Raw::connect_tls(m.port("pop3s")).await;
    assert!(p2.line().await.starts_with("+OK"));
    p2.cmd_pop("USER alice").await;
    assert!(p2.cmd_pop("PASS wonderland").await.starts_with("-ERR [IN-USE]"));
    drop(p2);
    assert!(p.cmd_pop("UIDL 1").await.starts_with("+OK 1 "));
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    let uid = name.split(',').next().unwrap().to_owned();
    assert!(p.cmd_pop("UIDL").await.starts_with("+OK"));
    assert_eq!(p.multiline().await, format!("1 {uid}\r\n").into_bytes());
    assert!(
        p.cmd_pop("RETR 1")
            .await
            .starts_with(&format!("+OK {} octets", stored.len()))
    );
    assert_eq!(p.multiline().await, stored, "RETR is byte-exact");
    assert!(p.cmd_pop("DELE 1").await.starts_with("+OK"));
    // Not deleted before QUIT.
    assert_eq!(m.messages("alice@example.test").len(), 1);
    assert!(p.cmd_pop("QUIT").await.starts_with("+OK"));
    wait_for("deletion at QUIT", || m.messages("alice@example.test").is_empty()).await;
}

impl Raw {
    async fn cmd_pop(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.line().await
    }
}

#[tokio::test]
async fn submission_needs_tls_and_auth_then_relays() {
    let dir = temp_dir("sub");
    let b_dir = temp_dir("sub-b");
    let b = Maild::start(&b_dir, 0, &["--user", "bob@b.test:builder", "--domain", "b.test"]);
    let relay = format!("127.0.0.1:{}", b.port("smtp"));
    let a = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--domain",
            "a.test",
            "--relay-host",
            &relay,
            "--relay-ca",
            &b.cert(),
        ],
    );
    let mut c = Raw::connect(a.port("submission")).await;
    c.reply().await;
    let (_, caps) = c.cmd("EHLO client.test").await;
    // Before TLS only SCRAM, which never exposes the password, is offered.
    assert!(
        caps.contains("STARTTLS") && caps.lines().any(|l| l == "AUTH SCRAM-SHA-256"),
        "{caps}"
    );
    assert!(!caps.contains("PLAIN") && !caps.contains("LOGIN"), "{caps}");
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test>").await.0, 530);
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain("alice", "wonderland")))
            .await
            .0,
        538
    );
    assert_eq!(c.cmd("STARTTLS").await.0, 220);
    c.tls().await;
    c.cmd("EHLO client.test").await;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test>").await.0, 530, "still no AUTH");
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain("alice", "nope"))).await.0,
        535
    );
    assert_eq!(c.cmd("QUIT").await.0, 221);

    // Authenticated: a local copy and a relayed one through B.
    let body = "Subject: relay\r\n\r\nfrom a to b\r\n";
    let (codes, code) = submit(
        a.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@b.test", "alice@a.test"],
        body,
    )
    .await;
    assert_eq!((codes, code), (vec![250, 250], 250));
    assert_eq!(a.messages("alice@a.test").len(), 1);
    wait_for("relay to B", || b.messages("bob@b.test").len() == 1).await;
    wait_for("queue emptied", || a.queued() == 0).await;
    let got = String::from_utf8(std::fs::read(&b.messages("bob@b.test")[0]).unwrap()).unwrap();
    assert!(
        got.starts_with("Return-Path: <alice@a.test>\r\nReceived: from mx.test"),
        "{got}"
    );
    assert_eq!(
        got.matches("Received: ").count(),
        2,
        "A's and B's trace fields: {got}"
    );
    assert!(got.contains("with ESMTPSA"), "A's submission trace: {got}");
    assert!(
        got.starts_with("Return-Path: <alice@a.test>\r\nReceived: from mx.test ([127.0.0.1])\r\n\tby mx.test (maild) with ESMTPS id"),
        "the queue runner used STARTTLS to B: {got}"
    );
    assert!(got.ends_with(body), "{got}");

    // A message larger than the runner's read chunks, with dot lines, is
    // streamed from the spool and arrives byte-exact.
    let mut big = String::from("Subject: big\r\n\r\n");
    for i in 0..6000 {
        big.push_str(&format!(
            ".{i} a line that starts with a dot and is fairly long for the test\r\n"
        ));
    }
    let stuffed = big.replace("\r\n.", "\r\n..");
    let (codes, code) = submit(
        a.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@b.test"],
        &stuffed,
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the big relay", || b.messages("bob@b.test").len() == 2).await;
    let found = b
        .messages("bob@b.test")
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .any(|t| t.ends_with(&big));
    assert!(found, "big message byte-exact ({} bytes)", big.len());
}

#[tokio::test]
async fn refused_recipient_bounces_to_the_sender() {
    let b_dir = temp_dir("bounce-b");
    let b = Maild::start(&b_dir, 0, &["--user", "bob@b.test:builder"]);
    let relay = format!("127.0.0.1:{}", b.port("smtp"));
    let dir = temp_dir("bounce-a");
    let a = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &relay,
            "--relay-ca",
            &b.cert(),
        ],
    );
    let (codes, code) = submit(
        a.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["nobody@b.test", "bob@b.test"],
        "Subject: partly\r\nMessage-ID: <x1@a.test>\r\n\r\nhello\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250, 250], 250), "A accepts both for relay");
    wait_for("delivery of the good one", || b.messages("bob@b.test").len() == 1).await;
    wait_for("the bounce", || a.messages("alice@a.test").len() == 1).await;
    let dsn = String::from_utf8(std::fs::read(&a.messages("alice@a.test")[0]).unwrap()).unwrap();
    assert!(dsn.starts_with("Return-Path: <>\r\n"), "{dsn}");
    assert!(dsn.contains("multipart/report"), "{dsn}");
    assert!(dsn.contains("report-type=delivery-status"), "{dsn}");
    assert!(
        dsn.contains("Final-Recipient: rfc822; nobody@b.test\r\nAction: failed\r\nStatus: 5.1.1"),
        "{dsn}"
    );
    assert!(dsn.contains("Diagnostic-Code: smtp; 550 5.1.1"), "{dsn}");
    assert!(
        dsn.contains("Message-ID: <x1@a.test>"),
        "original headers attached: {dsn}"
    );
    assert!(
        !dsn.contains("bob@b.test"),
        "the delivered recipient is not reported: {dsn}"
    );
    wait_for("queue emptied", || a.queued() == 0).await;
}

#[tokio::test]
async fn next_hop_down_then_up_and_queue_survives_kill_9() {
    let b_port = free_port();
    let dir = temp_dir("retry-a");
    let relay = format!("127.0.0.1:{b_port}");
    // B's certificate exists before B runs, so A can trust it from the start.
    let b_dir = temp_dir("retry-b");
    examples::tls::load_or_create_self_signed(
        &b_dir.join("tls"),
        &["mx.test".to_owned(), "localhost".into(), "127.0.0.1".into()],
    )
    .unwrap();
    let b_cert = b_dir.join("tls").join("cert.pem").display().to_string();
    let args = [
        "--user",
        "alice@a.test:wonderland",
        "--relay-host",
        &relay,
        "--relay-ca",
        &b_cert,
        "--retry-first",
        "1s",
        "--retry-interval",
        "1s",
        "--give-up",
        "1h",
    ];
    let mut a = Maild::start(&dir, 0, &args);
    let (codes, code) = submit(
        a.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@b.test"],
        "Subject: later\r\n\r\neventually\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    assert_eq!(a.queued(), 1, "spooled before the 250");
    // Let it fail at least once, then kill -9 and restart: the queue is recovered.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let env = std::fs::read_dir(dir.join("queue"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|d| d.file_name().to_string_lossy().ends_with(".env"))
        .map(|d| std::fs::read_to_string(d.path()).unwrap())
        .unwrap();
    assert!(!env.contains("attempts 0"), "an attempt was made: {env}");
    assert!(env.contains("rcpt pending"), "{env}");
    a.kill();
    let a = Maild::start(&dir, 0, &args);
    assert_eq!(a.queued(), 1, "queue survives kill -9");
    let b = Maild::start(&b_dir, b_port, &["--user", "bob@b.test:builder"]);
    wait_for("retry delivers once B is up", || {
        b.messages("bob@b.test").len() == 1
    })
    .await;
    wait_for("queue emptied", || a.queued() == 0).await;
    assert!(a.messages("alice@a.test").is_empty(), "no bounce");
}

#[tokio::test]
async fn smuggling_sequences_never_make_a_second_message() {
    let dir = temp_dir("smuggle");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let mut accepted = 0;
    for (i, end) in ["\n.\n", "\n.\r\n", "\r.\r", "\r\n.\r", "\r\n.\n", "\r\n\x00.\r\n"]
        .iter()
        .enumerate()
    {
        let mut c = Raw::connect(m.port("smtp")).await;
        c.reply().await;
        c.cmd("EHLO client.test").await;
        c.cmd("MAIL FROM:<a@remote.test>").await;
        c.cmd("RCPT TO:<alice@example.test>").await;
        assert_eq!(c.cmd("DATA").await.0, 354);
        let payload = format!(
            "Subject: s{i}\r\n\r\nfirst{end}MAIL FROM:<evil@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n"
        );
        c.send(payload.as_bytes()).await;
        let (code, text) = c.reply().await;
        // Either refused (bare CR/LF) or accepted as one message; never two.
        assert!(code == 250 || code == 550, "{code} {text}");
        if code == 250 {
            accepted += 1;
        }
        c.send(b"QUIT\r\n").await;
        let mut rest = Vec::new();
        loop {
            let l = c.line().await;
            if l.is_empty() {
                break;
            }
            rest.push(l);
        }
        assert_eq!(rest.len(), 1, "only the QUIT reply follows: {rest:?}");
        assert!(rest[0].starts_with("221"), "{rest:?}");
    }
    let files = m.messages("alice@example.test");
    assert_eq!(
        files.len(),
        accepted,
        "one message per accepted DATA, none smuggled"
    );
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // The smuggled lines, if present at all, are body text of the first message.
        let (head, _) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains("Subject: s") && !head.contains("smuggled"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn starttls_injection_is_discarded() {
    let dir = temp_dir("inject");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let mut c = Raw::connect(m.port("smtp")).await;
    c.reply().await;
    c.cmd("EHLO client.test").await;
    // The command after STARTTLS arrives in the same packet, before TLS.
    c.send(b"STARTTLS\r\nMAIL FROM:<injected@remote.test>\r\n").await;
    assert_eq!(c.reply().await.0, 220);
    c.tls().await;
    let (code, text) = c.cmd("EHLO client.test").await;
    assert_eq!(
        code, 250,
        "the first reply under TLS answers EHLO, not the injected MAIL: {text}"
    );
    assert!(text.contains("AUTH"), "{text}");
    // No transaction was started by the injected command.
    assert_eq!(c.cmd("RCPT TO:<alice@example.test>").await.0, 503);
    c.cmd("QUIT").await;
}

#[tokio::test]
async fn lmtp_answers_per_recipient_and_limits_hold() {
    let dir = temp_dir("lmtp");
    let m = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@example.test:wonderland",
            "--user",
            "bob@example.test:builder",
            "--max-message-size",
            "2000",
            "--max-recipients",
            "2",
        ],
    );
    let mut c = Raw::connect(m.port("lmtp")).await;
    assert_eq!(c.reply().await.0, 220);
    assert_eq!(c.cmd("LHLO client.test").await.0, 250);
    assert_eq!(c.cmd("MAIL FROM:<a@remote.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<bob@example.test>").await.0, 250);
    assert_eq!(
        c.cmd("RCPT TO:<carol@example.test>").await.0,
        452,
        "third recipient over the limit"
    );
    assert_eq!(c.cmd("DATA").await.0, 354);
    c.send(b"Subject: lmtp\r\n\r\nhi\r\n.\r\n").await;
    let first = c.reply().await;
    let second = c.reply().await;
    assert_eq!((first.0, second.0), (250, 250), "{first:?} {second:?}");
    assert!(first.1.contains("alice@example.test") && second.1.contains("bob@example.test"));
    c.cmd("QUIT").await;
    assert_eq!(m.messages("alice@example.test").len(), 1);
    assert_eq!(m.messages("bob@example.test").len(), 1);
    let text = std::fs::read_to_string(&m.messages("bob@example.test")[0]).unwrap();
    assert!(text.contains("with LMTP"), "{text}");

    // SIZE is advertised and enforced.
    let mut c = Raw::connect(m.port("smtp")).await;
    c.reply().await;
    let (_, ehlo) = c.cmd("EHLO client.test").await;
    assert!(ehlo.contains("SIZE 2000"), "{ehlo}");
    assert_eq!(c.cmd("MAIL FROM:<a@remote.test> SIZE=5000").await.0, 552);
    assert_eq!(c.cmd("MAIL FROM:<a@remote.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    let big = format!(
        "Subject: big\r\n\r\n{}.\r\n",
        format!("{}\r\n", "x".repeat(70)).repeat(40)
    );
    c.send(big.as_bytes()).await;
    assert_eq!(c.reply().await.0, 552);
    c.cmd("QUIT").await;
    assert_eq!(
        m.messages("alice@example.test").len(),
        1,
        "the big one was not delivered"
    );
    assert!(
        std::fs::read_dir(m.maildir("alice@example.test").join("tmp"))
            .unwrap()
            .next()
            .is_none()
    );
}

/// SCRAM-SHA-256 submission through smtp-proto's client (it picks the strongest mechanism).
/// Sends one message to alice with smtp-proto's client, logging in with
/// SCRAM-SHA-256: over implicit TLS, or in plaintext (no STARTTLS).
/// Returns whether it authenticated and the final reply code.
async fn scram_send(port: u16, implicit: bool, body: &[u8]) -> (bool, Option<u16>) {
    use smtp_proto::{ClientConfig, ClientEvent, ClientSession, Envelope, Recipient, TlsPolicy};
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut conn = Conn::Plain(tcp);
    if implicit {
        conn.start_client_tls(&examples::tls::connector(true, None).unwrap(), "localhost")
            .await
            .unwrap();
    }
    let cfg = ClientConfig {
        implicit_tls: implicit,
        tls: TlsPolicy::Disabled,
        credentials: Some(sasl::Credentials::with_password("alice", "wonderland")),
        ..ClientConfig::default()
    };
    let mut s = ClientSession::new(cfg, Instant::now());
    let mut buf = vec![0u8; 4096];
    let mut authenticated = false;
    let mut result = None;
    let end = Instant::now() + WAIT;
    while !s.is_closed() && Instant::now() < end {
        while let Some(ev) = s.poll_event().unwrap() {
            match ev {
                ClientEvent::Authenticated => authenticated = true,
                ClientEvent::Ready => s
                    .send_mail(
                        Envelope {
                            from: "alice@example.test".into(),
                            recipients: vec![Recipient::new("alice@example.test")],
                            ..Envelope::default()
                        },
                        Instant::now(),
                    )
                    .unwrap(),
                ClientEvent::SendBody => {
                    assert_eq!(s.send_data(body).unwrap(), body.len());
                    s.finish_data().unwrap();
                }
                ClientEvent::MessageResult(r) => {
                    result = Some(r[0].code());
                    s.quit(Instant::now()).unwrap();
                }
                ClientEvent::TransactionFailed(r) => {
                    result = Some(r.code());
                    s.quit(Instant::now()).unwrap();
                }
                _ => {}
            }
        }
        conn.flush_session(&mut s).await.unwrap();
        if s.is_closed() {
            break;
        }
        let r = conn.read_into(&mut s, &mut buf, Instant::now).await.unwrap();
        if r == examples::net::Read::Eof {
            break;
        }
    }
    (authenticated, result)
}

#[tokio::test]
async fn scram_submission_with_the_client_session() {
    let dir = temp_dir("scram");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let body = b"Subject: scram\r\n\r\nsigned in with SCRAM\r\n";
    assert_eq!(
        scram_send(m.port("submissions"), true, body).await,
        (true, Some(250)),
        "SCRAM-SHA-256 login over implicit TLS"
    );
    let text = std::fs::read_to_string(&m.messages("alice@example.test")[0]).unwrap();
    assert!(
        text.contains("with ESMTPSA") && text.ends_with("signed in with SCRAM\r\n"),
        "{text}"
    );
    // SCRAM never exposes the password, so it is offered before TLS too.
    let body = b"Subject: scram\r\n\r\nno TLS at all\r\n";
    assert_eq!(
        scram_send(m.port("submission"), false, body).await,
        (true, Some(250)),
        "SCRAM-SHA-256 login without TLS"
    );
    wait_for("the second message", || {
        m.messages("alice@example.test").len() == 2
    })
    .await;
    let plain_text = m
        .messages("alice@example.test")
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .find(|t| t.ends_with("no TLS at all\r\n"))
        .unwrap();
    assert!(plain_text.contains("with ESMTPA "), "{plain_text}");
}

#[tokio::test]
async fn connection_limit_idle_timeout_login_delay_and_clean_stop() {
    let dir = temp_dir("stop");
    let mut m = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@example.test:wonderland",
            "--max-connections",
            "2",
            "--smtp-timeout",
            "1s",
            "--login-delay-ms",
            "300",
        ],
    );
    // Two sessions are allowed; the third is told to come back later.
    let mut a = Raw::connect(m.port("smtp")).await;
    assert_eq!(a.reply().await.0, 220);
    let mut b = Raw::connect(m.port("submission")).await;
    assert_eq!(b.reply().await.0, 220);
    let mut c = Raw::connect(m.port("smtp")).await;
    let (code, text) = c.reply().await;
    assert_eq!(code, 421, "{text}");
    // Failed logins are answered only after the delay.
    b.cmd("EHLO client.test").await;
    b.cmd("STARTTLS").await;
    b.tls().await;
    b.cmd("EHLO client.test").await;
    let t = Instant::now();
    assert_eq!(
        b.cmd(&format!("AUTH PLAIN {}", plain("alice", "bad"))).await.0,
        535
    );
    assert!(t.elapsed() >= Duration::from_millis(300), "{:?}", t.elapsed());
    drop(b);
    // An idle session is closed with 421 after one to two timeout periods.
    let t = Instant::now();
    let (code, text) = a.reply().await;
    assert_eq!(code, 421, "{text}");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(a.line().await, "", "closed after the 421");
    drop(a);

    // SIGTERM in the middle of a message: the client gets 421, the partial
    // message leaves no file behind, and maild exits cleanly.
    let mut d = Raw::connect(m.port("smtp")).await;
    assert_eq!(d.reply().await.0, 220);
    d.cmd("EHLO client.test").await;
    d.cmd("MAIL FROM:<a@remote.test>").await;
    assert_eq!(d.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(d.cmd("DATA").await.0, 354);
    // Larger than maild's 32 KiB write buffer, so it is on its way to a
    // file in tmp/ (a smaller message stays in memory until its end).
    let mut half = b"Subject: half\r\n\r\n".to_vec();
    for _ in 0..700 {
        half.extend_from_slice(b"half a message, line after line of it, not yet ended\r\n");
    }
    d.send(&half).await;
    wait_for("the temporary file", || {
        std::fs::read_dir(m.maildir("alice@example.test").join("tmp"))
            .map(|rd| rd.count() == 1)
            .unwrap_or(false)
    })
    .await;
    let status = Command::new("kill")
        .args(["-TERM", &m.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, _) = d.reply().await;
    assert_eq!(code, 421);
    let end = Instant::now() + WAIT;
    let exit = loop {
        if let Some(s) = m.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "maild did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    assert!(m.messages("alice@example.test").is_empty());
    assert_eq!(
        std::fs::read_dir(m.maildir("alice@example.test").join("tmp"))
            .unwrap()
            .count(),
        0,
        "no half-written mail"
    );
}

/// A tiny DNS server on UDP loopback: `b.test` MX 10 `mx.b.test`,
/// `mx.b.test` A 127.0.0.1, `null.test` null MX; other names do not exist.
async fn fake_dns() -> std::net::SocketAddr {
    fake_dns_server(|name, qtype| match (name, qtype) {
        ("b.test", 15) => Some(vec![(15, mx_rdata(10, "mx.b.test"))]),
        ("null.test", 15) => Some(vec![(15, vec![0, 0, 0])]),
        ("mx.b.test", 1) => Some(vec![(1, vec![127, 0, 0, 1])]),
        ("b.test" | "mx.b.test" | "null.test", _) => Some(Vec::new()),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn relays_by_mx_lookup_and_bounces_null_mx() {
    let dns = fake_dns().await.to_string();
    let b_dir = temp_dir("mx-b");
    let b = Maild::start(&b_dir, 0, &["--user", "bob@b.test:builder"]);
    let mx_port = b.port("smtp").to_string();
    let dir = temp_dir("mx-a");
    let a = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--allow-internal-relay",
            "--dns-server",
            &dns,
            "--mx-port",
            &mx_port,
        ],
    );
    let (codes, code) = submit(
        a.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@b.test", "nobody@null.test", "x@nowhere.test"],
        "Subject: by mx\r\n\r\nlooked up\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250, 250, 250], 250));
    wait_for("delivery through the MX", || b.messages("bob@b.test").len() == 1).await;
    wait_for("the bounce for the null MX and the missing domain", || {
        a.messages("alice@a.test").len() == 1
    })
    .await;
    let dsn = std::fs::read_to_string(&a.messages("alice@a.test")[0]).unwrap();
    assert!(dsn.contains("Final-Recipient: rfc822; nobody@null.test"), "{dsn}");
    assert!(dsn.contains("Final-Recipient: rfc822; x@nowhere.test"), "{dsn}");
    assert!(!dsn.contains("Final-Recipient: rfc822; bob@b.test"), "{dsn}");
    wait_for("queue emptied", || a.queued() == 0).await;
}

#[tokio::test]
async fn eight_bit_and_utf8_mail_is_relayed_with_its_parameters_and_pop3_sasl_top() {
    let b_dir = temp_dir("utf8-b");
    let b = Maild::start(&b_dir, 0, &["--user", "bob@b.test:builder"]);
    let relay = format!("127.0.0.1:{}", b.port("smtp"));
    let dir = temp_dir("utf8-a");
    // A UTF-8 sender that is not alice's own address: allowed only with
    // --allow-any-sender.
    let a = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &relay,
            "--relay-ca",
            &b.cert(),
            "--allow-any-sender",
        ],
    );
    let mut c = Raw::connect_tls(a.port("submissions")).await;
    c.reply().await;
    c.cmd("EHLO client.test").await;
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain("alice@a.test", "wonderland")))
            .await
            .0,
        235
    );
    assert_eq!(
        c.cmd("MAIL FROM:<jörg@a.test> BODY=8BITMIME SMTPUTF8").await.0,
        250
    );
    assert_eq!(c.cmd("RCPT TO:<bob@b.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    let body = "Subject: Grüße\r\n\r\nZwölf Boxkämpfer\r\nline 2\r\nline 3\r\n";
    c.send(body.as_bytes()).await;
    assert_eq!(c.cmd(".").await.0, 250);
    c.cmd("QUIT").await;
    wait_for("the relayed 8-bit message", || {
        b.messages("bob@b.test").len() == 1
    })
    .await;
    let stored = std::fs::read(&b.messages("bob@b.test")[0]).unwrap();
    let text = String::from_utf8(stored.clone()).unwrap();
    assert!(text.starts_with("Return-Path: <jörg@a.test>\r\n"), "{text}");
    assert!(text.ends_with(body), "{text}");

    // POP3S with SASL PLAIN (initial response), TOP cuts after the header and one line.
    let mut p = Raw::connect_tls(b.port("pop3s")).await;
    assert!(p.line().await.starts_with("+OK"));
    let r = p
        .cmd_pop(&format!("AUTH PLAIN {}", plain("bob@b.test", "builder")))
        .await;
    assert!(r.starts_with("+OK"), "{r}");
    assert!(p.cmd_pop("TOP 1 1").await.starts_with("+OK"));
    let top = String::from_utf8(p.multiline().await).unwrap();
    assert!(top.ends_with("\r\n\r\nZwölf Boxkämpfer\r\n"), "{top}");
    assert!(
        p.cmd_pop("STAT")
            .await
            .starts_with(&format!("+OK 1 {}", stored.len()))
    );
    assert!(p.cmd_pop("QUIT").await.starts_with("+OK"));
    // TOP does not count as reading: the message stays unseen in new/.
    assert!(b.messages("bob@b.test")[0].parent().unwrap().ends_with("new"));
}

/// Where a fake next hop holds back a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stall {
    Never,
    Rcpt,
    FinalDot,
}

/// A minimal SMTP server without DSN, STARTTLS or PIPELINING: it records
/// every message it takes and can hold back its reply to RCPT or to the
/// final dot until released.
struct FakeHop {
    port: u16,
    mode: std::sync::Arc<std::sync::Mutex<Stall>>,
    messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Fires when a held-back point is reached.
    held: std::sync::Arc<tokio::sync::Notify>,
    /// Lets a held-back reply go.
    release: std::sync::Arc<tokio::sync::Notify>,
}

impl FakeHop {
    async fn start() -> FakeHop {
        use std::sync::{Arc, Mutex};
        use tokio::io::AsyncBufReadExt;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hop = FakeHop {
            port: l.local_addr().unwrap().port(),
            mode: Arc::new(Mutex::new(Stall::Never)),
            messages: Arc::default(),
            held: Arc::default(),
            release: Arc::default(),
        };
        let (mode, messages, held, release) = (
            hop.mode.clone(),
            hop.messages.clone(),
            hop.held.clone(),
            hop.release.clone(),
        );
        tokio::spawn(async move {
            while let Ok((tcp, _)) = l.accept().await {
                let stall = *mode.lock().unwrap();
                let (messages, held, release) = (messages.clone(), held.clone(), release.clone());
                tokio::spawn(async move {
                    let (r, mut w) = tcp.into_split();
                    let mut r = tokio::io::BufReader::new(r);
                    let _ = w.write_all(b"220 fake ESMTP\r\n").await;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let cmd = line.trim_end().to_ascii_uppercase();
                        let answer: &[u8] = if cmd.starts_with("EHLO") {
                            b"250-fake\r\n250 8BITMIME\r\n"
                        } else if cmd.starts_with("RCPT") && stall == Stall::Rcpt {
                            held.notify_one();
                            release.notified().await;
                            return;
                        } else if cmd == "DATA" {
                            let _ = w.write_all(b"354 go on\r\n").await;
                            let mut body = String::new();
                            loop {
                                line.clear();
                                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                body.push_str(&line);
                            }
                            messages.lock().unwrap().push(body);
                            if stall == Stall::FinalDot {
                                held.notify_one();
                                release.notified().await;
                            }
                            b"250 2.0.0 taken\r\n"
                        } else if cmd == "QUIT" {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 2.0.0 ok\r\n"
                        };
                        let _ = w.write_all(answer).await;
                    }
                });
            }
        });
        hop
    }

    fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }
}

#[tokio::test]
async fn dsn_parameters_reports_chunking_and_submission_hygiene() {
    let b_dir = temp_dir("dsn-b");
    // B offers DSN: A passes the parameters on and B answers for success.
    let b = Maild::start(
        &b_dir,
        0,
        &["--user", "bob@b.test:builder", "--dns-server", "127.0.0.1:9"],
    );
    let relay = format!("127.0.0.1:{}", b.port("smtp"));
    let dir = temp_dir("dsn-a");
    let a = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &relay,
            "--relay-ca",
            &b.cert(),
        ],
    );
    let mut c = logged_in(a.port("submissions"), "alice@a.test", "wonderland").await;
    // RFC 6409 6.1: only alice's own address (or <>) as the sender.
    let (code, text) = c.cmd("MAIL FROM:<bob@b.test>").await;
    assert_eq!(code, 553, "{text}");
    assert!(text.starts_with("5.7.1"), "{text}");
    assert_eq!(
        c.cmd("MAIL FROM:<alice@a.test> RET=FULL ENVID=QQ+2B314").await.0,
        250
    );
    assert_eq!(
        c.cmd("RCPT TO:<nobody@b.test> NOTIFY=FAILURE ORCPT=rfc822;Nobody@B.test")
            .await
            .0,
        250
    );
    assert_eq!(c.cmd("RCPT TO:<bob@b.test> NOTIFY=SUCCESS,FAILURE").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@a.test> NOTIFY=SUCCESS").await.0, 250);
    // BDAT (RFC 3030) in two chunks; no Date or Message-ID in the header.
    let (one, two) = ("Subject: dsn\r\nFrom: alice@a.test\r\n\r\n", "the full body\r\n");
    c.send(format!("BDAT {}\r\n{one}", one.len()).as_bytes()).await;
    assert_eq!(c.reply().await.0, 250);
    c.send(format!("BDAT {} LAST\r\n{two}", two.len()).as_bytes())
        .await;
    assert_eq!(c.reply().await.0, 250);
    // NOTIFY=NEVER: a refused recipient is not reported.
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<nobody2@b.test> NOTIFY=NEVER").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(
        c.cmd("Subject: never\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <given@a.test>\r\n\r\nx\r\n.")
            .await
            .0,
        250
    );
    c.cmd("QUIT").await;

    wait_for("delivery to bob at B", || b.messages("bob@b.test").len() == 1).await;
    wait_for("A's queue emptied", || a.queued() == 0).await;
    let texts: Vec<String> = a
        .messages("alice@a.test")
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(
        texts.len(),
        3,
        "the copy, the success and the failure reports: {texts:#?}"
    );
    // The reports quote the header too: the copy is the one that is no report.
    let copy = texts
        .iter()
        .find(|t| t.contains("Subject: dsn") && !t.contains("report-type=delivery-status"))
        .unwrap();
    assert!(copy.ends_with(&format!("{one}{two}")), "{copy}");
    let added = copy.split("Subject: dsn").next().unwrap();
    assert!(
        added.contains("\r\nDate: ")
            && added.contains("\r\nMessage-ID: <")
            && added.contains("@mx.test>\r\n"),
        "Date and Message-ID added before the header: {copy}"
    );
    let at_b = std::fs::read_to_string(&b.messages("bob@b.test")[0]).unwrap();
    assert!(
        at_b.ends_with(copy.split_once("Received: ").unwrap().1),
        "B got A's bytes: {at_b}"
    );

    let success = texts
        .iter()
        .find(|t| t.contains("Action: delivered"))
        .expect("a success report for alice");
    assert!(
        success.contains("Final-Recipient: rfc822; alice@a.test\r\nAction: delivered\r\nStatus: 2.0.0"),
        "{success}"
    );
    assert!(success.contains("Original-Envelope-Id: QQ+314"), "{success}");
    assert!(
        !success.contains("the full body"),
        "success reports carry the header only"
    );
    assert!(
        !success.contains("bob@b.test"),
        "B, which offers DSN, reports for bob"
    );

    let failure = texts
        .iter()
        .find(|t| t.contains("Action: failed"))
        .expect("a failure report");
    assert!(failure.contains("Original-Envelope-Id: QQ+314\r\n"), "{failure}");
    assert!(
        failure.contains("Original-Recipient: rfc822; Nobody@B.test\r\nFinal-Recipient: rfc822; nobody@b.test\r\nAction: failed\r\nStatus: 5.1.1"),
        "{failure}"
    );
    assert!(
        failure.contains("Content-Type: message/rfc822") && failure.contains("the full body"),
        "RET=FULL returns the whole message: {failure}"
    );
    assert!(!failure.contains("nobody2"), "NOTIFY=NEVER: {failure}");

    // B got NOTIFY=SUCCESS for bob and queued its own "delivered" report for
    // alice (it cannot reach a.test here, so it stays in B's queue).
    wait_for("B's success report", || b.queued() == 1).await;
    let queued: Vec<String> = std::fs::read_dir(b_dir.join("queue"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|d| d.file_name().to_string_lossy().ends_with(".msg"))
        .map(|d| std::fs::read_to_string(d.path()).unwrap())
        .collect();
    assert!(
        queued[0].contains("Final-Recipient: rfc822; bob@b.test\r\nAction: delivered")
            && queued[0].contains("Original-Envelope-Id: QQ+314"),
        "{queued:?}"
    );
}

#[tokio::test]
async fn relayed_report_for_a_hop_without_dsn_and_verified_relay_tls() {
    let hop = FakeHop::start().await;
    let dir = temp_dir("relayed");
    let relay = format!("127.0.0.1:{}", hop.port);
    let a = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &relay,
            "--relay-insecure",
        ],
    );
    let mut c = logged_in(a.port("submissions"), "alice@a.test", "wonderland").await;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> ENVID=E1").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<far@c.test> NOTIFY=SUCCESS").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: far\r\n\r\naway\r\n.").await.0, 250);
    c.cmd("QUIT").await;
    wait_for("the relayed report", || a.messages("alice@a.test").len() == 1).await;
    assert_eq!(hop.count(), 1);
    assert!(
        !hop.messages.lock().unwrap()[0].contains("NOTIFY"),
        "no DSN parameters to a hop without DSN"
    );
    let report = std::fs::read_to_string(&a.messages("alice@a.test")[0]).unwrap();
    assert!(
        report.contains("Final-Recipient: rfc822; far@c.test\r\nAction: relayed\r\nStatus: 2.0.0"),
        "{report}"
    );

    // Without --relay-insecure the smart host must offer STARTTLS with a
    // certificate that verifies; this one offers none, so nothing goes.
    let dir2 = temp_dir("relayed-strict");
    let strict = Maild::start(
        &dir2,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &relay,
            "--retry-first",
            "1h",
        ],
    );
    let (codes, code) = submit(
        strict.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["far@c.test"],
        "Subject: strict\r\n\r\nx\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("a failed attempt", || {
        std::fs::read_dir(dir2.join("queue"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|d| d.file_name().to_string_lossy().ends_with(".env"))
            .any(|d| std::fs::read_to_string(d.path()).unwrap().contains("attempts 1"))
    })
    .await;
    assert_eq!(hop.count(), 1, "nothing sent without TLS");
    assert_eq!(strict.queued(), 1, "kept for a retry");
}

#[tokio::test]
async fn relay_with_auth_to_a_verified_smart_host() {
    // B's submission port: STARTTLS, AUTH required; B lets its relay
    // client use any sender.
    let b_dir = temp_dir("auth-b");
    let b = Maild::start(&b_dir, 0, &["--user", "bob@b.test:builder", "--allow-any-sender"]);
    let relay = format!("127.0.0.1:{}", b.port("submission"));
    let dir = temp_dir("auth-a");
    let a = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &relay,
            "--relay-ca",
            &b.cert(),
            "--relay-auth",
            "bob@b.test:builder",
        ],
    );
    let (codes, code) = submit(
        a.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@b.test"],
        "Subject: via auth\r\n\r\nauthenticated relay\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("relay through B's submission port", || {
        b.messages("bob@b.test").len() == 1
    })
    .await;
    let got = std::fs::read_to_string(&b.messages("bob@b.test")[0]).unwrap();
    assert!(
        got.starts_with("Return-Path: <alice@a.test>\r\nReceived: from mx.test ([127.0.0.1])\r\n\tby mx.test (maild) with ESMTPSA"),
        "A logged in to B over TLS: {got}"
    );
}

#[tokio::test]
async fn shutdown_during_a_relay_attempt_neither_loses_nor_repeats() {
    let hop = FakeHop::start().await;
    let dir = temp_dir("grace");
    // 1. SIGTERM while the hop holds its reply to the final dot: maild
    //    waits for it (within the grace period) and records the delivery.
    *hop.mode.lock().unwrap() = Stall::FinalDot;
    let mut a = relay_in(&dir, hop.port, &[]);
    let send = |n: u32| {
        submit(
            a.port("submission"),
            "alice@a.test",
            "wonderland",
            "alice@a.test",
            &["far@c.test"],
            Box::leak(format!("Subject: grace {n}\r\n\r\nx\r\n").into_boxed_str()),
        )
    };
    assert_eq!(send(1).await, (vec![250], 250));
    tokio::time::timeout(WAIT, hop.held.notified()).await.unwrap();
    a.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    hop.release.notify_one();
    assert!(a.exited_within(WAIT).await, "clean exit");
    assert_eq!(a.queued(), 0, "the answered message left the queue");
    assert_eq!(hop.count(), 1);

    // 2. SIGTERM while the hop holds its reply to RCPT: the attempt stops at
    //    once (no body was sent), the message stays queued ...
    *hop.mode.lock().unwrap() = Stall::Rcpt;
    let mut a = relay_in(&dir, hop.port, &[]);
    let send = |n: u32| {
        submit(
            a.port("submission"),
            "alice@a.test",
            "wonderland",
            "alice@a.test",
            &["far@c.test"],
            Box::leak(format!("Subject: grace {n}\r\n\r\nx\r\n").into_boxed_str()),
        )
    };
    assert_eq!(send(2).await, (vec![250], 250));
    tokio::time::timeout(WAIT, hop.held.notified()).await.unwrap();
    let stopped = Instant::now();
    a.terminate();
    assert!(a.exited_within(WAIT).await, "clean exit");
    assert!(
        stopped.elapsed() < Duration::from_secs(5),
        "no waiting for the grace period: {:?}",
        stopped.elapsed()
    );
    assert_eq!(a.queued(), 1, "still queued");
    let env = std::fs::read_dir(dir.join("queue"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|d| d.file_name().to_string_lossy().ends_with(".env"))
        .map(|d| std::fs::read_to_string(d.path()).unwrap())
        .unwrap();
    assert!(
        env.contains("attempts 0"),
        "an interrupted attempt does not count: {env}"
    );
    // ... and goes exactly once after a restart.
    *hop.mode.lock().unwrap() = Stall::Never;
    let a = relay_in(&dir, hop.port, &[]);
    wait_for("delivery after the restart", || hop.count() == 2).await;
    wait_for("queue emptied", || a.queued() == 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(hop.count(), 2, "each message went once");
}

#[tokio::test]
async fn delay_report_once_while_the_next_hop_is_down() {
    let port = free_port();
    let dir = temp_dir("delay");
    let a = relay_in(&dir, port, &["--delay-warning", "1s"]);
    let mut c = logged_in(a.port("submissions"), "alice@a.test", "wonderland").await;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> ENVID=late-1").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<far@c.test> NOTIFY=DELAY,FAILURE").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<quiet@c.test> NOTIFY=FAILURE").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: later\r\n\r\nslow\r\n.").await.0, 250);
    c.cmd("QUIT").await;
    wait_for("the delay report", || a.messages("alice@a.test").len() == 1).await;
    let report = std::fs::read_to_string(&a.messages("alice@a.test")[0]).unwrap();
    assert!(
        report.contains("Final-Recipient: rfc822; far@c.test\r\nAction: delayed\r\nStatus: 4."),
        "{report}"
    );
    assert!(report.contains("Will-Retry-Until: ") && report.contains("Original-Envelope-Id: late-1"));
    assert!(!report.contains("quiet@c.test"), "NOTIFY without DELAY: {report}");
    // One delay report per message, however many more attempts fail.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(a.messages("alice@a.test").len(), 1);
    assert_eq!(a.queued(), 1);
}
