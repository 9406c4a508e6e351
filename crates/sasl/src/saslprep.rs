//! SASLprep (RFC 4013): the stringprep (RFC 3454) profile for user names
//! and passwords, every step of it.
//!
//! In RFC 4013 section 2 order:
//!
//! * 2.1 Mapping: non-ASCII spaces (RFC 3454 table C.1.2) become U+0020; the
//!   "commonly mapped to nothing" characters (table B.1: soft hyphen, zero-width
//!   joiners, variation selectors, BOM ...) are removed.
//! * 2.2 Normalization: Unicode normalization form KC (NFKC), so a password
//!   typed with compatibility characters (full-width letters, ligatures, the
//!   feminine ordinal) or in decomposed form prepares to the same string as
//!   its plain composed spelling, as every other SASLprep implementation
//!   makes it.
//! * 2.3 Prohibited output: every table of the RFC (C.1.2, C.2.1, C.2.2, C.3,
//!   C.4, C.5, C.6, C.7, C.8, C.9) is checked, after normalization, and
//!   refused.
//! * 2.4 Bidirectional characters: RFC 3454 section 6. A string with a
//!   right-to-left character (bidi class R or AL, table D.1) must not hold a
//!   left-to-right one (class L, table D.2) and must start and end with a
//!   right-to-left character.
//! * 2.5 Unassigned code points (RFC 3454 table A.1, the code points
//!   Unicode 3.2 had not assigned): the [`Profile`] decides. RFC 3454
//!   section 7 has two: a [`Profile::Query`] may hold them (what a client
//!   presents at login, and the server's preparation of it), a
//!   [`Profile::Stored`] string must not (a password or name kept in a
//!   credential database, and SCRAM's `Normalize(password)`, RFC 5802
//!   section 2.2). [`saslprep`] is the query profile; [`saslprep_with`]
//!   takes the profile.
//!
//! Stringprep is defined on Unicode 3.2; the normalization and bidi classes
//! here come from the current Unicode version (the `unicode-normalization`
//! and `unicode-bidi` tables). Unicode's normalization stability policy
//! keeps NFKC of characters assigned in 3.2 as it was, apart from a handful
//! of CJK compatibility ideographs corrected before that policy (Unicode
//! corrigendum 4), so the two differ for those few and for characters
//! assigned later, which Unicode 3.2 saw as unassigned.
//!
//! ASCII strings without control characters, the common case, are returned
//! borrowed and unchanged without any table lookup: NFKC leaves them alone
//! and they hold no right-to-left character.

use std::borrow::Cow;

use proto_core::Secret;
use unicode_bidi::{BidiClass, bidi_class};
use unicode_normalization::UnicodeNormalization;

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
fn is_trace_prohibited(c: char) -> bool {
    is_prohibited(c) && !('\u{2FF0}'..='\u{2FFB}').contains(&c)
}

/// Checks an ANONYMOUS trace string against the RFC 4505 section 3 "trace"
/// profile: no prohibited character, and "This profile requires
/// bidirectional character checking per Section 6 of \[StringPrep\]" (as
/// SASLprep's 2.4). No mapping or normalization: the string is taken as is.
pub(crate) fn check_trace(s: &str) -> Result<(), SaslPrepError> {
    if s.chars().any(is_trace_prohibited) {
        return Err(SaslPrepError);
    }
    check_bidi(s)
}

/// The two uses of a prepared string (RFC 3454 section 7), which differ only
/// in unassigned code points (RFC 3454 table A.1, RFC 4013 section 2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// A string presented for comparison: the user name and password a
    /// client sends at login, and the server's preparation of what it
    /// received (RFC 4616 section 4, RFC 5802 section 5.1 for user names).
    /// Unassigned code points are allowed and kept.
    Query,
    /// A string to be stored: a password or user name set in a credential
    /// database ("the database strings are to be treated as "stored"
    /// strings", RFC 4616 section 4), and the password SCRAM salts, on both
    /// sides (RFC 5802 section 2.2, `Normalize(str)`). A string holding an
    /// unassigned code point, before or after preparation, is refused.
    Stored,
}

