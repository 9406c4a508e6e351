//! RFC 2047 encoded words: decoding of unstructured text and phrases, and encoding
//! for the builder.

use crate::charset::decode_charset;
use base64::Engine as _;
use std::borrow::Cow;

/// One parsed encoded word: charset, raw decoded bytes, and the length it spans.
struct Word<'a> {
    charset: &'a str,
    bytes: Vec<u8>,
    len: usize,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The longest encoded word read. RFC 2047 section 2 allows 75 characters; longer
/// ones occur in real mail and are read, up to the 998-character line limit of RFC
/// 5322 section 2.1.1 (a word holds no white space, so it cannot be folded).
const MAX_WORD: usize = 998;

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// What the search for one candidate word found in the value, kept for the
/// candidates after it: each `(from, at)` says the first white space (or `?=`) at
/// or after `from` is at `at`. Without them a value such as `(=?(=?(=?...` or
/// `(=?a?q?(=?a?q?...` was scanned to its end at every `=?`, quadratic in its length.
#[derive(Default)]
struct Marks {
    space: Option<(usize, usize)>,
    /// `usize::MAX` when there is no `?=` after `from`.
    end: Option<(usize, usize)>,
}

impl Marks {
    fn space(&mut self, v: &[u8], from: usize) -> usize {
        if let Some((f, at)) = self.space
            && f <= from
            && from <= at
        {
            return at;
        }
        let at = v[from..]
            .iter()
            .position(|&b| is_space(b))
            .map_or(v.len(), |p| from + p);
        self.space = Some((from, at));
        at
    }

    fn end(&mut self, v: &[u8], from: usize) -> Option<usize> {
        let at = match self.end {
            Some((f, at)) if f <= from && from <= at => at,
            _ => {
                // `?=` ends a word (a substring searcher costs more on such short text)
                let at = memchr::memchr_iter(b'?', &v[from..])
                    .find(|&k| v.get(from + k + 1) == Some(&b'='))
                    .map_or(usize::MAX, |k| from + k);
                self.end = Some((from, at));
                at
            }
        };
        (at != usize::MAX).then_some(at)
    }
}

/// Parses `=?charset[*lang]?B|Q?text?=` at `v[i..]` (RFC 2047 section 2; RFC 2231
/// section 5 language suffix). A word holds no white space, so nothing past the
/// first is looked at.
fn parse_word<'v>(v: &'v [u8], i: usize, marks: &mut Marks) -> Option<Word<'v>> {
    let limit = marks.space(v, i).min(i.saturating_add(MAX_WORD));
    let rest = v[i..limit].strip_prefix(b"=?")?;
    let q1 = memchr::memchr(b'?', rest)?;
    let cs = std::str::from_utf8(&rest[..q1]).ok()?;
    let charset = cs.split('*').next().unwrap_or(cs);
    if charset.is_empty() || charset.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return None;
    }
    let enc = *rest.get(q1 + 1)?;
    if rest.get(q1 + 2) != Some(&b'?') {
        return None;
    }
    let text_start = q1 + 3;
    let abs_text = i + 2 + text_start;
    if abs_text > limit {
        return None;
    }
    let end_at = marks.end(v, abs_text)?;
    if end_at + 2 > limit {
        return None;
    }
    let end = end_at - abs_text;
    let text = &rest[text_start..text_start + end];
    let bytes = match enc {
        b'B' | b'b' => {
            // RFC 2047 section 4.1: "identical to the "BASE64" encoding defined by
            // RFC 2045", so read as bodies are; a character outside the alphabet
            // makes the word incorrectly formed (section 6.3): left as text
            let mut d = crate::decode::Base64Decoder::new();
            let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
            d.decode(text, &mut out);
            if d.finish(&mut out)
                .contains(&crate::DefectKind::InvalidBase64Characters)
            {
                return None;
            }
            out
        }
        b'Q' | b'q' => {
            let mut out = Vec::with_capacity(text.len());
            let mut i = 0;
            while i < text.len() {
                match text[i] {
                    b'_' => out.push(b' '),
                    b'=' => {
                        if let (Some(h), Some(l)) = (
                            text.get(i + 1).copied().and_then(hex),
                            text.get(i + 2).copied().and_then(hex),
                        ) {
                            out.push(h << 4 | l);
                            i += 2;
                        } else {
                            out.push(b'=');
                        }
                    }
                    b => out.push(b),
                }
                i += 1;
            }
            out
        }
        _ => return None,
    };
    Some(Word {
        charset,
        bytes,
        len: 2 + text_start + end + 2,
    })
}

