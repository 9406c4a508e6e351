//! Server-to-client messages: [`Reply`] (single and multi-line, RFC 5321 4.2),
//! [`EnhancedCode`] (RFC 3463, RFC 2034) and the EHLO keyword list
//! ([`EhloKeyword`], [`Capabilities`]).

use crate::error::{EncodeError, ReplyError};
use bytes::{BufMut, Bytes, BytesMut};
use proto_core::ForbiddenByte;
use std::fmt;

/// An enhanced status code `class.subject.detail` (RFC 3463 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedCode(pub u8, pub u16, pub u16);

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl EnhancedCode {
    /// Parses `class "." subject "." detail` at the start of `text`, followed by
    /// a space or the end. class is 2, 4 or 5; subject and detail have 1 to 3
    /// digits and no leading zero (RFC 3463 2: "Each numeric sub-code within
    /// the status-code MUST be expressed without leading zero digits"; `2.01.0`
    /// is text, not a code). Returns the code and the text after it.
    ///
    /// ```
    /// use smtp_proto::EnhancedCode;
    /// assert_eq!(EnhancedCode::parse_prefix(b"2.1.0 Ok"), Some((EnhancedCode(2, 1, 0), &b"Ok"[..])));
    /// assert_eq!(EnhancedCode::parse_prefix(b"2.01.0 Ok"), None);
    /// ```
    #[must_use]
    pub fn parse_prefix(text: &[u8]) -> Option<(EnhancedCode, &[u8])> {
        Self::prefix(text, true)
    }

    /// [`parse_prefix`](Self::parse_prefix), with leading zeros in subject
    /// and detail allowed when `strict` is false: the shape a lenient reader
    /// may take for a code, which the encoder keeps out of reply text.
    pub(crate) fn prefix(text: &[u8], strict: bool) -> Option<(EnhancedCode, &[u8])> {
        let class = match text.first()? {
            c @ (b'2' | b'4' | b'5') => c - b'0',
            _ => return None,
        };
        if text.get(1) != Some(&b'.') {
            return None;
        }
        let num = |s: &[u8]| -> Option<(u16, usize)> {
            let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 3 || (strict && n > 1 && s[0] == b'0') {
                return None;
            }
            Some((s[..n].iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0')), n))
        };
        let (subject, n1) = num(&text[2..])?;
        let p = 2 + n1;
        if text.get(p) != Some(&b'.') {
            return None;
        }
        let (detail, n2) = num(&text[p + 1..])?;
        let end = p + 1 + n2;
        let rest = match text.get(end) {
            None => &text[end..],
            Some(b' ') => &text[end + 1..],
            Some(_) => return None,
        };
        Some((EnhancedCode(class, subject, detail), rest))
    }
}

/// A complete reply: a code, an optional enhanced status code, and one or
/// more lines of text (the enhanced code is not part of the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    code: u16,
    enhanced: Option<EnhancedCode>,
    lines: Vec<Bytes>,
}

impl Reply {
    /// A one-line reply. `code` should be 200 to 599.
    #[must_use]
    pub fn new(code: u16, enhanced: Option<EnhancedCode>, text: &str) -> Reply {
        Reply {
            code,
            enhanced,
            lines: vec![Bytes::copy_from_slice(text.as_bytes())],
        }
    }

    /// A reply with several lines (at least one is kept, empty if none given).
    #[must_use]
    pub fn with_lines(code: u16, enhanced: Option<EnhancedCode>, lines: Vec<Bytes>) -> Reply {
        let lines = if lines.is_empty() {
            vec![Bytes::new()]
        } else {
            lines
        };
        Reply {
            code,
            enhanced,
            lines,
        }
    }

    /// The three-digit code.
    #[must_use]
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The enhanced status code, if the first line carried one.
    #[must_use]
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        self.enhanced
    }

    /// The text lines, without code and enhanced code.
    #[must_use]
    pub fn lines(&self) -> &[Bytes] {
        &self.lines
    }

    /// 2yz
    #[must_use]
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 3yz
    #[must_use]
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// 4yz
    #[must_use]
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5yz
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// Writes the reply with CRLFs; every line repeats the enhanced code (RFC 2034 3).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use smtp_proto::{EnhancedCode, Reply};
    /// let mut out = BytesMut::new();
    /// Reply::new(250, Some(EnhancedCode(2, 1, 0)), "Ok").write_to(&mut out).unwrap();
    /// assert_eq!(&out[..], b"250 2.1.0 Ok\r\n");
    /// ```
    ///
    /// Lines of any length are written; a server keeps to its
    /// [`Limits::reply_line`](crate::Limits::reply_line) with
    /// [`check`](Self::check) (the [`ServerSession`](crate::ServerSession)
    /// does so for every reply it is given).
    ///
    /// # Errors
    ///
    /// A control character in a line (CR, LF, NUL and the rest but tab; see
    /// [`check_reply_text`]), a code outside 200..=559, an enhanced code of
    /// another class, or a first line without enhanced code that starts like
    /// one of the reply's class, leading zeros or not (`2.01.0`, which RFC
    /// 3463 2 does not allow in a code but a lenient reader could take for
    /// one); nothing is written then.
    pub fn write_to(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        write_reply(self.code, self.enhanced, &self.lines, usize::MAX, out)
    }

    /// The enhanced code a server that announces ENHANCEDSTATUSCODES writes
    /// with this reply: its own, or for a 2yz, 4yz or 5yz reply without one
    /// `class.0.0` (RFC 2034 4: the codes "must appear in all 2xx, 4xx, and
    /// 5xx response lines"; RFC 3463 3.1: X.0.0 "should be used for all
    /// errors for which only the class of the error is known").
    pub(crate) fn enhanced_or_class(&self) -> Option<EnhancedCode> {
        let class = self.code / 100;
        self.enhanced
            .or_else(|| matches!(class, 2 | 4 | 5).then(|| EnhancedCode(class as u8, 0, 0)))
    }

    /// [`check`](Self::check) of the reply as a server writes it, with
    /// [`enhanced_or_class`](Self::enhanced_or_class).
    pub(crate) fn check_as_server(&self, max_line: usize) -> Result<(), EncodeError> {
        check_reply(self.code, self.enhanced_or_class(), &self.lines, max_line)
    }

    /// [`write_to`](Self::write_to) of the reply as a server writes it,
    /// with [`enhanced_or_class`](Self::enhanced_or_class), no line over
    /// `max_line` octets; nothing is written on error.
    pub(crate) fn write_as_server(&self, max_line: usize, out: &mut BytesMut) -> Result<(), EncodeError> {
        write_reply(self.code, self.enhanced_or_class(), &self.lines, max_line, out)
    }

    /// Whether [`write_to`](Self::write_to) would take this reply and write
    /// no line longer than `max_line` octets, CRLF included (RFC 5321
    /// 4.5.3.1.5: 512; a longer text needs more lines).
    ///
    /// ```
    /// use smtp_proto::{EnhancedCode, Reply};
    /// let long = "x".repeat(501); // "550 5.1.1 " + 501 + CRLF = 513 octets
    /// let r = Reply::new(550, Some(EnhancedCode(5, 1, 1)), &long);
    /// assert!(r.check(512).is_err());
    /// assert!(r.check(1024).is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// As [`write_to`](Self::write_to), and a line longer than `max_line`.
    pub fn check(&self, max_line: usize) -> Result<(), EncodeError> {
        check_reply(self.code, self.enhanced, &self.lines, max_line)
    }

    /// The encoded reply as a vector (convenience for tests and logs).
    ///
    /// # Errors
    ///
    /// As [`write_to`](Self::write_to).
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut b = BytesMut::new();
        self.write_to(&mut b)?;
        Ok(b.to_vec())
    }

    /// Parses one complete reply from the start of `input` (CRLF-terminated
    /// lines). `Ok(None)` means the reply is not complete yet. Returns the reply
    /// and how many bytes it used.
    ///
    /// ```
    /// use smtp_proto::Reply;
    /// let (r, used) = Reply::parse(b"250-mx.test\r\n250 SIZE 1000\r\nX").unwrap().unwrap();
    /// assert_eq!((r.code(), r.lines().len(), used), (250, 2, 28));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ReplyError`] for a malformed line or inconsistent codes.
    pub fn parse(input: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
        let mut p = ReplyParser::new(usize::MAX, usize::MAX);
        let mut pos = 0;
        while let Some(i) = memchr::memchr(b'\n', &input[pos..]) {
            let end = pos + i;
            let line = input[pos..end].strip_suffix(b"\r").ok_or(ReplyError::Malformed)?;
            pos = end + 1;
            if let Some(r) = p.push_line(&Bytes::copy_from_slice(line))? {
                return Ok(Some((r, pos)));
            }
        }
        Ok(None)
    }
}

