//! Session 21: gaps earlier reviews left open in the example programs,
//! each closed with a test that failed on the code before its fix; the
//! comment above each test says what was wrong and quotes the rule.
//!
//! The shared harness is in `common/mod.rs`.

use std::process::Command;
use std::sync::atomic::Ordering;

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

// RFC 5321 4.1.3 allows address literals "when a host is not known to the
// domain name system", and RFC 5321 7.8 lets a server refuse relaying:
// "Refusing to relay ... SHOULD be done with a 550 ... reply". Any user
// who could log in made maild connect wherever a literal pointed:
// [127.0.0.1], [IPv6:::1], [10.x], [169.254.x] (internal services, cloud
// metadata) with whatever the message said. Such literals are now refused
// at RCPT with 550 5.7.1 unless --allow-internal-relay is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_to_internal_address_literals_is_refused_at_rcpt() {
    let dir = temp_dir("internal-literal");
    // Whatever is queued goes to a smart host where nothing listens: no
    // connection leaves loopback.
    let nowhere = format!("127.0.0.1:{}", free_port());
    let m = Maild::start(
        &dir,
        0,
        &["--user", "alice@a.test:wonderland", "--relay-host", &nowhere],
    );
    for rcpt in [
        "bob@[127.0.0.1]",
        "bob@[IPv6:::1]",
        "bob@[10.1.2.3]",
        "bob@[192.168.1.1]",
        "bob@[169.254.169.254]",
        "bob@[IPv6:fe80::1]",
        "bob@[0.0.0.0]",
        "bob@[IPv6:::ffff:127.0.0.1]",
    ] {
        let (codes, _) = submit(
            m.port("submission"),
            "alice@a.test",
            "wonderland",
            "alice@a.test",
            &[rcpt],
            "Subject: inside\r\n\r\nx\r\n",
        )
        .await;
        assert_eq!(codes, vec![550], "{rcpt} was accepted for relay");
    }
    // A public address literal is still relayed.
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@[192.0.2.1]"],
        "Subject: outside\r\n\r\nx\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
}

/// A DNS server on UDP loopback: `lo.test` has MX 10 `mx.lo.test`, whose
/// address is 127.0.0.1; other names do not exist.
async fn loopback_mx_dns() -> std::net::SocketAddr {
    fake_dns_server(|name, qtype| match (name, qtype) {
        ("lo.test", 15) => Some(vec![(15, mx_rdata(10, "mx.lo.test"))]),
        ("mx.lo.test", 1) => Some(vec![(1, vec![127, 0, 0, 1])]),
        ("lo.test" | "mx.lo.test", _) => Some(Vec::new()),
        _ => None,
    })
    .await
}

// The same SSRF through DNS: a domain whose MX host resolves to a loopback
// address made maild connect to a service on this machine. RFC 5321 5.1
// has the relay discard its own MX records; a loopback address is never a
// real next hop. The queue now skips loopback and unspecified addresses of
// MX hosts unless --allow-internal-relay is given (the example tests and
// the interop suite use fake DNS on loopback with it).
async fn relay_to_loopback_mx(allow: bool) -> usize {
    let (hop, (counts, stall, _)) = counting_hop("never.test").await;
    stall.store(false, Ordering::SeqCst);
    let dns = loopback_mx_dns().await.to_string();
    let dir = temp_dir("loopback-mx");
    let mx_port = hop.to_string();
    let mut args = vec![
        "--user",
        "alice@a.test:wonderland",
        "--dns-server",
        &dns,
        "--mx-port",
        &mx_port,
    ];
    if allow {
        args.push("--allow-internal-relay");
    }
    let m = Maild::start(&dir, 0, &args);
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@lo.test"],
        "Subject: loopback\r\n\r\nx\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the first attempt or the delivery", || {
        m.attempted() || m.queued() == 0
    })
    .await;
    let delivered = counts.lock().unwrap().get("lo.test").copied().unwrap_or(0);
    drop(m);
    delivered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_never_connects_to_an_mx_on_loopback_by_default() {
    assert_eq!(
        relay_to_loopback_mx(false).await,
        0,
        "relayed to an MX on 127.0.0.1"
    );
    assert_eq!(
        relay_to_loopback_mx(true).await,
        1,
        "the lab flag lets it through"
    );
}

