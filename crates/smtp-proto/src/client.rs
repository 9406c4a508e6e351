//! [`ClientSession`]: the client side of SMTP, ESMTP and LMTP as a sans-IO state machine.
//!
//! The session drives a whole submission or relay: it waits for the greeting,
//! sends EHLO (HELO when EHLO is refused; LHLO in LMTP mode), upgrades with
//! STARTTLS when offered or required, authenticates, then runs one mail
//! transaction per [`send_mail`](ClientSession::send_mail): MAIL, RCPT for
//! each recipient, then DATA or BDAT. When the server offers PIPELINING, MAIL,
//! the RCPTs and DATA go out as one group (RFC 2920 3.1). The body streams
//! through [`send_data`](ClientSession::send_data), which takes only as much
//! as the transmit buffer has room for (backpressure) and dot-stuffs it on
//! the way; a bare CR or LF in the body is refused, so no smuggling sequence
//! can ever leave the client.

use crate::command::{
    BodyType, Command, ForwardPath, Host, MailParams, Mailbox, Notify, Orcpt, RcptParams, Ret, ReversePath,
    XText,
};
use crate::error::{Error, ErrorKind, UsageError};
use crate::limits::{Limits, Timeouts};
use crate::reply::{Capabilities, EhloKeyword, EnhancedCode, Reply, ReplyParser};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::{BufMut, BytesMut};
use proto_core::{Deadline, DotEncoder, LineConfig, LineFramer, TransmitQueue};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// When to use STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// Never (or the connection uses implicit TLS already).
    Disabled,
    /// When the server offers it.
    #[default]
    Opportunistic,
    /// Always: the session fails with [`ErrorKind::TlsUnavailable`] otherwise.
    Required,
}

/// Client configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The name sent with EHLO/HELO/LHLO: an ASCII domain (A-labels for an
    /// internationalised one, RFC 6531 3.7.1) or an address literal. Any
    /// other value is replaced by `localhost`. HELO takes no address literal
    /// (RFC 5321 4.1.1.1, `helo = "HELO" SP Domain CRLF`): with one, a
    /// server that refuses EHLO ends the session (QUIT, then
    /// [`ErrorKind::UnexpectedReply`]) instead of the fallback to HELO.
    pub helo_name: String,
    /// LMTP (RFC 2033): LHLO, and one reply per recipient after the body.
    pub lmtp: bool,
    /// STARTTLS policy.
    pub tls: TlsPolicy,
    /// The connection is already under TLS.
    pub implicit_tls: bool,
    /// Credentials for AUTH (RFC 4954); the strongest mechanism both sides
    /// support is chosen with [`sasl::choose`], plaintext ones only under TLS
    /// unless [`ClientConfig::allow_plaintext_auth`].
    pub credentials: Option<sasl::Credentials>,
    /// Allow PLAIN/LOGIN without TLS (a trusted link such as localhost).
    pub allow_plaintext_auth: bool,
    /// Use PIPELINING when the server offers it.
    pub pipelining: bool,
    /// Send bodies with BDAT when the server offers CHUNKING.
    pub chunking: bool,
    /// Most bytes queued for transmission before `send_data` stops taking
    /// more (at least one in effect, so a body always moves).
    pub max_buffer: usize,
    /// Limits: replies with a line longer than [`Limits::reply_line`] (512
    /// octets with the CRLF, RFC 5321 4.5.3.1.5) fail the session with
    /// [`ErrorKind::BadReply`]; `334` AUTH challenges may be as long as
    /// [`Limits::auth_line`] (12288, RFC 4954 4). Raise `reply_line` to
    /// accept longer replies from servers that exceed the limit.
    pub limits: Limits,
    /// Timeouts of RFC 5321 4.5.3.2.
    pub timeouts: Timeouts,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            helo_name: "localhost".into(),
            lmtp: false,
            tls: TlsPolicy::Opportunistic,
            implicit_tls: false,
            credentials: None,
            allow_plaintext_auth: false,
            pipelining: true,
            chunking: false,
            max_buffer: 64 * 1024,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
        }
    }
}

/// One recipient of an [`Envelope`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipient {
    /// The mailbox, without angle brackets (`user@example.test`).
    pub address: String,
    /// NOTIFY= (needs DSN).
    pub notify: Option<Notify>,
    /// ORCPT=: address type (`rfc822`) and the original address, raw (the
    /// session xtext-encodes it). Needs DSN. Except for the `utf-8` type,
    /// the address must be printable US-ASCII (RFC 3461 4.2); a `utf-8` one
    /// goes out as RFC 6533 utf-8-addr-xtext ([`XText::encode_utf8_addr`]).
    pub orcpt: Option<(String, String)>,
}

impl Recipient {
    /// A recipient without DSN parameters.
    #[must_use]
    pub fn new(address: &str) -> Self {
        Recipient {
            address: address.into(),
            ..Recipient::default()
        }
    }
}

/// What a transaction needs: sender, recipients and MAIL parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// The sender mailbox without angle brackets; empty for the null path `<>`.
    pub from: String,
    /// The recipients.
    pub recipients: Vec<Recipient>,
    /// Message size for SIZE= (sent when the server offers SIZE, checked against its limit).
    pub size: Option<u64>,
    /// BODY= (8BITMIME needs the extension; BINARYMIME needs CHUNKING and
    /// BINARYMIME; 7BIT, the default, is sent only to a server that offers
    /// 8BITMIME or BINARYMIME, and left out otherwise).
    pub body: Option<BodyType>,
    /// SMTPUTF8 (needed for non-ASCII addresses).
    pub smtputf8: bool,
    /// RET= (needs DSN).
    pub ret: Option<Ret>,
    /// ENVID=, raw (the session xtext-encodes it): printable US-ASCII, at
    /// most 100 characters once encoded (RFC 3461 4.4). Needs DSN.
    pub envid: Option<String>,
    /// REQUIRETLS (RFC 8689; needs the extension and TLS).
    pub requiretls: bool,
    /// MT-PRIORITY (RFC 6710; needs the extension).
    pub mt_priority: Option<i8>,
    /// AUTH= (RFC 4954 5): the authenticated submitter, raw (the session
    /// xtext-encodes it; `<>` for unknown). Sent only when the server offers AUTH.
    pub auth: Option<String>,
}

/// What the client session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Greeting, EHLO, STARTTLS and AUTH are done: [`ClientSession::send_mail`] may be called.
    Ready,
    /// The server accepted STARTTLS: run the handshake, then call
    /// [`ClientSession::tls_established`].
    StartTls,
    /// Bytes from the server after its 220 to STARTTLS and before TLS were discarded.
    PlaintextDiscarded {
        /// How many.
        len: usize,
    },
    /// AUTH succeeded.
    Authenticated,
    /// AUTH failed or could not run; the session carries on unauthenticated.
    AuthFailed(Option<Reply>),
    /// The reply to MAIL.
    MailResult(Reply),
    /// The reply to the RCPT of recipient `index` (in envelope order).
    RcptResult {
        /// Index in [`Envelope::recipients`].
        index: usize,
        /// The server's reply.
        reply: Reply,
    },
    /// The body can be sent now with [`ClientSession::send_data`] and
    /// [`ClientSession::finish_data`].
    SendBody,
    /// The final reply (SMTP) or the per-recipient replies in order of the
    /// accepted recipients (LMTP) after the body. When an LMTP connection
    /// ends (EOF, 421, any fatal error) after some of those replies, the
    /// missing ones are given as `451 4.4.2` (RFC 2033 5) before the error.
    /// A 421 that comes in place of one recipient's reply is that
    /// recipient's result, and the replies the server sent after it still
    /// count (the session reads on until every recipient has its reply or
    /// the connection ends, then fails with [`ErrorKind::ServiceClosing`]).
    /// A 3yz among them (RFC 5321 4.3.2 has none there) is reported as
    /// given, then the session fails with [`ErrorKind::UnexpectedReply`].
    MessageResult(Vec<Reply>),
    /// The transaction ended without a message (MAIL refused, no recipient
    /// accepted, DATA refused); the reply says why: the MAIL refusal, the
    /// last RCPT refusal when no recipient was accepted (DATA's reply, if
    /// DATA was pipelined and refused), or the DATA refusal. Another
    /// `send_mail` may follow.
    /// When the connection fails with a transaction in progress (end of
    /// stream, timeout, a 421, a reply that cannot be read) the transaction
    /// ends with this event before the error, carrying the 421 or a
    /// `451 4.4.2` (RFC 5321 3.8: "treat the mail transaction as if a 451
    /// response had been received"), or the 4yz/5yz the server sent unasked
    /// (in the body, say) before it went; LMTP replies already in come as
    /// [`MessageResult`](Self::MessageResult) instead. A reply to DATA
    /// that is neither `354` nor a refusal (a `250`, say: no body was sent,
    /// and the server may be reading one) ends the transaction with a
    /// `451 4.5.0` and the session with [`ErrorKind::UnexpectedReply`]:
    /// this event never carries a 2yz.
    TransactionFailed(Reply),
    /// QUIT was answered; the session is closed.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    Auth,
    Mail,
    Rcpt(usize),
    Data,
    BdatChunk,
    DataEnd,
    Rset,
    Quit,
    /// The reply to a BDAT chunk (or to the end of data) of a transaction that
    /// already failed and was reset: read and ignored.
    Stale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Planned {
    Mail,
    Rcpt(usize),
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Setup,
    AwaitTls,
    Idle,
    Txn,
    Body,
    Closed,
}

