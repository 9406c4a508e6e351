//! Session 27: what a session's `Debug` output shows.

use smtp_proto::{ClientConfig, ClientSession, ServerConfig, ServerSession};
use std::time::Instant;

mod common;
use common::client_events;

const PASSWORD: &str = "tanstaaf-Secret-77";

/// `base64("\0user\0" PASSWORD)`, the PLAIN initial response (RFC 4616 2).
fn plain_response() -> String {
    // A small base64 encoder, so the test does not trust the crate's.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("\0user\0{PASSWORD}").into_bytes();
    let mut out = String::new();
    for c in raw.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn assert_no_secret(what: &str, debug: &str) {
    assert!(!debug.contains(PASSWORD), "{what} shows the password: {debug}");
    assert!(
        !debug.contains(&plain_response()),
        "{what} shows the PLAIN response: {debug}"
    );
    // Nor any part of it long enough to carry the password.
    assert!(
        !debug.contains(&plain_response()[8..20]),
        "{what} shows part of the PLAIN response: {debug}"
    );
}

/// DESIGN.md: bytes that may hold secrets are redacted. A session's
/// `Debug` output (what `{:?}` in a log line or a panic message prints)
/// showed its buffers byte for byte: the client's AUTH PLAIN line not yet
/// written (RFC 4954 4: the initial response is the password in base64)
/// and the server's pipelined AUTH line not yet parsed.
#[test]
fn session_debug_shows_no_credentials() {
    let t0 = Instant::now();
    let cfg = ClientConfig {
        credentials: Some(sasl::Credentials::with_password("user", PASSWORD)),
        allow_plaintext_auth: true,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg, t0);
    assert_no_secret("a new client", &format!("{c:?}"));
    c.handle_input(b"220 mx.example.test\r\n250-mx.example.test\r\n250 AUTH PLAIN\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_no_secret("a client with AUTH PLAIN queued", &format!("{c:?}"));
    assert_no_secret("a client with AUTH PLAIN queued", &format!("{c:#?}"));

    let mut s = ServerSession::new(ServerConfig::default(), t0);
    let line = format!("EHLO client.example\r\nAUTH PLAIN {}\r\n", plain_response());
    s.handle_input(line.as_bytes());
    assert_no_secret("a server with AUTH PLAIN unread", &format!("{s:?}"));
    assert_no_secret("a server with AUTH PLAIN unread", &format!("{s:#?}"));
}

/// RFC 3207 4: "A SMTP server that is not publicly referenced may choose
/// to require that the client perform a TLS negotiation before accepting
/// any commands. In this case, the server SHOULD reply to every command
/// other than NOOP, EHLO, STARTTLS, or QUIT with the 530 reply code." The
/// server had no such setting: an application could refuse MAIL, RCPT and
/// AUTH itself, but not VRFY, HELO, RSET or a BDAT chunk.
#[test]
fn require_tls_serves_only_noop_ehlo_starttls_and_quit_before_tls() {
    let cfg = ServerConfig {
        starttls: true,
        require_tls: true,
        chunking: true,
        auth_mechanisms: vec!["PLAIN".into()],
        allow_plaintext_auth: true,
        ..ServerConfig::default()
    };
    let need = "530 5.7.0 Must issue a STARTTLS command first\r\n";
    let (out, _) = common::serve(
        cfg.clone(),
        &[
            b"EHLO c.example\r\n",
            b"MAIL FROM:<a@b.example>\r\n",
            b"HELO c.example\r\n",
            b"RSET\r\n",
            b"VRFY x\r\n",
            b"AUTH PLAIN AGEAYg==\r\n",
            // The chunk is read and dropped: "NOOP" inside it is no command.
            b"BDAT 6 LAST\r\nNOOP\r\n",
            b"NOOP\r\n",
            b"BOGUS\r\n",
            b"STARTTLS\r\n",
            b"EHLO c.example\r\n",
            b"MAIL FROM:<a@b.example>\r\n",
            b"QUIT\r\n",
        ],
    );
    let replies: Vec<&str> = out
        .split_inclusive("\r\n")
        .filter(|l| l.as_bytes()[3] == b' ')
        .collect();
    let want = [
        "220 ", "250 ", need, need, need, need, need, need, "250 ", "500 ", "220 ", "250 ", "250 ", "221 ",
    ];
    assert_eq!(replies.len(), want.len(), "{out}");
    for (got, want) in replies.iter().zip(want) {
        assert!(got.starts_with(want), "{got:?} where {want:?} was due in\n{out}");
    }
    // Off by default: MAIL before TLS is served.
    let (out, _) = common::serve(
        ServerConfig {
            require_tls: false,
            ..cfg
        },
        &[b"EHLO c.example\r\n", b"MAIL FROM:<a@b.example>\r\n"],
    );
    assert!(out.lines().last().unwrap().starts_with("250 "), "{out}");
}

/// `ClientConfig::max_buffer` of 0 left `send_data` taking nothing, ever:
/// the body could never be sent and the session waited for the timeout.
/// A limit below one octet now acts as one.
#[test]
fn client_max_buffer_of_zero_still_sends_the_body() {
    use smtp_proto::{Envelope, Recipient};
    let t0 = Instant::now();
    let cfg = ClientConfig {
        max_buffer: 0,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
    client_events(&mut c);
    let env = Envelope {
        from: "a@example.test".into(),
        recipients: vec![Recipient::new("b@example.test")],
        ..Envelope::default()
    };
    c.send_mail(env, t0).unwrap();
    c.handle_input(b"250 ok\r\n250 ok\r\n354 go\r\n");
    assert_eq!(client_events(&mut c).last().unwrap(), "SendBody");
    common::out_of(&mut c);
    let body = b"hello\r\n.dot\r\n";
    let mut sent = 0;
    let mut wire = String::new();
    for _ in 0..1000 {
        if sent == body.len() {
            break;
        }
        sent += c.send_data(&body[sent..]).unwrap();
        wire.push_str(&common::out_of(&mut c));
    }
    assert_eq!(sent, body.len());
    c.finish_data().unwrap();
    wire.push_str(&common::out_of(&mut c));
    assert_eq!(wire, "hello\r\n..dot\r\n.\r\n");
}

/// RFC 5321 4.5.3.2.7: the server times out "while awaiting the next
/// command from the sender". Any byte restarted the idle timer, so a
/// client that sent a command line one byte at a time, each within the
/// timeout, held the connection (and one of the server's connection slots)
/// for ever. Only a whole line (or body data, 4.5.3.2.5) counts now.
#[test]
fn a_command_trickled_byte_by_byte_times_out() {
    use std::time::Duration;
    let t0 = Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.timeouts.server = Duration::from_secs(10);
    let run = |input: &[u8], step: Duration| {
        let mut s = ServerSession::new(cfg.clone(), t0);
        let mut now = t0;
        let mut out = String::new();
        let mut closed_at = None;
        for &b in input {
            now += step;
            if let Some(at) = s.poll_timeout()
                && at <= now
            {
                s.handle_timeout(at);
            }
            while let Ok(Some(_)) = s.poll_event() {}
            out.push_str(&common::out_of(&mut s));
            if s.poll_event().is_err() || out.contains("421") {
                closed_at = Some(now - t0);
                break;
            }
            s.handle_input(&[b]);
        }
        (out, closed_at)
    };
    // A line a byte every 6 s: closed within two periods of the greeting.
    let (out, closed) = run(b"MAIL FROM:<a@b.example>\r\n", Duration::from_secs(6));
    assert!(out.contains("421 4.4.2"), "{out}");
    assert!(closed.unwrap() <= Duration::from_secs(30), "{closed:?}");
    // Whole commands every 6 s keep it open.
    let noops = b"NOOP\r\n".repeat(2);
    let mut s = ServerSession::new(cfg.clone(), t0);
    let mut now = t0;
    for i in 0..10 {
        now += Duration::from_secs(6);
        if let Some(at) = s.poll_timeout()
            && at <= now
        {
            s.handle_timeout(at);
        }
        s.handle_input(&noops[..6]);
        while let Ok(Some(_)) = s.poll_event() {}
        let out = common::out_of(&mut s);
        assert!(!out.contains("421"), "closed after {i} NOOPs: {out}");
    }
}

/// RFC 5321 4.2: reply text is `textstring = 1*(%d09 / %d32-126)`. The
/// encoder refused only CR, LF and NUL, so an application's text with a
/// terminal escape (ESC), a backspace or DEL went to the client as it was.
/// Every control character but tab is refused now; UTF-8 goes through
/// (RFC 6531). A configured greeting that holds one is left out, as one
/// with CR or LF was.
#[test]
fn reply_text_holds_no_control_character_but_tab() {
    use smtp_proto::{EnhancedCode, Reply, check_reply_text};
    for bad in ["ok\u{1b}[31m", "back\u{8}space", "del\u{7f}", "bell\u{7}"] {
        assert!(check_reply_text(bad.as_bytes()).is_err(), "{bad:?}");
        assert!(
            Reply::new(250, Some(EnhancedCode(2, 0, 0)), bad)
                .to_vec()
                .is_err(),
            "{bad:?}"
        );
    }
    for good in ["tab\there", "Grüße", "plain text"] {
        assert!(check_reply_text(good.as_bytes()).is_ok(), "{good:?}");
        let wire = Reply::new(250, Some(EnhancedCode(2, 0, 0)), good)
            .to_vec()
            .unwrap();
        assert_eq!(wire, format!("250 2.0.0 {good}\r\n").into_bytes());
    }
    let (out, _) = common::serve(
        ServerConfig {
            greeting: "hello\u{1b}[2J".into(),
            ..ServerConfig::default()
        },
        &[b"QUIT\r\n"],
    );
    assert!(out.starts_with("220 localhost\r\n"), "{out:?}");
}
