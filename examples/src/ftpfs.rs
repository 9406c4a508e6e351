//! The file tree behind ftpd: a root directory that no virtual path can leave.
//!
//! The FTP session (ftp-proto) keeps the virtual working directory and
//! normalises `..` so it never climbs above `/`. This module is the second
//! wall: it refuses any `..` component it is given, and resolves the real path
//! with `canonicalize`, so a symlink inside the tree that points outside it is
//! refused too. A check by name holds only while nothing is renamed, so what
//! is used is checked again once it is open: a file is read or a directory
//! changed only through a descriptor whose real path (`/proc/self/fd`) is
//! inside the root, and directory changes go through the opened directory
//! itself (held open), never through its name again. So a directory that a
//! local user swaps for a symlink to elsewhere between the check and the use
//! cannot lead a transfer, listing or change outside the root. Uploads go
//! to a temporary name beside the target and are renamed over it only when
//! the transfer completed, so an aborted STOR never leaves a half file under
//! the real name.
//!
//! Durable uploads (the default, [`FileTree::with_durable_uploads`]) are
//! fsynced before that rename and their directory after it, so a crash after the 226 can neither lose the
//! file nor leave a truncated one under the real name. To keep that final
//! fsync short, write-back is started while the upload is still arriving: every
//! [`WRITEBACK_EVERY`] bytes a background thread runs `fdatasync` on the
//! temporary file, overlapping disk writes with the network transfer.
//! The same setting makes MKD, RMD, DELE and RNTO durable before they
//! return: the directory that changed is fsynced (both of a rename across
//! directories), so a crash after the success reply cannot undo them
//! (fsync(2): the entry in a directory needs "an explicit fsync() on a file
//! descriptor for the directory").

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::SystemTime;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A durable upload starts a background `fdatasync` each time this many more
/// bytes have been written, so the fsync before the final rename has little
/// left to do.
pub const WRITEBACK_EVERY: u64 = 32 * 1024 * 1024;

/// What kind of entry a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (listed, never followed out of the tree).
    Symlink,
    /// Anything else (device, socket, fifo).
    Other,
}

/// Metadata of one entry, enough for `ls -l` and MLSx facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The entry's name (the last path component).
    pub name: String,
    /// Its kind.
    pub kind: Kind,
    /// Size in bytes.
    pub size: u64,
    /// Last modification time.
    pub modified: SystemTime,
    /// Unix permission bits (the low 12 bits of st_mode).
    pub mode: u32,
    /// Hard link count.
    pub nlink: u64,
    /// Owner and group ids.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// A directory tree served over FTP.
#[derive(Debug, Clone)]
pub struct FileTree {
    root: PathBuf,
    durable: bool,
}

fn denied(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, what.to_owned())
}

/// The path the kernel gives for an open descriptor: where the file or
/// directory really is now, whatever path opened it.
fn fd_path(fd: &impl AsRawFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Checks that an open file or directory is under `root` where it is now.
fn inside(root: &Path, f: &File) -> io::Result<()> {
    if fs::read_link(fd_path(f))?.starts_with(root) {
        Ok(())
    } else {
        Err(denied("path leaves the root"))
    }
}

/// A directory opened and confirmed to be inside the root. Paths through it
/// ([`Dir::join`], under `/proc/self/fd`) reach that very directory for as
/// long as it is held, however it or its parents are renamed meanwhile.
#[derive(Debug)]
struct Dir {
    file: File,
    path: PathBuf,
}

impl Dir {
    /// `name` inside this directory.
    fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// Fsyncs the directory, so a change to its entries survives a crash.
    fn sync(&self) -> io::Result<()> {
        self.file.sync_all()
    }
}

/// Opens `path` with `opts`, only if it is a regular file. The open itself
/// does not block (`O_NONBLOCK`, which a regular file ignores): a FIFO in the
/// tree would otherwise wait in open(2) for a writer or reader that never
/// comes, holding the thread; anything but a regular file is `InvalidInput`.
fn open_regular(path: &Path, opts: &mut OpenOptions) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = opts
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits().cast_signed())
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a plain file"));
    }
    // A regular file: blocking reads and writes from here on, as before.
    let flags = rustix::fs::fcntl_getfl(&f)?;
    rustix::fs::fcntl_setfl(&f, flags - rustix::fs::OFlags::NONBLOCK)?;
    Ok(f)
}

impl FileTree {
    /// Serves `root`, creating it if needed.
    ///
    /// # Errors
    ///
    /// I/O errors creating or resolving the root.
    pub fn new(root: impl AsRef<Path>) -> io::Result<Self> {
        crate::create_dir_all(root.as_ref())?;
        Ok(FileTree {
            root: root.as_ref().canonicalize()?,
            durable: true,
        })
    }

