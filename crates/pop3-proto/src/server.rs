//! [`ServerSession`]: the server side of a POP3 connection (RFC 1939 section 3).
//!
//! The session walks AUTHORIZATION -> TRANSACTION -> UPDATE. Every decision
//! that needs application state comes out as a [`ServerEvent`] and goes back in
//! as a method call:
//!
//! * credentials: [`ServerEvent::Login`] (USER/PASS), [`ServerEvent::Apop`],
//!   [`ServerEvent::AuthStart`] / [`ServerEvent::AuthResponse`] (SASL, RFC 5034)
//!   are answered with [`ServerSession::auth_challenge`] and
//!   [`ServerSession::auth_finish`]; a success carries the [`Maildrop`] listing
//!   (sizes and unique ids), a failure a [`LoginFailure`] (`[AUTH]`, `[IN-USE]`
//!   for a locked maildrop, `[LOGIN-DELAY]`, `[SYS/TEMP]`, `[SYS/PERM]`);
//! * message bytes: [`ServerEvent::Retrieve`] is answered by streaming
//!   [`ServerSession::message_data`] and [`ServerSession::message_end`]; the
//!   session dot-stuffs, and for TOP cuts after the header and `n` body lines
//!   (or refused with [`ServerSession::message_unavailable`], or with
//!   [`ServerSession::message_needs_utf8`] outside UTF-8 mode, RFC 6856 5);
//! * deletion: DELE only marks; QUIT in TRANSACTION gives
//!   [`ServerEvent::Update`] with the numbers to delete, answered by
//!   [`ServerSession::update_finish`]. A dropped connection or the autologout
//!   timer never deletes anything (RFC 1939 section 6).
//! * STLS: [`ServerEvent::StartTls`]; the session then ignores input until
//!   [`ServerSession::tls_established`], which throws away any plaintext that
//!   was pipelined after STLS (RFC 2595 section 4, CVE-2011-0411).

use crate::command::{AuthLine, Command};
use crate::error::{EncodeError, Error, UsageError};
use crate::limits::Limits;
use crate::response::{
    Capabilities, ResponseCode, ScanListing, StatusLine, Uid, UidListing, is_valid_uid, write_listing_line,
};
use bytes::{BufMut, Bytes, BytesMut};
use proto_core::{
    BareLineEndings, Deadline, DotEncoder, LineConfig, LineError, LineFramer, Secret, Session, TransmitQueue,
    check_arg, ct_eq, earliest,
};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// What the server offers. The defaults are the safe ones: no APOP, no STLS
/// (the driver enables it when it has a certificate), no plaintext passwords
/// without TLS.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Size and time limits.
    pub limits: Limits,
    /// Text of the `+OK` greeting: ASCII, since no UTF-8 may be sent before
    /// the client enables it (RFC 6856 2.1); a non-ASCII text is left out,
    /// as is one with CR, LF or NUL, or starting with "[" (it would read as
    /// a response code), while the APOP timestamp is kept.
    pub greeting: String,
    /// Enables APOP (RFC 1939 section 7) with this greeting timestamp, which
    /// must be unique per connection, e.g. `<pid.clock@host>`. `None` (the
    /// default) disables APOP.
    pub apop_timestamp: Option<String>,
    /// Offer STLS (RFC 2595 section 4). It is refused, and not advertised,
    /// under TLS and after a successful UTF8 command (RFC 6856 2.1).
    pub stls: bool,
    /// The connection is already under TLS (port 995).
    pub tls_active: bool,
    /// Allow USER/PASS and the SASL mechanisms an eavesdropper could replay
    /// (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) without TLS. Off by default (RFC
    /// 2595 section 2.2, RFC 7628 section 3).
    pub allow_plaintext_without_tls: bool,
    /// Offer the USER/PASS commands.
    pub user_pass: bool,
    /// SASL mechanisms offered, by IANA name.
    pub sasl_mechanisms: Vec<String>,
    /// Advertise PIPELINING (RFC 2449 6.6). The session always answers
    /// pipelined commands in order; this only controls the capability.
    pub pipelining: bool,
    /// `EXPIRE` argument (RFC 2449 6.7), e.g. `"NEVER"` or `"31"`, optionally
    /// followed by `USER`; any other text is left out of CAPA. With
    /// [`ServerConfig::policy_per_user`], the smallest value any user may get.
    pub expire: Option<String>,
    /// `LOGIN-DELAY` argument in seconds (RFC 2449 6.5). With
    /// [`ServerConfig::policy_per_user`], the largest value any user may get.
    pub login_delay: Option<u32>,
    /// EXPIRE and LOGIN-DELAY may differ per user (RFC 2449 6.5, 6.7): before
    /// login the configured values go out followed by the token `USER` ("to
    /// inform the client that a more accurate value is available after
    /// authentication"); after login the values the application gives with
    /// [`ServerSession::set_user_policy`] replace them. Off by default. The
    /// `USER` token is never sent in the TRANSACTION state, even when the
    /// configured text ends with it.
    pub policy_per_user: bool,
    /// Offer the UTF8 command (RFC 6856 section 2).
    pub utf8: bool,
    /// Advertise `UTF8 USER`: UTF-8 user names and passwords are accepted.
    pub utf8_user: bool,
    /// Languages for LANG (RFC 6856 section 3): `(tag, description)`; empty
    /// disables LANG. A tag that is not one token of visible characters
    /// cannot be sent and is left out.
    pub languages: Vec<(String, String)>,
    /// `IMPLEMENTATION` text (RFC 2449 6.9). A non-ASCII text is sent only
    /// once the client has enabled UTF8 or chosen a language with LANG
    /// (RFC 6856 2.1, 3.2).
    pub implementation: Option<String>,
    /// How long a failed login's `-ERR` is held back (slows password guessing).
    ///
    /// The delay runs from the time of the input that carried the attempt
    /// when that input came with [`ServerSession::handle_input_at`]. After
    /// input given with plain [`handle_input`](Session::handle_input) the
    /// session does not know that time, so the delay runs from the first time
    /// it is told afterwards: [`poll_timeout`](Session::poll_timeout) then
    /// returns an instant already past, asking for
    /// [`handle_timeout`](Session::handle_timeout) at once, which starts the
    /// delay. Either way the reply never goes out sooner than this after the
    /// attempt, whichever entry point the driver uses.
    pub failed_login_delay: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            greeting: "POP3 server ready".into(),
            apop_timestamp: None,
            stls: false,
            tls_active: false,
            allow_plaintext_without_tls: false,
            user_pass: true,
            sasl_mechanisms: Vec::new(),
            pipelining: true,
            expire: None,
            login_delay: None,
            policy_per_user: false,
            utf8: false,
            utf8_user: false,
            languages: Vec::new(),
            implementation: None,
            failed_login_delay: Duration::from_secs(1),
        }
    }
}

/// Writes a status line the server composed, whatever the application text
/// in it: cut to `max` octets with its CRLF (RFC 2449 4: 512), and bare
/// (status and code only) if the text holds CR, LF or NUL, or if it is not
/// ASCII while `ascii` is set, so that a reply always goes out and never
/// carries a second line.
fn encode_status(line: &StatusLine, max: usize, ascii: bool, out: &mut BytesMut) {
    if ascii && !line.text.is_ascii() {
        // RFC 6856 2.1: "When UTF-8 mode has not been enabled, character
        // strings outside the ASCII repertoire MUST NOT be sent".
        let bare = StatusLine {
            text: Bytes::new(),
            ..line.clone()
        };
        return encode_status(&bare, max, false, out);
    }
    let code = line.code.as_ref().map_or(0, |c| c.as_bytes().len() + 3);
    let fixed = if line.is_ok() { 3 } else { 4 } + code + 1 + 2;
    let cut = text_cut(&line.text, max.saturating_sub(fixed));
    let fitted = StatusLine {
        status: line.status,
        code: line.code.clone(),
        text: line.text.slice(..cut),
    };
    if fitted.encode(out).is_err() {
        let bare = StatusLine {
            status: line.status,
            code: line.code.clone(),
            text: Bytes::new(),
        };
        if bare.encode(out).is_err() {
            // An invalid code as well: the status alone.
            let _ = StatusLine { code: None, ..bare }.encode(out);
        }
    }
}

