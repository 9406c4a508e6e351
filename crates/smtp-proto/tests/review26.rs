//! Review 26: the gaps the session-25 review found and left open. Each test
//! quotes the RFC rule it checks and failed on the code as it was before its
//! fix.

use smtp_proto::checks::ServerApp;
use smtp_proto::{ServerConfig, ServerSession};
use std::time::Instant;

mod common;
use common::out_of;

fn serve(cfg: ServerConfig, turns: &[&[u8]]) -> (String, Vec<String>) {
    let now = Instant::now();
    let mut s = ServerSession::new(cfg, now);
    let mut app = ServerApp::with_auto_tls();
    for t in turns {
        s.handle_input(t);
        app.drive(&mut s, now).unwrap();
    }
    (out_of(&mut s), app.log)
}

/// RFC 5321 4.1.1.1: a client that greets with HELO asks for no service
/// extensions ("the server ... MUST NOT return the extended EHLO-style
/// response to a HELO command"), and RFC 3030 2 ties BDAT to CHUNKING,
/// which only an EHLO reply offers. So BDAT after HELO is refused like AUTH
/// after HELO (503 5.5.1), its chunk is read and dropped (RFC 3030 2: the
/// server "MUST ... discard the associated message data"), and the octets
/// never reach the application nor run as commands.
#[test]
fn bdat_after_helo_is_refused_and_its_chunk_dropped() {
    let (out, log) = serve(
        ServerConfig::default(),
        &[
            b"HELO c.example.test\r\n",
            b"MAIL FROM:<a@example.test>\r\n",
            b"RCPT TO:<b@example.test>\r\n",
            b"BDAT 6 LAST\r\nQUIT\r\n",
            b"NOOP\r\n",
        ],
    );
    let replies: Vec<&str> = out.lines().collect();
    // Greeting, HELO, MAIL, RCPT, then the refusal and the NOOP: "QUIT"
    // was chunk data.
    assert_eq!(replies[4], "503 5.5.1 Send EHLO first", "{out}");
    assert_eq!(replies[5], "250 2.0.0 Ok", "{out}");
    assert_eq!(replies.len(), 6, "{out}");
    assert!(
        !log.iter().any(|e| e.contains("DataStart") || e.contains("Data")),
        "{log:?}"
    );
}
