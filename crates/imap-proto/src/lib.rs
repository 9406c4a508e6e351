//! Sans-IO IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) codec: framing,
//! commands and responses, with streaming literals.
//!
//! The codec has three layers, and a session (a later issue) drives them:
//!
//! * [`Framer`] splits a receive buffer into units: a line plus the literals
//!   it announces (`{n}`, `{n+}`, `~{n}`), under [`Limits`], without
//!   copying literal data. It reports a client's synchronizing literal so a
//!   server can answer `+` or refuse it, streams large literals as `Bytes`
//!   chunks, and skips a malformed unit without losing sync.
//! * Parsers: [`Command::parse`] and [`Response::parse`] read one unit in
//!   complete mode into owned values: strings and flag names up to 38 bytes
//!   are held inline ([`SmallBytes`]), longer ones (literals) are zero-copy
//!   slices of the unit. Every recursive rule is depth-limited.
//! * Encoders: [`Command::encode`] and [`Response::encode`] write the wire
//!   form, choosing atom, quoted string or literal per string, and report
//!   where a client must wait for a continuation ([`Encoded::pauses`]).
//!
//! # Design notes
//!
//! * The parsers are hand-written recursive descent on a cursor, not nom
//!   combinators (DESIGN.md suggests nom): a long string is returned as a
//!   `Bytes::slice` of the unit, which needs the owning `Bytes` in hand, and
//!   dispatching on an upper-cased keyword is much faster than trying
//!   alternatives. They still run in complete mode on one framed unit.
//! * Values are owned (no lifetimes), so a session can keep them after the
//!   receive buffer moves on. A short one ([`Str::data`], the name in
//!   [`Flag::Extension`] and [`Flag::Keyword`]) is a [`SmallBytes`], copied
//!   inline: a `Bytes` slice takes an atomic reference count when made and
//!   another when dropped, which cost more than the copy for the many short
//!   values of a LIST or FETCH response (DESIGN.md's zero-copy rule is kept
//!   for what is large: literals, and any value over 38 bytes). For the same
//!   reason a LIST line's attributes
//!   ([`ListData::attrs`](response::ListData::attrs)) and a FETCH
//!   response's flags ([`FetchItem::Flags`](response::FetchItem::Flags),
//!   formerly a `Vec<Flag>`) are a [`FlagList`], which holds two flags
//!   without allocating: one malloc and free fewer per FETCH line, 240 of
//!   its ~38,000 instructions on the ENVELOPE/BODYSTRUCTURE trace
//!   (callgrind). FLAGS and PERMANENTFLAGS of a SELECT, whose lists are
//!   long, stay a `Vec<Flag>`.
//! * Strings keep their wire form ([`StrForm`]) so NIL, `""` and `{0}` stay
//!   apart; equality compares content only.
//!
//! # Grammar left out
//!
//! ACL (RFC 4314), METADATA (RFC 5464), ESORT/CONTEXT/PARTIAL (RFC 5267,
//! RFC 9394) and Gmail's `X-GM-*` items are not parsed (they are not in this
//! crate's list of extensions); unknown response codes are kept raw as
//! [`Code::Other`] (so is a known code whose argument breaks its grammar,
//! such as `[UIDNEXT 4294967296]`: the generic `atom [SP 1*<any TEXT-CHAR
//! except "]">]` of `resp-text-code` matches it, and refusing it would lose
//! the whole response; [`Code::is_malformed`] tells it from an unknown
//! code), unknown LIST extended items and ESEARCH items as generic
//! extension values, unknown STATUS items as name and generic value
//! ([`Data::Status`]). CATENATE, SEARCH keys of RFC 8514 (SAVEDBEFORE ...) and
//! RFC 8474 (EMAILID/THREADID keys) are not parsed; their FETCH items are. The
//! multimailbox `ESEARCH` command of RFC 7377 is not parsed either; the
//! `MAILBOX`/`UIDVALIDITY` correlator of its `* ESEARCH` answers is.
//!
//! [`Options`] says which protocol is spoken (IMAP4rev1 or IMAP4rev2, with
//! UTF8=ACCEPT, LITERAL+/-) and which real-server [`Quirks`] are tolerated.
//! Mailbox names convert with [`mutf7`] (modified UTF-7) or as UTF-8.
//!
//! # Example: a client and a server, in memory
//!
//! ```
//! use bytes::BytesMut;
//! use imap_proto::*;
//!
//! let opts = Options::default();
//! // The client encodes a LOGIN whose password needs a literal.
//! let login = Command {
//!     tag: Tag::new("a1").unwrap(),
//!     body: CommandBody::Login {
//!         username: Str::from("fred"),
//!         password: Sensitive(Str::from("p\u{e4}ss\"word\r\n")),
//!     },
//! };
//! let enc = login.encode(&opts).unwrap();
//! assert_eq!(enc.pauses.len(), 1); // wait for "+" after "{12}\r\n"
//!
//! // The server frames what arrives, up to the literal announcement...
//! let mut server = Framer::new(Direction::ClientToServer, opts.limits);
//! let cut = enc.pauses[0].offset;
//! let mut buf = BytesMut::from(&enc.bytes[..cut]);
//! let Some(Ok(Frame::LiteralAnnounced(lit))) = server.next(&mut buf) else { panic!() };
//! assert_eq!(lit.len, 12);
//! // ...answers with a continuation request, which the client parses...
//! let go = Response::Continue(Continue { code: None, text: "go ahead".into() });
//! let wire = go.encode(&opts).unwrap().bytes;
//! assert!(matches!(Response::parse(&wire, &opts), Ok(Response::Continue(_))));
//! // ...and gets the rest of the command.
//! buf.extend_from_slice(&enc.bytes[cut..]);
//! let Some(Ok(Frame::Unit(unit))) = server.next(&mut buf) else { panic!() };
//! let cmd = Command::parse_unit(&unit, &opts).unwrap();
//! assert_eq!(cmd, login);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod command;
mod encode;
mod error;
mod framing;
mod limits;
pub mod mutf7;
mod options;
mod parse;
pub mod response;
pub mod types;