    /// Whether uploads are fsynced before they are renamed over the real name
    /// (default: yes). Without it a completed upload is only in the page
    /// cache: fast, but a crash shortly after can leave an empty or partial
    /// file under the real name (as with vsftpd, which never fsyncs). The
    /// same setting fsyncs the directory changed by [`mkdir`](Self::mkdir),
    /// [`rmdir`](Self::rmdir), [`delete`](Self::delete) and
    /// [`rename`](Self::rename) before they return.
    #[must_use]
    pub fn with_durable_uploads(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// Whether uploads are fsynced before the rename.
    #[must_use]
    pub fn durable_uploads(&self) -> bool {
        self.durable
    }

    /// The real root directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether files can be created in the root: creates an unnamed file
    /// there (`O_TMPFILE`, which no listing ever shows and which vanishes
    /// when closed), or, where the file system has no unnamed files, an
    /// empty probe file under a hidden temporary name that is removed again.
    /// Mode bits alone would say nothing true when ftpd runs as root (which
    /// writes a 0555 directory all the same) and nothing about a read-only
    /// file system; trying is the one honest answer.
    ///
    /// # Errors
    ///
    /// The error of creating (or removing) the probe file: `EROFS`,
    /// `EACCES`, `ENOSPC`, a root that is no longer a directory, ...
    pub fn probe_writable(&self) -> io::Result<()> {
        use rustix::fs::{Mode, OFlags};
        use rustix::io::Errno;
        let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
        match rustix::fs::open(&self.root, flags, Mode::from_raw_mode(0o600)) {
            Ok(_) => return Ok(()),
            // No unnamed files on this kernel or file system (open(2):
            // EOPNOTSUPP, or EISDIR from kernels that predate them):
            // try a named probe.
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => {}
            Err(e) => return Err(e.into()),
        }
        let mut tries = 0;
        let probe = loop {
            let probe = self.root.join(format!(
                ".probe-{}-{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            ));
            match OpenOptions::new().write(true).create_new(true).open(&probe) {
                Ok(_) => break probe,
                // Left by an earlier ftpd that had the same process id.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 3 => tries += 1,
                Err(e) => return Err(e),
            }
        };
        fs::remove_file(&probe)
    }

    /// Joins a virtual path (absolute or relative to `/`) to the root without
    /// touching the file system; refuses `..`, NUL and anything but plain names.
    fn join(&self, vpath: &str) -> io::Result<PathBuf> {
        if vpath.contains('\0') {
            return Err(denied("NUL in path"));
        }
        let mut real = self.root.clone();
        for comp in Path::new(vpath).components() {
            match comp {
                Component::RootDir | Component::CurDir => {}
                Component::Normal(name) => real.push(name),
                Component::ParentDir | Component::Prefix(_) => return Err(denied("path leaves the root")),
            }
        }
        Ok(real)
    }

    /// Checks that a real path, with every symlink resolved, is inside the root.
    fn confine(&self, real: &Path) -> io::Result<PathBuf> {
        let canon = real.canonicalize()?;
        if canon.starts_with(&self.root) {
            Ok(canon)
        } else {
            Err(denied("path leaves the root"))
        }
    }

    /// Checks that an open file or directory is inside the root, where it
    /// is now (the check by name before the open may be stale).
    fn inside(&self, f: &File) -> io::Result<()> {
        inside(&self.root, f)
    }

    /// Opens the directory at the real path `real`, confirmed inside the root.
    fn open_dir(&self, real: &Path) -> io::Result<Dir> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::DIRECTORY.bits().cast_signed())
            .open(real)?;
        self.inside(&file)?;
        let path = fd_path(&file);
        Ok(Dir { file, path })
    }

    /// Opens `path` with `opts` as [`open_regular`] does, confirmed inside
    /// the root once open.
    fn open_confined(&self, path: &Path, opts: &mut OpenOptions) -> io::Result<File> {
        let f = open_regular(path, opts)?;
        self.inside(&f)?;
        Ok(f)
    }

    /// The real path of an existing entry (symlinks resolved and confined).
    ///
    /// # Errors
    ///
    /// `NotFound`, or `PermissionDenied` if it resolves outside the root.
    pub fn resolve(&self, vpath: &str) -> io::Result<PathBuf> {
        self.confine(&self.join(vpath)?)
    }

    /// The real path for an entry that may not exist yet: its parent must
    /// exist inside the root; an existing final component must resolve inside too.
    ///
    /// # Errors
    ///
    /// `NotFound` for a missing parent, `PermissionDenied` for an escape or a
    /// path with no file name.
    pub fn resolve_new(&self, vpath: &str) -> io::Result<PathBuf> {
        let joined = self.join(vpath)?;
        let name = joined
            .file_name()
            .ok_or_else(|| denied("no file name"))?
            .to_owned();
        if joined == self.root {
            return Err(denied("no file name"));
        }
        let parent = self.confine(joined.parent().ok_or_else(|| denied("no parent"))?)?;
        let target = parent.join(&name);
        if fs::symlink_metadata(&target).is_ok() {
            // Exists (maybe as a symlink): where it really points must be inside.
            if fs::metadata(&target).is_ok() {
                self.confine(&target)?;
            } else {
                return Err(denied("dangling symlink"));
            }
        }
        Ok(target)
    }

    /// Metadata of one entry (symlinks are reported as links, not followed).
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve).
    pub fn stat(&self, vpath: &str) -> io::Result<FileInfo> {
        let joined = self.join(vpath)?;
        self.confine(&joined)?;
        if joined == self.root {
            let name = joined
                .file_name()
                .map_or_else(|| "/".to_owned(), |n| n.to_string_lossy().into_owned());
            return info(name, &fs::symlink_metadata(&self.root)?);
        }
        let (dir, name) = self.entry(vpath)?;
        info(
            name.to_string_lossy().into_owned(),
            &fs::symlink_metadata(dir.join(&name))?,
        )
    }

