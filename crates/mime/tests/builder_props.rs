//! The builder's output rules, checked on random messages (random header text with
//! non-ASCII, controls, long words and `=?`; random file names; attachments of random
//! bytes; nested multiparts and messages; every transport): build -> parse gives the
//! same parts, headers and decoded bodies back with no defect, strict and streaming
//! alike, and the bytes keep RFC 5322 2.1.1 / 2.2.3 (998 and 78), RFC 2047 (words of
//! at most 75 characters, on lines of at most 76, each whole UTF-8, never in a quoted
//! string, an addr-spec or a parameter), RFC 2045 6.7 / 6.8 (quoted-printable lines
//! of at most 76 with no trailing white space, base64 lines of 76).

mod common;

use base64::Engine as _;
use mime::{
    Address, BodyPart, Event, Limits, Mailbox, Message, MessageBuilder, ParseOptions, PartKind, PushParser,
    TransferEncoding, Transport,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Spec {
    Text(String),
    Html(String),
    Attachment {
        media_type: &'static str,
        filename: String,
        body: Vec<u8>,
        description: Option<String>,
        note: Option<String>,
        /// A transfer encoding forced with `BodyPart::encoding`.
        forced: Option<TransferEncoding>,
    },
    Inline(String, Vec<u8>),
    Multi(&'static str, Vec<Spec>),
    Message(String, Box<Spec>),
}

#[derive(Debug, Clone, Copy)]
struct Opts {
    dot_safe: bool,
    transport: Transport,
}

fn to_part(s: &Spec, o: Opts) -> BodyPart {
    match s {
        Spec::Text(t) => BodyPart::text(t),
        Spec::Html(t) => BodyPart::html(t),
        Spec::Attachment {
            media_type,
            filename,
            body,
            description,
            note,
            forced,
        } => {
            let mut p = BodyPart::attachment(media_type, filename, body.clone());
            if let Some(e) = forced {
                p = p.encoding(*e);
            }
            if let Some(d) = description {
                p = p.description(d);
            }
            if let Some(n) = note {
                p = p.header("X-Note", n);
            }
            p
        }
        Spec::Inline(cid, body) => BodyPart::inline("image/png", None, cid, body.clone()),
        Spec::Multi(sub, kids) => BodyPart::multipart(sub, kids.iter().map(|k| to_part(k, o)).collect()),
        Spec::Message(subject, inner) => BodyPart::message(
            MessageBuilder::new()
                .from(common::author())
                .subject(subject)
                .transport(o.transport)
                .dot_safe(o.dot_safe)
                .body(to_part(inner, o))
                .build_at(0, 0)
                .expect("inner message"),
        ),
    }
}

/// Header text: anything but CR, LF and NUL (which the builder refuses).
fn header_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[ -~]{0,20}",
            2 => "[a-zé€日本\u{1F600} ]{0,20}",
            1 => "[a-zA-Z]{60,130}",
            1 => "[\u{1}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{7f}\t]{1,3}",
            1 => Just("=?utf-8?q?x?=".to_owned()),
            1 => " {1,4}",
            1 => "[a-z]{1,3}\u{e9}{20,40}",
        ],
        0..6,
    )
    .prop_map(|v| v.concat())
}

fn body_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[ -~]{0,100}",
            "[a-z]{0,10}[ \t]{1,3}",
            "\\.[a-z ]{0,10}",
            "From [a-z]{0,10}",
            "[a-zé€日本 =]{0,60}",
            "[a-z]{995,1003}",
            "[a-z=]{70,80}",
        ],
        0..6,
    )
    .prop_map(|lines| lines.join("\r\n"))
}

fn filename() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.-]{1,20}",
        "[a-zé日\u{1F600} ]{1,30}\\.txt",
        "[a-z]{60,200}\\.bin",
        "[a-z\"\\\\;=?()<>@, \t]{1,20}",
        "[a-z\u{1}\u{7f}]{1,10}",
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    let leaf = prop_oneof![
        body_text().prop_map(Spec::Text),
        body_text().prop_map(Spec::Html),
        (
            prop_oneof![
                Just("application/octet-stream"),
                Just("image/png"),
                Just("text/csv")
            ],
            filename(),
            prop::collection::vec(any::<u8>(), 0..400),
            prop::option::of(header_text()),
            prop::option::of(header_text()),
            prop::option::of(prop_oneof![
                Just(TransferEncoding::Base64),
                Just(TransferEncoding::QuotedPrintable)
            ]),
        )
            .prop_map(
                |(media_type, filename, body, description, note, forced)| Spec::Attachment {
                    media_type,
                    filename,
                    body,
                    description,
                    note,
                    forced,
                }
            ),
        (
            "[a-z0-9.]{1,20}@[a-z]{1,10}\\.test",
            prop::collection::vec(any::<u8>(), 0..100)
        )
            .prop_map(|(c, b)| Spec::Inline(c, b)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            4 => (
                prop_oneof![Just("mixed"), Just("alternative"), Just("related"), Just("x-custom")],
                prop::collection::vec(inner.clone(), 1..4),
            )
                .prop_map(|(s, k)| Spec::Multi(s, k)),
            1 => (header_text(), inner).prop_map(|(s, i)| Spec::Message(s, Box::new(i))),
        ]
    })
}

