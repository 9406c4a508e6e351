//! SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), without channel binding.
//!
//! Channel binding: the client sends the GS2 flag `n` (or `y` on request); a
//! server refuses `p=` (the `-PLUS` variants are not implemented) with
//! [`SaslError::Unsupported`], and refuses `y` when it is configured as
//! offering `-PLUS` (RFC 5802 section 6, downgrade detection).

use super::{ClientSteps, no_success_data, random_bytes};
use crate::client::{ChannelBindingFlag, ClientOptions, Credentials, prepared_name};
use crate::saslprep::{self, Profile};
use crate::server::{CredentialStore, ServerOptions, ServerStep, ServerSteps, authorized};
use crate::{Limits, Mechanism, SaslError, Secret};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use proto_core::ct_eq;

/// The hash function of a SCRAM mechanism.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// SHA-1, for `SCRAM-SHA-1` (RFC 5802).
    Sha1,
    /// SHA-256, for `SCRAM-SHA-256` (RFC 7677).
    Sha256,
}

impl ScramHash {
    /// The mechanism that uses this hash.
    #[must_use]
    pub fn mechanism(self) -> Mechanism {
        match self {
            ScramHash::Sha1 => Mechanism::ScramSha1,
            ScramHash::Sha256 => Mechanism::ScramSha256,
        }
    }

    /// The hash of a SCRAM mechanism, `None` for the others.
    #[must_use]
    pub fn of(mechanism: Mechanism) -> Option<ScramHash> {
        match mechanism {
            Mechanism::ScramSha1 => Some(ScramHash::Sha1),
            Mechanism::ScramSha256 => Some(ScramHash::Sha256),
            _ => None,
        }
    }

    /// Output length of the hash in octets (20 or 32).
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            ScramHash::Sha1 => 20,
            ScramHash::Sha256 => 32,
        }
    }

    /// HMAC(key, data) (RFC 5802 section 2.2), where data is the
    /// concatenation of `parts` (so AuthMessage is never built in memory).
    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Digest {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Digest {
            // HMAC accepts keys of any length, so this cannot fail.
            let mut mac =
                <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
            for part in parts {
                mac.update(part);
            }
            Digest::new(&mac.finalize().into_bytes())
        }
        match self {
            ScramHash::Sha1 => run::<Hmac<sha1::Sha1>>(key, parts),
            ScramHash::Sha256 => run::<Hmac<sha2::Sha256>>(key, parts),
        }
    }

    /// H(data).
    fn h(self, data: &[u8]) -> Digest {
        use sha2::Digest as _;
        match self {
            ScramHash::Sha1 => Digest::new(&sha1::Sha1::digest(data)),
            ScramHash::Sha256 => Digest::new(&sha2::Sha256::digest(data)),
        }
    }

    /// Hi(str, salt, i): PBKDF2 with HMAC as the PRF and one output block.
    fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Secret<Vec<u8>> {
        let mut out = vec![0u8; self.output_len()];
        match self {
            ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut out),
            ScramHash::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out),
        }
        Secret::new(out)
    }
}

/// A hash or HMAC output (20 or 32 octets) kept on the stack, not the heap:
/// SCRAM computes several per exchange. It may be key material
/// (ClientKey, a salted password), so it is zeroed when dropped.
struct Digest {
    buf: [u8; 32],
    len: usize,
}

impl Digest {
    /// Copies `bytes` (at most 32 octets: a SHA-1 or SHA-256 output).
    fn new(bytes: &[u8]) -> Self {
        let mut buf = [0u8; 32];
        let len = bytes.len().min(32);
        buf[..len].copy_from_slice(&bytes[..len]);
        Digest { buf, len }
    }
}

impl std::ops::Deref for Digest {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Digest {
    fn drop(&mut self) {
        self.buf = [0; 32];
        std::hint::black_box(&self.buf);
    }
}

/// What a server stores per user and hash instead of the password
/// (RFC 5802 sections 3 and 5.1): StoredKey = H(HMAC(SaltedPassword, "Client Key")),
/// ServerKey = HMAC(SaltedPassword, "Server Key"), and the salt and iteration
/// count they were derived with. The keys do not let anyone log in by
/// themselves; `Debug` redacts them anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramKeys {
    /// The hash these keys are for.
    pub hash: ScramHash,
    /// The salt (raw octets); must not be empty.
    pub salt: Vec<u8>,
    /// The PBKDF2 iteration count; at least 1. A server sends it as is:
    /// a client may refuse counts outside its own bounds (this crate's,
    /// [`Limits::scram_min_iterations`] to [`Limits::scram_max_iterations`],
    /// 4096 to 1,000,000 by default).
    pub iterations: u32,
    /// StoredKey.
    pub stored_key: Secret<Vec<u8>>,
    /// ServerKey.
    pub server_key: Secret<Vec<u8>>,
}

