//! Review (session 21, differential against imap-codec and djc's imap-proto):
//! each test failed on the code before its fix and cites the rule it checks.

use bytes::BytesMut;
use imap_proto::{Direction, Frame, Framer, Limits, Options, Response};

fn units(dir: Direction, wire: &[u8]) -> Vec<Vec<u8>> {
    let mut f = Framer::new(dir, Limits::default());
    let mut buf = BytesMut::from(wire);
    let mut out = Vec::new();
    while let Some(fr) = f.next(&mut buf) {
        match fr {
            Ok(Frame::Unit(u)) => out.push(u.bytes().to_vec()),
            Ok(other) => panic!("unexpected frame {other:?}"),
            Err(e) => panic!("framer error {e:?}"),
        }
    }
    out
}

// RFC 9051 section 9 (RFC 3501 section 9 likewise):
//   response-tagged = tag SP resp-cond-state CRLF
//   resp-cond-state = ("OK" / "NO" / "BAD") SP resp-text
//   resp-text       = ["[" resp-text-code "]" SP] [text]
//   text            = 1*TEXT-CHAR
//   TEXT-CHAR       = <any CHAR except CR and LF>
//   continue-req    = "+" SP (resp-text / base64) CRLF
// A status response or continuation request holds no literal: `{5}` at the
// end of its text is text. imap-codec and djc's imap-proto read the line
// below as one response and go on with `* 1 EXISTS`; the framer took `{5}`
// for a literal announcement, swallowed the next five octets and glued the
// following response onto the status line (a client/server desync a server
// can cause by echoing a client's argument at the end of a BAD text).
#[test]
fn status_text_ending_in_braces_is_not_a_literal() {
    let wire = b"a1 BAD unknown command: FOO {5}\r\n* 1 EXISTS\r\n* 2 RECENT\r\n";
    let got = units(Direction::ServerToClient, wire);
    assert_eq!(
        got,
        vec![
            b"a1 BAD unknown command: FOO {5}\r\n".to_vec(),
            b"* 1 EXISTS\r\n".to_vec(),
            b"* 2 RECENT\r\n".to_vec(),
        ]
    );
    // The parser still refuses such text (its encoder never writes it, so
    // parse -> encode stays total); the responses after it are intact.
    for u in &got[1..] {
        Response::parse(&u.clone().into(), &Options::default()).unwrap();
    }
    for line in [
        &b"* OK [ALERT] {3}\r\n"[..],
        b"* NO x {0}\r\n",
        b"* BYE {3}\r\n",
        b"* PREAUTH {3}\r\n",
        b"+ {3}\r\n",
        b"+ [ALERT] ~{3}\r\n",
        b"A.1 ok see {12+}\r\n",
    ] {
        let mut wire = line.to_vec();
        wire.extend_from_slice(b"* 3 EXISTS\r\n");
        let got = units(Direction::ServerToClient, &wire);
        assert_eq!(got, vec![line.to_vec(), b"* 3 EXISTS\r\n".to_vec()], "{line:?}");
    }
    // A data response still carries literals, and so does IMAP4rev1's
    // BADCHARSET code: `"BADCHARSET" [SP "(" astring *(SP astring) ")" ]`.
    let wire = b"a1 NO [BADCHARSET ({5}\r\nUTF-8)] no\r\n* 1 EXISTS\r\n";
    assert_eq!(units(Direction::ServerToClient, wire).len(), 2);
    let wire = b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n* LIST () \"/\" {3}\r\nabc\r\n";
    assert_eq!(units(Direction::ServerToClient, wire).len(), 2);
}