/// Where to cut `text` to keep at most `room` octets, not inside a UTF-8
/// sequence.
fn text_cut(text: &[u8], room: usize) -> usize {
    if text.len() <= room {
        return text.len();
    }
    let mut cut = room;
    while cut > 0 && (text[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    cut
}

/// The days of an EXPIRE policy (RFC 2449 6.7: "server-guaranteed minimum
/// retention days, or NEVER"), NEVER the longest; `None` for any other text.
fn expire_days(policy: &[u8]) -> Option<u64> {
    match policy {
        b"NEVER" => Some(u64::MAX),
        d if !d.is_empty() && d.len() <= 10 && d.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(d).ok()?.parse().ok()
        }
        _ => None,
    }
}

/// A LOGIN-DELAY or EXPIRE argument without its trailing `USER` token (RFC
/// 2449 6.5, 6.7).
fn strip_user_token(arg: &[u8]) -> &[u8] {
    match arg.len().checked_sub(5) {
        Some(at) if arg[at..].eq_ignore_ascii_case(b" USER") => arg[..at].trim_ascii_end(),
        _ => arg,
    }
}

/// One message of a maildrop as the application lists it at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// Size in octets as sent (RFC 1939 5: exact size with CRLF line endings).
    pub size: u64,
    /// Unique id: 1 to 70 characters in 0x21..0x7E, different from every
    /// other message's in the maildrop (RFC 1939 section 7).
    pub uid: Bytes,
}

/// The maildrop listing handed over at login; message `n` is `messages[n - 1]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maildrop {
    /// The messages, in maildrop order.
    pub messages: Vec<MessageInfo>,
}

/// A refused login, with the response code the client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFailure {
    /// The response code. `None` and [`ResponseCode::Auth`] (also written
    /// as [`ResponseCode::Other`]) mean wrong credentials, sent as `[AUTH]`
    /// (RFC 3206 6, the server advertises AUTH-RESP-CODE); any other code
    /// is sent as given.
    pub code: Option<ResponseCode>,
    /// The text after it. Sent only if ASCII until the client has enabled
    /// UTF8 or chosen a language with LANG (RFC 6856 2.1, 3.2); otherwise
    /// the code goes out alone.
    pub text: String,
}

impl LoginFailure {
    /// Wrong credentials: `-ERR [AUTH]` (RFC 3206 5). Counts as a failed attempt.
    #[must_use]
    pub fn bad_credentials() -> Self {
        LoginFailure {
            code: Some(ResponseCode::Auth),
            text: "invalid user name or password".into(),
        }
    }

    /// The maildrop is locked by another session: `-ERR [IN-USE]` (RFC 2449 8.1.1).
    #[must_use]
    pub fn in_use() -> Self {
        LoginFailure {
            code: Some(ResponseCode::InUse),
            text: "maildrop already locked".into(),
        }
    }

    /// The user logged in too recently: `-ERR [LOGIN-DELAY]` (RFC 2449 8.1.2).
    #[must_use]
    pub fn login_delay() -> Self {
        LoginFailure {
            code: Some(ResponseCode::LoginDelay),
            text: "logged in too recently".into(),
        }
    }

    /// A temporary system problem: `-ERR [SYS/TEMP]` (RFC 3206 4).
    #[must_use]
    pub fn sys_temp(text: impl Into<String>) -> Self {
        LoginFailure {
            code: Some(ResponseCode::SysTemp),
            text: text.into(),
        }
    }

    /// A permanent system problem: `-ERR [SYS/PERM]` (RFC 3206 4).
    #[must_use]
    pub fn sys_perm(text: impl Into<String>) -> Self {
        LoginFailure {
            code: Some(ResponseCode::SysPerm),
            text: text.into(),
        }
    }

    /// Whether this failure counts as a wrong guess (delayed and counted):
    /// no code, or one a client reads as `[AUTH]`, however it was built
    /// (`Other("auth")`, or with detail, RFC 2449 8).
    fn is_credential_failure(&self) -> bool {
        match &self.code {
            None | Some(ResponseCode::Auth) => true,
            Some(ResponseCode::Other(c)) => ResponseCode::from_bytes(c) == ResponseCode::Auth,
            Some(_) => false,
        }
    }
}

/// How a login attempt ended, given to [`ServerSession::auth_finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Logged in; the maildrop is locked and listed.
    Success(Maildrop),
    /// Refused.
    Failure(LoginFailure),
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent QUIT.
    Quit,
    /// The client closed the connection; nothing was deleted.
    Eof,
    /// The autologout timer fired; nothing was deleted.
    Timeout,
    /// A fatal error (too many bad commands or failed logins).
    Error,
}

/// What the server session reports to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// USER/PASS: check the credentials, then call [`ServerSession::auth_finish`].
    Login {
        /// The USER argument.
        user: Bytes,
        /// The PASS argument.
        password: Secret<Vec<u8>>,
    },
    /// APOP: check with [`ServerSession::check_apop`], then call `auth_finish`.
    Apop {
        /// The mailbox name.
        user: Bytes,
        /// The client's digest (hex). A `Secret`: with the greeting's
        /// timestamp it lets password guesses be tested offline.
        digest: Secret<Vec<u8>>,
    },
    /// AUTH: start a SASL server mechanism, then call
    /// [`ServerSession::auth_challenge`] or [`ServerSession::auth_finish`].
    AuthStart {
        /// The mechanism name, upper case.
        mechanism: Bytes,
        /// The decoded initial response, if the client sent one.
        initial_response: Option<Secret<Vec<u8>>>,
    },
    /// The client's answer to the last challenge (decoded).
    AuthResponse(Secret<Vec<u8>>),
    /// The client cancelled the SASL exchange with "*" or sent bad base64;
    /// the session already answered `-ERR`.
    AuthCancelled,
    /// A login attempt failed; the `-ERR` is held back until `retry_at`
    /// (see [`ServerConfig::failed_login_delay`]). Comes once the delay has
    /// started: right after [`ServerSession::auth_finish`] when the session
    /// knows the time, else after the next
    /// [`handle_timeout`](Session::handle_timeout) or
    /// [`ServerSession::handle_input_at`].
    LoginFailed {
        /// Failed attempts so far in this session.
        failures: u32,
        /// When the reply goes out (with a zero delay it is queued at once,
        /// and this is the last time the session was told).
        retry_at: Instant,
    },
    /// STLS accepted: start TLS on the socket, then call
    /// [`ServerSession::tls_established`].
    StartTls,
    /// RETR (`top_lines: None`) or TOP: stream the message with
    /// [`ServerSession::message_data`] and [`ServerSession::message_end`].
    Retrieve {
        /// Message number (1-based).
        msg: u32,
        /// Index into [`Maildrop::messages`].
        index: usize,
        /// For TOP: body lines wanted (the session cuts).
        top_lines: Option<u32>,
    },
    /// QUIT in TRANSACTION: delete these messages (numbers, ascending), then
    /// call [`ServerSession::update_finish`].
    Update {
        /// Message numbers marked deleted.
        delete: Vec<u32>,
    },
    /// The client enabled UTF-8 mode (RFC 6856).
    Utf8Enabled,
    /// The client chose a language (RFC 6856 section 3): the configured tag.
    LanguageChanged(String),
    /// The session ended; release the maildrop lock. Last event.
    Closed(CloseReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Authorization,
    Transaction,
    Closed,
}