pub mod checks;

use bytes::{Bytes, BytesMut};

pub use command::{Command, CommandBody};
pub use encode::{Encoded, Pause, PauseKind};
pub use error::{EncodeError, FrameError, ParseError};
pub use framing::{Direction, Frame, Framer, LiteralInfo, LiteralMode, Unit};
pub use limits::Limits;
pub use options::{Options, Quirks, Version};
pub use response::{Code, Continue, Data, Response, StatusKind, StatusResponse};
pub use types::{
    Flag, FlagList, Mailbox, NStr, Sensitive, SeqNum, SeqRange, SeqSet, SmallBytes, Str, StrForm, Tag,
};

#[allow(clippy::redundant_closure_for_method_calls)]
impl Command {
    /// Parses one complete command unit (line(s) with CRLF and literals).
    ///
    /// # Errors
    ///
    /// The unit does not follow the grammar; the error carries the tag when
    /// one was readable, for the `BAD` reply. For LOGIN and AUTHENTICATE its
    /// snippet stops after the command name (the arguments are credentials).
    pub fn parse(unit: &Bytes, opts: &Options) -> Result<Command, ParseError> {
        parse::run(unit, &[], &[], opts, |p| p.command(), parse::leading_tag).map_err(parse::redact_command)
    }

    /// Parses a unit from the [`Framer`], honouring streamed literals.
    ///
    /// # Errors
    ///
    /// As [`Command::parse`].
    pub fn parse_unit(unit: &Unit, opts: &Options) -> Result<Command, ParseError> {
        let b = unit.bytes();
        parse::run(
            b,
            unit.streamed_offsets(),
            unit.streamed_nul_offsets(),
            opts,
            |p| p.command(),
            parse::leading_tag,
        )
        .map_err(parse::redact_command)
    }

    /// Encodes the command as a client sends it.
    ///
    /// # Errors
    ///
    /// A field cannot be sent safely (see [`EncodeError`]).
    pub fn encode(&self, opts: &Options) -> Result<Encoded, EncodeError> {
        let mut out = BytesMut::with_capacity(64);
        let pauses = self.encode_into(&mut out, opts)?;
        Ok(Encoded {
            bytes: out.freeze(),
            pauses,
        })
    }

