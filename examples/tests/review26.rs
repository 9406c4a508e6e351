//! Session 26: gaps in the example programs found by review. Each test
//! failed on the code before its fix; the comment above it says what was
//! wrong.
//!
//! The shared harness is in `common/mod.rs`.

mod common;
use common::*;

// `maild --relay-insecure` without --relay-host was accepted and ignored:
// it relaxes TLS only for a configured smart host (MX hosts always get
// opportunistic TLS, RFC 7435 / RFC 3207), so a user who gave it alone
// believed it did something. It is now refused at start, the same way as
// --relay-ca and --relay-auth without --relay-host.
#[test]
fn maild_refuses_relay_only_flags_without_relay_host() {
    let dir = temp_dir("r26-relay-only");
    for flag in [
        &["--relay-insecure"][..],
        &["--relay-ca", "ca.pem"],
        &["--relay-auth", "user:password"],
    ] {
        let mut args = vec!["--data-dir", "data"];
        args.extend_from_slice(flag);
        args.extend(MAILD_NO_LISTENERS);
        let line = clap_refuses(env!("CARGO_BIN_EXE_maild"), &args, &dir);
        assert!(
            line.starts_with("error: the following required arguments were not provided"),
            "{flag:?}: {line}"
        );
        let (_, err) = run_to_exit(env!("CARGO_BIN_EXE_maild"), &args, &dir);
        assert!(err.contains("--relay-host"), "{flag:?}: {err}");
        assert!(!dir.join("data").exists(), "{flag:?}: data directory created");
        let text = flag_help(&help(env!("CARGO_BIN_EXE_maild")), flag[0]);
        assert!(text.contains("Only with --relay-host"), "{flag:?}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// The other way round: `--dns-server` and `--mx-port` are used only for MX
// lookups and MX hosts, and with --relay-host every message goes to the
// smart host, so maild accepted and ignored them. Giving one with
// --relay-host is now refused at start.
#[test]
fn maild_refuses_mx_only_flags_with_relay_host() {
    let dir = temp_dir("r26-mx-only");
    for flag in [["--dns-server", "127.0.0.1:53"], ["--mx-port", "2525"]] {
        let mut args = vec!["--data-dir", "data", "--relay-host", "127.0.0.1:9"];
        args.extend_from_slice(&flag);
        args.extend(MAILD_NO_LISTENERS);
        let line = clap_refuses(env!("CARGO_BIN_EXE_maild"), &args, &dir);
        assert!(line.contains("cannot be used with"), "{flag:?}: {line}");
        assert!(line.contains("--relay-host"), "{flag:?}: {line}");
        assert!(!dir.join("data").exists(), "{flag:?}: data directory created");
        let text = flag_help(&help(env!("CARGO_BIN_EXE_maild")), flag[0]);
        assert!(text.contains("Not with --relay-host"), "{flag:?}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts ftpd on `root` with the demo account (no --user), plain FTP on a
/// port the system chooses; returns it, the demo line it printed and the
/// port it serves on.
fn ftpd_with_demo(root: &std::path::Path) -> (std::process::Child, String, u16) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ftpd"))
        .arg("--root")
        .arg(root)
        .args(["--listen", "127.0.0.1:0", "--no-tls", "--login-delay-ms", "10"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut demo = None;
    let mut port = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("ftpd: demo account:") {
            demo = Some(line);
        } else if line.starts_with("ftpd: serving") {
            port = line.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let (Some(demo), Some(port)) = (demo, port) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("ftpd printed no demo account or no port");
    };
    (child, demo, port)
}

/// The demo password in ftpd's "demo account" line.
fn demo_password(line: &str) -> &str {
    line.split("password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password in {line:?}"))
}

// ftpd printed "demo account: user demo, password ... (read-write)" for a
// root it cannot write, and the demo user's uploads then failed one by one.
// It now tries to create (and removes) a probe file in the root at start;
// when that fails it says so and the demo account is read-only, so STOR
// gets 550 at once (RFC 959 4.2: "Requested action not taken"). /sys
// stands for such a root: no one, root included, can create a file there,
// whatever the mode bits say (a test run as root cannot make one with
// chmod, and a read-only mount needs privileges it may not have).
#[tokio::test]
async fn ftpd_demo_account_is_read_only_on_a_root_it_cannot_write() {
    let root = std::path::Path::new("/sys");
    if !root.is_dir() || std::fs::File::create(root.join(".r26-probe")).is_ok() {
        eprintln!("skipped: no /sys that refuses new files");
        return;
    }
    let (mut child, line, port) = ftpd_with_demo(root);
    let mut c = Raw::connect(port).await;
    assert_eq!(c.reply().await.0, 220);
    assert_eq!(c.cmd("USER demo").await.0, 331);
    let (login, _) = c.cmd(&format!("PASS {}", demo_password(&line))).await;
    c.epsv().await;
    let (stor, text) = c.cmd("STOR r26-upload").await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(!line.contains("read-write"), "{line}");
    assert!(line.contains("(read-only: "), "{line}");
    assert!(line.contains("/sys"), "the root is named: {line}");
    assert_eq!(login, 230);
    assert_eq!(stor, 550, "{text}");

    // A root that can be written keeps the read-write demo account, and
    // the probe leaves nothing behind.
    let dir = temp_dir("r26-ftpd-rw");
    let (mut child, line, _) = ftpd_with_demo(&dir);
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.ends_with("(read-write)"), "{line}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A header section of exactly `len` bytes (at least 128) and no empty
/// line, as a header-only message is: 63-byte `X-Fill-NNNNN` fields, then
/// one `X-Last` field of 63 to 125 bytes that ends it.
fn header_only(len: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    while len - out.len() >= 128 {
        out.push_str(&format!("X-Fill-{n:05}: {}\r\n", "a".repeat(47)));
        n += 1;
    }
    let rest = len - out.len();
    out.push_str(&format!("X-Last: {}\r\n", "z".repeat(rest - 10)));
    assert_eq!(out.len(), len);
    out
}

/// The text/rfc822-headers part of a report: what it quotes.
fn quoted_header(report: &str) -> &str {
    let part = report
        .split("Content-Type: text/rfc822-headers")
        .nth(1)
        .unwrap_or_else(|| panic!("no text/rfc822-headers part: {report}"));
    let (_, quoted) = part.split_once("\r\n\r\n").unwrap();
    // The CRLF before the boundary belongs to the boundary (RFC 2046 5.1.1).
    &quoted[..quoted.find("\r\n--").unwrap()]
}

/// The report (a multipart/report) among alice@a.test's messages.
async fn alices_report(m: &Maild) -> String {
    let find = || reports(m).into_iter().find(|r| r.contains("multipart/report"));
    wait_for("the report", || find().is_some()).await;
    find().unwrap()
}

/// Sends `message` from alice@a.test to `rcpt` (with `params`) over
/// submission, with RET=HDRS; it must be accepted.
async fn send_as_alice(m: &Maild, rcpt: &str, params: &str, message: &str) {
    let mut c = logged_in(m.port("submissions"), "alice@a.test", "wonderland").await;
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> RET=HDRS").await.0, 250);
    assert_eq!(c.cmd(&format!("RCPT TO:<{rcpt}> {params}")).await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    c.send(message.as_bytes()).await;
    let (code, text) = c.cmd(".").await;
    assert_eq!(code, 250, "{text}");
    c.cmd("QUIT").await;
}

/// What maild keeps of a message's header for the reports it writes as it
/// receives one (smtp.rs `HEAD_MAX`).
const RECEIVED_BOUND: usize = 64 * 1024;

// RFC 3461 4.3 (RET=HDRS) and RFC 3464 2 / RFC 6522 3: a report quotes
// the original's header fields, whole. maild keeps at most 64 KiB of a
// header for the reports it writes while receiving (here a "delivered"
// report, NOTIFY=SUCCESS). A header-only message of exactly 64 KiB
// (complete: no empty line, no body) filled that bound, was taken as cut
// there, and its last field was left out of the report, which said the
// header was shortened. It is now quoted whole.
#[tokio::test]
async fn a_header_only_message_of_exactly_the_bound_is_quoted_whole() {
    let dir = temp_dir("r26-head-exact");
    let m = relay_in(&dir, free_port(), &[]);
    let message = header_only(RECEIVED_BOUND);
    send_as_alice(&m, "alice@a.test", "NOTIFY=SUCCESS", &message).await;
    let report = alices_report(&m).await;
    assert!(report.contains("Action: delivered"), "{}", &report[..2000]);
    let quoted = quoted_header(&report);
    assert_eq!(quoted, message, "quoted: ...{}", &quoted[quoted.len() - 200..]);
    assert!(!report.contains("shortened"), "{}", &report[..2000]);
}

// One byte over the bound, the last field is cut by it: it is still left
// out whole (never quoted cut, RFC 6522 3), and the report says the header
// was shortened. And a field that ends exactly at the bound, with another
// after it, is whole and fits: it is quoted (maild dropped it too, not
// knowing whether a folded line went on past the bound); the field after
// it is left out.
#[tokio::test]
async fn a_header_over_the_bound_is_quoted_up_to_the_last_whole_field() {
    let dir = temp_dir("r26-head-over");
    let m = relay_in(&dir, free_port(), &[]);
    let over = header_only(RECEIVED_BOUND + 1);
    send_as_alice(&m, "alice@a.test", "NOTIFY=SUCCESS", &over).await;
    let report = alices_report(&m).await;
    let quoted = quoted_header(&report);
    let kept = &over[..over.find("X-Last:").unwrap()];
    assert_eq!(quoted, kept, "quoted: ...{}", &quoted[quoted.len() - 200..]);
    assert!(report.contains("shortened"), "{}", &report[..2000]);
    for p in m.messages("alice@a.test") {
        std::fs::remove_file(p).unwrap();
    }

    let at_bound = header_only(RECEIVED_BOUND);
    let message = format!("{at_bound}X-After: the bound\r\n");
    send_as_alice(&m, "alice@a.test", "NOTIFY=SUCCESS", &message).await;
    let report = alices_report(&m).await;
    let quoted = quoted_header(&report);
    assert_eq!(quoted, at_bound, "quoted: ...{}", &quoted[quoted.len() - 200..]);
    assert!(report.contains("shortened"), "{}", &report[..2000]);
}

// The relay queue's reports (here "delayed", RET=HDRS) quote the queued
// message, read up to 256 KiB: a 64 KiB header-only message is quoted
// whole there too, after the fields maild added (Received, Date,
// Message-ID).
#[tokio::test]
async fn a_delay_report_quotes_a_64_kib_header_only_message_whole() {
    let dir = temp_dir("r26-head-delay");
    let m = relay_in(&dir, free_port(), &["--delay-warning", "1s"]);
    let message = header_only(RECEIVED_BOUND);
    send_as_alice(&m, "far@c.test", "NOTIFY=DELAY,FAILURE", &message).await;
    let report = alices_report(&m).await;
    assert!(report.contains("Action: delayed"), "{}", &report[..2000]);
    let quoted = quoted_header(&report);
    assert!(
        quoted.ends_with(&message),
        "quoted: ...{}",
        &quoted[quoted.len() - 200..]
    );
    assert!(!report.contains("shortened"), "{}", &report[..2000]);
}

/// How much of a queued message the queue reads for a report that quotes
/// its header (queue.rs `HEAD_LIMIT`).
const QUEUE_BOUND: usize = 256 * 1024;

// The same bound in the relay queue, for a message another program
// placed there: exactly at the bound it is quoted whole; a field that ends
// exactly at the bound, with more after it, is whole and quoted, the rest
// left out and the header said to be shortened; one byte over, the field
// the bound cuts is left out.
#[tokio::test]
async fn queued_header_only_messages_at_and_over_the_bound() {
    let exact = header_only(QUEUE_BOUND);
    let over = header_only(QUEUE_BOUND + 1);
    let cases = [
        (exact.clone(), exact.as_str(), false),
        (format!("{exact}X-After: the bound\r\n"), exact.as_str(), true),
        (over.clone(), &over[..over.find("X-Last:").unwrap()], true),
    ];
    for (n, (message, want, shortened)) in cases.iter().enumerate() {
        let dir = temp_dir("r26-head-queue");
        queue_failed(&dir.join("queue"), "q-1", "ret hdrs\n", message.as_bytes());
        let m = Maild::start(&dir, 0, &["--user", "alice@a.test:wonderland"]);
        let report = alices_report(&m).await;
        let quoted = quoted_header(&report);
        let tail = &quoted[quoted.len().saturating_sub(200)..];
        assert!(quoted == *want, "case {n}: quoted: ...{tail}");
        assert_eq!(report.contains("shortened"), *shortened, "case {n}");
    }
}

// RFC 5321 4.5.3.1.8: "The minimum total number of recipients that MUST be
// buffered is 100 recipients." maild allows a smaller --max-recipients (a
// site's policy: a client told 452 sends the rest later, 4.5.3.1.10), but
// says so in its log at start, naming the rule, instead of nothing. So for
// a POP3 autologout timer under the 10 minutes of RFC 1939 section 3.
#[tokio::test]
async fn maild_warns_of_limits_below_the_rfc_minimums() {
    let dir = temp_dir("r26-shortfall");
    let log = dir.with_extension("log");
    let m = Maild::start_logging(&dir, 0, &["--max-recipients", "10", "--pop3-timeout", "1m"], &log);
    wait_for("the warnings", || {
        std::fs::read_to_string(&log).is_ok_and(|t| {
            t.contains("smtp: recipients is 10, below the 100 of RFC 5321 4.5.3.1.8")
                && t.contains("pop3: autologout is 60, below the 600 of RFC 1939 3")
        })
    })
    .await;
    drop(m);
    let _ = std::fs::remove_file(&log);
    // The default limits meet every minimum: no such warning.
    let dir = temp_dir("r26-no-shortfall");
    let log = dir.with_extension("log");
    let _running = Maild::start_logging(&dir, 0, &[], &log);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(!text.contains("below the"), "{text}");
}
