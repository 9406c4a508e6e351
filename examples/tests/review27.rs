//! Session 27: gaps in the example programs found by review. Each test
//! failed on the code before its fix; the comment above it says what was
//! wrong.
//!
//! The shared harness is in `common/mod.rs`.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A local user with write access to the served tree swaps a real
/// directory (`root/d`) and a symlink to a directory outside the root
/// (`root/e`) back and forth with RENAME_EXCHANGE until `stop` is set.
fn swap_dir_and_link(root: &Path, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let (d, e) = (root.join("d"), root.join("e"));
    std::thread::spawn(move || {
        let mut swaps = 0;
        while !stop.load(Ordering::Relaxed) {
            if rustix::fs::renameat_with(
                rustix::fs::CWD,
                &d,
                rustix::fs::CWD,
                &e,
                rustix::fs::RenameFlags::EXCHANGE,
            )
            .is_ok()
            {
                swaps += 1;
            }
        }
        swaps
    })
}

/// A served tree with `root/d/file.txt` ("inside"), `outside/file.txt`
/// ("SECRET") beside the root and `root/e` a symlink to `outside`.
fn tree_with_a_swappable_dir(d: &Ftpd) -> (PathBuf, PathBuf) {
    let root = d.root();
    let outside = d.dir.join("outside");
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(root.join("d/file.txt"), "inside").unwrap();
    std::fs::write(outside.join("file.txt"), "SECRET").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("e")).unwrap();
    (root, outside)
}

// ftpd confined a path by resolving it (canonicalize) and then opened the
// resolved path by name: a directory on that path that was replaced by a
// symlink to elsewhere between the check and the open let RETR send a
// file from outside the root (a classic check-then-use race; the module's
// promise is "a root directory that no virtual path can leave"). The
// opened file is now confirmed to be inside the root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_retr_never_sends_a_file_from_outside_the_root_during_a_swap() {
    let d = Ftpd::start(&temp_dir("r27-retr-swap"), &[]);
    let (root, _outside) = tree_with_a_swappable_dir(&d);
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = swap_dir_and_link(&root, stop.clone());
    let mut c = d.login().await;
    let started = Instant::now();
    let (mut sent, mut leaked) = (0, 0);
    while started.elapsed() < Duration::from_secs(4) && leaked == 0 {
        let port = c.epsv().await;
        let mut data = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (code, _) = c.cmd("RETR /d/file.txt").await;
        if code != 150 && code != 125 {
            continue;
        }
        let mut got = Vec::new();
        tokio::time::timeout(WAIT, data.read_to_end(&mut got))
            .await
            .expect("RETR timed out")
            .unwrap();
        let _ = c.reply().await;
        sent += 1;
        if got == b"SECRET" {
            leaked += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert_eq!(
        leaked, 0,
        "a file outside the root was sent ({sent} sent, {swaps} swaps)"
    );
    assert!(sent > 0 && swaps > 0, "the race ran ({sent} sent, {swaps} swaps)");
}

// The same race for uploads: the temporary file of a STOR was created by
// its resolved path, so a directory swapped for a symlink meanwhile made
// ftpd create (and fill, and leave behind) files outside the root. The
// temporary file is now made inside a directory opened and confirmed to
// be inside the root, and renamed there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_stor_never_writes_outside_the_root_during_a_swap() {
    let d = Ftpd::start(&temp_dir("r27-stor-swap"), &[]);
    let (root, outside) = tree_with_a_swappable_dir(&d);
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = swap_dir_and_link(&root, stop.clone());
    let mut c = d.login().await;
    let started = Instant::now();
    let mut stored = 0;
    let outside_names = || -> Vec<String> {
        std::fs::read_dir(&outside)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "file.txt")
            .collect()
    };
    while started.elapsed() < Duration::from_secs(4) && outside_names().is_empty() {
        let port = c.epsv().await;
        let mut data = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (code, _) = c.cmd("STOR /d/up.txt").await;
        if code != 150 && code != 125 {
            continue;
        }
        data.write_all(b"uploaded").await.unwrap();
        data.shutdown().await.unwrap();
        drop(data);
        let _ = c.reply().await;
        stored += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    let names = outside_names();
    assert!(
        names.is_empty(),
        "files written outside the root: {names:?} ({stored} uploads, {swaps} swaps)"
    );
    assert!(
        stored > 0 && swaps > 0,
        "the race ran ({stored} uploads, {swaps} swaps)"
    );
}

