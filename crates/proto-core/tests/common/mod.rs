//! Helpers shared by the review tests.

use bytes::BytesMut;
use proto_core::{LineError, LineFramer};
use std::ops::ControlFlow;

/// The lines a framer gave, each as owned bytes or its error.
pub(crate) type Lines = Vec<Result<Vec<u8>, LineError>>;

/// Takes every line `buf` holds now, driving the framer the way `how`
/// says: 0 `next_line`, 1 `next_line_with`, 2 (or more) `lines_with`.
pub(crate) fn take_lines(f: &mut LineFramer, buf: &mut BytesMut, how: u8, out: &mut Lines) {
    match how {
        0 => {
            while let Some(r) = f.next_line(buf) {
                out.push(r.map(|b| b.to_vec()));
            }
        }
        1 => {
            while let Some(r) = f.next_line_with(buf, |r| r.map(<[u8]>::to_vec)) {
                out.push(r);
            }
        }
        _ => {
            let stop: Option<()> = f.lines_with(buf, |r| {
                out.push(r.map(<[u8]>::to_vec));
                ControlFlow::Continue(())
            });
            assert!(stop.is_none());
        }
    }
}

/// The alphabet of the exhaustive tests: what dot-stuffing and line
/// framing turn on.
pub(crate) const ALPHABET: [u8; 4] = [b'a', b'.', b'\r', b'\n'];

/// Every string over {a, ., CR, LF} of exactly `len` bytes.
pub(crate) fn each_string(len: u32, mut f: impl FnMut(&[u8])) {
    let mut s = Vec::with_capacity(len as usize);
    for n in 0..4usize.pow(len) {
        s.clear();
        let mut x = n;
        for _ in 0..len {
            s.push(ALPHABET[x % 4]);
            x /= 4;
        }
        f(&s);
    }
}
