//! Server-to-client replies: [`Reply`] (borrowed, parsed without allocation),
//! [`OwnedReply`], the reply encoder, and typed readers of particular replies
//! (FEAT, PASV, EPSV, PWD/MKD, SIZE, MDTM).
//!
//! RFC 959 4.2: a reply is `ddd SP text CRLF`, or a multi-line reply that opens
//! with `ddd-text CRLF` and ends at the first line that starts with the same
//! three digits followed by a space. Lines in between may start with anything,
//! digits included, and are kept as they are.

use crate::command::{parse_host_port, write_host_port};
use crate::error::{EncodeError, ReplyError};
use crate::parse::{dec_u64, write_u64};
use crate::time::Timestamp;
use bytes::{Bytes, BytesMut};
use memchr::memchr;
use std::net::SocketAddrV4;

/// How replies are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyConfig {
    /// Longest whole reply, all lines and CRLFs included.
    pub max_len: usize,
    /// Named leniency: a bare LF ends a reply line. Off by default (RFC 959 says CRLF).
    pub accept_bare_lf: bool,
    /// Named leniency: a reply line may hold a CR that is not followed by
    /// NUL, and a NUL that does not follow a CR, taken as text. Off by
    /// default: replies are Telnet NVT lines (RFC 959 4.2, RFC 854), where
    /// a CR is followed by LF or NUL (RFC 2640 3.1 pads a pathname's CR
    /// with NUL), so a line holding either is refused
    /// ([`ReplyError::BareCr`], [`ReplyError::Nul`]) before its text can
    /// reach an application's logs or a later command.
    pub accept_bare_cr: bool,
}

impl Default for ReplyConfig {
    fn default() -> Self {
        ReplyConfig {
            max_len: crate::Limits::default().reply,
            accept_bare_lf: false,
            accept_bare_cr: false,
        }
    }
}

/// A complete reply, borrowing its bytes (all lines, CRLFs included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    code: u16,
    raw: &'a [u8],
}

