//! MAIL and RCPT parameters: RFC 5321 4.1.2 `Mail-parameters` /
//! `Rcpt-parameters`, typed per extension RFC.

use super::class;
use crate::command::{BodyType, MailParams, Notify, Orcpt, OtherParams, RcptParams, Ret, XText};
use crate::error::CommandError;

/// xtext = *( xchar / hexchar ) (RFC 3461 4); hexchar uses upper-case hex.
pub(crate) fn valid_xtext(v: &[u8]) -> bool {
    if class::all(v, class::XCHAR) {
        return true;
    }
    valid_xtext_slow(v)
}

/// [`valid_xtext`] for values holding "+" or other non-xchar bytes.
fn valid_xtext_slow(v: &[u8]) -> bool {
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'+' => {
                let ok = |b: Option<&u8>| matches!(b, Some(b'0'..=b'9' | b'A'..=b'F'));
                if !(ok(v.get(i + 1)) && ok(v.get(i + 2))) {
                    return false;
                }
                i += 3;
            }
            b'=' => return false,
            33..=126 => i += 1,
            _ => return false,
        }
    }
    true
}

/// True if the xtext `v` (valid) decodes to printable US-ASCII: every
/// `+HH` stands for a graphic character, a space or a tab. RFC 3461 4.2 and
/// 4.4: the ORCPT address and the ENVID "prior to encoding as "xtext" MUST
/// consist entirely of printable (graphic and white space) characters from
/// the US-ASCII repertoire" (every xchar is one already).
pub(crate) fn xtext_printable(v: &[u8]) -> bool {
    let hex = |b: u8| match b {
        b'0'..=b'9' => b - b'0',
        _ => b - b'A' + 10,
    };
    v.iter().enumerate().all(|(i, &b)| {
        b != b'+' || {
            let c = hex(v[i + 1]) * 16 + hex(v[i + 2]);
            c == b'\t' || (b' '..=b'~').contains(&c)
        }
    })
}

/// True if `a` is a valid ORCPT address of type `t` (RFC 3461 4.2): xtext
/// that decodes to printable US-ASCII; for the `utf-8` type (RFC 6533 3)
/// also raw UTF-8 among the xtext characters (utf-8-addr-unitext; whether
/// the server advertises SMTPUTF8, which that form needs, is the server's
/// check), and what it decodes to must be UTF-8 text without control
/// characters, as an address is.
pub(crate) fn valid_orcpt_addr(t: &[u8], a: &[u8]) -> bool {
    if !t.eq_ignore_ascii_case(b"utf-8") {
        return valid_xtext_slow(a) && xtext_printable(a);
    }
    let form = if a.is_ascii() {
        valid_xtext_slow(a)
    } else {
        std::str::from_utf8(a).is_ok() && a.split(|&b| b >= 0x80).all(valid_xtext_slow)
    };
    // ASCII xtext without "+" is printable text as it stands.
    form && ((a.is_ascii() && !a.contains(&b'+')) || {
        let decoded = XText(a).decode();
        std::str::from_utf8(&decoded).is_ok_and(|s| !s.chars().any(char::is_control))
    })
}

/// Byte tests on eight bytes at once (a `u64` read little-endian); each is
/// exact about whether *any* byte matches.
mod swar {
    const ONES: u64 = 0x0101_0101_0101_0101;
    /// The high bit of every byte.
    pub(super) const HIGHS: u64 = 0x8080_8080_8080_8080;

    /// The high bit of bytes of `x` below `n` (`n` at most 128). Exact for
    /// the lowest flagged byte; a byte above a flagged one may be flagged too.
    #[inline(always)]
    pub(super) fn less(x: u64, n: u8) -> u64 {
        x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
    }

    /// The high bit of bytes of `x` equal to `b`; exact as [`less`] is.
    #[inline(always)]
    pub(super) fn eq(x: u64, b: u8) -> u64 {
        let y = x ^ (ONES * u64::from(b));
        y.wrapping_sub(ONES) & !y & HIGHS
    }

    /// True if some byte of `x` is below `n` (`n` at most 128).
    #[cfg(test)]
    pub(super) fn has_less(x: u64, n: u8) -> bool {
        less(x, n) != 0
    }

