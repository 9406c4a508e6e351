//! Review 27 of proto-core: what review 24 left unchecked. Neither test
//! failed on the code as it was; they pin down behaviour the docs promise.
//!
//! * [`DotDecoder::decode_from`] (the copying path a session takes while its
//!   buffer is empty) against [`DotDecoder::decode`] alone: the same body and
//!   rest, and also the same error offsets, [`DotDecoder::consumed`] and
//!   [`DotDecoder::bare_count`] (the fuzz checks compare only the number of
//!   errors), however the input is split.
//! * [`LineFramer`] with the extreme limit `usize::MAX` (no `+ 1` or window
//!   arithmetic may overflow), through each way of taking lines.

mod common;
use bytes::BytesMut;
use common::{Lines, each_string};
use proto_core::{BareLineEndings, DotDecoder, DotError, DotEvent, LineConfig, LineError, LineFramer};

/// Everything a strict decoder run reports.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    body: Vec<u8>,
    ended: bool,
    rest: Vec<u8>,
    errors: Vec<DotError>,
    consumed: u64,
    bare_count: u64,
}

/// A strict decoder over `pieces`; with `copying`, each piece that arrives
/// while the buffer is empty goes through `decode_from` first.
fn dot_run(pieces: &[&[u8]], copying: bool) -> Run {
    let mut dec = DotDecoder::with_policy(BareLineEndings::Reject);
    let mut buf = BytesMut::new();
    let mut out = BytesMut::new();
    let mut run = Run {
        body: Vec::new(),
        ended: false,
        rest: Vec::new(),
        errors: Vec::new(),
        consumed: 0,
        bare_count: 0,
    };
    for piece in pieces {
        if run.ended {
            buf.extend_from_slice(piece);
            continue;
        }
        let taken = if copying && buf.is_empty() {
            dec.decode_from(piece, &mut out)
        } else {
            0
        };
        run.body.extend_from_slice(&out.split());
        buf.extend_from_slice(&piece[taken..]);
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(DotEvent::Data(d))) => run.body.extend_from_slice(&d),
                Ok(Some(DotEvent::End)) => {
                    run.ended = true;
                    break;
                }
                Ok(None) => break,
                Err(e) => run.errors.push(e),
            }
        }
    }
    run.rest = buf.to_vec();
    run.consumed = dec.consumed();
    run.bare_count = dec.bare_count();
    run
}

#[test]
fn decode_from_keeps_offsets_and_counts_of_decode() {
    for len in 0..=7 {
        each_string(len, |s| {
            let want = dot_run(&[s], false);
            assert!(want.errors.len() <= 1, "{s:?}");
            assert_eq!(dot_run(&[s], true), want, "whole {s:?}");
            let bytes: Vec<&[u8]> = s.chunks(1).collect();
            assert_eq!(dot_run(&bytes, false), want, "bytewise {s:?}");
            assert_eq!(dot_run(&bytes, true), want, "bytewise, copying {s:?}");
            for cut in 1..s.len() {
                let (a, b) = s.split_at(cut);
                assert_eq!(dot_run(&[a, b], false), want, "cut {cut} {s:?}");
                assert_eq!(dot_run(&[a, b], true), want, "cut {cut}, copying {s:?}");
            }
        });
    }
}

/// The lines of `pieces` with `how`: 0 `next_line`, 1 `next_line_with`,
/// 2 `lines_with`; and what stays buffered.
fn line_run(cfg: LineConfig, pieces: &[&[u8]], how: u8) -> (Lines, Vec<u8>) {
    let mut f = LineFramer::new(cfg);
    let mut buf = BytesMut::new();
    let mut out: Lines = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        common::take_lines(&mut f, &mut buf, how, &mut out);
    }
    (out, buf.to_vec())
}

#[test]
fn line_framer_takes_the_largest_limit() {
    // With no line near the limit, usize::MAX frames as a limit of 1000
    // does (which review 24 checks against its reference model).
    for len in 0..=6 {
        each_string(len, |s| {
            for (bare_lf, bare_cr) in [(false, false), (true, false), (false, true), (true, true)] {
                let cfg = |max_len| LineConfig {
                    max_len,
                    accept_bare_lf: bare_lf,
                    accept_bare_cr: bare_cr,
                };
                let want = line_run(cfg(1000), &[s], 0);
                let bytes: Vec<&[u8]> = s.chunks(1).collect();
                for how in 0..3 {
                    assert_eq!(line_run(cfg(usize::MAX), &[s], how), want, "{how} {s:?}");
                    assert_eq!(
                        line_run(cfg(usize::MAX), &bytes, how),
                        want,
                        "{how} bytewise {s:?}"
                    );
                }
            }
        });
    }
    // And the limit can be raised to it, and lowered from it, between lines.
    let mut f = LineFramer::new(LineConfig::with_max_len(4));
    let mut buf = BytesMut::from(&b"ab\r\nlong line\r\nxy\r\n"[..]);
    assert_eq!(f.next_line(&mut buf).unwrap().unwrap(), "ab");
    f.set_max_len(usize::MAX);
    assert_eq!(f.next_line(&mut buf).unwrap().unwrap(), "long line");
    f.set_max_len(3);
    assert!(matches!(
        f.next_line(&mut buf),
        Some(Err(LineError::TooLong { len: 4, limit: 3, .. }))
    ));
}

/// A limit raised while the rest of an over-long line is skipped does not
/// change what its error reports: the limit the line broke, not one larger
/// than the line (the framer counted the line against the old limit).
#[test]
fn too_long_reports_the_limit_the_line_broke() {
    let mut f = LineFramer::new(LineConfig::with_max_len(4));
    let mut buf = BytesMut::from(&b"0123456789"[..]);
    assert!(f.next_line(&mut buf).is_none());
    assert!(f.is_discarding());
    f.set_max_len(1000);
    buf.extend_from_slice(b"abc\r\nok\r\n");
    match f.next_line(&mut buf) {
        Some(Err(LineError::TooLong { len, limit, head })) => {
            assert_eq!((len, limit), (15, 4));
            assert_eq!(&head[..], b"0123");
        }
        other => panic!("want TooLong, got {other:?}"),
    }
    // The next line is held to the new limit.
    assert_eq!(f.next_line(&mut buf).unwrap().unwrap(), "ok");
}
