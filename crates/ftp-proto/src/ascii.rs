//! TYPE A (RFC 959 3.1.1.1): the data connection carries lines ended by CRLF;
//! the local side uses LF. Both directions stream over chunks of any size.
//!
//! The encoder turns every LF into CRLF and leaves every other byte alone; the
//! decoder turns every CRLF into LF and keeps a CR that is not followed by LF.
//! So `decode(encode(x)) == x` for every `x`, and a CR that ends one chunk
//! waits for the next chunk before the decoder decides.

use bytes::BytesMut;
use memchr::memchr;

/// Network (CRLF) to local (LF) conversion.
#[derive(Debug, Clone, Default)]
pub struct AsciiDecoder {
    pending_cr: bool,
}

impl AsciiDecoder {
    /// A decoder at the start of a transfer.
    #[must_use]
    pub fn new() -> Self {
        AsciiDecoder::default()
    }

    /// Converts `input`, appending to `out`. A trailing CR is held back.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// let mut d = ftp_proto::AsciiDecoder::new();
    /// let mut out = BytesMut::new();
    /// d.decode(b"one\r", &mut out);
    /// d.decode(b"\ntwo\rx\r\n", &mut out);
    /// d.finish(&mut out);
    /// assert_eq!(&out[..], b"one\ntwo\rx\n");
    /// ```
    pub fn decode(&mut self, mut input: &[u8], out: &mut BytesMut) {
        if self.pending_cr {
            let Some(&first) = input.first() else { return };
            self.pending_cr = false;
            if first == b'\n' {
                out.extend_from_slice(b"\n");
                input = &input[1..];
            } else {
                out.extend_from_slice(b"\r");
            }
        }
        while let Some(i) = memchr(b'\r', input) {
            out.extend_from_slice(&input[..i]);
            match input.get(i + 1) {
                Some(b'\n') => {
                    out.extend_from_slice(b"\n");
                    input = &input[i + 2..];
                }
                Some(_) => {
                    out.extend_from_slice(b"\r");
                    input = &input[i + 1..];
                }
                None => {
                    self.pending_cr = true;
                    return;
                }
            }
        }
        out.extend_from_slice(input);
    }

    /// Ends the transfer: a CR held back is written as it was.
    pub fn finish(&mut self, out: &mut BytesMut) {
        if std::mem::take(&mut self.pending_cr) {
            out.extend_from_slice(b"\r");
        }
    }
}

/// Local (LF) to network (CRLF) conversion. Stateless, kept as a type for symmetry.
#[derive(Debug, Clone, Default)]
pub struct AsciiEncoder;

impl AsciiEncoder {
    /// An encoder.
    #[must_use]
    pub fn new() -> Self {
        AsciiEncoder
    }

    /// Converts `input`, appending to `out`: each LF becomes CRLF.
    pub fn encode(&mut self, mut input: &[u8], out: &mut BytesMut) {
        while let Some(i) = memchr(b'\n', input) {
            out.extend_from_slice(&input[..i]);
            out.extend_from_slice(b"\r\n");
            input = &input[i + 1..];
        }
        out.extend_from_slice(input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec_chunks(wire: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut d = AsciiDecoder::new();
        let mut out = BytesMut::new();
        let mut rest = wire;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes.get(i).copied().unwrap_or(1).clamp(1, rest.len());
            d.decode(&rest[..n], &mut out);
            rest = &rest[n..];
            i += 1;
        }
        d.finish(&mut out);
        out.to_vec()
    }

    #[test]
    fn cr_split_across_chunks() {
        assert_eq!(dec_chunks(b"a\r\nb\r", &[2, 1, 2]), b"a\nb\r");
        assert_eq!(dec_chunks(b"a\r\r\n", &[2, 1, 1]), b"a\r\n");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn round_trip_any_split(x in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), any::<u8>()], 0..64),
                                sizes in proptest::collection::vec(1usize..6, 0..64)) {
            let mut wire = BytesMut::new();
            AsciiEncoder::new().encode(&x, &mut wire);
            prop_assert_eq!(dec_chunks(&wire, &sizes), x.clone());
            prop_assert_eq!(dec_chunks(&wire, &[usize::MAX]), x);
        }
    }
}
