//! Client-to-server messages: [`Command`] with its parameters, parse and encode.
//!
//! Parsing borrows everything from the line: a parsed command holds slices of
//! the input and allocates nothing.

use crate::error::{CommandError, EncodeError};
use crate::limits::Limits;
use crate::parse::params::{self, ALL_KEYWORDS, MAIL_KEYWORDS, RCPT_KEYWORDS};
use crate::parse::{Cursor, path};
use bytes::{BufMut, BytesMut};
use proto_core::check_arg;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The domain part of a mailbox or the argument of EHLO/HELO/LHLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host<'a> {
    /// A domain name (may hold UTF-8 U-labels, RFC 6531).
    Domain(&'a [u8]),
    /// `[1.2.3.4]`
    Ipv4(Ipv4Addr),
    /// `[IPv6:...]`
    Ipv6(Ipv6Addr),
    /// `[tag:content]` (General-address-literal, RFC 5321 4.1.3).
    General {
        /// Standardized-tag: an Ldh-str (letters, digits, hyphens; no dot).
        tag: &'a [u8],
        /// dcontent.
        content: &'a [u8],
    },
}

impl<'a> Host<'a> {
    /// Parses `Domain / address-literal`.
    ///
    /// # Errors
    ///
    /// [`CommandError`] when `s` is neither.
    pub fn parse(s: &'a [u8]) -> Result<Host<'a>, CommandError> {
        path::parse_host(s, &Limits::DEFAULT).map(|(h, _)| h)
    }

    /// The host `name` names when it is an ASCII domain (LDH labels or
    /// A-labels) or an address literal, the only forms a session may give
    /// for itself (RFC 5321 4.1.1.1 and 4.2; RFC 6531 3.7.1: "MUST send
    /// only ASCII (LDH label or A-label \[RFC5890\]) domains in the EHLO
    /// command", and the same for the server's EHLO response); `localhost`
    /// for anything else.
    pub(crate) fn own_name(name: &str) -> Host<'_> {
        Host::parse(name.as_bytes())
            .ok()
            .filter(|_| name.is_ascii())
            .unwrap_or(Host::Domain(b"localhost"))
    }

    /// Writes the host as it appears on the wire.
    ///
    /// # Errors
    ///
    /// CR, LF or NUL in a domain or literal.
    pub fn write_to(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Host::Domain(d) => {
                check_arg(d)?;
                // Only what reads back as this same domain (no '>', ']',
                // space or other byte that would end or change the path).
                if !path::is_domain(d) {
                    return Err(EncodeError::Invalid("bad domain"));
                }
                out.put_slice(d);
            }
            Host::Ipv4(a) => out.put_slice(format!("[{a}]").as_bytes()),
            Host::Ipv6(a) => out.put_slice(format!("[IPv6:{a}]").as_bytes()),
            Host::General { tag, content } => {
                check_arg(tag)?;
                check_arg(content)?;
                if !path::is_general_literal(tag, content) {
                    return Err(EncodeError::Invalid("bad address literal"));
                }
                out.put_u8(b'[');
                out.put_slice(tag);
                out.put_u8(b':');
                out.put_slice(content);
                out.put_u8(b']');
            }
        }
        Ok(())
    }
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mailbox<'a> {
    /// The local part as sent: a Dot-string, or a Quoted-string with its quotes.
    pub local_part: &'a [u8],
    /// The domain or address literal.
    pub domain: Host<'a>,
}

impl<'a> Mailbox<'a> {
    /// Parses a bare mailbox (`user@example.test`, no angle brackets).
    ///
    /// ```
    /// let m = smtp_proto::Mailbox::parse(b"\"john doe\"@[IPv6:2001:db8::1]").unwrap();
    /// assert_eq!(m.local_part, b"\"john doe\"");
    /// ```
    ///
    /// # Errors
    ///
    /// [`CommandError`] when `s` is not a mailbox.
    pub fn parse(s: &'a [u8]) -> Result<Mailbox<'a>, CommandError> {
        if s.contains(&b'<') || s.contains(&b'>') {
            return Err(CommandError::Syntax("bad mailbox"));
        }
        let mut c = Cursor::new(s);
        let (m, _) = path::mailbox(&mut c, &Limits::DEFAULT)?;
        if !c.at_end() {
            return Err(CommandError::Syntax("bad mailbox"));
        }
        Ok(m)
    }

    /// The local part with quoting removed (`"a\"b"` becomes `a"b`).
    #[must_use]
    pub fn local_part_unquoted(&self) -> std::borrow::Cow<'a, [u8]> {
        match self
            .local_part
            .strip_prefix(b"\"")
            .and_then(|r| r.strip_suffix(b"\""))
        {
            Some(inner) if inner.contains(&b'\\') => {
                let mut out = Vec::with_capacity(inner.len());
                let mut esc = false;
                for &b in inner {
                    if esc || b != b'\\' {
                        out.push(b);
                        esc = false;
                    } else {
                        esc = true;
                    }
                }
                out.into()
            }
            Some(inner) => inner.into(),
            None => self.local_part.into(),
        }
    }

    /// True if the mailbox holds only ASCII.
    #[must_use]
    pub fn is_ascii(&self) -> bool {
        self.local_part.is_ascii() && !matches!(self.domain, Host::Domain(d) if !d.is_ascii())
    }

    fn write_to(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_arg(self.local_part)?;
        // A Dot-string or a Quoted-string, whole: anything else (a '>' or a
        // space) would end the path early and inject text into the line.
        if !path::is_local_part(self.local_part) {
            return Err(EncodeError::Invalid("bad local part"));
        }
        out.put_slice(self.local_part);
        out.put_u8(b'@');
        self.domain.write_to(out)
    }
}

