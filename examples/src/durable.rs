//! Durable writes of new files, one at a time or group-committed by a
//! writer thread.
//!
//! Every durable write here has the same shape: a new file is written under
//! a temporary name, its data is put on stable storage, it is renamed to its
//! final name, and the directory holding that name is fsynced. Only when all
//! of that has completed may a server acknowledge (SMTP's 250). A crash at
//! any point leaves either nothing under the final name or the complete file:
//! the rename happens only after the data is durable, and the caller answers
//! only after the rename is.
//!
//! A [`Plan`] lists the [`Step`]s of one write (a Maildir delivery has one; a
//! spool entry has two, so its envelope appears only once its message file
//! is in place). [`Plan::run`] performs one plan on the calling thread.
//!
//! A [`Committer`] owns a thread that performs plans for many callers
//! together: it takes every plan waiting, writes out their files, makes all
//! of their data durable at once, renames them all, fsyncs each directory
//! involved once, and then answers every caller. With 20 SMTP sessions
//! delivering, twenty fdatasync/fsync pairs become one sync of each kind.
//! How the data of a batch is made durable is a [`SyncMode`]: an
//! `fdatasync(2)` of each file, or one `syncfs(2)` of each file system
//! involved (which writes back every dirty file and inode of that file
//! system, these files included, and flushes the device cache).

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How a batch's file data reaches stable storage before the renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// `fdatasync(2)` of every file (touches only these files).
    PerFile,
    /// One `syncfs(2)` per file system in the batch (one device flush for
    /// the whole batch, but it also writes back unrelated dirty data of
    /// that file system).
    FileSystem,
}

/// A new file: possibly opened and partly written already, plus bytes still
/// to write.
#[derive(Debug)]
pub struct NewFile {
    path: PathBuf,
    /// Shared with the sync threads while its data is made durable.
    file: Option<Arc<File>>,
    data: Vec<u8>,
}

impl NewFile {
    /// A file at `path` that exists already (`file`, created by the caller)
    /// or is created (it must not exist), with `data` still to be appended.
    #[must_use]
    pub fn new(path: PathBuf, file: Option<File>, data: Vec<u8>) -> Self {
        NewFile {
            path,
            file: file.map(Arc::new),
            data,
        }
    }

    /// Creates the file if needed and writes the pending bytes.
    fn write_out(&mut self) -> io::Result<()> {
        let file = match &self.file {
            Some(f) => f,
            None => self.file.insert(Arc::new(
                OpenOptions::new().write(true).create_new(true).open(&self.path)?,
            )),
        };
        if !self.data.is_empty() {
            (&**file).write_all(&self.data)?;
            self.data = Vec::new();
        }
        Ok(())
    }
}

/// A rename into a directory, made durable by an fsync of that directory.
#[derive(Debug)]
pub struct Rename {
    from: PathBuf,
    dir: PathBuf,
    name: String,
}

impl Rename {
    /// Renames `from` to `dir/name`.
    #[must_use]
    pub fn new(from: PathBuf, dir: PathBuf, name: String) -> Self {
        Rename { from, dir, name }
    }
}

/// One step of a durable write: `files` are written and their data made
/// durable, then every rename is done and made durable.
#[derive(Debug, Default)]
pub struct Step {
    /// Files whose data must be on stable storage before the renames.
    pub files: Vec<NewFile>,
    /// Renames done after that, made durable before the step completes.
    pub renames: Vec<Rename>,
}

/// A durable write: steps run in order, each complete and durable before
/// the next starts.
#[derive(Debug, Default)]
pub struct Plan {
    steps: VecDeque<Step>,
    cleanup: Vec<PathBuf>,
}

impl Plan {
    /// A plan of `steps`; when any step fails, every path in `cleanup` is
    /// removed (in order, missing ones ignored): the temporary files and
    /// whatever final names must not survive a failed write.
    #[must_use]
    pub fn new(steps: Vec<Step>, cleanup: Vec<PathBuf>) -> Self {
        Plan {
            steps: steps.into(),
            cleanup,
        }
    }

