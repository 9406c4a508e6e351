//! Session 24: maild's relay path (spool, MX routing, queue runner, bounces)
//! against RFC 5321, RFC 3461/3463/3464, RFC 6152, RFC 6531 and RFC 7505.
//! Each test that closes a gap failed on the code before its fix; the
//! comment above it says what was wrong. The others pin behaviour that was
//! checked and found right.
//!
//! The shared harness is in `common/mod.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

mod common;
use common::*;

/// How a scripted hop answers a RCPT: the address and how many times it
/// was given before (0 the first time).
type RcptRule = fn(&str, usize) -> &'static str;

/// A next hop with a fixed EHLO answer and scripted RCPT replies; records
/// every command line and every message body it accepts.
struct Hop {
    port: u16,
    commands: Arc<Mutex<Vec<String>>>,
    messages: Arc<Mutex<Vec<String>>>,
}

/// How a scripted hop answers a MAIL: how many MAIL commands it had before.
type MailRule = fn(usize) -> &'static str;

fn mail_ok(_: usize) -> &'static str {
    "250 2.1.0 ok\r\n"
}

impl Hop {
    async fn start(ehlo: &'static str, rcpt: RcptRule) -> Hop {
        Hop::scripted(ehlo, mail_ok, rcpt).await
    }

    /// As [`start`](Self::start), with MAIL answered by `mail`; after a
    /// refused MAIL every RCPT gets 503 (as a real server answers
    /// pipelined commands).
    async fn scripted(ehlo: &'static str, mail: MailRule, rcpt: RcptRule) -> Hop {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hop = Hop {
            port: l.local_addr().unwrap().port(),
            commands: Arc::default(),
            messages: Arc::default(),
        };
        let (commands, messages) = (hop.commands.clone(), hop.messages.clone());
        let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let mails = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        tokio::spawn(async move {
            while let Ok((tcp, _)) = l.accept().await {
                let (commands, messages, seen, mails) =
                    (commands.clone(), messages.clone(), seen.clone(), mails.clone());
                tokio::spawn(async move {
                    let (r, mut w) = tcp.into_split();
                    let mut r = tokio::io::BufReader::new(r);
                    let _ = w.write_all(b"220 hop ESMTP\r\n").await;
                    let mut line = String::new();
                    let mut accepted = 0;
                    let mut in_txn = false;
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        commands.lock().unwrap().push(line.trim_end().to_owned());
                        let cmd = line.trim_end().to_ascii_uppercase();
                        let answer: String = if cmd.starts_with("EHLO") {
                            ehlo.to_owned()
                        } else if cmd.starts_with("MAIL") {
                            accepted = 0;
                            let a = mail(mails.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
                            in_txn = a.starts_with('2');
                            a.into()
                        } else if cmd.starts_with("RCPT") && !in_txn {
                            "503 5.5.1 MAIL first\r\n".into()
                        } else if cmd.starts_with("RCPT") {
                            let addr = line
                                .split('<')
                                .nth(1)
                                .and_then(|s| s.split('>').next())
                                .unwrap_or("")
                                .to_owned();
                            let n = {
                                let mut seen = seen.lock().unwrap();
                                let n = seen.entry(addr.clone()).or_insert(0);
                                *n += 1;
                                *n - 1
                            };
                            let a = rcpt(&addr, n);
                            if a.starts_with('2') {
                                accepted += 1;
                            }
                            a.into()
                        } else if cmd == "DATA" {
                            if !in_txn {
                                "503 5.5.1 MAIL first\r\n".into()
                            } else if accepted == 0 {
                                "554 5.5.1 no valid recipients\r\n".into()
                            } else {
                                let _ = w.write_all(b"354 go on\r\n").await;
                                let mut body = String::new();
                                loop {
                                    line.clear();
                                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                        return;
                                    }
                                    if line == ".\r\n" {
                                        break;
                                    }
                                    body.push_str(&line);
                                }
                                messages.lock().unwrap().push(body);
                                in_txn = false;
                                "250 2.0.0 taken\r\n".into()
                            }
                        } else if cmd == "QUIT" {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            "250 2.0.0 ok\r\n".into()
                        };
                        let _ = w.write_all(answer.as_bytes()).await;
                    }
                });
            }
        });
        hop
    }

    fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }

    fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

