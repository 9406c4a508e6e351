//! Server-to-client messages: [`Response`] (status, data, continuation),
//! response codes, FETCH items, body structures and envelopes. Parsing is
//! [`Response::parse`], encoding [`Response::encode`].

use bytes::Bytes;

use crate::command::StatusItem;
use crate::types::{Capability, DateTime, Flag, FlagList, Mailbox, NStr, SeqSet, Str, Tag};

/// One server response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Tagged or untagged OK/NO/BAD, or untagged PREAUTH/BYE.
    Status(StatusResponse),
    /// Untagged data.
    Data(Data),
    /// `+ ...` continuation request.
    Continue(Continue),
}

/// The kind of a status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusKind {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// `PREAUTH` (greeting only).
    PreAuth,
    /// `BYE`.
    Bye,
}

/// A status response (`tag OK [code] text`, `* BYE text`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResponse {
    /// The tag (`None`: untagged).
    pub tag: Option<Tag>,
    /// OK, NO, BAD, PREAUTH or BYE.
    pub kind: StatusKind,
    /// The response code in brackets.
    pub code: Option<Code>,
    /// Human-readable text. Empty only under IMAP4rev2 (RFC 9051 section 9:
    /// `[text]`), or when read under [`Quirks::empty_text`](crate::Quirks);
    /// the encoder refuses it under IMAP4rev1 (RFC 3501 section 9: `text =
    /// 1*TEXT-CHAR`) rather than make up a text.
    pub text: Bytes,
}

/// A continuation request: `+ [code] text` or `+ base64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continue {
    /// A response code, when the text starts with one.
    pub code: Option<Code>,
    /// The text (or base64 challenge) after `+ `. Empty with a code only
    /// under IMAP4rev2, as [`StatusResponse::text`]; empty without one is
    /// an empty base64 challenge (`+ `), fine in both.
    pub text: Bytes,
}

impl Continue {
    /// The text decoded as a base64 SASL challenge.
    ///
    /// # Errors
    ///
    /// The text is not base64.
    pub fn challenge(&self) -> Result<Vec<u8>, base64::DecodeError> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(&self.text)
    }
}

macro_rules! atom_codes {
    ($($(#[$m:meta])* $v:ident = $s:literal,)*) => {
        /// A response code without arguments (RFC 3501, RFC 9051, RFC 5530,
        /// and extensions).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum CodeAtom { $($(#[$m])* #[doc = $s] $v,)* }
        impl CodeAtom {
            pub(crate) const ALL: &'static [(CodeAtom, &'static [u8])] = &[$((CodeAtom::$v, $s.as_bytes()),)*];
            /// The wire name.
            #[must_use]
            pub fn name(self) -> &'static [u8] {
                match self { $(CodeAtom::$v => $s.as_bytes(),)* }
            }
        }
    };
}

atom_codes! {
    Alert = "ALERT",
    Parse = "PARSE",
    ReadOnly = "READ-ONLY",
    ReadWrite = "READ-WRITE",
    TryCreate = "TRYCREATE",
    UidNotSticky = "UIDNOTSTICKY",
    NoModSeq = "NOMODSEQ",
    Closed = "CLOSED",
    Unavailable = "UNAVAILABLE",
    AuthenticationFailed = "AUTHENTICATIONFAILED",
    AuthorizationFailed = "AUTHORIZATIONFAILED",
    Expired = "EXPIRED",
    PrivacyRequired = "PRIVACYREQUIRED",
    ContactAdmin = "CONTACTADMIN",
    NoPerm = "NOPERM",
    InUse = "INUSE",
    ExpungeIssued = "EXPUNGEISSUED",
    Corruption = "CORRUPTION",
    ServerBug = "SERVERBUG",
    ClientBug = "CLIENTBUG",
    Cannot = "CANNOT",
    Limit = "LIMIT",
    OverQuota = "OVERQUOTA",
    AlreadyExists = "ALREADYEXISTS",
    NonExistent = "NONEXISTENT",
    HasChildren = "HASCHILDREN",
    NotSaved = "NOTSAVED",
    UnknownCte = "UNKNOWN-CTE",
    CompressionActive = "COMPRESSIONACTIVE",
    UseAttr = "USEATTR",
    TooBig = "TOOBIG",
}

