//! Content-Type and Content-Disposition values with parameters (RFC 2045 section 5.1,
//! RFC 2183, RFC 2231 continuations, charsets and languages).
//!
//! The parsed values borrow from the header value: a type, subtype, parameter name
//! or value is copied only when it must change (upper case to lower, a quoted string
//! with escapes or folding, RFC 2231 or RFC 2047 decoding, invalid UTF-8). Folding is
//! handled in place, without unfolding the whole value first, whenever that gives
//! the same result as parsing the unfolded value (checked by the `mime_headers` fuzz
//! target).

use crate::charset::decode_charset;
use crate::encoded_word::header_safe;
use crate::header::{Cursor, lower_token_end, token_end, unfold};
use std::borrow::Cow;

/// One parameter after RFC 2231 reassembly and decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param<'a> {
    /// Attribute name, lowercased.
    pub name: Cow<'a, str>,
    /// Decoded value (RFC 2231 and RFC 2047 decoding done), in the safe form of
    /// [`crate::decode_unstructured`] (no CR, LF or NUL) except for `boundary`,
    /// which is kept as written so that delimiters match it.
    pub value: Cow<'a, str>,
    /// RFC 2231 charset, when the value was extended.
    pub charset: Option<Cow<'a, str>>,
    /// RFC 2231 language, when given.
    pub language: Option<Cow<'a, str>>,
}

/// A parsed Content-Type (`type/subtype; params`), borrowing from the header value
/// where it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType<'a> {
    /// Top-level media type, lowercased (`text`, `multipart`, ...).
    pub media_type: Cow<'a, str>,
    /// Subtype, lowercased.
    pub subtype: Cow<'a, str>,
    /// Parameters in order of first appearance.
    pub params: Vec<Param<'a>>,
}

/// A parsed Content-Disposition (`inline` / `attachment` and parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition<'a> {
    /// The disposition type, lowercased.
    pub kind: Cow<'a, str>,
    /// Parameters in order of first appearance.
    pub params: Vec<Param<'a>>,
}

fn find<'p, 'a>(params: &'p [Param<'a>], name: &str) -> Option<&'p Param<'a>> {
    params.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

fn owned(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

impl Param<'_> {
    /// A copy that owns its strings.
    #[must_use]
    pub fn into_owned(self) -> Param<'static> {
        Param {
            name: owned(self.name),
            value: owned(self.value),
            charset: self.charset.map(owned),
            language: self.language.map(owned),
        }
    }
}

/// How a value may be parsed in place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No line break at all.
    Flat,
    /// Folded, with the same result as parsing the unfolded value.
    Folded,
    /// Must be unfolded first.
    Unsafe,
}

/// Whether the value can be parsed as it is, folding included, with the same
/// result as after [`unfold`]: every line break is a CRLF or LF followed by a space
/// or tab (or ends the value) and no backslash escapes a line-break byte.
fn shape(v: &[u8]) -> Shape {
    if !crate::header::has_line_break(v) {
        return Shape::Flat;
    }
    if fold_safe(v) {
        Shape::Folded
    } else {
        Shape::Unsafe
    }
}

fn fold_safe(v: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = memchr::memchr2(b'\r', b'\n', &v[from..]) {
        let i = from + p;
        if i > 0 && v[i - 1] == b'\\' {
            return false;
        }
        let nl = if v[i] == b'\r' {
            if v.get(i + 1) != Some(&b'\n') {
                return false;
            }
            i + 1
        } else {
            i
        };
        if !matches!(v.get(nl + 1), None | Some(b' ' | b'\t')) {
            return false;
        }
        from = nl + 1;
    }
    true
}

/// The value being parsed, checked for UTF-8 once, so that the tokens and values
/// cut from it become `&str` without a check each.
struct Src<'a> {
    bytes: &'a [u8],
    text: Option<&'a str>,
    /// No line breaks: values need no unfolding.
    flat: bool,
}

