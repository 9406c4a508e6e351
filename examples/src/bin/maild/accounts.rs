//! Accounts: addresses with SCRAM-SHA-256 keys (never the password), kept in
//! `<data>/accounts` (one `address<TAB>RFC 5803 key string` per line, mode
//! 0600), plus the local domains.

use sasl::{CredentialStore, ScramHash, ScramKeys, Secret};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// PBKDF2 iterations for new keys (RFC 7677 asks for at least 4096).
const ITERATIONS: u32 = 4096;

/// The account table and the domains this server is final destination for.
#[derive(Debug)]
pub(crate) struct Accounts {
    users: BTreeMap<String, ScramKeys>,
    domains: Vec<String>,
    file: PathBuf,
}

/// Splits `address:password` (the password may contain `:`).
pub(crate) fn parse_user(spec: &str) -> Result<(String, String), String> {
    let (addr, password) = spec
        .split_once(':')
        .ok_or_else(|| format!("--user {spec:?}: expected ADDRESS:PASSWORD"))?;
    let addr = normalize_address(addr)
        .ok_or_else(|| format!("--user {addr:?}: not a plain local@domain address"))?;
    if password.is_empty() {
        return Err(format!("--user {addr}: empty password"));
    }
    // The password is kept (as SCRAM keys), so it must be a SASLprep stored
    // string (RFC 3454 section 7, RFC 5802 section 2.2): no prohibited
    // character and no code point Unicode 3.2 left unassigned.
    if sasl::saslprep::saslprep_with(password, sasl::saslprep::Profile::Stored).is_err() {
        return Err(format!(
            "--user {addr}: the password holds a character SASLprep does not allow in a stored password"
        ));
    }
    Ok((addr, password.to_owned()))
}

