//! Session 23: the PLAIN fast path (RFC 4616 section 2) keeps every rule it
//! had: the client's message is held in its own box and handed out again
//! after an empty challenge (RFC 4422 section 5), fields with a NUL are
//! refused, the server checks UTF-8 once for the whole message yet still
//! names the field at fault, and the buffer that showed the store the
//! password becomes the identity's user name.

use sasl::{
    CredentialStore, Credentials, Mechanism, SaslError, Secret, ServerOptions, ServerStep, client, server,
};

/// Knows one user and password each, given at construction.
struct Store(Vec<(String, String)>);

impl CredentialStore for Store {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, SaslError> {
        Ok(self
            .0
            .iter()
            .any(|(u, p)| u == authcid && p.as_bytes() == password.expose().as_bytes()))
    }
    /// Everyone may act as `admin` (the authzid the cases use).
    fn authorize(&self, authcid: &str, authzid: &str) -> bool {
        authcid == authzid || authzid == "admin"
    }
}

fn store(accounts: &[(&str, &str)]) -> Store {
    Store(
        accounts
            .iter()
            .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
            .collect(),
    )
}

fn serve(msg: &[u8], store: &Store) -> Result<sasl::Identity, SaslError> {
    let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
    match s.start(Some(msg), store)? {
        ServerStep::Success { identity, .. } => Ok(identity),
        ServerStep::Challenge(_) => panic!("PLAIN succeeds or fails at once"),
    }
}

/// Short messages (held inline by the client) and long ones (on the heap),
/// with and without an authzid.
fn cases() -> Vec<(Credentials, Vec<u8>)> {
    let long_user = "u".repeat(40);
    let long_pw = "p".repeat(70);
    let mut out = Vec::new();
    for (user, pw) in [
        ("tim", "tanstaaftanstaaf"),
        (long_user.as_str(), long_pw.as_str()),
    ] {
        for authzid in [None, Some("admin")] {
            let creds = Credentials {
                authzid: authzid.map(str::to_owned),
                ..Credentials::with_password(user, pw)
            };
            let msg = [
                authzid.unwrap_or("").as_bytes(),
                b"\0",
                user.as_bytes(),
                b"\0",
                pw.as_bytes(),
            ]
            .concat();
            out.push((creds, msg));
        }
    }
    // Exactly at and just over the 64 octets kept inline.
    for n in [59, 60] {
        let pw = "x".repeat(n);
        let msg = [&b"\0user\0"[..], pw.as_bytes()].concat();
        out.push((Credentials::with_password("user", pw), msg));
    }
    out
}

/// RFC 4422 section 5: a client that produced its initial response but could
/// not send it answers the server's empty challenge with the same message,
/// once; the message is the RFC 4616 section 2 layout.
#[test]
fn plain_client_hands_out_its_message_again_after_an_empty_challenge() {
    for (creds, msg) in cases() {
        let mut c = client(Mechanism::Plain, &creds).unwrap();
        let ir = c.initial_response().unwrap().expect("PLAIN has one");
        assert_eq!(ir.expose(), &msg, "{} octets", msg.len());
        let again = c.respond(b"").unwrap();
        assert_eq!(again.expose(), &msg);
        // The message went out; another challenge is a protocol error.
        assert!(matches!(c.respond(b""), Err(SaslError::Malformed(_))));

        // Without a call to initial_response first, too.
        let mut c = client(Mechanism::Plain, &creds).unwrap();
        assert_eq!(c.respond(b"").unwrap().expose(), &msg);

        // And the server takes it.
        let mut c = client(Mechanism::Plain, &creds).unwrap();
        let ir = c.initial_response().unwrap().unwrap();
        let user = creds.username.clone();
        let pw = creds.password.as_ref().unwrap().expose().clone();
        let id = serve(ir.expose(), &store(&[(&user, &pw)])).unwrap();
        assert_eq!(id.authcid, user);
        assert_eq!(
            id.authzid.as_deref(),
            creds.authzid.as_deref().filter(|z| *z != user)
        );
        c.finish(None).unwrap();
    }
}

