//! The queue runner: delivers spooled messages to the next hop (the smart
//! host, or the recipient domain's MX hosts) with smtp-proto's
//! `ClientSession`, STARTTLS when offered, and records per-recipient results
//! in the spool. Temporary failures are retried on the `RetrySchedule`;
//! permanent failures and giving up produce a DSN to the sender, written
//! at most once even across a crash (see `report_settled`). A queued
//! envelope that does not parse is quarantined (see `quarantine`).

use crate::Shared;
use crate::dsn;
use crate::store::unix_now;
use examples::mx;
use examples::net::{Conn, Read};
use examples::spool::{Envelope, PendingReport, RcptStatus, Recipient, Report, RetrySchedule, Spool};
use hickory_resolver::TokioResolver;
use smtp_proto::{BodyType, ClientConfig, ClientEvent, ClientSession, EhloKeyword, Reply, Ret, TlsPolicy};
use std::collections::{BTreeMap, HashMap, HashSet};
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
    /// Opportunistic STARTTLS to MX hosts: certificates are not verified
    /// (as MTAs do for unauthenticated opportunistic TLS, RFC 7435).
    pub(crate) mx_connector: TlsConnector,
    /// STARTTLS to the smart host: verified against the web PKI roots and
    /// `--relay-ca`, unless `--relay-insecure`.
    pub(crate) relay_connector: TlsConnector,
    /// TLS towards the smart host: required (and verified) by default.
    pub(crate) relay_tls: TlsPolicy,
    /// AUTH to the smart host (strongest mechanism both support).
    pub(crate) relay_auth: Option<sasl::Credentials>,
    /// Bound on connecting and on the TLS handshake.
    pub(crate) connect_timeout: Duration,
    /// Bound on each write to a next hop (RFC 5321 4.5.3.2.5): the
    /// session's own timers run only while it waits for a reply, so a hop
    /// that stops reading would otherwise hold the attempt for ever.
    pub(crate) data_block: Duration,
    /// Send one "delayed" report (RFC 3464) when a message is still queued
    /// this long after it arrived; `None` for never.
    pub(crate) delay_warning: Option<Duration>,
    /// At shutdown, how long attempts in flight may take to finish.
    pub(crate) grace: Duration,
    /// Connect to internal address literals and to MX hosts on loopback or
    /// unspecified addresses (`--allow-internal-relay`); see [`mx::is_internal`].
    pub(crate) allow_internal: bool,
    /// The bound SMTP (MX) listener: an MX host at that address and
    /// `mx_port` is this server (RFC 5321 5.1).
    pub(crate) smtp_listen: Option<std::net::SocketAddr>,
    /// How often the spool directory is listed for messages queued by
    /// someone else (placed by hand or by another process) while running;
    /// `None` for only at start.
    pub(crate) rescan: Option<Duration>,
}

/// What happened to one recipient in one attempt.
#[derive(Debug, Clone)]
enum Outcome {
    /// Accepted; `dsn` when the hop offered DSN and got the parameters (it
    /// is now responsible for any success report, RFC 3461 5.2.2).
    Delivered {
        dsn: bool,
    },
    Permanent(u16, String),
    Temporary(String),
    /// Shutdown came before the body was sent: nothing was delivered, the
    /// recipient stays queued and the attempt does not count.
    Interrupted,
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

fn outcome_of(r: &Reply, dsn: bool) -> Outcome {
    if r.is_positive() {
        Outcome::Delivered { dsn }
    } else if r.is_permanent() {
        Outcome::Permanent(r.code(), reply_text(r))
    } else {
        temporary(r)
    }
}

/// A reply taken as a temporary failure, whatever its code.
fn temporary(r: &Reply) -> Outcome {
    Outcome::Temporary(format!("{} {}", r.code(), reply_text(r)))
}

/// When each queued message is next due (Unix seconds), kept in memory so
/// that finding due messages costs no disk reads: an idle queue of
/// deferred messages is never read while it waits (RFC 5321 4.5.4.1 has
/// retries hours apart). The spool stays the record: this is loaded from
/// it at start, every enqueue and attempt writes the spool before updating
/// this, and each attempt reads its envelope from the spool first.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    due: std::sync::Mutex<HashMap<String, u64>>,
    /// Messages found at start with a report pending (a crash came between
    /// storing it and recording that): the runner finishes these before
    /// any delivery, so a report already stored in the queue cannot have
    /// been relayed and removed before it is looked for.
    pending_reports: std::sync::Mutex<Vec<String>>,
}

impl Schedule {
    /// Reads every queued envelope once. Unreadable ones are left out and
    /// not logged here: the runner's first listing, made at once, reads
    /// them again and logs each once (see [`pick_up`](Self::pick_up)), or
    /// quarantines it.
    pub(crate) fn load(spool: &Spool) -> io::Result<Self> {
        let mut due = HashMap::new();
        let mut pending_reports = Vec::new();
        for id in spool.ids()? {
            if let Ok(env) = spool.envelope(&id) {
                if env.report_pending.is_some() {
                    pending_reports.push(id.clone());
                }
                due.insert(id, env.next_attempt);
            }
        }
        Ok(Schedule {
            due: std::sync::Mutex::new(due),
            pending_reports: std::sync::Mutex::new(pending_reports),
        })
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.due.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Messages queued.
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }

    /// Queued message `id` is next due at `next`.
    pub(crate) fn set(&self, id: &str, next: u64) {
        self.map().insert(id.to_owned(), next);
    }

    fn remove(&self, id: &str) {
        self.map().remove(id);
    }

    /// Schedules the messages in the spool it does not know yet: ones
    /// placed there by someone else while maild runs (a `.msg` file, then
    /// its `.env` renamed into place, as [`Spool`] does it), and at start
    /// the ones whose envelope did not read. The queue runner calls this
    /// between attempts, so an id it is working on is always known and
    /// never read here. An envelope that does not read is logged once and
    /// tried again at the next rescan or [`recheck`](Self::recheck) (it may
    /// be half written); `unreadable`
    /// remembers those, never more than the spool holds. One that does not
    /// parse and has not changed for [`CORRUPT_AFTER`] goes to `corrupt`
    /// instead, for the runner to quarantine. Returns how many were added.
    pub(crate) fn pick_up(
        &self,
        spool: &Spool,
        unreadable: &mut HashSet<String>,
        corrupt: &mut Vec<String>,
    ) -> io::Result<usize> {
        let ids = spool.ids()?;
        let new: Vec<String> = {
            let map = self.map();
            ids.iter().filter(|id| !map.contains_key(*id)).cloned().collect()
        };
        let listed: HashSet<&String> = ids.iter().collect();
        unreadable.retain(|id| listed.contains(id));
        Ok(self.look_at(spool, new, unreadable, corrupt))
    }

