//! Server session rules taken from the RFC texts, one test per rule (review 18).
//! Sessions are driven by `checks::ServerApp`: it accepts senders and
//! messages, refuses recipients whose line holds "reject" (550 5.1.1), and
//! accepts `\0user\0pass` for PLAIN.

use smtp_proto::checks::ServerApp;
use smtp_proto::{ServerConfig, ServerSession};
use std::time::{Duration, Instant};

const MIN: Duration = Duration::from_secs(60);

/// Everything the session has to send, as text.
fn output(s: &mut ServerSession) -> String {
    String::from_utf8_lossy(&proto_core::drain_transmit(s)).into_owned()
}

/// A session that has greeted and answered EHLO (LHLO for LMTP).
fn greeted(cfg: ServerConfig) -> (ServerSession, ServerApp) {
    let now = Instant::now();
    let hello: &[u8] = if cfg.lmtp {
        b"LHLO client.test\r\n"
    } else {
        b"EHLO client.test\r\n"
    };
    let mut s = ServerSession::new(cfg, now);
    let mut app = ServerApp::default();
    assert!(output(&mut s).starts_with("220 "));
    s.handle_input(hello);
    app.drive(&mut s, now).expect("EHLO");
    let out = output(&mut s);
    assert!(out.starts_with("250"), "{out}");
    (s, app)
}

/// Feeds `input` at once, lets the app decide, and returns what the server sent
/// (with a fatal error appended).
fn exchange(s: &mut ServerSession, app: &mut ServerApp, input: &[u8]) -> String {
    s.handle_input(input);
    let r = app.drive(s, Instant::now());
    let mut out = output(s);
    if let Err(e) = r {
        out.push_str(&format!("[fatal {:?}]", e.kind()));
    }
    out
}

/// The reply codes of the last lines of the replies in `out`.
fn codes(out: &str) -> Vec<&str> {
    out.split("\r\n")
        .filter(|l| l.len() >= 4 && l.as_bytes()[3] == b' ')
        .map(|l| &l[..3])
        .collect()
}

fn lmtp() -> ServerConfig {
    ServerConfig {
        lmtp: true,
        ..ServerConfig::default()
    }
}

/// RFC 2033 4.2: "when there have been no successful RCPT commands in the
/// mail transaction, the DATA command MUST fail with a 503 reply code."
/// Plain SMTP keeps 554 (RFC 5321 3.3).
#[test]
fn lmtp_data_after_only_failed_rcpts_is_503() {
    let (mut s, mut app) = greeted(lmtp());
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<reject@example.test>\r\nDATA\r\n",
    );
    assert_eq!(codes(&out), ["250", "550", "503"], "{out}");
    assert!(out.ends_with("503 5.5.1 No valid recipients\r\n"), "{out}");
    // Without any RCPT at all, too.
    let (mut s, mut app) = greeted(lmtp());
    let out = exchange(&mut s, &mut app, b"MAIL FROM:<a@example.test>\r\nDATA\r\n");
    assert_eq!(codes(&out), ["250", "503"], "{out}");
    // The transaction is still open: a good recipient makes DATA work.
    let out = exchange(&mut s, &mut app, b"RCPT TO:<b@example.test>\r\nDATA\r\n");
    assert_eq!(codes(&out), ["250", "354"], "{out}");

    let (mut s, mut app) = greeted(ServerConfig::default());
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<reject@example.test>\r\nDATA\r\n",
    );
    assert_eq!(codes(&out), ["250", "550", "554"], "{out}");
}

