//! Differential review: pop3-proto's ClientSession against its ServerSession
//! in memory, with scripted applications on both sides, random byte-stream
//! splitting and server-side failures injected at random. Each conversation
//! checks that the client's view of every command matches what the server
//! application decided, that messages arrive byte-exact and that deletions
//! happen only for the messages asked for, only at QUIT.

use bytes::Bytes;
use pop3_proto::{
    AuthOutcome, ClientConfig, ClientEvent, ClientSession, Credentials, FetchMode, LoginFailure, LoginMethod,
    Maildrop, MessageInfo, ServerConfig, ServerEvent, ServerSession, TlsMode,
};
use proto_core::{Secret, Session};
use sasl::{CredentialStore, Mechanism, ScramHash, ScramKeys, ServerMechanism, ServerStep};
use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// Stored password and a differently typed spelling SASLprep equates with it.
const PASSWORDS: &[(&str, &str)] = &[
    ("tanstaaf", "tanstaaf"),
    ("p\u{e4}ssw\u{f6}rd", "pa\u{308}ssw\u{f6}rd"),
    ("Pw", "\u{FF30}\u{FF57}"),
    ("a b", "a\u{A0}b"),
    ("IX", "I\u{AD}X"),
    ("fix", "\u{FB01}x"),
    ("e\u{301}t\u{e9}", "\u{e9}te\u{301}"),
    (LONG, LONG_EQUIVALENT),
];
/// Too long for an initial response inside a 255-octet AUTH line.
const LONG: &str = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\u{e9}";
const LONG_EQUIVALENT: &str = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789e\u{301}";

struct Store {
    password: String,
    sha1: ScramKeys,
    sha256: ScramKeys,
}

