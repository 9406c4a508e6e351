//! The testdata/mime corpus: byte-exact re-emission, split invariance of the push
//! parser, known structures and defects, IMAP section cutting, limits.

mod common;

use common::corpus;
use mime::fuzzing::push_events;
use mime::{
    Address, DefectKind, Limits, Message, ParseOptions, PartKind, PieceKind, Section, TransferEncoding,
};
use proptest::prelude::*;

fn load(name: &str) -> Vec<u8> {
    corpus()
        .into_iter()
        .find(|(n, _)| n == name)
        .expect("corpus file")
        .1
}

fn defects(m: &Message<'_>) -> Vec<DefectKind> {
    let mut v: Vec<DefectKind> = m.defects.iter().map(|d| d.kind).collect();
    v.dedup();
    v
}

#[test]
fn reemit_is_byte_exact_and_gaps_are_delimiters() {
    for (name, data) in corpus() {
        let m = Message::parse(&data);
        assert_eq!(m.reassemble(), data, "{name}");
        for (kind, r) in m.pieces() {
            if kind == PieceKind::Delimiter {
                let gap = m.slice(r);
                let gap = gap
                    .strip_prefix(b"\r\n")
                    .or_else(|| gap.strip_prefix(b"\n"))
                    .unwrap_or(gap);
                assert!(
                    gap.starts_with(b"--"),
                    "{name}: gap {:?}",
                    String::from_utf8_lossy(gap)
                );
            }
        }
        // every part re-emits from its own range too
        for id in m.walk() {
            let raw = m.raw(id);
            let p = &m.parts[id];
            assert_eq!(raw.len(), p.body_range.end - p.header_range.start);
        }
    }
}

