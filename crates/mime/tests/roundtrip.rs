//! build -> parse gives the built structure back (proptest over arbitrary trees,
//! headers and bodies), and the builder's output rules hold.

mod common;

use mime::{
    Address, BodyPart, BuildError, DateTime, Mailbox, Message, MessageBuilder, PartKind, TransferEncoding,
    Transport,
};
use proptest::prelude::*;

/// What we expect to read back for each leaf, in document order.
#[derive(Debug, Clone)]
enum Spec {
    Text(String),
    Html(String),
    Attachment(String, String, Vec<u8>),
    Multi(String, Vec<Spec>),
    /// An inline part with a Content-ID.
    Inline(String, Vec<u8>),
    /// A message/rfc822 part holding a message built from the inner spec.
    Message(Box<Spec>),
}

/// Options the outer message is built with; nested messages use the same.
#[derive(Debug, Clone, Copy)]
struct Opts {
    dot_safe: bool,
    transport: Transport,
}

fn to_part(s: &Spec, o: Opts) -> BodyPart {
    match s {
        Spec::Text(t) => BodyPart::text(t),
        Spec::Html(t) => BodyPart::html(t),
        Spec::Attachment(ct, name, body) => BodyPart::attachment(ct, name, body.clone()),
        Spec::Multi(sub, kids) => BodyPart::multipart(sub, kids.iter().map(|k| to_part(k, o)).collect()),
        Spec::Inline(cid, body) => BodyPart::inline("image/png", None, cid, body.clone()),
        Spec::Message(inner) => BodyPart::message(
            MessageBuilder::new()
                .from(common::author())
                .subject("inner")
                .transport(o.transport)
                .dot_safe(o.dot_safe)
                .body(to_part(inner, o))
                .build_at(0, 0)
                .expect("inner message"),
        ),
    }
}

fn text_strategy() -> impl Strategy<Value = String> {
    // CRLF-normalised text with long lines, dots, "From ", non-ASCII
    prop::collection::vec(
        prop_oneof![
            "[ -~]{0,120}",
            "\\.[a-z ]{0,10}",
            "From [a-z]{0,10}",
            "[a-zé€日本 ]{0,40}",
            "[a-z]{990,1010}",
        ],
        0..5,
    )
    .prop_map(|lines| lines.join("\r\n"))
}

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.-]{1,20}",
        "[a-zé日 ]{1,30}\\.txt",
        "[a-z]{100,150}\\.bin",
        "[a-z\"\\\\; ]{1,15}"
    ]
    .prop_filter("non-empty after trim", |s| !s.trim().is_empty() && s.trim() == s)
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    let leaf = prop_oneof![
        text_strategy().prop_map(Spec::Text),
        text_strategy().prop_map(Spec::Html),
        (
            prop_oneof![
                Just("application/octet-stream".to_owned()),
                Just("image/png".to_owned())
            ],
            name_strategy(),
            prop::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(c, n, b)| Spec::Attachment(c, n, b)),
        (
            "[a-z0-9.]{1,20}@[a-z]{1,10}\\.test",
            prop::collection::vec(any::<u8>(), 0..100)
        )
            .prop_map(|(c, b)| Spec::Inline(c, b)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            4 => (
                prop_oneof![
                    Just("mixed"),
                    Just("alternative"),
                    Just("related"),
                    Just("x-custom")
                ],
                prop::collection::vec(inner.clone(), 1..4),
            )
                .prop_map(|(s, k)| Spec::Multi(s.to_owned(), k)),
            1 => inner.prop_map(|s| Spec::Message(Box::new(s))),
        ]
    })
}

