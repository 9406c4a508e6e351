//! Session 26, second part: leftovers of the review of this crate, each a
//! test against the public API that failed on the code as it was: the SCRAM
//! client's reading of `e=` (RFC 5802 section 7), the SCRAM server with
//! stored keys no client can use, and the names the bearer-token servers
//! hand to the application (RFC 7628 3.1, RFC 4422 3.4.1).

use sasl::{
    ClientOptions, CredentialStore, Credentials, Mechanism, SaslError, Secret, ServerOptions, ServerStep,
    client, client_with, server,
};

/// A SCRAM-SHA-256 client for user/pencil with the fixed nonce "CLI",
/// after its client-first.
fn scram_client() -> Box<dyn sasl::ClientMechanism> {
    let options = ClientOptions {
        scram_nonce: Some("CLI".into()),
        ..ClientOptions::default()
    };
    let mut c = client_with(
        Mechanism::ScramSha256,
        &Credentials::with_password("user", "pencil"),
        &options,
    )
    .unwrap();
    c.initial_response().unwrap();
    c
}

/// RFC 5802 section 7: `server-error = "e=" server-error-value`, whose
/// free-form alternative is `server-error-value-ext = value` with
/// `value = 1*value-char` (`value-char` starts at %x01), so an `e=` without
/// a value, or with a NUL in it, is malformed; before, it was
/// `ServerError("")`. Section 5.1 says the server sends `e=` "in its
/// final message", and the grammar of server-first (`[reserved-mext ","]
/// nonce "," salt "," iteration-count ["," extensions]`) has no place for
/// it; before, an `e=` there was taken as a server error whose text was the
/// rest of the message, commas and all. In server-final the error is the
/// value up to the next comma: extensions may follow.
#[test]
fn scram_client_reads_e_only_where_the_grammar_has_it() {
    // server-first: e= is no server-first-message.
    for first in ["e=other-error", "e=unknown-user,r=CLISRV,s=TmFDbA==,i=4096", "e="] {
        let mut c = scram_client();
        assert_eq!(
            c.respond(first.as_bytes()).unwrap_err(),
            SaslError::Malformed("SCRAM e= is allowed only in server-final"),
            "{first:?}"
        );
        assert_eq!(c.server_error(), None, "{first:?}");
    }

    // server-final: an empty value is malformed; a value ends at the comma.
    let after_first = || {
        let mut c = scram_client();
        c.respond(b"r=CLISRV,s=TmFDbA==,i=4096").unwrap();
        c
    };
    for last in ["e=", "e=,x=ext", "e=a\0b"] {
        let mut c = after_first();
        assert_eq!(
            c.respond(last.as_bytes()).unwrap_err(),
            SaslError::Malformed("SCRAM server-error value is empty or holds NUL"),
            "{last:?}"
        );
        assert_eq!(c.server_error(), None, "{last:?}");
    }
    for (last, error) in [
        ("e=invalid-proof", "invalid-proof"),
        ("e=invalid-proof,x=ext", "invalid-proof"),
        ("e=no-resources,x=a,y=b", "no-resources"),
    ] {
        let mut c = after_first();
        assert_eq!(
            c.respond(last.as_bytes()).unwrap_err(),
            SaslError::ServerError(error.into()),
            "{last:?}"
        );
        assert_eq!(c.server_error(), Some(error), "{last:?}");
    }
    // The same server-final as additional data with success.
    let mut c = after_first();
    assert_eq!(
        c.finish(Some(b"e=invalid-proof,x=ext")).unwrap_err(),
        SaslError::ServerError("invalid-proof".into())
    );
    let mut c = after_first();
    assert_eq!(
        c.finish(Some(b"e=")).unwrap_err(),
        SaslError::Malformed("SCRAM server-error value is empty or holds NUL")
    );
}

