//! Second review of session 20: the example programs driven as a hostile
//! peer would, on loopback only, each test bounded in time and asserting no
//! timing. Every test here failed on the code before its fix; the comment
//! above each says what was wrong.
//!
//! The shared harness is in `common/mod.rs`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

mod common;
use common::*;

// RFC 5321 4.1.3: "Sometimes a host is not known to the domain name system
// ... To bypass this barrier, a special literal form of the address is
// allowed as an alternative to a domain name." The relay queue looked up
// MX records for "[127.0.0.1]" as if it were a name: the lookup can never
// succeed, so the message was retried for days and then bounced. The
// address in the literal is the host to connect to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_to_an_address_literal_connects_to_that_address() {
    let (hop, (counts, stall, _)) = counting_hop("never.test").await;
    stall.store(false, Ordering::SeqCst);
    let dir = temp_dir("literal");
    let mx_port = hop.to_string();
    // A DNS server that never answers: no name can be looked up.
    let dns = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns_addr = dns.local_addr().unwrap().to_string();
    let m = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--allow-internal-relay",
            "--dns-server",
            &dns_addr,
            "--mx-port",
            &mx_port,
        ],
    );
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@[127.0.0.1]"],
        "Subject: literal\r\n\r\nto an address\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    wait_for("delivery to the address literal", || {
        counts.lock().unwrap().get("[127.0.0.1]") == Some(&1)
    })
    .await;
    wait_for("queue emptied", || m.queued() == 0).await;
    drop(dns);
}

/// A tiny DNS server on UDP loopback: `eq.test` has eight MX records of
/// the same preference, `mxN.eq.test`; other names do not exist.
async fn equal_mx_dns() -> std::net::SocketAddr {
    fake_dns_server(|name, qtype| match (name, qtype) {
        ("eq.test", 15) => Some(
            (0..8)
                .map(|k| (15, mx_rdata(10, &format!("mx{k}.eq.test"))))
                .collect(),
        ),
        ("eq.test", _) => Some(Vec::new()),
        _ => None,
    })
    .await
}

// RFC 5321 5.1: "If there are multiple destinations with the same
// preference and there is no clear reason to favor one ..., then the
// sender-SMTP MUST randomize them to spread the load across multiple mail
// exchangers". mx_hosts kept the order the DNS server gave, so every
// message went to the first of them. Twenty lookups of eight equal MX
// hosts all in one order happen by chance with probability (1/8!)^19.
#[tokio::test]
async fn equal_preference_mx_hosts_are_randomised() {
    let dns = equal_mx_dns().await;
    let mut orders = std::collections::HashSet::new();
    for _ in 0..20 {
        // A fresh resolver each time, so no cache hands back one answer.
        let r = examples::mx::resolver(Some(dns)).unwrap();
        let hosts = examples::mx::mx_hosts(&r, "eq.test").await.unwrap();
        let mut sorted = hosts.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            (0..8).map(|k| format!("mx{k}.eq.test")).collect::<Vec<_>>()
        );
        orders.insert(hosts);
    }
    assert!(orders.len() > 1, "always the same order: {orders:?}");
}

// The ftp client's `get` created (truncated) the local file before it
// asked for the remote one, so a download that failed, here a 550 for a
// name that does not exist, destroyed the user's local file of that name.
// A download now goes to a temporary file renamed over the local name only
// once the transfer has completed (RFC 959 4.2: 550 means "Requested
// action not taken", nothing was transferred).
#[tokio::test]
async fn ftp_get_that_fails_keeps_the_local_file() {
    let dir = temp_dir("ftp-get-keep");
    let f = Ftpd::start(&dir, &[]);
    let local_dir = dir.join("local");
    std::fs::create_dir_all(&local_dir).unwrap();
    let local = local_dir.join("notes.txt");
    std::fs::write(&local, b"precious local data\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ftp"))
        .arg(format!("ftp://u:p@127.0.0.1:{}", f.port))
        .args(["--no-tls", "--quiet", "get", "missing.txt"])
        .arg(&local)
        .output()
        .expect("run ftp");
    assert!(!out.status.success(), "a get of a missing file must fail");
    assert_eq!(std::fs::read(&local).unwrap(), b"precious local data\n");
    let names: Vec<_> = std::fs::read_dir(&local_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left behind: {names:?}");
    // A download that works still replaces it.
    std::fs::write(f.root().join("notes.txt"), b"remote copy\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ftp"))
        .arg(format!("ftp://u:p@127.0.0.1:{}", f.port))
        .args(["--no-tls", "--quiet", "get", "notes.txt"])
        .arg(&local)
        .output()
        .expect("run ftp");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&local).unwrap(), b"remote copy\n");
}

