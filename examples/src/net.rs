//! The driver side of the sans-IO contract: a connection that can switch to
//! TLS in the middle (STARTTLS, STLS, AUTH TLS), and the read / write / timer
//! plumbing that moves bytes between it and any [`proto_core::Session`].
//!
//! A server loop built on it is the same for every protocol:
//!
//! ```text
//! loop {
//!     while let Some(ev) = session.poll_event()? { application logic }
//!     conn.flush_session(&mut session).await?;
//!     match conn.read_into(&mut session, clock).await? { Read::Data | Read::Timeout => {}, Read::Eof => break }
//! }
//! conn.shutdown().await?;   // with TLS, sends close_notify
//! ```

use proto_core::Session;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

/// A TCP connection, plain or with TLS on top.
#[derive(Debug)]
pub enum Conn {
    /// No TLS (yet).
    Plain(TcpStream),
    /// TLS, server side.
    ServerTls(Box<server::TlsStream<TcpStream>>),
    /// TLS, client side.
    ClientTls(Box<client::TlsStream<TcpStream>>),
    /// Transient state while a handshake owns the stream; never observable
    /// after a method returns.
    Upgrading,
}

/// What one read produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Bytes were handed to the session.
    Data(usize),
    /// The session's deadline passed; `handle_timeout` was called.
    Timeout,
    /// The peer closed; `handle_eof` was called.
    Eof,
}

impl Conn {
    /// True once TLS is on.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        matches!(self, Conn::ServerTls(_) | Conn::ClientTls(_))
    }

    /// The peer's end-entity certificate (DER) once TLS is on and the peer
    /// presented one; a resumed session gives the certificate of the
    /// session it resumes.
    #[must_use]
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        let certs = match self {
            Conn::ServerTls(s) => s.get_ref().1.peer_certificates(),
            Conn::ClientTls(s) => s.get_ref().1.peer_certificates(),
            Conn::Plain(_) | Conn::Upgrading => None,
        };
        certs?.first().map(AsRef::as_ref)
    }

    /// The underlying TCP stream (for addresses).
    ///
    /// # Errors
    ///
    /// Only during an upgrade (never seen by callers).
    pub fn tcp(&self) -> io::Result<&TcpStream> {
        match self {
            Conn::Plain(s) => Ok(s),
            Conn::ServerTls(s) => Ok(s.get_ref().0),
            Conn::ClientTls(s) => Ok(s.get_ref().0),
            Conn::Upgrading => Err(io::Error::other("connection is being upgraded")),
        }
    }

    /// Runs the server side of a TLS handshake on a plain connection
    /// (implicit TLS at accept time, or after STARTTLS/STLS/AUTH TLS).
    ///
    /// # Errors
    ///
    /// The handshake failing, or TLS already being on.
    pub async fn start_server_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        let Conn::Plain(tcp) = std::mem::replace(self, Conn::Upgrading) else {
            return Err(io::Error::other("TLS is already on"));
        };
        let tls = acceptor.accept(tcp).await?;
        *self = Conn::ServerTls(Box::new(tls));
        Ok(())
    }

    /// Runs the client side of a TLS handshake, verifying `host`.
    ///
    /// # Errors
    ///
    /// The handshake or certificate verification failing, or TLS already on.
    pub async fn start_client_tls(&mut self, connector: &TlsConnector, host: &str) -> io::Result<()> {
        let name = crate::tls::server_name(host)?;
        let Conn::Plain(tcp) = std::mem::replace(self, Conn::Upgrading) else {
            return Err(io::Error::other("TLS is already on"));
        };
        let tls = connector.connect(name, tcp).await?;
        *self = Conn::ClientTls(Box::new(tls));
        Ok(())
    }

    /// Writes everything the session has to send.
    ///
    /// # Errors
    ///
    /// Write errors from the socket.
    pub async fn flush_session<S: Session + ?Sized>(&mut self, session: &mut S) -> io::Result<()> {
        while let Some(out) = session.poll_transmit() {
            let n = out.len();
            self.write_all(out).await?;
            session.advance_transmit(n);
        }
        self.flush().await
    }

    /// [`flush_session`](Self::flush_session) bounded by `limit`: a server's
    /// guard against a peer that sends commands but never reads the replies.
    /// Once the socket buffers are full the write would otherwise wait for
    /// ever, and the session's idle timer (which runs only while reading)
    /// would never fire, so the connection would hold its slot for good.
    ///
    /// # Errors
    ///
    /// As [`flush_session`](Self::flush_session), and
    /// [`io::ErrorKind::TimedOut`] when the replies could not be written
    /// within `limit`.
    pub async fn flush_session_within<S: Session + ?Sized>(
        &mut self,
        session: &mut S,
        limit: std::time::Duration,
    ) -> io::Result<()> {
        tokio::time::timeout(limit, self.flush_session(session))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the peer is not reading"))?
    }

    /// Waits for input, the session's deadline or the end of the stream, and
    /// hands what happened to the session. `clock` gives the current time (a
    /// real clock in programs, so timers stay outside the protocol crates).
    ///
    /// # Errors
    ///
    /// Read errors from the socket.
    pub async fn read_into<S: Session + ?Sized>(
        &mut self,
        session: &mut S,
        buf: &mut [u8],
        clock: impl Fn() -> Instant,
    ) -> io::Result<Read> {
        let deadline = session.poll_timeout();
        let got = until(deadline, &clock, self.read(buf)).await?;
        Ok(settle(session, got, &clock, |s, n| s.handle_input(&buf[..n])))
    }
}