/// `Reverse-path` of MAIL FROM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReversePath<'a> {
    /// `<>`: bounces and other notifications (RFC 5321 4.5.5).
    Null,
    /// A mailbox.
    Mailbox(Mailbox<'a>),
}

/// `Forward-path` of RCPT TO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardPath<'a> {
    /// `<Postmaster>` without a domain (RFC 5321 4.1.1.3).
    Postmaster,
    /// A mailbox.
    Mailbox(Mailbox<'a>),
}

/// BODY= values (RFC 6152, RFC 3030).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    /// 7BIT
    SevenBit,
    /// 8BITMIME
    EightBitMime,
    /// BINARYMIME (needs BDAT)
    BinaryMime,
}

impl BodyType {
    /// The keyword value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::SevenBit => "7BIT",
            BodyType::EightBitMime => "8BITMIME",
            BodyType::BinaryMime => "BINARYMIME",
        }
    }

    pub(crate) fn from_bytes(v: &[u8]) -> Option<BodyType> {
        // The three keywords differ in length: one comparison at most.
        let b = match v.len() {
            4 => BodyType::SevenBit,
            8 => BodyType::EightBitMime,
            10 => BodyType::BinaryMime,
            _ => return None,
        };
        v.eq_ignore_ascii_case(b.as_str().as_bytes()).then_some(b)
    }
}

/// RET= (RFC 3461 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    /// FULL: return the whole message in a DSN.
    Full,
    /// HDRS: return only the headers.
    Hdrs,
}

/// NOTIFY= (RFC 3461 4.1): NEVER, or any of SUCCESS, FAILURE, DELAY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Notify {
    /// SUCCESS
    pub success: bool,
    /// FAILURE
    pub failure: bool,
    /// DELAY
    pub delay: bool,
}

impl Notify {
    /// NOTIFY=NEVER (all flags false).
    pub const NEVER: Notify = Notify {
        success: false,
        failure: false,
        delay: false,
    };

    /// True for NEVER.
    #[must_use]
    pub fn is_never(&self) -> bool {
        *self == Notify::NEVER
    }

    pub(crate) fn parse(v: &[u8]) -> Option<Notify> {
        // The words are five or seven letters. Each is read as one
        // little-endian integer with the case bit of every byte cleared:
        // exact and case-insensitive for these all-letter words (a byte
        // lands on an upper-case letter only if it is that letter in either case).
        const fn up(w: &[u8]) -> u64 {
            let mut k = 0u64;
            let mut i = w.len();
            while i > 0 {
                i -= 1;
                k = (k << 8) | (w[i] & 0xDF) as u64;
            }
            k
        }
        const SUCCESS: u64 = up(b"SUCCESS");
        const FAILURE: u64 = up(b"FAILURE");
        const DELAY: u64 = up(b"DELAY");
        const NEVER: u64 = up(b"NEVER");
        const CASE7: u64 = 0x00DF_DFDF_DFDF_DFDF;
        const CASE5: u64 = 0x00DF_DFDF_DFDF;
        let mut n = Notify::default();
        let mut rest = v;
        loop {
            // The word's length: five or seven, then a comma or the end.
            let len = match (rest.get(5), rest.get(7)) {
                (None | Some(b','), _) => 5,
                (_, None | Some(b',')) => 7,
                _ => return None,
            };
            let w = rest.get(..len)?;
            // Two overlapping four-byte reads cover the word.
            let lo = u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            let hi = u64::from(u32::from_le_bytes([
                w[len - 4],
                w[len - 3],
                w[len - 2],
                w[len - 1],
            ]));
            let key = lo | (hi << (8 * (len - 4)));
            let slot = match (len, key) {
                (5, k) if k & CASE5 == DELAY => &mut n.delay,
                (5, k) if k & CASE5 == NEVER && v.len() == 5 => return Some(Notify::NEVER),
                (7, k) if k & CASE7 == SUCCESS => &mut n.success,
                (7, k) if k & CASE7 == FAILURE => &mut n.failure,
                _ => return None,
            };
            // RFC 3461 4.1: `1#notify-list-element` is a plain list; only
            // NEVER must stand alone, so a repeated keyword is valid and
            // means the same as one.
            *slot = true;
            match rest.get(len + 1..) {
                Some(next) => rest = next,
                None => return Some(n),
            }
        }
    }

    fn write_to(self, out: &mut BytesMut) {
        if self.is_never() {
            out.put_slice(b"NEVER");
            return;
        }
        let mut first = true;
        for (on, w) in [
            (self.success, "SUCCESS"),
            (self.failure, "FAILURE"),
            (self.delay, "DELAY"),
        ] {
            if on {
                if !first {
                    out.put_u8(b',');
                }
                out.put_slice(w.as_bytes());
                first = false;
            }
        }
    }
}

/// An xtext value (RFC 3461 4), kept encoded as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XText<'a>(pub &'a [u8]);