#[derive(Debug)]
struct Txn {
    env: Envelope,
    mail_ok: bool,
    accepted: usize,
    answered: usize,
    bdat: bool,
    failed: Option<Reply>,
    /// The last refusal of a RCPT, which ends the transaction when no RCPT
    /// succeeded.
    rcpt_refused: Option<Reply>,
    body_sent: u64,
    /// Octets of the body's current text line taken so far (a CR waiting
    /// for its LF included), for the `Limits::text_line` check.
    line_len: usize,
    results: Vec<Reply>,
    end_expected: usize,
}

/// The client side of an SMTP/ESMTP/LMTP connection. See the module docs.
///
/// Its `Debug` output shows the state and the sizes of its buffers, never
/// their bytes: the transmit queue holds an AUTH line (RFC 4954 4: the
/// password in base64 for PLAIN) until it is written.
pub struct ClientSession {
    cfg: ClientConfig,
    /// The 421 that is closing the session, for the transaction it ends.
    close_reply: Option<Reply>,
    /// LMTP: a 421 came as one recipient's reply after the end of data;
    /// the replies of the other recipients are still read (RFC 2033 5),
    /// then the session closes.
    lmtp_421: bool,
    input: BytesMut,
    framer: LineFramer,
    replies: ReplyParser,
    transmit: TransmitQueue,
    events: VecDeque<ClientEvent>,
    expect: VecDeque<Expect>,
    planned: VecDeque<Planned>,
    phase: Phase,
    caps: Capabilities,
    tls: bool,
    tried_tls: bool,
    authenticated: bool,
    txn: Option<Txn>,
    dot: DotEncoder,
    bdat_cr: bool,
    timer: Deadline,
    fatal: Option<Error>,
    discarded: usize,
    eof: bool,
    base: Instant,
    progress: bool,
    period: Duration,
    auth: Option<Box<dyn sasl::ClientMechanism>>,
    auth_cancelled: bool,
    /// [`quit`](ClientSession::quit) was called (or the session gave up):
    /// QUIT goes out as soon as the server may take it.
    quit_wanted: bool,
    quit_sent: bool,
    /// Why the session gave up during setup: reported once QUIT is answered.
    give_up: Option<Error>,
    /// BDAT without PIPELINING: `BDAT 0 LAST` waits for the last chunk's reply.
    bdat_last_deferred: bool,
    /// BDAT without PIPELINING, transaction failed: RSET waits for the
    /// replies still due for the chunks already sent.
    rset_deferred: bool,
}

