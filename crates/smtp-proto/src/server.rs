//! [`ServerSession`]: the server side of SMTP, ESMTP and LMTP as a sans-IO state machine.
//!
//! The session answers everything it can decide alone (syntax errors, command
//! order, EHLO, NOOP, RSET, QUIT, the DATA/BDAT mechanics) and asks the
//! application, through [`ServerEvent`]s, about the sender, each recipient,
//! each message and each AUTH step. Decisions come back through
//! [`accept`](ServerSession::accept), [`reject`](ServerSession::reject),
//! [`lmtp_replies`](ServerSession::lmtp_replies), [`auth_challenge`](ServerSession::auth_challenge)
//! and [`auth_finish`](ServerSession::auth_finish). While a decision is
//! pending, [`poll_event`](ServerSession::poll_event) returns `Ok(None)`.
//!
//! The application can also refuse the whole session with a 554 greeting
//! ([`ServerConfig::refuse_service`], RFC 5321 3.1), answer STARTTLS with
//! 454 while TLS cannot be had
//! ([`set_starttls_unavailable`](ServerSession::set_starttls_unavailable),
//! RFC 3207 4), and end the session with 421 at any time
//! ([`shutdown`](ServerSession::shutdown), RFC 5321 3.8).
//!
//! The session always announces ENHANCEDSTATUSCODES, so every 2yz, 4yz and
//! 5yz reply but the greeting and the HELO/EHLO/LHLO reply carries an
//! enhanced status code (RFC 2034 4). A reply the application gives without
//! one is sent with `class.0.0` (RFC 3463 3.1, "Other undefined Status") on
//! each line; the line limit applies to the lines as sent.
//!
//! # Pipelining (RFC 2920)
//!
//! Replies are produced in command order and held back until a
//! synchronisation point: when the session runs out of buffered input, or
//! after a command that must end a group (EHLO, HELO, LHLO, DATA, VRFY, EXPN,
//! NOOP, QUIT, STARTTLS, AUTH). RFC 2920 3.1 lists EHLO, DATA, VRFY, EXPN,
//! TURN, QUIT and NOOP; HELO and LHLO are EHLO's kin, STARTTLS (RFC 3207 4.2)
//! and AUTH (RFC 4954 4) say so themselves. HELP and ETRN are in no such list
//! and are ordinary pipelinable commands. An AUTH with an initial response
//! for PLAIN, EXTERNAL or ANONYMOUS, which complete in one round trip, need
//! not end a group (the exception of RFC 4954 4). Like Postfix's
//! `smtpd_forbid_unauth_pipelining` (the default since Postfix 3.9),
//! [`ServerConfig::reject_unsync_pipelining`] treats input that is already
//! waiting after such a command, or any pipelined input from a client that
//! did not negotiate PIPELINING through EHLO, as a protocol violation:
//! `554 5.5.0` and the session closes. With a greeting delay,
//! [`ServerConfig::reject_early_talkers`] does the same for a client that
//! talks before the greeting (Postfix postscreen's pregreet test).

use crate::command::{AuthLine, BodyType, Command, ForwardPath, Host, MailParams, RcptParams, ReversePath};
use crate::error::{CommandError, Error, ErrorKind, UsageError};
use crate::limits::{Limits, Timeouts};
use crate::reply::{EnhancedCode, Reply};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::{BufMut, Bytes, BytesMut};
use proto_core::{
    BareLineEndings, Deadline, DotDecoder, DotEvent, LineConfig, LineError, LineFramer, Secret,
};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Server configuration. `Default` gives a strict ESMTP server that offers
/// PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN, ENHANCEDSTATUSCODES and CHUNKING.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The server's name, used in the greeting and in replies: an ASCII
    /// domain (A-labels for an internationalised one, RFC 6531 3.7.1) or an
    /// address literal (RFC 5321 4.2 `Greeting`). Any other value is
    /// replaced by `localhost`, as [`ServerSession::config`] then shows.
    pub hostname: String,
    /// Text after the name in the 220 greeting. Left out when it cannot be
    /// sent (a control character in it, see [`check_reply_text`](crate::check_reply_text), or a
    /// line over [`Limits::reply_line`]).
    pub greeting: String,
    /// Refuse the session (RFC 5321 3.1): greet with `554 <hostname> <text>`
    /// instead of the 220 ("a 554 response MAY be given in the initial
    /// connection opening message instead of the 220"), then answer every
    /// command but QUIT with `503 5.5.1` and QUIT with 221 ("A server taking
    /// this approach MUST still wait for the client to send a QUIT ... and
    /// SHOULD respond to any intervening commands with "503 bad sequence of
    /// commands""). The text "SHOULD provide enough information ... to
    /// facilitate debugging of the sending system" (a text that cannot be
    /// sent, as for [`greeting`](Self::greeting), is left out). A BDAT chunk is read and
    /// dropped before its 503. The 503s do not count towards
    /// [`Limits::errors`] (the session waits for QUIT however long the
    /// client takes to send it); the idle timeout still applies. `None`
    /// (the default): a normal session.
    pub refuse_service: Option<String>,
    /// Size limits.
    pub limits: Limits,
    /// Timeouts (the server uses [`Timeouts::server`]).
    pub timeouts: Timeouts,
    /// LMTP (RFC 2033): LHLO instead of EHLO/HELO, one reply per recipient.
    pub lmtp: bool,
    /// Announce PIPELINING. Always on in LMTP mode (RFC 2033 5: "A server
    /// implementation MUST implement the PIPELINING ... extension").
    pub pipelining: bool,
    /// Announce CHUNKING and BINARYMIME (BDAT is accepted only then).
    pub chunking: bool,
    /// Announce 8BITMIME.
    pub eight_bit_mime: bool,
    /// Announce SMTPUTF8 (and accept UTF-8 addresses with the parameter).
    /// Only together with [`eight_bit_mime`](Self::eight_bit_mime): RFC 6531
    /// 3.1 (8), "Servers offering this extension MUST provide support for,
    /// and announce, the 8BITMIME extension".
    pub smtputf8: bool,
    /// Announce DSN.
    pub dsn: bool,
    /// Announce REQUIRETLS (RFC 8689) once under TLS, and accept the MAIL parameter then.
    pub requiretls: bool,
    /// Announce MT-PRIORITY (RFC 6710) and accept the MAIL parameter.
    pub mt_priority: bool,
    /// Offer STARTTLS (the driver can do TLS).
    pub starttls: bool,
    /// The connection is already under TLS (implicit TLS, port 465).
    pub implicit_tls: bool,
    /// Serve nothing but NOOP, EHLO (LHLO), STARTTLS and QUIT until TLS is
    /// up: every other command gets `530 5.7.0 Must issue a STARTTLS
    /// command first` (RFC 3207 4: a server that requires TLS "SHOULD
    /// reply to every command other than NOOP, EHLO, STARTTLS, or QUIT
    /// with the 530 reply code"), counted towards [`Limits::errors`]; a
    /// BDAT chunk is read and dropped before its 530. For submission (RFC
    /// 8314 3.3, RFC 6409): RFC 3207 4 forbids it on a publicly-referenced
    /// relay ("MUST NOT require use of the STARTTLS extension in order to
    /// deliver mail locally"). Off by default; without effect under TLS.
    /// Set [`starttls`](Self::starttls) too, or nothing can be served.
    pub require_tls: bool,
    /// SASL mechanisms to announce (upper case names, e.g. `"PLAIN"`), in
    /// order of preference. A name that is not a SASL mechanism name (RFC
    /// 4422 3.1, see [`sasl::is_mechanism_name`]) is dropped when the
    /// session starts, as [`ServerSession::config`] then shows. The EHLO
    /// `AUTH` line lists as many as fit [`Limits::reply_line`].
    pub auth_mechanisms: Vec<String>,
    /// Allow AUTH with every mechanism before TLS (otherwise `538 5.7.11`,
    /// RFC 4954 4 and 6). Overrides [`ServerConfig::allow_safe_auth_before_tls`].
    pub allow_plaintext_auth: bool,
    /// Before TLS, offer and accept only the mechanisms whose exchange gives an
    /// eavesdropper nothing to log in with: those for which
    /// [`sasl::Mechanism::needs_secure_link`] is false (SCRAM-SHA-1,
    /// SCRAM-SHA-256, CRAM-MD5, EXTERNAL, ANONYMOUS). PLAIN, LOGIN, the bearer
    /// token mechanisms and names `sasl` does not know are left out of the EHLO
    /// `AUTH` list and refused with `538 5.7.11` until TLS is up; after TLS every
    /// configured mechanism is offered. Off by default (no AUTH at all before
    /// TLS); without effect when [`ServerConfig::allow_plaintext_auth`] is on.
    pub allow_safe_auth_before_tls: bool,
    /// Bare CR or LF in a message body: refused by default (550 after the
    /// end of data). [`BareLineEndings::Normalize`] instead rewrites each bare
    /// CR or LF to CRLF in the `DataChunk`s (the end of data is still only
    /// CRLF "." CRLF, so no smuggling sequence can end a message early).
    pub bare_line_endings: BareLineEndings,
    /// Hold the greeting back this long (`poll_timeout` tells when).
    pub greeting_delay: Option<Duration>,
    /// With a greeting delay: a client that sends anything before the
    /// greeting gets `554 5.5.1` and the session closes.
    pub reject_early_talkers: bool,
    /// Postfix-style refusal of pipelining past a synchronisation point, or
    /// without PIPELINING negotiated (see the module docs).
    pub reject_unsync_pipelining: bool,
    /// Take an address literal after HELO (`HELO [192.0.2.1]`), as Postfix
    /// and most servers do. RFC 5321 4.1.1.1 has `helo = "HELO" SP Domain
    /// CRLF` (only EHLO takes an address-literal), although its prose asks a
    /// client without a meaningful domain name to send a literal, and RFC
    /// 821's `domain` allowed `[dotnum]`, so old clients that fall back to
    /// HELO may send one. Off by default: such a HELO is answered `501
    /// 5.5.4` and the client may try again.
    pub helo_address_literal: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "localhost".into(),
            greeting: "ESMTP".into(),
            refuse_service: None,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            lmtp: false,
            pipelining: true,
            chunking: true,
            eight_bit_mime: true,
            smtputf8: true,
            dsn: true,
            requiretls: false,
            mt_priority: false,
            starttls: false,
            require_tls: false,
            implicit_tls: false,
            auth_mechanisms: Vec::new(),
            allow_plaintext_auth: false,
            allow_safe_auth_before_tls: false,
            bare_line_endings: BareLineEndings::Reject,
            greeting_delay: None,
            reject_early_talkers: false,
            reject_unsync_pipelining: true,
            helo_address_literal: false,
        }
    }
}

/// Which greeting command the client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeloKind {
    /// HELO
    Helo,
    /// EHLO
    Ehlo,
    /// LHLO (LMTP)
    Lhlo,
}

/// A MAIL or RCPT command waiting for the application, kept as its line
/// (zero-copy); the accessors re-read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    line: Bytes,
    limits: PathLimits,
    /// The client had authenticated when it sent the command (RFC 4954 5:
    /// otherwise an `AUTH=` parameter reads as `AUTH=<>`).
    authenticated: bool,
}

/// The limits the parser of a MAIL or RCPT line reads (the rest of [`Limits`]
/// is checked by the session), so that a [`ServerEvent`] stays small: every
/// event, `DataChunk`s included, is moved by value. Kept as `u32`s (a limit
/// past `u32::MAX` is as good as none: no line that long is ever framed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PathLimits {
    path: u32,
    local_part: u32,
    domain: u32,
}

impl PathLimits {
    fn of(l: &Limits) -> Self {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        PathLimits {
            path: narrow(l.path),
            local_part: narrow(l.local_part),
            domain: narrow(l.domain),
        }
    }

