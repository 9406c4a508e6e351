//! `MessageBuilder`: writes RFC 5322 / MIME messages that parse back to what was built.

use crate::address::Mailbox;
use crate::date::DateTime;
use crate::decode::TransferEncoding;
use crate::encoded_word::encode_words;
use base64::Engine as _;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// What the transport accepts (RFC 6152 8BITMIME, RFC 3030 BINARYMIME, RFC 6531 SMTPUTF8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transport {
    /// 8BITMIME: `8bit` bodies allowed.
    pub eight_bit: bool,
    /// BINARYMIME: `binary` bodies allowed (implies lines of any length).
    pub binary: bool,
    /// SMTPUTF8: UTF-8 allowed in header fields and addresses (RFC 6532).
    pub utf8_headers: bool,
}

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A caller-supplied header name or value holds CR, LF or NUL.
    #[error("forbidden byte in {0}")]
    ForbiddenByte(&'static str),
    /// A header field name is empty or not printable ASCII.
    #[error("invalid header field name")]
    InvalidHeaderName,
    /// An address has non-ASCII characters and the transport lacks SMTPUTF8.
    #[error("non-ASCII address needs SMTPUTF8: {0}")]
    NonAsciiAddress(String),
    /// An address whose domain is empty, or neither a dot-atom nor a domain literal
    /// (RFC 5322 section 3.4.1: `addr-spec = local-part "@" domain`), so written as
    /// is it would not be an address or would change the field's syntax; or whose
    /// local part holds a control character (TAB included), which a quoted local
    /// part may not (RFC 5322 section 3.2.4 `qtext`, RFC 5321 section 4.1.2
    /// `qtextSMTP`) and no encoding can carry.
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// The Date cannot be written as RFC 5322 section 3.3 requires: a zone offset
    /// beyond +-99:59, a field out of range, or a year before 1900.
    #[error("date cannot be written: {0}")]
    InvalidDate(String),
    /// A media type is not `type/subtype` made of RFC 2045 tokens (RFC 2045
    /// section 5.1), so it would add parameters or other syntax to Content-Type.
    #[error("invalid media type: {0}")]
    InvalidMediaType(String),
    /// A header added with `header()` has the name of a field the builder writes
    /// itself (Content-Type, Date, a Subject also set with `subject()`, ...), or
    /// of a field a header block holds at most once given twice (two Subject
    /// fields, a root body part's Subject beside the message's): a second one
    /// would be ignored or misread (RFC 5322 section 3.6, RFC 2045 section 3), and
    /// a reader reports [`crate::DefectKind::DuplicateHeaderField`].
    #[error("header field {0} is written by the builder or given twice")]
    DuplicateField(String),
    /// A field added with `header()` under the name of a structured field
    /// (an address, message id, date, trace or MIME field) has a value that would
    /// need RFC 2047 encoding (non-ASCII without SMTPUTF8, `=?`, a control, white
    /// space around it): RFC 2047 section 5 allows no encoded word there (none in
    /// an addr-spec), so the field would not read back. Write it in ASCII, or use
    /// the builder's own setter.
    #[error("structured field {0} cannot be RFC 2047 encoded")]
    StructuredField(String),
    /// No From mailbox: RFC 5322 section 3.6 requires exactly one From field in
    /// a message ("The only required header fields are the origination date
    /// field and the originator address field(s)"). Set it with
    /// [`MessageBuilder::from`]; a From given with [`MessageBuilder::header`]
    /// does not count (the builder writes From itself, so it is refused as
    /// [`BuildError::DuplicateField`] beside one). The Date, the other required
    /// field, is always written (from the clock given to
    /// [`MessageBuilder::build_at`] when not set).
    #[error("a message needs a From mailbox")]
    FromRequired,
    /// Several From mailboxes but no Sender: RFC 5322 section 3.6.2 says the
    /// Sender field "MUST appear" then (set it with [`MessageBuilder::sender`]).
    #[error("several From mailboxes need a Sender")]
    SenderRequired,
    /// A message id (Message-ID, In-Reply-To, References, Content-ID) that is not
    /// `id-left "@" id-right` of RFC 5322 section 3.6.4 (RFC 2045 section 7 for
    /// Content-ID): no `@`, an empty side, or a character that is neither `atext`
    /// nor a dot (an `id-right` may be a `[dtext]` literal instead). A reader
    /// that follows the grammar would read another id (`<a(b)@c>` is `a@c` with a
    /// comment) or lose the ids after it.
    #[error("invalid message id: {0}")]
    InvalidMessageId(String),
    /// An empty message id (Message-ID, In-Reply-To, References): RFC 5322
    /// section 3.6.4's `msg-id` has an `id-left` and an `id-right`, and a reader
    /// finds no id in `<>`.
    #[error("empty message id")]
    EmptyMessageId,
    /// A multipart without body parts (RFC 2046 section 5.1.1 requires one at least).
    #[error("a multipart needs at least one body part")]
    EmptyMultipart,
    /// A line would exceed 998 octets (RFC 5322 section 2.1.1).
    #[error("a line would exceed 998 octets")]
    LineTooLong,
    /// The requested transfer encoding is not allowed by the transport or the type.
    #[error("transfer encoding {0} not allowed here")]
    EncodingNotAllowed(&'static str),
    /// Dot-safe mode is on, but a line starting with `.` or `From ` would go on
    /// the wire and cannot be re-encoded: a header field name starting with
    /// `.`, an attached message/rfc822 given as bytes (RFC 2046 section 5.2.1 allows it no quoted-printable or
    /// base64), or a part whose 7bit/8bit/binary encoding the caller fixed.
    /// Build the attached message with dot-safe mode too, or attach it as
    /// `application/octet-stream`.
    #[error("dot-safe mode: {0} has a line starting with '.' or \"From \"")]
    NotDotSafe(&'static str),
    /// A text body (or a message/rfc822 given as bytes without BINARYMIME) holds
    /// a CR or LF outside a CRLF pair. RFC 2046 section 4.1.1: in the canonical
    /// form of text "Use of CR and LF outside of line break sequences is also
    /// forbidden" (and RFC 2045 sections 2.7, 2.8 for 7bit and 8bit data). Turn on
    /// [`MessageBuilder::normalize_line_endings`] to have them made CRLF.
    #[error("bare CR or LF in {0}")]
    BareLineEnding(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Leaf(Vec<u8>),
    Multipart(Vec<BodyPart>),
    Message(Vec<u8>),
}

/// One body part to build: a leaf (text, html, attachment, inline), a multipart, or a
/// nested message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPart {
    media_type: String,
    params: Vec<(String, String)>,
    disposition: Option<(String, Option<String>)>,
    content_id: Option<String>,
    description: Option<String>,
    extra: Vec<(String, String)>,
    encoding: Option<TransferEncoding>,
    content: Content,
}

impl BodyPart {
    fn leaf(media_type: &str, body: Vec<u8>) -> Self {
        BodyPart {
            media_type: media_type.to_ascii_lowercase(),
            params: Vec::new(),
            disposition: None,
            content_id: None,
            description: None,
            extra: Vec::new(),
            encoding: None,
            content: Content::Leaf(body),
        }
    }

    /// text/plain; charset=utf-8. Lines end in CRLF: a bare CR or LF is refused
    /// at build time ([`BuildError::BareLineEnding`]) unless
    /// [`MessageBuilder::normalize_line_endings`] is on.
    #[must_use]
    pub fn text(text: &str) -> Self {
        Self::leaf("text/plain", text.as_bytes().to_vec()).param("charset", "utf-8")
    }

    /// text/html; charset=utf-8.
    #[must_use]
    pub fn html(html: &str) -> Self {
        Self::leaf("text/html", html.as_bytes().to_vec()).param("charset", "utf-8")
    }

    /// Any leaf type with raw content (e.g. `text/plain` in another charset: add the
    /// `charset` with [`BodyPart::param`]). A multipart or message type given so
    /// (`message/delivery-status`, ...) goes 7bit, 8bit or binary as RFC 2045
    /// section 6.4 requires, never base64 or quoted-printable (message/global
    /// and its kin excepted, RFC 6532 section 3.5).
    #[must_use]
    pub fn raw(media_type: &str, body: Vec<u8>) -> Self {
        Self::leaf(media_type, body)
    }

    /// An attachment (`Content-Disposition: attachment; filename=...`).
    #[must_use]
    pub fn attachment(media_type: &str, filename: &str, body: Vec<u8>) -> Self {
        let mut p = Self::leaf(media_type, body);
        p.disposition = Some(("attachment".into(), Some(filename.into())));
        p
    }

    /// An inline part referenced by `cid:` (for multipart/related).
    #[must_use]
    pub fn inline(media_type: &str, filename: Option<&str>, content_id: &str, body: Vec<u8>) -> Self {
        let mut p = Self::leaf(media_type, body);
        p.disposition = Some(("inline".into(), filename.map(str::to_owned)));
        p.content_id = Some(content_id.into());
        p
    }

    /// A multipart of any subtype.
    #[must_use]
    pub fn multipart(subtype: &str, parts: Vec<BodyPart>) -> Self {
        let mut p = Self::leaf(&format!("multipart/{subtype}"), Vec::new());
        p.content = Content::Multipart(parts);
        p
    }

    /// multipart/mixed.
    #[must_use]
    pub fn mixed(parts: Vec<BodyPart>) -> Self {
        Self::multipart("mixed", parts)
    }

    /// multipart/alternative (least preferred first).
    #[must_use]
    pub fn alternative(parts: Vec<BodyPart>) -> Self {
        Self::multipart("alternative", parts)
    }

    /// multipart/related (root first).
    #[must_use]
    pub fn related(parts: Vec<BodyPart>) -> Self {
        Self::multipart("related", parts)
    }

    /// message/rfc822 holding an already built message, or message/global when
    /// one of its header fields (or of its body parts) holds UTF-8 (RFC 6532
    /// section 3.7); that one goes base64 on a transport without 8BITMIME
    /// (RFC 6532 section 3.5).
    #[must_use]
    pub fn message(bytes: Vec<u8>) -> Self {
        let mut p = Self::leaf("message/rfc822", Vec::new());
        p.content = Content::Message(bytes);
        p
    }

    /// Adds a Content-Type parameter.
    #[must_use]
    pub fn param(mut self, name: &str, value: &str) -> Self {
        self.params.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.params.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Sets Content-Description.
    #[must_use]
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_owned());
        self
    }

    /// Adds any other header (unstructured; RFC 2047 encoded when not ASCII; a
    /// structured field such as Content-ID only with a value that needs no
    /// encoding, see [`BuildError::StructuredField`]).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The header fields the builder writes for this part (RFC 2045 allows one of
    /// each per entity).
    fn own_fields(&self) -> Vec<&'static str> {
        let mut own = vec!["Content-Type", "Content-Transfer-Encoding"];
        if self.disposition.is_some() {
            own.push("Content-Disposition");
        }
        if self.content_id.is_some() {
            own.push("Content-ID");
        }
        if self.description.is_some() {
            own.push("Content-Description");
        }
        own
    }

    /// Forces a transfer encoding (refused at build time if the transport does not allow it).
    #[must_use]
    pub fn encoding(mut self, e: TransferEncoding) -> Self {
        self.encoding = Some(e);
        self
    }
}