fn check(m: &Message<'_>, spec: &Spec) {
    // walk spec and tree together with explicit stacks
    let mut stack = vec![(0usize, spec)];
    while let Some((id, s)) = stack.pop() {
        let p = &m.parts[id];
        match s {
            Spec::Text(t) | Spec::Html(t) => {
                let sub = if matches!(s, Spec::Text(_)) {
                    "plain"
                } else {
                    "html"
                };
                assert!(p.content_type.is("text", sub));
                assert_eq!(&m.text(id), t);
            }
            Spec::Attachment(ct, name, body) => {
                assert_eq!(&p.content_type.essence(), ct);
                assert_eq!(p.filename().as_deref(), Some(name.as_str()));
                assert_eq!(&*m.decoded_body(id).0, &body[..]);
            }
            Spec::Multi(sub, kids) => {
                assert!(p.content_type.is("multipart", sub));
                let PartKind::Multipart { children, .. } = &p.kind else {
                    panic!("not multipart")
                };
                assert_eq!(children.len(), kids.len());
                for (c, k) in children.iter().zip(kids) {
                    stack.push((*c, k));
                }
            }
            Spec::Inline(cid, body) => {
                assert!(p.content_type.is("image", "png"));
                assert_eq!(p.content_id().as_deref(), Some(cid.as_str()));
                assert_eq!(
                    p.disposition().map(|d| d.kind.into_owned()),
                    Some("inline".to_owned())
                );
                assert_eq!(&*m.decoded_body(id).0, &body[..]);
            }
            Spec::Message(inner) => {
                assert!(p.content_type.is("message", "rfc822"));
                let PartKind::Message { child: Some(c) } = p.kind else {
                    panic!("not a nested message")
                };
                assert_eq!(m.parts[c].subject().as_deref(), Some("inner"));
                stack.push((c, inner));
            }
        }
    }
}

fn lines_ok(bytes: &[u8]) {
    for line in bytes.split(|&b| b == b'\n') {
        assert!(line.len() <= 999, "line of {} octets", line.len());
    }
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {i}");
        }
    }
}

fn header_lines_ok(bytes: &[u8]) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    for line in bytes[..end].split(|&b| b == b'\n') {
        assert!(
            line.len() <= 79,
            "header line over 78: {}",
            String::from_utf8_lossy(line)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn build_then_parse(spec in spec_strategy(), subject in "[ -~é€日]{0,200}", display in "[a-zA-Z.,\"é ]{0,40}",
                        dot_safe in any::<bool>(), eight in any::<bool>()) {
        let subject = subject.trim().to_owned();
        let display = display.trim().to_owned();
        let from = Mailbox { name: (!display.is_empty()).then(|| display.clone()), local: "from.me".into(), domain: "example.test".into() };
        let to = Mailbox { name: None, local: "you".into(), domain: "example.test".into() };
        let t = Transport { eight_bit: eight, ..Transport::default() };
        let o = Opts { dot_safe, transport: t };
        let bytes = MessageBuilder::new()
            .from(from).to(to).subject(&subject).transport(t).dot_safe(dot_safe)
            .in_reply_to("parent@example.test").references("root@example.test").references("parent@example.test")
            .body(to_part(&spec, o))
            .build_at(1_760_000_000, 120)
            .unwrap();
        lines_ok(&bytes);
        let m = Message::parse(&bytes);
        prop_assert!(m.defects.is_empty(), "{:?}", m.defects);
        let r = m.root();
        prop_assert_eq!(r.subject().unwrap_or_default(), subject);
        let Some(Address::Mailbox(f)) = r.from().into_iter().next() else { panic!("from") };
        prop_assert_eq!(f.name.unwrap_or_default(), display);
        prop_assert_eq!(r.date().unwrap().unix_time(), 1_760_000_000);
        prop_assert!(r.message_id().is_some_and(|id| id.ends_with("@example.test")));
        prop_assert_eq!(r.references(), vec!["root@example.test".to_owned(), "parent@example.test".to_owned()]);
        check(&m, &spec);
        if dot_safe {
            for line in bytes.split(|&b| b == b'\n') {
                prop_assert!(!line.starts_with(b".") && !line.starts_with(b"From "));
            }
        }
        if !eight {
            prop_assert!(bytes.is_ascii());
        }
        prop_assert_eq!(m.reassemble(), bytes);
    }
}

#[test]
fn headers_fold_at_78_and_words_stay_out_of_quotes() {
    let long = "word ".repeat(60);
    let bytes = MessageBuilder::new()
        .from(Mailbox {
            name: Some("Zoë \"Z\" Ångström".into()),
            local: "z".into(),
            domain: "example.test".into(),
        })
        .to(Mailbox {
            name: Some("Plain, Quoted".into()),
            local: "p".into(),
            domain: "example.test".into(),
        })
        .subject(long.trim())
        .normalize_line_endings(true)
        .body(BodyPart::mixed(vec![
            BodyPart::text("hi\n"),
            BodyPart::attachment("application/pdf", &"ünïcödé-".repeat(12), vec![1, 2, 3]),
        ]))
        .build_at(0, 0)
        .unwrap();
    header_lines_ok(&bytes);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("To: \"Plain, Quoted\" <p@example.test>"));
    assert!(text.contains("From: =?UTF-8?B?"));
    assert!(!text.contains("\"=?"));
    assert!(text.contains("filename*0*=utf-8''"));
    for line in text.lines() {
        assert!(line.len() <= 78, "{line}");
    }
    let m = Message::parse(&bytes);
    assert!(m.defects.is_empty());
    assert_eq!(m.root().subject().unwrap(), long.trim());
    assert_eq!(m.parts[2].filename().unwrap(), "ünïcödé-".repeat(12));
    assert_eq!(m.text(1), "hi\r\n");
}

