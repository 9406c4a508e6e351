//! Session 25: maild's relay spool and Maildir store. Each test closes a
//! gap and failed on the code before its fix; the comment above it says
//! what was wrong and quotes the rule.
//!
//! The shared harness is in `common/mod.rs`.

mod common;
use common::*;

// RFC 1939 5, LIST: "the exact size of the message in octets"; RFC 1939 11:
// "the POP3 server simply counts each occurrence of this character in a
// message as two octets". Dovecot's ",S=<size>" in a Maildir name is the
// size as stored, which for a file with LF line ends is less than what
// RETR sends (every line end as CRLF); only ",W=<size>" is the size on the
// wire. maild took ",S=" for the wire size when ",W=" was missing (a
// Maildir written by a Dovecot without the W= option, or by another MDA
// that follows the S= convention), so LIST, STAT and "+OK n octets"
// understated such messages. It now counts the wire size unless ",W=" is
// there, and names its own deliveries with both.
#[tokio::test]
async fn an_s_size_without_w_is_not_taken_for_the_wire_size() {
    let dir = temp_dir("pop3-s-only");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let stored = "Subject: lf\n\nline one\nline two\n";
    let sent = stored.replace('\n', "\r\n");
    place(
        &m,
        &[(&format!("new/1700000000.M1P1Q1.other,S={}", stored.len()), stored)],
    );
    let mut p = login(&m).await;
    assert_eq!(pop_cmd(&mut p, "LIST 1").await, format!("+OK 1 {}", sent.len()));
    assert_eq!(pop_cmd(&mut p, "STAT").await, format!("+OK 1 {}", sent.len()));
    let reply = pop_cmd(&mut p, "RETR 1").await;
    assert_eq!(reply, format!("+OK {} octets", sent.len()));
    assert_eq!(String::from_utf8(p.multiline().await).unwrap(), sent);
    assert!(pop_cmd(&mut p, "QUIT").await.starts_with("+OK"));

    // maild's own delivery carries ",W=", which is the size RETR sends.
    let (codes, code) = submit(
        m.port("submission"),
        "alice@example.test",
        "wonderland",
        "alice@example.test",
        &["alice@example.test"],
        "Subject: own\r\n\r\nstored as sent\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    let own = m
        .messages("alice@example.test")
        .into_iter()
        .find(|p| !p.to_string_lossy().contains(".other"))
        .unwrap();
    let name = own.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.contains(",S=") && name.contains(",W="), "{name}");
    let mut p = login(&m).await;
    let listed = pop_cmd(&mut p, "LIST 2").await;
    let size: usize = listed.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(pop_cmd(&mut p, "RETR 2").await.starts_with("+OK"));
    assert_eq!(p.multiline().await.len(), size, "{name}");
}

/// Sets a file's modification time `secs` seconds back.
fn age(path: &std::path::Path, secs: u64) {
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(then)
        .unwrap();
}