    /// True if some byte of `x` equals `b`.
    #[cfg(test)]
    pub(super) fn has_byte(x: u64, b: u8) -> bool {
        eq(x, b) != 0
    }
}

/// One `keyword[=value]` of a parameter list.
pub(crate) type Param<'a> = (&'a [u8], Option<&'a [u8]>);

/// One parameter, its keyword packed (see [`packed`]), the AND of the class
/// bits of its value bytes (all bits set when there is no value), and the rest
/// of the list after its separating space.
type Scanned<'a> = (Param<'a>, u64, u8, Option<&'a [u8]>);

const BAD_SYNTAX: CommandError = CommandError::Syntax("bad parameter syntax");

/// Scans one parameter at the start of `r` in a single pass:
/// `esmtp-keyword ["=" esmtp-value]` followed by the end or one space, with
/// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") and
/// esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 (RFC 6531 3.3).
#[inline]
fn next_param(r: &[u8]) -> Result<Scanned<'_>, CommandError> {
    scan_param(r, true)
}

/// [`next_param`], with the AVX2 value loop allowed or not (for the tests).
#[inline(always)]
fn scan_param(r: &[u8], simd: bool) -> Result<Scanned<'_>, CommandError> {
    use class::{LDH, LET_DIG, TABLE, VALUE};
    let n = r.len();
    let mut i = r.iter().position(|&b| TABLE[b as usize] & LDH == 0).unwrap_or(n);
    if i == 0 || TABLE[r[0] as usize] & LET_DIG == 0 {
        return Err(BAD_SYNTAX);
    }
    let k = &r[..i];
    // The packed keyword from one eight-byte read when the list is that long.
    let kk = match r.first_chunk::<8>() {
        Some(w) if i <= 8 => u64::from_le_bytes(*w) & (u64::MAX >> (64 - 8 * i)) & CASE,
        _ => packed(k),
    };
    let mut mask = u8::MAX;
    let v = if i < n && r[i] == b'=' {
        i += 1;
        let vs = i;
        // Eight bytes at a time while they are all esmtp-value bytes: none
        // below 33, none "=" or DEL. Non-xchar bytes ("+", non-ASCII) clear
        // the XCHAR bit of the mask.
        // The lowest flagged byte of these tests is always a true match, so
        // the window that holds the end of the value also tells where it is.
        let mut open = true;
        #[cfg(target_arch = "x86_64")]
        if simd && let Some(avx2) = fearless_simd::Level::new().as_avx2() {
            // 32 bytes at a time; a value that ends within the last 32 bytes
            // of the list is read from a window ending there, with the bits of
            // the bytes before `i` shifted out.
            loop {
                let (stop, odd, at) = if let Some(w) = r[i..].first_chunk::<32>() {
                    let (stop, odd) = value_masks(avx2, w);
                    (stop, odd, i)
                } else if n >= 32 && i < n {
                    let Some(w) = r[n - 32..].first_chunk::<32>() else {
                        break;
                    };
                    let (stop, odd) = value_masks(avx2, w);
                    let skip = i - (n - 32);
                    // Past the end counts as a stop.
                    (stop >> skip | 1u64 << (32 - skip), odd >> skip, i)
                } else {
                    break;
                };
                if stop == 0 {
                    if odd != 0 {
                        mask &= !class::XCHAR;
                    }
                    i = at + 32;
                    continue;
                }
                let below = (stop & stop.wrapping_neg()) - 1;
                if odd & below != 0 {
                    mask &= !class::XCHAR;
                }
                i = at + stop.trailing_zeros() as usize;
                open = false;
                break;
            }
        }
        while open && let Some(w) = r.get(i..i + 8) {
            let x = u64::from_le_bytes(w.try_into().unwrap_or_default());
            let stop = swar::less(x, 33) | swar::eq(x, b'=') | swar::eq(x, 0x7f);
            let odd = swar::eq(x, b'+') | (x & swar::HIGHS);
            if stop == 0 {
                if odd != 0 {
                    mask &= !class::XCHAR;
                }
                i += 8;
                continue;
            }
            // Bytes below the first stop byte are value bytes.
            let below = (stop & stop.wrapping_neg()) - 1;
            if odd & below != 0 {
                mask &= !class::XCHAR;
            }
            i += (stop.trailing_zeros() / 8) as usize;
            open = false;
            break;
        }
        while open && i < n {
            let c = TABLE[r[i] as usize];
            if c & VALUE == 0 {
                break;
            }
            mask &= c;
            i += 1;
        }
        if i == vs {
            return Err(BAD_SYNTAX);
        }
        Some(&r[vs..i])
    } else {
        None
    };
    let rest = if i == n {
        None
    } else if r[i] == b' ' {
        Some(&r[i + 1..])
    } else {
        return Err(BAD_SYNTAX);
    };
    Ok(((k, v), kk, mask, rest))
}

