//! Sans-IO SMTP (RFC 5321), ESMTP extensions and LMTP (RFC 2033): codec and sessions.
//!
//! # Overview
//!
//! * **Codec.** [`Command`] parses and encodes every command (HELO, EHLO, LHLO,
//!   MAIL, RCPT, DATA, BDAT, RSET, VRFY, EXPN, HELP, NOOP, QUIT, STARTTLS, AUTH,
//!   ETRN; BURL is recognised and answered 502), with typed MAIL/RCPT
//!   parameters ([`MailParams`], [`RcptParams`]) and paths ([`ReversePath`],
//!   [`ForwardPath`], [`Mailbox`], [`Host`]). Parsing borrows from the line and
//!   allocates nothing. [`Reply`] parses and encodes single and multi-line
//!   replies with [`EnhancedCode`]s; [`Capabilities`] types the EHLO keywords
//!   ([`EhloKeyword`]). Encoders refuse CR, LF and NUL in arguments
//!   ([`proto_core::check_arg`]).
//! * **[`ServerSession`]** runs the server side: command order (503), syntax
//!   (500/501/502), PIPELINING with Postfix-style synchronisation checks,
//!   DATA and BDAT streamed as `DataStart`/`DataChunk`/`DataEnd` under a size
//!   limit, STARTTLS with discarding of pipelined plaintext, AUTH steps, LMTP,
//!   and the RFC 5321 4.5.3.2 timeouts. Once its buffers have grown to their
//!   working size, a whole transaction (MAIL, RCPTs, DATA, body chunks as
//!   slices of the input, the default replies) allocates nothing
//!   (`tests/alloc.rs` checks it).
//! * **[`ClientSession`]** drives a submission or relay: EHLO/HELO, STARTTLS,
//!   AUTH through the `sasl` crate, pipelined MAIL/RCPT/DATA or BDAT,
//!   per-recipient results, dot-stuffing as the body streams, several messages,
//!   giving a message up mid-body ([`ClientSession::abort_message`]), QUIT.
//! * [`Limits`] and [`Timeouts`] hold every limit with the RFC defaults
//!   (RFC 5321 4.5.3): both sessions refuse over-long command and reply
//!   lines, whether they read them or are asked to send them (a server
//!   application's reply with a line over 512 octets is refused by the call
//!   that gives it), and the client refuses body text lines over 1000 octets
//!   unless told otherwise.
//!
//! Parsers are hand-written cursor loops over one framed line instead of nom
//! combinators (see the `parse` module): the grammar is flat, and direct loops
//! keep the command hot path free of allocation and backtracking.
//!
//! # Example: a client and a server talking in memory
//!
//! ```
//! use smtp_proto::{ClientConfig, ClientEvent, ClientSession, Envelope, Recipient};
//! use smtp_proto::{ServerConfig, ServerEvent, ServerSession};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let mut server = ServerSession::new(ServerConfig::default(), now);
//! let mut client = ClientSession::new(ClientConfig::default(), now);
//! let mut received = Vec::new();
//! let mut results = Vec::new();
//! let body = b"Subject: hello\r\n\r\n.a line with a leading dot\r\n";
//! let mut sent = false;
//!
//! for _ in 0..50 {
//!     proto_core::transfer(&mut server, &mut client, 1024);
//!     while let Some(ev) = client.poll_event().unwrap() {
//!         match ev {
//!             ClientEvent::Ready if !sent => {
//!                 sent = true;
//!                 let env = Envelope {
//!                     from: "alice@example.test".into(),
//!                     recipients: vec![Recipient::new("bob@example.test")],
//!                     ..Envelope::default()
//!                 };
//!                 client.send_mail(env, now).unwrap();
//!             }
//!             ClientEvent::SendBody => {
//!                 assert_eq!(client.send_data(body).unwrap(), body.len());
//!                 client.finish_data().unwrap();
//!             }
//!             ClientEvent::MessageResult(replies) => {
//!                 results.extend(replies);
//!                 client.quit(now).unwrap();
//!             }
//!             _ => {}
//!         }
//!     }
//!     proto_core::transfer(&mut client, &mut server, 1024);
//!     while let Some(ev) = server.poll_event().unwrap() {
//!         match ev {
//!             ServerEvent::Mail(_) | ServerEvent::Rcpt(_) => server.accept().unwrap(),
//!             ServerEvent::DataChunk(chunk) => received.extend_from_slice(&chunk),
//!             ServerEvent::DataEnd => server.accept().unwrap(),
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(received, body);
//! assert_eq!(results[0].code(), 250);
//! assert!(client.is_closed() && server.is_closed());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod command;
pub mod error;
pub mod limits;
mod parse;
pub mod reply;

pub use command::{
    AuthLine, BodyType, Command, ForwardPath, Host, MailParams, Mailbox, Notify, Orcpt, OtherParams,
    RcptParams, Ret, ReversePath, XText,
};
pub use error::{CommandError, EncodeError, Error, ErrorKind, ReplyError, UsageError};
pub use limits::{Limits, Shortfall, Timeouts};
pub use reply::{
    Capabilities, EhloKeyword, EnhancedCode, Extension, Reply, ReplyLine, ReplyParser, check_reply_text,
};

pub mod server;
pub use server::{AbortReason, AuthOutcome, CommandLine, HeloKind, ServerConfig, ServerEvent, ServerSession};

pub mod client;
pub use client::{ClientConfig, ClientEvent, ClientSession, Envelope, Recipient, TlsPolicy};
pub mod checks;
