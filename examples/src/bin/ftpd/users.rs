//! Accounts: `--user NAME:PASSWORD[:rw|ro]`, anonymous access, the demo account.

use proto_core::ct_eq;
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) password: String,
    pub(crate) writable: bool,
}

/// Parses `NAME:PASSWORD[:rw|ro]` (read-write when the suffix is missing).
/// The password may itself contain `:`; only a final `:rw`/`:ro` is a mode.
pub(crate) fn parse_user(spec: &str) -> Result<User, String> {
    let (name, rest) = spec
        .split_once(':')
        .ok_or_else(|| format!("--user {spec:?}: expected NAME:PASSWORD[:rw|ro]"))?;
    let (password, writable) = if let Some(p) = rest.strip_suffix(":rw") {
        (p, true)
    } else if let Some(p) = rest.strip_suffix(":ro") {
        (p, false)
    } else {
        (rest, true)
    };
    if name.is_empty() || password.is_empty() {
        return Err(format!("--user {spec:?}: empty name or password"));
    }
    if name.eq_ignore_ascii_case("anonymous") || name.eq_ignore_ascii_case("ftp") {
        return Err(format!("--user {spec:?}: use --anonymous for anonymous access"));
    }
    Ok(User {
        name: name.to_owned(),
        password: password.to_owned(),
        writable,
    })
}

/// The account table.
#[derive(Debug, Clone)]
pub(crate) struct Users {
    users: Vec<User>,
    anonymous: bool,
}

impl Users {
    pub(crate) fn new(users: Vec<User>, anonymous: bool) -> Self {
        Users { users, anonymous }
    }

    /// Checks a login; `Some(writable)` when it is good. Every account's
    /// password is compared (in constant time) so timing says nothing about names.
    pub(crate) fn check(&self, name: &[u8], password: &[u8], anonymous: bool) -> Option<bool> {
        if anonymous {
            return self.anonymous.then_some(false);
        }
        let mut found = None;
        for u in &self.users {
            let pw_ok = ct_eq(u.password.as_bytes(), password);
            if u.name.as_bytes() == name && pw_ok {
                found = Some(u.writable);
            }
        }
        found
    }
}

/// A demo password that is different on every start (no rand crate here:
/// the clock, the process id and an address hashed with SHA-256).
pub(crate) fn demo_password() -> String {
    let mut h = Sha256::new();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    let local = 0u8;
    h.update(format!("{:p}", &local).as_bytes());
    let digest = h.finalize();
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    digest
        .iter()
        .take(12)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_specs() {
        assert_eq!(
            parse_user("alice:secret").unwrap(),
            User {
                name: "alice".into(),
                password: "secret".into(),
                writable: true
            }
        );
        let u = parse_user("bob:a:b:ro").unwrap();
        assert_eq!((u.password.as_str(), u.writable), ("a:b", false));
        assert!(parse_user("carol:x:rw").unwrap().writable);
        assert!(parse_user("nopass").is_err());
        assert!(parse_user(":pw").is_err());
        assert!(parse_user("anonymous:x").is_err());
    }

    #[test]
    fn logins() {
        let users = Users::new(
            vec![parse_user("alice:pw").unwrap(), parse_user("bob:pw2:ro").unwrap()],
            false,
        );
        assert_eq!(users.check(b"alice", b"pw", false), Some(true));
        assert_eq!(users.check(b"bob", b"pw2", false), Some(false));
        assert_eq!(users.check(b"alice", b"pw2", false), None);
        assert_eq!(users.check(b"eve", b"pw", false), None);
        assert_eq!(users.check(b"anonymous", b"a@b", true), None);
        let anon = Users::new(vec![], true);
        assert_eq!(anon.check(b"ftp", b"", true), Some(false));
        assert_eq!(demo_password().len(), 12);
    }
}