pub(crate) fn code_of(line: &[u8]) -> Option<u16> {
    match line {
        [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', ..] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

impl<'a> Reply<'a> {
    /// Looks for one complete reply at the front of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed, or the reply and the
    /// number of bytes it takes. Does not allocate. Each call reads from the
    /// start of `buf`: a caller that calls again as more of a long reply
    /// arrives uses [`Reply::parse_from`], which goes on where the last call
    /// stopped (else the time grows with the square of the reply's length).
    ///
    /// # Errors
    ///
    /// A first line that is not a reply line, a bare LF or a bare CR or NUL
    /// inside a line (strict mode), or a reply longer than
    /// [`ReplyConfig::max_len`]. These are fatal for a client.
    ///
    /// ```
    /// use ftp_proto::{Reply, ReplyConfig};
    /// let wire = b"211-Features:\r\n MDTM\r\n211 End\r\n230 next";
    /// let (r, n) = Reply::parse(wire, &ReplyConfig::default()).unwrap().unwrap();
    /// assert_eq!((r.code(), n), (211, 31));
    /// assert_eq!(r.lines().count(), 3);
    /// ```
    pub fn parse(buf: &'a [u8], config: &ReplyConfig) -> Result<Option<(Reply<'a>, usize)>, ReplyError> {
        Reply::parse_from(buf, config, &mut ReplyScan::default())
    }

    /// [`Reply::parse`] that goes on from where `scan` says an earlier call
    /// on the same bytes (more may have been added since) stopped for want
    /// of more, and records where this one stops: a reply that arrives in
    /// many pieces is scanned once, not once per piece (its lines, up to
    /// 1 MiB of them, would cost time quadratic in its length). `scan` must
    /// be reset when the front of `buf` changes (a reply taken, bytes
    /// dropped). A `scan` that does not fit `buf` (shorter than where it
    /// stopped) is ignored and the scan starts afresh.
    ///
    /// # Errors
    ///
    /// As [`Reply::parse`].
    ///
    /// ```
    /// use ftp_proto::{Reply, ReplyConfig, ReplyScan};
    /// let wire = b"211-Features:\r\n MDTM\r\n211 End\r\n";
    /// let (config, mut scan) = (ReplyConfig::default(), ReplyScan::default());
    /// let mut buf = Vec::new();
    /// for piece in wire.chunks(4) {
    ///     buf.extend_from_slice(piece);
    ///     if let Some((r, n)) = Reply::parse_from(&buf, &config, &mut scan).unwrap() {
    ///         assert_eq!((r.code(), n, r.lines().count()), (211, wire.len(), 3));
    ///         // Bytes leave the front of the buffer: the scan starts afresh.
    ///         scan = ReplyScan::default();
    ///     }
    /// }
    /// ```
    pub fn parse_from(
        buf: &'a [u8],
        config: &ReplyConfig,
        scan: &mut ReplyScan,
    ) -> Result<Option<(Reply<'a>, usize)>, ReplyError> {
        // Judge the first line's shape from its first bytes before anything
        // else, so that the error does not depend on how the input was split.
        let head = &buf[..buf.len().min(5)];
        match memchr(b'\n', head) {
            Some(i) => {
                let line = &head[..i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                first_line_shape(line).ok_or(ReplyError::BadLine)?;
            }
            None if head.len() >= 4 => {
                first_line_shape(&head[..4]).ok_or(ReplyError::BadLine)?;
            }
            None => {}
        }
        // A scan of other bytes (shorter than where it stopped) starts afresh.
        let ReplyScan {
            mut pos,
            mut code,
            seen,
        } = Some(*scan)
            .filter(|s| s.pos + s.seen <= buf.len())
            .unwrap_or_default();
        let mut from = pos + seen;
        loop {
            let Some(off) = memchr(b'\n', &buf[from..]) else {
                if buf.len() > config.max_len {
                    return Err(ReplyError::TooLong {
                        limit: config.max_len,
                    });
                }
                *scan = ReplyScan {
                    pos,
                    code,
                    seen: buf.len() - pos,
                };
                return Ok(None);
            };
            let lf = from + off;
            if lf + 1 > config.max_len {
                return Err(ReplyError::TooLong {
                    limit: config.max_len,
                });
            }
            let has_cr = lf > pos && buf[lf - 1] == b'\r';
            if !has_cr && !config.accept_bare_lf {
                return Err(ReplyError::BareLineEnding);
            }
            let line = &buf[pos..if has_cr { lf - 1 } else { lf }];
            if !config.accept_bare_cr {
                check_nvt_line(line)?;
            }
            match code {
                None => {
                    let (c, multi) = first_line_shape(line).ok_or(ReplyError::BadLine)?;
                    if !multi {
                        return Ok(Some((
                            Reply {
                                code: c,
                                raw: &buf[..=lf],
                            },
                            lf + 1,
                        )));
                    }
                    code = Some(c);
                }
                Some(c) => {
                    if code_of(line) == Some(c) && (line.len() == 3 || line[3] == b' ') {
                        return Ok(Some((
                            Reply {
                                code: c,
                                raw: &buf[..=lf],
                            },
                            lf + 1,
                        )));
                    }
                }
            }
            pos = lf + 1;
            from = pos;
        }
    }

    /// Parses `bytes`, which must hold exactly one complete reply.
    ///
    /// # Errors
    ///
    /// As [`Reply::parse`]; also [`ReplyError::BadLine`] when the bytes hold
    /// less or more than one reply.
    pub fn parse_exact(bytes: &'a [u8], config: &ReplyConfig) -> Result<Reply<'a>, ReplyError> {
        match Reply::parse(bytes, config)? {
            Some((r, n)) if n == bytes.len() => Ok(r),
            _ => Err(ReplyError::BadLine),
        }
    }

    /// The three-digit code.
    #[must_use]
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The whole reply as received, CRLFs included.
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True for a multi-line reply.
    #[must_use]
    pub fn is_multiline(&self) -> bool {
        self.raw.get(3) == Some(&b'-')
    }

    /// The text of the first line, after `ddd ` or `ddd-`.
    #[must_use]
    pub fn text(&self) -> &'a [u8] {
        self.lines().next().unwrap_or_default()
    }

    /// The text of every line: the first and last without their `ddd-`/`ddd `
    /// prefix, inner lines exactly as sent.
    pub fn lines(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let raw = self.raw;
        let multi = self.is_multiline();
        let mut pos = 0;
        let mut first = true;
        std::iter::from_fn(move || {
            if pos >= raw.len() {
                return None;
            }
            let end = memchr(b'\n', &raw[pos..]).map_or(raw.len(), |o| pos + o);
            let mut line = &raw[pos..end];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            let next = end + 1;
            let is_last = next >= raw.len();
            if first || is_last || !multi {
                line = line.get(4..).unwrap_or_default();
            }
            first = false;
            pos = next;
            Some(line)
        })
    }

    /// Positive preliminary (1yz).
    #[must_use]
    pub fn is_preliminary(&self) -> bool {
        self.code / 100 == 1
    }

    /// Positive completion (2yz).
    #[must_use]
    pub fn is_completion(&self) -> bool {
        self.code / 100 == 2
    }

    /// Positive intermediate (3yz).
    #[must_use]
    pub fn is_intermediate(&self) -> bool {
        self.code / 100 == 3
    }

    /// Transient (4yz) or permanent (5yz) negative completion.
    #[must_use]
    pub fn is_negative(&self) -> bool {
        self.code >= 400
    }

    /// A copy that owns its bytes.
    #[must_use]
    pub fn to_owned_reply(&self) -> OwnedReply {
        OwnedReply {
            code: self.code,
            raw: Bytes::copy_from_slice(self.raw),
        }
    }
}

/// Where [`Reply::parse_from`] stopped in an incomplete reply: the start
/// of the first line not yet read, how many of its bytes hold no LF, and
/// the code of the multi-line reply open (none before its first line is
/// read). Start with `ReplyScan::default()`, and reset it to that whenever
/// bytes leave the front of the buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplyScan {
    pos: usize,
    seen: usize,
    code: Option<u16>,
}

fn first_line_shape(line: &[u8]) -> Option<(u16, bool)> {
    let c = code_of(line)?;
    match line.get(3) {
        None | Some(b' ') => Some((c, false)),
        Some(b'-') => Some((c, true)),
        // Four-byte prefix with a fourth byte that could still be CR of "ddd\r\n".
        Some(b'\r') if line.len() == 4 => Some((c, false)),
        Some(_) => None,
    }
}

/// A reply that owns its bytes (in events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedReply {
    /// The code.
    pub code: u16,
    /// The whole reply, CRLFs included.
    pub raw: Bytes,
}

impl OwnedReply {
    /// The borrowed view.
    #[must_use]
    pub fn as_reply(&self) -> Reply<'_> {
        Reply {
            code: self.code,
            raw: &self.raw,
        }
    }

    /// The text of the first line.
    #[must_use]
    pub fn text(&self) -> &[u8] {
        self.as_reply().text()
    }
}

/// A received reply line (its line end removed) holds no CR but one padded
/// with NUL and no NUL but such padding (RFC 854 NVT, RFC 2640 3.1): the
/// rule the encoder keeps ([`check_reply_line`]).
fn check_nvt_line(line: &[u8]) -> Result<(), ReplyError> {
    match check_reply_line(line) {
        Ok(()) => Ok(()),
        Err(EncodeError::Forbidden(f)) if f.byte == 0 => Err(ReplyError::Nul),
        Err(_) => Err(ReplyError::BareCr),
    }
}

/// CR, LF and NUL never go out in a reply line, except a CR padded with a
/// NUL (RFC 2640 3.1: the form a pathname with a CR takes, as in a 257).
pub(crate) fn check_reply_line(l: &[u8]) -> Result<(), EncodeError> {
    let mut from = 0;
    while let Some(i) = memchr::memchr3(b'\r', b'\n', 0, &l[from..]).map(|i| from + i) {
        if l[i] != b'\r' || l.get(i + 1) != Some(&0) {
            return Err(proto_core::ForbiddenByte {
                byte: l[i],
                offset: i,
            }
            .into());
        }
        from = i + 2;
    }
    Ok(())
}

/// Writes a reply: one line when `lines` has one element, otherwise a
/// multi-line reply whose inner lines are written as given, except that an
/// inner line that could be taken for a reply line (three digits then a space
/// or hyphen) gets a leading space (RFC 959 4.2 asks for that padding).
///
/// # Errors
///
/// A code outside 100..=599, no lines, or CR/LF/NUL in a line (a CR padded
/// with a NUL, RFC 2640 3.1, is allowed: see [`write_257_path`]).
///
/// ```
/// use bytes::BytesMut;
/// let mut out = BytesMut::new();
/// ftp_proto::reply::encode_reply(211, &[b"Features:", b" UTF8", b"End"], &mut out).unwrap();
/// assert_eq!(&out[..], b"211-Features:\r\n UTF8\r\n211 End\r\n");
/// ```
pub fn encode_reply(code: u16, lines: &[&[u8]], out: &mut BytesMut) -> Result<(), EncodeError> {
    if !(100..=599).contains(&code) {
        return Err(EncodeError::Invalid("reply code out of range"));
    }
    let Some((last, rest)) = lines.split_last() else {
        return Err(EncodeError::Invalid("a reply needs a line"));
    };
    for l in lines {
        check_reply_line(l)?;
    }
    if let Some((first, inner)) = rest.split_first() {
        write_reply_line(code, b'-', first, out);
        for l in inner {
            write_inner_line(l, out);
        }
    }
    write_reply_line(code, b' ', last, out);
    Ok(())
}

/// Writes `code`, `sep` (`-` opens a multi-line reply, a space ends a
/// reply), `text` and CRLF. The code is in 100..=599 and `text` was checked
/// with [`check_reply_line`].
pub(crate) fn write_reply_line(code: u16, sep: u8, text: &[u8], out: &mut BytesMut) {
    let mut c = [b'0'; 3];
    crate::time::put_num(&mut c, u32::from(code));
    out.extend_from_slice(&c);
    out.extend_from_slice(&[sep]);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

/// Writes an inner line of a multi-line reply (checked with
/// [`check_reply_line`]) and CRLF, with a leading space when it could be
/// taken for a reply line (RFC 959 4.2).
pub(crate) fn write_inner_line(l: &[u8], out: &mut BytesMut) {
    if code_of(l).is_some() && matches!(l.get(3), None | Some(b' ' | b'-')) {
        out.extend_from_slice(b" ");
    }
    out.extend_from_slice(l);
    out.extend_from_slice(b"\r\n");
}

/// One line of a FEAT reply (RFC 2389 3.2): the feature name and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature<'a> {
    /// The feature name (compare case-insensitively).
    pub name: &'a [u8],
    /// Everything after the first space following the name (may be empty).
    pub params: &'a [u8],
}

/// The features listed in a 211 FEAT reply: every inner line that starts
/// with a space. Lines of other shapes are skipped, as RFC 2389 3.2 asks.
pub fn feat_lines<'a>(reply: &Reply<'a>) -> impl Iterator<Item = Feature<'a>> + 'a {
    let multi = reply.is_multiline() && reply.code() == 211;
    let n = if multi { reply.lines().count() } else { 0 };
    reply
        .lines()
        .enumerate()
        .filter(move |(i, _)| *i > 0 && *i + 1 < n)
        .filter_map(|(_, l)| {
            let l = l.strip_prefix(b" ")?;
            let (name, params) = crate::parse::split_sp(l);
            (!name.is_empty()).then_some(Feature {
                name,
                params: params.unwrap_or_default(),
            })
        })
}

