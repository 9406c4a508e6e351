//! ftp: a command-line FTP client on ftp-proto's sans-IO `ClientSession`.
//!
//! ```text
//! ftp ftp://user:pw@host:2121 ls [PATH]
//! ftp ftp://user:pw@host:2121 get REMOTE [LOCAL] [-c]   # -c: resume with REST
//! ftp ftp://user:pw@host:2121 put LOCAL [REMOTE]
//! ftp ftp://user:pw@host:2121 mkdir|rmdir|rm PATH, mv FROM TO
//! ftp ftp://user:pw@host:2121            # interactive
//! ```
//! Passive mode with EPSV by default (PASV fallback), `--active` for
//! EPRT/PORT, `--tls` for AUTH TLS with PROT P (the data connections resume
//! the control connection's TLS session, which servers like vsftpd with
//! `require_ssl_reuse` insist on), `--ascii` to move files as text (TYPE A).
//! Without `--tls` or `--no-tls`, TLS is used where the server offers it; if
//! it then refuses to protect data connections (PBSZ or PROT P, RFC 4217 9),
//! the files go unencrypted (protection level C) with a warning on stderr.
//! With `--tls` that refusal ends the login, the error naming it.
//! A protected download or listing is complete only when the server ends
//! its data connection with a TLS close_notify (RFC 4217 12.6, RFC 8446
//! 6.1): a bare TCP close may be an attacker's truncation, so the transfer
//! fails and a fresh download's partial file is deleted (a resumed one
//! keeps what came, for the next `-c`); `--accept-tls-download-eof` takes
//! such an end as complete, for servers that never send close_notify.
//! With `--insecure` (`-k`, any certificate accepted) a data connection
//! must present the same certificate as the control connection (RFC 4217
//! 15.1.1), so no one but that server can take a transfer over.
//! Transfers show indicatif progress bars; `-v` shows the control
//! connection (commands sent, replies received; no password).

mod url;

use bytes::BytesMut;
use clap::{Parser, Subcommand};
use examples::net::Conn;
use ftp_proto::client::{ClientEvent, ClientTls, DataTarget};
use ftp_proto::server::TransferId;
use ftp_proto::{AsciiDecoder, AsciiEncoder, ClientConfig, ClientSession, OwnedReply};
use indicatif::{ProgressBar, ProgressStyle};
use proto_core::Secret;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

/// An FTP client (RFC 959, with EPSV/EPRT, REST, AUTH TLS).
#[derive(Parser, Debug)]
#[command(
    name = "ftp",
    version,
    after_help = "Without a COMMAND, ftp reads commands from standard input at an `ftp>` prompt \
                  (`help` there lists them: ls, get, reget, put, cd, pwd, size, ...)."
)]
struct Args {
    /// `ftp://[user[:password]@]host[:port][/path]`; anonymous without a user.
    url: String,
    /// What to do; without one, an interactive prompt reads commands from stdin.
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Active mode: the server connects back to us (EPRT, falling back to PORT).
    #[arg(long)]
    active: bool,
    /// Never try EPSV/EPRT; use PASV/PORT only.
    #[arg(long)]
    no_extended: bool,
    /// Require AUTH TLS and PROT P (fail if the server refuses either).
    /// Without it, TLS is used when offered, and a refused PROT P leaves the
    /// data connections unencrypted, with a warning.
    #[arg(long)]
    tls: bool,
    /// Use plain FTP even when the server offers TLS.
    #[arg(long, conflicts_with = "tls")]
    no_tls: bool,
    /// Accept any server certificate (self-signed test servers). The data
    /// connections must then present the control connection's certificate.
    #[arg(long, short = 'k')]
    insecure: bool,
    /// Extra trusted CA certificates (PEM). Not with --insecure, which
    /// verifies nothing.
    #[arg(long, conflicts_with = "insecure")]
    ca_file: Option<PathBuf>,
    /// Seconds to wait for a reply or for data to move; at least 1.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// No progress bars.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Move files as text (TYPE A): CRLF on the wire, local line ends on disk.
    #[arg(long, short = 'a')]
    ascii: bool,
    /// Take a protected (PROT P) download or listing whose data connection
    /// ends without a TLS close_notify as complete. Off by default: such an
    /// end may be an attacker's cut (RFC 4217 12.6, RFC 8446 6.1), so the
    /// transfer fails. For servers that never send close_notify.
    #[arg(long)]
    accept_tls_download_eof: bool,
    /// Show every command sent (`--> `, the PASS and ACCT arguments hidden)
    /// and every reply line received (`<-- `) on stderr (RFC 1123 4.1.4.3).
    #[arg(long, short = 'v')]
    verbose: bool,
}