    /// Performs the plan on this thread (`fdatasync` of each file).
    ///
    /// # Errors
    ///
    /// The first I/O error; the cleanup paths are removed then.
    pub fn run(self) -> io::Result<()> {
        let mut jobs = vec![Job {
            plan: self,
            failed: None,
            reply: None,
        }];
        while !jobs.is_empty() {
            round(&mut jobs, SyncMode::PerFile, None);
            if let Some(job) = jobs.first_mut()
                && let Some(e) = job.failed.take()
            {
                return Err(e);
            }
            jobs.retain(|j| !j.plan.steps.is_empty());
        }
        Ok(())
    }

    fn fail(&mut self) {
        self.steps.clear();
        for p in &self.cleanup {
            let _ = fs::remove_file(p);
        }
    }
}

type Reply = tokio::sync::oneshot::Sender<io::Result<()>>;

/// A plan being performed, with its caller.
#[derive(Debug)]
struct Job {
    plan: Plan,
    failed: Option<io::Error>,
    reply: Option<Reply>,
}

impl Job {
    fn fail(&mut self, e: io::Error) {
        if self.failed.is_none() {
            self.failed = Some(e);
        }
    }
}

/// Performs the first step of every job together. Afterwards a failed job
/// has `failed` set and its cleanup done; a successful one has one step less.
fn round(jobs: &mut [Job], mode: SyncMode, pool: Option<&mut SyncPool>) {
    // Write everything out.
    for job in jobs.iter_mut() {
        let Some(step) = job.plan.steps.front_mut() else {
            continue;
        };
        if let Err(e) = step.files.iter_mut().try_for_each(NewFile::write_out) {
            job.fail(e);
        }
    }
    // Make the data durable.
    match mode {
        SyncMode::PerFile => {
            // Flushes issued together are merged by the block layer, so the
            // fdatasyncs of a batch run side by side on a few threads.
            let files: Vec<(usize, Arc<File>)> = jobs
                .iter()
                .enumerate()
                .filter(|(_, j)| j.failed.is_none())
                .filter_map(|(i, j)| j.plan.steps.front().map(|s| (i, s)))
                .flat_map(|(i, s)| s.files.iter().filter_map(move |f| f.file.clone().map(|f| (i, f))))
                .collect();
            let errors = match pool {
                Some(pool) => pool.sync_data_all(files),
                None => files
                    .iter()
                    .filter_map(|(i, f)| f.sync_data().err().map(|e| (*i, e)))
                    .collect(),
            };
            for (i, e) in errors {
                match jobs.get_mut(i) {
                    Some(job) => job.fail(e),
                    // A thread panicked: which file it had synced is unknown.
                    None => jobs.iter_mut().for_each(|j| j.fail(copy(&e))),
                }
            }
        }
        SyncMode::FileSystem => {
            // One syncfs per file system, through any file on it.
            let mut done: Vec<(u64, Option<io::Error>)> = Vec::new();
            for job in jobs.iter_mut().filter(|j| j.failed.is_none()) {
                let Some(step) = job.plan.steps.front() else {
                    continue;
                };
                for f in step.files.iter().filter_map(|f| f.file.as_deref()) {
                    let result = f.metadata().and_then(|m| {
                        let dev = m.dev();
                        if !done.iter().any(|(d, _)| *d == dev) {
                            done.push((dev, rustix::fs::syncfs(f).err().map(io::Error::from)));
                        }
                        match done.iter().find(|(d, _)| *d == dev) {
                            Some((_, Some(e))) => Err(copy(e)),
                            _ => Ok(()),
                        }
                    });
                    if let Err(e) = result {
                        job.fail(e);
                        break;
                    }
                }
            }
        }
    }
    // Close, rename, and fsync each directory renamed into once.
    let mut dirs: Vec<(PathBuf, Option<io::Error>)> = Vec::new();
    for job in jobs.iter_mut() {
        let Some(step) = job.plan.steps.front_mut() else {
            continue;
        };
        step.files.clear();
        if job.failed.is_some() {
            continue;
        }
        for r in &step.renames {
            if let Err(e) = fs::rename(&r.from, r.dir.join(&r.name)) {
                job.fail(e);
                break;
            }
            if !dirs.iter().any(|(d, _)| *d == r.dir) {
                dirs.push((r.dir.clone(), None));
            }
        }
    }
    for (dir, err) in &mut dirs {
        if let Err(e) = File::open(&*dir).and_then(|d| d.sync_all()) {
            *err = Some(e);
        }
    }
    // Settle every job.
    for job in jobs.iter_mut() {
        if job.failed.is_none()
            && let Some(step) = job.plan.steps.front()
            && let Some((_, Some(e))) = dirs
                .iter()
                .find(|(d, e)| e.is_some() && step.renames.iter().any(|r| r.dir == *d))
        {
            job.failed = Some(copy(e));
        }
        if job.failed.is_some() {
            job.plan.fail();
        } else {
            job.plan.steps.pop_front();
        }
    }
}

