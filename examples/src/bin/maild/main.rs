//! maild: a small, complete mail system on the sans-IO protocol crates.
//!
//! `cargo run --release -p examples --bin maild` starts it with everything on
//! loopback: SMTP/MX on 127.0.0.1:2525, submission with STARTTLS on :2587,
//! submission over implicit TLS on :2465, POP3 with STLS on :1110, POP3S on
//! :1995 and LMTP on :2424, data in `./maildata`, local domain
//! `example.test`, and a demo account whose address and password it prints.
//!
//! * Mail for local accounts goes into their Maildir (`<data>/mail/<address>/`)
//!   with Return-Path and Received fields, durably (fsync, rename, fsync the
//!   directory) before the 250. Unknown local users get 550 at RCPT;
//!   relaying for unauthenticated clients gets 554 5.7.1.
//! * Mail for other domains from authenticated users is spooled durably in
//!   `<data>/queue/` and relayed by the queue runner (MX lookup or
//!   `--relay-host`), retried on a schedule, bounced (RFC 3464) on permanent
//!   failure or when it gives up. Messages another process places there
//!   (`<id>.msg`, then `<id>.env` renamed into place) are picked up within
//!   `--queue-rescan` (1 minute) without a restart. An envelope that does
//!   not parse for a minute is moved with its message to
//!   `<data>/queue/corrupt/` (logged; never deleted), and the sender, when
//!   the envelope still names one, gets a failure report saying so.
//! * Accounts keep SCRAM-SHA-256 keys only (`<data>/accounts`); AUTH offers
//!   SCRAM-SHA-256 (before TLS too: it never exposes the password), PLAIN
//!   and LOGIN only once TLS is on.
//! * One maild per data directory: a second one started on it refuses to
//!   start (an exclusive lock on `<data>/maild.lock`), so no message is
//!   relayed twice by two queue runners.
//! * POP3 serves each account's Maildir (UIDL from unique names, deletion on
//!   QUIT only, [IN-USE] lock).
// The `///` comments on `Args` are clap's --help text, written for a
// terminal: `<address>`, `<data>` and `[:PORT]` there are not HTML or links.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

mod accounts;
mod dsn;
mod pop3;
mod queue;
mod smtp;
mod store;

use accounts::Accounts;
use clap::Parser;
use examples::durable::{Committer, SyncMode};
use examples::spool::{RetrySchedule, Spool};
use queue::QueueConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use store::LocalStore;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};
use tokio_rustls::TlsAcceptor;

/// Prints a line on stdout; a closed stdout (the reader went away) is not
/// worth a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// A listener address, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Listen(Option<SocketAddr>);

impl FromStr for Listen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("off") || s.eq_ignore_ascii_case("none") {
            return Ok(Listen(None));
        }
        s.parse()
            .map(|a| Listen(Some(a)))
            .map_err(|e| format!("{s:?}: {e} (expected IP:PORT or off)"))
    }
}

/// Parses `90`, `90s`, `5m`, `2h`, `5d` (seconds when there is no unit).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with s, m, h or d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use s, m, h or d)")),
    };
    Ok(Duration::from_secs(n.saturating_mul(mult)))
}

/// As [`parse_duration`], for a timeout: at least one second (0 would end
/// every session or attempt at once).
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("{s:?}: must be at least 1s"));
    }
    Ok(d)
}

/// `file` or `filesystem` for --sync.
fn parse_sync_mode(s: &str) -> Result<SyncMode, String> {
    match s {
        "file" => Ok(SyncMode::PerFile),
        "filesystem" => Ok(SyncMode::FileSystem),
        _ => Err(format!("{s:?}: expected file or filesystem")),
    }
}

/// `host:port` for --relay-host (port 25 when missing).
fn parse_host_port(s: &str) -> Result<(String, u16), String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok((a.ip().to_string(), a.port()));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !h.contains(':') => {
            Ok((h.to_owned(), p.parse().map_err(|_| format!("{s:?}: bad port"))?))
        }
        None if !s.is_empty() => Ok((s.to_owned(), 25)),
        _ => Err(format!("{s:?}: expected HOST[:PORT]")),
    }
}

