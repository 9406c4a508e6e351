//! Review 26: the gaps the session-25 review found and left open. Each test
//! quotes the RFC rule it checks and failed on the code as it was before its
//! fix.

use smtp_proto::{
    ClientConfig, ClientEvent, ClientSession, EnhancedCode, Envelope, Recipient, ServerConfig, ServerSession,
};
use std::time::Instant;

mod common;
use common::{client_events, out_of, serve};

/// RFC 5321 4.1.1.1: a client that greets with HELO asks for no service
/// extensions ("the server ... MUST NOT return the extended EHLO-style
/// response to a HELO command"), and RFC 3030 2 ties BDAT to CHUNKING,
/// which only an EHLO reply offers. So BDAT after HELO is refused like AUTH
/// after HELO (503 5.5.1), its chunk is read and dropped (RFC 3030 2: the
/// server "MUST ... discard the associated message data"), and the octets
/// never reach the application nor run as commands.
#[test]
fn bdat_after_helo_is_refused_and_its_chunk_dropped() {
    let (out, log) = serve(
        ServerConfig::default(),
        &[
            b"HELO c.example.test\r\n",
            b"MAIL FROM:<a@example.test>\r\n",
            b"RCPT TO:<b@example.test>\r\n",
            b"BDAT 6 LAST\r\nQUIT\r\n",
            b"NOOP\r\n",
        ],
    );
    let replies: Vec<&str> = out.lines().collect();
    // Greeting, HELO, MAIL, RCPT, then the refusal and the NOOP: "QUIT"
    // was chunk data.
    assert_eq!(replies[4], "503 5.5.1 Send EHLO first", "{out}");
    assert_eq!(replies[5], "250 2.0.0 Ok", "{out}");
    assert_eq!(replies.len(), 6, "{out}");
    assert!(
        !log.iter().any(|e| e.contains("DataStart") || e.contains("Data")),
        "{log:?}"
    );
}

/// RFC 2920 3.1: when no RCPT succeeded but the server still answers the
/// pipelined DATA with 354, "the client SMTP should send a single dot". The
/// transaction then failed because every recipient was refused, and the
/// client says so with a reply the server actually sent: the last RCPT
/// refusal, as it does when the RCPTs were not pipelined. Before, it made up
/// a `554 No valid recipients` without an enhanced code.
#[test]
fn all_recipients_refused_after_354_reports_the_servers_refusal() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx.example.test\r\n");
    c.handle_input(b"250-mx.example.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n");
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    out_of(&mut c);
    let env = Envelope {
        from: "a@example.test".into(),
        recipients: vec![Recipient::new("x@example.test"), Recipient::new("y@example.test")],
        ..Envelope::default()
    };
    c.send_mail(env, t0).unwrap();
    assert_eq!(
        out_of(&mut c),
        "MAIL FROM:<a@example.test>\r\nRCPT TO:<x@example.test>\r\nRCPT TO:<y@example.test>\r\nDATA\r\n"
    );
    c.handle_input(
        b"250 2.1.0 Ok\r\n550 5.1.1 No such user x\r\n551 5.1.6 User y has moved\r\n354 Go ahead\r\n",
    );
    let mut failed = None;
    let mut drain = |c: &mut ClientSession| {
        while let Some(ev) = c.poll_event().unwrap() {
            assert!(!matches!(ev, ClientEvent::SendBody), "{ev:?}");
            if let ClientEvent::TransactionFailed(r) = ev {
                failed = Some(r);
            }
        }
    };
    drain(&mut c);
    assert_eq!(out_of(&mut c), ".\r\n");
    c.handle_input(b"554 5.5.1 No valid recipients\r\n");
    drain(&mut c);
    let r = failed.expect("TransactionFailed");
    assert_eq!(r.code(), 551, "{r:?}");
    assert_eq!(r.enhanced(), Some(EnhancedCode(5, 1, 6)), "{r:?}");
}

