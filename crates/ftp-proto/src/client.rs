//! [`ClientSession`]: the client side of the control connection.
//!
//! After the greeting the session discovers features (FEAT), secures the
//! connection when the server offers AUTH TLS or the configuration requires
//! it (AUTH TLS, then PBSZ 0 and PROT P after login, RFC 4217), and logs in.
//! After the TLS handshake it forgets the plaintext FEAT reply and asks FEAT
//! again (a list read in the clear may have been altered on the path, and
//! AUTH resets the server's state, RFC 4217 section 4), so
//! [`ClientSession::features`] is the protected list from then on.
//! A server that refuses PBSZ or PROT P leaves the data connections in the
//! clear: with [`ClientTls::IfOffered`] the session carries on so, with
//! [`ClientTls::Required`] it ends (see [`ClientEvent::DataProtectionRefused`]).
//! Then the application starts one operation at a time: a simple command
//! ([`ClientSession::cwd`], [`ClientSession::size`] ...) or a transfer
//! ([`ClientSession::retr`], [`ClientSession::list`] ...).
//!
//! A transfer sets the type (TYPE I, or TYPE A for listings), negotiates the
//! data connection (EPSV, falling back to PASV when the server refuses it; in
//! active mode EPRT, falling back to PORT), sends REST when resuming, then the
//! transfer command. It is complete when both the final reply and the end of
//! the data connection ([`ClientSession::data_closed`]) have been seen, in
//! either order; a 2xx that arrives without a 150 first is accepted.

use crate::command::{Command, EpsvArg, Password, ProtLevel, TransferType};
use crate::error::{Error, ErrorKind, UsageError};
use crate::limits::Limits;
use crate::reply::{
    Features, OwnedReply, Reply, ReplyConfig, ReplyScan, code_of, parse_257_path, parse_epsv, parse_mdtm,
    parse_pasv, parse_size, unpad_pathname,
};
use crate::server::TransferId;
use crate::time::Timestamp;
use bytes::{Buf, BytesMut};
use proto_core::{Deadline, Secret, TransmitQueue};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

/// When the client uses AUTH TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientTls {
    /// Never.
    Never,
    /// When FEAT lists `AUTH TLS`.
    IfOffered,
    /// Always; fail if the server refuses AUTH TLS, or refuses to protect
    /// the data connections (PBSZ 0 or PROT P: see
    /// [`ClientEvent::DataProtectionRefused`]).
    Required,
}

/// Client configuration.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)]
pub struct ClientConfig {
    /// Limits and timeouts.
    pub limits: Limits,
    /// User name.
    pub user: Vec<u8>,
    /// Password.
    pub password: Secret<Vec<u8>>,
    /// Account, sent if the server asks for one (332) at login, or for a
    /// later simple operation it holds pending an account (RFC 959 4.1.1).
    pub account: Option<Vec<u8>>,
    /// TLS policy.
    pub tls: ClientTls,
    /// Passive (default) or active data connections.
    pub passive: bool,
    /// Try EPSV/EPRT before PASV/PORT. On IPv6, where PASV and PORT cannot
    /// name an address, EPSV and EPRT are used either way (RFC 2428).
    pub extended: bool,
    /// Use the host from a 227 reply. Off by default: like Python's ftplib, the
    /// client connects to the control peer's address with the 227 port, which
    /// defeats servers behind NAT that announce private addresses and PASV bounce tricks.
    pub use_pasv_host: bool,
    /// Named leniency: bare LF ends reply lines.
    pub accept_bare_lf: bool,
    /// Named leniency: reply lines may hold a bare CR or a NUL, taken as
    /// text ([`ReplyConfig::accept_bare_cr`]). Off by default: such a reply
    /// is a protocol error that ends the session.
    pub accept_bare_cr: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            limits: Limits::default(),
            user: b"anonymous".to_vec(),
            password: Secret::new(b"anonymous@".to_vec()),
            account: None,
            tls: ClientTls::IfOffered,
            passive: true,
            extended: true,
            use_pasv_host: false,
            accept_bare_lf: false,
            accept_bare_cr: false,
        }
    }
}

/// A simple (non-transfer) operation, named in events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// CWD.
    Cwd,
    /// CDUP.
    Cdup,
    /// PWD.
    Pwd,
    /// MKD.
    Mkdir,
    /// RMD.
    Rmdir,
    /// DELE.
    Delete,
    /// RNFR + RNTO.
    Rename,
    /// SIZE.
    Size,
    /// MDTM.
    Mdtm,
    /// MFMT.
    Mfmt,
    /// MLST.
    Mlst,
    /// NOOP.
    Noop,
    /// SITE.
    Site,
    /// QUIT.
    Quit,
}

/// What a transfer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientTransferKind {
    /// RETR.
    Retr,
    /// STOR.
    Stor,
    /// APPE.
    Appe,
    /// LIST.
    List,
    /// NLST.
    Nlst,
    /// MLSD.
    Mlsd,
}

impl ClientTransferKind {
    /// True when data flows from the server to the client.
    #[must_use]
    pub fn is_download(self) -> bool {
        !matches!(self, ClientTransferKind::Stor | ClientTransferKind::Appe)
    }

    fn is_listing(self) -> bool {
        matches!(
            self,
            ClientTransferKind::List | ClientTransferKind::Nlst | ClientTransferKind::Mlsd
        )
    }
}

/// How the driver gets the data connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataTarget {
    /// Connect to this address (passive modes).
    Connect(SocketAddr),
    /// Accept one connection on the listener given to [`ClientSession::data_listening`] (active modes).
    Accept,
}

