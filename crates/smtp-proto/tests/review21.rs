//! Review 21: gaps left open by earlier reviews, each test quoting the RFC
//! sentence it checks.

use smtp_proto::{
    BodyType, ClientConfig, ClientEvent, ClientSession, Envelope, ErrorKind, Recipient, ServerConfig,
    ServerEvent, ServerSession,
};
use std::time::Instant;

/// A client and a server wired together in memory. The test drives the
/// client by hand; the server application accepts every sender, recipient
/// and message.
struct Wire {
    c: ClientSession,
    s: ServerSession,
    now: Instant,
    c2s: Vec<u8>,
    s2c: Vec<u8>,
    cev: Vec<ClientEvent>,
    cerr: Option<ErrorKind>,
    slog: Vec<String>,
    serr: Option<ErrorKind>,
    /// Body bytes of the message in progress, and the bodies accepted.
    current: Vec<u8>,
    delivered: Vec<Vec<u8>>,
    /// The server application refuses the next MAIL with this reply.
    refuse_mail: Option<smtp_proto::Reply>,
}

impl Wire {
    fn new(ccfg: ClientConfig, scfg: ServerConfig) -> Self {
        let now = Instant::now();
        Wire {
            c: ClientSession::new(ccfg, now),
            s: ServerSession::new(scfg, now),
            now,
            c2s: Vec::new(),
            s2c: Vec::new(),
            cev: Vec::new(),
            cerr: None,
            slog: Vec::new(),
            serr: None,
            current: Vec::new(),
            delivered: Vec::new(),
            refuse_mail: None,
        }
    }

    fn drain_client(&mut self) {
        if self.cerr.is_some() {
            return;
        }
        loop {
            match self.c.poll_event() {
                Ok(Some(ev)) => self.cev.push(ev),
                Ok(None) => return,
                Err(e) => {
                    self.cerr = Some(e.kind());
                    return;
                }
            }
        }
    }

    fn drain_server(&mut self) {
        if self.serr.is_some() {
            return;
        }
        loop {
            let ev = match self.s.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return,
                Err(e) => {
                    self.slog.push(format!("error {:?}", e.kind()));
                    self.serr = Some(e.kind());
                    return;
                }
            };
            match ev {
                ServerEvent::DataChunk(b) => self.current.extend_from_slice(&b),
                ServerEvent::Mail(_) | ServerEvent::Rcpt(_) => {
                    self.slog
                        .push(format!("{ev:?}").split('(').next().unwrap_or_default().into());
                    match self
                        .refuse_mail
                        .take()
                        .filter(|_| matches!(ev, ServerEvent::Mail(_)))
                    {
                        Some(r) => self.s.reject(r).unwrap(),
                        None => self.s.accept().unwrap(),
                    }
                }
                ServerEvent::DataEnd => {
                    self.slog.push("DataEnd".into());
                    self.delivered.push(std::mem::take(&mut self.current));
                    self.s.accept().unwrap();
                }
                other => {
                    self.current.clear();
                    self.slog.push(format!("{other:?}"));
                }
            }
        }
    }

    /// Moves bytes both ways until nothing moves.
    fn run(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(out) = self.s.poll_transmit() {
                let out = out.to_vec();
                self.s2c.extend_from_slice(&out);
                self.c.handle_input(&out);
                self.s.advance_transmit(out.len());
                moved = true;
            }
            self.drain_client();
            while let Some(out) = self.c.poll_transmit() {
                let out = out.to_vec();
                self.c2s.extend_from_slice(&out);
                self.s.handle_input(&out);
                self.c.advance_transmit(out.len());
                moved = true;
            }
            self.drain_server();
            if !moved {
                return;
            }
        }
    }

    /// Runs until the client has reported `pred`.
    fn until(&mut self, pred: impl Fn(&ClientEvent) -> bool) {
        self.run();
        assert!(self.cev.iter().any(pred), "{}", self.dump());
    }

    fn c2s(&self) -> String {
        String::from_utf8_lossy(&self.c2s).into_owned()
    }

    fn dump(&self) -> String {
        format!(
            "C->S:\n{}\nS->C:\n{}\nclient: {:#?} {:?}\nserver: {:#?}",
            self.c2s(),
            String::from_utf8_lossy(&self.s2c),
            self.cev,
            self.cerr,
            self.slog
        )
    }
}

fn env(rcpts: &[&str]) -> Envelope {
    Envelope {
        from: "sender@example.test".into(),
        recipients: rcpts.iter().map(|r| Recipient::new(r)).collect(),
        ..Envelope::default()
    }
}

fn is_send_body(e: &ClientEvent) -> bool {
    matches!(e, ClientEvent::SendBody)
}

// ---- gap 1: the client gives up a message in its body ------------------

// RFC 5321 4.1.1.4 defines no way to end DATA but the end of mail data
// indicator, whose "receipt ... requires the server to process the stored
// mail transaction information"; 4.1.1.10: "If the connection is closed
// prematurely ... the server MUST cancel any pending transaction". So the
// only safe way out of a DATA body the application cannot finish is to
// close the connection, with no end-of-data marker sent.
#[test]
fn abort_message_in_data_closes_without_end_of_data() {
    for lmtp in [false, true] {
        let ccfg = ClientConfig {
            lmtp,
            ..ClientConfig::default()
        };
        let scfg = ServerConfig {
            lmtp,
            chunking: false,
            ..ServerConfig::default()
        };
        let mut w = Wire::new(ccfg, scfg);
        w.until(|e| matches!(e, ClientEvent::Ready));
        w.c.send_mail(env(&["a@example.test", "b@example.test"]), w.now)
            .unwrap();
        w.until(is_send_body);
        w.c.send_data(b"Subject: x\r\n\r\nfirst line\r\n").unwrap();
        // A line over Limits::text_line is refused: the application is stuck.
        let long = vec![b'x'; 2000];
        assert!(w.c.send_data(&long).is_err());
        // It gives the message up.
        w.c.abort_message(w.now).unwrap();
        let start = w.cev.len();
        w.run();
        let after = &w.cev[start..];
        assert!(
            matches!(after, [ClientEvent::TransactionFailed(r)] if !r.is_positive()),
            "{}",
            w.dump()
        );
        assert_eq!(w.cerr, Some(ErrorKind::MessageAbandoned), "{}", w.dump());
        assert!(w.c.is_closed());
        assert!(w.c.poll_transmit().is_none());
        // No end of data ever left the client, and nothing after DATA but body.
        let body_start = w.c2s().find("DATA\r\n").unwrap() + 6;
        assert!(!w.c2s()[body_start - 2..].contains("\r\n.\r\n"), "{}", w.dump());
        assert!(!w.c2s().contains("QUIT"), "{}", w.dump());
        // The server, seeing the connection close, drops the message.
        w.s.handle_eof();
        w.drain_server();
        assert!(w.delivered.is_empty());
        assert_eq!(w.serr, Some(ErrorKind::Eof), "{}", w.dump());
        // Further calls are refused, not panics.
        assert!(w.c.abort_message(w.now).is_err());
        assert!(w.c.send_data(b"x").is_err());
    }
}

