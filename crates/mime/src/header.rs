//! Header fields: raw access, unfolding and the small tokenizer shared by the
//! structured-field parsers.

use std::borrow::Cow;
use std::ops::Range;

/// One header field as it appears in the input (values borrow from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// Field name as written (no trailing whitespace).
    pub name: &'a [u8],
    /// Raw value after the colon, folding kept, final line ending removed.
    pub value: &'a [u8],
    /// Byte range of the whole field in the input, final line ending included.
    pub range: Range<usize>,
}

impl Header<'_> {
    /// Name as text (field names are ASCII; anything else is replaced).
    #[must_use]
    pub fn name_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.name)
    }

    /// The value unfolded (RFC 5322 section 2.2.3) with surrounding whitespace trimmed.
    #[must_use]
    pub fn unfolded(&self) -> Cow<'_, [u8]> {
        match unfold(self.value) {
            Cow::Borrowed(b) => Cow::Borrowed(b.trim_ascii()),
            Cow::Owned(v) => Cow::Owned(v.trim_ascii().to_vec()),
        }
    }

    /// The value as an unstructured field: unfolded and RFC 2047 decoded. The white
    /// space around the value is dropped before decoding; white space inside an
    /// encoded word, or any other character, is text (RFC 2047 section 5) and kept,
    /// except that the text is handed out in the safe form of
    /// [`crate::decode_unstructured`]: no CR, LF or NUL.
    #[must_use]
    pub fn text(&self) -> String {
        crate::encoded_word::decode_unstructured_cow(self.value.trim_ascii()).into_owned()
    }
}

/// Removes folding: every CRLF (or bare LF) that is followed by a space or tab
/// (RFC 5322 section 2.2.3). Borrows when there is nothing to remove.
///
/// ```
/// assert_eq!(&*mime::unfold(b"a\r\n b\n\tc"), b"a b\tc");
/// ```
#[must_use]
pub fn unfold(value: &[u8]) -> Cow<'_, [u8]> {
    if !has_line_break(value) {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'\r' if value.get(i + 1) == Some(&b'\n') => i += 2,
            b'\n' | b'\r' => i += 1,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Whether a CR or LF occurs; a plain loop on short values, where setting up the
/// vector search costs more than it saves.
pub(crate) fn has_line_break(v: &[u8]) -> bool {
    if v.len() < 32 {
        v.iter().any(|&b| b == b'\r' || b == b'\n')
    } else {
        memchr::memchr2(b'\r', b'\n', v).is_some()
    }
}

/// Byte cursor over an unfolded structured value.
pub(crate) struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

pub(crate) const TSPECIALS: &[u8] = b"()<>@,;:\\\"/[]?=";

/// Which bytes may appear in an RFC 2045 token: printable ASCII except tspecials.
static TOKEN_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 33;
    while b < 127 {
        t[b] = true;
        b += 1;
    }
    let mut i = 0;
    while i < TSPECIALS.len() {
        t[TSPECIALS[i] as usize] = false;
        i += 1;
    }
    t
};

/// RFC 5322 atext (with RFC 6532 UTF-8 bytes): letters, digits, the specials
/// below and every byte from 0x80.
static ATEXT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b >= 0x80;
        b += 1;
    }
    let specials = b"!#$%&'*+-/=?^_`{|}~";
    let mut i = 0;
    while i < specials.len() {
        t[specials[i] as usize] = true;
        i += 1;
    }
    t
};

/// End of the RFC 2045 token starting at `i` (`i` when there is none).
pub(crate) fn token_end(v: &[u8], i: usize) -> usize {
    let rest = v.get(i..).unwrap_or_default();
    i + rest
        .iter()
        .position(|&b| !TOKEN_BYTE[usize::from(b)])
        .unwrap_or(rest.len())
}

/// Token bytes without the upper-case letters.
static LOWER_TOKEN_BYTE: [bool; 256] = {
    let mut t = TOKEN_BYTE;
    let mut b = b'A';
    while b <= b'Z' {
        t[b as usize] = false;
        b += 1;
    }
    t
};

