//! Server-to-client messages: status lines with response codes, SASL
//! continuations, and the typed lines of multi-line listings (scan listings,
//! unique-id listings, capabilities, languages).
//!
//! A response's meaning depends on the command it answers (RFC 1939 section 3),
//! so these types parse *lines*; the [`ClientSession`](crate::ClientSession)
//! picks the parser by the command it sent. Multi-line bodies end with a line
//! holding only "." and have one leading "." removed from every other line
//! that starts with one.

use crate::error::{EncodeError, ResponseError, head};
use crate::parse::{base64_decode, base64_encode, is_token, leading_number, number_pair, split_sp};
use bytes::{BufMut, Bytes, BytesMut};
use proto_core::check_arg;

/// `+OK` or `-ERR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `+OK`.
    Ok,
    /// `-ERR`.
    Err,
}

/// An extended response code (RFC 2449 section 8, RFC 3206, RFC 6856 section 5):
/// the bracketed word after the status.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseCode {
    /// `[IN-USE]`: the maildrop is locked by another session (RFC 2449 8.1.1).
    InUse,
    /// `[LOGIN-DELAY]`: the user logged in too recently (RFC 2449 8.1.2).
    LoginDelay,
    /// `[SYS/TEMP]`: a temporary system problem (RFC 3206 4).
    SysTemp,
    /// `[SYS/PERM]`: a permanent system problem (RFC 3206 4).
    SysPerm,
    /// `[AUTH]`: the credentials were wrong (RFC 3206 5).
    Auth,
    /// `[UTF8]`: the request needs UTF-8 mode (RFC 6856 5).
    Utf8,
    /// Any other code, as sent (without brackets).
    Other(Bytes),
}

impl ResponseCode {
    /// Parses the text between the brackets. A known code followed by
    /// further levels (`SYS/TEMP/DISK`) is that code: RFC 2449 8, "Clients
    /// MUST ignore unknown hierarchical detail about the response code".
    #[must_use]
    pub fn from_bytes(code: &Bytes) -> ResponseCode {
        let known: [(&[u8], ResponseCode); 6] = [
            (b"IN-USE", ResponseCode::InUse),
            (b"LOGIN-DELAY", ResponseCode::LoginDelay),
            (b"SYS/TEMP", ResponseCode::SysTemp),
            (b"SYS/PERM", ResponseCode::SysPerm),
            (b"AUTH", ResponseCode::Auth),
            (b"UTF8", ResponseCode::Utf8),
        ];
        known
            .into_iter()
            .find(|(k, _)| {
                code.len() >= k.len()
                    && code[..k.len()].eq_ignore_ascii_case(k)
                    && matches!(code.get(k.len()), None | Some(b'/'))
            })
            .map_or_else(|| ResponseCode::Other(code.clone()), |(_, c)| c)
    }

    /// The code as written between the brackets.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            ResponseCode::InUse => b"IN-USE",
            ResponseCode::LoginDelay => b"LOGIN-DELAY",
            ResponseCode::SysTemp => b"SYS/TEMP",
            ResponseCode::SysPerm => b"SYS/PERM",
            ResponseCode::Auth => b"AUTH",
            ResponseCode::Utf8 => b"UTF8",
            ResponseCode::Other(b) => b,
        }
    }
}

/// RFC 2449 section 3: `resp-code = "[" resp-level *("/" resp-level) "]"`,
/// `resp-level = 1*rchar`, `rchar = %x21-2E / %x30-5C / %x5E-7F`.
fn is_resp_code(s: &[u8]) -> bool {
    !s.is_empty()
        && s.split(|&b| b == b'/')
            .all(|lvl| !lvl.is_empty() && lvl.iter().all(|&b| (0x21..=0x7f).contains(&b) && b != b']'))
}

/// The first line of a response: status, optional response code, text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// `+OK` or `-ERR`.
    pub status: Status,
    /// The bracketed response code, if any.
    pub code: Option<ResponseCode>,
    /// The rest of the line; any bytes, not necessarily UTF-8.
    pub text: Bytes,
}