/// Runs `read` until the session's deadline (if any); `None` when it passed.
async fn until(
    deadline: Option<Instant>,
    clock: &impl Fn() -> Instant,
    read: impl std::future::Future<Output = io::Result<usize>>,
) -> io::Result<Option<usize>> {
    match deadline {
        Some(at) => {
            let wait = at.saturating_duration_since(clock());
            match tokio::time::timeout(wait, read).await {
                Ok(r) => r.map(Some),
                Err(_) => Ok(None),
            }
        }
        None => read.await.map(Some),
    }
}

/// Tells the session what a read gave: a timeout, the end of input, or `n`
/// bytes (handed over by `data`).
fn settle<S: Session + ?Sized>(
    session: &mut S,
    got: Option<usize>,
    clock: &impl Fn() -> Instant,
    data: impl FnOnce(&mut S, usize),
) -> Read {
    match got {
        None => {
            session.handle_timeout(clock());
            Read::Timeout
        }
        Some(0) => {
            session.handle_eof();
            Read::Eof
        }
        Some(n) => {
            data(session, n);
            Read::Data(n)
        }
    }
}

impl Conn {
    /// [`read_into`](Self::read_into) for sessions that can take over the
    /// bytes they are given (smtp-proto's `ServerSession::handle_input_buf`):
    /// the read goes into the spare room of `buf`, and the filled part is
    /// split off and handed to `take` instead of being copied, so a message
    /// body reaches the application as slices of the reads. `buf` grows back
    /// to `room` bytes of spare capacity before each read (reusing its
    /// allocation once the session has let go of the earlier bytes).
    ///
    /// # Errors
    ///
    /// Read errors from the socket.
    pub async fn read_into_owned<S: Session + ?Sized>(
        &mut self,
        session: &mut S,
        buf: &mut bytes::BytesMut,
        room: usize,
        clock: impl Fn() -> Instant,
        take: impl FnOnce(&mut S, bytes::BytesMut),
    ) -> io::Result<Read> {
        buf.clear();
        buf.reserve(room);
        let deadline = session.poll_timeout();
        let got = until(deadline, &clock, self.read_buf(buf)).await?;
        Ok(settle(session, got, &clock, |s, _| take(s, buf.split())))
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Upgrading => Poll::Ready(Err(io::Error::other("connection is being upgraded"))),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, data),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_write(cx, data),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_write(cx, data),
            Conn::Upgrading => Poll::Ready(Err(io::Error::other("connection is being upgraded"))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Upgrading => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::ServerTls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::ClientTls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Upgrading => Poll::Ready(Ok(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto_core::{Deadline, LineConfig, LineFramer, TransmitQueue};
    use std::time::Duration;
    use tokio::net::TcpListener;

    /// A tiny line protocol to exercise the driver: "UPPER x" answers "X",
    /// "TLS" answers "GO" and then needs TLS, idle for 200 ms closes.
    struct Toy {
        buf: bytes::BytesMut,
        framer: LineFramer,
        out: TransmitQueue,
        idle: Deadline,
        timed_out: bool,
        eof: bool,
    }

    enum ToyEvent {
        StartTls,
    }

    impl Session for Toy {
        type Event = ToyEvent;
        type Error = std::convert::Infallible;
        fn handle_input(&mut self, data: &[u8]) {
            self.buf.extend_from_slice(data);
            self.idle.restart(Instant::now());
        }
        fn poll_event(&mut self) -> Result<Option<ToyEvent>, Self::Error> {
            while let Some(line) = self.framer.next_line(&mut self.buf) {
                match line {
                    Ok(l) if &l[..] == b"TLS" => {
                        self.out.push(b"GO\r\n");
                        return Ok(Some(ToyEvent::StartTls));
                    }
                    Ok(l) => {
                        let up = l.strip_prefix(b"UPPER ").unwrap_or(&l).to_ascii_uppercase();
                        self.out.push(&up);
                        self.out.push(b"\r\n");
                    }
                    Err(_) => self.out.push(b"ERR\r\n"),
                }
            }
            Ok(None)
        }
        fn poll_transmit(&self) -> Option<&[u8]> {
            self.out.peek()
        }
        fn advance_transmit(&mut self, n: usize) {
            self.out.advance(n);
        }
        fn poll_timeout(&self) -> Option<Instant> {
            self.idle.at()
        }
        fn handle_timeout(&mut self, now: Instant) {
            if self.idle.expired(now) {
                self.timed_out = true;
                self.idle.stop();
                self.out.push(b"BYE idle\r\n");
            }
        }
        fn handle_eof(&mut self) {
            self.eof = true;
        }
    }

    #[tokio::test]
    async fn drives_a_session_through_starttls_and_timeout() {
        let dir = std::env::temp_dir().join(format!("net-test-{}", std::process::id()));
        let id = crate::tls::load_or_create_self_signed(&dir, &["localhost".to_owned()]).unwrap();
        let acceptor = crate::tls::acceptor(id).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut conn = Conn::Plain(tcp);
            let mut s = Toy {
                buf: bytes::BytesMut::new(),
                framer: LineFramer::new(LineConfig::with_max_len(64)),
                out: TransmitQueue::default(),
                idle: Deadline::new(Duration::from_millis(200)),
                timed_out: false,
                eof: false,
            };
            s.idle.restart(Instant::now());
            let mut buf = vec![0u8; 4096];
            loop {
                while let Some(ev) = s.poll_event().unwrap() {
                    match ev {
                        ToyEvent::StartTls => {
                            conn.flush_session(&mut s).await.unwrap();
                            // Plaintext pipelined after the command is dropped.
                            s.buf.clear();
                            conn.start_server_tls(&acceptor).await.unwrap();
                        }
                    }
                }
                conn.flush_session(&mut s).await.unwrap();
                if s.timed_out {
                    break;
                }
                if conn.read_into(&mut s, &mut buf, Instant::now).await.unwrap() == Read::Eof {
                    break;
                }
            }
            // Close cleanly: with TLS this sends close_notify.
            conn.shutdown().await.unwrap();
            (s.timed_out, s.eof, conn.is_tls())
        });

        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut c = Conn::Plain(tcp);
        c.write_all(b"UPPER abc\r\nTLS\r\n").await.unwrap();
        let mut got = [0u8; 64];
        let mut n = 0;
        while !got[..n].ends_with(b"GO\r\n") {
            n += c.read(&mut got[n..]).await.unwrap();
        }
        assert_eq!(&got[..n], b"ABC\r\nGO\r\n");
        c.start_client_tls(&crate::tls::connector(true, None).unwrap(), "localhost")
            .await
            .unwrap();
        c.write_all(b"UPPER secret\r\n").await.unwrap();
        let mut all = Vec::new();
        c.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"SECRET\r\nBYE idle\r\n");
        let (timed_out, _eof, tls) = server.await.unwrap();
        assert!(timed_out && tls);
        let _ = std::fs::remove_dir_all(dir);
    }
}
