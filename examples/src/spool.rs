//! The relay queue: a durable spool of messages waiting to be relayed.
//!
//! Each queued message is two files in the spool directory: `<id>.msg` (the
//! message bytes) and `<id>.env` (the envelope and delivery state, a small
//! line-based text file). Both are written to a temporary name, fsynced,
//! renamed, and the directory fsynced; the `.env` file is written last, so a
//! message is in the queue exactly when its `.env` exists. A crash leaves at
//! worst an orphan `.msg` or temporary file, which [`Spool::open`] removes
//! once it is older than [`LEFTOVER_AGE`]: another program queueing a
//! message the same way may be between its two renames.
//!
//! A report about a queued message (a DSN) must neither be lost nor sent
//! twice (RFC 5321 6.1). Its envelope numbers the reports
//! ([`Envelope::reports`]) and records the one being written
//! ([`Envelope::report_pending`]) before it is written; the report is
//! queued under an id made from the message's id and that number
//! ([`Spool::begin_once`]; a local sender's Maildir does the same with
//! `Maildir::begin_once`), so a runner that finds a pending report after a
//! crash writes it only if it is not there.
//!
//! An envelope that does not parse (damaged on disk, cut short, larger
//! than [`MAX_ENVELOPE`], or written by hand) cannot be delivered, but its
//! message was accepted: it is neither deleted nor left to be read again at
//! every queue run. [`Spool::quarantine`] moves the message and then the
//! envelope into the `corrupt/` subdirectory of the spool (under a free
//! name, nothing overwritten), where the postmaster can look at them;
//! [`Spool::salvage`] reads what can still be read of such an envelope (the
//! sender and the recipients still pending), so that the sender can be told
//! the message is held. A runner should quarantine only an envelope that
//! has stayed unreadable for a while: one being written by hand may be
//! incomplete for a moment.

use crate::durable::{NewFile, Plan, Rename, Step};
use smtp_proto::{Notify, Ret};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bytes gathered before a write to a message file: a typical message is
/// one write system call.
const WRITE_BUFFER: usize = 32 * 1024;

/// The largest envelope read (a larger one is taken as damaged): room for
/// tens of thousands of recipients with their DSN parameters.
pub const MAX_ENVELOPE: u64 = 16 << 20;

/// How old a temporary file, or a `.msg` without its `.env`, must be for
/// [`Spool::open`] to take it for a crash's leftover and remove it.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(10 * 60);

/// The spool's subdirectory for entries whose envelope does not parse.
pub const CORRUPT_DIR: &str = "corrupt";

static SEQ: AtomicU64 = AtomicU64::new(0);

/// Where a recipient stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptStatus {
    /// Not delivered yet; will be tried again.
    Pending,
    /// Accepted by the next hop, which took over any DSN duty (it offered
    /// DSN and got the parameters) or no success report was asked for.
    Delivered,
    /// Accepted by a next hop that does not offer DSN (RFC 3461 5.2.2):
    /// a "relayed" report is due when the recipient asked for NOTIFY=SUCCESS.
    Relayed,
    /// Permanently refused (or given up): reply code and text.
    Failed {
        /// The SMTP reply code (or 0 when no server answered).
        code: u16,
        /// The reply text or a description of the failure.
        text: String,
    },
}

/// One recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The forward path (without angle brackets).
    pub address: String,
    /// Delivery state.
    pub status: RcptStatus,
    /// The last temporary error, for the bounce and the logs.
    pub last_error: Option<String>,
    /// NOTIFY= as given by the client (RFC 3461 4.1); `None` means the
    /// default: report failures (and delays).
    pub notify: Option<Notify>,
    /// ORCPT= (RFC 3461 4.2): address type and the decoded original address.
    pub orcpt: Option<(String, String)>,
    /// The report its settled status asked for (failed, or relayed to a
    /// hop without DSN) was sent already, or none was due, or it is
    /// [`Envelope::report_pending`].
    pub reported: bool,
    /// The number of the report that covers it (see [`Envelope::reports`]);
    /// 0 when none was sent or it was sent before reports were numbered.
    pub report: u32,
}

impl Recipient {
    /// True when a report of this kind is wanted: failures and delays by
    /// default, successes only when asked for, nothing with NOTIFY=NEVER.
    #[must_use]
    pub fn wants(&self, kind: Report) -> bool {
        match (self.notify, kind) {
            (None, Report::Success) => false,
            (None, _) => true,
            (Some(n), Report::Success) => n.success,
            (Some(n), Report::Failure) => n.failure,
            (Some(n), Report::Delay) => n.delay,
        }
    }
}

/// The kinds of delivery status notification (RFC 3461 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Delivered or relayed.
    Success,
    /// Failed permanently or given up.
    Failure,
    /// Still trying after a while.
    Delay,
}

