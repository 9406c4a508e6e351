//! Review (session 24, lead): where a response line can end in a literal
//! under each IMAP version. Each test failed on the code before its fix.

use bytes::{Bytes, BytesMut};
use imap_proto::{
    Code, Direction, Frame, Framer, Limits, Options, Response, StatusKind, StatusResponse, Str, Tag, Version,
};

/// Frames `wire` as a client reads responses under `version`: the units'
/// bytes, or the first frame that is not a unit.
fn units(wire: &[u8], version: Version) -> Vec<Vec<u8>> {
    let mut f = Framer::new(Direction::ServerToClient, Limits::default());
    f.set_version(version);
    assert_eq!(f.version(), version);
    let mut buf = BytesMut::from(wire);
    let mut out = Vec::new();
    while let Some(frame) = f.next(&mut buf) {
        match frame {
            Ok(Frame::Unit(u)) => out.push(u.bytes().to_vec()),
            other => panic!("{other:?}"),
        }
    }
    out
}

// RFC 9051 section 9: under IMAP4rev2 `resp-text-code =/ "BADCHARSET" [SP "("
// charset *(SP charset) ")"]` with `charset = atom / quoted`: no literal, so
// a status response with that code is one line, and a `{n}` ending its text
// is text (`resp-text`). The framer took it for a literal under both
// versions (RFC 3501 section 9's astring charsets can be literals): it read
// the next response as the literal's data and the two ran together. The
// parser and the encoder refused the line under IMAP4rev2 for the same
// reason.
#[test]
fn rev2_badcharset_status_line_holds_no_literal() {
    let wire = b"a1 NO [BADCHARSET (UTF-8)] charset not known {5}\r\n* OK hello\r\n";
    let rev2 = units(wire, Version::Rev2);
    assert_eq!(
        rev2,
        vec![
            b"a1 NO [BADCHARSET (UTF-8)] charset not known {5}\r\n".to_vec(),
            b"* OK hello\r\n".to_vec(),
        ]
    );
    // IMAP4rev1 keeps the literal reading: five bytes of data follow the CRLF.
    let rev1 = units(wire, Version::Rev1);
    assert_eq!(rev1, vec![wire.to_vec()]);
    // A framer starts as IMAP4rev1.
    let f = Framer::new(Direction::ServerToClient, Limits::default());
    assert_eq!(f.version(), Version::Rev1);

    let o2 = Options::rev2();
    let line = Bytes::copy_from_slice(&rev2[0]);
    let r = Response::parse(&line, &o2).expect("resp-text may end in {5}");
    let Response::Status(s) = &r else { panic!("{r:?}") };
    assert_eq!(s.kind, StatusKind::No);
    assert_eq!(&s.text[..], b"charset not known {5}");
    assert_eq!(&r.encode(&o2).unwrap().bytes[..], &rev2[0][..]);

    // Under IMAP4rev1 the same text is refused by both sides, as before: a
    // receiver there would read a literal.
    let o1 = Options::default();
    assert!(Response::parse(&line, &o1).is_err());
    assert!(r.encode(&o1).is_err());
}

// The same response built by an application: written under IMAP4rev2, framed
// and parsed back to the same value.
#[test]
fn rev2_badcharset_text_round_trips_through_the_framer() {
    let o2 = Options::rev2();
    let r = Response::Status(StatusResponse {
        tag: Tag::new("a7"),
        kind: StatusKind::No,
        code: Some(Code::BadCharset(vec![Str::from("UTF-8"), Str::from("US-ASCII")])),
        text: Bytes::from_static(b"see {12}"),
    });
    let wire = r.encode(&o2).unwrap().bytes;
    let mut all = wire.to_vec();
    all.extend_from_slice(b"a8 OK done\r\n");
    let got = units(&all, Version::Rev2);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], wire.to_vec());
    assert_eq!(Response::parse(&Bytes::from(got[0].clone()), &o2).unwrap(), r);
}
