//! Paths and mailboxes: RFC 5321 4.1.2, with RFC 6531 3.3 for UTF-8.

use super::{Cursor, check_domain, scan_ascii_domain};
use crate::command::{Host, Mailbox};
use crate::error::CommandError;
use crate::limits::Limits;
use std::net::{Ipv4Addr, Ipv6Addr};

/// atext of RFC 5322 3.2.3 (ASCII part).
pub(crate) fn is_atext(b: u8) -> bool {
    super::class::is(b, super::class::ATEXT)
}

/// qtextSMTP = %d32-33 / %d35-91 / %d93-126
fn is_qtext(b: u8) -> bool {
    matches!(b, 32..=33 | 35..=91 | 93..=126)
}

/// dcontent = %d33-90 / %d94-126
fn is_dcontent(b: u8) -> bool {
    matches!(b, 33..=90 | 94..=126)
}

/// `Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig`: letters, digits and
/// hyphens, ending with a letter or digit (a leading hyphen is allowed).
fn is_ldh_str(s: &[u8]) -> bool {
    use super::class::{LDH, LET_DIG, all, is};
    s.last().is_some_and(|&b| is(b, LET_DIG)) && all(s, LDH)
}

/// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
/// General-address-literal ) "]"; `inner` is what is between the brackets.
/// `General-address-literal = Standardized-tag ":" 1*dcontent` with
/// `Standardized-tag = Ldh-str` (so no dots, unlike a domain).
pub(crate) fn parse_address_literal(inner: &[u8]) -> Result<Host<'_>, CommandError> {
    const BAD: CommandError = CommandError::Syntax("bad address literal");
    if inner.len() > 5 && inner[..5].eq_ignore_ascii_case(b"IPv6:") {
        return parse_ipv6(&inner[5..]).map(Host::Ipv6).ok_or(BAD);
    }
    if let Some(colon) = inner.iter().position(|&b| b == b':') {
        let (tag, content) = (&inner[..colon], &inner[colon + 1..]);
        if !is_ldh_str(tag) || content.is_empty() || !content.iter().all(|&b| is_dcontent(b)) {
            return Err(BAD);
        }
        return Ok(Host::General { tag, content });
    }
    parse_ipv4(inner).map(Host::Ipv4).ok_or(BAD)
}

/// IPv4-address-literal = Snum 3("."  Snum), Snum = 1*3DIGIT up to 255.
/// Std refuses leading zeros, which RFC 5321 allows, so parsed by hand.
fn parse_ipv4(s: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut n = 0;
    for part in s.split(|&b| b == b'.') {
        if n == 4 || part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = part.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
        octets[n] = u8::try_from(v).ok()?;
        n += 1;
    }
    (n == 4).then(|| Ipv4Addr::from(octets))
}

/// IPv6-addr of RFC 5321 4.1.3, which is narrower than RFC 4291's text form
/// (std's parser): IPv6-full is 8 groups of 1-4 hex digits; IPv6-comp has at
/// most 6 groups besides the "::", which stands for at least two zero
/// groups; IPv6v4-full is 6 groups and an IPv4 literal (its Snum may have
/// leading zeros); IPv6v4-comp has at most 4 groups besides the "::" and the
/// IPv4 literal. No zone index.
fn parse_ipv6(s: &[u8]) -> Option<Ipv6Addr> {
    // An IPv4 literal after the last colon takes the place of two groups.
    let (hex, v4) = match s.iter().rposition(|&b| b == b':') {
        Some(i) if s[i + 1..].contains(&b'.') => {
            let v4 = parse_ipv4(&s[i + 1..])?;
            // Keep the colon when it is the second of a "::".
            let hex = if i > 0 && s[i - 1] == b':' {
                &s[..=i]
            } else {
                &s[..i]
            };
            (hex, Some(v4))
        }
        _ => (s, None),
    };
    let room = if v4.is_some() { 6 } else { 8 };
    // The groups of `part` (colon-separated, none empty) into `out`; how many.
    let groups = |part: &[u8], out: &mut [u16; 8]| -> Option<usize> {
        if part.is_empty() {
            return Some(0);
        }
        let mut n = 0;
        for g in part.split(|&b| b == b':') {
            if n == 8 || g.is_empty() || g.len() > 4 {
                return None;
            }
            let mut v = 0u16;
            for &b in g {
                v = v << 4 | u16::from(char::from(b).to_digit(16)? as u8);
            }
            out[n] = v;
            n += 1;
        }
        Some(n)
    };
    let mut words = [0u16; 8];
    match hex.windows(2).position(|w| w == b"::") {
        None => {
            if groups(hex, &mut words)? != room {
                return None;
            }
        }
        Some(at) => {
            let mut tail = [0u16; 8];
            let h = groups(&hex[..at], &mut words)?;
            let t = groups(&hex[at + 2..], &mut tail)?;
            if h + t > room - 2 {
                return None;
            }
            words[room - t..room].copy_from_slice(&tail[..t]);
        }
    }
    if let Some(v4) = v4 {
        let [a, b, c, d] = v4.octets();
        words[6] = u16::from_be_bytes([a, b]);
        words[7] = u16::from_be_bytes([c, d]);
    }
    Some(Ipv6Addr::from(words))
}