fn accept_all(_: &str, _: usize) -> &'static str {
    "250 2.1.5 ok\r\n"
}

/// A maild for alice@a.test relaying everything to `hop`, retrying every second.
fn relay_to(tag: &str, hop: &Hop) -> Maild {
    relay_in(&temp_dir(tag), hop.port, &[])
}

/// Logs in as alice on the implicit-TLS submission port.
async fn alice_in(m: &Maild) -> Raw {
    logged_in(m.port("submissions"), "alice@a.test", "wonderland").await
}

// RFC 5321 6.3: "servers MUST contain provisions for detecting and
// stopping trivial loops", by counting Received fields with a threshold of
// "at least 100". maild had none: a message that already crossed 100 hops
// (a smart host pointing back, two relays routing to each other) was
// accepted and relayed again, for ever. It is now refused at the end of
// its data with 554 5.4.6 (RFC 3463: routing loop detected).
#[tokio::test]
async fn a_message_with_too_many_received_fields_is_refused() {
    let hop = Hop::start("250-hop\r\n250 8BITMIME\r\n", accept_all).await;
    let m = relay_to("loop", &hop);
    let mut looped = String::new();
    for i in 0..100 {
        looped.push_str(&format!(
            "Received: from h{i}.test by h{}.test; Tue, 1 Dec 2026 01:00:00 +0000\r\n",
            i + 1
        ));
    }
    looped.push_str("Subject: round and round\r\n\r\nagain\r\n");
    let mut c = alice_in(&m).await;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<far@c.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    c.send(looped.as_bytes()).await;
    let (code, text) = c.cmd(".").await;
    assert_eq!(code, 554, "{text}");
    assert!(text.starts_with("5.4.6"), "{text}");
    assert_eq!(m.queued(), 0, "nothing queued");

    // One hop fewer still goes.
    let fewer = looped.split_once("\r\n").unwrap().1;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<far@c.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    c.send(fewer.as_bytes()).await;
    assert_eq!(c.cmd(".").await.0, 250);
    c.cmd("QUIT").await;
    wait_for("the relayed message", || hop.count() == 1).await;
}

// RFC 6152 3 / RFC 3463 X.6.3: an 8-bit message for a hop without
// 8BITMIME must not be sent; when it is returned, the status is "5.6.3
// Conversion required but not supported". maild bounced it with 5.6.7,
// which RFC 6531 gives to non-ASCII addresses, not to 8-bit content.
#[tokio::test]
async fn an_8bit_message_for_a_7bit_hop_bounces_with_5_6_3() {
    let hop = Hop::start("250-hop\r\n250 SIZE 1000000\r\n", accept_all).await;
    let m = relay_to("8bit", &hop);
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["far@c.test"],
        "Subject: caf\u{e9}\r\n\r\nna\u{ef}ve\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the bounce", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(
        report.contains("Final-Recipient: rfc822; far@c.test\r\nAction: failed\r\nStatus: 5.6.3\r\n"),
        "{report}"
    );
    assert_eq!(hop.count(), 0, "no 8-bit data to a 7-bit hop");
    assert!(
        hop.commands().iter().all(|c| !c.starts_with("MAIL")),
        "{:?}",
        hop.commands()
    );
}

