//! Reference checks and small in-memory drivers behind the fuzz targets, the
//! corpus replay test and the client-versus-server property tests.
//!
//! Each `fn(&[u8])` check panics when an invariant breaks. They are shared by
//! `fuzz/fuzz_targets/smtp_*.rs` and `tests/fuzz_replay.rs`, so stable CI runs
//! every stored input through the same code as the fuzzer.

use crate::client::{ClientConfig, ClientEvent, ClientSession, Envelope, Recipient};
use crate::command::Command;
use crate::reply::Reply;
use crate::server::{AuthOutcome, ServerConfig, ServerEvent, ServerSession};
use bytes::BytesMut;
use std::time::Instant;

/// Deterministic chunk sizes (1 to `max`) derived from `seed`.
#[must_use]
pub fn chunks(seed: u32, input: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut s = seed | 1;
    while !rest.is_empty() {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (((s >> 16) as usize) % max.max(1) + 1).min(rest.len());
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
    }
    out
}

fn plan(data: &[u8]) -> (u32, &[u8]) {
    match data.split_first() {
        Some((&seed, rest)) => (u32::from(seed), rest),
        None => (0, &[]),
    }
}

/// Command parser oracle: a parsed line re-encodes, and the encoding parses
/// back to the same command; parsing never panics.
pub fn command_parser(data: &[u8]) {
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(cmd) = Command::parse(line) else { continue };
        let mut out = BytesMut::new();
        if cmd.encode(&mut out).is_ok() {
            assert!(out.ends_with(b"\r\n"));
            let body = &out[..out.len() - 2];
            assert!(
                !body.contains(&b'\r') && !body.contains(&b'\n'),
                "encoder emitted a line break"
            );
            // Verbs are matched in full: the encoding starts with the verb that was parsed.
            let verb = |l: &[u8]| {
                l.split(|&b| b == b' ')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase()
            };
            assert_eq!(verb(line), verb(body), "verb not matched in full");
            let again = Command::parse(body).expect("encoded command must parse");
            assert_eq!(again, cmd, "parse(encode(x)) != x");
        } else {
            assert!(out.is_empty(), "failed encoder left bytes behind");
        }
    }
}

/// Reply parser oracle: a parsed reply re-encodes and parses back equal, and
/// the parse does not depend on how much input follows it. The encoder may
/// refuse two kinds of parsed reply: one whose first line, without enhanced
/// code, starts like a code with leading zeros (`250 2.01.0 Ok`: text to
/// this parser, RFC 3463 2, a code to a lenient one), and one whose text
/// holds a control character, which the parser keeps but the encoder never
/// writes (RFC 5321 4.2 `textstring`, [`crate::check_reply_text`]).
pub fn reply_parser(data: &[u8]) {
    let Ok(Some((r, used))) = Reply::parse(data) else {
        return;
    };
    assert!(used <= data.len());
    assert_eq!(Reply::parse(&data[..used]), Ok(Some((r.clone(), used))));
    let Ok(enc) = r.to_vec() else {
        let lookalike = r.enhanced().is_none()
            && r.lines()
                .first()
                .and_then(|l| crate::reply::EnhancedCode::prefix(l, false))
                .is_some_and(|(e, _)| u16::from(e.0) == r.code() / 100);
        let control = r.lines().iter().any(|l| crate::check_reply_text(l).is_err());
        assert!(lookalike || control, "a parsed reply encodes");
        return;
    };
    let (again, n) = Reply::parse(&enc)
        .expect("encoded reply parses")
        .expect("complete");
    assert_eq!(n, enc.len());
    assert_eq!(again, r, "parse(encode(x)) != x");
}

/// A scripted application for a [`ServerSession`]: accepts senders, accepts
/// recipients unless their line contains "reject", accepts messages, and runs
/// a toy PLAIN check (`\0user\0pass`). Records what it saw.
#[derive(Debug, Default)]
pub struct ServerApp {
    /// Messages received completely, in order.
    pub messages: Vec<Vec<u8>>,
    current: Vec<u8>,
    /// A textual log of events (data chunks merged) for comparisons.
    pub log: Vec<String>,
    /// STARTTLS events answered by calling `tls_established` at once.
    pub auto_tls: bool,
}

impl ServerApp {
    /// An app that answers STARTTLS by calling `tls_established` at once.
    #[must_use]
    pub fn with_auto_tls() -> Self {
        ServerApp {
            auto_tls: true,
            ..ServerApp::default()
        }
    }