/// Envelope and delivery state of a queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse path (without angle brackets; empty for the null sender).
    pub sender: String,
    /// Recipients with their state.
    pub recipients: Vec<Recipient>,
    /// When it was queued (Unix seconds).
    pub created: u64,
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// Earliest time of the next attempt (Unix seconds).
    pub next_attempt: u64,
    /// The message was received with `BODY=8BITMIME` (RFC 6152).
    pub eight_bit: bool,
    /// The message was received with `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// The message was received with `BODY=BINARYMIME` (RFC 3030): it can
    /// only be relayed with BDAT to a hop that offers BINARYMIME.
    pub binary: bool,
    /// RET= (RFC 3461 4.3): the whole message or only its header in a failure report.
    pub ret: Option<Ret>,
    /// ENVID= (RFC 3461 4.4), decoded.
    pub envid: Option<String>,
    /// A delay report was sent already (one per message).
    pub delay_reported: bool,
    /// Reports about recipients begun so far; each has the next number.
    pub reports: u32,
    /// A report that was decided and may not have been stored yet. It is
    /// recorded before the report is written, and the report's file is
    /// named after the message and its number, so after a crash it is
    /// written once: again if it is missing, not if it is there (RFC 5321
    /// 6.1: reports are not lost, and none goes twice).
    pub report_pending: Option<PendingReport>,
}

/// A report about a queued message that was decided (see
/// [`Envelope::report_pending`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingReport {
    /// Its number (see [`Envelope::reports`]).
    pub number: u32,
    /// When it was decided (Unix seconds): its date.
    pub at: u64,
    /// The one "delayed" report (its recipients are the pending ones that
    /// want it); else a report about the recipients marked reported with
    /// its number.
    pub delay: bool,
}

impl Envelope {
    /// A new envelope, due now, with every recipient pending.
    #[must_use]
    pub fn new(sender: &str, recipients: &[String], now: u64) -> Self {
        Envelope {
            sender: sender.to_owned(),
            recipients: recipients
                .iter()
                .map(|r| Recipient {
                    address: r.clone(),
                    status: RcptStatus::Pending,
                    last_error: None,
                    notify: None,
                    orcpt: None,
                    reported: false,
                    report: 0,
                })
                .collect(),
            created: now,
            attempts: 0,
            next_attempt: now,
            eight_bit: false,
            smtputf8: false,
            binary: false,
            ret: None,
            envid: None,
            delay_reported: false,
            reports: 0,
            report_pending: None,
        }
    }

