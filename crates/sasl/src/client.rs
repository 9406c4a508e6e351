//! The client side: credentials, the step-machine trait and its constructor.

use std::borrow::Cow;

use crate::mech::{anonymous, cram_md5, external, login, oauth, plain, scram};
use crate::{Limits, Mechanism, SaslError, Secret, saslprep};

/// What a client has to authenticate with.
///
/// `Debug` shows the user names and redacts the password and token.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The authentication identity (authcid): the user name. For ANONYMOUS it is
    /// the trace string (RFC 4505), often an e-mail address or empty.
    pub username: String,
    /// The password, for PLAIN, LOGIN, CRAM-MD5 and SCRAM.
    pub password: Option<Secret<String>>,
    /// The authorization identity (act-as user); `None` or empty means the same as
    /// the authentication identity.
    pub authzid: Option<String>,
    /// An OAuth 2.0 access token, for XOAUTH2 and OAUTHBEARER.
    pub oauth_token: Option<Secret<String>>,
}

impl Credentials {
    /// A user name and password.
    #[must_use]
    pub fn with_password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: Some(Secret::new(password.into())),
            ..Credentials::default()
        }
    }

    /// A user name and OAuth access token.
    #[must_use]
    pub fn with_token(username: impl Into<String>, token: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            oauth_token: Some(Secret::new(token.into())),
            ..Credentials::default()
        }
    }

    /// The authzid if one is set and not empty.
    pub(crate) fn authzid(&self) -> Option<&str> {
        self.authzid.as_deref().filter(|a| !a.is_empty())
    }

    /// The authzid if it asks for something: set, not empty, and not the user
    /// name itself (RFC 4422 section 3.4.1).
    pub(crate) fn proxy_authzid(&self) -> Option<&str> {
        self.authzid().filter(|a| *a != self.username)
    }

    /// Refuses credentials that ask to act as another identity when `mechanism`
    /// has no field for it: dropping the authzid silently would log in as the
    /// authentication identity instead.
    pub(crate) fn refuse_authzid(&self, mechanism: Mechanism) -> Result<(), SaslError> {
        if self.proxy_authzid().is_some() && !mechanism.carries_authzid() {
            return Err(SaslError::InvalidCredentials(
                "the mechanism cannot carry an authorization identity (authzid)",
            ));
        }
        Ok(())
    }

    pub(crate) fn password(&self) -> Result<&Secret<String>, SaslError> {
        self.password
            .as_ref()
            .ok_or(SaslError::MissingCredentials("the mechanism needs a password"))
    }

    pub(crate) fn token(&self) -> Result<&Secret<String>, SaslError> {
        self.oauth_token.as_ref().ok_or(SaslError::MissingCredentials(
            "the mechanism needs an OAuth token",
        ))
    }
}

/// Refuses, before anything is sent, a user name or authzid the server of
/// the mechanism would refuse ([`saslprep::prepare_name`]): one that fails
/// SASLprep (RFC 4013 section 2) or prepares to nothing. Sent, it would
/// only fail the login with no word of why. Returns the prepared name.
pub(crate) fn prepared_name<'a>(name: &'a str, what: &'static str) -> Result<Cow<'a, str>, SaslError> {
    saslprep::prepare_name(name).ok_or(SaslError::InvalidCredentials(what))
}

/// Refuses, before anything is sent, a password the server of a password
/// mechanism (PLAIN, LOGIN) would refuse: one that fails SASLprep (RFC 4013
/// section 2) or prepares to nothing (RFC 4616 section 2: the server fails
/// the login then). The password still goes on the wire as given (the
/// server prepares it); a prepared copy made here is wiped.
pub(crate) fn usable_password(password: &str, what: &'static str) -> Result<(), SaslError> {
    let usable = match saslprep::saslprep(password) {
        Ok(Cow::Borrowed(p)) => !p.is_empty(),
        Ok(Cow::Owned(p)) => !Secret::new(p).expose().is_empty(),
        Err(_) => false,
    };
    if usable {
        Ok(())
    } else {
        Err(SaslError::InvalidCredentials(what))
    }
}

/// A client-side step machine. Challenges and responses are raw bytes: the
/// protocol crate does the base64 and the continuation framing.
pub trait ClientMechanism: Send + std::fmt::Debug {
    /// Which mechanism this is.
    fn mechanism(&self) -> Mechanism;

