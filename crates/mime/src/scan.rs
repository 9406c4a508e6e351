//! The state machine shared by the push parser and the tree builder.
//!
//! It looks at the unconsumed input (`buf`, starting at absolute offset `pos`) and
//! returns one event with absolute byte offsets, or `None` when it needs more input.
//! Nesting lives in an explicit `Vec<Frame>`, never in the call stack. Because the
//! scanner never decides anything from a partial line, any chunking of the input
//! gives the same events (split invariance).

use crate::decode::TransferEncoding;
use crate::defect::{Defect, DefectKind};
use crate::limits::Limits;
use crate::params::{Scanned, TypeKind};
use memchr::{memchr, memchr2, memmem};

/// Which region of a part a body chunk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// Content of a leaf part (still transfer-encoded).
    Body,
    /// Text before the first delimiter of a multipart.
    Preamble,
    /// Text after the close delimiter of a multipart.
    Epilogue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ev {
    PartBegin {
        offset: usize,
    },
    Field {
        start: usize,
        colon: usize,
        end: usize,
        /// The Content-Type that counts (the first): the sink has parsed it in
        /// [`Sink::field`] (the scanner frames the body from the result).
        content_type: bool,
    },
    HeaderEnd {
        body_start: usize,
        /// Index among the block's fields of the Content-Type that counts (the first).
        content_type: Option<usize>,
        /// Without Content-Type the default is message/rfc822 (inside a digest).
        digest_default: bool,
        encoding: TransferEncoding,
        shape: Shape,
    },
    Body {
        start: usize,
        end: usize,
        kind: ChunkKind,
    },
    Delimiter {
        start: usize,
        end: usize,
        close: bool,
    },
    PartEnd {
        end: usize,
    },
    Defect(Defect),
}

/// How the scanner treats a part's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Opaque content.
    Leaf,
    /// Body parts between delimiters.
    Multipart,
    /// One nested message.
    Message,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Preamble,
    Parts,
    Epilogue,
}

#[derive(Debug)]
enum Frame {
    Headers,
    Leaf,
    Message,
    Multipart {
        boundary: Vec<u8>,
        phase: Phase,
        digest: bool,
    },
}

/// What the scanner keeps of a part's Content-Type: enough to frame the body.
#[derive(Debug)]
struct TypeInfo {
    /// Index of the field among the Field events of the block.
    field: usize,
    multipart: bool,
    digest: bool,
    message: bool,
    /// message/global: a transfer encoding is allowed (RFC 6532 section 3.5).
    global: bool,
    boundary: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct HeaderCtx {
    content_type: Option<TypeInfo>,
    /// Field events emitted for this block so far.
    emitted: usize,
    bad_content_type: bool,
    encoding: Option<TransferEncoding>,
    digest_default: bool,
    /// A body part's header (RFC 2045 `MIME-part-headers`), not a message's.
    part_header: bool,
    /// The fields of [`SINGLE_FIELDS`] seen in this block, one bit each.
    seen_single: u32,
    bytes: usize,
    fields: usize,
    first_line: bool,
    skipping: bool,
    overflow: bool,
}

#[derive(Debug)]
pub(crate) struct Scanner {
    limits: Limits,
    pub(crate) pos: usize,
    stack: Vec<Frame>,
    ctx: HeaderCtx,
    started: bool,
    line_start: bool,
    parts: usize,
    bare_lf: bool,
    /// A bare CR in a header field was reported (once per message).
    bare_cr: bool,
    /// A NUL in a header field was reported (once per message).
    nul: bool,
    /// A folding line of white space only was reported (once per message).
    blank_fold: bool,
    /// `(at, n, cr)`: the `n` bytes from absolute offset `at` hold no line feed
    /// and their first bare CR is at `cr` (the line being read there was scanned
    /// that far before more input was needed).
    no_nl: (usize, usize, Option<usize>),
    /// `(at, e, bare, cr, blank)`: the folded field at absolute offset `at` was
    /// scanned up to its line end `e`, with its first bare LF at `bare`, first bare
    /// CR at `cr` and first folding line of white space only at `blank` (offsets
    /// from `at`), before more input was needed. With `no_nl`, input
    /// fed in small pieces is not scanned again from the line's or field's start
    /// each time (that was quadratic in the field's length).
    resume: Option<Resume>,
    /// Searcher for a line that starts with `--`, built once per process.
    nl_dash: &'static memmem::Finder<'static>,
}

/// Where the scanner puts what it finds, in input order.
pub(crate) trait Sink {
    /// Any event; a header field comes through [`Sink::field`] instead.
    fn event(&mut self, ev: Ev);
    /// A header field. When `content_type` is set it is the part's Content-Type:
    /// the sink parses it (once, for itself) and returns what frames the body, or
    /// `None` when it is invalid.
    fn field(&mut self, f: &FieldPos, content_type: bool) -> Option<Scanned>;
}

/// Where the scan of a folded field stopped for more input: see `Scanner::resume`.
type Resume = (usize, usize, Option<usize>, Option<usize>, Option<usize>);

/// The fields of [`Resume`] after its offset: how far a folded field was read.
type FieldScan = (usize, Option<usize>, Option<usize>, Option<usize>);

/// The first line feed in `hay` and the first bare CR before it (one that no LF
/// follows; a CR that ends `hay` counts), both found in one pass.
fn line_end(hay: &[u8]) -> (Option<usize>, Option<usize>) {
    let mut cr = None;
    let mut i = 0;
    while let Some(p) = memchr2(b'\n', b'\r', &hay[i..]) {
        let j = i + p;
        if hay[j] == b'\n' {
            return (Some(j), cr);
        }
        if hay.get(j + 1) == Some(&b'\n') {
            return (Some(j + 1), cr);
        }
        cr = cr.or(Some(j));
        i = j + 1;
    }
    (None, cr)
}

/// Where a header field lies, as absolute offsets: the name is `start..name_end`
/// (trailing whitespace before the colon left out), the value `colon + 1..value_end`
/// (folding kept, final line ending left out), the whole field `start..end`.
pub(crate) struct FieldPos {
    pub(crate) start: usize,
    pub(crate) name_end: usize,
    pub(crate) colon: usize,
    pub(crate) value_end: usize,
    pub(crate) end: usize,
}

/// The name of the header field on `line` (no line ending): its length without
/// trailing whitespace and the offset of the colon, or `None` when the line is not a
/// field (no colon, or an empty name or one with bytes outside 33..=126).
fn field_name(line: &[u8]) -> Option<(usize, usize)> {
    // the common case in one short pass: name bytes right up to the colon
    let n = name_run(line);
    if n > 0 && line.get(n) == Some(&b':') {
        return Some((n, n));
    }
    let colon = memchr(b':', line)?;
    let name = line[..colon].trim_ascii_end();
    (!name.is_empty() && name.iter().all(|&b| (33..127).contains(&b))).then_some((name.len(), colon))
}

/// How many bytes [`NAME_BYTE`] holds from the start of `line`. Eight bytes are
/// looked at a time while eight remain (a field's line runs on past its name):
/// a mark for each byte under 33, over 126 or a colon, the lowest one being the
/// first such byte (a false mark only follows a true one).
fn name_run(line: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let mut i = 0;
    while let Some(w) = line.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*w);
        // under 33 (no high bit: those are marked by `w` itself), 127, ':', 128..
        let m = ((w.wrapping_sub(ONES * 33) & !w)
            | zero(w ^ (ONES * 127))
            | zero(w ^ (ONES * u64::from(b':')))
            | w)
            & HIGH;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let rest = &line[i..];
    i + rest
        .iter()
        .position(|&b| !NAME_BYTE[usize::from(b)])
        .unwrap_or(rest.len())
}

