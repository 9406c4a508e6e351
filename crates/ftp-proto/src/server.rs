//! [`ServerSession`]: the server side of the control connection.
//!
//! The session parses commands, keeps the protocol state (login, TLS, the
//! virtual working directory, pending RNFR and REST, the negotiated data
//! mode) and answers everything it can by itself. Whatever needs the file
//! system or the network comes out as a [`ServerEvent`]; the application
//! answers through methods ([`ServerSession::complete`],
//! [`ServerSession::login_accept`], [`ServerSession::data_connected`] ...) and
//! the session writes the replies in the right order.
//!
//! Security rules built in:
//! * FTP bounce (RFC 2577 3): PORT/EPRT to another host than the control
//!   peer is refused with 500, to a port below 1024 with 504, unless configured.
//! * PASV theft: [`ServerSession::accept_data_peer`] tells the driver to drop a
//!   passive data connection from a foreign address; the transfer keeps waiting.
//! * AUTH TLS (RFC 4217): plaintext pipelined after the AUTH command is
//!   discarded; input is ignored until [`ServerSession::tls_established`].
//! * Failed logins: a delay before each 530 and a limit after which 421 closes.
//! * The working directory is a normalised virtual path that never climbs above `/`.
//!
//! Two departures from the common session shape, both because the protocol
//! needs them: [`ServerSession::new`] takes the control connection's peer
//! address (the bounce and theft checks compare against it), and
//! [`ServerSession::login_reject`] takes the current time (the failed-login
//! delay starts then). The idle timer restarts lazily: a command seen since it
//! was armed moves it forward when it fires, so the session closes an idle
//! connection between one and two periods after the last command.

use crate::command::{Command, EpsvArg, FormatControl, ProtLevel, Structure, TransferMode, TransferType};
use crate::error::{Error, ErrorKind, UsageError};
use crate::limits::Limits;
use crate::list::MlsxFacts;
use crate::parse::{eq_ic, write_u64};
use crate::reply::{
    check_reply_line, encode_reply, write_257_path, write_epsv_text, write_inner_line, write_pasv_text,
    write_reply_line,
};
use crate::time::Timestamp;
use bytes::{Bytes, BytesMut};
use proto_core::{Deadline, LineConfig, LineError, LineFramer, Secret, TransmitQueue};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Whether the server offers or requires AUTH TLS (RFC 4217).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPolicy {
    /// No TLS: AUTH is refused.
    Unavailable,
    /// AUTH TLS is offered; plaintext logins are allowed.
    Optional,
    /// USER before AUTH TLS is refused (530) and data must use PROT P (521).
    Required,
}

/// Server configuration.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)]
pub struct ServerConfig {
    /// Limits and timeouts.
    pub limits: Limits,
    /// Text of the 220 greeting.
    pub greeting: Vec<u8>,
    /// Text of the 215 SYST reply.
    pub system: Vec<u8>,
    /// Accept `USER anonymous` / `USER ftp` (the application still decides on PASS).
    pub allow_anonymous: bool,
    /// TLS policy.
    pub tls: TlsPolicy,
    /// Allow PORT/EPRT to an address other than the control peer (FTP bounce). Off by default.
    pub allow_foreign_active: bool,
    /// Allow PORT/EPRT to a port below 1024 (never port 0). Off by default.
    pub allow_low_active_ports: bool,
    /// Accept passive data connections from any address (no PASV-theft check). Off by default.
    pub allow_foreign_passive: bool,
    /// Speak the Telnet layer of the control connection (RFC 959 4): strip
    /// Telnet IAC sequences from command lines (RFC 959 4.1.3 sends ABOR
    /// after Telnet IP and Synch; RFC 1123 4.1.2.12 asks servers to cope) and
    /// send a byte 255 in replies as IAC IAC (RFC 854). On by default; off,
    /// the control connection carries raw bytes both ways.
    pub strip_telnet: bool,
    /// Named leniency: a bare LF ends a command line. Off by default.
    pub accept_bare_lf: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            greeting: b"FTP server ready".to_vec(),
            system: b"UNIX Type: L8".to_vec(),
            allow_anonymous: false,
            tls: TlsPolicy::Optional,
            allow_foreign_active: false,
            allow_low_active_ports: false,
            allow_foreign_passive: false,
            strip_telnet: true,
            accept_bare_lf: false,
        }
    }
}

/// Where the data connection goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataMode {
    /// PASV: the client connects to the listener the driver opened.
    Passive,
    /// PORT: the server connects to this address.
    Active(SocketAddr),
    /// EPSV: as Passive.
    ExtendedPassive,
    /// EPRT: as Active.
    ExtendedActive(SocketAddr),
}

/// Identifies one transfer in the data-channel methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransferId(pub u64);

/// What a transfer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    /// RETR: send a file.
    Retrieve,
    /// STOR: receive a file.
    Store,
    /// STOU: receive a file under a unique name the application picks.
    StoreUnique,
    /// APPE: append to a file (after a REST other than 0 an APPE comes as
    /// [`TransferKind::Store`] at the offset, RFC 3659 5.3).
    Append,
    /// LIST: `ls -l` style listing.
    List,
    /// NLST: names only.
    NameList,
    /// MLSD: machine listing (RFC 3659 7).
    MachineList,
}

/// A transfer the application must carry out on the data connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Its id.
    pub id: TransferId,
    /// What it does.
    pub kind: TransferKind,
    /// The resolved virtual path (absolute, normalised), when the command named one.
    pub path: Option<Bytes>,
    /// LIST/NLST options as sent (e.g. `-la`), if any.
    pub options: Option<Bytes>,
    /// Restart offset from REST (RETR/STOR; an APPE after a REST other than
    /// 0 comes as [`TransferKind::Store`] at the offset, RFC 3659 5.3), 0 otherwise. It counts octets
    /// of the data connection (RFC 3659 5.3: "the number of octets of the
    /// immediately-following transfer to not actually send"): with `ascii`,
    /// octets of the TYPE A form, where each LF of the file is CRLF. An
    /// offset the file cannot honour (past its end, or between a CR and its
    /// LF) is answered with [`DataFailure::InvalidRestart`] before any data
    /// connection: the session has no file system to check it against.
    pub offset: u64,
    /// TYPE A: convert line endings (see [`crate::AsciiEncoder`]).
    pub ascii: bool,
    /// PROT P: the data connection must use TLS.
    pub protected: bool,
    /// For MLSD, the facts to write (OPTS MLST selects them; RFC 3659 7.9:
    /// facts not selected MUST NOT be returned). See [`crate::list::write_mlsx`].
    pub mlst_facts: MlsxFacts,
}

/// A question for the application about the file system.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// CWD/CDUP/XCWD/XCUP: does this directory exist and may the user enter it?
    ChangeDir(Bytes),
    /// MKD/XMKD.
    MakeDir(Bytes),
    /// RMD/XRMD.
    RemoveDir(Bytes),
    /// DELE.
    Delete(Bytes),
    /// RNFR: may this file be renamed?
    RenameFrom(Bytes),
    /// RNTO after an accepted RNFR.
    Rename {
        /// The source.
        from: Bytes,
        /// The destination.
        to: Bytes,
    },
    /// SIZE: answer with [`Outcome::Size`], the exact number of octets a
    /// RETR would send now (RFC 3659 4: "the result of the SIZE command is
    /// dependent on the currently established STRU, MODE, and TYPE"). The
    /// session supports only STRU F and MODE S, so the TYPE decides: in
    /// TYPE A every line end counts as CRLF (RFC 3659 4.4; with
    /// [`crate::AsciiEncoder`], the stored size plus one octet per LF). If
    /// that is too costly, [`Outcome::Failed`] with 550 is allowed (4.2).
    Size {
        /// The file.
        path: Bytes,
        /// TYPE A is in force: the size of the file as TYPE A sends it.
        ascii: bool,
    },
    /// MDTM: answer with [`Outcome::Time`].
    ModTime(Bytes),
    /// MFMT.
    SetModTime {
        /// The file.
        path: Bytes,
        /// The new time.
        time: Timestamp,
    },
    /// MLST: answer with [`Outcome::Lines`] holding the entry (see [`crate::list::write_mlsx`]).
    Mlst {
        /// The path.
        path: Bytes,
        /// The facts selected with OPTS MLST.
        facts: MlsxFacts,
    },
    /// STAT with a path: answer with [`Outcome::Lines`] (a listing, as LIST
    /// gives it: RFC 959 4.1.3). A listing of any size can go out in pieces
    /// with [`ServerSession::complete_part`] first.
    Stat(Bytes),
    /// SITE: answer with [`Outcome::Reply`] or a failure.
    Site(Bytes),
    /// HOST (RFC 7151): may the session use this virtual host? Answer
    /// [`Outcome::Ok`] (220) or a failure (504 for an unknown host, RFC 7151
    /// 3.1). When the TLS handshake carried a `server_name` (RFC 6066), RFC
    /// 7151 3.3 says the server "MUST verify that the name in the HOST
    /// command matches" it: the driver knows it, the session does not.
    Host(Bytes),
}

/// The application's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Done (the session sends the success reply of the command).
    Ok,
    /// The size for SIZE.
    Size(u64),
    /// The time for MDTM (valid, year 1000 to 9999: RFC 3659 2.3).
    Time(Timestamp),
    /// Lines for MLST and STAT (for STAT, the last ones after any sent
    /// with [`ServerSession::complete_part`]). A CR in them (a pathname's)
    /// goes padded with a NUL (RFC 2640 3.1, which RFC 3659 2.2 requires
    /// of MLST).
    Lines(Vec<Vec<u8>>),
    /// A reply of the application's choice (SITE): a 2yz, 4yz or 5yz code
    /// (no 3yz, which would ask for a next command the session does not
    /// take, RFC 959 4.2); 421 closes the session as with [`Outcome::Failed`].
    Reply(u16, Vec<u8>),
    /// 550 no such file or directory.
    NotFound,
    /// 550 permission denied.
    Denied,
    /// A failure with a code (400..=599) and text. 421 (service closing,
    /// RFC 959 4.2) closes the session: write what is pending, then close
    /// the connection ([`ServerSession::is_closed`] is true).
    Failed(u16, Vec<u8>),
}