/// Builds a message. Date and Message-ID are generated when not set; From is
/// required (RFC 5322 section 3.6 wants one orig-date and one from field in every
/// message: without [`MessageBuilder::from`] the build fails with
/// [`BuildError::FromRequired`]).
///
/// Output rules: CRLF line endings; header lines folded at whitespace to stay within 78
/// characters where possible and never beyond 998; RFC 2047 encoded words only in
/// unstructured text and display-name phrases (never inside quoted strings); RFC 2231
/// `name*` parameters for non-ASCII or long values; boundaries checked against the
/// content they enclose; per-part transfer encoding (7bit, quoted-printable, base64;
/// 8bit or binary only when [`Transport`] allows).
///
/// Line endings are strict by default: a text body, or a message/rfc822 given as
/// bytes (without BINARYMIME), must end its lines in CRLF and hold no other CR or
/// LF, else the build fails with [`BuildError::BareLineEnding`];
/// [`MessageBuilder::normalize_line_endings`] converts them instead.
#[derive(Debug, Clone, Default)]
pub struct MessageBuilder {
    from: Vec<Mailbox>,
    sender: Option<Mailbox>,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    bcc: Vec<Mailbox>,
    reply_to: Vec<Mailbox>,
    subject: Option<String>,
    date: Option<DateTime>,
    message_id: Option<String>,
    in_reply_to: Vec<String>,
    references: Vec<String>,
    extra: Vec<(String, String)>,
    body: Option<BodyPart>,
    transport: Transport,
    dot_safe: bool,
    normalize_line_endings: bool,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(seed: i64) -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(seed);
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

impl MessageBuilder {
    /// An empty builder (text/plain empty body unless [`MessageBuilder::body`] is called).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a From mailbox. At least one is required (RFC 5322 section 3.6; the
    /// build fails with [`BuildError::FromRequired`] without), and with more than
    /// one a [`MessageBuilder::sender`] is required too (RFC 5322 section 3.6.2).
    #[must_use]
    pub fn from(mut self, m: Mailbox) -> Self {
        self.from.push(m);
        self
    }
    /// Sets Sender.
    #[must_use]
    pub fn sender(mut self, m: Mailbox) -> Self {
        self.sender = Some(m);
        self
    }
    /// Adds a To mailbox.
    #[must_use]
    pub fn to(mut self, m: Mailbox) -> Self {
        self.to.push(m);
        self
    }
    /// Adds a Cc mailbox.
    #[must_use]
    pub fn cc(mut self, m: Mailbox) -> Self {
        self.cc.push(m);
        self
    }
    /// Adds a Bcc mailbox.
    #[must_use]
    pub fn bcc(mut self, m: Mailbox) -> Self {
        self.bcc.push(m);
        self
    }
    /// Adds a Reply-To mailbox.
    #[must_use]
    pub fn reply_to(mut self, m: Mailbox) -> Self {
        self.reply_to.push(m);
        self
    }
    /// Sets the Subject.
    #[must_use]
    pub fn subject(mut self, s: &str) -> Self {
        self.subject = Some(s.to_owned());
        self
    }
    /// Sets the Date (otherwise the build time is used).
    #[must_use]
    pub fn date(mut self, d: DateTime) -> Self {
        self.date = Some(d);
        self
    }
    /// Sets the Message-ID (without brackets).
    #[must_use]
    pub fn message_id(mut self, id: &str) -> Self {
        self.message_id = Some(id.to_owned());
        self
    }
    /// Adds an In-Reply-To id.
    #[must_use]
    pub fn in_reply_to(mut self, id: &str) -> Self {
        self.in_reply_to.push(id.to_owned());
        self
    }
    /// Adds a References id.
    #[must_use]
    pub fn references(mut self, id: &str) -> Self {
        self.references.push(id.to_owned());
        self
    }
    /// Adds any other header: unstructured text, RFC 2047 encoded when needed. A
    /// structured field (Resent-To, Return-Path, ...) may be added with a value
    /// that needs no encoding; one that would is refused at build time
    /// ([`BuildError::StructuredField`]).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }
    /// Sets the body.
    #[must_use]
    pub fn body(mut self, b: BodyPart) -> Self {
        self.body = Some(b);
        self
    }
    /// Declares what the transport allows.
    #[must_use]
    pub fn transport(mut self, t: Transport) -> Self {
        self.transport = t;
        self
    }
    /// Dot-safe mode: text lines starting with `.` or `From ` are quoted-printable
    /// encoded (`=2E`, `=46rom `), so the message survives dot-stuffing-unaware relays
    /// and mbox files unchanged. No output line then starts with either; where a
    /// part cannot be re-encoded (an attached message/rfc822 given as bytes, or a
    /// caller-fixed 7bit/8bit/binary encoding) the build fails with
    /// [`BuildError::NotDotSafe`] rather than break the promise. Base64 lines,
    /// boundaries and the builder's own header fields never start with either.
    #[must_use]
    pub fn dot_safe(mut self, on: bool) -> Self {
        self.dot_safe = on;
        self
    }
    /// Converts line endings instead of refusing them (off by default): in text
    /// bodies, and in a message/rfc822 given as bytes when the transport lacks
    /// BINARYMIME, every LF and every CR outside a CRLF pair becomes CRLF. This is
    /// the conversion of a local newline convention to the canonical form (RFC
    /// 2049 section 4; RFC 2046 section 4.1.1 allows text no other CR or LF), for
    /// text typed with `\n` or read from a file. A CR in `a\rb` then becomes a
    /// line break. Bodies of other types are never changed.
    #[must_use]
    pub fn normalize_line_endings(mut self, on: bool) -> Self {
        self.normalize_line_endings = on;
        self
    }