/// A text/csv attachment is text: its bytes must be CRLF text without NUL, or the
/// builder (rightly) refuses them.
fn buildable(s: &Spec) -> bool {
    match s {
        Spec::Attachment {
            media_type: "text/csv",
            body,
            ..
        } => body.iter().enumerate().all(|(i, &b)| match b {
            b'\r' => body.get(i + 1) == Some(&b'\n'),
            b'\n' => i > 0 && body[i - 1] == b'\r',
            _ => true,
        }),
        Spec::Multi(_, kids) => kids.iter().all(buildable),
        Spec::Message(_, inner) => buildable(inner),
        _ => true,
    }
}

/// A display name reads back trimmed, and a blank one as none.
fn name_back(n: &str) -> Option<String> {
    let t = n.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn check_tree(m: &Message<'_>, spec: &Spec) {
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
            Spec::Attachment {
                media_type,
                filename,
                body,
                description,
                note,
                forced,
            } => {
                assert_eq!(p.content_type.essence(), *media_type);
                if let Some(e) = forced {
                    assert_eq!(p.encoding, *e);
                }
                assert_eq!(p.filename().as_deref(), Some(filename.as_str()), "file name");
                assert_eq!(&*m.decoded_body(id).0, &body[..]);
                assert_eq!(p.content_description().as_ref(), description.as_ref());
                assert_eq!(p.header_text("x-note").as_ref(), note.as_ref());
            }
            Spec::Inline(cid, body) => {
                assert_eq!(p.content_id().as_deref(), Some(cid.as_str()));
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
            Spec::Message(subject, inner) => {
                let PartKind::Message { child: Some(c) } = p.kind else {
                    panic!("not a nested message")
                };
                assert_eq!(m.parts[c].subject().as_ref(), Some(subject));
                stack.push((c, inner));
            }
        }
    }
}

/// Tokens of a header line: runs of non-blank characters (a quoted string may fold
/// at its white space too, RFC 5322 section 3.2.4).
fn tokens(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|t| !t.is_empty())
        .collect()
}

