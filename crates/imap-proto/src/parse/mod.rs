//! Private parsers. They run in complete mode on one framed unit, so "need
//! more data" never happens: running out of input is an error.
//!
//! These are hand-written recursive-descent parsers on a cursor rather than
//! nom combinators: every value is a zero-copy `Bytes` slice of the unit
//! (`Bytes::slice`), which needs the owning `Bytes` at hand, and the keyword
//! dispatch on a stack copy of the upper-cased token is several times faster
//! than trying alternatives one after another. Every recursive rule goes
//! through [`P::enter`], which enforces [`Limits::max_depth`](crate::Limits).
//!
//! Values kept in a larger structure (ENVELOPE fields and addresses,
//! BODYSTRUCTURE parts, LIST data, flags in a list) are read in place: the
//! parser pushes or boxes a blank value and fills it (`*_into` readers,
//! [`push_blank`], [`SmallBytes::set_slice_of`]) rather than returning each
//! value and moving it up. A move copies a few hundred bytes per part, and
//! copying a value just written piecewise is a load the processor cannot
//! forward from the stores: these stalls, which instruction counts do not
//! show, had been a third of the time on FETCH and LIST responses.

use bytes::Bytes;

use crate::error::ParseError;
use crate::framing::LiteralMode;
use crate::options::{Options, Version};
use crate::types::{
    Date, DateTime, Flag, FlagList, MONTHS, Mailbox, NStr, SeqNum, SeqRange, SeqSet, SmallBytes, Str, StrForm,
};

pub(crate) mod command;
pub(crate) mod response;

/// Where [`P::flag_list`] puts the flags it reads.
pub(crate) trait FlagSink: Default {
    /// Called once before the first flag of a list that is not empty.
    fn prepare(&mut self) {}
    /// Appends a placeholder and gives its place (see [`P::flag_into`]).
    fn push_slot(&mut self) -> &mut Flag;
}

impl FlagSink for Vec<Flag> {
    fn prepare(&mut self) {
        // The capacity a first push would give, without its slow path.
        self.reserve_exact(4);
    }
    fn push_slot(&mut self) -> &mut Flag {
        push_blank(self, Flag::Seen)
    }
}

impl FlagSink for FlagList {
    fn push_slot(&mut self) -> &mut Flag {
        FlagList::push_slot(self)
    }
}

const fn atom_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0x21;
    while c < 0x7f {
        t[c] = !matches!(c as u8, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']');
        c += 1;
    }
    t
}
const ATOM: [bool; 256] = atom_table();

/// RFC 2971 section 3.3: the longest ID field string.
pub(crate) const ID_MAX_FIELD: usize = 30;
/// RFC 2971 section 3.3: the longest ID value string.
pub(crate) const ID_MAX_VALUE: usize = 1024;
/// RFC 2971 section 3.3: the most field-value pairs in one ID list.
pub(crate) const ID_MAX_PAIRS: usize = 30;

const fn quoted_stop(eight_bit: bool) -> [bool; 256] {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t[0] = true;
    if !eight_bit {
        let mut c = 0x80;
        while c < 256 {
            t[c] = true;
            c += 1;
        }
    }
    t
}
/// Bytes that end a run of plain quoted-string content (7-bit mode).
const QUOTED_STOP_7: [bool; 256] = quoted_stop(false);
/// The same when 8-bit (UTF-8) content is allowed.
const QUOTED_STOP_8: [bool; 256] = quoted_stop(true);

/// The bytes of the little-endian word `x` that may end a run of plain
/// quoted-string content, as a mask of their high bits: `"`, `\\`, a
/// control character (CR, LF and NUL among them) or, unless `eight_bit`, a
/// byte over 0x7f. Above the first such byte the mask may also mark others
/// (a borrow carries), so only its lowest bit is exact: `trailing_zeros / 8`
/// is the first such byte's index.
#[inline(always)]
fn quoted_stops(x: u64, eight_bit: bool) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let control = x.wrapping_sub(LO * 0x20) & !x & HI;
    let quote = zero(x ^ (LO * u64::from(b'"')));
    let backslash = zero(x ^ (LO * u64::from(b'\\')));
    let high = if eight_bit { 0 } else { x & HI };
    control | quote | backslash | high
}

/// ATOM-CHAR.
#[inline]
pub(crate) fn is_atom_char(c: u8) -> bool {
    ATOM[c as usize]
}

/// RFC 4466 section 2.1: `tagged-label-char = tagged-label-fchar / DIGIT /
/// ":"`, `tagged-label-fchar = ALPHA / "-" / "_" / "."`.
#[inline]
fn is_label_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':')
}

/// RFC 4466 section 2.1: `tagged-ext-label = tagged-label-fchar
/// *tagged-label-char` (the names of extension items: ESEARCH return data,
/// RFC 4731 section 4 and RFC 9051 section 9 `search-modifier-name`).
pub(crate) fn is_tagged_ext_label(name: &[u8]) -> bool {
    match name.split_first() {
        Some((&f, rest)) => {
            (f.is_ascii_alphabetic() || matches!(f, b'-' | b'_' | b'.'))
                && rest.iter().all(|&c| is_label_char(c))
        }
        None => false,
    }
}

/// ASTRING-CHAR = ATOM-CHAR / resp-specials.
#[inline]
pub(crate) fn is_astring_char(c: u8) -> bool {
    ATOM[c as usize] || c == b']'
}

/// list-char = ATOM-CHAR / list-wildcards / resp-specials.
#[inline]
pub(crate) fn is_list_char(c: u8) -> bool {
    ATOM[c as usize] || matches!(c, b']' | b'%' | b'*')
}

/// A flag written with its backslash (a system flag or `"\" atom`), not a
/// keyword nor `\*`: what RFC 6154's `use-attr` (`"\All" / ... /
/// use-attr-ext`, `use-attr-ext = "\" atom`) and RFC 9051's mailbox
/// attributes (`mbx-list-oflag` / `mbx-list-sflag`, both `"\" ...`) are.
pub(crate) fn is_backslash_flag(f: &Flag) -> bool {
    !matches!(f, Flag::Keyword(_) | Flag::Wildcard)
}

