//! Argument checks shared by every encoder: CR, LF and NUL never leave an
//! encoder inside an argument (command injection, RFC 5321 2.3.8).

/// A byte that may not appear in a protocol argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("forbidden byte {byte:#04x} at offset {offset} in an argument")]
pub struct ForbiddenByte {
    /// The byte (CR, LF or NUL).
    pub byte: u8,
    /// Where it is in the argument.
    pub offset: usize,
}

/// Checks that `arg` holds no CR, LF or NUL.
///
/// # Errors
///
/// The first forbidden byte found.
///
/// ```
/// assert!(proto_core::check_arg(b"user@example.test").is_ok());
/// let err = proto_core::check_arg(b"x\r\nRCPT TO:<evil>").unwrap_err();
/// assert_eq!((err.byte, err.offset), (b'\r', 1));
/// ```
pub fn check_arg(arg: &[u8]) -> Result<(), ForbiddenByte> {
    match memchr::memchr3(b'\r', b'\n', 0, arg) {
        Some(offset) => Err(ForbiddenByte {
            byte: arg[offset],
            offset,
        }),
        None => Ok(()),
    }
}
