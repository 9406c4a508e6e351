//! Review (session 27, known gaps, second list) of the mime crate: each test
//! failed on the code before its fix; the rule it checks is quoted above it.

use mime::{
    Address, BuildError, DateTime, Defect, DefectKind, DeliveryStatus, DsnError, Event, Limits, Mailbox,
    Message, MessageBuilder, ParseOptions, PushParser, parse_addresses,
};

const PER_MESSAGE: &[u8] = b"Reporting-MTA: dns; mx.example.test\r\n";

/// A minimal recipient group (three fields).
const GROUP: &[u8] = b"\r\nFinal-Recipient: rfc822; a@example.test\r\nAction: failed\r\nStatus: 5.0.0\r\n";

// RFC 3464 section 2.1: `delivery-status-content = per-message-fields 1*( CRLF
// per-recipient-fields )`, no upper bound on the groups. `DeliveryStatus::parse`
// split the whole body into groups of fields before it checked any, and kept every
// group: a body of many tiny groups took about 20 bytes of memory per byte of
// input, with no limit. The fields of a body are now bounded by
// `Limits::max_fields` (counted over the whole body), refused beyond it.
#[test]
fn delivery_status_fields_are_bounded() {
    let body = |groups: usize| {
        let mut b = PER_MESSAGE.to_vec();
        for _ in 0..groups {
            b.extend_from_slice(GROUP);
        }
        b
    };
    // 1 + 3 * 4000 fields: beyond the default 10,000
    let big = body(4000);
    let got = DeliveryStatus::parse(&big).map(|d| d.recipients.len());
    let limit_at = PER_MESSAGE.len() + 3333 * GROUP.len() + 2;
    assert_eq!(
        got,
        Err(DsnError::TooManyFields {
            limit: 10_000,
            offset: limit_at
        })
    );
    // at the bound it is read; the groups kept never exceed it
    for max_fields in [4, 7, 100, 10_000] {
        let limits = Limits {
            max_fields,
            ..Limits::default()
        };
        let fit = (max_fields - 1) / 3;
        let (at, over) = (body(fit), body(fit + 1));
        let d = DeliveryStatus::parse_with(&at, &limits).unwrap();
        assert_eq!(d.recipients.len(), fit);
        let e = DeliveryStatus::parse_with(&over, &limits).unwrap_err();
        assert!(matches!(e, DsnError::TooManyFields { .. }), "{e:?}");
    }
    // extension fields count too: one group of many fields is refused alike
    let mut one = PER_MESSAGE.to_vec();
    one.extend_from_slice(GROUP);
    for _ in 0..20_000 {
        one.extend_from_slice(b"X:\r\n");
    }
    let e = DeliveryStatus::parse(&one).unwrap_err();
    assert!(
        matches!(e, DsnError::TooManyFields { limit: 10_000, .. }),
        "{e:?}"
    );
    // the first error in the body is the one reported: a bad first recipient
    // group is not read past
    let mut bad = PER_MESSAGE.to_vec();
    bad.extend_from_slice(b"\r\nAction: failed\r\n");
    bad.extend_from_slice(&big[PER_MESSAGE.len()..]);
    assert_eq!(
        DeliveryStatus::parse(&bad),
        Err(DsnError::MissingField {
            field: "Final-Recipient",
            group: 1
        })
    );
}

// RFC 5322 section 3.4: `address-list = (address *("," address)) / obs-addr-list`:
// two addresses are separated by a comma. `To: Joe <a@example.test> <c@example.test>`
// has none; the second angle-addr was dropped silently (only a@example.test came
// back), so a reader showed fewer recipients than a mail server that reads both.
// The crate reads such lists leniently (a `;` between addresses separates them
// too), so the second address is read as the next mailbox.
#[test]
fn angle_addresses_without_a_comma_are_both_read() {
    let addrs = |v: &[u8]| -> Vec<(Option<String>, String)> {
        parse_addresses(v)
            .into_iter()
            .flat_map(|a| match a {
                Address::Mailbox(m) => vec![(m.name.clone(), m.address())],
                Address::Group { members, .. } => {
                    members.iter().map(|m| (m.name.clone(), m.address())).collect()
                }
            })
            .collect()
    };
    let joe = || Some("Joe".to_owned());
    assert_eq!(
        addrs(b"Joe <a@example.test> <c@example.test>"),
        [
            (joe(), "a@example.test".to_owned()),
            (None, "c@example.test".to_owned())
        ]
    );
    assert_eq!(
        addrs(b"Joe <a@example.test> Ann <c@example.test>, d@example.test"),
        [
            (joe(), "a@example.test".to_owned()),
            (Some("Ann".to_owned()), "c@example.test".to_owned()),
            (None, "d@example.test".to_owned())
        ]
    );
    assert_eq!(
        addrs(b"G: Joe <a@example.test> <c@example.test>;"),
        [
            (joe(), "a@example.test".to_owned()),
            (None, "c@example.test".to_owned())
        ]
    );
    // a comment after the `>` still belongs to its address, and is no second one
    assert_eq!(
        addrs(b"Joe <a@example.test> (work), <c@example.test>"),
        [
            (joe(), "a@example.test".to_owned()),
            (None, "c@example.test".to_owned())
        ]
    );
}

