//! `ftp://[user[:password]@]host[:port][/path]` (RFC 1738 3.2), with
//! percent-decoding of the user, password and path, and `[v6]` hosts.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FtpUrl {
    pub(crate) tls_implicit: bool,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: Option<String>,
}

fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("bad percent escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad percent escape")?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "URL is not UTF-8 after decoding".to_owned())
}

pub(crate) fn parse(url: &str) -> Result<FtpUrl, String> {
    let (scheme, rest) = url.split_once("://").ok_or("expected ftp://host[:port][/path]")?;
    let tls_implicit = match scheme.to_ascii_lowercase().as_str() {
        "ftp" => false,
        "ftps" => true,
        other => return Err(format!("unknown scheme {other:?}")),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((n, p)) => (Some(decode(n)?), Some(decode(p)?)),
            None => (Some(decode(u)?), None),
        },
        None => (None, None),
    };
    let default_port = if tls_implicit { 990 } else { 21 };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unclosed [ in host")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| "bad port")?,
            None if after.is_empty() => default_port,
            None => return Err("junk after ]".into()),
        };
        (h.to_owned(), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| "bad port")?),
            None => (hostport.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err("empty host".into());
    }
    let path = match path {
        Some(p) if !p.is_empty() => Some(decode(p)?),
        _ => None,
    };
    Ok(FtpUrl {
        tls_implicit,
        user,
        password,
        host,
        port,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse("ftp://al%40x:p%3Aw@example.org:2121/dir/a%20b.txt").unwrap();
        assert_eq!(u.user.as_deref(), Some("al@x"));
        assert_eq!(u.password.as_deref(), Some("p:w"));
        assert_eq!((u.host.as_str(), u.port), ("example.org", 2121));
        assert_eq!(u.path.as_deref(), Some("dir/a b.txt"));
        let u = parse("ftp://[::1]/").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path), ("::1", 21, None));
        assert!(parse("ftps://h").unwrap().tls_implicit);
        assert!(parse("http://h").is_err());
        assert!(parse("ftp://h:x").is_err());
        assert!(parse("ftp://").is_err());
        assert!(parse("ftp://h/%zz").is_err());
    }
}