impl StatusLine {
    /// A `+OK` line with text.
    #[must_use]
    pub fn ok(text: impl Into<Bytes>) -> StatusLine {
        StatusLine {
            status: Status::Ok,
            code: None,
            text: text.into(),
        }
    }

    /// A `-ERR` line with an optional code and text.
    #[must_use]
    pub fn err(code: Option<ResponseCode>, text: impl Into<Bytes>) -> StatusLine {
        StatusLine {
            status: Status::Err,
            code,
            text: text.into(),
        }
    }

    /// True for `+OK`.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// Parses a status line (without CRLF). `+OK`/`-ERR` are matched
    /// case-insensitively (RFC 2449 ABNF strings); a code is recognised only
    /// when it is bracketed directly after the status and its space.
    ///
    /// # Errors
    ///
    /// [`ResponseError::NoStatus`] if the line starts with neither status.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use pop3_proto::{ResponseCode, Status, StatusLine};
    /// let l = StatusLine::parse(&Bytes::from_static(b"-ERR [IN-USE] maildrop locked")).unwrap();
    /// assert_eq!(l.status, Status::Err);
    /// assert_eq!(l.code, Some(ResponseCode::InUse));
    /// assert_eq!(l.text, "maildrop locked");
    /// ```
    pub fn parse(line: &Bytes) -> Result<StatusLine, ResponseError> {
        let (st, rest) = split_sp(line);
        let status = if st.eq_ignore_ascii_case(b"+OK") {
            Status::Ok
        } else if st.eq_ignore_ascii_case(b"-ERR") {
            Status::Err
        } else {
            return Err(ResponseError::NoStatus { line: head(line, 64) });
        };
        let Some(rest) = rest else {
            return Ok(StatusLine {
                status,
                code: None,
                text: Bytes::new(),
            });
        };
        let at = st.len() + 1;
        if rest.first() == Some(&b'[')
            && let Some(close) = memchr::memchr(b']', rest)
            && is_resp_code(&rest[1..close])
        {
            let code = ResponseCode::from_bytes(&line.slice(at + 1..at + close));
            let mut t = at + close + 1;
            if line.get(t) == Some(&b' ') {
                t += 1;
            }
            return Ok(StatusLine {
                status,
                code: Some(code),
                text: line.slice(t..),
            });
        }
        Ok(StatusLine {
            status,
            code: None,
            text: line.slice(at..),
        })
    }

    /// Writes the line with its CRLF.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if the text or code holds CR, LF or NUL, the code is
    /// not a valid response code, or the text starts with "[" without a code
    /// (it would read back as one).
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        check_arg(&self.text).map_err(|source| EncodeError::Forbidden { what: "text", source })?;
        if let Some(code) = &self.code {
            if !is_resp_code(code.as_bytes()) {
                return Err(EncodeError::Invalid {
                    what: "response code",
                });
            }
        } else if self.text.first() == Some(&b'[') {
            return Err(EncodeError::Invalid {
                what: "text starting with '['",
            });
        }
        out.put_slice(match self.status {
            Status::Ok => b"+OK",
            Status::Err => b"-ERR",
        });
        if let Some(code) = &self.code {
            out.put_slice(b" [");
            out.put_slice(code.as_bytes());
            out.put_u8(b']');
        }
        if !self.text.is_empty() {
            out.put_u8(b' ');
            out.put_slice(&self.text);
        }
        out.put_slice(b"\r\n");
        Ok(())
    }

    /// The APOP timestamp of a greeting (RFC 1939 section 7): the first
    /// `<...>` holding an "@", angle brackets included. The timestamp has the
    /// syntax of an RFC 822 `msg-id` (`"<" addr-spec ">"`), so bracketed text
    /// before it without an "@" (`<welcome>`) is skipped, not taken as the
    /// end of the search.
    #[must_use]
    pub fn apop_timestamp(&self) -> Option<Bytes> {
        memchr::memchr_iter(b'<', &self.text).find_map(|start| {
            let end = start + memchr::memchr(b'>', &self.text[start..])?;
            let inner = &self.text[start + 1..end];
            (inner.contains(&b'@') && inner.iter().all(|&b| (0x21..=0x7e).contains(&b) && b != b'<'))
                .then(|| self.text.slice(start..=end))
        })
    }
}

