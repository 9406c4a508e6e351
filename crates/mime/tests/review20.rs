//! Review of session 20 (known gaps): each test failed on the code before its fix
//! (asserted wrongly or did not compile); the RFC rule it checks is quoted above it.

use mime::{BuildError, Mailbox, MessageBuilder};

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
