//! SASLprep (RFC 4013), the common cases, without Unicode tables.
//!
//! What is covered, in RFC 4013 section 2 order:
//!
//! * 2.1 Mapping: non-ASCII spaces (RFC 3454 table C.1.2) become U+0020; the
//!   "commonly mapped to nothing" characters (table B.1: soft hyphen, zero-width
//!   joiners, variation selectors, BOM ...) are removed.
//! * 2.2 Normalization: **not applied**. NFKC needs the Unicode composition
//!   tables (a heavy dependency for a rare case). ASCII and already-composed
//!   text, i.e. nearly every real password, is unchanged by NFKC, so results
//!   agree with a full SASLprep there; a password typed in a decomposed form or
//!   with compatibility characters (full-width letters, ligatures) is used as is.
//!   Client and server of this crate behave the same, so they still agree with
//!   each other.
//! * 2.3 Prohibited output: every table of the RFC (C.1.2, C.2.1, C.2.2, C.3,
//!   C.4, C.5, C.6, C.7, C.8, C.9) is checked and refused.
//! * 2.4 Bidirectional characters: not checked (needs the bidi tables).
//! * 2.5 Unassigned code points: allowed, as for a "query" (RFC 3454 section 7).
//!
//! ASCII strings without control characters, the common case, are returned
//! borrowed and unchanged without any table lookup.

use std::borrow::Cow;

/// A string holds a character SASLprep prohibits (a control character, a private
/// use or non-character code point ...). Which one is not said: the string may
/// be a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the string contains a character SASLprep (RFC 4013) prohibits")]
pub struct SaslPrepError;

/// RFC 3454 table C.1.2: non-ASCII space characters.
fn is_non_ascii_space(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200B}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// RFC 3454 table B.1: commonly mapped to nothing.
fn is_mapped_to_nothing(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{1806}'
            | '\u{180B}'..='\u{180D}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
    )
}

/// RFC 4013 section 2.3: the prohibited output tables (C.1.2 is mapped away
/// before this check; C.5 surrogates cannot occur in a Rust `str`).
fn is_prohibited(c: char) -> bool {
    let u = u32::from(c);
    // C.2.1 ASCII control, C.2.2 non-ASCII control.
    u < 0x20
        || u == 0x7F
        || (0x80..=0x9F).contains(&u)
        || matches!(
            c,
            '\u{06DD}'
                | '\u{070F}'
                | '\u{180E}'
                | '\u{200C}'
                | '\u{200D}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2060}'..='\u{2063}'
                | '\u{206A}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFC}'
                | '\u{1D173}'..='\u{1D17A}'
        )
        // C.3 private use.
        || (0xE000..=0xF8FF).contains(&u)
        || (0xF0000..=0xFFFFD).contains(&u)
        || (0x10_0000..=0x10_FFFD).contains(&u)
        // C.4 non-characters.
        || (0xFDD0..=0xFDEF).contains(&u)
        || (u & 0xFFFE) == 0xFFFE
        // C.6 inappropriate for plain text, C.7 for canonical representation.
        || (0xFFF9..=0xFFFD).contains(&u)
        || (0x2FF0..=0x2FFB).contains(&u)
        // C.8 change display properties or deprecated.
        || matches!(c, '\u{0340}' | '\u{0341}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}')
        // C.9 tagging characters.
        || u == 0xE0001
        || (0xE0020..=0xE007F).contains(&u)
}

/// RFC 4505 section 3, the "trace" profile of ANONYMOUS: no mapping, and the
/// tables C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.8 and C.9 are prohibited (the
/// SASLprep tables without C.1.2, which SASLprep maps away, and C.7).
pub(crate) fn is_trace_prohibited(c: char) -> bool {
    is_prohibited(c) && !('\u{2FF0}'..='\u{2FFB}').contains(&c)
}

/// Prepares a user name or password with SASLprep (see the module docs for
/// what is covered). Borrows when nothing changes.
///
/// ```
/// use sasl::saslprep::saslprep;
/// assert_eq!(saslprep("user").unwrap(), "user");
/// assert_eq!(saslprep("I\u{00AD}X").unwrap(), "IX");           // RFC 4013 section 3 example 1
/// assert_eq!(saslprep("a\u{00A0}b").unwrap(), "a b");          // non-ASCII space
/// assert!(saslprep("\u{0007}").is_err());                      // RFC 4013 example 5
/// ```
pub fn saslprep(s: &str) -> Result<Cow<'_, str>, SaslPrepError> {
    if s.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_mapped_to_nothing(c) {
            continue;
        }
        let c = if is_non_ascii_space(c) { ' ' } else { c };
        if is_prohibited(c) {
            return Err(SaslPrepError);
        }
        out.push(c);
    }
    if out == s {
        Ok(Cow::Borrowed(s))
    } else {
        Ok(Cow::Owned(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4013 section 3 examples (those that do not depend on NFKC or bidi).
    #[test]
    fn rfc4013_examples() {
        assert_eq!(saslprep("I\u{00AD}X").unwrap(), "IX");
        assert_eq!(saslprep("user").unwrap(), "user");
        assert_eq!(saslprep("USER").unwrap(), "USER");
        assert_eq!(saslprep("\u{00AA}").unwrap(), "\u{00AA}"); // NFKC would give "a": not covered
        assert_eq!(saslprep("\u{0007}"), Err(SaslPrepError));
    }

    #[test]
    fn maps_spaces_and_removes_invisibles() {
        assert_eq!(saslprep("a\u{3000}b\u{2002}c").unwrap(), "a b c");
        assert_eq!(saslprep("p\u{200B}w\u{FEFF}\u{FE0F}").unwrap(), "pw");
        assert!(matches!(saslprep("caf\u{e9}").unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn refuses_prohibited() {
        for c in [
            '\t',
            '\u{7F}',
            '\u{85}',
            '\u{E000}',
            '\u{FFFF}',
            '\u{FDD0}',
            '\u{202E}',
            '\u{E0041}',
            '\u{2FF0}',
        ] {
            assert_eq!(
                saslprep(&format!("a{c}b")),
                Err(SaslPrepError),
                "{:x}",
                u32::from(c)
            );
        }
    }
}