/// What a server announced in FEAT, kept by the client (owned, typed accessors).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Features {
    /// Reads a 211 FEAT reply. Any other reply gives an empty set.
    #[must_use]
    pub fn from_reply(reply: &Reply<'_>) -> Self {
        Features {
            entries: feat_lines(reply)
                .map(|f| (f.name.to_ascii_uppercase(), f.params.to_vec()))
                .collect(),
        }
    }

    /// True when `name` (case-insensitive) was announced.
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.params(name).is_some()
    }

    /// The parameters of feature `name`.
    #[must_use]
    pub fn params(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, p)| &p[..])
    }

    /// True when `AUTH` lists `TLS` (RFC 4217 6).
    #[must_use]
    pub fn auth_tls(&self) -> bool {
        self.params("AUTH").is_some_and(|p| {
            p.split(|&c| c == b';' || c == b' ')
                .any(|m| m.eq_ignore_ascii_case(b"TLS") || m.eq_ignore_ascii_case(b"TLS-C"))
        })
    }

    /// True when `REST STREAM` is listed (RFC 3659 5.5).
    #[must_use]
    pub fn rest_stream(&self) -> bool {
        self.params("REST")
            .is_some_and(|p| p.eq_ignore_ascii_case(b"STREAM"))
    }

    /// The MLST facts (`type*;size*;modify;`), name and whether enabled (`*`).
    pub fn mlst_facts(&self) -> impl Iterator<Item = (&[u8], bool)> {
        self.params("MLST")
            .unwrap_or_default()
            .split(|&c| c == b';')
            .filter(|f| !f.is_empty())
            .map(|f| match f.strip_suffix(b"*") {
                Some(n) => (n, true),
                None => (f, false),
            })
    }

    /// Every announced feature, names upper-cased.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.iter().map(|(n, p)| (&n[..], &p[..]))
    }
}

