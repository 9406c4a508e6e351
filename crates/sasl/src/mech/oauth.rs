//! Bearer-token mechanisms: XOAUTH2 (Google, Microsoft; as deployed) and
//! OAUTHBEARER (RFC 7628).
//!
//! Both carry `key=value` pairs separated by 0x01. On a bad token the server
//! sends an error JSON as a challenge; the client answers it (XOAUTH2 with an
//! empty message, OAUTHBEARER with a single 0x01, RFC 7628 section 3.2.3) and
//! the server then fails the exchange.

use super::{ClientSteps, no_success_data, utf8};
use crate::client::{ClientOptions, Credentials, prepared_name};
use crate::mech::scram::{escape_saslname, unescape_saslname};
use crate::server::{CredentialStore, ServerOptions, ServerStep, ServerSteps, authorized, prepare_authzid};
use crate::{Mechanism, SaslError, Secret};

const KVSEP: u8 = 0x01;

/// RFC 7628 section 3.1: `value = *(VCHAR / SP / HTAB / CR / LF)`, plus the
/// octets of non-ASCII UTF-8 (the message is checked to be UTF-8 as a whole):
/// XOAUTH2 carries the user's address in `user=`, and internationalized
/// addresses (RFC 6531) are not ASCII.
fn is_value_byte(b: u8) -> bool {
    matches!(b, 0x21..=0x7E | b' ' | b'\t' | b'\r' | b'\n' | 0x80..=0xFF)
}

/// Parses `*(key "=" value kvsep) kvsep`, the pairs and the final separator.
fn kvpairs(s: &str) -> Result<Vec<(&str, &str)>, SaslError> {
    let body = s
        .strip_suffix('\x01')
        .ok_or(SaslError::Malformed("OAuth message does not end with 0x01 0x01"))?;
    let mut out = Vec::new();
    for pair in body.split_terminator('\x01') {
        let (k, v) = pair
            .split_once('=')
            .ok_or(SaslError::Malformed("OAuth pair without '='"))?;
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphabetic()) || !v.bytes().all(is_value_byte) {
            return Err(SaslError::Malformed("bad OAuth key or value"));
        }
        out.push((k, v));
    }
    if !body.is_empty() && !body.ends_with('\x01') {
        return Err(SaslError::Malformed("OAuth pair not terminated by 0x01"));
    }
    Ok(out)
}

/// The token of an `auth` value `Bearer <token>` (scheme case-insensitive, RFC 6750 section 2.1).
/// An empty value is how a client asks for the error JSON (to learn the scope,
/// RFC 7628 section 4.3): `Ok(None)`.
fn bearer_token(auth: &str) -> Result<Option<Secret<String>>, SaslError> {
    if auth.is_empty() {
        return Ok(None);
    }
    let (scheme, token) = auth
        .split_once(' ')
        .ok_or(SaslError::Malformed("OAuth auth value is not `Bearer token`"))?;
    let token = token.trim_start_matches(' ');
    if !scheme.eq_ignore_ascii_case("Bearer") || token.is_empty() || token.contains([' ', '\t', '\r', '\n']) {
        return Err(SaslError::Malformed("OAuth auth value is not `Bearer token`"));
    }
    Ok(Some(Secret::new(token.to_owned())))
}

fn check_token(token: &Secret<String>) -> Result<(), SaslError> {
    let t = token.expose();
    if t.is_empty() || !t.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
        return Err(SaslError::InvalidCredentials("OAuth token must be visible ASCII"));
    }
    Ok(())
}

fn check_value(v: &str, what: &'static str) -> Result<(), SaslError> {
    if v.bytes().all(is_value_byte) {
        Ok(())
    } else {
        Err(SaslError::InvalidCredentials(what))
    }
}

/// Client state shared by both mechanisms.
#[derive(Debug)]
pub(crate) struct BearerClient {
    mechanism: Mechanism,
    message: Option<Secret<Vec<u8>>>,
    error: Option<String>,
}

impl BearerClient {
    fn respond_to_error(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        if self.error.is_some() {
            return Err(SaslError::WrongState("OAuth has a single error challenge"));
        }
        self.error = Some(String::from_utf8_lossy(challenge).into_owned());
        Ok(Secret::new(if self.mechanism == Mechanism::OAuthBearer {
            vec![KVSEP]
        } else {
            Vec::new()
        }))
    }
}

impl ClientSteps for BearerClient {
    fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(self.message.take())
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        self.respond_to_error(challenge)
    }

    /// RFC 7628 section 3: after the error result the server "fails the
    /// authentication"; a success reported after it is refused.
    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        if let Some(e) = &self.error {
            return Err(SaslError::ServerError(e.clone()));
        }
        no_success_data(success_data)
    }

    fn server_error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

