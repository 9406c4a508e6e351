//! Client-to-server commands: [`Command`], its parser and its encoder.
//!
//! A command line is `VERB [SP arguments]` (RFC 959 5.3). The verb is matched
//! in full and case-insensitively; the argument is everything after the first
//! space, kept byte for byte, so paths with spaces (and leading spaces) survive.
//! Parsing borrows from the line and does not allocate.
//!
//! # CR in pathnames (RFC 2640 3.1)
//!
//! "When a \<CR\> character is encountered as part of a pathname it MUST be
//! padded with a \<NUL\> character prior to sending the command. On receipt
//! of a pathname containing a \<CR\>\<NUL\> sequence the \<NUL\> character MUST
//! be stripped away." [`Command::encode`] pads a CR in a pathname argument
//! (the commands of [`Command::takes_pathname`]); [`unpad_cr`] strips the
//! NUL from a received line before [`Command::parse`], which takes a CR only
//! inside a pathname. A CR anywhere else, a bare CR on the wire (not padded),
//! an LF or a NUL in any argument is still refused: lines end only at CRLF,
//! and an LF never leaves an encoder (a peer that ends lines at a bare LF
//! would read a second command).

use crate::error::{CommandError, EncodeError};
use crate::parse::{dec_u8, dec_u16, dec_u64, eq_ic, split_sp, write_u64};
use crate::time::Timestamp;
use bytes::BytesMut;
use proto_core::check_arg;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// A password (PASS argument) whose `Debug` output is redacted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Password<'a>(pub &'a [u8]);

impl<'a> Password<'a> {
    /// The password bytes. Call sites of this method are the places to audit.
    #[must_use]
    pub fn expose(&self) -> &'a [u8] {
        self.0
    }
}

impl fmt::Debug for Password<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Format control of TYPE A and TYPE E (RFC 959 3.1.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatControl {
    /// No second parameter given.
    Default,
    /// `N`: non-print.
    NonPrint,
    /// `T`: Telnet format effectors.
    Telnet,
    /// `C`: carriage control (ASA).
    Asa,
}

/// The TYPE argument (RFC 959 5.3.2 `<type-code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferType {
    /// `A`: ASCII, lines end with CRLF on the wire.
    Ascii(FormatControl),
    /// `E`: EBCDIC.
    Ebcdic(FormatControl),
    /// `I`: image (binary).
    Image,
    /// `L n`: local byte size.
    Local(u8),
}

/// The STRU argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Structure {
    /// `F`: file (no record structure).
    File,
    /// `R`: record.
    Record,
    /// `P`: page.
    Page,
}

/// The MODE argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferMode {
    /// `S`: stream.
    Stream,
    /// `B`: block.
    Block,
    /// `C`: compressed.
    Compressed,
}

/// The PROT argument (RFC 2228 / RFC 4217 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtLevel {
    /// `C`: clear.
    Clear,
    /// `S`: safe (integrity only).
    Safe,
    /// `E`: confidential.
    Confidential,
    /// `P`: private (TLS on the data connection).
    Private,
}

/// The EPSV argument (RFC 2428 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpsvArg {
    /// No argument: the protocol of the control connection.
    Any,
    /// `ALL`: from now on only EPSV is used for data connections.
    All,
    /// A network protocol number (1 IPv4, 2 IPv6).
    Protocol(u16),
}

