//! Session 22: SASLprep's two profiles (RFC 3454 section 7), and the number
//! of heap allocations of a PLAIN exchange.
//!
//! RFC 3454 section 7: "queries" may hold unassigned code points (table
//! A.1, Unicode 3.2), "stored strings" MUST NOT. RFC 4616 section 4: the
//! presented strings are queries, "When preparing the database strings
//! using [SASLPrep], the database strings are to be treated as "stored"
//! strings". RFC 5802 section 2.2: Normalize(password) treats the password
//! as a stored string, so SaltedPassword is only ever derived from one.

use sasl::{
    CredentialStore, Credentials, Mechanism, SaslError, ScramHash, ScramKeys, Secret, ServerOptions,
    ServerStep, client, server,
};

/// U+0221 (assigned in Unicode 4.0) and U+1F600 (6.1) are unassigned in
/// Unicode 3.2; U+2152 (5.2) is too, and today's NFKC even decomposes it.
const UNASSIGNED_IN_3_2: [&str; 3] = ["pass\u{0221}", "\u{1F600}smile", "a\u{2152}b"];

/// Account creation derives the stored keys: a password with an unassigned
/// code point is not a valid stored string and is refused.
#[test]
fn scram_keys_for_storage_refuse_unassigned_code_points() {
    for pw in UNASSIGNED_IN_3_2 {
        for hash in [ScramHash::Sha1, ScramHash::Sha256] {
            assert_eq!(
                ScramKeys::derive(hash, pw, b"saltsalt", 1).err(),
                Some(SaslError::InvalidCredentials("password fails SASLprep")),
                "{pw:?} stored"
            );
            assert!(ScramKeys::generate(hash, pw, 1).is_err(), "{pw:?} generated");
        }
    }
    // Assigned non-ASCII is fine, and prepares as before.
    let a = ScramKeys::derive(ScramHash::Sha256, "p\u{e4}ss", b"saltsalt", 1).unwrap();
    let b = ScramKeys::derive(ScramHash::Sha256, "pa\u{308}ss", b"saltsalt", 1).unwrap();
    assert_eq!(a, b);
}

/// The SCRAM client computes SaltedPassword = Hi(Normalize(password), ..),
/// with the password as a stored string (RFC 5802 section 2.2).
#[test]
fn scram_client_password_is_a_stored_string() {
    for pw in UNASSIGNED_IN_3_2 {
        for m in [Mechanism::ScramSha1, Mechanism::ScramSha256] {
            let err = client(m, &Credentials::with_password("user", pw)).unwrap_err();
            assert_eq!(
                err,
                SaslError::InvalidCredentials("password fails SASLprep"),
                "{pw:?}"
            );
        }
    }
}

/// The user name stays a query for SCRAM (RFC 5802 section 5.1: "treating
/// it as a query string (i.e., unassigned Unicode code points are
/// allowed)"), on both sides.
#[test]
fn scram_user_name_is_a_query() {
    struct Store(ScramKeys);
    impl CredentialStore for Store {
        fn scram_keys(&self, _hash: ScramHash, user: &str) -> Option<ScramKeys> {
            (user == "us\u{0221}er").then(|| self.0.clone())
        }
    }
    let store = Store(ScramKeys::derive(ScramHash::Sha256, "pencil", b"saltsalt", 1).unwrap());
    let mut c = sasl::client_with(
        Mechanism::ScramSha256,
        &Credentials::with_password("us\u{0221}er", "pencil"),
        &sasl::ClientOptions {
            limits: sasl::Limits {
                scram_min_iterations: 1,
                ..sasl::Limits::default()
            },
            ..sasl::ClientOptions::default()
        },
    )
    .unwrap();
    let mut s = server(Mechanism::ScramSha256, &ServerOptions::default()).unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    let mut step = s.start(Some(ir.expose()), &store).unwrap();
    let identity = loop {
        match step {
            ServerStep::Challenge(ch) => {
                let answer = c.respond(&ch).unwrap();
                step = s.step(answer.expose(), &store).unwrap();
            }
            ServerStep::Success { identity, .. } => break identity,
        }
    };
    assert_eq!(identity.authcid, "us\u{0221}er");
}

/// What a PLAIN client presents stays a query: the server prepares it with
/// the query profile and hands it to the store, unassigned code point and all.
#[test]
fn plain_presented_password_is_a_query() {
    struct Store;
    impl CredentialStore for Store {
        fn verify_password(&self, user: &str, password: &Secret<String>) -> Result<bool, SaslError> {
            Ok(user == "u\u{0221}" && password.expose() == "pass\u{0221}")
        }
    }
    let mut c = client(
        Mechanism::Plain,
        &Credentials::with_password("u\u{0221}", "pass\u{0221}"),
    )
    .unwrap();
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    assert!(matches!(
        s.start(Some(ir.expose()), &Store),
        Ok(ServerStep::Success { .. })
    ));
}

/// The SCRAM server checks the channel binding and the proof without
/// decoding them onto the heap; the answers stay as they were: malformed
/// base64 or a proof of the wrong length is malformed, another GS2 header
/// is an authentication failure.
#[test]
fn scram_client_final_checks_keep_their_answers() {
    struct Store(ScramKeys);
    impl CredentialStore for Store {
        fn scram_keys(&self, _hash: ScramHash, user: &str) -> Option<ScramKeys> {
            (user == "user").then(|| self.0.clone())
        }
    }
    let store = Store(ScramKeys::derive(ScramHash::Sha256, "pencil", b"saltsalt", 1).unwrap());
    let copts = sasl::ClientOptions {
        limits: sasl::Limits {
            scram_min_iterations: 1,
            ..sasl::Limits::default()
        },
        ..sasl::ClientOptions::default()
    };
    let run = |tamper: &dyn Fn(&str) -> String| {
        let creds = Credentials::with_password("user", "pencil");
        let mut c = sasl::client_with(Mechanism::ScramSha256, &creds, &copts).unwrap();
        let mut s = server(Mechanism::ScramSha256, &ServerOptions::default()).unwrap();
        let ir = c.initial_response().unwrap().unwrap();
        let ServerStep::Challenge(first) = s.start(Some(ir.expose()), &store).unwrap() else {
            panic!("no server-first")
        };
        let answer = c.respond(&first).unwrap();
        let text = std::str::from_utf8(answer.expose()).unwrap().to_owned();
        s.step(tamper(&text).as_bytes(), &store).map(|_| ())
    };
    assert_eq!(run(&|t| t.to_owned()), Ok(()));
    // "eSws" is the base64 of "y,,", another GS2 header.
    assert_eq!(
        run(&|t| t.replacen("c=biws", "c=eSws", 1)),
        Err(SaslError::AuthenticationFailed)
    );
    assert!(matches!(
        run(&|t| t.replacen("c=biws", "c=bi*s", 1)),
        Err(SaslError::Malformed(_))
    ));
    assert!(matches!(
        run(&|t| t.replacen("c=biws", "c=biw", 1)),
        Err(SaslError::Malformed(_))
    ));
    let long = |t: &str| format!("{}{}", t, "A".repeat(100));
    assert!(matches!(run(&long), Err(SaslError::Malformed(_))));
    let short = |t: &str| format!("{}=", &t[..t.len() - 8]);
    assert!(matches!(run(&short), Err(SaslError::Malformed(_))));
}
