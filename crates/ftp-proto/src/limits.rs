//! [`Limits`]: every bound the codec and the sessions enforce, in one place.

use std::time::Duration;

/// Limits with RFC-derived defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest command line the server takes, CRLF included: a longer one
    /// is dropped as it arrives and answered with 500. RFC 959 sets no
    /// limit; 4096 leaves room for long UTF-8 paths (RFC 2640) and is what
    /// common servers accept. The client does not use it: a reply line may
    /// be as long as [`Limits::reply`] allows.
    pub line: usize,
    /// Longest whole reply (all lines of a multi-line reply, CRLFs included).
    /// STAT and HELP can be long; 1 MiB bounds memory. The client keeps the
    /// lines of a longer multi-line reply that fit and drops the rest up to
    /// its last line (RFC 1123 4.1.2.11); a single longer line is fatal.
    pub reply: usize,
    /// Idle time before the server closes the control connection with 421
    /// (RFC 959 leaves it to the server; 300 s is the common choice).
    pub idle_timeout: Duration,
    /// How long a client waits for a reply before giving up. It does not
    /// run while a transfer's data connection moves data (the final reply
    /// follows the end of the data, however long that takes).
    pub reply_timeout: Duration,
    /// Pause after a failed login before the 530 reply is sent (slows guessing).
    pub failed_login_delay: Duration,
    /// Failed logins after which the server answers 421 and closes.
    pub failed_login_limit: u32,
    /// Most unread input the server holds while nothing consumes it: while
    /// the application owes a decision (a login, a file-system request, a
    /// passive listener) or the failed-login delay runs, and the commands
    /// kept during a transfer to be acted on after it (at most
    /// [`Limits::deferred_commands`] of them, RFC 959 4.1.3 acts on ABOR and
    /// STAT at once). Past it the server answers 421 and closes, so a
    /// client cannot make it hold unbounded memory. Never less than
    /// [`Limits::line`] in effect.
    pub buffered_input: usize,
    /// Most commands the server keeps during a transfer, to act on after
    /// it in turn (ABOR and STAT are acted on at once, RFC 959 4.1.3): a
    /// client may send the next command, such as the next RETR, before the
    /// transfer's last reply. One more closes the session with 421, as too
    /// many bytes do ([`Limits::buffered_input`]).
    pub deferred_commands: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            line: 4096,
            reply: 1 << 20,
            idle_timeout: Duration::from_secs(300),
            reply_timeout: Duration::from_secs(120),
            failed_login_delay: Duration::from_secs(2),
            failed_login_limit: 3,
            buffered_input: 64 * 1024,
            deferred_commands: 64,
        }
    }
}