/// The regular, non-hidden files in `dir` with their contents.
fn visible_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

// RFC 959 4.1.3, STOU: "The contents of the file will be stored under a
// name unique to that directory." ftpd picked a name that did not exist yet
// when STOU came, but created nothing under it until the upload completed.
// Two STOUs under way at once got the same name, both got 226, and the
// second rename replaced the first upload: one client's file was lost.
#[tokio::test]
async fn concurrent_stou_uploads_get_different_names() {
    let dir = temp_dir("stou");
    let f = Ftpd::start(&dir, &[]);
    let mut sessions = Vec::new();
    for body in [&b"first upload\n"[..], b"second upload\n"] {
        let mut c = f.login().await;
        assert_eq!(c.cmd("TYPE I").await.0, 200);
        let port = c.epsv().await;
        c.send(b"STOU\r\n").await;
        let mut data = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (code, text) = c.reply().await;
        assert_eq!(code, 150, "{text}");
        data.write_all(body).await.unwrap();
        sessions.push((c, data));
    }
    // Both transfers are under way; now both complete, the second first.
    for (mut c, mut data) in sessions.into_iter().rev() {
        data.shutdown().await.unwrap();
        drop(data);
        let (code, text) = c.reply().await;
        assert_eq!(code, 226, "{text}");
    }
    let files = visible_files(&f.root());
    let contents: Vec<&[u8]> = files.iter().map(|(_, b)| b.as_slice()).collect();
    assert_eq!(
        contents.len(),
        2,
        "both uploads kept under their own names: {files:?}"
    );
    assert!(contents.contains(&&b"first upload\n"[..]) && contents.contains(&&b"second upload\n"[..]));
}

/// A DNS server on UDP loopback: `many.test` has twenty MX records, `mN.many.test`,
/// each with the address 127.0.0.1. Returns the names whose address was asked for.
async fn many_mx_dns() -> (
    std::net::SocketAddr,
    Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
) {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let asked = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let seen = asked.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = sock.recv_from(&mut buf).await {
            let q = &buf[..n];
            let mut i = 12;
            let mut labels = Vec::new();
            while i < q.len() && q[i] != 0 {
                let len = usize::from(q[i]);
                labels.push(String::from_utf8_lossy(&q[i + 1..i + 1 + len]).to_lowercase());
                i += 1 + len;
            }
            let qname = labels.join(".");
            let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
            let question = &q[12..i + 5];
            let mut answers: Vec<(u16, Vec<u8>)> = Vec::new();
            let mut rcode = 0u8;
            let host = qname.strip_suffix(".many.test").filter(|h| h.starts_with('m'));
            match (qname.as_str(), qtype, host) {
                ("many.test", 15, _) => {
                    for k in 0..20 {
                        let label = format!("m{k}");
                        let mut rd = 10u16.to_be_bytes().to_vec();
                        rd.push(u8::try_from(label.len()).unwrap());
                        rd.extend_from_slice(label.as_bytes());
                        // The rest of the name: the question's, at offset 12.
                        rd.extend_from_slice(&[0xc0, 12]);
                        answers.push((15, rd));
                    }
                }
                (_, 1, Some(_)) => {
                    seen.lock().unwrap().insert(qname.clone());
                    answers.push((1, vec![127, 0, 0, 1]));
                }
                ("many.test", _, _) | (_, _, Some(_)) => {}
                _ => rcode = 3,
            }
            let mut r = Vec::new();
            r.extend_from_slice(&q[..2]);
            r.extend_from_slice(&[0x84, 0x80 | rcode, 0, 1]);
            r.extend_from_slice(&u16::try_from(answers.len()).unwrap().to_be_bytes());
            r.extend_from_slice(&[0, 0, 0, 0]);
            r.extend_from_slice(question);
            for (t, rd) in answers {
                r.extend_from_slice(&[0xc0, 12]);
                r.extend_from_slice(&t.to_be_bytes());
                r.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
                r.extend_from_slice(&u16::try_from(rd.len()).unwrap().to_be_bytes());
                r.extend_from_slice(&rd);
            }
            let _ = sock.send_to(&r, peer).await;
        }
    });
    (addr, asked)
}

