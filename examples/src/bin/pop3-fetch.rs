//! pop3-fetch: downloads a POP3 maildrop into a local Maildir with
//! pop3-proto's sans-IO `ClientSession` over tokio.
//!
//! ```text
//! pop3-fetch --server 127.0.0.1 --port 1110 --user alice@example.test --password secret \
//!     --maildir ./Mail --insecure                 # everything, keep on the server
//! pop3-fetch ... --new-only                       # only what the UIDL state file lacks
//! pop3-fetch ... --delete                         # and delete what arrived
//! ```
//!
//! STLS runs when the server offers it and is required unless `--stls
//! opportunistic|never`; `--implicit-tls` is POP3S (port 995). Certificates
//! are verified against the Mozilla roots plus `--ca-file`, unless
//! `--insecure`. The login method is the best the server offers (SASL
//! SCRAM, then APOP, then USER/PASS; plaintext only under TLS).
//!
//! Each message is written to the Maildir's `tmp/`, fsynced and renamed into
//! `new/` before the next one is taken, so a crash never leaves a half
//! message. With `--delete`, deletions are committed by QUIT only after every
//! message is safely on disk; any error drops the connection without QUIT so
//! the server keeps everything. `--new-only` keeps the unique ids already
//! fetched in a state file (default `<maildir>/.pop3-fetch-uidl`), one per line.

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use examples::maildir::{Delivery, Maildir};
use examples::net::{Conn, Read};
use indicatif::{ProgressBar, ProgressStyle};
use pop3_proto::{ClientConfig, ClientEvent, ClientSession, Credentials, FetchMode, LoginMethod, TlsMode};
use proto_core::Session;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Fetch mail from a POP3 server into a local Maildir.
#[derive(Parser, Debug)]
#[command(name = "pop3-fetch", version)]
struct Args {
    /// Server host name or address.
    #[arg(long, short = 's', default_value = "127.0.0.1")]
    server: String,
    /// Server port (110 POP3, 995 POP3S).
    #[arg(long, short = 'p', default_value_t = 110)]
    port: u16,
    /// Connect with TLS from the start (POP3S).
    #[arg(long)]
    implicit_tls: bool,
    /// When to run STLS on a plain connection.
    #[arg(long, value_enum, default_value_t = Stls::Required)]
    stls: Stls,
    /// Accept any server certificate (self-signed test servers).
    #[arg(long, short = 'k')]
    insecure: bool,
    /// Extra trusted CA certificates (PEM), on top of the Mozilla roots.
    /// Not with --insecure, which verifies nothing.
    #[arg(long, conflicts_with = "insecure")]
    ca_file: Option<PathBuf>,
    /// Name to verify in the server certificate (default: --server).
    #[arg(long)]
    tls_name: Option<String>,
    /// User name.
    #[arg(long, short = 'u')]
    user: String,
    /// Password (see also --password-file and POP3_PASSWORD).
    #[arg(long)]
    password: Option<String>,
    /// Read the password from the first line of this file.
    #[arg(long, conflicts_with = "password")]
    password_file: Option<PathBuf>,
    /// Allow USER/PASS and plaintext SASL without TLS (trusted links only).
    #[arg(long)]
    allow_plaintext: bool,
    /// The local Maildir (created if missing).
    #[arg(long, short = 'm')]
    maildir: PathBuf,
    /// Delete messages on the server once they are stored here.
    #[arg(long, short = 'd')]
    delete: bool,
    /// Fetch only messages whose unique id is not in the state file.
    #[arg(long, short = 'n')]
    new_only: bool,
    /// The UIDL state file for --new-only (default: MAILDIR/.pop3-fetch-uidl).
    /// Only with --new-only: no other mode reads or writes it.
    #[arg(long, requires = "new_only")]
    state: Option<PathBuf>,
    /// Seconds to wait for the connection and for each answer; at least 1.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// STLS policy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Stls {
    /// Fail unless the server accepts STLS.
    Required,
    /// Use it when the server offers it.
    Opportunistic,
    /// Never.
    Never,
}

type Result<T> = std::result::Result<T, String>;

/// The unique ids already fetched, one per line.
fn load_state(path: &Path) -> Result<HashSet<Bytes>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| Bytes::copy_from_slice(l.as_bytes()))
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Opens (creating if needed) the state file for appending, and fsyncs its
/// directory: the file's own fsync (at the end of a fetch, before QUIT
/// commits any deletion) does not make its directory entry durable
/// (fsync(2): "an explicit fsync() on a file descriptor for the directory
/// is also needed"), and a state file lost in a crash means everything is
/// fetched again. Done on every open, so a file created by a run that
/// crashed before this point is covered too.
fn open_state(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()?;
    Ok(file)
}

/// The most octets a message listed with `size` may bring: RFC 1939 5 says
/// LIST gives its "exact size", but servers differ in how they count line
/// ends, so twice that plus 1 MiB. Without a listed size, no bound.
fn size_limit(size: Option<u64>) -> u64 {
    size.map_or(u64::MAX, |s| s.saturating_mul(2).saturating_add(1 << 20))
}

