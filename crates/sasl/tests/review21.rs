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

/// An administrator who may act as anyone.
struct Admin;
impl CredentialStore for Admin {
    fn verify_password(&self, authcid: &str, password: &sasl::Secret<String>) -> Result<bool, SaslError> {
        Ok(authcid == "admin" && password.expose() == "pw")
    }
    fn authorize(&self, authcid: &str, _authzid: &str) -> bool {
        authcid == "admin"
    }
}

/// RFC 5034 section 4 (POP3) and RFC 4954 section 4 (SMTP), word for word:
/// the authorization identity "SHOULD use the SASLprep profile ... to
/// prepare these names for matching. If preparation of the authorization
/// identity fails or results in an empty string (unless it was transmitted
/// as the empty string), the server MUST fail the authentication." The
/// authzid reached the store and the Identity unprepared: one SASLprep
/// refuses (a control character) was authorized, one that prepares to
/// nothing became a real authzid, and "b\u{AD}ob" did not match "bob".
#[test]
fn authzid_is_prepared_and_a_failed_preparation_fails() {
    let plain = |authzid: &str| {
        let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
        let msg = format!("{authzid}\0admin\0pw");
        s.start(Some(msg.as_bytes()), &Admin)
    };
    for bad in ["bob\u{7}", "\u{AD}", "\u{05D0}a"] {
        assert!(
            matches!(plain(bad), Err(SaslError::AuthenticationFailed)),
            "authzid {bad:?} was taken: {:?}",
            plain(bad)
        );
    }
    match plain("b\u{AD}ob") {
        Ok(sasl::ServerStep::Success { identity, .. }) => {
            assert_eq!(identity.authzid.as_deref(), Some("bob"));
        }
        other => panic!("{other:?}"),
    }
    // Transmitted empty: no authzid, still fine.
    match plain("") {
        Ok(sasl::ServerStep::Success { identity, .. }) => assert_eq!(identity.authzid, None),
        other => panic!("{other:?}"),
    }
}
