//! Content-Type and Content-Disposition values with parameters (RFC 2045 section 5.1,
//! RFC 2183, RFC 2231 continuations, charsets and languages).

use crate::charset::decode_charset;
use crate::header::{Cursor, unfold};

/// One parameter after RFC 2231 reassembly and decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Attribute name, lowercased.
    pub name: String,
    /// Decoded value.
    pub value: String,
    /// RFC 2231 charset, when the value was extended.
    pub charset: Option<String>,
    /// RFC 2231 language, when given.
    pub language: Option<String>,
}

/// A parsed Content-Type (`type/subtype; params`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// Top-level media type, lowercased (`text`, `multipart`, ...).
    pub media_type: String,
    /// Subtype, lowercased.
    pub subtype: String,
    /// Parameters in order of first appearance.
    pub params: Vec<Param>,
}

/// A parsed Content-Disposition (`inline` / `attachment` and parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    /// The disposition type, lowercased.
    pub kind: String,
    /// Parameters in order of first appearance.
    pub params: Vec<Param>,
}

fn find<'p>(params: &'p [Param], name: &str) -> Option<&'p Param> {
    params.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

impl ContentType {
    /// `text/plain`, the RFC 2045 section 5.2 default (its implied charset, us-ascii,
    /// is not added as a parameter, so [`ContentType::param`] tells what was written).
    #[must_use]
    pub fn text_plain() -> Self {
        ContentType {
            media_type: "text".into(),
            subtype: "plain".into(),
            params: Vec::new(),
        }
    }

    /// `message/rfc822`, the default inside multipart/digest (RFC 2046 section 5.1.5).
    #[must_use]
    pub fn message_rfc822() -> Self {
        ContentType {
            media_type: "message".into(),
            subtype: "rfc822".into(),
            params: Vec::new(),
        }
    }

    /// Parses a Content-Type value; `None` if there is no `type/subtype`.
    ///
    /// ```
    /// let ct = mime::ContentType::parse(b"Text/Plain; charset=\"UTF-8\" (comment); format=flowed").unwrap();
    /// assert_eq!((ct.media_type.as_str(), ct.subtype.as_str()), ("text", "plain"));
    /// assert_eq!(ct.param("charset"), Some("UTF-8"));
    /// ```
    #[must_use]
    pub fn parse(value: &[u8]) -> Option<Self> {
        let value = unfold(value);
        let mut c = Cursor::new(&value);
        c.skip_cfws();
        let mut media_type = c.token()?;
        c.skip_cfws();
        if !c.eat(b'/') {
            return None;
        }
        c.skip_cfws();
        let mut subtype = c.token()?;
        let params = parse_params(&mut c);
        media_type.make_ascii_lowercase();
        subtype.make_ascii_lowercase();
        Some(ContentType {
            media_type,
            subtype,
            params,
        })
    }

    /// For an unparsable value: text/plain (RFC 2045 section 5.2) keeping whatever
    /// parameters follow the first `;`, as Python's `email` package does.
    #[must_use]
    pub(crate) fn fallback(value: &[u8]) -> Self {
        let value = unfold(value);
        let params = match memchr::memchr(b';', &value) {
            Some(p) => parse_params(&mut Cursor::new(&value[p..])),
            None => Vec::new(),
        };
        ContentType {
            params,
            ..Self::text_plain()
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
        find(&self.params, name).map(|p| p.value.as_str())
    }
}

impl Disposition {
    /// Parses a Content-Disposition value.
    ///
    /// ```
    /// let d = mime::Disposition::parse(b"attachment; filename*=iso-8859-1'en'%A3%20rates.txt").unwrap();
    /// assert_eq!(d.kind, "attachment");
    /// assert_eq!(d.param("filename"), Some("£ rates.txt"));
    /// ```
    #[must_use]
    pub fn parse(value: &[u8]) -> Option<Self> {
        let value = unfold(value);
        let mut c = Cursor::new(&value);
        c.skip_cfws();
        let kind = c.token()?.to_ascii_lowercase();
        let params = parse_params(&mut c);
        Some(Disposition { kind, params })
    }

