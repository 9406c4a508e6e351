//! Mechanism names, mechanism lists and the choice of a mechanism.

use crate::client::Credentials;

/// Every mechanism the crate implements, by IANA name.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): authzid, authcid and password in one message.
    Plain,
    /// `LOGIN` (draft-murchison-sasl-login, as deployed): user name, then password.
    Login,
    /// `CRAM-MD5` (RFC 2195): HMAC-MD5 over a server challenge.
    CramMd5,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `XOAUTH2` (Google/Microsoft): a bearer token, as deployed.
    XOAuth2,
    /// `OAUTHBEARER` (RFC 7628): a bearer token with a GS2 header.
    OAuthBearer,
    /// `EXTERNAL` (RFC 4422 appendix A): identity established outside SASL (TLS client certificate).
    External,
    /// `ANONYMOUS` (RFC 4505): no identity, an optional trace string.
    Anonymous,
}

impl Mechanism {
    /// Every mechanism, strongest first in the order [`choose`] prefers.
    pub const ALL: [Mechanism; 9] = [
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::OAuthBearer,
        Mechanism::XOAuth2,
        Mechanism::CramMd5,
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::External,
        Mechanism::Anonymous,
    ];

    /// The IANA registered name ("PLAIN", "SCRAM-SHA-256", "XOAUTH2", ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::External => "EXTERNAL",
            Mechanism::Anonymous => "ANONYMOUS",
        }
    }

    /// Looks a mechanism up by name: case-insensitive, the whole name must match
    /// (so `SCRAM-SHA-256-PLUS` is not `SCRAM-SHA-256`).
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<Mechanism> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().as_bytes().eq_ignore_ascii_case(name))
    }

    /// True for the mechanisms that send the password in the clear (PLAIN, LOGIN):
    /// they need TLS or a trusted link (RFC 4954 section 4, RFC 2595 section 6).
    #[must_use]
    pub fn is_plaintext(self) -> bool {
        matches!(self, Mechanism::Plain | Mechanism::Login)
    }

    /// True for the mechanisms whose messages let an eavesdropper log in: the
    /// plaintext ones and the bearer-token ones (RFC 7628 section 5 requires TLS).
    /// [`choose`] refuses all of them on an insecure link unless allowed.
    #[must_use]
    pub fn needs_secure_link(self) -> bool {
        self.is_plaintext() || matches!(self, Mechanism::XOAuth2 | Mechanism::OAuthBearer)
    }

    /// True for the mechanisms that can carry an authorization identity (act-as
    /// user, [`Credentials::authzid`](crate::Credentials#structfield.authzid)): PLAIN, SCRAM, OAUTHBEARER, EXTERNAL.
    /// LOGIN, CRAM-MD5, XOAUTH2 and ANONYMOUS cannot (RFC 4422 section 5 item
    /// 3: their authorization identity is always the empty string), so
    /// [`client`](fn@crate::client) refuses credentials that ask for one and
    /// [`choose`] skips them.
    #[must_use]
    pub fn carries_authzid(self) -> bool {
        matches!(
            self,
            Mechanism::Plain
                | Mechanism::ScramSha1
                | Mechanism::ScramSha256
                | Mechanism::OAuthBearer
                | Mechanism::External
        )
    }

    /// True if the client sends a message first (SASL initial response), false
    /// if the server starts with a challenge (LOGIN, CRAM-MD5).
    #[must_use]
    pub fn client_first(self) -> bool {
        !matches!(self, Mechanism::Login | Mechanism::CramMd5)
    }
}