/// RFC 2195 section 2: the client answers "the user name, a space, and a
/// 'digest'", the digest being 32 lowercase hex digits; nothing keeps a
/// space out of the user name, and the server reads the digest from the
/// end. The docs of `SaslError::InvalidCredentials` named "a space in a
/// CRAM-MD5 user name" as a credential the mechanism cannot send, but the
/// client sends it and the server takes it (the docs now say so; this test
/// keeps both sides to it).
#[test]
fn cram_md5_user_name_may_hold_a_space() {
    struct Secrets;
    impl CredentialStore for Secrets {
        fn cram_md5_secret(&self, authcid: &str) -> Option<Secret<Vec<u8>>> {
            (authcid == "tim smith").then(|| Secret::new(b"tanstaaftanstaaf".to_vec()))
        }
    }
    let challenge = "<1896.697170952@postoffice.reston.mci.net>";
    let options = ServerOptions {
        cram_md5_challenge: Some(challenge.into()),
        ..ServerOptions::default()
    };
    let mut c = client(
        Mechanism::CramMd5,
        &Credentials::with_password("tim smith", "tanstaaftanstaaf"),
    )
    .unwrap();
    let mut s = server(Mechanism::CramMd5, &options).unwrap();
    assert_eq!(c.initial_response().unwrap(), None);
    let Ok(ServerStep::Challenge(ch)) = s.start(None, &Secrets) else {
        panic!("no challenge")
    };
    assert_eq!(ch, challenge.as_bytes());
    let answer = c.respond(&ch).unwrap();
    assert_eq!(answer.expose(), b"tim smith b913a602c7eda7a495b4e6e7334d3890");
    let Ok(ServerStep::Success { identity, .. }) = s.step(answer.expose(), &Secrets) else {
        panic!("no success")
    };
    assert_eq!(identity.authcid, "tim smith");
    c.finish(None).unwrap();
}

/// RFC 5802 section 7: `salt = "s=" base64` of a salt (a non-empty one:
/// the client refuses `s=`), `iteration-count = "i=" posit-number`. The
/// keys come from the application (`ScramKeys` has public fields), and
/// before, keys with an empty salt or 0 iterations went out as `s=,i=0`, a
/// server-first no client accepts, and keys of the wrong length failed
/// every login as a wrong password. Such keys are the application's
/// mistake: the exchange fails with `StoreFailure` (not a protocol
/// error, not a failed authentication) and nothing is sent.
#[test]
fn scram_server_refuses_stored_keys_no_client_can_use() {
    struct Broken(sasl::ScramKeys);
    impl CredentialStore for Broken {
        fn scram_keys(&self, _hash: sasl::ScramHash, authcid: &str) -> Option<sasl::ScramKeys> {
            (authcid == "user").then(|| self.0.clone())
        }
    }
    let good = sasl::ScramKeys::derive(sasl::ScramHash::Sha256, "pencil", b"NaCl", 4096).unwrap();
    let mut no_iterations = good.clone();
    no_iterations.iterations = 0;
    let mut no_salt = good.clone();
    no_salt.salt.clear();
    let mut short_stored = good.clone();
    short_stored.stored_key = Secret::new(vec![0; 20]);
    let mut long_server = good.clone();
    long_server.server_key = Secret::new(vec![0; 33]);
    let options = ServerOptions {
        scram_nonce: Some("SRV".into()),
        ..ServerOptions::default()
    };
    for (keys, error) in [
        (
            no_iterations,
            "stored SCRAM keys have an empty salt or 0 iterations",
        ),
        (no_salt, "stored SCRAM keys have an empty salt or 0 iterations"),
        (
            short_stored,
            "stored SCRAM keys are not as long as the hash output",
        ),
        (
            long_server,
            "stored SCRAM keys are not as long as the hash output",
        ),
    ] {
        let mut s = server(Mechanism::ScramSha256, &options).unwrap();
        let e = s.start(Some(b"n,,n=user,r=CLI"), &Broken(keys)).unwrap_err();
        assert_eq!(e, SaslError::StoreFailure(error));
        assert!(!e.is_protocol_error());
        assert!(matches!(
            s.step(b"", &Broken(good.clone())),
            Err(SaslError::WrongState(_))
        ));
    }
    // The same keys, whole, still work; an unknown user still gets a
    // challenge (made-up keys), so only broken stored keys fail early.
    let mut s = server(Mechanism::ScramSha256, &options).unwrap();
    let Ok(ServerStep::Challenge(first)) = s.start(Some(b"n,,n=user,r=CLI"), &Broken(good.clone())) else {
        panic!("no server-first")
    };
    assert!(first.ends_with(b",s=TmFDbA==,i=4096"));
    let mut s = server(Mechanism::ScramSha256, &options).unwrap();
    assert!(matches!(
        s.start(Some(b"n,,n=other,r=CLI"), &Broken(good)),
        Ok(ServerStep::Challenge(_))
    ));
}

