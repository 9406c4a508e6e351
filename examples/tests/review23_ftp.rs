//! Session 23: FTP gaps in ftp and ftpd, each closed with a test that failed
//! on the code before its fix; the comment above each test says what was
//! wrong and quotes the rule.
//!
//! The shared harness is in `common/mod.rs`.

use std::path::Path;
use tokio::io::AsyncWriteExt;

mod common;
use common::*;

/// How the fake server below ends a protected data connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataEnd {
    /// TLS close_notify, then the TCP close (RFC 4217 12.6, RFC 8446 6.1).
    CloseNotify,
    /// A bare TCP FIN: what an attacker who cuts the connection sends.
    Fin,
}

/// A server that takes AUTH TLS, PBSZ 0 and PROT P, and sends `payload`
/// for any RETR (and a one-line listing for LIST) over a protected EPSV
/// data connection ended as `end`, each followed by 226. With `other_cert`
/// the data connections present another certificate than the control
/// connection. Serves clients until the test ends.
async fn protected_download_server(dir: &Path, payload: Vec<u8>, end: DataEnd, other_cert: bool) -> u16 {
    let id = examples::tls::load_or_create_self_signed(dir, &["localhost".to_owned()]).unwrap();
    let acceptor = examples::tls::acceptor(id).unwrap();
    let data_acceptor = if other_cert {
        let other =
            examples::tls::load_or_create_self_signed(&dir.join("other"), &["localhost".to_owned()]).unwrap();
        examples::tls::acceptor(other).unwrap()
    } else {
        acceptor.clone()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, data_acceptor, payload) =
                (acceptor.clone(), data_acceptor.clone(), payload.clone());
            tokio::spawn(async move {
                let mut conn = examples::net::Conn::Plain(tcp);
                let mut data_listener = None;
                conn.write_all(b"220 fake\r\n").await.unwrap();
                loop {
                    let line = read_line(&mut conn).await;
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "" => return,
                        "FEAT" => b"211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n EPSV\r\n REST STREAM\r\n211 End\r\n",
                        "AUTH" => {
                            conn.write_all(b"234 go\r\n").await.unwrap();
                            conn.flush().await.unwrap();
                            conn.start_server_tls(&acceptor).await.unwrap();
                            continue;
                        }
                        "USER" => b"331 pw\r\n",
                        "PASS" => b"230 ok\r\n",
                        "PBSZ" => b"200 PBSZ=0\r\n",
                        "PROT" => b"200 PROT P\r\n",
                        "TYPE" => b"200 ok\r\n",
                        "REST" => b"350 restarting\r\n",
                        "SIZE" => b"550 no SIZE here\r\n",
                        "EPSV" => {
                            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                            let p = l.local_addr().unwrap().port();
                            data_listener = Some(l);
                            let r = format!("229 Entering Extended Passive Mode (|||{p}|)\r\n");
                            conn.write_all(r.as_bytes()).await.unwrap();
                            continue;
                        }
                        "RETR" | "LIST" => {
                            let l = data_listener.take().unwrap();
                            conn.write_all(b"150 here\r\n").await.unwrap();
                            let (d, _) = l.accept().await.unwrap();
                            let Ok(mut d) = data_acceptor.accept(d).await else {
                                conn.write_all(b"522 TLS failed\r\n").await.unwrap();
                                continue;
                            };
                            let body: &[u8] = if verb == "RETR" {
                                &payload
                            } else {
                                b"-rw-r--r-- 1 ftp ftp 5 Jan 01 2024 a.txt\r\n"
                            };
                            d.write_all(body).await.unwrap();
                            d.flush().await.unwrap();
                            match end {
                                DataEnd::CloseNotify => d.shutdown().await.unwrap(),
                                DataEnd::Fin => d.get_mut().0.shutdown().await.unwrap(),
                            }
                            b"226 done\r\n"
                        }
                        "ABOR" => b"225 no transfer\r\n",
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
        }
    });
    port
}