impl<'a> Src<'a> {
    fn new(bytes: &'a [u8], shape: Shape) -> Self {
        Src {
            bytes,
            text: std::str::from_utf8(bytes).ok(),
            flat: shape == Shape::Flat,
        }
    }

    /// `sub` (a slice of `bytes`) as text, when the whole value is UTF-8 and `sub`
    /// does not cut a character.
    fn str(&self, sub: &'a [u8]) -> Option<&'a str> {
        let text = self.text?;
        let off = (sub.as_ptr() as usize).checked_sub(self.bytes.as_ptr() as usize)?;
        text.get(off..off.checked_add(sub.len())?)
    }
}

/// A token (printable ASCII) lowercased, borrowed when it is lowercase already.
fn lower<'a>(t: &'a [u8], src: &Src<'a>) -> Cow<'a, str> {
    if t.iter().any(u8::is_ascii_uppercase) {
        return Cow::Owned(t.iter().map(|&b| char::from(b.to_ascii_lowercase())).collect());
    }
    match src.str(t) {
        Some(s) => Cow::Borrowed(s),
        None => crate::charset::utf8_lossy(t),
    }
}

/// Bytes as text: RFC 2047 words decoded, otherwise UTF-8 (lossy), borrowed when valid.
fn text_value<'a>(v: Cow<'a, [u8]>, src: &Src<'a>) -> Cow<'a, str> {
    if crate::encoded_word::has_word_start(&v) {
        return Cow::Owned(crate::encoded_word::decode_unstructured(&v));
    }
    header_safe(plain_text(v, src))
}

/// The value of parameter `name` as text. RFC 2047 words are decoded (real mail
/// puts them in `name` and `filename`, although RFC 2047 section 5 forbids them in
/// parameters), except in `boundary`: `=`, `?` and `_` are boundary characters
/// (RFC 2046 section 5.1.1), so a boundary that looks like an encoded word is
/// taken as written, or no delimiter would match it. Values other than the
/// boundary are in the safe form of [`crate::decode_unstructured`] (no CR, LF or
/// NUL), as RFC 2231 values are too ([`extended_value`]).
fn param_text<'a>(name: &str, v: Cow<'a, [u8]>, src: &Src<'a>) -> Cow<'a, str> {
    if name == "boundary" {
        plain_text(v, src)
    } else {
        text_value(v, src)
    }
}

/// Bytes as UTF-8 text (lossy), borrowed when valid.
fn plain_text<'a>(v: Cow<'a, [u8]>, src: &Src<'a>) -> Cow<'a, str> {
    match v {
        Cow::Borrowed(b) => src
            .str(b)
            .map_or_else(|| crate::charset::utf8_lossy(b), Cow::Borrowed),
        Cow::Owned(v) => Cow::Owned(crate::charset::utf8_lossy_owned(v)),
    }
}

/// An unquoted value with any folding removed.
fn unfolded(v: &[u8]) -> Cow<'_, [u8]> {
    unfold(v)
}

/// The kinds of type that change how a body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeKind {
    /// `multipart/*`.
    Multipart {
        /// `multipart/digest`.
        digest: bool,
    },
    /// `message/rfc822`, `message/global`, `message/news`.
    Message {
        /// `message/global`, which may have any transfer encoding (RFC 6532
        /// section 3.5).
        global: bool,
    },
    /// Anything else.
    Other,
}

/// What the scanner keeps of a Content-Type, see `ContentType::framing`.
#[derive(Debug)]
pub(crate) struct Scanned {
    pub(crate) kind: TypeKind,
    pub(crate) boundary: Option<Vec<u8>>,
}