#[derive(Subcommand, Debug, Clone)]
enum Cmd {
    /// List a directory (LIST; MLSD with --machine; names only with --names).
    Ls {
        path: Option<String>,
        /// MLSD (RFC 3659 7): one `facts; name` line per entry.
        #[arg(long)]
        machine: bool,
        /// NLST: names only.
        #[arg(long, conflicts_with = "machine")]
        names: bool,
        /// Parse each LIST or MLSD line with ftp-proto's listing parsers and
        /// print `KIND SIZE NAME` (`-` for an unknown size; `? LINE` for a
        /// line no parser understood).
        #[arg(long, conflicts_with = "names")]
        parse: bool,
    },
    /// Download REMOTE to LOCAL (default: its file name).
    Get {
        remote: Option<String>,
        local: Option<PathBuf>,
        /// Continue a partial LOCAL file (REST).
        #[arg(short = 'c', long = "continue")]
        resume: bool,
    },
    /// Upload LOCAL to REMOTE (default: its file name).
    Put { local: PathBuf, remote: Option<String> },
    /// Make a directory.
    Mkdir { path: String },
    /// Remove an empty directory.
    Rmdir { path: String },
    /// Delete a file.
    Rm { path: String },
    /// Rename.
    Mv { from: String, to: String },
}

type Result<T> = std::result::Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A reply as the user sees it: the code, then the text of every line
/// (RFC 1123 4.1.4.3: a user-FTP "SHOULD display to the user the full text
/// of all error reply messages"), each further line on a line of its own;
/// empty lines are left out.
fn reply_text(r: &OwnedReply) -> String {
    let mut out = r.code.to_string();
    let mut sep = " ";
    for line in r.as_reply().lines() {
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        // Shown on the user's terminal: no escape sequences from the server.
        out.push_str(sep);
        out.push_str(&examples::escape_log_text(text));
        sep = "\n    ";
    }
    out
}

struct Client {
    conn: Conn,
    s: ClientSession,
    buf: Vec<u8>,
    host: String,
    connector: Option<TlsConnector>,
    timeout: Duration,
    quiet: bool,
    /// Files move as text (TYPE A), as last given to `set_text_mode`.
    ascii: bool,
    /// `--accept-tls-download-eof`.
    accept_tls_eof: bool,
    /// `--insecure`: no certificate is verified, so the data connections
    /// must present the control connection's (RFC 4217 15.1.1).
    pin_data_cert: bool,
    /// The control connection's certificate (DER), once TLS is on.
    control_cert: Option<Vec<u8>>,
    /// `--verbose`: the control connection shown on stderr.
    trace: Option<Trace>,
    listener: Option<TcpListener>,
}

/// `--verbose` (RFC 1123 4.1.4.3): the control connection's lines on
/// stderr, each escaped for the terminal, a password never shown.
#[derive(Debug, Default)]
struct Trace {
    /// The start of a reply line that has not ended yet.
    partial: Vec<u8>,
}

impl Trace {
    /// The longest line kept whole; a longer one is shown in pieces.
    const MAX_LINE: usize = 4096;

    fn show(prefix: &str, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        eprintln!(
            "{prefix}{}",
            examples::escape_log_text(&String::from_utf8_lossy(line))
        );
    }

    /// Command lines about to be sent (the session queues whole lines).
    fn sent(&self, out: &[u8]) {
        for line in out.split_inclusive(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let verb = line.split(|&b| b == b' ').next().unwrap_or_default();
            if verb.eq_ignore_ascii_case(b"PASS") || verb.eq_ignore_ascii_case(b"ACCT") {
                Self::show("--> ", &[verb, &b" ****"[..]].concat());
            } else {
                Self::show("--> ", line);
            }
        }
    }

    /// Bytes read from the control connection: each complete line shown.
    fn received(&mut self, mut bytes: &[u8]) {
        while let Some(i) = bytes.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&bytes[..i]);
            Self::show("<-- ", &self.partial);
            self.partial.clear();
            bytes = &bytes[i + 1..];
        }
        self.partial.extend_from_slice(bytes);
        if self.partial.len() > Self::MAX_LINE {
            Self::show("<-- ", &self.partial);
            self.partial.clear();
        }
    }
}

/// How the data of one transfer is moved.
enum DataJob {
    /// Download into a writer (file opened for append at the REST offset, or stdout).
    Down(Box<dyn std::io::Write + Send>),
    /// Upload from a file.
    Up(std::fs::File),
}

impl Client {
    async fn connect(args: &Args, u: &url::FtpUrl) -> Result<Client> {
        // Read before connecting: a bad --ca-file is reported even when the
        // server is down.
        let connector = if args.no_tls {
            None
        } else {
            Some(
                examples::tls::connector(args.insecure, args.ca_file.as_deref())
                    .map_err(|e| format!("--ca-file: {e}"))?,
            )
        };
        let addr = tokio::net::lookup_host((u.host.as_str(), u.port))
            .await
            .map_err(err)?
            .next()
            .ok_or("host has no address")?;
        let tcp = tokio::time::timeout(Duration::from_secs(args.timeout), TcpStream::connect(addr))
            .await
            .map_err(|_| "connect timed out")?
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let tls = if args.tls {
            ClientTls::Required
        } else if args.no_tls {
            ClientTls::Never
        } else {
            ClientTls::IfOffered
        };
        let config = ClientConfig {
            user: u.user.clone().unwrap_or_else(|| "anonymous".into()).into_bytes(),
            password: Secret::new(
                u.password
                    .clone()
                    .unwrap_or_else(|| "anonymous@".into())
                    .into_bytes(),
            ),
            tls,
            passive: !args.active,
            extended: !args.no_extended,
            limits: ftp_proto::Limits {
                reply_timeout: Duration::from_secs(args.timeout),
                ..ftp_proto::Limits::default()
            },
            ..ClientConfig::default()
        };
        let mut c = Client {
            conn: Conn::Plain(tcp),
            s: ClientSession::new(config, addr, Instant::now()),
            buf: vec![0; 16 * 1024],
            host: u.host.clone(),
            connector,
            timeout: Duration::from_secs(args.timeout),
            quiet: args.quiet,
            ascii: args.ascii,
            accept_tls_eof: args.accept_tls_download_eof,
            pin_data_cert: args.insecure,
            control_cert: None,
            trace: args.verbose.then(Trace::default),
            listener: None,
        };
        loop {
            match c.next_event().await? {
                ClientEvent::LoggedIn => {
                    c.s.set_text_mode(args.ascii);
                    return Ok(c);
                }
                ClientEvent::DataProtectionRefused(r) => {
                    if args.tls {
                        return Err(format!(
                            "the server refused TLS protection of data connections (PBSZ/PROT P), which --tls requires: {}",
                            reply_text(&r)
                        ));
                    }
                    // Stderr even with --quiet: the user must know the
                    // files are not encrypted.
                    eprintln!(
                        "ftp: warning: the server refused TLS protection of data connections ({}); \
                         files go unencrypted (PROT C); use --tls to refuse that",
                        reply_text(&r)
                    );
                }
                ClientEvent::LoginFailed(r) | ClientEvent::Closed(r) => {
                    return Err(format!("login failed: {}", reply_text(&r)));
                }
                ev => tracing::debug!(?ev, "during login"),
            }
        }
    }