/// Finds `h1,h2,h3,h4,p1,p2` in a 227 reply text, with or without parentheses
/// (RFC 1123 4.1.2.6: clients must scan for the numbers).
///
/// ```
/// use ftp_proto::reply::parse_pasv;
/// let a = parse_pasv(b"Entering Passive Mode (192,168,1,2,4,1).").unwrap();
/// assert_eq!(a.to_string(), "192.168.1.2:1025");
/// assert_eq!(parse_pasv(b"=192,168,1,2,4,1"), Some(a));
/// ```
#[must_use]
pub fn parse_pasv(text: &[u8]) -> Option<SocketAddrV4> {
    let mut i = 0;
    while i < text.len() {
        if text[i].is_ascii_digit() {
            let end = text[i..]
                .iter()
                .position(|&c| !(c.is_ascii_digit() || c == b','))
                .map_or(text.len(), |o| i + o);
            let run = &text[i..end];
            let run = run.strip_suffix(b",").unwrap_or(run);
            if let Some(a) = parse_host_port(run) {
                return Some(a);
            }
            i = end;
        } else {
            i += 1;
        }
    }
    None
}

/// Finds the port in a 229 reply: `(<d><d><d>port<d>)` with any delimiter
/// `d` in 33..=126 that is not a digit (RFC 2428 3).
///
/// ```
/// use ftp_proto::reply::parse_epsv;
/// assert_eq!(parse_epsv(b"Entering Extended Passive Mode (|||6446|)"), Some(6446));
/// assert_eq!(parse_epsv(b"Entering Extended Passive Mode (!!!6446!)"), Some(6446));
/// ```
#[must_use]
pub fn parse_epsv(text: &[u8]) -> Option<u16> {
    let mut i = 0;
    while i + 4 < text.len() {
        let d = text[i];
        if (33..=126).contains(&d) && !d.is_ascii_digit() && text[i + 1] == d && text[i + 2] == d {
            let rest = &text[i + 3..];
            if let Some(end) = memchr(d, rest)
                && let Some(p) = crate::parse::dec_u16(&rest[..end])
            {
                return Some(p);
            }
        }
        i += 1;
    }
    None
}

