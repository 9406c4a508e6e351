//! SMTP, submission and LMTP connections: smtp-proto's `ServerSession`
//! driven over a socket, with the application's decisions (who may send,
//! who is local, relay or not, AUTH) and streaming delivery of the body into
//! every local Maildir and the relay spool at once.

use crate::Shared;
use crate::store::{Trace, return_path_field, trace_id, unix_now};
use examples::durable::Ticket;
use examples::maildir::Delivery;
use examples::net::{Conn, Read};
use examples::spool::{Envelope, SpoolWriter};
use sasl::{CredentialStore, Mechanism, ServerMechanism, ServerOptions, ServerStep};
use smtp_proto::{
    AuthOutcome, EnhancedCode, ForwardPath, HeloKind, Host, Mailbox, Notify, Reply, ReversePath,
    ServerConfig, ServerEvent, ServerSession, UsageError,
};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Which service a listener offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Port 25 style: anyone may deliver to local users; relaying needs AUTH.
    Mx,
    /// Submission with STARTTLS (RFC 6409): AUTH required for MAIL.
    Submission,
    /// Submission over implicit TLS (RFC 8314).
    Submissions,
    /// LMTP (RFC 2033): local recipients only, one reply per recipient.
    Lmtp,
}

impl Kind {
    fn needs_auth(self) -> bool {
        matches!(self, Kind::Submission | Kind::Submissions)
    }
}

/// SASL mechanisms offered: SCRAM-SHA-256 always, the plaintext ones
/// only under TLS (the session filters them before TLS).
pub(crate) const MECHANISMS: [&str; 3] = ["SCRAM-SHA-256", "PLAIN", "LOGIN"];

fn reply(code: u16, e: (u8, u16, u16), text: &str) -> Reply {
    Reply::new(code, Some(EnhancedCode(e.0, e.1, e.2)), text)
}

/// The temporary failure for a message that could not be stored: 452
/// 4.3.1 when the disk or a quota is full (RFC 5321 4.2.2: "insufficient
/// system storage"; RFC 3463 3.4: X.3.1 "Mail system full"), else 451
/// 4.3.0 "local error in processing".
fn storage_failure(e: &io::Error) -> Reply {
    if matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) {
        reply(452, (4, 3, 1), "Insufficient system storage, try again later")
    } else {
        reply(451, (4, 3, 0), "Local error in processing, try again later")
    }
}

/// A fixed reply of the same class as `code` (4yz or 5yz), for when the
/// one meant cannot be sent.
fn fixed_refusal(code: u16) -> Reply {
    if code < 500 {
        reply(451, (4, 3, 0), "Local error in processing, try again later")
    } else {
        reply(550, (5, 7, 1), "Request refused")
    }
}

/// Refuses the pending decision with `r`. smtp-proto refuses to send a reply
/// line over 512 octets or with CR, LF or NUL in its text (RFC 5321
/// 4.5.3.1.5) and keeps the decision pending then: a reply built from
/// client or configuration text (an address, a user name) falls back to a
/// fixed one of the same class, so the client is never left waiting.
fn reject(s: &mut ServerSession, r: Reply) {
    let code = r.code();
    if let Err(UsageError::BadArgument(why)) = s.reject(r) {
        tracing::warn!(code, why, "reply cannot be sent; a fixed one instead");
        let _ = s.reject(fixed_refusal(code));
    }
}

/// Accepts the pending decision with `r`, or with smtp-proto's plain 250
/// when `r` cannot be sent (see [`reject`]).
fn accept_with(s: &mut ServerSession, r: &Reply) {
    if let Err(UsageError::BadArgument(why)) = s.accept_with(r) {
        tracing::warn!(why, "reply cannot be sent; a plain 250 instead");
        let _ = s.accept();
    }
}

/// The per-recipient LMTP replies (RFC 2033 4.2), each that cannot be sent
/// replaced by a fixed one of its class (see [`reject`]).
fn lmtp_replies(s: &mut ServerSession, replies: Vec<Reply>) {
    let limit = smtp_proto::Limits::default().reply_line;
    let replies: Vec<Reply> = replies
        .into_iter()
        .map(|r| match r.check(limit) {
            Ok(()) => r,
            Err(_) if r.is_positive() => reply(250, (2, 1, 5), "Delivered"),
            Err(_) => fixed_refusal(r.code()),
        })
        .collect();
    if let Err(e) = s.lmtp_replies(&replies) {
        tracing::error!(error = %e, "LMTP replies refused");
    }
}

/// `local@domain` as it goes into an envelope: the local part as sent
/// (quoted if it was), the domain lower-cased.
pub(crate) fn mailbox_string(m: &Mailbox<'_>) -> String {
    let local = String::from_utf8_lossy(m.local_part);
    match m.domain {
        Host::Domain(d) => format!("{local}@{}", String::from_utf8_lossy(d).to_ascii_lowercase()),
        other => {
            let mut b = bytes::BytesMut::new();
            if other.write_to(&mut b).is_err() {
                return format!("{local}@invalid");
            }
            format!("{local}@{}", String::from_utf8_lossy(&b))
        }
    }
}

