//! POP3 response decoding: RETR bodies and LIST/UIDL listings through
//! `pop3_proto::ClientSession`, next to the `pop3-codec` crate's parsers in
//! the same run, and RETR next to the bare `proto_core::DotDecoder` ceiling.
//!
//! pop3-codec parses a whole response from one complete buffer (its RETR body
//! comes back as a `Vec<String>` of lines, so it needs UTF-8; the body used
//! here is ASCII so that it can run at all) and leaves the stuffed dots in the
//! lines, so its closure removes them while counting to give the same answer;
//! ours streams `Bytes` chunks out of a session that was fed the same bytes.

use benches::{mail_body, report_ratio};
use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pop3_proto::{ClientConfig, ClientEvent, ClientSession, Credentials, TlsMode};
use proto_core::{DotDecoder, DotEncoder, DotEvent, Secret, Session};
use std::fmt::Write as _;
use std::time::Instant;

const BODY: usize = 8 << 20;
const LISTING: u32 = 20_000;

/// A client logged in over implicit TLS, with `command` sent.
fn client(command: impl FnOnce(&mut ClientSession)) -> ClientSession {
    let mut cfg = ClientConfig::new(Credentials {
        username: "bench".into(),
        password: Some(Secret::new("pw".into())),
        ..Credentials::default()
    });
    cfg.tls = TlsMode::Implicit;
    cfg.limits.max_listing_entries = 1 << 20;
    let mut c = ClientSession::new(cfg, Instant::now());
    c.handle_input(b"+OK ready\r\n+OK\r\nUSER\r\nUIDL\r\n.\r\n+OK\r\n+OK logged in\r\n");
    while let Some(ev) = c.poll_event().expect("login") {
        if matches!(ev, ClientEvent::LoggedIn(_)) {
            break;
        }
    }
    assert!(c.is_logged_in());
    command(&mut c);
    while let Some(out) = c.poll_transmit() {
        let n = out.len();
        c.advance_transmit(n);
    }
    c
}

fn retr_wire() -> Vec<u8> {
    let body = mail_body(BODY);
    let mut wire = BytesMut::new();
    let _ = write!(wire, "+OK {} octets\r\n", body.len());
    let mut enc = DotEncoder::new();
    enc.encode(&body, &mut wire).expect("clean body");
    enc.finish(&mut wire).expect("clean body");
    wire.to_vec()
}

fn list_wire() -> Vec<u8> {
    let mut w = format!("+OK {LISTING} messages\r\n");
    for i in 1..=LISTING {
        let _ = write!(w, "{i} {}\r\n", 1000 + (i * 7919) % 100_000);
    }
    w.push_str(".\r\n");
    w.into_bytes()
}

fn uidl_wire() -> Vec<u8> {
    let mut w = String::from("+OK\r\n");
    for i in 1..=LISTING {
        let _ = write!(
            w,
            "{i} {:016x}{:08x}\r\n",
            u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            i
        );
    }
    w.push_str(".\r\n");
    w.into_bytes()
}

/// Ours: the whole RETR answer through the session; returns body bytes.
fn ours_retr((mut c, wire): (ClientSession, BytesMut)) -> usize {
    c.handle_input_owned(wire);
    let mut n = 0;
    while let Some(ev) = c.poll_event().expect("valid") {
        match ev {
            ClientEvent::MessageData(d) => n += d.len(),
            ClientEvent::MessageEnd { .. } => break,
            _ => {}
        }
    }
    n
}

/// The ceiling: proto-core's DotDecoder over the body alone.
fn dot_ceiling((_, mut wire): (ClientSession, BytesMut)) -> usize {
    let status = wire.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1);
    let _ = wire.split_to(status);
    let mut dec = DotDecoder::new();
    let mut n = 0;
    while let Some(ev) = dec.decode(&mut wire).expect("clean") {
        match ev {
            DotEvent::Data(d) => n += d.len(),
            DotEvent::End => break,
        }
    }
    n
}

fn peer_retr((_, wire): (ClientSession, BytesMut)) -> usize {
    let (_, r) = pop3_codec::parse::response_retr(&wire).expect("pop3-codec parses RETR");
    match r {
        pop3_codec::types::Response::Ok(m) => m
            .body
            .iter()
            .map(|l| l.len() - usize::from(l.starts_with('.')) + 2)
            .sum(),
        pop3_codec::types::Response::Err(_) => 0,
    }
}

