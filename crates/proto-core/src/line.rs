//! [`LineFramer`]: splits a receive buffer into CRLF-terminated lines.
//!
//! The framer works on a `BytesMut` that the session owns, so a session can
//! switch between line mode and another mode (a DATA body, a BDAT chunk, an IMAP
//! literal, plaintext to discard after STARTTLS) on the same buffer without
//! copying. Lines come out as `Bytes` slices split off the front of that buffer.

use bytes::{Buf, Bytes, BytesMut};
use memchr::{memchr, memchr2};
use std::ops::ControlFlow;

const CR: u8 = b'\r';
const LF: u8 = b'\n';

/// How many leading bytes of an over-long line are kept for the error report.
pub const TOO_LONG_HEAD: usize = 64;

/// What the framer accepts. The defaults are the strict ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineConfig {
    /// Longest accepted line **including** its CRLF, as the RFCs count it
    /// (SMTP 512 for commands, RFC 5321 4.5.3.1.4; POP3 255, RFC 2449 4).
    pub max_len: usize,
    /// Named leniency: a bare LF also ends a line (a CR before it is still
    /// removed). Off by default: RFC 5321 2.3.8 allows only CRLF.
    pub accept_bare_lf: bool,
    /// Named leniency: a CR that is not followed by LF is kept as an ordinary
    /// byte of the line. Off by default.
    pub accept_bare_cr: bool,
}

impl Default for LineConfig {
    fn default() -> Self {
        LineConfig {
            max_len: 1000,
            accept_bare_lf: false,
            accept_bare_cr: false,
        }
    }
}

impl LineConfig {
    /// Strict configuration with the given length limit (CRLF included).
    #[must_use]
    pub fn with_max_len(max_len: usize) -> Self {
        LineConfig {
            max_len,
            ..LineConfig::default()
        }
    }
}

/// A line the framer refused. Every variant leaves the framer in sync: the
/// next call returns the line after the bad one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line was longer than [`LineConfig::max_len`]. Its bytes were
    /// discarded as they arrived (never buffered); `len` counts them all,
    /// terminator included (saturating at `usize::MAX`), `limit` is the limit
    /// the line broke, and `head` keeps the first few for diagnostics.
    #[error("line too long ({len} bytes, limit {limit})")]
    TooLong {
        /// Total length of the discarded line, terminator included.
        len: usize,
        /// The limit in force.
        limit: usize,
        /// The first bytes of the line: `min(limit, TOO_LONG_HEAD)` of them.
        head: Bytes,
    },
    /// A LF without a CR before it ended this line.
    #[error("bare LF ends the line")]
    BareLf {
        /// The line up to (not including) the LF.
        line: Bytes,
    },
    /// The line holds a CR that is not followed by LF.
    #[error("bare CR inside the line")]
    BareCr {
        /// The line, without its CRLF.
        line: Bytes,
    },
}

/// Splits CRLF-terminated lines off the front of a `BytesMut`, zero-copy.
///
/// * A complete line comes back as `Ok(Bytes)` without its CRLF.
/// * A line longer than the limit is dropped as it streams in (the buffer
///   never holds more than `max_len` bytes of an unfinished line) and reported
///   once, when its LF arrives, as [`LineError::TooLong`]; the framer is then
///   in sync again. Any LF ends an over-long line, even a bare one, so that
///   the framer resynchronises at the same place however the input is split. A session answers "line too long" and carries on.
/// * Bare LF and bare CR are errors unless [`LineConfig`] allows them.
///
/// ```
/// use bytes::BytesMut;
/// use proto_core::{LineConfig, LineError, LineFramer};
///
/// let mut framer = LineFramer::new(LineConfig::with_max_len(16));
/// let mut buf = BytesMut::from(&b"NOOP\r\nTHIS LINE IS FAR TOO LONG\r\nQUIT\r\nPAR"[..]);
/// assert_eq!(framer.next_line(&mut buf).unwrap().unwrap(), "NOOP");
/// assert!(matches!(framer.next_line(&mut buf), Some(Err(LineError::TooLong { .. }))));
/// assert_eq!(framer.next_line(&mut buf).unwrap().unwrap(), "QUIT");
/// assert!(framer.next_line(&mut buf).is_none()); // "PAR" waits for more input
/// assert_eq!(&buf[..], b"PAR");
/// ```
#[derive(Debug, Clone)]
pub struct LineFramer {
    config: LineConfig,
    /// Bytes at the front of the buffer already known to hold no LF, and no
    /// CR either unless `bare_cr` is set.
    scanned: usize,
    /// A CR not followed by LF lies in the first `scanned` bytes.
    bare_cr: bool,
    /// Set while an over-long line is being skipped.
    discard: Option<Discard>,
    finder: CrLfFinder,
}

