//! One control connection: the read -> session -> events -> write loop, with
//! the data-connection state (passive listener, transfer waiting for its
//! connection, running transfer task) kept beside the session.

use crate::data::{self, DataMsg, DataTls, Job, Payload};
use crate::listing;
use crate::users::Users;
use examples::ftpfs::FileTree;
use examples::net::Conn;
use ftp_proto::server::{
    DataFailure, DataMode, Outcome, Request, ServerEvent, Transfer, TransferId, TransferKind,
};
use ftp_proto::{ServerConfig, ServerSession};
use sha2::{Digest, Sha256};
use std::io;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// What every session shares.
pub(crate) struct Shared {
    pub(crate) tree: FileTree,
    pub(crate) users: Users,
    pub(crate) acceptor: Option<TlsAcceptor>,
    /// The TLS acceptor for data connections (no session tickets sent).
    pub(crate) data_acceptor: Option<TlsAcceptor>,
    pub(crate) config: ServerConfig,
    pub(crate) passive_ports: RangeInclusive<u16>,
    /// Source port for active connections (0: any).
    pub(crate) active_port: u16,
    pub(crate) transfer_timeout: Duration,
    /// Data connections must resume the control connection's TLS session.
    pub(crate) require_tls_reuse: bool,
    /// A protected upload may end without close_notify (`--accept-tls-upload-eof`).
    pub(crate) accept_tls_upload_eof: bool,
}

/// A transfer task under way.
struct Running {
    id: TransferId,
    task: JoinHandle<()>,
    /// The job's abort flag (set before the task is cancelled on ABOR).
    aborted: Arc<AtomicBool>,
}

impl Running {
    /// Cancels the transfer: the flag first, so an upload that sees its
    /// connection close from now on is never committed; then the task.
    fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}

/// A transfer whose passive data connection has not arrived yet.
struct Waiting {
    job: Job,
    /// None when --transfer-timeout reaches past what an `Instant` holds:
    /// no deadline then.
    deadline: Option<Instant>,
}

struct State {
    shared: Arc<Shared>,
    session: ServerSession,
    peer: SocketAddr,
    local: SocketAddr,
    token: Vec<u8>,
    writable: bool,
    passive: Option<TcpListener>,
    waiting: Option<Waiting>,
    running: Option<Running>,
    tx: mpsc::UnboundedSender<DataMsg>,
}

fn token_for(peer: SocketAddr) -> Vec<u8> {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = Sha256::new();
    h.update(peer.to_string().as_bytes());
    h.update(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_le_bytes(),
    );
    h.update(
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes(),
    );
    h.finalize()[..16].to_vec()
}

async fn accept_opt(l: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Serves one control connection to its end. `implicit`: TLS from the first byte.
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    implicit: bool,
) -> io::Result<()> {
    let local = tcp.local_addr()?;
    let _ = tcp.set_nodelay(true);
    let token = token_for(peer);
    let mut conn = Conn::Plain(tcp);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let session = ServerSession::new(shared.config.clone(), peer, Instant::now());
    let mut st = State {
        shared,
        session,
        peer,
        local,
        token,
        writable: false,
        passive: None,
        waiting: None,
        running: None,
        tx,
    };
    if implicit {
        let Some(acceptor) = st.shared.acceptor.clone() else {
            return Err(io::Error::other("implicit TLS without a certificate"));
        };
        upgrade(&mut conn, &acceptor, &st.token).await?;
        // The greeting goes out over TLS; then the session is told TLS is on
        // the only way it knows, an AUTH TLS whose 234 reply is not sent.
        let idle = st.idle();
        conn.flush_session_within(&mut st.session, idle).await?;
        st.session.handle_input(b"AUTH TLS\r\n");
        match st.session.poll_event() {
            Ok(Some(ServerEvent::StartTls)) => {
                if let Some(n) = st.session.poll_transmit().map(<[u8]>::len) {
                    st.session.advance_transmit(n);
                }
                st.session
                    .tls_established()
                    .map_err(|e| io::Error::other(e.to_string()))?;
            }
            other => return Err(io::Error::other(format!("implicit TLS setup: {other:?}"))),
        }
    }
    let result = run(&mut st, &mut conn, &mut rx).await;
    if let Some(r) = st.running.take() {
        r.abort();
    }
    let idle = st.idle();
    let _ = conn.flush_session_within(&mut st.session, idle).await;
    let _ = tokio::time::timeout(idle, tokio::io::AsyncWriteExt::shutdown(&mut conn)).await;
    result
}