fn ours_listing((mut c, wire): (ClientSession, BytesMut)) -> usize {
    c.handle_input_owned(wire);
    while let Some(ev) = c.poll_event().expect("valid") {
        match ev {
            ClientEvent::Listing(v) => return v.len(),
            ClientEvent::UidListing(v) => return v.len(),
            _ => {}
        }
    }
    0
}

fn peer_list((_, wire): (ClientSession, BytesMut)) -> usize {
    match pop3_codec::parse::response_list_all(&wire)
        .expect("pop3-codec parses LIST")
        .1
    {
        pop3_codec::types::Response::Ok(m) => m.body.len(),
        pop3_codec::types::Response::Err(_) => 0,
    }
}

fn peer_uidl((_, wire): (ClientSession, BytesMut)) -> usize {
    match pop3_codec::parse::response_uidl_all(&wire)
        .expect("pop3-codec parses UIDL")
        .1
    {
        pop3_codec::types::Response::Ok(m) => m.body.len(),
        pop3_codec::types::Response::Err(_) => 0,
    }
}

fn bench(c: &mut Criterion) {
    let retr = retr_wire();
    let list = list_wire();
    let uidl = uidl_wire();
    let retr_setup = || (client(|c| c.retr(1).expect("retr")), BytesMut::from(&retr[..]));
    let list_setup = || (client(|c| c.list(None).expect("list")), BytesMut::from(&list[..]));
    let uidl_setup = || (client(|c| c.uidl(None).expect("uidl")), BytesMut::from(&uidl[..]));

    // Same answers from all three.
    assert_eq!(ours_retr(retr_setup()), dot_ceiling(retr_setup()));
    assert_eq!(ours_retr(retr_setup()), peer_retr(retr_setup()));
    assert_eq!(ours_listing(list_setup()), peer_list(list_setup()));
    assert_eq!(ours_listing(uidl_setup()), peer_uidl(uidl_setup()));

    let mut g = c.benchmark_group("pop3_retr_8MiB");
    g.throughput(Throughput::Bytes(retr.len() as u64));
    g.sample_size(10);
    g.bench_function("pop3_proto::ClientSession", |b| {
        b.iter_batched(retr_setup, ours_retr, BatchSize::PerIteration);
    });
    g.bench_function("proto_core::DotDecoder (ceiling)", |b| {
        b.iter_batched(retr_setup, dot_ceiling, BatchSize::PerIteration);
    });
    g.bench_function("pop3_codec::response_retr", |b| {
        b.iter_batched(retr_setup, peer_retr, BatchSize::PerIteration);
    });
    g.finish();

    let mut g = c.benchmark_group("pop3_listing_20k");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(list.len() as u64));
    g.bench_function("LIST pop3_proto::ClientSession", |b| {
        b.iter_batched(list_setup, ours_listing, BatchSize::PerIteration);
    });
    g.bench_function("LIST pop3_codec::response_list_all", |b| {
        b.iter_batched(list_setup, peer_list, BatchSize::PerIteration);
    });
    g.throughput(Throughput::Bytes(uidl.len() as u64));
    g.bench_function("UIDL pop3_proto::ClientSession", |b| {
        b.iter_batched(uidl_setup, ours_listing, BatchSize::PerIteration);
    });
    g.bench_function("UIDL pop3_codec::response_uidl_all", |b| {
        b.iter_batched(uidl_setup, peer_uidl, BatchSize::PerIteration);
    });
    g.finish();

    report_ratio(
        "pop3 RETR 8MiB ClientSession vs pop3-codec",
        retr.len(),
        31,
        retr_setup,
        ours_retr,
        peer_retr,
    );
    report_ratio(
        "pop3 RETR 8MiB ClientSession vs DotDecoder ceiling",
        retr.len(),
        31,
        retr_setup,
        ours_retr,
        dot_ceiling,
    );
    report_ratio(
        "pop3 LIST 20k ClientSession vs pop3-codec",
        list.len(),
        51,
        list_setup,
        ours_listing,
        peer_list,
    );
    report_ratio(
        "pop3 UIDL 20k ClientSession vs pop3-codec",
        uidl.len(),
        51,
        uidl_setup,
        ours_listing,
        peer_uidl,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