// RFC 3030 2: "the RSET command, when issued after the first BDAT and
// before the BDAT LAST, clears all segments sent during that transaction
// and resets the session". Between chunks the client can give the message
// up in band: no further BDAT, RSET, and the session goes on.
#[test]
fn abort_message_in_bdat_resets_and_goes_on() {
    for lmtp in [false, true] {
        let ccfg = ClientConfig {
            chunking: true,
            lmtp,
            ..ClientConfig::default()
        };
        let scfg = ServerConfig {
            lmtp,
            ..ServerConfig::default()
        };
        let mut w = Wire::new(ccfg, scfg);
        w.until(|e| matches!(e, ClientEvent::Ready));
        w.c.send_mail(env(&["a@example.test", "b@example.test"]), w.now)
            .unwrap();
        w.until(is_send_body);
        w.c.send_data(b"Subject: x\r\n\r\nfirst line\r\n").unwrap();
        assert!(w.c.send_data(b"bare\nLF\r\n").is_err());
        // Given up with the first chunk's reply still due.
        w.c.abort_message(w.now).unwrap();
        let start = w.cev.len();
        w.run();
        assert!(
            matches!(&w.cev[start..], [ClientEvent::TransactionFailed(r)] if !r.is_positive()),
            "{}",
            w.dump()
        );
        assert_eq!(w.cerr, None, "{}", w.dump());
        assert!(!w.c2s().contains("LAST"), "{}", w.dump());
        assert!(w.c2s().ends_with("RSET\r\n"), "{}", w.dump());
        assert!(w.slog.iter().any(|l| l == "Reset"), "{}", w.dump());
        assert!(w.delivered.is_empty());
        // The next message goes through on the same connection.
        assert!(w.c.is_ready(), "{}", w.dump());
        w.c.send_mail(env(&["a@example.test"]), w.now).unwrap();
        w.until(is_send_body);
        let n = w.cev.iter().filter(|e| is_send_body(e)).count();
        assert_eq!(n, 2, "{}", w.dump());
        w.c.send_data(b"second\r\n").unwrap();
        w.c.finish_data().unwrap();
        w.until(|e| matches!(e, ClientEvent::MessageResult(_)));
        assert_eq!(w.delivered, vec![b"second\r\n".to_vec()], "{}", w.dump());
        w.c.quit(w.now).unwrap();
        w.until(|e| matches!(e, ClientEvent::Closed));
        assert_eq!((w.cerr, w.serr), (None, None), "{}", w.dump());
    }
}

// RFC 5321 4.3.1 (without PIPELINING the client waits for each reply) and
// RFC 3030 2 ("the BDAT command ... the client MUST wait for the server's
// reply before sending the next BDAT" when PIPELINING is not offered): a
// BINARYMIME message given up while its chunk's reply is due sends RSET only
// once that reply is in; a server that refuses unsynchronised pipelining
// would otherwise drop the connection.
#[test]
fn abort_message_in_bdat_without_pipelining_waits_for_the_chunk_reply() {
    let ccfg = ClientConfig::default();
    let scfg = ServerConfig {
        pipelining: false,
        ..ServerConfig::default()
    };
    let mut w = Wire::new(ccfg, scfg);
    w.until(|e| matches!(e, ClientEvent::Ready));
    let mut e = env(&["a@example.test"]);
    e.body = Some(BodyType::BinaryMime);
    w.c.send_mail(e, w.now).unwrap();
    w.until(is_send_body);
    w.c.send_data(b"\x00\x01binary").unwrap();
    w.c.abort_message(w.now).unwrap();
    // Nothing but the chunk is on its way yet.
    let queued = String::from_utf8_lossy(w.c.poll_transmit().unwrap()).into_owned();
    assert!(!queued.contains("RSET"), "{queued:?}");
    w.run();
    assert_eq!((w.cerr, w.serr), (None, None), "{}", w.dump());
    assert!(w.c2s().ends_with("RSET\r\n"), "{}", w.dump());
    assert!(
        w.cev
            .iter()
            .any(|e| matches!(e, ClientEvent::TransactionFailed(r) if !r.is_positive()))
    );
    assert!(w.c.is_ready(), "{}", w.dump());
    w.c.quit(w.now).unwrap();
    w.until(|e| matches!(e, ClientEvent::Closed));
}

#[test]
fn abort_message_outside_a_body_is_refused() {
    let mut w = Wire::new(ClientConfig::default(), ServerConfig::default());
    assert!(w.c.abort_message(w.now).is_err());
    w.until(|e| matches!(e, ClientEvent::Ready));
    assert!(w.c.abort_message(w.now).is_err());
    assert!(w.c.is_ready());
}

// ---- gap 2: server-side refusals the application can give ---------------

/// Feeds `line` to `s` and returns what it answered.
fn exchange(s: &mut ServerSession, line: &str) -> String {
    s.handle_input(line.as_bytes());
    while let Ok(Some(ev)) = s.poll_event() {
        if matches!(ev, ServerEvent::Mail(_) | ServerEvent::Rcpt(_)) {
            s.accept().unwrap();
        }
    }
    String::from_utf8_lossy(&proto_core::drain_transmit(s)).into_owned()
}

