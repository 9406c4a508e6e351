//! Review (session 23, second pass) of the mime crate: follow-ups of the first
//! review. Each test failed on the code before its fix; the rule it checks is
//! quoted above it.

mod common;

use mime::{
    BodyPart, BuildError, DefectKind, Event, Limits, Mailbox, Message, MessageBuilder, ParseOptions,
    PartKind, PushParser,
};

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

// RFC 2045 section 3: entity-headers := [ content CRLF ] [ encoding CRLF ] [ id CRLF ]
// [ description CRLF ], MIME-message-headers add `version CRLF` (each at most once);
// RFC 2183 section 2 defines one Content-Disposition; RFC 5322 section 3.6's table
// allows Date, From, Sender, Reply-To, To, Cc, Bcc, Message-ID, In-Reply-To,
// References and Subject at most once in a message's header. A second such field
// was read without a word (the first is the one used), so strict mode let through
// a message whose readers may disagree on its type or sender (some take the last).
// It is now DefectKind::DuplicateHeaderField at the second field; the first still
// wins. RFC 5322 fields in a body part's header have no meaning (RFC 2045 section
// 3: "any field not beginning with content- ... may be ignored"), so they may repeat
// there; so may trace, Resent-* and other fields anywhere.
#[test]
fn a_second_single_field_is_a_defect_and_the_first_wins() {
    let fields = [
        "Content-Type: text/html",
        "content-transfer-encoding: base64",
        "Content-ID: <b@x>",
        "Content-Description: b",
        "Content-Disposition: inline",
        "MIME-Version: 1.0",
        "Date: Mon, 1 Jan 2024 00:00:00 +0000",
        "From: b@x",
        "Sender: b@x",
        "Reply-To: b@x",
        "To: b@x",
        "cc: b@x",
        "Bcc: b@x",
        "Message-ID: <b@x>",
        "In-Reply-To: <b@x>",
        "References: <b@x>",
        "SUBJECT: b",
    ];
    let strict = ParseOptions {
        strict: true,
        ..ParseOptions::default()
    };
    for f in fields {
        let first = f
            .replace(": b", ": a")
            .replace("<b@x>", "<a@x>")
            .replace("text/html", "text/plain");
        let first = first.replace("base64", "7bit").replace("inline", "attachment");
        let first = first.replace("Mon, 1 Jan", "Tue, 2 Jan");
        let wire = format!("{first}\r\nX-Other: 1\r\n{f}\r\n\r\nYWJj\r\n");
        let m = Message::parse(wire.as_bytes());
        let second_at = wire.rfind(f).unwrap();
        let d: Vec<_> = m.defects.iter().map(|d| (d.kind, d.offset)).collect();
        assert_eq!(d, [(DefectKind::DuplicateHeaderField, second_at)], "{f}");
        assert_eq!(
            push_defects(wire.as_bytes()),
            [DefectKind::DuplicateHeaderField],
            "{f}"
        );
        assert!(Message::parse_with(wire.as_bytes(), strict).is_err(), "{f}");
        // the first wins
        let r = m.root();
        assert!(r.content_type.is("text", "plain"), "{f}");
        assert_eq!(&*m.decoded_body(0).0, b"YWJj\r\n", "{f}");
        assert_ne!(r.subject().as_deref(), Some("b"));
        assert_ne!(r.message_id().as_deref(), Some("b@x"));
    }
    // fields that may repeat, and RFC 5322 fields in a body part's header
    let wire = "Received: a\r\nReceived: b\r\nResent-From: a@x\r\nResent-From: b@x\r\n\
                Comments: a\r\nComments: b\r\nKeywords: a\r\nKeywords: b\r\nX-A: 1\r\nX-A: 2\r\n\
                Content-Type: multipart/mixed; boundary=z\r\n\r\n\
                --z\r\nSubject: a\r\nSubject: b\r\nFrom: a@x\r\nFrom: b@x\r\n\r\nbody\r\n\
                --z\r\nContent-Type: message/rfc822\r\n\r\n\
                Subject: a\r\nTo: a@x\r\n\r\ninner\r\n--z--\r\n";
    let m = Message::parse(wire.as_bytes());
    assert!(m.defects.is_empty(), "{:?}", m.defects);
    assert!(push_defects(wire.as_bytes()).is_empty());
    // ... but not twice in a nested message's header, nor a Content-Type twice in a part
    let wire = "Content-Type: multipart/mixed; boundary=z\r\n\r\n\
                --z\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\nbody\r\n\
                --z\r\nContent-Type: message/rfc822\r\n\r\n\
                Subject: a\r\nSubject: b\r\n\r\ninner\r\n--z--\r\n";
    let m = Message::parse(wire.as_bytes());
    let d: Vec<_> = m.defects.iter().map(|d| (d.kind, d.offset)).collect();
    assert_eq!(
        d,
        [
            (
                DefectKind::DuplicateHeaderField,
                wire.find("Content-Type: text/html").unwrap()
            ),
            (DefectKind::DuplicateHeaderField, wire.find("Subject: b").unwrap()),
        ]
    );
    assert!(m.parts[1].content_type.is("text", "plain"));
}