    /// Reads again, without listing the spool, the envelopes that did not
    /// read before (`unreadable`, see [`pick_up`](Self::pick_up)): with
    /// rescans rare or off, one that was young and damaged is still
    /// quarantined once it is [`CORRUPT_AFTER`] old. Returns how many were
    /// added to the schedule.
    pub(crate) fn recheck(
        &self,
        spool: &Spool,
        unreadable: &mut HashSet<String>,
        corrupt: &mut Vec<String>,
    ) -> usize {
        let ids: Vec<String> = unreadable.iter().cloned().collect();
        self.look_at(spool, ids, unreadable, corrupt)
    }

    /// Schedules the envelopes of `ids` that read (see [`pick_up`](Self::pick_up)).
    fn look_at(
        &self,
        spool: &Spool,
        ids: Vec<String>,
        unreadable: &mut HashSet<String>,
        corrupt: &mut Vec<String>,
    ) -> usize {
        let mut added = 0;
        for id in ids {
            match spool.envelope(&id) {
                Ok(env) => {
                    unreadable.remove(&id);
                    // Queued meanwhile by this server: its own entry stays.
                    if let std::collections::hash_map::Entry::Vacant(e) = self.map().entry(id) {
                        e.insert(env.next_attempt);
                        added += 1;
                    }
                }
                // Delivered and removed since the listing.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    unreadable.remove(&id);
                }
                Err(e)
                    if e.kind() == io::ErrorKind::InvalidData && unchanged_for(spool, &id, CORRUPT_AFTER) =>
                {
                    unreadable.remove(&id);
                    corrupt.push(id);
                }
                Err(e) => {
                    if unreadable.insert(id.clone()) {
                        tracing::error!(%id, error = %e, "queued envelope unreadable; not scheduled yet");
                    }
                }
            }
        }
        added
    }

    /// Up to `max` ids due at `now` and not in `busy`, earliest first.
    fn due(&self, now: u64, busy: &HashSet<String>, max: usize) -> Vec<String> {
        let map = self.map();
        let mut due: Vec<(u64, &String)> = map
            .iter()
            .filter(|(id, next)| **next <= now && !busy.contains(*id))
            .map(|(id, next)| (*next, id))
            .collect();
        due.sort_unstable();
        due.into_iter().take(max).map(|(_, id)| id.clone()).collect()
    }
}

/// Why a message whose envelope does not parse is quarantined.
const DAMAGED: &str = "the queued envelope of this message is damaged";

/// How long an envelope that does not parse is left alone (it may be
/// being written by hand) before it is quarantined.
const CORRUPT_AFTER: Duration = Duration::from_secs(60);

/// True when the envelope of `id` was last modified at least `age` ago.
fn unchanged_for(spool: &Spool, id: &str, age: Duration) -> bool {
    unchanged_since(spool, id).is_some_and(|d| d >= age)
}

/// How long ago the envelope of `id` was last modified.
fn unchanged_since(spool: &Spool, id: &str) -> Option<Duration> {
    std::fs::metadata(spool.path().join(format!("{id}.env")))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
}

/// When the envelopes that did not read are next read again: as soon as
/// the youngest damaged one is [`CORRUPT_AFTER`] old (one unreadable for
/// another reason, or old already, a [`CORRUPT_AFTER`] later), and never
/// sooner than a second from now; `None` when there are none.
fn recheck_at(spool: &Spool, unreadable: &HashSet<String>) -> Option<Instant> {
    let wait = unreadable
        .iter()
        .map(|id| match unchanged_since(spool, id) {
            Some(age) if age < CORRUPT_AFTER => CORRUPT_AFTER - age,
            _ => CORRUPT_AFTER,
        })
        .min()?;
    Instant::now().checked_add(wait.max(Duration::from_secs(1)))
}

/// Takes a queued message whose envelope does not parse, or whose message
/// file is gone, out of the queue (see `Spool::quarantine`: into
/// `queue/corrupt/`, nothing deleted), with a log line saying why (`why`)
/// and where it went. If a sender and pending recipients can
/// still be read from the envelope, the sender is told first with a
/// failure report (5.3.0) that the message is held by the postmaster (RFC
/// 5321 6.1); the report's name is made from the id and the envelope's
/// time, so one stored before a crash is not stored again. When it cannot
/// be stored, the message stays queued (false) for the caller to look at
/// again later; true when it has left the queue (or moving it failed,
/// which is logged).
fn quarantine(shared: &Shared, id: &str, why: &str) -> bool {
    let path = shared.spool.message_path(id);
    let mut reported = false;
    if let Some(env) = shared.spool.salvage(id)
        && !env.sender.is_empty()
    {
        let text = format!(
            "5.3.0 {why}; it was not sent on, and what is left of it is kept for \
             the postmaster of {}",
            shared.hostname
        );
        let lines: Vec<dsn::Line<'_>> = env
            .recipients
            .iter()
            .filter(|r| r.wants(Report::Failure))
            .map(|r| dsn::Line {
                rcpt: r,
                action: dsn::Action::Failed,
                code: 0,
                text: &text,
            })
            .collect();
        if !lines.is_empty() {
            let at = std::fs::metadata(shared.spool.path().join(format!("{id}.env")))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or_else(unix_now, |d| d.as_secs());
            let (head, all) = head_of(&path, false);
            let cx = dsn::Context {
                hostname: &shared.hostname,
                env: &env,
                original: &head,
                cut: !all,
                full: false,
                retry_until: None,
                now: at,
            };
            match dsn::report(&cx, &lines) {
                Ok(report) => {
                    if let Err(e) =
                        store_report(shared, &env.sender, &report, Some((&format!("{id}-corrupt"), at)))
                    {
                        tracing::error!(%id, error = %e, %why, "report could not be stored; left queued");
                        return false;
                    }
                    reported = true;
                }
                Err(e) => {
                    tracing::error!(%id, error = %e, %why, "report could not be built");
                }
            }
        }
    }
    match shared.spool.quarantine(id) {
        Ok(to) => tracing::error!(
            %id,
            moved_to = %to.display(),
            sender_told = reported,
            "{why}: moved out of the queue, not delivered"
        ),
        Err(e) => {
            tracing::error!(%id, error = %e, "{why}, and moving it out of the queue failed");
        }
    }
    shared.schedule.remove(id);
    true
}

