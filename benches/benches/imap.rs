//! IMAP codec: imap-proto (this workspace) next to imap-codec and djc's
//! imap-proto (renamed `djc-imap-proto`) on the same traces, in one run.
//!
//! Responses: FETCH with ENVELOPE and BODYSTRUCTURE, FETCH with large BODY[]
//! literals, LIST, SEARCH with thousands of numbers, and a mixed session.
//! Commands: a typical client session (SELECT, UID FETCH, UID SEARCH, STORE,
//! LIST, STATUS, COPY, ...); djc's crate has no command parser, so commands
//! are compared with imap-codec only. Ours includes framing (a `Framer` over
//! the receive buffer); the peers decode from the byte slice directly.

// Every contender takes the same owned input (report_ratio's setup value),
// though the peers only read it.
#![allow(clippy::needless_pass_by_value)]

use benches::report_ratio;
use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use imap_codec::decode::Decoder;
use imap_proto::{Command, Direction, Frame, Framer, Limits, Options, Response};

const ENVELOPE: &str = r#"ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")"#;
const BODYSTRUCTURE: &str = r#"BODYSTRUCTURE ((("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 2234 63 NIL NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 9831 124 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "b2_a1f0e9") NIL NIL NIL)("APPLICATION" "PDF" ("NAME" "report.pdf") NIL NIL "BASE64" 183422 NIL ("ATTACHMENT" ("FILENAME" "report.pdf")) NIL NIL)("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 5120 (NIL "Fwd: notes" (("Ann" NIL "ann" "example.com")) NIL NIL (("Bob" NIL "bob" "example.com")) NIL NIL NIL "<x@example.com>") ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 4000 80 NIL NIL NIL NIL) 100 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b1_a1f0e9") NIL NIL NIL)"#;

fn fetch_meta(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 1..=n {
        v.extend_from_slice(
            format!(
                "* {i} FETCH (UID {} FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE {} {ENVELOPE} {BODYSTRUCTURE})\r\n",
                i + 1000,
                4000 + i
            )
            .as_bytes(),
        );
    }
    v.extend_from_slice(b"a3 OK FETCH completed\r\n");
    v
}

fn fetch_bodies(n: usize, size: usize) -> Vec<u8> {
    let body = benches::mail_body(size);
    let mut v = Vec::new();
    for i in 1..=n {
        v.extend_from_slice(
            format!("* {i} FETCH (UID {} BODY[] {{{}}}\r\n", i + 1000, body.len()).as_bytes(),
        );
        v.extend_from_slice(&body);
        v.extend_from_slice(b" FLAGS (\\Seen))\r\n");
    }
    v.extend_from_slice(b"a4 OK FETCH completed\r\n");
    v
}

fn list(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        let attrs = if i % 3 == 0 {
            "\\HasChildren"
        } else {
            "\\HasNoChildren \\Marked"
        };
        v.extend_from_slice(
            format!(
                "* LIST ({attrs}) \"/\" \"Archive/{}/Folder {i}\"\r\n",
                2000 + i % 30
            )
            .as_bytes(),
        );
    }
    v.extend_from_slice(b"a5 OK LIST completed\r\n");
    v
}

fn search(n: usize) -> Vec<u8> {
    let mut v = b"* SEARCH".to_vec();
    for i in 0..n {
        v.extend_from_slice(format!(" {}", 3 * i + 1).as_bytes());
    }
    v.extend_from_slice(b"\r\na6 OK SEARCH completed\r\n");
    v
}

fn mixed() -> Vec<u8> {
    let mut v =
        b"* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN] ready\r\n"
            .to_vec();
    v.extend_from_slice(b"a1 OK [CAPABILITY IMAP4rev1 SORT THREAD=REFERENCES MOVE UIDPLUS] Logged in\r\n");
    v.extend_from_slice(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted.\r\n* 5000 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1357924680] UIDs valid\r\n* OK [UIDNEXT 6001] Predicted next UID\r\na2 OK [READ-WRITE] Select completed\r\n");
    v.extend_from_slice(&list(50));
    v.extend_from_slice(&fetch_meta(200));
    v.extend_from_slice(&search(2000));
    v.extend_from_slice(&fetch_bodies(5, 16 * 1024));
    v.extend_from_slice(b"* 12 EXPUNGE\r\n* 4999 EXISTS\r\n* STATUS \"Archive/2001\" (MESSAGES 231 UNSEEN 3 UIDNEXT 44292 UIDVALIDITY 1)\r\na7 OK done\r\n");
    v
}