#[cfg(target_arch = "x86_64")]
fearless_simd::kernel!(
    /// For 32 bytes of an esmtp-value: bit `i` of the first mask when byte
    /// `i` ends the value (below 33, "=" or DEL), of the second when it is a
    /// value byte that is no xchar ("+" or non-ASCII).
    fn value_masks(avx2: Avx2, w: &[u8; 32]) -> (u64, u64) {
        use core::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256,
            _mm256_set1_epi8,
        };
        use fearless_simd::{SimdFrom, u8x32};
        let v: __m256i = u8x32::simd_from(avx2, *w).into();
        let eq = |b: i8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b));
        // `min(v, 32) == v` is `v <= 32` unsigned.
        let low = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(32)), v);
        let stop = _mm256_or_si256(_mm256_or_si256(low, eq(0x3d)), eq(0x7f));
        let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x).cast_unsigned());
        (bits(stop), bits(eq(0x2b)) | bits(v))
    }
);

/// Calls `f` on every parameter of a non-empty list with the class mask of its
/// value, stopping at the first error (syntax or from `f`), in list order.
#[inline]
fn for_each_param<'a>(
    raw: &'a [u8],
    mut f: impl FnMut(&'a [u8], u64, Option<&'a [u8]>, u8) -> Result<(), CommandError>,
) -> Result<(), CommandError> {
    let mut rest = (!raw.is_empty()).then_some(raw);
    while let Some(r) = rest {
        let ((k, v), kk, mask, next) = next_param(r)?;
        f(k, kk, v, mask)?;
        rest = next;
    }
    Ok(())
}

/// Splits a parameter list into its parameters; syntax errors on the way.
pub(crate) fn split_params(raw: &[u8]) -> impl Iterator<Item = Result<Param<'_>, CommandError>> {
    let mut rest = (!raw.is_empty()).then_some(raw);
    std::iter::from_fn(move || {
        let r = rest?;
        match next_param(r) {
            Ok((p, _, _, next)) => {
                rest = next;
                Some(Ok(p))
            }
            Err(e) => {
                rest = None;
                Some(Err(e))
            }
        }
    })
}

pub(crate) const MAIL_KEYWORDS: [&[u8]; 8] = [
    b"SIZE",
    b"BODY",
    b"SMTPUTF8",
    b"RET",
    b"ENVID",
    b"AUTH",
    b"REQUIRETLS",
    b"MT-PRIORITY",
];
pub(crate) const RCPT_KEYWORDS: [&[u8]; 2] = [b"NOTIFY", b"ORCPT"];
/// The typed keywords of MAIL and RCPT together.
pub(crate) const ALL_KEYWORDS: [&[u8]; 10] = [
    b"SIZE",
    b"BODY",
    b"SMTPUTF8",
    b"RET",
    b"ENVID",
    b"AUTH",
    b"REQUIRETLS",
    b"MT-PRIORITY",
    b"NOTIFY",
    b"ORCPT",
];

pub(crate) fn is_known(k: &[u8], known: &[&[u8]]) -> bool {
    known.iter().any(|w| k.eq_ignore_ascii_case(w))
}

/// Clears the ASCII case bit of every byte of a packed keyword.
const CASE: u64 = 0xDFDF_DFDF_DFDF_DFDF;