    /// Builds using the system clock for a missing Date (UTC) and Message-ID.
    /// This is the only place the crate reads the clock; use
    /// [`MessageBuilder::build_at`] for reproducible output.
    ///
    /// # Errors
    ///
    /// See [`BuildError`].
    pub fn build(self) -> Result<Vec<u8>, BuildError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.build_at(now, 0)
    }

    /// Builds with `unix_time` (zone `offset_minutes`) for a missing Date and as the seed
    /// of a missing Message-ID.
    ///
    /// # Errors
    ///
    /// See [`BuildError`].
    pub fn build_at(self, unix_time: i64, offset_minutes: i16) -> Result<Vec<u8>, BuildError> {
        let mut w = Writer {
            out: Vec::new(),
            t: self.transport,
            dot_safe: self.dot_safe,
            normalize: self.normalize_line_endings,
            seed: unix_time,
        };
        let date = self
            .date
            .unwrap_or_else(|| DateTime::from_unix(unix_time, offset_minutes));
        // what cannot be read back as the same date was not written right (a zone
        // of five digits, a 13th month, ...); RFC 5322 section 3.3 wants a year
        // from 1900 on
        let text = date.to_rfc5322();
        if date.year < 1900 || DateTime::parse(text.as_bytes()) != Some(date) {
            return Err(BuildError::InvalidDate(text));
        }
        w.field("Date", &[text])?;
        // RFC 5322 section 3.6: one orig-date (written above) and one from field
        if self.from.is_empty() {
            return Err(BuildError::FromRequired);
        }
        if self.from.len() > 1 && self.sender.is_none() {
            return Err(BuildError::SenderRequired);
        }
        for (name, list) in [
            ("From", &self.from),
            ("To", &self.to),
            ("Cc", &self.cc),
            ("Bcc", &self.bcc),
        ] {
            w.addresses(name, list)?;
        }
        if let Some(s) = &self.sender {
            w.addresses("Sender", std::slice::from_ref(s))?;
        }
        w.addresses("Reply-To", &self.reply_to)?;
        if let Some(s) = &self.subject {
            w.unstructured("Subject", s)?;
        }
        let id = match self.message_id {
            Some(id) => id,
            None => {
                let domain = self.from.first().map_or("localhost", |m| m.domain.as_str());
                let domain = if domain.is_ascii() && !domain.is_empty() {
                    domain
                } else {
                    "localhost"
                };
                format!("{unix_time:x}.{:016x}@{domain}", unique(unix_time))
            }
        };
        w.ids("Message-ID", std::slice::from_ref(&id))?;
        w.ids("In-Reply-To", &self.in_reply_to)?;
        w.ids("References", &self.references)?;
        // fields the builder writes itself may not come twice (RFC 5322 section
        // 3.6; the body part's Content-* fields go in this header block too)
        let mut own = vec!["Date", "From", "Message-ID", "MIME-Version"];
        for (name, set) in [
            ("To", !self.to.is_empty()),
            ("Cc", !self.cc.is_empty()),
            ("Bcc", !self.bcc.is_empty()),
            ("Sender", self.sender.is_some()),
            ("Reply-To", !self.reply_to.is_empty()),
            ("Subject", self.subject.is_some()),
            ("In-Reply-To", !self.in_reply_to.is_empty()),
            ("References", !self.references.is_empty()),
        ] {
            if set {
                own.push(name);
            }
        }
        let body = self.body.unwrap_or_else(|| BodyPart::text(""));
        own.extend(body.own_fields());
        // the root part's own extra fields are in this header block too
        let extra_names = self.extra.iter().chain(&body.extra).map(|(n, _)| n.as_str());
        once_each(own.iter().copied().chain(extra_names), false)?;
        for (n, v) in &self.extra {
            if own.iter().any(|o| o.eq_ignore_ascii_case(n.trim())) {
                return Err(BuildError::DuplicateField(n.clone()));
            }
            w.extra(n, v)?;
        }
        w.field("MIME-Version", &["1.0".into()])?;
        w.part(&body)?;
        Ok(w.out)
    }
}

