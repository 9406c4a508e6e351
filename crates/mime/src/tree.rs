//! The parsed tree: every part with byte offsets into the input, so parts and IMAP
//! sections can be cut byte-exactly.

use crate::address::{Address, ReturnPath, parse_addresses, parse_return_path};
use crate::charset::{decode_charset, is_utf8_label, utf8_lossy_owned};
use crate::date::DateTime;
use crate::decode::{TransferEncoding, decode_body};
use crate::defect::{Defect, DefectKind};
use crate::header::{Header, parse_msg_ids};
use crate::limits::Limits;
use crate::params::Scanned;
use crate::params::{ContentType, Disposition};
use crate::scan::{ChunkKind, Ev, FieldPos, Scanner, Shape, Sink};
use std::borrow::Cow;
use std::ops::Range;

/// Index of a part in [`Message::parts`]; the root is 0.
pub type PartId = usize;

/// The structure of a part's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartKind {
    /// Opaque content (text, image, a multipart without boundary, ...).
    Leaf,
    /// A multipart: its children in order, preamble and epilogue ranges.
    Multipart {
        /// Child parts.
        children: Vec<PartId>,
        /// Text before the first delimiter (without the CRLF that belongs to it).
        preamble: Range<usize>,
        /// Text after the close delimiter; `None` when there was no close delimiter.
        epilogue: Option<Range<usize>>,
    },
    /// message/rfc822, message/global: the nested message.
    Message {
        /// The nested message's root part.
        child: Option<PartId>,
    },
}

/// One part (the root part is the message itself).
#[derive(Debug, Clone)]
pub struct Part<'a> {
    /// Header fields in order, borrowing from the input.
    pub headers: Vec<Header<'a>>,
    /// The header block, blank line included (IMAP `HEADER` / `MIME`).
    pub header_range: Range<usize>,
    /// The body (IMAP `TEXT`), transfer-encoded, without the CRLF before the next delimiter.
    pub body_range: Range<usize>,
    /// Content-Type (or the default: text/plain, message/rfc822 in a digest),
    /// borrowing from the input.
    pub content_type: ContentType<'a>,
    /// Whether Content-Type was present and valid.
    pub explicit_content_type: bool,
    /// Content-Transfer-Encoding.
    pub encoding: TransferEncoding,
    /// Structure of the body.
    pub kind: PartKind,
    /// Enclosing part.
    pub parent: Option<PartId>,
}

/// Parse options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Limits on nesting, parts and header sizes.
    pub limits: Limits,
    /// Refuse any message with a defect ([`Message::parse_with`] returns an error).
    pub strict: bool,
}

/// A message refused in strict mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed message: {first:?} at byte {}", first.offset)]
pub struct StrictError {
    /// The first defect.
    pub first: Defect,
    /// All defects.
    pub defects: Vec<Defect>,
}

/// Which bytes of a part an IMAP section names (RFC 3501 section 6.4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `BODY[1.2]`: the part's body.
    Body,
    /// `BODY[1.2.MIME]`: the part's own header block.
    Mime,
    /// `BODY[1.2.HEADER]`: header of the message in a message/rfc822 part (or the root).
    Header,
    /// `BODY[1.2.TEXT]`: body of the message in a message/rfc822 part (or the root).
    Text,
}

/// A parsed message: the input and a flat list of parts (no recursion needed to walk it).
#[derive(Debug, Clone)]
pub struct Message<'a> {
    input: &'a [u8],
    /// All parts, in document order; the root is index 0.
    pub parts: Vec<Part<'a>>,
    /// Problems found, in input order.
    pub defects: Vec<Defect>,
}

impl<'a> Message<'a> {
    /// Parses a whole message with default limits. Never fails: problems are in
    /// [`Message::defects`].
    #[must_use]
    pub fn parse(input: &'a [u8]) -> Self {
        Self::build(input, Limits::default())
    }

    /// Parses with explicit options.
    ///
    /// # Errors
    ///
    /// In strict mode, any defect.
    pub fn parse_with(input: &'a [u8], opts: ParseOptions) -> Result<Self, StrictError> {
        let m = Self::build(input, opts.limits);
        match m.defects.first() {
            Some(&first) if opts.strict => Err(StrictError {
                first,
                defects: m.defects,
            }),
            _ => Ok(m),
        }
    }

