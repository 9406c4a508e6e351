//! The `ftp` binary in active mode refuses a data connection that does not
//! come from the server's address (a stranger racing the server for the
//! port) and takes the server's own.
//!
//! A minimal scripted FTP server on 127.0.0.1 answers the client; on RETR
//! it first connects to the client's EPRT/PORT address from 127.0.0.2 and
//! sends a decoy, then from 127.0.0.1 with the real file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

/// The port of an `EPRT |1|127.0.0.1|port|` or `PORT h1,h2,h3,h4,p1,p2` argument.
fn data_port(line: &str) -> Option<u16> {
    if let Some(arg) = line.strip_prefix("EPRT ") {
        return arg.split('|').nth(3)?.parse().ok();
    }
    let arg = line.strip_prefix("PORT ")?;
    let n: Vec<u16> = arg.split(',').filter_map(|x| x.trim().parse().ok()).collect();
    (n.len() == 6).then(|| n[4] * 256 + n[5])
}

/// Connects to 127.0.0.1:`port` from `source` and sends `data` (tokio's
/// `TcpSocket` binds the source address before connecting).
fn send_from(source: Ipv4Addr, port: u16, data: &[u8]) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use tokio::io::AsyncWriteExt as _;
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from((source, 0)))
            .expect("bind the source address");
        let to = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let Ok(Ok(mut tcp)) = tokio::time::timeout(Duration::from_secs(5), socket.connect(to)).await else {
            return false;
        };
        // The client drops a stranger at once: a failed write is fine then.
        let _ = tcp.write_all(data).await;
        let _ = tcp.shutdown().await;
        true
    })
}

fn serve(l: &TcpListener) {
    let (tcp, _) = l.accept().expect("control connection");
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut out = tcp.try_clone().unwrap();
    let mut lines = BufReader::new(tcp);
    out.write_all(b"220 scripted\r\n").unwrap();
    let mut port = None;
    let mut line = String::new();
    while {
        line.clear();
        lines.read_line(&mut line).unwrap_or(0) > 0
    } {
        let cmd = line.trim_end();
        let verb = cmd.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "USER" => b"331 password\r\n",
            "PASS" => b"230 in\r\n",
            "TYPE" => b"200 type\r\n",
            "EPRT" | "PORT" => {
                port = data_port(cmd);
                b"200 ok\r\n"
            }
            "RETR" => {
                let p = port.take().expect("EPRT or PORT before RETR");
                out.write_all(b"150 here it comes\r\n").unwrap();
                // The stranger first; then the server's own connection.
                assert!(send_from(Ipv4Addr::new(127, 0, 0, 2), p, b"DECOY DATA\n"));
                std::thread::sleep(Duration::from_millis(200));
                assert!(send_from(Ipv4Addr::LOCALHOST, p, b"the real file\n"));
                b"226 done\r\n"
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n").unwrap();
                return;
            }
            _ => b"502 not here\r\n",
        };
        out.write_all(reply).unwrap();
    }
}

#[test]
fn active_mode_takes_the_data_connection_only_from_the_server() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || serve(&l));
    let dir = std::env::temp_dir().join(format!("ftp-active-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let local = dir.join("got.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_ftp"))
        .arg(format!("ftp://u:p@127.0.0.1:{port}"))
        .args(["--active", "--no-tls", "get", "file.txt"])
        .arg(&local)
        .output()
        .expect("run ftp");
    server.join().expect("scripted server");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut got = String::new();
    std::fs::File::open(&local)
        .unwrap()
        .read_to_string(&mut got)
        .unwrap();
    assert_eq!(got, "the real file\n");
    let _ = std::fs::remove_dir_all(&dir);
}
