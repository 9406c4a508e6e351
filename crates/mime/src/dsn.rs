//! `message/delivery-status` bodies (RFC 3464 section 2): the machine-readable
//! part of a delivery status notification.
//!
//! The body is a block of per-message fields, then one or more blocks of
//! per-recipient fields, each block preceded by a blank line; every block is
//! written like a header section (RFC 3464 section 2.1.1: same folding, field
//! names case-insensitive). [`DeliveryStatus::parse`] reads it into typed
//! fields that borrow from the input (a value is copied only when it was folded
//! over several lines). It works on bytes, so the UTF-8 fields of
//! `message/global-delivery-status` (RFC 6533) read the same way.

use std::borrow::Cow;
use std::fmt;

use crate::date::DateTime;
use crate::header::{Cursor, unfold};
use crate::limits::Limits;

/// A parsed `message/delivery-status` body (RFC 3464 section 2.1:
/// `delivery-status-content = per-message-fields 1*( CRLF per-recipient-fields )`).
///
/// ```
/// use mime::{DeliveryStatus, DsnAction};
///
/// let body = b"Reporting-MTA: dns; mx.example.test\r\n\
///              Arrival-Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n\
///              \r\n\
///              Final-Recipient: rfc822; bob@example.test\r\n\
///              Action: failed\r\n\
///              Status: 5.1.1\r\n\
///              Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n";
/// let dsn = DeliveryStatus::parse(body).unwrap();
/// assert_eq!(&*dsn.per_message.reporting_mta.value, b"mx.example.test");
/// let r = &dsn.recipients[0];
/// assert!(r.final_recipient.kind_is("RFC822"));
/// assert_eq!(&*r.final_recipient.value, b"bob@example.test");
/// assert_eq!((r.action, r.status.to_string()), (DsnAction::Failed, "5.1.1".to_string()));
/// assert_eq!(&*r.diagnostic_code.as_ref().unwrap().value, b"550 5.1.1 no such user");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus<'a> {
    /// The per-message fields (RFC 3464 section 2.2).
    pub per_message: PerMessageFields<'a>,
    /// One group of per-recipient fields per recipient (section 2.3); never empty.
    pub recipients: Vec<PerRecipientFields<'a>>,
}

/// The per-message fields of a DSN (RFC 3464 section 2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerMessageFields<'a> {
    /// `Original-Envelope-Id` (section 2.2.1): case-sensitive, as written.
    pub original_envelope_id: Option<Cow<'a, [u8]>>,
    /// `Reporting-MTA` (section 2.2.2), the one required field.
    pub reporting_mta: TypedValue<'a>,
    /// `DSN-Gateway` (section 2.2.3).
    pub dsn_gateway: Option<TypedValue<'a>>,
    /// `Received-From-MTA` (section 2.2.4).
    pub received_from_mta: Option<TypedValue<'a>>,
    /// `Arrival-Date` (section 2.2.5).
    pub arrival_date: Option<DateTime>,
    /// Other fields (extension fields, section 2.4), in order.
    pub extensions: Vec<DsnField<'a>>,
}

/// One group of per-recipient fields (RFC 3464 section 2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerRecipientFields<'a> {
    /// `Original-Recipient` (section 2.3.1).
    pub original_recipient: Option<TypedValue<'a>>,
    /// `Final-Recipient` (section 2.3.2), required.
    pub final_recipient: TypedValue<'a>,
    /// `Action` (section 2.3.3), required.
    pub action: DsnAction,
    /// `Status` (section 2.3.4), required.
    pub status: StatusCode,
    /// `Remote-MTA` (section 2.3.5).
    pub remote_mta: Option<TypedValue<'a>>,
    /// `Diagnostic-Code` (section 2.3.6).
    pub diagnostic_code: Option<TypedValue<'a>>,
    /// `Last-Attempt-Date` (section 2.3.7).
    pub last_attempt_date: Option<DateTime>,
    /// `Final-Log-ID` (section 2.3.8).
    pub final_log_id: Option<Cow<'a, [u8]>>,
    /// `Will-Retry-Until` (section 2.3.9).
    pub will_retry_until: Option<DateTime>,
    /// Other fields (extension fields, section 2.4), in order.
    pub extensions: Vec<DsnField<'a>>,
}

