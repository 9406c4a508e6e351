//! Session 21 review: failing tests against RFC text, then fixed.

use sasl::{CredentialStore, Credentials, Mechanism, SaslError, ServerOptions, client, server};

struct Anyone;
impl CredentialStore for Anyone {
    fn allow_anonymous(&self, _trace: &str) -> bool {
        true
    }
}

/// RFC 4505 section 3 (the "trace" profile of ANONYMOUS): "This profile
/// requires bidirectional character checking per Section 6 of
/// [StringPrep]." RFC 3454 section 6: "If a string contains any RandALCat
/// character, the string MUST NOT contain any LCat character", and a
/// RandALCat character must come first and last. Both sides took such
/// traces.
#[test]
fn anonymous_trace_gets_the_bidi_check() {
    for bad in ["\u{05D0}a", "a\u{05D0}", "\u{0627}1", "1\u{05D0}"] {
        let creds = Credentials {
            username: bad.into(),
            ..Credentials::default()
        };
        assert!(
            client(Mechanism::Anonymous, &creds).is_err(),
            "client took trace {bad:?}"
        );
        let mut s = server(Mechanism::Anonymous, &ServerOptions::default()).unwrap();
        assert!(
            matches!(
                s.start(Some(bad.as_bytes()), &Anyone),
                Err(SaslError::Malformed(_))
            ),
            "server took trace {bad:?}"
        );
    }
    // Right-to-left text that starts and ends right-to-left is fine, as is
    // left-to-right text and the empty trace.
    for good in ["\u{05D0}\u{05D1}", "\u{0627}1\u{0628}", "user@example.test", ""] {
        let creds = Credentials {
            username: good.into(),
            ..Credentials::default()
        };
        assert!(client(Mechanism::Anonymous, &creds).is_ok(), "{good:?}");
        let mut s = server(Mechanism::Anonymous, &ServerOptions::default()).unwrap();
        assert!(s.start(Some(good.as_bytes()), &Anyone).is_ok(), "{good:?}");
    }
}