// RFC 5321 5.1: "there MAY also be a configurable limit on the number of
// alternate addresses that can be tried. In any case, the SMTP client
// SHOULD try at least two addresses." The queue tried every MX host a
// domain's DNS named, each address with the 30 s connect timeout, so a
// hostile domain with hundreds of MX records held a delivery slot for hours
// per attempt. One attempt now tries at most ten addresses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_relay_attempt_tries_a_bounded_number_of_mx_hosts() {
    let (dns, asked) = many_mx_dns().await;
    let dns = dns.to_string();
    // Nothing listens there: every connection is refused at once.
    let closed = free_port().to_string();
    let dir = temp_dir("many-mx");
    let m = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--allow-internal-relay",
            "--dns-server",
            &dns,
            "--mx-port",
            &closed,
            "--give-up",
            "0s",
        ],
    );
    let (codes, code) = submit(
        m.port("submission"),
        "alice@a.test",
        "wonderland",
        "alice@a.test",
        &["bob@many.test"],
        "Subject: many\r\n\r\nmany hosts\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    // One attempt, then the bounce (--give-up 0s).
    wait_for("the bounce after one attempt", || {
        !m.messages("alice@a.test").is_empty()
    })
    .await;
    let tried = asked.lock().unwrap().len();
    assert!((2..=10).contains(&tried), "{tried} MX hosts tried in one attempt");
}

/// A scripted SMTP server (EHLO with `ehlo_extra` lines) that takes one
/// message and returns its DATA bytes up to, not including, the final dot
/// line, and the command verbs it got.
async fn data_sink(ehlo: &'static [u8]) -> (u16, tokio::task::JoinHandle<(Vec<u8>, Vec<String>)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (rd, mut wr) = tcp.into_split();
        let mut rd = tokio::io::BufReader::new(rd);
        wr.write_all(b"220 scripted\r\n").await.unwrap();
        let mut body = Vec::new();
        let mut verbs = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            if tokio::io::AsyncBufReadExt::read_until(&mut rd, b'\n', &mut line)
                .await
                .unwrap_or(0)
                == 0
            {
                return (body, verbs);
            }
            let verb = String::from_utf8_lossy(line.get(..4).unwrap_or(b"")).to_ascii_uppercase();
            verbs.push(verb.clone());
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => ehlo,
                "MAIL" | "RCPT" => b"250 ok\r\n",
                "DATA" => {
                    wr.write_all(b"354 go on\r\n").await.unwrap();
                    loop {
                        line.clear();
                        let n = tokio::io::AsyncBufReadExt::read_until(&mut rd, b'\n', &mut line).await;
                        if n.unwrap_or(0) == 0 {
                            return (body, verbs);
                        }
                        if line == b".\r\n" {
                            break;
                        }
                        body.extend_from_slice(&line);
                    }
                    b"250 taken\r\n"
                }
                "QUIT" => {
                    let _ = wr.write_all(b"221 bye\r\n").await;
                    return (body, verbs);
                }
                _ => b"502 no\r\n",
            };
            wr.write_all(reply).await.unwrap();
        }
    });
    (port, server)
}