/// A `type ";" *text` value (RFC 3464 section 2.1.2): `Reporting-MTA: dns;
/// mx.example`, `Final-Recipient: rfc822; bob@example`, `Diagnostic-Code: smtp;
/// 550 ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedValue<'a> {
    /// The address-type, diagnostic-type or MTA-name-type: an atom, compared
    /// case-insensitively ([`TypedValue::kind_is`]).
    pub kind: Cow<'a, [u8]>,
    /// The text after the `;`, unfolded, without the white space around it.
    /// Parentheses in it are kept: an address or a diagnostic may hold them.
    pub value: Cow<'a, [u8]>,
}

impl TypedValue<'_> {
    /// Whether the type is `kind`, ignoring case (RFC 3464 section 2.1.2: "Values
    /// for address-type, diagnostic-type, and MTA-name-type are case-insensitive").
    #[must_use]
    pub fn kind_is(&self, kind: &str) -> bool {
        self.kind.eq_ignore_ascii_case(kind.as_bytes())
    }
}

/// A field the parser has no type for (an extension field, RFC 3464 section 2.4,
/// or a known field in the other kind of group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsnField<'a> {
    /// The name as written.
    pub name: &'a [u8],
    /// The value unfolded, without the white space around it.
    pub value: Cow<'a, [u8]>,
}

/// The `Action` field (RFC 3464 section 2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DsnAction {
    /// `failed`: not delivered, no more attempts.
    Failed,
    /// `delayed`: not delivered yet, still being tried.
    Delayed,
    /// `delivered`: delivered to the recipient.
    Delivered,
    /// `relayed`: handed on to a system that sends no DSNs.
    Relayed,
    /// `expanded`: delivered to an alias and forwarded to several addresses.
    Expanded,
}

impl DsnAction {
    /// The action-value as RFC 3464 writes it (lower case).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            DsnAction::Failed => "failed",
            DsnAction::Delayed => "delayed",
            DsnAction::Delivered => "delivered",
            DsnAction::Relayed => "relayed",
            DsnAction::Expanded => "expanded",
        }
    }
}

/// A `status-code` (RFC 3464 section 2.3.4, RFC 3463): `class.subject.detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusCode {
    /// One digit: 2 success, 4 persistent transient failure, 5 permanent failure.
    pub class: u8,
    /// 0..=999.
    pub subject: u16,
    /// 0..=999.
    pub detail: u16,
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl StatusCode {
    /// Parses `DIGIT "." 1*3DIGIT "." 1*3DIGIT`, numbers "without leading zero
    /// digits" (RFC 3464 section 2.3.4); nothing may follow.
    #[must_use]
    pub fn parse(s: &[u8]) -> Option<Self> {
        let mut it = s.split(|&b| b == b'.');
        let mut num = |max_digits: usize| -> Option<u16> {
            let d = it.next()?;
            let ok = !d.is_empty()
                && d.len() <= max_digits
                && d.iter().all(u8::is_ascii_digit)
                && (d.len() == 1 || d[0] != b'0');
            ok.then(|| d.iter().fold(0u16, |v, &b| v * 10 + u16::from(b - b'0')))
        };
        let class = u8::try_from(num(1)?).ok()?;
        let subject = num(3)?;
        let detail = num(3)?;
        it.next().is_none().then_some(StatusCode {
            class,
            subject,
            detail,
        })
    }
}

/// Why a `message/delivery-status` body could not be read. Offsets count bytes from
/// the start of the body; `group` 0 is the per-message group, 1 the first recipient.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsnError {
    /// A line that is neither a field (`name:` value) nor a continuation line.
    #[error("byte {offset}: a line that is neither a field nor a continuation")]
    NotAField {
        /// Start of the line.
        offset: usize,
    },
    /// The body has no per-message group (it is empty).
    #[error("no per-message fields")]
    Empty,
    /// No group of per-recipient fields follows the per-message ones (RFC 3464
    /// section 2.1 asks for one at least).
    #[error("no per-recipient fields")]
    NoRecipient,
    /// A required field is missing (Reporting-MTA; Final-Recipient, Action, Status).
    #[error("{} has no {field} field", group_name(*.group))]
    MissingField {
        /// The field's name.
        field: &'static str,
        /// Which group.
        group: usize,
    },
    /// A field that may appear once per group appears again.
    #[error("byte {offset}: a second {field} field")]
    DuplicateField {
        /// The field's name.
        field: &'static str,
        /// Start of the second one.
        offset: usize,
    },
    /// The body holds more fields than the bound ([`Limits::max_fields`], counted
    /// over every group): refused rather than read into unbounded memory.
    #[error("byte {offset}: more than {limit} fields")]
    TooManyFields {
        /// The bound.
        limit: usize,
        /// Start of the first field beyond it.
        offset: usize,
    },
    /// A field's value does not follow its RFC 3464 grammar (a type without `;`,
    /// an unknown action, a malformed status code, an unreadable date).
    #[error("byte {offset}: invalid {field} value")]
    InvalidValue {
        /// The field's name.
        field: &'static str,
        /// Start of the field.
        offset: usize,
    },
}

