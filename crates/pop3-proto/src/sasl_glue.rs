//! The client's bridge to the `sasl` crate: mechanism choice and the step
//! machine, behind a small trait so the session code stays independent of
//! the mechanism objects' error type.

use bytes::Bytes;

pub use sasl::Credentials;

/// One client-side SASL exchange.
pub(crate) trait SaslStep: Send + std::fmt::Debug {
    /// The IANA mechanism name.
    fn name(&self) -> &'static str;
    /// The initial response, if the mechanism has one.
    fn initial(&mut self) -> Result<Option<proto_core::Secret<Vec<u8>>>, String>;
    /// The answer to a challenge.
    fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, String>;
    /// Success reported by the server (POP3 carries no success data, RFC 5034 4).
    fn finish(&mut self) -> Result<(), String>;
}

#[derive(Debug)]
struct Step(Box<dyn sasl::ClientMechanism>);

impl SaslStep for Step {
    fn name(&self) -> &'static str {
        self.0.mechanism().name()
    }

    fn initial(&mut self) -> Result<Option<proto_core::Secret<Vec<u8>>>, String> {
        self.0.initial_response().map_err(|e| e.to_string())
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Vec<u8>, String> {
        self.0
            .respond(challenge)
            .map(proto_core::Secret::into_inner)
            .map_err(|e| e.to_string())
    }

    fn finish(&mut self) -> Result<(), String> {
        self.0.finish(None).map_err(|e| e.to_string())
    }
}

/// Picks the strongest mechanism among `offered` that `creds` can drive
/// (plaintext ones only when `secure`), via `sasl::choose`.
pub(crate) fn choose(offered: &[Bytes], creds: &Credentials, secure: bool) -> Option<Box<dyn SaslStep>> {
    let names: Vec<&[u8]> = offered.iter().map(|b| &b[..]).collect();
    let mech = sasl::choose(&names, creds, secure)?;
    let m = sasl::client(mech, creds).ok()?;
    Some(Box::new(Step(m)))
}
