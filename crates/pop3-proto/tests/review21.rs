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

// ----- Gap 6: per-user EXPIRE and LOGIN-DELAY -----

fn capa_line<'a>(capa: &'a str, tag: &str) -> Option<&'a str> {
    capa.lines().find(|l| l.split(' ').next() == Some(tag))
}

// RFC 2449 6.7 (6.5 says the same of LOGIN-DELAY): "If the expiration policy
// differs per user ... the server MUST announce in AUTHENTICATION state the
// smallest value which could be set for any user ... The server SHOULD
// append the token "USER" to the EXPIRE parameter in AUTHENTICATION state
// ... The server SHOULD announce the more accurate value in TRANSACTION
// state." The arguments are "optionally followed by USER in AUTHENTICATION
// state": not in TRANSACTION. The session announced the configured text in
// both states and had no way to take the user's own value.
#[test]
fn expire_and_login_delay_per_user() {
    let now = Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.expire = Some("5".into());
    cfg.login_delay = Some(900);
    cfg.policy_per_user = true;
    let mut s = ServerSession::new(cfg, now);
    drain_transmit(&mut s);
    let capa = exchange(&mut s, b"CAPA\r\n");
    assert_eq!(capa_line(&capa, "EXPIRE"), Some("EXPIRE 5 USER"), "{capa}");
    assert_eq!(
        capa_line(&capa, "LOGIN-DELAY"),
        Some("LOGIN-DELAY 900 USER"),
        "{capa}"
    );
    // Not before login.
    assert!(s.set_user_policy(Some("30"), Some(60)).is_err());
    exchange(&mut s, b"USER u\r\nPASS p\r\n");
    assert!(s.is_authenticated());
    assert!(
        s.set_user_policy(Some("30 days"), None).is_err(),
        "EXPIRE is a number or NEVER"
    );
    // The values before login bound every user's (RFC 2449 6.5, 6.7: "MUST
    // announce in AUTHENTICATION state the smallest value" of EXPIRE, "the
    // largest value" of LOGIN-DELAY).
    assert!(s.set_user_policy(Some("4"), None).is_err());
    assert!(s.set_user_policy(None, Some(901)).is_err());
    s.set_user_policy(Some("5"), Some(900)).unwrap();
    s.set_user_policy(Some("NEVER"), Some(60)).unwrap();
    let capa = exchange(&mut s, b"CAPA\r\n");
    assert_eq!(capa_line(&capa, "EXPIRE"), Some("EXPIRE NEVER"), "{capa}");
    assert_eq!(capa_line(&capa, "LOGIN-DELAY"), Some("LOGIN-DELAY 60"), "{capa}");
}

// The same rule when the configured text carries the token itself and the
// application gives no per-user value: the USER token stays out of the
// TRANSACTION-state CAPA.
#[test]
fn no_user_token_after_login() {
    let now = Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.expire = Some("5 USER".into());
    let mut s = ServerSession::new(cfg, now);
    drain_transmit(&mut s);
    let capa = exchange(&mut s, b"CAPA\r\n");
    assert_eq!(capa_line(&capa, "EXPIRE"), Some("EXPIRE 5 USER"), "{capa}");
    exchange(&mut s, b"USER u\r\nPASS p\r\n");
    let capa = exchange(&mut s, b"CAPA\r\n");
    assert_eq!(capa_line(&capa, "EXPIRE"), Some("EXPIRE 5"), "{capa}");
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

// RFC 2449 6.5, 6.7: "The "USER" token allows the client to decide if a
// second CAPA command is needed or not." The client sent CAPA only before
// login and had no way to ask for the TRANSACTION-state values.
#[test]
fn client_asks_capa_again_after_login() {
    use pop3_proto::{ClientConfig, ClientEvent, ClientSession, Credentials, TlsMode};
    use proto_core::{Secret, transfer};
    let now = Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.expire = Some("5".into());
    cfg.policy_per_user = true;
    let mut s = ServerSession::new(cfg, now);
    let mut ccfg = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("p".into())),
        ..Credentials::default()
    });
    ccfg.tls = TlsMode::Implicit;
    let mut c = ClientSession::new(ccfg, now);
    assert!(c.capa().is_err(), "the session sends CAPA itself before login");
    let mut capas = Vec::new();
    for _ in 0..20 {
        transfer(&mut s, &mut c, 64);
        while let Some(ev) = c.poll_event().unwrap() {
            match ev {
                ClientEvent::LoggedIn(_) => c.capa().unwrap(),
                ClientEvent::Capabilities(caps) => capas.push(caps),
                _ => {}
            }
        }
        transfer(&mut c, &mut s, 64);
        while let Some(ev) = s.poll_event().unwrap() {
            if let ServerEvent::Login { .. } = ev {
                s.auth_finish(AuthOutcome::Success(Maildrop::default())).unwrap();
                s.set_user_policy(Some("30"), None).unwrap();
            }
        }
    }
    assert_eq!(capas.len(), 2, "{capas:?}");
    assert_eq!(capas[0].expire.as_deref(), Some(&b"5 USER"[..]));
    assert_eq!(capas[1].expire.as_deref(), Some(&b"30"[..]));
    assert_eq!(
        c.capabilities().and_then(|k| k.expire.as_deref()),
        Some(&b"30"[..])
    );
    assert!(c.is_logged_in());
}
