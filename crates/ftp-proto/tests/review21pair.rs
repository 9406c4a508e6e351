//! Review session 21, differential pair: ftp-proto's ClientSession against
//! its ServerSession through byte buffers split at random, with scripted
//! applications on both sides, simulated data connections and a virtual
//! clock. Every conversation checks: no panic, each client result matches
//! what the server application decided, each transfer's bytes arrive
//! exactly (at the offset asked for, in the type asked for), no refusal the
//! applications did not inject, both ends closed after QUIT, and no timeout
//! while every wait stays below its limit.
//!
//! The focused tests at the end failed on the code before their fixes.

use ftp_proto::client::{ClientEvent, ClientTls, ClientTransferKind, DataTarget};
use ftp_proto::server::{DataFailure, DataMode, Outcome, Request, TlsPolicy, TransferId, TransferKind};
use ftp_proto::{ClientConfig, ClientSession, Limits, ServerConfig, ServerEvent, ServerSession, Timestamp};
use proto_core::Secret;
use std::collections::BTreeMap;
use std::net::SocketAddr;
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
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const SERVER: &str = "192.0.2.1:21";
const CLIENT: &str = "192.0.2.10:40000";
const SERVER6: &str = "[2001:db8::1]:21";
const CLIENT6: &str = "[2001:db8::10]:40000";

/// What the client application is waiting for.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Nothing,
    /// A simple operation: success unless the server application refused.
    Simple {
        refused: bool,
        value: Option<Vec<u8>>,
    },
    /// A transfer.
    Transfer {
        id: TransferId,
        kind: ClientTransferKind,
        path: Vec<u8>,
        offset: u64,
        upload: Vec<u8>,
        refused: bool,
        aborted: bool,
    },
    Quit,
}

/// The server's view of a transfer: id, kind, offset, (ascii, protected),
/// path, data mode.
type ServerSide = (
    TransferId,
    TransferKind,
    u64,
    (bool, bool),
    Option<Vec<u8>>,
    DataMode,
);

#[derive(Debug, Default)]
struct Chan {
    /// Server side: its transfer id, kind, offset, ascii, path, passive port or active address.
    server: Option<ServerSide>,
    /// Client side: its id, target, kind, ascii.
    client: Option<(TransferId, DataTarget, ClientTransferKind, (bool, bool))>,
    done: bool,
}

struct Pair {
    rng: Rng,
    now: Instant,
    start: Instant,
    client: ClientSession,
    server: ServerSession,
    files: BTreeMap<Vec<u8>, Vec<u8>>,
    expect: Expect,
    log: Vec<String>,
    passive_port: Option<u16>,
    listener: Option<SocketAddr>,
    chan: Chan,
    /// Replies 4xx/5xx the applications or ABOR caused: the rest are desync.
    injected_negative: usize,
    negative_seen: usize,
    logged_in: bool,
    closed_client: bool,
    closed_server: bool,
    /// The server died ([`Pair::maybe_cut`]): its session is dropped as it
    /// is, not closed (its end of input no longer closes a session that
    /// still owes a transfer's reply).
    server_died: bool,
    text_mode: bool,
    server_text: Vec<u8>,
    received: Vec<u8>,
    stored: Vec<u8>,
    ops: usize,
    sent_421: bool,
    /// When bytes last moved on the control connection.
    last_activity: Instant,
    /// The server closed for idleness.
    idle_closed: bool,
    saw_closed: bool,
    failed_logins: u32,
    login_limit: u32,
    login_limit_hit: bool,
    /// The server as the client sees it, and as the server's sockets do.
    server_addr: SocketAddr,
    server_own: SocketAddr,
    /// The client's own address (its listeners).
    client_addr: SocketAddr,
}

fn fail(p: &Pair, why: &str) -> ! {
    panic!(
        "seed conversation failed: {why}\nlog:\n{}\nserver wrote:\n{}",
        p.log.join("\n"),
        String::from_utf8_lossy(&p.server_text)
    );
}

