//! [`Shortfall`]: a configured limit below what an RFC requires every
//! implementation to handle, as the protocol crates' `Limits::shortfalls`
//! report it.

/// A limit set below the size (or time) an RFC requires every
/// implementation to handle.
///
/// ```
/// let s = proto_core::Shortfall::find([("recipients", 50, 100, "RFC 5321 4.5.3.1.8")]);
/// assert_eq!(s[0].to_string(), "recipients is 50, below the 100 of RFC 5321 4.5.3.1.8");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// The `Limits` field, e.g. `"recipients"`.
    pub name: &'static str,
    /// Its configured value (seconds for a time).
    pub configured: u64,
    /// The least value the RFC allows (seconds for a time).
    pub minimum: u64,
    /// Where the RFC says so, e.g. `"RFC 5321 4.5.3.1.8"`.
    pub rule: &'static str,
}

impl Shortfall {
    /// The rules `(field, configured, minimum, rule)` whose configured
    /// value is below its minimum, in the order given.
    #[must_use]
    pub fn find(rules: impl IntoIterator<Item = (&'static str, u64, u64, &'static str)>) -> Vec<Shortfall> {
        rules
            .into_iter()
            .filter(|&(_, configured, minimum, _)| configured < minimum)
            .map(|(name, configured, minimum, rule)| Shortfall {
                name,
                configured,
                minimum,
                rule,
            })
            .collect()
    }
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is {}, below the {} of {}",
            self.name, self.configured, self.minimum, self.rule
        )
    }
}