impl XText<'_> {
    /// Decodes `+HH` escapes.
    #[must_use]
    pub fn decode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len());
        let mut i = 0;
        while i < self.0.len() {
            let b = self.0[i];
            let hex = |x: u8| (x as char).to_digit(16);
            if b == b'+'
                && let (Some(h), Some(l)) = (
                    self.0.get(i + 1).and_then(|&x| hex(x)),
                    self.0.get(i + 2).and_then(|&x| hex(x)),
                )
            {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
            out.push(b);
            i += 1;
        }
        out
    }

    /// Encodes an address as RFC 6533's utf-8-addr-xtext, the ASCII form of
    /// the `utf-8` ORCPT type: printable ASCII but `+`, `=` and `\` is kept,
    /// every other character becomes `\x{HEX}` (its code point in upper-case
    /// hex, at least two digits). A `\x{HEX}` already in `addr` is kept as
    /// it is, so an address taken from a received ORCPT in that form (as
    /// [`decode`](Self::decode) leaves it) is passed on unchanged. The result
    /// is valid xtext.
    ///
    /// ```
    /// use smtp_proto::XText;
    /// assert_eq!(XText::encode_utf8_addr("bj\u{f6}rn+x@a.test"), "bj\\x{F6}rn\\x{2B}x@a.test");
    /// assert_eq!(XText::encode_utf8_addr("bj\\x{F6}rn@a.test"), "bj\\x{F6}rn@a.test");
    /// ```
    #[must_use]
    pub fn encode_utf8_addr(addr: &str) -> String {
        /// The length of a well-formed `\x{HEX}` at the start of `s`.
        fn embedded(s: &str) -> Option<usize> {
            let hex = s.strip_prefix("\\x{")?;
            let n = hex.find('}')?;
            ((2..=6).contains(&n) && hex[..n].bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')))
                .then_some(n + 4)
        }
        let mut s = String::with_capacity(addr.len());
        let mut rest = addr;
        while let Some(c) = rest.chars().next() {
            let mut len = c.len_utf8();
            if let Some(n) = embedded(rest) {
                len = n;
                s.push_str(&rest[..n]);
            } else if matches!(c, '!'..='~') && !matches!(c, '+' | '=' | '\\') {
                s.push(c);
            } else {
                s.push_str(&format!("\\x{{{:02X}}}", u32::from(c)));
            }
            rest = &rest[len..];
        }
        s
    }

    /// Encodes raw bytes as xtext: `+`, `=`, controls, space and non-ASCII become `+HH`.
    #[must_use]
    pub fn encode(raw: &[u8]) -> String {
        let mut s = String::with_capacity(raw.len());
        for &b in raw {
            if (33..=126).contains(&b) && b != b'+' && b != b'=' {
                s.push(b as char);
            } else {
                s.push_str(&format!("+{b:02X}"));
            }
        }
        s
    }

    /// True if the bytes are valid xtext.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        params::valid_xtext(self.0)
    }
}

/// ORCPT= (RFC 3461 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Orcpt<'a> {
    /// addr-type, usually `rfc822` or `utf-8`.
    pub addr_type: &'a [u8],
    /// The original address, xtext-encoded.
    pub addr: XText<'a>,
}

/// The parameters this crate does not type, kept as sent.
///
/// Holds the raw parameter list and yields the entries whose keyword is not one
/// of the typed ones, so parsing needs no allocation.
#[derive(Clone, Copy, Default)]
pub struct OtherParams<'a> {
    raw: &'a [u8],
    kind: ParamsOf,
}

/// Which typed keywords an [`OtherParams`] leaves out.
#[derive(Clone, Copy, Default)]
enum ParamsOf {
    /// Parsed from a MAIL command: MAIL's typed keywords.
    Mail,
    /// Parsed from a RCPT command: RCPT's typed keywords.
    Rcpt,
    /// Built by [`OtherParams::new`]: the typed keywords of both, so that a
    /// list given to either command can never add a typed parameter (a
    /// NOTIFY=NEVER the typed fields do not hold, say).
    #[default]
    Any,
}

impl<'a> OtherParams<'a> {
    pub(crate) fn mail(raw: &'a [u8]) -> Self {
        OtherParams {
            raw,
            kind: ParamsOf::Mail,
        }
    }

    pub(crate) fn rcpt(raw: &'a [u8]) -> Self {
        OtherParams {
            raw,
            kind: ParamsOf::Rcpt,
        }
    }

    /// Builds a list from `keyword[=value]` entries separated by single spaces.
    /// Entries whose keyword is typed in [`MailParams`] or [`RcptParams`] are
    /// ignored (not iterated, not encoded), whichever command the list is used with.
    #[must_use]
    pub fn new(raw: &'a [u8]) -> Self {
        OtherParams {
            raw,
            kind: ParamsOf::Any,
        }
    }

    fn known(&self) -> &'static [&'static [u8]] {
        match self.kind {
            ParamsOf::Mail => &MAIL_KEYWORDS,
            ParamsOf::Rcpt => &RCPT_KEYWORDS,
            ParamsOf::Any => &ALL_KEYWORDS,
        }
    }

    /// The untyped parameters, as `(keyword, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)> + '_ {
        let known = self.known();
        // In a parsed command the whole list was validated already.
        params::split_params(self.raw)
            .map_while(Result::ok)
            .filter(move |(k, _)| !params::is_known(k, known))
    }

    /// True when there is no untyped parameter.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl PartialEq for OtherParams<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for OtherParams<'_> {}

impl fmt::Debug for OtherParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), v.map(String::from_utf8_lossy))),
            )
            .finish()
    }
}

/// MAIL FROM parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailParams<'a> {
    /// SIZE= (RFC 1870). A value of up to 20 digits above `u64::MAX` reads
    /// as `u64::MAX` (valid syntax, larger than any limit).
    pub size: Option<u64>,
    /// BODY= (RFC 6152, RFC 3030).
    pub body: Option<BodyType>,
    /// SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// RET= (RFC 3461).
    pub ret: Option<Ret>,
    /// ENVID= (RFC 3461), xtext.
    pub envid: Option<XText<'a>>,
    /// AUTH= (RFC 4954 5), xtext; `<>` for "unknown".
    pub auth: Option<XText<'a>>,
    /// REQUIRETLS (RFC 8689).
    pub requiretls: bool,
    /// MT-PRIORITY= (RFC 6710), -9 to 9.
    pub mt_priority: Option<i8>,
    /// Any other parameter.
    pub other: OtherParams<'a>,
}

