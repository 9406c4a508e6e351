//! Review of session 20: the example servers driven as a hostile client
//! would, on loopback only, each test bounded in time. Every test here
//! failed on the code before its fix; the comment above each says what the
//! driver did wrong.
//!
//! The shared harness is in `common/mod.rs` (the built binaries are started
//! on free ports in a temporary directory and driven with raw protocol lines).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::*;

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

// (a) The SCRAM server-first message repeats the client's nonce. A client
// nonce that fits in the 12288-octet AUTH line (RFC 4954 4) makes a 334
// challenge longer than that line, which smtp-proto refuses to send
// (UsageError::BadArgument, the exchange left pending). maild ignored the
// error, so the client waited for an answer that never came, holding a
// connection slot. Now the exchange fails with a 5yz reply.
#[tokio::test]
async fn scram_with_a_huge_client_nonce_is_answered() {
    let dir = temp_dir("scram-nonce");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let mut c = Raw::connect(m.port("smtp")).await;
    assert_eq!(c.reply().await.0, 220);
    assert_eq!(c.cmd("EHLO client.test").await.0, 250);
    // "AUTH SCRAM-SHA-256 " + base64(client-first) + CRLF stays within 12288.
    let mut first = b"n,,n=alice@example.test,r=".to_vec();
    first.resize(9195, b'A');
    let line = format!("AUTH SCRAM-SHA-256 {}", b64(&first));
    assert!(line.len() + 2 <= 12288, "{}", line.len());
    let (code, text) = c.cmd(&line).await;
    assert!((500..600).contains(&code), "{code} {text}");
    // The session goes on.
    assert_eq!(c.cmd("NOOP").await.0, 250);
}

/// Connects with a small receive buffer, reads the greeting, sends `hello`
/// and reads its reply (up to a line starting with `last`), then floods
/// `line` (pipelined, never reading a reply) from a background task until
/// the server stops taking input; returns the task (it owns the socket).
async fn flood_without_reading(
    port: u16,
    hello: &[u8],
    last: &str,
    line: &'static [u8],
) -> tokio::task::JoinHandle<()> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tcp = socket
        .connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    let mut greeting = [0u8; 512];
    let n = tokio::time::timeout(WAIT, tcp.read(&mut greeting))
        .await
        .expect("greeting")
        .unwrap();
    assert!(n > 0, "no greeting");
    tcp.write_all(hello).await.unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") || !String::from_utf8_lossy(&got).lines().any(|l| l.starts_with(last)) {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut greeting))
            .await
            .expect("reply")
            .unwrap();
        assert!(n > 0, "closed before the reply");
        got.extend_from_slice(&greeting[..n]);
    }
    tokio::spawn(async move {
        let block: Vec<u8> = line.iter().copied().cycle().take(line.len() * 1000).collect();
        // At most 64 MiB, or until the server stops reading (write stalls),
        // or it closes the connection.
        for _ in 0..(64 << 20) / block.len() {
            match tokio::time::timeout(Duration::from_secs(2), tcp.write_all(&block)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return,
                Err(_) => break,
            }
        }
        // Hold the connection, still never reading, until the test ends.
        std::future::pending::<()>().await;
    })
}