    /// The entries of a directory, sorted by name; for a file, the file itself.
    /// Holds the whole directory in memory: for listings of any size, see
    /// [`entries`](Self::entries).
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve), or I/O errors reading the directory.
    pub fn list(&self, vpath: &str) -> io::Result<Vec<FileInfo>> {
        let mut out = self.entries(vpath)?.collect::<io::Result<Vec<_>>>()?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The entries of a directory, read from it one at a time as the
    /// iterator is advanced (in the directory's own order, never all held
    /// at once); for a file, the file itself. Temporary upload files are
    /// left out, as are entries removed while the directory is read.
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve), or I/O errors opening the directory;
    /// the iterator yields errors reading it.
    pub fn entries(&self, vpath: &str) -> io::Result<Entries> {
        let real = self.resolve(vpath)?;
        if !real.is_dir() {
            return Ok(Entries {
                dir: None,
                one: Some(self.stat(vpath)?),
                _held: None,
            });
        }
        let held = self.open_dir(&real)?;
        Ok(Entries {
            dir: Some(fs::read_dir(&held.path)?),
            one: None,
            _held: Some(held),
        })
    }

    /// The entries of a directory in name order (by the bytes of the
    /// names), for a listing of any size in bounded memory; for a file, the
    /// file itself. Temporary upload files are left out.
    ///
    /// At most `budget` bytes of names are held at a time (and always at
    /// least one name): the directory is read once when it fits, else once
    /// per `budget`'s worth of names, each pass taking the smallest names
    /// after the last one given. So each name comes at most once and in
    /// order, even while the directory changes; an entry added or removed
    /// meanwhile is listed when its name sorts after the position the
    /// listing had reached, and one removed before its turn is left out.
    ///
    /// # Errors
    ///
    /// As [`entries`](Self::entries); the iterator yields errors reading
    /// the directory (on any pass).
    pub fn sorted_entries(&self, vpath: &str, budget: usize) -> io::Result<SortedEntries> {
        let real = self.resolve(vpath)?;
        if !real.is_dir() {
            return Ok(SortedEntries {
                dir: None,
                one: Some(self.stat(vpath)?),
                batch: Vec::new().into_iter(),
                after: None,
                done: true,
                budget,
            });
        }
        Ok(SortedEntries {
            dir: Some(self.open_dir(&real)?),
            one: None,
            batch: Vec::new().into_iter(),
            after: None,
            done: false,
            budget,
        })
    }

    /// Opens a file for reading at `offset` (REST); returns it and its length.
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve), or `InvalidInput` for a directory.
    pub fn open_read(&self, vpath: &str, offset: u64) -> io::Result<(File, u64)> {
        let real = self.resolve(vpath)?;
        let mut f = self.open_confined(&real, OpenOptions::new().read(true))?;
        let meta = f.metadata()?;
        f.seek(SeekFrom::Start(offset.min(meta.len())))?;
        Ok((f, meta.len()))
    }

    /// Starts an upload to `vpath`. `keep` bytes of the existing file are kept
    /// first: 0 for STOR, the REST offset for a resumed STOR, `u64::MAX` for
    /// APPE (the whole file, as it is when the upload is committed).
    ///
    /// # Errors
    ///
    /// As [`resolve_new`](Self::resolve_new), or I/O errors; for a resumed
    /// STOR (`keep` neither 0 nor `u64::MAX`), `NotFound` without an
    /// existing file and `InvalidInput` when it is shorter than `keep`
    /// (RFC 3659 5.3: the data goes at the restart marker).
    pub fn begin_upload(&self, vpath: &str, keep: u64) -> io::Result<Upload> {
        let (dir, name) = self.place(vpath)?;
        self.upload_into(dir, &name, keep, false)
    }

    /// Starts an upload to `name` in `dir` (see
    /// [`begin_upload`](Self::begin_upload)); `reserved`: the name holds an
    /// empty file made for a STOU, removed again if the upload fails.
    fn upload_into(&self, dir: Dir, name: &std::ffi::OsStr, keep: u64, reserved: bool) -> io::Result<Upload> {
        let dest = dir.join(name);
        let unreserve = |e: io::Error| {
            if reserved {
                let _ = fs::remove_file(&dest);
            }
            e
        };
        if dest.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory"));
        }
        let tmp = dir.join(format!(
            ".upload-{}-{}-{}",
            name.to_string_lossy(),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(unreserve)?;
        let mut upload = Upload {
            file: None,
            tmp,
            dest,
            dir,
            root: self.root.clone(),
            written: 0,
            durable: self.durable,
            writeback_every: WRITEBACK_EVERY,
            unsynced: 0,
            writeback: None,
            append: keep == u64::MAX,
            reserved,
        };
        // From here a failure drops `upload`, which removes the temporary file.
        upload.file = Some(file);
        if keep > 0 && !upload.append {
            let mut old = self.open_confined(&upload.dest, OpenOptions::new().read(true))?;
            let Some(file) = upload.file.as_mut() else {
                return Err(io::Error::other("upload file missing"));
            };
            let kept = io::copy(&mut io::Read::take(&mut old, keep), file)?;
            upload.written = kept;
            // The data goes at the restart marker (RFC 3659 5.3): a file
            // shorter than it has no such place.
            if kept < keep {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "restart offset past the end of the file",
                ));
            }
        }
        Ok(upload)
    }

    /// STOU: an upload into directory `vdir` under a new name made from
    /// `hint` (see [`unique_name`](Self::unique_name)), and that name. The
    /// name is reserved at once with an empty file created exclusively, so
    /// two STOUs under way together never get the same name (RFC 959
    /// 4.1.3: "a name unique to that directory"); an upload that does not
    /// complete removes it again.
    ///
    /// # Errors
    ///
    /// As [`begin_upload`](Self::begin_upload).
    pub fn begin_unique_upload(&self, vdir: &str, hint: &str) -> io::Result<(String, Upload)> {
        let vdir = vdir.trim_end_matches('/');
        for _ in 0..100 {
            let name = self.unique_name(if vdir.is_empty() { "/" } else { vdir }, hint)?;
            let vpath = format!("{vdir}/{name}");
            let (dir, real_name) = self.place(&vpath)?;
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(dir.join(&real_name))
            {
                Ok(_) => {}
                // Taken since unique_name looked: try the next one.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            return self.upload_into(dir, &real_name, 0, true).map(|up| (name, up));
        }
        Err(io::Error::other("no free name"))
    }

    /// A name for STOU in directory `vdir` that does not exist yet.
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve) for the directory.
    pub fn unique_name(&self, vdir: &str, hint: &str) -> io::Result<String> {
        let dir = self.resolve(vdir)?;
        let base = if hint.is_empty() || hint.contains('/') {
            "upload"
        } else {
            hint
        };
        for n in 0u32.. {
            let name = if n == 0 {
                base.to_owned()
            } else {
                format!("{base}.{n}")
            };
            if fs::symlink_metadata(dir.join(&name)).is_err() {
                return Ok(name);
            }
        }
        Err(io::Error::other("no free name"))
    }

    /// MKD.
    ///
    /// # Errors
    ///
    /// As [`resolve_new`](Self::resolve_new), or the directory existing.
    /// With durable uploads on, the parent directory is fsynced before
    /// this returns.
    pub fn mkdir(&self, vpath: &str) -> io::Result<()> {
        let (dir, name) = self.place(vpath)?;
        fs::create_dir(dir.join(name))?;
        self.sync_dirs(&dir, None)
    }

    /// When durable: fsyncs `dir` and, if another, `other` (a rename's
    /// source directory), so the change made in them survives a crash.
    fn sync_dirs(&self, dir: &Dir, other: Option<&Dir>) -> io::Result<()> {
        if !self.durable {
            return Ok(());
        }
        dir.sync()?;
        match other {
            Some(o) if !same_file(&o.file, &dir.file)? => o.sync(),
            _ => Ok(()),
        }
    }

    /// RMD (the directory must be empty; a symlink to one is not removed,
    /// nor its target).
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve) for its directory, refusing the root
    /// itself and anything not a directory. With durable uploads on, the
    /// parent directory is fsynced before this returns.
    pub fn rmdir(&self, vpath: &str) -> io::Result<()> {
        // A symlink named here is not a directory (rmdir(2): ENOTDIR); its
        // target is never what goes.
        let (dir, name) = self.entry(vpath)?;
        fs::remove_dir(dir.join(name))?;
        self.sync_dirs(&dir, None)
    }

    /// DELE (a symlink is removed itself, never its target).
    ///
    /// # Errors
    ///
    /// As [`resolve_new`](Self::resolve_new). With durable uploads on, the
    /// parent directory is fsynced before this returns.
    pub fn delete(&self, vpath: &str) -> io::Result<()> {
        let (dir, name) = self.entry(vpath)?;
        let target = dir.join(name);
        if fs::symlink_metadata(&target)?.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory"));
        }
        fs::remove_file(&target)?;
        self.sync_dirs(&dir, None)
    }

    /// RNFR/RNTO (a symlink is renamed itself, never its target).
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve) for the directory of `from` (which
    /// must exist, and not be the root) / [`resolve_new`](Self::resolve_new)
    /// for `to`. With durable uploads on, the directory of `to` and, if
    /// another, that of `from` are fsynced before this returns.
    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        // The named entry moves, a symlink as itself (rename(2)), never
        // the file it points to.
        let (src_dir, src_name) = self.entry(from)?;
        fs::symlink_metadata(src_dir.join(&src_name))?;
        let (dest_dir, dest_name) = self.place(to)?;
        fs::rename(src_dir.join(src_name), dest_dir.join(dest_name))?;
        // The destination first: were only the source's directory to reach
        // the disk, the file would be in neither.
        self.sync_dirs(&dest_dir, Some(&src_dir))
    }

    /// The real path of the entry `vpath` names, its final component not
    /// followed if it is a symlink (its directory is resolved and confined):
    /// what DELE, RMD and RNFR act on. Never the root itself.
    fn entry(&self, vpath: &str) -> io::Result<(Dir, OsString)> {
        let joined = self.join(vpath)?;
        if joined == self.root {
            return Err(denied("not the root"));
        }
        let parent = self.confine(joined.parent().ok_or_else(|| denied("no parent"))?)?;
        let name = joined.file_name().ok_or_else(|| denied("no file name"))?;
        Ok((self.open_dir(&parent)?, name.to_owned()))
    }

    /// As [`resolve_new`](Self::resolve_new), as its directory (opened and
    /// confirmed inside the root) and the name in it: where MKD, STOR and
    /// RNTO create or replace an entry.
    fn place(&self, vpath: &str) -> io::Result<(Dir, OsString)> {
        let target = self.resolve_new(vpath)?;
        let name = target.file_name().ok_or_else(|| denied("no file name"))?;
        let parent = target.parent().ok_or_else(|| denied("no parent"))?;
        Ok((self.open_dir(parent)?, name.to_owned()))
    }

    /// MFMT: sets the modification time.
    ///
    /// # Errors
    ///
    /// As [`resolve`](Self::resolve).
    pub fn set_modified(&self, vpath: &str, when: SystemTime) -> io::Result<()> {
        self.open_confined(&self.resolve(vpath)?, OpenOptions::new().write(true))?
            .set_modified(when)
    }
}