fn group_name(group: usize) -> String {
    if group == 0 {
        "the per-message group".into()
    } else {
        format!("recipient group {group}")
    }
}

/// One field as found: name, raw value (folding kept), offset of its line.
struct Raw<'a> {
    name: &'a [u8],
    value: &'a [u8],
    /// Where `value` starts in the body.
    value_start: usize,
    offset: usize,
}

/// The value unfolded and trimmed, borrowed when it was on one line.
fn clean(value: &[u8]) -> Cow<'_, [u8]> {
    match unfold(value) {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim_ascii()),
        Cow::Owned(v) => Cow::Owned(v.trim_ascii().to_vec()),
    }
}

/// `s[a..b]` of a `Cow`, borrowing when it borrows.
fn sub<'a>(s: &Cow<'a, [u8]>, a: usize, b: usize) -> Cow<'a, [u8]> {
    match s {
        Cow::Borrowed(x) => Cow::Borrowed(&x[a..b]),
        Cow::Owned(x) => Cow::Owned(x[a..b].to_vec()),
    }
}

fn typed<'a>(f: &Raw<'a>, field: &'static str) -> Result<TypedValue<'a>, DsnError> {
    let bad = DsnError::InvalidValue {
        field,
        offset: f.offset,
    };
    let v = clean(f.value);
    let mut c = Cursor::new(&v);
    c.skip_cfws();
    let start = c.pos();
    if c.atom(false).is_none() {
        return Err(bad);
    }
    let end = c.pos();
    c.skip_cfws();
    if !c.eat(b';') {
        return Err(bad);
    }
    let rest = c.pos();
    let text = v[rest..].trim_ascii_start();
    let from = v.len() - text.len();
    Ok(TypedValue {
        kind: sub(&v, start, end),
        value: sub(&v, from, v.len()),
    })
}

fn date(f: &Raw<'_>, field: &'static str) -> Result<DateTime, DsnError> {
    DateTime::parse(f.value).ok_or(DsnError::InvalidValue {
        field,
        offset: f.offset,
    })
}

/// A single atom, with comments allowed around it (RFC 3464 section 2.1.1).
fn sole_atom(v: &[u8]) -> Option<&[u8]> {
    let mut c = Cursor::new(v);
    c.skip_cfws();
    let a = c.atom(true)?;
    c.skip_cfws();
    c.is_empty().then_some(a)
}

fn action(f: &Raw<'_>) -> Result<DsnAction, DsnError> {
    let v = unfold(f.value);
    let a = sole_atom(&v).unwrap_or_default();
    let is = |s: &str| a.eq_ignore_ascii_case(s.as_bytes());
    Ok(if is("failed") {
        DsnAction::Failed
    } else if is("delayed") {
        DsnAction::Delayed
    } else if is("delivered") {
        DsnAction::Delivered
    } else if is("relayed") {
        DsnAction::Relayed
    } else if is("expanded") {
        DsnAction::Expanded
    } else {
        return Err(DsnError::InvalidValue {
            field: "Action",
            offset: f.offset,
        });
    })
}

/// RFC 3464 section 2.3.4: "White-space characters and comments are NOT allowed
/// within a status-code, though a comment enclosed in parentheses MAY follow".
fn status(f: &Raw<'_>) -> Result<StatusCode, DsnError> {
    let v = unfold(f.value);
    sole_atom(&v)
        .and_then(StatusCode::parse)
        .ok_or(DsnError::InvalidValue {
            field: "Status",
            offset: f.offset,
        })
}

/// Sets `slot` once; a second field of the same name is an error.
fn once<T>(slot: &mut Option<T>, v: T, field: &'static str, offset: usize) -> Result<(), DsnError> {
    if slot.is_some() {
        return Err(DsnError::DuplicateField { field, offset });
    }
    *slot = Some(v);
    Ok(())
}

fn extension<'a>(f: &Raw<'a>) -> DsnField<'a> {
    DsnField {
        name: f.name,
        value: clean(f.value),
    }
}

