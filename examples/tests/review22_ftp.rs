//! Session 22: FTP gaps in ftpd and ftp, each closed with a test that failed
//! on the code before its fix; the comment above each test says what was
//! wrong and quotes the rule.
//!
//! The shared harness is in `common/mod.rs`.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;
use common::*;

/// Everything the server writes until it closes, after `input` and a
/// half-close (`printf ... | nc -q` style).
async fn half_closed_session(port: u16, input: &[u8]) -> String {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(input).await.unwrap();
    tcp.shutdown().await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut out))
        .await
        .expect("the server never closed")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

// RFC 959 4.1.1 QUIT: the server closes the connection after the reply
// ("If file transfer is in progress, the connection will remain open for
// result response and the server will then close it"). A half-close is not
// an abort: ftpd stopped at the end of input and dropped every command
// still waiting (here behind the delayed 530 of a wrong password), the 221
// included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_answers_every_command_sent_before_a_half_close() {
    let dir = temp_dir("ftpd-half-close");
    let d = Ftpd::start(&dir, &[]);
    let out = half_closed_session(
        d.port,
        b"USER u\r\nPASS wrong\r\nUSER u\r\nPASS p\r\nNOOP\r\nQUIT\r\n",
    )
    .await;
    let codes: Vec<&str> = out.lines().map(|l| &l[..3.min(l.len())]).collect();
    assert_eq!(codes, ["220", "331", "530", "331", "230", "200", "221"], "{out}");
    // A partial line after the last CRLF is no command; the rest is answered.
    let out = half_closed_session(d.port, b"USER u\r\nPASS p\r\nPWD\r\nNOO").await;
    let codes: Vec<&str> = out.lines().map(|l| &l[..3.min(l.len())]).collect();
    assert_eq!(codes, ["220", "331", "230", "257"], "{out}");
    // And the session goes on serving a transfer that was asked for
    // before the half-close: its reply, then the 221.
    let root = d.root();
    std::fs::write(root.join("f.txt"), b"hello").unwrap();
    let mut c = Raw::connect(d.port).await;
    assert_eq!(c.reply().await.0, 220);
    assert_eq!(c.cmd("USER u").await.0, 331);
    assert_eq!(c.cmd("PASS p").await.0, 230);
    assert_eq!(c.cmd("TYPE I").await.0, 200);
    let port = c.epsv().await;
    c.send(b"RETR f.txt\r\nQUIT\r\n").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    tokio::io::AsyncWriteExt::shutdown(&mut c.conn).await.unwrap();
    let mut data = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(WAIT, data.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"hello");
    assert_eq!(c.reply().await.0, 150);
    assert_eq!(c.reply().await.0, 226);
    assert_eq!(c.reply().await.0, 221);
    assert_eq!(c.line().await, "", "closed after the 221");
}

// RFC 4217 12.6 ends a protected upload with "TLSshutdown()" before the
// close, and TLS 1.3 (RFC 8446 6.1) requires close_notify: "Each party
// MUST send a "close_notify" alert before closing its write side of the
// connection", because a TCP FIN alone can be forged or sent early by an
// attacker in the path (a truncation attack). ftpd took a protected data
// connection that ended without close_notify for the end of the upload:
// 226, and the truncated file renamed over the real name. It is now a
// failed transfer (426), the old file left as it was; a plain upload still
// ends at EOF.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_refuses_a_protected_upload_truncated_without_close_notify() {
    let dir = temp_dir("ftpd-tls-truncation");
    let d = Ftpd::start_tls(&dir, &[]);
    let root = d.root();
    std::fs::write(root.join("f.bin"), b"old content").unwrap();
    let payload = vec![b'x'; 100_000];
    let (code, text) = tls_upload(&d, &payload, false).await;
    assert!(
        code == 426 || code == 451,
        "truncated upload answered {code} {text}"
    );
    let now = std::fs::read(root.join("f.bin")).unwrap();
    assert_eq!(now, b"old content", "a truncated upload replaced the file");
    let (code, text) = tls_upload(&d, &payload, true).await;
    assert_eq!(code, 226, "{text}");
    assert_eq!(std::fs::read(root.join("f.bin")).unwrap(), payload);
    // No temporary file left behind.
    let names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["f.bin"], "{names:?}");
    drop(d);
    // The named leniency for clients that never send close_notify.
    let dir = temp_dir("ftpd-tls-truncation-lenient");
    let d = Ftpd::start_tls(&dir, &["--accept-tls-upload-eof"]);
    let (code, text) = tls_upload(&d, &payload, false).await;
    assert_eq!(code, 226, "{text}");
    assert_eq!(std::fs::read(d.root().join("f.bin")).unwrap(), payload);
}