// RFC 5322 section 2.2: a field body "MUST NOT include CR and LF except when used in
// 'folding' and 'unfolding'"; RFC 2047 section 5 puts encoded words in unstructured
// text, phrases and comments, but their decoded text is arbitrary octets, so
// `=0D=0A` in a Q word (or CR LF in a B word) decoded to a real line break, and
// `=00` to a NUL. A caller writing Subject or a display name back into a header
// (a reply, a forward, a log line) then wrote a header injection
// ("Subject: =?utf-8?q?hi=0D=0ABcc:_victim@x?="). The display helpers now hand out
// the safe form: CR and LF become spaces, NUL becomes U+FFFD, wherever they come
// from; `decode_unstructured_raw` keeps them for the caller who wants the octets.
#[test]
fn decoded_text_holds_no_cr_lf_or_nul() {
    use mime::{decode_unstructured, decode_unstructured_raw};
    let q = b"=?utf-8?q?hi=0D=0ABcc:_victim@x=00?=";
    assert_eq!(decode_unstructured(q), "hi  Bcc: victim@x\u{fffd}");
    assert_eq!(decode_unstructured_raw(q), "hi\r\nBcc: victim@x\0");
    // B word "a\r\nb\0", next to plain text with a NUL of its own
    let b = b"x\0 =?utf-8?b?YQ0KYgA=?=";
    assert_eq!(decode_unstructured(b), "x\u{fffd} a  b\u{fffd}");
    assert_eq!(decode_unstructured_raw(b), "x\0 a\r\nb\0");
    // the same through the parsed message: Subject, display names (phrase and
    // comment), parameters written with encoded words
    let wire = b"Subject: =?utf-8?q?hi=0D=0ABcc:_victim@x?=\r\n\
                 From: =?utf-8?q?Eve=0ABcc=3A_v=40x?= <eve@x>\r\n\
                 To: bob@x (=?utf-8?q?Bob=0D?=)\r\n\
                 Content-Type: text/plain; name=\"=?utf-8?q?a=0D=0Ab=00.txt?=\"\r\n\
                 Content-Description: =?utf-8?q?d=0A?=\r\n\r\nbody\r\n";
    let m = Message::parse(wire);
    let r = m.root();
    let clean = |s: &str| !s.contains(['\r', '\n', '\0']);
    let subject = r.subject().unwrap();
    assert!(clean(&subject), "{subject:?}");
    assert_eq!(subject, "hi  Bcc: victim@x");
    let names: Vec<String> = r
        .from()
        .into_iter()
        .chain(r.to())
        .filter_map(|a| match a {
            mime::Address::Mailbox(mb) => mb.name,
            mime::Address::Group { .. } => None,
        })
        .collect();
    assert_eq!(names, ["Eve Bcc: v@x", "Bob"]);
    assert_eq!(r.filename().as_deref(), Some("a  b\u{fffd}.txt"));
    assert_eq!(r.content_description().as_deref(), Some("d "));
}

