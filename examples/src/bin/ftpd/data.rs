//! Data connections: getting one (passive listener, active connect from the
//! source port), TLS on it with the control session's resumption check, and
//! moving the bytes (file, listing, upload) with TYPE A conversion and a
//! per-read/per-write timeout.
//!
//! Binary transfers on plain (non-TLS) connections never pass through user
//! space: RETR is sendfile(2) from the file into the socket, STOR is splice(2)
//! from the socket into a pipe and from the pipe into the file. Both run in a
//! blocking thread on the socket switched to blocking mode (the stall timeout
//! becomes SO_SNDTIMEO / SO_RCVTIMEO), so the kernel sleeps until the socket
//! is ready instead of a readiness event going through the runtime for every
//! few hundred KiB, and a slow disk never stalls a runtime worker. TLS and
//! TYPE A go through a buffer in the task, as they must.

use crate::listing::{LISTING_CHUNK, Listing};
use bytes::BytesMut;
use examples::ftpfs::Upload;
use examples::net::Conn;
use ftp_proto::server::{DataFailure, TransferId};
use ftp_proto::{AsciiDecoder, AsciiEncoder};
use rustls::HandshakeKind;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::ops::RangeInclusive;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

/// Read and write chunk: large enough for loopback gigabytes.
const CHUNK: usize = 256 * 1024;

/// Most bytes one sendfile(2) call may move (it stops earlier when the
/// socket buffer is full).
const SENDFILE_MAX: usize = 8 * 1024 * 1024;

/// Pipe capacity asked for on the STOR splice path (the default 64 KiB would
/// mean many more system calls; the kernel may grant less).
const PIPE_SIZE: usize = 1024 * 1024;

/// What the control loop hears from a transfer task.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DataMsg {
    /// Active mode: the TCP connection is up (send 150 now, before any TLS
    /// handshake, as clients wait for it).
    Connected(TransferId),
    /// Finished: bytes moved, or why not.
    Done(TransferId, Result<u64, DataFailure>),
}

/// What a transfer moves.
#[derive(Debug)]
pub(crate) enum Payload {
    /// RETR: the file, positioned at the REST offset.
    File(File),
    /// LIST/NLST/MLSD: the listing, formatted and sent a chunk at a time.
    Listing(Listing),
    /// STOR/APPE/STOU: the upload under its temporary name.
    Upload(Upload),
}

/// TLS on the data connection.
#[derive(Clone)]
pub(crate) struct DataTls {
    pub(crate) acceptor: TlsAcceptor,
    /// The control connection's resumption token.
    pub(crate) token: Vec<u8>,
    /// Refuse a data connection that did not resume the control session.
    pub(crate) require_reuse: bool,
    /// Take an upload that ends without close_notify as complete
    /// (`--accept-tls-upload-eof`); otherwise it fails (426).
    pub(crate) accept_eof: bool,
}

/// One transfer, ready to run once the connection exists.
pub(crate) struct Job {
    pub(crate) id: TransferId,
    pub(crate) payload: Payload,
    pub(crate) ascii: bool,
    pub(crate) tls: Option<DataTls>,
    pub(crate) timeout: Duration,
    /// Set by the control loop on ABOR before the task is cancelled: an
    /// upload whose connection closes after that is never committed (the
    /// client's close may race the cancellation).
    pub(crate) aborted: Arc<AtomicBool>,
}

/// Opens a passive listener on `ip` with a port from `range` (0..=0: any port).
/// Ports are tried from a varying start so parallel sessions spread out.
pub(crate) async fn passive_listener(
    ip: std::net::IpAddr,
    range: &RangeInclusive<u16>,
) -> io::Result<TcpListener> {
    if *range.start() == 0 {
        return TcpListener::bind(SocketAddr::new(ip, 0)).await;
    }
    let span = u32::from(range.end() - range.start()) + 1;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for i in 0..span {
        let off = (seed.wrapping_add(i)) % span;
        let port = range.start() + u16::try_from(off).unwrap_or(0);
        if let Ok(l) = TcpListener::bind(SocketAddr::new(ip, port)).await {
            return Ok(l);
        }
    }
    Err(io::Error::new(io::ErrorKind::AddrInUse, "no free passive port"))
}