// RFC 5321 3.1: "a 554 response MAY be given in the initial connection
// opening message instead of the 220. A server taking this approach MUST
// still wait for the client to send a QUIT (see Section 4.1.1.10) before
// closing the connection and SHOULD respond to any intervening commands
// with "503 bad sequence of commands"."
#[test]
fn refused_service_greets_554_and_answers_503_until_quit() {
    let now = Instant::now();
    let cfg = ServerConfig {
        hostname: "mx.example.test".into(),
        refuse_service: Some("No SMTP service here for 192.0.2.1".into()),
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, now);
    let greeting = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert_eq!(
        greeting,
        "554 mx.example.test No SMTP service here for 192.0.2.1\r\n"
    );
    for cmd in [
        "EHLO client.example.test\r\n",
        "HELO client.example.test\r\n",
        "MAIL FROM:<a@example.test>\r\n",
        "RCPT TO:<b@example.test>\r\n",
        "DATA\r\n",
        "STARTTLS\r\n",
        "AUTH PLAIN AGFAYg==\r\n",
        "NOOP\r\n",
        "RSET\r\n",
        "garbage\r\n",
    ] {
        let out = exchange(&mut s, cmd);
        assert!(out.starts_with("503 "), "{cmd:?} -> {out:?}");
        assert!(!s.is_closed(), "{cmd:?}");
    }
    // A BDAT chunk is read and dropped, never taken as commands.
    let out = exchange(&mut s, "BDAT 6\r\nQUIT\r\n");
    assert!(out.starts_with("503 ") && !s.is_closed(), "{out:?}");
    // However many commands come before QUIT: the 503s are the answer the
    // RFC asks for, not bad commands that use up Limits::errors.
    for _ in 0..50 {
        let out = exchange(&mut s, "NOOP\r\n");
        assert!(out.starts_with("503 ") && !s.is_closed(), "{out:?}");
    }
    let out = exchange(&mut s, "QUIT\r\n");
    assert!(out.starts_with("221 "), "{out:?}");
    assert!(s.is_closed());
}

// The client side of RFC 5321 3.1: it says QUIT and fails with
// ServiceClosing; the server never sees anything else.
#[test]
fn client_against_a_refusing_server_only_quits() {
    let scfg = ServerConfig {
        refuse_service: Some("Blocked".into()),
        ..ServerConfig::default()
    };
    let mut w = Wire::new(ClientConfig::default(), scfg);
    w.run();
    assert_eq!(w.c2s(), "QUIT\r\n", "{}", w.dump());
    assert_eq!(w.cerr, Some(ErrorKind::ServiceClosing), "{}", w.dump());
    assert_eq!(w.slog, vec!["Quit".to_string()], "{}", w.dump());
    assert!(w.c.is_closed() && w.s.is_closed());
}

// RFC 3207 4: "454 TLS not available due to temporary reason" ... "If the
// client receives the 454 response, the client must decide whether or not
// to continue the SMTP session."
#[test]
fn starttls_can_be_answered_454_by_the_application() {
    let now = Instant::now();
    let cfg = ServerConfig {
        starttls: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg.clone(), now);
    let _ = proto_core::drain_transmit(&mut s);
    let busy = smtp_proto::Reply::new(
        454,
        Some(smtp_proto::EnhancedCode(4, 7, 0)),
        "TLS not available due to temporary reason",
    );
    // Only a 4yz reply that leaves the session open says "not now".
    for bad in [
        smtp_proto::Reply::new(220, None, "go"),
        smtp_proto::Reply::new(554, None, "never"),
        smtp_proto::Reply::new(421, None, "bye"),
        smtp_proto::Reply::new(454, None, "a\r\nb"),
    ] {
        assert!(s.set_starttls_unavailable(Some(bad)).is_err());
    }
    s.set_starttls_unavailable(Some(busy.clone())).unwrap();
    let ehlo = exchange(&mut s, "EHLO c.example.test\r\n");
    assert!(ehlo.contains("STARTTLS"), "{ehlo:?}");
    let out = exchange(&mut s, "STARTTLS\r\n");
    assert_eq!(out, "454 4.7.0 TLS not available due to temporary reason\r\n");
    assert!(!s.is_tls() && !s.is_closed());
    // The session goes on in plaintext.
    let out = exchange(&mut s, "MAIL FROM:<a@example.test>\r\n");
    assert!(out.starts_with("250 "), "{out:?}");
    let out = exchange(&mut s, "RSET\r\n");
    assert!(out.starts_with("250 "), "{out:?}");
    // Lifted: STARTTLS works again.
    s.set_starttls_unavailable(None).unwrap();
    let out = exchange(&mut s, "STARTTLS\r\n");
    assert!(out.starts_with("220 "), "{out:?}");

    // An opportunistic client carries on without TLS.
    let mut w = Wire::new(ClientConfig::default(), cfg);
    w.s.set_starttls_unavailable(Some(busy)).unwrap();
    w.until(|e| matches!(e, ClientEvent::Ready));
    assert!(w.c2s().contains("STARTTLS\r\n") && !w.c.is_tls(), "{}", w.dump());
}

// RFC 5321 3.8: the server may close "After detecting the need to shut down
// the SMTP service and returning a 421 response code. This response code can
// be issued after the server receives any command or, if necessary,
// asynchronously from command receipt (on the assumption that the client
// will receive it after the next command is issued)."
#[test]
fn the_application_can_shut_down_at_any_time_with_421() {
    let now = Instant::now();
    // Idle between commands.
    let mut s = ServerSession::new(ServerConfig::default(), now);
    let _ = exchange(&mut s, "EHLO c.example.test\r\n");
    s.shutdown(None).unwrap();
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert!(out.starts_with("421 4.3.2 "), "{out:?}");
    assert_eq!(s.poll_event().unwrap_err().kind(), ErrorKind::ServiceClosing);
    assert!(s.is_closed());
    assert!(s.poll_event().unwrap().is_none());
    assert!(s.shutdown(None).is_err());

    // With a decision pending and replies held back: those go first, the
    // 421 answers the pending command, and the rest is not read.
    let mut s = ServerSession::new(ServerConfig::default(), now);
    let _ = exchange(&mut s, "EHLO c.example.test\r\n");
    s.handle_input(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Mail(_))));
    s.accept().unwrap();
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Rcpt(_))));
    let custom = smtp_proto::Reply::new(
        421,
        Some(smtp_proto::EnhancedCode(4, 3, 2)),
        "mx.example.test Going down for maintenance",
    );
    assert!(
        s.shutdown(Some(&smtp_proto::Reply::new(450, None, "no")))
            .is_err()
    );
    s.shutdown(Some(&custom)).unwrap();
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert_eq!(
        out,
        "250 2.1.0 Sender OK\r\n421 4.3.2 mx.example.test Going down for maintenance\r\n"
    );
    assert_eq!(s.poll_event().unwrap_err().kind(), ErrorKind::ServiceClosing);
    assert!(s.accept().is_err());

    // Before a delayed greeting: the 421 is the greeting.
    let cfg = ServerConfig {
        greeting_delay: Some(std::time::Duration::from_secs(5)),
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, now);
    s.shutdown(None).unwrap();
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert!(out.starts_with("421 "), "{out:?}");
    assert!(s.poll_timeout().is_none());

    // During the TLS handshake nothing can be written in plaintext.
    let cfg = ServerConfig {
        starttls: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, now);
    let _ = exchange(&mut s, "EHLO c.example.test\r\n");
    let _ = exchange(&mut s, "STARTTLS\r\n");
    s.shutdown(None).unwrap();
    assert!(s.poll_transmit().is_none());
    assert!(s.is_closed());

    // A client in the middle of a body sees the 421 and fails.
    let mut w = Wire::new(
        ClientConfig::default(),
        ServerConfig {
            chunking: false,
            ..ServerConfig::default()
        },
    );
    w.until(|e| matches!(e, ClientEvent::Ready));
    w.c.send_mail(env(&["a@example.test"]), w.now).unwrap();
    w.until(is_send_body);
    w.c.send_data(b"Subject: x\r\n\r\n").unwrap();
    w.run();
    w.s.shutdown(None).unwrap();
    w.run();
    assert_eq!(w.cerr, Some(ErrorKind::ServiceClosing), "{}", w.dump());
    assert!(w.delivered.is_empty());
}