/// A keyword of at most 8 bytes packed into a u64 (little-endian, first byte
/// lowest) with the ASCII case bit cleared, so that comparing lengths and
/// packed values is a case-insensitive comparison. Exact for the LDH bytes
/// keywords are made of: clearing 0x20 maps a letter only onto its upper
/// case, a digit or "-" only onto a control byte that no keyword holds.
#[inline(always)]
const fn packed(w: &[u8]) -> u64 {
    let mut k = 0u64;
    let mut i = 0;
    while i < w.len() && i < 8 {
        k |= ((w[i] & 0xDF) as u64) << (8 * i);
        i += 1;
    }
    k
}

/// True if the keyword `k` (packed as `kk`) is `w` (upper case) in any case.
#[inline(always)]
fn is_kw(k: &[u8], kk: u64, w: &'static [u8]) -> bool {
    if w.len() > 8 {
        return k.eq_ignore_ascii_case(w);
    }
    k.len() == w.len() && kk == packed(w)
}

fn need<'a>(v: Option<&'a [u8]>, what: &'static str) -> Result<&'a [u8], CommandError> {
    v.ok_or(CommandError::BadParameter(what))
}

fn no_value(v: Option<&[u8]>, what: &'static str) -> Result<(), CommandError> {
    match v {
        None => Ok(()),
        Some(_) => Err(CommandError::BadParameter(what)),
    }
}

fn set_once<T>(slot: &mut Option<T>, v: T) -> Result<(), CommandError> {
    if slot.is_some() {
        return Err(CommandError::BadParameter("parameter given twice"));
    }
    *slot = Some(v);
    Ok(())
}

/// The value of a DSN parameter (RET, ENVID, NOTIFY, ORCPT): missing is a
/// bad value (501, RFC 3461 5.1).
fn dsn_need<'a>(v: Option<&'a [u8]>, what: &'static str) -> Result<&'a [u8], CommandError> {
    v.ok_or(CommandError::BadDsnParameter(what))
}

/// [`set_once`] for a DSN parameter. RFC 3461 5.1 (a): "if there is more than
/// one ENVID or RET parameter in a particular MAIL command, the server MUST
/// issue the reply-code 501"; 4.5 and 5.1 (b) say the same (SHOULD) for RCPT.
fn dsn_once<T>(slot: &mut Option<T>, v: T) -> Result<(), CommandError> {
    if slot.is_some() {
        return Err(CommandError::BadDsnParameter("DSN parameter given twice"));
    }
    *slot = Some(v);
    Ok(())
}

