//! Session 26, third part: each client refuses, before anything is sent,
//! the names its own server refuses. A client that sends a name the server
//! must refuse (one that fails SASLprep, RFC 4013 section 2, or prepares to
//! nothing) only earns a failed login the user cannot understand; refused
//! at [`client`], the mistake is named ([`SaslError::InvalidCredentials`]).
//!
//! Each test runs a client against the server of the same mechanism with a
//! store that accepts every credential: a name then either is refused by
//! the client or logs in, and never fails at the server.

use std::sync::OnceLock;

use sasl::{
    CredentialStore, Credentials, Identity, Mechanism, SaslError, ScramHash, ScramKeys, Secret,
    ServerOptions, ServerStep, client, server,
};

/// Accepts every credential: any password, any token, any certificate
/// identity, any proxy authorization, anonymous logins.
struct AcceptAll;

const PASSWORD: &str = "pencil";

impl CredentialStore for AcceptAll {
    fn verify_password(&self, _authcid: &str, _password: &Secret<String>) -> Result<bool, SaslError> {
        Ok(true)
    }
    fn scram_keys(&self, hash: ScramHash, _authcid: &str) -> Option<ScramKeys> {
        static SHA1: OnceLock<ScramKeys> = OnceLock::new();
        static SHA256: OnceLock<ScramKeys> = OnceLock::new();
        let keys = match hash {
            ScramHash::Sha1 => &SHA1,
            _ => &SHA256,
        };
        Some(
            keys.get_or_init(|| ScramKeys::generate(hash, PASSWORD, 4096).unwrap())
                .clone(),
        )
    }
    fn cram_md5_secret(&self, _authcid: &str) -> Option<Secret<Vec<u8>>> {
        Some(Secret::new(PASSWORD.as_bytes().to_vec()))
    }
    fn verify_bearer_token(&self, user: Option<&str>, _token: &Secret<String>) -> Option<String> {
        Some(user.unwrap_or("someone").to_owned())
    }
    fn external_identity(&self) -> Option<String> {
        Some("cert".into())
    }
    fn allow_anonymous(&self, _trace: &str) -> bool {
        true
    }
    fn authorize(&self, _authcid: &str, _authzid: &str) -> bool {
        true
    }
}

/// Runs `creds` through the client and the server of `mech`, in memory.
fn exchange(mech: Mechanism, creds: &Credentials) -> Result<Identity, SaslError> {
    let store = AcceptAll;
    let mut c = client(mech, creds)?;
    let mut s = server(mech, &ServerOptions::default()).unwrap();
    let ir = c.initial_response()?;
    let mut step = s.start(ir.as_ref().map(|m| &m.expose()[..]), &store)?;
    loop {
        match step {
            ServerStep::Challenge(challenge) => {
                let answer = c.respond(&challenge)?;
                step = s.step(answer.expose(), &store)?;
            }
            ServerStep::Success {
                identity,
                additional_data,
            } => {
                c.finish(additional_data.as_deref())?;
                return Ok(identity);
            }
        }
    }
}

/// Names SASLprep refuses (RFC 4013 section 2.3 control characters: CR,
/// LF, TAB, NEL; C.3 private use; 2.4 the bidi rule) or prepares to nothing
/// (2.1: the soft hyphen is mapped to nothing).
const REFUSED: [&str; 8] = [
    "user\n",
    "us\r\ner",
    "\tuser",
    "us\u{85}er",
    "us\u{7f}er",
    "\u{e000}",
    "\u{627}1",
    "\u{ad}",
];

/// Names SASLprep takes: ASCII with a space, an address, one it maps
/// (U+2168 prepares to "IX", the soft hyphen inside a name is dropped),
/// a right-to-left one.
const TAKEN: [&str; 6] = [
    "user",
    "I X",
    "user@example.com",
    "\u{2168}",
    "us\u{ad}er",
    "\u{627}",
];

/// Which credential field the name goes into.
#[derive(Debug, Clone, Copy)]
enum Field {
    User,
    Authzid,
}

fn creds(mech: Mechanism, field: Field, name: &str) -> Credentials {
    let user = match field {
        Field::User => name,
        Field::Authzid => "user",
    };
    let mut creds = match mech {
        Mechanism::XOAuth2 | Mechanism::OAuthBearer => Credentials::with_token(user, "tok3n"),
        _ => Credentials::with_password(user, PASSWORD),
    };
    if let Field::Authzid = field {
        creds.authzid = Some(name.to_owned());
    }
    creds
}

