//! Local delivery: one Maildir per account under `<data>/mail/<address>/`,
//! and the trace header fields every delivery gets (RFC 5321 4.4).

use examples::maildir::{Delivery, Maildir};
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the mailboxes live.
#[derive(Debug)]
pub(crate) struct LocalStore {
    root: PathBuf,
    /// Accounts whose Maildir was created by this process (no more mkdirs).
    known: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl LocalStore {
    /// Mailboxes under `root` (created if needed).
    pub(crate) fn new(root: PathBuf) -> io::Result<Self> {
        examples::create_dir_all(&root)?;
        Ok(LocalStore {
            root,
            known: std::sync::Mutex::default(),
        })
    }

    /// The Maildir of an account (an address already checked by
    /// `accounts::normalize_address`, so it is a safe directory name),
    /// created on first use.
    pub(crate) fn maildir(&self, address: &str) -> io::Result<Maildir> {
        let root = self.root.join(address);
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.contains(address) {
            return Ok(Maildir::existing(root));
        }
        let md = Maildir::create(root)?;
        known.insert(address.to_owned());
        Ok(md)
    }

    /// Forgets that an account's Maildir exists (a delivery found it
    /// removed behind our back): the next delivery creates it again.
    pub(crate) fn forget(&self, address: &str) {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(address);
    }

    /// Starts a delivery to an account (recreating its Maildir if it was
    /// removed behind our back).
    pub(crate) fn begin(&self, address: &str) -> io::Result<Delivery> {
        match self.maildir(address)?.begin() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.known
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(address);
                self.maildir(address)?.begin()
            }
            r => r,
        }
    }

    /// Delivers a whole message (Return-Path first) to an account.
    pub(crate) fn deliver(&self, address: &str, return_path: &str, message: &[u8]) -> io::Result<String> {
        use std::io::Write;
        let mut d = self.begin(address)?;
        d.write_all(return_path_field(return_path).as_bytes())?;
        d.write_all(message)?;
        d.commit()
    }

    /// Delivers a whole message (Return-Path first) to an account unless
    /// it was delivered before under the same `secs` and `tag` (see
    /// `Maildir::begin_once`); true when it was delivered now.
    pub(crate) fn deliver_once(
        &self,
        address: &str,
        return_path: &str,
        message: &[u8],
        (secs, tag): (u64, &str),
    ) -> io::Result<bool> {
        use std::io::Write;
        let begun = match self.maildir(address)?.begin_once(secs, tag) {
            // Removed behind our back: made again.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.forget(address);
                self.maildir(address)?.begin_once(secs, tag)
            }
            r => r,
        };
        let Some(mut d) = begun? else {
            return Ok(false);
        };
        d.write_all(return_path_field(return_path).as_bytes())?;
        d.write_all(message)?;
        d.commit()?;
        Ok(true)
    }

    /// Removes delivery leftovers older than a day and a half (the Maildir
    /// convention) from every mailbox's `tmp/`.
    pub(crate) fn clean_tmp(&self) -> usize {
        let Ok(dirs) = std::fs::read_dir(&self.root) else {
            return 0;
        };
        dirs.filter_map(Result::ok)
            .filter_map(|d| Maildir::create(d.path()).ok())
            .filter_map(|md| md.clean_tmp(36 * 3600).ok())
            .sum()
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An RFC 5322 date for `unix` seconds (UTC).
pub(crate) fn rfc5322_date(unix: u64) -> String {
    mime::DateTime::from_unix(i64::try_from(unix).unwrap_or(0), 0).to_rfc5322()
}

/// A short unique id for trace fields and logs.
pub(crate) fn trace_id() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "{:X}{:05X}{:X}",
        now.as_secs(),
        now.subsec_micros(),
        SEQ.fetch_add(1, Ordering::Relaxed) & 0xFFFF_FFFF
    )
}

/// Keeps only printable ASCII without the characters that would end a
/// comment or a field (client-supplied names go into header fields).
pub(crate) fn sanitize(s: &[u8]) -> String {
    let clean: String = s
        .iter()
        .take(255)
        .map(|&b| {
            if (0x21..=0x7e).contains(&b) && !b"()\\;<>".contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    if clean.is_empty() { "unknown".into() } else { clean }
}

/// `Return-Path: <sender>` (empty for the null sender).
pub(crate) fn return_path_field(sender: &str) -> String {
    format!("Return-Path: <{sender}>\r\n")
}

/// What a `Received:` field records.
#[derive(Debug, Clone)]
pub(crate) struct Trace<'a> {
    /// The client's HELO/EHLO/LHLO name.
    pub(crate) helo: &'a str,
    /// The client's address.
    pub(crate) peer: IpAddr,
    /// This server's name.
    pub(crate) by: &'a str,
    /// RFC 3848 protocol: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, LMTP ...
    pub(crate) with: &'a str,
    /// Trace id.
    pub(crate) id: &'a str,
    /// The recipient, when there is exactly one.
    pub(crate) for_rcpt: Option<&'a str>,
}

impl Trace<'_> {
    /// The folded `Received:` field, CRLF included.
    pub(crate) fn field(&self, now: u64) -> String {
        let mut s = format!(
            "Received: from {} ([{}])\r\n\tby {} (maild) with {} id {}",
            sanitize(self.helo.as_bytes()),
            self.peer,
            self.by,
            self.with,
            self.id
        );
        if let Some(r) = self.for_rcpt {
            s.push_str(&format!("\r\n\tfor <{}>", sanitize(r.as_bytes())));
        }
        s.push_str(&format!(";\r\n\t{}\r\n", rfc5322_date(now)));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_field_is_safe_and_folded() {
        let t = Trace {
            helo: "evil\r\nX-Injected: 1",
            peer: "127.0.0.1".parse().unwrap(),
            by: "mx.example.test",
            with: "ESMTPS",
            id: "ABC",
            for_rcpt: Some("bob@example.test"),
        };
        let f = t.field(0);
        assert!(f.starts_with("Received: from evil??X-Injected:?1 ([127.0.0.1])\r\n\tby mx.example.test"));
        assert!(f.contains("\r\n\tfor <bob@example.test>;\r\n\tThu, 1 Jan 1970 00:00:00 +0000\r\n"));
        assert_eq!(f.matches("\r\n").count(), 4);
        assert_eq!(return_path_field(""), "Return-Path: <>\r\n");
    }
}