/// RFC 4616 section 2: no field may hold NUL (it is the separator); the
/// client refuses such credentials, short or long, in every field.
#[test]
fn plain_client_refuses_nul_in_any_field() {
    let long = "z".repeat(80);
    for filler in ["", long.as_str()] {
        let bad = [
            Credentials {
                authzid: Some(format!("ad\0min{filler}")),
                ..Credentials::with_password("tim", "pw")
            },
            Credentials::with_password(format!("t\0im{filler}"), "pw"),
            Credentials::with_password("tim", format!("p\0w{filler}")),
        ];
        for creds in bad {
            assert_eq!(
                client(Mechanism::Plain, &creds).err(),
                Some(SaslError::InvalidCredentials("NUL inside a PLAIN field"))
            );
        }
    }
}

/// RFC 4616 section 2: authzid, authcid and passwd are UTF-8. One check
/// covers the message, and the error still names the field.
#[test]
fn plain_server_names_the_field_that_is_not_utf8() {
    let st = store(&[("tim", "pw")]);
    for (msg, what) in [
        (&b"\xff\0tim\0pw"[..], "PLAIN authzid is not UTF-8"),
        (b"\0t\xffim\0pw", "PLAIN authcid is not UTF-8"),
        (b"\0tim\0p\xc3", "PLAIN password is not UTF-8"),
        // A multi-octet sequence cut by a separator is invalid on both sides.
        (b"\xc3\0tim\0pw", "PLAIN authzid is not UTF-8"),
        (b"\0tim\xc3\0pw", "PLAIN authcid is not UTF-8"),
    ] {
        assert_eq!(serve(msg, &st).err(), Some(SaslError::Malformed(what)), "{msg:?}");
    }
    // The structural checks come first, as before.
    assert_eq!(
        serve(b"\xff\0tim", &st).err(),
        Some(SaslError::Malformed("PLAIN message needs two NUL separators"))
    );
    assert_eq!(
        serve(b"\xff\0\0pw", &st).err(),
        Some(SaslError::Malformed(
            "PLAIN authcid and password must not be empty"
        ))
    );
    assert_eq!(
        serve(b"\0tim\0p\0\xff", &st).err(),
        Some(SaslError::Malformed(
            "PLAIN message has more than two NUL separators"
        ))
    );
    // Valid non-ASCII fields are cut at the right places.
    let st = store(&[("j\u{f6}rg", "p\u{e4}ss")]);
    let id = serve("j\u{f6}rg\0j\u{f6}rg\0p\u{e4}ss".as_bytes(), &st).unwrap();
    assert_eq!((id.authcid.as_str(), id.authzid), ("j\u{f6}rg", None));
}

/// The store sees the prepared password, and the identity carries the
/// prepared user name, whichever of the two is longer and whether SASLprep
/// borrowed or rebuilt the password (RFC 4013: U+00A0 maps to a space).
#[test]
fn plain_server_identity_after_the_password_check() {
    let long_user = "a-rather-long-user-name@example.org";
    for (user_sent, user, pw_sent, pw) in [
        ("tim", "tim", "a-long-password-indeed", "a-long-password-indeed"),
        (long_user, long_user, "pw", "pw"),
        (long_user, long_user, "p\u{a0}w", "p w"),
        ("I\u{ad}X", "IX", "p\u{a0}w", "p w"),
        ("\u{2168}", "IX", "secret", "secret"),
    ] {
        let st = store(&[(user, pw)]);
        let msg = format!("\0{user_sent}\0{pw_sent}");
        let id = serve(msg.as_bytes(), &st).unwrap_or_else(|e| panic!("{user_sent:?}: {e}"));
        assert_eq!(id.authcid, user);
        assert_eq!(id.effective(), user);
        // A wrong password fails, and nothing of it shows.
        let msg = format!("\0{user_sent}\0{pw_sent}x");
        assert_eq!(
            serve(msg.as_bytes(), &st).err(),
            Some(SaslError::AuthenticationFailed)
        );
    }
}