/// RFC 5321 4.5.3.1.5: a reply line is at most 512 octets, CRLF included,
/// and an EHLO keyword with its parameters cannot be split over two lines.
/// A configured mechanism list that would make the `AUTH` line longer is
/// announced as far as it fits, in the configured order, and the EHLO is
/// answered 250. Before, the whole EHLO reply became `451` while the
/// session still took the EHLO.
#[test]
fn a_long_auth_mechanism_list_is_cut_to_fit_the_ehlo_line() {
    let names: Vec<String> = (0..30).map(|i| format!("X-MECHANISM-NUM-{i:04}")).collect();
    let cfg = ServerConfig {
        auth_mechanisms: names.clone(),
        allow_plaintext_auth: true,
        ..ServerConfig::default()
    };
    let (out, log) = serve(cfg, &[b"EHLO c.example.test\r\n"]);
    let auth = out
        .lines()
        .find(|l| l.starts_with("250-AUTH ") || l.starts_with("250 AUTH "))
        .unwrap_or_else(|| panic!("no AUTH line: {out}"));
    assert!(auth.len() + 2 <= 512, "{} octets", auth.len() + 2);
    let listed: Vec<&str> = auth[9..].split(' ').collect();
    assert!(listed.len() >= 20, "{listed:?}");
    assert_eq!(listed[..], names[..listed.len()], "in the configured order");
    // One more would not have fitted.
    assert!(auth.len() + 1 + names[listed.len()].len() + 2 > 512);
    assert!(log.iter().any(|e| e.starts_with("Helo")), "{log:?}");
}

/// RFC 4422 3.1: a mechanism name is 1 to 20 of upper-case letters, digits,
/// "-" and "_". A configured name that is not one (a space or a CRLF in it,
/// say) is never announced: the session drops it when it starts, as
/// `ServerSession::config` shows, so one bad name neither breaks the EHLO
/// reply nor smuggles a line into it.
#[test]
fn configured_mechanism_names_that_are_not_sasl_names_are_dropped() {
    let cfg = ServerConfig {
        auth_mechanisms: vec![
            "PLAIN".into(),
            "BAD NAME".into(),
            "X\r\n250 EVIL".into(),
            String::new(),
            "LOGIN".into(),
        ],
        allow_plaintext_auth: true,
        ..ServerConfig::default()
    };
    let s = ServerSession::new(cfg.clone(), Instant::now());
    assert_eq!(
        s.config().auth_mechanisms,
        vec!["PLAIN".to_string(), "LOGIN".to_string()]
    );
    let (out, _) = serve(cfg, &[b"EHLO c.example.test\r\n"]);
    assert!(
        out.contains("250 AUTH PLAIN LOGIN\r\n") || out.contains("250-AUTH PLAIN LOGIN\r\n"),
        "{out}"
    );
    assert!(!out.contains("EVIL"), "{out}");
}

/// RFC 5321 4.1.1.1 and 4.1.4: an EHLO the server could not answer (its
/// reply does not fit the configured reply line limit, `451 4.3.0`) is not
/// taken: the session stays as it was, so the application hears of no
/// greeting and a MAIL after it is refused without reaching it. Before, the
/// session answered 451 and carried on as if greeted. (The limit here is so
/// small that the MAIL refusal cannot be sent either, so it is a 451 too.)
#[test]
fn an_ehlo_answered_451_is_not_taken() {
    let cfg = ServerConfig {
        limits: smtp_proto::Limits {
            reply_line: 20,
            ..smtp_proto::Limits::default()
        },
        ..ServerConfig::default()
    };
    let (out, log) = serve(
        cfg,
        &[b"EHLO c.example.test\r\n", b"MAIL FROM:<a@example.test>\r\n"],
    );
    let replies: Vec<&str> = out.lines().collect();
    assert!(replies[1].starts_with("451 4.3.0"), "{out}");
    assert!(
        !log.iter().any(|e| e.starts_with("Helo") || e.starts_with("Mail")),
        "{log:?}"
    );
}

/// RFC 5321 4.5.3.1: "Every implementation MUST be able to receive objects
/// of at least these sizes", among them 100 recipients (4.5.3.1.8) and 512
/// octet command and reply lines. A smaller limit is a site's choice and
/// stays allowed (a client told 452 sends the rest later, 4.5.3.1.10), but
/// it is no longer silent: `Limits::shortfalls` names each limit set below
/// what its RFC requires, with the rule, for the application to log or
/// refuse.
#[test]
fn limits_below_the_rfc_minimums_are_reported() {
    assert!(smtp_proto::Limits::default().shortfalls().is_empty());
    let limits = smtp_proto::Limits {
        recipients: 10,
        reply_line: 200,
        auth_line: 12288,
        ..smtp_proto::Limits::default()
    };
    let found = limits.shortfalls();
    let names: Vec<&str> = found.iter().map(|s| s.name).collect();
    assert_eq!(names, ["reply_line", "recipients"]);
    assert_eq!(found[1].configured, 10);
    assert_eq!(found[1].minimum, 100);
    assert_eq!(
        found[1].to_string(),
        "recipients is 10, below the 100 of RFC 5321 4.5.3.1.8"
    );
    // Larger than the minimums is fine, and so is no limit at all.
    let big = smtp_proto::Limits {
        recipients: usize::MAX,
        command_line: 4096,
        ..smtp_proto::Limits::default()
    };
    assert!(big.shortfalls().is_empty());
}