/// Decodes RFC 2047 encoded words in an unstructured value (Subject, Comments,
/// display names). Whitespace between adjacent encoded words is dropped (RFC 2047
/// section 6.2); adjacent words in the same charset are joined before decoding so a
/// character split across words survives. Line folding is removed first. Text
/// outside encoded words is taken as UTF-8 (RFC 6532), lossily.
///
/// A word must start a token (after white space, `(` or `"`, or at the start),
/// but text may follow it directly: `=?utf-8?q?caf=C3=A9?=!` decodes to `café!`.
/// RFC 2047 section 6.1 says such a run "should be treated as ordinary ASCII
/// text" (a SHOULD, and section 5 asks generators for the white space), but
/// mailers do write it, and Python's `email` and mail-parser both decode it: a
/// reader showing `=?utf-8?q?caf=C3=A9?=!` to a person would be the worse
/// choice for a display decoder. Nothing here is re-encoded from it, so the
/// leniency cannot smuggle anything into a message.
///
/// # Safe to write back
///
/// The decoded text of a word is arbitrary octets: `=0D=0A` in a Q word is a real
/// line break, `=00` a NUL. A caller that wrote such text back into a header field
/// (a reply's Subject, a forward, a log line) would write a header injection
/// (`=?utf-8?q?hi=0D=0ABcc:_victim@x?=`), and RFC 5322 section 2.2 allows CR and LF
/// in a field body only as folding. So this function, and every display helper
/// built on it ([`crate::Header::text`], [`crate::Part::subject`], display names,
/// parameter values written with encoded words), hands out the safe form: each CR
/// and LF becomes a space and each NUL becomes U+FFFD, wherever it came from.
/// [`decode_unstructured_raw`] keeps them. The other accessors that hand out a
/// field's text give the same safe form: the local part and domain of a
/// [`crate::Mailbox`] (a quoted local part or a domain literal may hold a NUL), [`crate::parse_msg_ids`] (so [`crate::Part::message_id`],
/// [`crate::Part::content_id`], [`crate::Part::in_reply_to`],
/// [`crate::Part::references`]), [`crate::Part::content_location`] and
/// [`crate::Part::content_language`]. Such bytes written raw in a field are
/// reported while parsing: [`crate::DefectKind::NulInHeaderField`],
/// [`crate::DefectKind::BareCarriageReturn`]. Other control characters are kept:
/// they end no line and no string.
///
/// ```
/// let s = mime::decode_unstructured(b"=?ISO-8859-1?Q?Andr=E9?= Pirard =?UTF-8?B?w6k=?=\r\n =?UTF-8?B?w6k=?=");
/// assert_eq!(s, "André Pirard éé");
/// assert_eq!(mime::decode_unstructured(b"Re: =?utf-8?q?caf=C3=A9?=!"), "Re: café!");
/// assert_eq!(mime::decode_unstructured(b"=?utf-8?q?hi=0D=0ABcc:_x@y=00?="), "hi  Bcc: x@y\u{fffd}");
/// ```
#[must_use]
pub fn decode_unstructured(value: &[u8]) -> String {
    match header_safe(Cow::Owned(decode_unstructured_raw(value))) {
        Cow::Owned(s) => s,
        Cow::Borrowed(s) => s.to_owned(),
    }
}

