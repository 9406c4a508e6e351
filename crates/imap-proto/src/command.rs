//! Client-to-server messages: [`Command`] and the types of its arguments.
//! Parsing is [`Command::parse`], encoding [`Command::encode`].

use bytes::Bytes;

use crate::types::{Date, DateTime, Flag, Mailbox, NStr, Sensitive, SeqSet, Str, Tag};

/// A tagged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The tag the server echoes in the completion response.
    pub tag: Tag,
    /// What is asked.
    pub body: CommandBody,
}

/// Every command of RFC 3501 and RFC 9051 and of the supported extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandBody {
    /// `CAPABILITY`.
    Capability,
    /// `NOOP`.
    Noop,
    /// `LOGOUT`.
    Logout,
    /// `STARTTLS`.
    StartTls,
    /// `AUTHENTICATE mech [initial-response]` (SASL-IR, RFC 4959).
    Authenticate {
        /// SASL mechanism name.
        mechanism: Bytes,
        /// The initial response: base64 text as sent, or `=` for an empty one.
        initial_response: Option<Sensitive<Bytes>>,
    },
    /// `LOGIN user password`.
    Login {
        /// User name.
        username: Str,
        /// Password.
        password: Sensitive<Str>,
    },
    /// `SELECT mailbox [(params)]`.
    Select {
        /// Mailbox.
        mailbox: Mailbox,
        /// CONDSTORE / QRESYNC parameters.
        params: Vec<SelectParam>,
    },
    /// `EXAMINE mailbox [(params)]`.
    Examine {
        /// Mailbox.
        mailbox: Mailbox,
        /// CONDSTORE / QRESYNC parameters.
        params: Vec<SelectParam>,
    },
    /// `CREATE mailbox [(USE (attrs))]` (RFC 6154 CREATE-SPECIAL-USE).
    Create {
        /// Mailbox.
        mailbox: Mailbox,
        /// Special-use attributes asked for.
        special_use: Vec<Flag>,
    },
    /// `DELETE mailbox`.
    Delete(Mailbox),
    /// `RENAME from to`.
    Rename {
        /// Existing name.
        from: Mailbox,
        /// New name.
        to: Mailbox,
    },
    /// `SUBSCRIBE mailbox`.
    Subscribe(Mailbox),
    /// `UNSUBSCRIBE mailbox`.
    Unsubscribe(Mailbox),
    /// `LIST [(selection)] reference pattern(s) [RETURN (options)]`
    /// (RFC 5258 LIST-EXTENDED, RFC 6154, RFC 5819).
    List {
        /// Selection options.
        selection: Vec<ListSelect>,
        /// Reference name.
        reference: Mailbox,
        /// One or more patterns (list-mailbox or string).
        patterns: Vec<Str>,
        /// Return options (`None`: no RETURN clause; `Some(vec![])`: `RETURN ()`).
        returns: Option<Vec<ListReturn>>,
    },
    /// `LSUB reference pattern`.
    Lsub {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: Str,
    },
    /// `NAMESPACE`.
    Namespace,
    /// `STATUS mailbox (items)`.
    Status {
        /// Mailbox.
        mailbox: Mailbox,
        /// Items asked for.
        items: Vec<StatusItem>,
    },
    /// `APPEND mailbox [flags] [date] message` (several messages with
    /// MULTIAPPEND, RFC 3502).
    Append {
        /// Mailbox.
        mailbox: Mailbox,
        /// One entry per message.
        messages: Vec<AppendMessage>,
    },
    /// `IDLE` (the `DONE` line is parsed by [`crate::parse_idle_done`]).
    Idle,
    /// `CHECK` (IMAP4rev1).
    Check,
    /// `CLOSE`.
    Close,
    /// `UNSELECT`.
    Unselect,
    /// `EXPUNGE`.
    Expunge,
    /// `UID EXPUNGE set` (UIDPLUS).
    UidExpunge(SeqSet),
    /// `[UID] SEARCH [RETURN (opts)] [CHARSET c] keys`.
    Search {
        /// UID SEARCH.
        uid: bool,
        /// ESEARCH return options (`None`: no RETURN clause).
        returns: Option<Vec<SearchReturn>>,
        /// Charset.
        charset: Option<Str>,
        /// Criteria (all must match).
        criteria: Vec<SearchKey>,
    },
    /// `[UID] FETCH set items [(modifiers)]`.
    Fetch {
        /// UID FETCH.
        uid: bool,
        /// Messages.
        set: SeqSet,
        /// What to fetch.
        items: FetchItems,
        /// CONDSTORE/QRESYNC modifiers.
        modifiers: Vec<FetchModifier>,
    },
    /// `[UID] STORE set [(UNCHANGEDSINCE n)] [+-]FLAGS[.SILENT] flags`.
    Store {
        /// UID STORE.
        uid: bool,
        /// Messages.
        set: SeqSet,
        /// CONDSTORE `UNCHANGEDSINCE`.
        unchanged_since: Option<u64>,
        /// Replace, add or remove.
        mode: StoreMode,
        /// `.SILENT`.
        silent: bool,
        /// The flags.
        flags: Vec<Flag>,
    },
    /// `[UID] COPY set mailbox`.
    Copy {
        /// UID COPY.
        uid: bool,
        /// Messages.
        set: SeqSet,
        /// Destination.
        mailbox: Mailbox,
    },
    /// `[UID] MOVE set mailbox` (RFC 6851).
    Move {
        /// UID MOVE.
        uid: bool,
        /// Messages.
        set: SeqSet,
        /// Destination.
        mailbox: Mailbox,
    },
    /// `ENABLE caps` (RFC 5161).
    Enable(Vec<Bytes>),
    /// `ID (fields)` or `ID NIL` (RFC 2971).
    Id(Option<Vec<(Str, NStr)>>),
    /// `[UID] SORT (criteria) charset keys` (RFC 5256).
    Sort {
        /// UID SORT.
        uid: bool,
        /// Sort criteria.
        criteria: Vec<SortCriterion>,
        /// Charset.
        charset: Str,
        /// Search criteria.
        search: Vec<SearchKey>,
    },
    /// `[UID] THREAD algorithm charset keys` (RFC 5256).
    Thread {
        /// UID THREAD.
        uid: bool,
        /// Algorithm (`ORDEREDSUBJECT`, `REFERENCES`).
        algorithm: Bytes,
        /// Charset.
        charset: Str,
        /// Search criteria.
        search: Vec<SearchKey>,
    },
    /// `GETQUOTA root` (RFC 9208).
    GetQuota(Str),
    /// `GETQUOTAROOT mailbox`.
    GetQuotaRoot(Mailbox),
    /// `SETQUOTA root (resource limit ...)`.
    SetQuota {
        /// Quota root.
        root: Str,
        /// Resource names and limits.
        limits: Vec<(Bytes, u64)>,
    },
    /// `COMPRESS mechanism` (RFC 4978).
    Compress(Bytes),
}

