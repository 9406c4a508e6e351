//! Known answers and edge cases of XOAUTH2, OAUTHBEARER, EXTERNAL, ANONYMOUS
//! and of the SCRAM message syntax.

use sasl::{
    ChannelBindingFlag, ClientOptions, CredentialStore, Credentials, Limits, Mechanism, SaslError, ScramHash,
    ScramKeys, Secret, ServerOptions, ServerStep, client, client_with, server,
};

struct Store;

const TOKEN: &str = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";

impl CredentialStore for Store {
    fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        (authcid == "user").then(|| ScramKeys::derive(hash, "pencil", b"NaCl", 4096).unwrap())
    }
    fn verify_bearer_token(&self, user: Option<&str>, token: &Secret<String>) -> Option<String> {
        (token.expose() == TOKEN && matches!(user, None | Some("user@example.com")))
            .then(|| "user@example.com".into())
    }
    fn external_identity(&self) -> Option<String> {
        Some("CN=client".into())
    }
    fn allow_anonymous(&self, _trace: &str) -> bool {
        true
    }
    fn authorize(&self, authcid: &str, authzid: &str) -> bool {
        authcid == authzid || (authcid == "CN=client" && authzid == "admin")
    }
}

fn challenge(step: Result<ServerStep, SaslError>) -> Vec<u8> {
    match step {
        Ok(ServerStep::Challenge(c)) => c,
        other => panic!("expected a challenge, got {other:?}"),
    }
}

fn identity(step: Result<ServerStep, SaslError>) -> sasl::Identity {
    match step {
        Ok(ServerStep::Success { identity, .. }) => identity,
        other => panic!("expected success, got {other:?}"),
    }
}

/// RFC 7628 section 4.1, decoded initial client response, byte for byte.
#[test]
fn rfc7628_oauthbearer_success() {
    let creds = Credentials::with_token("user@example.com", TOKEN);
    let options = ClientOptions {
        oauth_host: Some("server.example.com".into()),
        oauth_port: Some(143),
        ..ClientOptions::default()
    };
    let mut c = client_with(Mechanism::OAuthBearer, &creds, &options).unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    let expected = format!(
        "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer {TOKEN}\x01\x01"
    );
    assert_eq!(ir.expose(), expected.as_bytes());
    let mut s = server(Mechanism::OAuthBearer, &ServerOptions::default()).unwrap();
    let id = identity(s.start(Some(ir.expose()), &Store));
    assert_eq!((id.authcid.as_str(), id.authzid), ("user@example.com", None));
    c.finish(None).unwrap();
}

/// RFC 7628 section 4.3: empty auth, error JSON, client answers 0x01, failure.
#[test]
fn rfc7628_oauthbearer_failure() {
    let options = ServerOptions {
        oauthbearer_error: r#"{"status":"invalid_token","scope":"example_scope"}"#.into(),
        ..ServerOptions::default()
    };
    let mut s = server(Mechanism::OAuthBearer, &options).unwrap();
    let ir = b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=\x01\x01";
    let json = challenge(s.start(Some(ir), &Store));
    assert_eq!(json, options.oauthbearer_error.as_bytes());

    // The client side of the same: a bad token gets the error JSON, answers 0x01.
    let mut c = client(
        Mechanism::OAuthBearer,
        &Credentials::with_token("user@example.com", "bad"),
    )
    .unwrap();
    c.initial_response().unwrap();
    assert_eq!(c.respond(&json).unwrap().expose(), b"\x01");
    assert_eq!(c.server_error(), Some(&*options.oauthbearer_error));
    assert_eq!(s.step(b"\x01", &Store), Err(SaslError::AuthenticationFailed));
    assert!(matches!(s.step(b"\x01", &Store), Err(SaslError::WrongState(_))));

    let mut s = server(Mechanism::OAuthBearer, &options).unwrap();
    challenge(s.start(Some(b"n,,\x01auth=Bearer nope\x01\x01"), &Store));
    assert!(matches!(s.step(b"junk", &Store), Err(SaslError::Malformed(_))));
}