    fn build(input: &'a [u8], limits: Limits) -> Self {
        let mut sc = Scanner::new(limits);
        let mut t = TreeSink {
            input,
            parts: Vec::with_capacity(8),
            defects: Vec::new(),
            open: None,
            content: None,
        };
        while sc.step(&mut t, input.get(sc.pos..).unwrap_or_default(), true) {}
        // the scanner ends every part it began; should one be left open, end it here
        // so that no range keeps its while-building marker
        while t.open.is_some() {
            t.event(Ev::PartEnd { end: input.len() });
        }
        Message {
            input,
            parts: t.parts,
            defects: t.defects,
        }
    }

    /// The whole input.
    #[must_use]
    pub fn input(&self) -> &'a [u8] {
        self.input
    }

    /// The root part.
    #[must_use]
    pub fn root(&self) -> &Part<'a> {
        &self.parts[0]
    }

    /// Part ids in depth-first document order (the same as `parts` indices).
    pub fn walk(&self) -> impl Iterator<Item = PartId> + '_ {
        0..self.parts.len()
    }

    /// Nesting depth of a part (root is 0).
    #[must_use]
    pub fn depth(&self, id: PartId) -> usize {
        let mut d = 0;
        let mut cur = self.parts.get(id).and_then(|p| p.parent);
        while let Some(p) = cur {
            d += 1;
            cur = self.parts[p].parent;
        }
        d
    }

    /// A part's bytes from its first header to the end of its body.
    #[must_use]
    pub fn raw(&self, id: PartId) -> &'a [u8] {
        let p = &self.parts[id];
        &self.input[p.header_range.start..p.body_range.end]
    }

    /// A part's header block, blank line included.
    #[must_use]
    pub fn header_bytes(&self, id: PartId) -> &'a [u8] {
        &self.input[self.parts[id].header_range.clone()]
    }

    /// A part's raw (transfer-encoded) body.
    #[must_use]
    pub fn body_bytes(&self, id: PartId) -> &'a [u8] {
        &self.input[self.parts[id].body_range.clone()]
    }

    /// Bytes of any range recorded in the tree.
    #[must_use]
    pub fn slice(&self, r: Range<usize>) -> &'a [u8] {
        self.input.get(r).unwrap_or(&[])
    }

    /// The body with the transfer encoding removed (borrowed when nothing to do).
    #[must_use]
    pub fn decoded_body(&self, id: PartId) -> (Cow<'a, [u8]>, Vec<DefectKind>) {
        let p = &self.parts[id];
        let body = self.body_bytes(id);
        match p.encoding {
            TransferEncoding::Base64 | TransferEncoding::QuotedPrintable | TransferEncoding::Other => {
                let (v, d) = decode_body(body, p.encoding);
                (Cow::Owned(v), d)
            }
            _ => (Cow::Borrowed(body), Vec::new()),
        }
    }

    /// The decoded body as text in the part's charset (default us-ascii, read as UTF-8).
    #[must_use]
    pub fn text(&self, id: PartId) -> String {
        self.text_cow(id).into_owned()
    }

    /// Like [`Message::text`], but borrows from the input when the body needs no
    /// transfer decoding and is valid UTF-8 already (no copy).
    #[must_use]
    pub fn text_cow(&self, id: PartId) -> Cow<'a, str> {
        self.decoded_text(id).0
    }

    /// [`Message::text_cow`] with what went wrong on the way: the transfer
    /// decoding's defects (as [`Message::decoded_body`] gives them) and
    /// [`DefectKind::UnknownCharset`] when the charset is not one this crate
    /// knows, so the text is a lossy UTF-8 reading of bytes in another charset
    /// (RFC 2049 section 2 item 6 would treat such a part as
    /// application/octet-stream; this lets the caller decide).
    #[must_use]
    pub fn decoded_text(&self, id: PartId) -> (Cow<'a, str>, Vec<DefectKind>) {
        let cs = self.parts[id].content_type.param("charset").unwrap_or("utf-8");
        let (body, mut defects) = self.decoded_body(id);
        let (text, known) = match body {
            Cow::Borrowed(b) => decode_charset(b, cs),
            // one UTF-8 check, and the buffer becomes the string
            Cow::Owned(v) if is_utf8_label(cs) => (Cow::Owned(utf8_lossy_owned(v)), true),
            Cow::Owned(v) => match decode_charset(&v, cs) {
                (Cow::Borrowed(_), known) => match String::from_utf8(v) {
                    Ok(s) => (Cow::Owned(s), known),
                    Err(e) => (
                        Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
                        known,
                    ),
                },
                (Cow::Owned(s), known) => (Cow::Owned(s), known),
            },
        };
        if !known {
            defects.push(DefectKind::UnknownCharset);
        }
        (text, defects)
    }

    /// Finds a part by IMAP part number (RFC 3501 section 6.4.5): `[]` is the root,
    /// `[1]` of a non-multipart message is its body, parts of a message/rfc822 part are
    /// numbered inside its nested message.
    #[must_use]
    pub fn resolve(&self, path: &[u32]) -> Option<PartId> {
        let mut cur = 0;
        for (k, &n) in path.iter().enumerate() {
            let n = usize::try_from(n).ok()?.checked_sub(1)?;
            let mut container = cur;
            // the parts of a message/rfc822 part are those of its message; the root
            // itself is the message, so a root of type message/rfc822 is a
            // non-multipart whose part 1 is its body, the encapsulated message
            if k > 0
                && let PartKind::Message { child: Some(c) } = self.parts[cur].kind
            {
                container = c;
            }
            cur = match &self.parts[container].kind {
                PartKind::Multipart { children, .. } => *children.get(n)?,
                _ if n == 0 => container,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Cuts an IMAP section from the original bytes, e.g. `BODY[1.2.MIME]` is
    /// `section(&[1, 2], Section::Mime)`.
    #[must_use]
    pub fn section(&self, path: &[u32], which: Section) -> Option<&'a [u8]> {
        let id = self.resolve(path)?;
        let p = &self.parts[id];
        match which {
            Section::Body => Some(self.body_bytes(id)),
            Section::Mime => (!path.is_empty()).then(|| self.header_bytes(id)),
            Section::Header | Section::Text => {
                // HEADER and TEXT of the root are the message's own, whatever its
                // type; of a part, those of the message a message/rfc822 holds
                let m = match p.kind {
                    _ if path.is_empty() => 0,
                    PartKind::Message { child: Some(c) } => c,
                    _ => return None,
                };
                Some(if which == Section::Header {
                    self.header_bytes(m)
                } else {
                    self.body_bytes(m)
                })
            }
        }
    }
}

/// The tree builder: the scanner hands it every event as it finds it.
struct TreeSink<'a> {
    input: &'a [u8],
    parts: Vec<Part<'a>>,
    defects: Vec<Defect>,
    /// The innermost open part (the open parts are it and its ancestors). While a
    /// multipart is open its preamble ends at [`PREAMBLE_OPEN`] until the first
    /// delimiter, and its epilogue, once the close delimiter is seen, is empty at
    /// the delimiter's end; both are set right when the part ends.
    open: Option<PartId>,
    /// The Content-Type of the header block being read, parsed once.
    content: Option<ContentType<'a>>,
}

