//! Review 20: each test here failed on the code before its fix; the RFC rule it
//! checks is quoted above it.

use sasl::{
    CredentialStore, Credentials, Mechanism, SaslError, Secret, ServerOptions, ServerStep, client, server,
};
use std::cell::Cell;

/// A password check backed by a directory where an empty password is an
/// unauthenticated bind that "succeeds" (the classic LDAP pitfall), and that
/// notes whether it was ever asked about an empty name or password.
#[derive(Default)]
struct DirectoryStore {
    saw_empty: Cell<bool>,
}

impl CredentialStore for DirectoryStore {
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, SaslError> {
        if authcid.is_empty() || password.expose().is_empty() {
            self.saw_empty.set(true);
            return Ok(true);
        }
        Ok(authcid == "alice" && password.expose() == "secret")
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

/// RFC 4505 section 3 (the "trace" profile the client prepares its message
/// with): "Characters from the following tables of [StringPrep] are
/// prohibited: - C.2.1 (ASCII control characters) - C.2.2 (Non-ASCII control
/// characters) ..." A trace with CR LF, NUL or ESC must not be sent.
#[test]
fn anonymous_client_refuses_control_characters_in_trace() {
    for trace in [
        "sirhc\r\nADMIN LOGGED IN",
        "a\0b",
        "\u{1b}[2J",
        "a\u{85}b",
        "a\u{E000}b",
    ] {
        let creds = Credentials {
            username: trace.into(),
            ..Credentials::default()
        };
        assert!(
            matches!(
                client(Mechanism::Anonymous, &creds),
                Err(SaslError::InvalidCredentials(_))
            ),
            "{trace:?}"
        );
    }
    // Spaces and '@' are fine (an e-mail address or an opaque string).
    let creds = Credentials {
        username: "Joe Q. <joe@example.com>".into(),
        ..Credentials::default()
    };
    assert!(client(Mechanism::Anonymous, &creds).is_ok());
}

/// RFC 4505 section 2: `message = [ email / token ] ;; to be prepared in
/// accordance with Section 3`, and section 3 prohibits C.2.1 and C.2.2 control
/// characters. A message holding them is not a valid ANONYMOUS message, and its
/// trace (handed to the application "for logging") must not carry CR LF or NUL
/// into a log.
#[test]
fn anonymous_server_refuses_control_characters_in_trace() {
    struct Open;
    impl CredentialStore for Open {
        fn allow_anonymous(&self, trace: &str) -> bool {
            assert!(
                !trace.contains(['\r', '\n', '\0']),
                "control characters reached the store"
            );
            true
        }
    }
    for msg in [&b"sirhc\r\nADMIN LOGGED IN"[..], b"a\0b", b"\x1b[2J"] {
        let mut s = server(Mechanism::Anonymous, &ServerOptions::default()).unwrap();
        assert!(
            matches!(s.start(Some(msg), &Open), Err(SaslError::Malformed(_))),
            "{msg:?}"
        );
    }
    let mut s = server(Mechanism::Anonymous, &ServerOptions::default()).unwrap();
    assert!(is_success(&s.start(Some(b"sirhc"), &Open)));
}

/// RFC 5802 section 7: `saslname = 1*(value-safe-char / "=2C" / "=3D")` with
/// `value-safe-char = %x01-2B / %x2D-3C / %x3E-7F / UTF8-2 / UTF8-3 / UTF8-4`:
/// NUL is not part of a SCRAM user name or authzid. RFC 4422 section 3.4.1
/// also excludes NUL from every authorization identity. A server that takes
/// "ad\0min" as an authzid hands the application a string that C code reads as
/// "ad".
#[test]
fn scram_server_refuses_nul_in_authzid_and_username() {
    let opts = ServerOptions::default();
    for msg in [
        &b"n,a=ad\0min,n=user,r=fyko+d2lbbFgONRv9qkxdawL"[..],
        b"n,,n=us\0er,r=fyko+d2lbbFgONRv9qkxdawL",
    ] {
        struct Empty;
        impl CredentialStore for Empty {}
        let mut s = server(Mechanism::ScramSha256, &opts).unwrap();
        assert!(
            matches!(s.start(Some(msg), &Empty), Err(SaslError::Malformed(_))),
            "{msg:?}"
        );
    }
}

/// RFC 7628 section 3.1: the GS2 header is that of RFC 5801, whose
/// `saslname = 1*(UTF8-char-safe / "=2C" / "=3D")` with
/// `UTF8-1-safe = %x01-2B / %x2D-3C / %x3E-7F`: no NUL in the OAUTHBEARER
/// authzid. The store below compares names the way C code would (up to a NUL).
#[test]
fn oauthbearer_server_refuses_nul_in_authzid() {
    struct CStrings;
    impl CredentialStore for CStrings {
        fn verify_bearer_token(&self, _user: Option<&str>, token: &Secret<String>) -> Option<String> {
            (token.expose() == "tok").then(|| "alice".into())
        }
        fn authorize(&self, authcid: &str, authzid: &str) -> bool {
            authzid.split('\0').next() == Some(authcid)
        }
    }
    let mut s = server(Mechanism::OAuthBearer, &ServerOptions::default()).unwrap();
    let r = s.start(Some(b"n,a=alice\0root,\x01auth=Bearer tok\x01\x01"), &CStrings);
    assert!(matches!(r, Err(SaslError::Malformed(_))), "{r:?}");
}

/// RFC 7628 section 3: "In the case where authentication fails, the server
/// sends an error result; the client MUST then send an additional message to
/// the server in order to allow the server to finish the exchange. ... 4.
/// Server fails the authentication." Once the client has seen the error
/// result, a success that follows is not believable: `finish` must fail.
#[test]
fn bearer_clients_refuse_success_after_the_error_result() {
    for mech in [Mechanism::OAuthBearer, Mechanism::XOAuth2] {
        let mut c = client(mech, &Credentials::with_token("user@example.com", "tok")).unwrap();
        c.initial_response().unwrap().unwrap();
        c.respond(br#"{"status":"invalid_token"}"#).unwrap();
        assert!(c.finish(None).is_err(), "{mech}");
    }
}

/// RFC 5802 section 5.1, attribute n: "If the preparation of the username
/// fails or results in an empty string, the client SHOULD abort the
/// authentication exchange." A name that prepares to "" would go out as
/// `n=,` (or `a=,`), which `saslname = 1*(...)` does not allow.
#[test]
fn scram_client_refuses_a_name_that_prepares_to_nothing() {
    for mech in [Mechanism::ScramSha1, Mechanism::ScramSha256] {
        let creds = Credentials::with_password("\u{AD}", "pencil");
        assert!(
            matches!(client(mech, &creds), Err(SaslError::InvalidCredentials(_))),
            "{mech}: user name"
        );
        let creds = Credentials {
            authzid: Some("\u{200B}".into()),
            ..Credentials::with_password("user", "pencil")
        };
        assert!(
            matches!(client(mech, &creds), Err(SaslError::InvalidCredentials(_))),
            "{mech}: authzid"
        );
    }
}

/// RFC 5802 section 5.1, attribute n: "If the preparation of the username
/// fails or results in an empty string, the server SHOULD abort the
/// authentication exchange." The empty name must not be looked up.
#[test]
fn scram_server_aborts_on_a_name_that_prepares_to_nothing() {
    struct Recorder(Cell<bool>);
    impl CredentialStore for Recorder {
        fn scram_keys(&self, _hash: sasl::ScramHash, authcid: &str) -> Option<sasl::ScramKeys> {
            if authcid.is_empty() {
                self.0.set(true);
            }
            None
        }
    }
    let store = Recorder(Cell::new(false));
    let mut s = server(Mechanism::ScramSha256, &ServerOptions::default()).unwrap();
    let r = s.start(Some("n,,n=\u{AD},r=fyko+d2lbbFgONRv9qkxdawL".as_bytes()), &store);
    assert_eq!(r, Err(SaslError::AuthenticationFailed));
    assert!(!store.0.get(), "the empty user name was looked up");
}

/// RFC 7628 section 3.2: "values included as kvpairs in the client response
/// (such as host and port) that correspond to values known to the application
/// server by some other mechanism (such as an application protocol data unit
/// or preconfigured values) MUST be validated to match between the initial
/// client response and the other source(s) of such information." The server
/// dropped `host` and `port` unseen, so no application could validate them (a
/// token phished by imap.evil.example and replayed here was accepted).
#[test]
fn oauthbearer_server_validates_host_and_port() {
    struct Tokens;
    impl CredentialStore for Tokens {
        fn verify_bearer_token(&self, _user: Option<&str>, token: &Secret<String>) -> Option<String> {
            (token.expose() == "tok").then(|| "alice".into())
        }
    }
    let opts = ServerOptions {
        oauth_host: Some("imap.example.com".into()),
        oauth_port: Some(993),
        ..ServerOptions::default()
    };
    for (ir, ok) in [
        (
            &b"n,,\x01host=imap.example.com\x01port=993\x01auth=Bearer tok\x01\x01"[..],
            true,
        ),
        (b"n,,\x01host=IMAP.Example.COM\x01auth=Bearer tok\x01\x01", true),
        (b"n,,\x01auth=Bearer tok\x01\x01", true),
        (
            b"n,,\x01host=imap.evil.example\x01port=993\x01auth=Bearer tok\x01\x01",
            false,
        ),
        (
            b"n,,\x01host=imap.example.com\x01port=143\x01auth=Bearer tok\x01\x01",
            false,
        ),
    ] {
        let mut s = server(Mechanism::OAuthBearer, &opts).unwrap();
        let r = s.start(Some(ir), &Tokens);
        if ok {
            assert!(is_success(&r), "{ir:?}: {r:?}");
        } else {
            assert_eq!(
                r,
                Ok(ServerStep::Challenge(opts.oauthbearer_error.as_bytes().to_vec())),
                "{ir:?}"
            );
            assert_eq!(s.step(b"\x01", &Tokens), Err(SaslError::AuthenticationFailed));
        }
    }
}

/// RFC 7628 section 3.1: "port: Contains the destination port that the client
/// connected to, represented as a decimal positive integer string without
/// leading zeros." Port 0 is not positive; the client must not send `port=0`.
#[test]
fn oauthbearer_client_refuses_port_zero() {
    let options = sasl::ClientOptions {
        oauth_port: Some(0),
        ..sasl::ClientOptions::default()
    };
    let creds = Credentials::with_token("user@example.com", "tok");
    assert!(matches!(
        sasl::client_with(Mechanism::OAuthBearer, &creds, &options),
        Err(SaslError::InvalidCredentials(_))
    ));
}

/// RFC 4422 section 3.4.1: "A non-empty authorization identity string
/// indicates that the client wishes to act as the identity represented by the
/// string." LOGIN, CRAM-MD5, XOAUTH2 and ANONYMOUS have no field for it
/// (section 5 item 3: for those "the authorization identity is always the
/// empty string"), so a client asked to act as "admin" that silently drops the
/// request ends up acting as the login user instead. Building such a client
/// must fail, and `choose` must not pick such a mechanism.
#[test]
fn authzid_is_never_dropped_silently() {
    let mut creds = Credentials::with_password("alice", "secret");
    creds.authzid = Some("admin".into());
    creds.oauth_token = Some(Secret::new("tok".into()));
    for mech in [
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
        Mechanism::Anonymous,
    ] {
        assert!(
            matches!(client(mech, &creds), Err(SaslError::InvalidCredentials(_))),
            "{mech}"
        );
    }
    // The mechanisms that carry it still work.
    for mech in [
        Mechanism::Plain,
        Mechanism::ScramSha256,
        Mechanism::OAuthBearer,
        Mechanism::External,
    ] {
        assert!(client(mech, &creds).is_ok(), "{mech}");
    }
    // An authzid equal to the user name asks for nothing special.
    let mut same = Credentials::with_password("alice", "secret");
    same.authzid = Some("alice".into());
    assert!(client(Mechanism::CramMd5, &same).is_ok());

    let mut pw = Credentials::with_password("alice", "secret");
    pw.authzid = Some("admin".into());
    let offered: Vec<&[u8]> = vec![b"CRAM-MD5", b"LOGIN", b"PLAIN"];
    assert_eq!(sasl::choose(&offered, &pw, true), Some(Mechanism::Plain));
    assert_eq!(sasl::choose(&offered[..2], &pw, true), None);
    let mut tok = Credentials::with_token("alice", "tok");
    tok.authzid = Some("admin".into());
    assert_eq!(sasl::choose(&[b"XOAUTH2"], &tok, true), None);
    assert_eq!(
        sasl::choose(&[b"XOAUTH2", b"OAUTHBEARER"], &tok, true),
        Some(Mechanism::OAuthBearer)
    );
}

/// A store with one SCRAM-SHA-256 user whose keys use 8192 iterations, that
/// says so for unknown users too, and counts how often it was asked.
struct CountingStore {
    keys: sasl::ScramKeys,
    asked: Cell<u32>,
}

impl CredentialStore for CountingStore {
    fn scram_keys(&self, hash: sasl::ScramHash, authcid: &str) -> Option<sasl::ScramKeys> {
        (hash == sasl::ScramHash::Sha256 && authcid == "alice").then(|| self.keys.clone())
    }
    fn unknown_user_iterations(&self) -> u32 {
        self.asked.set(self.asked.get() + 1);
        8192
    }
}

/// RFC 5802 section 5.1: "the server SHOULD ... [not] reveal whether the
/// user exists"; an unknown user must see the same iteration count as the
/// real ones, the count the store uses, and must still fail at the proof
/// even when the client computes a proof from the made-up parameters.
#[test]
fn scram_unknown_user_looks_like_a_real_one_and_fails() {
    let store = CountingStore {
        keys: sasl::ScramKeys::generate(sasl::ScramHash::Sha256, "pencil", 8192).unwrap(),
        asked: Cell::new(0),
    };
    for (user, known) in [("alice", true), ("mallory", false)] {
        let creds = Credentials::with_password(user, "pencil");
        let mut c = client(Mechanism::ScramSha256, &creds).unwrap();
        let mut s = server(Mechanism::ScramSha256, &ServerOptions::default()).unwrap();
        let first = c.initial_response().unwrap().unwrap();
        let ServerStep::Challenge(server_first) = s.start(Some(first.expose()), &store).unwrap() else {
            panic!("SCRAM answers client-first with a challenge");
        };
        let text = String::from_utf8(server_first.clone()).unwrap();
        assert!(text.ends_with(",i=8192"), "{user}: {text}");
        let last = c.respond(&server_first).unwrap();
        let r = s.step(last.expose(), &store);
        assert_eq!(r.is_ok(), known, "{user}: {r:?}");
    }
    assert_eq!(store.asked.get(), 1);
}

/// The default PLAIN/LOGIN check spends the same derivation on an unknown
/// user as on a known one (asking the store for the count) before failing,
/// so response time does not reveal which user names exist.
#[test]
fn default_password_check_works_as_hard_for_unknown_users() {
    let store = CountingStore {
        keys: sasl::ScramKeys::generate(sasl::ScramHash::Sha256, "pencil", 4096).unwrap(),
        asked: Cell::new(0),
    };
    assert_eq!(
        store.verify_password("alice", &Secret::new("pencil".into())),
        Ok(true)
    );
    assert_eq!(store.asked.get(), 0);
    assert_eq!(
        store.verify_password("mallory", &Secret::new("pencil".into())),
        Ok(false)
    );
    assert_eq!(store.asked.get(), 1);
}