// RFC 5321 6.1: a server that accepted a message "MUST NOT lose the
// message for frivolous reasons", and a failure after acceptance must be
// reported. A queued envelope that did not parse (damaged on disk, cut
// short, or dropped into the queue by hand) was logged and then left in
// the queue for ever: never delivered, never returned, and read again at
// every rescan. Now one that has not read for a minute is moved, with its
// message, to the quarantine directory queue/corrupt/ (nothing is deleted),
// and when its sender and undelivered recipients can still be read the
// sender gets a failure report (5.3.0) saying the message is held.
#[tokio::test]
async fn an_unreadable_envelope_is_quarantined_and_its_sender_told() {
    let dir = temp_dir("corrupt-env");
    let queue = dir.join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    // Cut short in the middle of a line; sender and recipients still read.
    std::fs::write(queue.join("cut-1.msg"), "Subject: cut\r\n\r\nbody\r\n").unwrap();
    place_envelope(
        &queue,
        "cut-1",
        "spool-envelope 1\ncreated 1700000000\nattempts 2\nnext 0\nsender alice@a.test\n\
         rcpt pending far@c.test 451%204.3.0%20later\nrcpt delivered done@c.test\n\
         rcpt pending other@c.test\nrcpt-noti",
    );
    // Nothing readable at all.
    std::fs::write(queue.join("junk-2.msg"), "Subject: junk\r\n\r\nbody\r\n").unwrap();
    place_envelope(&queue, "junk-2", "\u{1}\u{2} not an envelope\n");
    for name in ["cut-1.env", "cut-1.msg", "junk-2.env", "junk-2.msg"] {
        age(&queue.join(name), 3600);
    }
    let m = Maild::start(
        &dir,
        0,
        &["--user", "alice@a.test:wonderland", "--queue-rescan", "1s"],
    );
    let corrupt = queue.join("corrupt");
    wait_for("both entries quarantined", || {
        ["cut-1.env", "cut-1.msg", "junk-2.env", "junk-2.msg"]
            .iter()
            .all(|n| corrupt.join(n).exists() && !queue.join(n).exists())
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(corrupt.join("cut-1.msg")).unwrap(),
        "Subject: cut\r\n\r\nbody\r\n",
        "kept as it was"
    );
    wait_for("the report", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    for rcpt in ["far@c.test", "other@c.test"] {
        assert!(
            report.contains(&format!(
                "Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: 5.3.0\r\n"
            )),
            "{report}"
        );
    }
    assert!(!report.contains("done@c.test"), "{report}");
    assert!(report.contains("Subject: cut"), "{report}");
    // Not read again, not reported again.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(reports(&m).len(), 1);
    assert_eq!(m.queued(), 0);
}

// RFC 6531 3.2 decides whether a queued message needs SMTPUTF8 at the next
// hop from its header blocks. maild read the whole message into memory (and
// parsed it into a tree) to look: bounded by SIZE for what it accepted
// itself, but not for a file dropped into the queue directory, so one big
// file made the queue runner take its size in memory. The check now streams
// the message through mime's push parser with its bounded buffers and stops
// as soon as the answer is known: after the header section of a message
// that is not multipart, and at once when a header block or field is over
// the parser's limits (taken as needing SMTPUTF8, so nothing that might go
// without it).
#[tokio::test]
async fn the_smtputf8_check_holds_a_bounded_part_of_a_queued_message() {
    const LIMIT_KIB: u64 = 64 * 1024;
    let (port, _hop) = counting_hop("none.test").await;
    let dir = temp_dir_in_memory("utf8-bounded");
    let queue = dir.join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    let envelope = "spool-envelope 1\ncreated 1700000000\nattempts 0\nnext 0\nbody 8bitmime\nsmtputf8\n\
                    sender alice@a.test\nrcpt pending far@c.test\n";
    // A single part with a 160 MiB body (sparse: no memory or disk taken).
    {
        use std::io::Write;
        let mut f = std::fs::File::create(queue.join("big-body.msg")).unwrap();
        f.write_all(b"Subject: big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
            .unwrap();
        f.set_len(160 << 20).unwrap();
    }
    place_envelope(&queue, "big-body", envelope);
    // A header field that never ends: 120 MiB.
    {
        use std::io::Write;
        let mut f = std::fs::File::create(queue.join("long-field.msg")).unwrap();
        f.write_all(b"X-Long: ").unwrap();
        let block = vec![b'a'; 1 << 20];
        for _ in 0..120 {
            f.write_all(&block).unwrap();
        }
    }
    place_envelope(&queue, "long-field", envelope);
    let m = relay_in(&dir, port, &[]);
    let pid = m.child.id();
    wait_for("both messages settled (or too much memory)", || {
        m.queued() == 0 || peak_rss_kib(pid) > LIMIT_KIB
    })
    .await;
    let peak = peak_rss_kib(pid);
    assert!(peak <= LIMIT_KIB, "maild's peak memory {peak} KiB");
    // The hop has no 8BITMIME: the single part is returned (5.6.3).
    wait_for("the report", || !reports(&m).is_empty()).await;
    assert!(
        reports(&m)
            .iter()
            .any(|r| r.contains("Final-Recipient: rfc822; far@c.test\r\nAction: failed\r\nStatus: 5.6.3\r\n")),
        "{:?}",
        reports(&m)
    );
}

// RFC 5321 6.1: a failure report must not be lost, and sending it twice is
// what a careful MTA avoids. maild stored the report (here into the
// sender's Maildir) and only then recorded in the envelope that it had
// been sent and removed the message: killed in between, it sent the same
// report again after the restart. Now the envelope records, before the
// report is written, which report is due (number and time) and the report
// gets a name made from the message's id and that number; after a crash
// the runner finds the report stored under that name and does not write it
// again (or writes it, once, when it was not). The crash is made by strace,
// which kills maild as it removes the envelope after storing the report.
#[tokio::test]
async fn a_crash_after_storing_a_report_does_not_send_it_twice() {
    let Some(mut trace) = strace(&[]) else {
        return;
    };
    let dir = temp_dir("report-crash");
    let queue = dir.join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    let id = "1700000000000000-1-1";
    std::fs::write(
        queue.join(format!("{id}.msg")),
        "Subject: lost\r\n\r\nnot delivered\r\n",
    )
    .unwrap();
    place_envelope(
        &queue,
        id,
        "spool-envelope 1\ncreated 1700000000\nattempts 1\nnext 0\nsender alice@a.test\n\
         rcpt failed far@c.test 550 5.1.1%20no%20such%20user\n",
    );
    let env = queue.join(format!("{id}.env"));
    trace.args = [
        "-f",
        "-o",
        "/dev/null",
        "-P",
        &env.display().to_string(),
        "-e",
        "trace=unlink,unlinkat",
        "-e",
        "inject=unlink,unlinkat:signal=KILL",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let args = ["--user", "alice@a.test:wonderland"];
    let mut m = Maild::start_traced(&dir, 0, &args, Some(&trace));
    wait_for("maild killed as it removes the envelope", || m.strace_exited()).await;
    assert_eq!(reports(&m).len(), 1, "stored before the crash");
    assert!(env.exists(), "the envelope is still there");
    m.kill();
    let m = Maild::start(&dir, 0, &args);
    wait_for("the queue emptied after the restart", || m.queued() == 0).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let reports = reports(&m);
    assert_eq!(reports.len(), 1, "the report went twice");
    assert!(
        reports[0].contains("Final-Recipient: rfc822; far@c.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
        "{}",
        reports[0]
    );
}

// RFC 5321 6.1 again. A queued envelope whose message file is gone (lost
// on disk, or an envelope placed by hand without its message) can never
// be delivered; maild logged "queued message unreadable" and tried again
// every minute, for ever, and the sender was never told. After a minute
// without the file it is now taken out of the queue like a damaged
// envelope (the envelope kept in queue/corrupt/) and the sender gets a
// failure report for the recipients still pending.
#[tokio::test]
async fn an_envelope_without_its_message_is_quarantined_and_its_sender_told() {
    let dir = temp_dir("missing-msg");
    let queue = dir.join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    place_envelope(
        &queue,
        "lost-1",
        "spool-envelope 1\ncreated 1700000000\nattempts 1\nnext 0\nsender alice@a.test\n\
         rcpt pending far@c.test\n",
    );
    age(&queue.join("lost-1.env"), 3600);
    let m = Maild::start(&dir, 0, &["--user", "alice@a.test:wonderland"]);
    wait_for("the envelope quarantined", || {
        queue.join("corrupt/lost-1.env").exists() && !queue.join("lost-1.env").exists()
    })
    .await;
    wait_for("the report", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(
        report.contains("Final-Recipient: rfc822; far@c.test\r\nAction: failed\r\nStatus: 5.3.0\r\n"),
        "{report}"
    );
}

// RFC 3461 4.3: RET=HDRS "requests that only the headers of the message be
// returned", and a report's text/rfc822-headers part holds the header
// section (RFC 3464 2, RFC 6522). maild cut the header section at the
// first CRLF CRLF; a queued message with LF line ends (placed in the queue
// by another program) has none, so the report quoted the start of its body
// too, up to 256 KiB of it, to the sender and whoever reads the bounce.
// The header section now ends at the first empty line, CRLF or LF.
#[tokio::test]
async fn a_report_quotes_only_the_header_of_a_message_with_lf_line_ends() {
    let dir = temp_dir("lf-header");
    queue_failed(
        &dir.join("queue"),
        "lf-1",
        "ret hdrs\n",
        b"Subject: lf\nFrom: alice@a.test\n\nsecret body line\n",
    );
    let m = Maild::start(&dir, 0, &["--user", "alice@a.test:wonderland"]);
    wait_for("the report", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    assert!(
        report.contains("Subject: lf\r\nFrom: alice@a.test\r\n"),
        "{report}"
    );
    assert!(!report.contains("secret body line"), "{report}");
}

// RFC 3461 4.3 asks for the whole message in a failure report with
// RET=FULL. maild read the queued message into memory whole to build the
// report (and the report builder copied it twice more): bounded by SIZE for
// what maild accepted itself, by nothing for a file placed in the queue by
// another program. A message larger than maild's own SIZE limit is now
// returned with its header section only (RFC 3464 2 allows the original to
// be left out).
#[tokio::test]
async fn ret_full_returns_only_the_header_of_a_message_over_the_size_limit() {
    const LIMIT_KIB: u64 = 64 * 1024;
    let dir = temp_dir_in_memory("ret-full-big");
    let queue = dir.join("queue");
    queue_failed(&queue, "big-1", "ret full\n", b"Subject: huge\r\n\r\n");
    // 160 MiB, sparse: no memory or disk taken until read.
    std::fs::File::options()
        .write(true)
        .open(queue.join("big-1.msg"))
        .unwrap()
        .set_len(160 << 20)
        .unwrap();
    let m = Maild::start(&dir, 0, &["--user", "alice@a.test:wonderland"]);
    let pid = m.child.id();
    wait_for("the report (or too much memory)", || {
        reports(&m).len() == 1 || peak_rss_kib(pid) > LIMIT_KIB
    })
    .await;
    let peak = peak_rss_kib(pid);
    assert!(peak <= LIMIT_KIB, "maild's peak memory {peak} KiB");
    let report = &reports(&m)[0];
    assert!(report.contains("Subject: huge\r\n"), "{report}");
    assert!(report.contains("text/rfc822-headers"), "{report}");
}

// A program that queues mail for maild writes `<id>.msg`, then renames
// `<id>.env` into place (the spool's own order: a message is queued when
// its envelope exists). maild at start removed every `.msg` without an
// envelope as a crash leftover, so one whose envelope was about to be
// renamed in was deleted under the other program, which then queued an
// envelope without a message: the mail was lost. Only leftovers older than
// ten minutes are removed now (RFC 5321 6.1: accepted mail is not lost).
#[tokio::test]
async fn a_message_being_queued_while_maild_starts_is_not_removed() {
    let (port, (counts, _, _)) = counting_hop("none.test").await;
    let dir = temp_dir("placing-at-start");
    let queue = dir.join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    std::fs::write(queue.join("placing-1.msg"), "Subject: placing\r\n\r\nx\r\n").unwrap();
    let m = relay_in(&dir, port, &["--queue-rescan", "1s"]);
    place_envelope(
        &queue,
        "placing-1",
        "spool-envelope 1\ncreated 1700000000\nattempts 0\nnext 0\nsender alice@a.test\nrcpt pending far@c.test\n",
    );
    wait_for("the message relayed", || {
        counts.lock().unwrap().get("c.test") == Some(&1)
    })
    .await;
    wait_for("the queue emptied", || m.queued() == 0).await;
}

// RFC 3464 / RFC 3461 4.1: one "delayed" report is sent per message
// (README: --delay-warning). As with failure reports, maild stored the
// delay report and recorded that it had been sent only at the next
// envelope update: killed in between, it sent the warning again after the
// restart. A delay report is now numbered and recorded as pending before
// it is written, like the others. The crash is made by strace, which kills
// maild as it makes the report's Maildir entry durable.
#[tokio::test]
async fn a_crash_after_storing_a_delay_report_does_not_send_it_twice() {
    let Some(mut trace) = strace(&[]) else {
        return;
    };
    let dir = temp_dir("delay-crash");
    let queue = dir.join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(queue.join("wait-1.msg"), "Subject: wait\r\n\r\nx\r\n").unwrap();
    place_envelope(
        &queue,
        "wait-1",
        &format!(
            "spool-envelope 1\ncreated {}\nattempts 0\nnext 0\nsender alice@a.test\nrcpt pending far@c.test\n",
            now - 10
        ),
    );
    let new = dir.join("mail/alice@a.test/new");
    trace.args = [
        "-f",
        "-o",
        "/dev/null",
        "-P",
        &new.display().to_string(),
        "-e",
        "trace=fsync",
        "-e",
        "inject=fsync:signal=KILL",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // Nothing listens at the next hop: every attempt fails for now.
    let hop = free_port();
    let mut m = relay_in_traced(&dir, hop, &["--delay-warning", "1s"], Some(&trace));
    wait_for("maild killed as it stores the delay report", || m.strace_exited()).await;
    assert_eq!(reports(&m).len(), 1, "stored before the crash");
    m.kill();
    let m = relay_in(&dir, hop, &["--delay-warning", "1s"]);
    wait_for("two more attempts", || {
        std::fs::read_to_string(queue.join("wait-1.env"))
            .unwrap_or_default()
            .lines()
            .any(|l| l.strip_prefix("attempts ").and_then(|n| n.parse::<u32>().ok()) >= Some(3))
    })
    .await;
    let delayed = reports(&m)
        .iter()
        .filter(|r| r.contains("Action: delayed\r\n"))
        .count();
    assert_eq!(delayed, 1, "the delay report went twice");
}

// RFC 5321 6.1, and the README: an envelope that does not parse for a
// minute is quarantined and its sender told. With `--queue-rescan 0` (the
// queue directory listed only at start), one that was unreadable but less
// than a minute old at start was remembered as unreadable and never looked
// at again until the next restart: the message sat in the queue, neither
// delivered nor returned. It is now read again once it is a minute old.
#[tokio::test]
async fn a_young_unreadable_envelope_is_quarantined_without_rescans() {
    let dir = temp_dir("young-corrupt");
    let queue = dir.join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    std::fs::write(queue.join("young-1.msg"), "Subject: young\r\n\r\nbody\r\n").unwrap();
    place_envelope(
        &queue,
        "young-1",
        "spool-envelope 1\ncreated 1700000000\nattempts 0\nnext 0\nsender alice@a.test\n\
         rcpt pending far@c.test\nrcpt-noti",
    );
    // 55 seconds old: a minute old 5 seconds after maild starts.
    age(&queue.join("young-1.env"), 55);
    let m = Maild::start(
        &dir,
        0,
        &["--user", "alice@a.test:wonderland", "--queue-rescan", "0"],
    );
    wait_for("the envelope quarantined", || {
        queue.join("corrupt/young-1.env").exists() && !queue.join("young-1.env").exists()
    })
    .await;
    wait_for("the report", || reports(&m).len() == 1).await;
}

// A damaged envelope found at start was logged twice: once when the
// queue's schedule was loaded ("not scheduled"), and again when the
// runner's first listing, at once, quarantined it. The schedule now leaves
// such envelopes to that listing, which logs each once.
#[tokio::test]
async fn a_damaged_envelope_at_start_is_logged_once() {
    let dir = temp_dir("corrupt-log");
    let queue = dir.join("queue");
    std::fs::create_dir_all(&queue).unwrap();
    std::fs::write(queue.join("bad-7.msg"), "Subject: bad\r\n\r\nbody\r\n").unwrap();
    place_envelope(
        &queue,
        "bad-7",
        "spool-envelope 1\nsender alice@a.test\nrcpt pending far@c.test\nrcpt-noti",
    );
    age(&queue.join("bad-7.env"), 3600);
    let log = dir.with_extension("log");
    let m = Maild::start_logging(&dir, 0, &["--user", "alice@a.test:wonderland"], &log);
    wait_for("the report", || reports(&m).len() == 1).await;
    assert!(queue.join("corrupt/bad-7.env").exists());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("bad-7")).collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
}

// RFC 6522 (was 3462) 3: text/rfc822-headers holds header fields; RFC
// 3464 2 has a report carry the original's header section. maild quotes
// at most the first 256 KiB of a message; a header section longer than
// that (only another program can have queued it) was quoted cut off in
// the middle of a field. It is now cut after the last whole field, and
// the human-readable part says the header was shortened.
#[tokio::test]
async fn a_header_over_256_kib_is_quoted_up_to_a_whole_field() {
    let dir = temp_dir("long-header");
    let mut message = String::from("Subject: long\r\n");
    for n in 0..3000 {
        message.push_str(&format!("X-Filler-{n:05}: {}\r\n", "a".repeat(100)));
    }
    message.push_str("\r\nbody\r\n");
    queue_failed(&dir.join("queue"), "long-1", "ret hdrs\n", message.as_bytes());
    let m = Maild::start(&dir, 0, &["--user", "alice@a.test:wonderland"]);
    wait_for("the report", || reports(&m).len() == 1).await;
    let report = &reports(&m)[0];
    let part = report.split("Content-Type: text/rfc822-headers").nth(1).unwrap();
    let (_, quoted) = part.split_once("\r\n\r\n").unwrap();
    let quoted = &quoted[..quoted.find("\r\n--").unwrap()];
    assert!(quoted.starts_with("Subject: long\r\n"), "{}", &quoted[..100]);
    let last = quoted.lines().last().unwrap();
    assert!(
        quoted
            .lines()
            .skip(1)
            .all(|l| l.len() == 116 && l.starts_with("X-Filler-")),
        "cut within a field: {last:?}"
    );
    assert!(quoted.len() <= 256 * 1024);
    assert!(report.contains("shortened"), "{}", &report[..2000]);
}
