//! Size and cost limits, with RFC defaults.

/// Limits applied by every client and server step machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted message (challenge or response) in octets, after the
    /// protocol's base64 decoding. RFC 4954 section 4 requires servers to accept
    /// at least 12288 octets of an AUTH line, so that is the default.
    pub max_message_len: usize,
    /// Smallest SCRAM iteration count a client accepts from a server. RFC 7677
    /// section 4 asks for at least 4096; lower counts weaken the stored keys.
    pub scram_min_iterations: u32,
    /// Largest SCRAM iteration count a client will compute (PBKDF2 cost is linear
    /// in it, so a hostile server could otherwise pin the client's CPU).
    pub scram_max_iterations: u32,
}

impl Limits {
    /// RFC 4954 section 4: the minimum length of an AUTH exchange line a server accepts.
    pub const RFC4954_MIN: usize = 12288;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_len: Self::RFC4954_MIN,
            scram_min_iterations: 4096,
            scram_max_iterations: 1_000_000,
        }
    }
}

impl Limits {
    /// Refuses `msg` if it is longer than [`Limits::max_message_len`].
    pub(crate) fn check_len(&self, msg: &[u8]) -> Result<(), crate::SaslError> {
        if msg.len() > self.max_message_len {
            return Err(crate::SaslError::TooLong {
                len: msg.len(),
                limit: self.max_message_len,
            });
        }
        Ok(())
    }
}