/// A SELECT/EXAMINE parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectParam {
    /// `CONDSTORE` (RFC 7162).
    CondStore,
    /// `QRESYNC (uidvalidity modseq [known-uids [(seq-match)]])`.
    QResync {
        /// Last known UIDVALIDITY.
        uid_validity: u32,
        /// Last known MODSEQ.
        mod_seq: u64,
        /// Known UIDs.
        known_uids: Option<SeqSet>,
        /// Message sequence match data (sequence numbers, UIDs).
        seq_match: Option<(SeqSet, SeqSet)>,
    },
    /// Another parameter (RFC 4466 `select-param`), with its value.
    Other(Bytes, Option<crate::response::ExtValue>),
}

/// A LIST selection option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSelect {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `REMOTE`.
    Remote,
    /// `RECURSIVEMATCH`.
    RecursiveMatch,
    /// `SPECIAL-USE` (RFC 6154).
    SpecialUse,
    /// Another option name.
    Other(Bytes),
}

/// A LIST return option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturn {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `CHILDREN`.
    Children,
    /// `SPECIAL-USE`.
    SpecialUse,
    /// `STATUS (items)` (RFC 5819 LIST-STATUS).
    Status(Vec<StatusItem>),
    /// Another option name.
    Other(Bytes),
}

/// A STATUS item name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    /// `MESSAGES`.
    Messages,
    /// `RECENT` (IMAP4rev1).
    Recent,
    /// `UIDNEXT`.
    UidNext,
    /// `UIDVALIDITY`.
    UidValidity,
    /// `UNSEEN`.
    Unseen,
    /// `DELETED` (RFC 9051).
    Deleted,
    /// `SIZE` (RFC 9051).
    Size,
    /// `HIGHESTMODSEQ` (RFC 7162).
    HighestModSeq,
    /// `APPENDLIMIT` (RFC 7889).
    AppendLimit,
    /// `DELETED-STORAGE` (RFC 9208).
    DeletedStorage,
    /// `MAILBOXID` (RFC 8474 section 4). Its value is an objectid, not a
    /// number: a `* STATUS` response carries it in
    /// [`Data::Status`](crate::Data::Status)`::mailbox_id`, never in `items`.
    MailboxId,
}