    /// Writes what the session has to send (shown first with `--verbose`).
    async fn flush(&mut self) -> Result<()> {
        if let Some(t) = &self.trace
            && let Some(out) = self.s.poll_transmit()
        {
            t.sent(out);
        }
        self.conn.flush_session(&mut self.s).await.map_err(err)
    }

    /// Reads until the session has an event (TLS upgrades are done here).
    async fn next_event(&mut self) -> Result<ClientEvent> {
        loop {
            match self.s.poll_event().map_err(err)? {
                Some(ClientEvent::StartTls) => {
                    self.flush().await?;
                    let connector = self.connector.clone().ok_or("TLS is off")?;
                    self.conn
                        .start_client_tls(&connector, &self.host)
                        .await
                        .map_err(|e| format!("TLS: {e}"))?;
                    self.control_cert = self.conn.peer_certificate().map(<[u8]>::to_vec);
                    self.s.tls_established().map_err(err)?;
                }
                Some(ev) => return Ok(ev),
                None => {
                    self.flush().await?;
                    if self.s.is_closed() {
                        return Err("connection closed".into());
                    }
                    match self
                        .conn
                        .read_into(&mut self.s, &mut self.buf, Instant::now)
                        .await
                        .map_err(err)?
                    {
                        examples::net::Read::Eof => {
                            self.s.poll_event().map_err(err)?;
                            return Err("server closed the connection".into());
                        }
                        examples::net::Read::Data(n) => {
                            if let Some(t) = &mut self.trace {
                                t.received(&self.buf[..n]);
                            }
                        }
                        examples::net::Read::Timeout => {}
                    }
                }
            }
        }
    }

    /// Runs a simple operation started on the session; its final event.
    async fn simple(&mut self) -> Result<ClientEvent> {
        loop {
            match self.next_event().await? {
                ClientEvent::Failed { op, reply } => return Err(format!("{op:?}: {}", reply_text(&reply))),
                ev @ (ClientEvent::Done { .. }
                | ClientEvent::Pwd(_)
                | ClientEvent::Size(_)
                | ClientEvent::Modified(_)
                | ClientEvent::MlstEntry(_)
                | ClientEvent::Closed(_)) => return Ok(ev),
                ev => tracing::debug!(?ev, "ignored"),
            }
        }
    }

    async fn remote_size(&mut self, path: &str) -> Option<u64> {
        self.s.size(path.as_bytes()).ok()?;
        match self.simple().await {
            Ok(ClientEvent::Size(n)) => Some(n),
            _ => None,
        }
    }

