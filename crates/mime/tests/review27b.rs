//! Review (session 27, known gaps, second list) of the mime crate: each test
//! failed on the code before its fix; the rule it checks is quoted above it.

use mime::{Address, DeliveryStatus, DsnError, Limits, parse_addresses};

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