/// Most helper threads a batch's fdatasyncs are spread over.
const SYNC_THREADS: usize = 31;

/// An fdatasync that returns sooner than this many microseconds found
/// nothing to flush (a RAM file system, or a device without a volatile cache).
const CHEAP_SYNC_US: u64 = 100;

/// Threads that run a batch's fdatasyncs side by side: flushes issued
/// together are merged by the block layer, one after another they are not.
/// Helpers are started as batches need them and stay for later batches.
#[derive(Debug, Default)]
struct SyncPool {
    shared: Arc<PoolShared>,
    helpers: usize,
    /// Recent fdatasync time (exponential average, in microseconds): when
    /// syncs cost nothing, handing them to other threads is pure overhead.
    avg_us: u64,
}

#[derive(Debug, Default)]
struct PoolShared {
    state: std::sync::Mutex<PoolState>,
    /// Signalled when there is work (or the pool closes).
    work: std::sync::Condvar,
    /// Signalled when the last task of a batch is done.
    done: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct PoolState {
    tasks: Vec<(usize, Arc<File>)>,
    /// Tasks handed out or waiting, not yet finished.
    outstanding: usize,
    errors: Vec<(usize, io::Error)>,
    closed: bool,
}

impl PoolShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs waiting tasks until there are none left.
    fn help<'a>(
        &'a self,
        mut state: std::sync::MutexGuard<'a, PoolState>,
    ) -> std::sync::MutexGuard<'a, PoolState> {
        while let Some((i, f)) = state.tasks.pop() {
            drop(state);
            let r = f.sync_data();
            drop(f);
            state = self.lock();
            if let Err(e) = r {
                state.errors.push((i, e));
            }
            state.outstanding -= 1;
            if state.outstanding == 0 {
                self.done.notify_all();
            }
        }
        state
    }
}

impl SyncPool {
    /// fdatasync of every file (tagged with its job); returns the failures.
    fn sync_data_all(&mut self, files: Vec<(usize, Arc<File>)>) -> Vec<(usize, io::Error)> {
        if files.len() <= 1 || (self.avg_us < CHEAP_SYNC_US && self.helpers > 0) {
            return self.sync_here(files);
        }
        let wanted = (files.len() - 1).min(SYNC_THREADS);
        while self.helpers < wanted {
            let shared = self.shared.clone();
            let started = std::thread::Builder::new()
                .name("durable-sync".into())
                .spawn(move || helper(&shared));
            if started.is_err() {
                break;
            }
            self.helpers += 1;
        }
        let t0 = Instant::now();
        let shared = self.shared.clone();
        let mut state = shared.lock();
        state.outstanding = files.len();
        state.tasks = files;
        shared.work.notify_all();
        state = shared.help(state);
        while state.outstanding > 0 {
            state = shared
                .done
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        let errors = std::mem::take(&mut state.errors);
        drop(state);
        self.note(t0.elapsed());
        errors
    }

    /// The same on this thread, one after another.
    fn sync_here(&mut self, files: Vec<(usize, Arc<File>)>) -> Vec<(usize, io::Error)> {
        let t0 = Instant::now();
        let n = u32::try_from(files.len().max(1)).unwrap_or(u32::MAX);
        let errors = files
            .into_iter()
            .filter_map(|(i, f)| f.sync_data().err().map(|e| (i, e)))
            .collect();
        self.note(t0.elapsed() / n);
        errors
    }

    fn note(&mut self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.avg_us = (self.avg_us.saturating_mul(7).saturating_add(us)) / 8;
    }
}

impl Drop for SyncPool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }
}