/// What the client session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// AUTH TLS accepted: run the TLS handshake, then call [`ClientSession::tls_established`].
    StartTls,
    /// Logged in (and PBSZ/PROT done on TLS); operations may start.
    LoggedIn,
    /// The login (or a required AUTH TLS, or with [`ClientTls::Required`]
    /// the protection of data connections) was refused; the session is closed.
    LoginFailed(OwnedReply),
    /// After AUTH TLS and the login, the server refused PBSZ 0 or PROT P
    /// with this reply: data connections cannot be protected. With
    /// [`ClientTls::Required`] that ends the session: [`ClientEvent::LoginFailed`]
    /// follows with the same reply. With [`ClientTls::IfOffered`] (TLS
    /// where available) the session carries on: [`ClientEvent::LoggedIn`]
    /// follows, the control connection stays protected and the data
    /// connections go in the clear, at protection level C, the level in
    /// force when no PROT was accepted (RFC 2228 3: "The default protection
    /// level if no other level is specified is Clear"; RFC 4217 9), so
    /// [`ClientEvent::OpenDataChannel`] says `protected: false`. Tell the
    /// user.
    DataProtectionRefused(OwnedReply),
    /// A simple operation succeeded.
    Done {
        /// Which.
        op: Op,
        /// Its final reply.
        reply: OwnedReply,
    },
    /// PWD result.
    Pwd(Vec<u8>),
    /// SIZE result.
    Size(u64),
    /// MDTM result.
    Modified(Timestamp),
    /// MLST result: the entry line (parse it with [`crate::list::parse_mlsx`]),
    /// a CR of its pathname unpadded (the server sends it as CR NUL: RFC
    /// 3659 2.2, RFC 2640 3.1). An entry with a CR or NUL that is not such
    /// a pair fails the operation.
    MlstEntry(Vec<u8>),
    /// A simple operation failed.
    Failed {
        /// Which.
        op: Op,
        /// The negative reply.
        reply: OwnedReply,
    },
    /// Active mode: open a listener, then call [`ClientSession::data_listening`].
    Listen(TransferId),
    /// Get the data connection, then move the data; call
    /// [`ClientSession::data_closed`] when the download reached EOF or the
    /// upload was written and shut down. With `protected`, a download's
    /// EOF is the server's TLS close_notify: a connection that closes
    /// without one may have been cut by an attacker (RFC 4217 12.6, RFC
    /// 8446 6.1), so treat it as a failed transfer ([`ClientSession::abort`])
    /// unless the user chose to accept it; and end an upload with
    /// close_notify before the TCP close.
    OpenDataChannel {
        /// The transfer.
        id: TransferId,
        /// Connect or accept.
        target: DataTarget,
        /// What it is.
        kind: ClientTransferKind,
        /// TYPE A is in force (use [`crate::AsciiDecoder`]/[`crate::AsciiEncoder`]).
        ascii: bool,
        /// PROT P is in force: TLS on the data connection.
        protected: bool,
    },
    /// 150/125 arrived: an upload may start sending. Reported once per
    /// transfer, however many preliminary replies the server sends.
    TransferStarted(TransferId),
    /// The transfer is complete: final reply and data connection both done.
    TransferComplete {
        /// The transfer.
        id: TransferId,
        /// The final reply (226 or 250).
        reply: OwnedReply,
    },
    /// The transfer failed (a negative reply); close the data connection.
    TransferFailed {
        /// The transfer.
        id: TransferId,
        /// The negative reply.
        reply: OwnedReply,
    },
    /// ABOR completed.
    Aborted(TransferId),
    /// The server closed the session (221 after QUIT, or 421). A 421 first
    /// fails the operation it answers ([`ClientEvent::Failed`],
    /// [`ClientEvent::TransferFailed`], [`ClientEvent::LoginFailed`]), or,
    /// after a transfer's final reply, comes once that transfer completed.
    Closed(OwnedReply),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum XStep {
    Type,
    Epsv,
    Pasv,
    AwaitListener,
    Eprt,
    Port,
    Rest,
    Command,
}

#[derive(Debug, Clone)]
struct Xfer {
    id: TransferId,
    kind: ClientTransferKind,
    arg: Option<Vec<u8>>,
    offset: u64,
    step: XStep,
    listener: Option<SocketAddr>,
    final_reply: Option<OwnedReply>,
    data_done: bool,
    /// A 1yz answered the transfer command: the data connection is moving data.
    started: bool,
    /// Replies still expected after ABOR.
    abort_pending: Option<u8>,
}

#[derive(Debug, Clone)]
enum Stage {
    Greeting,
    Feat,
    Auth,
    TlsHandshake,
    User,
    Pass,
    Acct,
    Pbsz,
    Prot,
    Ready,
    Simple(Op),
    /// ACCT sent for a simple operation the server held pending an account (332).
    SimpleAcct(Op),
    /// TYPE sent before SIZE (the path to ask about, the type wanted).
    SizeType(Vec<u8>, bool),
    Rnfr(Vec<u8>),
    Transfer(Box<Xfer>),
    Closed,
}

/// The client side of an FTP control connection (sans-IO).
///
/// Its `Debug` output shows the state and the sizes of its buffers, never
/// their bytes: the transmit queue holds the PASS line (RFC 959 4.1.1)
/// until it is written.
pub struct ClientSession {
    config: ClientConfig,
    reply_config: ReplyConfig,
    peer: SocketAddr,
    recv: BytesMut,
    /// How far the reply at the front of `recv` was scanned (reset
    /// whenever bytes leave its front).
    scan: ReplyScan,
    /// The Telnet layer of `recv`, which a read may split.
    telnet: crate::telnet::Unescape,
    tx: TransmitQueue,
    events: VecDeque<ClientEvent>,
    stage: Stage,
    features: Features,
    tls: bool,
    /// PROT P was accepted: data connections use TLS (RFC 4217 9).
    prot_private: bool,
    ascii: Option<bool>,
    text_files: bool,
    epsv_failed: bool,
    eprt_failed: bool,
    next_id: u64,
    deadline: Deadline,
    reply_seen: bool,
    fatal: Option<Error>,
    /// A multi-line reply longer than the limit, being cut.
    cut: Option<Cut>,
    /// A 421 that came after the final reply of a transfer whose data
    /// connection is still draining: reported once that transfer completes.
    closing: Option<OwnedReply>,
    /// A REST went out and no transfer command followed it (the transfer
    /// was aborted): the server may still hold its marker (RFC 3659 5.3).
    rest_unused: bool,
    /// The server closed its side; acted on once the replies already
    /// received are read.
    eof: bool,
}

impl std::fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSession")
            .field("peer", &self.peer)
            .field("stage", &self.stage)
            .field("features", &self.features)
            .field("tls", &self.tls)
            .field("prot_private", &self.prot_private)
            .field("eof", &self.eof)
            .field("fatal", &self.fatal)
            .field("buffered_input", &self.recv.len())
            .field("transmit", &self.tx)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// A multi-line reply past [`Limits::reply`]: RFC 1123 4.1.2.11 says a
/// user-FTP "MUST recover, e.g., by ignoring the excess lines until the end
/// of the multi-line reply is reached". The lines that fit are kept, the
/// rest dropped as they arrive, and the reply ends with its own last line.
#[derive(Debug)]
struct Cut {
    code: u16,
    /// The first lines, within the limit.
    head: BytesMut,
    /// Inside a line whose start was dropped: `Some(true)` when that line is
    /// the end of the reply (its first bytes were kept in `head`).
    in_line: Option<bool>,
    /// Bytes at the front of `recv` known to hold no LF: a line that
    /// arrives in pieces is searched once.
    seen: usize,
}