    fn bar(&self, total: Option<u64>, start: u64, name: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let pb = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::no_length(),
        };
        let style = if total.is_some() {
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}"
        } else {
            "{msg} {spinner} {bytes} {binary_bytes_per_sec}"
        };
        if let Ok(s) = ProgressStyle::with_template(style) {
            pb.set_style(s.progress_chars("=> "));
        }
        pb.set_message(name.to_owned());
        pb.set_position(start);
        pb
    }

    /// Runs a transfer the session has started, moving the data with `job`.
    async fn transfer(&mut self, mut job: Option<DataJob>, pb: ProgressBar) -> Result<u64> {
        let mut task: Option<(TransferId, JoinHandle<io::Result<u64>>)> = None;
        // An upload starts writing only after the server's 1xx reply, as
        // ftplib and curl do: a server may not read (pyftpdlib may even drop)
        // a data connection whose bytes arrive before it has taken the command.
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let (mut go_tx, mut go_rx) = (Some(go_tx), Some(go_rx));
        let mut moved = 0;
        loop {
            while let Some(ev) = self.s.poll_event().map_err(err)? {
                match ev {
                    ClientEvent::Listen(id) => {
                        let local = self.conn.tcp().map_err(err)?.local_addr().map_err(err)?;
                        let l = TcpListener::bind(SocketAddr::new(local.ip(), 0))
                            .await
                            .map_err(err)?;
                        let addr = l.local_addr().map_err(err)?;
                        self.listener = Some(l);
                        self.s.data_listening(id, addr).map_err(err)?;
                    }
                    ClientEvent::OpenDataChannel {
                        id,
                        target,
                        ascii,
                        protected,
                        ..
                    } => {
                        let job = job.take().ok_or("a second data connection was asked for")?;
                        let tls = if protected {
                            Some(DataTls {
                                connector: self.connector.clone().ok_or("TLS is off")?,
                                host: self.host.clone(),
                                pin: if self.pin_data_cert {
                                    Some(
                                        self.control_cert
                                            .clone()
                                            .ok_or("no control connection certificate")?,
                                    )
                                } else {
                                    None
                                },
                            })
                        } else {
                            None
                        };
                        // In active mode only the server may connect back.
                        let listener = match self.listener.take() {
                            Some(l) => {
                                let server = self.conn.tcp().map_err(err)?.peer_addr().map_err(err)?;
                                Some((l, server.ip()))
                            }
                            None => None,
                        };
                        let end = DataEnd {
                            wait: self.timeout,
                            accept_tls_eof: self.accept_tls_eof,
                        };
                        task = Some((
                            id,
                            tokio::spawn(data(
                                target,
                                listener,
                                tls,
                                job,
                                ascii,
                                end,
                                pb.clone(),
                                go_rx.take(),
                            )),
                        ));
                    }
                    ClientEvent::TransferComplete { reply, .. } => {
                        pb.finish();
                        tracing::debug!(reply = %reply_text(&reply), "transfer complete");
                        return Ok(moved);
                    }
                    ClientEvent::TransferFailed { reply, .. } => {
                        pb.abandon();
                        if let Some((_, h)) = task.take() {
                            h.abort();
                        }
                        return Err(reply_text(&reply));
                    }
                    ClientEvent::Closed(r) => return Err(format!("server closed: {}", reply_text(&r))),
                    ClientEvent::TransferStarted(_) => {
                        if let Some(go) = go_tx.take() {
                            let _ = go.send(());
                        }
                    }
                    ev => tracing::debug!(?ev, "during transfer"),
                }
            }
            self.flush().await?;
            if self.s.is_closed() {
                return Err("connection closed".into());
            }
            let deadline = self.s.poll_timeout();
            tokio::select! {
                r = self.conn.read(&mut self.buf) => match r {
                    Ok(0) | Err(_) => {
                        self.s.handle_eof();
                        let _ = self.s.poll_event();
                        return Err("server closed the connection".into());
                    }
                    Ok(n) => {
                        if let Some(t) = &mut self.trace {
                            t.received(&self.buf[..n]);
                        }
                        self.s.handle_input(&self.buf[..n]);
                    }
                },
                r = join_opt(&mut task) => {
                    let id = task.take().map(|(id, _)| id);
                    match r {
                        Ok(Ok(n)) => {
                            moved = n;
                            if let Some(id) = id {
                                self.s.data_closed(id).map_err(err)?;
                            }
                        }
                        Ok(Err(e)) => {
                            pb.abandon();
                            let _ = self.s.abort();
                            let _ = self.drain_abort().await;
                            return Err(format!("data connection: {e}"));
                        }
                        Err(e) => return Err(format!("data task: {e}")),
                    }
                }
                () = sleep_opt(deadline) => self.s.handle_timeout(Instant::now()),
            }
        }
    }

    async fn drain_abort(&mut self) -> Result<()> {
        for _ in 0..8 {
            match tokio::time::timeout(self.timeout, self.next_event()).await {
                Ok(Ok(ClientEvent::Aborted(_) | ClientEvent::TransferFailed { .. })) | Err(_) => {
                    return Ok(());
                }
                Ok(Err(e)) => return Err(e),
                Ok(Ok(_)) => {}
            }
        }
        Ok(())
    }
}

