//! Session 27: what a session's `Debug` output shows.

use smtp_proto::{ClientConfig, ClientSession, ServerConfig, ServerSession};
use std::time::Instant;

mod common;
use common::client_events;

const PASSWORD: &str = "tanstaaf-Secret-77";

/// `base64("\0user\0" PASSWORD)`, the PLAIN initial response (RFC 4616 2).
fn plain_response() -> String {
    // A small base64 encoder, so the test does not trust the crate's.
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("\0user\0{PASSWORD}").into_bytes();
    let mut out = String::new();
    for c in raw.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn assert_no_secret(what: &str, debug: &str) {
    assert!(!debug.contains(PASSWORD), "{what} shows the password: {debug}");
    assert!(
        !debug.contains(&plain_response()),
        "{what} shows the PLAIN response: {debug}"
    );
    // Nor any part of it long enough to carry the password.
    assert!(
        !debug.contains(&plain_response()[8..20]),
        "{what} shows part of the PLAIN response: {debug}"
    );
}

/// DESIGN.md: bytes that may hold secrets are redacted. A session's
/// `Debug` output (what `{:?}` in a log line or a panic message prints)
/// showed its buffers byte for byte: the client's AUTH PLAIN line not yet
/// written (RFC 4954 4: the initial response is the password in base64)
/// and the server's pipelined AUTH line not yet parsed.
#[test]
fn session_debug_shows_no_credentials() {
    let t0 = Instant::now();
    let cfg = ClientConfig {
        credentials: Some(sasl::Credentials::with_password("user", PASSWORD)),
        allow_plaintext_auth: true,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg, t0);
    assert_no_secret("a new client", &format!("{c:?}"));
    c.handle_input(b"220 mx.example.test\r\n250-mx.example.test\r\n250 AUTH PLAIN\r\n");
    assert!(client_events(&mut c).is_empty());
    assert_no_secret("a client with AUTH PLAIN queued", &format!("{c:?}"));
    assert_no_secret("a client with AUTH PLAIN queued", &format!("{c:#?}"));

    let mut s = ServerSession::new(ServerConfig::default(), t0);
    let line = format!("EHLO client.example\r\nAUTH PLAIN {}\r\n", plain_response());
    s.handle_input(line.as_bytes());
    assert_no_secret("a server with AUTH PLAIN unread", &format!("{s:?}"));
    assert_no_secret("a server with AUTH PLAIN unread", &format!("{s:#?}"));
}