/// Quoted strings and angle-bracket contents of a header value.
fn quoted_and_angle(v: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < v.len() && v[i] != b'"' {
                    if v[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                out.push(&v[start..i.min(v.len())]);
            }
            b'<' => {
                let start = i + 1;
                while i < v.len() && v[i] != b'>' {
                    i += 1;
                }
                out.push(&v[start..i.min(v.len())]);
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn check_headers(m: &Message<'_>) {
    for id in m.walk() {
        let p = &m.parts[id];
        for line in m.header_bytes(id).split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let toks = tokens(line);
            // folded at 78 wherever a fold was possible: a longer line holds one
            // token (after the field name on a field's first line)
            let first_line = !line.starts_with(b" ") && !line.starts_with(b"\t");
            let movable = toks.len() - usize::from(first_line && !toks.is_empty());
            assert!(
                line.len() <= 78 || movable <= 1,
                "header line of {} not folded: {}",
                line.len(),
                String::from_utf8_lossy(line)
            );
            for t in &toks {
                let t = t.strip_suffix(b",").unwrap_or(t);
                if t.starts_with(b"=?") && t.ends_with(b"?=") {
                    // RFC 2047 section 2: at most 75 characters, lines with words at most 76
                    assert!(t.len() <= 75, "encoded word of {}", t.len());
                    assert!(line.len() <= 76, "line with an encoded word of {}", line.len());
                    // each word is whole UTF-8 (no character split between words)
                    let inner = &t[2..t.len() - 2];
                    let text = inner.splitn(3, |&b| b == b'?').nth(2).unwrap();
                    assert!(inner.to_ascii_uppercase().starts_with(b"UTF-8?B?"));
                    let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
                    assert!(std::str::from_utf8(&bytes).is_ok(), "word splits a character");
                }
            }
        }
        for h in &p.headers {
            let v = mime::unfold(h.value);
            // RFC 2047 section 5: no encoded word in a quoted string or addr-spec
            for inner in quoted_and_angle(&v) {
                assert!(!inner.windows(2).any(|w| w == b"=?"), "word in quotes or <>");
            }
            // ... nor in a parameter (RFC 2231 takes what needs encoding)
            if h.name.eq_ignore_ascii_case(b"content-type")
                || h.name.eq_ignore_ascii_case(b"content-disposition")
            {
                assert!(!v.windows(2).any(|w| w == b"=?"), "encoded word in a parameter");
            }
            // RFC 5322 section 2.2: printable ASCII (UTF-8 with SMTPUTF8), SP, HTAB
            assert!(
                v.iter().all(|&b| b >= b' ' && b != 0x7f || b == b'\t'),
                "control in a field"
            );
        }
    }
}

fn check_bodies(m: &Message<'_>) {
    for id in m.walk() {
        let p = &m.parts[id];
        if p.kind != PartKind::Leaf {
            continue;
        }
        let body = m.body_bytes(id);
        let lines: Vec<&[u8]> = body
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .collect();
        match p.encoding {
            TransferEncoding::Base64 => {
                // RFC 2045 section 6.8: lines of 76 (the last may be shorter)
                let n = lines.iter().filter(|l| !l.is_empty()).count();
                for (i, l) in lines.iter().filter(|l| !l.is_empty()).enumerate() {
                    assert!(
                        l.len() == 76 || (i + 1 == n && l.len() <= 76),
                        "base64 line of {}",
                        l.len()
                    );
                }
            }
            TransferEncoding::QuotedPrintable => {
                // RFC 2045 section 6.7 rules (3) and (5)
                for l in &lines {
                    assert!(l.len() <= 76, "quoted-printable line of {}", l.len());
                    assert!(!l.ends_with(b" ") && !l.ends_with(b"\t"), "trailing white space");
                    assert!(l.iter().all(|&b| (b' '..0x7f).contains(&b) || b == b'\t'));
                }
            }
            TransferEncoding::SevenBit => {
                assert!(body.is_ascii() && !body.contains(&0));
                assert!(lines.iter().all(|l| l.len() <= 998));
            }
            TransferEncoding::EightBit => {
                assert!(!body.contains(&0));
                assert!(lines.iter().all(|l| l.len() <= 998));
            }
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn built_messages_parse_back_exactly(
        spec in spec().prop_filter("text/csv bodies are CRLF text", buildable),
        subject in header_text(),
        from_name in header_text(),
        to_names in prop::collection::vec(prop::option::of(header_text()), 1..3),
        note in prop::option::of(header_text()),
        dot_safe in any::<bool>(),
        eight in any::<bool>(),
        binary in any::<bool>(),
        utf8 in any::<bool>(),
    ) {
        // an SMTPUTF8 server supports 8BITMIME too (RFC 6531 section 3.1)
        let eight = eight || utf8;
        let t = Transport { eight_bit: eight, binary, utf8_headers: utf8 };
        let o = Opts { dot_safe, transport: t };
        let mb = |name: Option<&String>, local: &str| Mailbox {
            name: name.cloned(),
            local: local.into(),
            domain: "example.test".into(),
        };
        let mut b = MessageBuilder::new()
            .from(mb(Some(&from_name), "from.me"))
            .subject(&subject)
            .transport(t)
            .dot_safe(dot_safe);
        for (i, n) in to_names.iter().enumerate() {
            b = b.to(mb(n.as_ref(), &format!("to{i}")));
        }
        if let Some(n) = &note {
            b = b.header("X-Comment", n);
        }
        let bytes = b.body(to_part(&spec, o)).build_at(1_760_000_000, 60).unwrap();
        // CRLF only, lines of at most 998 octets (RFC 5322 section 2.1.1)
        if !binary {
            for (i, &c) in bytes.iter().enumerate() {
                if c == b'\n' {
                    prop_assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {}", i);
                }
            }
            for l in bytes.split(|&c| c == b'\n') {
                prop_assert!(l.len() <= 999, "line of {}", l.len());
            }
        }
        if !eight && !binary {
            prop_assert!(bytes.is_ascii());
        }
        let m = Message::parse_with(&bytes, ParseOptions { strict: true, ..ParseOptions::default() });
        let m = match m {
            Ok(m) => m,
            Err(e) => return Err(TestCaseError::fail(format!("{e}: {:?}", e.defects))),
        };
        // the push parser agrees: no defect either
        let mut pp = PushParser::new(Limits::default());
        pp.feed(&bytes);
        pp.finish();
        while let Some(ev) = pp.poll_event() {
            prop_assert!(!matches!(ev, Event::Defect(_)), "{:?}", ev);
        }
        let r = m.root();
        prop_assert_eq!(r.subject(), Some(subject.clone()));
        prop_assert_eq!(r.header_text("x-comment"), note.clone());
        let from: Vec<Option<String>> = r.from().into_iter().map(|a| match a {
            Address::Mailbox(m) => m.name,
            Address::Group { .. } => Some("group?".into()),
        }).collect();
        prop_assert_eq!(from, vec![name_back(&from_name)]);
        let to: Vec<(Option<String>, String)> = r.to().into_iter().map(|a| match a {
            Address::Mailbox(m) => (m.name, m.local),
            Address::Group { .. } => (None, "group?".into()),
        }).collect();
        let want: Vec<(Option<String>, String)> = to_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_deref().and_then(name_back), format!("to{i}")))
            .collect();
        prop_assert_eq!(to, want);
        check_tree(&m, &spec);
        check_headers(&m);
        check_bodies(&m);
        if dot_safe {
            for line in bytes.split(|&b| b == b'\n') {
                prop_assert!(!line.starts_with(b".") && !line.starts_with(b"From "));
            }
        }
        prop_assert_eq!(m.reassemble(), bytes);
    }
}

/// Every way a caller's text reaches a header refuses CR, LF and NUL (header
/// injection), whatever else the text holds: a guard over all entry points.
#[test]
fn no_entry_point_lets_cr_lf_or_nul_into_a_header() {
    let mb = |name: Option<&str>, local: &str, domain: &str| Mailbox {
        name: name.map(str::to_owned),
        local: local.into(),
        domain: domain.into(),
    };
    for bad in ["\r", "\n", "\0", "\r\n", "é\r\nBcc: x@y"] {
        let s = |t: &str| format!("a{bad}{t}");
        let v = s("b");
        let leaf = || BodyPart::text("x");
        let cases: Vec<(&str, MessageBuilder)> = vec![
            (
                "subject",
                MessageBuilder::new().from(common::author()).subject(&v),
            ),
            (
                "header name",
                MessageBuilder::new().from(common::author()).header(&v, "x"),
            ),
            (
                "header value",
                MessageBuilder::new().from(common::author()).header("X-A", &v),
            ),
            (
                "display name",
                MessageBuilder::new().from(mb(Some(&v), "a", "example.test")),
            ),
            (
                "local part",
                MessageBuilder::new()
                    .from(common::author())
                    .to(mb(None, &v, "example.test")),
            ),
            (
                "domain",
                MessageBuilder::new().from(common::author()).cc(mb(None, "a", &v)),
            ),
            (
                "sender",
                MessageBuilder::new()
                    .from(common::author())
                    .sender(mb(Some(&v), "a", "example.test")),
            ),
            (
                "reply-to",
                MessageBuilder::new()
                    .from(common::author())
                    .reply_to(mb(None, "a", &v)),
            ),
            (
                "bcc",
                MessageBuilder::new()
                    .from(common::author())
                    .bcc(mb(Some(&v), "a", "example.test")),
            ),
            (
                "message id",
                MessageBuilder::new()
                    .from(common::author())
                    .message_id(&format!("{v}@x")),
            ),
            (
                "in-reply-to",
                MessageBuilder::new()
                    .from(common::author())
                    .in_reply_to(&format!("{v}@x")),
            ),
            (
                "references",
                MessageBuilder::new()
                    .from(common::author())
                    .references(&format!("{v}@x")),
            ),
            (
                "media type",
                MessageBuilder::new()
                    .from(common::author())
                    .body(BodyPart::raw(&format!("text/{v}"), vec![])),
            ),
            (
                "param name",
                MessageBuilder::new()
                    .from(common::author())
                    .body(leaf().param(&v, "x")),
            ),
            (
                "param value",
                MessageBuilder::new()
                    .from(common::author())
                    .body(leaf().param("format", &v)),
            ),
            (
                "description",
                MessageBuilder::new()
                    .from(common::author())
                    .body(leaf().description(&v)),
            ),
            (
                "part header name",
                MessageBuilder::new()
                    .from(common::author())
                    .body(leaf().header(&v, "x")),
            ),
            (
                "part header value",
                MessageBuilder::new()
                    .from(common::author())
                    .body(leaf().header("X-A", &v)),
            ),
            (
                "filename",
                MessageBuilder::new()
                    .from(common::author())
                    .body(BodyPart::attachment("image/png", &v, vec![])),
            ),
            (
                "content id",
                MessageBuilder::new()
                    .from(common::author())
                    .body(BodyPart::inline("image/png", None, &format!("{v}@x"), vec![])),
            ),
            (
                "inline filename",
                MessageBuilder::new()
                    .from(common::author())
                    .body(BodyPart::inline("image/png", Some(&v), "c@x", vec![])),
            ),
            (
                "multipart subtype",
                MessageBuilder::new()
                    .from(common::author())
                    .body(BodyPart::multipart(&v, vec![leaf()])),
            ),
        ];
        for (what, b) in cases {
            assert!(b.build_at(0, 0).is_err(), "{what} with {bad:?} was written");
        }
    }
}