    /// Drains events of `s`, deciding as described above.
    ///
    /// # Errors
    ///
    /// The session's fatal error.
    pub fn drive(&mut self, s: &mut ServerSession, now: Instant) -> Result<(), crate::Error> {
        while let Some(ev) = s.poll_event()? {
            match ev {
                ServerEvent::DataChunk(b) => {
                    self.current.extend_from_slice(&b);
                    continue;
                }
                ServerEvent::Mail(_) | ServerEvent::Rcpt(_) => {
                    let reject =
                        matches!(&ev, ServerEvent::Rcpt(c) if c.line().windows(6).any(|w| w == b"reject"));
                    self.log.push(format!("{ev:?}"));
                    let r = if reject {
                        s.reject(Reply::new(
                            550,
                            Some(crate::EnhancedCode(5, 1, 1)),
                            "No such user",
                        ))
                    } else {
                        s.accept()
                    };
                    assert!(r.is_ok());
                }
                ServerEvent::DataEnd => {
                    self.log.push(format!("DataEnd({})", self.current.len()));
                    self.messages.push(std::mem::take(&mut self.current));
                    assert!(s.accept().is_ok());
                }
                // A transaction reset mid-BDAT (RSET, or EHLO) drops its partial body.
                ServerEvent::DataStart | ServerEvent::Reset | ServerEvent::Helo { .. }
                    if !self.current.is_empty() =>
                {
                    self.log.push(format!("{ev:?} drops {}", self.current.len()));
                    self.current.clear();
                }
                ServerEvent::DataAborted(r) => {
                    // How much of an aborted body was streamed before the
                    // refusal depends on how the input was split (the bytes
                    // before a bare CR/LF may already be out), so it is not logged.
                    self.log.push(format!("DataAborted({r:?})"));
                    self.current.clear();
                }
                ServerEvent::AuthStart { initial_response, .. } => {
                    self.log.push("AuthStart".into());
                    let r = match initial_response {
                        Some(ir) if ir.expose().as_slice() == b"\0user\0pass" => {
                            s.auth_finish(AuthOutcome::Success)
                        }
                        Some(_) => s.auth_finish(AuthOutcome::Failure(None)),
                        None => s.auth_challenge(b""),
                    };
                    assert!(r.is_ok());
                }
                ServerEvent::AuthResponse(v) => {
                    self.log.push("AuthResponse".into());
                    let ok = v.expose().as_slice() == b"\0user\0pass";
                    let r = s.auth_finish(if ok {
                        AuthOutcome::Success
                    } else {
                        AuthOutcome::Failure(None)
                    });
                    assert!(r.is_ok());
                }
                ServerEvent::StartTls => {
                    self.log.push("StartTls".into());
                    if self.auto_tls {
                        assert!(s.tls_established(now).is_ok());
                    }
                }
                other => self.log.push(format!("{other:?}")),
            }
        }
        Ok(())
    }
}

/// Runs a server over `pieces`, fed through `handle_input` (copying), or
/// through `handle_input_buf` when `owned` (the reads kept as they are).
fn server_run(cfg: &ServerConfig, pieces: &[&[u8]], owned: bool) -> (Vec<String>, Vec<u8>, Vec<Vec<u8>>) {
    let now = Instant::now();
    let mut s = ServerSession::new(cfg.clone(), now);
    let mut app = ServerApp::default();
    let mut out = Vec::new();
    let drain = |s: &mut ServerSession, out: &mut Vec<u8>| {
        while let Some(b) = s.poll_transmit() {
            let n = b.len();
            out.extend_from_slice(b);
            s.advance_transmit(n);
        }
    };
    for p in pieces {
        if owned {
            s.handle_input_buf(bytes::BytesMut::from(*p));
        } else {
            s.handle_input(p);
        }
        if let Err(e) = app.drive(&mut s, now) {
            app.log.push(format!("fatal {:?}", e.kind()));
        }
        drain(&mut s, &mut out);
    }
    s.handle_eof();
    if let Err(e) = app.drive(&mut s, now) {
        app.log.push(format!("fatal {:?}", e.kind()));
    }
    drain(&mut s, &mut out);
    (app.log, out, app.messages)
}