/// The client of `mech` refuses every name of [`REFUSED`] in `field` with
/// `InvalidCredentials`, and logs in with every name of [`TAKEN`].
fn refuses_what_its_server_refuses(mech: Mechanism, field: Field) {
    for name in REFUSED {
        let creds = creds(mech, field, name);
        assert!(
            matches!(client(mech, &creds), Err(SaslError::InvalidCredentials(_))),
            "{mech} {field:?} {name:?}: the client built, the exchange gave {:?}",
            exchange(mech, &creds)
        );
    }
    for name in TAKEN {
        let r = exchange(mech, &creds(mech, field, name));
        assert!(r.is_ok(), "{mech} {field:?} {name:?}: {r:?}");
    }
}

/// XOAUTH2: the server prepares `user=` with SASLprep (RFC 4013 section
/// 2, RFC 4422 section 3.4.1) and fails a name that does not prepare; the
/// client took CR, LF and TAB (RFC 7628 3.1 `value` octets), private use
/// and names that prepare to nothing.
#[test]
fn xoauth2_client_refuses_the_names_its_server_refuses() {
    refuses_what_its_server_refuses(Mechanism::XOAuth2, Field::User);
}

/// CRAM-MD5: RFC 2195 section 2 sends "the user name"; RFC 4013 names
/// CRAM-MD5 among the mechanisms SASLprep is for, and the server prepares
/// the name before it looks the secret up. The client sent any name.
#[test]
fn cram_md5_client_refuses_the_names_its_server_refuses() {
    refuses_what_its_server_refuses(Mechanism::CramMd5, Field::User);
}

/// PLAIN: RFC 4616 section 2, the server prepares the authcid and fails
/// one that does not prepare or prepares to nothing; the authzid likewise
/// (RFC 4422 section 3.4.1).
#[test]
fn plain_client_refuses_the_names_its_server_refuses() {
    refuses_what_its_server_refuses(Mechanism::Plain, Field::User);
    refuses_what_its_server_refuses(Mechanism::Plain, Field::Authzid);
}

/// LOGIN: the server checks the name as PLAIN does.
#[test]
fn login_client_refuses_the_names_its_server_refuses() {
    refuses_what_its_server_refuses(Mechanism::Login, Field::User);
}

/// SCRAM: RFC 5802 section 5.1, the client prepares the user name and the
/// authzid and aborts if that fails or leaves nothing; this held already.
#[test]
fn scram_client_refuses_the_names_its_server_refuses() {
    for mech in [Mechanism::ScramSha1, Mechanism::ScramSha256] {
        refuses_what_its_server_refuses(mech, Field::User);
        refuses_what_its_server_refuses(mech, Field::Authzid);
    }
}

/// EXTERNAL: the message is the authzid, which the server prepares (RFC
/// 4422 section 3.4.1 and appendix A); the client refused only a NUL.
#[test]
fn external_client_refuses_the_names_its_server_refuses() {
    refuses_what_its_server_refuses(Mechanism::External, Field::Authzid);
}

/// OAUTHBEARER: the server prepares the GS2 `a=` name (RFC 7628 3.1); the
/// client refused control characters only, not private use, a broken
/// bidi rule or a name that prepares to nothing.
#[test]
fn oauthbearer_client_refuses_the_names_its_server_refuses() {
    refuses_what_its_server_refuses(Mechanism::OAuthBearer, Field::User);
    refuses_what_its_server_refuses(Mechanism::OAuthBearer, Field::Authzid);
}

/// ANONYMOUS: the trace is no name and not SASLprep'ed; both sides apply
/// the "trace" profile of RFC 4505 section 3 (no mapping: the soft hyphen
/// is kept) and its 255-character limit. This held already: what the client
/// builds, the server lets in.
#[test]
fn anonymous_client_refuses_the_traces_its_server_refuses() {
    let long = "x".repeat(256);
    // All of REFUSED but the soft hyphen, which the trace profile keeps.
    let refused: Vec<&str> = REFUSED[..7].iter().copied().chain([long.as_str()]).collect();
    for trace in REFUSED.iter().chain(&TAKEN).copied().chain([long.as_str(), ""]) {
        let creds = Credentials::with_password(trace, "");
        match client(Mechanism::Anonymous, &creds) {
            Err(SaslError::InvalidCredentials(_)) => assert!(refused.contains(&trace), "{trace:?}"),
            Err(e) => panic!("{trace:?}: {e:?}"),
            Ok(_) => assert_eq!(
                exchange(Mechanism::Anonymous, &creds).map(|i| i.trace),
                Ok(Some(trace.to_owned())),
                "{trace:?}"
            ),
        }
        assert_eq!(
            refused.contains(&trace),
            client(Mechanism::Anonymous, &creds).is_err(),
            "{trace:?}"
        );
    }
}