/// One line from the server as seen by a client: a status line or a SASL
/// continuation request (`"+" SP [base64]`, RFC 5034 section 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerLine {
    /// `+OK ...` / `-ERR ...`.
    Status(StatusLine),
    /// `+ challenge`: the decoded challenge bytes (empty for "+ ").
    Continue(Bytes),
}

impl ServerLine {
    /// Parses a line in an AUTH exchange.
    ///
    /// # Errors
    ///
    /// [`ResponseError`] for a line that is neither, or a challenge that is
    /// not strict base64. A bare "+" is accepted as an empty challenge.
    pub fn parse(line: &Bytes) -> Result<ServerLine, ResponseError> {
        if line.as_ref() == b"+" {
            return Ok(ServerLine::Continue(Bytes::new()));
        }
        if let Some(b64) = line.strip_prefix(b"+ ") {
            return base64_decode(b64)
                .map(|v| ServerLine::Continue(Bytes::from(v)))
                .ok_or_else(|| ResponseError::Malformed {
                    what: "SASL challenge",
                    line: head(line, 64),
                });
        }
        StatusLine::parse(line).map(ServerLine::Status)
    }

    /// Writes a continuation request `+ base64` with its CRLF.
    pub fn encode_continue(challenge: &[u8], out: &mut BytesMut) {
        out.put_slice(b"+ ");
        out.put_slice(base64_encode(challenge).as_bytes());
        out.put_slice(b"\r\n");
    }
}

fn malformed(what: &'static str, line: &[u8]) -> ResponseError {
    ResponseError::Malformed {
        what,
        line: Bytes::copy_from_slice(&line[..line.len().min(64)]),
    }
}

/// The drop listing of a `+OK` answer to STAT (RFC 1939 section 5):
/// `count SP size`, possibly followed by more text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatInfo {
    /// Messages in the maildrop (not marked deleted).
    pub count: u32,
    /// Their total size in octets.
    pub size: u64,
}

impl StatInfo {
    /// Parses the text after `+OK `.
    ///
    /// # Errors
    ///
    /// [`ResponseError::Malformed`] if the text does not start with two numbers.
    pub fn parse(text: &[u8]) -> Result<StatInfo, ResponseError> {
        match number_pair(text) {
            Some((count, size)) => Ok(StatInfo { count, size }),
            None => Err(malformed("drop listing", text)),
        }
    }
}

/// A scan listing (RFC 1939 section 5, LIST): `msg SP size`, optional trailing text ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScanListing {
    /// Message number.
    pub msg: u32,
    /// Size in octets.
    pub size: u64,
}

impl ScanListing {
    /// Parses a listing line (or the text of a single-line `LIST n` answer).
    ///
    /// # Errors
    ///
    /// [`ResponseError::Malformed`] if it does not start with two numbers.
    #[inline]
    pub fn parse(line: &[u8]) -> Result<ScanListing, ResponseError> {
        match number_pair(line) {
            Some((msg, size)) => Ok(ScanListing { msg, size }),
            None => Err(malformed("scan listing", line)),
        }
    }

    /// Writes `msg size` CRLF.
    pub fn encode(&self, out: &mut BytesMut) {
        use std::fmt::Write as _;
        let _ = write!(out, "{} {}\r\n", self.msg, self.size);
    }
}

/// A unique-id listing (RFC 1939 section 7, UIDL): `msg SP uid`, where the
/// uid is 1 to 70 characters in 0x21..0x7E.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UidListing {
    /// Message number.
    pub msg: u32,
    /// The unique id.
    pub uid: Uid,
}

