//! Delivery status notifications: RFC 3464 `multipart/report;
//! report-type=delivery-status` (RFC 6522), built with mime's builder: a
//! human-readable part, the `message/delivery-status` fields (with the
//! RFC 3461 ENVID and ORCPT values when the client gave them), and the
//! original message (RET=FULL, failures only) or its header section as
//! `text/rfc822-headers`.

use crate::store::rfc5322_date;
use examples::spool::{Envelope, Recipient};
use mime::{BodyPart, MessageBuilder};

/// What happened to a recipient (RFC 3464 2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Permanently failed, or given up.
    Failed,
    /// Still being retried.
    Delayed,
    /// Delivered into a mailbox here.
    Delivered,
    /// Handed to a next hop that does not offer DSN.
    Relayed,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
        }
    }
}

/// One recipient in a report.
#[derive(Debug, Clone)]
pub(crate) struct Line<'a> {
    /// The recipient (address, ORCPT).
    pub(crate) rcpt: &'a Recipient,
    /// What happened.
    pub(crate) action: Action,
    /// SMTP reply code behind it (0 when no server answered).
    pub(crate) code: u16,
    /// Reply text or description (may start with an enhanced status code).
    pub(crate) text: &'a str,
}

/// What a report covers besides its recipients.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// This server's name (Reporting-MTA, From).
    pub(crate) hostname: &'a str,
    /// The message's envelope (sender, ENVID, arrival date).
    pub(crate) env: &'a Envelope,
    /// The message as queued (or its start): its header section is quoted.
    pub(crate) original: &'a [u8],
    /// `original` is only the start of the message: a header section
    /// without its end there is quoted up to its last whole field. A
    /// caller that bounds what it keeps at `n` bytes keeps `n + 1` of a
    /// longer message and sets this: the byte past the bound tells whether
    /// a field ending exactly at the bound is whole (it is unless that byte
    /// folds it on), and no field past the bound is quoted. So a message
    /// of exactly `n` bytes is not cut and is quoted whole.
    pub(crate) cut: bool,
    /// Attach the whole original (RET=FULL on a failure report).
    pub(crate) full: bool,
    /// For delay reports: until when it will be retried (Unix seconds).
    pub(crate) retry_until: Option<u64>,
    /// Now (Unix seconds).
    pub(crate) now: u64,
}

/// A mime mailbox from an envelope address (`local@domain`, local part possibly quoted).
fn mailbox(address: &str, name: Option<&str>) -> mime::Mailbox {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let local = local
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .map_or_else(
            || local.to_owned(),
            |l| l.replace("\\\"", "\"").replace("\\\\", "\\"),
        );
    mime::Mailbox {
        name: name.map(str::to_owned),
        local,
        domain: domain.to_owned(),
    }
}

/// The RFC 3463 status for a failure: the enhanced code from the reply text
/// when there is one (first, or after the reply code, as a temporary
/// error is kept: "451 4.3.0 ..."), else derived from the basic code.
fn status_of(action: Action, code: u16, text: &str) -> String {
    let mut words = text.split_whitespace();
    let mut first = words.next().unwrap_or("");
    if first.len() == 3 && first.bytes().all(|b| b.is_ascii_digit()) {
        first = words.next().unwrap_or("");
    }
    let parts: Vec<&str> = first.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return first.to_owned();
    }
    match (action, code) {
        (Action::Delivered | Action::Relayed, _) => "2.0.0".into(),
        (Action::Delayed, _) => "4.0.0".into(),
        (_, 500..=599) => "5.0.0".into(),
        (_, 400..=499) => "4.4.7".into(),
        _ => "5.4.7".into(),
    }
}

/// Only the printable ASCII of `s`, one line (for header-like fields).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { ' ' })
        .collect()
}