/// The CRAM-MD5 server prepared the user name but did not check what was
/// left: a name that prepares to nothing (a lone soft hyphen, RFC 4013
/// section 2.1) reached `cram_md5_secret` as "", and a store with a secret
/// for it let the client in as "". The server now fails such a name as
/// PLAIN's and SCRAM's do (RFC 4616 section 2, RFC 5802 section 5.1: "if
/// preparation fails or results in an empty string"), before the store is
/// asked.
#[test]
fn cram_md5_server_refuses_a_name_that_prepares_to_nothing() {
    #[derive(Default)]
    struct Secrets(std::cell::RefCell<Vec<String>>);
    impl CredentialStore for Secrets {
        fn cram_md5_secret(&self, authcid: &str) -> Option<Secret<Vec<u8>>> {
            self.0.borrow_mut().push(authcid.to_owned());
            Some(Secret::new(PASSWORD.as_bytes().to_vec()))
        }
    }
    let options = ServerOptions {
        cram_md5_challenge: Some("<1896.697170952@postoffice.example.net>".into()),
        ..ServerOptions::default()
    };
    // The digest does not depend on the name: take it from a client's answer.
    let mut c = client(Mechanism::CramMd5, &Credentials::with_password("x", PASSWORD)).unwrap();
    let challenge = options.cram_md5_challenge.clone().unwrap();
    let answer = c.respond(challenge.as_bytes()).unwrap();
    let digest = answer.expose().strip_prefix(b"x ").unwrap().to_vec();
    for (user, expected) in [
        ("\u{ad}", Err(SaslError::AuthenticationFailed)),
        ("x\u{ad}", Ok("x")),
    ] {
        let store = Secrets::default();
        let mut s = server(Mechanism::CramMd5, &options).unwrap();
        s.start(None, &store).unwrap();
        let mut msg = format!("{user} ").into_bytes();
        msg.extend_from_slice(&digest);
        let r = s.step(&msg, &store).map(|step| match step {
            ServerStep::Success { identity, .. } => identity.authcid,
            ServerStep::Challenge(_) => panic!("a second challenge"),
        });
        assert_eq!(r.as_deref().map_err(Clone::clone), expected, "{user:?}");
        let seen = store.0.into_inner();
        assert_eq!(
            seen.is_empty(),
            expected.is_err(),
            "{user:?}: the store saw {seen:?}"
        );
    }
}

/// RFC 4616 section 2: the server prepares the password with SASLprep and
/// fails the login when that fails or leaves nothing; the LOGIN server
/// checks the password the same way. So the PLAIN and LOGIN clients refuse
/// such a password before anything is sent, as they refuse such a name,
/// instead of earning a failed login the user cannot understand (found by
/// the session-26 review of the clients, not fixed then).
#[test]
fn plain_and_login_clients_refuse_the_passwords_their_servers_refuse() {
    for mech in [Mechanism::Plain, Mechanism::Login] {
        for pw in REFUSED {
            let creds = Credentials::with_password("user", pw);
            assert!(
                matches!(client(mech, &creds), Err(SaslError::InvalidCredentials(_))),
                "{mech} {pw:?}: the client built, the exchange gave {:?}",
                exchange(mech, &creds)
            );
        }
        for pw in TAKEN {
            let creds = Credentials::with_password("user", pw);
            assert!(exchange(mech, &creds).is_ok(), "{mech} {pw:?}");
        }
    }
}

/// RFC 4616 section 2 gives PLAIN `passwd = 1*SAFE`, and the PLAIN and
/// LOGIN servers fail a password that prepares to nothing. SCRAM (RFC 5802)
/// has no such rule of its own, so an account with an empty password could
/// log in by SCRAM but never by PLAIN. One rule now holds for every
/// password mechanism: `ScramKeys::derive` and `generate` refuse a password
/// that prepares to nothing (a lone soft hyphen prepares to nothing, RFC
/// 4013 2.1), and so does the SCRAM client, before anything is sent
/// (found by the session-26 review, not fixed then).
#[test]
fn no_password_mechanism_takes_a_password_that_prepares_to_nothing() {
    for pw in ["", "\u{ad}"] {
        for hash in [ScramHash::Sha1, ScramHash::Sha256] {
            assert!(
                matches!(
                    ScramKeys::generate(hash, pw, 4096),
                    Err(SaslError::InvalidCredentials(_))
                ),
                "{hash:?} {pw:?}"
            );
            assert!(matches!(
                ScramKeys::derive(hash, pw, b"salt", 4096),
                Err(SaslError::InvalidCredentials(_))
            ));
        }
        for mech in [
            Mechanism::ScramSha1,
            Mechanism::ScramSha256,
            Mechanism::Plain,
            Mechanism::Login,
        ] {
            let creds = Credentials::with_password("user", pw);
            assert!(
                matches!(
                    client(mech, &creds),
                    Err(SaslError::InvalidCredentials(_) | SaslError::MissingCredentials(_))
                ),
                "{mech} {pw:?}"
            );
        }
    }
}