#[test]
fn push_parser_whole_bytewise_and_odd_chunks_agree() {
    for (name, data) in corpus() {
        let whole = push_events(&data, &[data.len()], Limits::default());
        assert_eq!(
            whole,
            push_events(&data, &[1], Limits::default()),
            "{name} bytewise"
        );
        assert_eq!(
            whole,
            push_events(&data, &[7, 2, 13, 1, 64], Limits::default()),
            "{name} odd"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn push_parser_random_splits(idx in 0usize..64, sizes in prop::collection::vec(1usize..200, 1..8)) {
        let files = corpus();
        let (name, data) = &files[idx % files.len()];
        let whole = push_events(data, &[data.len()], Limits::default());
        prop_assert_eq!(whole, push_events(data, &sizes, Limits::default()), "{}", name);
    }
}

/// Messages assembled from MIME-significant fragments (headers, delimiters of
/// nested boundaries, folding, bare LF and CR, base64) so that the chunk-size
/// proptest below also sees structures that no corpus file has.
fn fragment_message() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(&b"Content-Type: multipart/mixed; boundary=a\r\n"[..]),
            Just(&b"Content-Type: multipart/digest; boundary=\"b c\"\r\n"[..]),
            Just(&b"Content-Type: message/rfc822\r\n"[..]),
            Just(&b"Content-Transfer-Encoding: base64\r\n"[..]),
            Just(&b"Subject: =?UTF-8?Q?x?=\r\n \tfolded\r\n"[..]),
            Just(&b"From : obs\n"[..]),
            Just(&b"From mbox line\r\n"[..]),
            Just(&b"\r\n"[..]),
            Just(&b"\n"[..]),
            Just(&b"\r"[..]),
            Just(&b"--a\r\n"[..]),
            Just(&b"--a--\r\n"[..]),
            Just(&b"--b c  \r\n"[..]),
            Just(&b"--b c--"[..]),
            Just(&b"--ab\r\n"[..]),
            Just(&b"-"[..]),
            Just(&b"QUJD RA==\r\n"[..]),
            Just(&b"text line\r\n"[..]),
            Just(&b" continuation\r\n"[..]),
            Just(&b"no colon line\r\n"[..]),
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn push_parser_split_invariance_on_generated_messages(
        msg in fragment_message(),
        sizes in prop::collection::vec(1usize..40, 1..6),
    ) {
        // small limits so that depth, part, field and header-block limits are hit too
        let limits = Limits { max_field_bytes: 48, max_header_bytes: 160, max_depth: 4, max_parts: 12, ..Limits::default() };
        let whole = push_events(&msg, &[msg.len().max(1)], limits);
        prop_assert_eq!(&whole, &push_events(&msg, &sizes, limits));
        prop_assert_eq!(&whole, &push_events(&msg, &[1], limits));
        let m = Message::parse(&msg);
        prop_assert_eq!(m.reassemble(), msg);
    }
}

fn types(m: &Message<'_>) -> Vec<String> {
    m.walk().map(|id| m.parts[id].content_type.essence()).collect()
}

#[test]
fn known_structures_and_defects() {
    let cases: &[(&str, &[&str], &[DefectKind])] = &[
        ("01-simple.eml", &["text/plain"], &[]),
        (
            "02-alternative-qp.eml",
            &["multipart/alternative", "text/plain", "text/html"],
            &[],
        ),
        (
            "03-mixed-attachment.eml",
            &["multipart/mixed", "text/plain", "application/octet-stream"],
            &[],
        ),
        (
            "04-nested.eml",
            &[
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "multipart/related",
                "text/html",
                "image/gif",
                "message/rfc822",
                "multipart/mixed",
                "text/plain",
                "text/csv",
                "text/plain",
            ],
            &[],
        ),
        (
            "05-digest.eml",
            &[
                "multipart/mixed",
                "text/plain",
                "multipart/digest",
                "message/rfc822",
                "text/plain",
                "message/rfc822",
                "text/plain",
                "text/plain",
            ],
            &[],
        ),
        (
            "07-missing-close.eml",
            &["multipart/mixed", "text/plain", "text/plain"],
            &[DefectKind::CloseBoundaryNotFound],
        ),
        (
            "08-no-start-boundary.eml",
            &["multipart/mixed"],
            &[DefectKind::StartBoundaryNotFound],
        ),
        (
            "09-no-boundary-param.eml",
            &["multipart/mixed"],
            &[DefectKind::NoBoundaryInMultipart],
        ),
        (
            "12-lf-only.eml",
            &["multipart/mixed", "text/plain", "text/plain"],
            &[DefectKind::BareLineFeed],
        ),
        ("13-mbox-from.eml", &["text/plain"], &[DefectKind::MboxFromLine]),
        (
            "14-missing-separator.eml",
            &["text/plain"],
            &[DefectKind::MissingHeaderBodySeparator],
        ),
        (
            "15-first-continuation.eml",
            &["text/plain"],
            &[DefectKind::FirstHeaderLineIsContinuation],
        ),
        (
            "17-obsolete.eml",
            &["text/plain"],
            &[DefectKind::ObsoleteHeaderName],
        ),
        (
            "19-outer-boundary.eml",
            &[
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "text/html",
                "text/plain",
            ],
            &[DefectKind::CloseBoundaryNotFound, DefectKind::BoundaryOfOuterPart],
        ),
        (
            "20-invalid-content-type.eml",
            &["text/plain"],
            &[DefectKind::InvalidContentType],
        ),
        (
            "21-encoded-rfc822.eml",
            &["multipart/mixed", "message/rfc822"],
            &[DefectKind::InvalidEncodingForCompositeType],
        ),
        (
            "22-boundary-lookalikes.eml",
            &["multipart/mixed", "text/plain", "text/plain"],
            &[],
        ),
        (
            // two delimiter lines in a row enclose an empty part (no header, no body)
            "23-empty-parts.eml",
            &[
                "multipart/mixed",
                "text/plain",
                "text/plain",
                "text/plain",
                "application/octet-stream",
            ],
            &[],
        ),
    ];
    for (name, want_types, want_defects) in cases {
        let data = load(name);
        let m = Message::parse(&data);
        assert_eq!(types(&m), *want_types, "{name}");
        assert_eq!(defects(&m), *want_defects, "{name}");
        let strict = Message::parse_with(
            &data,
            ParseOptions {
                strict: true,
                ..ParseOptions::default()
            },
        );
        assert_eq!(strict.is_err(), !want_defects.is_empty(), "{name} strict");
    }
}

#[test]
fn decoding_defects_are_reported() {
    let data = load("10-bad-base64.eml");
    let m = Message::parse(&data);
    let (body, d) = m.decoded_body(0);
    assert_eq!(&*body, b"Hello World! again");
    assert_eq!(d, [DefectKind::InvalidBase64Characters]);
    let data = load("11-bad-qp.eml");
    let m = Message::parse(&data);
    assert_eq!(m.decoded_body(0).1, [DefectKind::InvalidQuotedPrintable]);
    assert!(m.text(0).starts_with("Good é then bad =ZZ and =4 and lower é"));
    assert!(m.text(0).contains("Soft break continues"));
    let data = load("26-binary-and-other-cte.eml");
    let m = Message::parse(&data);
    assert_eq!(m.parts[1].encoding, TransferEncoding::Binary);
    assert_eq!(m.decoded_body(2).1, [DefectKind::UnknownTransferEncoding]);
    assert_eq!(m.text(3), "Shouting encoding name");
}

#[test]
fn headers_of_the_simple_message() {
    let data = load("01-simple.eml");
    let m = Message::parse(&data);
    let r = m.root();
    assert_eq!(r.subject().as_deref(), Some("Café meeting at midi à noon"));
    let Address::Mailbox(from) = &r.from()[0] else {
        panic!()
    };
    assert_eq!(
        (from.name.as_deref(), from.address().as_str()),
        (Some("Alice A. Example"), "alice@example.test")
    );
    assert_eq!(r.to().len(), 2);
    let Address::Group { name, members } = &r.cc()[0] else {
        panic!()
    };
    assert_eq!((name.as_str(), members.len()), ("Team", 2));
    assert_eq!(members[1].name.as_deref(), Some("Eve, the auditor"));
    assert_eq!(r.date().unwrap().to_rfc5322(), "Tue, 3 Mar 2026 10:00:00 +0100");
    assert_eq!(
        r.message_id().as_deref(),
        Some("20260303100000.4711@example.test")
    );
    assert_eq!(r.mime_version(), Some((1, 0)));
    assert_eq!(
        r.header("received").unwrap().range.start,
        data.windows(9).position(|w| w == b"Received:").unwrap()
    );
    assert_eq!(
        m.text(0),
        "Hello Bob,\r\n\r\nsee you at the café at noon.\r\n-- \r\nAlice\r\n"
    );
}

#[test]
fn obsolete_and_utf8_headers() {
    let data = load("17-obsolete.eml");
    let m = Message::parse(&data);
    let r = m.root();
    let Address::Mailbox(f) = &r.from()[0] else {
        panic!()
    };
    assert_eq!(f.address(), "obs@example.test");
    let to = r.to();
    let Address::Mailbox(a) = &to[0] else { panic!() };
    assert_eq!(a.address(), "target@example.test");
    let Address::Mailbox(b) = &to[1] else { panic!() };
    assert_eq!(
        (b.address().as_str(), b.name.as_deref()),
        ("user@example.test", Some("User Name"))
    );
    let d = r.date().unwrap();
    assert_eq!((d.year, d.hour, d.minute, d.offset_minutes), (2026, 16, 20, -300));
    assert_eq!(
        r.in_reply_to(),
        ["parent.1@example.test", "parent.2@example.test"]
    );
    assert_eq!(r.references().len(), 3);
    assert_eq!(r.mime_version(), Some((1, 0)));

    let data = load("24-utf8-headers.eml");
    let m = Message::parse(&data);
    let Address::Mailbox(f) = &m.root().from()[0] else {
        panic!()
    };
    assert_eq!(f.name.as_deref(), Some("Zoë Ångström"));
    assert_eq!(
        m.root().subject().as_deref(),
        Some("Raw UTF-8 subject per RFC 6532 ✓")
    );

    let data = load("18-message-global.eml");
    let m = Message::parse(&data);
    let inner = m.resolve(&[2]).unwrap();
    let PartKind::Message { child: Some(c) } = m.parts[inner].kind else {
        panic!()
    };
    let Address::Mailbox(f) = &m.parts[c].from()[0] else {
        panic!()
    };
    assert_eq!((f.local.as_str(), f.domain.as_str()), ("jörg", "bücher.example"));
}

#[test]
fn charsets_decode() {
    let data = load("16-charsets.eml");
    let m = Message::parse(&data);
    assert_eq!(m.root().subject().as_deref(), Some("日本語"));
    let Address::Mailbox(f) = &m.root().from()[0] else {
        panic!()
    };
    assert_eq!(f.name.as_deref(), Some("Иван"));
    assert_eq!(
        m.text(m.resolve(&[1]).unwrap()),
        "Smart quotes “like these” and a euro sign €."
    );
    assert_eq!(m.text(m.resolve(&[2]).unwrap()), "こんにちは、世界");
    assert_eq!(m.text(m.resolve(&[3]).unwrap()), "Привет, мир");
    // text_cow borrows when nothing needs converting, and agrees with text()
    for id in m.walk() {
        assert_eq!(m.text_cow(id), m.text(id));
    }
    let d = load("01-simple.eml");
    let simple = Message::parse(&d);
    assert!(matches!(simple.text_cow(0), std::borrow::Cow::Borrowed(_)));
    assert_eq!(m.text(m.resolve(&[4]).unwrap()), "Hi Mom -\u{263A}-!");
}

#[test]
fn rfc2231_filenames() {
    let data = load("06-rfc2231.eml");
    let m = Message::parse(&data);
    let names: Vec<Option<String>> = m.walk().map(|id| m.parts[id].filename()).collect();
    assert_eq!(
        names,
        [
            None,
            Some("Résumé de l'année 2025.pdf".into()),
            Some("über.txt".into()),
            Some("a-very-long-file-name-that-was-split-into-two-sections.dat".into())
        ]
    );
    let ct = &m.parts[1].content_type;
    assert_eq!(ct.params[0].language.as_deref(), Some("fr"));
}

#[test]
fn imap_sections_cut_from_the_original() {
    let data = load("04-nested.eml");
    let m = Message::parse(&data);
    let s = |p: &[u32], w| String::from_utf8_lossy(m.section(p, w).unwrap()).into_owned();
    assert!(s(&[], Section::Header).starts_with("From: Nest"));
    assert!(s(&[], Section::Header).ends_with("boundary=outer\r\n\r\n"));
    assert_eq!(s(&[1, 1], Section::Body), "Plain version.");
    assert_eq!(
        s(&[1, 2, 1], Section::Body),
        "<img src=\"cid:logo@example.test\">"
    );
    assert!(s(&[1, 2, 2], Section::Mime).starts_with("Content-Type: image/gif\r\nContent-ID:"));
    assert!(s(&[2], Section::Mime).starts_with("Content-Type: message/rfc822\r\n"));
    assert!(s(&[2], Section::Header).starts_with("From: Inner Sender"));
    assert!(s(&[2], Section::Text).starts_with("--fwd\r\n"));
    assert!(s(&[2], Section::Body).starts_with("From: Inner Sender"));
    assert_eq!(s(&[2, 1], Section::Body), "Inner text.");
    assert!(s(&[2, 2], Section::Mime).starts_with("Content-Type: text/csv"));
    assert_eq!(s(&[3], Section::Body), "Trailer part.");
    assert!(m.section(&[4], Section::Body).is_none());
    assert!(m.section(&[1, 1], Section::Header).is_none());
    let p = &m.parts[m.resolve(&[1, 2, 2]).unwrap()];
    assert_eq!(p.content_id().as_deref(), Some("logo@example.test"));
    assert_eq!(
        p.content_location().as_deref(),
        Some("http://example.test/logo.gif")
    );
    assert_eq!(m.parts[m.resolve(&[3]).unwrap()].content_language(), ["en", "de"]);
    let d = load("01-simple.eml");
    let m = Message::parse(&d);
    assert_eq!(m.section(&[1], Section::Body), m.section(&[], Section::Text));
}

#[test]
fn rfc2046_example_preamble_and_epilogue() {
    let data = load("25-rfc2046-example.eml");
    let m = Message::parse(&data);
    let PartKind::Multipart {
        children,
        preamble,
        epilogue,
    } = &m.parts[0].kind
    else {
        panic!()
    };
    assert_eq!(children.len(), 2);
    assert!(m.slice(preamble.clone()).starts_with(b"This is the preamble."));
    assert!(
        m.slice(preamble.clone())
            .ends_with(b"non-MIME conformant readers.\r\n")
    );
    assert_eq!(
        m.slice(epilogue.clone().unwrap()),
        b"\r\nThis is the epilogue.  It is also to be ignored.\r\n"
    );
    assert!(!m.parts[children[0]].explicit_content_type);
    assert_eq!(
        m.body_bytes(children[0]),
        b"This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak."
    );
    assert_eq!(
        m.body_bytes(children[1]),
        b"This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n"
    );
}

#[test]
fn limits_keep_parsing_bounded() {
    // 10,000 nested multiparts: no stack overflow, depth capped, a defect recorded
    let mut msg = Vec::new();
    for i in 0..10_000 {
        msg.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
        );
    }
    msg.extend_from_slice(b"\r\ninnermost\r\n");
    let m = Message::parse(&msg);
    assert!(m.parts.len() <= 101);
    assert!(m.defects.iter().any(|d| d.kind == DefectKind::NestingTooDeep));
    let ev = push_events(&msg, &[1000], Limits::default());
    assert!(
        ev.iter()
            .any(|e| matches!(e, mime::Event::Defect(d) if d.kind == DefectKind::NestingTooDeep))
    );
    // 20,000 parts: capped at max_parts
    let mut msg = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n".to_vec();
    for _ in 0..20_000 {
        msg.extend_from_slice(b"--x\r\n\r\np\r\n");
    }
    msg.extend_from_slice(b"--x--\r\n");
    let m = Message::parse(&msg);
    assert_eq!(m.parts.len(), Limits::default().max_parts);
    assert!(m.defects.iter().any(|d| d.kind == DefectKind::TooManyParts));
    // a huge header field is skipped, the rest still parses
    let mut msg = b"Subject: ".to_vec();
    msg.extend(std::iter::repeat_n(b'a', 100_000));
    msg.extend_from_slice(b"\r\nFrom: a@b.test\r\n\r\nbody");
    let m = Message::parse(&msg);
    assert!(m.root().subject().is_none());
    assert_eq!(m.root().from().len(), 1);
    assert!(m.defects.iter().any(|d| d.kind == DefectKind::HeaderFieldTooLong));
    assert_eq!(m.body_bytes(0), b"body");
    // the push parser buffers a bounded amount on the same input (push_events checks
    // the bound) and skips the field the same way
    let ev = push_events(&msg, &[4096], Limits::default());
    let names: Vec<&[u8]> = ev
        .iter()
        .filter_map(|e| match e {
            mime::Event::Header(f) => Some(&f.name[..]),
            _ => None,
        })
        .collect();
    assert_eq!(names, [&b"From"[..]]);
    assert_eq!(ev, push_events(&msg, &[msg.len()], Limits::default()));
}