/// Finds the first CR or LF of a buffer.
///
/// Command lines are short, so with AVX2 (x86-64, detected at run time) the
/// first 256 bytes are classified 64 at a time with four compares and two
/// movemasks, which costs a fraction of a `memchr2` call on such a line; past
/// them, for a tail under 64 bytes, and on other CPUs, it is `memchr2`.
#[derive(Debug, Clone, Copy)]
struct CrLfFinder {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<fearless_simd::Avx2>,
}

impl CrLfFinder {
    fn new() -> Self {
        CrLfFinder {
            #[cfg(target_arch = "x86_64")]
            avx2: fearless_simd::Level::new().as_avx2(),
        }
    }

    /// Index of the first CR or LF in `s`.
    #[inline]
    fn find(self, s: &[u8]) -> Option<usize> {
        let mut at = 0;
        #[cfg(target_arch = "x86_64")]
        if let Some(token) = self.avx2 {
            while at < 256
                && let Some(piece) = s[at..].first_chunk::<64>()
            {
                let m = cr_lf_mask(token, piece);
                if m != 0 {
                    return Some(at + m.trailing_zeros() as usize);
                }
                at += 64;
            }
        }
        memchr2(CR, LF, &s[at..]).map(|p| p + at)
    }
}

#[cfg(target_arch = "x86_64")]
fearless_simd::kernel!(
    /// Bit `i` set when byte `i` of `w` is CR or LF.
    fn cr_lf_mask(avx2: Avx2, w: &[u8; 64]) -> u64 {
        use core::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
        };
        use fearless_simd::{SimdFrom, u8x32};
        let (lo, hi) = w.split_at(32);
        let (Some(lo), Some(hi)) = (lo.first_chunk::<32>(), hi.first_chunk::<32>()) else {
            return 0;
        };
        let cr = _mm256_set1_epi8(0x0d);
        let lf = _mm256_set1_epi8(0x0a);
        let bits = |half: &[u8; 32]| {
            let v: __m256i = u8x32::simd_from(avx2, *half).into();
            let hit = _mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, lf));
            u64::from(_mm256_movemask_epi8(hit).cast_unsigned())
        };
        bits(lo) | bits(hi) << 32
    }
);

/// What [`LineFramer::locate`] found.
enum Located {
    /// A complete line ends with the LF at this index.
    Line { lf: usize, bare_cr: bool },
    /// No line to split: this is the answer.
    Done(Option<Result<Bytes, LineError>>),
}

#[derive(Debug, Clone)]
struct Discard {
    len: usize,
    /// The limit the line broke: `set_max_len` while the rest of the line
    /// is skipped must not change what the error reports.
    limit: usize,
    head: Bytes,
}

impl LineFramer {
    /// A framer with the given configuration.
    #[must_use]
    pub fn new(config: LineConfig) -> Self {
        LineFramer {
            config,
            scanned: 0,
            bare_cr: false,
            discard: None,
            finder: CrLfFinder::new(),
        }
    }

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &LineConfig {
        &self.config
    }