struct Writer {
    out: Vec<u8>,
    t: Transport,
    dot_safe: bool,
    /// [`MessageBuilder::normalize_line_endings`].
    normalize: bool,
    seed: i64,
}

fn check(s: &str, what: &'static str) -> Result<(), BuildError> {
    proto_core::check_arg(s.as_bytes()).map_err(|_| BuildError::ForbiddenByte(what))
}

/// Whether `s` holds an ASCII control other than TAB: RFC 5322 section 2.2 allows
/// only printable characters, SP and HTAB in a field body (the others are obsolete
/// syntax, section 4.1, never to be generated), so such text goes as RFC 2047
/// words or RFC 2231 percent-encoding.
fn has_ctl(s: &str) -> bool {
    s.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f)
}

fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// Whether `d` can be written as the domain of an addr-spec (RFC 5322 section
/// 3.4.1): a dot-atom (UTF-8 allowed, RFC 6532; the caller refuses it without
/// SMTPUTF8) or a domain literal `[dtext]`. Anything else (`>`, `,`, `;`, spaces,
/// comments) would end the address early or add another one to the field.
fn is_domain(d: &str) -> bool {
    if d.starts_with('[') {
        return is_literal(d);
    }
    d.split('.')
        .all(|label| !label.is_empty() && label.bytes().all(|b| is_atext(b) || b >= 0x80))
}

/// Whether `id` (without its brackets) is `id-left "@" id-right` (RFC 5322
/// section 3.6.4): `id-left` atext and dots, `id-right` the same or a
/// no-fold-literal `[dtext]`. Dots may stand anywhere (the obsolete
/// `obs-id-left` allows `a..b`, and a dot changes no reader's tokenizing). Bytes
/// from 0x80 are UTF-8 atext (RFC 6532 section 3.2); the caller refuses them
/// without SMTPUTF8.
fn is_msg_id(id: &str) -> bool {
    let words = |s: &str| !s.is_empty() && s.bytes().all(|b| b == b'.' || is_atext(b) || b >= 0x80);
    let Some((left, right)) = id.split_once('@') else {
        return false;
    };
    words(left) && (words(right) || is_literal(right))
}

/// Whether `d` is `"[" *dtext "]"` (RFC 5322 section 3.4.1 domain-literal, section
/// 3.6.4 no-fold-literal, without white space).
fn is_literal(d: &str) -> bool {
    d.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|inner| {
            inner
                .bytes()
                .all(|b| (33..=126).contains(&b) && !matches!(b, b'[' | b']' | b'\\'))
        })
}

