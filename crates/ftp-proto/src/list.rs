//! Directory listings: parsers for MLSD/MLST entries (RFC 3659 7), Unix
//! `ls -l` lines, DOS/IIS lines, a fallback that keeps the raw line, and the
//! server-side writers of MLSx and `ls -l` lines.
//!
//! Every parser takes one line (without its line ending), borrows from it and
//! does not allocate.

use crate::error::{EncodeError, ListError};
use crate::parse::{dec_u64, dec_u64_at, eq_ic, leading_digits, skip_sp, token, word_at, write_u64};
use crate::time::{Timestamp, put_num};
use bytes::BytesMut;
use memchr::memchr;
use proto_core::check_arg;

/// What kind of file an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// The listed directory itself (MLSx `cdir`).
    CurrentDir,
    /// Its parent (MLSx `pdir`).
    ParentDir,
    /// A symbolic link.
    Symlink,
    /// A block device.
    BlockDevice,
    /// A character device.
    CharDevice,
    /// A named pipe.
    Pipe,
    /// A socket.
    Socket,
    /// Something else (an MLSx `type` this crate does not know).
    Other,
}

// ---------------------------------------------------------------- MLSx

/// One MLSD line or MLST entry (RFC 3659 7.2): `fact=value;...` SP pathname.
///
/// The common facts are decoded; every fact, known or not, stays available
/// through [`MlsxEntry::facts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MlsxEntry<'a> {
    /// The pathname: everything after the first space (spaces and semicolons included).
    pub name: &'a [u8],
    /// The raw facts, each ending with `;` (empty when the server sent none).
    pub raw_facts: &'a [u8],
    /// The `type` fact.
    pub kind: Option<FileKind>,
    /// The `size` fact.
    pub size: Option<u64>,
    /// The `modify` fact.
    pub modify: Option<Timestamp>,
    /// The `perm` fact, as sent.
    pub perm: Option<&'a [u8]>,
    /// The `unique` fact, as sent.
    pub unique: Option<&'a [u8]>,
}

fn mlsx_kind(v: &[u8]) -> FileKind {
    if eq_ic(v, b"file") {
        FileKind::File
    } else if eq_ic(v, b"dir") {
        FileKind::Dir
    } else if eq_ic(v, b"cdir") {
        FileKind::CurrentDir
    } else if eq_ic(v, b"pdir") {
        FileKind::ParentDir
    } else if v.len() > 8 && eq_ic(&v[..8], b"OS.unix=") {
        let t = &v[8..];
        // "OS.unix=slink:/target" (RFC 3659 7.7.4) or "OS.unix=chr-13/29" (7.7.5).
        let t = &t[..memchr::memchr2(b':', b'-', t).unwrap_or(t.len())];
        if eq_ic(t, b"slink") || eq_ic(t, b"symlink") {
            FileKind::Symlink
        } else if eq_ic(t, b"blk") || eq_ic(t, b"blkdev") {
            FileKind::BlockDevice
        } else if eq_ic(t, b"chr") || eq_ic(t, b"chrdev") {
            FileKind::CharDevice
        } else if eq_ic(t, b"fifo") {
            FileKind::Pipe
        } else if eq_ic(t, b"socket") {
            FileKind::Socket
        } else {
            FileKind::Other
        }
    } else {
        FileKind::Other
    }
}

/// Four bytes as a little-endian word with ASCII letters folded to lower case
/// (`| 0x20` maps exactly `X` and `x` to `x`; the keys compared are letters).
#[inline]
fn fold4(k: &[u8]) -> u32 {
    u32::from_le_bytes([k[0], k[1], k[2], k[3]]) | 0x2020_2020
}

/// Two bytes, folded as in [`fold4`].
#[inline]
fn fold2(k: &[u8]) -> u16 {
    u16::from_le_bytes([k[0], k[1]]) | 0x2020
}

const TYPE: u32 = u32::from_le_bytes(*b"type");
const SIZE: u32 = u32::from_le_bytes(*b"size");
const PERM: u32 = u32::from_le_bytes(*b"perm");
const MODI: u32 = u32::from_le_bytes(*b"modi");
const FY: u16 = u16::from_le_bytes(*b"fy");
const UNIQ: u32 = u32::from_le_bytes(*b"uniq");
const UE: u16 = u16::from_le_bytes(*b"ue");

/// The facts [`parse_mlsx`] decodes; every other one is only kept raw.
#[derive(Clone, Copy)]
enum Fact {
    Type,
    Size,
    Perm,
    Modify,
    Unique,
    Other,
}

/// Which fact a fact name is (case-insensitive).
#[inline]
fn fact_of(k: &[u8]) -> Fact {
    match k.len() {
        4 => match fold4(k) {
            TYPE => Fact::Type,
            SIZE => Fact::Size,
            PERM => Fact::Perm,
            _ => Fact::Other,
        },
        6 => match (fold4(k), fold2(&k[4..])) {
            (MODI, FY) => Fact::Modify,
            (UNIQ, UE) => Fact::Unique,
            _ => Fact::Other,
        },
        _ => Fact::Other,
    }
}