/// Why a password that prepares to nothing is refused: no password
/// mechanism takes one (RFC 4616 section 2: PLAIN's `passwd = 1*SAFE`, and
/// its server fails an empty one), so SCRAM keys are never made from one and
/// the SCRAM client never uses one; an account cannot then log in by SCRAM
/// with a password PLAIN would refuse.
const EMPTY_PASSWORD: &str = "password prepares to nothing";

impl ScramKeys {
    /// Derives the keys from a password (SASLprep'ed first, as a stored
    /// string: [`crate::saslprep::Profile::Stored`], RFC 5802
    /// section 2.2), a salt and an iteration count: what an application does
    /// when an account is created or its password changes, to store keys
    /// instead of the password. A password with a code point Unicode 3.2 left
    /// unassigned, or one that prepares to nothing (as no password mechanism
    /// takes one, RFC 4616 section 2), fails with
    /// [`SaslError::InvalidCredentials`]. The prepared copy is wiped.
    ///
    /// ```
    /// use sasl::{ScramHash, ScramKeys};
    /// // RFC 5802 section 5: user "user", password "pencil".
    /// let salt = [0x41, 0x25, 0xc2, 0x47, 0xe4, 0x3a, 0xb1, 0xe9, 0x3c, 0x6d, 0xff, 0x76];
    /// let keys = ScramKeys::derive(ScramHash::Sha1, "pencil", &salt, 4096).unwrap();
    /// assert_eq!(keys.iterations, 4096);
    /// assert_eq!(keys.verify_password(&sasl::Secret::new("pencil".into())), Ok(true));
    /// assert_eq!(keys.verify_password(&sasl::Secret::new("pencil2".into())), Ok(false));
    /// ```
    pub fn derive(hash: ScramHash, password: &str, salt: &[u8], iterations: u32) -> Result<Self, SaslError> {
        if iterations == 0 || salt.is_empty() {
            return Err(SaslError::InvalidCredentials(
                "SCRAM needs a salt and an iteration count of at least 1",
            ));
        }
        let prepped = Secret::new(
            saslprep::saslprep_with(password, Profile::Stored)
                .map_err(|_| SaslError::InvalidCredentials("password fails SASLprep"))?
                .into_owned(),
        );
        if prepped.expose().is_empty() {
            return Err(SaslError::InvalidCredentials(EMPTY_PASSWORD));
        }
        let salted = hash.hi(prepped.expose().as_bytes(), salt, iterations);
        Ok(Self::from_salted(
            hash,
            salt.to_vec(),
            iterations,
            salted.expose(),
        ))
    }

    /// Refuses keys no client can use: an empty salt or 0 iterations
    /// (RFC 5802 section 7: `salt = "s=" base64`, which the client refuses
    /// empty, and `iteration-count = "i=" posit-number`), or a StoredKey or
    /// ServerKey not as long as the hash output: [`SaslError::StoreFailure`].
    fn check(&self) -> Result<(), SaslError> {
        if self.salt.is_empty() || self.iterations == 0 {
            return Err(SaslError::StoreFailure(
                "stored SCRAM keys have an empty salt or 0 iterations",
            ));
        }
        let len = self.hash.output_len();
        if self.stored_key.expose().len() != len || self.server_key.expose().len() != len {
            return Err(SaslError::StoreFailure(
                "stored SCRAM keys are not as long as the hash output",
            ));
        }
        Ok(())
    }

    /// [`ScramKeys::check`] for keys a store gave when asked for `hash`:
    /// keys for another hash are its mistake too (SHA-1 keys cannot answer
    /// a SCRAM-SHA-256 exchange, RFC 7677 section 3), not an unknown user.
    pub(crate) fn check_for(&self, hash: ScramHash) -> Result<(), SaslError> {
        if self.hash != hash {
            return Err(SaslError::StoreFailure(
                "stored SCRAM keys are for another hash than the one asked for",
            ));
        }
        self.check()
    }

    /// [`ScramKeys::derive`] with 16 random octets of salt from the OS.
    pub fn generate(hash: ScramHash, password: &str, iterations: u32) -> Result<Self, SaslError> {
        let salt: [u8; 16] = random_bytes()?;
        Self::derive(hash, password, &salt, iterations)
    }

    fn from_salted(hash: ScramHash, salt: Vec<u8>, iterations: u32, salted: &[u8]) -> Self {
        let client_key = hash.hmac(salted, &[b"Client Key"]);
        ScramKeys {
            hash,
            salt,
            iterations,
            stored_key: Secret::new(hash.h(&client_key).to_vec()),
            server_key: Secret::new(hash.hmac(salted, &[b"Server Key"]).to_vec()),
        }
    }