/// A response code (`[...]` after OK/NO/BAD/PREAUTH/BYE).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// A code without arguments.
    Atom(CodeAtom),
    /// `BADCHARSET [(charsets)]`.
    BadCharset(Vec<Str>),
    /// `CAPABILITY caps`.
    Capability(Vec<Capability>),
    /// `PERMANENTFLAGS (flags)`.
    PermanentFlags(Vec<Flag>),
    /// `UIDNEXT n`.
    UidNext(u32),
    /// `UIDVALIDITY n`.
    UidValidity(u32),
    /// `UNSEEN n` (IMAP4rev1).
    Unseen(u32),
    /// `APPENDUID uidvalidity uids` (RFC 4315).
    AppendUid {
        /// UIDVALIDITY of the destination.
        uid_validity: u32,
        /// The new UIDs: a `uid-set` of `nz-number`s, never `*` or `$`.
        /// A code that holds them is kept raw as [`Code::Other`], and the
        /// encoder refuses them.
        uids: SeqSet,
    },
    /// `COPYUID uidvalidity source-uids dest-uids` (RFC 4315).
    CopyUid {
        /// UIDVALIDITY of the destination.
        uid_validity: u32,
        /// Source UIDs (a `uid-set`: no `*`, no `$`; see
        /// [`Code::AppendUid`]).
        source: SeqSet,
        /// Destination UIDs (a `uid-set`).
        dest: SeqSet,
    },
    /// `HIGHESTMODSEQ n` (RFC 7162).
    HighestModSeq(u64),
    /// `MODIFIED set` (RFC 7162).
    Modified(SeqSet),
    /// `APPENDLIMIT n` (RFC 7889, optional number).
    AppendLimit(Option<u64>),
    /// `MAILBOXID (id)` (RFC 8474).
    MailboxId(Bytes),
    /// Any other code, with its raw argument text: a code this crate does
    /// not know (RFC 9051 section 7.1: a client ignores it), or a known one
    /// whose argument breaks that code's grammar (`[UIDNEXT 4294967296]`,
    /// `[UIDVALIDITY 01]`, `[ALERT now]`), which
    /// [`is_malformed`](Code::is_malformed) tells apart.
    Other(Bytes, Option<Bytes>),
}

impl Code {
    /// Whether this is a [`Code::Other`] whose name is one of the codes this
    /// crate reads typed (any [`CodeAtom`], or a variant above), compared
    /// case-insensitively: the server sent that code with an argument its
    /// grammar does not allow (RFC 9051 section 9, RFC 4315, RFC 7162, ...).
    ///
    /// The parser keeps such a code rather than refusing the response: the
    /// generic alternative of `resp-text-code`, `atom [SP 1*<any TEXT-CHAR
    /// except "]">]`, matches it, and refusing would lose the whole line (a
    /// command's completion, the text of an untagged OK). A client that
    /// relies on the value (UIDNEXT, UIDVALIDITY, APPENDUID, ...) checks this
    /// and treats the value as unknown, where it may simply ignore a code it
    /// does not know.
    #[must_use]
    pub fn is_malformed(&self) -> bool {
        matches!(self, Code::Other(name, _) if code_kind(name).is_some())
    }
}

/// A code this crate reads typed, by name: what [`code_kind`] finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeKind {
    Atom(CodeAtom),
    BadCharset,
    Capability,
    PermanentFlags,
    UidNext,
    UidValidity,
    Unseen,
    AppendUid,
    CopyUid,
    HighestModSeq,
    Modified,
    AppendLimit,
    MailboxId,
}

/// The codes with arguments (or an optional one) that [`Code`] holds typed.
const CODES_WITH_ARGS: &[(CodeKind, &[u8])] = &[
    (CodeKind::BadCharset, b"BADCHARSET"),
    (CodeKind::Capability, b"CAPABILITY"),
    (CodeKind::PermanentFlags, b"PERMANENTFLAGS"),
    (CodeKind::UidNext, b"UIDNEXT"),
    (CodeKind::UidValidity, b"UIDVALIDITY"),
    (CodeKind::Unseen, b"UNSEEN"),
    (CodeKind::AppendUid, b"APPENDUID"),
    (CodeKind::CopyUid, b"COPYUID"),
    (CodeKind::HighestModSeq, b"HIGHESTMODSEQ"),
    (CodeKind::Modified, b"MODIFIED"),
    (CodeKind::AppendLimit, b"APPENDLIMIT"),
    (CodeKind::MailboxId, b"MAILBOXID"),
];

/// The one list of known response code names: which typed code `name`
/// (any case) is, if any. The parser dispatches on it and
/// [`Code::is_malformed`] asks it.
pub(crate) fn code_kind(name: &[u8]) -> Option<CodeKind> {
    if let Some((a, _)) = CodeAtom::ALL.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
        return Some(CodeKind::Atom(*a));
    }
    CODES_WITH_ARGS
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(k, _)| *k)
}