/// RCPT TO parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RcptParams<'a> {
    /// NOTIFY= (RFC 3461).
    pub notify: Option<Notify>,
    /// ORCPT= (RFC 3461).
    pub orcpt: Option<Orcpt<'a>>,
    /// Any other parameter.
    pub other: OtherParams<'a>,
}

/// One SMTP/ESMTP/LMTP command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `HELO domain` (RFC 5321 4.1.1.1: `helo = "HELO" SP Domain CRLF`).
    /// The parser refuses an address literal here and the encoder does not
    /// write one; a [`ServerSession`](crate::ServerSession) with
    /// [`ServerConfig::helo_address_literal`](crate::ServerConfig::helo_address_literal)
    /// takes one (then `host` is a literal).
    Helo {
        /// The client's name.
        host: Host<'a>,
    },
    /// `EHLO domain-or-literal`.
    Ehlo {
        /// The client's name.
        host: Host<'a>,
    },
    /// `LHLO domain-or-literal` (LMTP, RFC 2033 4.1).
    Lhlo {
        /// The client's name.
        host: Host<'a>,
    },
    /// `MAIL FROM:<reverse-path> [params]`.
    Mail {
        /// The sender.
        from: ReversePath<'a>,
        /// Parameters.
        params: MailParams<'a>,
    },
    /// `RCPT TO:<forward-path> [params]`.
    Rcpt {
        /// The recipient.
        to: ForwardPath<'a>,
        /// Parameters.
        params: RcptParams<'a>,
    },
    /// `DATA`.
    Data,
    /// `BDAT size [LAST]` (RFC 3030).
    Bdat {
        /// Octets that follow the command line.
        size: u64,
        /// The last chunk of the message.
        last: bool,
    },
    /// `RSET`.
    Rset,
    /// `VRFY string [SP "SMTPUTF8"]` (RFC 5321 4.1.1.6, RFC 6531 3.7.4.2).
    Vrfy {
        /// The argument, raw, without the SMTPUTF8 parameter.
        arg: &'a [u8],
        /// The SMTPUTF8 parameter was given: the reply may hold UTF-8
        /// (RFC 6531 3.7.4.2, for this command only).
        smtputf8: bool,
    },
    /// `EXPN string [SP "SMTPUTF8"]` (RFC 5321 4.1.1.7, RFC 6531 3.7.4.2).
    Expn {
        /// The argument, raw, without the SMTPUTF8 parameter.
        arg: &'a [u8],
        /// The SMTPUTF8 parameter was given: the reply may hold UTF-8
        /// (RFC 6531 3.7.4.2, for this command only).
        smtputf8: bool,
    },
    /// `HELP [string]`.
    Help {
        /// The topic, raw.
        topic: Option<&'a [u8]>,
    },
    /// `NOOP [string]`.
    Noop {
        /// The ignored argument.
        arg: Option<&'a [u8]>,
    },
    /// `QUIT`.
    Quit,
    /// `STARTTLS` (RFC 3207).
    StartTls,
    /// `AUTH mechanism [initial-response]` (RFC 4954 4).
    Auth {
        /// The SASL mechanism name as sent.
        mechanism: &'a [u8],
        /// The initial response as sent: base64 text, or `=` for an empty one.
        initial_response: Option<&'a [u8]>,
    },
    /// `ETRN [@|#]node` (RFC 1985).
    Etrn {
        /// The argument, raw.
        node: &'a [u8],
    },
    /// `BURL url [LAST]` (RFC 4468): recognised, not implemented (502).
    Burl {
        /// The arguments, raw.
        args: &'a [u8],
    },
}

/// ASCII upper case of four bytes at once: subtracts 0x20 from exactly the
/// bytes in `a..=z` (the high bit of each byte is kept out of the sums so no
/// carry crosses bytes).
fn upper4(x: u32) -> u32 {
    const ONES: u32 = 0x0101_0101;
    const HIGHS: u32 = 0x8080_8080;
    let low7 = x & !HIGHS;
    let ge_a = low7 + ONES * u32::from(0x80 - b'a');
    let gt_z = low7 + ONES * u32::from(0x80 - b'z' - 1);
    let lower = ge_a & !gt_z & !x & HIGHS;
    x - (lower >> 2)
}

const fn key(v: &[u8]) -> u64 {
    let mut k = 0u64;
    let mut i = 0;
    while i < v.len() {
        k = (k << 8) | v[i] as u64;
        i += 1;
    }
    k
}

fn no_args(rest: Option<&[u8]>) -> Result<(), CommandError> {
    match rest {
        None => Ok(()),
        Some(_) => Err(CommandError::Syntax("this command takes no argument")),
    }
}

/// Whether `a` is a string argument as the parser takes it (VRFY, EXPN,
/// HELP, NOOP, ETRN): not empty, only graphic ASCII, SP, HTAB and non-ASCII
/// bytes (a lenient reading of RFC 5321 4.1.2 `String`, which holds no
/// control byte).
fn is_string_arg(a: &[u8]) -> bool {
    !a.is_empty()
        && a.iter()
            .all(|&b| b == b' ' || b == b'\t' || b.is_ascii_graphic() || b >= 0x80)
}

fn string_arg(rest: Option<&[u8]>) -> Result<&[u8], CommandError> {
    match rest {
        Some(a) if is_string_arg(a) => Ok(a),
        _ => Err(CommandError::Syntax("argument required")),
    }
}