#[test]
fn mbox_from_line_versus_obsolete_from_field() {
    // "From :" is a header field with obsolete whitespace, "From x" an mbox line
    let obs = b"From : a@b.test\r\n\r\nbody";
    let m = Message::parse(obs);
    assert_eq!(m.root().from().len(), 1);
    assert_eq!(defects(&m), [DefectKind::ObsoleteHeaderName]);
    let mbox = b"From a@b.test Thu Mar 12 15:00:00 2026\r\nFrom: a@b.test\r\n\r\nbody";
    let m = Message::parse(mbox);
    assert_eq!(m.root().from().len(), 1);
    assert_eq!(defects(&m), [DefectKind::MboxFromLine]);
    assert_eq!(m.reassemble(), mbox);
    for data in [&obs[..], &mbox[..]] {
        for n in 1..8 {
            assert_eq!(
                push_events(data, &[n], Limits::default()),
                push_events(data, &[data.len()], Limits::default())
            );
        }
    }
    // an over-long first line starting with "From " is not taken for an mbox line,
    // whatever the chunking
    let limits = Limits {
        max_field_bytes: 64,
        ..Limits::default()
    };
    let mut long = b"From ".to_vec();
    long.extend(std::iter::repeat_n(b'x', 100));
    long.extend_from_slice(b"\r\nSubject: s\r\n\r\nbody");
    let whole = push_events(&long, &[long.len()], limits);
    for n in [1, 3, 17, 64, 65, 66] {
        assert_eq!(push_events(&long, &[n], limits), whole, "chunks of {n}");
    }
}

