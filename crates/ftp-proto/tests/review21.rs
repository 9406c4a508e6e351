//! Review session 21: gaps left open by earlier reviews, each test citing the
//! rule it checks. Every test here failed on the code before its fix (some at
//! compile time, where the fix had to add what the application needs).

use bytes::BytesMut;
use ftp_proto::{Command, Timestamp};

// ----- Gap 5: time-val encoder refuses what it cannot represent -----

// RFC 3659 2.3: "four digits giving the year, with a range of 1000--9999,
// two digits giving the month of the year, with a range of 01--12 ...
// Years in the tenth century, and earlier, cannot be expressed."
// `write_time_val` wrote year 10000 as "0000" (the low four digits) and a
// month 13 as "13": a wrong or invalid time on the wire, silently.
#[test]
fn write_time_val_refuses_times_outside_rfc3659() {
    let good = Timestamp::new(2024, 2, 29, 23, 59, 60).unwrap();
    let mut out = BytesMut::new();
    good.write_time_val(&mut out).unwrap();
    assert_eq!(&out[..], b"20240229235960");
    for bad in [
        Timestamp {
            year: 10000,
            month: 1,
            day: 1,
            ..Timestamp::default()
        },
        Timestamp {
            year: 999,
            month: 12,
            day: 31,
            ..Timestamp::default()
        },
        Timestamp {
            year: 2024,
            month: 13,
            day: 1,
            ..Timestamp::default()
        },
        Timestamp {
            year: 2023,
            month: 2,
            day: 29,
            ..Timestamp::default()
        },
    ] {
        let mut out = BytesMut::from(&b"x"[..]);
        assert!(bad.write_time_val(&mut out).is_err(), "{bad:?}");
        assert_eq!(&out[..], b"x", "nothing written for {bad:?}");
    }
}

// RFC 3659 2.3 (same range): an MFMT time of year 0999 is no time-val; the
// parser took it, so a server answered `213 Modify=09990101000000` for a
// time the encoder (`Command::encode`) refuses to send.
#[test]
fn mfmt_parse_refuses_years_before_1000() {
    assert!(Command::parse(b"MFMT 09990101000000 f").is_err());
    assert!(Command::parse(b"MFMT 00000101000000 f").is_err());
    assert!(matches!(
        Command::parse(b"MFMT 10000101000000 f"),
        Ok(Command::Mfmt { .. })
    ));
}
