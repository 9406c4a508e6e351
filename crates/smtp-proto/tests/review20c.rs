//! Review 20c: ClientSession against ServerSession in memory, whole
//! conversations with unusual but legal options, each side checked against
//! the RFC text.

use smtp_proto::{
    AuthOutcome, ClientConfig, ClientEvent, ClientSession, EnhancedCode, Envelope, Recipient, Reply,
    ServerConfig, ServerEvent, ServerSession,
};
use std::collections::VecDeque;
use std::time::Instant;

mod common;

/// A client and a server wired together, with full transcripts. The server
/// application accepts every sender and message, and refuses a recipient
/// whose line holds "reject" (550) or "shutdown" (421).
/// The client application sends its messages one after another, then QUIT.
struct Pair {
    c: ClientSession,
    s: ServerSession,
    now: Instant,
    queue: VecDeque<(Envelope, Vec<u8>)>,
    sending: Option<Vec<u8>>,
    body: Option<(Vec<u8>, usize)>,
    quit_asked: bool,
    /// Client events.
    clog: Vec<String>,
    /// Server events (chunks merged into messages).
    slog: Vec<String>,
    /// Bodies the server application accepted.
    delivered: Vec<Vec<u8>>,
    current: Vec<u8>,
    /// Client to server bytes, server to client bytes.
    c2s: Vec<u8>,
    s2c: Vec<u8>,
    errors: (Option<smtp_proto::ErrorKind>, Option<smtp_proto::ErrorKind>),
    max_chunk: usize,
}

impl Pair {
    fn new(ccfg: ClientConfig, scfg: ServerConfig, msgs: Vec<(Envelope, Vec<u8>)>) -> Self {
        let now = Instant::now();
        Pair {
            c: ClientSession::new(ccfg, now),
            s: ServerSession::new(scfg, now),
            now,
            queue: msgs.into(),
            sending: None,
            body: None,
            quit_asked: false,
            clog: Vec::new(),
            slog: Vec::new(),
            delivered: Vec::new(),
            current: Vec::new(),
            c2s: Vec::new(),
            s2c: Vec::new(),
            errors: (None, None),
            max_chunk: 7,
        }
    }

    fn next_message(&mut self) {
        while let Some((env, body)) = self.queue.pop_front() {
            match self.c.send_mail(env, self.now) {
                Ok(()) => {
                    self.sending = Some(body);
                    return;
                }
                Err(e) => self.clog.push(format!("send_mail refused: {e:?}")),
            }
        }
        if !self.quit_asked && self.c.quit(self.now).is_ok() {
            self.quit_asked = true;
        }
    }

