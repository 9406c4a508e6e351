//! Bugs found by differential testing against pop3-codec
//! (benches/tests/cross_impl.rs), each decided by the RFC text.

use bytes::Bytes;
use pop3_proto::StatusLine;

/// RFC 1939 section 7 (APOP): "A POP3 server which implements the APOP
/// command will include a timestamp in its banner greeting. The syntax of the
/// timestamp corresponds to the `msg-id' in [RFC822]" -- `"<" addr-spec ">"`,
/// which has an "@". Bracketed text without one (`<welcome>`) is not the
/// timestamp, and must not hide the msg-id that follows it: the client could
/// not use APOP with that server at all.
#[test]
fn apop_timestamp_after_other_bracketed_text_is_found() {
    let line = StatusLine::parse(&Bytes::from_static(
        b"+OK <welcome> ready <1896.697170952@dbc.mtview.ca.us>",
    ))
    .expect("greeting");
    assert_eq!(
        line.apop_timestamp().as_deref(),
        Some(&b"<1896.697170952@dbc.mtview.ca.us>"[..])
    );
    // The same with a stray '<' before it.
    let line = StatusLine::parse(&Bytes::from_static(b"+OK a < b says hi <1.2@host>")).expect("greeting");
    assert_eq!(line.apop_timestamp().as_deref(), Some(&b"<1.2@host>"[..]));
    // Still none when nothing bracketed holds an "@".
    let line = StatusLine::parse(&Bytes::from_static(b"+OK <a> <b> <c@d")).expect("greeting");
    assert_eq!(line.apop_timestamp(), None);
}