/// Lower-cases `local@domain` and checks it is safe as a directory name.
pub(crate) fn normalize_address(addr: &str) -> Option<String> {
    let addr = addr.trim().to_ascii_lowercase();
    let (local, domain) = addr.rsplit_once('@')?;
    let ok_local = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-=?^_`{|}~.".contains(&b));
    let ok_domain = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !domain.starts_with('.');
    (ok_local && ok_domain).then_some(addr)
}

/// A fresh random password (12 characters, no look-alikes).
pub(crate) fn random_password() -> io::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 12];
    fs::File::open("/dev/urandom")?.read_exact(&mut raw)?;
    Ok(raw
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// Writes `data` to `path` durably with mode 0600 (temporary file, fsync, rename).
pub(crate) fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

impl Accounts {
    /// Loads `<data_dir>/accounts` (missing: empty).
    pub(crate) fn load(data_dir: &Path, domains: Vec<String>) -> io::Result<Self> {
        let file = data_dir.join("accounts");
        let mut users = BTreeMap::new();
        match fs::read_to_string(&file) {
            Ok(text) => {
                for (n, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let parsed = line.split_once('\t').and_then(|(a, k)| {
                        Some((normalize_address(a)?, ScramKeys::from_rfc5803(k.trim()).ok()?))
                    });
                    match parsed {
                        Some((addr, keys)) => {
                            users.insert(addr, keys);
                        }
                        None => {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("{} line {}: bad account line", file.display(), n + 1),
                            ));
                        }
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut accounts = Accounts {
            users,
            domains: Vec::new(),
            file,
        };
        for d in domains {
            accounts.add_domain(&d);
        }
        Ok(accounts)
    }

    /// Adds a local domain (lower-cased, no duplicates).
    pub(crate) fn add_domain(&mut self, domain: &str) {
        let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if !d.is_empty() && !self.domains.contains(&d) {
            self.domains.push(d);
        }
    }

    /// The first local domain (the default for bare user names).
    pub(crate) fn primary_domain(&self) -> &str {
        self.domains.first().map_or("localhost", String::as_str)
    }

    /// Every local domain.
    pub(crate) fn domains(&self) -> &[String] {
        &self.domains
    }

    /// Creates or updates an account; returns true if anything changed. The
    /// stored keys are kept when the password still matches them.
    pub(crate) fn set(&mut self, address: &str, password: &str) -> io::Result<bool> {
        if let Some(keys) = self.users.get(address)
            && keys.verify_password(&Secret::new(password.to_owned())) == Ok(true)
        {
            return Ok(false);
        }
        let keys = ScramKeys::generate(ScramHash::Sha256, password, ITERATIONS)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        if let Some((_, domain)) = address.rsplit_once('@') {
            self.add_domain(domain);
        }
        self.users.insert(address.to_owned(), keys);
        Ok(true)
    }

    /// Writes the table to disk (0600, durably).
    pub(crate) fn save(&self) -> io::Result<()> {
        let mut text = String::from("# maild accounts: address, then SCRAM-SHA-256 keys (RFC 5803)\n");
        for (addr, keys) in &self.users {
            text.push_str(addr);
            text.push('\t');
            text.push_str(keys.to_rfc5803().expose());
            text.push('\n');
        }
        write_private(&self.file, text.as_bytes())
    }

    /// True when no account exists.
    pub(crate) fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Every account address, sorted.
    pub(crate) fn addresses(&self) -> impl Iterator<Item = &String> {
        self.users.keys()
    }

    /// Account domains are local too.
    pub(crate) fn adopt_account_domains(&mut self) {
        let ds: Vec<String> = self
            .users
            .keys()
            .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_owned()))
            .collect();
        for d in ds {
            self.add_domain(&d);
        }
    }

    /// True for a domain this server delivers locally.
    pub(crate) fn is_local_domain(&self, domain: &str) -> bool {
        let d = domain.trim_end_matches('.');
        self.domains.iter().any(|x| x.eq_ignore_ascii_case(d))
    }

    /// The account a login name or recipient names: `user@domain` as is, or
    /// a bare `user` in the primary domain.
    pub(crate) fn resolve(&self, name: &str) -> Option<String> {
        let lower = name.trim().to_ascii_lowercase();
        let full = if lower.contains('@') {
            lower
        } else {
            format!("{lower}@{}", self.primary_domain())
        };
        self.users.contains_key(&full).then_some(full)
    }

    /// Who gets mail for `postmaster`: the postmaster account of the primary
    /// domain if there is one, else the first account.
    pub(crate) fn postmaster(&self) -> Option<String> {
        self.resolve("postmaster")
            .or_else(|| self.users.keys().next().cloned())
    }
}

impl CredentialStore for Accounts {
    fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        if hash != ScramHash::Sha256 {
            return None;
        }
        self.resolve(authcid).and_then(|a| self.users.get(&a).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_users() {
        assert_eq!(
            normalize_address("Alice@Example.TEST").as_deref(),
            Some("alice@example.test")
        );
        assert!(normalize_address("../x@y").is_none());
        assert!(normalize_address("a/b@y").is_none());
        assert!(normalize_address("nodomain").is_none());
        assert_eq!(
            parse_user("bob@b.test:pa:ss").unwrap(),
            ("bob@b.test".to_owned(), "pa:ss".to_owned())
        );
        assert!(parse_user("bob@b.test:").is_err());
        // The password is stored (as SCRAM keys): SASLprep's stored-string
        // profile refuses one with a code point Unicode 3.2 left unassigned
        // (RFC 3454 section 7, RFC 5802 section 2.2), and a prohibited one.
        assert!(parse_user("bob@b.test:pass\u{0221}").is_err());
        assert!(parse_user("bob@b.test:pa\u{0007}ss").is_err());
        assert_eq!(parse_user("bob@b.test:p\u{e4}ss").unwrap().1, "p\u{e4}ss");
        let mut a = Accounts {
            users: BTreeMap::new(),
            domains: Vec::new(),
            file: PathBuf::new(),
        };
        assert!(a.set("bob@b.test", "pass\u{1F600}").is_err());
    }

    #[test]
    fn keys_round_trip_through_the_file() {
        let dir = std::env::temp_dir().join(format!("maild-accounts-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut a = Accounts::load(&dir, vec!["example.test".into()]).unwrap();
        assert!(a.set("alice@example.test", "secret").unwrap());
        assert!(
            !a.set("alice@example.test", "secret").unwrap(),
            "unchanged password keeps keys"
        );
        a.save().unwrap();
        let b = Accounts::load(&dir, vec!["example.test".into()]).unwrap();
        assert_eq!(b.resolve("ALICE").as_deref(), Some("alice@example.test"));
        assert_eq!(
            b.verify_password("alice", &Secret::new("secret".into())),
            Ok(true)
        );
        assert_eq!(
            b.verify_password("alice", &Secret::new("wrong".into())),
            Ok(false)
        );
        let text = fs::read_to_string(dir.join("accounts")).unwrap();
        assert!(!text.contains("secret"));
        let _ = fs::remove_dir_all(dir);
    }
}