/// Whether a reply made of these parts can be written: a code in 200..=559,
/// an enhanced code of the same class, no control character in the text, a first
/// line that cannot be mistaken for an enhanced code, and no line longer than
/// `max_line` octets once written (code, separator, enhanced code and CRLF
/// included; RFC 5321 4.5.3.1.5 allows 512).
pub(crate) fn check_reply<L: AsRef<[u8]>>(
    code: u16,
    enhanced: Option<EnhancedCode>,
    lines: &[L],
    max_line: usize,
) -> Result<(), EncodeError> {
    if !(200..=599).contains(&code) || code % 100 > 59 {
        return Err(EncodeError::Invalid("reply code out of range"));
    }
    if let Some(e) = enhanced
        && (u16::from(e.0) != code / 100 || !matches!(e.0, 2 | 4 | 5) || e.1 > 999 || e.2 > 999)
    {
        return Err(EncodeError::Invalid(
            "enhanced code does not match the reply code",
        ));
    }
    let n = lines.len();
    for (i, l) in lines.iter().enumerate() {
        let l = l.as_ref();
        check_reply_text(l)?;
        if line_len(enhanced, l, i + 1 == n) > max_line {
            return Err(EncodeError::Invalid("reply line longer than the limit"));
        }
    }
    // Without an enhanced code, a first line that starts like one of this
    // class would be read back as one (RFC 2034 4): refused, so that what is
    // written parses back to the same reply. So is one with leading zeros
    // (`2.01.0`): not a code by RFC 3463 2, so this crate reads it as text,
    // but a less strict reader would take it for one.
    if enhanced.is_none()
        && let Some(first) = lines.first()
        && let Some((e, _)) = EnhancedCode::prefix(first.as_ref(), false)
        && u16::from(e.0) == code / 100
    {
        return Err(EncodeError::Invalid(
            "reply text starts like an enhanced status code; give it as the enhanced code",
        ));
    }
    Ok(())
}