// RFC 5322 section 3.3: "the time zone offset "-0000" ... indicate[s] that the
// time was generated on a system that may be in a local time zone other than
// Universal Time and that the date-time contains no information about the local
// time zone", unlike "+0000". `DateTime` had only the offset, 0 for both: a
// `-0000` date was written back as `+0000`, which claims a zone the sender never
// gave.
#[test]
fn minus_zero_zone_is_kept() {
    let d = DateTime::parse(b"Fri, 21 Nov 1997 09:55:06 -0000").unwrap();
    assert_eq!(d.to_rfc5322(), "Fri, 21 Nov 1997 09:55:06 -0000");
    assert!(d.zone_unknown);
    assert_eq!((d.offset_minutes, d.unix_time()), (0, 880_106_106));
    // "+0000", "UT" and "GMT" are UTC with the zone known (section 4.3)
    for v in [
        &b"Fri, 21 Nov 1997 09:55:06 +0000"[..],
        b"21 Nov 1997 09:55:06 UT",
        b"21 Nov 1997 09:55:06 GMT",
    ] {
        let p = DateTime::parse(v).unwrap();
        assert!(!p.zone_unknown);
        assert_eq!(p.to_rfc5322(), "Fri, 21 Nov 1997 09:55:06 +0000");
        assert_ne!(Some(p), Some(d));
        assert_eq!(p.unix_time(), d.unix_time());
    }
    // section 4.3: military zones, and names whose meaning is not known, "SHOULD
    // all be considered equivalent to "-0000""; so is a missing zone here
    for v in [
        &b"21 Nov 1997 09:55:06 Z"[..],
        b"21 Nov 1997 09:55:06 CEST",
        b"21 Nov 1997 09:55:06",
        b"21 Nov 1997 09:55:06 +05",
    ] {
        let p = DateTime::parse(v).unwrap();
        assert!(p.zone_unknown, "{}", String::from_utf8_lossy(v));
        assert_eq!(p.to_rfc5322(), "Fri, 21 Nov 1997 09:55:06 -0000");
    }
    assert!(!DateTime::from_unix(0, 0).zone_unknown);
    // the builder writes it as given, and it reads back the same
    let bytes = MessageBuilder::new()
        .from(Mailbox {
            name: None,
            local: "a".into(),
            domain: "example.test".into(),
        })
        .date(d)
        .build_at(0, 0)
        .unwrap();
    let m = Message::parse(&bytes);
    assert_eq!(
        m.root().header("date").unwrap().value,
        b" Fri, 21 Nov 1997 09:55:06 -0000"
    );
    assert_eq!(m.root().date(), Some(d));
    // at another offset it means nothing, and the builder refuses it
    let odd = DateTime {
        zone_unknown: true,
        ..DateTime::from_unix(0, 60)
    };
    assert_eq!(odd.to_rfc5322(), "Thu, 1 Jan 1970 01:00:00 +0100");
    let built = MessageBuilder::new()
        .from(Mailbox {
            name: None,
            local: "a".into(),
            domain: "example.test".into(),
        })
        .date(odd)
        .build_at(0, 0);
    assert!(matches!(built, Err(BuildError::InvalidDate(_))), "{built:?}");
}

