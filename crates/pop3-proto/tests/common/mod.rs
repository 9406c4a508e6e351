//! Shared test fixtures: the RFC 1939 example maildrop and a scripted
//! application that answers a `ServerSession`'s events.
#![allow(dead_code, unreachable_pub)]

use bytes::Bytes;
use pop3_proto::{
    AuthOutcome, LoginFailure, Maildrop, MessageInfo, ServerConfig, ServerEvent, ServerSession,
};
use proto_core::Session;

/// The two messages of the RFC 1939 examples: 120 and 200 octets, with the
/// unique ids of RFC 1939 section 7, and lines that need dot-stuffing.
pub fn rfc_messages() -> Vec<(Bytes, Vec<u8>)> {
    let mut m1 = b"From: alice@example.test\r\nSubject: one\r\n\r\n.leading dot line\r\n".to_vec();
    m1.extend_from_slice(&[b'x'; 57]);
    m1.extend_from_slice(b"\r\n");
    let mut m2 =
        b"From: bob@example.test\r\nSubject: two\r\n\r\nfirst body line\r\n..two dots\r\n.\r\n".to_vec();
    m2.extend_from_slice(&[b'y'; 126]);
    m2.extend_from_slice(b"\r\n");
    assert_eq!((m1.len(), m2.len()), (120, 200));
    vec![
        (Bytes::from_static(b"whqtswO00WBw418f9t5JxYwZ"), m1),
        (Bytes::from_static(b"QhdPYR:00WBw1Ph7x7"), m2),
    ]
}

pub fn maildrop_of(msgs: &[(Bytes, Vec<u8>)]) -> Maildrop {
    Maildrop {
        messages: msgs
            .iter()
            .map(|(uid, body)| MessageInfo {
                size: body.len() as u64,
                uid: uid.clone(),
            })
            .collect(),
    }
}

/// A scripted server application: one user `mrose` / `tanstaaf`, user
/// `locked` whose maildrop is in use, user `spacey` whose password has
/// spaces, SASL PLAIN.
pub struct App {
    pub messages: Vec<(Bytes, Vec<u8>)>,
    pub deleted: Option<Vec<u32>>,
    pub closed: Option<pop3_proto::CloseReason>,
    pub chunk: usize,
    pub sasl_mech: Option<Bytes>,
    pub events: Vec<String>,
    /// STLS was accepted; the harness calls `tls_established` when the
    /// plaintext turn is over (bytes of the same turn were sent in the clear).
    pub tls_pending: bool,
}

impl App {
    pub fn new(messages: Vec<(Bytes, Vec<u8>)>) -> Self {
        App {
            messages,
            deleted: None,
            closed: None,
            chunk: 7,
            sasl_mech: None,
            events: Vec::new(),
            tls_pending: false,
        }
    }

    fn login(&self, user: &[u8], pass: &[u8]) -> AuthOutcome {
        match (user, pass) {
            // "spacey" has a passphrase: PASS takes the rest of the line,
            // spaces included.
            (b"mrose", b"tanstaaf") | (b"spacey", b" two  spaces and a tab\t ") => {
                AuthOutcome::Success(maildrop_of(&self.messages))
            }
            (b"locked", b"tanstaaf") => AuthOutcome::Failure(LoginFailure::in_use()),
            (b"tired", _) => AuthOutcome::Failure(LoginFailure::login_delay()),
            _ => AuthOutcome::Failure(LoginFailure::bad_credentials()),
        }
    }

    fn plain(&self, resp: &[u8]) -> AuthOutcome {
        let parts: Vec<&[u8]> = resp.split(|&b| b == 0).collect();
        match parts.as_slice() {
            [_, user, pass] => self.login(user, pass),
            _ => AuthOutcome::Failure(LoginFailure::bad_credentials()),
        }
    }

