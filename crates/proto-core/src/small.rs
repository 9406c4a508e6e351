//! [`SmallBytes`]: short byte strings held inline, longer ones as a
//! zero-copy [`Bytes`] slice.

use bytes::Bytes;
use std::fmt;

/// How many bytes a [`SmallBytes`] keeps inline.
const INLINE: usize = 38;

/// Bytes of a parsed value: held inline up to 38 bytes, a [`Bytes`] beyond.
///
/// Most values a protocol parser hands out are short (IMAP mailbox names,
/// flags and ENVELOPE fields, POP3 unique ids). Held inline, they cost no
/// allocation and no reference count: a `Bytes` slice of the received line
/// takes an atomic increment when made and an atomic decrement when dropped,
/// which was a large part of the time spent on an IMAP LIST or FETCH
/// response and on a POP3 UIDL listing. A longer value (an IMAP literal, a
/// long subject) is a zero-copy `Bytes` slice, made with
/// [`SmallBytes::slice_of`]; so is a value made with
/// [`SmallBytes::from_static`]. 38 bytes keep the whole value at 40 bytes,
/// next to the 32 of a `Bytes`.
///
/// It derefs to `[u8]`; equality, ordering, hashing and `Debug` are those of
/// the bytes (`Debug` prints like [`Bytes`]), whichever way they are held,
/// and [`Borrow<[u8]>`](std::borrow::Borrow) lets a set be searched with a
/// slice.
#[derive(Clone)]
pub struct SmallBytes(Repr);

/// The whole inline buffer's worth of `src` from `start`, when `src` has
/// it: a value of at most [`INLINE`] bytes from there is copied with it, a
/// copy of fixed size, no call (the bytes past its length are never read).
#[inline(always)]
fn window(src: &[u8], start: usize) -> Option<&[u8; INLINE]> {
    src.get(start..).and_then(<[u8]>::first_chunk::<INLINE>)
}

/// The length of `range`, panicking as `src[range]` does when it is
/// reversed (the inline path never indexes `src` with `range` itself).
#[inline(always)]
fn span_len(src: &[u8], range: &std::ops::Range<usize>) -> usize {
    match range.end.checked_sub(range.start) {
        Some(n) => n,
        None => src[range.clone()].len(),
    }
}

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Shared(Bytes),
}

impl SmallBytes {
    /// A copy of `b` (inline when it fits).
    #[must_use]
    pub fn new(b: &[u8]) -> Self {
        Self::inline(b).unwrap_or_else(|| SmallBytes(Repr::Shared(Bytes::copy_from_slice(b))))
    }

    /// Static bytes, held by reference (no copy, no reference count).
    #[must_use]
    pub const fn from_static(b: &'static [u8]) -> Self {
        SmallBytes(Repr::Shared(Bytes::from_static(b)))
    }

    /// `b`, of at most [`INLINE`] bytes, inline.
    #[inline(always)]
    fn short(b: &[u8]) -> Self {
        let mut buf = [0u8; INLINE];
        buf[..b.len()].copy_from_slice(b);
        // b.len() <= INLINE < 256
        SmallBytes(Repr::Inline {
            len: b.len() as u8,
            buf,
        })
    }

    #[inline]
    fn inline(b: &[u8]) -> Option<Self> {
        if b.len() > INLINE {
            return None;
        }
        Some(Self::short(b))
    }

    /// `src[range]`: copied inline when short, else a zero-copy slice of `src`.
    ///
    /// # Panics
    ///
    /// If `range` is not within `src` (as `src[range]` would).
    #[must_use]
    #[inline]
    pub fn slice_of(src: &Bytes, range: std::ops::Range<usize>) -> Self {
        let n = span_len(src, &range);
        if n > INLINE {
            return SmallBytes(Repr::Shared(src.slice(range)));
        }
        match window(src, range.start) {
            // n <= INLINE < 256
            Some(w) => SmallBytes(Repr::Inline {
                len: n as u8,
                buf: *w,
            }),
            None => Self::short(&src[range]),
        }
    }