// RFC 5322 section 4.1: NUL (%d0) is only in the obsolete syntax (`obs-utext`,
// `obs-qp`), which "MUST NOT" be generated; a reader that hands a NUL on lets it
// cut a C string or a log line short. The crate hands out decoded header text in a
// safe form (no CR, LF or NUL); message ids, Content-Location, Content-Language
// and quoted local parts and domain literals did not keep that promise: a NUL came
// out as it was (a bare CR did not: unfolding drops it). They give the safe form
// now, and a NUL written in a header field is reported (once per message) as
// `DefectKind::NulInHeaderField`, as a bare CR is as `BareCarriageReturn`.
#[test]
fn id_and_address_accessors_give_the_safe_form() {
    let wire: &[u8] = b"From: \"a\0b\"@example.test, <\"c\rd\"@[1.2.3.4\0]>\r\n\
        Message-ID: <m\0id@example.test>\r\n\
        In-Reply-To: <r\0@example.test>\r\n\
        References: <x@example.test> <y\0@example.test>\r\n\
        Content-ID: <c\0@example.test>\r\n\
        Content-Location: http://example.test/\0a\r\n\
        Content-Language: en\0, de\rx\r\n\
        \r\nbody";
    let m = Message::parse(wire);
    let root = m.root();
    let bad = |s: &str| s.contains(['\0', '\r', '\n']);
    let ids: Vec<String> = [root.message_id(), root.content_id(), root.content_location()]
        .into_iter()
        .flatten()
        .chain(root.in_reply_to())
        .chain(root.references())
        .chain(root.content_language())
        .collect();
    assert_eq!(ids.len(), 8, "{ids:?}");
    for s in &ids {
        assert!(!bad(s), "{s:?}");
    }
    assert_eq!(root.message_id().as_deref(), Some("m\u{fffd}id@example.test"));
    let from = root.from();
    assert_eq!(from.len(), 2);
    for a in &from {
        let Address::Mailbox(mb) = a else { panic!() };
        assert!(!bad(&mb.local) && !bad(&mb.domain), "{mb:?}");
        assert!(!bad(&mb.address()), "{mb:?}");
    }
    assert_eq!(from[0], Address::Mailbox(mb("a\u{fffd}b", "example.test")));
    assert_eq!(from[1], Address::Mailbox(mb("cd", "[1.2.3.4\u{fffd}]")));
    assert_eq!(
        root.content_location().as_deref(),
        Some("http://example.test/\u{fffd}a")
    );
    assert_eq!(root.content_language(), ["en\u{fffd}", "dex"]);
    // the raw field is kept as written; the bytes replaced are reported
    assert_eq!(root.header("message-id").unwrap().value, b" <m\0id@example.test>");
    let nul = wire.iter().position(|&b| b == 0).unwrap();
    let cr = wire.iter().position(|&b| b == b'\r').unwrap();
    let want = [
        Defect {
            kind: DefectKind::BareCarriageReturn,
            offset: cr,
        },
        Defect {
            kind: DefectKind::NulInHeaderField,
            offset: nul,
        },
    ];
    assert_eq!(m.defects, want);
    for step in [1, 2, 7, wire.len()] {
        let mut p = PushParser::new(Limits::default());
        let mut got = Vec::new();
        for c in wire.chunks(step) {
            p.feed(c);
            while let Some(e) = p.poll_event() {
                if let Event::Defect(d) = e {
                    got.push(d);
                }
            }
        }
        p.finish();
        while let Some(e) = p.poll_event() {
            if let Event::Defect(d) = e {
                got.push(d);
            }
        }
        assert_eq!(got, want, "step {step}");
    }
    let strict = ParseOptions {
        strict: true,
        ..ParseOptions::default()
    };
    assert!(Message::parse_with(wire, strict).is_err());
    // a NUL in a body part's header is reported at its place, in the root's too
    let part: &[u8] = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nX: a\0\r\n\r\nx\r\n--b--\r\n";
    let m = Message::parse(part);
    assert_eq!(
        m.defects.iter().map(|d| (d.kind, d.offset)).collect::<Vec<_>>(),
        [(
            DefectKind::NulInHeaderField,
            part.iter().position(|&b| b == 0).unwrap()
        )]
    );
    // an encoded word's NUL is decoded text, not a NUL in the field: no defect,
    // the safe form as before
    let m = Message::parse(b"Subject: =?utf-8?q?a=00b?=\r\n\r\n");
    assert!(m.defects.is_empty());
    assert_eq!(m.root().subject().as_deref(), Some("a\u{fffd}b"));
}

fn mb(local: &str, domain: &str) -> Mailbox {
    Mailbox {
        name: None,
        local: local.into(),
        domain: domain.into(),
    }
}
