//! Review 24 of proto-core: the dot-stuffing decoder and the line framer
//! against simple reference models written here from their docs (RFC 5321
//! 4.1.1.4, 4.5.2 and 2.3.8), at SIMD block and group edges and every start
//! address modulo 64; `SmallBytes`, `civil`, `Secret`, the session helpers
//! and the transcript parser against their docs.

mod common;
use bytes::{Buf, Bytes, BytesMut};
use common::{Lines, each_string};
use proptest::prelude::*;
use proto_core::civil::{civil_from_days, days_from_civil, days_in_month, is_leap_year, weekday};
use proto_core::dot::checks;
use proto_core::transcript::{Side, Transcript};
use proto_core::{
    BareLineEndings, Deadline, DotDecoder, DotEncoder, DotError, DotEvent, LineConfig, LineError, LineFramer,
    Secret, SmallBytes, TransmitQueue, earliest,
};
use std::time::{Duration, Instant};

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const DOT: u8 = b'.';
use common::ALPHABET;

/// `bytes` in a `BytesMut` whose first byte lies at an address equal to
/// `start` modulo 64, with room to grow without moving.
fn aligned(bytes: &[u8], start: usize) -> BytesMut {
    let mut buf = BytesMut::with_capacity(bytes.len() + 256);
    let base = buf.as_ptr() as usize;
    let k = (start + 64 - base % 64) % 64;
    buf.extend_from_slice(&vec![b'#'; k]);
    buf.extend_from_slice(bytes);
    buf.advance(k);
    assert_eq!(buf.as_ptr() as usize % 64, start % 64);
    buf
}

// ---------------------------------------------------------------------------
// Dot-stuffing: reference model
// ---------------------------------------------------------------------------

/// What a decoder run over a whole body reports.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DotRun {
    body: Vec<u8>,
    ended: bool,
    /// Bytes after the terminator, or the undecided tail held back.
    rest: Vec<u8>,
    /// The one error reported (the first bare CR or LF).
    error: Option<DotError>,
    consumed: u64,
    bare_count: u64,
}

/// Byte-at-a-time model of RFC 5321 4.5.2 as the module docs state it: the
/// body starts at a line start after CRLF; a "." after any LF is removed,
/// except "." CR LF after CR LF, which ends the body; under `Reject` every
/// CR not followed by LF and every LF not preceded by CR is a bare line
/// ending (the first one reported, at its raw offset, all counted), and a
/// CR that ends the input waits for the byte after it.
fn dot_reference(input: &[u8], policy: BareLineEndings) -> DotRun {
    let strict = policy == BareLineEndings::Reject;
    let mut run = DotRun {
        body: Vec::new(),
        ended: false,
        rest: Vec::new(),
        error: None,
        consumed: 0,
        bare_count: 0,
    };
    let (mut q2, mut q) = (CR, LF);
    let mut i = 0;
    while i < input.len() {
        let d = input[i];
        if q == LF && d == DOT && q2 == CR {
            match (input.get(i + 1), input.get(i + 2)) {
                (Some(&CR), Some(&LF)) => {
                    run.ended = true;
                    run.rest = input[i + 3..].to_vec();
                    run.consumed = i as u64 + 3;
                    return run;
                }
                (None, _) | (Some(&CR), None) => {
                    run.rest = input[i..].to_vec();
                    run.consumed = i as u64;
                    return run;
                }
                _ => {}
            }
        }
        if strict {
            let bare = if q == CR && d != LF {
                Some(DotError::BareCr { offset: i as u64 - 1 })
            } else if d == LF && q != CR {
                Some(DotError::BareLf { offset: i as u64 })
            } else {
                None
            };
            if let Some(e) = bare {
                run.bare_count += 1;
                if run.error.is_none() {
                    run.error = Some(e);
                }
            }
        }
        if !(q == LF && d == DOT) {
            run.body.push(d);
        }
        (q2, q) = (q, d);
        i += 1;
    }
    run.consumed = input.len() as u64;
    if strict && q == CR && q2 != CR {
        // Bare or not by the byte after it: kept back until that comes
        // (unless it shows the CR before it is bare: handed out with that error).
        run.body.pop();
        run.rest = vec![CR];
        run.consumed -= 1;
    }
    run
}

/// Unstuffed body bytes that the raw bytes `input[..n]` make (no terminator among them).
fn body_len_before(input: &[u8], n: usize) -> usize {
    let mut q = LF;
    let mut len = 0;
    for &d in &input[..n] {
        if !(q == LF && d == DOT) {
            len += 1;
        }
        q = d;
    }
    len
}

/// Runs a fresh decoder over `pieces`, the buffer starting at `start` mod 64.
fn dot_run(policy: BareLineEndings, pieces: &[&[u8]], start: usize) -> DotRun {
    let mut dec = DotDecoder::with_policy(policy);
    dot_run_with(&mut dec, pieces, start)
}

