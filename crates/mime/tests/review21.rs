//! Review (session 21, known gaps) of the mime crate: each test failed on the code
//! before its fix; the rule it checks is quoted above it.

use mime::{Address, Message, ReturnPath, parse_addresses, parse_return_path};

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