/// RFC 2033 4.3: "If there were no previously successful RCPT commands in
/// the mail transaction, then the BDAT LAST command returns zero replies."
/// The chunk is still read (it is not taken for commands), and the
/// transaction is over: a new MAIL is not "nested".
#[test]
fn lmtp_bdat_last_after_only_failed_rcpts_gets_no_reply() {
    let (mut s, mut app) = greeted(lmtp());
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<reject@example.test>\r\nBDAT 6 LAST\r\nRSET\r\n",
    );
    assert_eq!(codes(&out), ["250", "550"], "{out}");
    assert_eq!(s.accepted_recipients(), 0);
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nBDAT 3 LAST\r\nabc",
    );
    assert_eq!(codes(&out), ["250", "250", "250"], "{out}");
    assert_eq!(app.messages, [b"abc".to_vec()]);
    // A BDAT without LAST still returns exactly one reply (RFC 2033 4.3).
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<reject@example.test>\r\nBDAT 2\r\nxyBDAT 0 LAST\r\nNOOP\r\n",
    );
    assert_eq!(codes(&out), ["250", "550", "554", "250"], "{out}");
    // Plain SMTP answers BDAT LAST without recipients once, as before.
    let (mut s, mut app) = greeted(ServerConfig::default());
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<reject@example.test>\r\nBDAT 6 LAST\r\nRSET\r\n",
    );
    assert_eq!(codes(&out), ["250", "550", "554"], "{out}");
}

/// RFC 3030 2: "If a failure occurs after a BDAT command is received, the
/// receiver-SMTP MUST accept and discard the associated message data before
/// sending the appropriate 5XX or 4XX code." The refusal waits for the last
/// octet of the chunk, whatever the reason (no MAIL, no recipient, no CHUNKING).
#[test]
fn refused_bdat_is_answered_after_its_octets() {
    let no_chunking = ServerConfig {
        chunking: false,
        ..ServerConfig::default()
    };
    for (cfg, setup, reply) in [
        (
            ServerConfig::default(),
            &b""[..],
            "503 5.5.1 Need MAIL command\r\n",
        ),
        (
            ServerConfig::default(),
            b"MAIL FROM:<a@example.test>\r\nRCPT TO:<reject@example.test>\r\n",
            "554 5.5.1 No valid recipients\r\n",
        ),
        (no_chunking, b"", "502 5.5.1 Command not implemented\r\n"),
    ] {
        let (mut s, mut app) = greeted(cfg);
        exchange(&mut s, &mut app, setup);
        assert_eq!(exchange(&mut s, &mut app, b"BDAT 10\r\n"), "");
        assert_eq!(exchange(&mut s, &mut app, b"01234"), "");
        assert_eq!(exchange(&mut s, &mut app, b"5678"), "");
        assert_eq!(exchange(&mut s, &mut app, b"9"), reply);
        // The octets were not read as commands; the next command is.
        assert_eq!(exchange(&mut s, &mut app, b"NOOP\r\n"), "250 2.0.0 Ok\r\n");
    }
}

fn with_auth(mechanisms: &[&str]) -> ServerConfig {
    ServerConfig {
        starttls: true,
        auth_mechanisms: mechanisms.iter().map(|m| (*m).to_string()).collect(),
        ..ServerConfig::default()
    }
}