impl Pair {
    fn new(seed: u64) -> Pair {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        // IPv4, IPv6, or IPv4 seen by the server on a dual-stack socket
        // (IPv4-mapped IPv6 addresses for the peer and its own listeners).
        let family = rng.below(4);
        let (server_addr, client_addr): (SocketAddr, SocketAddr) = match family {
            0 => (SERVER6.parse().unwrap(), CLIENT6.parse().unwrap()),
            1 => (
                SERVER.parse().unwrap(),
                "[::ffff:192.0.2.10]:40000".parse().unwrap(),
            ),
            _ => (SERVER.parse().unwrap(), CLIENT.parse().unwrap()),
        };
        let server_own: SocketAddr = if family == 1 {
            "[::ffff:192.0.2.1]:21".parse().unwrap()
        } else {
            server_addr
        };
        let now = Instant::now();
        let limits = Limits {
            idle_timeout: Duration::from_secs(300),
            reply_timeout: Duration::from_secs(100),
            failed_login_delay: Duration::from_secs(rng.below(2)),
            failed_login_limit: 1 + rng.below(3) as u32,
            ..Limits::default()
        };
        let tls = match rng.below(3) {
            0 => TlsPolicy::Unavailable,
            1 => TlsPolicy::Optional,
            _ => TlsPolicy::Required,
        };
        let client_tls = match (tls, rng.below(3)) {
            (TlsPolicy::Required, _) => ClientTls::Required,
            (TlsPolicy::Unavailable, _) | (_, 0) => ClientTls::Never,
            (_, 1) => ClientTls::IfOffered,
            _ => ClientTls::Required,
        };
        let server = ServerSession::new(
            ServerConfig {
                limits,
                tls,
                ..ServerConfig::default()
            },
            client_addr,
            now,
        );
        let client = ClientSession::new(
            ClientConfig {
                limits,
                user: b"alice".to_vec(),
                password: Secret::new(b"secret".to_vec()),
                account: rng.chance(80).then(|| b"acct1".to_vec()),
                tls: client_tls,
                passive: rng.chance(60),
                extended: rng.chance(60),
                use_pasv_host: rng.chance(30),
                ..ClientConfig::default()
            },
            server_addr,
            now,
        );
        let mut files = BTreeMap::new();
        files.insert(b"/a.txt".to_vec(), b"line one\nline two\n".to_vec());
        files.insert(b"/b.bin".to_vec(), (0..=255u8).collect());
        files.insert(b"/odd \xff\xfe name".to_vec(), b"odd\xff".to_vec());
        files.insert(b"/cr\rin name".to_vec(), b"cr\r\n".to_vec());
        files.insert(b"/empty".to_vec(), Vec::new());
        Pair {
            rng,
            now,
            start: now,
            client,
            server,
            files,
            expect: Expect::Nothing,
            log: Vec::new(),
            passive_port: None,
            listener: None,
            chan: Chan::default(),
            injected_negative: 0,
            negative_seen: 0,
            logged_in: false,
            closed_client: false,
            closed_server: false,
            server_died: false,
            text_mode: false,
            server_text: Vec::new(),
            received: Vec::new(),
            stored: Vec::new(),
            ops: 0,
            sent_421: false,
            last_activity: now,
            idle_closed: false,
            saw_closed: false,
            failed_logins: 0,
            login_limit: limits.failed_login_limit,
            login_limit_hit: false,
            server_addr,
            server_own,
            client_addr: if family == 1 {
                CLIENT.parse().unwrap()
            } else {
                client_addr
            },
        }
    }

    fn t(&self) -> u64 {
        (self.now - self.start).as_secs()
    }

    fn move_bytes(&mut self) {
        loop {
            let mut moved = false;
            if let Some(out) = self.client.poll_transmit() {
                let n = (1 + self.rng.below(9) as usize).min(out.len());
                let piece = out[..n].to_vec();
                self.log
                    .push(format!("t={} C> {:?}", self.t(), String::from_utf8_lossy(&piece)));
                self.server.handle_input(&piece);
                self.client.advance_transmit(n);
                moved = true;
            }
            if let Some(out) = self.server.poll_transmit() {
                let n = (1 + self.rng.below(9) as usize).min(out.len());
                let piece = out[..n].to_vec();
                self.server_text.extend_from_slice(&piece);
                self.client.handle_input(&piece);
                self.server.advance_transmit(n);
                moved = true;
            }
            if !moved {
                break;
            }
            self.last_activity = self.now;
        }
    }

    fn count_negatives(&mut self) {
        let text = self.server_text.clone();
        self.negative_seen = text
            .split(|&c| c == b'\n')
            .filter(|l| l.len() >= 4 && matches!(l[0], b'4' | b'5') && l[3] == b' ')
            .count();
    }

