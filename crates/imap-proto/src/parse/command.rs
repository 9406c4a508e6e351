//! Command grammar (RFC 9051 section 9, RFC 3501 section 9, extensions).

use super::{P, R, is_astring_char, is_atom_char, is_backslash_flag};
use crate::command::{
    AppendMessage, Command, CommandBody, FetchAttr, FetchItems, FetchModifier, ListReturn, ListSelect,
    SearchKey, SearchReturn, SelectParam, SortCriterion, SortKey, StatusItem, StoreMode,
};
use crate::types::{Sensitive, Tag};

impl P<'_> {
    pub(crate) fn command(&mut self) -> R<Command> {
        self.client = true;
        let (s, e) = self.take_while(|c| is_astring_char(c) && c != b'+');
        if s == e {
            return self.err("expected a tag");
        }
        let tag = Tag(self.slice(s, e));
        self.sp()?;
        let mut kb = [0u8; 24];
        let name = self.keyword(&mut kb)?;
        let body = self.command_body(name)?;
        Ok(Command { tag, body })
    }

    fn command_body(&mut self, name: &[u8]) -> R<CommandBody> {
        use CommandBody as C;
        Ok(match name {
            b"CAPABILITY" => C::Capability,
            b"NOOP" => C::Noop,
            b"LOGOUT" => C::Logout,
            b"STARTTLS" => C::StartTls,
            b"NAMESPACE" => C::Namespace,
            b"IDLE" => C::Idle,
            b"CHECK" => C::Check,
            b"CLOSE" => C::Close,
            b"UNSELECT" => C::Unselect,
            b"EXPUNGE" => C::Expunge,
            b"AUTHENTICATE" => {
                self.sp()?;
                let mechanism = self.atom()?;
                let initial_response = if self.eat(b' ') {
                    let (s, e) =
                        self.take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='));
                    if !super::is_initial_response(&self.b[s..e]) {
                        self.pos = s;
                        return self.err("expected a base64 initial response or '='");
                    }
                    Some(Sensitive(self.slice(s, e)))
                } else {
                    None
                };
                C::Authenticate {
                    mechanism,
                    initial_response,
                }
            }
            b"LOGIN" => {
                self.sp()?;
                let username = self.astring()?;
                self.sp()?;
                let password = Sensitive(self.astring()?);
                C::Login { username, password }
            }
            b"SELECT" | b"EXAMINE" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                let mut params = Vec::new();
                if self.eat(b' ') {
                    // RFC 4466 section 3 (for 2.1): select-params = SP "("
                    // select-param *(SP select-param) ")".
                    params = self.paren_list(Self::select_param)?;
                    if params.is_empty() {
                        return self.err("empty SELECT parameter list");
                    }
                }
                if name == b"SELECT" {
                    C::Select { mailbox, params }
                } else {
                    C::Examine { mailbox, params }
                }
            }
            b"CREATE" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                let mut special_use = Vec::new();
                if self.eat(b' ') {
                    self.open()?;
                    if !self.eat_kw(b"USE") {
                        return self.err("expected USE");
                    }
                    self.sp()?;
                    let at = self.pos;
                    special_use = self.flag_list(false)?;
                    if !special_use.iter().all(is_backslash_flag) {
                        self.pos = at;
                        return self.err("a USE attribute starts with '\\'");
                    }
                    self.close()?;
                }
                C::Create { mailbox, special_use }
            }
            b"DELETE" | b"SUBSCRIBE" | b"UNSUBSCRIBE" | b"GETQUOTAROOT" => {
                self.sp()?;
                let m = self.mailbox()?;
                match name {
                    b"DELETE" => C::Delete(m),
                    b"SUBSCRIBE" => C::Subscribe(m),
                    b"UNSUBSCRIBE" => C::Unsubscribe(m),
                    _ => C::GetQuotaRoot(m),
                }
            }
            b"RENAME" => {
                self.sp()?;
                let from = self.mailbox()?;
                self.sp()?;
                let to = self.mailbox()?;
                C::Rename { from, to }
            }
            b"LIST" => self.list()?,
            b"LSUB" => {
                self.sp()?;
                let reference = self.mailbox()?;
                self.sp()?;
                let pattern = self.list_mailbox()?;
                C::Lsub { reference, pattern }
            }
            b"STATUS" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                self.sp()?;
                let items = self.paren_list(Self::status_item)?;
                if items.is_empty() {
                    return self.err("empty STATUS item list");
                }
                C::Status { mailbox, items }
            }
            b"APPEND" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                let mut messages = Vec::new();
                while self.eat(b' ') {
                    self.item()?;
                    messages.push(self.append_message()?);
                }
                if messages.is_empty() {
                    return self.err("APPEND without a message");
                }
                C::Append { mailbox, messages }
            }
            b"SEARCH" => self.search(false)?,
            b"FETCH" => self.fetch(false)?,
            b"STORE" => self.store(false)?,
            b"COPY" | b"MOVE" => self.copy_move(false, name == b"MOVE")?,
            b"SORT" => self.sort(false)?,
            b"THREAD" => self.thread(false)?,
            b"UID" => {
                self.sp()?;
                let mut kb = [0u8; 24];
                let sub = self.keyword(&mut kb)?;
                match sub {
                    b"SEARCH" => self.search(true)?,
                    b"FETCH" => self.fetch(true)?,
                    b"STORE" => self.store(true)?,
                    b"COPY" | b"MOVE" => self.copy_move(true, sub == b"MOVE")?,
                    b"SORT" => self.sort(true)?,
                    b"THREAD" => self.thread(true)?,
                    b"EXPUNGE" => {
                        self.sp()?;
                        C::UidExpunge(self.seq_set()?)
                    }
                    _ => return self.err("unknown UID command"),
                }
            }
            b"ENABLE" => {
                let mut v = Vec::new();
                while self.eat(b' ') {
                    self.item()?;
                    v.push(self.atom()?);
                }
                if v.is_empty() {
                    return self.err("ENABLE needs a capability");
                }
                C::Enable(v)
            }
            b"ID" => {
                self.sp()?;
                C::Id(self.id_params()?)
            }
            b"GETQUOTA" => {
                self.sp()?;
                C::GetQuota(self.astring()?)
            }
            b"SETQUOTA" => {
                self.sp()?;
                let root = self.astring()?;
                self.sp()?;
                let limits = self.paren_list(|p| {
                    let n = p.atom()?;
                    p.sp()?;
                    Ok((n, p.number63()?))
                })?;
                C::SetQuota { root, limits }
            }
            b"COMPRESS" => {
                self.sp()?;
                C::Compress(self.atom()?)
            }
            _ => return self.err("unknown command"),
        })
    }

    fn select_param(&mut self) -> R<SelectParam> {
        if self.eat_kw(b"CONDSTORE") {
            return Ok(SelectParam::CondStore);
        }
        if !self.eat_kw(b"QRESYNC") {
            let name = self.atom()?;
            let mut value = None;
            if self.eat(b' ') {
                value = Some(self.ext_value()?);
            }
            return Ok(SelectParam::Other(name, value));
        }
        self.sp()?;
        self.open()?;
        let uid_validity = self.nz_number()?;
        self.sp()?;
        let mod_seq = self.nz_mod_seq()?;
        let mut known_uids = None;
        let mut seq_match = None;
        if self.eat(b' ') {
            if self.peek() == Some(b'(') {
                seq_match = Some(self.seq_match()?);
            } else {
                known_uids = Some(self.uid_set()?);
                if self.eat(b' ') {
                    seq_match = Some(self.seq_match()?);
                }
            }
        }
        self.close()?;
        Ok(SelectParam::QResync {
            uid_validity,
            mod_seq,
            known_uids,
            seq_match,
        })
    }

    /// `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`: like
    /// `known-uids`, both sets name real messages and RFC 7162 section 7
    /// says of each "* is not allowed" (nor is `$`, which is no
    /// sequence-set).
    fn seq_match(&mut self) -> R<(crate::types::SeqSet, crate::types::SeqSet)> {
        self.open()?;
        let a = self.uid_set()?;
        self.sp()?;
        let b = self.uid_set()?;
        self.close()?;
        Ok((a, b))
    }

    pub(crate) fn status_item(&mut self) -> R<StatusItem> {
        let mut kb = [0u8; 24];
        let k = self.keyword(&mut kb)?;
        match StatusItem::ALL.iter().find(|(_, n)| *n == k) {
            Some((i, _)) => Ok(*i),
            None => self.err("unknown STATUS item"),
        }
    }

    fn list(&mut self) -> R<CommandBody> {
        self.sp()?;
        let mut selection = Vec::new();
        if self.peek() == Some(b'(') {
            selection = self.paren_list(|p| {
                let a = p.atom()?;
                Ok(match &a.to_ascii_uppercase()[..] {
                    b"SUBSCRIBED" => ListSelect::Subscribed,
                    b"REMOTE" => ListSelect::Remote,
                    b"RECURSIVEMATCH" => ListSelect::RecursiveMatch,
                    b"SPECIAL-USE" => ListSelect::SpecialUse,
                    _ => ListSelect::Other(a),
                })
            })?;
            if recursive_match_alone(&selection) {
                return self.err("RECURSIVEMATCH without a base selection option");
            }
            self.sp()?;
        }
        let reference = self.mailbox()?;
        self.sp()?;
        let patterns = if self.peek() == Some(b'(') {
            let v = self.paren_list(Self::list_mailbox)?;
            if v.is_empty() {
                return self.err("empty pattern list");
            }
            v
        } else {
            self.item()?;
            vec![self.list_mailbox()?]
        };
        let mut returns = None;
        if self.eat(b' ') {
            if !self.eat_kw(b"RETURN") {
                return self.err("expected RETURN");
            }
            self.sp()?;
            returns = Some(self.paren_list(|p| {
                let a = p.atom()?;
                Ok(match &a.to_ascii_uppercase()[..] {
                    b"SUBSCRIBED" => ListReturn::Subscribed,
                    b"CHILDREN" => ListReturn::Children,
                    b"SPECIAL-USE" => ListReturn::SpecialUse,
                    b"STATUS" => {
                        p.sp()?;
                        // RFC 5819 section 6: "(" status-att *(SP status-att) ")".
                        let items = p.paren_list(Self::status_item)?;
                        if items.is_empty() {
                            return p.err("empty STATUS return option");
                        }
                        ListReturn::Status(items)
                    }
                    _ => ListReturn::Other(a),
                })
            })?);
        }
        Ok(CommandBody::List {
            selection,
            reference,
            patterns,
            returns,
        })
    }

    fn append_message(&mut self) -> R<AppendMessage> {
        let mut flags = Vec::new();
        let mut date = None;
        if self.peek() == Some(b'(') {
            flags = self.flag_list(false)?;
            self.sp()?;
        }
        if self.peek() == Some(b'"') {
            date = Some(self.date_time()?);
            self.sp()?;
        }
        // RFC 6855 section 4: `utf8-literal = "UTF8" SP "(" literal8 ")"`.
        let utf8 = self.eat_kw(b"UTF8");
        if utf8 {
            self.sp()?;
            self.expect(b'(', "expected '(' after UTF8")?;
            if self.peek() != Some(b'~') {
                return self.err("UTF8 takes a literal8");
            }
        }
        let message = self.literal(true)?;
        if utf8 {
            self.expect(b')', "expected ')' after the UTF8 literal8")?;
        }
        Ok(AppendMessage {
            flags,
            date,
            message,
            utf8,
        })
    }

    fn search(&mut self, uid: bool) -> R<CommandBody> {
        self.sp()?;
        let mut returns = None;
        if self.eat_kw(b"RETURN") {
            self.sp()?;
            returns = Some(self.paren_list(|p| {
                let mut kb = [0u8; 24];
                Ok(match p.keyword(&mut kb)? {
                    b"MIN" => SearchReturn::Min,
                    b"MAX" => SearchReturn::Max,
                    b"ALL" => SearchReturn::All,
                    b"COUNT" => SearchReturn::Count,
                    b"SAVE" => SearchReturn::Save,
                    _ => return p.err("unknown search return option"),
                })
            })?);
            self.sp()?;
        }
        let mut charset = None;
        if self.eat_kw(b"CHARSET") {
            self.sp()?;
            charset = Some(self.charset()?);
            self.sp()?;
        }
        let criteria = self.search_keys()?;
        Ok(CommandBody::Search {
            uid,
            returns,
            charset,
            criteria,
        })
    }

    /// search-key *(SP search-key), up to the end of the line.
    fn search_keys(&mut self) -> R<Vec<SearchKey>> {
        self.item()?;
        let mut v = vec![self.search_key()?];
        while self.eat(b' ') {
            self.item()?;
            v.push(self.search_key()?);
        }
        Ok(v)
    }

    fn search_key(&mut self) -> R<SearchKey> {
        self.enter()?;
        let k = self.search_key_inner();
        self.leave();
        k
    }

    fn search_key_inner(&mut self) -> R<SearchKey> {
        use SearchKey as K;
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                self.item()?;
                let mut v = vec![self.search_key()?];
                while self.eat(b' ') {
                    self.item()?;
                    v.push(self.search_key()?);
                }
                self.close()?;
                return Ok(K::And(v));
            }
            Some(b'0'..=b'9' | b'*' | b'$') => return Ok(K::SequenceSet(self.seq_set()?)),
            _ => {}
        }
        let mut kb = [0u8; 24];
        let kw = self.keyword(&mut kb)?;
        macro_rules! arg {
            ($f:ident) => {{
                self.sp()?;
                self.$f()?
            }};
        }
        Ok(match kw {
            b"ALL" => K::All,
            b"ANSWERED" => K::Answered,
            b"DELETED" => K::Deleted,
            b"DRAFT" => K::Draft,
            b"FLAGGED" => K::Flagged,
            b"NEW" => K::New,
            b"OLD" => K::Old,
            b"RECENT" => K::Recent,
            b"SEEN" => K::Seen,
            b"UNANSWERED" => K::Unanswered,
            b"UNDELETED" => K::Undeleted,
            b"UNDRAFT" => K::Undraft,
            b"UNFLAGGED" => K::Unflagged,
            b"UNSEEN" => K::Unseen,
            b"BCC" => K::Bcc(arg!(astring)),
            b"BODY" => K::Body(arg!(astring)),
            b"CC" => K::Cc(arg!(astring)),
            b"FROM" => K::From(arg!(astring)),
            b"SUBJECT" => K::Subject(arg!(astring)),
            b"TEXT" => K::Text(arg!(astring)),
            b"TO" => K::To(arg!(astring)),
            b"BEFORE" => K::Before(arg!(date)),
            b"ON" => K::On(arg!(date)),
            b"SINCE" => K::Since(arg!(date)),
            b"SENTBEFORE" => K::SentBefore(arg!(date)),
            b"SENTON" => K::SentOn(arg!(date)),
            b"SENTSINCE" => K::SentSince(arg!(date)),
            b"KEYWORD" => K::Keyword(arg!(atom)),
            b"UNKEYWORD" => K::Unkeyword(arg!(atom)),
            b"LARGER" => K::Larger(arg!(number64_rev2)),
            b"SMALLER" => K::Smaller(arg!(number64_rev2)),
            b"UID" => K::Uid(arg!(seq_set)),
            b"OLDER" => K::Older(arg!(nz_number)),
            b"YOUNGER" => K::Younger(arg!(nz_number)),
            b"HEADER" => {
                let a = arg!(astring);
                K::Header(a, arg!(astring))
            }
            b"NOT" => K::Not(Box::new(arg!(search_key))),
            b"OR" => {
                let a = arg!(search_key);
                K::Or(Box::new(a), Box::new(arg!(search_key)))
            }
            b"MODSEQ" => {
                self.sp()?;
                let mut entry = None;
                if self.peek() == Some(b'"') {
                    let at = self.pos;
                    let name = self.quoted()?;
                    if !is_modseq_entry_name(&name.data) {
                        self.pos = at;
                        return self.err("bad MODSEQ entry name");
                    }
                    self.sp()?;
                    let t = self.atom()?;
                    if !is_modseq_entry_type(&t) {
                        return self.err("bad MODSEQ entry type");
                    }
                    entry = Some((name, t));
                    self.sp()?;
                }
                K::ModSeq {
                    entry,
                    mod_seq: self.mod_seq()?,
                }
            }
            _ => return self.err("unknown search key"),
        })
    }

    fn fetch(&mut self, uid: bool) -> R<CommandBody> {
        self.sp()?;
        let set = self.seq_set()?;
        self.sp()?;
        let items = if self.peek() == Some(b'(') {
            let v = self.paren_list(Self::fetch_attr)?;
            if v.is_empty() {
                return self.err("empty FETCH attribute list");
            }
            FetchItems::Attrs(v)
        } else if self.eat_kw(b"ALL") {
            FetchItems::All
        } else if self.eat_kw(b"FAST") {
            FetchItems::Fast
        } else if self.eat_kw(b"FULL") {
            FetchItems::Full
        } else {
            self.item()?;
            FetchItems::Attrs(vec![self.fetch_attr()?])
        };
        let mut modifiers = Vec::new();
        if self.eat(b' ') {
            modifiers = self.paren_list(|p| {
                if p.eat_kw(b"CHANGEDSINCE") {
                    p.sp()?;
                    Ok(FetchModifier::ChangedSince(p.nz_mod_seq()?))
                } else if p.eat_kw(b"VANISHED") {
                    Ok(FetchModifier::Vanished)
                } else {
                    p.err("unknown FETCH modifier")
                }
            })?;
            // RFC 4466 section 3 (for 2.4): fetch-modifiers = SP "(" fetch-modifier
            // *(SP fetch-modifier) ")".
            if modifiers.is_empty() {
                return self.err("empty FETCH modifier list");
            }
            if let Some(why) = vanished_misused(uid, &modifiers) {
                return self.err(why);
            }
        }
        Ok(CommandBody::Fetch {
            uid,
            set,
            items,
            modifiers,
        })
    }

    /// `partial = "<" number64 "." nz-number64 ">"` (RFC 9051 section 9);
    /// `"<" number "." nz-number ">"` under IMAP4rev1 (RFC 3501 section 9).
    fn partial(&mut self) -> R<Option<(u64, u64)>> {
        if !self.eat(b'<') {
            return Ok(None);
        }
        let a = self.number64_rev2()?;
        self.expect(b'.', "expected '.' in a partial")?;
        let b = self.nz_number64_rev2()?;
        self.expect(b'>', "expected '>'")?;
        Ok(Some((a, b)))
    }

    fn fetch_attr(&mut self) -> R<FetchAttr> {
        use FetchAttr as A;
        let mut kb = [0u8; 24];
        let kw = self.keyword(&mut kb)?;
        Ok(match kw {
            b"ENVELOPE" => A::Envelope,
            b"FLAGS" => A::Flags,
            b"INTERNALDATE" => A::InternalDate,
            b"RFC822" => A::Rfc822,
            b"RFC822.HEADER" => A::Rfc822Header,
            b"RFC822.SIZE" => A::Rfc822Size,
            b"RFC822.TEXT" => A::Rfc822Text,
            b"BODYSTRUCTURE" => A::BodyStructure,
            b"UID" => A::Uid,
            b"MODSEQ" => A::ModSeq,
            b"SAVEDATE" => A::SaveDate,
            b"EMAILID" => A::EmailId,
            b"THREADID" => A::ThreadId,
            b"BODY" if self.peek() != Some(b'[') => A::Body,
            b"BODY" | b"BODY.PEEK" => {
                let peek = kw.len() > 4;
                let section = self.section()?;
                A::BodySection {
                    peek,
                    section,
                    partial: self.partial()?,
                }
            }
            b"BINARY" | b"BINARY.PEEK" => {
                let peek = kw.len() > 6;
                let part = self.section_binary()?;
                A::Binary {
                    peek,
                    part,
                    partial: self.partial()?,
                }
            }
            b"BINARY.SIZE" => A::BinarySize(self.section_binary()?),
            _ => return self.err("unknown FETCH attribute"),
        })
    }

    fn store(&mut self, uid: bool) -> R<CommandBody> {
        self.sp()?;
        let set = self.seq_set()?;
        self.sp()?;
        let mut unchanged_since = None;
        if self.eat(b'(') {
            if !self.eat_kw(b"UNCHANGEDSINCE") {
                return self.err("expected UNCHANGEDSINCE");
            }
            self.sp()?;
            unchanged_since = Some(self.number63()?);
            self.close()?;
            self.sp()?;
        }
        let mode = if self.eat(b'+') {
            StoreMode::Add
        } else if self.eat(b'-') {
            StoreMode::Remove
        } else {
            StoreMode::Replace
        };
        let mut kb = [0u8; 24];
        let silent = match self.keyword(&mut kb)? {
            b"FLAGS" => false,
            b"FLAGS.SILENT" => true,
            _ => return self.err("expected FLAGS"),
        };
        self.sp()?;
        let flags = if self.peek() == Some(b'(') {
            self.flag_list(false)?
        } else {
            self.item()?;
            let mut v = vec![self.flag(false)?];
            while self.eat(b' ') {
                self.item()?;
                v.push(self.flag(false)?);
            }
            v
        };
        Ok(CommandBody::Store {
            uid,
            set,
            unchanged_since,
            mode,
            silent,
            flags,
        })
    }

    fn copy_move(&mut self, uid: bool, is_move: bool) -> R<CommandBody> {
        self.sp()?;
        let set = self.seq_set()?;
        self.sp()?;
        let mailbox = self.mailbox()?;
        Ok(if is_move {
            CommandBody::Move { uid, set, mailbox }
        } else {
            CommandBody::Copy { uid, set, mailbox }
        })
    }

    fn sort(&mut self, uid: bool) -> R<CommandBody> {
        self.sp()?;
        let criteria = self.paren_list(|p| {
            let reverse = p.eat_kw(b"REVERSE");
            if reverse {
                p.sp()?;
            }
            let mut kb = [0u8; 24];
            let k = p.keyword(&mut kb)?;
            match SortKey::ALL.iter().find(|(_, n)| *n == k) {
                Some((key, _)) => Ok(SortCriterion { reverse, key: *key }),
                None => p.err("unknown sort key"),
            }
        })?;
        if criteria.is_empty() {
            return self.err("empty sort criteria");
        }
        self.sp()?;
        let charset = self.charset()?;
        self.sp()?;
        let search = self.search_keys()?;
        Ok(CommandBody::Sort {
            uid,
            criteria,
            charset,
            search,
        })
    }

    fn thread(&mut self, uid: bool) -> R<CommandBody> {
        self.sp()?;
        let algorithm = self.atom()?;
        self.sp()?;
        let charset = self.charset()?;
        self.sp()?;
        let search = self.search_keys()?;
        Ok(CommandBody::Thread {
            uid,
            algorithm,
            charset,
            search,
        })
    }
}

