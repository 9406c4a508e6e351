//! Sans-IO FTP: the control-connection codec, client and server sessions that
//! tell the driver when and where to open data connections, directory
//! listing parsers and writers, and the TYPE A line-ending codec.
//!
//! Nothing here touches a socket or reads the clock. The pieces:
//!
//! * [`Command`] (RFC 959 plus AUTH/PBSZ/PROT/CCC/ADAT of RFC 2228/4217,
//!   FEAT/OPTS of RFC 2389, EPRT/EPSV of RFC 2428, SIZE/MDTM/MLST/MLSD/REST
//!   STREAM of RFC 3659, LANG of RFC 2640, HOST of RFC 7151, MFMT, the X*
//!   aliases): parse and encode, borrowing from the line, refusing LF/NUL
//!   and CR, except a CR in a pathname, which travels as CR NUL (RFC 2640
//!   3.1; see [`command::unpad_cr`]).
//! * [`Reply`]: single and multi-line replies (RFC 959 4.2), parsed without
//!   allocation; typed readers for FEAT, PASV, EPSV, 257, SIZE and MDTM in [`reply`].
//! * [`list`]: MLSx entries, Unix `ls -l`, DOS/IIS lines and a raw fallback;
//!   writers of MLSx and `ls -l` lines for servers.
//! * [`AsciiDecoder`]/[`AsciiEncoder`]: TYPE A CRLF conversion over chunks.
//! * [`ServerSession`] and [`ClientSession`]: the `proto_core::Session` contract.
//!
//! Data connections are events: the server emits
//! [`ServerEvent::OpenDataChannel`] with a [`server::DataMode`]
//! (`Passive | Active(addr) | ExtendedPassive | ExtendedActive(addr)`) and the
//! driver reports back `data_connected` / `data_finished` / `data_failed`.
//!
//! # Example: a client downloads a file from a server, in memory
//!
//! ```
//! use ftp_proto::client::{ClientEvent, ClientTls, DataTarget};
//! use ftp_proto::server::{ServerEvent, Outcome};
//! use ftp_proto::{ClientConfig, ClientSession, ServerConfig, ServerSession};
//! use proto_core::{Secret, transfer};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let client_addr = "192.0.2.10:40000".parse().unwrap();
//! let server_addr = "192.0.2.1:21".parse().unwrap();
//! let mut server = ServerSession::new(ServerConfig::default(), client_addr, now);
//! let config = ClientConfig {
//!     user: b"alice".to_vec(),
//!     password: Secret::new(b"secret".to_vec()),
//!     tls: ClientTls::Never, // the driver here has no TLS to offer
//!     ..ClientConfig::default()
//! };
//! let mut client = ClientSession::new(config, server_addr, now);
//!
//! let file = b"hello, world\n".to_vec();
//! let mut received = Vec::new();
//! let mut logged_in = false;
//! let mut done = false;
//! for _ in 0..100 {
//!     transfer(&mut server, &mut client, 7);
//!     while let Some(ev) = client.poll_event().unwrap() {
//!         match ev {
//!             ClientEvent::LoggedIn => {
//!                 logged_in = true;
//!                 client.retr(b"/pub/hello.txt", 0).unwrap();
//!             }
//!             ClientEvent::OpenDataChannel { id, target, .. } => {
//!                 // The driver would connect to the server's data port here.
//!                 assert_eq!(target, DataTarget::Connect("192.0.2.1:50000".parse().unwrap()));
//!                 received.extend_from_slice(&file); // what the data connection carries
//!                 client.data_closed(id).unwrap();
//!             }
//!             ClientEvent::TransferComplete { .. } => done = true,
//!             _ => {}
//!         }
//!     }
//!     transfer(&mut client, &mut server, 5);
//!     while let Some(ev) = server.poll_event().unwrap() {
//!         match ev {
//!             ServerEvent::Login { password, .. } => {
//!                 if password.expose() == b"secret" { server.login_accept().unwrap() }
//!                 else { server.login_reject(now).unwrap() }
//!             }
//!             ServerEvent::PassiveListen { .. } => {
//!                 server.passive_ready("192.0.2.1:50000".parse().unwrap()).unwrap();
//!             }
//!             ServerEvent::OpenDataChannel { transfer, .. } => {
//!                 assert_eq!(transfer.path.as_deref(), Some(&b"/pub/hello.txt"[..]));
//!                 server.data_connected(transfer.id).unwrap();
//!                 server.data_finished(transfer.id, file.len() as u64).unwrap();
//!             }
//!             ServerEvent::Request(_) => server.complete(Outcome::Ok).unwrap(),
//!             _ => {}
//!         }
//!     }
//!     if done { break; }
//! }
//! assert!(logged_in && done);
//! assert_eq!(received, file);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ascii;
pub mod client;
pub mod command;
pub mod error;
pub mod fuzzing;
pub mod limits;
pub mod list;
mod parse;
pub mod reply;
pub mod server;
mod telnet;
mod time;

pub use ascii::{AsciiDecoder, AsciiEncoder};
pub use client::{ClientConfig, ClientEvent, ClientSession};
pub use command::{
    Command, EpsvArg, FormatControl, Password, ProtLevel, Structure, TransferMode, TransferType,
};
pub use error::{CommandError, EncodeError, Error, ErrorKind, ListError, ReplyError, UsageError};
pub use limits::Limits;
pub use reply::{OwnedReply, Reply, ReplyConfig, ReplyScan};
pub use server::{ServerConfig, ServerEvent, ServerSession};
pub use time::Timestamp;
