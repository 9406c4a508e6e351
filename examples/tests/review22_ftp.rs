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
    let (code, text) = c.cmd("EPSV").await;
    assert_eq!(code, 229, "{text}");
    let port: u16 = text
        .split("(|||")
        .nth(1)
        .and_then(|r| r.split('|').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
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
