//! [`Framer`]: splits an IMAP byte stream into units (a line plus the
//! literals it announces), under [`Limits`], without copying literal data.
//!
//! RFC 9051 section 4.3: a literal is announced at the very end of a line as
//! `{n}` (synchronizing), `{n+}` (non-synchronizing: LITERAL+ or LITERAL-,
//! RFC 7888, which both use the `+` form) or `~{n}` / `~{n+}` (literal8,
//! RFC 3516 / RFC 9051); the `n` octets follow the CRLF and the unit goes on
//! after them. A unit ends at the first line that does not end with an
//! announcement.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::FrameError;
use crate::limits::Limits;
use crate::options::Version;

/// Which stream a framer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Commands, read by a server.
    ClientToServer,
    /// Responses, read by a client.
    ServerToClient,
}

/// How a literal was announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LiteralMode {
    /// `{n}`: a client waits for a continuation request before sending data.
    Sync,
    /// `{n+}`: non-synchronizing literal (RFC 7888). LITERAL- uses the same
    /// form, only smaller (RFC 7888 section 5: "it still uses the "+" in the
    /// literal itself"); `{n-}` is no literal at all.
    Plus,
}

/// A literal announcement found at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LiteralInfo {
    /// Number of octets that follow.
    pub len: u64,
    /// Synchronizing or not.
    pub mode: LiteralMode,
    /// `~{n}`: a literal8 that may hold NUL (BINARY, RFC 3516).
    pub binary: bool,
}

impl LiteralInfo {
    /// Whether the sender waits for a `+` continuation before sending the
    /// data: only a synchronizing literal from a client does.
    #[must_use]
    pub fn needs_continuation(&self, dir: Direction) -> bool {
        dir == Direction::ClientToServer && self.mode == LiteralMode::Sync
    }
}

/// Finds a literal announcement at the end of `line` (CRLF already removed).
#[inline]
pub(crate) fn announcement(line: &[u8]) -> Option<(LiteralInfo, usize)> {
    // Most lines end in no `}`: that answer stays inline in the caller.
    if line.last() != Some(&b'}') {
        return None;
    }
    announcement_at(line)
}

/// [`announcement`] for a line that ends in `}`.
fn announcement_at(line: &[u8]) -> Option<(LiteralInfo, usize)> {
    let mut i = line.len().checked_sub(1)?;
    if line[i] != b'}' {
        return None;
    }
    let mut mode = LiteralMode::Sync;
    if line.get(i.checked_sub(1)?) == Some(&b'+') {
        mode = LiteralMode::Plus;
        i -= 1;
    }
    let end = i;
    while i > 0 && line[i - 1].is_ascii_digit() {
        i -= 1;
    }
    let digits = &line[i..end];
    if digits.is_empty() || i == 0 || line[i - 1] != b'{' {
        return None;
    }
    // number64 = 1*DIGIT: leading zeros are allowed, so the count is not
    // bounded by its number of digits. One too large for a u64 saturates,
    // and the limits refuse it.
    let mut len: u64 = 0;
    for &d in digits {
        len = len.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    let mut start = i - 1;
    let binary = start > 0 && line[start - 1] == b'~';
    if binary {
        start -= 1;
    }
    Some((LiteralInfo { len, mode, binary }, start))
}

/// Whether a response line is a continuation request (`+ ...`) or a status
/// response (`tag OK/NO/BAD ...`, `* OK/NO/BAD/PREAUTH/BYE ...`) that can
/// hold no literal. The one response code that can is IMAP4rev1's
/// BADCHARSET (RFC 3501 section 9: `"BADCHARSET" [SP "(" astring *(SP
/// astring) ")" ]`), so under IMAP4rev1 a line whose code starts with it is
/// left to the usual end-of-line rule. IMAP4rev2 made its charsets `atom /
/// quoted` (RFC 9051 section 9), so there no status line holds a literal.
fn status_line(line: &[u8], version: Version) -> bool {
    let text = if let Some(rest) = line.strip_prefix(b"+ ") {
        rest
    } else {
        let mut words = line.splitn(3, |&b| b == b' ');
        let (Some(_tag), Some(word)) = (words.next(), words.next()) else {
            return false;
        };
        if ![&b"OK"[..], b"NO", b"BAD", b"PREAUTH", b"BYE"]
            .iter()
            .any(|k| word.eq_ignore_ascii_case(k))
        {
            return false;
        }
        words.next().unwrap_or_default()
    };
    let code = b"[BADCHARSET";
    version == Version::Rev2
        || !text
            .get(..code.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(code))
}

/// The literal that a response line announces (CRLF removed; `first`: the
/// unit's first line), by the rule the framer reads responses with under
/// `version`: the first line of a status response or continuation request
/// holds none (see [`status_line`]). The parser and the encoder ask the same
/// question of a line that ends in text, so text the framer would read as a
/// literal is neither accepted nor written, and text it would not is both.
#[inline]
pub(crate) fn response_line_announces(
    line: &[u8],
    first: bool,
    version: Version,
) -> Option<(LiteralInfo, usize)> {
    // The cheap test first: most lines end in no announcement at all.
    announcement(line).filter(|_| !(first && status_line(line, version)))
}

/// One complete command or response: its lines and buffered literals, as
/// one `Bytes` (a slice of the receive buffer when nothing was streamed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unit {
    bytes: Bytes,
    streamed: Vec<usize>,
    /// The offsets (among `streamed`) of streamed literals that are no
    /// literal8 and whose data held a NUL, which a literal may not (RFC
    /// 9051 section 9: `literal = "{" number64 ["+"] "}" CRLF *CHAR8`,
    /// `CHAR8 = %x01-ff`): the parser refuses them as it refuses a
    /// buffered one, so whether a unit parses does not depend on
    /// [`Limits::stream_literals_over`].
    streamed_nul: Vec<usize>,
}