/// `name=` of a decoded fact at the start of the eight bytes of `w`
/// (little-endian): the fact and the length of its name. Only the letters are
/// case-folded; the `=` must be exact.
#[inline]
fn known_fact(w: u64) -> Option<(Fact, usize)> {
    const LOW5: u64 = 0xFF_FFFF_FFFF;
    const LOW7: u64 = 0xFF_FFFF_FFFF_FFFF;
    const fn key(k: &[u8]) -> u64 {
        let mut v = 0u64;
        let mut i = k.len();
        while i > 0 {
            i -= 1;
            v = (v << 8) | k[i] as u64;
        }
        v
    }
    match (w & LOW5) | 0x2020_2020 {
        x if x == key(b"type=") => Some((Fact::Type, 4)),
        x if x == key(b"size=") => Some((Fact::Size, 4)),
        x if x == key(b"perm=") => Some((Fact::Perm, 4)),
        _ => match (w & LOW7) | 0x2020_2020_2020 {
            x if x == key(b"modify=") => Some((Fact::Modify, 6)),
            x if x == key(b"unique=") => Some((Fact::Unique, 6)),
            _ => None,
        },
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `w` equal to `b`, exact for the lowest one
/// (the classic zero-byte test: a borrow can only flag bytes above a real
/// match), so that masks for several bytes can be or-ed.
#[inline]
fn byte_mask(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The index of the first byte of `s` that is `a` or `b`, eight bytes at a time.
#[inline]
fn find2(s: &[u8], a: u8, b: u8) -> Option<usize> {
    let mut i = 0;
    while let Some(w) = word_at(s, i) {
        let m = byte_mask(w, a) | byte_mask(w, b);
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..].iter().position(|&c| c == a || c == b).map(|n| i + n)
}

/// The index of the first byte of `s` that is `a`, `b` or `c`, eight bytes at a time.
#[inline]
fn find3(s: &[u8], a: u8, b: u8, c: u8) -> Option<usize> {
    let mut i = 0;
    while let Some(w) = word_at(s, i) {
        let m = byte_mask(w, a) | byte_mask(w, b) | byte_mask(w, c);
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..]
        .iter()
        .position(|&x| x == a || x == b || x == c)
        .map(|n| i + n)
}

/// The usual values of the `type`, `size` and `modify` facts read straight
/// from the word at `vs`, their ending ';' included: "file", "dir", up to
/// eight digits, a 14-digit time. Sets the fact and returns the index of the
/// ';', or `None` (nothing set) for the general path to cut the value first.
#[inline]
fn quick_value(line: &[u8], vs: usize, fact: Fact, e: &mut MlsxEntry<'_>) -> Option<usize> {
    const FILE: u64 = u64::from_le_bytes(*b"file;\0\0\0");
    const DIR: u64 = u64::from_le_bytes(*b"dir;\0\0\0\0");
    match fact {
        Fact::Type => {
            let w = word_at(line, vs)?;
            let (kind, n) = if (w & 0xFF_FFFF_FFFF) | 0x2020_2020 == FILE {
                (FileKind::File, 4)
            } else if (w & 0xFFFF_FFFF) | 0x20_2020 == DIR {
                (FileKind::Dir, 3)
            } else {
                return None;
            };
            e.kind = Some(kind);
            Some(vs + n)
        }
        Fact::Size => {
            let (v, n) = leading_digits(word_at(line, vs)?)?;
            (line.get(vs + n) == Some(&b';')).then(|| {
                e.size = Some(v);
                vs + n
            })
        }
        Fact::Modify => {
            let end = vs + 14;
            if line.get(end) != Some(&b';') {
                return None;
            }
            // Only a valid time proves the 14 bytes hold no ';' or space.
            e.modify = Some(Timestamp::parse_time_val(&line[vs..end])?);
            Some(end)
        }
        _ => None,
    }
}

/// Parses one MLSD line (for an MLST reply line, drop its leading space first).
///
/// # Errors
///
/// No space, a fact without `=` or with an empty name, or facts not ended by `;`.
///
/// ```
/// use ftp_proto::list::{parse_mlsx, FileKind};
/// let e = parse_mlsx(b"Type=file;Size=1024;x.Foo=bar; my file;v2.txt").unwrap();
/// assert_eq!((e.kind, e.size, e.name), (Some(FileKind::File), Some(1024), &b"my file;v2.txt"[..]));
/// assert_eq!(e.fact(b"x.foo"), Some(&b"bar"[..]));
/// ```
pub fn parse_mlsx(line: &[u8]) -> Result<MlsxEntry<'_>, ListError> {
    const E: ListError = ListError::Format("MLSx");
    let mut e = MlsxEntry {
        name: &[],
        raw_facts: &[],
        kind: None,
        size: None,
        modify: None,
        perm: None,
        unique: None,
    };
    // One pass, fact by fact: the facts end at the first space (RFC 3659 7.2:
    // no fact name or value holds one), so a space where a fact would start
    // ends them, and one anywhere inside a fact means they are not ended by
    // ";". A decoded fact's name is recognised from one word at its start;
    // any other name is cut at its "=" eight bytes at a time, as is every
    // value at its ";".
    let mut start = 0;
    loop {
        match line.get(start) {
            None => return Err(E),
            Some(b' ') => break,
            Some(_) => {}
        }
        let (fact, eq) = match word_at(line, start).and_then(known_fact) {
            Some((fact, n)) => (fact, start + n),
            None => {
                let eq = start + find3(&line[start..], b'=', b';', b' ').ok_or(E)?;
                if line[eq] != b'=' || eq == start {
                    return Err(E);
                }
                (fact_of(&line[start..eq]), eq)
            }
        };
        if let Some(semi) = quick_value(line, eq + 1, fact, &mut e) {
            start = semi + 1;
            continue;
        }
        let semi = eq + 1 + find2(&line[eq + 1..], b';', b' ').ok_or(E)?;
        if line[semi] != b';' {
            return Err(E);
        }
        let v = &line[eq + 1..semi];
        match fact {
            Fact::Type => e.kind = Some(mlsx_kind(v)),
            Fact::Size => e.size = dec_u64_at(line, eq + 1, semi),
            Fact::Perm => e.perm = Some(v),
            Fact::Modify => e.modify = Timestamp::parse_time_val(v),
            Fact::Unique => e.unique = Some(v),
            Fact::Other => {}
        }
        start = semi + 1;
    }
    e.raw_facts = &line[..start];
    e.name = &line[start + 1..];
    if e.name.is_empty() {
        return Err(E);
    }
    Ok(e)
}

impl<'a> MlsxEntry<'a> {
    /// Every fact as (name, value), in order, unknown ones included.
    pub fn facts(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.raw_facts
            .split(|&c| c == b';')
            .filter(|f| !f.is_empty())
            .map(|f| match memchr(b'=', f) {
                Some(i) => (&f[..i], &f[i + 1..]),
                None => (f, &f[f.len()..]),
            })
    }

    /// The value of fact `name` (case-insensitive).
    #[must_use]
    pub fn fact(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.facts().find(|(k, _)| eq_ic(k, name)).map(|(_, v)| v)
    }
}

// ---------------------------------------------------------------- Unix

/// One `ls -l` line as Unix-like servers send it (vsftpd, proftpd, pure-ftpd,
/// glftpd, IIS in Unix mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixEntry<'a> {
    /// From the first column.
    pub kind: FileKind,
    /// Permission bits, set-id and sticky bits included (`0o7777` mask).
    pub mode: u16,
    /// `+` after the permissions: an ACL is present.
    pub acl: bool,
    /// `@` after the permissions: extended attributes (macOS).
    pub xattr: bool,
    /// Link count, if the column is there.
    pub links: Option<u64>,
    /// Owner column.
    pub owner: &'a [u8],
    /// Group column, if the server sends one.
    pub group: Option<&'a [u8]>,
    /// Size in bytes (0 for devices).
    pub size: u64,
    /// Major and minor numbers of a device.
    pub device: Option<(u32, u32)>,
    /// Modification time (minute precision; the year inferred when the line shows a time).
    pub modified: Timestamp,
    /// True when the year was inferred rather than shown.
    pub year_inferred: bool,
    /// The name (for a symlink, the part before ` -> `).
    pub name: &'a [u8],
    /// Link target of a symlink.
    pub link_target: Option<&'a [u8]>,
}

/// The month names, three letters each, as little-endian words folded to lower case.
const MONTHS: [u32; 12] = {
    let names = *b"janfebmaraprmayjunjulaugsepoctnovdec";
    let mut m = [0u32; 12];
    let mut i = 0;
    while i < 12 {
        m[i] = names[3 * i] as u32 | (names[3 * i + 1] as u32) << 8 | (names[3 * i + 2] as u32) << 16;
        i += 1;
    }
    m
};

fn month(t: &[u8]) -> Option<u8> {
    let [a, b, c] = t else { return None };
    // Folding with `| 0x20` is exact for letters, and every month name is letters.
    let k = (u32::from(*a) | u32::from(*b) << 8 | u32::from(*c) << 16) | 0x20_2020;
    MONTHS.iter().position(|&m| m == k).map(|i| i as u8 + 1)
}

fn unix_kind(c: u8) -> Option<FileKind> {
    Some(match c {
        b'-' => FileKind::File,
        b'd' => FileKind::Dir,
        b'l' => FileKind::Symlink,
        b'b' => FileKind::BlockDevice,
        b'c' => FileKind::CharDevice,
        b'p' => FileKind::Pipe,
        b's' => FileKind::Socket,
        _ => return None,
    })
}

fn perm_bits(p: &[u8]) -> Option<u16> {
    let p: &[u8; 9] = p.try_into().ok()?;
    let mut mode = 0u16;
    for (i, &c) in p.iter().enumerate() {
        let bit = 1u16 << (8 - i);
        let special = match i {
            2 => 0o4000,
            5 => 0o2000,
            8 => 0o1000,
            _ => 0,
        };
        let want = [b'r', b'w', b'x'][i % 3];
        match c {
            b'-' => {}
            c if c == want => mode |= bit,
            b's' | b't' if special != 0 => mode |= bit | special,
            b'S' | b'T' if special != 0 => mode |= special,
            _ => return None,
        }
    }
    Some(mode)
}

/// Picks the year for a `Mon DD HH:MM` date: the latest year that does not put
/// the date more than a day after `now` (ls shows times for recent files only).
fn infer_year(now: Timestamp, month: u8, day: u8, hour: u8, minute: u8) -> Option<Timestamp> {
    // Without the arithmetic when the order is plain: a date of this year up
    // to `now`, or any valid date of an earlier year, is before the limit.
    let plain = now.is_valid();
    let limit = || now.unix_seconds() + 86_400;
    // Across New Year the latest such year is the next one: a day after
    // 31 December reaches into 1 January (2 January at midnight after a
    // leap second); a `now` out of range is left to the arithmetic.
    if (!plain || (month == 1 && day <= 2 && (now.month, now.day) == (12, 31)))
        && let Some(t) = now
            .year
            .checked_add(1)
            .and_then(|y| Timestamp::new(y, month, day, hour, minute, 0))
        && t.unix_seconds() <= limit()
    {
        return Some(t);
    }
    for back in 0..9u16 {
        let y = now.year.checked_sub(back)?;
        let Some(t) = Timestamp::new(y, month, day, hour, minute, 0) else {
            continue;
        };
        let before_now = back > 0
            || (month, day, hour, minute, 0) <= (now.month, now.day, now.hour, now.minute, now.second);
        // Two months on, or three days on in the same month, is past the
        // limit (a day and a leap second after `now` may still be within it).
        let far_after = back == 0
            && (month >= now.month.saturating_add(2)
                || (month == now.month && day >= now.day.saturating_add(3)));
        if plain && far_after {
            continue;
        }
        if (plain && before_now) || t.unix_seconds() <= limit() {
            return Some(t);
        }
    }
    None
}

/// `H:MM` or `HH:MM` (one to three hour digits, as `dec_u8` reads them): the
/// colon is third from the end.
fn hh_mm(t: &[u8]) -> Option<(u8, u8)> {
    let c = t.len().checked_sub(3).filter(|c| (1..=3).contains(c))?;
    if t[c] != b':' {
        return None;
    }
    let h = crate::parse::dec_u8(&t[..c])?;
    let m = crate::parse::dec_u8(&t[c + 1..])?;
    (h < 24 && m < 60).then_some((h, m))
}

/// Parses one Unix `ls -l` line. `now` is the time used to infer the year of
/// recent entries (pass the time the listing was fetched, in UTC).
///
/// # Errors
///
/// A line of another shape (such as a `total` line: see [`parse_list_line`]).
///
/// ```
/// use ftp_proto::{Timestamp, list::{parse_unix, FileKind}};
/// let now = Timestamp::new(2024, 3, 1, 0, 0, 0).unwrap();
/// let e = parse_unix(b"lrwxrwxrwx+ 1 ftp ftp 7 Dec 24 18:30 my link -> target", now).unwrap();
/// assert_eq!((e.kind, e.acl, e.name, e.link_target), (FileKind::Symlink, true, &b"my link"[..], Some(&b"target"[..])));
/// assert_eq!(e.modified.year, 2023);
/// ```
pub fn parse_unix(line: &[u8], now: Timestamp) -> Result<UnixEntry<'_>, ListError> {
    const E: ListError = ListError::Format("Unix ls");
    if line.len() < 11 {
        return Err(E);
    }
    let kind = unix_kind(line[0]).ok_or(E)?;
    let mode = perm_bits(&line[1..10]).ok_or(E)?;
    let (mut acl, mut xattr) = (false, false);
    let mut rest = &line[10..];
    match rest.first() {
        Some(b'+') => acl = true,
        Some(b'@') => xattr = true,
        Some(b'.' | b' ') => {}
        _ => return Err(E),
    }
    if rest.first() != Some(&b' ') {
        rest = &rest[1..];
    }
    if rest.first() != Some(&b' ') {
        return Err(E);
    }
    // Up to five columns before the month: [links] owner [group] size, or the
    // device form with "major, minor".
    let mut cols: [&[u8]; 6] = [&[]; 6];
    let mut n = 0;
    let (m, day, ty, time, after) = loop {
        let (t, r) = token(rest);
        if t.is_empty() {
            return Err(E);
        }
        if n >= 2
            && let Some(m) = month(t)
        {
            // A month only if a day and a time or year follow.
            let (d, r2) = token(r);
            let (ty, r3) = token(r2);
            let time = hh_mm(ty);
            let time_or_year = time.is_some() || (ty.len() == 4 && crate::parse::dec_u16(ty).is_some());
            if let Some(day) = crate::parse::dec_u8(d).filter(|d| (1..=31).contains(d))
                && time_or_year
            {
                break (m, day, ty, time, r3);
            }
        }
        if n == cols.len() {
            return Err(E);
        }
        cols[n] = t;
        n += 1;
        rest = r;
    };
    let cols = &cols[..n];
    // A column's number read as one word of the line when it fits (no
    // per-digit branch on columns of random width); `t` is a slice of `line`,
    // found again by its address.
    let numeric = |t: &[u8]| {
        let at = (t.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
        match at.checked_add(t.len()).and_then(|end| line.get(at..end)) {
            Some(s) if s.as_ptr() == t.as_ptr() => dec_u64_at(line, at, at + t.len()),
            _ => dec_u64(t),
        }
    };
    let mut device = None;
    // Device numbers: "8," "1" or "8,1" in the last one or two columns.
    let (cols, size) = match cols {
        [head @ .., maj, min]
            if maj.last() == Some(&b',') && matches!(kind, FileKind::BlockDevice | FileKind::CharDevice) =>
        {
            let ma = numeric(&maj[..maj.len() - 1])
                .and_then(|v| u32::try_from(v).ok())
                .ok_or(E)?;
            let mi = numeric(min).and_then(|v| u32::try_from(v).ok()).ok_or(E)?;
            device = Some((ma, mi));
            (head, 0)
        }
        [head @ .., last] if memchr(b',', last).is_some() => {
            let c = memchr(b',', last).ok_or(E)?;
            let ma = numeric(&last[..c]).and_then(|v| u32::try_from(v).ok()).ok_or(E)?;
            let mi = numeric(&last[c + 1..])
                .and_then(|v| u32::try_from(v).ok())
                .ok_or(E)?;
            device = Some((ma, mi));
            (head, 0)
        }
        [head @ .., last] => (head, numeric(last).ok_or(E)?),
        [] => return Err(E),
    };
    let (links, owner, group) = match cols {
        [l, o, g] => (Some(numeric(l).ok_or(E)?), *o, Some(*g)),
        [a, b] => match numeric(a) {
            Some(l) => (Some(l), *b, None),
            None => (None, *a, Some(*b)),
        },
        [o] => (None, *o, None),
        _ => return Err(E),
    };
    let (modified, year_inferred) = if let Some((h, mi)) = time {
        (infer_year(now, m, day, h, mi).ok_or(E)?, true)
    } else {
        let y = crate::parse::dec_u16(ty).filter(|_| ty.len() == 4).ok_or(E)?;
        (Timestamp::new(y, m, day, 0, 0, 0).ok_or(E)?, false)
    };
    // Exactly one space separates the date from the name.
    let name = after.strip_prefix(b" ").ok_or(E)?;
    if name.is_empty() {
        return Err(E);
    }
    let (name, link_target) = if kind == FileKind::Symlink {
        match memchr::memmem::find(name, b" -> ") {
            Some(i) => (&name[..i], Some(&name[i + 4..])),
            None => (name, None),
        }
    } else {
        (name, None)
    };
    Ok(UnixEntry {
        kind,
        mode,
        acl,
        xattr,
        links,
        owner,
        group,
        size,
        device,
        modified,
        year_inferred,
        name,
        link_target,
    })
}

// ---------------------------------------------------------------- DOS / IIS

/// One DOS-style line as IIS and Windows servers send it:
/// `MM-DD-YY  HH:MMAM  <DIR>|size  name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DosEntry<'a> {
    /// Dir for `<DIR>`, File otherwise.
    pub kind: FileKind,
    /// The size (None for a directory).
    pub size: Option<u64>,
    /// Modification time (minute precision).
    pub modified: Timestamp,
    /// The name.
    pub name: &'a [u8],
}

