//! Known-answer tests from the RFC examples, client and server side.

use sasl::{
    ClientOptions, CredentialStore, Credentials, Mechanism, SaslError, ScramHash, ScramKeys, Secret,
    ServerOptions, ServerStep, client, client_with, server,
};

/// A store holding plaintext passwords (for the RFC examples) and SCRAM keys
/// derived from them on demand.
struct Store {
    users: Vec<(&'static str, &'static str)>,
    salt: Vec<u8>,
    iterations: u32,
    proxies: Vec<(&'static str, &'static str)>,
}

impl Store {
    fn new(users: &[(&'static str, &'static str)]) -> Self {
        Store {
            users: users.to_vec(),
            salt: b"salt".to_vec(),
            iterations: 4096,
            proxies: Vec::new(),
        }
    }

    fn password(&self, user: &str) -> Option<&'static str> {
        self.users.iter().find(|(u, _)| *u == user).map(|(_, p)| *p)
    }
}

impl CredentialStore for Store {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, SaslError> {
        Ok(self.password(authcid) == Some(password.expose().as_str()))
    }

    fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        ScramKeys::derive(hash, self.password(authcid)?, &self.salt, self.iterations).ok()
    }

    fn cram_md5_secret(&self, authcid: &str) -> Option<Secret<Vec<u8>>> {
        self.password(authcid).map(|p| Secret::new(p.as_bytes().to_vec()))
    }

    fn authorize(&self, authcid: &str, authzid: &str) -> bool {
        authcid == authzid || self.proxies.contains(&(authcid, authzid))
    }
}

fn success(step: Result<ServerStep, SaslError>) -> sasl::Identity {
    match step {
        Ok(ServerStep::Success { identity, .. }) => identity,
        other => panic!("expected success, got {other:?}"),
    }
}

fn challenge(step: Result<ServerStep, SaslError>) -> Vec<u8> {
    match step {
        Ok(ServerStep::Challenge(c)) => c,
        other => panic!("expected a challenge, got {other:?}"),
    }
}

/// RFC 4616 section 4, first example: no authzid.
#[test]
fn rfc4616_plain_without_authzid() {
    let store = Store::new(&[("tim", "tanstaaftanstaaf")]);
    let mut c = client(
        Mechanism::Plain,
        &Credentials::with_password("tim", "tanstaaftanstaaf"),
    )
    .unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    assert_eq!(ir.expose(), b"\0tim\0tanstaaftanstaaf");
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    let id = success(s.start(Some(ir.expose()), &store));
    assert_eq!((id.authcid.as_str(), id.authzid), ("tim", None));
    c.finish(None).unwrap();
}

/// RFC 4616 section 4, second example: "Kurt" acting as "Ursel".
#[test]
fn rfc4616_plain_with_authzid() {
    let mut store = Store::new(&[("Kurt", "xipj3plmq")]);
    let creds = Credentials {
        authzid: Some("Ursel".into()),
        ..Credentials::with_password("Kurt", "xipj3plmq")
    };
    let mut c = client(Mechanism::Plain, &creds).unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    assert_eq!(ir.expose(), b"Ursel\0Kurt\0xipj3plmq");
    // Not allowed to act as Ursel yet.
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    assert_eq!(
        s.start(Some(ir.expose()), &store),
        Err(SaslError::AuthenticationFailed)
    );
    store.proxies.push(("Kurt", "Ursel"));
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    let id = success(s.start(Some(ir.expose()), &store));
    assert_eq!(
        (id.authcid.as_str(), id.authzid.as_deref(), id.effective()),
        ("Kurt", Some("Ursel"), "Ursel")
    );
}

#[test]
fn plain_without_initial_response_and_errors() {
    let store = Store::new(&[("tim", "tanstaaftanstaaf")]);
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    assert_eq!(challenge(s.start(None, &store)), b"");
    // A client that did not send its initial response answers the empty challenge with it.
    let mut c = client(
        Mechanism::Plain,
        &Credentials::with_password("tim", "tanstaaftanstaaf"),
    )
    .unwrap();
    let msg = c.respond(b"").unwrap();
    success(s.step(msg.expose(), &store));
    assert!(matches!(s.step(b"", &store), Err(SaslError::WrongState(_))));

    for bad in [
        &b""[..],
        b"\0tim",
        b"\0\0pw",
        b"\0tim\0",
        b"\0tim\0pw\0x",
        b"\0t\xffm\0pw",
    ] {
        let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
        assert!(
            matches!(s.start(Some(bad), &store), Err(SaslError::Malformed(_))),
            "{bad:?}"
        );
    }
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    assert_eq!(
        s.start(Some(b"\0tim\0wrong"), &store),
        Err(SaslError::AuthenticationFailed)
    );
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    let long = vec![b'a'; 12289];
    assert_eq!(
        s.start(Some(&long), &store),
        Err(SaslError::TooLong {
            len: 12289,
            limit: 12288
        })
    );
}