/// First index from `i` that is not a space or tab.
fn skip_ows(v: &[u8], mut i: usize) -> usize {
    while matches!(v.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// `type "/" subtype` as written.
fn head_bytes<'a>(c: &mut Cursor<'a>) -> Option<(&'a [u8], &'a [u8])> {
    c.skip_cfws();
    let media_type = c.token()?;
    c.skip_cfws();
    if !c.eat(b'/') {
        return None;
    }
    c.skip_cfws();
    let subtype = c.token()?;
    Some((media_type, subtype))
}

impl<'a> ContentType<'a> {
    /// `text/plain`, the RFC 2045 section 5.2 default (its implied charset, us-ascii,
    /// is not added as a parameter, so [`ContentType::param`] tells what was written).
    #[must_use]
    pub fn text_plain() -> ContentType<'static> {
        ContentType {
            media_type: Cow::Borrowed("text"),
            subtype: Cow::Borrowed("plain"),
            params: Vec::new(),
        }
    }

    /// `message/rfc822`, the default inside multipart/digest (RFC 2046 section 5.1.5).
    #[must_use]
    pub fn message_rfc822() -> ContentType<'static> {
        ContentType {
            media_type: Cow::Borrowed("message"),
            subtype: Cow::Borrowed("rfc822"),
            params: Vec::new(),
        }
    }

    /// Parses a Content-Type value; `None` if there is no `type/subtype`.
    ///
    /// ```
    /// let ct = mime::ContentType::parse(b"Text/Plain; charset=\"UTF-8\" (comment); format=flowed").unwrap();
    /// assert_eq!((&*ct.media_type, &*ct.subtype), ("text", "plain"));
    /// assert_eq!(ct.param("charset"), Some("UTF-8"));
    /// ```
    #[must_use]
    pub fn parse(value: &'a [u8]) -> Option<Self> {
        match Self::parse_simple(value) {
            Some(ct) => Some(ct),
            None => Self::parse_general(value),
        }
    }

    /// The full parser (comments, folding, RFC 2231, RFC 2047, upper case, junk).
    pub(crate) fn parse_general(value: &'a [u8]) -> Option<Self> {
        match shape(value) {
            Shape::Unsafe => ContentType::parse_in(&unfold(value), Shape::Flat).map(ContentType::into_owned),
            s => Self::parse_in(value, s),
        }
    }

    /// The common shape in one pass: `type/subtype *(";" attribute "=" value)` with
    /// lower-case names, values that are tokens or quoted strings without escapes,
    /// spaces and tabs around the semicolons, and nothing else (no comment, line
    /// break, RFC 2231 star, RFC 2047 word, invalid UTF-8). `None` for anything
    /// else, which [`ContentType::parse_general`] then reads. For every value it
    /// accepts the result equals the general parser's (the `mime_headers` fuzz
    /// target checks this).
    pub(crate) fn parse_simple(value: &'a [u8]) -> Option<Self> {
        const MAX_SIMPLE_PARAMS: usize = 32;
        let text = std::str::from_utf8(value).ok()?;
        let v = value;
        // a name is a non-empty token without upper case (else the general parser
        // lowercases it): it must end at the byte that follows it in the grammar
        let name = |a: usize, next: u8| -> Option<(&'a str, usize)> {
            let b = lower_token_end(v, a);
            (b > a && v.get(b) == Some(&next)).then_some(())?;
            Some((text.get(a..b)?, b + 1))
        };
        let (media_type, i) = name(skip_ows(v, 0), b'/')?;
        let s = lower_token_end(v, i);
        let subtype = text.get(i..s).filter(|t| !t.is_empty())?;
        let mut i = skip_ows(v, s);
        let mut params: Vec<Param<'a>> = Vec::new();
        let mut seen = 0;
        while i < v.len() {
            if v[i] != b';' {
                return None;
            }
            i = skip_ows(v, i + 1);
            if i == v.len() {
                break;
            }
            let (attr, after) = name(i, b'=')?;
            if attr.contains('*') {
                return None;
            }
            i = after;
            let val = if v.get(i) == Some(&b'"') {
                let start = i + 1;
                let len = memchr::memchr(b'"', &v[start..])?;
                let q = &v[start..start + len];
                if memchr::memchr3(b'\\', b'\r', b'\n', q).is_some()
                    || q.contains(&0)
                    || crate::encoded_word::has_word_start(q)
                {
                    return None;
                }
                i = start + len + 1;
                text.get(start..start + len)?
            } else {
                let start = i;
                i = token_end(v, i);
                if i == start {
                    return None;
                }
                text.get(start..i)?
            };
            i = skip_ows(v, i);
            seen += 1;
            if seen > MAX_SIMPLE_PARAMS {
                return None;
            }
            if !params.iter().any(|p| p.name == attr) {
                if params.capacity() == 0 {
                    params.reserve_exact(2);
                }
                params.push(Param {
                    name: Cow::Borrowed(attr),
                    value: Cow::Borrowed(val),
                    charset: None,
                    language: None,
                });
            }
        }
        Some(ContentType {
            media_type: Cow::Borrowed(media_type),
            subtype: Cow::Borrowed(subtype),
            params,
        })
    }

    fn parse_in(value: &'a [u8], shape: Shape) -> Option<Self> {
        let src = Src::new(value, shape);
        let mut c = Cursor::new(value);
        let (media_type, subtype) = Self::head(&mut c, &src)?;
        let params = parse_params(&mut c, &src);
        Some(ContentType {
            media_type,
            subtype,
            params,
        })
    }

    fn head(c: &mut Cursor<'a>, src: &Src<'a>) -> Option<(Cow<'a, str>, Cow<'a, str>)> {
        let (t, s) = head_bytes(c)?;
        Some((lower(t, src), lower(s, src)))
    }

    /// What the scanner needs to frame the body: the kind of type and the
    /// boundary of a multipart.
    pub(crate) fn framing(&self) -> Scanned {
        let kind = if self.media_type == "multipart" {
            TypeKind::Multipart {
                digest: self.subtype == "digest",
            }
        } else if self.media_type == "message" && matches!(&*self.subtype, "rfc822" | "global" | "news") {
            TypeKind::Message {
                global: self.subtype == "global",
            }
        } else {
            TypeKind::Other
        };
        Scanned {
            kind,
            boundary: self.boundary_bytes(),
        }
    }

    fn boundary_bytes(&self) -> Option<Vec<u8>> {
        if self.media_type == "multipart" {
            self.param("boundary").map(|b| b.as_bytes().to_vec())
        } else {
            None
        }
    }

    /// For an unparsable value: text/plain (RFC 2045 section 5.2) keeping whatever
    /// parameters follow the first `;`, as Python's `email` package does.
    #[must_use]
    pub(crate) fn fallback(value: &'a [u8]) -> Self {
        let shape = shape(value);
        if shape == Shape::Unsafe {
            return ContentType::fallback(&unfold(value)).into_owned();
        }
        let params = match memchr::memchr(b';', value) {
            Some(p) => parse_params(&mut Cursor::new(&value[p..]), &Src::new(value, shape)),
            None => Vec::new(),
        };
        ContentType {
            params,
            ..ContentType::text_plain()
        }
    }

    /// A copy that owns its strings (for keeping it past the input).
    #[must_use]
    pub fn into_owned(self) -> ContentType<'static> {
        ContentType {
            media_type: owned(self.media_type),
            subtype: owned(self.subtype),
            params: self.params.into_iter().map(Param::into_owned).collect(),
        }
    }

    /// `type/subtype`, lowercased.
    #[must_use]
    pub fn essence(&self) -> String {
        format!("{}/{}", self.media_type, self.subtype)
    }

    /// True when the type is `t/s` (case-insensitive).
    #[must_use]
    pub fn is(&self, t: &str, s: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(t) && self.subtype.eq_ignore_ascii_case(s)
    }

    /// A parameter's decoded value.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.params, name).map(|p| &*p.value)
    }
}

