//! Transfer decoding (RFC 2045 section 6): base64 tolerant of whitespace and
//! quoted-printable, both streaming and working on runs of bytes, not byte by byte.

use crate::defect::DefectKind;

/// A Content-Transfer-Encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// `7bit` (the default).
    SevenBit,
    /// `8bit`.
    EightBit,
    /// `binary`.
    Binary,
    /// `quoted-printable`.
    QuotedPrintable,
    /// `base64`.
    Base64,
    /// Anything else (left undecoded).
    Other,
}

impl TransferEncoding {
    /// From a header value (case-insensitive, trimmed); `None` means 7bit.
    #[must_use]
    pub fn from_label(label: Option<&str>) -> Self {
        label.map_or(TransferEncoding::SevenBit, |l| Self::from_bytes(l.as_bytes()))
    }

    /// From the raw bytes of a header value (case-insensitive, trimmed). Comments
    /// around the mechanism are ignored (RFC 2045 section 1).
    pub(crate) fn from_bytes(label: &[u8]) -> Self {
        let l = if label.contains(&b'(') {
            let mut c = crate::header::Cursor::new(label);
            c.skip_cfws();
            let token = c.token().unwrap_or_default();
            c.skip_cfws();
            if !c.is_empty() {
                return TransferEncoding::Other;
            }
            token
        } else {
            label.trim_ascii()
        };
        let is = |s: &str| l.eq_ignore_ascii_case(s.as_bytes());
        if l.is_empty() || is("7bit") {
            TransferEncoding::SevenBit
        } else if is("base64") {
            TransferEncoding::Base64
        } else if is("quoted-printable") {
            TransferEncoding::QuotedPrintable
        } else if is("8bit") {
            TransferEncoding::EightBit
        } else if is("binary") {
            TransferEncoding::Binary
        } else {
            TransferEncoding::Other
        }
    }

    /// The header value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TransferEncoding::SevenBit => "7bit",
            TransferEncoding::EightBit => "8bit",
            TransferEncoding::Binary => "binary",
            TransferEncoding::QuotedPrintable => "quoted-printable",
            TransferEncoding::Base64 => "base64",
            TransferEncoding::Other => "x-unknown",
        }
    }
}

const INVALID: u8 = 0xFF;
const SKIP: u8 = 0xFE;
const PAD: u8 = 0xFD;

const B64: [u8; 256] = {
    let mut t = [INVALID; 256];
    let alpha = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alpha[i] as usize] = i as u8;
        i += 1;
    }
    t[b' ' as usize] = SKIP;
    t[b'\t' as usize] = SKIP;
    t[b'\r' as usize] = SKIP;
    t[b'\n' as usize] = SKIP;
    t[b'=' as usize] = PAD;
    t
};

/// Streaming base64 decoder. Whitespace and line breaks anywhere are skipped;
/// other characters outside the alphabet are skipped and reported once. A final
/// unit must have its `=` padding, no more and no less (RFC 2045 section 6.8);
/// anything else is decoded as far as it goes and reported once.
#[derive(Debug, Default, Clone)]
pub struct Base64Decoder {
    acc: u32,
    n: u8,
    padded: bool,
    /// `=` still owed by the final unit being padded (RFC 2045 section 6.8: two
    /// after two characters, one after three).
    owed: u8,
    invalid: bool,
    bad_padding: bool,
}

/// Decodes whole quanta of alphabet characters from `src[i..]` in runs of up to
/// 16 quanta written straight into `out`; stops at the first quantum holding
/// anything else (white space, padding, junk) and returns where it stopped.
fn fast_quanta(src: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    const RUN: usize = 16;
    loop {
        let quanta = ((src.len() - i) / 4).min(RUN);
        if quanta == 0 {
            return i;
        }
        let base = out.len();
        out.resize(base + quanta * 3, 0);
        let mut w = base;
        for q in src[i..i + quanta * 4].chunks_exact(4) {
            let (a, b, c, d) = (
                B64[usize::from(q[0])],
                B64[usize::from(q[1])],
                B64[usize::from(q[2])],
                B64[usize::from(q[3])],
            );
            if (a | b | c | d) & 0xC0 != 0 {
                out.truncate(w);
                return i;
            }
            let v = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
            out[w..w + 3].copy_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
            w += 3;
            i += 4;
        }
    }
}