impl Writer {
    /// Writes `Name: tok tok ...` folded before a token when the line would pass 78,
    /// or 76 on a line holding an encoded word (RFC 2047 section 2); a first token
    /// that is an encoded word too long for the first line goes on the next one.
    fn field(&mut self, name: &str, tokens: &[String]) -> Result<(), BuildError> {
        if name.is_empty() || !name.bytes().all(|b| (33..127).contains(&b) && b != b':') {
            return Err(BuildError::InvalidHeaderName);
        }
        if self.dot_safe && name.starts_with('.') {
            return Err(BuildError::NotDotSafe("a header field name"));
        }
        check(name, "header name")?;
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b':');
        let mut len = name.len() + 1;
        let mut first = true;
        let mut line_has_word = false;
        // whether the line holds only white space so far (a fold may not leave one so)
        let mut blank = false;
        for tok in tokens {
            check(tok, "header value")?;
            let word = tok.starts_with("=?") && tok.ends_with("?=");
            let limit = if word || line_has_word { 76 } else { 78 };
            // a TAB in a token is white space to fold before too (RFC 5322
            // section 2.2.3: a fold is a CRLF before any WSP): the token goes out
            // in segments, each after a TAB but the first
            let mut segments = tok.split('\t');
            let head = segments.next().unwrap_or("");
            // an empty token (two spaces in a row) folds too when the line is
            // full, so no run of spaces takes a line past the limit; no fold
            // leaves a line of white space only
            if (!first || word) && !blank && len + 1 + head.len() > limit {
                self.out.extend_from_slice(b"\r\n");
                len = 0;
                line_has_word = false;
                blank = true;
            }
            line_has_word |= word;
            self.out.push(b' ');
            self.out.extend_from_slice(head.as_bytes());
            len += 1 + head.len();
            blank &= head.is_empty();
            for seg in segments {
                if !blank && len + 1 + seg.len() > limit {
                    self.out.extend_from_slice(b"\r\n");
                    len = 0;
                    blank = true;
                }
                self.out.push(b'\t');
                self.out.extend_from_slice(seg.as_bytes());
                len += 1 + seg.len();
                blank &= seg.is_empty();
                if len > 998 {
                    return Err(BuildError::LineTooLong);
                }
            }
            if len > 998 {
                return Err(BuildError::LineTooLong);
            }
            first = false;
        }
        self.out.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// Whether `value` goes out as written (else as RFC 2047 words).
    fn plain(&self, value: &str) -> bool {
        (value.is_ascii() || self.t.utf8_headers)
            && !has_ctl(value)
            && !value.contains("=?")
            && value.split(' ').all(|w| w.len() < 900)
            && value.trim() == value
    }

    /// A field added with `header()`: unstructured text, RFC 2047 encoded where
    /// needed, except under the name of a structured field, where encoded words
    /// are not allowed (RFC 2047 section 5): that value must go as written.
    fn extra(&mut self, name: &str, value: &str) -> Result<(), BuildError> {
        check(value, "header value")?;
        if STRUCTURED.iter().any(|s| s.eq_ignore_ascii_case(name.trim())) && !self.plain(value) {
            return Err(BuildError::StructuredField(name.to_owned()));
        }
        self.unstructured(name, value)
    }

    fn unstructured(&mut self, name: &str, value: &str) -> Result<(), BuildError> {
        check(value, "header value")?;
        let tokens: Vec<String> = if self.plain(value) {
            value.split(' ').map(str::to_owned).collect()
        } else {
            encode_words(value)
        };
        self.field(name, &tokens)
    }

    fn phrase(&self, name: &str) -> Vec<String> {
        if (name.is_ascii() || self.t.utf8_headers)
            && !has_ctl(name)
            && !name.contains("=?")
            && name.len() < 900
        {
            if name
                .split(' ')
                .all(|w| !w.is_empty() && w.bytes().all(|b| is_atext(b) || b >= 0x80))
            {
                return name.split(' ').map(str::to_owned).collect();
            }
            let mut q = String::from("\"");
            for ch in name.chars() {
                if ch == '"' || ch == '\\' {
                    q.push('\\');
                }
                q.push(ch);
            }
            q.push('"');
            // a quoted string may fold at its white space (RFC 5322 section
            // 3.2.4): its words go as tokens, which `field` joins with a space
            return q.split(' ').map(str::to_owned).collect();
        }
        encode_words(name)
    }

    fn addresses(&mut self, name: &str, list: &[Mailbox]) -> Result<(), BuildError> {
        if list.is_empty() {
            return Ok(());
        }
        let mut tokens = Vec::new();
        for (i, m) in list.iter().enumerate() {
            let addr = m.address();
            check(&addr, "address")?;
            // RFC 5322 section 3.4.1: `addr-spec = local-part "@" domain`, and a
            // domain is never empty (an empty one would write a bare local part)
            if m.domain.is_empty() {
                return Err(BuildError::InvalidAddress(format!("{addr}@ (empty domain)")));
            }
            if !is_domain(&m.domain) {
                return Err(BuildError::InvalidAddress(addr));
            }
            // RFC 5322 section 3.2.4 (qtext, obs-qtext never generated) and RFC
            // 5321 section 4.1.2 (qtextSMTP): no control in a quoted local part,
            // TAB included, and an addr-spec takes no RFC 2047 word (section 5)
            if m.local.bytes().any(|b| b < b' ' || b == 0x7f) {
                return Err(BuildError::InvalidAddress(addr.escape_debug().to_string()));
            }
            if !addr.is_ascii() && !self.t.utf8_headers {
                return Err(BuildError::NonAsciiAddress(addr));
            }
            let sep = if i + 1 < list.len() { "," } else { "" };
            match &m.name {
                Some(n) if !n.is_empty() => {
                    check(n, "display name")?;
                    tokens.extend(self.phrase(n));
                    tokens.push(format!("<{addr}>{sep}"));
                }
                _ => tokens.push(format!("{addr}{sep}")),
            }
        }
        self.field(name, &tokens)
    }

    fn ids(&mut self, name: &str, ids: &[String]) -> Result<(), BuildError> {
        if ids.is_empty() {
            return Ok(());
        }
        let tokens: Vec<String> = ids
            .iter()
            .map(|i| format!("<{}>", i.trim_matches(['<', '>'])))
            .collect();
        // RFC 5322 section 3.6.4: inside the brackets a msg-id has no white space
        // and no angle bracket (a '>' would end it early and start another), and
        // is ASCII unless the transport has SMTPUTF8 (RFC 6532 section 3.2)
        let bad = |t: &String| {
            t[1..t.len() - 1].bytes().any(|b| {
                b <= b' ' || b == 0x7f || b == b'<' || b == b'>' || (b >= 0x80 && !self.t.utf8_headers)
            })
        };
        if tokens.iter().any(bad) {
            return Err(BuildError::ForbiddenByte("message id"));
        }
        if tokens.iter().any(|t| t == "<>") {
            return Err(BuildError::EmptyMessageId);
        }
        if let Some(t) = tokens.iter().find(|t| !is_msg_id(&t[1..t.len() - 1])) {
            return Err(BuildError::InvalidMessageId(t[1..t.len() - 1].to_owned()));
        }
        self.field(name, &tokens)
    }