/// The length of one written reply line, CRLF included (see `write_reply`).
fn line_len(enhanced: Option<EnhancedCode>, text: &[u8], last: bool) -> usize {
    fn digits(n: u16) -> usize {
        1 + usize::from(n >= 10) + usize::from(n >= 100)
    }
    let head = match (enhanced, text.is_empty()) {
        (None, true) => usize::from(!last),
        (None, false) => 1,
        (Some(e), empty) => {
            1 + digits(u16::from(e.0)) + 1 + digits(e.1) + 1 + digits(e.2) + usize::from(!empty)
        }
    };
    3 + head + text.len() + 2
}

/// [`Reply::write_to`] from the parts of a reply, so that a server can send
/// a fixed text without building a [`Reply`] (no allocation). `lines` must not
/// be empty. Nothing is written unless [`check_reply`] passes with `max_line`.
pub(crate) fn write_reply<L: AsRef<[u8]>>(
    code: u16,
    enhanced: Option<EnhancedCode>,
    lines: &[L],
    max_line: usize,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    check_reply(code, enhanced, lines, max_line)?;
    let n = lines.len();
    // The code is 200..=559 (checked above): three digits, written
    // without `fmt` or a temporary `String` (a server encodes a reply
    // for nearly every command).
    let digits = [
        b'0' + (code / 100) as u8,
        b'0' + (code / 10 % 10) as u8,
        b'0' + (code % 10) as u8,
    ];
    for (i, l) in lines.iter().enumerate() {
        let l = l.as_ref();
        out.put_slice(&digits);
        let sep = if i + 1 == n { b' ' } else { b'-' };
        match (enhanced, l.is_empty()) {
            (None, true) => {
                if sep == b'-' {
                    out.put_u8(b'-');
                }
            }
            (None, false) => {
                out.put_u8(sep);
                out.put_slice(l);
            }
            (Some(e), empty) => {
                out.put_u8(sep);
                put_enhanced(out, e);
                if !empty {
                    out.put_u8(b' ');
                    out.put_slice(l);
                }
            }
        }
        out.put_slice(b"\r\n");
    }
    Ok(())
}