impl ClientSession {
    /// A session on a new control connection to `peer` (waiting for the greeting).
    #[must_use]
    pub fn new(config: ClientConfig, peer: SocketAddr, now: Instant) -> Self {
        let mut deadline = Deadline::new(config.limits.reply_timeout);
        deadline.restart(now);
        ClientSession {
            reply_config: ReplyConfig {
                max_len: config.limits.reply,
                accept_bare_lf: config.accept_bare_lf,
                accept_bare_cr: config.accept_bare_cr,
            },
            config,
            peer,
            recv: BytesMut::new(),
            scan: ReplyScan::default(),
            telnet: crate::telnet::Unescape::default(),
            tx: TransmitQueue::default(),
            events: VecDeque::new(),
            stage: Stage::Greeting,
            features: Features::default(),
            tls: false,
            prot_private: false,
            ascii: None,
            text_files: false,
            epsv_failed: false,
            eprt_failed: false,
            next_id: 1,
            deadline,
            reply_seen: false,
            fatal: None,
            cut: None,
            closing: None,
            rest_unused: false,
            eof: false,
        }
    }

    /// What FEAT announced: over TLS, the answer to the FEAT sent after the
    /// handshake (the plaintext one is forgotten); empty when the server
    /// refused FEAT.
    #[must_use]
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// True when logged in and no operation is running.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        matches!(self.stage, Stage::Ready)
    }

    /// True when the control connection is protected by TLS.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// True once closed. After [`ClientSession::handle_eof`], once
    /// [`ClientSession::poll_event`] has read the replies that came before
    /// the end.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self.stage, Stage::Closed)
    }

    fn send(&mut self, cmd: Command<'_>) {
        // Arguments were checked when the operation started; a failure here
        // would be a bug, reported as a fatal error rather than sent.
        let buf = self.tx.buf_mut();
        let start = buf.len();
        if cmd.encode(buf).is_err() {
            self.fail(Error::new(ErrorKind::Protocol, "command could not be encoded"));
            return;
        }
        // The Telnet layer (RFC 959 4; RFC 854): a path byte 255 goes as
        // IAC IAC. Undoubled, a server takes it and the next byte for a
        // Telnet command, drops both and acts on another file. A user-FTP
        // sends no other Telnet commands (RFC 1123 4.1.2.12).
        crate::telnet::escape(buf, start);
    }

    fn fail(&mut self, e: Error) {
        self.stage = Stage::Closed;
        self.fatal = Some(e);
    }

    fn start(&mut self, op: Op, cmd: Command<'_>) -> Result<(), UsageError> {
        self.ready()?;
        check_cmd(&cmd)?;
        self.stage = Stage::Simple(op);
        self.send(cmd);
        Ok(())
    }

    fn ready(&self) -> Result<(), UsageError> {
        match self.stage {
            Stage::Ready => Ok(()),
            Stage::Closed => Err(UsageError("session closed")),
            _ => Err(UsageError("busy: wait for the current operation to finish")),
        }
    }

    /// CWD.
    ///
    /// # Errors
    ///
    /// Busy, closed, or CR/LF/NUL in the path.
    pub fn cwd(&mut self, path: &[u8]) -> Result<(), UsageError> {
        self.start(Op::Cwd, Command::Cwd(path))
    }

    /// CDUP.
    ///
    /// # Errors
    ///
    /// Busy or closed.
    pub fn cdup(&mut self) -> Result<(), UsageError> {
        self.start(Op::Cdup, Command::Cdup)
    }

    /// PWD; the result comes as [`ClientEvent::Pwd`].
    ///
    /// # Errors
    ///
    /// Busy or closed.
    pub fn pwd(&mut self) -> Result<(), UsageError> {
        self.start(Op::Pwd, Command::Pwd)
    }

    /// MKD.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn mkdir(&mut self, path: &[u8]) -> Result<(), UsageError> {
        self.start(Op::Mkdir, Command::Mkd(path))
    }

    /// RMD.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn rmdir(&mut self, path: &[u8]) -> Result<(), UsageError> {
        self.start(Op::Rmdir, Command::Rmd(path))
    }

    /// DELE.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn delete(&mut self, path: &[u8]) -> Result<(), UsageError> {
        self.start(Op::Delete, Command::Dele(path))
    }

    /// RNFR then RNTO.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), UsageError> {
        self.ready()?;
        check_cmd(&Command::Rnto(to))?;
        check_cmd(&Command::Rnfr(from))?;
        self.stage = Stage::Rnfr(to.to_vec());
        self.send(Command::Rnfr(from));
        Ok(())
    }

    /// SIZE; the result comes as [`ClientEvent::Size`].
    ///
    /// The size depends on the TYPE in force (RFC 3659 4), so it is asked in
    /// the type files are moved in (TYPE I, or TYPE A in text mode): a TYPE
    /// command goes first unless that type is known to be set. The size then
    /// suits a REST resume (RFC 3659 4.1).
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn size(&mut self, path: &[u8]) -> Result<(), UsageError> {
        let want_ascii = self.text_files;
        if self.ascii == Some(want_ascii) {
            return self.start(Op::Size, Command::Size(path));
        }
        self.ready()?;
        check_cmd(&Command::Size(path))?;
        self.stage = Stage::SizeType(path.to_vec(), want_ascii);
        self.send(Command::Type(if want_ascii {
            TransferType::Ascii(crate::command::FormatControl::Default)
        } else {
            TransferType::Image
        }));
        Ok(())
    }

    /// MDTM; the result comes as [`ClientEvent::Modified`].
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn mdtm(&mut self, path: &[u8]) -> Result<(), UsageError> {
        self.start(Op::Mdtm, Command::Mdtm(path))
    }

    /// MFMT.
    ///
    /// # Errors
    ///
    /// Busy, closed, a bad path, or a time that is invalid or outside the
    /// years 1000 to 9999 (RFC 3659 2.3).
    pub fn mfmt(&mut self, path: &[u8], time: Timestamp) -> Result<(), UsageError> {
        self.start(Op::Mfmt, Command::Mfmt { time, path })
    }

    /// MLST; the result comes as [`ClientEvent::MlstEntry`].
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn mlst(&mut self, path: Option<&[u8]>) -> Result<(), UsageError> {
        self.start(Op::Mlst, Command::Mlst(path))
    }

    /// NOOP.
    ///
    /// # Errors
    ///
    /// Busy or closed.
    pub fn noop(&mut self) -> Result<(), UsageError> {
        self.start(Op::Noop, Command::Noop)
    }

    /// SITE.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad argument.
    pub fn site(&mut self, args: &[u8]) -> Result<(), UsageError> {
        self.start(Op::Site, Command::Site(args))
    }

    /// QUIT; [`ClientEvent::Closed`] follows.
    ///
    /// # Errors
    ///
    /// Busy or closed.
    pub fn quit(&mut self) -> Result<(), UsageError> {
        self.start(Op::Quit, Command::Quit)
    }

    /// Moves files (RETR, STOR, APPE) as text from now on: `TYPE A`, with the
    /// data converted between CRLF on the wire and local line ends by the
    /// driver (the `ascii` flag of [`ClientEvent::OpenDataChannel`]). Off by
    /// default (`TYPE I`); listings are always `TYPE A`.
    pub fn set_text_mode(&mut self, on: bool) {
        self.text_files = on;
    }

    /// RETR, resuming at `offset` when it is not 0 (REST STREAM).
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn retr(&mut self, path: &[u8], offset: u64) -> Result<TransferId, UsageError> {
        self.transfer(ClientTransferKind::Retr, Some(path), offset)
    }

    /// STOR, resuming at `offset` when it is not 0.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn stor(&mut self, path: &[u8], offset: u64) -> Result<TransferId, UsageError> {
        self.transfer(ClientTransferKind::Stor, Some(path), offset)
    }

    /// APPE.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad path.
    pub fn appe(&mut self, path: &[u8]) -> Result<TransferId, UsageError> {
        self.transfer(ClientTransferKind::Appe, Some(path), 0)
    }

    /// LIST.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad argument.
    pub fn list(&mut self, arg: Option<&[u8]>) -> Result<TransferId, UsageError> {
        self.transfer(ClientTransferKind::List, arg, 0)
    }

    /// NLST.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad argument.
    pub fn nlst(&mut self, arg: Option<&[u8]>) -> Result<TransferId, UsageError> {
        self.transfer(ClientTransferKind::Nlst, arg, 0)
    }

    /// MLSD.
    ///
    /// # Errors
    ///
    /// Busy, closed, or a bad argument.
    pub fn mlsd(&mut self, arg: Option<&[u8]>) -> Result<TransferId, UsageError> {
        self.transfer(ClientTransferKind::Mlsd, arg, 0)
    }

    fn transfer(
        &mut self,
        kind: ClientTransferKind,
        arg: Option<&[u8]>,
        offset: u64,
    ) -> Result<TransferId, UsageError> {
        self.ready()?;
        if let Some(a) = arg {
            // A CR in a pathname goes as CR NUL (RFC 2640 3.1); LF and NUL never.
            if memchr::memchr2(b'\n', 0, a).is_some() {
                return Err(UsageError("LF or NUL in an argument"));
            }
            if a.is_empty() {
                return Err(UsageError("empty path"));
            }
        }
        let id = TransferId(self.next_id);
        self.next_id += 1;
        let x = Xfer {
            id,
            kind,
            arg: arg.map(<[u8]>::to_vec),
            offset,
            step: XStep::Type,
            listener: None,
            final_reply: None,
            data_done: false,
            started: false,
            abort_pending: None,
        };
        self.stage = Stage::Transfer(Box::new(x));
        let want_ascii = kind.is_listing() || self.text_files;
        if self.ascii == Some(want_ascii) {
            self.after_type();
        } else {
            self.send(Command::Type(if want_ascii {
                TransferType::Ascii(crate::command::FormatControl::Default)
            } else {
                TransferType::Image
            }));
        }
        Ok(id)
    }

    fn xfer(&mut self) -> Option<&mut Xfer> {
        match &mut self.stage {
            Stage::Transfer(x) => Some(x),
            _ => None,
        }
    }

    fn after_type(&mut self) {
        if self.config.passive {
            // PASV speaks only IPv4 (RFC 2428 1: PORT and PASV "are replaced
            // with EPRT and EPSV"): on IPv6 EPSV goes whatever `extended`
            // says, as EPRT does for an IPv6 listener.
            let extended = (self.config.extended || self.peer.is_ipv6()) && !self.epsv_failed;
            if let Some(x) = self.xfer() {
                x.step = if extended { XStep::Epsv } else { XStep::Pasv };
            }
            if extended {
                self.send(Command::Epsv(EpsvArg::Any));
            } else {
                self.send(Command::Pasv);
            }
        } else if let Some(x) = self.xfer() {
            x.step = XStep::AwaitListener;
            let id = x.id;
            self.events.push_back(ClientEvent::Listen(id));
        }
    }

    fn open_data(&mut self, target: DataTarget) {
        let (ascii, protected) = (self.ascii == Some(true), self.prot_private);
        let Some(x) = self.xfer() else { return };
        let ev = ClientEvent::OpenDataChannel {
            id: x.id,
            target,
            kind: x.kind,
            ascii,
            protected,
        };
        self.events.push_back(ev);
        self.after_data_setup();
    }

    /// REST when resuming, and also, at offset 0, after a REST that no
    /// transfer command used (RFC 3659 5.3: such a user-PI "should send
    /// another REST command before the next data transfer command. If that
    /// transfer is not to be restarted, then "REST 0" should be issued").
    fn after_data_setup(&mut self) {
        let stale = std::mem::take(&mut self.rest_unused);
        let Some(x) = self.xfer() else { return };
        if x.offset > 0 || stale {
            x.step = XStep::Rest;
            let mut off = BytesMut::new();
            crate::parse::write_u64(&mut off, x.offset);
            self.send(Command::Rest(&off));
        } else {
            self.send_transfer_command();
        }
    }

    fn send_transfer_command(&mut self) {
        let Some(x) = self.xfer() else { return };
        x.step = XStep::Command;
        let arg = x.arg.clone();
        let kind = x.kind;
        let a = arg.as_deref();
        let cmd = match (kind, a) {
            (ClientTransferKind::Retr, Some(p)) => Command::Retr(p),
            (ClientTransferKind::Stor, Some(p)) => Command::Stor(p),
            (ClientTransferKind::Appe, Some(p)) => Command::Appe(p),
            (ClientTransferKind::List, a) => Command::List(a),
            (ClientTransferKind::Nlst, a) => Command::Nlst(a),
            (ClientTransferKind::Mlsd, a) => Command::Mlsd(a),
            _ => Command::Noop,
        };
        self.send(cmd);
    }

    /// Active mode: the listener for transfer `id` is at `addr`; EPRT/PORT follow.
    ///
    /// # Errors
    ///
    /// No listener was asked for.
    pub fn data_listening(&mut self, id: TransferId, addr: SocketAddr) -> Result<(), UsageError> {
        let eprt = self.config.extended && !self.eprt_failed || addr.is_ipv6();
        let Some(x) = self
            .xfer()
            .filter(|x| x.id == id && x.step == XStep::AwaitListener)
        else {
            return Err(UsageError("no listener wanted for this transfer"));
        };
        x.listener = Some(addr);
        match (eprt, addr) {
            (false, SocketAddr::V4(a)) => {
                x.step = XStep::Port;
                self.send(Command::Port(a));
            }
            _ => {
                x.step = XStep::Eprt;
                self.send(Command::Eprt(addr));
            }
        }
        Ok(())
    }

    /// The data connection of transfer `id` is finished (download at EOF,
    /// upload written and shut down; on a protected connection the EOF of
    /// a download is the TLS close_notify, see
    /// [`ClientEvent::OpenDataChannel`]).
    ///
    /// # Errors
    ///
    /// Unknown transfer.
    pub fn data_closed(&mut self, id: TransferId) -> Result<(), UsageError> {
        let Some(x) = self.xfer().filter(|x| x.id == id) else {
            return Err(UsageError("no such transfer"));
        };
        x.data_done = true;
        if x.abort_pending.is_none()
            && let Some(reply) = x.final_reply.take()
        {
            self.stage = Stage::Ready;
            self.events.push_back(ClientEvent::TransferComplete { id, reply });
            if let Some(r) = self.closing.take() {
                self.stage = Stage::Closed;
                self.events.push_back(ClientEvent::Closed(r));
            }
        }
        // The final reply is awaited from now on: the reply timeout counts
        // afresh from the next time the driver gives.
        self.reply_seen = true;
        Ok(())
    }

    /// ABOR the running transfer.
    ///
    /// # Errors
    ///
    /// No transfer in progress.
    pub fn abort(&mut self) -> Result<(), UsageError> {
        if self.closing.is_some() {
            return Err(UsageError("the server is closing the connection"));
        }
        let Some(x) = self.xfer().filter(|x| x.abort_pending.is_none()) else {
            return Err(UsageError("no transfer to abort"));
        };
        // One reply for ABOR, one more if a reply to a command already sent is
        // still due: the transfer command's final reply, or the reply to TYPE,
        // EPSV, PASV, EPRT, PORT or REST (RFC 959 4.1.3 answers ABOR after it).
        // Only while waiting for a listener has no command been sent.
        let due = if x.step == XStep::AwaitListener || x.final_reply.is_some() {
            1
        } else {
            2
        };
        x.abort_pending = Some(due);
        x.final_reply = None;
        // A TYPE whose reply is still due may have taken effect at the
        // server: the type in force is unknown until the next TYPE. A REST
        // sent, with no transfer command after it, may leave its marker.
        let step = x.step;
        if step == XStep::Type {
            self.ascii = None;
        }
        if step == XStep::Rest {
            self.rest_unused = true;
        }
        self.send(Command::Abor);
        Ok(())
    }

    /// The TLS handshake after AUTH TLS finished; the session asks FEAT again, then logs in.
    ///
    /// # Errors
    ///
    /// No handshake was pending.
    pub fn tls_established(&mut self) -> Result<(), UsageError> {
        if !matches!(self.stage, Stage::TlsHandshake) {
            return Err(UsageError("no TLS handshake pending"));
        }
        self.tls = true;
        self.recv.clear();
        self.scan = ReplyScan::default();
        self.telnet = crate::telnet::Unescape::default();
        // The FEAT reply came over the unprotected connection, where it may
        // have been rewritten, and AUTH resets the server's state (RFC 4217
        // section 4): forget it and ask again over TLS (as RFC 2595 section
        // 3.1 and RFC 3207 section 4.2 have IMAP, POP3 and SMTP clients do).
        // The answer ends in USER (see `Stage::Feat`).
        self.features = Features::default();
        self.stage = Stage::Feat;
        self.send(Command::Feat);
        Ok(())
    }

    fn send_user(&mut self) {
        self.stage = Stage::User;
        let user = self.config.user.clone();
        self.send(Command::User(&user));
    }

    fn after_login(&mut self) {
        if self.tls {
            self.stage = Stage::Pbsz;
            self.send(Command::Pbsz(0));
        } else {
            self.logged_in();
        }
    }

    fn logged_in(&mut self) {
        self.stage = Stage::Ready;
        self.events.push_back(ClientEvent::LoggedIn);
    }

    /// PBSZ or PROT P refused: the end of a login that required TLS,
    /// else data in the clear (see [`ClientEvent::DataProtectionRefused`]).
    fn data_protection_refused(&mut self, r: OwnedReply) {
        self.events
            .push_back(ClientEvent::DataProtectionRefused(r.clone()));
        if self.config.tls == ClientTls::Required {
            self.login_failed(r);
        } else {
            self.logged_in();
        }
    }

    fn login_failed(&mut self, r: OwnedReply) {
        self.stage = Stage::Closed;
        self.events.push_back(ClientEvent::LoginFailed(r));
    }

    /// Inherent form of [`proto_core::Session::poll_event`].
    ///
    /// # Errors
    ///
    /// Fatal: a malformed reply, an over-long reply, a reply timeout.
    pub fn poll_event(&mut self) -> Result<Option<ClientEvent>, Error> {
        loop {
            if let Some(ev) = self.events.pop_front() {
                return Ok(Some(ev));
            }
            if let Some(e) = self.fatal.take() {
                return Err(e);
            }
            if matches!(self.stage, Stage::Closed | Stage::TlsHandshake) || self.closing.is_some() {
                if self.eof_now() {
                    continue;
                }
                return Ok(None);
            }
            if self.cut.is_some() {
                match self.continue_cut() {
                    Some(reply) => {
                        self.reply_seen = true;
                        self.on_reply(reply);
                        continue;
                    }
                    None if self.eof_now() => continue,
                    None => return Ok(None),
                }
            }
            let parsed = match Reply::parse_from(&self.recv, &self.reply_config, &mut self.scan) {
                Ok(Some((r, n))) => Ok(Some((r.to_owned_reply(), n))),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            match parsed {
                Ok(Some((reply, n))) => {
                    self.recv.advance(n);
                    self.scan = ReplyScan::default();
                    self.reply_seen = true;
                    self.on_reply(reply);
                }
                Ok(None) if self.eof_now() => {}
                Ok(None) => return Ok(None),
                Err(crate::ReplyError::TooLong { limit }) if self.start_cut(limit) => {}
                Err(e) => {
                    self.scan = ReplyScan::default();
                    let bytes = self.recv.split().freeze();
                    let err = Error::with_bytes(
                        match e {
                            crate::ReplyError::TooLong { .. } => ErrorKind::Limit,
                            _ => ErrorKind::Protocol,
                        },
                        "malformed reply",
                        &bytes,
                    );
                    self.stage = Stage::Closed;
                    return Err(err);
                }
            }
        }
    }

    /// Starts cutting a multi-line reply that outgrew `limit`: keeps its
    /// complete lines that fit. False when it is no multi-line reply or its
    /// first line alone is too long (then the error stands).
    fn start_cut(&mut self, limit: usize) -> bool {
        let Some(code) = code_of(&self.recv).filter(|_| self.recv.get(3) == Some(&b'-')) else {
            return false;
        };
        let mut end = 0;
        while let Some(i) = memchr::memchr(b'\n', &self.recv[end..]) {
            if end + i + 1 > limit {
                break;
            }
            end += i + 1;
        }
        if end == 0 {
            return false;
        }
        let head = self.recv.split_to(end);
        self.scan = ReplyScan::default();
        self.cut = Some(Cut {
            code,
            head,
            in_line: None,
            seen: 0,
        });
        true
    }

    /// Drops the lines of the reply being cut as they arrive; at its last
    /// line (its code and a space, RFC 959 4.2), the reply: the lines kept,
    /// then that last line.
    fn continue_cut(&mut self) -> Option<OwnedReply> {
        let max = self.reply_config.max_len.max(4);
        let cut = self.cut.as_mut()?;
        loop {
            if let Some(is_end) = cut.in_line {
                // The rest of a line whose start is gone (or kept, for the end).
                let Some(i) = memchr::memchr(b'\n', &self.recv) else {
                    self.recv.clear();
                    return None;
                };
                self.recv.advance(i + 1);
                cut.in_line = None;
                if is_end {
                    cut.head.extend_from_slice(b"\r\n");
                    break;
                }
                continue;
            }
            let from = cut.seen.min(self.recv.len());
            match memchr::memchr(b'\n', &self.recv[from..]).map(|i| from + i) {
                Some(i) => {
                    cut.seen = 0;
                    let line = &self.recv[..i];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let is_end = code_of(line) == Some(cut.code) && matches!(line.get(3), None | Some(b' '));
                    if is_end {
                        // A last line longer than the limit keeps only its code,
                        // as when it arrives in pieces (below).
                        if i < max {
                            cut.head.extend_from_slice(&self.recv[..=i]);
                        } else {
                            cut.head.extend_from_slice(&self.recv[..4]);
                            cut.head.extend_from_slice(b"\r\n");
                        }
                        self.recv.advance(i + 1);
                        break;
                    }
                    self.recv.advance(i + 1);
                }
                None if self.recv.len() < max => {
                    cut.seen = self.recv.len();
                    return None;
                }
                None => {
                    // A line longer than the limit: judged by its start.
                    let is_end = code_of(&self.recv) == Some(cut.code) && self.recv[3] == b' ';
                    if is_end {
                        cut.head.extend_from_slice(&self.recv[..4]);
                    }
                    cut.in_line = Some(is_end);
                    cut.seen = 0;
                    self.recv.clear();
                }
            }
        }
        let cut = self.cut.take()?;
        Some(OwnedReply {
            code: cut.code,
            raw: cut.head.freeze(),
        })
    }

    /// RFC 959 4.2: 421 "may be a reply to any command if the service knows
    /// it must shut down". It answers the pending command, which fails with
    /// it, then [`ClientEvent::Closed`] follows. A transfer whose final reply
    /// already came keeps it: it completes when the driver reports the end
    /// of its data connection ([`ClientSession::data_closed`]), and the
    /// server's closing of the control connection meanwhile is expected.
    fn on_421(&mut self, r: OwnedReply) {
        let stage = std::mem::replace(&mut self.stage, Stage::Closed);
        let failed = match stage {
            Stage::Greeting
            | Stage::Feat
            | Stage::Auth
            | Stage::User
            | Stage::Pass
            | Stage::Acct
            | Stage::Pbsz
            | Stage::Prot => Some(ClientEvent::LoginFailed(r.clone())),
            // QUIT gets its answer as Closed alone, as with 221.
            Stage::Simple(op) | Stage::SimpleAcct(op) if op != Op::Quit => {
                Some(ClientEvent::Failed { op, reply: r.clone() })
            }
            Stage::SizeType(..) => Some(ClientEvent::Failed {
                op: Op::Size,
                reply: r.clone(),
            }),
            Stage::Rnfr(_) => Some(ClientEvent::Failed {
                op: Op::Rename,
                reply: r.clone(),
            }),
            Stage::Transfer(x) => {
                if x.abort_pending.is_none() && x.final_reply.is_some() && !x.data_done {
                    self.stage = Stage::Transfer(x);
                    self.closing = Some(r);
                    return;
                }
                Some(ClientEvent::TransferFailed {
                    id: x.id,
                    reply: r.clone(),
                })
            }
            Stage::Simple(_) | Stage::SimpleAcct(_) | Stage::Ready | Stage::TlsHandshake | Stage::Closed => {
                None
            }
        };
        self.events.extend(failed);
        self.events.push_back(ClientEvent::Closed(r));
    }

    fn on_reply(&mut self, r: OwnedReply) {
        let code = r.code;
        if code == 421 {
            self.on_421(r);
            return;
        }
        // RFC 959 4.2: after a 1yz "the user-process should expect another
        // reply before proceeding with a new command": it never ends a step.
        // (The greeting, simple operations and transfers handle it below.)
        if code / 100 == 1
            && !matches!(
                self.stage,
                Stage::Greeting | Stage::Simple(_) | Stage::SimpleAcct(_) | Stage::Transfer(_)
            )
        {
            return;
        }
        let stage = std::mem::replace(&mut self.stage, Stage::Closed);
        match stage {
            // Success is the first digit (RFC 959 4.2; RFC 1123 4.1.2.11: a
            // user-FTP "SHOULD use only the highest-order digit ... for
            // making a procedural decision"): any 2yz greets.
            Stage::Greeting => match code {
                100..=199 => self.stage = Stage::Greeting,
                200..=299 => {
                    self.stage = Stage::Feat;
                    self.send(Command::Feat);
                }
                _ => self.login_failed(r),
            },
            // The FEAT after the greeting, or the one after the TLS
            // handshake (`self.tls`), which then goes on to USER.
            Stage::Feat => {
                if code == 211 {
                    self.features = Features::from_reply(&r.as_reply());
                }
                let want = match self.config.tls {
                    ClientTls::Never => false,
                    ClientTls::IfOffered => self.features.auth_tls(),
                    ClientTls::Required => true,
                };
                if want && !self.tls {
                    self.stage = Stage::Auth;
                    self.send(Command::Auth(b"TLS"));
                } else {
                    self.send_user();
                }
            }
            // RFC 2228 names 234; any 2yz accepts all the same, and a client
            // that took it for a refusal would send USER in plaintext to a
            // server waiting for the handshake.
            Stage::Auth => match code {
                200..=299 => {
                    // Nothing the server sent in plaintext after 234 may be used.
                    self.recv.clear();
                    self.scan = ReplyScan::default();
                    self.stage = Stage::TlsHandshake;
                    self.events.push_back(ClientEvent::StartTls);
                }
                _ if self.config.tls == ClientTls::Required => self.login_failed(r),
                _ => self.send_user(),
            },
            // Decisions on the first digit (RFC 1123 4.1.2.11): any 2xx logs in
            // (232 answers USER when TLS identified the user, RFC 4217 9 and
            // RFC 2228 4); 332 asks for an account, another 3xx after USER for
            // the password.
            Stage::User => match code {
                200..=299 => self.after_login(),
                332 => self.send_acct(r),
                300..=399 => {
                    self.stage = Stage::Pass;
                    let pw = self.config.password.clone();
                    self.send(Command::Pass(Password(pw.expose())));
                }
                _ => self.login_failed(r),
            },
            Stage::Pass => match code {
                200..=299 => self.after_login(),
                300..=399 => self.send_acct(r),
                _ => self.login_failed(r),
            },
            Stage::Acct => match code {
                200..=299 => self.after_login(),
                _ => self.login_failed(r),
            },
            Stage::Pbsz => {
                if code / 100 == 2 {
                    self.stage = Stage::Prot;
                    self.send(Command::Prot(ProtLevel::Private));
                } else {
                    // No PROT without an accepted PBSZ (RFC 4217 9).
                    self.data_protection_refused(r);
                }
            }
            Stage::Prot => {
                if code / 100 == 2 {
                    self.prot_private = true;
                    self.logged_in();
                } else {
                    self.data_protection_refused(r);
                }
            }
            Stage::Ready => {
                // Unsolicited reply: ignore it (RFC 959 does not allow them, 421 aside).
                self.stage = Stage::Ready;
            }
            Stage::Simple(op) => self.on_simple(op, r, false),
            Stage::SimpleAcct(op) => self.on_simple(op, r, true),
            Stage::SizeType(path, ascii) => {
                if code / 100 == 2 {
                    self.ascii = Some(ascii);
                    self.stage = Stage::Simple(Op::Size);
                    self.send(Command::Size(&path));
                } else {
                    self.stage = Stage::Ready;
                    self.events.push_back(ClientEvent::Failed {
                        op: Op::Size,
                        reply: r,
                    });
                }
            }
            Stage::Rnfr(to) => {
                // On the first digit (RFC 1123 4.1.2.11): any 3yz but 332
                // (an account wanted first) asks for the RNTO.
                if code / 100 == 3 && code != 332 {
                    self.stage = Stage::Simple(Op::Rename);
                    self.send(Command::Rnto(&to));
                } else {
                    self.stage = Stage::Ready;
                    self.events.push_back(ClientEvent::Failed {
                        op: Op::Rename,
                        reply: r,
                    });
                }
            }
            Stage::Transfer(x) => {
                self.stage = Stage::Transfer(x);
                self.on_transfer_reply(r);
            }
            Stage::TlsHandshake | Stage::Closed => self.stage = stage,
        }
    }

    fn send_acct(&mut self, r: OwnedReply) {
        match self.config.account.clone() {
            Some(a) => {
                self.stage = Stage::Acct;
                self.send(Command::Acct(&a));
            }
            None => self.login_failed(r),
        }
    }

    /// The reply to a simple operation (`acct_sent`: to the ACCT that
    /// followed its 332).
    fn on_simple(&mut self, op: Op, r: OwnedReply, acct_sent: bool) {
        if r.code / 100 == 1 {
            self.stage = if acct_sent {
                Stage::SimpleAcct(op)
            } else {
                Stage::Simple(op)
            };
            return;
        }
        // A 3yz is no completion (RFC 959 4.2: the action is "held in
        // abeyance, pending receipt of further information"). A 332 to a
        // command after login stores it until ACCT arrives (RFC 959 4.1.1):
        // the configured account goes, and the reply to ACCT ends the
        // operation. Any other 3yz, or a 332 with no account to give, fails it.
        if r.code / 100 == 3 {
            if r.code == 332
                && !acct_sent
                && let Some(a) = self.config.account.clone()
            {
                self.stage = Stage::SimpleAcct(op);
                self.send(Command::Acct(&a));
                return;
            }
            self.stage = Stage::Ready;
            self.events.push_back(ClientEvent::Failed { op, reply: r });
            return;
        }
        self.stage = Stage::Ready;
        if r.code >= 400 {
            self.events.push_back(ClientEvent::Failed { op, reply: r });
            return;
        }
        let ev = match op {
            Op::Pwd => match parse_257_path(r.text()) {
                Some(p) => ClientEvent::Pwd(p),
                None => ClientEvent::Done { op, reply: r },
            },
            Op::Size => match parse_size(&r.as_reply()) {
                Some(n) => ClientEvent::Size(n),
                None => ClientEvent::Failed { op, reply: r },
            },
            Op::Mdtm => match parse_mdtm(&r.as_reply()) {
                Some(t) => ClientEvent::Modified(t),
                None => ClientEvent::Failed { op, reply: r },
            },
            Op::Mlst => {
                // RFC 3659 7.2: the entry is the inner line that starts
                // with a space; a CR in its pathname comes as CR NUL
                // (RFC 3659 2.2 requires RFC 2640, whose 3.1 strips the NUL).
                let entry = r
                    .as_reply()
                    .lines()
                    .skip(1)
                    .find_map(|l| l.strip_prefix(b" "))
                    .and_then(unpad_pathname)
                    .map(std::borrow::Cow::into_owned);
                match entry {
                    Some(e) => ClientEvent::MlstEntry(e),
                    None => ClientEvent::Failed { op, reply: r },
                }
            }
            Op::Quit => {
                self.stage = Stage::Closed;
                ClientEvent::Closed(r)
            }
            _ => ClientEvent::Done { op, reply: r },
        };
        self.events.push_back(ev);
    }

    fn on_transfer_reply(&mut self, r: OwnedReply) {
        let code = r.code;
        let peer = self.peer;
        let use_pasv_host = self.config.use_pasv_host;
        let text_files = self.text_files;
        let Some(x) = self.xfer() else { return };
        let id = x.id;
        if let Some(left) = x.abort_pending {
            if code / 100 == 1 {
                return;
            }
            let left = left.saturating_sub(1);
            if left == 0 {
                self.stage = Stage::Ready;
                self.events.push_back(ClientEvent::Aborted(id));
            } else {
                x.abort_pending = Some(left);
            }
            return;
        }
        // A 1yz ends no step before the transfer command (RFC 959 4.2).
        if code / 100 == 1 && x.step != XStep::Command {
            return;
        }
        match x.step {
            XStep::Type => {
                if code / 100 == 2 {
                    let ascii = x.kind.is_listing() || text_files;
                    self.ascii = Some(ascii);
                    self.after_type();
                } else {
                    self.transfer_failed(id, r);
                }
            }
            XStep::Epsv => {
                // Port 0 is no listener (RFC 2428 3, RFC 959 4.1.2): a failure.
                // Any 2yz with an address in its text will do (RFC 959 4.2:
                // the first digit decides); one without fails the transfer.
                if code / 100 == 2
                    && let Some(port) = parse_epsv(r.text()).filter(|&p| p != 0)
                {
                    self.open_data(DataTarget::Connect(SocketAddr::new(peer.ip(), port)));
                } else if matches!(code, 500 | 501 | 502 | 504 | 522) && peer.is_ipv4() {
                    x.step = XStep::Pasv;
                    self.epsv_failed = true;
                    self.send(Command::Pasv);
                } else {
                    self.transfer_failed(id, r);
                }
            }
            XStep::Pasv => match (code / 100, parse_pasv(r.text())) {
                (2, Some(a)) if a.port() != 0 => {
                    let addr = if use_pasv_host {
                        SocketAddr::V4(a)
                    } else {
                        SocketAddr::new(peer.ip(), a.port())
                    };
                    self.open_data(DataTarget::Connect(addr));
                }
                _ => self.transfer_failed(id, r),
            },
            XStep::Eprt => {
                if code / 100 == 2 {
                    self.open_data(DataTarget::Accept);
                } else if let (true, Some(SocketAddr::V4(a))) =
                    (matches!(code, 500 | 501 | 502 | 522), x.listener)
                {
                    x.step = XStep::Port;
                    self.eprt_failed = true;
                    self.send(Command::Port(a));
                } else {
                    self.transfer_failed(id, r);
                }
            }
            XStep::Port => {
                if code / 100 == 2 {
                    self.open_data(DataTarget::Accept);
                } else {
                    self.transfer_failed(id, r);
                }
            }
            XStep::Rest => {
                // As RNFR: any 3yz but 332 asks for the transfer command. A
                // refused REST 0 (sent only to clear a stale marker) leaves
                // no marker either: the transfer goes on from the start.
                if (code / 100 == 3 && code != 332) || (x.offset == 0 && code >= 400) {
                    self.send_transfer_command();
                } else {
                    self.transfer_failed(id, r);
                }
            }
            XStep::Command => match code / 100 {
                // One 1yz answers the transfer command (RFC 959 5.4); a
                // repeated one starts nothing again.
                1 if x.started => {}
                1 => {
                    x.started = true;
                    self.events.push_back(ClientEvent::TransferStarted(id));
                }
                2 => {
                    // A 2xx may come before or after the data connection closes,
                    // and even without a 150 first.
                    if x.data_done {
                        self.stage = Stage::Ready;
                        self.events
                            .push_back(ClientEvent::TransferComplete { id, reply: r });
                    } else {
                        x.final_reply = Some(r);
                    }
                }
                _ => self.transfer_failed(id, r),
            },
            XStep::AwaitListener => self.transfer_failed(id, r),
        }
    }

    fn transfer_failed(&mut self, id: TransferId, reply: OwnedReply) {
        self.stage = Stage::Ready;
        self.events.push_back(ClientEvent::TransferFailed { id, reply });
    }

    /// Inherent form of [`proto_core::Session::handle_input`].
    ///
    /// The Telnet layer comes off here (RFC 959 4; RFC 854): `IAC IAC` in a
    /// reply is one 255 byte (a path in a 257, say), and Telnet commands or
    /// option negotiations from the server are no reply text.
    pub fn handle_input(&mut self, data: &[u8]) {
        if matches!(self.stage, Stage::Closed | Stage::TlsHandshake) || self.closing.is_some() {
            return;
        }
        self.telnet.feed(data, &mut self.recv);
    }

    /// Inherent form of [`proto_core::Session::poll_transmit`].
    #[must_use]
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.tx.peek()
    }

    /// Inherent form of [`proto_core::Session::advance_transmit`].
    pub fn advance_transmit(&mut self, n: usize) {
        self.tx.advance(n);
    }

    fn waiting_for_reply(&self) -> bool {
        match &self.stage {
            Stage::Ready | Stage::Closed | Stage::TlsHandshake => false,
            Stage::Transfer(x) => match x.step {
                XStep::AwaitListener => false,
                // After the 1yz (or an early final reply) the data connection
                // moves the data, for as long as the file takes; the final
                // reply only follows its end (RFC 959 4.2, 5.4). Its
                // progress is the driver's to time, so no reply is counted
                // as due until `data_closed`.
                XStep::Command => {
                    x.abort_pending.is_some() || x.data_done || !(x.started || x.final_reply.is_some())
                }
                _ => true,
            },
            _ => true,
        }
    }

    /// Inherent form of [`proto_core::Session::poll_timeout`]: the reply deadline while a
    /// reply is awaited. While a transfer's data connection moves data (after
    /// the 1yz, until [`ClientSession::data_closed`]) none is: timing the data
    /// connection is the driver's part.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.waiting_for_reply() {
            self.deadline.at()
        } else {
            None
        }
    }

    /// Inherent form of [`proto_core::Session::handle_timeout`]: no reply for
    /// [`Limits::reply_timeout`] is fatal. The deadline restarts from `now` when
    /// a reply arrived since the last call.
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.deadline.expired(now) {
            return;
        }
        if std::mem::take(&mut self.reply_seen) || !self.waiting_for_reply() {
            self.deadline.restart(now);
            return;
        }
        self.fail(Error::new(ErrorKind::Timeout, "no reply from the server"));
    }

    /// Inherent form of [`proto_core::Session::handle_eof`]. The replies received
    /// before the end are read first ([`ClientSession::poll_event`]): a
    /// server that answers 421 (RFC 959 4.2: "closing control
    /// connection") or 221 closes right after it, and the driver may pass
    /// the last bytes and the end before it polls.
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// Acts on the end of the server's stream once no complete reply is
    /// left; true when that changed the state.
    fn eof_now(&mut self) -> bool {
        if !std::mem::take(&mut self.eof) {
            return false;
        }
        // After a 421 the server closes: expected, and a transfer waiting
        // for its data connection's end still completes.
        if !matches!(self.stage, Stage::Closed) && self.closing.is_none() {
            let expected = !matches!(self.stage, Stage::Ready);
            self.stage = Stage::Closed;
            if expected {
                self.fatal = Some(Error::new(
                    ErrorKind::UnexpectedEof,
                    "server closed the connection",
                ));
            }
            return true;
        }
        false
    }
}

fn check_cmd(cmd: &Command<'_>) -> Result<(), UsageError> {
    let mut scratch = BytesMut::new();
    cmd.encode(&mut scratch)
        .map(|_| ())
        .map_err(|_| UsageError("argument cannot be sent (LF, NUL, CR outside a pathname, or empty)"))
}

proto_core::impl_session!(ClientSession, ClientEvent, Error);