/// A small mail server: SMTP in, Maildir, relay queue out, POP3 and LMTP.
///
/// With no arguments it serves ./maildata for example.test on loopback and
/// prints a demo account. Every listener takes IP:PORT (port 0 picks a free
/// one; the chosen addresses are printed) or `off`.
#[derive(Parser, Debug)]
#[command(name = "maild", version)]
struct Args {
    /// Data directory: accounts, mailboxes (mail/<address>/), relay queue
    /// (queue/), TLS certificate (tls/). One maild at a time: a second one
    /// on the same directory refuses to start (lock on maild.lock).
    #[arg(long, default_value = "maildata")]
    data_dir: PathBuf,
    /// A local domain (repeatable); the first is the default for bare user names.
    /// Domains of --user accounts are local too.
    #[arg(long = "domain", default_value = "example.test")]
    domains: Vec<String>,
    /// An account `ADDRESS:PASSWORD` (repeatable), created or updated at start.
    /// Without any account at all, a demo account is created once and its
    /// password kept in <data>/demo-password (mode 0600).
    #[arg(long = "user", value_name = "ADDRESS:PASSWORD")]
    users: Vec<String>,
    /// The server's name in greetings, Received fields and EHLO when relaying
    /// (default: this machine's host name): an ASCII domain name (A-labels
    /// for an internationalised one) or an address literal.
    #[arg(long)]
    hostname: Option<String>,
    /// SMTP/MX listener: local delivery for anyone, relaying after AUTH.
    #[arg(long, default_value = "127.0.0.1:2525")]
    smtp_listen: Listen,
    /// Submission listener (RFC 6409): STARTTLS, AUTH required.
    #[arg(long, default_value = "127.0.0.1:2587")]
    submission_listen: Listen,
    /// Submission over implicit TLS (RFC 8314, like port 465): AUTH required.
    #[arg(long, default_value = "127.0.0.1:2465")]
    submissions_listen: Listen,
    /// POP3 listener (STLS offered; passwords only under TLS).
    #[arg(long, default_value = "127.0.0.1:1110")]
    pop3_listen: Listen,
    /// POP3 over implicit TLS (like port 995).
    #[arg(long, default_value = "127.0.0.1:1995")]
    pop3s_listen: Listen,
    /// LMTP listener (RFC 2033): local recipients, one reply each.
    #[arg(long, default_value = "127.0.0.1:2424")]
    lmtp_listen: Listen,
    /// PEM certificate chain for TLS (with --key). Default: a self-signed
    /// certificate made once and kept in <data>/tls/.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key (with --cert).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Largest message in bytes (announced with SIZE; larger ones get 552).
    /// 0 means no limit: SIZE is announced without a number (RFC 1870 4).
    #[arg(long, default_value_t = 35 * 1024 * 1024)]
    max_message_size: u64,
    /// Most recipients per message (more get 452), at least 1. Below 100
    /// breaks RFC 5321 4.5.3.1.8, which asks a server to accept 100 (maild
    /// then logs a warning at start).
    #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_recipients: usize,
    /// Most simultaneous connections over all listeners (more get 421), at
    /// least 1.
    #[arg(long, default_value_t = 512, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_connections: usize,
    /// SMTP/LMTP idle and per-command timeout (RFC 5321 4.5.3.2.7: 5m), at
    /// least 1s.
    #[arg(long, default_value = "5m", value_parser = parse_timeout)]
    smtp_timeout: Duration,
    /// POP3 autologout timer (RFC 1939: at least 10m), at least 1s.
    #[arg(long, default_value = "10m", value_parser = parse_timeout)]
    pop3_timeout: Duration,
    /// Delay before answering a failed login (slows password guessing), in ms.
    #[arg(long, default_value_t = 1000)]
    login_delay_ms: u64,
    /// Relay everything for other domains to this smart host (HOST[:PORT])
    /// instead of looking up MX records.
    #[arg(long, value_parser = parse_host_port)]
    relay_host: Option<(String, u16)>,
    /// Extra trust anchors (PEM file) for verifying the --relay-host
    /// certificate, besides the web PKI roots. Only with --relay-host: MX
    /// hosts are not verified (see --relay-insecure).
    #[arg(long, value_name = "FILE", requires = "relay_host")]
    relay_ca: Option<PathBuf>,
    /// Do not require or verify TLS to the --relay-host (opportunistic
    /// STARTTLS, any certificate). Only with --relay-host: MX hosts are
    /// always contacted that way (RFC 7435); a configured smart host is
    /// verified by default.
    #[arg(long, requires = "relay_host")]
    relay_insecure: bool,
    /// Log in to the --relay-host with AUTH (the strongest mechanism both
    /// sides support; plaintext ones only under TLS). Only with
    /// --relay-host: MX hosts are not logged in to.
    #[arg(long, value_name = "USER:PASSWORD", requires = "relay_host")]
    relay_auth: Option<String>,
    /// DNS server (IP:PORT) for MX lookups (default: /etc/resolv.conf).
    /// Not with --relay-host, which replaces MX lookups.
    #[arg(long, conflicts_with = "relay_host")]
    dns_server: Option<SocketAddr>,
    /// Port MX hosts (and address literals) are contacted on. Not with
    /// --relay-host, which carries its own port.
    #[arg(long, default_value_t = 25, conflicts_with = "relay_host")]
    mx_port: u16,
    /// First retry after a temporary failure (units s, m, h, d).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    retry_first: Duration,
    /// Later retries, this far apart.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    retry_interval: Duration,
    /// Give up (and bounce) a message this long after it was queued.
    #[arg(long, default_value = "5d", value_parser = parse_duration)]
    give_up: Duration,
    /// Tell the sender (one "delayed" DSN) when a message is still queued
    /// this long after it arrived; 0 for never.
    #[arg(long, default_value = "4h", value_parser = parse_duration)]
    delay_warning: Duration,
    /// At SIGINT/SIGTERM, how long relay attempts in flight may take to
    /// finish (one that has not sent its body yet stops at once and stays
    /// queued).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    shutdown_grace: Duration,
    /// Let authenticated users send with any MAIL FROM address (by default
    /// it must be one of their own or empty, RFC 6409 6.1; else 553 5.7.1).
    #[arg(long)]
    allow_any_sender: bool,
    /// On the submission port, serve nothing but EHLO, NOOP, STARTTLS and
    /// QUIT before STARTTLS: every other command, AUTH SCRAM included, gets
    /// 530 5.7.0 (RFC 3207 4). Without it SCRAM-SHA-256 may log in before
    /// TLS (it never exposes the password), though mail is still refused
    /// until a login.
    #[arg(long)]
    submission_require_tls: bool,
    /// Relay to address literals naming loopback, private, link-local or
    /// unspecified addresses, and to MX hosts whose addresses are loopback
    /// or unspecified. Refused by default: a user who may relay could make
    /// maild connect to internal services. For lab setups with fake DNS
    /// on loopback.
    #[arg(long)]
    allow_internal_relay: bool,
    /// How the writer thread makes a batch of new messages durable before
    /// renaming them into place: `file` (fdatasync of each file) or
    /// `filesystem` (one syncfs of the data file system per batch, which
    /// also writes back any other dirty data there). Either way every 250
    /// comes after the message's data, its rename and the directory are on
    /// stable storage.
    #[arg(long, default_value = "file", value_parser = parse_sync_mode)]
    sync: SyncMode,
    /// Threads running connections (0: one per CPU). Disk writes have a
    /// thread of their own (see --sync), so one is often enough.
    #[arg(long, default_value_t = 0)]
    worker_threads: usize,
    /// Timeout for connecting to a next hop and for TLS handshakes, at
    /// least 1s.
    #[arg(long, default_value = "30s", value_parser = parse_timeout)]
    connect_timeout: Duration,
    /// Relaying: how long one write to a next hop may take (RFC 5321
    /// 4.5.3.2.5, "Data block: 3 minutes"); a hop that stops reading then
    /// fails the attempt, which is retried; at least 1s.
    #[arg(long, default_value = "3m", value_parser = parse_timeout)]
    data_block_timeout: Duration,
    /// How often the queue directory is listed for messages placed there
    /// while maild runs (by hand or by another process: write `<id>.msg`,
    /// then rename `<id>.env` into place); 0 for only at start. An envelope
    /// that did not read is read again, without a listing, once it has
    /// been unchanged for a minute (and quarantined if still damaged).
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    queue_rescan: Duration,
}