    /// Lets `d` pass as a driver does: a call to `handle_timeout` at each
    /// instant either side's `poll_timeout` names.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            let next = [self.server.poll_timeout(), self.client.poll_timeout()]
                .into_iter()
                .flatten()
                .filter(|&t| t > self.now && t <= end)
                .min();
            match next {
                Some(t) => {
                    self.now = t;
                    self.tick(0);
                }
                None => break,
            }
        }
        self.now = end;
        self.tick(0);
    }

    fn tick(&mut self, max_secs: u64) {
        self.now += Duration::from_millis(self.rng.below(max_secs * 1000 + 1));
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            let was_closed = self.server.is_closed();
            self.server.handle_timeout(self.now);
            if self.server.is_closed() && !was_closed && !self.login_limit_hit {
                // Only the idle timeout closes it here: never before its time.
                if self.now - self.last_activity < Duration::from_secs(300) {
                    fail(self, "server idle timeout fired early");
                }
                self.idle_closed = true;
                self.injected_negative += 1;
            }
        }
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
    }

    fn server_events(&mut self) {
        loop {
            let ev = match self.server.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return,
                Err(e) => {
                    if self.closed_server {
                        return;
                    }
                    if (self.idle_closed && e.kind == ftp_proto::ErrorKind::Timeout)
                        || (self.login_limit_hit && e.kind == ftp_proto::ErrorKind::Limit)
                    {
                        self.closed_server = true;
                        return;
                    }
                    fail(self, &format!("server error {e:?}"))
                }
            };
            self.log.push(format!("t={} S: {ev:?}", self.t()));
            match ev {
                ServerEvent::Login { user, password, .. } => {
                    assert_eq!(&user[..], b"alice");
                    assert_eq!(password.expose(), b"secret");
                    match self.rng.below(10) {
                        0 => {
                            self.injected_negative += 1;
                            self.failed_logins += 1;
                            self.login_limit_hit = self.failed_logins >= self.login_limit;
                            self.server.login_reject(self.now).unwrap();
                        }
                        1 | 2 => self.server.login_need_account().unwrap(),
                        _ => self.server.login_accept().unwrap(),
                    }
                }
                ServerEvent::Account { account, .. } => {
                    assert_eq!(&account[..], b"acct1");
                    self.server.login_accept().unwrap();
                }
                ServerEvent::StartTls => {
                    self.move_bytes();
                    self.server.tls_established().unwrap();
                }
                ServerEvent::PassiveListen { .. } => {
                    if self.rng.chance(8) {
                        self.injected_negative += 1;
                        self.refuse();
                        self.server.passive_failed().unwrap();
                    } else {
                        let port = 50000 + self.rng.below(1000) as u16;
                        self.passive_port = Some(port);
                        let ip = self.server_own.ip();
                        self.server.passive_ready(SocketAddr::new(ip, port)).unwrap();
                    }
                }
                ServerEvent::OpenDataChannel { mode, transfer } => {
                    let path = transfer.path.as_ref().map(|p| p.to_vec());
                    if self.chan.server.is_some() {
                        fail(self, "two server transfers at once");
                    }
                    self.chan.server = Some((
                        transfer.id,
                        transfer.kind,
                        transfer.offset,
                        (transfer.ascii, transfer.protected),
                        path,
                        mode,
                    ));
                    self.chan.done = false;
                }
                ServerEvent::AbortTransfer(id) => {
                    if self.chan.server.as_ref().is_some_and(|s| s.0 == id) {
                        self.chan.server = None;
                        self.chan.done = true;
                    }
                    self.injected_negative += 1; // the 426
                }
                ServerEvent::Request(r) => self.answer(&r),
                ServerEvent::Reinitialized => {}
                ServerEvent::Closed(_) => self.closed_server = true,
                other => fail(self, &format!("unexpected server event {other:?}")),
            }
        }
    }

    fn refuse(&mut self) {
        match &mut self.expect {
            Expect::Simple { refused, .. } | Expect::Transfer { refused, .. } => *refused = true,
            _ => {}
        }
    }

    fn answer(&mut self, r: &Request) {
        if self.rng.chance(5) {
            // A slow application: below the client's reply timeout.
            self.advance(Duration::from_secs(60));
        }
        if self.rng.chance(3) {
            self.injected_negative += 1;
            self.refuse();
            self.sent_421 = true;
            self.server
                .complete(Outcome::Failed(421, b"Service shutting down".to_vec()))
                .unwrap();
            return;
        }
        if self.rng.chance(12) {
            self.injected_negative += 1;
            self.refuse();
            let code = [450, 550, 553, 451][self.rng.below(4) as usize];
            self.server
                .complete(Outcome::Failed(code, b"no way".to_vec()))
                .unwrap();
            return;
        }
        let outcome = match r {
            Request::Size { path, ascii } => {
                if *ascii != self.text_mode {
                    fail(self, "SIZE asked in the wrong TYPE");
                }
                match self.files.get(&path[..]) {
                    Some(f) => {
                        let n = if *ascii {
                            f.len() + f.iter().filter(|&&c| c == b'\n').count()
                        } else {
                            f.len()
                        } as u64;
                        if let Expect::Simple { value, .. } = &mut self.expect {
                            *value = Some(n.to_string().into_bytes());
                        }
                        Outcome::Size(n)
                    }
                    None => {
                        self.injected_negative += 1;
                        self.refuse();
                        Outcome::NotFound
                    }
                }
            }
            Request::ModTime(_) => Outcome::Time(Timestamp::new(2024, 1, 2, 3, 4, 5).unwrap()),
            Request::Mlst { .. } => {
                if let Expect::Simple { value, .. } = &mut self.expect {
                    *value = Some(b"type=file; x".to_vec());
                }
                Outcome::Lines(vec![b"type=file; x".to_vec()])
            }
            _ => Outcome::Ok,
        };
        self.server.complete(outcome).unwrap();
    }

    fn client_events(&mut self) {
        loop {
            let ev = match self.client.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return,
                Err(e) => fail(self, &format!("client error {e:?}")),
            };
            self.log.push(format!("t={} C: {ev:?}", self.t()));
            if self.saw_closed {
                fail(self, "client event after Closed");
            }
            match ev {
                ClientEvent::StartTls => {
                    self.move_bytes();
                    self.client.tls_established().unwrap();
                }
                ClientEvent::LoggedIn => self.logged_in = true,
                ClientEvent::LoginFailed(r) => {
                    if matches!(r.code, 530 | 421 | 332) {
                        self.closed_client = true;
                        self.expect = Expect::Nothing;
                    } else {
                        fail(self, "login failed without a reject");
                    }
                }
                ClientEvent::Done { op, .. } => self.simple_result(true, None, &format!("{op:?}")),
                ClientEvent::Pwd(p) => {
                    if p != self.server.cwd() {
                        fail(self, &format!("PWD {p:?}, server is in {:?}", self.server.cwd()));
                    }
                    self.simple_result(true, None, "pwd");
                }
                ClientEvent::Size(n) => self.simple_result(true, Some(n.to_string().as_bytes()), "size"),
                ClientEvent::Modified(_) => self.simple_result(true, None, "mdtm"),
                ClientEvent::MlstEntry(e) => self.simple_result(true, Some(&e), "mlst"),
                ClientEvent::Failed { op, .. } => self.simple_result(false, None, &format!("{op:?}")),
                ClientEvent::Listen(id) => {
                    let addr = SocketAddr::new(self.client_addr.ip(), 41000 + self.rng.below(1000) as u16);
                    self.listener = Some(addr);
                    self.client.data_listening(id, addr).unwrap();
                }
                ClientEvent::OpenDataChannel {
                    id,
                    target,
                    kind,
                    ascii,
                    protected,
                } => {
                    self.chan.client = Some((id, target, kind, (ascii, protected)));
                }
                ClientEvent::TransferStarted(_) => {}
                ClientEvent::TransferComplete { id, .. } => self.transfer_result(id, true),
                ClientEvent::TransferFailed { id, .. } => self.transfer_result(id, false),
                ClientEvent::Aborted(id) => {
                    match &self.expect {
                        Expect::Transfer {
                            id: i, aborted: true, ..
                        } if *i == id => {}
                        _ => fail(self, "Aborted without an abort"),
                    }
                    self.expect = Expect::Nothing;
                    self.chan.client = None;
                }
                ClientEvent::Closed(r) => {
                    self.closed_client = true;
                    self.saw_closed = true;
                    if self.expect != Expect::Quit && r.code != 421 {
                        fail(self, "closed without QUIT");
                    }
                    self.expect = Expect::Nothing;
                }
                other => fail(self, &format!("unexpected client event {other:?}")),
            }
        }
    }

    fn simple_result(&mut self, ok: bool, got: Option<&[u8]>, what: &str) {
        let Expect::Simple { refused, value } = self.expect.clone() else {
            fail(
                self,
                &format!("simple result {what} while expecting {:?}", self.expect),
            );
        };
        if ok == refused {
            fail(
                self,
                &format!("{what}: client says ok={ok}, server app refused={refused}"),
            );
        }
        if got.is_some() && got != value.as_deref() {
            fail(
                self,
                &format!("{what}: value {got:?} but server answered {value:?}"),
            );
        }
        self.expect = Expect::Nothing;
    }

    fn transfer_result(&mut self, id: TransferId, ok: bool) {
        let Expect::Transfer {
            id: want,
            kind,
            path,
            offset,
            upload,
            refused,
            aborted,
        } = self.expect.clone()
        else {
            fail(self, "transfer result while no transfer");
        };
        if want != id {
            fail(self, "transfer result for another id");
        }
        if aborted {
            // ABOR raced the end: either result is fine, Aborted follows.
            return;
        }
        if ok == refused {
            fail(self, &format!("transfer ok={ok}, server app refused={refused}"));
        }
        if ok {
            match kind {
                ClientTransferKind::Retr => {
                    let f = self.files.get(&path).cloned().unwrap_or_default();
                    let want = f.get(offset as usize..).unwrap_or_default().to_vec();
                    if self.received != want {
                        fail(self, "downloaded bytes differ");
                    }
                }
                ClientTransferKind::Stor | ClientTransferKind::Appe => {
                    if self.stored != upload {
                        fail(self, "uploaded bytes differ");
                    }
                }
                _ => {
                    if self.received != b"listing\r\n" {
                        fail(self, "listing bytes differ");
                    }
                }
            }
        }
        self.expect = Expect::Nothing;
        self.chan = Chan::default();
    }

    /// The simulated data connection: once both ends know of it.
    fn data(&mut self) {
        if self.chan.done {
            return;
        }
        let (Some(s), Some(c)) = (self.chan.server.clone(), self.chan.client) else {
            return;
        };
        if !self.rng.chance(50) {
            return;
        }
        let (sid, skind, soffset, sascii, spath, mode) = s;
        let (cid, target, ckind, cascii) = c;
        match (mode, target) {
            (DataMode::Passive | DataMode::ExtendedPassive, DataTarget::Connect(a)) => {
                if Some(a.port()) != self.passive_port || a.ip() != self.server_addr.ip() {
                    fail(self, "client connects to another address");
                }
            }
            (DataMode::Active(a) | DataMode::ExtendedActive(a), DataTarget::Accept) => {
                if Some(a) != self.listener {
                    fail(self, "server connects to another address");
                }
            }
            _ => fail(self, "data modes disagree"),
        }
        if sascii != cascii {
            fail(self, "TYPE or PROT disagrees");
        }
        let Expect::Transfer {
            kind,
            path,
            offset,
            upload,
            ..
        } = self.expect.clone()
        else {
            fail(self, "data connection without a transfer");
        };
        let want_kind = match kind {
            ClientTransferKind::Retr => TransferKind::Retrieve,
            ClientTransferKind::Stor => TransferKind::Store,
            ClientTransferKind::Appe => TransferKind::Append,
            ClientTransferKind::List => TransferKind::List,
            ClientTransferKind::Nlst => TransferKind::NameList,
            ClientTransferKind::Mlsd => TransferKind::MachineList,
        };
        if skind != want_kind || ckind != kind {
            fail(
                self,
                &format!("kinds disagree: server {skind:?} client {ckind:?} wanted {kind:?}"),
            );
        }
        if soffset != offset {
            fail(
                self,
                &format!("server got offset {soffset}, client asked {offset}"),
            );
        }
        if matches!(
            kind,
            ClientTransferKind::Retr | ClientTransferKind::Stor | ClientTransferKind::Appe
        ) && spath.as_deref() != Some(&path[..])
        {
            fail(self, "paths disagree");
        }
        self.chan.done = true;
        if self.rng.chance(8) {
            self.injected_negative += 1;
            self.refuse();
            let why = [
                DataFailure::Connect,
                DataFailure::Lost,
                DataFailure::Local,
                DataFailure::Unavailable,
                DataFailure::StorageExceeded,
            ][self.rng.below(5) as usize];
            self.server.data_failed(sid, why).unwrap();
            let _ = self.client.data_closed(cid);
            return;
        }
        // 150, 125 (a connection kept open), or none before the 226.
        let preliminary = match self.rng.below(4) {
            0 => self.server.data_reused(sid).is_ok(),
            1 => false,
            _ => self.server.data_connected(sid).is_ok(),
        };
        self.move_bytes();
        // Long transfers: after the 150 no reply is due on either side.
        if preliminary && self.rng.chance(10) {
            self.server_events();
            self.client_events();
            self.advance(Duration::from_secs(1000));
        }
        self.received.clear();
        self.stored.clear();
        let bytes = if kind.is_download() {
            let data = if kind == ClientTransferKind::Retr {
                let f = self.files.get(&path).cloned().unwrap_or_default();
                f.get(offset as usize..).unwrap_or_default().to_vec()
            } else {
                b"listing\r\n".to_vec()
            };
            self.received = data.clone();
            data.len()
        } else {
            self.stored = upload.clone();
            let f = self.files.entry(path.clone()).or_default();
            if kind == ClientTransferKind::Appe {
                f.extend_from_slice(&upload);
            } else {
                f.truncate(offset as usize);
                f.extend_from_slice(&upload);
            }
            upload.len()
        };
        if self.rng.chance(50) {
            self.server.data_finished(sid, bytes as u64).unwrap();
            self.move_bytes();
            self.client_events();
            let _ = self.client.data_closed(cid);
        } else {
            let _ = self.client.data_closed(cid);
            self.client_events();
            self.server.data_finished(sid, bytes as u64).unwrap();
        }
    }

    fn start_op(&mut self) {
        if !self.logged_in || self.expect != Expect::Nothing || !self.client.is_ready() {
            return;
        }
        self.ops += 1;
        if self.rng.chance(5) {
            // The user thinks for a while: below the server's idle timeout.
            self.advance(Duration::from_secs(250));
        } else if self.rng.chance(2) {
            // Past it: the server closes with 421.
            self.advance(Duration::from_secs(700));
            if !self.server.is_closed() {
                fail(self, "server not closed after 700 s idle");
            }
        }
        self.received.clear();
        self.stored.clear();
        self.chan = Chan::default();
        let paths: [&[u8]; 3] = [b"/a.txt", b"/b.bin", b"/new.dat"];
        let path = paths[self.rng.below(3) as usize].to_vec();
        let simple = Expect::Simple {
            refused: false,
            value: None,
        };
        if self.ops > 12 {
            self.client.quit().unwrap();
            self.expect = Expect::Quit;
            return;
        }
        let pick = self.rng.below(16);
        if pick == 15 {
            self.text_mode = !self.text_mode;
            self.client.set_text_mode(self.text_mode);
        }
        let r = match pick {
            0 => {
                let dirs: [&[u8]; 4] = [b"/pub", b"/q \"quoted\" dir", b"/\xff\xffdir", b"/cr\rdir "];
                let d = dirs[self.rng.below(4) as usize];
                if self.rng.chance(50) {
                    self.client.cwd(d).map(|()| simple)
                } else {
                    self.client.pwd().map(|()| simple)
                }
            }
            1 => self.client.mkdir(b"dir").map(|()| simple),
            2 => self.client.delete(&path).map(|()| simple),
            3 => self.client.rename(&path, b"/renamed").map(|()| simple),
            4 => self.client.size(&path).map(|()| simple),
            5 => self.client.mdtm(&path).map(|()| simple),
            6 => self.client.mlst(Some(&path)).map(|()| simple),
            7 => self.client.noop().map(|()| simple),
            _ => {
                let len = self.files.get(&path).map_or(0, Vec::len) as u64;
                let offset = if self.rng.chance(40) {
                    self.rng.below(len + 1)
                } else {
                    0
                };
                let upload: Vec<u8> = (0..self.rng.below(40)).map(|i| b'a' + (i % 26) as u8).collect();
                let (kind, r) = match pick {
                    8 | 9 => (ClientTransferKind::Retr, self.client.retr(&path, offset)),
                    10 => (ClientTransferKind::Stor, self.client.stor(&path, offset)),
                    11 => (ClientTransferKind::Appe, self.client.appe(&path)),
                    12 => (ClientTransferKind::List, self.client.list(None)),
                    13 => (ClientTransferKind::Nlst, self.client.nlst(None)),
                    _ => (ClientTransferKind::Mlsd, self.client.mlsd(None)),
                };
                let offset = if matches!(kind, ClientTransferKind::Retr | ClientTransferKind::Stor) {
                    offset
                } else {
                    0
                };
                r.map(|id| Expect::Transfer {
                    id,
                    kind,
                    path,
                    offset,
                    upload,
                    refused: false,
                    aborted: false,
                })
            }
        };
        self.log.push(format!("t={} APP: {:?}", self.t(), r));
        self.expect = r.unwrap();
        if self.idle_closed {
            self.refuse();
        }
    }

    /// The server dies at a random point: what it had not sent yet is lost,
    /// the client gets a 421 in its place and then the end of the stream.
    fn maybe_cut(&mut self) {
        if self.closed_client || self.closed_server || !self.rng.chance(1) || self.chan.done {
            return;
        }
        self.log.push(format!("t={} CUT: 421", self.t()));
        self.client.handle_input(b"421 Service shutting down\r\n");
        self.client.handle_eof();
        self.server.handle_eof();
        self.closed_server = true;
        self.server_died = true;
        self.refuse();
        self.client_events();
        if !self.saw_closed {
            fail(self, "no Closed after a 421");
        }
    }

    fn maybe_abort(&mut self) {
        if let Expect::Transfer { aborted, .. } = &mut self.expect
            && !*aborted
            && self.rng.chance(3)
        {
            // The transfer may have ended with its events not yet read.
            let r = self.client.abort();
            self.log.push(format!("APP: abort {r:?}"));
            *aborted = r.is_ok();
        }
    }

    fn run(&mut self) {
        for _ in 0..3000 {
            self.move_bytes();
            self.server_events();
            self.move_bytes();
            self.client_events();
            self.data();
            self.maybe_cut();
            self.maybe_abort();
            self.start_op();
            self.tick(3);
            if self.closed_client && self.closed_server {
                break;
            }
            if self.closed_client && self.client.poll_transmit().is_none() {
                // A client that closed after a 421 or a refused login: the
                // server must have closed too, or the client disconnects.
                self.move_bytes();
                self.server_events();
                if !self.server.is_closed() {
                    if self.sent_421 {
                        fail(self, "server still open after its 421");
                    }
                    self.server.handle_eof();
                }
                self.closed_server = true;
                break;
            }
        }
        self.move_bytes();
        self.server_events();
        self.client_events();
        if !(self.closed_client && self.client.is_closed()) {
            fail(self, "client not closed at the end");
        }
        if !self.server.is_closed() && !self.server_died {
            fail(self, "server not closed at the end");
        }
        if !matches!(self.expect, Expect::Nothing) {
            fail(self, &format!("conversation ended waiting for {:?}", self.expect));
        }
        self.count_negatives();
        if self.negative_seen > self.injected_negative {
            fail(
                self,
                &format!(
                    "{} negative replies, {} injected",
                    self.negative_seen, self.injected_negative
                ),
            );
        }
    }
}