/// Prepares a user name or password with SASLprep as a [`Profile::Query`]
/// (see the module docs for the steps): what a login presents. Borrows when
/// nothing changes. Use [`saslprep_with`] and [`Profile::Stored`] for a
/// string that is to be kept.
///
/// ```
/// use sasl::saslprep::saslprep;
/// assert_eq!(saslprep("user").unwrap(), "user");
/// assert_eq!(saslprep("I\u{00AD}X").unwrap(), "IX");           // RFC 4013 section 3 example 1
/// assert_eq!(saslprep("\u{00AA}").unwrap(), "a");              // example 3: NFKC
/// assert_eq!(saslprep("\u{2168}").unwrap(), "IX");             // example 4: NFKC
/// assert_eq!(saslprep("a\u{00A0}b").unwrap(), "a b");          // non-ASCII space
/// assert!(saslprep("\u{0007}").is_err());                      // example 5: prohibited
/// assert!(saslprep("\u{0627}\u{0031}").is_err());              // example 6: bidi rule
/// ```
#[inline]
pub fn saslprep(s: &str) -> Result<Cow<'_, str>, SaslPrepError> {
    saslprep_with(s, Profile::Query)
}

/// Prepares a user name or password with SASLprep under `profile`.
/// Borrows when nothing changes.
///
/// ```
/// use sasl::saslprep::{Profile, saslprep_with};
/// // U+0221 was assigned in Unicode 4.0, after the Unicode 3.2 of RFC 3454.
/// assert_eq!(saslprep_with("pass\u{0221}", Profile::Query).unwrap(), "pass\u{0221}");
/// assert!(saslprep_with("pass\u{0221}", Profile::Stored).is_err());
/// assert_eq!(saslprep_with("I\u{00AD}X", Profile::Stored).unwrap(), "IX");
/// ```
#[inline]
pub fn saslprep_with(s: &str, profile: Profile) -> Result<Cow<'_, str>, SaslPrepError> {
    // The common case, printable ASCII, inline at the caller; the rest out of line.
    if is_printable_ascii(s.as_bytes()) {
        return Ok(Cow::Borrowed(s));
    }
    prepare(s, profile)
}

/// A user name or authorization identity as the servers of this crate take
/// it: prepared as a [`Profile::Query`], and not empty. A name that fails
/// SASLprep (a control character, private use, a broken bidi rule, RFC 4013
/// section 2) or prepares to nothing is refused (`None`): RFC 4616 section 2
/// and RFC 5802 section 5.1 for user names, RFC 4422 section 3.4.1 with
/// RFC 4954 and RFC 5034 section 4 for every authorization identity. The
/// one home of that rule, for the servers, which fail such a name, and for
/// the clients, which refuse it before anything is sent.
#[inline]
pub(crate) fn prepare_name(name: &str) -> Option<Cow<'_, str>> {
    saslprep(name).ok().filter(|p| !p.is_empty())
}

/// Eight octets, each with only its low bit set.
pub(crate) const ONES: u64 = u64::from_le_bytes([1; 8]);
/// Eight octets, each with only its top bit set.
const TOPS: u64 = ONES << 7;

/// For each of the eight octets of `word`, its top bit set if the octet is
/// not printable ASCII (outside 0x20..=0x7E), every other bit clear.
///
/// Printable ASCII is what SASLprep leaves alone by itself: no octet of it
/// is mapped (2.1: table B.1 and the non-ASCII spaces are not ASCII), NFKC
/// changes no ASCII character (2.2), none is prohibited (2.3: the ASCII
/// controls 0x00..=0x1F and 0x7F are), none is right-to-left (2.4) and all
/// are assigned (2.5). So a string of them prepares to itself.
///
/// Octet by octet, without carries between them: the low seven bits plus
/// 0x60 reach the top bit from 0x20 up, plus 0x01 from 0x7F up.
#[inline(always)]
pub(crate) const fn not_printable(word: u64) -> u64 {
    let low7 = word & !TOPS;
    let from_space = low7.wrapping_add(ONES * 0x60);
    let from_del = low7.wrapping_add(ONES);
    (!from_space | from_del | word) & TOPS
}