impl<'a> Disposition<'a> {
    /// Parses a Content-Disposition value.
    ///
    /// ```
    /// let d = mime::Disposition::parse(b"attachment; filename*=iso-8859-1'en'%A3%20rates.txt").unwrap();
    /// assert_eq!(d.kind, "attachment");
    /// assert_eq!(d.param("filename"), Some("£ rates.txt"));
    /// ```
    #[must_use]
    pub fn parse(value: &'a [u8]) -> Option<Self> {
        let shape = shape(value);
        if shape == Shape::Unsafe {
            return Disposition::parse(&unfold(value)).map(Disposition::into_owned);
        }
        let src = Src::new(value, shape);
        let mut c = Cursor::new(value);
        c.skip_cfws();
        let kind = lower(c.token()?, &src);
        let params = parse_params(&mut c, &src);
        Some(Disposition { kind, params })
    }

    /// A copy that owns its strings.
    #[must_use]
    pub fn into_owned(self) -> Disposition<'static> {
        Disposition {
            kind: owned(self.kind),
            params: self.params.into_iter().map(Param::into_owned).collect(),
        }
    }

    /// A parameter's decoded value.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.params, name).map(|p| &*p.value)
    }
}

struct RawParam {
    name: String,
    section: Option<u32>,
    extended: bool,
    value: Vec<u8>,
}