impl Base64Decoder {
    /// A fresh decoder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `src`, appending to `out`.
    pub fn decode(&mut self, src: &[u8], out: &mut Vec<u8>) {
        out.reserve(src.len() / 4 * 3 + 3);
        let mut i = 0;
        while i < src.len() {
            // fast path: whole quanta of valid characters
            if self.n == 0 && !self.padded {
                i = fast_quanta(src, i, out);
                if i >= src.len() {
                    break;
                }
            }
            let v = B64[src[i] as usize];
            i += 1;
            match v {
                SKIP => {}
                PAD => {
                    if !self.padded {
                        self.owed = match self.n {
                            2 => 2,
                            3 => 1,
                            // no unit to pad (`n == 1` is reported by the flush)
                            _ => 0,
                        };
                        if self.n == 0 {
                            self.bad_padding = true;
                        }
                        self.flush_partial(out);
                        self.padded = true;
                    }
                    match self.owed.checked_sub(1) {
                        Some(left) => self.owed = left,
                        None => self.bad_padding = true,
                    }
                }
                INVALID => self.invalid = true,
                v => {
                    if self.padded {
                        self.bad_padding = true;
                        self.padded = false;
                        self.owed = 0;
                    }
                    self.acc = self.acc << 6 | u32::from(v);
                    self.n += 1;
                    if self.n == 4 {
                        let a = self.acc;
                        out.extend_from_slice(&[(a >> 16) as u8, (a >> 8) as u8, a as u8]);
                        self.n = 0;
                        self.acc = 0;
                    }
                }
            }
        }
    }

    fn flush_partial(&mut self, out: &mut Vec<u8>) {
        match self.n {
            2 => out.push((self.acc >> 4) as u8),
            3 => out.extend_from_slice(&[(self.acc >> 10) as u8, (self.acc >> 2) as u8]),
            1 => self.bad_padding = true,
            _ => {}
        }
        self.n = 0;
        self.acc = 0;
    }

    /// Ends the input; a trailing partial quantum is decoded as far as it goes.
    /// Returns the defects seen.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Vec<DefectKind> {
        if self.n != 0 || self.owed != 0 {
            self.bad_padding = true;
            self.flush_partial(out);
        }
        let mut d = Vec::new();
        if self.invalid {
            d.push(DefectKind::InvalidBase64Characters);
        }
        if self.bad_padding {
            d.push(DefectKind::InvalidBase64Padding);
        }
        d
    }
}

fn hexval(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Longest run of spaces and tabs at the end of a quoted-printable line that is taken
/// for transport padding and dropped.
///
/// RFC 2045 section 6.7 rule (3): trailing white space on a line "must be deleted, as
/// it will necessarily have been added by intermediate transport agents". Rule (5)
/// keeps encoded lines to 76 characters, and its robustness note (5) lets a decoder
/// decode longer lines anyway. No transport pads a line past the 998 octets of RFC 5322
/// section 2.1.1, so a longer run is not padding: it is data, kept as it is (and an `=`
/// before it is no soft line break). The rule is the same decoding whole or streaming,
/// and lets the streaming decoder hold back at most such a run, never a whole line.
const QP_MAX_PADDING: usize = 998;

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t')
}

