//! ANONYMOUS (RFC 4505): no credentials, an optional trace string of at most
//! 255 characters (an e-mail address or an opaque token), free of the
//! characters the "trace" profile (section 3) prohibits: control characters,
//! private use, non-characters ..., and passing its bidirectional check
//! (RFC 3454 section 6, as in SASLprep). Both sides refuse other strings, so
//! no CR LF or NUL reaches a log.

use super::{ClientSteps, no_success_data, utf8};
use crate::client::{ClientOptions, Credentials};
use crate::saslprep::check_trace;
use crate::server::{CredentialStore, Identity, ServerStep, ServerSteps};
use crate::{Mechanism, SaslError, Secret};

/// RFC 4505 section 2: `trace` is at most 255 UTF-8 characters.
const MAX_TRACE_CHARS: usize = 255;

#[derive(Debug)]
pub(crate) struct AnonymousClient {
    trace: Vec<u8>,
}

impl AnonymousClient {
    pub(crate) fn build(
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        if creds.username.chars().count() > MAX_TRACE_CHARS {
            return Err(SaslError::InvalidCredentials(
                "ANONYMOUS trace longer than 255 characters",
            ));
        }
        if check_trace(&creds.username).is_err() {
            return Err(SaslError::InvalidCredentials(
                "ANONYMOUS trace holds a character RFC 4505 section 3 prohibits",
            ));
        }
        Ok(super::ClientGuard::boxed(
            AnonymousClient {
                trace: creds.username.as_bytes().to_vec(),
            },
            options.limits,
        ))
    }
}

impl ClientSteps for AnonymousClient {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Anonymous
    }

    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(Some(Secret::new(std::mem::take(&mut self.trace))))
    }

    fn respond(&mut self, _challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        Err(SaslError::Malformed(
            "ANONYMOUS expects no challenge after its message",
        ))
    }

    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        no_success_data(success_data)
    }
}

#[derive(Debug, Default)]
pub(crate) struct AnonymousServer;

impl ServerSteps for AnonymousServer {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Anonymous
    }

    fn start(&mut self, ir: Option<&[u8]>, store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match ir {
            None => Ok(ServerStep::Challenge(Vec::new())),
            Some(msg) => self.step(msg, store),
        }
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let trace = utf8(response, "ANONYMOUS trace is not UTF-8")?;
        if trace.chars().count() > MAX_TRACE_CHARS {
            return Err(SaslError::Malformed("ANONYMOUS trace longer than 255 characters"));
        }
        if check_trace(trace).is_err() {
            return Err(SaslError::Malformed(
                "ANONYMOUS trace holds a character RFC 4505 section 3 prohibits",
            ));
        }
        if !store.allow_anonymous(trace) {
            return Err(SaslError::AuthenticationFailed);
        }
        let identity = Identity {
            authcid: "anonymous".into(),
            authzid: None,
            trace: Some(trace.to_owned()),
        };
        Ok(ServerStep::Success {
            identity,
            additional_data: None,
        })
    }
}