impl<'a> Sink for TreeSink<'a> {
    // inlined into the scanner's loop: see `Scanner::step`
    #[inline(always)]
    fn field(&mut self, f: &FieldPos, content_type: bool) -> Option<Scanned> {
        let input = self.input;
        let value = input.get(f.colon + 1..f.value_end).unwrap_or_default();
        let mut framing = None;
        if content_type {
            let ct = ContentType::parse(value);
            framing = ct.as_ref().map(ContentType::framing);
            self.content = Some(ct.unwrap_or_else(|| ContentType::fallback(value)));
        }
        let h = Header {
            name: input.get(f.start..f.name_end).unwrap_or_default(),
            value,
            range: f.start..f.end,
        };
        // the part whose header block is being read is the last one
        let parts = &mut self.parts;
        if let Some(last) = parts.len().checked_sub(1) {
            if parts[last].headers.capacity() == 0 {
                // a message's own header has many fields, a body part's a few
                let message = parts[last]
                    .parent
                    .is_none_or(|q| matches!(parts[q].kind, PartKind::Message { .. }));
                parts[last].headers.reserve_exact(if message { 16 } else { 4 });
            }
            parts[last].headers.push(h);
        }
        framing
    }

    // inlined into the scanner's loop: see `Scanner::step`
    #[inline(always)]
    fn event(&mut self, ev: Ev) {
        let parts = &mut self.parts;
        match ev {
            Ev::PartBegin { offset } => {
                let id = parts.len();
                let parent = self.open;
                if let Some(p) = parent {
                    match &mut parts[p].kind {
                        PartKind::Multipart { children, .. } => children.push(id),
                        PartKind::Message { child } => *child = Some(id),
                        PartKind::Leaf => {}
                    }
                }
                parts.push(Part {
                    headers: Vec::new(),
                    header_range: offset..offset,
                    body_range: offset..offset,
                    // replaced when the header block ends (no allocation here)
                    content_type: ContentType::text_plain(),
                    explicit_content_type: false,
                    encoding: TransferEncoding::SevenBit,
                    kind: PartKind::Leaf,
                    parent,
                });
                self.open = Some(id);
            }
            Ev::HeaderEnd {
                body_start,
                content_type,
                digest_default,
                encoding,
                shape,
            } => {
                if let Some(id) = self.open {
                    let p = &mut parts[id];
                    p.header_range.end = body_start;
                    p.body_range = body_start..body_start;
                    p.explicit_content_type = content_type.is_some();
                    p.content_type = match self.content.take() {
                        Some(ct) if content_type.is_some() => ct,
                        _ => default_content_type(digest_default),
                    };
                    p.encoding = encoding;
                    p.kind = match shape {
                        Shape::Leaf => PartKind::Leaf,
                        Shape::Message => PartKind::Message { child: None },
                        Shape::Multipart => PartKind::Multipart {
                            children: Vec::new(),
                            preamble: body_start..PREAMBLE_OPEN,
                            epilogue: None,
                        },
                    };
                }
            }
            // header fields come through `field`; bodies are cut from the ranges
            Ev::Field { .. }
            | Ev::Body {
                kind: ChunkKind::Body | ChunkKind::Preamble | ChunkKind::Epilogue,
                ..
            } => {}
            Ev::Delimiter { start, end, close } => {
                if let Some(id) = self.open
                    && let PartKind::Multipart {
                        preamble, epilogue, ..
                    } = &mut parts[id].kind
                {
                    if preamble.end == PREAMBLE_OPEN {
                        preamble.end = start;
                    }
                    if close {
                        *epilogue = Some(end..end);
                    }
                }
            }
            Ev::PartEnd { end } => {
                if let Some(id) = self.open {
                    let p = &mut parts[id];
                    self.open = p.parent;
                    p.body_range.end = end.max(p.body_range.start);
                    if let PartKind::Multipart {
                        preamble, epilogue, ..
                    } = &mut p.kind
                    {
                        if preamble.end == PREAMBLE_OPEN {
                            preamble.end = end;
                        }
                        preamble.end = preamble.end.max(preamble.start);
                        if let Some(e) = epilogue {
                            e.end = end.max(e.start);
                        }
                    }
                }
            }
            Ev::Defect(d) => self.defects.push(d),
        }
    }
}