/// What the session waits for before it reads more input.
#[derive(Debug)]
enum Wait {
    None,
    /// A login decision (after Login/Apop/AuthStart/AuthResponse).
    Auth {
        sasl: bool,
    },
    /// The next SASL client line (after a challenge).
    SaslLine,
    /// `tls_established`.
    Tls,
    /// Message bytes for RETR/TOP.
    Message(Box<Outgoing>),
    /// `update_finish`.
    Update,
    /// A delayed failed-login reply, due at `at`; `None` until the session
    /// learns the time after the failure (see `clock_known`).
    Delay {
        at: Option<Instant>,
        reply: Bytes,
    },
}

#[derive(Debug)]
struct Outgoing {
    encoder: DotEncoder,
    size: u64,
    started: bool,
    top: Option<TopCut>,
}

/// Cuts a message after its header and `lines` body lines (RFC 1939 TOP).
///
/// Lines end where the client will see them end: at LF, CRLF, and also at a
/// bare CR, which the normalising [`DotEncoder`] sends as CRLF; so the lines
/// counted are the lines sent, and a header ended by bare CRs is found.
#[derive(Debug)]
struct TopCut {
    in_header: bool,
    lines_left: u32,
    /// Bytes of the current line so far (terminator excluded).
    cur_len: u64,
    /// The last piece ended with a CR: it ends a line, together with the
    /// next piece's first byte if that is its LF.
    pending_cr: bool,
    done: bool,
}

impl TopCut {
    fn new(lines: u32) -> Self {
        TopCut {
            in_header: true,
            lines_left: lines,
            cur_len: 0,
            pending_cr: false,
            done: false,
        }
    }

    /// How many bytes of `data` belong to the output.
    fn take(&mut self, data: &[u8]) -> usize {
        if self.done {
            return 0;
        }
        let mut pos = 0;
        if self.pending_cr && !data.is_empty() {
            self.pending_cr = false;
            if data[0] == b'\n' {
                pos = 1;
            }
            if self.line_end() {
                return pos;
            }
        }
        while let Some(off) = memchr::memchr2(b'\r', b'\n', &data[pos..]) {
            let p = pos + off;
            self.cur_len += off as u64;
            pos = p + 1;
            if data[p] == b'\r' {
                match data.get(p + 1) {
                    None => {
                        self.pending_cr = true;
                        return data.len();
                    }
                    Some(b'\n') => pos += 1,
                    Some(_) => {}
                }
            }
            if self.line_end() {
                return pos;
            }
        }
        self.cur_len += (data.len() - pos) as u64;
        data.len()
    }

    /// The current line ended: counts it; true once the cut is complete.
    fn line_end(&mut self) -> bool {
        let empty = self.cur_len == 0;
        self.cur_len = 0;
        if self.in_header {
            self.in_header = !empty;
        } else {
            self.lines_left = self.lines_left.saturating_sub(1);
        }
        self.done = !self.in_header && self.lines_left == 0;
        self.done
    }
}

/// The server side of one POP3 connection. See the [module docs](self).
///
/// Its `Debug` output shows the state and the sizes of its buffers, never
/// their bytes: the receive buffer may hold a pipelined PASS line.
pub struct ServerSession {
    config: ServerConfig,
    phase: Phase,
    wait: Wait,
    input: BytesMut,
    framer: LineFramer,
    out: TransmitQueue,
    events: VecDeque<ServerEvent>,
    now: Instant,
    /// False once input arrived through plain `handle_input` since the time
    /// was last given: `now` may then be long past.
    clock_known: bool,
    idle: Deadline,
    activity: bool,
    eof: bool,
    tls: bool,
    user: Option<Bytes>,
    maildrop: Maildrop,
    deleted: Vec<bool>,
    /// Indices marked deleted, in the order DELE marked them: RSET and
    /// QUIT visit these, not the whole maildrop.
    marked: Vec<usize>,
    /// Size of every message in the maildrop, exact (no sum of `u64`s
    /// overflows a `u128`).
    total_size: u128,
    /// Size of the messages marked deleted.
    marked_size: u128,
    bad_commands: u32,
    login_failures: u32,
    /// UTF8 or LANG succeeded: response texts may hold UTF-8 (RFC 6856).
    utf8_text: bool,
    /// The UTF8 command succeeded (RFC 6856 2.1).
    utf8_mode: bool,
    /// The logged-in user's EXPIRE, from [`ServerSession::set_user_policy`].
    user_expire: Option<Bytes>,
    /// The logged-in user's LOGIN-DELAY, from [`ServerSession::set_user_policy`].
    user_login_delay: Option<u32>,
    fatal: Option<Error>,
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("phase", &self.phase)
            .field("wait", &self.wait)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("messages", &self.maildrop.messages.len())
            .field("bad_commands", &self.bad_commands)
            .field("login_failures", &self.login_failures)
            .field("utf8_mode", &self.utf8_mode)
            .field("buffered_input", &self.input.len())
            .field("pending_output", &self.out.len())
            .field("events", &self.events.len())
            .field("fatal", &self.fatal)
            .finish_non_exhaustive()
    }
}