    /// True when no recipient is pending any more.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.recipients.iter().all(|r| r.status != RcptStatus::Pending)
    }

    fn to_text(&self) -> String {
        let mut s = String::from("spool-envelope 1\n");
        s.push_str(&format!("created {}\n", self.created));
        s.push_str(&format!("attempts {}\n", self.attempts));
        s.push_str(&format!("next {}\n", self.next_attempt));
        if self.eight_bit {
            s.push_str("body 8bitmime\n");
        }
        if self.binary {
            s.push_str("body binarymime\n");
        }
        if self.smtputf8 {
            s.push_str("smtputf8\n");
        }
        match self.ret {
            Some(Ret::Full) => s.push_str("ret full\n"),
            Some(Ret::Hdrs) => s.push_str("ret hdrs\n"),
            None => {}
        }
        if let Some(e) = &self.envid {
            s.push_str(&format!("envid {}\n", escape(e)));
        }
        if self.delay_reported {
            s.push_str("delay-reported\n");
        }
        if self.reports > 0 {
            s.push_str(&format!("reports {}\n", self.reports));
        }
        if let Some(p) = self.report_pending {
            let kind = if p.delay { " delay" } else { "" };
            s.push_str(&format!("report-pending {} {}{kind}\n", p.number, p.at));
        }
        s.push_str(&format!("sender {}\n", escape(&self.sender)));
        for r in &self.recipients {
            let last = r.last_error.as_deref().map(escape).unwrap_or_default();
            match &r.status {
                RcptStatus::Pending => s.push_str(&format!("rcpt pending {} {}\n", escape(&r.address), last)),
                RcptStatus::Delivered => s.push_str(&format!("rcpt delivered {}\n", escape(&r.address))),
                RcptStatus::Relayed => s.push_str(&format!("rcpt relayed {}\n", escape(&r.address))),
                RcptStatus::Failed { code, text } => {
                    s.push_str(&format!(
                        "rcpt failed {} {code} {}\n",
                        escape(&r.address),
                        escape(text)
                    ));
                }
            }
            // DSN parameters follow their recipient on lines of their own,
            // so envelopes written before they existed still parse.
            if let Some(n) = r.notify {
                let mut words = Vec::new();
                if n.success {
                    words.push("success");
                }
                if n.failure {
                    words.push("failure");
                }
                if n.delay {
                    words.push("delay");
                }
                if words.is_empty() {
                    words.push("never");
                }
                s.push_str(&format!("rcpt-notify {}\n", words.join(",")));
            }
            if let Some((kind, addr)) = &r.orcpt {
                s.push_str(&format!("rcpt-orcpt {} {}\n", escape(kind), escape(addr)));
            }
            match (r.reported, r.report) {
                (false, _) => {}
                (true, 0) => s.push_str("rcpt-reported\n"),
                (true, n) => s.push_str(&format!("rcpt-reported {n}\n")),
            }
        }
        s
    }

    fn from_text(text: &str) -> Option<Envelope> {
        let mut lines = text.lines();
        if lines.next()? != "spool-envelope 1" {
            return None;
        }
        let mut env = Envelope::new("", &[], 0);
        for line in lines {
            env.apply(line)?;
        }
        Some(env)
    }

    /// What can still be read of a damaged envelope: every line that
    /// parses is taken, the others are skipped. A recipient's own lines
    /// (`rcpt-notify`, `rcpt-orcpt`, `rcpt-reported`) that follow a line
    /// that does not read are skipped too, up to the next recipient that
    /// reads: the damaged line may have been their recipient, and NOTIFY
    /// belongs to one recipient only (RFC 3461 4.1), so another's NEVER
    /// must not silence the report of the one before. `None` when no
    /// sender reads; else the envelope with only the recipients still
    /// pending.
    #[must_use]
    pub fn salvage(text: &str) -> Option<Envelope> {
        let mut env = Envelope::new("", &[], 0);
        let mut sender = false;
        // The last recipient read is the one the next `rcpt-` lines are about.
        let mut attached = true;
        for line in text.lines() {
            if line.starts_with("rcpt-") && !attached {
                continue;
            }
            if env.apply(line).is_some() {
                sender |= line.starts_with("sender ");
                attached |= line.starts_with("rcpt ");
            } else {
                attached = false;
            }
        }
        env.recipients.retain(|r| r.status == RcptStatus::Pending);
        sender.then_some(env)
    }

    /// Reads one line of the text form into the envelope.
    fn apply(&mut self, line: &str) -> Option<()> {
        let env = self;
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "created" => env.created = rest.parse().ok()?,
            "attempts" => env.attempts = rest.parse().ok()?,
            "next" => env.next_attempt = rest.parse().ok()?,
            "body" if rest == "8bitmime" => env.eight_bit = true,
            "body" if rest == "binarymime" => env.binary = true,
            "smtputf8" => env.smtputf8 = true,
            "ret" => {
                env.ret = Some(match rest {
                    "full" => Ret::Full,
                    "hdrs" => Ret::Hdrs,
                    _ => return None,
                });
            }
            "envid" => env.envid = Some(unescape(rest)?),
            "delay-reported" => env.delay_reported = true,
            "rcpt-notify" => {
                let mut n = Notify::NEVER;
                for w in rest.split(',') {
                    match w {
                        "success" => n.success = true,
                        "failure" => n.failure = true,
                        "delay" => n.delay = true,
                        "never" => {}
                        _ => return None,
                    }
                }
                env.recipients.last_mut()?.notify = Some(n);
            }
            "rcpt-reported" => {
                let r = env.recipients.last_mut()?;
                r.reported = true;
                r.report = if rest.is_empty() { 0 } else { rest.parse().ok()? };
            }
            "reports" => env.reports = rest.parse().ok()?,
            "report-pending" => {
                let mut f = rest.split(' ');
                let (number, at) = (f.next()?.parse().ok()?, f.next()?.parse().ok()?);
                let delay = match f.next() {
                    None => false,
                    Some("delay") => true,
                    Some(_) => return None,
                };
                if f.next().is_some() {
                    return None;
                }
                env.report_pending = Some(PendingReport { number, at, delay });
            }
            "rcpt-orcpt" => {
                let (kind, addr) = rest.split_once(' ')?;
                env.recipients.last_mut()?.orcpt = Some((unescape(kind)?, unescape(addr)?));
            }
            "sender" => env.sender = unescape(rest)?,
            "rcpt" => {
                let mut f = rest.splitn(4, ' ');
                let state = f.next()?;
                let address = unescape(f.next()?)?;
                let (status, last_error) = match state {
                    "pending" => {
                        let last = match f.next().filter(|s| !s.is_empty()) {
                            Some(s) => Some(unescape(s)?),
                            None => None,
                        };
                        (RcptStatus::Pending, last)
                    }
                    "delivered" => (RcptStatus::Delivered, None),
                    "relayed" => (RcptStatus::Relayed, None),
                    "failed" => {
                        let code = f.next()?.parse().ok()?;
                        let text = unescape(f.next().unwrap_or(""))?;
                        (RcptStatus::Failed { code, text }, None)
                    }
                    _ => return None,
                };
                env.recipients.push(Recipient {
                    address,
                    status,
                    last_error,
                    notify: None,
                    orcpt: None,
                    reported: false,
                    report: 0,
                });
            }
            _ => return None,
        }
        Some(())
    }
}

