//! Value types shared by commands and responses: strings, tags, sequence
//! sets, flags, mailbox names, dates, capabilities.

use bytes::Bytes;
use std::fmt;

use crate::framing::LiteralMode;

pub use proto_core::SmallBytes;

/// How a string appeared on the wire, or how it should be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StrForm {
    /// Let the encoder pick the cheapest safe form (atom, quoted, literal).
    #[default]
    Auto,
    /// A bare atom (only where the grammar allows an astring).
    Atom,
    /// A quoted string.
    Quoted,
    /// A literal (`{n}`, `{n+}` or, with `binary`, `~{n}` / `~{n+}`).
    Literal {
        /// How it was announced.
        mode: LiteralMode,
        /// `~{n}` literal8.
        binary: bool,
    },
    /// A literal whose data was streamed by the framer and is not in
    /// [`Str::data`] (which is empty).
    Streamed {
        /// The announced length.
        len: u64,
        /// `~{n}` literal8.
        binary: bool,
    },
}

/// An IMAP string (atom, quoted or literal): raw bytes, 8-bit lossless, with
/// the form it had on the wire. Equality and hashing look at the bytes only;
/// the form says whether it was `""` or `{0}` (RFC 9051 4.3) when that
/// matters. NIL is `Option::<Str>::None` (see [`NStr`]).
#[derive(Clone, Default)]
pub struct Str {
    /// The string's content (unescaped): inline when short, else a
    /// zero-copy slice of the unit (see [`SmallBytes`]).
    pub data: SmallBytes,
    /// The wire form.
    pub form: StrForm,
}

/// An `nstring`: `None` is NIL.
pub type NStr = Option<Str>;

impl Str {
    /// A string the encoder sends in the cheapest safe form.
    pub fn new(data: impl Into<Bytes>) -> Self {
        Str {
            data: SmallBytes::from(data.into()),
            form: StrForm::Auto,
        }
    }

    /// A string from a static byte string.
    #[must_use]
    pub const fn from_static(data: &'static [u8]) -> Self {
        Str {
            data: SmallBytes::from_static(data),
            form: StrForm::Auto,
        }
    }

    /// The same string, sent in `form`.
    #[must_use]
    pub fn with_form(mut self, form: StrForm) -> Self {
        self.form = form;
        self
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The content as UTF-8, if it is.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }

    /// The length of the content: the announced one for a streamed
    /// literal, whose data is not in [`Str::data`]. Bounds on a string's
    /// length (RFC 2971's on ID fields and values) are checked on it.
    pub(crate) fn content_len(&self) -> u64 {
        match self.form {
            StrForm::Streamed { len, .. } => len,
            _ => self.data.len() as u64,
        }
    }

    /// Whether this was a literal whose data the framer streamed.
    #[must_use]
    pub fn is_streamed(&self) -> bool {
        matches!(self.form, StrForm::Streamed { .. })
    }
}

/// Equal content: the same bytes, or for streamed literals (whose bytes are
/// not held) the same announced length. The wire form is not compared
/// otherwise.
impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
            && self.is_streamed() == other.is_streamed()
            && self.content_len() == other.content_len()
    }
}
impl Eq for Str {}
impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.data.hash(state);
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.form {
            StrForm::Streamed { len, .. } => write!(f, "Str(<streamed {len} bytes>)"),
            _ => write!(f, "Str({:?})", self.data),
        }
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}
impl From<&[u8]> for Str {
    fn from(s: &[u8]) -> Self {
        Str::new(Bytes::copy_from_slice(s))
    }
}
impl From<Bytes> for Str {
    fn from(s: Bytes) -> Self {
        Str::new(s)
    }
}

/// A value whose `Debug` output is redacted (passwords, SASL data).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Sensitive<T>(pub T);

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A command tag (1*<any ASTRING-CHAR except "+">).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Tag(pub Bytes);

