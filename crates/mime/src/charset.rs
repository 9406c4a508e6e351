//! Charset decoding to UTF-8: every WHATWG label through `encoding_rs`, plus UTF-7
//! (RFC 2152), which WHATWG leaves out but old mail still uses, and ISO-2022-KR
//! (RFC 1557) and HZ (RFC 1843), which WHATWG reads as one U+FFFD.

use std::borrow::Cow;

/// Decodes `bytes` in `charset` (a MIME charset name, case-insensitive) to UTF-8.
///
/// Returns the text and whether the charset was known. Unknown charsets decode as
/// lossy UTF-8. Malformed sequences become U+FFFD. ISO-2022-KR (RFC 1557) and
/// HZ-GB-2312 (RFC 1843), which the WHATWG table maps to its "replacement"
/// encoding (any text read as one U+FFFD), are decoded here; ISO-2022-CN, which
/// it maps there too, counts as unknown.
///
/// ```
/// let (s, known) = mime::decode_charset(b"caf\xe9", "ISO-8859-1");
/// assert_eq!((s.as_ref(), known), ("café", true));
/// ```
#[must_use]
pub fn decode_charset<'a>(bytes: &'a [u8], charset: &str) -> (Cow<'a, str>, bool) {
    let label = trim_label(charset);
    // the common labels first (the checks are of labels no two of which are equal)
    if is_utf8_label(label) {
        return (utf8_lossy(bytes), true);
    }
    if label.eq_ignore_ascii_case("utf-7") || label.eq_ignore_ascii_case("unicode-1-1-utf-7") {
        return (Cow::Owned(decode_utf7(bytes)), true);
    }
    if label.eq_ignore_ascii_case("utf-16") {
        return (decode_utf16_mime(bytes), true);
    }
    if label.eq_ignore_ascii_case("iso-2022-kr") || label.eq_ignore_ascii_case("csiso2022kr") {
        return (Cow::Owned(decode_iso2022kr(bytes)), true);
    }
    if label.eq_ignore_ascii_case("hz-gb-2312") {
        return (Cow::Owned(decode_hz(bytes)), true);
    }
    match encoding_rs::Encoding::for_label(label.as_bytes()) {
        // WHATWG maps ISO-2022-KR, ISO-2022-CN(-EXT) and HZ-GB-2312 to its
        // "replacement" encoding, which reads any input as one U+FFFD (a guard for
        // browsers): for mail that would drop the whole text, so these (7-bit)
        // charsets are read as unknown ones are, their bytes kept
        Some(enc) if enc != encoding_rs::REPLACEMENT => (enc.decode_without_bom_handling(bytes).0, true),
        _ => (utf8_lossy(bytes), false),
    }
}

/// Whether [`decode_charset`] reads this charset as UTF-8 (`utf-8`, `us-ascii`, none).
pub(crate) fn is_utf8_label(charset: &str) -> bool {
    let label = trim_label(charset);
    label.eq_ignore_ascii_case("utf-8") || label.eq_ignore_ascii_case("us-ascii") || label.is_empty()
}

/// `charset.trim()`, which keeps a label that starts and ends with a visible
/// ASCII character (the usual one) whole: that one is not scanned for Unicode
/// white space.
fn trim_label(charset: &str) -> &str {
    let b = charset.as_bytes();
    if b.first().is_some_and(u8::is_ascii_graphic) && b.last().is_some_and(u8::is_ascii_graphic) {
        charset
    } else {
        charset.trim()
    }
}

/// `String::from_utf8_lossy`, with the faster whole-slice check first (valid
/// UTF-8 is the common case).
pub(crate) fn utf8_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// An owned buffer as text, invalid sequences replaced.
pub(crate) fn utf8_lossy_owned(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `UTF-16` as RFC 2781 section 4.3 reads it, not as WHATWG does (which takes the
/// label for little-endian): a byte order mark `FE FF` or `FF FE` says the order
/// and is no part of the text; without one the text "SHOULD be interpreted as being
/// big-endian".
fn decode_utf16_mime(bytes: &[u8]) -> Cow<'_, str> {
    let (enc, rest) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (encoding_rs::UTF_16LE, rest),
        [0xFE, 0xFF, rest @ ..] => (encoding_rs::UTF_16BE, rest),
        _ => (encoding_rs::UTF_16BE, bytes),
    };
    enc.decode_without_bom_handling(rest).0
}