// ---- gap 3: EHLO capabilities round trip ---------------------------------

use bytes::Bytes;
use proptest::prelude::*;
use smtp_proto::{Capabilities, EhloKeyword, Extension, Reply};

fn caps_of(text: &[u8]) -> Capabilities {
    let (r, _) = Reply::parse(text).unwrap().unwrap();
    Capabilities::from_reply(&r)
}

/// parse(encode(x)) for capabilities: through the reply's wire form.
fn reparse(c: &Capabilities) -> Option<Capabilities> {
    let r = c.to_reply().ok()?;
    let wire = r.to_vec().expect("to_reply gives a reply that encodes");
    Some(caps_of(&wire))
}

// RFC 5321 4.1.1.1: "ehlo-line = ehlo-keyword *( SP ehlo-param )",
// "ehlo-param = 1*(%d33-126) ; any CHAR excluding <SP> and all control
// characters (US-ASCII 0-31 and 127 inclusive)". A parameter with a space
// would come back as two; an empty one, or a keyword outside the grammar,
// not at all.
#[test]
fn capabilities_that_cannot_be_written_are_refused() {
    let ext = |k: &'static [u8], p: &[&'static [u8]]| Capabilities {
        greeting: Bytes::from_static(b"mx.example.test"),
        extensions: vec![Extension {
            keyword: EhloKeyword::from_bytes(k),
            params: p.iter().map(|p| Bytes::from_static(p)).collect(),
        }],
    };
    for bad in [
        ext(b"X-VENDOR", &[b"two words"]),
        ext(b"X-VENDOR", &[b""]),
        ext(b"AUTH", &[b"PLAIN", b"LO\tGIN"]),
        ext(b"SIZE", &[b"10\x7f"]),
        ext(b"SIZE", &[b"caf\xc3\xa9"]),
        ext(b"SIZE", &[b"1\r\n250 PIPELINING"]),
    ] {
        assert!(bad.to_reply().is_err(), "{bad:?}");
    }
    let other = |k: &'static [u8]| Capabilities {
        greeting: Bytes::new(),
        extensions: vec![Extension {
            keyword: EhloKeyword::Other(Bytes::from_static(k)),
            params: vec![],
        }],
    };
    // Not an ehlo-keyword, or a known keyword that would come back typed.
    for k in [
        &b""[..],
        b"-X",
        b"X Y",
        b"AUTH=PLAIN",
        b"X_Y",
        b"size",
        b"Pipelining",
    ] {
        assert!(other(k).to_reply().is_err(), "{k:?}");
    }
    // A greeting that would be read back as an enhanced status code.
    let mut c = ext(b"SIZE", &[b"100"]);
    c.greeting = Bytes::from_static(b"2.0.0 mx.example.test");
    assert!(c.to_reply().is_err());
    // What can be written comes back equal.
    let good = ext(b"X-VENDOR", &[b"a=b", b"!~"]);
    assert_eq!(reparse(&good), Some(good));
}

// The same, from the parsing side: what a server sent, read, written and
// read again, is what was read.
#[test]
fn parsed_capabilities_round_trip() {
    for text in [
        &b"250-mx.example.test hello\r\n250-AUTH PLAIN LOGIN  CRAM-MD5\r\n250-SIZE 1000\r\n250 X-A b c=d e\r\n"[..],
        b"250-mx\r\n250-AUTH=LOGIN PLAIN\r\n250 AUTH=\r\n",
        b"250-mx\r\n250-auth=login\r\n250 8bitmime\r\n",
        b"250-2.0.0 mx\r\n250-2.0.0 SIZE 5\r\n250 2.0.0 DSN\r\n",
        b"250-\r\n250  PIPELINING \r\n",
        b"250 mx.example.test\r\n",
    ] {
        let c = caps_of(text);
        assert_eq!(reparse(&c).as_ref(), Some(&c), "{}", String::from_utf8_lossy(text));
    }
    // The legacy "AUTH=" form with nothing after it announces no mechanism.
    assert!(caps_of(b"250-mx\r\n250 AUTH=\r\n").auth_mechanisms().is_empty());
    // Keywords are not case-sensitive (RFC 5321 2.4), the legacy form included.
    assert_eq!(
        caps_of(b"250-mx\r\n250 auth=login\r\n").auth_mechanisms(),
        vec![&b"login"[..]]
    );
}

fn any_bytes() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        proptest::collection::vec(33u8..=126, 0..6),
        proptest::collection::vec(any::<u8>(), 0..6),
        proptest::collection::vec(prop_oneof![Just(b' '), Just(b'-'), Just(b'='), 65u8..=70], 0..6),
    ]
    .prop_map(Bytes::from)
}

fn any_keyword() -> impl Strategy<Value = EhloKeyword> {
    prop_oneof![
        any_bytes().prop_map(|b| EhloKeyword::from_bytes(&b)),
        any_bytes().prop_map(EhloKeyword::Other),
        Just(EhloKeyword::Auth),
        Just(EhloKeyword::Size),
    ]
}