impl Tag {
    /// A tag from text; `None` when it is not a valid tag.
    #[must_use]
    pub fn new(s: &str) -> Option<Tag> {
        let b = s.as_bytes();
        (!b.is_empty() && b.iter().all(|&c| crate::parse::is_astring_char(c) && c != b'+'))
            .then(|| Tag(Bytes::copy_from_slice(b)))
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:?})", self.0)
    }
}

/// One end of a sequence range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqNum {
    /// A message sequence number or UID (non-zero).
    Num(u32),
    /// `*`: the largest number in use.
    Star,
}

/// `a`, `a:b` (RFC 9051 9: the order of `a` and `b` does not matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqRange {
    /// First end.
    pub start: SeqNum,
    /// Second end (equal to `start` for a single number).
    pub end: SeqNum,
}

impl SeqRange {
    /// A single number.
    #[must_use]
    pub fn single(n: SeqNum) -> Self {
        SeqRange { start: n, end: n }
    }
}

/// A sequence set, or `$` (the saved search result, RFC 5182).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SeqSet {
    /// `$`.
    Saved,
    /// Ranges, in wire order (never empty when valid).
    Ranges(Vec<SeqRange>),
}

impl SeqSet {
    /// A set of one number.
    #[must_use]
    pub fn single(n: u32) -> Self {
        SeqSet::Ranges(vec![SeqRange::single(SeqNum::Num(n))])
    }

    /// A set of one range `a:b`.
    #[must_use]
    pub fn range(a: SeqNum, b: SeqNum) -> Self {
        SeqSet::Ranges(vec![SeqRange { start: a, end: b }])
    }
}

/// A message flag, or a mailbox attribute of LIST (both are `\Name` or an
/// atom on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Flag {
    /// `\Answered`.
    Answered,
    /// `\Flagged`.
    Flagged,
    /// `\Deleted`.
    Deleted,
    /// `\Seen`.
    Seen,
    /// `\Draft`.
    Draft,
    /// `\Recent` (IMAP4rev1 only).
    Recent,
    /// `\*` in PERMANENTFLAGS: new keywords may be created.
    Wildcard,
    /// Any other `\Name` (the name without the backslash), e.g. mailbox
    /// attributes (`\Noselect`, `\HasChildren`) and special-use (`\Drafts`).
    Extension(SmallBytes),
    /// A keyword (`$Forwarded`, `NonJunk`).
    Keyword(SmallBytes),
}

impl Flag {
    /// A flag from its wire text (`\Seen`, `$Junk`).
    #[must_use]
    pub fn parse_name(b: &[u8]) -> Flag {
        if let Some(name) = b.strip_prefix(b"\\") {
            let known = [
                (&b"Answered"[..], Flag::Answered),
                (b"Flagged", Flag::Flagged),
                (b"Deleted", Flag::Deleted),
                (b"Seen", Flag::Seen),
                (b"Draft", Flag::Draft),
                (b"Recent", Flag::Recent),
                (b"*", Flag::Wildcard),
            ];
            for (k, f) in known {
                if name.eq_ignore_ascii_case(k) {
                    return f;
                }
            }
            Flag::Extension(SmallBytes::new(name))
        } else {
            Flag::Keyword(SmallBytes::new(b))
        }
    }

    /// The wire text without a backslash for system flags, or `None`
    /// for keywords (the inverse of [`Flag::parse_name`] after the backslash).
    #[must_use]
    pub fn system_name(&self) -> Option<&[u8]> {
        Some(match self {
            Flag::Answered => b"Answered",
            Flag::Flagged => b"Flagged",
            Flag::Deleted => b"Deleted",
            Flag::Seen => b"Seen",
            Flag::Draft => b"Draft",
            Flag::Recent => b"Recent",
            Flag::Wildcard => b"*",
            Flag::Extension(b) => b,
            Flag::Keyword(_) => return None,
        })
    }
}

/// How many flags a [`FlagList`] keeps inline.
const INLINE_FLAGS: usize = 2;