fn per_message<'a>(fields: &[Raw<'a>]) -> Result<PerMessageFields<'a>, DsnError> {
    let (mut envid, mut mta, mut gateway, mut from, mut arrival) = (None, None, None, None, None);
    let mut extensions = Vec::new();
    for f in fields {
        let is = |n: &str| f.name.eq_ignore_ascii_case(n.as_bytes());
        let o = f.offset;
        if is("Original-Envelope-Id") {
            once(&mut envid, clean(f.value), "Original-Envelope-Id", o)?;
        } else if is("Reporting-MTA") {
            once(&mut mta, typed(f, "Reporting-MTA")?, "Reporting-MTA", o)?;
        } else if is("DSN-Gateway") {
            once(&mut gateway, typed(f, "DSN-Gateway")?, "DSN-Gateway", o)?;
        } else if is("Received-From-MTA") {
            once(&mut from, typed(f, "Received-From-MTA")?, "Received-From-MTA", o)?;
        } else if is("Arrival-Date") {
            once(&mut arrival, date(f, "Arrival-Date")?, "Arrival-Date", o)?;
        } else {
            extensions.push(extension(f));
        }
    }
    Ok(PerMessageFields {
        original_envelope_id: envid,
        reporting_mta: mta.ok_or(DsnError::MissingField {
            field: "Reporting-MTA",
            group: 0,
        })?,
        dsn_gateway: gateway,
        received_from_mta: from,
        arrival_date: arrival,
        extensions,
    })
}

fn per_recipient<'a>(fields: &[Raw<'a>], group: usize) -> Result<PerRecipientFields<'a>, DsnError> {
    let (mut orig, mut fin, mut act, mut stat, mut remote) = (None, None, None, None, None);
    let (mut diag, mut last, mut log_id, mut retry) = (None, None, None, None);
    let mut extensions = Vec::new();
    for f in fields {
        let is = |n: &str| f.name.eq_ignore_ascii_case(n.as_bytes());
        let o = f.offset;
        if is("Original-Recipient") {
            once(
                &mut orig,
                typed(f, "Original-Recipient")?,
                "Original-Recipient",
                o,
            )?;
        } else if is("Final-Recipient") {
            once(&mut fin, typed(f, "Final-Recipient")?, "Final-Recipient", o)?;
        } else if is("Action") {
            once(&mut act, action(f)?, "Action", o)?;
        } else if is("Status") {
            once(&mut stat, status(f)?, "Status", o)?;
        } else if is("Remote-MTA") {
            once(&mut remote, typed(f, "Remote-MTA")?, "Remote-MTA", o)?;
        } else if is("Diagnostic-Code") {
            once(&mut diag, typed(f, "Diagnostic-Code")?, "Diagnostic-Code", o)?;
        } else if is("Last-Attempt-Date") {
            once(&mut last, date(f, "Last-Attempt-Date")?, "Last-Attempt-Date", o)?;
        } else if is("Final-Log-ID") {
            once(&mut log_id, clean(f.value), "Final-Log-ID", o)?;
        } else if is("Will-Retry-Until") {
            once(&mut retry, date(f, "Will-Retry-Until")?, "Will-Retry-Until", o)?;
        } else {
            extensions.push(extension(f));
        }
    }
    let missing = |field| DsnError::MissingField { field, group };
    Ok(PerRecipientFields {
        original_recipient: orig,
        final_recipient: fin.ok_or_else(|| missing("Final-Recipient"))?,
        action: act.ok_or_else(|| missing("Action"))?,
        status: stat.ok_or_else(|| missing("Status"))?,
        remote_mta: remote,
        diagnostic_code: diag,
        last_attempt_date: last,
        final_log_id: log_id,
        will_retry_until: retry,
        extensions,
    })
}