// (e) A client that pipelines commands and never reads the replies: once
// the socket buffers are full maild's write of the replies blocked with no
// time limit, so the session's idle timeout (RFC 5321 4.5.3.2.7) never
// fired and the connection held its slot for ever; with
// --max-connections 1 nobody else could connect. Writes are now bounded
// by the same timeout, and the stuck session is dropped.
#[tokio::test]
async fn smtp_client_that_never_reads_does_not_hold_its_slot() {
    let dir = temp_dir("smtp-noread");
    let m = Maild::start(&dir, 0, &["--max-connections", "1", "--smtp-timeout", "1s"]);
    let flood = flood_without_reading(m.port("smtp"), b"EHLO client.test\r\n", "250 ", b"RSET\r\n").await;
    // Someone else gets a greeting once the stuck session is dropped.
    let end = Instant::now() + WAIT;
    loop {
        let mut c = Raw::connect(m.port("smtp")).await;
        let (code, _) = c.reply().await;
        if code == 220 {
            break;
        }
        assert!(Instant::now() < end, "the non-reading client holds the only slot");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    flood.abort();
}

// (e) The same for POP3: a client that sends CAPA after CAPA and never
// reads kept its connection (and slot) for ever, past the autologout timer
// (RFC 1939 3: "at least 10 minutes", --pop3-timeout).
#[tokio::test]
async fn pop3_client_that_never_reads_does_not_hold_its_slot() {
    let dir = temp_dir("pop3-noread");
    let m = Maild::start(&dir, 0, &["--max-connections", "1", "--pop3-timeout", "1s"]);
    let flood = flood_without_reading(m.port("pop3"), b"CAPA\r\n", ".", b"CAPA\r\n").await;
    let end = Instant::now() + WAIT;
    loop {
        let mut c = Raw::connect(m.port("pop3")).await;
        if c.line().await.starts_with("+OK") {
            break;
        }
        assert!(Instant::now() < end, "the non-reading client holds the only slot");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    flood.abort();
}

// (e) ftpd's control connection: a client that sends NOOP after NOOP and
// never reads the replies blocked the reply write for ever, past the idle
// timeout, and kept its session slot (--max-sessions).
#[tokio::test]
async fn ftp_client_that_never_reads_does_not_hold_its_slot() {
    let dir = temp_dir("ftp-noread");
    let f = Ftpd::start(&dir, &["--max-sessions", "1", "--idle-timeout", "1"]);
    let flood = flood_without_reading(f.port, b"NOOP\r\n", "200 ", b"NOOP\r\n").await;
    let end = Instant::now() + WAIT;
    loop {
        let mut c = Raw::connect(f.port).await;
        if c.reply().await.0 == 220 {
            break;
        }
        assert!(Instant::now() < end, "the non-reading client holds the only slot");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    flood.abort();
}

// (d, e) A FIFO in the served tree (put there by a local user): RETR opened
// it with a blocking open(2), which waits for a writer that never comes,
// inside the control connection's task. The client never got a reply (not
// even after --transfer-timeout) and a runtime thread stayed blocked. Only
// regular files are sent now (RFC 959 4.2: 550 "file unavailable").
#[tokio::test]
async fn ftp_retr_of_a_fifo_is_refused() {
    let dir = temp_dir("ftp-fifo");
    let f = Ftpd::start(&dir, &["--transfer-timeout", "2"]);
    let fifo = f.root().join("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut c = f.login().await;
    assert_eq!(c.cmd("TYPE I").await.0, 200);
    assert_eq!(c.cmd("EPSV").await.0, 229);
    let (code, text) = c.cmd("RETR pipe").await;
    assert!((500..600).contains(&code), "{code} {text}");
    // The session goes on.
    assert_eq!(c.cmd("NOOP").await.0, 200);
}

// (f) Client text reached the log as sent: a USER name with an escape
// sequence (ESC [ ... m, the C1 CSI, backspaces) was written raw to ftpd's
// log, where a terminal showing it (tail -f, less -R) obeys it: a client
// could recolour, hide or rewrite log lines. Control characters in a log
// line are now written as escapes.
#[tokio::test]
async fn client_text_cannot_inject_control_sequences_into_the_log() {
    let dir = temp_dir("ftp-log");
    let log = std::env::temp_dir().join(format!("ftpd-log-{}.txt", std::process::id()));
    let f = Ftpd::start_logging(&dir, &[], Some(&log));
    let mut c = Raw::connect(f.port).await;
    assert_eq!(c.reply().await.0, 220);
    c.send(b"USER evil\x1b[2K\x1b[31mFAKE\xc2\x9b0m\x08\x08\x07\r\n")
        .await;
    assert_eq!(c.reply().await.0, 331);
    assert_eq!(c.cmd("PASS wrong").await.0, 530);
    let end = Instant::now() + WAIT;
    let text = loop {
        let text = std::fs::read(&log).unwrap();
        if String::from_utf8_lossy(&text).contains("failed login") {
            break text;
        }
        assert!(Instant::now() < end, "no log line");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = std::fs::remove_file(&log);
    let line = String::from_utf8_lossy(&text);
    let line = line.lines().find(|l| l.contains("failed login")).unwrap();
    assert!(line.contains("evil"), "{line:?}");
    assert!(
        !line.chars().any(char::is_control),
        "control characters from the client in the log: {line:?}"
    );
}

/// A next hop that answers EHLO, MAIL, RCPT and DATA, then, on its first
/// connection only, stops reading in the middle of the body; later
/// connections get the whole conversation. Counts connections.
async fn stalling_hop() -> (u16, Arc<AtomicUsize>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    // Inherited by accepted connections: the sender fills it quickly.
    socket.set_recv_buffer_size(4096).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(16).unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let (rd, mut wr) = tcp.into_split();
                let mut rd = tokio::io::BufReader::new(rd);
                let _ = wr.write_all(b"220 hop\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if tokio::io::AsyncBufReadExt::read_line(&mut rd, &mut line)
                        .await
                        .unwrap_or(0)
                        == 0
                    {
                        return;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250 hop\r\n",
                        "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                        "DATA" if n == 0 => {
                            let _ = wr.write_all(b"354 go on\r\n").await;
                            // Never read again; keep the connection open.
                            std::future::pending::<()>().await;
                            return;
                        }
                        "DATA" => {
                            let _ = wr.write_all(b"354 go on\r\n").await;
                            loop {
                                line.clear();
                                let got = tokio::io::AsyncBufReadExt::read_line(&mut rd, &mut line).await;
                                if got.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                            }
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = wr.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"502 no\r\n",
                    };
                    let _ = wr.write_all(reply).await;
                }
            });
        }
    });
    (port, count)
}