/// Tells the runner about a message just queued durably in the spool.
pub(crate) fn enqueued(shared: &Shared, id: &str, next: u64) {
    shared.schedule.set(id, next);
    shared.queue_wake.notify_one();
}

/// Resolves once shutdown has been asked for.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|v| *v).await.is_err() {
        // The sender is gone without a shutdown: never resolve.
        std::future::pending::<()>().await;
    }
}

/// Runs until shutdown, then gives the attempts in flight the grace period
/// to finish (an attempt not yet past its body stops at once, keeping the
/// message queued; one waiting for the reply to its final dot gets the
/// answer recorded, so the message is neither lost nor sent twice).
pub(crate) async fn run(shared: Arc<Shared>, q: Arc<QueueConfig>, mut shutdown: watch::Receiver<bool>) {
    let pending = std::mem::take(
        &mut *shared
            .schedule
            .pending_reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for id in pending {
        finish_after_crash(&shared, &q, &id);
    }
    let mut busy: HashSet<String> = HashSet::new();
    // Spool files placed by someone else are found by a listing every
    // `q.rescan` (the loop below wakes at least once a second anyway).
    // (An interval too long to add to the clock means never.)
    // The first listing comes at once: it quarantines the envelopes that
    // did not parse at start.
    let mut next_rescan = Some(Instant::now());
    let mut unreadable: HashSet<String> = HashSet::new();
    // When those are read again between listings (see `recheck_at`).
    let mut next_recheck: Option<Instant> = None;
    let mut corrupt: Vec<String> = Vec::new();
    let mut tasks: JoinSet<(String, Option<u64>)> = JoinSet::new();
    // An attempt's result: its message is next due at `next`, or gone.
    let settle = |busy: &mut HashSet<String>, (id, next): (String, Option<u64>)| {
        busy.remove(&id);
        match next {
            // Never due again within the same second: a message whose
            // attempt could not record anything is not tried in a loop.
            Some(next) => shared.schedule.set(&id, next.max(unix_now() + 1)),
            None => shared.schedule.remove(&id),
        }
    };
    loop {
        while let Some(done) = tasks.try_join_next() {
            if let Ok(done) = done {
                settle(&mut busy, done);
            }
        }
        let rescan = next_rescan.is_some_and(|at| Instant::now() >= at);
        let recheck = next_recheck.is_some_and(|at| Instant::now() >= at);
        if rescan || recheck {
            let found = tokio::task::block_in_place(|| {
                if rescan {
                    shared
                        .schedule
                        .pick_up(&shared.spool, &mut unreadable, &mut corrupt)
                } else {
                    Ok(shared
                        .schedule
                        .recheck(&shared.spool, &mut unreadable, &mut corrupt))
                }
            });
            match found {
                Ok(0) => {}
                Ok(added) => tracing::info!(added, "new messages found in the queue directory"),
                Err(e) => tracing::error!(error = %e, "listing the queue directory"),
            }
            // One left queued is read again a minute later (or at the next
            // listing).
            for id in corrupt.drain(..) {
                if !tokio::task::block_in_place(|| quarantine(&shared, &id, DAMAGED)) {
                    unreadable.insert(id);
                }
            }
            if rescan {
                next_rescan = q.rescan.and_then(|every| Instant::now().checked_add(every));
            }
            next_recheck = tokio::task::block_in_place(|| recheck_at(&shared.spool, &unreadable));
        }
        let now = unix_now();
        for id in shared
            .schedule
            .due(now, &busy, PARALLEL.saturating_sub(tasks.len()))
        {
            // The spool is the record: the attempt works on what it holds.
            let env = match tokio::task::block_in_place(|| shared.spool.envelope(&id)) {
                Ok(env) => env,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    shared.schedule.remove(&id);
                    continue;
                }
                // Damaged (or rewritten by hand) since it was scheduled.
                Err(e)
                    if e.kind() == io::ErrorKind::InvalidData
                        && unchanged_for(&shared.spool, &id, CORRUPT_AFTER) =>
                {
                    if !tokio::task::block_in_place(|| quarantine(&shared, &id, DAMAGED)) {
                        shared.schedule.set(&id, now + 60);
                    }
                    continue;
                }
                Err(e) => {
                    tracing::error!(%id, error = %e, "reading the spool");
                    shared.schedule.set(&id, now + 60);
                    continue;
                }
            };
            if env.next_attempt > now {
                shared.schedule.set(&id, env.next_attempt);
                continue;
            }
            busy.insert(id.clone());
            let (shared, q, stop) = (shared.clone(), q.clone(), shutdown.clone());
            tasks.spawn(async move {
                let next = attempt(&shared, &q, &id, env, stop).await;
                (id, next)
            });
        }
        tokio::select! {
            () = shared.queue_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            Some(done) = tasks.join_next() => {
                if let Ok(done) = done {
                    settle(&mut busy, done);
                }
            }
            () = stopping(&mut shutdown) => break,
        }
    }
    let running = tasks.len();
    let drained = tokio::time::timeout(q.grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        // Past the grace period: the spool still holds their last recorded
        // state, so they are tried again after a restart.
        tracing::warn!(running = tasks.len(), "delivery attempts aborted at shutdown");
        tasks.shutdown().await;
    } else if running > 0 {
        tracing::info!(running, "delivery attempts finished at shutdown");
    }
}

/// Finishes the pending report of a message found so at start (see
/// [`Schedule`]), and the message itself when every recipient is settled.
fn finish_after_crash(shared: &Shared, q: &QueueConfig, id: &str) {
    let Ok(mut env) = shared.spool.envelope(id) else {
        return;
    };
    let path = shared.spool.message_path(id);
    if !finish_pending_report(shared, q, id, &mut env, &path) {
        return;
    }
    if env.is_finished() {
        if finish(shared, q, id, &mut env, &path, unix_now()) {
            shared.schedule.remove(id);
        }
    } else if let Err(e) = shared.spool.update(id, &env) {
        tracing::error!(%id, error = %e, "updating the spool");
    }
}