/// One accepted recipient.
#[derive(Debug)]
struct Rcpt {
    /// The forward path as given (for relaying).
    address: String,
    /// The local account, or `None` for a relayed recipient.
    local: Option<String>,
    /// NOTIFY= (RFC 3461).
    notify: Option<Notify>,
    /// ORCPT= (RFC 3461): address type and decoded address.
    orcpt: Option<(String, String)>,
}

impl Rcpt {
    fn new(address: String, local: Option<String>) -> Self {
        Rcpt {
            address,
            local,
            notify: None,
            orcpt: None,
        }
    }
}

/// How much of a message's header section is quoted in the reports written
/// as it is received, and held back (to add Date and Message-ID). One byte
/// more is kept of a longer one: it tells whether a field that ends
/// exactly at the bound is whole (see [`crate::dsn::Context::cut`]).
const HEAD_MAX: usize = 64 * 1024;

/// Open outputs of a message being received.
#[derive(Debug, Default)]
struct Sink {
    /// One Maildir delivery per distinct local account.
    locals: Vec<(String, Delivery)>,
    /// The spool entry for relayed recipients.
    relay: Option<SpoolWriter>,
    /// The first write error; the message is refused at its end.
    failed: Option<io::Error>,
    /// The header section as far as seen (at most `HEAD_MAX` bytes and
    /// one past them, then cut at its end): quoted in reports.
    head: Vec<u8>,
    /// Still inside the header section.
    in_head: bool,
    /// Submission (RFC 6409 8): the header is held back until complete, so
    /// a missing Date or Message-ID can be added; the host name for the latter.
    fix_for: Option<String>,
}

/// Where the header section ends (just past the empty line) in `buf`,
/// searching from `from`; 0 when the message starts with the empty line.
fn header_end(buf: &[u8], from: usize) -> Option<usize> {
    if buf.starts_with(b"\r\n") {
        return Some(0);
    }
    buf.get(from..)?
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| from + i + 4)
}

/// A message that already holds this many Received fields is refused as
/// looping (RFC 5321 6.3: "a large rejection threshold, normally at least
/// 100 Received entries").
const MAX_RECEIVED: usize = 100;

/// How many Received fields a header section holds (continuation lines,
/// which start with white space, are not fields).
fn received_fields(header: &[u8]) -> usize {
    header
        .split(|&b| b == b'\n')
        .filter(|line| !line.first().is_some_and(|b| matches!(b, b' ' | b'\t')))
        .filter_map(|line| line.iter().position(|&b| b == b':').map(|colon| &line[..colon]))
        .filter(|name| name.trim_ascii_end().eq_ignore_ascii_case(b"received"))
        .count()
}

/// The Date and Message-ID fields a submitted header lacks (RFC 6409 8.2, 8.3).
fn missing_fields(header: &[u8], hostname: &str, now: u64) -> String {
    let (mut date, mut id) = (false, false);
    for line in header.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii_end();
        date |= name.eq_ignore_ascii_case(b"date");
        id |= name.eq_ignore_ascii_case(b"message-id");
    }
    let mut out = String::new();
    if !date {
        out.push_str(&format!("Date: {}\r\n", crate::store::rfc5322_date(now)));
    }
    if !id {
        out.push_str(&format!("Message-ID: <{}@{hostname}>\r\n", trace_id()));
    }
    out
}

impl Sink {
    /// Takes body bytes: kept for the header copy, held back while a
    /// submitted header is incomplete, else written to every output.
    fn write(&mut self, data: &[u8]) {
        if !self.in_head {
            self.output(data);
            return;
        }
        let start = self.head.len();
        self.head.extend_from_slice(data);
        let end = header_end(&self.head, start.saturating_sub(3));
        // A header without its end is looked at until it is past the bound
        // (or the message ends): one of exactly `HEAD_MAX` bytes is whole.
        if end.is_none() && self.head.len() <= HEAD_MAX {
            if self.fix_for.is_none() {
                self.output(data);
            }
            return;
        }
        self.end_head(end, Some(data));
    }

    /// The header section is complete (`end`), too long to look at further,
    /// or the message ended inside it: release what was held back.
    fn end_head(&mut self, end: Option<usize>, last: Option<&[u8]>) {
        self.in_head = false;
        let end = end.unwrap_or(self.head.len()).min(self.head.len());
        if let Some(host) = self.fix_for.take() {
            let held = std::mem::take(&mut self.head);
            let extra = missing_fields(&held[..end], &host, unix_now());
            self.output(extra.as_bytes());
            self.output(&held);
            self.head = held;
        } else if let Some(data) = last {
            self.output(data);
        }
        self.head.truncate(end.min(HEAD_MAX + 1));
    }

    /// The body ended: anything still held back goes out.
    fn finish(&mut self) {
        if self.in_head {
            self.end_head(None, None);
        }
    }

