//! Review 25: an adversarial pass over the sessions and the codec against
//! RFC 5321, 2920, 3030, 4954 and their kin, in the corners earlier reviews
//! covered least. Each test quotes the RFC rule it checks and failed on the
//! code as it was before its fix.

use smtp_proto::{
    ClientConfig, ClientSession, EnhancedCode, Envelope, Recipient, Reply, ServerConfig, ServerEvent,
    ServerSession, UsageError,
};
use std::time::Instant;

mod common;
use common::{client_events, out_of, serve, server_events};

fn env(n: usize) -> Envelope {
    Envelope {
        from: "a@example.test".into(),
        recipients: (0..n)
            .map(|i| Recipient::new(&format!("r{i}@example.test")))
            .collect(),
        ..Envelope::default()
    }
}

/// A client past the greeting and EHLO.
fn ready(cfg: ClientConfig, ehlo: &[u8], t0: Instant) -> ClientSession {
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx.example.test\r\n");
    c.handle_input(ehlo);
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    assert_eq!(out_of(&mut c), "EHLO localhost\r\n");
    c
}

const PIPELINING: &[u8] = b"250-mx.example.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n";

/// RFC 2920 3.1: "Client SMTP implementations that employ pipelining MUST
/// check ALL statuses associated with each command in a group ... the
/// client cannot assume that the DATA command will be rejected just because
/// none of the RCPT TO commands worked. If the DATA command was properly
/// rejected the client SMTP can just issue RSET, but if the DATA command was
/// accepted the client SMTP should send a single dot." The same holds when
/// MAIL was refused: there is no transaction (RFC 5321 3.3), so a server
/// that answers the pipelined RCPT with 250 and DATA with 354 all the same
/// gets a lone dot, not the message, and the transaction is reported failed
/// with the reply to MAIL.
#[test]
fn client_sends_only_a_dot_after_354_when_mail_was_refused() {
    let t0 = Instant::now();
    let mut c = ready(ClientConfig::default(), PIPELINING, t0);
    c.send_mail(env(1), t0).unwrap();
    assert_eq!(
        out_of(&mut c),
        "MAIL FROM:<a@example.test>\r\nRCPT TO:<r0@example.test>\r\nDATA\r\n"
    );
    c.handle_input(b"550 5.7.1 Sender refused\r\n250 2.1.5 Ok\r\n354 Go ahead\r\n");
    let ev = client_events(&mut c);
    assert!(!ev.iter().any(|e| e == "SendBody"), "{ev:?}");
    assert_eq!(out_of(&mut c), ".\r\n");
    c.handle_input(b"250 2.0.0 Ok\r\n");
    let ev = client_events(&mut c);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert!(ev[0].starts_with("TransactionFailed(Reply { code: 550"), "{ev:?}");
    // No transaction was opened: nothing to reset, and the next one goes out.
    assert_eq!(out_of(&mut c), "");
    c.send_mail(env(1), t0).unwrap();
    assert!(out_of(&mut c).starts_with("MAIL FROM:"));
}