proptest! {
    // parse(encode(x)) == x for every capability list the encoder takes.
    #[test]
    fn capabilities_round_trip(
        greeting in any_bytes(),
        exts in proptest::collection::vec(
            (any_keyword(), proptest::collection::vec(any_bytes(), 0..4)),
            0..5,
        ),
    ) {
        let c = Capabilities {
            greeting,
            extensions: exts
                .into_iter()
                .map(|(keyword, params)| Extension { keyword, params })
                .collect(),
        };
        if let Ok(r) = c.to_reply() {
            let wire = r.to_vec().expect("to_reply gives a reply that encodes");
            prop_assert_eq!(caps_of(&wire), c);
        }
    }
}

// ---- gap 4: the AUTH= parameter without the AUTH extension --------------

// RFC 5321 4.1.1.2 and 4.1.1.3: "The client MUST NOT transmit parameters
// other than those associated with a service extension offered by the
// server in its EHLO response"; 4.1.1.11: "If the server SMTP does not
// recognize or cannot implement one or more of the parameters associated
// with a particular MAIL FROM or RCPT TO command, it will return code 555."
// RFC 4954 5 ties AUTH= to the extension: "servers that advertise support
// for this extension MUST support the AUTH parameter". The session answers
// an unannounced DSN, SMTPUTF8, 8BITMIME, REQUIRETLS or MT-PRIORITY
// parameter with 555 5.5.4; AUTH= is the same.
#[test]
fn auth_parameter_needs_the_auth_extension() {
    let now = Instant::now();
    let mail = "MAIL FROM:<a@example.test> AUTH=<>\r\n";
    // No AUTH configured at all.
    let mut s = ServerSession::new(ServerConfig::default(), now);
    let _ = proto_core::drain_transmit(&mut s);
    let ehlo = exchange(&mut s, "EHLO c.example.test\r\n");
    assert!(!ehlo.contains("AUTH"), "{ehlo:?}");
    let out = exchange(&mut s, mail);
    assert!(out.starts_with("555 5.5.4 "), "{out:?}");
    // Like the other parameters of extensions not offered.
    let out = exchange(&mut s, "MAIL FROM:<a@example.test> MT-PRIORITY=3\r\n");
    assert!(out.starts_with("555 5.5.4 "), "{out:?}");

    // AUTH configured, but no mechanism may run before TLS: not announced.
    let cfg = ServerConfig {
        auth_mechanisms: vec!["PLAIN".into()],
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg.clone(), now);
    let _ = proto_core::drain_transmit(&mut s);
    let ehlo = exchange(&mut s, "EHLO c.example.test\r\n");
    assert!(!ehlo.contains("AUTH"), "{ehlo:?}");
    let out = exchange(&mut s, mail);
    assert!(out.starts_with("555 5.5.4 "), "{out:?}");

    // Announced: taken, from an unauthenticated client too (RFC 4954 5).
    let cfg = ServerConfig {
        allow_plaintext_auth: true,
        ..cfg
    };
    let mut s = ServerSession::new(cfg, now);
    let _ = proto_core::drain_transmit(&mut s);
    let ehlo = exchange(&mut s, "EHLO c.example.test\r\n");
    assert!(ehlo.contains("AUTH PLAIN"), "{ehlo:?}");
    let out = exchange(&mut s, mail);
    assert!(out.starts_with("250 "), "{out:?}");
    let _ = exchange(&mut s, "RSET\r\n");
    // After AUTH (which a later EHLO no longer announces) it is still taken.
    s.handle_input(b"AUTH PLAIN AHUAcA==\r\n");
    while let Ok(Some(ev)) = s.poll_event() {
        if matches!(ev, ServerEvent::AuthStart { .. }) {
            s.auth_finish(smtp_proto::AuthOutcome::Success).unwrap();
        }
    }
    assert!(s.is_authenticated());
    let _ = proto_core::drain_transmit(&mut s);
    let _ = exchange(&mut s, "EHLO c.example.test\r\n");
    let out = exchange(&mut s, "MAIL FROM:<a@example.test> AUTH=a+40example.test\r\n");
    assert!(out.starts_with("250 "), "{out:?}");
}

// Giving a message up, in every mix of pipelining, chunking, LMTP and
// BINARYMIME, at every point of its body: no end of data ever goes out for
// it, nothing of it is delivered, and with BDAT the next message on the same
// connection arrives whole.
#[test]
fn abort_message_in_every_configuration() {
    for cpipe in [true, false] {
        for spipe in [true, false] {
            for chunking in [true, false] {
                for lmtp in [false, true] {
                    for binary in [false, true] {
                        for pieces in 0..3 {
                            abort_case(cpipe, spipe, chunking, lmtp, binary, pieces);
                        }
                    }
                }
            }
        }
    }
}

fn abort_case(cpipe: bool, spipe: bool, chunking: bool, lmtp: bool, binary: bool, pieces: usize) {
    let ccfg = ClientConfig {
        pipelining: cpipe,
        chunking,
        lmtp,
        ..ClientConfig::default()
    };
    let scfg = ServerConfig {
        pipelining: spipe,
        lmtp,
        ..ServerConfig::default()
    };
    let mut w = Wire::new(ccfg, scfg);
    let label = format!(
        "cpipe={cpipe} spipe={spipe} chunking={chunking} lmtp={lmtp} binary={binary} pieces={pieces}"
    );
    w.until(|e| matches!(e, ClientEvent::Ready));
    let mut e = env(&["a@example.test", "b@example.test"]);
    if binary {
        e.body = Some(BodyType::BinaryMime);
    }
    w.c.send_mail(e.clone(), w.now).unwrap();
    w.until(is_send_body);
    for i in 0..pieces {
        w.c.send_data(format!("line {i}\r\n").as_bytes()).unwrap();
        if i == 1 {
            w.run();
        }
    }
    w.c.abort_message(w.now).unwrap();
    w.run();
    let failed = w
        .cev
        .iter()
        .filter(|e| matches!(e, ClientEvent::TransactionFailed(_)))
        .count();
    assert_eq!(failed, 1, "{label}\n{}", w.dump());
    assert!(w.delivered.is_empty(), "{label}\n{}", w.dump());
    assert!(!w.c2s().contains("LAST"), "{label}\n{}", w.dump());
    // The client uses BDAT for BINARYMIME, or when it may pipeline chunks
    // (an LMTP server always offers PIPELINING).
    let bdat = binary || (chunking && cpipe && (spipe || lmtp));
    if !bdat {
        assert!(!w.c2s().contains("\r\n.\r\n"), "{label}\n{}", w.dump());
        assert_eq!(w.cerr, Some(ErrorKind::MessageAbandoned), "{label}\n{}", w.dump());
        return;
    }
    assert_eq!((w.cerr, w.serr), (None, None), "{label}\n{}", w.dump());
    assert!(w.c.is_ready(), "{label}\n{}", w.dump());
    w.c.send_mail(e, w.now).unwrap();
    w.run();
    let bodies = w.cev.iter().filter(|e| is_send_body(e)).count();
    assert_eq!(bodies, 2, "{label}\n{}", w.dump());
    w.c.send_data(b"second\r\n").unwrap();
    w.c.finish_data().unwrap();
    w.until(|e| matches!(e, ClientEvent::MessageResult(_)));
    assert_eq!(w.delivered, vec![b"second\r\n".to_vec()], "{label}\n{}", w.dump());
    w.c.quit(w.now).unwrap();
    w.until(|e| matches!(e, ClientEvent::Closed));
    assert_eq!((w.cerr, w.serr), (None, None), "{label}\n{}", w.dump());
}