#[test]
fn oauthbearer_malformed() {
    for bad in [
        &b""[..],
        b"n,",
        b"p=tls-unique,,\x01auth=Bearer x\x01\x01",
        b"n,,auth=Bearer x\x01\x01",
        b"n,,\x01auth=Bearer x\x01",
        b"n,,\x01host=a\x01\x01",
        b"n,b=user,\x01auth=Bearer x\x01\x01",
        b"n,a=us=er,\x01auth=Bearer x\x01\x01",
        b"n,,\x01auth=Basic x\x01\x01",
    ] {
        let mut s = server(Mechanism::OAuthBearer, &ServerOptions::default()).unwrap();
        assert!(
            matches!(s.start(Some(bad), &Store), Err(SaslError::Malformed(_))),
            "{bad:?}"
        );
    }
}

/// XOAUTH2 as Google documents it, and its error JSON flow (client answers empty).
#[test]
fn xoauth2_exchange() {
    let creds = Credentials::with_token("user@example.com", TOKEN);
    let mut c = client(Mechanism::XOAuth2, &creds).unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    assert_eq!(
        ir.expose(),
        format!("user=user@example.com\x01auth=Bearer {TOKEN}\x01\x01").as_bytes()
    );
    let mut s = server(Mechanism::XOAuth2, &ServerOptions::default()).unwrap();
    assert_eq!(
        identity(s.start(Some(ir.expose()), &Store)).authcid,
        "user@example.com"
    );
    c.finish(None).unwrap();

    let mut c = client(
        Mechanism::XOAuth2,
        &Credentials::with_token("user@example.com", "expired"),
    )
    .unwrap();
    let mut s = server(Mechanism::XOAuth2, &ServerOptions::default()).unwrap();
    let json = challenge(s.start(Some(c.initial_response().unwrap().unwrap().expose()), &Store));
    assert_eq!(json, br#"{"status":"401","schemes":"bearer"}"#);
    let ack = c.respond(&json).unwrap();
    assert_eq!(ack.expose(), b"");
    assert!(c.server_error().unwrap().contains("401"));
    assert_eq!(s.step(ack.expose(), &Store), Err(SaslError::AuthenticationFailed));

    for bad in [
        &b"user=a\x01\x01"[..],
        b"auth=Bearer x\x01\x01",
        b"user=a\x01auth=Bearer x",
        b"\xff",
    ] {
        let mut s = server(Mechanism::XOAuth2, &ServerOptions::default()).unwrap();
        assert!(
            matches!(s.start(Some(bad), &Store), Err(SaslError::Malformed(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        client(Mechanism::XOAuth2, &Credentials::with_token("u\x01", "t")),
        Err(SaslError::InvalidCredentials(_))
    ));
    assert!(matches!(
        client(Mechanism::XOAuth2, &Credentials::with_password("u", "p")),
        Err(SaslError::MissingCredentials(_))
    ));
}

#[test]
fn external_exchange() {
    let mut c = client(Mechanism::External, &Credentials::default()).unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    assert_eq!(ir.expose(), b"");
    let mut s = server(Mechanism::External, &ServerOptions::default()).unwrap();
    assert_eq!(identity(s.start(Some(b""), &Store)).authcid, "CN=client");

    // Acting as another identity, approved and refused.
    let creds = Credentials {
        authzid: Some("admin".into()),
        ..Credentials::default()
    };
    let mut c = client(Mechanism::External, &creds).unwrap();
    let mut s = server(Mechanism::External, &ServerOptions::default()).unwrap();
    assert_eq!(challenge(s.start(None, &Store)), b"");
    let id = identity(s.step(c.respond(b"").unwrap().expose(), &Store));
    assert_eq!(id.effective(), "admin");
    let mut s = server(Mechanism::External, &ServerOptions::default()).unwrap();
    assert_eq!(
        s.start(Some(b"root"), &Store),
        Err(SaslError::AuthenticationFailed)
    );

    struct NoCert;
    impl CredentialStore for NoCert {}
    let mut s = server(Mechanism::External, &ServerOptions::default()).unwrap();
    assert_eq!(s.start(Some(b""), &NoCert), Err(SaslError::AuthenticationFailed));
}

/// RFC 4505 section 4: the trace "sirhc" after an empty challenge.
#[test]
fn rfc4505_anonymous() {
    let mut s = server(Mechanism::Anonymous, &ServerOptions::default()).unwrap();
    assert_eq!(challenge(s.start(None, &Store)), b"");
    let mut c = client(
        Mechanism::Anonymous,
        &Credentials {
            username: "sirhc".into(),
            ..Credentials::default()
        },
    )
    .unwrap();
    let msg = c.respond(b"").unwrap();
    assert_eq!(msg.expose(), b"sirhc");
    let id = identity(s.step(msg.expose(), &Store));
    assert_eq!(
        (id.authcid.as_str(), id.trace.as_deref()),
        ("anonymous", Some("sirhc"))
    );

    let long = "é".repeat(256);
    let mut s = server(Mechanism::Anonymous, &ServerOptions::default()).unwrap();
    assert!(matches!(
        s.start(Some(long.as_bytes()), &Store),
        Err(SaslError::Malformed(_))
    ));
    let mut s = server(Mechanism::Anonymous, &ServerOptions::default()).unwrap();
    assert!(s.start(Some("é".repeat(255).as_bytes()), &Store).is_ok());
    struct Closed;
    impl CredentialStore for Closed {}
    let mut s = server(Mechanism::Anonymous, &ServerOptions::default()).unwrap();
    assert_eq!(s.start(Some(b""), &Closed), Err(SaslError::AuthenticationFailed));
}

fn scram_server(options: &ServerOptions) -> Box<dyn sasl::ServerMechanism> {
    server(Mechanism::ScramSha256, options).unwrap()
}

#[test]
fn scram_gs2_header_and_channel_binding() {
    let opts = ServerOptions::default();
    // p= is refused clearly.
    let r = scram_server(&opts).start(Some(b"p=tls-server-end-point,,n=user,r=abc"), &Store);
    assert!(matches!(r, Err(SaslError::Unsupported(m)) if m.contains("channel binding")));
    // y is fine unless we offer -PLUS.
    challenge(scram_server(&opts).start(Some(b"y,,n=user,r=abc"), &Store));
    let plus = ServerOptions {
        scram_plus_offered: true,
        ..ServerOptions::default()
    };
    assert_eq!(
        scram_server(&plus).start(Some(b"y,,n=user,r=abc"), &Store),
        Err(SaslError::AuthenticationFailed)
    );
    // Mandatory extensions are refused.
    assert!(matches!(
        scram_server(&opts).start(Some(b"n,,m=x,n=user,r=abc"), &Store),
        Err(SaslError::Unsupported(_))
    ));
    for bad in [
        &b"x,,n=user,r=abc"[..],
        b"n",
        b"n,,",
        b"n,b=x,n=user,r=abc",
        b"n,,r=abc,n=user",
        b"n,,n=user",
        b"n,,n=user,r=",
        b"n,,n=us=er,r=abc",
        b"n,,n=user,r=a\x7fc",
        b"n,,n=user,r=abc,1=x",
        b"\xff",
    ] {
        let r = scram_server(&opts).start(Some(bad), &Store);
        assert!(
            matches!(r, Err(SaslError::Malformed(_))),
            "{:?}: {r:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn scram_client_flag_y_authzid_and_escaping() {
    let creds = Credentials {
        authzid: Some("ad,min=".into()),
        ..Credentials::with_password("us=er,x", "pencil")
    };
    let options = ClientOptions {
        scram_nonce: Some("abc".into()),
        channel_binding: ChannelBindingFlag::SupportedNotUsed,
        ..ClientOptions::default()
    };
    let mut c = client_with(Mechanism::ScramSha1, &creds, &options).unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    assert_eq!(ir.expose(), b"y,a=ad=2Cmin=3D,n=us=3Der=2Cx,r=abc");
}

#[test]
fn scram_client_checks_server_first() {
    let creds = Credentials::with_password("user", "pencil");
    let options = ClientOptions {
        scram_nonce: Some("abc".into()),
        limits: Limits {
            scram_max_iterations: 10_000,
            ..Limits::default()
        },
        ..ClientOptions::default()
    };
    type Check = fn(&SaslError) -> bool;
    let cases: [(&[u8], Check); 9] = [
        (b"r=abcdef,s=c2FsdA==,i=100", |e| {
            matches!(e, SaslError::Unsupported(_))
        }), // below 4096
        (b"r=abcdef,s=c2FsdA==,i=10001", |e| {
            matches!(e, SaslError::Unsupported(_))
        }),
        (b"r=xyzdef,s=c2FsdA==,i=4096", |e| {
            matches!(e, SaslError::Malformed(_))
        }), // nonce not extended
        (b"r=abc,s=c2FsdA==,i=4096", |e| {
            matches!(e, SaslError::Malformed(_))
        }),
        (b"r=abcdef,s=!!,i=4096", |e| matches!(e, SaslError::Malformed(_))),
        (b"r=abcdef,s=,i=4096", |e| matches!(e, SaslError::Malformed(_))),
        (b"r=abcdef,s=c2FsdA==,i=0", |e| {
            matches!(e, SaslError::Malformed(_))
        }),
        (b"m=x,r=abcdef,s=c2FsdA==,i=4096", |e| {
            matches!(e, SaslError::Unsupported(_))
        }),
        // RFC 5802 5.1: e= belongs in server-final only.
        (b"e=unknown-user", |e| matches!(e, SaslError::Malformed(_))),
    ];
    for (server_first, check) in cases {
        let mut c = client_with(Mechanism::ScramSha256, &creds, &options).unwrap();
        c.initial_response().unwrap();
        let e = c.respond(server_first).unwrap_err();
        assert!(check(&e), "{}: {e:?}", String::from_utf8_lossy(server_first));
        assert!(matches!(c.respond(b"x"), Err(SaslError::WrongState(_))));
    }
}

#[test]
fn scram_unknown_user_looks_like_a_known_one() {
    let opts = ServerOptions::default();
    let first = |user: &str| {
        let mut s = scram_server(&opts);
        let ch = challenge(s.start(Some(format!("n,,n={user},r=abc").as_bytes()), &Store));
        (s, String::from_utf8(ch).unwrap())
    };
    let (_, a) = first("ghost");
    let (_, b) = first("ghost");
    let salt = |m: &str| m.split(',').nth(1).unwrap().to_owned();
    assert_eq!(salt(&a), salt(&b), "stable fake salt");
    assert!(a.ends_with(",i=4096"));
    // The exchange fails only at the proof.
    let mut c = client(Mechanism::ScramSha256, &Credentials::with_password("ghost", "x")).unwrap();
    let mut s = scram_server(&opts);
    let ch = challenge(s.start(Some(c.initial_response().unwrap().unwrap().expose()), &Store));
    let fin = c.respond(&ch).unwrap();
    assert_eq!(s.step(fin.expose(), &Store), Err(SaslError::AuthenticationFailed));
}

#[test]
fn scram_server_checks_client_final() {
    let opts = ServerOptions {
        scram_nonce: Some("SRV".into()),
        ..ServerOptions::default()
    };
    let mut c = client_with(
        Mechanism::ScramSha256,
        &Credentials::with_password("user", "pencil"),
        &ClientOptions {
            scram_nonce: Some("CLI".into()),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let ir = c.initial_response().unwrap().unwrap();
    let mut s = scram_server(&opts);
    let first = challenge(s.start(Some(ir.expose()), &Store));
    let good = String::from_utf8(c.respond(&first).unwrap().expose().clone()).unwrap();
    let proof = good.rsplit_once(",p=").unwrap().1.to_owned();
    let cases = [
        (format!("c=eSws,r=CLISRV,p={proof}"), "auth"), // channel binding says y
        (format!("c=biws,r=CLIXXX,p={proof}"), "auth"), // wrong nonce
        ("c=biws,r=CLISRV,p=AAAA".to_owned(), "malformed"),
        (
            format!("c=biws,r=CLISRV,p={}", &proof[..proof.len() - 4]),
            "malformed",
        ),
        (format!("r=CLISRV,c=biws,p={proof}"), "malformed"),
        ("c=biws,r=CLISRV".to_owned(), "malformed"),
    ];
    for (msg, kind) in cases {
        let mut s = scram_server(&opts);
        challenge(s.start(Some(ir.expose()), &Store));
        let e = s.step(msg.as_bytes(), &Store).unwrap_err();
        match kind {
            "auth" => assert_eq!(e, SaslError::AuthenticationFailed, "{msg}"),
            _ => assert!(matches!(e, SaslError::Malformed(_)), "{msg}: {e:?}"),
        }
    }
    // The untouched message works, and a non-empty answer to server-final is refused.
    let mut s = scram_server(&opts);
    challenge(s.start(Some(ir.expose()), &Store));
    challenge(s.step(good.as_bytes(), &Store));
    assert!(matches!(s.step(b"x", &Store), Err(SaslError::Malformed(_))));
}

#[test]
fn saslprep_applies_to_scram_passwords() {
    // A password typed with a non-ASCII space and a soft hyphen authenticates
    // against keys derived from its prepared form.
    struct Prep;
    impl CredentialStore for Prep {
        fn scram_keys(&self, hash: ScramHash, _: &str) -> Option<ScramKeys> {
            Some(ScramKeys::derive(hash, "pen cil", b"salt", 4096).unwrap())
        }
    }
    let creds = Credentials::with_password("user", "pen\u{00A0}ci\u{00AD}l");
    let mut c = client(Mechanism::ScramSha1, &creds).unwrap();
    let mut s = server(Mechanism::ScramSha1, &ServerOptions::default()).unwrap();
    let ch = challenge(s.start(Some(c.initial_response().unwrap().unwrap().expose()), &Prep));
    let ch = challenge(s.step(c.respond(&ch).unwrap().expose(), &Prep));
    c.respond(&ch).unwrap();
    identity(s.step(b"", &Prep));
    c.finish(None).unwrap();
    assert!(matches!(
        client(
            Mechanism::ScramSha1,
            &Credentials::with_password("user", "a\u{0007}")
        ),
        Err(SaslError::InvalidCredentials(_))
    ));
}

#[test]
fn over_long_messages_are_too_long() {
    let limits = Limits {
        max_message_len: 100,
        ..Limits::default()
    };
    let long = vec![b'a'; 101];
    for m in Mechanism::ALL {
        let mut s = server(
            m,
            &ServerOptions {
                limits,
                ..ServerOptions::default()
            },
        )
        .unwrap();
        let r = if m.client_first() {
            s.start(Some(&long), &Store)
        } else {
            s.start(None, &Store).and_then(|_| s.step(&long, &Store))
        };
        assert_eq!(r, Err(SaslError::TooLong { len: 101, limit: 100 }), "{m}");
        assert!(
            matches!(s.step(b"", &Store), Err(SaslError::WrongState(_))),
            "{m}"
        );
    }
    let creds = Credentials {
        oauth_token: Some(Secret::new("t".into())),
        ..Credentials::with_password("u", "p")
    };
    for m in [Mechanism::Login, Mechanism::CramMd5] {
        let mut c = client_with(
            m,
            &creds,
            &ClientOptions {
                limits,
                ..ClientOptions::default()
            },
        )
        .unwrap();
        c.initial_response().unwrap();
        assert_eq!(
            c.respond(&long).unwrap_err(),
            SaslError::TooLong { len: 101, limit: 100 }
        );
    }
    // The RFC 4954 minimum itself is accepted.
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    let mut msg = b"\0user\0".to_vec();
    msg.resize(12288, b'p');
    assert_eq!(s.start(Some(&msg), &Store), Err(SaslError::AuthenticationFailed));
}