/// Writes `class.subject.detail` (each at most 999, checked by the caller).
fn put_enhanced(out: &mut BytesMut, e: EnhancedCode) {
    fn num(out: &mut BytesMut, n: u16) {
        if n >= 100 {
            out.put_u8(b'0' + (n / 100) as u8);
        }
        if n >= 10 {
            out.put_u8(b'0' + (n / 10 % 10) as u8);
        }
        out.put_u8(b'0' + (n % 10) as u8);
    }
    num(out, u16::from(e.0));
    out.put_u8(b'.');
    num(out, e.1);
    out.put_u8(b'.');
    num(out, e.2);
}

/// One parsed reply line: code, whether it is the last line, and the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLine<'a> {
    /// The code.
    pub code: u16,
    /// True for `code SP text`, false for `code "-" text`.
    pub last: bool,
    /// The text after the separator.
    pub text: &'a [u8],
}

impl<'a> ReplyLine<'a> {
    /// Parses `Reply-code [ ( SP / "-" ) textstring ]` (RFC 5321 4.2), no CRLF.
    ///
    /// # Errors
    ///
    /// [`ReplyError::Malformed`] or [`ReplyError::BadCode`].
    pub fn parse(line: &'a [u8]) -> Result<ReplyLine<'a>, ReplyError> {
        let d = match line.get(..3) {
            Some(&[a, b, c]) if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => [a, b, c],
            _ => return Err(ReplyError::Malformed),
        };
        if !(b'2'..=b'5').contains(&d[0]) || d[1] > b'5' {
            return Err(ReplyError::BadCode);
        }
        let code = d.iter().fold(0u16, |a, &x| a * 10 + u16::from(x - b'0'));
        let (last, text) = match line.get(3) {
            None => (true, &line[3..]),
            Some(b' ') => (true, &line[4..]),
            Some(b'-') => (false, &line[4..]),
            Some(_) => return Err(ReplyError::Malformed),
        };
        if text.contains(&0) || text.contains(&b'\r') {
            return Err(ReplyError::Malformed);
        }
        Ok(ReplyLine { code, last, text })
    }
}

/// Assembles multi-line replies line by line, checking that every line has
/// the same code (RFC 5321 4.2.1).
#[derive(Debug, Clone)]
pub struct ReplyParser {
    code: Option<u16>,
    enhanced: Option<EnhancedCode>,
    lines: Vec<Bytes>,
    max_lines: usize,
    max_line: usize,
}

impl ReplyParser {
    /// A parser accepting at most `max_lines` lines of at most `max_line` bytes each.
    #[must_use]
    pub fn new(max_lines: usize, max_line: usize) -> Self {
        ReplyParser {
            code: None,
            enhanced: None,
            lines: Vec::new(),
            max_lines,
            max_line,
        }
    }

    /// Feeds one line (no CRLF). Returns the reply when `line` was its last line.
    ///
    /// # Errors
    ///
    /// [`ReplyError`]; the parser is reset and the reply dropped.
    pub fn push_line(&mut self, line: &Bytes) -> Result<Option<Reply>, ReplyError> {
        let r = self.push_inner(line);
        if r.is_err() {
            self.reset();
        }
        let (last, start, end) = r?;
        self.lines.push(line.slice(start..end));
        if !last {
            return Ok(None);
        }
        let reply = Reply {
            code: self.code.unwrap_or(0),
            enhanced: self.enhanced,
            lines: std::mem::take(&mut self.lines),
        };
        self.reset();
        Ok(Some(reply))
    }