/// The optional VRFY/EXPN parameter, with its space.
const SP_SMTPUTF8: &[u8] = b" SMTPUTF8";

/// Splits a trailing `SP "SMTPUTF8"` (any case) off a VRFY/EXPN argument
/// (RFC 6531 3.7.4.2); the argument before it must not be empty.
fn split_smtputf8(a: &[u8]) -> (&[u8], bool) {
    match a.len().checked_sub(SP_SMTPUTF8.len()) {
        Some(n) if n > 0 && a[n..].eq_ignore_ascii_case(SP_SMTPUTF8) => (&a[..n], true),
        _ => (a, false),
    }
}

/// `String [ SP "SMTPUTF8" ]` of VRFY and EXPN (RFC 6531 3.7.4.2): the
/// argument and whether the parameter was given.
fn utf8_string_arg(rest: Option<&[u8]>) -> Result<(&[u8], bool), CommandError> {
    Ok(split_smtputf8(string_arg(rest)?))
}

fn opt_string(rest: Option<&[u8]>) -> Result<Option<&[u8]>, CommandError> {
    rest.map(|r| string_arg(Some(r))).transpose()
}

/// The domain of HELO/EHLO/LHLO: ASCII only (RFC 6531 3.7.1: the client
/// "MUST send only ASCII (LDH label or A-label) domains in the EHLO command",
/// since it cannot know yet whether the server takes UTF-8).
fn host_arg<'a>(rest: Option<&'a [u8]>, limits: &Limits) -> Result<Host<'a>, CommandError> {
    let s = rest.ok_or(CommandError::Syntax("domain required"))?;
    match path::parse_host(s, limits)? {
        (_, true) => Err(CommandError::Syntax("non-ASCII domain (use its A-label form)")),
        (h, false) => Ok(h),
    }
}

