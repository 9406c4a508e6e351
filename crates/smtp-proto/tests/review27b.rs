//! Review 27b (helper H6): an adversarial pass over the codec and both
//! sessions. Each test quotes the RFC rule it checks and failed on the code
//! as it was before its fix.

use smtp_proto::{
    ClientConfig, ClientEvent, ClientSession, EnhancedCode, Envelope, ErrorKind, Recipient, Reply,
    ServerConfig, ServerEvent, ServerSession,
};
use std::time::Instant;

mod common;
use common::out_of;

fn envelope(n: usize) -> Envelope {
    Envelope {
        from: "a@example.test".into(),
        recipients: (0..n)
            .map(|i| Recipient::new(&format!("r{i}@example.test")))
            .collect(),
        ..Envelope::default()
    }
}

/// Every event of `c` until none is ready, and the fatal error if any.
fn events(c: &mut ClientSession) -> (Vec<ClientEvent>, Option<ErrorKind>) {
    let mut v = Vec::new();
    loop {
        match c.poll_event() {
            Ok(Some(e)) => v.push(e),
            Ok(None) => return (v, None),
            Err(e) => return (v, Some(e.kind())),
        }
    }
}

/// A client past EHLO (PIPELINING offered) with `n` recipients accepted and
/// the body sent and finished.
fn client_after_body(cfg: ClientConfig, n: usize) -> ClientSession {
    let t0 = Instant::now();
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx.example.test\r\n250-mx.example.test\r\n250 PIPELINING\r\n");
    assert!(matches!(events(&mut c).0[..], [ClientEvent::Ready]));
    out_of(&mut c);
    c.send_mail(envelope(n), t0).unwrap();
    out_of(&mut c);
    c.handle_input(b"250 2.1.0 ok\r\n");
    for _ in 0..n {
        c.handle_input(b"250 2.1.5 ok\r\n");
    }
    c.handle_input(b"354 go ahead\r\n");
    assert!(events(&mut c).0.contains(&ClientEvent::SendBody));
    c.send_data(b"Subject: x\r\n\r\nhi\r\n").unwrap();
    c.finish_data().unwrap();
    out_of(&mut c);
    c
}