/// Active mode: connects to `dst` from `local_ip:src_port` (the port-20 rule;
/// 0 means any), falling back to any port if that one cannot be used.
pub(crate) async fn connect_active(
    dst: SocketAddr,
    local_ip: std::net::IpAddr,
    src_port: u16,
    wait: Duration,
) -> io::Result<TcpStream> {
    let socket = || {
        if dst.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
    };
    if src_port != 0 {
        let s = socket()?;
        s.set_reuseaddr(true)?;
        if s.bind(SocketAddr::new(local_ip, src_port)).is_ok() {
            match timeout(wait, s.connect(dst)).await {
                Ok(Ok(c)) => return Ok(c),
                Ok(Err(e)) => {
                    tracing::debug!(%dst, error = %e, "active connect from port {src_port} failed, retrying from any port");
                }
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "active connect timed out",
                    ));
                }
            }
        }
    }
    let s = socket()?;
    s.bind(SocketAddr::new(local_ip, 0))?;
    timeout(wait, s.connect(dst))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "active connect timed out"))?
}

/// Classifies an error of a zero-copy call, which can come from either side:
/// the connection (lost) or the file (local or out of space).
fn zero_copy_failure(e: &io::Error) -> DataFailure {
    use io::ErrorKind as K;
    match e.kind() {
        // WouldBlock: SO_SNDTIMEO / SO_RCVTIMEO expired.
        K::BrokenPipe
        | K::ConnectionReset
        | K::ConnectionAborted
        | K::NotConnected
        | K::TimedOut
        | K::WouldBlock => {
            tracing::debug!(error = %e, "data connection lost");
            DataFailure::Lost
        }
        _ => {
            tracing::info!(error = %e, "zero-copy transfer failed");
            storage_failure(e)
        }
    }
}

fn storage_failure(e: &io::Error) -> DataFailure {
    if e.raw_os_error() == Some(28) || e.kind() == io::ErrorKind::StorageFull {
        DataFailure::StorageExceeded
    } else {
        DataFailure::Local
    }
}

async fn with_timeout<T>(wait: Duration, f: impl Future<Output = io::Result<T>>) -> Result<T, DataFailure> {
    match timeout(wait, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "data connection lost");
            Err(DataFailure::Lost)
        }
        Err(_) => {
            tracing::info!("data connection timed out");
            Err(DataFailure::Lost)
        }
    }
}

/// Runs a transfer on a connected stream and reports the outcome.
pub(crate) async fn run(job: Job, tcp: TcpStream, tx: UnboundedSender<DataMsg>) {
    let id = job.id;
    let result = transfer(job, tcp).await;
    if let Err(why) = result {
        tracing::info!(?why, "transfer failed");
    }
    let _ = tx.send(DataMsg::Done(id, result));
}

async fn transfer(mut job: Job, tcp: TcpStream) -> Result<u64, DataFailure> {
    let _ = tcp.set_nodelay(true);
    if job.tls.is_none() && !job.ascii {
        match job.payload {
            Payload::File(f) => {
                return in_thread(tcp, job.timeout, job.aborted, move |s| sendfile_all(s, &f)).await;
            }
            Payload::Upload(up) => {
                return in_thread(tcp, job.timeout, job.aborted, move |s| splice_all(s, up)).await;
            }
            p @ Payload::Listing(_) => job.payload = p,
        }
    }
    let mut conn = match &job.tls {
        None => Conn::Plain(tcp),
        Some(t) => {
            let token = t.token.clone();
            let tls = with_timeout(job.timeout, async {
                t.acceptor
                    .accept_with(tcp, |c| c.set_resumption_data(&token))
                    .await
            })
            .await
            .map_err(|_| DataFailure::TlsFailed)?;
            let (_, c) = tls.get_ref();
            let resumed = c.handshake_kind() == Some(HandshakeKind::Resumed)
                && c.received_resumption_data() == Some(&t.token[..]);
            tracing::debug!(resumed, "data connection TLS up");
            if t.require_reuse && !resumed {
                tracing::warn!("data connection did not reuse the control connection's TLS session: refused");
                return Err(DataFailure::TlsNotResumed);
            }
            Conn::ServerTls(Box::new(tls))
        }
    };
    let wait = job.timeout;
    let ascii = job.ascii;
    let accept_eof = job.tls.as_ref().is_some_and(|t| t.accept_eof);
    let moved = match job.payload {
        Payload::Listing(mut l) => send_listing(&mut conn, &mut l, wait).await?,
        Payload::File(mut f) => send_file(&mut conn, &mut f, ascii, wait).await?,
        Payload::Upload(mut up) => {
            let n = receive(&mut conn, &mut up, ascii, accept_eof, wait).await?;
            if job.aborted.load(Ordering::SeqCst) {
                return Err(DataFailure::Lost);
            }
            tokio::task::block_in_place(|| up.commit()).map_err(|e| storage_failure(&e))?;
            // The peer has closed its side already; a failing close here
            // changes nothing about the upload.
            let _ = timeout(wait, conn.shutdown()).await;
            return Ok(n);
        }
    };
    with_timeout(wait, async {
        conn.flush().await?;
        conn.shutdown().await
    })
    .await?;
    Ok(moved)
}