// The same for RFC 2231 parameter values (section 4: `%0D%0A` and `%00` are any
// octets of the charset): a file name with a line break or a NUL in it was handed
// out as decoded; it is now in the safe form too.
#[test]
fn rfc2231_values_hold_no_cr_lf_or_nul() {
    let wire = b"Content-Type: text/plain; name*=utf-8''a%0D%0Ab%00.txt\r\n\
                 Content-Disposition: attachment; filename*0*=utf-8''x%0A; filename*1=\"y\"\r\n\r\nbody\r\n";
    let m = Message::parse(wire);
    let r = m.root();
    assert_eq!(r.content_type.param("name"), Some("a  b\u{fffd}.txt"));
    assert_eq!(r.filename().as_deref(), Some("x y"));
}

// RFC 5322 section 3.6 (Subject, Date, ... at most once in a message's header) and
// RFC 2045 section 3 (each Content-* field, MIME-Version at most once per entity):
// the builder refused an extra field named as one it writes itself, but not an extra
// field given twice (`.header("Subject", ..)` twice, no `subject()`), nor a field of
// the root body part's own extras that the message header block already holds
// (Subject, Date, MIME-Version: the root part's fields share that block). Such a
// message parsed with DefectKind::DuplicateHeaderField. All are refused now.
#[test]
fn builder_refuses_a_second_single_field() {
    let dup = |r: Result<Vec<u8>, BuildError>| matches!(r, Err(BuildError::DuplicateField(_)));
    let b = || MessageBuilder::new().from(common::author());
    assert!(dup(b()
        .header("Subject", "a")
        .header("subject", "b")
        .build_at(0, 0)));
    assert!(dup(b()
        .header("Comments", "a")
        .header("Reply-To", "a@x")
        .header("REPLY-TO", "b@x")
        .build_at(0, 0)));
    assert!(dup(b()
        .subject("a")
        .body(BodyPart::text("x").header("Subject", "b"))
        .build_at(0, 0)));
    assert!(dup(b()
        .body(BodyPart::text("x").header("Date", "b"))
        .build_at(0, 0)));
    assert!(dup(b()
        .body(BodyPart::text("x").header("MIME-Version", "1.0"))
        .build_at(0, 0)));
    assert!(dup(b()
        .header("Keywords", "k")
        .header("X-A", "1")
        .body(BodyPart::text("x").header("To", "a@x"))
        .header("To", "b@x")
        .build_at(0, 0)));
    let part = BodyPart::text("x")
        .header("MIME-Version", "1.0")
        .header("mime-version", "1.0");
    assert!(dup(b().body(BodyPart::mixed(vec![part])).build_at(0, 0)));
    let part = BodyPart::text("x")
        .header("Content-Language", "en")
        .header("Content-Language", "de");
    // not a single field: may repeat; nor are RFC 5322 fields in a body part's header
    for part in [
        part,
        BodyPart::text("x").header("Subject", "a").header("Subject", "b"),
    ] {
        let built = b()
            .subject("s")
            .body(BodyPart::mixed(vec![part]))
            .build_at(0, 0)
            .unwrap();
        let m = Message::parse(&built);
        assert!(m.defects.is_empty(), "{:?}", m.defects);
    }
    // one of each is fine
    let built = b()
        .header("Subject", "a")
        .header("Keywords", "k")
        .header("Keywords", "l")
        .body(
            BodyPart::text("x")
                .header("To", "a@x")
                .header("Content-Language", "en"),
        )
        .build_at(0, 0)
        .unwrap();
    assert!(Message::parse(&built).defects.is_empty());
}