/// One delivery attempt for a queued message; returns when it is next due,
/// or `None` when it has left the queue.
async fn attempt(
    shared: &Shared,
    q: &QueueConfig,
    id: &str,
    mut env: Envelope,
    stop: watch::Receiver<bool>,
) -> Option<u64> {
    // The body is streamed from the spool file on each attempt, never held whole.
    let path = shared.spool.message_path(id);
    let size = match tokio::fs::metadata(&path).await {
        Ok(m) => m.len(),
        // Gone, and not just now (its envelope has not changed for a
        // while): it can never be sent, so it leaves the queue rather than
        // be tried every minute for ever (RFC 5321 6.1).
        Err(e) if e.kind() == io::ErrorKind::NotFound && unchanged_for(&shared.spool, id, CORRUPT_AFTER) => {
            let gone = tokio::task::block_in_place(|| {
                quarantine(shared, id, "the queued copy of this message is missing")
            });
            return (!gone).then(|| unix_now() + 60);
        }
        Err(e) => {
            tracing::error!(%id, error = %e, "queued message unreadable");
            return Some(unix_now() + 60);
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
    let mut interrupted = false;
    let domains = by_domain.len();
    for (n, (domain, idxs)) in by_domain.into_iter().enumerate() {
        let outcomes = if *stop.borrow() {
            vec![Outcome::Interrupted; idxs.len()]
        } else {
            let rcpts: Vec<&Recipient> = idxs.iter().map(|&i| &env.recipients[i]).collect();
            deliver_domain(shared, q, &domain, &env, &rcpts, (&path, size), stop.clone()).await
        };
        for (&i, o) in idxs.iter().zip(outcomes) {
            let r = &mut env.recipients[i];
            match o {
                Outcome::Delivered { dsn } => {
                    tracing::info!(%id, to = %r.address, dsn, "relayed");
                    r.status = if dsn {
                        RcptStatus::Delivered
                    } else {
                        RcptStatus::Relayed
                    };
                }
                Outcome::Permanent(code, text) => {
                    tracing::info!(%id, to = %r.address, code, %text, "refused permanently");
                    r.status = RcptStatus::Failed { code, text };
                }
                Outcome::Temporary(text) => {
                    tracing::info!(%id, to = %r.address, %text, "deferred");
                    r.last_error = Some(text);
                }
                Outcome::Interrupted => interrupted = true,
            }
        }
        // Record what this domain's hop answered before the next domain is
        // tried: a kill during a later domain must not make this one get
        // the message again after the restart.
        let settled = idxs.iter().any(|&i| {
            matches!(
                env.recipients[i].status,
                RcptStatus::Delivered | RcptStatus::Relayed | RcptStatus::Failed { .. }
            )
        });
        if n + 1 < domains
            && settled
            && let Err(e) = tokio::task::block_in_place(|| shared.spool.update(id, &env))
        {
            tracing::error!(%id, error = %e, "updating the spool");
        }
    }
    let now = unix_now();
    if interrupted && !env.is_finished() {
        // Stopped by shutdown before any body went out: record what other
        // domains got, and leave it due at once for the next start.
        tracing::info!(%id, "attempt interrupted by shutdown; stays queued");
        env.next_attempt = now;
        if let Err(e) = tokio::task::block_in_place(|| shared.spool.update(id, &env)) {
            tracing::error!(%id, error = %e, "updating the spool");
        }
        return Some(env.next_attempt);
    }
    env.attempts += 1;
    if !env.is_finished() {
        match q.schedule.next_attempt(env.created, env.attempts, now) {
            Some(next) => {
                env.next_attempt = next;
                delay_report(shared, q, id, &mut env, &path, now);
                // Recipients settled now are reported now, not when the
                // last one is (RFC 5321 6.1); one not stored is tried
                // again after the next attempt.
                report_settled(shared, q, id, &mut env, &path, now);
                if let Err(e) = tokio::task::block_in_place(|| shared.spool.update(id, &env)) {
                    tracing::error!(%id, error = %e, "updating the spool");
                }
                return Some(next);
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
    // Kept (a report could not be stored): tried again at once.
    (!finish(shared, q, id, &mut env, &path, now)).then_some(now)
}

/// Sends the one "delayed" report (RFC 3464) once the message has waited
/// `--delay-warning`, to the recipients that want it (NOTIFY=DELAY or no
/// NOTIFY): numbered and recorded as pending before it is written, as
/// [`report_settled`] does, so a crash never makes it go twice; one that
/// cannot be stored stays pending and is tried again after the next attempt.
fn delay_report(
    shared: &Shared,
    q: &QueueConfig,
    id: &str,
    env: &mut Envelope,
    path: &std::path::Path,
    now: u64,
) {
    let Some(after) = q.delay_warning else { return };
    if env.delay_reported || now < env.created.saturating_add(after.as_secs()) {
        return;
    }
    // A failure report still pending goes first (it is tried again here).
    if !finish_pending_report(shared, q, id, env, path) {
        return;
    }
    env.delay_reported = true;
    if env.sender.is_empty()
        || !env
            .recipients
            .iter()
            .any(|r| r.status == RcptStatus::Pending && r.wants(Report::Delay))
    {
        return;
    }
    // Numbered and recorded before it is written, as in `report_settled`.
    env.reports += 1;
    env.report_pending = Some(PendingReport {
        number: env.reports,
        at: now,
        delay: true,
    });
    if let Err(e) = tokio::task::block_in_place(|| shared.spool.update(id, env)) {
        tracing::error!(%id, error = %e, "updating the spool");
    }
    finish_pending_report(shared, q, id, env, path);
}

/// How much of a queued message is read for a report that quotes its
/// header section.
const HEAD_LIMIT: usize = 256 * 1024;

/// The queued message: whole (for RET=FULL), else its start, enough for
/// the header section (the usual report quotes only the header), and
/// whether that start is all of it. A message longer than [`HEAD_LIMIT`]
/// is read one byte past it, which tells whether a field ending exactly
/// at the limit is whole (see [`dsn::Context::cut`]); one of exactly
/// `HEAD_LIMIT` bytes is all there.
fn head_of(path: &std::path::Path, whole: bool) -> (Vec<u8>, bool) {
    use std::io::Read;
    let mut head = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let limit = if whole { u64::MAX } else { HEAD_LIMIT as u64 + 1 };
        let _ = f.take(limit).read_to_end(&mut head);
    }
    let all = whole || head.len() <= HEAD_LIMIT;
    (head, all)
}

/// The largest message a failure report returns whole (RET=FULL, RFC 3461
/// 4.3): the largest maild accepts (SIZE), or 35 MiB without a limit. A
/// larger one, which only another program can have placed in the queue,
/// is returned with its header section only (RFC 3464 2 lets the original
/// be left out), so a report never takes more memory than maild's own
/// messages do.
fn returnable(shared: &Shared, path: &std::path::Path) -> bool {
    let cap = match shared.smtp_limits.message_size {
        0 => 35 << 20,
        n => n,
    };
    std::fs::metadata(path).is_ok_and(|m| m.len() <= cap)
}

/// Reports the recipients settled and not reported yet: failures, and
/// relays to hops without DSN, as their NOTIFY asks; marks them reported.
/// A report decided before and perhaps not stored (a crash, or a store
/// that failed) is finished first. False when a report could not be
/// stored (it stays pending, tried again after the next attempt).
///
/// Each report is numbered. Before it is written, the envelope records
/// its recipients (marked reported with its number) and the number and
/// time in `report_pending`, durably; the report is stored under a name
/// made from the message id and the number, and dated with that time. So
/// a crash between storing it and the next envelope update leaves a
/// pending report whose file is found by name at the restart: it is not
/// written twice, and one that was not written is written then (RFC 5321
/// 6.1: a failure after acceptance MUST be reported; duplicates avoided).
fn report_settled(
    shared: &Shared,
    q: &QueueConfig,
    id: &str,
    env: &mut Envelope,
    path: &std::path::Path,
    now: u64,
) -> bool {
    if !finish_pending_report(shared, q, id, env, path) {
        return false;
    }
    let due = |r: &Recipient| {
        !r.reported
            && match r.status {
                RcptStatus::Failed { .. } => r.wants(Report::Failure),
                RcptStatus::Relayed => r.wants(Report::Success),
                _ => false,
            }
    };
    if !env.recipients.iter().any(due) {
        return true;
    }
    if env.sender.is_empty() {
        tracing::warn!(%id, "report for a null sender dropped");
        for r in env.recipients.iter_mut().filter(|r| due(r)) {
            r.reported = true;
        }
        return true;
    }
    env.reports += 1;
    let n = env.reports;
    for r in env.recipients.iter_mut().filter(|r| due(r)) {
        r.reported = true;
        r.report = n;
    }
    env.report_pending = Some(PendingReport {
        number: n,
        at: now,
        delay: false,
    });
    // The settled recipients and the pending report are recorded before
    // the report is written: if it cannot be stored (or the process dies
    // before the message leaves the queue), only the report is finished
    // later, never the delivery to a hop that accepted it made again.
    if let Err(e) = tokio::task::block_in_place(|| shared.spool.update(id, env)) {
        tracing::error!(%id, error = %e, "updating the spool");
    }
    finish_pending_report(shared, q, id, env, path)
}

/// Writes the pending report of `env` (see [`report_settled`]) unless it
/// was stored already, and clears it. False when it could not be stored.
fn finish_pending_report(
    shared: &Shared,
    q: &QueueConfig,
    id: &str,
    env: &mut Envelope,
    path: &std::path::Path,
) -> bool {
    let Some(PendingReport { number: n, at, delay }) = env.report_pending else {
        return true;
    };
    let lines: Vec<dsn::Line<'_>> = env
        .recipients
        .iter()
        .filter_map(|r| match &r.status {
            RcptStatus::Pending if delay && r.wants(Report::Delay) => Some(dsn::Line {
                rcpt: r,
                action: dsn::Action::Delayed,
                code: 0,
                text: r.last_error.as_deref().unwrap_or("not delivered yet"),
            }),
            _ if delay || !r.reported || r.report != n => None,
            RcptStatus::Failed { code, text } => Some(dsn::Line {
                rcpt: r,
                action: dsn::Action::Failed,
                code: *code,
                text,
            }),
            RcptStatus::Relayed => Some(dsn::Line {
                rcpt: r,
                action: dsn::Action::Relayed,
                code: 250,
                text: "2.0.0 relayed to a server without DSN",
            }),
            _ => None,
        })
        .collect();
    if !lines.is_empty() {
        let full = env.ret == Some(Ret::Full)
            && lines.iter().any(|l| l.action == dsn::Action::Failed)
            && returnable(shared, path);
        let (original, all) = head_of(path, full);
        let cx = dsn::Context {
            hostname: &shared.hostname,
            env,
            original: &original,
            cut: !all,
            full,
            retry_until: delay.then(|| env.created.saturating_add(q.schedule.give_up.as_secs())),
            now: at,
        };
        match dsn::report(&cx, &lines) {
            Ok(report) => {
                match store_report(shared, &env.sender, &report, Some((&format!("{id}-dsn{n}"), at))) {
                    Ok(true) => tracing::info!(%id, to = %env.sender, report = n, "report sent"),
                    Ok(false) => {
                        tracing::info!(%id, report = n, "report found stored already; not sent again");
                    }
                    Err(e) => {
                        // Left pending, so the report is tried again later.
                        tracing::error!(%id, error = %e, "report could not be stored");
                        return false;
                    }
                }
            }
            Err(e) => tracing::error!(%id, error = %e, "report could not be built"),
        }
    }
    env.report_pending = None;
    true
}

/// Every recipient is done: report those not reported yet, then drop the
/// message. False when it stays queued.
fn finish(
    shared: &Shared,
    q: &QueueConfig,
    id: &str,
    env: &mut Envelope,
    path: &std::path::Path,
    now: u64,
) -> bool {
    if !report_settled(shared, q, id, env, path, now) {
        return false;
    }
    match tokio::task::block_in_place(|| shared.spool.remove(id)) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(%id, error = %e, "removing from the spool");
            // The envelope may still be there: look again later.
            false
        }
    }
}

/// Delivers a report: locally if the sender is ours, else through the queue
/// with the null sender (so it can never bounce back).
pub(crate) fn send_report(shared: &Shared, sender: &str, report: &[u8]) -> io::Result<()> {
    store_report(shared, sender, report, None).map(|_| ())
}

/// As [`send_report`]; with `once` (a name and a time), at most once: the
/// report is stored under a name made from them (a spool id, or a Maildir
/// unique name with that time) and not stored again when a report of that
/// name is there. True when it was stored now.
fn store_report(shared: &Shared, sender: &str, report: &[u8], once: Option<(&str, u64)>) -> io::Result<bool> {
    tokio::task::block_in_place(|| {
        let local = sender
            .rsplit_once('@')
            .filter(|(_, d)| shared.accounts.is_local_domain(d))
            .map(|_| shared.accounts.resolve(sender));
        match local {
            Some(Some(account)) => match once {
                Some((name, at)) => shared.store.deliver_once(&account, "", report, (at, name)),
                None => shared.store.deliver(&account, "", report).map(|_| true),
            },
            Some(None) => {
                tracing::warn!(%sender, "report for an unknown local sender dropped");
                Ok(true)
            }
            None => {
                use std::io::Write;
                let mut w = match once {
                    Some((name, _)) => match shared.spool.begin_once(name)? {
                        Some(w) => w,
                        None => return Ok(false),
                    },
                    None => shared.spool.begin()?,
                };
                w.write_all(report)?;
                let mut env = Envelope::new("", &[sender.to_owned()], unix_now());
                env.smtputf8 = !sender.is_ascii();
                env.eight_bit = !report.is_ascii();
                // Reports never ask for reports (RFC 3461 6.2).
                env.recipients[0].notify = Some(smtp_proto::Notify::NEVER);
                let id = w.commit(&env)?;
                enqueued(shared, &id, env.next_attempt);
                Ok(true)
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
    rcpts: &[&Recipient],
    message: (&std::path::Path, u64),
    stop: watch::Receiver<bool>,
) -> Vec<Outcome> {
    let all = |o: Outcome| vec![o; rcpts.len()];
    // An address literal names the host itself: no DNS (RFC 5321 4.1.3).
    let literal = domain
        .strip_prefix('[')
        .and_then(|d| d.strip_suffix(']'))
        .filter(|_| q.relay_host.is_none());
    let hosts: Vec<(String, u16)> = match (&q.relay_host, &q.resolver, literal) {
        (Some(h), _, _) => vec![h.clone()],
        (None, _, Some(literal)) => match address_literal(literal) {
            // Refused at RCPT already; this catches messages queued before.
            Some(ip) if !q.allow_internal && mx::is_internal(ip) => {
                return all(Outcome::Permanent(
                    0,
                    format!("5.7.1 [{literal}] is an internal address; not relayed to"),
                ));
            }
            Some(ip) => vec![(ip.to_string(), q.mx_port)],
            None => {
                return all(Outcome::Permanent(
                    0,
                    format!("5.1.2 [{literal}] is not an address this server can reach"),
                ));
            }
        },
        (None, Some(resolver), None) => {
            let own_address = |ip| q.smtp_listen.is_some_and(|l| mx::reaches(l, ip, q.mx_port));
            match mx::mx_hosts_except(resolver, domain, &[&shared.hostname], own_address).await {
                Ok(hosts) => hosts.into_iter().map(|h| (h, q.mx_port)).collect(),
                // RFC 3463 X.4.6: routing loop detected.
                Err(e @ mx::MxError::LoopsBack(_)) => {
                    return all(Outcome::Permanent(0, format!("5.4.6 {e}")));
                }
                // RFC 7505 4.1 and RFC 7504: X.1.10, recipient address
                // has null MX.
                Err(e @ mx::MxError::NullMx(_)) => {
                    return all(Outcome::Permanent(0, format!("5.1.10 {e}")));
                }
                Err(e) if e.is_permanent() => return all(Outcome::Permanent(0, format!("5.1.2 {e}"))),
                Err(e) => return all(Outcome::Temporary(e.to_string())),
            }
        }
        (None, None, None) => return all(Outcome::Temporary("no resolver configured".into())),
    };
    let mut last = String::from("no next hop");
    let mut budget = MAX_ADDRESSES;
    for (host, port) in hosts.into_iter().take(MAX_ADDRESSES) {
        if *stop.borrow() {
            return all(Outcome::Interrupted);
        }
        if budget == 0 {
            break;
        }
        match deliver_to(
            shared,
            q,
            (&host, port, &mut budget),
            env,
            rcpts,
            message,
            stop.clone(),
        )
        .await
        {
            Ok(outcomes) => return outcomes,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return all(Outcome::Interrupted),
            Err(e) => {
                tracing::info!(%host, port, error = %e, "next hop failed");
                last = format!("{host}:{port}: {e}");
            }
        }
    }
    all(Outcome::Temporary(last))
}

/// The IP address of an address literal's content (RFC 5321 4.1.3: a
/// dotted IPv4 address, or `IPv6:` and an IPv6 address); `None` for a
/// general address literal or anything else.
fn address_literal(literal: &str) -> Option<std::net::IpAddr> {
    match literal.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
            literal[5..].parse::<std::net::Ipv6Addr>().ok().map(Into::into)
        }
        _ => literal.parse::<std::net::Ipv4Addr>().ok().map(Into::into),
    }
}

/// Most next-hop addresses (over all MX hosts and their addresses) one
/// attempt for one domain tries: each can cost the connect timeout, and a
/// hostile domain can name hundreds (RFC 5321 5.1: "there MAY also be a
/// configurable limit on the number of alternate addresses that can be
/// tried. In any case, the SMTP client SHOULD try at least two addresses").
const MAX_ADDRESSES: usize = 10;

/// Connects to a next hop: MX hosts are resolved with the configured
/// resolver (every address tried in turn while `budget`, the addresses this
/// attempt may still try, lasts), a smart host with the system's. Loopback
/// and unspecified addresses of MX hosts (and address literals) are skipped
/// unless `--allow-internal-relay`: no real next hop is there, only this
/// machine's own services.
async fn connect(q: &QueueConfig, host: &str, port: u16, budget: &mut usize) -> io::Result<TcpStream> {
    let ips: Vec<std::net::IpAddr> = match (&q.relay_host, host.parse::<std::net::IpAddr>(), &q.resolver) {
        (None, Ok(ip), _) => vec![ip],
        (None, Err(_), Some(resolver)) => resolver
            .lookup_ip(format!("{}.", host.trim_end_matches('.')))
            .await
            .map_err(|e| io::Error::other(format!("address of {host}: {e}")))?
            .iter()
            .collect(),
        _ => {
            // The smart host, as configured.
            *budget = budget.saturating_sub(1);
            return tokio::time::timeout(q.connect_timeout, TcpStream::connect((host, port)))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?;
        }
    };
    let mut last = io::Error::other(format!("{host} has no address"));
    for ip in ips {
        if *budget == 0 {
            break;
        }
        if !q.allow_internal && mx::is_loopback_or_unspecified(ip) {
            last = io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{host} is at {ip}, a loopback or unspecified address; not relayed to"),
            );
            continue;
        }
        *budget -= 1;
        match tokio::time::timeout(q.connect_timeout, TcpStream::connect((ip, port))).await {
            Ok(Ok(tcp)) => return Ok(tcp),
            Ok(Err(e)) => last = e,
            Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, format!("connect to {ip} timed out")),
        }
    }
    Err(last)
}

fn interrupted() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "shutting down")
}