/// Whether `lp` is a whole Local-part (Dot-string or Quoted-string, UTF-8
/// allowed as in RFC 6531), as the encoder needs it.
pub(crate) fn is_local_part(lp: &[u8]) -> bool {
    let mut c = Cursor::new(lp);
    local_part(&mut c).is_ok() && c.at_end() && (lp.is_ascii() || std::str::from_utf8(lp).is_ok())
}

/// Whether `d` is a whole Domain (not an address literal), of any length.
pub(crate) fn is_domain(d: &[u8]) -> bool {
    check_domain(d, true).is_ok()
}

/// Whether `[tag:content]` is a General-address-literal that parses back the same.
pub(crate) fn is_general_literal(tag: &[u8], content: &[u8]) -> bool {
    let mut inner = tag.to_vec();
    inner.push(b':');
    inner.extend_from_slice(content);
    matches!(parse_address_literal(&inner), Ok(Host::General { tag: t, content: c }) if t == tag && c == content)
}

/// `Domain / address-literal` as the whole of `s` (EHLO argument, mailbox domain).
pub(crate) fn parse_host<'a>(s: &'a [u8], limits: &Limits) -> Result<(Host<'a>, bool), CommandError> {
    if s.len() > limits.domain {
        return Err(CommandError::TooLong("domain"));
    }
    // Plain ASCII domain: validated in one pass ('\0' never ends a domain).
    if scan_ascii_domain(s, 0) == Some(s.len()) {
        return Ok((Host::Domain(s), false));
    }
    if let Some(inner) = s.strip_prefix(b"[").and_then(|r| r.strip_suffix(b"]")) {
        return Ok((parse_address_literal(inner)?, false));
    }
    let utf8 = check_domain(s, true).map_err(CommandError::Syntax)?;
    Ok((Host::Domain(s), utf8))
}

/// Local-part = Dot-string / Quoted-string. Returns it raw (quotes included).
#[inline]
fn local_part<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8], CommandError> {
    let start = c.pos;
    if c.eat(b'"') {
        loop {
            match c.peek() {
                Some(b'"') => {
                    c.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    c.pos += 1;
                    match c.peek() {
                        Some(32..=126) => c.pos += 1,
                        _ => return Err(CommandError::Syntax("bad quoted pair")),
                    }
                }
                Some(b) if is_qtext(b) || b >= 0x80 => c.pos += 1,
                _ => return Err(CommandError::Syntax("bad quoted local part")),
            }
        }
    } else {
        // Dot-string = Atom *("."  Atom)
        loop {
            let atom = c.take_while(|b| super::class::is(b, super::class::ATEXT | super::class::UTF8));
            if atom.is_empty() {
                return Err(CommandError::Syntax("bad local part"));
            }
            if !c.eat(b'.') {
                break;
            }
        }
    }
    Ok(&c.input[start..c.pos])
}