/// Header fields folded over several lines, some ending in a bare LF, some long
/// enough that the whole field exceeds `max_field_bytes` (and is skipped).
fn folded_field_message() -> impl Strategy<Value = Vec<u8>> {
    let line = (0usize..90, any::<bool>()).prop_map(|(n, bare)| {
        let mut l = b" ".to_vec();
        l.extend(std::iter::repeat_n(b'y', n));
        l.extend_from_slice(if bare { b"\n" } else { b"\r\n" });
        l
    });
    (
        prop::collection::vec(line, 0..8),
        any::<bool>(),
        prop::collection::vec(any::<bool>(), 0..4),
    )
        .prop_map(|(cont, first_bare, tail)| {
            let mut m = b"X-Long: start".to_vec();
            m.extend_from_slice(if first_bare { b"\n" } else { b"\r\n" });
            m.extend(cont.concat());
            m.extend_from_slice(b"Subject: s\r\n");
            for bare in tail {
                m.extend_from_slice(if bare { b"Y: v\n" } else { b"Y: v\r\n" });
            }
            m.extend_from_slice(b"\r\nbody\n");
            m
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Bare LFs inside a field skipped for exceeding `max_field_bytes` must not make
    /// the defect list depend on how much of the field was buffered when the limit
    /// was noticed (fuzz input testdata/fuzz-regressions/mime_push/crash-81d18c51...).
    #[test]
    fn push_parser_split_invariance_with_over_long_folded_fields(
        msg in folded_field_message(),
        sizes in prop::collection::vec(1usize..80, 1..6),
    ) {
        let limits = Limits { max_field_bytes: 128, ..Limits::default() };
        let whole = push_events(&msg, &[msg.len().max(1)], limits);
        prop_assert_eq!(&whole, &push_events(&msg, &sizes, limits));
        prop_assert_eq!(&whole, &push_events(&msg, &[1], limits));
    }
}

#[test]
fn bare_lf_inside_a_skipped_field_is_not_reported() {
    // the field "X-Long" is 3 lines and 200+ bytes: skipped with HeaderFieldTooLong;
    // its continuation line ends in a bare LF, which is not looked at, while the bare
    // LF after "Y: v" (a field that is kept) is reported at its real offset
    let mut msg = b"X-Long: a\r\n ".to_vec();
    msg.extend(std::iter::repeat_n(b'y', 150));
    msg.extend_from_slice(b"\n z\r\nY: v\nSubject: s\r\n\r\nbody");
    let y = msg.windows(4).position(|w| w == b"Y: v").expect("Y field");
    let limits = Limits {
        max_field_bytes: 128,
        ..Limits::default()
    };
    let whole = push_events(&msg, &[msg.len()], limits);
    let found: Vec<_> = whole
        .iter()
        .filter_map(|e| match e {
            mime::Event::Defect(d) => Some((d.kind, d.offset)),
            _ => None,
        })
        .collect();
    assert_eq!(
        found,
        [
            (DefectKind::HeaderFieldTooLong, 0),
            (DefectKind::BareLineFeed, y + 4)
        ]
    );
    for n in [1, 5, 64, 100, 129, 140] {
        assert_eq!(push_events(&msg, &[n], limits), whole, "chunks of {n}");
    }
}

/// Header blocks of CR, LF, folding white space, colons and text in any order,
/// with a nested part, so that bare CRs fall on first lines, continuation lines,
/// line ends and the end of the input.
fn cr_heavy_message() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"\r"[..]),
        Just(&b"\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"\r\n "[..]),
        Just(&b"\r\n\t"[..]),
        Just(&b" "[..]),
        Just(&b":"[..]),
        Just(&b"X-A"[..]),
        Just(&b"Subject"[..]),
        Just(&b"text"[..]),
        Just(&b"\r\r\n"[..]),
        Just(&b"\r\n\r\n--a\r\nX-B: y"[..]),
    ];
    (
        any::<bool>(),
        prop::collection::vec(piece, 0..40),
        prop::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(multipart, pieces, tail)| {
            let mut m: Vec<u8> = if multipart {
                b"Content-Type: multipart/mixed; boundary=a\r\n".to_vec()
            } else {
                Vec::new()
            };
            m.extend_from_slice(b"Subject: ");
            m.extend(pieces.concat());
            m.extend(tail);
            m
        })
}

