//! Review of session 19: each test failed on the code before its fix. The RFC rule it
//! checks is quoted above it.

use mime::{Address, BuildError, Mailbox, Message, MessageBuilder};

fn mailbox(local: &str, domain: &str) -> Mailbox {
    Mailbox {
        name: None,
        local: local.into(),
        domain: domain.into(),
    }
}

// RFC 5322 section 3.4.1: "domain = dot-atom / domain-literal / obs-domain". A domain
// holding '>' and ',' is neither; written as is it ends the angle address early and
// adds a second recipient to the field.
#[test]
fn builder_refuses_address_syntax_in_the_domain() {
    for domain in [
        "example.test>, <victim@evil.test",
        "example.test, victim@evil.test",
        "a b.test",
        "x.test;",
        "x.test(comment)",
    ] {
        let built = MessageBuilder::new().to(mailbox("bob", domain)).build_at(0, 0);
        match built {
            Err(e) => assert!(matches!(e, BuildError::InvalidAddress(_)), "{domain}: {e:?}"),
            Ok(bytes) => {
                let m = Message::parse(&bytes);
                let to = m.root().to();
                assert_eq!(to, [Address::Mailbox(mailbox("bob", domain))], "{domain}");
            }
        }
    }
    // a domain literal and an ordinary domain still build
    for domain in ["[192.0.2.1]", "[IPv6:2001:db8::1]", "mail.example.test"] {
        let bytes = MessageBuilder::new()
            .to(mailbox("bob", domain))
            .build_at(0, 0)
            .unwrap();
        let m = Message::parse(&bytes);
        assert_eq!(m.root().to(), [Address::Mailbox(mailbox("bob", domain))]);
    }
}
