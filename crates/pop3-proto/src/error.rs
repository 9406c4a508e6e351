//! Error types: parse errors for commands and responses, encoder refusals,
//! fatal session errors and [`UsageError`] for calls made in the wrong state.

use bytes::Bytes;
use proto_core::ForbiddenByte;

/// An encoder refused to write a message that cannot be sent safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// CR, LF or NUL inside an argument (command injection).
    #[error("argument {what}: {source}")]
    Forbidden {
        /// Which argument.
        what: &'static str,
        /// The offending byte.
        source: ForbiddenByte,
    },
    /// An argument that must be one token holds a space, is empty, or is malformed.
    #[error("invalid argument {what}")]
    Invalid {
        /// Which argument.
        what: &'static str,
    },
}

/// Why a command line could not be parsed. The server answers it with
/// [`reply_text`](Self::reply_text) after `-ERR` and carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The keyword is not a POP3 command.
    #[error("unknown command")]
    Unknown {
        /// The keyword as sent (at most 40 bytes kept).
        keyword: Bytes,
    },
    /// A known command with missing, extra or malformed arguments.
    #[error("syntax error in {keyword} arguments")]
    Syntax {
        /// The command keyword, upper case.
        keyword: &'static str,
    },
    /// An AUTH continuation line that is neither base64 nor "*".
    #[error("malformed base64 in AUTH response")]
    BadBase64,
}

impl CommandError {
    /// The human-readable text of the `-ERR` reply for this error.
    #[must_use]
    pub fn reply_text(&self) -> &'static str {
        match self {
            CommandError::Unknown { .. } => "unknown command",
            CommandError::Syntax { .. } => "syntax error in arguments",
            CommandError::BadBase64 => "malformed base64, authentication aborted",
        }
    }
}

/// Why a server response line could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The line starts with neither `+OK`, `-ERR` nor `+ `.
    #[error("response line has no +OK/-ERR status")]
    NoStatus {
        /// The offending line (at most 64 bytes kept).
        line: Bytes,
    },
    /// A listing line, STAT reply or capability that does not follow its grammar.
    #[error("malformed {what}")]
    Malformed {
        /// Which part.
        what: &'static str,
        /// The offending line (at most 64 bytes kept).
        line: Bytes,
    },
}

pub(crate) fn head(line: &Bytes, n: usize) -> Bytes {
    line.slice(..line.len().min(n))
}

/// A fatal session error: the session is closed; only its pending transmit
/// bytes (a last reply) are still to be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer sent more bad commands than [`Limits::max_bad_commands`](crate::Limits).
    #[error("too many bad commands")]
    TooManyBadCommands,
    /// The client failed to log in [`Limits::max_login_failures`](crate::Limits) times.
    #[error("too many failed logins")]
    TooManyLoginFailures,
    /// A server response that breaks the protocol (client side).
    #[error("protocol violation by the server: {0}")]
    Response(#[from] ResponseError),
    /// A line or listing over a limit that cannot be recovered from.
    #[error("limit exceeded: {what}")]
    Limit {
        /// Which limit.
        what: &'static str,
    },
    /// The server refused STLS while the configuration requires TLS, or
    /// did not offer it.
    #[error("TLS required but not available")]
    TlsUnavailable,
    /// No login method both sides support could be used with the credentials
    /// (for example only plaintext methods without TLS, or an authorization
    /// identity without a SASL mechanism that carries it).
    #[error("no usable login method")]
    NoLoginMethod,
    /// The server rejected the login; the text is the server's `-ERR` line.
    #[error("login rejected: {text:?}")]
    LoginRejected {
        /// The response code, if any.
        code: Option<crate::ResponseCode>,
        /// The server's text.
        text: Bytes,
    },
    /// A SASL mechanism failed on the client side (bad challenge, server not verified).
    #[error("SASL: {0}")]
    Sasl(String),
    /// The server did not answer within [`Limits::autologout`](crate::Limits).
    #[error("timed out waiting for the server")]
    Timeout,
    /// The server closed the connection or the session already ended.
    #[error("connection closed")]
    Closed,
}

/// The application called a session method in the wrong state or with
/// arguments the protocol cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// The method does not apply in the current state.
    #[error("not valid now: {0}")]
    WrongState(&'static str),
    /// An argument cannot be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A maildrop entry is invalid (unique id not 1..70 chars of 0x21..0x7E,
    /// or the same as another message's, RFC 1939 section 7).
    #[error("invalid maildrop: {0}")]
    InvalidMaildrop(&'static str),
}