impl std::fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSession")
            .field("phase", &self.phase)
            .field("expect", &self.expect)
            .field("tls", &self.tls)
            .field("authenticated", &self.authenticated)
            .field("capabilities", &self.caps)
            .field("transaction", &self.txn.is_some())
            .field("fatal", &self.fatal)
            .field("eof", &self.eof)
            .field("quit_sent", &self.quit_sent)
            .field("buffered_input", &self.input.len())
            .field("transmit", &self.transmit)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    /// A new session waiting for the server's greeting.
    #[must_use]
    pub fn new(cfg: ClientConfig, now: Instant) -> Self {
        let max = cfg.limits.reply_line.max(cfg.limits.auth_line);
        let mut timer = Deadline::new(cfg.timeouts.greeting);
        timer.restart(now);
        ClientSession {
            framer: LineFramer::new(LineConfig::with_max_len(max)),
            replies: ReplyParser::new(256, max),
            input: BytesMut::new(),
            transmit: TransmitQueue::default(),
            events: VecDeque::new(),
            expect: VecDeque::from([Expect::Greeting]),
            planned: VecDeque::new(),
            phase: Phase::Setup,
            caps: Capabilities::default(),
            tls: cfg.implicit_tls,
            tried_tls: false,
            authenticated: false,
            txn: None,
            dot: DotEncoder::new(),
            bdat_cr: false,
            timer,
            fatal: None,
            discarded: 0,
            eof: false,
            base: now,
            auth: None,
            auth_cancelled: false,
            quit_wanted: false,
            quit_sent: false,
            give_up: None,
            bdat_last_deferred: false,
            rset_deferred: false,
            progress: false,
            period: cfg.timeouts.greeting,
            cfg,
            close_reply: None,
            lmtp_421: false,
        }
    }

    /// What the server announced in its last EHLO/LHLO reply.
    #[must_use]
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// True once under TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// True after a successful AUTH.
    #[must_use]
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// True when a new transaction can start.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Idle && self.expect.is_empty() && !self.quit_wanted
    }

    /// True once closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Appends bytes from the server.
    pub fn handle_input(&mut self, data: &[u8]) {
        match self.phase {
            Phase::Closed => {}
            Phase::AwaitTls => self.discarded += data.len(),
            _ => self.input.extend_from_slice(data),
        }
    }

    /// The server closed the connection.
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// Bytes to write to the server.
    #[must_use]
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.transmit.peek()
    }

    /// Marks `n` bytes as written. In a body, bytes leaving count as
    /// progress for the data-block timeout.
    pub fn advance_transmit(&mut self, n: usize) {
        self.transmit.advance(n);
        if n > 0 && self.phase == Phase::Body {
            self.progress = true;
        }
    }

    /// When to call [`handle_timeout`](Self::handle_timeout).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            None
        } else {
            self.timer.at()
        }
    }

    /// Fails the session if the running per-command timeout (RFC 5321 4.5.3.2) expired.
    ///
    /// In a body the data-block timeout (4.5.3.2.5: "while awaiting the
    /// completion of each TCP SEND call transmitting a chunk of data") runs
    /// only while body bytes wait to be written: a pause of the application
    /// between [`send_data`](Self::send_data) calls, with nothing queued,
    /// does not fail the session. A BDAT chunk whose reply is still due is
    /// the server's wait, not the application's: the timer runs then (RFC
    /// 5321 4.5.3.2: "per-command timeouts"), so a server that never answers
    /// a chunk does not hold the session for ever.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.base = now;
        if self.phase != Phase::Closed && self.timer.expired(now) {
            let idle_body = self.phase == Phase::Body
                && self.transmit.is_empty()
                && !self.expect.contains(&Expect::BdatChunk);
            if self.progress || idle_body {
                self.progress = false;
                self.timer = Deadline::new(self.period);
                self.timer.restart(now);
                return;
            }
            self.close(Error::new(ErrorKind::Timeout, "server did not answer in time"));
        }
    }

    fn close(&mut self, e: Error) {
        // RFC 2033 5: "If the connection closes after replies for some, but
        // not all, recipients have arrived, the client MUST process the
        // replies that arrived and treat the rest as temporary failures."
        if self.cfg.lmtp
            && let Some(t) = self
                .txn
                .take_if(|t| !t.results.is_empty() && t.results.len() < t.end_expected)
        {
            let mut results = t.results;
            results.resize(
                t.end_expected,
                Reply::new(
                    451,
                    Some(EnhancedCode(4, 4, 2)),
                    "Connection lost before this recipient's reply",
                ),
            );
            self.events.push_back(ClientEvent::MessageResult(results));
        } else if matches!(
            e.kind(),
            ErrorKind::Eof
                | ErrorKind::Timeout
                | ErrorKind::ServiceClosing
                | ErrorKind::BadReply
                | ErrorKind::UnexpectedReply
        ) && self.txn.take().is_some()
        {
            // RFC 5321 3.8: a client that loses the connection "SHOULD ...
            // treat the mail transaction as if a 451 response had been
            // received": the transaction in progress ends with the server's
            // 421 when that is what closed it, else with a 451. The client's
            // own reasons to stop (a message over SIZE in DATA, a refused
            // encoding) keep their own error alone.
            let why = self.close_reply.take().unwrap_or_else(|| {
                Reply::new(
                    451,
                    Some(EnhancedCode(4, 4, 2)),
                    "Connection lost during the transaction",
                )
            });
            self.events.push_back(ClientEvent::TransactionFailed(why));
        }
        self.close_reply = None;
        self.phase = Phase::Closed;
        self.timer.stop();
        self.input.clear();
        if self.fatal.is_none() {
            self.fatal = Some(self.give_up.take().unwrap_or(e));
        }
    }

    /// The session cannot go on (the greeting or EHLO/HELO/LHLO refused, TLS
    /// required but not to be had): it still says QUIT and reads the answer
    /// (RFC 5321 3.1: a server that refused the session "MUST still wait for
    /// the client to send a QUIT"; 4.1.1.10: the sender "MUST NOT
    /// intentionally close the transmission channel until it sends a QUIT
    /// command"), then fails with `e`.
    fn give_up(&mut self, e: Error) {
        self.planned.clear();
        self.txn = None;
        self.give_up = Some(e);
        self.quit_wanted = true;
        self.maybe_quit();
    }

    /// Sends QUIT once it was asked for and the server may take it: with
    /// PIPELINING behind anything but a command that changes what the server
    /// reads next (DATA, BDAT, STARTTLS, AUTH, EHLO; RFC 2920 3.1), without
    /// it only when no reply is outstanding (RFC 5321 4.3.1), and never in a
    /// body.
    fn maybe_quit(&mut self) {
        if !self.quit_wanted
            || self.quit_sent
            || matches!(self.phase, Phase::Body | Phase::AwaitTls | Phase::Closed)
            || !self.planned.is_empty()
            || self.bdat_last_deferred
        {
            return;
        }
        let clear = if self.pipelined() {
            self.expect
                .iter()
                .all(|e| matches!(e, Expect::Mail | Expect::Rcpt(_) | Expect::Rset | Expect::Stale))
        } else {
            self.expect.is_empty()
        };
        if !clear {
            return;
        }
        self.quit_sent = true;
        self.send_simple(&Command::Quit, Expect::Quit);
    }

    /// Runs the per-command timer with `period`. The session learns the time
    /// only through calls that take `now`, so a restart after a reply is
    /// recorded as progress: an expiry with progress restarts the timer from
    /// the expiry time instead of failing (a timeout never fires early, and at
    /// most one old period late).
    fn rearm(&mut self, period: Duration) {
        self.period = period;
        if self.timer.at().is_none() {
            self.timer = Deadline::new(period);
            self.timer.restart(self.base);
        } else {
            self.progress = true;
        }
    }

    /// Sends a command and records the reply it waits for.
    fn send(&mut self, cmd: &Command<'_>, expect: Expect) -> Result<(), UsageError> {
        cmd.encode(self.transmit.buf_mut())
            .map_err(|_| UsageError::BadArgument("command argument refused by the encoder"))?;
        self.await_reply(expect);
        Ok(())
    }

    /// Records the reply a command just queued waits for, and runs its timer.
    fn await_reply(&mut self, expect: Expect) {
        if self.expect.is_empty() {
            let t = self.cfg.timeouts;
            let period = match expect {
                Expect::Rcpt(_) => t.rcpt,
                Expect::Data => t.data_initiation,
                Expect::DataEnd | Expect::BdatChunk => t.data_termination,
                _ => t.mail,
            };
            self.rearm(period);
        }
        self.expect.push_back(expect);
    }

    /// Runs the protocol until the next event.
    ///
    /// # Errors
    ///
    /// A fatal [`Error`], returned once.
    pub fn poll_event(&mut self) -> Result<Option<ClientEvent>, Error> {
        loop {
            if let Some(ev) = self.events.pop_front() {
                return Ok(Some(ev));
            }
            if let Some(e) = self.fatal.take() {
                return Err(e);
            }
            if self.phase == Phase::AwaitTls && self.eof {
                // The server closed instead of running the handshake.
                self.close(Error::new(ErrorKind::Eof, "server closed the connection"));
                continue;
            }
            if matches!(self.phase, Phase::Closed | Phase::AwaitTls) {
                return Ok(None);
            }
            let Some(line) = self.framer.next_line(&mut self.input) else {
                if self.eof {
                    let e = if self.lmtp_421 {
                        Error::new(ErrorKind::ServiceClosing, "server closing (421)")
                    } else {
                        Error::new(ErrorKind::Eof, "server closed the connection")
                    };
                    self.close(e);
                    continue;
                }
                return Ok(None);
            };
            let Ok(line) = line else {
                self.close(Error::new(
                    ErrorKind::BadReply,
                    "reply line too long or with bare CR/LF",
                ));
                continue;
            };
            // RFC 5321 4.5.3.1.5: reply lines are at most `reply_line` octets
            // with the CRLF. Only an AUTH challenge (334 while AUTH is under
            // way) may reach `auth_line` (RFC 4954 4).
            if line.len() + 2 > self.cfg.limits.reply_line
                && !(self.expect.front() == Some(&Expect::Auth) && line.starts_with(b"334"))
            {
                self.close(Error::new(ErrorKind::BadReply, "reply line too long"));
                continue;
            }
            match self.replies.push_line(&line) {
                Ok(Some(reply)) => self.on_reply(reply),
                Ok(None) => {}
                Err(_) => self.close(Error::new(ErrorKind::BadReply, "malformed reply").with_bytes(&line)),
            }
        }
    }

    fn on_reply(&mut self, r: Reply) {
        let Some(exp) = self.expect.pop_front() else {
            if r.code() == 421 {
                self.close_reply = Some(r);
                self.close(Error::new(ErrorKind::ServiceClosing, "server closing (421)"));
            } else {
                // A refusal nobody asked for (in the body, say) still says
                // why the transaction failed (RFC 5321 4.2.1: the first
                // digit tells the client what to do).
                if r.is_transient() || r.is_permanent() {
                    self.close_reply = Some(r);
                }
                self.close(Error::new(ErrorKind::UnexpectedReply, "reply without a command"));
            }
            return;
        };
        if !self.expect.is_empty() {
            self.progress = true;
        }
        if r.code() == 421 && exp == Expect::DataEnd && self.lmtp_recipient_replies() {
            // RFC 2033 4.2: after the end of data each recipient gets its
            // own reply, and a 421 (RFC 5321 3.8: it may come in place of
            // any reply) is this recipient's. The server closes next, but
            // the replies it sent before closing are read first: RFC 2033
            // 5, the client "MUST process the replies that arrived and
            // treat the rest as temporary failures".
            self.lmtp_421 = true;
        } else if r.code() == 421 && exp != Expect::Quit {
            self.close_reply = Some(r);
            self.close(Error::new(ErrorKind::ServiceClosing, "server closing (421)"));
            return;
        }
        match exp {
            Expect::Greeting => {
                if r.code() == 220 {
                    if !self.quit_wanted {
                        self.send_greeting_cmd(false);
                    }
                } else {
                    self.give_up(Error::new(
                        ErrorKind::ServiceClosing,
                        "server refused the session",
                    ));
                }
            }
            Expect::Ehlo => {
                if r.code() == 250 {
                    self.caps = Capabilities::from_reply(&r);
                    self.after_ehlo();
                } else if self.quit_wanted {
                    // QUIT follows; no HELO first.
                } else if self.cfg.lmtp {
                    self.give_up(Error::new(ErrorKind::UnexpectedReply, "LHLO refused"));
                } else {
                    self.send_greeting_cmd(true);
                }
            }
            Expect::Helo => {
                if r.code() == 250 {
                    self.caps = Capabilities::from_reply(&r);
                    self.caps.extensions.clear();
                    self.after_ehlo();
                } else {
                    self.give_up(Error::new(ErrorKind::UnexpectedReply, "HELO refused"));
                }
            }
            Expect::StartTls => {
                if r.code() == 220 {
                    self.phase = Phase::AwaitTls;
                    self.timer.stop();
                    self.progress = false;
                    self.events.push_back(ClientEvent::StartTls);
                    let n = self.input.len();
                    self.input.clear();
                    self.framer.reset();
                    self.replies.reset();
                    if n > 0 {
                        self.events.push_back(ClientEvent::PlaintextDiscarded { len: n });
                    }
                } else if self.cfg.tls == TlsPolicy::Required {
                    self.give_up(Error::new(ErrorKind::TlsUnavailable, "STARTTLS refused"));
                } else {
                    self.after_ehlo();
                }
            }
            Expect::Auth => self.on_auth_reply(&r),
            Expect::Mail => {
                let ok = r.is_positive();
                if let Some(t) = self.txn.as_mut() {
                    t.mail_ok = ok;
                    if !ok {
                        t.failed.get_or_insert(r.clone());
                    }
                }
                self.events.push_back(ClientEvent::MailResult(r.clone()));
                if !ok && !self.pipelined() {
                    self.planned.clear();
                    self.end_txn_failed(r);
                }
                self.pump();
            }
            Expect::Rcpt(index) => {
                let n_rcpt = self.txn.as_ref().map_or(0, |t| t.env.recipients.len());
                if let Some(t) = self.txn.as_mut() {
                    t.answered += 1;
                    if r.is_positive() {
                        t.accepted += 1;
                    } else {
                        t.rcpt_refused = Some(r.clone());
                    }
                }
                self.events.push_back(ClientEvent::RcptResult {
                    index,
                    reply: r.clone(),
                });
                let (accepted, answered, bdat, mail_ok) =
                    self.txn.as_ref().map_or((0, 0, false, false), |t| {
                        (t.accepted, t.answered, t.bdat, t.mail_ok)
                    });
                if answered == n_rcpt {
                    if (accepted == 0 || !mail_ok) && (bdat || !self.pipelined()) {
                        // Nothing to deliver (no recipient, or MAIL refused
                        // while the RCPTs were pipelined): DATA was not sent yet.
                        self.planned.clear();
                        let why = self.txn.as_ref().and_then(|t| t.failed.clone()).unwrap_or(r);
                        self.end_txn_failed(why);
                    } else if bdat && mail_ok && accepted > 0 {
                        self.phase = Phase::Body;
                        self.events.push_back(ClientEvent::SendBody);
                    }
                }
                self.pump();
            }
            Expect::Data => {
                let (accepted, mail_ok) = self.txn.as_ref().map_or((0, false), |t| (t.accepted, t.mail_ok));
                if r.code() == 354 {
                    if accepted == 0 || !mail_ok {
                        // RFC 2920 3.1: the server took DATA although no RCPT
                        // succeeded, or MAIL was refused (no transaction, RFC
                        // 5321 3.3); send an empty body and ignore the result.
                        // The transaction failed with the MAIL refusal, or
                        // else with the last RCPT refusal (as when the RCPTs
                        // were not pipelined), both replies the server sent.
                        self.transmit.push(b".\r\n");
                        self.expect.push_back(Expect::DataEnd);
                        if let Some(t) = self.txn.as_mut() {
                            t.end_expected = 1;
                            if t.failed.is_none() {
                                t.failed = t.rcpt_refused.take();
                            }
                        }
                    } else {
                        self.phase = Phase::Body;
                        self.dot.reset();
                        self.rearm(self.cfg.timeouts.data_block);
                        self.events.push_back(ClientEvent::SendBody);
                    }
                } else if r.is_transient() || r.is_permanent() {
                    let why = self.txn.as_ref().and_then(|t| t.failed.clone()).unwrap_or(r);
                    self.end_txn_failed(why);
                } else {
                    // RFC 5321 4.3.2: DATA is answered 354 or refused (4yz,
                    // 5yz). After a 2yz or another 3yz no body was sent, so
                    // nothing was delivered, and the server may be reading
                    // a body all the same: RSET or the next transaction
                    // would become its text. The transaction fails as
                    // temporary (never with the 2yz, which reads as
                    // "delivered") and the session ends.
                    self.close_reply = Some(self.txn.as_ref().and_then(|t| t.failed.clone()).unwrap_or_else(
                        || {
                            Reply::new(
                                451,
                                Some(EnhancedCode(4, 5, 0)),
                                "DATA was neither answered 354 nor refused; the message was not sent",
                            )
                        },
                    ));
                    self.close(Error::new(
                        ErrorKind::UnexpectedReply,
                        "reply to DATA neither 354 nor a refusal",
                    ));
                }
            }
            Expect::BdatChunk => {
                if !r.is_positive() {
                    self.fail_bdat_txn(r);
                } else if self.bdat_last_deferred && !self.expect.contains(&Expect::BdatChunk) {
                    self.bdat_last_deferred = false;
                    self.send_bdat_last();
                }
            }
            Expect::Stale => {
                if self.rset_deferred && self.expect.is_empty() {
                    self.rset_deferred = false;
                    let _ = self.send(&Command::Rset, Expect::Rset);
                }
            }
            Expect::DataEnd => {
                let done = match self.txn.as_mut() {
                    Some(t) => {
                        t.results.push(r);
                        t.results.len() >= t.end_expected
                    }
                    None => true,
                };
                if done && let Some(t) = self.txn.take() {
                    self.phase = Phase::Idle;
                    // RFC 5321 4.3.2: the end of data is answered 2yz, 4yz
                    // or 5yz. After a 3yz the server waits for more (4.2.1),
                    // perhaps still reading the body; after an LMTP 421 it
                    // closes. The result is reported, and nothing more is
                    // sent (no RSET, no QUIT).
                    let abeyance = t.results.iter().any(Reply::is_intermediate);
                    let closing = abeyance || self.lmtp_421;
                    match t.failed {
                        Some(f) if t.accepted == 0 || !t.mail_ok || t.bdat => {
                            if t.mail_ok && !closing {
                                let _ = self.send(&Command::Rset, Expect::Rset);
                            }
                            self.events.push_back(ClientEvent::TransactionFailed(f));
                        }
                        _ => {
                            // RFC 3030 2: after a failed BDAT (BDAT LAST
                            // included) "A RSET command MUST be issued to
                            // clear the transaction before additional
                            // commands may be sent."
                            if t.bdat && !closing && t.results.iter().any(|r| !r.is_positive()) {
                                let _ = self.send(&Command::Rset, Expect::Rset);
                            }
                            self.events.push_back(ClientEvent::MessageResult(t.results));
                        }
                    }
                    if abeyance {
                        self.close(Error::new(
                            ErrorKind::UnexpectedReply,
                            "end of data answered with a 3yz",
                        ));
                        return;
                    }
                    if self.lmtp_421 {
                        self.close(Error::new(ErrorKind::ServiceClosing, "server closing (421)"));
                        return;
                    }
                    if self.expect.is_empty() {
                        self.timer.stop();
                    }
                }
            }
            Expect::Rset => {
                if self.expect.is_empty() && self.planned.is_empty() {
                    self.timer.stop();
                }
                self.pump();
            }
            Expect::Quit => {
                if let Some(e) = self.give_up.take() {
                    self.close(e);
                } else {
                    self.phase = Phase::Closed;
                    self.timer.stop();
                    self.events.push_back(ClientEvent::Closed);
                }
            }
        }
        // A QUIT held back until now goes out on this reply, with no `now`
        // at hand: if the timer was stopped above, `rearm` starts it from
        // the last time the session was told, which may be most of a period
        // ago. Counting the send as progress makes that first deadline a
        // restart, so QUIT still gets a whole period (RFC 5321 4.5.3.2).
        let stopped = self.timer.at().is_none();
        let quit_sent = self.quit_sent;
        self.maybe_quit();
        if stopped && !quit_sent && self.quit_sent {
            self.progress = true;
        }
    }

    /// LMTP, after the end of data of a message for several recipients:
    /// the replies coming in are one per recipient (RFC 2033 4.2).
    fn lmtp_recipient_replies(&self) -> bool {
        self.cfg.lmtp
            && self
                .txn
                .as_ref()
                .is_some_and(|t| t.failed.is_none() && t.end_expected > 1)
    }

    /// A BDAT transaction failed (a chunk was refused, or the body outgrew
    /// the server's SIZE): no further chunk goes out (RFC 3030 2: "MUST NOT
    /// send any additional BDAT segments"), the replies still due for chunks
    /// already sent are ignored, and RSET clears the indeterminate state.
    fn fail_bdat_txn(&mut self, why: Reply) {
        if self.txn.take().is_none() {
            return;
        }
        for e in &mut self.expect {
            if matches!(e, Expect::BdatChunk | Expect::DataEnd) {
                *e = Expect::Stale;
            }
        }
        self.bdat_cr = false;
        self.bdat_last_deferred = false;
        self.phase = Phase::Idle;
        if self.pipelined() || self.expect.is_empty() {
            let _ = self.send(&Command::Rset, Expect::Rset);
        } else {
            // Without PIPELINING, RSET waits for the chunk replies still due
            // (RFC 5321 4.3.1); the last of them sends it.
            self.rset_deferred = true;
        }
        self.events.push_back(ClientEvent::TransactionFailed(why));
    }

    fn end_txn_failed(&mut self, why: Reply) {
        if let Some(t) = self.txn.take() {
            if t.mail_ok {
                let _ = self.send(&Command::Rset, Expect::Rset);
            }
            self.phase = Phase::Idle;
            self.events.push_back(ClientEvent::TransactionFailed(why));
        }
        if self.expect.is_empty() {
            self.timer.stop();
        }
    }

    fn send_simple(&mut self, cmd: &Command<'_>, e: Expect) {
        if self.send(cmd, e).is_err() {
            self.close(Error::new(ErrorKind::Closed, "could not encode a command"));
        }
    }

    fn send_greeting_cmd(&mut self, helo: bool) {
        let name = self.cfg.helo_name.clone();
        // RFC 6531 3.7.1: the client "MUST send only ASCII (LDH label or
        // A-label [RFC5890]) domains in the EHLO command" (the encoder
        // refuses a U-label). A name that cannot be sent goes the way of any
        // other unusable one, instead of failing the session without QUIT.
        let host = Host::own_name(&name);
        if helo && !matches!(host, Host::Domain(_)) {
            // RFC 5321 4.1.1.1: `helo = "HELO" SP Domain CRLF`.
            self.give_up(Error::new(
                ErrorKind::UnexpectedReply,
                "EHLO refused, and HELO takes no address literal",
            ));
            return;
        }
        let (cmd, e) = if helo {
            (Command::Helo { host }, Expect::Helo)
        } else if self.cfg.lmtp {
            (Command::Lhlo { host }, Expect::Ehlo)
        } else {
            (Command::Ehlo { host }, Expect::Ehlo)
        };
        self.send_simple(&cmd, e);
    }

    fn after_ehlo(&mut self) {
        if self.quit_wanted {
            // QUIT follows (maybe_quit); no STARTTLS or AUTH first.
            self.phase = Phase::Idle;
            return;
        }
        if !self.tls && !self.tried_tls && self.cfg.tls != TlsPolicy::Disabled {
            if self.caps.has(&EhloKeyword::StartTls) {
                if !self.input.is_empty() {
                    // Bytes after the EHLO reply, before STARTTLS went out:
                    // no server sends those; taken as the answer to STARTTLS
                    // they would make the handshake start in the wrong place.
                    self.close(Error::new(
                        ErrorKind::UnexpectedReply,
                        "server sent data before STARTTLS",
                    ));
                    return;
                }
                self.tried_tls = true;
                self.send_simple(&Command::StartTls, Expect::StartTls);
                return;
            }
            if self.cfg.tls == TlsPolicy::Required {
                self.give_up(Error::new(
                    ErrorKind::TlsUnavailable,
                    "server does not offer STARTTLS",
                ));
                return;
            }
        }
        if self.start_auth() {
            return;
        }
        self.setup_done();
    }

    /// Starts AUTH when credentials are configured and the server offers a
    /// usable mechanism; false otherwise (an `AuthFailed(None)` event says
    /// when credentials were configured but AUTH could not start).
    fn start_auth(&mut self) -> bool {
        let Some(creds) = self.cfg.credentials.as_ref() else {
            return false;
        };
        if self.authenticated {
            return false;
        }
        let offered = self.caps.auth_mechanisms();
        let secure = self.tls || self.cfg.allow_plaintext_auth;
        let Some(mech) = sasl::choose(&offered, creds, secure) else {
            self.events.push_back(ClientEvent::AuthFailed(None));
            return false;
        };
        let Ok(mut m) = sasl::client(mech, creds) else {
            self.events.push_back(ClientEvent::AuthFailed(None));
            return false;
        };
        let Ok(ir) = m.initial_response() else {
            self.events.push_back(ClientEvent::AuthFailed(None));
            return false;
        };
        let name = mech.name();
        let mut line = BytesMut::new();
        line.put_slice(b"AUTH ");
        line.put_slice(name.as_bytes());
        if let Some(ir) = ir {
            line.put_u8(b' ');
            if ir.expose().is_empty() {
                line.put_u8(b'=');
            } else {
                line.put_slice(B64.encode(ir.expose()).as_bytes());
            }
        }
        line.put_slice(b"\r\n");
        if line.len() > self.cfg.limits.auth_line {
            self.events.push_back(ClientEvent::AuthFailed(None));
            return false;
        }
        self.transmit.push(&line);
        self.auth = Some(m);
        self.auth_cancelled = false;
        self.rearm(self.cfg.timeouts.mail);
        self.expect.push_back(Expect::Auth);
        true
    }

    fn on_auth_reply(&mut self, r: &Reply) {
        if r.code() == 334 && self.quit_wanted && !self.auth_cancelled {
            // Leaving: cancel the exchange (RFC 4954 4), QUIT follows its 501.
            self.auth_cancelled = true;
            self.transmit.push(b"*\r\n");
            self.progress = true;
            self.expect.push_back(Expect::Auth);
            return;
        }
        if r.code() == 334 && !self.auth_cancelled {
            let text = r.lines().first().map(AsRef::as_ref).unwrap_or_default();
            let answer = match (B64.decode(text), self.auth.as_mut()) {
                (Ok(ch), Some(m)) => m.respond(&ch).ok(),
                _ => None,
            };
            // A response line over the AUTH line limit (RFC 4954 4: 12288
            // octets, CRLF included) is not sent, as the AUTH command is not
            // (`start_auth`): the server would refuse it with 500.
            let max = self.cfg.limits.auth_line;
            let answer = answer
                .map(|a| B64.encode(a.expose()))
                .filter(|enc| enc.len().saturating_add(2) <= max);
            match answer {
                Some(enc) => {
                    self.transmit.push(enc.as_bytes());
                    self.transmit.push(b"\r\n");
                }
                None => {
                    // RFC 4954 4: "*" cancels; the server answers 501.
                    self.auth_cancelled = true;
                    self.transmit.push(b"*\r\n");
                }
            }
            self.progress = true;
            self.expect.push_back(Expect::Auth);
            return;
        }
        let m = self.auth.take();
        if r.code() == 235 && !self.auth_cancelled {
            if let Some(mut m) = m
                && m.finish(None).is_ok()
            {
                self.authenticated = true;
                self.events.push_back(ClientEvent::Authenticated);
            } else {
                // The server could not be verified (SCRAM server signature).
                self.events.push_back(ClientEvent::AuthFailed(Some(r.clone())));
            }
        } else {
            self.events.push_back(ClientEvent::AuthFailed(Some(r.clone())));
        }
        self.setup_done();
    }

    pub(crate) fn setup_done(&mut self) {
        self.phase = Phase::Idle;
        if self.quit_wanted {
            // Leaving: QUIT follows (maybe_quit), no Ready.
            return;
        }
        if self.expect.is_empty() {
            self.timer.stop();
        }
        self.events.push_back(ClientEvent::Ready);
    }

    /// The TLS handshake after [`ClientEvent::StartTls`] completed; EHLO is sent again
    /// (RFC 3207 4.2).
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] when no STARTTLS is in progress.
    pub fn tls_established(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.phase != Phase::AwaitTls {
            return Err(UsageError::WrongState);
        }
        self.tls = true;
        self.phase = Phase::Setup;
        self.caps = Capabilities::default();
        self.base = now;
        self.timer.stop();
        if self.discarded > 0 {
            self.events
                .push_back(ClientEvent::PlaintextDiscarded { len: self.discarded });
            self.discarded = 0;
        }
        self.send_greeting_cmd(false);
        Ok(())
    }

    fn pipelined(&self) -> bool {
        self.cfg.pipelining && self.caps.has(&EhloKeyword::Pipelining)
    }

    /// Starts a mail transaction. MAIL, RCPT and DATA (or, with BDAT, MAIL and
    /// RCPT) are sent as the server allows; watch for [`ClientEvent::SendBody`].
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] when not ready; [`UsageError::TooLarge`] when
    /// SIZE exceeds the server's limit; [`UsageError::MissingExtension`] when
    /// a parameter needs an extension the server lacks; [`UsageError::BadArgument`]
    /// for an address or parameter that cannot be sent (a path longer than
    /// [`Limits::path`], 256 octets with its angle brackets, included).
    pub fn send_mail(&mut self, env: Envelope, now: Instant) -> Result<(), UsageError> {
        if self.phase == Phase::Closed {
            return Err(UsageError::Closed);
        }
        if self.phase != Phase::Idle || self.txn.is_some() || self.quit_wanted {
            return Err(UsageError::WrongState);
        }
        if env.recipients.is_empty() {
            return Err(UsageError::BadArgument("no recipients"));
        }
        self.check_envelope(&env)?;
        // Without PIPELINING every BDAT waits for its reply (RFC 5321 4.3.1,
        // RFC 3030 2), a round trip per chunk: DATA is used instead unless
        // the body is BINARYMIME, which only BDAT can carry.
        let bdat = env.body == Some(BodyType::BinaryMime)
            || (self.cfg.chunking && self.caps.has(&EhloKeyword::Chunking) && self.pipelined());
        self.base = now;
        self.planned.push_back(Planned::Mail);
        for i in 0..env.recipients.len() {
            self.planned.push_back(Planned::Rcpt(i));
        }
        if !bdat {
            self.planned.push_back(Planned::Data);
        }
        self.txn = Some(Txn {
            env,
            mail_ok: false,
            accepted: 0,
            answered: 0,
            bdat,
            failed: None,
            rcpt_refused: None,
            body_sent: 0,
            line_len: 0,
            results: Vec::new(),
            end_expected: 1,
        });
        self.phase = Phase::Txn;
        self.pump();
        Ok(())
    }

    fn check_envelope(&self, env: &Envelope) -> Result<(), UsageError> {
        let caps = &self.caps;
        if let (Some(n), Some(max)) = (env.size, caps.size())
            && max > 0
            && n > max
        {
            return Err(UsageError::TooLarge);
        }
        match env.body {
            Some(BodyType::EightBitMime) if !caps.has(&EhloKeyword::EightBitMime) => {
                return Err(UsageError::MissingExtension("8BITMIME"));
            }
            Some(BodyType::BinaryMime)
                if !(caps.has(&EhloKeyword::BinaryMime) && caps.has(&EhloKeyword::Chunking)) =>
            {
                return Err(UsageError::MissingExtension("BINARYMIME"));
            }
            _ => {}
        }
        let dsn = env.ret.is_some()
            || env.envid.is_some()
            || env
                .recipients
                .iter()
                .any(|r| r.notify.is_some() || r.orcpt.is_some());
        if dsn && !caps.has(&EhloKeyword::Dsn) {
            return Err(UsageError::MissingExtension("DSN"));
        }
        if env.smtputf8 && !caps.has(&EhloKeyword::SmtpUtf8) {
            return Err(UsageError::MissingExtension("SMTPUTF8"));
        }
        if env.requiretls && !(self.tls && caps.has(&EhloKeyword::RequireTls)) {
            return Err(UsageError::MissingExtension("REQUIRETLS"));
        }
        if env.mt_priority.is_some() && !caps.has(&EhloKeyword::MtPriority) {
            return Err(UsageError::MissingExtension("MT-PRIORITY"));
        }
        // RFC 3461 4.4 and 4.2: the ENVID and the original recipient address
        // "prior to encoding as "xtext" MUST consist entirely of printable
        // (graphic and white space) characters from the US-ASCII repertoire".
        // An addr-type for other characters defines its own ASCII form
        // (RFC 3461 4.2): `utf-8` (RFC 6533) is passed on as given.
        let printable = |s: &str| s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
        if env.envid.as_deref().is_some_and(|e| !printable(e)) {
            return Err(UsageError::BadArgument(
                "ENVID must be printable US-ASCII (RFC 3461 4.4)",
            ));
        }
        if env.recipients.iter().any(|r| {
            r.orcpt
                .as_ref()
                .is_some_and(|(t, a)| !t.eq_ignore_ascii_case("utf-8") && !printable(a))
        }) {
            return Err(UsageError::BadArgument(
                "ORCPT address must be printable US-ASCII (RFC 3461 4.2)",
            ));
        }
        let ascii = env.from.is_ascii() && env.recipients.iter().all(|r| r.address.is_ascii());
        if !ascii && !env.smtputf8 {
            return Err(UsageError::BadArgument("non-ASCII address needs SMTPUTF8"));
        }
        // RFC 5321 4.5.3.1.3: a path is at most 256 octets with its angle
        // brackets; a server may refuse a longer one, so it is not sent.
        let max_path = self.cfg.limits.path;
        let too_long = |a: &str| a.len().saturating_add(2) > max_path;
        if too_long(&env.from) || env.recipients.iter().any(|r| too_long(&r.address)) {
            return Err(UsageError::BadArgument("path longer than Limits::path"));
        }
        // Everything else the encoder would refuse (addresses, an ORCPT type
        // that is not an atom, MT-PRIORITY outside -9..9, CR/LF/NUL): found
        // here, before anything is sent, and not halfway through the envelope.
        let mut scratch = BytesMut::new();
        encode_mail(caps, env, &mut scratch)?;
        for i in 0..env.recipients.len() {
            scratch.clear();
            encode_rcpt(env, i, &mut scratch)?;
        }
        Ok(())
    }

    /// Sends planned commands as far as pipelining allows.
    fn pump(&mut self) {
        while let Some(&p) = self.planned.front() {
            if !self.pipelined() && !self.expect.is_empty() {
                return;
            }
            if p != Planned::Mail && !self.pipelined() {
                let (mail_ok, accepted, answered, n) = self.txn.as_ref().map_or((false, 0, 0, 0), |t| {
                    (t.mail_ok, t.accepted, t.answered, t.env.recipients.len())
                });
                if !mail_ok || (p == Planned::Data && (accepted == 0 || answered < n)) {
                    return;
                }
            }
            self.planned.pop_front();
            let Some(t) = self.txn.as_ref() else { return };
            let out = self.transmit.buf_mut();
            let r = match p {
                Planned::Mail => encode_mail(&self.caps, &t.env, out).map(|()| Expect::Mail),
                Planned::Rcpt(i) => encode_rcpt(&t.env, i, out).map(|()| Expect::Rcpt(i)),
                Planned::Data => Command::Data
                    .encode(out)
                    .map(|()| Expect::Data)
                    .map_err(|_| UsageError::WrongState),
            };
            let r = r.map(|e| self.await_reply(e));
            if r.is_err() {
                // Validated in send_mail; an encoder refusal here is a bug, fail the transaction.
                self.planned.clear();
                self.close(Error::new(ErrorKind::Closed, "envelope refused by the encoder"));
                return;
            }
        }
    }

    /// Streams body bytes (after [`ClientEvent::SendBody`]). Returns how many
    /// bytes of `data` were taken: fewer than given (possibly 0) when the
    /// transmit buffer is full; write it out and call again with the rest.
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] outside the body; [`UsageError::BadArgument`]
    /// for a bare CR or LF (never sent, RFC 5321 2.3.8) unless the body is
    /// BINARYMIME, and for an octet above 127 unless the envelope declared
    /// [`BodyType::EightBitMime`] or BINARYMIME (or SMTPUTF8) (RFC 6152 3),
    /// and for a text line longer than [`Limits::text_line`] (1000 octets
    /// with its CRLF, RFC 5321 4.5.3.1.6; not for BINARYMIME);
    /// a refused piece sends nothing (mend it, or give the message up with
    /// [`abort_message`](Self::abort_message)); [`UsageError::TooLarge`] beyond the
    /// server's SIZE. A body
    /// that outgrows the SIZE is never delivered truncated: a BDAT transaction
    /// ends with [`ClientEvent::TransactionFailed`] (and RSET); in DATA, which
    /// cannot be cancelled, the session fails with [`ErrorKind::MessageTooLarge`]
    /// and the driver must close the connection.
    pub fn send_data(&mut self, data: &[u8]) -> Result<usize, UsageError> {
        if self.phase != Phase::Body {
            return Err(UsageError::WrongState);
        }
        let room = self.cfg.max_buffer.max(1).saturating_sub(self.transmit.len());
        let n = room.min(data.len());
        if n == 0 || self.awaiting_chunk_reply() {
            return Ok(0);
        }
        let piece = &data[..n];
        let (bdat, binary, eight_bit, sent) = match self.txn.as_ref() {
            Some(t) => (
                t.bdat,
                t.env.body == Some(BodyType::BinaryMime),
                matches!(t.env.body, Some(BodyType::EightBitMime | BodyType::BinaryMime)) || t.env.smtputf8,
                t.body_sent,
            ),
            None => return Err(UsageError::WrongState),
        };
        // RFC 6152 3: without BODY=8BITMIME (or BINARYMIME, or SMTPUTF8,
        // which needs 8BITMIME, RFC 6531 3.1) the client "must not, under
        // any circumstances, attempt to transfer a content that contains
        // characters outside of the US-ASCII octet range".
        if !eight_bit && !piece.is_ascii() {
            return Err(UsageError::BadArgument(
                "8-bit octet in a body not declared BODY=8BITMIME",
            ));
        }
        let line_len = if binary {
            0
        } else {
            let before = self.txn.as_ref().map_or(0, |t| t.line_len);
            text_line_after(before, piece, self.cfg.limits.text_line)
                .ok_or(UsageError::BadArgument("text line longer than Limits::text_line"))?
        };
        if let Some(max) = self.caps.size()
            && max > 0
            && sent + n as u64 > max
        {
            // Never let a truncated message be delivered: a BDAT transaction
            // is reset; DATA cannot be cancelled, so the session closes and
            // the server, seeing no end of data, drops the partial message.
            if bdat {
                self.fail_bdat_txn(Reply::new(
                    552,
                    Some(EnhancedCode(5, 3, 4)),
                    "Message exceeds the server's SIZE limit, not sent",
                ));
            } else {
                self.close(Error::new(
                    ErrorKind::MessageTooLarge,
                    "message exceeds the server's SIZE limit; close the connection so that no partial message is delivered",
                ));
            }
            return Err(UsageError::TooLarge);
        }
        if bdat {
            if !binary {
                let mut cr = self.bdat_cr;
                for (i, &b) in piece.iter().enumerate() {
                    let bare = (cr && b != b'\n') || (b == b'\n' && !cr);
                    if bare {
                        let _ = i;
                        return Err(UsageError::BadArgument("bare CR or LF in body"));
                    }
                    cr = b == b'\r';
                }
                self.bdat_cr = cr;
            }
            let buf = self.transmit.buf_mut();
            buf.put_slice(format!("BDAT {n}\r\n").as_bytes());
            buf.put_slice(piece);
            self.expect.push_back(Expect::BdatChunk);
        } else {
            // Stuff straight into the transmit buffer. A refused piece writes
            // nothing and leaves the encoder as it was (a "." opening the next
            // line is still doubled, a CR already sent still needs its LF).
            if self.dot.encode(piece, self.transmit.buf_mut()).is_err() {
                return Err(UsageError::BadArgument("bare CR or LF in body"));
            }
        }
        if let Some(t) = self.txn.as_mut() {
            t.body_sent += n as u64;
            t.line_len = line_len;
        }
        self.progress = true;
        Ok(n)
    }

    /// Whether `send_data` must wait: BDAT without PIPELINING and the last
    /// chunk's reply not in yet.
    fn awaiting_chunk_reply(&self) -> bool {
        !self.pipelined() && self.expect.contains(&Expect::BdatChunk)
    }

    /// Sends `BDAT 0 LAST` and waits for the end-of-data replies.
    fn send_bdat_last(&mut self) {
        self.transmit.push(b"BDAT 0 LAST\r\n");
        let n = match self.txn.as_mut() {
            Some(t) => {
                t.end_expected = if self.cfg.lmtp { t.accepted.max(1) } else { 1 };
                t.end_expected
            }
            None => 1,
        };
        for _ in 0..n {
            self.expect.push_back(Expect::DataEnd);
        }
        self.rearm(self.cfg.timeouts.data_termination);
    }

    /// Ends the body: the terminating `.` (DATA) or `BDAT 0 LAST` (without
    /// PIPELINING, once the last chunk's reply is in).
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] outside the body; [`UsageError::BadArgument`]
    /// when the body ended with a lone CR.
    pub fn finish_data(&mut self) -> Result<(), UsageError> {
        if self.phase != Phase::Body {
            return Err(UsageError::WrongState);
        }
        let (bdat, binary, accepted) = match self.txn.as_ref() {
            Some(t) => (t.bdat, t.env.body == Some(BodyType::BinaryMime), t.accepted),
            None => return Err(UsageError::WrongState),
        };
        if bdat {
            if self.bdat_cr && !binary {
                return Err(UsageError::BadArgument("body ends with a bare CR"));
            }
            self.bdat_cr = false;
            self.phase = Phase::Txn;
            if self.awaiting_chunk_reply() {
                self.bdat_last_deferred = true;
            } else {
                self.send_bdat_last();
            }
            return Ok(());
        }
        let mut scratch = BytesMut::new();
        if self.dot.finish(&mut scratch).is_err() {
            return Err(UsageError::BadArgument("body ends with a bare CR"));
        }
        self.transmit.push(&scratch);
        let n = if self.cfg.lmtp { accepted.max(1) } else { 1 };
        for _ in 0..n {
            self.expect.push_back(Expect::DataEnd);
        }
        if let Some(t) = self.txn.as_mut() {
            t.end_expected = n;
        }
        self.phase = Phase::Txn;
        self.rearm(self.cfg.timeouts.data_termination);
        Ok(())
    }

    /// Gives up the message whose body is being sent (after
    /// [`ClientEvent::SendBody`], before [`finish_data`](Self::finish_data)),
    /// for example after [`send_data`](Self::send_data) refused a piece the
    /// application cannot mend. No end of data is ever sent for it, and
    /// [`ClientEvent::TransactionFailed`] reports every recipient as not
    /// delivered, with a reply the client made up (`451 4.3.0`: the server
    /// never saw the message whole, so nothing was delivered).
    ///
    /// * **BDAT.** Every chunk that went out was complete, so the client can
    ///   stop between chunks: no further BDAT (RFC 3030 2: "the RSET command,
    ///   when issued after the first BDAT and before the BDAT LAST, clears
    ///   all segments sent during that transaction and resets the
    ///   session"), the replies still due for chunks already sent are read
    ///   and ignored, RSET follows (without PIPELINING, once those replies
    ///   are in: RFC 5321 4.3.1), and the session goes on: another
    ///   [`send_mail`](Self::send_mail) may follow.
    /// * **DATA.** RFC 5321 has no way out of DATA but the end of mail data
    ///   indicator, which makes the server take the message (4.1.1.4), and
    ///   QUIT would be read as body text. The only safe way is to close the
    ///   connection: "If the connection is closed prematurely ..., the server
    ///   MUST cancel any pending transaction" (4.1.1.10). The body bytes not
    ///   yet written are dropped, nothing more is queued, and the session
    ///   fails with [`ErrorKind::MessageAbandoned`] (after the
    ///   `TransactionFailed` event): the driver must close the connection
    ///   without writing anything else. `now` is unused then.
    ///
    /// # Errors
    ///
    /// [`UsageError::Closed`] when closed; [`UsageError::WrongState`]
    /// outside a body (before `SendBody`, or after `finish_data`: the end of
    /// data is on its way and the result will come).
    pub fn abort_message(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.phase == Phase::Closed {
            return Err(UsageError::Closed);
        }
        if self.phase != Phase::Body {
            return Err(UsageError::WrongState);
        }
        let bdat = self.txn.as_ref().is_some_and(|t| t.bdat);
        let why = Reply::new(
            451,
            Some(EnhancedCode(4, 3, 0)),
            "Message abandoned by the client, not delivered",
        );
        self.base = now;
        if bdat {
            self.fail_bdat_txn(why);
        } else {
            self.txn = None;
            self.transmit.clear();
            self.events.push_back(ClientEvent::TransactionFailed(why));
            self.close(Error::new(
                ErrorKind::MessageAbandoned,
                "message abandoned during DATA; close the connection so that the server drops it",
            ));
        }
        Ok(())
    }

    /// Ends the session with QUIT; [`ClientEvent::Closed`] follows its reply.
    ///
    /// Envelope commands of a transaction not sent yet are dropped (the
    /// server aborts a transaction on QUIT). QUIT itself goes out as soon as
    /// the server may take it: with PIPELINING at once, unless DATA or BDAT
    /// is outstanding; without it once every outstanding reply is in (RFC
    /// 5321 4.3.1). A transaction whose DATA was already sent still runs to
    /// its result (DATA cannot be withdrawn: the body must still be sent and
    /// finished), and QUIT follows. Calling it again is harmless. `now` starts
    /// QUIT's timer.
    ///
    /// # Errors
    ///
    /// [`UsageError::Closed`] when already closed; [`UsageError::WrongState`]
    /// in a body (finish it, or give it up with
    /// [`abort_message`](Self::abort_message)) or during the STARTTLS handshake.
    pub fn quit(&mut self, now: Instant) -> Result<(), UsageError> {
        match self.phase {
            Phase::Closed => Err(UsageError::Closed),
            Phase::Body | Phase::AwaitTls => Err(UsageError::WrongState),
            _ => {
                self.base = now;
                if !self.quit_wanted {
                    self.quit_wanted = true;
                    self.planned.clear();
                    // A transaction that has not reached its body yet is
                    // abandoned: the replies still due are read and reported.
                    let committed = self
                        .expect
                        .iter()
                        .any(|e| matches!(e, Expect::Data | Expect::BdatChunk | Expect::DataEnd));
                    if !committed && self.phase == Phase::Txn {
                        self.txn = None;
                        self.phase = Phase::Idle;
                    }
                }
                self.maybe_quit();
                Ok(())
            }
        }
    }
}

