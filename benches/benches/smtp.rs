//! smtp-proto next to Stalwart's smtp-proto crate, in the same run:
//!
//! * commands: a pipelined stream of a realistic command mix (EHLO, MAIL with
//!   SIZE/BODY, RCPT with NOTIFY/ORCPT, DATA, RSET, NOOP), framed and parsed;
//!   ours with `LineFramer::lines_with` + `Command::parse`, Stalwart's
//!   with its `RequestReceiver` (which also frames, from a borrowed slice);
//! * DATA: a dot-stuffed 8 MiB body up to CRLF.CRLF, arriving in 64 KiB
//!   reads; ours through a whole `ServerSession` (unstuffed chunks out as
//!   `Bytes`), Stalwart's with its `DataReceiver` into a `Vec`.
//!
//! For DATA both sides start from the received bytes in memory and end with
//! the unstuffed body (Stalwart's in its `Vec`, ours as `DataChunk`s that
//! the loop counts, as an application would consume them). The RATIO line
//! feeds our session through `handle_input_buf`, the zero-copy entry point
//! a driver uses with `read_buf` (the reads are owned `BytesMut`s, made in
//! the untimed setup as a socket read would fill them; Stalwart reads the
//! same bytes from a slice, which costs it nothing either). The criterion
//! group also times the copying `handle_input(&[u8])` path for comparison.

use benches::{mail_body, report_ratio};
use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use proto_core::{DotEncoder, LineConfig, LineFramer};
use smtp_proto::{Command, ServerConfig, ServerEvent, ServerSession};
use std::ops::ControlFlow;
use std::time::Instant;

fn command_stream(transactions: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..transactions {
        out.extend_from_slice(b"EHLO client-relay.mail.example.org\r\n");
        out.extend_from_slice(
            format!("MAIL FROM:<newsletter-bounces+{i}@lists.example.com> SIZE=48213 BODY=8BITMIME\r\n")
                .as_bytes(),
        );
        for r in 0..4 {
            out.extend_from_slice(
                format!(
                    "RCPT TO:<user{r}.name@destination-{i}.example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;user{r}.name@destination-{i}.example.net\r\n"
                )
                .as_bytes(),
            );
        }
        out.extend_from_slice(b"RCPT TO:<postmaster@example.net>\r\n");
        out.extend_from_slice(b"DATA\r\n");
        out.extend_from_slice(b"RSET\r\n");
        out.extend_from_slice(b"NOOP\r\n");
    }
    out
}

/// Frames with `LineFramer::lines_with`, which lends each line as a slice
/// of the buffer: the parsed command borrows from it and nothing needs to own
/// the line, so no `Bytes` (and no reference count) per line, and the buffer
/// is advanced once for all the pipelined lines. Same framing checks as
/// `next_line` (line limit, bare CR, bare LF). Each side passes its whole
/// parse result to `black_box` by reference, as it comes out of the parser.
fn ours_commands(mut buf: BytesMut) -> usize {
    let mut framer = LineFramer::new(LineConfig::with_max_len(12288));
    let mut n = 0;
    let stop: Option<()> = framer.lines_with(&mut buf, |line| {
        let parsed = Command::parse(line.expect("clean line"));
        std::hint::black_box(&parsed);
        if let Err(e) = parsed {
            panic!("{e:?}");
        }
        n += 1;
        ControlFlow::Continue(())
    });
    assert!(stop.is_none());
    n
}

