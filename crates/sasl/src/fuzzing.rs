//! Checks run by the fuzz targets (`fuzz/fuzz_targets/sasl_*.rs`) and, on
//! stable Rust, by the replay test over every stored input.
//!
//! Input layout shared by both checks: byte 0 picks the mechanism (modulo the
//! number of mechanisms, in [`Mechanism::ALL`] order), byte 1 holds flags, and
//! the rest is a sequence of messages, each a little-endian `u16` length then
//! that many octets (a short last message takes what is left).

use crate::{
    ClientMechanism, ClientOptions, CredentialStore, Credentials, Limits, Mechanism, SaslError, ScramHash,
    ScramKeys, Secret, ServerOptions, ServerStep, client_with, server,
};
use std::sync::OnceLock;

/// The user the fuzz store knows, with password [`PASSWORD`] and token [`TOKEN`].
pub const USER: &str = "user";
/// The password of [`USER`].
pub const PASSWORD: &str = "pencil";
/// The bearer token of [`USER`].
pub const TOKEN: &str = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
/// The identity EXTERNAL authenticates as.
pub const EXTERNAL_ID: &str = "CN=fuzz";
/// The fixed server nonce and CRAM-MD5 challenge (fuzzing must be deterministic).
pub const SERVER_NONCE: &str = "3rfcNHYJY1ZVvWVs7j";
/// The fixed CRAM-MD5 challenge.
pub const CRAM_CHALLENGE: &str = "<1896.697170952@postoffice.reston.mci.net>";
/// The fixed SCRAM client nonce.
pub const CLIENT_NONCE: &str = "fyko+d2lbbFgONRv9qkxdawL";

/// Flag bits of byte 1 for [`server_check`].
pub mod server_flags {
    /// The first message is the initial response (else `start(None)`).
    pub const INITIAL_RESPONSE: u8 = 1;
    /// SCRAM server-final rides on the success.
    pub const SUCCESS_DATA: u8 = 2;
    /// The server claims to offer SCRAM -PLUS.
    pub const PLUS_OFFERED: u8 = 4;
    /// A 64-octet message limit instead of 12288.
    pub const SMALL_LIMIT: u8 = 8;
}

/// The credential store the server check runs against.
#[derive(Debug)]
pub struct FuzzStore;

fn keys(hash: ScramHash) -> Option<ScramKeys> {
    static KEYS: OnceLock<Option<[ScramKeys; 2]>> = OnceLock::new();
    let all = KEYS.get_or_init(|| {
        let k = |h| ScramKeys::derive(h, PASSWORD, b"fuzz-salt", 16).ok();
        Some([k(ScramHash::Sha1)?, k(ScramHash::Sha256)?])
    });
    all.as_ref()?.iter().find(|k| k.hash == hash).cloned()
}

impl CredentialStore for FuzzStore {
    fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        if authcid == USER { keys(hash) } else { None }
    }
    fn cram_md5_secret(&self, authcid: &str) -> Option<Secret<Vec<u8>>> {
        (authcid == USER).then(|| Secret::new(PASSWORD.as_bytes().to_vec()))
    }
    fn verify_bearer_token(&self, user: Option<&str>, token: &Secret<String>) -> Option<String> {
        // The user arrives SASLprep'ed (RFC 4422 3.4.1): never a control character.
        assert!(
            user.is_none_or(|u| !u.is_empty() && !u.chars().any(char::is_control)),
            "unprepared user {user:?} reached the store"
        );
        (token.expose() == TOKEN && user.is_none_or(|u| u == USER)).then(|| USER.to_owned())
    }
    fn external_identity(&self) -> Option<String> {
        Some(EXTERNAL_ID.to_owned())
    }
    fn allow_anonymous(&self, _trace: &str) -> bool {
        true
    }
    fn authorize(&self, authcid: &str, authzid: &str) -> bool {
        authcid == authzid || authzid == "shared"
    }
}

/// Splits the message part of an input.
fn messages(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let [lo, hi, rest @ ..] = data {
        let n = usize::from(u16::from_le_bytes([*lo, *hi])).min(rest.len());
        let (msg, tail) = rest.split_at(n);
        out.push(msg);
        data = tail;
    }
    out
}

/// Builds an input in the layout above (for seeds and tests).
#[must_use]
pub fn encode_input(mechanism: Mechanism, flags: u8, messages: &[&[u8]]) -> Vec<u8> {
    let index = Mechanism::ALL.iter().position(|m| *m == mechanism).unwrap_or(0);
    let mut out = vec![u8::try_from(index).unwrap_or(0), flags];
    for m in messages {
        let n = u16::try_from(m.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&m[..usize::from(n)]);
    }
    out
}

fn mechanism(byte: u8) -> Mechanism {
    Mechanism::ALL[usize::from(byte) % Mechanism::ALL.len()]
}