/// Runs smtp-send with `--message file` against `port` (no TLS, no AUTH).
async fn smtp_send_message(port: u16, file: &Path) -> std::process::Output {
    let file = file.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_smtp-send"))
            .args(["-s", "127.0.0.1", "-p", &port.to_string(), "--starttls", "never"])
            .args(["-f", "a@a.test", "-t", "b@b.test", "--timeout", "5", "--message"])
            .arg(&file)
            .output()
    });
    tokio::time::timeout(WAIT, out)
        .await
        .expect("smtp-send ran")
        .unwrap()
        .unwrap()
}

// RFC 5321 2.3.8: "In addition, the appearance of "bare" "CR" or "LF"
// characters in text (i.e., either without the other) has a long history of
// causing problems in mail implementations and applications that use the
// mail system as a tool. SMTP client implementations MUST NOT transmit
// these characters except when they are intended as line terminators and
// then MUST transmit them only as a <CRLF> sequence." A message file saved
// with Unix line ends (the usual .eml on disk) made smtp-send fail in the
// middle of DATA with "body: ... bare CR or LF", after it had already sent
// MAIL, RCPT and DATA. Its line ends are now sent as CRLF, the lines that
// begin with a dot stuffed, and a missing last line end added.
#[tokio::test]
async fn smtp_send_message_file_with_unix_line_ends_is_sent_as_crlf() {
    let (port, server) = data_sink(b"250 hop\r\n").await;
    let dir = temp_dir("lf-message");
    let file = dir.join("m.eml");
    std::fs::write(&file, b"Subject: lf\n\nfirst\n.dot line\n\nlast").unwrap();
    let out = smtp_send_message(port, &file).await;
    let (body, _) = server.await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&body),
        "Subject: lf\r\n\r\nfirst\r\n..dot line\r\n\r\nlast\r\n"
    );
}

// RFC 3659 5.3 (REST in TYPE A): "the restart marker ... is the number of
// octets of the file ... in the transfer representation", i.e. counting
// CRLF for each line end on the wire. `ftp --ascii get --continue` sent the
// local file's length, which has LF line ends, so every line already
// fetched moved the restart point one octet back: the resumed file got
// bytes twice. The restart offset now counts each local LF as CRLF.
#[tokio::test]
async fn ftp_ascii_resume_restarts_at_the_right_place() {
    let dir = temp_dir("ftp-ascii-rest");
    let f = Ftpd::start(&dir, &[]);
    std::fs::write(f.root().join("t.txt"), b"one\ntwo\nthree\n").unwrap();
    let local = dir.join("t.txt");
    std::fs::write(&local, b"one\ntwo\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ftp"))
        .arg(format!("ftp://u:p@127.0.0.1:{}", f.port))
        .args(["--no-tls", "--quiet", "--ascii", "get", "--continue", "t.txt"])
        .arg(&local)
        .output()
        .expect("run ftp");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(&local).unwrap()),
        "one\ntwo\nthree\n"
    );
}