/// Streaming quoted-printable decoder (RFC 2045 section 6.7): soft line breaks
/// removed, trailing white space on a line dropped, `=XX` decoded (lowercase hex
/// accepted), a malformed `=` kept literally and reported. Line breaks are kept as
/// they are in the input.
///
/// Over-long lines (rule (5) allows 76 characters) are decoded anyway, as the
/// robustness note (5) of section 6.7 suggests, in bounded memory. Trailing white
/// space is taken for transport padding (rule (3)) only up to 998 octets, the most a
/// line may hold (RFC 5322 section 2.1.1): a longer run of spaces and tabs at the end
/// of a line is data and kept, and an `=` before it is not a soft line break. The
/// same rule holds in [`decode_body`], so the result is the same for any split of
/// the input, and the decoder never holds back more than about 1 KiB.
///
/// ```
/// use mime::{QpDecoder, TransferEncoding, decode_body};
/// let mut enc = b"padded".to_vec();
/// enc.extend_from_slice(&[b' '; 998]);
/// enc.extend_from_slice(b"\r\nkept");
/// enc.extend_from_slice(&[b' '; 999]);
/// let (whole, _) = decode_body(&enc, TransferEncoding::QuotedPrintable);
/// assert_eq!(whole.len(), b"padded\r\nkept".len() + 999);
/// let (mut d, mut streamed) = (QpDecoder::new(), Vec::new());
/// for piece in enc.chunks(100) {
///     d.decode(piece, &mut streamed);
/// }
/// assert!(d.finish(&mut streamed).is_empty());
/// assert_eq!(streamed, whole);
/// ```
#[derive(Debug, Default, Clone)]
pub struct QpDecoder {
    /// The end of the current line that the bytes still to come can change: at most
    /// a run of blanks of `QP_MAX_PADDING + 1` octets, an `=` before it, and a CR
    /// (or an incomplete `=` escape and a CR). Never holds a line break.
    carry: Vec<u8>,
    invalid: bool,
}

impl QpDecoder {
    /// A fresh decoder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `src`, appending to `out`. All input is decoded at once except the few
    /// bytes at its end that what follows can still change (trailing blanks, an
    /// incomplete `=` escape, a CR that may start a CRLF): at most about 1 KiB, kept
    /// until more input or `finish`. The result is the same for any split of the
    /// input, and the same as [`decode_body`].
    pub fn decode(&mut self, src: &[u8], out: &mut Vec<u8>) {
        let mut src = src;
        if !self.carry.is_empty() {
            // complete the held line with the first line of `src`, if it ends in it
            let Some(p) = memchr::memchr(b'\n', src) else {
                let mut line = std::mem::take(&mut self.carry);
                line.extend_from_slice(src);
                let keep = decided_len(&line);
                self.decode_content(&line[..keep], out);
                line.drain(..keep);
                // what is held is small; do not keep the room a big `src` took
                line.shrink_to(2 * QP_MAX_PADDING);
                self.carry = line;
                return;
            };
            let mut line = std::mem::take(&mut self.carry);
            line.extend_from_slice(&src[..=p]);
            self.decode_lines(&line, out);
            line.clear();
            line.shrink_to(2 * QP_MAX_PADDING);
            self.carry = line;
            src = &src[p + 1..];
        }
        let cut = memchr::memrchr(b'\n', src).map_or(0, |p| p + 1);
        self.decode_lines(&src[..cut], out);
        let rest = &src[cut..];
        let keep = decided_len(rest);
        self.decode_content(&rest[..keep], out);
        self.carry.extend_from_slice(&rest[keep..]);
    }