/// Runs the ftp client with `args`: exit success, stdout, stderr.
async fn ftp(args: Vec<String>, cwd: &Path) -> (bool, String, String) {
    let cwd = cwd.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ftp"))
            .args(&args)
            .current_dir(cwd)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// RFC 4217 12.6 ends a protected transfer with the sender's
// "TLSshutdown()", and RFC 8446 6.1 requires it ("Each party MUST send a
// "close_notify" alert before closing its write side of the connection"):
// without it, the end of the data cannot be told from a TCP FIN that an
// attacker in the path sent early (a truncation attack). ftpd refuses such
// uploads since session 22; the ftp client took a protected download (or
// listing) that ended without close_notify for complete: exit 0, and the
// cut file renamed to its real name. Now the transfer fails, the partial
// file is deleted (a resumed download keeps what came, an authenticated
// prefix, for the next `get -c`), unless --accept-tls-download-eof is
// given for servers that never send close_notify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_client_refuses_a_protected_download_truncated_without_close_notify() {
    let dir = temp_dir("ftp-tls-truncation");
    let payload: Vec<u8> = (0..300_000u32).map(|k| (k % 251) as u8).collect();
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    // Options, the URL, then the command.
    let args = |port: u16, cmd: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["--tls", "-k", "-q", "--timeout", "10"]
            .map(str::to_owned)
            .to_vec();
        let (opts, cmd): (Vec<&str>, Vec<&str>) = cmd.iter().partition(|a| a.starts_with("--"));
        a.extend(opts.iter().map(|s| (*s).to_owned()));
        a.push(format!("ftp://u:p@127.0.0.1:{port}"));
        a.extend(cmd.iter().map(|s| (*s).to_owned()));
        a
    };
    let cut = protected_download_server(&dir, payload.clone(), DataEnd::Fin, false).await;
    // A fresh download: fails, leaves nothing behind.
    let (ok, _, stderr) = ftp(args(cut, &["get", "f.bin"]), &work).await;
    assert!(!ok, "a truncated download succeeded");
    assert!(
        stderr.contains("close_notify"),
        "the error does not say why: {stderr}"
    );
    assert_eq!(names_in(&work), Vec::<String>::new(), "files left behind");
    // Over an existing file: it stays as it was.
    std::fs::write(work.join("f.bin"), b"old").unwrap();
    let (ok, _, _) = ftp(args(cut, &["get", "f.bin"]), &work).await;
    assert!(!ok, "a truncated download succeeded");
    assert_eq!(std::fs::read(work.join("f.bin")).unwrap(), b"old");
    assert_eq!(names_in(&work), ["f.bin"]);
    // A resumed download fails too (what came is kept for the next try).
    let (ok, _, stderr) = ftp(args(cut, &["get", "f.bin", "-c"]), &work).await;
    assert!(!ok, "a truncated resumed download succeeded: {stderr}");
    std::fs::remove_file(work.join("f.bin")).unwrap();
    // A listing that ends so is no complete listing either.
    let (ok, _, stderr) = ftp(args(cut, &["ls"]), &work).await;
    assert!(!ok, "a truncated listing succeeded: {stderr}");
    // The named leniency for servers that never send close_notify.
    let (ok, _, stderr) = ftp(args(cut, &["--accept-tls-download-eof", "get", "f.bin"]), &work).await;
    assert!(ok, "{stderr}");
    assert!(std::fs::read(work.join("f.bin")).unwrap() == payload);
    std::fs::remove_file(work.join("f.bin")).unwrap();
    // A server that ends with close_notify (vsftpd, pure-ftpd) is complete.
    let clean = protected_download_server(&dir, payload.clone(), DataEnd::CloseNotify, false).await;
    let (ok, _, stderr) = ftp(args(clean, &["get", "f.bin"]), &work).await;
    assert!(ok, "{stderr}");
    assert!(std::fs::read(work.join("f.bin")).unwrap() == payload);
    let (ok, stdout, stderr) = ftp(args(clean, &["ls"]), &work).await;
    assert!(ok && stdout.contains("a.txt"), "{stdout} {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
/// Reads one STAT reply: its lines (CRLF stripped), the last `213 ` line included.
async fn stat_reply(c: &mut Raw) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let l = c.line().await;
        assert!(!l.is_empty(), "the connection closed inside the reply");
        let last = lines.is_empty() && l.as_bytes().get(3) == Some(&b' ') || l.starts_with("213 ");
        lines.push(l);
        if last {
            return lines;
        }
    }
}