impl Unit {
    /// A unit made of `bytes` with nothing streamed (for tests and callers
    /// that frame by other means).
    #[must_use]
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Unit {
            bytes: bytes.into(),
            streamed: Vec::new(),
            streamed_nul: Vec::new(),
        }
    }

    /// The bytes of the unit, CRLFs included. A streamed literal's data is
    /// not there: its announcement's CRLF is directly followed by the rest of
    /// the line.
    #[must_use]
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Offsets in [`bytes`](Self::bytes) where a streamed literal's data was
    /// taken out, in increasing order.
    #[must_use]
    pub fn streamed_offsets(&self) -> &[usize] {
        &self.streamed
    }

    /// The streamed literals (by offset, as in
    /// [`streamed_offsets`](Self::streamed_offsets)) that held a NUL and
    /// are no literal8.
    pub(crate) fn streamed_nul_offsets(&self) -> &[usize] {
        &self.streamed_nul
    }
}

/// What [`Framer::next`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete unit, ready to parse.
    Unit(Unit),
    /// A client announced a synchronizing literal (only reported when
    /// reading commands). The server answers with a continuation request to
    /// get the data, or refuses (tagged NO/BAD) and calls
    /// [`Framer::reject_literal`]; the framer then waits for the data.
    LiteralAnnounced(LiteralInfo),
    /// A literal over [`Limits::stream_literals_over`] (and over
    /// [`Limits::ALWAYS_BUFFERED`]) starts; its data comes
    /// as [`Frame::StreamChunk`]s and then [`Frame::StreamEnd`]. When it is a
    /// client's synchronizing literal, the server must send a continuation
    /// request (or reject) exactly as for [`Frame::LiteralAnnounced`].
    StreamStart(LiteralInfo),
    /// Data of the streamed literal (a slice of the receive buffer). It is
    /// passed on unchecked: a NUL in a literal that is no literal8 makes
    /// the unit fail to parse, as when buffered, so the data stands only
    /// once its unit has parsed.
    StreamChunk(Bytes),
    /// The streamed literal is complete; the rest of its unit follows and
    /// comes out as a [`Frame::Unit`] that marks the literal as streamed.
    StreamEnd,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Line,
    /// `sync`: a client's synchronizing literal, whose data the client
    /// sends only after a continuation request.
    Literal {
        remaining: u64,
        sync: bool,
    },
    /// `nul`: a literal that is no literal8 (`binary` false) held a NUL
    /// so far (see [`Unit::streamed_nul_offsets`]).
    Stream {
        remaining: u64,
        started: bool,
        sync: bool,
        binary: bool,
        nul: bool,
    },
    Discard {
        skip: u64,
        tail: TailScan,
    },
}

/// Whether the line being skipped ends in a literal announcement, read byte
/// by byte as the line arrives: `{` 1*DIGIT \[`+`\] `}` right before the line
/// ending, the count saturating as in [`announcement`]. It keeps no bytes,
/// so a count of any number of digits is recognised however the input was
/// split (keeping the last bytes of the line was not enough: a count padded
/// with zeros past them was found in one feeding and not in another).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct TailScan {
    at: TailAt,
    len: u64,
    plus: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum TailAt {
    #[default]
    Other,
    Brace,
    Digits,
    Plus,
    Closed,
    ClosedCr,
}