    /// Decodes what is left. Returns the defects seen.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Vec<DefectKind> {
        let rest = std::mem::take(&mut self.carry);
        self.decode_lines(&rest, out);
        if self.invalid {
            vec![DefectKind::InvalidQuotedPrintable]
        } else {
            Vec::new()
        }
    }

    /// Decodes whole lines; a last line without a break is taken as the end of the
    /// input.
    fn decode_lines(&mut self, src: &[u8], out: &mut Vec<u8>) {
        out.reserve(src.len());
        let mut i = 0;
        while i < src.len() {
            let line_end = memchr::memchr(b'\n', &src[i..]).map_or(src.len(), |p| i + p);
            let (content_end, brk): (usize, &[u8]) = if line_end < src.len() {
                if line_end > i && src[line_end - 1] == b'\r' {
                    (line_end - 1, b"\r\n")
                } else {
                    (line_end, b"\n")
                }
            } else {
                (line_end, b"")
            };
            let line = &src[i..content_end];
            let run = blank_run(line);
            let line = if run <= QP_MAX_PADDING {
                &line[..line.len() - run]
            } else {
                line
            };
            // an `=` ending the line (after padding) is a soft line break
            let soft = line.last() == Some(&b'=');
            self.decode_content(&line[..line.len() - usize::from(soft)], out);
            if !soft {
                out.extend_from_slice(brk);
            }
            i = line_end + 1;
        }
    }

    /// Decodes `=XX` escapes in part of a line whose every `=` has the two bytes
    /// after it in `s` or is known not to start an escape (see [`decided_len`]).
    fn decode_content(&mut self, s: &[u8], out: &mut Vec<u8>) {
        let mut j = 0;
        while let Some(p) = memchr::memchr(b'=', &s[j..]) {
            out.extend_from_slice(&s[j..j + p]);
            let e = j + p;
            if let (Some(h), Some(l)) = (
                s.get(e + 1).copied().and_then(hexval),
                s.get(e + 2).copied().and_then(hexval),
            ) {
                out.push(h << 4 | l);
                j = e + 3;
            } else {
                self.invalid = true;
                out.push(b'=');
                j = e + 1;
            }
        }
        out.extend_from_slice(&s[j..]);
    }
}

/// Length of the run of blanks ending `line`.
fn blank_run(line: &[u8]) -> usize {
    line.iter().rev().take_while(|&&b| is_blank(b)).count()
}

/// How much of `c`, the start of a line whose break has not arrived yet (no LF in
/// it), decodes the same whatever follows: all of it but a CR at its end (it may
/// start a CRLF), a trailing run of blanks while it may still be padding
/// (`QP_MAX_PADDING + 1` blanks of a longer run are kept back, so that the rest
/// still sees a run too long to be padding), an `=` before such a run (a soft line
/// break if the line ends there) and an incomplete `=` escape.
fn decided_len(c: &[u8]) -> usize {
    let e = c.len() - usize::from(c.last() == Some(&b'\r'));
    let run = blank_run(&c[..e]);
    let t = e - run;
    if run > QP_MAX_PADDING + 1 {
        // The run is data whatever follows. An `=` before it, if any, stays behind
        // the cut with its following blank, so it is decided as not soft.
        return e - (QP_MAX_PADDING + 1);
    }
    let mut k = t;
    if k > 0 && c[k - 1] == b'=' {
        // followed by blanks (or nothing) up to here: soft, escape or literal later
        k -= 1;
    } else if run == 0 && k >= 2 && c[k - 2] == b'=' && hexval(c[k - 1]).is_some() {
        // `=X` needs its second digit
        k -= 2;
    }
    k
}

