//! [`Secret`]: a wrapper that keeps credentials out of `Debug` output and logs.

use std::fmt;

/// A value that must never be printed: passwords, SASL responses, tokens.
///
/// `Debug` prints `Secret(<redacted>)`; there is deliberately no `Display`.
/// The inner value is reached only through [`Secret::expose`] or
/// [`Secret::into_inner`], which makes every use of it visible in review.
/// When the inner type is a byte or string buffer, its memory (the bytes in
/// use and the spare capacity behind them) is overwritten with zeros on drop
/// (best effort: copies made by the caller, or left behind when the buffer
/// grew and moved, are not tracked). `==` between two secrets runs in time
/// that depends only on their lengths ([`ct_eq`]), so comparing a password or
/// token with `==` does not leak where the first difference is.
///
/// ```
/// use proto_core::Secret;
/// let pw = Secret::new(String::from("hunter2"));
/// assert_eq!(format!("{pw:?}"), "Secret(<redacted>)");
/// assert_eq!(pw.expose(), "hunter2");
/// ```
#[derive(Clone, Default)]
pub struct Secret<T: Wipe>(T);

impl<T: Wipe> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// Borrows the secret value. Call sites of this method are the places to audit.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Mutably borrows the secret value.
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }

    /// Takes the value out of the wrapper (no wipe happens for it).
    pub fn into_inner(mut self) -> T {
        std::mem::take(&mut self.0)
    }
}

impl<T: Wipe> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T: Wipe> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl<T: Wipe> PartialEq for Secret<T> {
    /// Constant-time in the contents (see [`ct_eq`]).
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.0.as_ref(), other.0.as_ref())
    }
}

impl<T: Wipe> Eq for Secret<T> {}

impl<T: Wipe> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.wipe();
    }
}

/// Types a [`Secret`] can hold: they know how to overwrite their own contents.
///
/// Implemented for the usual buffers; `Default` is needed so
/// [`Secret::into_inner`] can move the value out, and `AsRef<[u8]>` so that
/// two secrets compare in constant time.
pub trait Wipe: Default + AsRef<[u8]> {
    /// Overwrites the contents with zeros (or does nothing for types without heap data).
    fn wipe(&mut self);
}

impl Wipe for Vec<u8> {
    /// Zeroes the bytes in use and the spare capacity (which may hold bytes
    /// of a longer value the buffer was cut down from).
    #[inline]
    fn wipe(&mut self) {
        // An unallocated buffer (what `Secret::into_inner` leaves) holds nothing.
        if self.capacity() == 0 {
            return;
        }
        self.iter_mut().for_each(|b| *b = 0);
        self.spare_capacity_mut()
            .iter_mut()
            .for_each(|b| *b = std::mem::MaybeUninit::new(0));
        std::hint::black_box(&self);
    }
}

impl Wipe for String {
    /// Zeroes every byte of the buffer (the text and the spare capacity) and
    /// leaves the string empty, its capacity kept. The zeros are written as
    /// NUL characters, a valid string, so the buffer never leaves the
    /// `String` and needs no UTF-8 check to come back.
    #[inline]
    fn wipe(&mut self) {
        /// NULs to fill a buffer with, this many at a time.
        const NULS: &str = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
        self.clear();
        while self.len() < self.capacity() {
            let n = (self.capacity() - self.len()).min(NULS.len());
            self.push_str(NULS.get(..n).unwrap_or_default());
        }
        std::hint::black_box(&self);
        self.clear();
    }
}

impl Wipe for bytes::BytesMut {
    /// Zeroes the bytes in use and the spare capacity, as for `Vec<u8>`.
    fn wipe(&mut self) {
        self.iter_mut().for_each(|b| *b = 0);
        self.spare_capacity_mut()
            .iter_mut()
            .for_each(|b| *b = std::mem::MaybeUninit::new(0));
        std::hint::black_box(&self);
    }
}

impl Wipe for bytes::Bytes {
    /// `Bytes` is immutable and may be shared, so it cannot be wiped in place;
    /// the handle is dropped.
    fn wipe(&mut self) {}
}

impl<const N: usize> Wipe for [u8; N]
where
    [u8; N]: Default,
{
    fn wipe(&mut self) {
        self.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self);
    }
}

/// Compares two byte strings in time that depends only on their lengths, so
/// that a check of a password or MAC does not leak where the first difference is.
///
/// ```
/// assert!(proto_core::ct_eq(b"abc", b"abc"));
/// assert!(!proto_core::ct_eq(b"abc", b"abd"));
/// assert!(!proto_core::ct_eq(b"abc", b"ab"));
/// ```
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_even_nested() {
        let s = Secret::new(b"topsecret".to_vec());
        let nested = Some(vec![s.clone()]);
        let text = format!("{nested:?} {s:#?}");
        assert!(!text.contains("topsecret"));
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn into_inner_returns_value() {
        let s = Secret::new(String::from("pw"));
        assert_eq!(s.into_inner(), "pw");
    }

    #[test]
    fn wipe_zeroes_buffers() {
        let mut v = b"abc".to_vec();
        v.wipe();
        assert_eq!(v, [0, 0, 0]);
        let mut s = String::from("xyz");
        let cap = s.capacity();
        s.wipe();
        assert!(s.is_empty());
        assert_eq!(s.capacity(), cap);
    }

    #[test]
    fn equality_compares_contents() {
        let a = Secret::new(b"token".to_vec());
        assert_eq!(a, Secret::new(b"token".to_vec()));
        assert_ne!(a, Secret::new(b"tokeN".to_vec()));
        assert_ne!(a, Secret::new(b"toke".to_vec()));
        assert_eq!(Secret::new(String::new()), Secret::default());
    }

    #[test]
    fn wipe_keeps_the_buffer_usable() {
        // The spare capacity is zeroed too; safe code cannot read it, so this
        // checks that the buffer is intact and reusable afterwards.
        let mut v = b"password".to_vec();
        v.truncate(2);
        v.wipe();
        assert_eq!(v, [0, 0]);
        v.extend_from_slice(b"x");
        assert_eq!(v, [0, 0, b'x']);
        let mut b = bytes::BytesMut::from(&b"password"[..]);
        b.truncate(3);
        b.wipe();
        assert_eq!(&b[..], [0, 0, 0]);
    }
}