#[test]
fn plain_client_refuses_bad_credentials() {
    assert!(matches!(
        client(
            Mechanism::Plain,
            &Credentials {
                username: "tim".into(),
                ..Credentials::default()
            }
        ),
        Err(SaslError::MissingCredentials(_))
    ));
    assert!(matches!(
        client(Mechanism::Plain, &Credentials::with_password("t\0m", "pw")),
        Err(SaslError::InvalidCredentials(_))
    ));
    let mut c = client(Mechanism::Plain, &Credentials::with_password("tim", "pw")).unwrap();
    c.initial_response().unwrap();
    assert!(matches!(c.initial_response(), Err(SaslError::WrongState(_))));
    assert!(matches!(c.respond(b"unexpected"), Err(SaslError::Malformed(_))));
    assert!(matches!(c.respond(b""), Err(SaslError::WrongState(_))));
}

#[test]
fn login_exchange() {
    let store = Store::new(&[("tim", "tanstaaftanstaaf")]);
    let mut c = client(
        Mechanism::Login,
        &Credentials::with_password("tim", "tanstaaftanstaaf"),
    )
    .unwrap();
    assert!(c.initial_response().unwrap().is_none());
    let mut s = server(Mechanism::Login, &ServerOptions::default()).unwrap();
    let ch = challenge(s.start(None, &store));
    assert_eq!(ch, b"Username:");
    let ch = challenge(s.step(c.respond(&ch).unwrap().expose(), &store));
    assert_eq!(ch, b"Password:");
    let id = success(s.step(c.respond(&ch).unwrap().expose(), &store));
    assert_eq!(id.authcid, "tim");
    c.finish(None).unwrap();
    assert!(matches!(c.respond(b"x"), Err(SaslError::WrongState(_))));

    // User name as initial response (AUTH LOGIN dGlt), wrong password.
    let mut s = server(Mechanism::Login, &ServerOptions::default()).unwrap();
    assert_eq!(challenge(s.start(Some(b"tim"), &store)), b"Password:");
    assert_eq!(s.step(b"nope", &store), Err(SaslError::AuthenticationFailed));
    assert!(matches!(
        s.step(b"tanstaaftanstaaf", &store),
        Err(SaslError::WrongState(_))
    ));
}

/// RFC 2195 section 2 example.
#[test]
fn rfc2195_cram_md5() {
    let store = Store::new(&[("tim", "tanstaaftanstaaf")]);
    let challenge_text = "<1896.697170952@postoffice.reston.mci.net>";
    let options = ServerOptions {
        cram_md5_challenge: Some(challenge_text.into()),
        ..ServerOptions::default()
    };
    let mut s = server(Mechanism::CramMd5, &options).unwrap();
    let ch = challenge(s.start(None, &store));
    assert_eq!(ch, challenge_text.as_bytes());
    let mut c = client(
        Mechanism::CramMd5,
        &Credentials::with_password("tim", "tanstaaftanstaaf"),
    )
    .unwrap();
    assert!(c.initial_response().unwrap().is_none());
    let answer = c.respond(&ch).unwrap();
    assert_eq!(answer.expose(), b"tim b913a602c7eda7a495b4e6e7334d3890");
    assert_eq!(success(s.step(answer.expose(), &store)).authcid, "tim");
    c.finish(None).unwrap();

    let mut s = server(Mechanism::CramMd5, &options).unwrap();
    challenge(s.start(None, &store));
    assert_eq!(
        s.step(b"tim b913a602c7eda7a495b4e6e7334d3891", &store),
        Err(SaslError::AuthenticationFailed)
    );
    let mut s = server(Mechanism::CramMd5, &options).unwrap();
    challenge(s.start(None, &store));
    assert!(matches!(
        s.step(b"tim B913A602C7EDA7A495B4E6E7334D3890", &store),
        Err(SaslError::Malformed(_))
    ));
    let mut s = server(Mechanism::CramMd5, &ServerOptions::default()).unwrap();
    let random = challenge(s.start(None, &store));
    assert!(random.starts_with(b"<") && random.ends_with(b"@localhost>"));
}

struct ScramVector {
    hash: ScramHash,
    client_nonce: &'static str,
    server_nonce: &'static str,
    salt_b64: &'static str,
    client_first: &'static str,
    server_first: &'static str,
    client_final: &'static str,
    server_final: &'static str,
}