/// RFC 4954 4: the AUTH line limit (12288 octets, "a sufficient line length
/// limit for handling of deployed authentication mechanisms") holds for
/// responses as well as for the AUTH command, and "If, during an
/// authentication exchange, the server receives a line that is longer than
/// the server's authentication buffer, the server fails the AUTH command
/// with the 500 reply". The client checks its AUTH command against
/// [`smtp_proto::Limits::auth_line`]; a response to a challenge that would be
/// longer is not sent either: the client cancels with "*" (RFC 4954 4) and
/// goes on unauthenticated.
#[test]
fn client_cancels_instead_of_sending_an_auth_response_over_the_line_limit() {
    let t0 = Instant::now();
    let cfg = ClientConfig {
        credentials: Some(sasl::Credentials::with_password("user", "p".repeat(9300))),
        allow_plaintext_auth: true,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx.example.test\r\n250-mx.example.test\r\n250 AUTH LOGIN\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(out_of(&mut c), "EHLO localhost\r\nAUTH LOGIN\r\n");
    c.handle_input(b"334 VXNlcm5hbWU6\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_eq!(out_of(&mut c), "dXNlcg==\r\n");
    // base64 of 9300 octets is 12400 characters: over 12288 with the CRLF.
    c.handle_input(b"334 UGFzc3dvcmQ6\r\n");
    assert!(client_events(&mut c).is_empty());
    let out = out_of(&mut c);
    assert!(out == "*\r\n", "{} octets sent", out.len());
    c.handle_input(b"501 5.0.0 Authentication cancelled\r\n");
    let ev = client_events(&mut c);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(ev[0].starts_with("AuthFailed(Some(Reply { code: 501"), "{ev:?}");
    assert_eq!(ev[1], "Ready");
    // A response that fits (12286 octets of base64 and the CRLF) still goes out.
    let cfg = ClientConfig {
        credentials: Some(sasl::Credentials::with_password("user", "p".repeat(9213))),
        allow_plaintext_auth: true,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx.example.test\r\n250-mx.example.test\r\n250 AUTH LOGIN\r\n");
    client_events(&mut c);
    out_of(&mut c);
    c.handle_input(b"334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n");
    client_events(&mut c);
    let out = out_of(&mut c);
    assert_eq!(out.len(), "dXNlcg==\r\n".len() + 12284 + 2, "{}", &out[..20]);
}

/// The replies of `out` after the greeting and the EHLO/LHLO reply.
fn after_hello(out: &str) -> Vec<&str> {
    out.lines()
        .skip(1)
        .skip_while(|l| l.starts_with("250-"))
        .skip(1)
        .collect()
}

/// RFC 5321 4.1.4: "a mail transaction consists of a transaction beginning
/// command, one or more RCPT commands, and a DATA command, in that order",
/// and "If the commands in a transaction are out of order to the degree
/// that they cannot be processed by the server, a 503 failure reply MUST be
/// returned"; RFC 3030 2: "After all MAIL and RCPT responses are collected
/// and processed, the message is sent using a series of BDAT commands." A
/// RCPT between BDAT chunks comes after the body started (the application
/// has had `DataStart` and chunks): it is refused with 503, and the message
/// goes to the recipients accepted before it. In LMTP this keeps the count
/// of replies after BDAT LAST at the recipients known when the body began.
#[test]
fn rcpt_between_bdat_chunks_is_503() {
    for lmtp in [false, true] {
        let cfg = ServerConfig {
            lmtp,
            ..ServerConfig::default()
        };
        let hello = if lmtp { "LHLO" } else { "EHLO" };
        let hello = format!("{hello} c.example.test\r\n");
        let txn = b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n\
            BDAT 3\r\nabcRCPT TO:<c@example.test>\r\nBDAT 2 LAST\r\n\r\nQUIT\r\n";
        let (out, log) = serve(cfg, &[hello.as_bytes(), txn]);
        assert_eq!(
            after_hello(&out),
            [
                "250 2.1.0 Sender OK",
                "250 2.1.5 Recipient OK",
                "250 2.0.0 3 octets received",
                "503 5.5.1 RCPT not allowed after BDAT",
                "250 2.0.0 Message accepted",
                "221 2.0.0 localhost closing connection",
            ],
            "lmtp {lmtp}"
        );
        assert_eq!(log.iter().filter(|l| l.starts_with("Rcpt")).count(), 1, "{log:?}");
    }
}

/// RFC 2033 4.2: after the end of data the LMTP server "returns one reply
/// for each previously successful RCPT command", and RFC 5321 4.3.2 lists
/// what those replies are: 250, or 450, 451, 452, 550, 552, 554 (2yz, 4yz or
/// 5yz). A 3yz reply there would read to the client as "send more" (and a
/// `3.0.0` enhanced code does not exist, RFC 3463 3): [`lmtp_replies`] refuses
/// one as [`accept_with`] and [`reject`] refuse a reply of the wrong class,
/// and the message stays pending.
///
/// [`lmtp_replies`]: ServerSession::lmtp_replies
/// [`accept_with`]: ServerSession::accept_with
/// [`reject`]: ServerSession::reject
#[test]
fn lmtp_replies_must_be_2yz_4yz_or_5yz() {
    let now = Instant::now();
    let cfg = ServerConfig {
        lmtp: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, now);
    s.handle_input(b"LHLO c.example.test\r\n");
    while s.poll_event().unwrap().is_some() {}
    s.handle_input(
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n",
    );
    loop {
        match s.poll_event().unwrap() {
            Some(ServerEvent::Mail(_) | ServerEvent::Rcpt(_)) => s.accept().unwrap(),
            Some(ServerEvent::DataStart) => break,
            Some(_) => {}
            None => panic!("no DataStart"),
        }
    }
    s.handle_input(b"hi\r\n.\r\n");
    while !matches!(s.poll_event().unwrap(), Some(ServerEvent::DataEnd)) {}
    out_of(&mut s);
    let ok = Reply::new(250, Some(EnhancedCode(2, 0, 0)), "Delivered");
    for code in [354, 334, 300] {
        let bad = Reply::new(code, None, "Go on");
        assert!(
            matches!(
                s.lmtp_replies(&[ok.clone(), bad.clone()]),
                Err(UsageError::BadArgument(_))
            ),
            "{code}"
        );
        // Still pending: nothing to do, nothing sent.
        assert!(s.poll_event().unwrap().is_none());
        assert_eq!(out_of(&mut s), "", "{code}");
    }
    let no = Reply::new(452, Some(EnhancedCode(4, 2, 2)), "Mailbox full");
    s.lmtp_replies(&[ok, no]).unwrap();
    assert!(s.poll_event().unwrap().is_none());
    assert_eq!(
        out_of(&mut s),
        "250 2.0.0 Delivered\r\n452 4.2.2 Mailbox full\r\n"
    );
}

/// RFC 5321 4.5.3.1: "To the maximum extent possible, implementation
/// techniques that impose no limits on the length of these objects should
/// be used", and [`smtp_proto::Limits`] says every limit is configurable. A
/// server configured with no command line limit (`usize::MAX`) takes MAIL
/// and RCPT with parameters: the SIZE/DSN increments saturate instead of
/// overflowing (a panic in a debug build, a wrapped, tiny limit otherwise).
#[test]
fn unlimited_command_lines_take_mail_and_rcpt() {
    let mut cfg = ServerConfig::default();
    cfg.limits.command_line = usize::MAX;
    let (out, _) = serve(
        cfg,
        &[
            b"EHLO c.example.test\r\n",
            b"MAIL FROM:<a@example.test> SIZE=100\r\n",
            b"RCPT TO:<b@example.test> NOTIFY=NEVER\r\n",
        ],
    );
    assert_eq!(
        after_hello(&out),
        ["250 2.1.0 Sender OK", "250 2.1.5 Recipient OK"]
    );
}

/// A domain of `n` octets (labels of at most 63, RFC 1035 2.3.4).
fn long_domain(c: char, n: usize) -> String {
    let mut d = String::new();
    while d.len() < n {
        if !d.is_empty() {
            d.push('.');
        }
        let take = (n - d.len()).min(63);
        d.extend(std::iter::repeat_n(c, take));
    }
    d
}

/// RFC 5321 4.1.1.1: `ehlo-ok-rsp = ( "250" SP Domain [ SP ehlo-greet ]
/// CRLF ) / ...`: the greeting text after the server's domain is optional,
/// while reply lines are limited to 512 octets (4.5.3.1.5) and domains to
/// 255 (4.5.3.1.2). A server whose name is 255 octets long, greeting a
/// client whose EHLO (or HELO) domain is as long, leaves the text out
/// instead of answering `451 Local error` to an EHLO it has taken all the
/// same (the session went on as greeted, the client took it as refused).
#[test]
fn ehlo_reply_fits_in_a_line_with_the_longest_names() {
    let server = long_domain('s', 255);
    let client = long_domain('c', 255);
    for hello in ["EHLO", "HELO"] {
        let cfg = ServerConfig {
            hostname: server.clone(),
            ..ServerConfig::default()
        };
        let (out, log) = serve(
            cfg,
            &[
                format!("{hello} {client}\r\n").as_bytes(),
                b"MAIL FROM:<a@example.test>\r\n",
            ],
        );
        let lines: Vec<&str> = out.lines().collect();
        let sep = if hello == "EHLO" { '-' } else { ' ' };
        assert_eq!(lines[1], format!("250{sep}{server}"), "{hello}");
        assert!(lines.iter().all(|l| l.len() + 2 <= 512), "{hello}");
        assert_eq!(lines.last(), Some(&"250 2.1.0 Sender OK"), "{hello}");
        assert!(log[0].starts_with("Helo {"), "{log:?}");
    }
    // With room for it, the text is there as before.
    let (out, _) = serve(ServerConfig::default(), &[b"EHLO c.example.test\r\n"]);
    assert!(out.contains("250-localhost greets c.example.test\r\n"), "{out}");
}

/// RFC 5321 4.2: `Greeting = ( "220 " (Domain / address-literal) [ SP
/// textstring ] CRLF ) / ...`, and 3.1: the server greets with 220, or
/// refuses the session with 554. The text after the name is optional: a
/// configured greeting text (or refusal text) that cannot be sent, with CR
/// or LF in it or too long for a 512-octet line, is left out, and the
/// client still gets its 220 (or 554) with the server's name, not `451
/// Local error` in place of a greeting.
#[test]
fn a_greeting_text_that_cannot_be_sent_is_left_out() {
    for text in ["ESMTP\r\n250 injected".to_string(), "x".repeat(600)] {
        let cfg = ServerConfig {
            hostname: "mx.example.test".into(),
            greeting: text.clone(),
            ..ServerConfig::default()
        };
        let (out, _) = serve(cfg, &[]);
        assert_eq!(out, "220 mx.example.test\r\n", "{}", &text[..10]);
        let cfg = ServerConfig {
            hostname: "mx.example.test".into(),
            refuse_service: Some(text.clone()),
            ..ServerConfig::default()
        };
        let (out, _) = serve(cfg, &[]);
        assert_eq!(out, "554 mx.example.test\r\n", "{}", &text[..10]);
    }
}

/// RFC 4954 4: a line over the server's authentication buffer during an
/// AUTH exchange fails the AUTH command with 500, and "Servers using the
/// enhanced status codes extension SHOULD return an enhanced status code of
/// 5.5.6 in this case". That code is AUTH's own ("Authentication Exchange
/// line is too long"); any other command line over the limit is a command
/// that "could not be interpreted", X.5.2 (RFC 3463 3.6), with the plain
/// 500 of RFC 5321 4.5.3.1.4 ("500 Line too long").
#[test]
fn line_too_long_is_5_5_2_and_only_auth_lines_get_5_5_6() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        auth_mechanisms: vec!["PLAIN".into()],
        implicit_tls: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    s.handle_input(b"EHLO c.example\r\n");
    server_events(&mut s);
    out_of(&mut s);
    s.handle_input(format!("NOOP {}\r\n", "x".repeat(600)).as_bytes());
    assert!(server_events(&mut s).is_empty());
    assert_eq!(out_of(&mut s), "500 5.5.2 Line too long\r\n");
    // Over the AUTH line limit (12288) too: still not an AUTH exchange.
    s.handle_input(format!("NOOP {}\r\n", "x".repeat(13000)).as_bytes());
    assert!(server_events(&mut s).is_empty());
    assert_eq!(out_of(&mut s), "500 5.5.2 Line too long\r\n");
    s.handle_input(b"AUTH PLAIN\r\n");
    server_events(&mut s);
    s.auth_challenge(b"").unwrap();
    assert_eq!(out_of(&mut s), "334 \r\n");
    s.handle_input(format!("{}\r\n", "QUFB".repeat(3100)).as_bytes());
    assert_eq!(server_events(&mut s), vec!["AuthCancelled"]);
    assert_eq!(
        out_of(&mut s),
        "500 5.5.6 Authentication Exchange line is too long\r\n"
    );
    // An AUTH command whose initial response is over the limit.
    s.handle_input(format!("AUTH PLAIN {}\r\n", "QUFB".repeat(3100)).as_bytes());
    assert!(server_events(&mut s).is_empty());
    assert_eq!(
        out_of(&mut s),
        "500 5.5.6 Authentication Exchange line is too long\r\n"
    );
    s.handle_input(b"NOOP\r\n");
    assert!(server_events(&mut s).is_empty());
    assert_eq!(out_of(&mut s), "250 2.0.0 Ok\r\n");
}

/// RFC 3030 2: a refused BDAT's chunk is read and dropped before the reply,
/// and its octets are never commands. A BDAT line over the command line limit
/// (500, RFC 5321 4.5.3.1.4) still announces its chunk when its size can be
/// read: the chunk is consumed like that of a BDAT with a bad end marker, the
/// 500 follows it, and the transaction has failed (503 until RSET). Over
/// the framer's limit too (more than 12288 octets), where only the line's
/// first octets are kept.
#[test]
fn an_over_long_bdat_line_still_has_its_chunk_read_and_dropped() {
    for pad in [600, 13_000] {
        let line = format!("BDAT 12 LAST{}\r\n", " ".repeat(pad));
        let mut turn = b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n".to_vec();
        turn.extend_from_slice(line.as_bytes());
        turn.extend_from_slice(b"RSET\r\nNOOP\r\n");
        let turns: [&[u8]; 5] = [
            b"EHLO c.example.test\r\n",
            &turn,
            b"BDAT 0 LAST\r\n",
            b"RSET\r\n",
            b"NOOP\r\n",
        ];
        let (out, log) = serve(ServerConfig::default(), &turns);
        assert_eq!(
            after_hello(&out),
            [
                "250 2.1.0 Sender OK",
                "250 2.1.5 Recipient OK",
                "500 5.5.2 Line too long",
                "503 5.5.1 Transaction failed, send RSET",
                "250 2.0.0 Ok",
                "250 2.0.0 Ok",
            ],
            "pad {pad}"
        );
        assert!(!log.iter().any(|l| l.starts_with("DataStart")), "{log:?}");
    }
}

/// RFC 3461 4: NOTIFY and ORCPT are RCPT parameters, RET and ENVID MAIL
/// parameters (so are SIZE, BODY, SMTPUTF8, AUTH, REQUIRETLS and
/// MT-PRIORITY, in their RFCs). On the other command they are parameters the
/// command does not have: RFC 5321 4.1.1.11, "If the server SMTP does not
/// recognize or cannot implement one or more of the parameters associated
/// with a particular MAIL FROM or RCPT TO command, it will return code 555".
/// The parser refuses them rather than passing them to the application as
/// unknown ones.
#[test]
fn a_known_parameter_on_the_wrong_command_is_555() {
    let limits = smtp_proto::Limits::default();
    for line in [
        &b"MAIL FROM:<a@example.test> NOTIFY=NEVER"[..],
        b"MAIL FROM:<a@example.test> ORCPT=rfc822;a@example.test",
        b"RCPT TO:<b@example.test> RET=FULL",
        b"RCPT TO:<b@example.test> ENVID=x",
        b"RCPT TO:<b@example.test> SIZE=10",
        b"RCPT TO:<b@example.test> BODY=8BITMIME",
        b"RCPT TO:<b@example.test> SMTPUTF8",
    ] {
        let e = smtp_proto::Command::parse_with(line, &limits).unwrap_err();
        assert_eq!(e.reply().code(), 555, "{}", String::from_utf8_lossy(line));
    }
    let cfg = ServerConfig {
        dsn: true,
        ..ServerConfig::default()
    };
    let turns: [&[u8]; 5] = [
        b"EHLO c.example.test\r\n",
        b"MAIL FROM:<a@example.test> NOTIFY=NEVER\r\n",
        b"MAIL FROM:<a@example.test> RET=HDRS\r\n",
        b"RCPT TO:<b@example.test> RET=FULL\r\n",
        b"RCPT TO:<b@example.test> NOTIFY=NEVER\r\n",
    ];
    let (out, log) = serve(cfg, &turns);
    assert_eq!(
        after_hello(&out),
        [
            "555 5.5.4 Parameter not recognized or bad value",
            "250 2.1.0 Sender OK",
            "555 5.5.4 Parameter not recognized or bad value",
            "250 2.1.5 Recipient OK",
        ]
    );
    assert_eq!(log.iter().filter(|l| l.starts_with("Rcpt")).count(), 1, "{log:?}");
}
