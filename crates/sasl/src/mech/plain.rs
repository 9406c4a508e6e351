//! PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd` in one message.

use super::{ClientSteps, no_success_data, utf8};
use crate::client::{ClientOptions, Credentials};
use crate::server::{CredentialStore, ServerStep, ServerSteps, authorized};
use crate::{Mechanism, SaslError, Secret, saslprep};

#[derive(Debug)]
pub(crate) struct PlainClient {
    message: Option<Secret<Vec<u8>>>,
}

impl PlainClient {
    pub(crate) fn build(
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        let password = creds.password()?.expose();
        let authzid = creds.authzid().unwrap_or("");
        if creds.username.is_empty() {
            return Err(SaslError::MissingCredentials("PLAIN needs a user name"));
        }
        if password.is_empty() {
            return Err(SaslError::InvalidCredentials(
                "PLAIN needs a non-empty password (RFC 4616 section 2)",
            ));
        }
        if [authzid, creds.username.as_str(), password.as_str()]
            .iter()
            .any(|f| f.contains('\0'))
        {
            return Err(SaslError::InvalidCredentials("NUL inside a PLAIN field"));
        }
        let mut msg = Vec::with_capacity(authzid.len() + creds.username.len() + password.len() + 2);
        msg.extend_from_slice(authzid.as_bytes());
        msg.push(0);
        msg.extend_from_slice(creds.username.as_bytes());
        msg.push(0);
        msg.extend_from_slice(password.as_bytes());
        Ok(super::ClientGuard::boxed(
            PlainClient {
                message: Some(Secret::new(msg)),
            },
            options.limits,
        ))
    }
}

impl ClientSteps for PlainClient {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Plain
    }

    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(self.message.take())
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        Err(SaslError::Malformed(
            "PLAIN expects no challenge after its message",
        ))
    }

    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        no_success_data(success_data)
    }
}

#[derive(Debug, Default)]
pub(crate) struct PlainServer;

/// Splits and checks a PLAIN message (RFC 4616 section 2 ABNF).
/// The password is borrowed: the one copy the store is shown is made by
/// [`check_password`], after SASLprep.
fn parse(msg: &[u8]) -> Result<(&str, &str, &str), SaslError> {
    let mut parts = msg.splitn(3, |b| *b == 0);
    let (Some(authzid), Some(authcid), Some(passwd)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SaslError::Malformed("PLAIN message needs two NUL separators"));
    };
    if passwd.contains(&0) {
        return Err(SaslError::Malformed(
            "PLAIN message has more than two NUL separators",
        ));
    }
    if authcid.is_empty() || passwd.is_empty() {
        return Err(SaslError::Malformed(
            "PLAIN authcid and password must not be empty",
        ));
    }
    let authzid = utf8(authzid, "PLAIN authzid is not UTF-8")?;
    let authcid = utf8(authcid, "PLAIN authcid is not UTF-8")?;
    let passwd = utf8(passwd, "PLAIN password is not UTF-8")?;
    Ok((authzid, authcid, passwd))
}

/// Checks a user name and password the way PLAIN and LOGIN do: SASLprep both,
/// then ask the store. RFC 4616 section 2: "if preparation fails or results in
/// an empty string, verification SHALL fail", so an empty prepared name or
/// password never reaches the store (where an empty password may mean an
/// unauthenticated directory bind that "succeeds").
///
/// Both are queries ([`saslprep::Profile::Query`], RFC 4616 section 4). The
/// password is copied once: SASLprep borrows ASCII input, and a prepared
/// non-ASCII password is moved, not copied, into the [`Secret`] the store
/// sees, which wipes it.
pub(crate) fn check_password(
    store: &dyn CredentialStore,
    authcid: &str,
    password: &str,
) -> Result<String, SaslError> {
    let user = saslprep::saslprep(authcid).map_err(|_| SaslError::AuthenticationFailed)?;
    if user.is_empty() {
        return Err(SaslError::AuthenticationFailed);
    }
    let prepped = Secret::new(
        saslprep::saslprep(password)
            .map_err(|_| SaslError::AuthenticationFailed)?
            .into_owned(),
    );
    if prepped.expose().is_empty() {
        return Err(SaslError::AuthenticationFailed);
    }
    if store.verify_password(&user, &prepped) {
        Ok(user.into_owned())
    } else {
        Err(SaslError::AuthenticationFailed)
    }
}

impl ServerSteps for PlainServer {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Plain
    }

    fn start(&mut self, ir: Option<&[u8]>, store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match ir {
            None => Ok(ServerStep::Challenge(Vec::new())),
            Some(msg) => self.step(msg, store),
        }
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let (authzid, authcid, passwd) = parse(response)?;
        let user = check_password(store, authcid, passwd)?;
        let identity = authorized(store, user, Some(authzid))?;
        Ok(ServerStep::Success {
            identity,
            additional_data: None,
        })
    }
}