/// What every connection shares.
pub(crate) struct Shared {
    pub(crate) hostname: String,
    pub(crate) accounts: Accounts,
    pub(crate) store: LocalStore,
    pub(crate) spool: Spool,
    /// The writer thread that makes deliveries and queued messages durable.
    pub(crate) committer: Committer,
    pub(crate) queue_wake: Notify,
    /// When each queued message is next due (see [`queue::Schedule`]).
    pub(crate) schedule: queue::Schedule,
    pub(crate) acceptor: Option<TlsAcceptor>,
    pub(crate) smtp_limits: smtp_proto::Limits,
    pub(crate) smtp_timeout: Duration,
    /// POP3 limits, the autologout timer from `--pop3-timeout` among them.
    pub(crate) pop3_limits: pop3_proto::Limits,
    pub(crate) login_delay: Duration,
    pub(crate) tls_timeout: Duration,
    /// Authenticated users may use any MAIL FROM.
    pub(crate) allow_any_sender: bool,
    /// Submission serves only EHLO, NOOP, STARTTLS and QUIT before TLS.
    pub(crate) submission_require_tls: bool,
    /// Internal address literals are relayed to (`--allow-internal-relay`).
    pub(crate) allow_internal_relay: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Smtp(smtp::Kind),
    Pop3 { implicit: bool },
}