/// Feeds arbitrary client messages to the server side of a mechanism.
///
/// Invariants: no panic; every error is one of the documented kinds and
/// `TooLong` only for an over-long message; after a success or an error every
/// further call is `WrongState`; a success names a known identity, with an
/// authzid only when the store approved it. Returns whether the client
/// authenticated at some point.
pub fn server_check(data: &[u8]) -> bool {
    let (mech, flags, rest) = match data {
        [m, f, rest @ ..] => (mechanism(*m), *f, rest),
        _ => return false,
    };
    let mut authenticated = false;
    let limit = if flags & server_flags::SMALL_LIMIT != 0 {
        64
    } else {
        Limits::RFC4954_MIN
    };
    let options = ServerOptions {
        limits: Limits {
            max_message_len: limit,
            ..Limits::default()
        },
        cram_md5_challenge: Some(CRAM_CHALLENGE.to_owned()),
        scram_nonce: Some(SERVER_NONCE.to_owned()),
        success_data: flags & server_flags::SUCCESS_DATA != 0,
        scram_plus_offered: flags & server_flags::PLUS_OFFERED != 0,
        ..ServerOptions::default()
    };
    let Ok(mut s) = server(mech, &options) else {
        panic!("server({mech}) failed with fixed options")
    };
    let mut msgs = messages(rest).into_iter();
    let first = if flags & server_flags::INITIAL_RESPONSE != 0 {
        msgs.next()
    } else {
        None
    };
    let mut result = s.start(first, &FuzzStore);
    let mut last_len = first.map_or(0, <[u8]>::len);
    loop {
        match &result {
            Ok(ServerStep::Challenge(ch)) => assert!(ch.len() <= 1024, "{mech}: huge challenge"),
            Ok(ServerStep::Success { identity, .. }) => {
                authenticated = true;
                assert!(
                    [USER, EXTERNAL_ID, "anonymous"].contains(&identity.authcid.as_str()),
                    "{mech}: unknown identity {identity:?}"
                );
                assert!(
                    identity.authzid.as_deref().is_none_or(|z| z == "shared"),
                    "{mech}: {identity:?}"
                );
            }
            Err(SaslError::TooLong { len, limit: l }) => assert!(*len > *l && *len == last_len, "{mech}"),
            Err(
                SaslError::Malformed(_)
                | SaslError::AuthenticationFailed
                | SaslError::Unsupported(_)
                | SaslError::WrongState(_),
            ) => {}
            Err(e) => panic!("{mech}: unexpected error kind {e:?}"),
        }
        let done = !matches!(result, Ok(ServerStep::Challenge(_)));
        let Some(msg) = msgs.next() else { break };
        last_len = msg.len();
        let next = s.step(msg, &FuzzStore);
        if done {
            assert!(
                matches!(next, Err(SaslError::WrongState(_))),
                "{mech}: step after the end: {next:?}"
            );
        }
        result = next;
    }
    authenticated
}

/// Flag bits of byte 1 for [`client_check`].
pub mod client_flags {
    /// Call `initial_response` first (else start with `respond`).
    pub const INITIAL_RESPONSE: u8 = 1;
    /// The last message goes to `finish` instead of `respond`.
    pub const FINISH: u8 = 2;
    /// Credentials carry an authzid.
    pub const AUTHZID: u8 = 4;
}

/// Feeds arbitrary server challenges to the client side of a mechanism.
///
/// Invariants: no panic; after an error every further call is an error; the
/// answers stay small.
pub fn client_check(data: &[u8]) {
    let (mech, flags, rest) = match data {
        [m, f, rest @ ..] => (mechanism(*m), *f, rest),
        _ => return,
    };
    let creds = Credentials {
        username: USER.to_owned(),
        password: Some(Secret::new(PASSWORD.to_owned())),
        authzid: (flags & client_flags::AUTHZID != 0).then(|| "shared".to_owned()),
        oauth_token: Some(Secret::new(TOKEN.to_owned())),
    };
    let options = ClientOptions {
        // Bound the PBKDF2 cost a fuzzed server can ask for.
        limits: Limits {
            scram_min_iterations: 1,
            scram_max_iterations: 4096,
            ..Limits::default()
        },
        scram_nonce: Some(CLIENT_NONCE.to_owned()),
        ..ClientOptions::default()
    };
    let built = client_with(mech, &creds, &options);
    if creds.authzid.is_some() && !mech.carries_authzid() {
        // An authzid the mechanism cannot carry is refused, never dropped.
        assert!(
            matches!(built, Err(SaslError::InvalidCredentials(_))),
            "client({mech}) accepted an authzid it cannot send"
        );
        return;
    }
    let Ok(mut c) = built else {
        panic!("client({mech}) failed with fixed credentials")
    };
    let mut failed = false;
    if flags & client_flags::INITIAL_RESPONSE != 0 {
        failed = c.initial_response().is_err();
    }
    let msgs = messages(rest);
    let finish_last = flags & client_flags::FINISH != 0;
    for (i, msg) in msgs.iter().enumerate() {
        let r: Result<usize, SaslError> = if finish_last && i + 1 == msgs.len() {
            c.finish(Some(msg)).map(|()| 0)
        } else {
            c.respond(msg).map(|a| a.expose().len())
        };
        check_client_result(&*c, failed, &r);
        match r {
            Ok(n) => assert!(n <= 1024, "{mech}: huge answer"),
            Err(_) => failed = true,
        }
    }
}