// RFC 959 4.1.3 STAT with an argument: "the status command is analogous to
// the LIST command except that data shall be transferred over the control
// connection". ftpd refused a directory of more than 2000 entries with 450
// ("Directory too large for STAT"), because it built the whole reply in
// memory. The multi-line 213 reply is now written in pieces as the
// directory is read, sorted by name like LIST, in bounded memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_stat_lists_a_huge_directory_in_bounded_memory() {
    const N: usize = 30_000;
    let dir = temp_dir_in_memory("ftpd-stat-huge");
    let f = Ftpd::start(&dir, &[]);
    let big = f.root().join("big");
    std::fs::create_dir(&big).unwrap();
    let name = |k: usize| format!("{:06}-{}", (k * 7919) % N, "n".repeat(193));
    for k in 0..N {
        std::fs::File::create(big.join(name(k))).unwrap();
    }
    let mut expected: Vec<String> = (0..N).map(name).collect();
    expected.sort();
    let mut c = f.login().await;
    let before = peak_rss_kib(f.child.id());
    c.send(b"STAT /big\r\n").await;
    let lines = stat_reply(&mut c).await;
    let grown = peak_rss_kib(f.child.id()).saturating_sub(before);
    assert!(lines[0].starts_with("213-"), "{}", lines[0]);
    assert!(lines.last().unwrap().starts_with("213 "));
    let got: Vec<String> = lines[1..lines.len() - 1]
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().to_owned())
        .collect();
    assert_eq!(got.len(), N, "STAT lines");
    assert!(got == expected, "STAT lists other names, or out of order");
    assert!(
        grown < 4 * 1024,
        "ftpd's peak memory grew by {grown} KiB for a STAT reply of about 7 MiB"
    );
    // The session goes on; a small STAT and a file's STAT still work.
    std::fs::write(f.root().join("one.txt"), b"hello").unwrap();
    c.send(b"STAT /one.txt\r\n").await;
    let lines = stat_reply(&mut c).await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[1].ends_with(" one.txt"), "{lines:?}");
    c.send(b"STAT /missing\r\n").await;
    let lines = stat_reply(&mut c).await;
    assert!(lines[0].starts_with("550 "), "{lines:?}");
    assert_eq!(c.cmd("NOOP").await.0, 200);
}

// RFC 3659 5.1: in STREAM mode "an offset will always represent the same
// position within a file", so a partial copy to resume (`get -c`) is a
// prefix of the remote file, never longer than it (5.2: SIZE gives the
// octets a transfer would send). `ftp get -c` took a local file larger
// than the remote one for "already complete" and exited 0: the two files
// differ (the remote one was replaced or truncated), and the user was told
// the download had succeeded. It is now an error, the local file left as
// it was; an equal size is still "already complete".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_client_resume_refuses_a_local_file_larger_than_the_remote_one() {
    let dir = temp_dir("ftp-resume-larger");
    let d = Ftpd::start(&dir, &[]);
    std::fs::write(d.root().join("f.bin"), b"hello").unwrap();
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("f.bin"), b"hello, world").unwrap();
    let url = format!("ftp://u:p@127.0.0.1:{}", d.port);
    let args = |cmd: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["-q", "--timeout", "10", &url].map(str::to_owned).to_vec();
        a.extend(cmd.iter().map(|s| (*s).to_owned()));
        a
    };
    let (ok, stdout, stderr) = ftp(args(&["get", "f.bin", "-c"]), &work).await;
    assert!(
        !ok,
        "a larger local file was taken for complete: {stdout} {stderr}"
    );
    assert!(stderr.contains("larger"), "{stderr}");
    assert_eq!(std::fs::read(work.join("f.bin")).unwrap(), b"hello, world");
    // A real partial copy is resumed; a complete one is left alone.
    std::fs::write(work.join("f.bin"), b"hel").unwrap();
    let (ok, _, stderr) = ftp(args(&["get", "f.bin", "-c"]), &work).await;
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read(work.join("f.bin")).unwrap(), b"hello");
    let (ok, stdout, stderr) = ftp(args(&["get", "f.bin", "-c"]), &work).await;
    assert!(ok && stdout.contains("already complete"), "{stdout} {stderr}");
    // An empty remote file with no local copy is downloaded, not "already
    // complete" with nothing on disk.
    std::fs::write(d.root().join("empty"), b"").unwrap();
    let (ok, stdout, stderr) = ftp(args(&["get", "empty", "-c"]), &work).await;
    assert!(ok, "{stdout} {stderr}");
    assert_eq!(std::fs::read(work.join("empty")).unwrap(), b"", "{stdout}");
}