impl<'a> Command<'a> {
    /// Parses one command line (without its CRLF) under the default [`Limits`].
    ///
    /// ```
    /// use smtp_proto::{Command, ReversePath};
    /// let c = Command::parse(b"MAIL FROM:<a@example.test> SIZE=1000 BODY=8BITMIME").unwrap();
    /// let Command::Mail { from: ReversePath::Mailbox(m), params } = c else { panic!() };
    /// assert_eq!(m.local_part, b"a");
    /// assert_eq!(params.size, Some(1000));
    /// ```
    ///
    /// # Errors
    ///
    /// [`CommandError`], whose [`reply`](CommandError::reply) is the answer to send.
    pub fn parse(line: &'a [u8]) -> Result<Command<'a>, CommandError> {
        Command::parse_with(line, &Limits::DEFAULT)
    }

    /// Parses one command line (without its CRLF) under `limits`.
    ///
    /// # Errors
    ///
    /// [`CommandError`], whose [`reply`](CommandError::reply) is the answer to send.
    pub fn parse_with(line: &'a [u8], limits: &Limits) -> Result<Command<'a>, CommandError> {
        Command::parse_in_session(line, limits, false)
    }

    /// [`parse_with`](Self::parse_with), taking an address literal after
    /// HELO when `helo_literal` is set (the server's
    /// [`ServerConfig::helo_address_literal`](crate::ServerConfig::helo_address_literal)).
    pub(crate) fn parse_in_session(
        line: &'a [u8],
        limits: &Limits,
        helo_literal: bool,
    ) -> Result<Command<'a>, CommandError> {
        // The verb is at most 8 bytes: find its end and pack its key in one
        // short loop rather than searching the whole line for the space.
        let mut k = 0u64;
        let mut i = 0;
        // Most verbs are four letters: upper-case them as one u32.
        if let Some(&[a, b, c, d]) = line.first_chunk::<4>()
            && line.get(4).is_none_or(|&sp| sp == b' ')
        {
            k = u64::from(upper4(u32::from_be_bytes([a, b, c, d])));
            i = 4;
        }
        while i < line.len() && line[i] != b' ' {
            if i == 8 {
                return Err(CommandError::Unrecognized);
            }
            k = (k << 8) | u64::from(line[i].to_ascii_uppercase());
            i += 1;
        }
        let rest = if i < line.len() {
            Some(&line[i + 1..])
        } else {
            None
        };
        // Leading NULs would vanish from the packed key ("\0MAIL" would match
        // MAIL), so a verb must start with a non-NUL byte to be matched in full.
        if line.first() == Some(&0) {
            return Err(CommandError::Unrecognized);
        }
        Ok(match k {
            k if k == key(b"MAIL") => {
                let r = rest.ok_or(CommandError::Syntax("MAIL needs FROM:<path>"))?;
                let mut c = Cursor::new(r);
                if !c.eat_ci(b"FROM:") {
                    return Err(CommandError::Syntax("MAIL needs FROM:<path>"));
                }
                let (from, utf8) = if c.rest().starts_with(b"<>") {
                    c.pos += 2;
                    (ReversePath::Null, false)
                } else {
                    let (m, utf8) = path::path(&mut c, limits)?;
                    (ReversePath::Mailbox(m), utf8)
                };
                let params = params_part(&c, params::mail_params)?;
                if utf8 && !params.smtputf8 {
                    return Err(CommandError::Utf8NotAllowed);
                }
                Command::Mail { from, params }
            }
            k if k == key(b"RCPT") => {
                let r = rest.ok_or(CommandError::Syntax("RCPT needs TO:<path>"))?;
                let mut c = Cursor::new(r);
                if !c.eat_ci(b"TO:") {
                    return Err(CommandError::Syntax("RCPT needs TO:<path>"));
                }
                let to = if c.eat_ci(b"<Postmaster>") {
                    ForwardPath::Postmaster
                } else {
                    // UTF-8 is checked against the transaction's SMTPUTF8 by the server.
                    ForwardPath::Mailbox(path::path(&mut c, limits)?.0)
                };
                let params = params_part(&c, params::rcpt_params)?;
                Command::Rcpt { to, params }
            }
            k if k == key(b"EHLO") => Command::Ehlo {
                host: host_arg(rest, limits)?,
            },
            k if k == key(b"HELO") => {
                let host = host_arg(rest, limits)?;
                // RFC 5321 4.1.1.1: `helo = "HELO" SP Domain CRLF`; only
                // EHLO takes an address-literal.
                if !helo_literal && !matches!(host, Host::Domain(_)) {
                    return Err(CommandError::Syntax(
                        "HELO takes a domain (RFC 5321 4.1.1.1); an address literal needs EHLO",
                    ));
                }
                Command::Helo { host }
            }
            k if k == key(b"LHLO") => Command::Lhlo {
                host: host_arg(rest, limits)?,
            },
            k if k == key(b"DATA") => {
                no_args(rest)?;
                Command::Data
            }
            k if k == key(b"BDAT") => {
                // bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF (RFC 3030 2)
                let r = rest.ok_or(CommandError::Syntax("BDAT needs a size"))?;
                let (n, last) = match memchr::memchr(b' ', r) {
                    Some(i) if r[i + 1..].eq_ignore_ascii_case(b"LAST") => (&r[..i], true),
                    Some(_) => return Err(CommandError::Syntax("bad BDAT end marker")),
                    None => (r, false),
                };
                // chunk-size = 1*DIGIT, any number of them: leading zeros
                // are fine, and a size past u64 is larger than any limit.
                // Refusing either would leave the chunk's octets to be read
                // as commands.
                if n.is_empty() || !n.iter().all(u8::is_ascii_digit) {
                    return Err(CommandError::Syntax("bad BDAT size"));
                }
                let zeros = n.iter().take_while(|&&b| b == b'0').count().min(n.len() - 1);
                let size = crate::parse::parse_u64(&n[zeros..]).unwrap_or(u64::MAX);
                Command::Bdat { size, last }
            }
            k if k == key(b"RSET") => {
                no_args(rest)?;
                Command::Rset
            }
            k if k == key(b"QUIT") => {
                no_args(rest)?;
                Command::Quit
            }
            k if k == key(b"NOOP") => Command::Noop {
                arg: opt_string(rest)?,
            },
            k if k == key(b"HELP") => Command::Help {
                topic: opt_string(rest)?,
            },
            k if k == key(b"VRFY") => {
                let (arg, smtputf8) = utf8_string_arg(rest)?;
                Command::Vrfy { arg, smtputf8 }
            }
            k if k == key(b"EXPN") => {
                let (arg, smtputf8) = utf8_string_arg(rest)?;
                Command::Expn { arg, smtputf8 }
            }
            k if k == key(b"STARTTLS") => {
                no_args(rest)?;
                Command::StartTls
            }
            k if k == key(b"AUTH") => {
                let r = rest.ok_or(CommandError::Syntax("AUTH needs a mechanism"))?;
                let (m, ir) = match memchr::memchr(b' ', r) {
                    Some(i) => (&r[..i], Some(&r[i + 1..])),
                    None => (r, None),
                };
                if !sasl::is_mechanism_name(m) {
                    return Err(CommandError::Syntax("bad mechanism name"));
                }
                if let Some(ir) = ir
                    && !(ir == b"=" || is_base64(ir))
                {
                    return Err(CommandError::BadBase64);
                }
                Command::Auth {
                    mechanism: m,
                    initial_response: ir,
                }
            }
            k if k == key(b"ETRN") => Command::Etrn {
                node: string_arg(rest)?,
            },
            k if k == key(b"BURL") => Command::Burl {
                args: rest.unwrap_or_default(),
            },
            k if k == key(b"TURN")
                || k == key(b"ATRN")
                || k == key(b"SEND")
                || k == key(b"SOML")
                || k == key(b"SAML") =>
            {
                return Err(CommandError::NotImplemented);
            }
            _ => return Err(CommandError::Unrecognized),
        })
    }

    /// Writes the command and its CRLF.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use smtp_proto::Command;
    /// let mut out = BytesMut::new();
    /// Command::Vrfy { arg: b"x\r\nRSET", smtputf8: false }.encode(&mut out).unwrap_err();
    /// Command::Bdat { size: 10, last: true }.encode(&mut out).unwrap();
    /// assert_eq!(&out[..], b"BDAT 10 LAST\r\n");
    /// ```
    ///
    /// # Errors
    ///
    /// [`EncodeError`] for CR, LF or NUL in an argument, or an argument that
    /// cannot be written; nothing is written then.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let mark = out.len();
        let r = self.encode_inner(out);
        if r.is_err() {
            out.truncate(mark);
        }
        r
    }