/// STOR f.bin over a protected data connection that ends with close_notify
/// (`clean`) or with a bare TCP FIN; the reply that ends the transfer.
async fn tls_upload(d: &Ftpd, payload: &[u8], clean: bool) -> (u16, String) {
    let connector = examples::tls::connector(true, None).unwrap();
    let name = examples::tls::server_name("localhost").unwrap();
    let (mut c, port) = tls_login_epsv(d).await;
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    c.send(b"STOR f.bin\r\n").await;
    let mut data = connector.connect(name, tcp).await.unwrap();
    assert_eq!(c.reply().await.0, 150);
    data.write_all(payload).await.unwrap();
    data.flush().await.unwrap();
    if clean {
        // close_notify, then FIN.
        data.shutdown().await.unwrap();
    } else {
        // FIN with no close_notify: what a truncating attacker sends.
        data.get_mut().0.shutdown().await.unwrap();
    }
    let reply = c.reply().await;
    assert_eq!(c.cmd("QUIT").await.0, 221);
    reply
}

// fsync(2): "Calling fsync() does not necessarily ensure that the entry in
// the directory containing the file has also reached disk. For that an
// explicit fsync() on a file descriptor for the directory is also needed."
// ftpd fsyncs an upload's directory before its 226 (durable mode, the
// default), yet MKD, RMD, DELE and RNFR/RNTO replied 257/250 with the
// directory never fsynced: a crash after the reply could bring the file or
// directory back, or lose a renamed file from both places. Each now fsyncs
// the parent directory (both of a rename across directories) before the
// success reply; `--fsync-uploads false` turns that off with the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_fsyncs_the_directory_before_a_directory_change_is_acknowledged() {
    let Some(mut trace) = strace(&["write", "sendto", "writev"]) else {
        return;
    };
    trace.args.extend(["-s".into(), "64".into()]);
    let dir = temp_dir("ftpd-dir-fsync");
    let d = Ftpd::start_traced(&dir, &[], &trace);
    let root = d.root();
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::create_dir_all(root.join("e")).unwrap();
    std::fs::write(root.join("d/f"), b"1").unwrap();
    std::fs::write(root.join("d/g"), b"2").unwrap();
    let real = |p: &str| std::fs::canonicalize(root.join(p)).unwrap().display().to_string();
    let (dd, de) = (real("d"), real("e"));
    let mut c = d.login().await;
    // (command, expected reply code, directories to fsync before it)
    let steps: [(&str, u16, Vec<&str>); 6] = [
        ("MKD d/new", 257, vec![&dd]),
        ("RMD d/new", 250, vec![&dd]),
        ("DELE d/f", 250, vec![&dd]),
        ("RNFR d/g", 350, vec![]),
        ("RNTO e/g", 250, vec![&dd, &de]),
        ("RNFR e/g", 350, vec![]),
    ];
    for (cmd, code, _) in &steps {
        let (got, text) = c.cmd(cmd).await;
        assert_eq!(got, *code, "{cmd}: {text}");
    }
    // The same-directory rename: one fsync.
    assert_eq!(c.cmd("RNTO e/h").await.0, 250);
    assert_eq!(c.cmd("QUIT").await.0, 221);
    drop(d);
    let log = std::fs::read_to_string(&trace.log).unwrap_or_default();
    let _ = std::fs::remove_file(&trace.log);
    let is_reply = |l: &str| {
        ["\"257 ", "\"250 ", "\"350 "].iter().any(|r| l.contains(r))
            && (l.contains("write") || l.contains("send"))
    };
    // The trace cut at each reply: what ran before it since the last one.
    let mut spans: Vec<Vec<&str>> = vec![Vec::new()];
    for l in log.lines() {
        if is_reply(l) {
            spans.push(Vec::new());
        } else if l.contains("fsync(") || l.contains("fdatasync(") {
            spans.last_mut().unwrap().push(l);
        }
    }
    assert!(spans.len() > 7, "replies not found in the trace:\n{log}");
    let mut wants: Vec<Vec<&str>> = steps.iter().map(|s| s.2.clone()).collect();
    wants.push(vec![&de]);
    for (i, want) in wants.iter().enumerate() {
        // spans[0] is before the first reply of the steps (login and so on).
        let span = &spans[spans.len() - 1 - wants.len() + i];
        for d in want {
            assert!(
                span.iter().any(|l| l.contains(&format!("<{d}>"))),
                "step {i}: {d} not fsynced before the reply:\n{log}"
            );
        }
    }
}