/// Parses `Path = "<" [ A-d-l ":" ] Mailbox ">"` at the cursor. A source
/// route (A-d-l) is accepted and ignored (RFC 5321 4.1.2, appendix C).
/// Returns the mailbox and whether it holds non-ASCII bytes.
#[inline]
pub(crate) fn path<'a>(c: &mut Cursor<'a>, limits: &Limits) -> Result<(Mailbox<'a>, bool), CommandError> {
    #[cfg(target_arch = "x86_64")]
    if let Some((m, n)) = simd_path(c.rest(), limits) {
        c.pos += n;
        return Ok((m, false));
    }
    if let Some((m, n)) = plain_path(c.rest(), limits) {
        c.pos += n;
        return Ok((m, false));
    }
    full_path(c, limits)
}

/// [`path`] without the fast path: every shape, exact errors.
fn full_path<'a>(c: &mut Cursor<'a>, limits: &Limits) -> Result<(Mailbox<'a>, bool), CommandError> {
    let start = c.pos;
    if !c.eat(b'<') {
        return Err(CommandError::Syntax("path must start with '<'"));
    }
    if c.peek() == Some(b'@') {
        // A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain
        loop {
            if !c.eat(b'@') {
                return Err(CommandError::Syntax("bad source route"));
            }
            let d = c.take_while(|b| b != b',' && b != b':' && b != b'>');
            parse_host(d, limits)?;
            if c.eat(b':') {
                break;
            }
            if !c.eat(b',') {
                return Err(CommandError::Syntax("bad source route"));
            }
        }
    }
    let (m, utf8) = mailbox(c, limits)?;
    if !c.eat(b'>') {
        return Err(CommandError::Syntax("path must end with '>'"));
    }
    if c.pos - start > limits.path {
        return Err(CommandError::TooLong("path"));
    }
    Ok((m, utf8))
}

/// Fast path of [`path`] for the common shape `"<" Dot-string "@" Domain ">"`
/// in ASCII, within the limits: one pass with one table lookup per byte.
/// Returns the mailbox and the length of the path; `None` for anything else
/// (source route, quoted local part, address literal, UTF-8, a syntax error,
/// a limit exceeded), which the full parser then handles or reports exactly.
#[inline]
fn plain_path<'a>(s: &'a [u8], limits: &Limits) -> Option<(Mailbox<'a>, usize)> {
    use super::class::{ATEXT, TABLE};
    let n = s.len();
    if s.first() != Some(&b'<') {
        return None;
    }
    // Dot-string = Atom *("."  Atom), Atom = 1*atext
    let mut i = 1;
    loop {
        let atom = i;
        while i < n && TABLE[s[i] as usize] & ATEXT != 0 {
            i += 1;
        }
        if i == atom {
            return None;
        }
        if i < n && s[i] == b'.' {
            i += 1;
        } else {
            break;
        }
    }
    let at = i;
    if s.get(at) != Some(&b'@') {
        return None;
    }
    // Domain = sub-domain *("." sub-domain), ending at '>'.
    i = at + 1 + scan_ascii_domain(&s[at + 1..], b'>')?;
    if s.get(i) != Some(&b'>') {
        return None;
    }
    let (local_part, domain) = (&s[1..at], &s[at + 1..i]);
    if local_part.len() > limits.local_part || domain.len() > limits.domain || i + 1 > limits.path {
        return None;
    }
    Some((
        Mailbox {
            local_part,
            domain: Host::Domain(domain),
        },
        i + 1,
    ))
}

/// Byte classes of the first 64 bytes after a path's "<", one bit per byte
/// (bit `i` for byte `i`), as [`path_masks`] finds them.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct PathMasks {
    /// Let-dig: ASCII letters and digits.
    let_dig: u64,
    dash: u64,
    dot: u64,
    at: u64,
    gt: u64,
    /// "+", "_" and "=": the other atext bytes common in local parts.
    local_extra: u64,
}