async fn upgrade(conn: &mut Conn, acceptor: &TlsAcceptor, token: &[u8]) -> io::Result<()> {
    let Conn::Plain(tcp) = std::mem::replace(conn, Conn::Upgrading) else {
        return Err(io::Error::other("TLS is already on"));
    };
    let tls = tokio::time::timeout(
        Duration::from_secs(30),
        acceptor.accept_with(tcp, |c| c.set_resumption_data(token)),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    *conn = Conn::ServerTls(Box::new(tls));
    Ok(())
}

async fn run(st: &mut State, conn: &mut Conn, rx: &mut mpsc::UnboundedReceiver<DataMsg>) -> io::Result<()> {
    let mut buf = vec![0u8; 8192];
    // The client half-closed: nothing more to read, but the commands it
    // sent before are still answered (a transfer under way included) and
    // the session closes when it has nothing left (RFC 959 4.1.1).
    let mut eof = false;
    loop {
        loop {
            match st.session.poll_event() {
                Ok(Some(ev)) => st.on_event(ev, conn).await?,
                Ok(None) => break,
                Err(e) => {
                    tracing::info!(peer = %st.peer, error = %e, "session closed");
                    return Ok(());
                }
            }
        }
        // Bounded: a client that never reads must not hold its slot for ever.
        let idle = st.idle();
        conn.flush_session_within(&mut st.session, idle).await?;
        if st.session.is_closed() {
            return Ok(());
        }
        let far = Instant::now() + Duration::from_secs(86_400);
        let deadline = [
            st.session.poll_timeout(),
            st.waiting.as_ref().and_then(|w| w.deadline),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(far);
        tokio::select! {
            r = conn.read(&mut buf), if !eof => match r {
                Ok(0) => {
                    eof = true;
                    st.session.handle_eof();
                }
                // A reset or a TLS error: no one is left to answer.
                Err(_) => return Ok(()),
                Ok(n) => st.session.handle_input(&buf[..n]),
            },
            Some(msg) = rx.recv() => st.on_data(msg),
            acc = accept_opt(st.passive.as_ref().filter(|_| st.waiting.is_some())) => st.on_accept(acc),
            () = tokio::time::sleep_until(deadline.into()) => {
                let now = Instant::now();
                st.session.handle_timeout(now);
                if st.waiting.as_ref().and_then(|w| w.deadline).is_some_and(|d| now >= d)
                    && let Some(w) = st.waiting.take()
                {
                    tracing::info!(peer = %st.peer, "no passive data connection arrived");
                    st.passive = None;
                    let _ = st.session.data_failed(w.job.id, DataFailure::Connect);
                }
            }
        }
    }
}

fn outcome(e: &io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::NotFound => Outcome::NotFound,
        io::ErrorKind::PermissionDenied => Outcome::Denied,
        io::ErrorKind::AlreadyExists => Outcome::Failed(550, b"File exists".to_vec()),
        io::ErrorKind::DirectoryNotEmpty => Outcome::Failed(550, b"Directory not empty".to_vec()),
        io::ErrorKind::InvalidInput | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory => {
            Outcome::Failed(550, b"Not a plain file or not a directory".to_vec())
        }
        _ => Outcome::Failed(451, b"Local error in processing".to_vec()),
    }
}

/// Reads the file at `p` as TYPE A sends it (each LF as CRLF): the file
/// offset where `limit` octets of that form end (`None` when `limit` falls
/// between the CR and LF of a line end), and the octets of the whole form
/// when `limit` is past the end.
fn ascii_offsets(tree: &FileTree, p: &str, limit: u64) -> io::Result<(Option<u64>, u64)> {
    use std::io::Read as _;
    let (mut f, _) = tree.open_read(p, 0)?;
    let mut buf = vec![0u8; 64 * 1024];
    let (mut file, mut sent) = (0u64, 0u64);
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok((Some(file), sent));
        }
        for &b in &buf[..n] {
            if sent == limit {
                return Ok((Some(file), sent));
            }
            sent += if b == b'\n' { 2 } else { 1 };
            file += 1;
            if sent > limit {
                return Ok((None, sent));
            }
        }
    }
}