/// [`decode_unstructured`] without the safe form: CR, LF and NUL that encoded words
/// decode to are kept (the text outside words is unfolded, so any CR or LF in the
/// result came from a word). Never write this back into a header field.
///
/// ```
/// assert_eq!(mime::decode_unstructured_raw(b"=?utf-8?q?a=0D=0Ab?="), "a\r\nb");
/// ```
#[must_use]
pub fn decode_unstructured_raw(value: &[u8]) -> String {
    let value = crate::header::unfold(value);
    let value: &[u8] = &value;
    let mut out = String::with_capacity(value.len());
    let mut pending: Option<(&str, Vec<u8>)> = None;
    let mut marks = Marks::default();
    let mut lit_start = 0;
    let mut i = 0;
    let flush = |pending: &mut Option<(&str, Vec<u8>)>, out: &mut String| {
        if let Some((cs, bytes)) = pending.take() {
            out.push_str(&decode_charset(&bytes, cs).0);
        }
    };
    while i < value.len() {
        let at_token_start =
            i == 0 || matches!(value[i - 1], b' ' | b'\t' | b'(' | b'"') || pending.is_some();
        if value[i] == b'='
            && at_token_start
            && value.get(i + 1) == Some(&b'?')
            && let Some(w) = parse_word(value, i, &mut marks)
        {
            {
                let between = &value[lit_start..i];
                let only_ws = between.iter().all(|&b| b == b' ' || b == b'\t');
                if pending.is_some() && only_ws {
                    // drop whitespace between adjacent encoded words
                } else {
                    flush(&mut pending, &mut out);
                    out.push_str(&String::from_utf8_lossy(between));
                }
                match &mut pending {
                    Some((cs, bytes)) if cs.eq_ignore_ascii_case(w.charset) => {
                        bytes.extend_from_slice(&w.bytes);
                    }
                    _ => {
                        flush(&mut pending, &mut out);
                        pending = Some((w.charset, w.bytes));
                    }
                }
                i += w.len;
                lit_start = i;
                continue;
            }
        }
        if pending.is_some() && value[i] != b' ' && value[i] != b'\t' {
            flush(&mut pending, &mut out);
        }
        i += 1;
    }
    flush(&mut pending, &mut out);
    out.push_str(&String::from_utf8_lossy(&value[lit_start.min(value.len())..]));
    out
}

/// Whether `=?` occurs (cheaper than a substring searcher on short values).
pub(crate) fn has_word_start(v: &[u8]) -> bool {
    memchr::memchr_iter(b'=', v).any(|i| v.get(i + 1) == Some(&b'?'))
}

/// [`decode_unstructured`] that borrows when there is nothing to decode: no encoded
/// word, no folding, no NUL and valid UTF-8.
pub(crate) fn decode_unstructured_cow(value: &[u8]) -> Cow<'_, str> {
    // the common value, settled by one search and the UTF-8 check: no CR or LF
    // (nothing to unfold, nothing to make safe), no `=` (no encoded word), no NUL
    if memchr::memchr3(b'\r', b'\n', b'=', value).is_none()
        && memchr::memchr(0, value).is_none()
        && let Ok(s) = std::str::from_utf8(value)
    {
        return Cow::Borrowed(s);
    }
    decode_unstructured_cow_general(value)
}

/// [`decode_unstructured_cow`] for any value.
fn decode_unstructured_cow_general(value: &[u8]) -> Cow<'_, str> {
    match crate::header::unfold(value) {
        Cow::Borrowed(b) if !has_word_start(b) => header_safe(crate::charset::utf8_lossy(b)),
        Cow::Owned(v) if !has_word_start(&v) => header_safe(Cow::Owned(crate::charset::utf8_lossy_owned(v))),
        _ => Cow::Owned(decode_unstructured(value)),
    }
}