    fn encode_inner(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        fn word(out: &mut BytesMut, verb: &str, arg: Option<&[u8]>) -> Result<(), EncodeError> {
            out.put_slice(verb.as_bytes());
            if let Some(a) = arg {
                check_arg(a)?;
                if a.is_empty() {
                    return Err(EncodeError::Invalid("empty argument"));
                }
                // What the parser would refuse (a control byte, DEL).
                if !is_string_arg(a) {
                    return Err(EncodeError::Invalid("control byte in argument"));
                }
                out.put_u8(b' ');
                out.put_slice(a);
            }
            Ok(())
        }
        match self {
            Command::Helo { host } | Command::Ehlo { host } | Command::Lhlo { host } => {
                out.put_slice(match self {
                    Command::Helo { .. } => b"HELO ",
                    Command::Ehlo { .. } => b"EHLO ",
                    _ => b"LHLO ",
                });
                if matches!(host, Host::Domain(d) if !d.is_ascii()) {
                    return Err(EncodeError::Invalid("non-ASCII HELO/EHLO/LHLO domain"));
                }
                // RFC 5321 4.1.1.1: `helo = "HELO" SP Domain CRLF`.
                if matches!(self, Command::Helo { .. }) && !matches!(host, Host::Domain(_)) {
                    return Err(EncodeError::Invalid(
                        "HELO takes a domain, not an address literal (RFC 5321 4.1.1.1)",
                    ));
                }
                host.write_to(out)?;
            }
            Command::Mail { from, params } => {
                out.put_slice(b"MAIL FROM:<");
                if let ReversePath::Mailbox(m) = from {
                    m.write_to(out)?;
                }
                out.put_u8(b'>');
                write_mail_params(params, out)?;
            }
            Command::Rcpt { to, params } => {
                out.put_slice(b"RCPT TO:<");
                match to {
                    ForwardPath::Postmaster => out.put_slice(b"Postmaster"),
                    ForwardPath::Mailbox(m) => m.write_to(out)?,
                }
                out.put_u8(b'>');
                write_rcpt_params(params, out)?;
            }
            Command::Data => out.put_slice(b"DATA"),
            Command::Bdat { size, last } => {
                out.put_slice(format!("BDAT {size}").as_bytes());
                if *last {
                    out.put_slice(b" LAST");
                }
            }
            Command::Rset => out.put_slice(b"RSET"),
            Command::Vrfy { arg, smtputf8 } | Command::Expn { arg, smtputf8 } => {
                let verb = if matches!(self, Command::Vrfy { .. }) {
                    "VRFY"
                } else {
                    "EXPN"
                };
                // Without the flag, an argument ending in " SMTPUTF8" would
                // read back as the parameter.
                if !smtputf8 && split_smtputf8(arg).1 {
                    return Err(EncodeError::Invalid("argument ends with the SMTPUTF8 parameter"));
                }
                word(out, verb, Some(arg))?;
                if *smtputf8 {
                    out.put_slice(SP_SMTPUTF8);
                }
            }
            Command::Help { topic } => word(out, "HELP", *topic)?,
            Command::Noop { arg } => word(out, "NOOP", *arg)?,
            Command::Quit => out.put_slice(b"QUIT"),
            Command::StartTls => out.put_slice(b"STARTTLS"),
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                // Anything else (a space) would change the command.
                if !sasl::is_mechanism_name(mechanism) {
                    return Err(EncodeError::Invalid("bad SASL mechanism name"));
                }
                word(out, "AUTH", Some(mechanism))?;
                if let Some(ir) = initial_response {
                    check_arg(ir)?;
                    // RFC 4954 4: initial-response = base64 / "=". Anything
                    // else (a space and a second word) would not read back.
                    if !(ir.is_empty() || *ir == b"=" || is_base64(ir)) {
                        return Err(EncodeError::Invalid("initial response is not base64"));
                    }
                    if ir.is_empty() {
                        out.put_slice(b" =");
                    } else {
                        out.put_u8(b' ');
                        out.put_slice(ir);
                    }
                }
            }
            Command::Etrn { node } => word(out, "ETRN", Some(node))?,
            Command::Burl { args } => word(out, "BURL", Some(args))?,
        }
        out.put_slice(b"\r\n");
        Ok(())
    }
}

fn params_part<'a, T>(
    c: &Cursor<'a>,
    f: impl FnOnce(&'a [u8]) -> Result<T, CommandError>,
) -> Result<T, CommandError> {
    let rest = c.rest();
    if rest.is_empty() {
        return f(rest);
    }
    match rest.strip_prefix(b" ") {
        Some(p) if !p.is_empty() => f(p),
        _ => Err(CommandError::Syntax("bad text after the path")),
    }
}

/// base64 text as RFC 4954 uses it (RFC 4648 alphabet, padded).
pub(crate) fn is_base64(s: &[u8]) -> bool {
    !s.is_empty()
        && s.len().is_multiple_of(4)
        && s.iter().enumerate().all(|(i, &b)| {
            b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || (b == b'=' && i + 2 >= s.len())
        })
}

fn put_param(out: &mut BytesMut, k: &[u8], v: Option<&[u8]>) -> Result<(), EncodeError> {
    check_arg(k)?;
    out.put_u8(b' ');
    out.put_slice(k);
    if let Some(v) = v {
        check_arg(v)?;
        if v.is_empty() || v.contains(&b' ') || v.contains(&b'=') {
            return Err(EncodeError::Invalid("bad parameter value"));
        }
        out.put_u8(b'=');
        out.put_slice(v);
    }
    Ok(())
}

fn xtext_checked(x: XText<'_>) -> Result<&[u8], EncodeError> {
    if x.is_valid() && !x.0.is_empty() {
        Ok(x.0)
    } else {
        Err(EncodeError::Invalid("not xtext"))
    }
}