/// Parses a DOS/IIS listing line (2- or 4-digit years, 12- or 24-hour times).
///
/// Two-digit years below 70 are 20xx, the others 19xx.
///
/// # Errors
///
/// A line of another shape.
///
/// ```
/// use ftp_proto::list::{parse_dos, FileKind};
/// let e = parse_dos(b"01-15-21  10:30PM       <DIR>          Program Files").unwrap();
/// assert_eq!((e.kind, e.name, e.modified.year, e.modified.hour), (FileKind::Dir, &b"Program Files"[..], 2021, 22));
/// ```
pub fn parse_dos(line: &[u8]) -> Result<DosEntry<'_>, ListError> {
    const E: ListError = ListError::Format("DOS");
    let (date, rest) = token(line);
    let (time, rest) = token(rest);
    let (sz, rest) = token(rest);
    let name = skip_sp(rest);
    if name.is_empty() || date.len() < 8 {
        return Err(E);
    }
    let sep = date[2];
    if sep != b'-' && sep != b'/' {
        return Err(E);
    }
    let mut parts = date.split(|&c| c == sep);
    let mo = parts.next().and_then(crate::parse::dec_u8).ok_or(E)?;
    let d = parts.next().and_then(crate::parse::dec_u8).ok_or(E)?;
    let yt = parts.next().ok_or(E)?;
    let y = crate::parse::dec_u16(yt).ok_or(E)?;
    let year = match yt.len() {
        2 if y < 70 => 2000 + y,
        2 => 1900 + y,
        4 => y,
        _ => return Err(E),
    };
    let (clock, ampm) = match time.len().checked_sub(2).map(|i| time.split_at(i)) {
        Some((c, ap)) if eq_ic(ap, b"AM") => (c, Some(false)),
        Some((c, ap)) if eq_ic(ap, b"PM") => (c, Some(true)),
        _ => (time, None),
    };
    let (mut h, mi) = hh_mm(clock).ok_or(E)?;
    if let Some(pm) = ampm {
        if !(1..=12).contains(&h) {
            return Err(E);
        }
        h = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    let modified = Timestamp::new(year, mo, d, h, mi, 0).ok_or(E)?;
    let (kind, size) = if eq_ic(sz, b"<DIR>") {
        (FileKind::Dir, None)
    } else {
        // Sizes may carry thousands separators ("1,234,567").
        let mut v: u64 = 0;
        let mut any = false;
        for &c in sz {
            match c {
                b'0'..=b'9' => {
                    v = v
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(c - b'0')))
                        .ok_or(E)?;
                    any = true;
                }
                b',' => {}
                _ => return Err(E),
            }
        }
        if !any {
            return Err(E);
        }
        (FileKind::File, Some(v))
    };
    Ok(DosEntry {
        kind,
        size,
        modified,
        name,
    })
}

