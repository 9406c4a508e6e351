//! [`Limits`]: every size and time bound of a POP3 session in one place.

pub use proto_core::Shortfall;
use std::time::Duration;

/// Size and time limits, with the RFC defaults.
///
/// Exceeding a size limit gives a clear error and the proper `-ERR` reply; the
/// session never buffers more than these bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest command line, CRLF included: 255 octets (RFC 2449 section 4).
    /// The server refuses longer lines; the client sends none (a longer
    /// AUTH initial response waits for an empty challenge, RFC 5034 4).
    pub max_command_line: usize,
    /// Longest response line, CRLF included: 512 octets (RFC 2449 section 4,
    /// RFC 1939 section 3). Applies to status lines and listing lines; message
    /// bodies (RETR/TOP) are streamed and have no line limit.
    pub max_response_line: usize,
    /// Longest SASL continuation line (client response or server challenge),
    /// CRLF included. RFC 5034 section 4 allows arbitrary lengths; this bounds memory.
    pub max_auth_line: usize,
    /// Inactivity autologout: at least 10 minutes (RFC 1939 section 3).
    /// The client uses it as its response timeout, counted from the command
    /// it waits on: a command the application issues starts the timer at
    /// the next time the driver gives (`poll_timeout` then returns an
    /// instant already past, asking for `handle_timeout` at once).
    pub autologout: Duration,
    /// Most bad commands (unknown, malformed, out of state, over-long) the server
    /// answers before it closes the connection.
    pub max_bad_commands: u32,
    /// Most failed login attempts before the server closes the connection.
    pub max_login_failures: u32,
    /// Most entries a client accepts in one LIST, UIDL, CAPA or LANG listing.
    /// In CAPA every capability line is an entry, and so is every mechanism
    /// a `SASL` line names.
    pub max_listing_entries: usize,
    /// Most unprocessed input the server buffers while it waits for the
    /// application (a login decision, message bytes, the update): pipelined
    /// commands beyond this close the connection. The client keeps its
    /// unanswered pipelined commands within the same number of octets
    /// (RFC 2449 6.6: not beyond the transport's window).
    pub max_pipelined_input: usize,
    /// Most output the server lets wait for the driver before it stops
    /// taking pipelined commands: a LIST or UIDL answer grows with the
    /// maildrop, so without this a client that pipelines many of them and
    /// never reads makes the server buffer their answers without bound. Past
    /// it `poll_event` returns `None` with
    /// [`ServerSession::output_blocked`](crate::ServerSession::output_blocked)
    /// true; the driver writes the output and polls again before reading.
    /// A single answer may go past it (it is checked between commands), and
    /// streamed message data is paced by the application, not by this.
    pub max_pending_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_command_line: 255,
            max_response_line: 512,
            max_auth_line: 12288,
            autologout: Duration::from_secs(600),
            max_bad_commands: 20,
            max_login_failures: 3,
            max_listing_entries: 1_000_000,
            max_pipelined_input: 64 * 1024,
            max_pending_output: 1024 * 1024,
        }
    }
}

impl Limits {
    /// The limits set below what the RFCs require every implementation to
    /// handle, in field order: command lines of 255 octets and response
    /// lines of 512 (RFC 2449 section 4: "The maximum length of a command
    /// is increased ... to 255 octets"; "Servers MUST NOT send more than
    /// 512 octets" in a response line, which a client must be able to
    /// read), and an autologout timer of at least 10 minutes (RFC 1939
    /// section 3), given in seconds. Such a limit is allowed, but peers
    /// that rely on the minimums may fail against it, so an application
    /// may want to log or refuse it. The other limits have no RFC minimum.
    ///
    /// ```
    /// let mut limits = pop3_proto::Limits::default();
    /// assert!(limits.shortfalls().is_empty());
    /// limits.autologout = std::time::Duration::from_secs(60);
    /// assert_eq!(
    ///     limits.shortfalls()[0].to_string(),
    ///     "autologout is 60, below the 600 of RFC 1939 3"
    /// );
    /// ```
    #[must_use]
    pub fn shortfalls(&self) -> Vec<Shortfall> {
        let d = Limits::default();
        Shortfall::find([
            (
                "max_command_line",
                self.max_command_line as u64,
                d.max_command_line as u64,
                "RFC 2449 4",
            ),
            (
                "max_response_line",
                self.max_response_line as u64,
                d.max_response_line as u64,
                "RFC 2449 4",
            ),
            (
                "autologout",
                self.autologout.as_secs(),
                d.autologout.as_secs(),
                "RFC 1939 3",
            ),
        ])
    }
}
