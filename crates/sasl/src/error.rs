//! The one error type of the crate.

/// What went wrong in a SASL exchange.
///
/// The kinds are distinct so that a protocol session can pick the right reply:
/// [`SaslError::Malformed`] and [`SaslError::TooLong`] are the peer's syntax
/// errors (SMTP 501, IMAP BAD), [`SaslError::AuthenticationFailed`] is a wrong
/// credential (SMTP 535, IMAP NO \[AUTHENTICATIONFAILED\]), [`SaslError::StoreFailure`]
/// is the server's own failure to check one (SMTP 454, IMAP NO \[UNAVAILABLE\]),
/// [`SaslError::WrongState`] is a step machine driven out of order, and the rest
/// are local configuration problems. No variant ever carries a password, token
/// or proof.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// The peer's message does not follow the mechanism's syntax.
    #[error("malformed SASL message: {0}")]
    Malformed(&'static str),
    /// A message was longer than [`Limits::max_message_len`](crate::Limits).
    #[error("SASL message of {len} octets exceeds the limit of {limit}")]
    TooLong {
        /// Length of the refused message.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A step machine was called out of order (after it finished or failed,
    /// `initial_response` twice, a challenge where none is expected ...).
    #[error("SASL step out of order: {0}")]
    WrongState(&'static str),
    /// The credentials were checked and are wrong (or the identity may not act
    /// as the requested authorization identity).
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The server could not check the credentials: the
    /// [`CredentialStore`](crate::CredentialStore) holds ones it cannot use
    /// for the user (SCRAM keys with an empty salt, 0 iterations or the wrong
    /// length, or keys for another hash than the one asked for), or the store
    /// itself failed (an application's
    /// [`CredentialStore::verify_password`](crate::CredentialStore::verify_password)
    /// may return it when its database cannot answer).
    /// The server's problem, not the client's: log it and answer with a
    /// temporary failure that says no more (SMTP `454 4.7.0 Temporary
    /// authentication failure`, RFC 4954 section 6; POP3 `-ERR [SYS/TEMP]`,
    /// RFC 3206 section 4; IMAP `NO [UNAVAILABLE]`, RFC 5530 section 3). It
    /// comes for the right password and a wrong one alike, so it does not
    /// help guess one; a user the store does not know never gets it.
    #[error("the credential store failed: {0}")]
    StoreFailure(&'static str),
    /// The server could not prove that it knows the credentials (SCRAM server
    /// signature missing or wrong): the client must not trust the session.
    #[error("the server could not be verified: {0}")]
    ServerNotVerified(&'static str),
    /// The server answered with an error (SCRAM `e=` attribute, the error JSON of
    /// XOAUTH2/OAUTHBEARER). The text is the server's, for logs.
    #[error("the server reported an error: {0}")]
    ServerError(String),
    /// The credentials lack what the mechanism needs (no password, no token).
    #[error("missing credentials: {0}")]
    MissingCredentials(&'static str),
    /// A credential cannot be sent with this mechanism (NUL inside a PLAIN
    /// field, a SASLprep-prohibited character, a user name or authzid the
    /// mechanism's server would refuse because it fails SASLprep or prepares
    /// to nothing ...). A space in a CRAM-MD5 user name
    /// is no such case: RFC 2195 section 2 sends "the user name, a space, and
    /// a 'digest'" of fixed length, which the server reads from the end.
    #[error("invalid credentials: {0}")]
    InvalidCredentials(&'static str),
    /// The mechanism or a feature of it is not implemented or not enabled
    /// (SCRAM channel binding `p=`, an unknown mechanism name).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Random,
}

impl SaslError {
    /// True for the errors caused by the peer's bytes (malformed or too long),
    /// as opposed to wrong credentials or local misuse.
    #[must_use]
    pub fn is_protocol_error(&self) -> bool {
        matches!(self, SaslError::Malformed(_) | SaslError::TooLong { .. })
    }
}