    fn limits(self) -> Limits {
        let widen = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        Limits {
            path: widen(self.path),
            local_part: widen(self.local_part),
            domain: widen(self.domain),
            ..Limits::DEFAULT
        }
    }
}

impl CommandLine {
    /// The raw command line, without CRLF.
    #[must_use]
    pub fn line(&self) -> &Bytes {
        &self.line
    }

    /// The parsed command. A MAIL `AUTH=` parameter from a client that had
    /// not authenticated reads as `AUTH=<>` (RFC 4954 5: the server "MUST
    /// behave as if the AUTH=<> parameter was supplied"); [`line`](Self::line)
    /// still has what was sent.
    #[must_use]
    pub fn command(&self) -> Option<Command<'_>> {
        let mut cmd = Command::parse_with(&self.line, &self.limits.limits()).ok()?;
        if let Command::Mail { params, .. } = &mut cmd
            && params.auth.is_some()
            && !self.authenticated
        {
            params.auth = Some(crate::command::XText(b"<>"));
        }
        Some(cmd)
    }

    /// MAIL: the reverse path (`Null` for anything else).
    #[must_use]
    pub fn reverse_path(&self) -> ReversePath<'_> {
        match self.command() {
            Some(Command::Mail { from, .. }) => from,
            _ => ReversePath::Null,
        }
    }

    /// MAIL: the parameters (`AUTH=<>` for a client that had not
    /// authenticated, see [`command`](Self::command)).
    #[must_use]
    pub fn mail_params(&self) -> MailParams<'_> {
        match self.command() {
            Some(Command::Mail { params, .. }) => params,
            _ => MailParams::default(),
        }
    }

    /// RCPT: the forward path.
    #[must_use]
    pub fn forward_path(&self) -> Option<ForwardPath<'_>> {
        match self.command() {
            Some(Command::Rcpt { to, .. }) => Some(to),
            _ => None,
        }
    }

    /// RCPT: the parameters.
    #[must_use]
    pub fn rcpt_params(&self) -> RcptParams<'_> {
        match self.command() {
            Some(Command::Rcpt { params, .. }) => params,
            _ => RcptParams::default(),
        }
    }
}

/// Why a message was dropped by the session (it has already replied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbortReason {
    /// Larger than [`Limits::message_size`] (552 5.3.4).
    TooLarge,
    /// A bare CR or LF in the body (550 5.6.0).
    BareLineEnding,
}

/// What the server session reports to the application.
#[derive(Debug)]
#[non_exhaustive]
// A word-sized tag puts every variant's fields on an 8-byte boundary. With
// the default one-byte tag, rustc put `HeloKind` and `AbortReason` at offset
// 1, and the compiler then moved every event (each `DataChunk` included) as
// an unaligned 63-byte blob: wide loads over narrow stores that the CPU
// cannot forward, several per body chunk. The event stays 64 bytes either
// way; on the DATA bench this made the session about 10% faster.
#[repr(u64)]
pub enum ServerEvent {
    /// HELO/EHLO/LHLO was answered; any transaction was reset (drop any
    /// body chunks received for it).
    Helo {
        /// Which command.
        kind: HeloKind,
        /// The client's name as sent.
        host: Bytes,
    },
    /// MAIL: answer with [`ServerSession::accept`] or [`ServerSession::reject`].
    /// Parameters of extensions the session knows were checked already; any
    /// other parameter is in `mail_params().other`, and the application
    /// should refuse those it does not implement with 555 5.5.4 (RFC 5321 4.1.1.11).
    /// A known RCPT parameter on MAIL (NOTIFY, ORCPT) was refused with 555
    /// before this event.
    Mail(CommandLine),
    /// RCPT: answer with [`ServerSession::accept`] or [`ServerSession::reject`].
    /// As for [`ServerEvent::Mail`], unknown parameters are in
    /// `rcpt_params().other`; a known MAIL parameter on RCPT was refused with
    /// 555 before this event.
    Rcpt(CommandLine),
    /// The body starts (after 354, or with the first BDAT chunk).
    DataStart,
    /// Body bytes, unstuffed.
    DataChunk(Bytes),
    /// The body is complete: answer with `accept`/`reject` (or
    /// [`ServerSession::lmtp_replies`] in LMTP mode).
    DataEnd,
    /// The session refused the message after its end and has replied; drop
    /// what was received.
    DataAborted(AbortReason),
    /// RSET was answered; the transaction is gone (drop any body chunks
    /// received for it: RSET may come between BDAT chunks, RFC 3030 2).
    Reset,
    /// STARTTLS was answered with 220: write out the pending bytes, run the
    /// TLS handshake, then call [`ServerSession::tls_established`].
    StartTls,
    /// Plaintext that followed STARTTLS (or arrived before TLS was up) was
    /// discarded (CVE-2011-0411).
    PlaintextDiscarded {
        /// How many bytes.
        len: usize,
    },
    /// AUTH began: run the mechanism, then call `auth_challenge` or `auth_finish`.
    AuthStart {
        /// The mechanism name, upper-cased.
        mechanism: Bytes,
        /// The decoded initial response (`Some(empty)` for `=`).
        initial_response: Option<Secret<Vec<u8>>>,
    },
    /// The client's answer to a challenge, decoded.
    AuthResponse(Secret<Vec<u8>>),
    /// The client cancelled AUTH with `*`, or sent bad base64 (already answered 501).
    AuthCancelled,
    /// QUIT was answered with 221; close after writing pending bytes.
    Quit,
}

/// How an AUTH exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// 235 2.7.0
    Success,
    /// The given reply, or 535 5.7.8 when `None`.
    Failure(Option<Reply>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    None,
    Mail { smtputf8: bool, body: Option<BodyType> },
    Rcpt,
    Message,
    Auth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Before the (delayed) greeting.
    PreGreeting,
    Command,
    Data,
    Bdat {
        remaining: u64,
        last: bool,
        /// The chunk is read and dropped, then refused this way.
        refused: Option<BdatRefusal>,
    },
    /// Waiting for the application's AUTH step.
    AuthWait,
    /// Waiting for the client's AUTH response line.
    AuthLine,
    AwaitTls,
    Closed,
}

/// Why a BDAT command is refused. Its octets are read and dropped first: the
/// reply goes out only then (RFC 3030 2: "the receiver-SMTP MUST accept and
/// discard the associated message data before sending the appropriate 5XX or
/// 4XX code").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BdatRefusal {
    /// CHUNKING is not offered (502).
    NotOffered,
    /// No MAIL command (503).
    NoMail,
    /// The client greeted with HELO, so no extension, CHUNKING included,
    /// was offered to it (503, as AUTH after HELO; RFC 5321 4.1.1.1).
    NeedsEhlo,
    /// No accepted recipient (554).
    NoRecipients,
    /// An earlier chunk failed the transaction (503).
    Failed,
    /// A BDAT line with a readable chunk-size but a bad end marker (501):
    /// its octets follow all the same and are not commands.
    BadSyntax,
    /// A BDAT line over the line limit whose chunk-size could still be read
    /// (500): its octets follow all the same and are not commands.
    LineTooLong,
    /// The session was refused with a 554 greeting (503, RFC 5321 3.1).
    NoService,
    /// TLS is required and not up (530, RFC 3207 4).
    NeedsTls,
    /// LMTP BDAT LAST without a successful RCPT: no reply at all, and the
    /// transaction ends (RFC 2033 4.3: "If there were no previously
    /// successful RCPT commands in the mail transaction, then the BDAT LAST
    /// command returns zero replies").
    Silent,
}

