//! Review 22: gaps left open by earlier reviews, each test quoting the RFC
//! rule it checks and failing on the code as it was before its fix.

use bytes::BytesMut;
use smtp_proto::{Command, Host};

/// Parses `line`, and when it parses, checks that it encodes back to a line
/// that parses to the same command.
fn parse_round_trip(line: &[u8]) -> Result<(), smtp_proto::CommandError> {
    let c = Command::parse(line)?;
    let mut out = BytesMut::new();
    c.encode(&mut out).expect("a parsed command encodes");
    let again = out.strip_suffix(b"\r\n").expect("CRLF");
    assert_eq!(
        Command::parse(again),
        Ok(c),
        "{:?}",
        String::from_utf8_lossy(again)
    );
    Ok(())
}

/// RFC 5321 4.1.3: `General-address-literal = Standardized-tag ":"
/// 1*dcontent` with `Standardized-tag = Ldh-str` and `Ldh-str = *( ALPHA /
/// DIGIT / "-" ) Let-dig`: the tag is letters, digits and hyphens ending
/// with a letter or digit; no dot, no empty tag.
#[test]
fn general_address_literal_tag_is_an_ldh_str() {
    for ok in [&b"x-tag:abc"[..], b"X1:a.b.c", b"-a:z", b"a--b:z", b"9:z"] {
        let mut path = b"MAIL FROM:<u@[".to_vec();
        path.extend_from_slice(ok);
        path.extend_from_slice(b"]>");
        assert_eq!(
            parse_round_trip(&path),
            Ok(()),
            "{:?}",
            String::from_utf8_lossy(ok)
        );
        let mut lit = b"[".to_vec();
        lit.extend_from_slice(ok);
        lit.push(b']');
        assert!(matches!(Host::parse(&lit), Ok(Host::General { .. })), "{lit:?}");
    }
    for bad in [
        &b"a.b:abc"[..],
        b"a-:abc",
        b":abc",
        b"a b:c",
        b"a_b:c",
        b".a:c",
        b"\xc3\xa9:c",
    ] {
        let mut path = b"MAIL FROM:<u@[".to_vec();
        path.extend_from_slice(bad);
        path.extend_from_slice(b"]>");
        assert!(
            Command::parse(&path).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
        let mut lit = b"[".to_vec();
        lit.extend_from_slice(bad);
        lit.push(b']');
        assert!(Host::parse(&lit).is_err(), "{:?}", String::from_utf8_lossy(bad));
        let mut ehlo = b"EHLO ".to_vec();
        ehlo.extend_from_slice(&lit);
        assert!(
            Command::parse(&ehlo).is_err(),
            "{:?}",
            String::from_utf8_lossy(&ehlo)
        );
        // The encoder refuses what the parser refuses.
        let Some(colon) = bad.iter().position(|&b| b == b':') else {
            continue;
        };
        let host = Host::General {
            tag: &bad[..colon],
            content: &bad[colon + 1..],
        };
        assert!(host.write_to(&mut BytesMut::new()).is_err(), "{host:?}");
    }
}