impl ServerSession {
    /// A new session; the greeting is queued for transmission.
    #[must_use]
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        let mut idle = Deadline::new(config.limits.autologout);
        idle.restart(now);
        let framer = LineFramer::new(LineConfig::with_max_len(config.limits.max_command_line));
        let tls = config.tls_active;
        let mut s = ServerSession {
            config,
            phase: Phase::Authorization,
            wait: Wait::None,
            input: BytesMut::new(),
            framer,
            out: TransmitQueue::default(),
            events: VecDeque::new(),
            now,
            clock_known: true,
            idle,
            activity: false,
            eof: false,
            tls,
            user: None,
            maildrop: Maildrop::default(),
            deleted: Vec::new(),
            marked: Vec::new(),
            total_size: 0,
            marked_size: 0,
            bad_commands: 0,
            login_failures: 0,
            utf8_text: false,
            utf8_mode: false,
            user_expire: None,
            user_login_delay: None,
            fatal: None,
        };
        // The greeting is cut to fit 512 octets before the APOP timestamp
        // is added, so that the timestamp survives (RFC 2449 4).
        let ts = s.config.apop_timestamp.as_ref().map_or(0, |t| t.len() + 1);
        let room = s
            .config
            .limits
            .max_response_line
            .saturating_sub("+OK ".len() + 2 + ts);
        // No UTF-8 before UTF8 or LANG (RFC 6856 2.1): a non-ASCII greeting
        // text is left out, the timestamp kept; so is one that cannot go
        // on the line (CR, LF, NUL) or would read as a response code (RFC
        // 2449 3: "+OK" [resp-code] *gchar [timestamp] *gchar).
        let greeting = Some(s.config.greeting.as_bytes())
            .filter(|g| g.is_ascii() && check_arg(g).is_ok() && !g.starts_with(b"["))
            .unwrap_or_default();
        let mut text = greeting[..text_cut(greeting, room)].to_vec();
        if let Some(ts) = &s.config.apop_timestamp {
            text.push(b' ');
            text.extend_from_slice(ts.as_bytes());
        }
        s.ok(text);
        s
    }

    /// True once the session has ended (QUIT, EOF, timeout or fatal error).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// True in the TRANSACTION state.
    #[must_use]
    pub fn is_authenticated(&self) -> bool {
        self.phase == Phase::Transaction
    }

    /// True when the connection is under TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// True when `poll_event` stopped taking pipelined commands because more
    /// than [`Limits::max_pending_output`](crate::Limits::max_pending_output)
    /// waits to be written while more input is buffered: write out what
    /// [`poll_transmit`](proto_core::Session::poll_transmit) gives, then call
    /// `poll_event` again before waiting for more input (the client may have
    /// sent everything it will send and be waiting for the answers).
    #[must_use]
    pub fn output_blocked(&self) -> bool {
        self.phase != Phase::Closed
            && matches!(self.wait, Wait::None | Wait::SaslLine)
            && self.out.len() >= self.config.limits.max_pending_output
            && !self.input.is_empty()
    }

    /// The maildrop listing given at login.
    #[must_use]
    pub fn maildrop(&self) -> &Maildrop {
        &self.maildrop
    }

    /// Checks an APOP digest against the shared secret in constant time
    /// (RFC 1939 section 7). False when APOP is disabled. With `UTF8 USER`
    /// advertised, a non-ASCII secret is SASLprep'd first, as a stored
    /// string (RFC 4616 section 4), and one SASLprep refuses, or one holding a
    /// code point Unicode 3.2 left unassigned, never matches (RFC 6856 2.2).
    #[must_use]
    pub fn check_apop(&self, digest: &[u8], secret: &[u8]) -> bool {
        let Some(ts) = &self.config.apop_timestamp else {
            return false;
        };
        // RFC 6856 2.2: with UTF-8 user names and passwords permitted, the
        // digest is over the SASLprep'd secret, as the client computes it,
        // and "servers MUST reject UTF-8 usernames or passwords that
        // contain a UTF-8 character listed in Section 2.3 of SASLprep".
        // The secret is the one the server keeps, a "stored" string (RFC
        // 4616 section 4, RFC 3454 section 7): no unassigned code points.
        let prepared = match std::str::from_utf8(secret) {
            Ok(s) if self.config.utf8 && self.config.utf8_user && !s.is_ascii() => {
                match sasl::saslprep::saslprep_with(s, sasl::saslprep::Profile::Stored) {
                    Ok(p) => Some(p.into_owned().into_bytes()),
                    Err(_) => return false,
                }
            }
            _ => None,
        };
        let secret = prepared.as_deref().unwrap_or(secret);
        let want = crate::command::apop_digest(ts.as_bytes(), secret);
        let got: Vec<u8> = digest.iter().map(u8::to_ascii_lowercase).collect();
        ct_eq(&want, &got)
    }

    /// Like [`handle_input`](Session::handle_input), also telling the session
    /// the time, so the autologout timer restarts exactly when `data` ends a
    /// command line.
    pub fn handle_input_at(&mut self, data: &[u8], now: Instant) {
        self.handle_input(data);
        self.learn_time(now);
        if ends_a_line(data) && self.phase != Phase::Closed {
            self.idle.restart(now);
            self.activity = false;
        }
    }

    /// The driver told the time: a failed-login delay that waited for it
    /// starts now.
    fn learn_time(&mut self, now: Instant) {
        self.now = now;
        self.clock_known = true;
        if let Wait::Delay { at: at @ None, .. } = &mut self.wait {
            let due = now + self.config.failed_login_delay;
            *at = Some(due);
            self.events.push_back(ServerEvent::LoginFailed {
                failures: self.login_failures,
                retry_at: due,
            });
        }
    }

    // ----- replies -----

    fn reply(&mut self, line: &StatusLine) {
        encode_status(
            line,
            self.config.limits.max_response_line,
            !self.utf8_text,
            self.out.buf_mut(),
        );
    }

    fn ok(&mut self, text: impl Into<Bytes>) {
        self.reply(&StatusLine::ok(text));
    }

    fn err(&mut self, text: &'static str) {
        self.reply(&StatusLine::err(None, text));
    }

    fn bad(&mut self, text: &'static str) -> Result<(), Error> {
        self.err(text);
        self.bad_commands += 1;
        if self.bad_commands >= self.config.limits.max_bad_commands {
            self.err("too many errors, closing connection");
            return self.fail(Error::TooManyBadCommands);
        }
        Ok(())
    }

    fn fail(&mut self, e: Error) -> Result<(), Error> {
        self.close(CloseReason::Error);
        self.fatal = Some(e);
        Ok(())
    }

    fn close(&mut self, reason: CloseReason) {
        if self.phase != Phase::Closed {
            self.phase = Phase::Closed;
            self.wait = Wait::None;
            self.idle.stop();
            self.input.clear();
            self.events.push_back(ServerEvent::Closed(reason));
        }
    }

    fn secure(&self) -> bool {
        self.tls || self.config.allow_plaintext_without_tls
    }

    /// RFC 6856 2.2: a server that advertises `UTF8 USER` "MUST reject UTF-8
    /// usernames or passwords that fail to comply with the formal syntax in
    /// UTF-8" (USER, PASS and the APOP name); without it the bytes go to the
    /// application as sent.
    fn credential_ok(&self, value: &[u8]) -> bool {
        !(self.config.utf8 && self.config.utf8_user) || std::str::from_utf8(value).is_ok()
    }

    /// A mechanism whose exchange lets an eavesdropper log in: PLAIN and
    /// LOGIN (RFC 2595 2.2), and the bearer-token ones XOAUTH2 and
    /// OAUTHBEARER (RFC 7628 3: "TLS MUST be used for OAUTHBEARER to
    /// protect the bearer token"); see [`sasl::Mechanism::needs_secure_link`].
    fn is_plaintext_mech(m: &[u8]) -> bool {
        sasl::Mechanism::from_name(m).is_some_and(sasl::Mechanism::needs_secure_link)
    }

    /// Mechanisms usable now (those of [`Self::is_plaintext_mech`] only under
    /// TLS or when allowed).
    fn usable_mechanisms(&self) -> Vec<Bytes> {
        let secure = self.secure();
        self.config
            .sasl_mechanisms
            .iter()
            .filter(|m| sasl::is_mechanism_name(m.as_bytes()))
            .filter(|m| secure || !Self::is_plaintext_mech(m.as_bytes()))
            .map(|m| Bytes::from(m.to_ascii_uppercase()))
            .collect()
    }

    /// The logged-in user's own EXPIRE and LOGIN-DELAY values, announced in
    /// the TRANSACTION state from now on (RFC 2449 6.5, 6.7: "The server
    /// SHOULD announce the more accurate value in TRANSACTION state"); see
    /// [`ServerConfig::policy_per_user`]. `None` keeps the configured value.
    /// Call it right after [`ServerSession::auth_finish`] with a success,
    /// before the next [`poll_event`](Session::poll_event).
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] before login; [`UsageError::Encode`] for
    /// an EXPIRE that is neither `NEVER` nor a number of days, or a value
    /// the announcement before login did not bound (RFC 2449: that one MUST
    /// be the smallest EXPIRE, the largest LOGIN-DELAY, of any user).
    pub fn set_user_policy(
        &mut self,
        expire: Option<&str>,
        login_delay: Option<u32>,
    ) -> Result<(), UsageError> {
        if self.phase != Phase::Transaction {
            return Err(UsageError::WrongState("no user is logged in"));
        }
        if let Some(e) = expire {
            let Some(user_days) = expire_days(e.as_bytes()) else {
                return Err(EncodeError::Invalid { what: "EXPIRE" }.into());
            };
            // RFC 2449 6.7: before login the server "MUST announce ... the
            // smallest value which could be set for any user".
            if self
                .config
                .expire
                .as_deref()
                .and_then(|c| expire_days(strip_user_token(c.as_bytes())))
                .is_none_or(|min| user_days < min)
            {
                return Err(EncodeError::Invalid {
                    what: "EXPIRE shorter than announced before login",
                }
                .into());
            }
        }
        // RFC 2449 6.5: before login, "the largest value which could be set
        // for any user".
        if let Some(d) = login_delay
            && self.config.login_delay.is_none_or(|max| d > max)
        {
            return Err(EncodeError::Invalid {
                what: "LOGIN-DELAY longer than announced before login",
            }
            .into());
        }
        self.user_expire = expire.map(|e| Bytes::copy_from_slice(e.as_bytes()));
        self.user_login_delay = login_delay;
        Ok(())
    }

    /// The EXPIRE or LOGIN-DELAY argument to announce now: the user's own
    /// value after login, else the configured one, with the `USER` token
    /// (RFC 2449 6.5, 6.7) before login only.
    fn policy_arg(&self, configured: Option<String>, user_value: Option<Bytes>) -> Option<Bytes> {
        let after_login = self.phase == Phase::Transaction;
        if after_login && user_value.is_some() {
            return user_value;
        }
        let configured = configured?;
        // The token is the last word; taken off, it goes back only where it
        // belongs.
        let head = strip_user_token(configured.as_bytes());
        let had_token = head.len() < configured.len();
        if head.is_empty() {
            return None;
        }
        let mut text = head.to_vec();
        if !after_login && (had_token || self.config.policy_per_user) {
            text.extend_from_slice(b" USER");
        }
        Some(Bytes::from(text))
    }

    /// The capabilities advertised now (RFC 2449 section 6).
    #[must_use]
    pub fn capabilities(&self) -> Capabilities {
        let c = &self.config;
        // RFC 2449 5: "Each capability line is limited to 512 octets
        // (including the CRLF)": a configured text that would make its line
        // longer is left out, and SASL names that do not fit are dropped.
        let max = c.limits.max_response_line;
        let fits = |name: &str, t: &Bytes| name.len() + 1 + t.len() + 2 <= max;
        let mut sasl_len = "SASL".len() + 2;
        let sasl = self
            .usable_mechanisms()
            .into_iter()
            .filter(|m| {
                sasl_len += 1 + m.len();
                sasl_len <= max
            })
            .collect();
        Capabilities {
            top: true,
            user: c.user_pass && self.secure(),
            sasl,
            resp_codes: true,
            auth_resp_code: true,
            login_delay: self.policy_arg(
                c.login_delay.map(|d| d.to_string()),
                self.user_login_delay.map(|d| Bytes::from(d.to_string())),
            ),
            pipelining: c.pipelining,
            // A configured text that cannot go on one line is left out, so
            // the rest of the list (STLS, SASL) is still sent.
            // RFC 2449 6.7: days or NEVER, optionally followed by USER.
            expire: self
                .policy_arg(c.expire.clone(), self.user_expire.clone())
                .filter(|t| expire_days(strip_user_token(t)).is_some() && fits("EXPIRE", t)),
            uidl: true,
            // RFC 6856 2.1: no text outside ASCII before UTF8 (or LANG).
            implementation: c.implementation.clone().map(Bytes::from).filter(|t| {
                (self.utf8_text || t.is_ascii()) && check_arg(t).is_ok() && fits("IMPLEMENTATION", t)
            }),
            // RFC 2595 4: STLS is listed where it is "permitted in the
            // current state": not under TLS, not after UTF8 (RFC 6856 2.1).
            stls: c.stls && !self.tls && !self.utf8_mode && self.phase == Phase::Authorization,
            utf8: c.utf8.then_some(c.utf8_user),
            lang: self.languages().next().is_some(),
            other: Vec::new(),
        }
    }

    // ----- the command loop -----

    fn process(&mut self) -> Result<(), Error> {
        loop {
            if !self.events.is_empty() || self.phase == Phase::Closed {
                return Ok(());
            }
            let sasl_line = match self.wait {
                Wait::None => false,
                Wait::SaslLine => true,
                _ => return Ok(()),
            };
            if self.out.len() >= self.config.limits.max_pending_output {
                // Answers wait to be written: no more commands until they are
                // (see `output_blocked`).
                return Ok(());
            }
            let Some(line) = self.framer.next_line(&mut self.input) else {
                if self.eof {
                    self.close(CloseReason::Eof);
                }
                return Ok(());
            };
            match line {
                Ok(line) if sasl_line => self.sasl_line(&line)?,
                Ok(line) => self.command(&line)?,
                Err(e) => {
                    // An over-long or badly ended line is a command too: a
                    // PASS after it is not "immediately after" USER.
                    self.user = None;
                    if sasl_line {
                        self.end_sasl();
                        self.events.push_back(ServerEvent::AuthCancelled);
                    }
                    let text = match e {
                        LineError::TooLong { .. } => "line too long",
                        _ => "line must end with CRLF",
                    };
                    self.bad(text)?;
                }
            }
        }
    }

    fn end_sasl(&mut self) {
        self.wait = Wait::None;
        self.framer.set_max_len(self.config.limits.max_command_line);
    }

    fn sasl_line(&mut self, line: &Bytes) -> Result<(), Error> {
        match AuthLine::parse(line) {
            Ok(AuthLine::Cancel) => {
                self.end_sasl();
                self.err("authentication cancelled");
                self.events.push_back(ServerEvent::AuthCancelled);
            }
            Ok(AuthLine::Response(r)) => {
                self.wait = Wait::Auth { sasl: true };
                self.events.push_back(ServerEvent::AuthResponse(r));
            }
            Err(e) => {
                self.end_sasl();
                self.events.push_back(ServerEvent::AuthCancelled);
                self.bad(e.reply_text())?;
            }
        }
        Ok(())
    }

    fn command(&mut self, line: &Bytes) -> Result<(), Error> {
        // RFC 1939 7: PASS "may only be given in the AUTHORIZATION state
        // immediately after a successful USER command", so any command, a
        // failed or unparsable one included, ends the USER given before it.
        let user = self.user.take();
        let cmd = match Command::parse(line) {
            Ok(c) => c,
            Err(e) => return self.bad(e.reply_text()),
        };
        let authz = self.phase == Phase::Authorization;
        match cmd {
            Command::Capa => {
                let caps = self.capabilities();
                self.ok("Capability list follows");
                let _ = caps.encode(self.out.buf_mut());
                self.out.push(b".\r\n");
            }
            Command::Quit if authz => {
                self.ok("POP3 server signing off");
                self.close(CloseReason::Quit);
            }
            Command::Quit => {
                let mut delete: Vec<u32> = self
                    .marked
                    .iter()
                    .filter_map(|&i| u32::try_from(i + 1).ok())
                    .collect();
                delete.sort_unstable();
                self.wait = Wait::Update;
                self.events.push_back(ServerEvent::Update { delete });
            }
            Command::Lang(arg) => self.lang(arg.as_deref()),
            Command::User(name) if authz => {
                if !self.config.user_pass {
                    return self.bad("USER not supported");
                }
                if !self.secure() {
                    return self.bad("plaintext login disallowed without TLS, use STLS");
                }
                if !self.credential_ok(&name) {
                    return self.bad("user name is not valid UTF-8");
                }
                self.user = Some(name);
                self.ok("send PASS");
            }
            Command::Pass(password) if authz => match user {
                Some(_) if !self.credential_ok(password.expose()) => {
                    return self.bad("password is not valid UTF-8");
                }
                Some(user) => {
                    self.wait = Wait::Auth { sasl: false };
                    self.events.push_back(ServerEvent::Login { user, password });
                }
                None => return self.bad("USER first"),
            },
            Command::Apop { name, digest } if authz => {
                if self.config.apop_timestamp.is_none() {
                    return self.bad("APOP not supported");
                }
                if !self.credential_ok(&name) {
                    return self.bad("user name is not valid UTF-8");
                }
                self.wait = Wait::Auth { sasl: false };
                self.events.push_back(ServerEvent::Apop { user: name, digest });
            }
            Command::Auth { mechanism: None, .. } if authz => {
                let mechs = self.usable_mechanisms();
                self.ok("SASL mechanisms follow");
                for m in mechs {
                    write_listing_line(&m, self.out.buf_mut());
                }
                self.out.push(b".\r\n");
            }
            Command::Auth {
                mechanism: Some(mech),
                initial_response,
            } if authz => {
                let upper = Bytes::from(mech.to_ascii_uppercase());
                if !self.usable_mechanisms().contains(&upper) {
                    if Self::is_plaintext_mech(&upper)
                        && self
                            .config
                            .sasl_mechanisms
                            .iter()
                            .any(|m| m.as_bytes().eq_ignore_ascii_case(&upper))
                    {
                        return self.bad("plaintext authentication disallowed without TLS, use STLS");
                    }
                    return self.bad("unsupported authentication mechanism");
                }
                self.wait = Wait::Auth { sasl: true };
                self.events.push_back(ServerEvent::AuthStart {
                    mechanism: upper,
                    initial_response,
                });
            }
            Command::Stls if authz => {
                if !self.config.stls || self.tls {
                    return self.bad("STLS not available");
                }
                // RFC 6856 2.1: "Clients MUST NOT issue the "STLS" command
                // after issuing UTF8; servers MAY ... enforce this": a UTF8
                // in the plaintext may come from a man in the middle, and
                // UTF-8 mode would outlive the handshake.
                if self.utf8_mode {
                    return self.bad("STLS not permitted after UTF8");
                }
                self.ok("Begin TLS negotiation");
                // Anything pipelined after STLS is plaintext injection: drop it.
                self.input.clear();
                self.framer.reset();
                self.wait = Wait::Tls;
                self.events.push_back(ServerEvent::StartTls);
            }
            Command::Utf8 if authz => {
                if !self.config.utf8 {
                    return self.bad("UTF8 not supported");
                }
                self.ok("UTF8 enabled");
                self.utf8_text = true;
                self.utf8_mode = true;
                self.events.push_back(ServerEvent::Utf8Enabled);
            }
            Command::User(_)
            | Command::Pass(_)
            | Command::Apop { .. }
            | Command::Auth { .. }
            | Command::Stls
            | Command::Utf8 => return self.bad("command not valid in this state"),
            _ if authz => return self.bad("command not valid in this state"),
            Command::Stat => {
                let (n, size) = self.totals();
                self.ok(format!("{n} {size}"));
            }
            Command::List(None) => {
                let (n, size) = self.totals();
                self.ok(format!("{n} messages ({size} octets)"));
                let buf = self.out.buf_mut();
                for (i, m) in self.maildrop.messages.iter().enumerate() {
                    if !self.deleted[i] {
                        let msg = u32::try_from(i + 1).unwrap_or(u32::MAX);
                        ScanListing { msg, size: m.size }.encode(buf);
                    }
                }
                self.out.push(b".\r\n");
            }
            Command::List(Some(n)) => {
                if let Some(i) = self.message(n) {
                    let size = self.maildrop.messages[i].size;
                    self.ok(format!("{n} {size}"));
                }
            }
            Command::Uidl(None) => {
                self.ok("unique-id listing follows");
                let buf = self.out.buf_mut();
                for (i, m) in self.maildrop.messages.iter().enumerate() {
                    if !self.deleted[i] {
                        let msg = u32::try_from(i + 1).unwrap_or(u32::MAX);
                        let _ = UidListing {
                            msg,
                            uid: Uid::new(&m.uid),
                        }
                        .encode(buf);
                    }
                }
                self.out.push(b".\r\n");
            }
            Command::Uidl(Some(n)) => {
                if let Some(i) = self.message(n) {
                    let mut text = BytesMut::new();
                    let _ = write!(text, "{n} ");
                    text.put_slice(&self.maildrop.messages[i].uid);
                    self.ok(text.freeze());
                }
            }
            Command::Retr(n) => self.retrieve(n, None),
            Command::Top { msg, lines } => self.retrieve(msg, Some(lines)),
            Command::Dele(n) => {
                if let Some(i) = self.message(n) {
                    self.deleted[i] = true;
                    self.marked.push(i);
                    self.marked_size += u128::from(self.maildrop.messages[i].size);
                    self.ok(format!("message {n} deleted"));
                }
            }
            Command::Noop => self.ok(""),
            Command::Rset => {
                for i in self.marked.drain(..) {
                    self.deleted[i] = false;
                }
                self.marked_size = 0;
                let (n, size) = self.totals();
                self.ok(format!("maildrop has {n} messages ({size} octets)"));
            }
        }
        Ok(())
    }

    /// Live messages and their total size (saturating: the sizes come from
    /// the application and must not overflow). Kept as DELE and RSET
    /// change them, so STAT costs the same on any maildrop (RFC 1939 5).
    fn totals(&self) -> (usize, u64) {
        let n = self.maildrop.messages.len() - self.marked.len();
        let size = u64::try_from(self.total_size - self.marked_size).unwrap_or(u64::MAX);
        (n, size)
    }

    /// Index of live message `n`, or answers `-ERR` and returns `None`.
    fn message(&mut self, n: u32) -> Option<usize> {
        let i = usize::try_from(n).ok()?.checked_sub(1);
        match i {
            Some(i) if i < self.maildrop.messages.len() => {
                if self.deleted[i] {
                    self.reply(&StatusLine::err(None, format!("message {n} already deleted")));
                    None
                } else {
                    Some(i)
                }
            }
            _ => {
                self.err("no such message");
                None
            }
        }
    }

    fn retrieve(&mut self, msg: u32, top_lines: Option<u32>) {
        if let Some(index) = self.message(msg) {
            self.wait = Wait::Message(Box::new(Outgoing {
                encoder: DotEncoder::with_policy(BareLineEndings::Normalize),
                size: self.maildrop.messages[index].size,
                started: false,
                top: top_lines.map(TopCut::new),
            }));
            self.events.push_back(ServerEvent::Retrieve {
                msg,
                index,
                top_lines,
            });
        }
    }

    /// The configured languages whose tag can be sent: one token (RFC 6856
    /// 3.2: a listing line is the tag, then optionally a space and a
    /// description; LANG answers with the exact tag and a space).
    fn languages(&self) -> impl Iterator<Item = &(String, String)> {
        self.config
            .languages
            .iter()
            .filter(|(tag, _)| crate::parse::is_token(tag.as_bytes()))
    }

    fn lang(&mut self, arg: Option<&[u8]>) {
        if self.languages().next().is_none() {
            self.err("LANG not supported");
            return;
        }
        let Some(range) = arg else {
            self.ok("language listing follows");
            // Every line within the response line limit (RFC 2449 4: 512
            // octets with the CRLF; a language listing is such a line, RFC
            // 6856 3): a long description is cut on a UTF-8 boundary, a tag
            // that cannot fit with its CRLF is left out.
            let max = self.config.limits.max_response_line;
            let mut lines = Vec::new();
            for (tag, desc) in self.languages() {
                let stuffed = usize::from(tag.starts_with('.'));
                let room = max.saturating_sub(stuffed + 2);
                if tag.len() > room {
                    continue;
                }
                let mut l = tag.as_bytes().to_vec();
                let desc = desc.as_bytes();
                let keep = text_cut(desc, room.saturating_sub(tag.len() + 1));
                if keep > 0 {
                    l.push(b' ');
                    l.extend_from_slice(&desc[..keep]);
                }
                if proto_core::check_arg(&l).is_ok() {
                    lines.push(l);
                }
            }
            for l in lines {
                write_listing_line(&l, self.out.buf_mut());
            }
            self.out.push(b".\r\n");
            return;
        };
        // Basic language range matching (RFC 4647 3.3.1): "*", an exact tag,
        // or a prefix followed by "-".
        let found = self.languages().find(|(tag, _)| {
            let t = tag.as_bytes();
            range == b"*"
                || t.eq_ignore_ascii_case(range)
                || (t.len() > range.len()
                    && t[..range.len()].eq_ignore_ascii_case(range)
                    && t[range.len()] == b'-')
        });
        match found.cloned() {
            Some((tag, _)) => {
                // RFC 6856 3.2: "This, and subsequent protocol-level
                // human-readable text, is encoded in the UTF-8 charset."
                self.utf8_text = true;
                self.ok(format!("{tag} language changed"));
                self.events.push_back(ServerEvent::LanguageChanged(tag));
            }
            None => self.err("invalid language"),
        }
    }

    // ----- application calls -----

    /// Sends a SASL challenge (`+ base64`) and waits for the client's line.
    /// An empty challenge asks a client-first mechanism for its initial response.
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] unless a SASL exchange awaits a decision.
    pub fn auth_challenge(&mut self, challenge: &[u8]) -> Result<(), UsageError> {
        if !matches!(self.wait, Wait::Auth { sasl: true }) {
            return Err(UsageError::WrongState("no SASL exchange in progress"));
        }
        crate::response::ServerLine::encode_continue(challenge, self.out.buf_mut());
        self.wait = Wait::SaslLine;
        self.framer.set_max_len(self.config.limits.max_auth_line);
        Ok(())
    }

    /// Ends a login attempt (USER/PASS, APOP or SASL).
    ///
    /// On success the session enters TRANSACTION with `maildrop`; on failure it
    /// answers `-ERR` with the failure's code, after
    /// [`ServerConfig::failed_login_delay`] for credential failures, and closes
    /// after [`Limits::max_login_failures`].
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] unless a login awaits a decision (after a
    /// challenge, only once [`ServerEvent::AuthResponse`] has come);
    /// [`UsageError::InvalidMaildrop`] for a unique id that breaks RFC 1939 7
    /// (not 1 to 70 characters in 0x21..0x7E, or given to two messages); the
    /// login still awaits a decision then.
    pub fn auth_finish(&mut self, outcome: AuthOutcome) -> Result<(), UsageError> {
        // Not after a challenge: the client's next line is its answer (RFC
        // 5034 4), which a reply sent now would leave to be read as a command.
        if !matches!(self.wait, Wait::Auth { .. }) {
            return Err(UsageError::WrongState("no login awaits a decision"));
        }
        match outcome {
            AuthOutcome::Success(maildrop) => {
                // RFC 1939 7: a unique id "uniquely identifies a message
                // within a maildrop"; a client that skips or deletes the
                // ids it knows would take one message for another.
                let mut seen = std::collections::HashSet::with_capacity(maildrop.messages.len());
                if !maildrop
                    .messages
                    .iter()
                    .all(|m| is_valid_uid(&m.uid) && seen.insert(&m.uid[..]))
                {
                    return Err(UsageError::InvalidMaildrop("unique id"));
                }
                self.end_sasl();
                self.deleted = vec![false; maildrop.messages.len()];
                self.marked.clear();
                self.marked_size = 0;
                self.total_size = maildrop.messages.iter().map(|m| u128::from(m.size)).sum();
                self.maildrop = maildrop;
                self.phase = Phase::Transaction;
                let (n, size) = self.totals();
                self.ok(format!("maildrop has {n} messages ({size} octets)"));
            }
            AuthOutcome::Failure(f) => {
                self.end_sasl();
                // RFC 3206 6: with AUTH-RESP-CODE advertised (always), every
                // credential failure carries [AUTH]; `None` counts as one.
                let code = if f.is_credential_failure() {
                    Some(ResponseCode::Auth)
                } else {
                    f.code.clone()
                };
                let line = StatusLine::err(code, f.text.clone());
                if !f.is_credential_failure() {
                    self.reply(&line);
                    return Ok(());
                }
                self.login_failures += 1;
                if self.login_failures >= self.config.limits.max_login_failures {
                    self.reply(&line);
                    self.fatal = Some(Error::TooManyLoginFailures);
                    self.close(CloseReason::Error);
                    return Ok(());
                }
                let mut buf = BytesMut::new();
                encode_status(
                    &line,
                    self.config.limits.max_response_line,
                    !self.utf8_text,
                    &mut buf,
                );
                if self.config.failed_login_delay.is_zero() {
                    self.out.push(&buf);
                    self.events.push_back(ServerEvent::LoginFailed {
                        failures: self.login_failures,
                        retry_at: self.now,
                    });
                } else {
                    // After plain `handle_input` the time of the attempt is
                    // unknown: the delay waits for the next time given, or a
                    // stale `now` would leave it already past.
                    self.wait = Wait::Delay {
                        at: None,
                        reply: buf.freeze(),
                    };
                    if self.clock_known {
                        self.learn_time(self.now);
                    }
                }
            }
        }
        Ok(())
    }

    /// TLS is up after [`ServerEvent::StartTls`]: discards any plaintext that
    /// arrived meanwhile, forgets the USER given so far and resumes.
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] unless STLS was accepted.
    pub fn tls_established(&mut self) -> Result<(), UsageError> {
        if !matches!(self.wait, Wait::Tls) {
            return Err(UsageError::WrongState("STLS not accepted"));
        }
        self.input.clear();
        self.framer.reset();
        self.user = None;
        self.tls = true;
        self.wait = Wait::None;
        Ok(())
    }

    /// Streams message bytes after [`ServerEvent::Retrieve`]: as stored,
    /// CRLF (or bare LF, normalised to CRLF) line endings, not stuffed.
    /// Returns `false` once a TOP cut is complete and no more bytes are needed.
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] unless a retrieval is in progress.
    pub fn message_data(&mut self, data: &[u8]) -> Result<bool, UsageError> {
        let Wait::Message(o) = &mut self.wait else {
            return Err(UsageError::WrongState("no retrieval in progress"));
        };
        let buf = self.out.buf_mut();
        if !o.started {
            o.started = true;
            let head = if o.top.is_some() {
                StatusLine::ok("top of message follows")
            } else {
                StatusLine::ok(format!("{} octets", o.size))
            };
            let _ = head.encode(buf);
        }
        let n = match &mut o.top {
            Some(cut) => cut.take(data),
            None => data.len(),
        };
        // The normalising encoder never fails.
        let _ = o.encoder.encode(&data[..n], buf);
        Ok(!o.top.as_ref().is_some_and(|c| c.done))
    }

    /// Ends the message after [`message_data`](Self::message_data) and
    /// resumes reading commands.
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] unless a retrieval is in progress.
    pub fn message_end(&mut self) -> Result<(), UsageError> {
        self.message_data(&[])?;
        let Wait::Message(mut o) = std::mem::replace(&mut self.wait, Wait::None) else {
            return Err(UsageError::WrongState("no retrieval in progress"));
        };
        let _ = o.encoder.finish(self.out.buf_mut());
        // Streaming took a time the session was not told: the client's ten
        // idle minutes start from the next clock reading, as for input.
        self.activity = true;
        Ok(())
    }

    /// The message cannot be read: answers `-ERR [SYS/TEMP]` instead of the
    /// message. Only before any [`message_data`](Self::message_data); once
    /// bytes went out the driver must close the connection instead.
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] unless a retrieval is in progress and nothing was sent.
    pub fn message_unavailable(&mut self, text: &str) -> Result<(), UsageError> {
        match &self.wait {
            Wait::Message(o) if !o.started => {
                self.wait = Wait::None;
                self.reply(&StatusLine::err(Some(ResponseCode::SysTemp), text.to_owned()));
                Ok(())
            }
            _ => Err(UsageError::WrongState("no retrieval waiting to start")),
        }
    }

    /// The message holds UTF-8 and the client has not enabled UTF-8 mode:
    /// answers `-ERR [UTF8] text` instead of the message (RFC 6856 2.1, 5:
    /// the server "MUST either send the client a surrogate message ... or
    /// fail the request with an -ERR response"; the code tells the client
    /// that it may retry after the UTF8 command). Only before any
    /// [`message_data`](Self::message_data); see [`Self::is_utf8_mode`].
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] unless a retrieval is in progress and
    /// nothing was sent, or once UTF-8 mode is on.
    pub fn message_needs_utf8(&mut self, text: &str) -> Result<(), UsageError> {
        if self.utf8_mode {
            return Err(UsageError::WrongState("UTF-8 mode is on"));
        }
        match &self.wait {
            Wait::Message(o) if !o.started => {
                self.wait = Wait::None;
                self.reply(&StatusLine::err(Some(ResponseCode::Utf8), text.to_owned()));
                Ok(())
            }
            _ => Err(UsageError::WrongState("no retrieval waiting to start")),
        }
    }

    /// True once the client enabled UTF-8 mode with the UTF8 command (RFC
    /// 6856 2.1): messages may then be sent with UTF-8 as they are.
    #[must_use]
    pub fn is_utf8_mode(&self) -> bool {
        self.utf8_mode
    }

    /// Ends the UPDATE state after [`ServerEvent::Update`]: `Ok` answers `+OK`,
    /// `Err(text)` answers `-ERR [SYS/TEMP] text` (some deletions failed,
    /// RFC 1939 section 6); then the session closes.
    ///
    /// # Errors
    ///
    /// [`UsageError::WrongState`] unless an update is in progress.
    pub fn update_finish(&mut self, result: Result<(), String>) -> Result<(), UsageError> {
        if !matches!(self.wait, Wait::Update) {
            return Err(UsageError::WrongState("no update in progress"));
        }
        self.wait = Wait::None;
        match result {
            Ok(()) => self.ok("POP3 server signing off"),
            Err(text) => self.reply(&StatusLine::err(Some(ResponseCode::SysTemp), text)),
        }
        self.close(CloseReason::Quit);
        Ok(())
    }
}

