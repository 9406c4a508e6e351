//! Application pieces for the example programs (mail store, queue, FTP file
//! tree) live here; the protocol crates never hold application state.
//!
//! So far: [`durable`] (durable new files, group-committed by a writer
//! thread), [`maildir`] (Maildir delivery, listing, flags, the POP3 maildrop
//! lock), [`spool`] (the durable relay queue with its retry schedule) and
//! [`tls`] (rustls acceptors and connectors, self-signed certificates), and
//! [`net`] (a connection that can turn on TLS mid-stream, and the loop that
//! moves bytes between it and any `proto_core::Session`), and [`ftpfs`] (the
//! confined file tree behind ftpd, with rename-on-completion uploads), and
//! [`mx`] (next-hop lookup with implicit and null MX). The programs are the
//! binaries of this package: maild (SMTP, submission, LMTP, relay queue,
//! Maildir, POP3), smtp-send, pop3-fetch, ftpd and ftp.
#![forbid(unsafe_code)]

pub mod durable;
pub mod ftpfs;
pub mod maildir;
pub mod mx;
pub mod net;
pub mod spool;
pub mod tls;

/// Sends `tracing` output to stderr, filtered by `RUST_LOG` or else by
/// `default` (e.g. `"info"`). Colours only when stderr is a terminal: a log
/// redirected to a file gets plain text, not escape sequences (which also
/// cost a server a few microseconds per line).
pub fn init_logging(default: &str) {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
