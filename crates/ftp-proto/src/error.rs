//! Errors of the codec and of the sessions.

use bytes::Bytes;
use proto_core::ForbiddenByte;

/// Why a command line could not be parsed. The server answers it with
/// [`CommandError::reply_code`] and carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The line is empty or its verb is not 1 to 4 ASCII letters.
    #[error("malformed command verb")]
    BadVerb,
    /// A known verb with arguments that do not fit its syntax (RFC 959 5.3.2).
    #[error("syntax error in the arguments of {verb}")]
    BadArguments {
        /// The verb, upper-cased.
        verb: &'static str,
    },
    /// An argument holds a NUL byte (never a valid path or name).
    #[error("NUL byte in an argument")]
    Nul,
}

impl CommandError {
    /// The reply code RFC 959 gives for the error: 500 for a bad verb, 501 for bad arguments.
    #[must_use]
    pub fn reply_code(&self) -> u16 {
        match self {
            CommandError::BadVerb => 500,
            CommandError::BadArguments { .. } | CommandError::Nul => 501,
        }
    }
}

/// Why a reply could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// A line does not start with a three-digit code followed by a space or a hyphen.
    #[error("malformed reply line")]
    BadLine,
    /// The first digit of the code is not 1 to 5 (RFC 959 4.2.1).
    #[error("reply code out of range")]
    BadCode,
    /// A line ended without CRLF (strict mode).
    #[error("reply line not ended by CRLF")]
    BareLineEnding,
    /// A line holds a CR followed by neither LF nor NUL (strict mode; see
    /// [`ReplyConfig::accept_bare_cr`](crate::ReplyConfig::accept_bare_cr)).
    #[error("reply line holds a bare CR")]
    BareCr,
    /// A line holds a NUL that does not pad a CR (strict mode; see
    /// [`ReplyConfig::accept_bare_cr`](crate::ReplyConfig::accept_bare_cr)).
    #[error("reply line holds a NUL")]
    Nul,
    /// A reply (all its lines) is longer than the limit.
    #[error("reply longer than {limit} bytes")]
    TooLong {
        /// The limit in force.
        limit: usize,
    },
}

/// A listing line that could not be parsed in the format asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// The line does not have the shape of the format.
    #[error("listing line does not match the {0} format")]
    Format(&'static str),
}

/// An encoder refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// CR, LF or NUL in an argument (command injection).
    #[error(transparent)]
    Forbidden(#[from] ForbiddenByte),
    /// An argument that the command's syntax cannot carry (empty path, a space
    /// inside a verb, a reply code out of range).
    #[error("argument cannot be encoded: {0}")]
    Invalid(&'static str),
}

/// What went wrong, for [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The peer broke the framing beyond recovery (a reply that is not a reply).
    Protocol,
    /// A limit was exceeded beyond recovery.
    Limit,
    /// The peer closed the connection while something was still expected.
    UnexpectedEof,
    /// The connection timed out.
    Timeout,
    /// The session had already closed.
    Closed,
}

/// A fatal session error: the session is closed afterwards; only its pending
/// transmit bytes (a last 421, say) are still to be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct Error {
    /// The kind.
    pub kind: ErrorKind,
    /// What happened, in words.
    pub message: &'static str,
    /// The offending bytes (first ones only), if any.
    pub bytes: Bytes,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: &'static str) -> Self {
        Error {
            kind,
            message,
            bytes: Bytes::new(),
        }
    }

    pub(crate) fn with_bytes(kind: ErrorKind, message: &'static str, bytes: &[u8]) -> Self {
        Error {
            kind,
            message,
            bytes: Bytes::copy_from_slice(&bytes[..bytes.len().min(64)]),
        }
    }
}

/// The caller used a session method in a state where it makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("usage error: {0}")]
pub struct UsageError(pub &'static str);