/// True when `data` ends a line (a command, an AUTH response or an
/// over-long line the framer drops): input that shows the client active.
fn ends_a_line(data: &[u8]) -> bool {
    memchr::memchr(b'\n', data).is_some()
}

impl Session for ServerSession {
    type Event = ServerEvent;
    type Error = Error;

    fn handle_input(&mut self, data: &[u8]) {
        // While STLS is pending, bytes are plaintext that `tls_established` would drop.
        if self.phase == Phase::Closed || data.is_empty() || matches!(self.wait, Wait::Tls) {
            return;
        }
        // RFC 1939 3: "the receipt of any command from the client during
        // that interval should suffice to reset the autologout timer": a
        // command, not a byte of one, so a client that trickles a line a
        // byte at a time cannot hold the session open for ever.
        self.activity |= ends_a_line(data);
        self.clock_known = false;
        self.input.extend_from_slice(data);
        let limit = self
            .config
            .limits
            .max_pipelined_input
            .max(self.config.limits.max_auth_line);
        let waiting = !matches!(self.wait, Wait::None | Wait::SaslLine)
            || self.out.len() >= self.config.limits.max_pending_output;
        if waiting && self.input.len() > limit {
            // While the session waits for the application nothing consumes
            // input; otherwise the next `poll_event` frames it line by line.
            self.err("too much pipelined input, closing connection");
            self.close(CloseReason::Error);
            self.fatal = Some(Error::Limit {
                what: "pipelined input",
            });
        }
    }

