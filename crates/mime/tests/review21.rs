//! Review (session 21, known gaps) of the mime crate: each test failed on the code
//! before its fix; the rule it checks is quoted above it.

mod common;

use mime::{
    Address, BodyPart, BuildError, Message, MessageBuilder, ReturnPath, Transport, parse_addresses,
    parse_return_path,
};

// RFC 5322 section 3.4:
//   angle-addr      =   [CFWS] "<" addr-spec ">" [CFWS] / obs-angle-addr
//   addr-spec       =   local-part "@" domain
// (section 3.4.1). An address list has no empty `<>`: that form exists only as the
// null path of Return-Path (section 3.6.7). `To: <>` was read as a mailbox with an
// empty local part and domain, which looks like a real (empty) recipient; it is
// dropped now, like any other piece that is no address.
#[test]
fn empty_angle_addr_is_no_mailbox() {
    for v in [
        &b"<>"[..],
        b"Someone <>",
        b"< >",
        b"<(comment)>",
        b"<@route.test:>",
        b"<@example.com>",
    ] {
        assert_eq!(parse_addresses(v), [], "{}", String::from_utf8_lossy(v));
    }
    let v = parse_addresses(b"a@b.test, <>, c@d.test");
    assert_eq!(v.len(), 2);
    let v = parse_addresses(b"G: <>, e@f.test;");
    let [Address::Group { members, .. }] = &v[..] else {
        panic!("{v:?}")
    };
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].address(), "e@f.test");
    // An empty quoted local part is a local part (quoted-string may be empty).
    let v = parse_addresses(b"<\"\"@example.com>");
    assert_eq!(v.len(), 1);
}

// RFC 5322 section 3.6.7:
//   return          =   "Return-Path:" path CRLF
//   path            =   angle-addr / ([CFWS] "<" [CFWS] ">" [CFWS])
// RFC 5321 section 4.4: the null reverse-path of a bounce is written `<>`. The null
// path is told apart from an address, and from a field that is neither.
#[test]
fn return_path_null_and_address() {
    assert_eq!(parse_return_path(b"<>"), Some(ReturnPath::Null));
    assert_eq!(parse_return_path(b" < (null) > "), Some(ReturnPath::Null));
    let Some(ReturnPath::Mailbox(m)) = parse_return_path(b"<bounce@example.org>") else {
        panic!()
    };
    assert_eq!(m.address(), "bounce@example.org");
    assert_eq!(parse_return_path(b""), None);
    assert_eq!(parse_return_path(b"a@b.test, c@d.test"), None);
    assert_eq!(parse_return_path(b"<a@b.test> junk"), None);
    let msg = Message::parse(b"Return-Path: <>\r\nFrom: a@b.test\r\n\r\nbody\r\n");
    assert_eq!(msg.root().return_path(), Some(ReturnPath::Null));
    assert!(msg.root().addresses("return-path").is_empty());
}

// Odd Return-Path values give `None` or a path, never a panic.
#[test]
fn return_path_odd_values() {
    for v in [
        &b"a"[..],
        b"<",
        b">",
        b"<a",
        b"a>",
        b"\"\"",
        b"<<a@b>>",
        b"(c)",
        b"<@r:a@b>",
    ] {
        let _ = parse_return_path(v);
    }
    assert!(matches!(
        parse_return_path(b"a@b.test"),
        Some(ReturnPath::Mailbox(_))
    ));
    assert!(matches!(
        parse_return_path(b"<@r.test:a@b.test>"),
        Some(ReturnPath::Mailbox(_))
    ));
}

// RFC 2046 section 4.1.1: "The canonical form of any MIME "text" subtype MUST always
// represent a line break as a CRLF sequence. Similarly, any occurrence of CRLF in
// MIME "text" MUST represent a line break. Use of CR and LF outside of line break
// sequences is also forbidden." The builder silently turned every bare CR and LF of
// a text body into CRLF, so `a\rb` went out as two lines. DESIGN.md: "Strict by
// default, lenient by choice: bare CR or LF is an error unless a named option
// allows it". The conversion from a local newline convention (RFC 2049 section 4)
// is now that named option.
#[test]
fn builder_bare_cr_lf_in_text_is_refused_unless_normalising() {
    for body in ["a\rb", "a\nb", "line\r\nbare cr\r", "\n"] {
        for part in [
            BodyPart::text(body),
            BodyPart::html(body),
            BodyPart::raw("text/csv", body.as_bytes().to_vec()),
        ] {
            let e = MessageBuilder::new()
                .from(common::author())
                .body(part.clone())
                .build_at(0, 0);
            assert_eq!(e, Err(BuildError::BareLineEnding("a text body")), "{body:?}");
            let e = MessageBuilder::new()
                .from(common::author())
                .body(BodyPart::mixed(vec![part.clone()]))
                .build_at(0, 0);
            assert_eq!(e, Err(BuildError::BareLineEnding("a text body")), "{body:?}");
            let ok = MessageBuilder::new()
                .from(common::author())
                .normalize_line_endings(true)
                .body(part)
                .build_at(0, 0)
                .unwrap();
            let m = Message::parse(&ok);
            assert!(m.defects.is_empty());
            let want = body
                .replace("\r\n", "\n")
                .replace('\r', "\n")
                .replace('\n', "\r\n");
            assert_eq!(m.text(0), want);
        }
    }
    // CRLF text needs no option, and other types keep their bytes as given.
    assert!(
        MessageBuilder::new()
            .from(common::author())
            .body(BodyPart::text("a\r\nb\r\n"))
            .build_at(0, 0)
            .is_ok()
    );
    let bin = MessageBuilder::new()
        .from(common::author())
        .body(BodyPart::raw("application/octet-stream", b"a\rb\n".to_vec()))
        .build_at(0, 0)
        .unwrap();
    assert_eq!(&*Message::parse(&bin).decoded_body(0).0, b"a\rb\n");
}

// RFC 2045 sections 2.7 and 2.8: 7bit and 8bit data allow CR and LF "only as part
// of CRLF line separation sequences". A message/rfc822 given as bytes goes out as
// 7bit or 8bit without BINARYMIME; its bare LF were made CRLF silently too. Under
// BINARYMIME the bytes are kept as given.
#[test]
fn builder_bare_lf_in_attached_message_follows_the_option() {
    let inner = b"Subject: x\n\nbody\n".to_vec();
    let e = MessageBuilder::new()
        .from(common::author())
        .body(BodyPart::message(inner.clone()))
        .build_at(0, 0);
    assert_eq!(e, Err(BuildError::BareLineEnding("a message/rfc822 body")));
    let ok = MessageBuilder::new()
        .from(common::author())
        .normalize_line_endings(true)
        .body(BodyPart::message(inner.clone()))
        .build_at(0, 0)
        .unwrap();
    assert!(Message::parse(&ok).defects.is_empty());
    let binary = Transport {
        binary: true,
        ..Transport::default()
    };
    let kept = MessageBuilder::new()
        .from(common::author())
        .transport(binary)
        .body(BodyPart::message(inner.clone()))
        .build_at(0, 0)
        .unwrap();
    assert!(kept.ends_with(&inner));
}