/// An address as RFC 3464 `address-type ; generic-address`: `rfc822` for
/// an ASCII one, else RFC 6533's `utf-8` type in its utf-8-addr-xtext form
/// (non-ASCII as `\x{HEX}`), which the 7bit delivery-status part can carry.
fn typed_address(kind: &str, address: &str) -> String {
    if address.is_ascii() {
        format!("{}; {}", one_line(kind), one_line(address))
    } else {
        format!(
            "utf-8; {}",
            one_line(&smtp_proto::XText::encode_utf8_addr(address))
        )
    }
}

/// The header section of a message, up to and including the empty line
/// that ends it, whether its lines end with CRLF or, in a file placed in
/// the queue by another program, a bare LF (RFC 3461 4.3: RET=HDRS returns
/// only the headers); all of `message` when it has no empty line. When
/// `message` is only the start of a message (`cut`) and holds no empty
/// line, it ends before the last field there, which may go on past the
/// cut: a text/rfc822-headers part holds whole header fields (RFC 6522
/// 3); a field whose line break is followed by a byte that does not fold
/// it on is whole (see [`Context::cut`]). The second value is true when
/// it was so shortened.
fn header_section(message: &[u8], cut: bool) -> (&[u8], bool) {
    let mut start = 0;
    // Where the last field seen begins.
    let mut field = 0;
    while let Some(nl) = message[start..].iter().position(|&b| b == b'\n') {
        let end = start + nl + 1;
        if matches!(&message[start..end], b"\n" | b"\r\n") {
            return (&message[..end], false);
        }
        if !matches!(message.get(end), Some(b' ' | b'\t') | None) {
            field = end;
        }
        start = end;
    }
    if cut {
        // The bound fell inside the empty line that ends the section: its
        // CR is all that was kept, every field before it is whole. (Queued
        // messages hold no bare CR: the SMTP server refuses one.)
        let whole = field == start && &message[start..] == b"\r";
        (&message[..field], !whole)
    } else {
        (message, false)
    }
}