/// A POP3 unique id (RFC 1939 section 7), as bytes: a
/// [`SmallBytes`](proto_core::SmallBytes).
///
/// An id of up to 38 bytes (all the common server formats) is held inline,
/// so a listing of many thousands of them makes no allocation and no
/// reference count per entry; a longer one (RFC 1939 allows 70, and some
/// servers send more) is a zero-copy slice of the line when parsed.
/// Equality, ordering and hashing are those of the bytes, and
/// [`Borrow<[u8]>`](std::borrow::Borrow) lets a set of `Uid`s be searched
/// with a slice.
pub type Uid = proto_core::SmallBytes;

/// True if `uid` is a valid RFC 1939 unique id.
#[must_use]
pub fn is_valid_uid(uid: &[u8]) -> bool {
    (1..=70).contains(&uid.len()) && is_token(uid)
}

impl UidListing {
    /// Parses a listing line (or the text of a single-line `UIDL n` answer).
    /// Uids longer than 70 characters are accepted on input (servers exist that
    /// send them) but must still be visible ASCII.
    ///
    /// # Errors
    ///
    /// [`ResponseError::Malformed`] for a line that is not `number SP token`.
    #[inline]
    pub fn parse(line: &Bytes) -> Result<UidListing, ResponseError> {
        let bad = || malformed("unique-id listing", line);
        let (msg, i) = leading_number(line, 10).ok_or_else(bad)?;
        let msg = u32::try_from(msg).map_err(|_| bad())?;
        if line.get(i) != Some(&b' ') {
            return Err(bad());
        }
        let start = i + 1;
        let len = line[start..]
            .iter()
            .position(|&b| !(0x21..=0x7e).contains(&b))
            .unwrap_or(line.len() - start);
        if len == 0 || line.get(start + len).is_some_and(|&b| b != b' ') {
            return Err(bad());
        }
        Ok(UidListing {
            msg,
            uid: Uid::slice_of(line, start..start + len),
        })
    }

    /// Writes `msg uid` CRLF.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Invalid`] if the uid is not 1..70 visible characters.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        use std::fmt::Write as _;
        if !is_valid_uid(&self.uid) {
            return Err(EncodeError::Invalid { what: "unique id" });
        }
        let _ = write!(out, "{} ", self.msg);
        out.put_slice(&self.uid);
        out.put_slice(b"\r\n");
        Ok(())
    }
}

/// A language listing of `LANG` (RFC 6856 section 3): tag, optional description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageListing {
    /// The language tag.
    pub tag: Bytes,
    /// The description (UTF-8 by the RFC; kept as bytes).
    pub description: Bytes,
}

impl LanguageListing {
    /// Parses a listing line.
    ///
    /// # Errors
    ///
    /// [`ResponseError::Malformed`] for an empty tag.
    pub fn parse(line: &Bytes) -> Result<LanguageListing, ResponseError> {
        let (tag, rest) = split_sp(line);
        if !is_token(tag) {
            return Err(malformed("language listing", line));
        }
        Ok(LanguageListing {
            tag: line.slice(..tag.len()),
            description: rest.map_or_else(Bytes::new, |_| line.slice(tag.len() + 1..)),
        })
    }
}

/// The capabilities of a server, from a CAPA answer (RFC 2449 section 6,
/// RFC 2595 section 4, RFC 3206 section 6, RFC 5034 section 3, RFC 6856).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `TOP`.
    pub top: bool,
    /// `USER`.
    pub user: bool,
    /// `SASL mech ...`: the mechanism names.
    pub sasl: Vec<Bytes>,
    /// `RESP-CODES`.
    pub resp_codes: bool,
    /// `AUTH-RESP-CODE` (RFC 3206).
    pub auth_resp_code: bool,
    /// `LOGIN-DELAY n [USER]`: the argument text.
    pub login_delay: Option<Bytes>,
    /// `PIPELINING`.
    pub pipelining: bool,
    /// `EXPIRE policy [USER]`: the argument text.
    pub expire: Option<Bytes>,
    /// `UIDL`.
    pub uidl: bool,
    /// `IMPLEMENTATION text`.
    pub implementation: Option<Bytes>,
    /// `STLS`.
    pub stls: bool,
    /// `UTF8 [USER]`: `Some(true)` when the USER argument is present.
    pub utf8: Option<bool>,
    /// `LANG`.
    pub lang: bool,
    /// Any other capability line, as sent.
    pub other: Vec<Bytes>,
}