/// The file offset a REST offset names: the same in TYPE I; in TYPE A the
/// REST offset counts octets of the CRLF form sent (RFC 3659 5.3), so the
/// file is read up to it. A marker past the end of the file (for a STOR,
/// also of a file that does not exist), or in TYPE A between the CR and LF
/// of a line end, cannot be honoured: 554 (RFC 3659 5.3: "restart marker
/// out of range" is reported on the transfer command; RFC 1123 4.1.3.4).
fn file_offset(tree: &FileTree, p: &str, t: &Transfer) -> Result<u64, DataFailure> {
    if t.offset == 0 {
        return Ok(0);
    }
    let storing = t.kind == TransferKind::Store;
    let at = if t.ascii {
        // `sent` stops at the marker, or short of it at the end of the file.
        ascii_offsets(tree, p, t.offset).map(|(at, sent)| at.filter(|_| sent == t.offset))
    } else {
        tree.open_read(p, 0)
            .map(|(_, len)| (t.offset <= len).then_some(t.offset))
    };
    match at {
        Ok(Some(at)) => Ok(at),
        Ok(None) => Err(DataFailure::InvalidRestart),
        Err(e) if storing && e.kind() == io::ErrorKind::NotFound => Err(DataFailure::InvalidRestart),
        Err(e) => {
            tracing::debug!(error = %e, "transfer refused");
            Err(DataFailure::Unavailable)
        }
    }
}

fn vpath(p: &[u8]) -> Option<&str> {
    std::str::from_utf8(p).ok()
}

impl State {
    /// How long a reply may take to be written: the idle timeout, so a
    /// client that stops reading is dropped like one that stops sending.
    fn idle(&self) -> Duration {
        self.shared.config.limits.idle_timeout
    }