// ---------------------------------------------------------------- any LIST line

/// One line of a LIST reply, in whatever format it turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListLine<'a> {
    /// A Unix `ls -l` line.
    Unix(UnixEntry<'a>),
    /// A DOS/IIS line.
    Dos(DosEntry<'a>),
    /// `total N` (blocks used; not a file).
    Total(u64),
    /// A line no parser understood, kept as it was.
    Raw(&'a [u8]),
}

impl<'a> ListLine<'a> {
    /// The file name, if the line names a file.
    #[must_use]
    pub fn name(&self) -> Option<&'a [u8]> {
        match self {
            ListLine::Unix(e) => Some(e.name),
            ListLine::Dos(e) => Some(e.name),
            ListLine::Total(_) | ListLine::Raw(_) => None,
        }
    }

    /// The kind, if known.
    #[must_use]
    pub fn kind(&self) -> Option<FileKind> {
        match self {
            ListLine::Unix(e) => Some(e.kind),
            ListLine::Dos(e) => Some(e.kind),
            ListLine::Total(_) | ListLine::Raw(_) => None,
        }
    }

    /// The size, if known.
    #[must_use]
    pub fn size(&self) -> Option<u64> {
        match self {
            ListLine::Unix(e) => Some(e.size),
            ListLine::Dos(e) => e.size,
            ListLine::Total(_) | ListLine::Raw(_) => None,
        }
    }
}

/// Parses a LIST line of any known format; never fails (unknown lines come
/// back as [`ListLine::Raw`]).
///
/// ```
/// use ftp_proto::{Timestamp, list::{parse_list_line, ListLine}};
/// let now = Timestamp::new(2024, 3, 1, 0, 0, 0).unwrap();
/// assert_eq!(parse_list_line(b"total 48", now), ListLine::Total(48));
/// assert!(matches!(parse_list_line(b"-rw-r--r-- 1 a b 3 Jan  1  2020 x", now), ListLine::Unix(_)));
/// assert_eq!(parse_list_line(b"weird", now), ListLine::Raw(b"weird"));
/// ```
#[must_use]
pub fn parse_list_line(line: &[u8], now: Timestamp) -> ListLine<'_> {
    match line.first() {
        Some(b'0'..=b'9') => parse_dos(line).map_or(ListLine::Raw(line), ListLine::Dos),
        Some(b't' | b'T') if line.len() > 6 && eq_ic(&line[..6], b"total ") => {
            dec_u64(line[6..].trim_ascii()).map_or(ListLine::Raw(line), ListLine::Total)
        }
        Some(_) => parse_unix(line, now).map_or(ListLine::Raw(line), ListLine::Unix),
        None => ListLine::Raw(line),
    }
}