/// A DNS server on UDP loopback: `d2.test` has MX 10 `down.d2.test`
/// (127.0.0.2, where nothing listens) and MX 20 `backup.other.test`
/// (127.0.0.1: the maild under test, known by another --hostname).
async fn backup_mx_by_address_dns() -> std::net::SocketAddr {
    fake_dns_server(|name, qtype| match (name, qtype) {
        ("d2.test", 15) => Some(vec![
            (15, mx_rdata(10, "down.d2.test")),
            (15, mx_rdata(20, "backup.other.test")),
        ]),
        ("down.d2.test", 1) => Some(vec![(1, vec![127, 0, 0, 2])]),
        ("backup.other.test", 1) => Some(vec![(1, vec![127, 0, 0, 1])]),
        ("d2.test" | "down.d2.test" | "backup.other.test", _) => Some(Vec::new()),
        _ => None,
    })
    .await
}

// RFC 5321 5.1: "The relay host MUST then inspect the list for any of the
// names or addresses by which it might be known in mail transactions. If a
// matching record is found, all records at that preference level and
// higher-numbered ones MUST be discarded from consideration." maild knew
// itself only by --hostname: listed as a backup MX under another name
// (a CNAME-less alias, an old name), it relayed to its own SMTP listener
// while the primary was down, refused itself as a relay (554), and the
// sender got a bounce for mail that only had to wait. An MX host whose
// address is maild's own SMTP listener (address and port) now counts as
// itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_never_goes_to_an_mx_at_its_own_listening_address() {
    let dns = backup_mx_by_address_dns().await.to_string();
    relay_waits_for_the_primary_mx("self-mx-addr", &dns, "bob@d2.test").await;
}

// RFC 959 4.1.3 LIST/NLST and RFC 3659 7 MLSD put no bound on a listing:
// a directory may hold millions of entries. ftpd read the whole directory,
// formatted every line and joined them in memory before sending the first
// byte, so one LIST of a huge directory cost memory in proportion to it
// (three copies at once). The listing is now read from the directory and
// sent in bounded chunks (ftpd's LISTING_CHUNK). Here 30000 entries with
// 200-octet names, about 8 MiB of listing per command: each command must
// list every entry exactly once, and ftpd's peak memory must not grow by
// anything near the listing's size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_streams_listings_of_huge_directories() {
    const N: usize = 30_000;
    let dir = temp_dir_in_memory("ftpd-huge-dir");
    let f = Ftpd::start(&dir, &[]);
    let big = f.root().join("big");
    std::fs::create_dir(&big).unwrap();
    let name = |k: usize| format!("{k:06}-{}", "n".repeat(193));
    for k in 0..N {
        std::fs::File::create(big.join(name(k))).unwrap();
    }
    let expected: std::collections::BTreeSet<String> = (0..N).map(name).collect();
    let mut c = f.login().await;
    assert_eq!(c.cmd("TYPE I").await.0, 200);
    let before = peak_rss_kib(f.child.id());
    let lines = |out: Vec<u8>| -> Vec<String> {
        let text = String::from_utf8(out).unwrap();
        assert!(text.is_empty() || text.ends_with("\r\n"), "listing cut short");
        text.split_terminator("\r\n").map(str::to_owned).collect()
    };
    let nlst = lines(Ftpd::listing(&mut c, "NLST /big").await);
    assert_eq!(nlst.len(), N, "NLST lines");
    let got: std::collections::BTreeSet<String> = nlst
        .iter()
        .map(|l| l.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert!(got == expected, "NLST lists other names");
    let list = lines(Ftpd::listing(&mut c, "LIST /big").await);
    assert_eq!(list.len(), N, "LIST lines");
    let got: std::collections::BTreeSet<String> = list
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().to_owned())
        .collect();
    assert!(got == expected, "LIST lists other names");
    let mlsd = lines(Ftpd::listing(&mut c, "MLSD /big").await);
    assert_eq!(mlsd.len(), N, "MLSD lines");
    let got: std::collections::BTreeSet<String> = mlsd
        .iter()
        .map(|l| {
            assert!(l.to_ascii_lowercase().contains("type=file;"), "{l}");
            l.split_once("; ").unwrap().1.to_owned()
        })
        .collect();
    assert!(got == expected, "MLSD lists other names");
    let grown = peak_rss_kib(f.child.id()).saturating_sub(before);
    assert!(
        grown < 4 * 1024,
        "ftpd's peak memory grew by {grown} KiB for listings of about 8 MiB"
    );
}

