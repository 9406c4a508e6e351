//! The server side: the application's credential lookup, the step-machine
//! trait, the authenticated identity and the constructor.

use std::borrow::Cow;

use crate::mech::scram::{ScramHash, ScramKeys};
use crate::mech::{anonymous, cram_md5, external, login, oauth, plain, scram};
use crate::{Limits, Mechanism, SaslError, Secret};

/// The application's credential lookup. Every method has a default that
/// refuses, so an application implements only what its mechanisms need:
///
/// | mechanism              | method(s) used                                               |
/// |------------------------|--------------------------------------------------------------|
/// | PLAIN, LOGIN           | [`verify_password`](Self::verify_password) (default: checks the stored SCRAM keys) |
/// | SCRAM-SHA-1/-256       | [`scram_keys`](Self::scram_keys)                              |
/// | CRAM-MD5               | [`cram_md5_secret`](Self::cram_md5_secret)                    |
/// | XOAUTH2, OAUTHBEARER   | [`verify_bearer_token`](Self::verify_bearer_token)            |
/// | EXTERNAL               | [`external_identity`](Self::external_identity)                |
/// | ANONYMOUS              | [`allow_anonymous`](Self::allow_anonymous)                    |
/// | any authzid            | [`authorize`](Self::authorize)                                |
///
/// Only CRAM-MD5 needs the password itself (RFC 2195 keys the HMAC with it). With
/// [`ScramKeys`] stored per user (see [`ScramKeys::derive`]), PLAIN, LOGIN and both
/// SCRAMs work without any plaintext password on the server.
///
/// The user names of PLAIN, LOGIN, CRAM-MD5 and SCRAM arrive after SASLprep
/// (RFC 4013, see [`saslprep`](crate::saslprep)); passwords too, and the
/// authzid of every mechanism (RFC 5034 4, RFC 4954 4: one that fails
/// SASLprep or prepares to nothing fails the authentication). They are
/// prepared as queries ([`Profile::Query`](crate::saslprep::Profile::Query)):
/// they may hold code points Unicode 3.2 left unassigned. What the store
/// keeps is a stored string (RFC 4616 section 4): prepare passwords and
/// names with [`Profile::Stored`](crate::saslprep::Profile::Stored) when
/// they are set (as [`ScramKeys::derive`] does), so none holds one.
pub trait CredentialStore {
    /// PLAIN and LOGIN: is `password` (already SASLprep'ed, never empty) right for
    /// `authcid` (never empty either, RFC 4616 section 2)? `Ok(false)` for a
    /// wrong password and for a user the store does not know alike (the
    /// exchange fails with [`SaslError::AuthenticationFailed`]); `Err` when
    /// the store cannot tell, [`SaslError::StoreFailure`] (the exchange fails
    /// with that error).
    ///
    /// The default derives the SCRAM keys from `password` with the salt and
    /// iteration count of the stored [`ScramKeys`] (SHA-256 first, then SHA-1)
    /// and compares in constant time, so a store that keeps only SCRAM keys
    /// also serves the plaintext mechanisms; stored keys it cannot use, or
    /// keys for another hash than the one asked for, are a
    /// [`SaslError::StoreFailure`] (see [`ScramKeys::verify_password`]). For a
    /// user it does not know it does the same derivation with
    /// [`unknown_user_iterations`](Self::unknown_user_iterations) before
    /// answering false, so the time taken does not tell an attacker which user
    /// names exist.
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, SaslError> {
        for hash in [ScramHash::Sha256, ScramHash::Sha1] {
            if let Some(keys) = self.scram_keys(hash, authcid) {
                keys.check_for(hash)?;
                return keys.verify_password(password);
            }
        }
        ScramKeys::verify_unknown_user(password, self.unknown_user_iterations());
        Ok(false)
    }

    /// The PBKDF2 iteration count shown for, and spent on, a user that does not
    /// exist: SCRAM's made-up `i=` (RFC 5802 section 5.1 asks the server not to
    /// reveal which users exist) and the dummy work of the default
    /// [`verify_password`](Self::verify_password). Return the count the stored
    /// keys use, so that unknown users look and take the same as real ones; the
    /// default is 4096, the minimum RFC 7677 section 4 recommends.
    fn unknown_user_iterations(&self) -> u32 {
        4096
    }