/// Server session oracle: arbitrary client bytes, fed whole and in random
/// pieces, copied in or handed over as owned buffers, give the same events,
/// the same replies and the same messages; every reply line is well formed;
/// nothing panics.
pub fn server_session(data: &[u8]) {
    let (seed, input) = plan(data);
    let cfg = ServerConfig {
        auth_mechanisms: vec!["PLAIN".into()],
        allow_plaintext_auth: true,
        reject_unsync_pipelining: false,
        limits: crate::Limits {
            message_size: 4096,
            ..crate::Limits::default()
        },
        ..ServerConfig::default()
    };
    let whole = server_run(&cfg, &[input], false);
    let split = server_run(&cfg, &chunks(seed, input, 17), false);
    assert_eq!(whole, split, "chunking changed the server's behaviour");
    let owned = server_run(&cfg, &chunks(seed, input, 17), true);
    assert_eq!(whole, owned, "handle_input_buf changed the server's behaviour");
    let mut rest = &whole.1[..];
    while !rest.is_empty() {
        match Reply::parse(rest) {
            Ok(Some((_, n))) => rest = &rest[n..],
            other => panic!("server sent a malformed reply: {other:?}"),
        }
    }
    // Also with the Postfix-style checks and STARTTLS on, and for half the
    // inputs with TLS required first: only must not panic.
    let strict = ServerConfig {
        starttls: true,
        reject_unsync_pipelining: true,
        require_tls: seed % 2 == 1,
        ..cfg
    };
    let _ = server_run(&strict, &chunks(seed, input, 7), false);
}

/// A scripted application for a [`ClientSession`]: sends the given messages
/// one after another, then QUIT.
#[derive(Debug)]
pub struct ClientApp {
    /// The messages still to send.
    pub queue: std::collections::VecDeque<(Envelope, Vec<u8>)>,
    waiting_body: Option<Vec<u8>>,
    sending: Option<(Vec<u8>, usize)>,
    /// Everything the client reported, for comparisons.
    pub log: Vec<String>,
    /// Final results received (one per message that reached the end of data).
    pub results: Vec<Vec<Reply>>,
    /// Whether QUIT was sent.
    pub quit_sent: bool,
}

impl ClientApp {
    /// An app that will send `messages`.
    #[must_use]
    pub fn new(messages: Vec<(Envelope, Vec<u8>)>) -> Self {
        ClientApp {
            queue: messages.into(),
            waiting_body: None,
            sending: None,
            log: Vec::new(),
            results: Vec::new(),
            quit_sent: false,
        }
    }

    fn next(&mut self, c: &mut ClientSession, now: Instant) {
        while let Some((env, body)) = self.queue.pop_front() {
            match c.send_mail(env, now) {
                Ok(()) => {
                    self.waiting_body = Some(body);
                    return;
                }
                Err(e) => self.log.push(format!("send_mail refused: {e:?}")),
            }
        }
        if !self.quit_sent && c.quit(now).is_ok() {
            self.quit_sent = true;
        }
    }

