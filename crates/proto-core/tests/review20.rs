//! Review 20 of proto-core: each test here failed on the code before its fix.

use proto_core::civil::{civil_from_days, days_from_civil, weekday};
use proto_core::transcript::Transcript;

// civil_from_days is documented as "the date of a day count since
// 1970-01-01" with no range restriction, and DESIGN.md says no panics on bad
// input. It added 719,468 to the count first, which overflowed (a panic in
// debug builds, a date from the far past in release) for the last 719,468
// values of i64.
#[test]
fn civil_from_days_takes_every_i64() {
    let top = civil_from_days(i64::MAX);
    let below = civil_from_days(i64::MAX - 1);
    assert!((1..=12).contains(&top.1) && (1..=31).contains(&top.2), "{top:?}");
    assert!(top.0 > 25_000_000_000_000_000, "{top:?} lies in the past");
    assert!(top > below, "{top:?} is not after {below:?}");
    // The extremes still round trip.
    for d in [
        i64::MAX,
        i64::MAX - 1,
        i64::MAX - 719_468,
        i64::MAX - 719_469,
        i64::MIN,
        i64::MIN + 1,
    ] {
        let (y, m, day) = civil_from_days(d);
        assert_eq!(days_from_civil(y, m, day), d, "{d}");
    }
}

// weekday takes any day count; (days + 4) overflowed for the top four values.
// 1970-01-01 (day 0) was a Thursday, so day i64::MAX is
// (i64::MAX mod 7 + 4) mod 7 = (0 + 4) mod 7 = 4, also a Thursday.
#[test]
fn weekday_takes_every_i64() {
    assert_eq!(i64::MAX % 7, 0);
    assert_eq!(weekday(i64::MAX), 4);
    assert_eq!(weekday(i64::MAX - 3), 1);
    assert_eq!(weekday(i64::MIN), (i64::MIN.rem_euclid(7) + 4) % 7);
}

// days_from_civil is valid "for any year an i64 day count can hold"; beyond
// that (and for months or days far out of range, which it documents it does
// not check) it must not panic: it saturates at the ends of i64. Before the
// fix `year - 1`, `month + 9`, `+ day` and `era * 146_097` overflowed.
#[test]
fn days_from_civil_saturates_instead_of_panicking() {
    assert_eq!(days_from_civil(i64::MIN, 1, 1), i64::MIN);
    assert_eq!(days_from_civil(i64::MAX, 6, 1), i64::MAX);
    // A month far out of range is not checked, but must not panic either.
    assert!(days_from_civil(2000, i64::MAX, 1) > days_from_civil(1999, 12, 31));
    assert_eq!(days_from_civil(2000, 1, i64::MAX), i64::MAX);
    // Exact wherever the count fits, even through a day far out of range.
    assert_eq!(
        days_from_civil(-5, 1, i64::MAX),
        days_from_civil(-5, 1, 1) + (i64::MAX - 1)
    );
    assert_eq!(
        days_from_civil(2000, 1, i64::MIN),
        days_from_civil(2000, 1, 1) - 1 + i64::MIN
    );
    assert_eq!(days_from_civil(-5, 1, i64::MIN), i64::MIN);
    // In range nothing changes.
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(-4713, 11, 24), -2_440_588);
}

// The transcript format's "only escape is \xHH (a byte in hex)" and parse
// refuses "a bad \x escape"; u8::from_str_radix also takes a leading '+', so
// "\x+1" was read as the byte 0x01 instead of being refused.
#[test]
fn transcript_escape_needs_two_hex_digits() {
    assert!(Transcript::parse("C: \\x+1").is_err());
    assert!(Transcript::parse("C: \\x+f").is_err());
    assert_eq!(
        Transcript::parse("C: \\x0A\\xff").unwrap().steps[0].bytes,
        b"\n\xff\r\n"
    );
}