/// Bytes of a field name: 33..=126 without the colon.
static NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 33;
    while b < 127 {
        t[b] = b != b':' as usize;
        b += 1;
    }
    t
};

/// A first-in first-out queue of events, for a consumer that pulls them one at a
/// time (the push parser). The scanner adds events only once it is empty, so a Vec
/// read from the front and cleared when drained does (cheaper than a ring buffer).
#[derive(Debug, Default)]
pub(crate) struct EvQueue {
    q: Vec<Ev>,
    head: usize,
}

impl EvQueue {
    pub(crate) fn push_back(&mut self, ev: Ev) {
        self.q.push(ev);
    }

    pub(crate) fn pop_front(&mut self) -> Option<Ev> {
        let ev = *self.q.get(self.head)?;
        self.head += 1;
        if self.head == self.q.len() {
            self.q.clear();
            self.head = 0;
        }
        Some(ev)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head == self.q.len()
    }
}

/// The `\n--` searcher (building one costs more than scanning a small message).
static NL_DASH: std::sync::OnceLock<memmem::Finder<'static>> = std::sync::OnceLock::new();

fn defect<S: Sink>(out: &mut S, kind: DefectKind, offset: usize) {
    out.event(Ev::Defect(Defect { kind, offset }));
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl Scanner {
    pub(crate) fn new(limits: Limits) -> Self {
        Scanner {
            limits,
            pos: 0,
            stack: Vec::with_capacity(4),
            ctx: HeaderCtx {
                first_line: true,
                ..HeaderCtx::default()
            },
            started: false,
            line_start: true,
            parts: 1,
            bare_lf: false,
            bare_cr: false,
            nul: false,
            blank_fold: false,
            no_nl: (0, 0, None),
            resume: None,
            nl_dash: NL_DASH.get_or_init(|| memmem::Finder::new(b"\n--")),
        }
    }

    /// True once the whole message has been scanned (every event given out).
    pub(crate) fn is_done(&self) -> bool {
        self.started && self.stack.is_empty()
    }

    /// The first line feed in `window`, which starts at `self.pos`, and the first
    /// bare CR before it (see [`line_end`]); what an earlier call found to hold no
    /// line feed is not searched again.
    #[inline(always)]
    fn find_nl(&mut self, window: &[u8]) -> (Option<usize>, Option<usize>) {
        // the common line, not looked at before: the first CR or LF ends it
        if self.no_nl.0 != self.pos {
            match memchr2(b'\n', b'\r', window) {
                Some(j) if window[j] == b'\n' => return (Some(j), None),
                Some(j) if window.get(j + 1) == Some(&b'\n') => return (Some(j + 1), None),
                _ => {}
            }
        }
        self.find_nl_resumed(window)
    }

    /// [`Scanner::find_nl`] from where an earlier call stopped, or for a line
    /// with a bare CR or no line feed yet.
    #[inline(never)]
    fn find_nl_resumed(&mut self, window: &[u8]) -> (Option<usize>, Option<usize>) {
        let (from, mut cr) = match self.no_nl {
            (at, n, cr) if at == self.pos && n <= window.len() => (n, cr),
            _ => (0, None),
        };
        let (nl, more) = line_end(&window[from..]);
        cr = cr.or(more.map(|c| from + c));
        let nl = nl.map(|p| from + p);
        if nl.is_none() {
            // a CR at the end may yet be followed by a line feed: scanned again
            let n = window.len() - usize::from(window.ends_with(b"\r"));
            self.no_nl = (self.pos, n, cr.filter(|&c| c < n));
        }
        (nl, cr)
    }

    fn note_line_end<S: Sink>(&mut self, out: &mut S, buf: &[u8], nl: usize) {
        if !self.bare_lf && (nl == 0 || buf[nl - 1] != b'\r') {
            self.bare_lf = true;
            defect(out, DefectKind::BareLineFeed, self.pos + nl);
        }
    }

    /// One step over `buf`, the input from `self.pos` on: consumes input, gives
    /// events to `out`, or both. Returns false when nothing more can be done without
    /// more input, or when everything is done (events may have been given even then).
    ///
    /// `step` and the per-line paths below it (`headers`, `field_or_end`,
    /// `end_headers`, `region`, and the tree's `Sink` methods) are inlined into
    /// the one loop that drives them for each sink: a header field is a few dozen
    /// instructions of work, and the calls with their register saves per field
    /// and per event had cost as much again.
    #[inline(always)]
    pub(crate) fn step<S: Sink>(&mut self, out: &mut S, buf: &[u8], eof: bool) -> bool {
        if !self.started {
            return self.start(out, buf, eof);
        }
        match self.stack.last() {
            None => false,
            Some(Frame::Headers) => self.headers(out, buf, eof),
            Some(_) => self.region(out, buf, eof),
        }
    }

    /// The root part begins, after a leading mbox `From ` line if there is one.
    fn start<S: Sink>(&mut self, out: &mut S, buf: &[u8], eof: bool) -> bool {
        if buf.len() < 5 && !eof && b"From ".starts_with(buf) {
            return false;
        }
        self.started = true;
        if buf.starts_with(b"From ") {
            // the decision depends only on the first max_field_bytes + 1
            // bytes, so it is the same for any chunking
            let window = &buf[..buf.len().min(self.limits.max_field_bytes.saturating_add(1))];
            let (nl, _) = self.find_nl(window);
            if nl.is_none() && !eof && window.len() == buf.len() {
                self.started = false;
                return false;
            }
            let end = nl.map_or(buf.len(), |p| p + 1);
            // "From :" is an obsolete-syntax header field, not an mbox line
            let next = buf[5..end].iter().copied().find(|&b| !is_wsp(b));
            let too_long = nl.is_none() && window.len() < buf.len();
            if next != Some(b':') && !too_long {
                defect(out, DefectKind::MboxFromLine, self.pos);
                self.pos += end;
            }
        }
        self.stack.push(Frame::Headers);
        out.event(Ev::PartBegin { offset: self.pos });
        true
    }

    /// A step in a header block; `buf` starts at `self.pos`.
    // inlined: see `step`
    #[inline(always)]
    fn headers<S: Sink>(&mut self, out: &mut S, buf: &[u8], eof: bool) -> bool {
        if self.ctx.skipping {
            return self.skip_field(buf, eof);
        }
        if buf.is_empty() {
            if eof {
                if !self.ctx.first_line {
                    defect(out, DefectKind::HeaderBlockUnterminated, self.pos);
                }
                self.end_headers(out, self.pos);
                return true;
            }
            return false;
        }
        // A line with no line break in its first max_field_bytes + 1 bytes is too long
        // whatever it is; deciding from that window only keeps any chunking equal.
        let window = &buf[..buf.len().min(self.limits.max_field_bytes.saturating_add(1))];
        let (nl, cr) = self.find_nl(window);
        let Some(nl) = nl else {
            if buf.len() > self.limits.max_field_bytes {
                return self.maybe_too_long(out, buf.len());
            }
            if !eof {
                return false;
            }
            return self.field_or_end(out, buf, (buf.len(), cr), eof);
        };
        self.note_line_end(out, buf, nl);
        if nl == 0 || (nl == 1 && buf[0] == b'\r') {
            self.pos += nl + 1;
            self.end_headers(out, self.pos);
            return true;
        }
        if is_wsp(buf[0]) {
            if self.ctx.first_line {
                defect(out, DefectKind::FirstHeaderLineIsContinuation, self.pos);
            }
            self.pos += nl + 1;
            return true;
        }
        self.field_or_end(out, buf, (nl, cr), eof)
    }

    /// The line `buf[..nl]` (its first bare CR at `cr`) starts a field or ends
    /// the header block.
    // inlined: see `step`
    #[inline(always)]
    fn field_or_end<S: Sink>(
        &mut self,
        out: &mut S,
        buf: &[u8],
        (nl, cr): (usize, Option<usize>),
        eof: bool,
    ) -> bool {
        let line = &buf[..nl];
        // A delimiter ends the header block even when it looks like a field: a
        // boundary may hold ':' (RFC 2046 section 5.1.1 `bchars`), so `--a:b` is
        // the delimiter of boundary `a:b`, not a field named `--a`.
        let delim = line.starts_with(b"--") && self.match_delimiter(line).is_some();
        let Some((name_len, colon)) = field_name(line).filter(|_| !delim) else {
            if !delim {
                defect(out, DefectKind::MissingHeaderBodySeparator, self.pos);
            }
            self.end_headers(out, self.pos);
            return true;
        };
        // find the end of the field: a line end not followed by WSP. Bare LFs of the
        // continuation lines count only once the field is known to be kept: a field
        // over max_field_bytes is skipped unread (with or without all of it buffered),
        // so its line endings are never looked at, whatever the chunking.
        // The first bare CR of the field is found by the same searches.
        let (mut e, mut bare, mut cr, mut blank) = match self.resume.take() {
            Some((at, e, bare, cr, blank)) if at == self.pos => (e, bare, cr, blank),
            _ => (nl, None, cr, None),
        };
        let end = loop {
            let next = e + 1;
            if next >= buf.len() {
                if eof {
                    break buf.len();
                }
                return self.wait_for_field_end(out, buf.len(), (e, bare, cr, blank));
            }
            if !is_wsp(buf[next]) {
                break next;
            }
            let (nl, more) = line_end(&buf[next..]);
            let stop = match nl {
                Some(p) => {
                    cr = cr.or(more.map(|c| next + c));
                    e = next + p;
                    if bare.is_none() && buf[e - 1] != b'\r' {
                        bare = Some(e);
                    }
                    e
                }
                None if eof => {
                    cr = cr.or(more.map(|c| next + c));
                    buf.len()
                }
                None => return self.wait_for_field_end(out, buf.len(), (e, bare, cr, blank)),
            };
            // a folding line of white space only (RFC 5322 section 4.2 obs-FWS)
            let line = &buf[next..stop];
            if blank.is_none()
                && line
                    .strip_suffix(b"\r")
                    .unwrap_or(line)
                    .iter()
                    .all(|&b| is_wsp(b))
            {
                blank = Some(next);
            }
            if nl.is_none() {
                break buf.len();
            }
        };
        self.ctx.first_line = false;
        if end > self.limits.max_field_bytes {
            defect(out, DefectKind::HeaderFieldTooLong, self.pos);
            self.pos += end;
            return true;
        }
        if let Some(e) = bare {
            self.note_line_end(out, buf, e);
        }
        let start = self.pos;
        self.pos += end;
        self.ctx.bytes += end;
        self.ctx.fields += 1;
        if self.ctx.bytes > self.limits.max_header_bytes || self.ctx.fields > self.limits.max_fields {
            if !self.ctx.overflow {
                self.ctx.overflow = true;
                defect(out, DefectKind::HeaderBlockTooLarge, start);
            }
            return true;
        }
        let name = &line[..name_len];
        if name_len != colon {
            defect(out, DefectKind::ObsoleteHeaderName, start);
        }
        let known = known_field(name);
        if let Some(i) = known
            && (i < MESSAGE_ONLY || !self.ctx.part_header)
        {
            let bit = 1 << i;
            if self.ctx.seen_single & bit != 0 {
                defect(out, DefectKind::DuplicateHeaderField, start);
            }
            self.ctx.seen_single |= bit;
        }
        if !self.bare_cr
            && let Some(cr) = cr
        {
            self.bare_cr = true;
            defect(out, DefectKind::BareCarriageReturn, start + cr);
        }
        if !self.nul
            && let Some(z) = memchr::memchr(0, &buf[..end])
        {
            self.nul = true;
            defect(out, DefectKind::NulInHeaderField, start + z);
        }
        if !self.blank_fold
            && let Some(b) = blank
        {
            self.blank_fold = true;
            defect(out, DefectKind::ObsoleteFolding, start + b);
        }
        // the value without the final line ending, as the tree and push parser see it
        let mut vend = end;
        if buf[..vend].ends_with(b"\n") {
            vend -= 1;
            if buf[..vend].ends_with(b"\r") {
                vend -= 1;
            }
        }
        let value = &buf[colon + 1..vend.max(colon + 1)];
        let is_type = known == Some(CONTENT_TYPE) && self.ctx.content_type.is_none();
        // the sink parses the Content-Type once, for itself and for the framing here
        let framing = out.field(
            &FieldPos {
                start,
                name_end: start + name_len,
                colon: start + colon,
                value_end: start + vend.max(colon + 1),
                end: start + end,
            },
            is_type,
        );
        if is_type {
            let mut info = TypeInfo {
                field: self.ctx.emitted,
                multipart: false,
                digest: false,
                message: false,
                global: false,
                boundary: None,
            };
            match framing {
                Some(s) => {
                    info.multipart = matches!(s.kind, TypeKind::Multipart { .. });
                    info.digest = s.kind == TypeKind::Multipart { digest: true };
                    info.message = matches!(s.kind, TypeKind::Message { .. });
                    info.global = s.kind == TypeKind::Message { global: true };
                    info.boundary = s.boundary;
                }
                None => self.ctx.bad_content_type = true,
            }
            self.ctx.content_type = Some(info);
        } else if known == Some(CONTENT_TRANSFER_ENCODING) && self.ctx.encoding.is_none() {
            let v = crate::header::unfold(value);
            self.ctx.encoding = Some(TransferEncoding::from_bytes(&v));
        }
        self.ctx.emitted += 1;
        true
    }

    /// The end of the field at `self.pos` is not in the input yet: skip the field
    /// if it is too long already, else keep where the scan got to and wait.
    fn wait_for_field_end<S: Sink>(
        &mut self,
        out: &mut S,
        have: usize,
        (e, bare, cr, blank): FieldScan,
    ) -> bool {
        if self.maybe_too_long(out, have) {
            return true;
        }
        self.resume = Some((self.pos, e, bare, cr, blank));
        false
    }

    fn maybe_too_long<S: Sink>(&mut self, out: &mut S, have: usize) -> bool {
        if have > self.limits.max_field_bytes {
            defect(out, DefectKind::HeaderFieldTooLong, self.pos);
            self.ctx.skipping = true;
            self.ctx.first_line = false;
            return true;
        }
        false
    }

    fn skip_field(&mut self, buf: &[u8], eof: bool) -> bool {
        let mut i = 0;
        loop {
            match memchr(b'\n', &buf[i..]) {
                None => {
                    self.pos += buf.len();
                    if eof {
                        self.ctx.skipping = false;
                    }
                    return !buf.is_empty() || eof;
                }
                Some(p) => {
                    let next = i + p + 1;
                    if next >= buf.len() {
                        if eof {
                            self.pos += buf.len();
                            self.ctx.skipping = false;
                            return true;
                        }
                        self.pos += i + p;
                        return i + p > 0;
                    }
                    if is_wsp(buf[next]) {
                        i = next;
                        continue;
                    }
                    self.pos += next;
                    self.ctx.skipping = false;
                    return true;
                }
            }
        }
    }

    // inlined: see `step`
    #[inline(always)]
    fn end_headers<S: Sink>(&mut self, out: &mut S, body_start: usize) {
        let ctx = std::mem::replace(
            &mut self.ctx,
            HeaderCtx {
                first_line: true,
                ..HeaderCtx::default()
            },
        );
        if ctx.bad_content_type {
            defect(out, DefectKind::InvalidContentType, body_start);
        }
        let field = ctx.content_type.as_ref().map(|t| t.field);
        let info = ctx.content_type.unwrap_or(TypeInfo {
            field: 0,
            multipart: false,
            digest: false,
            // the default in a digest is message/rfc822
            message: ctx.digest_default,
            global: false,
            boundary: None,
        });
        let composite_ok = ctx.encoding.is_none_or(|e| {
            matches!(
                e,
                TransferEncoding::SevenBit | TransferEncoding::EightBit | TransferEncoding::Binary
            )
        });
        self.stack.pop();
        let depth_ok = self.stack.len() + 1 < self.limits.max_depth;
        let mut frame = Frame::Leaf;
        if info.multipart {
            match info.boundary {
                None => defect(out, DefectKind::NoBoundaryInMultipart, body_start),
                Some(b) if b.is_empty() || b.len() > self.limits.max_boundary_len => {
                    defect(out, DefectKind::InvalidBoundary, body_start);
                }
                Some(_) if !depth_ok => defect(out, DefectKind::NestingTooDeep, body_start),
                Some(b) => {
                    if !is_rfc2046_boundary(&b) {
                        // read all the same: real mail has such boundaries
                        defect(out, DefectKind::InvalidBoundary, body_start);
                    }
                    if !composite_ok {
                        defect(out, DefectKind::InvalidEncodingForCompositeType, body_start);
                    }
                    frame = Frame::Multipart {
                        boundary: b,
                        phase: Phase::Preamble,
                        digest: info.digest,
                    };
                }
            }
        } else if info.message {
            if !composite_ok {
                // RFC 6532 section 3.5 allows message/global any transfer encoding:
                // kept opaque (decode_body gives the message), but not a defect
                if !info.global {
                    defect(out, DefectKind::InvalidEncodingForCompositeType, body_start);
                }
            } else if !depth_ok {
                defect(out, DefectKind::NestingTooDeep, body_start);
            } else if self.parts >= self.limits.max_parts {
                defect(out, DefectKind::TooManyParts, body_start);
            } else {
                frame = Frame::Message;
            }
        }
        let shape = match frame {
            Frame::Multipart { .. } => Shape::Multipart,
            Frame::Message => Shape::Message,
            _ => Shape::Leaf,
        };
        out.event(Ev::HeaderEnd {
            body_start,
            content_type: field,
            digest_default: ctx.digest_default,
            encoding: ctx.encoding.unwrap_or(TransferEncoding::SevenBit),
            shape,
        });
        let nested = matches!(frame, Frame::Message);
        self.stack.push(frame);
        self.line_start = true;
        if nested {
            self.parts += 1;
            self.stack.push(Frame::Headers);
            out.event(Ev::PartBegin { offset: body_start });
        }
    }

    fn longest_boundary(&self) -> Option<usize> {
        self.stack
            .iter()
            .filter_map(|f| match f {
                Frame::Multipart { boundary, phase, .. } if *phase != Phase::Epilogue => Some(boundary.len()),
                _ => None,
            })
            .max()
    }

    /// Index in the stack of the multipart whose delimiter `line` is, innermost first,
    /// and whether it is the close delimiter. `line` starts with `--`, no line ending.
    ///
    /// Only white space may follow the boundary (or its closing `--`): RFC 2046
    /// 5.1.1's grammar (`dash-boundary transport-padding CRLF`, padding being
    /// `*LWSP-char`), as Python's `email` reads it. The section's "NOTE TO
    /// IMPLEMENTORS" would also take a line that merely starts with the
    /// boundary; that is not done, so `--b junk` stays body text and two
    /// readers of one hostile message do not split it differently.
    fn match_delimiter(&self, line: &[u8]) -> Option<(usize, bool)> {
        let rest = line.strip_prefix(b"--")?;
        let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
        for (i, f) in self.stack.iter().enumerate().rev() {
            if let Frame::Multipart { boundary, phase, .. } = f
                && *phase != Phase::Epilogue
                && let Some(after) = rest.strip_prefix(boundary.as_slice())
            {
                let (close, tail) = match after.strip_prefix(b"--") {
                    Some(t) => (true, t),
                    None => (false, after),
                };
                if tail.iter().all(|&b| is_wsp(b)) {
                    return Some((i, close));
                }
            }
        }
        None
    }

    fn chunk_kind(&self) -> ChunkKind {
        match self.stack.last() {
            Some(Frame::Multipart {
                phase: Phase::Preamble,
                ..
            }) => ChunkKind::Preamble,
            Some(Frame::Multipart { .. }) => ChunkKind::Epilogue,
            _ => ChunkKind::Body,
        }
    }

    fn emit_body<S: Sink>(&mut self, out: &mut S, len: usize, buf: &[u8]) -> bool {
        let kind = self.chunk_kind();
        out.event(Ev::Body {
            start: self.pos,
            end: self.pos + len,
            kind,
        });
        self.line_start = buf[len - 1] == b'\n';
        self.pos += len;
        true
    }

    fn close_all<S: Sink>(&mut self, out: &mut S) -> bool {
        let end = self.pos;
        while let Some(f) = self.stack.pop() {
            match f {
                Frame::Multipart {
                    phase: Phase::Preamble,
                    ..
                } => {
                    defect(out, DefectKind::StartBoundaryNotFound, end);
                }
                Frame::Multipart {
                    phase: Phase::Parts, ..
                } => {
                    defect(out, DefectKind::CloseBoundaryNotFound, end);
                }
                _ => {}
            }
            out.event(Ev::PartEnd { end });
        }
        true
    }

    // inlined: see `step`
    #[inline(always)]
    fn region<S: Sink>(&mut self, out: &mut S, buf: &[u8], eof: bool) -> bool {
        let Some(longest) = self.longest_boundary() else {
            if !buf.is_empty() {
                return self.emit_body(out, buf.len(), buf);
            }
            return eof && self.close_all(out);
        };
        if self.line_start && !eof && buf.len() < 2 && b"--".starts_with(buf) {
            return false;
        }
        // A line longer than this is not looked at as a delimiter, unless it is one
        // so far (the boundary, then only white space): transport padding may be
        // as long as a line (RFC 2046 section 5.1.1: "receivers MUST be able to
        // handle padding added by message transports"), up to the 998 characters
        // RFC 5322 section 2.1.1 allows.
        let max_line = longest + 4 + 64;
        let max_padded = longest + 4 + MAX_PADDING;
        let mut search = 0;
        loop {
            let cand = if search == 0 && self.line_start && buf.starts_with(b"--") {
                Some(0)
            } else {
                self.nl_dash.find(&buf[search..]).map(|p| search + p + 1)
            };
            let Some(c) = cand else {
                if eof {
                    if !buf.is_empty() {
                        return self.emit_body(out, buf.len(), buf);
                    }
                    return self.close_all(out);
                }
                let safe = buf.len().saturating_sub(3);
                return safe > 0 && self.emit_body(out, safe, buf);
            };
            let line_end = match memchr(b'\n', &buf[c..]) {
                Some(p) => Some(c + p),
                None if eof => None,
                None => {
                    let have = buf.len() - c;
                    if have > max_line && (have > max_padded || self.match_delimiter(&buf[c..]).is_none()) {
                        search = c + 1;
                        continue;
                    }
                    let pre = pre_end(buf, c);
                    return pre > 0 && self.emit_body(out, pre, buf);
                }
            };
            let line = &buf[c..line_end.unwrap_or(buf.len())];
            let found = if line.len() > max_padded {
                None
            } else {
                self.match_delimiter(line)
            };
            let Some((k, close)) = found else {
                search = c + 1;
                continue;
            };
            let pre = pre_end(buf, c);
            if pre > 0 {
                return self.emit_body(out, pre, buf);
            }
            if let Some(le) = line_end {
                self.note_line_end(out, buf, le);
            }
            if c > 0 {
                self.note_line_end(out, buf, c - 1);
            }
            let end = line_end.map_or(buf.len(), |p| p + 1);
            self.delimiter(out, k, close, end);
            return true;
        }
    }

    fn delimiter<S: Sink>(&mut self, out: &mut S, k: usize, close: bool, len: usize) {
        let start = self.pos;
        let mut outer = false;
        while self.stack.len() > k + 1 {
            if let Some(Frame::Multipart { phase, .. }) = self.stack.pop()
                && phase != Phase::Epilogue
            {
                defect(out, DefectKind::CloseBoundaryNotFound, start);
                outer = true;
            }
            out.event(Ev::PartEnd { end: start });
        }
        if outer {
            defect(out, DefectKind::BoundaryOfOuterPart, start);
        }
        self.pos += len;
        self.line_start = true;
        out.event(Ev::Delimiter {
            start,
            end: self.pos,
            close,
        });
        let over = self.parts >= self.limits.max_parts;
        let Some(Frame::Multipart { phase, digest, .. }) = self.stack.last_mut() else {
            return;
        };
        let was = *phase;
        if close || over {
            if !close {
                out.event(Ev::Defect(Defect {
                    kind: DefectKind::TooManyParts,
                    offset: start,
                }));
            }
            if was == Phase::Preamble {
                out.event(Ev::Defect(Defect {
                    kind: DefectKind::MultipartWithoutParts,
                    offset: start,
                }));
            }
            *phase = Phase::Epilogue;
            return;
        }
        *phase = Phase::Parts;
        let digest = *digest;
        self.parts += 1;
        self.stack.push(Frame::Headers);
        self.ctx.digest_default = digest;
        self.ctx.part_header = true;
        out.event(Ev::PartBegin { offset: self.pos });
    }
}

/// Fields a header block holds at most once, lowercase: first the MIME fields of
/// any entity (RFC 2045 section 3 `entity-headers` and `version`, RFC 2183 section
/// 2), then from [`MESSAGE_ONLY`] on those of RFC 5322 section 3.6's table, which
/// have a meaning only in a message's header (in a body part's header, RFC 2045
/// section 3: "any field not beginning with content- ... may be ignored").
const SINGLE_FIELDS: [&[u8]; 17] = [
    b"content-type",
    b"content-transfer-encoding",
    b"content-id",
    b"content-description",
    b"content-disposition",
    b"mime-version",
    b"date",
    b"from",
    b"sender",
    b"reply-to",
    b"to",
    b"cc",
    b"bcc",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"subject",
];

/// Index in [`SINGLE_FIELDS`] of the first field of a message's header only.
const MESSAGE_ONLY: usize = 6;

/// Index in [`SINGLE_FIELDS`] of Content-Type.
const CONTENT_TYPE: usize = 0;
/// Index in [`SINGLE_FIELDS`] of Content-Transfer-Encoding.
const CONTENT_TRANSFER_ENCODING: usize = 1;

/// The bit of a field named `name` that a header block holds at most once, if it
/// is one (see [`SINGLE_FIELDS`]); `part_header` for a body part's header.
pub(crate) fn single_field(name: &[u8], part_header: bool) -> Option<u32> {
    let limit = if part_header {
        MESSAGE_ONLY
    } else {
        SINGLE_FIELDS.len()
    };
    known_field(name).filter(|&i| i < limit).map(|i| 1 << i)
}

/// Index in [`SINGLE_FIELDS`] of the field named `name` (any case), if it is one
/// of them, whatever header it is in. The scanner asks once per field, for the
/// once-only check and to spot Content-Type and Content-Transfer-Encoding.
fn known_field(name: &[u8]) -> Option<usize> {
    // the one name of SINGLE_FIELDS (by index) with this length and first letter
    // (bit 0x20 makes a letter lowercase, and no other byte a letter); the two
    // of length 19 differ at their tenth
    let first = name.first()? | 0x20;
    let i = match (name.len(), first) {
        (2, b't') => 10,
        (2, b'c') => 11,
        (3, b'b') => 12,
        (4, b'd') => 6,
        (4, b'f') => 7,
        (6, b's') => 8,
        (7, b's') => 16,
        (8, b'r') => 9,
        (10, b'c') => 2,
        (10, b'm') => 13,
        (10, b'r') => 15,
        (11, b'i') => 14,
        (12, b'c') => 0,
        (12, b'm') => 5,
        (19, b'c') if name[9] | 0x20 == b'e' => 3,
        (19, b'c') => 4,
        (25, b'c') => 1,
        _ => return None,
    };
    eq_lowercase_name(name, SINGLE_FIELDS[i]).then_some(i)
}

/// Whether `name` is `lower` in any case, `lower` being as long and made of
/// lowercase letters and `-` only (a name of [`SINGLE_FIELDS`]). Up to eight bytes
/// are compared at a time: a byte matches when it equals the letter with bit 0x20
/// set, and a `-` only itself, so the test is exact for any byte of `name`.
fn eq_lowercase_name(name: &[u8], lower: &[u8]) -> bool {
    /// `a` matches `b` (both little-endian words of up to eight bytes).
    fn eq(a: u64, b: u64) -> bool {
        // bit 0x20 where `lower` holds a letter (its bit 0x40 moved down)
        a | ((b & 0x4040_4040_4040_4040) >> 1) == b
    }
    /// The `N` bytes of `name` and `lower` at `at` match.
    fn at<const N: usize>(name: &[u8], lower: &[u8], at: usize) -> bool {
        let word = |s: &[u8]| {
            s.get(at..)
                .and_then(<[u8]>::first_chunk::<N>)
                .map(|c| c.iter().rev().fold(0u64, |w, &b| w << 8 | u64::from(b)))
        };
        matches!((word(name), word(lower)), (Some(a), Some(b)) if eq(a, b))
    }
    let n = name.len();
    if n != lower.len() {
        return false;
    }
    // whole words, then the last one (overlapping the one before)
    match n {
        0 | 1 => name.iter().zip(lower).all(|(&a, &b)| eq(a.into(), b.into())),
        2..4 => at::<2>(name, lower, 0) && at::<2>(name, lower, n - 2),
        4..8 => at::<4>(name, lower, 0) && at::<4>(name, lower, n - 4),
        _ => {
            let mut i = 0;
            while i + 8 < n {
                if !at::<8>(name, lower, i) {
                    return false;
                }
                i += 8;
            }
            at::<8>(name, lower, n - 8)
        }
    }
}

/// RFC 2046 section 5.1.1: `boundary := 0*69<bchars> bcharsnospace`, so 1 to 70
/// characters from `bchars` (letters, digits, `'()+_,-./:=?` and space), the last not
/// a space.
fn is_rfc2046_boundary(b: &[u8]) -> bool {
    let bchar = |c: &u8| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(c);
    (1..=70).contains(&b.len()) && b.iter().all(bchar) && b.last() != Some(&b' ')
}

/// The longest transport padding after a boundary that is still read as padding:
/// the RFC 5322 section 2.1.1 line limit.
const MAX_PADDING: usize = 998;

/// Where the content before the delimiter line at `c` ends: the CRLF (or LF)
/// before a delimiter belongs to the delimiter (RFC 2046 section 5.1.1).
fn pre_end(buf: &[u8], c: usize) -> usize {
    if c == 0 {
        0
    } else if c >= 2 && buf[c - 2] == b'\r' {
        c - 2
    } else {
        c - 1
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn single_field_table_finds_every_name_and_only_those() {
        // The by-length table against a plain search of SINGLE_FIELDS.
        let mut names: Vec<Vec<u8>> = SINGLE_FIELDS.iter().map(|n| n.to_vec()).collect();
        names.extend(SINGLE_FIELDS.iter().map(|n| n.to_ascii_uppercase()));
        for other in [
            "received",
            "x-mailer",
            "content-language",
            "resent-from",
            "t",
            "",
            "dates",
            "bc",
            "comments",
            "keywords",
        ] {
            names.push(other.as_bytes().to_vec());
        }
        for name in &names {
            for part in [false, true] {
                assert_eq!(
                    single_field(name, part),
                    linear(name, part),
                    "{}",
                    String::from_utf8_lossy(name)
                );
            }
        }
    }

    use super::{MESSAGE_ONLY, NAME_BYTE, SINGLE_FIELDS, field_name, name_run, single_field};
    use proptest::prelude::*;

    /// What [`single_field`] answers, by a plain search with the standard library's
    /// comparison.
    fn linear(name: &[u8], part: bool) -> Option<u32> {
        let limit = if part { MESSAGE_ONLY } else { SINGLE_FIELDS.len() };
        SINGLE_FIELDS[..limit]
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map(|i| 1u32 << i)
    }

    #[test]
    fn single_field_word_compare_agrees_on_every_one_byte_change() {
        // each name of the table with any one byte replaced by any byte value
        for n in SINGLE_FIELDS {
            for at in 0..n.len() {
                for b in 0..=255u8 {
                    let mut name = n.to_vec();
                    name[at] = b;
                    for part in [false, true] {
                        assert_eq!(single_field(&name, part), linear(&name, part), "{name:?}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn name_run_agrees_with_a_byte_search(
            bytes in proptest::collection::vec(
                prop_oneof![
                    Just(b':'), Just(b' '), Just(b'!'), Just(b'~'), Just(127u8), Just(128u8),
                    Just(0u8), Just(32u8), Just(33u8), Just(0xba_u8), Just(0xa1_u8), any::<u8>(),
                ],
                0..12,
            ),
            // name bytes first, so that the first other byte falls anywhere
            lead in proptest::collection::vec(33u8..127, 0..40),
        ) {
            let line: Vec<u8> = lead.into_iter().map(|b| if b == b':' { b'x' } else { b }).chain(bytes).collect();
            let plain = line.iter().position(|&b| !NAME_BYTE[usize::from(b)]).unwrap_or(line.len());
            prop_assert_eq!(name_run(&line), plain);
        }

        #[test]
        fn single_field_agrees_with_a_plain_search(
            pick in 0..SINGLE_FIELDS.len(),
            flips in proptest::collection::vec((0..32usize, any::<u8>()), 0..4),
            other in proptest::collection::vec(any::<u8>(), 0..30),
            use_other in any::<bool>(),
            part in any::<bool>(),
        ) {
            let mut name = if use_other { other } else { SINGLE_FIELDS[pick].to_vec() };
            for (at, b) in flips {
                if let Some(c) = name.get_mut(at) {
                    // flip the case bit, or put any byte
                    *c = if b < 128 { *c ^ 0x20 } else { b };
                }
            }
            prop_assert_eq!(single_field(&name, part), linear(&name, part));
        }
    }

    #[test]
    fn field_names() {
        assert_eq!(field_name(b"Subject: x"), Some((7, 7)));
        assert_eq!(field_name(b"Subject \t: x"), Some((7, 9)));
        assert_eq!(field_name(b"Sub ject: x"), None);
        assert_eq!(field_name(b": x"), None);
        assert_eq!(field_name(b"Caf\xc3\xa9: x"), None);
        assert_eq!(field_name(b"no colon"), None);
    }
}
