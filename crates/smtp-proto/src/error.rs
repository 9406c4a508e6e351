//! Error types: command parse errors (with the reply they call for), reply parse
//! errors, encoder refusals, fatal session errors and caller mistakes.

use crate::reply::{EnhancedCode, Reply};
use bytes::Bytes;

/// Why a command line was refused. Never fatal: the server answers with
/// [`CommandError::reply`] and reads the next command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The verb is not an SMTP command (500 5.5.2).
    #[error("command unrecognized")]
    Unrecognized,
    /// A command this crate recognises but does not implement, such as BURL
    /// or TURN (502 5.5.1).
    #[error("command not implemented")]
    NotImplemented,
    /// The arguments do not follow the RFC 5321 4.1 grammar (501 5.5.4).
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    /// A path, local part or domain longer than [`crate::Limits`] allows (501 5.1.3 / 552 for paths).
    #[error("{0} too long")]
    TooLong(&'static str),
    /// A non-ASCII reverse path in a MAIL command without the SMTPUTF8
    /// parameter (550 5.6.7). RFC 6531 3.5: "When messages are rejected
    /// because the RCPT command requires an ASCII address, the reply-code 553
    /// is returned ... When messages are rejected because the MAIL command
    /// requires an ASCII address, the reply-code 550 is returned". The parser
    /// raises it for MAIL only: for RCPT it depends on the transaction's MAIL,
    /// so the server checks it and answers 553 5.6.7 itself.
    #[error("non-ASCII address without SMTPUTF8")]
    Utf8NotAllowed,
    /// A known parameter given twice or with a bad value (555 5.5.4, RFC 5321
    /// 4.1.1.11). The DSN parameters have their own [`CommandError::BadDsnParameter`].
    #[error("bad parameter: {0}")]
    BadParameter(&'static str),
    /// A DSN parameter (RET, ENVID on MAIL; NOTIFY, ORCPT on RCPT) with a bad
    /// value or given twice (501 5.5.4). RFC 3461 5.1 (a): "if the associated
    /// esmtp-value is not valid (i.e., contains illegal characters), or if
    /// there is more than one ENVID or RET parameter in a particular MAIL
    /// command, the server MUST issue the reply-code 501"; 4.5 and 5.1 (b)
    /// ask the same (SHOULD) for NOTIFY and ORCPT.
    #[error("bad DSN parameter: {0}")]
    BadDsnParameter(&'static str),
    /// The command line is longer than the limit (500 5.5.2, RFC 5321
    /// 4.5.3.1.4 "500 Line too long"; X.5.2 as a command that could not be
    /// interpreted, RFC 3463 3.6).
    #[error("line too long")]
    LineTooLong,
    /// An AUTH command or AUTH response line longer than the AUTH line
    /// limit (500 5.5.6, RFC 4954 4: the code registered for an
    /// "Authentication Exchange line is too long").
    #[error("authentication exchange line too long")]
    AuthLineTooLong,
    /// An AUTH initial response or AUTH response line that is not base64
    /// (501 5.5.2, RFC 4954 4: "If the server cannot \[BASE64\] decode any
    /// client response, it MUST reject the AUTH command with a 501 reply (and
    /// an enhanced status code of 5.5.2)").
    #[error("bad base64 in AUTH")]
    BadBase64,
}

impl CommandError {
    /// The reply a server sends for this error.
    #[must_use]
    pub fn reply(&self) -> Reply {
        let (code, e, text): (u16, EnhancedCode, &str) = match self {
            CommandError::Unrecognized => (500, EnhancedCode(5, 5, 2), "Command unrecognized"),
            CommandError::NotImplemented => (502, EnhancedCode(5, 5, 1), "Command not implemented"),
            CommandError::Syntax(_) => (
                501,
                EnhancedCode(5, 5, 4),
                "Syntax error in parameters or arguments",
            ),
            CommandError::TooLong("path") => (501, EnhancedCode(5, 1, 3), "Path too long"),
            CommandError::TooLong(_) => (501, EnhancedCode(5, 1, 3), "Address too long"),
            CommandError::Utf8NotAllowed => (
                550,
                EnhancedCode(5, 6, 7),
                "Non-ASCII address needs the SMTPUTF8 parameter",
            ),
            CommandError::BadParameter(_) => (
                555,
                EnhancedCode(5, 5, 4),
                "Parameter not recognized or bad value",
            ),
            CommandError::BadDsnParameter(_) => (501, EnhancedCode(5, 5, 4), "Syntax error in DSN parameter"),
            CommandError::LineTooLong => (500, EnhancedCode(5, 5, 2), "Line too long"),
            CommandError::AuthLineTooLong => (
                500,
                EnhancedCode(5, 5, 6),
                "Authentication Exchange line is too long",
            ),
            CommandError::BadBase64 => (501, EnhancedCode(5, 5, 2), "Invalid base64 data"),
        };
        Reply::new(code, Some(e), text)
    }
}

/// Why bytes from the server are not a valid reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The line does not start with a 3-digit code and a space or hyphen.
    #[error("malformed reply line")]
    Malformed,
    /// A continuation line's code differs from the first line's (RFC 5321 4.2.1).
    #[error("inconsistent code in multi-line reply")]
    InconsistentCode,
    /// The first digit is not 2 to 5, or the second not 0 to 5 (RFC 5321 4.2).
    #[error("reply code out of range")]
    BadCode,
    /// A reply line longer than the limit.
    #[error("reply line too long")]
    TooLong,
    /// A multi-line reply with more lines than the session accepts.
    #[error("too many reply lines")]
    TooManyLines,
}

/// An encoder refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// CR, LF or NUL inside an argument (command injection).
    #[error(transparent)]
    Forbidden(#[from] proto_core::ForbiddenByte),
    /// An argument that cannot be written in SMTP syntax.
    #[error("invalid argument: {0}")]
    Invalid(&'static str),
}

/// The kind of a fatal session [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A timeout of RFC 5321 4.5.3.2 expired.
    Timeout,
    /// Too many bad commands in a row.
    TooManyErrors,
    /// The client talked before the greeting or pipelined past a
    /// synchronisation point, and the configuration refuses that.
    ProtocolSync,
    /// The server sent something that is not a reply.
    BadReply,
    /// The server sent a reply the client did not expect at that point.
    UnexpectedReply,
    /// The server closed the session (421, or a 554 greeting); for a
    /// `ServerSession`, the application answered 421 and the session closed.
    ServiceClosing,
    /// TLS is required but the server does not offer STARTTLS, or refused it.
    TlsUnavailable,
    /// The peer closed the connection.
    Eof,
    /// The session is already closed.
    Closed,
    /// Server: the client sent more than [`crate::Limits::buffered_input`]
    /// while the server could not read on.
    TooMuchInput,
    /// Client: the body outgrew the server's SIZE limit during DATA, which
    /// cannot be cancelled; the connection must be closed so that the server
    /// drops the partial message.
    MessageTooLarge,
    /// Client: the application gave a message up during DATA
    /// ([`ClientSession::abort_message`](crate::ClientSession::abort_message)),
    /// which cannot be cancelled in band; the connection must be closed,
    /// with nothing more written, so that the server drops the partial message.
    MessageAbandoned,
}

/// A fatal session error: the session is closed; only pending transmit bytes
/// (a last 421, say) are still to be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {detail}")]
pub struct Error {
    kind: ErrorKind,
    detail: &'static str,
    offending: Option<Bytes>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, detail: &'static str) -> Self {
        Error {
            kind,
            detail,
            offending: None,
        }
    }

    /// Records the first bytes of the offending input. An AUTH command
    /// keeps its verb and mechanism only: its initial response may be the
    /// password in base64 (RFC 4954 4, RFC 4616 2).
    pub(crate) fn with_bytes(mut self, bytes: &Bytes) -> Self {
        let keep = match bytes.get(..5) {
            Some(verb) if verb.eq_ignore_ascii_case(b"AUTH ") => {
                5 + memchr::memchr(b' ', &bytes[5..]).unwrap_or(bytes.len() - 5)
            }
            _ => bytes.len(),
        };
        self.offending = Some(bytes.slice(..keep.min(128)));
        self
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The first bytes of the offending input, when there is one (never
    /// AUTH data).
    #[must_use]
    pub fn offending(&self) -> Option<&Bytes> {
        self.offending.as_ref()
    }
}

/// The caller used a session method in a state where it makes no sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// No decision of this kind is pending.
    #[error("no decision of this kind is pending")]
    NothingPending,
    /// The session is not in a state that allows this call.
    #[error("method not allowed in the current state")]
    WrongState,
    /// The session is closed.
    #[error("session closed")]
    Closed,
    /// An argument was refused by the encoder.
    #[error("argument refused: {0}")]
    BadArgument(&'static str),
    /// The number of LMTP replies differs from the number of accepted recipients.
    #[error("wrong number of per-recipient replies")]
    WrongReplyCount,
    /// The message is larger than the server's announced SIZE.
    #[error("message larger than the server accepts")]
    TooLarge,
    /// The message needs an extension (8BITMIME, SMTPUTF8, DSN, ...) the server lacks.
    #[error("server lacks a needed extension: {0}")]
    MissingExtension(&'static str),
}