fn write_mail_params(p: &MailParams<'_>, out: &mut BytesMut) -> Result<(), EncodeError> {
    if let Some(n) = p.size {
        put_param(out, b"SIZE", Some(n.to_string().as_bytes()))?;
    }
    if let Some(b) = p.body {
        put_param(out, b"BODY", Some(b.as_str().as_bytes()))?;
    }
    if p.smtputf8 {
        put_param(out, b"SMTPUTF8", None)?;
    }
    if let Some(r) = p.ret {
        put_param(out, b"RET", Some(if r == Ret::Full { b"FULL" } else { b"HDRS" }))?;
    }
    if let Some(x) = p.envid {
        // RFC 3461 4.4: at most 100 characters (the parser's limit too).
        if x.0.len() > 100 {
            return Err(EncodeError::Invalid("ENVID longer than 100 characters"));
        }
        // RFC 3461 4.4: printable US-ASCII once decoded (as the parser has it).
        if !params::xtext_printable(xtext_checked(x)?) {
            return Err(EncodeError::Invalid("ENVID not printable US-ASCII"));
        }
        put_param(out, b"ENVID", Some(x.0))?;
    }
    if let Some(x) = p.auth {
        put_param(out, b"AUTH", Some(xtext_checked(x)?))?;
    }
    if p.requiretls {
        put_param(out, b"REQUIRETLS", None)?;
    }
    if let Some(n) = p.mt_priority {
        if !(-9..=9).contains(&n) {
            return Err(EncodeError::Invalid("MT-PRIORITY out of range"));
        }
        put_param(out, b"MT-PRIORITY", Some(n.to_string().as_bytes()))?;
    }
    write_other(&p.other, out)
}

fn write_other(o: &OtherParams<'_>, out: &mut BytesMut) -> Result<(), EncodeError> {
    check_arg(o.raw)?;
    for p in params::split_params(o.raw) {
        let (k, v) = p.map_err(|_| EncodeError::Invalid("bad parameter"))?;
        if !params::is_known(k, o.known()) {
            put_param(out, k, v)?;
        }
    }
    Ok(())
}

fn write_rcpt_params(p: &RcptParams<'_>, out: &mut BytesMut) -> Result<(), EncodeError> {
    if let Some(n) = p.notify {
        out.put_slice(b" NOTIFY=");
        n.write_to(out);
    }
    if let Some(o) = p.orcpt {
        check_arg(o.addr_type)?;
        if o.addr_type.is_empty() || !o.addr_type.iter().all(|&b| path::is_atext(b)) {
            return Err(EncodeError::Invalid("bad ORCPT type"));
        }
        out.put_slice(b" ORCPT=");
        out.put_slice(o.addr_type);
        out.put_u8(b';');
        let a = o.addr.0;
        // RFC 3461 4.2: xtext of printable US-ASCII, or for the utf-8 type
        // also RFC 6533's utf-8-addr-unitext; as the parser has it.
        if !params::valid_orcpt_addr(o.addr_type, a) {
            return Err(EncodeError::Invalid("bad ORCPT address"));
        }
        // RFC 3461 4.2: "The entire ORCPT parameter MAY be up to 500
        // characters in length" (the parser's limit for `type;xtext` too).
        if o.addr_type.len() + 1 + a.len() > 500 {
            return Err(EncodeError::Invalid("ORCPT longer than 500 characters"));
        }
        out.put_slice(a);
    }
    write_other(&p.other, out)
}

/// A line of an AUTH exchange sent by the client after a 334 challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthLine<'a> {
    /// `*`: the client cancels (RFC 4954 4).
    Cancel,
    /// base64 text (possibly empty).
    Response(&'a [u8]),
}

impl<'a> AuthLine<'a> {
    /// Parses a response line (without CRLF).
    ///
    /// # Errors
    ///
    /// Text that is neither `*` nor base64 (501 5.5.2).
    pub fn parse(line: &'a [u8]) -> Result<AuthLine<'a>, CommandError> {
        if line == b"*" {
            Ok(AuthLine::Cancel)
        } else if line.is_empty() || is_base64(line) {
            Ok(AuthLine::Response(line))
        } else {
            Err(CommandError::BadBase64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Notify, upper4};

    #[test]
    fn notify_parse_matches_a_plain_reference() {
        fn reference(v: &[u8]) -> Option<Notify> {
            let words: Vec<&[u8]> = v.split(|&b| b == b',').collect();
            if words.len() == 1 && words[0].eq_ignore_ascii_case(b"NEVER") {
                return Some(Notify::NEVER);
            }
            let mut n = Notify::default();
            for w in words {
                let slot = if w.eq_ignore_ascii_case(b"SUCCESS") {
                    &mut n.success
                } else if w.eq_ignore_ascii_case(b"FAILURE") {
                    &mut n.failure
                } else if w.eq_ignore_ascii_case(b"DELAY") {
                    &mut n.delay
                } else {
                    return None;
                };
                // A repeated keyword is valid (RFC 3461 4.1, `1#`).
                *slot = true;
            }
            Some(n)
        }
        let words: [&[u8]; 13] = [
            b"SUCCESS",
            b"success",
            b"FAILURE",
            b"fAiLuRe",
            b"DELAY",
            b"delay",
            b"NEVER",
            b"never",
            b"",
            b"SUCCES",
            b"SUCCESSS",
            b"DELAYS",
            b"\xf3UCCESS",
        ];
        let mut checked = 0;
        for a in words {
            for b in words {
                for c in words {
                    for k in 1..=3 {
                        let v = [a, b, c][..k].join(&b","[..]);
                        assert_eq!(
                            Notify::parse(&v),
                            reference(&v),
                            "{:?}",
                            String::from_utf8_lossy(&v)
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 13 * 13 * 13 * 3);
    }

    #[test]
    fn upper4_matches_per_byte_upper_case() {
        for b in 0..=255u8 {
            for pos in 0..4 {
                let mut bytes = [b'a', b'Z', b'0', 0xFF];
                bytes[pos] = b;
                let want = bytes.map(|x| x.to_ascii_uppercase());
                assert_eq!(upper4(u32::from_be_bytes(bytes)).to_be_bytes(), want, "{bytes:?}");
            }
        }
    }
}