/// Where the fetch stands.
#[derive(Default)]
struct Totals {
    fetched: u32,
    bytes: u64,
    deleted: u32,
    skipped: u32,
}

struct Fetcher {
    maildir: Maildir,
    state: Option<std::fs::File>,
    known: HashSet<Bytes>,
    /// The message being received, its unique id, and the most octets it
    /// may have (see [`size_limit`]).
    current: Option<(Delivery, Option<Bytes>, u64)>,
    bar: ProgressBar,
    totals: Totals,
}

impl Fetcher {
    fn start(&mut self, uid: Option<Bytes>, size: Option<u64>) -> Result<()> {
        let d = self
            .maildir
            .begin()
            .map_err(|e| format!("{}: {e}", self.maildir.path().display()))?;
        self.current = Some((d, uid, size_limit(size)));
        Ok(())
    }

    fn data(&mut self, chunk: &[u8]) -> Result<()> {
        let (d, _, limit) = self.current.as_mut().ok_or("message data outside a message")?;
        if d.size().saturating_add(chunk.len() as u64) > *limit {
            // Dropping the delivery removes the partial file.
            self.current = None;
            return Err("the server sent a message far larger than it listed; stopped".into());
        }
        d.write_all(chunk)
            .map_err(|e| format!("writing to the Maildir {}: {e}", self.maildir.path().display()))?;
        self.bar.inc(chunk.len() as u64);
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        let (d, uid, _) = self.current.take().ok_or("message end outside a message")?;
        let size = d.size();
        d.commit()
            .map_err(|e| format!("committing to the Maildir {}: {e}", self.maildir.path().display()))?;
        if let (Some(f), Some(uid)) = (self.state.as_mut(), uid) {
            f.write_all(&uid)
                .and_then(|()| f.write_all(b"\n"))
                .map_err(|e| format!("state file: {e}"))?;
            self.known.insert(uid);
        }
        self.totals.fetched += 1;
        self.totals.bytes += size;
        self.bar.set_message(format!("{} messages", self.totals.fetched));
        Ok(())
    }
}

fn read_password(args: &Args) -> Result<String> {
    if let Some(p) = &args.password {
        return Ok(p.clone());
    }
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(text.lines().next().unwrap_or("").to_owned());
    }
    std::env::var("POP3_PASSWORD")
        .map_err(|_| "no password: --password, --password-file or POP3_PASSWORD".into())
}