/// Reads the quoted path of a 257 reply (RFC 959 appendix II): `"` path `"`
/// with embedded quotes doubled, and a CR padded with a NUL (RFC 2640 3.1:
/// "the \<NUL\> character MUST be stripped away"). `None` for a CR or NUL in
/// the path that is not such a pair.
///
/// ```
/// use ftp_proto::reply::parse_257_path;
/// assert_eq!(parse_257_path(b"\"/usr/say \"\"hi\"\"\" created").unwrap(), b"/usr/say \"hi\"");
/// ```
#[must_use]
pub fn parse_257_path(text: &[u8]) -> Option<Vec<u8>> {
    let mut rest = text.strip_prefix(b"\"")?;
    let mut out = Vec::with_capacity(rest.len());
    loop {
        let q = memchr(b'"', rest)?;
        out.extend_from_slice(&rest[..q]);
        if rest.get(q + 1) == Some(&b'"') {
            out.push(b'"');
            rest = &rest[q + 2..];
        } else {
            break;
        }
    }
    if memchr::memchr2(b'\r', 0, &out).is_none() {
        return Some(out);
    }
    unpad_pathname(&out).map(std::borrow::Cow::into_owned)
}

/// A pathname as a reply carries it, each CR padded with a NUL (RFC 2640
/// 3.1: "the <NUL> character MUST be stripped away"), without the NULs;
/// `None` for a CR or NUL that is not such a pair.
pub(crate) fn unpad_pathname(p: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    crate::command::unpad_cr(p).filter(|p| memchr::memchr(0, p).is_none())
}