/// Octets process `pid` has read with read(2) and friends so far (rchar).
fn read_chars(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

// RFC 5321 4.5.4.1: "Retries continue until the message is transmitted or
// the sender gives up"; the sender "MUST delay retrying a particular
// destination after one attempt has failed". The queue runner read every
// envelope in the spool every second to find what was due, so an idle
// queue of N deferred messages cost N file reads a second for as long as
// they waited (days). The runner now keeps the next-attempt times in
// memory, loaded from the spool at start and updated on enqueue and after
// each attempt; the disk stays the record (each attempt reads its envelope
// first). Here ten messages wait for a retry an hour away: over more than
// two runner ticks maild must read nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_queue_reads_nothing_from_disk() {
    let dir = temp_dir("idle-queue");
    let nowhere = format!("127.0.0.1:{}", free_port());
    let m = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &nowhere,
            "--relay-insecure",
            "--retry-first",
            "1h",
        ],
    );
    for k in 0..10 {
        let (codes, code) = submit(
            m.port("submission"),
            "alice@a.test",
            "wonderland",
            "alice@a.test",
            &[&format!("bob{k}@b.test")],
            "Subject: wait\r\n\r\nfor an hour\r\n",
        )
        .await;
        assert_eq!((codes, code), (vec![250], 250));
    }
    wait_for("a failed attempt for every message", || {
        let envs = m.envelopes();
        envs.len() == 10 && envs.iter().all(|t| t.lines().any(|l| l == "attempts 1"))
    })
    .await;
    // Let the runner record the last attempts and settle.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let before = read_chars(m.child.id());
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let read = read_chars(m.child.id()) - before;
    assert!(read < 1024, "an idle queue read {read} octets in 2.5 s");
    assert_eq!(m.queued(), 10);
}

// RFC 959 4.1.3, STAT with a pathname: "the command is analogous to the
// "list" command except that data shall be transferred over the control
// connection". ftpd read, sorted and formatted the whole directory and
// queued it as one reply, so a STAT of a huge directory cost memory in
// proportion to it, like LIST did. The control connection is no place for
// a listing of any size: a directory with more than MAX_STAT_ENTRIES
// entries is now refused with 450 (one of STAT's replies in RFC 959 5.4),
// pointing to LIST/MLSD, which stream; smaller ones are listed as before.
// Session 23: the 213 reply is now written in pieces as the directory is
// read, so a huge directory is listed whole in the same bounded memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_stat_of_a_huge_directory_is_bounded() {
    const N: usize = 30_000;
    let dir = temp_dir_in_memory("ftpd-huge-stat");
    let f = Ftpd::start(&dir, &[]);
    let big = f.root().join("big");
    std::fs::create_dir(&big).unwrap();
    for k in 0..N {
        std::fs::File::create(big.join(format!("{k:06}-{}", "s".repeat(193)))).unwrap();
    }
    std::fs::create_dir(f.root().join("small")).unwrap();
    std::fs::write(f.root().join("small").join("one.txt"), b"1").unwrap();
    let mut c = f.login().await;
    let before = peak_rss_kib(f.child.id());
    // The reply's last line (its code and a space), and how many lines came.
    async fn stat(c: &mut Raw, path: &str) -> (String, usize) {
        c.send(format!("STAT {path}\r\n").as_bytes()).await;
        let mut n = 0;
        loop {
            let l = c.line().await;
            assert!(!l.is_empty(), "connection closed");
            n += 1;
            if l.len() >= 4 && l.as_bytes()[3] == b' ' && l[..3].bytes().all(|b| b.is_ascii_digit()) {
                return (l, n);
            }
        }
    }
    let (last, lines) = stat(&mut c, "/small").await;
    assert!(last.starts_with("213 "), "{last}");
    assert_eq!(lines, 3, "213-, the file, 213");
    let (last, lines) = stat(&mut c, "/big").await;
    let grown = peak_rss_kib(f.child.id()).saturating_sub(before);
    assert!(
        grown < 4 * 1024,
        "ftpd's peak memory grew by {grown} KiB for a STAT ({last})"
    );
    assert!(last.starts_with("213 "), "{last}");
    assert_eq!(lines, N + 2, "213-, every entry, 213");
}