fn peer_commands(input: &[u8]) -> usize {
    let mut rx = stalwart_smtp_proto::request::receiver::RequestReceiver::default();
    let mut it = input.iter();
    let mut n = 0;
    loop {
        let parsed = rx.ingest(&mut it);
        std::hint::black_box(&parsed);
        match parsed {
            Ok(_) => n += 1,
            Err(stalwart_smtp_proto::Error::NeedsMoreData { .. }) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    n
}

fn stuffed_body(size: usize) -> Vec<u8> {
    let body = mail_body(size);
    let mut wire = BytesMut::new();
    let mut enc = DotEncoder::new();
    enc.encode(&body, &mut wire).expect("clean body");
    enc.finish(&mut wire).expect("clean body");
    wire.to_vec()
}

/// A server session that has just answered DATA with 354.
fn session_in_data() -> ServerSession {
    let now = Instant::now();
    let cfg = ServerConfig {
        limits: smtp_proto::Limits {
            message_size: 0,
            ..smtp_proto::Limits::default()
        },
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, now);
    for line in [
        &b"EHLO c.example\r\n"[..],
        b"MAIL FROM:<a@example.test>\r\n",
        b"RCPT TO:<b@example.test>\r\n",
        b"DATA\r\n",
    ] {
        s.handle_input(line);
        while let Some(ev) = s.poll_event().expect("setup") {
            if matches!(ev, ServerEvent::Mail(_) | ServerEvent::Rcpt(_)) {
                s.accept().expect("pending");
            }
        }
    }
    while let Some(out) = s.poll_transmit() {
        let n = out.len();
        s.advance_transmit(n);
    }
    s
}

fn ours_data(mut s: ServerSession, wire: &[u8]) -> usize {
    let mut n = 0;
    // Fed as a socket would: 64 KiB reads.
    for piece in wire.chunks(64 * 1024) {
        s.handle_input(piece);
        while let Some(ev) = s.poll_event().expect("clean body") {
            match ev {
                ServerEvent::DataChunk(c) => n += c.len(),
                ServerEvent::DataEnd => return n,
                _ => {}
            }
        }
    }
    n
}

/// The body as a driver's reads: owned 64 KiB buffers.
fn reads(wire: &[u8]) -> Vec<BytesMut> {
    wire.chunks(64 * 1024).map(BytesMut::from).collect()
}

fn ours_data_owned(mut s: ServerSession, reads: Vec<BytesMut>) -> usize {
    let mut n = 0;
    for piece in reads {
        s.handle_input_buf(piece);
        while let Some(ev) = s.poll_event().expect("clean body") {
            match ev {
                ServerEvent::DataChunk(c) => n += c.len(),
                ServerEvent::DataEnd => return n,
                _ => {}
            }
        }
    }
    n
}

fn peer_data(wire: &[u8]) -> usize {
    let mut rx = stalwart_smtp_proto::request::receiver::DataReceiver::new();
    let mut buf = Vec::new();
    for piece in wire.chunks(64 * 1024) {
        let mut it = piece.iter();
        if rx.ingest(&mut it, &mut buf) {
            break;
        }
    }
    buf.len()
}

fn bench(c: &mut Criterion) {
    let cmds = command_stream(2000);
    assert_eq!(ours_commands(BytesMut::from(&cmds[..])), peer_commands(&cmds));
    let mut g = c.benchmark_group("smtp_commands");
    g.throughput(Throughput::Bytes(cmds.len() as u64));
    g.sample_size(20);
    g.bench_function("smtp-proto (ours)", |b| {
        // One fresh buffer right before each run, so that it is in cache as
        // after a socket read, like the slice Stalwart's side reads (a large
        // batch of 1.3 MB inputs made ahead would be out of cache).
        b.iter_batched(
            || BytesMut::from(&cmds[..]),
            ours_commands,
            BatchSize::PerIteration,
        );
    });
    g.bench_function("stalwart smtp-proto", |b| b.iter(|| peer_commands(&cmds)));
    g.finish();

    let wire = stuffed_body(8 << 20);
    assert_eq!(ours_data(session_in_data(), &wire), peer_data(&wire));
    assert_eq!(ours_data_owned(session_in_data(), reads(&wire)), peer_data(&wire));
    let mut g = c.benchmark_group("smtp_data_8MiB");
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.sample_size(20);
    g.bench_function("smtp-proto ServerSession handle_input_buf (ours)", |b| {
        b.iter_batched(
            || (session_in_data(), reads(&wire)),
            |(s, r)| ours_data_owned(s, r),
            BatchSize::PerIteration,
        );
    });
    g.bench_function("smtp-proto ServerSession handle_input, copying (ours)", |b| {
        b.iter_batched(session_in_data, |s| ours_data(s, &wire), BatchSize::PerIteration);
    });
    g.bench_function("stalwart DataReceiver", |b| b.iter(|| peer_data(&wire)));
    g.finish();

    report_ratio(
        "smtp_commands ours vs stalwart smtp-proto",
        cmds.len(),
        31,
        || BytesMut::from(&cmds[..]),
        ours_commands,
        |b| peer_commands(&b),
    );
    report_ratio(
        "smtp_data_8MiB ours (ServerSession, handle_input_buf) vs stalwart DataReceiver",
        wire.len(),
        21,
        || (session_in_data(), reads(&wire)),
        |(s, r)| ours_data_owned(s, r),
        |_| peer_data(&wire),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