/// Writes a path quoted for a 257 reply (quotes doubled, a CR padded with a
/// NUL as RFC 2640 3.1 asks of pathnames).
pub fn write_257_path(path: &[u8], out: &mut BytesMut) {
    out.extend_from_slice(b"\"");
    for &c in path {
        match c {
            b'"' => out.extend_from_slice(b"\"\""),
            b'\r' => out.extend_from_slice(b"\r\0"),
            c => out.extend_from_slice(&[c]),
        }
    }
    out.extend_from_slice(b"\"");
}

/// The size in a 213 SIZE reply (RFC 3659 4.2). Any 2yz whose text is a
/// number is read the same (RFC 959 4.2: the first digit tells success).
#[must_use]
pub fn parse_size(reply: &Reply<'_>) -> Option<u64> {
    reply
        .is_completion()
        .then(|| dec_u64(reply.text().trim_ascii()))
        .flatten()
}

/// The time in a 213 MDTM reply (RFC 3659 3.2). Any 2yz whose text is a
/// time-val is read the same (RFC 959 4.2: the first digit tells success).
#[must_use]
pub fn parse_mdtm(reply: &Reply<'_>) -> Option<Timestamp> {
    reply
        .is_completion()
        .then(|| Timestamp::parse_time_val(reply.text().trim_ascii()))
        .flatten()
}

/// Writes the text of a 227 reply: `Entering Passive Mode (h1,h2,h3,h4,p1,p2).`
pub fn write_pasv_text(addr: SocketAddrV4, out: &mut BytesMut) {
    out.extend_from_slice(b"Entering Passive Mode (");
    write_host_port(addr, out);
    out.extend_from_slice(b").");
}