/// The capability tags with a field of their own in [`Capabilities`]: the
/// ones [`Capabilities::add_line`] does not keep in `other`.
const TYPED_TAGS: [&[u8]; 13] = [
    b"TOP",
    b"USER",
    b"SASL",
    b"RESP-CODES",
    b"AUTH-RESP-CODE",
    b"LOGIN-DELAY",
    b"PIPELINING",
    b"EXPIRE",
    b"UIDL",
    b"IMPLEMENTATION",
    b"STLS",
    b"UTF8",
    b"LANG",
];

impl Capabilities {
    /// Adds one capability line of a CAPA listing.
    pub fn add_line(&mut self, line: &Bytes) {
        let (name, args) = split_sp(line);
        let args_bytes = || args.map_or_else(Bytes::new, |_| line.slice(name.len() + 1..));
        let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
        if is(b"TOP") {
            self.top = true;
        } else if is(b"USER") {
            self.user = true;
        } else if is(b"SASL") {
            let a = args_bytes();
            self.sasl.extend(
                a.split(|&b| b == b' ')
                    .filter(|m| sasl::is_mechanism_name(m))
                    .map(|m| a.slice_ref(m)),
            );
        } else if is(b"RESP-CODES") {
            self.resp_codes = true;
        } else if is(b"AUTH-RESP-CODE") {
            self.auth_resp_code = true;
        } else if is(b"LOGIN-DELAY") {
            self.login_delay = Some(args_bytes());
        } else if is(b"PIPELINING") {
            self.pipelining = true;
        } else if is(b"EXPIRE") {
            self.expire = Some(args_bytes());
        } else if is(b"UIDL") {
            self.uidl = true;
        } else if is(b"IMPLEMENTATION") {
            self.implementation = Some(args_bytes());
        } else if is(b"STLS") {
            self.stls = true;
        } else if is(b"UTF8") {
            self.utf8 = Some(args.is_some_and(|a| a.eq_ignore_ascii_case(b"USER")));
        } else if is(b"LANG") {
            self.lang = true;
        } else if !line.is_empty() {
            self.other.push(line.clone());
        }
    }

    /// Writes the capability lines (each with CRLF, dot-stuffed, without
    /// the terminating "."), in RFC 2449's order.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if an argument holds CR, LF or NUL, a SASL name is
    /// invalid, or an `other` line would not read back as one: an empty
    /// tag (RFC 2449 3, `capa-tag = 1*cchar`), or the tag of a capability
    /// with its own field (it would read back into that field).
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        for o in &self.other {
            let (tag, _) = split_sp(o);
            if tag.is_empty() || TYPED_TAGS.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                return Err(EncodeError::Invalid { what: "capability" });
            }
        }
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let with = |n: &str, a: &[u8]| {
            let mut v = n.as_bytes().to_vec();
            if !a.is_empty() {
                v.push(b' ');
                v.extend_from_slice(a);
            }
            v
        };
        if self.top {
            lines.push(b"TOP".to_vec());
        }
        if self.user {
            lines.push(b"USER".to_vec());
        }
        if !self.sasl.is_empty() {
            if !self.sasl.iter().all(|m| sasl::is_mechanism_name(m)) {
                return Err(EncodeError::Invalid {
                    what: "SASL mechanism",
                });
            }
            lines.push(with("SASL", &self.sasl.join(&b' ')));
        }
        if self.resp_codes {
            lines.push(b"RESP-CODES".to_vec());
        }
        if self.auth_resp_code {
            lines.push(b"AUTH-RESP-CODE".to_vec());
        }
        if let Some(a) = &self.login_delay {
            lines.push(with("LOGIN-DELAY", a));
        }
        if self.pipelining {
            lines.push(b"PIPELINING".to_vec());
        }
        if let Some(a) = &self.expire {
            lines.push(with("EXPIRE", a));
        }
        if self.uidl {
            lines.push(b"UIDL".to_vec());
        }
        if let Some(a) = &self.implementation {
            lines.push(with("IMPLEMENTATION", a));
        }
        if self.stls {
            lines.push(b"STLS".to_vec());
        }
        match self.utf8 {
            Some(true) => lines.push(b"UTF8 USER".to_vec()),
            Some(false) => lines.push(b"UTF8".to_vec()),
            None => {}
        }
        if self.lang {
            lines.push(b"LANG".to_vec());
        }
        lines.extend(self.other.iter().map(|o| o.to_vec()));
        for l in &lines {
            check_arg(l).map_err(|source| EncodeError::Forbidden {
                what: "capability",
                source,
            })?;
        }
        for l in lines {
            write_listing_line(&l, out);
        }
        Ok(())
    }
}

