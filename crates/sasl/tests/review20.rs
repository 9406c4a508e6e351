//! Review 20: each test here failed on the code before its fix; the RFC rule it
//! checks is quoted above it.

use sasl::{CredentialStore, Mechanism, SaslError, Secret, ServerOptions, ServerStep, server};
use std::cell::Cell;

/// A password check backed by a directory where an empty password is an
/// unauthenticated bind that "succeeds" (the classic LDAP pitfall), and that
/// notes whether it was ever asked about an empty name or password.
#[derive(Default)]
struct DirectoryStore {
    saw_empty: Cell<bool>,
}

impl CredentialStore for DirectoryStore {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> bool {
        if authcid.is_empty() || password.expose().is_empty() {
            self.saw_empty.set(true);
            return true;
        }
        authcid == "alice" && password.expose() == "secret"
    }
}

fn is_success(r: &Result<ServerStep, SaslError>) -> bool {
    matches!(r, Ok(ServerStep::Success { .. }))
}

/// RFC 4616 section 2: "Regardless of the preparation algorithm used, if
/// preparation fails or results in an empty string, verification SHALL fail."
/// A soft hyphen (U+00AD) is mapped to nothing by SASLprep, so a password or
/// user name made of it prepares to the empty string.
#[test]
fn plain_fails_when_saslprep_leaves_an_empty_password_or_authcid() {
    let opts = ServerOptions::default();
    for msg in [
        &b"\0alice\0\xC2\xAD"[..],             // password prepares to ""
        &b"\0\xC2\xAD\0secret"[..],            // authcid prepares to ""
        &b"\0alice\0\xE2\x80\x8B\xC2\xAD"[..], // zero-width space + soft hyphen
    ] {
        let store = DirectoryStore::default();
        let mut s = server(Mechanism::Plain, &opts).unwrap();
        let r = s.start(Some(msg), &store);
        assert_eq!(r, Err(SaslError::AuthenticationFailed), "{msg:?}");
        assert!(
            !store.saw_empty.get(),
            "the store was asked about an empty string: {msg:?}"
        );
    }
    // The right password still works.
    let mut s = server(Mechanism::Plain, &opts).unwrap();
    assert!(is_success(
        &s.start(Some(b"\0alice\0secret"), &DirectoryStore::default())
    ));
}

/// LOGIN checks passwords the way PLAIN does (RFC 4616 section 2, quoted above:
/// an empty prepared string SHALL fail verification); an empty password answer
/// must not reach the store.
#[test]
fn login_fails_on_empty_password() {
    let store = DirectoryStore::default();
    let mut s = server(Mechanism::Login, &ServerOptions::default()).unwrap();
    assert_eq!(
        s.start(None, &store),
        Ok(ServerStep::Challenge(b"Username:".to_vec()))
    );
    assert_eq!(
        s.step(b"alice", &store),
        Ok(ServerStep::Challenge(b"Password:".to_vec()))
    );
    assert_eq!(s.step(b"", &store), Err(SaslError::AuthenticationFailed));
    assert!(!store.saw_empty.get());
}