async fn join_opt(
    t: &mut Option<(TransferId, JoinHandle<io::Result<u64>>)>,
) -> std::result::Result<io::Result<u64>, tokio::task::JoinError> {
    match t {
        Some((_, h)) => h.await,
        None => std::future::pending().await,
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// TLS on a data connection (PROT P).
struct DataTls {
    connector: TlsConnector,
    host: String,
    /// With `--insecure`, the certificate the data connection must present:
    /// the control connection's. RFC 4217 15.1.1 asks for the same
    /// certificate on both, or another way to cross-check them; without
    /// `--insecure` each is verified against the host name.
    pin: Option<Vec<u8>>,
}

/// How long a data connection may stall, and how a protected download may end.
#[derive(Debug, Clone, Copy)]
struct DataEnd {
    wait: Duration,
    /// `--accept-tls-download-eof`: a TCP end without close_notify counts as the end.
    accept_tls_eof: bool,
}

#[allow(clippy::too_many_arguments)] // one transfer's whole description, passed once
async fn data(
    target: DataTarget,
    listener: Option<(TcpListener, IpAddr)>,
    tls: Option<DataTls>,
    job: DataJob,
    ascii: bool,
    end: DataEnd,
    pb: ProgressBar,
    go: Option<tokio::sync::oneshot::Receiver<()>>,
) -> io::Result<u64> {
    let wait = end.wait;
    let timed = |e| io::Error::new(io::ErrorKind::TimedOut, e);
    let tcp = match target {
        DataTarget::Connect(addr) => tokio::time::timeout(wait, TcpStream::connect(addr))
            .await
            .map_err(|_| timed("data connect timed out"))??,
        DataTarget::Accept => {
            let (l, server) = listener.ok_or_else(|| io::Error::other("no listener"))?;
            // A connection from any other address is a stranger racing the
            // server for the port (the active-mode twin of PASV theft): it is
            // dropped and the wait goes on.
            let from_server = async {
                loop {
                    let (tcp, from) = l.accept().await?;
                    if from.ip().to_canonical() == server.to_canonical() {
                        return Ok::<_, io::Error>(tcp);
                    }
                    tracing::warn!(%from, %server, "data connection from a foreign address refused");
                }
            };
            tokio::time::timeout(wait, from_server)
                .await
                .map_err(|_| timed("no data connection from the server"))??
        }
    };
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::Plain(tcp);
    if let Some(t) = tls {
        // Same connector as the control connection: rustls offers the
        // control session's ticket, so the server sees a resumed session.
        conn.start_client_tls(&t.connector, &t.host).await?;
        if let Some(pin) = &t.pin
            && conn.peer_certificate() != Some(&pin[..])
        {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the data connection presented another TLS certificate than the control connection \
                 (RFC 4217 15.1.1); with --insecure they must be the same",
            ));
        }
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    let mut conv = BytesMut::new();
    match job {
        DataJob::Down(mut out) => {
            let mut dec = AsciiDecoder::new();
            loop {
                // On TLS only a close_notify ends the download (Ok(0)): a
                // connection that closes without one (UnexpectedEof from
                // rustls) may have been cut by an attacker, so the transfer
                // fails (RFC 4217 12.6 "TLSshutdown()"; RFC 8446 6.1), as
                // ftpd fails such an upload, unless the user accepts it.
                let n = match tokio::time::timeout(wait, conn.read(&mut buf)).await {
                    Err(_) => return Err(timed("data stalled")),
                    Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof && end.accept_tls_eof => {
                        tracing::info!("protected download ended without close_notify: accepted as asked");
                        0
                    }
                    Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the server closed the protected data connection without a TLS close_notify, \
                             so the data may be truncated (RFC 4217 12.6); \
                             --accept-tls-download-eof takes such an end as complete",
                        ));
                    }
                    Ok(r) => r?,
                };
                if n == 0 {
                    conv.clear();
                    dec.finish(&mut conv);
                    tokio::task::block_in_place(|| out.write_all(&conv).and_then(|()| out.flush()))?;
                    break;
                }
                total += n as u64;
                pb.inc(n as u64);
                if ascii {
                    conv.clear();
                    dec.decode(&buf[..n], &mut conv);
                    tokio::task::block_in_place(|| out.write_all(&conv))?;
                } else {
                    tokio::task::block_in_place(|| out.write_all(&buf[..n]))?;
                }
            }
        }
        DataJob::Up(mut f) => {
            if let Some(go) = go {
                tokio::time::timeout(wait, go)
                    .await
                    .map_err(|_| timed("no 1xx reply to the upload"))?
                    .map_err(|_| io::Error::other("transfer ended before it started"))?;
            }
            use std::io::Read;
            let mut enc = AsciiEncoder::new();
            loop {
                let n = tokio::task::block_in_place(|| f.read(&mut buf))?;
                if n == 0 {
                    break;
                }
                let wire: &[u8] = if ascii {
                    conv.clear();
                    enc.encode(&buf[..n], &mut conv);
                    &conv
                } else {
                    &buf[..n]
                };
                tokio::time::timeout(wait, conn.write_all(wire))
                    .await
                    .map_err(|_| timed("data stalled"))??;
                total += n as u64;
                pb.inc(n as u64);
            }
            tokio::time::timeout(wait, async {
                conn.flush().await?;
                conn.shutdown().await
            })
            .await
            .map_err(|_| timed("data close stalled"))??;
            // Read what the server still sends (TLS 1.3 session tickets, its
            // close_notify) until it closes its side: a socket closed with
            // unread data sends RST, which can destroy the tail of the upload
            // before the server has read it (seen with vsftpd over TLS).
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(wait.min(Duration::from_secs(10)), async {
                while let Ok(n) = conn.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            })
            .await;
        }
    }
    Ok(total)
}

/// Where a download resumed into the partial file `local` restarts: its
/// length, or in TYPE A the length of its transfer form, each LF counted as
/// CRLF (RFC 3659 5.3: the restart marker counts octets "in the transfer
/// representation"). 0 for a missing file.
fn restart_offset(local: &std::path::Path, ascii: bool) -> io::Result<u64> {
    let file = match std::fs::File::open(local) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    if !ascii {
        return Ok(len);
    }
    let mut lines = 0u64;
    let mut r = io::BufReader::new(file);
    loop {
        let buf = io::BufRead::fill_buf(&mut r)?;
        if buf.is_empty() {
            return Ok(len + lines);
        }
        lines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        let n = buf.len();
        io::BufRead::consume(&mut r, n);
    }
}

/// The temporary name a fresh download of `local` is written under: a
/// hidden name in the same directory, so the final rename stays on one
/// file system.
fn partial_name(local: &std::path::Path) -> PathBuf {
    let name = local.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    local.with_file_name(format!(".{name}.part-{}", std::process::id()))
}