fn dot_run_with(dec: &mut DotDecoder, pieces: &[&[u8]], start: usize) -> DotRun {
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    let mut buf = aligned(&[], start);
    buf.reserve(total + 8);
    let mut run = DotRun {
        body: Vec::new(),
        ended: false,
        rest: Vec::new(),
        error: None,
        consumed: 0,
        bare_count: 0,
    };
    for piece in pieces {
        buf.extend_from_slice(piece);
        if run.ended {
            continue;
        }
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(DotEvent::Data(d))) => {
                    assert!(!d.is_empty(), "empty Data event");
                    run.body.extend_from_slice(&d);
                }
                Ok(Some(DotEvent::End)) => {
                    run.ended = true;
                    assert!(dec.is_ended());
                    break;
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(run.error.is_none(), "second error {e:?} after {:?}", run.error);
                    run.error = Some(e);
                    // Reported before the data holding the offending byte.
                    let (DotError::BareCr { offset } | DotError::BareLf { offset }) = e else {
                        unreachable!()
                    };
                    let all = pieces.concat();
                    let bound = body_len_before(
                        &all,
                        offset as usize + usize::from(matches!(e, DotError::BareCr { .. })),
                    );
                    assert!(run.body.len() <= bound, "{e:?} after {:?}", run.body);
                }
            }
        }
        if !run.ended {
            assert!(buf.len() <= 2, "decoder held back {} bytes", buf.len());
        }
    }
    // Once ended, decode returns nothing more and leaves the buffer alone.
    if run.ended {
        let before = buf.len();
        assert_eq!(dec.decode(&mut buf), Ok(None));
        assert_eq!(buf.len(), before);
    }
    run.rest = buf.to_vec();
    run.consumed = dec.consumed();
    run.bare_count = dec.bare_count();
    run
}

fn check_dot(input: &[u8], start: usize) {
    for policy in [BareLineEndings::Reject, BareLineEndings::Normalize] {
        let want = dot_reference(input, policy);
        let got = dot_run(policy, &[input], start);
        assert_eq!(
            got,
            want,
            "{policy:?} at {start} on {:?}",
            Bytes::copy_from_slice(input)
        );
    }
}

/// Clean base texts of `len` bytes: all 'a', and CRLF lines of 'a's.
fn bases(len: usize) -> [Vec<u8>; 2] {
    let plain = vec![b'a'; len];
    let mut lines = Vec::with_capacity(len);
    while lines.len() < len {
        lines.extend_from_slice(b"abcdefghijklm\r\n");
    }
    lines.truncate(len);
    [plain, lines]
}

// DotDecoder's docs: under `Reject` "the first bare CR or LF makes decode
// return Err once, *before* the data holding it is returned" (RFC 5321
// 2.3.8: a CR only ever comes with its LF). A CR that ended one read was
// handed out as data at once, and only when the next read showed it was
// bare did the error come: the caller had already been given (and an SMTP
// server had passed on) the bare CR. The decoder now keeps a CR that ends
// the data it has until the next byte shows whether its LF follows.
#[test]
fn bare_cr_at_the_end_of_a_read_is_reported_before_it_is_handed_out() {
    let mut dec = DotDecoder::new();
    let mut buf = BytesMut::from(&b"ab\r"[..]);
    let mut body = Vec::new();
    while let Some(DotEvent::Data(d)) = dec.decode(&mut buf).unwrap() {
        body.extend_from_slice(&d);
    }
    buf.extend_from_slice(b"x\r\n.\r\n");
    assert_eq!(dec.decode(&mut buf), Err(DotError::BareCr { offset: 2 }));
    assert!(
        !body.contains(&CR),
        "the bare CR was handed out before its error: {body:?}"
    );
    // The same CR followed by its LF is no error, and no byte is lost.
    let run = dot_run(BareLineEndings::Reject, &[b"ab\r", b"\nc\r", b"\n.\r", b"\n"], 0);
    assert_eq!(run.body, b"ab\r\nc\r\n");
    assert!(run.ended && run.error.is_none());
}

#[test]
fn dot_reference_agrees_with_the_module_examples() {
    // Sanity of the model itself, from RFC 5321 4.5.2 and the module docs.
    let run = dot_reference(b"Hi\r\n..dots\r\n.\r\nQUIT\r\n", BareLineEndings::Reject);
    assert_eq!(run.body, b"Hi\r\n.dots\r\n");
    assert!(run.ended);
    assert_eq!(run.rest, b"QUIT\r\n");
    let run = dot_reference(b"abc\ndef\r\n.\r\n", BareLineEndings::Reject);
    assert_eq!(run.error, Some(DotError::BareLf { offset: 3 }));
    let run = dot_reference(b"ab\rc\r\n.\r\n", BareLineEndings::Reject);
    assert_eq!(run.error, Some(DotError::BareCr { offset: 2 }));
}

#[test]
fn dot_decoder_short_strings_every_split_every_alignment() {
    // Every string of up to 7 bytes whole (at start addresses 0, 1 and 63
    // modulo 64; up to 4 bytes at all 64), and of up to 6 bytes cut in
    // three pieces at every pair of points.
    for len in 0..=7 {
        each_string(len, |s| {
            for start in 0..64 {
                if len <= 4 || matches!(start, 0 | 1 | 63) {
                    check_dot(s, start);
                }
            }
            if len > 6 {
                return;
            }
            for policy in [BareLineEndings::Reject, BareLineEndings::Normalize] {
                let want = dot_reference(s, policy);
                for a in 0..=s.len() {
                    for b in a..=s.len() {
                        let got = dot_run(policy, &[&s[..a], &s[a..b], &s[b..]], a);
                        assert_eq!(got, want, "{s:?} cut at {a} and {b}");
                    }
                }
            }
        });
    }
}

