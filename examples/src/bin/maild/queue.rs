//! The queue runner: delivers spooled messages to the next hop (the smart
//! host, or the recipient domain's MX hosts) with smtp-proto's
//! `ClientSession`, STARTTLS when offered, and records per-recipient results
//! in the spool. Temporary failures are retried on the `RetrySchedule`;
//! permanent failures and giving up produce a DSN to the sender.

use crate::Shared;
use crate::dsn;
use crate::store::unix_now;
use examples::mx;
use examples::net::{Conn, Read};
use examples::spool::{Envelope, RcptStatus, RetrySchedule};
use hickory_resolver::TokioResolver;
use smtp_proto::{ClientConfig, ClientEvent, ClientSession, Recipient, Reply, TlsPolicy};
use std::collections::{BTreeMap, HashSet};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsConnector;

/// Most messages in delivery at once.
const PARALLEL: usize = 16;

/// How the runner reaches next hops.
pub(crate) struct QueueConfig {
    /// Send everything to this host and port instead of looking up MX records.
    pub(crate) relay_host: Option<(String, u16)>,
    /// The port MX hosts are contacted on (25 in real life).
    pub(crate) mx_port: u16,
    /// DNS resolver for MX lookups (unused with a relay host).
    pub(crate) resolver: Option<TokioResolver>,
    /// When to retry and when to give up.
    pub(crate) schedule: RetrySchedule,
    /// Opportunistic STARTTLS: certificates are not verified (as MTAs do
    /// for unauthenticated opportunistic TLS, RFC 7435).
    pub(crate) connector: TlsConnector,
    /// Bound on connecting and on the TLS handshake.
    pub(crate) connect_timeout: Duration,
}

/// What happened to one recipient in one attempt.
#[derive(Debug, Clone)]
enum Outcome {
    Delivered,
    Permanent(u16, String),
    Temporary(String),
}

/// The reply's text on one line, its enhanced status code first.
fn reply_text(r: &Reply) -> String {
    let text = r
        .lines()
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    match r.enhanced() {
        Some(e) => format!("{e} {text}"),
        None => text,
    }
}

fn outcome_of(r: &Reply) -> Outcome {
    if r.is_positive() {
        Outcome::Delivered
    } else if r.is_permanent() {
        Outcome::Permanent(r.code(), reply_text(r))
    } else {
        Outcome::Temporary(format!("{} {}", r.code(), reply_text(r)))
    }
}

