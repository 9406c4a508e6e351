//! The push parser: feed chunks of any size, get events with bounded buffering.

use crate::decode::TransferEncoding;
use crate::defect::Defect;
use crate::limits::Limits;
use crate::params::ContentType;
use crate::params::Scanned;
use crate::scan::{ChunkKind, Ev, EvQueue, FieldPos, Scanner, Shape, Sink};
use bytes::{Buf, Bytes, BytesMut};

/// A header field as it streamed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawField {
    /// Name as written.
    pub name: Bytes,
    /// Raw value after the colon (folding kept, final line ending removed).
    pub value: Bytes,
    /// Offset of the field in the whole input.
    pub offset: usize,
}

/// What the push parser found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// One header field of the current part (also repeated in `PartStart`).
    Header(RawField),
    /// A part's header block is complete; its body follows.
    PartStart {
        /// Nesting depth (root is 0).
        depth: usize,
        /// Offset of the part's first header byte.
        offset: usize,
        /// Offset where the body starts.
        body_offset: usize,
        /// The fields of the header block.
        headers: Vec<RawField>,
        /// Content-Type (or its default).
        content_type: ContentType<'static>,
        /// Content-Transfer-Encoding.
        encoding: TransferEncoding,
        /// Whether body parts / a nested message follow (`Multipart`/`Message`) or body chunks.
        shape: Shape,
    },
    /// Body bytes, still transfer-encoded (use [`crate::Base64Decoder`] / [`crate::QpDecoder`]).
    Body {
        /// The bytes.
        data: Bytes,
        /// Content, preamble or epilogue.
        kind: ChunkKind,
        /// Offset in the whole input.
        offset: usize,
    },
    /// A multipart delimiter line (with the CRLF before it).
    Delimiter {
        /// Offset of the line (including the CRLF that belongs to it).
        offset: usize,
        /// `--boundary--`
        close: bool,
    },
    /// The innermost open part ended at `offset`.
    PartEnd {
        /// End of the part's body.
        offset: usize,
    },
    /// A problem (parsing goes on).
    Defect(Defect),
}

/// Incremental parser: [`PushParser::feed`] bytes as they arrive, call
/// [`PushParser::finish`] at the end, and drain [`PushParser::poll_event`].
///
/// It keeps at most one header field or one candidate delimiter line buffered
/// (bounded by [`Limits`]) beyond the bytes not yet polled.
///
/// ```
/// use mime::{Event, PushParser};
/// let mut p = PushParser::new(Default::default());
/// let mut n = 0;
/// for chunk in [&b"Subject: hi\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx"[..], b"\r\n--b--\r\n"] {
///     p.feed(chunk);
///     while let Some(ev) = p.poll_event() {
///         if let Event::PartStart { .. } = ev { n += 1 }
///     }
/// }
/// p.finish();
/// while let Some(_) = p.poll_event() {}
/// assert_eq!(n, 2);
/// ```
#[derive(Debug)]
pub struct PushParser {
    sc: Scanner,
    /// Events found by the scanner and not handed out yet.
    queue: EvQueue,
    buf: BytesMut,
    base: usize,
    eof: bool,
    fields: Vec<RawField>,
    depth: usize,
    part_start: Vec<usize>,
    /// The Content-Type of the header block being read.
    content_type: Option<ContentType<'static>>,
}

