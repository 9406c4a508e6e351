//! Review (session 23, second pass) of the mime crate: follow-ups of the first
//! review. Each test failed on the code before its fix; the rule it checks is
//! quoted above it.

use mime::{DefectKind, Event, Limits, Message, ParseOptions, PartKind, PushParser};

/// The defect kinds the push parser reports for `wire` fed in one piece.
fn push_defects(wire: &[u8]) -> Vec<DefectKind> {
    let mut p = PushParser::new(Limits::default());
    p.feed(wire);
    p.finish();
    let mut out = Vec::new();
    while let Some(ev) = p.poll_event() {
        if let Event::Defect(d) = ev {
            out.push(d.kind);
        }
    }
    out
}

fn multipart_with(boundary: &str) -> Vec<u8> {
    let quoted = boundary.replace('"', "\\\"");
    format!(
        "Content-Type: multipart/mixed; boundary=\"{quoted}\"\r\n\r\n\
         --{boundary}\r\n\r\none\r\n--{boundary}\r\n\r\ntwo\r\n--{boundary}--\r\n"
    )
    .into_bytes()
}

// RFC 2046 section 5.1.1: boundary := 0*69<bchars> bcharsnospace; bchars :=
// bcharsnospace / " "; bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_"
// / "," / "-" / "." / "/" / ":" / "=" / "?". "Boundary delimiters must not appear
// within the encapsulated material, and must be no longer than 70 characters, not
// counting the two leading hyphens." A boundary of 71 to Limits::max_boundary_len
// characters, one ending in a space, or one with a character outside bchars was
// taken without a word, so strict mode let it through. It is now InvalidBoundary;
// the lenient parse still reads the parts.
#[test]
fn boundary_outside_rfc2046_grammar_is_a_defect_but_still_read() {
    let seventy = "b".repeat(70);
    for good in [seventy.as_str(), "a", "simple boundary", "=_'()+_,-./:=?x", "0"] {
        let wire = multipart_with(good);
        let m = Message::parse(&wire);
        assert!(m.defects.is_empty(), "{good:?}: {:?}", m.defects);
        assert!(push_defects(&wire).is_empty(), "{good:?}");
    }
    let long = "b".repeat(71);
    let long200 = "c".repeat(200);
    for bad in [
        long.as_str(),
        long200.as_str(),
        "ends in space ",
        "a#b",
        "a*b",
        "grüße",
        "a\"b",
    ] {
        let wire = multipart_with(bad);
        let m = Message::parse(&wire);
        let kinds: Vec<_> = m.defects.iter().map(|d| d.kind).collect();
        assert_eq!(kinds, [DefectKind::InvalidBoundary], "{bad:?}");
        assert_eq!(push_defects(&wire), kinds, "{bad:?} push parser");
        // lenient: the parts are read all the same
        let PartKind::Multipart { children, .. } = &m.root().kind else {
            panic!("{bad:?}: not read as a multipart");
        };
        assert_eq!(children.len(), 2, "{bad:?}");
        assert_eq!(m.text(children[1]), "two");
        // strict: refused
        let strict = ParseOptions {
            strict: true,
            ..ParseOptions::default()
        };
        let err = Message::parse_with(&wire, strict).expect_err(bad);
        assert_eq!(err.first.kind, DefectKind::InvalidBoundary);
    }
}
