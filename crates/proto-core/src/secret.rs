//! [`Secret`]: a wrapper that keeps credentials out of `Debug` output and logs.

use std::fmt;

/// A value that must never be printed: passwords, SASL responses, tokens.
///
/// `Debug` prints `Secret(<redacted>)`; there is deliberately no `Display`.
/// The inner value is reached only through [`Secret::expose`] or
/// [`Secret::into_inner`], which makes every use of it visible in review.
/// When the inner type is a byte or string buffer, its memory is overwritten
/// with zeros on drop (best effort: copies made by the caller are not tracked).
///
/// ```
/// use proto_core::Secret;
/// let pw = Secret::new(String::from("hunter2"));
/// assert_eq!(format!("{pw:?}"), "Secret(<redacted>)");
/// assert_eq!(pw.expose(), "hunter2");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
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

impl<T: Wipe> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.wipe();
    }
}

/// Types a [`Secret`] can hold: they know how to overwrite their own contents.
///
/// Implemented for the usual buffers; `Default` is needed so
/// [`Secret::into_inner`] can move the value out.
pub trait Wipe: Default {
    /// Overwrites the contents with zeros (or does nothing for types without heap data).
    fn wipe(&mut self);
}

impl Wipe for Vec<u8> {
    fn wipe(&mut self) {
        self.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self);
    }
}

impl Wipe for String {
    fn wipe(&mut self) {
        // Replace every byte by NUL through a safe round trip: NUL is valid UTF-8.
        let mut bytes = std::mem::take(self).into_bytes();
        bytes.wipe();
        *self = String::from_utf8(bytes).unwrap_or_default();
    }
}

impl Wipe for bytes::BytesMut {
    fn wipe(&mut self) {
        self.iter_mut().for_each(|b| *b = 0);
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
        s.wipe();
        assert_eq!(s.as_bytes(), [0, 0, 0]);
    }
}