/// RFC 1870 6: `size-value ::= 1*20DIGIT`. Twenty digits can exceed
/// `u64::MAX`; such a value is still valid syntax and is read as `u64::MAX`,
/// larger than any configurable limit, so that it gets 552 (RFC 1870 6.1),
/// not a syntax error.
fn parse_size(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |n, &b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

pub(crate) fn mail_params(raw: &[u8]) -> Result<MailParams<'_>, CommandError> {
    let mut p = MailParams {
        other: OtherParams::mail(raw),
        ..MailParams::default()
    };
    let (mut utf8, mut rtls) = (None, None);
    for_each_param(raw, |k, kk, v, mask| {
        if is_kw(k, kk, b"SIZE") {
            // RFC 1870 6: size-value ::= 1*20DIGIT
            let n =
                parse_size(need(v, "SIZE needs a value")?).ok_or(CommandError::BadParameter("bad SIZE"))?;
            set_once(&mut p.size, n)?;
        } else if is_kw(k, kk, b"BODY") {
            let v = need(v, "BODY needs a value")?;
            let b = BodyType::from_bytes(v).ok_or(CommandError::BadParameter("bad BODY"))?;
            set_once(&mut p.body, b)?;
        } else if is_kw(k, kk, b"SMTPUTF8") {
            no_value(v, "SMTPUTF8 takes no value")?;
            set_once(&mut utf8, ())?;
        } else if is_kw(k, kk, b"RET") {
            let v = dsn_need(v, "RET needs a value")?;
            let r = if v.eq_ignore_ascii_case(b"FULL") {
                Ret::Full
            } else if v.eq_ignore_ascii_case(b"HDRS") {
                Ret::Hdrs
            } else {
                return Err(CommandError::BadDsnParameter("bad RET"));
            };
            dsn_once(&mut p.ret, r)?;
        } else if is_kw(k, kk, b"ENVID") {
            let v = dsn_need(v, "ENVID needs a value")?;
            // RFC 3461 4.4: up to 100 characters of xtext.
            if v.len() > 100 || !(mask & class::XCHAR != 0 || (valid_xtext_slow(v) && xtext_printable(v))) {
                return Err(CommandError::BadDsnParameter("bad ENVID"));
            }
            dsn_once(&mut p.envid, XText(v))?;
        } else if is_kw(k, kk, b"AUTH") {
            let v = need(v, "AUTH needs a value")?;
            if !(mask & class::XCHAR != 0 || valid_xtext_slow(v)) {
                return Err(CommandError::BadParameter("bad AUTH="));
            }
            set_once(&mut p.auth, XText(v))?;
        } else if is_kw(k, kk, b"REQUIRETLS") {
            no_value(v, "REQUIRETLS takes no value")?;
            set_once(&mut rtls, ())?;
        } else if is_kw(k, kk, b"MT-PRIORITY") {
            // RFC 6710 3: priority-value = [ "-" / "+" ] 1DIGIT, -9 to 9.
            let v = need(v, "MT-PRIORITY needs a value")?;
            let (neg, d) = match v {
                [b'-', d] => (true, *d),
                [b'+', d] | [d] => (false, *d),
                _ => return Err(CommandError::BadParameter("bad MT-PRIORITY")),
            };
            if !d.is_ascii_digit() {
                return Err(CommandError::BadParameter("bad MT-PRIORITY"));
            }
            let n = (d - b'0').cast_signed();
            set_once(&mut p.mt_priority, if neg { -n } else { n })?;
        } else if is_known(k, &RCPT_KEYWORDS) {
            // RFC 3461 4: NOTIFY and ORCPT belong to RCPT; on MAIL they are
            // a parameter the command does not have (RFC 5321 4.1.1.11, 555).
            return Err(CommandError::BadParameter("RCPT parameter on MAIL"));
        }
        Ok(())
    })?;
    p.smtputf8 = utf8.is_some();
    p.requiretls = rtls.is_some();
    Ok(p)
}