    async fn on_event(&mut self, ev: ServerEvent, conn: &mut Conn) -> io::Result<()> {
        match ev {
            ServerEvent::Login {
                user,
                password,
                anonymous,
            } => match self.shared.users.check(&user, password.expose(), anonymous) {
                Some(writable) => {
                    self.writable = writable;
                    tracing::info!(peer = %self.peer, user = %String::from_utf8_lossy(&user), writable, "login");
                    let _ = self.session.login_accept();
                }
                None => {
                    tracing::warn!(peer = %self.peer, user = %String::from_utf8_lossy(&user), "failed login");
                    let _ = self.session.login_reject(Instant::now());
                }
            },
            ServerEvent::Account { .. } => {
                let _ = self.session.login_reject(Instant::now());
            }
            ServerEvent::StartTls => {
                let idle = self.idle();
                conn.flush_session_within(&mut self.session, idle).await?;
                let Some(acceptor) = self.shared.acceptor.clone() else {
                    self.session.tls_failed();
                    return Ok(());
                };
                match upgrade(conn, &acceptor, &self.token).await {
                    Ok(()) => {
                        let _ = self.session.tls_established();
                    }
                    Err(e) => {
                        tracing::info!(peer = %self.peer, error = %e, "TLS handshake failed");
                        self.session.tls_failed();
                        return Err(e);
                    }
                }
            }
            ServerEvent::Request(Request::Stat(p)) => self.stat(&p, conn).await?,
            ServerEvent::Request(req) => {
                let out = tokio::task::block_in_place(|| self.request(&req));
                if let Err(e) = self.session.complete(out) {
                    tracing::error!(error = %e, "request answer refused");
                }
            }
            ServerEvent::PassiveListen { .. } => {
                self.passive = None;
                match data::passive_listener(self.local.ip(), &self.shared.passive_ports).await {
                    Ok(l) => {
                        let addr = l.local_addr()?;
                        self.passive = Some(l);
                        let _ = self.session.passive_ready(addr);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "passive listener");
                        let _ = self.session.passive_failed();
                    }
                }
            }
            ServerEvent::OpenDataChannel { mode, transfer } => self.open(mode, transfer).await,
            ServerEvent::AbortTransfer(id) => {
                if let Some(r) = self.running.take() {
                    if r.id == id {
                        r.abort();
                        tracing::info!(peer = %self.peer, "transfer aborted");
                    } else {
                        self.running = Some(r);
                    }
                }
                if self.waiting.as_ref().is_some_and(|w| w.job.id == id) {
                    self.waiting = None;
                    self.passive = None;
                }
            }
            ServerEvent::Reinitialized => {
                // REIN (RFC 959 4.1.1): the user is gone; a listener opened
                // for them must not serve the next one.
                self.writable = false;
                self.passive = None;
                tracing::info!(peer = %self.peer, "reinitialized");
            }
            // Closed (QUIT): the loop sees is_closed() after the flush.
            _ => {}
        }
        Ok(())
    }

    fn request(&self, req: &Request) -> Outcome {
        let tree = &self.shared.tree;
        let ro = !self.writable;
        let path = |p: &[u8]| vpath(p).map(str::to_owned);
        let done = |r: io::Result<()>| r.map_or_else(|e| outcome(&e), |()| Outcome::Ok);
        match req {
            Request::ChangeDir(p) => match path(p).map(|p| tree.resolve(&p)) {
                Some(Ok(real)) if real.is_dir() => Outcome::Ok,
                Some(Ok(_)) => Outcome::Failed(550, b"Not a directory".to_vec()),
                Some(Err(e)) => outcome(&e),
                None => Outcome::NotFound,
            },
            Request::MakeDir(_)
            | Request::RemoveDir(_)
            | Request::Delete(_)
            | Request::RenameFrom(_)
            | Request::Rename { .. }
            | Request::SetModTime { .. }
                if ro =>
            {
                Outcome::Denied
            }
            Request::MakeDir(p) => path(p).map_or(Outcome::NotFound, |p| done(tree.mkdir(&p))),
            Request::RemoveDir(p) => path(p).map_or(Outcome::NotFound, |p| done(tree.rmdir(&p))),
            Request::Delete(p) => path(p).map_or(Outcome::NotFound, |p| done(tree.delete(&p))),
            Request::RenameFrom(p) => match path(p).map(|p| tree.stat(&p)) {
                Some(Ok(_)) if p.as_ref() != b"/" => Outcome::Ok,
                Some(Ok(_)) => Outcome::Denied,
                Some(Err(e)) => outcome(&e),
                None => Outcome::NotFound,
            },
            Request::Rename { from, to } => match (path(from), path(to)) {
                (Some(f), Some(t)) => done(tree.rename(&f, &t)),
                _ => Outcome::NotFound,
            },
            Request::Size { path: p, ascii } => {
                // RFC 3659 4: the octets RETR would send in the current
                // TYPE, so a symlink is followed as RETR follows it.
                let size = path(p).map(|p| {
                    if *ascii {
                        ascii_offsets(tree, &p, u64::MAX).map(|(_, sent)| sent)
                    } else {
                        tree.open_read(&p, 0).map(|(_, len)| len)
                    }
                });
                match size {
                    Some(Ok(n)) => Outcome::Size(n),
                    Some(Err(e)) if e.kind() == io::ErrorKind::InvalidInput => {
                        Outcome::Failed(550, b"Not a plain file".to_vec())
                    }
                    Some(Err(e)) => outcome(&e),
                    None => Outcome::NotFound,
                }
            }
            Request::ModTime(p) => match path(p).map(|p| tree.stat(&p)) {
                Some(Ok(i)) => {
                    let secs = i
                        .modified
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
                    match ftp_proto::Timestamp::from_unix_seconds(secs)
                        .filter(ftp_proto::Timestamp::fits_time_val)
                    {
                        Some(t) => Outcome::Time(t),
                        None => Outcome::Failed(550, b"Time out of range".to_vec()),
                    }
                }
                Some(Err(e)) => outcome(&e),
                None => Outcome::NotFound,
            },
            Request::SetModTime { path: p, time } => {
                let Some(p) = path(p) else {
                    return Outcome::NotFound;
                };
                let secs = time.unix_seconds();
                let when = if secs >= 0 {
                    std::time::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
                } else {
                    std::time::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
                };
                done(tree.set_modified(&p, when))
            }
            Request::Mlst { path: p, facts } => match path(p).map(|s| tree.stat(&s)) {
                Some(Ok(i)) => match listing::mlsx_line(&i, p, *facts, self.writable) {
                    Some(line) => Outcome::Lines(vec![line]),
                    None => Outcome::Failed(550, b"Name cannot be listed".to_vec()),
                },
                Some(Err(e)) => outcome(&e),
                None => Outcome::NotFound,
            },
            Request::Site(_) => Outcome::Failed(504, b"No SITE commands here".to_vec()),
            Request::Host(_) => Outcome::Ok,
            _ => Outcome::Failed(502, b"Not implemented".to_vec()),
        }
    }

    /// Answers STAT with a path (RFC 959 4.1.3: a listing as LIST gives
    /// it, over the control connection): the multi-line 213 goes out a
    /// chunk at a time as the directory is read in name order, each chunk
    /// written before the next is made, so memory stays bounded at any
    /// directory size. A client that stops reading is dropped after the
    /// idle timeout, as for any reply.
    async fn stat(&mut self, p: &[u8], conn: &mut Conn) -> io::Result<()> {
        let shared = Arc::clone(&self.shared);
        let entries = match vpath(p)
            .map(|p| tokio::task::block_in_place(|| shared.tree.sorted_entries(p, listing::SORT_BUDGET)))
        {
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                let _ = self.session.complete(outcome(&e));
                return Ok(());
            }
            None => {
                let _ = self.session.complete(Outcome::NotFound);
                return Ok(());
            }
        };
        let mut list = listing::Listing::new(entries, listing::Format::Unix, self.writable);
        let mut chunk = Vec::new();
        loop {
            chunk.clear();
            let more = match tokio::task::block_in_place(|| list.fill(&mut chunk)) {
                Ok(more) => more,
                Err(e) => {
                    tracing::info!(peer = %self.peer, error = %e, "STAT listing cut short");
                    let _ = self.session.complete(outcome(&e));
                    return Ok(());
                }
            };
            let lines: Vec<&[u8]> = chunk
                .split(|&b| b == b'\n')
                .filter_map(|l| l.strip_suffix(b"\r"))
                .collect();
            if let Err(e) = self.session.complete_part(&lines) {
                tracing::error!(error = %e, "STAT answer refused");
                return Ok(());
            }
            if !more {
                if let Err(e) = self.session.complete(Outcome::Lines(Vec::new())) {
                    tracing::error!(error = %e, "STAT answer refused");
                }
                return Ok(());
            }
            let idle = self.idle();
            conn.flush_session_within(&mut self.session, idle).await?;
        }
    }

    /// Prepares what a transfer moves, before any data connection: a missing
    /// file or a read-only user gets 550 at once. For STOU it also tells the
    /// session the name picked, for the "150 FILE: name" of RFC 1123 4.1.2.9.
    fn payload(&mut self, t: &Transfer) -> Result<Payload, DataFailure> {
        let shared = Arc::clone(&self.shared);
        let tree = &shared.tree;
        let path = t.path.as_deref().map(vpath);
        let path = match path {
            Some(Some(p)) => Some(p.to_owned()),
            Some(None) => return Err(DataFailure::Unavailable),
            None => None,
        };
        let writing = matches!(
            t.kind,
            TransferKind::Store | TransferKind::StoreUnique | TransferKind::Append
        );
        if writing && !self.writable {
            return Err(DataFailure::Unavailable);
        }
        let fail = |e: io::Error| {
            tracing::debug!(error = %e, "transfer refused");
            DataFailure::Unavailable
        };
        match t.kind {
            TransferKind::Retrieve => {
                let p = path.ok_or(DataFailure::Unavailable)?;
                let offset = file_offset(tree, &p, t)?;
                let (f, _) = tree.open_read(&p, offset).map_err(fail)?;
                Ok(Payload::File(f))
            }
            TransferKind::Store | TransferKind::Append => {
                let p = path.ok_or(DataFailure::Unavailable)?;
                let keep = if t.kind == TransferKind::Append {
                    u64::MAX
                } else {
                    file_offset(tree, &p, t)?
                };
                Ok(Payload::Upload(tree.begin_upload(&p, keep).map_err(fail)?))
            }
            TransferKind::StoreUnique => {
                let cwd = vpath(self.session.cwd())
                    .ok_or(DataFailure::Unavailable)?
                    .to_owned();
                let hint = path
                    .as_deref()
                    .and_then(|p| p.rsplit('/').next())
                    .unwrap_or("upload")
                    .to_owned();
                let (name, upload) = tree.begin_unique_upload(&cwd, &hint).map_err(fail)?;
                let _ = self.session.data_unique_name(t.id, name.as_bytes());
                Ok(Payload::Upload(upload))
            }
            TransferKind::List | TransferKind::NameList | TransferKind::MachineList => {
                let p = path.unwrap_or_else(|| "/".to_owned());
                // Read from the directory as it is sent, a chunk at a time,
                // in name order at any size.
                let entries = tree.sorted_entries(&p, listing::SORT_BUDGET).map_err(fail)?;
                let format = match t.kind {
                    TransferKind::List => listing::Format::Unix,
                    TransferKind::NameList => listing::Format::Names,
                    _ => listing::Format::Machine(t.mlst_facts),
                };
                Ok(Payload::Listing(listing::Listing::new(
                    entries,
                    format,
                    self.writable,
                )))
            }
        }
    }

    async fn open(&mut self, mode: DataMode, t: Transfer) {
        let id = t.id;
        let payload = match tokio::task::block_in_place(|| self.payload(&t)) {
            Ok(p) => p,
            Err(why) => {
                self.passive = None;
                let _ = self.session.data_failed(id, why);
                return;
            }
        };
        let tls = if t.protected {
            match &self.shared.data_acceptor {
                Some(a) => Some(DataTls {
                    acceptor: a.clone(),
                    token: self.token.clone(),
                    require_reuse: self.shared.require_tls_reuse,
                    accept_eof: self.shared.accept_tls_upload_eof,
                }),
                None => {
                    let _ = self.session.data_failed(id, DataFailure::Connect);
                    return;
                }
            }
        } else {
            None
        };
        // TYPE A applies to files; listings are already CRLF text.
        let ascii = t.ascii
            && matches!(
                t.kind,
                TransferKind::Retrieve
                    | TransferKind::Store
                    | TransferKind::Append
                    | TransferKind::StoreUnique
            );
        let job = Job {
            id,
            payload,
            ascii,
            tls,
            timeout: self.shared.transfer_timeout,
            aborted: Arc::new(AtomicBool::new(false)),
        };
        match mode {
            DataMode::Passive | DataMode::ExtendedPassive => {
                if self.passive.is_none() {
                    let _ = self.session.data_failed(id, DataFailure::Connect);
                    return;
                }
                self.waiting = Some(Waiting {
                    job,
                    deadline: Instant::now().checked_add(self.shared.transfer_timeout),
                });
            }
            DataMode::Active(dst) | DataMode::ExtendedActive(dst) => {
                let tx = self.tx.clone();
                let aborted = job.aborted.clone();
                let (ip, port, wait) = (
                    self.local.ip(),
                    self.shared.active_port,
                    self.shared.transfer_timeout,
                );
                let h = tokio::spawn(async move {
                    match data::connect_active(dst, ip, port, wait).await {
                        Ok(tcp) => {
                            let _ = tx.send(DataMsg::Connected(id));
                            data::run(job, tcp, tx).await;
                        }
                        Err(e) => {
                            tracing::info!(%dst, error = %e, "active data connection failed");
                            let _ = tx.send(DataMsg::Done(id, Err(DataFailure::Connect)));
                        }
                    }
                });
                self.running = Some(Running { id, task: h, aborted });
            }
        }
    }

    fn on_accept(&mut self, acc: io::Result<(TcpStream, SocketAddr)>) {
        let (tcp, from) = match acc {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(error = %e, "passive accept");
                return;
            }
        };
        if !self.session.accept_data_peer(from) {
            // PASV theft: drop the stranger, keep waiting for the real client.
            tracing::warn!(peer = %self.peer, %from, "data connection from a foreign address refused");
            drop(tcp);
            return;
        }
        let Some(w) = self.waiting.take() else { return };
        self.passive = None;
        let id = w.job.id;
        let _ = self.session.data_connected(id);
        let tx = self.tx.clone();
        let aborted = w.job.aborted.clone();
        self.running = Some(Running {
            id,
            task: tokio::spawn(data::run(w.job, tcp, tx)),
            aborted,
        });
    }

    fn on_data(&mut self, msg: DataMsg) {
        match msg {
            DataMsg::Connected(id) => {
                let _ = self.session.data_connected(id);
            }
            DataMsg::Done(id, result) => {
                if self.running.as_ref().is_some_and(|r| r.id == id) {
                    self.running = None;
                }
                // After ABOR the session has forgotten the transfer: errors are expected.
                let _ = match result {
                    Ok(n) => self.session.data_finished(id, n),
                    Err(why) => self.session.data_failed(id, why),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3659 4.4: in TYPE A each LF counts as CRLF; a REST offset counts
    // octets of that form (5.3).
    #[test]
    fn type_a_sizes_and_restart_offsets() {
        let root = std::env::temp_dir().join(format!("ftpd-ascii-{}", std::process::id()));
        let tree = FileTree::new(&root).unwrap();
        std::fs::write(root.join("f.txt"), b"ab\ncd\n\nx").unwrap();
        // 8 octets stored, 3 LF: 11 octets in TYPE A.
        assert_eq!(ascii_offsets(&tree, "/f.txt", u64::MAX).unwrap(), (Some(8), 11));
        for (sent, file) in [(0, 0), (2, 2), (4, 3), (5, 4), (8, 6), (10, 7), (11, 8)] {
            assert_eq!(
                ascii_offsets(&tree, "/f.txt", sent).unwrap().0,
                Some(file),
                "offset {sent}"
            );
        }
        // Between the CR and the LF of a line end.
        for sent in [3, 7, 9] {
            assert_eq!(
                ascii_offsets(&tree, "/f.txt", sent).unwrap().0,
                None,
                "offset {sent}"
            );
        }
        // Past the end: the end.
        assert_eq!(ascii_offsets(&tree, "/f.txt", 100).unwrap().0, Some(8));
        let _ = std::fs::remove_dir_all(&root);
    }
}
