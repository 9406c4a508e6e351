//! Session 27: stored credentials the server cannot use are a server-side
//! failure, not a wrong password and not an unknown user.
//!
//! An operator must be able to tell a broken account (SCRAM keys with an
//! empty salt, 0 iterations, keys of the wrong length, keys for another
//! hash) from a user typing a wrong password; the client must learn
//! nothing that tells an unknown user from a wrong password. Such failures
//! are answered as temporary server failures (SMTP `454 4.7.0`, RFC 4954
//! section 6; POP3 `-ERR [SYS/TEMP]`, RFC 3206 section 4; IMAP
//! `NO [UNAVAILABLE]`, RFC 5530 section 3).

use sasl::{
    CredentialStore, Mechanism, SaslError, ScramHash, ScramKeys, Secret, ServerOptions, ServerStep, server,
};

const PASSWORD: &str = "pencil";

/// Holds `keys` for "user", whatever hash is asked for; uses the default
/// `verify_password` (PLAIN and LOGIN check against the SCRAM keys).
struct Store(ScramKeys);

impl CredentialStore for Store {
    fn scram_keys(&self, _hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        (authcid == "user").then(|| self.0.clone())
    }
    fn unknown_user_iterations(&self) -> u32 {
        16
    }
}

fn good(hash: ScramHash) -> ScramKeys {
    ScramKeys::derive(hash, PASSWORD, b"NaCl", 16).unwrap()
}

/// Keys no client can use, each with what is wrong with it.
fn broken() -> Vec<ScramKeys> {
    let good = good(ScramHash::Sha256);
    let mut no_iterations = good.clone();
    no_iterations.iterations = 0;
    let mut no_salt = good.clone();
    no_salt.salt.clear();
    let mut short_stored = good.clone();
    short_stored.stored_key = Secret::new(vec![0; 20]);
    let mut long_server = good.clone();
    long_server.server_key = Secret::new(vec![0; 33]);
    let mut empty_stored = good;
    empty_stored.stored_key = Secret::new(Vec::new());
    vec![no_iterations, no_salt, short_stored, long_server, empty_stored]
}

/// PLAIN, then LOGIN, with `user` and `password`: the two results.
fn plaintext_logins(
    store: &dyn CredentialStore,
    user: &str,
    password: &str,
) -> [Result<String, SaslError>; 2] {
    let mut plain = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    let ir = format!("\0{user}\0{password}");
    let plain = plain.start(Some(ir.as_bytes()), store).map(|s| match s {
        ServerStep::Success { identity, .. } => identity.authcid,
        ServerStep::Challenge(_) => panic!("PLAIN challenged after its message"),
    });
    let mut login = server(Mechanism::Login, &ServerOptions::default()).unwrap();
    let login = (|| {
        let ServerStep::Challenge(_) = login.start(None, store)? else {
            panic!("no Username:")
        };
        let ServerStep::Challenge(_) = login.step(user.as_bytes(), store)? else {
            panic!("no Password:")
        };
        match login.step(password.as_bytes(), store)? {
            ServerStep::Success { identity, .. } => Ok(identity.authcid),
            ServerStep::Challenge(_) => panic!("LOGIN challenged after the password"),
        }
    })();
    [plain, login]
}

fn is_server_failure(e: &SaslError) -> bool {
    matches!(e, SaslError::StoreFailure(_))
}

/// Gap (a): the default `verify_password` returned `false` for stored
/// keys it cannot use, so PLAIN and LOGIN failed a broken account as a
/// wrong password. Now such keys fail as a server-side problem, with the
/// right password or a wrong one alike (so the reply tells nothing about
/// the password), while wrong passwords and unknown users still fail as
/// `AuthenticationFailed`, the same for both.
#[test]
fn unusable_stored_keys_are_a_server_failure_for_plain_and_login() {
    for keys in broken() {
        let store = Store(keys.clone());
        for password in [PASSWORD, "wrong"] {
            for r in plaintext_logins(&store, "user", password) {
                let e = r.unwrap_err();
                assert!(is_server_failure(&e), "{keys:?} {password}: {e:?}");
                assert!(!e.is_protocol_error());
            }
        }
        // The keys' own check says so too, not "wrong password".
        assert!(
            matches!(
                keys.verify_password(&Secret::new(PASSWORD.into())),
                Err(SaslError::StoreFailure(_))
            ),
            "{keys:?}"
        );
        // Users the store does not know are not affected.
        for r in plaintext_logins(&store, "nobody", PASSWORD) {
            assert_eq!(r, Err(SaslError::AuthenticationFailed));
        }
    }
    // Usable keys: the right password logs in; a wrong one and an unknown
    // user fail alike.
    let store = Store(good(ScramHash::Sha256));
    for r in plaintext_logins(&store, "user", PASSWORD) {
        assert_eq!(r.as_deref(), Ok("user"));
    }
    for (user, password) in [("user", "wrong"), ("nobody", PASSWORD)] {
        for r in plaintext_logins(&store, user, password) {
            assert_eq!(r, Err(SaslError::AuthenticationFailed));
        }
    }
    let keys = good(ScramHash::Sha1);
    assert_eq!(keys.verify_password(&Secret::new(PASSWORD.into())), Ok(true));
    assert_eq!(keys.verify_password(&Secret::new("wrong".into())), Ok(false));
    // A password no keys can have been made from is a wrong one.
    assert_eq!(
        keys.verify_password(&Secret::new("pencil\u{0221}".into())),
        Ok(false)
    );
}

/// Gap (b): keys the store gives for another hash than the one asked for
/// (SHA-1 keys for SCRAM-SHA-256) made the SCRAM exchange run on with
/// made-up keys, as for an unknown user, and fail at the proof: the
/// operator could not learn why. They are the store's mistake, as broken
/// keys are: the exchange fails at once as a server-side failure, before
/// anything is sent; the default `verify_password` (PLAIN, LOGIN) refuses
/// them alike.
#[test]
fn scram_keys_for_another_hash_are_a_server_failure() {
    let options = ServerOptions {
        scram_nonce: Some("SRV".into()),
        ..ServerOptions::default()
    };
    for (mech, held) in [
        (Mechanism::ScramSha256, ScramHash::Sha1),
        (Mechanism::ScramSha1, ScramHash::Sha256),
    ] {
        let store = Store(good(held));
        let mut s = server(mech, &options).unwrap();
        let r = s.start(Some(b"n,,n=user,r=CLI"), &store);
        assert!(matches!(&r, Err(e) if is_server_failure(e)), "{mech}: {r:?}");
        assert!(matches!(s.step(b"", &store), Err(SaslError::WrongState(_))));
        // An unknown user still gets a (made-up) challenge.
        let mut s = server(mech, &options).unwrap();
        assert!(matches!(
            s.start(Some(b"n,,n=nobody,r=CLI"), &store),
            Ok(ServerStep::Challenge(_))
        ));
    }
    // The default verify_password asks for SHA-256 keys first.
    let store = Store(good(ScramHash::Sha1));
    for r in plaintext_logins(&store, "user", PASSWORD) {
        let e = r.unwrap_err();
        assert!(is_server_failure(&e), "{e:?}");
    }
    // A store that answers each hash with its own keys serves every mechanism.
    struct Both;
    impl CredentialStore for Both {
        fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
            (authcid == "user" && hash == ScramHash::Sha1).then(|| good(hash))
        }
    }
    for r in plaintext_logins(&Both, "user", PASSWORD) {
        assert_eq!(r.as_deref(), Ok("user"));
    }
}