impl StatusItem {
    pub(crate) const ALL: [(StatusItem, &'static [u8]); 11] = [
        (StatusItem::Messages, b"MESSAGES"),
        (StatusItem::Recent, b"RECENT"),
        (StatusItem::UidNext, b"UIDNEXT"),
        (StatusItem::UidValidity, b"UIDVALIDITY"),
        (StatusItem::Unseen, b"UNSEEN"),
        (StatusItem::Deleted, b"DELETED"),
        (StatusItem::Size, b"SIZE"),
        (StatusItem::HighestModSeq, b"HIGHESTMODSEQ"),
        (StatusItem::AppendLimit, b"APPENDLIMIT"),
        (StatusItem::DeletedStorage, b"DELETED-STORAGE"),
        (StatusItem::MailboxId, b"MAILBOXID"),
    ];

    /// The wire name.
    #[must_use]
    pub fn name(self) -> &'static [u8] {
        Self::ALL.iter().find(|(i, _)| *i == self).map_or(b"", |(_, n)| n)
    }

    /// Whether `n` is a value this item can have in a `* STATUS` response
    /// (RFC 9051 section 9: `status-att-val = ("MESSAGES" SP number) /
    /// ("UIDNEXT" SP nz-number) / ("UIDVALIDITY" SP nz-number) / ("UNSEEN"
    /// SP number) / ("DELETED" SP number) / ("SIZE" SP number64)`, `number`
    /// being 32-bit; RFC 3501 section 9: RECENT is a `number`; RFC 9208:
    /// DELETED-STORAGE is a `number64`; RFC 7162: HIGHESTMODSEQ is a
    /// `mod-sequence-valzer`). The 63-bit bound of `number64` is checked
    /// where every such number is.
    #[must_use]
    pub fn value_ok(self, n: u64) -> bool {
        match self {
            StatusItem::Messages | StatusItem::Recent | StatusItem::Unseen | StatusItem::Deleted => {
                u32::try_from(n).is_ok()
            }
            StatusItem::UidNext | StatusItem::UidValidity => u32::try_from(n).is_ok_and(|n| n > 0),
            StatusItem::Size
            | StatusItem::HighestModSeq
            | StatusItem::AppendLimit
            | StatusItem::DeletedStorage
            | StatusItem::MailboxId => true,
        }
    }
}

/// One message of APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    /// Flags (empty: no flag list sent).
    pub flags: Vec<Flag>,
    /// Internal date.
    pub date: Option<DateTime>,
    /// The message: a literal (possibly literal8 or streamed).
    pub message: Str,
    /// `UTF8 (literal8)`: the message may carry UTF-8 header fields (RFC
    /// 6855 section 4, `append-data =/ utf8-literal`, `utf8-literal =
    /// "UTF8" SP "(" literal8 ")"`). The encoder then always writes the
    /// message as a literal8 (`~{n}`) inside the parentheses. Whether the
    /// server accepts it (UTF8=ACCEPT, else NO) is the session's decision;
    /// the parser reads it whatever [`crate::Options`] say.
    pub utf8: bool,
}

/// An ESEARCH return option (RFC 4731, RFC 5182 SAVE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchReturn {
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
    /// `ALL`.
    All,
    /// `COUNT`.
    Count,
    /// `SAVE`.
    Save,
}

/// A search key (RFC 9051 6.4.4, RFC 3501 6.4.4, RFC 7162 MODSEQ, RFC 5032
/// WITHIN). `And` is a parenthesised list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum SearchKey {
    All,
    Answered,
    Bcc(Str),
    Before(Date),
    Body(Str),
    Cc(Str),
    Deleted,
    Draft,
    Flagged,
    From(Str),
    Header(Str, Str),
    Keyword(Bytes),
    Larger(u64),
    New,
    Not(Box<SearchKey>),
    Old,
    On(Date),
    Or(Box<SearchKey>, Box<SearchKey>),
    Recent,
    Seen,
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Since(Date),
    Smaller(u64),
    Subject(Str),
    Text(Str),
    To(Str),
    Uid(SeqSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(Bytes),
    Unseen,
    /// A bare sequence set.
    SequenceSet(SeqSet),
    /// `( key key ... )`.
    And(Vec<SearchKey>),
    /// `MODSEQ [entry-name entry-type] modseq` (RFC 7162).
    ModSeq {
        /// Metadata item name and type (`priv`, `shared`, `all`).
        entry: Option<(Str, Bytes)>,
        /// Minimum mod-sequence.
        mod_seq: u64,
    },
    /// `OLDER n` seconds (RFC 5032).
    Older(u32),
    /// `YOUNGER n` seconds (RFC 5032).
    Younger(u32),
}

