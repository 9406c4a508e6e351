//! Bugs found by differential testing against Stalwart's smtp-proto
//! (benches/tests/cross_impl.rs), each decided by the RFC text.

use smtp_proto::{Command, Notify};

/// RFC 3461 section 4.1: `notify-esmtp-value = "NEVER" / 1#notify-list-element`
/// in RFC 822 ABNF, whose `#` rule is a plain comma-separated list, and "Multiple
/// notify-list-elements, separated by commas, MAY appear in a NOTIFY
/// parameter; however, the NEVER keyword MUST appear by itself." Only NEVER is
/// restricted; a keyword given twice is a valid value meaning the same as once,
/// and must not be refused with 501.
#[test]
fn notify_with_a_repeated_keyword_is_valid() {
    for (line, want) in [
        (
            &b"RCPT TO:<bob@example.net> NOTIFY=SUCCESS,SUCCESS"[..],
            Notify {
                success: true,
                failure: false,
                delay: false,
            },
        ),
        (
            b"RCPT TO:<bob@example.net> NOTIFY=delay,FAILURE,Delay",
            Notify {
                success: false,
                failure: true,
                delay: true,
            },
        ),
    ] {
        let Ok(Command::Rcpt { params, .. }) = Command::parse(line) else {
            panic!("{} refused", String::from_utf8_lossy(line));
        };
        assert_eq!(params.notify, Some(want), "{}", String::from_utf8_lossy(line));
    }
    // NEVER still has to stand alone, even repeated.
    assert!(Command::parse(b"RCPT TO:<bob@example.net> NOTIFY=NEVER,NEVER").is_err());
    assert!(Command::parse(b"RCPT TO:<bob@example.net> NOTIFY=SUCCESS,,FAILURE").is_err());
}
