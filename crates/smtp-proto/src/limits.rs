//! [`Limits`]: every size limit of the codec and the sessions, with the RFC defaults.

pub use proto_core::Shortfall;
use std::time::Duration;

/// Size limits (RFC 5321 4.5.3.1 and the extension RFCs). All configurable.
///
/// Line limits count the CRLF, as RFC 5321 does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest command line, CRLF included (RFC 5321 4.5.3.1.4: 512).
    pub command_line: usize,
    /// Longest reply line, CRLF included (RFC 5321 4.5.3.1.5: 512).
    pub reply_line: usize,
    /// Longest text line of a message, CRLF included, stuffed dots not
    /// counted (RFC 5321 4.5.3.1.6: 1000). The client refuses body data that
    /// would make a longer line ([`crate::ClientSession::send_data`]; not for
    /// BINARYMIME, which has no lines); `usize::MAX` turns that off (a relay
    /// passing on what it received, say). The server does not refuse longer
    /// lines (RFC 5321 4.5.3.1: implementations should impose no limits where
    /// they can).
    pub text_line: usize,
    /// Longest path, angle brackets included (RFC 5321 4.5.3.1.3: 256).
    pub path: usize,
    /// Longest local part (RFC 5321 4.5.3.1.1: 64).
    pub local_part: usize,
    /// Longest domain (RFC 5321 4.5.3.1.2: 255).
    pub domain: usize,
    /// Longest AUTH command or AUTH response line, CRLF included (RFC 4954 4: 12288).
    pub auth_line: usize,
    /// Extra length allowed on a MAIL line for the parameters of the extensions
    /// this crate knows: SIZE 26 (RFC 1870), BODY=BINARYMIME 16 (RFC 3030),
    /// SMTPUTF8 10 (RFC 6531), AUTH= 500 (RFC 4954), RET/ENVID 100 (RFC 3461),
    /// REQUIRETLS and MT-PRIORITY 32 (RFC 8689, 6710): 684 in all.
    pub mail_params_extra: usize,
    /// Extra length allowed on a RCPT line: 530 for NOTIFY and ORCPT (RFC
    /// 3461 5.4: an MTA "MUST be able to accept SMTP command-lines which are
    /// at least 1036 characters long (530 characters for the ORCPT and
    /// NOTIFY parameters of the RCPT command, in addition to the 512
    /// characters required by \[1\])").
    pub rcpt_params_extra: usize,
    /// Most recipients per transaction (RFC 5321 4.5.3.1.8: at least 100;
    /// a smaller value is allowed, see [`Limits::shortfalls`]).
    pub recipients: usize,
    /// Largest message in octets (announced as SIZE; 0 = no limit announced and
    /// none enforced).
    pub message_size: u64,
    /// Most commands answered with an error in a row before the server gives up
    /// with 421 (defence against garbage; RFC 5321 leaves it to the server).
    /// The 452 for RCPTs past [`recipients`](Self::recipients) is not counted
    /// (RFC 5321 4.5.3.1.10: the client sends those in a later transaction).
    pub errors: usize,
    /// Most unread input the server holds while it cannot read on: before its
    /// (delayed) greeting, or while the application owes a decision (MAIL,
    /// RCPT, end of data, an AUTH step). Pipelining lets a client send ahead
    /// of those (a BDAT chunk behind its RCPT, say), so this is generous; past
    /// it the server answers 421 and closes, so a client cannot make it hold
    /// unbounded memory. A driver should stop reading well before (see
    /// [`crate::ServerSession::buffered_input`]).
    pub buffered_input: usize,
}