/// Builds a report about `lines` for the sender of `cx.env`.
pub(crate) fn report(cx: &Context<'_>, lines: &[Line<'_>]) -> Result<Vec<u8>, mime::BuildError> {
    let hostname = cx.hostname;
    let env = cx.env;
    let failed = lines.iter().any(|l| l.action == Action::Failed);
    let delayed = lines.iter().any(|l| l.action == Action::Delayed);
    let (subject, intro) = if failed {
        (
            "Undelivered Mail Returned to Sender",
            "Your message could not be delivered to one or more recipients.",
        )
    } else if delayed {
        (
            "Delayed Mail (still being retried)",
            "Your message could not be delivered yet to one or more recipients.\r\n\
             It is still being retried; you need not send it again.",
        )
    } else {
        (
            "Successful Mail Delivery Report",
            "Your message was delivered (or handed on) as you asked to be told.",
        )
    };
    let mut human = format!(
        "This is the mail system at {hostname}.\r\n\r\n{intro}\r\n\
         The details are below; the header of your message is attached.\r\n\r\n"
    );
    let mut status = String::new();
    if let Some(id) = &env.envid {
        status.push_str(&format!("Original-Envelope-Id: {}\r\n", one_line(id)));
    }
    status.push_str(&format!(
        "Reporting-MTA: dns; {hostname}\r\nArrival-Date: {}\r\n",
        rfc5322_date(env.created)
    ));
    for l in lines {
        // The human-readable part is UTF-8 text: the address as it is.
        let addr: String = l
            .rcpt
            .address
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let diag = if l.code > 0 {
            format!("{} {}", l.code, one_line(l.text))
        } else {
            one_line(l.text)
        };
        human.push_str(&format!("<{addr}>: {}: {diag}\r\n", l.action.as_str()));
        status.push_str("\r\n");
        if let Some((kind, original)) = &l.rcpt.orcpt {
            status.push_str(&format!(
                "Original-Recipient: {}\r\n",
                typed_address(kind, original)
            ));
        }
        status.push_str(&format!(
            "Final-Recipient: {}\r\nAction: {}\r\nStatus: {}\r\n",
            typed_address("rfc822", &l.rcpt.address),
            l.action.as_str(),
            status_of(l.action, l.code, l.text)
        ));
        if !l.text.is_empty() {
            let kind = if l.code > 0 { "smtp" } else { "X-maild" };
            status.push_str(&format!("Diagnostic-Code: {kind}; {diag}\r\n"));
        }
        status.push_str(&format!("Last-Attempt-Date: {}\r\n", rfc5322_date(cx.now)));
        if let (Action::Delayed, Some(until)) = (l.action, cx.retry_until) {
            status.push_str(&format!("Will-Retry-Until: {}\r\n", rfc5322_date(until)));
        }
    }
    let full = cx.full && failed;
    let eight_bit = full && !cx.original.is_ascii();
    let (headers, shortened) = header_section(cx.original, cx.cut);
    let build = |full: bool| {
        let mut human = human.clone();
        let original = if full {
            BodyPart::message(cx.original.to_vec()).description("Undelivered message")
        } else {
            if shortened {
                human.push_str(
                    "\r\nThe header of your message is too long to be attached whole: \
                     it is shortened to its first fields.\r\n",
                );
            }
            BodyPart::raw("text/rfc822-headers", headers.to_vec()).description("Message headers")
        };
        let report = BodyPart::multipart(
            "report",
            vec![
                BodyPart::text(&human).description("Notification"),
                // RFC 3464 fields are ASCII lines: sent as 7bit, readable as is.
                BodyPart::raw("message/delivery-status", status.clone().into_bytes())
                    .encoding(mime::TransferEncoding::SevenBit)
                    .description("Delivery report"),
                original,
            ],
        )
        .param("report-type", "delivery-status");
        // A UTF-8 sender (SMTPUTF8) needs UTF-8 header fields (RFC 6532); an
        // 8-bit original needs an 8bit body.
        let transport = mime::Transport {
            utf8_headers: !env.sender.is_ascii(),
            eight_bit,
            ..mime::Transport::default()
        };
        MessageBuilder::new()
            .transport(transport)
            // The returned original (or its header section) is what the sender
            // gave us; a stray bare CR or LF in it is made CRLF rather than
            // fail the report (RFC 2046 section 4.1.1, RFC 2045 section 2.7).
            .normalize_line_endings(true)
            .from(mailbox(
                &format!("MAILER-DAEMON@{hostname}"),
                Some("Mail Delivery System"),
            ))
            .to(mailbox(&env.sender, None))
            .subject(subject)
            .header("Auto-Submitted", "auto-replied")
            .body(report)
            .build_at(i64::try_from(cx.now).unwrap_or(0), 0)
    };
    // An original that cannot be carried whole (lines over 998 bytes with
    // 8-bit data) is reported with its header section only.
    build(full).or_else(|_| build(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_section_ends_at_the_first_empty_line() {
        assert_eq!(
            header_section(b"A: 1\r\n\r\nbody\r\n\r\n", false).0,
            b"A: 1\r\n\r\n"
        );
        assert_eq!(
            header_section(b"A: 1\nB: 2\n\nbody\n\n", false).0,
            b"A: 1\nB: 2\n\n"
        );
        assert_eq!(
            header_section(b"A: 1\r\nB: x\n\r\nbody", false).0,
            b"A: 1\r\nB: x\n\r\n"
        );
        assert_eq!(header_section(b"A: 1\r\n", false).0, b"A: 1\r\n");
        assert_eq!(header_section(b"\r\nbody", false).0, b"\r\n");
        // Only the start of a message: whole fields, none past the cut.
        let cut = |m: &'static [u8]| header_section(m, true);
        assert_eq!(
            cut(b"A: 1\r\nB: 2\r\n\r\nbo"),
            (&b"A: 1\r\nB: 2\r\n\r\n"[..], false)
        );
        assert_eq!(cut(b"A: 1\r\nB: 2\r\nC: th"), (&b"A: 1\r\nB: 2\r\n"[..], true));
        assert_eq!(
            cut(b"A: 1\r\nB: 2\r\n"),
            (&b"A: 1\r\n"[..], true),
            "B may be folded on"
        );
        assert_eq!(cut(b"A: 1\r\nB: 2\r\n more\r\n\tmo"), (&b"A: 1\r\n"[..], true));
        assert_eq!(cut(b"A: a very long field"), (&b""[..], true));
        // The bound inside the empty line: every field is quoted, and the
        // report does not call the header shortened.
        assert_eq!(cut(b"A: 1\r\nB: 2\r\n\r"), (&b"A: 1\r\nB: 2\r\n"[..], false));
        // A CR that starts a folded line's successor is no such thing.
        assert_eq!(cut(b"A: 1\r\nB: 2\r\n x\r"), (&b"A: 1\r\n"[..], true));
    }

    fn line<'a>(rcpt: &'a Recipient, action: Action, code: u16, text: &'a str) -> Line<'a> {
        Line {
            rcpt,
            action,
            code,
            text,
        }
    }

    #[test]
    fn failure_report_has_the_three_parts() {
        let mut env = Envelope::new("alice@a.test", &["bob@b.test".into(), "carol@b.test".into()], 100);
        env.envid = Some("QQ314159".into());
        env.recipients[0].orcpt = Some(("rfc822".into(), "Bob@B.test".into()));
        let original = b"Subject: hi\r\nFrom: alice@a.test\r\n\r\nbody that is not copied\r\n";
        let cx = Context {
            hostname: "mx.a.test",
            env: &env,
            original,
            cut: false,
            full: false,
            retry_until: None,
            now: 200,
        };
        let out = report(
            &cx,
            &[line(
                &env.recipients[0],
                Action::Failed,
                550,
                "5.1.1 no such user",
            )],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("multipart/report"), "{text}");
        assert!(text.contains("report-type=delivery-status"), "{text}");
        assert!(text.contains("message/delivery-status"));
        assert!(text.contains("Original-Envelope-Id: QQ314159\r\nReporting-MTA: dns; mx.a.test\r\n"));
        assert!(
            text.contains(
                "Original-Recipient: rfc822; Bob@B.test\r\nFinal-Recipient: rfc822; bob@b.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            ),
            "{text}"
        );
        assert!(text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user"));
        assert!(!text.contains("carol@b.test"));
        assert!(text.contains("Subject: hi"));
        assert!(text.contains("text/rfc822-headers"));
        assert!(!text.contains("body that is not copied"));
        assert!(text.contains("To: alice@a.test"));
        assert!(text.contains("Subject: Undelivered Mail Returned to Sender"));

        // RET=FULL: the whole message as message/rfc822.
        let full = Context { full: true, ..cx };
        let text =
            String::from_utf8(report(&full, &[line(&env.recipients[0], Action::Failed, 550, "no")]).unwrap())
                .unwrap();
        assert!(text.contains("Content-Type: message/rfc822"), "{text}");
        assert!(text.contains("body that is not copied"), "{text}");
        // ... but a success report never carries the body.
        let text = String::from_utf8(
            report(
                &full,
                &[line(&env.recipients[1], Action::Relayed, 250, "2.0.0 ok")],
            )
            .unwrap(),
        )
        .unwrap();
        assert!(!text.contains("body that is not copied"), "{text}");
        assert!(text.contains("Action: relayed\r\nStatus: 2.0.0\r\n"), "{text}");
        assert!(
            text.contains("Subject: Successful Mail Delivery Report"),
            "{text}"
        );

        let delayed = Context {
            retry_until: Some(5000),
            ..cx
        };
        let text = String::from_utf8(
            report(
                &delayed,
                &[line(&env.recipients[1], Action::Delayed, 0, "451 4.3.0 busy")],
            )
            .unwrap(),
        )
        .unwrap();
        assert!(text.contains("Action: delayed\r\nStatus: 4.3.0\r\n"), "{text}");
        assert!(text.contains("Will-Retry-Until: "), "{text}");
        assert!(text.contains("Subject: Delayed Mail"), "{text}");

        let utf8 = Envelope {
            sender: "jörg@a.test".into(),
            ..env.clone()
        };
        let cx = Context { env: &utf8, ..cx };
        let out = String::from_utf8(
            report(&cx, &[line(&utf8.recipients[0], Action::Failed, 0, "gave up")]).unwrap(),
        )
        .unwrap();
        assert!(out.contains("To: jörg@a.test"), "{out}");
        assert_eq!(status_of(Action::Failed, 451, "try later"), "4.4.7");
        assert_eq!(status_of(Action::Delayed, 0, "452 4.2.2 mailbox full"), "4.2.2");
        assert_eq!(status_of(Action::Delayed, 0, "connection refused"), "4.0.0");
        assert_eq!(status_of(Action::Failed, 0, "gave up"), "5.4.7");
    }

    /// The message/delivery-status part of a built report, read with mime's
    /// RFC 3464 parser.
    fn read_back(report: &[u8], check: impl Fn(&mime::DeliveryStatus<'_>)) {
        let m = mime::Message::parse(report);
        let id = m
            .walk()
            .find(|&id| m.parts[id].content_type.is("message", "delivery-status"))
            .expect("a delivery-status part");
        let (body, _) = m.decoded_body(id);
        let dsn = mime::DeliveryStatus::parse(&body).unwrap_or_else(|e| panic!("{e}"));
        check(&dsn);
    }

    #[test]
    fn reports_read_back_as_rfc_3464() {
        let mut env = Envelope::new("alice@a.test", &["bob@b.test".into(), "carol@b.test".into()], 100);
        env.envid = Some("QQ314159".into());
        env.recipients[0].orcpt = Some(("rfc822".into(), "Bob@B.test".into()));
        let cx = Context {
            hostname: "mx.a.test",
            env: &env,
            original: b"Subject: hi\r\n\r\nbody\r\n",
            cut: false,
            full: false,
            retry_until: Some(5000),
            now: 200,
        };
        let lines = [
            line(&env.recipients[0], Action::Failed, 550, "5.1.1 no such user"),
            line(&env.recipients[1], Action::Delayed, 0, "451 4.3.0 busy"),
        ];
        read_back(&report(&cx, &lines).unwrap(), |d| {
            let m = &d.per_message;
            assert_eq!(m.original_envelope_id.as_deref(), Some(&b"QQ314159"[..]));
            assert!(m.reporting_mta.kind_is("dns"));
            assert_eq!(&*m.reporting_mta.value, b"mx.a.test");
            assert_eq!(m.arrival_date.map(|t| t.unix_time()), Some(100));
            assert_eq!(d.recipients.len(), 2);
            let (a, b) = (&d.recipients[0], &d.recipients[1]);
            assert_eq!(&*a.original_recipient.as_ref().unwrap().value, b"Bob@B.test");
            assert_eq!(&*a.final_recipient.value, b"bob@b.test");
            assert_eq!(
                (a.action, a.status.to_string()),
                (mime::DsnAction::Failed, "5.1.1".into())
            );
            let diag = a.diagnostic_code.as_ref().unwrap();
            assert!(diag.kind_is("smtp"));
            assert_eq!(&*diag.value, b"550 5.1.1 no such user");
            assert_eq!(a.last_attempt_date.map(|t| t.unix_time()), Some(200));
            assert_eq!(a.will_retry_until, None);
            assert_eq!(&*b.final_recipient.value, b"carol@b.test");
            assert_eq!(b.action, mime::DsnAction::Delayed);
            assert!(b.diagnostic_code.as_ref().unwrap().kind_is("X-maild"));
            assert_eq!(b.will_retry_until.map(|t| t.unix_time()), Some(5000));
        });
        let ok = [line(
            &env.recipients[1],
            Action::Delivered,
            250,
            "2.0.0 delivered",
        )];
        read_back(&report(&cx, &ok).unwrap(), |d| {
            assert_eq!(d.recipients[0].action, mime::DsnAction::Delivered);
            assert_eq!(d.recipients[0].status.to_string(), "2.0.0");
        });
    }
}