pub(crate) fn rcpt_params(raw: &[u8]) -> Result<RcptParams<'_>, CommandError> {
    let mut p = RcptParams {
        other: OtherParams::rcpt(raw),
        ..RcptParams::default()
    };
    for_each_param(raw, |k, kk, v, mask| {
        if is_kw(k, kk, b"NOTIFY") {
            let n = Notify::parse(dsn_need(v, "NOTIFY needs a value")?)
                .ok_or(CommandError::BadDsnParameter("bad NOTIFY"))?;
            dsn_once(&mut p.notify, n)?;
        } else if is_kw(k, kk, b"ORCPT") {
            // RFC 3461 4.2: orcpt-parameter = "ORCPT=" original-recipient-address
            // original-recipient-address = addr-type ";" xtext, at most 500 characters.
            let v = dsn_need(v, "ORCPT needs a value")?;
            let semi = v
                .iter()
                .position(|&b| b == b';')
                .ok_or(CommandError::BadDsnParameter("bad ORCPT"))?;
            let (t, a) = (&v[..semi], &v[semi + 1..]);
            // All of `v` being xchar makes its tail `a` valid xtext.
            let xtext = mask & class::XCHAR != 0 || valid_orcpt_addr(t, a);
            if v.len() > 500 || t.is_empty() || !class::all(t, class::ATEXT) || !xtext {
                return Err(CommandError::BadDsnParameter("bad ORCPT"));
            }
            dsn_once(
                &mut p.orcpt,
                Orcpt {
                    addr_type: t,
                    addr: XText(a),
                },
            )?;
        } else if is_known(k, &MAIL_KEYWORDS) {
            // SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH, REQUIRETLS and
            // MT-PRIORITY belong to MAIL (RFC 1870, 6152, 6531, 3461 4,
            // 4954 5, 8689, 6710); on RCPT, 555 (RFC 5321 4.1.1.11).
            return Err(CommandError::BadParameter("MAIL parameter on RCPT"));
        }
        Ok(())
    })?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::swar;

    /// The AVX2 value loop gives what the SWAR and byte loops give, for values
    /// of every length ending anywhere (at the end of the list, or at a stop
    /// byte inside it), with and without non-xchar bytes.
    #[test]
    fn simd_value_scan_agrees() {
        const BYTES: &[u8] = b"aZ09-.;,+=\x7f \x00\x1f!~\x80\xff\xc3";
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n as u64).unwrap_or(0)
        };
        for _ in 0..100_000 {
            let mut r = b"ORCPT=".to_vec();
            for _ in 0..next(90) {
                r.push(if next(8) == 0 {
                    BYTES[next(BYTES.len())]
                } else {
                    b"rfc822;user.name@x"[next(18)]
                });
            }
            if next(2) == 0 {
                r.extend_from_slice(b" NOTIFY=NEVER");
            }
            // Only the XCHAR bit of the class mask is ever read.
            let (a, b) = (super::scan_param(&r, true), super::scan_param(&r, false));
            assert_eq!(
                a.map(|(p, kk, mask, rest)| (p, kk, mask & super::class::XCHAR != 0, rest)),
                b.map(|(p, kk, mask, rest)| (p, kk, mask & super::class::XCHAR != 0, rest)),
                "{r:?}"
            );
        }
    }

    /// The keyword packed from an eight-byte read in `next_param` is the one
    /// `packed` builds byte by byte, and `is_kw` on it is a case-insensitive
    /// comparison, for keywords of every length with and without a value.
    #[test]
    fn packed_keyword_from_one_read_agrees() {
        let known: Vec<&'static [u8]> = super::MAIL_KEYWORDS
            .iter()
            .chain(&super::RCPT_KEYWORDS)
            .copied()
            .collect();
        let mut words: Vec<Vec<u8>> = known.iter().map(|w| w.to_vec()).collect();
        words.extend(
            [
                &b"X"[..],
                b"SIZ",
                b"SIZEX",
                b"NOTIF",
                b"ORCPTS",
                b"X-9",
                b"BODY8BIT",
                b"a1-b2-c3",
            ]
            .map(<[u8]>::to_vec),
        );
        for w in &words {
            for case in 0..4u32 {
                let k: Vec<u8> = w
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        if (case >> (i % 2)) & 1 == 1 {
                            b.to_ascii_lowercase()
                        } else {
                            *b
                        }
                    })
                    .collect();
                for tail in [&b""[..], b"=1", b"=value-long", b" NEXT"] {
                    let mut r = k.clone();
                    r.extend_from_slice(tail);
                    let ((kw, _), kk, _, _) = super::next_param(&r).expect("valid parameter");
                    assert_eq!(kw, &k[..]);
                    assert_eq!(kk, super::packed(&k), "{r:?}");
                    for &w in &known {
                        assert_eq!(super::is_kw(kw, kk, w), kw.eq_ignore_ascii_case(w), "{r:?} {w:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn swar_tests_agree_with_byte_tests() {
        for (b, base) in (0..=255u8).flat_map(|b| [(b, *b"Ab0+~\x80=!"), (b, *b"xyz-9AZ!")]) {
            for pos in 0..8 {
                let mut bytes = base;
                bytes[pos] = b;
                let x = u64::from_le_bytes(bytes);
                for n in [33u8, 128] {
                    assert_eq!(
                        swar::has_less(x, n),
                        bytes.iter().any(|&y| y < n),
                        "{bytes:?} < {n}"
                    );
                }
                for t in [b'=', 0x7f, b'+'] {
                    assert_eq!(swar::has_byte(x, t), bytes.contains(&t), "{bytes:?} has {t}");
                    let first = bytes.iter().position(|&y| y == t);
                    let m = swar::eq(x, t);
                    assert_eq!(
                        (m != 0).then(|| m.trailing_zeros() as usize / 8),
                        first,
                        "{bytes:?} first {t}"
                    );
                }
                let first = bytes.iter().position(|&y| y < 33);
                let m = swar::less(x, 33);
                assert_eq!(
                    (m != 0).then(|| m.trailing_zeros() as usize / 8),
                    first,
                    "{bytes:?} first < 33"
                );
            }
        }
    }
}