    fn output(&mut self, data: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        let mut result = Ok(());
        for (_, d) in &mut self.locals {
            result = result.and_then(|()| d.write_all(data));
        }
        if let Some(w) = &mut self.relay {
            result = result.and_then(|()| w.write_all(data));
        }
        if let Err(e) = result {
            self.failed = Some(e);
        }
    }
}

#[derive(Debug, Default)]
struct Txn {
    sender: String,
    /// BODY=8BITMIME was given, or the body held 8-bit octets (passed on
    /// as BODY=8BITMIME when relaying).
    eight_bit: bool,
    /// BODY=BINARYMIME was given (RFC 3030; relayed only with BDAT).
    binary: bool,
    /// SMTPUTF8 was given (passed on when relaying).
    smtputf8: bool,
    /// RET= (RFC 3461).
    ret: Option<smtp_proto::Ret>,
    /// ENVID=, decoded (RFC 3461).
    envid: Option<String>,
    rcpts: Vec<Rcpt>,
    sink: Option<Sink>,
}

struct Conversation {
    shared: Arc<Shared>,
    kind: Kind,
    peer: SocketAddr,
    helo: String,
    esmtp: bool,
    user: Option<String>,
    mech: Option<Box<dyn ServerMechanism>>,
    txn: Txn,
}

/// Serves one connection until QUIT, EOF, a fatal error or shutdown.
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    kind: Kind,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::Plain(tcp);
    if kind == Kind::Submissions {
        let acceptor = shared
            .acceptor
            .as_ref()
            .ok_or_else(|| io::Error::other("no TLS configured"))?;
        tokio::time::timeout(shared.tls_timeout, conn.start_server_tls(acceptor))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    }
    let mut cfg = ServerConfig {
        hostname: shared.hostname.clone(),
        greeting: "ESMTP maild".into(),
        limits: shared.smtp_limits,
        lmtp: kind == Kind::Lmtp,
        chunking: true,
        dsn: true,
        starttls: shared.acceptor.is_some() && matches!(kind, Kind::Mx | Kind::Submission),
        implicit_tls: kind == Kind::Submissions,
        // RFC 3207 4 allows requiring TLS only where the server is not
        // publicly referenced for delivery: submission, never the MX port.
        require_tls: kind == Kind::Submission && shared.submission_require_tls,
        // SCRAM never exposes the password: offered before TLS too; PLAIN
        // and LOGIN only under TLS (538 5.7.11 before).
        allow_safe_auth_before_tls: true,
        auth_mechanisms: if kind == Kind::Lmtp {
            Vec::new()
        } else {
            MECHANISMS.iter().map(|m| (*m).to_owned()).collect()
        },
        ..ServerConfig::default()
    };
    cfg.timeouts.server = shared.smtp_timeout;
    if kind == Kind::Lmtp {
        cfg.greeting = "maild".into();
    }
    let mut session = ServerSession::new(cfg, Instant::now());
    let mut c = Conversation {
        shared,
        kind,
        peer,
        helo: String::new(),
        esmtp: false,
        user: None,
        mech: None,
        txn: Txn::default(),
    };
    // 16 KiB per read: commands and small messages fit. The session keeps
    // what it is handed (no copy): message bodies are slices of the reads.
    let mut buf = bytes::BytesMut::new();
    let mut eof = false;
    loop {
        loop {
            let ev = match session.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "session ended");
                    break;
                }
            };
            if let ServerEvent::StartTls = ev {
                conn.flush_session_within(&mut session, c.shared.smtp_timeout)
                    .await?;
                let acceptor = c
                    .shared
                    .acceptor
                    .clone()
                    .ok_or_else(|| io::Error::other("no TLS configured"))?;
                tokio::time::timeout(c.shared.tls_timeout, conn.start_server_tls(&acceptor))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
                session
                    .tls_established(Instant::now())
                    .map_err(|e| io::Error::other(e.to_string()))?;
                c.user = None;
                c.txn = Txn::default();
                continue;
            }
            c.event(&mut session, ev).await;
        }
        // Bounded: a client that never reads must not hold its slot for ever.
        conn.flush_session_within(&mut session, c.shared.smtp_timeout)
            .await?;
        if session.is_closed() || eof {
            break;
        }
        let got = tokio::select! {
            r = conn.read_into_owned(&mut session, &mut buf, 16 * 1024, Instant::now, ServerSession::handle_input_buf) => Some(r?),
            _ = shutdown.changed() => None,
        };
        match got {
            Some(Read::Eof) => eof = true,
            Some(_) => {}
            None => {
                // Shutting down: any message in flight is dropped (its files
                // removed) and the client told to come back later.
                // The session answers anything pending first, then the 421
                // (RFC 5321 3.8), and reads nothing more.
                c.txn = Txn::default();
                let bye = Reply::new(
                    421,
                    Some(EnhancedCode(4, 3, 2)),
                    "Service shutting down, try again later",
                );
                let _ = session.shutdown(Some(&bye));
                let _ = conn
                    .flush_session_within(&mut session, c.shared.tls_timeout)
                    .await;
                break;
            }
        }
    }
    let _ = tokio::time::timeout(c.shared.tls_timeout, conn.shutdown()).await;
    Ok(())
}