/// Whether `b` is a byte of a two-byte character in the 7-bit forms of KS X 1001
/// and GB 2312 (set the high bits and it is EUC-KR or GB 2312 in EUC form).
fn is_94(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

/// Decodes the two-byte characters gathered in `run` (high bits set) with `enc`.
fn flush_run(run: &mut Vec<u8>, enc: &'static encoding_rs::Encoding, out: &mut String) {
    if !run.is_empty() {
        out.push_str(&enc.decode_without_bom_handling(run).0);
        run.clear();
    }
}

/// ISO-2022-KR (RFC 1557): ASCII, and after SO (0x0E) pairs of KS X 1001 bytes
/// until SI (0x0F); `ESC $ ) C`, which announces them, is dropped, and a line
/// starts in ASCII.
fn decode_iso2022kr(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut run = Vec::new();
    let mut korean = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if korean && is_94(b) && bytes.get(i + 1).copied().is_some_and(is_94) {
            run.extend_from_slice(&[b | 0x80, bytes[i + 1] | 0x80]);
            i += 2;
            continue;
        }
        flush_run(&mut run, encoding_rs::EUC_KR, &mut out);
        if bytes[i..].starts_with(b"\x1b$)C") {
            i += 4;
            continue;
        }
        match b {
            0x0e => korean = true,
            0x0f => korean = false,
            b'\r' | b'\n' => {
                korean = false;
                out.push(char::from(b));
            }
            _ if korean || !b.is_ascii() => out.push(char::REPLACEMENT_CHARACTER),
            _ => out.push(char::from(b)),
        }
        i += 1;
    }
    flush_run(&mut run, encoding_rs::EUC_KR, &mut out);
    out
}

/// HZ (RFC 1843): ASCII, where `~~` is `~` and `~` before a line break joins
/// the lines, and between `~{` and `~}` pairs of GB 2312 bytes (a line break
/// ends them too).
fn decode_hz(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut run = Vec::new();
    let mut gb = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        if gb && is_94(b) && next.is_some_and(is_94) && !(b == b'~' && next == Some(b'}')) {
            run.extend_from_slice(&[b | 0x80, bytes[i + 1] | 0x80]);
            i += 2;
            continue;
        }
        flush_run(&mut run, encoding_rs::GBK, &mut out);
        match (b, next) {
            (b'~', Some(b'}')) if gb => gb = false,
            (b'~', Some(b'{')) if !gb => gb = true,
            (b'~', Some(b'~')) if !gb => out.push('~'),
            (b'~', Some(b'\n')) if !gb => {}
            (b'~', Some(b'\r')) if !gb && bytes.get(i + 2) == Some(&b'\n') => i += 1,
            (b'\r' | b'\n', _) => {
                gb = false;
                out.push(char::from(b));
                i += 1;
                continue;
            }
            _ => {
                out.push(if gb || !b.is_ascii() {
                    char::REPLACEMENT_CHARACTER
                } else {
                    char::from(b)
                });
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    flush_run(&mut run, encoding_rs::GBK, &mut out);
    out
}

fn b64_value(b: u8) -> Option<u16> {
    match b {
        b'A'..=b'Z' => Some(u16::from(b - b'A')),
        b'a'..=b'z' => Some(u16::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u16::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// UTF-7 (RFC 2152): `+` starts a modified-base64 run of UTF-16, `-` or any
/// non-base64 byte ends it, `+-` is a literal plus.
fn decode_utf7(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'+' {
            out.push(if b.is_ascii() { char::from(b) } else { '\u{FFFD}' });
            i += 1;
            continue;
        }
        i += 1;
        if bytes.get(i) == Some(&b'-') {
            out.push('+');
            i += 1;
            continue;
        }
        let (mut acc, mut nbits) = (0u32, 0u32);
        units.clear();
        while let Some(v) = bytes.get(i).and_then(|&c| b64_value(c)) {
            acc = (acc << 6) | u32::from(v);
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push(((acc >> nbits) & 0xFFFF) as u16);
            }
            i += 1;
        }
        out.extend(char::decode_utf16(units.iter().copied()).map(|r| r.unwrap_or('\u{FFFD}')));
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn trim_label_is_trim(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(" "), Just("\t"), Just("\u{a0}"), Just("\u{3000}"), Just("\u{2028}"),
                    Just("\r\n"), Just("utf-8"), Just("x"), Just("\u{e9}"), Just("-"), Just("\u{1}"),
                ],
                0..6,
            ),
        ) {
            let s = parts.concat();
            prop_assert_eq!(trim_label(&s), s.trim());
        }
    }

    #[test]
    fn utf7_rfc2152_examples() {
        assert_eq!(
            decode_charset(b"Hi Mom -+Jjo--!", "UTF-7").0,
            "Hi Mom -\u{263A}-!"
        );
        assert_eq!(
            decode_charset(b"+ZeVnLIqe-", "utf-7").0,
            "\u{65E5}\u{672C}\u{8A9E}"
        );
        assert_eq!(decode_charset(b"A+ImIDkQ.", "utf-7").0, "A\u{2262}\u{391}.");
        assert_eq!(decode_charset(b"1 +- 1", "utf-7").0, "1 + 1");
    }

    #[test]
    fn labels() {
        assert_eq!(decode_charset(b"\xa4", "iso-8859-15").0, "€");
        assert_eq!(decode_charset(b"\x82\xa0", "Shift_JIS").0, "あ");
        let (s, known) = decode_charset(b"x", "x-no-such");
        assert_eq!((s.as_ref(), known), ("x", false));
    }
}