impl TailScan {
    fn feed(&mut self, bytes: &[u8]) {
        // Only what follows the last `{` can matter.
        let from = match memchr::memrchr(b'{', bytes) {
            Some(k) => k,
            None if self.at == TailAt::Other => return,
            None => 0,
        };
        if from > 0 {
            self.at = TailAt::Other;
        }
        for &b in &bytes[from..] {
            self.at = match (self.at, b) {
                (_, b'{') => {
                    self.len = 0;
                    self.plus = false;
                    TailAt::Brace
                }
                (TailAt::Brace | TailAt::Digits, b'0'..=b'9') => {
                    self.len = self.len.saturating_mul(10).saturating_add(u64::from(b - b'0'));
                    TailAt::Digits
                }
                (TailAt::Digits, b'+') => {
                    self.plus = true;
                    TailAt::Plus
                }
                (TailAt::Digits | TailAt::Plus, b'}') => TailAt::Closed,
                (TailAt::Closed, b'\r') => TailAt::ClosedCr,
                _ => TailAt::Other,
            };
        }
    }

    /// The literal announced at the end of the line, once its LF has come.
    fn announced(&self) -> Option<LiteralInfo> {
        matches!(self.at, TailAt::Closed | TailAt::ClosedCr).then_some(LiteralInfo {
            len: self.len,
            mode: if self.plus {
                LiteralMode::Plus
            } else {
                LiteralMode::Sync
            },
            binary: false,
        })
    }
}

/// What `Framer::line` did: a result for the caller, or a literal whose
/// data follows at once (no continuation), which `next` reads on.
enum Step {
    Out(Option<Result<Frame, FrameError>>),
    Again,
}

/// Splits a receive buffer into [`Frame`]s. Sans-IO: the caller owns the
/// `BytesMut` and appends what it reads; the framer takes complete units off
/// its front.
///
/// ```
/// use bytes::BytesMut;
/// use imap_proto::{Direction, Frame, Framer, Limits};
///
/// let mut f = Framer::new(Direction::ClientToServer, Limits::default());
/// let mut buf = BytesMut::from(&b"a1 LOGIN {4}\r\n"[..]);
/// assert!(matches!(f.next(&mut buf), Some(Ok(Frame::LiteralAnnounced(i))) if i.len == 4));
/// assert_eq!(f.next(&mut buf), None); // waits for the data
/// buf.extend_from_slice(b"fred pw\r\n");
/// let Some(Ok(Frame::Unit(u))) = f.next(&mut buf) else { panic!() };
/// assert_eq!(&u.bytes()[..], b"a1 LOGIN {4}\r\nfred pw\r\n");
/// ```
#[derive(Debug, Clone)]
pub struct Framer {
    dir: Direction,
    limits: Limits,
    version: Version,
    state: State,
    pos: usize,
    line_start: usize,
    pending: BytesMut,
    streamed: Vec<usize>,
    streamed_nul: Vec<usize>,
    /// Limits set while a unit was partly read, for the next unit.
    next_limits: Option<Limits>,
}

impl Framer {
    /// A framer for `dir` under `limits`.
    #[must_use]
    pub fn new(dir: Direction, limits: Limits) -> Self {
        Framer {
            dir,
            limits,
            version: Version::Rev1,
            state: State::Line,
            pos: 0,
            line_start: 0,
            pending: BytesMut::new(),
            streamed: Vec::new(),
            streamed_nul: Vec::new(),
            next_limits: None,
        }
    }

