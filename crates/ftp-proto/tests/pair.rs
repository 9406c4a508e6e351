//! A ClientSession against a ServerSession in memory: control bytes move in
//! random chunks, data connections are simulated, the server's application is
//! a small in-memory file tree. Runs passive and active, with and without
//! AUTH TLS, with the final 226 arriving before or after the data connection ends.

use bytes::BytesMut;
use ftp_proto::client::{ClientEvent, ClientTls, ClientTransferKind, DataTarget};
use ftp_proto::list::{FileInfo, FileKind, MlsxFacts, parse_list_line, parse_mlsx, write_mlsx, write_unix};
use ftp_proto::server::{DataMode, Outcome, Request, Transfer, TransferId, TransferKind};
use ftp_proto::{
    AsciiDecoder, AsciiEncoder, ClientConfig, ClientSession, ServerConfig, ServerEvent, ServerSession,
    Timestamp,
};
use proptest::prelude::*;
use proto_core::{Secret, transfer};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Instant;

const CLIENT_IP: &str = "198.51.100.7";

fn ts() -> Timestamp {
    Timestamp::new(2024, 5, 6, 7, 8, 9).unwrap()
}

#[derive(Default)]
struct Fs {
    files: BTreeMap<Vec<u8>, Vec<u8>>,
    dirs: BTreeSet<Vec<u8>>,
    mtimes: BTreeMap<Vec<u8>, Timestamp>,
}

fn parent(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&c| c == b'/') {
        Some(0) | None => b"/",
        Some(i) => &p[..i],
    }
}

fn base(p: &[u8]) -> &[u8] {
    p.iter().rposition(|&c| c == b'/').map_or(p, |i| &p[i + 1..])
}

