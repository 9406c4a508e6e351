//! Sans-IO POP3 (RFC 1939, 2449, 2595, 3206, 5034, 6856): codec and sessions.
//!
//! # Overview
//!
//! * [`command`]: [`Command`] parse/encode for every POP3 command (keywords
//!   case-insensitive, arguments zero-copy), the AUTH continuation line
//!   [`AuthLine`] and the APOP digest helper [`apop_digest`].
//! * [`response`]: status lines with RFC 2449/3206/6856 response codes
//!   ([`StatusLine`], [`ResponseCode`]), SASL continuations, and the typed
//!   lines of multi-line answers ([`ScanListing`], [`UidListing`],
//!   [`Capabilities`], [`LanguageListing`]).
//! * [`server`]: [`ServerSession`], the AUTHORIZATION -> TRANSACTION -> UPDATE
//!   state machine with streaming RETR/TOP, STLS, SASL, APOP and autologout.
//! * [`limits`]: [`Limits`] with the RFC defaults (255-octet commands,
//!   512-octet response lines, 10-minute autologout).
//!
//! Nothing here does I/O or reads the clock: a driver moves bytes and passes
//! the time in (see [`proto_core::Session`]).
//!
//! # Example: a server session, in memory
//!
//! ```
//! use pop3_proto::{AuthOutcome, Maildrop, MessageInfo, ServerConfig, ServerEvent, ServerSession};
//! use proto_core::Session;
//! use std::time::Instant;
//!
//! let mut config = ServerConfig::default();
//! config.tls_active = true; // e.g. port 995; USER/PASS needs TLS by default
//! let mut server = ServerSession::new(config, Instant::now());
//! server.handle_input(b"USER alice\r\nPASS secret\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n");
//! let message = b"Subject: hi\r\n\r\n.dot\r\n";
//! let mut deleted = Vec::new();
//! while let Some(ev) = server.poll_event().unwrap() {
//!     match ev {
//!         ServerEvent::Login { user, password } => {
//!             assert_eq!((&user[..], &password.expose()[..]), (&b"alice"[..], &b"secret"[..]));
//!             let maildrop = Maildrop {
//!                 messages: vec![MessageInfo { size: message.len() as u64, uid: "uid-1".into() }],
//!             };
//!             server.auth_finish(AuthOutcome::Success(maildrop)).unwrap();
//!         }
//!         ServerEvent::Retrieve { index: 0, .. } => {
//!             server.message_data(message).unwrap();
//!             server.message_end().unwrap();
//!         }
//!         ServerEvent::Update { delete } => {
//!             deleted = delete;
//!             server.update_finish(Ok(())).unwrap();
//!         }
//!         _ => {}
//!     }
//! }
//! assert_eq!(deleted, [1]);
//! let wire = server.poll_transmit().unwrap();
//! assert!(wire.starts_with(b"+OK POP3 server ready\r\n+OK send PASS\r\n"));
//! assert!(wire.ends_with(b"+OK 21 octets\r\nSubject: hi\r\n\r\n..dot\r\n.\r\n+OK message 1 deleted\r\n+OK POP3 server signing off\r\n"));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod command;
pub mod error;
pub mod fuzzing;
pub mod limits;
mod parse;
pub mod response;
mod sasl_glue;
pub mod server;

pub use client::{ClientConfig, ClientEvent, ClientSession, Credentials, FetchMode, LoginMethod, TlsMode};
pub use command::{AuthLine, Command, apop_digest};
pub use error::{CommandError, EncodeError, Error, ResponseError, UsageError};
pub use limits::Limits;
pub use response::{
    Capabilities, LanguageListing, ResponseCode, ScanListing, ServerLine, StatInfo, Status, StatusLine,
    UidListing, is_valid_uid,
};
pub use server::{
    AuthOutcome, CloseReason, LoginFailure, Maildrop, MessageInfo, ServerConfig, ServerEvent, ServerSession,
};