/// Untagged data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Data {
    /// `* CAPABILITY ...`.
    Capability(Vec<Capability>),
    /// `* LIST ...`.
    List(ListData),
    /// `* LSUB ...`.
    Lsub(ListData),
    /// `* STATUS mailbox (item value ...)`.
    Status {
        /// Mailbox.
        mailbox: Mailbox,
        /// Items and values. `None` is NIL, which only `APPENDLIMIT` takes:
        /// the mailbox has no limit (RFC 7889 section 3.1: `"APPENDLIMIT" SP
        /// (number / nil)`), unlike 0, which allows no APPEND at all.
        items: Vec<(StatusItem, Option<u64>)>,
        /// `MAILBOXID (objectid)` (RFC 8474 section 4): the mailbox's
        /// server-assigned id, `objectid = 1*255(ALPHA / DIGIT / "_" / "-")`.
        /// Written after `items`.
        mailbox_id: Option<Bytes>,
        /// Items this crate does not know, kept as name and generic value:
        /// RFC 9051 section 9 asks STATUS extensions to use the tagged-ext
        /// syntax (`tagged-ext-label SP tagged-ext-val`), so their end is
        /// known. Written last; a name must not be one of the known items.
        other: Vec<(Bytes, ExtValue)>,
    },
    /// `* FLAGS (...)`.
    Flags(Vec<Flag>),
    /// `* n EXISTS`.
    Exists(u32),
    /// `* n RECENT`.
    Recent(u32),
    /// `* n EXPUNGE`.
    Expunge(u32),
    /// `* VANISHED [(EARLIER)] uids` (RFC 7162).
    Vanished {
        /// `(EARLIER)`.
        earlier: bool,
        /// UIDs (`known-uids`: never `*` or `$`, RFC 7162 section 7).
        uids: SeqSet,
    },
    /// `* SEARCH n ... [(MODSEQ m)]`.
    Search {
        /// Matching numbers.
        nums: Vec<u32>,
        /// Highest mod-sequence (CONDSTORE).
        mod_seq: Option<u64>,
    },
    /// `* ESEARCH [(TAG t [MAILBOX m UIDVALIDITY v])] [UID] items` (RFC
    /// 4731, RFC 7377).
    ESearch {
        /// The search's tag.
        tag: Option<Str>,
        /// The mailbox searched and its UIDVALIDITY, in the answer to a
        /// multimailbox ESEARCH (RFC 7377 section 6: `SP "MAILBOX" SP
        /// astring SP "UIDVALIDITY" SP nz-number` after the tag). Only
        /// written with a tag.
        mailbox: Option<(Mailbox, u32)>,
        /// UID numbers.
        uid: bool,
        /// Return data.
        items: Vec<ESearchItem>,
    },
    /// `* n FETCH (items)`.
    Fetch {
        /// Message sequence number.
        seq: u32,
        /// Items.
        items: Vec<FetchItem>,
    },
    /// `* ENABLED caps`.
    Enabled(Vec<Bytes>),
    /// `* ID (fields)` / `* ID NIL`.
    Id(Option<Vec<(Str, NStr)>>),
    /// `* NAMESPACE personal other shared`.
    Namespace {
        /// Personal namespaces (`None`: NIL).
        personal: Option<Vec<NamespaceDesc>>,
        /// Other users' namespaces.
        other: Option<Vec<NamespaceDesc>>,
        /// Shared namespaces.
        shared: Option<Vec<NamespaceDesc>>,
    },
    /// `* QUOTA root (resource usage limit ...)`.
    Quota {
        /// Quota root.
        root: Str,
        /// Resources.
        resources: Vec<QuotaResource>,
    },
    /// `* QUOTAROOT mailbox roots...`.
    QuotaRoot {
        /// Mailbox.
        mailbox: Mailbox,
        /// Its quota roots.
        roots: Vec<Str>,
    },
    /// `* SORT n ... [(MODSEQ m)]`.
    Sort {
        /// Sorted numbers.
        nums: Vec<u32>,
        /// Highest mod-sequence (CONDSTORE).
        mod_seq: Option<u64>,
    },
    /// `* THREAD threads`.
    Thread(Vec<Thread>),
}