/// Percent-escapes '%', space, and bytes outside printable ASCII, so every
/// field is one space-free token on one line.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b == b'%' || !(0x21..=0x7e).contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// When to try again, and when to give up.
///
/// The default follows classic mail servers: first retry after 5 minutes, then
/// every 30 minutes, give up after 5 days. Tests use seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Delay before the first retry.
    pub first: Duration,
    /// Delay between later retries.
    pub interval: Duration,
    /// Age after which a message is given up and bounced.
    pub give_up: Duration,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule {
            first: Duration::from_secs(5 * 60),
            interval: Duration::from_secs(30 * 60),
            give_up: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl RetrySchedule {
    /// After a failed attempt number `attempts` (1 for the first), the time of
    /// the next one, or `None` if the message is too old and must be given up.
    #[must_use]
    pub fn next_attempt(&self, created: u64, attempts: u32, now: u64) -> Option<u64> {
        let delay = if attempts <= 1 { self.first } else { self.interval };
        let next = now.saturating_add(delay.as_secs().max(1));
        (next <= created.saturating_add(self.give_up.as_secs())).then_some(next)
    }
}

/// The spool directory.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

/// A message being written into the spool; dropped without
/// [`commit`](Self::commit), it leaves nothing behind.
#[derive(Debug)]
pub struct SpoolWriter {
    file: Option<BufWriter<File>>,
    tmp: PathBuf,
    id: String,
    dir: PathBuf,
}

impl Spool {
    /// Opens (creating if needed) a spool directory and removes what a crash
    /// may have left: temporary files and `.msg` files without an envelope,
    /// once older than [`LEFTOVER_AGE`] (a younger one may belong to a
    /// message another program is placing in the queue right now).
    ///
    /// # Errors
    ///
    /// Any I/O error from creating or reading the directory.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        for dirent in fs::read_dir(&dir)? {
            let path = dirent?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let orphan = name
                .strip_suffix(".msg")
                .is_some_and(|id| !dir.join(format!("{id}.env")).exists());
            let old = || {
                fs::symlink_metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= LEFTOVER_AGE)
            };
            if (name.starts_with(".tmp-") || orphan) && old() {
                let _ = fs::remove_file(&path);
            }
        }
        Ok(Spool { dir })
    }

    /// The spool directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Starts a new queued message.
    ///
    /// # Errors
    ///
    /// Any I/O error from creating the temporary file.
    pub fn begin(&self) -> io::Result<SpoolWriter> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let id = format!(
            "{}{:06}-{}-{}",
            now.as_secs(),
            now.subsec_micros(),
            crate::maildir::pid(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        self.begin_with(id)
    }

    /// Starts a queued message with a given id, unless one with that id is
    /// queued already (`None`): a message that must be queued at most once
    /// (a report after a crash) gets an id made from what it is about. The
    /// id must be a plain file name without a leading dot; one over 100
    /// bytes is queued under its first bytes and a hash of all of it (the id
    /// [`SpoolWriter::commit`] returns), found again the same way.
    ///
    /// # Errors
    ///
    /// An id that is no plain file name, or any I/O error.
    pub fn begin_once(&self, id: &str) -> io::Result<Option<SpoolWriter>> {
        if id.is_empty() || id.starts_with('.') || id.contains(['/', '\0']) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a spool id"));
        }
        // An id made from a long one (of a message another program queued)
        // is shortened, the same way each time, to fit a file name.
        let id = &crate::maildir::bounded_name(id, 100);
        if self.dir.join(format!("{id}.env")).exists() {
            return Ok(None);
        }
        // Left by an attempt that died before its commit: ours to replace.
        match fs::remove_file(self.dir.join(format!(".tmp-{id}.msg"))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        self.begin_with(id.to_owned()).map(Some)
    }

    fn begin_with(&self, id: String) -> io::Result<SpoolWriter> {
        let tmp = self.dir.join(format!(".tmp-{id}.msg"));
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        Ok(SpoolWriter {
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            tmp,
            id,
            dir: self.dir.clone(),
        })
    }

    /// Every queued message id, oldest first.
    ///
    /// # Errors
    ///
    /// Any I/O error from reading the directory.
    pub fn ids(&self) -> io::Result<Vec<String>> {
        let mut ids: Vec<String> = fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .filter_map(|d| {
                d.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".env"))
                    .map(str::to_owned)
            })
            .filter(|id| !id.starts_with(".tmp-"))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Reads the envelope of a queued message.
    ///
    /// # Errors
    ///
    /// Any I/O error, or `InvalidData` for an envelope that does not parse
    /// (not UTF-8, over [`MAX_ENVELOPE`] bytes, a line that does not read).
    pub fn envelope(&self, id: &str) -> io::Result<Envelope> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad envelope: {why}"));
        let text = String::from_utf8(self.envelope_bytes(id)?).map_err(|_| bad("not UTF-8"))?;
        Envelope::from_text(&text).ok_or_else(|| bad("does not parse"))
    }

    /// The bytes of an envelope file, refused (`InvalidData`) when there
    /// are more than [`MAX_ENVELOPE`].
    fn envelope_bytes(&self, id: &str) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let file = File::open(self.dir.join(format!("{id}.env")))?;
        let mut bytes = Vec::new();
        file.take(MAX_ENVELOPE + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_ENVELOPE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad envelope: over {MAX_ENVELOPE} bytes"),
            ));
        }
        Ok(bytes)
    }

    /// What can still be read of a queued envelope that does not parse
    /// (see [`Envelope::salvage`]): at most its first [`MAX_ENVELOPE`]
    /// bytes are looked at, as text with invalid UTF-8 replaced.
    #[must_use]
    pub fn salvage(&self, id: &str) -> Option<Envelope> {
        use std::io::Read;
        let file = File::open(self.dir.join(format!("{id}.env"))).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_ENVELOPE).read_to_end(&mut bytes).ok()?;
        Envelope::salvage(&String::from_utf8_lossy(&bytes))
    }

    /// Moves a queued message whose envelope does not parse out of the
    /// queue, into the [`CORRUPT_DIR`] subdirectory: the message file
    /// first, then the envelope (so that a crash in between leaves the
    /// envelope queued, to be moved again, never a message file alone,
    /// which [`open`](Self::open) would take for a leftover), each rename
    /// made durable. The entry keeps its id unless that name is taken
    /// there, then `<id>.<n>`. Returns the path without the extension.
    ///
    /// # Errors
    ///
    /// Any I/O error; what was moved before it stays moved.
    pub fn quarantine(&self, id: &str) -> io::Result<PathBuf> {
        let to = self.dir.join(CORRUPT_DIR);
        fs::create_dir_all(&to)?;
        let msg = self.dir.join(format!("{id}.msg"));
        let has_msg = msg.symlink_metadata().is_ok();
        let mut name = id.to_owned();
        let mut n = 0u32;
        // A message moved before a crash, without its envelope, is joined
        // by it: only a name taken by another entry is avoided.
        while to.join(format!("{name}.env")).symlink_metadata().is_ok()
            || (has_msg && to.join(format!("{name}.msg")).symlink_metadata().is_ok())
        {
            n += 1;
            name = format!("{id}.{n}");
        }
        let mut moves = Vec::with_capacity(2);
        if has_msg {
            moves.push((msg, to.join(format!("{name}.msg"))));
        }
        moves.push((self.dir.join(format!("{id}.env")), to.join(format!("{name}.env"))));
        for (from, into) in moves {
            fs::rename(from, into)?;
            File::open(&to)?.sync_all()?;
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(to.join(name))
    }

    /// The path of a queued message's bytes.
    #[must_use]
    pub fn message_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.msg"))
    }

    /// Replaces the envelope of a queued message, atomically and durably.
    ///
    /// # Errors
    ///
    /// Any I/O error; the old envelope stays in place on error.
    pub fn update(&self, id: &str, env: &Envelope) -> io::Result<()> {
        write_durably(&self.dir, &format!("{id}.env"), env.to_text().as_bytes())
    }

    /// Removes a message from the queue (envelope first, so a crash in
    /// between leaves only an orphan `.msg` that `open` cleans up).
    ///
    /// # Errors
    ///
    /// Any I/O error other than files already being gone.
    pub fn remove(&self, id: &str) -> io::Result<()> {
        for ext in ["env", "msg"] {
            match fs::remove_file(self.dir.join(format!("{id}.{ext}"))) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        File::open(&self.dir)?.sync_all()
    }

    /// Ids whose next attempt is due at `now` (Unix seconds).
    ///
    /// # Errors
    ///
    /// Any I/O error from reading the spool.
    pub fn due(&self, now: u64) -> io::Result<Vec<(String, Envelope)>> {
        let mut out = Vec::new();
        for id in self.ids()? {
            if let Ok(env) = self.envelope(&id)
                && env.next_attempt <= now
            {
                out.push((id, env));
            }
        }
        Ok(out)
    }
}