/// For each of the eight octets of `word`, its top bit set if the octet is
/// NUL, every other bit clear (the low seven bits plus 0x7F reach the top
/// bit unless all are zero).
#[inline(always)]
pub(crate) const fn nul(word: u64) -> u64 {
    let low7 = word & !TOPS;
    !(low7.wrapping_add(ONES * 0x7F) | word) & TOPS
}

/// Calls `f` with each eight-octet word of `bytes` (little-endian, so the
/// first octet is the lowest), its offset, and a mask of the top bits of
/// its octets not seen before (all of them, but for the last word of a
/// length that is not a multiple of eight: that word is the last eight
/// octets, overlapping the one before, or for fewer than eight octets in
/// all, the octets padded with zeros): `f` applies the mask to what
/// [`not_printable`] and [`nul`] give. Stops at the first `false`, and
/// returns whether none was.
#[inline(always)]
pub(crate) fn all_words(bytes: &[u8], mut f: impl FnMut(usize, u64, u64) -> bool) -> bool {
    let (whole, tail) = bytes.as_chunks::<8>();
    let mut at = 0;
    for word in whole {
        if !f(at, u64::from_le_bytes(*word), TOPS) {
            return false;
        }
        at += 8;
    }
    // 1 to 7 octets seen already, or padding.
    let old = 8 * (8 - tail.len() as u32);
    match bytes.last_chunk::<8>() {
        _ if tail.is_empty() => true,
        Some(last) => f(at + tail.len() - 8, u64::from_le_bytes(*last), TOPS << old),
        None => {
            let mut padded = [0; 8];
            padded.iter_mut().zip(tail).for_each(|(to, from)| *to = *from);
            f(0, u64::from_le_bytes(padded), TOPS >> old)
        }
    }
}

/// True if every octet is printable ASCII (0x20..=0x7E), checked eight at a
/// time: SASLprep leaves such a string as it is (see [`not_printable`]).
#[inline(always)]
fn is_printable_ascii(bytes: &[u8]) -> bool {
    all_words(bytes, |_, w, new| not_printable(w) & new == 0)
}

/// [`saslprep_with`] for a string that is not all printable ASCII.
#[inline(never)]
fn prepare(s: &str, profile: Profile) -> Result<Cow<'_, str>, SaslPrepError> {
    // 2.5 for stored strings: no unassigned code point in the input (the
    // mapping and Unicode 3.2's NFKC pass them through unchanged; today's
    // NFKC may not, so the output is checked too, below).
    let stored = profile == Profile::Stored;
    if stored && s.chars().any(crate::unassigned::is_unassigned) {
        return Err(SaslPrepError);
    }
    // 2.1 mapping, then 2.2 normalization of the mapped string.
    let prepared = || {
        s.chars()
            .filter(|&c| !is_mapped_to_nothing(c))
            .map(|c| if is_non_ascii_space(c) { ' ' } else { c })
            .nfkc()
    };
    // The string may be a password: it goes into one buffer of the exact
    // size (measured by a first pass), so no outgrown buffer holding part of
    // it is freed unwiped, and the buffer is wiped on every path that drops it.
    let len = prepared().map(char::len_utf8).sum();
    let mut out = Secret::new(String::with_capacity(len));
    out.expose_mut().extend(prepared());
    // 2.3 prohibited output, on the normalized string (and 2.5 again).
    if out
        .expose()
        .chars()
        .any(|c| is_prohibited(c) || (stored && crate::unassigned::is_unassigned(c)))
    {
        return Err(SaslPrepError);
    }
    // 2.4 bidirectional characters.
    check_bidi(out.expose())?;
    if out.expose() == s {
        Ok(Cow::Borrowed(s))
    } else {
        Ok(Cow::Owned(out.into_inner()))
    }
}