/// A list of flags: up to two held inline, more in a `Vec`.
///
/// The mailbox attributes of a LIST or LSUB response are one or two flags
/// on almost every line (`\HasNoChildren`, a special-use attribute); held
/// inline they cost no allocation, which was a tenth of the time spent on a
/// LIST line. It derefs to `[Flag]`, compares, hashes and prints as that
/// slice (`Debug` like a `Vec`), and converts from and into `Vec<Flag>`.
#[derive(Clone)]
pub struct FlagList(FlagRepr);

#[derive(Clone)]
enum FlagRepr {
    /// `flags[..len]`; the rest are placeholders, never read.
    Inline {
        len: u8,
        flags: [Flag; INLINE_FLAGS],
    },
    Heap(Vec<Flag>),
}

impl FlagList {
    /// An empty list.
    #[must_use]
    pub const fn new() -> Self {
        FlagList(FlagRepr::Inline {
            len: 0,
            flags: [Flag::Seen, Flag::Seen],
        })
    }

    /// Appends `f`.
    #[inline]
    pub fn push(&mut self, f: Flag) {
        if let FlagRepr::Inline { len, flags } = &mut self.0
            && let Some(slot) = flags.get_mut(usize::from(*len))
        {
            // Drops a placeholder: a variant without data.
            *slot = f;
            *len += 1;
            return;
        }
        self.push_spilled(f);
    }

    /// Appends a placeholder and gives its place, for a parser to set the
    /// flag where it stays (see `SmallBytes::set_slice_of`).
    #[inline]
    pub(crate) fn push_slot(&mut self) -> &mut Flag {
        if matches!(&self.0, FlagRepr::Inline { len, .. } if usize::from(*len) == INLINE_FLAGS) {
            self.spill();
        }
        match &mut self.0 {
            FlagRepr::Inline { len, flags } => {
                let i = usize::from(*len);
                *len += 1;
                // Slots past the length hold placeholders already.
                &mut flags[i]
            }
            FlagRepr::Heap(v) => {
                v.push(Flag::Seen);
                let i = v.len() - 1;
                &mut v[i]
            }
        }
    }

    /// [`FlagList::push`] when the inline room is full or already left.
    #[cold]
    fn push_spilled(&mut self, f: Flag) {
        self.spill();
        if let FlagRepr::Heap(v) = &mut self.0 {
            v.push(f);
        }
    }

    /// Moves inline flags to the heap (when they are inline).
    #[cold]
    fn spill(&mut self) {
        if let FlagRepr::Inline { len, flags } = &mut self.0 {
            let mut v = Vec::with_capacity(2 * INLINE_FLAGS);
            v.extend(
                flags
                    .iter_mut()
                    .take(usize::from(*len))
                    .map(|x| std::mem::replace(x, Flag::Seen)),
            );
            self.0 = FlagRepr::Heap(v);
        }
    }

    /// The flags.
    #[must_use]
    #[inline]
    pub fn as_slice(&self) -> &[Flag] {
        match &self.0 {
            FlagRepr::Inline { len, flags } => &flags[..usize::from(*len)],
            FlagRepr::Heap(v) => v,
        }
    }

    /// The flags as a `Vec`.
    #[must_use]
    pub fn into_vec(self) -> Vec<Flag> {
        match self.0 {
            FlagRepr::Inline { len, flags } => flags.into_iter().take(usize::from(len)).collect(),
            FlagRepr::Heap(v) => v,
        }
    }
}

impl Default for FlagList {
    fn default() -> Self {
        FlagList::new()
    }
}

impl std::ops::Deref for FlagList {
    type Target = [Flag];
    #[inline]
    fn deref(&self) -> &[Flag] {
        self.as_slice()
    }
}

impl AsRef<[Flag]> for FlagList {
    fn as_ref(&self) -> &[Flag] {
        self.as_slice()
    }
}

impl From<Vec<Flag>> for FlagList {
    fn from(v: Vec<Flag>) -> Self {
        if v.len() <= INLINE_FLAGS {
            v.into_iter().collect()
        } else {
            FlagList(FlagRepr::Heap(v))
        }
    }
}

