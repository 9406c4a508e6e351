//! Private parsers for command lines and reply lines.
//!
//! They are small hand-written cursor parsers over one framed line rather than
//! nom combinators: the grammar of RFC 5321 4.1.2 is flat, every rule is a
//! run of one byte class, and a direct loop over the bytes lets the hot path
//! (MAIL/RCPT with parameters) run without any allocation or backtracking.
//! Each function names the ABNF rule it implements.

pub(crate) mod params;
pub(crate) mod path;

/// A cursor over one line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Cursor { input, pos: 0 }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `word` case-insensitively.
    pub(crate) fn eat_ci(&mut self, word: &[u8]) -> bool {
        match self.input.get(self.pos..self.pos + word.len()) {
            Some(s) if s.eq_ignore_ascii_case(word) => {
                self.pos += word.len();
                true
            }
            _ => false,
        }
    }

    /// Consumes the longest run of bytes matching `f`.
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !f(b) {
                break;
            }
            self.pos += 1;
        }
        &self.input[start..self.pos]
    }
}

/// Let-dig = ALPHA / DIGIT
pub(crate) fn is_let_dig(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Validates `Domain = sub-domain *("." sub-domain)`, with U-labels (UTF-8)
/// allowed when `utf8` (RFC 6531 3.3). Returns whether non-ASCII was seen.
pub(crate) fn check_domain(d: &[u8], utf8: bool) -> Result<bool, &'static str> {
    if d.is_empty() {
        return Err("empty domain");
    }
    let mut non_ascii = false;
    for label in d.split(|&b| b == b'.') {
        let (Some(&first), Some(&last)) = (label.first(), label.last()) else {
            return Err("empty domain label");
        };
        if first == b'-' || last == b'-' {
            return Err("domain label starts or ends with '-'");
        }
        for &b in label {
            if b >= 0x80 {
                if !utf8 {
                    return Err("non-ASCII domain");
                }
                non_ascii = true;
            } else if !(is_let_dig(b) || b == b'-') {
                return Err("bad character in domain");
            }
        }
    }
    if non_ascii && std::str::from_utf8(d).is_err() {
        return Err("invalid UTF-8 in domain");
    }
    Ok(non_ascii)
}

/// Parses a decimal number of at most 20 digits that fits a u64.
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}