impl Conversation {
    async fn event(&mut self, s: &mut ServerSession, ev: ServerEvent) {
        match ev {
            ServerEvent::Helo { kind, host } => {
                self.helo = String::from_utf8_lossy(&host).into_owned();
                self.esmtp = kind != HeloKind::Helo;
                self.txn = Txn::default();
            }
            ServerEvent::Mail(line) => {
                let decision = self.mail(&line);
                match decision {
                    Ok(sender) => {
                        let params = line.mail_params();
                        self.txn = Txn {
                            sender,
                            eight_bit: params.body == Some(smtp_proto::BodyType::EightBitMime),
                            binary: params.body == Some(smtp_proto::BodyType::BinaryMime),
                            smtputf8: params.smtputf8,
                            ret: params.ret,
                            envid: params
                                .envid
                                .map(|x| String::from_utf8_lossy(&x.decode()).into_owned()),
                            ..Txn::default()
                        };
                        let _ = s.accept();
                    }
                    Err(r) => reject(s, r),
                }
            }
            ServerEvent::Rcpt(line) => match self.rcpt(&line, s.is_authenticated()) {
                Ok(mut r) => {
                    let params = line.rcpt_params();
                    r.notify = params.notify;
                    r.orcpt = params.orcpt.map(|o| {
                        (
                            String::from_utf8_lossy(o.addr_type).into_owned(),
                            String::from_utf8_lossy(&o.addr.decode()).into_owned(),
                        )
                    });
                    self.txn.rcpts.push(r);
                    let _ = s.accept();
                }
                Err(r) => reject(s, r),
            },
            ServerEvent::DataStart => self.data_start(s.is_tls(), s.is_authenticated()),
            ServerEvent::DataChunk(chunk) => {
                // 8-bit content sent without BODY=8BITMIME (common): relay it
                // as 8BITMIME, since a relay must not send 8-bit octets
                // undeclared (RFC 6152 3); a next hop without 8BITMIME then
                // bounces it instead of receiving it mislabelled.
                if !self.txn.eight_bit && !chunk.is_ascii() {
                    self.txn.eight_bit = true;
                }
                if let Some(sink) = &mut self.txn.sink {
                    sink.write(&chunk);
                }
            }
            ServerEvent::DataEnd => self.data_end(s).await,
            ServerEvent::DataAborted(reason) => {
                tracing::info!(peer = %self.peer, ?reason, "message refused");
                self.txn = Txn::default();
            }
            ServerEvent::Reset => self.txn = Txn::default(),
            ServerEvent::PlaintextDiscarded { len } => {
                tracing::warn!(peer = %self.peer, len, "plaintext after STARTTLS discarded");
            }
            ServerEvent::AuthStart {
                mechanism,
                initial_response,
            } => {
                let started = Mechanism::from_name(&mechanism)
                    .filter(|m| MECHANISMS.contains(&m.name()))
                    .ok_or(())
                    .and_then(|m| sasl::server(m, &ServerOptions::default()).map_err(|_| ()));
                match started {
                    Ok(mut mech) => {
                        let ir = initial_response.as_ref().map(|r| r.expose().as_slice());
                        let step = tokio::task::block_in_place(|| mech.start(ir, &self.shared.accounts));
                        self.mech = Some(mech);
                        self.auth_step(s, step).await;
                    }
                    Err(()) => {
                        let _ = s.auth_finish(AuthOutcome::Failure(Some(reply(
                            504,
                            (5, 5, 4),
                            "Unrecognized authentication type",
                        ))));
                    }
                }
            }
            ServerEvent::AuthResponse(r) => {
                let step = match self.mech.as_mut() {
                    Some(m) => tokio::task::block_in_place(|| m.step(r.expose(), &self.shared.accounts)),
                    None => Err(sasl::SaslError::WrongState("no exchange")),
                };
                self.auth_step(s, step).await;
            }
            ServerEvent::AuthCancelled => self.mech = None,
            // StartTls is handled by the connection loop; Quit needs nothing.
            _ => {}
        }
    }

