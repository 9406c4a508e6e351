//! EXTERNAL (RFC 4422 appendix A): the identity comes from outside SASL (a TLS
//! client certificate); the message is only the requested authzid, often empty.

use super::{ClientSteps, no_success_data, utf8};
use crate::client::{ClientOptions, Credentials, prepared_name};
use crate::server::{CredentialStore, ServerStep, ServerSteps, authorized};
use crate::{Mechanism, SaslError, Secret};

#[derive(Debug)]
pub(crate) struct ExternalClient {
    authzid: Vec<u8>,
}

impl ExternalClient {
    pub(crate) fn build(
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        let authzid = creds.authzid().unwrap_or("");
        if authzid.contains('\0') {
            return Err(SaslError::InvalidCredentials("NUL inside the EXTERNAL authzid"));
        }
        // RFC 4422 section 3.4.1 and appendix A: the server prepares a
        // non-empty authzid and fails one that does not prepare or prepares
        // to nothing (RFC 4954 4, RFC 5034 4); refused here, before it is sent.
        if !authzid.is_empty() {
            prepared_name(authzid, "EXTERNAL authzid fails SASLprep")?;
        }
        let authzid = authzid.as_bytes().to_vec();
        Ok(super::ClientGuard::boxed(
            ExternalClient { authzid },
            options.limits,
        ))
    }
}

impl ClientSteps for ExternalClient {
    fn mechanism(&self) -> Mechanism {
        Mechanism::External
    }

    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(Some(Secret::new(std::mem::take(&mut self.authzid))))
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        Err(SaslError::Malformed(
            "EXTERNAL expects no challenge after its message",
        ))
    }

    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        no_success_data(success_data)
    }
}

#[derive(Debug, Default)]
pub(crate) struct ExternalServer;

impl ServerSteps for ExternalServer {
    fn mechanism(&self) -> Mechanism {
        Mechanism::External
    }

    fn start(&mut self, ir: Option<&[u8]>, store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match ir {
            None => Ok(ServerStep::Challenge(Vec::new())),
            Some(msg) => self.step(msg, store),
        }
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        if response.contains(&0) {
            return Err(SaslError::Malformed("NUL inside the EXTERNAL authzid"));
        }
        let authzid = utf8(response, "EXTERNAL authzid is not UTF-8")?;
        let authcid = store.external_identity().ok_or(SaslError::AuthenticationFailed)?;
        let identity = authorized(store, authcid, Some(authzid))?;
        Ok(ServerStep::Success {
            identity,
            additional_data: None,
        })
    }
}