/// RFC 3454 section 6, rules 2 and 3 (rule 1, the C.8 characters, is part of
/// [`is_prohibited`]): "If a string contains any RandALCat character, the
/// string MUST NOT contain any LCat character", and "a RandALCat character
/// MUST be the first character of the string, and a RandALCat character MUST
/// be the last character of the string".
fn check_bidi(s: &str) -> Result<(), SaslPrepError> {
    let rand_al = |c: char| matches!(bidi_class(c), BidiClass::R | BidiClass::AL);
    if !s.chars().any(rand_al) {
        return Ok(());
    }
    let l_cat = s.chars().any(|c| bidi_class(c) == BidiClass::L);
    let ends = s.chars().next().is_some_and(rand_al) && s.chars().next_back().is_some_and(rand_al);
    if l_cat || !ends {
        return Err(SaslPrepError);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4013 section 3, all seven examples.
    #[test]
    fn rfc4013_examples() {
        assert_eq!(saslprep("I\u{00AD}X").unwrap(), "IX");
        assert_eq!(saslprep("user").unwrap(), "user");
        assert_eq!(saslprep("USER").unwrap(), "USER");
        assert_eq!(saslprep("\u{00AA}").unwrap(), "a");
        assert_eq!(saslprep("\u{2168}").unwrap(), "IX");
        assert_eq!(saslprep("\u{0007}"), Err(SaslPrepError));
        assert_eq!(saslprep("\u{0627}\u{0031}"), Err(SaslPrepError));
    }

    #[test]
    fn normalizes_to_nfkc() {
        // Decomposed e + combining acute composes; full-width letters and the
        // fi ligature fold to their plain forms.
        assert_eq!(saslprep("cafe\u{0301}").unwrap(), "caf\u{e9}");
        assert_eq!(saslprep("\u{FF30}\u{FF57}").unwrap(), "Pw");
        assert_eq!(saslprep("\u{FB01}x").unwrap(), "fix");
        // Mapping runs before normalization: a soft hyphen between the e and
        // its combining accent is removed, then the two compose.
        assert_eq!(saslprep("cafe\u{00AD}\u{0301}").unwrap(), "caf\u{e9}");
    }

    #[test]
    fn bidi_rules() {
        // Right-to-left only, starting and ending right-to-left: fine, and a
        // digit in the middle is allowed (class EN is neither R/AL nor L).
        assert!(saslprep("\u{05D0}\u{05D1}").is_ok());
        assert!(saslprep("\u{0627}1\u{0628}").is_ok());
        // A left-to-right letter next to a right-to-left one is refused.
        assert_eq!(saslprep("a\u{05D0}"), Err(SaslPrepError));
        assert_eq!(saslprep("\u{05D0}a\u{05D1}"), Err(SaslPrepError));
        // Right-to-left text must not start or end with another class.
        assert_eq!(saslprep("1\u{05D0}"), Err(SaslPrepError));
        // Left-to-right text is unaffected.
        assert!(saslprep("ab\u{e9}").is_ok());
    }

    #[test]
    fn prohibited_is_checked_after_normalization() {
        // U+2474 PARENTHESIZED DIGIT ONE normalizes to "(1)", fine; no
        // compatibility character here normalizes into a prohibited one, so
        // check the converse: a prohibited character stays refused even
        // next to characters that compose.
        assert_eq!(saslprep("\u{2474}").unwrap(), "(1)");
        assert_eq!(saslprep("e\u{0301}\u{0085}"), Err(SaslPrepError));
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

    /// The word-at-a-time octet classes against the octet-at-a-time ones,
    /// for every octet value in every position.
    #[test]
    fn word_classes_are_exact() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = [b'a'; 8];
                bytes[at] = b;
                let w = u64::from_le_bytes(bytes);
                let want = |hit: bool| if hit { 0x80u64 << (8 * at) } else { 0 };
                assert_eq!(
                    not_printable(w),
                    want(!(0x20..=0x7E).contains(&b)),
                    "{b:#x} at {at}"
                );
                assert_eq!(nul(w), want(b == 0), "{b:#x} at {at}");
            }
        }
        // All octets at once: the classes of neighbours do not leak.
        let mixed = u64::from_le_bytes([0, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xFF, 0x41]);
        assert_eq!(
            not_printable(mixed),
            u64::from_le_bytes([0x80, 0x80, 0, 0, 0x80, 0x80, 0x80, 0])
        );
        assert_eq!(nul(mixed), u64::from_le_bytes([0x80, 0, 0, 0, 0, 0, 0, 0]));
    }

    /// A string, for the comparisons below, of the characters where
    /// SASLprep's steps differ: printable ASCII (most of all), space, the
    /// ASCII controls and DEL, non-ASCII spaces (mapped to U+0020), the
    /// characters mapped to nothing, compatibility characters (NFKC),
    /// combining marks, prohibited ones (C.2 to C.9), right-to-left and
    /// left-to-right letters and digits (the bidi rule), unassigned code
    /// points, and any character at all.
    fn mixed() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let interesting = prop_oneof![
            6 => proptest::char::range(' ', '~'),
            1 => Just(' '),
            1 => proptest::char::range('\u{0}', '\u{1F}'),
            1 => Just('\u{7F}'),
            1 => prop::sample::select(vec!['\u{A0}', '\u{1680}', '\u{2000}', '\u{200A}', '\u{202F}', '\u{205F}', '\u{3000}']),
            1 => prop::sample::select(vec!['\u{AD}', '\u{34F}', '\u{1806}', '\u{180B}', '\u{200B}', '\u{200D}', '\u{2060}', '\u{FE00}', '\u{FE0F}', '\u{FEFF}']),
            1 => prop::sample::select(vec!['\u{AA}', '\u{2168}', '\u{FB01}', '\u{FF21}', '\u{2474}', '\u{301}', '\u{E9}', '\u{85}', '\u{9F}']),
            1 => prop::sample::select(vec!['\u{E000}', '\u{FDD0}', '\u{FFFF}', '\u{202E}', '\u{200E}', '\u{2FF0}', '\u{E0041}', '\u{1D173}', '\u{6DD}', '\u{10FFFD}']),
            1 => prop::sample::select(vec!['\u{5D0}', '\u{627}', '\u{661}', '\u{5BF}', '1', 'a', '\u{221}', '\u{378}']),
            1 => proptest::char::any(),
        ];
        proptest::collection::vec(interesting, 0..20).prop_map(|v| v.into_iter().collect())
    }

    proptest::proptest! {
        /// The printable-ASCII fast path agrees with the general path on
        /// every input, under both profiles: same result, same error.
        #[test]
        fn fast_path_is_the_general_path(s in mixed()) {
            for profile in [Profile::Query, Profile::Stored] {
                let fast = saslprep_with(&s, profile);
                let general = prepare(&s, profile);
                proptest::prop_assert_eq!(fast.as_deref(), general.as_deref());
                if fast.is_ok() && is_printable_ascii(s.as_bytes()) {
                    proptest::prop_assert!(matches!(fast, Ok(Cow::Borrowed(_))));
                }
            }
            let octets = s.as_bytes().iter().all(|b| (0x20..=0x7E).contains(b));
            proptest::prop_assert_eq!(is_printable_ascii(s.as_bytes()), octets);
        }

        /// Preparing a prepared string changes nothing: what a client sends
        /// after SASLprep is what the server's SASLprep keeps.
        #[test]
        fn idempotent(s in "\\PC{0,24}", extra in proptest::collection::vec(proptest::char::any(), 0..6)) {
            let mut s = s;
            s.extend(extra);
            if let Ok(once) = saslprep(&s) {
                let twice = saslprep(&once);
                proptest::prop_assert_eq!(twice.as_deref(), Ok(&*once));
            }
        }

        /// The stored-string profile is the query profile less the strings
        /// with an unassigned code point: whatever it takes, the query
        /// profile takes and prepares the same; what only the query profile
        /// takes holds a code point table A.1 lists.
        #[test]
        fn stored_is_query_without_unassigned(s in "\\PC{0,24}", extra in proptest::collection::vec(proptest::char::any(), 0..6)) {
            let mut s = s;
            s.extend(extra);
            let query = saslprep_with(&s, Profile::Query);
            match saslprep_with(&s, Profile::Stored) {
                Ok(stored) => proptest::prop_assert_eq!(query.as_deref(), Ok(&*stored)),
                Err(_) => proptest::prop_assert!(
                    query.is_err()
                        || s.chars().any(crate::unassigned::is_unassigned)
                        || query.is_ok_and(|q| q.chars().any(crate::unassigned::is_unassigned))
                ),
            }
        }
    }
}