    /// Completes a pending TLS handshake, then drives the session.
    pub fn finish_turn(&mut self, s: &mut ServerSession) -> Result<(), String> {
        if std::mem::take(&mut self.tls_pending) {
            s.tls_established().unwrap();
        }
        self.drive(s)
    }

    /// Drains the session's events, answering each. Returns Err text on a fatal error.
    pub fn drive(&mut self, s: &mut ServerSession) -> Result<(), String> {
        loop {
            let ev = match s.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return Ok(()),
                Err(e) => return Err(e.to_string()),
            };
            self.events.push(format!("{ev:?}"));
            match ev {
                ServerEvent::Login { user, password } => {
                    let o = self.login(&user, password.expose());
                    s.auth_finish(o).unwrap();
                }
                ServerEvent::Apop { user, digest } => {
                    let o = if &user[..] == b"mrose" && s.check_apop(digest.expose(), b"tanstaaf") {
                        AuthOutcome::Success(maildrop_of(&self.messages))
                    } else {
                        AuthOutcome::Failure(LoginFailure::bad_credentials())
                    };
                    s.auth_finish(o).unwrap();
                }
                ServerEvent::AuthStart {
                    mechanism,
                    initial_response,
                } => {
                    self.sasl_mech = Some(mechanism);
                    match initial_response {
                        Some(ir) => {
                            let o = self.plain(ir.expose());
                            s.auth_finish(o).unwrap();
                        }
                        None => s.auth_challenge(b"").unwrap(),
                    }
                }
                ServerEvent::AuthResponse(r) => {
                    let o = self.plain(r.expose());
                    s.auth_finish(o).unwrap();
                }
                ServerEvent::StartTls => self.tls_pending = true,
                ServerEvent::Retrieve { index, .. } => {
                    let body = self.messages[index].1.clone();
                    for piece in body.chunks(self.chunk.max(1)) {
                        if !s.message_data(piece).unwrap() {
                            break;
                        }
                    }
                    s.message_end().unwrap();
                }
                ServerEvent::Update { delete } => {
                    self.deleted = Some(delete);
                    s.update_finish(Ok(())).unwrap();
                }
                ServerEvent::Closed(r) => self.closed = Some(r),
                _ => {}
            }
        }
    }
}

/// Builds a server configuration from `#! key [value]` directives.
pub fn config_from_directives(text: &str) -> ServerConfig {
    let mut c = ServerConfig::default();
    c.failed_login_delay = std::time::Duration::ZERO;
    for line in text.lines() {
        let Some(d) = line.strip_prefix("#! ") else {
            continue;
        };
        let (k, v) = d.split_once(' ').unwrap_or((d, ""));
        match k {
            "apop" => c.apop_timestamp = Some(v.to_owned()),
            "stls" => c.stls = true,
            "tls" => c.tls_active = true,
            "plaintext" => c.allow_plaintext_without_tls = true,
            "sasl" => c.sasl_mechanisms = v.split(' ').map(str::to_owned).collect(),
            "utf8" => {
                c.utf8 = true;
                c.utf8_user = v == "USER";
            }
            "lang" => {
                c.languages = v
                    .split(',')
                    .map(|l| {
                        let (t, d) = l.split_once(':').unwrap_or((l, ""));
                        (t.to_owned(), d.to_owned())
                    })
                    .collect();
            }
            "expire" => c.expire = Some(v.to_owned()),
            "login-delay" => c.login_delay = v.parse().ok(),
            "implementation" => c.implementation = Some(v.to_owned()),
            "no-pipelining" => c.pipelining = false,
            "no-user" => c.user_pass = false,
            "max-bad" => c.limits.max_bad_commands = v.parse().unwrap(),
            "max-failures" => c.limits.max_login_failures = v.parse().unwrap(),
            "greeting" => c.greeting = v.to_owned(),
            "closed" | "deleted" | "fatal" => {}
            other => panic!("unknown directive {other}"),
        }
    }
    c
}