/// LIST/LSUB data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListData {
    /// Mailbox attributes (`\Noselect`, `\HasChildren`, special-use, ...):
    /// up to two inline (see [`FlagList`]).
    pub attrs: FlagList,
    /// Hierarchy delimiter (`None`: NIL): one `QUOTED-CHAR`, US-ASCII
    /// under IMAP4rev1 (RFC 3501 section 9), any UTF-8 character under
    /// IMAP4rev2 or UTF8=ACCEPT (RFC 9051 section 9, RFC 6855 section 3).
    /// `"` and `\` are written escaped; CR, LF and NUL are refused.
    ///
    /// ```
    /// use imap_proto::{Data, Options, Response};
    /// let wire = "* LIST () \"\u{2192}\" \"a\u{2192}b\"\r\n";
    /// let r = Response::parse(&bytes::Bytes::from(wire), &Options::rev2()).unwrap();
    /// let Response::Data(Data::List(l)) = &r else { panic!() };
    /// assert_eq!(l.delimiter, Some('\u{2192}'));
    /// assert_eq!(r.encode(&Options::rev2()).unwrap().bytes, wire.as_bytes());
    /// assert!(Response::parse(&bytes::Bytes::from(wire), &Options::default()).is_err());
    /// ```
    pub delimiter: Option<char>,
    /// Mailbox.
    pub mailbox: Mailbox,
    /// Extended data (`CHILDINFO`, `OLDNAME`, ...; RFC 5258).
    pub extended: Vec<(Str, ExtValue)>,
}

/// A tagged extension value (RFC 4466 `tagged-ext-val`), kept generic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtValue {
    /// A bare token (number, sequence set or atom).
    Atom(Bytes),
    /// A quoted string or literal.
    Str(Str),
    /// `( ... )`.
    List(Vec<ExtValue>),
}

/// An ESEARCH return item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ESearchItem {
    /// `MIN n`.
    Min(u32),
    /// `MAX n`.
    Max(u32),
    /// `ALL set`.
    All(SeqSet),
    /// `COUNT n`.
    Count(u32),
    /// `MODSEQ n` (RFC 4731 section 4): a `mod-sequence-value`, never 0
    /// (RFC 7162 section 7).
    ModSeq(u64),
    /// Another item.
    Other(Bytes, ExtValue),
}

/// One NAMESPACE description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceDesc {
    /// Prefix.
    pub prefix: Str,
    /// Delimiter (`None`: NIL), as [`ListData::delimiter`].
    pub delimiter: Option<char>,
    /// Extensions: name and values.
    pub extensions: Vec<(Str, Vec<Str>)>,
}

/// One QUOTA resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaResource {
    /// Name (`STORAGE`, `MESSAGE`, ...).
    pub name: Bytes,
    /// Usage.
    pub usage: u64,
    /// Limit.
    pub limit: u64,
}

/// A thread: a chain of messages, then two or more sub-threads
/// (RFC 5256 `thread-list`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Thread {
    /// Messages in order, each the parent of the next.
    pub ids: Vec<u32>,
    /// Children of the last id (zero, or two or more).
    pub children: Vec<Thread>,
}

/// A FETCH response item.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchItem {
    /// `FLAGS (...)`: up to two flags inline (see [`FlagList`]). It was a
    /// `Vec<Flag>`; `.into()` converts either way.
    Flags(FlagList),
    /// `ENVELOPE (...)`.
    Envelope(Box<Envelope>),
    /// `INTERNALDATE "..."`.
    InternalDate(DateTime),
    /// `RFC822 nstring`.
    Rfc822(NStr),
    /// `RFC822.HEADER nstring`.
    Rfc822Header(NStr),
    /// `RFC822.TEXT nstring`.
    Rfc822Text(NStr),
    /// `RFC822.SIZE n`.
    Rfc822Size(u64),
    /// `BODY (...)` (no extension data).
    Body(Box<BodyStructure>),
    /// `BODYSTRUCTURE (...)`.
    BodyStructure(Box<BodyStructure>),
    /// `BODY[section]<origin> nstring`.
    BodySection {
        /// The section.
        section: crate::command::Section,
        /// `<origin>` of a partial fetch, up to 2^63-1. The RFC 9051 section
        /// 9 rule `msg-att-static` writes it as 32-bit `number`, but the
        /// request's offset is `number64` (`partial`), the server echoes it
        /// here, and Appendix D says clients "have to expect" 63-bit body
        /// part sizes; a u32 could not answer a partial fetch past 4 GiB.
        origin: Option<u64>,
        /// The data (NIL, string, literal, or streamed literal).
        data: NStr,
    },
    /// `BINARY[part]<origin> nstring/literal8`.
    Binary {
        /// Part numbers.
        part: Vec<u32>,
        /// `<origin>` of a partial fetch, an offset in the decoded data, up to
        /// 2^63-1: RFC 3516 section 4.3 and RFC 9051 section 7.5.2 define it
        /// (`BINARY[<section-binary>]<<number>>`), though their
        /// `msg-att-static` ABNF leaves it out.
        origin: Option<u64>,
        /// The data.
        data: NStr,
    },
    /// `BINARY.SIZE[part] n`.
    BinarySize {
        /// Part numbers.
        part: Vec<u32>,
        /// Decoded size.
        size: u64,
    },
    /// `UID n`.
    Uid(u32),
    /// `MODSEQ (n)`.
    ModSeq(u64),
    /// `SAVEDATE date-time / NIL`.
    SaveDate(Option<DateTime>),
    /// `EMAILID (id)`.
    EmailId(Bytes),
    /// `THREADID (id) / NIL`.
    ThreadId(Option<Bytes>),
}

