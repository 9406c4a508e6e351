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

/// Eight bytes of `s` from `at` as a little-endian word, if there are eight.
#[inline]
pub(crate) fn word_at(s: &[u8], at: usize) -> Option<u64> {
    s.get(at..)?.first_chunk::<8>().map(|w| u64::from_le_bytes(*w))
}

const NIBBLE: u64 = 0xF0F0_F0F0_F0F0_F0F0;
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// A non-zero byte for each byte of `w` that may not be a decimal digit, and
/// exact up to the first one: a byte is a digit when its high nibble is 3 and
/// adding 6 keeps it so, and a carry out of a byte only happens for a byte of
/// 0xFA or more, itself not a digit, so it never hides one that is not.
#[inline]
fn non_digits(w: u64) -> u64 {
    ((w & NIBBLE) ^ ZEROS) | ((w.wrapping_add(0x0606_0606_0606_0606) & NIBBLE) ^ ZEROS)
}

/// The value of the digits in the top bytes of `x` (those of `top`), the
/// first and most significant digit lowest; the bytes below are zero and read
/// as leading zeros.
#[inline]
fn word_value(x: u64, top: u64) -> u64 {
    let mut v = x - (ZEROS & top);
    v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    (v.wrapping_mul(10_000) + (v >> 32)) & 0xFFFF_FFFF
}

/// The number in the first `n` bytes (1 to 8) of the little-endian word `w`,
/// if they are all decimal digits: a few word operations instead of a
/// multiply-add per digit.
#[inline]
pub(crate) fn digits_in_word(w: u64, n: usize) -> Option<u64> {
    if !(1..=8).contains(&n) {
        return None;
    }
    // The n bytes moved to the top, the bytes shifted in below them zero.
    let shift = 8 * (8 - n as u32);
    let (x, top) = (w << shift, u64::MAX << shift);
    (non_digits(x) & top == 0).then(|| word_value(x, top))
}

/// The leading decimal digits of the little-endian word `w` (one to eight of
/// them): `(value, digits)`, or `None` when the first byte is not a digit.
#[inline]
pub(crate) fn leading_digits(w: u64) -> Option<(u64, usize)> {
    let n = non_digits(w).trailing_zeros() / 8;
    if n == 0 {
        return None;
    }
    let shift = 8 * (8 - n);
    Some((word_value(w << shift, u64::MAX << shift), n as usize))
}

/// [`dec_u64`] of `s[a..b]`, read as one word when it is at most eight bytes
/// and eight bytes of `s` start at `a` (a number inside a longer line).
#[inline]
pub(crate) fn dec_u64_at(s: &[u8], a: usize, b: usize) -> Option<u64> {
    let n = b.checked_sub(a)?;
    if n <= 8
        && let Some(w) = word_at(s, a)
    {
        return digits_in_word(w, n);
    }
    dec_u64(s.get(a..b)?)
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

#[cfg(test)]
mod tests {
    use super::{dec_u64, dec_u64_at, digits_in_word, leading_digits, word_at};

    #[test]
    fn word_digits_match_the_byte_loop() {
        // Every length, every byte value at every position, with what follows
        // the number inside the word varying too.
        for n in 0..=10usize {
            for pos in 0..n.max(1) {
                for b in (0..=255u8).step_by(1) {
                    let mut s: Vec<u8> = (0..n).map(|i| b"9081726354"[i % 10]).collect();
                    if pos < n {
                        s[pos] = b;
                    }
                    let num = s.clone();
                    s.extend_from_slice(b";x=\xff 123456789");
                    assert_eq!(dec_u64_at(&s, 0, n), dec_u64(&num), "{num:?}");
                    let w = word_at(&s, 0).unwrap();
                    if n <= 8 {
                        assert_eq!(digits_in_word(w, n), dec_u64(&num), "{num:?}");
                    }
                    let run = s.iter().take(8).take_while(|c| c.is_ascii_digit()).count();
                    let want = (run > 0).then(|| (dec_u64(&s[..run]).unwrap(), run));
                    assert_eq!(leading_digits(w), want, "{s:?}");
                }
            }
        }
        // Near the end of the input the byte loop takes over.
        assert_eq!(dec_u64_at(b"x12", 1, 3), Some(12));
        assert_eq!(dec_u64_at(b"x12", 3, 1), None);
        assert_eq!(dec_u64_at(b"99999999999999999999;       ", 0, 20), None);
        assert_eq!(dec_u64_at(b"18446744073709551615;       ", 0, 20), Some(u64::MAX));
    }
}