    fn params(&self, head: String, params: &[(String, String)]) -> Result<Vec<String>, BuildError> {
        let mut toks = vec![head];
        for (name, value) in params {
            check(name, "parameter name")?;
            check(value, "parameter value")?;
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(BuildError::InvalidHeaderName);
            }
            if let Some(last) = toks.last_mut() {
                last.push(';');
            }
            let token = !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b > b' ' && b < 0x7f && !crate::header::TSPECIALS.contains(&b));
            // a value holding "=?" goes as RFC 2231 too: readers decode RFC 2047
            // words even in parameters, where RFC 2047 section 5 forbids them
            if value.is_ascii() && !has_ctl(value) && name.len() + value.len() < 60 && !value.contains("=?") {
                if token {
                    toks.push(format!("{name}={value}"));
                } else {
                    let q: String = value.replace('\\', "\\\\").replace('"', "\\\"");
                    toks.push(format!("{name}=\"{q}\""));
                }
                continue;
            }
            // RFC 2231: percent-encoded UTF-8, split in sections of ~60 characters
            let mut enc = String::new();
            let mut sections = Vec::new();
            for ch in value.chars() {
                let mut piece = String::new();
                let mut b = [0u8; 4];
                for &byte in ch.encode_utf8(&mut b).as_bytes() {
                    if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                        piece.push(char::from(byte));
                    } else {
                        piece.push_str(&format!("%{byte:02X}"));
                    }
                }
                if enc.len() + piece.len() > 60 {
                    sections.push(std::mem::take(&mut enc));
                }
                enc.push_str(&piece);
            }
            sections.push(enc);
            let n = sections.len();
            for (i, s) in sections.into_iter().enumerate() {
                let prefix = if i == 0 { "utf-8''" } else { "" };
                let sep = if i + 1 < n { ";" } else { "" };
                if n == 1 {
                    toks.push(format!("{name}*={prefix}{s}"));
                } else {
                    toks.push(format!("{name}*{i}*={prefix}{s}{sep}"));
                }
            }
        }
        Ok(toks)
    }

    fn choose(&self, p: &BodyPart, body: &[u8]) -> Result<TransferEncoding, BuildError> {
        let text = p.media_type.starts_with("text/");
        let long = has_long_line(body);
        let nul = body.contains(&0);
        let non_ascii = body.iter().filter(|&&b| b >= 0x80).count();
        let bare = has_bare_cr_lf(body);
        let dot_risk = self.dot_safe && has_dot_risk(body);
        // RFC 2045 section 6.4 ("EXPRESSLY FORBIDDEN to use any encodings other
        // than 7bit, 8bit, or binary with any composite media type"), RFC 2046
        // sections 5.2.1-5.2.3, RFC 3464 section 2.1: a multipart or any message
        // given as bytes takes 7bit, 8bit or binary only; message/global and its
        // kin may take any (RFC 6532 section 3.5, RFC 6533)
        let composite = p.media_type.starts_with("multipart/")
            || (p.media_type.starts_with("message/") && !p.media_type.starts_with("message/global"));
        if composite {
            match p.encoding {
                Some(
                    e @ (TransferEncoding::QuotedPrintable
                    | TransferEncoding::Base64
                    | TransferEncoding::Other),
                ) => {
                    return Err(BuildError::EncodingNotAllowed(e.as_str()));
                }
                Some(_) => {}
                None if dot_risk => {
                    return Err(BuildError::NotDotSafe("a message or multipart given as bytes"));
                }
                None if non_ascii == 0 && !long && !nul && !bare => return Ok(TransferEncoding::SevenBit),
                None if !long && !nul && !bare && (self.t.eight_bit || self.t.binary) => {
                    return Ok(TransferEncoding::EightBit);
                }
                None if self.t.binary => return Ok(TransferEncoding::Binary),
                None => {
                    return Err(BuildError::EncodingNotAllowed(
                        "a message or multipart needs 8bit or binary",
                    ));
                }
            }
        }
        if let Some(e) = p.encoding {
            return match e {
                TransferEncoding::SevenBit | TransferEncoding::EightBit | TransferEncoding::Binary
                    if dot_risk =>
                {
                    Err(BuildError::NotDotSafe("a part with a fixed encoding"))
                }
                TransferEncoding::EightBit if !self.t.eight_bit && !self.t.binary => {
                    Err(BuildError::EncodingNotAllowed("8bit"))
                }
                TransferEncoding::Binary if !self.t.binary => Err(BuildError::EncodingNotAllowed("binary")),
                TransferEncoding::SevenBit if non_ascii > 0 || long || nul || bare => {
                    Err(BuildError::EncodingNotAllowed("7bit"))
                }
                TransferEncoding::EightBit if long || nul || bare => {
                    Err(BuildError::EncodingNotAllowed("8bit"))
                }
                TransferEncoding::Other => Err(BuildError::EncodingNotAllowed("x-unknown")),
                e => Ok(e),
            };
        }
        if self.t.binary && !text && !dot_risk {
            return Ok(TransferEncoding::Binary);
        }
        if !text || nul || bare {
            return Ok(TransferEncoding::Base64);
        }
        if !long && !dot_risk && non_ascii == 0 {
            return Ok(TransferEncoding::SevenBit);
        }
        if !long && !dot_risk && self.t.eight_bit {
            return Ok(TransferEncoding::EightBit);
        }
        Ok(if non_ascii * 3 > body.len() {
            TransferEncoding::Base64
        } else {
            TransferEncoding::QuotedPrintable
        })
    }

    fn part(&mut self, p: &BodyPart) -> Result<(), BuildError> {
        // RFC 2045 section 5.1: type "/" subtype, both tokens; anything else (a ';',
        // a space, a quote) would be read as parameters of the field
        let token = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b > b' ' && b < 0x7f && !crate::header::TSPECIALS.contains(&b))
        };
        if !p
            .media_type
            .split_once('/')
            .is_some_and(|(t, s)| token(t) && token(s))
        {
            return Err(BuildError::InvalidMediaType(p.media_type.clone()));
        }
        match &p.content {
            Content::Multipart(children) => {
                // RFC 2046 section 5.1.1: a multipart has one body part at least
                if children.is_empty() {
                    return Err(BuildError::EmptyMultipart);
                }
                let mut inner = Vec::with_capacity(children.len());
                for c in children {
                    let mut w = Writer {
                        out: Vec::new(),
                        t: self.t,
                        dot_safe: self.dot_safe,
                        normalize: self.normalize,
                        seed: self.seed,
                    };
                    w.part(c)?;
                    inner.push(w.out);
                }
                // a boundary that occurs in no child (RFC 2046 section 5.1.1)
                let mut boundary;
                let mut salt = 0u64;
                loop {
                    boundary = format!("=_{:016x}{salt:x}", unique(self.seed));
                    let needle = format!("--{boundary}");
                    if !inner
                        .iter()
                        .any(|c| memchr::memmem::find(c, needle.as_bytes()).is_some())
                    {
                        break;
                    }
                    salt += 1;
                }
                let mut params = vec![("boundary".to_owned(), boundary.clone())];
                params.extend(p.params.iter().filter(|(n, _)| n != "boundary").cloned());
                let toks = self.params(p.media_type.clone(), &params)?;
                self.field("Content-Type", &toks)?;
                self.common(p)?;
                self.out.extend_from_slice(b"\r\n");
                for c in &inner {
                    self.out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                    self.out.extend_from_slice(c);
                    self.out.extend_from_slice(b"\r\n");
                }
                self.out
                    .extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            }
            Content::Message(bytes) => {
                // RFC 6532 section 3.7: UTF-8 in a header field (its own or a body
                // part's) makes a message/global message, and a message/rfc822's
                // header fields are US-ASCII (RFC 2046 section 5.2.1)
                let global = p.media_type == "message/rfc822" && is_global_message(bytes);
                let media_type = if global {
                    "message/global".to_owned()
                } else {
                    p.media_type.clone()
                };
                let toks = self.params(media_type, &p.params)?;
                self.field("Content-Type", &toks)?;
                // A message's lines end in CRLF (RFC 5322 section 2.1); one read from
                // a file often has LF. Without BINARYMIME its bytes go out as 7bit or
                // 8bit, which allow no bare CR or LF and no NUL (RFC 2045 sections
                // 2.7, 2.8), so the line endings are made CRLF when the caller asked
                // for it, else refused. Under BINARYMIME the bytes are kept as given
                // (a binary part inside may hold them).
                let bytes: std::borrow::Cow<'_, [u8]> = if !self.t.binary && has_bare_cr_lf(bytes) {
                    if !self.normalize {
                        return Err(BuildError::BareLineEnding("a message/rfc822 body"));
                    }
                    std::borrow::Cow::Owned(normalize_crlf(bytes))
                } else {
                    std::borrow::Cow::Borrowed(bytes)
                };
                let long = has_long_line(&bytes);
                let nul = bytes.contains(&0);
                let identity =
                    if self.t.binary && (long || nul || has_bare_cr_lf(&bytes) || !bytes.is_ascii()) {
                        Some(TransferEncoding::Binary)
                    } else if bytes.is_ascii() && !long && !nul {
                        Some(TransferEncoding::SevenBit)
                    } else if self.t.eight_bit && !long && !nul {
                        Some(TransferEncoding::EightBit)
                    } else {
                        None
                    };
                let dot_risk = self.dot_safe && has_dot_risk(&bytes);
                let enc = match identity {
                    // message/global may be encoded (RFC 6532 section 3.5): for a
                    // 7-bit transport, or to keep a dot-safe promise
                    _ if global && (identity.is_none() || dot_risk) => TransferEncoding::Base64,
                    Some(_) if dot_risk => return Err(BuildError::NotDotSafe("an attached message")),
                    Some(e) => e,
                    None if nul => {
                        return Err(BuildError::EncodingNotAllowed(
                            "message/rfc822 with NUL needs binary",
                        ));
                    }
                    None => return Err(BuildError::EncodingNotAllowed("message/rfc822 needs 8bit")),
                };
                if enc != TransferEncoding::SevenBit {
                    self.field("Content-Transfer-Encoding", &[enc.as_str().into()])?;
                }
                self.common(p)?;
                self.out.extend_from_slice(b"\r\n");
                if enc == TransferEncoding::Base64 {
                    base64_lines(&bytes, &mut self.out);
                } else {
                    self.out.extend_from_slice(&bytes);
                }
            }
            Content::Leaf(raw) => {
                // RFC 2046 section 4.1.1: text has CR and LF only as CRLF.
                let body: Vec<u8> = if p.media_type.starts_with("text/") && has_bare_cr_lf(raw) {
                    if !self.normalize {
                        return Err(BuildError::BareLineEnding("a text body"));
                    }
                    normalize_crlf(raw)
                } else {
                    raw.clone()
                };
                let enc = self.choose(p, &body)?;
                let toks = self.params(p.media_type.clone(), &p.params)?;
                self.field("Content-Type", &toks)?;
                self.field("Content-Transfer-Encoding", &[enc.as_str().into()])?;
                self.common(p)?;
                self.out.extend_from_slice(b"\r\n");
                match enc {
                    TransferEncoding::Base64 => base64_lines(&body, &mut self.out),
                    TransferEncoding::QuotedPrintable => {
                        let text = p.media_type.starts_with("text/");
                        qp_encode(&body, text, self.dot_safe, &mut self.out);
                    }
                    _ => self.out.extend_from_slice(&body),
                }
            }
        }
        Ok(())
    }

    fn common(&mut self, p: &BodyPart) -> Result<(), BuildError> {
        if let Some((kind, filename)) = &p.disposition {
            let params: Vec<(String, String)> = filename
                .iter()
                .map(|f| ("filename".to_owned(), f.clone()))
                .collect();
            let toks = self.params(kind.clone(), &params)?;
            self.field("Content-Disposition", &toks)?;
        }
        if let Some(id) = &p.content_id {
            self.ids("Content-ID", std::slice::from_ref(id))?;
        }
        if let Some(d) = &p.description {
            self.unstructured("Content-Description", d)?;
        }
        let own = p.own_fields();
        once_each(
            own.iter().copied().chain(p.extra.iter().map(|(n, _)| n.as_str())),
            true,
        )?;
        for (n, v) in &p.extra {
            if own.iter().any(|o| o.eq_ignore_ascii_case(n.trim())) {
                return Err(BuildError::DuplicateField(n.clone()));
            }
            self.extra(n, v)?;
        }
        Ok(())
    }
}

