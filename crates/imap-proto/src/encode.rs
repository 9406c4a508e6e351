//! Encoders: [`Command::encode`](crate::Command::encode) and
//! [`Response::encode`](crate::Response::encode) write the wire form into a
//! `BytesMut`, choosing for each string the cheapest safe form (atom where
//! the grammar allows one, quoted, then literal), and refuse what cannot be
//! sent (CR/LF/NUL outside a literal, NUL outside literal8, invalid atoms).

use bytes::{BufMut, Bytes, BytesMut};

use crate::command::{
    Command, CommandBody, FetchAttr, FetchItems, FetchModifier, ListReturn, ListSelect, SearchKey,
    SearchReturn, Section, SectionText, SelectParam, StoreMode,
};
use crate::error::EncodeError;
use crate::framing::Direction;
use crate::options::{Options, Version};
use crate::parse::command::{
    is_atom, is_modseq_entry_name, is_modseq_entry_type, recursive_match_alone, vanished_misused,
};
use crate::parse::{
    ID_MAX_FIELD, ID_MAX_PAIRS, ID_MAX_VALUE, is_astring_char, is_backslash_flag, is_initial_response,
    is_list_char, mailbox_attrs_error,
};
use crate::response::{
    Address, BodyExtension, BodyStructure, Code, Continue, Data, DispositionExt, ESearchItem, Envelope,
    ExtValue, FetchItem, Language, NamespaceDesc, Response, SingleKind, StatusKind, StatusResponse, Thread,
};
use crate::types::{
    Date, DateTime, Flag, MONTHS, Mailbox, NStr, SeqNum, SeqSet, SmallBytes, Str, StrForm, Tag,
};

/// A point in an encoded message where the sender must pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PauseKind {
    /// A synchronizing literal was announced: a client waits for the
    /// server's `+` continuation request before sending the rest.
    Continuation,
    /// A streamed literal goes here: the sender writes `len` bytes of
    /// literal data (from its own source) before the rest.
    StreamedLiteral {
        /// Bytes to insert.
        len: u64,
    },
}

/// Where a sender must pause: at `offset` in [`Encoded::bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pause {
    /// Byte offset.
    pub offset: usize,
    /// Why.
    pub kind: PauseKind,
}

/// An encoded command or response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encoded {
    /// The wire bytes.
    pub bytes: Bytes,
    /// Pauses in order of offset (empty for most messages).
    pub pauses: Vec<Pause>,
}

type E = Result<(), EncodeError>;

pub(crate) struct W<'a> {
    pub(crate) out: &'a mut BytesMut,
    base: usize,
    pauses: Vec<Pause>,
    o: &'a Options,
    dir: Direction,
}

fn bad<T>(what: &'static str) -> Result<T, EncodeError> {
    Err(EncodeError::Invalid(what))
}

impl<'a> W<'a> {
    pub(crate) fn new(out: &'a mut BytesMut, o: &'a Options, dir: Direction) -> Self {
        let base = out.len();
        W {
            out,
            base,
            pauses: Vec::new(),
            o,
            dir,
        }
    }

    pub(crate) fn finish(self) -> Vec<Pause> {
        self.pauses
    }