fn helper(shared: &PoolShared) {
    let mut state = shared.lock();
    loop {
        state = shared.help(state);
        if state.closed {
            return;
        }
        state = shared
            .work
            .wait(state)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

/// The same error again, for every job it concerns.
fn copy(e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), e.to_string())
}

/// Counters of a [`Committer`]: how well plans are grouped.
#[derive(Debug, Default)]
pub struct Stats {
    /// Plans completed (or failed).
    pub plans: AtomicU64,
    /// Rounds performed (one data sync and one directory sync each).
    pub rounds: AtomicU64,
}

/// A writer thread that group-commits plans; cheap to clone. The thread
/// ends when the last clone is dropped and its work is done.
#[derive(Debug, Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
    stats: Arc<Stats>,
}

/// A submitted plan; [`wait`](Self::wait) for its outcome.
#[derive(Debug)]
pub struct Ticket(tokio::sync::oneshot::Receiver<io::Result<()>>);

impl Ticket {
    /// Waits until the plan is durable (or failed).
    ///
    /// # Errors
    ///
    /// The plan's I/O error, or the writer thread having gone away.
    pub async fn wait(self) -> io::Result<()> {
        self.0
            .await
            .map_err(|_| io::Error::other("the writer thread is gone"))?
    }
}

impl Committer {
    /// Starts the writer thread.
    ///
    /// # Errors
    ///
    /// The thread could not be spawned.
    pub fn start(mode: SyncMode) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let stats = Arc::new(Stats::default());
        let counters = stats.clone();
        std::thread::Builder::new()
            .name("durable-writer".into())
            .spawn(move || writer(&rx, mode, &counters))?;
        Ok(Committer { tx, stats })
    }

    /// Hands a plan to the writer thread.
    #[must_use]
    pub fn submit(&self, plan: Plan) -> Ticket {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let job = Job {
            plan,
            failed: None,
            reply: Some(reply),
        };
        if let Err(mpsc::SendError(mut job)) = self.tx.send(job) {
            job.plan.fail();
            if let Some(r) = job.reply.take() {
                let _ = r.send(Err(io::Error::other("the writer thread is gone")));
            }
        }
        Ticket(rx)
    }

    /// Performs a plan on the writer thread and waits for it.
    ///
    /// # Errors
    ///
    /// As [`Ticket::wait`].
    pub async fn commit(&self, plan: Plan) -> io::Result<()> {
        self.submit(plan).wait().await
    }

    /// The thread's counters.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

fn writer(rx: &mpsc::Receiver<Job>, mode: SyncMode, stats: &Stats) {
    let mut pool = SyncPool::default();
    let mut jobs: Vec<Job> = Vec::new();
    loop {
        if jobs.is_empty() {
            match rx.recv() {
                Ok(job) => jobs.push(job),
                Err(_) => return,
            }
        }
        // Everything that arrived meanwhile joins this round.
        jobs.extend(rx.try_iter());
        round(&mut jobs, mode, Some(&mut pool));
        stats.rounds.fetch_add(1, Ordering::Relaxed);
        jobs.retain_mut(|job| {
            let result = match job.failed.take() {
                Some(e) => Err(e),
                None if job.plan.steps.is_empty() => Ok(()),
                None => return true,
            };
            stats.plans.fetch_add(1, Ordering::Relaxed);
            if let Some(r) = job.reply.take() {
                let _ = r.send(result);
            }
            false
        });
    }
}