#[cfg(target_arch = "x86_64")]
fearless_simd::kernel!(
    /// Classifies `w` 16 bytes at a time (SSE2), up to the first 16-byte
    /// piece that holds a ">".
    fn path_masks(sse2: Sse2, w: &[u8; 64]) -> PathMasks {
        use core::arch::x86_64::{
            __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8,
        };
        use fearless_simd::{SimdFrom, u8x16};
        let mut m = PathMasks::default();
        for (k, piece) in w.chunks_exact(16).enumerate() {
            let Some(piece) = piece.first_chunk::<16>() else {
                break;
            };
            let v: __m128i = u8x16::simd_from(sse2, *piece).into();
            // `lo <= b < lo + n` as one signed compare after moving `lo` to -128.
            let range = |x: __m128i, lo: i8, n: i8| {
                _mm_cmplt_epi8(
                    _mm_add_epi8(x, _mm_set1_epi8(i8::MIN.wrapping_sub(lo))),
                    _mm_set1_epi8(i8::MIN + n),
                )
            };
            let digit = range(v, 0x30, 10);
            let alpha = range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 0x61, 26);
            let eq = |b: i8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b));
            let bits = |x: __m128i| u64::from(_mm_movemask_epi8(x).cast_unsigned()) << (16 * k);
            m.let_dig |= bits(_mm_or_si128(digit, alpha));
            m.dash |= bits(eq(0x2d));
            m.dot |= bits(eq(0x2e));
            m.at |= bits(eq(0x40));
            m.local_extra |= bits(_mm_or_si128(_mm_or_si128(eq(0x2b), eq(0x5f)), eq(0x3d)));
            let gt = bits(eq(0x3e));
            m.gt |= gt;
            if gt != 0 {
                break;
            }
        }
        m
    }
);

#[cfg(target_arch = "x86_64")]
fearless_simd::kernel!(
    /// [`path_masks`] 32 bytes at a time (AVX2), up to the first 32-byte
    /// piece that holds a ">".
    fn path_masks_avx2(avx2: Avx2, w: &[u8; 64]) -> PathMasks {
        use core::arch::x86_64::{
            __m256i, _mm256_add_epi8, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_movemask_epi8,
            _mm256_or_si256, _mm256_set1_epi8,
        };
        use fearless_simd::{SimdFrom, u8x32};
        let mut m = PathMasks::default();
        for (k, piece) in w.chunks_exact(32).enumerate() {
            let Some(piece) = piece.first_chunk::<32>() else {
                break;
            };
            let v: __m256i = u8x32::simd_from(avx2, *piece).into();
            let range = |x: __m256i, lo: i8, n: i8| {
                _mm256_cmpgt_epi8(
                    _mm256_set1_epi8(i8::MIN + n),
                    _mm256_add_epi8(x, _mm256_set1_epi8(i8::MIN.wrapping_sub(lo))),
                )
            };
            let digit = range(v, 0x30, 10);
            let alpha = range(_mm256_or_si256(v, _mm256_set1_epi8(0x20)), 0x61, 26);
            let eq = |b: i8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b));
            let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x).cast_unsigned()) << (32 * k);
            m.let_dig |= bits(_mm256_or_si256(digit, alpha));
            m.dash |= bits(eq(0x2d));
            m.dot |= bits(eq(0x2e));
            m.at |= bits(eq(0x40));
            m.local_extra |= bits(_mm256_or_si256(_mm256_or_si256(eq(0x2b), eq(0x5f)), eq(0x3d)));
            let gt = bits(eq(0x3e));
            m.gt |= gt;
            if gt != 0 {
                break;
            }
        }
        m
    }
);

/// The classes of `w` from the widest SIMD loop the CPU has (they agree on
/// every bit up to the first ">", all [`simd_path`] reads).
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify(w: &[u8; 64]) -> Option<PathMasks> {
    let level = fearless_simd::Level::new();
    if let Some(avx2) = level.as_avx2() {
        return Some(path_masks_avx2(avx2, w));
    }
    Some(path_masks(level.as_sse2()?, w))
}

