//! Address lists (RFC 5322 section 3.4, obsolete forms of section 4.4, UTF-8 per
//! RFC 6532): display names (RFC 2047 decoded), groups, comments, quoted local parts,
//! domain literals, source routes.

use crate::charset::utf8_lossy_owned;
use crate::encoded_word::{decode_unstructured_cow, header_safe};
use crate::header::{Cursor, unfold};
use std::borrow::Cow;

/// One mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name, decoded (or the comment of the `addr (Name)` form).
    pub name: Option<String>,
    /// Local part without quoting, in the safe form of
    /// [`crate::decode_unstructured`] (a NUL becomes U+FFFD, a CR or LF a space).
    pub local: String,
    /// Domain (may be a `[literal]`), in the same safe form; empty when the
    /// address had none.
    pub domain: String,
}

impl Mailbox {
    /// `local@domain`, with the local part quoted when it is not a dot-atom.
    #[must_use]
    pub fn address(&self) -> String {
        let dot_atom = !self.local.is_empty()
            && !self.local.starts_with('.')
            && !self.local.ends_with('.')
            && !self.local.contains("..")
            && self
                .local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b >= 0x80 || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
        let local = if dot_atom {
            self.local.clone()
        } else {
            let mut q = String::from("\"");
            for ch in self.local.chars() {
                if ch == '"' || ch == '\\' {
                    q.push('\\');
                }
                q.push(ch);
            }
            q.push('"');
            q
        };
        if self.domain.is_empty() {
            local
        } else {
            format!("{local}@{}", self.domain)
        }
    }
}

/// An address: a mailbox or a named group of mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A single mailbox.
    Mailbox(Mailbox),
    /// `name: a, b;`
    Group {
        /// Group display name, decoded.
        name: String,
        /// Members (may be empty).
        members: Vec<Mailbox>,
    },
}