#[test]
fn random_conversations_agree() {
    let mut totals = Vec::new();
    for seed in 1..=600u64 {
        let r = std::panic::catch_unwind(|| {
            let mut p = Pair::new(seed);
            p.run();
            let n = |w: &str| p.log.iter().filter(|l| l.contains(w)).count();
            (
                n("TransferComplete"),
                n("Aborted("),
                n("LoggedIn"),
                n("Failed {"),
                n("StartTls"),
                n("Size("),
            )
        });
        match r {
            Ok(stats) => totals.push(stats),
            Err(e) => {
                eprintln!("seed {seed}");
                std::panic::resume_unwind(e);
            }
        }
    }
    let sum = totals.iter().fold((0, 0, 0, 0, 0, 0), |a, b| {
        (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3, a.4 + b.4, a.5 + b.5)
    });
    eprintln!("complete/aborted/loggedin/failed/tls/size: {sum:?}");
    assert!(sum.0 > 400 && sum.1 > 10 && sum.2 > 200);
}

/// A server logged in as alice at `now`, its output drained.
fn logged_in_server(now: Instant, limits: Limits) -> ServerSession {
    let mut s = ServerSession::new(
        ServerConfig {
            limits,
            ..ServerConfig::default()
        },
        CLIENT.parse().unwrap(),
        now,
    );
    s.handle_input(b"USER alice\r\nPASS secret\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Login { .. })));
    s.login_accept().unwrap();
    proto_core::drain_transmit(&mut s);
    s
}

/// Runs the server's clock from `from` to `to` as a driver does: a call to
/// `handle_timeout` at each instant `poll_timeout` names.
fn run_clock(s: &mut ServerSession, to: Instant) {
    while let Some(t) = s.poll_timeout().filter(|&t| t <= to) {
        s.handle_timeout(t);
        if s.is_closed() {
            return;
        }
    }
}

// RFC 1123 4.1.3.2: the idle timeout closes the connection "if the server is
// inactive (i.e., no command or data transfer in progress) for a long period
// of time". Limits::idle_timeout: "Idle time before the server closes the
// control connection with 421". After a transfer longer than the timeout,
// the client must get the whole period from the 226, not what is left of a
// period that started during the transfer.
#[test]
fn server_idle_time_counts_from_the_end_of_a_long_transfer() {
    let t0 = Instant::now();
    let idle = Duration::from_secs(300);
    let mut s = logged_in_server(
        t0,
        Limits {
            idle_timeout: idle,
            ..Limits::default()
        },
    );
    s.handle_input(b"PASV\r\n");
    assert!(matches!(
        s.poll_event().unwrap(),
        Some(ServerEvent::PassiveListen { .. })
    ));
    s.passive_ready("192.0.2.1:50000".parse().unwrap()).unwrap();
    s.handle_input(b"RETR /f\r\n");
    let Some(ServerEvent::OpenDataChannel { transfer, .. }) = s.poll_event().unwrap() else {
        panic!("no transfer");
    };
    s.data_connected(transfer.id).unwrap();
    let end = t0 + idle * 10 + Duration::from_secs(290);
    run_clock(&mut s, end);
    assert!(!s.is_closed(), "closed during the transfer");
    s.data_finished(transfer.id, 5).unwrap();
    proto_core::drain_transmit(&mut s);
    run_clock(&mut s, end + idle - Duration::from_secs(1));
    assert!(
        !s.is_closed(),
        "idle timeout fired less than idle_timeout after the 226"
    );
    run_clock(&mut s, end + idle * 2);
    assert!(s.is_closed(), "an idle session must still time out");
}

// RFC 1123 4.1.3.2 as above: while the application decides on a request
// "no command ... [is] in progress" is false; the idle period starts when
// its answer goes out.
#[test]
fn server_idle_time_counts_from_a_slow_answer() {
    let t0 = Instant::now();
    let idle = Duration::from_secs(300);
    let mut s = logged_in_server(
        t0,
        Limits {
            idle_timeout: idle,
            ..Limits::default()
        },
    );
    s.handle_input(b"CWD /pub\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Request(_))));
    let answered = t0 + idle + Duration::from_secs(290);
    run_clock(&mut s, answered);
    assert!(!s.is_closed());
    s.complete(Outcome::Ok).unwrap();
    proto_core::drain_transmit(&mut s);
    run_clock(&mut s, answered + idle - Duration::from_secs(1));
    assert!(
        !s.is_closed(),
        "idle timeout fired less than idle_timeout after the 250"
    );
}
// RFC 959 4.2: "421 Service not available, closing control connection. This
// may be a reply to any command if the service knows it must shut down."
// An application that answers a request with 421 has the client close; the
// server session must close too, not read and act on further commands.
#[test]
fn server_closes_after_an_application_421() {
    let t0 = Instant::now();
    let mut s = logged_in_server(t0, Limits::default());
    s.handle_input(b"DELE /f\r\nDELE /g\r\n");
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Request(_))));
    s.complete(Outcome::Failed(421, b"Shutting down".to_vec()))
        .unwrap();
    let out = proto_core::drain_transmit(&mut s);
    assert!(out.starts_with(b"421 "));
    assert!(
        !matches!(s.poll_event(), Ok(Some(ServerEvent::Request(_)))),
        "a command after the 421 was acted on"
    );
    assert!(s.is_closed(), "session still open after sending 421");
}

