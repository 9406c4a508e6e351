//! Client-to-server messages: [`Command`] (parse and encode), the AUTH
//! continuation line ([`AuthLine`]) and the APOP digest ([`apop_digest`]).
//!
//! Keywords are matched in full and case-insensitively (RFC 2449 section 3);
//! a command line is at most 255 octets with its CRLF (RFC 2449 section 4),
//! which the session's framer enforces before parsing.

use crate::error::{CommandError, EncodeError};
use crate::parse::{base64_decode, base64_encode, is_token, is_word8, number_u32, split_sp};
use bytes::{BufMut, Bytes, BytesMut};
use md5::{Digest, Md5};
use proto_core::{Secret, check_arg};

/// One POP3 command (RFC 1939 sections 4-7, RFC 2449, 2595, 5034, 6856).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `USER name`: the mailbox name; everything after the first space
    /// (no NUL).
    User(Bytes),
    /// `PASS string`: everything after the first space, spaces included
    /// (RFC 1939 section 7 allows them), no NUL.
    Pass(Secret<Vec<u8>>),
    /// `APOP name digest` (RFC 1939 section 7).
    Apop {
        /// Mailbox name: one word, which may hold UTF-8 (RFC 6856 2.2).
        name: Bytes,
        /// 32 hexadecimal digits, as sent. A `Secret`: with the greeting's
        /// timestamp it lets password guesses be tested offline.
        digest: Secret<Vec<u8>>,
    },
    /// `QUIT`.
    Quit,
    /// `STAT`.
    Stat,
    /// `LIST [msg]`.
    List(Option<u32>),
    /// `RETR msg`.
    Retr(u32),
    /// `DELE msg`.
    Dele(u32),
    /// `NOOP`.
    Noop,
    /// `RSET`.
    Rset,
    /// `TOP msg n`: the header and the first `lines` lines of the body.
    Top {
        /// Message number.
        msg: u32,
        /// Body lines wanted.
        lines: u32,
    },
    /// `UIDL [msg]`.
    Uidl(Option<u32>),
    /// `CAPA` (RFC 2449 section 5).
    Capa,
    /// `STLS` (RFC 2595 section 4).
    Stls,
    /// `AUTH [mechanism [initial-response]]` (RFC 5034 section 4). Without a
    /// mechanism it asks for the list of mechanisms (the RFC 1734 form many
    /// servers answer).
    Auth {
        /// The SASL mechanism name, as sent.
        mechanism: Option<Bytes>,
        /// The decoded initial response; `Some(empty)` is the "=" form.
        initial_response: Option<Secret<Vec<u8>>>,
    },
    /// `UTF8` (RFC 6856 section 2.1).
    Utf8,
    /// `LANG [range]` (RFC 6856 section 3): without an argument, lists languages.
    Lang(Option<Bytes>),
}

/// Keywords, for the parser and encoder.
const KEYWORDS: [&str; 18] = [
    "USER", "PASS", "APOP", "QUIT", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "TOP", "UIDL", "CAPA",
    "STLS", "AUTH", "UTF8", "LANG", "LAST",
];

