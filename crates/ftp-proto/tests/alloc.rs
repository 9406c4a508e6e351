//! Reply parsing allocates nothing: `Reply` is a code and a slice borrowed from
//! the receive buffer. Measured with a counting global allocator (the
//! `allocation-counter` crate installs one in this test binary and counts the
//! measuring thread's allocations).
//!
//! One test only, so no other test thread runs while it measures.

use ftp_proto::reply::{parse_epsv, parse_pasv};
use ftp_proto::{Reply, ReplyConfig};

/// A stream of replies as a server sends them: single-line, multi-line FEAT and
/// STAT replies (with inner lines that start with digits), PASV and EPSV.
const WIRE: &[u8] = b"220 ftp.example.test ready\r\n\
331 Password required for alice\r\n\
230 Logged in\r\n\
211-Features:\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;perm*;\r\n REST STREAM\r\n SIZE\r\n UTF8\r\n AUTH TLS\r\n211 End\r\n\
227 Entering Passive Mode (127,0,0,1,195,80).\r\n\
229 Entering Extended Passive Mode (|||50001|)\r\n\
150 Opening BINARY mode data connection\r\n\
226 Transfer complete\r\n\
213-Status follows:\r\n211 is not the end here\r\n 226 nor this\r\n213 End of status\r\n\
257 \"/home/alice\" is the current directory\r\n\
421 Service not available, closing control connection\r\n";

/// Parses every reply of the stream and touches what a client looks at.
fn parse_stream(config: &ReplyConfig) -> usize {
    let mut seen = 0;
    let mut rest = WIRE;
    while let Some((reply, used)) = Reply::parse(rest, config).expect("valid replies") {
        seen += usize::from(reply.code()) + reply.lines().map(<[u8]>::len).sum::<usize>();
        let text = reply.text();
        seen += usize::from(parse_pasv(text).is_some()) + usize::from(parse_epsv(text).is_some());
        rest = &rest[used..];
    }
    assert!(rest.is_empty());
    seen
}

#[test]
fn parsing_replies_does_not_allocate() {
    // Sanity: the counter is live in this binary (a vacuous zero would prove nothing).
    let probe = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert_eq!(probe.count_total, 1, "the counting allocator is not installed");

    let config = ReplyConfig::default();
    let expected = parse_stream(&config);
    let mut seen = 0;
    let info = allocation_counter::measure(|| {
        for _ in 0..1000 {
            seen += parse_stream(std::hint::black_box(&config));
        }
    });
    assert_eq!(seen, expected * 1000);
    assert_eq!(
        info.count_total, 0,
        "reply parsing allocated {} times",
        info.count_total
    );
}