/// Writes the text of a 229 reply: `Entering Extended Passive Mode (|||port|)`.
pub fn write_epsv_text(port: u16, out: &mut BytesMut) {
    out.extend_from_slice(b"Entering Extended Passive Mode (|||");
    write_u64(out, u64::from(port));
    out.extend_from_slice(b"|)");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(b: &[u8]) -> Reply<'_> {
        Reply::parse_exact(b, &ReplyConfig::default()).unwrap()
    }

    #[test]
    fn rfc959_multiline_with_digit_lines() {
        // RFC 959 4.2 example: inner lines may start with digits.
        let raw =
            b"123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n123 The last line\r\n";
        let r = one(raw);
        assert_eq!(r.code(), 123);
        let lines: Vec<_> = r.lines().collect();
        assert_eq!(lines[0], b"First line");
        assert_eq!(lines[2], b"  234 A line beginning with numbers");
        assert_eq!(lines[3], b"The last line");
        // A line with another code and a space does not end it.
        let raw = b"211-a\r\n214 not the end\r\n211-still not\r\n211 end\r\n";
        assert_eq!(one(raw).lines().count(), 4);
    }

    #[test]
    fn incomplete_and_errors() {
        let c = ReplyConfig::default();
        assert_eq!(Reply::parse(b"220 hel", &c), Ok(None));
        assert_eq!(Reply::parse(b"211-x\r\n211", &c), Ok(None));
        assert_eq!(Reply::parse(b"hello\r\n", &c), Err(ReplyError::BadLine));
        assert_eq!(Reply::parse(b"hell", &c), Err(ReplyError::BadLine));
        assert_eq!(Reply::parse(b"220 x\n", &c), Err(ReplyError::BareLineEnding));
        assert_eq!(Reply::parse(b"620 x\r\n", &c), Err(ReplyError::BadLine));
        let small = ReplyConfig { max_len: 10, ..c };
        assert!(matches!(
            Reply::parse(b"211-aaaaaaaaaaaa", &small),
            Err(ReplyError::TooLong { .. })
        ));
        let lenient = ReplyConfig {
            accept_bare_lf: true,
            ..c
        };
        assert_eq!(
            Reply::parse(b"220 x\n", &lenient).unwrap().unwrap().0.text(),
            b"x"
        );
        assert_eq!(one(b"220\r\n").text(), b"");
    }

    #[test]
    fn features_typed() {
        let raw = b"211-Extensions supported:\r\n MLST size*;create;modify*;perm;\r\n AUTH TLS\r\n REST STREAM\r\n SIZE\r\n211 END\r\n";
        let f = Features::from_reply(&one(raw));
        assert!(f.has("size") && f.auth_tls() && f.rest_stream() && !f.has("EPSV"));
        let facts: Vec<_> = f.mlst_facts().collect();
        assert_eq!(facts[0], (&b"size"[..], true));
        assert_eq!(facts[1], (&b"create"[..], false));
        assert_eq!(f.iter().count(), 4);
    }

    #[test]
    fn encode_pads_digit_lines() {
        let mut out = BytesMut::new();
        encode_reply(214, &[b"Help", b"214 looks like an end", b"end"], &mut out).unwrap();
        let r = one(&out);
        assert_eq!(r.lines().count(), 3);
        assert!(encode_reply(214, &[b"a\r\n214 x"], &mut out).is_err());
        assert!(encode_reply(99, &[b"a"], &mut out).is_err());
    }

    #[test]
    fn pasv_and_epsv() {
        assert_eq!(
            parse_pasv(b"Entering Passive Mode 10,0,0,1,200,10"),
            Some("10.0.0.1:51210".parse().unwrap())
        );
        assert_eq!(parse_pasv(b"nothing here 1,2"), None);
        assert_eq!(
            parse_pasv(b"(999,1,1,1,1,1) then (1,1,1,1,0,21)"),
            Some("1.1.1.1:21".parse().unwrap())
        );
        assert_eq!(parse_epsv(b"ok (|||x|)"), None);
        assert_eq!(parse_epsv(b"(###65535#)"), Some(65535));
        let mut b = BytesMut::new();
        write_257_path(b"/a\"b", &mut b);
        assert_eq!(parse_257_path(&b).unwrap(), b"/a\"b");
    }
}