// RFC 1939 6, QUIT in the UPDATE state: "The POP3 server removes all
// messages marked as deleted from the maildrop and replies as to the
// status of this operation." A +OK tells the client the deletions are
// done; removing a file is durable only once its directory is fsynced
// (fsync(2)). maild fsynced only `cur/`, so a message deleted from `new/`
// (never retrieved before, or retrieved in this session) could come back
// after a crash and be fetched again. Every directory a deletion touched
// is now fsynced before the +OK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_deletions_from_new_are_durable_before_the_ok() {
    let Some(trace) = strace(&["unlink", "unlinkat"]) else {
        return;
    };
    let dir = temp_dir("pop3-dele-durable");
    let mut m = Maild::start_traced(
        &dir,
        0,
        &["--user", "alice@example.test:wonderland"],
        Some(&trace),
    );
    let mut c = Raw::connect(m.port("smtp")).await;
    assert_eq!(c.reply().await.0, 220);
    assert_eq!(c.cmd("EHLO client.test").await.0, 250);
    assert_eq!(c.cmd("MAIL FROM:<s@remote.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    c.send(b"Subject: x\r\n\r\ndelete me\r\n").await;
    assert_eq!(c.cmd(".").await.0, 250);
    assert_eq!(c.cmd("QUIT").await.0, 221);
    let new = m.maildir("alice@example.test").join("new");
    assert_eq!(m.messages("alice@example.test").len(), 1);
    let mut p = Raw::connect_tls(m.port("pop3s")).await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"USER alice@example.test\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"PASS wonderland\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"DELE 1\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"QUIT\r\n").await;
    let ok = p.line().await;
    assert!(ok.starts_with("+OK"), "{ok}");
    assert!(m.messages("alice@example.test").is_empty());
    m.kill();
    let log = std::fs::read_to_string(&trace.log).unwrap_or_default();
    let _ = std::fs::remove_file(&trace.log);
    let lines: Vec<&str> = log.lines().collect();
    let new_tag = new.display().to_string();
    let unlinked = lines
        .iter()
        .position(|l| {
            l.contains("unlink") && l.contains(&format!("{new_tag}/"))
                || l.contains("unlinkat(") && l.contains(&format!("<{new_tag}>"))
        })
        .unwrap_or_else(|| panic!("no unlink in new/ seen:\n{log}"));
    let synced = lines[unlinked..]
        .iter()
        .any(|l| l.contains("fsync(") && l.contains(&format!("<{new_tag}>")));
    assert!(
        synced,
        "new/ not fsynced after the deletion:\n{}",
        lines[unlinked..].join("\n")
    );
}

// RFC 959 4.1.3: RNFR "specifies the old pathname of the file which is to
// be renamed", RMD "causes the directory specified in the pathname to be
// removed". ftpd resolved both paths through symlinks first (to confine
// them to the root), so RNFR/RNTO of a symlink moved the file it points to
// (leaving the link dangling), and RMD of a symlink to an empty directory
// removed that directory, the link staying behind. Like rename(2) and
// rmdir(2), and like DELE already did, they now act on the named entry:
// RNFR/RNTO renames the link itself, RMD of a link fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_rename_and_rmd_act_on_a_symlink_not_its_target() {
    let dir = temp_dir("ftpd-symlink-ops");
    let f = Ftpd::start(&dir, &[]);
    let root = f.root();
    std::fs::create_dir_all(root.join("b").join("empty")).unwrap();
    std::fs::write(root.join("b").join("file"), b"keep me").unwrap();
    std::fs::create_dir(root.join("a")).unwrap();
    std::os::unix::fs::symlink("../b/file", root.join("a").join("link")).unwrap();
    std::os::unix::fs::symlink("../b/empty", root.join("a").join("dirlink")).unwrap();
    let mut c = f.login().await;
    assert_eq!(c.cmd("RNFR /a/link").await.0, 350);
    assert_eq!(c.cmd("RNTO /a/renamed").await.0, 250);
    let renamed = std::fs::symlink_metadata(root.join("a").join("renamed")).unwrap();
    assert!(
        renamed.file_type().is_symlink(),
        "the link's target was moved instead"
    );
    assert_eq!(std::fs::read(root.join("b").join("file")).unwrap(), b"keep me");
    let (code, text) = c.cmd("RMD /a/dirlink").await;
    assert!(
        root.join("b").join("empty").is_dir(),
        "RMD of a link removed its target"
    );
    assert_eq!(code / 100, 5, "{code} {text}");
}