// RFC 5322 section 2.2: a field body is "printable US-ASCII characters as well as the
// space (SP, ASCII value 32) and horizontal tab (HTAB, ASCII value 9)"; other
// controls exist only in the obsolete syntax (section 4.1 obs-utext, obs-qtext),
// which "MUST NOT" be generated (section 4). The builder wrote a Subject, a display
// name, a Content-Description or a parameter holding BEL, ESC, DEL or another
// control as is. They now go as RFC 2047 words (unstructured text, phrases) or as
// RFC 2231 percent-encoding (parameters), and read back the same.
#[test]
fn builder_writes_no_control_characters_in_headers() {
    let weird = "a\x07b\x1bc\x7fd\x01e\tf";
    let built = MessageBuilder::new()
        .from(Mailbox {
            name: Some(weird.into()),
            local: "x".into(),
            domain: "example.test".into(),
        })
        .subject(weird)
        .header("X-Note", weird)
        .body(
            BodyPart::attachment("application/octet-stream", weird, vec![1, 2])
                .description(weird)
                .header("Content-Language", "en"),
        )
        .build_at(0, 0)
        .unwrap();
    let head_end = built.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    for (i, &c) in built[..head_end].iter().enumerate() {
        assert!(
            c >= b' ' && c != 0x7f || c == b'\r' || c == b'\n' || c == b'\t',
            "control {c:#04x} at {i} in {}",
            String::from_utf8_lossy(&built[..head_end]).escape_debug()
        );
    }
    let m = Message::parse(&built);
    assert!(m.defects.is_empty(), "{:?}", m.defects);
    let r = m.root();
    assert_eq!(r.subject().as_deref(), Some(weird));
    assert_eq!(r.header_text("x-note").as_deref(), Some(weird));
    assert_eq!(r.content_description().as_deref(), Some(weird));
    assert_eq!(r.filename().as_deref(), Some(weird));
    let Some(mime::Address::Mailbox(f)) = r.from().into_iter().next() else {
        panic!("from")
    };
    assert_eq!(f.name.as_deref(), Some(weird));
}

// RFC 5322 section 2.2.3: folding is a CRLF inserted "before any WSP" (space or
// HTAB), and section 2.1.1: lines SHOULD be at most 78 characters. The builder
// folded only before a space, so a value whose words a TAB separates went out on
// one line of any length below 998. It now folds before a TAB as well.
#[test]
fn builder_folds_before_a_tab_too() {
    let words: Vec<String> = (0..12).map(|i| format!("word{i}-{}", "x".repeat(12))).collect();
    let subject = words.join("\t");
    let name = words[..6].join("\t");
    let built = MessageBuilder::new()
        .from(Mailbox {
            name: Some(name.clone()),
            local: "a".into(),
            domain: "example.test".into(),
        })
        .subject(&subject)
        .header("X-Tabs", &format!("a {}", words.join(" \t")))
        .build_at(0, 0)
        .unwrap();
    let head_end = built.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    for line in built[..head_end].split(|&b| b == b'\n') {
        assert!(line.len() <= 79, "{}", String::from_utf8_lossy(line));
    }
    let m = Message::parse(&built);
    assert!(m.defects.is_empty());
    assert_eq!(m.root().subject().as_deref(), Some(subject.as_str()));
    assert_eq!(
        m.root().header_text("x-tabs"),
        Some(format!("a {}", words.join(" \t")))
    );
    let Some(mime::Address::Mailbox(f)) = m.root().from().into_iter().next() else {
        panic!("from")
    };
    assert_eq!(f.name, Some(name));
}

// RFC 5322 section 2.1.1 (lines SHOULD be at most 78) and section 3.2.4: a
// quoted-string is `DQUOTE *([FWS] qcontent) [FWS] DQUOTE`, so it may fold at its
// white space. A display name written as a quoted string (it holds a special such
// as '(' or '.') went out as one token, on a line of any length up to 998; it now
// folds between its words like any other phrase.
#[test]
fn builder_folds_a_long_quoted_display_name() {
    let name = format!("Dr. ({}", "word ".repeat(40).trim_end());
    let built = MessageBuilder::new()
        .from(Mailbox {
            name: Some(name.clone()),
            local: "x".into(),
            domain: "example.test".into(),
        })
        .build_at(0, 0)
        .unwrap();
    let head_end = built.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    for line in built[..head_end].split(|&b| b == b'\n') {
        assert!(line.len() <= 79, "{}", String::from_utf8_lossy(line));
    }
    let m = Message::parse(&built);
    assert!(m.defects.is_empty());
    let Some(mime::Address::Mailbox(f)) = m.root().from().into_iter().next() else {
        panic!("from")
    };
    assert_eq!(f.name, Some(name));
}