/// RFC 2033 4.2: after the final dot the LMTP server "returns one reply for
/// each previously successful RCPT command", and RFC 5321 3.8 lets it close
/// with a 421 in place of any reply. When the 421 comes as the reply of the
/// second of three recipients, that recipient's result is the 421 the
/// server sent (its text and enhanced code say why); only the third, which
/// got no reply at all, is the made-up `451 4.4.2` of RFC 2033 5 ("treat
/// the rest as temporary failures", once the connection has closed: see
/// the next test for the replies after the 421). Before, the 421 was
/// dropped and the second recipient got the made-up 451 too.
#[test]
fn lmtp_421_in_the_end_of_data_replies_is_that_recipients_result() {
    let cfg = ClientConfig {
        lmtp: true,
        ..ClientConfig::default()
    };
    let mut c = client_after_body(cfg, 3);
    c.handle_input(b"250 2.0.0 r0 delivered\r\n421 4.3.2 mailbox server going down\r\n");
    let (evs, err) = events(&mut c);
    assert!(evs.is_empty() && err.is_none(), "{evs:?} {err:?}");
    c.handle_eof();
    let (evs, err) = events(&mut c);
    assert_eq!(err, Some(ErrorKind::ServiceClosing), "{evs:?}");
    let results = evs
        .iter()
        .find_map(|e| match e {
            ClientEvent::MessageResult(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no MessageResult: {evs:?}"));
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0].code(), 250);
    assert_eq!(
        results[1],
        Reply::new(421, Some(EnhancedCode(4, 3, 2)), "mailbox server going down")
    );
    assert_eq!(results[2].code(), 451);
}

/// The `MessageResult` among `evs`.
fn message_result(evs: &[ClientEvent]) -> Vec<Reply> {
    evs.iter()
        .find_map(|e| match e {
            ClientEvent::MessageResult(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no MessageResult: {evs:?}"))
}

/// RFC 2033 5: "If the connection closes after replies for some, but not
/// all, recipients have arrived, the client MUST process the replies that
/// arrived and treat the rest as temporary failures." An LMTP server whose
/// application answers the end of data with 250, 421, 250 (this crate's
/// server sends all three, then closes) delivered the message to the
/// first and the third recipient. The client dropped every byte after the
/// 421 and reported the third recipient as a temporary failure, so a
/// retry delivered the message to it a second time.
#[test]
fn lmtp_replies_after_a_421_still_count() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(
        ServerConfig {
            lmtp: true,
            ..ServerConfig::default()
        },
        t0,
    );
    for turn in [
        &b"LHLO c.example.test\r\n"[..],
        b"MAIL FROM:<a@example.test>\r\nRCPT TO:<r0@example.test>\r\n\
RCPT TO:<r1@example.test>\r\nRCPT TO:<r2@example.test>\r\nDATA\r\n",
    ] {
        s.handle_input(turn);
        loop {
            match s.poll_event().unwrap() {
                Some(ServerEvent::Mail(_) | ServerEvent::Rcpt(_)) => s.accept().unwrap(),
                Some(_) => {}
                None => break,
            }
        }
    }
    s.handle_input(b"hi\r\n.\r\n");
    while let Some(ev) = s.poll_event().unwrap() {
        if matches!(ev, ServerEvent::DataEnd) {
            break;
        }
    }
    let replies = [
        Reply::new(250, Some(EnhancedCode(2, 1, 5)), "r0 delivered"),
        Reply::new(421, Some(EnhancedCode(4, 3, 2)), "r1 store going down"),
        Reply::new(250, Some(EnhancedCode(2, 1, 5)), "r2 delivered"),
    ];
    s.lmtp_replies(&replies).unwrap();
    assert_eq!(
        s.poll_event().err().map(|e| e.kind()),
        Some(ErrorKind::ServiceClosing)
    );
    let out = out_of(&mut s);
    let end_replies = &out[out.rfind("354").unwrap()..];
    let end_replies = &end_replies[end_replies.find("\r\n").unwrap() + 2..];

    let cfg = ClientConfig {
        lmtp: true,
        ..ClientConfig::default()
    };
    let mut c = client_after_body(cfg, 3);
    c.handle_input(end_replies.as_bytes());
    c.handle_eof();
    let (evs, err) = events(&mut c);
    assert_eq!(message_result(&evs), replies, "{evs:?}");
    assert_eq!(err, Some(ErrorKind::ServiceClosing), "{evs:?}");
}

/// RFC 3207 4.2: after its `220` to STARTTLS the server speaks TLS only
/// ("the client MUST start the TLS negotiation before giving any other
/// SMTP commands"; whatever the server writes then is read as TLS
/// records). The idle timeout (RFC 5321 4.5.3.2.7) still bounds a client
/// that stalls the handshake, but it ends the session without a word, as
/// `shutdown` does in that state. Before, it queued a plaintext
/// `421 4.4.2 ... timeout exceeded` for the driver to write into the TLS
/// handshake.
#[test]
fn idle_timeout_during_the_starttls_handshake_writes_no_plaintext() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(
        ServerConfig {
            starttls: true,
            ..ServerConfig::default()
        },
        t0,
    );
    s.handle_input(b"EHLO c.example.test\r\n");
    while s.poll_event().unwrap().is_some() {}
    out_of(&mut s);
    s.handle_input(b"STARTTLS\r\n");
    assert!(matches!(s.poll_event(), Ok(Some(ServerEvent::StartTls))));
    assert_eq!(out_of(&mut s), "220 2.0.0 Ready to start TLS\r\n");
    // The handshake never completes.
    let mut now = t0;
    let mut err = None;
    for _ in 0..4 {
        let Some(at) = s.poll_timeout() else { break };
        now = now.max(at);
        s.handle_timeout(now);
        if let Err(e) = s.poll_event() {
            err = Some(e.kind());
            break;
        }
    }
    assert_eq!(err, Some(ErrorKind::Timeout));
    assert!(s.is_closed());
    assert_eq!(out_of(&mut s), "", "plaintext written into the TLS handshake");
}

/// The session contract (DESIGN.md: `handle_eof`, then `poll_event`
/// reports the end) holds during the STARTTLS handshake too: a server that
/// closes the connection after its `220` to STARTTLS ends the client
/// session with [`ErrorKind::Eof`] (RFC 3207 4: a client that cannot go on
/// with the handshake "SHOULD abort the connection"). Before, the client
/// ignored the end of the stream until `tls_established`, which never came,
/// and, its timer stopped for the handshake, waited for ever.
#[test]
fn client_reports_eof_during_the_starttls_handshake() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx.example.test\r\n250-mx.example.test\r\n250 STARTTLS\r\n");
    assert!(events(&mut c).0.is_empty());
    assert_eq!(out_of(&mut c), "EHLO localhost\r\nSTARTTLS\r\n");
    c.handle_input(b"220 2.0.0 go ahead\r\n");
    assert_eq!(events(&mut c).0, vec![ClientEvent::StartTls]);
    c.handle_eof();
    assert_eq!(events(&mut c).1, Some(ErrorKind::Eof));
    assert!(c.is_closed());
}

/// RFC 5321 4.3.2: DATA is answered `354` (go ahead) or refused with a
/// 4yz/5yz; a message is delivered only once its end of data is answered
/// 2yz (4.1.1.4, 4.2.5). A server that answers DATA `250` has not taken
/// the body (none was sent) and may even be reading one, so its state is
/// unknown: the transaction fails with a temporary failure the client
/// makes up (never with the 250, which an application reads as
/// "delivered": `TransactionFailed` carries the reason a message was not
/// delivered) and the session ends with `UnexpectedReply` instead of
/// sending RSET and the next transaction into what may be a body. Before,
/// the transaction failed with the server's `250`, and a queue that maps
/// the reply's class to the outcome (as the maild example does) dropped a
/// message that was never sent.
#[test]
fn a_2yz_answer_to_data_fails_the_transaction_as_temporary() {
    for answer in [&b"250 2.0.0 ok\r\n"[..], b"334 what\r\n"] {
        let t0 = Instant::now();
        let mut c = ClientSession::new(ClientConfig::default(), t0);
        c.handle_input(b"220 mx.example.test\r\n250-mx.example.test\r\n250 PIPELINING\r\n");
        assert!(matches!(events(&mut c).0[..], [ClientEvent::Ready]));
        out_of(&mut c);
        c.send_mail(envelope(1), t0).unwrap();
        assert_eq!(
            out_of(&mut c),
            "MAIL FROM:<a@example.test>\r\nRCPT TO:<r0@example.test>\r\nDATA\r\n"
        );
        c.handle_input(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n");
        c.handle_input(answer);
        let (evs, err) = events(&mut c);
        let failed = evs
            .iter()
            .find_map(|e| match e {
                ClientEvent::TransactionFailed(r) => Some(r.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no TransactionFailed: {evs:?}"));
        assert!(failed.is_transient(), "{failed:?}");
        assert!(!evs.iter().any(|e| matches!(e, ClientEvent::SendBody)), "{evs:?}");
        assert_eq!(err, Some(ErrorKind::UnexpectedReply), "{evs:?}");
        assert_eq!(out_of(&mut c), "", "nothing may follow into what may be a body");
    }
}

/// `Error::offending` is documented as "never AUTH data", and DESIGN.md
/// asks that a protocol error's bytes be redacted where they may hold
/// secrets. A client that pipelines behind `AUTH PLAIN <initial response>`
/// without having PIPELINING (RFC 2920 3.1; RFC 4954 4 allows the
/// exception only where pipelining is in use) is refused with `554 5.5.0`,
/// and the error named that AUTH line, the password in base64 (RFC 4616 2),
/// for the application to log.
#[test]
fn a_pipelining_violation_on_an_auth_line_does_not_carry_the_credentials() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        pipelining: false,
        auth_mechanisms: vec!["PLAIN".into()],
        allow_plaintext_auth: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    s.handle_input(b"EHLO c.example.test\r\n");
    while s.poll_event().unwrap().is_some() {}
    out_of(&mut s);
    // "\0user\0tanstaaf-Secret-77"
    s.handle_input(b"AUTH PLAIN AHVzZXIAdGFuc3RhYWYtU2VjcmV0LTc3\r\nMAIL FROM:<a@example.test>\r\n");
    let err = loop {
        match s.poll_event() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("no error: {}", out_of(&mut s)),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), ErrorKind::ProtocolSync);
    assert!(out_of(&mut s).starts_with("554 5.5.0"));
    let shown = format!("{err:?} {err}");
    assert!(!shown.contains("AHVzZXIAdGFuc3RhYWYt"), "{shown}");
    assert!(
        err.offending()
            .is_none_or(|b| !b.windows(10).any(|w| w == b"AHVzZXIAdG")),
        "{:?}",
        err.offending()
    );
}

/// RFC 4954 5: "If the server does not sufficiently trust the
/// authenticated identity of the client, or if the client is not
/// authenticated, then the server MUST behave as if the AUTH=<> parameter
/// was supplied." A client that has not authenticated cannot name the
/// submitter: the MAIL event's parameters say `AUTH=<>` (the raw line still
/// shows what was sent), so that an application relaying the message does
/// not pass on a submitter it was never shown. Before, an unauthenticated
/// client's `AUTH=ceo@example.test` reached the application as given.
/// After AUTH the parameter is the client's, for the application to trust
/// or not.
#[test]
fn mail_auth_parameter_of_an_unauthenticated_client_reads_as_unknown() {
    let t0 = Instant::now();
    let cfg = ServerConfig {
        auth_mechanisms: vec!["PLAIN".into()],
        allow_plaintext_auth: true,
        ..ServerConfig::default()
    };
    let mail_auth = |s: &mut ServerSession, input: &[u8]| {
        s.handle_input(input);
        loop {
            match s.poll_event().unwrap() {
                Some(ServerEvent::Mail(m)) => {
                    let auth = m.mail_params().auth.map(|a| a.0.to_vec());
                    let Some(smtp_proto::Command::Mail { params, .. }) = m.command() else {
                        panic!("{m:?}")
                    };
                    assert_eq!(params.auth.map(|a| a.0.to_vec()), auth);
                    s.accept().unwrap();
                    return auth;
                }
                Some(ServerEvent::AuthStart { .. }) => {
                    s.auth_finish(smtp_proto::AuthOutcome::Success).unwrap();
                }
                Some(_) => {}
                None => panic!("no MAIL event"),
            }
        }
    };
    let mut s = ServerSession::new(cfg.clone(), t0);
    s.handle_input(b"EHLO c.example.test\r\n");
    while s.poll_event().unwrap().is_some() {}
    let auth = mail_auth(&mut s, b"MAIL FROM:<a@example.test> AUTH=ceo@example.test\r\n");
    assert_eq!(auth.as_deref(), Some(&b"<>"[..]));

    let mut s = ServerSession::new(cfg, t0);
    s.handle_input(b"EHLO c.example.test\r\n");
    while s.poll_event().unwrap().is_some() {}
    // "\0user\0pass"
    s.handle_input(b"AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
    let auth = mail_auth(&mut s, b"MAIL FROM:<a@example.test> AUTH=user@example.test\r\n");
    assert_eq!(auth.as_deref(), Some(&b"user@example.test"[..]));
}

/// RFC 5321 4.2.1: a client "that receives an unexpected code, will be
/// able to determine its next action ... by examining this first digit",
/// and 5yz means the action did not take place and should not be
/// repeated as it is. A server that refuses a message in the middle of
/// its body (a `552` once the size is past its limit, then a close; some
/// do, although only 421 may come unasked, RFC 5321 3.8) has said why the
/// message failed: the transaction fails with that reply. Before, the
/// client put a made-up `451 4.4.2` (connection lost) in its place, so a
/// permanent refusal was retried as a temporary one.
#[test]
fn an_unasked_refusal_in_the_body_is_the_transactions_result() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx.example.test\r\n250-mx.example.test\r\n250 PIPELINING\r\n");
    assert!(matches!(events(&mut c).0[..], [ClientEvent::Ready]));
    c.send_mail(envelope(1), t0).unwrap();
    c.handle_input(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n");
    assert!(events(&mut c).0.contains(&ClientEvent::SendBody));
    c.send_data(b"Subject: big\r\n\r\n").unwrap();
    out_of(&mut c);
    c.handle_input(b"552 5.3.4 Message too big for this system\r\n");
    c.handle_eof();
    let (evs, err) = events(&mut c);
    assert_eq!(
        evs,
        vec![ClientEvent::TransactionFailed(Reply::new(
            552,
            Some(EnhancedCode(5, 3, 4)),
            "Message too big for this system"
        ))]
    );
    assert_eq!(err, Some(ErrorKind::UnexpectedReply));
}

/// RFC 5321 4.3.2: the end of data is answered 250 or refused (4yz, 5yz);
/// a 3yz (4.2.1: "the requested action is being held in abeyance, pending
/// receipt of further information") leaves the server waiting for more of
/// something the client does not have, perhaps still reading a body. The
/// result is reported as the server gave it, then the session ends with
/// `UnexpectedReply`: RSET, QUIT or the next transaction would otherwise
/// go out into what may be the same message's body. Before, the session
/// carried on.
#[test]
fn a_3yz_answer_to_the_end_of_data_ends_the_session() {
    let mut c = client_after_body(ClientConfig::default(), 1);
    c.handle_input(b"354 more please\r\n");
    let (evs, err) = events(&mut c);
    assert_eq!(
        evs,
        vec![ClientEvent::MessageResult(vec![Reply::new(
            354,
            None,
            "more please"
        )])]
    );
    assert_eq!(err, Some(ErrorKind::UnexpectedReply));
    assert!(c.is_closed());
    assert_eq!(out_of(&mut c), "");
}