/// Splits listing data (from the data connection) into lines: CRLF ends a
/// line; a bare LF is accepted too since many servers send one; empty lines are skipped.
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next) = match memchr(b'\n', rest) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.is_empty() {
                return Some(line);
            }
        }
    })
}

// ---------------------------------------------------------------- server side

/// What a server knows about a file, for writing listing lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo<'a> {
    /// The name as listed.
    pub name: &'a [u8],
    /// The kind.
    pub kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// Modification time (UTC).
    pub modified: Timestamp,
    /// Permission bits (`0o7777` mask).
    pub mode: u16,
    /// Link count.
    pub links: u64,
    /// Owner name.
    pub owner: &'a [u8],
    /// Group name.
    pub group: &'a [u8],
    /// Link target, for a symlink.
    pub link_target: Option<&'a [u8]>,
    /// MLSx `perm` fact (e.g. `adfrw`), if the server computes one.
    pub perm: Option<&'a [u8]>,
    /// MLSx `unique` fact.
    pub unique: Option<&'a [u8]>,
}

/// Which facts an MLSx line carries (RFC 3659 7.9: OPTS MLST selects them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct MlsxFacts {
    /// `type`.
    pub kind: bool,
    /// `size` (files only).
    pub size: bool,
    /// `modify`.
    pub modify: bool,
    /// `perm`.
    pub perm: bool,
    /// `unique`.
    pub unique: bool,
    /// `UNIX.mode`.
    pub unix_mode: bool,
}