impl SpoolWriter {
    /// The id the message will have.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Makes the message durable and queued on this thread: fdatasync the
    /// data, rename it, then write the envelope durably. Returns the id.
    ///
    /// # Errors
    ///
    /// Any I/O error; nothing is queued on error.
    pub fn commit(self, env: &Envelope) -> io::Result<String> {
        let (plan, id) = self.into_plan(env)?;
        plan.run()?;
        Ok(id)
    }

    /// The durable steps that queue this message with `env` (for a
    /// [`Committer`](crate::durable::Committer) to group with others), and
    /// its id. First the message file and a temporary envelope are made
    /// durable and the message renamed into place; then the envelope is
    /// renamed, so the message is queued exactly when its `.env` exists.
    ///
    /// # Errors
    ///
    /// The writer was committed already.
    pub fn into_plan(mut self, env: &Envelope) -> io::Result<(Plan, String)> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("already committed"))?;
        let (file, buffered) = file.into_parts();
        let buffered = buffered.map_err(|_| io::Error::other("a write panicked"))?;
        let id = std::mem::take(&mut self.id);
        let msg_tmp = std::mem::take(&mut self.tmp);
        let env_tmp = self
            .dir
            .join(format!(".tmp-{id}.env-{}", SEQ.fetch_add(1, Ordering::Relaxed)));
        let msg = format!("{id}.msg");
        let env_name = format!("{id}.env");
        let plan = Plan::new(
            vec![
                Step {
                    files: vec![
                        NewFile::new(msg_tmp.clone(), Some(file), buffered),
                        NewFile::new(env_tmp.clone(), None, env.to_text().into_bytes()),
                    ],
                    renames: vec![Rename::new(msg_tmp.clone(), self.dir.clone(), msg.clone())],
                },
                Step {
                    files: Vec::new(),
                    renames: vec![Rename::new(env_tmp.clone(), self.dir.clone(), env_name.clone())],
                },
            ],
            vec![self.dir.join(env_name), self.dir.join(msg), msg_tmp, env_tmp],
        );
        Ok((plan, id))
    }
}