    /// The initial response (SASL-IR, SMTP "AUTH MECH ir"), or None if the mechanism
    /// has none (LOGIN, CRAM-MD5 start with a server challenge). Called once, first.
    ///
    /// `Some` of an empty buffer is an empty initial response (sent as `=` in SMTP
    /// and IMAP), which EXTERNAL without authzid and ANONYMOUS without trace use.
    fn initial_response(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError>;

    /// Answers one server challenge. SCRAM's server-final message also arrives here
    /// (verified; the answer is then empty). XOAUTH2's error JSON too (answer empty;
    /// OAUTHBEARER answers its error JSON with a single 0x01, RFC 7628 3.2.3).
    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError>;

    /// Called when the server reports success, with any additional data sent with
    /// the success (IMAP/SMTP may carry SCRAM's server-final there). Err if the
    /// mechanism could not verify the server (SCRAM signature missing or wrong).
    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError>;

    /// The error text the server sent during the exchange (SCRAM `e=` value,
    /// the XOAUTH2/OAUTHBEARER error JSON), if any; useful in the failure report.
    fn server_error(&self) -> Option<&str> {
        None
    }
}

/// SCRAM's GS2 channel-binding flag as the client sends it (RFC 5802 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChannelBindingFlag {
    /// `n`: the client does not support channel binding.
    #[default]
    NotSupported,
    /// `y`: the client supports channel binding but thinks the server does not
    /// (it did not offer a `-PLUS` mechanism). A server that does support it then
    /// fails the exchange: that detects a downgrade.
    SupportedNotUsed,
}

/// Options of [`client_with`]; the defaults are what [`client`] uses.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Size and cost limits.
    pub limits: Limits,
    /// The SCRAM client nonce (printable ASCII without `,`). `None` draws 24
    /// random octets from the OS and encodes them in base64. Set it only for
    /// known-answer tests: a repeated nonce weakens SCRAM.
    pub scram_nonce: Option<String>,
    /// The SCRAM GS2 channel-binding flag.
    pub channel_binding: ChannelBindingFlag,
    /// OAUTHBEARER `host` key (RFC 7628 section 3.1), if the caller wants to send it.
    pub oauth_host: Option<String>,
    /// OAUTHBEARER `port` key.
    pub oauth_port: Option<u16>,
}

/// Builds the client side of `mechanism` for `creds` (SCRAM nonce from the OS RNG).
///
/// Fails with [`SaslError::MissingCredentials`] when `creds` lacks what the
/// mechanism needs, and [`SaslError::InvalidCredentials`] when a field cannot be
/// sent with it (a NUL in a PLAIN field, a prohibited character under SASLprep),
/// among them every user name or authzid the mechanism's server would refuse:
/// one that fails SASLprep (RFC 4013 section 2) or prepares to nothing. Such
/// a name is sent as it is given, not prepared (SCRAM excepted, which sends
/// the prepared name, RFC 5802 section 5.1): the servers prepare it.
pub fn client(mechanism: Mechanism, creds: &Credentials) -> Result<Box<dyn ClientMechanism>, SaslError> {
    client_with(mechanism, creds, &ClientOptions::default())
}

/// [`client`] with options (caller-chosen SCRAM nonce, limits, OAUTHBEARER host).
///
/// Credentials with an authzid other than the user name fail with
/// [`SaslError::InvalidCredentials`] for the mechanisms that cannot carry one
/// ([`Mechanism::carries_authzid`]), rather than log in as the user name.
#[inline]
pub fn client_with(
    mechanism: Mechanism,
    creds: &Credentials,
    options: &ClientOptions,
) -> Result<Box<dyn ClientMechanism>, SaslError> {
    // PLAIN, the common case, without the call to the rest: it carries any
    // authzid, so there is nothing to refuse.
    if mechanism == Mechanism::Plain {
        debug_assert!(mechanism.carries_authzid());
        return plain::PlainClient::build(creds, options);
    }
    client_other(mechanism, creds, options)
}

/// Whether [`client`] builds `mechanism` for `creds`: the test
/// [`choose`](crate::choose) applies, so that it never picks a mechanism the
/// credentials cannot drive (a user name missing, a password SCRAM cannot
/// prepare as a stored string, an authzid the mechanism cannot carry ...).
/// The SCRAM nonce is fixed here, so nothing is drawn from the OS.
pub(crate) fn can_drive(mechanism: Mechanism, creds: &Credentials) -> bool {
    let options = ClientOptions {
        scram_nonce: Some(String::from("n")),
        ..ClientOptions::default()
    };
    client_with(mechanism, creds, &options).is_ok()
}

/// [`client_with`] for a mechanism other than PLAIN.
fn client_other(
    mechanism: Mechanism,
    creds: &Credentials,
    options: &ClientOptions,
) -> Result<Box<dyn ClientMechanism>, SaslError> {
    creds.refuse_authzid(mechanism)?;
    match mechanism {
        Mechanism::Plain => plain::PlainClient::build(creds, options),
        Mechanism::Login => login::LoginClient::build(creds, options),
        Mechanism::CramMd5 => cram_md5::CramMd5Client::build(creds, options),
        Mechanism::ScramSha1 => scram::ScramClient::build(scram::ScramHash::Sha1, creds, options),
        Mechanism::ScramSha256 => scram::ScramClient::build(scram::ScramHash::Sha256, creds, options),
        Mechanism::XOAuth2 => oauth::XOAuth2Client::build(creds, options),
        Mechanism::OAuthBearer => oauth::OAuthBearerClient::build(creds, options),
        Mechanism::External => external::ExternalClient::build(creds, options),
        Mechanism::Anonymous => anonymous::AnonymousClient::build(creds, options),
    }
}