/// True when relaying the message at `path` to `rcpts` needs SMTPUTF8
/// (RFC 6531 3.2): a UTF-8 address in the envelope (ORCPT included), or
/// UTF-8 header fields (RFC 6532) "at any level within its MIME
/// structure". An 8-bit body alone is 8BITMIME's business (RFC 6152).
fn internationalized(env: &Envelope, rcpts: &[&Recipient], path: &std::path::Path) -> bool {
    if !env.sender.is_ascii()
        || rcpts
            .iter()
            .any(|r| !r.address.is_ascii() || r.orcpt.as_ref().is_some_and(|(_, a)| !a.is_ascii()))
    {
        return true;
    }
    // All-ASCII content holds no UTF-8 header field.
    (env.eight_bit || env.binary) && tokio::task::block_in_place(|| utf8_headers(path))
}

/// True when a header block of the message, the top one or any MIME
/// part's or nested message's, holds non-ASCII; also when the message
/// cannot be read or looked through (a header field or block over the
/// parser's limits, nesting too deep, too many parts, a block that starts
/// with a continuation line), so that nothing that might need SMTPUTF8
/// goes without it. The message is streamed through mime's push parser,
/// whose buffering is bounded by its limits, and reading stops as soon as
/// the answer is known: a message that is not multipart or message/* has
/// only its top header section read. The size of a file placed in the
/// queue by someone else is bounded by nothing, so it is never read whole.
fn utf8_headers(path: &std::path::Path) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return true;
    };
    let mut parser = mime::PushParser::new(mime::Limits::default());
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return true,
        };
        if n == 0 {
            parser.finish();
        } else {
            parser.feed(&buf[..n]);
        }
        while let Some(ev) = parser.poll_event() {
            match ev {
                mime::Event::Header(f) if !f.name.is_ascii() || !f.value.is_ascii() => return true,
                mime::Event::Defect(d)
                    if matches!(
                        d.kind,
                        mime::DefectKind::NestingTooDeep
                            | mime::DefectKind::TooManyParts
                            | mime::DefectKind::HeaderBlockTooLarge
                            | mime::DefectKind::HeaderFieldTooLong
                            | mime::DefectKind::FirstHeaderLineIsContinuation
                    ) =>
                {
                    return true;
                }
                // A leaf at the top: no other header block follows.
                mime::Event::PartStart {
                    depth: 0,
                    shape: mime::Shape::Leaf,
                    ..
                } => return false,
                _ => {}
            }
        }
        if n == 0 {
            return false;
        }
    }
}