impl Command {
    /// The command keyword in upper case.
    #[must_use]
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Apop { .. } => "APOP",
            Command::Quit => "QUIT",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Noop => "NOOP",
            Command::Rset => "RSET",
            Command::Top { .. } => "TOP",
            Command::Uidl(_) => "UIDL",
            Command::Capa => "CAPA",
            Command::Stls => "STLS",
            Command::Auth { .. } => "AUTH",
            Command::Utf8 => "UTF8",
            Command::Lang(_) => "LANG",
        }
    }

    /// Parses one command line (without its CRLF). Argument values are
    /// zero-copy slices of `line`.
    ///
    /// # Errors
    ///
    /// [`CommandError::Unknown`] for an unknown keyword, [`CommandError::Syntax`]
    /// for wrong arguments (a NUL in any of them included).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use pop3_proto::Command;
    /// assert_eq!(Command::parse(&Bytes::from_static(b"top 1 10")).unwrap(), Command::Top { msg: 1, lines: 10 });
    /// assert_eq!(Command::parse(&Bytes::from_static(b"LIST")).unwrap(), Command::List(None));
    /// match Command::parse(&Bytes::from_static(b"PASS my secret")).unwrap() {
    ///     Command::Pass(pw) => assert_eq!(pw.expose(), b"my secret"),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn parse(line: &Bytes) -> Result<Command, CommandError> {
        let (kw, args) = split_sp(line);
        let Some(keyword) = KEYWORDS.iter().find(|k| k.as_bytes().eq_ignore_ascii_case(kw)) else {
            return Err(CommandError::Unknown {
                keyword: line.slice(..kw.len().min(40)),
            });
        };
        let syntax = || CommandError::Syntax { keyword };
        // Offset of the arguments in `line`, for zero-copy slices.
        let at = kw.len() + 1;
        let sub = |s: &[u8]| -> Bytes {
            let start = s.as_ptr() as usize - line.as_ptr() as usize;
            line.slice(start..start + s.len())
        };
        let none = |c: Command| if args.is_none() { Ok(c) } else { Err(syntax()) };
        let one_num = || -> Result<u32, CommandError> { args.and_then(number_u32).ok_or_else(syntax) };
        let opt_num = || -> Result<Option<u32>, CommandError> {
            match args {
                None => Ok(None),
                Some(a) => number_u32(a).map(Some).ok_or_else(syntax),
            }
        };
        // RFC 2449 3: `param = 1*VCHAR` (RFC 1939 7 widens PASS to spaces):
        // a NUL is never part of an argument, as the encoder says, and in a
        // user name or password it is the field separator of SASL PLAIN
        // (RFC 4616 2), which an application's back end may use.
        let free = |a: &[u8]| !a.contains(&0);
        match *keyword {
            "USER" => match args {
                Some(a) if !a.is_empty() && free(a) => Ok(Command::User(line.slice(at..))),
                _ => Err(syntax()),
            },
            "PASS" => match args {
                Some(a) if free(a) => Ok(Command::Pass(Secret::new(a.to_vec()))),
                _ => Err(syntax()),
            },
            "APOP" => {
                let (name, digest) = split_sp(args.ok_or_else(syntax)?);
                let digest = digest.ok_or_else(syntax)?;
                if !is_word8(name) || digest.len() != 32 || !digest.iter().all(u8::is_ascii_hexdigit) {
                    return Err(syntax());
                }
                Ok(Command::Apop {
                    name: sub(name),
                    digest: Secret::new(digest.to_vec()),
                })
            }
            "QUIT" => none(Command::Quit),
            "STAT" => none(Command::Stat),
            "LIST" => Ok(Command::List(opt_num()?)),
            "RETR" => Ok(Command::Retr(one_num()?)),
            "DELE" => Ok(Command::Dele(one_num()?)),
            "NOOP" => none(Command::Noop),
            "RSET" => none(Command::Rset),
            "TOP" => {
                let (m, n) = split_sp(args.ok_or_else(syntax)?);
                let msg = number_u32(m).ok_or_else(syntax)?;
                let lines = n.and_then(number_u32).ok_or_else(syntax)?;
                Ok(Command::Top { msg, lines })
            }
            "UIDL" => Ok(Command::Uidl(opt_num()?)),
            "CAPA" => none(Command::Capa),
            "STLS" => none(Command::Stls),
            "AUTH" => {
                let Some(args) = args else {
                    return Ok(Command::Auth {
                        mechanism: None,
                        initial_response: None,
                    });
                };
                let (mech, ir) = split_sp(args);
                if !sasl::is_mechanism_name(mech) {
                    return Err(syntax());
                }
                let initial_response = match ir {
                    None => None,
                    Some(b"=") => Some(Secret::new(Vec::new())),
                    Some(b"") => return Err(syntax()),
                    Some(ir) => Some(Secret::new(base64_decode(ir).ok_or_else(syntax)?)),
                };
                Ok(Command::Auth {
                    mechanism: Some(sub(mech)),
                    initial_response,
                })
            }
            "UTF8" => none(Command::Utf8),
            "LANG" => match args {
                None => Ok(Command::Lang(None)),
                Some(a) if is_token(a) => Ok(Command::Lang(Some(sub(a)))),
                Some(_) => Err(syntax()),
            },
            // LAST was removed by RFC 1939; it is recognised only to be refused
            // as unknown rather than as a typo.
            _ => Err(CommandError::Unknown {
                keyword: line.slice(..kw.len()),
            }),
        }
    }

    /// Writes the command with its CRLF to `out`.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] if an argument holds CR, LF or NUL, or breaks the
    /// command's grammar (a space in a one-token argument, an empty user name,
    /// a digest that is not 32 hex digits); nothing is written then.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use pop3_proto::Command;
    /// let mut out = BytesMut::new();
    /// Command::Retr(7).encode(&mut out).unwrap();
    /// assert_eq!(&out[..], b"RETR 7\r\n");
    /// assert!(Command::User("a\r\nDELE 1".into()).encode(&mut out).is_err());
    /// ```
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        use std::fmt::Write as _;
        let forbid = |what: &'static str, arg: &[u8]| {
            check_arg(arg).map_err(|source| EncodeError::Forbidden { what, source })
        };
        let invalid = |what: &'static str| EncodeError::Invalid { what };
        // Validate everything before writing anything.
        match self {
            Command::User(name) => {
                forbid("user name", name)?;
                if name.is_empty() {
                    return Err(invalid("user name"));
                }
            }
            Command::Pass(pw) => forbid("password", pw.expose())?,
            Command::Apop { name, digest } => {
                forbid("user name", name)?;
                if !is_word8(name) {
                    return Err(invalid("user name"));
                }
                let digest = digest.expose();
                if digest.len() != 32 || !digest.iter().all(u8::is_ascii_hexdigit) {
                    return Err(invalid("digest"));
                }
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => match mechanism {
                Some(m) => {
                    forbid("mechanism", m)?;
                    if !sasl::is_mechanism_name(m) {
                        return Err(invalid("mechanism"));
                    }
                }
                None if initial_response.is_some() => {
                    return Err(invalid("initial response without mechanism"));
                }
                None => {}
            },
            Command::Lang(Some(tag)) => {
                forbid("language", tag)?;
                if !is_token(tag) {
                    return Err(invalid("language"));
                }
            }
            _ => {}
        }
        out.put_slice(self.keyword().as_bytes());
        let num = |out: &mut BytesMut, n: u32| {
            let _ = write!(out, " {n}");
        };
        match self {
            Command::User(a) => {
                out.put_u8(b' ');
                out.put_slice(a);
            }
            Command::Pass(pw) => {
                out.put_u8(b' ');
                out.put_slice(pw.expose());
            }
            Command::Apop { name, digest } => {
                out.put_u8(b' ');
                out.put_slice(name);
                out.put_u8(b' ');
                out.put_slice(digest.expose());
            }
            Command::List(Some(n)) | Command::Retr(n) | Command::Dele(n) | Command::Uidl(Some(n)) => {
                num(out, *n);
            }
            Command::Top { msg, lines } => {
                num(out, *msg);
                num(out, *lines);
            }
            Command::Auth {
                mechanism: Some(m),
                initial_response,
            } => {
                out.put_u8(b' ');
                out.put_slice(m);
                if let Some(ir) = initial_response {
                    out.put_u8(b' ');
                    if ir.expose().is_empty() {
                        out.put_u8(b'=');
                    } else {
                        out.put_slice(base64_encode(ir.expose()).as_bytes());
                    }
                }
            }
            Command::Lang(Some(tag)) => {
                out.put_u8(b' ');
                out.put_slice(tag);
            }
            _ => {}
        }
        out.put_slice(b"\r\n");
        Ok(())
    }

    /// The encoded line (with CRLF) as a vector; see [`encode`](Self::encode).
    ///
    /// # Errors
    ///
    /// As [`encode`](Self::encode).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = BytesMut::new();
        self.encode(&mut out)?;
        Ok(out.to_vec())
    }
}