// RFC 6531 3.2: a hop without SMTPUTF8 must not get internationalized
// addresses or headers, but "for addresses and messages that do not require
// an SMTPUTF8 extension" nothing changes. maild passed the SMTPUTF8 flag of
// the incoming transaction on as a must, so an all-ASCII message whose
// client merely said SMTPUTF8 bounced (5.6.7) at every hop without the
// extension. Now it goes without the parameter; a non-ASCII address still
// bounces with 5.6.7.
#[tokio::test]
async fn smtputf8_is_needed_only_by_a_message_that_is_internationalized() {
    let hop = Hop::start("250-hop\r\n250-8BITMIME\r\n250 DSN\r\n", accept_all).await;
    let m = relay_to("utf8", &hop);
    let mut c = alice_in(&m).await;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> SMTPUTF8").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<far@c.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: plain\r\n\r\nascii only\r\n.").await.0, 250);
    wait_for("the relayed message", || hop.count() == 1).await;
    let mail = hop
        .commands()
        .into_iter()
        .find(|c| c.starts_with("MAIL"))
        .unwrap();
    assert!(!mail.contains("SMTPUTF8"), "{mail}");

    // A UTF-8 recipient needs the extension: returned with 5.6.7.
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> SMTPUTF8").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<j\u{f6}rg@c.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: plain\r\n\r\nascii only\r\n.").await.0, 250);
    c.cmd("QUIT").await;
    wait_for("the bounce", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(report.contains("Action: failed\r\nStatus: 5.6.7\r\n"), "{report}");
    assert_eq!(hop.count(), 1);
}

fn null_mx_zone(name: &str, qtype: u16) -> Option<Vec<(u16, Vec<u8>)>> {
    match (name, qtype) {
        // RFC 7505 3: one MX record, preference 0, exchange ".".
        ("c.test", 15) => Some(vec![(15, vec![0, 0, 0])]),
        ("c.test", _) => Some(vec![(1, vec![127, 0, 0, 1])]),
        _ => None,
    }
}

// RFC 7505 4.1 (with RFC 7504): mail for a domain with a null MX is
// returned at once with status 5.1.10 ("Recipient address has null MX").
// maild returned it with 5.1.2 (bad destination system address), which
// hides why.
#[tokio::test]
async fn a_null_mx_domain_is_returned_with_5_1_10() {
    let dns = fake_dns_server(null_mx_zone).await.to_string();
    let m = Maild::start(
        &temp_dir("nullmx"),
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--dns-server",
            &dns,
            "--allow-internal-relay",
        ],
    );
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["nobody@c.test"],
        "Subject: void\r\n\r\nnowhere\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the bounce", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(
        report.contains("Final-Recipient: rfc822; nobody@c.test\r\nAction: failed\r\nStatus: 5.1.10\r\n"),
        "{report}"
    );
    assert_eq!(m.queued(), 0);
}

fn flaky(addr: &str, n: usize) -> &'static str {
    match (addr, n) {
        ("flaky@c.test", 0) => "451 4.3.0 try later\r\n",
        ("flaky@c.test", _) => "550 5.1.1 no such user\r\n",
        _ => "250 2.1.5 ok\r\n",
    }
}

// Checked, found right: per-recipient results (RFC 5321 4.5.4, README's
// durability rules). A 4xx for one recipient leaves only it queued; the
// accepted one is not sent the message again; the 5xx at the retry fails
// it, and the report carries ENVID, ORCPT and the remote's status (RFC
// 3464 2.2, 2.3).
#[tokio::test]
async fn temporary_then_permanent_per_recipient() {
    let hop = Hop::start("250-hop\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n", flaky).await;
    let m = relay_to("flaky", &hop);
    let mut c = alice_in(&m).await;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> ENVID=E-24").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<ok@c.test>").await.0, 250);
    assert_eq!(
        c.cmd("RCPT TO:<flaky@c.test> ORCPT=rfc822;Flaky@C.test").await.0,
        250
    );
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: two\r\n\r\nfor both\r\n.").await.0, 250);
    c.cmd("QUIT").await;
    wait_for("the bounce", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(report.contains("Original-Envelope-Id: E-24\r\n"), "{report}");
    assert!(
        report.contains(
            "Original-Recipient: rfc822; Flaky@C.test\r\nFinal-Recipient: rfc822; flaky@c.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        ),
        "{report}"
    );
    assert!(report.contains("Arrival-Date: ") && report.contains("Reporting-MTA: dns; mx.test"));
    assert!(!report.contains("ok@c.test"), "{report}");
    wait_for("the queue emptied", || m.queued() == 0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(hop.count(), 1, "the accepted recipient got it once");
    let rcpts: Vec<String> = hop
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("RCPT"))
        .collect();
    assert_eq!(
        rcpts.iter().filter(|c| c.contains("ok@c.test")).count(),
        1,
        "{rcpts:?}"
    );
}

fn reject_all(_: &str, _: usize) -> &'static str {
    "550 5.1.1 no such user\r\n"
}