/// One FTP command, borrowing its arguments from the line it was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// USER name.
    User(&'a [u8]),
    /// PASS password.
    Pass(Password<'a>),
    /// ACCT account.
    Acct(&'a [u8]),
    /// CWD path.
    Cwd(&'a [u8]),
    /// CDUP.
    Cdup,
    /// SMNT path.
    Smnt(&'a [u8]),
    /// REIN.
    Rein,
    /// QUIT.
    Quit,
    /// PORT h1,h2,h3,h4,p1,p2.
    Port(SocketAddrV4),
    /// PASV.
    Pasv,
    /// TYPE.
    Type(TransferType),
    /// STRU.
    Stru(Structure),
    /// MODE.
    Mode(TransferMode),
    /// RETR path.
    Retr(&'a [u8]),
    /// STOR path.
    Stor(&'a [u8]),
    /// STOU \[path\] (the argument is a common extension).
    Stou(Option<&'a [u8]>),
    /// APPE path.
    Appe(&'a [u8]),
    /// ALLO size [R record-size].
    Allo {
        /// Bytes to reserve.
        size: u64,
        /// Record or page size.
        record: Option<u64>,
    },
    /// REST marker (RFC 959) or byte offset (REST STREAM, RFC 3659 5); see [`Command::rest_offset`].
    Rest(&'a [u8]),
    /// RNFR path.
    Rnfr(&'a [u8]),
    /// RNTO path.
    Rnto(&'a [u8]),
    /// ABOR.
    Abor,
    /// DELE path.
    Dele(&'a [u8]),
    /// RMD path.
    Rmd(&'a [u8]),
    /// MKD path.
    Mkd(&'a [u8]),
    /// PWD.
    Pwd,
    /// LIST [path or options].
    List(Option<&'a [u8]>),
    /// NLST \[path\].
    Nlst(Option<&'a [u8]>),
    /// SITE string.
    Site(&'a [u8]),
    /// SYST.
    Syst,
    /// STAT \[path\].
    Stat(Option<&'a [u8]>),
    /// HELP \[topic\].
    Help(Option<&'a [u8]>),
    /// NOOP.
    Noop,
    /// AUTH mechanism (RFC 2228; `TLS` per RFC 4217).
    Auth(&'a [u8]),
    /// ADAT base64-data (RFC 2228).
    Adat(&'a [u8]),
    /// PROT level.
    Prot(ProtLevel),
    /// PBSZ size.
    Pbsz(u32),
    /// CCC (RFC 2228).
    Ccc,
    /// FEAT (RFC 2389).
    Feat,
    /// OPTS command \[params\] (RFC 2389), e.g. `OPTS UTF8 ON` (RFC 2640) or `OPTS MLST type;size;`.
    Opts {
        /// The command whose options are set.
        command: &'a [u8],
        /// Everything after the space that follows it.
        params: Option<&'a [u8]>,
    },
    /// EPRT |proto|addr|port| (RFC 2428 2).
    Eprt(SocketAddr),
    /// EPSV [proto|ALL] (RFC 2428 3).
    Epsv(EpsvArg),
    /// SIZE path (RFC 3659 4).
    Size(&'a [u8]),
    /// MDTM path (RFC 3659 3).
    Mdtm(&'a [u8]),
    /// MLST \[path\] (RFC 3659 7).
    Mlst(Option<&'a [u8]>),
    /// MLSD \[path\] (RFC 3659 7).
    Mlsd(Option<&'a [u8]>),
    /// LANG \[tag\] (RFC 2640 4.1).
    Lang(Option<&'a [u8]>),
    /// HOST name (RFC 7151).
    Host(&'a [u8]),
    /// MFMT time path (draft-somers-ftp-mfxx).
    Mfmt {
        /// The new modification time (UTC).
        time: Timestamp,
        /// The file.
        path: &'a [u8],
    },
    /// XCWD path (RFC 775 alias of CWD).
    Xcwd(&'a [u8]),
    /// XPWD (alias of PWD).
    Xpwd,
    /// XMKD path (alias of MKD).
    Xmkd(&'a [u8]),
    /// XRMD path (alias of RMD).
    Xrmd(&'a [u8]),
    /// XCUP (alias of CDUP).
    Xcup,
    /// A verb this crate does not know, kept for the application (servers answer 502).
    Other {
        /// The verb as received.
        verb: &'a [u8],
        /// The argument, if any.
        args: Option<&'a [u8]>,
    },
}

/// Strips the `NUL` that pads every CR of a received command line (RFC 2640
/// 3.1: "On receipt of a pathname containing a \<CR\>\<NUL\> sequence the \<NUL\>
/// character MUST be stripped away"). `None` when a CR is not followed by
/// `NUL`: a bare CR, which the line may not hold. The line is borrowed back
/// when it holds no CR.
///
/// ```
/// use ftp_proto::{Command, command::unpad_cr};
/// let line = unpad_cr(b"RETR a\r\0b").unwrap();
/// assert_eq!(Command::parse(&line).unwrap(), Command::Retr(b"a\rb"));
/// assert!(unpad_cr(b"RETR a\rb").is_none());
/// ```
#[must_use]
pub fn unpad_cr(line: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    if memchr::memchr(b'\r', line).is_none() {
        return Some(std::borrow::Cow::Borrowed(line));
    }
    let mut out = Vec::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = memchr::memchr(b'\r', rest) {
        if rest.get(i + 1) != Some(&0) {
            return None;
        }
        out.extend_from_slice(&rest[..=i]);
        rest = &rest[i + 2..];
    }
    out.extend_from_slice(rest);
    Some(std::borrow::Cow::Owned(out))
}

/// Writes a pathname argument, each CR padded with a `NUL` (RFC 2640 3.1).
/// LF and NUL are refused, as in every argument.
fn write_pathname(out: &mut BytesMut, a: &[u8]) -> Result<(), EncodeError> {
    if let Some(offset) = memchr::memchr2(b'\n', 0, a) {
        return Err(proto_core::ForbiddenByte {
            byte: a[offset],
            offset,
        }
        .into());
    }
    for (i, part) in a.split(|&c| c == b'\r').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\0");
        }
        out.extend_from_slice(part);
    }
    Ok(())
}

fn bad(verb: &'static str) -> CommandError {
    CommandError::BadArguments { verb }
}

fn req<'a>(verb: &'static str, args: Option<&'a [u8]>) -> Result<&'a [u8], CommandError> {
    match args {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(bad(verb)),
    }
}

fn none(verb: &'static str, args: Option<&[u8]>) -> Result<(), CommandError> {
    match args {
        None => Ok(()),
        Some(_) => Err(bad(verb)),
    }
}

fn parse_type(a: &[u8]) -> Option<TransferType> {
    let (code, rest) = split_sp(a);
    let fmt = |rest: Option<&[u8]>| -> Option<FormatControl> {
        Some(match rest {
            None => FormatControl::Default,
            Some(r) if eq_ic(r, b"N") => FormatControl::NonPrint,
            Some(r) if eq_ic(r, b"T") => FormatControl::Telnet,
            Some(r) if eq_ic(r, b"C") => FormatControl::Asa,
            Some(_) => return None,
        })
    };
    match code {
        [c] if c.eq_ignore_ascii_case(&b'A') => Some(TransferType::Ascii(fmt(rest)?)),
        [c] if c.eq_ignore_ascii_case(&b'E') => Some(TransferType::Ebcdic(fmt(rest)?)),
        [c] if c.eq_ignore_ascii_case(&b'I') => rest.is_none().then_some(TransferType::Image),
        [c] if c.eq_ignore_ascii_case(&b'L') => dec_u8(rest?).filter(|&n| n > 0).map(TransferType::Local),
        _ => None,
    }
}

/// Parses `h1,h2,h3,h4,p1,p2` (RFC 959 PORT argument and the 227 reply).
pub(crate) fn parse_host_port(a: &[u8]) -> Option<SocketAddrV4> {
    let mut n = [0u8; 6];
    let mut parts = a.split(|&c| c == b',');
    for slot in &mut n {
        *slot = dec_u8(parts.next()?)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(SocketAddrV4::new(
        Ipv4Addr::new(n[0], n[1], n[2], n[3]),
        u16::from(n[4]) << 8 | u16::from(n[5]),
    ))
}

/// Writes `h1,h2,h3,h4,p1,p2`.
pub(crate) fn write_host_port(addr: SocketAddrV4, out: &mut BytesMut) {
    for o in addr.ip().octets() {
        write_u64(out, u64::from(o));
        out.extend_from_slice(b",");
    }
    write_u64(out, u64::from(addr.port() >> 8));
    out.extend_from_slice(b",");
    write_u64(out, u64::from(addr.port() & 0xff));
}

fn parse_eprt(a: &[u8]) -> Option<SocketAddr> {
    let d = *a.first()?;
    if !(33..=126).contains(&d) {
        return None;
    }
    let mut f = a[1..].split(|&c| c == d);
    let proto = f.next()?;
    let addr = std::str::from_utf8(f.next()?).ok()?;
    let port = dec_u16(f.next()?)?;
    if f.next()? != b"" || f.next().is_some() {
        return None;
    }
    let ip = match proto {
        b"1" => IpAddr::V4(addr.parse::<Ipv4Addr>().ok()?),
        b"2" => IpAddr::V6(addr.parse::<Ipv6Addr>().ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

impl<'a> Command<'a> {
    /// Parses one command line (without its CRLF).
    ///
    /// # Errors
    ///
    /// [`CommandError`]; the server answers it with 500/501 and carries on.
    ///
    /// ```
    /// use ftp_proto::Command;
    /// assert_eq!(Command::parse(b"cwd My Documents").unwrap(), Command::Cwd(b"My Documents"));
    /// assert_eq!(Command::parse(b"EPSV ALL").unwrap(), Command::Epsv(ftp_proto::EpsvArg::All));
    /// assert!(Command::parse(b"PORT 1,2,3").is_err());
    /// ```
    pub fn parse(line: &'a [u8]) -> Result<Command<'a>, CommandError> {
        let (verb, args) = split_sp(line);
        if verb.is_empty() || verb.len() > 8 || !verb.iter().all(u8::is_ascii_alphanumeric) {
            return Err(CommandError::BadVerb);
        }
        if !verb[0].is_ascii_alphabetic() {
            return Err(CommandError::BadVerb);
        }
        if args.is_some_and(|a| memchr::memchr(0, a).is_some()) {
            return Err(CommandError::Nul);
        }
        let has_cr = args.is_some_and(|a| memchr::memchr(b'\r', a).is_some());
        let mut up = [0u8; 8];
        up[..verb.len()].copy_from_slice(verb);
        up[..verb.len()].make_ascii_uppercase();
        let c = match &up[..verb.len()] {
            b"USER" => Command::User(req("USER", args)?),
            b"PASS" => Command::Pass(Password(args.ok_or(bad("PASS"))?)),
            b"ACCT" => Command::Acct(req("ACCT", args)?),
            b"CWD" => Command::Cwd(req("CWD", args)?),
            b"CDUP" => none("CDUP", args).map(|()| Command::Cdup)?,
            b"SMNT" => Command::Smnt(req("SMNT", args)?),
            b"REIN" => none("REIN", args).map(|()| Command::Rein)?,
            b"QUIT" => none("QUIT", args).map(|()| Command::Quit)?,
            b"PORT" => Command::Port(parse_host_port(req("PORT", args)?).ok_or(bad("PORT"))?),
            b"PASV" => none("PASV", args).map(|()| Command::Pasv)?,
            b"TYPE" => Command::Type(parse_type(req("TYPE", args)?).ok_or(bad("TYPE"))?),
            b"STRU" => Command::Stru(match req("STRU", args)? {
                [c] if c.eq_ignore_ascii_case(&b'F') => Structure::File,
                [c] if c.eq_ignore_ascii_case(&b'R') => Structure::Record,
                [c] if c.eq_ignore_ascii_case(&b'P') => Structure::Page,
                _ => return Err(bad("STRU")),
            }),
            b"MODE" => Command::Mode(match req("MODE", args)? {
                [c] if c.eq_ignore_ascii_case(&b'S') => TransferMode::Stream,
                [c] if c.eq_ignore_ascii_case(&b'B') => TransferMode::Block,
                [c] if c.eq_ignore_ascii_case(&b'C') => TransferMode::Compressed,
                _ => return Err(bad("MODE")),
            }),
            b"RETR" => Command::Retr(req("RETR", args)?),
            b"STOR" => Command::Stor(req("STOR", args)?),
            b"STOU" => Command::Stou(args),
            b"APPE" => Command::Appe(req("APPE", args)?),
            b"ALLO" => {
                let a = req("ALLO", args)?;
                let (size, rest) = split_sp(a);
                let size = dec_u64(size).ok_or(bad("ALLO"))?;
                let record = match rest {
                    None => None,
                    Some(r) => match r {
                        [c, b' ', n @ ..] if c.eq_ignore_ascii_case(&b'R') => {
                            Some(dec_u64(n).ok_or(bad("ALLO"))?)
                        }
                        _ => return Err(bad("ALLO")),
                    },
                };
                Command::Allo { size, record }
            }
            b"REST" => {
                let a = req("REST", args)?;
                if !a.iter().all(|&c| (33..=126).contains(&c)) {
                    return Err(bad("REST"));
                }
                Command::Rest(a)
            }
            b"RNFR" => Command::Rnfr(req("RNFR", args)?),
            b"RNTO" => Command::Rnto(req("RNTO", args)?),
            b"ABOR" => none("ABOR", args).map(|()| Command::Abor)?,
            b"DELE" => Command::Dele(req("DELE", args)?),
            b"RMD" => Command::Rmd(req("RMD", args)?),
            b"MKD" => Command::Mkd(req("MKD", args)?),
            b"PWD" => none("PWD", args).map(|()| Command::Pwd)?,
            b"LIST" => Command::List(args),
            b"NLST" => Command::Nlst(args),
            b"SITE" => Command::Site(req("SITE", args)?),
            b"SYST" => none("SYST", args).map(|()| Command::Syst)?,
            b"STAT" => Command::Stat(args),
            b"HELP" => Command::Help(args),
            b"NOOP" => none("NOOP", args).map(|()| Command::Noop)?,
            b"AUTH" => Command::Auth(req("AUTH", args)?),
            b"ADAT" => Command::Adat(req("ADAT", args)?),
            b"PROT" => Command::Prot(match req("PROT", args)? {
                [c] if c.eq_ignore_ascii_case(&b'C') => ProtLevel::Clear,
                [c] if c.eq_ignore_ascii_case(&b'S') => ProtLevel::Safe,
                [c] if c.eq_ignore_ascii_case(&b'E') => ProtLevel::Confidential,
                [c] if c.eq_ignore_ascii_case(&b'P') => ProtLevel::Private,
                _ => return Err(bad("PROT")),
            }),
            b"PBSZ" => Command::Pbsz(
                dec_u64(req("PBSZ", args)?)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or(bad("PBSZ"))?,
            ),
            b"CCC" => none("CCC", args).map(|()| Command::Ccc)?,
            b"FEAT" => none("FEAT", args).map(|()| Command::Feat)?,
            b"OPTS" => {
                let (command, params) = split_sp(req("OPTS", args)?);
                if command.is_empty() {
                    return Err(bad("OPTS"));
                }
                Command::Opts { command, params }
            }
            b"EPRT" => Command::Eprt(parse_eprt(req("EPRT", args)?).ok_or(bad("EPRT"))?),
            b"EPSV" => Command::Epsv(match args {
                None => EpsvArg::Any,
                Some(a) if eq_ic(a, b"ALL") => EpsvArg::All,
                Some(a) => EpsvArg::Protocol(dec_u16(a).ok_or(bad("EPSV"))?),
            }),
            b"SIZE" => Command::Size(req("SIZE", args)?),
            b"MDTM" => Command::Mdtm(req("MDTM", args)?),
            b"MLST" => Command::Mlst(args),
            b"MLSD" => Command::Mlsd(args),
            b"LANG" => Command::Lang(args),
            b"HOST" => Command::Host(req("HOST", args)?),
            b"MFMT" => {
                let (time, path) = split_sp(req("MFMT", args)?);
                // RFC 3659 2.3: a time-val year is 1000 to 9999; what the
                // encoder refuses the parser does not take.
                let time = Timestamp::parse_time_val(time)
                    .filter(Timestamp::fits_time_val)
                    .ok_or(bad("MFMT"))?;
                let path = req("MFMT", path)?;
                Command::Mfmt { time, path }
            }
            b"XCWD" => Command::Xcwd(req("XCWD", args)?),
            b"XPWD" => none("XPWD", args).map(|()| Command::Xpwd)?,
            b"XMKD" => Command::Xmkd(req("XMKD", args)?),
            b"XRMD" => Command::Xrmd(req("XRMD", args)?),
            b"XCUP" => none("XCUP", args).map(|()| Command::Xcup)?,
            _ => Command::Other { verb, args },
        };
        // A CR (unpadded from CR NUL, see `unpad_cr`) belongs in a pathname
        // only (RFC 2640 3.1); in MFMT only the path after the time may hold it.
        if has_cr {
            let in_path = match c {
                Command::Mfmt { path, .. } => memchr::memchr(b'\r', path).is_some(),
                _ => c.takes_pathname(),
            };
            if !in_path {
                return Err(match c {
                    Command::Other { .. } => CommandError::BadVerb,
                    _ => bad(c.verb()),
                });
            }
        }
        Ok(c)
    }

    /// True for the commands whose argument is a pathname (RFC 959 5.3.1
    /// `<pathname>`, and those of RFC 3659 and the X* aliases): a CR in it
    /// travels as CR NUL (RFC 2640 3.1; see [`unpad_cr`]).
    #[must_use]
    pub fn takes_pathname(&self) -> bool {
        matches!(
            self,
            Command::Cwd(_)
                | Command::Smnt(_)
                | Command::Retr(_)
                | Command::Stor(_)
                | Command::Stou(_)
                | Command::Appe(_)
                | Command::Rnfr(_)
                | Command::Rnto(_)
                | Command::Dele(_)
                | Command::Rmd(_)
                | Command::Mkd(_)
                | Command::List(_)
                | Command::Nlst(_)
                | Command::Stat(_)
                | Command::Size(_)
                | Command::Mdtm(_)
                | Command::Mlst(_)
                | Command::Mlsd(_)
                | Command::Mfmt { .. }
                | Command::Xcwd(_)
                | Command::Xmkd(_)
                | Command::Xrmd(_)
        )
    }

    /// The verb, upper-case (for [`Command::Other`], `"?"`).
    #[must_use]
    pub fn verb(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Acct(_) => "ACCT",
            Command::Cwd(_) => "CWD",
            Command::Cdup => "CDUP",
            Command::Smnt(_) => "SMNT",
            Command::Rein => "REIN",
            Command::Quit => "QUIT",
            Command::Port(_) => "PORT",
            Command::Pasv => "PASV",
            Command::Type(_) => "TYPE",
            Command::Stru(_) => "STRU",
            Command::Mode(_) => "MODE",
            Command::Retr(_) => "RETR",
            Command::Stor(_) => "STOR",
            Command::Stou(_) => "STOU",
            Command::Appe(_) => "APPE",
            Command::Allo { .. } => "ALLO",
            Command::Rest(_) => "REST",
            Command::Rnfr(_) => "RNFR",
            Command::Rnto(_) => "RNTO",
            Command::Abor => "ABOR",
            Command::Dele(_) => "DELE",
            Command::Rmd(_) => "RMD",
            Command::Mkd(_) => "MKD",
            Command::Pwd => "PWD",
            Command::List(_) => "LIST",
            Command::Nlst(_) => "NLST",
            Command::Site(_) => "SITE",
            Command::Syst => "SYST",
            Command::Stat(_) => "STAT",
            Command::Help(_) => "HELP",
            Command::Noop => "NOOP",
            Command::Auth(_) => "AUTH",
            Command::Adat(_) => "ADAT",
            Command::Prot(_) => "PROT",
            Command::Pbsz(_) => "PBSZ",
            Command::Ccc => "CCC",
            Command::Feat => "FEAT",
            Command::Opts { .. } => "OPTS",
            Command::Eprt(_) => "EPRT",
            Command::Epsv(_) => "EPSV",
            Command::Size(_) => "SIZE",
            Command::Mdtm(_) => "MDTM",
            Command::Mlst(_) => "MLST",
            Command::Mlsd(_) => "MLSD",
            Command::Lang(_) => "LANG",
            Command::Host(_) => "HOST",
            Command::Mfmt { .. } => "MFMT",
            Command::Xcwd(_) => "XCWD",
            Command::Xpwd => "XPWD",
            Command::Xmkd(_) => "XMKD",
            Command::Xrmd(_) => "XRMD",
            Command::Xcup => "XCUP",
            Command::Other { .. } => "?",
        }
    }

    /// The REST argument as a byte offset (RFC 3659 5: REST STREAM uses a decimal offset).
    #[must_use]
    pub fn rest_offset(&self) -> Option<u64> {
        match self {
            Command::Rest(m) => dec_u64(m),
            _ => None,
        }
    }

    /// The same command with an X* alias replaced by its RFC 959 form.
    #[must_use]
    pub fn canonical(self) -> Command<'a> {
        match self {
            Command::Xcwd(p) => Command::Cwd(p),
            Command::Xpwd => Command::Pwd,
            Command::Xmkd(p) => Command::Mkd(p),
            Command::Xrmd(p) => Command::Rmd(p),
            Command::Xcup => Command::Cdup,
            c => c,
        }
    }

    /// Writes the command and its CRLF.
    ///
    /// # Errors
    ///
    /// LF or NUL in an argument, CR in an argument that is no pathname (a CR
    /// in a pathname goes as CR NUL, RFC 2640 3.1; see the [module
    /// docs](self)), or an argument the syntax cannot carry (an empty path,
    /// a space in a verb). Nothing is written then.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use ftp_proto::Command;
    /// let mut out = BytesMut::new();
    /// Command::Stor(b"my file.txt").encode(&mut out).unwrap();
    /// assert_eq!(&out[..], b"STOR my file.txt\r\n");
    /// assert!(Command::Dele(b"x\r\nDELE y").encode(&mut out).is_err());
    /// ```
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        let start = out.len();
        let r = self.encode_inner(out);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn encode_inner(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        fn arg(out: &mut BytesMut, verb: &str, a: &[u8]) -> Result<(), EncodeError> {
            if a.is_empty() {
                return Err(EncodeError::Invalid("empty argument"));
            }
            check_arg(a)?;
            out.extend_from_slice(verb.as_bytes());
            out.extend_from_slice(b" ");
            out.extend_from_slice(a);
            Ok(())
        }
        fn path(out: &mut BytesMut, verb: &str, a: &[u8]) -> Result<(), EncodeError> {
            if a.is_empty() {
                return Err(EncodeError::Invalid("empty argument"));
            }
            out.extend_from_slice(verb.as_bytes());
            out.extend_from_slice(b" ");
            write_pathname(out, a)
        }
        fn opt_path(out: &mut BytesMut, verb: &str, a: Option<&[u8]>) -> Result<(), EncodeError> {
            out.extend_from_slice(verb.as_bytes());
            if let Some(a) = a {
                out.extend_from_slice(b" ");
                write_pathname(out, a)?;
            }
            Ok(())
        }
        fn opt(out: &mut BytesMut, verb: &str, a: Option<&[u8]>) -> Result<(), EncodeError> {
            out.extend_from_slice(verb.as_bytes());
            if let Some(a) = a {
                check_arg(a)?;
                out.extend_from_slice(b" ");
                out.extend_from_slice(a);
            }
            Ok(())
        }
        let v = self.verb();
        match *self {
            Command::User(a)
            | Command::Acct(a)
            | Command::Site(a)
            | Command::Auth(a)
            | Command::Adat(a)
            | Command::Host(a) => {
                arg(out, v, a)?;
            }
            Command::Cwd(a)
            | Command::Smnt(a)
            | Command::Retr(a)
            | Command::Stor(a)
            | Command::Appe(a)
            | Command::Rnfr(a)
            | Command::Rnto(a)
            | Command::Dele(a)
            | Command::Rmd(a)
            | Command::Mkd(a)
            | Command::Size(a)
            | Command::Mdtm(a)
            | Command::Xcwd(a)
            | Command::Xmkd(a)
            | Command::Xrmd(a) => path(out, v, a)?,
            Command::Rest(a) => {
                if !a.iter().all(|&c| (33..=126).contains(&c)) {
                    return Err(EncodeError::Invalid("REST marker must be printable ASCII"));
                }
                arg(out, v, a)?;
            }
            Command::Pass(p) => {
                check_arg(p.0)?;
                out.extend_from_slice(b"PASS ");
                out.extend_from_slice(p.0);
            }
            Command::Cdup
            | Command::Rein
            | Command::Quit
            | Command::Pasv
            | Command::Abor
            | Command::Pwd
            | Command::Syst
            | Command::Noop
            | Command::Ccc
            | Command::Feat
            | Command::Xpwd
            | Command::Xcup => out.extend_from_slice(v.as_bytes()),
            Command::Port(addr) => {
                out.extend_from_slice(b"PORT ");
                write_host_port(addr, out);
            }
            Command::Type(t) => {
                out.extend_from_slice(b"TYPE ");
                let fmt = |f: FormatControl| match f {
                    FormatControl::Default => &b""[..],
                    FormatControl::NonPrint => b" N",
                    FormatControl::Telnet => b" T",
                    FormatControl::Asa => b" C",
                };
                match t {
                    TransferType::Ascii(f) => {
                        out.extend_from_slice(b"A");
                        out.extend_from_slice(fmt(f));
                    }
                    TransferType::Ebcdic(f) => {
                        out.extend_from_slice(b"E");
                        out.extend_from_slice(fmt(f));
                    }
                    TransferType::Image => out.extend_from_slice(b"I"),
                    TransferType::Local(n) => {
                        if n == 0 {
                            return Err(EncodeError::Invalid("TYPE L needs a byte size"));
                        }
                        out.extend_from_slice(b"L ");
                        write_u64(out, u64::from(n));
                    }
                }
            }
            Command::Stru(s) => out.extend_from_slice(match s {
                Structure::File => b"STRU F",
                Structure::Record => b"STRU R",
                Structure::Page => b"STRU P",
            }),
            Command::Mode(m) => out.extend_from_slice(match m {
                TransferMode::Stream => b"MODE S",
                TransferMode::Block => b"MODE B",
                TransferMode::Compressed => b"MODE C",
            }),
            Command::Prot(p) => out.extend_from_slice(match p {
                ProtLevel::Clear => b"PROT C",
                ProtLevel::Safe => b"PROT S",
                ProtLevel::Confidential => b"PROT E",
                ProtLevel::Private => b"PROT P",
            }),
            Command::Stou(a)
            | Command::List(a)
            | Command::Nlst(a)
            | Command::Stat(a)
            | Command::Mlst(a)
            | Command::Mlsd(a) => opt_path(out, v, a)?,
            Command::Help(a) | Command::Lang(a) => opt(out, v, a)?,
            Command::Allo { size, record } => {
                out.extend_from_slice(b"ALLO ");
                write_u64(out, size);
                if let Some(r) = record {
                    out.extend_from_slice(b" R ");
                    write_u64(out, r);
                }
            }
            Command::Pbsz(n) => {
                out.extend_from_slice(b"PBSZ ");
                write_u64(out, u64::from(n));
            }
            Command::Opts { command, params } => {
                if command.is_empty() || memchr::memchr(b' ', command).is_some() {
                    return Err(EncodeError::Invalid("OPTS command name"));
                }
                arg(out, v, command)?;
                if let Some(p) = params {
                    check_arg(p)?;
                    out.extend_from_slice(b" ");
                    out.extend_from_slice(p);
                }
            }
            Command::Eprt(addr) => {
                out.extend_from_slice(b"EPRT |");
                out.extend_from_slice(if addr.is_ipv4() { b"1|" } else { b"2|" });
                out.extend_from_slice(addr.ip().to_string().as_bytes());
                out.extend_from_slice(b"|");
                write_u64(out, u64::from(addr.port()));
                out.extend_from_slice(b"|");
            }
            Command::Epsv(a) => match a {
                EpsvArg::Any => out.extend_from_slice(b"EPSV"),
                EpsvArg::All => out.extend_from_slice(b"EPSV ALL"),
                EpsvArg::Protocol(n) => {
                    out.extend_from_slice(b"EPSV ");
                    write_u64(out, u64::from(n));
                }
            },
            Command::Mfmt { time, path } => {
                if !time.fits_time_val() {
                    return Err(EncodeError::Invalid("MFMT time out of range"));
                }
                if path.is_empty() {
                    return Err(EncodeError::Invalid("empty argument"));
                }
                out.extend_from_slice(b"MFMT ");
                time.write_time_val(out)?;
                out.extend_from_slice(b" ");
                write_pathname(out, path)?;
            }
            Command::Other { verb, args } => {
                if verb.is_empty()
                    || verb.len() > 8
                    || !verb.iter().all(u8::is_ascii_alphanumeric)
                    || !verb[0].is_ascii_alphabetic()
                {
                    return Err(EncodeError::Invalid(
                        "verb must be 1 to 8 ASCII letters or digits",
                    ));
                }
                out.extend_from_slice(verb);
                if let Some(a) = args {
                    check_arg(a)?;
                    out.extend_from_slice(b" ");
                    out.extend_from_slice(a);
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }
}