    /// Checks a password against the stored keys (for PLAIN and LOGIN on a
    /// server that stores only SCRAM keys): `Ok(true)` if it is right,
    /// `Ok(false)` if not. Costs one PBKDF2 run. The password is prepared as
    /// SCRAM does (RFC 5802 section 2.2, a stored string), so one with a code
    /// point Unicode 3.2 left unassigned never matches: no stored keys can
    /// have been derived from it.
    ///
    /// Keys no password can match (an empty salt, 0 iterations, a StoredKey
    /// or ServerKey not as long as the hash output) are
    /// [`SaslError::StoreFailure`], whatever the password: a broken account,
    /// not a wrong password.
    pub fn verify_password(&self, password: &Secret<String>) -> Result<bool, SaslError> {
        self.check()?;
        Ok(
            match Self::derive(self.hash, password.expose(), &self.salt, self.iterations) {
                Ok(k) => ct_eq(k.stored_key.expose(), self.stored_key.expose()),
                Err(_) => false,
            },
        )
    }

    /// The RFC 5803 text form, `SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`
    /// (base64 fields), as LDAP `authPassword` and several servers store it.
    #[must_use]
    pub fn to_rfc5803(&self) -> Secret<String> {
        Secret::new(format!(
            "{}${}:{}${}:{}",
            self.hash.mechanism().name(),
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key.expose()),
            B64.encode(self.server_key.expose())
        ))
    }

    /// Parses the RFC 5803 text form written by [`ScramKeys::to_rfc5803`].
    pub fn from_rfc5803(text: &str) -> Result<Self, SaslError> {
        const BAD: SaslError = SaslError::Malformed("not an RFC 5803 SCRAM key string");
        let mut parts = text.split('$');
        let (Some(scheme), Some(info), Some(value), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(BAD);
        };
        let hash = Mechanism::from_name(scheme.as_bytes())
            .and_then(ScramHash::of)
            .ok_or(BAD)?;
        let (iter, salt) = info.split_once(':').ok_or(BAD)?;
        let (stored, server) = value.split_once(':').ok_or(BAD)?;
        let iterations: u32 = parse_iterations(iter).ok_or(BAD)?;
        let salt = B64.decode(salt).map_err(|_| BAD)?;
        let stored_key = B64.decode(stored).map_err(|_| BAD)?;
        let server_key = B64.decode(server).map_err(|_| BAD)?;
        let keys = ScramKeys {
            hash,
            salt,
            iterations,
            stored_key: Secret::new(stored_key),
            server_key: Secret::new(server_key),
        };
        keys.check().map_err(|_| BAD)?;
        Ok(keys)
    }
}

