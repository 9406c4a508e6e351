//! Private byte-level helpers shared by the command, reply and listing parsers.
//!
//! The parsers are hand-written over `&[u8]` with `memchr` instead of nom
//! combinators: FTP lines are short and flat, and the listing parsers are on
//! a hot path (a 10,000-line listing), where a single pass over the bytes with
//! no allocation is what makes them fast. They run on one framed unit at a
//! time, so there is no `Incomplete` state.

/// Parses an unsigned decimal number (1 to 20 digits, no overflow).
pub(crate) fn dec_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Parses a decimal number that must fit `u8`.
pub(crate) fn dec_u8(b: &[u8]) -> Option<u8> {
    if b.len() > 3 {
        return None;
    }
    dec_u64(b).and_then(|v| u8::try_from(v).ok())
}

/// Parses a decimal number that must fit `u16`.
pub(crate) fn dec_u16(b: &[u8]) -> Option<u16> {
    if b.len() > 5 {
        return None;
    }
    dec_u64(b).and_then(|v| u16::try_from(v).ok())
}

/// Splits at the first space: (before, Some(after)) or (all, None).
pub(crate) fn split_sp(b: &[u8]) -> (&[u8], Option<&[u8]>) {
    match memchr::memchr(b' ', b) {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    }
}

/// Case-insensitive ASCII equality.
#[inline]
pub(crate) fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Writes `v` in decimal.
pub(crate) fn write_u64(out: &mut bytes::BytesMut, v: u64) {
    let mut b = [0u8; 20];
    let mut i = b.len();
    let mut v = v;
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&b[i..]);
}

/// Skips spaces from the front.
pub(crate) fn skip_sp(b: &[u8]) -> &[u8] {
    let mut i = 0;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    &b[i..]
}

/// Splits off the next space-separated token (after skipping spaces): (token, rest).
/// Listing columns are short: a byte loop, no memchr call overhead.
pub(crate) fn token(b: &[u8]) -> (&[u8], &[u8]) {
    let b = skip_sp(b);
    let mut i = 0;
    while i < b.len() && b[i] != b' ' {
        i += 1;
    }
    (&b[..i], &b[i..])
}
