//! Application pieces for the example programs (mail store, queue, FTP file
//! tree) live here; the protocol crates never hold application state.
//!
//! So far: [`maildir`] (Maildir delivery, listing, flags, the POP3 maildrop
//! lock), [`spool`] (the durable relay queue with its retry schedule) and
//! [`tls`] (rustls acceptors and connectors, self-signed certificates). The
//! programs (maild, smtp-send, pop3-fetch, ftpd, ftp) land with their issues.
#![forbid(unsafe_code)]

pub mod maildir;
pub mod spool;
pub mod tls;