// (c, e) A next hop that stops reading in the middle of a relayed body: the
// queue runner's write waited for ever (the session's timers run only
// while reading), so the message was never retried and its delivery slot
// (one of 16) was lost until a restart; sixteen such hops, reachable
// through any success or failure report to an attacker's domain, stopped
// the queue. RFC 5321 4.5.3.2.5: "Data block: 3 minutes. This is while
// awaiting the completion of each TCP SEND call transmitting a chunk of
// data." Each write is now bounded (--data-block-timeout), the attempt
// fails temporarily and the message is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_to_a_hop_that_stops_reading_times_out_and_retries() {
    let (hop, count) = stalling_hop().await;
    let dir = temp_dir("relay-stall");
    let m = relay_in(&dir, hop, &["--data-block-timeout", "1s"]);
    let mut body = String::from("Subject: big\r\n\r\n");
    while body.len() < 12 << 20 {
        body.push_str("a line of a large message that the next hop will not read\r\n");
    }
    let sent = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["far@c.test"],
        &body,
    )
    .await;
    assert_eq!(sent, (vec![250], 250));
    wait_for("a second attempt after the stalled one", || {
        count.load(Ordering::SeqCst) >= 2
    })
    .await;
    wait_for("the queue emptied", || m.queued() == 0).await;
}