// ---- pairing under random decisions, aborts and shutdowns ----------------

/// One message of a [`chaos`] run: recipients, body lines, and after how
/// many lines the client gives it up (if at all).
#[derive(Debug, Clone)]
struct ChaosMsg {
    rcpts: usize,
    lines: Vec<Vec<u8>>,
    abort_after: Option<usize>,
}

fn chaos_msg() -> impl Strategy<Value = ChaosMsg> {
    let line = prop_oneof![
        Just(b".".to_vec()),
        Just(b"..".to_vec()),
        Just(b"".to_vec()),
        proptest::collection::vec(prop_oneof![Just(b'.'), Just(b'a'), Just(b' ')], 0..5),
    ];
    (
        1usize..4,
        proptest::collection::vec(line, 0..6),
        proptest::option::of(0usize..6),
    )
        .prop_map(|(rcpts, lines, abort_after)| ChaosMsg {
            rcpts,
            lines,
            abort_after,
        })
}

#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn chaos(
    (cpipe, spipe, chunking, lmtp): (bool, bool, bool, bool),
    (starttls, tls_busy, auth, max_buffer): (bool, bool, bool, usize),
    msgs: &[ChaosMsg],
    decisions: &[u8],
    seed: u32,
    max_chunk: usize,
    shutdown_at: Option<usize>,
) -> Result<(), String> {
    let now = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig {
            pipelining: cpipe,
            chunking,
            lmtp,
            credentials: auth.then(|| sasl::Credentials {
                username: "user".into(),
                password: Some(proto_core::Secret::new("pass".into())),
                ..sasl::Credentials::default()
            }),
            allow_plaintext_auth: true,
            max_buffer,
            ..ClientConfig::default()
        },
        now,
    );
    let mut s = ServerSession::new(
        ServerConfig {
            pipelining: spipe,
            lmtp,
            starttls,
            auth_mechanisms: if auth && !lmtp {
                vec!["PLAIN".into()]
            } else {
                Vec::new()
            },
            allow_plaintext_auth: true,
            ..ServerConfig::default()
        },
        now,
    );
    if tls_busy {
        s.set_starttls_unavailable(Some(Reply::new(454, None, "busy")))
            .map_err(|e| format!("{e:?}"))?;
    }
    // Each body starts with its message number, so bodies are told apart.
    let bodies: Vec<Vec<u8>> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut b = format!("Id: {i}\r\n").into_bytes();
            for l in &m.lines {
                b.extend_from_slice(l);
                b.extend_from_slice(b"\r\n");
            }
            b
        })
        .collect();
    let mut next_msg = 0;
    let mut in_flight: std::collections::VecDeque<usize> = Default::default();
    let mut sending: Option<(usize, usize)> = None; // (message, lines sent)
    let mut piece_off = 0; // how much of the current line the client took
    let mut outcome: Vec<Option<bool>> = vec![None; msgs.len()];
    let mut quit_asked = false;
    let mut cerr: Option<ErrorKind> = None;
    let mut serr: Option<ErrorKind> = None;
    let mut delivered: Vec<Vec<u8>> = Vec::new();
    let mut current = Vec::new();
    let mut decision = 0usize;
    let mut eof_told = false;
    let mut rng = seed | 1;
    let mut size = || {
        rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        ((rng >> 16) as usize) % max_chunk + 1
    };
    let mut log = Vec::new();
    for step in 0..20_000 {
        if shutdown_at == Some(step) && !s.is_closed() {
            s.shutdown(None).map_err(|e| format!("shutdown: {e:?}"))?;
        }
        let mut moved = 0;
        if let Some(out) = s.poll_transmit() {
            let n = out.len().min(size());
            c.handle_input(&out[..n]);
            s.advance_transmit(n);
            moved += n;
        }
        if s.is_closed() && s.poll_transmit().is_none() {
            c.handle_eof();
        }
        // The client application.
        while cerr.is_none() {
            if let Some((m, sent)) = sending {
                let msg = &msgs[m];
                if msg.abort_after == Some(sent) {
                    c.abort_message(now).map_err(|e| format!("abort: {e:?}"))?;
                    sending = None;
                    piece_off = 0;
                } else if sent < msg.lines.len() + 1 {
                    let piece: Vec<u8> = if sent == 0 {
                        format!("Id: {m}\r\n").into_bytes()
                    } else {
                        [&msg.lines[sent - 1][..], b"\r\n"].concat()
                    };
                    // Backpressure: the client may take part of a piece, or
                    // nothing until its buffer drains.
                    match c.send_data(&piece[piece_off..]) {
                        Ok(n) if piece_off + n == piece.len() => {
                            piece_off = 0;
                            sending = Some((m, sent + 1));
                            continue;
                        }
                        Ok(0) => {}
                        Ok(n) => {
                            piece_off += n;
                            continue;
                        }
                        Err(e) => return Err(format!("send_data: {e:?}")),
                    }
                } else {
                    c.finish_data().map_err(|e| format!("finish_data: {e:?}"))?;
                    sending = None;
                }
            }
            if in_flight.is_empty() && c.is_ready() {
                if next_msg < msgs.len() {
                    let m = next_msg;
                    next_msg += 1;
                    let rcpts = (0..msgs[m].rcpts)
                        .map(|i| format!("r{i}@example.test"))
                        .collect::<Vec<_>>();
                    let refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
                    let mut e = env(&refs);
                    e.auth = Some("sender@example.test".into());
                    c.send_mail(e, now).map_err(|e| format!("send_mail: {e:?}"))?;
                    in_flight.push_back(m);
                } else if !quit_asked {
                    quit_asked = true;
                    c.quit(now).map_err(|e| format!("quit: {e:?}"))?;
                }
            }
            let ev = match c.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    cerr = Some(e.kind());
                    break;
                }
            };
            log.push(format!("C {ev:?}"));
            match ev {
                ClientEvent::StartTls => c.tls_established(now).map_err(|e| format!("{e:?}"))?,
                ClientEvent::SendBody => {
                    let m = *in_flight.front().ok_or("SendBody without a message")?;
                    sending = Some((m, 0));
                }
                ClientEvent::MessageResult(r) => {
                    let m = in_flight.pop_front().ok_or("result without a message")?;
                    outcome[m] = Some(r.iter().any(smtp_proto::Reply::is_positive));
                }
                ClientEvent::TransactionFailed(_) => {
                    let m = in_flight.pop_front().ok_or("failure without a message")?;
                    outcome[m] = Some(false);
                    sending = None;
                    piece_off = 0;
                }
                _ => {}
            }
        }
        if let Some(out) = c.poll_transmit() {
            let n = out.len().min(size());
            s.handle_input(&out[..n]);
            c.advance_transmit(n);
            moved += n;
        }
        if c.is_closed() && c.poll_transmit().is_none() && !eof_told {
            eof_told = true;
            s.handle_eof();
        }
        // The server application.
        while serr.is_none() {
            let ev = match s.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    serr = Some(e.kind());
                    break;
                }
            };
            let mut decide = || {
                let d = decisions
                    .get(decision % decisions.len().max(1))
                    .copied()
                    .unwrap_or(0);
                decision += 1;
                match d {
                    0..=33 => None,
                    34..=36 => Some(Reply::new(550, None, "no")),
                    37 | 38 => Some(Reply::new(451, None, "later")),
                    _ => Some(Reply::new(421, None, "bye")),
                }
            };
            match ev {
                ServerEvent::DataChunk(b) => current.extend_from_slice(&b),
                ServerEvent::StartTls => {
                    log.push("S StartTls".into());
                    s.tls_established(now).map_err(|e| format!("{e:?}"))?;
                }
                ServerEvent::AuthStart {
                    initial_response: Some(ir),
                    ..
                }
                | ServerEvent::AuthResponse(ir) => {
                    log.push("S Auth".into());
                    let ok = ir.expose().as_slice() == b"\0user\0pass";
                    s.auth_finish(if ok {
                        smtp_proto::AuthOutcome::Success
                    } else {
                        smtp_proto::AuthOutcome::Failure(None)
                    })
                    .map_err(|e| format!("{e:?}"))?;
                }
                ServerEvent::AuthStart { .. } => {
                    s.auth_challenge(b"").map_err(|e| format!("{e:?}"))?;
                }
                ServerEvent::Mail(_) | ServerEvent::Rcpt(_) => {
                    log.push(format!("S {ev:?}"));
                    match decide() {
                        None => s.accept().unwrap(),
                        Some(r) => s.reject(r).unwrap(),
                    }
                }
                ServerEvent::DataEnd => {
                    let body = std::mem::take(&mut current);
                    log.push(format!("S DataEnd {:?}", String::from_utf8_lossy(&body)));
                    match decide() {
                        None => {
                            if lmtp {
                                let n = s.accepted_recipients();
                                s.lmtp_replies(&vec![Reply::new(250, None, "ok"); n]).unwrap();
                            } else {
                                s.accept().unwrap();
                            }
                            delivered.push(body);
                        }
                        Some(r) if lmtp => {
                            let n = s.accepted_recipients();
                            s.lmtp_replies(&vec![r; n]).unwrap();
                        }
                        Some(r) => s.reject(r).unwrap(),
                    }
                }
                other => {
                    log.push(format!("S {other:?}"));
                    current.clear();
                }
            }
        }
        if moved == 0 && c.poll_transmit().is_none() && s.poll_transmit().is_none() {
            break;
        }
    }
    let ctx = || format!("{log:#?}\ncerr {cerr:?} serr {serr:?}");
    if !(c.is_closed() && s.is_closed()) {
        return Err(format!("not both closed\n{}", ctx()));
    }
    for body in &delivered {
        let m = bodies
            .iter()
            .position(|b| b == body)
            .ok_or_else(|| format!("delivered a body never sent: {body:?}\n{}", ctx()))?;
        if msgs[m].abort_after.is_some_and(|a| a <= msgs[m].lines.len()) {
            return Err(format!("delivered an abandoned message {m}\n{}", ctx()));
        }
        if outcome[m] != Some(true) {
            return Err(format!(
                "message {m} delivered, client told {:?}\n{}",
                outcome[m],
                ctx()
            ));
        }
    }
    for (m, o) in outcome.iter().enumerate() {
        if *o == Some(true) && !delivered.contains(&bodies[m]) {
            return Err(format!(
                "client told message {m} delivered, server has not\n{}",
                ctx()
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn pairing_under_random_decisions_aborts_and_shutdowns(
        cfg in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        extras in (any::<bool>(), any::<bool>(), any::<bool>(), prop_oneof![Just(5usize), Just(24), Just(65536)]),
        msgs in proptest::collection::vec(chaos_msg(), 1..4),
        decisions in proptest::collection::vec(0u8..40, 1..12),
        seed in any::<u32>(),
        max_chunk in 1usize..64,
        shutdown_at in proptest::option::weighted(0.2, 0usize..300),
    ) {
        let r = chaos(cfg, extras, &msgs, &decisions, seed, max_chunk, shutdown_at);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

// ---- review: pipelined envelopes behind a refused MAIL -------------------

// RFC 2920 3.1: "the commands RSET, MAIL FROM, SEND FROM, SOML FROM, SAML
// FROM, and RCPT TO can all appear anywhere in a pipelined command group",
// and 3.2 (9): the server "MUST NOT flush or otherwise lose the contents of
// the TCP input buffer under any circumstances whatsoever". A client that
// pipelines a large envelope did nothing wrong when its MAIL is refused (a
// greylisting 451, say): the 503s its RCPTs then get must not count as bad
// commands and close the connection with 421 "Too many errors".
#[test]
fn a_refused_mail_with_a_large_pipelined_envelope_does_not_close_the_session() {
    let mut w = Wire::new(ClientConfig::default(), ServerConfig::default());
    w.until(|e| matches!(e, ClientEvent::Ready));
    w.refuse_mail = Some(smtp_proto::Reply::new(
        451,
        Some(smtp_proto::EnhancedCode(4, 7, 1)),
        "Greylisted, try again later",
    ));
    let rcpts: Vec<String> = (0..40).map(|i| format!("r{i}@example.test")).collect();
    let refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    w.c.send_mail(env(&refs), w.now).unwrap();
    w.run();
    assert!(
        w.cev
            .iter()
            .any(|e| matches!(e, ClientEvent::TransactionFailed(r) if r.code() == 451)),
        "{}",
        w.dump()
    );
    assert_eq!((w.cerr, w.serr), (None, None), "{}", w.dump());
    // The connection goes on: the next message is delivered.
    assert!(w.c.is_ready(), "{}", w.dump());
    w.c.send_mail(env(&refs), w.now).unwrap();
    w.until(is_send_body);
    w.c.send_data(b"hello\r\n").unwrap();
    w.c.finish_data().unwrap();
    w.until(|e| matches!(e, ClientEvent::MessageResult(_)));
    assert_eq!(w.delivered, vec![b"hello\r\n".to_vec()], "{}", w.dump());
}

// RFC 2920 3.2: a server that offers PIPELINING "(5) MUST NOT buffer
// responses to EHLO, DATA, VRFY, EXPN, TURN, QUIT, and NOOP" and "(6) MUST
// NOT buffer responses to unrecognized commands". The reply goes out at
// once, also when it is an error and more input follows, and not only once
// the application has decided on a later command.
#[test]
fn replies_to_unrecognized_commands_and_sync_points_are_not_held_back() {
    let now = Instant::now();
    let mut s = ServerSession::new(ServerConfig::default(), now);
    let _ = proto_core::drain_transmit(&mut s);
    let _ = exchange(&mut s, "EHLO c.example.test\r\n");
    s.handle_input(b"XFOO\r\nMAIL FROM:<a@example.test>\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Mail(_))));
    // The application takes its time over MAIL; the 500 is already out.
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert_eq!(out, "500 5.5.2 Command unrecognized\r\n");
    s.accept().unwrap();
    assert!(s.poll_event().unwrap().is_none());
    let _ = proto_core::drain_transmit(&mut s);
    // A syntax error in one of those commands is a response to it too.
    s.handle_input(b"RSET\r\nDATA now\r\nMAIL FROM:<a@example.test>\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Reset)));
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Mail(_))));
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert_eq!(
        out,
        "250 2.0.0 Ok\r\n501 5.5.4 Syntax error in parameters or arguments\r\n"
    );

    // A refused DATA with more input behind it (a server that lets
    // unsynchronised pipelining through).
    let cfg = ServerConfig {
        reject_unsync_pipelining: false,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, now);
    let _ = proto_core::drain_transmit(&mut s);
    let _ = exchange(&mut s, "EHLO c.example.test\r\n");
    s.handle_input(b"DATA\r\nMAIL FROM:<a@example.test>\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Mail(_))));
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert_eq!(out, "503 5.5.1 Need MAIL command\r\n");
    // And an EHLO refused by an LMTP server.
    let cfg = ServerConfig {
        lmtp: true,
        reject_unsync_pipelining: false,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, now);
    let _ = proto_core::drain_transmit(&mut s);
    let _ = exchange(&mut s, "LHLO c.example.test\r\n");
    s.handle_input(b"EHLO c.example.test\r\nMAIL FROM:<a@example.test>\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Mail(_))));
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert!(out.starts_with("500 "), "{out:?}");
}

// RFC 2920 3.2: the server "(7) MUST send all pending responses immediately
// whenever the local TCP input buffer is emptied". The reply to a MAIL
// already decided does not wait for the application's decision on the RCPT
// that was the last command read.
#[test]
fn held_replies_go_out_when_the_input_is_used_up() {
    let now = Instant::now();
    let mut s = ServerSession::new(ServerConfig::default(), now);
    let _ = proto_core::drain_transmit(&mut s);
    let _ = exchange(&mut s, "EHLO c.example.test\r\n");
    s.handle_input(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Mail(_))));
    // Input remains: the reply may wait for the group (RFC 2920 3.2 (2)).
    s.accept().unwrap();
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Rcpt(_))));
    // The RCPT was the last command: the input is used up.
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert_eq!(out, "250 2.1.0 Sender OK\r\n");
    s.accept().unwrap();
    assert!(s.poll_event().unwrap().is_none());
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert_eq!(out, "250 2.1.5 Recipient OK\r\n");
}

// ---- the connection fails in a transaction ---------------------------------

/// A client past MAIL (accepted) in a transaction for one recipient, RCPT
/// outstanding.
fn client_in_transaction(t0: Instant) -> ClientSession {
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n250 mx\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    c.send_mail(env(&["a@example.test"]), t0).unwrap();
    c.handle_input(b"250 ok\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    c
}

// RFC 5321 3.8: "SMTP clients that experience a connection close, reset, or
// other communications failure due to circumstances not under their control
// ... SHOULD, to maintain the robustness of the mail system, treat the mail
// transaction as if a 451 response had been received and act accordingly."
// The client reported only the fatal error, so an application tracking
// transactions by their result event never saw this one end.
#[test]
fn a_lost_connection_ends_the_transaction_as_a_451() {
    let mut c = client_in_transaction(Instant::now());
    c.handle_eof();
    assert!(matches!(
        c.poll_event(),
        Ok(Some(ClientEvent::TransactionFailed(r))) if r.code() == 451
    ));
    assert_eq!(c.poll_event().map_err(|e| e.kind()), Err(ErrorKind::Eof));
}

// RFC 5321 3.8 as above; 4.2.2 "421 <domain> Service not available, closing
// transmission channel": the server's own 421 is the transaction's result.
#[test]
fn a_421_in_a_transaction_is_its_result() {
    let mut c = client_in_transaction(Instant::now());
    c.handle_input(b"421 4.3.2 mx shutting down\r\n");
    assert!(matches!(
        c.poll_event(),
        Ok(Some(ClientEvent::TransactionFailed(r))) if r.code() == 421
    ));
    assert_eq!(
        c.poll_event().map_err(|e| e.kind()),
        Err(ErrorKind::ServiceClosing)
    );
}

// Outside a transaction there is nothing to end: only the error.
#[test]
fn a_lost_connection_between_transactions_is_only_the_error() {
    let mut c = ClientSession::new(ClientConfig::default(), Instant::now());
    c.handle_input(b"220 mx\r\n250 mx\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    c.handle_eof();
    assert_eq!(c.poll_event().map_err(|e| e.kind()), Err(ErrorKind::Eof));
}