    /// A parameter's decoded value.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.params, name).map(|p| p.value.as_str())
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

/// Parses `*(";" attribute "=" value)` leniently: unquoted values run to the next
/// `;`, a missing `=` or a stray token is skipped, duplicate names keep the first.
fn parse_params(c: &mut Cursor<'_>) -> Vec<Param> {
    let mut raw: Vec<RawParam> = Vec::new();
    loop {
        c.skip_cfws();
        if c.is_empty() {
            break;
        }
        if !c.eat(b';') {
            // junk: skip to next ';'
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
        let value = if c.peek() == Some(b'"') {
            c.quoted_string()
        } else {
            c.param_value().to_vec()
        };
        let mut name = attr;
        name.make_ascii_lowercase();
        let mut extended = false;
        if name.ends_with('*') {
            extended = true;
            name.pop();
        }
        let mut section = None;
        if let Some(star) = name.rfind('*')
            && let Ok(n) = name[star + 1..].parse::<u32>()
        {
            section = Some(n);
            name.truncate(star);
        }
        if raw.len() < 1000 {
            raw.push(RawParam {
                name,
                section,
                extended,
                value,
            });
        }
    }
    if raw.iter().all(|r| r.section.is_none() && !r.extended) {
        return simple_params(raw);
    }
    assemble(&raw)
}

/// The common case, no RFC 2231 sections or extended values: the raw parameters
/// become the result directly (first occurrence of a name wins).
fn simple_params(raw: Vec<RawParam>) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::with_capacity(raw.len());
    for r in raw {
        if out.iter().any(|p| p.name == r.name) {
            continue;
        }
        let value = if r.value.windows(2).any(|w| w == b"=?") {
            crate::encoded_word::decode_unstructured(&r.value)
        } else {
            String::from_utf8(r.value).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        };
        out.push(Param {
            name: r.name,
            value,
            charset: None,
            language: None,
        });
    }
    out
}

/// RFC 2231 sections 3-4: join `name*0`, `name*1*`, ... in numeric order; the first
/// extended section carries `charset'language'`.
fn assemble(raw: &[RawParam]) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for r in raw {
        if !names.contains(&r.name.as_str()) {
            names.push(&r.name);
        }
    }
    for name in names {
        let mut simple: Option<&RawParam> = None;
        let mut ext: Option<&RawParam> = None;
        let mut sections: Vec<&RawParam> = Vec::new();
        for r in raw.iter().filter(|r| r.name == name) {
            match (r.section, r.extended) {
                (None, false) => simple = simple.or(Some(r)),
                (None, true) => ext = ext.or(Some(r)),
                (Some(_), _) => sections.push(r),
            }
        }
        let param = if let Some(e) = ext {
            extended_value(name, &[e])
        } else if !sections.is_empty() {
            sections.sort_by_key(|r| r.section);
            sections.dedup_by_key(|r| r.section);
            // stop at the first gap (RFC 2231 section 3)
            let mut upto = 0;
            for (i, s) in sections.iter().enumerate() {
                if s.section != Some(i as u32) {
                    break;
                }
                upto = i + 1;
            }
            if upto == 0 {
                continue;
            }
            extended_value(name, &sections[..upto])
        } else if let Some(s) = simple {
            let value = if s.value.windows(2).any(|w| w == b"=?") {
                crate::encoded_word::decode_unstructured(&s.value)
            } else {
                String::from_utf8_lossy(&s.value).into_owned()
            };
            Param {
                name: name.to_owned(),
                value,
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

fn extended_value(name: &str, parts: &[&RawParam]) -> Param {
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
    let value = decode_charset(&bytes, charset.as_deref().unwrap_or("utf-8"))
        .0
        .into_owned();
    Param {
        name: name.to_owned(),
        value,
        charset,
        language,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