    /// Makes `self` [`SmallBytes::slice_of`]`(src, range)`, written in
    /// place.
    ///
    /// A parser that keeps its values in a larger structure (a list, a
    /// boxed record) sets them where they stay: each way of holding the
    /// bytes is written straight to `self`, where a returned value would
    /// be built in a temporary and copied, and the copy of a value just
    /// written piecewise stalls the processor (the store cannot be
    /// forwarded to a load of another width).
    ///
    /// # Panics
    ///
    /// If `range` is not within `src` (as `src[range]` would).
    #[inline(always)]
    pub fn set_slice_of(&mut self, src: &Bytes, range: std::ops::Range<usize>) {
        let n = span_len(src, &range);
        if n > INLINE {
            *self = Self::shared_slice(src, range);
            return;
        }
        match window(src, range.start) {
            // n <= INLINE < 256
            Some(w) => {
                *self = SmallBytes(Repr::Inline {
                    len: n as u8,
                    buf: *w,
                });
            }
            None => self.set_short(&src[range]),
        }
    }

    /// Makes `self` `b`, of at most [`INLINE`] bytes, inline: the copy
    /// goes straight to `self` (a copy into a temporary, read back at once
    /// to move it, stalls as [`SmallBytes::set_slice_of`] says).
    #[inline(never)]
    fn set_short(&mut self, b: &[u8]) {
        // b.len() <= INLINE < 256
        *self = SmallBytes(Repr::Inline {
            len: b.len() as u8,
            buf: [0; INLINE],
        });
        if let Repr::Inline { buf, .. } = &mut self.0 {
            buf[..b.len()].copy_from_slice(b);
        }
    }

    /// `src[range]` held as a slice (out of line: the inline case is the
    /// one to keep small).
    #[inline(never)]
    fn shared_slice(src: &Bytes, range: std::ops::Range<usize>) -> Self {
        SmallBytes(Repr::Shared(src.slice(range)))
    }

    /// The bytes.
    #[must_use]
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Shared(b) => b,
        }
    }

    /// The bytes as [`Bytes`] (a copy when held inline).
    #[must_use]
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_bytes()),
            Repr::Shared(b) => b.clone(),
        }
    }
}

impl Default for SmallBytes {
    fn default() -> Self {
        SmallBytes(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }
}

impl From<Bytes> for SmallBytes {
    /// Short bytes are copied inline (and `b` dropped); longer ones are kept.
    fn from(b: Bytes) -> Self {
        Self::inline(&b).unwrap_or(SmallBytes(Repr::Shared(b)))
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(b: &[u8]) -> Self {
        SmallBytes::new(b)
    }
}

impl From<&str> for SmallBytes {
    fn from(s: &str) -> Self {
        SmallBytes::new(s.as_bytes())
    }
}

impl From<Vec<u8>> for SmallBytes {
    fn from(v: Vec<u8>) -> Self {
        Self::inline(&v).unwrap_or_else(|| SmallBytes(Repr::Shared(Bytes::from(v))))
    }
}

impl From<SmallBytes> for Bytes {
    fn from(b: SmallBytes) -> Bytes {
        match b.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(b.as_bytes()),
            Repr::Shared(b) => b,
        }
    }
}

impl std::ops::Deref for SmallBytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for SmallBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::borrow::Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for SmallBytes {}

impl PartialEq<[u8]> for SmallBytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<&[u8]> for SmallBytes {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for SmallBytes {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_bytes() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for SmallBytes {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_bytes() == *other
    }
}

impl PartialEq<&str> for SmallBytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Bytes> for SmallBytes {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_bytes() == &other[..]
    }
}

impl PartialOrd for SmallBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for SmallBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for SmallBytes {
    /// As [`Bytes`] prints: `b"..."` with escapes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("b\"")?;
        for &b in self.as_bytes() {
            match b {
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\t' => f.write_str("\\t")?,
                b'\\' | b'"' => write!(f, "\\{}", char::from(b))?,
                0 => f.write_str("\\0")?,
                0x20..=0x7e => write!(f, "{}", char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str("\"")
    }
}