    #[inline]
    fn raw(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    #[inline]
    fn sp(&mut self) {
        self.out.put_u8(b' ');
    }

    fn num(&mut self, mut n: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.raw(&buf[i..]);
    }

    /// `number64` (RFC 9051 section 9): "Unsigned 63-bit integer (0 <= n <=
    /// 9,223,372,036,854,775,807)". Sizes, quota values, STATUS values and
    /// body extension numbers go through here; a peer that stores them in a
    /// signed 64-bit integer would misread anything larger.
    fn num63(&mut self, n: u64) -> E {
        if n > i64::MAX as u64 {
            return bad("number beyond 2^63-1");
        }
        self.num(n);
        Ok(())
    }

    /// A `number64` of RFC 9051 that RFC 3501 writes as a 32-bit `number`
    /// (the parser's `number64_rev2`): at most 2^32-1 under IMAP4rev1.
    fn num64_rev2(&mut self, n: u64) -> E {
        if self.o.version != Version::Rev2 && n > u64::from(u32::MAX) {
            return bad("number beyond 2^32-1 (IMAP4rev1 number)");
        }
        self.num63(n)
    }

    fn atom(&mut self, b: &[u8]) -> E {
        if !is_atom(b) {
            return bad("not a valid atom");
        }
        self.raw(b);
        Ok(())
    }

    /// Response text (resp-text, a response code's argument).
    fn text(&mut self, b: &[u8]) -> E {
        proto_core::check_arg(b)?;
        if !self.o.text_chars_ok(b) {
            return bad("8-bit text under IMAP4rev1, or text that is not UTF-8");
        }
        self.raw(b);
        Ok(())
    }

    /// Whether `b` may go in a quoted string: no CR, LF or NUL, and 8-bit
    /// bytes only as UTF-8 when UTF-8 is in effect (RFC 9051 section 4.3:
    /// "a sequence of zero or more Unicode characters ... encoded in
    /// UTF-8"); anything else goes in a literal.
    fn quotable(&self, b: &[u8]) -> bool {
        let mut ascii = true;
        let ok = b.len() <= 1024
            && b.iter().all(|&c| {
                ascii &= c < 0x80;
                !matches!(c, b'\r' | b'\n' | 0)
            });
        ok && (ascii || (self.o.utf8() && std::str::from_utf8(b).is_ok()))
    }

    fn quoted(&mut self, b: &[u8]) {
        self.out.reserve(b.len() + 2);
        self.out.put_u8(b'"');
        let mut start = 0;
        for (i, &c) in b.iter().enumerate() {
            if c == b'"' || c == b'\\' {
                self.out.extend_from_slice(&b[start..i]);
                self.out.put_u8(b'\\');
                start = i;
            }
        }
        self.out.extend_from_slice(&b[start..]);
        self.out.put_u8(b'"');
    }

    fn announce(&mut self, len: u64, binary: bool) {
        if binary {
            self.out.put_u8(b'~');
        }
        self.out.put_u8(b'{');
        self.num(len);
        let client = self.dir == Direction::ClientToServer;
        // Only where the server offers it: an IMAP4rev2 server would accept
        // `{n+}` up to 4096 octets too (Options::nonsync_literal_ok), but a
        // client does not rely on that unannounced.
        let nonsync = client && (self.o.literal_plus || (self.o.literal_minus && len <= 4096));
        if nonsync {
            self.out.put_u8(b'+');
        }
        self.raw(b"}\r\n");
        if client && !nonsync {
            self.pauses.push(Pause {
                offset: self.out.len() - self.base,
                kind: PauseKind::Continuation,
            });
        }
    }

    fn literal(&mut self, b: &[u8], binary_ok: bool, want_binary: bool) -> E {
        let has_nul = memchr::memchr(0, b).is_some();
        if has_nul && !binary_ok {
            return bad("NUL in a string (only literal8 may carry it)");
        }
        self.announce(b.len() as u64, binary_ok && (has_nul || want_binary));
        self.raw(b);
        Ok(())
    }

    fn string_in(&mut self, s: &Str, binary_ok: bool) -> E {
        match s.form {
            StrForm::Streamed { len, binary } => {
                if binary && !binary_ok {
                    return bad("literal8 not allowed here");
                }
                self.announce(len, binary);
                self.pauses.push(Pause {
                    offset: self.out.len() - self.base,
                    kind: PauseKind::StreamedLiteral { len },
                });
                Ok(())
            }
            StrForm::Literal { binary, .. } => self.literal(&s.data, binary_ok, binary),
            _ if self.quotable(&s.data) => {
                self.quoted(&s.data);
                Ok(())
            }
            _ => self.literal(&s.data, binary_ok, false),
        }
    }

    pub(crate) fn string(&mut self, s: &Str) -> E {
        self.string_in(s, false)
    }

    fn astring(&mut self, s: &Str) -> E {
        if matches!(s.form, StrForm::Auto | StrForm::Atom)
            && !s.data.is_empty()
            && s.data.iter().all(|&c| is_astring_char(c))
            && !s.data.eq_ignore_ascii_case(b"NIL")
        {
            self.raw(&s.data);
            return Ok(());
        }
        self.string(s)
    }

    /// `charset = atom / quoted` (RFC 9051 section 9, RFC 4466 section 3,
    /// RFC 5256 section 5): an astring may hold `]`, which would end a
    /// `[BADCHARSET ...]` code early, so a charset that is no atom is
    /// quoted, whatever its form asks. Past what a quoted string holds it
    /// is refused, or, where `literal_ok` (RFC 3501's `"BADCHARSET" [SP "("
    /// astring *(SP astring) ")"]`, under IMAP4rev1 only), sent as a literal.
    fn charset(&mut self, s: &Str, literal_ok: bool) -> E {
        if matches!(s.form, StrForm::Auto | StrForm::Atom) && is_atom(&s.data) {
            self.raw(&s.data);
            return Ok(());
        }
        if literal_ok {
            return self.string(s);
        }
        if s.is_streamed() || !self.quotable(&s.data) {
            return bad("charset is no atom and no quoted string");
        }
        self.quoted(&s.data);
        Ok(())
    }

    fn nstring(&mut self, s: &NStr) -> E {
        match s {
            None => {
                self.raw(b"NIL");
                Ok(())
            }
            Some(s) => self.string(s),
        }
    }

    fn list_mailbox(&mut self, s: &Str) -> E {
        if matches!(s.form, StrForm::Auto | StrForm::Atom)
            && !s.data.is_empty()
            && s.data.iter().all(|&c| is_list_char(c))
        {
            self.raw(&s.data);
            return Ok(());
        }
        self.string(s)
    }

    fn mailbox(&mut self, m: &Mailbox) -> E {
        self.astring(&m.0)
    }

    fn tag(&mut self, t: &Tag) -> E {
        if t.0.is_empty() || !t.0.iter().all(|&c| is_astring_char(c) && c != b'+') {
            return bad("not a valid tag");
        }
        self.raw(&t.0);
        Ok(())
    }

    fn seq_num(&mut self, n: SeqNum) -> E {
        match n {
            SeqNum::Star => self.out.put_u8(b'*'),
            SeqNum::Num(0) => return bad("sequence number zero"),
            SeqNum::Num(n) => self.num(u64::from(n)),
        }
        Ok(())
    }

    fn seq_set(&mut self, s: &SeqSet) -> E {
        match s {
            SeqSet::Saved => {
                self.out.put_u8(b'$');
                Ok(())
            }
            SeqSet::Ranges(v) if v.is_empty() => bad("empty sequence set"),
            SeqSet::Ranges(v) => {
                for (i, r) in v.iter().enumerate() {
                    if i > 0 {
                        self.out.put_u8(b',');
                    }
                    self.seq_num(r.start)?;
                    if r.end != r.start {
                        self.out.put_u8(b':');
                        self.seq_num(r.end)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// `<origin>` of a partial BODY[] / BINARY[] in a FETCH response, up to
    /// 2^63-1 (the `number64` of the request's offset; 2^32-1 under
    /// IMAP4rev1).
    fn origin(&mut self, origin: Option<u64>) -> E {
        if let Some(o) = origin {
            self.out.put_u8(b'<');
            self.num64_rev2(o)?;
            self.out.put_u8(b'>');
        }
        Ok(())
    }

    /// `uid-set` of APPENDUID / COPYUID (RFC 4315 section 4) and the
    /// known-uids of VANISHED and QRESYNC, and QRESYNC's seq-match-data
    /// (RFC 7162 section 7): real numbers only, no `*` and no
    /// `$`.
    fn uid_set(&mut self, s: &SeqSet) -> E {
        match s {
            SeqSet::Saved => bad("'$' in a uid-set"),
            SeqSet::Ranges(v) if v.iter().any(|r| r.start == SeqNum::Star || r.end == SeqNum::Star) => {
                bad("'*' in a uid-set")
            }
            _ => self.seq_set(s),
        }
    }

    fn flag(&mut self, f: &Flag) -> E {
        // A system flag spelled as an extension (`Extension("Seen")`) would
        // read back as the system flag (RFC 9051 section 9, `flag`).
        if let Flag::Extension(name) = f
            && [
                &b"Answered"[..],
                b"Flagged",
                b"Deleted",
                b"Seen",
                b"Draft",
                b"Recent",
            ]
            .iter()
            .any(|k| name.eq_ignore_ascii_case(k))
        {
            return bad("a system flag written as Flag::Extension");
        }
        match f.system_name() {
            Some(name) => {
                self.out.put_u8(b'\\');
                if f == &Flag::Wildcard {
                    self.out.put_u8(b'*');
                    Ok(())
                } else {
                    self.atom(name)
                }
            }
            None => {
                let Flag::Keyword(k) = f else { return bad("flag") };
                self.atom(k)
            }
        }
    }

    /// A flag list other than PERMANENTFLAGS: `\*` is only a `flag-perm`
    /// (RFC 9051 section 9), so it is refused here.
    fn flag_list(&mut self, v: &[Flag]) -> E {
        if v.contains(&Flag::Wildcard) {
            return bad("\\* is only valid in PERMANENTFLAGS");
        }
        self.list(v, Self::flag)
    }

    fn list<T>(&mut self, v: &[T], mut f: impl FnMut(&mut Self, &T) -> E) -> E {
        self.out.put_u8(b'(');
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            f(self, x)?;
        }
        self.out.put_u8(b')');
        Ok(())
    }

    fn date(&mut self, d: &Date) -> E {
        if !(1..=12).contains(&d.month) || !(1..=31).contains(&d.day) || d.year > 9999 {
            return bad("invalid date");
        }
        self.num(u64::from(d.day));
        self.out.put_u8(b'-');
        self.raw(MONTHS[usize::from(d.month - 1)]);
        self.out.put_u8(b'-');
        self.digits(u32::from(d.year), 4);
        Ok(())
    }

    fn digits(&mut self, v: u32, n: u32) {
        let mut d = 10u32.pow(n - 1);
        while d > 0 {
            self.out.put_u8(b'0' + ((v / d) % 10) as u8);
            d /= 10;
        }
    }

    fn date_time(&mut self, t: &DateTime) -> E {
        let d = &t.date;
        let z = t.zone.unsigned_abs();
        if !(1..=12).contains(&d.month)
            || !(1..=31).contains(&d.day)
            || d.year > 9999
            || t.hour > 23
            || t.minute > 59
            || t.second > 60
            || z > 9959
            || z % 100 > 59
        {
            return bad("invalid date-time");
        }
        self.out.put_u8(b'"');
        // date-day-fixed = (SP DIGIT) / 2DIGIT; SP DIGIT as in the RFC examples.
        if d.day < 10 {
            self.out.put_u8(b' ');
            self.digits(u32::from(d.day), 1);
        } else {
            self.digits(u32::from(d.day), 2);
        }
        self.out.put_u8(b'-');
        self.raw(MONTHS[usize::from(d.month - 1)]);
        self.out.put_u8(b'-');
        self.digits(u32::from(d.year), 4);
        self.sp();
        self.digits(u32::from(t.hour), 2);
        self.out.put_u8(b':');
        self.digits(u32::from(t.minute), 2);
        self.out.put_u8(b':');
        self.digits(u32::from(t.second), 2);
        self.sp();
        self.out.put_u8(if t.zone < 0 { b'-' } else { b'+' });
        self.digits(u32::from(z), 4);
        self.out.put_u8(b'"');
        Ok(())
    }

    fn section(&mut self, s: &Section) -> E {
        self.out.put_u8(b'[');
        self.parts(&s.part)?;
        if let Some(t) = &s.text {
            if !s.part.is_empty() {
                self.out.put_u8(b'.');
            }
            match t {
                SectionText::Header => self.raw(b"HEADER"),
                SectionText::Text => self.raw(b"TEXT"),
                SectionText::Mime if s.part.is_empty() => return bad("MIME needs part numbers"),
                SectionText::Mime => self.raw(b"MIME"),
                SectionText::HeaderFields(v) | SectionText::HeaderFieldsNot(v) => {
                    if v.is_empty() {
                        return bad("empty header list");
                    }
                    self.raw(b"HEADER.FIELDS");
                    if matches!(t, SectionText::HeaderFieldsNot(_)) {
                        self.raw(b".NOT");
                    }
                    self.sp();
                    self.list(v, Self::astring)?;
                }
            }
        }
        self.out.put_u8(b']');
        Ok(())
    }

    fn parts(&mut self, v: &[u32]) -> E {
        for (i, p) in v.iter().enumerate() {
            if *p == 0 {
                return bad("part number zero");
            }
            if i > 0 {
                self.out.put_u8(b'.');
            }
            self.num(u64::from(*p));
        }
        Ok(())
    }

    /// `partial = "<" number64 "." nz-number64 ">"` (RFC 9051 section 9);
    /// number64 stops at 2^63-1, and IMAP4rev1's `number` at 2^32-1.
    fn partial(&mut self, p: Option<(u64, u64)>) -> E {
        if let Some((a, b)) = p {
            if b == 0 {
                return bad("partial length zero");
            }
            self.out.put_u8(b'<');
            self.num64_rev2(a)?;
            self.out.put_u8(b'.');
            self.num64_rev2(b)?;
            self.out.put_u8(b'>');
        }
        Ok(())
    }

    fn id_params(&mut self, v: &Option<Vec<(Str, NStr)>>) -> E {
        match v {
            None => {
                self.raw(b"NIL");
                Ok(())
            }
            // RFC 2971 section 3.3: at most 30 pairs, fields of at most 30
            // octets, values of at most 1024.
            Some(v) if v.len() > ID_MAX_PAIRS => bad("more than 30 ID field-value pairs"),
            Some(v)
                if v.iter().any(|(k, val)| {
                    k.content_len() > ID_MAX_FIELD as u64
                        || val
                            .as_ref()
                            .is_some_and(|s| s.content_len() > ID_MAX_VALUE as u64)
                }) =>
            {
                bad("ID field longer than 30 octets or value longer than 1024")
            }
            Some(v) => self.list(v, |w, (k, val)| {
                w.string(k)?;
                w.sp();
                w.nstring(val)
            }),
        }
    }

    /// mod-sequence-value (RFC 7162 section 7): 1..=2^63-1.
    fn nz_mod_seq(&mut self, v: u64) -> E {
        if v == 0 {
            return bad("mod-sequence must not be zero");
        }
        self.mod_seq(v)
    }

    /// mod-sequence-valzer: 0..=2^63-1.
    fn mod_seq(&mut self, v: u64) -> E {
        if v > i64::MAX as u64 {
            return bad("mod-sequence too large");
        }
        self.num(v);
        Ok(())
    }

    fn nz(&mut self, v: u32) -> E {
        if v == 0 {
            return bad("number must not be zero");
        }
        self.num(u64::from(v));
        Ok(())
    }

    // ---- commands ----

    pub(crate) fn command(&mut self, c: &Command) -> E {
        self.tag(&c.tag)?;
        self.sp();
        self.command_body(&c.body)?;
        self.raw(b"\r\n");
        Ok(())
    }

    #[allow(clippy::too_many_lines)]
    fn command_body(&mut self, b: &CommandBody) -> E {
        use CommandBody as C;
        let uidp = |w: &mut Self, uid: bool| {
            if uid {
                w.raw(b"UID ");
            }
        };
        match b {
            C::Capability => self.raw(b"CAPABILITY"),
            C::Noop => self.raw(b"NOOP"),
            C::Logout => self.raw(b"LOGOUT"),
            C::StartTls => self.raw(b"STARTTLS"),
            C::Namespace => self.raw(b"NAMESPACE"),
            C::Idle => self.raw(b"IDLE"),
            C::Check => self.raw(b"CHECK"),
            C::Close => self.raw(b"CLOSE"),
            C::Unselect => self.raw(b"UNSELECT"),
            C::Expunge => self.raw(b"EXPUNGE"),
            C::Authenticate {
                mechanism,
                initial_response,
            } => {
                self.raw(b"AUTHENTICATE ");
                self.atom(mechanism)?;
                if let Some(ir) = initial_response {
                    if !is_initial_response(&ir.0) {
                        return bad("initial response must be base64 or '='");
                    }
                    self.sp();
                    self.raw(&ir.0);
                }
            }
            C::Login { username, password } => {
                self.raw(b"LOGIN ");
                self.astring(username)?;
                self.sp();
                self.astring(&password.0)?;
            }
            C::Select { mailbox, params } | C::Examine { mailbox, params } => {
                self.raw(if matches!(b, C::Select { .. }) {
                    b"SELECT "
                } else {
                    b"EXAMINE "
                });
                self.mailbox(mailbox)?;
                if !params.is_empty() {
                    // RFC 4466: a value-less parameter followed by another
                    // one would read as name + value.
                    let n = params.len();
                    if params[..n - 1]
                        .iter()
                        .any(|p| matches!(p, SelectParam::Other(_, None)))
                    {
                        return bad("a SELECT parameter without value must come last");
                    }
                    self.sp();
                    self.list(params, Self::select_param)?;
                }
            }
            C::Create { mailbox, special_use } => {
                self.raw(b"CREATE ");
                self.mailbox(mailbox)?;
                if !special_use.iter().all(is_backslash_flag) {
                    return bad("a USE attribute starts with '\\' (RFC 6154 use-attr)");
                }
                if !special_use.is_empty() {
                    self.raw(b" (USE ");
                    self.flag_list(special_use)?;
                    self.out.put_u8(b')');
                }
            }
            C::Delete(m) => {
                self.raw(b"DELETE ");
                self.mailbox(m)?;
            }
            C::Subscribe(m) => {
                self.raw(b"SUBSCRIBE ");
                self.mailbox(m)?;
            }
            C::Unsubscribe(m) => {
                self.raw(b"UNSUBSCRIBE ");
                self.mailbox(m)?;
            }
            C::GetQuotaRoot(m) => {
                self.raw(b"GETQUOTAROOT ");
                self.mailbox(m)?;
            }
            C::Rename { from, to } => {
                self.raw(b"RENAME ");
                self.mailbox(from)?;
                self.sp();
                self.mailbox(to)?;
            }
            C::List {
                selection,
                reference,
                patterns,
                returns,
            } => {
                if recursive_match_alone(selection) {
                    return bad("RECURSIVEMATCH without a base selection option");
                }
                self.raw(b"LIST ");
                if !selection.is_empty() {
                    self.list(selection, |w, s| {
                        match s {
                            ListSelect::Subscribed => w.raw(b"SUBSCRIBED"),
                            ListSelect::Remote => w.raw(b"REMOTE"),
                            ListSelect::RecursiveMatch => w.raw(b"RECURSIVEMATCH"),
                            ListSelect::SpecialUse => w.raw(b"SPECIAL-USE"),
                            // RFC 5258 section 6: a known option in the
                            // generic form would read back typed.
                            ListSelect::Other(a)
                                if [&b"SUBSCRIBED"[..], b"REMOTE", b"RECURSIVEMATCH", b"SPECIAL-USE"]
                                    .iter()
                                    .any(|k| a.eq_ignore_ascii_case(k)) =>
                            {
                                return bad("known LIST selection option written as Other");
                            }
                            ListSelect::Other(a) => w.atom(a)?,
                        }
                        Ok(())
                    })?;
                    self.sp();
                }
                self.mailbox(reference)?;
                self.sp();
                match &patterns[..] {
                    [] => return bad("LIST without a pattern"),
                    [p] => self.list_mailbox(p)?,
                    v => self.list(v, Self::list_mailbox)?,
                }
                if let Some(r) = returns {
                    self.raw(b" RETURN ");
                    self.list(r, |w, r| {
                        match r {
                            ListReturn::Subscribed => w.raw(b"SUBSCRIBED"),
                            ListReturn::Children => w.raw(b"CHILDREN"),
                            ListReturn::SpecialUse => w.raw(b"SPECIAL-USE"),
                            // RFC 5819 section 6: at least one status-att.
                            ListReturn::Status(items) if items.is_empty() => {
                                return bad("empty STATUS return option");
                            }
                            ListReturn::Status(items) => {
                                w.raw(b"STATUS ");
                                w.list(items, |w, i| {
                                    w.raw(i.name());
                                    Ok(())
                                })?;
                            }
                            ListReturn::Other(a)
                                if [&b"SUBSCRIBED"[..], b"CHILDREN", b"SPECIAL-USE", b"STATUS"]
                                    .iter()
                                    .any(|k| a.eq_ignore_ascii_case(k)) =>
                            {
                                return bad("known LIST return option written as Other");
                            }
                            ListReturn::Other(a) => w.atom(a)?,
                        }
                        Ok(())
                    })?;
                }
            }
            C::Lsub { reference, pattern } => {
                self.raw(b"LSUB ");
                self.mailbox(reference)?;
                self.sp();
                self.list_mailbox(pattern)?;
            }
            C::Status { mailbox, items } => {
                if items.is_empty() {
                    return bad("empty STATUS item list");
                }
                self.raw(b"STATUS ");
                self.mailbox(mailbox)?;
                self.sp();
                self.list(items, |w, i| {
                    w.raw(i.name());
                    Ok(())
                })?;
            }
            C::Append { mailbox, messages } => {
                if messages.is_empty() {
                    return bad("APPEND without a message");
                }
                self.raw(b"APPEND ");
                self.mailbox(mailbox)?;
                for m in messages {
                    self.sp();
                    if !m.flags.is_empty() {
                        self.flag_list(&m.flags)?;
                        self.sp();
                    }
                    if let Some(d) = &m.date {
                        self.date_time(d)?;
                        self.sp();
                    }
                    // RFC 6855 section 4: `"UTF8" SP "(" literal8 ")"`.
                    if m.utf8 {
                        self.raw(b"UTF8 (");
                    }
                    match m.message.form {
                        StrForm::Streamed { len, binary } => self.string_in(
                            &Str {
                                data: SmallBytes::default(),
                                form: StrForm::Streamed {
                                    len,
                                    binary: binary || m.utf8,
                                },
                            },
                            true,
                        )?,
                        StrForm::Literal { binary, .. } => {
                            self.literal(&m.message.data, true, binary || m.utf8)?;
                        }
                        _ => self.literal(&m.message.data, true, m.utf8)?,
                    }
                    if m.utf8 {
                        self.out.put_u8(b')');
                    }
                }
            }
            C::UidExpunge(s) => {
                self.raw(b"UID EXPUNGE ");
                self.seq_set(s)?;
            }
            C::Search {
                uid,
                returns,
                charset,
                criteria,
            } => {
                uidp(self, *uid);
                self.raw(b"SEARCH");
                if let Some(r) = returns {
                    self.raw(b" RETURN ");
                    self.list(r, |w, r| {
                        w.raw(match r {
                            SearchReturn::Min => b"MIN",
                            SearchReturn::Max => b"MAX",
                            SearchReturn::All => b"ALL",
                            SearchReturn::Count => b"COUNT",
                            SearchReturn::Save => b"SAVE",
                        });
                        Ok(())
                    })?;
                }
                if let Some(c) = charset {
                    self.raw(b" CHARSET ");
                    self.charset(c, false)?;
                }
                self.search_keys(criteria)?;
            }
            C::Fetch {
                uid,
                set,
                items,
                modifiers,
            } => {
                uidp(self, *uid);
                self.raw(b"FETCH ");
                self.seq_set(set)?;
                self.sp();
                match items {
                    FetchItems::All => self.raw(b"ALL"),
                    FetchItems::Fast => self.raw(b"FAST"),
                    FetchItems::Full => self.raw(b"FULL"),
                    FetchItems::Attrs(v) => match &v[..] {
                        [] => return bad("empty FETCH attribute list"),
                        [a] => self.fetch_attr(a)?,
                        v => self.list(v, Self::fetch_attr)?,
                    },
                }
                if let Some(why) = vanished_misused(*uid, modifiers) {
                    return bad(why);
                }
                if !modifiers.is_empty() {
                    self.sp();
                    self.list(modifiers, |w, m| {
                        match m {
                            FetchModifier::ChangedSince(n) => {
                                w.raw(b"CHANGEDSINCE ");
                                w.nz_mod_seq(*n)?;
                            }
                            FetchModifier::Vanished => w.raw(b"VANISHED"),
                        }
                        Ok(())
                    })?;
                }
            }
            C::Store {
                uid,
                set,
                unchanged_since,
                mode,
                silent,
                flags,
            } => {
                uidp(self, *uid);
                self.raw(b"STORE ");
                self.seq_set(set)?;
                self.sp();
                if let Some(n) = unchanged_since {
                    self.raw(b"(UNCHANGEDSINCE ");
                    self.num63(*n)?;
                    self.raw(b") ");
                }
                match mode {
                    StoreMode::Replace => {}
                    StoreMode::Add => self.out.put_u8(b'+'),
                    StoreMode::Remove => self.out.put_u8(b'-'),
                }
                self.raw(if *silent { b"FLAGS.SILENT " } else { b"FLAGS " });
                self.flag_list(flags)?;
            }
            C::Copy { uid, set, mailbox } | C::Move { uid, set, mailbox } => {
                uidp(self, *uid);
                self.raw(if matches!(b, C::Copy { .. }) {
                    b"COPY "
                } else {
                    b"MOVE "
                });
                self.seq_set(set)?;
                self.sp();
                self.mailbox(mailbox)?;
            }
            C::Enable(v) => {
                if v.is_empty() {
                    return bad("ENABLE needs a capability");
                }
                self.raw(b"ENABLE");
                for c in v {
                    self.sp();
                    self.atom(c)?;
                }
            }
            C::Id(p) => {
                self.raw(b"ID ");
                self.id_params(p)?;
            }
            C::Sort {
                uid,
                criteria,
                charset,
                search,
            } => {
                if criteria.is_empty() {
                    return bad("empty sort criteria");
                }
                uidp(self, *uid);
                self.raw(b"SORT ");
                self.list(criteria, |w, c| {
                    if c.reverse {
                        w.raw(b"REVERSE ");
                    }
                    let name = crate::command::SortKey::ALL
                        .iter()
                        .find(|(k, _)| *k == c.key)
                        .map_or(&b""[..], |x| x.1);
                    w.raw(name);
                    Ok(())
                })?;
                self.sp();
                self.charset(charset, false)?;
                self.search_keys(search)?;
            }
            C::Thread {
                uid,
                algorithm,
                charset,
                search,
            } => {
                uidp(self, *uid);
                self.raw(b"THREAD ");
                self.atom(algorithm)?;
                self.sp();
                self.charset(charset, false)?;
                self.search_keys(search)?;
            }
            C::GetQuota(r) => {
                self.raw(b"GETQUOTA ");
                self.astring(r)?;
            }
            C::SetQuota { root, limits } => {
                self.raw(b"SETQUOTA ");
                self.astring(root)?;
                self.sp();
                self.list(limits, |w, (n, l)| {
                    w.atom(n)?;
                    w.sp();
                    w.num63(*l)
                })?;
            }
            C::Compress(m) => {
                self.raw(b"COMPRESS ");
                self.atom(m)?;
            }
        }
        Ok(())
    }

    fn select_param(&mut self, p: &SelectParam) -> E {
        match p {
            SelectParam::Other(name, value) => {
                if name.eq_ignore_ascii_case(b"CONDSTORE") || name.eq_ignore_ascii_case(b"QRESYNC") {
                    return bad("known SELECT parameter written as Other");
                }
                self.atom(name)?;
                if let Some(v) = value {
                    self.sp();
                    self.ext_value(v, 0)?;
                }
            }
            SelectParam::CondStore => self.raw(b"CONDSTORE"),
            SelectParam::QResync {
                uid_validity,
                mod_seq,
                known_uids,
                seq_match,
            } => {
                self.raw(b"QRESYNC (");
                self.nz(*uid_validity)?;
                self.sp();
                self.nz_mod_seq(*mod_seq)?;
                // RFC 7162 section 7: "*" is not allowed in known-uids,
                // known-sequence-set or known-uid-set.
                if let Some(k) = known_uids {
                    self.sp();
                    self.uid_set(k)?;
                }
                if let Some((a, b)) = seq_match {
                    self.raw(b" (");
                    self.uid_set(a)?;
                    self.sp();
                    self.uid_set(b)?;
                    self.out.put_u8(b')');
                }
                self.out.put_u8(b')');
            }
        }
        Ok(())
    }

    fn search_keys(&mut self, v: &[SearchKey]) -> E {
        if v.is_empty() {
            return bad("empty search criteria");
        }
        for k in v {
            self.sp();
            self.search_key(k, 0)?;
        }
        Ok(())
    }

    fn search_key(&mut self, k: &SearchKey, depth: usize) -> E {
        use SearchKey as K;
        if depth >= self.o.limits.max_depth {
            return bad("search key nesting too deep");
        }
        let simple: Option<&[u8]> = match k {
            K::All => Some(b"ALL"),
            K::Answered => Some(b"ANSWERED"),
            K::Deleted => Some(b"DELETED"),
            K::Draft => Some(b"DRAFT"),
            K::Flagged => Some(b"FLAGGED"),
            K::New => Some(b"NEW"),
            K::Old => Some(b"OLD"),
            K::Recent => Some(b"RECENT"),
            K::Seen => Some(b"SEEN"),
            K::Unanswered => Some(b"UNANSWERED"),
            K::Undeleted => Some(b"UNDELETED"),
            K::Undraft => Some(b"UNDRAFT"),
            K::Unflagged => Some(b"UNFLAGGED"),
            K::Unseen => Some(b"UNSEEN"),
            _ => None,
        };
        if let Some(s) = simple {
            self.raw(s);
            return Ok(());
        }
        let strs: Option<(&[u8], &Str)> = match k {
            K::Bcc(s) => Some((b"BCC ", s)),
            K::Body(s) => Some((b"BODY ", s)),
            K::Cc(s) => Some((b"CC ", s)),
            K::From(s) => Some((b"FROM ", s)),
            K::Subject(s) => Some((b"SUBJECT ", s)),
            K::Text(s) => Some((b"TEXT ", s)),
            K::To(s) => Some((b"TO ", s)),
            _ => None,
        };
        if let Some((n, s)) = strs {
            self.raw(n);
            return self.astring(s);
        }
        let dates: Option<(&[u8], &Date)> = match k {
            K::Before(d) => Some((b"BEFORE ", d)),
            K::On(d) => Some((b"ON ", d)),
            K::Since(d) => Some((b"SINCE ", d)),
            K::SentBefore(d) => Some((b"SENTBEFORE ", d)),
            K::SentOn(d) => Some((b"SENTON ", d)),
            K::SentSince(d) => Some((b"SENTSINCE ", d)),
            _ => None,
        };
        if let Some((n, d)) = dates {
            self.raw(n);
            return self.date(d);
        }
        match k {
            K::Keyword(a) => {
                self.raw(b"KEYWORD ");
                self.atom(a)?;
            }
            K::Unkeyword(a) => {
                self.raw(b"UNKEYWORD ");
                self.atom(a)?;
            }
            K::Larger(n) => {
                self.raw(b"LARGER ");
                self.num64_rev2(*n)?;
            }
            K::Smaller(n) => {
                self.raw(b"SMALLER ");
                self.num64_rev2(*n)?;
            }
            K::Older(n) => {
                self.raw(b"OLDER ");
                self.nz(*n)?;
            }
            K::Younger(n) => {
                self.raw(b"YOUNGER ");
                self.nz(*n)?;
            }
            K::Uid(s) => {
                self.raw(b"UID ");
                self.seq_set(s)?;
            }
            K::SequenceSet(s) => self.seq_set(s)?,
            K::Header(a, b) => {
                self.raw(b"HEADER ");
                self.astring(a)?;
                self.sp();
                self.astring(b)?;
            }
            K::Not(k) => {
                self.raw(b"NOT ");
                self.search_key(k, depth + 1)?;
            }
            K::Or(a, b) => {
                self.raw(b"OR ");
                self.search_key(a, depth + 1)?;
                self.sp();
                self.search_key(b, depth + 1)?;
            }
            K::And(v) => {
                if v.is_empty() {
                    return bad("empty search key list");
                }
                self.list(v, |w, k| w.search_key(k, depth + 1))?;
            }
            K::ModSeq { entry, mod_seq } => {
                self.raw(b"MODSEQ ");
                if let Some((name, t)) = entry {
                    if !is_modseq_entry_name(&name.data) || !self.quotable(&name.data) {
                        return bad("MODSEQ entry name must be a quoted \"/flags/\" name");
                    }
                    if !is_modseq_entry_type(t) {
                        return bad("MODSEQ entry type must be priv, shared or all");
                    }
                    self.quoted(&name.data);
                    self.sp();
                    self.atom(t)?;
                    self.sp();
                }
                self.mod_seq(*mod_seq)?;
            }
            _ => return bad("search key"),
        }
        Ok(())
    }

    fn fetch_attr(&mut self, a: &FetchAttr) -> E {
        use FetchAttr as A;
        match a {
            A::Envelope => self.raw(b"ENVELOPE"),
            A::Flags => self.raw(b"FLAGS"),
            A::InternalDate => self.raw(b"INTERNALDATE"),
            A::Rfc822 => self.raw(b"RFC822"),
            A::Rfc822Header => self.raw(b"RFC822.HEADER"),
            A::Rfc822Size => self.raw(b"RFC822.SIZE"),
            A::Rfc822Text => self.raw(b"RFC822.TEXT"),
            A::Body => self.raw(b"BODY"),
            A::BodyStructure => self.raw(b"BODYSTRUCTURE"),
            A::Uid => self.raw(b"UID"),
            A::ModSeq => self.raw(b"MODSEQ"),
            A::SaveDate => self.raw(b"SAVEDATE"),
            A::EmailId => self.raw(b"EMAILID"),
            A::ThreadId => self.raw(b"THREADID"),
            A::BodySection {
                peek,
                section,
                partial,
            } => {
                self.raw(if *peek { b"BODY.PEEK" } else { b"BODY" });
                self.section(section)?;
                self.partial(*partial)?;
            }
            A::Binary { peek, part, partial } => {
                self.raw(if *peek { b"BINARY.PEEK[" } else { b"BINARY[" });
                self.parts(part)?;
                self.out.put_u8(b']');
                self.partial(*partial)?;
            }
            A::BinarySize(part) => {
                self.raw(b"BINARY.SIZE[");
                self.parts(part)?;
                self.out.put_u8(b']');
            }
        }
        Ok(())
    }

    // ---- responses ----

    pub(crate) fn response(&mut self, r: &Response) -> E {
        match r {
            Response::Status(s) => self.status(s)?,
            Response::Continue(c) => self.cont(c)?,
            Response::Data(d) => {
                self.raw(b"* ");
                self.data(d)?;
            }
        }
        self.raw(b"\r\n");
        Ok(())
    }

    fn status(&mut self, s: &StatusResponse) -> E {
        match &s.tag {
            Some(t) => {
                if matches!(s.kind, StatusKind::PreAuth | StatusKind::Bye) {
                    return bad("PREAUTH and BYE are untagged");
                }
                self.tag(t)?;
            }
            None => self.out.put_u8(b'*'),
        }
        self.raw(match s.kind {
            StatusKind::Ok => b" OK",
            StatusKind::No => b" NO",
            StatusKind::Bad => b" BAD",
            StatusKind::PreAuth => b" PREAUTH",
            StatusKind::Bye => b" BYE",
        });
        // resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text, and the same
        // SP before resp-text for PREAUTH and BYE (RFC 9051 section 9): it is
        // written even when code and text are empty ("a1 OK "), since readers
        // such as Python's imaplib require it.
        self.sp();
        self.resp_text(s.code.as_ref(), &s.text)
    }

    fn cont(&mut self, c: &Continue) -> E {
        self.raw(b"+ ");
        // With no code, empty text is an empty base64 challenge
        // (`continue-req = "+" SP (resp-text / base64)`).
        if c.code.is_none() && c.text.is_empty() {
            return Ok(());
        }
        self.resp_text(c.code.as_ref(), &c.text)
    }

    fn resp_text(&mut self, code: Option<&Code>, text: &[u8]) -> E {
        // RFC 3501 section 9: `resp-text = ["[" resp-text-code "]" SP] text`
        // with `text = 1*TEXT-CHAR`; only IMAP4rev2 made the text optional.
        // An empty text is refused rather than replaced by a made-up one,
        // so what is written still parses back to the same value.
        if text.is_empty() && !self.o.empty_text_allowed() {
            return bad("empty response text (IMAP4rev1 needs text)");
        }
        if let Some(c) = code {
            self.out.put_u8(b'[');
            self.code(c)?;
            // resp-text = ["[" resp-text-code "]" SP] [text] (RFC 9051
            // section 9) asks for the SP even before empty text, but the RFCs'
            // own examples end such lines at the ']' (RFC 6851 4.3), and
            // readers take both: the SP is written before text only.
            self.out.put_u8(b']');
            if !text.is_empty() {
                self.sp();
            }
        } else if crate::parse::response::text_opens_code(text, self.o) {
            // Text may start with "[" where no code reads there (RFC 9051
            // section 9: `text = 1*TEXT-CHAR`); the parser's rule decides.
            return bad("text starting with '[' would read as a response code");
        }
        self.text(text)?;
        // Text ends the line, and `{n}` at its end is text (RFC 9051 section
        // 9: resp-text). The framer reads it so on the first line of a status
        // response or continuation, but not after an IMAP4rev1 BADCHARSET
        // code (which may hold literals) or on a later line: there a receiver
        // would take it for a literal and read the next response as its data.
        let line = &self.out[self.base..];
        let start = memchr::memrchr(b'\n', line).map_or(0, |i| i + 1);
        if crate::framing::response_line_announces(&line[start..], start == 0, self.o.version).is_some() {
            return bad("text ending in a literal announcement");
        }
        Ok(())
    }

    fn code(&mut self, c: &Code) -> E {
        match c {
            Code::Atom(a) => self.raw(a.name()),
            Code::BadCharset(v) => {
                self.raw(b"BADCHARSET");
                if !v.is_empty() {
                    self.sp();
                    // An astring under IMAP4rev1 (RFC 3501 section 9: a
                    // literal where no quoted string holds it), `atom /
                    // quoted` under IMAP4rev2 (RFC 9051 section 9: never a
                    // literal), as the parser reads it.
                    let literal_ok = self.o.version != Version::Rev2;
                    self.list(v, |w, c| w.charset(c, literal_ok))?;
                }
            }
            Code::Capability(v) => {
                self.raw(b"CAPABILITY");
                self.caps(v)?;
            }
            Code::PermanentFlags(v) => {
                self.raw(b"PERMANENTFLAGS ");
                self.list(v, Self::flag)?;
            }
            Code::UidNext(n) => {
                self.raw(b"UIDNEXT ");
                self.nz(*n)?;
            }
            Code::UidValidity(n) => {
                self.raw(b"UIDVALIDITY ");
                self.nz(*n)?;
            }
            Code::Unseen(n) => {
                self.raw(b"UNSEEN ");
                self.nz(*n)?;
            }
            Code::AppendUid { uid_validity, uids } => {
                self.raw(b"APPENDUID ");
                self.nz(*uid_validity)?;
                self.sp();
                self.uid_set(uids)?;
            }
            Code::CopyUid {
                uid_validity,
                source,
                dest,
            } => {
                self.raw(b"COPYUID ");
                self.nz(*uid_validity)?;
                self.sp();
                self.uid_set(source)?;
                self.sp();
                self.uid_set(dest)?;
            }
            Code::HighestModSeq(n) => {
                self.raw(b"HIGHESTMODSEQ ");
                self.nz_mod_seq(*n)?;
            }
            Code::Modified(s) => {
                self.raw(b"MODIFIED ");
                self.seq_set(s)?;
            }
            Code::AppendLimit(n) => {
                self.raw(b"APPENDLIMIT");
                if let Some(n) = n {
                    self.sp();
                    self.num63(*n)?;
                }
            }
            Code::MailboxId(id) => {
                self.raw(b"MAILBOXID (");
                self.objectid(id)?;
                self.out.put_u8(b')');
            }
            Code::Other(name, arg) => {
                let start = self.out.len();
                self.atom(name)?;
                if let Some(a) = arg {
                    if a.is_empty() || a.contains(&b']') {
                        return bad("response code argument");
                    }
                    self.sp();
                    self.text(a)?;
                }
                // A known code in the generic form would read back typed
                // (`[ALERT]`, `[UIDNEXT 5]`): parse(encode(x)) must give x.
                let mut probe = BytesMut::from(&b"* OK ["[..]);
                probe.extend_from_slice(&self.out[start..]);
                probe.extend_from_slice(b"] x\r\n");
                if let Ok(Response::Status(s)) = Response::parse(&probe.freeze(), self.o)
                    && !matches!(s.code, Some(Code::Other(..)))
                {
                    return bad("a known response code written as Code::Other");
                }
            }
        }
        Ok(())
    }

    fn objectid(&mut self, id: &[u8]) -> E {
        if id.is_empty()
            || id.len() > 255
            || !id
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            return bad("invalid object id");
        }
        self.raw(id);
        Ok(())
    }

    fn caps(&mut self, v: &[crate::types::Capability]) -> E {
        if v.is_empty() {
            return bad("empty capability list");
        }
        for c in v {
            self.sp();
            self.atom(&c.0)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_lines)]
    fn data(&mut self, d: &Data) -> E {
        match d {
            Data::Capability(v) => {
                self.raw(b"CAPABILITY");
                self.caps(v)?;
            }
            Data::List(l) | Data::Lsub(l) => {
                self.raw(if matches!(d, Data::List(_)) {
                    b"LIST "
                } else {
                    b"LSUB "
                });
                if let Some(why) = mailbox_attrs_error(&l.attrs) {
                    return bad(why);
                }
                self.flag_list(&l.attrs)?;
                self.sp();
                self.delimiter(l.delimiter)?;
                self.sp();
                self.mailbox(&l.mailbox)?;
                if !l.extended.is_empty() {
                    self.sp();
                    self.list(&l.extended, |w, (t, v)| {
                        w.astring(t)?;
                        w.sp();
                        w.ext_value(v, 0)
                    })?;
                }
            }
            Data::Status {
                mailbox,
                items,
                mailbox_id,
                other,
            } => {
                use crate::command::StatusItem;
                self.raw(b"STATUS ");
                self.mailbox(mailbox)?;
                self.raw(b" (");
                let mut first = true;
                for (i, n) in items {
                    if !std::mem::take(&mut first) {
                        self.sp();
                    }
                    self.raw(i.name());
                    self.sp();
                    match n {
                        _ if *i == StatusItem::MailboxId => {
                            return bad("MAILBOXID belongs in mailbox_id");
                        }
                        Some(n) if !i.value_ok(*n) => return bad("STATUS value out of range"),
                        Some(n) => self.num63(*n)?,
                        // RFC 7889 section 3.1: only APPENDLIMIT may be NIL.
                        None if *i == StatusItem::AppendLimit => self.raw(b"NIL"),
                        None => return bad("a STATUS value other than APPENDLIMIT is NIL"),
                    }
                }
                if let Some(id) = mailbox_id {
                    if !std::mem::take(&mut first) {
                        self.sp();
                    }
                    // RFC 8474 section 7: "MAILBOXID" SP "(" objectid ")".
                    self.raw(b"MAILBOXID (");
                    self.objectid(id)?;
                    self.out.put_u8(b')');
                }
                for (name, v) in other {
                    let known = StatusItem::ALL.iter().any(|(_, n)| name.eq_ignore_ascii_case(n));
                    if known || !crate::parse::is_tagged_ext_label(name) {
                        return bad("STATUS item name");
                    }
                    if !std::mem::take(&mut first) {
                        self.sp();
                    }
                    self.atom(name)?;
                    self.sp();
                    self.ext_value(v, 0)?;
                }
                self.out.put_u8(b')');
            }
            Data::Flags(v) => {
                self.raw(b"FLAGS ");
                self.flag_list(v)?;
            }
            Data::Exists(n) => {
                self.num(u64::from(*n));
                self.raw(b" EXISTS");
            }
            Data::Recent(n) => {
                self.num(u64::from(*n));
                self.raw(b" RECENT");
            }
            Data::Expunge(n) => {
                self.nz(*n)?;
                self.raw(b" EXPUNGE");
            }
            Data::Vanished { earlier, uids } => {
                self.raw(if *earlier {
                    b"VANISHED (EARLIER) "
                } else {
                    b"VANISHED "
                });
                self.uid_set(uids)?;
            }
            Data::Search { nums, mod_seq } | Data::Sort { nums, mod_seq } => {
                // RFC 7162 section 7: a MODSEQ follows 1*(SP nz-number).
                if nums.is_empty() && mod_seq.is_some() {
                    return bad("MODSEQ in a SEARCH/SORT response without numbers");
                }
                self.raw(if matches!(d, Data::Search { .. }) {
                    b"SEARCH"
                } else {
                    b"SORT"
                });
                self.out.reserve(nums.len() * 6);
                for n in nums {
                    self.sp();
                    self.nz(*n)?;
                }
                if let Some(m) = mod_seq {
                    self.raw(b" (MODSEQ ");
                    self.nz_mod_seq(*m)?;
                    self.out.put_u8(b')');
                }
            }
            Data::ESearch {
                tag,
                mailbox,
                uid,
                items,
            } => {
                self.raw(b"ESEARCH");
                match (tag, mailbox) {
                    (Some(t), m) => {
                        self.raw(b" (TAG ");
                        // RFC 4466 section 2.6.2 has `tag-string = string`
                        // (RFC 9051 widened it to astring): a quoted string
                        // or literal suits both, so no atom is written.
                        self.string(t)?;
                        if let Some((m, v)) = m {
                            self.raw(b" MAILBOX ");
                            self.mailbox(m)?;
                            self.raw(b" UIDVALIDITY ");
                            self.nz(*v)?;
                        }
                        self.out.put_u8(b')');
                    }
                    (None, Some(_)) => return bad("ESEARCH MAILBOX without TAG"),
                    (None, None) => {}
                }
                if *uid {
                    self.raw(b" UID");
                }
                for (n, i) in items.iter().enumerate() {
                    self.sp();
                    match i {
                        ESearchItem::Min(n) => {
                            self.raw(b"MIN ");
                            self.nz(*n)?;
                        }
                        ESearchItem::Max(n) => {
                            self.raw(b"MAX ");
                            self.nz(*n)?;
                        }
                        ESearchItem::Count(n) => {
                            self.raw(b"COUNT ");
                            self.num(u64::from(*n));
                        }
                        ESearchItem::All(s) => {
                            self.raw(b"ALL ");
                            self.seq_set(s)?;
                        }
                        ESearchItem::ModSeq(n) => {
                            self.raw(b"MODSEQ ");
                            self.nz_mod_seq(*n)?;
                        }
                        ESearchItem::Other(name, v) => {
                            let known = [&b"MIN"[..], b"MAX", b"COUNT", b"ALL", b"MODSEQ"];
                            // An item named UID is a search-ret-data-ext like
                            // any other (RFC 9051 section 9), except first
                            // without the UID marker, where it reads as one.
                            let marker = n == 0 && !*uid && name.eq_ignore_ascii_case(b"UID");
                            if marker
                                || known.iter().any(|k| name.eq_ignore_ascii_case(k))
                                || !crate::parse::is_tagged_ext_label(name)
                            {
                                return bad("ESEARCH item name");
                            }
                            self.atom(name)?;
                            self.sp();
                            self.ext_value(v, 0)?;
                        }
                    }
                }
            }
            Data::Fetch { seq, items } => {
                self.nz(*seq)?;
                self.raw(b" FETCH ");
                if items.is_empty() {
                    return bad("empty FETCH item list");
                }
                self.list(items, Self::fetch_item)?;
            }
            Data::Enabled(v) => {
                self.raw(b"ENABLED");
                for c in v {
                    self.sp();
                    self.atom(c)?;
                }
            }
            Data::Id(p) => {
                self.raw(b"ID ");
                self.id_params(p)?;
            }
            Data::Namespace {
                personal,
                other,
                shared,
            } => {
                self.raw(b"NAMESPACE ");
                self.namespace(personal.as_deref())?;
                self.sp();
                self.namespace(other.as_deref())?;
                self.sp();
                self.namespace(shared.as_deref())?;
            }
            // RFC 9208 section 9: quota-list holds at least one resource.
            Data::Quota { resources, .. } if resources.is_empty() => return bad("empty QUOTA list"),
            Data::Quota { root, resources } => {
                self.raw(b"QUOTA ");
                self.astring(root)?;
                self.sp();
                self.list(resources, |w, r| {
                    w.atom(&r.name)?;
                    w.sp();
                    w.num63(r.usage)?;
                    w.sp();
                    w.num63(r.limit)
                })?;
            }
            Data::QuotaRoot { mailbox, roots } => {
                self.raw(b"QUOTAROOT ");
                self.mailbox(mailbox)?;
                for r in roots {
                    self.sp();
                    self.astring(r)?;
                }
            }
            Data::Thread(v) => {
                self.raw(b"THREAD");
                if !v.is_empty() {
                    self.sp();
                    for t in v {
                        self.thread(t, 0)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `DQUOTE QUOTED-CHAR DQUOTE / nil` (the parser's `delimiter`): not
    /// CR, LF or NUL, and a character past US-ASCII only where UTF-8 is in
    /// effect (RFC 9051 section 9, RFC 6855 section 3).
    fn delimiter(&mut self, d: Option<char>) -> E {
        match d {
            None => self.raw(b"NIL"),
            Some('\r' | '\n' | '\0') => return bad("invalid delimiter"),
            Some(c) if !c.is_ascii() && !self.o.utf8() => {
                return bad("delimiter past US-ASCII without UTF-8 (IMAP4rev1)");
            }
            Some(c) => self.quoted(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
        Ok(())
    }

    fn ext_value(&mut self, v: &ExtValue, depth: usize) -> E {
        if depth >= self.o.limits.max_depth {
            return bad("extension value nesting too deep");
        }
        match v {
            ExtValue::Atom(a) => {
                if a.is_empty() || !a.iter().all(|&c| crate::parse::is_atom_char(c) || c == b'*') {
                    return bad("extension value atom");
                }
                self.raw(a);
                Ok(())
            }
            ExtValue::Str(s) => self.string(s),
            ExtValue::List(v) => self.list(v, |w, x| w.ext_value(x, depth + 1)),
        }
    }

    fn namespace(&mut self, v: Option<&[NamespaceDesc]>) -> E {
        match v {
            None => {
                self.raw(b"NIL");
                Ok(())
            }
            Some([]) => bad("empty namespace list"),
            Some(v) => {
                self.out.put_u8(b'(');
                for n in v {
                    self.out.put_u8(b'(');
                    self.string(&n.prefix)?;
                    self.sp();
                    self.delimiter(n.delimiter)?;
                    for (name, vals) in &n.extensions {
                        self.sp();
                        self.string(name)?;
                        self.sp();
                        if vals.is_empty() {
                            return bad("empty namespace extension values");
                        }
                        self.list(vals, Self::string)?;
                    }
                    self.out.put_u8(b')');
                }
                self.out.put_u8(b')');
                Ok(())
            }
        }
    }

    fn thread(&mut self, t: &Thread, depth: usize) -> E {
        if depth >= self.o.limits.max_depth {
            return bad("thread nesting too deep");
        }
        if t.children.len() == 1 || (t.ids.is_empty() && t.children.len() < 2) {
            return bad("a thread branches into zero or at least two sub-threads");
        }
        self.out.put_u8(b'(');
        for (i, id) in t.ids.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            self.nz(*id)?;
        }
        if !t.children.is_empty() {
            if !t.ids.is_empty() {
                self.sp();
            }
            for c in &t.children {
                self.thread(c, depth + 1)?;
            }
        }
        self.out.put_u8(b')');
        Ok(())
    }

    fn fetch_item(&mut self, i: &FetchItem) -> E {
        use FetchItem as F;
        match i {
            F::Flags(v) => {
                self.raw(b"FLAGS ");
                self.flag_list(v)?;
            }
            F::Envelope(e) => {
                self.raw(b"ENVELOPE ");
                self.envelope(e)?;
            }
            F::InternalDate(d) => {
                self.raw(b"INTERNALDATE ");
                self.date_time(d)?;
            }
            F::Rfc822(s) => {
                self.raw(b"RFC822 ");
                self.nstring(s)?;
            }
            F::Rfc822Header(s) => {
                self.raw(b"RFC822.HEADER ");
                self.nstring(s)?;
            }
            F::Rfc822Text(s) => {
                self.raw(b"RFC822.TEXT ");
                self.nstring(s)?;
            }
            F::Rfc822Size(n) => {
                self.raw(b"RFC822.SIZE ");
                self.num64_rev2(*n)?;
            }
            F::Uid(n) => {
                self.raw(b"UID ");
                self.nz(*n)?;
            }
            F::ModSeq(n) => {
                self.raw(b"MODSEQ (");
                self.nz_mod_seq(*n)?;
                self.out.put_u8(b')');
            }
            F::Body(b) => {
                self.raw(b"BODY ");
                self.body(b, false, 0)?;
            }
            F::BodyStructure(b) => {
                self.raw(b"BODYSTRUCTURE ");
                self.body(b, true, 0)?;
            }
            F::BodySection {
                section,
                origin,
                data,
            } => {
                self.raw(b"BODY");
                self.section(section)?;
                self.origin(*origin)?;
                self.sp();
                self.nstring(data)?;
            }
            F::Binary { part, origin, data } => {
                self.raw(b"BINARY[");
                self.parts(part)?;
                self.out.put_u8(b']');
                self.origin(*origin)?;
                self.sp();
                match data {
                    None => self.raw(b"NIL"),
                    Some(s) => self.string_in(s, true)?,
                }
            }
            F::BinarySize { part, size } => {
                self.raw(b"BINARY.SIZE[");
                self.parts(part)?;
                self.raw(b"] ");
                self.num64_rev2(*size)?;
            }
            F::SaveDate(d) => {
                self.raw(b"SAVEDATE ");
                match d {
                    None => self.raw(b"NIL"),
                    Some(d) => self.date_time(d)?,
                }
            }
            F::EmailId(id) => {
                self.raw(b"EMAILID (");
                self.objectid(id)?;
                self.out.put_u8(b')');
            }
            F::ThreadId(id) => {
                self.raw(b"THREADID ");
                match id {
                    None => self.raw(b"NIL"),
                    Some(id) => {
                        self.out.put_u8(b'(');
                        self.objectid(id)?;
                        self.out.put_u8(b')');
                    }
                }
            }
        }
        Ok(())
    }

    fn envelope(&mut self, e: &Envelope) -> E {
        self.out.put_u8(b'(');
        self.nstring(&e.date)?;
        self.sp();
        self.nstring(&e.subject)?;
        for a in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
            self.sp();
            self.addresses(a.as_deref())?;
        }
        self.sp();
        self.nstring(&e.in_reply_to)?;
        self.sp();
        self.nstring(&e.message_id)?;
        self.out.put_u8(b')');
        Ok(())
    }

    fn addresses(&mut self, v: Option<&[Address]>) -> E {
        match v {
            None => self.raw(b"NIL"),
            Some([]) => return bad("empty address list (use NIL)"),
            Some(v) => {
                self.out.put_u8(b'(');
                for a in v {
                    self.out.put_u8(b'(');
                    self.nstring(&a.name)?;
                    self.sp();
                    self.nstring(&a.adl)?;
                    self.sp();
                    self.nstring(&a.mailbox)?;
                    self.sp();
                    self.nstring(&a.host)?;
                    self.out.put_u8(b')');
                }
                self.out.put_u8(b')');
            }
        }
        Ok(())
    }

    fn params(&mut self, p: &Option<Vec<(Str, Str)>>) -> E {
        match p {
            None => self.raw(b"NIL"),
            Some(v) if v.is_empty() => return bad("empty parameter list (use NIL)"),
            Some(v) => self.list(v, |w, (k, val)| {
                w.string(k)?;
                w.sp();
                w.string(val)
            })?,
        }
        Ok(())
    }

    fn body(&mut self, b: &BodyStructure, ext: bool, depth: usize) -> E {
        if depth >= self.o.limits.max_depth {
            return bad("body structure nesting too deep");
        }
        self.out.put_u8(b'(');
        match b {
            BodyStructure::Multi {
                parts,
                subtype,
                ext: e,
            } => {
                if parts.is_empty() {
                    return bad("multipart without parts");
                }
                for p in parts {
                    self.body(p, ext, depth + 1)?;
                }
                self.sp();
                self.string(subtype)?;
                if let Some(e) = self.ext_data(ext, e.as_deref())? {
                    self.sp();
                    self.params(&e.params)?;
                    if let Some(t) = &e.tail {
                        self.sp();
                        self.disposition(t, depth)?;
                    }
                }
            }
            BodyStructure::Single {
                fields: f,
                kind,
                ext: e,
            } => {
                let mt = &f.media_type.data;
                let st = &f.subtype.data;
                let is_text = mt.eq_ignore_ascii_case(b"TEXT");
                let is_msg = mt.eq_ignore_ascii_case(b"MESSAGE")
                    && (st.eq_ignore_ascii_case(b"RFC822") || st.eq_ignore_ascii_case(b"GLOBAL"));
                let consistent = match kind {
                    SingleKind::Basic => !is_text && !is_msg,
                    SingleKind::Text { .. } => is_text,
                    SingleKind::Message { .. } => is_msg,
                };
                if !consistent {
                    return bad("body kind does not match its media type");
                }
                self.string(&f.media_type)?;
                self.sp();
                self.string(&f.subtype)?;
                self.sp();
                self.params(&f.params)?;
                self.sp();
                self.nstring(&f.id)?;
                self.sp();
                self.nstring(&f.description)?;
                self.sp();
                self.nstring(&f.encoding)?;
                self.sp();
                self.num(u64::from(f.octets));
                match kind {
                    SingleKind::Basic => {}
                    SingleKind::Text { lines } => {
                        self.sp();
                        self.num64_rev2(*lines)?;
                    }
                    SingleKind::Message {
                        envelope,
                        body,
                        lines,
                    } => {
                        self.sp();
                        self.envelope(envelope)?;
                        self.sp();
                        self.body(body, ext, depth + 1)?;
                        self.sp();
                        self.num64_rev2(*lines)?;
                    }
                }
                if let Some(e) = self.ext_data(ext, e.as_deref())? {
                    self.sp();
                    self.nstring(&e.md5)?;
                    if let Some(t) = &e.tail {
                        self.sp();
                        self.disposition(t, depth)?;
                    }
                }
            }
        }
        self.out.put_u8(b')');
        Ok(())
    }

    /// A part's extension data, to be written when `ext` (BODYSTRUCTURE).
    /// BODY is "a form of BODYSTRUCTURE without extension data" (RFC 9051
    /// section 7.5.2), and the parser reads it so: extension data there is
    /// refused, not dropped.
    fn ext_data<'e, T>(&self, ext: bool, e: Option<&'e T>) -> Result<Option<&'e T>, EncodeError> {
        match e {
            Some(_) if !ext => bad("extension data in BODY (only BODYSTRUCTURE carries it)"),
            e => Ok(e),
        }
    }

    fn disposition(&mut self, d: &DispositionExt, depth: usize) -> E {
        match &d.disposition {
            None => self.raw(b"NIL"),
            Some((t, p)) => {
                self.out.put_u8(b'(');
                self.string(t)?;
                self.sp();
                self.params(p)?;
                self.out.put_u8(b')');
            }
        }
        if let Some(l) = &d.tail {
            self.sp();
            match &l.language {
                Language::Single(s) => self.nstring(s)?,
                Language::List(v) if v.is_empty() => return bad("empty language list"),
                Language::List(v) => self.list(v, Self::string)?,
            }
            if let Some(loc) = &l.tail {
                self.sp();
                self.nstring(&loc.location)?;
                for x in &loc.extensions {
                    self.sp();
                    self.body_ext(x, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn body_ext(&mut self, x: &BodyExtension, depth: usize) -> E {
        if depth >= self.o.limits.max_depth {
            return bad("body extension nesting too deep");
        }
        match x {
            BodyExtension::Str(s) => self.nstring(s),
            BodyExtension::Number(n) => self.num64_rev2(*n),
            BodyExtension::List(v) if v.is_empty() => bad("empty body extension list"),
            BodyExtension::List(v) => self.list(v, |w, x| w.body_ext(x, depth + 1)),
        }
    }
}