fn base_name(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

async fn execute(c: &mut Client, cmd: Cmd, default_path: Option<&str>) -> Result<()> {
    match cmd {
        Cmd::Ls {
            path,
            machine,
            names,
            parse,
        } => {
            let path = path.or_else(|| default_path.map(str::to_owned));
            let arg = path.as_deref().map(str::as_bytes);
            if machine {
                c.s.mlsd(arg).map_err(err)?;
            } else if names {
                c.s.nlst(arg).map_err(err)?;
            } else {
                c.s.list(arg).map_err(err)?;
            }
            // Printed as it arrives: a listing has no size limit.
            let sink: Box<dyn io::Write + Send> = if parse {
                Box::new(ParsedListing::new(machine))
            } else {
                Box::new(PrintableWriter {
                    out: std::io::stdout(),
                    held: None,
                })
            };
            c.transfer(Some(DataJob::Down(sink)), ProgressBar::hidden())
                .await?;
        }
        Cmd::Get {
            remote,
            local,
            resume,
        } => {
            let remote = remote
                .or_else(|| default_path.map(str::to_owned))
                .ok_or("get: which file?")?;
            let local = local.unwrap_or_else(|| PathBuf::from(base_name(&remote)));
            let size = c.remote_size(&remote).await;
            let have = if resume {
                restart_offset(&local, c.ascii).map_err(|e| format!("{}: {e}", local.display()))?
            } else {
                0
            };
            // In STREAM mode an offset is one position in the file (RFC
            // 3659 5.1): a partial copy is never longer than the remote
            // file, so a longer one is another file, not a finished one.
            if let Some(s) = size.filter(|&s| resume && have > s) {
                return Err(format!(
                    "{}: the local file ({have} bytes) is larger than {remote} ({s} bytes): \
                     not a partial copy of it; not resumed",
                    local.display()
                ));
            }
            // (A missing LOCAL counts 0 bytes: it is downloaded, even empty.)
            if resume && size == Some(have) && local.exists() {
                println!("{}: already complete ({have} bytes)", local.display());
                return Ok(());
            }
            // A fresh download goes to a temporary file beside LOCAL, renamed
            // over it only once complete: a download that fails (550, a
            // broken connection, a protected one cut without close_notify)
            // leaves an existing LOCAL file as it was, and the temporary
            // file is deleted. A resumed download (-c) appends to LOCAL, so
            // a failed one leaves what came (TLS-authenticated, in order)
            // for the next -c, and the exit status says it is incomplete.
            let part = (have == 0).then(|| partial_name(&local));
            let file = match &part {
                None => std::fs::OpenOptions::new().append(true).open(&local),
                Some(part) => std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(part),
            }
            .map_err(|e| format!("{}: {e}", local.display()))?;
            let done: Result<()> = async {
                c.s.retr(remote.as_bytes(), have).map_err(err)?;
                let pb = c.bar(size, have, &remote);
                let t0 = Instant::now();
                let n = c.transfer(Some(DataJob::Down(Box::new(file))), pb).await?;
                if let Some(part) = &part {
                    std::fs::rename(part, &local).map_err(|e| format!("{}: {e}", local.display()))?;
                }
                report(c.quiet, "received", n, t0);
                Ok(())
            }
            .await;
            if let (Err(_), Some(part)) = (&done, &part) {
                let _ = std::fs::remove_file(part);
            }
            done?;
        }
        Cmd::Put { local, remote } => {
            let remote = remote.unwrap_or_else(|| base_name(&local.to_string_lossy()).to_owned());
            let file = std::fs::File::open(&local).map_err(|e| format!("{}: {e}", local.display()))?;
            let len = file.metadata().map_err(err)?.len();
            c.s.stor(remote.as_bytes(), 0).map_err(err)?;
            let pb = c.bar(Some(len), 0, &remote);
            let t0 = Instant::now();
            let n = c.transfer(Some(DataJob::Up(file)), pb).await?;
            report(c.quiet, "sent", n, t0);
        }
        Cmd::Mkdir { path } => {
            c.s.mkdir(path.as_bytes()).map_err(err)?;
            c.simple().await?;
        }
        Cmd::Rmdir { path } => {
            c.s.rmdir(path.as_bytes()).map_err(err)?;
            c.simple().await?;
        }
        Cmd::Rm { path } => {
            c.s.delete(path.as_bytes()).map_err(err)?;
            c.simple().await?;
        }
        Cmd::Mv { from, to } => {
            c.s.rename(from.as_bytes(), to.as_bytes()).map_err(err)?;
            c.simple().await?;
        }
    }
    Ok(())
}

fn report(quiet: bool, what: &str, n: u64, t0: Instant) {
    if !quiet {
        let secs = t0.elapsed().as_secs_f64().max(1e-6);
        #[allow(clippy::cast_precision_loss)]
        let rate = n as f64 / secs / 1_048_576.0;
        eprintln!("{what} {n} bytes in {secs:.2} s ({rate:.1} MiB/s)");
    }
}

/// A server's listing as it may go to a terminal: control characters
/// other than tab and line ends (C0, DEL, and C1 encoded in UTF-8, such as
/// ESC and CSI, which start terminal escape sequences) are shown as `\xNN`,
/// so a hostile server's file names cannot rewrite the user's screen. Every
/// other byte is kept as sent.
fn printable(listing: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(listing.len());
    let mut i = 0;
    while i < listing.len() {
        let b = listing[i];
        let c1 = b == 0xc2 && listing.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n));
        if c1 {
            out.extend_from_slice(format!("\\x{b:02x}\\x{:02x}", listing[i + 1]).as_bytes());
            i += 2;
            continue;
        }
        if (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

/// Writes a listing to `out` as it arrives, through [`printable`]. A 0xC2
/// that ends a chunk is held back until the next one, so a C1 control
/// split across two reads is still escaped.
struct PrintableWriter<W: std::io::Write> {
    out: W,
    held: Option<u8>,
}

impl<W: std::io::Write> std::io::Write for PrintableWriter<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if b.is_empty() {
            return Ok(0);
        }
        let mut chunk = Vec::with_capacity(b.len() + 1);
        chunk.extend(self.held.take());
        chunk.extend_from_slice(b);
        if chunk.last() == Some(&0xc2) {
            self.held = chunk.pop();
        }
        self.out.write_all(&printable(&chunk))?;
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        // A lone 0xC2 at the very end is no C1 control: it goes as it is.
        if let Some(b) = self.held.take() {
            self.out.write_all(&[b])?;
        }
        io::Write::flush(&mut self.out)
    }
}

