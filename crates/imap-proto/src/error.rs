//! Error types of the codec. Every error keeps the offending bytes (cut to
//! [`Limits::error_snippet`](crate::Limits::error_snippet)) so a session can
//! log them and answer with the right reply.

use bytes::Bytes;

/// A unit the [`Framer`](crate::Framer) refused. The framer has already
/// skipped (or will skip, as the bytes arrive) to the end of that unit, so the
/// next unit is read in sync.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A line was longer than [`Limits::max_line_len`](crate::Limits::max_line_len).
    #[error("line too long (limit {limit} bytes)")]
    LineTooLong {
        /// The limit in force.
        limit: usize,
        /// The first bytes of the unit.
        head: Bytes,
    },
    /// A literal announced more bytes than allowed.
    #[error("literal of {len} bytes exceeds the limit of {limit}")]
    LiteralTooLarge {
        /// The announced length.
        len: u64,
        /// The limit in force.
        limit: u64,
        /// The first bytes of the unit, up to the announcement.
        head: Bytes,
    },
    /// The unit (lines plus buffered literals) grew over
    /// [`Limits::max_unit_len`](crate::Limits::max_unit_len).
    #[error("command or response too large (limit {limit} bytes)")]
    UnitTooLarge {
        /// The limit in force.
        limit: usize,
        /// The first bytes of the unit.
        head: Bytes,
    },
    /// A line ended with a bare LF, or held a bare CR (only CRLF ends a line).
    #[error("bare CR or LF in a line")]
    BareLineEnding {
        /// The first bytes of the unit.
        head: Bytes,
    },
}

impl FrameError {
    /// The first bytes of the refused unit (for a client's LOGIN or
    /// AUTHENTICATE, only up to the command name: the rest is credentials;
    /// for a client line that does not start with a tag and a space, such
    /// as a SASL response, none at all).
    #[must_use]
    pub fn head(&self) -> &Bytes {
        match self {
            FrameError::LineTooLong { head, .. }
            | FrameError::LiteralTooLarge { head, .. }
            | FrameError::UnitTooLarge { head, .. }
            | FrameError::BareLineEnding { head } => head,
        }
    }

    /// The tag of the refused unit, when its head starts with a valid one
    /// followed by a space: what a server needs for the tagged `BAD
    /// [TOOBIG]` of a command that is too large (RFC 7888 section 4, RFC
    /// 9051 section 7.1). `None` for a response (`*`, `+`) or a unit whose
    /// tag is missing or malformed.
    #[must_use]
    pub fn tag(&self) -> Option<Bytes> {
        crate::parse::leading_tag(self.head())
    }
}

/// A framed unit that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at offset {offset}")]
pub struct ParseError {
    /// What was expected or what was wrong.
    pub reason: &'static str,
    /// Byte offset in the unit where the parser stopped.
    pub offset: usize,
    /// The tag, when the unit started with a valid one (a server answers
    /// `<tag> BAD ...`; without a tag, `* BAD ...`).
    pub tag: Option<Bytes>,
    /// The first bytes of the unit.
    pub input: Bytes,
}

impl ParseError {
    /// Whether the unit broke a bound of [`Limits`](crate::Limits) rather
    /// than the grammar: its lists held more values than
    /// [`max_items`](crate::Limits::max_items), or it nested deeper than
    /// [`max_depth`](crate::Limits::max_depth). A server answers such a
    /// command `<tag> BAD [TOOBIG]`, the code RFC 7888 section 4 gives a
    /// command past a server's limit (RFC 9051 section 7.1: BAD for a
    /// command the server cannot parse).
    #[must_use]
    pub fn is_over_limit(&self) -> bool {
        crate::parse::is_limit(self.reason)
    }
}

/// A value that cannot be sent safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// CR, LF or NUL in a field that is not sent as a literal.
    #[error(transparent)]
    Forbidden(#[from] proto_core::ForbiddenByte),
    /// A field holds a value its grammar cannot carry (named in the message).
    #[error("cannot encode: {0}")]
    Invalid(&'static str),
}