/// Like [`token_end`], but the token also ends at an upper-case letter.
pub(crate) fn lower_token_end(v: &[u8], i: usize) -> usize {
    let rest = v.get(i..).unwrap_or_default();
    i + rest
        .iter()
        .position(|&b| !LOWER_TOKEN_BYTE[usize::from(b)])
        .unwrap_or(rest.len())
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a [u8]) -> Self {
        Cursor { s, i: 0 }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.i >= self.s.len()
    }
    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    pub(crate) fn bump(&mut self) {
        self.i += 1;
    }
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }
    /// Skips whitespace and comments; returns the text of the last comment seen
    /// (empty when there was none).
    pub(crate) fn skip_cfws_last_comment(&mut self) -> &'a [u8] {
        let mut last: &'a [u8] = &[];
        loop {
            self.skip_ws();
            if self.peek() != Some(b'(') {
                return last;
            }
            // comments nest (RFC 5322 3.2.2); a counter, not recursion
            let mut depth = 0usize;
            let start = self.i + 1;
            while let Some(b) = self.peek() {
                self.i += 1;
                match b {
                    b'\\' => self.i += 1,
                    b'(' => depth += 1,
                    b')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let end = self.i.min(self.s.len()).saturating_sub(1).max(start);
            last = &self.s[start.min(end)..end];
        }
    }
    pub(crate) fn skip_cfws(&mut self) {
        self.skip_cfws_last_comment();
    }
    /// RFC 2045 token (printable ASCII without tspecials).
    pub(crate) fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        while let Some(&b) = self.s.get(self.i) {
            if !TOKEN_BYTE[usize::from(b)] {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }
    /// Current position.
    pub(crate) fn pos(&self) -> usize {
        self.i
    }
    /// Moves back (or forward) to a position from [`Cursor::pos`].
    pub(crate) fn set_pos(&mut self, i: usize) {
        self.i = i;
    }
    /// Like [`Cursor::quoted_string`], but borrows the content when it has no
    /// backslash and no line break (the common case).
    pub(crate) fn quoted_cow(&mut self) -> Cow<'a, [u8]> {
        let start = self.i + 1;
        let mut j = start;
        while let Some(&b) = self.s.get(j) {
            match b {
                b'"' => {
                    self.i = j + 1;
                    return Cow::Borrowed(&self.s[start..j]);
                }
                b'\\' | b'\r' | b'\n' => return Cow::Owned(self.quoted_string()),
                _ => j += 1,
            }
        }
        // unterminated: runs to the end
        self.i = j;
        Cow::Borrowed(&self.s[start..])
    }
    /// A quoted string starting at the current `"`; returns the unescaped content.
    /// An unterminated string runs to the end.
    pub(crate) fn quoted_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.i += 1;
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b'\r' | b'\n' => {}
                _ => out.push(b),
            }
        }
        out
    }
    /// Raw bytes up to the next `;` (not consumed), trimmed.
    pub(crate) fn until_semicolon(&mut self) -> &'a [u8] {
        let start = self.i;
        let end = memchr::memchr(b';', &self.s[self.i..]).map_or(self.s.len(), |p| self.i + p);
        self.i = end;
        self.s[start..end].trim_ascii()
    }
    /// An unquoted parameter value: a token followed by comments, or (lenient) any
    /// bytes up to the next `;`.
    pub(crate) fn param_value(&mut self) -> &'a [u8] {
        let start = self.i;
        self.token();
        let end = self.i;
        self.skip_cfws();
        if self.is_empty() || self.peek() == Some(b';') {
            return &self.s[start..end];
        }
        self.i = start;
        self.until_semicolon()
    }
    pub(crate) fn skip_until(&mut self, b: u8) {
        self.i = memchr::memchr(b, &self.s[self.i.min(self.s.len())..]).map_or(self.s.len(), |p| self.i + p);
    }
    /// RFC 5322 atext run (with RFC 6532 UTF-8 bytes); dots allowed when `dots`.
    pub(crate) fn atom(&mut self, dots: bool) -> Option<&'a [u8]> {
        let start = self.i;
        while let Some(&b) = self.s.get(self.i) {
            if !(ATEXT[usize::from(b)] || (dots && b == b'.')) {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| &self.s[start..self.i])
    }
    /// `[...]` domain literal including the brackets.
    pub(crate) fn domain_literal(&mut self) -> &'a [u8] {
        let start = self.i;
        while let Some(b) = self.peek() {
            self.i += 1;
            if b == b'\\' {
                self.i += 1;
            } else if b == b']' {
                break;
            }
        }
        &self.s[start..self.i.min(self.s.len())]
    }
}

/// `b` as (lossy) UTF-8 in the safe form of [`crate::decode_unstructured`], no RFC
/// 2047 decoding: for structured values (ids, locations, tags, addresses).
pub(crate) fn safe_text(b: &[u8]) -> String {
    crate::encoded_word::header_safe(String::from_utf8_lossy(b)).into_owned()
}

/// Message identifiers from Message-ID, In-Reply-To, References and Content-ID
/// (RFC 5322 section 3.6.4), without the angle brackets. Lenient: comments and
/// phrases between ids (obsolete syntax) are skipped; a value without brackets is
/// taken whole. Empty brackets `<>` hold no id and are dropped. White space inside
/// brackets is dropped, and the ids are in the safe form of
/// [`crate::decode_unstructured`] (a NUL becomes U+FFFD).
///
/// ```
/// let ids = mime::parse_msg_ids(b" <1234@local.machine.example>\r\n <5678.21-Nov-1997@example.com> (note)");
/// assert_eq!(ids, ["1234@local.machine.example", "5678.21-Nov-1997@example.com"]);
/// // found by fuzzing: a form feed once stopped the scan from advancing
/// assert_eq!(mime::parse_msg_ids(b" text/\xffh/t\x0cl"), ["text/\u{FFFD}h/t\x0cl"]);
/// ```
#[must_use]
pub fn parse_msg_ids(value: &[u8]) -> Vec<String> {
    let value = unfold(value);
    let mut out = Vec::new();
    // once, not per token (that was quadratic in the number of tokens)
    let bracketed = memchr::memchr(b'<', &value).is_some();
    let mut c = Cursor::new(&value);
    loop {
        c.skip_cfws();
        match c.peek() {
            None => break,
            Some(b'<') => {
                c.bump();
                let start = c.i;
                c.skip_until(b'>');
                let id: Vec<u8> = value[start..c.i]
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                c.bump();
                // an id is never empty (`id-left "@" id-right`)
                if !id.is_empty() {
                    out.push(safe_text(&id));
                }
            }
            Some(b'"') => {
                c.quoted_string();
            }
            Some(_) => {
                let start = c.i;
                while let Some(b) = c.peek() {
                    if b == b'<' || b == b'(' || matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    c.bump();
                }
                if c.i == start {
                    // a byte that neither this loop nor skip_cfws consumes: step over
                    // it so that the loop always advances
                    c.bump();
                    continue;
                }
                if !bracketed {
                    out.push(safe_text(&value[start..c.i]));
                }
            }
        }
    }
    out
}