/// The first bare CR (no LF after it) in the header fields the tree kept, in input
/// order: what the scanner's fused line search must find, as the plain search of
/// each whole field found it.
fn first_bare_cr(msg: &[u8], m: &Message<'_>) -> Option<usize> {
    m.parts.iter().flat_map(|p| &p.headers).find_map(|h| {
        h.range
            .clone()
            .find(|&i| msg[i] == b'\r' && msg.get(i + 1) != Some(&b'\n'))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn bare_cr_found_with_the_line_end_is_the_first_in_any_field(
        msg in cr_heavy_message(),
        sizes in prop::collection::vec(1usize..24, 1..6),
    ) {
        let m = Message::parse(&msg);
        let found: Vec<usize> = m
            .defects
            .iter()
            .filter(|d| d.kind == DefectKind::BareCarriageReturn)
            .map(|d| d.offset)
            .collect();
        prop_assert_eq!(found, first_bare_cr(&msg, &m).into_iter().collect::<Vec<_>>());
        // and the same at any chunking (small fields and blocks: skipped fields too)
        for limits in [Limits::default(), Limits { max_field_bytes: 40, max_header_bytes: 120, ..Limits::default() }] {
            let whole = push_events(&msg, &[msg.len().max(1)], limits);
            prop_assert_eq!(&whole, &push_events(&msg, &sizes, limits));
            prop_assert_eq!(&whole, &push_events(&msg, &[1], limits));
        }
    }
}
