//! Session 26: an adversarial review of the SCRAM attribute syntax (RFC 5802
//! sections 5.1 and 7), of the mechanism choice, and of the edges of PLAIN,
//! OAUTHBEARER and SCRAM seen from the outside.

use sasl::{
    ClientOptions, CredentialStore, Credentials, Mechanism, SaslError, ScramHash, ScramKeys, Secret,
    ServerOptions, ServerStep, client, client_with, server,
};

/// Knows "user" (and "us,er", "a=b") with password "pencil", the bearer
/// token "tok3n", and lets anyone act as anyone.
struct Store;

const TOKEN: &str = "tok3n";

impl CredentialStore for Store {
    fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        matches!(authcid, "user" | "us,er" | "a=b")
            .then(|| ScramKeys::derive(hash, "pencil", b"NaCl", 4096).unwrap())
    }
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, SaslError> {
        Ok(authcid == "user" && password.expose() == "pencil")
    }
    fn verify_bearer_token(&self, _user: Option<&str>, token: &Secret<String>) -> Option<String> {
        (token.expose() == TOKEN).then(|| "user".into())
    }
    fn authorize(&self, _authcid: &str, _authzid: &str) -> bool {
        true
    }
}

/// A server with the fixed SCRAM nonce "SRV".
fn srv(m: Mechanism) -> Box<dyn sasl::ServerMechanism> {
    let options = ServerOptions {
        scram_nonce: Some("SRV".into()),
        ..ServerOptions::default()
    };
    server(m, &options).unwrap()
}