#[test]
fn encodings_are_chosen_per_part_and_transport() {
    let parts = || {
        BodyPart::mixed(vec![
            BodyPart::text("plain ascii\r\n"),
            BodyPart::text("ascii with one é\r\n"),
            BodyPart::text("日本語のテキスト"),
            BodyPart::raw("application/octet-stream", vec![0, 1, 2]),
            BodyPart::text(&"x".repeat(1200)),
        ])
    };
    let encs = |t: Transport| {
        let b = MessageBuilder::new()
            .from(common::author())
            .body(parts())
            .transport(t)
            .build_at(0, 0)
            .unwrap();
        let m = Message::parse(&b);
        assert!(m.defects.is_empty());
        m.walk()
            .skip(1)
            .map(|id| m.parts[id].encoding)
            .collect::<Vec<_>>()
    };
    use TransferEncoding::*;
    assert_eq!(
        encs(Transport::default()),
        [SevenBit, QuotedPrintable, Base64, Base64, QuotedPrintable]
    );
    let eight = Transport {
        eight_bit: true,
        ..Transport::default()
    };
    assert_eq!(
        encs(eight),
        [SevenBit, EightBit, EightBit, Base64, QuotedPrintable]
    );
    let bin = Transport {
        binary: true,
        eight_bit: true,
        ..Transport::default()
    };
    assert_eq!(encs(bin), [SevenBit, EightBit, EightBit, Binary, QuotedPrintable]);
    let forced = MessageBuilder::new()
        .from(common::author())
        .body(BodyPart::text("é").encoding(EightBit))
        .build_at(0, 0);
    assert_eq!(forced, Err(BuildError::EncodingNotAllowed("8bit")));
}