// (c) The POP3 maildrop lock (RFC 1939 8) names the process holding it, and
// a lock whose process is alive was taken as held. A lock left by a killed
// maild whose successor got the same pid (in a container maild is pid 1
// after every restart) then named a live process, maild itself, though no
// session held it: every login got [IN-USE], for ever. Such a lock is now
// broken like any other stale one.
#[tokio::test]
async fn stale_maildrop_lock_with_our_own_pid_is_broken() {
    let dir = temp_dir("pop3-lock");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    // Deliver one message so the maildir exists.
    let mut c = Raw::connect(m.port("smtp")).await;
    assert_eq!(c.reply().await.0, 220);
    c.cmd("EHLO client.test").await;
    assert_eq!(c.cmd("MAIL FROM:<a@remote.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: x\r\n\r\nx\r\n.").await.0, 250);
    // The lock an earlier maild with this pid left behind when it was killed.
    let lock = m.maildir("alice@example.test").join(".maildrop.lock");
    std::fs::write(&lock, format!("{}\n", m.child.id())).unwrap();
    let mut p = Raw::connect(m.port("pop3")).await;
    assert!(p.line().await.starts_with("+OK"));
    let scram_free = format!("AUTH PLAIN {}", plain("alice@example.test", "wonderland"));
    // PLAIN needs TLS: use STLS first.
    p.send(b"STLS\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    p.tls().await;
    p.send(format!("{scram_free}\r\n").as_bytes()).await;
    let reply = p.line().await;
    assert!(reply.starts_with("+OK"), "{reply}");
    // While this session holds it, a second one is refused.
    let mut q = Raw::connect(m.port("pop3")).await;
    assert!(q.line().await.starts_with("+OK"));
    q.send(b"STLS\r\n").await;
    assert!(q.line().await.starts_with("+OK"));
    q.tls().await;
    q.send(format!("{scram_free}\r\n").as_bytes()).await;
    let reply = q.line().await;
    assert!(reply.starts_with("-ERR [IN-USE]"), "{reply}");
}

// (c) APPE (RFC 959 4.1.3: "if the file at the pathname specified already
// exists, then the data shall be appended to that file") copied the old
// file into the upload's temporary file when the transfer began and renamed
// that over the file at its end. Two appends to one file at once (two log
// writers, say) both started from the old content, and the second rename
// dropped the first one's data, after its 226. Each append now joins the
// file's content as it is when the append completes.
#[test]
fn concurrent_appends_to_one_file_both_land() {
    use std::io::Write;
    let dir = temp_dir("ftpfs-appe");
    let tree = examples::ftpfs::FileTree::new(dir.join("root")).unwrap();
    std::fs::write(dir.join("root/log"), b"old\n").unwrap();
    let mut first = tree.begin_upload("/log", u64::MAX).unwrap();
    let mut second = tree.begin_upload("/log", u64::MAX).unwrap();
    first.write_all(b"first\n").unwrap();
    second.write_all(b"second\n").unwrap();
    first.commit().unwrap();
    second.commit().unwrap();
    let got = std::fs::read_to_string(dir.join("root/log")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(got, "old\nfirst\nsecond\n");
}

// (e) smtp-send promises "--timeout: seconds to wait for the connection and
// for each reply", but its writes had no bound: a server that stops
// reading in the middle of the body left it hanging for ever. Each write
// now has the same bound (RFC 5321 4.5.3.2.5, a data block's send), and
// smtp-send fails with an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_send_gives_up_on_a_server_that_stops_reading() {
    let (hop, count) = stalling_hop().await;
    let dir = temp_dir("smtp-send-stall");
    let message = dir.join("big.eml");
    let mut body = String::from("From: a@a.test\r\nTo: b@b.test\r\nSubject: big\r\n\r\n");
    while body.len() < 12 << 20 {
        body.push_str("a line of a large message that the server will not read\r\n");
    }
    std::fs::write(&message, body).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_smtp-send"))
        .args(["-s", "127.0.0.1", "-p", &hop.to_string(), "--starttls", "never"])
        .args(["-f", "a@a.test", "-t", "b@b.test", "--timeout", "1", "--message"])
        .arg(&message)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start smtp-send");
    let end = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let status = status.expect("smtp-send still blocked writing to a server that does not read");
    assert!(!status.success(), "the message was not sent");
}

/// A scripted FTP server on its own thread: logs anyone in, offers EPSV and
/// answers LIST with `listing` on the data connection. Returns its port.
fn listing_server(listing: &'static [u8]) -> (u16, std::thread::JoinHandle<()>) {
    use std::io::Write;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (tcp, _) = l.accept().expect("control connection");
        tcp.set_read_timeout(Some(WAIT)).unwrap();
        let mut out = tcp.try_clone().unwrap();
        let mut lines = BufReader::new(tcp);
        out.write_all(b"220 scripted\r\n").unwrap();
        let mut data = None;
        let mut line = String::new();
        while {
            line.clear();
            lines.read_line(&mut line).unwrap_or(0) > 0
        } {
            let verb = line.split([' ', '\r']).next().unwrap_or("").to_ascii_uppercase();
            let reply: Vec<u8> = match verb.as_str() {
                "USER" => b"331 password\r\n".to_vec(),
                "PASS" => b"230 in\r\n".to_vec(),
                "TYPE" => b"200 type\r\n".to_vec(),
                "EPSV" => {
                    let d = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                    let p = d.local_addr().unwrap().port();
                    data = Some(d);
                    format!("229 Entering Extended Passive Mode (|||{p}|)\r\n").into_bytes()
                }
                "LIST" | "NLST" | "MLSD" => {
                    out.write_all(b"150 here it comes\r\n").unwrap();
                    let (mut d, _) = data.take().expect("EPSV first").accept().unwrap();
                    d.write_all(listing).unwrap();
                    drop(d);
                    b"226 done\r\n".to_vec()
                }
                "QUIT" => {
                    out.write_all(b"221 bye\r\n").unwrap();
                    return;
                }
                _ => b"502 not here\r\n".to_vec(),
            };
            out.write_all(&reply).unwrap();
        }
    });
    (port, h)
}

