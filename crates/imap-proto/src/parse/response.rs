//! Response grammar (RFC 9051 section 9, RFC 3501 section 9, extensions).

use bytes::Bytes;

use super::{
    NOT_BACKSLASH_ATTR, P, R, TWO_SFLAGS, is_astring_char, is_atom_char, is_backslash_flag, is_sflag,
    push_blank,
};
use crate::options::{Options, Version};
use crate::response::{
    Address, BodyExtension, BodyFields, BodyStructure, Code, CodeKind, Continue, Data, DispositionExt,
    ESearchItem, Envelope, ExtValue, FetchItem, Language, LanguageExt, ListData, LocationExt, MultiExt,
    NamespaceDesc, QuotaResource, Response, SingleExt, SingleKind, StatusKind, StatusResponse, Thread,
    code_kind,
};
use crate::types::{Capability, FlagList, Mailbox, Str, Tag};

impl P<'_> {
    pub(crate) fn response(&mut self) -> R<Response> {
        match self.peek() {
            Some(b'+') => {
                self.pos += 1;
                if self.at_end() {
                    // `+ ` is an empty challenge (`"+" SP base64`, RFC 9051
                    // section 9), also when `Quirks::trailing_space` took
                    // its space for a trailing one.
                    let spaced = self.pos < self.line_end && self.b[self.pos] == b' ';
                    if self.o.quirks.bare_continuation || spaced {
                        return Ok(Response::Continue(Continue {
                            code: None,
                            text: Bytes::new(),
                        }));
                    }
                    return self.err("bare '+' continuation");
                }
                self.sp()?;
                let (code, text) = self.resp_text()?;
                // `+ ` alone is an empty base64 challenge; with a code, it is
                // resp-text without text.
                if code.is_some() {
                    self.text_present(&text)?;
                }
                Ok(Response::Continue(Continue { code, text }))
            }
            Some(b'*') => {
                self.pos += 1;
                self.sp()?;
                self.untagged()
            }
            _ => {
                let (s, e) = self.take_while(|c| is_astring_char(c) && c != b'+');
                if s == e {
                    return self.err("expected a tag, '*' or '+'");
                }
                let tag = Tag(self.slice(s, e));
                self.sp()?;
                let mut kb = [0u8; 24];
                let kind = match self.keyword(&mut kb)? {
                    b"OK" => StatusKind::Ok,
                    b"NO" => StatusKind::No,
                    b"BAD" => StatusKind::Bad,
                    _ => return self.err("expected OK, NO or BAD"),
                };
                self.status_rest(Some(tag), kind)
            }
        }
    }

    fn status_rest(&mut self, tag: Option<Tag>, kind: StatusKind) -> R<Response> {
        let (code, text) = if self.eat(b' ') {
            self.resp_text()?
        } else if self.at_end() {
            (None, Bytes::new())
        } else {
            return self.err("expected a space");
        };
        self.text_present(&text)?;
        Ok(Response::Status(StatusResponse {
            tag,
            kind,
            code,
            text,
        }))
    }

    /// The text of a resp-text may be empty under IMAP4rev2 only, or
    /// under [`Quirks::empty_text`](crate::Quirks::empty_text). A text of
    /// spaces that [`Quirks::trailing_space`](crate::Quirks::trailing_space)
    /// trimmed was there: a space is a TEXT-CHAR (RFC 3501 section 9).
    fn text_present(&self, text: &Bytes) -> R<()> {
        let trimmed = self.end < self.line_end;
        if text.is_empty() && !self.o.empty_text_allowed() && !self.o.quirks.empty_text && !trimmed {
            return self.err("no text after the status (IMAP4rev1 needs it)");
        }
        Ok(())
    }

    /// `resp-text = ["[" resp-text-code "]" SP] [text]` (RFC 9051 section
    /// 9; RFC 3501 section 9 has `text`, not `[text]`), where `text =
    /// 1*TEXT-CHAR` may itself start with "[": the grammar reads
    /// `[ALERT] x` either way. The rule chosen: a "[" opens a response code
    /// where `"[" resp-text-code "]"` reads after it (see
    /// [`bracket_code`](Self::bracket_code)), and then, as the grammar
    /// asks, SP or the end of the line follows the "]" (`[ALERT]x` is
    /// refused). Where it does not read (`[`, `[]`, `[ x]`, no closing
    /// "]": `* OK [not a code`), the "[" cannot start a resp-text-code, and
    /// everything is text. The encoder writes text without a code only
    /// where no code reads at its start ([`text_opens_code`]), so what it
    /// writes reads back the same.
    pub(crate) fn resp_text(&mut self) -> R<(Option<Code>, Bytes)> {
        let code = self.bracket_code()?;
        if code.is_some() && !self.eat(b' ') && !self.at_end() {
            return self.err("expected a space after ']'");
        }
        Ok((code, self.text()?))
    }

    /// `"[" resp-text-code "]"` at the cursor: the code, the cursor past
    /// its "]"; `None`, the cursor unmoved, where none reads. A bound of
    /// [`Limits`](crate::Limits) broken inside stays an error.
    fn bracket_code(&mut self) -> R<Option<Code>> {
        let at = self.pos;
        if !self.eat(b'[') {
            return Ok(None);
        }
        let read = match self.code() {
            Ok(c) => self.expect(b']', "expected ']'").map(|()| c),
            Err(e) => Err(e),
        };
        match read {
            Ok(c) => Ok(Some(c)),
            Err(e) if super::is_limit(e.reason) => Err(e),
            Err(_) => {
                self.pos = at;
                Ok(None)
            }
        }
    }

    fn code(&mut self) -> R<Code> {
        let start = self.pos;
        match self.code_known() {
            Ok(Some(c)) if self.peek() == Some(b']') => return Ok(c),
            Err(e) if super::is_limit(e.reason) => return Err(e),
            _ => {}
        }
        // Unknown code, or a known name with arguments we cannot read:
        // keep it raw (atom [SP 1*<TEXT-CHAR except "]">]).
        self.pos = start;
        let (s, e) = self.take_while(is_atom_char);
        if s == e {
            return self.err("expected a response code");
        }
        let name = self.slice(s, e);
        let mut arg = None;
        if self.eat(b' ') {
            // TEXT-CHAR except "]": no CR, LF or NUL (the encoder refuses them).
            let (s, e) = self.take_while(|c| !matches!(c, b']' | b'\r' | b'\n' | 0));
            if s == e {
                return self.err("empty response code argument");
            }
            self.text_chars(s, e)?;
            arg = Some(self.slice(s, e));
        }
        Ok(Code::Other(name, arg))
    }

    fn code_known(&mut self) -> R<Option<Code>> {
        let mut kb = [0u8; 24];
        let kw = self.keyword(&mut kb)?;
        let Some(kind) = code_kind(kw) else {
            return Ok(None);
        };
        Ok(Some(match kind {
            CodeKind::Atom(a) => Code::Atom(a),
            CodeKind::BadCharset => {
                let mut v = Vec::new();
                if self.eat(b' ') {
                    // RFC 3501 section 9: `"BADCHARSET" [SP "(" astring
                    // *(SP astring) ")"]`; RFC 9051 section 9 narrows it to
                    // `charset = atom / quoted` (no literal, no `]`). Either
                    // way the list holds one charset at least: `()` is a
                    // malformed code, kept raw.
                    v = if self.o.version == Version::Rev2 {
                        self.paren_list(Self::charset)?
                    } else {
                        self.paren_list(Self::astring)?
                    };
                    if v.is_empty() {
                        return self.err("empty BADCHARSET list");
                    }
                }
                Code::BadCharset(v)
            }
            CodeKind::Capability => Code::Capability(self.capabilities()?),
            CodeKind::PermanentFlags => {
                self.sp()?;
                Code::PermanentFlags(self.flag_list(true)?)
            }
            CodeKind::UidNext => {
                self.sp()?;
                Code::UidNext(self.nz_number()?)
            }
            CodeKind::UidValidity => {
                self.sp()?;
                Code::UidValidity(self.nz_number()?)
            }
            CodeKind::Unseen => {
                self.sp()?;
                Code::Unseen(self.nz_number()?)
            }
            CodeKind::AppendUid => {
                self.sp()?;
                let uid_validity = self.nz_number()?;
                self.sp()?;
                Code::AppendUid {
                    uid_validity,
                    uids: self.uid_set()?,
                }
            }
            CodeKind::CopyUid => {
                self.sp()?;
                let uid_validity = self.nz_number()?;
                self.sp()?;
                let source = self.uid_set()?;
                self.sp()?;
                Code::CopyUid {
                    uid_validity,
                    source,
                    dest: self.uid_set()?,
                }
            }
            CodeKind::HighestModSeq => {
                self.sp()?;
                Code::HighestModSeq(self.nz_mod_seq()?)
            }
            CodeKind::Modified => {
                self.sp()?;
                Code::Modified(self.seq_set()?)
            }
            CodeKind::AppendLimit => {
                let mut n = None;
                if self.eat(b' ') {
                    n = Some(self.number63()?);
                }
                Code::AppendLimit(n)
            }
            CodeKind::MailboxId => {
                self.sp()?;
                self.open()?;
                let id = self.objectid()?;
                self.close()?;
                Code::MailboxId(id)
            }
        }))
    }

    fn objectid(&mut self) -> R<Bytes> {
        let (s, e) = self.take_while(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
        if s == e || e - s > 255 {
            return self.err("expected an object id");
        }
        Ok(self.slice(s, e))
    }

    /// *(SP capability), at least one.
    fn capabilities(&mut self) -> R<Vec<Capability>> {
        let mut v = Vec::new();
        while self.peek() == Some(b' ') && self.peek_at(1).is_some_and(is_atom_char) {
            self.pos += 1;
            self.item()?;
            v.push(Capability(self.atom()?));
        }
        if v.is_empty() {
            return self.err("expected a capability");
        }
        Ok(v)
    }

    fn untagged(&mut self) -> R<Response> {
        if matches!(self.peek(), Some(b'0'..=b'9')) {
            // EXISTS and RECENT take a number, EXPUNGE and FETCH an
            // nz-number (digit-nz *DIGIT: not 0, no leading zero).
            let nz = self.peek() != Some(b'0');
            let n = self.number()?;
            self.sp()?;
            let mut kb = [0u8; 24];
            let d = match self.keyword(&mut kb)? {
                b"EXISTS" => Data::Exists(n),
                b"RECENT" => Data::Recent(n),
                b"EXPUNGE" if nz => Data::Expunge(n),
                b"FETCH" if nz => {
                    self.sp()?;
                    Data::Fetch {
                        seq: n,
                        items: self.fetch_items()?,
                    }
                }
                _ => return self.err("unknown message data"),
            };
            return Ok(Response::Data(d));
        }
        let mut kb = [0u8; 24];
        let kw = self.keyword(&mut kb)?;
        let kind = match kw {
            b"OK" => Some(StatusKind::Ok),
            b"NO" => Some(StatusKind::No),
            b"BAD" => Some(StatusKind::Bad),
            b"PREAUTH" => Some(StatusKind::PreAuth),
            b"BYE" => Some(StatusKind::Bye),
            _ => None,
        };
        if let Some(kind) = kind {
            return self.status_rest(None, kind);
        }
        let d = match kw {
            b"CAPABILITY" => Data::Capability(self.capabilities()?),
            b"LIST" | b"LSUB" => {
                self.sp()?;
                // Read in place (see `P::nstring_into`).
                let blank = ListData {
                    attrs: FlagList::new(),
                    delimiter: None,
                    mailbox: Mailbox(Str::default()),
                    extended: Vec::new(),
                };
                let mut r = Response::Data(if kw == b"LIST" {
                    Data::List(blank)
                } else {
                    Data::Lsub(blank)
                });
                if let Response::Data(Data::List(l) | Data::Lsub(l)) = &mut r {
                    self.list_data_into(l)?;
                }
                return Ok(r);
            }
            b"STATUS" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                let mut items = Vec::new();
                let mut mailbox_id = None;
                let mut other = Vec::new();
                if !(self.at_end() && self.o.quirks.missing_status_list) {
                    self.sp()?;
                    self.paren_list(|p| {
                        use crate::command::StatusItem;
                        let name = p.ext_label()?;
                        p.sp()?;
                        let known = StatusItem::ALL.iter().find(|(_, n)| name.eq_ignore_ascii_case(n));
                        match known.map(|(i, _)| *i) {
                            Some(StatusItem::MailboxId) => {
                                // RFC 8474 section 7: "MAILBOXID" SP "(" objectid ")".
                                p.open()?;
                                mailbox_id = Some(p.objectid()?);
                                p.close()
                            }
                            Some(StatusItem::AppendLimit) if p.is_nil() => {
                                p.pos += 3;
                                items.push((StatusItem::AppendLimit, None));
                                Ok(())
                            }
                            Some(i) => {
                                let at = p.pos;
                                let n = p.number63()?;
                                if !i.value_ok(n) {
                                    p.pos = at;
                                    return p.err("STATUS value out of range");
                                }
                                items.push((i, Some(n)));
                                Ok(())
                            }
                            // RFC 9051 section 9: extensions use tagged-ext.
                            None => {
                                other.push((name, p.ext_value()?));
                                Ok(())
                            }
                        }
                    })?;
                }
                Data::Status {
                    mailbox,
                    items,
                    mailbox_id,
                    other,
                }
            }
            b"FLAGS" => {
                self.sp()?;
                Data::Flags(self.flag_list(false)?)
            }
            b"SEARCH" | b"SORT" => {
                let mut nums = Vec::new();
                let mut mod_seq = None;
                self.number_list(&mut nums)?;
                while self.eat(b' ') {
                    if self.eat(b'(') {
                        if !self.eat_kw(b"MODSEQ") {
                            return self.err("expected MODSEQ");
                        }
                        // RFC 7162 section 7: 1*(SP nz-number) comes first.
                        if nums.is_empty() {
                            return self.err("MODSEQ without a number");
                        }
                        self.sp()?;
                        mod_seq = Some(self.nz_mod_seq()?);
                        self.close()?;
                        break;
                    }
                    self.item()?;
                    nums.push(self.nz_number()?);
                }
                if kw == b"SEARCH" {
                    Data::Search { nums, mod_seq }
                } else {
                    Data::Sort { nums, mod_seq }
                }
            }
            b"ESEARCH" => self.esearch()?,
            b"ENABLED" => {
                let mut v = Vec::new();
                while self.eat(b' ') {
                    self.item()?;
                    v.push(self.atom()?);
                }
                Data::Enabled(v)
            }
            b"ID" => {
                self.sp()?;
                Data::Id(self.id_params()?)
            }
            b"NAMESPACE" => {
                self.sp()?;
                let personal = self.namespace()?;
                self.sp()?;
                let other = self.namespace()?;
                self.sp()?;
                let shared = self.namespace()?;
                Data::Namespace {
                    personal,
                    other,
                    shared,
                }
            }
            b"QUOTA" => {
                self.sp()?;
                let root = self.astring()?;
                self.sp()?;
                let resources = self.paren_list(|p| {
                    let name = p.atom()?;
                    p.sp()?;
                    let usage = p.number63()?;
                    p.sp()?;
                    Ok(QuotaResource {
                        name,
                        usage,
                        limit: p.number63()?,
                    })
                })?;
                // RFC 9208 section 9: quota-list holds at least one resource.
                if resources.is_empty() {
                    return self.err("empty QUOTA list");
                }
                Data::Quota { root, resources }
            }
            b"QUOTAROOT" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                let mut roots = Vec::new();
                while self.eat(b' ') {
                    self.item()?;
                    roots.push(self.astring()?);
                }
                Data::QuotaRoot { mailbox, roots }
            }
            b"THREAD" => {
                let mut v = Vec::new();
                if self.eat(b' ') {
                    while self.peek() == Some(b'(') {
                        self.item()?;
                        v.push(self.thread_list()?);
                    }
                    if v.is_empty() {
                        return self.err("expected a thread");
                    }
                }
                Data::Thread(v)
            }
            b"VANISHED" => {
                self.sp()?;
                let earlier = self.eat(b'(');
                if earlier {
                    if !self.eat_kw(b"EARLIER") {
                        return self.err("expected EARLIER");
                    }
                    self.close()?;
                    self.sp()?;
                }
                // RFC 7162 section 7: known-uids, "*" is not allowed.
                Data::Vanished {
                    earlier,
                    uids: self.uid_set()?,
                }
            }
            _ => return self.err("unknown untagged response"),
        };
        Ok(Response::Data(d))
    }

    /// LIST/LSUB data, read into `l` (a blank one).
    fn list_data_into(&mut self, l: &mut ListData) -> R<()> {
        self.mailbox_attrs_into(&mut l.attrs)?;
        self.sp()?;
        l.delimiter = self.delimiter()?;
        self.sp()?;
        self.astring_into(&mut l.mailbox.0)?;
        if self.eat(b' ') {
            l.extended = self.paren_list(|p| {
                let t = p.astring()?;
                p.sp()?;
                Ok((t, p.ext_value()?))
            })?;
        }
        Ok(())
    }

    /// `"(" [mbx-list-flags] ")"` into `v` (empty): backslash flags, at
    /// most one of them a selectability flag (the rule of
    /// [`mailbox_attrs_error`](super::mailbox_attrs_error), checked on the
    /// names as they are read).
    fn mailbox_attrs_into(&mut self, v: &mut FlagList) -> R<()> {
        let at = self.pos;
        self.open()?;
        let mut sflags = 0;
        if !self.eat(b')') {
            loop {
                let s = self.pos;
                self.item()?;
                let f = v.push_slot();
                self.flag_into(false, f)?;
                if !is_backslash_flag(f) {
                    self.pos = s;
                    return self.err(NOT_BACKSLASH_ATTR);
                }
                sflags += usize::from(is_sflag(&self.b[s + 1..self.pos]));
                if self.eat(b')') {
                    break;
                }
                self.sp()?;
            }
        }
        if sflags > 1 {
            self.pos = at;
            return self.err(TWO_SFLAGS);
        }
        Ok(())
    }

    /// tagged-ext-val, generic and depth-limited.
    pub(crate) fn ext_value(&mut self) -> R<ExtValue> {
        self.enter()?;
        let v = match self.peek() {
            Some(b'(') => self.paren_list(Self::ext_value).map(ExtValue::List),
            Some(b'"' | b'{') => self.string().map(ExtValue::Str),
            _ => {
                let (s, e) = self.take_while(|c| is_atom_char(c) || c == b'*');
                if s == e {
                    self.err("expected an extension value")
                } else {
                    Ok(ExtValue::Atom(self.slice(s, e)))
                }
            }
        };
        self.leave();
        v
    }

    fn esearch(&mut self) -> R<Data> {
        let mut tag = None;
        let mut mailbox = None;
        let mut uid = false;
        let mut items = Vec::new();
        if self.peek() == Some(b' ') && self.peek_at(1) == Some(b'(') {
            self.pos += 2;
            if !self.eat_kw(b"TAG") {
                return self.err("expected TAG");
            }
            self.sp()?;
            // RFC 9051 section 9: tag-string = astring.
            tag = Some(self.astring()?);
            // RFC 7377 section 6: [SP "MAILBOX" SP astring SP "UIDVALIDITY"
            // SP nz-number] after the tag-string.
            if self.eat(b' ') {
                if !self.eat_kw(b"MAILBOX") {
                    return self.err("expected MAILBOX");
                }
                self.sp()?;
                let m = self.mailbox()?;
                self.sp()?;
                if !self.eat_kw(b"UIDVALIDITY") {
                    return self.err("expected UIDVALIDITY");
                }
                self.sp()?;
                mailbox = Some((m, self.nz_number()?));
            }
            self.close()?;
        }
        if self.peek() == Some(b' ') {
            let save = self.pos;
            self.pos += 1;
            if self.eat_kw(b"UID") {
                uid = true;
            } else {
                self.pos = save;
            }
        }
        while self.eat(b' ') {
            // search-modifier-name = tagged-ext-label, of any length.
            let name = self.ext_label()?;
            self.sp()?;
            let is = |k: &[u8]| name.eq_ignore_ascii_case(k);
            self.item()?;
            items.push(if is(b"MIN") {
                ESearchItem::Min(self.nz_number()?)
            } else if is(b"MAX") {
                ESearchItem::Max(self.nz_number()?)
            } else if is(b"COUNT") {
                ESearchItem::Count(self.number()?)
            } else if is(b"ALL") {
                ESearchItem::All(self.seq_set()?)
            } else if is(b"MODSEQ") {
                // RFC 4731 section 4: "MODSEQ" SP mod-sequence-value,
                // which RFC 7162 section 7 makes 1 or more.
                ESearchItem::ModSeq(self.nz_mod_seq()?)
            } else {
                ESearchItem::Other(name, self.ext_value()?)
            });
        }
        Ok(Data::ESearch {
            tag,
            mailbox,
            uid,
            items,
        })
    }

    fn namespace(&mut self) -> R<Option<Vec<NamespaceDesc>>> {
        if self.is_nil() {
            self.pos += 3;
            return Ok(None);
        }
        self.open()?;
        let mut v = Vec::new();
        while self.peek() == Some(b'(') {
            self.pos += 1;
            let prefix = self.string()?;
            self.sp()?;
            let delimiter = self.delimiter()?;
            let mut extensions = Vec::new();
            while self.eat(b' ') {
                let name = self.string()?;
                self.sp()?;
                let vals = self.paren_list(Self::string)?;
                // namespace-response-extension: "(" string *(SP string) ")".
                if vals.is_empty() {
                    return self.err("empty namespace extension values");
                }
                self.item()?;
                extensions.push((name, vals));
            }
            self.close()?;
            self.item()?;
            v.push(NamespaceDesc {
                prefix,
                delimiter,
                extensions,
            });
        }
        self.close()?;
        if v.is_empty() {
            return self.err("empty namespace list");
        }
        Ok(Some(v))
    }

    fn thread_list(&mut self) -> R<Thread> {
        self.enter()?;
        let t = self.thread_inner();
        self.leave();
        t
    }

    fn thread_inner(&mut self) -> R<Thread> {
        self.open()?;
        let mut t = Thread::default();
        loop {
            match self.peek() {
                Some(b'0'..=b'9') => {
                    self.item()?;
                    t.ids.push(self.nz_number()?);
                    if self.peek() == Some(b' ') {
                        self.pos += 1;
                        if self.peek() == Some(b')') {
                            return self.err("space before ')'");
                        }
                    }
                }
                Some(b'(') => {
                    while self.peek() == Some(b'(') {
                        self.item()?;
                        t.children.push(self.thread_list()?);
                    }
                    break;
                }
                _ => break,
            }
        }
        self.close()?;
        if t.ids.is_empty() && t.children.len() < 2 {
            return self.err("thread without messages");
        }
        // thread-nested = 2*thread-list (RFC 5256 section 5).
        if t.children.len() == 1 {
            return self.err("a thread branches into a single sub-thread");
        }
        Ok(t)
    }

    fn fetch_items(&mut self) -> R<Vec<FetchItem>> {
        self.open()?;
        let mut v = Vec::with_capacity(4);
        loop {
            self.item()?;
            v.push(self.fetch_item()?);
            if self.eat(b')') {
                return Ok(v);
            }
            self.sp()?;
        }
    }

    fn fetch_item(&mut self) -> R<FetchItem> {
        use FetchItem as F;
        let mut kb = [0u8; 24];
        let kw = self.keyword(&mut kb)?;
        Ok(match kw {
            b"FLAGS" => {
                self.sp()?;
                F::Flags(self.flag_list(false)?)
            }
            b"ENVELOPE" => {
                self.sp()?;
                F::Envelope(self.envelope()?)
            }
            b"INTERNALDATE" => {
                self.sp()?;
                F::InternalDate(self.date_time()?)
            }
            b"RFC822" => {
                self.sp()?;
                F::Rfc822(self.nstring()?)
            }
            b"RFC822.HEADER" => {
                self.sp()?;
                F::Rfc822Header(self.nstring()?)
            }
            b"RFC822.TEXT" => {
                self.sp()?;
                F::Rfc822Text(self.nstring()?)
            }
            b"RFC822.SIZE" => {
                self.sp()?;
                F::Rfc822Size(self.number64_rev2()?)
            }
            b"UID" => {
                self.sp()?;
                F::Uid(self.nz_number()?)
            }
            b"MODSEQ" => {
                self.sp()?;
                self.open()?;
                let m = self.nz_mod_seq()?;
                self.close()?;
                F::ModSeq(m)
            }
            b"BODYSTRUCTURE" => {
                self.sp()?;
                F::BodyStructure(self.body(true)?)
            }
            b"BODY" if self.peek() == Some(b' ') => {
                self.sp()?;
                F::Body(self.body(false)?)
            }
            b"BODY" => {
                let section = self.section()?;
                let mut origin = None;
                if self.eat(b'<') {
                    origin = Some(self.number64_rev2()?);
                    self.expect(b'>', "expected '>'")?;
                }
                self.sp()?;
                F::BodySection {
                    section,
                    origin,
                    data: self.nstring()?,
                }
            }
            b"BINARY" => {
                let part = self.section_binary()?;
                let mut origin = None;
                if self.eat(b'<') {
                    origin = Some(self.number64_rev2()?);
                    self.expect(b'>', "expected '>'")?;
                }
                self.sp()?;
                F::Binary {
                    part,
                    origin,
                    data: self.nstring8()?,
                }
            }
            b"BINARY.SIZE" => {
                let part = self.section_binary()?;
                self.sp()?;
                F::BinarySize {
                    part,
                    size: self.number64_rev2()?,
                }
            }
            b"SAVEDATE" => {
                self.sp()?;
                if self.is_nil() {
                    self.pos += 3;
                    F::SaveDate(None)
                } else {
                    F::SaveDate(Some(self.date_time()?))
                }
            }
            b"EMAILID" => {
                self.sp()?;
                self.open()?;
                let id = self.objectid()?;
                self.close()?;
                F::EmailId(id)
            }
            b"THREADID" => {
                self.sp()?;
                if self.is_nil() {
                    self.pos += 3;
                    F::ThreadId(None)
                } else {
                    self.open()?;
                    let id = self.objectid()?;
                    self.close()?;
                    F::ThreadId(Some(id))
                }
            }
            _ => return self.err("unknown FETCH item"),
        })
    }

    /// An ENVELOPE, read into `env` (a fresh one, boxed where it stays),
    /// each field set in place (see [`P::nstring_into`]).
    fn envelope_into(&mut self, env: &mut Envelope) -> R<()> {
        self.open()?;
        self.nstring_into(&mut env.date)?;
        self.sp()?;
        self.nstring_into(&mut env.subject)?;
        self.sp()?;
        self.addresses_into(&mut env.from)?;
        self.sp()?;
        self.addresses_into(&mut env.sender)?;
        self.sp()?;
        self.addresses_into(&mut env.reply_to)?;
        self.sp()?;
        self.addresses_into(&mut env.to)?;
        self.sp()?;
        self.addresses_into(&mut env.cc)?;
        self.sp()?;
        self.addresses_into(&mut env.bcc)?;
        self.sp()?;
        self.nstring_into(&mut env.in_reply_to)?;
        self.sp()?;
        self.nstring_into(&mut env.message_id)?;
        self.close()
    }

    /// A boxed ENVELOPE (see [`P::envelope_into`]).
    fn envelope(&mut self) -> R<Box<Envelope>> {
        let mut env = Box::<Envelope>::default();
        self.envelope_into(&mut env)?;
        Ok(env)
    }

    /// An address list or NIL, into `dst` (NIL when fresh); each address is
    /// read in place, in the list.
    fn addresses_into(&mut self, dst: &mut Option<Vec<Address>>) -> R<()> {
        if self.is_nil() {
            self.pos += 3;
            return Ok(());
        }
        self.open()?;
        let v = dst.insert(Vec::new());
        loop {
            self.open()?;
            self.item()?;
            let a = push_blank(v, Address::default());
            self.nstring_into(&mut a.name)?;
            self.sp()?;
            self.nstring_into(&mut a.adl)?;
            self.sp()?;
            self.nstring_into(&mut a.mailbox)?;
            self.sp()?;
            self.nstring_into(&mut a.host)?;
            self.close()?;
            if self.eat(b')') {
                return Ok(());
            }
            if self.o.quirks.spaces_between_addresses {
                self.eat(b' ');
            }
        }
    }

    /// body = "(" (body-type-1part / body-type-mpart) ")"; `ext`: whether
    /// extension data may follow (BODYSTRUCTURE). Boxed, read in place.
    fn body(&mut self, ext: bool) -> R<Box<BodyStructure>> {
        let mut b = Box::new(blank_part());
        self.body_into(ext, &mut b)?;
        Ok(b)
    }

    /// [`P::body`] into `dst`, a [`blank_part`]: each field is set where it
    /// stays, in the box or list that holds the part (see
    /// [`P::nstring_into`]).
    fn body_into(&mut self, ext: bool, dst: &mut BodyStructure) -> R<()> {
        self.enter()?;
        let b = self.body_inner(ext, dst);
        self.leave();
        b
    }

    fn body_inner(&mut self, ext: bool, dst: &mut BodyStructure) -> R<()> {
        self.open()?;
        if self.peek() == Some(b'(') {
            *dst = BodyStructure::Multi {
                parts: Vec::new(),
                subtype: Str::default(),
                ext: None,
            };
            let BodyStructure::Multi {
                parts,
                subtype,
                ext: mext,
            } = dst
            else {
                return self.err("not a multipart");
            };
            while self.peek() == Some(b'(') {
                self.item()?;
                self.body_into(ext, push_blank(parts, blank_part()))?;
            }
            self.sp()?;
            self.string_into(subtype)?;
            if ext && self.eat(b' ') {
                let m = mext.insert(Box::new(MultiExt {
                    params: None,
                    tail: None,
                }));
                self.body_params_into(&mut m.params)?;
                if self.eat(b' ') {
                    self.disposition_ext_into(m.tail.insert(blank_disposition()))?;
                }
            }
            return self.close();
        }
        let BodyStructure::Single {
            fields,
            kind,
            ext: sext,
        } = dst
        else {
            return self.err("not a single part");
        };
        self.string_into(&mut fields.media_type)?;
        self.sp()?;
        self.string_into(&mut fields.subtype)?;
        self.sp()?;
        self.body_params_into(&mut fields.params)?;
        self.sp()?;
        self.nstring_into(&mut fields.id)?;
        self.sp()?;
        self.nstring_into(&mut fields.description)?;
        self.sp()?;
        if self.o.quirks.nil_body_encoding {
            self.nstring_into(&mut fields.encoding)?;
        } else {
            self.string_into(fields.encoding.insert(Str::default()))?;
        }
        self.sp()?;
        fields.octets = if self.o.quirks.negative_octets && self.eat(b'-') {
            if self.number()? != 1 {
                return self.err("bad octet count");
            }
            0
        } else {
            self.number()?
        };
        // Read by content: literals this short are never streamed
        // (`Limits::ALWAYS_BUFFERED`, which the longest name here fits).
        const _: () = assert!(b"MESSAGE".len() as u64 <= crate::Limits::ALWAYS_BUFFERED);
        let mt = &fields.media_type.data;
        let st = &fields.subtype.data;
        if mt.eq_ignore_ascii_case(b"TEXT") {
            self.sp()?;
            *kind = SingleKind::Text {
                lines: self.number64_rev2()?,
            };
        } else if mt.eq_ignore_ascii_case(b"MESSAGE")
            && (st.eq_ignore_ascii_case(b"RFC822") || st.eq_ignore_ascii_case(b"GLOBAL"))
        {
            self.sp()?;
            let envelope = self.envelope()?;
            self.sp()?;
            let body = self.body(ext)?;
            self.sp()?;
            *kind = SingleKind::Message {
                envelope,
                body,
                lines: self.number64_rev2()?,
            };
        }
        if ext && self.eat(b' ') {
            let x = sext.insert(Box::new(SingleExt {
                md5: None,
                tail: None,
            }));
            self.nstring_into(&mut x.md5)?;
            if self.eat(b' ') {
                self.disposition_ext_into(x.tail.insert(blank_disposition()))?;
            }
        }
        self.close()
    }

    /// body-fld-param into `dst` (NIL when fresh), each pair read in place.
    fn body_params_into(&mut self, dst: &mut Option<Vec<(Str, Str)>>) -> R<()> {
        if self.is_nil() {
            self.pos += 3;
            *dst = None;
            return Ok(());
        }
        self.open()?;
        if self.eat(b')') {
            return self.err("empty parameter list");
        }
        // The capacity a first push would give, without its slow path.
        let v = dst.insert(Vec::with_capacity(4));
        loop {
            self.item()?;
            let (k, val) = push_blank(v, (Str::default(), Str::default()));
            self.string_into(k)?;
            self.sp()?;
            self.string_into(val)?;
            if self.eat(b')') {
                return Ok(());
            }
            self.sp()?;
        }
    }

    /// body-fld-dsp and what may follow, into `dst` (a
    /// [`blank_disposition`]).
    fn disposition_ext_into(&mut self, dst: &mut DispositionExt) -> R<()> {
        if self.is_nil() {
            self.pos += 3;
        } else {
            self.open()?;
            let (t, params) = dst.disposition.insert((Str::default(), None));
            self.string_into(t)?;
            self.sp()?;
            self.body_params_into(params)?;
            self.close()?;
        }
        if self.eat(b' ') {
            let lt = dst.tail.insert(LanguageExt {
                language: Language::Single(None),
                tail: None,
            });
            if self.peek() == Some(b'(') {
                let v = self.paren_list(Self::string)?;
                if v.is_empty() {
                    return self.err("empty language list");
                }
                lt.language = Language::List(v);
            } else if let Language::Single(n) = &mut lt.language {
                self.nstring_into(n)?;
            }
            if self.eat(b' ') {
                let lo = lt.tail.insert(LocationExt {
                    location: None,
                    extensions: Vec::new(),
                });
                self.nstring_into(&mut lo.location)?;
                while self.eat(b' ') {
                    self.item()?;
                    lo.extensions.push(self.body_extension()?);
                }
            }
        }
        Ok(())
    }

    fn body_extension(&mut self) -> R<BodyExtension> {
        self.enter()?;
        let r = match self.peek() {
            Some(b'(') => self.paren_list(Self::body_extension).and_then(|v| {
                if v.is_empty() {
                    self.err("empty body extension list")
                } else {
                    Ok(BodyExtension::List(v))
                }
            }),
            Some(b'0'..=b'9') => self.number64_rev2().map(BodyExtension::Number),
            _ => self.nstring().map(BodyExtension::Str),
        };
        self.leave();
        r
    }
}

/// A part with no fields yet, for [`P::body_into`] to fill in place.
fn blank_part() -> BodyStructure {
    BodyStructure::Single {
        fields: BodyFields {
            media_type: Str::default(),
            subtype: Str::default(),
            params: None,
            id: None,
            description: None,
            encoding: None,
            octets: 0,
        },
        kind: SingleKind::Basic,
        ext: None,
    }
}

/// Disposition data with nothing read yet (for
/// [`P::disposition_ext_into`]).
fn blank_disposition() -> DispositionExt {
    DispositionExt {
        disposition: None,
        tail: None,
    }
}

/// Whether `text`, written after a status keyword or `+` with no response
/// code, would read back as starting with one (see `P::resp_text`): the
/// encoder refuses to write it so.
pub(crate) fn text_opens_code(text: &[u8], o: &Options) -> bool {
    if text.first() != Some(&b'[') {
        return false;
    }
    let b = Bytes::copy_from_slice(text);
    let mut p = P::new(&b, &[], o);
    !matches!(p.bracket_code(), Ok(None))
}