impl Fs {
    fn info<'a>(&'a self, path: &'a [u8], name: &'a [u8]) -> FileInfo<'a> {
        let dir = self.dirs.contains(path);
        FileInfo {
            name,
            kind: if dir { FileKind::Dir } else { FileKind::File },
            size: self.files.get(path).map_or(0, |f| f.len() as u64),
            modified: self.mtimes.get(path).copied().unwrap_or_else(ts),
            mode: if dir { 0o755 } else { 0o644 },
            links: 1,
            owner: b"ftp",
            group: b"ftp",
            link_target: None,
            perm: Some(if dir { b"elcmp" } else { b"rwadf" }),
            unique: None,
        }
    }

    fn children(&self, dir: &[u8]) -> Vec<Vec<u8>> {
        self.files
            .keys()
            .chain(self.dirs.iter())
            .filter(|p| &p[..] != b"/" && parent(p) == dir)
            .cloned()
            .collect()
    }

    fn listing(&self, t: &Transfer) -> Vec<u8> {
        let dir = t.path.as_deref().unwrap_or(b"/");
        let mut out = BytesMut::new();
        for child in self.children(dir) {
            let info = self.info(&child, base(&child));
            match t.kind {
                TransferKind::MachineList => write_mlsx(&info, MlsxFacts::default(), &mut out).unwrap(),
                TransferKind::List => write_unix(&info, ts(), &mut out).unwrap(),
                _ => out.extend_from_slice(base(&child)),
            }
            out.extend_from_slice(b"\n");
        }
        out.to_vec()
    }

    fn answer(&mut self, r: &Request) -> Outcome {
        match r {
            Request::ChangeDir(p) => {
                if self.dirs.contains(&p[..]) {
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                }
            }
            Request::MakeDir(p) => {
                self.dirs.insert(p.to_vec());
                Outcome::Ok
            }
            Request::RemoveDir(p) => {
                if self.dirs.remove(&p[..]) {
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                }
            }
            Request::Delete(p) => {
                if self.files.remove(&p[..]).is_some() {
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                }
            }
            Request::RenameFrom(p) => {
                if self.files.contains_key(&p[..]) {
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                }
            }
            Request::Rename { from, to } => match self.files.remove(&from[..]) {
                Some(d) => {
                    self.files.insert(to.to_vec(), d);
                    Outcome::Ok
                }
                None => Outcome::NotFound,
            },
            // RFC 3659 4.4: in TYPE A each LF is sent as CRLF.
            Request::Size { path, ascii } => self.files.get(&path[..]).map_or(Outcome::NotFound, |f| {
                let lfs = if *ascii {
                    f.iter().filter(|&&b| b == b'\n').count()
                } else {
                    0
                };
                Outcome::Size((f.len() + lfs) as u64)
            }),
            Request::ModTime(p) => {
                if self.files.contains_key(&p[..]) {
                    Outcome::Time(self.mtimes.get(&p[..]).copied().unwrap_or_else(ts))
                } else {
                    Outcome::NotFound
                }
            }
            Request::SetModTime { path, time } => {
                self.mtimes.insert(path.to_vec(), *time);
                Outcome::Ok
            }
            Request::Mlst { path, facts } => {
                if !self.files.contains_key(&path[..]) && !self.dirs.contains(&path[..]) {
                    return Outcome::NotFound;
                }
                let mut out = BytesMut::new();
                write_mlsx(&self.info(path, path), *facts, &mut out).unwrap();
                Outcome::Lines(vec![out.to_vec()])
            }
            _ => Outcome::Failed(502, b"not here".to_vec()),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Pwd,
    Mkdir(&'static [u8]),
    Cwd(&'static [u8]),
    Stor(&'static [u8], Vec<u8>),
    Appe(&'static [u8], Vec<u8>),
    Retr(&'static [u8], u64),
    Size(&'static [u8]),
    Mdtm(&'static [u8]),
    Mfmt(&'static [u8]),
    Mlst(&'static [u8]),
    List,
    Mlsd,
    Nlst,
    Rename(&'static [u8], &'static [u8]),
    Delete(&'static [u8]),
    Rmdir(&'static [u8]),
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
enum Res {
    Ok,
    Failed(u16),
    Path(Vec<u8>),
    Size(u64),
    Time(Timestamp),
    Data(Vec<u8>),
    Entry(Vec<u8>),
    Closed,
}

struct Params {
    passive: bool,
    tls: bool,
    close_first: bool,
    chunks: Vec<usize>,
}

fn run(ops: &[Op], p: &Params) -> (Vec<Res>, Fs) {
    let now = Instant::now();
    let client_addr: SocketAddr = format!("{CLIENT_IP}:40000").parse().unwrap();
    let server_addr: SocketAddr = "203.0.113.1:21".parse().unwrap();
    let mut server = ServerSession::new(ServerConfig::default(), client_addr, now);
    let mut client = ClientSession::new(
        ClientConfig {
            user: b"alice".to_vec(),
            password: Secret::new(b"secret".to_vec()),
            tls: if p.tls {
                ClientTls::Required
            } else {
                ClientTls::Never
            },
            passive: p.passive,
            ..ClientConfig::default()
        },
        server_addr,
        now,
    );
    let mut fs = Fs::default();
    fs.dirs.insert(b"/".to_vec());
    let mut results = Vec::new();
    let mut next = 0usize;
    let mut server_xfer: Option<Transfer> = None;
    let mut client_xfer: Option<(TransferId, ClientTransferKind, bool)> = None;
    let mut upload: Vec<u8> = Vec::new();
    let mut download: Vec<u8> = Vec::new();
    let mut pending_close: Option<TransferId> = None;
    let mut server_tls_pending = false;
    let mut ci = 0usize;
    let mut chunk = || {
        ci += 1;
        p.chunks.get(ci % p.chunks.len().max(1)).copied().unwrap_or(3)
    };
    let mut logged_in = false;
    for _round in 0..2000 {
        transfer(&mut client, &mut server, chunk());
        while let Some(ev) = server.poll_event().unwrap() {
            match ev {
                ServerEvent::Login { password, .. } => {
                    assert_eq!(password.expose(), b"secret");
                    server.login_accept().unwrap();
                }
                ServerEvent::StartTls => server_tls_pending = true,
                ServerEvent::Request(r) => {
                    let o = fs.answer(&r);
                    server.complete(o).unwrap();
                }
                ServerEvent::PassiveListen { .. } => server
                    .passive_ready("203.0.113.1:50000".parse().unwrap())
                    .unwrap(),
                ServerEvent::OpenDataChannel { mode, transfer } => {
                    match mode {
                        DataMode::ExtendedPassive | DataMode::Passive => assert!(p.passive),
                        DataMode::Active(a) | DataMode::ExtendedActive(a) => {
                            assert!(!p.passive);
                            assert_eq!(a.to_string(), format!("{CLIENT_IP}:50001"));
                        }
                    }
                    assert_eq!(transfer.protected, p.tls);
                    if transfer.kind == TransferKind::Retrieve
                        && !transfer.path.as_deref().is_some_and(|x| fs.files.contains_key(x))
                    {
                        server
                            .data_failed(transfer.id, ftp_proto::server::DataFailure::Unavailable)
                            .unwrap();
                    } else {
                        server_xfer = Some(transfer);
                    }
                }
                ServerEvent::Closed(_) | ServerEvent::AbortTransfer(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        // The 234 must be written before the handshake starts.
        transfer(&mut server, &mut client, chunk());
        if server_tls_pending && server.poll_transmit().is_none() {
            server_tls_pending = false;
            server.tls_established().unwrap();
        }
        // Data connection: both sides know about it.
        if server_xfer.is_some() && client_xfer.is_some() {
            let (Some(t), Some((cid, kind, ascii))) = (server_xfer.take(), client_xfer.take()) else {
                unreachable!()
            };
            server.data_connected(t.id).unwrap();
            let moved = if kind.is_download() {
                let data = match t.kind {
                    TransferKind::Retrieve => {
                        let f = &fs.files[t.path.as_deref().unwrap()];
                        f[usize::try_from(t.offset).unwrap().min(f.len())..].to_vec()
                    }
                    _ => fs.listing(&t),
                };
                let mut wire = BytesMut::new();
                if t.ascii {
                    AsciiEncoder::new().encode(&data, &mut wire);
                } else {
                    wire.extend_from_slice(&data);
                }
                let mut dec = AsciiDecoder::new();
                let mut got = BytesMut::new();
                for piece in wire.chunks(chunk().max(1)) {
                    if ascii {
                        dec.decode(piece, &mut got);
                    } else {
                        got.extend_from_slice(piece);
                    }
                }
                dec.finish(&mut got);
                download = got.to_vec();
                wire.len()
            } else {
                let path = t.path.as_deref().unwrap().to_vec();
                let f = fs.files.entry(path).or_default();
                if t.kind == TransferKind::Store {
                    f.truncate(usize::try_from(t.offset).unwrap());
                }
                f.extend_from_slice(&upload);
                upload.len()
            };
            server.data_finished(t.id, moved as u64).unwrap();
            if p.close_first {
                client.data_closed(cid).unwrap();
            } else {
                pending_close = Some(cid);
            }
        }
        transfer(&mut server, &mut client, chunk());
        loop {
            let ev = client.poll_event().unwrap();
            let Some(ev) = ev else {
                // The data connection ends after the 226 was read.
                if let Some(cid) = pending_close.take() {
                    client.data_closed(cid).unwrap();
                    continue;
                }
                break;
            };
            let mut start_next = false;
            match ev {
                ClientEvent::StartTls => client.tls_established().unwrap(),
                ClientEvent::LoggedIn => {
                    logged_in = true;
                    assert_eq!(client.is_tls(), p.tls);
                    start_next = true;
                }
                ClientEvent::Listen(id) => {
                    client
                        .data_listening(id, format!("{CLIENT_IP}:50001").parse().unwrap())
                        .unwrap();
                }
                ClientEvent::OpenDataChannel {
                    id,
                    target,
                    kind,
                    ascii,
                    protected,
                } => {
                    assert_eq!(protected, p.tls);
                    match target {
                        // PASV/EPSV host is ignored: the control peer's address is used.
                        DataTarget::Connect(a) => assert_eq!(a, "203.0.113.1:50000".parse().unwrap()),
                        DataTarget::Accept => assert!(!p.passive),
                    }
                    client_xfer = Some((id, kind, ascii));
                }
                ClientEvent::TransferStarted(_) => {}
                ClientEvent::TransferComplete { .. } => {
                    results.push(Res::Data(std::mem::take(&mut download)));
                    start_next = true;
                }
                ClientEvent::TransferFailed { reply, .. } | ClientEvent::Failed { reply, .. } => {
                    results.push(Res::Failed(reply.code));
                    start_next = true;
                }
                ClientEvent::Done { .. } => {
                    results.push(Res::Ok);
                    start_next = true;
                }
                ClientEvent::Pwd(p) => {
                    results.push(Res::Path(p));
                    start_next = true;
                }
                ClientEvent::Size(n) => {
                    results.push(Res::Size(n));
                    start_next = true;
                }
                ClientEvent::Modified(t) => {
                    results.push(Res::Time(t));
                    start_next = true;
                }
                ClientEvent::MlstEntry(e) => {
                    results.push(Res::Entry(e));
                    start_next = true;
                }
                ClientEvent::Closed(_) => results.push(Res::Closed),
                other => panic!("unexpected {other:?}"),
            }
            if start_next && next < ops.len() {
                let op = ops[next].clone();
                next += 1;
                match op {
                    Op::Pwd => client.pwd().unwrap(),
                    Op::Mkdir(d) => client.mkdir(d).unwrap(),
                    Op::Cwd(d) => client.cwd(d).unwrap(),
                    Op::Stor(f, data) => {
                        upload = data;
                        client.stor(f, 0).map(|_| ()).unwrap();
                    }
                    Op::Appe(f, data) => {
                        upload = data;
                        client.appe(f).map(|_| ()).unwrap();
                    }
                    Op::Retr(f, off) => client.retr(f, off).map(|_| ()).unwrap(),
                    Op::Size(f) => client.size(f).unwrap(),
                    Op::Mdtm(f) => client.mdtm(f).unwrap(),
                    Op::Mfmt(f) => client
                        .mfmt(f, Timestamp::new(2001, 2, 3, 4, 5, 6).unwrap())
                        .unwrap(),
                    Op::Mlst(f) => client.mlst(Some(f)).unwrap(),
                    Op::List => client.list(None).map(|_| ()).unwrap(),
                    Op::Mlsd => client.mlsd(None).map(|_| ()).unwrap(),
                    Op::Nlst => client.nlst(None).map(|_| ()).unwrap(),
                    Op::Rename(a, b) => client.rename(a, b).unwrap(),
                    Op::Delete(f) => client.delete(f).unwrap(),
                    Op::Rmdir(d) => client.rmdir(d).unwrap(),
                    Op::Quit => client.quit().unwrap(),
                }
            }
        }
        if client.is_closed() {
            break;
        }
    }
    assert!(logged_in, "never logged in");
    (results, fs)
}

fn script(payload: &[u8]) -> Vec<Op> {
    vec![
        Op::Pwd,
        Op::Mkdir(b"/my dir"),
        Op::Cwd(b"my dir"),
        Op::Pwd,
        Op::Stor(b"a b;c.txt", payload.to_vec()),
        Op::Size(b"a b;c.txt"),
        Op::Retr(b"a b;c.txt", 0),
        Op::Retr(b"a b;c.txt", 3),
        Op::Appe(b"a b;c.txt", b"tail".to_vec()),
        Op::Mfmt(b"a b;c.txt"),
        Op::Mdtm(b"a b;c.txt"),
        Op::Mlst(b"a b;c.txt"),
        Op::Mlsd,
        Op::List,
        Op::Nlst,
        Op::Rename(b"a b;c.txt", b"renamed"),
        Op::Retr(b"a b;c.txt", 0),
        Op::Delete(b"renamed"),
        Op::Delete(b"renamed"),
        Op::Cwd(b".."),
        Op::Rmdir(b"my dir"),
        Op::Cwd(b"/nowhere"),
        Op::Quit,
    ]
}

fn check(results: &[Res], payload: &[u8]) {
    let mut appended = payload.to_vec();
    appended.extend_from_slice(b"tail");
    assert_eq!(results[0], Res::Path(b"/".to_vec()));
    assert_eq!(results[1], Res::Ok);
    assert_eq!(results[2], Res::Ok);
    assert_eq!(results[3], Res::Path(b"/my dir".to_vec()));
    assert_eq!(results[4], Res::Data(Vec::new()), "upload has no download data");
    assert_eq!(results[5], Res::Size(payload.len() as u64));
    assert_eq!(results[6], Res::Data(payload.to_vec()));
    assert_eq!(results[7], Res::Data(payload[3.min(payload.len())..].to_vec()));
    assert_eq!(results[8], Res::Data(Vec::new()));
    assert_eq!(results[9], Res::Ok);
    assert_eq!(
        results[10],
        Res::Time(Timestamp::new(2001, 2, 3, 4, 5, 6).unwrap())
    );
    let Res::Entry(e) = &results[11] else {
        panic!("MLST: {:?}", results[11])
    };
    let e = parse_mlsx(e).unwrap();
    assert_eq!(
        (e.name, e.size),
        (&b"/my dir/a b;c.txt"[..], Some(appended.len() as u64))
    );
    let Res::Data(mlsd) = &results[12] else { panic!() };
    let entries: Vec<_> = ftp_proto::list::lines(mlsd)
        .map(|l| parse_mlsx(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, b"a b;c.txt");
    assert_eq!(
        entries[0].modify,
        Some(Timestamp::new(2001, 2, 3, 4, 5, 6).unwrap())
    );
    let Res::Data(list) = &results[13] else { panic!() };
    let lines: Vec<_> = ftp_proto::list::lines(list)
        .map(|l| parse_list_line(l, ts()))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].name(), lines[0].size()),
        (Some(&b"a b;c.txt"[..]), Some(appended.len() as u64))
    );
    assert_eq!(results[14], Res::Data(b"a b;c.txt\n".to_vec()));
    assert_eq!(results[15], Res::Ok);
    assert_eq!(results[16], Res::Failed(550));
    assert_eq!(results[17], Res::Ok);
    assert_eq!(results[18], Res::Failed(550));
    assert_eq!(results[19], Res::Ok);
    assert_eq!(results[20], Res::Ok);
    assert_eq!(results[21], Res::Failed(550));
    assert_eq!(results[22], Res::Closed);
    assert_eq!(results.len(), 23);
}

#[test]
fn passive_plain_fixed_chunks() {
    let payload = b"line one\r\nline two\n\xff\x00binary".to_vec();
    let p = Params {
        passive: true,
        tls: false,
        close_first: true,
        chunks: vec![1, 7, 64],
    };
    let (res, _) = run(&script(&payload), &p);
    check(&res, &payload);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn client_server_random_chunking(
        passive in any::<bool>(),
        tls in any::<bool>(),
        close_first in any::<bool>(),
        chunks in proptest::collection::vec(1usize..40, 1..8),
        payload in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let p = Params { passive, tls, close_first, chunks };
        let (res, _) = run(&script(&payload), &p);
        check(&res, &payload);
    }
}
