//! Maildir storage, as Dovecot, Courier and mutt read it.
//!
//! A delivery is written to `tmp/`, fsynced, renamed into `new/`, and the
//! directory is fsynced; only then does [`Delivery::commit`] return, so an
//! SMTP server may answer 250 after it. Unique names follow the maildir
//! convention (`<secs>.M<usecs>P<pid>Q<seq>.<host>`) with Dovecot's
//! `,S=<size>` (the size as stored) and `,W=<size>` (the size with CRLF
//! line ends, as POP3 sends it), so a reader knows both without reading the
//! file; flags live in the `:2,<flags>` suffix of names in `cur/`.

use crate::durable::{NewFile, Plan, Rename, Step};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes gathered before a write to a message file: a typical message is
/// one write system call.
const WRITE_BUFFER: usize = 32 * 1024;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A Maildir folder: `tmp/`, `new/`, `cur/` under one root.
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
}

/// One stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The unique part of the file name (before `:2,`), stable across flag changes.
    pub unique: String,
    /// Where the file is now.
    pub path: PathBuf,
    /// The size with CRLF line ends, as POP3 sends the message (RFC 1939 5
    /// and 11): Dovecot's `,W=<size>` from the name when it has one (every
    /// delivery made here does), else counted from the file by
    /// [`wire_size`]. A name's `,S=<size>` alone is not used: it is the
    /// size as stored, which for a file with LF line ends is smaller.
    pub size: u64,
    /// Flags from the `:2,` suffix, sorted (`D` draft, `F` flagged, `R` replied, `S` seen, `T` trashed).
    pub flags: String,
    /// True while the message is still in `new/` (not yet seen by any reader).
    pub is_new: bool,
}

impl Entry {
    /// A POP3 unique id (RFC 1939 7: 1 to 70 characters in 0x21..=0x7E) for this message.
    #[must_use]
    pub fn uidl(&self) -> String {
        let base = self.unique.split(',').next().unwrap_or(&self.unique);
        let clean: String = base.chars().filter(|c| ('\x21'..='\x7e').contains(c)).collect();
        if !clean.is_empty() && clean.len() <= 70 {
            return clean;
        }
        // Too long (a long host name): a stable 64-bit FNV-1a digest of the name.
        format!("{:016x}", fnv1a(self.unique.as_bytes(), 0))
    }

    /// The POP3 unique ids of a maildrop listing, one per entry, in order.
    /// Each is the entry's [`uidl`](Self::uidl) when no other entry has
    /// the same; entries that share one (names alike up to their first ","
    /// or but for invisible characters, or one message in both `new/` and
    /// `cur/`) each get a digest of their own full unique name instead, so
    /// no two messages share an id (RFC 1939 7) and an id never moves from
    /// one message to another when messages come and go. (A unique name
    /// found twice is one message; its copies are told apart by their
    /// order.)
    #[must_use]
    pub fn uidls(entries: &[Entry]) -> Vec<String> {
        let plain: Vec<String> = entries.iter().map(Entry::uidl).collect();
        let mut count = std::collections::HashMap::with_capacity(plain.len());
        for id in &plain {
            *count.entry(id.as_str()).or_insert(0u32) += 1;
        }
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        entries
            .iter()
            .zip(&plain)
            .map(|(e, id)| {
                let mut salt = 0;
                let mut id = if count[id.as_str()] == 1 {
                    id.clone()
                } else {
                    salt = 1;
                    format!("{:016x}", fnv1a(e.unique.as_bytes(), salt))
                };
                while !seen.insert(id.clone()) {
                    salt += 1;
                    id = format!("{:016x}", fnv1a(e.unique.as_bytes(), salt));
                }
                id
            })
            .collect()
    }
}

/// 64-bit FNV-1a of `data` followed by `salt` (none when 0), as its eight
/// little-endian bytes.
fn fnv1a(data: &[u8], salt: u64) -> u64 {
    let salt = salt.to_le_bytes();
    let tail: &[u8] = if salt == [0; 8] { &[] } else { &salt };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data.iter().chain(tail) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `name` if it is at most `max` bytes long (`max` over 17); else its first
/// bytes (up to a character boundary), `-`, and the 16 hex digits of a hash
/// of all of it, `max` bytes or fewer in all. Names made from ids that come
/// from outside (a message another program queued) stay within the 255 bytes
/// a file name may have, and one name always gives the same result.
pub(crate) fn bounded_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let mut cut = max.saturating_sub(17);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{:016x}", &name[..cut], fnv1a(name.as_bytes(), 0))
}