/// RFC 5802 section 5 and RFC 7677 section 3.
const SCRAM_VECTORS: [ScramVector; 2] = [
    ScramVector {
        hash: ScramHash::Sha1,
        client_nonce: "fyko+d2lbbFgONRv9qkxdawL",
        server_nonce: "3rfcNHYJY1ZVvWVs7j",
        salt_b64: "QSXCR+Q6sek8bf92",
        client_first: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
        server_first: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        client_final: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        server_final: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
    },
    ScramVector {
        hash: ScramHash::Sha256,
        client_nonce: "rOprNGfwEbeRWgbNEkqO",
        server_nonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        salt_b64: "W22ZaJ0SNY7soEsUEjb6gQ==",
        client_first: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
        server_first: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        client_final: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                       p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        server_final: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
    },
];

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn rfc5802_and_rfc7677_scram() {
    for v in &SCRAM_VECTORS {
        let mut store = Store::new(&[("user", "pencil")]);
        store.salt = b64(v.salt_b64);
        let mech = v.hash.mechanism();

        // Client against the RFC transcript.
        let options = ClientOptions {
            scram_nonce: Some(v.client_nonce.into()),
            ..ClientOptions::default()
        };
        let mut c = client_with(mech, &Credentials::with_password("user", "pencil"), &options).unwrap();
        assert_eq!(
            c.initial_response().unwrap().unwrap().expose(),
            v.client_first.as_bytes()
        );
        assert_eq!(
            c.respond(v.server_first.as_bytes()).unwrap().expose(),
            v.client_final.as_bytes()
        );
        assert_eq!(c.respond(v.server_final.as_bytes()).unwrap().expose(), b"");
        c.finish(None).unwrap();

        // Server against the RFC transcript.
        let options = ServerOptions {
            scram_nonce: Some(v.server_nonce.into()),
            ..ServerOptions::default()
        };
        let mut s = server(mech, &options).unwrap();
        assert_eq!(
            challenge(s.start(Some(v.client_first.as_bytes()), &store)),
            v.server_first.as_bytes()
        );
        assert_eq!(
            challenge(s.step(v.client_final.as_bytes(), &store)),
            v.server_final.as_bytes()
        );
        assert_eq!(success(s.step(b"", &store)).authcid, "user");

        // Server-final as additional data with success.
        let options = ServerOptions {
            success_data: true,
            ..options
        };
        let mut s = server(mech, &options).unwrap();
        challenge(s.start(Some(v.client_first.as_bytes()), &store));
        match s.step(v.client_final.as_bytes(), &store) {
            Ok(ServerStep::Success { additional_data, .. }) => {
                assert_eq!(additional_data.as_deref(), Some(v.server_final.as_bytes()));
            }
            other => panic!("{other:?}"),
        }
        let options = ClientOptions {
            scram_nonce: Some(v.client_nonce.into()),
            ..ClientOptions::default()
        };
        let mut c = client_with(mech, &Credentials::with_password("user", "pencil"), &options).unwrap();
        c.initial_response().unwrap();
        c.respond(v.server_first.as_bytes()).unwrap();
        c.finish(Some(v.server_final.as_bytes())).unwrap();

        // A client must not accept success without (or with a wrong) server signature.
        let mut c = client_with(mech, &Credentials::with_password("user", "pencil"), &options).unwrap();
        c.initial_response().unwrap();
        c.respond(v.server_first.as_bytes()).unwrap();
        assert!(matches!(c.finish(None), Err(SaslError::ServerNotVerified(_))));
        let mut c = client_with(mech, &Credentials::with_password("user", "pencil"), &options).unwrap();
        c.initial_response().unwrap();
        c.respond(v.server_first.as_bytes()).unwrap();
        let mut wrong = v.server_final.to_owned();
        wrong.replace_range(2..3, if &wrong[2..3] == "A" { "B" } else { "A" });
        assert!(matches!(
            c.respond(wrong.as_bytes()),
            Err(SaslError::ServerNotVerified(_))
        ));
    }
}

/// The stored keys of the RFC 5802 example, for the application's account database.
#[test]
fn scram_keys_match_rfc5802() {
    let keys = ScramKeys::derive(ScramHash::Sha1, "pencil", &b64("QSXCR+Q6sek8bf92"), 4096).unwrap();
    let text = keys.to_rfc5803();
    // The server of the KAT above accepts the proof with these keys, so they are the RFC's.
    assert!(text.expose().starts_with("SCRAM-SHA-1$4096:QSXCR+Q6sek8bf92$"));
    assert_eq!(ScramKeys::from_rfc5803(text.expose()).unwrap(), keys);
    // And PLAIN works against a store of only these keys (the default verify_password).
    struct KeysOnly(ScramKeys);
    impl CredentialStore for KeysOnly {
        fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
            (authcid == "user" && hash == self.0.hash).then(|| self.0.clone())
        }
    }
    let store = KeysOnly(keys);
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    assert_eq!(success(s.start(Some(b"\0user\0pencil"), &store)).authcid, "user");
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    assert_eq!(
        s.start(Some(b"\0user\0pencil!"), &store),
        Err(SaslError::AuthenticationFailed)
    );
}

#[test]
fn debug_output_hides_secrets() {
    let creds = Credentials {
        oauth_token: Some(Secret::new("tok-SECRET".into())),
        ..Credentials::with_password("tim", "pw-SECRET")
    };
    let mut text = format!("{creds:?}");
    for m in Mechanism::ALL {
        let Ok(mut c) = client(m, &creds) else { continue };
        text.push_str(&format!("{c:?}"));
        if let Ok(ir) = c.initial_response() {
            text.push_str(&format!("{ir:?}{c:?}"));
        }
    }
    assert!(text.contains("tim"));
    assert!(!text.contains("SECRET"), "{text}");
}