/// Fields with a structure of their own (RFC 5322 section 3.6, RFC 2045, RFC 2183),
/// where RFC 2047 section 5 allows no encoded word in place of the whole value.
const STRUCTURED: [&str; 24] = [
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Resent-Date",
    "Resent-From",
    "Resent-Sender",
    "Resent-To",
    "Resent-Cc",
    "Resent-Bcc",
    "Resent-Message-ID",
    "Return-Path",
    "Received",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-ID",
    "Content-Disposition",
];

/// Refuses a second field of those a header block holds at most once (the
/// parser's list: RFC 2045 section 3 and RFC 2183 in any header, RFC 5322 section
/// 3.6 also in a message's), which a reader would report as
/// [`crate::DefectKind::DuplicateHeaderField`]. `names` are the block's fields in
/// order; `part_header` for a body part's header.
fn once_each<'n>(names: impl IntoIterator<Item = &'n str>, part_header: bool) -> Result<(), BuildError> {
    let mut seen = 0u32;
    for n in names {
        if let Some(bit) = crate::scan::single_field(n.trim().as_bytes(), part_header) {
            if seen & bit != 0 {
                return Err(BuildError::DuplicateField(n.to_owned()));
            }
            seen |= bit;
        }
    }
    Ok(())
}

/// Whether a message has 8-bit bytes in a header field, its own or a body
/// part's: a message/global message (RFC 6532 section 3.7).
fn is_global_message(bytes: &[u8]) -> bool {
    let m = crate::Message::parse(bytes);
    m.walk().any(|id| !m.header_bytes(id).is_ascii())
}

