//! Property tests: the client of every mechanism against its server, in memory.
//! Random users and passwords authenticate; wrong credentials fail with
//! `AuthenticationFailed`; tampered messages never panic and never log in as
//! someone else.

use proptest::prelude::*;
use sasl::{
    ClientOptions, CredentialStore, Credentials, Identity, Limits, Mechanism, SaslError, ScramHash,
    ScramKeys, Secret, ServerOptions, ServerStep, client_with, saslprep::saslprep, server,
};

/// The application side: keeps SCRAM keys (PLAIN and LOGIN check passwords
/// through them, the default), the CRAM-MD5 secret, a token.
#[derive(Debug)]
struct Store {
    user: String,
    keys: [ScramKeys; 2],
    cram_secret: Vec<u8>,
    token: String,
    external: Option<String>,
    anonymous: bool,
}

impl Store {
    fn new(user: &str, password: &str, token: &str, salt: &[u8]) -> Self {
        let user = saslprep(user).unwrap().into_owned();
        Store {
            keys: [ScramHash::Sha1, ScramHash::Sha256]
                .map(|h| ScramKeys::derive(h, password, salt, 16).unwrap()),
            cram_secret: password.as_bytes().to_vec(),
            token: token.to_owned(),
            external: Some(user.clone()),
            anonymous: true,
            user,
        }
    }
}

impl CredentialStore for Store {
    fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        (authcid == self.user)
            .then(|| self.keys.iter().find(|k| k.hash == hash).cloned())
            .flatten()
    }
    fn cram_md5_secret(&self, authcid: &str) -> Option<Secret<Vec<u8>>> {
        (authcid == self.user).then(|| Secret::new(self.cram_secret.clone()))
    }
    fn verify_bearer_token(&self, user: Option<&str>, token: &Secret<String>) -> Option<String> {
        (token.expose() == &self.token && user.is_none_or(|u| u == self.user)).then(|| self.user.clone())
    }
    fn external_identity(&self) -> Option<String> {
        self.external.clone()
    }
    fn allow_anonymous(&self, _trace: &str) -> bool {
        self.anonymous
    }
}

/// Where to flip bits: the `message`-th message of the exchange (both
/// directions counted), at `pos` (modulo its length), with `xor` (non-zero).
#[derive(Debug, Clone, Copy)]
struct Tamper {
    message: usize,
    pos: usize,
    xor: u8,
}

fn tamper(msg: &mut Vec<u8>, n: &mut usize, t: Option<Tamper>) {
    if let Some(t) = t
        && t.message == *n
    {
        if msg.is_empty() {
            msg.push(t.xor);
        } else {
            let i = t.pos % msg.len();
            msg[i] ^= t.xor;
        }
    }
    *n += 1;
}

/// Runs one exchange. `success_data`: SCRAM server-final rides on the success.
fn exchange(
    mech: Mechanism,
    creds: &Credentials,
    store: &Store,
    success_data: bool,
    t: Option<Tamper>,
) -> Result<Identity, SaslError> {
    let copts = ClientOptions {
        limits: Limits {
            scram_min_iterations: 1,
            ..Limits::default()
        },
        ..ClientOptions::default()
    };
    let sopts = ServerOptions {
        success_data,
        ..ServerOptions::default()
    };
    let mut c = client_with(mech, creds, &copts)?;
    let mut s = server(mech, &sopts)?;
    let mut n = 0;
    let ir = c.initial_response()?.map(|m| m.expose().clone());
    let mut step = match ir {
        Some(mut ir) => {
            tamper(&mut ir, &mut n, t);
            s.start(Some(&ir), store)?
        }
        None => s.start(None, store)?,
    };
    for _ in 0..8 {
        match step {
            ServerStep::Challenge(mut ch) => {
                tamper(&mut ch, &mut n, t);
                let mut answer = c.respond(&ch)?.expose().clone();
                tamper(&mut answer, &mut n, t);
                step = s.step(&answer, store)?;
            }
            ServerStep::Success {
                identity,
                additional_data,
            } => {
                let mut data = additional_data;
                if let Some(d) = data.as_mut() {
                    tamper(d, &mut n, t);
                }
                c.finish(data.as_deref())?;
                return Ok(identity);
            }
        }
    }
    panic!("{mech}: exchange did not end");
}

fn user() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9@._=, \u{e9}\u{65e5}-]{1,16}"
}

fn password() -> impl Strategy<Value = String> {
    "[ -~\u{e9}\u{65e5}\u{a0}]{1,24}"
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~+/-]{1,40}=*"
}

fn tampering() -> impl Strategy<Value = Tamper> {
    (0usize..5, any::<usize>(), 1u8..=255).prop_map(|(message, pos, xor)| Tamper { message, pos, xor })
}

fn check(
    mech: Mechanism,
    user: &str,
    password: &str,
    token: &str,
    salt: &[u8],
    success_data: bool,
    t: Tamper,
) -> Result<(), TestCaseError> {
    let mut store = Store::new(user, password, token, salt);
    let good = Credentials {
        username: user.to_owned(),
        password: Some(Secret::new(password.to_owned())),
        authzid: None,
        oauth_token: Some(Secret::new(token.to_owned())),
    };
    let expected = match mech {
        Mechanism::Anonymous => "anonymous".to_owned(),
        _ => store.user.clone(),
    };

    // Right credentials authenticate.
    let id = exchange(mech, &good, &store, success_data, None);
    prop_assert_eq!(
        id.as_ref().map(|i| i.authcid.as_str()),
        Ok(expected.as_str()),
        "{}",
        mech
    );

    // Wrong credentials fail as authentication failures.
    let bad = Credentials {
        password: Some(Secret::new(format!("{password}x"))),
        oauth_token: Some(Secret::new(format!("{token}x"))),
        ..good.clone()
    };
    store.external = None;
    store.anonymous = false;
    prop_assert_eq!(
        exchange(mech, &bad, &store, success_data, None),
        Err(SaslError::AuthenticationFailed),
        "{}",
        mech
    );
    store.external = Some(store.user.clone());
    store.anonymous = true;

    // Tampered messages: no panic; a success is never someone else's.
    if let Ok(id) = exchange(mech, &good, &store, success_data, Some(t)) {
        prop_assert_eq!(id.authcid, expected);
        prop_assert_eq!(id.authzid, None);
    }
    Ok(())
}

macro_rules! mechanism_props {
    ($($name:ident => $mech:expr,)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]
            $(
                #[test]
                fn $name(
                    user in user(),
                    password in password(),
                    token in token(),
                    salt in prop::collection::vec(any::<u8>(), 1..24),
                    success_data in any::<bool>(),
                    t in tampering(),
                ) {
                    check($mech, &user, &password, &token, &salt, success_data, t)?;
                }
            )*
        }
    };
}

mechanism_props! {
    plain => Mechanism::Plain,
    login => Mechanism::Login,
    cram_md5 => Mechanism::CramMd5,
    scram_sha1 => Mechanism::ScramSha1,
    scram_sha256 => Mechanism::ScramSha256,
    xoauth2 => Mechanism::XOAuth2,
    oauthbearer => Mechanism::OAuthBearer,
    external => Mechanism::External,
    anonymous => Mechanism::Anonymous,
}