impl CredentialStore for Store {
    fn scram_keys(&self, hash: ScramHash, authcid: &str) -> Option<ScramKeys> {
        (authcid == "alice").then(|| match hash {
            ScramHash::Sha1 => self.sha1.clone(),
            _ => self.sha256.clone(),
        })
    }
    fn verify_password(&self, authcid: &str, password: &Secret<String>) -> Result<bool, sasl::SaslError> {
        Ok(authcid == "alice"
            && sasl::saslprep::saslprep(&self.password).unwrap() == password.expose().as_str())
    }
    fn cram_md5_secret(&self, authcid: &str) -> Option<Secret<Vec<u8>>> {
        (authcid == "alice").then(|| Secret::new(self.password.as_bytes().to_vec()))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Decision {
    Login(bool),
    Body(Option<Vec<u8>>),
}

struct ServerApp {
    rng: Rng,
    store: Store,
    messages: Vec<Vec<u8>>,
    uids: Vec<String>,
    mech: Option<Box<dyn ServerMechanism>>,
    decisions: VecDeque<Decision>,
    login_ok: Option<bool>,
    method: Option<String>,
    deleted: Option<Vec<u32>>,
    update_ok: bool,
    tls_pending: bool,
    chunk: usize,
    cancelled: bool,
    injected: bool,
    closed: bool,
}

impl ServerApp {
    fn maildrop(&self) -> Maildrop {
        Maildrop {
            messages: self
                .messages
                .iter()
                .enumerate()
                .map(|(i, m)| MessageInfo {
                    size: m.len() as u64,
                    uid: self.uids[i].clone().into(),
                })
                .collect(),
        }
    }

    fn finish(&mut self, s: &mut ServerSession, ok: bool) {
        // Injected failures that are not about credentials.
        let outcome = if ok && self.rng.chance(12) {
            let f = match self.rng.below(3) {
                0 => LoginFailure::in_use(),
                1 => LoginFailure::login_delay(),
                _ => LoginFailure::sys_temp("try later"),
            };
            self.decisions.push_back(Decision::Login(false));
            self.injected = true;
            AuthOutcome::Failure(f)
        } else if ok {
            self.decisions.push_back(Decision::Login(true));
            AuthOutcome::Success(self.maildrop())
        } else {
            self.decisions.push_back(Decision::Login(false));
            AuthOutcome::Failure(LoginFailure::bad_credentials())
        };
        self.login_ok = Some(matches!(outcome, AuthOutcome::Success(_)));
        s.auth_finish(outcome).unwrap();
    }

    fn sasl(&mut self, s: &mut ServerSession, r: Result<ServerStep, sasl::SaslError>) {
        match r {
            Ok(ServerStep::Challenge(c)) => {
                let c = if self.rng.chance(15) {
                    b"\xff garbage".to_vec()
                } else {
                    c
                };
                s.auth_challenge(&c).unwrap();
            }
            Ok(ServerStep::Success { .. }) => {
                self.mech = None;
                self.finish(s, true);
            }
            Err(_) => {
                self.mech = None;
                self.finish(s, false);
            }
        }
    }

    fn drive(&mut self, s: &mut ServerSession) -> Result<(), String> {
        if std::mem::take(&mut self.tls_pending) {
            s.tls_established().unwrap();
        }
        loop {
            let ev = match s.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return Ok(()),
                Err(e) => return Err(e.to_string()),
            };
            match ev {
                ServerEvent::Login { user, password } => {
                    self.method = Some("USER".into());
                    let ok =
                        &user[..] == b"alice" && password.expose()[..] == *self.store.password.as_bytes();
                    self.finish(s, ok);
                }
                ServerEvent::Apop { user, digest } => {
                    self.method = Some("APOP".into());
                    let ok = &user[..] == b"alice"
                        && s.check_apop(digest.expose(), self.store.password.as_bytes());
                    self.finish(s, ok);
                }
                ServerEvent::AuthStart {
                    mechanism,
                    initial_response,
                } => {
                    self.method = Some(String::from_utf8_lossy(&mechanism).into_owned());
                    let m = Mechanism::from_name(&mechanism).unwrap();
                    let mut mech = sasl::server(m, &sasl::ServerOptions::default()).unwrap();
                    let r = mech.start(initial_response.as_ref().map(|r| &r.expose()[..]), &self.store);
                    self.mech = Some(mech);
                    self.sasl(s, r);
                }
                ServerEvent::AuthResponse(resp) => {
                    let mut mech = self.mech.take().expect("response without a mechanism");
                    let r = mech.step(resp.expose(), &self.store);
                    self.mech = Some(mech);
                    self.sasl(s, r);
                }
                ServerEvent::AuthCancelled => {
                    self.mech = None;
                    self.cancelled = true;
                }
                ServerEvent::StartTls => self.tls_pending = true,
                ServerEvent::Retrieve { index, top_lines, .. } => {
                    if self.rng.chance(8) {
                        self.decisions.push_back(Decision::Body(None));
                        s.message_unavailable("cannot read it now").unwrap();
                        continue;
                    }
                    let body = self.messages[index].clone();
                    let sent = normalized(&body);
                    let expect = match top_lines {
                        None => sent,
                        Some(n) => top_of(&sent, n),
                    };
                    self.decisions.push_back(Decision::Body(Some(expect)));
                    for piece in body.chunks(self.chunk) {
                        if !s.message_data(piece).unwrap() {
                            break;
                        }
                    }
                    s.message_end().unwrap();
                }
                ServerEvent::Update { delete } => {
                    self.deleted = Some(delete);
                    let r = if self.update_ok {
                        Ok(())
                    } else {
                        Err("disk full".into())
                    };
                    s.update_finish(r).unwrap();
                }
                ServerEvent::Closed(_) => self.closed = true,
                _ => {}
            }
        }
    }
}

/// What the server sends for a stored message: bare CR and bare LF become
/// CRLF, and a last line without an ending gets one.
fn normalized(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 8);
    let mut i = 0;
    while i < msg.len() {
        match msg[i] {
            b'\r' if msg.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// RFC 1939 TOP: the header, the blank line, then `n` body lines.
fn top_of(msg: &[u8], n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut in_header = true;
    let mut left = n;
    for line in msg.split_inclusive(|&b| b == b'\n') {
        if !in_header {
            if left == 0 {
                break;
            }
            left -= 1;
        }
        out.extend_from_slice(line);
        if in_header && line == b"\r\n" {
            in_header = false;
        }
    }
    out
}

fn random_message(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(6) {
        return Vec::new();
    }
    let mut m = b"From: a@example.test\r\nSubject: x\r\n\r\n".to_vec();
    if rng.chance(8) {
        m.clear();
    }
    let lines = if rng.chance(10) { 3000 } else { rng.below(12) };
    for _ in 0..lines {
        match rng.below(9) {
            0 => m.extend_from_slice(b".\r\n"),
            6 => m.extend_from_slice(b".\n"),
            7 => m.extend_from_slice(b"x\ry\r"),
            8 => m.extend_from_slice(b"\n.\r"),
            1 => m.extend_from_slice(b"..dots\r\n"),
            2 => m.extend_from_slice(b"\r\n"),
            3 => m.extend_from_slice(b".\r\n.\r\n"),
            _ => {
                let len = rng.below(90) as usize;
                for _ in 0..len {
                    m.push(b' ' + (rng.below(95) as u8));
                }
                m.extend_from_slice(b"\r\n");
            }
        }
    }
    if rng.chance(5) {
        m.extend_from_slice(b"no line end");
    }
    m
}

#[derive(Debug, Clone)]
enum Op {
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Retr(u32),
    Top(u32, u32),
    Dele(u32),
    Rset,
    Noop,
    Capa,
    Lang(Option<&'static str>),
}

/// What the client must report for one command, from the model.
#[derive(Debug)]
enum Expect {
    Stat(u32, u64),
    Listing(Vec<(u32, u64)>),
    Scan(Option<(u32, u64)>),
    UidListing(Vec<(u32, String)>),
    Uid(Option<(u32, String)>),
    Body(u32, bool),
    Dele(Option<u32>),
    Ok(&'static str),
    Capa,
    Languages(Vec<String>),
    LangSet(bool),
}

fn run(seed: u64, keys: &[(ScramKeys, ScramKeys)], stats: &mut std::collections::BTreeMap<String, u32>) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for _ in 0..4 {
        rng.next();
    }
    let now0 = Instant::now();
    let mut now = now0;
    let pi = rng.below(PASSWORDS.len() as u64) as usize;
    let (stored, equivalent) = PASSWORDS[pi];
    let store = Store {
        password: stored.into(),
        sha1: keys[pi].0.clone(),
        sha256: keys[pi].1.clone(),
    };
    // Server configuration.
    let mut sc = ServerConfig::default();
    sc.failed_login_delay = if rng.chance(3) {
        Duration::from_secs(2)
    } else {
        Duration::ZERO
    };
    sc.pipelining = rng.chance(2);
    if rng.chance(2) {
        sc.apop_timestamp = Some(format!("<{}.{}@example.test>", rng.below(9999), seed));
    }
    let all = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"];
    sc.sasl_mechanisms = all
        .iter()
        .filter(|_| rng.chance(3))
        .map(|s| (*s).to_owned())
        .collect();
    sc.user_pass = !rng.chance(4);
    let mut cc_tls = TlsMode::Disabled;
    match rng.below(3) {
        0 => {
            sc.tls_active = true;
            cc_tls = TlsMode::Implicit;
        }
        1 => {
            sc.stls = true;
            cc_tls = if rng.chance(2) {
                TlsMode::Required
            } else {
                TlsMode::Opportunistic
            };
        }
        _ => sc.allow_plaintext_without_tls = true,
    }
    let languages: Vec<(&str, &str)> = match rng.below(3) {
        0 => Vec::new(),
        1 => vec![("en", "English"), ("de-CH", "Deutsch (Schweiz)")],
        _ => vec![("i-default", ""), ("en-GB", "English"), ("fr", "Fran\u{e7}ais")],
    };
    sc.languages = languages
        .iter()
        .map(|(t, d)| ((*t).to_owned(), (*d).to_owned()))
        .collect();
    let utf8_user = rng.chance(3);
    if utf8_user || rng.chance(4) {
        sc.utf8 = true;
        sc.utf8_user = utf8_user;
    }
    if rng.chance(3) {
        sc.expire = Some("5 USER".into());
        sc.login_delay = Some(60);
        sc.policy_per_user = true;
    }
    // Client credentials: right, equivalent spelling, wrong, or unknown user.
    let (user, pw) = match rng.below(6) {
        0 => ("alice", "wrong-password"),
        1 => ("mallory", stored),
        2 => ("alice", equivalent),
        // The user name too is SASLprep'd by the SASL mechanisms.
        3 => ("al\u{AD}ice", stored),
        _ => ("alice", stored),
    };
    let mut cc = ClientConfig::new(Credentials::with_password(user, pw));
    cc.tls = cc_tls;
    cc.allow_plaintext_without_tls = true;
    cc.apop = rng.chance(2);
    cc.sasl = !rng.chance(4);
    cc.utf8 = rng.chance(2);

    let nmsg = rng.below(6) as usize;
    let messages: Vec<Vec<u8>> = (0..nmsg).map(|_| random_message(&mut rng)).collect();
    // RFC 1939 7: one to 70 characters 0x21..=0x7E, unique in the maildrop.
    let uids: Vec<String> = (0..nmsg)
        .map(|i| {
            let len = if rng.chance(4) {
                70
            } else {
                1 + rng.below(70) as usize
            };
            let mut u = format!("{i}.");
            while u.len() < len {
                u.push(char::from(0x21 + rng.below(94) as u8));
            }
            u.truncate(len.max(u.len().min(70)));
            u
        })
        .collect();
    let mut app = ServerApp {
        rng: Rng(rng.next() | 1),
        store,
        messages: messages.clone(),
        uids: uids.clone(),
        mech: None,
        decisions: VecDeque::new(),
        login_ok: None,
        method: None,
        deleted: None,
        update_ok: !rng.chance(5),
        tls_pending: false,
        chunk: 1 + rng.below(4000) as usize,
        cancelled: false,
        injected: false,
        closed: false,
    };
    let policy = sc.policy_per_user;
    let mut server = ServerSession::new(sc, now);
    let mut client = ClientSession::new(cc, now);

    let max_piece = 1 + rng.below(300) as usize;
    let mut expects: VecDeque<Expect> = VecDeque::new();
    let mut model_deleted: BTreeSet<u32> = BTreeSet::new();
    let mut committed_deleted: BTreeSet<u32> = BTreeSet::new();
    let mut logged_in = false;
    let mut client_error: Option<String> = None;
    let mut closed: Option<bool> = None;
    let mut quit_sent = false;
    let mut body: Option<(u32, bool, Vec<u8>)> = None;
    let mut ops_left = if rng.chance(20) { 1500 } else { rng.below(14) };
    let trace = format!("seed {seed}");
    // Sometimes the client downloads the maildrop with `fetch` instead.
    let known: std::collections::HashSet<Bytes> = uids
        .iter()
        .filter(|_| rng.chance(2))
        .map(|u| Bytes::from(u.clone()))
        .collect();
    let mut fetch_mode = match rng.below(8) {
        0 => Some(FetchMode::Keep),
        1 => Some(FetchMode::Delete),
        2 => Some(FetchMode::KeepNew(known.clone())),
        3 => Some(FetchMode::DeleteKnown(known.clone())),
        _ => None,
    };
    let fetching = fetch_mode.clone();
    let mut fetched_ok: BTreeSet<u32> = BTreeSet::new();
    let mut fetch_done = false;
    let timed = rng.chance(2);
    let mut client_seen = now;
    let mut server_seen = now;

    for _round in 0..200_000 {
        // Move bytes in random pieces, both ways.
        let mut moved = 0;
        while let Some(out) = server.poll_transmit() {
            let n = out.len().min(1 + rng.below(max_piece as u64) as usize);
            let piece = out[..n].to_vec();
            server.advance_transmit(n);
            if timed {
                client.handle_input_at(&piece, now);
            } else if rng.chance(2) {
                // The zero-copy path for drivers that read into a BytesMut.
                client.handle_input_owned(bytes::BytesMut::from(&piece[..]));
            } else {
                client.handle_input(&piece);
            }
            client_seen = now;
            server_seen = now;
            moved += n;
            if rng.chance(3) {
                break;
            }
        }
        while let Some(out) = client.poll_transmit() {
            let n = out.len().min(1 + rng.below(max_piece as u64) as usize);
            let piece = out[..n].to_vec();
            client.advance_transmit(n);
            if timed {
                server.handle_input_at(&piece, now);
            } else {
                server.handle_input(&piece);
            }
            server_seen = now;
            moved += n;
            if rng.chance(3) {
                break;
            }
        }
        // Time passes, well inside every timeout.
        // Sometimes minutes pass, but never ten without the client hearing
        // from the server while it waits (or the server from the client):
        // no timer may fire.
        if client.poll_timeout().is_none() {
            client_seen = now;
        }
        let quiet = now.duration_since(client_seen.min(server_seen));
        let room = Duration::from_secs(590).saturating_sub(quiet);
        let step = if rng.chance(20) {
            Duration::from_secs(rng.below(room.as_secs() + 1))
        } else {
            Duration::from_millis(rng.below(50)).min(room)
        };
        now += step;
        client.handle_timeout(now);
        server.handle_timeout(now);
        if let Err(e) = app.drive(&mut server) {
            panic!("{trace}: server error {e}");
        }
        // The server ended the connection: the client sees the end of stream.
        if server.is_closed() && server.poll_transmit().is_none() {
            client.handle_eof();
        }
        let mut progressed = moved > 0;
        loop {
            let ev = match client.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    client_error = Some(e.to_string());
                    break;
                }
            };
            progressed = true;
            match ev {
                ClientEvent::StartTls => client.tls_established().unwrap(),
                ClientEvent::LoggedIn(m) => {
                    logged_in = true;
                    assert_eq!(
                        app.decisions.pop_front(),
                        Some(Decision::Login(true)),
                        "{trace}: client logged in ({m:?}) but server said no"
                    );
                    if policy {
                        server.set_user_policy(Some("30"), Some(10)).unwrap();
                    }
                    if let Some(mode) = fetch_mode.take() {
                        client.fetch(mode).unwrap();
                        ops_left = 0;
                        continue;
                    }
                    // Queue random commands without waiting for answers.
                    for _ in 0..ops_left {
                        let n = 1 + rng.below(nmsg as u64 + 2) as u32;
                        let op = match rng.below(10) {
                            0 => Op::Stat,
                            1 => Op::List(rng.chance(2).then_some(n)),
                            2 => Op::Uidl(rng.chance(2).then_some(n)),
                            3 | 4 => Op::Retr(n),
                            5 => Op::Top(
                                n,
                                if rng.chance(5) {
                                    u32::MAX
                                } else {
                                    rng.below(4) as u32
                                },
                            ),
                            6 | 7 => Op::Dele(n),
                            8 => {
                                if rng.chance(3) {
                                    Op::Rset
                                } else {
                                    Op::Noop
                                }
                            }
                            _ if rng.chance(3) => Op::Lang(match rng.below(5) {
                                0 => None,
                                1 => Some("*"),
                                2 => Some("en"),
                                3 => Some("DE"),
                                _ => Some("fr"),
                            }),
                            _ => Op::Capa,
                        };
                        let live =
                            |k: u32, del: &BTreeSet<u32>| k >= 1 && (k as usize) <= nmsg && !del.contains(&k);
                        let size = |k: u32| messages[k as usize - 1].len() as u64;
                        let exp = match op {
                            Op::Stat => {
                                client.stat().unwrap();
                                let live: Vec<u32> =
                                    (1..=nmsg as u32).filter(|k| live(*k, &model_deleted)).collect();
                                Expect::Stat(live.len() as u32, live.iter().map(|k| size(*k)).sum())
                            }
                            Op::List(None) => {
                                client.list(None).unwrap();
                                Expect::Listing(
                                    (1..=nmsg as u32)
                                        .filter(|k| live(*k, &model_deleted))
                                        .map(|k| (k, size(k)))
                                        .collect(),
                                )
                            }
                            Op::List(Some(k)) => {
                                client.list(Some(k)).unwrap();
                                Expect::Scan(live(k, &model_deleted).then(|| (k, size(k))))
                            }
                            Op::Uidl(None) => {
                                client.uidl(None).unwrap();
                                Expect::UidListing(
                                    (1..=nmsg as u32)
                                        .filter(|k| live(*k, &model_deleted))
                                        .map(|k| (k, uids[k as usize - 1].clone()))
                                        .collect(),
                                )
                            }
                            Op::Uidl(Some(k)) => {
                                client.uidl(Some(k)).unwrap();
                                Expect::Uid(
                                    live(k, &model_deleted).then(|| (k, uids[k as usize - 1].clone())),
                                )
                            }
                            Op::Retr(k) => {
                                client.retr(k).unwrap();
                                Expect::Body(k, live(k, &model_deleted))
                            }
                            Op::Top(k, l) => {
                                client.top(k, l).unwrap();
                                Expect::Body(k, live(k, &model_deleted))
                            }
                            Op::Dele(k) => {
                                client.dele(k).unwrap();
                                let ok = live(k, &model_deleted);
                                if ok {
                                    model_deleted.insert(k);
                                }
                                Expect::Dele(ok.then_some(k))
                            }
                            Op::Rset => {
                                client.rset().unwrap();
                                model_deleted.clear();
                                Expect::Ok("RSET")
                            }
                            Op::Noop => {
                                client.noop().unwrap();
                                Expect::Ok("NOOP")
                            }
                            Op::Lang(None) => {
                                client.lang(None).unwrap();
                                if languages.is_empty() {
                                    Expect::LangSet(false)
                                } else {
                                    Expect::Languages(
                                        languages.iter().map(|(t, _)| (*t).to_owned()).collect(),
                                    )
                                }
                            }
                            Op::Lang(Some(r)) => {
                                client.lang(Some(r)).unwrap();
                                // RFC 4647 3.3.1 basic filtering, as the server matches.
                                let hit = languages.iter().any(|(t, _)| {
                                    r == "*"
                                        || t.eq_ignore_ascii_case(r)
                                        || t.to_ascii_lowercase()
                                            .starts_with(&format!("{}-", r.to_ascii_lowercase()))
                                });
                                Expect::LangSet(hit)
                            }
                            Op::Capa => {
                                client.capa().unwrap();
                                Expect::Capa
                            }
                        };
                        expects.push_back(exp);
                    }
                    ops_left = 0;
                    client.quit().unwrap();
                    quit_sent = true;
                    committed_deleted = model_deleted.clone();
                }
                ClientEvent::Capabilities(c) if logged_in => {
                    assert!(
                        matches!(expects.pop_front(), Some(Expect::Capa)),
                        "{trace}: CAPA out of order"
                    );
                    let sc = server.capabilities();
                    assert_eq!(c, sc, "{trace}: capabilities after login differ");
                    if policy {
                        // RFC 2449 6.5: after login the user's own value, no USER token.
                        assert_eq!(
                            c.expire.as_deref(),
                            Some(&b"30"[..]),
                            "{trace}: EXPIRE after login"
                        );
                    }
                }
                ClientEvent::Capabilities(_) | ClientEvent::Greeting(_) => {}
                ClientEvent::Stat(s) => match expects.pop_front() {
                    Some(Expect::Stat(n, size)) => {
                        assert_eq!((s.count, s.size), (n, size), "{trace}: STAT");
                    }
                    other => panic!("{trace}: STAT answered, expected {other:?}"),
                },
                ClientEvent::Listing(v) => match expects.pop_front() {
                    Some(Expect::Listing(want)) => {
                        let got: Vec<(u32, u64)> = v.iter().map(|s| (s.msg, s.size)).collect();
                        assert_eq!(got, want, "{trace}: LIST");
                    }
                    other => panic!("{trace}: LIST answered, expected {other:?}"),
                },
                ClientEvent::Scan(s) => match expects.pop_front() {
                    Some(Expect::Scan(Some(want))) => assert_eq!((s.msg, s.size), want, "{trace}: LIST n"),
                    other => panic!("{trace}: LIST n answered {s:?}, expected {other:?}"),
                },
                ClientEvent::UidListing(v) => match expects.pop_front() {
                    Some(Expect::UidListing(want)) => {
                        let got: Vec<(u32, String)> = v
                            .iter()
                            .map(|u| (u.msg, String::from_utf8_lossy(&u.uid).into_owned()))
                            .collect();
                        assert_eq!(got, want, "{trace}: UIDL");
                    }
                    other => panic!("{trace}: UIDL answered, expected {other:?}"),
                },
                ClientEvent::Uid(u) => match expects.pop_front() {
                    Some(Expect::Uid(Some(want))) => assert_eq!(
                        (u.msg, String::from_utf8_lossy(&u.uid).into_owned()),
                        want,
                        "{trace}: UIDL n"
                    ),
                    other => panic!("{trace}: UIDL n answered {u:?}, expected {other:?}"),
                },
                ClientEvent::MessageStart { msg, uid, .. } if fetching.is_some() => {
                    assert!(body.is_none());
                    assert_eq!(
                        uid.as_deref(),
                        Some(uids[msg as usize - 1].as_bytes()),
                        "{trace}: uid"
                    );
                    match app.decisions.pop_front() {
                        Some(Decision::Body(Some(want))) => body = Some((msg, true, want)),
                        other => panic!("{trace}: message {msg} started but server decided {other:?}"),
                    }
                    fetched_ok.insert(msg);
                }
                ClientEvent::CommandFailed { command: "RETR", .. } if fetching.is_some() => {
                    assert_eq!(
                        app.decisions.pop_front(),
                        Some(Decision::Body(None)),
                        "{trace}: RETR failed"
                    );
                }
                ClientEvent::Deleted(_) if fetching.is_some() => {}
                ClientEvent::FetchDone {
                    fetched,
                    deleted,
                    skipped,
                } => {
                    let mode = fetching.clone().unwrap();
                    let is_known = |k: u32| known.contains(uids[k as usize - 1].as_bytes());
                    let all: Vec<u32> = (1..=nmsg as u32).collect();
                    let (want_skipped, want_deleted): (u32, BTreeSet<u32>) = match mode {
                        FetchMode::Keep => (0, BTreeSet::new()),
                        FetchMode::Delete => (0, fetched_ok.clone()),
                        FetchMode::KeepNew(_) => (
                            all.iter().filter(|k| is_known(**k)).count() as u32,
                            BTreeSet::new(),
                        ),
                        FetchMode::DeleteKnown(_) => (
                            all.iter().filter(|k| is_known(**k)).count() as u32,
                            all.iter()
                                .copied()
                                .filter(|k| is_known(*k) || fetched_ok.contains(k))
                                .collect(),
                        ),
                    };
                    if matches!(mode, FetchMode::KeepNew(_) | FetchMode::DeleteKnown(_)) {
                        assert!(
                            fetched_ok.iter().all(|k| !is_known(*k)),
                            "{trace}: fetched a known message"
                        );
                    }
                    assert_eq!(
                        (fetched, deleted, skipped),
                        (fetched_ok.len() as u32, want_deleted.len() as u32, want_skipped),
                        "{trace}: FetchDone"
                    );
                    fetch_done = true;
                    client.quit().unwrap();
                    quit_sent = true;
                    committed_deleted = want_deleted;
                }
                ClientEvent::MessageStart { msg, .. } => match expects.pop_front() {
                    Some(Expect::Body(k, true)) if k == msg => {
                        assert!(body.is_none());
                        match app.decisions.pop_front() {
                            Some(Decision::Body(Some(want))) => body = Some((msg, true, want)),
                            other => panic!("{trace}: message {msg} started but server decided {other:?}"),
                        }
                    }
                    other => panic!("{trace}: message {msg} started, expected {other:?}"),
                },
                ClientEvent::MessageData(d) => {
                    let b = body.as_mut().expect("data outside a message");
                    let want = &b.2;
                    assert!(want.starts_with(&d), "{trace}: message {} bytes differ", b.0);
                    b.2.drain(..d.len());
                }
                ClientEvent::MessageEnd { msg } => {
                    let b = body.take().expect("end outside a message");
                    assert_eq!(b.0, msg);
                    assert!(
                        b.2.is_empty(),
                        "{trace}: message {msg} short by {} bytes",
                        b.2.len()
                    );
                }
                ClientEvent::Deleted(k) => match expects.pop_front() {
                    Some(Expect::Dele(Some(want))) => assert_eq!(k, want, "{trace}: DELE"),
                    other => panic!("{trace}: DELE {k} answered, expected {other:?}"),
                },
                ClientEvent::Ok { command: "UTF8", .. } if !logged_in => {}
                ClientEvent::Languages(v) => match expects.pop_front() {
                    Some(Expect::Languages(want)) => {
                        let got: Vec<String> = v
                            .iter()
                            .map(|l| String::from_utf8_lossy(&l.tag).into_owned())
                            .collect();
                        assert_eq!(got, want, "{trace}: LANG");
                    }
                    other => panic!("{trace}: LANG listing, expected {other:?}"),
                },
                ClientEvent::Ok { command: "LANG", .. } => {
                    assert!(
                        matches!(expects.pop_front(), Some(Expect::LangSet(true))),
                        "{trace}: LANG +OK"
                    );
                }
                ClientEvent::Ok { command, .. } => match expects.pop_front() {
                    Some(Expect::Ok(want)) => assert_eq!(command, want, "{trace}"),
                    other => panic!("{trace}: +OK to {command}, expected {other:?}"),
                },
                ClientEvent::CommandFailed { command, line } => {
                    if command == "QUIT" || (command == "UTF8" && !logged_in) {
                        continue;
                    }
                    let e = expects.pop_front();
                    match (&e, command) {
                        (Some(Expect::LangSet(false)), "LANG")
                        | (Some(Expect::Scan(None)), "LIST")
                        | (Some(Expect::Uid(None)), "UIDL")
                        | (Some(Expect::Dele(None)), "DELE")
                        | (Some(Expect::Body(_, false)), "RETR" | "TOP") => {}
                        (Some(Expect::Body(_, true)), "RETR" | "TOP") => {
                            assert_eq!(
                                app.decisions.pop_front(),
                                Some(Decision::Body(None)),
                                "{trace}: {command} failed ({line:?}) but the server sent it"
                            );
                        }
                        _ => panic!("{trace}: {command} failed ({line:?}), expected {e:?}"),
                    }
                }
                ClientEvent::Closed { quit_ok } => closed = Some(quit_ok),
                other => panic!("{trace}: unexpected {other:?}"),
            }
        }
        if client_error.is_some() || closed.is_some() {
            // Let the server see the last bytes and the end of the stream.
            while let Some(out) = client.poll_transmit() {
                let out = out.to_vec();
                client.advance_transmit(out.len());
                server.handle_input(&out);
            }
            server.handle_eof();
            let _ = app.drive(&mut server);
            break;
        }
        if !progressed
            && client.poll_transmit().is_none()
            && server.poll_transmit().is_none()
            && let Some(t) = server.poll_timeout()
            && t <= now + Duration::from_secs(5)
        {
            // A failed-login delay: let it pass.
            now = now.max(t);
            server.handle_timeout(now);
            continue;
        }
        if !progressed && client.poll_transmit().is_none() && server.poll_transmit().is_none() {
            panic!(
                "{trace}: stalled (logged_in {logged_in}, {} answers outstanding, next {:?})",
                expects.len(),
                expects.front()
            );
        }
    }
    // Login: the client's view matches the server application's decision.
    match (&client_error, app.login_ok) {
        (None, Some(true)) | (Some(_), Some(false)) => {}
        (Some(e), None) => {
            // The client gave up before any login decision: only for no
            // usable method, TLS refusal, or a SASL exchange it cancelled.
            assert!(
                e.contains("login method") || e.contains("SASL") || e.contains("sasl") || app.cancelled,
                "{trace}: client error before a login decision: {e}"
            );
        }
        (Some(e), Some(true)) => {
            panic!("{trace}: server logged the client in but client failed: {e}")
        }
        (None, other) => panic!("{trace}: client closed without error, login decision {other:?}"),
    }
    if logged_in && fetching.is_some() {
        assert!(fetch_done, "{trace}: fetch never ended");
    }
    if logged_in {
        assert!(quit_sent);
        assert!(expects.is_empty(), "{trace}: unanswered {expects:?}");
        assert_eq!(closed, Some(app.update_ok), "{trace}: QUIT result");
        let want: Vec<u32> = committed_deleted.iter().copied().collect();
        assert_eq!(app.deleted.as_ref(), Some(&want), "{trace}: deletions at QUIT");
    } else {
        assert_eq!(app.deleted, None, "{trace}: deletions without login");
    }
    // RFC 5034 4: a client that cannot go on with the exchange cancels it
    // with "*", which the server must see.
    if app.login_ok.is_none() && app.method.as_deref().is_some_and(|m| m != "USER" && m != "APOP") {
        assert!(
            app.cancelled,
            "{trace}: SASL exchange abandoned without \"*\" ({client_error:?})"
        );
    }
    // Equivalent spellings of the password log in with SASLprep'ing mechanisms.
    if user != "mallory"
        && (user == "alice" || app.method.as_deref() != Some("APOP"))
        && pw != "wrong-password"
        && let Some(m) = app.method.as_deref()
        && (matches!(m, "PLAIN" | "LOGIN" | "SCRAM-SHA-1" | "SCRAM-SHA-256") || (m == "APOP" && utf8_user))
        && !app.cancelled
    {
        assert!(
            app.login_ok == Some(true) || app.injected,
            "{trace}: {m} with an equivalent password failed ({client_error:?})"
        );
    }
    let _ = (now0, LoginMethod::Apop, Bytes::new());
    let key = format!(
        "{} {} {}",
        app.method.as_deref().unwrap_or("-"),
        if logged_in { "in" } else { "out" },
        client_error.as_deref().map_or("ok", |_| "err")
    );
    *stats.entry(key).or_default() += 1;
}

#[test]
fn random_conversations() {
    let n: u64 = std::env::var("PAIR_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let keys: Vec<(ScramKeys, ScramKeys)> = PASSWORDS
        .iter()
        .map(|(p, _)| {
            (
                ScramKeys::derive(ScramHash::Sha1, p, b"saltsalt", 4096).unwrap(),
                ScramKeys::derive(ScramHash::Sha256, p, b"saltsalt", 4096).unwrap(),
            )
        })
        .collect();
    let mut stats = std::collections::BTreeMap::new();
    for seed in 0..n {
        run(seed, &keys, &mut stats);
    }
    eprintln!("{stats:#?}");
}

/// RFC 1939 section 3: "A POP3 server MAY have an inactivity autologout
/// timer. Such a timer MUST be of at least 10 minutes' duration." A client
/// still reading the server's answer (the driver keeps writing it out) is
/// not inactive: it cannot send its next command before the answer has
/// arrived, so the ten minutes count from the moment the answer is out.
#[test]
fn autologout_waits_for_the_answer_to_be_sent() {
    let t0 = Instant::now();
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    let mut s = ServerSession::new(cfg, t0);
    let body: Vec<u8> = b"line of a large message\r\n".repeat(36_000);
    let drain = |s: &mut ServerSession| {
        while let Some(out) = s.poll_transmit() {
            let n = out.len();
            s.advance_transmit(n);
        }
    };
    drain(&mut s);
    s.handle_input_at(b"USER alice\r\nPASS secret\r\n", t0);
    while let Some(ev) = s.poll_event().unwrap() {
        if let ServerEvent::Login { .. } = ev {
            s.auth_finish(AuthOutcome::Success(Maildrop {
                messages: vec![MessageInfo {
                    size: body.len() as u64,
                    uid: "m1".into(),
                }],
            }))
            .unwrap();
        }
    }
    drain(&mut s);
    s.handle_input_at(b"RETR 1\r\n", t0);
    while let Some(ev) = s.poll_event().unwrap() {
        if let ServerEvent::Retrieve { .. } = ev {
            s.message_data(&body).unwrap();
            s.message_end().unwrap();
        }
    }
    // A slow link: 30000 octets a minute, so the answer takes ten minutes
    // and more to go out; the timer is checked every minute.
    let mut minute = 0;
    while s.poll_transmit().is_some() {
        minute += 1;
        let n = s.poll_transmit().unwrap().len().min(30_000);
        s.advance_transmit(n);
        s.handle_timeout(t0 + Duration::from_secs(60 * minute));
        assert!(
            !s.is_closed(),
            "autologout at minute {minute} while the answer was still being sent"
        );
    }
    assert!(minute > 25);
    // Ten idle minutes after the answer went out, the timer may fire.
    s.handle_timeout(t0 + Duration::from_secs(60 * (minute + 11)));
    s.handle_timeout(t0 + Duration::from_secs(60 * (minute + 22)));
    assert!(s.is_closed());
}

/// RFC 6856 2.2: "A client or server that supports APOP and permits UTF-8
/// in usernames or passwords MUST apply SASLprep ... to the username and
/// password used to compute the APOP digest", and "When applying SASLprep,
/// servers MUST reject UTF-8 usernames or passwords that contain a UTF-8
/// character listed in Section 2.3 of SASLprep." check_apop fell back to
/// the unprepared secret when SASLprep refused it, so a digest over a
/// password with a prohibited character (here private use) was accepted.
#[test]
fn check_apop_refuses_a_secret_saslprep_prohibits() {
    let mut cfg = ServerConfig::default();
    cfg.tls_active = true;
    cfg.utf8 = true;
    cfg.utf8_user = true;
    cfg.apop_timestamp = Some("<1896.697170952@dbc.mtview.ca.us>".into());
    let s = ServerSession::new(cfg, Instant::now());
    let ts = b"<1896.697170952@dbc.mtview.ca.us>";
    let secret = "pw\u{E000}x".as_bytes();
    let digest = pop3_proto::apop_digest(ts, secret);
    assert!(
        !s.check_apop(&digest, secret),
        "a digest over a password SASLprep prohibits was accepted"
    );
    // A password SASLprep takes still works, prepared on both sides.
    let digest = pop3_proto::apop_digest(ts, "p\u{e4}ss".as_bytes());
    assert!(s.check_apop(&digest, "pa\u{308}ss".as_bytes()));
}

/// RFC 7628 section 3: "TLS MUST be used for OAUTHBEARER to protect the
/// bearer token", and section 5: "TLS MUST be provided by the application
/// when choosing this authentication mechanism" (XOAUTH2 carries the same
/// bearer token). The server kept only PLAIN and LOGIN back until TLS, so a
/// configured OAUTHBEARER or XOAUTH2 was offered in CAPA before STLS and a
/// bearer token was taken in the clear.
#[test]
fn bearer_token_mechanisms_wait_for_tls() {
    let mut cfg = ServerConfig::default();
    cfg.stls = true;
    cfg.sasl_mechanisms = vec!["SCRAM-SHA-256".into(), "OAUTHBEARER".into(), "XOAUTH2".into()];
    let mut s = ServerSession::new(cfg, Instant::now());
    let sasl: Vec<Vec<u8>> = s.capabilities().sasl.iter().map(|m| m.to_vec()).collect();
    assert_eq!(sasl, [b"SCRAM-SHA-256".to_vec()], "offered before TLS");
    proto_core::drain_transmit(&mut s);
    // n,a=user@example.com,^Aauth=Bearer token^A^A
    s.handle_input(b"AUTH OAUTHBEARER bixhPXVzZXJAZXhhbXBsZS5jb20sAWF1dGg9QmVhcmVyIHRva2VuAQE=\r\n");
    let ev = s.poll_event().unwrap();
    assert!(
        !matches!(ev, Some(ServerEvent::AuthStart { .. })),
        "bearer token taken without TLS: {ev:?}"
    );
    assert!(proto_core::drain_transmit(&mut s).starts_with(b"-ERR"));
    // Under TLS they are offered.
    s.handle_input(b"STLS\r\n");
    assert_eq!(s.poll_event().unwrap(), Some(ServerEvent::StartTls));
    s.tls_established().unwrap();
    assert_eq!(s.capabilities().sasl.len(), 3);
}
