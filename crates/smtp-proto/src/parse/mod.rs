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
    #[inline(always)]
    pub(crate) fn eat_ci(&mut self, word: &[u8]) -> bool {
        match self.input.get(self.pos..self.pos + word.len()) {
            Some(s) if s.iter().zip(word).all(|(a, b)| a.eq_ignore_ascii_case(b)) => {
                self.pos += word.len();
                true
            }
            _ => false,
        }
    }

    /// Consumes the longest run of bytes matching `f`.
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().position(|&b| !f(b)).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }
}

/// Byte classes of the grammar, one table lookup per byte on the hot path.
pub(crate) mod class {
    /// Let-dig = ALPHA / DIGIT
    pub(crate) const LET_DIG: u8 = 1;
    /// Ldh-str bytes: Let-dig or "-" (also esmtp-keyword after its first byte).
    pub(crate) const LDH: u8 = 2;
    /// atext (RFC 5322 3.2.3), ASCII part.
    pub(crate) const ATEXT: u8 = 4;
    /// xchar of xtext (RFC 3461 4): 33-126 without "+" and "=".
    pub(crate) const XCHAR: u8 = 8;
    /// esmtp-value bytes: 33-60 / 62-126, and any non-ASCII (RFC 6531).
    pub(crate) const VALUE: u8 = 16;
    /// Non-ASCII: allowed in atext and domain labels with SMTPUTF8.
    pub(crate) const UTF8: u8 = 32;

    const fn build() -> [u8; 256] {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            let b = i as u8;
            let mut c = 0;
            if b.is_ascii_alphanumeric() {
                c |= LET_DIG | LDH | ATEXT;
            }
            if b == b'-' {
                c |= LDH;
            }
            if matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'/'
                    | b'='
                    | b'?'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
            ) {
                c |= ATEXT;
            }
            if b >= 33 && b <= 126 && b != b'+' && b != b'=' {
                c |= XCHAR;
            }
            if (b >= 33 && b <= 60) || (b >= 62 && b <= 126) || b >= 0x80 {
                c |= VALUE;
            }
            if b >= 0x80 {
                c |= UTF8;
            }
            t[i] = c;
            i += 1;
        }
        t
    }

    /// The class bits of every byte.
    pub(crate) static TABLE: [u8; 256] = build();

    /// True if `b` has any of the bits in `mask`.
    #[inline(always)]
    pub(crate) fn is(b: u8, mask: u8) -> bool {
        TABLE[b as usize] & mask != 0
    }

    /// True if every byte of `s` has one of the bits in `mask`.
    #[inline]
    pub(crate) fn all(s: &[u8], mask: u8) -> bool {
        s.iter().fold(true, |ok, &b| ok & (TABLE[b as usize] & mask != 0))
    }
}

/// Validates `Domain = sub-domain *("." sub-domain)`, with U-labels (UTF-8)
/// allowed when `utf8` (RFC 6531 3.3). Returns whether non-ASCII was seen.
pub(crate) fn check_domain(d: &[u8], utf8: bool) -> Result<bool, &'static str> {
    use class::{LDH, TABLE, UTF8};
    if d.is_empty() {
        return Err("empty domain");
    }
    // One pass: every byte is LDH, ".", or (with utf8) non-ASCII; labels are
    // non-empty and neither start nor end with "-".
    let mut seen = 0u8;
    let mut prev = b'.';
    for &b in d {
        let c = TABLE[b as usize];
        seen |= c;
        if b == b'.' {
            if prev == b'.' || prev == b'-' {
                return Err("empty domain label or label ending with '-'");
            }
        } else if c & (LDH | UTF8) == 0 {
            return Err("bad character in domain");
        } else if b == b'-' && prev == b'.' {
            return Err("domain label starts with '-'");
        }
        prev = b;
    }
    if prev == b'.' || prev == b'-' {
        return Err("domain ends with '.' or '-'");
    }
    let non_ascii = seen & UTF8 != 0;
    if non_ascii && (!utf8 || std::str::from_utf8(d).is_err()) {
        return Err("non-ASCII domain");
    }
    Ok(non_ascii)
}

/// Fast path of [`check_domain`] for the common case: the length of the
/// ASCII `Domain` at the start of `s`, ending at the end of `s` or at the first
/// `stop` byte, in one pass over the labels. `None` whenever the domain is not
/// plain valid ASCII up to there (the caller then takes the full path, which
/// gives the exact error or handles UTF-8).
#[inline]
pub(crate) fn scan_ascii_domain(s: &[u8], stop: u8) -> Option<usize> {
    use class::{LDH, LET_DIG, TABLE};
    let n = s.len();
    let mut i = 0;
    loop {
        // sub-domain = Let-dig [Ldh-str]: a run of LDH bytes starting and
        // ending with a Let-dig.
        if i >= n || TABLE[s[i] as usize] & LET_DIG == 0 {
            return None;
        }
        i += 1;
        while i < n && TABLE[s[i] as usize] & LDH != 0 {
            i += 1;
        }
        if s[i - 1] == b'-' {
            return None;
        }
        if i == n {
            return Some(i);
        }
        match s[i] {
            b'.' => i += 1,
            b if b == stop => return Some(i),
            _ => return None,
        }
    }
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