    async fn auth_step(&mut self, s: &mut ServerSession, step: Result<ServerStep, sasl::SaslError>) {
        match step {
            Ok(ServerStep::Challenge(c)) => {
                // SCRAM's server-first repeats the client's nonce: a long one
                // makes a 334 line over the AUTH line limit, which smtp-proto
                // refuses to send (the exchange stays pending). Fail it.
                if let Err(e) = s.auth_challenge(&c) {
                    self.mech = None;
                    tracing::info!(peer = %self.peer, error = %e, "AUTH challenge cannot be sent");
                    let _ = s.auth_finish(AuthOutcome::Failure(Some(reply(
                        500,
                        (5, 5, 6),
                        "Authentication Exchange line is too long",
                    ))));
                }
            }
            Ok(ServerStep::Success { identity, .. }) => {
                self.mech = None;
                match self.shared.accounts.resolve(identity.effective()) {
                    Some(user) => {
                        tracing::info!(peer = %self.peer, %user, "authenticated");
                        self.user = Some(user);
                        let _ = s.auth_finish(AuthOutcome::Success);
                    }
                    None => {
                        let _ = s.auth_finish(AuthOutcome::Failure(None));
                    }
                }
            }
            // Stored credentials the server cannot use: the operator's
            // problem, answered as a temporary failure that says no more
            // (RFC 4954 section 6).
            Err(e @ sasl::SaslError::StoreFailure(_)) => {
                self.mech = None;
                tracing::error!(peer = %self.peer, error = %e, "authentication impossible");
                let _ = s.auth_finish(AuthOutcome::Failure(Some(temporary_auth_failure())));
            }
            Err(e) => {
                self.mech = None;
                tracing::info!(peer = %self.peer, error = %e, "authentication failed");
                tokio::time::sleep(self.shared.login_delay).await;
                let _ = s.auth_finish(AuthOutcome::Failure(None));
            }
        }
    }

    fn mail(&self, line: &smtp_proto::CommandLine) -> Result<String, Reply> {
        if self.kind.needs_auth() && self.user.is_none() {
            return Err(reply(530, (5, 7, 0), "Authentication required"));
        }
        if !line.mail_params().other.is_empty() {
            return Err(reply(555, (5, 5, 4), "Unsupported MAIL parameter"));
        }
        let sender = match line.reverse_path() {
            ReversePath::Null => String::new(),
            ReversePath::Mailbox(m) => mailbox_string(&m),
        };
        // An authenticated submitter sends as one of their own addresses
        // (RFC 6409 6.1); the null sender stays allowed (reports).
        if let Some(user) = &self.user
            && !self.shared.allow_any_sender
            && !sender.is_empty()
            && self.shared.accounts.resolve(&sender).as_deref() != Some(user.as_str())
        {
            return Err(reply(
                553,
                (5, 7, 1),
                &format!("Sender address not owned by {user}"),
            ));
        }
        Ok(sender)
    }

    fn rcpt(&self, line: &smtp_proto::CommandLine, authenticated: bool) -> Result<Rcpt, Reply> {
        if !line.rcpt_params().other.is_empty() {
            return Err(reply(555, (5, 5, 4), "Unsupported RCPT parameter"));
        }
        let accounts = &self.shared.accounts;
        let unknown = || reply(550, (5, 1, 1), "Recipient address rejected: user unknown");
        let m = match line.forward_path() {
            Some(ForwardPath::Postmaster) => {
                let local = accounts.postmaster().ok_or_else(unknown)?;
                return Ok(Rcpt::new("postmaster".into(), Some(local)));
            }
            Some(ForwardPath::Mailbox(m)) => m,
            None => return Err(reply(501, (5, 5, 2), "Syntax error in recipient")),
        };
        let address = mailbox_string(&m);
        let local_domain = match m.domain {
            Host::Domain(d) => std::str::from_utf8(d)
                .ok()
                .filter(|d| accounts.is_local_domain(d)),
            _ => None,
        };
        if let Some(domain) = local_domain {
            let local_part = String::from_utf8_lossy(&m.local_part_unquoted()).into_owned();
            let account = if local_part.eq_ignore_ascii_case("postmaster") {
                accounts
                    .resolve(&format!("postmaster@{domain}"))
                    .or_else(|| accounts.postmaster())
            } else {
                accounts.resolve(&format!("{local_part}@{domain}"))
            };
            return match account {
                Some(a) => Ok(Rcpt::new(address, Some(a))),
                None => Err(unknown()),
            };
        }
        if self.kind == Kind::Lmtp {
            return Err(unknown());
        }
        if authenticated && self.user.is_some() {
            // An address literal names the host to connect to (RFC 5321
            // 4.1.3): one on an internal network would let any user make
            // this server talk to internal services. Refused as relaying is
            // (RFC 5321 7.8: "SHOULD be done with a 550").
            let literal = match m.domain {
                Host::Ipv4(ip) => Some(std::net::IpAddr::V4(ip)),
                Host::Ipv6(ip) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            };
            if let Some(ip) = literal
                && !self.shared.allow_internal_relay
                && examples::mx::is_internal(ip)
            {
                return Err(reply(
                    550,
                    (5, 7, 1),
                    "Relay to loopback, private or link-local address literals is not allowed",
                ));
            }
            return Ok(Rcpt::new(address, None));
        }
        Err(reply(554, (5, 7, 1), "Relay access denied"))
    }