/// Encodes the MAIL command of `env` as sent to a server with `caps` (SIZE=
/// and AUTH= only when offered) into `out`; [`UsageError::BadArgument`] when
/// the encoder refuses it.
fn encode_mail(caps: &Capabilities, env: &Envelope, out: &mut BytesMut) -> Result<(), UsageError> {
    let envid = env.envid.as_deref().map(|e| XText::encode(e.as_bytes()));
    let auth = env.auth.as_deref().map(|a| {
        if a == "<>" {
            a.to_string()
        } else {
            XText::encode(a.as_bytes())
        }
    });
    let params = MailParams {
        size: env.size.filter(|_| caps.has(&EhloKeyword::Size)),
        // BODY belongs to 8BITMIME (RFC 6152 2) and BINARYMIME (RFC 3030 3);
        // 7BIT, the default, is left out for a server with neither (a HELO
        // server has no extension at all, RFC 5321 2.2.1). The other values
        // were checked against the extensions in `check_envelope`.
        body: env.body.filter(|b| {
            *b != BodyType::SevenBit
                || caps.has(&EhloKeyword::EightBitMime)
                || caps.has(&EhloKeyword::BinaryMime)
        }),
        smtputf8: env.smtputf8,
        ret: env.ret,
        envid: envid.as_deref().map(|e| XText(e.as_bytes())),
        auth: auth
            .as_deref()
            .filter(|_| caps.has(&EhloKeyword::Auth))
            .map(|a| XText(a.as_bytes())),
        requiretls: env.requiretls,
        mt_priority: env.mt_priority,
        other: Default::default(),
    };
    let from = if env.from.is_empty() {
        ReversePath::Null
    } else {
        ReversePath::Mailbox(
            Mailbox::parse(env.from.as_bytes()).map_err(|_| UsageError::BadArgument("bad sender address"))?,
        )
    };
    Command::Mail { from, params }
        .encode(out)
        .map_err(|_| UsageError::BadArgument("MAIL parameter refused by the encoder"))
}

