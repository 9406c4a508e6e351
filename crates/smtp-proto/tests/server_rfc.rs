//! Server session rules taken from the RFC texts, one test per rule (review 18).
//! Sessions are driven by `checks::ServerApp`: it accepts senders and
//! messages, refuses recipients whose line holds "reject" (550 5.1.1), and
//! accepts `\0user\0pass` for PLAIN.

use smtp_proto::checks::ServerApp;
use smtp_proto::{ServerConfig, ServerEvent, ServerSession};
use std::time::{Duration, Instant};

const MIN: Duration = Duration::from_secs(60);

/// Everything the session has to send, as text.
fn output(s: &mut ServerSession) -> String {
    let mut v = Vec::new();
    while let Some(b) = s.poll_transmit() {
        let n = b.len();
        v.extend_from_slice(b);
        s.advance_transmit(n);
    }
    String::from_utf8_lossy(&v).into_owned()
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