impl Default for MlsxFacts {
    fn default() -> Self {
        MlsxFacts {
            kind: true,
            size: true,
            modify: true,
            perm: true,
            unique: true,
            unix_mode: false,
        }
    }
}

fn check_field(b: &[u8], what: &'static str) -> Result<(), EncodeError> {
    check_arg(b)?;
    if b.is_empty() || memchr(b' ', b).is_some() {
        return Err(EncodeError::Invalid(what));
    }
    Ok(())
}

/// Writes one MLSx line (`facts SP name`, no line ending). A file of kind
/// [`FileKind::Other`] gets no `type` fact (RFC 3659 7.5.1 has no value for it).
///
/// # Errors
///
/// CR/LF/NUL in the name, `;` or `=` where a fact value cannot hold them,
/// a modification time out of range when `modify` is written.
pub fn write_mlsx(f: &FileInfo<'_>, facts: MlsxFacts, out: &mut BytesMut) -> Result<(), EncodeError> {
    check_arg(f.name)?;
    if f.name.is_empty() {
        return Err(EncodeError::Invalid("empty name"));
    }
    let bad_value = |v: &[u8]| memchr::memchr3(b';', b' ', b'\r', v).is_some() || check_arg(v).is_err();
    if f.perm.is_some_and(bad_value) || f.unique.is_some_and(bad_value) {
        return Err(EncodeError::Invalid("fact value"));
    }
    if f.kind == FileKind::Symlink && f.link_target.is_some_and(bad_value) {
        return Err(EncodeError::Invalid("link target"));
    }
    // The modify fact is a time-val (RFC 3659 2.3, 7.5.3): in range or not
    // at all (checked before anything is written, as `write_time_val` below).
    if facts.modify && !f.modified.fits_time_val() {
        return Err(EncodeError::Invalid("time out of range"));
    }
    // RFC 3659 7.5.1: a type is "file", "cdir", "pdir", "dir" or
    // `"OS." os-name "=" os-kind`; there is no value for a kind this crate
    // does not know, so that fact is left out (7.5: facts are given when known).
    if facts.kind && f.kind != FileKind::Other {
        out.extend_from_slice(b"type=");
        match f.kind {
            FileKind::File => out.extend_from_slice(b"file"),
            FileKind::Dir => out.extend_from_slice(b"dir"),
            FileKind::CurrentDir => out.extend_from_slice(b"cdir"),
            FileKind::ParentDir => out.extend_from_slice(b"pdir"),
            FileKind::Symlink => {
                out.extend_from_slice(b"OS.unix=slink");
                if let Some(t) = f.link_target {
                    out.extend_from_slice(b":");
                    out.extend_from_slice(t);
                }
            }
            FileKind::BlockDevice => out.extend_from_slice(b"OS.unix=blk"),
            FileKind::CharDevice => out.extend_from_slice(b"OS.unix=chr"),
            FileKind::Pipe => out.extend_from_slice(b"OS.unix=fifo"),
            FileKind::Socket => out.extend_from_slice(b"OS.unix=socket"),
            FileKind::Other => {}
        }
        out.extend_from_slice(b";");
    }
    if facts.size && f.kind == FileKind::File {
        out.extend_from_slice(b"size=");
        write_u64(out, f.size);
        out.extend_from_slice(b";");
    }
    if facts.modify {
        out.extend_from_slice(b"modify=");
        f.modified.write_time_val(out)?;
        out.extend_from_slice(b";");
    }
    if facts.perm
        && let Some(p) = f.perm
    {
        out.extend_from_slice(b"perm=");
        out.extend_from_slice(p);
        out.extend_from_slice(b";");
    }
    if facts.unique
        && let Some(u) = f.unique
    {
        out.extend_from_slice(b"unique=");
        out.extend_from_slice(u);
        out.extend_from_slice(b";");
    }
    if facts.unix_mode {
        out.extend_from_slice(b"UNIX.mode=0");
        let mut m = [0u8; 4];
        put_num(&mut m, 0);
        for (i, shift) in [9u16, 6, 3, 0].iter().enumerate() {
            m[i] = b'0' + ((f.mode >> shift) & 7) as u8;
        }
        out.extend_from_slice(&m);
        out.extend_from_slice(b";");
    }
    out.extend_from_slice(b" ");
    out.extend_from_slice(f.name);
    Ok(())
}