fn commands() -> Vec<u8> {
    let mut v = Vec::new();
    let lines = [
        "a1 LOGIN \"fred.flintstone@example.com\" \"s3cr3t p4ss\"",
        "a2 SELECT INBOX",
        "a3 UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM TO CC SUBJECT MESSAGE-ID REFERENCES IN-REPLY-TO)])",
        "a4 UID SEARCH CHARSET UTF-8 OR (FROM \"smith\" SINCE 1-Feb-2024) (SUBJECT \"quarterly report\" NOT SEEN) UID 1:5000",
        "a5 UID STORE 4431,4433:4440 +FLAGS.SILENT (\\Seen $Forwarded)",
        "a6 LIST \"\" \"*\"",
        "a7 STATUS \"Archive/2023\" (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)",
        "a8 UID COPY 100:200,305,310:320 \"Archive/2024\"",
        "a9 FETCH 1:50 (FLAGS ENVELOPE BODYSTRUCTURE)",
        "a10 UID FETCH 4431 (BODY.PEEK[1.2]<0.65536> BODY.PEEK[TEXT])",
        "a11 EXAMINE \"Shared/Team Inbox\"",
        "a12 UID EXPUNGE 4431:4440",
        "a13 NOOP",
        "a14 SEARCH UNSEEN UNDELETED SENTSINCE 1-Jan-2024 LARGER 10000 HEADER \"List-Id\" \"dev.example.org\"",
        "a15 LSUB \"\" \"%\"",
        "a16 CREATE \"Projects/2024/Q3\"",
    ];
    for _ in 0..200 {
        for l in lines {
            v.extend_from_slice(l.as_bytes());
            v.extend_from_slice(b"\r\n");
        }
    }
    v
}

fn ours_responses(mut buf: BytesMut) -> usize {
    let o = Options::default();
    let limits = Limits::default();
    let mut f = Framer::new(Direction::ServerToClient, limits);
    let mut n = 0;
    while let Some(fr) = f.next(&mut buf) {
        if let Frame::Unit(u) = fr.expect("frames") {
            let r = Response::parse_unit(&u, &o).expect("parses");
            std::hint::black_box(&r);
            n += 1;
        }
    }
    n
}

fn codec_responses(buf: BytesMut) -> usize {
    let codec = imap_codec::ResponseCodec::default();
    let mut rest = &buf[..];
    let mut n = 0;
    while !rest.is_empty() {
        let (r, resp) = codec.decode(rest).expect("imap-codec parses the trace");
        std::hint::black_box(&resp);
        rest = r;
        n += 1;
    }
    n
}

fn djc_responses(buf: BytesMut) -> usize {
    let mut rest = &buf[..];
    let mut n = 0;
    while !rest.is_empty() {
        let (r, resp) = djc_imap_proto::Response::parse(rest).expect("djc imap-proto parses the trace");
        std::hint::black_box(&resp);
        rest = r;
        n += 1;
    }
    n
}

fn ours_commands(mut buf: BytesMut) -> usize {
    let o = Options::default();
    let mut f = Framer::new(Direction::ClientToServer, Limits::default());
    let mut n = 0;
    while let Some(fr) = f.next(&mut buf) {
        if let Frame::Unit(u) = fr.expect("frames") {
            let c = Command::parse_unit(&u, &o).expect("parses");
            std::hint::black_box(&c);
            n += 1;
        }
    }
    n
}

fn codec_commands(buf: BytesMut) -> usize {
    let codec = imap_codec::CommandCodec::default();
    let mut rest = &buf[..];
    let mut n = 0;
    while !rest.is_empty() {
        let (r, c) = codec.decode(rest).expect("imap-codec parses the commands");
        std::hint::black_box(&c);
        rest = r;
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let traces: [(&str, Vec<u8>); 5] = [
        ("fetch_envelope_bodystructure", fetch_meta(500)),
        ("fetch_body_literals_64KiB", fetch_bodies(40, 64 * 1024)),
        ("list", list(2000)),
        ("search_5000", search(5000)),
        ("mixed_session", mixed()),
    ];
    for (name, trace) in &traces {
        let setup = || BytesMut::from(&trace[..]);
        let n = ours_responses(setup());
        assert_eq!(n, codec_responses(setup()), "{name}: same number of responses");
        assert_eq!(n, djc_responses(setup()), "{name}: same number of responses");
        let mut g = c.benchmark_group(format!("imap_responses_{name}"));
        g.throughput(Throughput::Bytes(trace.len() as u64));
        g.sample_size(10);
        g.bench_function("imap-proto", |b| {
            b.iter_batched(setup, ours_responses, BatchSize::LargeInput);
        });
        g.bench_function("imap-codec", |b| {
            b.iter_batched(setup, codec_responses, BatchSize::LargeInput);
        });
        g.bench_function("djc-imap-proto", |b| {
            b.iter_batched(setup, djc_responses, BatchSize::LargeInput);
        });
        g.finish();
        report_ratio(
            &format!("imap responses {name} vs imap-codec"),
            trace.len(),
            15,
            setup,
            ours_responses,
            codec_responses,
        );
        report_ratio(
            &format!("imap responses {name} vs djc imap-proto"),
            trace.len(),
            15,
            setup,
            ours_responses,
            djc_responses,
        );
    }

    let trace = commands();
    let setup = || BytesMut::from(&trace[..]);
    assert_eq!(ours_commands(setup()), codec_commands(setup()));
    let mut g = c.benchmark_group("imap_commands_session");
    g.throughput(Throughput::Bytes(trace.len() as u64));
    g.sample_size(10);
    g.bench_function("imap-proto", |b| {
        b.iter_batched(setup, ours_commands, BatchSize::LargeInput);
    });
    g.bench_function("imap-codec", |b| {
        b.iter_batched(setup, codec_commands, BatchSize::LargeInput);
    });
    g.finish();
    report_ratio(
        "imap commands session vs imap-codec",
        trace.len(),
        15,
        setup,
        ours_commands,
        codec_commands,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
