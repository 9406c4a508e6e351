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
