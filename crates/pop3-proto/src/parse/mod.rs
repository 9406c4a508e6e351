//! Private byte-level parsers shared by the command and response codecs.
//!
//! POP3's grammar (RFC 1939 section 3, RFC 2449 section 3) is a keyword and
//! space-separated parameters on one CRLF line, so these are a handful of
//! small, allocation-free functions over a framed line rather than a combinator
//! stack: the framer has already cut the line, parsing runs in complete mode.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Splits `line` at its first space: `(head, Some(rest))`, or `(line, None)`.
pub(crate) fn split_sp(line: &[u8]) -> (&[u8], Option<&[u8]>) {
    match memchr::memchr(b' ', line) {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line, None),
    }
}

/// A decimal number of 1 to 10 digits that fits `u32` (RFC 1939 message numbers).
pub(crate) fn number_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// A decimal number of 1 to 20 digits that fits `u64` (octet counts).
pub(crate) fn number_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Leading decimal digits of `s` as a `u64` (at most `max_digits` of them):
/// `(value, digits consumed)`, or `None` for no digit, too many or overflow.
#[inline]
pub(crate) fn leading_number(s: &[u8], max_digits: usize) -> Option<(u64, usize)> {
    if max_digits >= 7
        && let Some(r) = leading_number_swar(s)
    {
        return Some(r);
    }
    let mut v: u64 = 0;
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if i == max_digits {
            return None;
        }
        // 19 digits always fit a u64; only a 20th needs overflow checks.
        v = if i < 19 {
            v * 10 + u64::from(d)
        } else {
            v.checked_mul(10)?.checked_add(u64::from(d))?
        };
        i += 1;
    }
    (i > 0).then_some((v, i))
}

/// The fast path of [`leading_number`]: one to seven leading digits of the
/// first eight bytes, converted in a few word operations instead of a
/// multiply-add chain per digit (message numbers and sizes in listings).
/// `None` when fewer than eight bytes are left, or when the first byte is not
/// a digit or all eight are (the byte loop handles those).
#[inline]
fn leading_number_swar(s: &[u8]) -> Option<(u64, usize)> {
    let word: [u8; 8] = s.get(..8)?.try_into().ok()?;
    digits_in_word(u64::from_le_bytes(word))
}

/// The leading decimal digits of the eight bytes of `v` (little-endian, so
/// the first byte is the lowest): `(value, digits)` for one to seven digits;
/// `None` when the first byte is not a digit or all eight are.
#[inline]
pub(crate) fn digits_in_word(v: u64) -> Option<(u64, usize)> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // A byte is a digit when its high nibble is 3 and adding 6 keeps it so.
    // Carries only move towards later bytes, and the bytes before the first
    // non-digit are digits (at most 0x3F after adding 6, no carry), so the
    // lowest non-zero byte of `bad` is exactly the first non-digit.
    let bad = ((v & HIGH) ^ ZEROS) | ((v.wrapping_add(0x0606_0606_0606_0606) & HIGH) ^ ZEROS);
    let n = (bad.trailing_zeros() / 8) as usize;
    if n == 0 || n == 8 {
        return None;
    }
    // Digit values (no borrow leaves a digit byte), the first digit moved to
    // the top so that the bytes shifted in are leading zeros; then pairs,
    // quads and the whole number (the first digit is the lowest byte).
    let mut x = v.wrapping_sub(ZEROS) << (8 * (8 - n));
    x = (x.wrapping_mul(10) + (x >> 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x.wrapping_mul(100) + (x >> 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x.wrapping_mul(10_000) + (x >> 32)) & 0xFFFF_FFFF;
    Some((x, n))
}

/// `number SP number` at the start of `s`, then the end or a space
/// (RFC 1939 drop and scan listings): `(first, second)`.
#[inline]
pub(crate) fn number_pair(s: &[u8]) -> Option<(u32, u64)> {
    let (a, i) = leading_number(s, 10)?;
    let a = u32::try_from(a).ok()?;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    let (b, j) = leading_number(&s[i + 1..], 20)?;
    match s.get(i + 1 + j) {
        None | Some(b' ') => Some((a, b)),
        Some(_) => None,
    }
}

/// True if `s` is one non-empty token of visible characters (RFC 2449 `param = 1*VCHAR`).
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| (0x21..=0x7e).contains(&b))
}

/// True if `s` is one non-empty word of visible ASCII or 8-bit bytes: a
/// `param` of RFC 2449 that may also carry UTF-8 (RFC 6856 2.2 allows UTF-8
/// in APOP names).
pub(crate) fn is_word8(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| (0x21..=0x7e).contains(&b) || b >= 0x80)
}

/// Strict base64 (RFC 5034 section 4: no characters outside the alphabet, padding only at the end).
pub(crate) fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

/// Base64 with padding.
pub(crate) fn base64_encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_matches_the_byte_loop() {
        // Every digit count, with each kind of byte after the digits.
        for n in 0..=12u8 {
            for tail in [
                &b" "[..],
                b"\r\n",
                b"/",
                b":",
                b"\xff",
                b"\x00",
                b"9",
                b"x1234567",
            ] {
                for lead in [b'0', b'1', b'9'] {
                    let mut s: Vec<u8> = (0..n)
                        .map(|i| if i == 0 { lead } else { b'0' + i * 7 % 10 })
                        .collect();
                    s.extend_from_slice(tail);
                    s.extend_from_slice(b"        ");
                    let slow = {
                        let mut v = 0u64;
                        let mut i = 0;
                        while i < s.len() && s[i].is_ascii_digit() {
                            v = v * 10 + u64::from(s[i] - b'0');
                            i += 1;
                        }
                        (i > 0).then_some((v, i))
                    };
                    assert_eq!(leading_number(&s, 20), slow, "{s:?}");
                }
            }
        }
        // Bytes next to the digit range in every position.
        for b in [0x2f, 0x3a, 0x3f, 0x40, 0xb0, 0xfa, 0xff] {
            for pos in 1..8 {
                let mut s = *b"12345678";
                s[pos] = b;
                assert_eq!(
                    leading_number_swar(&s),
                    Some((12_345_678 / 10u64.pow(8 - pos as u32), pos))
                );
            }
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(number_u32(b"0"), Some(0));
        assert_eq!(number_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(number_u32(b"4294967296"), None);
        assert_eq!(number_u32(b""), None);
        assert_eq!(number_u32(b"+1"), None);
        assert_eq!(number_u32(b"12345678901"), None);
        assert_eq!(number_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(number_u64(b"18446744073709551616"), None);
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(base64_decode(b"").as_deref(), Some(&b""[..]));
        assert_eq!(base64_decode(b"YQ==").as_deref(), Some(&b"a"[..]));
        assert!(base64_decode(b"=AAA").is_none());
        assert!(base64_decode(b"AAA=BBB").is_none());
        assert!(base64_decode(b"YQ").is_none());
        assert!(base64_decode(b"Y Q==").is_none());
    }

    #[test]
    fn tokens() {
        assert!(is_token(b"abc"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
    }
}