impl Limits {
    /// The defaults, as a constant (what [`Limits::default`] returns).
    pub(crate) const DEFAULT: Limits = Limits {
        command_line: 512,
        reply_line: 512,
        text_line: 1000,
        path: 256,
        local_part: 64,
        domain: 255,
        auth_line: 12288,
        mail_params_extra: 26 + 16 + 10 + 500 + 100 + 32,
        rcpt_params_extra: 530,
        recipients: 100,
        message_size: 35 * 1024 * 1024,
        errors: 20,
        buffered_input: 4 * 1024 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    /// The limits set below the sizes the RFCs require every implementation
    /// to handle (RFC 5321 4.5.3.1: "Every implementation MUST be able to
    /// receive objects of at least these sizes"; RFC 4954 4 for AUTH lines),
    /// in field order. Such a limit is allowed (fewer recipients per
    /// message is a common site policy: a client told `452` sends the rest
    /// later, RFC 5321 4.5.3.1.10), but peers that rely on the minimums may
    /// fail against it, so an application may want to log or refuse it.
    /// [`message_size`](Self::message_size), [`errors`](Self::errors) and
    /// [`buffered_input`](Self::buffered_input) have no RFC minimum.
    ///
    /// ```
    /// let limits = smtp_proto::Limits { recipients: 50, ..Default::default() };
    /// let found = limits.shortfalls();
    /// assert_eq!(found[0].to_string(), "recipients is 50, below the 100 of RFC 5321 4.5.3.1.8");
    /// ```
    #[must_use]
    pub fn shortfalls(&self) -> Vec<Shortfall> {
        let d = Limits::DEFAULT;
        let rules = [
            (
                "command_line",
                self.command_line,
                d.command_line,
                "RFC 5321 4.5.3.1.4",
            ),
            ("reply_line", self.reply_line, d.reply_line, "RFC 5321 4.5.3.1.5"),
            ("text_line", self.text_line, d.text_line, "RFC 5321 4.5.3.1.6"),
            ("path", self.path, d.path, "RFC 5321 4.5.3.1.3"),
            ("local_part", self.local_part, d.local_part, "RFC 5321 4.5.3.1.1"),
            ("domain", self.domain, d.domain, "RFC 5321 4.5.3.1.2"),
            ("auth_line", self.auth_line, d.auth_line, "RFC 4954 4"),
            (
                "mail_params_extra",
                self.mail_params_extra,
                d.mail_params_extra,
                "the extension RFCs listed on the field",
            ),
            (
                "rcpt_params_extra",
                self.rcpt_params_extra,
                d.rcpt_params_extra,
                "RFC 3461 5.4",
            ),
            ("recipients", self.recipients, d.recipients, "RFC 5321 4.5.3.1.8"),
        ];
        Shortfall::find(
            rules.map(|(name, configured, minimum, rule)| (name, configured as u64, minimum as u64, rule)),
        )
    }

    /// The longest line the framer must accept in command mode.
    pub(crate) fn max_framed_line(&self) -> usize {
        self.command_line
            .saturating_add(self.mail_params_extra.max(self.rcpt_params_extra))
            .max(self.auth_line)
    }
}

/// Timeouts of RFC 5321 4.5.3.2. Time is passed in; nothing reads the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Client: waiting for the 220 greeting (4.5.3.2.1: 5 minutes).
    pub greeting: Duration,
    /// Client: waiting for the reply to MAIL (4.5.3.2.2: 5 minutes); also used
    /// for EHLO, STARTTLS, AUTH, RSET, QUIT.
    pub mail: Duration,
    /// Client: waiting for the reply to RCPT (4.5.3.2.3: 5 minutes).
    pub rcpt: Duration,
    /// Client: waiting for 354 after DATA (4.5.3.2.4: 2 minutes).
    pub data_initiation: Duration,
    /// Client: a block of body data making no progress (4.5.3.2.5: 3 minutes).
    pub data_block: Duration,
    /// Client: waiting for the reply after the end of data (4.5.3.2.6: 10 minutes).
    pub data_termination: Duration,
    /// Server: waiting for the next command or data (4.5.3.2.7: 5 minutes).
    pub server: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        let min = |m: u64| Duration::from_secs(60 * m);
        Timeouts {
            greeting: min(5),
            mail: min(5),
            rcpt: min(5),
            data_initiation: min(2),
            data_block: min(3),
            data_termination: min(10),
            server: min(5),
        }
    }
}
