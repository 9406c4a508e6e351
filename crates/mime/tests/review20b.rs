//! Review of session 20, second pass over the mime crate: each test failed on the
//! code before its fix; the RFC rule it checks is quoted above it.

mod common;

use mime::fuzzing::push_events;
use mime::{
    Address, BodyPart, DateError, DateTime, Limits, Message, MessageBuilder, PushParser, decode_charset,
    parse_addresses,
};

// RFC 5322 section 3.3: `zone = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone`. A numeric
// zone of two or five digits is neither; it was read as offset 0 (or its first four
// digits) and the strict parse let it through as valid.
#[test]
fn numeric_zone_must_have_four_digits() {
    for v in [
        &b"Fri, 21 Nov 1997 09:55:06 +05"[..],
        b"Fri, 21 Nov 1997 09:55:06 -5",
        b"Fri, 21 Nov 1997 09:55:06 +05300",
        b"Fri, 21 Nov 1997 09:55:06 + (no digits)",
    ] {
        let text = String::from_utf8_lossy(v);
        match DateTime::parse_strict(v) {
            Err(DateError::InvalidZone { date }) => {
                // the date is kept, with "no information" about its zone
                assert_eq!(
                    (date.year, date.month, date.day, date.hour),
                    (1997, 11, 21, 9),
                    "{text}"
                );
                assert_eq!(date.offset_minutes, 0, "{text}");
                assert_eq!(DateTime::parse(v), Some(date), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    // four digits, with or without a comment after, are fine
    for v in [
        &b"Fri, 21 Nov 1997 09:55:06 +0530"[..],
        b"Fri, 21 Nov 1997 09:55:06 -0000 (unknown)",
        b"Fri, 21 Nov 1997 09:55:06 GMT",
    ] {
        assert!(
            DateTime::parse_strict(v).is_ok(),
            "{}",
            String::from_utf8_lossy(v)
        );
    }
    assert_eq!(
        DateTime::parse(b"21 Nov 1997 09:55:06 +0530")
            .unwrap()
            .offset_minutes,
        330
    );
    assert_eq!(
        DateTime::parse(b"21 Nov 1997 09:55:06 -0100")
            .unwrap()
            .offset_minutes,
        -60
    );
}

// RFC 2781 section 4.3: "Text labelled with the "UTF-16" charset might be serialized
// in either big-endian or little-endian order. If the first two octets of the text
// is 0xFE followed by 0xFF, then the text can be interpreted as being big-endian.
// [...] If the first two octets of the text is not 0xFE followed by 0xFF, and is not
// 0xFF followed by 0xFE, then the text SHOULD be interpreted as being big-endian."
// The label went to encoding_rs, whose WHATWG table maps "utf-16" to little-endian
// with the mark left in the text: big-endian text came out as CJK garbage.
#[test]
fn utf16_label_follows_the_byte_order_mark_and_defaults_to_big_endian() {
    for (bytes, want) in [
        (&b"\xfe\xff\0h\0i\x00\xe9"[..], "hi\u{e9}"),
        (b"\xff\xfeh\0i\0\xe9\x00", "hi\u{e9}"),
        (b"\0h\0i\x00\xe9", "hi\u{e9}"),
        (b"", ""),
    ] {
        for label in ["UTF-16", "utf-16"] {
            let (text, known) = decode_charset(bytes, label);
            assert_eq!((&*text, known), (want, true), "{label} {bytes:?}");
        }
    }
    // the labels with an order keep it; an odd last byte becomes U+FFFD, no panic
    assert_eq!(decode_charset(b"h\0i\0", "UTF-16LE").0, "hi");
    assert_eq!(decode_charset(b"\0h\0i", "UTF-16BE").0, "hi");
    assert_eq!(decode_charset(b"\0h\0", "UTF-16").0, "h\u{fffd}");
    // and a message body labelled UTF-16 reads so
    let msg =
        b"Content-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n\r\nAGgAaQ==\r\n";
    let m = mime::Message::parse(msg);
    assert_eq!(m.text(m.resolve(&[1]).unwrap()), "hi");
}

// RFC 2046 section 5.1.1: "dash-boundary transport-padding CRLF", "transport-padding
// := *LWSP-char ; Composers MUST NOT generate non-zero length transport padding, but
// receivers MUST be able to handle padding added by message transports." Padding of
// more than 64 characters hid the delimiter, so every part was lost.
#[test]
fn long_transport_padding_after_a_boundary_is_still_a_delimiter() {
    for pad in [70, 400, 990] {
        let sp = " \t".repeat(pad / 2);
        let msg = format!(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b{sp}\r\n\r\none\r\n--b{sp}\r\n\r\ntwo\r\n--b--{sp}\r\nepilogue\r\n"
        );
        let m = Message::parse(msg.as_bytes());
        assert!(m.defects.is_empty(), "{pad}: {:?}", m.defects);
        for (path, want) in [(1, "one"), (2, "two")] {
            let id = m.resolve(&[path]).unwrap();
            assert_eq!(m.text(id), want, "{pad}");
        }
        assert_eq!(m.reassemble(), msg.as_bytes());
        // the same events whatever the chunking
        let whole = push_events(msg.as_bytes(), &[msg.len()], Limits::default());
        for size in [1, 7, 64] {
            assert_eq!(
                push_events(msg.as_bytes(), &[size], Limits::default()),
                whole,
                "{pad} {size}"
            );
        }
    }
    // Padding is bounded by the line limit: a longer run of blanks is body text, and
    // the push parser does not hold it all.
    let mut msg = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b".to_vec();
    msg.extend(std::iter::repeat_n(b' ', 100_000));
    let mut p = PushParser::new(Limits::default());
    let mut most = 0;
    for chunk in msg.chunks(100) {
        p.feed(chunk);
        while p.poll_event().is_some() {}
        most = most.max(p.buffered());
    }
    assert!(most < 2_000, "{most}");
}

// RFC 5322 section 4.1: `obs-phrase = word *(word / "." / CFWS)`, and "the period
// character is currently used in many messages in the display-name portion of
// addresses, especially for initials in names, and therefore must be interpreted
// properly." The space after an initial was dropped: `Joe Q. Public` read back as
// `Joe Q.Public`.
#[test]
fn display_name_keeps_the_space_after_an_initial() {
    for (value, want) in [
        (&b"Joe Q. Public <john.q.public@example.com>"[..], "Joe Q. Public"),
        (b"J. R. R. Tolkien <jrrt@example.com>", "J. R. R. Tolkien"),
        (b"\"Joe Q.\" Public <john.q.public@example.com>", "Joe Q. Public"),
        (b"Dr. =?utf-8?q?J=C3=B6rg?= <j@example.com>", "Dr. J\u{f6}rg"),
        // a lone period between words still joins them, as before
        (b"Joe . Public <john.q.public@example.com>", "Joe.Public"),
        (b"Joe Q.Public <john.q.public@example.com>", "Joe Q.Public"),
    ] {
        let got = parse_addresses(value);
        let [Address::Mailbox(m)] = &got[..] else {
            panic!("{}: {got:?}", String::from_utf8_lossy(value))
        };
        assert_eq!(
            m.name.as_deref(),
            Some(want),
            "{}",
            String::from_utf8_lossy(value)
        );
    }
}

// RFC 2047 section 5 (1): an encoded-word in unstructured text "MUST" decode to its
// text, and its `_` or `=20` is a space of that text (section 4.2); the builder
// writes a Subject with surrounding spaces as encoded words for that reason. The
// reader trimmed the decoded text, so such a Subject (and any trailing U+3000 or
// U+00A0, which Rust counts as white space) came back shortened.
#[test]
fn decoded_subject_keeps_its_encoded_white_space() {
    for subject in ["  lead", "trail  ", " both ", "x\u{3000}", "\u{a0}nbsp"] {
        let bytes = MessageBuilder::new()
            .from(common::author())
            .subject(subject)
            .body(BodyPart::text("x\r\n").description(subject))
            .build_at(0, 0)
            .unwrap();
        let m = Message::parse(&bytes);
        assert_eq!(m.root().subject().as_deref(), Some(subject), "{subject:?}");
        assert_eq!(
            m.root().content_description().as_deref(),
            Some(subject),
            "{subject:?}"
        );
    }
    let m = Message::parse(b"Subject: =?utf-8?q?_x_?=\r\nX-Raw:  plain \t\r\n\r\n");
    assert_eq!(m.root().subject().as_deref(), Some(" x "));
    // the white space around the raw value is still not part of it
    assert_eq!(m.root().header_text("x-raw").as_deref(), Some("plain"));
}

// RFC 2231 section 7: `initial-section := "*0"` and `other-sections := "*" ("1" /
// "2" / ... / "9") *DIGIT`. A section number with a sign or a leading zero is no
// section, but `*+1` and `*01` were read as section 1, so a file name could be
// assembled from pieces another reader (Python's email among them) leaves out.
#[test]
fn rfc2231_section_numbers_are_plain_digits() {
    for (value, want) in [
        (
            &b"attachment; filename*0=a.txt; filename*+1=.exe"[..],
            Some("a.txt"),
        ),
        (b"attachment; filename*0=a.txt; filename*01=.exe", Some("a.txt")),
        (b"attachment; filename*00=x; filename=a.txt", Some("a.txt")),
        (
            b"attachment; filename*0=a; filename*1=b; filename*10=c",
            Some("ab"),
        ),
        (
            b"attachment; filename*0=a; filename*1=b; filename*2=c",
            Some("abc"),
        ),
    ] {
        let d = mime::Disposition::parse(value).unwrap();
        assert_eq!(d.param("filename"), want, "{}", String::from_utf8_lossy(value));
    }
}

// RFC 5322 section 3.3: `date-time = [ day-of-week "," ] date time [CFWS]`, `time =
// time-of-day zone`, and section 4.3: `obs-zone = "UT" / "GMT" / "EST" / ... /
// %d65-73 / %d75-90 / %d97-105 / %d107-122`. A missing zone or a name outside that
// list passed the strict parse as valid.
#[test]
fn strict_date_needs_a_zone_of_the_grammar() {
    for v in [
        &b"Fri, 21 Nov 1997 09:55:06"[..],
        b"Fri, 21 Nov 1997 09:55:06 (no zone)",
        b"Fri, 21 Nov 1997 09:55:06 CEST",
        b"Fri, 21 Nov 1997 09:55:06 J",
    ] {
        let text = String::from_utf8_lossy(v);
        match DateTime::parse_strict(v) {
            Err(DateError::InvalidZone { date }) => {
                assert_eq!(Some(date), DateTime::parse(v), "{text}");
                assert_eq!(date.offset_minutes, 0, "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    for (v, offset) in [
        (&b"Fri, 21 Nov 1997 09:55:06 UT"[..], 0),
        (b"Fri, 21 Nov 1997 09:55:06 gmt", 0),
        (b"Fri, 21 Nov 1997 09:55:06 PDT", -420),
        (b"Fri, 21 Nov 1997 09:55:06 z", 0),
        (b"Fri, 21 Nov 1997 09:55:06 A (military)", 0),
    ] {
        let d = DateTime::parse_strict(v).unwrap_or_else(|e| panic!("{}: {e:?}", String::from_utf8_lossy(v)));
        assert_eq!(d.offset_minutes, offset);
    }
}

// RFC 2046 section 5.1.1: `bchars := bcharsnospace / " "`, `bcharsnospace := DIGIT
// / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":" / "=" / "?"`,
// and `body-part := MIME-part-headers [CRLF *OCTET]`: a part may end right after its
// header fields. With a ':' in the boundary, a delimiter met among a part's header
// fields was read as a field named `--a`, so the next part merged into this one.
#[test]
fn delimiter_with_a_colon_ends_a_header_block() {
    for boundary in ["a:b", "x:", "=_:(1)"] {
        let msg = format!(
            "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n\
             Content-Type: text/plain\r\n--{boundary}\r\n--{boundary}\r\nX-Note: y\r\n\r\n\
             two\r\n--{boundary}--\r\n"
        );
        let m = Message::parse(msg.as_bytes());
        let root = m.resolve(&[]).unwrap();
        let mime::PartKind::Multipart { children, .. } = &m.parts[root].kind else {
            panic!("{boundary}")
        };
        assert_eq!(children.len(), 3, "{boundary}");
        let texts: Vec<String> = children.iter().map(|&c| m.text(c)).collect();
        assert_eq!(texts, ["", "", "two"], "{boundary}");
        assert_eq!(m.parts[children[0]].headers.len(), 1, "{boundary}");
        assert_eq!(m.parts[children[2]].header_text("x-note").as_deref(), Some("y"));
        assert_eq!(m.reassemble(), msg.as_bytes());
        let whole = push_events(msg.as_bytes(), &[msg.len()], Limits::default());
        assert_eq!(push_events(msg.as_bytes(), &[1], Limits::default()), whole);
    }
}

// RFC 2047 section 2: "An 'encoded-word' may not be more than 75 characters long".
// Every `=?` after a `(`, a quote or white space was looked at as a word by scanning
// the rest of the value up to the next white space (and then for `?=`), so a value
// of `(=?` repeated without white space cost time quadratic in its length: 10.7 s
// for 240 KB in a release build, 0.4 s for one 64 KB Subject. Words are now read up
// to the 998-character line limit, and what the search for one finds is kept for
// the next. This test is a guard: it passes on the old code, but only after more
// than 150 s in a debug build (0.4 s now).
#[test]
fn many_unfinished_words_without_white_space_stay_linear() {
    for unit in [&b"(=?"[..], b"\"=?", b"=?a?q?x?=(=?", b"(=?a?b?", b"(=?a?q?"] {
        // one Subject within Limits::max_field_bytes (64 KiB), and a longer value
        let v: Vec<u8> = unit.iter().copied().cycle().take(60_000).collect();
        let mut subject = b"Subject: ".to_vec();
        subject.extend_from_slice(&v);
        subject.extend_from_slice(b"\r\n\r\n");
        let m = Message::parse(&subject);
        let got = m.root().subject().unwrap();
        assert!(got.len() >= v.len() / 2, "{}", String::from_utf8_lossy(unit));
        let long: Vec<u8> = unit.iter().copied().cycle().take(300_000).collect();
        let _ = mime::decode_unstructured(&long);
    }
    // a long word (beyond 75, within a line) is still decoded
    let long = format!("=?utf-8?q?{}?=", "a".repeat(900));
    assert_eq!(mime::decode_unstructured(long.as_bytes()), "a".repeat(900));
}