// A listing is one order at any size: ftpd sorted a directory of up to
// 2000 entries by name and sent a larger one in the order readdir(3) gave,
// so NLST of the same directory changed order when it grew past 2000
// entries (and MLSD/LIST with it), and a client that merges or pages
// listings (mirror tools) saw a different order for big directories. Now
// every listing comes sorted by name (byte order), with memory bounded by
// a fixed budget, however large the directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_sorts_large_listings_too() {
    let dir = temp_dir_in_memory("ftpd-big-listing");
    let d = Ftpd::start(&dir, &[]);
    let big = d.root().join("big");
    std::fs::create_dir_all(&big).unwrap();
    // 2500 names in an order that is neither sorted nor reversed.
    let mut names: Vec<String> = (0..2500u32)
        .map(|k| format!("n{:05}", k.wrapping_mul(7919) % 2500))
        .collect();
    for n in &names {
        std::fs::write(big.join(n), b"").unwrap();
    }
    std::fs::write(big.join(".upload-hidden"), b"").unwrap();
    names.sort();
    let mut c = d.login().await;
    let got = Ftpd::listing(&mut c, "NLST big").await;
    let got: Vec<String> = String::from_utf8(got)
        .unwrap()
        .lines()
        .map(|l| l.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(got.len(), names.len());
    assert!(got == names, "NLST of 2500 entries is not sorted");
    let mlsd = Ftpd::listing(&mut c, "MLSD big").await;
    let got: Vec<String> = String::from_utf8(mlsd)
        .unwrap()
        .lines()
        .map(|l| l.split_once("; ").unwrap().1.to_owned())
        .collect();
    assert!(got == names, "MLSD of 2500 entries is not sorted");
    let list = Ftpd::listing(&mut c, "LIST big").await;
    let got: Vec<String> = String::from_utf8(list)
        .unwrap()
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().to_owned())
        .collect();
    assert!(got == names, "LIST of 2500 entries is not sorted");
}

/// A server that offers AUTH TLS but refuses PROT P (536, RFC 2228 4),
/// and lists one file over a clear data connection. Serves one client.
async fn prot_refusing_server(dir: &std::path::Path) -> u16 {
    let id = examples::tls::load_or_create_self_signed(dir, &["localhost".to_owned()]).unwrap();
    let acceptor = examples::tls::acceptor(id).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut conn = examples::net::Conn::Plain(tcp);
        let mut data_listener = None;
        conn.write_all(b"220 fake\r\n").await.unwrap();
        loop {
            let line = read_line(&mut conn).await;
            let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "" => return,
                "FEAT" => b"211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n EPSV\r\n211 End\r\n",
                "AUTH" => {
                    conn.write_all(b"234 go\r\n").await.unwrap();
                    conn.flush().await.unwrap();
                    conn.start_server_tls(&acceptor).await.unwrap();
                    continue;
                }
                "USER" => b"331 pw\r\n",
                "PASS" => b"230 ok\r\n",
                "PBSZ" => b"200 PBSZ=0\r\n",
                "PROT" => b"536 Protection level not supported\r\n",
                "TYPE" => b"200 ok\r\n",
                "EPSV" => {
                    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let p = l.local_addr().unwrap().port();
                    data_listener = Some(l);
                    let r = format!("229 Entering Extended Passive Mode (|||{p}|)\r\n");
                    conn.write_all(r.as_bytes()).await.unwrap();
                    continue;
                }
                "LIST" => {
                    let l = data_listener.take().unwrap();
                    conn.write_all(b"150 here\r\n").await.unwrap();
                    let (mut d, _) = l.accept().await.unwrap();
                    d.write_all(b"-rw-r--r-- 1 ftp ftp 5 Jan 01 2024 a.txt\r\n")
                        .await
                        .unwrap();
                    d.shutdown().await.unwrap();
                    b"226 done\r\n"
                }
                "QUIT" => {
                    conn.write_all(b"221 bye\r\n").await.unwrap();
                    let _ = conn.shutdown().await;
                    return;
                }
                _ => b"502 no\r\n",
            };
            conn.write_all(reply).await.unwrap();
        }
    });
    port
}