/// A plain server that logs anyone in and answers every other command
/// with what `answer` gives for its verb. Serves clients until the test ends.
async fn scripted_server(answer: fn(&str) -> &'static [u8]) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut conn = examples::net::Conn::Plain(tcp);
                conn.write_all(b"220 fake\r\n").await.unwrap();
                loop {
                    let line = read_line(&mut conn).await;
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "" => return,
                        "FEAT" => b"211-Features:\r\n EPSV\r\n211 End\r\n",
                        "USER" => b"331 pw\r\n",
                        "PASS" => b"230 ok\r\n",
                        "QUIT" => {
                            let _ = conn.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        v => answer(v),
                    };
                    if conn.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

// RFC 1123 4.1.4.3: "A User-FTP SHOULD display to the user the full text
// of all error reply messages it receives." The ftp client showed the
// first line of a reply only, so a multi-line error whose first line is
// a bare heading (or empty, "550-") told the user nothing: "MKD: 550 ".
// Every line is now shown (control characters escaped as before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_client_shows_every_line_of_an_error_reply() {
    let dir = temp_dir("ftp-multiline-error");
    let port = scripted_server(|verb| match verb {
        "MKD" => b"550-\r\n550-Quota exceeded for user u\r\n550 Remove files first\r\n",
        _ => b"502 no\r\n",
    })
    .await;
    let url = format!("ftp://u:p@127.0.0.1:{port}");
    let args = ["-q", "--timeout", "10", &url, "mkdir", "x"]
        .map(str::to_owned)
        .to_vec();
    let (ok, _, stderr) = ftp(args, &dir).await;
    assert!(!ok);
    assert!(
        stderr.contains("Quota exceeded for user u") && stderr.contains("Remove files first"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `command` (RETR or STOR) over an EPSV data connection on a
/// logged-in control connection, sending `upload` for a STOR: the replies'
/// codes and what the data connection carried back.
async fn data_command(c: &mut Raw, command: &str, upload: &[u8]) -> (Vec<u16>, Vec<u8>) {
    let port = c.epsv().await;
    let mut data = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (code, text) = c.cmd(command).await;
    if code / 100 != 1 {
        return (vec![code], Vec::new());
    }
    let _ = text;
    data.write_all(upload).await.unwrap();
    data.shutdown().await.unwrap();
    let mut got = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut data, &mut got)
        .await
        .unwrap();
    (vec![code, c.reply().await.0], got)
}

// RFC 3659 5.3: errors of REST such as a "restart marker out of range
// should be reported when the following transfer command is issued. Such
// errors will cause that transfer request to be rejected with an error
// indicating the invalid restart attempt" (RFC 1123 4.1.3.4: "554
// Requested action not taken: invalid REST parameter"); and a restarted
// STOR places the octets "into the file at the location indicated by the
// restart marker value". ftpd took a REST past the end of the file: RETR
// sent nothing and said 226 (a client resuming a file it already had more
// of was told it had succeeded), and STOR appended the data at the file's
// end instead of the marker, with 226: a file with its octets in the wrong
// place. Both are now refused with 554, the file untouched, as is a TYPE A
// restart between the CR and LF of a line end (was 550). A marker at the
// very end is no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_refuses_a_restart_marker_past_the_end_of_the_file() {
    let dir = temp_dir("ftpd-rest-range");
    let d = Ftpd::start(&dir, &[]);
    let root = d.root();
    std::fs::write(root.join("f.bin"), b"0123456789").unwrap();
    std::fs::write(root.join("t.txt"), b"a\nb\n").unwrap();
    let mut c = d.login().await;
    assert_eq!(c.cmd("TYPE I").await.0, 200);
    assert_eq!(c.cmd("REST 20").await.0, 350);
    assert_eq!(data_command(&mut c, "RETR f.bin", b"").await.0, [554]);
    assert_eq!(c.cmd("REST 20").await.0, 350);
    assert_eq!(data_command(&mut c, "STOR f.bin", b"xyz").await.0, [554]);
    assert_eq!(std::fs::read(root.join("f.bin")).unwrap(), b"0123456789");
    assert_eq!(c.cmd("REST 4").await.0, 350);
    assert_eq!(data_command(&mut c, "STOR new.bin", b"xyz").await.0, [554]);
    assert!(!root.join("new.bin").exists());
    // At the end: nothing to send, or an append.
    assert_eq!(c.cmd("REST 10").await.0, 350);
    assert_eq!(
        data_command(&mut c, "RETR f.bin", b"").await,
        (vec![150, 226], Vec::new())
    );
    assert_eq!(c.cmd("REST 10").await.0, 350);
    assert_eq!(data_command(&mut c, "STOR f.bin", b"xyz").await.0, [150, 226]);
    assert_eq!(std::fs::read(root.join("f.bin")).unwrap(), b"0123456789xyz");
    // TYPE A counts CRLF: "a\r\nb\r\n" is 6 octets; 2 is between CR and LF.
    assert_eq!(c.cmd("TYPE A").await.0, 200);
    for bad in ["7", "2"] {
        assert_eq!(c.cmd(&format!("REST {bad}")).await.0, 350);
        assert_eq!(
            data_command(&mut c, "RETR t.txt", b"").await.0,
            [554],
            "REST {bad}"
        );
    }
    assert_eq!(c.cmd("REST 3").await.0, 350);
    assert_eq!(
        data_command(&mut c, "RETR t.txt", b"").await,
        (vec![150, 226], b"b\r\n".to_vec())
    );
    assert_eq!(c.cmd("QUIT").await.0, 221);
}

// RFC 4217 10.2: on a protected data connection "Should the server not
// like the TLS negotiation, then it will close the data port immediately
// and follow the '150' command with a '522' reply, which indicates that
// the TLS negotiation failed or was unacceptable"; and when the server
// insists on a resumed TLS session, "If this is the reason for the refusal
// to allow the data transfer, then the '522' reply should indicate this."
// ftpd answered both with 425 ("Cannot open data connection"), which
// says the connection never opened: a client cannot tell a TLS problem,
// or the need to resume the session, from a network one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftpd_answers_a_failed_data_tls_negotiation_with_522() {
    let dir = temp_dir("ftpd-data-tls-522");
    let d = Ftpd::start_tls(&dir, &[]);
    std::fs::write(d.root().join("f.bin"), b"hello").unwrap();
    // No TLS from the client at all on the data connection.
    let (mut c, port) = tls_login_epsv(&d).await;
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    c.send(b"RETR f.bin\r\n").await;
    tcp.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    assert_eq!(c.reply().await.0, 150);
    let (code, text) = c.reply().await;
    assert_eq!(code, 522, "{text}");
    assert_eq!(c.cmd("NOOP").await.0, 200);
    drop(d);
    // --require-tls: a data connection that does not resume the control
    // connection's session (a client with a fresh session cache).
    let dir = temp_dir("ftpd-data-tls-522-reuse");
    let d = Ftpd::start_tls(&dir, &["--require-tls"]);
    std::fs::write(d.root().join("f.bin"), b"hello").unwrap();
    let (mut c, port) = tls_login_epsv(&d).await;
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    c.send(b"RETR f.bin\r\n").await;
    let connector = examples::tls::connector(true, None).unwrap();
    let name = examples::tls::server_name("localhost").unwrap();
    let _data = connector.connect(name, tcp).await;
    assert_eq!(c.reply().await.0, 150);
    let (code, text) = c.reply().await;
    assert_eq!(code, 522, "{text}");
    assert!(text.to_ascii_lowercase().contains("resume"), "{text}");
}

// RFC 4217 15.1.1: "It is strongly recommended that the certificate used
// for server authentication of Data connections be the same certificate as
// that used for the corresponding Control connection. If different
// certificates are to be used, there should be some other mechanism that
// the client can use to cross-check the data and control connection server
// identities." With --insecure (-k: a self-signed server) the ftp client
// checked no certificate at all on the data connections, so whoever took
// over a data connection (a PASV port raced, a path in the middle of that
// connection alone) could read an upload or feed a download under any
// certificate. With -k the data connection must now present the control
// connection's certificate (a resumed session carries it); without -k each
// is verified against the host name as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_client_with_insecure_pins_the_data_certificate_to_the_control_one() {
    let dir = temp_dir("ftp-data-cert-pin");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let payload = b"secret data".to_vec();
    let args = |port: u16| -> Vec<String> {
        let url = format!("ftp://u:p@127.0.0.1:{port}");
        ["--tls", "-k", "-q", "--timeout", "10", &url, "get", "f.bin"]
            .map(str::to_owned)
            .to_vec()
    };
    let other = protected_download_server(&dir.join("a"), payload.clone(), DataEnd::CloseNotify, true).await;
    let (ok, _, stderr) = ftp(args(other), &work).await;
    assert!(!ok, "a data connection with another certificate was used");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert_eq!(names_in(&work), Vec::<String>::new());
    let same = protected_download_server(&dir.join("b"), payload.clone(), DataEnd::CloseNotify, false).await;
    let (ok, _, stderr) = ftp(args(same), &work).await;
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read(work.join("f.bin")).unwrap(), payload);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A plain server whose RETR sends `sent` on an EPSV data connection after
/// a 150, closes it, then gives `last` as the final reply.
async fn plain_retr_server(sent: &'static [u8], last: &'static [u8]) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut conn = examples::net::Conn::Plain(tcp);
                let mut data_listener = None;
                conn.write_all(b"220 fake\r\n").await.unwrap();
                loop {
                    let line = read_line(&mut conn).await;
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "" => return,
                        "FEAT" => b"211-Features:\r\n EPSV\r\n211 End\r\n",
                        "USER" => b"331 pw\r\n",
                        "PASS" => b"230 ok\r\n",
                        "TYPE" => b"200 ok\r\n",
                        "SIZE" => b"213 100\r\n",
                        "EPSV" => {
                            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                            let p = l.local_addr().unwrap().port();
                            data_listener = Some(l);
                            let r = format!("229 Entering Extended Passive Mode (|||{p}|)\r\n");
                            conn.write_all(r.as_bytes()).await.unwrap();
                            continue;
                        }
                        "RETR" => {
                            let l = data_listener.take().unwrap();
                            conn.write_all(b"150 here\r\n").await.unwrap();
                            let (mut d, _) = l.accept().await.unwrap();
                            d.write_all(sent).await.unwrap();
                            d.shutdown().await.unwrap();
                            last
                        }
                        "ABOR" => b"225 no transfer\r\n",
                        "QUIT" => {
                            let _ = conn.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"502 no\r\n",
                    };
                    if conn.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

// RFC 959 4.2 and 5.4 (RETR: "125, 150 ... 425, 426, 451"): a 1yz, data,
// then a 4yz is a failed transfer even though the data connection ended
// normally. Checked (no change needed): the ftp client fails, and a fresh
// download leaves no file, not even the partial one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_client_fails_a_download_whose_150_is_followed_by_426() {
    let dir = temp_dir("ftp-150-426");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let port = plain_retr_server(
        b"half of the file",
        b"426 Connection closed; transfer aborted\r\n",
    )
    .await;
    let url = format!("ftp://u:p@127.0.0.1:{port}");
    let args = ["-q", "--timeout", "10", &url, "get", "f.bin"]
        .map(str::to_owned)
        .to_vec();
    let (ok, _, stderr) = ftp(args.clone(), &work).await;
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("426"), "{stderr}");
    assert_eq!(names_in(&work), Vec::<String>::new());
    // The same with a 226: the file is there.
    let port = plain_retr_server(b"all of the file", b"226 done\r\n").await;
    let url = format!("ftp://u:p@127.0.0.1:{port}");
    let args = ["-q", "--timeout", "10", &url, "get", "f.bin"]
        .map(str::to_owned)
        .to_vec();
    let (ok, _, stderr) = ftp(args, &work).await;
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read(work.join("f.bin")).unwrap(), b"all of the file");
    let _ = std::fs::remove_dir_all(&dir);
}