/// Reads the body group by group and hands each group of fields to `each` as soon
/// as it is complete, so only one group is held at a time. A line ends with CRLF
/// or a bare LF; a line that is empty or only white space separates groups (more
/// than one such line counts as one, and blank lines at the start and the end are
/// skipped). More than `max_fields` fields in the whole body is an error.
fn for_each_group<'a>(
    body: &'a [u8],
    max_fields: usize,
    mut each: impl FnMut(&[Raw<'a>]) -> Result<(), DsnError>,
) -> Result<(), DsnError> {
    let mut cur: Vec<Raw<'a>> = Vec::new();
    let mut fields = 0usize;
    let mut i = 0;
    while i < body.len() {
        let nl = memchr::memchr(b'\n', &body[i..]).map_or(body.len(), |p| i + p);
        let mut line = &body[i..nl];
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        let next = (nl + 1).min(body.len());
        if line.iter().all(|&b| b == b' ' || b == b'\t') {
            if !cur.is_empty() {
                each(&cur)?;
                cur.clear();
            }
        } else if line[0] == b' ' || line[0] == b'\t' {
            // a continuation line: the field's raw value runs on to its end
            let Some(f) = cur.last_mut() else {
                return Err(DsnError::NotAField { offset: i });
            };
            f.value = &body[f.value_start..i + line.len()];
        } else {
            // field-name = 1*ftext (printable ASCII but ':'), white space before the
            // colon tolerated (obsolete syntax, RFC 5322 section 4.5)
            let colon = memchr::memchr(b':', line).ok_or(DsnError::NotAField { offset: i })?;
            let name = line[..colon].trim_ascii_end();
            if name.is_empty() || !name.iter().all(|&b| (33..127).contains(&b)) {
                return Err(DsnError::NotAField { offset: i });
            }
            fields += 1;
            if fields > max_fields {
                return Err(DsnError::TooManyFields {
                    limit: max_fields,
                    offset: i,
                });
            }
            cur.push(Raw {
                name,
                value: &line[colon + 1..],
                value_start: i + colon + 1,
                offset: i,
            });
        }
        i = next;
    }
    if !cur.is_empty() {
        each(&cur)?;
    }
    Ok(())
}

impl<'a> DeliveryStatus<'a> {
    /// Parses a `message/delivery-status` body (after its transfer encoding is
    /// undone, e.g. with [`crate::Message::decoded_body`]).
    ///
    /// It follows RFC 3464 section 2 with these choices: a line ending may be a bare
    /// LF; several blank lines (or lines of white space only) count as one, and blank
    /// lines around the body are skipped; a field name is matched ignoring case;
    /// fields not typed here (extension fields, or a per-message field in a
    /// recipient group and the other way round) are kept in `extensions`; comments
    /// are skipped around the `*-type` atoms, the action and the status code, and
    /// kept inside the `*text` values; dates are read as [`DateTime::parse`] reads
    /// them.
    ///
    /// # Errors
    ///
    /// [`DsnError`], the first one in the body (each group is checked as soon as it
    /// is read): a line that is no field, a missing required field (Reporting-MTA;
    /// Final-Recipient, Action and Status in each recipient group), a field that may
    /// appear once appearing twice, a value that does not follow its grammar, no
    /// recipient group, or more fields than the default [`Limits::max_fields`]
    /// (10,000; [`DeliveryStatus::parse_with`] takes another bound).
    pub fn parse(body: &'a [u8]) -> Result<Self, DsnError> {
        Self::parse_with(body, &Limits::default())
    }

    /// [`DeliveryStatus::parse`] with the fields of the whole body (every group
    /// together) bounded by [`Limits::max_fields`]: RFC 3464 sets no bound on the
    /// recipient groups, and every field read is kept (typed or as an extension),
    /// so the bound is what keeps the memory a hostile body of many tiny groups
    /// can take bounded. Each group is checked as soon as it is read, so only one
    /// group's raw fields are held at a time.
    ///
    /// ```
    /// use mime::{DeliveryStatus, DsnError, Limits};
    ///
    /// let body = b"Reporting-MTA: dns; mx.example.test\r\n\r\n\
    ///              Final-Recipient: rfc822; bob@example.test\r\n\
    ///              Action: failed\r\nStatus: 5.1.1\r\n";
    /// assert!(DeliveryStatus::parse_with(body, &Limits { max_fields: 4, ..Limits::default() }).is_ok());
    /// let e = DeliveryStatus::parse_with(body, &Limits { max_fields: 3, ..Limits::default() });
    /// assert!(matches!(e, Err(DsnError::TooManyFields { limit: 3, .. })));
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`DeliveryStatus::parse`] (the first one in the body), and
    /// [`DsnError::TooManyFields`].
    pub fn parse_with(body: &'a [u8], limits: &Limits) -> Result<Self, DsnError> {
        let mut first = None;
        let mut recipients = Vec::new();
        for_each_group(body, limits.max_fields, |g| {
            if first.is_none() {
                first = Some(per_message(g)?);
            } else {
                let group = recipients.len() + 1;
                recipients.push(per_recipient(g, group)?);
            }
            Ok(())
        })?;
        let per_message = first.ok_or(DsnError::Empty)?;
        if recipients.is_empty() {
            return Err(DsnError::NoRecipient);
        }
        Ok(DeliveryStatus {
            per_message,
            recipients,
        })
    }
}