/// The preamble end of a multipart that has not seen a delimiter yet (only while
/// the tree is being built).
const PREAMBLE_OPEN: usize = usize::MAX;

/// The content type of a part without Content-Type (RFC 2045 section 5.2, RFC 2046
/// section 5.1.5).
pub(crate) fn default_content_type(digest_default: bool) -> ContentType<'static> {
    if digest_default {
        ContentType::message_rfc822()
    } else {
        ContentType::text_plain()
    }
}

impl<'a> Part<'a> {
    /// First field with this name (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&Header<'a>> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// All fields with this name.
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Header<'a>> + 's {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// Unstructured field decoded (RFC 2047).
    #[must_use]
    pub fn header_text(&self, name: &str) -> Option<String> {
        self.header(name).map(Header::text)
    }

    /// Subject, decoded.
    #[must_use]
    pub fn subject(&self) -> Option<String> {
        self.header_text("subject")
    }

    /// Addresses of any address field (From, To, Cc, Bcc, Reply-To, Sender, Resent-*).
    #[must_use]
    pub fn addresses(&self, name: &str) -> Vec<Address> {
        let mut fields = self.headers_named(name);
        // one field is the rule: its list is the result, not copied into another
        let Some(first) = fields.next() else {
            return Vec::new();
        };
        let mut out = parse_addresses(first.value);
        for h in fields {
            out.extend(parse_addresses(h.value));
        }
        out
    }

    /// Return-Path (RFC 5322 section 3.6.7), from the first such field: `<>` is
    /// [`ReturnPath::Null`]. `None` when there is no field or it holds no path.
    #[must_use]
    pub fn return_path(&self) -> Option<ReturnPath> {
        self.header("return-path")
            .and_then(|h| parse_return_path(h.value))
    }

    /// From.
    #[must_use]
    pub fn from(&self) -> Vec<Address> {
        self.addresses("from")
    }

    /// To.
    #[must_use]
    pub fn to(&self) -> Vec<Address> {
        self.addresses("to")
    }

    /// Cc.
    #[must_use]
    pub fn cc(&self) -> Vec<Address> {
        self.addresses("cc")
    }

    /// Bcc.
    #[must_use]
    pub fn bcc(&self) -> Vec<Address> {
        self.addresses("bcc")
    }

    /// Reply-To.
    #[must_use]
    pub fn reply_to(&self) -> Vec<Address> {
        self.addresses("reply-to")
    }

    /// Sender.
    #[must_use]
    pub fn sender(&self) -> Vec<Address> {
        self.addresses("sender")
    }

    /// Date, read leniently ([`DateTime::parse`]): a day-of-week that is not the
    /// day of the date is ignored; [`Part::date_strict`] reports it.
    #[must_use]
    pub fn date(&self) -> Option<DateTime> {
        DateTime::parse(self.header("date")?.value)
    }

    /// Date, checked with [`DateTime::parse_strict`]: `None` without a Date field,
    /// an error (which keeps the date whenever it could be read) when it does not
    /// follow RFC 5322 section 3.3 (or the obsolete forms of section 4.3).
    #[must_use]
    pub fn date_strict(&self) -> Option<Result<DateTime, crate::DateError>> {
        Some(DateTime::parse_strict(self.header("date")?.value))
    }

    /// Message-ID without brackets ([`crate::parse_msg_ids`]: in the safe form).
    #[must_use]
    pub fn message_id(&self) -> Option<String> {
        parse_msg_ids(self.header("message-id")?.value).into_iter().next()
    }

    /// In-Reply-To ids.
    #[must_use]
    pub fn in_reply_to(&self) -> Vec<String> {
        self.header("in-reply-to")
            .map(|h| parse_msg_ids(h.value))
            .unwrap_or_default()
    }

    /// References ids.
    #[must_use]
    pub fn references(&self) -> Vec<String> {
        self.header("references")
            .map(|h| parse_msg_ids(h.value))
            .unwrap_or_default()
    }

    /// Content-Disposition.
    #[must_use]
    pub fn disposition(&self) -> Option<Disposition<'a>> {
        Disposition::parse(self.header("content-disposition")?.value)
    }