// Checked, found right: RFC 5321 4.5.5 / RFC 3461 6.2: a message with the
// null reverse-path that fails is never reported (no bounce of a bounce).
#[tokio::test]
async fn a_failing_null_sender_message_is_not_reported() {
    let hop = Hop::start("250-hop\r\n250 8BITMIME\r\n", reject_all).await;
    let m = relay_to("nullsender", &hop);
    let mut c = alice_in(&m).await;
    assert_eq!(c.cmd("MAIL FROM:<>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<far@c.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: report\r\n\r\nx\r\n.").await.0, 250);
    c.cmd("QUIT").await;
    wait_for("the attempt", || {
        hop.commands().iter().any(|c| c.starts_with("RCPT"))
    })
    .await;
    wait_for("the queue emptied", || m.queued() == 0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(reports(&m).is_empty());
    assert_eq!(m.queued(), 0, "no report queued either");
}

fn one_refused(addr: &str, _: usize) -> &'static str {
    if addr == "bad@c.test" {
        "550 5.1.1 no such user\r\n"
    } else {
        "250 2.1.5 ok\r\n"
    }
}

// README durability rules / RFC 5321 6.1: once a hop accepted a recipient,
// the message must not go to it again. When every recipient was settled
// but the failure report could not be stored (here: the sender's Maildir
// is broken), the message stayed queued with its envelope as it was before
// the attempt, every recipient still pending, and was tried again a second
// later: the recipient that had accepted it got it again, every second. The
// settled state is now recorded before the report, so only the report is
// tried again.
#[tokio::test]
async fn a_report_that_cannot_be_stored_does_not_resend_the_message() {
    let hop = Hop::start("250-hop\r\n250 8BITMIME\r\n", one_refused).await;
    let m = relay_to("report-fails", &hop);
    let maildir = m.maildir("alice@a.test");
    std::fs::create_dir_all(maildir.join("new")).unwrap();
    std::fs::create_dir_all(maildir.join("cur")).unwrap();
    let _ = std::fs::remove_dir_all(maildir.join("tmp"));
    std::fs::write(maildir.join("tmp"), b"not a directory").unwrap();
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["ok@c.test", "bad@c.test"],
        "Subject: once\r\n\r\nonly once\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250, 250], 250));
    wait_for("the delivery", || hop.count() == 1).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(hop.count(), 1, "the accepted recipient got the message again");
    assert_eq!(m.queued(), 1, "kept for its report");
    // The Maildir mended, the report goes, and the message still once.
    std::fs::remove_file(maildir.join("tmp")).unwrap();
    std::fs::create_dir(maildir.join("tmp")).unwrap();
    wait_for("the report", || reports(&m).len() == 1).await;
    wait_for("the queue emptied", || m.queued() == 0).await;
    let report = &reports(&m)[0];
    assert!(
        report.contains("Final-Recipient: rfc822; bad@c.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
        "{report}"
    );
    assert_eq!(hop.count(), 1);
}

fn busy_first(n: usize) -> &'static str {
    if n == 0 {
        "451 4.3.0 busy, try later\r\n"
    } else {
        "250 2.1.0 ok\r\n"
    }
}

// RFC 2920 3.1 / RFC 5321 4.5.4: with PIPELINING, a refused MAIL makes
// the server refuse the pipelined RCPTs too (503, "MAIL first"): those
// replies say nothing about the recipients, the transaction failed with
// the MAIL's reply. maild took each 503 as the recipient's own permanent
// refusal: a MAIL answered 451 (try later) bounced every recipient.
#[tokio::test]
async fn a_temporary_mail_refusal_with_pipelining_is_retried_not_bounced() {
    let hop = Hop::scripted(
        "250-hop\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
        busy_first,
        accept_all,
    )
    .await;
    let m = relay_to("mail-451", &hop);
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["far@c.test"],
        "Subject: later\r\n\r\nplease retry\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the delivery at the retry, or a bounce", || {
        hop.count() == 1 || !reports(&m).is_empty()
    })
    .await;
    assert!(reports(&m).is_empty(), "bounced: {:?}", reports(&m));
    wait_for("the queue emptied", || m.queued() == 0).await;
    assert!(
        hop.commands().iter().any(|c| c.starts_with("RCPT")),
        "the RCPT was pipelined after the refused MAIL: {:?}",
        hop.commands()
    );
}