    /// SCRAM: the keys stored for `authcid` and this hash, or `None` for an
    /// unknown user (and for a user who has no keys for this hash: the
    /// exchange then runs on with made-up keys and fails at the proof, as
    /// RFC 5802 section 5.1 asks, so the client cannot tell).
    ///
    /// Keys no client can use (an empty salt, 0 iterations, a StoredKey or
    /// ServerKey not as long as the hash output) and keys for another hash
    /// ([`ScramKeys::hash`] not `hash`) fail the exchange with
    /// [`SaslError::StoreFailure`] before anything is sent: they are the
    /// store's mistake, not the client's. [`ScramKeys::derive`] makes only
    /// usable keys.
    fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        let _ = (hash, authcid);
        None
    }

    /// CRAM-MD5: the shared secret (the password's bytes) for `authcid`
    /// (after SASLprep, never empty: a name that fails preparation or
    /// prepares to nothing fails the authentication before this is asked).
    fn cram_md5_secret(&self, authcid: &str) -> Option<Secret<Vec<u8>>> {
        let _ = authcid;
        None
    }

    /// XOAUTH2 and OAUTHBEARER: checks a bearer token. `user` is the user the
    /// client named (XOAUTH2 `user=`, OAUTHBEARER `a=`), if any, after
    /// SASLprep as every authzid (so never empty and without control
    /// characters: a name that fails is refused before this is called).
    /// Returns the authenticated identity the token belongs to, or `None` if
    /// it is invalid.
    fn verify_bearer_token(&self, user: Option<&str>, token: &Secret<String>) -> Option<String> {
        let _ = (user, token);
        None
    }

    /// EXTERNAL: the identity established outside SASL (for instance the subject
    /// of the verified TLS client certificate), or `None` if there is none.
    fn external_identity(&self) -> Option<String> {
        None
    }

    /// ANONYMOUS: may an anonymous client log in? `trace` is its RFC 4505 trace
    /// string (possibly empty), for logging.
    fn allow_anonymous(&self, trace: &str) -> bool {
        let _ = trace;
        false
    }

    /// May `authcid` act as `authzid`? Called only when the client asked for an
    /// authorization identity that differs from its authentication identity.
    /// The default allows nothing (no proxy authorization).
    fn authorize(&self, authcid: &str, authzid: &str) -> bool {
        authcid == authzid
    }
}

/// Who the client proved to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The authentication identity: the user whose credentials were checked. For
    /// EXTERNAL the identity from [`CredentialStore::external_identity`]; for
    /// ANONYMOUS the string `anonymous`.
    pub authcid: String,
    /// The authorization identity the client asked to act as, if it differs from
    /// `authcid` (already approved by [`CredentialStore::authorize`]).
    pub authzid: Option<String>,
    /// ANONYMOUS only: the client's trace string (RFC 4505).
    pub trace: Option<String>,
}

impl Identity {
    /// The identity the session acts as: the authzid if given, else the authcid.
    #[must_use]
    pub fn effective(&self) -> &str {
        self.authzid.as_deref().unwrap_or(&self.authcid)
    }
}

/// What a server step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerStep {
    /// Send this challenge (the protocol base64-encodes it; may be empty) and
    /// feed the client's answer to [`ServerMechanism::step`].
    Challenge(Vec<u8>),
    /// The client is authenticated. `additional_data` is SCRAM's server-final
    /// message when [`ServerOptions::success_data`] is on; send it with the
    /// success reply (RFC 4422 section 5 "additional data with success").
    Success {
        /// Who logged in.
        identity: Identity,
        /// Data to send along with the success reply.
        additional_data: Option<Vec<u8>>,
    },
}

/// A server-side step machine. Failures are errors: [`SaslError::AuthenticationFailed`]
/// for wrong credentials, [`SaslError::Malformed`] / [`SaslError::TooLong`] for bad
/// client messages, [`SaslError::StoreFailure`] for stored credentials the
/// server cannot use. After a success or any error, further calls are
/// [`SaslError::WrongState`].
///
/// A client cancelling (`*` in SMTP/IMAP/POP3) is the protocol's business: just
/// drop the step machine.
pub trait ServerMechanism: Send + std::fmt::Debug {
    /// Which mechanism this is.
    fn mechanism(&self) -> Mechanism;

