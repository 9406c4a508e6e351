//! Parser limits (one struct, defaults close to Dovecot's message parser).

/// Hard bounds on what a message may make the parser do.
///
/// Exceeding a limit never fails the parse: a [`crate::DefectKind`] is recorded and the
/// offending structure is treated conservatively (a too-deep multipart becomes an opaque
/// leaf, a too-long header field is skipped), so memory and work stay bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of multiparts and message/rfc822 parts (Dovecot: 100).
    pub max_depth: usize,
    /// Maximum number of parts in one message (Dovecot: 10,000).
    pub max_parts: usize,
    /// Maximum bytes of one header block; further fields are skipped.
    pub max_header_bytes: usize,
    /// Maximum bytes of one header field, folded lines included; the push parser
    /// never buffers more than this (plus one boundary line) at a time.
    pub max_field_bytes: usize,
    /// Maximum number of fields kept per header block. It also bounds the fields
    /// of a whole `message/delivery-status` body, every group together
    /// ([`crate::DeliveryStatus::parse_with`]).
    pub max_fields: usize,
    /// Longest boundary used to read a multipart (RFC 2046 allows 70; real mail is
    /// sloppier): one of 71 to this many characters is read, and reported as
    /// [`crate::DefectKind::InvalidBoundary`]; a longer one leaves the multipart
    /// an opaque leaf.
    pub max_boundary_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 100,
            max_parts: 10_000,
            max_header_bytes: 1 << 20,
            max_field_bytes: 64 << 10,
            max_fields: 10_000,
            max_boundary_len: 256,
        }
    }
}