/// Lengths at the edges of the 16-, 32- and 64-byte blocks and of the
/// 512-byte groups of the AVX-512 loop.
const EDGES: [usize; 18] = [
    15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 191, 192, 193, 511, 512, 513,
];

#[test]
fn dot_decoder_one_pattern_at_every_position_near_block_edges() {
    // Every 3-byte string over the alphabet, at every position of a clean
    // text of each edge length (for the long ones, at the positions around
    // each 16-byte edge and the ends), from a start address modulo 64 that
    // moves with the position and pattern; a quarter of the patterns at
    // all 64 start addresses.
    let mut patterns = Vec::new();
    each_string(3, |s| patterns.push(s.to_vec()));
    for len in EDGES {
        let positions: Vec<usize> = (0..len)
            .filter(|&p| len <= 65 || p < 3 || p + 4 > len || matches!(p % 16, 0 | 14 | 15))
            .collect();
        for (b, base) in bases(len).into_iter().enumerate() {
            let mut data = base.clone();
            for &p in &positions {
                for (k, pat) in patterns.iter().enumerate() {
                    let end = (p + 3).min(len);
                    data[p..end].copy_from_slice(&pat[..end - p]);
                    let want = dot_reference(&data, BareLineEndings::Reject);
                    let moving = (p * 5 + k * 3 + b + len) % 64;
                    let starts = if k % 16 == 5 { 0..64 } else { moving..moving + 1 };
                    for start in starts {
                        let got = dot_run(BareLineEndings::Reject, &[&data], start);
                        assert_eq!(got, want, "len {len} start {start} at {p} {pat:?}");
                    }
                    data[p..end].copy_from_slice(&base[p..end]);
                }
            }
        }
    }
}

#[test]
fn dot_decoder_smuggling_family_at_every_edge() {
    // RFC 5321 4.1.1.4: only CRLF "." CRLF ends the data. Each member of the
    // smuggling family, placed so that it straddles every block edge of a
    // 513-byte body at every alignment, is content (and its bare CR or LF
    // reported), and the real terminator after it still ends the body.
    let family: [&[u8]; 7] = [
        b"\n.\n",
        b"\n.\r\n",
        b"\r\n.\n",
        b"\r.\r\n",
        b"\r\n.\r",
        b"\r\n.\r\r\n",
        b"\r\n.\rX\r\n",
    ];
    for seq in family {
        for at in [
            1, 13, 14, 15, 16, 29, 30, 31, 32, 61, 62, 63, 64, 126, 127, 128, 509, 510, 511,
        ] {
            let mut body = bases(at)[0].clone();
            body.extend_from_slice(seq);
            body.extend_from_slice(b"MAIL FROM:<a@b>\r\n");
            let body_len = body.len();
            body.extend_from_slice(b".\r\nNEXT");
            for start in (0..64).step_by(3) {
                let run = dot_run(BareLineEndings::Reject, &[&body], start);
                assert_eq!(run, dot_reference(&body, BareLineEndings::Reject));
                assert!(run.ended && run.rest == b"NEXT", "{seq:?} at {at}");
                assert_eq!(run.consumed as usize, body_len + 3);
                assert!(run.error.is_some(), "{seq:?} at {at} not reported");
                let run = dot_run(BareLineEndings::Normalize, &[&body], start);
                assert!(run.ended && run.rest == b"NEXT" && run.error.is_none());
            }
        }
    }
}

#[test]
fn dot_decoder_exhaustive_windows_across_block_edges() {
    // Every 6-byte string over the alphabet, placed across each 16/32/64 and
    // 512-byte edge of clean text (first byte two before the edge).
    for edge in [16, 32, 64, 128, 512] {
        let base = bases(edge + 70)[1].clone();
        let mut data = base.clone();
        each_string(6, |s| {
            let at = edge - 2;
            data[at..at + 6].copy_from_slice(s);
            let want = dot_reference(&data, BareLineEndings::Reject);
            for start in [0, 1, 63] {
                assert_eq!(dot_run(BareLineEndings::Reject, &[&data], start), want);
            }
            data[at..at + 6].copy_from_slice(&base[at..at + 6]);
        });
    }
}

#[test]
fn every_scan_loop_agrees_at_group_edges() {
    // The fuzz check runs every scan loop this CPU has (AVX-512, AVX2, SSE2,
    // portable) against the byte-pair rule from each of the first 64
    // offsets; here with one special byte at each position around the
    // 512-byte group edges.
    let base = bases(600)[1].clone();
    for at in (440..600).step_by(5).chain(500..524) {
        for b in [CR, LF, DOT] {
            let mut data = base.clone();
            data[at] = b;
            let mut input = vec![7u8];
            input.extend_from_slice(&data);
            checks::dot_decoder(&input);
        }
    }
}

