//! Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3).
//!
//! Printable US-ASCII except `&` stands for itself; `&` is `&-`; any other
//! run of characters is `&` + modified BASE64 (`,` instead of `/`, no
//! padding) of its UTF-16BE form + `-`.

use base64::Engine as _;
use base64::alphabet::Alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};

/// A name that is not valid modified UTF-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid modified UTF-7 at offset {offset}")]
pub struct Mutf7Error {
    /// Where the bad sequence starts.
    pub offset: usize,
}

fn engine() -> GeneralPurpose {
    // The alphabet literal is valid; `Alphabet::new` only fails on bad input.
    let alphabet = Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")
        .unwrap_or(base64::alphabet::STANDARD);
    GeneralPurpose::new(
        &alphabet,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(false),
    )
}

/// Encodes a Unicode mailbox name in modified UTF-7.
///
/// ```
/// assert_eq!(imap_proto::mutf7::encode("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
/// assert_eq!(imap_proto::mutf7::encode("a&b"), "a&-b");
/// ```
#[must_use]
pub fn encode(name: &str) -> String {
    let eng = engine();
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u8> = Vec::new();
    let flush = |run: &mut Vec<u8>, out: &mut String| {
        if !run.is_empty() {
            out.push('&');
            out.push_str(&eng.encode(&run[..]));
            out.push('-');
            run.clear();
        }
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                run.extend_from_slice(&u.to_be_bytes());
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Decodes a modified UTF-7 mailbox name.
///
/// # Errors
///
/// Bytes outside printable ASCII, a bad base64 run, an unpaired surrogate,
/// an encoded run of printable ASCII, or two adjacent encoded runs.
pub fn decode(name: &[u8]) -> Result<String, Mutf7Error> {
    let eng = engine();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    let mut last_run_end = usize::MAX;
    while i < name.len() {
        let c = name[i];
        if !(0x20..=0x7e).contains(&c) {
            return Err(Mutf7Error { offset: i });
        }
        if c != b'&' {
            out.push(char::from(c));
            i += 1;
            continue;
        }
        let end = memchr::memchr(b'-', &name[i + 1..]).ok_or(Mutf7Error { offset: i })? + i + 1;
        let b64 = &name[i + 1..end];
        if b64.is_empty() {
            out.push('&');
        } else {
            if last_run_end == i {
                return Err(Mutf7Error { offset: i });
            }
            let raw = eng.decode(b64).map_err(|_| Mutf7Error { offset: i })?;
            if raw.len() % 2 != 0 {
                return Err(Mutf7Error { offset: i });
            }
            let units: Vec<u16> = raw
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            for ch in char::decode_utf16(units) {
                let ch = ch.map_err(|_| Mutf7Error { offset: i })?;
                if (' '..='~').contains(&ch) {
                    return Err(Mutf7Error { offset: i });
                }
                out.push(ch);
            }
            last_run_end = end + 1;
        }
        i = end + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_example() {
        let wire = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        assert_eq!(decode(wire.as_bytes()).unwrap(), "~peter/mail/台北/日本語");
        assert_eq!(encode("~peter/mail/台北/日本語"), wire);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(decode(b"&-").unwrap(), "&");
        assert_eq!(encode("😀"), "&2D3eAA-");
        assert_eq!(decode(b"&2D3eAA-").unwrap(), "😀");
        assert!(decode(b"&AGE-").is_err(), "encoded ASCII");
        assert!(decode(b"&2D0-").is_err(), "lone surrogate");
        assert!(decode(b"&U,A").is_err(), "unterminated");
        assert!(decode("é".as_bytes()).is_err());
        assert!(decode(b"&U,BTFw-&ZeVnLIqe-").is_err(), "adjacent runs");
    }

    proptest::proptest! {
        #[test]
        fn round_trip(s in "\\PC{0,20}") {
            proptest::prop_assert_eq!(decode(encode(&s).as_bytes()).unwrap(), s);
        }
    }
}