// (f) The ftp client printed a server's listing to the terminal byte for
// byte: a hostile server's file name with ESC/CSI sequences could rewrite
// what the user sees (hide files, fake output, set the window title).
// Control characters other than tab and line ends are now shown as escapes.
#[test]
fn ftp_ls_does_not_pass_control_sequences_to_the_terminal() {
    let listing: &[u8] = b"-rw-r--r-- 1 ftp ftp 5 Jan 01 00:00 evil\x1b[2K\x1b]0;pwned\x07name\xc2\x9b0m\r\n\
-rw-r--r-- 1 ftp ftp 5 Jan 01 00:00 plain.txt\r\n";
    let (port, server) = listing_server(listing);
    let out = Command::new(env!("CARGO_BIN_EXE_ftp"))
        .arg(format!("ftp://u:p@127.0.0.1:{port}"))
        .args(["--no-tls", "ls"])
        .output()
        .expect("run ftp");
    server.join().expect("scripted server");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("plain.txt") && text.contains("evil"), "{text}");
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
        "control characters from the server on stdout: {text:?}"
    );
}

// (f) smtp-send prints the server's replies ("MAIL FROM: 250 ..."), and the
// ftp client and pop3-fetch print theirs in errors: a hostile server's
// reply text with ESC/CSI sequences reached the user's terminal as sent.
// The clients now show control characters as escapes.
#[tokio::test]
async fn smtp_send_does_not_pass_control_sequences_from_replies() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (rd, mut wr) = tcp.into_split();
        let mut rd = tokio::io::BufReader::new(rd);
        wr.write_all(b"220 scripted\r\n").await.unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            if tokio::io::AsyncBufReadExt::read_line(&mut rd, &mut line)
                .await
                .unwrap_or(0)
                == 0
            {
                return;
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250 hop\r\n",
                "MAIL" => b"250 ok\x1b]0;pwned\x07 \x1b[2Kfine\r\n",
                "RCPT" => b"550 no such user\x1b[8m\r\n",
                "QUIT" => {
                    let _ = wr.write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => b"502 no\r\n",
            };
            wr.write_all(reply).await.unwrap();
        }
    });
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_smtp-send"))
            .args(["-s", "127.0.0.1", "-p", &port.to_string(), "--starttls", "never"])
            .args([
                "-f",
                "a@a.test",
                "-t",
                "b@b.test",
                "--body",
                "x",
                "--timeout",
                "5",
            ])
            .output()
    });
    let out = tokio::time::timeout(WAIT, out)
        .await
        .expect("smtp-send ran")
        .unwrap()
        .unwrap();
    let _ = server.await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fine") && text.contains("no such user"), "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "control characters from the server on stdout: {text:?}"
    );
}