fn too_many(addr: &str, n: usize) -> &'static str {
    match (addr, n) {
        ("second@c.test", 0) => "552 5.5.3 Too many recipients\r\n",
        _ => "250 2.1.5 ok\r\n",
    }
}

// RFC 5321 4.5.3.1.10: a 552 to RCPT is the "too many recipients" code of
// RFC 821, which "Clients SHOULD treat ... as a temporary, rather than
// permanent, failure". maild bounced the recipient; it now stays queued
// and gets the message in a later transaction.
#[tokio::test]
async fn a_552_to_rcpt_is_temporary() {
    let hop = Hop::start("250-hop\r\n250 8BITMIME\r\n", too_many).await;
    let m = relay_to("552", &hop);
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["first@c.test", "second@c.test"],
        "Subject: many\r\n\r\nfor both\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250, 250], 250));
    wait_for("two transactions, or a bounce", || {
        hop.count() == 2 || !reports(&m).is_empty()
    })
    .await;
    assert!(reports(&m).is_empty(), "bounced: {:?}", reports(&m));
    wait_for("the queue emptied", || m.queued() == 0).await;
    let rcpts: Vec<String> = hop
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("RCPT"))
        .collect();
    assert_eq!(
        rcpts,
        [
            "RCPT TO:<first@c.test>",
            "RCPT TO:<second@c.test>",
            "RCPT TO:<second@c.test>"
        ],
        "the accepted recipient once"
    );
}

// RFC 1870 6.1: a message larger than the hop's SIZE is not sent; it is
// returned at once with 5.3.4 (RFC 3463: message too big for system). That
// was right, but the report gave "Diagnostic-Code: smtp; 554 ...", a reply
// the hop never sent (RFC 3464 2.3.6: the diagnostic code "issued by the
// mail transport"): this relay's own finding is now given as its own.
#[tokio::test]
async fn a_message_over_the_hops_size_is_returned() {
    let hop = Hop::start("250-hop\r\n250-8BITMIME\r\n250 SIZE 64\r\n", accept_all).await;
    let m = relay_to("size", &hop);
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["far@c.test"],
        "Subject: big\r\n\r\nmore than sixty-four bytes with the trace field added\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the bounce", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(report.contains("Action: failed\r\nStatus: 5.3.4\r\n"), "{report}");
    assert!(
        report.contains("Diagnostic-Code: X-maild; 5.3.4 "),
        "no SMTP reply was received: {report}"
    );
    assert!(hop.commands().iter().all(|c| !c.starts_with("MAIL")));
    wait_for("the queue emptied", || m.queued() == 0).await;
}

fn one_refused_one_deferred(addr: &str, _: usize) -> &'static str {
    if addr == "bad@c.test" {
        "550 5.1.1 no such user\r\n"
    } else {
        "451 4.3.0 try later\r\n"
    }
}