    /// Starts the exchange with the client's initial response: `None` if the
    /// client sent none, `Some(b"")` for an empty one (`=` in SMTP/IMAP). Called once, first.
    fn start(
        &mut self,
        initial_response: Option<&[u8]>,
        store: &dyn CredentialStore,
    ) -> Result<ServerStep, SaslError>;

    /// Processes the client's answer to the last challenge.
    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError>;
}

/// Options of [`server`].
///
/// The text fields are `Cow<'static, str>`, so the defaults (and any other
/// literal) cost no allocation: an application may build the options anew
/// for every `AUTH` command. Set them with `.into()` from a `&'static str` or
/// a `String`.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Size limits (the iteration limits of [`Limits`] apply to clients only).
    pub limits: Limits,
    /// The host name in CRAM-MD5 challenges (`<random.time@hostname>`, RFC 2195).
    pub hostname: Cow<'static, str>,
    /// A fixed CRAM-MD5 challenge, for known-answer tests only: challenges must
    /// be unique. `None` makes one from the OS RNG.
    pub cram_md5_challenge: Option<String>,
    /// The server's part of the SCRAM nonce, for known-answer tests only. `None`
    /// draws 18 random octets from the OS (base64-encoded).
    pub scram_nonce: Option<String>,
    /// Send SCRAM's server-final message as additional data with the success
    /// (IMAP, SMTP with RFC 4954 `235` text do not; RFC 4422 section 5 allows
    /// it where the protocol does). When false (the default), it goes out as a
    /// last challenge and the client's empty answer completes the exchange,
    /// which every protocol supports.
    pub success_data: bool,
    /// The server offers SCRAM `-PLUS` mechanisms. A client that sends the
    /// GS2 flag `y` ("I support channel binding but you don't") is then
    /// refused, as RFC 5802 section 6 requires to catch downgrades. This crate
    /// does not implement `-PLUS` itself, so leave it false unless the
    /// application does.
    pub scram_plus_offered: bool,
    /// The JSON sent in an OAUTHBEARER failure challenge (RFC 7628 section 3.2.2).
    pub oauthbearer_error: Cow<'static, str>,
    /// The host name this server is known as, for OAUTHBEARER. RFC 7628
    /// section 3.2: values the client sends (`host`, `port`) that the server
    /// knows from elsewhere "MUST be validated to match". When set, a client
    /// `host` that differs (ASCII case-insensitively) fails the exchange with
    /// the error JSON, before the token is checked; a client that sends no
    /// `host` is not refused. `None` (the default) skips the check.
    pub oauth_host: Option<String>,
    /// The port this server listens on, for OAUTHBEARER: as
    /// [`ServerOptions::oauth_host`], for the client's `port` value.
    pub oauth_port: Option<u16>,
    /// The JSON sent in an XOAUTH2 failure challenge, as Google sends it.
    pub xoauth2_error: Cow<'static, str>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            limits: Limits::default(),
            hostname: Cow::Borrowed("localhost"),
            cram_md5_challenge: None,
            scram_nonce: None,
            success_data: false,
            scram_plus_offered: false,
            oauthbearer_error: Cow::Borrowed(r#"{"status":"invalid_token"}"#),
            oauth_host: None,
            oauth_port: None,
            xoauth2_error: Cow::Borrowed(r#"{"status":"401","schemes":"bearer"}"#),
        }
    }
}

/// Builds the server side of `mechanism`.
#[inline]
pub fn server(mechanism: Mechanism, options: &ServerOptions) -> Result<Box<dyn ServerMechanism>, SaslError> {
    // PLAIN, the common case, without the call to the rest.
    if mechanism == Mechanism::Plain {
        return Ok(guard(plain::PlainServer, options.limits));
    }
    server_other(mechanism, options)
}