impl Maildir {
    /// Opens a Maildir at `root`, creating the three subdirectories if needed.
    ///
    /// # Errors
    ///
    /// Any I/O error from creating the directories.
    pub fn create(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(Maildir { root })
    }

    /// A Maildir at `root` whose subdirectories are known to exist (as
    /// [`create`](Self::create) made them); nothing is checked or created.
    #[must_use]
    pub fn existing(root: impl Into<PathBuf>) -> Self {
        Maildir { root: root.into() }
    }

    /// The root directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Starts a delivery: the message is gathered in memory and goes to a
    /// new file in `tmp/` once it outgrows the write buffer, or else when it
    /// is committed (so a small message's file is created by whoever commits
    /// it, such as a [`Committer`](crate::durable::Committer)'s thread).
    ///
    /// # Errors
    ///
    /// None at present; kept for callers that expect creating to fail.
    pub fn begin(&self) -> io::Result<Delivery> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let base = format!(
            "{}.M{}P{}Q{}.{}",
            now.as_secs(),
            now.subsec_micros(),
            crate::maildir::pid(),
            seq,
            host_name()
        );
        Ok(self.delivery(base))
    }

    /// Starts a delivery that must be made at most once (a report that a
    /// crash may have stored already): its unique name is
    /// `<secs>.<tag>.<host>`, made only from its arguments, and `None` is
    /// returned when a message of that name is in `new/` or `cur/`
    /// already. Characters of `tag` other than ASCII letters, digits and
    /// `-` are written as `_` and two hex digits, so the name is a safe
    /// maildir name and different tags give different names; a tag that is
    /// over 100 bytes written so is cut, and a hash of all of it added, to
    /// keep the name within a file name's 255 bytes.
    ///
    /// # Errors
    ///
    /// Any I/O error from looking through `new/` and `cur/`.
    pub fn begin_once(&self, secs: u64, tag: &str) -> io::Result<Option<Delivery>> {
        let mut safe = String::with_capacity(tag.len());
        for b in tag.bytes() {
            if b.is_ascii_alphanumeric() || b == b'-' {
                safe.push(char::from(b));
            } else {
                safe.push_str(&format!("_{b:02X}"));
            }
        }
        let base = format!("{secs}.{}.{}", bounded_name(&safe, 100), host_name());
        for sub in ["new", "cur"] {
            for dirent in fs::read_dir(self.root.join(sub))? {
                let name = dirent?.file_name();
                let name = name.to_string_lossy();
                let unique = name.split_once(":2,").map_or(&*name, |(u, _)| u);
                if unique.split(',').next() == Some(base.as_str()) {
                    return Ok(None);
                }
            }
        }
        // Left by an attempt that died before its rename: ours to replace.
        match fs::remove_file(self.root.join("tmp").join(&base)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        Ok(Some(self.delivery(base)))
    }

    fn delivery(&self, base: String) -> Delivery {
        let tmp_path = self.root.join("tmp").join(&base);
        Delivery {
            out: Some(Out::Memory(Vec::new())),
            tmp_path,
            base,
            root: self.root.clone(),
            size: 0,
            wire: WireCounter::default(),
        }
    }

    /// Delivers a whole message; returns its unique name.
    ///
    /// # Errors
    ///
    /// Any I/O error; nothing is left in `new/` on error.
    pub fn deliver(&self, data: &[u8]) -> io::Result<String> {
        let mut d = self.begin()?;
        d.write_all(data)?;
        d.commit()
    }

    /// Every message in `new/` and `cur/`, oldest delivery first.
    ///
    /// # Errors
    ///
    /// Any I/O error from reading the directories.
    pub fn list(&self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        for (sub, is_new) in [("new", true), ("cur", false)] {
            for dirent in fs::read_dir(self.root.join(sub))? {
                let dirent = dirent?;
                let Some(name) = dirent.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if name.starts_with('.') {
                    continue;
                }
                let meta = match dirent.metadata() {
                    Ok(m) if m.is_file() => m,
                    _ => continue,
                };
                let (unique, flags) = match name.split_once(":2,") {
                    Some((u, f)) => (u.to_owned(), f.to_owned()),
                    None => (name.clone(), String::new()),
                };
                // Without ",W=" the file may have LF line ends, which RETR
                // sends as CRLF (RFC 1939 11), so count what goes on the
                // wire (",S=" is only the size as stored). One that has
                // vanished since the read_dir is skipped, as another reader
                // took it.
                let size = match size_field(&unique, "W=") {
                    Some(size) => size,
                    None if meta.len() == 0 => 0,
                    None => match fs::File::open(dirent.path()).and_then(wire_size) {
                        Ok(size) => size,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e),
                    },
                };
                out.push(Entry {
                    unique,
                    path: dirent.path(),
                    size,
                    flags,
                    is_new,
                });
            }
        }
        out.sort_by(|a, b| delivery_key(&a.unique).cmp(&delivery_key(&b.unique)));
        Ok(out)
    }

    /// Reads a whole message.
    ///
    /// # Errors
    ///
    /// Any I/O error (for example, another reader deleted it).
    pub fn read(&self, entry: &Entry) -> io::Result<Vec<u8>> {
        fs::read(&entry.path)
    }

    /// Moves a message to `cur/` with the given flags (sorted and de-duplicated).
    ///
    /// # Errors
    ///
    /// Any I/O error from the rename.
    pub fn set_flags(&self, entry: &Entry, flags: &str) -> io::Result<Entry> {
        let mut f: Vec<char> = flags.chars().filter(char::is_ascii_alphabetic).collect();
        f.sort_unstable();
        f.dedup();
        let flags: String = f.into_iter().collect();
        let path = self
            .root
            .join("cur")
            .join(format!("{}:2,{}", entry.unique, flags));
        fs::rename(&entry.path, &path)?;
        Ok(Entry {
            path,
            flags,
            is_new: false,
            ..entry.clone()
        })
    }

    /// Deletes a message, wherever it is now: another reader may have moved
    /// it since it was listed (from `new/` to `cur/`, or to other flags).
    ///
    /// # Errors
    ///
    /// Any I/O error other than the message being gone.
    pub fn delete(&self, entry: &Entry) -> io::Result<()> {
        match fs::remove_file(&entry.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => match self.relocate(entry)? {
                Some(moved) => match fs::remove_file(&moved.path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                },
                None => Ok(()),
            },
            r => r,
        }
    }

    /// Where a listed message is now, found by its unique name: in `new/`,
    /// or in `cur/` with any flags (Maildir readers move messages there and
    /// rename them to change flags; the unique part stays). `None` if it is
    /// gone.
    ///
    /// # Errors
    ///
    /// Any I/O error from looking.
    pub fn relocate(&self, entry: &Entry) -> io::Result<Option<Entry>> {
        let new = self.root.join("new").join(&entry.unique);
        if new.is_file() {
            return Ok(Some(Entry {
                path: new,
                flags: String::new(),
                is_new: true,
                ..entry.clone()
            }));
        }
        for dirent in fs::read_dir(self.root.join("cur"))? {
            let dirent = dirent?;
            let Some(name) = dirent.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let flags = match name.split_once(":2,") {
                Some((u, f)) if u == entry.unique => f.to_owned(),
                None if name == entry.unique => String::new(),
                _ => continue,
            };
            return Ok(Some(Entry {
                path: dirent.path(),
                flags,
                is_new: false,
                ..entry.clone()
            }));
        }
        Ok(None)
    }

    /// Takes the maildrop lock for an exclusive reader (POP3 needs one, RFC
    /// 1939 8). Returns `None` if another live process or session holds it; a
    /// lock left by a dead process is broken.
    ///
    /// The lock file names its process by pid and start time. A lock naming
    /// this very process is held only if one of its sessions took it: one
    /// left by an earlier process that had the same pid (a maild restarted
    /// in a container is pid 1 every time) is stale, as is one naming a pid
    /// that a different process has since been given.
    ///
    /// # Errors
    ///
    /// Any I/O error other than the lock being held.
    pub fn lock(&self) -> io::Result<Option<MaildropLock>> {
        let path = self.root.join(".maildrop.lock");
        // Every lock and unlock of this process in turn, so the set of
        // locks held here always matches the lock files naming this process.
        let mut held = held_locks();
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let me = pid();
                    let since = start_time(me).unwrap_or(0);
                    if let Err(e) = writeln!(f, "{me} {since}") {
                        let _ = fs::remove_file(&path);
                        return Err(e);
                    }
                    held.insert(path.clone());
                    return Ok(Some(MaildropLock { path }));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_to_string(&path).unwrap_or_default();
                    let mut words = holder.split_whitespace();
                    let who = words.next().and_then(|w| w.parse::<u32>().ok());
                    let since = words.next().and_then(|w| w.parse::<u64>().ok());
                    let alive = match who {
                        Some(p) if p == pid() => held.contains(&path),
                        // An old lock file has no start time: the pid alone.
                        Some(p) => match since {
                            Some(t) => start_time(p) == Some(t),
                            None => Path::new(&format!("/proc/{p}")).exists(),
                        },
                        None => false,
                    };
                    if alive {
                        return Ok(None);
                    }
                    // Stale: its process is gone.
                    let _ = fs::remove_file(&path);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Removes files in `tmp/` older than `max_age_secs` (left by crashed deliveries).
    ///
    /// # Errors
    ///
    /// Any I/O error from reading `tmp/`.
    pub fn clean_tmp(&self, max_age_secs: u64) -> io::Result<usize> {
        let mut removed = 0;
        let now = SystemTime::now();
        for dirent in fs::read_dir(self.root.join("tmp"))? {
            let dirent = dirent?;
            let old = dirent
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age.as_secs() >= max_age_secs);
            if old && fs::remove_file(dirent.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// A message being written into `tmp/`. Dropping it without
/// [`commit`](Self::commit) removes the temporary file.
#[derive(Debug)]
pub struct Delivery {
    /// `None` once finished.
    out: Option<Out>,
    tmp_path: PathBuf,
    base: String,
    root: PathBuf,
    size: u64,
    /// The size with CRLF line ends, for `,W=`.
    wire: WireCounter,
}

/// Where a delivery's bytes are.
#[derive(Debug)]
enum Out {
    /// All of them, in memory (no file yet).
    Memory(Vec<u8>),
    /// The file in `tmp/`, behind a write buffer.
    File(BufWriter<File>),
}

impl Delivery {
    /// Bytes written so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Makes the message durable and visible on this thread: fdatasync the
    /// file, rename it into `new/`, fsync `new/`. Returns the unique name.
    ///
    /// # Errors
    ///
    /// Any I/O error; the temporary file is removed and nothing is delivered.
    pub fn commit(self) -> io::Result<String> {
        let (plan, unique) = self.into_plan()?;
        plan.run()?;
        Ok(unique)
    }

    /// The durable steps that finish this delivery (for a
    /// [`Committer`](crate::durable::Committer) to group with others), and
    /// the unique name the message will have in `new/`. Nothing is written
    /// here: the buffered bytes go out with the plan.
    ///
    /// # Errors
    ///
    /// The delivery was finished already.
    pub fn into_plan(mut self) -> io::Result<(Plan, String)> {
        let (file, buffered) = match self.out.take() {
            None => return Err(io::Error::other("delivery already finished")),
            Some(Out::Memory(v)) => (None, v),
            Some(Out::File(w)) => {
                let (file, buffered) = w.into_parts();
                (
                    Some(file),
                    buffered.map_err(|_| io::Error::other("a write panicked"))?,
                )
            }
        };
        let unique = format!("{},S={},W={}", self.base, self.size, self.wire.total());
        let new_dir = self.root.join("new");
        let tmp = std::mem::take(&mut self.tmp_path);
        let plan = Plan::new(
            vec![Step {
                files: vec![NewFile::new(tmp.clone(), file, buffered)],
                renames: vec![Rename::new(tmp.clone(), new_dir.clone(), unique.clone())],
            }],
            vec![tmp, new_dir.join(&unique)],
        );
        Ok((plan, unique))
    }
}

impl Write for Delivery {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.out {
            None => return Err(io::Error::other("delivery already finished")),
            Some(Out::Memory(v)) if v.len() + buf.len() <= WRITE_BUFFER => {
                v.extend_from_slice(buf);
                buf.len()
            }
            Some(Out::Memory(v)) => {
                // Too big for memory: on to the file, with what came so far.
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&self.tmp_path)?;
                let mut w = BufWriter::with_capacity(WRITE_BUFFER, file);
                w.write_all(&std::mem::take(v))?;
                let n = w.write(buf)?;
                self.out = Some(Out::File(w));
                n
            }
            Some(Out::File(w)) => w.write(buf)?,
        };
        self.size += n as u64;
        self.wire.count(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(Out::File(w)) => w.flush(),
            _ => Ok(()),
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(Out::File(w)) = self.out.take() {
            // Discard the buffered bytes instead of writing them out.
            drop(w.into_parts());
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

/// The maildrop lock; released on drop.
#[derive(Debug)]
pub struct MaildropLock {
    path: PathBuf,
}

impl Drop for MaildropLock {
    fn drop(&mut self) {
        let mut held = held_locks();
        let _ = fs::remove_file(&self.path);
        held.remove(&self.path);
    }
}

/// The maildrop locks this process holds (see [`Maildir::lock`]).
fn held_locks() -> std::sync::MutexGuard<'static, std::collections::HashSet<PathBuf>> {
    static HELD: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<PathBuf>>> =
        std::sync::OnceLock::new();
    HELD.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// When process `pid` started (field 22 of /proc/PID/stat, in clock ticks
/// since boot): with the pid, it names one process even after pids wrap.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This process's id, read once (glibc no longer caches getpid(), and
/// every unique file name holds it).
pub(crate) fn pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

/// This host's name, made safe for a maildir file name ('/' and ':' are escaped
/// as the maildir convention says).
/// Read once per process: it is part of every unique name.
fn host_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let raw = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".into());
        let raw = raw.trim();
        let raw = if raw.is_empty() { "localhost" } else { raw };
        raw.replace('/', "\\057").replace(':', "\\072")
    })
}

/// The size of a message as a POP3 server (pop3-proto's `message_data`,
/// which normalises line ends) sends it, before dot-stuffing: every CRLF, bare
/// LF and bare CR is one CRLF, and a last line without a line end gets one
/// (RFC 1939 11: "counts each occurrence of this character in a message as
/// two octets"). Reads `r` to its end in 64 KiB pieces.
///
/// # Errors
///
/// Any I/O error from reading.
pub fn wire_size(mut r: impl io::Read) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut counter = WireCounter::default();
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(counter.total()),
            Ok(n) => counter.count(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// [`wire_size`] of bytes given in pieces (a delivery counts what it writes).
#[derive(Debug, Clone, Copy)]
struct WireCounter {
    size: u64,
    /// The previous byte was a CR (its CRLF is counted; an LF after it adds nothing).
    cr: bool,
    /// The last byte ended a line (or nothing came yet).
    line_end: bool,
}

impl Default for WireCounter {
    fn default() -> Self {
        WireCounter {
            size: 0,
            cr: false,
            line_end: true,
        }
    }
}

impl WireCounter {
    fn count(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // a CR counted its CRLF already: the LF after it adds nothing
            if std::mem::take(&mut self.cr) && b == b'\n' {
                continue;
            }
            self.size += match b {
                // CRLF whatever follows: its LF, or one added
                b'\r' => {
                    self.cr = true;
                    2
                }
                b'\n' => 2,
                _ => 1,
            };
            self.line_end = b == b'\n' || b == b'\r';
        }
    }

    /// The size so far, with a CRLF added to a last line without one.
    fn total(&self) -> u64 {
        if self.line_end { self.size } else { self.size + 2 }
    }
}

/// The `,<tag><size>` field of a unique name (`tag` is `S=` or `W=`), if present.
fn size_field(unique: &str, tag: &str) -> Option<u64> {
    unique
        .split(',')
        .skip(1)
        .find_map(|f| f.strip_prefix(tag))
        .and_then(|s| s.parse().ok())
}

/// Sort key: delivery seconds, microseconds, then the whole name.
fn delivery_key(unique: &str) -> (u64, u64, &str) {
    let mut parts = unique.splitn(2, '.');
    let secs = parts.next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
    let usecs = parts
        .next()
        .and_then(|rest| rest.strip_prefix('M'))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (secs, usecs, unique)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "maildir-test-{tag}-{}-{}",
            crate::maildir::pid(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn deliver_list_flag_delete() {
        let dir = temp_dir("basic");
        let md = Maildir::create(&dir).unwrap();
        let a = md.deliver(b"Subject: a\r\n\r\nA\r\n").unwrap();
        let b = md.deliver(b"Subject: b\r\n\r\nBB\r\n").unwrap();
        assert!(a.ends_with(",S=17,W=17"));
        let list = md.list().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].unique, a);
        assert_eq!(list[1].unique, b);
        assert!(list[0].is_new);
        assert_eq!(md.read(&list[1]).unwrap(), b"Subject: b\r\n\r\nBB\r\n");
        let seen = md.set_flags(&list[0], "SRS").unwrap();
        assert_eq!(seen.flags, "RS");
        assert!(seen.path.to_string_lossy().ends_with(":2,RS"));
        let list = md.list().unwrap();
        assert_eq!(list[0].unique, a, "flags keep the order and the unique name");
        assert_eq!(list[0].flags, "RS");
        assert!(!list[0].is_new);
        md.delete(&list[0]).unwrap();
        assert_eq!(md.list().unwrap().len(), 1);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn deliveries_through_the_committer() {
        let dir = temp_dir("group");
        let md = Maildir::create(&dir).unwrap();
        let committer = crate::durable::Committer::start(crate::durable::SyncMode::PerFile).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let names = rt.block_on(async {
            let mut pending = Vec::new();
            for i in 0..20 {
                let mut d = md.begin().unwrap();
                d.write_all(format!("Subject: {i}\r\n\r\n").as_bytes()).unwrap();
                // Larger than the write buffer: part of it is on disk already.
                if i == 3 {
                    d.write_all(&vec![b'x'; 3 * WRITE_BUFFER]).unwrap();
                }
                let (plan, unique) = d.into_plan().unwrap();
                pending.push((committer.submit(plan), unique));
            }
            let mut names = Vec::new();
            for (t, unique) in pending {
                t.wait().await.unwrap();
                names.push(unique);
            }
            names
        });
        let list = md.list().unwrap();
        assert_eq!(list.len(), 20);
        let big = list.iter().find(|e| e.unique == names[3]).unwrap();
        // The last line has no line end: POP3 adds one.
        assert!(big.unique.ends_with(&format!(
            ",S={},W={}",
            14 + 3 * WRITE_BUFFER,
            16 + 3 * WRITE_BUFFER
        )));
        assert_eq!(big.size, (16 + 3 * WRITE_BUFFER) as u64);
        assert_eq!(md.read(big).unwrap().len(), 14 + 3 * WRITE_BUFFER);
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_delivery_made_once_is_not_made_again() {
        let dir = temp_dir("once");
        let md = Maildir::create(&dir).unwrap();
        let mut d = md.begin_once(1_700_000_000, "dsn-id/1:2,x").unwrap().unwrap();
        d.write_all(b"Subject: r\r\n\r\nreport\r\n").unwrap();
        let unique = d.commit().unwrap();
        assert!(unique.starts_with("1700000000.dsn-id_2F1_3A2_2Cx."), "{unique}");
        assert!(md.begin_once(1_700_000_000, "dsn-id/1:2,x").unwrap().is_none());
        // Still found after a reader moved it to cur/ with flags.
        let entry = md.list().unwrap().remove(0);
        md.set_flags(&entry, "S").unwrap();
        assert!(md.begin_once(1_700_000_000, "dsn-id/1:2,x").unwrap().is_none());
        assert!(md.begin_once(1_700_000_000, "dsn-id/2").unwrap().is_some());
        // A tag from a long message id (escaped, three bytes for each "/")
        // still gives a name within the 255 bytes a file system allows,
        // and is found again.
        let long = format!("{}/dsn1", "a/".repeat(100));
        let mut d = md.begin_once(1_700_000_000, &long).unwrap().unwrap();
        d.write_all(b"Subject: r\r\n\r\nreport\r\n").unwrap();
        let unique = d.commit().unwrap();
        assert!(unique.len() + ":2,DFPRST".len() <= 255, "{unique}");
        assert!(md.begin_once(1_700_000_000, &long).unwrap().is_none());
        let other = format!("{}/dsn2", "a/".repeat(100));
        assert!(md.begin_once(1_700_000_000, &other).unwrap().is_some());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn dropped_delivery_leaves_nothing() {
        let dir = temp_dir("abort");
        let md = Maildir::create(&dir).unwrap();
        {
            let mut d = md.begin().unwrap();
            d.write_all(b"half a mess").unwrap();
        }
        assert!(md.list().unwrap().is_empty());
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn lock_is_exclusive_and_stale_locks_break() {
        let dir = temp_dir("lock");
        let md = Maildir::create(&dir).unwrap();
        let held = md.lock().unwrap().expect("free");
        assert!(md.lock().unwrap().is_none(), "second lock refused while held");
        drop(held);
        assert!(md.lock().unwrap().is_some(), "released on drop");
        // A lock file naming a process that does not exist is stale.
        fs::write(dir.join(".maildrop.lock"), "4000000000\n").unwrap();
        assert!(md.lock().unwrap().is_some());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn uidl_is_valid() {
        let e = Entry {
            unique: "1700000000.M5P7Q1.host,S=10".into(),
            path: PathBuf::new(),
            size: 10,
            flags: String::new(),
            is_new: true,
        };
        assert_eq!(e.uidl(), "1700000000.M5P7Q1.host");
        let long = Entry {
            unique: format!("1700000000.M5P7Q1.{}", "h".repeat(80)),
            ..e
        };
        let u = long.uidl();
        assert!(u.len() <= 70 && u.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    }
}
