//! SASL (RFC 4422) mechanisms as sans-IO step machines, client and server side.
//!
//! SMTP `AUTH` (RFC 4954), POP3 `AUTH` (RFC 5034) and IMAP `AUTHENTICATE`
//! (RFC 3501, 9051) all carry SASL. The protocol crates do the base64 and the
//! continuation framing; this crate does the mechanisms, on raw bytes:
//!
//! | mechanism      | RFC         | client | server needs (from [`CredentialStore`])       |
//! |----------------|-------------|--------|-----------------------------------------------|
//! | `PLAIN`        | 4616        | yes    | password check (default: via stored SCRAM keys) |
//! | `LOGIN`        | draft       | yes    | password check (default: via stored SCRAM keys) |
//! | `CRAM-MD5`     | 2195        | yes    | the shared secret                             |
//! | `SCRAM-SHA-1`  | 5802        | yes    | stored keys ([`ScramKeys`]), no password      |
//! | `SCRAM-SHA-256`| 7677        | yes    | stored keys ([`ScramKeys`]), no password      |
//! | `XOAUTH2`      | as deployed | yes    | token check                                   |
//! | `OAUTHBEARER`  | 7628        | yes    | token check                                   |
//! | `EXTERNAL`     | 4422 app. A | yes    | the identity from TLS                         |
//! | `ANONYMOUS`    | 4505        | yes    | permission                                    |
//!
//! * Client: pick a mechanism with [`choose`] from the server's list
//!   ([`parse_mechanism_list`]), build it with [`client()`], then call
//!   [`ClientMechanism::initial_response`], [`ClientMechanism::respond`] for each
//!   challenge and [`ClientMechanism::finish`] on success.
//! * Server: build with [`server()`], call [`ServerMechanism::start`] with the
//!   initial response, then [`ServerMechanism::step`] with each answer until it
//!   returns [`ServerStep::Success`] (with the [`Identity`]) or an error.
//! * Errors ([`SaslError`]) keep malformed input, over-long input (over
//!   [`Limits::max_message_len`], 12288 octets by default as RFC 4954 requires),
//!   failed authentication and out-of-order calls apart.
//! * Passwords, tokens and every message that may contain them are wrapped in
//!   [`Secret`], whose `Debug` is redacted.
//! * [`saslprep`] is the whole of SASLprep (RFC 4013): mapping, NFKC, the
//!   prohibited tables and the bidi rules, with both profiles of RFC 3454
//!   section 7 ([`saslprep::Profile`]): what a login presents is a query,
//!   what is stored (a password set for an account, SCRAM's salted
//!   password) is a stored string, which must not hold unassigned code points.
//!
//! # Driving the client from a protocol session
//!
//! 1. `initial_response()` first. If it returns `Some` and the protocol can
//!    send an initial response (SMTP `AUTH PLAIN <b64>`, IMAP with `SASL-IR`,
//!    POP3 `AUTH PLAIN <b64>`), send it; an empty one goes out as `=`.
//! 2. For every server challenge (SMTP `334`, IMAP/POP3 `+`), base64-decode it
//!    and send back the base64 of `respond(challenge)`. If the protocol could not
//!    carry the initial response, the server asks with an empty challenge and
//!    `respond(b"")` returns it (RFC 4422 section 5), so nothing special is
//!    needed for IMAP without `SASL-IR`.
//! 3. On success call `finish(data)` with the success's additional data, if the
//!    protocol carries any; for SCRAM an `Err` means the server did not prove
//!    it knows the password and the session must not be trusted.
//! 4. On failure, [`ClientMechanism::server_error`] gives the server's error
//!    text (SCRAM `e=`, the OAuth error JSON) for the report.
//!
//! # Serving
//!
//! The application implements [`CredentialStore`] over its account database
//! and runs one [`ServerMechanism`] per `AUTH`/`AUTHENTICATE` command, feeding
//! it the decoded client messages the protocol session hands out. Errors map to
//! replies: [`SaslError::is_protocol_error`] (SMTP 501, IMAP BAD) versus
//! [`SaslError::AuthenticationFailed`] (SMTP 535, IMAP NO) versus
//! [`SaslError::StoreFailure`], stored credentials the server cannot use
//! (SMTP 454 4.7.0, POP3 `-ERR [SYS/TEMP]`, IMAP NO \[UNAVAILABLE\]; log it,
//! the operator must fix the account). Accounts are created
//! with [`ScramKeys::generate`], so no password is stored; PLAIN and LOGIN
//! check passwords against those keys. Offer the plaintext mechanisms only on
//! TLS ([`Mechanism::needs_secure_link`]).
//!
//! # Example: PLAIN, client against server, in memory
//!
//! ```
//! use sasl::{client, server, CredentialStore, Credentials, Mechanism, SaslError, Secret,
//!            ServerOptions, ServerStep};
//!
//! /// The application's account database (here: one user, plaintext for brevity).
//! struct Accounts;
//! impl CredentialStore for Accounts {
//!     // Ok(false): wrong password or unknown user; Err(SaslError::StoreFailure(..)):
//!     // the database cannot answer.
//!     fn verify_password(&self, user: &str, password: &Secret<String>) -> Result<bool, SaslError> {
//!         Ok(user == "tim" && password.expose() == "tanstaaftanstaaf")
//!     }
//! }
//!
//! let creds = Credentials::with_password("tim", "tanstaaftanstaaf");
//! let mut c = client(Mechanism::Plain, &creds).unwrap();
//! let mut s = server(Mechanism::Plain, &ServerOptions::default()).unwrap();
//!
//! let ir = c.initial_response().unwrap().expect("PLAIN sends an initial response");
//! assert_eq!(ir.expose(), b"\0tim\0tanstaaftanstaaf");
//! match s.start(Some(ir.expose()), &Accounts).unwrap() {
//!     ServerStep::Success { identity, .. } => assert_eq!(identity.authcid, "tim"),
//!     ServerStep::Challenge(_) => unreachable!("PLAIN has no challenge after the message"),
//! }
//! c.finish(None).unwrap();
//! ```
//!
//! # Example: SCRAM-SHA-256, the server stores keys, not passwords
//!
//! ```
//! use sasl::{client, server, CredentialStore, Credentials, Mechanism, ScramHash, ScramKeys,
//!            ServerOptions, ServerStep};
//!
//! struct Accounts { keys: ScramKeys }
//! impl CredentialStore for Accounts {
//!     fn scram_keys(&self, hash: ScramHash, user: &str) -> Option<ScramKeys> {
//!         (user == "user" && hash == ScramHash::Sha256).then(|| self.keys.clone())
//!     }
//! }
//! // At account creation: derive and store the keys (random salt, 4096 iterations).
//! let store = Accounts { keys: ScramKeys::generate(ScramHash::Sha256, "pencil", 4096).unwrap() };
//!
//! let mut c = client(Mechanism::ScramSha256, &Credentials::with_password("user", "pencil")).unwrap();
//! let mut s = server(Mechanism::ScramSha256, &ServerOptions::default()).unwrap();
//!
//! // Drive the exchange as a protocol session would, bytes in, bytes out.
//! let mut step = s.start(c.initial_response().unwrap().as_ref().map(|m| &m.expose()[..]), &store).unwrap();
//! let identity = loop {
//!     match step {
//!         ServerStep::Challenge(challenge) => {
//!             let answer = c.respond(&challenge).unwrap(); // verifies the server signature at the end
//!             step = s.step(answer.expose(), &store).unwrap();
//!         }
//!         ServerStep::Success { identity, additional_data } => {
//!             c.finish(additional_data.as_deref()).unwrap();
//!             break identity;
//!         }
//!     }
//! };
//! assert_eq!(identity.authcid, "user");
//!
//! // A wrong password fails at the server, with a distinct error kind.
//! let mut c = client(Mechanism::ScramSha256, &Credentials::with_password("user", "pen")).unwrap();
//! let mut s = server(Mechanism::ScramSha256, &ServerOptions::default()).unwrap();
//! let ir = c.initial_response().unwrap().unwrap();
//! let ServerStep::Challenge(first) = s.start(Some(ir.expose()), &store).unwrap() else { unreachable!() };
//! let proof = c.respond(&first).unwrap();
//! assert_eq!(s.step(proof.expose(), &store).unwrap_err(), sasl::SaslError::AuthenticationFailed);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod error;
pub mod fuzzing;
mod limits;
mod mech;
mod mechanism;
pub mod saslprep;
mod server;
mod unassigned;

pub use client::{ChannelBindingFlag, ClientMechanism, ClientOptions, Credentials, client, client_with};
pub use error::SaslError;
pub use limits::Limits;
pub use mech::scram::{ScramHash, ScramKeys};
pub use mechanism::{
    ChooseOptions, Mechanism, choose, choose_with, format_mechanism_list, is_mechanism_name,
    known_mechanisms, parse_mechanism_list,
};
pub use proto_core::Secret;
pub use server::{CredentialStore, Identity, ServerMechanism, ServerOptions, ServerStep, server};