// RFC 2047 section 5: encoded words may replace text in unstructured fields,
// comments and phrases only; "an 'encoded-word' MUST NOT appear in any portion of an
// 'addr-spec'" (rule 3), nor in a msg-id, a date or a MIME parameter. The builder's
// `header()` takes an unstructured value, and encoded a non-ASCII one (or one with
// '=?', a control or outer white space) as words whole, even under the name of a
// structured field: `.header("Reply-To", "Jörg <j@example.test>")` went out as
// `Reply-To: =?UTF-8?B?...?=`, which reads as no address. Such a value under the
// name of a structured field is refused now (BuildError::StructuredField); a plain
// one is written as given.
#[test]
fn builder_refuses_encoding_a_structured_field() {
    for (name, value) in [
        ("Reply-To", "Jörg <j@example.test>"),
        ("resent-to", "=?utf-8?q?J=C3=B6rg?= <j@example.test>"),
        ("Return-Path", " <a@example.test>"),
        ("Resent-Message-ID", "<a\u{7}@example.test>"),
        ("Received", "from höst by x; Thu, 1 Jan 1970 00:00:00 +0000"),
    ] {
        let built = MessageBuilder::new()
            .from(common::author())
            .header(name, value)
            .build_at(0, 0);
        assert_eq!(built, Err(BuildError::StructuredField(name.to_owned())), "{name}");
    }
    let built = MessageBuilder::new()
        .from(common::author())
        .header("Reply-To", "Jorg <j@example.test>, b@example.test")
        .header("Resent-Message-ID", "<r@example.test>")
        .build_at(0, 0)
        .unwrap();
    let m = Message::parse(&built);
    assert!(m.defects.is_empty());
    assert_eq!(m.root().reply_to().len(), 2);
}

// RFC 5322 section 2.1.1: lines SHOULD be at most 78 characters. The builder kept
// the spaces of a run (an empty word between two spaces) on the line whatever its
// length, so `Subject: xxx...x     yy` passed 78 by the run; the run now folds too,
// and no fold leaves a line of white space only.
#[test]
fn builder_folds_inside_a_run_of_spaces() {
    for n in 55..70 {
        for spaces in 2..6 {
            let subject = format!(
                "{}{}yy{}zz",
                "x".repeat(n),
                " ".repeat(spaces),
                " ".repeat(spaces)
            );
            let built = MessageBuilder::new()
                .from(common::author())
                .subject(&subject)
                .build_at(0, 0)
                .unwrap();
            let head_end = built.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            for line in built[..head_end].split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                assert!(
                    line.len() <= 78,
                    "{n} {spaces}: {}",
                    String::from_utf8_lossy(line)
                );
                assert!(line.iter().any(|&b| b != b' ' && b != b'\t'), "blank line");
            }
            let m = Message::parse(&built);
            assert!(m.defects.is_empty());
            assert_eq!(m.root().subject(), Some(subject));
        }
    }
}

// RFC 5322 section 3.6.2: "If the from field contains more than one mailbox
// specification in the mailbox-list, then the sender field, containing the field
// body of the sender field MUST appear in the message." The builder wrote two From
// mailboxes without a Sender; it now refuses that (BuildError::SenderRequired).
#[test]
fn builder_wants_a_sender_for_several_authors() {
    let mb = |l: &str| Mailbox {
        name: None,
        local: l.into(),
        domain: "example.test".into(),
    };
    let built = MessageBuilder::new().from(mb("a")).from(mb("b")).build_at(0, 0);
    assert_eq!(built, Err(BuildError::SenderRequired));
    let built = MessageBuilder::new()
        .from(mb("a"))
        .from(mb("b"))
        .sender(mb("a"))
        .build_at(0, 0)
        .unwrap();
    let m = Message::parse(&built);
    assert_eq!((m.root().from().len(), m.root().sender().len()), (2, 1));
}