/// The safe form of decoded header text (see [`decode_unstructured`]): CR and LF
/// become spaces, NUL becomes U+FFFD. Borrows (and owns) as given when there is none.
pub(crate) fn header_safe(s: Cow<'_, str>) -> Cow<'_, str> {
    if memchr::memchr3(b'\r', b'\n', 0, s.as_bytes()).is_none() {
        return s;
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\r' | '\n' => ' ',
                '\0' => char::REPLACEMENT_CHARACTER,
                c => c,
            })
            .collect(),
    )
}

/// Encodes `text` as RFC 2047 B-encoded UTF-8 words, each at most 75 characters,
/// never splitting a character. Returns the words; the caller joins them with
/// folding whitespace.
#[must_use]
pub fn encode_words(text: &str) -> Vec<String> {
    const PREFIX: &str = "=?UTF-8?B?";
    // 75 - len("=?UTF-8?B?") - len("?=") = 63 base64 chars -> 45 bytes max (multiple of 3 is 45)
    const MAX_RAW: usize = 45;
    let mut words = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + MAX_RAW).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let chunk = &text.as_bytes()[start..end];
        words.push(format!(
            "{PREFIX}{}?=",
            base64::engine::general_purpose::STANDARD.encode(chunk)
        ));
        start = end;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PIECES: &[&[u8]] = &[
        b"plain text ",
        b"=",
        b"?",
        b"\r",
        b"\n",
        b"\r\n ",
        b"\0",
        b"caf\xc3\xa9",
        b"\xff",
        b"\xc3",
        b"=?utf-8?q?x_y?=",
        b"=?iso-8859-1?b?6Q==?=",
        b"\t",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn unstructured_cow_fast_path_agrees_with_the_general_one(
            parts in proptest::collection::vec(
                prop::sample::select(PIECES),
                0..8,
            ),
        ) {
            let v = parts.concat();
            prop_assert_eq!(decode_unstructured_cow(&v), decode_unstructured_cow_general(&v));
        }
    }

    #[test]
    fn rfc2047_section8_examples() {
        let cases: &[(&[u8], &str)] = &[
            (b"(=?ISO-8859-1?Q?a?=)", "(a)"),
            (b"(=?ISO-8859-1?Q?a?= b)", "(a b)"),
            (b"(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"),
            (b"(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"),
            (b"(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"),
            (b"(=?ISO-8859-1?Q?a_b?=)", "(a b)"),
            (b"(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"),
            (b"=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"),
            (b"=?ISO-8859-1?Q?Olle_J=E4rnefors?=", "Olle Järnefors"),
            (b"=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?=", "Patrik Fältström"),
            (
                b"If you can read this yo =?ISO-8859-1?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
                "If you can read this yo u understand the example.",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                decode_unstructured(input),
                *want,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn split_multibyte_and_language() {
        // "é" split over two words in the same charset; the truncated B unit `w6`
        // gives its one whole octet, as a base64 body would (RFC 2047 section 4.1)
        assert_eq!(decode_unstructured(b"=?UTF-8?B?w6?= =?UTF-8?Q?=A9?="), "é");
        assert_eq!(decode_unstructured(b"=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?="), "é");
        assert_eq!(
            decode_unstructured(b"=?US-ASCII*EN?Q?Keith_Moore?="),
            "Keith Moore"
        );
        assert_eq!(
            decode_unstructured(b"not=?UTF-8?Q?x?= here"),
            "not=?UTF-8?Q?x?= here"
        );
        assert_eq!(decode_unstructured(b"=?bogus"), "=?bogus");
    }

    #[test]
    fn encode_roundtrip() {
        let text = "Grüße aus Köln, ein ziemlich langer Betreff mit Umlauten äöü und €uro 日本語";
        let words = encode_words(text);
        assert!(words.iter().all(|w| w.len() <= 75));
        assert_eq!(decode_unstructured(words.join("\r\n ").as_bytes()), text);
    }
}