    fn drive_client(&mut self) {
        if self.errors.0.is_some() {
            return;
        }
        loop {
            self.pump_body();
            let ev = match self.c.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return,
                Err(e) => {
                    self.clog.push(format!("error {:?}", e.kind()));
                    self.errors.0 = Some(e.kind());
                    return;
                }
            };
            self.clog.push(format!("{ev:?}"));
            match ev {
                ClientEvent::Ready | ClientEvent::MessageResult(_) | ClientEvent::TransactionFailed(_) => {
                    self.next_message();
                }
                ClientEvent::StartTls => self.c.tls_established(self.now).unwrap(),
                ClientEvent::SendBody => {
                    self.body = Some((self.sending.take().unwrap_or_default(), 0));
                    self.pump_body();
                }
                _ => {}
            }
        }
    }

    /// Feeds the body as far as the client takes it, then ends it.
    fn pump_body(&mut self) {
        let Some((body, off)) = self.body.as_mut() else {
            return;
        };
        while *off < body.len() {
            match self.c.send_data(&body[*off..]) {
                Ok(0) => return,
                Ok(n) => *off += n,
                Err(e) => {
                    self.clog.push(format!("send_data refused: {e:?}"));
                    break;
                }
            }
        }
        self.body = None;
        if let Err(e) = self.c.finish_data() {
            self.clog.push(format!("finish_data refused: {e:?}"));
        }
    }

    fn drive_server(&mut self) {
        if self.errors.1.is_some() {
            return;
        }
        loop {
            let ev = match self.s.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return,
                Err(e) => {
                    self.slog.push(format!("error {:?}", e.kind()));
                    self.errors.1 = Some(e.kind());
                    return;
                }
            };
            match ev {
                ServerEvent::DataChunk(b) => self.current.extend_from_slice(&b),
                ServerEvent::Mail(_) => {
                    self.slog.push("Mail".into());
                    self.s.accept().unwrap();
                }
                ServerEvent::Rcpt(l) => {
                    let line = String::from_utf8_lossy(l.line()).into_owned();
                    self.slog.push(format!("Rcpt {line}"));
                    if line.contains("reject") {
                        self.s
                            .reject(Reply::new(550, Some(EnhancedCode(5, 1, 1)), "No such user"))
                            .unwrap();
                    } else if line.contains("shutdown") {
                        self.s
                            .reject(Reply::new(421, Some(EnhancedCode(4, 3, 2)), "Shutting down"))
                            .unwrap();
                    } else {
                        self.s.accept().unwrap();
                    }
                }
                ServerEvent::DataEnd => {
                    self.slog.push("DataEnd accepted".into());
                    self.delivered.push(std::mem::take(&mut self.current));
                    self.s.accept().unwrap();
                }
                ServerEvent::StartTls => {
                    self.slog.push("StartTls".into());
                    // The 220 goes out before the handshake.
                    let out = proto_core::drain_transmit(&mut self.s);
                    self.s2c.extend_from_slice(&out);
                    self.c.handle_input(&out);
                    self.s.tls_established(self.now).unwrap();
                }
                ServerEvent::DataStart | ServerEvent::Reset | ServerEvent::Helo { .. } => {
                    self.current.clear();
                    self.slog.push(format!("{ev:?}"));
                }
                other => {
                    self.current.clear();
                    self.slog.push(format!("{other:?}"));
                }
            }
        }
    }

    /// Runs both sides until nothing moves.
    fn run(&mut self) -> &mut Self {
        for _ in 0..10_000 {
            let mut moved = 0;
            while let Some(out) = self.s.poll_transmit() {
                let n = out.len().min(self.max_chunk);
                self.s2c.extend_from_slice(&out[..n]);
                self.c.handle_input(&out[..n]);
                self.s.advance_transmit(n);
                moved += n;
                self.drive_client();
            }
            self.drive_client();
            while let Some(out) = self.c.poll_transmit() {
                let n = out.len().min(self.max_chunk);
                self.c2s.extend_from_slice(&out[..n]);
                self.s.handle_input(&out[..n]);
                self.c.advance_transmit(n);
                moved += n;
                self.drive_server();
            }
            self.drive_server();
            if moved == 0 && self.c.poll_transmit().is_none() && self.s.poll_transmit().is_none() {
                break;
            }
        }
        self
    }

    fn c2s(&self) -> String {
        String::from_utf8_lossy(&self.c2s).into_owned()
    }

    fn s2c(&self) -> String {
        String::from_utf8_lossy(&self.s2c).into_owned()
    }

    fn dump(&self) -> String {
        format!(
            "C->S:\n{}\nS->C:\n{}\nclient: {:#?}\nserver: {:#?}",
            self.c2s(),
            self.s2c(),
            self.clog,
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

/// Every mix of client/server pipelining and client chunking.
fn configs() -> Vec<(ClientConfig, ServerConfig, String)> {
    let mut v = Vec::new();
    for cpipe in [true, false] {
        for spipe in [true, false] {
            for chunking in [true, false] {
                for lmtp in [false, true] {
                    let c = ClientConfig {
                        pipelining: cpipe,
                        chunking,
                        lmtp,
                        ..ClientConfig::default()
                    };
                    let s = ServerConfig {
                        pipelining: spipe,
                        lmtp,
                        ..ServerConfig::default()
                    };
                    v.push((
                        c,
                        s,
                        format!("cpipe={cpipe} spipe={spipe} chunking={chunking} lmtp={lmtp}"),
                    ));
                }
            }
        }
    }
    v
}

fn check_clean(p: &Pair, what: &str) {
    assert_eq!(p.errors, (None, None), "{what}\n{}", p.dump());
    assert!(p.c.is_closed() && p.s.is_closed(), "{what}\n{}", p.dump());
    assert_eq!(
        p.clog.last().map(String::as_str),
        Some("Closed"),
        "{what}\n{}",
        p.dump()
    );
}

/// RFC 5321 3.8: "An SMTP server MUST NOT intentionally close the
/// connection under normal operational circumstances ... except: ... After
/// detecting the need to shut down the SMTP service and returning a 421
/// response code." and 4.2.2: "421 <domain> Service not available, closing
/// transmission channel". A 421 the application gives (here to the second
/// of three pipelined RCPTs) is that shutdown: the session must close after
/// it. It read on instead: it asked the application about the third RCPT
/// and answered the pipelined DATA with 354 after announcing the close.
#[test]
fn application_421_closes_the_server_session() {
    let msgs = vec![(
        env(&["a@example.test", "shutdown@example.test", "c@example.test"]),
        b"never\r\n".to_vec(),
    )];
    let mut p = Pair::new(ClientConfig::default(), ServerConfig::default(), msgs);
    p.max_chunk = 1000;
    p.run();
    assert_eq!(
        p.errors.0,
        Some(smtp_proto::ErrorKind::ServiceClosing),
        "{}",
        p.dump()
    );
    assert!(p.delivered.is_empty());
    let s2c = p.s2c();
    assert!(
        s2c.ends_with("421 4.3.2 Shutting down\r\n"),
        "nothing after the 421\n{}",
        p.dump()
    );
    assert!(
        !p.slog.iter().any(|l| l.contains("c@example.test")),
        "{}",
        p.dump()
    );
    assert!(p.s.is_closed(), "{}", p.dump());
    assert_eq!(p.errors.1, Some(smtp_proto::ErrorKind::ServiceClosing));

    // The same for a 421 ending an AUTH exchange and for LMTP replies: the
    // command pipelined behind is not answered.
    let t0 = Instant::now();
    let shutting = Reply::new(421, Some(EnhancedCode(4, 3, 2)), "Shutting down");
    let cfg = ServerConfig {
        auth_mechanisms: vec!["PLAIN".into()],
        allow_plaintext_auth: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    s.handle_input(b"EHLO c.test\r\n");
    while s.poll_event().unwrap().is_some() {}
    s.handle_input(b"AUTH PLAIN AHUAcA==\r\nNOOP\r\n");
    assert!(matches!(s.poll_event(), Ok(Some(ServerEvent::AuthStart { .. }))));
    s.auth_finish(AuthOutcome::Failure(Some(shutting.clone())))
        .unwrap();
    while let Ok(Some(_)) = s.poll_event() {}
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert!(out.ends_with("421 4.3.2 Shutting down\r\n"), "{out}");
    assert!(s.is_closed());

    let cfg = ServerConfig {
        lmtp: true,
        reject_unsync_pipelining: false,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, t0);
    s.handle_input(
        b"LHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nx\r\n.\r\nNOOP\r\n",
    );
    while let Ok(Some(ev)) = s.poll_event() {
        match ev {
            ServerEvent::Mail(_) | ServerEvent::Rcpt(_) => s.accept().unwrap(),
            ServerEvent::DataEnd => s.lmtp_replies(std::slice::from_ref(&shutting)).unwrap(),
            _ => {}
        }
    }
    let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
    assert!(out.ends_with("421 4.3.2 Shutting down\r\n"), "{out}");
    assert!(s.is_closed());
}

/// RFC 6531 3.7.1: the client "MUST send only ASCII (LDH label or A-label
/// [RFC5890]) domains in the EHLO command"; RFC 5321 4.1.1.10: "The sender
/// MUST NOT intentionally close the transmission channel until it sends a
/// QUIT command". A `helo_name` with a U-label parsed, then the EHLO encoder
/// refused it after the greeting, and the session failed (`Closed`, "could
/// not encode a command") without a word to the server, while other unusable
/// names ("x y", "") are replaced by `localhost` and the mail goes through.
#[test]
fn non_ascii_helo_name_does_not_kill_the_session() {
    for name in ["b\u{fc}cher.example", "x y"] {
        let ccfg = ClientConfig {
            helo_name: name.into(),
            ..ClientConfig::default()
        };
        let msgs = vec![(env(&["a@example.test"]), b"x\r\n".to_vec())];
        let mut p = Pair::new(ccfg, ServerConfig::default(), msgs);
        p.run();
        check_clean(&p, name);
        assert!(p.c2s().starts_with("EHLO localhost\r\n"), "{name}\n{}", p.dump());
        assert_eq!(p.delivered.len(), 1, "{name}\n{}", p.dump());
    }
}

/// RFC 5321 4.5.3.1.8: "A client that needs to deliver a message containing
/// over 100 RCPT commands SHOULD be prepared to transmit in 100-recipient
/// "chunks" if the server declines to accept more than 100 recipients";
/// 4.5.3.1.10: "If an SMTP server has an implementation limit on the number
/// of RCPT commands and this limit is exhausted, it MUST use a response code
/// of 452", and the client retransmits "those addresses that received 452
/// responses" later. The server counted each 452 as a bad command, so the
/// 21st RCPT over the limit closed the connection with "421 Too many
/// errors": the message was not delivered to the 100 recipients the server
/// took, and a client retrying the same envelope met the same wall each time.
#[test]
fn recipients_over_the_limit_get_452_without_closing() {
    for (ccfg, scfg, what) in configs() {
        let names: Vec<String> = (0..130).map(|i| format!("r{i}@example.test")).collect();
        let rcpts: Vec<&str> = names.iter().map(String::as_str).collect();
        let msgs = vec![
            (env(&rcpts), b"many\r\n".to_vec()),
            (env(&rcpts[100..]), b"rest\r\n".to_vec()),
        ];
        let mut p = Pair::new(ccfg, scfg, msgs);
        p.max_chunk = 4096;
        p.run();
        check_clean(&p, &what);
        assert_eq!(
            p.delivered,
            vec![b"many\r\n".to_vec(), b"rest\r\n".to_vec()],
            "{what}"
        );
        let full = p.clog.iter().filter(|l| l.contains("code: 452")).count();
        assert_eq!(full, 30, "{what}");
    }
}

/// RFC 5321 4.5.3.2: "An SMTP client MUST provide a timeout mechanism",
/// with a timer per command, and the session's own promise (its `rearm`):
/// "a timeout never fires early". Without PIPELINING, a QUIT asked for
/// while the RSET after a refused recipient is outstanding goes out when
/// RSET's reply comes in. Its timer restarted from the last time the session
/// had been told (the running timer's restart just after RSET went out), so
/// with RSET answered in time (4:58) QUIT's deadline came 3 seconds after it
/// was sent and the session failed with `Timeout` instead of reading the 221.
#[test]
fn deferred_quit_gets_a_full_timeout() {
    let s = std::time::Duration::from_secs(1);
    let min = 60 * s;
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    let mut now = t0;
    // Calls handle_timeout at every deadline up to `t`, as a driver does.
    let advance = |c: &mut ClientSession, now: &mut Instant, t: Instant| {
        while let Some(at) = c.poll_timeout().filter(|&at| at <= t) {
            c.handle_timeout(at);
            *now = at;
            if c.is_closed() {
                return;
            }
        }
        *now = t;
    };
    let events = common::client_events;
    c.handle_input(b"220 mx\r\n250 mx\r\n");
    assert_eq!(events(&mut c), ["Ready"]);
    c.send_mail(env(&["a@example.test"]), now).unwrap();
    c.handle_input(b"250 ok\r\n");
    events(&mut c);
    // The RCPT is refused just before the running timer's deadline: RSET
    // goes out, and QUIT is asked for behind it.
    advance(&mut c, &mut now, t0 + 5 * min - s);
    c.handle_input(b"550 no\r\n");
    events(&mut c);
    let out = proto_core::drain_transmit(&mut c);
    assert!(out.ends_with(b"RSET\r\n"), "{}", String::from_utf8_lossy(&out));
    let rset_sent = now;
    c.quit(now).unwrap();
    // RSET's reply comes in time (4:58 after RSET), and QUIT goes out.
    advance(&mut c, &mut now, rset_sent + 5 * min - 2 * s);
    assert!(!c.is_closed());
    c.handle_input(b"250 reset\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(proto_core::drain_transmit(&mut c), b"QUIT\r\n");
    let quit_sent = now;
    // QUIT gets its five minutes too.
    advance(&mut c, &mut now, quit_sent + 5 * min - s);
    assert!(
        !c.is_closed(),
        "QUIT timed out {:?} after it was sent",
        now - quit_sent
    );
    c.handle_input(b"221 bye\r\n");
    assert_eq!(events(&mut c), ["Closed"]);
}

/// RFC 5321 4.5.3.2: "An SMTP client MUST provide a timeout mechanism. It
/// MUST use per-command timeouts". Without PIPELINING each BDAT waits for its
/// reply before the next chunk (RFC 3030 2), and `send_data` takes nothing
/// meanwhile. The data-block timer, which lets the application pause between
/// `send_data` calls, also covered that wait: a server that never answered
/// the chunk kept the session waiting for ever (here over 8 hours of
/// deadlines), although the session, not the application, was waiting.
#[test]
fn unanswered_bdat_chunk_times_out() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250-CHUNKING\r\n250 BINARYMIME\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    let mut e = env(&["a@example.test"]);
    e.body = Some(smtp_proto::BodyType::BinaryMime);
    c.send_mail(e, t0).unwrap();
    c.handle_input(b"250 ok\r\n");
    while let Ok(Some(_)) = c.poll_event() {}
    c.handle_input(b"250 ok\r\n");
    let mut evs = Vec::new();
    while let Ok(Some(ev)) = c.poll_event() {
        evs.push(ev);
    }
    assert_eq!(evs.last(), Some(&ClientEvent::SendBody));
    assert_eq!(c.send_data(b"\x00\x01binary"), Ok(8));
    let out = proto_core::drain_transmit(&mut c);
    assert!(out.ends_with(b"BDAT 8\r\n\x00\x01binary"));
    // The reply to BDAT never comes; the application keeps offering data.
    let mut now = t0;
    for _ in 0..100 {
        let Some(at) = c.poll_timeout() else { break };
        now = at;
        c.handle_timeout(at);
        assert_eq!(
            c.send_data(b"more"),
            if c.is_closed() {
                Err(smtp_proto::UsageError::WrongState)
            } else {
                Ok(0)
            }
        );
        if c.is_closed() {
            break;
        }
    }
    assert!(c.is_closed(), "still waiting after {:?}", now - t0);
    assert!(
        now - t0 <= std::time::Duration::from_secs(20 * 60),
        "{:?}",
        now - t0
    );
    // RFC 5321 3.8: the transaction in progress ends as if with a 451.
    assert!(matches!(
        c.poll_event(),
        Ok(Some(ClientEvent::TransactionFailed(r))) if r.code() == 451
    ));
    assert_eq!(
        c.poll_event().map_err(|e| e.kind()),
        Err(smtp_proto::ErrorKind::Timeout)
    );
}