/// An ENVELOPE.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct Envelope {
    pub date: NStr,
    pub subject: NStr,
    pub from: Option<Vec<Address>>,
    pub sender: Option<Vec<Address>>,
    pub reply_to: Option<Vec<Address>>,
    pub to: Option<Vec<Address>>,
    pub cc: Option<Vec<Address>>,
    pub bcc: Option<Vec<Address>>,
    pub in_reply_to: NStr,
    pub message_id: NStr,
}

/// An address of an ENVELOPE (group syntax uses NIL host; RFC 9051 7.5.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub struct Address {
    pub name: NStr,
    pub adl: NStr,
    pub mailbox: NStr,
    pub host: NStr,
}

/// A body structure (RFC 9051 7.5.2 BODYSTRUCTURE).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum BodyStructure {
    /// A non-multipart part.
    Single {
        /// The basic fields.
        fields: BodyFields,
        /// Type-specific fields.
        kind: SingleKind,
        /// Extension data (BODYSTRUCTURE only).
        ext: Option<Box<SingleExt>>,
    },
    /// A multipart.
    Multi {
        /// The parts (at least one; RFC 9051 grammar).
        parts: Vec<BodyStructure>,
        /// Subtype (`MIXED`, ...).
        subtype: Str,
        /// Extension data.
        ext: Option<Box<MultiExt>>,
    },
}

/// The fields of every non-multipart part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFields {
    /// Media type (`TEXT`, `APPLICATION`, ...).
    pub media_type: Str,
    /// Subtype.
    pub subtype: Str,
    /// Parameters (`None`: NIL).
    pub params: Option<Vec<(Str, Str)>>,
    /// Content-ID.
    pub id: NStr,
    /// Content-Description.
    pub description: NStr,
    /// Content-Transfer-Encoding (`None`: NIL, only under a quirk).
    pub encoding: NStr,
    /// Size in octets (-1 is read as 0 under a quirk).
    pub octets: u32,
}

/// What follows the basic fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SingleKind {
    /// Any type other than text and message/rfc822.
    Basic,
    /// `TEXT/*`: line count.
    Text {
        /// Lines (RFC 9051 section 9: `body-fld-lines = number64`, at most
        /// 2^63-1; RFC 3501 had a 32-bit `number`).
        lines: u64,
    },
    /// `MESSAGE/RFC822` (and `MESSAGE/GLOBAL`): envelope, body, lines.
    Message {
        /// The enclosed message's envelope.
        envelope: Box<Envelope>,
        /// Its body structure.
        body: Box<BodyStructure>,
        /// Lines (`number64`, as for [`SingleKind::Text`]).
        lines: u64,
    },
}

/// Extension data of a non-multipart part; each field is present only if
/// the previous one is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleExt {
    /// Content-MD5.
    pub md5: NStr,
    /// The rest.
    pub tail: Option<DispositionExt>,
}

/// Extension data of a multipart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiExt {
    /// Parameters (`None`: NIL).
    pub params: Option<Vec<(Str, Str)>>,
    /// The rest.
    pub tail: Option<DispositionExt>,
}

/// Disposition and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispositionExt {
    /// `(type params)` or NIL.
    pub disposition: Option<Disposition>,
    /// The rest.
    pub tail: Option<LanguageExt>,
}

/// `(type params)` of Content-Disposition.
pub type Disposition = (Str, Option<Vec<(Str, Str)>>);

/// Language and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageExt {
    /// Languages.
    pub language: Language,
    /// The rest.
    pub tail: Option<LocationExt>,
}

/// `body-fld-lang`: one nstring or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Language {
    /// One value or NIL.
    Single(NStr),
    /// `(a b ...)`.
    List(Vec<Str>),
}

/// Location and further extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationExt {
    /// Content-Location.
    pub location: NStr,
    /// Future extensions.
    pub extensions: Vec<BodyExtension>,
}

/// `body-extension`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyExtension {
    /// nstring.
    Str(NStr),
    /// number.
    Number(u64),
    /// `( ... )`.
    List(Vec<BodyExtension>),
}
