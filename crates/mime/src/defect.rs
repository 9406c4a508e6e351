//! Problems found while parsing (the message is still parsed).

/// What was wrong. Named after the classes of Python's `email.errors` where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DefectKind {
    /// A line ended with a bare LF (or the message uses LF line endings). Reported
    /// once per message, at the first such line. The continuation lines of a header
    /// field skipped for [`DefectKind::HeaderFieldTooLong`] are not looked at (its first
    /// line is, when it fits the limit), so the result is the same for any chunking.
    BareLineFeed,
    /// A header field holds a CR not followed by LF (RFC 5322 section 2.2 allows CR
    /// only in the CRLF of a line break). The CR is kept in the value, as section
    /// 4.1's obsolete syntax reads it; readers that end a line at a bare CR would
    /// see another field there. Reported once per message, at the first such CR.
    BareCarriageReturn,
    /// A header field holds a NUL (%d0): RFC 5322 has it only in the obsolete
    /// syntax (section 4.1, `obs-utext`, `obs-qp`), which section 4 says "MUST
    /// NOT" be generated, and many readers take it for the end of a string. The
    /// field is kept as written ([`crate::Header::value`]); every accessor that
    /// hands out its text (subject, display names, addresses, message ids,
    /// Content-Location, Content-Language, parameters) gives it in the safe form
    /// of [`crate::decode_unstructured`], the NUL replaced by U+FFFD. Reported
    /// once per message, at the first such NUL; fields skipped for a limit are not
    /// looked at.
    NulInHeaderField,
    /// A leading mbox `From ` line was skipped.
    MboxFromLine,
    /// A header line without a colon ended the header block early.
    MissingHeaderBodySeparator,
    /// A field that a header block may hold at most once came again (reported at
    /// the second and any later one). The first is the one used (framing,
    /// [`crate::Part::header`] and the accessors built on it), as Python's `email`
    /// package and MS-OXCMAIL's "MIME readers SHOULD use the first instance" do;
    /// only the address accessors ([`crate::Part::addresses`]) join the lists of
    /// every field, as MS-OXCMAIL says for recipient fields. Such fields are Content-Type, Content-Transfer-Encoding,
    /// Content-ID, Content-Description (RFC 2045 section 3), Content-Disposition
    /// (RFC 2183) and MIME-Version in any header, and in a message's header (the
    /// root's or a nested message's, not a body part's) also Date, From, Sender,
    /// Reply-To, To, Cc, Bcc, Message-ID, In-Reply-To, References and Subject
    /// (RFC 5322 section 3.6). Readers that take the last one exist (some DKIM-aware
    /// ones): a message with this defect may show different senders or types to
    /// different readers, so strict mode refuses it.
    DuplicateHeaderField,
    /// The header block started with a continuation line.
    FirstHeaderLineIsContinuation,
    /// A header field is folded onto a line of white space only: legal only in the
    /// obsolete syntax (RFC 5322 section 4.2 `obs-FWS`; appendix B item 12), and
    /// read differently by readers that end the header block at such a line (the
    /// fields after it are then body text to them). The line is folded into the
    /// field, as the obsolete syntax says. Reported once per message, at the first
    /// such line; the lines of a field skipped for
    /// [`DefectKind::HeaderFieldTooLong`] are not looked at.
    ObsoleteFolding,
    /// A header field name contains whitespace before the colon (obsolete syntax).
    ObsoleteHeaderName,
    /// A header field was longer than [`crate::Limits::max_field_bytes`] and skipped.
    HeaderFieldTooLong,
    /// The header block exceeded [`crate::Limits::max_header_bytes`] or
    /// [`crate::Limits::max_fields`]; later fields were skipped.
    HeaderBlockTooLarge,
    /// The message ended inside a header block.
    HeaderBlockUnterminated,
    /// A multipart has no boundary parameter; it is treated as a leaf.
    NoBoundaryInMultipart,
    /// The boundary parameter does not follow RFC 2046 section 5.1.1 (1 to 70
    /// characters from `bchars`, not ending in a space). An empty boundary, or one
    /// longer than [`crate::Limits::max_boundary_len`], leaves the multipart an
    /// opaque leaf; any other is still used to read the parts (real mail has
    /// such boundaries), so only strict mode refuses it.
    InvalidBoundary,
    /// No delimiter line of a multipart was ever found.
    StartBoundaryNotFound,
    /// A multipart ended without its close delimiter.
    CloseBoundaryNotFound,
    /// A multipart was closed by the delimiter of an enclosing multipart.
    BoundaryOfOuterPart,
    /// Nesting went beyond [`crate::Limits::max_depth`]; the part is kept opaque.
    NestingTooDeep,
    /// The message has more than [`crate::Limits::max_parts`] parts; the rest is opaque.
    TooManyParts,
    /// The Content-Type value could not be parsed; text/plain is assumed.
    InvalidContentType,
    /// A message/rfc822 or multipart has a transfer encoding other than 7bit/8bit/binary.
    /// (message/global may have any, RFC 6532 section 3.5: an encoded one is kept
    /// as an opaque leaf without this defect.)
    InvalidEncodingForCompositeType,
    /// Base64 body with characters outside the alphabet (they were skipped).
    InvalidBase64Characters,
    /// Base64 body with a length that is not a multiple of four, or data after padding.
    InvalidBase64Padding,
    /// Quoted-printable `=` not followed by two hex digits or a line break.
    InvalidQuotedPrintable,
    /// The Content-Transfer-Encoding is unknown; the body is left as is.
    UnknownTransferEncoding,
    /// The charset is unknown; the text was decoded lossily as UTF-8.
    /// Reported by [`crate::Message::decoded_text`] (a text is decoded on
    /// request, not while parsing, so it is not in the parse's defect list).
    UnknownCharset,
    /// A multipart with delimiters but no body part between them.
    MultipartWithoutParts,
}

/// One problem, with the byte offset in the input where it was noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Defect {
    /// What was wrong.
    pub kind: DefectKind,
    /// Byte offset in the whole input.
    pub offset: usize,
}