    /// Filename: Content-Disposition `filename`, else Content-Type `name`.
    ///
    /// The name is the sender's, as written (decoded, in the safe form of
    /// [`crate::decode_unstructured`]): it may hold `/`, `\\`, `..`, a drive
    /// letter or a name a file system reserves. RFC 2183 section 2.3: a
    /// receiver "SHOULD NOT respect any directory path information" in it and
    /// should treat it "as a terminal component only"; keep only its last path
    /// component (or make a name up) before using it as a file name.
    #[must_use]
    pub fn filename(&self) -> Option<String> {
        self.disposition()
            .and_then(|d| d.param("filename").map(str::to_owned))
            .or_else(|| self.content_type.param("name").map(str::to_owned))
    }

    /// Charset parameter of the Content-Type, lowercased.
    #[must_use]
    pub fn charset(&self) -> Option<String> {
        self.content_type.param("charset").map(str::to_ascii_lowercase)
    }

    /// Content-ID without brackets ([`crate::parse_msg_ids`]: in the safe form).
    #[must_use]
    pub fn content_id(&self) -> Option<String> {
        parse_msg_ids(self.header("content-id")?.value).into_iter().next()
    }

    /// Content-Description, decoded.
    #[must_use]
    pub fn content_description(&self) -> Option<String> {
        self.header_text("content-description")
    }

