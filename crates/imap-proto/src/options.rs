//! [`Options`]: which protocol the codec speaks and which real-world quirks
//! it tolerates.

use crate::limits::Limits;

/// The IMAP version in effect. A client that reads responses with a
/// [`Framer`](crate::Framer) gives it the same version
/// ([`Framer::set_version`](crate::Framer::set_version)): where a response
/// line may end in a literal depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// IMAP4rev1 (RFC 3501): mailbox names in modified UTF-7.
    #[default]
    Rev1,
    /// IMAP4rev2 (RFC 9051): UTF-8 in quoted strings and mailbox names.
    Rev2,
}

/// Named leniencies for real servers, all off by default. Each one has a
/// test in `tests/quirks.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Quirks {
    /// Ignore spaces before the final CRLF (Outlook/Exchange send
    /// `* SEARCH 1 2 \r\n` and `* CAPABILITY ... \r\n`).
    pub trailing_space: bool,
    /// Accept `* STATUS box` with no item list at all (some servers send
    /// it for an empty answer instead of `()`).
    pub missing_status_list: bool,
    /// Accept `]` inside flag keywords in FLAGS/PERMANENTFLAGS/STORE lists
    /// (Gmail sends keywords like `[Gmail]Label]`... style names).
    pub bracket_in_flags: bool,
    /// Accept a continuation request that is a bare `+` with no space and
    /// no text.
    pub bare_continuation: bool,
    /// Accept NIL as a body part's Content-Transfer-Encoding.
    pub nil_body_encoding: bool,
    /// Accept `-1` as a body part's octet count (read as 0).
    pub negative_octets: bool,
    /// Accept 8-bit bytes in quoted strings under IMAP4rev1, and bytes that
    /// are not UTF-8 under IMAP4rev2 or UTF8=ACCEPT (servers that send raw
    /// 8-bit file names in BODYSTRUCTURE parameters). The bytes are kept as
    /// they are; a LIST or NAMESPACE hierarchy delimiter, a `char`, must
    /// still be one UTF-8 character.
    pub eight_bit_quoted: bool,
    /// Accept spaces between the addresses of an ENVELOPE address list.
    pub spaces_between_addresses: bool,
    /// Accept a status response with no text, or a continuation request
    /// with a response code and no text, under IMAP4rev1 (RFC 3501 section
    /// 9 asks for `text = 1*TEXT-CHAR` in `resp-text`; IMAP4rev2 made it
    /// optional, and servers that speak it send `a1 OK` or
    /// `* OK [READ-WRITE]`). The text reads as empty; the encoder does not
    /// write it under IMAP4rev1.
    pub empty_text: bool,
    /// Accept 8-bit bytes in response text (`resp-text` and a response
    /// code's argument) under IMAP4rev1, and bytes that are not UTF-8 under
    /// IMAP4rev2 (servers that send messages in a local charset). The bytes
    /// are kept as they are; the encoder does not write them.
    pub eight_bit_text: bool,
    /// Read the places where RFC 3501 section 9 has a 32-bit `number` and
    /// RFC 9051 section 9 a 63-bit `number64` as IMAP4rev2 reads them, under
    /// IMAP4rev1 too: RFC822.SIZE, BINARY.SIZE, body-fld-lines, body
    /// extension numbers, the `<origin>` of BODY[]/BINARY[], a partial
    /// range `<offset.length>` and SEARCH LARGER/SMALLER. Servers that speak
    /// only IMAP4rev1 yet store messages over 4 GiB send such sizes (client
    /// libraries widened their RFC822.SIZE for them: JavaMail, Indy); without
    /// the quirk the whole FETCH line fails to parse, its UID and flags with
    /// it. The values stay 63-bit (and `nz` where the grammar says so); the
    /// encoder still refuses to write them under IMAP4rev1.
    ///
    /// Off by default, like every quirk: [`Options`] serves a server's
    /// command parser as well as a client's response parser, and RFC 3501
    /// is the grammar. A client that talks to servers it does not control
    /// should turn it on: a size is data, no framing depends on it (a
    /// literal's length is read as `number64` already), so reading a wider
    /// one cannot desynchronize the stream, while refusing it loses the
    /// whole line. UIDs, sequence numbers, UIDVALIDITY and counts stay
    /// 32-bit: RFC 9051 kept them so, and a wider one is a broken server.
    pub wide_rev1_numbers: bool,
}

/// What the codec speaks. Both the parsers and the encoders take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// IMAP4rev1 or IMAP4rev2.
    pub version: Version,
    /// UTF8=ACCEPT was enabled (RFC 6855): UTF-8 as under IMAP4rev2.
    pub utf8_accept: bool,
    /// LITERAL+ is in effect: the server offers it. A client's encoder then
    /// sends `{n+}`, and a server's parser accepts it; without it (nor
    /// LITERAL- nor IMAP4rev2) a command with `{n+}` is refused.
    pub literal_plus: bool,
    /// LITERAL- is in effect: as `literal_plus`, for literals of up to 4096
    /// bytes (IMAP4rev2 allows the same without it).
    pub literal_minus: bool,
    /// Tolerated quirks.
    pub quirks: Quirks,
    /// Size and depth bounds.
    pub limits: Limits,
}

impl Options {
    /// Options for IMAP4rev2.
    #[must_use]
    pub fn rev2() -> Self {
        Options {
            version: Version::Rev2,
            ..Options::default()
        }
    }

    /// Whether `resp-text` may go without text: RFC 9051 section 9 has
    /// `resp-text = ["[" resp-text-code "]" SP] [text]`, where RFC 3501
    /// section 9 has `... text` with `text = 1*TEXT-CHAR`. The parser and
    /// the encoder both follow it (the parser also under
    /// [`Quirks::empty_text`]).
    pub(crate) fn empty_text_allowed(&self) -> bool {
        self.version == Version::Rev2
    }

    /// Whether `b` holds only characters that response text may hold,
    /// besides the CR, LF and NUL that no text holds: US-ASCII under
    /// IMAP4rev1 (RFC 3501 section 9: `TEXT-CHAR = <any CHAR except CR and
    /// LF>`, `CHAR = %x01-7F`; RFC 6855 extends quoted strings only), UTF-8
    /// under IMAP4rev2 (RFC 9051 section 9: `text = 1*(TEXT-CHAR / UTF8-2 /
    /// UTF8-3 / UTF8-4)`).
    pub(crate) fn text_chars_ok(&self, b: &[u8]) -> bool {
        b.is_ascii() || (self.version == Version::Rev2 && std::str::from_utf8(b).is_ok())
    }

    /// Whether a client may send a literal of `len` octets in the
    /// non-synchronizing form `{n+}`: any size under LITERAL+, at most 4096
    /// octets under LITERAL- (RFC 7888 sections 4 and 5) or IMAP4rev2 (RFC
    /// 9051 section 4.3), never otherwise (RFC 3501 section 9: `literal =
    /// "{" number "}" CRLF *CHAR8`): what a server's parser accepts. (A
    /// client's encoder writes `{n+}` only under LITERAL+ or LITERAL-.)
    pub(crate) fn nonsync_literal_ok(&self, len: u64) -> bool {
        self.literal_plus || ((self.literal_minus || self.version == Version::Rev2) && len <= 4096)
    }

    /// Whether UTF-8 is allowed in quoted strings and mailbox names.
    #[must_use]
    pub fn utf8(&self) -> bool {
        self.version == Version::Rev2 || self.utf8_accept
    }
}
