//! Directory listings from the file tree: `ls -l` lines (LIST, STAT),
//! names (NLST) and MLSx facts (MLSD, MLST), all via ftp-proto's writers.

use bytes::BytesMut;
use examples::ftpfs::{FileInfo, Kind, SortedEntries};
use ftp_proto::Timestamp;
use ftp_proto::list::{FileKind, MlsxFacts, write_mlsx, write_unix};
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

fn timestamp(t: SystemTime) -> Timestamp {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(0),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(0),
    };
    // Listing lines hold years 1000 to 9999 only (RFC 3659 2.3); a file
    // dated outside them is listed as of 1970 rather than left out.
    Timestamp::from_unix_seconds(secs)
        .filter(Timestamp::fits_time_val)
        .or_else(|| Timestamp::from_unix_seconds(0))
        .unwrap_or_default()
}

pub(crate) fn now() -> Timestamp {
    timestamp(SystemTime::now())
}

fn kind(k: Kind) -> FileKind {
    match k {
        Kind::File => FileKind::File,
        Kind::Dir => FileKind::Dir,
        Kind::Symlink => FileKind::Symlink,
        Kind::Other => FileKind::Other,
    }
}

/// The RFC 3659 7.5.5 `perm` fact for what this user may do.
fn perm(k: Kind, writable: bool) -> &'static [u8] {
    match (k, writable) {
        (Kind::Dir, true) => b"cdeflmp",
        (Kind::Dir, false) => b"el",
        (_, true) => b"adfrw",
        (_, false) => b"r",
    }
}

fn proto_info<'a>(i: &'a FileInfo, name: &'a [u8], writable: bool) -> ftp_proto::list::FileInfo<'a> {
    ftp_proto::list::FileInfo {
        name,
        kind: kind(i.kind),
        size: i.size,
        modified: timestamp(i.modified),
        mode: u16::try_from(i.mode & 0o7777).unwrap_or(0),
        links: i.nlink,
        owner: b"ftp",
        group: b"ftp",
        link_target: None,
        perm: Some(perm(i.kind, writable)),
        unique: None,
    }
}

/// Bytes of names a LIST, NLST, MLSD or STAT holds at a time to send the
/// directory sorted by name (see [`FileTree::sorted_entries`](examples::ftpfs::FileTree::sorted_entries)): a directory
/// whose names fit is read once; a larger one once per this much.
pub(crate) const SORT_BUDGET: usize = 1024 * 1024;

/// How much of a listing is formatted before it is sent: a LIST, NLST,
/// MLSD or STAT holds at most this much (plus one line) in memory, however large
/// the directory (RFC 959 and RFC 3659 put no bound on a listing).
pub(crate) const LISTING_CHUNK: usize = 64 * 1024;

/// Which listing a data connection carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Format {
    /// LIST and STAT: `ls -l` lines.
    Unix,
    /// NLST: names only.
    Names,
    /// MLSD with the facts OPTS MLST selected (RFC 3659 7.9).
    Machine(MlsxFacts),
}

/// A listing being sent, sorted by name at any size: the directory is read
/// as the chunks are asked for, in passes of bounded memory, so its size
/// never matters for memory.
#[derive(Debug)]
pub(crate) struct Listing {
    entries: SortedEntries,
    format: Format,
    writable: bool,
    now: Timestamp,
}

impl Listing {
    pub(crate) fn new(entries: SortedEntries, format: Format, writable: bool) -> Self {
        Listing {
            entries,
            format,
            writable,
            now: now(),
        }
    }

    /// The next entry, in name order, as `ls` shows it.
    fn next_entry(&mut self) -> io::Result<Option<FileInfo>> {
        self.entries.next().transpose()
    }

    /// Appends the next lines (each ended by CRLF) to `out` until it holds
    /// [`LISTING_CHUNK`] octets or more, or the listing ends; true while
    /// there is more to come. Entries whose name cannot be sent (CR/LF in
    /// it) are skipped. Reads the directory: call it where blocking is fine.
    pub(crate) fn fill(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        while out.len() < LISTING_CHUNK {
            let Some(e) = self.next_entry()? else {
                return Ok(false);
            };
            let line = match self.format {
                Format::Unix => {
                    let mut line = BytesMut::new();
                    write_unix(
                        &proto_info(&e, e.name.as_bytes(), self.writable),
                        self.now,
                        &mut line,
                    )
                    .ok()
                    .map(|()| line.to_vec())
                }
                Format::Names => {
                    Some(e.name.as_bytes().to_vec()).filter(|n| proto_core::check_arg(n).is_ok())
                }
                Format::Machine(facts) => mlsx_line(&e, e.name.as_bytes(), facts, self.writable),
            };
            if let Some(line) = line {
                out.extend_from_slice(&line);
                out.extend_from_slice(b"\r\n");
            }
        }
        Ok(true)
    }
}

