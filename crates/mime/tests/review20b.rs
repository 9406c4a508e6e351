//! Review of session 20, second pass over the mime crate: each test failed on the
//! code before its fix; the RFC rule it checks is quoted above it.

use mime::{DateError, DateTime};

// RFC 5322 section 3.3: `zone = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone`. A numeric
// zone of two or five digits is neither; it was read as offset 0 (or its first four
// digits) and the strict parse let it through as valid.
#[test]
fn numeric_zone_must_have_four_digits() {
    for v in [
        &b"Fri, 21 Nov 1997 09:55:06 +05"[..],
        b"Fri, 21 Nov 1997 09:55:06 -5",
        b"Fri, 21 Nov 1997 09:55:06 +05300",
        b"Fri, 21 Nov 1997 09:55:06 + (no digits)",
    ] {
        let text = String::from_utf8_lossy(v);
        match DateTime::parse_strict(v) {
            Err(DateError::InvalidZone { date }) => {
                // the date is kept, with "no information" about its zone
                assert_eq!(
                    (date.year, date.month, date.day, date.hour),
                    (1997, 11, 21, 9),
                    "{text}"
                );
                assert_eq!(date.offset_minutes, 0, "{text}");
                assert_eq!(DateTime::parse(v), Some(date), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    // four digits, with or without a comment after, are fine
    for v in [
        &b"Fri, 21 Nov 1997 09:55:06 +0530"[..],
        b"Fri, 21 Nov 1997 09:55:06 -0000 (unknown)",
        b"Fri, 21 Nov 1997 09:55:06 GMT",
    ] {
        assert!(
            DateTime::parse_strict(v).is_ok(),
            "{}",
            String::from_utf8_lossy(v)
        );
    }
    assert_eq!(
        DateTime::parse(b"21 Nov 1997 09:55:06 +0530")
            .unwrap()
            .offset_minutes,
        330
    );
    assert_eq!(
        DateTime::parse(b"21 Nov 1997 09:55:06 -0100")
            .unwrap()
            .offset_minutes,
        -60
    );
}