// RFC 3659 4: SIZE returns "the number of octets that would be transmitted
// over the data connection should that file be transmitted". RETR of a
// symlink (inside the root) sends the file it points to, but SIZE looked
// at the link itself and answered 550 "Not a plain file", so clients that
// size a file before fetching it (for progress, or to resume) failed on
// links. SIZE now follows the link as RETR does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_size_of_a_symlink_is_what_retr_sends() {
    let dir = temp_dir("ftpd-symlink-size");
    let f = Ftpd::start(&dir, &[]);
    let root = f.root();
    std::fs::write(root.join("file"), b"one\ntwo\n").unwrap();
    std::os::unix::fs::symlink("file", root.join("link")).unwrap();
    std::fs::create_dir(root.join("d")).unwrap();
    let mut c = f.login().await;
    assert_eq!(c.cmd("TYPE I").await.0, 200);
    assert_eq!(c.cmd("SIZE /link").await, (213, "8".to_owned()));
    assert_eq!(c.cmd("TYPE A").await.0, 200);
    assert_eq!(c.cmd("SIZE /link").await, (213, "10".to_owned()));
    assert_eq!(c.cmd("SIZE /d").await.0, 550, "a directory has no size");
}

/// A DNS server on UDP loopback: `self.test` has no MX record and the
/// address 127.0.0.1 (the maild under test); other names do not exist.
async fn implicit_self_mx_dns() -> std::net::SocketAddr {
    fake_dns_server(|name, qtype| match (name, qtype) {
        ("self.test", 1) => Some(vec![(1, vec![127, 0, 0, 1])]),
        ("self.test", _) => Some(Vec::new()),
        _ => None,
    })
    .await
}

// RFC 5321 5.1: without MX records the domain itself is the implicit MX,
// and "If MX records are present, but none of them are usable, or the
// implicit MX is unusable, this situation MUST be reported as an error."
// A domain whose implicit MX is this very server (its address is maild's
// SMTP listener) made maild relay to itself, refuse itself as a relay and
// bounce with "554 5.7.1 Relay access denied", a misleading reason. It is
// now the routing loop it is (5.4.6, RFC 3463), found without connecting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_implicit_mx_that_is_this_server_is_a_routing_loop() {
    let dns = implicit_self_mx_dns().await.to_string();
    let port = free_port();
    let dir = temp_dir("implicit-self-mx");
    let p = port.to_string();
    let m = Maild::start(
        &dir,
        port,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--dns-server",
            &dns,
            "--mx-port",
            &p,
            "--allow-internal-relay",
        ],
    );
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@self.test"],
        "Subject: loop\r\n\r\nto myself\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("the bounce", || !m.messages("alice@a.test").is_empty()).await;
    let bounce = std::fs::read_to_string(&m.messages("alice@a.test")[0]).unwrap();
    assert!(bounce.contains("Status: 5.4.6"), "{bounce}");
}