#[test]
fn dot_decoder_reset_starts_a_new_body() {
    // reset: ready for a new body, keeping the policy; nothing of the old
    // body (line state, pending data, error, counts) carries over.
    for first in [&b"abc\r"[..], b"abc\r\n.", b"x\ny", b"\r\n.\r", b"done\r\n.\r\n"] {
        for second in [&b".\r\n"[..], b"\n", b"..x\r\n.\r\n", b"\r\n"] {
            for policy in [BareLineEndings::Reject, BareLineEndings::Normalize] {
                let mut dec = DotDecoder::with_policy(policy);
                let mut buf = BytesMut::from(first);
                while let Ok(Some(_)) | Err(_) = dec.decode(&mut buf) {
                    if dec.is_ended() {
                        break;
                    }
                }
                dec.reset();
                assert!(!dec.is_ended());
                assert_eq!((dec.consumed(), dec.bare_count()), (0, 0));
                let got = dot_run_with(&mut dec, &[second], 0);
                assert_eq!(got, dot_reference(second, policy), "{first:?} then {second:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn dot_decoder_matches_reference_on_long_bodies(
        len in 0usize..1100,
        specials in proptest::collection::vec((any::<usize>(), 0usize..4), 0..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
        start in 0usize..64,
        lines in any::<bool>(),
    ) {
        let mut data = bases(len)[usize::from(lines)].clone();
        for (at, k) in specials {
            if len > 0 {
                data[at % len] = ALPHABET[k];
            }
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for p in points {
            pieces.push(&data[last..p]);
            last = p;
        }
        pieces.push(&data[last..]);
        for policy in [BareLineEndings::Reject, BareLineEndings::Normalize] {
            let want = dot_reference(&data, policy);
            prop_assert_eq!(&dot_run(policy, &[&data], start), &want);
            prop_assert_eq!(&dot_run(policy, &pieces, start), &want);
        }
    }

    #[test]
    fn dot_encoder_output_decodes_back(
        body in proptest::collection::vec(prop_oneof![Just(b'a'), Just(DOT), Just(CR), Just(LF)], 0..300),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        // Normalising encoder: any input; output holds only CRLF line ends,
        // never an early terminator, and decodes to the normalised input.
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        points.sort_unstable();
        let mut enc = DotEncoder::with_policy(BareLineEndings::Normalize);
        let mut wire = BytesMut::new();
        let mut last = 0;
        for p in points.iter().copied().chain([body.len()]) {
            enc.encode(&body[last..p], &mut wire).unwrap();
            last = p;
        }
        enc.finish(&mut wire).unwrap();
        let run = dot_reference(&wire, BareLineEndings::Reject);
        prop_assert!(run.ended);
        prop_assert!(run.rest.is_empty());
        prop_assert_eq!(run.error, None);
        let mut expect = Vec::new();
        let mut k = 0;
        while k < body.len() {
            match body[k] {
                CR if body.get(k + 1) == Some(&LF) => { expect.extend_from_slice(b"\r\n"); k += 1; }
                CR | LF => expect.extend_from_slice(b"\r\n"),
                b => expect.push(b),
            }
            k += 1;
        }
        if !expect.is_empty() && !expect.ends_with(b"\r\n") {
            expect.extend_from_slice(b"\r\n");
        }
        prop_assert_eq!(run.body, expect);
    }
}

/// The strict encoder's rule for one more piece after the bytes `taken`
/// (accepted so far): refused at the first CR not followed by LF (a CR that
/// ends the piece waits) or LF not preceded by CR, with its offset from the
/// start of the body.
fn encoder_verdict(taken: &[u8], piece: &[u8]) -> Result<(), DotError> {
    let all = [taken, piece].concat();
    for k in taken.len()..all.len() {
        let prev = if k == 0 { None } else { Some(all[k - 1]) };
        if prev == Some(CR) && all[k] != LF {
            return Err(DotError::BareCr { offset: k as u64 - 1 });
        }
        if all[k] == LF && prev != Some(CR) {
            return Err(DotError::BareLf { offset: k as u64 });
        }
    }
    Ok(())
}

/// RFC 5321 4.5.2 stuffing of a body with CRLF line ends: a "." more at
/// the start of every line that starts with "."; then the end of the body.
fn stuffed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut start = true;
    for &b in body {
        if start && b == DOT {
            out.push(DOT);
        }
        out.push(b);
        start = b == LF;
    }
    if !start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

fn check_strict_encoder(pieces: &[&[u8]]) {
    let mut enc = DotEncoder::new();
    let mut out = BytesMut::new();
    let mut taken = Vec::new();
    for piece in pieces {
        let want = encoder_verdict(&taken, piece);
        assert_eq!(enc.encode(piece, &mut out), want, "{taken:?} then {piece:?}");
        if want.is_ok() {
            taken.extend_from_slice(piece);
        }
    }
    if taken.last() == Some(&CR) {
        let offset = taken.len() as u64 - 1;
        assert_eq!(enc.finish(&mut out), Err(DotError::BareCr { offset }));
        return;
    }
    let added = enc.finish(&mut out).unwrap();
    assert_eq!(added, !taken.is_empty() && !taken.ends_with(b"\n"));
    assert_eq!(&out[..], &stuffed(&taken)[..], "{pieces:?}");
}

#[test]
fn dot_encoder_strict_against_reference() {
    // Two or three pieces of up to 4 bytes each: every refusal, its offset,
    // and the stuffed output of what was accepted.
    let mut small = Vec::new();
    for len in 0..=4 {
        each_string(len, |s| small.push(s.to_vec()));
    }
    for a in &small {
        for b in &small {
            check_strict_encoder(&[a, b]);
            if a.len() + b.len() <= 4 {
                for c in &small[..85] {
                    check_strict_encoder(&[a, b, c]);
                }
            }
        }
    }
}

#[test]
fn dot_encoder_strict_error_offsets_count_input_bytes() {
    // Offsets count raw input bytes from the start of the body, across pieces.
    let mut enc = DotEncoder::new();
    let mut out = BytesMut::new();
    enc.encode(b"0123456789", &mut out).unwrap();
    assert_eq!(
        enc.encode(b"ab\ncd", &mut out),
        Err(DotError::BareLf { offset: 12 })
    );
    assert_eq!(
        enc.encode(b"ab\rcd", &mut out),
        Err(DotError::BareCr { offset: 12 })
    );
    enc.encode(b"ab\r", &mut out).unwrap();
    assert_eq!(enc.encode(b"x", &mut out), Err(DotError::BareCr { offset: 12 }));
    assert_eq!(enc.finish(&mut out), Err(DotError::BareCr { offset: 12 }));
    // Input bytes, not the stuffed output: the dots doubled before the bare
    // LF do not move its offset (DotError's docs said raw stuffed bytes,
    // which is what the decoder counts).
    let mut enc = DotEncoder::new();
    let mut out = BytesMut::new();
    assert_eq!(
        enc.encode(b".a\r\n.b\n", &mut out),
        Err(DotError::BareLf { offset: 6 })
    );
    let mut dec = DotDecoder::new();
    let mut wire = BytesMut::from(&b"..a\r\n..b\n"[..]);
    let err = loop {
        match dec.decode(&mut wire) {
            Ok(Some(_)) => {}
            other => break other,
        }
    };
    assert_eq!(err, Err(DotError::BareLf { offset: 8 }));
}

// ---------------------------------------------------------------------------
// Line framer: reference model
// ---------------------------------------------------------------------------

/// The line framer's rules as its docs state them, on the whole input: each
/// LF ends a line; a line longer than `max_len` (terminator included) is
/// `TooLong` with its full length and its first `min(max_len, 64)` bytes;
/// else a LF without CR is `BareLf` (the line before the LF) unless allowed;
/// else a CR left in the line is `BareCr` unless allowed. Returns the lines
/// and what is left in the buffer: an unfinished line stays unless it
/// already holds `max_len` bytes (it can no longer fit), when it is dropped.
fn line_reference(cfg: LineConfig, input: &[u8]) -> (Lines, Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(off) = input[pos..].iter().position(|&b| b == LF) {
        let raw = &input[pos..=pos + off];
        pos += off + 1;
        let max = cfg.max_len;
        if raw.len() > max {
            out.push(Err(LineError::TooLong {
                len: raw.len(),
                limit: max,
                head: Bytes::copy_from_slice(&raw[..max.min(64)]),
            }));
            continue;
        }
        let lf = raw.len() - 1;
        let has_cr = lf > 0 && raw[lf - 1] == CR;
        if !has_cr && !cfg.accept_bare_lf {
            out.push(Err(LineError::BareLf {
                line: Bytes::copy_from_slice(&raw[..lf]),
            }));
            continue;
        }
        let content = &raw[..if has_cr { lf - 1 } else { lf }];
        if content.contains(&CR) && !cfg.accept_bare_cr {
            out.push(Err(LineError::BareCr {
                line: Bytes::copy_from_slice(content),
            }));
            continue;
        }
        out.push(Ok(content.to_vec()));
    }
    let tail = &input[pos..];
    if !tail.is_empty() && tail.len() >= cfg.max_len {
        (out, Vec::new(), true)
    } else {
        (out, tail.to_vec(), false)
    }
}

/// How the framer is driven: 0 `next_line`, 1 `next_line_with`, 2 `lines_with`.
fn line_run(cfg: LineConfig, pieces: &[&[u8]], how: u8, start: usize) -> (Lines, Vec<u8>, bool) {
    let mut f = LineFramer::new(cfg);
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    let mut buf = aligned(&[], start);
    buf.reserve(total + 8);
    let mut out: Lines = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        common::take_lines(&mut f, &mut buf, how, &mut out);
        // Bounded memory: never more than the limit of an unfinished line.
        assert!(buf.len() <= cfg.max_len.max(1), "{} bytes buffered", buf.len());
    }
    (out, buf.to_vec(), f.is_discarding())
}

fn configs(max_len: usize) -> [LineConfig; 4] {
    let c = |accept_bare_lf, accept_bare_cr| LineConfig {
        max_len,
        accept_bare_lf,
        accept_bare_cr,
    };
    [c(false, false), c(true, false), c(false, true), c(true, true)]
}

#[test]
fn line_framer_short_strings_against_reference() {
    // Every string of up to 6 bytes, every limit up to 7 and every leniency:
    // whole with each way of taking lines, byte by byte and cut in two.
    for len in 0..=6 {
        each_string(len, |s| {
            for max_len in 0..=7 {
                for cfg in configs(max_len) {
                    let want = line_reference(cfg, s);
                    for how in 0..3 {
                        assert_eq!(line_run(cfg, &[s], how, 0), want, "{cfg:?} {how} on {s:?}");
                    }
                    let bytes: Vec<&[u8]> = s.chunks(1).collect();
                    let how = (s.len() + max_len) as u8 % 3;
                    assert_eq!(
                        line_run(cfg, &bytes, how, 0),
                        want,
                        "{cfg:?} {how} bytewise {s:?}"
                    );
                    for cut in 1..s.len() {
                        let (a, b) = s.split_at(cut);
                        assert_eq!(line_run(cfg, &[a, b], 0, 0), want, "{cfg:?} {s:?} cut {cut}");
                    }
                }
            }
        });
    }
}

#[test]
fn line_framer_long_lines_around_the_finder_edges() {
    // The CR/LF finder classifies 64 bytes at a time for the first 256
    // bytes, then calls memchr2: a terminator or bare byte near each of
    // those edges and near the limit, at each alignment.
    let mut patterns = Vec::new();
    each_string(2, |s| patterns.push(s.to_vec()));
    for max_len in [62, 63, 64, 65, 66, 255, 256, 257, 258, 320] {
        for len in [
            62, 63, 64, 65, 66, 127, 128, 129, 254, 255, 256, 257, 258, 259, 300,
        ] {
            let mut data = vec![b'x'; len];
            for p in (0..len.saturating_sub(1)).filter(|&p| {
                matches!(p % 64, 0 | 1 | 62 | 63) || p + 4 > len || p + 4 > max_len && p < max_len + 4
            }) {
                for pat in &patterns {
                    data[p..p + 2].copy_from_slice(pat);
                    let mut input = data.clone();
                    input.extend_from_slice(b"\r\nok\r\n");
                    for cfg in configs(max_len) {
                        let want = line_reference(cfg, &input);
                        for (how, start) in [(0, 0), (1, 63), (2, 1)] {
                            assert_eq!(
                                line_run(cfg, &[&input], how, start),
                                want,
                                "{cfg:?} {len} {p} {pat:?}"
                            );
                        }
                        let mid = input.len() / 2;
                        assert_eq!(line_run(cfg, &[&input[..mid], &input[mid..]], 2, 0), want);
                    }
                    data[p..p + 2].copy_from_slice(b"xx");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn line_framer_matches_reference(
        input in proptest::collection::vec(prop_oneof![4 => Just(b'a'), 1 => Just(CR), 1 => Just(LF), 1 => Just(b'.')], 0..400),
        max_len in 0usize..80,
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        how in 0u8..3,
        flags in 0usize..4,
    ) {
        let cfg = configs(max_len)[flags];
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut last = 0;
        for p in points {
            pieces.push(&input[last..p]);
            last = p;
        }
        pieces.push(&input[last..]);
        let want = line_reference(cfg, &input);
        prop_assert_eq!(&line_run(cfg, &pieces, how, 0), &want);
    }
}

#[test]
fn line_framer_set_max_len_and_reset() {
    // set_max_len takes effect for the next line.
    let mut f = LineFramer::new(LineConfig::with_max_len(8));
    let mut buf = BytesMut::from(&b"AUTH x\r\n0123456789abcdef\r\n"[..]);
    assert_eq!(f.next_line(&mut buf).unwrap().unwrap(), "AUTH x");
    f.set_max_len(64);
    assert_eq!(f.next_line(&mut buf).unwrap().unwrap(), "0123456789abcdef");
    // reset forgets a line being discarded and a bare CR already seen.
    let mut f = LineFramer::new(LineConfig::with_max_len(4));
    let mut buf = BytesMut::from(&b"abcdefgh"[..]);
    assert!(f.next_line(&mut buf).is_none());
    assert!(f.is_discarding());
    f.reset();
    buf.clear();
    buf.extend_from_slice(b"ok\r\n");
    assert_eq!(f.next_line(&mut buf).unwrap().unwrap(), "ok");
    let mut f = LineFramer::new(LineConfig::with_max_len(10));
    let mut buf = BytesMut::from(&b"a\rb"[..]);
    assert!(f.next_line(&mut buf).is_none());
    f.reset();
    buf.clear();
    buf.extend_from_slice(b"ok\r\n");
    assert_eq!(f.next_line(&mut buf).unwrap().unwrap(), "ok");
}

// ---------------------------------------------------------------------------
// SmallBytes
// ---------------------------------------------------------------------------

// SmallBytes::slice_of and set_slice_of: "Panics if range is not within
// src (as src[range] would)". A reversed range (start after end) is not
// within src, and src[5..3] panics; but a short reversed range with 38
// bytes of src after its start gave an empty value instead, so a parser's
// wrong span passed unnoticed (and only near the end of src did it panic).
#[test]
#[should_panic(expected = "slice index starts at 5 but ends at 3")]
fn small_bytes_slice_of_a_reversed_range_panics() {
    let src = Bytes::from(vec![b'x'; 100]);
    #[allow(clippy::reversed_empty_ranges)]
    let v = SmallBytes::slice_of(&src, 5..3);
    drop(v);
}

#[test]
#[should_panic(expected = "slice index starts at 5 but ends at 3")]
fn small_bytes_set_slice_of_a_reversed_range_panics() {
    let src = Bytes::from(vec![b'x'; 100]);
    let mut v = SmallBytes::default();
    #[allow(clippy::reversed_empty_ranges)]
    v.set_slice_of(&src, 5..3);
}

#[test]
fn small_bytes_debug_prints_like_bytes() {
    let all: Vec<u8> = (0..=255).collect();
    for chunk in all.chunks(7).chain([&all[..], &[][..]]) {
        assert_eq!(
            format!("{:?}", SmallBytes::new(chunk)),
            format!("{:?}", Bytes::copy_from_slice(chunk))
        );
    }
}

#[test]
fn small_bytes_every_way_of_holding_agrees() {
    let src = Bytes::from((0u8..100).collect::<Vec<u8>>());
    for s in 0..=100 {
        for e in s..=100 {
            let want = &src[s..e];
            let a = SmallBytes::slice_of(&src, s..e);
            let mut b = SmallBytes::from_static(b"a static value longer than thirty-eight bytes");
            b.set_slice_of(&src, s..e);
            let mut c = SmallBytes::new(&[9; 50]);
            c.set_slice_of(&src, s..e);
            for v in [&a, &b, &c] {
                assert_eq!(&v[..], want);
                assert_eq!(v.to_bytes(), want);
                assert_eq!(Bytes::from(v.clone()), want);
            }
            assert_eq!(SmallBytes::from(src.slice(s..e)), a);
            assert_eq!(SmallBytes::from(want.to_vec()), a);
        }
    }
}

// ---------------------------------------------------------------------------
// civil
// ---------------------------------------------------------------------------

#[test]
fn civil_counts_days_through_negative_years() {
    // Day by day from 2001 BC-ish (year -2000) to 2400, through the year 0
    // and every century rule, both directions.
    let mut day = days_from_civil(-2000, 1, 1);
    for year in -2000..=2400 {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        assert_eq!(is_leap_year(year), leap, "{year}");
        let mut in_year = 0;
        for month in 1..=12 {
            for d in 1..=days_in_month(year, month) {
                assert_eq!(days_from_civil(year, month, d), day, "{year}-{month}-{d}");
                assert_eq!(civil_from_days(day), (year, month, d));
                day += 1;
                in_year += 1;
            }
        }
        assert_eq!(in_year, if leap { 366 } else { 365 });
    }
    assert_eq!(days_in_month(2024, 0), 0);
    assert_eq!(days_in_month(2024, 13), 0);
    assert_eq!(days_in_month(-4, 2), 29);
    assert_eq!(days_in_month(-100, 2), 28);
    assert_eq!(days_in_month(-400, 2), 29);
}

proptest! {
    #[test]
    fn civil_round_trips_any_day(d in any::<i64>()) {
        let (y, m, day) = civil_from_days(d);
        prop_assert!((1..=12).contains(&m));
        prop_assert!(day >= 1 && day <= days_in_month(y, m));
        prop_assert_eq!(days_from_civil(y, m, day), d);
        let w = weekday(d);
        prop_assert!((0..7).contains(&w));
        if d > i64::MIN {
            prop_assert_eq!(weekday(d - 1), (w + 6) % 7);
        }
    }

    #[test]
    fn days_from_civil_never_panics(y in any::<i64>(), m in any::<i64>(), d in any::<i64>()) {
        let _ = days_from_civil(y, m, d);
        let _ = days_in_month(y, m);
        let _ = is_leap_year(y);
    }
}

// ---------------------------------------------------------------------------
// Secret
// ---------------------------------------------------------------------------

#[test]
fn secret_debug_never_prints_the_value() {
    let s = Secret::new(String::from("hunter2"));
    let v = Secret::new(b"hunter2".to_vec());
    let m = Secret::new(BytesMut::from(&b"hunter2"[..]));
    let b = Secret::new(Bytes::from_static(b"hunter2"));
    let a = Secret::new(*b"hunter2!");
    for text in [
        format!("{s:?} {s:#?} {:?}", s.clone()),
        format!("{v:?} {v:#?} {:x?}", v.clone()),
        format!("{m:?} {b:?} {a:?} {:?}", Some((&a, vec![&v]))),
    ] {
        assert!(!text.contains("hunter"), "{text}");
        assert!(!text.contains("104, 117"), "{text}");
        assert!(text.contains("<redacted>"));
    }
    // Clones are independent: wiping one leaves the other.
    let mut c = v.clone();
    proto_core::Wipe::wipe(c.expose_mut());
    assert_eq!(c.expose(), &[0; 7]);
    assert_eq!(v.expose(), b"hunter2");
    assert_ne!(c, v);
    assert_eq!(v.clone().into_inner(), b"hunter2");
}

// ---------------------------------------------------------------------------
// Session helpers
// ---------------------------------------------------------------------------

// Deadline::set_period: "a running deadline is restarted from now". A
// deadline started with a period too long for `Instant` (Duration::MAX, the
// natural "no timeout") never fires, but it was started: it was taken for
// a stopped one, so a shorter period set later (RFC 5321 4.5.3.2's timers
// are per command) never armed it until the next restart.
#[test]
fn deadline_started_with_an_endless_period_takes_a_new_period() {
    let t0 = Instant::now();
    let mut d = Deadline::new(Duration::MAX);
    d.restart(t0);
    assert_eq!(d.at(), None);
    assert!(!d.expired(t0 + Duration::from_secs(1 << 40)));
    d.set_period(Duration::from_secs(30), t0);
    assert_eq!(d.at(), Some(t0 + Duration::from_secs(30)));
    // Stopped, it stays stopped.
    d.stop();
    d.set_period(Duration::MAX, t0);
    d.set_period(Duration::from_secs(5), t0);
    assert_eq!(d.at(), None);
}

#[test]
fn transmit_queue_and_deadlines() {
    let mut q = TransmitQueue::default();
    assert_eq!(q.peek(), None);
    q.advance(10);
    q.push(b"abc");
    q.buf_mut().extend_from_slice(b"def");
    q.advance(usize::MAX);
    assert!(q.is_empty() && q.peek().is_none());
    assert_eq!(q.len(), 0);
    q.push(b"");
    assert_eq!(q.peek(), None);

    let t0 = Instant::now();
    let mut d = Deadline::new(Duration::from_secs(5));
    assert!(!d.expired(t0 + Duration::from_secs(1_000_000)));
    d.restart(t0);
    assert!(!d.expired(t0 + Duration::from_millis(4999)));
    assert!(d.expired(t0 + Duration::from_secs(5)));
    d.set_period(Duration::from_secs(1), t0 + Duration::from_secs(2));
    assert_eq!(d.at(), Some(t0 + Duration::from_secs(3)));
    d.stop();
    d.set_period(Duration::from_secs(9), t0);
    assert_eq!(d.at(), None, "a stopped deadline stays stopped");
    // A period too long for Instant never fires and does not panic.
    let mut d = Deadline::new(Duration::MAX);
    d.restart(t0);
    assert!(!d.expired(t0 + Duration::from_secs(1 << 40)));

    let (a, b) = (t0 + Duration::from_secs(2), t0 + Duration::from_secs(1));
    assert_eq!(earliest(&[]), None);
    assert_eq!(earliest(&[None, None]), None);
    assert_eq!(earliest(&[Some(a), None, Some(b)]), Some(b));
}

// ---------------------------------------------------------------------------
// Transcripts
// ---------------------------------------------------------------------------

#[test]
fn transcript_lines_and_escapes() {
    let t = Transcript::parse("S: 220 hi\r\nC-\\x2e\\x0d\\x0a\r\n  \r\n# x\nC:\nS:  two\n").unwrap();
    let bytes: Vec<_> = t
        .steps
        .iter()
        .map(|s| (s.side, s.bytes.clone(), s.line))
        .collect();
    assert_eq!(
        bytes,
        vec![
            (Side::Server, b"220 hi\r\n".to_vec(), 1),
            (Side::Client, b".\r\n".to_vec(), 2),
            (Side::Client, b"\r\n".to_vec(), 5),
            (Side::Server, b" two\r\n".to_vec(), 6),
        ]
    );
    for bad in [
        "C: \\x",
        "C: \\x0",
        "C: \\x0g",
        "C: \\xé9",
        "\u{e9}: x",
        "c: x",
        " C: x",
    ] {
        assert!(Transcript::parse(bad).is_err(), "{bad:?}");
    }
    // A backslash not followed by x is itself.
    assert_eq!(
        Transcript::parse("C: \\Seen \\\\").unwrap().steps[0].bytes,
        b"\\Seen \\\\\r\n"
    );
}

/// `transfer` and `drain_transmit` stop on a session whose `poll_transmit`
/// gives an empty slice instead of `None` (they looped for ever).
#[test]
fn transmit_helpers_stop_on_an_empty_slice() {
    use std::time::Instant;
    struct Empty(Vec<u8>);
    impl proto_core::Session for Empty {
        type Event = ();
        type Error = ();
        fn handle_input(&mut self, data: &[u8]) {
            self.0.extend_from_slice(data);
        }
        fn poll_event(&mut self) -> Result<Option<()>, ()> {
            Ok(None)
        }
        fn poll_transmit(&self) -> Option<&[u8]> {
            Some(&[])
        }
        fn advance_transmit(&mut self, _n: usize) {}
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
        fn handle_timeout(&mut self, _now: Instant) {}
        fn handle_eof(&mut self) {}
    }
    let (mut a, mut b) = (Empty(Vec::new()), Empty(Vec::new()));
    assert_eq!(proto_core::transfer(&mut a, &mut b, 16), 0);
    assert!(proto_core::drain_transmit(&mut a).is_empty());
}