fn pct_decode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%'
            && let (Some(h), Some(l)) = (
                v.get(i + 1).and_then(|&b| (b as char).to_digit(16)),
                v.get(i + 2).and_then(|&b| (b as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

/// At most this many parameters are read from one value (duplicates count).
const MAX_PARAMS: usize = 1000;

/// Steps to the next `attribute "="` of `*(";" attribute "=" value)`, skipping junk
/// leniently (a missing `=` or a stray token is skipped to the next `;`); the cursor
/// is left at the value.
fn next_attr<'a>(c: &mut Cursor<'a>) -> Option<&'a [u8]> {
    loop {
        c.skip_cfws();
        if c.is_empty() {
            return None;
        }
        if !c.eat(b';') {
            c.skip_until(b';');
            continue;
        }
        c.skip_cfws();
        let Some(attr) = c.token() else {
            c.skip_until(b';');
            continue;
        };
        c.skip_cfws();
        if !c.eat(b'=') {
            c.skip_until(b';');
            continue;
        }
        c.skip_cfws();
        return Some(attr);
    }
}

fn value_at<'a>(c: &mut Cursor<'a>, flat: bool) -> Cow<'a, [u8]> {
    if c.peek() == Some(b'"') {
        c.quoted_cow()
    } else if flat {
        Cow::Borrowed(c.param_value())
    } else {
        unfolded(c.param_value())
    }
}

/// Parses `*(";" attribute "=" value)` leniently: unquoted values run to the next
/// `;`, a missing `=` or a stray token is skipped, duplicate names keep the first.
/// Without RFC 2231 sections or extended values (the common case) the parameters
/// borrow from the input; otherwise the value is read again by [`parse_params_2231`].
fn parse_params<'a>(c: &mut Cursor<'a>, src: &Src<'a>) -> Vec<Param<'a>> {
    let start = c.pos();
    let mut out: Vec<Param<'a>> = Vec::new();
    let mut seen = 0;
    while let Some(attr) = next_attr(c) {
        if attr.contains(&b'*') {
            c.set_pos(start);
            return parse_params_2231(c);
        }
        let value = value_at(c, src.flat);
        if seen >= MAX_PARAMS {
            continue;
        }
        seen += 1;
        let name = lower(attr, src);
        // a few are checked as they come; beyond that the duplicates are
        // dropped once at the end (a search per parameter was quadratic)
        if out.len() <= FEW_PARAMS && out.iter().any(|p| p.name == name) {
            continue;
        }
        let value = param_text(&name, value, src);
        out.push(Param {
            name,
            value,
            charset: None,
            language: None,
        });
    }
    if out.len() > FEW_PARAMS {
        let mut keep = vec![false; out.len()];
        for group in by_name(&out, |p| &p.name) {
            keep[group[0]] = true;
        }
        let mut keep = keep.into_iter();
        out.retain(|_| keep.next().unwrap_or(false));
    }
    out
}

/// Up to this many parameters, a duplicate name is found by a linear search.
const FEW_PARAMS: usize = 16;