// (c) A message file that cannot be read (here: replaced by a directory
// after the listing, so open(2) works and read(2) fails) was treated as at
// its end: RETR answered "+OK" and an empty (or, after a partial read, a
// truncated) message, which a client in delete mode then deletes. A read
// error before any data now answers -ERR [SYS/TEMP] (RFC 3206 4), and
// one after data closes the connection, so the client sees no complete
// message (pop3-proto's `message_unavailable` contract).
#[tokio::test]
async fn pop3_read_error_is_not_a_complete_message() {
    let dir = temp_dir("pop3-readerr");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let mut c = Raw::connect(m.port("smtp")).await;
    assert_eq!(c.reply().await.0, 220);
    c.cmd("EHLO client.test").await;
    assert_eq!(c.cmd("MAIL FROM:<a@remote.test>").await.0, 250);
    assert_eq!(c.cmd("RCPT TO:<alice@example.test>").await.0, 250);
    assert_eq!(c.cmd("DATA").await.0, 354);
    assert_eq!(c.cmd("Subject: x\r\n\r\nx\r\n.").await.0, 250);
    let mut p = Raw::connect(m.port("pop3")).await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"STLS\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    p.tls().await;
    p.send(format!("AUTH PLAIN {}\r\n", plain("alice@example.test", "wonderland")).as_bytes())
        .await;
    assert!(p.line().await.starts_with("+OK"));
    // The message file becomes unreadable after the listing.
    let new = m.maildir("alice@example.test").join("new");
    let file = std::fs::read_dir(&new).unwrap().next().unwrap().unwrap().path();
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    p.send(b"RETR 1\r\n").await;
    let reply = p.line().await;
    assert!(reply.starts_with("-ERR"), "{reply}");
    // The session goes on.
    p.send(b"NOOP\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
}

// (c) Two local recipients, and storing the message fails for one of them
// only (its Maildir's new/ is broken). maild answered 451 for the whole
// message though the other recipient already had it, so the client sent it
// again and that recipient got it twice. RFC 5321 4.2.5: "The user who
// originated the message SHOULD be able to interpret the return of a
// transient failure status ... as a non-delivery indication". Once any
// recipient has the message it is now accepted, and the recipients it
// could not reach are reported to the sender as failed (RFC 3464).
#[tokio::test]
async fn partial_local_failure_is_accepted_and_reported_not_duplicated() {
    let dir = temp_dir("partial");
    let m = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@example.test:wonderland",
            "--user",
            "bob@example.test:builder",
            "--user",
            "carol@example.test:sender",
        ],
    );
    let send = |to: &'static [&'static str], subject: &'static str| {
        let port = m.port("smtp");
        async move {
            let mut c = Raw::connect(port).await;
            assert_eq!(c.reply().await.0, 220);
            c.cmd("EHLO client.test").await;
            assert_eq!(c.cmd("MAIL FROM:<carol@example.test>").await.0, 250);
            for r in to {
                assert_eq!(c.cmd(&format!("RCPT TO:<{r}>")).await.0, 250);
            }
            assert_eq!(c.cmd("DATA").await.0, 354);
            c.cmd(&format!("Subject: {subject}\r\n\r\nbody\r\n.")).await.0
        }
    };
    // Bob's Maildir exists (and is known to maild); then its new/ breaks.
    assert_eq!(send(&["bob@example.test"], "first").await, 250);
    let bob_new = m.maildir("bob@example.test").join("new");
    std::fs::remove_dir_all(&bob_new).unwrap();
    std::fs::write(&bob_new, b"not a directory").unwrap();
    let code = send(&["alice@example.test", "bob@example.test"], "second").await;
    assert_eq!(
        code, 250,
        "alice has the message: a 4yz would make the client send it again"
    );
    let alice: Vec<PathBuf> = ["new", "cur"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(m.maildir("alice@example.test").join(d))
                .into_iter()
                .flatten()
        })
        .filter_map(Result::ok)
        .map(|d| d.path())
        .collect();
    assert_eq!(alice.len(), 1);
    // The sender is told that bob did not get it.
    wait_for("a failure report to carol", || {
        std::fs::read_dir(m.maildir("carol@example.test").join("new"))
            .map(|rd| {
                rd.filter_map(Result::ok).any(|d| {
                    let text = std::fs::read_to_string(d.path()).unwrap_or_default();
                    text.contains("Action: failed") && text.contains("bob@example.test")
                })
            })
            .unwrap_or(false)
    })
    .await;
}

// (c) A queued message for two domains is relayed one domain after the
// other, but what each domain's hop answered was written to the spool only
// after the last domain. Killed while the second domain was under way,
// maild forgot that the first had the message and sent it there again
// after the restart. Each domain's outcome is now recorded before the next
// domain is tried (the durability contract: a kill at any point neither
// loses nor repeats what was acknowledged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_to_two_domains_killed_midway_does_not_repeat_the_first() {
    let (hop, (counts, stall, reached)) = counting_hop("d.test").await;
    let dir = temp_dir("relay-two");
    let mut first = relay_in(&dir, hop, &[]);
    let sent = submit(
        first.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["one@c.test", "two@d.test"],
        "Subject: two domains\r\n\r\nbody\r\n",
    )
    .await;
    assert_eq!(sent, (vec![250, 250], 250));
    // c.test went first; d.test's hop now holds its RCPT reply; maild dies.
    wait_for("the d.test attempt", || reached.load(Ordering::SeqCst)).await;
    assert_eq!(counts.lock().unwrap().get("c.test"), Some(&1));
    first.kill();
    stall.store(false, Ordering::SeqCst);
    let second = relay_in(&dir, hop, &[]);
    wait_for("d.test got the message", || {
        counts.lock().unwrap().get("d.test") == Some(&1)
    })
    .await;
    wait_for("the queue emptied", || second.queued() == 0).await;
    assert_eq!(
        counts.lock().unwrap().get("c.test"),
        Some(&1),
        "c.test got it twice"
    );
}
