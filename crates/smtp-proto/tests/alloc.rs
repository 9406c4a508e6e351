//! No heap allocation per parsed command, and none per server transaction in
//! steady state, measured with a counting global allocator (the
//! `allocation-counter` crate installs one in this test binary and counts the
//! allocations of the measuring thread).
//!
//! One test only, so no other test thread runs while it measures.

use bytes::BytesMut;
use proto_core::{LineConfig, LineFramer};
use smtp_proto::{Command, ForwardPath, ReversePath};

/// A realistic mix: every verb, MAIL/RCPT with typed and unknown parameters,
/// address literals, quoted local parts, source routes, UTF-8 with SMTPUTF8.
const LINES: &[&[u8]] = &[
    b"EHLO client-relay.mail.example.org",
    b"HELO relay.example.org",
    b"LHLO [IPv6:2001:db8::1]",
    b"MAIL FROM:<newsletter-bounces+1234@lists.example.com> SIZE=48213 BODY=8BITMIME",
    b"MAIL FROM:<> RET=HDRS ENVID=QQ314159+2B1 AUTH=<> REQUIRETLS MT-PRIORITY=-3 X-FOO=bar",
    b"MAIL FROM:<@relay.one,@relay.two:\"john doe\"@[IPv6:2001:db8::2]> BODY=BINARYMIME",
    "MAIL FROM:<j\u{f6}rg@b\u{fc}cher.example> SMTPUTF8 BODY=8BITMIME".as_bytes(),
    b"RCPT TO:<user0.name@destination-1.example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;user0.name@destination-1.example.net",
    b"RCPT TO:<Postmaster>",
    b"RCPT TO:<postmaster@example.net> NOTIFY=NEVER X-UNKNOWN",
    b"DATA",
    b"BDAT 1048576",
    b"BDAT 0 LAST",
    b"RSET",
    b"VRFY Smith",
    b"EXPN Example-People",
    b"HELP MAIL",
    b"NOOP",
    b"QUIT",
    b"STARTTLS",
    b"AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
    b"AUTH SCRAM-SHA-256",
    b"ETRN @example.net",
];

/// Parses every line and touches what a server looks at, so nothing is optimised away.
fn parse_all(rounds: usize) -> usize {
    let mut seen = 0;
    for _ in 0..rounds {
        for line in LINES {
            let cmd = Command::parse(line).expect("valid command");
            seen += match cmd {
                Command::Mail { from, params } => {
                    let lp = match from {
                        ReversePath::Mailbox(m) => m.local_part.len(),
                        ReversePath::Null => 0,
                    };
                    lp + params.other.iter().count() + usize::from(params.size.is_some())
                }
                Command::Rcpt { to, params } => {
                    let lp = match to {
                        ForwardPath::Mailbox(m) => m.local_part.len(),
                        ForwardPath::Postmaster => 1,
                    };
                    lp + params.other.iter().count() + usize::from(params.notify.is_some())
                }
                other => usize::from(std::hint::black_box(other) != Command::Data),
            };
        }
    }
    seen
}

fn stream(copies: usize) -> BytesMut {
    let mut wire = BytesMut::new();
    for _ in 0..copies {
        for line in LINES {
            wire.extend_from_slice(line);
            wire.extend_from_slice(b"\r\n");
        }
    }
    wire
}

/// Frames and parses a whole pipelined stream; returns the number of commands.
fn frame_and_parse(mut wire: BytesMut) -> usize {
    let mut framer = LineFramer::new(LineConfig::with_max_len(12288));
    let mut n = 0;
    while let Some(line) = framer.next_line(&mut wire) {
        let line = line.expect("clean line");
        std::hint::black_box(Command::parse(&line).expect("valid command"));
        n += 1;
    }
    n
}

#[test]
fn parsing_and_serving_do_not_allocate() {
    // Sanity: the counter is live in this binary (a vacuous zero would prove nothing).
    let probe = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert_eq!(probe.count_total, 1, "the counting allocator is not installed");

    // Parsing alone: not one allocation for 1000 rounds of the whole mix.
    let expected = parse_all(1);
    let mut seen = 0;
    let info = allocation_counter::measure(|| seen = parse_all(1000));
    assert_eq!(seen, expected * 1000);
    assert_eq!(
        info.count_total,
        0,
        "parsing {} commands allocated {} times ({} bytes)",
        LINES.len() * 1000,
        info.count_total,
        info.bytes_total
    );

    // Framing (LineFramer hands out `Bytes` slices of the receive buffer) and
    // parsing a pipelined stream: the allocations do not grow with the number
    // of commands (the buffer's one-time switch to shared storage at most).
    for copies in [10, 1000] {
        let wire = stream(copies);
        let mut n = 0;
        let info = allocation_counter::measure(|| n = frame_and_parse(wire));
        assert_eq!(n, LINES.len() * copies);
        assert!(
            info.count_total <= 2,
            "framing and parsing {n} commands allocated {} times",
            info.count_total
        );
    }

    // A whole server transaction in steady state (MAIL, two RCPTs, DATA, a
    // dot-stuffed body, each decision accepted with the default reply, the
    // replies read out): not one allocation either.
    let mut s =
        smtp_proto::ServerSession::new(smtp_proto::ServerConfig::default(), std::time::Instant::now());
    s.handle_input(b"EHLO c.example\r\n");
    while s.poll_event().expect("EHLO").is_some() {}
    while let Some(out) = s.poll_transmit() {
        let k = out.len();
        s.advance_transmit(k);
    }
    // Warm-up: the buffers reach their working size.
    let one = transaction(&mut s);
    for _ in 0..9 {
        assert_eq!(transaction(&mut s), one);
    }
    let mut total = 0;
    let info = allocation_counter::measure(|| {
        for _ in 0..100 {
            total += transaction(&mut s);
        }
    });
    assert_eq!(total, one * 100);
    assert_eq!(
        info.count_total, 0,
        "100 server transactions allocated {} times ({} bytes)",
        info.count_total, info.bytes_total
    );
}

/// One whole transaction through a server session, replies read out.
fn transaction(s: &mut smtp_proto::ServerSession) -> usize {
    use smtp_proto::ServerEvent;
    let mut n = 0;
    for line in [
        &b"MAIL FROM:<a@example.test> SIZE=100\r\n"[..],
        b"RCPT TO:<b@example.test>\r\n",
        b"RCPT TO:<c@example.test>\r\n",
        b"DATA\r\n",
        b"Subject: x\r\n\r\nhello\r\n..dot\r\n.\r\n",
    ] {
        s.handle_input(line);
        while let Some(ev) = s.poll_event().expect("clean input") {
            match ev {
                ServerEvent::Mail(_) | ServerEvent::Rcpt(_) | ServerEvent::DataEnd => {
                    s.accept().expect("pending");
                }
                ServerEvent::DataChunk(c) => n += c.len(),
                _ => {}
            }
        }
        while let Some(out) = s.poll_transmit() {
            n += out.len();
            let k = out.len();
            s.advance_transmit(k);
        }
    }
    n
}