impl<W: std::io::Write> Drop for PrintableWriter<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// The longest listing line [`ParsedListing`] keeps; a longer one is
/// reported as unparsed instead of growing the buffer without bound.
const MAX_LISTING_LINE: usize = 64 * 1024;

/// A listing sink that parses each line as it completes (MLSD facts or any
/// LIST format) and prints one normalised `KIND SIZE NAME` line per entry.
struct ParsedListing {
    machine: bool,
    now: ftp_proto::Timestamp,
    line: Vec<u8>,
    /// The current line went over [`MAX_LISTING_LINE`]; skip to its end.
    overlong: bool,
    out: std::io::Stdout,
}

impl ParsedListing {
    fn new(machine: bool) -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let now = ftp_proto::Timestamp::from_unix_seconds(secs)
            .or_else(|| ftp_proto::Timestamp::new(1970, 1, 1, 0, 0, 0))
            .expect("the epoch is a valid timestamp");
        ParsedListing {
            machine,
            now,
            line: Vec::new(),
            overlong: false,
            out: std::io::stdout(),
        }
    }

    fn kind_name(kind: Option<ftp_proto::list::FileKind>) -> &'static str {
        use ftp_proto::list::FileKind;
        match kind {
            Some(FileKind::File) => "file",
            Some(FileKind::Dir) => "dir",
            Some(FileKind::CurrentDir) => "cdir",
            Some(FileKind::ParentDir) => "pdir",
            Some(FileKind::Symlink) => "link",
            Some(FileKind::BlockDevice) => "block",
            Some(FileKind::CharDevice) => "char",
            Some(FileKind::Pipe) => "pipe",
            Some(FileKind::Socket) => "socket",
            Some(FileKind::Other) | None => "other",
        }
    }

    /// Parses and prints one complete line (without its line end).
    fn emit(&mut self, line: &[u8]) -> io::Result<()> {
        use ftp_proto::list::{ListLine, parse_list_line, parse_mlsx};
        if line.is_empty() {
            return Ok(());
        }
        let entry = if self.machine {
            parse_mlsx(line).ok().map(|e| (e.kind, e.size, e.name))
        } else {
            match parse_list_line(line, self.now) {
                ListLine::Total(_) => return Ok(()),
                l @ (ListLine::Unix(_) | ListLine::Dos(_)) => l.name().map(|n| (l.kind(), l.size(), n)),
                ListLine::Raw(_) => None,
            }
        };
        let mut text = Vec::with_capacity(line.len() + 24);
        match entry {
            Some((kind, size, name)) => {
                text.extend_from_slice(Self::kind_name(kind).as_bytes());
                text.push(b' ');
                match size {
                    Some(n) => text.extend_from_slice(n.to_string().as_bytes()),
                    None => text.push(b'-'),
                }
                text.push(b' ');
                text.extend_from_slice(&printable(name));
            }
            None => {
                text.extend_from_slice(b"? ");
                text.extend_from_slice(&printable(line));
            }
        }
        text.push(b'\n');
        io::Write::write_all(&mut self.out, &text)
    }
}