fn check_client_result(c: &dyn ClientMechanism, failed_before: bool, r: &Result<usize, SaslError>) {
    if failed_before {
        assert!(r.is_err(), "{}: a failed client answered again", c.mechanism());
    }
}

/// Inputs that drive every server mechanism through a complete, successful
/// exchange (and a few failing ones): the seeds of the `sasl_server` corpus.
#[must_use]
pub fn server_seeds() -> Vec<Vec<u8>> {
    use server_flags::{INITIAL_RESPONSE as IR, SUCCESS_DATA};
    let mut out = Vec::new();
    for mech in Mechanism::ALL {
        for flags in [IR, IR | SUCCESS_DATA, 0] {
            if let Some(msgs) = run_client(mech, flags) {
                let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
                out.push(encode_input(mech, flags, &refs));
            }
        }
    }
    out.push(encode_input(Mechanism::Plain, IR, &[b"\0user\0wrong"]));
    out.push(encode_input(
        Mechanism::ScramSha256,
        IR,
        &[b"p=tls-unique,,n=user,r=x"],
    ));
    out.push(encode_input(
        Mechanism::OAuthBearer,
        IR,
        &[b"n,,\x01auth=\x01\x01", b"\x01"],
    ));
    out
}

/// The client's messages of a successful exchange against the fuzz server.
fn run_client(mech: Mechanism, flags: u8) -> Option<Vec<Vec<u8>>> {
    let creds = Credentials {
        username: USER.to_owned(),
        password: Some(Secret::new(PASSWORD.to_owned())),
        authzid: None,
        oauth_token: Some(Secret::new(TOKEN.to_owned())),
    };
    let copts = ClientOptions {
        limits: Limits {
            scram_min_iterations: 1,
            ..Limits::default()
        },
        scram_nonce: Some(CLIENT_NONCE.to_owned()),
        ..ClientOptions::default()
    };
    let sopts = ServerOptions {
        cram_md5_challenge: Some(CRAM_CHALLENGE.to_owned()),
        scram_nonce: Some(SERVER_NONCE.to_owned()),
        success_data: flags & server_flags::SUCCESS_DATA != 0,
        ..ServerOptions::default()
    };
    let mut c = client_with(mech, &creds, &copts).ok()?;
    let mut s = server(mech, &sopts).ok()?;
    let mut sent = Vec::new();
    let mut step = if flags & server_flags::INITIAL_RESPONSE != 0 {
        let ir = c.initial_response().ok()?;
        let ir = ir.as_ref().map(|m| m.expose().clone());
        if let Some(m) = &ir {
            sent.push(m.clone());
        }
        s.start(ir.as_deref(), &FuzzStore).ok()?
    } else {
        s.start(None, &FuzzStore).ok()?
    };
    if flags & server_flags::INITIAL_RESPONSE != 0 && !mech.client_first() {
        return None; // the layout would read the first message as an initial response
    }
    for _ in 0..8 {
        match step {
            ServerStep::Challenge(ch) => {
                let answer = c.respond(&ch).ok()?.expose().clone();
                step = s.step(&answer, &FuzzStore).ok()?;
                sent.push(answer);
            }
            ServerStep::Success { .. } => return Some(sent),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_authenticate_and_pass_the_check() {
        let seeds = server_seeds();
        assert!(seeds.len() >= 2 * Mechanism::ALL.len());
        let ok = seeds.iter().filter(|s| server_check(s)).count();
        // Every mechanism with and without initial response, SCRAM also with
        // success data; the last three seeds fail on purpose.
        assert_eq!(ok, seeds.len() - 3);
        for seed in &seeds {
            client_check(seed);
        }
    }

    #[test]
    fn messages_layout() {
        assert_eq!(messages(&[2, 0, b'a', b'b', 5, 0, b'c']), [&b"ab"[..], b"c"]);
        assert_eq!(messages(&[1]), Vec::<&[u8]>::new());
        let input = encode_input(Mechanism::Login, 0, &[b"user", b""]);
        assert_eq!(input, [6, 0, 4, 0, b'u', b's', b'e', b'r', 0, 0]);
    }
}