/// A client line during a SASL exchange (RFC 5034 section 4): a base64
/// response to a challenge, or "*" to cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthLine {
    /// The decoded response (an empty line is an empty response).
    Response(Secret<Vec<u8>>),
    /// `*`: the client cancels the exchange.
    Cancel,
}

impl AuthLine {
    /// Parses a continuation line (without CRLF).
    ///
    /// # Errors
    ///
    /// [`CommandError::BadBase64`] if it is neither "*" nor strict base64.
    pub fn parse(line: &[u8]) -> Result<AuthLine, CommandError> {
        if line == b"*" {
            return Ok(AuthLine::Cancel);
        }
        base64_decode(line)
            .map(|v| AuthLine::Response(Secret::new(v)))
            .ok_or(CommandError::BadBase64)
    }

    /// Writes the line with its CRLF.
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            AuthLine::Cancel => out.put_slice(b"*"),
            AuthLine::Response(r) => out.put_slice(base64_encode(r.expose()).as_bytes()),
        }
        out.put_slice(b"\r\n");
    }
}

/// The APOP digest (RFC 1939 section 7): MD5 of the greeting's timestamp
/// (angle brackets included) followed by the shared secret, as 32 lower-case
/// hexadecimal digits.
///
/// ```
/// // The example of RFC 1939 section 7.
/// let d = pop3_proto::apop_digest(b"<1896.697170952@dbc.mtview.ca.us>", b"tanstaaf");
/// assert_eq!(&d, b"c4c9334bac560ecc979e58001b3e22fb");
/// ```
#[must_use]
pub fn apop_digest(timestamp: &[u8], secret: &[u8]) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Md5::new();
    h.update(timestamp);
    h.update(secret);
    let sum = h.finalize();
    let mut out = [0u8; 32];
    for (i, b) in sum.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
    out
}