/// The indices of `items` grouped by name in O(n log n): each group in input
/// order, the groups in order of their first item.
fn by_name<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| name(&items[a]).cmp(name(&items[b])).then(a.cmp(&b)));
    let mut groups: Vec<Vec<usize>> = order
        .chunk_by(|&a, &b| name(&items[a]) == name(&items[b]))
        .map(<[usize]>::to_vec)
        .collect();
    groups.sort_unstable_by_key(|g| g[0]);
    groups
}

/// The general case with RFC 2231 sections and extended values: collects every
/// parameter, then joins and decodes them.
fn parse_params_2231<'a>(c: &mut Cursor<'_>) -> Vec<Param<'a>> {
    let mut raw: Vec<RawParam> = Vec::new();
    while let Some(attr) = next_attr(c) {
        let value = value_at(c, false).into_owned();
        let mut name = String::from_utf8_lossy(attr).to_ascii_lowercase();
        let mut extended = false;
        if name.ends_with('*') {
            extended = true;
            name.pop();
        }
        let mut section = None;
        // RFC 2231 section 7: `initial-section := "*0"`, `other-sections := "*"
        // ("1" / ... / "9") *DIGIT`: digits only (no sign, which `parse` would
        // take) and no leading zero, so no two spellings name one section
        if let Some(star) = name.rfind('*')
            && let digits = &name[star + 1..]
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && let Ok(n) = digits.parse::<u32>()
        {
            section = Some(n);
            name.truncate(star);
        }
        if raw.len() < MAX_PARAMS {
            raw.push(RawParam {
                name,
                section,
                extended,
                value,
            });
        }
    }
    assemble(&raw)
}

/// RFC 2231 sections 3-4: join `name*0`, `name*1*`, ... in numeric order; the first
/// extended section carries `charset'language'`.
fn assemble<'a>(raw: &[RawParam]) -> Vec<Param<'a>> {
    let mut out: Vec<Param<'a>> = Vec::new();
    // grouped by sorting: a search per name was quadratic in the parameters
    for group in by_name(raw, |r| &r.name) {
        let name = raw[group[0]].name.as_str();
        let mut simple: Option<&RawParam> = None;
        let mut ext: Option<&RawParam> = None;
        let mut sections: Vec<&RawParam> = Vec::new();
        for r in group.iter().map(|&i| &raw[i]) {
            match (r.section, r.extended) {
                (None, false) => simple = simple.or(Some(r)),
                (None, true) => ext = ext.or(Some(r)),
                (Some(_), _) => sections.push(r),
            }
        }
        sections.sort_by_key(|r| r.section);
        sections.dedup_by_key(|r| r.section);
        // stop at the first gap (RFC 2231 section 3); sections without a `*0`
        // make no value, and a plain `name=` given too still counts
        let upto = sections
            .iter()
            .enumerate()
            .take_while(|(i, s)| s.section == u32::try_from(*i).ok())
            .count();
        let param = if let Some(e) = ext {
            extended_value(name, &[e])
        } else if upto > 0 {
            extended_value(name, &sections[..upto])
        } else if let Some(s) = simple {
            Param {
                name: Cow::Owned(name.to_owned()),
                value: owned(param_text(
                    name,
                    Cow::Borrowed(&s.value),
                    &Src::new(&[], Shape::Flat),
                )),
                charset: None,
                language: None,
            }
        } else {
            continue;
        };
        out.push(param);
    }
    out
}

