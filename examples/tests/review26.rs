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