/// Runs until shutdown.
pub(crate) async fn run(shared: Arc<Shared>, q: Arc<QueueConfig>, mut shutdown: watch::Receiver<bool>) {
    let mut busy: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<String> = JoinSet::new();
    loop {
        while let Some(done) = tasks.try_join_next() {
            if let Ok(id) = done {
                busy.remove(&id);
            }
        }
        let due = tokio::task::block_in_place(|| shared.spool.due(unix_now()));
        match due {
            Ok(list) => {
                for (id, env) in list {
                    if tasks.len() >= PARALLEL {
                        break;
                    }
                    if busy.insert(id.clone()) {
                        let (shared, q) = (shared.clone(), q.clone());
                        tasks.spawn(async move {
                            attempt(&shared, &q, &id, env).await;
                            id
                        });
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "reading the spool"),
        }
        tokio::select! {
            () = shared.queue_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            Some(done) = tasks.join_next() => {
                if let Ok(id) = done {
                    busy.remove(&id);
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    // Attempts in flight are dropped: the spool still holds their last
    // recorded state, so they are simply tried again after a restart.
    tasks.shutdown().await;
}

/// One delivery attempt for a queued message.
async fn attempt(shared: &Shared, q: &QueueConfig, id: &str, mut env: Envelope) {
    // The body is streamed from the spool file on each attempt, never held whole.
    let path = shared.spool.message_path(id);
    let size = match tokio::fs::metadata(&path).await {
        Ok(m) => m.len(),
        Err(e) => {
            tracing::error!(%id, error = %e, "queued message unreadable");
            return;
        }
    };
    // Pending recipients grouped by domain.
    let mut by_domain: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in env.recipients.iter().enumerate() {
        if r.status == RcptStatus::Pending {
            let domain = r
                .address
                .rsplit_once('@')
                .map_or("", |(_, d)| d)
                .to_ascii_lowercase();
            by_domain.entry(domain).or_default().push(i);
        }
    }
    for (domain, idxs) in by_domain {
        let rcpts: Vec<String> = idxs.iter().map(|&i| env.recipients[i].address.clone()).collect();
        let outcomes = deliver_domain(shared, q, &domain, &env, &rcpts, (&path, size)).await;
        for (&i, o) in idxs.iter().zip(outcomes) {
            let r = &mut env.recipients[i];
            match o {
                Outcome::Delivered => {
                    tracing::info!(%id, to = %r.address, "relayed");
                    r.status = RcptStatus::Delivered;
                }
                Outcome::Permanent(code, text) => {
                    tracing::info!(%id, to = %r.address, code, %text, "refused permanently");
                    r.status = RcptStatus::Failed { code, text };
                }
                Outcome::Temporary(text) => {
                    tracing::info!(%id, to = %r.address, %text, "deferred");
                    r.last_error = Some(text);
                }
            }
        }
    }
    env.attempts += 1;
    let now = unix_now();
    if !env.is_finished() {
        match q.schedule.next_attempt(env.created, env.attempts, now) {
            Some(next) => {
                env.next_attempt = next;
                if let Err(e) = tokio::task::block_in_place(|| shared.spool.update(id, &env)) {
                    tracing::error!(%id, error = %e, "updating the spool");
                }
                return;
            }
            None => {
                for r in &mut env.recipients {
                    if r.status == RcptStatus::Pending {
                        let last = r.last_error.clone().unwrap_or_else(|| "no answer".into());
                        r.status = RcptStatus::Failed {
                            code: 0,
                            text: format!(
                                "4.4.7 delivery time expired after {} attempts; last error: {last}",
                                env.attempts
                            ),
                        };
                    }
                }
            }
        }
    }
    finish(shared, id, &env, &head_of(&path), now);
}

/// The start of a queued message, enough for its header section (the bounce
/// quotes only the header).
fn head_of(path: &std::path::Path) -> Vec<u8> {
    use std::io::Read;
    let mut head = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(256 * 1024).read_to_end(&mut head);
    }
    head
}

/// Every recipient is done: bounce the failures, drop the message.
fn finish(shared: &Shared, id: &str, env: &Envelope, message: &[u8], now: u64) {
    let any_failed = env
        .recipients
        .iter()
        .any(|r| matches!(r.status, RcptStatus::Failed { .. }));
    if any_failed {
        if env.sender.is_empty() {
            tracing::warn!(%id, "undeliverable bounce dropped (null sender)");
        } else {
            match dsn::bounce(&shared.hostname, env, message, now) {
                Ok(report) => {
                    if let Err(e) = send_bounce(shared, &env.sender, &report) {
                        // Keep the message so the bounce is tried again later.
                        tracing::error!(%id, error = %e, "bounce could not be stored");
                        return;
                    }
                    tracing::info!(%id, to = %env.sender, "bounce sent");
                }
                Err(e) => tracing::error!(%id, error = %e, "bounce could not be built"),
            }
        }
    }
    if let Err(e) = tokio::task::block_in_place(|| shared.spool.remove(id)) {
        tracing::error!(%id, error = %e, "removing from the spool");
    }
}

/// Delivers a bounce: locally if the sender is ours, else through the queue
/// with the null sender (so it can never bounce back).
fn send_bounce(shared: &Shared, sender: &str, report: &[u8]) -> io::Result<()> {
    tokio::task::block_in_place(|| {
        let local = sender
            .rsplit_once('@')
            .filter(|(_, d)| shared.accounts.is_local_domain(d))
            .map(|_| shared.accounts.resolve(sender));
        match local {
            Some(Some(account)) => shared.store.deliver(&account, "", report).map(|_| ()),
            Some(None) => {
                tracing::warn!(%sender, "bounce for an unknown local sender dropped");
                Ok(())
            }
            None => {
                use std::io::Write;
                let mut w = shared.spool.begin()?;
                w.write_all(report)?;
                let mut env = Envelope::new("", &[sender.to_owned()], unix_now());
                env.smtputf8 = !sender.is_ascii();
                w.commit(&env)?;
                shared.queue_wake.notify_one();
                Ok(())
            }
        }
    })
}

/// Tries the next hops for one domain in order; the first that gives an
/// answer for the recipients decides.
async fn deliver_domain(
    shared: &Shared,
    q: &QueueConfig,
    domain: &str,
    env: &Envelope,
    rcpts: &[String],
    message: (&std::path::Path, u64),
) -> Vec<Outcome> {
    let all = |o: Outcome| vec![o; rcpts.len()];
    let hosts: Vec<(String, u16)> = match (&q.relay_host, &q.resolver) {
        (Some(h), _) => vec![h.clone()],
        (None, Some(resolver)) => match mx::mx_hosts(resolver, domain).await {
            Ok(hosts) => hosts.into_iter().map(|h| (h, q.mx_port)).collect(),
            Err(e) if e.is_permanent() => return all(Outcome::Permanent(0, format!("5.1.2 {e}"))),
            Err(e) => return all(Outcome::Temporary(e.to_string())),
        },
        (None, None) => return all(Outcome::Temporary("no resolver configured".into())),
    };
    let mut last = String::from("no next hop");
    for (host, port) in hosts {
        match deliver_to(shared, q, &host, port, env, rcpts, message).await {
            Ok(outcomes) => return outcomes,
            Err(e) => {
                tracing::info!(%host, port, error = %e, "next hop failed");
                last = format!("{host}:{port}: {e}");
            }
        }
    }
    all(Outcome::Temporary(last))
}

/// Connects to a next hop: MX hosts are resolved with the configured
/// resolver (every address tried in turn), a smart host with the system's.
async fn connect(q: &QueueConfig, host: &str, port: u16) -> io::Result<TcpStream> {
    let (Some(resolver), None, Err(_)) = (&q.resolver, &q.relay_host, host.parse::<std::net::IpAddr>())
    else {
        return tokio::time::timeout(q.connect_timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?;
    };
    let ips = resolver
        .lookup_ip(format!("{}.", host.trim_end_matches('.')))
        .await
        .map_err(|e| io::Error::other(format!("address of {host}: {e}")))?;
    let mut last = io::Error::other(format!("{host} has no address"));
    for ip in ips.iter() {
        match tokio::time::timeout(q.connect_timeout, TcpStream::connect((ip, port))).await {
            Ok(Ok(tcp)) => return Ok(tcp),
            Ok(Err(e)) => last = e,
            Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, format!("connect to {ip} timed out")),
        }
    }
    Err(last)
}

/// One SMTP conversation with a next hop. `Err` when no final answer came
/// (connection refused or lost, timeout, TLS failure): try the next host.
async fn deliver_to(
    shared: &Shared,
    q: &QueueConfig,
    host: &str,
    port: u16,
    env: &Envelope,
    rcpts: &[String],
    (path, size): (&std::path::Path, u64),
) -> io::Result<Vec<Outcome>> {
    let tcp = connect(q, host, port).await?;
    // A connection to a loopback port nobody listens on can meet itself
    // (TCP simultaneous open from the same ephemeral port): that is no server.
    if tcp.local_addr()? == tcp.peer_addr()? {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connected to itself",
        ));
    }
    let _ = tcp.set_nodelay(true);
    let mut conn = Conn::Plain(tcp);
    let cfg = ClientConfig {
        helo_name: shared.hostname.clone(),
        tls: TlsPolicy::Opportunistic,
        ..ClientConfig::default()
    };
    let mut s = ClientSession::new(cfg, Instant::now());
    let envelope = smtp_proto::Envelope {
        from: env.sender.clone(),
        recipients: rcpts.iter().map(|r| Recipient::new(r)).collect(),
        size: Some(size),
        body: env.eight_bit.then_some(smtp_proto::BodyType::EightBitMime),
        smtputf8: env.smtputf8,
        ..smtp_proto::Envelope::default()
    };
    let mut results: Vec<Option<Outcome>> = vec![None; rcpts.len()];
    let mut sent = false;
    let mut done = false;
    let mut eof = false;
    let mut buf = vec![0u8; 16 * 1024];
    let bad = |e: smtp_proto::UsageError| io::Error::other(e.to_string());
    'outer: loop {
        loop {
            let ev = match s.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    if done {
                        break 'outer;
                    }
                    return Err(io::Error::other(e.to_string()));
                }
            };
            match ev {
                ClientEvent::Ready if !sent => {
                    sent = true;
                    if let Err(e) = s.send_mail(envelope.clone(), Instant::now()) {
                        // The hop cannot take this message: too large for its
                        // SIZE, or it lacks 8BITMIME/SMTPUTF8 (RFC 6152 3, RFC 6531 3.4).
                        let status = match e {
                            smtp_proto::UsageError::TooLarge => "5.3.4",
                            smtp_proto::UsageError::MissingExtension(_) => "5.6.7",
                            _ => "5.5.0",
                        };
                        let o = Outcome::Permanent(554, format!("{status} cannot be sent to {host}: {e}"));
                        results.iter_mut().for_each(|r| *r = Some(o.clone()));
                        done = true;
                        let _ = s.quit();
                    }
                }
                ClientEvent::StartTls => {
                    conn.flush_session(&mut s).await?;
                    tokio::time::timeout(q.connect_timeout, conn.start_client_tls(&q.connector, host))
                        .await
                        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
                    s.tls_established(Instant::now()).map_err(bad)?;
                }
                ClientEvent::MailResult(r) if !r.is_positive() => {
                    let o = outcome_of(&r);
                    results.iter_mut().for_each(|x| *x = Some(o.clone()));
                }
                ClientEvent::RcptResult { index, reply } if !reply.is_positive() => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(outcome_of(&reply));
                    }
                }
                ClientEvent::SendBody => {
                    let mut file = tokio::fs::File::open(path).await?;
                    let mut chunk = vec![0u8; 64 * 1024];
                    loop {
                        let n = file.read(&mut chunk).await?;
                        if n == 0 {
                            break;
                        }
                        let mut pos = 0;
                        while pos < n {
                            pos += s.send_data(&chunk[pos..n]).map_err(bad)?;
                            conn.flush_session(&mut s).await?;
                        }
                    }
                    s.finish_data().map_err(bad)?;
                }
                ClientEvent::MessageResult(replies) => {
                    let o = replies
                        .first()
                        .map_or(Outcome::Temporary("no reply after data".into()), outcome_of);
                    for r in results.iter_mut().filter(|r| r.is_none()) {
                        *r = Some(o.clone());
                    }
                    done = true;
                    let _ = s.quit();
                }
                ClientEvent::TransactionFailed(reply) => {
                    let o = outcome_of(&reply);
                    for r in results.iter_mut().filter(|r| r.is_none()) {
                        *r = Some(o.clone());
                    }
                    done = true;
                    let _ = s.quit();
                }
                ClientEvent::Closed => break 'outer,
                _ => {}
            }
        }
        conn.flush_session(&mut s).await?;
        if s.is_closed() || eof {
            break;
        }
        // The session's own timers (RFC 5321 4.5.3.2) bound every wait.
        eof = conn.read_into(&mut s, &mut buf, Instant::now).await? == Read::Eof;
    }
    let _ = tokio::io::AsyncWriteExt::shutdown(&mut conn).await;
    if !done {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection ended before the message was accepted",
        ));
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Outcome::Temporary("no answer".into())))
        .collect())
}