/// Whether `name` (a mailbox attribute without its backslash) is a
/// selectability flag (RFC 3501 / RFC 9051 section 9: `mbx-list-sflag =
/// "\Noselect" / "\Marked" / "\Unmarked"`, with `"\NonExistent"` from
/// RFC 5258 section 6).
#[inline(always)]
pub(crate) fn is_sflag(name: &[u8]) -> bool {
    // By length first: most attributes (the \Has(No)Children of every
    // LIST line) are none of the four.
    match name.len() {
        6 => letters_eq_ci(name, b"marked"),
        8 => letters_eq_ci(name, b"noselect") || letters_eq_ci(name, b"unmarked"),
        11 => letters_eq_ci(name, b"nonexistent"),
        _ => false,
    }
}

/// `b` equals `k`, a lower-case ASCII word, ignoring case: setting bit 5
/// lower-cases a letter, and only the two cases of a letter become it, so
/// one OR and one compare per byte do, without branches.
#[inline(always)]
fn letters_eq_ci<const N: usize>(b: &[u8], k: &[u8; N]) -> bool {
    b.len() == N && b.iter().zip(k).fold(0, |d, (&c, &l)| d | ((c | 0x20) ^ l)) == 0
}

/// Why LIST/LSUB mailbox attributes are refused: one is no backslash
/// flag ([`is_backslash_flag`]), or more than one is a selectability flag
/// ([`is_sflag`]; `mbx-list-flags = *(mbx-list-oflag SP) mbx-list-sflag
/// *(SP mbx-list-oflag) / mbx-list-oflag *(SP mbx-list-oflag)`).
/// The reason of a unit nested deeper than [`Limits::max_depth`](crate::Limits::max_depth).
pub(crate) const TOO_DEEP: &str = "nesting too deep";
/// The reason of a unit whose lists hold more values than
/// [`Limits::max_items`](crate::Limits::max_items).
pub(crate) const TOO_MANY_ITEMS: &str = "more values than Limits::max_items";

/// Whether a failure is a bound of [`Limits`](crate::Limits), not the
/// grammar: no other reading of the unit is tried after it.
pub(crate) fn is_limit(reason: &str) -> bool {
    reason == TOO_DEEP || reason == TOO_MANY_ITEMS
}

pub(crate) const NOT_BACKSLASH_ATTR: &str = "a mailbox attribute starts with '\\'";
/// See [`NOT_BACKSLASH_ATTR`].
pub(crate) const TWO_SFLAGS: &str = "more than one of \\Noselect, \\Marked, \\Unmarked, \\NonExistent";

/// What is wrong with LIST/LSUB mailbox attributes, if anything (see
/// [`NOT_BACKSLASH_ATTR`]); the parser checks the same as it reads them.
pub(crate) fn mailbox_attrs_error(attrs: &[Flag]) -> Option<&'static str> {
    if !attrs.iter().all(is_backslash_flag) {
        return Some(NOT_BACKSLASH_ATTR);
    }
    let sflags = attrs
        .iter()
        .filter(|f| matches!(f, Flag::Extension(n) if is_sflag(n)))
        .count();
    (sflags > 1).then_some(TWO_SFLAGS)
}

/// Appends `blank` to `v` and gives its place, for a parser to fill it
/// where it stays (see [`P::nstring_into`]).
#[inline]
pub(crate) fn push_blank<T>(v: &mut Vec<T>, blank: T) -> &mut T {
    v.push(blank);
    let i = v.len() - 1;
    &mut v[i]
}

/// What [`P::astring_span`] saw: a quoted string's content `s..e` and
/// whether it holds escapes, an atom `s..e`, or the start of a literal.
enum AStringSpan {
    Quoted(usize, usize, bool),
    Atom(usize, usize),
    Literal,
}

/// A parse failure inside the cursor (turned into [`ParseError`] at the top).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PErr {
    pub(crate) reason: &'static str,
    pub(crate) pos: usize,
}

pub(crate) type R<T> = Result<T, PErr>;

/// The cursor over one unit.
pub(crate) struct P<'a> {
    src: &'a Bytes,
    pub(crate) b: &'a [u8],
    pub(crate) pos: usize,
    /// Where streamed literals' data was taken out, in increasing order.
    streamed: &'a [usize],
    /// The streamed literals whose data held a NUL and that are no
    /// literal8 (see [`Unit`](crate::Unit)).
    streamed_nul: &'a [usize],
    pub(crate) o: &'a Options,
    depth: usize,
    /// Values held in lists so far (see [`P::item`]).
    items: usize,
    /// Where the unit's final CRLF starts (after trailing spaces, under the
    /// quirk): parsing ends there.
    end: usize,
    /// Where the final CRLF starts, spaces included: a literal's data may end
    /// in spaces that the quirk's trim took for trailing ones.
    line_end: usize,
    /// Whether quoted strings may hold 8-bit bytes (UTF-8, or any under the
    /// quirk).
    eight_bit_quoted: bool,
    /// Whether a command is read (set by `command`): a non-synchronizing
    /// literal is then checked against the options; in a response it is
    /// refused.
    pub(crate) client: bool,
}

impl<'a> P<'a> {
    pub(crate) fn new(src: &'a Bytes, streamed: &'a [usize], o: &'a Options) -> Self {
        let b = &src[..];
        let line_end = if b.ends_with(b"\r\n") {
            b.len() - 2
        } else {
            b.len()
        };
        let mut end = line_end;
        if o.quirks.trailing_space {
            while end > 0 && b[end - 1] == b' ' && streamed.binary_search(&end).is_err() {
                end -= 1;
            }
        }
        P {
            src,
            b,
            pos: 0,
            streamed,
            streamed_nul: &[],
            o,
            depth: 0,
            items: 0,
            end,
            line_end,
            eight_bit_quoted: o.utf8() || o.quirks.eight_bit_quoted,
            client: false,
        }
    }

    pub(crate) fn to_error(&self, e: PErr, tag: Option<Bytes>) -> ParseError {
        let n = self.b.len().min(self.o.limits.error_snippet);
        ParseError {
            reason: e.reason,
            offset: e.pos,
            tag,
            input: self.src.slice(..n),
        }
    }