    fn poll_event(&mut self) -> Result<Option<ServerEvent>, Error> {
        if let Some(ev) = self.events.pop_front() {
            return Ok(Some(ev));
        }
        self.process()?;
        if let Some(ev) = self.events.pop_front() {
            return Ok(Some(ev));
        }
        match &self.fatal {
            Some(e) => Err(e.clone()),
            None => Ok(None),
        }
    }

    fn poll_transmit(&self) -> Option<&[u8]> {
        self.out.peek()
    }

    fn advance_transmit(&mut self, n: usize) {
        self.out.advance(n);
        // RFC 1939 3 times the client's inactivity: a client still taking
        // the answer is not idle (it sends its next command only once the
        // answer is in), so the timer restarts from the last time given,
        // which is no later than now. Activity not yet timed already
        // counts as the next time given, which is later. A client that
        // stops reading is idle again.
        if n > 0 && self.phase != Phase::Closed && !self.activity {
            self.idle.restart(self.now);
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let delay = match &self.wait {
            // Unknown start: ask for `handle_timeout` at once (a time past).
            Wait::Delay { at, .. } => Some(at.unwrap_or(self.now)),
            _ => None,
        };
        earliest(&[self.idle.at(), delay])
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.learn_time(now);
        if let Wait::Delay { at: Some(at), reply } = &self.wait
            && now >= *at
        {
            let reply = reply.clone();
            self.out.push(&reply);
            self.wait = Wait::None;
        }
        if self.idle.expired(now) {
            // RFC 1939 3 times the client's inactivity: while the server is
            // still answering (a login decision, a message being streamed,
            // the update) the client is waiting, not idle.
            let answering = matches!(
                self.wait,
                Wait::Auth { .. } | Wait::Message(_) | Wait::Update | Wait::Delay { .. }
            );
            if self.activity || answering {
                // Input arrived through `handle_input` without a time, or an
                // answer ended since the last check: count it as now.
                self.activity = false;
                self.idle.restart(now);
            } else {
                // RFC 1939 section 3: no UPDATE, no response.
                self.close(CloseReason::Timeout);
            }
        }
    }

    fn handle_eof(&mut self) {
        self.eof = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_cut() {
        let msg = b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
        for (n, want) in [(0u32, 14usize), (1, 18), (2, 22), (5, msg.len())] {
            for split in 0..msg.len() {
                let mut c = TopCut::new(n);
                let a = c.take(&msg[..split]);
                let b = if a < split { 0 } else { c.take(&msg[split..]) };
                assert_eq!(a + b, want, "n={n} split={split}");
            }
        }
        // No blank line: everything is header.
        let mut c = TopCut::new(0);
        assert_eq!(c.take(b"A: 1\r\nB: 2\r\n"), 12);
        // Bare LF header end.
        let mut c = TopCut::new(1);
        assert_eq!(c.take(b"A: 1\n\nx\ny\n"), 8);
    }
}
