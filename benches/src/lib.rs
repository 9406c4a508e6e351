//! Shared inputs for the criterion benchmarks in `benches/benches/`.
//!
//! Each bench measures a workspace crate next to the best peer crate in the
//! same run and prints the ratio (`ours / peer` throughput).
#![forbid(unsafe_code)]

use std::time::Duration;

/// A realistic mail body: `size` bytes of CRLF lines of mixed length, with
/// a few lines that start with "." (so dot-stuffing has work to do).
#[must_use]
pub fn mail_body(size: usize) -> Vec<u8> {
    let words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "lazy",
        "dog",
        "Received:",
        "from",
        "mail.example.test",
        "=?UTF-8?B?w6k=?=",
        "base64",
        "QUJDREVGR0hJSktMTU5PUA==",
    ];
    let mut out = Vec::with_capacity(size + 100);
    let mut seed = 0x2545_f491_u32;
    let mut line = String::new();
    while out.len() < size {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let w = words[(seed % words.len() as u32) as usize];
        if line.len() + w.len() > 72 || seed.is_multiple_of(97) {
            if seed.is_multiple_of(53) {
                line.insert(0, '.');
            }
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// Throughput in GB/s (10^9 bytes per second) for `bytes` processed in `time`.
#[must_use]
pub fn gbps(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / time.as_secs_f64() / 1e9
}

/// Times `ours` and `peer` alternately (`rounds` times each; each call must
/// do the whole job once on `bytes` input bytes), prints one
/// `RATIO <name>: ...` line with the medians, and returns `ours/peer` speed.
///
/// The closures get a fresh `setup()` value each round; setup time is not
/// counted. Criterion gives the detailed statistics; this line is the
/// side-by-side figure that the README table quotes.
pub fn report_ratio<S, T>(
    name: &str,
    bytes: usize,
    rounds: usize,
    mut setup: impl FnMut() -> S,
    mut ours: impl FnMut(S) -> T,
    mut peer: impl FnMut(S) -> T,
) -> f64 {
    let mut a = Vec::with_capacity(rounds);
    let mut b = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let s = setup();
        let t = std::time::Instant::now();
        std::hint::black_box(ours(s));
        a.push(t.elapsed());
        let s = setup();
        let t = std::time::Instant::now();
        std::hint::black_box(peer(s));
        b.push(t.elapsed());
    }
    let (ma, mb) = (median(a), median(b));
    let ratio = mb.as_secs_f64() / ma.as_secs_f64();
    println!(
        "RATIO {name}: ours {:.3} GB/s ({ma:?}), peer {:.3} GB/s ({mb:?}), ours/peer speed {ratio:.2}x",
        gbps(bytes, ma),
        gbps(bytes, mb),
    );
    ratio
}

/// The median of some timings (the upper one of the middle two for an even
/// count; `Duration::ZERO` for none).
#[must_use]
pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