/// SIMD fast path in front of [`plain_path`]: the same shape, with the local
/// part made of letters, digits and "-+_=." only, and the whole path within
/// 64 bytes. The bytes are classified 16 at a time and the grammar is checked
/// on the class bit masks. Returns `None` for anything else; when it answers,
/// it answers what [`plain_path`] would (tested against the full parser).
#[cfg(target_arch = "x86_64")]
#[inline]
fn simd_path<'a>(s: &'a [u8], limits: &Limits) -> Option<(Mailbox<'a>, usize)> {
    let rest = s.strip_prefix(b"<")?;
    let mut padded = [0u8; 64];
    let window = match rest.first_chunk::<64>() {
        Some(w) => w,
        None => {
            padded[..rest.len()].copy_from_slice(rest);
            &padded
        }
    };
    let m = classify(window)?;
    // The first ">" ends the path; exactly one "@" before it splits it.
    let g = m.gt.trailing_zeros() as usize;
    if g >= 64 {
        return None;
    }
    let before_gt = (1u64 << g) - 1;
    let at = m.at & before_gt;
    if at.count_ones() != 1 {
        return None;
    }
    let a = at.trailing_zeros() as usize;
    let local = (1u64 << a) - 1;
    let domain = before_gt & !local & !at;
    if a == 0 || domain == 0 {
        return None;
    }
    // Dot-string: atoms of the byte classes above, single dots between them.
    let ldot = m.dot & local;
    if local & !(m.let_dig | m.dash | m.local_extra | m.dot) != 0
        || ldot & (1 | 1 << (a - 1)) != 0
        || ldot & (ldot >> 1) != 0
    {
        return None;
    }
    // Domain: LDH labels that start and end with a Let-dig, split by dots.
    let ddot = m.dot & domain;
    if domain & !(m.let_dig | m.dash | m.dot) != 0
        || m.let_dig & (1 << (a + 1)) == 0
        || m.let_dig & (1 << (g - 1)) == 0
        || ddot & !(m.let_dig << 1) != 0
        || ddot & !(m.let_dig >> 1) != 0
    {
        return None;
    }
    if a > limits.local_part || g - a - 1 > limits.domain || g + 2 > limits.path {
        return None;
    }
    Some((
        Mailbox {
            local_part: &rest[..a],
            domain: Host::Domain(&rest[a + 1..g]),
        },
        g + 2,
    ))
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )`, ending at '>' or
/// the end of input. Returns whether it holds non-ASCII bytes.
#[inline]
pub(crate) fn mailbox<'a>(c: &mut Cursor<'a>, limits: &Limits) -> Result<(Mailbox<'a>, bool), CommandError> {
    let lp = local_part(c)?;
    if lp.len() > limits.local_part {
        return Err(CommandError::TooLong("local part"));
    }
    if !c.eat(b'@') {
        return Err(CommandError::Syntax("mailbox needs '@domain'"));
    }
    let d = if c.peek() == Some(b'[') {
        let s = c.pos;
        c.take_while(|b| b != b']');
        if !c.eat(b']') {
            return Err(CommandError::Syntax("unterminated address literal"));
        }
        &c.input[s..c.pos]
    } else {
        let rest = c.rest();
        // Plain ASCII domain up to '>' or the end: one pass, nothing more to check.
        if let Some(n) = scan_ascii_domain(rest, b'>')
            && n <= limits.domain
        {
            c.pos += n;
            return finish_mailbox(lp, Host::Domain(&rest[..n]), false);
        }
        let n = memchr::memchr(b'>', rest).unwrap_or(rest.len());
        c.pos += n;
        &rest[..n]
    };
    let (host, d_utf8) = parse_host(d, limits)?;
    finish_mailbox(lp, host, d_utf8)
}

#[inline]
fn finish_mailbox<'a>(
    lp: &'a [u8],
    host: Host<'a>,
    d_utf8: bool,
) -> Result<(Mailbox<'a>, bool), CommandError> {
    let lp_utf8 = !lp.is_ascii();
    if lp_utf8 && std::str::from_utf8(lp).is_err() {
        return Err(CommandError::Syntax("invalid UTF-8 in local part"));
    }
    Ok((
        Mailbox {
            local_part: lp,
            domain: host,
        },
        lp_utf8 || d_utf8,
    ))
}

#[cfg(test)]
mod tests {
    use super::{Cursor, full_path, parse_ipv6, plain_path};
    use crate::limits::Limits;

    /// Every string of up to six bytes from an alphabet of the bytes that
    /// matter after "<": where the fast path answers, the full parser gives
    /// the same mailbox and length, under the default and under tiny limits.
    #[test]
    fn plain_path_agrees_with_the_full_parser() {
        const ALPHABET: [u8; 8] = [b'>', b'@', b'.', b'-', b'a', b'1', b'"', 0xC3];
        let tiny = Limits {
            local_part: 2,
            domain: 3,
            path: 8,
            ..Limits::default()
        };
        let mut s = Vec::with_capacity(8);
        let mut fast = 0;
        let mut simd = 0;
        for len in 0..=6u32 {
            for k in 0..8usize.pow(len) {
                s.clear();
                s.push(b'<');
                let mut x = k;
                for _ in 0..len {
                    s.push(ALPHABET[x % 8]);
                    x /= 8;
                }
                for limits in [Limits::default(), tiny] {
                    #[cfg(target_arch = "x86_64")]
                    if let Some(fast) = super::simd_path(&s, &limits) {
                        assert_eq!(Some(fast), plain_path(&s, &limits), "{s:?}");
                        simd += 1;
                    }
                    if let Some((m, n)) = plain_path(&s, &limits) {
                        let mut c = Cursor::new(&s);
                        assert_eq!(full_path(&mut c, &limits), Ok((m, false)), "{s:?}");
                        assert_eq!(c.pos, n, "{s:?}");
                        fast += 1;
                    }
                }
            }
        }
        assert!(fast > 1000, "the fast path answered only {fast} times");
        if cfg!(target_arch = "x86_64") {
            assert!(simd > 1000, "the SIMD path answered only {simd} times");
        }
    }

    /// The SSE2 and AVX2 classifiers agree on every bit up to the first ">"
    /// (each stops after the piece holding it), for every byte value at every
    /// position and on random windows.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn path_classifiers_agree() {
        use super::{PathMasks, path_masks, path_masks_avx2};
        let level = fearless_simd::Level::new();
        let (Some(sse2), Some(avx2)) = (level.as_sse2(), level.as_avx2()) else {
            return;
        };
        let upto = |m: PathMasks| {
            let keep = if m.gt == 0 {
                u64::MAX
            } else {
                u64::MAX >> (63 - m.gt.trailing_zeros())
            };
            PathMasks {
                let_dig: m.let_dig & keep,
                dash: m.dash & keep,
                dot: m.dot & keep,
                at: m.at & keep,
                gt: m.gt & keep,
                local_extra: m.local_extra & keep,
            }
        };
        let check = |w: &[u8; 64]| {
            let (a, b) = (path_masks(sse2, w), path_masks_avx2(avx2, w));
            assert_eq!(upto(a), upto(b), "{w:?}");
            for (i, &byte) in w.iter().enumerate() {
                if (a.gt | b.gt) & ((1u64 << i) - 1) != 0 {
                    break;
                }
                let bit = |m: u64| m >> i & 1 == 1;
                assert_eq!(bit(b.let_dig), byte.is_ascii_alphanumeric(), "{byte} at {i}");
                assert_eq!(bit(b.dot), byte == b'.');
                assert_eq!(bit(b.dash), byte == b'-');
                assert_eq!(bit(b.at), byte == b'@');
                assert_eq!(bit(b.gt), byte == b'>');
                assert_eq!(bit(b.local_extra), matches!(byte, b'+' | b'_' | b'='));
            }
        };
        let mut w = [b'a'; 64];
        for i in 0..64 {
            for byte in 0..=255u8 {
                w[i] = byte;
                check(&w);
            }
            w[i] = b'a';
        }
        let mut seed = 0x5851_f42d_4c95_7f2d_u64;
        for _ in 0..20_000 {
            for b in &mut w {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = b"aZ09-.@>+_=!\x00\xff"[usize::try_from(seed % 14).unwrap_or(0)];
            }
            check(&w);
        }
    }

    /// Longer paths, across the 16-byte pieces and the 64-byte window of the
    /// SIMD path: where it answers, the full parser gives the same result.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_path_agrees_with_the_full_parser_on_long_paths() {
        const BYTES: &[u8] = b"aZ09-.@>+_=!\"[\xc3 ";
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n as u64).unwrap_or(0)
        };
        let limits = Limits::default();
        let mut answered = 0;
        for _ in 0..100_000 {
            // A plausible "<local@domain>" with a few random bytes changed,
            // then some trailing text.
            let mut s = b"<".to_vec();
            for _ in 0..1 + next(30) {
                s.push(b"abcxyz019.-+_"[next(13)]);
            }
            s.push(b'@');
            for _ in 0..1 + next(50) {
                s.push(b"abcxyz019.-"[next(11)]);
            }
            s.extend_from_slice(b"> SIZE=1");
            for _ in 0..next(3) {
                let at = next(s.len());
                s[at] = BYTES[next(BYTES.len())];
            }
            if let Some((m, n)) = super::simd_path(&s, &limits) {
                let mut c = Cursor::new(&s);
                assert_eq!(full_path(&mut c, &limits), Ok((m, false)), "{s:?}");
                assert_eq!(c.pos, n, "{s:?}");
                answered += 1;
            } else if let Some(plain) = plain_path(&s, &limits) {
                // The SIMD path may only decline paths outside its narrower
                // classes or longer than its window.
                assert!(
                    plain.1 > 65 || s[1..plain.1].iter().any(|b| !b"abcxyzZ019.-+_=@>".contains(b)),
                    "{s:?}"
                );
            }
        }
        assert!(answered > 15_000, "the SIMD path answered only {answered} times");
    }

    #[test]
    fn ipv6_literals_follow_the_rfc_5321_grammar() {
        let ok = [
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
            ("::", "::"),
            ("::1", "::1"),
            ("1::", "1::"),
            ("1:2:3:4:5:6::", "1:2:3:4:5:6::"),
            ("::3:4:5:6:7:8", "::3:4:5:6:7:8"),
            ("2001:DB8::1", "2001:db8::1"),
            ("::ffff:1.2.3.004", "::ffff:1.2.3.4"),
            ("1:2:3:4:5:6:1.2.3.004", "1:2:3:4:5:6:102:304"),
            ("1:2::3:4:1.2.3.4", "1:2::3:4:102:304"),
            ("::1.2.3.4", "::102:304"),
        ];
        for (text, want) in ok {
            let got = parse_ipv6(text.as_bytes()).unwrap_or_else(|| panic!("{text} refused"));
            assert_eq!(got, want.parse::<std::net::Ipv6Addr>().unwrap(), "{text}");
        }
        let bad = [
            "1:2:3:4:5:6:7::",
            "::1:2:3:4:5:6:7",
            "1:2:3::4:5:6:7",
            "1:2:3:4:5::1.2.3.4",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:",
            "12345::",
            "g::",
            "::1.2.3",
            "::1.2.3.256",
            "1:2:3:4:5:6:7:1.2.3.4",
            "fe80::1%eth0",
            "",
        ];
        for text in bad {
            assert_eq!(parse_ipv6(text.as_bytes()), None, "{text} accepted");
        }
        // Whatever std writes for an address reads back as that address.
        let mut seed = 0x0123_4567_89ab_cdef_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut words = [0u16; 8];
            for (k, w) in words.iter_mut().enumerate() {
                // Plenty of zero runs, so that "::" shows up in every place.
                if (seed >> (k * 3)) & 3 != 0 {
                    *w = (seed >> (k * 7 + 8)) as u16;
                }
            }
            let a = std::net::Ipv6Addr::from(words);
            assert_eq!(parse_ipv6(a.to_string().as_bytes()), Some(a), "{a}");
        }
    }
}