// RFC 5321 6.1 ("If there is a delivery failure after acceptance of a
// message, the receiver-SMTP MUST formulate and mail a notification
// message"): a recipient refused for good was reported only when every
// other recipient of the message was settled too, so a sender learnt of a
// hard failure days late (at the give-up time) whenever another recipient
// was being retried. The failure is now reported after the attempt that
// found it, once (the spool remembers it was reported).
#[tokio::test]
async fn a_permanent_failure_is_reported_while_others_are_retried() {
    let hop = Hop::start("250-hop\r\n250 8BITMIME\r\n", one_refused_one_deferred).await;
    let m = relay_to("early-bounce", &hop);
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["later@c.test", "bad@c.test"],
        "Subject: mixed\r\n\r\none fails, one waits\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250, 250], 250));
    wait_for("the failure report", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(
        report.contains("Final-Recipient: rfc822; bad@c.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
        "{report}"
    );
    assert!(!report.contains("later@c.test"), "{report}");
    assert_eq!(m.queued(), 1, "still retrying later@c.test");
    // Later attempts do not report it again.
    wait_for("two more attempts", || {
        hop.commands()
            .iter()
            .filter(|c| c.contains("later@c.test"))
            .count()
            >= 3
    })
    .await;
    assert_eq!(reports(&m).len(), 1);
    let rcpts: Vec<String> = hop
        .commands()
        .into_iter()
        .filter(|c| c.contains("bad@c.test"))
        .collect();
    assert_eq!(rcpts.len(), 1, "the refused recipient is not tried again");
}

fn always_busy(_: &str, _: usize) -> &'static str {
    "452 4.2.2 mailbox full\r\n"
}

// RFC 3464 2.3.4 / RFC 3463: the Status of a "delayed" report is the
// status of the delay. The hop's last reply ("452 4.2.2 mailbox full") was
// kept with its reply code first, and the report builder looked for the
// enhanced code only in the first word, so every delay report said 4.0.0
// (other or undefined status). It now says 4.2.2.
#[tokio::test]
async fn a_delay_report_carries_the_hops_status() {
    let hop = Hop::start("250-hop\r\n250 8BITMIME\r\n", always_busy).await;
    let m = relay_in(&temp_dir("delay-status"), hop.port, &["--delay-warning", "1s"]);
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["full@c.test"],
        "Subject: waiting\r\n\r\nstill trying\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the delay report", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(
        report.contains("Final-Recipient: rfc822; full@c.test\r\nAction: delayed\r\nStatus: 4.2.2\r\n"),
        "{report}"
    );
}

// RFC 6531 3.2 again: what must not reach a hop without SMTPUTF8 is a
// UTF-8 address or "internationalized mail headers ... at any level within
// its MIME structure"; an 8-bit body (UTF-8 text under 8BITMIME, RFC 6152)
// is not one. maild took any non-ASCII content of a message received with
// SMTPUTF8 as needing the extension and bounced it; it now looks at the
// header blocks of every MIME part (and still returns a message whose
// header, or a nested message's, is UTF-8).
#[tokio::test]
async fn an_8bit_body_with_ascii_headers_needs_no_smtputf8() {
    let hop = Hop::start("250-hop\r\n250 8BITMIME\r\n", accept_all).await;
    let m = relay_to("utf8-body", &hop);
    let mut c = alice_in(&m).await;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> SMTPUTF8").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<far@c.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    let body = "Subject: plain\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
                Content-Transfer-Encoding: 8bit\r\n\r\nna\u{ef}ve caf\u{e9}\r\n.";
    assert_eq!(c.cmd(body).await.0, 250);
    wait_for("the relayed message, or a bounce", || {
        hop.count() == 1 || !reports(&m).is_empty()
    })
    .await;
    assert!(reports(&m).is_empty(), "bounced: {:?}", reports(&m));
    let mail = hop
        .commands()
        .into_iter()
        .find(|c| c.starts_with("MAIL"))
        .unwrap();
    assert!(
        mail.contains("BODY=8BITMIME") && !mail.contains("SMTPUTF8"),
        "{mail}"
    );

    // A UTF-8 field in a nested message's header needs the extension.
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> SMTPUTF8").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<far@c.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    let nested = "Subject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
                  --b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n\
                  --b\r\nContent-Type: message/global\r\n\r\nSubject: caf\u{e9}\r\n\r\ninner\r\n--b--\r\n.";
    assert_eq!(c.cmd(nested).await.0, 250);
    c.cmd("QUIT").await;
    wait_for("the bounce", || reports(&m).len() == 1).await;
    assert!(
        reports(&m)[0].contains("Action: failed\r\nStatus: 5.6.7\r\n"),
        "{:?}",
        reports(&m)
    );
    assert_eq!(hop.count(), 1);
}