/// RFC 5258 section 3: "The RECURSIVEMATCH option MUST NOT occur as the only
/// selection option (or only with REMOTE)"; it needs a base option
/// (`SUBSCRIBED` or an extension, which may be one). SPECIAL-USE is an
/// independent option (RFC 6154 section 6), no base.
pub(crate) fn recursive_match_alone(sel: &[ListSelect]) -> bool {
    sel.contains(&ListSelect::RecursiveMatch)
        && !sel
            .iter()
            .any(|s| matches!(s, ListSelect::Subscribed | ListSelect::Other(_)))
}

/// RFC 7162 section 3.2.6: the VANISHED modifier is "NOT allowed with a
/// FETCH command" and "MUST only be specified together with the
/// CHANGEDSINCE UID FETCH modifier" (a server answers BAD to either). The
/// reason when `modifiers` break that rule.
pub(crate) fn vanished_misused(uid: bool, modifiers: &[FetchModifier]) -> Option<&'static str> {
    if !modifiers.contains(&FetchModifier::Vanished) {
        None
    } else if !uid {
        Some("VANISHED is a UID FETCH modifier")
    } else if !modifiers
        .iter()
        .any(|m| matches!(m, FetchModifier::ChangedSince(_)))
    {
        Some("VANISHED without CHANGEDSINCE")
    } else {
        None
    }
}

