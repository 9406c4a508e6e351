//! Review (session 22, third pass) of the mime crate: each test failed on the code
//! before its fix; the rule it checks is quoted above it.

use mime::{Base64Decoder, DefectKind, TransferEncoding, decode_body};

/// Decodes `enc` whole and split at every point; all must agree.
fn base64_everywhere(enc: &[u8]) -> (Vec<u8>, Vec<DefectKind>) {
    let whole = decode_body(enc, TransferEncoding::Base64);
    for cut in 0..=enc.len() {
        let mut d = Base64Decoder::new();
        let mut out = Vec::new();
        d.decode(&enc[..cut], &mut out);
        d.decode(&enc[cut..], &mut out);
        let defects = d.finish(&mut out);
        assert_eq!((&out, &defects), (&whole.0, &whole.1), "cut at {cut} of {enc:?}");
    }
    whole
}

// RFC 2045 section 6.8: "(2) the final quantum of encoding input is exactly 8 bits;
// here, the final unit of encoded output will be two characters followed by two "="
// padding characters, or (3) the final quantum of encoding input is exactly 16 bits;
// here, the final unit of encoded output will be three characters followed by one
// "=" padding character." A final unit with too few `=` (`YQ=`) was taken without a
// defect, though a unit with none (`YQ`) was reported; so was one with too many
// (`YWI==`, `YQ===`) and padding with no unit before it (`====`). Each is now
// InvalidBase64Padding; the bytes decoded stay the same.
#[test]
fn base64_padding_must_complete_the_final_unit() {
    for ok in [
        &b"YQ=="[..],
        b"YWI=",
        b"YWJj",
        b"YQ=\r\n=",
        b"Y Q = =",
        b"",
        b"\r\n",
    ] {
        let (_, defects) = base64_everywhere(ok);
        assert!(
            defects.is_empty(),
            "{:?}: {defects:?}",
            String::from_utf8_lossy(ok)
        );
    }
    for (bad, want) in [
        (&b"YQ="[..], &b"a"[..]),
        (b"YQ", b"a"),
        (b"YWI==", b"ab"),
        (b"YQ===", b"a"),
        (b"====", b""),
        (b"YWJj=", b"abc"),
        (b"YQ=YQ==", b"aa"),
        (b"YQ==YQ==", b"aa"),
    ] {
        let (out, defects) = base64_everywhere(bad);
        assert_eq!(out, want, "{:?}", String::from_utf8_lossy(bad));
        assert_eq!(
            defects,
            [DefectKind::InvalidBase64Padding],
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}