fn system_hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let h = raw.trim();
    if h.is_empty() {
        "localhost".into()
    } else {
        h.to_owned()
    }
}

fn main() -> std::process::ExitCode {
    examples::init_logging("info");
    let args = Args::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if args.worker_threads > 0 {
        builder.worker_threads(args.worker_threads);
    }
    let result = builder
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))
        .and_then(|rt| rt.block_on(run(args)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("maild: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Creates or loads the accounts; prints how to log in to the demo account.
fn setup_accounts(args: &Args) -> Result<Accounts, String> {
    let data = &args.data_dir;
    let mut accounts = Accounts::load(data, args.domains.clone()).map_err(|e| format!("accounts: {e}"))?;
    accounts.adopt_account_domains();
    let mut changed = false;
    for spec in &args.users {
        let (addr, pw) = accounts::parse_user(spec)?;
        changed |= accounts
            .set(&addr, &pw)
            .map_err(|e| format!("--user {addr}: {e}"))?;
    }
    let demo_file = data.join("demo-password");
    let demo_addr = format!("demo@{}", accounts.primary_domain());
    if accounts.is_empty() {
        let pw = accounts::random_password().map_err(|e| format!("random password: {e}"))?;
        accounts
            .set(&demo_addr, &pw)
            .map_err(|e| format!("demo account: {e}"))?;
        accounts::write_private(&demo_file, format!("{demo_addr}\n{pw}\n").as_bytes())
            .map_err(|e| format!("{}: {e}", demo_file.display()))?;
        changed = true;
        say!("maild: created the demo account {demo_addr} with password {pw}");
    } else if let Ok(text) = std::fs::read_to_string(&demo_file) {
        let mut lines = text.lines();
        if let (Some(addr), Some(pw)) = (lines.next(), lines.next())
            && accounts.resolve(addr).is_some()
        {
            say!(
                "maild: demo account {addr}, password {pw} (kept in {})",
                demo_file.display()
            );
        }
    }
    if changed {
        accounts.save().map_err(|e| format!("saving accounts: {e}"))?;
    }
    let list: Vec<&str> = accounts.addresses().map(String::as_str).collect();
    say!("maild: accounts: {}", list.join(", "));
    say!("maild: local domains: {}", accounts.domains().join(", "));
    Ok(accounts)
}

/// The server's name as maild uses it: in greetings, Received fields, the
/// Message-ID added to submissions, MAILER-DAEMON's address and the EHLO
/// it relays with. It must be an ASCII domain or address literal (RFC 5321
/// 4.1.2 and 4.2; RFC 6531 3.7.1: A-labels only; RFC 1035 2.3.4: labels
/// of at most 63 octets), which smtp-proto would
/// otherwise replace by `localhost` in replies alone. A `--hostname` that
/// is not is refused; this machine's own name is replaced by `localhost`
/// (with a warning), as maild ran before.
fn own_name(name: String, given: bool) -> Result<String, String> {
    // Labels of at most 63 octets (RFC 1035 2.3.4), which the parser
    // leaves to DNS.
    let labels_fit = name.starts_with('[') || name.split('.').all(|l| l.len() <= 63);
    if name.is_ascii() && labels_fit && smtp_proto::Host::parse(name.as_bytes()).is_ok() {
        return Ok(name);
    }
    if given {
        return Err(format!(
            "--hostname {name:?}: not an ASCII domain name or address literal (RFC 5321 section 4.1.2)"
        ));
    }
    tracing::warn!(host_name = ?name, "this machine's host name is not a domain name: using localhost (see --hostname)");
    Ok("localhost".to_owned())
}

/// Takes the lock that makes a data directory one maild's: two would both
/// run its queue, and relay every queued message twice (RFC 5321 6.1: a
/// message is delivered once). An exclusive `flock` on `<data>/maild.lock`,
/// held while the returned file is open and dropped by the kernel when the
/// process ends, kill -9 included, so it never goes stale.
fn lock_data_dir(data: &std::path::Path) -> Result<std::fs::File, String> {
    let path = data.join("maild.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(format!(
            "another maild is using {} (it holds the lock on {})",
            data.display(),
            path.display()
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

async fn run(args: Args) -> Result<(), String> {
    let data = args.data_dir.clone();
    let hostname = args.hostname.clone().unwrap_or_else(system_hostname);
    // It names the server in greetings and is the domain of MAILER-DAEMON in
    // reports, which needs one (RFC 5322 section 3.4.1).
    if hostname.trim().is_empty() {
        return Err("--hostname must not be empty".into());
    }
    let hostname = own_name(hostname, args.hostname.is_some())?;
    // A given --cert and --key are read (and must make a TLS server) before
    // anything is created: a mistyped path leaves no data directory or demo
    // account behind.
    let given = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => {
            let identity = examples::tls::load_pem(c, k).map_err(|e| format!("TLS certificate: {e}"))?;
            Some(examples::tls::acceptor(identity).map_err(|e| format!("TLS: {e}"))?)
        }
        _ => None,
    };
    examples::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    // Held until maild ends (the kernel drops it then, however it ends).
    let _data_lock = lock_data_dir(&data)?;
    let acceptor = match given {
        Some(acceptor) => acceptor,
        None => examples::tls::load_or_create_self_signed(
            &data.join("tls"),
            &[
                hostname.clone(),
                "localhost".into(),
                "127.0.0.1".into(),
                "::1".into(),
            ],
        )
        .map_err(|e| format!("TLS certificate: {e}"))
        .and_then(|identity| examples::tls::acceptor(identity).map_err(|e| format!("TLS: {e}")))?,
    };
    let accounts = setup_accounts(&args)?;
    let store = LocalStore::new(data.join("mail")).map_err(|e| format!("mailboxes: {e}"))?;
    let cleaned = store.clean_tmp();
    // Opening the spool drops what a crash left half-written; every queued
    // message (its envelope exists) is picked up by the runner.
    let spool = Spool::open(data.join("queue")).map_err(|e| format!("queue: {e}"))?;
    // The queue runner's schedule: the spool's envelopes are read once here.
    let schedule = queue::Schedule::load(&spool).map_err(|e| format!("queue: {e}"))?;
    let queued = schedule.len();
    tracing::info!(queued, stale_tmp_removed = cleaned, "recovered state");
    let smtp_limits = smtp_proto::Limits {
        message_size: args.max_message_size,
        recipients: args.max_recipients,
        ..smtp_proto::Limits::default()
    };
    let mut pop3_limits = pop3_proto::Limits::default();
    pop3_limits.autologout = args.pop3_timeout;
    // Allowed as a site's policy, but clients may rely on the RFC minimums.
    for shortfall in smtp_limits.shortfalls() {
        tracing::warn!("smtp: {shortfall}");
    }
    for shortfall in pop3_limits.shortfalls() {
        tracing::warn!("pop3: {shortfall}");
    }
    let shared = Arc::new(Shared {
        hostname: hostname.clone(),
        accounts,
        store,
        spool,
        committer: Committer::start(args.sync).map_err(|e| format!("writer thread: {e}"))?,
        queue_wake: Notify::new(),
        schedule,
        acceptor: Some(acceptor),
        smtp_limits,
        smtp_timeout: args.smtp_timeout,
        pop3_limits,
        login_delay: Duration::from_millis(args.login_delay_ms),
        tls_timeout: args.connect_timeout,
        allow_any_sender: args.allow_any_sender,
        submission_require_tls: args.submission_require_tls,
        allow_internal_relay: args.allow_internal_relay,
    });
    let resolver = if args.relay_host.is_none() {
        Some(examples::mx::resolver(args.dns_server).map_err(|e| format!("DNS resolver: {e}"))?)
    } else {
        None
    };

    // The relay settings are checked before anything listens: a bad
    // --relay-ca is one line, not six "listening" lines and then a stop.
    let mx_connector = examples::tls::connector(true, None).map_err(|e| format!("TLS client: {e}"))?;
    let relay_connector = examples::tls::connector(args.relay_insecure, args.relay_ca.as_deref())
        .map_err(|e| format!("--relay-ca: {e}"))?;
    let relay_auth = match &args.relay_auth {
        Some(spec) => {
            let (user, pw) = spec
                .split_once(':')
                .ok_or("--relay-auth: expected USER:PASSWORD")?;
            Some(sasl::Credentials::with_password(user, pw))
        }
        None => None,
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    let limit = Arc::new(Semaphore::new(args.max_connections));
    let mut listeners = tokio::task::JoinSet::new();
    let services = [
        ("smtp", args.smtp_listen, Service::Smtp(smtp::Kind::Mx)),
        (
            "submission",
            args.submission_listen,
            Service::Smtp(smtp::Kind::Submission),
        ),
        (
            "submissions",
            args.submissions_listen,
            Service::Smtp(smtp::Kind::Submissions),
        ),
        ("pop3", args.pop3_listen, Service::Pop3 { implicit: false }),
        ("pop3s", args.pop3s_listen, Service::Pop3 { implicit: true }),
        ("lmtp", args.lmtp_listen, Service::Smtp(smtp::Kind::Lmtp)),
    ];
    let conns = Arc::new(tokio_util_free::Tracker::default());
    let (mut int, mut term) = examples::stop_signals().map_err(|e| format!("signal: {e}"))?;
    let mut smtp_listen = None;
    for (name, listen, service) in services {
        let Some(addr) = listen.0 else { continue };
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("{name} listen {addr}: {e}"))?;
        let local = l.local_addr().map_err(|e| e.to_string())?;
        say!("maild: {name} listening on {local}");
        if service == Service::Smtp(smtp::Kind::Mx) {
            smtp_listen = Some(local);
        }
        listeners.spawn(accept_loop(
            l,
            shared.clone(),
            limit.clone(),
            service,
            stop_rx.clone(),
            conns.clone(),
        ));
    }
    let qcfg = Arc::new(QueueConfig {
        relay_host: args.relay_host.clone(),
        mx_port: args.mx_port,
        resolver,
        schedule: RetrySchedule {
            first: args.retry_first,
            interval: args.retry_interval,
            give_up: args.give_up,
        },
        mx_connector,
        relay_connector,
        relay_tls: if args.relay_insecure {
            smtp_proto::TlsPolicy::Opportunistic
        } else {
            smtp_proto::TlsPolicy::Required
        },
        relay_auth,
        data_block: args.data_block_timeout,
        connect_timeout: args.connect_timeout,
        delay_warning: (!args.delay_warning.is_zero()).then_some(args.delay_warning),
        grace: args.shutdown_grace,
        allow_internal: args.allow_internal_relay,
        smtp_listen,
        rescan: (!args.queue_rescan.is_zero()).then_some(args.queue_rescan),
    });
    let queue_task = tokio::spawn(queue::run(shared.clone(), qcfg, stop_rx.clone()));
    say!("maild: ready (host name {hostname}, data in {})", data.display());
    tokio::select! {
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        Some(r) = listeners.join_next() => return Err(format!("listener stopped: {r:?}")),
    }
    // Stop accepting, tell every session and the queue runner, and wait
    // (bounded) for them: a message is either committed (fsynced, renamed)
    // or its temporary file is removed; nothing is left half-written.
    listeners.shutdown().await;
    let _ = stop_tx.send(true);
    // Saturating: a huge --shutdown-grace means "wait as long as it takes",
    // not an overflow panic.
    let _ = tokio::time::timeout(
        args.shutdown_grace.saturating_add(Duration::from_secs(5)),
        async {
            let _ = queue_task.await;
            conns.wait_idle().await;
        },
    )
    .await;
    let stats = shared.committer.stats();
    tracing::info!(
        durable_writes = stats.plans.load(std::sync::atomic::Ordering::Relaxed),
        rounds = stats.rounds.load(std::sync::atomic::Ordering::Relaxed),
        "writer thread"
    );
    say!("maild: stopped");
    Ok(())
}

/// Counts live connections so shutdown can wait for them.
mod tokio_util_free {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::Notify;

    #[derive(Default)]
    pub(crate) struct Tracker {
        live: AtomicUsize,
        idle: Notify,
    }

    /// Decrements on drop.
    pub(crate) struct Guard<'a>(&'a Tracker);

    impl Tracker {
        pub(crate) fn enter(&self) -> Guard<'_> {
            self.live.fetch_add(1, Ordering::SeqCst);
            Guard(self)
        }

        pub(crate) async fn wait_idle(&self) {
            loop {
                let notified = self.idle.notified();
                if self.live.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        }
    }

    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            if self.0.live.fetch_sub(1, Ordering::SeqCst) == 1 {
                self.0.idle.notify_waiters();
            }
        }
    }
}

async fn accept_loop(
    l: TcpListener,
    shared: Arc<Shared>,
    limit: Arc<Semaphore>,
    service: Service,
    stop: watch::Receiver<bool>,
    conns: Arc<tokio_util_free::Tracker>,
) {
    loop {
        let (tcp, peer) = match l.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached");
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut tcp = tcp;
                let msg: &[u8] = match service {
                    Service::Smtp(smtp::Kind::Submissions) | Service::Pop3 { implicit: true } => b"",
                    Service::Smtp(_) => b"421 4.7.0 Too many connections, try again later\r\n",
                    Service::Pop3 { .. } => b"-ERR [SYS/TEMP] too many connections\r\n",
                };
                let _ = tcp.write_all(msg).await;
                let _ = tcp.shutdown().await;
            });
            continue;
        };
        let (shared, stop, conns) = (shared.clone(), stop.clone(), conns.clone());
        tokio::spawn(async move {
            let _live = conns.enter();
            tracing::debug!(%peer, ?service, "connection");
            let r = match service {
                Service::Smtp(kind) => smtp::serve(tcp, peer, shared, kind, stop).await,
                Service::Pop3 { implicit } => pop3::serve(tcp, peer, shared, implicit, stop).await,
            };
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_hosts_and_listeners() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("5d").unwrap(), Duration::from_secs(432_000));
        assert!(parse_duration("5y").is_err());
        assert!(parse_timeout("0s").is_err());
        assert_eq!(parse_timeout("1").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_host_port("mx.test").unwrap(), ("mx.test".into(), 25));
        assert_eq!(
            parse_host_port("127.0.0.1:2526").unwrap(),
            ("127.0.0.1".into(), 2526)
        );
        assert_eq!(parse_host_port("[::1]:26").unwrap(), ("::1".into(), 26));
        assert_eq!("off".parse::<Listen>().unwrap(), Listen(None));
        assert!("nonsense".parse::<Listen>().is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
        let a = Args::try_parse_from(["maild", "--user", "a@b.test:x", "--retry-first", "1s"]).unwrap();
        assert_eq!(a.retry_first, Duration::from_secs(1));
        assert_eq!(a.domains, vec!["example.test".to_owned()]);
        assert_eq!(a.smtp_listen, Listen(Some("127.0.0.1:2525".parse().unwrap())));
    }
}
