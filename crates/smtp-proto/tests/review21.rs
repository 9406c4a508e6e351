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
                    self.s.accept().unwrap();
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