    fn push_inner(&mut self, line: &Bytes) -> Result<(bool, usize, usize), ReplyError> {
        if line.len() + 2 > self.max_line {
            return Err(ReplyError::TooLong);
        }
        let l = ReplyLine::parse(line)?;
        let mut text = l.text;
        match self.code {
            None => {
                self.code = Some(l.code);
                if let Some((e, rest)) = EnhancedCode::parse_prefix(text)
                    && u16::from(e.0) == l.code / 100
                {
                    self.enhanced = Some(e);
                    text = rest;
                }
            }
            Some(c) if c != l.code => return Err(ReplyError::InconsistentCode),
            Some(_) => {
                if let Some(e) = self.enhanced
                    && let Some((e2, rest)) = EnhancedCode::parse_prefix(text)
                    && e2 == e
                {
                    text = rest;
                }
            }
        }
        if self.lines.len() >= self.max_lines {
            return Err(ReplyError::TooManyLines);
        }
        let start = text.as_ptr() as usize - line.as_ptr() as usize;
        Ok((l.last, start, start + text.len()))
    }

    /// Drops a partly assembled reply.
    pub fn reset(&mut self) {
        self.code = None;
        self.enhanced = None;
        self.lines.clear();
    }

    /// True while a multi-line reply is being assembled.
    #[must_use]
    pub fn in_progress(&self) -> bool {
        self.code.is_some()
    }
}

macro_rules! keywords {
    ($( $(#[$m:meta])* $v:ident = $s:literal ),* $(,)?) => {
        /// An EHLO keyword: every SMTP service extension in the IANA registry
        /// ("Mail Parameters", SMTP Service Extensions), by its full name.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EhloKeyword {
            $( $(#[$m])* $v, )*
            /// A keyword this crate does not know (kept as sent).
            Other(Bytes),
        }

        impl EhloKeyword {
            const KNOWN: &'static [(&'static str, EhloKeyword)] = &[ $( ($s, EhloKeyword::$v), )* ];

            /// The keyword as written in an EHLO reply.
            #[must_use]
            pub fn name(&self) -> &[u8] {
                match self {
                    $( EhloKeyword::$v => $s.as_bytes(), )*
                    EhloKeyword::Other(b) => b,
                }
            }
        }
    };
}

keywords! {
    /// SEND (RFC 821)
    Send = "SEND",
    /// SOML (RFC 821)
    Soml = "SOML",
    /// SAML (RFC 821)
    Saml = "SAML",
    /// VRFY (RFC 5321)
    Vrfy = "VRFY",
    /// EXPN (RFC 5321)
    Expn = "EXPN",
    /// HELP (RFC 5321)
    Help = "HELP",
    /// TURN (RFC 821)
    Turn = "TURN",
    /// 8BITMIME (RFC 6152)
    EightBitMime = "8BITMIME",
    /// SIZE (RFC 1870)
    Size = "SIZE",
    /// VERB (Sendmail)
    Verb = "VERB",
    /// ONEX (Sendmail)
    Onex = "ONEX",
    /// CHUNKING (RFC 3030)
    Chunking = "CHUNKING",
    /// BINARYMIME (RFC 3030)
    BinaryMime = "BINARYMIME",
    /// CHECKPOINT (RFC 1845)
    Checkpoint = "CHECKPOINT",
    /// DELIVERBY (RFC 2852)
    DeliverBy = "DELIVERBY",
    /// PIPELINING (RFC 2920)
    Pipelining = "PIPELINING",
    /// DSN (RFC 3461)
    Dsn = "DSN",
    /// ETRN (RFC 1985)
    Etrn = "ETRN",
    /// ENHANCEDSTATUSCODES (RFC 2034)
    EnhancedStatusCodes = "ENHANCEDSTATUSCODES",
    /// STARTTLS (RFC 3207)
    StartTls = "STARTTLS",
    /// NO-SOLICITING (RFC 3865)
    NoSoliciting = "NO-SOLICITING",
    /// MTRK (RFC 3885)
    Mtrk = "MTRK",
    /// SUBMITTER (RFC 4405)
    Submitter = "SUBMITTER",
    /// AUTH (RFC 4954)
    Auth = "AUTH",
    /// ATRN (RFC 2645)
    Atrn = "ATRN",
    /// BURL (RFC 4468)
    Burl = "BURL",
    /// FUTURERELEASE (RFC 4865)
    FutureRelease = "FUTURERELEASE",
    /// CONPERM (RFC 4141)
    ConPerm = "CONPERM",
    /// CONNEG (RFC 4141)
    ConNeg = "CONNEG",
    /// SMTPUTF8 (RFC 6531)
    SmtpUtf8 = "SMTPUTF8",
    /// UTF8SMTP (RFC 5336, historic)
    Utf8Smtp = "UTF8SMTP",
    /// MT-PRIORITY (RFC 6710)
    MtPriority = "MT-PRIORITY",
    /// RRVS (RFC 7293)
    Rrvs = "RRVS",
    /// REQUIRETLS (RFC 8689)
    RequireTls = "REQUIRETLS",
    /// LIMITS (RFC 9422)
    Limits = "LIMITS",
}

impl EhloKeyword {
    /// Recognises a keyword, case-insensitively and in full.
    #[must_use]
    pub fn from_bytes(k: &[u8]) -> EhloKeyword {
        EhloKeyword::KNOWN
            .iter()
            .find(|(s, _)| k.eq_ignore_ascii_case(s.as_bytes()))
            .map_or_else(
                || EhloKeyword::Other(Bytes::copy_from_slice(k)),
                |(_, kw)| kw.clone(),
            )
    }
}

/// One extension line of an EHLO reply: keyword and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The keyword.
    pub keyword: EhloKeyword,
    /// The parameters (space-separated words after the keyword).
    pub params: Vec<Bytes>,
}

/// What a server announced in its EHLO (or LHLO) reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// The first line: the server's domain and greeting text.
    pub greeting: Bytes,
    /// The extension lines, in order.
    pub extensions: Vec<Extension>,
}