/// Whether a line has more than 998 octets (RFC 5322 section 2.1.1), counting the
/// octets before the line's CRLF: a line that ends with CRLF and one that ends the
/// buffer are measured alike, so a part's last line is judged the same way before
/// and after the CRLF a multipart or message adds after it.
fn has_long_line(b: &[u8]) -> bool {
    b.split(|&c| c == b'\n')
        .any(|l| l.strip_suffix(b"\r").unwrap_or(l).len() > 998)
}

fn has_bare_cr_lf(b: &[u8]) -> bool {
    b.iter().enumerate().any(|(i, &c)| {
        (c == b'\r' && b.get(i + 1) != Some(&b'\n')) || (c == b'\n' && (i == 0 || b[i - 1] != b'\r'))
    })
}

fn normalize_crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + b.len() / 32);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
                continue;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn base64_lines(body: &[u8], out: &mut Vec<u8>) {
    let enc = base64::engine::general_purpose::STANDARD.encode(body);
    out.reserve(enc.len() + enc.len() / 38 + 2);
    for line in enc.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
}

/// Whether some line of `body` starts with `.` or `From ` (what dot-safe mode
/// keeps off the wire).
fn has_dot_risk(body: &[u8]) -> bool {
    body.split(|&b| b == b'\n')
        .any(|l| l.starts_with(b".") || l.starts_with(b"From "))
}

/// Quoted-printable (RFC 2045 section 6.7): lines at most 76 characters with soft
/// breaks, `=`, controls, 8-bit bytes and whitespace before a line break encoded;
/// in dot-safe mode a leading `.` and the `F` of a leading `From ` too. Only `text`
/// has hard line breaks: other types have no canonical line break, so every CR
/// and LF of theirs is encoded (`=0D`, `=0A`; RFC 2045 section 6.7, rule 4).
fn qp_encode(body: &[u8], text: bool, dot_safe: bool, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut lines = body.split(|&b| text && b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let last = lines.peek().is_none();
        let line = if text {
            line.strip_suffix(b"\r").unwrap_or(line)
        } else {
            line
        };
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let at_end = i + 1 == line.len();
            let mut must =
                b == b'=' || (b < b' ' && b != b'\t') || b >= 0x7f || ((b == b' ' || b == b'\t') && at_end);
            if !must && col + 1 > 75 {
                out.extend_from_slice(b"=\r\n");
                col = 0;
            }
            // dot-safe: no output line (after a hard or a soft break) may start
            // with "." or "From "
            must |= dot_safe && col == 0 && (b == b'.' || (b == b'F' && line[i..].starts_with(b"From ")));
            let width = if must { 3 } else { 1 };
            if col + width > 75 {
                out.extend_from_slice(b"=\r\n");
                col = 0;
            }
            if must {
                out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            } else {
                out.push(b);
            }
            col += width;
        }
        if !last {
            out.extend_from_slice(b"\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{TransferEncoding, decode_body};

    #[test]
    fn qp_roundtrip_and_dot_safe() {
        let body = b"From here\r\n.dot line\r\ntrailing space \r\n".to_vec();
        let mut out = Vec::new();
        qp_encode(&body, true, true, &mut out);
        assert!(out.starts_with(b"=46rom here\r\n=2Edot line\r\ntrailing space=20\r\n"));
        assert_eq!(decode_body(&out, TransferEncoding::QuotedPrintable).0, body);
        let long: Vec<u8> = "é".repeat(200).into_bytes();
        let mut out = Vec::new();
        qp_encode(&long, true, false, &mut out);
        assert!(out.split(|&b| b == b'\n').all(|l| l.len() <= 77));
        assert_eq!(decode_body(&out, TransferEncoding::QuotedPrintable).0, long);
        // a soft line break never leaves "." or "From " at the start of a line
        for pad in 70..80 {
            let mut body = "x".repeat(pad).into_bytes();
            body.extend_from_slice(b"....From here.\r\n");
            body.extend(std::iter::repeat_n(b'.', 200));
            let mut out = Vec::new();
            qp_encode(&body, true, true, &mut out);
            for l in out.split(|&b| b == b'\n') {
                assert!(!l.starts_with(b".") && !l.starts_with(b"From "), "{pad}");
                assert!(l.len() <= 77);
            }
            assert_eq!(decode_body(&out, TransferEncoding::QuotedPrintable).0, body);
        }
    }
}