// And for changes: DELE, RMD and RNFR/RNTO acted on the resolved path of
// the entry's directory by name, so a swap between the check and the act
// made DELE remove a file outside the root. They now act through the
// directory they checked, held open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_dele_never_removes_a_file_outside_the_root_during_a_swap() {
    let d = Ftpd::start(&temp_dir("r27-dele-swap"), &[]);
    let (root, outside) = tree_with_a_swappable_dir(&d);
    // The real directory, wherever the swaps put it: its file is put back
    // through this descriptor after every DELE.
    let real = std::fs::File::open(root.join("d")).unwrap();
    let again = PathBuf::from(format!(
        "/proc/self/fd/{}/file.txt",
        std::os::fd::AsRawFd::as_raw_fd(&real)
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = swap_dir_and_link(&root, stop.clone());
    let mut c = d.login().await;
    let started = Instant::now();
    let mut deleted = 0;
    while started.elapsed() < Duration::from_secs(4) && outside.join("file.txt").exists() {
        if c.cmd("DELE /d/file.txt").await.0 == 250 {
            deleted += 1;
            std::fs::write(&again, "inside").unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(
        outside.join("file.txt").exists(),
        "a file outside the root was removed ({deleted} deleted, {swaps} swaps)"
    );
    assert!(
        deleted > 0 && swaps > 0,
        "the race ran ({deleted} deleted, {swaps} swaps)"
    );
}

// Client flags that contradict each other were taken without a word and
// one of them ignored, so the user believed in something that did not
// happen: `--insecure` with `--ca-file` (smtp-send, pop3-fetch, ftp)
// accepted any certificate and never read the CA file, so a user who
// named a CA to verify the server against got no verification at all;
// smtp-send's `--password` or `--password-file` without `--user` sent
// the message without AUTH; pop3-fetch's `--state` without `--new-only`
// neither read nor wrote that file. Each pair is now refused by the
// argument parser before anything connects, and the help says so.
#[test]
fn clients_refuse_flags_that_contradict_each_other() {
    let dir = temp_dir("r27-client-flags");
    let port = free_port().to_string();
    let url = format!("ftp://127.0.0.1:{port}/");
    let smtp: &[&str] = &["--port", &port, "--from", "a@b.test", "--to", "c@d.test"];
    let pop: &[&str] = &[
        "--port",
        &port,
        "--user",
        "u",
        "--password",
        "p",
        "--maildir",
        "Mail",
    ];
    let with = |base: &[&str], extra: &[&'static str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| (*s).to_owned()).collect()
    };
    let runs: Vec<(&str, Vec<String>, &str, &str)> = vec![
        (
            env!("CARGO_BIN_EXE_smtp-send"),
            with(smtp, &["--insecure", "--ca-file", "ca.pem"]),
            "--ca-file",
            "--insecure",
        ),
        (
            env!("CARGO_BIN_EXE_pop3-fetch"),
            with(pop, &["--insecure", "--ca-file", "ca.pem"]),
            "--ca-file",
            "--insecure",
        ),
        (
            env!("CARGO_BIN_EXE_ftp"),
            vec![
                "--insecure".into(),
                "--ca-file".into(),
                "ca.pem".into(),
                url.clone(),
                "ls".into(),
            ],
            "--ca-file",
            "--insecure",
        ),
        (
            env!("CARGO_BIN_EXE_smtp-send"),
            with(smtp, &["--password", "secret"]),
            "--password",
            "--user",
        ),
        (
            env!("CARGO_BIN_EXE_smtp-send"),
            with(smtp, &["--password-file", "pw.txt"]),
            "--password-file",
            "--user",
        ),
        (
            env!("CARGO_BIN_EXE_pop3-fetch"),
            with(pop, &["--state", "uidl.txt"]),
            "--state",
            "--new-only",
        ),
    ];
    std::fs::write(dir.join("pw.txt"), "secret\n").unwrap();
    for (program, args, flag, other) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let line = clap_refuses(program, &args, &dir);
        assert!(line.starts_with("error: "), "{program} {args:?}: {line}");
        let text = flag_help(&help(program), flag);
        assert!(text.contains(other), "{program} {flag}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tiny tmpfs mounted at a fresh directory (a full disk on demand);
/// unmounted and removed on drop. `None` where mounting is not allowed.
struct TinyDisk(PathBuf);

impl TinyDisk {
    fn mount(tag: &str, size: &str) -> Option<TinyDisk> {
        let dir = temp_dir(tag);
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Some(TinyDisk(dir))
        } else {
            let _ = std::fs::remove_dir_all(&dir);
            None
        }
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// A message that did not fit on a full disk was answered 451 4.3.0 "Local
// error in processing", where the reply for it is 452 "insufficient
// system storage" (RFC 5321 4.2.2, allowed after DATA by 4.3.2) with
// X.3.1 "Mail system full" (RFC 3463 3.4), which tells the client and
// the postmaster reading its log what went wrong. Both stay temporary: a
// smaller message is still taken. (Needs a tmpfs mount: skipped where
// mounting is not allowed.)
#[tokio::test]
async fn a_full_disk_is_answered_452_4_3_1() {
    let Some(disk) = TinyDisk::mount("r27-full", "400k") else {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    };
    let m = Maild::start(
        &disk.0.join("data"),
        0,
        &[
            "--user",
            "alice@example.test:wonderland",
            "--user",
            "bob@example.test:builder",
        ],
    );
    let line = format!("{}\r\n", "x".repeat(78));
    let big = format!("Subject: big\r\n\r\n{}", line.repeat(8000));
    let mut c = Raw::connect(m.port("smtp")).await;
    assert_eq!(c.reply().await.0, 220);
    c.cmd("EHLO client.test").await;
    assert_eq!(c.cmd("MAIL FROM:<a@remote.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    let (code, text) = c.cmd(&format!("{big}.")).await;
    assert_eq!((code, &text[..5]), (452, "4.3.1"), "{text}");
    // Still temporary: a small message fits.
    assert_eq!(c.cmd("MAIL FROM:<a@remote.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: small\r\n\r\nx\r\n.").await.0, 250);
    // LMTP: one such reply per recipient.
    let mut l = Raw::connect(m.port("lmtp")).await;
    assert_eq!(l.reply().await.0, 220);
    l.cmd("LHLO client.test").await;
    assert_eq!(l.cmd("MAIL FROM:<a@remote.test>").await.0, 250);
    assert_eq!(l.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(l.cmd("RCPT TO:<bob@example.test>").await.0, 250);
    assert_eq!(l.cmd("DATA").await.0, 354);
    let (code, text) = l.cmd(&format!("{big}.")).await;
    assert_eq!((code, &text[..5]), (452, "4.3.1"), "{text}");
    let (code, text) = l.reply().await;
    assert_eq!((code, &text[..5]), (452, "4.3.1"), "{text}");
    drop(m);
}

// Nothing stopped a second maild from using a data directory that a
// running one was using (a second instance started by mistake, or a
// restart while the old one is still finishing relay attempts in its
// shutdown grace): both queue runners then relayed every queued message,
// which reached its recipients twice (RFC 5321 6.1: a message must not be
// delivered more than once; the queue's own rules assume one runner). A
// maild now holds a lock on its data directory (flock, which the kernel
// drops when the process dies, kill -9 included) and a second one
// refuses to start, naming the directory.
#[tokio::test]
async fn a_second_maild_on_the_same_data_directory_refuses_to_start() {
    let dir = temp_dir("r27-two-mailds");
    let data = dir.join("data");
    let mut first = Maild::start(&data, 0, &["--user", "alice@example.test:wonderland"]);
    let mut args = vec!["--data-dir", data.to_str().unwrap(), "--hostname", "mx.test"];
    args.extend(MAILD_NO_LISTENERS);
    let line = start_fails(env!("CARGO_BIN_EXE_maild"), &args, &dir);
    assert!(
        line.contains("another maild") && line.contains(data.to_str().unwrap()),
        "{line}"
    );
    // Once the first is gone (even by kill -9), the directory is free.
    first.kill();
    let second = Maild::start(&data, 0, &[]);
    drop(second);
    drop(first);
    let _ = std::fs::remove_dir_all(&dir);
}

// `--hostname` took any text. smtp-proto greets with `localhost` instead
// of a name that is not an ASCII domain or address literal (RFC 5321
// 4.1.2 and 4.2; RFC 6531 3.7.1), so maild ran under two names, and put
// the bad one where nothing checked it: in Received fields, in the
// Message-ID it adds to submissions (a CR LF in the name there starts a
// new header line of the operator's text), as MAILER-DAEMON's domain and
// in the EHLO it relays with. Such a name is now refused at start.
#[test]
fn maild_refuses_a_hostname_that_is_not_a_domain() {
    let dir = temp_dir("r27-hostname");
    let long_label = "x".repeat(64);
    for name in [
        "mx\r\nX-Injected: yes",
        "a b",
        "mx.tést",
        long_label.as_str(),
        "mx..test",
    ] {
        let data = dir.join("data");
        let mut args = vec!["--data-dir", data.to_str().unwrap(), "--hostname", name];
        args.extend(MAILD_NO_LISTENERS);
        let line = start_fails(env!("CARGO_BIN_EXE_maild"), &args, &dir);
        assert!(line.starts_with("maild: --hostname"), "{name:?}: {line}");
        assert!(!data.exists(), "{name:?}: data directory created");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends `line` to `port` a byte every 400 ms after reading the greeting,
/// and returns true when maild closes the connection within `within`.
async fn trickle_is_cut_off(port: u16, line: &[u8], within: Duration) -> bool {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut greeting = [0u8; 512];
    let n = tokio::time::timeout(WAIT, s.read(&mut greeting))
        .await
        .unwrap()
        .unwrap();
    assert!(n > 0, "no greeting");
    let end = Instant::now() + within;
    for &b in line.iter().cycle() {
        if Instant::now() > end {
            return false;
        }
        if s.write_all(&[b]).await.is_err() {
            return true;
        }
        let mut buf = [0u8; 512];
        // Whatever maild says (a 421 or nothing), a closed read ends it.
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(400), s.read(&mut buf)).await {
            return true;
        }
    }
    false
}

// RFC 5321 4.5.3.2.7 (the server waits for the next command) and RFC 1939
// 3 (the receipt of a command resets the autologout timer): maild's SMTP
// and POP3 sessions restarted their idle timer on any byte, so a client
// trickling one line a byte at a time, each within the timeout, held its
// connection, and with --max-connections one slot each, for ever (a
// slowloris). smtp-proto and pop3-proto now count only whole lines.
#[tokio::test]
async fn a_command_trickled_a_byte_at_a_time_is_cut_off() {
    let dir = temp_dir("r27-slowloris");
    let m = Maild::start(&dir, 0, &["--smtp-timeout", "1s", "--pop3-timeout", "1s"]);
    let (smtp, pop3) = tokio::join!(
        trickle_is_cut_off(m.port("smtp"), b"EHLO slow.example.test", Duration::from_secs(8)),
        trickle_is_cut_off(m.port("pop3"), b"USER slow@example.test", Duration::from_secs(8)),
    );
    assert!(
        smtp,
        "an SMTP client trickling a line held its connection for 8 s"
    );
    assert!(pop3, "a POP3 client trickling a line held its connection for 8 s");
}

// RFC 3207 4: a server that is not publicly referenced for delivery may
// require TLS first, answering every command but NOOP, EHLO, STARTTLS and
// QUIT with 530. `--submission-require-tls` does so on the submission port
// (smtp-proto's ServerConfig::require_tls), AUTH SCRAM included; the MX
// port never requires it, and without the flag SCRAM may log in before TLS.
#[tokio::test]
async fn submission_can_require_starttls_first() {
    let dir = temp_dir("r27-require-tls");
    let m = Maild::start(&dir, 0, &["--submission-require-tls"]);
    let mut c = Raw::connect(m.port("submission")).await;
    assert_eq!(c.reply().await.0, 220);
    assert_eq!(c.cmd("EHLO client.example.test").await.0, 250);
    for cmd in [
        "AUTH SCRAM-SHA-256",
        "MAIL FROM:<demo@example.test>",
        "HELP",
        "RSET",
    ] {
        let (code, text) = c.cmd(cmd).await;
        assert_eq!(code, 530, "{cmd}: {text}");
        assert!(text.contains("STARTTLS"), "{cmd}: {text}");
    }
    assert_eq!(c.cmd("NOOP").await.0, 250);
    assert_eq!(c.cmd("STARTTLS").await.0, 220);
    c.tls().await;
    assert_eq!(c.cmd("EHLO client.example.test").await.0, 250);
    let (code, text) = c.cmd("MAIL FROM:<demo@example.test>").await;
    assert_eq!(code, 530, "{text}");
    assert!(text.contains("Authentication required"), "{text}");
    // The MX port serves MAIL before TLS all the same.
    let mut mx = Raw::connect(m.port("smtp")).await;
    assert_eq!(mx.reply().await.0, 220);
    assert_eq!(mx.cmd("EHLO client.example.test").await.0, 250);
    assert_eq!(mx.cmd("MAIL FROM:<a@remote.example>").await.0, 250);
}