/// The socket of a zero-copy transfer, shared by the thread that moves the
/// bytes and the task that waits for it.
struct DataSocket {
    sock: std::net::TcpStream,
    /// The job's abort flag: set before the socket is shut down on ABOR, so
    /// the EOF the thread then reads is not taken for the end of an upload.
    aborted: Arc<AtomicBool>,
}

/// Aborts a zero-copy transfer when the task's future is dropped before the
/// thread finished (ABOR, session end): the blocked sendfile/splice call
/// returns at once and the thread ends without committing anything.
struct AbortOnDrop(Option<Arc<DataSocket>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(d) = self.0.take() {
            d.aborted.store(true, Ordering::SeqCst);
            let _ = d.sock.shutdown(Shutdown::Both);
        }
    }
}

/// Runs `work` on the socket in a blocking thread (see the module comment).
async fn in_thread<W>(
    tcp: TcpStream,
    wait: Duration,
    aborted: Arc<AtomicBool>,
    work: W,
) -> Result<u64, DataFailure>
where
    W: FnOnce(&DataSocket) -> Result<u64, DataFailure> + Send + 'static,
{
    let setup = |tcp: TcpStream| -> io::Result<std::net::TcpStream> {
        let s = tcp.into_std()?;
        s.set_nonblocking(false)?;
        s.set_write_timeout(Some(wait))?;
        s.set_read_timeout(Some(wait))?;
        Ok(s)
    };
    let sock = setup(tcp).map_err(|e| {
        tracing::warn!(error = %e, "data socket setup");
        DataFailure::Local
    })?;
    let data = Arc::new(DataSocket { sock, aborted });
    let mut guard = AbortOnDrop(Some(data.clone()));
    let d = data.clone();
    let result = tokio::task::spawn_blocking(move || work(&d))
        .await
        .unwrap_or(Err(DataFailure::Local));
    guard.0 = None;
    if result.is_ok() {
        // FIN after the last byte; the close that follows cannot lose data.
        let _ = data.sock.shutdown(Shutdown::Write);
    }
    result
}

/// RETR, binary, no TLS: sendfile(2) from the file's current position (the
/// REST offset) to its end. Blocking thread only.
fn sendfile_all(data: &DataSocket, f: &File) -> Result<u64, DataFailure> {
    let mut total = 0u64;
    loop {
        match rustix::fs::sendfile(&data.sock, f, None, SENDFILE_MAX) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(zero_copy_failure(&e.into())),
        }
    }
}