fn extended_value(name: &str, parts: &[&RawParam]) -> Param<'static> {
    let mut bytes = Vec::new();
    let mut charset = None;
    let mut language = None;
    for (i, p) in parts.iter().enumerate() {
        let mut v: &[u8] = &p.value;
        if i == 0 && p.extended {
            let mut it = v.splitn(3, |&b| b == b'\'');
            if let (Some(cs), Some(lang), Some(rest)) = (it.next(), it.next(), it.next()) {
                if !cs.is_empty() {
                    charset = Some(String::from_utf8_lossy(cs).into_owned());
                }
                if !lang.is_empty() {
                    language = Some(String::from_utf8_lossy(lang).into_owned());
                }
                v = rest;
            }
        }
        if p.extended {
            bytes.extend_from_slice(&pct_decode(v));
        } else {
            bytes.extend_from_slice(v);
        }
    }
    // `%0D%0A` or `%00` decode to CR LF or NUL: the safe form, as for RFC 2047 words
    let value = header_safe(decode_charset(&bytes, charset.as_deref().unwrap_or("utf-8")).0).into_owned();
    Param {
        name: Cow::Owned(name.to_owned()),
        value: Cow::Owned(value),
        charset: charset.map(Cow::Owned),
        language: language.map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of Content-Type values, common and odd, for either reader.
    const HEADS: &[&[u8]] = &[
        b" text/plain",
        b"text/plain",
        b" Text/Plain",
        b"\tmultipart/mixed",
        b" a/b",
        b" text / plain",
        b" (c) text/plain",
    ];
    const SEPS: &[&[u8]] = &[b";", b"; ", b";\t", b" ;", b"", b";;", b";\r\n "];
    const NAMES: &[&[u8]] = &[b"charset", b"boundary", b"Name", b"name*", b"name*0*", b"a", b""];
    const EQS: &[&[u8]] = &[b"=", b" = ", b""];
    const VALUES: &[&[u8]] = &[
        b"UTF-8",
        b"\"x y\"",
        b"\"\"",
        b"\"a\\\"b\"",
        b"\"=?utf-8?q?x?=\"",
        b"(c)v",
        b"a b",
        b"\xc3\xa9",
        b"\"\xc3\xa9\"",
        b"\"open",
        b"v\r\n w",
        b"us-ascii'en'%41",
        b"\xff",
    ];

    fn params_strategy() -> impl Strategy<Value = Vec<u8>> {
        let param = (
            prop::sample::select(SEPS),
            prop::sample::select(NAMES),
            prop::sample::select(EQS),
            prop::sample::select(VALUES),
        )
            .prop_map(|(a, b, c, d)| [a, b, c, d].concat());
        prop::collection::vec(param, 0..4).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        /// Whatever the one-pass reader accepts, the general parser reads the same way.
        #[test]
        fn simple_reader_agrees_with_the_general_parser(
            head in prop::sample::select(HEADS),
            params in params_strategy(),
            tail in prop::sample::select(SEPS),
        ) {
            let v = [head, &params, tail].concat();
            if let Some(simple) = ContentType::parse_simple(&v) {
                prop_assert_eq!(Some(simple), ContentType::parse_general(&v));
            }
        }
    }

    #[test]
    fn simple_reader_takes_common_values_and_agrees_with_the_general_parser() {
        let taken: &[&[u8]] = &[
            b" text/plain; charset=us-ascii",
            b"text/plain",
            b"\ttext/html;charset=\"utf-8\" ; format=flowed;",
            b" multipart/mixed; boundary=\"=_b 1/2?\"",
            b" application/octet-stream; name=\"caf\xc3\xa9.bin\"; name=dup",
            b" a/b; x=\"\"",
        ];
        for v in taken {
            let simple = ContentType::parse_simple(v);
            assert!(simple.is_some(), "{}", String::from_utf8_lossy(v));
            assert_eq!(
                simple,
                ContentType::parse_general(v),
                "{}",
                String::from_utf8_lossy(v)
            );
        }
        let left: &[&[u8]] = &[
            b" Text/Plain",
            b" text/plain; Charset=x",
            b" text/plain (comment)",
            b" text / plain",
            b" text/plain;\r\n charset=x",
            b" text/plain; title*=us-ascii'en'x",
            b" text/plain; name=\"=?utf-8?q?x?=\"",
            b" text/plain; name=\"a\\\"b\"",
            b" text/plain; name=\"open",
            b" text/plain; a=b c",
            b" text/plain; a=",
            b" text/plain; ;a=b",
            b" text/plain junk",
            b" text/plain; a=\xff",
            b" text/\xff",
            b"",
        ];
        for v in left {
            assert!(
                ContentType::parse_simple(v).is_none(),
                "{}",
                String::from_utf8_lossy(v)
            );
        }
        let dup = ContentType::parse(b" application/octet-stream; name=\"a\"; name=b").unwrap();
        assert_eq!(dup.params.len(), 1);
        assert_eq!(dup.param("name"), Some("a"));
    }

    #[test]
    fn rfc2231_examples() {
        // section 3
        let ct = ContentType::parse(
            b"message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
        )
        .unwrap();
        assert_eq!(
            ct.param("url"),
            Some("ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar")
        );
        assert_eq!(ct.param("access-type"), Some("URL"));
        // section 4
        let ct = ContentType::parse(
            b"application/x-stuff;\r\n title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
        )
        .unwrap();
        let p = &ct.params[0];
        assert_eq!(p.value, "This is ***fun***");
        assert_eq!(
            (p.charset.as_deref(), p.language.as_deref()),
            (Some("us-ascii"), Some("en-us"))
        );
        // section 4.1
        let ct = ContentType::parse(
            b"application/x-stuff;\r\n title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n title*2=\"isn't it!\"",
        )
        .unwrap();
        assert_eq!(ct.param("title"), Some("This is even more ***fun*** isn't it!"));
    }

    #[test]
    fn rfc2045_examples() {
        let a = ContentType::parse(b"text/plain; charset=us-ascii (Plain text)").unwrap();
        let b = ContentType::parse(b"text/plain; charset=\"us-ascii\"").unwrap();
        assert_eq!(a, b);
        assert!(ContentType::parse(b"text").is_none());
        let c = ContentType::parse(b"multipart/mixed; boundary=\"simple boundary\"").unwrap();
        assert_eq!(c.param("BOUNDARY"), Some("simple boundary"));
    }

    #[test]
    fn rfc2183_and_lenient() {
        let d = Disposition::parse(
            b"attachment; filename=genome.jpeg;\r\n modification-date=\"Wed, 12 Feb 1997 16:29:51 -0500\";",
        )
        .unwrap();
        assert_eq!(d.param("filename"), Some("genome.jpeg"));
        assert_eq!(
            d.param("modification-date"),
            Some("Wed, 12 Feb 1997 16:29:51 -0500")
        );
        let d = Disposition::parse(b"inline; filename=my file.txt; size=12").unwrap();
        assert_eq!(d.param("filename"), Some("my file.txt"));
        let d = Disposition::parse(b"attachment; filename=\"=?UTF-8?B?w6kudHh0?=\"").unwrap();
        assert_eq!(d.param("filename"), Some("é.txt"));
    }

    #[test]
    fn folded_values_parse_like_unfolded_ones() {
        let cases: &[&[u8]] = &[
            b"multipart/mixed;\r\n boundary=\"=_a b\"",
            b"Multipart/Mixed;\r\n\tBoundary=x;\r\n charset=\"a\\\r\n b\"",
            b"text/plain; name=my\r\n file.txt; a=\"q\r\n r\"",
            b"text/plain; name=a\rb; x=\"y\nz\"",
            b"text\r\n /plain (c\r\n omment); title*0=a;\r\n title*1*=%41",
            b"text/plain; name=\"=?UTF-8?B?w6k=?=\"\n",
            b"text/\x0cplain;\r\n x=\"unterminated\r\n ",
            b"attachment;\r\n filename=\"a\\\"b\"",
        ];
        for &v in cases {
            let u = unfold(v);
            assert_eq!(ContentType::parse(v), ContentType::parse(&u), "{v:?}");
            assert_eq!(Disposition::parse(v), Disposition::parse(&u), "{v:?}");
            if let Some(ct) = ContentType::parse(v) {
                assert_eq!(ct.clone().into_owned(), ct);
            }
        }
        let ct = ContentType::parse(b"text/plain; charset=utf-8; name=\"a b\"").unwrap();
        assert!(matches!(ct.media_type, Cow::Borrowed(_)));
        assert!(ct.params.iter().all(|p| matches!(p.value, Cow::Borrowed(_))));
    }
}