#[test]
fn injection_and_limits_are_refused() {
    let e = MessageBuilder::new()
        .from(common::author())
        .subject("a\r\nBcc: evil@example.test")
        .build_at(0, 0);
    assert_eq!(e, Err(BuildError::ForbiddenByte("header value")));
    let e = MessageBuilder::new()
        .from(common::author())
        .header("X-Bad:Name", "v")
        .build_at(0, 0);
    assert_eq!(e, Err(BuildError::InvalidHeaderName));
    let e = MessageBuilder::new()
        .from(common::author())
        .to(Mailbox {
            name: None,
            local: "jörg".into(),
            domain: "example.test".into(),
        })
        .build_at(0, 0);
    assert!(matches!(e, Err(BuildError::NonAsciiAddress(_))));
    let utf8 = Transport {
        utf8_headers: true,
        eight_bit: true,
        ..Transport::default()
    };
    let ok = MessageBuilder::new()
        .from(common::author())
        .to(Mailbox {
            name: Some("Jörg".into()),
            local: "jörg".into(),
            domain: "bücher.example".into(),
        })
        .subject("Grüße")
        .transport(utf8)
        .build_at(0, 0)
        .unwrap();
    assert!(
        String::from_utf8(ok.clone())
            .unwrap()
            .contains("To: Jörg <jörg@bücher.example>")
    );
    let m = Message::parse(&ok);
    assert_eq!(m.root().subject().as_deref(), Some("Grüße"));
}

#[test]
fn boundaries_avoid_content_and_nested_messages_parse() {
    let inner = MessageBuilder::new()
        .from(common::author())
        .subject("inner")
        .date(DateTime::from_unix(0, 0))
        .message_id("inner@example.test")
        .body(BodyPart::alternative(vec![
            BodyPart::text("a"),
            BodyPart::html("<b>a</b>"),
        ]))
        .build_at(0, 0)
        .unwrap();
    let outer = MessageBuilder::new()
        .from(common::author())
        .body(BodyPart::mixed(vec![
            BodyPart::text("see attached"),
            BodyPart::message(inner.clone()),
            BodyPart::related(vec![
                BodyPart::html("<img src=\"cid:i@x\">"),
                BodyPart::inline("image/png", Some("i.png"), "i@x", vec![137, 80, 78, 71]),
            ]),
        ]))
        .build_at(0, 0)
        .unwrap();
    let m = Message::parse(&outer);
    assert!(m.defects.is_empty(), "{:?}", m.defects);
    let msg = m.resolve(&[2]).unwrap();
    assert_eq!(m.body_bytes(msg), &inner[..]);
    let PartKind::Message { child: Some(c) } = m.parts[msg].kind else {
        panic!()
    };
    assert_eq!(m.parts[c].subject().as_deref(), Some("inner"));
    assert_eq!(m.text(m.resolve(&[2, 2]).unwrap()), "<b>a</b>");
    let img = m.resolve(&[3, 2]).unwrap();
    assert_eq!(m.parts[img].content_id().as_deref(), Some("i@x"));
    assert_eq!(m.parts[img].disposition().unwrap().kind, "inline");
    // every boundary is distinct and absent from the content it encloses
    // (outer mixed, the nested message's alternative, related)
    let bounds: Vec<(usize, String)> = m
        .walk()
        .filter_map(|id| {
            m.parts[id]
                .content_type
                .param("boundary")
                .map(|b| (id, b.to_owned()))
        })
        .collect();
    assert_eq!(bounds.len(), 3);
    for (i, (_, a)) in bounds.iter().enumerate() {
        for (_, b) in &bounds[i + 1..] {
            assert!(
                !a.starts_with(b.as_str()) && !b.starts_with(a.as_str()),
                "{a} / {b}"
            );
        }
    }
    for (id, b) in &bounds {
        let PartKind::Multipart { children, .. } = &m.parts[*id].kind else {
            panic!("not a multipart")
        };
        for &c in children {
            let raw = m.raw(c);
            assert!(
                !raw.windows(b.len()).any(|w| w == b.as_bytes()),
                "boundary {b} inside part {c}"
            );
        }
    }
}

