//! Non-delivery reports: RFC 3464 `multipart/report; report-type=delivery-status`
//! (RFC 6522), built with mime's builder: a human-readable part, the
//! `message/delivery-status` fields, and the original header section as
//! `text/rfc822-headers`.

use crate::store::rfc5322_date;
use examples::spool::{Envelope, RcptStatus};
use mime::{BodyPart, MessageBuilder};

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
/// when there is one, else derived from the basic code.
fn status_of(code: u16, text: &str) -> String {
    let first = text.split_whitespace().next().unwrap_or("");
    let parts: Vec<&str> = first.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return first.to_owned();
    }
    match code {
        500..=599 => "5.0.0".into(),
        400..=499 => "4.4.7".into(),
        _ => "5.4.7".into(),
    }
}

/// Only the printable ASCII of `s`, one line (for header-like fields).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { ' ' })
        .collect()
}

/// The header section of a message (up to and including the empty line).
fn header_section(message: &[u8]) -> &[u8] {
    message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message, |i| &message[..i + 4])
}

/// Builds the bounce for the failed recipients of `env`, addressed to its sender.
pub(crate) fn bounce(
    hostname: &str,
    env: &Envelope,
    original: &[u8],
    now: u64,
) -> Result<Vec<u8>, mime::BuildError> {
    let failed: Vec<(&str, u16, &str)> = env
        .recipients
        .iter()
        .filter_map(|r| match &r.status {
            RcptStatus::Failed { code, text } => Some((r.address.as_str(), *code, text.as_str())),
            _ => None,
        })
        .collect();
    let mut human = format!(
        "This is the mail system at {hostname}.\r\n\r\n\
         Your message could not be delivered to one or more recipients.\r\n\
         The details are below; the header of your message is attached.\r\n\r\n"
    );
    let mut status = format!(
        "Reporting-MTA: dns; {hostname}\r\nArrival-Date: {}\r\n",
        rfc5322_date(env.created)
    );
    for (addr, code, text) in &failed {
        let diag = if *code > 0 {
            format!("{code} {}", one_line(text))
        } else {
            one_line(text)
        };
        human.push_str(&format!("<{}>: {diag}\r\n", one_line(addr)));
        status.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: {}\r\n",
            one_line(addr),
            status_of(*code, text)
        ));
        if *code > 0 {
            status.push_str(&format!("Diagnostic-Code: smtp; {diag}\r\n"));
        } else {
            status.push_str(&format!("Diagnostic-Code: X-maild; {diag}\r\n"));
        }
        status.push_str(&format!("Last-Attempt-Date: {}\r\n", rfc5322_date(now)));
    }
    let report = BodyPart::multipart(
        "report",
        vec![
            BodyPart::text(&human).description("Notification"),
            // RFC 3464 fields are ASCII lines: sent as 7bit, readable as is.
            BodyPart::raw("message/delivery-status", status.into_bytes())
                .encoding(mime::TransferEncoding::SevenBit)
                .description("Delivery report"),
            BodyPart::raw("text/rfc822-headers", header_section(original).to_vec())
                .description("Undelivered message headers"),
        ],
    )
    .param("report-type", "delivery-status");
    // A UTF-8 sender (SMTPUTF8) needs UTF-8 header fields (RFC 6532).
    let transport = mime::Transport {
        utf8_headers: !env.sender.is_ascii(),
        ..mime::Transport::default()
    };
    MessageBuilder::new()
        .transport(transport)
        .from(mailbox(
            &format!("MAILER-DAEMON@{hostname}"),
            Some("Mail Delivery System"),
        ))
        .to(mailbox(&env.sender, None))
        .subject("Undelivered Mail Returned to Sender")
        .header("Auto-Submitted", "auto-replied")
        .body(report)
        .build_at(i64::try_from(now).unwrap_or(0), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_has_the_three_parts() {
        let mut env = Envelope::new("alice@a.test", &["bob@b.test".into(), "carol@b.test".into()], 100);
        env.recipients[0].status = RcptStatus::Failed {
            code: 550,
            text: "5.1.1 no such user".into(),
        };
        env.recipients[1].status = RcptStatus::Delivered;
        let original = b"Subject: hi\r\nFrom: alice@a.test\r\n\r\nbody that is not copied\r\n";
        let out = bounce("mx.a.test", &env, original, 200).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("multipart/report"), "{text}");
        assert!(text.contains("report-type=delivery-status"), "{text}");
        assert!(text.contains("message/delivery-status"));
        assert!(
            text.contains("Final-Recipient: rfc822; bob@b.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
            "{text}"
        );
        assert!(text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user"));
        assert!(!text.contains("carol@b.test"));
        assert!(text.contains("Subject: hi"));
        assert!(!text.contains("body that is not copied"));
        assert!(text.contains("To: alice@a.test"));
        let utf8 = Envelope {
            sender: "jörg@a.test".into(),
            ..env.clone()
        };
        let out = String::from_utf8(bounce("mx.a.test", &utf8, original, 200).unwrap()).unwrap();
        assert!(out.contains("To: jörg@a.test"), "{out}");
        assert_eq!(status_of(451, "try later"), "4.4.7");
        assert_eq!(status_of(0, "gave up"), "5.4.7");
    }
}
