//! Session 21: gaps earlier reviews left open in the example programs,
//! each closed with a test that failed on the code before its fix; the
//! comment above each test says what was wrong and quotes the rule.
//!
//! The shared harness is in `common/mod.rs`.

use std::process::Command;

mod common;
use common::*;

// RFC 5321 6.1 asks a mail system to keep what it took care of across a
// crash; for a file, that needs its directory entry on stable storage as
// well (fsync(2): "Calling fsync() does not necessarily ensure that the
// entry in the directory containing the file has also reached disk. For
// that an explicit fsync() on a file descriptor for the directory is also
// needed."). pop3-fetch created its --new-only state file and only ever
// fsynced the file: a crash after the first fetch with --delete could lose
// the file itself, and the next run fetched everything again. The state
// file's directory is now fsynced once the file is opened.
#[test]
fn pop3_fetch_fsyncs_the_directory_of_a_new_state_file() {
    let Some(trace) = strace(&[]) else { return };
    let dir = temp_dir("pop3-state-dir");
    let state_dir = dir.join("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    let state = state_dir.join("uidl");
    // Nothing listens on the port: the run fails after opening the state file.
    let closed = free_port().to_string();
    let mut cmd = Command::new(trace.program);
    cmd.args(&trace.args)
        .arg(env!("CARGO_BIN_EXE_pop3-fetch"))
        .args([
            "-s",
            "127.0.0.1",
            "-p",
            &closed,
            "--stls",
            "never",
            "--timeout",
            "5",
        ])
        .args([
            "--user",
            "a@a.test",
            "--password",
            "x",
            "--allow-plaintext",
            "--quiet",
        ])
        .arg("--new-only")
        .arg("--maildir")
        .arg(dir.join("Mail"))
        .arg("--state")
        .arg(&state);
    let out = cmd.output().unwrap();
    let log = std::fs::read_to_string(&trace.log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success(), "no server, yet it succeeded");
    let synced = log.lines().any(|l| {
        (l.contains("fsync(") || l.contains("fdatasync("))
            && l.contains(&format!("<{}>", state_dir.display()))
    });
    assert!(synced, "the state file's directory was never fsynced:\n{log}");
}