/// The transaction for one next hop: DSN parameters (RET, ENVID, NOTIFY,
/// ORCPT) only when it offers DSN, which then takes over any success
/// report; SMTPUTF8 when `smtputf8`.
fn client_envelope(
    env: &Envelope,
    rcpts: &[&Recipient],
    size: u64,
    dsn: bool,
    smtputf8: bool,
) -> smtp_proto::Envelope {
    smtp_proto::Envelope {
        from: env.sender.clone(),
        recipients: rcpts
            .iter()
            .map(|r| smtp_proto::Recipient {
                address: r.address.clone(),
                notify: r.notify.filter(|_| dsn),
                orcpt: r.orcpt.clone().filter(|_| dsn),
            })
            .collect(),
        size: Some(size),
        body: if env.binary {
            Some(BodyType::BinaryMime)
        } else {
            env.eight_bit.then_some(BodyType::EightBitMime)
        },
        smtputf8,
        ret: env.ret.filter(|_| dsn),
        envid: env.envid.clone().filter(|_| dsn),
        ..smtp_proto::Envelope::default()
    }
}

/// One SMTP conversation with a next hop. `Err` when no final answer came
/// (connection refused or lost, timeout, TLS or AUTH failure): try the next
/// host; `Interrupted` when shutdown came before the body was sent.
#[allow(clippy::too_many_arguments)]
async fn deliver_to(
    shared: &Shared,
    q: &QueueConfig,
    (host, port, budget): (&str, u16, &mut usize),
    env: &Envelope,
    rcpts: &[&Recipient],
    (path, size): (&std::path::Path, u64),
    mut stop: watch::Receiver<bool>,
) -> io::Result<Vec<Outcome>> {
    let tcp = connect(q, host, port, budget).await?;
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
    let smart_host = q.relay_host.is_some();
    let cfg = ClientConfig {
        helo_name: shared.hostname.clone(),
        tls: if smart_host {
            q.relay_tls
        } else {
            TlsPolicy::Opportunistic
        },
        credentials: if smart_host { q.relay_auth.clone() } else { None },
        chunking: env.binary,
        // A relay passes the message on as it was received (RFC 5321
        // 4.5.3.1 only asks that longer lines be avoided "when possible"):
        // no text-line limit of its own.
        limits: smtp_proto::Limits {
            text_line: usize::MAX,
            ..smtp_proto::Limits::default()
        },
        timeouts: smtp_proto::Timeouts {
            data_block: q.data_block,
            ..smtp_proto::Timeouts::default()
        },
        ..ClientConfig::default()
    };
    let connector = if smart_host {
        &q.relay_connector
    } else {
        &q.mx_connector
    };
    let mut s = ClientSession::new(cfg, Instant::now());
    let mut results: Vec<Option<Outcome>> = vec![None; rcpts.len()];
    let mut sent = false;
    let mut dsn = false;
    // Once the final dot is out, the answer is awaited even when shutting
    // down: dropping the connection now could make the message go twice.
    let mut committed = false;
    let mut done = false;
    let mut eof = false;
    let mut buf = vec![0u8; 16 * 1024];
    let bad = |e: smtp_proto::UsageError| io::Error::other(e.to_string());
    // Events read while the body waited for a chunk's reply.
    let mut later = std::collections::VecDeque::new();
    'outer: loop {
        loop {
            let next = match later.pop_front() {
                Some(ev) => Ok(Some(ev)),
                None => s.poll_event(),
            };
            let ev = match next {
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
                    if *stop.borrow() {
                        let _ = s.quit(Instant::now());
                        let _ = conn.flush_session_within(&mut s, q.data_block).await;
                        return Err(interrupted());
                    }
                    sent = true;
                    dsn = s.capabilities().has(&EhloKeyword::Dsn);
                    // SMTPUTF8 is a must only for a message that needs it
                    // (RFC 6531 3.2); to a hop without it, one that does
                    // not goes as any other.
                    let utf8 = env.smtputf8
                        && (s.capabilities().has(&EhloKeyword::SmtpUtf8)
                            || internationalized(env, rcpts, path));
                    let envelope = client_envelope(env, rcpts, size, dsn, utf8);
                    if let Err(e) = s.send_mail(envelope, Instant::now()) {
                        // The hop cannot take this message: too large for its
                        // SIZE, or it lacks 8BITMIME/SMTPUTF8/BINARYMIME
                        // (RFC 6152 3, RFC 6531 3.2, RFC 3030 3). 8-bit or
                        // binary content would have to be converted, which
                        // this relay does not do (RFC 3463 X.6.3); a UTF-8
                        // address or header has no ASCII form (RFC 6531
                        // 3.2, RFC 6533: X.6.7).
                        let status = match e {
                            smtp_proto::UsageError::TooLarge => "5.3.4",
                            smtp_proto::UsageError::MissingExtension("SMTPUTF8") => "5.6.7",
                            smtp_proto::UsageError::MissingExtension(_) => "5.6.3",
                            _ => "5.5.0",
                        };
                        // No reply code: the hop said nothing (RFC 3464
                        // 2.3.6), this relay found it.
                        let o = Outcome::Permanent(0, format!("{status} cannot be sent to {host}: {e}"));
                        results.iter_mut().for_each(|r| *r = Some(o.clone()));
                        done = true;
                        let _ = s.quit(Instant::now());
                    }
                }
                ClientEvent::StartTls => {
                    conn.flush_session_within(&mut s, q.data_block).await?;
                    tokio::time::timeout(q.connect_timeout, conn.start_client_tls(connector, host))
                        .await
                        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
                    s.tls_established(Instant::now()).map_err(bad)?;
                }
                ClientEvent::AuthFailed(reply) => {
                    let why = reply
                        .as_ref()
                        .map_or_else(|| "no common mechanism".into(), reply_text);
                    return Err(io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("AUTH to {host} failed: {why}"),
                    ));
                }
                ClientEvent::MailResult(r) if !r.is_positive() => {
                    let o = outcome_of(&r, dsn);
                    results.iter_mut().for_each(|x| *x = Some(o.clone()));
                }
                ClientEvent::RcptResult { index, reply } if !reply.is_positive() => {
                    // After a refused MAIL, pipelined RCPTs are refused for
                    // want of a transaction (503): the MAIL's reply, set
                    // for every recipient already, is what happened
                    // (RFC 2920 3.1).
                    if let Some(slot @ None) = results.get_mut(index) {
                        *slot = Some(if reply.code() == 552 {
                            // RFC 821's "too many recipients", which RFC
                            // 5321 4.5.3.1.10 has clients treat as
                            // temporary: sent in a later transaction.
                            temporary(&reply)
                        } else {
                            outcome_of(&reply, dsn)
                        });
                    }
                }
                ClientEvent::SendBody => {
                    if *stop.borrow() {
                        return Err(interrupted());
                    }
                    let mut file = tokio::fs::File::open(path).await?;
                    let mut chunk = vec![0u8; 64 * 1024];
                    'body: loop {
                        let n = file.read(&mut chunk).await?;
                        if n == 0 {
                            s.finish_data().map_err(bad)?;
                            committed = true;
                            break;
                        }
                        let mut pos = 0;
                        while pos < n {
                            let took = s.send_data(&chunk[pos..n]).map_err(bad)?;
                            pos += took;
                            conn.flush_session_within(&mut s, q.data_block).await?;
                            if took == 0 && s.poll_transmit().is_none() {
                                // BDAT without PIPELINING: the last chunk's
                                // reply comes first. Anything it brings (a
                                // refused chunk ends the transaction) is
                                // handled by the loop above, not the body.
                                if conn.read_into(&mut s, &mut buf, Instant::now).await? == Read::Eof {
                                    eof = true;
                                }
                                while let Some(ev) =
                                    s.poll_event().map_err(|e| io::Error::other(e.to_string()))?
                                {
                                    later.push_back(ev);
                                }
                                if !later.is_empty() || eof || s.is_closed() {
                                    break 'body;
                                }
                            }
                        }
                    }
                }
                ClientEvent::MessageResult(replies) => {
                    let o = replies
                        .first()
                        .map_or(Outcome::Temporary("no reply after data".into()), |r| {
                            outcome_of(r, dsn)
                        });
                    for r in results.iter_mut().filter(|r| r.is_none()) {
                        *r = Some(o.clone());
                    }
                    done = true;
                    let _ = s.quit(Instant::now());
                }
                ClientEvent::TransactionFailed(reply) => {
                    let o = outcome_of(&reply, dsn);
                    for r in results.iter_mut().filter(|r| r.is_none()) {
                        *r = Some(o.clone());
                    }
                    done = true;
                    let _ = s.quit(Instant::now());
                }
                ClientEvent::Closed => break 'outer,
                _ => {}
            }
        }
        conn.flush_session_within(&mut s, q.data_block).await?;
        if s.is_closed() || eof {
            break;
        }
        // The session's own timers (RFC 5321 4.5.3.2) bound every wait.
        let read = conn.read_into(&mut s, &mut buf, Instant::now);
        eof = if committed || done {
            read.await?
        } else {
            tokio::select! {
                r = read => r?,
                () = stopping(&mut stop) => return Err(interrupted()),
            }
        } == Read::Eof;
    }
    let _ = tokio::time::timeout(q.data_block, tokio::io::AsyncWriteExt::shutdown(&mut conn)).await;
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