/// One MLSx line (no CRLF) for `name`.
pub(crate) fn mlsx_line(e: &FileInfo, name: &[u8], facts: MlsxFacts, writable: bool) -> Option<Vec<u8>> {
    let mut line = BytesMut::new();
    write_mlsx(&proto_info(e, name, writable), facts, &mut line).ok()?;
    Some(line.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(name: &str, kind: Kind) -> FileInfo {
        FileInfo {
            name: name.into(),
            kind,
            size: 42,
            modified: UNIX_EPOCH + Duration::from_secs(1_000_000_000),
            mode: 0o644,
            nlink: 1,
            uid: 0,
            gid: 0,
        }
    }

    /// A directory holding `names` (empty files) and a directory `dir`.
    fn tree(tag: &str, names: &[String]) -> examples::ftpfs::FileTree {
        // In memory where possible: creating thousands of files on a busy
        // disk can take many seconds.
        let base = Some(std::path::PathBuf::from("/dev/shm"))
            .filter(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let root = base.join(format!("ftpd-listing-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("d").join("dir")).unwrap();
        for n in names {
            std::fs::write(root.join("d").join(n), b"").unwrap();
        }
        examples::ftpfs::FileTree::new(&root).unwrap()
    }

    /// Every chunk of a listing of `/d`, as `fill` gives them.
    fn chunks(t: &examples::ftpfs::FileTree, format: Format) -> Vec<Vec<u8>> {
        let mut l = Listing::new(t.sorted_entries("/d", SORT_BUDGET).unwrap(), format, false);
        let mut out = Vec::new();
        loop {
            let mut buf = Vec::new();
            let more = l.fill(&mut buf).unwrap();
            out.push(buf);
            if !more {
                return out;
            }
        }
    }

    #[test]
    fn listings_are_parseable_by_ftp_proto() {
        let es = [entry("a.txt", Kind::File)];
        let m = mlsx_line(&es[0], b"a.txt", MlsxFacts::default(), false).unwrap();
        let e = ftp_proto::list::parse_mlsx(&m).unwrap();
        assert_eq!(e.name, b"a.txt");
        assert_eq!(e.fact(b"size"), Some(&b"42"[..]));
        assert_eq!(e.fact(b"perm"), Some(&b"r"[..]));
        assert_eq!(e.fact(b"modify"), Some(&b"20010909014640"[..]));
        let t = tree(
            "parse",
            &[
                "a.txt".into(),
                "b.txt".into(),
                "c.txt".into(),
                "bad\r\nname".into(),
                ".upload-x".into(),
            ],
        );
        // A small directory is listed sorted by name, as `ls` shows it.
        assert_eq!(
            chunks(&t, Format::Names).concat(),
            b"a.txt\r\nb.txt\r\nc.txt\r\ndir\r\n"
        );
        // A name with CRLF is never listed.
        let ls = chunks(&t, Format::Unix).concat();
        let ls: Vec<&[u8]> = ftp_proto::list::lines(&ls).collect();
        assert_eq!(ls.len(), 4, "LIST lines");
        let parsed = ftp_proto::list::parse_unix(ls[0], now()).unwrap();
        assert_eq!((parsed.name, parsed.size), (&b"a.txt"[..], 0));
        let m = chunks(&t, Format::Machine(MlsxFacts::default())).concat();
        assert_eq!(ftp_proto::list::lines(&m).count(), 4, "MLSD lines");
        for line in ftp_proto::list::lines(&m) {
            ftp_proto::list::parse_mlsx(line).unwrap();
        }
        let _ = std::fs::remove_dir_all(t.root());
    }

    #[test]
    fn a_huge_listing_is_formatted_in_bounded_chunks() {
        let names: Vec<String> = (0..3000).map(|k| format!("{k:05}-{}", "x".repeat(120))).collect();
        let t = tree("chunks", &names);
        for format in [Format::Unix, Format::Names, Format::Machine(MlsxFacts::default())] {
            let cs = chunks(&t, format);
            assert!(cs.len() > 3, "{format:?}: one chunk for the whole listing");
            for c in &cs {
                assert!(
                    c.len() < LISTING_CHUNK + 1024,
                    "{format:?}: a chunk of {}",
                    c.len()
                );
            }
            let all = cs.concat();
            assert_eq!(ftp_proto::list::lines(&all).count(), 3001, "{format:?}: lines");
        }
        let _ = std::fs::remove_dir_all(t.root());
    }
}
