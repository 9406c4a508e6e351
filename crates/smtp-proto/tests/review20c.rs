//! Review 20c: ClientSession against ServerSession in memory, whole
//! conversations with unusual but legal options, each side checked against
//! the RFC text.

use smtp_proto::{
    AuthOutcome, ClientConfig, ClientEvent, ClientSession, EnhancedCode, Envelope, Recipient, Reply,
    ServerConfig, ServerEvent, ServerSession,
};
use std::collections::VecDeque;
use std::time::Instant;

/// What the server application answers.
#[derive(Default)]
struct Script {
    /// Replies to MAIL, in order (`None`: accept); accept once empty.
    mail: VecDeque<Option<Reply>>,
    /// Replies to the end of data, in order (`None`: accept).
    data: VecDeque<Option<Reply>>,
    /// Leave the end of data undecided (the test decides).
    hold_data: bool,
}

/// A client and a server wired together, with full transcripts.
struct Pair {
    c: ClientSession,
    s: ServerSession,
    now: Instant,
    script: Script,
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
    /// Call `quit` right after the client event whose Debug text starts with this.
    quit_after: Option<&'static str>,
}

impl Pair {
    fn new(ccfg: ClientConfig, scfg: ServerConfig, script: Script, msgs: Vec<(Envelope, Vec<u8>)>) -> Self {
        let now = Instant::now();
        Pair {
            c: ClientSession::new(ccfg, now),
            s: ServerSession::new(scfg, now),
            now,
            script,
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
            quit_after: None,
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
            let text = format!("{ev:?}");
            self.clog.push(text.clone());
            if let Some(q) = self.quit_after
                && text.starts_with(q)
            {
                self.quit_after = None;
                self.queue.clear();
                let r = self.c.quit(self.now);
                self.clog.push(format!("quit -> {r:?}"));
                self.quit_asked = r.is_ok();
            }
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
                    match self.script.mail.pop_front().flatten() {
                        Some(r) => self.s.reject(r).unwrap(),
                        None => self.s.accept().unwrap(),
                    }
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
                    } else if line.contains("busy") {
                        self.s
                            .reject(Reply::new(452, Some(EnhancedCode(4, 2, 2)), "Mailbox full"))
                            .unwrap();
                    } else {
                        self.s.accept().unwrap();
                    }
                }
                ServerEvent::DataEnd if self.script.hold_data => {
                    self.slog.push("DataEnd held".into());
                }
                ServerEvent::DataEnd => {
                    let body = std::mem::take(&mut self.current);
                    match self.script.data.pop_front().flatten() {
                        Some(r) => {
                            self.slog.push(format!("DataEnd refused {}", r.code()));
                            if self.s.config().lmtp {
                                let n = self.s.accepted_recipients();
                                self.s.lmtp_replies(&vec![r; n]).unwrap();
                            } else {
                                self.s.reject(r).unwrap();
                            }
                        }
                        None => {
                            self.slog.push("DataEnd accepted".into());
                            self.delivered.push(body);
                            self.s.accept().unwrap();
                        }
                    }
                }
                ServerEvent::AuthStart { initial_response, .. } => {
                    self.slog.push("AuthStart".into());
                    match initial_response {
                        Some(ir) if ir.expose().as_slice() == b"\0user\0pass" => {
                            self.s.auth_finish(AuthOutcome::Success).unwrap();
                        }
                        Some(_) => self.s.auth_finish(AuthOutcome::Failure(None)).unwrap(),
                        None => self.s.auth_challenge(b"").unwrap(),
                    }
                }
                ServerEvent::AuthResponse(v) => {
                    let ok = v.expose().as_slice() == b"\0user\0pass";
                    self.s
                        .auth_finish(if ok {
                            AuthOutcome::Success
                        } else {
                            AuthOutcome::Failure(None)
                        })
                        .unwrap();
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

    /// The final replies the client reported, one code per message.
    fn results(&self) -> Vec<String> {
        self.clog
            .iter()
            .filter(|l| l.starts_with("MessageResult") || l.starts_with("TransactionFailed"))
            .cloned()
            .collect()
    }
}

fn env(rcpts: &[&str]) -> Envelope {
    Envelope {
        from: "sender@example.test".into(),
        recipients: rcpts.iter().map(|r| Recipient::new(r)).collect(),
        ..Envelope::default()
    }
}

fn reply(code: u16, text: &str) -> Reply {
    let e = EnhancedCode((code / 100) as u8, 0, 0);
    Reply::new(code, Some(e), text)
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

/// Several messages on one connection, the second refused after its body:
/// the first and third are delivered and reported as such, the second is
/// reported refused, and nothing falls out of step.
#[test]
fn three_messages_with_a_refused_one_in_the_middle() {
    for (ccfg, scfg, what) in configs() {
        let script = Script {
            data: [None, Some(reply(554, "Spam")), None].into(),
            ..Script::default()
        };
        let msgs = vec![
            (env(&["a@example.test"]), b"one\r\n".to_vec()),
            (env(&["b@example.test"]), b"two\r\n".to_vec()),
            (env(&["c@example.test"]), b"three\r\n".to_vec()),
        ];
        let mut p = Pair::new(ccfg, scfg, script, msgs);
        p.run();
        check_clean(&p, &what);
        assert_eq!(
            p.delivered,
            vec![b"one\r\n".to_vec(), b"three\r\n".to_vec()],
            "{what}\n{}",
            p.dump()
        );
        let r = p.results();
        assert_eq!(r.len(), 3, "{what}\n{}", p.dump());
        assert!(
            r[0].contains("code: 250") && r[1].contains("code: 554") && r[2].contains("code: 250"),
            "{what}\n{}",
            p.dump()
        );
    }
}

/// Every recipient refused, then the next message goes through.
#[test]
fn all_recipients_refused_then_next_message() {
    for (ccfg, scfg, what) in configs() {
        let msgs = vec![
            (
                env(&["reject1@example.test", "reject2@example.test"]),
                b"lost\r\n".to_vec(),
            ),
            (env(&["busy@example.test"]), b"lost too\r\n".to_vec()),
            (
                env(&["ok@example.test", "reject@example.test"]),
                b"kept\r\n".to_vec(),
            ),
        ];
        let mut p = Pair::new(ccfg, scfg, Script::default(), msgs);
        p.run();
        check_clean(&p, &what);
        assert_eq!(p.delivered, vec![b"kept\r\n".to_vec()], "{what}\n{}", p.dump());
        let r = p.results();
        assert_eq!(r.len(), 3, "{what}\n{}", p.dump());
        assert!(
            r[0].starts_with("TransactionFailed") && r[1].starts_with("TransactionFailed"),
            "{what}\n{}",
            p.dump()
        );
        assert!(
            r[2].starts_with("MessageResult") && r[2].contains("code: 250"),
            "{what}\n{}",
            p.dump()
        );
    }
}

/// MAIL refused (530 authentication required), then a second message that
/// the server takes.
#[test]
fn mail_refused_530_then_next_message() {
    for (ccfg, scfg, what) in configs() {
        let script = Script {
            mail: [Some(reply(530, "Authentication required"))].into(),
            ..Script::default()
        };
        let msgs = vec![
            (env(&["a@example.test", "b@example.test"]), b"lost\r\n".to_vec()),
            (env(&["c@example.test"]), b"kept\r\n".to_vec()),
        ];
        let mut p = Pair::new(ccfg, scfg, script, msgs);
        p.run();
        check_clean(&p, &what);
        assert_eq!(p.delivered, vec![b"kept\r\n".to_vec()], "{what}\n{}", p.dump());
        let r = p.results();
        assert_eq!(r.len(), 2, "{what}\n{}", p.dump());
        assert!(
            r[0].starts_with("TransactionFailed") && r[0].contains("530"),
            "{what}\n{}",
            p.dump()
        );
    }
}

fn creds() -> sasl::Credentials {
    sasl::Credentials::with_password("user", "pass")
}

/// STARTTLS then AUTH (RFC 3207 4.2: EHLO again and the capabilities re-read;
/// RFC 4954 4: PLAIN only under TLS), then two messages.
#[test]
fn starttls_then_auth_then_messages() {
    for (mut ccfg, mut scfg, what) in configs() {
        if ccfg.lmtp {
            continue;
        }
        ccfg.credentials = Some(creds());
        ccfg.max_buffer = 16;
        scfg.starttls = true;
        scfg.auth_mechanisms = vec!["PLAIN".into(), "LOGIN".into()];
        let msgs = vec![
            (env(&["a@example.test"]), b"one\r\n.two\r\n".to_vec()),
            (env(&["b@example.test"]), b"three\r\n".to_vec()),
        ];
        let mut p = Pair::new(ccfg, scfg, Script::default(), msgs);
        p.run();
        check_clean(&p, &what);
        let c2s = p.c2s();
        let tls = c2s.find("STARTTLS\r\n").expect("STARTTLS");
        let auth = c2s.find("AUTH PLAIN").expect("AUTH");
        assert!(
            tls < auth && c2s[tls..auth].contains("EHLO"),
            "{what}\n{}",
            p.dump()
        );
        assert!(p.c.is_tls() && p.c.is_authenticated(), "{what}");
        assert_eq!(p.delivered.len(), 2, "{what}\n{}", p.dump());
    }
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
    let mut p = Pair::new(
        ClientConfig::default(),
        ServerConfig::default(),
        Script::default(),
        msgs,
    );
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

const MIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Both sides' timers while the server application takes 9 minutes over
/// the message (RFC 5321 4.5.3.2.6: the client waits 10 minutes for the
/// reply to the end of data; 4.5.3.2.7: the server's idle timeout is for
/// "awaiting the next command from the sender"), with the driver calling
/// `handle_timeout` whenever either side asks for it.
#[test]
fn slow_message_decision_times_out_neither_side() {
    for (ccfg, scfg, what) in configs() {
        let script = Script {
            hold_data: true,
            ..Script::default()
        };
        let msgs = vec![(env(&["a@example.test"]), b"body\r\n".to_vec())];
        let mut p = Pair::new(ccfg, scfg, script, msgs);
        p.run();
        assert!(
            p.slog.last().is_some_and(|l| l == "DataEnd held"),
            "{what}\n{}",
            p.dump()
        );
        let t0 = p.now;
        let decide_at = t0 + 9 * MIN;
        loop {
            let next = [p.c.poll_timeout(), p.s.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .filter(|&t| t < decide_at);
            let Some(t) = next else { break };
            p.c.handle_timeout(t);
            p.s.handle_timeout(t);
            p.run();
            assert_eq!(p.errors, (None, None), "{what} at {:?}\n{}", t - t0, p.dump());
        }
        p.now = decide_at;
        p.c.handle_timeout(decide_at);
        p.s.handle_timeout(decide_at);
        if p.s.config().lmtp {
            let n = p.s.accepted_recipients();
            p.s.lmtp_replies(&vec![reply(250, "ok"); n]).unwrap();
        } else {
            p.s.accept().unwrap();
        }
        p.run();
        check_clean(&p, &what);
        assert_eq!(p.results().len(), 1, "{what}\n{}", p.dump());
        assert!(p.results()[0].contains("code: 250"), "{what}\n{}", p.dump());
    }
}

#[test]
fn probe_binarymime() {
    for (mut ccfg, scfg, what) in configs() {
        ccfg.max_buffer = 8;
        let mut e = env(&["a@example.test", "reject@example.test"]);
        e.body = Some(smtp_proto::BodyType::BinaryMime);
        let body = b"\x00\x01\n.\r\n.\r\nQUIT\r\n\r\xff".to_vec();
        let msgs = vec![
            (e.clone(), body.clone()),
            (env(&["b@example.test"]), b"x\r\n".to_vec()),
            (e, body.clone()),
        ];
        let mut p = Pair::new(
            ccfg,
            scfg,
            Script {
                data: [None, Some(reply(554, "no")), None].into(),
                ..Script::default()
            },
            msgs,
        );
        p.run();
        check_clean(&p, &what);
        assert_eq!(
            p.delivered,
            vec![body.clone(), body.clone()],
            "{what}\n{}",
            p.dump()
        );
    }
}

#[test]
fn probe_quit_midway() {
    for q in [
        "MailResult",
        "RcptResult",
        "SendBody",
        "Ready",
        "MessageResult",
        "TransactionFailed",
    ] {
        for (ccfg, scfg, what) in configs() {
            let msgs = vec![
                (env(&["a@example.test", "b@example.test"]), b"one\r\n".to_vec()),
                (env(&["reject@example.test"]), b"two\r\n".to_vec()),
                (env(&["c@example.test"]), b"three\r\n".to_vec()),
            ];
            let mut p = Pair::new(ccfg, scfg, Script::default(), msgs);
            p.quit_after = Some(q);
            p.run();
            println!(
                "{q} {what}: delivered {} results {:?}",
                p.delivered.len(),
                p.results().len()
            );
            check_clean(&p, &format!("{q} {what}"));
        }
    }
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
        let mut p = Pair::new(ccfg, ServerConfig::default(), Script::default(), msgs);
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
        let mut p = Pair::new(ccfg, scfg, Script::default(), msgs);
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