// RFC 4217 9: data connections are protected only once a PROT P is
// accepted; the level before is Clear (RFC 2228 3), and a server may
// refuse PROT P (536) or PBSZ. The ftp client ended the login on that
// refusal even when TLS was only opportunistic (no --tls), and with --tls
// said only "login failed: 536 ...". Now, without --tls, it carries on with
// data in the clear and warns on stderr; with --tls it fails, the error
// naming the refused data protection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_client_handles_a_refused_prot_p_by_what_was_asked() {
    let dir = temp_dir("ftp-prot-refused");
    for required in [false, true] {
        let port = prot_refusing_server(&dir).await;
        let url = format!("ftp://u:p@127.0.0.1:{port}");
        let mut args: Vec<String> = ["-k", "-q", "--timeout", "10", &url, "ls"]
            .map(str::to_owned)
            .to_vec();
        if required {
            args.insert(0, "--tls".to_owned());
        }
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_ftp"))
                .args(&args)
                .output()
        })
        .await
        .unwrap()
        .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if required {
            assert!(!out.status.success(), "--tls went on without PROT P: {stdout}");
            assert!(
                stderr.contains("PROT P") && stderr.contains("536"),
                "the error does not name the refusal: {stderr}"
            );
        } else {
            assert!(out.status.success(), "opportunistic TLS failed: {stderr}");
            assert!(stdout.contains("a.txt"), "{stdout}");
            assert!(
                stderr.contains("unencrypted") && stderr.contains("536"),
                "no warning: {stderr}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// RFC 4217 12.6: the client ends a protected upload with its TLS shutdown
// and closes; it never reads from the data connection. ftpd's data
// connections sent four TLS 1.3 session tickets (RFC 8446 4.6.1) that such
// a client leaves unread, and closing a TCP socket with unread data makes
// the kernel send a reset (RFC 2525 2.17), which reached ftpd before the
// end of the upload: curl's FTPS uploads of a few hundred KiB failed with
// 426. Data connections now send no tickets (they resume the control
// connection's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_takes_a_protected_upload_from_a_client_that_never_reads() {
    let dir = temp_dir("ftpd-tls-upload-close");
    let d = Ftpd::start_tls(&dir, &[]);
    let connector = examples::tls::connector(true, None).unwrap();
    let name = examples::tls::server_name("localhost").unwrap();
    let payload: Vec<u8> = (0..2_000_000u32).map(|k| (k % 251) as u8).collect();
    for _ in 0..3 {
        let (mut c, port) = tls_login_epsv(&d).await;
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        c.send(b"STOR up.bin\r\n").await;
        let mut data = connector.connect(name.clone(), tcp).await.unwrap();
        assert_eq!(c.reply().await.0, 150);
        data.write_all(&payload).await.unwrap();
        data.shutdown().await.unwrap();
        // close(2) at once, as curl does, with whatever the server sent unread.
        drop(data);
        let (code, text) = c.reply().await;
        assert_eq!(code, 226, "{text}");
        assert!(std::fs::read(d.root().join("up.bin")).unwrap() == payload);
        assert_eq!(c.cmd("QUIT").await.0, 221);
    }
}