async fn fetch(args: &Args, f: &mut Fetcher) -> Result<()> {
    let timeout = Duration::from_secs(args.timeout);
    // Read before connecting: a bad --ca-file is reported even when the
    // server is down.
    let connector = examples::tls::connector(args.insecure, args.ca_file.as_deref())
        .map_err(|e| format!("--ca-file: {e}"))?;
    let addr = tokio::net::lookup_host((args.server.as_str(), args.port))
        .await
        .map_err(|e| format!("{}: {e}", args.server))?
        .next()
        .ok_or_else(|| format!("{}: no address", args.server))?;
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| format!("connecting to {addr} timed out"))?
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let tls_name = args.tls_name.clone().unwrap_or_else(|| args.server.clone());
    let mut conn = Conn::Plain(tcp);
    if args.implicit_tls {
        tokio::time::timeout(timeout, conn.start_client_tls(&connector, &tls_name))
            .await
            .map_err(|_| "TLS handshake timed out".to_owned())?
            .map_err(|e| format!("TLS: {e}"))?;
    }

    let mut cfg = ClientConfig::new(Credentials::with_password(
        args.user.clone(),
        read_password(args)?,
    ));
    cfg.tls = match (args.implicit_tls, args.stls) {
        (true, _) => TlsMode::Implicit,
        (false, Stls::Required) => TlsMode::Required,
        (false, Stls::Opportunistic) => TlsMode::Opportunistic,
        (false, Stls::Never) => TlsMode::Disabled,
    };
    cfg.allow_plaintext_without_tls = args.allow_plaintext;
    let mut s = ClientSession::new(cfg, Instant::now());
    let mut buf = vec![0u8; 64 * 1024];
    // Listing pass for the progress bar: uid and size of every message.
    let mut uids: Option<HashMap<u32, pop3_proto::Uid>> = None;
    let mut listed = false;
    let mut quit_ok = false;

    let result: Result<()> = async {
        loop {
            while let Some(ev) = s.poll_event().map_err(|e| format!("POP3 session failed: {e}"))? {
                match ev {
                    ClientEvent::StartTls => {
                        conn.flush_session(&mut s).await.map_err(|e| e.to_string())?;
                        tokio::time::timeout(timeout, conn.start_client_tls(&connector, &tls_name))
                            .await
                            .map_err(|_| "TLS handshake timed out".to_owned())?
                            .map_err(|e| format!("STLS: {e}"))?;
                        s.tls_established().map_err(|e| e.to_string())?;
                    }
                    ClientEvent::LoggedIn(how) => {
                        let how = match how {
                            LoginMethod::Sasl(m) => format!("SASL {m}"),
                            LoginMethod::Apop => "APOP".into(),
                            _ => "USER/PASS".into(),
                        };
                        if !args.quiet {
                            eprintln!(
                                "pop3-fetch: logged in with {how}{}",
                                if conn.is_tls() { " over TLS" } else { "" }
                            );
                        }
                        s.uidl(None).map_err(|e| e.to_string())?;
                        s.list(None).map_err(|e| e.to_string())?;
                    }
                    ClientEvent::UidListing(v) => {
                        uids = Some(v.into_iter().map(|u| (u.msg, u.uid)).collect());
                    }
                    ClientEvent::CommandFailed {
                        command: "UIDL",
                        line,
                    } if args.new_only => {
                        return Err(format!(
                            "the server has no UIDL, needed for --new-only: {}",
                            examples::escape_log_text(&String::from_utf8_lossy(&line.text))
                        ));
                    }
                    // Without UIDL, everything is fetched.
                    ClientEvent::CommandFailed { command: "UIDL", .. } => {}
                    ClientEvent::Listing(v) if !listed => {
                        listed = true;
                        let wanted = |msg: u32| {
                            !args.new_only
                                || uids
                                    .as_ref()
                                    .and_then(|u| u.get(&msg))
                                    .is_none_or(|uid| !f.known.contains(uid.as_bytes()))
                        };
                        let total: u64 = v.iter().filter(|m| wanted(m.msg)).map(|m| m.size).sum();
                        f.bar.set_length(total);
                        let known = f.known.clone();
                        let mode = match (args.delete, args.new_only) {
                            (false, false) => FetchMode::Keep,
                            (true, false) => FetchMode::Delete,
                            (false, true) => FetchMode::KeepNew(known),
                            (true, true) => FetchMode::DeleteKnown(known),
                        };
                        s.fetch(mode).map_err(|e| e.to_string())?;
                    }
                    ClientEvent::MessageStart { uid, size, .. } => f.start(uid, size)?,
                    ClientEvent::MessageData(chunk) => f.data(&chunk)?,
                    ClientEvent::MessageEnd { .. } => f.end()?,
                    ClientEvent::FetchDone { deleted, skipped, .. } => {
                        f.totals.deleted = deleted;
                        f.totals.skipped = skipped;
                        if let Some(st) = f.state.as_mut() {
                            st.sync_all().map_err(|e| format!("state file: {e}"))?;
                        }
                        s.quit().map_err(|e| e.to_string())?;
                    }
                    ClientEvent::CommandFailed { command, line } => {
                        return Err(format!(
                            "{command} failed: {}",
                            examples::escape_log_text(&String::from_utf8_lossy(&line.text))
                        ));
                    }
                    ClientEvent::Closed { quit_ok: ok } => quit_ok = ok,
                    _ => {}
                }
            }
            conn.flush_session(&mut s)
                .await
                .map_err(|e| format!("write: {e}"))?;
            if s.is_closed() {
                return Ok(());
            }
            let read = tokio::time::timeout(timeout, conn.read_into(&mut s, &mut buf, Instant::now))
                .await
                .map_err(|_| "timed out waiting for the server".to_owned())?
                .map_err(|e| format!("read: {e}"))?;
            if read == Read::Eof && s.is_closed() {
                return Ok(());
            }
        }
    }
    .await;
    // On error the connection is dropped without QUIT: nothing is deleted.
    if result.is_ok() {
        let _ = conn.shutdown().await;
    }
    result?;
    if !quit_ok {
        return Err("the server did not confirm QUIT; deletions may not have happened".into());
    }
    Ok(())
}

async fn run(args: Args) -> Result<()> {
    let maildir = Maildir::create(&args.maildir).map_err(|e| format!("{}: {e}", args.maildir.display()))?;
    let state_path = args
        .state
        .clone()
        .unwrap_or_else(|| args.maildir.join(".pop3-fetch-uidl"));
    let (known, state) = if args.new_only {
        let known = load_state(&state_path)?;
        let file = open_state(&state_path).map_err(|e| format!("{}: {e}", state_path.display()))?;
        (known, Some(file))
    } else {
        (HashSet::new(), None)
    };
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{msg:>14} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                .map_err(|e| e.to_string())?
                .progress_chars("=> "),
        );
        b
    };
    let mut f = Fetcher {
        maildir,
        state,
        known,
        current: None,
        bar,
        totals: Totals::default(),
    };
    let r = fetch(&args, &mut f).await;
    f.bar.finish_and_clear();
    r?;
    println!(
        "fetched {} messages ({} bytes), skipped {} known, deleted {} on the server",
        f.totals.fetched, f.totals.bytes, f.totals.skipped, f.totals.deleted
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pop3-fetch: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_file_lines_become_the_known_set() {
        let dir = std::env::temp_dir().join(format!("pop3-fetch-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("uidl");
        assert!(load_state(&p).unwrap().is_empty(), "missing file is an empty set");
        std::fs::write(&p, "abc\n\n  def \nabc\n").unwrap();
        let set = load_state(&p).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.contains(&Bytes::from_static(b"abc")) && set.contains(&Bytes::from_static(b"def")));
        let _ = std::fs::remove_dir_all(dir);
    }
}
