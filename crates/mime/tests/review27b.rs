//! Review (session 27, known gaps, second list) of the mime crate: each test
//! failed on the code before its fix; the rule it checks is quoted above it.

use mime::{
    Address, BuildError, DateTime, DeliveryStatus, DsnError, Limits, Mailbox, Message, MessageBuilder,
    parse_addresses,
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