// The servers' --cert/--key errors did not say which file was wrong: a
// missing certificate printed "TLS certificate: I/O error: No such file or
// directory (os error 2)", and a key file without a key named neither file.
// Every error now names the file it is about.
#[test]
fn tls_loading_errors_name_the_file() {
    let dir = temp_dir("tls-errors");
    let good = examples::tls::load_or_create_self_signed(&dir.join("id"), &["localhost".to_owned()]);
    assert!(good.is_ok());
    let (cert, key) = (dir.join("id/cert.pem"), dir.join("id/key.pem"));
    let missing = dir.join("missing.pem");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, b"not a pem file\n").unwrap();
    for (c, k, named) in [
        (&missing, &key, &missing),
        (&cert, &missing, &missing),
        (&garbage, &key, &garbage),
        (&cert, &garbage, &garbage),
        (&cert, &cert, &cert),
    ] {
        let e = examples::tls::load_pem(c, k).unwrap_err().to_string();
        assert!(
            e.contains(&named.display().to_string()),
            "{e:?} does not name {}",
            named.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// RFC 1939 5, LIST: the listing gives each message's "exact size ... in
// octets". pop3-fetch wrote whatever RETR sent into the local Maildir with
// no bound, so a hostile server that lists a 10-octet message and then
// never ends it filled the local disk. A message more than twice its
// listed size (plus 1 MiB for servers that count line ends differently) now
// ends the fetch with an error, the partial message discarded and the
// connection dropped without QUIT, so nothing is deleted.
#[tokio::test]
async fn pop3_fetch_stops_a_message_far_larger_than_listed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicUsize::new(0));
    let sent2 = sent.clone();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (rd, mut wr) = tcp.into_split();
        let mut rd = tokio::io::BufReader::new(rd);
        wr.write_all(b"+OK scripted\r\n").await.unwrap();
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
            let verb = line.split([' ', '\r']).next().unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "CAPA" => b"+OK\r\nUSER\r\nUIDL\r\n.\r\n",
                "USER" => b"+OK\r\n",
                "PASS" => b"+OK in\r\n",
                "STAT" => b"+OK 1 10\r\n",
                "UIDL" => b"+OK\r\n1 abc\r\n.\r\n",
                "LIST" => b"+OK\r\n1 10\r\n.\r\n",
                "RETR" => {
                    wr.write_all(b"+OK 10 octets\r\n").await.unwrap();
                    let chunk = vec![b'x'; 1000];
                    // Lines of 1000 x's for ever (bounded here at 64 MiB).
                    for _ in 0..64 * 1024 {
                        if wr.write_all(&chunk).await.is_err() || wr.write_all(b"\r\n").await.is_err() {
                            return;
                        }
                        sent2.fetch_add(1002, Ordering::Relaxed);
                    }
                    return;
                }
                _ => b"-ERR no\r\n",
            };
            let _ = wr.write_all(reply).await;
        }
    });
    let dir = temp_dir("pop3-huge");
    let maildir = dir.join("Mail");
    let md = maildir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_pop3-fetch"))
            .args([
                "-s",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "--timeout",
                "5",
                "--stls",
                "never",
            ])
            .args([
                "--user",
                "a@a.test",
                "--password",
                "secret",
                "--allow-plaintext",
                "--quiet",
            ])
            .arg("--maildir")
            .arg(&md)
            .output()
    });
    let out = tokio::time::timeout(WAIT, out).await.unwrap().unwrap().unwrap();
    let stored: u64 = ["new", "cur", "tmp"]
        .iter()
        .filter_map(|d| std::fs::read_dir(maildir.join(d)).ok())
        .flatten()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !out.status.success(),
        "a message 6 million times its listed size was taken"
    );
    assert_eq!(stored, 0, "the oversized message was kept");
    assert!(
        sent.load(Ordering::Relaxed) < 32 * 1024 * 1024,
        "pop3-fetch read on long after the listed size"
    );
}