impl PushParser {
    /// A parser with these limits.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        PushParser {
            sc: Scanner::new(limits),
            queue: EvQueue::default(),
            buf: BytesMut::new(),
            base: 0,
            eof: false,
            fields: Vec::new(),
            depth: 0,
            part_start: Vec::new(),
            content_type: None,
        }
    }

    /// Adds input.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Marks the end of input.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Bytes buffered but not yet turned into events.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True when the whole message has been reported.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.sc.is_done() && self.queue.is_empty()
    }

    /// Drops the input the scanner has consumed; only when no queued event still
    /// refers to it.
    fn release(&mut self) {
        let consumed = self.sc.pos - self.base;
        self.buf.advance(consumed);
        self.base = self.sc.pos;
    }

    fn take(&mut self, start: usize, end: usize) -> Bytes {
        self.buf.advance(start - self.base);
        self.base = start;
        let b = self.buf.split_to(end - start).freeze();
        self.base = end;
        b
    }

    /// The next event, or `None` when more input (or `finish`) is needed.
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            let Some(ev) = self.queue.pop_front() else {
                let mut sink = Queue {
                    queue: &mut self.queue,
                    buf: &self.buf,
                    base: self.base,
                    content_type: &mut self.content_type,
                };
                let rel = self.sc.pos - self.base;
                if !self.sc.step(&mut sink, &self.buf[rel..], self.eof) && self.queue.is_empty() {
                    // what the scanner consumed without an event (a skipped field)
                    // is released too, or it would stay buffered until the next
                    // event (Limits::max_field_bytes)
                    self.release();
                    return None;
                }
                continue;
            };
            if let Some(out) = self.event(ev) {
                // Queued events may still refer to bytes before `sc.pos`: drop input
                // only once everything the scanner found so far has been handed out.
                if self.queue.is_empty() {
                    self.release();
                }
                return Some(out);
            }
        }
    }

    /// Turns a scanner event into a public one (`None` for part beginnings, which
    /// are reported with the header block in [`Event::PartStart`]).
    fn event(&mut self, ev: Ev) -> Option<Event> {
        Some(match ev {
            Ev::PartBegin { offset } => {
                self.fields.clear();
                self.part_start.push(offset);
                return None;
            }
            Ev::Field {
                start, colon, end, ..
            } => {
                let raw = self.take(start, end);
                let mut vend = raw.len();
                if raw.ends_with(b"\n") {
                    vend -= 1;
                    if raw[..vend].ends_with(b"\r") {
                        vend -= 1;
                    }
                }
                let c = colon - start;
                let name_len = raw[..c].trim_ascii_end().len();
                let f = RawField {
                    name: raw.slice(..name_len),
                    value: raw.slice(c + 1..vend.max(c + 1)),
                    offset: start,
                };
                self.fields.push(f.clone());
                Event::Header(f)
            }
            Ev::HeaderEnd {
                body_start,
                content_type,
                digest_default,
                encoding,
                shape,
            } => {
                let depth = self.depth;
                self.depth += 1;
                let content_type = match self.content_type.take() {
                    Some(ct) if content_type.is_some() => ct,
                    _ => crate::tree::default_content_type(digest_default),
                };
                Event::PartStart {
                    depth,
                    offset: self.part_start.last().copied().unwrap_or(0),
                    body_offset: body_start,
                    headers: std::mem::take(&mut self.fields),
                    content_type,
                    encoding,
                    shape,
                }
            }
            Ev::Body { start, end, kind } => Event::Body {
                data: self.take(start, end),
                kind,
                offset: start,
            },
            Ev::Delimiter { start, close, .. } => Event::Delimiter { offset: start, close },
            Ev::PartEnd { end } => {
                self.depth = self.depth.saturating_sub(1);
                self.part_start.pop();
                Event::PartEnd { offset: end }
            }
            Ev::Defect(d) => Event::Defect(d),
        })
    }
}

/// The push parser's sink: queues the events, and parses the Content-Type while
/// its bytes are at hand (the scanner frames the body from it).
struct Queue<'p> {
    queue: &'p mut EvQueue,
    /// The buffered input, starting at absolute offset `base`.
    buf: &'p [u8],
    base: usize,
    content_type: &'p mut Option<ContentType<'static>>,
}

impl Sink for Queue<'_> {
    fn event(&mut self, ev: Ev) {
        self.queue.push_back(ev);
    }

    fn field(&mut self, f: &FieldPos, content_type: bool) -> Option<Scanned> {
        self.queue.push_back(Ev::Field {
            start: f.start,
            colon: f.colon,
            end: f.end,
            content_type,
        });
        if !content_type {
            return None;
        }
        let value = self
            .buf
            .get(f.colon + 1 - self.base..f.value_end - self.base)
            .unwrap_or_default();
        let ct = ContentType::parse(value);
        let framing = ct.as_ref().map(ContentType::framing);
        *self.content_type = Some(ct.unwrap_or_else(|| ContentType::fallback(value)).into_owned());
        framing
    }
}
