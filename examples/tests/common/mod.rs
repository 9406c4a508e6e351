//! The harness the example programs' integration tests share: temporary
//! data directories, a running maild or ftpd on loopback ports, a raw line
//! client, and fake next hops. Not every test file uses every item.
#![allow(dead_code)]

use examples::net::Conn;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) const WAIT: Duration = Duration::from_secs(15);

pub(crate) static SEQ: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "maild-it-{tag}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// As [`temp_dir`], in memory (/dev/shm) where that exists: for tests that
/// create many files, which a slow disk would take minutes for.
pub(crate) fn temp_dir_in_memory(tag: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    if !shm.is_dir() {
        return temp_dir(tag);
    }
    let d = shm.join(format!(
        "maild-it-{tag}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    match std::fs::create_dir_all(&d) {
        Ok(()) => d,
        Err(_) => temp_dir(tag),
    }
}

/// A running maild; killed on drop.
pub(crate) struct Maild {
    pub(crate) child: Child,
    /// maild's own pid when `child` is the strace running it.
    pub(crate) traced: Option<u32>,
    pub(crate) dir: PathBuf,
    pub(crate) ports: HashMap<String, u16>,
}

impl Maild {
    /// Starts maild with every listener on a free loopback port (the SMTP
    /// port can be fixed with `smtp_port`).
    pub(crate) fn start(dir: &Path, smtp_port: u16, extra: &[&str]) -> Maild {
        Maild::start_traced(dir, smtp_port, extra, None)
    }

    /// As [`start`](Self::start), under `trace` when given.
    pub(crate) fn start_traced(dir: &Path, smtp_port: u16, extra: &[&str], trace: Option<&Strace>) -> Maild {
        Maild::start_with(dir, smtp_port, extra, trace, None)
    }

    /// As [`start`](Self::start), with its `warn` log written to `log`.
    pub(crate) fn start_logging(dir: &Path, smtp_port: u16, extra: &[&str], log: &Path) -> Maild {
        Maild::start_with(dir, smtp_port, extra, None, Some(log))
    }

    fn start_with(
        dir: &Path,
        smtp_port: u16,
        extra: &[&str],
        trace: Option<&Strace>,
        log: Option<&Path>,
    ) -> Maild {
        let smtp = format!("127.0.0.1:{smtp_port}");
        let mut args = vec![
            "--data-dir".to_owned(),
            dir.display().to_string(),
            "--hostname".into(),
            "mx.test".into(),
            "--smtp-listen".into(),
            smtp,
        ];
        if !extra.contains(&"--login-delay-ms") {
            args.extend(["--login-delay-ms".into(), "50".into()]);
        }
        for flag in [
            "--submission-listen",
            "--submissions-listen",
            "--pop3-listen",
            "--pop3s-listen",
            "--lmtp-listen",
        ] {
            args.push(flag.into());
            args.push("127.0.0.1:0".into());
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut cmd = match trace {
            Some(t) => {
                let mut c = Command::new(t.program);
                c.args(&t.args).arg(env!("CARGO_BIN_EXE_maild"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_maild")),
        };
        let mut child = cmd
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log.map_or_else(Stdio::null, |p| std::fs::File::create(p).unwrap().into()))
            .spawn()
            .expect("start maild");
        let stdout = child.stdout.take().unwrap();
        let mut ports = HashMap::new();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("maild: ")
                && let Some((name, addr)) = rest.split_once(" listening on ")
            {
                let port = addr.rsplit_once(':').unwrap().1.parse().unwrap();
                ports.insert(name.to_owned(), port);
            }
            if line.starts_with("maild: ready") {
                break;
            }
        }
        // Keep reading what maild prints later, so its stdout stays open.
        std::thread::spawn(move || for _ in lines {});
        assert_eq!(ports.len(), 6, "every listener reported: {ports:?}");
        // Under strace, maild is strace's one child: none when a fault
        // injected by strace has killed it already (see `strace_exited`).
        let traced = trace.and_then(|_| {
            let id = child.id();
            std::fs::read_to_string(format!("/proc/{id}/task/{id}/children"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse().ok())
        });
        Maild {
            child,
            traced,
            dir: dir.to_owned(),
            ports,
        }
    }

    pub(crate) fn port(&self, name: &str) -> u16 {
        self.ports[name]
    }

    /// The self-signed certificate this maild made (a --relay-ca for others).
    pub(crate) fn cert(&self) -> String {
        self.dir.join("tls").join("cert.pem").display().to_string()
    }

    pub(crate) fn maildir(&self, address: &str) -> PathBuf {
        self.dir.join("mail").join(address)
    }

    /// Messages in new/ and cur/ of an account.
    pub(crate) fn messages(&self, address: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.maildir(address).join(sub)) {
                out.extend(rd.filter_map(Result::ok).map(|d| d.path()));
            }
        }
        out.sort();
        out
    }

    pub(crate) fn queued(&self) -> usize {
        std::fs::read_dir(self.dir.join("queue"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|d| d.file_name().to_string_lossy().ends_with(".env"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// The text of every queued envelope.
    pub(crate) fn envelopes(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.join("queue"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".env"))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// True once some queued message has had a delivery attempt recorded.
    pub(crate) fn attempted(&self) -> bool {
        self.envelopes()
            .iter()
            .any(|t| t.lines().any(|l| l.starts_with("attempts ") && l != "attempts 0"))
    }

    /// Under strace: true once strace has exited, which it does when maild,
    /// its one tracee, is gone (killed by an injected fault, say), however
    /// soon after the start that happened.
    pub(crate) fn strace_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub(crate) fn kill(&mut self) {
        // Killing strace would leave maild running, detached.
        if let Some(pid) = self.traced.take() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Maild {
    /// Sends SIGTERM (a clean stop) without waiting.
    pub(crate) fn terminate(&self) {
        send_signal(&self.child, "-TERM");
    }

    /// Sends SIGINT (Ctrl-C, how the README stops the demo) without waiting.
    pub(crate) fn interrupt(&self) {
        send_signal(&self.child, "-INT");
    }

    /// Waits (bounded) for the process to end; true if it exited cleanly.
    pub(crate) async fn exited_within(&mut self, limit: Duration) -> bool {
        exited_within(&mut self.child, limit).await
    }
}

/// Sends a signal (`flag` as for kill(1): `-INT`, `-TERM`) to `child`.
pub(crate) fn send_signal(child: &Child, flag: &str) {
    let ok = Command::new("kill")
        .args([flag, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {flag}");
}

/// Waits (bounded) for `child` to end; true if it exited with status 0
/// (false for another status or death by a signal).
pub(crate) async fn exited_within(child: &mut Child, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        assert!(Instant::now() < end, "still running after {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Drop for Maild {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `f` is true or the deadline passes.
pub(crate) async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A raw line client over plain TCP or TLS.
pub(crate) struct Raw {
    pub(crate) conn: Conn,
    pub(crate) buf: Vec<u8>,
}

impl Raw {
    /// EPSV on a logged-in control connection: the data port its 229 gives.
    pub(crate) async fn epsv(&mut self) -> u16 {
        let (code, text) = self.cmd("EPSV").await;
        assert_eq!(code, 229, "{text}");
        text.split("(|||")
            .nth(1)
            .and_then(|r| r.split('|').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {text:?}"))
    }

    pub(crate) async fn connect(port: u16) -> Raw {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        Raw {
            conn: Conn::Plain(tcp),
            buf: Vec::new(),
        }
    }

    pub(crate) async fn connect_tls(port: u16) -> Raw {
        let mut r = Raw::connect(port).await;
        r.tls().await;
        r
    }

    pub(crate) async fn tls(&mut self) {
        assert!(self.buf.is_empty(), "no bytes may be pending before TLS");
        let connector = examples::tls::connector(true, None).unwrap();
        self.conn.start_client_tls(&connector, "localhost").await.unwrap();
    }

    pub(crate) async fn send(&mut self, data: &[u8]) {
        self.conn.write_all(data).await.unwrap();
        self.conn.flush().await.unwrap();
    }

    /// One line without CRLF; empty at EOF.
    pub(crate) async fn line(&mut self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).take(i).collect();
                return String::from_utf8_lossy(&line).into_owned();
            }
            let mut chunk = [0u8; 8192];
            let left = deadline.saturating_duration_since(Instant::now());
            let n = tokio::time::timeout(left, self.conn.read(&mut chunk))
                .await
                .expect("read timed out")
                .unwrap_or(0);
            if n == 0 {
                return String::new();
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// An SMTP reply: code and all text lines joined by newlines.
    pub(crate) async fn reply(&mut self) -> (u16, String) {
        let mut text = Vec::new();
        loop {
            let l = self.line().await;
            assert!(l.len() >= 3, "short reply line {l:?}");
            let code = l[..3].parse().unwrap();
            text.push(l.get(4..).unwrap_or("").to_owned());
            if l.as_bytes().get(3) != Some(&b'-') {
                return (code, text.join("\n"));
            }
        }
    }

    pub(crate) async fn cmd(&mut self, line: &str) -> (u16, String) {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// A POP3 multi-line body after a +OK line.
    pub(crate) async fn multiline(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await;
            if l == "." {
                return out;
            }
            let l = l.strip_prefix('.').unwrap_or(&l);
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

pub(crate) fn plain(user: &str, pw: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pw}"))
}

/// Submits one message over submission: STARTTLS, AUTH PLAIN, MAIL, RCPTs, DATA.
/// Returns the RCPT codes and the final code.
pub(crate) async fn submit(
    port: u16,
    user: &str,
    pw: &str,
    from: &str,
    to: &[&str],
    body: &str,
) -> (Vec<u16>, u16) {
    let mut c = Raw::connect(port).await;
    assert_eq!(c.reply().await.0, 220);
    c.cmd("EHLO client.test").await;
    assert_eq!(c.cmd("STARTTLS").await.0, 220);
    c.tls().await;
    let (code, caps) = c.cmd("EHLO client.test").await;
    assert_eq!(code, 250);
    assert!(caps.contains("AUTH SCRAM-SHA-256 PLAIN LOGIN"), "{caps}");
    assert_eq!(c.cmd(&format!("AUTH PLAIN {}", plain(user, pw))).await.0, 235);
    assert_eq!(c.cmd(&format!("MAIL FROM:<{from}>")).await.0, 250);
    let mut codes = Vec::new();
    for r in to {
        codes.push(c.cmd(&format!("RCPT TO:<{r}>")).await.0);
    }
    let code = if codes.contains(&250) {
        assert_eq!(c.cmd("DATA").await.0, 354);
        c.send(body.as_bytes()).await;
        c.cmd(".").await.0
    } else {
        0
    };
    c.cmd("QUIT").await;
    (codes, code)
}

/// A free loopback port below the ephemeral range, so that while nothing
/// listens on it neither a `:0` bind nor an outgoing connection (which could
/// connect to itself) can take it.
pub(crate) fn free_port() -> u16 {
    let low: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let span = u32::from(low.saturating_sub(10_000).max(1));
    let seed = std::process::id() ^ (SEQ.fetch_add(1, Ordering::Relaxed) as u32).wrapping_mul(7919);
    for i in 0..span {
        let port = 10_000 + u16::try_from((seed.wrapping_add(i * 104_729)) % span).unwrap();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port below {low}");
}

/// Encodes a domain name as DNS labels.
pub(crate) fn dns_name(n: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in n.split('.').filter(|l| !l.is_empty()) {
        out.push(u8::try_from(label.len()).unwrap());
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// A running ftpd serving `dir/root`; killed on drop.
pub(crate) struct Ftpd {
    pub(crate) child: Child,
    /// ftpd's own pid when `child` is strace.
    traced: Option<u32>,
    pub(crate) dir: PathBuf,
    pub(crate) port: u16,
}

impl Ftpd {
    /// Starts ftpd (plain FTP, account `u`/`p` read-write) with `extra` flags.
    pub(crate) fn start(dir: &Path, extra: &[&str]) -> Ftpd {
        Ftpd::start_logging(dir, extra, None)
    }

    /// As [`start`](Self::start), with an `info` log written to `log`.
    pub(crate) fn start_logging(dir: &Path, extra: &[&str], log: Option<&Path>) -> Ftpd {
        Ftpd::start_with(dir, extra, log, false, None)
    }

    /// As [`start`](Self::start), under `trace`.
    pub(crate) fn start_traced(dir: &Path, extra: &[&str], trace: &Strace) -> Ftpd {
        Ftpd::start_with(dir, extra, None, false, Some(trace))
    }

    /// As [`start`](Self::start), with AUTH TLS offered (a self-signed
    /// certificate kept under `dir`).
    pub(crate) fn start_tls(dir: &Path, extra: &[&str]) -> Ftpd {
        Ftpd::start_with(dir, extra, None, true, None)
    }

    fn start_with(dir: &Path, extra: &[&str], log: Option<&Path>, tls: bool, trace: Option<&Strace>) -> Ftpd {
        let port = free_port();
        let root = dir.join("root");
        std::fs::create_dir_all(&root).unwrap();
        let mut cmd = match trace {
            Some(t) => {
                let mut c = Command::new(t.program);
                c.args(&t.args).arg(env!("CARGO_BIN_EXE_ftpd"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_ftpd")),
        };
        cmd.arg("--root")
            .arg(&root)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--user", "u:p", "--login-delay-ms", "10"]);
        if tls {
            cmd.arg("--tls-dir").arg(dir.join("tls"));
        } else {
            cmd.arg("--no-tls");
        }
        let mut child = cmd
            .args(extra)
            .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
            .stdout(Stdio::piped())
            .stderr(log.map_or_else(Stdio::null, |p| std::fs::File::create(p).unwrap().into()))
            .spawn()
            .expect("start ftpd");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            if line.unwrap().starts_with("ftpd: serving") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        // Under strace, ftpd is strace's one child.
        let traced = trace.map(|_| {
            let id = child.id();
            std::fs::read_to_string(format!("/proc/{id}/task/{id}/children"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse().ok())
                .expect("ftpd's pid under strace")
        });
        Ftpd {
            child,
            traced,
            dir: dir.to_owned(),
            port,
        }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    /// A logged-in control connection.
    pub(crate) async fn login(&self) -> Raw {
        let mut c = Raw::connect(self.port).await;
        assert_eq!(c.reply().await.0, 220);
        assert_eq!(c.cmd("USER u").await.0, 331);
        assert_eq!(c.cmd("PASS p").await.0, 230);
        c
    }
}

impl Ftpd {
    /// Runs a listing command (`LIST`, `NLST`, `MLSD`, with any argument)
    /// over an EPSV data connection on a logged-in control connection and
    /// returns what the data connection carried; the transfer must end
    /// with 226.
    pub(crate) async fn listing(c: &mut Raw, command: &str) -> Vec<u8> {
        let port = c.epsv().await;
        let mut data = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (code, text) = c.cmd(command).await;
        assert!(code == 150 || code == 125, "{command}: {code} {text}");
        let mut out = Vec::new();
        tokio::time::timeout(WAIT, data.read_to_end(&mut out))
            .await
            .expect("listing timed out")
            .unwrap();
        let (code, text) = c.reply().await;
        assert_eq!(code, 226, "{command}: {text}");
        out
    }
}

impl Drop for Ftpd {
    fn drop(&mut self) {
        // Killing strace would leave ftpd running, detached.
        if let Some(pid) = self.traced.take() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What `counting_hop` shares with its test: messages accepted per
/// recipient domain; whether to stall; whether a stall was reached.
pub(crate) type HopState = (
    Arc<std::sync::Mutex<HashMap<String, usize>>>,
    Arc<std::sync::atomic::AtomicBool>,
    Arc<std::sync::atomic::AtomicBool>,
);

/// A next hop that counts the messages it accepted per recipient domain
/// and, while `stall` is set, never answers a RCPT for `stall_domain`.
pub(crate) async fn counting_hop(stall_domain: &'static str) -> (u16, HopState) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(std::sync::Mutex::new(HashMap::new()));
    let stall = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let reached = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (c, st, re) = (counts.clone(), stall.clone(), reached.clone());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (counts, stall, reached) = (c.clone(), st.clone(), re.clone());
            tokio::spawn(async move {
                let (rd, mut wr) = tcp.into_split();
                let mut rd = tokio::io::BufReader::new(rd);
                let _ = wr.write_all(b"220 hop\r\n").await;
                let mut domain = String::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if tokio::io::AsyncBufReadExt::read_line(&mut rd, &mut line)
                        .await
                        .unwrap_or(0)
                        == 0
                    {
                        return;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250 hop\r\n",
                        "RCPT" => {
                            domain = line
                                .rsplit('@')
                                .next()
                                .unwrap_or("")
                                .trim_end_matches(['>', '\r', '\n'])
                                .to_owned();
                            if domain == stall_domain && stall.load(Ordering::SeqCst) {
                                reached.store(true, Ordering::SeqCst);
                                std::future::pending::<()>().await;
                            }
                            b"250 ok\r\n"
                        }
                        "MAIL" | "RSET" | "NOOP" => b"250 ok\r\n",
                        "DATA" => {
                            let _ = wr.write_all(b"354 go on\r\n").await;
                            loop {
                                line.clear();
                                let got = tokio::io::AsyncBufReadExt::read_line(&mut rd, &mut line).await;
                                if got.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                            }
                            *counts.lock().unwrap().entry(domain.clone()).or_insert(0) += 1;
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = wr.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"502 no\r\n",
                    };
                    let _ = wr.write_all(reply).await;
                }
            });
        }
    });
    (port, (counts, stall, reached))
}

/// A fake zone: the records `(type, rdata)` for a question `(name, type)`
/// (name lower-cased, without the final dot), possibly none; `None` for a
/// name that does not exist (NXDOMAIN).
pub(crate) type Zone = fn(&str, u16) -> Option<Vec<(u16, Vec<u8>)>>;

/// The rdata of an MX record.
pub(crate) fn mx_rdata(preference: u16, host: &str) -> Vec<u8> {
    let mut rd = preference.to_be_bytes().to_vec();
    rd.extend(dns_name(host));
    rd
}

/// A tiny DNS server on UDP loopback answering from `zone`, for as long as
/// the test's runtime lives; returns its address (for --dns-server).
pub(crate) async fn fake_dns_server(zone: Zone) -> std::net::SocketAddr {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
            let q = &buf[..n];
            let mut i = 12;
            let mut labels = Vec::new();
            while i < q.len() && q[i] != 0 {
                let len = usize::from(q[i]);
                labels.push(String::from_utf8_lossy(&q[i + 1..i + 1 + len]).to_lowercase());
                i += 1 + len;
            }
            let qname = labels.join(".");
            let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
            let question = &q[12..i + 5];
            let (answers, rcode) = match zone(&qname, qtype) {
                Some(records) => (records, 0u8),
                None => (Vec::new(), 3),
            };
            let mut r = Vec::new();
            r.extend_from_slice(&q[..2]);
            r.extend_from_slice(&[0x84, 0x80 | rcode, 0, 1]);
            r.extend_from_slice(&u16::try_from(answers.len()).unwrap().to_be_bytes());
            r.extend_from_slice(&[0, 0, 0, 0]);
            r.extend_from_slice(question);
            for (t, rd) in answers {
                r.extend_from_slice(&[0xc0, 12]);
                r.extend_from_slice(&t.to_be_bytes());
                r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
                r.extend_from_slice(&u16::try_from(rd.len()).unwrap().to_be_bytes());
                r.extend_from_slice(&rd);
            }
            let _ = sock.send_to(&r, peer).await;
        }
    });
    addr
}

/// How to run a program under strace(1) with every fsync and fdatasync
/// (file descriptors shown with their paths) written to `log`.
pub(crate) struct Strace {
    pub(crate) program: &'static str,
    pub(crate) args: Vec<String>,
    pub(crate) log: PathBuf,
}

/// An strace wrapper tracing the sync calls (and `extra` calls, e.g.
/// `"openat"`), or `None` (with a note on stderr) where strace is missing
/// or may not trace: the test that asked then checks nothing. With
/// `REQUIRE_STRACE=1` in the environment (CI sets it, after installing
/// strace) a missing strace fails the test instead, so CI never passes a
/// durability test that checked nothing.
pub(crate) fn strace(extra: &[&str]) -> Option<Strace> {
    let works = Command::new("strace")
        .args(["-o", "/dev/null", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        assert!(
            std::env::var_os("REQUIRE_STRACE").is_none_or(|v| v != "1"),
            "REQUIRE_STRACE=1 but strace is missing or cannot trace here"
        );
        eprintln!("strace is missing or cannot trace here: skipped");
        return None;
    }
    let log = std::env::temp_dir().join(format!(
        "strace-{}-{}.log",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let mut calls = vec!["fsync", "fdatasync"];
    calls.extend_from_slice(extra);
    Some(Strace {
        program: "strace",
        args: vec![
            "-f".into(),
            "-y".into(),
            "-e".into(),
            format!("trace={}", calls.join(",")),
            "-o".into(),
            log.display().to_string(),
        ],
        log,
    })
}

/// Peak resident memory of process `pid` in KiB (VmHWM).
pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// RFC 5321 5.1 backup-MX check: submits one message for `rcpt` to a maild
/// (user alice@a.test, the `dns` server, its own SMTP port as the MX port,
/// internal relay allowed for the loopback test addresses) whose domain's
/// primary MX is down and whose backup MX is this maild under some name or
/// address; waits for the first relay attempt (or a bounce) and checks the
/// message was neither bounced nor relayed to itself: it is still queued.
pub(crate) async fn relay_waits_for_the_primary_mx(tag: &str, dns: &str, rcpt: &str) {
    let port = free_port();
    let dir = temp_dir(tag);
    let p = port.to_string();
    let m = Maild::start(
        &dir,
        port,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--dns-server",
            dns,
            "--mx-port",
            &p,
            "--allow-internal-relay",
        ],
    );
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &[rcpt],
        "Subject: backup\r\n\r\nwait for the primary\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the first attempt, or a bounce", || {
        m.attempted() || !m.messages("alice@a.test").is_empty()
    })
    .await;
    assert!(
        m.messages("alice@a.test").is_empty(),
        "bounced: {:?}",
        m.messages("alice@a.test")
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect::<Vec<_>>()
    );
    assert_eq!(m.queued(), 1, "still queued for the primary");
}

/// One line (CRLF stripped) from `conn`, reading a byte at a time so that
/// nothing past it is consumed before a TLS upgrade.
pub(crate) async fn read_line(conn: &mut examples::net::Conn) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        if conn.read(&mut b).await.unwrap_or(0) == 0 {
            break;
        }
        line.push(b[0]);
    }
    String::from_utf8_lossy(&line).trim_end().to_owned()
}

/// A logged-in control connection over AUTH TLS with PROT P, TYPE I and an
/// EPSV data port ready.
pub(crate) async fn tls_login_epsv(d: &Ftpd) -> (Raw, u16) {
    let mut c = Raw::connect(d.port).await;
    assert_eq!(c.reply().await.0, 220);
    assert_eq!(c.cmd("AUTH TLS").await.0, 234);
    c.tls().await;
    assert_eq!(c.cmd("USER u").await.0, 331);
    assert_eq!(c.cmd("PASS p").await.0, 230);
    assert_eq!(c.cmd("PBSZ 0").await.0, 200);
    assert_eq!(c.cmd("PROT P").await.0, 200);
    assert_eq!(c.cmd("TYPE I").await.0, 200);
    let port = c.epsv().await;
    (c, port)
}

/// Puts `files` (name under the Maildir, content) into the Maildir of alice@example.test.
pub(crate) fn place(m: &Maild, files: &[(&str, &str)]) {
    let root = m.maildir("alice@example.test");
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    for (name, body) in files {
        std::fs::write(root.join(name), body).unwrap();
    }
}

/// A POP3S session logged in as alice@example.test (password wonderland).
pub(crate) async fn login(m: &Maild) -> Raw {
    let mut p = Raw::connect_tls(m.port("pop3s")).await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"USER alice@example.test\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"PASS wonderland\r\n").await;
    let ok = p.line().await;
    assert!(ok.starts_with("+OK"), "{ok}");
    p
}

/// Sends one POP3 command line and returns the first line of the answer.
pub(crate) async fn pop_cmd(p: &mut Raw, line: &str) -> String {
    p.send(format!("{line}\r\n").as_bytes()).await;
    p.line().await
}

/// Places a message into a spool directory the way another process would:
/// the message file first, then the envelope renamed into place (a spool
/// entry exists exactly when its `.env` does).
pub(crate) fn place_in_queue(queue: &Path, id: &str, sender: &str, rcpt: &str, body: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let tmp = queue.join(format!(".tmp-{id}.msg"));
    std::fs::write(&tmp, body).unwrap();
    std::fs::rename(&tmp, queue.join(format!("{id}.msg"))).unwrap();
    place_envelope(
        queue,
        id,
        &format!(
            "spool-envelope 1\ncreated {now}\nattempts 0\nnext {now}\nsender {sender}\nrcpt pending {rcpt} \n"
        ),
    );
}

/// Renames the envelope `text` into place as `<id>.env` in a spool
/// directory (its `.msg` placed before).
pub(crate) fn place_envelope(queue: &Path, id: &str, text: &str) {
    let tmp = queue.join(format!(".tmp-{id}.env-0"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, queue.join(format!("{id}.env"))).unwrap();
}

/// A maild in `dir` for alice@a.test (password wonderland) relaying
/// everything to the next hop at 127.0.0.1:`port`, retrying every second,
/// giving up after an hour; `extra` arguments last.
pub(crate) fn relay_in(dir: &Path, port: u16, extra: &[&str]) -> Maild {
    relay_in_traced(dir, port, extra, None)
}

/// As [`relay_in`], under `trace` when given.
pub(crate) fn relay_in_traced(dir: &Path, port: u16, extra: &[&str], trace: Option<&Strace>) -> Maild {
    let relay = format!("127.0.0.1:{port}");
    let mut args = vec![
        "--user",
        "alice@a.test:wonderland",
        "--relay-host",
        &relay,
        "--relay-insecure",
        "--retry-first",
        "1s",
        "--retry-interval",
        "1s",
        "--give-up",
        "1h",
    ];
    args.extend_from_slice(extra);
    Maild::start_traced(dir, 0, &args, trace)
}

/// The reports (and any other messages) in alice@a.test's mailbox.
pub(crate) fn reports(m: &Maild) -> Vec<String> {
    m.messages("alice@a.test")
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}

/// Runs `program` with `args` in `cwd` until it exits (it must, within
/// [`WAIT`]): its exit code and stderr.
pub(crate) fn run_to_exit(program: &str, args: &[&str], cwd: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = std::time::Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} {args:?} still running: it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.code(), err)
}

/// Runs `program` with `args` in `cwd`, which must fail at start: exit
/// status 1 and one line on stderr, no panic (status 101) or backtrace.
/// Returns that line.
pub(crate) fn start_fails(program: &str, args: &[&str], cwd: &Path) -> String {
    let (code, err) = run_to_exit(program, args, cwd);
    assert_eq!(
        code,
        Some(1),
        "{program} {args:?}: status {code:?}, stderr: {err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{program} {args:?}: not one line: {err}");
    lines[0].to_owned()
}

/// Runs `program` with `args` in `cwd`, which clap must refuse before
/// anything starts (status 2); returns its error line (the first).
pub(crate) fn clap_refuses(program: &str, args: &[&str], cwd: &Path) -> String {
    let (code, err) = run_to_exit(program, args, cwd);
    assert_eq!(
        code,
        Some(2),
        "{program} {args:?}: status {code:?}, stderr: {err}"
    );
    err.lines().next().unwrap_or_default().to_owned()
}

/// The `--help` text of one flag: from its line to the next flag's.
pub(crate) fn flag_help(help: &str, flag: &str) -> String {
    let mut lines = help.lines().skip_while(|l| {
        !l.trim_start()
            .split([' ', ','])
            .any(|w| w == flag || w.starts_with(&format!("{flag}=")))
    });
    let first = lines.next().unwrap_or_else(|| panic!("{flag} not in --help"));
    let rest: Vec<&str> = lines.take_while(|l| !l.trim_start().starts_with('-')).collect();
    // One string, as a terminal shows it unwrapped.
    std::iter::once(first)
        .chain(rest)
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `--help` of `program`, which must succeed.
pub(crate) fn help(program: &str) -> String {
    let out = Command::new(program).arg("--help").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Listener flags that keep maild off every port (a maild that wrongly
/// starts binds nothing another test uses).
pub(crate) const MAILD_NO_LISTENERS: [&str; 12] = [
    "--smtp-listen",
    "off",
    "--submission-listen",
    "off",
    "--submissions-listen",
    "off",
    "--pop3-listen",
    "off",
    "--pop3s-listen",
    "off",
    "--lmtp-listen",
    "off",
];

/// Logs in as `user` with `pw` on maild's implicit-TLS submission `port`
/// (which offers DSN and CHUNKING).
pub(crate) async fn logged_in(port: u16, user: &str, pw: &str) -> Raw {
    let mut c = Raw::connect_tls(port).await;
    assert_eq!(c.reply().await.0, 220);
    let (_, caps) = c.cmd("EHLO client.test").await;
    assert!(caps.contains("DSN") && caps.contains("CHUNKING"), "{caps}");
    assert_eq!(c.cmd(&format!("AUTH PLAIN {}", plain(user, pw))).await.0, 235);
    c
}

/// Queues (before maild starts) a message for far@c.test from alice@a.test
/// that already failed there and is due for its report; `extra` is more
/// envelope lines (e.g. `"ret hdrs\n"`).
pub(crate) fn queue_failed(queue: &Path, id: &str, extra: &str, message: &[u8]) {
    std::fs::create_dir_all(queue).unwrap();
    std::fs::write(queue.join(format!("{id}.msg")), message).unwrap();
    place_envelope(
        queue,
        id,
        &format!(
            "spool-envelope 1\ncreated 1700000000\nattempts 1\nnext 0\n{extra}sender alice@a.test\n\
             rcpt failed far@c.test 550 5.1.1%20no%20such%20user\n"
        ),
    );
}