/// RFC 4954 4: "If the requested authentication mechanism is invalid (e.g.,
/// is not supported or requires an encryption layer), the server rejects the
/// AUTH command with a 504 reply." 538 (RFC 4954 6) is kept for a configured
/// mechanism that needs TLS first: TLS would not make an unknown one work.
#[test]
fn auth_with_a_mechanism_the_server_lacks_is_504_before_tls_too() {
    for safe in [false, true] {
        let cfg = ServerConfig {
            allow_safe_auth_before_tls: safe,
            ..with_auth(&["PLAIN", "SCRAM-SHA-256"])
        };
        let (mut s, mut app) = greeted(cfg);
        for unknown in [
            &b"AUTH FOOBAR\r\n"[..],
            b"AUTH LOGIN\r\n",
            b"AUTH cram-md5 AAAA\r\n",
        ] {
            let out = exchange(&mut s, &mut app, unknown);
            assert_eq!(
                out, "504 5.5.4 Unrecognized authentication type\r\n",
                "safe={safe}"
            );
        }
        let out = exchange(&mut s, &mut app, b"AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
        assert_eq!(
            out, "538 5.7.11 Encryption required for requested authentication mechanism\r\n",
            "safe={safe}"
        );
    }
}

/// RFC 4954 4: "If the server cannot [BASE64] decode any client response, it
/// MUST reject the AUTH command with a 501 reply (and an enhanced status code
/// of 5.5.2). ... servers and clients MUST reject (and not ignore) any
/// character not explicitly allowed by the BASE64 alphabet". The order checks
/// (503) and a missing AUTH (502) still come first.
#[test]
fn auth_initial_response_outside_base64_is_501_5_5_2() {
    let plain = ServerConfig {
        allow_plaintext_auth: true,
        ..with_auth(&["PLAIN"])
    };
    let (mut s, mut app) = greeted(plain.clone());
    for bad in [
        &b"AUTH PLAIN AG!zZXIAcGFzcw==\r\n"[..],
        b"AUTH PLAIN AHVzZXIAcGFzcw\r\n",
        b"AUTH PLAIN AHVz ZXIAcGFzcw==\r\n",
        b"AUTH PLAIN =AAA\r\n",
    ] {
        let out = exchange(&mut s, &mut app, bad);
        assert_eq!(
            out,
            "501 5.5.2 Invalid base64 data\r\n",
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // Checks that come before the initial response is read.
    let out = exchange(&mut s, &mut app, b"AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
    assert!(out.starts_with("235 "), "{out}");
    let out = exchange(&mut s, &mut app, b"AUTH PLAIN AG!zZXIAcGFzcw==\r\n");
    assert_eq!(out, "503 5.5.1 Already authenticated\r\n");
    let (mut s, mut app) = greeted(ServerConfig::default());
    let out = exchange(&mut s, &mut app, b"AUTH PLAIN AG!zZXIAcGFzcw==\r\n");
    assert_eq!(out, "502 5.5.1 Command not implemented\r\n");
    let (mut s, mut app) = greeted(plain);
    exchange(&mut s, &mut app, b"MAIL FROM:<a@example.test>\r\n");
    let out = exchange(&mut s, &mut app, b"AUTH PLAIN AG!zZXIAcGFzcw==\r\n");
    assert_eq!(out, "503 5.5.1 AUTH not allowed during a mail transaction\r\n");
}

/// RFC 4954 4: AUTH "MUST be the last command in a pipelined group of
/// commands. The only exception to this rule is when the AUTH command
/// contains an initial response for a SASL mechanism that allows the client
/// to send data first, the SASL mechanism is known to complete in one
/// round-trip, and a security layer is not negotiated by the client. Two
/// examples of such SASL mechanisms are PLAIN [PLAIN] and EXTERNAL [SASL]."
#[test]
fn auth_plain_with_initial_response_may_lead_a_pipelined_group() {
    let cfg = ServerConfig {
        implicit_tls: true,
        ..with_auth(&["PLAIN", "LOGIN", "SCRAM-SHA-256"])
    };
    let (mut s, mut app) = greeted(cfg.clone());
    let out = exchange(
        &mut s,
        &mut app,
        b"AUTH PLAIN AHVzZXIAcGFzcw==\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n",
    );
    assert_eq!(codes(&out), ["235", "250", "250"], "{out}");
    assert!(s.is_authenticated() && !s.is_closed());
    // A failed PLAIN does not lose the commands behind it either.
    let (mut s, mut app) = greeted(cfg.clone());
    let out = exchange(&mut s, &mut app, b"auth plain AHVzZXIAd3Jvbmc=\r\nNOOP\r\n");
    assert_eq!(codes(&out), ["535", "250"], "{out}");

    // AUTH without an initial response, or for a mechanism that takes more
    // than one round trip, still ends the group.
    for auth in [
        &b"AUTH PLAIN\r\n"[..],
        b"AUTH LOGIN dXNlcg==\r\n",
        b"AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM\r\n",
    ] {
        let (mut s, mut app) = greeted(cfg.clone());
        let mut line = auth.to_vec();
        line.extend_from_slice(b"MAIL FROM:<a@example.test>\r\n");
        let out = exchange(&mut s, &mut app, &line);
        assert_eq!(
            out,
            "554 5.5.0 Error: SMTP protocol synchronization\r\n[fatal ProtocolSync]",
            "{}",
            String::from_utf8_lossy(auth)
        );
    }
}

/// RFC 1870: "size-value ::= 1*20DIGIT", and 6.1: "If the indicated size is
/// larger than the server's fixed maximum message size, the server responds
/// with code "552 message size exceeds fixed maximium message size"". Twenty
/// digits above u64::MAX are valid and certainly too large; 21 digits are not
/// a size-value at all.
#[test]
fn size_of_twenty_digits_beyond_u64_is_552() {
    let (mut s, mut app) = greeted(ServerConfig::default());
    for size in ["18446744073709551616", "99999999999999999999"] {
        let line = format!("MAIL FROM:<a@example.test> SIZE={size}\r\n");
        let out = exchange(&mut s, &mut app, line.as_bytes());
        assert_eq!(
            out, "552 5.3.4 Message size exceeds fixed maximum message size\r\n",
            "{size}"
        );
    }
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test> SIZE=999999999999999999999\r\n",
    );
    assert_eq!(out, "555 5.5.4 Parameter not recognized or bad value\r\n");
    let out = exchange(&mut s, &mut app, b"MAIL FROM:<a@example.test> SIZE=1000\r\n");
    assert_eq!(out, "250 2.1.0 Sender OK\r\n");
}

/// RFC 3461 5.1 (a): "if the associated esmtp-value is not valid (i.e.,
/// contains illegal characters), or if there is more than one ENVID or RET
/// parameter in a particular MAIL command, the server MUST issue the
/// reply-code 501"; 4.5 and 5.1 (b): the same (SHOULD) for NOTIFY and ORCPT.
/// Without DSN offered the parameters are unknown: 555, as before.
#[test]
fn bad_or_repeated_dsn_parameters_are_501() {
    let mail = [
        &b"MAIL FROM:<a@example.test> RET=BOGUS\r\n"[..],
        b"MAIL FROM:<a@example.test> RET=FULL RET=HDRS\r\n",
        b"MAIL FROM:<a@example.test> ENVID=a+zz\r\n",
        b"MAIL FROM:<a@example.test> ENVID=a ENVID=b\r\n",
        b"MAIL FROM:<a@example.test> ENVID\r\n",
    ];
    let rcpt = [
        &b"RCPT TO:<b@example.test> NOTIFY=NEVER,SUCCESS\r\n"[..],
        b"RCPT TO:<b@example.test> NOTIFY=SUCCESS NOTIFY=FAILURE\r\n",
        b"RCPT TO:<b@example.test> ORCPT=rfc822;a+zz\r\n",
        b"RCPT TO:<b@example.test> ORCPT=rfc822;a ORCPT=rfc822;b\r\n",
    ];
    for (dsn, reply) in [
        (true, "501 5.5.4 Syntax error in DSN parameter\r\n"),
        (false, "555 5.5.4 DSN not supported\r\n"),
    ] {
        let cfg = ServerConfig {
            dsn,
            ..ServerConfig::default()
        };
        let (mut s, mut app) = greeted(cfg);
        for line in mail {
            let out = exchange(&mut s, &mut app, line);
            assert_eq!(out, reply, "{}", String::from_utf8_lossy(line));
        }
        assert_eq!(
            exchange(&mut s, &mut app, b"MAIL FROM:<a@example.test>\r\n"),
            "250 2.1.0 Sender OK\r\n"
        );
        for line in rcpt {
            let out = exchange(&mut s, &mut app, line);
            assert_eq!(out, reply, "{}", String::from_utf8_lossy(line));
        }
        // An unknown keyword stays the application's to refuse (555).
        let out = exchange(&mut s, &mut app, b"RCPT TO:<b@example.test> X-FOO=1\r\n");
        assert_eq!(out, "250 2.1.5 Recipient OK\r\n");
    }
}

/// RFC 6531 3.5: "When messages are rejected because the RCPT command
/// requires an ASCII address, the reply-code 553 is returned ... When
/// messages are rejected because the MAIL command requires an ASCII address,
/// the reply-code 550 is returned", both with "X.6.7".
#[test]
fn non_ascii_address_without_smtputf8_is_550_for_mail_and_553_for_rcpt() {
    let (mut s, mut app) = greeted(ServerConfig::default());
    let out = exchange(&mut s, &mut app, "MAIL FROM:<jörg@example.test>\r\n".as_bytes());
    assert_eq!(
        out,
        "550 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter\r\n"
    );
    let out = exchange(&mut s, &mut app, "MAIL FROM:<a@bücher.example>\r\n".as_bytes());
    assert!(out.starts_with("550 5.6.7 "), "{out}");
    let out = exchange(&mut s, &mut app, b"MAIL FROM:<a@example.test>\r\n");
    assert_eq!(out, "250 2.1.0 Sender OK\r\n");
    let out = exchange(&mut s, &mut app, "RCPT TO:<jörg@example.test>\r\n".as_bytes());
    assert_eq!(
        out,
        "553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter\r\n"
    );
    // With the parameter both are fine.
    let out = exchange(
        &mut s,
        &mut app,
        "RSET\r\nMAIL FROM:<jörg@example.test> SMTPUTF8\r\nRCPT TO:<jörg@example.test>\r\n".as_bytes(),
    );
    assert_eq!(codes(&out), ["250", "250", "250"], "{out}");
}

/// Drains events, returning their names.
fn events(s: &mut ServerSession) -> Vec<String> {
    let mut v = Vec::new();
    while let Some(ev) = s.poll_event().expect("no fatal error") {
        v.push(
            format!("{ev:?}")
                .split([' ', '('])
                .next()
                .unwrap_or_default()
                .to_string(),
        );
    }
    v
}

/// RFC 5321 4.5.3.2.7: "An SMTP server SHOULD have a timeout of at least 5
/// minutes while it is awaiting the next command from the sender." While the
/// application has not answered MAIL, RCPT, the end of data (the client waits
/// up to 10 minutes for that one, 4.5.3.2.6) or an AUTH step, the server is
/// not awaiting the sender: no idle timeout then, however long it takes. After
/// the decision the timer restarts from the next `handle_timeout` call (the
/// decision methods take no time), so the client has at least a full period
/// after the reply.
#[test]
fn no_idle_timeout_while_the_application_owes_the_reply() {
    let cfg = ServerConfig {
        auth_mechanisms: vec!["PLAIN".into()],
        allow_plaintext_auth: true,
        ..ServerConfig::default()
    };
    let t0 = Instant::now();
    // Each step: the input, the event that leaves a decision pending, the decision.
    type Decide = fn(&mut ServerSession);
    let steps: [(&[u8], &str, Decide); 6] = [
        (b"AUTH PLAIN\r\n", "AuthStart", |s| s.auth_challenge(b"").unwrap()),
        (b"AHVzZXIAcGFzcw==\r\n", "AuthResponse", |s| {
            s.auth_finish(smtp_proto::AuthOutcome::Success).unwrap();
        }),
        (b"MAIL FROM:<a@example.test>\r\n", "Mail", |s| s.accept().unwrap()),
        (b"RCPT TO:<b@example.test>\r\n", "Rcpt", |s| s.accept().unwrap()),
        (b"DATA\r\n", "DataStart", |_| {}),
        (b"Subject: x\r\n\r\nbody\r\n.\r\n", "DataEnd", |s| {
            s.accept().unwrap();
        }),
    ];
    let mut s = ServerSession::new(cfg, t0);
    s.handle_input(b"EHLO client.test\r\n");
    events(&mut s);
    output(&mut s);
    let mut now = t0;
    for (input, event, decide) in steps {
        s.handle_input(input);
        let evs = events(&mut s);
        assert_eq!(evs.last().map(String::as_str), Some(event), "{evs:?}");
        if event == "DataStart" {
            continue;
        }
        // The application takes 20 minutes; a driver that calls
        // handle_timeout anyway changes nothing.
        assert_eq!(s.poll_timeout(), None, "{event}: no deadline while deciding");
        for _ in 0..4 {
            now += 5 * MIN;
            s.handle_timeout(now);
        }
        assert!(!s.is_closed(), "{event}: closed while the decision was pending");
        decide(&mut s);
        events(&mut s);
        let out = output(&mut s);
        assert!(out.starts_with(['2', '3']), "{event}: {out}");
        // The old deadline has passed: the driver calls at once, and the
        // timer restarts from then instead of closing.
        let at = s.poll_timeout().expect("idle timer running again");
        assert!(at <= now, "{event}");
        s.handle_timeout(now);
        assert!(!s.is_closed(), "{event}: the reply was just sent");
        assert_eq!(s.poll_timeout(), Some(now + 5 * MIN), "{event}");
    }
    // Then a silent client is dropped one period after the last restart.
    s.handle_timeout(now + 5 * MIN - Duration::from_secs(1));
    assert!(!s.is_closed());
    s.handle_timeout(now + 5 * MIN);
    assert!(s.is_closed());
    let out = output(&mut s);
    assert!(out.starts_with("421 4.4.2 "), "{out}");
}

/// A decision made before the idle deadline: the timer does not fire at that
/// deadline (it counts as activity) but restarts from it.
#[test]
fn a_quick_decision_restarts_the_idle_timer_at_the_old_deadline() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(ServerConfig::default(), t0);
    s.handle_input(b"EHLO client.test\r\n");
    events(&mut s);
    s.handle_input(b"MAIL FROM:<a@example.test>\r\n");
    events(&mut s);
    assert_eq!(s.poll_timeout(), None);
    s.accept().unwrap();
    assert_eq!(s.poll_timeout(), Some(t0 + 5 * MIN));
    s.handle_timeout(t0 + 5 * MIN);
    assert!(!s.is_closed());
    assert_eq!(s.poll_timeout(), Some(t0 + 10 * MIN));
    s.handle_timeout(t0 + 10 * MIN);
    assert!(s.is_closed());
}

/// RFC 2920 3.1: "The EHLO, DATA, VRFY, EXPN, TURN, QUIT, and NOOP commands
/// can only appear as the last command in a group". HELP and ETRN are not in
/// the list: commands pipelined behind them are answered, not refused.
#[test]
fn help_and_etrn_may_be_followed_in_a_pipelined_group() {
    let (mut s, mut app) = greeted(ServerConfig::default());
    let out = exchange(
        &mut s,
        &mut app,
        b"HELP\r\nETRN @example.test\r\nHELP MAIL\r\nMAIL FROM:<a@example.test>\r\nRSET\r\n",
    );
    assert_eq!(codes(&out), ["214", "502", "214", "250", "250"], "{out}");
    assert!(!s.is_closed());
    // NOOP still ends a group.
    let out = exchange(&mut s, &mut app, b"NOOP\r\nHELP\r\n");
    assert_eq!(
        out,
        "554 5.5.0 Error: SMTP protocol synchronization\r\n[fatal ProtocolSync]"
    );
}

/// RFC 2033 4.3: BDAT LAST "returns one reply for each previously successful
/// RCPT command", also when an earlier chunk already failed the transaction.
#[test]
fn lmtp_bdat_last_after_a_failed_chunk_answers_each_recipient() {
    let mut cfg = lmtp();
    cfg.limits.message_size = 5;
    let (mut s, mut app) = greeted(cfg);
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nBDAT 10\r\n0123456789BDAT 0 LAST\r\n",
    );
    assert_eq!(codes(&out), ["250", "250", "250", "552", "503", "503"], "{out}");
    // Plain SMTP: one reply.
    let mut cfg = ServerConfig::default();
    cfg.limits.message_size = 5;
    let (mut s, mut app) = greeted(cfg);
    let out = exchange(
        &mut s,
        &mut app,
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nBDAT 10\r\n0123456789BDAT 0 LAST\r\n",
    );
    assert_eq!(codes(&out), ["250", "250", "250", "552", "503"], "{out}");
}

/// RFC 5321 4.5.3.1.5: "The maximum total length of a reply line including
/// the reply code and the <CRLF> is 512 octets." A reply the application
/// gives with a longer line is refused by the call, and the decision stays
/// pending so that the application can answer again; a raised
/// `Limits::reply_line` lets it through.
/// A session (no app) after EHLO and then `command`: returns the events of
/// the command, with everything sent so far drained.
fn after_ehlo(cfg: ServerConfig, command: &[u8]) -> (ServerSession, Vec<String>) {
    let mut s = ServerSession::new(cfg, Instant::now());
    s.handle_input(b"EHLO c.test\r\n");
    while s.poll_event().unwrap().is_some() {}
    s.handle_input(command);
    let evs = events(&mut s);
    output(&mut s);
    (s, evs)
}

#[test]
fn replies_with_lines_over_512_octets_are_refused_and_the_decision_stays_pending() {
    use smtp_proto::{EnhancedCode, Reply, UsageError};
    // "550 5.1.1 " is 10 octets and CRLF 2: 500 octets of text make 512.
    let fits = Reply::new(550, Some(EnhancedCode(5, 1, 1)), &"x".repeat(500));
    let over = Reply::new(550, Some(EnhancedCode(5, 1, 1)), &"x".repeat(501));
    let mail = b"MAIL FROM:<a@example.test>\r\n";
    let (mut s, evs) = after_ehlo(ServerConfig::default(), mail);
    assert!(evs.iter().any(|e| e.starts_with("Mail")), "{evs:?}");
    assert!(matches!(s.reject(over.clone()), Err(UsageError::BadArgument(_))));
    assert!(matches!(
        s.accept_with(&Reply::new(250, None, &"y".repeat(600))),
        Err(UsageError::BadArgument(_))
    ));
    assert_eq!(output(&mut s), "", "nothing is sent for a refused reply");
    s.reject(fits).expect("a 512-octet line is within the limit");
    while s.poll_event().unwrap().is_some() {}
    let out = output(&mut s);
    assert_eq!(out.len(), 512);
    assert!(out.starts_with("550 5.1.1 xxx"), "{out}");

    // The limit is configurable.
    let mut cfg = ServerConfig::default();
    cfg.limits.reply_line = 1000;
    let (mut s, _) = after_ehlo(cfg, mail);
    s.reject(over).expect("within the raised limit");
    while s.poll_event().unwrap().is_some() {}
    assert_eq!(output(&mut s).len(), 513);
}

/// RFC 4954 4: challenges can be long, up to the AUTH line limit (12288
/// octets by default); a longer one is refused by `auth_challenge`, and
/// the exchange stays pending.
#[test]
fn auth_challenges_over_the_auth_line_limit_are_refused() {
    use smtp_proto::UsageError;
    let cfg = ServerConfig {
        implicit_tls: true,
        auth_mechanisms: vec!["X-LONG".into()],
        ..ServerConfig::default()
    };
    let (mut s, _) = after_ehlo(cfg, b"AUTH X-LONG\r\n");
    // 12288 - 6 = 12282 base64 octets hold at most 9210 bytes (3070 groups of 4).
    assert!(matches!(
        s.auth_challenge(&[7; 9211]),
        Err(UsageError::BadArgument(_))
    ));
    assert_eq!(output(&mut s), "");
    s.auth_challenge(&[7; 9210]).expect("within the limit");
    let out = output(&mut s);
    assert!(out.len() <= 12288 && out.starts_with("334 "), "{}", out.len());
}