impl io::Write for ParsedListing {
    fn write(&mut self, mut b: &[u8]) -> io::Result<usize> {
        let n = b.len();
        while !b.is_empty() {
            let (piece, complete) = match b.iter().position(|&c| c == b'\n') {
                Some(i) => (&b[..i], Some(i + 1)),
                None => (b, None),
            };
            if !self.overlong {
                if self.line.len() + piece.len() > MAX_LISTING_LINE {
                    self.overlong = true;
                    self.line.clear();
                    io::Write::write_all(&mut self.out, b"? (a listing line over 64 KiB, skipped)\n")?;
                } else {
                    self.line.extend_from_slice(piece);
                }
            }
            let Some(next) = complete else {
                break;
            };
            if !self.overlong {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.emit(&line)?;
                line.clear();
                self.line = line;
            }
            self.overlong = false;
            b = &b[next..];
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // A last line without its line end still counts.
        if !self.overlong && !self.line.is_empty() {
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.emit(&line)?;
        }
        io::Write::flush(&mut self.out)
    }
}

impl Drop for ParsedListing {
    fn drop(&mut self) {
        let _ = io::Write::flush(self);
    }
}

const HELP: &str = "commands: ls [-l|-m|-n|-p|-mp] [PATH], get REMOTE [LOCAL], reget REMOTE [LOCAL], put LOCAL [REMOTE], \
mkdir P, rmdir P, rm P, mv FROM TO, cd P, pwd, size P, ascii, binary, help, quit";

/// One interactive line; `Ok(false)` ends the session.
async fn interactive_line(c: &mut Client, line: &str) -> Result<bool> {
    let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let Some((verb, rest)) = words.split_first() else {
        return Ok(true);
    };
    let arg = |i: usize| rest.get(i).cloned();
    let need = |i: usize| {
        rest.get(i)
            .cloned()
            .ok_or_else(|| format!("{verb}: missing argument"))
    };
    let cmd = match verb.as_str() {
        "quit" | "bye" | "exit" => return Ok(false),
        "help" | "?" => {
            println!("{HELP}");
            return Ok(true);
        }
        "ascii" | "binary" => {
            c.ascii = verb == "ascii";
            c.s.set_text_mode(c.ascii);
            return Ok(true);
        }
        "pwd" => {
            c.s.pwd().map_err(err)?;
            if let ClientEvent::Pwd(p) = c.simple().await? {
                println!("{}", examples::escape_log_text(&String::from_utf8_lossy(&p)));
            }
            return Ok(true);
        }
        "cd" => {
            c.s.cwd(need(0)?.as_bytes()).map_err(err)?;
            c.simple().await?;
            return Ok(true);
        }
        "size" => {
            c.s.size(need(0)?.as_bytes()).map_err(err)?;
            if let ClientEvent::Size(n) = c.simple().await? {
                println!("{n}");
            }
            return Ok(true);
        }
        "ls" | "dir" => {
            let flag = rest.first().filter(|a| a.starts_with('-'));
            let has = |c: char| flag.is_some_and(|a| a.contains(c));
            let path = rest.iter().find(|a| !a.starts_with('-')).cloned();
            Cmd::Ls {
                path,
                machine: has('m'),
                names: has('n') && !has('m'),
                parse: has('p') && !has('n'),
            }
        }
        "get" | "reget" => Cmd::Get {
            remote: Some(need(0)?),
            local: arg(1).map(PathBuf::from),
            resume: verb == "reget",
        },
        "put" => Cmd::Put {
            local: PathBuf::from(need(0)?),
            remote: arg(1),
        },
        "mkdir" => Cmd::Mkdir { path: need(0)? },
        "rmdir" => Cmd::Rmdir { path: need(0)? },
        "rm" | "delete" => Cmd::Rm { path: need(0)? },
        "mv" | "rename" => Cmd::Mv {
            from: need(0)?,
            to: need(1)?,
        },
        other => return Err(format!("unknown command {other:?}; {HELP}")),
    };
    execute(c, cmd, None).await?;
    Ok(true)
}

async fn run(args: Args) -> Result<()> {
    let u = url::parse(&args.url)?;
    if u.tls_implicit {
        return Err("ftps:// (implicit TLS) is not supported by this client; use ftp:// with --tls".into());
    }
    let mut c = Client::connect(&args, &u).await?;
    match args.cmd.clone() {
        Some(cmd) => execute(&mut c, cmd, u.path.as_deref()).await?,
        None => {
            if let Some(p) = &u.path {
                c.s.cwd(p.as_bytes()).map_err(err)?;
                c.simple().await?;
            }
            let stdin = std::io::stdin();
            loop {
                eprint!("ftp> ");
                let mut line = String::new();
                if tokio::task::block_in_place(|| stdin.read_line(&mut line)).map_err(err)? == 0 {
                    break;
                }
                match interactive_line(&mut c, &line).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => eprintln!("error: {e}"),
                }
                if c.s.is_closed() {
                    return Err("connection closed".into());
                }
            }
        }
    }
    if c.s.quit().is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(5), c.simple()).await;
    }
    let _ = c.conn.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    examples::init_logging("warn");
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ftp: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_writer_escapes_a_c1_split_across_writes() {
        use std::io::Write;
        let mut out = Vec::new();
        {
            let mut w = PrintableWriter {
                out: &mut out,
                held: None,
            };
            w.write_all(b"a\xc2").unwrap();
            w.write_all(b"\x9bb\x1b").unwrap();
            w.write_all(b"\xc2").unwrap();
        }
        assert_eq!(out, b"a\\xc2\\x9bb\\x1b\xc2");
    }

    #[test]
    fn cli() {
        use clap::CommandFactory;
        Args::command().debug_assert();
        let a = Args::try_parse_from(["ftp", "--active", "ftp://h", "get", "x", "-c"]).unwrap();
        assert!(a.active);
        assert!(matches!(a.cmd, Some(Cmd::Get { resume: true, .. })));
        assert_eq!(base_name("a/b/c.txt"), "c.txt");
        assert_eq!(base_name("c.txt"), "c.txt");
    }
}