/// How a data transfer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFailure {
    /// The data connection could not be opened: 425.
    Connect,
    /// The connection was lost or closed mid-transfer: 426.
    Lost,
    /// The file does not exist or may not be read: 550.
    Unavailable,
    /// A local error: 451.
    Local,
    /// Out of space: 552.
    StorageExceeded,
    /// The REST marker cannot be honoured for this file (past its end, or
    /// in TYPE A between the CR and LF of a line end): 554 (RFC 1123
    /// 4.1.3.4; RFC 3659 5.3: a "restart marker out of range" is reported
    /// on the transfer command that follows the REST).
    InvalidRestart,
    /// PROT P: the TLS negotiation on the data connection failed or was
    /// unacceptable: 522 after the 150 (RFC 4217 10.2).
    TlsFailed,
    /// PROT P: the data connection's TLS did not resume the session of the
    /// control connection, which the server insists on: 522, saying so
    /// (RFC 4217 10.2: "the '522' reply should indicate this").
    TlsNotResumed,
}

/// Why the session closed by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent QUIT (221 was sent).
    Quit,
}

/// What the server session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// USER and PASS arrived: check them, then call [`ServerSession::login_accept`],
    /// [`ServerSession::login_reject`] or [`ServerSession::login_need_account`].
    Login {
        /// The user name.
        user: Bytes,
        /// The password.
        password: Secret<Vec<u8>>,
        /// True for `anonymous`/`ftp` (then the password is conventionally an e-mail address).
        anonymous: bool,
    },
    /// ACCT after 332: accept or reject as for Login.
    Account {
        /// The user name.
        user: Bytes,
        /// The account.
        account: Bytes,
    },
    /// AUTH TLS was accepted (234 queued): after writing it, run the TLS
    /// handshake, then call [`ServerSession::tls_established`]. As after
    /// REIN, the user and every transfer parameter are back to their
    /// defaults (RFC 4217 4), the virtual host aside: drop any passive
    /// listener.
    StartTls,
    /// A file-system question: answer with [`ServerSession::complete`].
    Request(Request),
    /// PASV/EPSV: open a listener, then call [`ServerSession::passive_ready`]
    /// (or [`ServerSession::passive_failed`]). For EPSV, on the local address
    /// of the control connection: its network protocol is the data
    /// connection's (RFC 2428 3; an EPSV naming the other one got 522).
    PassiveListen {
        /// True for EPSV.
        extended: bool,
    },
    /// A transfer: get the data connection (`mode`), then report with
    /// [`ServerSession::data_connected`], [`ServerSession::data_finished`] or
    /// [`ServerSession::data_failed`]. For passive modes, ask
    /// [`ServerSession::accept_data_peer`] about every incoming connection.
    OpenDataChannel {
        /// Where the connection goes.
        mode: DataMode,
        /// What to do on it.
        transfer: Transfer,
    },
    /// ABOR: close the data connection of this transfer now (426 and 226 are queued).
    AbortTransfer(TransferId),
    /// REIN (RFC 959 4.1.1: it "terminates a USER, flushing all I/O and
    /// account information"): the user is logged out and every parameter is
    /// back to its default (TYPE A, no data mode or EPSV ALL, no pending
    /// RNFR or REST, the default OPTS MLST facts, and no virtual host: RFC
    /// 7151 3.2.1 "The effect of a HOST command MUST be reset"). Drop the
    /// user's state, the virtual host and any passive listener. The 220 is
    /// queued; nothing needs an answer. A REIN sent during a transfer waits
    /// until it ends, so a transfer in progress completes.
    Reinitialized,
    /// The session closed by itself; write what is pending, then close.
    Closed(CloseReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Login {
    AwaitUser,
    AwaitPass(Bytes),
    AwaitAcct(Bytes),
    LoggedIn(Bytes),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    Plain,
    Handshake,
    Active,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    None,
    Login(Bytes),
    Account(Bytes),
    Request(Request),
    Passive(bool),
    Tls,
}

/// One line of input as the session reads it.
#[derive(Debug, Clone)]
enum Input {
    /// A command line (without its CRLF, Telnet and CR padding removed).
    Line(Bytes),
    /// A line refused before parsing (too long, a bare CR or LF): the text of its 500.
    Refused(&'static [u8]),
}

impl Input {
    /// The bytes it holds.
    fn len(&self) -> usize {
        match self {
            Input::Line(l) => l.len(),
            Input::Refused(_) => 0,
        }
    }
}

/// Commands read during a transfer, acted on after it, with the bytes
/// they hold counted as they come and go (so a check costs the same
/// however many wait).
#[derive(Debug, Default)]
struct Deferred {
    queue: VecDeque<Input>,
    bytes: usize,
}

impl Deferred {
    fn push(&mut self, input: Input) {
        self.bytes += input.len();
        self.queue.push_back(input);
    }

    fn pop(&mut self) -> Option<Input> {
        let input = self.queue.pop_front()?;
        self.bytes -= input.len();
        Some(input)
    }

    fn clear(&mut self) {
        self.queue.clear();
        self.bytes = 0;
    }

    fn len(&self) -> usize {
        self.queue.len()
    }

    fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

const BARE_LINE_END: &[u8] = b"Syntax error: lines must end with CRLF";

#[derive(Debug, Clone, Copy)]
struct Active {
    id: TransferId,
    opened: bool,
    kind: TransferKind,
}

/// The server side of an FTP control connection (sans-IO).
///
/// See the crate docs for an example with a client.
///
/// Its `Debug` output shows the state and the sizes of its buffers, never
/// their bytes: the receive buffer may hold a pipelined PASS line (RFC 959
/// 4.1.1) not yet read.
pub struct ServerSession {
    config: ServerConfig,
    peer: SocketAddr,
    recv: BytesMut,
    framer: LineFramer,
    /// Input read during a transfer, acted on after it.
    deferred: Deferred,
    tx: TransmitQueue,
    events: VecDeque<ServerEvent>,
    login: Login,
    anonymous: bool,
    failed_logins: u32,
    tls: Tls,
    pbsz: bool,
    prot: ProtLevel,
    cwd: Vec<u8>,
    rnfr: Option<Bytes>,
    rest: Option<u64>,
    ascii: bool,
    data_mode: Option<DataMode>,
    epsv_all: bool,
    mlst_facts: MlsxFacts,
    pending: Pending,
    /// The multi-line 213 answering a STAT is open: lines went out with
    /// [`ServerSession::complete_part`], its last line is still due.
    stat_open: bool,
    transfer: Option<Active>,
    /// The name the application gave an STOU transfer, for its 150/125.
    unique_name: Option<Bytes>,
    /// The virtual host accepted with HOST (RFC 7151).
    host: Option<Bytes>,
    next_id: u64,
    idle: Deadline,
    /// A command was processed or a reply answered one (an application
    /// decision, a transfer's end) since the idle deadline last started:
    /// the idle period (RFC 1123 4.1.3.2: "no command or data transfer in
    /// progress") has not begun yet.
    input_seen: bool,
    delay_until: Option<Instant>,
    delayed: Option<(u16, &'static [u8], bool)>,
    closed: bool,
    /// The peer ended its input ([`ServerSession::handle_eof`]): the lines
    /// already complete are still answered, then the session closes.
    eof: bool,
    fatal: Option<Error>,
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("peer", &self.peer)
            .field("login", &self.login)
            .field("anonymous", &self.anonymous)
            .field("failed_logins", &self.failed_logins)
            .field("tls", &self.tls)
            .field("prot", &self.prot)
            .field("pending", &self.pending)
            .field("transfer", &self.transfer.is_some())
            .field("closed", &self.closed)
            .field("eof", &self.eof)
            .field("fatal", &self.fatal)
            .field("buffered_input", &self.recv.len())
            .field("deferred", &self.deferred.len())
            .field("transmit", &self.tx)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// Resolves `arg` against `cwd` into a normalised absolute virtual path.
///
/// `..` at the root stays at the root, `.` and empty segments vanish.
///
/// ```
/// use ftp_proto::server::resolve_path;
/// assert_eq!(resolve_path(b"/pub", b"../../etc/./passwd"), b"/etc/passwd");
/// assert_eq!(resolve_path(b"/a/b", b"c//d/"), b"/a/b/c/d");
/// assert_eq!(resolve_path(b"/a", b"/"), b"/");
/// ```
#[must_use]
pub fn resolve_path(cwd: &[u8], arg: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(cwd.len() + arg.len() + 1);
    let push = |out: &mut Vec<u8>, seg: &[u8]| match seg {
        b"" | b"." => {}
        b".." => {
            let cut = out.iter().rposition(|&c| c == b'/').unwrap_or(0);
            out.truncate(cut);
        }
        s => {
            out.push(b'/');
            out.extend_from_slice(s);
        }
    };
    if !arg.starts_with(b"/") {
        for seg in cwd.split(|&c| c == b'/') {
            push(&mut out, seg);
        }
    }
    for seg in arg.split(|&c| c == b'/') {
        push(&mut out, seg);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Writes a path into reply text, a CR padded with a NUL as in a command
/// (RFC 2640 3.1), so that a path with a CR is answered with it rather than
/// with the text withheld. A CR already padded is left as it is.
fn write_path_text(path: &[u8], out: &mut BytesMut) {
    let mut rest = path;
    while let Some(i) = memchr::memchr(b'\r', rest) {
        out.extend_from_slice(&rest[..=i]);
        if rest.get(i + 1) != Some(&0) {
            out.extend_from_slice(b"\0");
        }
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

/// A listing line from the application for an MLST or STAT reply, with
/// the CR of a pathname in it padded (RFC 2640 3.1; RFC 3659 2.2 requires
/// RFC 2640 of MLST; no other part of such a line holds a CR).
fn pad_listing_line(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr(b'\r', line).is_none() {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = BytesMut::with_capacity(line.len() + 4);
    write_path_text(line, &mut out);
    std::borrow::Cow::Owned(out.to_vec())
}

/// Splits the `ls` options that LIST, NLST and STAT may carry before the
/// path (`-la /pub`): the options, if any, and the path, if any.
fn split_ls_options(arg: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    if arg.starts_with(b"-") {
        let (opts, rest) = crate::parse::split_sp(arg);
        (Some(opts), rest.filter(|r| !r.is_empty()))
    } else {
        (None, Some(arg).filter(|a| !a.is_empty()))
    }
}

fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    canon(a) == canon(b)
}

const HELP_LINES: &[&[u8]] = &[
    b"The following commands are recognized:",
    b" ABOR ACCT ADAT ALLO APPE AUTH CCC  CDUP CWD  DELE EPRT EPSV FEAT HELP",
    b" HOST LANG LIST MDTM MFMT MKD  MLSD MLST MODE NLST NOOP OPTS PASS PASV",
    b" PBSZ PORT PROT PWD  QUIT REIN REST RETR RMD  RNFR RNTO SITE SIZE SMNT",
    b" STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD XPWD XRMD",
    b"Help OK",
];

impl ServerSession {
    /// A session for a new control connection from `peer`, greeting queued.
    #[must_use]
    pub fn new(config: ServerConfig, peer: SocketAddr, now: Instant) -> Self {
        // A CR inside a line is let through the framer only to be checked
        // in `next_line`: it must be a pathname's CR NUL (RFC 2640 3.1).
        let framer = LineFramer::new(LineConfig {
            max_len: config.limits.line,
            accept_bare_lf: config.accept_bare_lf,
            accept_bare_cr: true,
        });
        let mut idle = Deadline::new(config.limits.idle_timeout);
        idle.restart(now);
        let mut s = ServerSession {
            peer,
            recv: BytesMut::new(),
            framer,
            deferred: Deferred::default(),
            tx: TransmitQueue::default(),
            events: VecDeque::new(),
            login: Login::AwaitUser,
            anonymous: false,
            failed_logins: 0,
            tls: Tls::Plain,
            pbsz: false,
            prot: ProtLevel::Clear,
            cwd: b"/".to_vec(),
            rnfr: None,
            rest: None,
            ascii: true,
            data_mode: None,
            epsv_all: false,
            mlst_facts: MlsxFacts::default(),
            pending: Pending::None,
            stat_open: false,
            transfer: None,
            unique_name: None,
            host: None,
            next_id: 1,
            idle,
            input_seen: false,
            delay_until: None,
            delayed: None,
            closed: false,
            eof: false,
            fatal: None,
            config,
        };
        let greeting = s.config.greeting.clone();
        s.reply(220, &greeting);
        s
    }

    fn reply(&mut self, code: u16, text: &[u8]) {
        self.reply_lines(code, &[text]);
    }

    fn reply_lines(&mut self, code: u16, lines: &[&[u8]]) {
        self.write_reply(|buf| {
            let start = buf.len();
            if encode_reply(code, lines, buf).is_err() {
                // Text from the application with CR/LF: never sent as is.
                buf.truncate(start);
                let _ = encode_reply(code, &[b"(reply text withheld: it held a line break)"], buf);
            }
        });
    }

    /// Writes (part of) a reply with `f` into the transmit queue.
    fn write_reply(&mut self, f: impl FnOnce(&mut BytesMut)) {
        let buf = self.tx.buf_mut();
        let start = buf.len();
        f(buf);
        // The Telnet layer (RFC 959 4 and 5.2; RFC 854): a byte 255 in the
        // text (a path in a 257 or a 550) goes as IAC IAC, or a client takes
        // it and the next byte for a Telnet command and reads another path.
        if self.config.strip_telnet {
            crate::telnet::escape(buf, start);
        }
    }

    /// Writes inner lines of the open STAT reply, opening it first if need
    /// be. A CR is padded with a NUL (RFC 2640 3.1); a line with LF or NUL
    /// (other than a CR's padding) is withheld,
    /// with a line that says so in its place.
    fn stat_inner_lines<L: AsRef<[u8]>>(&mut self, lines: &[L]) {
        let open = std::mem::replace(&mut self.stat_open, true);
        self.write_reply(|buf| {
            if !open {
                write_reply_line(213, b'-', b"Status follows:", buf);
            }
            for l in lines {
                let l = pad_listing_line(l.as_ref());
                if check_reply_line(&l).is_ok() {
                    write_inner_line(&l, buf);
                } else {
                    write_inner_line(b" (line withheld: it held a line break)", buf);
                }
            }
        });
    }

    /// Sends part of the answer to the pending [`Request::Stat`]: the
    /// multi-line 213 reply opens (on the first call) and these listing
    /// lines follow at once, while the request stays pending. Then
    /// [`ServerSession::complete`] ends the reply: [`Outcome::Lines`] with
    /// the last lines (or none). So a directory of any size is answered in
    /// bounded memory: write out the transmit queue between calls (RFC 959
    /// 4.1.3 puts no bound on a STAT listing, "analogous to the LIST
    /// command" over the control connection). A failure reported after
    /// this ([`Outcome::Failed`], [`Outcome::NotFound`] ...) can no longer
    /// change the reply code: it ends the 213 reply with a last line that
    /// says the listing is incomplete and why (and a 421 still closes the
    /// session).
    ///
    /// A CR in a line (a pathname's) goes padded with a NUL (RFC 2640 3.1);
    /// a line with LF or NUL is withheld, a line saying so in its place.
    ///
    /// # Errors
    ///
    /// No STAT request is waiting.
    pub fn complete_part<L: AsRef<[u8]>>(&mut self, lines: &[L]) -> Result<(), UsageError> {
        if !matches!(self.pending, Pending::Request(Request::Stat(_))) {
            return Err(UsageError("no STAT request waiting"));
        }
        if self.closed {
            return Err(UsageError("session closed"));
        }
        self.stat_inner_lines(lines);
        Ok(())
    }

    /// Ends the STAT reply opened by [`ServerSession::complete_part`] with
    /// `outcome`.
    fn complete_open_stat(&mut self, outcome: Outcome) -> Result<(), UsageError> {
        let closing = matches!(outcome, Outcome::Failed(421, _));
        let why: Vec<u8> = match outcome {
            Outcome::Lines(lines) => {
                self.stat_inner_lines(&lines);
                self.write_reply(|buf| write_reply_line(213, b' ', b"End of status", buf));
                return self.set_pending_none();
            }
            Outcome::NotFound => b"No such file or directory".to_vec(),
            Outcome::Denied => b"Permission denied".to_vec(),
            Outcome::Failed(_, text) => text,
            _ => return Err(UsageError("a STAT reply ends with Outcome::Lines or a failure")),
        };
        self.write_reply(|buf| {
            let mut last = b"End of status (incomplete: ".to_vec();
            if check_reply_line(&why).is_ok() {
                last.extend_from_slice(&why);
            } else {
                last.extend_from_slice(b"error");
            }
            last.push(b')');
            write_reply_line(213, b' ', &last, buf);
        });
        self.set_pending_none()?;
        if closing {
            self.reply(421, b"Service closing control connection");
            self.closed = true;
            self.recv.clear();
            self.deferred.clear();
        }
        Ok(())
    }

    fn reply_with(&mut self, code: u16, f: impl FnOnce(&mut BytesMut)) {
        let mut text = BytesMut::new();
        f(&mut text);
        self.reply(code, &text);
    }

    /// The current working directory (virtual, absolute).
    #[must_use]
    pub fn cwd(&self) -> &[u8] {
        &self.cwd
    }

    /// The virtual host the application accepted with HOST (RFC 7151), if
    /// any. REIN and a later HOST (RFC 7151 3.2.2: "as though a previous
    /// HOST command was not sent") forget it.
    #[must_use]
    pub fn host(&self) -> Option<&[u8]> {
        self.host.as_deref()
    }

    /// The logged-in user, if any.
    #[must_use]
    pub fn user(&self) -> Option<&[u8]> {
        match &self.login {
            Login::LoggedIn(u) => Some(u),
            _ => None,
        }
    }

    /// True once the session has closed (QUIT, timeout, fatal error, a 421
    /// from the application, or the end of input once every command before
    /// it was answered: see [`ServerSession::handle_eof`]).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True when the control connection is protected by TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls == Tls::Active
    }

    /// The negotiated data mode, if a PASV/EPSV/PORT/EPRT is waiting for a transfer.
    #[must_use]
    pub fn data_mode(&self) -> Option<DataMode> {
        self.data_mode
    }

    /// PASV theft check: may a passive data connection from `addr` be used?
    /// If not, the driver drops that connection and keeps listening; the
    /// transfer keeps waiting for the real client.
    #[must_use]
    pub fn accept_data_peer(&self, addr: SocketAddr) -> bool {
        self.config.allow_foreign_passive || same_ip(addr.ip(), self.peer.ip())
    }

    fn set_pending_none(&mut self) -> Result<(), UsageError> {
        if self.closed {
            return Err(UsageError("session closed"));
        }
        self.pending = Pending::None;
        self.stat_open = false;
        // The answer ends the command: the idle period starts from here.
        self.input_seen = true;
        Ok(())
    }

    /// Accepts the login (after [`ServerEvent::Login`] or [`ServerEvent::Account`]): 230.
    ///
    /// # Errors
    ///
    /// No login is waiting for a decision.
    pub fn login_accept(&mut self) -> Result<(), UsageError> {
        let user = match &self.pending {
            Pending::Login(u) | Pending::Account(u) => u.clone(),
            _ => return Err(UsageError("no login waiting")),
        };
        self.set_pending_none()?;
        self.login = Login::LoggedIn(user);
        self.cwd = b"/".to_vec();
        self.reply(230, b"Login successful");
        Ok(())
    }

    /// The login needs an account (RFC 959 ACCT): 332.
    ///
    /// # Errors
    ///
    /// No password check is waiting.
    pub fn login_need_account(&mut self) -> Result<(), UsageError> {
        let Pending::Login(user) = &self.pending else {
            return Err(UsageError("no login waiting"));
        };
        self.login = Login::AwaitAcct(user.clone());
        self.set_pending_none()?;
        self.reply(332, b"Need account for login");
        Ok(())
    }

    /// Rejects the login. After [`Limits::failed_login_delay`] the 530 is sent
    /// (commands wait meanwhile); after [`Limits::failed_login_limit`]
    /// failures, 421 and the session closes (`poll_event` then fails).
    ///
    /// # Errors
    ///
    /// No login is waiting for a decision.
    pub fn login_reject(&mut self, now: Instant) -> Result<(), UsageError> {
        if !matches!(self.pending, Pending::Login(_) | Pending::Account(_)) {
            return Err(UsageError("no login waiting"));
        }
        self.set_pending_none()?;
        self.login = Login::AwaitUser;
        self.failed_logins += 1;
        let fatal = self.failed_logins >= self.config.limits.failed_login_limit;
        let (code, text): (u16, &'static [u8]) = if fatal {
            (421, b"Too many failed logins, closing control connection")
        } else {
            (530, b"Login incorrect")
        };
        let delay = self.config.limits.failed_login_delay;
        if delay.is_zero() {
            self.finish_reject(code, text, fatal);
        } else {
            self.delay_until = now.checked_add(delay);
            self.delayed = Some((code, text, fatal));
        }
        Ok(())
    }

    fn finish_reject(&mut self, code: u16, text: &'static [u8], fatal: bool) {
        self.input_seen = true;
        self.reply(code, text);
        if fatal {
            self.close_fatal(Error::new(ErrorKind::Limit, "too many failed logins"));
        }
    }

    fn close_fatal(&mut self, e: Error) {
        self.closed = true;
        self.fatal = Some(e);
        self.recv.clear();
        self.deferred.clear();
    }

    /// The TLS handshake after AUTH TLS succeeded; input is read again.
    ///
    /// # Errors
    ///
    /// No AUTH TLS is waiting.
    pub fn tls_established(&mut self) -> Result<(), UsageError> {
        if self.pending != Pending::Tls {
            return Err(UsageError("no TLS handshake waiting"));
        }
        self.set_pending_none()?;
        self.tls = Tls::Active;
        // Anything that arrived before the handshake finished was plaintext: gone.
        self.recv.clear();
        self.framer.reset();
        self.login = Login::AwaitUser;
        Ok(())
    }

    /// The TLS handshake failed: the session closes.
    pub fn tls_failed(&mut self) {
        self.close_fatal(Error::new(ErrorKind::Protocol, "TLS handshake failed"));
    }

    /// Answers the pending [`ServerEvent::Request`].
    ///
    /// # Errors
    ///
    /// No request is waiting, or the outcome does not fit it (a size for CWD).
    pub fn complete(&mut self, outcome: Outcome) -> Result<(), UsageError> {
        let Pending::Request(req) = &self.pending else {
            return Err(UsageError("no request waiting"));
        };
        let req = req.clone();
        if self.stat_open {
            return self.complete_open_stat(outcome);
        }
        let closing = matches!(outcome, Outcome::Failed(421, _) | Outcome::Reply(421, _));
        match outcome {
            Outcome::NotFound => self.reply(550, b"No such file or directory"),
            Outcome::Denied => self.reply(550, b"Permission denied"),
            Outcome::Failed(code, text) => {
                let code = if (400..=599).contains(&code) { code } else { 550 };
                self.reply(code, &text);
            }
            Outcome::Reply(code, text) => {
                // No 3yz: it holds the command "in abeyance, pending receipt
                // of further information" (RFC 959 4.2; a 332 asks for ACCT,
                // 4.1.1), and the session has no next step for SITE: the
                // client would send ACCT and take its 202 for the SITE's.
                if !matches!(req, Request::Site(_)) || !matches!(code, 200..=299 | 400..=599) {
                    return Err(UsageError(
                        "Outcome::Reply is for SITE, with a 2yz, 4yz or 5yz code",
                    ));
                }
                self.reply(code, &text);
            }
            Outcome::Ok => match &req {
                Request::ChangeDir(p) => {
                    self.cwd = p.to_vec();
                    self.reply_with(250, |t| {
                        t.extend_from_slice(b"Directory changed to ");
                        write_path_text(p, t);
                    });
                }
                Request::MakeDir(p) => self.reply_with(257, |t| {
                    write_257_path(p, t);
                    t.extend_from_slice(b" created");
                }),
                Request::RemoveDir(_) | Request::Delete(_) | Request::Rename { .. } => {
                    self.reply(250, b"Requested file action okay, completed");
                }
                Request::RenameFrom(p) => {
                    self.rnfr = Some(p.clone());
                    self.reply(350, b"File exists, ready for destination name");
                }
                // The time came from MFMT, whose parser takes only times
                // that fit a time-val.
                Request::SetModTime { path, time } => self.reply_with(213, |t| {
                    t.extend_from_slice(b"Modify=");
                    let _ = time.write_time_val(t);
                    t.extend_from_slice(b"; ");
                    write_path_text(path, t);
                }),
                Request::Host(h) => {
                    self.host = Some(h.clone());
                    self.reply(220, b"Host accepted");
                }
                _ => return Err(UsageError("this request needs a value, not Outcome::Ok")),
            },
            Outcome::Size(n) => {
                if !matches!(req, Request::Size { .. }) {
                    return Err(UsageError("Outcome::Size answers SIZE only"));
                }
                self.reply_with(213, |t| write_u64(t, n));
            }
            Outcome::Time(ts) => {
                if !matches!(req, Request::ModTime(_)) || !ts.fits_time_val() {
                    return Err(UsageError("Outcome::Time answers MDTM only, with a valid time"));
                }
                self.reply_with(213, |t| {
                    let _ = ts.write_time_val(t);
                });
            }
            Outcome::Lines(lines) => match &req {
                Request::Mlst { path, .. } => {
                    let mut first = BytesMut::from(&b"Listing "[..]);
                    write_path_text(path, &mut first);
                    let inner: Vec<Vec<u8>> = lines
                        .iter()
                        .map(|l| [&b" "[..], &pad_listing_line(l)].concat())
                        .collect();
                    let mut all: Vec<&[u8]> = vec![&first];
                    all.extend(inner.iter().map(Vec::as_slice));
                    all.push(b"End");
                    self.reply_lines(250, &all);
                }
                Request::Stat(_) => {
                    let padded: Vec<_> = lines.iter().map(|l| pad_listing_line(l)).collect();
                    let mut all: Vec<&[u8]> = vec![b"Status follows:"];
                    all.extend(padded.iter().map(|l| &l[..]));
                    all.push(b"End of status");
                    self.reply_lines(213, &all);
                }
                _ => return Err(UsageError("Outcome::Lines answers MLST and STAT only")),
            },
        }
        self.set_pending_none()?;
        if closing {
            // RFC 959 4.2: 421 is "closing control connection"; the client
            // closes on it, so no further command may be read and acted on.
            self.closed = true;
            self.recv.clear();
            self.deferred.clear();
        }
        Ok(())
    }

    /// The listener for PASV/EPSV is ready at `addr`: 227 or 229.
    ///
    /// # Errors
    ///
    /// No PASV/EPSV is waiting.
    pub fn passive_ready(&mut self, addr: SocketAddr) -> Result<(), UsageError> {
        let Pending::Passive(extended) = self.pending else {
            return Err(UsageError("no PASV/EPSV waiting"));
        };
        self.set_pending_none()?;
        if extended {
            self.data_mode = Some(DataMode::ExtendedPassive);
            self.reply_with(229, |t| write_epsv_text(addr.port(), t));
        } else {
            let v4 = match addr {
                SocketAddr::V4(a) => Some(a),
                SocketAddr::V6(a) => a
                    .ip()
                    .to_ipv4_mapped()
                    .map(|ip| std::net::SocketAddrV4::new(ip, a.port())),
            };
            match v4 {
                Some(a) => {
                    self.data_mode = Some(DataMode::Passive);
                    self.reply_with(227, |t| write_pasv_text(a, t));
                }
                None => self.reply(425, b"PASV needs IPv4, use EPSV"),
            }
        }
        Ok(())
    }

    /// The listener could not be opened: 425.
    ///
    /// # Errors
    ///
    /// No PASV/EPSV is waiting.
    pub fn passive_failed(&mut self) -> Result<(), UsageError> {
        if !matches!(self.pending, Pending::Passive(_)) {
            return Err(UsageError("no PASV/EPSV waiting"));
        }
        self.set_pending_none()?;
        self.reply(425, b"Cannot open passive connection");
        Ok(())
    }

    fn active(&mut self, id: TransferId) -> Result<Active, UsageError> {
        match self.transfer {
            Some(a) if a.id == id => Ok(a),
            _ => Err(UsageError("no such transfer (finished or aborted)")),
        }
    }

    /// Names the file an STOU transfer stores into, before its data
    /// connection is reported: the 150 (or 125) then reads `FILE: name`, as
    /// RFC 1123 4.1.2.9 requires ("a Server-FTP MUST return the actual file
    /// name in the 125 ... or the 150 ... message that precedes the transfer").
    ///
    /// # Errors
    ///
    /// Unknown, finished or aborted transfer; not an STOU; 150/125 already
    /// sent; an empty name or CR, LF or NUL in it.
    pub fn data_unique_name(&mut self, id: TransferId, name: &[u8]) -> Result<(), UsageError> {
        let a = self.active(id)?;
        if a.kind != TransferKind::StoreUnique {
            return Err(UsageError("only an STOU transfer has a unique name"));
        }
        if a.opened {
            return Err(UsageError("the preliminary reply was already sent"));
        }
        if name.is_empty() || proto_core::check_arg(name).is_err() {
            return Err(UsageError("the name must be non-empty, without CR, LF or NUL"));
        }
        self.unique_name = Some(Bytes::copy_from_slice(name));
        Ok(())
    }

    /// The data connection of transfer `id` is open: 150.
    ///
    /// # Errors
    ///
    /// Unknown, finished or aborted transfer (after ABOR this is expected: ignore it).
    pub fn data_connected(&mut self, id: TransferId) -> Result<(), UsageError> {
        let a = self.active(id)?;
        if !a.opened {
            self.send_150(a.kind);
            if let Some(t) = self.transfer.as_mut() {
                t.opened = true;
            }
        }
        Ok(())
    }

    /// The driver reuses a data connection that is already open (a
    /// connection kept from before, as RFC 959 allows in block mode): 125
    /// instead of 150.
    ///
    /// # Errors
    ///
    /// Unknown, finished or aborted transfer, or 150 was already sent.
    pub fn data_reused(&mut self, id: TransferId) -> Result<(), UsageError> {
        let a = self.active(id)?;
        if a.opened {
            return Err(UsageError("data connection already reported"));
        }
        match self.unique_name.take() {
            Some(name) => self.reply_with(125, |t| {
                t.extend_from_slice(b"FILE: ");
                t.extend_from_slice(&name);
            }),
            None => self.reply(125, b"Data connection already open; transfer starting"),
        }
        if let Some(t) = self.transfer.as_mut() {
            t.opened = true;
        }
        Ok(())
    }

    fn send_150(&mut self, kind: TransferKind) {
        if let Some(name) = self.unique_name.take() {
            self.reply_with(150, |t| {
                t.extend_from_slice(b"FILE: ");
                t.extend_from_slice(&name);
            });
            return;
        }
        let text: &[u8] = match (kind, self.ascii) {
            (TransferKind::List | TransferKind::NameList | TransferKind::MachineList, _) => {
                b"Opening ASCII mode data connection for file list"
            }
            (_, true) => b"Opening ASCII mode data connection",
            (_, false) => b"Opening BINARY mode data connection",
        };
        self.reply(150, text);
    }

    /// Transfer `id` completed with `bytes` moved: 226 (after a 150 if none was sent).
    ///
    /// # Errors
    ///
    /// Unknown, finished or aborted transfer.
    pub fn data_finished(&mut self, id: TransferId, bytes: u64) -> Result<(), UsageError> {
        let a = self.active(id)?;
        if !a.opened {
            self.send_150(a.kind);
        }
        self.transfer = None;
        // RFC 1123 4.1.3.2: idle means no command or data transfer in
        // progress; a transfer that outlasted the idle deadline leaves the
        // client the whole period from its end.
        self.input_seen = true;
        self.reply_with(226, |t| {
            t.extend_from_slice(b"Transfer complete (");
            write_u64(t, bytes);
            t.extend_from_slice(b" bytes)");
        });
        Ok(())
    }

    /// Transfer `id` failed: 425, 426, 550, 451, 552, 554 or 522 (see [`DataFailure`]).
    ///
    /// # Errors
    ///
    /// Unknown, finished or aborted transfer.
    pub fn data_failed(&mut self, id: TransferId, why: DataFailure) -> Result<(), UsageError> {
        self.active(id)?;
        self.transfer = None;
        self.input_seen = true;
        match why {
            DataFailure::Connect => self.reply(425, b"Cannot open data connection"),
            DataFailure::Lost => self.reply(426, b"Connection closed; transfer aborted"),
            DataFailure::Unavailable => self.reply(550, b"File unavailable"),
            DataFailure::Local => self.reply(451, b"Local error in processing"),
            DataFailure::StorageExceeded => self.reply(552, b"Exceeded storage allocation"),
            DataFailure::InvalidRestart => {
                self.reply(554, b"Requested action not taken: invalid REST parameter");
            }
            DataFailure::TlsFailed => self.reply(522, b"TLS negotiation on the data connection failed"),
            DataFailure::TlsNotResumed => self.reply(
                522,
                b"TLS refused: the data connection must resume the control connection's TLS session",
            ),
        }
        Ok(())
    }

    /// Runs the protocol until the next event (inherent form of [`proto_core::Session::poll_event`]).
    ///
    /// # Errors
    ///
    /// Fatal: too many failed logins, TLS failure, timeout. The session is closed.
    pub fn poll_event(&mut self) -> Result<Option<ServerEvent>, Error> {
        if let Some(ev) = self.events.pop_front() {
            return Ok(Some(ev));
        }
        if let Some(e) = self.fatal.take() {
            return Err(e);
        }
        if self.closed || self.delay_until.is_some() || self.pending != Pending::None {
            return Ok(None);
        }
        loop {
            let line = if self.transfer.is_some() {
                // During a transfer only ABOR and STAT are acted on; the rest
                // waits, a line the framer refused too (its 500 answers it
                // in its turn, RFC 959 5.4: replies come in command order).
                // STAT only once the transfer command's preliminary reply
                // is out: before, its reply would pass the transfer
                // command's first one, which the client waits for.
                let stat_now = self.transfer.is_some_and(|t| t.opened);
                match self.next_line() {
                    Some(Input::Line(l))
                        if match Command::parse(&l) {
                            Ok(Command::Abor) => true,
                            Ok(Command::Stat(None)) => stat_now,
                            _ => false,
                        } =>
                    {
                        Input::Line(l)
                    }
                    Some(input) => {
                        // What waits is bounded as input waiting for a
                        // decision is (Limits::buffered_input), and in count.
                        let held = self.deferred.bytes + input.len();
                        if self.deferred.len() >= self.config.limits.deferred_commands
                            || held > self.input_limit()
                        {
                            self.reply(421, b"Too many commands during a transfer");
                            self.close_fatal(Error::new(ErrorKind::Limit, "command flood during transfer"));
                            return Err(self
                                .fatal
                                .take()
                                .unwrap_or_else(|| Error::new(ErrorKind::Closed, "closed")));
                        }
                        self.deferred.push(input);
                        continue;
                    }
                    None => return Ok(None),
                }
            } else if let Some(l) = self.deferred.pop() {
                l
            } else {
                match self.next_line() {
                    Some(l) => l,
                    None => {
                        self.close_at_eof();
                        return Ok(None);
                    }
                }
            };
            self.input_seen = true;
            match line {
                Input::Line(l) => self.handle_line(&l),
                Input::Refused(text) => {
                    // A line refused is a command all the same: RNFR must be
                    // followed directly by RNTO (RFC 959 4.1.3), REST by the
                    // transfer it restarts (RFC 3659 5.3).
                    self.rnfr = None;
                    self.rest = None;
                    self.reply(500, text);
                }
            }
            if let Some(ev) = self.events.pop_front() {
                return Ok(Some(ev));
            }
            if let Some(e) = self.fatal.take() {
                return Err(e);
            }
            if self.closed || self.pending != Pending::None || self.delay_until.is_some() {
                return Ok(None);
            }
        }
    }

    /// The next command line, or a line the framer (or the CR rule) refused,
    /// with the text of its 500.
    fn next_line(&mut self) -> Option<Input> {
        let l = match self.framer.next_line(&mut self.recv)? {
            Ok(l) => l,
            Err(LineError::TooLong { .. }) => return Some(Input::Refused(b"Command line too long")),
            Err(_) => return Some(Input::Refused(BARE_LINE_END)),
        };
        let l = if self.config.strip_telnet {
            strip_telnet(l, self.tx.buf_mut())
        } else {
            l
        };
        // RFC 2640 3.1: a CR in a pathname comes as CR NUL, and the NUL is
        // stripped; any other CR is a bare CR, and the line is refused as
        // the framer refuses one.
        if memchr::memchr(b'\r', &l).is_none() {
            return Some(Input::Line(l));
        }
        Some(match crate::command::unpad_cr(&l) {
            Some(u) => Input::Line(Bytes::from(u.into_owned())),
            None => Input::Refused(BARE_LINE_END),
        })
    }

    fn logged_in(&self) -> bool {
        matches!(self.login, Login::LoggedIn(_))
    }

    fn handle_line(&mut self, line: &[u8]) {
        let cmd = match Command::parse(line) {
            Ok(c) => c.canonical(),
            Err(e) => {
                // A line answered with an error is a command all the same:
                // RNFR must be followed directly by RNTO (RFC 959 4.1.3), and
                // REST by the transfer it restarts (RFC 3659 5.3).
                self.rnfr = None;
                self.rest = None;
                if eprt_unknown_protocol(line) {
                    self.reply(522, b"Network protocol not supported, use (1,2)");
                    return;
                }
                let code = e.reply_code();
                self.reply(
                    code,
                    if code == 500 {
                        b"Syntax error, command unrecognized"
                    } else {
                        b"Syntax error in parameters or arguments"
                    },
                );
                return;
            }
        };
        // RNFR must be followed directly by RNTO; REST by the transfer.
        let rnfr = if matches!(cmd, Command::Rnto(_)) {
            self.rnfr.take()
        } else {
            self.rnfr.take().and(None)
        };
        // REST survives the data-connection setup that clients send between it
        // and the transfer (PORT/PASV/EPRT/EPSV/TYPE), as common servers allow.
        let rest = match cmd {
            Command::Retr(_) | Command::Stor(_) | Command::Appe(_) => self.rest.take(),
            Command::Port(_) | Command::Pasv | Command::Eprt(_) | Command::Epsv(_) | Command::Type(_) => None,
            _ => self.rest.take().and(None),
        };
        let pre_login = matches!(
            cmd,
            Command::User(_)
                | Command::Pass(_)
                | Command::Acct(_)
                | Command::Auth(_)
                | Command::Adat(_)
                | Command::Pbsz(_)
                | Command::Prot(_)
                | Command::Ccc
                | Command::Feat
                | Command::Help(_)
                | Command::Syst
                | Command::Noop
                | Command::Quit
                | Command::Host(_)
                | Command::Opts { .. }
                | Command::Lang(_)
                | Command::Rein
                | Command::Abor
                | Command::Stat(None)
        );
        if !pre_login && !self.logged_in() {
            self.reply(530, b"Please login with USER and PASS");
            return;
        }
        match cmd {
            Command::User(name) => self.cmd_user(name),
            Command::Pass(pw) => match std::mem::replace(&mut self.login, Login::AwaitUser) {
                Login::AwaitPass(user) => {
                    self.pending = Pending::Login(user.clone());
                    self.events.push_back(ServerEvent::Login {
                        user,
                        password: Secret::new(pw.expose().to_vec()),
                        anonymous: self.anonymous,
                    });
                }
                Login::LoggedIn(u) => {
                    self.login = Login::LoggedIn(u);
                    self.reply(230, b"Already logged in");
                }
                other => {
                    self.login = other;
                    self.reply(503, b"Login with USER first");
                }
            },
            Command::Acct(acct) => match &self.login {
                Login::AwaitAcct(user) => {
                    let user = user.clone();
                    self.login = Login::AwaitUser;
                    self.pending = Pending::Account(user.clone());
                    self.events.push_back(ServerEvent::Account {
                        user,
                        account: Bytes::copy_from_slice(acct),
                    });
                }
                Login::LoggedIn(_) => self.reply(202, b"Account not needed"),
                _ => self.reply(503, b"Login with USER first"),
            },
            Command::Auth(mech) => self.cmd_auth(mech),
            Command::Adat(_) => self.reply(503, b"ADAT is not used with AUTH TLS"),
            Command::Pbsz(_) => {
                if self.tls == Tls::Active {
                    self.pbsz = true;
                    self.reply(200, b"PBSZ=0");
                } else {
                    self.reply(503, b"PBSZ needs AUTH TLS first");
                }
            }
            Command::Prot(level) => {
                if self.tls != Tls::Active || !self.pbsz {
                    self.reply(503, b"PROT needs AUTH TLS and PBSZ first");
                } else {
                    match level {
                        ProtLevel::Clear | ProtLevel::Private => {
                            self.prot = level;
                            self.reply(
                                200,
                                if level == ProtLevel::Private {
                                    b"Protection level set to P"
                                } else {
                                    b"Protection level set to C"
                                },
                            );
                        }
                        ProtLevel::Safe | ProtLevel::Confidential => {
                            self.reply(536, b"Protection level not supported");
                        }
                    }
                }
            }
            Command::Ccc => self.reply(533, b"CCC denied by policy"),
            Command::Feat => self.cmd_feat(),
            Command::Opts { command, params } => self.cmd_opts(command, params),
            Command::Lang(tag) => match tag {
                None => self.reply(200, b"Language set to EN"),
                Some(t) if eq_ic(t, b"EN") || eq_ic(t, b"EN-US") => self.reply(200, b"Language set to EN"),
                Some(_) => self.reply(504, b"Language not supported"),
            },
            Command::Host(name) => {
                if self.logged_in() {
                    // RFC 7151 3: after the user is authenticated, HOST is
                    // "an erroneous sequence of commands" (503).
                    self.reply(503, b"HOST must come before USER");
                } else if host_has_port(name) {
                    // RFC 7151 3.1: "the server-PI MUST respond with a 501 reply"
                    // to a HOST that names a port.
                    self.reply(501, b"HOST takes a host name without a port");
                } else {
                    // RFC 7151 3.2.2 and 4: a later HOST before the login
                    // counts as if the earlier one had not been sent,
                    // whatever its answer, and the authentication
                    // environment is reset (a USER given is forgotten; the
                    // users may differ per virtual host).
                    self.host = None;
                    self.login = Login::AwaitUser;
                    self.anonymous = false;
                    self.request(Request::Host(Bytes::copy_from_slice(name)));
                }
            }
            Command::Help(arg) => match arg {
                None => self.reply_lines(214, HELP_LINES),
                Some(topic) => match Command::parse(topic) {
                    Ok(Command::Other { .. }) | Err(crate::CommandError::BadVerb) => {
                        self.reply(502, b"Unknown command");
                    }
                    // A known verb, even if the topic lacks its arguments.
                    Ok(_) | Err(_) => self.reply(214, b"Command is supported"),
                },
            },
            Command::Syst => {
                let s = self.config.system.clone();
                self.reply(215, &s);
            }
            Command::Noop => self.reply(200, b"NOOP ok"),
            Command::Quit => {
                self.reply(221, b"Goodbye");
                self.closed = true;
                self.events.push_back(ServerEvent::Closed(CloseReason::Quit));
            }
            Command::Rein if self.tls == Tls::Active => {
                // RFC 4217 13: a REIN that is processed MUST clear the TLS
                // session, which needs a TLS shutdown the driver is not asked
                // for; keeping TLS while answering 220 would leave the client
                // expecting clear text. REIN is not required (RFC 1123
                // 4.1.2.13), so on TLS it is refused and nothing changes.
                self.reply(502, b"REIN is not available on a TLS-protected connection");
            }
            Command::Rein => {
                // RFC 959 4.1.1: "All parameters are reset to the default
                // settings"; RNFR and REST were dropped above, as for any
                // command but RNTO and a transfer. PBSZ/PROT are only ever
                // set under TLS, where REIN is refused, so they are at their
                // defaults here. The failed-login count stays: a REIN must
                // not buy a password guesser fresh attempts.
                self.reset_parameters();
                self.host = None;
                self.events.push_back(ServerEvent::Reinitialized);
                self.reply(220, b"Service ready for new user");
            }
            Command::Abor => match self.transfer.take() {
                Some(a) => {
                    // Two replies: 426 answers the transfer command, 226 the ABOR
                    // (RFC 959 4.1.3), whether or not the 150 went out yet.
                    self.events.push_back(ServerEvent::AbortTransfer(a.id));
                    self.reply(426, b"Connection closed; transfer aborted");
                    self.reply(226, b"Abort successful");
                }
                None => self.reply(225, b"No transfer to abort"),
            },
            Command::Stat(None) => self.cmd_stat(),
            Command::Stat(Some(p)) => {
                // "Analogous to the LIST command" (RFC 959 4.1.3): the same
                // ls options may come first, and no path is the directory.
                let path = self.resolve(split_ls_options(p).1.unwrap_or(b"."));
                self.request(Request::Stat(path));
            }
            Command::Cwd(p) => {
                let path = self.resolve(p);
                self.request(Request::ChangeDir(path));
            }
            Command::Cdup => {
                let path = self.resolve(b"..");
                self.request(Request::ChangeDir(path));
            }
            Command::Pwd => {
                let cwd = self.cwd.clone();
                self.reply_with(257, |t| {
                    write_257_path(&cwd, t);
                    t.extend_from_slice(b" is the current directory");
                });
            }
            Command::Mkd(p) => {
                let path = self.resolve(p);
                self.request(Request::MakeDir(path));
            }
            Command::Rmd(p) => {
                let path = self.resolve(p);
                self.request(Request::RemoveDir(path));
            }
            Command::Dele(p) => {
                let path = self.resolve(p);
                self.request(Request::Delete(path));
            }
            Command::Rnfr(p) => {
                let path = self.resolve(p);
                self.request(Request::RenameFrom(path));
            }
            Command::Rnto(p) => match rnfr {
                Some(from) => {
                    let to = self.resolve(p);
                    self.request(Request::Rename { from, to });
                }
                None => self.reply(503, b"RNFR required first"),
            },
            Command::Size(p) => {
                let path = self.resolve(p);
                let ascii = self.ascii;
                self.request(Request::Size { path, ascii });
            }
            Command::Mdtm(p) => {
                let path = self.resolve(p);
                self.request(Request::ModTime(path));
            }
            Command::Mfmt { time, path } => {
                let path = self.resolve(path);
                self.request(Request::SetModTime { path, time });
            }
            Command::Mlst(p) => {
                let path = self.resolve(p.unwrap_or(b"."));
                let facts = self.mlst_facts;
                self.request(Request::Mlst { path, facts });
            }
            Command::Site(args) => self.request(Request::Site(Bytes::copy_from_slice(args))),
            Command::Smnt(_) => self.reply(502, b"SMNT not implemented"),
            Command::Type(t) => match t {
                // RFC 1123 4.1.2.2: with no distinction between N and T, TYPE A T
                // SHOULD be TYPE A N.
                TransferType::Ascii(
                    FormatControl::Default | FormatControl::NonPrint | FormatControl::Telnet,
                ) => {
                    self.ascii = true;
                    self.reply(200, b"Type set to A");
                }
                TransferType::Image | TransferType::Local(8) => {
                    self.ascii = false;
                    self.reply(200, b"Type set to I");
                }
                _ => self.reply(504, b"Type not supported"),
            },
            Command::Stru(s) => match s {
                Structure::File => self.reply(200, b"Structure set to F"),
                _ => self.reply(504, b"Only file structure is supported"),
            },
            Command::Mode(m) => match m {
                TransferMode::Stream => self.reply(200, b"Mode set to S"),
                _ => self.reply(504, b"Only stream mode is supported"),
            },
            Command::Allo { .. } => self.reply(202, b"ALLO not needed"),
            Command::Rest(_) => match cmd.rest_offset() {
                Some(n) => {
                    self.rest = Some(n);
                    self.reply_with(350, |t| {
                        t.extend_from_slice(b"Restarting at ");
                        write_u64(t, n);
                        t.extend_from_slice(b". Send STORE or RETRIEVE");
                    });
                }
                None => self.reply(501, b"REST needs a byte offset"),
            },
            Command::Port(addr) => self.cmd_active(SocketAddr::V4(addr), false),
            Command::Eprt(addr) => self.cmd_active(addr, true),
            Command::Pasv => {
                if self.epsv_all {
                    self.reply(503, b"Only EPSV allowed after EPSV ALL");
                } else {
                    self.pending = Pending::Passive(false);
                    self.events
                        .push_back(ServerEvent::PassiveListen { extended: false });
                }
            }
            Command::Epsv(arg) => match arg {
                EpsvArg::All => {
                    self.epsv_all = true;
                    self.reply(200, b"EPSV ALL ok");
                }
                // RFC 2428 3: the data connection of an EPSV uses "the same
                // network protocol used by the control connection" and its
                // address, so only that protocol can be honoured; any other
                // "MUST" get 522, naming the one supported (section 2).
                EpsvArg::Protocol(p) if p != self.control_protocol() => {
                    self.reply(
                        522,
                        if self.control_protocol() == 1 {
                            b"Network protocol not supported, use (1)"
                        } else {
                            b"Network protocol not supported, use (2)"
                        },
                    );
                }
                _ => {
                    self.pending = Pending::Passive(true);
                    self.events
                        .push_back(ServerEvent::PassiveListen { extended: true });
                }
            },
            Command::Retr(p) => self.transfer_cmd(TransferKind::Retrieve, Some(p), rest),
            Command::Stor(p) => self.transfer_cmd(TransferKind::Store, Some(p), rest),
            Command::Stou(p) => self.transfer_cmd(TransferKind::StoreUnique, p, None),
            // RFC 3659 5.3: "If APPE (append) is permitted, it MUST act
            // identically to STOR when a restart marker has been set": the
            // octets go at the marker, not at the end. A marker of 0
            // "effectively disables restart", so APPE then stays an append.
            Command::Appe(p) => match rest.filter(|&n| n > 0) {
                Some(n) => self.transfer_cmd(TransferKind::Store, Some(p), Some(n)),
                None => self.transfer_cmd(TransferKind::Append, Some(p), None),
            },
            Command::List(p) => self.transfer_cmd(TransferKind::List, p, None),
            Command::Nlst(p) => self.transfer_cmd(TransferKind::NameList, p, None),
            Command::Mlsd(p) => self.transfer_cmd(TransferKind::MachineList, p, None),
            // Aliases were mapped by canonical(); anything new is not implemented.
            _ => self.reply(502, b"Command not implemented"),
        }
    }

    /// The RFC 2428 network protocol number of the control connection: 1
    /// for IPv4 (an IPv4-mapped IPv6 peer included: the wire is IPv4), 2
    /// for IPv6.
    fn control_protocol(&self) -> u16 {
        match self.peer.ip() {
            IpAddr::V4(_) => 1,
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => 1,
            IpAddr::V6(_) => 2,
        }
    }

    fn resolve(&self, p: &[u8]) -> Bytes {
        Bytes::from(resolve_path(&self.cwd, p))
    }

    fn request(&mut self, r: Request) {
        self.pending = Pending::Request(r.clone());
        self.events.push_back(ServerEvent::Request(r));
    }

    fn cmd_user(&mut self, name: &[u8]) {
        if self.config.tls == TlsPolicy::Required && self.tls != Tls::Active {
            self.reply(530, b"TLS required: use AUTH TLS first");
            return;
        }
        let anonymous = eq_ic(name, b"anonymous") || eq_ic(name, b"ftp");
        if anonymous && !self.config.allow_anonymous {
            self.login = Login::AwaitUser;
            self.reply(530, b"Anonymous login not allowed");
            return;
        }
        self.anonymous = anonymous;
        self.login = Login::AwaitPass(Bytes::copy_from_slice(name));
        if anonymous {
            self.reply(331, b"Anonymous login ok, send your e-mail address as password");
        } else {
            self.reply(331, b"Password required");
        }
    }

    fn cmd_auth(&mut self, mech: &[u8]) {
        let tls = eq_ic(mech, b"TLS") || eq_ic(mech, b"TLS-C") || eq_ic(mech, b"SSL");
        if !tls {
            self.reply(504, b"Security mechanism not understood");
        } else if self.config.tls == TlsPolicy::Unavailable {
            self.reply(431, b"TLS not available");
        } else if self.tls == Tls::Active {
            self.reply(503, b"TLS already active");
        } else if self.logged_in() {
            self.reply(503, b"AUTH must come before login");
        } else {
            self.reply(234, b"AUTH TLS successful");
            // RFC 4217 4: after AUTH "all other transfer parameters ... must
            // be reset, almost as if a REIN command was issued": the user,
            // data port, TYPE and working directory set in the clear do not
            // carry over. The virtual host stays (RFC 7151 4: HOST "SHOULD
            // precede the security handshake", to pick the certificate).
            self.reset_parameters();
            // RFC 4217 / CVE-2011-0411: nothing sent in plaintext after AUTH is used.
            self.recv.clear();
            self.deferred.clear();
            self.framer.reset();
            self.tls = Tls::Handshake;
            self.pending = Pending::Tls;
            self.events.push_back(ServerEvent::StartTls);
        }
    }

    /// Logs the user out and puts every transfer parameter back to its
    /// default (RFC 959 4.1.1 REIN; RFC 4217 4 after AUTH): TYPE A, no data
    /// port or EPSV ALL, the working directory `/`, the default OPTS MLST
    /// facts. RNFR and REST were dropped when the command came.
    fn reset_parameters(&mut self) {
        self.login = Login::AwaitUser;
        self.anonymous = false;
        self.cwd = b"/".to_vec();
        self.data_mode = None;
        self.epsv_all = false;
        self.ascii = true;
        self.mlst_facts = MlsxFacts::default();
        self.unique_name = None;
    }

    fn cmd_feat(&mut self) {
        // RFC 3659 7.9.1: the facts OPTS MLST selected are the ones marked "*".
        let f = self.mlst_facts;
        let mut mlst = b" MLST".to_vec();
        for (sep, name, on) in [
            (b' ', &b"type"[..], f.kind),
            (b';', b"size", f.size),
            (b';', b"modify", f.modify),
            (b';', b"perm", f.perm),
            (b';', b"unique", f.unique),
            (b';', b"UNIX.mode", f.unix_mode),
        ] {
            mlst.push(sep);
            mlst.extend_from_slice(name);
            if on {
                mlst.push(b'*');
            }
        }
        mlst.push(b';');
        let mut lines: Vec<&[u8]> = vec![b"Features:"];
        if self.config.tls != TlsPolicy::Unavailable {
            lines.extend_from_slice(&[b" AUTH TLS", b" PBSZ", b" PROT"]);
        }
        lines.extend_from_slice(&[
            b" EPRT",
            b" EPSV",
            b" HOST",
            b" LANG EN*",
            b" MDTM",
            b" MFMT",
            &mlst,
            b" PASV",
            b" REST STREAM",
            b" SIZE",
            b" TVFS",
            b" UTF8",
            b"End",
        ]);
        self.reply_lines(211, &lines);
    }

    fn cmd_opts(&mut self, command: &[u8], params: Option<&[u8]>) {
        if eq_ic(command, b"UTF8") {
            match params {
                Some(p) if eq_ic(p, b"ON") => self.reply(200, b"UTF8 mode enabled"),
                Some(p) if eq_ic(p, b"OFF") => self.reply(504, b"UTF8 cannot be turned off"),
                _ => self.reply(501, b"OPTS UTF8 ON or OFF"),
            }
        } else if eq_ic(command, b"MLST") {
            let mut f = MlsxFacts {
                kind: false,
                size: false,
                modify: false,
                perm: false,
                unique: false,
                unix_mode: false,
            };
            // RFC 3659 7.9.1: "MLST OPTS" [ SP 1*( factname ";" ) ].
            let mut text = b"MLST OPTS".to_vec();
            for name in params
                .unwrap_or_default()
                .split(|&c| c == b';')
                .filter(|n| !n.is_empty())
            {
                let slot = if eq_ic(name, b"type") {
                    &mut f.kind
                } else if eq_ic(name, b"size") {
                    &mut f.size
                } else if eq_ic(name, b"modify") {
                    &mut f.modify
                } else if eq_ic(name, b"perm") {
                    &mut f.perm
                } else if eq_ic(name, b"unique") {
                    &mut f.unique
                } else if eq_ic(name, b"UNIX.mode") {
                    &mut f.unix_mode
                } else {
                    continue;
                };
                *slot = true;
                if !text.ends_with(b";") {
                    text.push(b' ');
                }
                text.extend_from_slice(name);
                text.push(b';');
            }
            self.mlst_facts = f;
            self.reply(200, &text);
        } else {
            self.reply(501, b"Option not understood");
        }
    }

    fn cmd_stat(&mut self) {
        let user: Vec<u8> = match &self.login {
            Login::LoggedIn(u) => [&b"Logged in as "[..], u].concat(),
            _ => b"Not logged in".to_vec(),
        };
        let ty: &[u8] = if self.ascii {
            b"TYPE: ASCII"
        } else {
            b"TYPE: BINARY"
        };
        let tls: &[u8] = if self.tls == Tls::Active {
            b"Control connection: TLS"
        } else {
            b"Control connection: plain"
        };
        let data: &[u8] = if self.transfer.is_some() {
            b"Data transfer in progress"
        } else {
            b"No data connection"
        };
        self.reply_lines(
            211,
            &[b"FTP server status:", &user, ty, tls, data, b"End of status"],
        );
    }

    fn cmd_active(&mut self, addr: SocketAddr, extended: bool) {
        if self.epsv_all {
            self.reply(503, b"Only EPSV allowed after EPSV ALL");
        } else if !self.config.allow_foreign_active && !same_ip(addr.ip(), self.peer.ip()) {
            self.reply(
                500,
                b"Illegal PORT command: address differs from the control connection",
            );
        } else if addr.port() == 0 {
            // Port 0 is no port a client listens on (RFC 959 4.1.2, RFC 2428
            // 2), whatever `allow_low_active_ports` says.
            self.reply(501, b"Illegal PORT command: port 0");
        } else if !self.config.allow_low_active_ports && addr.port() < 1024 {
            self.reply(504, b"Illegal PORT command: privileged port");
        } else {
            self.data_mode = Some(if extended {
                DataMode::ExtendedActive(addr)
            } else {
                DataMode::Active(addr)
            });
            self.reply(
                200,
                if extended {
                    b"EPRT command successful"
                } else {
                    b"PORT command successful"
                },
            );
        }
    }

    fn transfer_cmd(&mut self, kind: TransferKind, arg: Option<&[u8]>, rest: Option<u64>) {
        let Some(mode) = self.data_mode.take() else {
            self.reply(425, b"Use PORT, PASV, EPRT or EPSV first");
            return;
        };
        if self.config.tls == TlsPolicy::Required && self.prot != ProtLevel::Private {
            self.reply(521, b"Data connections must be protected: use PROT P");
            return;
        }
        let (options, path_arg) = match (kind, arg) {
            (TransferKind::List | TransferKind::NameList, Some(a)) => {
                let (opts, rest) = split_ls_options(a);
                (opts.map(Bytes::copy_from_slice), rest)
            }
            (_, a) => (None, a.filter(|a| !a.is_empty())),
        };
        let path = match (kind, path_arg) {
            (_, Some(p)) => Some(self.resolve(p)),
            (TransferKind::List | TransferKind::NameList | TransferKind::MachineList, None) => {
                Some(self.resolve(b"."))
            }
            _ => None,
        };
        let id = TransferId(self.next_id);
        self.next_id += 1;
        self.unique_name = None;
        self.transfer = Some(Active {
            id,
            opened: false,
            kind,
        });
        let transfer = Transfer {
            id,
            kind,
            path,
            options,
            offset: rest.unwrap_or(0),
            ascii: self.ascii
                || matches!(
                    kind,
                    TransferKind::List | TransferKind::NameList | TransferKind::MachineList
                ),
            protected: self.prot == ProtLevel::Private,
            mlst_facts: self.mlst_facts,
        };
        self.events
            .push_back(ServerEvent::OpenDataChannel { mode, transfer });
    }

    /// Inherent form of [`proto_core::Session::handle_input`]. While a TLS handshake is
    /// pending, input is plaintext that must not be used, and is dropped.
    ///
    /// While nothing consumes input (the application owes an answer, or the
    /// failed-login delay runs), more than [`Limits::buffered_input`] bytes
    /// waiting close the session with 421 (`poll_event` then fails).
    pub fn handle_input(&mut self, data: &[u8]) {
        if self.closed || self.eof || self.tls == Tls::Handshake {
            return;
        }
        self.recv.extend_from_slice(data);
        let waiting = self.pending != Pending::None || self.delay_until.is_some();
        if waiting && self.recv.len() > self.input_limit() {
            self.reply(421, b"Too much pipelined input, closing control connection");
            self.close_fatal(Error::new(ErrorKind::Limit, "too much pipelined input"));
        }
    }

    /// Most input held unread ([`Limits::buffered_input`], never less than a line).
    fn input_limit(&self) -> usize {
        self.config.limits.buffered_input.max(self.config.limits.line)
    }

    /// Inherent form of [`proto_core::Session::poll_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        proto_core::earliest(&[self.delay_until, self.idle.at()])
    }

    /// Inherent form of [`proto_core::Session::handle_timeout`]: sends a delayed 530 when
    /// its time has come; closes an idle session with 421.
    ///
    /// The idle deadline counts from the last time this method saw a quiet
    /// period: a command processed since the last call, or an answer that
    /// ended one (an application's decision, a transfer's end), restarts it
    /// from `now`, so the client always gets the whole period from the last
    /// reply (RFC 1123 4.1.3.2: idle is "no command or data transfer in progress").
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if self.delay_until.is_some_and(|t| now >= t) {
            self.delay_until = None;
            if let Some((code, text, fatal)) = self.delayed.take() {
                self.finish_reject(code, text, fatal);
            }
        }
        if self.idle.expired(now) {
            if std::mem::take(&mut self.input_seen)
                || self.transfer.is_some()
                || self.pending != Pending::None
            {
                self.idle.restart(now);
            } else {
                self.reply(421, b"Timeout: closing control connection");
                self.close_fatal(Error::new(ErrorKind::Timeout, "idle timeout"));
            }
        }
    }

    /// Inherent form of [`proto_core::Session::handle_eof`]: the client ended its
    /// input. A half-close is not an abort: every complete command line
    /// received before it is still acted on and answered (RFC 959 4.1.1:
    /// after a QUIT during a transfer "the connection will remain open for
    /// result response"), including decisions the application still owes
    /// and a transfer under way; bytes after the last line end are no
    /// command and are dropped. The session closes ([`Self::is_closed`])
    /// once nothing is left to answer: at once when nothing is, else in
    /// the [`Self::poll_event`] call that finds nothing more. The driver
    /// stops reading, keeps polling events and writing replies until then.
    /// A TLS handshake that was waiting (AUTH TLS) cannot finish: the
    /// session closes at once.
    pub fn handle_eof(&mut self) {
        if self.closed {
            return;
        }
        self.eof = true;
        if self.pending == Pending::Tls {
            self.closed = true;
        }
        let line_waiting = memchr::memchr(b'\n', &self.recv).is_some();
        if !line_waiting {
            self.close_at_eof();
        }
    }

    /// After the end of input, closes the session when no command is left
    /// to read and nothing is owed: no application decision, no transfer, no
    /// delayed 530, no deferred command.
    fn close_at_eof(&mut self) {
        if self.eof
            && self.pending == Pending::None
            && self.transfer.is_none()
            && self.delay_until.is_none()
            && self.deferred.is_empty()
            && self.events.is_empty()
        {
            self.closed = true;
            self.recv.clear();
        }
        if self.closed {
            self.recv.clear();
            self.deferred.clear();
        }
    }
}

/// True for a HOST argument that carries a port (RFC 7151 3.1): a colon
/// after the `]` of a bracketed IPv6 literal, or any colon in a name that is
/// not bracketed (an IPv6 literal must be, per the same section).
fn host_has_port(name: &[u8]) -> bool {
    match name.strip_prefix(b"[") {
        Some(rest) => memchr::memchr(b']', rest).is_none_or(|i| i + 1 < rest.len()),
        None => memchr::memchr(b':', name).is_some(),
    }
}

/// True for an EPRT line whose network protocol is a number other than 1
/// (IPv4) and 2 (IPv6): RFC 2428 2 answers it with 522, not 501.
fn eprt_unknown_protocol(line: &[u8]) -> bool {
    let (verb, Some(args)) = crate::parse::split_sp(line) else {
        return false;
    };
    let Some((&d, rest)) = args.split_first() else {
        return false;
    };
    if !eq_ic(verb, b"EPRT") || !(33..=126).contains(&d) || d.is_ascii_digit() {
        return false;
    }
    let proto = rest.split(|&c| c == d).next().unwrap_or_default();
    crate::parse::dec_u16(proto).is_some_and(|p| p != 1 && p != 2)
}

/// Removes Telnet commands from a command line (RFC 854; RFC 959 4.1.3
/// sends ABOR after IP and Synch): `IAC IAC` becomes one 0xFF byte, `IAC x`
/// for a command code x (240 to 250) vanishes, and `IAC WILL/WONT/DO/DONT
/// opt` vanishes too, WILL answered with `IAC DONT opt` and DO with `IAC WONT
/// opt` into `refusals` (RFC 1123 4.1.2.12: a server-FTP "MUST be capable of
/// accepting and refusing Telnet negotiations"). 0xFF before a byte that is
/// no Telnet command (below 240, or the end of the line) is kept as data in
/// the arguments: clients that do not double it mean a path byte, and
/// dropping it would name another file. Before the verb such an IAC is
/// dropped: it is the rest of a Synch (`IAC DM`, sent before ABOR) whose DM
/// octet was urgent data taken out of the stream.
fn strip_telnet(line: Bytes, refusals: &mut BytesMut) -> Bytes {
    const IAC: u8 = 0xff;
    const WILL: u8 = 251;
    const WONT: u8 = 252;
    const DO: u8 = 253;
    const DONT: u8 = 254;
    if memchr::memchr(IAC, &line).is_none() {
        return line;
    }
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] != IAC {
            out.push(line[i]);
            i += 1;
            continue;
        }
        match line.get(i + 1) {
            Some(&IAC) => {
                out.push(IAC);
                i += 2;
            }
            Some(&verb @ WILL..=DONT) => {
                if let Some(&opt) = line.get(i + 2) {
                    match verb {
                        WILL => refusals.extend_from_slice(&[IAC, DONT, opt]),
                        DO => refusals.extend_from_slice(&[IAC, WONT, opt]),
                        _ => {}
                    }
                }
                i += 3;
            }
            Some(240..=250) => i += 2,
            // Before the verb, which never holds 0xFF: what is left of a
            // Synch whose DM went out of band (TCP urgent, no SO_OOBINLINE).
            _ if out.is_empty() => i += 1,
            _ => {
                out.push(IAC);
                i += 1;
            }
        }
    }
    Bytes::from(out)
}

proto_core::impl_session!(ServerSession, ServerEvent, Error);

impl ServerSession {
    /// Inherent form of [`proto_core::Session::poll_transmit`].
    #[must_use]
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.tx.peek()
    }

    /// Inherent form of [`proto_core::Session::advance_transmit`].
    pub fn advance_transmit(&mut self, n: usize) {
        self.tx.advance(n);
    }
}