    /// The direction this framer reads.
    #[must_use]
    pub fn direction(&self) -> Direction {
        self.dir
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Replaces the limits (takes effect from the next unit on: a unit
    /// partly read, see [`Framer::in_unit`], is finished under the limits
    /// it started with).
    pub fn set_limits(&mut self, limits: Limits) {
        if self.in_unit() {
            self.next_limits = Some(limits);
        } else {
            self.limits = limits;
            self.next_limits = None;
        }
    }

    /// The IMAP version whose grammar decides where a response line can
    /// announce a literal (IMAP4rev1 until set).
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// Sets the IMAP version in force, as for the parser's
    /// [`Options::version`](crate::Options::version) (after `ENABLE
    /// IMAP4rev2`, say). It matters for one response only: a status response
    /// with a BADCHARSET code may end in a literal under IMAP4rev1 (RFC 3501
    /// section 9: its charsets are astrings) and never under IMAP4rev2 (RFC
    /// 9051 section 9: `atom / quoted`), where a `{n}` ending it is text.
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// Whether a unit is partly read (a session must not switch modes then).
    #[must_use]
    pub fn in_unit(&self) -> bool {
        self.pos > 0 || !self.pending.is_empty() || self.state != State::Line
    }

    /// Drops the unit whose literal was just announced
    /// ([`Frame::LiteralAnnounced`], or [`Frame::StreamStart`] before its
    /// first chunk). For a synchronizing literal the server refused, the
    /// client will not send the data. A non-synchronizing literal's data is
    /// on its way regardless (RFC 7888 section 3), so it is skipped with the
    /// rest of the unit, never read as commands. Returns whether there was
    /// such a unit.
    pub fn reject_literal(&mut self, buf: &mut BytesMut) -> bool {
        let (State::Literal { remaining, sync }
        | State::Stream {
            remaining,
            started: false,
            sync,
            ..
        }) = self.state
        else {
            return false;
        };
        let n = self.pos.min(buf.len());
        buf.advance(n);
        self.reset();
        if !sync {
            self.state = State::Discard {
                skip: remaining,
                tail: TailScan::default(),
            };
        }
        true
    }

    /// Forgets the unit partly read, if any: the framer is between units
    /// again (limits set meanwhile take effect). For a receive buffer whose
    /// content is thrown away: after STARTTLS, a server discards what the
    /// client pipelined after the command (RFC 9051 section 6.2.1, option
    /// 2, against plaintext command injection), and the framer must forget
    /// what it had read of it. A framer whose buffer shrank below what it
    /// had read without this call starts afresh too.
    pub fn reset(&mut self) {
        self.state = State::Line;
        self.pos = 0;
        self.line_start = 0;
        self.pending.clear();
        self.streamed.clear();
        self.streamed_nul.clear();
        if let Some(l) = self.next_limits.take() {
            self.limits = l;
        }
    }

    fn head(&self, buf: &[u8], upto: usize) -> Bytes {
        let mut h = Vec::with_capacity(self.limits.error_snippet.min(256));
        let cap = self.limits.error_snippet;
        h.extend_from_slice(&self.pending[..self.pending.len().min(cap)]);
        let rest = cap - h.len();
        h.extend_from_slice(&buf[..upto.min(buf.len()).min(rest)]);
        if self.dir == Direction::ClientToServer {
            // A client line with no tag is no command: during AUTHENTICATE
            // it is a SASL response (RFC 9051 section 6.2.2), which the
            // framer cannot tell apart, so none of it is kept. A command
            // keeps its head up to the credentials of LOGIN/AUTHENTICATE.
            if crate::parse::tag_len(&h).is_none() {
                h.clear();
            } else if let Some(n) = crate::parse::credentials_at(&h) {
                h.truncate(n);
            }
        }
        Bytes::from(h)
    }

    /// Fails the current unit: drops what is buffered up to `consumed`,
    /// then skips `skip` literal bytes and the rest of the unit.
    fn fail(&mut self, buf: &mut BytesMut, consumed: usize, skip: u64, err: FrameError) -> FrameError {
        buf.advance(consumed.min(buf.len()));
        self.reset();
        if skip > 0 {
            self.state = State::Discard {
                skip,
                tail: TailScan::default(),
            };
        }
        err
    }

    /// Takes the next frame off the front of `buf`. `None`: more input is
    /// needed. An error means one unit was refused; the framer stays in sync
    /// (the refused unit's remaining bytes are skipped as they arrive).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self, buf: &mut BytesMut) -> Option<Result<Frame, FrameError>> {
        // The caller emptied the buffer under a partly read unit (see
        // `reset`): what the framer had read of it is gone.
        if self.pos > buf.len() {
            self.reset();
        }
        if let Some(unit) = self.one_line_unit(buf) {
            return Some(Ok(Frame::Unit(unit)));
        }
        loop {
            match &mut self.state {
                State::Line => match self.line(buf) {
                    Step::Out(r) => return r,
                    Step::Again => {}
                },
                State::Literal { remaining, .. } => {
                    let avail = (buf.len() - self.pos) as u64;
                    if avail < *remaining {
                        return None;
                    }
                    // remaining <= avail, which is a usize
                    self.pos += usize::try_from(*remaining).unwrap_or(usize::MAX);
                    self.line_start = self.pos;
                    self.state = State::Line;
                }
                State::Stream {
                    remaining,
                    started,
                    binary,
                    nul,
                    ..
                } => {
                    if *remaining == 0 {
                        if *nul {
                            // The literal's offset, pushed at its start.
                            let at = self.streamed.last().copied().unwrap_or_default();
                            self.streamed_nul.push(at);
                        }
                        self.state = State::Line;
                        self.pos = 0;
                        self.line_start = 0;
                        return Some(Ok(Frame::StreamEnd));
                    }
                    if buf.is_empty() {
                        return None;
                    }
                    *started = true;
                    let n = usize::try_from(*remaining).unwrap_or(usize::MAX).min(buf.len());
                    *remaining -= n as u64;
                    let chunk = buf.split_to(n).freeze();
                    *nul |= !*binary && memchr::memchr(0, &chunk).is_some();
                    return Some(Ok(Frame::StreamChunk(chunk)));
                }
                State::Discard { skip, tail } => {
                    if *skip > 0 {
                        let n = usize::try_from(*skip).unwrap_or(usize::MAX).min(buf.len());
                        buf.advance(n);
                        *skip -= n as u64;
                        if *skip > 0 {
                            return None;
                        }
                    }
                    if let Some(i) = memchr::memchr(b'\n', buf) {
                        tail.feed(&buf[..i]);
                        let next = tail
                            .announced()
                            .filter(|info| !info.needs_continuation(self.dir))
                            .map(|info| info.len);
                        buf.advance(i + 1);
                        *tail = TailScan::default();
                        match next {
                            Some(len) if len > 0 => *skip = len,
                            Some(_) => {}
                            None => self.reset(),
                        }
                    } else {
                        // The end of the line decides whether a literal
                        // follows: read what is skipped as it goes.
                        tail.feed(buf);
                        buf.clear();
                        return None;
                    }
                }
            }
        }
    }

    /// The common case on its own: between units, a complete first line
    /// that ends in CRLF, is within the limits and announces no literal
    /// (does not end in `}`) is the whole unit. Anything else is left to
    /// [`Framer::line`], which gives the same unit for this case.
    #[inline]
    fn one_line_unit(&mut self, buf: &mut BytesMut) -> Option<Unit> {
        if !matches!(self.state, State::Line)
            || self.pos != 0
            || self.line_start != 0
            || !self.pending.is_empty()
            || !self.streamed.is_empty()
        {
            return None;
        }
        let i = memchr::memchr2(b'\r', b'\n', buf)?;
        let end = i + 2;
        if buf.get(i..end) != Some(b"\r\n")
            || end > self.limits.max_line_len
            || end > self.limits.max_unit_len
            || buf[..i].last() == Some(&b'}')
        {
            return None;
        }
        Some(Unit {
            bytes: buf.split_to(end).freeze(),
            streamed: Vec::new(),
            streamed_nul: Vec::new(),
        })
    }

    /// Refuses the current line as too long once more than the limit has
    /// arrived before its first CR or LF: consumes `buf` up to `at` (all that
    /// was buffered, or the first CR or LF) and skips the rest of the line as
    /// it arrives. The skip reads the bytes consumed, as it does between
    /// pieces, so that a literal announced at the end of the line is skipped
    /// however the input was split.
    fn too_long_at(&mut self, buf: &mut BytesMut, at: usize) -> FrameError {
        let lim = self.limits;
        // The head is cut at the limit, so it does not depend on how the
        // input was split.
        let head = self.head(buf, self.line_start + lim.max_line_len);
        let mut tail = TailScan::default();
        tail.feed(&buf[self.line_start..at]);
        let err = FrameError::LineTooLong {
            limit: lim.max_line_len,
            head,
        };
        let e = self.fail(buf, at, 0, err);
        self.state = State::Discard { skip: 0, tail };
        e
    }

    fn line(&mut self, buf: &mut BytesMut) -> Step {
        let lim = self.limits;
        let hit = memchr::memchr2(b'\r', b'\n', &buf[self.pos..]).map(|k| self.pos + k);
        let Some(i) = hit else {
            if buf.len() - self.line_start > lim.max_line_len {
                let len = buf.len();
                return Step::Out(Some(Err(self.too_long_at(buf, len))));
            }
            self.pos = buf.len();
            return Step::Out(None);
        };
        // More than the limit before the first CR or LF is too long, however
        // the input was split (a split input reports it before the CR or LF
        // arrives, above), so that is checked before the line ending.
        let too_long = i - self.line_start > lim.max_line_len;
        // A CR must be followed by LF; a LF must follow a CR.
        let lf = if buf[i] == b'\r' {
            match buf.get(i + 1) {
                None => {
                    self.pos = i;
                    if too_long {
                        self.pos = buf.len();
                        return self.line(buf);
                    }
                    return Step::Out(None);
                }
                Some(b'\n') => i + 1,
                Some(_) if too_long => return Step::Out(Some(Err(self.too_long_at(buf, i)))),
                Some(_) => {
                    let head = self.head(buf, i + 1);
                    let err = FrameError::BareLineEnding { head };
                    let e = self.fail(buf, i + 1, 0, err);
                    self.state = State::Discard {
                        skip: 0,
                        tail: TailScan::default(),
                    };
                    return Step::Out(Some(Err(e)));
                }
            }
        } else if too_long {
            return Step::Out(Some(Err(self.too_long_at(buf, i))));
        } else {
            let head = self.head(buf, i + 1);
            let err = FrameError::BareLineEnding { head };
            let skip = self.skip_after(&buf[self.line_start..i]);
            return Step::Out(Some(Err(self.fail(buf, i + 1, skip, err))));
        };
        let end = lf + 1;
        if end - self.line_start > lim.max_line_len {
            let head = self.head(buf, self.line_start + lim.max_line_len);
            let line = &buf[self.line_start..lf - 1];
            let skip = self.skip_after(line);
            // A literal of zero octets announced at the end still continues
            // the command past this line: skip on to its real end, as the
            // skip of a line refused before its CRLF arrived does (found by
            // fuzzing imap_framer).
            let continues = announcement(line).is_some_and(|(info, _)| !info.needs_continuation(self.dir));
            let err = FrameError::LineTooLong {
                limit: lim.max_line_len,
                head,
            };
            let e = self.fail(buf, end, skip, err);
            if continues && skip == 0 {
                self.state = State::Discard {
                    skip: 0,
                    tail: TailScan::default(),
                };
            }
            return Step::Out(Some(Err(e)));
        }
        let first = self.line_start == 0 && self.pending.is_empty();
        let Some((info, ann_at)) = self.announces(&buf[self.line_start..lf - 1], first) else {
            if self.pending.len() + end > lim.max_unit_len {
                let head = self.head(buf, end);
                let err = FrameError::UnitTooLarge {
                    limit: lim.max_unit_len,
                    head,
                };
                return Step::Out(Some(Err(self.fail(buf, end, 0, err))));
            }
            let line = buf.split_to(end);
            let bytes = if self.pending.is_empty() {
                line.freeze()
            } else {
                self.pending.extend_from_slice(&line);
                self.pending.split().freeze()
            };
            let streamed = std::mem::take(&mut self.streamed);
            let streamed_nul = std::mem::take(&mut self.streamed_nul);
            self.reset();
            return Step::Out(Some(Ok(Frame::Unit(Unit {
                bytes,
                streamed,
                streamed_nul,
            }))));
        };
        let wait = info.needs_continuation(self.dir);
        let skip = if wait { 0 } else { info.len };
        let stream = lim
            .stream_literals_over
            .is_some_and(|t| info.len > t.max(Limits::ALWAYS_BUFFERED));
        let ann_end = self.line_start + ann_at;
        let too_big = |limit: u64| FrameError::LiteralTooLarge {
            len: info.len,
            limit,
            head: Bytes::new(),
        };
        let nonsync = self.dir == Direction::ClientToServer && info.mode == LiteralMode::Plus;
        let refused = if nonsync && info.len > lim.max_nonsync_literal_len {
            Some(too_big(lim.max_nonsync_literal_len))
        } else if stream && info.len > lim.max_streamed_literal_len {
            Some(too_big(lim.max_streamed_literal_len))
        } else if !stream && info.len > lim.max_literal_len {
            Some(too_big(lim.max_literal_len))
        } else if stream && self.pending.len() + end > lim.max_unit_len {
            // The lines around streamed literals are kept until the unit
            // ends: they count against the unit limit too, or a peer that
            // keeps announcing streamed literals grows `pending` without end.
            Some(FrameError::UnitTooLarge {
                limit: lim.max_unit_len,
                head: Bytes::new(),
            })
        } else if !stream
            // Checked: under limits of u64::MAX / usize::MAX ("no bound"),
            // a literal of u64::MAX octets overflowed the sum; a sum past
            // u64 is past any unit limit.
            && ((self.pending.len() + end) as u64)
                .checked_add(info.len)
                .is_none_or(|total| total > lim.max_unit_len as u64)
        {
            Some(FrameError::UnitTooLarge {
                limit: lim.max_unit_len,
                head: Bytes::new(),
            })
        } else {
            None
        };
        if let Some(mut err) = refused {
            let h = self.head(buf, ann_end);
            match &mut err {
                FrameError::LiteralTooLarge { head, .. } | FrameError::UnitTooLarge { head, .. } => {
                    *head = h;
                }
                _ => {}
            }
            return Step::Out(Some(Err(self.fail(buf, end, skip, err))));
        }
        if stream {
            let prefix = buf.split_to(end);
            self.pending.extend_from_slice(&prefix);
            self.streamed.push(self.pending.len());
            self.pos = 0;
            self.line_start = 0;
            self.state = State::Stream {
                remaining: info.len,
                started: false,
                sync: wait,
                binary: info.binary,
                nul: false,
            };
            return Step::Out(Some(Ok(Frame::StreamStart(info))));
        }
        self.pos = end;
        self.line_start = end;
        self.state = State::Literal {
            remaining: info.len,
            sync: wait,
        };
        if wait {
            return Step::Out(Some(Ok(Frame::LiteralAnnounced(info))));
        }
        // Its data needs no continuation: read on in `next`, in a loop
        // (recursing here overflowed the stack on a unit of many literals).
        Step::Again
    }

    /// The literal `line` announces, if any. The first line of a response
    /// that is a status response or a continuation request holds none
    /// (RFC 9051 section 9: `resp-cond-state`, `resp-cond-bye`,
    /// `resp-cond-auth` and `continue-req` end in `resp-text`, whose `text`
    /// is any TEXT-CHAR up to CRLF), so a `{n}` at its end is text.
    fn announces(&self, line: &[u8], first: bool) -> Option<(LiteralInfo, usize)> {
        match self.dir {
            Direction::ServerToClient => response_line_announces(line, first, self.version),
            Direction::ClientToServer => announcement(line),
        }
    }

    /// How many literal bytes follow a refused line that ends with `line`.
    /// A refused line is read as announcing whatever its end says (status
    /// lines included), as a line refused before its CRLF arrived is
    /// ([`TailScan`]), so the skip does not depend on how input was split.
    fn skip_after(&self, line: &[u8]) -> u64 {
        match announcement(line) {
            Some((info, _)) if !info.needs_continuation(self.dir) => info.len,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(f: &mut Framer, buf: &mut BytesMut) -> Vec<Result<Frame, FrameError>> {
        let mut v = Vec::new();
        while let Some(x) = f.next(buf) {
            v.push(x);
        }
        v
    }

    #[test]
    fn announcements() {
        let a = |s: &[u8]| announcement(s).map(|(i, at)| (i.len, i.mode, i.binary, at));
        assert_eq!(a(b"x {12}"), Some((12, LiteralMode::Sync, false, 2)));
        assert_eq!(a(b"x {0+}"), Some((0, LiteralMode::Plus, false, 2)));
        assert_eq!(a(b"x ~{3+}"), Some((3, LiteralMode::Plus, true, 2)));
        assert_eq!(a(b"x ~{3-}"), None);
        assert_eq!(a(b"x {3-}"), None);
        assert_eq!(a(b"x {}"), None);
        assert_eq!(a(b"x {+}"), None);
        assert_eq!(a(b"x 12}"), None);
        assert_eq!(a(b"}"), None);
        assert_eq!(
            a(b"{99999999999999999999}"),
            Some((u64::MAX, LiteralMode::Sync, false, 0))
        );
        assert_eq!(
            a(b"{000000000000000000003}"),
            Some((3, LiteralMode::Sync, false, 0))
        );
    }

    /// Frames `input` whole and one byte at a time; both must agree.
    fn whole_and_bytewise(limits: Limits, input: &[u8]) -> Vec<String> {
        let run = |pieces: Vec<&[u8]>| {
            let mut f = Framer::new(Direction::ServerToClient, limits);
            let mut buf = BytesMut::new();
            let mut out = Vec::new();
            for p in pieces {
                buf.extend_from_slice(p);
                out.extend(all(&mut f, &mut buf).into_iter().map(|x| format!("{x:?}")));
            }
            out
        };
        let whole = run(vec![input]);
        assert_eq!(whole, run(input.chunks(1).collect()), "{input:?}");
        whole
    }

    #[test]
    fn a_long_literal_count_ending_a_refused_line_is_read_whatever_the_split() {
        // Found by fuzzing imap_framer: the skip of a refused line kept its
        // last 32 bytes only, so a count padded with zeros past them was
        // found when the line came whole and missed when it came in pieces.
        let limits = Limits {
            max_line_len: 16,
            ..Limits::default()
        };
        let zeros = "0".repeat(40);
        let input = format!("* 1 FETCH (BODY[] {{{zeros}3}}\r\nabc)\r\n* OK\r\n");
        let v = whole_and_bytewise(limits, input.as_bytes());
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("LineTooLong") && v[1].contains("* OK"), "{v:?}");
    }

    #[test]
    fn too_long_before_a_bare_line_ending_whatever_the_split() {
        // Found by fuzzing imap_framer: more than the limit before a bare CR
        // (or LF) was "too long" in pieces but "bare line ending" whole.
        let limits = Limits {
            max_line_len: 16,
            ..Limits::default()
        };
        for ending in [&b"\rx"[..], b"\n", b"\r\n"] {
            for len in 14..20 {
                let mut input = b"* ".to_vec();
                input.resize(len, b'a');
                input.extend_from_slice(ending);
                input.extend_from_slice(b"tail\r\n* OK\r\n");
                let v = whole_and_bytewise(limits, &input);
                assert!(v.last().is_some_and(|l| l.contains("* OK")), "{v:?}");
            }
        }
        // A literal announced at the end of a too-long line is skipped.
        let v = whole_and_bytewise(limits, b"* 1 FETCH (BODY[] {4}\nab\r\n)\r\n* OK\r\n");
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("LineTooLong") && v[1].contains("* OK"), "{v:?}");
        // Also an empty literal, after a complete too-long line: the command goes
        // on past it (its next line announces another literal).
        let v = whole_and_bytewise(
            limits,
            b"* 1 FETCH (BODY[HEADER] {0}\r\n BODY[] {3}\r\nabc)\r\n* OK\r\n",
        );
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].contains("LineTooLong") && v[1].contains("* OK"), "{v:?}");
    }

    #[test]
    fn units_and_literals() {
        let mut f = Framer::new(Direction::ServerToClient, Limits::default());
        let mut buf = BytesMut::from(&b"* 1 FETCH (BODY[] {3}\r\nabc)\r\n* OK\r\n"[..]);
        let v = all(&mut f, &mut buf);
        assert_eq!(v.len(), 2);
        let Ok(Frame::Unit(u)) = &v[0] else { panic!() };
        assert_eq!(&u.bytes()[..], b"* 1 FETCH (BODY[] {3}\r\nabc)\r\n");
        assert!(buf.is_empty());
    }

    #[test]
    fn reject_sync_literal() {
        let mut f = Framer::new(Direction::ClientToServer, Limits::default());
        let mut buf = BytesMut::from(&b"a APPEND x {10}\r\n"[..]);
        assert!(matches!(f.next(&mut buf), Some(Ok(Frame::LiteralAnnounced(_)))));
        assert!(f.reject_literal(&mut buf));
        buf.extend_from_slice(b"b NOOP\r\n");
        let Some(Ok(Frame::Unit(u))) = f.next(&mut buf) else {
            panic!()
        };
        assert_eq!(&u.bytes()[..], b"b NOOP\r\n");
    }

    #[test]
    fn too_large_nonsync_literal_is_skipped() {
        let lim = Limits {
            max_literal_len: 4,
            ..Limits::default()
        };
        let mut f = Framer::new(Direction::ClientToServer, lim);
        let mut buf = BytesMut::from(&b"a APPEND x {8+}\r\n12345678 {2+}\r\nab\r\nb NOOP\r\n"[..]);
        let v = all(&mut f, &mut buf);
        assert!(
            matches!(&v[0], Err(FrameError::LiteralTooLarge { len: 8, head, .. }) if &head[..] == b"a APPEND x ")
        );
        let Ok(Frame::Unit(u)) = &v[1] else {
            panic!("{v:?}")
        };
        assert_eq!(&u.bytes()[..], b"b NOOP\r\n");
    }

    #[test]
    fn long_line_resyncs() {
        let lim = Limits {
            max_line_len: 10,
            ..Limits::default()
        };
        let mut f = Framer::new(Direction::ServerToClient, lim);
        let mut buf = BytesMut::from(&b"* 0123456789012345"[..]);
        assert!(matches!(
            f.next(&mut buf),
            Some(Err(FrameError::LineTooLong { .. }))
        ));
        buf.extend_from_slice(b"67 {3}\r\nabc\r\n* OK\r\n");
        let v = all(&mut f, &mut buf);
        let Ok(Frame::Unit(u)) = &v[0] else {
            panic!("{v:?}")
        };
        assert_eq!(&u.bytes()[..], b"* OK\r\n");
    }

    #[test]
    fn bare_lf_and_cr() {
        let mut f = Framer::new(Direction::ClientToServer, Limits::default());
        let mut buf = BytesMut::from(&b"a NOOP\nb NO\rOP\r\nc NOOP\r\n"[..]);
        let v = all(&mut f, &mut buf);
        assert!(matches!(&v[0], Err(FrameError::BareLineEnding { .. })));
        assert!(matches!(&v[1], Err(FrameError::BareLineEnding { .. })));
        let Ok(Frame::Unit(u)) = &v[2] else {
            panic!("{v:?}")
        };
        assert_eq!(&u.bytes()[..], b"c NOOP\r\n");
    }

    #[test]
    fn streaming() {
        let lim = Limits {
            stream_literals_over: Some(4),
            ..Limits::default()
        };
        let mut f = Framer::new(Direction::ServerToClient, lim);
        let mut buf = BytesMut::from(&b"* 1 FETCH (BODY[] {20}\r\n0123456789"[..]);
        assert!(matches!(f.next(&mut buf), Some(Ok(Frame::StreamStart(i))) if i.len == 20));
        assert_eq!(
            f.next(&mut buf),
            Some(Ok(Frame::StreamChunk(Bytes::from_static(b"0123456789"))))
        );
        assert_eq!(f.next(&mut buf), None);
        buf.extend_from_slice(b"abcdefghij UID 4)\r\n");
        assert_eq!(
            f.next(&mut buf),
            Some(Ok(Frame::StreamChunk(Bytes::from_static(b"abcdefghij"))))
        );
        assert_eq!(f.next(&mut buf), Some(Ok(Frame::StreamEnd)));
        let Some(Ok(Frame::Unit(u))) = f.next(&mut buf) else {
            panic!()
        };
        assert_eq!(&u.bytes()[..], b"* 1 FETCH (BODY[] {20}\r\n UID 4)\r\n");
        assert_eq!(u.streamed_offsets(), &[24]);
        // A literal of at most `Limits::ALWAYS_BUFFERED` octets is buffered.
        let mut buf = BytesMut::from(&b"* 1 FETCH (BODY[] {10}\r\n0123456789)\r\n"[..]);
        let Some(Ok(Frame::Unit(u))) = f.next(&mut buf) else {
            panic!()
        };
        assert!(u.streamed_offsets().is_empty());
    }
}