/// Decodes a whole body in `encoding`; returns the bytes and the defects seen.
///
/// Quoted-printable is decoded as [`QpDecoder`] decodes it streaming (the same rules,
/// trailing white space of over 998 octets kept as data included), base64 as
/// [`Base64Decoder`] does.
///
/// ```
/// use mime::{TransferEncoding, decode_body};
/// assert_eq!(decode_body(b"SGVs\r\nbG8=\r\n", TransferEncoding::Base64).0, b"Hello");
/// assert_eq!(decode_body(b"caf=C3=A9 =\r\nau lait  \r\n", TransferEncoding::QuotedPrintable).0, "café au lait\r\n".as_bytes());
/// ```
#[must_use]
pub fn decode_body(body: &[u8], encoding: TransferEncoding) -> (Vec<u8>, Vec<DefectKind>) {
    let mut out = Vec::new();
    let defects = match encoding {
        TransferEncoding::Base64 => {
            let mut d = Base64Decoder::new();
            d.decode(body, &mut out);
            d.finish(&mut out)
        }
        TransferEncoding::QuotedPrintable => {
            let mut d = QpDecoder::new();
            d.decode_lines(body, &mut out);
            d.finish(&mut out)
        }
        TransferEncoding::Other => {
            out.extend_from_slice(body);
            vec![DefectKind::UnknownTransferEncoding]
        }
        _ => {
            out.extend_from_slice(body);
            Vec::new()
        }
    };
    (out, defects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_streaming_any_split() {
        let enc = b"TWFu IGlz\r\nIGRpc3Rpbmd1aXNoZWQs\r\n IG5vdCBvbmx5IGJ5IGhpcyByZWFzb24=\r\n";
        let want = b"Man is distinguished, not only by his reason";
        for cut in 0..enc.len() {
            let mut d = Base64Decoder::new();
            let mut out = Vec::new();
            d.decode(&enc[..cut], &mut out);
            d.decode(&enc[cut..], &mut out);
            assert!(d.finish(&mut out).is_empty());
            assert_eq!(out, want);
        }
        let (out, defects) = decode_body(b"QU*JD\r\nRA==", TransferEncoding::Base64);
        assert_eq!(out, b"ABCD");
        assert_eq!(defects, [DefectKind::InvalidBase64Characters]);
    }

    #[test]
    fn qp_long_unterminated_line_is_bounded_and_split_invariant() {
        // A 40 KiB line without a break, with escapes, blanks and a soft break
        // scattered through it, then a trailing blank run and a final break.
        let mut enc = Vec::new();
        for i in 0..4000u32 {
            enc.extend_from_slice(match i % 5 {
                0 => b"abc=3D".as_slice(),
                1 => b"de  \t ",
                2 => b"==41",
                3 => b"x=\r\n",
                _ => b"=E9 ",
            });
        }
        enc.extend_from_slice(b"tail \t \r\nnext");
        let mut whole = Vec::new();
        let mut d = QpDecoder::new();
        d.decode(&enc, &mut whole);
        let whole_defects = d.finish(&mut whole);
        for step in [1usize, 3, 7, 1000, 9000] {
            let mut d = QpDecoder::new();
            let mut out = Vec::new();
            for piece in enc.chunks(step) {
                d.decode(piece, &mut out);
                assert!(
                    d.carry.len() <= QP_MAX_PADDING + 3,
                    "carry grew to {}",
                    d.carry.len()
                );
            }
            assert_eq!(d.finish(&mut out), whole_defects, "step {step}");
            assert_eq!(out, whole, "step {step}");
        }
        // One long line with no break at all stays bounded too.
        let mut d = QpDecoder::new();
        let mut out = Vec::new();
        for _ in 0..1000 {
            d.decode(&[b'a'; 1024], &mut out);
            assert!(d.carry.len() <= QP_MAX_PADDING + 3);
        }
        assert!(d.finish(&mut out).is_empty());
        assert_eq!(out.len(), 1024 * 1000);
    }

    #[test]
    fn qp_rfc2045_rules_any_split() {
        let enc = b"Now's the time =\r\nfor all folk to come=\r\n to the aid of their country.=3D \t\r\n=e9=ZZ\r\nend";
        let want: &[u8] =
            b"Now's the time for all folk to come to the aid of their country.=\r\n\xe9=ZZ\r\nend";
        for cut in 0..enc.len() {
            let mut d = QpDecoder::new();
            let mut out = Vec::new();
            d.decode(&enc[..cut], &mut out);
            d.decode(&enc[cut..], &mut out);
            assert_eq!(d.finish(&mut out), [DefectKind::InvalidQuotedPrintable]);
            assert_eq!(out, want);
        }
    }
}