/// The reply that settles a pending decision.
#[derive(Clone, Copy)]
enum Decision<'a> {
    /// The application's reply.
    Reply(&'a Reply),
    /// The session's default text.
    Text(u16, EnhancedCode, &'static str),
}

/// What one [`ServerSession::step_data`] did.
enum DataStep {
    /// A body chunk to hand out now.
    Chunk(Bytes),
    /// Something else happened (events may be queued).
    Progressed,
    /// More input is needed.
    Stalled,
}

#[derive(Debug, Clone, Copy, Default)]
struct Txn {
    mail: bool,
    smtputf8: bool,
    body: Option<BodyType>,
    accepted: usize,
    rcpts: usize,
    bdat: bool,
    size: u64,
    failed: bool,
    abort: Option<AbortReason>,
    /// No transaction: the application refused its MAIL (see `no_mail`).
    mail_refused: bool,
}

/// Tracks CR/LF pairing across chunks; finds (or rewrites) bare ones.
#[derive(Debug, Clone, Copy, Default)]
struct LineEndings {
    prev_cr: bool,
}

impl LineEndings {
    /// True if `chunk` (following what was seen before) holds a bare CR or LF.
    fn has_bare(&mut self, chunk: &[u8]) -> bool {
        let mut bare = false;
        let mut prev_cr = self.prev_cr;
        // Invariant: when `prev_cr`, the CR sits just before index `i`.
        let mut i = 0;
        while let Some(off) = memchr::memchr2(b'\r', b'\n', &chunk[i..]) {
            let p = i + off;
            let paired = prev_cr && p == i && chunk[p] == b'\n';
            if prev_cr && !paired {
                bare = true;
            }
            if chunk[p] == b'\n' && !paired {
                bare = true;
            }
            prev_cr = chunk[p] == b'\r';
            i = p + 1;
        }
        if prev_cr && i < chunk.len() {
            bare = true;
            prev_cr = false;
        }
        self.prev_cr = prev_cr;
        bare
    }

    /// Rewrites bare CR and LF to CRLF.
    fn normalize(&mut self, chunk: Bytes) -> Bytes {
        let mut probe = *self;
        if !probe.has_bare(&chunk) {
            self.prev_cr = probe.prev_cr;
            return chunk;
        }
        let mut out = BytesMut::with_capacity(chunk.len() + 16);
        for &b in &chunk {
            if self.prev_cr && b != b'\n' {
                out.put_u8(b'\n');
            }
            if b == b'\n' && !self.prev_cr {
                out.put_u8(b'\r');
            }
            out.put_u8(b);
            self.prev_cr = b == b'\r';
        }
        out.freeze()
    }
}

/// The server side of an SMTP/ESMTP/LMTP connection. See the module docs.
///
/// Its `Debug` output shows the state and the sizes of its buffers, never
/// their bytes: the receive buffer may hold a pipelined AUTH line (RFC 4954
/// 4: an initial response carries the password) not yet parsed.
pub struct ServerSession {
    cfg: ServerConfig,
    input: BytesMut,
    /// Where `handle_input` unstuffs a DATA body as it copies a read in
    /// (`DotDecoder::decode_from`); each read's piece is split off at once
    /// and queued as a `DataChunk`, so the buffer is reused once the
    /// application drops its chunks.
    staged: BytesMut,
    framer: LineFramer,
    dot: DotDecoder,
    endings: LineEndings,
    held: BytesMut,
    transmit: proto_core::TransmitQueue,
    events: VecDeque<ServerEvent>,
    mode: Mode,
    pending: Pending,
    helo: Option<HeloKind>,
    tls: bool,
    authenticated: bool,
    txn: Txn,
    idle: Deadline,
    greeting_at: Option<Instant>,
    errors: usize,
    fatal: Option<Error>,
    eof: bool,
    discarded: usize,
    /// A command line (or AUTH response) was read whole, body data arrived,
    /// or a decision was sent since the idle timer last (re)started: its
    /// next expiry restarts it instead of closing. Bytes of a command line
    /// still incomplete do not count (RFC 5321 4.5.3.2.7: the server waits
    /// that long "for the next command"), so a client that trickles a line
    /// a byte at a time cannot hold the connection open for ever; body data
    /// does (4.5.3.2.5 times each block of data).
    progress: bool,
    /// The greeting was a 554 ([`ServerConfig::refuse_service`]).
    refused: bool,
    /// The command line just handled ends a pipelined group: its reply goes
    /// out at once (RFC 2920 3.2).
    flush_after: bool,
    /// The application's answer to STARTTLS while TLS cannot be had
    /// ([`ServerSession::set_starttls_unavailable`]).
    starttls_refusal: Option<Reply>,
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("mode", &self.mode)
            .field("pending", &self.pending)
            .field("helo", &self.helo)
            .field("tls", &self.tls)
            .field("authenticated", &self.authenticated)
            .field("errors", &self.errors)
            .field("fatal", &self.fatal)
            .field("eof", &self.eof)
            .field("refused", &self.refused)
            .field("buffered_input", &self.input.len())
            .field("staged", &self.staged.len())
            .field("held", &self.held.len())
            .field("transmit", &self.transmit)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// SASL mechanisms that, given an initial response, complete in one round
/// trip without a security layer. RFC 4954 4: AUTH "MUST be the last command
/// in a pipelined group of commands. The only exception to this rule is when
/// the AUTH command contains an initial response for a SASL mechanism that
/// allows the client to send data first, the SASL mechanism is known to
/// complete in one round-trip, and a security layer is not negotiated by the
/// client. Two examples of such SASL mechanisms are PLAIN \[PLAIN\] and
/// EXTERNAL \[SASL\]." ANONYMOUS (RFC 4505 2: "a single message from the
/// client to the server") is the same shape. LOGIN, CRAM-MD5, SCRAM and the
/// bearer-token mechanisms (whose failure takes a second round trip) are not.
const ONE_ROUND_TRIP: [&[u8]; 3] = [b"PLAIN", b"EXTERNAL", b"ANONYMOUS"];

/// The chunk-size of a BDAT line the parser refused, when it is readable
/// (`BDAT 6 LAST2`: the end marker is wrong, but 6 octets follow): the
/// digits after `BDAT `, up to a space or the end (RFC 3030 2:
/// `chunk-size = 1*DIGIT`; past u64 it counts as u64::MAX, as the parser has it).
fn bdat_size(line: &[u8]) -> Option<u64> {
    let rest = line
        .get(5..)
        .filter(|_| line[..4].eq_ignore_ascii_case(b"BDAT") && line[4] == b' ')?;
    let n = rest.split(|&b| b == b' ').next()?;
    if n.is_empty() || !n.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(n.iter().fold(0u64, |a, &d| {
        a.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// True if `line` starts with the verb of a command whose reply must not
/// wait in the pipelining buffer (RFC 2920 3.2 (5); STARTTLS and AUTH end a
/// group too, RFC 3207 4.2, RFC 4954 4).
fn sync_verb(line: &[u8]) -> bool {
    const VERBS: [&[u8]; 11] = [
        b"EHLO",
        b"HELO",
        b"LHLO",
        b"DATA",
        b"VRFY",
        b"EXPN",
        b"TURN",
        b"NOOP",
        b"QUIT",
        b"STARTTLS",
        b"AUTH",
    ];
    let verb = line.split(|&b| b == b' ').next().unwrap_or_default();
    VERBS.iter().any(|v| v.eq_ignore_ascii_case(verb))
}

fn one_round_trip(mechanism: &[u8]) -> bool {
    ONE_ROUND_TRIP.iter().any(|m| m.eq_ignore_ascii_case(mechanism))
}

/// The mechanism and the initial response of an AUTH line that
/// [`Command::parse`] refused only for its initial response (the verb, one
/// space and a valid mechanism name come first).
fn auth_args(line: &[u8]) -> (&[u8], &[u8]) {
    let args = line.get(5..).unwrap_or_default();
    match memchr::memchr(b' ', args) {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[]),
    }
}

impl ServerSession {
    /// A new session; the 220 greeting is queued at once unless a greeting
    /// delay is configured.
    #[must_use]
    pub fn new(mut cfg: ServerConfig, now: Instant) -> Self {
        if matches!(Host::own_name(&cfg.hostname), Host::Domain(b"localhost")) {
            "localhost".clone_into(&mut cfg.hostname);
        }
        cfg.auth_mechanisms
            .retain(|m| sasl::is_mechanism_name(m.as_bytes()));
        let limits = cfg.limits;
        let dot = DotDecoder::with_policy(cfg.bare_line_endings);
        let mut s = ServerSession {
            framer: LineFramer::new(LineConfig::with_max_len(limits.max_framed_line())),
            dot,
            endings: LineEndings::default(),
            input: BytesMut::new(),
            staged: BytesMut::new(),
            held: BytesMut::new(),
            transmit: proto_core::TransmitQueue::default(),
            events: VecDeque::new(),
            mode: Mode::PreGreeting,
            pending: Pending::None,
            helo: None,
            tls: cfg.implicit_tls,
            authenticated: false,
            txn: Txn::default(),
            idle: Deadline::new(cfg.timeouts.server),
            greeting_at: None,
            errors: 0,
            fatal: None,
            eof: false,
            discarded: 0,
            progress: false,
            refused: false,
            flush_after: false,
            starttls_refusal: None,
            cfg,
        };
        match s.cfg.greeting_delay {
            Some(d) if !d.is_zero() => s.greeting_at = now.checked_add(d),
            _ => s.greet(now),
        }
        s
    }

    fn greet(&mut self, now: Instant) {
        if let Some(why) = &self.cfg.refuse_service {
            let text = if why.is_empty() {
                self.cfg.hostname.clone()
            } else {
                format!("{} {why}", self.cfg.hostname)
            };
            self.refused = true;
            self.greeting_line(554, &text);
            self.flush();
            self.mode = Mode::Command;
            self.greeting_at = None;
            self.idle.restart(now);
            return;
        }
        let text = format!(
            "{} {}{}",
            self.cfg.hostname,
            if self.cfg.lmtp { "LMTP " } else { "" },
            self.cfg.greeting
        );
        self.greeting_line(220, &text);
        self.flush();
        self.mode = Mode::Command;
        self.greeting_at = None;
        self.idle.restart(now);
    }

    /// Writes the greeting (220 or 554) with `text`, or with the server's
    /// name alone when `text` cannot be sent (a control character in the
    /// configured text, or a line over the limit): RFC 5321 4.2 `Greeting`
    /// has the text after the name as optional.
    fn greeting_line(&mut self, code: u16, text: &str) {
        let max = self.cfg.limits.reply_line;
        // `write_reply` writes nothing when it fails.
        if crate::reply::write_reply(code, None, &[text], max, &mut self.held).is_err() {
            let name = self.cfg.hostname.clone();
            self.reply_text(code, None, &name);
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }

    /// True once the connection is under TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// True after a successful AUTH.
    #[must_use]
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// True once the session is closed (after QUIT, a fatal error or EOF).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.mode == Mode::Closed
    }

    /// Appends bytes received from the client. Never fails, and parses no
    /// command: those wait for [`poll_event`](Self::poll_event). Only a DATA
    /// body read into an empty buffer is unstuffed as it is copied, so the
    /// read costs one copy and comes out as one [`ServerEvent::DataChunk`]
    /// however many stuffed dots it holds; the end of the body, a bare CR or
    /// LF and whatever follows are left to `poll_event`.
    pub fn handle_input(&mut self, data: &[u8]) {
        match self.mode {
            Mode::Closed => {}
            Mode::AwaitTls => self.discarded += data.len(),
            Mode::PreGreeting if self.cfg.reject_early_talkers => {
                // Only whether the client talked matters here; keep a bounded prefix.
                let room = self.cfg.limits.max_framed_line().saturating_sub(self.input.len());
                self.input.extend_from_slice(&data[..data.len().min(room)]);
            }
            _ => {
                self.progress |= !data.is_empty() && self.reading_body();
                if !self.flooded(data.len()) {
                    // A DATA body read into an empty buffer is unstuffed as
                    // it is copied: one copy, and one chunk per read however
                    // many stuffed dots it holds. Whatever needs a decision
                    // (the terminator, a bare CR or LF) stays in `input` for
                    // `poll_event`, as does everything in any other case.
                    let mut taken = 0;
                    if self.mode == Mode::Data
                        && self.input.is_empty()
                        && self.pending == Pending::None
                        && self.txn.abort.is_none()
                    {
                        taken = self.dot.decode_from(data, &mut self.staged);
                        if !self.staged.is_empty() {
                            // Queued behind any event not yet taken (a
                            // `DataStart`), ahead of what `input` holds.
                            let chunk = self.staged.split().freeze();
                            self.queue_body_chunk(chunk, false);
                        }
                    }
                    self.input.extend_from_slice(&data[taken..]);
                }
            }
        }
    }

    /// How much received input the session holds unread. It reads on in
    /// [`poll_event`](Self::poll_event), except before a delayed greeting and
    /// while the application owes a decision; a driver that keeps reading
    /// then should stop once this passes a few reads, or the session ends the
    /// connection at [`Limits::buffered_input`].
    #[must_use]
    pub fn buffered_input(&self) -> usize {
        self.input.len()
    }

    /// True (and the session closed with 421) when `more` bytes would take
    /// the unread input past [`Limits::buffered_input`] while the session
    /// cannot read on.
    fn flooded(&mut self, more: usize) -> bool {
        let blocked =
            self.pending != Pending::None || matches!(self.mode, Mode::PreGreeting | Mode::AuthWait);
        if !blocked || self.input.len().saturating_add(more) <= self.cfg.limits.buffered_input {
            return false;
        }
        self.reply_text(
            421,
            Some(EnhancedCode(4, 7, 0)),
            "Too much input ahead of the replies, closing connection",
        );
        self.close(Error::new(
            ErrorKind::TooMuchInput,
            "too much input while a reply was due",
        ));
        true
    }

    /// [`handle_input`](Self::handle_input) for a buffer the driver hands
    /// over (for example the filled part of a `read_buf` target, split off with
    /// `BytesMut::split`). When nothing of an earlier read is still buffered,
    /// the session keeps `data` itself instead of copying it, so the
    /// [`ServerEvent::DataChunk`]s of a message body (and BDAT chunks) are
    /// slices of the driver's read buffers: the body is never copied. Same
    /// behaviour as `handle_input(&data)` in every other respect.
    pub fn handle_input_buf(&mut self, data: BytesMut) {
        if self.input.is_empty() && !matches!(self.mode, Mode::Closed | Mode::AwaitTls | Mode::PreGreeting) {
            self.progress |= !data.is_empty() && self.reading_body();
            if !self.flooded(data.len()) {
                self.input = data;
            }
        } else {
            self.handle_input(&data);
        }
    }

    /// Tells the session the client closed its side.
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// Bytes to write to the client.
    #[must_use]
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.transmit.peek()
    }

    /// Marks `n` bytes as written.
    pub fn advance_transmit(&mut self, n: usize) {
        self.transmit.advance(n);
    }

    /// When to call [`handle_timeout`](Self::handle_timeout).
    ///
    /// No idle deadline while the application owes a decision (MAIL, RCPT,
    /// the end of data, an AUTH step): the client is then waiting for the
    /// server, not the other way round (RFC 5321 4.5.3.2.7 times the server's
    /// wait "while it is awaiting the next command from the sender"), so the
    /// client-idle timeout cannot fire then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.mode == Mode::Closed {
            return None;
        }
        let idle = if self.pending == Pending::None {
            self.idle.at()
        } else {
            None
        };
        proto_core::earliest(&[self.greeting_at, idle])
    }

    /// Sends a delayed greeting, or ends an idle session with 421 (RFC 5321
    /// 4.5.3.2.7); during the STARTTLS handshake, which the timeout bounds
    /// too, without the 421 (nothing can be written in plaintext then, RFC
    /// 3207 4.2).
    ///
    /// The idle timer is not restarted by every input byte (input carries no
    /// time): when it expires after input arrived, it restarts from `now`, so a
    /// silent client is dropped after one to two [`Timeouts::server`] periods.
    ///
    /// The same holds for the application's decisions: while one is pending
    /// the idle timeout never fires, and since [`accept`](Self::accept),
    /// [`reject`](Self::reject), [`auth_challenge`](Self::auth_challenge) and
    /// the like take no time, a decision counts as activity: the next expiry
    /// (possibly already past, so the driver calls this at once) restarts the
    /// timer from its `now` instead of closing. The client thus has at least
    /// a full period after the reply, never less.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.mode == Mode::Closed {
            return;
        }
        if let Some(at) = self.greeting_at
            && now >= at
        {
            if !self.input.is_empty() && self.cfg.reject_early_talkers {
                self.reply_text(
                    554,
                    Some(EnhancedCode(5, 5, 1)),
                    "Error: talking before the greeting",
                );
                self.close(Error::new(
                    ErrorKind::ProtocolSync,
                    "client talked before the greeting",
                ));
            } else {
                self.greet(now);
            }
            return;
        }
        if self.pending != Pending::None {
            // The application owes the client a reply; the client is not idle.
            return;
        }
        if self.idle.expired(now) {
            // The session learns the time only through calls that take `now`:
            // input since the timer started counts as activity, and the timer
            // restarts from here (so the timeout is between one and two periods).
            if std::mem::take(&mut self.progress) {
                self.idle.restart(now);
                return;
            }
            // During the STARTTLS handshake nothing can be written in
            // plaintext (RFC 3207 4.2: after the 220 the link carries TLS
            // only): the session just closes, as `shutdown` does.
            if self.mode != Mode::AwaitTls {
                let text = format!("{} Error: timeout exceeded", self.cfg.hostname);
                self.reply_text(421, Some(EnhancedCode(4, 4, 2)), &text);
            }
            self.close(Error::new(ErrorKind::Timeout, "client idle too long"));
        }
    }

    fn close(&mut self, err: Error) {
        self.flush();
        self.mode = Mode::Closed;
        // A decision still pending can no longer be answered: `accept`,
        // `auth_finish` ... must not reopen the session.
        self.pending = Pending::None;
        self.idle.stop();
        self.greeting_at = None;
        self.input.clear();
        if self.fatal.is_none() {
            self.fatal = Some(err);
        }
    }

    fn flush(&mut self) {
        if !self.held.is_empty() {
            let h = self.held.split();
            self.transmit.push(&h);
        }
    }

    /// A one-line reply of the session's own, encoded without building a
    /// [`Reply`].
    fn reply_text(&mut self, code: u16, e: Option<EnhancedCode>, text: &str) {
        let max = self.cfg.limits.reply_line;
        if crate::reply::write_reply(code, e, &[text], max, &mut self.held).is_err() {
            self.local_error();
        }
    }

    /// Writes a reply, with `class.0.0` when it has no enhanced code (RFC
    /// 2034 4: ENHANCEDSTATUSCODES is always announced, and the codes "must
    /// appear in all 2xx, 4xx, and 5xx response lines other than initial
    /// greeting and any response to HELO or EHLO"; those two are written
    /// by `reply_text` and `send_helo_reply`).
    fn reply(&mut self, r: &Reply) {
        if r.write_as_server(self.cfg.limits.reply_line, &mut self.held)
            .is_err()
        {
            self.local_error();
        }
    }

    /// Refuses a reply given by the application that could not be sent as
    /// it is: the decision stays pending, so the application can answer
    /// again (RFC 5321 4.5.3.1.5: reply lines of at most
    /// [`Limits::reply_line`], 512 octets, CRLF included).
    fn check_given(&self, r: &Reply) -> Result<(), UsageError> {
        r.check_as_server(self.cfg.limits.reply_line).map_err(|_| {
            UsageError::BadArgument(
                "reply cannot be sent: a control character, bad code, or a line over the reply_line limit",
            )
        })
    }

    fn send(&mut self, d: Decision<'_>) {
        match d {
            Decision::Reply(r) => self.reply(r),
            Decision::Text(code, e, text) => self.reply_text(code, Some(e), text),
        }
    }

    /// Sent instead of a reply that cannot be encoded (an application's text
    /// with CR or LF, say).
    fn local_error(&mut self) {
        let _ = crate::reply::write_reply(
            451,
            Some(EnhancedCode(4, 3, 0)),
            &["Local error"],
            usize::MAX,
            &mut self.held,
        );
    }

    fn error_reply(&mut self, r: &Reply) {
        self.reply(r);
        self.errors += 1;
        if self.errors > self.cfg.limits.errors {
            self.reply_text(
                421,
                Some(EnhancedCode(4, 7, 0)),
                "Too many errors, closing connection",
            );
            self.close(Error::new(ErrorKind::TooManyErrors, "too many bad commands"));
        }
    }

    fn bad_sequence(&mut self, text: &str) {
        self.error_reply(&Reply::new(503, Some(EnhancedCode(5, 5, 1)), text));
    }

    /// 503 to a command of a session refused with 554 (RFC 5321 3.1). Not
    /// counted towards [`Limits::errors`]: the server "MUST still wait for
    /// the client to send a QUIT".
    fn no_service(&mut self) {
        self.reply_text(
            503,
            Some(EnhancedCode(5, 5, 1)),
            "No SMTP service here, send QUIT",
        );
    }

    /// 530 to a command sent before STARTTLS while TLS is required
    /// ([`ServerConfig::require_tls`], RFC 3207 4).
    fn needs_tls(&mut self) {
        self.error_reply(&Reply::new(
            530,
            Some(EnhancedCode(5, 7, 0)),
            "Must issue a STARTTLS command first",
        ));
    }

    /// 503 for RCPT, DATA or BDAT without a MAIL. After a MAIL the
    /// application refused, these are the rest of a pipelined envelope
    /// (RFC 2920 3.1: MAIL and RCPT "can all appear anywhere in a pipelined
    /// command group"), not bad commands: like the 452 of the recipients
    /// limit, they do not count towards [`Limits::errors`], so that a large
    /// envelope behind a refused MAIL (a greylisting 451, say) does not end
    /// the session with 421.
    fn no_mail(&mut self, text: &str) {
        if self.txn.mail_refused {
            self.reply_text(503, Some(EnhancedCode(5, 5, 1)), text);
        } else {
            self.bad_sequence(text);
        }
    }

    /// Runs the protocol until the next event. `Ok(None)`: more input is
    /// needed, a decision is pending, or the session is closed.
    ///
    /// # Errors
    ///
    /// A fatal [`Error`] (timeout, too many errors, pipelining violation, a
    /// 421 the application gave, EOF without QUIT), returned once; the
    /// session is then closed.
    #[inline]
    pub fn poll_event(&mut self) -> Result<Option<ServerEvent>, Error> {
        // The DATA body path first, kept small (this part is inlined into the
        // caller, the general loop is not): nothing queued, nothing pending,
        // a chunk decoded and handed out. Anything else (the end of
        // the body, an abort, more input needed) goes through the general
        // loop, which takes the queued events and steps again.
        if self.mode == Mode::Data
            && self.events.is_empty()
            && self.fatal.is_none()
            && self.pending == Pending::None
            && let DataStep::Chunk(chunk) = self.step_data()
        {
            return Ok(Some(ServerEvent::DataChunk(chunk)));
        }
        self.poll_event_general()
    }

    /// [`poll_event`](Self::poll_event) in every state.
    #[inline(never)]
    fn poll_event_general(&mut self) -> Result<Option<ServerEvent>, Error> {
        loop {
            if let Some(ev) = self.events.pop_front() {
                // RFC 2920 3.2: "(7) MUST send all pending responses
                // immediately whenever the local TCP input buffer is
                // emptied", not only once the application has answered the
                // event (a RCPT that was the last command read, say).
                if self.input.is_empty() && !self.held.is_empty() {
                    self.flush();
                }
                return Ok(Some(ev));
            }
            if let Some(e) = self.fatal.take() {
                return Err(e);
            }
            if self.pending != Pending::None {
                self.flush();
                return Ok(None);
            }
            let progressed = match self.mode {
                Mode::Closed => return Ok(None),
                Mode::PreGreeting | Mode::AwaitTls | Mode::AuthWait => false,
                Mode::Command => self.step_command(),
                Mode::AuthLine => self.step_auth_line(),
                Mode::Data => match self.step_data() {
                    DataStep::Chunk(chunk) => return Ok(Some(ServerEvent::DataChunk(chunk))),
                    DataStep::Progressed => true,
                    DataStep::Stalled => false,
                },
                Mode::Bdat { .. } => self.step_bdat(),
            };
            // A whole line read (or body data used): the client is not idle.
            self.progress |= progressed;
            if !progressed && self.events.is_empty() && self.fatal.is_none() {
                self.flush();
                if self.eof && self.mode != Mode::Closed {
                    self.close(Error::new(
                        ErrorKind::Eof,
                        "client closed the connection without QUIT",
                    ));
                    continue;
                }
                return Ok(None);
            }
        }
    }

    /// True while the session reads a DATA body or a BDAT chunk.
    fn reading_body(&self) -> bool {
        matches!(self.mode, Mode::Data | Mode::Bdat { .. })
    }

    /// Frames and handles one command line. False when no full line is buffered.
    fn step_command(&mut self) -> bool {
        let Some(line) = self.framer.next_line(&mut self.input) else {
            return false;
        };
        match line {
            Ok(line) => {
                self.handle_line(line);
                if std::mem::take(&mut self.flush_after) {
                    self.flush();
                }
            }
            Err(LineError::TooLong { head, .. }) => {
                // RFC 4954 4: 5.5.6 when the line was an AUTH command (its
                // initial response made it too long); 5.5.2 otherwise. Only
                // the line's first octets are kept: a BDAT size is trusted
                // only when it ends among them.
                let auth = head.len() > 5 && head[..5].eq_ignore_ascii_case(b"AUTH ");
                let error = if auth {
                    CommandError::AuthLineTooLong
                } else {
                    CommandError::LineTooLong
                };
                let bdat = head
                    .get(5..)
                    .filter(|rest| rest.contains(&b' '))
                    .and_then(|_| bdat_size(&head));
                self.line_too_long(error, bdat);
            }
            Err(_) => {
                self.error_reply(&Reply::new(
                    500,
                    Some(EnhancedCode(5, 5, 2)),
                    "Bare CR or LF in command refused (RFC 5321 2.3.8)",
                ));
            }
        }
        true
    }

    /// Answers a command line over its limit with `error`. When the line
    /// was a BDAT with a readable chunk-size (`bdat`), the chunk's octets
    /// follow all the same: they are read and dropped before the reply, never
    /// taken as commands (RFC 3030 2), and the transaction has failed, as
    /// after a BDAT with a bad end marker.
    fn line_too_long(&mut self, error: CommandError, bdat: Option<u64>) {
        let Some(size) = bdat else {
            self.error_reply(&error.reply());
            return;
        };
        if self.txn.mail {
            self.txn.failed = true;
            self.txn.bdat = true;
        }
        self.enter_bdat(size, false, Some(BdatRefusal::LineTooLong));
    }

    /// Postfix-style synchronisation check after `line` was read.
    fn sync_violation(&self, must_be_last: bool) -> bool {
        if !self.cfg.reject_unsync_pipelining || self.input.is_empty() {
            return false;
        }
        let negotiated =
            self.pipelining_offered() && matches!(self.helo, Some(HeloKind::Ehlo | HeloKind::Lhlo));
        must_be_last || !negotiated
    }

    fn handle_line(&mut self, line: Bytes) {
        let limits = self.cfg.limits;
        let parsed = Command::parse_in_session(&line, &limits, self.cfg.helo_address_literal);
        let (allowed, too_long) = match &parsed {
            Ok(Command::Auth { .. }) | Err(CommandError::BadBase64) => {
                (limits.auth_line, CommandError::AuthLineTooLong)
            }
            Ok(Command::Mail { .. }) => (
                limits.command_line.saturating_add(limits.mail_params_extra),
                CommandError::LineTooLong,
            ),
            Ok(Command::Rcpt { .. }) => (
                limits.command_line.saturating_add(limits.rcpt_params_extra),
                CommandError::LineTooLong,
            ),
            _ => (limits.command_line, CommandError::LineTooLong),
        };
        if line.len().saturating_add(2) > allowed {
            self.line_too_long(too_long, bdat_size(&line));
            return;
        }
        if self.refused {
            // RFC 5321 3.1: after a 554 greeting only QUIT is served; any
            // other command gets 503 (a BDAT once its chunk is read).
            match parsed {
                Ok(Command::Quit) => {}
                Ok(Command::Bdat { size, last }) => {
                    self.enter_bdat(size, last, Some(BdatRefusal::NoService));
                    return;
                }
                Err(CommandError::Syntax(_)) if bdat_size(&line).is_some() => {
                    let size = bdat_size(&line).unwrap_or_default();
                    self.enter_bdat(size, false, Some(BdatRefusal::NoService));
                    return;
                }
                _ => {
                    self.no_service();
                    return;
                }
            }
        }
        if self.cfg.require_tls && !self.tls {
            // RFC 3207 4: only NOOP, EHLO, STARTTLS and QUIT before TLS
            // (LHLO is LMTP's EHLO); a BDAT's chunk is read and dropped
            // first. Lines that do not parse get their own 500/501.
            match parsed {
                Ok(
                    Command::Noop { .. }
                    | Command::Ehlo { .. }
                    | Command::Lhlo { .. }
                    | Command::StartTls
                    | Command::Quit,
                )
                | Err(_)
                    if bdat_size(&line).is_none() => {}
                Ok(Command::Bdat { size, last }) => {
                    self.enter_bdat(size, last, Some(BdatRefusal::NeedsTls));
                    return;
                }
                Err(_) => {
                    let size = bdat_size(&line).unwrap_or_default();
                    self.enter_bdat(size, false, Some(BdatRefusal::NeedsTls));
                    return;
                }
                Ok(_) => {
                    self.needs_tls();
                    return;
                }
            }
        }
        let must_be_last = match parsed {
            Ok(Command::Auth {
                mechanism,
                initial_response,
            }) => !(initial_response.is_some() && one_round_trip(mechanism)),
            Ok(
                Command::Ehlo { .. }
                | Command::Helo { .. }
                | Command::Lhlo { .. }
                | Command::Data
                | Command::Vrfy { .. }
                | Command::Expn { .. }
                | Command::Noop { .. },
            ) => true,
            _ => false,
        };
        // RFC 2920 3.2: the server "(5) MUST NOT buffer responses to EHLO,
        // DATA, VRFY, EXPN, TURN, QUIT, and NOOP" and "(6) MUST NOT buffer
        // responses to unrecognized commands": whatever the reply (errors
        // included, a syntax error in one of those commands too), it goes
        // out with those held before it.
        self.flush_after = must_be_last
            || matches!(parsed, Ok(Command::StartTls) | Err(CommandError::Unrecognized))
            || (parsed.is_err() && sync_verb(&line));
        if !matches!(
            parsed,
            Ok(Command::Quit | Command::StartTls | Command::Bdat { .. })
        ) && self.sync_violation(must_be_last)
        {
            self.reply_text(
                554,
                Some(EnhancedCode(5, 5, 0)),
                "Error: SMTP protocol synchronization",
            );
            self.close(
                Error::new(
                    ErrorKind::ProtocolSync,
                    "pipelined input after a synchronisation point",
                )
                .with_bytes(&line),
            );
            return;
        }
        let cmd = match parsed {
            Ok(c) => c,
            Err(CommandError::BadBase64) => {
                // An AUTH whose initial response is not base64: the other
                // checks of AUTH (502, 503, 504, 538) come first, then 501 5.5.2.
                let (mechanism, ir) = auth_args(&line);
                self.start_auth(mechanism, Some(ir));
                return;
            }
            Err(CommandError::Syntax(_)) if bdat_size(&line).is_some() => {
                // RFC 3030 2: the chunk is read and dropped before the 501
                // (its octets must never be taken as commands). The
                // transaction cannot be delivered without it.
                let size = bdat_size(&line).unwrap_or_default();
                if self.txn.mail {
                    // Failed, and a BDAT transaction (DATA after it is 503,
                    // like after any BDAT).
                    self.txn.failed = true;
                    self.txn.bdat = true;
                }
                self.enter_bdat(size, false, Some(BdatRefusal::BadSyntax));
                return;
            }
            Err(CommandError::BadDsnParameter(_)) if !self.cfg.dsn => {
                // A parameter of an extension not offered is unknown here (555).
                self.error_reply(&Reply::new(555, Some(EnhancedCode(5, 5, 4)), "DSN not supported"));
                return;
            }
            Err(e) => {
                self.error_reply(&e.reply());
                return;
            }
        };
        match cmd {
            Command::Ehlo { host } | Command::Helo { host } | Command::Lhlo { host } => {
                let kind = match cmd {
                    Command::Ehlo { .. } => HeloKind::Ehlo,
                    Command::Helo { .. } => HeloKind::Helo,
                    _ => HeloKind::Lhlo,
                };
                if self.cfg.lmtp != (kind == HeloKind::Lhlo) {
                    let text = if self.cfg.lmtp {
                        "Use LHLO (LMTP)"
                    } else {
                        "Command unrecognized"
                    };
                    self.error_reply(&Reply::new(500, Some(EnhancedCode(5, 5, 1)), text));
                    return;
                }
                let _ = host;
                if !self.send_helo_reply(kind, &line) {
                    // Answered 451: the command was not carried out, so
                    // neither the greeting nor its implied reset happened.
                    self.local_error();
                    self.flush();
                    return;
                }
                self.txn = Txn::default();
                self.helo = Some(kind);
                let start = line.iter().position(|&b| b == b' ').map_or(line.len(), |i| i + 1);
                self.events.push_back(ServerEvent::Helo {
                    kind,
                    host: line.slice(start..),
                });
                self.flush();
            }
            Command::Mail { from, params } => {
                if self.helo.is_none() {
                    self.bad_sequence("Send HELO/EHLO first");
                } else if self.txn.mail {
                    self.bad_sequence("Nested MAIL command");
                } else if self.helo == Some(HeloKind::Helo) && params != MailParams::default() {
                    self.esmtp_params_after_helo();
                } else if params.smtputf8 && !self.smtputf8_offered() {
                    self.error_reply(&Reply::new(
                        555,
                        Some(EnhancedCode(5, 5, 4)),
                        "SMTPUTF8 not supported",
                    ));
                } else if !self.cfg.dsn && (params.ret.is_some() || params.envid.is_some()) {
                    self.error_reply(&Reply::new(555, Some(EnhancedCode(5, 5, 4)), "DSN not supported"));
                } else if params.requiretls && !(self.cfg.requiretls && self.tls) {
                    self.error_reply(&Reply::new(
                        555,
                        Some(EnhancedCode(5, 5, 4)),
                        "REQUIRETLS not supported",
                    ));
                } else if params.auth.is_some() && !self.auth_offered() {
                    // RFC 4954 5 ties AUTH= to the extension; RFC 5321
                    // 4.1.1.11: a parameter not offered is 555.
                    self.error_reply(&Reply::new(
                        555,
                        Some(EnhancedCode(5, 5, 4)),
                        "AUTH not supported",
                    ));
                } else if params.mt_priority.is_some() && !self.cfg.mt_priority {
                    self.error_reply(&Reply::new(
                        555,
                        Some(EnhancedCode(5, 5, 4)),
                        "MT-PRIORITY not supported",
                    ));
                } else if params.body == Some(BodyType::EightBitMime) && !self.cfg.eight_bit_mime {
                    self.error_reply(&Reply::new(
                        555,
                        Some(EnhancedCode(5, 5, 4)),
                        "8BITMIME not supported",
                    ));
                } else if params.body == Some(BodyType::BinaryMime) && !self.cfg.chunking {
                    self.error_reply(&Reply::new(
                        555,
                        Some(EnhancedCode(5, 5, 4)),
                        "BINARYMIME not supported",
                    ));
                } else if params.body == Some(BodyType::SevenBit)
                    && !self.cfg.eight_bit_mime
                    && !self.cfg.chunking
                {
                    // BODY belongs to 8BITMIME (RFC 6152 2) and BINARYMIME
                    // (RFC 3030 3); with neither offered it is unknown.
                    self.error_reply(&Reply::new(
                        555,
                        Some(EnhancedCode(5, 5, 4)),
                        "BODY not supported",
                    ));
                } else if params
                    .size
                    .is_some_and(|n| limits.message_size > 0 && n > limits.message_size)
                {
                    self.error_reply(&Reply::new(
                        552,
                        Some(EnhancedCode(5, 3, 4)),
                        "Message size exceeds fixed maximum message size",
                    ));
                } else {
                    let _ = from;
                    self.errors = 0;
                    self.pending = Pending::Mail {
                        smtputf8: params.smtputf8,
                        body: params.body,
                    };
                    self.events.push_back(ServerEvent::Mail(CommandLine {
                        line,
                        limits: PathLimits::of(&limits),
                        authenticated: self.authenticated,
                    }));
                }
            }
            Command::Rcpt { to, params } => {
                if !self.txn.mail {
                    self.no_mail("Need MAIL before RCPT");
                } else if self.txn.bdat {
                    // RFC 5321 4.1.4: MAIL, RCPT..., then the body, "in that
                    // order"; RFC 3030 2: BDAT comes "After all MAIL and RCPT
                    // responses are collected". The body has started.
                    self.bad_sequence("RCPT not allowed after BDAT");
                } else if self.helo == Some(HeloKind::Helo) && params != RcptParams::default() {
                    self.esmtp_params_after_helo();
                } else if self.txn.rcpts >= limits.recipients {
                    // RFC 5321 4.5.3.1.10: the limit is answered 452 and the
                    // client sends the rest in a later transaction. Not a bad
                    // command: a pipelined envelope of any size may meet it,
                    // so it does not count towards `Limits::errors`.
                    self.reply_text(452, Some(EnhancedCode(4, 5, 3)), "Too many recipients");
                } else if !self.cfg.dsn && (params.notify.is_some() || params.orcpt.is_some()) {
                    self.error_reply(&Reply::new(555, Some(EnhancedCode(5, 5, 4)), "DSN not supported"));
                } else if params.orcpt.is_some_and(|o| !o.addr.0.is_ascii()) && !self.smtputf8_offered() {
                    // RFC 6533 3: the utf-8-addr-unitext form of a utf-8
                    // ORCPT needs SMTPUTF8 advertised.
                    self.error_reply(&Reply::new(
                        501,
                        Some(EnhancedCode(5, 5, 4)),
                        "Syntax error in DSN parameter",
                    ));
                } else if matches!(to, ForwardPath::Mailbox(m) if !m.is_ascii()) && !self.txn.smtputf8 {
                    // RFC 6531 3.5: 553 for RCPT (MAIL gets 550 from the parser's
                    // CommandError::Utf8NotAllowed).
                    self.error_reply(&Reply::new(
                        553,
                        Some(EnhancedCode(5, 6, 7)),
                        "Non-ASCII address needs the SMTPUTF8 parameter",
                    ));
                } else {
                    self.errors = 0;
                    self.pending = Pending::Rcpt;
                    self.events.push_back(ServerEvent::Rcpt(CommandLine {
                        line,
                        limits: PathLimits::of(&limits),
                        authenticated: self.authenticated,
                    }));
                }
            }
            Command::Data => {
                if !self.txn.mail {
                    self.no_mail("Need MAIL command");
                } else if self.txn.bdat {
                    self.bad_sequence("DATA not allowed after BDAT");
                } else if self.txn.accepted == 0 && self.cfg.lmtp {
                    // RFC 2033 4.2: "when there have been no successful RCPT
                    // commands in the mail transaction, the DATA command MUST
                    // fail with a 503 reply code."
                    self.bad_sequence("No valid recipients");
                } else if self.txn.accepted == 0 {
                    self.error_reply(&Reply::new(
                        554,
                        Some(EnhancedCode(5, 5, 1)),
                        "No valid recipients",
                    ));
                } else if self.txn.body == Some(BodyType::BinaryMime) {
                    self.bad_sequence("BINARYMIME needs BDAT");
                } else {
                    self.reply_text(354, None, "End data with <CR><LF>.<CR><LF>");
                    self.flush();
                    self.dot.reset();
                    self.endings = LineEndings::default();
                    self.mode = Mode::Data;
                    self.events.push_back(ServerEvent::DataStart);
                }
            }
            Command::Bdat { size, last } => self.start_bdat(size, last),
            Command::Rset => {
                self.txn = Txn::default();
                self.reply_text(250, Some(EnhancedCode(2, 0, 0)), "Ok");
                self.events.push_back(ServerEvent::Reset);
            }
            Command::Noop { .. } => {
                self.reply_text(250, Some(EnhancedCode(2, 0, 0)), "Ok");
                self.flush();
            }
            Command::Vrfy { .. } => {
                self.reply_text(
                    252,
                    Some(EnhancedCode(2, 5, 0)),
                    "Cannot VRFY user, but will accept message",
                );
                self.flush();
            }
            Command::Expn { .. } | Command::Burl { .. } => {
                self.error_reply(&CommandError::NotImplemented.reply());
                self.flush();
            }
            // Not a synchronisation point (RFC 2920 3.1): the reply waits for the group's end.
            Command::Etrn { .. } => self.error_reply(&CommandError::NotImplemented.reply()),
            Command::Help { .. } => self.reply_text(214, Some(EnhancedCode(2, 0, 0)), "See RFC 5321"),
            Command::Quit => {
                let text = format!("{} closing connection", self.cfg.hostname);
                self.reply_text(221, Some(EnhancedCode(2, 0, 0)), &text);
                self.flush();
                self.events.push_back(ServerEvent::Quit);
                self.mode = Mode::Closed;
                self.idle.stop();
                self.input.clear();
            }
            Command::StartTls => self.start_tls(),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.start_auth(mechanism, initial_response),
        }
    }

    /// A MAIL or RCPT parameter from a client that greeted with HELO: the
    /// parameters belong to service extensions, which only EHLO asks for
    /// (RFC 5321 2.2.1, 3.2), so none is recognised (4.1.1.11: 555).
    fn esmtp_params_after_helo(&mut self) {
        self.error_reply(&Reply::new(
            555,
            Some(EnhancedCode(5, 5, 4)),
            "MAIL/RCPT parameters need EHLO",
        ));
    }

    /// PIPELINING is offered when configured, and always to LMTP clients
    /// (RFC 2033 5).
    fn pipelining_offered(&self) -> bool {
        self.cfg.pipelining || self.cfg.lmtp
    }

    /// The AUTH extension is in use on this connection: announced in EHLO
    /// (a mechanism is configured and may run on the link as it is), or the
    /// client authenticated through it (a later EHLO no longer lists AUTH).
    fn auth_offered(&self) -> bool {
        self.authenticated
            || self
                .cfg
                .auth_mechanisms
                .iter()
                .any(|m| self.mechanism_usable_now(m.as_bytes()))
    }

    /// SMTPUTF8 is offered only with 8BITMIME (RFC 6531 3.1 (8)).
    fn smtputf8_offered(&self) -> bool {
        self.cfg.smtputf8 && self.cfg.eight_bit_mime
    }

    /// Writes the reply to HELO/EHLO/LHLO (`kind` is the command being
    /// answered, `line` its line); false, with nothing written, when it
    /// does not fit [`Limits::reply_line`].
    fn send_helo_reply(&mut self, kind: HeloKind, line: &[u8]) -> bool {
        let host = line
            .iter()
            .position(|&b| b == b' ')
            .map_or(&line[..0], |i| &line[i + 1..]);
        let mut first = format!("{} greets {}", self.cfg.hostname, String::from_utf8_lossy(host));
        // "250-" + text + CRLF within the reply line limit; the text after
        // the server's domain is optional (RFC 5321 4.1.1.1 `ehlo-ok-rsp`),
        // and a 255-octet name greeting a 255-octet one would not fit.
        if first.len().saturating_add(6) > self.cfg.limits.reply_line {
            first.clone_from(&self.cfg.hostname);
        }
        let max = self.cfg.limits.reply_line;
        if kind == HeloKind::Helo {
            return crate::reply::write_reply(250, None, &[first], max, &mut self.held).is_ok();
        }
        let mut lines = vec![Bytes::from(first)];
        let mut add = |s: String| lines.push(Bytes::from(s));
        if self.pipelining_offered() {
            add("PIPELINING".into());
        }
        if self.cfg.limits.message_size > 0 {
            add(format!("SIZE {}", self.cfg.limits.message_size));
        } else {
            add("SIZE".into());
        }
        if self.cfg.eight_bit_mime {
            add("8BITMIME".into());
        }
        if self.cfg.chunking {
            add("CHUNKING".into());
            add("BINARYMIME".into());
        }
        if self.smtputf8_offered() {
            add("SMTPUTF8".into());
        }
        if self.cfg.dsn {
            add("DSN".into());
        }
        add("ENHANCEDSTATUSCODES".into());
        if self.cfg.requiretls && self.tls {
            add("REQUIRETLS".into());
        }
        if self.cfg.mt_priority {
            add("MT-PRIORITY".into());
        }
        if self.cfg.starttls && !self.tls {
            add("STARTTLS".into());
        }
        if !self.cfg.auth_mechanisms.is_empty() && !self.authenticated {
            // One keyword cannot be split over two lines, so the list is
            // announced as far as "250-AUTH ...CRLF" fits the reply line
            // limit (RFC 5321 4.5.3.1.5), in the configured order; the
            // mechanisms left out still work for a client that knows them.
            let mut list = String::from("AUTH");
            for m in &self.cfg.auth_mechanisms {
                if self.mechanism_usable_now(m.as_bytes()) && list.len() + 1 + m.len() + 6 <= max {
                    list.push(' ');
                    list.push_str(m);
                }
            }
            if list.len() > 4 {
                add(list);
            }
        }
        // No enhanced code in the EHLO reply (RFC 2034 4).
        crate::reply::write_reply(250, None, &lines, max, &mut self.held).is_ok()
    }

    fn start_tls(&mut self) {
        if self.tls {
            self.bad_sequence("TLS already active");
            return;
        }
        if !self.cfg.starttls {
            self.error_reply(&Reply::new(
                502,
                Some(EnhancedCode(5, 5, 1)),
                "STARTTLS not offered",
            ));
            return;
        }
        if self.txn.mail {
            self.bad_sequence("STARTTLS not allowed during a mail transaction");
            return;
        }
        if let Some(r) = self.starttls_refusal.take() {
            // RFC 3207 4: "454 TLS not available due to temporary reason";
            // the session goes on in plaintext.
            self.reply(&r);
            self.starttls_refusal = Some(r);
            self.flush();
            return;
        }
        self.reply_text(220, Some(EnhancedCode(2, 0, 0)), "Ready to start TLS");
        self.flush();
        self.mode = Mode::AwaitTls;
        self.events.push_back(ServerEvent::StartTls);
        let n = self.input.len();
        self.input.clear();
        self.framer.reset();
        if n > 0 {
            self.events.push_back(ServerEvent::PlaintextDiscarded { len: n });
        }
    }

    /// Makes STARTTLS unavailable for now, or available again with `None`:
    /// while a reply is set, STARTTLS is answered with it and the session
    /// goes on in plaintext (RFC 3207 4: "454 TLS not available due to
    /// temporary reason"; "If the client receives the 454 response, the
    /// client must decide whether or not to continue the SMTP session").
    /// STARTTLS is still announced: the server has the extension, it cannot
    /// run it right now (no certificate loaded yet, too many handshakes
    /// under way). The usual reply is `454 4.7.0 TLS not available due to
    /// temporary reason`. It can be set or lifted at any time, for example
    /// before each [`poll_event`](Self::poll_event) as the application's
    /// TLS resources come and go. To stop offering STARTTLS altogether, use
    /// [`ServerConfig::starttls`].
    ///
    /// # Errors
    ///
    /// [`UsageError::BadArgument`] for a reply that is not 4yz, is 421 (use
    /// [`shutdown`](Self::shutdown)), or cannot be sent (see [`Reply::check`]).
    pub fn set_starttls_unavailable(&mut self, reply: Option<Reply>) -> Result<(), UsageError> {
        if let Some(r) = &reply {
            if !r.is_transient() || r.code() == 421 {
                return Err(UsageError::BadArgument(
                    "STARTTLS refusal needs a 4yz reply other than 421",
                ));
            }
            self.check_given(r)?;
        }
        self.starttls_refusal = reply;
        Ok(())
    }

    /// Shuts the session down at the application's initiative (the service
    /// is stopping, say), whatever the session is doing: RFC 5321 3.8 lets a
    /// server close "After detecting the need to shut down the SMTP service
    /// and returning a 421 response code. This response code can be issued
    /// after the server receives any command or, if necessary,
    /// asynchronously from command receipt (on the assumption that the
    /// client will receive it after the next command is issued)."
    ///
    /// Replies already due go out first, then `reply` (by default `421 4.3.2
    /// <hostname> Service shutting down, closing connection`), which also
    /// answers any command still waiting for the application's decision.
    /// Nothing more is read, events not yet taken are dropped, and
    /// [`poll_event`](Self::poll_event) reports [`ErrorKind::ServiceClosing`]
    /// once: write out the pending bytes, then close the connection. Before a
    /// delayed greeting, the 421 takes its place (RFC 5321 3.1). During the
    /// STARTTLS handshake nothing can be written in plaintext: the session
    /// just closes.
    ///
    /// # Errors
    ///
    /// [`UsageError::Closed`] when already closed; [`UsageError::BadArgument`]
    /// for a reply that is not 421 or cannot be sent (see [`Reply::check`]).
    pub fn shutdown(&mut self, reply: Option<&Reply>) -> Result<(), UsageError> {
        if self.mode == Mode::Closed {
            return Err(UsageError::Closed);
        }
        if let Some(r) = reply {
            if r.code() != 421 {
                return Err(UsageError::BadArgument("shutdown needs a 421 reply"));
            }
            self.check_given(r)?;
        }
        if self.mode != Mode::AwaitTls {
            match reply {
                Some(r) => self.reply(r),
                None => {
                    let text = format!("{} Service shutting down, closing connection", self.cfg.hostname);
                    self.reply_text(421, Some(EnhancedCode(4, 3, 2)), &text);
                }
            }
        }
        self.events.clear();
        self.close(Error::new(
            ErrorKind::ServiceClosing,
            "the application shut the session down (421)",
        ));
        Ok(())
    }

    /// The TLS handshake after [`ServerEvent::StartTls`] completed: input is
    /// accepted again, and everything known from before TLS is forgotten
    /// (RFC 3207 4.2: the client must send EHLO again).
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] if no STARTTLS is in progress.
    pub fn tls_established(&mut self, now: Instant) -> Result<(), UsageError> {
        if self.mode != Mode::AwaitTls {
            return Err(UsageError::WrongState);
        }
        self.tls = true;
        self.helo = None;
        self.authenticated = false;
        self.txn = Txn::default();
        self.mode = Mode::Command;
        self.framer.reset();
        self.idle.restart(now);
        if self.discarded > 0 {
            self.events
                .push_back(ServerEvent::PlaintextDiscarded { len: self.discarded });
            self.discarded = 0;
        }
        Ok(())
    }

    /// May `mechanism` be offered and used on the link as it is now (TLS or
    /// not)? See [`ServerConfig::allow_safe_auth_before_tls`].
    fn mechanism_usable_now(&self, mechanism: &[u8]) -> bool {
        self.tls
            || self.cfg.allow_plaintext_auth
            || (self.cfg.allow_safe_auth_before_tls
                && sasl::Mechanism::from_name(mechanism).is_some_and(|m| !m.needs_secure_link()))
    }

    fn start_auth(&mut self, mechanism: &[u8], ir: Option<&[u8]>) {
        if self.cfg.auth_mechanisms.is_empty() {
            self.error_reply(&CommandError::NotImplemented.reply());
            return;
        }
        if !matches!(self.helo, Some(HeloKind::Ehlo | HeloKind::Lhlo)) {
            self.bad_sequence("Send EHLO first");
            return;
        }
        if self.authenticated {
            self.bad_sequence("Already authenticated");
            return;
        }
        if self.txn.mail {
            self.bad_sequence("AUTH not allowed during a mail transaction");
            return;
        }
        // RFC 4954 4: a mechanism the server does not support is 504; 538
        // (RFC 4954 6) only for one it has but will not run before TLS.
        if !self
            .cfg
            .auth_mechanisms
            .iter()
            .any(|m| m.as_bytes().eq_ignore_ascii_case(mechanism))
        {
            self.error_reply(&Reply::new(
                504,
                Some(EnhancedCode(5, 5, 4)),
                "Unrecognized authentication type",
            ));
            return;
        }
        if !self.mechanism_usable_now(mechanism) {
            self.error_reply(&Reply::new(
                538,
                Some(EnhancedCode(5, 7, 11)),
                "Encryption required for requested authentication mechanism",
            ));
            return;
        }
        let initial_response = match ir {
            None => None,
            Some(b"=") => Some(Secret::new(Vec::new())),
            // RFC 4954 4: any character outside the base64 alphabet is
            // refused, not ignored (501 5.5.2).
            Some(t) => match crate::command::is_base64(t).then(|| B64.decode(t)) {
                Some(Ok(v)) => Some(Secret::new(v)),
                Some(Err(_)) | None => {
                    self.error_reply(&Reply::new(
                        501,
                        Some(EnhancedCode(5, 5, 2)),
                        "Invalid base64 data",
                    ));
                    return;
                }
            },
        };
        self.pending = Pending::Auth;
        self.mode = Mode::AuthWait;
        self.events.push_back(ServerEvent::AuthStart {
            mechanism: Bytes::from(mechanism.to_ascii_uppercase()),
            initial_response,
        });
    }

    fn step_auth_line(&mut self) -> bool {
        let Some(line) = self.framer.next_line(&mut self.input) else {
            return false;
        };
        self.mode = Mode::Command;
        let line = match line {
            Ok(l) if l.len() + 2 <= self.cfg.limits.auth_line => l,
            Ok(_) | Err(LineError::TooLong { .. }) => {
                self.error_reply(&CommandError::AuthLineTooLong.reply());
                self.events.push_back(ServerEvent::AuthCancelled);
                return true;
            }
            Err(_) => {
                self.error_reply(&Reply::new(
                    501,
                    Some(EnhancedCode(5, 5, 2)),
                    "Bare CR or LF refused",
                ));
                self.events.push_back(ServerEvent::AuthCancelled);
                return true;
            }
        };
        match AuthLine::parse(&line) {
            Ok(AuthLine::Cancel) => {
                self.error_reply(&Reply::new(
                    501,
                    Some(EnhancedCode(5, 0, 0)),
                    "Authentication cancelled",
                ));
                self.events.push_back(ServerEvent::AuthCancelled);
            }
            Ok(AuthLine::Response(t)) => match B64.decode(t) {
                Ok(v) => {
                    self.mode = Mode::AuthWait;
                    self.pending = Pending::Auth;
                    self.events.push_back(ServerEvent::AuthResponse(Secret::new(v)));
                }
                Err(_) => {
                    self.error_reply(&Reply::new(
                        501,
                        Some(EnhancedCode(5, 5, 2)),
                        "Invalid base64 data",
                    ));
                    self.events.push_back(ServerEvent::AuthCancelled);
                }
            },
            Err(_) => {
                self.error_reply(&Reply::new(
                    501,
                    Some(EnhancedCode(5, 5, 2)),
                    "Invalid base64 data",
                ));
                self.events.push_back(ServerEvent::AuthCancelled);
            }
        }
        true
    }

    /// Sends a 334 challenge in the current AUTH exchange.
    ///
    /// # Errors
    ///
    /// [`UsageError::NothingPending`] outside an AUTH exchange;
    /// [`UsageError::BadArgument`] when the encoded line would be longer than
    /// [`Limits::auth_line`](crate::Limits::auth_line) (the exchange stays pending).
    pub fn auth_challenge(&mut self, challenge: &[u8]) -> Result<(), UsageError> {
        if self.pending != Pending::Auth {
            return Err(UsageError::NothingPending);
        }
        // "334 " + base64 + CRLF within the AUTH line limit (RFC 4954 4).
        if 4 + challenge.len().div_ceil(3) * 4 + 2 > self.cfg.limits.auth_line {
            return Err(UsageError::BadArgument(
                "AUTH challenge longer than the auth_line limit",
            ));
        }
        self.pending = Pending::None;
        // The client's turn starts now; see `handle_timeout`.
        self.progress = true;
        self.held.put_slice(b"334 ");
        self.held.put_slice(B64.encode(challenge).as_bytes());
        self.held.put_slice(b"\r\n");
        self.flush();
        self.mode = Mode::AuthLine;
        Ok(())
    }

    /// Ends the current AUTH exchange.
    ///
    /// # Errors
    ///
    /// [`UsageError::NothingPending`] outside an AUTH exchange;
    /// [`UsageError::BadArgument`] for a failure reply that is not 4yz/5yz or
    /// cannot be sent (see [`Reply::check`]); the exchange stays pending then.
    pub fn auth_finish(&mut self, outcome: AuthOutcome) -> Result<(), UsageError> {
        if self.pending != Pending::Auth {
            return Err(UsageError::NothingPending);
        }
        if let AuthOutcome::Failure(Some(r)) = &outcome {
            if r.code() < 400 {
                return Err(UsageError::BadArgument(
                    "an AUTH failure needs a 4yz or 5yz reply",
                ));
            }
            self.check_given(r)?;
        }
        self.pending = Pending::None;
        self.progress = true;
        self.mode = Mode::Command;
        match outcome {
            AuthOutcome::Success => {
                self.authenticated = true;
                self.reply_text(235, Some(EnhancedCode(2, 7, 0)), "Authentication successful");
            }
            AuthOutcome::Failure(r) => {
                let r = r.unwrap_or_else(|| {
                    Reply::new(
                        535,
                        Some(EnhancedCode(5, 7, 8)),
                        "Authentication credentials invalid",
                    )
                });
                self.error_reply(&r);
                if r.code() == 421 {
                    self.closing_421();
                }
            }
        }
        self.flush();
        Ok(())
    }

    fn start_bdat(&mut self, size: u64, last: bool) {
        let refused = if !self.cfg.chunking {
            Some(BdatRefusal::NotOffered)
        } else if self.helo == Some(HeloKind::Helo) {
            Some(BdatRefusal::NeedsEhlo)
        } else if !self.txn.mail {
            Some(BdatRefusal::NoMail)
        } else if self.txn.accepted == 0 && self.cfg.lmtp && last {
            Some(BdatRefusal::Silent)
        } else if self.txn.accepted == 0 {
            Some(BdatRefusal::NoRecipients)
        } else if self.txn.failed {
            Some(BdatRefusal::Failed)
        } else {
            if !self.txn.bdat {
                self.txn.bdat = true;
                self.endings = LineEndings::default();
                self.events.push_back(ServerEvent::DataStart);
            }
            None
        };
        self.enter_bdat(size, last, refused);
    }

    /// Reads the chunk of a BDAT command, then refuses it as `refused` says
    /// (if at all).
    fn enter_bdat(&mut self, size: u64, last: bool, refused: Option<BdatRefusal>) {
        if refused.is_some_and(|r| r != BdatRefusal::Silent) && self.errors >= self.cfg.limits.errors {
            // The refusal is one error too many: it goes out at once with the
            // 421, and nothing more is read.
            self.refuse_bdat(refused, last);
            return;
        }
        // The chunk's octets follow in any case and must be consumed first
        // (RFC 3030 2); a refusal is sent once they are.
        self.mode = Mode::Bdat {
            remaining: size,
            last,
            refused,
        };
    }

    /// The reply to a refused BDAT (see [`BdatRefusal`]).
    fn refuse_bdat(&mut self, refused: Option<BdatRefusal>, last: bool) {
        match refused {
            None => {}
            Some(BdatRefusal::NotOffered) => self.error_reply(&CommandError::NotImplemented.reply()),
            Some(BdatRefusal::NoMail) => self.no_mail("Need MAIL command"),
            Some(BdatRefusal::NeedsEhlo) => self.bad_sequence("Send EHLO first"),
            Some(BdatRefusal::NoRecipients) => self.error_reply(&Reply::new(
                554,
                Some(EnhancedCode(5, 5, 1)),
                "No valid recipients",
            )),
            Some(BdatRefusal::Failed) => {
                // LMTP: BDAT LAST "returns one reply for each previously
                // successful RCPT command" (RFC 2033 4.3), failed or not.
                let text = "Transaction failed, send RSET";
                if self.cfg.lmtp && last {
                    for _ in 1..self.txn.accepted {
                        self.reply(&Reply::new(503, Some(EnhancedCode(5, 5, 1)), text));
                    }
                }
                self.bad_sequence(text);
            }
            Some(BdatRefusal::NoService) => self.no_service(),
            Some(BdatRefusal::NeedsTls) => self.needs_tls(),
            Some(BdatRefusal::Silent) => self.txn = Txn::default(),
            Some(BdatRefusal::LineTooLong) => self.error_reply(&CommandError::LineTooLong.reply()),
            Some(BdatRefusal::BadSyntax) => self.error_reply(&Reply::new(
                501,
                Some(EnhancedCode(5, 5, 4)),
                "Syntax error in BDAT end marker",
            )),
        }
    }

    fn step_bdat(&mut self) -> bool {
        let Mode::Bdat {
            remaining,
            last,
            refused,
        } = self.mode
        else {
            return false;
        };
        if remaining > 0 {
            if self.input.is_empty() {
                return false;
            }
            let n = usize::try_from(remaining)
                .unwrap_or(usize::MAX)
                .min(self.input.len());
            let chunk = self.input.split_to(n).freeze();
            self.mode = Mode::Bdat {
                remaining: remaining - n as u64,
                last,
                refused,
            };
            if refused.is_none() {
                let binary = self.txn.body == Some(BodyType::BinaryMime);
                self.queue_body_chunk(chunk, !binary);
            }
            return true;
        }
        self.mode = Mode::Command;
        if refused.is_some() {
            self.refuse_bdat(refused, last);
            return true;
        }
        if last {
            if !self.txn.failed && self.txn.body != Some(BodyType::BinaryMime) && self.endings.prev_cr {
                if self.cfg.bare_line_endings == BareLineEndings::Normalize {
                    self.endings.prev_cr = false;
                    self.queue_body_chunk(Bytes::from_static(b"\n"), false);
                } else {
                    self.abort(AbortReason::BareLineEnding);
                }
            }
            self.end_of_body();
        } else if let Some(reason) = self.txn.abort.filter(|_| !self.txn.failed) {
            self.abort_reply(reason);
            self.txn.failed = true;
            self.events.push_back(ServerEvent::DataAborted(reason));
        } else if !self.txn.failed {
            let text = format!("{} octets received", self.txn.size);
            self.reply_text(250, Some(EnhancedCode(2, 0, 0)), &text);
        }
        true
    }

    fn abort(&mut self, r: AbortReason) {
        if self.txn.abort.is_none() {
            self.txn.abort = Some(r);
        }
    }

    /// Size accounting and the bare line ending policy for a piece of body:
    /// the chunk to hand out as a `DataChunk` event, if any.
    fn body_chunk(&mut self, chunk: Bytes, check_endings: bool) -> Option<Bytes> {
        if self.txn.abort.is_some() {
            return None;
        }
        let chunk = if check_endings {
            match self.cfg.bare_line_endings {
                BareLineEndings::Normalize => self.endings.normalize(chunk),
                _ => {
                    if self.endings.has_bare(&chunk) {
                        self.abort(AbortReason::BareLineEnding);
                        return None;
                    }
                    chunk
                }
            }
        } else {
            chunk
        };
        self.account(chunk)
    }

    /// Size accounting for a piece of body that passed the line ending
    /// policy: the chunk to hand out, if any.
    #[inline(always)]
    fn account(&mut self, chunk: Bytes) -> Option<Bytes> {
        self.txn.size += chunk.len() as u64;
        let max = self.cfg.limits.message_size;
        if max > 0 && self.txn.size > max {
            self.abort(AbortReason::TooLarge);
            return None;
        }
        (!chunk.is_empty()).then_some(chunk)
    }

    /// [`body_chunk`](Self::body_chunk), queueing the event.
    fn queue_body_chunk(&mut self, chunk: Bytes, check_endings: bool) {
        if let Some(chunk) = self.body_chunk(chunk, check_endings) {
            self.events.push_back(ServerEvent::DataChunk(chunk));
        }
    }

    /// One step of a DATA body. A body chunk comes back as the event itself
    /// (the caller returns it at once: the queue is empty whenever this runs,
    /// so that is the order queueing it would give, without moving the event
    /// through the queue); anything else is queued.
    #[inline(always)]
    fn step_data(&mut self) -> DataStep {
        match self.dot.decode(&mut self.input) {
            Ok(Some(DotEvent::Data(chunk))) => {
                // The strict decoder already reports bare endings; the normaliser rewrites them.
                let out = if self.cfg.bare_line_endings == BareLineEndings::Normalize {
                    self.body_chunk(chunk, true)
                } else if self.txn.abort.is_some() {
                    None
                } else {
                    self.account(chunk)
                };
                match out {
                    Some(chunk) => DataStep::Chunk(chunk),
                    None => DataStep::Progressed,
                }
            }
            Ok(Some(DotEvent::End)) => {
                self.mode = Mode::Command;
                self.end_of_body();
                DataStep::Progressed
            }
            Ok(None) => DataStep::Stalled,
            Err(_) => {
                self.abort(AbortReason::BareLineEnding);
                DataStep::Progressed
            }
        }
    }

    fn abort_reply(&mut self, reason: AbortReason) {
        match reason {
            AbortReason::TooLarge => self.reply_text(
                552,
                Some(EnhancedCode(5, 3, 4)),
                "Message size exceeds fixed maximum message size",
            ),
            AbortReason::BareLineEnding => self.reply_text(
                550,
                Some(EnhancedCode(5, 6, 0)),
                "Bare CR or LF in message refused (RFC 5321 2.3.8)",
            ),
        }
    }

    fn end_of_body(&mut self) {
        if self.txn.failed {
            self.bad_sequence("Transaction failed, send RSET");
            return;
        }
        if let Some(reason) = self.txn.abort {
            let n = if self.cfg.lmtp { self.txn.accepted } else { 1 };
            for _ in 0..n {
                self.abort_reply(reason);
            }
            self.txn = Txn::default();
            self.events.push_back(ServerEvent::DataAborted(reason));
            return;
        }
        self.pending = Pending::Message;
        self.events.push_back(ServerEvent::DataEnd);
    }

    /// Accepts the pending MAIL, RCPT or message with the standard 250 reply
    /// (in LMTP mode, one 250 per accepted recipient).
    ///
    /// # Errors
    ///
    /// [`UsageError::NothingPending`] when no decision is pending.
    pub fn accept(&mut self) -> Result<(), UsageError> {
        let (e, text) = match self.pending {
            Pending::None | Pending::Auth => return Err(UsageError::NothingPending),
            Pending::Mail { .. } => (EnhancedCode(2, 1, 0), "Sender OK"),
            Pending::Rcpt => (EnhancedCode(2, 1, 5), "Recipient OK"),
            Pending::Message => (EnhancedCode(2, 0, 0), "Message accepted"),
        };
        // Written straight from the fixed text: no `Reply` to allocate.
        self.decide(Decision::Text(250, e, text), true)
    }

    /// Accepts the pending decision with the given (2yz) reply.
    ///
    /// # Errors
    ///
    /// [`UsageError::NothingPending`] when no decision is pending;
    /// [`UsageError::BadArgument`] when `reply` is not 2yz or cannot be sent
    /// (see [`Reply::check`]; a line over [`Limits::reply_line`](crate::Limits::reply_line)).
    /// The decision stays pending then.
    pub fn accept_with(&mut self, reply: &Reply) -> Result<(), UsageError> {
        if !reply.is_positive() {
            return Err(UsageError::BadArgument("accept needs a 2yz reply"));
        }
        self.check_given(reply)?;
        self.decide(Decision::Reply(reply), true)
    }

    /// Refuses the pending MAIL, RCPT or message with `reply` (4yz or 5yz).
    /// In an AUTH exchange this fails it like `auth_finish(Failure(Some(reply)))`.
    /// A 421 ends the session after the reply (RFC 5321 3.8: the server
    /// closes "after detecting the need to shut down the SMTP service and
    /// returning a 421 response code"): nothing more is read, and
    /// `poll_event` reports [`ErrorKind::ServiceClosing`] once.
    ///
    /// # Errors
    ///
    /// [`UsageError::NothingPending`] when no decision is pending;
    /// [`UsageError::BadArgument`] when `reply` is not 4yz/5yz or cannot be
    /// sent (see [`Reply::check`]; a line over
    /// [`Limits::reply_line`](crate::Limits::reply_line)). The decision stays
    /// pending then.
    pub fn reject(&mut self, reply: Reply) -> Result<(), UsageError> {
        if reply.code() < 400 {
            return Err(UsageError::BadArgument("reject needs a 4yz or 5yz reply"));
        }
        self.check_given(&reply)?;
        if self.pending == Pending::Auth {
            return self.auth_finish(AuthOutcome::Failure(Some(reply)));
        }
        self.decide(Decision::Reply(&reply), false)
    }

    fn decide(&mut self, reply: Decision<'_>, ok: bool) -> Result<(), UsageError> {
        match self.pending {
            Pending::None | Pending::Auth => return Err(UsageError::NothingPending),
            Pending::Mail { smtputf8, body } => {
                self.txn = if ok {
                    Txn {
                        mail: true,
                        smtputf8,
                        body,
                        ..Txn::default()
                    }
                } else {
                    Txn {
                        mail_refused: true,
                        ..Txn::default()
                    }
                };
                self.send(reply);
            }
            Pending::Rcpt => {
                self.txn.rcpts += 1;
                if ok {
                    self.txn.accepted += 1;
                }
                self.send(reply);
            }
            Pending::Message => {
                let n = if self.cfg.lmtp { self.txn.accepted } else { 1 };
                for _ in 0..n {
                    self.send(reply);
                }
                self.txn = Txn::default();
            }
        }
        self.pending = Pending::None;
        // The client's turn starts now; see `handle_timeout`.
        self.progress = true;
        if matches!(reply, Decision::Reply(r) if r.code() == 421) {
            self.closing_421();
        }
        Ok(())
    }

    /// The application answered 421: RFC 5321 3.8 lets a server close the
    /// connection "after detecting the need to shut down the SMTP service
    /// and returning a 421 response code", and 4.2.2 defines 421 as
    /// "closing transmission channel". The session closes after the reply:
    /// commands pipelined behind it are neither read nor answered.
    fn closing_421(&mut self) {
        self.close(Error::new(
            ErrorKind::ServiceClosing,
            "the application answered 421: session closed",
        ));
    }

    /// LMTP: answers the pending message with one reply per accepted
    /// recipient, in RCPT order (RFC 2033 4.2).
    ///
    /// # Errors
    ///
    /// [`UsageError::NothingPending`] when no message is pending;
    /// [`UsageError::WrongReplyCount`] when the count differs;
    /// [`UsageError::BadArgument`] when a reply is not 2yz, 4yz or 5yz (RFC
    /// 5321 4.3.2) or cannot be sent (see [`Reply::check`]). The message
    /// stays pending then.
    pub fn lmtp_replies(&mut self, replies: &[Reply]) -> Result<(), UsageError> {
        if self.pending != Pending::Message {
            return Err(UsageError::NothingPending);
        }
        if !self.cfg.lmtp {
            return Err(UsageError::WrongState);
        }
        if replies.len() != self.txn.accepted {
            return Err(UsageError::WrongReplyCount);
        }
        for r in replies {
            // RFC 5321 4.3.2: the end of data is answered 2yz, 4yz or 5yz.
            if !matches!(r.code() / 100, 2 | 4 | 5) {
                return Err(UsageError::BadArgument(
                    "an LMTP reply needs a 2yz, 4yz or 5yz code",
                ));
            }
            self.check_given(r)?;
        }
        for r in replies {
            self.reply(r);
        }
        self.txn = Txn::default();
        self.pending = Pending::None;
        self.progress = true;
        if replies.iter().any(|r| r.code() == 421) {
            self.closing_421();
        }
        Ok(())
    }

    /// Number of recipients accepted in the current transaction.
    #[must_use]
    pub fn accepted_recipients(&self) -> usize {
        self.txn.accepted
    }
}

proto_core::impl_session!(ServerSession, ServerEvent, Error);

#[cfg(test)]
mod tests {
    use super::LineEndings;
    use bytes::Bytes;

    #[test]
    fn line_endings_across_chunks() {
        let mut l = LineEndings::default();
        assert!(!l.has_bare(b"a\r"));
        assert!(!l.has_bare(b"\nb\r\n"));
        let mut l = LineEndings::default();
        assert!(!l.has_bare(b"a\r"));
        assert!(l.has_bare(b"x"));
        assert!(LineEndings::default().has_bare(b"a\nb"));
        assert!(LineEndings::default().has_bare(b"a\rb"));
        assert!(LineEndings::default().has_bare(b"\r\r\n"));
        assert!(!LineEndings::default().has_bare(b"\r\n\r\n"));
        let mut l = LineEndings::default();
        let a = l.normalize(Bytes::from_static(b"a\nb\r"));
        let b = l.normalize(Bytes::from_static(b"c\r\n"));
        assert_eq!([&a[..], &b[..]].concat(), b"a\r\nb\r\nc\r\n");
    }
}