impl std::fmt::Display for Mechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether `name` has the syntax of a SASL mechanism name: `sasl-mech =
/// 1*20mech-char`, `mech-char = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE`
/// (RFC 4422 3.1). Lower-case letters are accepted too, since names are
/// matched without case (SMTP AUTH and POP3 AUTH commands may carry them so).
///
/// ```
/// assert!(sasl::is_mechanism_name(b"SCRAM-SHA-256"));
/// assert!(sasl::is_mechanism_name(b"x-oauth2"));
/// assert!(!sasl::is_mechanism_name(b"PLAIN LOGIN"));
/// assert!(!sasl::is_mechanism_name(b"A-NAME-OF-21-OCTETS-X"));
/// ```
#[must_use]
pub fn is_mechanism_name(name: &[u8]) -> bool {
    (1..=20).contains(&name.len())
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Splits a mechanism list as servers announce it (`250-AUTH PLAIN LOGIN`,
/// POP3 `SASL PLAIN LOGIN`, the names of IMAP `AUTH=` capabilities joined by
/// spaces) into names. Runs of spaces or tabs are one separator; the names are
/// returned as they are, known or not.
pub fn parse_mechanism_list(list: &[u8]) -> impl Iterator<Item = &[u8]> {
    list.split(|b| *b == b' ' || *b == b'\t')
        .filter(|n| !n.is_empty())
}

/// The mechanisms of a list that this crate implements, in the list's order,
/// without duplicates.
#[must_use]
pub fn known_mechanisms(list: &[u8]) -> Vec<Mechanism> {
    let mut out = Vec::new();
    for m in parse_mechanism_list(list).filter_map(Mechanism::from_name) {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// Formats mechanisms as a space-separated list (`"SCRAM-SHA-256 PLAIN"`), for
/// EHLO `AUTH`, POP3 `CAPA` `SASL`; IMAP writes `AUTH=` before each name instead.
#[must_use]
pub fn format_mechanism_list(mechanisms: &[Mechanism]) -> String {
    let mut out = String::new();
    for m in mechanisms {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(m.name());
    }
    out
}

/// Options of [`choose_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChooseOptions {
    /// The link is encrypted (TLS) or otherwise trusted: plaintext and bearer
    /// token mechanisms may be used.
    pub secure: bool,
    /// Use `EXTERNAL` if offered (the TLS client certificate identifies the user).
    pub allow_external: bool,
    /// Use `ANONYMOUS` if offered and nothing else fits.
    pub allow_anonymous: bool,
}

/// Picks the strongest mechanism both sides support that the credentials can drive,
/// refusing plaintext mechanisms unless `secure` (TLS or trusted link) is true.
///
/// The order is SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN for a password;
/// when an OAuth token is given, OAUTHBEARER then XOAUTH2 come before the password
/// mechanisms (the caller asked for OAuth). OAuth mechanisms also need `secure`
/// (a bearer token is as good as a password). EXTERNAL and ANONYMOUS are never
/// chosen here; use [`choose_with`] to allow them. When the credentials ask to
/// act as another identity (an authzid other than the user name), only the
/// mechanisms that carry one ([`Mechanism::carries_authzid`]) are chosen.
/// A mechanism is chosen only if [`client`](fn@crate::client) builds it for
/// `creds`: SCRAM is passed over for a password it cannot prepare (RFC 5802
/// section 2.2), XOAUTH2 for a token without a user name.
///
/// ```
/// use sasl::{Credentials, Mechanism, Secret, choose};
/// let creds = Credentials {
///     username: "tim".into(),
///     password: Some(Secret::new("tanstaaftanstaaf".into())),
///     ..Credentials::default()
/// };
/// let offered: Vec<&[u8]> = sasl::parse_mechanism_list(b"LOGIN PLAIN CRAM-MD5").collect();
/// assert_eq!(choose(&offered, &creds, true), Some(Mechanism::CramMd5));
/// let offered: Vec<&[u8]> = vec![b"PLAIN", b"LOGIN"];
/// assert_eq!(choose(&offered, &creds, false), None);
/// assert_eq!(choose(&offered, &creds, true), Some(Mechanism::Plain));
/// ```
#[must_use]
pub fn choose(offered: &[&[u8]], creds: &Credentials, secure: bool) -> Option<Mechanism> {
    choose_with(
        offered,
        creds,
        ChooseOptions {
            secure,
            ..ChooseOptions::default()
        },
    )
}

/// [`choose`] with EXTERNAL and ANONYMOUS as options. EXTERNAL, when allowed and
/// offered, wins over everything (the caller set up a client certificate for it);
/// ANONYMOUS is the last resort.
#[must_use]
pub fn choose_with(offered: &[&[u8]], creds: &Credentials, options: ChooseOptions) -> Option<Mechanism> {
    let offered: Vec<Mechanism> = offered.iter().filter_map(|n| Mechanism::from_name(n)).collect();
    let has = |m: Mechanism| offered.contains(&m);
    // Only what `client` builds for these credentials: it refuses an
    // authzid the mechanism cannot carry, a missing user name, a password
    // SCRAM cannot prepare ... (one home for those rules).
    let usable = |m: Mechanism| {
        has(m) && (options.secure || !m.needs_secure_link()) && crate::client::can_drive(m, creds)
    };
    if options.allow_external && usable(Mechanism::External) {
        return Some(Mechanism::External);
    }
    if creds.oauth_token.is_some() {
        for m in [Mechanism::OAuthBearer, Mechanism::XOAuth2] {
            if usable(m) {
                return Some(m);
            }
        }
    }
    if creds.password.is_some() {
        for m in [
            Mechanism::ScramSha256,
            Mechanism::ScramSha1,
            Mechanism::CramMd5,
            Mechanism::Plain,
            Mechanism::Login,
        ] {
            if usable(m) {
                return Some(m);
            }
        }
    }
    if options.allow_anonymous && usable(Mechanism::Anonymous) {
        return Some(Mechanism::Anonymous);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    fn pw() -> Credentials {
        Credentials {
            username: "u".into(),
            password: Some(Secret::new("p".into())),
            ..Credentials::default()
        }
    }

    #[test]
    fn names_round_trip_case_insensitively() {
        for m in Mechanism::ALL {
            assert_eq!(Mechanism::from_name(m.name().as_bytes()), Some(m));
            assert_eq!(
                Mechanism::from_name(m.name().to_ascii_lowercase().as_bytes()),
                Some(m)
            );
        }
        assert_eq!(Mechanism::from_name(b"SCRAM-SHA-256-PLUS"), None);
        assert_eq!(Mechanism::from_name(b"PLAI"), None);
        assert_eq!(Mechanism::from_name(b""), None);
    }

    #[test]
    fn lists_parse_and_format() {
        let names: Vec<&[u8]> = parse_mechanism_list(b"  PLAIN\tLOGIN  X-FOO ").collect();
        assert_eq!(names, [&b"PLAIN"[..], b"LOGIN", b"X-FOO"]);
        assert_eq!(
            known_mechanisms(b"plain LOGIN X-FOO PLAIN"),
            [Mechanism::Plain, Mechanism::Login]
        );
        assert_eq!(
            format_mechanism_list(&[Mechanism::ScramSha256, Mechanism::Plain]),
            "SCRAM-SHA-256 PLAIN"
        );
        assert_eq!(format_mechanism_list(&[]), "");
    }

    #[test]
    fn choose_prefers_strongest() {
        let all: Vec<&[u8]> = Mechanism::ALL.iter().map(|m| m.name().as_bytes()).collect();
        assert_eq!(choose(&all, &pw(), false), Some(Mechanism::ScramSha256));
        let offered: Vec<&[u8]> = vec![b"PLAIN", b"SCRAM-SHA-1", b"CRAM-MD5"];
        assert_eq!(choose(&offered, &pw(), false), Some(Mechanism::ScramSha1));
        let offered: Vec<&[u8]> = vec![b"LOGIN", b"PLAIN"];
        assert_eq!(choose(&offered, &pw(), true), Some(Mechanism::Plain));
        let offered: Vec<&[u8]> = vec![b"LOGIN"];
        assert_eq!(choose(&offered, &pw(), true), Some(Mechanism::Login));
        assert_eq!(choose(&offered, &pw(), false), None);
    }

    #[test]
    fn choose_oauth_only_with_token() {
        let offered: Vec<&[u8]> = vec![b"XOAUTH2", b"OAUTHBEARER", b"PLAIN"];
        assert_eq!(choose(&offered, &pw(), true), Some(Mechanism::Plain));
        let tok = Credentials {
            username: "u".into(),
            oauth_token: Some(Secret::new("t".into())),
            ..Credentials::default()
        };
        assert_eq!(choose(&offered, &tok, true), Some(Mechanism::OAuthBearer));
        assert_eq!(choose(&[b"XOAUTH2"], &tok, true), Some(Mechanism::XOAuth2));
        assert_eq!(choose(&offered, &tok, false), None);
    }

    #[test]
    fn external_and_anonymous_only_when_asked() {
        let offered: Vec<&[u8]> = vec![b"EXTERNAL", b"ANONYMOUS", b"PLAIN"];
        let none = Credentials::default();
        assert_eq!(choose(&offered, &none, true), None);
        assert_eq!(choose(&offered, &pw(), true), Some(Mechanism::Plain));
        let ext = ChooseOptions {
            allow_external: true,
            ..ChooseOptions::default()
        };
        assert_eq!(choose_with(&offered, &pw(), ext), Some(Mechanism::External));
        let anon = ChooseOptions {
            allow_anonymous: true,
            ..ChooseOptions::default()
        };
        assert_eq!(choose_with(&offered, &none, anon), Some(Mechanism::Anonymous));
        assert_eq!(choose_with(&offered, &pw(), anon), Some(Mechanism::Anonymous));
    }
}