impl Write for SpoolWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("already committed"))?
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for SpoolWriter {
    fn drop(&mut self) {
        if let Some(w) = self.file.take() {
            // Discard the buffered bytes instead of writing them out.
            drop(w.into_parts());
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `name` in `dir` durably through a temporary file (data, rename,
/// directory).
fn write_durably(dir: &Path, name: &str, data: &[u8]) -> io::Result<()> {
    let tmp = format!(".tmp-{name}-{}", SEQ.fetch_add(1, Ordering::Relaxed));
    crate::durable::write_file(dir, &tmp, name, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "spool-test-{tag}-{}-{}",
            crate::maildir::pid(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn queue_update_remove() {
        let dir = temp_dir("basic");
        let spool = Spool::open(&dir).unwrap();
        let mut w = spool.begin().unwrap();
        w.write_all(b"Subject: x\r\n\r\nbody\r\n").unwrap();
        let rcpts = vec![
            "bob@remote.test".to_owned(),
            "\"odd name\"@remote.test".to_owned(),
        ];
        let id = w
            .commit(&Envelope::new("alice@example.test", &rcpts, 1000))
            .unwrap();
        assert_eq!(spool.ids().unwrap(), vec![id.clone()]);
        let mut env = spool.envelope(&id).unwrap();
        assert_eq!(env.recipients[1].address, "\"odd name\"@remote.test");
        assert_eq!(
            fs::read(spool.message_path(&id)).unwrap(),
            b"Subject: x\r\n\r\nbody\r\n"
        );
        env.recipients[0].status = RcptStatus::Delivered;
        env.recipients[1].status = RcptStatus::Failed {
            code: 550,
            text: "5.1.1 no such user here".into(),
        };
        env.attempts = 1;
        env.eight_bit = true;
        env.smtputf8 = true;
        env.binary = true;
        env.ret = Some(Ret::Hdrs);
        env.envid = Some("QQ 314159 ü".into());
        env.delay_reported = true;
        env.recipients[0].notify = Some(Notify {
            success: true,
            delay: true,
            ..Notify::NEVER
        });
        env.recipients[1].notify = Some(Notify::NEVER);
        env.recipients[1].orcpt = Some(("rfc822".into(), "Odd Name@remote.test".into()));
        env.recipients[1].reported = true;
        env.recipients[1].report = 2;
        env.reports = 2;
        env.report_pending = Some(PendingReport {
            number: 2,
            at: 1_700_000_000,
            delay: true,
        });
        spool.update(&id, &env).unwrap();
        let back = spool.envelope(&id).unwrap();
        assert_eq!(back, env);
        assert!(back.is_finished());
        spool.remove(&id).unwrap();
        assert!(spool.ids().unwrap().is_empty());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_message_queued_once_is_not_queued_again() {
        let dir = temp_dir("once");
        let spool = Spool::open(&dir).unwrap();
        let env = Envelope::new("", &["x@y.test".to_owned()], 100);
        // A writer that died before its commit leaves its temporary file.
        std::mem::forget(spool.begin_once("m-dsn1").unwrap().unwrap());
        let mut w = spool.begin_once("m-dsn1").unwrap().unwrap();
        w.write_all(b"Subject: r\r\n\r\nreport\r\n").unwrap();
        assert_eq!(w.commit(&env).unwrap(), "m-dsn1");
        assert!(spool.begin_once("m-dsn1").unwrap().is_none());
        assert!(spool.begin_once("m-dsn2").unwrap().is_some());
        for bad in ["", ".tmp-x", "a/b"] {
            assert!(spool.begin_once(bad).is_err(), "{bad:?}");
        }
        assert_eq!(spool.ids().unwrap(), ["m-dsn1"]);
        let _ = fs::remove_dir_all(dir);
    }

    /// A report's id is made from its message's id, which may be long when
    /// another program queued the message: the file names stay within the
    /// 255 bytes a file system allows, and the same id still finds the same
    /// message, so a report is queued at most once.
    #[test]
    fn a_long_id_is_queued_once_under_a_name_that_fits() {
        let dir = temp_dir("long");
        let spool = Spool::open(&dir).unwrap();
        let env = Envelope::new("", &["x@y.test".to_owned()], 100);
        let long = format!("{}-dsn1", "m".repeat(300));
        let mut w = spool.begin_once(&long).unwrap().unwrap();
        w.write_all(b"Subject: r\r\n\r\nreport\r\n").unwrap();
        let id = w.commit(&env).unwrap();
        assert!(id.len() + ".tmp-.msg".len() <= 255, "{id}");
        assert!(spool.begin_once(&long).unwrap().is_none());
        let other = format!("{}-dsn2", "m".repeat(300));
        assert!(spool.begin_once(&other).unwrap().is_some());
        assert_eq!(spool.ids().unwrap(), [id]);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn crash_leftovers_are_cleaned() {
        let dir = temp_dir("crash");
        let spool = Spool::open(&dir).unwrap();
        // An uncommitted writer that was "killed": simulate by forgetting it.
        let mut w = spool.begin().unwrap();
        w.write_all(b"partial").unwrap();
        std::mem::forget(w);
        fs::write(dir.join("123-orphan.msg"), b"no envelope").unwrap();
        // Young: perhaps another program is queueing it right now.
        let spool = Spool::open(&dir).unwrap();
        assert_eq!(fs::read_dir(spool.path()).unwrap().count(), 2);
        let then = SystemTime::now() - LEFTOVER_AGE;
        for d in fs::read_dir(&dir).unwrap() {
            File::options()
                .write(true)
                .open(d.unwrap().path())
                .unwrap()
                .set_modified(then)
                .unwrap();
        }
        let spool = Spool::open(&dir).unwrap();
        assert_eq!(fs::read_dir(spool.path()).unwrap().count(), 0);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn due_and_schedule() {
        let dir = temp_dir("due");
        let spool = Spool::open(&dir).unwrap();
        let id = spool
            .begin()
            .unwrap()
            .commit(&Envelope::new("", &["x@y.test".to_owned()], 100))
            .unwrap();
        assert_eq!(spool.due(100).unwrap().len(), 1);
        let s = RetrySchedule::default();
        let next = s.next_attempt(100, 1, 100).unwrap();
        assert_eq!(next, 400);
        assert_eq!(s.next_attempt(100, 2, 400), Some(2200));
        assert_eq!(
            s.next_attempt(100, 9, 100 + 5 * 24 * 3600),
            None,
            "gives up after 5 days"
        );
        let mut env = spool.envelope(&id).unwrap();
        env.next_attempt = next;
        spool.update(&id, &env).unwrap();
        assert!(spool.due(399).unwrap().is_empty());
        assert_eq!(spool.due(400).unwrap().len(), 1);
        assert_eq!(env.sender, "");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn envelopes_without_dsn_fields_still_parse() {
        // Written before DSN parameters existed.
        let old = "spool-envelope 1\ncreated 5\nattempts 2\nnext 9\nbody 8bitmime\nsender a@b.test\n\
                   rcpt pending x@y.test 451%204.0.0%20later\nrcpt delivered z@y.test\n";
        let env = Envelope::from_text(old).unwrap();
        assert_eq!(env.attempts, 2);
        assert!(env.eight_bit && !env.binary && env.ret.is_none() && env.envid.is_none());
        assert_eq!(env.recipients.len(), 2);
        assert_eq!(env.recipients[0].last_error.as_deref(), Some("451 4.0.0 later"));
        assert!(
            env.recipients
                .iter()
                .all(|r| r.notify.is_none() && r.orcpt.is_none())
        );
        assert!(env.recipients[0].wants(Report::Failure) && env.recipients[0].wants(Report::Delay));
        assert!(!env.recipients[0].wants(Report::Success));
        assert!(
            Envelope::from_text("spool-envelope 1\nrcpt-notify success\n").is_none(),
            "no recipient yet"
        );
        assert!(Envelope::from_text("spool-envelope 1\nret sometimes\n").is_none());
    }

    #[test]
    fn a_damaged_envelope_is_salvaged_and_quarantined() {
        let dir = temp_dir("corrupt");
        let spool = Spool::open(&dir).unwrap();
        let text = "spool-envelope 1\ncreated 5\nsender a@b.test\nrcpt pending x@y.test\n\
                    rcpt-notify failure\nrcpt delivered z@y.test\nrcpt pending w@y.test 4%2\nrcpt-nev";
        for id in ["m1", "m2"] {
            fs::write(dir.join(format!("{id}.msg")), "Subject: x\r\n\r\nbody\r\n").unwrap();
            fs::write(dir.join(format!("{id}.env")), text).unwrap();
        }
        assert_eq!(
            spool.envelope("m1").unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        let env = spool.salvage("m1").unwrap();
        assert_eq!((env.sender.as_str(), env.created), ("a@b.test", 5));
        let rcpts: Vec<&str> = env.recipients.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(rcpts, ["x@y.test"], "the pending recipients that read");
        assert!(env.recipients[0].notify.is_some_and(|n| n.failure));
        assert!(Envelope::salvage("spool-envelope 1\nrcpt pending x@y.test\n").is_none());
        // Quarantined, then the same id again: a name of its own.
        let to = spool.quarantine("m1").unwrap();
        assert_eq!(to, dir.join("corrupt/m1"));
        fs::rename(dir.join("m2.msg"), dir.join("m1.msg")).unwrap();
        fs::rename(dir.join("m2.env"), dir.join("m1.env")).unwrap();
        assert_eq!(spool.quarantine("m1").unwrap(), dir.join("corrupt/m1.1"));
        // A crash after the message moved: the envelope joins it.
        fs::write(dir.join("m3.env"), "junk").unwrap();
        fs::write(dir.join("corrupt/m3.msg"), "moved before the crash").unwrap();
        assert_eq!(spool.quarantine("m3").unwrap(), dir.join("corrupt/m3"));
        let mut left: Vec<String> = fs::read_dir(dir.join("corrupt"))
            .unwrap()
            .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["m1.1.env", "m1.1.msg", "m1.env", "m1.msg", "m3.env", "m3.msg"]
        );
        assert!(spool.ids().unwrap().is_empty());
        // Reopening leaves the quarantine alone.
        let spool = Spool::open(&dir).unwrap();
        assert_eq!(fs::read_dir(dir.join("corrupt")).unwrap().count(), 6);
        // Too large to be an envelope.
        let big = format!("spool-envelope 1\n{}", "created 1\n".repeat(2 << 20));
        fs::write(dir.join("big.env"), big).unwrap();
        assert_eq!(
            spool.envelope("big").unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        let _ = fs::remove_dir_all(dir);
    }

    /// RFC 3461 4.1: NOTIFY is a recipient's own. A damaged recipient line
    /// is skipped by salvage; the DSN lines after it were its, not those of
    /// the recipient before it, and a NOTIFY=NEVER must not silence that one.
    #[test]
    fn salvage_drops_the_dsn_lines_of_an_unreadable_recipient() {
        let text = "spool-envelope 1\nsender a@b.test\nrcpt pending x@y.test\n\
                    rcpt pending bad%ZZ@y.test\nrcpt-notify never\nrcpt-orcpt rfc822 bad@y.test\n\
                    rcpt pending w@y.test\nrcpt-orcpt rfc822 W@y.test\n";
        let env = Envelope::salvage(text).unwrap();
        let rcpts: Vec<&str> = env.recipients.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(rcpts, ["x@y.test", "w@y.test"]);
        assert_eq!(env.recipients[0].notify, None, "x@y.test keeps the default");
        assert_eq!(env.recipients[0].orcpt, None);
        assert!(env.recipients[0].wants(Report::Failure));
        assert_eq!(
            env.recipients[1].orcpt,
            Some(("rfc822".into(), "W@y.test".into())),
            "a readable recipient's own lines still attach"
        );
    }

    #[test]
    fn escape_round_trip() {
        for s in ["", "a b", "100%", "x\r\ny", "plain@example.test", "ü@例え.test"] {
            assert_eq!(unescape(&escape(s)).as_deref(), Some(s));
            assert!(!escape(s).contains(' '));
        }
    }
}
