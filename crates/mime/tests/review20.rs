//! Review of session 20 (known gaps): each test failed on the code before its fix
//! (asserted wrongly or did not compile); the RFC rule it checks is quoted above it.

use mime::{BuildError, DateError, DateTime, Mailbox, Message, MessageBuilder};

fn mailbox(local: &str, domain: &str) -> Mailbox {
    Mailbox {
        name: None,
        local: local.into(),
        domain: domain.into(),
    }
}

// RFC 5322 section 3.4.1: "addr-spec = local-part "@" domain" and "domain =
// dot-atom / domain-literal / obs-domain": none of them is empty. A mailbox with an
// empty domain was written as a bare local part ("To: user"), which is no address.
#[test]
fn builder_refuses_an_empty_domain() {
    for (field, b) in [
        ("From", MessageBuilder::new().from(mailbox("user", ""))),
        ("To", MessageBuilder::new().to(mailbox("user", ""))),
        ("Cc", MessageBuilder::new().cc(mailbox("user", ""))),
        ("Sender", MessageBuilder::new().sender(mailbox("user", ""))),
        ("Reply-To", MessageBuilder::new().reply_to(mailbox("a b", ""))),
    ] {
        match b.build_at(0, 0) {
            Err(BuildError::InvalidAddress(a)) => assert!(a.contains("empty domain"), "{field}: {a}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    // The error says what is wrong.
    let e = MessageBuilder::new()
        .to(mailbox("user", ""))
        .build_at(0, 0)
        .unwrap_err();
    assert_eq!(e.to_string(), "invalid address: user@ (empty domain)");
    // A full address and an empty quoted local part (`""@x.test`) still go.
    assert!(
        MessageBuilder::new()
            .to(mailbox("user", "x.test"))
            .build_at(0, 0)
            .is_ok()
    );
    assert!(
        MessageBuilder::new()
            .to(mailbox("", "x.test"))
            .build_at(0, 0)
            .is_ok()
    );
}

// RFC 5322 section 3.3: "the day-of-week (if included) MUST be the day implied by the
// date." The lenient parse keeps the date (readers of real mail must, and the date is
// what they use); the strict parse reports a wrong or unknown day-of-week and still
// hands over the date, and so does the message API.
#[test]
fn wrong_day_of_week_is_reported_by_the_strict_date() {
    // 21 Nov 1997 was a Friday.
    let right = b"Fri, 21 Nov 1997 09:55:06 -0600";
    let wrong = b"Mon, 21 Nov 1997 09:55:06 -0600";
    let d = DateTime::parse(right).unwrap();
    assert_eq!(d.day_of_week(), "Fri");
    assert_eq!(DateTime::parse(wrong), Some(d), "lenient: the date is kept");
    assert_eq!(DateTime::parse_strict(right), Ok(d));
    assert_eq!(DateTime::parse_strict(b"fri , 21 Nov 1997 09:55:06 -0600"), Ok(d));
    assert_eq!(
        DateTime::parse_strict(b"21 Nov 1997 09:55:06 -0600"),
        Ok(d),
        "no day-of-week"
    );
    assert_eq!(
        DateTime::parse_strict(wrong),
        Err(DateError::WrongDayOfWeek { date: d })
    );
    assert_eq!(
        DateTime::parse_strict(b"Friday, 21 Nov 1997 09:55:06 -0600"),
        Err(DateError::UnknownDayOfWeek { date: d })
    );
    assert_eq!(
        DateTime::parse_strict(b"Fri, 31 Nov 1997 09:55:06 -0600"),
        Err(DateError::Invalid)
    );
    assert_eq!(
        DateTime::parse_strict(wrong).unwrap_err().to_string(),
        "the day-of-week is not Fri, the day of the date"
    );
    // Leap day and a date before the epoch.
    assert!(DateTime::parse_strict(b"Tue, 29 Feb 2000 00:00:00 +0000").is_ok());
    assert!(DateTime::parse_strict(b"Thu, 13 Feb 1969 23:32 -0330").is_ok());
    assert!(DateTime::parse_strict(b"Wed, 29 Feb 2000 00:00:00 +0000").is_err());

    let m = Message::parse(b"Date: Mon, 21 Nov 1997 09:55:06 -0600\r\nSubject: x\r\n\r\nbody\r\n");
    assert_eq!(m.root().date(), Some(d));
    assert_eq!(
        m.root().date_strict(),
        Some(Err(DateError::WrongDayOfWeek { date: d }))
    );
    // What the builder writes passes the strict parse.
    let built = MessageBuilder::new()
        .to(mailbox("a", "b.test"))
        .build_at(880_127_706, -360)
        .unwrap();
    assert_eq!(Message::parse(&built).root().date_strict(), Some(Ok(d)));
}