/// Writes `name` in `dir` through a temporary file durably (data, rename,
/// directory); an existing `name` is replaced atomically.
///
/// # Errors
///
/// Any I/O error; the old file (if any) is left in place then.
pub fn write_file(dir: &Path, tmp_name: &str, name: &str, data: &[u8]) -> io::Result<()> {
    let tmp = dir.join(tmp_name);
    Plan::new(
        vec![Step {
            files: vec![NewFile::new(tmp.clone(), None, data.to_vec())],
            renames: vec![Rename::new(tmp.clone(), dir.to_path_buf(), name.to_owned())],
        }],
        vec![tmp],
    )
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "durable-test-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("tmp")).unwrap();
        fs::create_dir_all(dir.join("new")).unwrap();
        dir
    }

    fn one_file(dir: &Path, i: usize) -> Plan {
        let tmp = dir.join("tmp").join(format!("m{i}"));
        Plan::new(
            vec![Step {
                files: vec![NewFile::new(
                    tmp.clone(),
                    None,
                    format!("message {i}\r\n").into_bytes(),
                )],
                renames: vec![Rename::new(tmp.clone(), dir.join("new"), format!("m{i}"))],
            }],
            vec![tmp, dir.join("new").join(format!("m{i}"))],
        )
    }

    #[test]
    fn run_writes_renames_and_replaces() {
        let dir = temp_dir("run");
        one_file(&dir, 1).run().unwrap();
        assert_eq!(fs::read(dir.join("new/m1")).unwrap(), b"message 1\r\n");
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        write_file(&dir, ".tmp-x", "x", b"one").unwrap();
        write_file(&dir, ".tmp-x", "x", b"two").unwrap();
        assert_eq!(fs::read(dir.join("x")).unwrap(), b"two");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn failed_plan_cleans_up_and_leaves_nothing() {
        let dir = temp_dir("fail");
        // The rename target directory does not exist: the step fails after
        // the file was written, and the temporary file is removed.
        let tmp = dir.join("tmp").join("lost");
        let plan = Plan::new(
            vec![Step {
                files: vec![NewFile::new(tmp.clone(), None, b"x".to_vec())],
                renames: vec![Rename::new(tmp.clone(), dir.join("missing"), "lost".into())],
            }],
            vec![tmp],
        );
        assert!(plan.run().is_err());
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        // A second step never runs after a failed first one.
        let tmp2 = dir.join("tmp").join("exists");
        fs::write(&tmp2, b"taken").unwrap();
        let plan = Plan::new(
            vec![
                Step {
                    files: vec![NewFile::new(tmp2.clone(), None, b"y".to_vec())],
                    renames: Vec::new(),
                },
                Step {
                    files: Vec::new(),
                    renames: vec![Rename::new(tmp2.clone(), dir.join("new"), "exists".into())],
                },
            ],
            Vec::new(),
        );
        assert_eq!(plan.run().unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert!(!dir.join("new/exists").exists());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn committer_groups_concurrent_plans() {
        for mode in [SyncMode::PerFile, SyncMode::FileSystem] {
            let dir = temp_dir("group");
            let committer = Committer::start(mode).unwrap();
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                // All submitted before any is waited for: they share rounds.
                let tickets: Vec<Ticket> = (0..50).map(|i| committer.submit(one_file(&dir, i))).collect();
                for t in tickets {
                    t.wait().await.unwrap();
                }
                committer.commit(one_file(&dir, 99)).await.unwrap();
            });
            let stats = committer.stats();
            assert_eq!(stats.plans.load(Ordering::Relaxed), 51);
            let rounds = stats.rounds.load(Ordering::Relaxed);
            assert!((2..=51).contains(&rounds), "{rounds} rounds");
            assert_eq!(fs::read_dir(dir.join("new")).unwrap().count(), 51);
            assert_eq!(fs::read(dir.join("new/m7")).unwrap(), b"message 7\r\n");
            let _ = fs::remove_dir_all(dir);
        }
    }
}