/// Writes one line of a multi-line response, dot-stuffed, with CRLF.
pub(crate) fn write_listing_line(line: &[u8], out: &mut BytesMut) {
    if line.first() == Some(&b'.') {
        out.put_u8(b'.');
    }
    out.put_slice(line);
    out.put_slice(b"\r\n");
}

/// Un-stuffs one line of a multi-line listing: `None` for the terminating
/// ".", otherwise the line with one leading "." removed.
pub(crate) fn unstuff_line(line: Bytes) -> Option<Bytes> {
    match line.first() {
        Some(b'.') if line.len() == 1 => None,
        Some(b'.') => Some(line.slice(1..)),
        _ => Some(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    #[test]
    fn status_lines() {
        let l = StatusLine::parse(&b(b"+OK")).unwrap();
        assert_eq!((l.status, l.code, l.text), (Status::Ok, None, Bytes::new()));
        let l = StatusLine::parse(&b(b"-err [SYS/TEMP] try later")).unwrap();
        assert_eq!(l.code, Some(ResponseCode::SysTemp));
        assert_eq!(l.text, "try later");
        let l = StatusLine::parse(&b(b"-ERR [AUTH]")).unwrap();
        assert_eq!((l.code, l.text), (Some(ResponseCode::Auth), Bytes::new()));
        let l = StatusLine::parse(&b(b"-ERR [] no code")).unwrap();
        assert_eq!((l.code, &l.text[..]), (None, &b"[] no code"[..]));
        let l = StatusLine::parse(&b(b"-ERR [X/Y/Z] other")).unwrap();
        assert_eq!(l.code, Some(ResponseCode::Other(b(b"X/Y/Z"))));
        assert!(StatusLine::parse(&b(b"+OKAY")).is_err());
        assert!(StatusLine::parse(&b(b"OK")).is_err());
    }

    #[test]
    fn status_encode() {
        let mut out = BytesMut::new();
        StatusLine::err(Some(ResponseCode::InUse), "locked")
            .encode(&mut out)
            .unwrap();
        StatusLine::ok("").encode(&mut out).unwrap();
        assert_eq!(&out[..], b"-ERR [IN-USE] locked\r\n+OK\r\n");
        assert!(StatusLine::ok("a\r\nb").encode(&mut out).is_err());
        assert!(StatusLine::ok("[x] y").encode(&mut out).is_err());
    }

    #[test]
    fn greeting_timestamp() {
        let g = StatusLine::parse(&b(b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>")).unwrap();
        assert_eq!(g.apop_timestamp().unwrap(), "<1896.697170952@dbc.mtview.ca.us>");
        let g = StatusLine::parse(&b(b"+OK ready <no-at-sign>")).unwrap();
        assert_eq!(g.apop_timestamp(), None);
    }

    #[test]
    fn continuations() {
        assert_eq!(
            ServerLine::parse(&b(b"+ ")).unwrap(),
            ServerLine::Continue(Bytes::new())
        );
        assert_eq!(
            ServerLine::parse(&b(b"+ YQ==")).unwrap(),
            ServerLine::Continue(b(b"a"))
        );
        assert!(ServerLine::parse(&b(b"+ !!")).is_err());
        assert!(matches!(
            ServerLine::parse(&b(b"+OK")).unwrap(),
            ServerLine::Status(_)
        ));
    }

    #[test]
    fn uids_inline_and_shared_behave_alike() {
        use std::collections::HashSet;
        let line = b(b"7 0123456789abcdef0123456789abcdef0123456789");
        for len in [1, 37, 38, 39, 42] {
            let u = UidListing::parse(&line.slice(..2 + len)).unwrap();
            let want = &line[2..2 + len];
            assert_eq!(u.uid.as_bytes(), want);
            assert_eq!(u.uid, Uid::new(want));
            assert_eq!(u.uid, Uid::from(Bytes::copy_from_slice(want)));
            assert_eq!(u.uid.to_bytes(), want);
            assert_eq!(Bytes::from(u.uid.clone()), want);
            assert_eq!(
                format!("{:?}", u.uid),
                format!("{:?}", Bytes::copy_from_slice(want))
            );
            let set: HashSet<Uid> = [u.uid.clone()].into_iter().collect();
            assert!(set.contains(want));
        }
        let odd = Uid::new(b"a\"b\\c\x01");
        assert_eq!(
            format!("{odd:?}"),
            format!("{:?}", Bytes::from_static(b"a\"b\\c\x01"))
        );
    }

    #[test]
    fn listings() {
        assert_eq!(
            StatInfo::parse(b"2 320").unwrap(),
            StatInfo { count: 2, size: 320 }
        );
        assert_eq!(
            ScanListing::parse(b"1 120 extra").unwrap(),
            ScanListing { msg: 1, size: 120 }
        );
        assert!(ScanListing::parse(b"1").is_err());
        assert!(ScanListing::parse(b"x 1").is_err());
        let u = UidListing::parse(&b(b"2 QhdPYR:00WBw1Ph7x7")).unwrap();
        assert_eq!((u.msg, &u.uid[..]), (2, &b"QhdPYR:00WBw1Ph7x7"[..]));
        assert!(UidListing::parse(&b(b"2 ")).is_err());
        let l = LanguageListing::parse(&b(b"en English")).unwrap();
        assert_eq!((&l.tag[..], &l.description[..]), (&b"en"[..], &b"English"[..]));
    }

    #[test]
    fn typed_tags_are_the_ones_add_line_dispatches() {
        for tag in TYPED_TAGS {
            let mut c = Capabilities::default();
            c.add_line(&Bytes::from([tag, &b" X"[..]].concat()));
            assert!(c.other.is_empty(), "{tag:?}");
            assert_ne!(c, Capabilities::default(), "{tag:?}");
        }
        let mut c = Capabilities::default();
        c.add_line(&b(b"X-OTHER"));
        assert_eq!(c.other, [b(b"X-OTHER")]);
    }

    #[test]
    fn capabilities_round_trip() {
        let mut c = Capabilities::default();
        for l in [
            &b"TOP"[..],
            b"USER",
            b"SASL PLAIN SCRAM-SHA-256",
            b"RESP-CODES",
            b"LOGIN-DELAY 900",
            b"PIPELINING",
            b"EXPIRE 60",
            b"UIDL",
            b"IMPLEMENTATION Shlemazle-Plotz-v302",
            b"STLS",
            b"UTF8 USER",
            b"LANG",
            b"X-FOO bar",
        ] {
            c.add_line(&Bytes::copy_from_slice(l));
        }
        assert_eq!(c.sasl, vec![b(b"PLAIN"), b(b"SCRAM-SHA-256")]);
        assert_eq!(c.utf8, Some(true));
        let mut out = BytesMut::new();
        c.encode(&mut out).unwrap();
        let mut d = Capabilities::default();
        for l in out[..].split(|&x| x == b'\n').filter(|l| !l.is_empty()) {
            d.add_line(&Bytes::copy_from_slice(&l[..l.len() - 1]));
        }
        assert_eq!(c, d);
    }
}