/// XOAUTH2 client: `user=<user> 0x01 auth=Bearer <token> 0x01 0x01`.
pub(crate) struct XOAuth2Client;

impl XOAuth2Client {
    pub(crate) fn build(
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        let token = creds.token()?;
        check_token(token)?;
        if creds.username.is_empty() {
            return Err(SaslError::MissingCredentials("XOAUTH2 needs a user name"));
        }
        // The server prepares `user=` and fails a name that does not
        // prepare (RFC 4013 section 2, RFC 4422 section 3.4.1).
        prepared_name(&creds.username, "XOAUTH2 user name fails SASLprep")?;
        let msg = format!(
            "user={}\x01auth=Bearer {}\x01\x01",
            creds.username,
            token.expose()
        );
        let inner = BearerClient {
            mechanism: Mechanism::XOAuth2,
            message: Some(Secret::new(msg.into_bytes())),
            error: None,
        };
        Ok(super::ClientGuard::boxed(inner, options.limits))
    }
}

/// OAUTHBEARER client: `n,a=<user>, 0x01 [host=..0x01] [port=..0x01] auth=Bearer <token> 0x01 0x01`.
pub(crate) struct OAuthBearerClient;

impl OAuthBearerClient {
    pub(crate) fn build(
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        let token = creds.token()?;
        check_token(token)?;
        let user = creds.authzid().unwrap_or(&creds.username);
        // RFC 7628 3.1 `"a=" saslname`: the server prepares it (RFC 4422
        // section 3.4.1) and fails one that does not prepare or prepares to
        // nothing, so more than control characters is refused here.
        if !user.is_empty() {
            prepared_name(user, "OAUTHBEARER user name fails SASLprep")?;
        }
        let mut msg = String::from("n,");
        if !user.is_empty() {
            msg.push_str("a=");
            msg.push_str(&escape_saslname(user));
        }
        msg.push_str(",\x01");
        if let Some(host) = &options.oauth_host {
            check_value(host, "OAUTHBEARER host holds a control character")?;
            msg.push_str(&format!("host={host}\x01"));
        }
        if let Some(port) = options.oauth_port {
            // RFC 7628 section 3.1: "a decimal positive integer string".
            if port == 0 {
                return Err(SaslError::InvalidCredentials("OAUTHBEARER port must be positive"));
            }
            msg.push_str(&format!("port={port}\x01"));
        }
        msg.push_str(&format!("auth=Bearer {}\x01\x01", token.expose()));
        let inner = BearerClient {
            mechanism: Mechanism::OAuthBearer,
            message: Some(Secret::new(msg.into_bytes())),
            error: None,
        };
        Ok(super::ClientGuard::boxed(inner, options.limits))
    }
}

#[derive(Debug)]
enum ServerState {
    Start,
    /// The error JSON went out; the client's acknowledgement ends the exchange.
    SentError,
}

#[derive(Debug)]
pub(crate) struct XOAuth2Server {
    error: std::borrow::Cow<'static, str>,
    state: ServerState,
}

impl XOAuth2Server {
    pub(crate) fn new(options: &ServerOptions) -> Self {
        XOAuth2Server {
            error: options.xoauth2_error.clone(),
            state: ServerState::Start,
        }
    }

    fn message(&mut self, msg: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let msg = utf8(msg, "XOAUTH2 message is not UTF-8")?;
        let pairs = kvpairs(msg)?;
        let find = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let user = find("user")
            .filter(|u| !u.is_empty())
            .ok_or(SaslError::Malformed("XOAUTH2 lacks user="))?;
        // RFC 4422 3.4.1: the application sees the prepared name, or none.
        let user = prepare_authzid(user)?;
        let auth = find("auth").ok_or(SaslError::Malformed("XOAUTH2 lacks auth="))?;
        match bearer_token(auth)?.and_then(|token| store.verify_bearer_token(Some(&user), &token)) {
            Some(authcid) => {
                let identity = authorized(store, authcid, Some(&user))?;
                Ok(ServerStep::Success {
                    identity,
                    additional_data: None,
                })
            }
            None => {
                self.state = ServerState::SentError;
                Ok(ServerStep::Challenge(self.error.as_bytes().to_vec()))
            }
        }
    }
}

impl ServerSteps for XOAuth2Server {
    fn mechanism(&self) -> Mechanism {
        Mechanism::XOAuth2
    }

    fn start(&mut self, ir: Option<&[u8]>, store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match ir {
            None => Ok(ServerStep::Challenge(Vec::new())),
            Some(msg) => self.message(msg, store),
        }
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match self.state {
            ServerState::Start => self.message(response, store),
            // Whatever the client answers to the error JSON, the exchange has failed.
            ServerState::SentError => Err(SaslError::AuthenticationFailed),
        }
    }
}

