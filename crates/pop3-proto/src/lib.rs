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
//! * [`client`]: [`ClientSession`], which logs in by the best method (SASL
//!   through the `sasl` crate, APOP, USER/PASS; STLS first when required or
//!   offered), pipelines commands, streams RETR/TOP and downloads a maildrop in
//!   "keep", "delete" or "fetch only new" (UIDL) mode.
//! * [`fuzzing`]: the invariants the fuzz targets and the replay test check.
//! * [`limits`]: [`Limits`] with the RFC defaults (255-octet commands,
//!   512-octet response lines, 10-minute autologout).
//!
//! # Design notes
//!
//! * Parsers are small hand-written functions over one framed line (see
//!   `parse/`), not nom combinators: POP3's grammar is a keyword and
//!   space-separated tokens, and the framer ([`proto_core::LineFramer`]) has
//!   already cut and bounded the line, so there is nothing for a combinator
//!   library to add but overhead.
//! * Strict by default: only CRLF ends a line (a bare CR or LF in a command is
//!   answered `-ERR`), keywords match in full, base64 is strict (RFC 5034 4).
//!   Message bodies are the exception on the client side: a bare CR or LF
//!   inside a RETR body is delivered as content, since only CRLF "." CRLF can
//!   end the body anyway; the server normalises bare LF in stored messages to
//!   CRLF when it stuffs them.
//! * The server never deletes anything on its own: DELE marks, and only QUIT in
//!   TRANSACTION produces [`ServerEvent::Update`].
//!
//! Nothing here does I/O or reads the clock: a driver moves bytes and passes
//! the time in (see [`proto_core::Session`]).
//!
//! # Example: client and server, in memory
//!
//! ```
//! use pop3_proto::{
//!     AuthOutcome, ClientConfig, ClientEvent, ClientSession, Credentials, FetchMode, Maildrop,
//!     MessageInfo, ServerConfig, ServerEvent, ServerSession, TlsMode,
//! };
//! use proto_core::{Secret, Session, transfer};
//! use std::time::Instant;
//!
//! let message = b"Subject: hi\r\n\r\n.a line with a leading dot\r\n";
//! let now = Instant::now();
//! let mut server_config = ServerConfig::default();
//! server_config.tls_active = true; // port 995; USER/PASS needs TLS by default
//! let mut server = ServerSession::new(server_config, now);
//! let mut client_config = ClientConfig::new(Credentials {
//!     username: "alice".into(),
//!     password: Some(Secret::new("secret".into())),
//!     ..Credentials::default()
//! });
//! client_config.tls = TlsMode::Implicit;
//! let mut client = ClientSession::new(client_config, now);
//!
//! let (mut body, mut deleted, mut done) = (Vec::new(), Vec::new(), false);
//! while !done {
//!     transfer(&mut server, &mut client, 64);
//!     transfer(&mut client, &mut server, 64);
//!     while let Some(ev) = server.poll_event().unwrap() {
//!         match ev {
//!             ServerEvent::Login { user, password } => {
//!                 let ok = &user[..] == b"alice" && &password.expose()[..] == b"secret";
//!                 assert!(ok);
//!                 let messages = vec![MessageInfo { size: message.len() as u64, uid: "m1".into() }];
//!                 server.auth_finish(AuthOutcome::Success(Maildrop { messages })).unwrap();
//!             }
//!             ServerEvent::Retrieve { index: 0, .. } => {
//!                 server.message_data(message).unwrap();
//!                 server.message_end().unwrap();
//!             }
//!             ServerEvent::Update { delete } => {
//!                 deleted = delete;
//!                 server.update_finish(Ok(())).unwrap();
//!             }
//!             _ => {}
//!         }
//!     }
//!     while let Some(ev) = client.poll_event().unwrap() {
//!         match ev {
//!             ClientEvent::LoggedIn(_) => client.fetch(FetchMode::Delete).unwrap(),
//!             ClientEvent::MessageData(chunk) => body.extend_from_slice(&chunk),
//!             ClientEvent::FetchDone { .. } => client.quit().unwrap(),
//!             ClientEvent::Closed { quit_ok } => done = quit_ok,
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(body, message);
//! assert_eq!(deleted, [1]);
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
    Capabilities, LanguageListing, ResponseCode, ScanListing, ServerLine, StatInfo, Status, StatusLine, Uid,
    UidListing, is_valid_uid,
};
pub use server::{
    AuthOutcome, CloseReason, LoginFailure, Maildrop, MessageInfo, ServerConfig, ServerEvent, ServerSession,
};