// RFC 1123 4.1.4.3: a User-FTP "SHOULD have a "verbose" mode in which all
// commands it sends and the full text and reply codes it receives are
// displayed, for diagnosis of problems." The ftp client had none (only
// RUST_LOG tracing, which shows neither). `-v` now shows every command
// line sent (the PASS and ACCT arguments hidden) and every reply line
// received, on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_client_verbose_mode_shows_commands_and_replies() {
    let dir = temp_dir("ftp-verbose");
    let d = Ftpd::start(&dir, &[]);
    let url = format!("ftp://u:p@127.0.0.1:{}", d.port);
    let args = ["-v", "-q", "--timeout", "10", &url, "mkdir", "newdir"]
        .map(str::to_owned)
        .to_vec();
    let (ok, _, stderr) = ftp(args, &dir).await;
    assert!(ok, "{stderr}");
    for want in [
        "--> USER u",
        "--> PASS ****",
        "<-- 230 ",
        "--> MKD newdir",
        "<-- 257 ",
        "<-- 221 ",
    ] {
        assert!(stderr.contains(want), "{want:?} not shown:\n{stderr}");
    }
    assert!(!stderr.contains("PASS p"), "the password was shown:\n{stderr}");
    // Multi-line replies are shown whole.
    assert!(stderr.contains("<-- 211-"), "{stderr}");
}