/// Dot-safe mode keeps every line starting with `.` or `From ` off the wire,
/// and refuses the parts it cannot re-encode instead of breaking that promise.
#[test]
fn dot_safe_refuses_what_it_cannot_reencode() {
    use TransferEncoding::{Base64, SevenBit};
    let risky = b"Subject: inner\r\n\r\n.hidden line\r\nFrom here\r\n".to_vec();
    let build = |part: BodyPart, t: Transport, dot_safe: bool| {
        MessageBuilder::new()
            .from(common::author())
            .transport(t)
            .dot_safe(dot_safe)
            .body(part)
            .build_at(0, 0)
    };
    let plain = Transport::default();
    // An attached message given as bytes cannot be QP-encoded (RFC 2046 5.2.1).
    assert_eq!(
        build(BodyPart::message(risky.clone()), plain, true),
        Err(BuildError::NotDotSafe("an attached message"))
    );
    assert!(build(BodyPart::message(risky.clone()), plain, false).is_ok());
    // Built with dot-safe mode itself, the same content nests fine.
    let inner = MessageBuilder::new()
        .from(common::author())
        .subject("inner")
        .dot_safe(true)
        .body(BodyPart::text(".hidden line\r\nFrom here\r\n"))
        .build_at(0, 0)
        .expect("inner");
    let outer = build(BodyPart::message(inner), plain, true).expect("outer");
    assert!(
        outer
            .split(|&b| b == b'\n')
            .all(|l| !l.starts_with(b".") && !l.starts_with(b"From "))
    );
    // A caller-fixed 7bit encoding cannot hide the line; base64 can.
    let text = ".dot\r\n";
    assert_eq!(
        build(BodyPart::text(text).encoding(SevenBit), plain, true),
        Err(BuildError::NotDotSafe("a part with a fixed encoding"))
    );
    assert!(build(BodyPart::text(text).encoding(SevenBit), plain, false).is_ok());
    assert!(build(BodyPart::text(text).encoding(Base64), plain, true).is_ok());
    // With BINARYMIME a risky attachment goes base64 instead of binary.
    let bin = Transport {
        binary: true,
        eight_bit: true,
        ..Transport::default()
    };
    let att = || BodyPart::attachment("application/octet-stream", "a.bin", b"x\r\n.y\r\n".to_vec());
    let out = build(att(), bin, true).expect("attachment");
    assert!(memchr::memmem::find(&out, b"Content-Transfer-Encoding: base64").is_some());
    let out = build(att(), bin, false).expect("attachment");
    assert!(memchr::memmem::find(&out, b"Content-Transfer-Encoding: binary").is_some());
    // A header field name starting with '.' would start a line with it.
    assert_eq!(
        MessageBuilder::new()
            .from(common::author())
            .dot_safe(true)
            .header(".X", "v")
            .build_at(0, 0),
        Err(BuildError::NotDotSafe("a header field name"))
    );
}

/// A line of exactly 998 octets is legal under 8bit (RFC 5322 section 2.1.1 counts
/// the octets before the CRLF). Found by CI: the builder counted the CR of each
/// line, so a text part whose last line had 998 octets went out as 8bit with no
/// CRLF of its own, got one from the multipart around it, and the message/rfc822
/// part holding that multipart was then refused as "needs 8bit".
#[test]
fn nested_message_with_998_octet_line_builds_as_8bit() {
    let t = Transport {
        eight_bit: true,
        ..Transport::default()
    };
    for body in [
        "é".to_owned() + &"x".repeat(996),
        "é".to_owned() + &"x".repeat(996) + "\r\nend",
    ] {
        let inner = MessageBuilder::new()
            .from(common::author())
            .subject("inner")
            .transport(t)
            .body(BodyPart::mixed(vec![
                BodyPart::text(&body),
                BodyPart::text("second"),
            ]))
            .build_at(0, 0)
            .unwrap();
        let outer = MessageBuilder::new()
            .from(common::author())
            .subject("outer")
            .transport(t)
            .body(BodyPart::message(inner))
            .build_at(0, 0)
            .unwrap();
        lines_ok(&outer);
        let m = Message::parse(&outer);
        assert!(m.defects.is_empty(), "{:?}", m.defects);
    }
}
