//! Review (session 19): each test failed on the code before its fix and
//! cites the rule it checks.

use bytes::{Bytes, BytesMut};
use imap_proto::{Command, Direction, Frame, FrameError, Framer, Limits, Options};

fn all(f: &mut Framer, buf: &mut BytesMut) -> Vec<Result<Frame, FrameError>> {
    let mut v = Vec::new();
    while let Some(x) = f.next(buf) {
        v.push(x);
    }
    v
}

fn unit_bytes(x: &Result<Frame, FrameError>) -> Option<&[u8]> {
    match x {
        Ok(Frame::Unit(u)) => Some(&u.bytes()[..]),
        _ => None,
    }
}

// RFC 9051 section 9: `literal = "{" number64 ["+"] "}" CRLF *CHAR8`, and
// RFC 7888 section 5: "Note that the form of the non-synchronizing literal
// does not change: it still uses the "+" in the literal itself, even if the
// applicable extension is LITERAL-." A line ending in `{5-}` announces no
// literal, so the next line is the next command; reading five bytes of it as
// literal data puts the framer out of step with every conforming peer.
#[test]
fn minus_form_is_not_a_literal() {
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let mut f = Framer::new(dir, Limits::default());
        let mut buf = BytesMut::from(&b"a1 NOOP {5-}\r\na2 NOOP\r\n"[..]);
        let v = all(&mut f, &mut buf);
        assert_eq!(v.len(), 2, "{dir:?}: {v:?}");
        assert_eq!(unit_bytes(&v[0]), Some(&b"a1 NOOP {5-}\r\n"[..]), "{v:?}");
        assert_eq!(unit_bytes(&v[1]), Some(&b"a2 NOOP\r\n"[..]), "{v:?}");
    }
    let o = Options::default();
    let unit = Bytes::from_static(b"a1 LOGIN {3-}\r\nabc pw\r\n");
    assert!(Command::parse(&unit, &o).is_err(), "{{3-}} is no literal");
}