/// RFC 4422 section 3.4.1: the authorization identity is a string of
/// Unicode characters, prepared by the protocol's profile (SASLprep for
/// SMTP, POP3 and IMAP, RFC 4954 4, RFC 5034 4), and RFC 7628 3.1 carries
/// it in the GS2 header as `"a=" saslname`. The token servers handed the
/// user the client named (XOAUTH2 `user=`, OAUTHBEARER `a=`) to
/// `verify_bearer_token` as it came, before `authorized` prepared and
/// refused it: CR, LF and other control characters, which SASLprep
/// prohibits, reached the application, and a name that prepares to
/// something else reached it unprepared (the `CredentialStore` docs promise
/// every authzid after SASLprep). Now the server prepares the name first:
/// one that fails SASLprep or prepares to nothing fails the authentication
/// before the application is asked, and the application sees the prepared
/// name.
#[test]
fn token_servers_prepare_the_user_before_the_application_sees_it() {
    #[derive(Default)]
    struct Tokens(std::cell::RefCell<Vec<Option<String>>>);
    impl CredentialStore for Tokens {
        fn verify_bearer_token(&self, user: Option<&str>, token: &Secret<String>) -> Option<String> {
            self.0.borrow_mut().push(user.map(str::to_owned));
            (token.expose() == "tok3n").then(|| user.unwrap_or("IX").into())
        }
    }
    let xoauth2 = |user: &str| format!("user={user}\x01auth=Bearer tok3n\x01\x01");
    let oauthbearer = |user: &str| format!("n,a={user},\x01auth=Bearer tok3n\x01\x01");
    let run = |m: Mechanism, msg: &str| {
        let store = Tokens::default();
        let r = server(m, &ServerOptions::default())
            .unwrap()
            .start(Some(msg.as_bytes()), &store);
        (r, store.0.into_inner())
    };
    // Control characters (RFC 4013 section 2.3, RFC 3454 C.2.1 and C.2.2),
    // and a name that SASLprep maps to nothing (soft hyphen, B.1).
    for user in ["us\r\ner", "user\n", "\tuser", "us\u{85}er", "\u{ad}"] {
        for (m, msg) in [
            (Mechanism::XOAuth2, xoauth2(user)),
            (Mechanism::OAuthBearer, oauthbearer(user)),
        ] {
            let (r, seen) = run(m, &msg);
            assert_eq!(r.unwrap_err(), SaslError::AuthenticationFailed, "{m} {user:?}");
            assert!(seen.is_empty(), "{m} {user:?}: the application saw {seen:?}");
        }
    }
    // Other ASCII controls and DEL are no XOAUTH2 value octets (RFC 7628
    // 3.1 `value`): malformed there; a GS2 saslname may hold them, and
    // SASLprep refuses them.
    for user in ["us\u{7}er", "us\u{7f}er"] {
        let (r, seen) = run(Mechanism::XOAuth2, &xoauth2(user));
        assert_eq!(r.unwrap_err(), SaslError::Malformed("bad OAuth key or value"));
        assert!(seen.is_empty());
        let (r, seen) = run(Mechanism::OAuthBearer, &oauthbearer(user));
        assert_eq!(r.unwrap_err(), SaslError::AuthenticationFailed);
        assert!(seen.is_empty());
    }
    // RFC 4013 section 3: U+2168 ROMAN NUMERAL NINE prepares to "IX"; the
    // application sees that, and a token for IX lets it in as itself.
    for (m, msg) in [
        (Mechanism::XOAuth2, xoauth2("\u{2168}")),
        (Mechanism::OAuthBearer, oauthbearer("\u{2168}")),
    ] {
        let (r, seen) = run(m, &msg);
        assert_eq!(seen, [Some("IX".to_owned())], "{m}");
        let Ok(ServerStep::Success { identity, .. }) = r else {
            panic!("{m}: no success: {r:?}")
        };
        assert_eq!((identity.authcid.as_str(), identity.authzid), ("IX", None), "{m}");
    }
    // A name with a space is a name (SASLprep keeps ASCII space).
    let (r, seen) = run(Mechanism::XOAuth2, &xoauth2("I X"));
    assert_eq!(seen, [Some("I X".to_owned())]);
    assert!(matches!(r, Ok(ServerStep::Success { .. })));
}
