//! Review session 21: gaps left open by earlier reviews, each test citing the
//! rule it checks. Every test here failed on the code before its fix (some at
//! compile time, where the fix had to add what the application needs).

use pop3_proto::{AuthOutcome, Maildrop, ServerConfig, ServerEvent, ServerSession};
use proto_core::{Session, drain_transmit};
use std::time::Instant;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Sends `line`, answers a login with success, returns what was written.
fn exchange(s: &mut ServerSession, line: &[u8]) -> String {
    s.handle_input(line);
    while let Some(ev) = s.poll_event().unwrap() {
        if let ServerEvent::Login { .. } = ev {
            s.auth_finish(AuthOutcome::Success(Maildrop::default())).unwrap();
        }
    }
    text(&drain_transmit(s))
}

// ----- Gap 7: LANG listing lines within 512 octets -----

// RFC 2449 4: "The maximum length of the first line of a command response
// ... is unchanged at 512 octets"; RFC 2449 3: `capability = capa-tag
// *(SP param) CRLF ;512 octets maximum`. The language listing of RFC 6856 3
// is a response line like a capability; a long configured description made
// a line of any length (a client with a 512-octet line limit fails on it).
// The description is cut (on a UTF-8 boundary); a tag that cannot fit at
// all is left out.
#[test]
fn lang_listing_lines_fit_512_octets() {
    let now = Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.languages = vec![
        ("en".into(), "English ".repeat(100)),
        ("de".into(), "\u{00fc}".repeat(400)),
        ("x-".to_string() + &"a".repeat(600), String::new()),
        ("sv".into(), "Svenska".into()),
    ];
    let mut s = ServerSession::new(cfg, now);
    drain_transmit(&mut s);
    let out = exchange(&mut s, b"LANG\r\n");
    let lines: Vec<&str> = out.split("\r\n").collect();
    for l in &lines {
        assert!(l.len() + 2 <= 512, "{} octets: {l:.40}", l.len() + 2);
    }
    assert!(lines[1].starts_with("en English"), "{out:.80}");
    assert!(lines[2].starts_with("de \u{00fc}"), "{out:.80}");
    assert!(!lines[2].contains('\u{fffd}'), "cut inside a UTF-8 sequence");
    assert_eq!(lines[3], "sv Svenska");
    assert_eq!(lines[4], ".");
}
