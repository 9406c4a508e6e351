//! Session 22: the APOP shared secret is a stored string.

use pop3_proto::{ServerConfig, ServerSession};
use std::time::Instant;

/// RFC 6856 2.2 has the server apply SASLprep to the password an APOP
/// digest is computed over. That password is the one the server keeps, a
/// database string: RFC 4616 section 4 (and RFC 3454 section 7) prepare
/// such strings as "stored" strings, which prohibits unassigned code points
/// (RFC 4013 section 2.5, table A.1 of RFC 3454). `check_apop` prepared the
/// secret as a query and accepted a digest over one holding U+0221, which
/// Unicode 3.2 had not assigned.
#[test]
fn check_apop_prepares_the_secret_as_a_stored_string() {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.utf8 = true;
    cfg.utf8_user = true;
    cfg.apop_timestamp = Some("<1896.697170952@dbc.mtview.ca.us>".into());
    let s = ServerSession::new(cfg, Instant::now());
    let ts = b"<1896.697170952@dbc.mtview.ca.us>";
    let secret = "p\u{e4}ss\u{0221}".as_bytes();
    let digest = pop3_proto::apop_digest(ts, secret);
    assert!(
        !s.check_apop(&digest, secret),
        "a stored secret with an unassigned code point was used"
    );
    // An assigned non-ASCII secret still works, prepared on both sides.
    let digest = pop3_proto::apop_digest(ts, "p\u{e4}ss".as_bytes());
    assert!(s.check_apop(&digest, "pa\u{308}ss".as_bytes()));
}