impl Capabilities {
    /// Reads the extension list from a 250 EHLO reply (RFC 5321 4.1.1.1:
    /// `ehlo-line = ehlo-keyword *( SP ehlo-param )`). Lines whose keyword
    /// is not valid are skipped, except the old `AUTH=LOGIN PLAIN` form,
    /// read as `AUTH LOGIN PLAIN`. Parameters are the words between
    /// spaces, kept as sent.
    #[must_use]
    pub fn from_reply(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities {
            greeting: reply.lines().first().cloned().unwrap_or_default(),
            extensions: Vec::new(),
        };
        for line in reply.lines().iter().skip(1) {
            let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
            let Some(kw) = words.next() else { continue };
            // ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
            if !is_ehlo_keyword(kw) {
                // Old servers send "AUTH=LOGIN PLAIN": treat as AUTH (the
                // keyword in any case, RFC 5321 2.4; "AUTH=" alone names no
                // mechanism).
                if kw.len() >= 5 && kw[..5].eq_ignore_ascii_case(b"AUTH=") {
                    let rest = &kw[5..];
                    let mut params = Vec::new();
                    if !rest.is_empty() {
                        params.push(Bytes::copy_from_slice(rest));
                    }
                    params.extend(words.map(Bytes::copy_from_slice));
                    caps.extensions.push(Extension {
                        keyword: EhloKeyword::Auth,
                        params,
                    });
                }
                continue;
            }
            caps.extensions.push(Extension {
                keyword: EhloKeyword::from_bytes(kw),
                params: words.map(Bytes::copy_from_slice).collect(),
            });
        }
        caps
    }

    /// The extension line for `kw`, if announced.
    #[must_use]
    pub fn get(&self, kw: &EhloKeyword) -> Option<&Extension> {
        self.extensions.iter().find(|e| &e.keyword == kw)
    }

    /// True if `kw` was announced.
    #[must_use]
    pub fn has(&self, kw: &EhloKeyword) -> bool {
        self.get(kw).is_some()
    }