/// Writes one `ls -l` line (no line ending), with the time shown for files
/// modified within the six months before `now`, the year otherwise.
///
/// # Errors
///
/// CR/LF/NUL in a field, or a space in the owner or group.
pub fn write_unix(f: &FileInfo<'_>, now: Timestamp, out: &mut BytesMut) -> Result<(), EncodeError> {
    check_arg(f.name)?;
    if f.name.is_empty() {
        return Err(EncodeError::Invalid("empty name"));
    }
    check_field(f.owner, "owner")?;
    check_field(f.group, "group")?;
    if let Some(t) = f.link_target {
        check_arg(t)?;
    }
    // The year column holds four digits.
    if !f.modified.is_valid() || f.modified.year > 9999 {
        return Err(EncodeError::Invalid("time out of range"));
    }
    out.extend_from_slice(match f.kind {
        FileKind::Dir | FileKind::CurrentDir | FileKind::ParentDir => b"d",
        FileKind::Symlink => b"l",
        FileKind::BlockDevice => b"b",
        FileKind::CharDevice => b"c",
        FileKind::Pipe => b"p",
        FileKind::Socket => b"s",
        FileKind::File | FileKind::Other => b"-",
    });
    let mut p = *b"rwxrwxrwx";
    for (i, c) in p.iter_mut().enumerate() {
        if f.mode & (1 << (8 - i)) == 0 {
            *c = b'-';
        }
    }
    for (i, bit, lower, upper) in [
        (2, 0o4000, b's', b'S'),
        (5, 0o2000, b's', b'S'),
        (8, 0o1000, b't', b'T'),
    ] {
        if f.mode & bit != 0 {
            p[i] = if p[i] == b'-' { upper } else { lower };
        }
    }
    out.extend_from_slice(&p);
    let pad = |out: &mut BytesMut, s: &[u8], w: usize, right: bool| {
        let fill = w.saturating_sub(s.len());
        if right {
            out.extend(std::iter::repeat_n(b' ', fill));
            out.extend_from_slice(s);
        } else {
            out.extend_from_slice(s);
            out.extend(std::iter::repeat_n(b' ', fill));
        }
    };
    let mut num = BytesMut::new();
    write_u64(&mut num, f.links);
    out.extend_from_slice(b" ");
    pad(out, &num, 4, true);
    out.extend_from_slice(b" ");
    pad(out, f.owner, 8, false);
    out.extend_from_slice(b" ");
    pad(out, f.group, 8, false);
    num.clear();
    write_u64(&mut num, f.size);
    out.extend_from_slice(b" ");
    pad(out, &num, 12, true);
    out.extend_from_slice(b" ");
    let t = f.modified;
    let [a, b, c, _] = MONTHS[usize::from(t.month - 1)].to_le_bytes();
    out.extend_from_slice(&[a.to_ascii_uppercase(), b, c, b' ']);
    let mut two = [0u8; 2];
    put_num(&mut two, u32::from(t.day));
    if two[0] == b'0' {
        two[0] = b' ';
    }
    out.extend_from_slice(&two);
    let age = now.unix_seconds() - t.unix_seconds();
    if (-86_400..=182 * 86_400).contains(&age) && t.year.abs_diff(now.year) <= 1 {
        let mut hm = *b" 00:00";
        put_num(&mut hm[1..3], u32::from(t.hour));
        put_num(&mut hm[4..6], u32::from(t.minute));
        out.extend_from_slice(&hm);
    } else {
        let mut y = *b"  0000";
        put_num(&mut y[2..6], u32::from(t.year));
        out.extend_from_slice(&y);
    }
    out.extend_from_slice(b" ");
    out.extend_from_slice(f.name);
    if let (FileKind::Symlink, Some(target)) = (f.kind, f.link_target) {
        out.extend_from_slice(b" -> ");
        out.extend_from_slice(target);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{FileKind, MlsxEntry, find2, find3, parse_mlsx};
    use crate::error::ListError;
    use crate::parse::dec_u64;
    use crate::time::Timestamp;
    use proptest::prelude::*;

    #[test]
    fn word_searches_match_the_byte_loop() {
        for len in 0..20 {
            for pos in 0..=len {
                for b in [b';', b':', b'=', b' ', 0, 0x3a, 0xbb, 0xff, 0x7b, 0xdb, b'a'] {
                    let mut s = vec![b'x'; len];
                    if pos < len {
                        s[pos] = b;
                    }
                    s.extend_from_slice(b"ab;c=d e");
                    for end in 0..=s.len() {
                        let t = &s[..end];
                        assert_eq!(
                            find2(t, b';', b' '),
                            t.iter().position(|&c| c == b';' || c == b' '),
                            "{t:?}"
                        );
                        assert_eq!(
                            find3(t, b'=', b';', b' '),
                            t.iter().position(|&c| c == b'=' || c == b';' || c == b' '),
                            "{t:?}"
                        );
                    }
                }
            }
        }
    }

    /// The parser as it was before the one-pass rewrite: cut the facts at the
    /// first space, then split them at each ';' and each fact at its first '='.
    fn reference(line: &[u8]) -> Result<MlsxEntry<'_>, ListError> {
        const E: ListError = ListError::Format("MLSx");
        let sp = line.iter().position(|&c| c == b' ').ok_or(E)?;
        let (facts, name) = (&line[..sp], &line[sp + 1..]);
        if name.is_empty() || (!facts.is_empty() && facts[facts.len() - 1] != b';') {
            return Err(E);
        }
        let mut e = MlsxEntry {
            name,
            raw_facts: facts,
            kind: None,
            size: None,
            modify: None,
            perm: None,
            unique: None,
        };
        // Non-empty facts end with ';' (checked above).
        let each: Vec<&[u8]> = match facts.strip_suffix(b";") {
            Some(f) => f.split(|&c| c == b';').collect(),
            None => Vec::new(),
        };
        for fact in each {
            let eq = fact.iter().position(|&c| c == b'=').ok_or(E)?;
            if eq == 0 {
                return Err(E);
            }
            let (k, v) = (&fact[..eq], &fact[eq + 1..]);
            if k.eq_ignore_ascii_case(b"type") {
                e.kind = Some(super::mlsx_kind(v));
            } else if k.eq_ignore_ascii_case(b"size") {
                e.size = dec_u64(v);
            } else if k.eq_ignore_ascii_case(b"perm") {
                e.perm = Some(v);
            } else if k.eq_ignore_ascii_case(b"modify") {
                e.modify = Timestamp::parse_time_val(v);
            } else if k.eq_ignore_ascii_case(b"unique") {
                e.unique = Some(v);
            }
        }
        Ok(e)
    }

    /// Lines built from pieces that matter to the grammar: fact names in any
    /// case and near misses, values that are numbers, times or anything, the
    /// separators in odd places.
    fn mlsx_line() -> impl Strategy<Value = Vec<u8>> {
        let name = prop_oneof![
            Just(b"type".to_vec()),
            Just(b"SIZE".to_vec()),
            Just(b"Perm".to_vec()),
            Just(b"modify".to_vec()),
            Just(b"UnIqUe".to_vec()),
            Just(b"typ".to_vec()),
            Just(b"sizes".to_vec()),
            Just(b"modif\x19".to_vec()),
            Just(b"UNIX.mode".to_vec()),
            Just(Vec::new()),
            proptest::collection::vec(any::<u8>(), 0..10),
        ];
        let value = prop_oneof![
            Just(b"file".to_vec()),
            Just(b"dir".to_vec()),
            Just(b"FiLe".to_vec()),
            Just(b"DIR".to_vec()),
            Just(b"fil\x05".to_vec()),
            Just(b"di\x12".to_vec()),
            Just(b"OS.unix=slink:/x".to_vec()),
            Just(b"20240102030405".to_vec()),
            Just(b"20240102030405.123".to_vec()),
            Just(b"2024010203040".to_vec()),
            proptest::string::string_regex("[0-9]{0,22}")
                .unwrap()
                .prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..20),
        ];
        let fact = (
            name,
            prop_oneof![8 => Just(&b"="[..]), 1 => Just(&b""[..])],
            value,
            prop_oneof![
                8 => Just(&b";"[..]),
                1 => Just(&b""[..]),
                1 => Just(&b" "[..]),
            ],
        )
            .prop_map(|(n, eq, v, end)| [&n[..], eq, &v, end].concat());
        (
            proptest::collection::vec(fact, 0..8),
            prop_oneof![8 => Just(&b" "[..]), 1 => Just(&b""[..])],
            proptest::collection::vec(any::<u8>(), 0..12),
        )
            .prop_map(|(facts, sp, name)| [facts.concat(), sp.to_vec(), name].concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn one_pass_parser_matches_the_reference(line in mlsx_line()) {
            prop_assert_eq!(parse_mlsx(&line), reference(&line), "{:?}", String::from_utf8_lossy(&line));
        }

        #[test]
        fn one_pass_parser_matches_the_reference_on_any_bytes(line in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(parse_mlsx(&line), reference(&line));
        }
    }

    #[test]
    fn year_inference_matches_the_arithmetic() {
        // The plain reading: compare seconds for every candidate year, the
        // next one first.
        let reference = |now: Timestamp, month: u8, day: u8, hour: u8, minute: u8| {
            let limit = now.unix_seconds() + 86_400;
            let next = now
                .year
                .checked_add(1)
                .and_then(|y| Timestamp::new(y, month, day, hour, minute, 0))
                .filter(|t| t.unix_seconds() <= limit);
            next.or_else(|| {
                (0..9u16).find_map(|back| {
                    let t = Timestamp::new(now.year.checked_sub(back)?, month, day, hour, minute, 0)?;
                    (t.unix_seconds() <= limit).then_some(t)
                })
            })
        };
        let mut nows = Vec::new();
        for (y, m, d) in [
            (2024, 6, 15),
            (2024, 1, 1),
            (2023, 12, 31),
            (2024, 2, 29),
            (2025, 3, 1),
            (0, 1, 1),
            (3, 1, 1),
        ] {
            for (h, mi, sec) in [(0, 0, 0), (12, 0, 0), (23, 59, 59), (23, 59, 60), (0, 1, 30)] {
                nows.push(Timestamp {
                    year: y,
                    month: m,
                    day: d,
                    hour: h,
                    minute: mi,
                    second: sec,
                    nanos: 0,
                });
            }
        }
        // Times passed in that are not valid still give the same answer.
        nows.push(Timestamp {
            year: 2024,
            month: 13,
            day: 40,
            hour: 25,
            minute: 61,
            second: 0,
            nanos: 0,
        });
        nows.push(Timestamp {
            year: 2024,
            month: 0,
            day: 0,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
        });
        for now in nows {
            for month in 0..=13 {
                for day in [0, 1, 2, 3, 14, 15, 16, 17, 18, 28, 29, 30, 31, 32] {
                    for (hour, minute) in [(0, 0), (11, 59), (12, 0), (12, 1), (23, 59), (24, 0)] {
                        assert_eq!(
                            super::infer_year(now, month, day, hour, minute),
                            reference(now, month, day, hour, minute),
                            "{now:?} {month} {day} {hour}:{minute}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn clock_times_match_the_plain_reading() {
        let reference = |t: &[u8]| {
            let c = t.iter().position(|&b| b == b':')?;
            let h = crate::parse::dec_u8(&t[..c])?;
            let m = crate::parse::dec_u8(&t[c + 1..])?;
            (h < 24 && m < 60 && t.len() - c == 3).then_some((h, m))
        };
        let alphabet = b"019:5 x";
        for len in 0..=7u32 {
            for mut code in 0..7usize.pow(len) {
                let t: Vec<u8> = (0..len)
                    .map(|_| {
                        let b = alphabet[code % 7];
                        code /= 7;
                        b
                    })
                    .collect();
                assert_eq!(super::hh_mm(&t), reference(&t), "{t:?}");
            }
        }
    }

    #[test]
    fn month_names_fold_case_exactly() {
        for (i, m) in [
            "jan", "FEB", "Mar", "aPr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "DEC",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(super::month(m.as_bytes()), Some(i as u8 + 1));
        }
        for bad in [&b"ja"[..], b"janu", b"j\x01n", b"\x0aan", b"ja\x0e", b"ftp", b""] {
            assert_eq!(super::month(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fact_keys_fold_case_exactly() {
        let e = parse_mlsx(b"TyPe=dir;SIZE=7;Perm=r;MoDiFy=20240102030405;UNIQUE=u1;x=y; n").unwrap();
        assert_eq!(
            (e.size, e.perm, e.unique),
            (Some(7), Some(&b"r"[..]), Some(&b"u1"[..]))
        );
        assert!(e.kind.is_some() && e.modify.is_some());
        // Keys that differ from a known one only outside the letter case are unknown facts.
        let e = parse_mlsx(b"t\x19pe=dir;s\x09ze=7;perm_=r;modif\x19=20240102030405;uniqu\x05=u; n").unwrap();
        assert_eq!(
            (e.kind, e.size, e.perm, e.modify, e.unique),
            (None, None, None, None, None)
        );
        // Only the letters fold: a byte that folds to '=' is not one.
        for line in [
            &b"type\x1ddir; n"[..],
            b"size\x1d1; n",
            b"modify\x1d20240102030405; n",
        ] {
            assert!(parse_mlsx(line).is_err(), "{line:?}");
        }
        let e = parse_mlsx(b"type=file\x1b;size=1\x1b; n").unwrap();
        assert_eq!((e.kind, e.size), (Some(FileKind::Other), None));
        assert!(parse_mlsx(b"=x; n").is_err());
        assert!(parse_mlsx(b"type; n").is_err());
    }
}
