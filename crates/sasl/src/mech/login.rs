//! LOGIN (draft-murchison-sasl-login-00, as deployed): the server asks
//! `Username:` then `Password:`, the client answers each.

use super::{ClientSteps, no_success_data, utf8};
use crate::client::{ClientOptions, Credentials, prepared_name, usable_password};
use crate::mech::plain::check_password;
use crate::server::{CredentialStore, ServerStep, ServerSteps, authorized};
use crate::{Mechanism, SaslError, Secret};

#[derive(Debug)]
pub(crate) struct LoginClient {
    username: Option<Secret<Vec<u8>>>,
    password: Option<Secret<Vec<u8>>>,
}

impl LoginClient {
    pub(crate) fn build(
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        let password = creds.password()?;
        if creds.username.is_empty() {
            return Err(SaslError::MissingCredentials("LOGIN needs a user name"));
        }
        // The server checks the name as PLAIN's does (RFC 4616 section 2):
        // one that fails SASLprep or prepares to nothing fails the login.
        prepared_name(&creds.username, "LOGIN user name fails SASLprep")?;
        // And the password as PLAIN's (RFC 4616 section 2).
        usable_password(password.expose(), "LOGIN password fails SASLprep")?;
        Ok(super::ClientGuard::boxed(
            LoginClient {
                username: Some(Secret::new(creds.username.as_bytes().to_vec())),
                password: Some(Secret::new(password.expose().as_bytes().to_vec())),
            },
            options.limits,
        ))
    }
}

impl ClientSteps for LoginClient {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Login
    }

    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(None)
    }

    /// The challenge texts vary between servers ("Username:", "User Name"), so
    /// the answers go by position, as every deployed client does.
    fn respond(&mut self, _challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        if let Some(u) = self.username.take() {
            return Ok(u);
        }
        self.password
            .take()
            .ok_or(SaslError::WrongState("LOGIN expects only two challenges"))
    }

    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        if self.password.is_some() {
            return Err(SaslError::WrongState(
                "LOGIN success before the password was sent",
            ));
        }
        no_success_data(success_data)
    }
}

#[derive(Debug, Default)]
pub(crate) struct LoginServer {
    username: Option<String>,
}

impl LoginServer {
    /// The challenges as deployed (Cyrus, Postfix, Exchange).
    pub(crate) const USERNAME: &'static [u8] = b"Username:";
    pub(crate) const PASSWORD: &'static [u8] = b"Password:";

    fn take_username(&mut self, msg: &[u8]) -> Result<ServerStep, SaslError> {
        if msg.is_empty() || msg.contains(&0) {
            return Err(SaslError::Malformed("LOGIN user name is empty or contains NUL"));
        }
        self.username = Some(utf8(msg, "LOGIN user name is not UTF-8")?.to_owned());
        Ok(ServerStep::Challenge(Self::PASSWORD.to_vec()))
    }
}

impl ServerSteps for LoginServer {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Login
    }

    /// Some clients send the user name as an initial response (`AUTH LOGIN dXNlcg==`); accepted.
    fn start(&mut self, ir: Option<&[u8]>, _store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match ir {
            None | Some(b"") => Ok(ServerStep::Challenge(Self::USERNAME.to_vec())),
            Some(user) => self.take_username(user),
        }
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let Some(user) = self.username.take() else {
            return self.take_username(response);
        };
        if response.contains(&0) {
            return Err(SaslError::Malformed("LOGIN password contains NUL"));
        }
        let password = utf8(response, "LOGIN password is not UTF-8")?;
        let user = check_password(store, &user, password)?;
        let identity = authorized(store, user, None)?;
        Ok(ServerStep::Success {
            identity,
            additional_data: None,
        })
    }
}