/// A positive decimal iteration count without sign or leading zero.
fn parse_iterations(s: &str) -> Option<u32> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// RFC 5802 section 5.1: `,` and `=` in a saslname become `=2C` and `=3D`
/// (also the GS2 authzid of OAUTHBEARER, RFC 7628 3.1 and RFC 5801 4).
pub(crate) fn escape_saslname(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            ',' => out.push_str("=2C"),
            '=' => out.push_str("=3D"),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape_saslname`]; any other `=` sequence is malformed, and so
/// is a NUL (RFC 5802 section 7 and RFC 5801 section 4: `value-safe-char` and
/// `UTF8-1-safe` start at %x01; RFC 4422 section 3.4.1 keeps NUL out of every
/// authorization identity), so no NUL reaches [`CredentialStore`] lookups.
pub(crate) fn unescape_saslname(name: &str) -> Result<String, SaslError> {
    if name.contains('\0') {
        return Err(SaslError::Malformed("NUL in a SCRAM or GS2 saslname"));
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if after.starts_with("2C") {
            out.push(',');
        } else if after.starts_with("3D") {
            out.push('=');
        } else {
            return Err(SaslError::Malformed("bad '=' escape in SCRAM saslname"));
        }
        rest = &after[2..];
    }
    out.push_str(rest);
    if out.is_empty() {
        return Err(SaslError::Malformed("empty SCRAM saslname"));
    }
    Ok(out)
}

/// RFC 5802 section 7: `printable = %x21-2B / %x2D-7E`.
fn is_printable_nonce(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b',')
}

/// `a XOR b`, octet by octet (as long as the shorter).
fn xor(a: &[u8], b: &[u8]) -> Digest {
    let mut out = Digest::new(a);
    out.len = out.len.min(b.len());
    for (o, y) in out.buf.iter_mut().zip(b) {
        *o ^= y;
    }
    out
}

/// Is `text` the canonical (padded) base64 of `bytes`? Encodes three octets
/// at a time on the stack and compares as it goes.
fn is_base64_of(text: &str, bytes: &[u8]) -> bool {
    if base64::encoded_len(bytes.len(), true) != Some(text.len()) {
        return false;
    }
    bytes
        .chunks(3)
        .zip(text.as_bytes().chunks(4))
        .all(|(group, want)| {
            let mut out = [0u8; 4];
            B64.encode_slice(group, &mut out) == Ok(4) && out == want
        })
}

/// Splits `msg` at its first attribute `k=value`, checking the name.
fn attr<'a>(part: Option<&'a str>, name: char, what: &'static str) -> Result<&'a str, SaslError> {
    let part = part.ok_or(SaslError::Malformed(what))?;
    let mut chars = part.chars();
    if chars.next() == Some(name) && chars.next() == Some('=') {
        Ok(&part[2..])
    } else {
        Err(SaslError::Malformed(what))
    }
}

/// Optional extensions after the mandatory attributes: `ALPHA "=" 1*value-char`.
///
/// An `m=` among them is refused like one in front: RFC 5802 section 5.1,
/// "its presence in a client or a server message MUST cause authentication
/// failure", wherever it stands, not only in the `reserved-mext` place.
/// The other names the RFC assigns are refused too: "Optional extensions
/// use as-yet unassigned attribute names" (section 5.1), so a second `r=`,
/// `i=` or `v=` is a repeated attribute, not one to ignore. A value holds no
/// NUL (section 7, `value-char`).
fn check_extensions<'a>(rest: impl Iterator<Item = &'a str>) -> Result<(), SaslError> {
    for ext in rest {
        let b = ext.as_bytes();
        if b.len() < 3 || !b[0].is_ascii_alphabetic() || b[1] != b'=' || b[2..].contains(&0) {
            return Err(SaslError::Malformed("bad SCRAM attribute"));
        }
        if b[0] == b'm' {
            return Err(SaslError::Unsupported("SCRAM mandatory extension (m=)"));
        }
        if b"aceinprsv".contains(&b[0]) {
            return Err(SaslError::Malformed("SCRAM attribute repeated or out of place"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- client --

#[derive(Debug)]
enum ClientState {
    Start,
    SentFirst,
    SentFinal { server_signature: Vec<u8> },
    Verified,
}

#[derive(Debug)]
pub(crate) struct ScramClient {
    hash: ScramHash,
    limits: Limits,
    gs2_header: String,
    client_first_bare: String,
    nonce: String,
    password: Secret<String>,
    state: ClientState,
    server_error: Option<String>,
}

impl ScramClient {
    pub(crate) fn build(
        hash: ScramHash,
        creds: &Credentials,
        options: &ClientOptions,
    ) -> Result<Box<dyn crate::ClientMechanism>, SaslError> {
        let password = creds.password()?;
        // RFC 5802 section 2.2: Normalize(password) treats it as a stored
        // string (no unassigned code points); the user name below is a query.
        let password = Secret::new(
            saslprep::saslprep_with(password.expose(), Profile::Stored)
                .map_err(|_| SaslError::InvalidCredentials("password fails SASLprep"))?
                .into_owned(),
        );
        if password.expose().is_empty() {
            return Err(SaslError::InvalidCredentials(EMPTY_PASSWORD));
        }
        if creds.username.is_empty() {
            return Err(SaslError::MissingCredentials("SCRAM needs a user name"));
        }
        // RFC 5802 section 5.1: a name that fails SASLprep or prepares to the
        // empty string aborts the exchange (`saslname` is never empty).
        let user = prepared_name(&creds.username, "user name fails SASLprep")?;
        let nonce = match &options.scram_nonce {
            Some(n) if is_printable_nonce(n) => n.clone(),
            Some(_) => {
                return Err(SaslError::InvalidCredentials(
                    "SCRAM nonce must be printable ASCII without ','",
                ));
            }
            None => B64.encode(random_bytes::<24>()?),
        };
        let flag = match options.channel_binding {
            ChannelBindingFlag::NotSupported => "n",
            ChannelBindingFlag::SupportedNotUsed => "y",
        };
        let gs2_header = match creds.authzid() {
            Some(z) => {
                let z = prepared_name(z, "authzid fails SASLprep")?;
                format!("{flag},a={},", escape_saslname(&z))
            }
            None => format!("{flag},,"),
        };
        let client_first_bare = format!("n={},r={nonce}", escape_saslname(&user));
        let me = ScramClient {
            hash,
            limits: options.limits,
            gs2_header,
            client_first_bare,
            nonce,
            password,
            state: ClientState::Start,
            server_error: None,
        };
        Ok(super::ClientGuard::boxed(me, options.limits))
    }

    fn client_final(&mut self, server_first: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| SaslError::Malformed("SCRAM server-first is not UTF-8"))?;
        if server_first.starts_with("m=") {
            return Err(SaslError::Unsupported("SCRAM mandatory extension (m=)"));
        }
        // RFC 5802 section 5.1: `e` "is sent by the server in its final
        // message"; the grammar of server-first (section 7) has no place for it.
        if server_first.starts_with("e=") {
            return Err(SaslError::Malformed("SCRAM e= is allowed only in server-final"));
        }
        let mut parts = server_first.split(',');
        let nonce = attr(parts.next(), 'r', "SCRAM server-first lacks r=")?;
        let salt = attr(parts.next(), 's', "SCRAM server-first lacks s=")?;
        let iter = attr(parts.next(), 'i', "SCRAM server-first lacks i=")?;
        check_extensions(parts)?;
        if !is_printable_nonce(nonce) || !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(SaslError::Malformed(
                "SCRAM server nonce does not extend the client nonce",
            ));
        }
        let salt = B64
            .decode(salt)
            .map_err(|_| SaslError::Malformed("SCRAM salt is not base64"))?;
        if salt.is_empty() {
            return Err(SaslError::Malformed("SCRAM salt is empty"));
        }
        let iterations = parse_iterations(iter).ok_or(SaslError::Malformed("SCRAM iteration count"))?;
        if iterations < self.limits.scram_min_iterations || iterations > self.limits.scram_max_iterations {
            return Err(SaslError::Unsupported(
                "SCRAM iteration count outside the configured limits",
            ));
        }
        let hash = self.hash;
        let salted = hash.hi(self.password.expose().as_bytes(), &salt, iterations);
        let client_key = hash.hmac(salted.expose(), &[b"Client Key"]);
        let stored_key = hash.h(&client_key);
        let without_proof = format!("c={},r={nonce}", B64.encode(self.gs2_header.as_bytes()));
        let auth_message: [&[u8]; 5] = [
            self.client_first_bare.as_bytes(),
            b",",
            server_first.as_bytes(),
            b",",
            without_proof.as_bytes(),
        ];
        let client_signature = hash.hmac(&stored_key, &auth_message);
        let proof = xor(&client_key, &client_signature);
        let server_key = hash.hmac(salted.expose(), &[b"Server Key"]);
        let server_signature = hash.hmac(&server_key, &auth_message).to_vec();
        self.state = ClientState::SentFinal { server_signature };
        Ok(Secret::new(
            format!("{without_proof},p={}", B64.encode(&*proof)).into_bytes(),
        ))
    }

    fn verify_server_final(&mut self, server_final: &[u8]) -> Result<(), SaslError> {
        let ClientState::SentFinal { server_signature } = &self.state else {
            return Err(SaslError::WrongState("no SCRAM server-final expected now"));
        };
        let text = std::str::from_utf8(server_final)
            .map_err(|_| SaslError::Malformed("SCRAM server-final is not UTF-8"))?;
        // server-final-message = (server-error / verifier) ["," extensions]
        let mut parts = text.split(',');
        let first = parts.next().unwrap_or("");
        check_extensions(parts)?;
        if let Some(e) = first.strip_prefix("e=") {
            // server-error-value-ext = value, value = 1*value-char (no NUL):
            // an error has a non-empty text, which ends at the first comma.
            if e.is_empty() || e.contains('\0') {
                return Err(SaslError::Malformed(
                    "SCRAM server-error value is empty or holds NUL",
                ));
            }
            self.server_error = Some(e.to_owned());
            return Err(SaslError::ServerError(e.to_owned()));
        }
        let v = first
            .strip_prefix("v=")
            .ok_or(SaslError::Malformed("SCRAM server-final lacks v="))?;
        let sig = B64
            .decode(v)
            .map_err(|_| SaslError::Malformed("SCRAM server signature is not base64"))?;
        if !ct_eq(&sig, server_signature) {
            return Err(SaslError::ServerNotVerified("wrong SCRAM server signature"));
        }
        self.state = ClientState::Verified;
        Ok(())
    }
}

impl ClientSteps for ScramClient {
    fn mechanism(&self) -> Mechanism {
        self.hash.mechanism()
    }

    fn initial(&mut self) -> Result<Option<Secret<Vec<u8>>>, SaslError> {
        self.state = ClientState::SentFirst;
        Ok(Some(Secret::new(
            format!("{}{}", self.gs2_header, self.client_first_bare).into_bytes(),
        )))
    }

    fn respond(&mut self, challenge: &[u8]) -> Result<Secret<Vec<u8>>, SaslError> {
        match self.state {
            ClientState::SentFirst => self.client_final(challenge),
            ClientState::SentFinal { .. } => {
                self.verify_server_final(challenge)?;
                Ok(Secret::new(Vec::new()))
            }
            ClientState::Start | ClientState::Verified => {
                Err(SaslError::WrongState("no SCRAM challenge expected"))
            }
        }
    }

    fn finish(&mut self, success_data: Option<&[u8]>) -> Result<(), SaslError> {
        match (&self.state, success_data) {
            (ClientState::Verified, data) => no_success_data(data),
            (ClientState::SentFinal { .. }, Some(data)) if !data.is_empty() => self.verify_server_final(data),
            (ClientState::SentFinal { .. }, _) => Err(SaslError::ServerNotVerified(
                "success without the SCRAM server signature",
            )),
            _ => Err(SaslError::ServerNotVerified(
                "success before the SCRAM exchange completed",
            )),
        }
    }

    fn server_error(&self) -> Option<&str> {
        self.server_error.as_deref()
    }
}

// ---------------------------------------------------------------- server --

/// A per-process random key behind the made-up credentials of unknown users
/// (SCRAM's fake salts, the default password check's dummy derivation).
fn unknown_user_key() -> Result<&'static [u8; 32], SaslError> {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    Ok(match KEY.get() {
        Some(k) => k,
        None => {
            let fresh: [u8; 32] = random_bytes()?;
            KEY.get_or_init(|| fresh)
        }
    })
}

impl ScramKeys {
    /// The work of [`ScramKeys::verify_password`] for a user the store does
    /// not know, so that a password check takes as long whether or not the
    /// user exists.
    pub(crate) fn verify_unknown_user(password: &Secret<String>, iterations: u32) {
        let salt = match unknown_user_key() {
            Ok(key) => ScramHash::Sha256.hmac(key, &[b"unknown user salt"]),
            Err(_) => Digest::new(&[0; 16]),
        };
        let keys = Self::derive(
            ScramHash::Sha256,
            password.expose(),
            &salt[..16],
            iterations.max(1),
        );
        std::hint::black_box(keys.is_ok());
    }
}

#[derive(Debug)]
enum ServerState {
    Start,
    SentFirst {
        user: String,
        authzid: Option<String>,
        /// The whole client-first-message: the GS2 header, then the bare
        /// message from `gs2_len` on (one copy for both).
        client_first: String,
        gs2_len: usize,
        /// The server-first-message; it starts with `r=` and the `nonce_len`
        /// octets of the nonce.
        server_first: String,
        nonce_len: usize,
        /// The user's keys, or made-up ones for an unknown user.
        keys: ScramKeys,
        /// False for an unknown user: the exchange runs on with made-up keys,
        /// does the same work, and fails at the proof (RFC 5802 section 5.1:
        /// do not reveal which users exist).
        known: bool,
    },
    SentFinal {
        identity: crate::Identity,
    },
}

#[derive(Debug)]
pub(crate) struct ScramServer {
    hash: ScramHash,
    server_nonce: String,
    success_data: bool,
    plus_offered: bool,
    state: ServerState,
}

impl ScramServer {
    pub(crate) fn new(hash: ScramHash, options: &ServerOptions) -> Result<Self, SaslError> {
        let server_nonce = match &options.scram_nonce {
            Some(n) if is_printable_nonce(n) => n.clone(),
            Some(_) => {
                return Err(SaslError::InvalidCredentials(
                    "SCRAM nonce must be printable ASCII without ','",
                ));
            }
            None => B64.encode(random_bytes::<18>()?),
        };
        Ok(ScramServer {
            hash,
            server_nonce,
            success_data: options.success_data,
            plus_offered: options.scram_plus_offered,
            state: ServerState::Start,
        })
    }

    /// Made-up but stable keys for a user that does not exist: the salt is an
    /// HMAC of the user name under a per-process random key, so repeated
    /// attempts see the same salt, as for a real user; the iteration count is
    /// the store's [`CredentialStore::unknown_user_iterations`]. No password
    /// matches the keys, and the exchange still does all the work of a real
    /// check before it fails (RFC 5802 section 5.1: the server should not
    /// reveal whether the user exists).
    fn fake_keys(&self, user: &str, iterations: u32) -> Result<ScramKeys, SaslError> {
        let key = unknown_user_key()?;
        let salt = self.hash.hmac(key, &[user.as_bytes()])[..16].to_vec();
        let salted = self.hash.hmac(key, &[&salt]);
        Ok(ScramKeys::from_salted(
            self.hash,
            salt,
            iterations.max(1),
            &salted,
        ))
    }

    fn client_first(&mut self, msg: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let msg =
            std::str::from_utf8(msg).map_err(|_| SaslError::Malformed("SCRAM client-first is not UTF-8"))?;
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        let (flag, rest) = msg
            .split_once(',')
            .ok_or(SaslError::Malformed("SCRAM client-first lacks a GS2 header"))?;
        match flag {
            // `y`: the client thinks we do not support channel binding; if we
            // offer -PLUS that is a downgrade.
            "y" if self.plus_offered => return Err(SaslError::AuthenticationFailed),
            "n" | "y" => {}
            // RFC 5802 section 7: `cb-name = 1*(ALPHA / DIGIT / "." / "-")`;
            // a valid name is a type we do not support (section 6: fail), an
            // invalid one is a bad flag.
            f if f.strip_prefix("p=").is_some_and(|name| {
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            }) =>
            {
                return Err(SaslError::Unsupported(
                    "SCRAM channel binding (p=, the -PLUS mechanisms)",
                ));
            }
            _ => return Err(SaslError::Malformed("bad SCRAM channel binding flag")),
        }
        let (authzid, bare) = rest
            .split_once(',')
            .ok_or(SaslError::Malformed("SCRAM client-first lacks a GS2 header"))?;
        let authzid = match authzid {
            "" => None,
            a => Some(unescape_saslname(
                a.strip_prefix("a=")
                    .ok_or(SaslError::Malformed("bad SCRAM GS2 authzid"))?,
            )?),
        };
        let gs2_len = msg.len() - bare.len();
        if bare.starts_with("m=") {
            return Err(SaslError::Unsupported("SCRAM mandatory extension (m=)"));
        }
        let mut parts = bare.split(',');
        let user = unescape_saslname(attr(parts.next(), 'n', "SCRAM client-first lacks n=")?)?;
        let cnonce = attr(parts.next(), 'r', "SCRAM client-first lacks r=")?;
        check_extensions(parts)?;
        if !is_printable_nonce(cnonce) {
            return Err(SaslError::Malformed("SCRAM client nonce is not printable"));
        }
        // RFC 5802 section 5.1: abort if preparation fails or leaves nothing
        // (the user name is a query). An unchanged name is kept, not copied.
        let mut user = user;
        match saslprep::prepare_name(&user) {
            Some(std::borrow::Cow::Owned(p)) => user = p,
            Some(std::borrow::Cow::Borrowed(_)) => {}
            None => return Err(SaslError::AuthenticationFailed),
        }
        let (keys, known) = match store.scram_keys(self.hash, &user) {
            // Keys no client can use (or for another hash) are the
            // application's mistake: fail here rather than send `s=,i=0`
            // (RFC 5802 section 7) or run on as for an unknown user.
            Some(k) => {
                k.check_for(self.hash)?;
                (k, true)
            }
            None => (self.fake_keys(&user, store.unknown_user_iterations())?, false),
        };
        // server-first-message = "r=" nonce ",s=" salt ",i=" iteration-count,
        // written into one buffer of the right size.
        let nonce_len = cnonce.len() + self.server_nonce.len();
        let salt_len = base64::encoded_len(keys.salt.len(), true).unwrap_or(0);
        let mut server_first = String::with_capacity(2 + nonce_len + 3 + salt_len + 3 + 10);
        server_first.push_str("r=");
        server_first.push_str(cnonce);
        server_first.push_str(&self.server_nonce);
        server_first.push_str(",s=");
        B64.encode_string(&keys.salt, &mut server_first);
        server_first.push_str(",i=");
        // Writing to a String cannot fail; the capacity above holds the digits.
        let _ = std::fmt::Write::write_fmt(&mut server_first, format_args!("{}", keys.iterations));
        let challenge = server_first.as_bytes().to_vec();
        self.state = ServerState::SentFirst {
            user,
            authzid,
            client_first: msg.to_owned(),
            gs2_len,
            server_first,
            nonce_len,
            keys,
            known,
        };
        Ok(ServerStep::Challenge(challenge))
    }

    fn client_final(&mut self, msg: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        let ServerState::SentFirst {
            user,
            authzid,
            client_first,
            gs2_len,
            server_first,
            nonce_len,
            keys,
            known,
        } = std::mem::replace(&mut self.state, ServerState::Start)
        else {
            return Err(SaslError::WrongState("no SCRAM client-final expected now"));
        };
        let msg =
            std::str::from_utf8(msg).map_err(|_| SaslError::Malformed("SCRAM client-final is not UTF-8"))?;
        let (without_proof, proof) = msg
            .rsplit_once(",p=")
            .ok_or(SaslError::Malformed("SCRAM client-final lacks p="))?;
        let mut parts = without_proof.split(',');
        let cbind = attr(parts.next(), 'c', "SCRAM client-final lacks c=")?;
        let final_nonce = attr(parts.next(), 'r', "SCRAM client-final lacks r=")?;
        check_extensions(parts)?;
        let (gs2_header, client_first_bare) = client_first.split_at(gs2_len);
        let nonce = &server_first[2..2 + nonce_len];
        // Without -PLUS the channel binding is exactly the GS2 header of
        // client-first: compared as its (canonical) base64, so nothing is
        // decoded onto the heap; a value that differs is decoded only to tell
        // malformed input from a mismatch.
        let cbind_ok = is_base64_of(cbind, gs2_header.as_bytes());
        if !cbind_ok && B64.decode(cbind).is_err() {
            return Err(SaslError::Malformed("SCRAM channel binding is not base64"));
        }
        // The proof is as long as the hash output, at most 32 octets (44
        // base64 characters); decoded on the stack.
        let mut proof_buf = [0u8; 48];
        if proof.len() > 64 {
            return Err(SaslError::Malformed("SCRAM proof has the wrong length"));
        }
        let proof_len = B64
            .decode_slice(proof, &mut proof_buf)
            .map_err(|_| SaslError::Malformed("SCRAM proof is not base64"))?;
        if proof_len != self.hash.output_len() {
            return Err(SaslError::Malformed("SCRAM proof has the wrong length"));
        }
        if !cbind_ok || final_nonce != nonce {
            return Err(SaslError::AuthenticationFailed);
        }
        // AuthMessage = client-first-message-bare "," server-first-message ","
        // client-final-message-without-proof, fed to HMAC part by part.
        let auth_message: [&[u8]; 5] = [
            client_first_bare.as_bytes(),
            b",",
            server_first.as_bytes(),
            b",",
            without_proof.as_bytes(),
        ];
        let client_signature = self.hash.hmac(keys.stored_key.expose(), &auth_message);
        let client_key = xor(&proof_buf[..proof_len], &client_signature);
        let proof_ok = ct_eq(&self.hash.h(&client_key), keys.stored_key.expose());
        if !(proof_ok & known) {
            return Err(SaslError::AuthenticationFailed);
        }
        let identity = authorized(store, user, authzid.as_deref())?;
        let server_signature = self.hash.hmac(keys.server_key.expose(), &auth_message);
        let mut server_final = String::with_capacity(2 + 44);
        server_final.push_str("v=");
        B64.encode_string(&*server_signature, &mut server_final);
        let server_final = server_final.into_bytes();
        if self.success_data {
            return Ok(ServerStep::Success {
                identity,
                additional_data: Some(server_final),
            });
        }
        self.state = ServerState::SentFinal { identity };
        Ok(ServerStep::Challenge(server_final))
    }
}

impl ServerSteps for ScramServer {
    fn mechanism(&self) -> Mechanism {
        self.hash.mechanism()
    }

    fn start(&mut self, ir: Option<&[u8]>, store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match ir {
            None => Ok(ServerStep::Challenge(Vec::new())),
            Some(msg) => self.client_first(msg, store),
        }
    }

    fn step(&mut self, response: &[u8], store: &dyn CredentialStore) -> Result<ServerStep, SaslError> {
        match std::mem::replace(&mut self.state, ServerState::Start) {
            ServerState::Start => self.client_first(response, store),
            s @ ServerState::SentFirst { .. } => {
                self.state = s;
                self.client_final(response, store)
            }
            ServerState::SentFinal { identity } => {
                if !response.is_empty() {
                    return Err(SaslError::Malformed(
                        "SCRAM expects an empty answer to server-final",
                    ));
                }
                Ok(ServerStep::Success {
                    identity,
                    additional_data: None,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saslname_escaping_round_trips() {
        assert_eq!(escape_saslname("a,b=c"), "a=2Cb=3Dc");
        assert_eq!(unescape_saslname("a=2Cb=3Dc").unwrap(), "a,b=c");
        assert!(unescape_saslname("a=2").is_err());
        assert!(unescape_saslname("a=41").is_err());
        assert!(unescape_saslname("").is_err());
    }

    #[test]
    fn iteration_counts() {
        assert_eq!(parse_iterations("4096"), Some(4096));
        assert_eq!(parse_iterations("04096"), None);
        assert_eq!(parse_iterations("0"), None);
        assert_eq!(parse_iterations("-1"), None);
        assert_eq!(parse_iterations("99999999999"), None);
    }

    #[test]
    fn rfc5803_round_trip() {
        let keys = ScramKeys::derive(ScramHash::Sha256, "pencil", b"salt", 16).unwrap();
        let text = keys.to_rfc5803();
        assert!(text.expose().starts_with("SCRAM-SHA-256$16:c2FsdA==$"));
        assert_eq!(ScramKeys::from_rfc5803(text.expose()).unwrap(), keys);
        assert!(ScramKeys::from_rfc5803("SCRAM-SHA-256$16:c2FsdA==$AA==:AA==").is_err());
        assert!(ScramKeys::from_rfc5803("nonsense").is_err());
    }
}