    #[inline]
    pub(crate) fn err<T>(&self, reason: &'static str) -> R<T> {
        Err(PErr {
            reason,
            pos: self.pos,
        })
    }

    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            Some(self.b[self.pos])
        } else {
            None
        }
    }

    #[inline(always)]
    pub(crate) fn peek_at(&self, k: usize) -> Option<u8> {
        let i = self.pos + k;
        if i < self.end { Some(self.b[i]) } else { None }
    }

    #[inline(always)]
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[inline(always)]
    pub(crate) fn expect(&mut self, c: u8, reason: &'static str) -> R<()> {
        if self.eat(c) { Ok(()) } else { self.err(reason) }
    }

    #[inline(always)]
    pub(crate) fn sp(&mut self) -> R<()> {
        self.expect(b' ', "expected a space")
    }

    #[inline]
    pub(crate) fn open(&mut self) -> R<()> {
        self.expect(b'(', "expected '('")
    }

    #[inline]
    pub(crate) fn close(&mut self) -> R<()> {
        self.expect(b')', "expected ')'")
    }

    /// The end of the unit.
    pub(crate) fn finish(&mut self) -> R<()> {
        if self.pos == self.end && self.b.len() >= self.end {
            Ok(())
        } else {
            self.err("unexpected data before the end of the line")
        }
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    pub(crate) fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > self.o.limits.max_depth {
            return self.err(TOO_DEEP);
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Counts one more value a list of the unit holds (an element of any
    /// `Vec` or [`FlagList`] the parse fills), refusing the unit past
    /// [`Limits::max_items`](crate::Limits::max_items). Called before each
    /// such value is read.
    #[inline(always)]
    pub(crate) fn item(&mut self) -> R<()> {
        self.items += 1;
        if self.items > self.o.limits.max_items {
            return self.err(TOO_MANY_ITEMS);
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn slice(&self, s: usize, e: usize) -> Bytes {
        self.src.slice(s..e)
    }

    /// The value at `s..e`: inline when short, else a slice (see
    /// [`SmallBytes`]).
    #[inline]
    pub(crate) fn small(&self, s: usize, e: usize) -> SmallBytes {
        SmallBytes::slice_of(self.src, s..e)
    }

    #[inline]
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> (usize, usize) {
        let s = self.pos;
        let rest = &self.b[s..self.end];
        let n = rest.iter().position(|&c| !f(c)).unwrap_or(rest.len());
        self.pos = s + n;
        (s, self.pos)
    }

    /// 1*ATOM-CHAR as `Bytes`.
    pub(crate) fn atom(&mut self) -> R<Bytes> {
        let (s, e) = self.take_while(is_atom_char);
        if s == e {
            return self.err("expected an atom");
        }
        Ok(self.slice(s, e))
    }

    /// A keyword token (letters, digits, `.`, `-`, `=`, `+`...: ATOM-CHAR
    /// without `[`), upper-cased into `buf`.
    #[inline]
    pub(crate) fn keyword<'k>(&mut self, buf: &'k mut [u8; 24]) -> R<&'k [u8]> {
        let (s, _) = self.take_while(|c| is_atom_char(c) && c != b'[');
        let n = self.pos - s;
        if n == 0 {
            return self.err("expected a keyword");
        }
        if n > buf.len() {
            return self.err("unknown keyword");
        }
        for (d, c) in buf.iter_mut().zip(&self.b[s..self.pos]) {
            *d = c.to_ascii_uppercase();
        }
        Ok(&buf[..n])
    }

    /// An extension label (RFC 4466 `tagged-ext-label`, see
    /// [`is_tagged_ext_label`]), of any length, as written.
    pub(crate) fn ext_label(&mut self) -> R<Bytes> {
        let (s, e) = self.take_while(is_label_char);
        if !is_tagged_ext_label(&self.b[s..e]) {
            self.pos = s;
            return self.err("expected an extension label (RFC 4466 tagged-ext-label)");
        }
        Ok(self.slice(s, e))
    }

    /// Consumes `kw` (case-insensitive) when it is next and is followed by
    /// a non-atom character.
    pub(crate) fn eat_kw(&mut self, kw: &[u8]) -> bool {
        let e = self.pos + kw.len();
        if e <= self.end
            && self.b[self.pos..e].eq_ignore_ascii_case(kw)
            && (e == self.end || !is_atom_char(self.b[e]))
        {
            self.pos = e;
            true
        } else {
            false
        }
    }

    pub(crate) fn number64(&mut self) -> R<u64> {
        let digits = &self.b[self.pos..self.end];
        let mut v: u64 = 0;
        let mut i = 0;
        while i < digits.len() {
            let d = digits[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if i >= 19 {
                // Only a 20th digit can overflow a u64.
                v = match v.checked_mul(10).and_then(|v| v.checked_add(u64::from(d))) {
                    Some(v) => v,
                    None => return self.err("number too large"),
                };
            } else {
                v = v * 10 + u64::from(d);
            }
            i += 1;
        }
        if i == 0 {
            return self.err("expected a number");
        }
        self.pos += i;
        Ok(v)
    }

    /// `*(SP nz-number)`: a tight loop for SEARCH/SORT results, which can
    /// hold many thousands of numbers. Stops before a space that is not
    /// followed by a digit other than 0.
    pub(crate) fn number_list(&mut self, out: &mut Vec<u32>) -> R<()> {
        let b = &self.b[..self.end];
        let mut i = self.pos;
        // What `Limits::max_items` leaves (see `item`), checked per number.
        let room = self.o.limits.max_items.saturating_sub(self.items);
        let before = out.len();
        // nz-number = digit-nz *DIGIT: a 0 first (0 itself, or a leading
        // zero) stops the list here, and the caller refuses it.
        while i + 1 < b.len() && b[i] == b' ' && matches!(b[i + 1], b'1'..=b'9') {
            i += 1;
            let start = i;
            let mut v: u64 = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                v = v * 10 + u64::from(b[i] - b'0');
                i += 1;
                if i - start > 10 {
                    self.pos = start;
                    return self.err("number too large");
                }
            }
            if out.len() - before >= room {
                self.pos = start;
                return self.err(TOO_MANY_ITEMS);
            }
            match u32::try_from(v) {
                Ok(n) if n > 0 => out.push(n),
                _ => {
                    self.pos = start;
                    return self.err("expected a non-zero 32-bit number");
                }
            }
        }
        self.pos = i;
        self.items += out.len() - before;
        Ok(())
    }

    /// number (32-bit).
    pub(crate) fn number(&mut self) -> R<u32> {
        let v = self.number64()?;
        u32::try_from(v).map_err(|_| PErr {
            reason: "number too large",
            pos: self.pos,
        })
    }

    /// nz-number.
    pub(crate) fn nz_number(&mut self) -> R<u32> {
        // nz-number = digit-nz *DIGIT: no leading zero (nor 0 itself).
        if self.peek() == Some(b'0') {
            return self.err("number must not be zero or start with 0");
        }
        let v = self.number()?;
        if v == 0 {
            return self.err("number must not be zero");
        }
        Ok(v)
    }

    /// number64 as RFC 9051 section 9 bounds it: "Unsigned 63-bit integer
    /// (0 <= n <= 9,223,372,036,854,775,807)".
    pub(crate) fn number63(&mut self) -> R<u64> {
        let v = self.number64()?;
        if v > i64::MAX as u64 {
            return self.err("number64 too large");
        }
        Ok(v)
    }

    /// A `number64` of RFC 9051 section 9 that RFC 3501 section 9 writes
    /// as `number` ("Unsigned 32-bit integer"): RFC822.SIZE, body-fld-lines,
    /// body extension numbers, BODY[]/BINARY[] `<origin>`, partial offsets,
    /// LARGER/SMALLER and BINARY.SIZE (RFC 3516 uses RFC 3501's `number`).
    /// Up to 2^63-1 under IMAP4rev2 (or [`Quirks::wide_rev1_numbers`]),
    /// 2^32-1 under IMAP4rev1.
    ///
    /// [`Quirks::wide_rev1_numbers`]: crate::Quirks::wide_rev1_numbers
    pub(crate) fn number64_rev2(&mut self) -> R<u64> {
        if self.wide_numbers() {
            self.number63()
        } else {
            self.number().map(u64::from)
        }
    }

    /// Whether the `number64` places of RFC 9051 are 63-bit: under
    /// IMAP4rev2, or under IMAP4rev1 with the quirk.
    fn wide_numbers(&self) -> bool {
        self.o.version == Version::Rev2 || self.o.quirks.wide_rev1_numbers
    }

    /// `nz-number64` under IMAP4rev2, `nz-number` under IMAP4rev1 (see
    /// [`P::number64_rev2`]): a partial fetch's length.
    pub(crate) fn nz_number64_rev2(&mut self) -> R<u64> {
        if self.wide_numbers() {
            self.nz_number63()
        } else {
            self.nz_number().map(u64::from)
        }
    }

    /// nz-number64 (RFC 9051 section 9): 1..=2^63-1.
    pub(crate) fn nz_number63(&mut self) -> R<u64> {
        // nz-number64 = digit-nz *DIGIT.
        if self.peek() == Some(b'0') {
            return self.err("number must not be zero or start with 0");
        }
        let v = self.number63()?;
        if v == 0 {
            return self.err("number must not be zero");
        }
        Ok(v)
    }

    /// mod-sequence-valzer (0..2^63).
    pub(crate) fn mod_seq(&mut self) -> R<u64> {
        let v = self.number64()?;
        if v > i64::MAX as u64 {
            return self.err("mod-sequence too large");
        }
        Ok(v)
    }

    /// mod-sequence-value (RFC 7162 section 7): "Positive unsigned 63-bit
    /// integer (1 <= n <= 9,223,372,036,854,775,807)"; `mod_seq` is the
    /// `mod-sequence-valzer` that also takes 0.
    pub(crate) fn nz_mod_seq(&mut self) -> R<u64> {
        let v = self.mod_seq()?;
        if v == 0 {
            return self.err("mod-sequence must not be zero");
        }
        Ok(v)
    }

    /// A quoted string, by value (a value to keep in a larger structure is
    /// better set in place: see [`P::nstring_into`]).
    #[inline(never)]
    pub(crate) fn quoted(&mut self) -> R<Str> {
        let (s, e, escaped) = self.quoted_span()?;
        Ok(self.quoted_value(s, e, escaped))
    }

    /// The content of a quoted string: where it starts and ends (within
    /// the quotes) and whether it holds escapes. Leaves the cursor after
    /// the closing quote.
    #[inline(never)]
    fn quoted_span(&mut self) -> R<(usize, usize, bool)> {
        self.expect(b'"', "expected '\"'")?;
        let s = self.pos;
        let eight_bit = self.eight_bit_quoted;
        let table = if eight_bit { &QUOTED_STOP_8 } else { &QUOTED_STOP_7 };
        let mut escaped = false;
        loop {
            // Skip plain bytes fast, eight at a time while no byte in the
            // word may stop us, then one by one up to the one that does.
            let (b, end) = (self.b, self.end);
            let mut i = self.pos;
            loop {
                if let Some(w) = b.get(i..i + 8).filter(|_| i + 8 <= end) {
                    let mut x = [0u8; 8];
                    x.copy_from_slice(w);
                    let m = quoted_stops(u64::from_le_bytes(x), eight_bit);
                    if m == 0 {
                        i += 8;
                        continue;
                    }
                    i += (m.trailing_zeros() / 8) as usize;
                } else {
                    while i < end && !table[usize::from(b[i])] {
                        i += 1;
                    }
                }
                // A control character other than CR, LF and NUL is content.
                if i < end && !table[usize::from(b[i])] {
                    i += 1;
                    continue;
                }
                break;
            }
            self.pos = i;
            let Some(c) = self.peek() else {
                return self.err("unterminated quoted string");
            };
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match self.peek_at(1) {
                        Some(b'"' | b'\\') => self.pos += 2,
                        _ => return self.err("bad escape in quoted string"),
                    }
                }
                0x80.. => return self.err("8-bit byte in a quoted string"),
                _ => return self.err("CR, LF or NUL in a quoted string"),
            }
        }
        let e = self.pos;
        // RFC 9051 section 9: 8-bit QUOTED-CHARs are UTF8-2 / UTF8-3 /
        // UTF8-4 only; other 8-bit bytes only under the quirk.
        if eight_bit && !self.o.quirks.eight_bit_quoted && std::str::from_utf8(&self.b[s..e]).is_err() {
            self.pos = s;
            return self.err("quoted string is not UTF-8");
        }
        self.pos += 1;
        Ok((s, e, escaped))
    }

    /// The content `s..e` of a quoted string with its escapes removed.
    #[cold]
    fn unescape(&self, s: usize, e: usize) -> SmallBytes {
        let mut v = Vec::with_capacity(e - s);
        let mut i = s;
        while i < e {
            if self.b[i] == b'\\' {
                i += 1;
            }
            v.push(self.b[i]);
            i += 1;
        }
        SmallBytes::from(v)
    }

    /// literal / literal8 (when `binary_ok`).
    pub(crate) fn literal(&mut self, binary_ok: bool) -> R<Str> {
        let binary = self.eat(b'~');
        if binary && !binary_ok {
            return self.err("literal8 not allowed here");
        }
        self.expect(b'{', "expected a literal")?;
        let len = self.number64()?;
        let at = self.pos;
        let mode = if self.eat(b'+') {
            LiteralMode::Plus
        } else {
            LiteralMode::Sync
        };
        self.expect(b'}', "expected '}'")?;
        if mode == LiteralMode::Plus {
            // RFC 9051 section 4.3: "The non-synchronizing literal form MUST
            // NOT be sent from server to client".
            if !self.client {
                self.pos = at;
                return self.err("non-synchronizing literal in a response");
            }
            if !self.o.nonsync_literal_ok(len) {
                self.pos = at;
                return self.err(
                    "non-synchronizing literal not in effect (LITERAL+, LITERAL-, IMAP4rev2 up to 4096)",
                );
            }
        }
        // The CRLF after the announcement is inside the unit, maybe past `end`.
        if self.b.get(self.pos..self.pos + 2) != Some(b"\r\n") {
            return self.err("expected CRLF after a literal announcement");
        }
        self.pos += 2;
        // The offsets grow as the framer found the literals: a binary
        // search, as a unit may hold very many (a scan was quadratic).
        if self.streamed.binary_search(&self.pos).is_ok() {
            // CHAR8 excludes NUL: only a literal8 may carry it, streamed
            // or not (RFC 9051 section 9, RFC 3516 section 7).
            if self.streamed_nul.binary_search(&self.pos).is_ok() {
                return self.err("NUL in a literal");
            }
            return Ok(Str {
                data: SmallBytes::default(),
                form: StrForm::Streamed { len, binary },
            });
        }
        let s = self.pos;
        let e = usize::try_from(len)
            .ok()
            .and_then(|l| s.checked_add(l))
            .filter(|&e| e <= self.b.len());
        let Some(e) = e else {
            return self.err("literal longer than the unit");
        };
        if !binary && memchr::memchr(0, &self.b[s..e]).is_some() {
            return self.err("NUL in a literal");
        }
        self.pos = e;
        if self.end < self.pos {
            if self.line_end < self.pos {
                // The literal ran into the final CRLF: the unit is malformed.
                return self.err("literal overruns the line");
            }
            // The trailing-space trim cut into this literal's data: only the
            // spaces after it are trailing ones.
            let mut end = self.line_end;
            while end > self.pos && self.b[end - 1] == b' ' {
                end -= 1;
            }
            self.end = end;
        }
        Ok(Str {
            data: self.small(s, e),
            form: StrForm::Literal { mode, binary },
        })
    }

    pub(crate) fn string(&mut self) -> R<Str> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(false),
            _ => self.err("expected a string"),
        }
    }

    /// string or literal8.
    pub(crate) fn string8(&mut self) -> R<Str> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{' | b'~') => self.literal(true),
            _ => self.err("expected a string"),
        }
    }

    /// `charset = atom / quoted` (RFC 9051 section 9, RFC 4466 section 3;
    /// RFC 5256 section 5 for SORT and THREAD): no literal, and an atom
    /// stops at `]`.
    pub(crate) fn charset(&mut self) -> R<Str> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let (s, e) = self.take_while(is_atom_char);
        if s == e {
            return self.err("expected a charset (atom or quoted string)");
        }
        Ok(Str {
            data: self.small(s, e),
            form: StrForm::Atom,
        })
    }

    pub(crate) fn astring(&mut self) -> R<Str> {
        Ok(match self.astring_span()? {
            AStringSpan::Quoted(s, e, escaped) => self.quoted_value(s, e, escaped),
            AStringSpan::Atom(s, e) => Str {
                data: self.small(s, e),
                form: StrForm::Atom,
            },
            AStringSpan::Literal => self.literal(false)?,
        })
    }

    /// [`P::astring`], set in place (as [`P::nstring_into`]).
    pub(crate) fn astring_into(&mut self, dst: &mut Str) -> R<()> {
        match self.astring_span()? {
            AStringSpan::Quoted(s, e, escaped) => self.set_quoted(dst, s, e, escaped),
            AStringSpan::Atom(s, e) => {
                dst.form = StrForm::Atom;
                dst.data.set_slice_of(self.src, s..e);
            }
            AStringSpan::Literal => *dst = self.literal(false)?,
        }
        Ok(())
    }

    /// The grammar of an astring, for [`P::astring`] and
    /// [`P::astring_into`] to build the value their way: a quoted string or
    /// an atom is read (the cursor after it), a literal is only seen.
    #[inline(always)]
    fn astring_span(&mut self) -> R<AStringSpan> {
        match self.peek() {
            Some(b'"') => {
                let (s, e, escaped) = self.quoted_span()?;
                Ok(AStringSpan::Quoted(s, e, escaped))
            }
            Some(b'{') => Ok(AStringSpan::Literal),
            _ => {
                let (s, e) = self.take_while(is_astring_char);
                if s == e {
                    return self.err("expected an astring");
                }
                Ok(AStringSpan::Atom(s, e))
            }
        }
    }

    #[inline(always)]
    pub(crate) fn is_nil(&self) -> bool {
        let e = self.pos + 3;
        // Setting bit 5 lower-cases a letter, and only `N`/`n`, `I`/`i` and
        // `L`/`l` become `n`, `i` and `l`.
        match self.b.get(self.pos..e) {
            Some(&[n, i, l]) if e <= self.end => {
                n | 0x20 == b'n'
                    && i | 0x20 == b'i'
                    && l | 0x20 == b'l'
                    && (e == self.end || !is_atom_char(self.b[e]))
            }
            _ => false,
        }
    }

    pub(crate) fn nstring(&mut self) -> R<NStr> {
        match self.peek() {
            Some(b'"') => self.quoted().map(Some),
            _ if self.is_nil() => {
                self.pos += 3;
                Ok(None)
            }
            _ => self.string().map(Some),
        }
    }

    /// [`P::nstring`], set in place: for a value kept in a larger
    /// structure, which is then written once, where it stays (see
    /// [`SmallBytes::set_slice_of`]).
    #[inline]
    pub(crate) fn nstring_into(&mut self, dst: &mut NStr) -> R<()> {
        match self.peek() {
            Some(b'"') => {
                let (s, e, escaped) = self.quoted_span()?;
                self.set_quoted(dst.get_or_insert_with(Str::default), s, e, escaped);
            }
            _ if self.is_nil() => {
                self.pos += 3;
                *dst = None;
            }
            _ => *dst = Some(self.string()?),
        }
        Ok(())
    }

    /// [`P::string`], set in place (as [`P::nstring_into`]).
    #[inline]
    pub(crate) fn string_into(&mut self, dst: &mut Str) -> R<()> {
        if self.peek() == Some(b'"') {
            let (s, e, escaped) = self.quoted_span()?;
            self.set_quoted(dst, s, e, escaped);
        } else {
            *dst = self.string()?;
        }
        Ok(())
    }

    /// The quoted string whose content is `s..e` (by value; see
    /// [`P::set_quoted`]).
    #[inline(always)]
    fn quoted_value(&self, s: usize, e: usize, escaped: bool) -> Str {
        Str {
            data: if escaped {
                self.unescape(s, e)
            } else {
                self.small(s, e)
            },
            form: StrForm::Quoted,
        }
    }

    /// Sets `dst` to the quoted string whose content is `s..e`.
    #[inline(always)]
    fn set_quoted(&self, dst: &mut Str, s: usize, e: usize, escaped: bool) {
        dst.form = StrForm::Quoted;
        if escaped {
            dst.data = self.unescape(s, e);
        } else {
            dst.data.set_slice_of(self.src, s..e);
        }
    }

    pub(crate) fn nstring8(&mut self) -> R<NStr> {
        if self.is_nil() {
            self.pos += 3;
            Ok(None)
        } else {
            self.string8().map(Some)
        }
    }

    pub(crate) fn mailbox(&mut self) -> R<Mailbox> {
        self.astring().map(Mailbox)
    }

    /// list-mailbox = 1*list-char / string.
    pub(crate) fn list_mailbox(&mut self) -> R<Str> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let (s, e) = self.take_while(is_list_char);
                if s == e {
                    return self.err("expected a mailbox pattern");
                }
                Ok(Str {
                    data: self.small(s, e),
                    form: StrForm::Atom,
                })
            }
        }
    }

    fn seq_num(&mut self) -> R<SeqNum> {
        if self.eat(b'*') {
            Ok(SeqNum::Star)
        } else {
            self.nz_number().map(SeqNum::Num)
        }
    }

    /// sequence-set / "$".
    pub(crate) fn seq_set(&mut self) -> R<SeqSet> {
        if self.eat(b'$') {
            return Ok(SeqSet::Saved);
        }
        let mut v = Vec::new();
        loop {
            let a = self.seq_num()?;
            let b = if self.eat(b':') { self.seq_num()? } else { a };
            self.item()?;
            v.push(SeqRange { start: a, end: b });
            if !self.eat(b',') {
                break;
            }
        }
        Ok(SeqSet::Ranges(v))
    }

    /// `uid-set = (uniqueid / uid-range) *("," uid-set)` with `uniqueid =
    /// nz-number` (RFC 4315 section 4, RFC 9051 section 9): the UIDs of
    /// APPENDUID and COPYUID, and the `known-uids` of VANISHED and of the
    /// QRESYNC select parameter (RFC 7162 section 7: "'*' is not allowed",
    /// also said of `seq-match-data`), which name real messages, so neither
    /// `*` nor `$` is allowed.
    pub(crate) fn uid_set(&mut self) -> R<SeqSet> {
        let mut v = Vec::new();
        loop {
            let a = SeqNum::Num(self.nz_number()?);
            let b = if self.eat(b':') {
                SeqNum::Num(self.nz_number()?)
            } else {
                a
            };
            self.item()?;
            v.push(SeqRange { start: a, end: b });
            if !self.eat(b',') {
                break;
            }
        }
        Ok(SeqSet::Ranges(v))
    }

    /// A flag (or a mailbox attribute); `\*` only when `perm`. Zero-copy.
    pub(crate) fn flag(&mut self, perm: bool) -> R<Flag> {
        let mut f = Flag::Seen;
        self.flag_into(perm, &mut f)?;
        Ok(f)
    }

    /// [`P::flag`], set in place (`dst` holds a flag without data): for a
    /// flag kept in a list, written once, where it stays (see
    /// [`SmallBytes::set_slice_of`]).
    pub(crate) fn flag_into(&mut self, perm: bool, dst: &mut Flag) -> R<()> {
        if self.eat(b'\\') {
            if perm && self.eat(b'*') {
                *dst = Flag::Wildcard;
                return Ok(());
            }
            let (s, e) = self.take_while(is_atom_char);
            if s == e {
                return self.err("expected a flag name");
            }
            let name = &self.b[s..e];
            // Dispatch on the length first: no table of `Flag` values to
            // build and drop per flag (mailbox attributes go through here too).
            let is = |k: &[u8]| name.eq_ignore_ascii_case(k);
            *dst = match name.len() {
                4 if is(b"Seen") => Flag::Seen,
                5 if is(b"Draft") => Flag::Draft,
                6 if is(b"Recent") => Flag::Recent,
                7 if is(b"Flagged") => Flag::Flagged,
                7 if is(b"Deleted") => Flag::Deleted,
                8 if is(b"Answered") => Flag::Answered,
                _ => {
                    *dst = Flag::Extension(SmallBytes::default());
                    if let Flag::Extension(v) = dst {
                        v.set_slice_of(self.src, s..e);
                    }
                    return Ok(());
                }
            };
            return Ok(());
        }
        let brackets = self.o.quirks.bracket_in_flags;
        let (s, e) = self.take_while(|c| is_atom_char(c) || (brackets && c == b']'));
        if s == e {
            return self.err("expected a flag");
        }
        *dst = Flag::Keyword(SmallBytes::default());
        if let Flag::Keyword(v) = dst {
            v.set_slice_of(self.src, s..e);
        }
        Ok(())
    }

    pub(crate) fn flag_list<L: FlagSink>(&mut self, perm: bool) -> R<L> {
        self.open()?;
        let mut v = L::default();
        if !self.eat(b')') {
            v.prepare();
            loop {
                self.item()?;
                self.flag_into(perm, v.push_slot())?;
                if self.eat(b')') {
                    break;
                }
                self.sp()?;
            }
        }
        Ok(v)
    }

    fn month(&mut self) -> R<u8> {
        let m = self
            .b
            .get(self.pos..self.pos + 3)
            .filter(|_| self.pos + 3 <= self.end);
        let Some(m) = m else {
            return self.err("expected a month");
        };
        let i = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m));
        match i {
            Some(i) => {
                self.pos += 3;
                Ok(i as u8 + 1)
            }
            None => self.err("expected a month"),
        }
    }

    fn digits(&mut self, n: usize) -> R<u32> {
        let mut v = 0;
        for _ in 0..n {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    v = v * 10 + u32::from(c - b'0');
                    self.pos += 1;
                }
                _ => return self.err("expected a digit"),
            }
        }
        Ok(v)
    }

    fn date_parts(&mut self, fixed_day: bool) -> R<Date> {
        let day = if fixed_day {
            if self.eat(b' ') {
                self.digits(1)?
            } else {
                self.digits(2)?
            }
        } else {
            let d = self.digits(1)?;
            match self.peek() {
                Some(c) if c.is_ascii_digit() => d * 10 + self.digits(1)?,
                _ => d,
            }
        };
        self.expect(b'-', "expected '-' in a date")?;
        let month = self.month()?;
        self.expect(b'-', "expected '-' in a date")?;
        let year = self.digits(4)?;
        if !(1..=31).contains(&day) {
            return self.err("bad day");
        }
        Ok(Date {
            year: year as u16,
            month,
            day: day as u8,
        })
    }

    /// date = date-text / DQUOTE date-text DQUOTE.
    pub(crate) fn date(&mut self) -> R<Date> {
        let q = self.eat(b'"');
        let d = self.date_parts(false)?;
        if q {
            self.expect(b'"', "expected '\"'")?;
        }
        Ok(d)
    }

    /// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE.
    pub(crate) fn date_time(&mut self) -> R<DateTime> {
        self.expect(b'"', "expected a date-time")?;
        let date = self.date_parts(true)?;
        self.sp()?;
        let hour = self.digits(2)?;
        self.expect(b':', "expected ':'")?;
        let minute = self.digits(2)?;
        self.expect(b':', "expected ':'")?;
        let second = self.digits(2)?;
        self.sp()?;
        let neg = match self.peek() {
            Some(b'+') => false,
            Some(b'-') => true,
            _ => return self.err("expected a zone"),
        };
        self.pos += 1;
        let z = self.digits(4)?;
        self.expect(b'"', "expected '\"'")?;
        if hour > 23 || minute > 59 || second > 60 || z % 100 > 59 {
            return self.err("bad time");
        }
        let z = z as i16;
        Ok(DateTime {
            date,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
            zone: if neg { -z } else { z },
        })
    }

    /// Text up to the end of the line (no CR/LF inside).
    pub(crate) fn text(&mut self) -> R<Bytes> {
        let s = self.pos;
        // TEXT-CHAR excludes CR and LF, and NUL is no CHAR (the encoder
        // refuses all three, so a parsed text always encodes back).
        if memchr::memchr3(b'\r', b'\n', 0, &self.b[s..self.end]).is_some() {
            return self.err("CR, LF or NUL in text");
        }
        self.text_chars(s, self.end)?;
        // resp-text is text up to CRLF, `{n}` at its end included (RFC 9051
        // section 9), and the framer reads most status lines so. Where it
        // would take that `{n}` for a literal (after an IMAP4rev1 BADCHARSET
        // code, or on a later line of the unit), the unit was not framed by it:
        // refused, as the encoder refuses to write it.
        let line_start = memchr::memrchr(b'\n', &self.b[..s]).map_or(0, |i| i + 1);
        let line = &self.b[line_start..self.line_end];
        if crate::framing::response_line_announces(line, line_start == 0, self.o.version).is_some() {
            return self.err("text ending in a literal announcement");
        }
        self.pos = self.end;
        Ok(self.slice(s, self.end))
    }

    /// Response text from `s` to `e` holds what the version allows
    /// ([`Options::text_chars_ok`]), or anything under
    /// [`Quirks::eight_bit_text`](crate::Quirks::eight_bit_text).
    pub(crate) fn text_chars(&mut self, s: usize, e: usize) -> R<()> {
        if !self.o.quirks.eight_bit_text && !self.o.text_chars_ok(&self.b[s..e]) {
            self.pos = s;
            return self.err("8-bit text (IMAP4rev1) or text that is not UTF-8");
        }
        Ok(())
    }

    /// A list `( item *(SP item) )`, possibly empty.
    pub(crate) fn paren_list<T>(&mut self, mut f: impl FnMut(&mut Self) -> R<T>) -> R<Vec<T>> {
        self.open()?;
        let mut v = Vec::new();
        if self.eat(b')') {
            return Ok(v);
        }
        // The capacity a first push would give, without its slow path.
        v.reserve_exact(4);
        loop {
            self.item()?;
            v.push(f(self)?);
            if self.eat(b')') {
                return Ok(v);
            }
            self.sp()?;
        }
    }

    /// A hierarchy delimiter: `DQUOTE QUOTED-CHAR DQUOTE / nil` (RFC 9051
    /// section 9). QUOTED-CHAR is a 7-bit TEXT-CHAR other than `"` and `\`,
    /// or one of those escaped; IMAP4rev2 and UTF8=ACCEPT (RFC 6855 section
    /// 3) add `UTF8-2 / UTF8-3 / UTF8-4`, one UTF-8 character, read where
    /// quoted strings take UTF-8 (or 8-bit bytes under
    /// [`Quirks::eight_bit_quoted`](crate::Quirks::eight_bit_quoted), which
    /// must still make one UTF-8 character here).
    pub(crate) fn delimiter(&mut self) -> R<Option<char>> {
        if self.is_nil() {
            self.pos += 3;
            return Ok(None);
        }
        let rest = &self.b[self.pos..self.end];
        let (c, n) = match rest {
            [b'"', b'\\', c @ (b'"' | b'\\'), b'"', ..] => (char::from(*c), 4),
            [b'"', c, b'"', ..] if !matches!(c, b'"' | b'\\' | b'\r' | b'\n' | 0) && *c < 0x80 => {
                (char::from(*c), 3)
            }
            [b'"', lead, ..] if *lead >= 0x80 && self.eight_bit_quoted => {
                // The length a UTF-8 lead byte gives; `from_utf8` checks
                // the rest (no surrogates, no overlong forms).
                let len = match lead {
                    0xc2..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf4 => 4,
                    _ => 0,
                };
                match rest.get(1..1 + len + 1) {
                    Some([char_bytes @ .., b'"']) if len > 0 => {
                        match std::str::from_utf8(char_bytes)
                            .ok()
                            .and_then(|s| s.chars().next())
                        {
                            Some(c) => (c, len + 2),
                            None => return self.err("expected a one-character delimiter or NIL"),
                        }
                    }
                    _ => return self.err("expected a one-character delimiter or NIL"),
                }
            }
            _ => return self.err("expected a one-character delimiter or NIL"),
        };
        self.pos += n;
        Ok(Some(c))
    }

    /// ID parameters: NIL / "(" [string SP nstring *(SP string SP nstring)] ")",
    /// within the bounds of RFC 2971 section 3.3: "Field strings MUST NOT be
    /// longer than 30 octets.  Value strings MUST NOT be longer than 1024
    /// octets.  Implementations MUST NOT send more than 30 field-value
    /// pairs." (so a peer cannot make us keep more).
    pub(crate) fn id_params(&mut self) -> R<Option<Vec<(Str, NStr)>>> {
        if self.is_nil() {
            self.pos += 3;
            return Ok(None);
        }
        let v = self.paren_list(|p| {
            let at = p.pos;
            let k = p.string()?;
            if k.content_len() > ID_MAX_FIELD as u64 {
                p.pos = at;
                return p.err("ID field longer than 30 octets");
            }
            p.sp()?;
            let at = p.pos;
            let v = p.nstring()?;
            if v.as_ref().is_some_and(|v| v.content_len() > ID_MAX_VALUE as u64) {
                p.pos = at;
                return p.err("ID value longer than 1024 octets");
            }
            Ok((k, v))
        })?;
        if v.len() > ID_MAX_PAIRS {
            return self.err("more than 30 ID field-value pairs");
        }
        Ok(Some(v))
    }

    /// Section part numbers `1.2.3` followed by `]` or `.`; stops before a
    /// `.` that is followed by a letter.
    pub(crate) fn part_numbers(&mut self) -> R<Vec<u32>> {
        let mut v = Vec::new();
        while matches!(self.peek(), Some(b'1'..=b'9')) {
            self.item()?;
            v.push(self.nz_number()?);
            if self.peek() == Some(b'.') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(v)
    }

    /// section = "[" [section-spec] "]".
    pub(crate) fn section(&mut self) -> R<crate::command::Section> {
        use crate::command::{Section, SectionText};
        self.expect(b'[', "expected '['")?;
        let part = self.part_numbers()?;
        let mut text = None;
        if self.peek() != Some(b']') {
            if !part.is_empty() {
                self.expect(b'.', "expected '.'")?;
            }
            let mut kb = [0u8; 24];
            let kw = self.keyword(&mut kb)?;
            let t = match kw {
                b"HEADER" => SectionText::Header,
                b"TEXT" => SectionText::Text,
                b"MIME" if !part.is_empty() => SectionText::Mime,
                b"HEADER.FIELDS" | b"HEADER.FIELDS.NOT" => {
                    let not = kw.len() > 13;
                    self.sp()?;
                    let names = self.paren_list(Self::astring)?;
                    if names.is_empty() {
                        return self.err("empty header list");
                    }
                    if not {
                        SectionText::HeaderFieldsNot(names)
                    } else {
                        SectionText::HeaderFields(names)
                    }
                }
                _ => return self.err("bad section text"),
            };
            text = Some(t);
        }
        self.expect(b']', "expected ']'")?;
        Ok(Section { part, text })
    }

    /// section-binary = "[" [section-part] "]".
    pub(crate) fn section_binary(&mut self) -> R<Vec<u32>> {
        self.expect(b'[', "expected '['")?;
        let v = self.part_numbers()?;
        self.expect(b']', "expected ']'")?;
        Ok(v)
    }
}