/// FETCH attributes: a macro or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItems {
    /// `ALL` = `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)`.
    All,
    /// `FAST` = `(FLAGS INTERNALDATE RFC822.SIZE)`.
    Fast,
    /// `FULL` = `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)`.
    Full,
    /// Explicit attributes (one is sent bare, more in parentheses).
    Attrs(Vec<FetchAttr>),
}

impl FetchItems {
    /// The attributes a macro stands for (RFC 9051 6.4.5).
    #[must_use]
    pub fn expand(&self) -> Vec<FetchAttr> {
        use FetchAttr as A;
        match self {
            FetchItems::All => vec![A::Flags, A::InternalDate, A::Rfc822Size, A::Envelope],
            FetchItems::Fast => vec![A::Flags, A::InternalDate, A::Rfc822Size],
            FetchItems::Full => vec![A::Flags, A::InternalDate, A::Rfc822Size, A::Envelope, A::Body],
            FetchItems::Attrs(v) => v.clone(),
        }
    }
}

/// A FETCH attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAttr {
    /// `ENVELOPE`.
    Envelope,
    /// `FLAGS`.
    Flags,
    /// `INTERNALDATE`.
    InternalDate,
    /// `RFC822`.
    Rfc822,
    /// `RFC822.HEADER`.
    Rfc822Header,
    /// `RFC822.SIZE`.
    Rfc822Size,
    /// `RFC822.TEXT`.
    Rfc822Text,
    /// `BODY` (structure without extension data).
    Body,
    /// `BODYSTRUCTURE`.
    BodyStructure,
    /// `UID`.
    Uid,
    /// `BODY[section]<partial>` / `BODY.PEEK[...]`.
    BodySection {
        /// `.PEEK`.
        peek: bool,
        /// The section.
        section: Section,
        /// `<offset.count>`: `partial = "<" number64 "." nz-number64 ">"`
        /// (RFC 9051 section 9), so both go up to 2^63-1 (IMAP4rev1 had
        /// 32-bit `number`).
        partial: Option<(u64, u64)>,
    },
    /// `BINARY[part]<partial>` / `BINARY.PEEK[...]` (RFC 3516).
    Binary {
        /// `.PEEK`.
        peek: bool,
        /// Part numbers.
        part: Vec<u32>,
        /// `<offset.count>`: `partial = "<" number64 "." nz-number64 ">"`
        /// (RFC 9051 section 9), so both go up to 2^63-1 (IMAP4rev1 had
        /// 32-bit `number`).
        partial: Option<(u64, u64)>,
    },
    /// `BINARY.SIZE[part]`.
    BinarySize(Vec<u32>),
    /// `MODSEQ` (RFC 7162).
    ModSeq,
    /// `SAVEDATE` (RFC 8514).
    SaveDate,
    /// `EMAILID` (RFC 8474).
    EmailId,
    /// `THREADID` (RFC 8474).
    ThreadId,
}

/// A FETCH modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchModifier {
    /// `CHANGEDSINCE modseq`.
    ChangedSince(u64),
    /// `VANISHED` (QRESYNC): only in a UID FETCH that also has
    /// `CHANGEDSINCE` (RFC 7162 section 3.2.6); the parser and the encoder
    /// refuse it elsewhere.
    Vanished,
}

/// A section spec: part numbers and what of the part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// `1.2.3` (empty: the whole message).
    pub part: Vec<u32>,
    /// What of the part.
    pub text: Option<SectionText>,
}

/// The text part of a section spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    /// `HEADER`.
    Header,
    /// `HEADER.FIELDS (names)`.
    HeaderFields(Vec<Str>),
    /// `HEADER.FIELDS.NOT (names)`.
    HeaderFieldsNot(Vec<Str>),
    /// `TEXT`.
    Text,
    /// `MIME` (only after part numbers).
    Mime,
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreMode {
    /// `FLAGS`: replace.
    Replace,
    /// `+FLAGS`.
    Add,
    /// `-FLAGS`.
    Remove,
}

/// A SORT criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    /// `REVERSE`.
    pub reverse: bool,
    /// The key.
    pub key: SortKey,
}

/// A SORT key (RFC 5256, RFC 5957 DISPLAY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

impl SortKey {
    pub(crate) const ALL: [(SortKey, &'static [u8]); 9] = [
        (SortKey::Arrival, b"ARRIVAL"),
        (SortKey::Cc, b"CC"),
        (SortKey::Date, b"DATE"),
        (SortKey::From, b"FROM"),
        (SortKey::Size, b"SIZE"),
        (SortKey::Subject, b"SUBJECT"),
        (SortKey::To, b"TO"),
        (SortKey::DisplayFrom, b"DISPLAYFROM"),
        (SortKey::DisplayTo, b"DISPLAYTO"),
    ];
}