/// RFC 7162 section 7: `entry-flag-name = DQUOTE "/flags/" attr-flag
/// DQUOTE`, `attr-flag = ... / attr-flag-keyword / attr-flag-extension`,
/// `attr-flag-keyword = atom`, `attr-flag-extension = "\\" atom`: after
/// the prefix, one flag, an atom with at most one backslash before it
/// (`name` is the quoted string's content, unescaped), so ASCII whatever
/// the quirks allow.
pub(crate) fn is_modseq_entry_name(name: &[u8]) -> bool {
    match name.split_at_checked(7) {
        Some((prefix, flag)) if prefix.eq_ignore_ascii_case(b"/flags/") => {
            is_atom(flag.strip_prefix(b"\\").unwrap_or(flag))
        }
        _ => false,
    }
}

/// RFC 7162 section 7: `entry-type-req = entry-type-resp / "all"`,
/// `entry-type-resp = "priv" / "shared"`.
pub(crate) fn is_modseq_entry_type(t: &[u8]) -> bool {
    [&b"priv"[..], b"shared", b"all"]
        .iter()
        .any(|k| t.eq_ignore_ascii_case(k))
}

/// Whether `b` is a valid atom (for the encoder).
pub(crate) fn is_atom(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|&c| is_atom_char(c))
}