impl From<FlagList> for Vec<Flag> {
    fn from(l: FlagList) -> Self {
        l.into_vec()
    }
}

impl FromIterator<Flag> for FlagList {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Self {
        let mut l = FlagList::new();
        for f in iter {
            l.push(f);
        }
        l
    }
}

impl<'a> IntoIterator for &'a FlagList {
    type Item = &'a Flag;
    type IntoIter = std::slice::Iter<'a, Flag>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl PartialEq for FlagList {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for FlagList {}

impl PartialEq<Vec<Flag>> for FlagList {
    fn eq(&self, other: &Vec<Flag>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<[Flag]> for FlagList {
    fn eq(&self, other: &[Flag]) -> bool {
        self.as_slice() == other
    }
}

impl std::hash::Hash for FlagList {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for FlagList {
    /// As a `Vec<Flag>` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A mailbox name as sent on the wire (modified UTF-7 in IMAP4rev1, UTF-8
/// under IMAP4rev2 or UTF8=ACCEPT). `INBOX` is case-insensitive: equality
/// and hashing treat every spelling of it as one name (RFC 9051 section
/// 5.1: "The case-insensitive mailbox name INBOX is a special name"); other
/// names compare by their bytes.
#[derive(Debug, Clone)]
pub struct Mailbox(pub Str);

impl PartialEq for Mailbox {
    fn eq(&self, other: &Self) -> bool {
        if self.is_inbox() {
            other.is_inbox()
        } else {
            self.0 == other.0
        }
    }
}
impl Eq for Mailbox {}
impl std::hash::Hash for Mailbox {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        if self.is_inbox() {
            b"INBOX".hash(state);
        } else {
            self.0.hash(state);
        }
    }
}

impl Mailbox {
    /// The wire name for the Unicode name `name`: UTF-8 as is when `utf8`
    /// is in effect, modified UTF-7 otherwise.
    #[must_use]
    pub fn from_unicode(name: &str, utf8: bool) -> Mailbox {
        if utf8 {
            Mailbox(Str::from(name))
        } else {
            Mailbox(Str::new(crate::mutf7::encode(name)))
        }
    }

    /// The Unicode name: the wire bytes as UTF-8 when `utf8` is in effect,
    /// decoded from modified UTF-7 otherwise.
    ///
    /// # Errors
    ///
    /// The bytes are not valid in that encoding.
    pub fn to_unicode(&self, utf8: bool) -> Result<String, crate::mutf7::Mutf7Error> {
        if utf8 {
            String::from_utf8(self.0.data.to_vec()).map_err(|_| crate::mutf7::Mutf7Error { offset: 0 })
        } else {
            crate::mutf7::decode(&self.0.data)
        }
    }

    /// Whether this is INBOX (any case).
    #[must_use]
    pub fn is_inbox(&self) -> bool {
        self.0.data.eq_ignore_ascii_case(b"INBOX")
    }

    /// The raw wire bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.data
    }
}

impl From<&str> for Mailbox {
    /// A raw wire name (no encoding applied).
    fn from(s: &str) -> Self {
        Mailbox(Str::from(s))
    }
}

/// A date (`date` of SEARCH: `1-Feb-1994`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Date {
    /// Year (4 digits).
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31.
    pub day: u8,
}

/// A date and time (`date-time` of APPEND and INTERNALDATE:
/// `17-Jul-1996 02:44:25 -0700`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    /// The date.
    pub date: Date,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=60.
    pub second: u8,
    /// Zone as signed `hhmm` (`-0700` is -700).
    pub zone: i16,
}

/// Month names of the IMAP date grammar.
pub(crate) const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A capability name (`IMAP4rev2`, `AUTH=PLAIN`, `LITERAL+`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Capability(pub Bytes);

impl Capability {
    /// A capability from text.
    #[must_use]
    pub fn new(s: &str) -> Self {
        Capability(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// Case-insensitive comparison with `name`.
    #[must_use]
    pub fn is(&self, name: &str) -> bool {
        self.0.eq_ignore_ascii_case(name.as_bytes())
    }
}
