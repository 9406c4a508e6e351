//! Directory listings from the file tree: `ls -l` lines (LIST, STAT),
//! names (NLST) and MLSx facts (MLSD, MLST), all via ftp-proto's writers.

use bytes::BytesMut;
use examples::ftpfs::{FileInfo, Kind};
use ftp_proto::Timestamp;
use ftp_proto::list::{FileKind, MlsxFacts, write_mlsx, write_unix};
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

/// `ls -l` lines, each ended by CRLF. Entries whose name cannot be sent
/// (CR/LF in it) are skipped.
pub(crate) fn unix_lines(entries: &[FileInfo], writable: bool) -> Vec<Vec<u8>> {
    let now = now();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let mut line = BytesMut::new();
        if write_unix(&proto_info(e, e.name.as_bytes(), writable), now, &mut line).is_ok() {
            out.push(line.to_vec());
        }
    }
    out
}

/// Joins lines with CRLF (the data connection of a listing is TYPE A).
pub(crate) fn join_crlf(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.len() + 2).sum());
    for l in lines {
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// NLST: one name per line.
pub(crate) fn names(entries: &[FileInfo]) -> Vec<u8> {
    let lines: Vec<Vec<u8>> = entries
        .iter()
        .map(|e| e.name.as_bytes().to_vec())
        .filter(|n| proto_core::check_arg(n).is_ok())
        .collect();
    join_crlf(&lines)
}

/// One MLSx line (no CRLF) for `name`.
pub(crate) fn mlsx_line(e: &FileInfo, name: &[u8], facts: MlsxFacts, writable: bool) -> Option<Vec<u8>> {
    let mut line = BytesMut::new();
    write_mlsx(&proto_info(e, name, writable), facts, &mut line).ok()?;
    Some(line.to_vec())
}

/// MLSD: every entry with the facts OPTS MLST selected (RFC 3659 7.9).
pub(crate) fn mlsd(entries: &[FileInfo], facts: MlsxFacts, writable: bool) -> Vec<u8> {
    let lines: Vec<Vec<u8>> = entries
        .iter()
        .filter_map(|e| mlsx_line(e, e.name.as_bytes(), facts, writable))
        .collect();
    join_crlf(&lines)
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

    #[test]
    fn listings_are_parseable_by_ftp_proto() {
        let es = vec![
            entry("a.txt", Kind::File),
            entry("dir", Kind::Dir),
            entry("bad\r\nname", Kind::File),
        ];
        let ls = unix_lines(&es, true);
        assert_eq!(ls.len(), 2, "a name with CRLF is never listed");
        let parsed = ftp_proto::list::parse_unix(&ls[0], now()).unwrap();
        assert_eq!((parsed.name, parsed.size), (&b"a.txt"[..], 42));
        let m = mlsd(&es, MlsxFacts::default(), false);
        let first = ftp_proto::list::lines(&m).next().unwrap();
        let e = ftp_proto::list::parse_mlsx(first).unwrap();
        assert_eq!(e.name, b"a.txt");
        assert_eq!(e.fact(b"size"), Some(&b"42"[..]));
        assert_eq!(e.fact(b"perm"), Some(&b"r"[..]));
        assert_eq!(e.fact(b"modify"), Some(&b"20010909014640"[..]));
        assert_eq!(names(&es), b"a.txt\r\ndir\r\n");
    }
}
