//! CRAM-MD5 (RFC 2195): the client answers the server's challenge with
//! `user SP hex(HMAC-MD5(secret, challenge))`. The user name may hold
//! spaces: the digest is the last 32 octets, and the server reads it from
//! the end. The server prepares the name with SASLprep (RFC 4013), so the
//! client refuses a name that fails it or prepares to nothing.

use super::{ClientSteps, no_success_data, random_bytes, utf8};
use crate::client::{ClientOptions, Credentials, prepared_name};
use crate::server::{CredentialStore, ServerOptions, ServerStep, ServerSteps, authorized};
use crate::{Mechanism, SaslError, Secret};
use hmac::{Hmac, Mac};
use proto_core::ct_eq;

type HmacMd5 = Hmac<md5::Md5>;

/// The RFC 2195 digest, as 32 lowercase hex digits.
fn digest(secret: &[u8], challenge: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length.
    let mut mac = <HmacMd5 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(challenge);
    let raw = mac.finalize().into_bytes();
    let mut hex = [0u8; 32];
    for (i, b) in raw.iter().enumerate() {
        hex[2 * i] = HEX[usize::from(b >> 4)];
        hex[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[derive(Debug)]
pub(crate) struct CramMd5Client {
    username: String,
    password: Secret<String>,
    answered: bool,
}

impl CramMd5Client {
    pub(crate) fn build(
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        let password = creds.password()?.clone();
        if creds.username.is_empty() {
            return Err(SaslError::MissingCredentials("CRAM-MD5 needs a user name"));
        }
        // RFC 4013 (SASLprep is for "PLAIN, CRAM-MD5, and DIGEST-MD5"): the
        // server prepares the name and fails one that does not prepare. The
        // name goes out as given; preparing it here would change nothing for
        // a server that prepares it again.
        prepared_name(&creds.username, "CRAM-MD5 user name fails SASLprep")?;
        Ok(super::ClientGuard::boxed(
            CramMd5Client {
                username: creds.username.clone(),
                password,
                answered: false,
            },
            options.limits,
        ))
    }
}

impl ClientSteps for CramMd5Client {
    fn mechanism(&self) -> Mechanism {
        Mechanism::CramMd5
    }

    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        Ok(None)
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        if self.answered {
            return Err(SaslError::WrongState("CRAM-MD5 has a single challenge"));
        }
        if challenge.is_empty() {
            return Err(SaslError::Malformed("empty CRAM-MD5 challenge"));
        }
        self.answered = true;
        let mut out = Vec::with_capacity(self.username.len() + 33);
        out.extend_from_slice(self.username.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&digest(self.password.expose().as_bytes(), challenge));
        Ok(Secret::new(out))
    }

    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        if !self.answered {
            return Err(SaslError::WrongState(
                "CRAM-MD5 success before the challenge was answered",
            ));
        }
        no_success_data(success_data)
    }
}

#[derive(Debug)]
pub(crate) struct CramMd5Server {
    challenge: Option<Vec<u8>>,
}

impl CramMd5Server {
    pub(crate) fn new(options: &ServerOptions) -> Result<Self, SaslError> {
        let challenge = match &options.cram_md5_challenge {
            Some(c) => c.clone(),
            None => {
                // RFC 2195 section 2: a unique "<multi-digit.timestamp@hostname>"
                // message-id; both numbers come from the RNG here (no clock in a sans-IO crate).
                let r: [u8; 12] = random_bytes()?;
                let a = u64::from_le_bytes([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]]);
                let b = u32::from_le_bytes([r[8], r[9], r[10], r[11]]);
                format!("<{a}.{b}@{}>", options.hostname)
            }
        };
        if challenge.is_empty() {
            return Err(SaslError::InvalidCredentials(
                "CRAM-MD5 challenge must not be empty",
            ));
        }
        Ok(CramMd5Server {
            challenge: Some(challenge.into_bytes()),
        })
    }
}

impl ServerSteps for CramMd5Server {
    fn mechanism(&self) -> Mechanism {
        Mechanism::CramMd5
    }

    fn start(&mut self, ir: Option<&[u8]>, _store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        if ir.is_some() {
            return Err(SaslError::Malformed("CRAM-MD5 has no initial response"));
        }
        self.challenge
            .clone()
            .map(ServerStep::Challenge)
            .ok_or(SaslError::WrongState("CRAM-MD5 already started"))
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let challenge = self
            .challenge
            .take()
            .ok_or(SaslError::WrongState("CRAM-MD5 has a single response"))?;
        // The digest is the last 32 octets; the user name (which may hold spaces) the rest.
        let split = response
            .len()
            .checked_sub(33)
            .ok_or(SaslError::Malformed("CRAM-MD5 response too short"))?;
        let (user, rest) = response.split_at(split);
        let (sp, hex) = rest.split_at(1);
        if sp != b" "
            || !hex
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        {
            return Err(SaslError::Malformed(
                "CRAM-MD5 response is not `user SP 32 lowercase hex digits`",
            ));
        }
        if user.is_empty() {
            return Err(SaslError::Malformed("CRAM-MD5 user name is empty"));
        }
        let user = utf8(user, "CRAM-MD5 user name is not UTF-8")?;
        // RFC 4013; as PLAIN (RFC 4616 section 2) and SCRAM (RFC 5802
        // section 5.1): a name that fails preparation or prepares to nothing
        // fails the authentication before the store is asked.
        let user = crate::saslprep::prepare_name(user).ok_or(SaslError::AuthenticationFailed)?;
        let secret = store
            .cram_md5_secret(&user)
            .ok_or(SaslError::AuthenticationFailed)?;
        if !ct_eq(&digest(secret.expose(), &challenge), hex) {
            return Err(SaslError::AuthenticationFailed);
        }
        let identity = authorized(store, user.into_owned(), None)?;
        Ok(ServerStep::Success {
            identity,
            additional_data: None,
        })
    }
}

#[cfg(test)]
mod tests {
    /// RFC 2195 section 2 example.
    #[test]
    fn rfc2195_digest() {
        let d = super::digest(b"tanstaaftanstaaf", b"<1896.697170952@postoffice.reston.mci.net>");
        assert_eq!(&d, b"b913a602c7eda7a495b4e6e7334d3890");
    }
}