    /// The `with` of the Received field (RFC 3848; RFC 6531 3.7.3: "one
    /// of the SMTPUTF8 values" when the transaction used SMTPUTF8).
    fn protocol(&self, tls: bool, authenticated: bool) -> &'static str {
        if self.txn.smtputf8 {
            return match (self.kind, tls, authenticated) {
                (Kind::Lmtp, _, false) => "UTF8LMTP",
                (Kind::Lmtp, _, true) => "UTF8LMTPA",
                (_, false, false) => "UTF8SMTP",
                (_, true, false) => "UTF8SMTPS",
                (_, false, true) => "UTF8SMTPA",
                (_, true, true) => "UTF8SMTPSA",
            };
        }
        match (self.kind, self.esmtp, tls, authenticated) {
            (Kind::Lmtp, ..) => "LMTP",
            (_, false, _, _) => "SMTP",
            (_, true, false, false) => "ESMTP",
            (_, true, true, false) => "ESMTPS",
            (_, true, false, true) => "ESMTPA",
            (_, true, true, true) => "ESMTPSA",
        }
    }

    fn data_start(&mut self, tls: bool, authenticated: bool) {
        let shared = self.shared.clone();
        let id = trace_id();
        let now = unix_now();
        let single = (self.txn.rcpts.len() == 1).then(|| self.txn.rcpts[0].address.clone());
        let trace = Trace {
            helo: &self.helo,
            peer: self.peer.ip(),
            by: &shared.hostname,
            with: self.protocol(tls, authenticated),
            id: &id,
            for_rcpt: single.as_deref(),
        };
        let received = trace.field(now);
        let mut sink = Sink {
            in_head: true,
            fix_for: (self.user.is_some() && self.kind != Kind::Lmtp).then(|| shared.hostname.clone()),
            ..Sink::default()
        };
        let result = (|| -> io::Result<()> {
            for r in &self.txn.rcpts {
                match &r.local {
                    Some(a) if sink.locals.iter().all(|(x, _)| x != a) => {
                        let mut d = shared.store.begin(a)?;
                        d.write_all(return_path_field(&self.txn.sender).as_bytes())?;
                        d.write_all(received.as_bytes())?;
                        sink.locals.push((a.clone(), d));
                    }
                    None if sink.relay.is_none() => {
                        let mut w = shared.spool.begin()?;
                        w.write_all(received.as_bytes())?;
                        sink.relay = Some(w);
                    }
                    _ => {}
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            sink.failed = Some(e);
        }
        self.txn.sink = Some(sink);
    }

    async fn data_end(&mut self, s: &mut ServerSession) {
        let mut txn = std::mem::take(&mut self.txn);
        let Some(mut sink) = txn.sink.take() else {
            reject(s, reply(451, (4, 3, 0), "Local error in processing"));
            return;
        };
        sink.finish();
        // RFC 5321 6.3: a message that went round this many hops is in a
        // loop; refused (the open outputs are dropped, leaving nothing).
        if received_fields(&sink.head) >= MAX_RECEIVED {
            tracing::warn!(peer = %self.peer, from = %txn.sender, "mail loop: too many Received fields");
            let r = reply(
                554,
                (5, 4, 6),
                "Too many hops (Received fields): mail loop suspected",
            );
            if self.kind == Kind::Lmtp {
                lmtp_replies(s, vec![r; txn.rcpts.len()]);
            } else {
                reject(s, r);
            }
            return;
        }
        if let Some(e) = sink.failed.take() {
            tracing::error!(peer = %self.peer, error = %e, "writing the message failed");
            let r = storage_failure(&e);
            if self.kind == Kind::Lmtp {
                lmtp_replies(s, vec![r; txn.rcpts.len()]);
            } else {
                reject(s, r);
            }
            return;
        }
        let shared = self.shared.clone();
        // Make everything durable before any 250 (file data, rename,
        // directory): the writer thread does it for many sessions at once.
        // Every plan is handed over before any is waited for, so the ones of
        // this message share a round.
        let committer = &shared.committer;
        let pending: Vec<(String, io::Result<(Ticket, String)>)> = sink
            .locals
            .into_iter()
            .map(|(account, d)| {
                let submitted = d
                    .into_plan()
                    .map(|(plan, unique)| (committer.submit(plan), unique));
                (account, submitted)
            })
            .collect();
        let queued = sink.relay.map(|w| {
            let remote: Vec<&Rcpt> = txn.rcpts.iter().filter(|r| r.local.is_none()).collect();
            let w_env = spool_envelope(&txn, &remote);
            let next = w_env.next_attempt;
            w.into_plan(&w_env)
                .map(|(plan, id)| (committer.submit(plan), (id, next)))
        });
        let mut results: Vec<(String, io::Result<String>)> = Vec::with_capacity(pending.len());
        for (account, submitted) in pending {
            let r = match submitted {
                Ok((ticket, unique)) => ticket.wait().await.map(|()| unique),
                Err(e) => Err(e),
            };
            results.push((account, r));
        }
        let queued = match queued {
            Some(Ok((ticket, (id, next)))) => Some(ticket.wait().await.map(|()| (id, next))),
            Some(Err(e)) => Some(Err(e)),
            None => None,
        };
        for (account, r) in &results {
            match r {
                Ok(name) => {
                    tracing::info!(peer = %self.peer, from = %txn.sender, to = %account, %name, "delivered");
                }
                Err(e) => {
                    if e.kind() == io::ErrorKind::NotFound {
                        shared.store.forget(account);
                    }
                    tracing::error!(peer = %self.peer, to = %account, error = %e, "delivery failed");
                }
            }
        }
        let queued_ok = match &queued {
            Some(Ok((id, next))) => {
                tracing::info!(peer = %self.peer, from = %txn.sender, %id, "queued for relay");
                crate::queue::enqueued(&shared, id, *next);
                true
            }
            Some(Err(e)) => {
                tracing::error!(peer = %self.peer, error = %e, "queueing failed");
                false
            }
            None => true,
        };
        // The temporary failure for the message as a whole: what the first
        // failure says (a full disk fails every output alike).
        let first_error = results
            .iter()
            .filter_map(|(_, r)| r.as_ref().err())
            .chain(queued.as_ref().and_then(|q| q.as_ref().err()))
            .next();
        let temp = first_error.map_or_else(
            || reply(451, (4, 3, 0), "Local error in processing, try again later"),
            storage_failure,
        );
        if self.kind == Kind::Lmtp {
            let replies: Vec<Reply> = txn
                .rcpts
                .iter()
                .map(|r| {
                    let result = r
                        .local
                        .as_ref()
                        .and_then(|a| results.iter().find(|(x, _)| x == a).map(|(_, res)| res));
                    match result {
                        Some(Ok(_)) => reply(250, (2, 1, 5), &format!("<{}> delivered", r.address)),
                        Some(Err(e)) => storage_failure(e),
                        None => temp.clone(),
                    }
                })
                .collect();
            lmtp_replies(s, replies);
            return;
        }
        // The recipients this message did not reach: locals whose store
        // failed, and the relayed ones if queueing failed.
        let failed: Vec<&Rcpt> = txn
            .rcpts
            .iter()
            .filter(|r| match &r.local {
                Some(a) => results.iter().any(|(x, res)| x == a && res.is_err()),
                None => !queued_ok,
            })
            .collect();
        if failed.len() == txn.rcpts.len() {
            reject(s, temp);
            return;
        }
        // Some recipients have the message: a 4yz now would make the client
        // send it again, to them too (RFC 5321 4.2.5: a transient failure
        // reads as non-delivery). Accept it, and report the others to the
        // sender as failed (RFC 3464).
        self.success_report(&txn, &sink.head, &failed);
        if !failed.is_empty() {
            self.failure_report(&txn, &sink.head, &failed);
        }
        let text = match (&queued, failed.is_empty()) {
            (_, false) => "Ok: not every recipient could be reached; the sender is told".to_owned(),
            (Some(Ok((id, _))), true) => format!("Ok: queued as {id}"),
            _ => "Ok: delivered".to_owned(),
        };
        accept_with(s, &reply(250, (2, 0, 0), &text));
    }
}

/// The spool envelope for the relayed recipients of a transaction, with
/// its DSN parameters.
fn spool_envelope(txn: &Txn, remote: &[&Rcpt]) -> Envelope {
    let addresses: Vec<String> = remote.iter().map(|r| r.address.clone()).collect();
    let mut env = Envelope::new(&txn.sender, &addresses, unix_now());
    env.eight_bit = txn.eight_bit;
    env.binary = txn.binary;
    env.smtputf8 = txn.smtputf8;
    env.ret = txn.ret;
    env.envid.clone_from(&txn.envid);
    for (slot, r) in env.recipients.iter_mut().zip(remote) {
        slot.notify = r.notify;
        slot.orcpt.clone_from(&r.orcpt);
    }
    env
}

impl Conversation {
    /// NOTIFY=SUCCESS on recipients delivered here (not those in `failed`):
    /// a "delivered" report (RFC 3464) to the sender, quoting the message's
    /// header.
    fn success_report(&self, txn: &Txn, head: &[u8], failed: &[&Rcpt]) {
        let wanted: Vec<&Rcpt> = txn
            .rcpts
            .iter()
            .filter(|r| r.local.is_some() && r.notify.is_some_and(|n| n.success))
            .filter(|r| !failed.iter().any(|f| std::ptr::eq(*f, *r)))
            .collect();
        self.report(
            txn,
            head,
            &wanted,
            crate::dsn::Action::Delivered,
            250,
            "2.0.0 delivered to the mailbox",
        );
    }

    /// The recipients a message accepted for others could not reach (a
    /// local store or the relay queue failed): a "failed" report to the
    /// sender, for those whose NOTIFY does not exclude it.
    fn failure_report(&self, txn: &Txn, head: &[u8], failed: &[&Rcpt]) {
        let wanted: Vec<&Rcpt> = failed
            .iter()
            .copied()
            .filter(|r| r.notify.is_none_or(|n| n.failure))
            .collect();
        self.report(
            txn,
            head,
            &wanted,
            crate::dsn::Action::Failed,
            0,
            "5.3.0 the message could not be stored for this recipient",
        );
    }

    /// One report (RFC 3464) about `wanted` to the sender of `txn`.
    fn report(
        &self,
        txn: &Txn,
        head: &[u8],
        wanted: &[&Rcpt],
        action: crate::dsn::Action,
        code: u16,
        text: &str,
    ) {
        if wanted.is_empty() || txn.sender.is_empty() {
            return;
        }
        let env = spool_envelope(txn, wanted);
        let now = unix_now();
        let cx = crate::dsn::Context {
            hostname: &self.shared.hostname,
            env: &env,
            original: head,
            // Kept up to one byte past `HEAD_MAX`: a header section that
            // reaches that byte without its end went on past the bound.
            cut: head.len() > HEAD_MAX,
            full: false,
            retry_until: None,
            now,
        };
        let lines: Vec<crate::dsn::Line<'_>> = env
            .recipients
            .iter()
            .map(|r| crate::dsn::Line {
                rcpt: r,
                action,
                code,
                text,
            })
            .collect();
        let sent = crate::dsn::report(&cx, &lines)
            .map_err(|e| io::Error::other(e.to_string()))
            .and_then(|report| crate::queue::send_report(&self.shared, &txn.sender, &report));
        match sent {
            Ok(()) => tracing::info!(peer = %self.peer, to = %txn.sender, ?action, "report sent"),
            Err(e) => tracing::error!(peer = %self.peer, error = %e, "report failed"),
        }
    }
}

/// The AUTH reply for stored credentials the server cannot use: RFC 4954
/// section 6, "454 4.7.0 Temporary authentication failure".
fn temporary_auth_failure() -> Reply {
    reply(454, (4, 7, 0), "Temporary authentication failure")
}

/// Checks a password for POP3 USER/PASS (one PBKDF2 run): the account, or
/// `None` for a wrong password or an unknown user;
/// [`sasl::SaslError::StoreFailure`] when the stored keys are unusable.
pub(crate) fn verify_password(
    shared: &Shared,
    user: &str,
    password: &str,
) -> Result<Option<String>, sasl::SaslError> {
    let ok = tokio::task::block_in_place(|| {
        shared
            .accounts
            .verify_password(user, &sasl::Secret::new(password.to_owned()))
    })?;
    Ok(if ok { shared.accounts.resolve(user) } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_fields_are_counted_by_name() {
        let header = b"Received: from a by b;\r\n\tTue, 1 Dec 2026 01:00:00 +0000\r\n\
                       received : obsolete spacing\r\n\
                       Received-SPF: pass\r\n\
                       X-Note: Received: not a field\r\n\
                       \tReceived: a continuation line\r\n\
                       RECEIVED: from c by d\r\n\r\n";
        assert_eq!(received_fields(header), 3);
        assert_eq!(received_fields(b""), 0);
    }

    /// Feeds `chunks` through a submission sink writing into a spool file
    /// and returns what was written.
    fn through(chunks: &[&[u8]]) -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!("maild-sink-{}-{}", std::process::id(), trace_id()));
        let spool = examples::spool::Spool::open(&dir).unwrap();
        let mut sink = Sink {
            relay: Some(spool.begin().unwrap()),
            in_head: true,
            fix_for: Some("mx.test".into()),
            ..Sink::default()
        };
        for c in chunks {
            sink.write(c);
        }
        sink.finish();
        let id = sink
            .relay
            .take()
            .unwrap()
            .commit(&Envelope::new("", &[], 0))
            .unwrap();
        let out = std::fs::read(spool.message_path(&id)).unwrap();
        let _ = std::fs::remove_dir_all(dir);
        out
    }

    #[test]
    fn submission_header_gets_date_and_message_id_once() {
        // The end of the header split over chunks; both fields missing.
        let out = String::from_utf8(through(&[b"Subject: a\r\n", b"\r", b"\nbody\r\n"])).unwrap();
        assert!(out.starts_with("Date: "), "{out}");
        assert!(out.contains("\r\nMessage-ID: <") && out.contains("@mx.test>\r\nSubject: a\r\n\r\nbody\r\n"));
        // Both present (any case): nothing added.
        let given = b"subject: b\r\nDATE : Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-Id: <x@y>\r\n\r\nb\r\n";
        assert_eq!(through(&[given]), given);
        // A header-only message, and a message that starts with the empty line.
        let out = String::from_utf8(through(&[b"Subject: c\r\nDate: x\r\n"])).unwrap();
        assert!(
            out.starts_with("Message-ID: <") && out.ends_with("Subject: c\r\nDate: x\r\n"),
            "{out}"
        );
        let out = String::from_utf8(through(&[b"\r\nno header\r\n"])).unwrap();
        assert!(
            out.contains("@mx.test>\r\n\r\nno header\r\n") && out.starts_with("Date: "),
            "{out}"
        );
        assert_eq!(header_end(b"a: b\r\n\r\nc", 0), Some(8));
        assert_eq!(header_end(b"a: b\r\nc", 0), None);
    }
}
