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
///
/// Field values and messages carry client text (user names, addresses,
/// replies of other servers): every control character in them (C0, DEL, C1,
/// so ESC and CSI sequences, backspaces, line breaks) and every bidirectional
/// override is written as an escape (see [`escape_log_text`]), so a client
/// cannot forge, hide or recolour log lines on the terminal that shows them.
pub fn init_logging(default: &str) {
    use std::io::IsTerminal;
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .fmt_fields(
            tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
                let raw = format!("{value:?}");
                let text = escape_log_text(&raw);
                if field.name() == "message" {
                    write!(w, "{text}")
                } else {
                    write!(w, "{field}={text}")
                }
            })
            .delimited(" "),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

/// [`std::fs::create_dir_all`], except that a `path` which exists but is
/// not a directory fails as `NotADirectory` with the message "not a
/// directory" (std reports it as "File exists", which reads as if
/// existing were the problem). Callers add the path to the message.
///
/// # Errors
///
/// As [`std::fs::create_dir_all`].
pub fn create_dir_all(path: &std::path::Path) -> std::io::Result<()> {
    match std::fs::create_dir_all(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a directory",
        )),
        r => r,
    }
}

/// The SIGINT and SIGTERM streams a server stops on, in that order.
///
/// Call it before the server says it is listening or ready: the handlers
/// are installed here, so a signal sent as soon as that line appears is
/// delivered to the stream instead of killing the process (tokio's
/// `ctrl_c()` would install its handler only when first polled).
///
/// # Errors
///
/// The signal handlers cannot be installed.
pub fn stop_signals() -> std::io::Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok((signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?))
}

/// `text` with every control character (C0, DEL, C1) and every
/// bidirectional formatting character written as a `\u{..}` escape: safe to
/// put in a log line that a terminal will show.
#[must_use]
pub fn escape_log_text(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_text_escapes_controls_only() {
        assert_eq!(super::escape_log_text("plain é text"), "plain é text");
        assert_eq!(
            super::escape_log_text("a\x1b[31mb\u{9b}\n\u{202e}"),
            "a\\u{1b}[31mb\\u{9b}\\u{a}\\u{202e}"
        );
    }
}