#[derive(Debug)]
pub(crate) struct OAuthBearerServer {
    error: std::borrow::Cow<'static, str>,
    host: Option<String>,
    port: Option<u16>,
    state: ServerState,
}

impl OAuthBearerServer {
    pub(crate) fn new(options: &ServerOptions) -> Self {
        OAuthBearerServer {
            error: options.oauthbearer_error.clone(),
            host: options.oauth_host.clone(),
            port: options.oauth_port,
            state: ServerState::Start,
        }
    }

    /// RFC 7628 section 3.2: the client's `host` and `port`, where sent, must
    /// match what the server knows itself as (if it was told).
    fn target_matches(&self, pairs: &[(&str, &str)]) -> bool {
        pairs.iter().all(|(k, v)| match (*k, &self.host, self.port) {
            ("host", Some(host), _) => v.eq_ignore_ascii_case(host),
            ("port", _, Some(port)) => *v == port.to_string(),
            _ => true,
        })
    }

    fn message(&mut self, msg: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let msg = utf8(msg, "OAUTHBEARER message is not UTF-8")?;
        // gs2-header (RFC 5801): cb-flag "," [ "a=" saslname ] ","
        let (flag, rest) = msg
            .split_once(',')
            .ok_or(SaslError::Malformed("OAUTHBEARER lacks a GS2 header"))?;
        if flag != "n" && flag != "y" {
            return Err(SaslError::Malformed(
                "OAUTHBEARER does not use channel binding (RFC 7628 section 3.1)",
            ));
        }
        let (authzid, rest) = rest
            .split_once(',')
            .ok_or(SaslError::Malformed("OAUTHBEARER lacks a GS2 header"))?;
        let authzid = match authzid {
            "" => None,
            a => Some(unescape_saslname(
                a.strip_prefix("a=")
                    .ok_or(SaslError::Malformed("bad OAUTHBEARER authzid"))?,
            )?),
        };
        // RFC 7628 3.1 `"a=" saslname`, RFC 4422 3.4.1: the application sees
        // the prepared authzid, or none.
        let authzid = authzid.as_deref().map(prepare_authzid).transpose()?;
        let rest = rest.strip_prefix('\x01').ok_or(SaslError::Malformed(
            "OAUTHBEARER lacks 0x01 after the GS2 header",
        ))?;
        let pairs = kvpairs(rest)?;
        let auth = pairs
            .iter()
            .find(|(k, _)| *k == "auth")
            .ok_or(SaslError::Malformed("OAUTHBEARER lacks auth="))?;
        let token = bearer_token(auth.1)?.filter(|_| self.target_matches(&pairs));
        match token.and_then(|token| store.verify_bearer_token(authzid.as_deref(), &token)) {
            Some(authcid) => {
                let identity = authorized(store, authcid, authzid.as_deref())?;
                Ok(ServerStep::Success {
                    identity,
                    additional_data: None,
                })
            }
            None => {
                self.state = ServerState::SentError;
                Ok(ServerStep::Challenge(self.error.as_bytes().to_vec()))
            }
        }
    }
}

impl ServerSteps for OAuthBearerServer {
    fn mechanism(&self) -> Mechanism {
        Mechanism::OAuthBearer
    }

    fn start(&mut self, ir: Option<&[u8]>, store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match ir {
            None => Ok(ServerStep::Challenge(Vec::new())),
            Some(msg) => self.message(msg, store),
        }
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match self.state {
            ServerState::Start => self.message(response, store),
            ServerState::SentError if response == [KVSEP] => Err(SaslError::AuthenticationFailed),
            ServerState::SentError => Err(SaslError::Malformed(
                "OAUTHBEARER error challenge must be answered with 0x01",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvpairs_parse() {
        assert_eq!(kvpairs("a=1\x01b=\x01\x01").unwrap(), [("a", "1"), ("b", "")]);
        assert_eq!(kvpairs("\x01").unwrap(), []);
        assert!(kvpairs("a=1\x01").is_err()); // one separator short
        assert!(kvpairs("a=1").is_err());
        assert!(kvpairs("=1\x01\x01").is_err());
        assert!(kvpairs("a1=1\x01\x01").is_err());
        assert!(kvpairs("a=\x02\x01\x01").is_err());
    }

    #[test]
    fn bearer_values() {
        assert_eq!(bearer_token("Bearer abc").unwrap().unwrap().expose(), "abc");
        assert_eq!(bearer_token("bearer  abc").unwrap().unwrap().expose(), "abc");
        assert!(bearer_token("").unwrap().is_none());
        assert!(bearer_token("Basic abc").is_err());
        assert!(bearer_token("Bearer ").is_err());
        assert!(bearer_token("Bearer a b").is_err());
    }
}