    /// Changes the length limit, for example while an SMTP AUTH exchange
    /// allows 12288-byte lines (RFC 4954 4). Takes effect for the next line.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.config.max_len = max_len;
    }

    /// True while an over-long line is being skipped.
    #[must_use]
    pub fn is_discarding(&self) -> bool {
        self.discard.is_some()
    }

    /// Forgets any partial state. Call it when the session hands the buffer to
    /// another decoder or clears it (after STARTTLS, for instance).
    pub fn reset(&mut self) {
        self.scanned = 0;
        self.bare_cr = false;
        self.discard = None;
    }

    /// Takes the next complete line off the front of `buf`.
    ///
    /// Returns `None` when `buf` holds no complete line yet; the partial line
    /// stays in `buf` (or, if it is already too long, is dropped from it).
    pub fn next_line(&mut self, buf: &mut BytesMut) -> Option<Result<Bytes, LineError>> {
        match self.locate(buf) {
            Located::Line { lf, bare_cr } => Some(self.split_line(buf, lf, bare_cr)),
            Located::Done(r) => r,
        }
    }

    /// [`next_line`](Self::next_line) without a `Bytes` per line: a good line
    /// is lent to `f` as a slice of `buf` (without its CRLF) and dropped from
    /// `buf` when `f` returns; errors are passed as `next_line` reports them.
    /// For callers that parse each line on the spot and keep nothing of it.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use proto_core::{LineConfig, LineFramer};
    ///
    /// let mut framer = LineFramer::new(LineConfig::with_max_len(512));
    /// let mut buf = BytesMut::from(&b"NOOP\r\nQUIT\r\n"[..]);
    /// let len = framer.next_line_with(&mut buf, |line| line.map(<[u8]>::len));
    /// assert_eq!(len, Some(Ok(4)));
    /// assert_eq!(&buf[..], b"QUIT\r\n");
    /// ```
    pub fn next_line_with<R>(
        &mut self,
        buf: &mut BytesMut,
        f: impl FnOnce(Result<&[u8], LineError>) -> R,
    ) -> Option<R> {
        let (lf, bare_cr) = match self.locate(buf) {
            Located::Line { lf, bare_cr } => (lf, bare_cr),
            Located::Done(r) => {
                return r.map(|r| match r {
                    Ok(line) => f(Ok(&line)),
                    Err(e) => f(Err(e)),
                });
            }
        };
        let has_cr = lf > 0 && buf[lf - 1] == CR;
        let clean = lf < self.config.max_len
            && (has_cr || self.config.accept_bare_lf)
            && (!bare_cr || self.config.accept_bare_cr);
        if !clean {
            return Some(match self.split_line(buf, lf, bare_cr) {
                Ok(line) => f(Ok(&line)),
                Err(e) => f(Err(e)),
            });
        }
        let r = f(Ok(&buf[..if has_cr { lf - 1 } else { lf }]));
        buf.advance(lf + 1);
        Some(r)
    }

    /// Lends every complete line of `buf` to `f` in turn, as
    /// [`next_line_with`](Self::next_line_with) would one by one, until `f`
    /// returns [`ControlFlow::Break`] (its value is returned) or no complete
    /// line is left (`None`). The lines lent are dropped from `buf`. Clean
    /// CRLF lines are found straight in the buffer and dropped together, so a
    /// read holding many pipelined commands costs one buffer update, not one
    /// per line.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use proto_core::{LineConfig, LineFramer};
    /// use std::ops::ControlFlow;
    ///
    /// let mut framer = LineFramer::new(LineConfig::with_max_len(512));
    /// let mut buf = BytesMut::from(&b"NOOP\r\nRSET\r\nDATA\r\nbody"[..]);
    /// let mut seen = Vec::new();
    /// let stop = framer.lines_with(&mut buf, |line| {
    ///     let line = line.unwrap();
    ///     seen.push(line.to_vec());
    ///     if line == b"DATA" { ControlFlow::Break("data") } else { ControlFlow::Continue(()) }
    /// });
    /// assert_eq!(stop, Some("data"));
    /// assert_eq!(seen, [&b"NOOP"[..], b"RSET", b"DATA"]);
    /// assert_eq!(&buf[..], b"body");
    /// ```
    pub fn lines_with<B>(
        &mut self,
        buf: &mut BytesMut,
        mut f: impl FnMut(Result<&[u8], LineError>) -> ControlFlow<B>,
    ) -> Option<B> {
        loop {
            let mut off = 0;
            let mut stop = None;
            if self.discard.is_none() && self.scanned == 0 && !self.bare_cr {
                // A clean line has its CRLF within the limit; anything else
                // (no line yet, a bare CR or LF, too long) takes the general path.
                let max = self.config.max_len;
                loop {
                    let rest = &buf[off..];
                    let window = &rest[..rest.len().min(max)];
                    let Some(p) = self.finder.find(window) else { break };
                    if window[p] != CR || window.get(p + 1) != Some(&LF) {
                        break;
                    }
                    let flow = f(Ok(&rest[..p]));
                    off += p + 2;
                    if let ControlFlow::Break(b) = flow {
                        stop = Some(b);
                        break;
                    }
                }
            }
            buf.advance(off);
            if stop.is_some() {
                return stop;
            }
            if let ControlFlow::Break(b) = self.next_line_with(buf, &mut f)? {
                return Some(b);
            }
        }
    }

    /// Finds the end of the next line: its LF and whether a CR not followed
    /// by LF came before it, or what [`next_line`](Self::next_line) returns
    /// when there is no complete line (including an over-long one reported).
    fn locate(&mut self, buf: &mut BytesMut) -> Located {
        if self.discard.is_some() {
            return Located::Done(self.skip_long_line(buf));
        }
        let max = self.config.max_len;
        // Never look further than one byte past the limit: beyond that the line is too long anyway.
        let window = buf.len().min(max.saturating_add(1));
        // One pass for both terminator bytes: the first CR or LF is, on a clean
        // line, the CR of its CRLF, so the content needs no second scan for CR.
        let mut at = self.scanned.min(window);
        let lf = loop {
            let Some(off) = self.finder.find(&buf[at..window]) else {
                self.scanned = window;
                break None;
            };
            let p = at + off;
            if buf[p] == LF {
                break Some(p);
            }
            match buf.get(p + 1) {
                Some(&LF) if p + 1 < window => break Some(p + 1),
                Some(_) if p + 1 < window => {
                    // A CR inside the line: remembered, the scan goes on.
                    self.bare_cr = true;
                    at = p + 1;
                }
                _ => {
                    // A CR at the end of what may be looked at: its LF may follow.
                    self.scanned = p;
                    break None;
                }
            }
        };
        let Some(lf) = lf else {
            if buf.len() >= max && window > 0 {
                // No terminator within the limit: the first `window` bytes all belong to
                // a line that cannot fit. Drop them and skip the rest of it.
                let head = Bytes::copy_from_slice(&buf[..max.min(TOO_LONG_HEAD)]);
                self.discard = Some(Discard {
                    len: window,
                    limit: max,
                    head,
                });
                buf.advance(window);
                self.scanned = 0;
                self.bare_cr = false;
                return Located::Done(self.skip_long_line(buf));
            }
            return Located::Done(None);
        };
        self.scanned = 0;
        Located::Line {
            lf,
            bare_cr: std::mem::take(&mut self.bare_cr),
        }
    }

    /// Splits the line ending at `lf` off `buf` and checks it.
    fn split_line(&self, buf: &mut BytesMut, lf: usize, bare_cr: bool) -> Result<Bytes, LineError> {
        let max = self.config.max_len;
        let has_cr = lf > 0 && buf[lf - 1] == CR;
        let mut line = buf.split_to(lf + 1);
        if lf + 1 > max {
            // The terminator arrived in the same read as the excess: a complete but over-long line.
            let line = line.freeze();
            return Err(LineError::TooLong {
                len: line.len(),
                limit: max,
                head: line.slice(..max.min(TOO_LONG_HEAD)),
            });
        }
        if !has_cr && !self.config.accept_bare_lf {
            line.truncate(lf);
            return Err(LineError::BareLf { line: line.freeze() });
        }
        line.truncate(if has_cr { lf - 1 } else { lf });
        if bare_cr && !self.config.accept_bare_cr {
            return Err(LineError::BareCr { line: line.freeze() });
        }
        Ok(line.freeze())
    }

    /// Drops bytes of an over-long line until its LF; reports it then.
    fn skip_long_line(&mut self, buf: &mut BytesMut) -> Option<Result<Bytes, LineError>> {
        let d = self.discard.as_mut()?;
        let Some(lf) = memchr(LF, buf) else {
            // Saturating: a line can outgrow `usize` on a 32-bit target.
            d.len = d.len.saturating_add(buf.len());
            buf.clear();
            return None;
        };
        d.len = d.len.saturating_add(lf + 1);
        buf.advance(lf + 1);
        let d = self.discard.take()?;
        Some(Err(LineError::TooLong {
            len: d.len,
            limit: d.limit,
            head: d.head,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finder_agrees_with_memchr2() {
        let finder = CrLfFinder::new();
        let mut buf = vec![b'a'; 300];
        assert_eq!(finder.find(&buf), None);
        for len in 0..=buf.len() {
            assert_eq!(finder.find(&buf[..len]), None);
        }
        for at in 0..buf.len() {
            for (b, other) in [(b'\r', b'\n'), (b'\n', b'\r')] {
                buf[at] = b;
                for later in [at + 1, at + 31, 63, 64, 100, 130, 200, 290] {
                    if later > at && later < buf.len() {
                        buf[later] = other;
                        for len in [at + 1, 63, 64, 65, 127, 128, 160, 255, 256, 257, 300] {
                            let s = &buf[..len.min(buf.len())];
                            assert_eq!(finder.find(s), memchr2(b'\r', b'\n', s), "{at} {later} {len}");
                        }
                        buf[later] = b'a';
                    }
                }
                assert_eq!(finder.find(&buf), Some(at));
                assert_eq!(finder.find(&buf[..at]), None);
                buf[at] = b'a';
            }
        }
    }

    fn all(config: LineConfig, input: &[u8]) -> Vec<Result<Bytes, LineError>> {
        let mut f = LineFramer::new(config);
        let mut buf = BytesMut::from(input);
        std::iter::from_fn(|| f.next_line(&mut buf)).collect()
    }

    #[test]
    fn splits_lines() {
        let out = all(LineConfig::default(), b"a\r\n\r\nbc\r\n");
        let lines: Vec<_> = out.into_iter().map(Result::unwrap).collect();
        assert_eq!(lines, vec!["a", "", "bc"]);
    }

    #[test]
    fn bare_lf_strict_and_lenient() {
        let strict = all(LineConfig::default(), b"a\nb\r\n");
        assert_eq!(
            strict[0],
            Err(LineError::BareLf {
                line: Bytes::from_static(b"a")
            })
        );
        assert_eq!(strict[1], Ok(Bytes::from_static(b"b")));
        let lenient = LineConfig {
            accept_bare_lf: true,
            ..LineConfig::default()
        };
        let out = all(lenient, b"a\nb\r\n");
        assert_eq!(
            out,
            vec![Ok(Bytes::from_static(b"a")), Ok(Bytes::from_static(b"b"))]
        );
    }

    #[test]
    fn bare_cr() {
        let out = all(LineConfig::default(), b"a\rb\r\nc\r\n");
        assert!(matches!(out[0], Err(LineError::BareCr { .. })));
        assert_eq!(out[1], Ok(Bytes::from_static(b"c")));
        let lenient = LineConfig {
            accept_bare_cr: true,
            ..LineConfig::default()
        };
        assert_eq!(all(lenient, b"a\rb\r\n"), vec![Ok(Bytes::from_static(b"a\rb"))]);
    }

    #[test]
    fn limit_counts_crlf() {
        let cfg = LineConfig::with_max_len(5);
        assert_eq!(all(cfg, b"abc\r\n"), vec![Ok(Bytes::from_static(b"abc"))]);
        assert!(matches!(
            all(cfg, b"abcd\r\n")[0],
            Err(LineError::TooLong { len: 6, .. })
        ));
    }

    #[test]
    fn long_line_is_never_buffered_and_resyncs() {
        let mut f = LineFramer::new(LineConfig::with_max_len(8));
        let mut buf = BytesMut::new();
        for _ in 0..1000 {
            buf.extend_from_slice(b"xxxxxxx");
            assert!(f.next_line(&mut buf).is_none());
            assert!(buf.len() <= 8);
        }
        buf.extend_from_slice(b"\r\nok\r\n");
        match f.next_line(&mut buf) {
            Some(Err(LineError::TooLong { len, head, .. })) => {
                assert_eq!(len, 7002);
                assert_eq!(&head[..], b"xxxxxxxx");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(f.next_line(&mut buf), Some(Ok(Bytes::from_static(b"ok"))));
    }

    #[test]
    fn crlf_split_across_reads_while_discarding() {
        let mut f = LineFramer::new(LineConfig::with_max_len(4));
        let mut buf = BytesMut::from(&b"abcdefg\r"[..]);
        assert!(f.next_line(&mut buf).is_none());
        buf.extend_from_slice(b"\nok\r\n");
        assert!(matches!(
            f.next_line(&mut buf),
            Some(Err(LineError::TooLong { len: 9, .. }))
        ));
        assert_eq!(f.next_line(&mut buf), Some(Ok(Bytes::from_static(b"ok"))));
    }

    #[test]
    fn any_lf_ends_an_over_long_line() {
        let out = all(LineConfig::with_max_len(4), b"abcdef\nzz\r\nok\r\n");
        assert!(matches!(out[0], Err(LineError::TooLong { len: 7, .. })));
        assert_eq!(out[1], Ok(Bytes::from_static(b"zz")));
    }

    #[test]
    fn cr_state_survives_partial_reads() {
        let mut f = LineFramer::new(LineConfig::default());
        // A bare CR seen in one read is still reported when the LF comes later.
        let mut buf = BytesMut::from(&b"a\rb"[..]);
        assert!(f.next_line(&mut buf).is_none());
        buf.extend_from_slice(b"c\r\nok\r");
        assert!(matches!(
            f.next_line(&mut buf),
            Some(Err(LineError::BareCr { .. }))
        ));
        // A CR at the end of a read pairs with the LF of the next one.
        assert!(f.next_line(&mut buf).is_none());
        buf.extend_from_slice(b"\n");
        assert_eq!(f.next_line(&mut buf), Some(Ok(Bytes::from_static(b"ok"))));
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let input = b"one\r\ntwo\nthree\rx\r\nfourfourfourfour\r\n\r\nend\r\n";
        for cfg in [
            LineConfig::with_max_len(10),
            LineConfig {
                accept_bare_lf: true,
                accept_bare_cr: true,
                max_len: 10,
            },
        ] {
            let whole = all(cfg, input);
            let mut f = LineFramer::new(cfg);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for &b in input {
                buf.extend_from_slice(&[b]);
                while let Some(r) = f.next_line(&mut buf) {
                    got.push(r);
                }
            }
            assert_eq!(got, whole);
        }
    }
}