/// Tokens borrow from the (unfolded) value; only quoted strings with escapes copy.
#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Atom(&'a [u8]),
    Quoted(Cow<'a, [u8]>),
    Comment(&'a [u8]),
    Literal(&'a [u8]),
    Special(u8),
}

fn tokenize(value: &[u8]) -> Vec<Tok<'_>> {
    let mut out = Vec::with_capacity(16);
    let mut c = Cursor::new(value);
    loop {
        c.skip_ws();
        match c.peek() {
            None => break,
            Some(b'(') => out.push(Tok::Comment(c.skip_cfws_last_comment())),
            Some(b'"') => out.push(Tok::Quoted(c.quoted_cow())),
            Some(b'[') => out.push(Tok::Literal(c.domain_literal())),
            Some(_) => match c.atom(true) {
                Some(a) => out.push(Tok::Atom(a)),
                None => {
                    if let Some(b) = c.peek() {
                        out.push(Tok::Special(b));
                    }
                    c.bump();
                }
            },
        }
    }
    out
}

/// The display name: words joined by one space. A lone `.` word (the obsolete
/// `a . b`) is glued to its neighbours; a period inside or at the end of a word is
/// part of that word and the white space after it stays, as in `Joe Q. Public`
/// (RFC 5322 section 4.1: periods "especially for initials in names ... must be
/// interpreted properly").
fn phrase(toks: &[Tok<'_>]) -> Option<String> {
    let mut raw: Vec<u8> = Vec::new();
    let mut after_lone_dot = false;
    for t in toks {
        let w: &[u8] = match t {
            Tok::Atom(a) | Tok::Literal(a) => a,
            Tok::Quoted(a) => a,
            Tok::Special(b'.') => b".",
            _ => continue,
        };
        let lone_dot = w == b"." && !matches!(t, Tok::Quoted(_));
        if !raw.is_empty() && !lone_dot && !after_lone_dot {
            raw.push(b' ');
        }
        raw.extend_from_slice(w);
        after_lone_dot = lone_dot;
    }
    let s = decode_unstructured_cow(&raw);
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn addr_spec(toks: &[Tok<'_>]) -> (String, String) {
    let at = toks.iter().rposition(|t| *t == Tok::Special(b'@'));
    let (l, d) = match at {
        Some(p) => (&toks[..p], &toks[p + 1..]),
        None => (toks, &[][..]),
    };
    let join = |ts: &[Tok<'_>]| {
        let mut v = Vec::new();
        for t in ts {
            match t {
                Tok::Atom(a) | Tok::Literal(a) => v.extend_from_slice(a),
                Tok::Quoted(a) => v.extend_from_slice(a),
                Tok::Special(b'.') => v.push(b'.'),
                _ => {}
            }
        }
        match header_safe(Cow::Owned(utf8_lossy_owned(v))) {
            Cow::Owned(s) => s,
            Cow::Borrowed(s) => s.to_owned(),
        }
    };
    (join(l), join(d))
}

/// Whether `toks` (comments aside) can be an addr-spec: words joined by dots
/// (RFC 5322 section 3.4.1, with the CFWS around the dots of the obsolete forms of
/// section 4.4), one `@`, then the domain the same way or a literal. Words side by
/// side without a dot, a second `@` or another special are not read as one
/// address: joining them would make up an address that was never written.
/// Nor is an empty local part or domain (`<>`, `<@example.com>`): `addr-spec =
/// local-part "@" domain` has both, and the empty `<>` is only the null path of
/// Return-Path ([`parse_return_path`]), never a mailbox of an address list.
fn valid_addr_spec(toks: &[Tok<'_>]) -> bool {
    let mut at = false;
    // whether the last word ended with a dot (or there was none yet)
    let mut after_dot = true;
    // words of the local part and of the domain
    let (mut local, mut domain) = (0, 0);
    for t in toks {
        let w: &[u8] = match t {
            Tok::Comment(_) => continue,
            Tok::Special(b'@') if !at => {
                if local == 0 {
                    return false;
                }
                at = true;
                after_dot = true;
                continue;
            }
            Tok::Special(b'.') => b".",
            Tok::Special(_) => return false,
            Tok::Atom(a) | Tok::Literal(a) => a,
            Tok::Quoted(q) => q,
        };
        let joined = after_dot || w.first() == Some(&b'.') || matches!(t, Tok::Quoted(q) if q.is_empty());
        if !joined {
            return false;
        }
        after_dot = w.last() == Some(&b'.') || (w.is_empty() && matches!(t, Tok::Quoted(_)));
        if at {
            domain += 1;
        } else {
            local += 1;
        }
    }
    local > 0 && (!at || domain > 0)
}

fn mailbox(toks: &[Tok<'_>]) -> Option<Mailbox> {
    if let Some(lt) = toks.iter().position(|t| *t == Tok::Special(b'<')) {
        let gt = toks[lt..]
            .iter()
            .position(|t| *t == Tok::Special(b'>'))
            .map_or(toks.len(), |p| lt + p);
        let mut inner = &toks[lt + 1..gt];
        // obs-route: "@a,@b:" before the addr-spec
        if let Some(colon) = inner.iter().position(|t| *t == Tok::Special(b':')) {
            inner = &inner[colon + 1..];
        }
        if !valid_addr_spec(inner) {
            return None;
        }
        let (local, domain) = addr_spec(inner);
        return Some(Mailbox {
            name: phrase(&toks[..lt]),
            local,
            domain,
        });
    }
    let filtered: Vec<Tok<'_>>;
    let words = if toks.iter().any(|t| matches!(t, Tok::Comment(_))) {
        filtered = toks
            .iter()
            .filter(|t| !matches!(t, Tok::Comment(_)))
            .cloned()
            .collect();
        &filtered[..]
    } else {
        toks
    };
    if words.is_empty() || !valid_addr_spec(words) {
        return None;
    }
    let (local, domain) = addr_spec(words);
    let name = toks.iter().rev().find_map(|t| match t {
        Tok::Comment(c) => {
            let s = decode_unstructured_cow(c);
            (!s.trim().is_empty()).then(|| s.trim().to_owned())
        }
        _ => None,
    });
    Some(Mailbox { name, local, domain })
}

/// The path of a Return-Path field (RFC 5322 section 3.6.7: `path = angle-addr /
/// ([CFWS] "<" [CFWS] ">" [CFWS])`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnPath {
    /// `<>`: the null reverse-path of a bounce (RFC 5321 section 4.4), no address.
    Null,
    /// An address (a bare addr-spec without the angle brackets is read too).
    Mailbox(Mailbox),
}

/// Parses the value of a Return-Path field: `<>` is [`ReturnPath::Null`], one
/// address is [`ReturnPath::Mailbox`]; anything else (no address, several, a display
/// name, text after the `>`) is `None`.
///
/// ```
/// use mime::{ReturnPath, parse_return_path};
/// assert_eq!(parse_return_path(b" <>"), Some(ReturnPath::Null));
/// let Some(ReturnPath::Mailbox(m)) = parse_return_path(b"<bounces@example.org>") else { panic!() };
/// assert_eq!(m.address(), "bounces@example.org");
/// ```
#[must_use]
pub fn parse_return_path(value: &[u8]) -> Option<ReturnPath> {
    let value = unfold(value);
    let toks: Vec<Tok<'_>> = tokenize(&value)
        .into_iter()
        .filter(|t| !matches!(t, Tok::Comment(_)))
        .collect();
    let inner = match &toks[..] {
        [Tok::Special(b'<'), Tok::Special(b'>')] => return Some(ReturnPath::Null),
        [Tok::Special(b'<'), inner @ .., Tok::Special(b'>')] => inner,
        all => all,
    };
    if inner
        .iter()
        .any(|t| matches!(t, Tok::Special(b'<' | b'>' | b',' | b';')))
    {
        return None;
    }
    mailbox(&toks).map(|m| ReturnPath::Mailbox(Mailbox { name: None, ..m }))
}

/// What ended an address in [`parse_addresses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A `,` (or `;` outside a group) at the returned index.
    Separator,
    /// A `:` that opens a group, at the returned index.
    GroupStart,
    /// The `;` that closes a group, at the returned index.
    GroupEnd,
    /// A second angle-addr with no comma before it: the returned index is just
    /// after the `>` of the first, where the next address starts.
    Adjacent,
    /// The end of the tokens.
    End,
}

/// Where the address that starts at `from` ends. In a group (`in_group`) a `;`
/// ends the group and a `:` is no group; outside one, a `;` separates addresses
/// as a `,` does (lists typed with `;` between addresses), rather than run two
/// into one. A `<` after the `>` that closed an angle-addr starts another address
/// (`Joe <a@b.test> <c@d.test>`, RFC 5322 section 3.4 asks for a comma there):
/// reading both loses none.
fn address_end(toks: &[Tok<'_>], from: usize, in_group: bool) -> (usize, Stop) {
    let mut in_angle = false;
    // just after the `>` that closed an angle-addr of this address
    let mut closed = None;
    for (j, t) in toks.iter().enumerate().skip(from) {
        match t {
            Tok::Special(b'<') if !in_angle => {
                if let Some(c) = closed {
                    return (c, Stop::Adjacent);
                }
                in_angle = true;
            }
            Tok::Special(b'>') if in_angle => {
                in_angle = false;
                closed = Some(j + 1);
            }
            Tok::Special(b';') if in_group => return (j, Stop::GroupEnd),
            Tok::Special(b',' | b';') if !in_angle => return (j, Stop::Separator),
            Tok::Special(b':') if !in_group && !in_angle => return (j, Stop::GroupStart),
            _ => {}
        }
    }
    (toks.len(), Stop::End)
}

/// Parses an address list (From, To, Cc, Bcc, Reply-To, Sender, ...). Never fails:
/// unparsable pieces are dropped, among them an empty `<>` (RFC 5322 has it only as
/// the null path of Return-Path: see [`parse_return_path`]).
///
/// Two leniencies keep addresses that a strict reading of RFC 5322 section 3.4
/// (`address-list = (address *("," address))`) would run together or lose: a `;`
/// outside a group separates addresses as a `,` does, and a second angle-addr
/// written without a comma before it (`Joe <a@b.test> <c@d.test>`) is read as
/// the next address, so a list never shows fewer recipients than a server that
/// delivers to both.
///
/// ```
/// use mime::{Address, parse_addresses};
/// let v = parse_addresses(b"\"Joe Q. Public\" <john.q.public@example.com>, A Group:Ed Jones <c@a.test>,joe@where.test;, =?UTF-8?Q?Andr=C3=A9?= <andre@example.org>");
/// assert_eq!(v.len(), 3);
/// let Address::Mailbox(m) = &v[0] else { panic!() };
/// assert_eq!((m.name.as_deref(), m.address().as_str()), (Some("Joe Q. Public"), "john.q.public@example.com"));
/// let Address::Group { name, members } = &v[1] else { panic!() };
/// assert_eq!((name.as_str(), members.len()), ("A Group", 2));
/// let Address::Mailbox(m) = &v[2] else { panic!() };
/// assert_eq!(m.name.as_deref(), Some("André"));
/// assert_eq!(parse_addresses(b"Joe <a@b.test> <c@d.test>").len(), 2);
/// ```
#[must_use]
pub fn parse_addresses(value: &[u8]) -> Vec<Address> {
    let value = unfold(value);
    let toks = tokenize(&value);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (j, stop) = address_end(&toks, i, false);
        if stop == Stop::GroupStart {
            let name = phrase(&toks[i..j]).unwrap_or_default();
            let mut members = Vec::new();
            let mut k = j + 1;
            loop {
                let (e, s) = address_end(&toks, k, true);
                if let Some(m) = mailbox(&toks[k..e]) {
                    members.push(m);
                }
                match s {
                    Stop::Adjacent => k = e,
                    Stop::Separator => k = e + 1,
                    _ => {
                        k = e;
                        break;
                    }
                }
            }
            out.push(Address::Group { name, members });
            i = k + 1;
            continue;
        }
        if let Some(m) = mailbox(&toks[i..j]) {
            out.push(Address::Mailbox(m));
        }
        i = if stop == Stop::Adjacent { j } else { j + 1 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mbox(a: &Address) -> &Mailbox {
        match a {
            Address::Mailbox(m) => m,
            Address::Group { .. } => panic!("group"),
        }
    }

    #[test]
    fn rfc5322_appendix_a() {
        let v = parse_addresses(b"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>");
        assert_eq!(v.len(), 3);
        assert_eq!(mbox(&v[2]).name.as_deref(), Some("Who?"));
        let v = parse_addresses(b"<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>");
        assert_eq!(mbox(&v[1]).name.as_deref(), Some("Giant; \"Big\" Box"));
        let v = parse_addresses(b"Undisclosed recipients:;");
        assert_eq!(
            v,
            [Address::Group {
                name: "Undisclosed recipients".into(),
                members: vec![]
            }]
        );
        let v = parse_addresses(
            b"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>, A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
        );
        assert_eq!(v.len(), 2);
        let p = mbox(&v[0]);
        assert_eq!(
            (p.name.as_deref(), p.address().as_str()),
            (Some("Pete"), "pete@silly.test")
        );
        let Address::Group { name, members } = &v[1] else {
            panic!()
        };
        assert_eq!(name, "A Group");
        assert_eq!(members.len(), 3);
        assert_eq!(members[0].address(), "c@public.example");
        // obsolete: source route and comment-as-name
        let v = parse_addresses(b"<@route.test,@b.test:user@c.test>, user2@d.test (User Two)");
        assert_eq!(mbox(&v[0]).address(), "user@c.test");
        assert_eq!(mbox(&v[1]).name.as_deref(), Some("User Two"));
    }

    #[test]
    fn quoted_local_and_utf8() {
        let v = parse_addresses(b"\"john doe\"@example.com, J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbccher.example>");
        assert_eq!(mbox(&v[0]).local, "john doe");
        assert_eq!(mbox(&v[0]).address(), "\"john doe\"@example.com");
        assert_eq!(mbox(&v[1]).name.as_deref(), Some("Jörg"));
        assert_eq!(mbox(&v[1]).domain, "bücher.example");
    }
}