/// [`server`] for a mechanism other than PLAIN.
fn server_other(
    mechanism: Mechanism,
    options: &ServerOptions,
) -> Result<Box<dyn ServerMechanism>, SaslError> {
    let limits = options.limits;
    Ok(match mechanism {
        Mechanism::Plain => guard(plain::PlainServer, limits),
        Mechanism::Login => guard(login::LoginServer::default(), limits),
        Mechanism::CramMd5 => guard(cram_md5::CramMd5Server::new(options)?, limits),
        Mechanism::ScramSha1 => guard(scram::ScramServer::new(ScramHash::Sha1, options)?, limits),
        Mechanism::ScramSha256 => guard(scram::ScramServer::new(ScramHash::Sha256, options)?, limits),
        Mechanism::XOAuth2 => guard(oauth::XOAuth2Server::new(options), limits),
        Mechanism::OAuthBearer => guard(oauth::OAuthBearerServer::new(options), limits),
        Mechanism::External => guard(external::ExternalServer, limits),
        Mechanism::Anonymous => guard(anonymous::AnonymousServer, limits),
    })
}

fn guard<M: ServerSteps + 'static>(inner: M, limits: Limits) -> Box<dyn ServerMechanism> {
    Box::new(ServerGuard {
        inner,
        limits,
        state: GuardState::New,
    })
}

/// The per-mechanism part of a server; [`ServerGuard`] adds the length limit and
/// the call-order checks common to all.
pub(crate) trait ServerSteps: Send + std::fmt::Debug {
    fn mechanism(&self) -> Mechanism;
    fn start(&mut self, ir: Option<&[u8]>, store: &dyn CredentialStore) -> Result<ServerStep, SaslError>;
    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GuardState {
    New,
    Running,
    Done,
}

#[derive(Debug)]
struct ServerGuard<M> {
    inner: M,
    limits: Limits,
    state: GuardState,
}

impl<M: ServerSteps> ServerGuard<M> {
    fn track(&mut self, r: Result<ServerStep, SaslError>) -> Result<ServerStep, SaslError> {
        self.state = match r {
            Ok(ServerStep::Challenge(_)) => GuardState::Running,
            _ => GuardState::Done,
        };
        r
    }
}

impl<M: ServerSteps> ServerMechanism for ServerGuard<M> {
    fn mechanism(&self) -> Mechanism {
        self.inner.mechanism()
    }

    fn start(
        &mut self,
        initial_response: Option<&[u8]>,
        store: &dyn CredentialStore,
    ) -> Result<ServerStep, SaslError> {
        if self.state != GuardState::New {
            return Err(SaslError::WrongState("start called twice"));
        }
        if let Some(ir) = initial_response
            && let Err(e) = self.limits.check_len(ir)
        {
            self.state = GuardState::Done;
            return Err(e);
        }
        let r = self.inner.start(initial_response, store);
        self.track(r)
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match self.state {
            GuardState::New => return Err(SaslError::WrongState("step called before start")),
            GuardState::Done => return Err(SaslError::WrongState("the exchange is over")),
            GuardState::Running => {}
        }
        if let Err(e) = self.limits.check_len(response) {
            self.state = GuardState::Done;
            return Err(e);
        }
        let r = self.inner.step(response, store);
        self.track(r)
    }
}

/// Prepares a non-empty authorization identity (RFC 4422 section 3.4.1: a
/// string prepared by the protocol's profile). RFC 5034 4, RFC 4954 4: it
/// is prepared with SASLprep for matching, and "If preparation of the
/// authorization identity fails or results in an empty string (unless it
/// was transmitted as the empty string), the server MUST fail the
/// authentication." So no control character (RFC 4013 section 2.3) is left
/// in what this returns.
pub(crate) fn prepare_authzid(authzid: &str) -> Result<Cow<'_, str>, SaslError> {
    crate::saslprep::prepare_name(authzid).ok_or(SaslError::AuthenticationFailed)
}

/// Checks an optional authzid against the authenticated `authcid` and builds the identity.
/// The authzid is borrowed and copied only when it names someone other than
/// `authcid`.
#[inline]
pub(crate) fn authorized(
    store: &dyn CredentialStore,
    authcid: String,
    authzid: Option<&str>,
) -> Result<Identity, SaslError> {
    let authzid = match authzid.filter(|z| !z.is_empty()) {
        Some(z) => Some(prepare_authzid(z)?),
        None => None,
    };
    let authzid = authzid.filter(|z| **z != *authcid);
    if let Some(z) = &authzid
        && !store.authorize(&authcid, z)
    {
        return Err(SaslError::AuthenticationFailed);
    }
    Ok(Identity {
        authcid,
        authzid: authzid.map(std::borrow::Cow::into_owned),
        trace: None,
    })
}