fn info(name: String, meta: &fs::Metadata) -> io::Result<FileInfo> {
    let ft = meta.file_type();
    let kind = if ft.is_symlink() {
        Kind::Symlink
    } else if ft.is_dir() {
        Kind::Dir
    } else if ft.is_file() {
        Kind::File
    } else {
        Kind::Other
    };
    Ok(FileInfo {
        name,
        kind,
        size: meta.len(),
        modified: meta.modified()?,
        mode: meta.mode() & 0o7777,
        nlink: meta.nlink(),
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

/// The entries of a listing, read as they are asked for (see
/// [`FileTree::entries`]).
#[derive(Debug)]
pub struct Entries {
    dir: Option<fs::ReadDir>,
    one: Option<FileInfo>,
    /// The directory `dir` reads, held open: the entries' paths go through it.
    _held: Option<Dir>,
}

impl Iterator for Entries {
    type Item = io::Result<FileInfo>;

    fn next(&mut self) -> Option<io::Result<FileInfo>> {
        if let Some(one) = self.one.take() {
            return Some(Ok(one));
        }
        let dir = self.dir.as_mut()?;
        loop {
            let dirent = match dir.next()? {
                Ok(d) => d,
                Err(e) => return Some(Err(e)),
            };
            let name = dirent.file_name().to_string_lossy().into_owned();
            if name.starts_with(".upload-") {
                continue;
            }
            if let Ok(meta) = dirent.path().symlink_metadata() {
                return Some(info(name, &meta));
            }
        }
    }
}

/// A directory's entries in name order, read in passes of bounded memory
/// (see [`FileTree::sorted_entries`]).
#[derive(Debug)]
pub struct SortedEntries {
    /// The directory; `None` when a file was named.
    dir: Option<Dir>,
    one: Option<FileInfo>,
    /// The names of the current pass, in order.
    batch: std::vec::IntoIter<OsString>,
    /// The last name given: the next pass starts after it.
    after: Option<OsString>,
    /// No names are left past the current batch.
    done: bool,
    budget: usize,
}

/// What a held name costs against the budget: its bytes and its `OsString`.
fn name_cost(name: &OsString) -> usize {
    name.len() + std::mem::size_of::<OsString>()
}

impl SortedEntries {
    /// One pass over the directory: the smallest names after `after` that
    /// fit in the budget, in order.
    fn next_batch(&mut self, dir: &Path) -> io::Result<()> {
        use std::collections::BinaryHeap;
        // A max-heap of the smallest names seen so far; `ceiling` is the
        // smallest name pushed out for want of room: names from it up wait
        // for a later pass, so the batch is every name between `after` and
        // `ceiling`.
        let mut held: BinaryHeap<OsString> = BinaryHeap::new();
        let mut bytes = 0usize;
        let mut ceiling: Option<OsString> = None;
        for dirent in fs::read_dir(dir)? {
            let name = dirent?.file_name();
            if name.as_encoded_bytes().starts_with(b".upload-")
                || self.after.as_ref().is_some_and(|a| name <= *a)
                || ceiling.as_ref().is_some_and(|c| name >= *c)
            {
                continue;
            }
            bytes += name_cost(&name);
            held.push(name);
            while bytes > self.budget && held.len() > 1 {
                if let Some(top) = held.pop() {
                    bytes -= name_cost(&top);
                    ceiling = Some(top);
                }
            }
        }
        self.done = ceiling.is_none();
        let batch = held.into_sorted_vec();
        if let Some(last) = batch.last() {
            self.after = Some(last.clone());
        }
        self.batch = batch.into_iter();
        Ok(())
    }
}

impl Iterator for SortedEntries {
    type Item = io::Result<FileInfo>;

    fn next(&mut self) -> Option<io::Result<FileInfo>> {
        if let Some(one) = self.one.take() {
            return Some(Ok(one));
        }
        loop {
            if let Some(name) = self.batch.next() {
                // Removed since the pass read it: left out.
                if let Ok(meta) = self.dir.as_ref()?.join(&name).symlink_metadata() {
                    return Some(info(name.to_string_lossy().into_owned(), &meta));
                }
                continue;
            }
            if self.done {
                return None;
            }
            let dir = self.dir.take()?;
            let pass = self.next_batch(&dir.path);
            self.dir = Some(dir);
            if let Err(e) = pass {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

/// A file being uploaded under a temporary name.
#[derive(Debug)]
pub struct Upload {
    file: Option<File>,
    /// The temporary file and the real name, both through `dir`.
    tmp: PathBuf,
    dest: PathBuf,
    /// The directory of both, held open (see `Dir`).
    dir: Dir,
    /// The served root, for checking what an append joins.
    root: PathBuf,
    written: u64,
    durable: bool,
    /// Start a background write-back every this many bytes.
    writeback_every: u64,
    /// Bytes written since the last background write-back was started.
    unsynced: u64,
    /// The running (or finished, not yet joined) background `fdatasync`.
    writeback: Option<JoinHandle<io::Result<()>>>,
    /// APPE: the file holds only the new data, joined to the real file's
    /// content as it is at [`Upload::commit`].
    append: bool,
    /// STOU: the real name holds an empty file that reserves it, removed
    /// if the upload does not complete.
    reserved: bool,
}

/// Serialises the commits of appends in this process, so each one joins
/// the content the previous one left.
static APPENDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn finished() -> io::Error {
    io::Error::other("upload already finished")
}

fn join_writeback(h: JoinHandle<io::Result<()>>) -> io::Result<()> {
    h.join()
        .unwrap_or_else(|_| Err(io::Error::other("write-back thread panicked")))
}

impl Upload {
    /// Bytes in the file so far: kept bytes included for a resumed STOR; for
    /// an append only the new bytes (the old ones join them at commit).
    #[must_use]
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Moves up to `len` bytes from the read end of a pipe into the file with
    /// splice(2): no copy through user space. Returns the bytes moved (0 when
    /// the pipe is empty and its write end closed).
    ///
    /// # Errors
    ///
    /// I/O errors from either side (`WouldBlock` for an empty non-blocking pipe).
    pub fn splice_from(&mut self, pipe: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
        let f = self.file.as_ref().ok_or_else(finished)?;
        let n = rustix::pipe::splice(pipe, None, f, None, len, rustix::pipe::SpliceFlags::MOVE)?;
        self.wrote(n)?;
        Ok(n)
    }

    /// Counts `n` written bytes and, for a durable upload, starts a background
    /// write-back every [`WRITEBACK_EVERY`] bytes (one at a time).
    fn wrote(&mut self, n: usize) -> io::Result<()> {
        self.written += n as u64;
        if !self.durable {
            return Ok(());
        }
        self.unsynced += n as u64;
        if self.unsynced < self.writeback_every {
            return Ok(());
        }
        if let Some(h) = self.writeback.take_if(|h| h.is_finished()) {
            join_writeback(h)?;
        }
        if self.writeback.is_none() {
            let f = self.file.as_ref().ok_or_else(finished)?.try_clone()?;
            self.writeback = Some(std::thread::spawn(move || f.sync_data()));
            self.unsynced = 0;
        }
        Ok(())
    }

    /// The transfer completed: for a durable upload, fsync; then rename over
    /// the real name. An append is first joined to the real file's content
    /// as it is now (see `append_to_current`).
    ///
    /// # Errors
    ///
    /// I/O errors (a failed background write-back included); the temporary
    /// file is removed and the real one untouched.
    pub fn commit(mut self) -> io::Result<u64> {
        let file = self.file.take().ok_or_else(finished)?;
        let synced = match self.writeback.take() {
            Some(h) => join_writeback(h),
            None => Ok(()),
        };
        if self.append {
            let done = synced.and_then(|()| self.append_to_current());
            let _ = fs::remove_file(&self.tmp);
            return done;
        }
        let renamed = synced
            .and_then(|()| if self.durable { file.sync_all() } else { Ok(()) })
            .and_then(|()| fs::rename(&self.tmp, &self.dest));
        if renamed.is_err() {
            let _ = fs::remove_file(&self.tmp);
            if self.reserved {
                let _ = fs::remove_file(&self.dest);
            }
        }
        renamed
            .and_then(|()| if self.durable { self.dir.sync() } else { Ok(()) })
            .map(|()| self.written)
    }

    /// APPE's commit: under a process-wide lock, a new file gets the real
    /// file's current content and then the uploaded bytes, and replaces the
    /// real file. Copying the old content when the transfer began instead
    /// would lose the data of any append that completed in between (RFC 959
    /// 4.1.3: the data "shall be appended to that file"). Still all or
    /// nothing: the real file is replaced only by the complete result.
    fn append_to_current(&self) -> io::Result<u64> {
        let _serial = APPENDS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let joined = self.tmp.with_file_name(format!(
            "{}-append",
            self.tmp
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let result = (|| {
            let mut out = OpenOptions::new().write(true).create_new(true).open(&joined)?;
            let mut kept = 0;
            match open_regular(&self.dest, OpenOptions::new().read(true)) {
                Ok(mut old) => {
                    inside(&self.root, &old)?;
                    kept = io::copy(&mut old, &mut out)?;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            let added = io::copy(&mut File::open(&self.tmp)?, &mut out)?;
            if self.durable {
                out.sync_all()?;
            }
            fs::rename(&joined, &self.dest)?;
            if self.durable {
                self.dir.sync()?;
            }
            Ok(kept + added)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&joined);
        }
        result
    }
}

/// Whether two open files are the same file.
fn same_file(a: &File, b: &File) -> io::Result<bool> {
    let (a, b) = (a.metadata()?, b.metadata()?);
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

impl Write for Upload {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.as_mut().ok_or_else(finished)?.write(buf)?;
        self.wrote(n)?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            // A running write-back holds its own descriptor and ends by itself.
            let _ = fs::remove_file(&self.tmp);
            if self.reserved {
                let _ = fs::remove_file(&self.dest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::os::unix::fs::symlink;

    fn tree(tag: &str) -> (FileTree, PathBuf) {
        let base = std::env::temp_dir().join(format!(
            "ftpfs-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(base.join("root/sub")).unwrap();
        fs::create_dir_all(base.join("outside")).unwrap();
        fs::write(base.join("outside/secret.txt"), b"secret").unwrap();
        (FileTree::new(base.join("root")).unwrap(), base)
    }

    #[test]
    fn probe_writable_leaves_nothing_behind() {
        let (t, base) = tree("probe");
        t.probe_writable().unwrap();
        let names: Vec<OsString> = fs::read_dir(t.root())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsString::from("sub")]);
        let _ = fs::remove_dir_all(base);
    }

    // A root that cannot be written, made without privileges: tests run as
    // root, which writes a 0555 directory all the same, and a read-only
    // mount needs privileges the test may not have. Here the root turns
    // into a file after the tree was made; /sys, where no one can create a
    // file, follows when it exists.
    #[test]
    fn probe_writable_fails_on_a_root_it_cannot_write() {
        let (t, base) = tree("probe-fails");
        fs::remove_dir_all(t.root()).unwrap();
        fs::write(t.root(), b"not a directory").unwrap();
        assert!(t.probe_writable().is_err());
        let _ = fs::remove_dir_all(base);
        let sys = Path::new("/sys");
        if sys.is_dir() && File::create(sys.join(".ftpfs-probe")).is_err() {
            let e = FileTree::new(sys).unwrap().probe_writable().unwrap_err();
            assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn sorted_entries_in_passes_of_a_small_budget() {
        let (t, base) = tree("sorted");
        let mut names: Vec<String> = (0..300u32).map(|k| format!("f{:03}", k * 37 % 300)).collect();
        for n in &names {
            fs::write(base.join("root/sub").join(n), b"").unwrap();
        }
        fs::write(base.join("root/sub/.upload-x"), b"").unwrap();
        names.sort();
        let all = |budget| -> Vec<String> {
            t.sorted_entries("/sub", budget)
                .unwrap()
                .map(|e| e.unwrap().name)
                .collect()
        };
        // One pass, several, and one name per pass.
        for budget in [usize::MAX, 1000, 0] {
            assert_eq!(all(budget), names, "budget {budget}");
        }
        // Changes while listing: a name after the position reached is
        // listed, one before it is not, one removed ahead is left out.
        let mut it = t.sorted_entries("/sub", 1000).unwrap();
        let first: Vec<String> = it.by_ref().take(100).map(|e| e.unwrap().name).collect();
        assert_eq!(first, names[..100]);
        fs::write(base.join("root/sub/a-before"), b"").unwrap();
        fs::write(base.join("root/sub/z-after"), b"").unwrap();
        fs::remove_file(base.join("root/sub/f250")).unwrap();
        let rest: Vec<String> = it.map(|e| e.unwrap().name).collect();
        let mut want: Vec<String> = names[100..].iter().filter(|n| *n != "f250").cloned().collect();
        want.push("z-after".into());
        assert_eq!(rest, want);
        // A file is listed as itself.
        let one: Vec<String> = t
            .sorted_entries("/sub/f001", 0)
            .unwrap()
            .map(|e| e.unwrap().name)
            .collect();
        assert_eq!(one, ["f001"]);
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn dotdot_and_symlinks_cannot_escape() {
        let (t, base) = tree("escape");
        assert_eq!(
            t.resolve("/../outside").unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(
            t.resolve("sub/../../x").unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(
            t.resolve("a\0b").unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        symlink(base.join("outside"), base.join("root/link")).unwrap();
        symlink(base.join("outside/secret.txt"), base.join("root/sub/file-link")).unwrap();
        assert_eq!(
            t.resolve("/link/secret.txt").unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        assert!(t.open_read("/sub/file-link", 0).is_err());
        assert!(
            t.begin_upload("/link/new.txt", 0).is_err(),
            "write through a link"
        );
        assert!(
            t.begin_upload("/sub/file-link", 0).is_err(),
            "overwrite a link's target"
        );
        // The link itself is listed and can be deleted without touching its target.
        let names: Vec<_> = t
            .list("/")
            .unwrap()
            .into_iter()
            .map(|i| (i.name, i.kind))
            .collect();
        assert!(names.contains(&("link".to_owned(), Kind::Symlink)));
        t.delete("/sub/file-link").unwrap();
        assert!(base.join("outside/secret.txt").exists());
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn aborted_upload_leaves_no_file_and_commit_renames() {
        let (t, base) = tree("upload");
        {
            let mut u = t.begin_upload("/sub/a.bin", 0).unwrap();
            u.write_all(b"partial").unwrap();
        }
        assert!(!base.join("root/sub/a.bin").exists());
        assert!(
            t.list("/sub").unwrap().is_empty(),
            "temporary files are never listed"
        );
        let mut u = t.begin_upload("/sub/a.bin", 0).unwrap();
        u.write_all(b"complete").unwrap();
        assert!(!base.join("root/sub/a.bin").exists(), "invisible until commit");
        assert_eq!(u.commit().unwrap(), 8);
        assert_eq!(fs::read(base.join("root/sub/a.bin")).unwrap(), b"complete");
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn durable_upload_with_background_writeback_and_splice() {
        let (t, base) = tree("writeback");
        assert!(t.durable_uploads());
        let mut u = t.begin_upload("/w.bin", 0).unwrap();
        u.writeback_every = 1000;
        let chunk = [7u8; 700];
        for _ in 0..10 {
            u.write_all(&chunk).unwrap();
        }
        assert!(u.writeback.is_some(), "write-back started after 1000 bytes");
        // Bytes arriving through a pipe, as on ftpd's STOR splice path.
        let (rd, wr) = rustix::pipe::pipe().unwrap();
        assert_eq!(rustix::io::write(&wr, b"tail").unwrap(), 4);
        assert_eq!(u.splice_from(rd.as_fd(), 4).unwrap(), 4);
        assert_eq!(u.commit().unwrap(), 7004);
        let got = fs::read(base.join("root/w.bin")).unwrap();
        assert_eq!(got.len(), 7004);
        assert!(got[..7000].iter().all(|&b| b == 7) && got.ends_with(b"tail"));
        // Not durable: no write-back, the same result.
        let t = t.with_durable_uploads(false);
        let mut u = t.begin_upload("/w.bin", u64::MAX).unwrap();
        u.writeback_every = 1;
        u.write_all(b"!").unwrap();
        assert!(u.writeback.is_none());
        assert_eq!(u.commit().unwrap(), 7005);
        assert!(fs::read(base.join("root/w.bin")).unwrap().ends_with(b"tail!"));
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn resume_and_append_keep_the_right_prefix() {
        let (t, base) = tree("resume");
        fs::write(base.join("root/f"), b"0123456789").unwrap();
        let mut u = t.begin_upload("/f", 4).unwrap();
        u.write_all(b"abc").unwrap();
        u.commit().unwrap();
        assert_eq!(fs::read(base.join("root/f")).unwrap(), b"0123abc");
        let mut u = t.begin_upload("/f", u64::MAX).unwrap();
        u.write_all(b"!").unwrap();
        u.commit().unwrap();
        assert_eq!(fs::read(base.join("root/f")).unwrap(), b"0123abc!");
        let (mut f, len) = t.open_read("/f", 4).unwrap();
        let mut rest = String::new();
        f.read_to_string(&mut rest).unwrap();
        assert_eq!((len, rest.as_str()), (8, "abc!"));
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn unique_uploads_reserve_their_names() {
        let (t, base) = tree("stou");
        let (a, mut ua) = t.begin_unique_upload("/", "x").unwrap();
        let (b, ub) = t.begin_unique_upload("/", "x").unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("x", "x.1"));
        // An upload that does not complete gives its name back.
        drop(ub);
        assert!(!base.join("root/x.1").exists());
        ua.write_all(b"kept").unwrap();
        ua.commit().unwrap();
        assert_eq!(fs::read(base.join("root/x")).unwrap(), b"kept");
        let _ = fs::remove_dir_all(base);
    }

    #[test]
    fn directory_operations() {
        let (t, base) = tree("dirs");
        t.mkdir("/new").unwrap();
        assert_eq!(t.stat("/new").unwrap().kind, Kind::Dir);
        t.rename("/new", "/sub/moved").unwrap();
        assert!(t.rmdir("/").is_err());
        t.rmdir("/sub/moved").unwrap();
        fs::write(base.join("root/x"), b"").unwrap();
        assert_eq!(t.unique_name("/", "x").unwrap(), "x.1");
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        t.set_modified("/x", when).unwrap();
        assert_eq!(t.stat("/x").unwrap().modified, when);
        let _ = fs::remove_dir_all(base);
    }
}