/// Encodes the RCPT command of recipient `i` of `env` into `out`.
fn encode_rcpt(env: &Envelope, i: usize, out: &mut BytesMut) -> Result<(), UsageError> {
    let r = env.recipients.get(i).ok_or(UsageError::WrongState)?;
    let to = if r.address.eq_ignore_ascii_case("postmaster") {
        ForwardPath::Postmaster
    } else {
        ForwardPath::Mailbox(
            Mailbox::parse(r.address.as_bytes())
                .map_err(|_| UsageError::BadArgument("bad recipient address"))?,
        )
    };
    // The utf-8 type has its own ASCII form (RFC 6533 utf-8-addr-xtext).
    let orcpt_x = r.orcpt.as_ref().map(|(t, a)| {
        if t.eq_ignore_ascii_case("utf-8") {
            XText::encode_utf8_addr(a)
        } else {
            XText::encode(a.as_bytes())
        }
    });
    let params = RcptParams {
        notify: r.notify,
        orcpt: r.orcpt.as_ref().zip(orcpt_x.as_ref()).map(|((t, _), x)| Orcpt {
            addr_type: t.as_bytes(),
            addr: XText(x.as_bytes()),
        }),
        other: Default::default(),
    };
    Command::Rcpt { to, params }
        .encode(out)
        .map_err(|_| UsageError::BadArgument("RCPT parameter refused by the encoder"))
}

proto_core::impl_session!(ClientSession, ClientEvent, Error);

/// The length of the current text line after `piece` is taken, when no line
/// it ends or continues is longer than `max` octets with its CRLF (RFC 5321
/// 4.5.3.1.6: 1000; stuffed dots are not counted). `before` is the current
/// line's length so far, a CR waiting for its LF included. A CR counts with
/// the LF that must follow it (the encoders refuse a bare CR).
fn text_line_after(before: usize, piece: &[u8], max: usize) -> Option<usize> {
    let mut cur = before;
    let mut rest = piece;
    while let Some(i) = memchr::memchr(b'\n', rest) {
        // The line: what came before, the octets up to the LF, and the LF.
        if cur.saturating_add(i + 1) > max {
            return None;
        }
        cur = 0;
        rest = &rest[i + 1..];
    }
    cur = cur.saturating_add(rest.len());
    // An open line needs its CRLF still (a trailing CR is already half of it).
    let open = cur - usize::from(rest.last() == Some(&b'\r'));
    (open.saturating_add(2) <= max || cur == 0).then_some(cur)
}
