//! Review 23: HELO and address literals, enhanced status codes with leading
//! zeros, ESMTP parameters in a HELO session, and the issue 5 audit. Each
//! test quotes the RFC rule it checks; the fixes' tests failed on the code
//! as it was before them.

use bytes::Bytes;
use smtp_proto::{EnhancedCode, Reply};

/// RFC 3463 2: "Each numeric sub-code within the status-code MUST be
/// expressed without leading zero digits." `2.01.0` is no enhanced status
/// code: the reply text keeps it.
#[test]
fn enhanced_codes_with_leading_zeros_are_text() {
    for bad in [
        &b"2.01.0 Ok"[..],
        b"2.1.00 Ok",
        b"2.00.0 Ok",
        b"2.001.1 Ok",
        b"5.1.01",
    ] {
        assert_eq!(
            EnhancedCode::parse_prefix(bad),
            None,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    for (good, e) in [
        (&b"2.0.0 Ok"[..], EnhancedCode(2, 0, 0)),
        (b"2.10.0 Ok", EnhancedCode(2, 10, 0)),
        (b"5.7.100 Ok", EnhancedCode(5, 7, 100)),
        (b"4.100.0", EnhancedCode(4, 100, 0)),
    ] {
        assert_eq!(EnhancedCode::parse_prefix(good).map(|(c, _)| c), Some(e));
    }
    let (r, _) = Reply::parse(b"250 2.01.0 Ok\r\n").unwrap().unwrap();
    assert_eq!(r.enhanced(), None);
    assert_eq!(r.lines(), &[Bytes::from_static(b"2.01.0 Ok")]);
    // A continuation line's prefix is taken off only when it is the same
    // code, written the same way.
    let (r, _) = Reply::parse(b"250-2.1.0 a\r\n250 2.01.0 b\r\n").unwrap().unwrap();
    assert_eq!(r.enhanced(), Some(EnhancedCode(2, 1, 0)));
    assert_eq!(r.lines()[1], Bytes::from_static(b"2.01.0 b"));
    assert_eq!(
        r.to_vec().unwrap(),
        b"250-2.1.0 a\r\n250 2.1.0 2.01.0 b\r\n".to_vec()
    );
}

/// The encoder does not write a first line, without enhanced code, that
/// starts like an enhanced code with leading zeros: a reader that is less
/// strict than RFC 3463 2 would take `2.01.0` for the code `2.1.0`.
#[test]
fn encoder_refuses_text_that_looks_like_a_zero_padded_code() {
    for text in ["2.01.0 Ok", "2.1.00", "2.000.0 x"] {
        let r = Reply::new(250, None, text);
        assert!(r.to_vec().is_err(), "{text:?}");
        assert!(r.check(512).is_err(), "{text:?}");
        // Behind a real enhanced code, the same text is fine.
        let r = Reply::new(250, Some(EnhancedCode(2, 1, 0)), text);
        assert_eq!(r.to_vec().unwrap(), format!("250 2.1.0 {text}\r\n").into_bytes());
    }
    // Another class is not read as a code of this reply (as before).
    assert!(Reply::new(550, None, "2.01.0 x").to_vec().is_ok());
}