    /// The SIZE limit: `Some(0)` or `Some(n)` when SIZE was announced (0 = no fixed limit).
    #[must_use]
    pub fn size(&self) -> Option<u64> {
        let e = self.get(&EhloKeyword::Size)?;
        Some(
            e.params
                .first()
                .and_then(|p| crate::parse::parse_u64(p))
                .unwrap_or(0),
        )
    }

    /// The SASL mechanisms of all AUTH lines.
    #[must_use]
    pub fn auth_mechanisms(&self) -> Vec<&[u8]> {
        self.extensions
            .iter()
            .filter(|e| e.keyword == EhloKeyword::Auth)
            .flat_map(|e| e.params.iter().map(|p| &p[..]))
            .collect()
    }

    /// Builds the 250 reply announcing these capabilities, such that
    /// [`from_reply`](Self::from_reply) of it gives them back equal.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use smtp_proto::{Capabilities, EhloKeyword, Extension};
    /// let caps = Capabilities {
    ///     greeting: Bytes::from_static(b"mx.example.test"),
    ///     extensions: vec![Extension {
    ///         keyword: EhloKeyword::Auth,
    ///         params: vec![Bytes::from_static(b"PLAIN"), Bytes::from_static(b"LOGIN")],
    ///     }],
    /// };
    /// let r = caps.to_reply().unwrap();
    /// assert_eq!(r.to_vec().unwrap(), b"250-mx.example.test\r\n250 AUTH PLAIN LOGIN\r\n");
    /// assert_eq!(Capabilities::from_reply(&r), caps);
    /// ```
    ///
    /// # Errors
    ///
    /// [`EncodeError::Invalid`] for what the reply cannot carry (RFC 5321
    /// 4.1.1.1: `ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`,
    /// `ehlo-param = 1*(%d33-126)`): a parameter that is empty or holds a
    /// space, a control character or a non-ASCII octet (it would come back
    /// split, or not at all); an [`EhloKeyword::Other`] that is not an
    /// ehlo-keyword or that names a known keyword (it would come back as
    /// the typed one); and a greeting the reply encoder refuses (CR, LF or
    /// NUL, or text that starts like an enhanced status code; see
    /// [`Reply::write_to`]).
    pub fn to_reply(&self) -> Result<Reply, EncodeError> {
        let mut lines = vec![self.greeting.clone()];
        for e in &self.extensions {
            let name = e.keyword.name();
            if let EhloKeyword::Other(k) = &e.keyword
                && (!is_ehlo_keyword(k) || !matches!(EhloKeyword::from_bytes(k), EhloKeyword::Other(_)))
            {
                return Err(EncodeError::Invalid(
                    "EHLO keyword not in the ehlo-keyword grammar, or a known keyword given as Other",
                ));
            }
            let mut l = BytesMut::from(name);
            for p in &e.params {
                if p.is_empty() || !p.iter().all(|b| (33..=126).contains(b)) {
                    return Err(EncodeError::Invalid(
                        "EHLO parameter empty or not printable US-ASCII without spaces",
                    ));
                }
                l.put_u8(b' ');
                l.put_slice(p);
            }
            lines.push(l.freeze());
        }
        let r = Reply::with_lines(250, None, lines);
        r.check(usize::MAX)?;
        Ok(r)
    }
}

/// `ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")` (RFC 5321 4.1.1.1).
fn is_ehlo_keyword(k: &[u8]) -> bool {
    k.first().is_some_and(u8::is_ascii_alphanumeric)
        && k.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Reply text is `textstring = 1*(%d09 / %d32-126)` (RFC 5321 4.2): the
/// encoder refuses every control character but tab, DEL included, so an
/// application's text (an error message, a name it quotes) cannot carry a
/// terminal escape or a line break to the client. Octets above 127 go
/// through: the UTF-8 text an SMTPUTF8 server may send (RFC 6531 3.7.4).
/// Received replies are read more liberally: the parser keeps such bytes.
///
/// # Errors
///
/// The first forbidden octet and where it is.
pub fn check_reply_text(text: &[u8]) -> Result<(), ForbiddenByte> {
    match text.iter().position(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        Some(offset) => Err(ForbiddenByte {
            byte: text[offset],
            offset,
        }),
        None => Ok(()),
    }
}