/// STOR/APPE/STOU, binary, no TLS: splice(2) from the socket into a pipe,
/// then from the pipe into the file, until the peer closes; then commits the
/// upload (fsync per the tree's policy, rename). Blocking thread only.
fn splice_all(data: &DataSocket, mut up: Upload) -> Result<u64, DataFailure> {
    use rustix::pipe::SpliceFlags;
    let (rd, wr) = rustix::pipe::pipe().map_err(|e| {
        tracing::warn!(error = %e, "pipe for splice");
        DataFailure::Local
    })?;
    let cap = rustix::pipe::fcntl_setpipe_size(&wr, PIPE_SIZE)
        .or_else(|_| rustix::pipe::fcntl_getpipe_size(&wr))
        .unwrap_or(64 * 1024);
    let mut total = 0u64;
    loop {
        let n = match rustix::pipe::splice(&data.sock, None, &wr, None, cap, SpliceFlags::MOVE) {
            Ok(0) => break,
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(zero_copy_failure(&e.into())),
        };
        let mut left = n;
        while left > 0 {
            match up.splice_from(rd.as_fd(), left) {
                Ok(0) => return Err(DataFailure::Local),
                Ok(m) => left -= m,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(zero_copy_failure(&e)),
            }
        }
        total += n as u64;
    }
    if data.aborted.load(Ordering::SeqCst) {
        // Dropping the upload removes the temporary file.
        return Err(DataFailure::Lost);
    }
    up.commit().map_err(|e| storage_failure(&e))?;
    Ok(total)
}

/// LIST/NLST/MLSD: formats and sends the listing [`LISTING_CHUNK`] octets
/// at a time, reading the directory as it goes.
async fn send_listing(conn: &mut Conn, l: &mut Listing, wait: Duration) -> Result<u64, DataFailure> {
    let mut buf = Vec::with_capacity(LISTING_CHUNK + 4096);
    let mut total = 0u64;
    loop {
        buf.clear();
        let more = tokio::task::block_in_place(|| l.fill(&mut buf)).map_err(|e| {
            tracing::warn!(error = %e, "reading a directory for a listing");
            DataFailure::Local
        })?;
        with_timeout(wait, conn.write_all(&buf)).await?;
        total += buf.len() as u64;
        if !more {
            return Ok(total);
        }
    }
}

async fn send_file(conn: &mut Conn, f: &mut File, ascii: bool, wait: Duration) -> Result<u64, DataFailure> {
    let mut buf = vec![0u8; CHUNK];
    let mut wire = BytesMut::new();
    let mut enc = AsciiEncoder::new();
    let mut total = 0u64;
    loop {
        let n = tokio::task::block_in_place(|| f.read(&mut buf)).map_err(|_| DataFailure::Local)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
        if ascii {
            wire.clear();
            enc.encode(&buf[..n], &mut wire);
            with_timeout(wait, conn.write_all(&wire)).await?;
        } else {
            with_timeout(wait, conn.write_all(&buf[..n])).await?;
        }
    }
}

async fn receive(
    conn: &mut Conn,
    up: &mut Upload,
    ascii: bool,
    accept_eof: bool,
    wait: Duration,
) -> Result<u64, DataFailure> {
    let mut buf = vec![0u8; CHUNK];
    let mut local = BytesMut::new();
    let mut dec = AsciiDecoder::new();
    let mut total = 0u64;
    loop {
        // On TLS only a close_notify ends the upload (Ok(0)): a connection
        // that closes without one (UnexpectedEof from rustls) may have been
        // cut by an attacker, so the upload fails with 426 and the partial
        // file is dropped (RFC 4217 12.6 "TLSshutdown()"; RFC 8446 6.1; as
        // vsftpd's strict_ssl_read_eof=YES), unless `accept_eof` was asked
        // for. A plain connection ends at EOF.
        let read = async {
            match conn.read(&mut buf).await {
                Err(e) if accept_eof && e.kind() == io::ErrorKind::UnexpectedEof => {
                    tracing::info!("protected upload ended without close_notify: accepted as asked");
                    Ok(0)
                }
                r => r,
            }
        };
        let n = with_timeout(wait, read).await?;
        if n == 0 {
            if ascii {
                local.clear();
                dec.finish(&mut local);
                tokio::task::block_in_place(|| up.write_all(&local)).map_err(|e| storage_failure(&e))?;
            }
            return Ok(total);
        }
        total += n as u64;
        let data: &[u8] = if ascii {
            local.clear();
            dec.decode(&buf[..n], &mut local);
            &local
        } else {
            &buf[..n]
        };
        tokio::task::block_in_place(|| up.write_all(data)).map_err(|e| storage_failure(&e))?;
    }
}