/// A SCRAM-SHA-256 client with the fixed nonce "CLI".
fn scram_client(creds: &Credentials) -> Result<Box<dyn sasl::ClientMechanism>, SaslError> {
    let options = ClientOptions {
        scram_nonce: Some("CLI".into()),
        ..ClientOptions::default()
    };
    client_with(Mechanism::ScramSha256, creds, &options)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A SCRAM-SHA-256 exchange for user/pencil in which `edit` may change each
/// message on its way: 0 client-first, 1 server-first, 2 client-final,
/// 3 server-final. The first error, from either side, ends it.
fn scram_exchange(edit: &dyn Fn(usize, String) -> String) -> Result<sasl::Identity, SaslError> {
    let store = Store;
    let mut c = scram_client(&Credentials::with_password("user", "pencil"))?;
    let mut s = srv(Mechanism::ScramSha256);
    let ir = c.initial_response()?.unwrap();
    let first = s.start(Some(edit(0, text(ir.expose())).as_bytes()), &store)?;
    let ServerStep::Challenge(first) = first else {
        panic!("no server-first")
    };
    let fin = c.respond(edit(1, text(&first)).as_bytes())?;
    let ServerStep::Challenge(server_final) = s.step(edit(2, text(fin.expose())).as_bytes(), &store)? else {
        panic!("no server-final")
    };
    let ack = c.respond(edit(3, text(&server_final)).as_bytes())?;
    match s.step(ack.expose(), &store)? {
        ServerStep::Success { identity, .. } => {
            c.finish(None)?;
            Ok(identity)
        }
        ServerStep::Challenge(_) => panic!("a challenge after the empty answer"),
    }
}

/// Appends `extra` to message `which` of the exchange (before the proof of
/// client-final, which must stay last).
fn with_extra(which: usize, extra: &str) -> impl Fn(usize, String) -> String {
    move |i, msg| {
        if i != which {
            msg
        } else if let Some((head, proof)) = msg.rsplit_once(",p=") {
            format!("{head},{extra},p={proof}")
        } else {
            format!("{msg},{extra}")
        }
    }
}

/// RFC 5802 section 5.1: "m: This attribute is reserved for future
/// extensibility. In this version of SCRAM, its presence in a client or a
/// server message MUST cause authentication failure when the attribute is
/// parsed by the other end." Before, only an `m=` in the first place was
/// refused; one after the mandatory attributes passed as an optional
/// extension, in all four messages.
#[test]
fn scram_m_attribute_fails_wherever_it_stands() {
    assert!(scram_exchange(&|_, m| m).is_ok());
    // An unknown optional extension is ignored (section 5.1): one in
    // server-final changes nothing, one elsewhere changes AuthMessage, which
    // the proof then catches.
    assert!(scram_exchange(&with_extra(3, "x=optional")).is_ok());
    for which in 0..3 {
        assert_eq!(
            scram_exchange(&with_extra(which, "x=optional")).unwrap_err(),
            SaslError::AuthenticationFailed,
            "x= in message {which}"
        );
    }
    for which in 0..4 {
        assert_eq!(
            scram_exchange(&with_extra(which, "m=mandatory")).unwrap_err(),
            SaslError::Unsupported("SCRAM mandatory extension (m=)"),
            "m= in message {which}"
        );
    }
}

/// RFC 5802 section 5.1: "Optional extensions use as-yet unassigned
/// attribute names", and section 7: `value = 1*value-char`, which holds no
/// NUL. An attribute the RFC assigns (a second `r=` with another nonce, a
/// second `i=`, `c=` or `v=`) is no extension but a repeated or misplaced
/// attribute, and the two sides need not agree on which copy counts; before,
/// both passed as optional extensions and were ignored, and so did a NUL.
#[test]
fn scram_assigned_names_and_nul_are_no_extensions() {
    let repeats = [
        (0, "r=other"),
        (0, "n=admin"),
        (0, "a=admin"),
        (1, "i=1"),
        (1, "s=c2FsdA=="),
        (1, "r=CLIother"),
        (2, "c=eSws"),
        (2, "r=CLISRV"),
        (2, "p=AAAA"),
        (3, "v=AAAA"),
        (3, "e=other-error"),
    ];
    for (which, extra) in repeats {
        assert_eq!(
            scram_exchange(&with_extra(which, extra)).unwrap_err(),
            SaslError::Malformed("SCRAM attribute repeated or out of place"),
            "{extra:?} in message {which}"
        );
    }
    for which in 0..4 {
        assert_eq!(
            scram_exchange(&with_extra(which, "x=a\0b")).unwrap_err(),
            SaslError::Malformed("bad SCRAM attribute"),
            "NUL in message {which}"
        );
    }
}

/// `choose` promises "the strongest mechanism both sides support that the
/// credentials can drive". Before, it looked only at which credential was
/// set: a password SCRAM cannot salt (a code point Unicode 3.2 left
/// unassigned, RFC 5802 2.2 treats it as a stored string) got SCRAM-SHA-256,
/// which `client` then refused, though PLAIN was offered too; a token
/// without a user name got XOAUTH2, which needs one; a password without a
/// user name got SCRAM. Each choice must now build.
#[test]
fn choose_picks_only_what_the_credentials_can_drive() {
    let both: Vec<&[u8]> = vec![b"SCRAM-SHA-256", b"PLAIN"];
    let unassigned = Credentials::with_password("user", "pass\u{0221}");
    assert!(client(Mechanism::ScramSha256, &unassigned).is_err());
    assert_eq!(sasl::choose(&both, &unassigned, true), Some(Mechanism::Plain));
    assert_eq!(sasl::choose(&both, &unassigned, false), None);

    let no_user = Credentials::with_token("", TOKEN);
    assert!(client(Mechanism::XOAuth2, &no_user).is_err());
    assert_eq!(sasl::choose(&[b"XOAUTH2"], &no_user, true), None);
    assert_eq!(
        sasl::choose(&[b"XOAUTH2", b"OAUTHBEARER"], &no_user, true),
        Some(Mechanism::OAuthBearer)
    );

    let no_name = Credentials::with_password("", "pencil");
    assert_eq!(sasl::choose(&both, &no_name, true), None);

    // Whatever it picks, it can build.
    let all: Vec<&[u8]> = Mechanism::ALL.iter().map(|m| m.name().as_bytes()).collect();
    for creds in [
        unassigned,
        no_user,
        no_name,
        Credentials::with_password("user", ""),
    ] {
        if let Some(m) = sasl::choose(&all, &creds, true) {
            assert!(client(m, &creds).is_ok(), "{m} for {creds:?}");
        }
    }
}

/// RFC 5802 section 7: `gs2-cbind-flag = ("p=" cb-name) / "n" / "y"` with
/// `cb-name = 1*(ALPHA / DIGIT / "." / "-")`. A well-formed `p=` names a
/// channel binding type this server does not support (section 6: it "MUST
/// fail authentication"), which is `Unsupported`; a `p=` without a valid
/// name is a syntax error like any other bad flag. Before, every `p=...`
/// was `Unsupported`, even `p=` alone.
#[test]
fn scram_gs2_flag_p_needs_a_channel_binding_name() {
    let start = |msg: &str| srv(Mechanism::ScramSha256).start(Some(msg.as_bytes()), &Store);
    for name in ["tls-unique", "tls-server-end-point", "tls-exporter", "x.1"] {
        assert_eq!(
            start(&format!("p={name},,n=user,r=CLI")).unwrap_err(),
            SaslError::Unsupported("SCRAM channel binding (p=, the -PLUS mechanisms)"),
            "{name}"
        );
    }
    for flag in [
        "p=",
        "p=tls_unique",
        "p=tls unique",
        "p=tls\u{e9}",
        "p",
        "P=tls-unique",
    ] {
        assert_eq!(
            start(&format!("{flag},,n=user,r=CLI")).unwrap_err(),
            SaslError::Malformed("bad SCRAM channel binding flag"),
            "{flag:?}"
        );
    }
}

/// What held under this review, kept as a regression net: the SCRAM
/// client's checks of server-first (RFC 5802 5.1 and 7), the PLAIN split
/// (RFC 4616 2) and the OAUTHBEARER message grammar (RFC 7628 3.1).
#[test]
fn edges_that_held() {
    // SCRAM client, server-first: the nonce extends ours, printable; the
    // salt is non-empty canonical base64; i is a positive number within
    // the limits; the attributes come in order.
    let server_first = |first: &str| {
        let mut c = scram_client(&Credentials::with_password("user", "pencil")).unwrap();
        c.initial_response().unwrap();
        c.respond(first.as_bytes()).map(|_| ())
    };
    assert_eq!(server_first("r=CLISRV,s=TmFDbA==,i=4096"), Ok(()));
    assert_eq!(server_first("r=CLISRV,s=TmFDbA==,i=4096,x=ignored"), Ok(()));
    for bad in [
        "r=CLI,s=TmFDbA==,i=4096",
        "r=CLXSRV,s=TmFDbA==,i=4096",
        "r=CLI S,s=TmFDbA==,i=4096",
        "r=CLISRV,s=TmFDbA,i=4096",
        "r=CLISRV,s=,i=4096",
        "r=CLISRV,s=TmFDbA==,i=0",
        "r=CLISRV,s=TmFDbA==,i=04096",
        "r=CLISRV,s=TmFDbA==,i=4294967296",
        "r=CLISRV,s=TmFDbA==,i=1000001",
        "r=CLISRV,s=TmFDbA==,i=4096,",
        "s=TmFDbA==,r=CLISRV,i=4096",
        "r=CLISRV,s=TmFDbA==",
    ] {
        assert!(server_first(bad).is_err(), "{bad:?}");
    }
    // e= has no place in server-first (RFC 5802 5.1 and 7; review26b.rs).
    assert_eq!(
        server_first("e=other-error"),
        Err(SaslError::Malformed("SCRAM e= is allowed only in server-final"))
    );

    // SCRAM names with ',' and '=' go escaped and come back whole.
    let store = Store;
    for user in ["us,er", "a=b"] {
        let mut c = scram_client(&Credentials::with_password(user, "pencil")).unwrap();
        let mut s = srv(Mechanism::ScramSha256);
        let ir = c.initial_response().unwrap().unwrap();
        assert!(text(ir.expose()).contains(&user.replace('=', "=3D").replace(',', "=2C")));
        let ServerStep::Challenge(first) = s.start(Some(ir.expose()), &store).unwrap() else {
            panic!("no server-first")
        };
        let fin = c.respond(&first).unwrap();
        let ServerStep::Challenge(last) = s.step(fin.expose(), &store).unwrap() else {
            panic!("no server-final")
        };
        c.respond(&last).unwrap();
        let Ok(ServerStep::Success { identity, .. }) = s.step(b"", &store) else {
            panic!("no success")
        };
        assert_eq!(identity.authcid, user);
    }

    // PLAIN: exactly two NULs, a non-empty authcid and password, UTF-8.
    let plain = |msg: &[u8]| srv(Mechanism::Plain).start(Some(msg), &Store);
    assert!(matches!(plain(b"\0user\0pencil"), Ok(ServerStep::Success { .. })));
    assert!(matches!(
        plain(b"user\0user\0pencil"),
        Ok(ServerStep::Success { .. })
    ));
    for bad in [
        &b"\0user\0pencil\0"[..],
        b"\0\0user\0pencil",
        b"\0user\0\0pencil",
        b"\0user\0",
        b"\0\0pencil",
        b"user\0pencil",
        b"\0user\0pencil\xFF",
    ] {
        assert!(matches!(plain(bad), Err(SaslError::Malformed(_))), "{bad:?}");
    }
    assert_eq!(
        plain(b"\0user\0pencil\r\n").unwrap_err(),
        SaslError::AuthenticationFailed
    );

    // OAUTHBEARER: gs2-header kvsep *kvpair kvsep, and nothing else.
    let bearer = |msg: &[u8]| srv(Mechanism::OAuthBearer).start(Some(msg), &Store);
    for good in [
        &b"n,,\x01auth=Bearer tok3n\x01\x01"[..],
        b"y,a=user,\x01auth=Bearer tok3n\x01\x01",
        b"n,a=u=2Cs,\x01auth=Bearer tok3n\x01\x01",
    ] {
        assert!(matches!(bearer(good), Ok(ServerStep::Success { .. })), "{good:?}");
    }
    for bad in [
        &b"p=tls-unique,,\x01auth=Bearer tok3n\x01\x01"[..],
        b"n,,\x01auth=Bearer tok3n\x01",
        b"n,,auth=Bearer tok3n\x01\x01",
        b"n,,\x01auth=Bearer tok3n\x01\x01\x01",
        b"n,,\x01\x01",
        b"\x01",
        b"n,a=u=2cs,\x01auth=Bearer tok3n\x01\x01",
    ] {
        assert!(matches!(bearer(bad), Err(SaslError::Malformed(_))), "{bad:?}");
    }
}