    /// Appends the encoding to `out`; returns the pauses (offsets relative
    /// to where the command starts in `out`). On error, `out` is truncated
    /// back to its old length.
    ///
    /// # Errors
    ///
    /// As [`Command::encode`].
    pub fn encode_into(&self, out: &mut BytesMut, opts: &Options) -> Result<Vec<Pause>, EncodeError> {
        let start = out.len();
        let mut w = encode::W::new(out, opts, Direction::ClientToServer);
        match w.command(self) {
            Ok(()) => Ok(w.finish()),
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }
}

#[allow(clippy::redundant_closure_for_method_calls)]
impl Response {
    /// Parses one complete response unit.
    ///
    /// # Errors
    ///
    /// The unit does not follow the grammar.
    pub fn parse(unit: &Bytes, opts: &Options) -> Result<Response, ParseError> {
        parse::run(unit, &[], &[], opts, |p| p.response(), |_| None)
    }

    /// Parses a unit from the [`Framer`], honouring streamed literals.
    ///
    /// # Errors
    ///
    /// As [`Response::parse`].
    pub fn parse_unit(unit: &Unit, opts: &Options) -> Result<Response, ParseError> {
        parse::run(
            unit.bytes(),
            unit.streamed_offsets(),
            unit.streamed_nul_offsets(),
            opts,
            |p| p.response(),
            |_| None,
        )
    }

    /// Parses a greeting: only untagged OK, PREAUTH or BYE is one.
    ///
    /// # Errors
    ///
    /// Anything else.
    pub fn parse_greeting(unit: &Bytes, opts: &Options) -> Result<StatusResponse, ParseError> {
        match Response::parse(unit, opts)? {
            Response::Status(s)
                if s.tag.is_none()
                    && matches!(s.kind, StatusKind::Ok | StatusKind::PreAuth | StatusKind::Bye) =>
            {
                Ok(s)
            }
            _ => Err(ParseError {
                reason: "not a greeting",
                offset: 0,
                tag: None,
                input: unit.slice(..unit.len().min(opts.limits.error_snippet)),
            }),
        }
    }

    /// Encodes the response as a server sends it.
    ///
    /// # Errors
    ///
    /// A field cannot be sent safely (see [`EncodeError`]).
    pub fn encode(&self, opts: &Options) -> Result<Encoded, EncodeError> {
        let mut out = BytesMut::with_capacity(64);
        let pauses = self.encode_into(&mut out, opts)?;
        Ok(Encoded {
            bytes: out.freeze(),
            pauses,
        })
    }

    /// Appends the encoding to `out` (see [`Command::encode_into`]).
    ///
    /// # Errors
    ///
    /// As [`Response::encode`].
    pub fn encode_into(&self, out: &mut BytesMut, opts: &Options) -> Result<Vec<Pause>, EncodeError> {
        let start = out.len();
        let mut w = encode::W::new(out, opts, Direction::ServerToClient);
        match w.response(self) {
            Ok(()) => Ok(w.finish()),
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }
}

/// Whether a line a client sent during IDLE is `DONE` (RFC 2177).
#[must_use]
pub fn parse_idle_done(line: &[u8]) -> bool {
    line.strip_suffix(b"\r\n")
        .is_some_and(|l| l.eq_ignore_ascii_case(b"DONE"))
}

/// A client's answer to an AUTHENTICATE challenge (RFC 9051 6.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthLine {
    /// Decoded response data.
    Data(Sensitive<Vec<u8>>),
    /// `*`: the client cancels the exchange.
    Cancel,
}

/// Parses one line a client sends during AUTHENTICATE: base64 or `*`.
///
/// # Errors
///
/// The line is not base64.
pub fn parse_auth_line(line: &[u8]) -> Result<AuthLine, ParseError> {
    use base64::Engine as _;
    let body = line.strip_suffix(b"\r\n").unwrap_or(line);
    if body == b"*" {
        return Ok(AuthLine::Cancel);
    }
    let bad = |reason| ParseError {
        reason,
        offset: 0,
        tag: None,
        input: Bytes::new(),
    };
    if body == b"=" {
        return Ok(AuthLine::Data(Sensitive(Vec::new())));
    }
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map(|v| AuthLine::Data(Sensitive(v)))
        .map_err(|_| bad("AUTHENTICATE response is not base64"))
}