// RFC 3464 2.3.2: "The Final-Recipient field indicates the recipient for
// which this set of per-recipient fields applies", as "address-type ;
// generic-address"; RFC 6533 3 adds the "utf-8" address type, whose
// utf-8-addr-xtext form (non-ASCII as \x{HEX}) fits the 7bit
// message/delivery-status part. maild's reports turned every non-ASCII
// character of an SMTPUTF8 recipient into a space ("rfc822; j rgen@b.test"
// for jürgen@b.test), naming an address that does not exist. The report
// now says "utf-8; j\x{FC}rgen@b.test".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_names_a_utf8_recipient_exactly() {
    let dir = temp_dir("utf8-final-recipient");
    let nowhere = format!("127.0.0.1:{}", free_port());
    let m = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &nowhere,
            "--relay-insecure",
            "--give-up",
            "0s",
        ],
    );
    let mut c = Raw::connect(m.port("submission")).await;
    assert_eq!(c.reply().await.0, 220);
    c.cmd("EHLO client.test").await;
    assert_eq!(c.cmd("STARTTLS").await.0, 220);
    c.tls().await;
    c.cmd("EHLO client.test").await;
    let auth = format!("AUTH PLAIN {}", plain("alice@a.test", "wonderland"));
    assert_eq!(c.cmd(&auth).await.0, 235);
    assert_eq!(c.cmd("MAIL FROM:<alice@a.test> SMTPUTF8").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<j\u{fc}rgen@b.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    c.send("Subject: Gr\u{fc}\u{df}e\r\nFrom: alice@a.test\r\n\r\nbody\r\n".as_bytes())
        .await;
    assert_eq!(c.cmd(".").await.0, 250);
    wait_for("the bounce", || !m.messages("alice@a.test").is_empty()).await;
    let bounce = std::fs::read_to_string(&m.messages("alice@a.test")[0]).unwrap();
    assert!(
        bounce.contains("\r\nFinal-Recipient: utf-8; j\\x{FC}rgen@b.test\r\n"),
        "{bounce}"
    );
}

// RFC 6531 3.7.3: "The protocol value of the 'WITH' clause when this
// extension is used is one of the SMTPUTF8 values specified in the "IANA
// Considerations" section of this document" (UTF8SMTP, UTF8SMTPA,
// UTF8SMTPS, UTF8SMTPSA, UTF8LMTP, UTF8LMTPA). maild's Received field said
// ESMTPSA for a transaction with MAIL ... SMTPUTF8.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_says_utf8smtp_for_an_smtputf8_transaction() {
    let dir = temp_dir("utf8-with");
    let m = Maild::start(&dir, 0, &["--user", "alice@a.test:wonderland"]);
    for (param, with) in [(" SMTPUTF8", "with UTF8SMTPSA id"), ("", "with ESMTPSA id")] {
        let mut c = Raw::connect(m.port("submission")).await;
        assert_eq!(c.reply().await.0, 220);
        c.cmd("EHLO client.test").await;
        assert_eq!(c.cmd("STARTTLS").await.0, 220);
        c.tls().await;
        c.cmd("EHLO client.test").await;
        let auth = format!("AUTH PLAIN {}", plain("alice@a.test", "wonderland"));
        assert_eq!(c.cmd(&auth).await.0, 235);
        assert_eq!(c.cmd(&format!("MAIL FROM:<alice@a.test>{param}")).await.0, 250);
        assert_eq!(c.cmd("RCPT TO:<alice@a.test>").await.0, 250);
        assert_eq!(c.cmd("DATA").await.0, 354);
        c.send(format!("Subject: {with}\r\n\r\nbody\r\n").as_bytes())
            .await;
        assert_eq!(c.cmd(".").await.0, 250);
        let got = m
            .messages("alice@a.test")
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .find(|t| t.contains(&format!("Subject: {with}")))
            .expect("delivered");
        let received = got.split("\r\nDate:").next().unwrap().to_owned();
        assert!(received.contains(with), "{received}");
    }
}