/// Parses `unit` with `f`, turning errors into [`ParseError`].
pub(crate) fn run<T>(
    unit: &Bytes,
    streamed: &[usize],
    streamed_nul: &[usize],
    o: &Options,
    f: impl FnOnce(&mut P<'_>) -> R<T>,
    tag_of: impl Fn(&Bytes) -> Option<Bytes>,
) -> Result<T, ParseError> {
    let mut p = P::new(unit, streamed, o);
    p.streamed_nul = streamed_nul;
    if !unit.ends_with(b"\r\n") {
        let e = PErr {
            reason: "unit does not end with CRLF",
            pos: unit.len(),
        };
        return Err(p.to_error(e, tag_of(unit)));
    }
    match f(&mut p).and_then(|v| p.finish().map(|()| v)) {
        Ok(v) => Ok(v),
        Err(e) => Err(p.to_error(e, tag_of(unit))),
    }
}

/// `initial-resp = (base64 / "=")` of AUTHENTICATE (RFC 9051 section 9,
/// RFC 4959 section 7) with `base64 = *(4base64-char) [base64-terminal]`:
/// whole groups of four, `=` padding only at the very end, and `=` alone
/// for an empty response. Empty input is no initial response.
pub(crate) fn is_initial_response(b: &[u8]) -> bool {
    if b == b"=" {
        return true;
    }
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// Where to cut the first bytes of a command so they keep no credentials:
/// after the command name of LOGIN and AUTHENTICATE, whose arguments are a
/// password or SASL data (`Sensitive` once parsed). `None`: keep them all.
///
/// The name is looked for in the first two words (split on spaces and
/// tabs), whatever the tag looks like: the snippet is kept for a command
/// that failed to parse, and a LOGIN with no tag, an invalid one, or two
/// spaces after it fails exactly so.
pub(crate) fn credentials_at(b: &[u8]) -> Option<usize> {
    let sep = |c: u8| c == b' ' || c == b'\t';
    let mut i = 0;
    for _ in 0..2 {
        i += b[i..].iter().take_while(|&&c| sep(c)).count();
        let len = b[i..].iter().take_while(|&&c| is_atom_char(c)).count();
        let name = &b[i..i + len];
        if name.eq_ignore_ascii_case(b"LOGIN") || name.eq_ignore_ascii_case(b"AUTHENTICATE") {
            return Some(i + len);
        }
        i += b[i..]
            .iter()
            .take_while(|&&c| !sep(c) && c != b'\r' && c != b'\n')
            .count();
    }
    None
}

/// A command's parse error without credentials in its snippet.
pub(crate) fn redact_command(mut e: ParseError) -> ParseError {
    if let Some(n) = credentials_at(&e.input) {
        e.input.truncate(n);
    }
    e
}

/// The length of the tag at the start of `b`, if it has a valid one
/// followed by a space.
pub(crate) fn tag_len(b: &[u8]) -> Option<usize> {
    let n = b.iter().take_while(|&&c| is_astring_char(c) && c != b'+').count();
    (n > 0 && b.get(n) == Some(&b' ')).then_some(n)
}

/// The tag at the start of a unit, if it has a valid one.
pub(crate) fn leading_tag(unit: &Bytes) -> Option<Bytes> {
    tag_len(unit).map(|n| unit.slice(..n))
}