    /// Drains events of `c` and feeds it body bytes as far as it takes them.
    ///
    /// # Errors
    ///
    /// The session's fatal error.
    pub fn drive(&mut self, c: &mut ClientSession, now: Instant) -> Result<(), crate::Error> {
        loop {
            self.pump_body(c);
            let Some(ev) = c.poll_event()? else { break };
            self.log.push(format!("{ev:?}"));
            match ev {
                ClientEvent::Ready => self.next(c, now),
                ClientEvent::StartTls => {
                    let _ = c.tls_established(now);
                }
                ClientEvent::MessageResult(r) => {
                    self.results.push(r);
                    self.next(c, now);
                }
                ClientEvent::TransactionFailed(_) => {
                    self.waiting_body = None;
                    self.next(c, now);
                }
                ClientEvent::SendBody => {
                    self.sending = Some((self.waiting_body.take().unwrap_or_default(), 0));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn pump_body(&mut self, c: &mut ClientSession) {
        let Some((body, off)) = self.sending.as_mut() else {
            return;
        };
        while *off < body.len() {
            match c.send_data(&body[*off..]) {
                Ok(0) => return,
                Ok(n) => *off += n,
                Err(e) => {
                    self.log.push(format!("send_data refused: {e:?}"));
                    break;
                }
            }
        }
        if let Err(e) = c.finish_data() {
            self.log.push(format!("finish_data refused: {e:?}"));
        }
        self.sending = None;
    }
}

/// Outcome of [`run_pair`].
#[derive(Debug)]
pub struct PairRun {
    /// The client's application.
    pub client: ClientApp,
    /// The server's application.
    pub server: ServerApp,
    /// Fatal errors (client, server), if any.
    pub errors: (Option<crate::Error>, Option<crate::Error>),
}

/// Wires a client and a server together in memory and runs them until both
/// are quiet, moving bytes with [`proto_core::transfer`] in pieces whose
/// sizes come from `seed` (1 to `max_chunk` bytes).
#[must_use]
pub fn run_pair(
    ccfg: ClientConfig,
    scfg: ServerConfig,
    messages: Vec<(Envelope, Vec<u8>)>,
    seed: u32,
    max_chunk: usize,
) -> PairRun {
    let now = Instant::now();
    let mut c = ClientSession::new(ccfg, now);
    let mut s = ServerSession::new(scfg, now);
    let mut capp = ClientApp::new(messages);
    let mut sapp = ServerApp {
        auto_tls: true,
        ..ServerApp::default()
    };
    let mut errors = (None, None);
    let mut rng = seed | 1;
    let mut size = || {
        rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        ((rng >> 16) as usize) % max_chunk.max(1) + 1
    };
    for _ in 0..100_000 {
        let mut moved = 0;
        // One piece at a time each way, so pipelined bytes arrive split at random points.
        if let Some(out) = s.poll_transmit() {
            let n = out.len().min(size());
            c.handle_input(&out[..n]);
            s.advance_transmit(n);
            moved += n;
        }
        if errors.0.is_none()
            && let Err(e) = capp.drive(&mut c, now)
        {
            errors.0 = Some(e);
        }
        moved += proto_core::transfer(&mut c, &mut s, size());
        if errors.1.is_none()
            && let Err(e) = sapp.drive(&mut s, now)
        {
            errors.1 = Some(e);
        }
        if moved == 0 && c.poll_transmit().is_none() && s.poll_transmit().is_none() {
            break;
        }
    }
    PairRun {
        client: capp,
        server: sapp,
        errors,
    }
}

/// A few sample messages for [`client_session`].
fn sample_messages() -> Vec<(Envelope, Vec<u8>)> {
    let env = Envelope {
        from: "a@example.test".into(),
        recipients: vec![Recipient::new("b@example.test"), Recipient::new("c@example.test")],
        ..Envelope::default()
    };
    vec![(env, b"Subject: x\r\n\r\n.hi\r\n".to_vec())]
}

/// Client session oracle: arbitrary server bytes, whole or in pieces, give the
/// same client events and output; the client never emits a bare CR or LF.
pub fn client_session(data: &[u8]) {
    let (seed, input) = plan(data);
    // STARTTLS makes the outcome depend on when TLS completes, so the
    // invariance run has it off; a second run with it on must only be safe.
    let run = |pieces: &[&[u8]], tls: crate::TlsPolicy| {
        let now = Instant::now();
        let cfg = ClientConfig {
            tls,
            ..ClientConfig::default()
        };
        let mut c = ClientSession::new(cfg, now);
        let mut app = ClientApp::new(sample_messages());
        let mut out = Vec::new();
        for p in pieces {
            c.handle_input(p);
            if let Err(e) = app.drive(&mut c, now) {
                app.log.push(format!("fatal {:?}", e.kind()));
            }
            while let Some(b) = c.poll_transmit() {
                let n = b.len();
                out.extend_from_slice(b);
                c.advance_transmit(n);
            }
            if let Err(e) = app.drive(&mut c, now) {
                app.log.push(format!("fatal {:?}", e.kind()));
            }
        }
        (app.log, out)
    };
    let whole = run(&[input], crate::TlsPolicy::Disabled);
    let split = run(&chunks(seed, input, 13), crate::TlsPolicy::Disabled);
    assert_eq!(whole.0, split.0, "chunking changed the client's behaviour");
    assert_eq!(whole.1, split.1, "chunking changed the client's output");
    let with_tls = run(&chunks(seed, input, 5), crate::TlsPolicy::Opportunistic);
    for out in [&whole.1, &with_tls.1] {
        no_bare_line_endings(out);
    }
}

fn no_bare_line_endings(out: &[u8]) {
    for (i, &b) in out.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && out[i - 1] == b'\r', "client emitted a bare LF");
        }
        if b == b'\r' {
            assert_eq!(out.get(i + 1), Some(&b'\n'), "client emitted a bare CR");
        }
    }
}
