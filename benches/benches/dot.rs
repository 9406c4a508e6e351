//! DotDecoder throughput on a 32 MiB stuffed body, next to the physical
//! ceiling: one `memchr::memmem` scan of the same bytes for the terminator.

use benches::{mail_body, report_ratio};
use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use proto_core::{DotDecoder, DotEncoder, DotEvent};

fn wire_body() -> Vec<u8> {
    let body = mail_body(32 << 20);
    let mut wire = BytesMut::new();
    let mut enc = DotEncoder::new();
    enc.encode(&body, &mut wire).expect("clean body");
    enc.finish(&mut wire).expect("clean body");
    wire.to_vec()
}

fn decode_all(mut buf: BytesMut) -> usize {
    let mut dec = DotDecoder::new();
    let mut n = 0;
    while let Some(ev) = dec.decode(&mut buf).expect("clean body") {
        match ev {
            DotEvent::Data(d) => n += d.len(),
            DotEvent::End => break,
        }
    }
    n
}

fn memmem_scan(buf: &[u8]) -> usize {
    memchr::memmem::find(buf, b"\r\n.\r\n").unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let wire = wire_body();
    let mut g = c.benchmark_group("dot_decode_32MiB");
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.sample_size(20);
    g.bench_function("proto_core::DotDecoder", |b| {
        b.iter_batched(|| BytesMut::from(&wire[..]), decode_all, BatchSize::PerIteration);
    });
    // Same setup as the decoder (a fresh copy of the body each iteration), so
    // both read memory in the same state.
    g.bench_function("memchr::memmem scan (ceiling)", |b| {
        b.iter_batched(
            || BytesMut::from(&wire[..]),
            |buf| memmem_scan(&buf),
            BatchSize::PerIteration,
        );
    });
    g.finish();

    let mut enc_out = BytesMut::with_capacity(wire.len() + 1024);
    let body = mail_body(32 << 20);
    let mut g = c.benchmark_group("dot_encode_32MiB");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.sample_size(20);
    g.bench_function("proto_core::DotEncoder", |b| {
        b.iter(|| {
            enc_out.clear();
            let mut enc = DotEncoder::new();
            enc.encode(&body, &mut enc_out).expect("clean");
            enc.finish(&mut enc_out).expect("clean");
            enc_out.len()
        });
    });
    g.finish();

    report_ratio(
        "dot_decode_32MiB DotDecoder vs memmem ceiling",
        wire.len(),
        21,
        || BytesMut::from(&wire[..]),
        decode_all,
        |b| memmem_scan(&b),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