/// Moves every pending byte both ways until neither side has more.
fn pump(c: &mut ClientSession, s: &mut ServerSession) {
    while proto_core::transfer(c, s, 3) + proto_core::transfer(s, c, 3) > 0 {}
}

// RFC 959 4.2: a 3yz means "the command has been accepted, but the
// requested action is being held in abeyance, pending receipt of further
// information", and 4.1.1 (ACCT): after a 332 to a command "the command is
// held pending". The session holds no SITE pending, so an application
// answering SITE with 332 made the client send ACCT, the session answer
// 202 itself, and the client report the SITE as done though nothing was
// carried out. The session must not send a 3yz it has no next step for;
// the application then answers with a failure.
#[test]
fn site_answered_with_3yz_is_not_reported_done() {
    let t0 = Instant::now();
    let mut s = ServerSession::new(
        ServerConfig {
            tls: TlsPolicy::Unavailable,
            ..ServerConfig::default()
        },
        CLIENT.parse().unwrap(),
        t0,
    );
    let mut c = ClientSession::new(
        ClientConfig {
            user: b"alice".to_vec(),
            password: Secret::new(b"secret".to_vec()),
            account: Some(b"acct1".to_vec()),
            tls: ClientTls::Never,
            ..ClientConfig::default()
        },
        SERVER.parse().unwrap(),
        t0,
    );
    let mut result = None;
    for _ in 0..50 {
        pump(&mut c, &mut s);
        while let Some(ev) = s.poll_event().unwrap() {
            match ev {
                ServerEvent::Login { .. } => s.login_accept().unwrap(),
                ServerEvent::Request(Request::Site(_)) => {
                    if s.complete(Outcome::Reply(332, b"Need account for SITE".to_vec()))
                        .is_err()
                    {
                        s.complete(Outcome::Failed(502, b"Not here".to_vec())).unwrap();
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        pump(&mut c, &mut s);
        while let Some(ev) = c.poll_event().unwrap() {
            match ev {
                ClientEvent::LoggedIn => c.site(b"CHMOD 600 f").unwrap(),
                ClientEvent::Done { .. } | ClientEvent::Failed { .. } => result = Some(ev),
                other => panic!("{other:?}"),
            }
        }
        if result.is_some() {
            break;
        }
    }
    assert!(
        matches!(result, Some(ClientEvent::Failed { .. })),
        "SITE reported as {result:?}"
    );
}

// RFC 959 4.2: 421 is "Service not available, closing control connection":
// the reply and the end of the stream come together, and the session
// contract (proto_core::Session: handle_input "only buffers") lets a
// driver hand over the last bytes and the EOF before it polls, as the
// SMTP and POP3 clients of this workspace allow. The buffered 421 must
// still answer the pending operation, and a 221 to QUIT must still read
// as Closed, not as an unexpected EOF.
#[test]
fn client_reads_the_last_reply_before_the_eof() {
    let t0 = Instant::now();
    let mut s = logged_in_server(t0, Limits::default());
    let mut c = ClientSession::new(
        ClientConfig {
            tls: ClientTls::Never,
            ..ClientConfig::default()
        },
        SERVER.parse().unwrap(),
        t0,
    );
    c.handle_input(b"220 hi\r\n211 no features\r\n331 pw\r\n230 in\r\n");
    while let Some(ev) = c.poll_event().unwrap() {
        assert_eq!(ev, ClientEvent::LoggedIn);
    }
    proto_core::drain_transmit(&mut c);
    c.cwd(b"/pub").unwrap();
    proto_core::transfer(&mut c, &mut s, 100);
    assert!(matches!(s.poll_event().unwrap(), Some(ServerEvent::Request(_))));
    s.complete(Outcome::Failed(421, b"Shutting down".to_vec()))
        .unwrap();
    proto_core::transfer(&mut s, &mut c, 100);
    c.handle_eof();
    let mut got = Vec::new();
    loop {
        match c.poll_event() {
            Ok(Some(ev)) => got.push(ev),
            Ok(None) => break,
            Err(e) => panic!("{e:?} after {got:?}"),
        }
    }
    assert!(
        matches!(&got[..], [ClientEvent::Failed { reply, .. }, ClientEvent::Closed(_)] if reply.code == 421),
        "{got:?}"
    );

    // QUIT, its 221 and the EOF at once.
    let mut c = ClientSession::new(
        ClientConfig {
            tls: ClientTls::Never,
            ..ClientConfig::default()
        },
        SERVER.parse().unwrap(),
        t0,
    );
    c.handle_input(b"220 hi\r\n211 no features\r\n331 pw\r\n230 in\r\n");
    while c.poll_event().unwrap().is_some() {}
    c.quit().unwrap();
    c.handle_input(b"221 bye\r\n");
    c.handle_eof();
    assert!(matches!(c.poll_event(), Ok(Some(ClientEvent::Closed(r))) if r.code == 221));
    assert!(c.is_closed());
}

// RFC 2428 1: "The File Transfer Protocol only provides the ability to
// communicate information about IPv4 data connections ... the FTP commands
// PORT and PASV are replaced with EPRT and EPSV". With `extended` off the
// client sent PASV on an IPv6 control connection, which no server can
// answer with an IPv6 address (ServerSession answers 425 "PASV needs IPv4,
// use EPSV"), so every passive transfer failed; in active mode the client
// already sends EPRT for an IPv6 listener whatever `extended` says.
#[test]
fn client_on_ipv6_sends_epsv_even_with_extended_off() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig {
            tls: ClientTls::Never,
            extended: false,
            ..ClientConfig::default()
        },
        SERVER6.parse().unwrap(),
        t0,
    );
    c.handle_input(b"220 hi\r\n211 no features\r\n331 pw\r\n230 in\r\n");
    while c.poll_event().unwrap().is_some() {}
    proto_core::drain_transmit(&mut c);
    c.retr(b"f", 0).unwrap();
    assert_eq!(proto_core::drain_transmit(&mut c), b"TYPE I\r\n");
    c.handle_input(b"200 ok\r\n");
    assert_eq!(c.poll_event().unwrap(), None);
    assert_eq!(proto_core::drain_transmit(&mut c), b"EPSV\r\n");
}