// The ftp client's `ls` collected the whole listing in memory before it
// printed any of it, so a hostile (or just huge) server's listing, which
// has no size limit in FTP, grew the client's memory without bound. The
// listing is now printed as it arrives. Here the server sends 48 MiB of
// listing and then waits: the client must not be holding it.
#[test]
fn ftp_ls_streams_the_listing() {
    use std::io::Write;
    const TOTAL: usize = 48 * 1024 * 1024;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (sent_tx, sent_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
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
                "LIST" => {
                    out.write_all(b"150 here it comes\r\n").unwrap();
                    let (mut d, _) = data.take().expect("EPSV first").accept().unwrap();
                    let entry = b"-rw-r--r-- 1 ftp ftp 5 Jan 01 00:00 a-file-name-of-some-length.txt\r\n";
                    let block: Vec<u8> = entry.iter().copied().cycle().take(entry.len() * 1024).collect();
                    let mut sent = 0;
                    while sent < TOTAL {
                        d.write_all(&block).unwrap();
                        sent += block.len();
                    }
                    sent_tx.send(()).unwrap();
                    let _ = go_rx.recv_timeout(WAIT);
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_ftp"))
        .arg(format!("ftp://u:p@127.0.0.1:{port}"))
        .args(["--no-tls", "ls"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run ftp");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()).unwrap());
    // The whole listing has left the server (some may sit in socket buffers).
    sent_rx.recv_timeout(WAIT).expect("the server sent the listing");
    let peak = peak_rss_kib(child.id());
    go_tx.send(()).unwrap();
    let status = child.wait().unwrap();
    let printed = reader.join().unwrap();
    server.join().unwrap();
    assert!(status.success());
    assert!(printed >= TOTAL as u64 - 8 * 1024 * 1024, "printed {printed}");
    assert!(
        peak < 24 * 1024,
        "the client held {peak} KiB while the listing arrived"
    );
}

/// A DNS server on UDP loopback: `d.test` has MX 10 `down.d.test`
/// (127.0.0.2, where nothing listens) and MX 20 `mx.test` (127.0.0.1, the
/// maild under test, whose --hostname is mx.test); other names do not exist.
async fn backup_mx_dns() -> std::net::SocketAddr {
    fake_dns_server(|name, qtype| match (name, qtype) {
        ("d.test", 15) => Some(vec![
            (15, mx_rdata(10, "down.d.test")),
            (15, mx_rdata(20, "mx.test")),
        ]),
        ("down.d.test", 1) => Some(vec![(1, vec![127, 0, 0, 2])]),
        ("mx.test", 1) => Some(vec![(1, vec![127, 0, 0, 1])]),
        ("d.test" | "down.d.test" | "mx.test", _) => Some(Vec::new()),
        _ => None,
    })
    .await
}

// RFC 5321 5.1: "The relay host MUST then inspect the list for any of the
// names or addresses by which it might be known in mail transactions. If a
// matching record is found, all records at that preference level and
// higher-numbered ones MUST be discarded from consideration." maild, as the
// backup MX of a domain whose primary was down, relayed the message to
// itself: it refused it as a relay (554), and the sender got a bounce for
// mail that only had to wait for the primary. Its own name is now dropped
// from the MX list with every record from that preference on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_never_goes_to_its_own_backup_mx_record() {
    let dns = backup_mx_dns().await.to_string();
    relay_waits_for_the_primary_mx("self-mx", &dns, "bob@d.test").await;
}

// RFC 6152 3: a client must not send 8-bit data to a server that does not
// offer 8BITMIME. smtp-send, given an 8-bit --message for such a server,
// printed that it would "send it as it is", sent MAIL, RCPT and DATA, and
// then failed in the middle of DATA (smtp-proto refuses the 8-bit body),
// leaving the server with an open DATA. It now says why before any
// transaction starts and ends the session with QUIT.
#[tokio::test]
async fn smtp_send_refuses_8bit_for_a_server_without_8bitmime_before_data() {
    let (port, server) = data_sink(b"250 hop\r\n").await;
    let dir = temp_dir("8bit-message");
    let file = dir.join("m.eml");
    std::fs::write(&file, "Subject: caf\u{e9}\r\n\r\nd\u{e9}j\u{e0} vu\r\n").unwrap();
    let out = smtp_send_message(port, &file).await;
    let (_, verbs) = server.await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("8BITMIME"), "{err}");
    assert!(!verbs.iter().any(|v| v == "DATA" || v == "MAIL"), "{verbs:?}");
    assert_eq!(verbs.last().map(String::as_str), Some("QUIT"), "{verbs:?}");
}