    /// Content-Language tags, in the safe form of [`crate::decode_unstructured`].
    #[must_use]
    pub fn content_language(&self) -> Vec<String> {
        self.header("content-language")
            .map(|h| {
                crate::header::safe_text(&h.unfolded())
                    .split(',')
                    .map(|s| s.split('(').next().unwrap_or("").trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Content-Location (RFC 2557), unfolded with whitespace removed, in the safe
    /// form of [`crate::decode_unstructured`].
    #[must_use]
    pub fn content_location(&self) -> Option<String> {
        let h = self.header("content-location")?;
        let v: String = crate::header::safe_text(&h.unfolded())
            .split_whitespace()
            .collect();
        Some(v.trim_matches('"').to_owned())
    }

    /// MIME-Version as (major, minor), comments ignored.
    #[must_use]
    pub fn mime_version(&self) -> Option<(u32, u32)> {
        let h = self.header("mime-version")?;
        let v = h.unfolded();
        let mut c = crate::header::Cursor::new(&v);
        let mut nums = [0u32; 2];
        for (i, n) in nums.iter_mut().enumerate() {
            c.skip_cfws();
            if i == 1 && !c.eat(b'.') {
                return None;
            }
            c.skip_cfws();
            let a = c.atom(false)?;
            *n = std::str::from_utf8(a).ok()?.parse().ok()?;
        }
        Some((nums[0], nums[1]))
    }
}

impl Message<'_> {
    /// Pieces that make up the message in order: every header block, leaf body,
    /// preamble and epilogue as recorded in the tree, and the bytes between them
    /// (delimiter lines with the line break before them). Concatenated they give the
    /// input back byte for byte; walked with an explicit stack.
    #[must_use]
    pub fn pieces(&self) -> Vec<(PieceKind, Range<usize>)> {
        enum Work {
            Part(PartId),
            Gap(usize, usize),
            Piece(PieceKind, Range<usize>),
        }
        let mut out = Vec::new();
        let root = &self.parts[0];
        if root.header_range.start > 0 {
            out.push((PieceKind::Envelope, 0..root.header_range.start));
        }
        let mut work = vec![Work::Gap(root.body_range.end, self.input.len()), Work::Part(0)];
        while let Some(w) = work.pop() {
            match w {
                Work::Gap(a, b) => {
                    if a < b {
                        out.push((PieceKind::Delimiter, a..b));
                    }
                }
                Work::Piece(k, r) => out.push((k, r)),
                Work::Part(id) => {
                    let p = &self.parts[id];
                    out.push((PieceKind::Header, p.header_range.clone()));
                    match &p.kind {
                        PartKind::Leaf | PartKind::Message { child: None } => {
                            out.push((PieceKind::Body, p.body_range.clone()));
                        }
                        PartKind::Message { child: Some(c) } => work.push(Work::Part(*c)),
                        PartKind::Multipart {
                            children,
                            preamble,
                            epilogue,
                        } => {
                            let mut items = vec![Work::Piece(PieceKind::Preamble, preamble.clone())];
                            let mut prev = preamble.end;
                            for &c in children {
                                let cp = &self.parts[c];
                                items.push(Work::Gap(prev, cp.header_range.start));
                                items.push(Work::Part(c));
                                prev = cp.body_range.end;
                            }
                            let tail = epilogue.as_ref().map_or(p.body_range.end, |e| e.start);
                            items.push(Work::Gap(prev, tail));
                            if let Some(e) = epilogue {
                                items.push(Work::Piece(PieceKind::Epilogue, e.clone()));
                            }
                            work.extend(items.into_iter().rev());
                        }
                    }
                }
            }
        }
        out
    }

    /// Re-emits the message from its tree ([`Message::pieces`] concatenated); equal to
    /// the input byte for byte.
    #[must_use]
    pub fn reassemble(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.input.len());
        for (_, r) in self.pieces() {
            v.extend_from_slice(self.slice(r));
        }
        v
    }
}

/// What a piece of [`Message::pieces`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceKind {
    /// A leading mbox `From ` line.
    Envelope,
    /// A header block (blank line included).
    Header,
    /// A leaf body.
    Body,
    /// A multipart preamble.
    Preamble,
    /// A multipart epilogue.
    Epilogue,
    /// Bytes between recorded ranges: delimiter lines and the line break before them.
    Delimiter,
}
