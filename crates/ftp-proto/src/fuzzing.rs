//! Checks shared by the fuzz targets (fuzz/fuzz_targets/ftp_*.rs) and the
//! replay test (tests/fuzz_replay.rs), so that stable CI runs every stored
//! input through the same oracles. Each function panics when an invariant breaks.

use crate::client::{ClientConfig, ClientEvent, ClientSession, ClientTls};
use crate::command::Command;
use crate::list::{
    FileInfo, MlsxFacts, parse_dos, parse_list_line, parse_mlsx, parse_unix, write_mlsx, write_unix,
};
use crate::reply::{
    Features, Reply, ReplyConfig, encode_reply, feat_lines, parse_257_path, parse_epsv, parse_pasv,
};
use crate::server::{DataFailure, Outcome, ServerConfig, ServerEvent, ServerSession};
use crate::time::Timestamp;
use crate::{AsciiDecoder, AsciiEncoder, Limits};
use bytes::BytesMut;
use std::time::Instant;

/// Splits `data` into a seed (first byte) and the input.
fn plan(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((&seed, rest)) => (seed, rest),
        None => (0, &[]),
    }
}

/// Deterministic chunks of 1 to 16 bytes derived from `seed`; an empty input
/// is one empty chunk, so that a session is driven once either way.
#[must_use]
pub fn chunks(seed: u8, input: &[u8]) -> Vec<&[u8]> {
    if input.is_empty() {
        return vec![input];
    }
    let mut out = Vec::new();
    let mut rest = input;
    let mut s = u32::from(seed) | 1;
    while !rest.is_empty() {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (((s >> 16) % 16) as usize + 1).min(rest.len());
        let (a, b) = rest.split_at(n);
        out.push(a);
        rest = b;
    }
    out
}

/// Command parser: never panics; whatever parses encodes back to a line that
/// parses to the same command once a pathname's CR NUL is unpadded (RFC 2640
/// 3.1), unless the line held CR or LF, which the encoder refuses outside a pathname.
pub fn command(data: &[u8]) {
    let Ok(cmd) = Command::parse(data) else { return };
    let mut out = BytesMut::new();
    match cmd.encode(&mut out) {
        Ok(()) => {
            let line = out.strip_suffix(b"\r\n").expect("encoder ends lines with CRLF");
            let line = crate::command::unpad_cr(line).expect("the encoder pads every CR");
            assert_eq!(Command::parse(&line), Ok(cmd), "round trip of {data:?}");
        }
        Err(_) => assert!(
            data.iter().any(|&c| c == b'\r' || c == b'\n'),
            "encoder refused a command parsed from a clean line: {data:?}"
        ),
    }
}

/// Reply parser: the same replies whole and in chunks; readers never panic;
/// encoding the lines of a reply gives a reply with the same code and lines count.
pub fn reply(data: &[u8]) {
    let (seed, input) = plan(data);
    let config = ReplyConfig {
        max_len: 512,
        accept_bare_lf: seed & 1 == 1,
        accept_bare_cr: seed & 2 == 2,
    };
    let whole = run_replies(&config, &[input]);
    let pieces = chunks(seed, input);
    assert_eq!(whole, run_replies(&config, &pieces), "split invariance");
    let mut buf = input;
    while let Ok(Some((r, n))) = Reply::parse(buf, &config) {
        let _ = Features::from_reply(&r);
        let _ = feat_lines(&r).count();
        let _ = (
            parse_pasv(r.text()),
            parse_epsv(r.text()),
            parse_257_path(r.text()),
        );
        let lines: Vec<&[u8]> = r.lines().collect();
        let mut out = BytesMut::new();
        if encode_reply(r.code(), &lines, &mut out).is_ok() {
            let again = Reply::parse_exact(&out, &ReplyConfig::default()).expect("encoded reply parses");
            assert_eq!(again.code(), r.code());
            assert_eq!(again.lines().count(), lines.len());
        }
        buf = &buf[n..];
    }
}

/// The replies of `pieces` read with [`Reply::parse_from`], which goes on
/// where the last call stopped: compared with the whole input read at
/// once, this checks that resuming a scan gives what a fresh one gives.
fn run_replies(config: &ReplyConfig, pieces: &[&[u8]]) -> Vec<Result<Vec<u8>, crate::ReplyError>> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut scan = crate::ReplyScan::default();
    for p in pieces {
        buf.extend_from_slice(p);
        loop {
            match Reply::parse_from(&buf, config, &mut scan) {
                Ok(Some((r, n))) => {
                    out.push(Ok(r.raw().to_vec()));
                    let _ = buf.split_to(n);
                    scan = crate::ReplyScan::default();
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
    }
    out
}

fn now_ts() -> Timestamp {
    Timestamp::new(2024, 6, 15, 12, 0, 0).unwrap_or_default()
}

/// MLSx parser: never panics; a parsed entry written back parses to the same facts.
pub fn list_mlsx(data: &[u8]) {
    for line in crate::list::lines(data) {
        let Ok(e) = parse_mlsx(line) else { continue };
        let _ = e.facts().count();
        let Some(modified) = e.modify else { continue };
        let kind = e.kind.unwrap_or(crate::list::FileKind::File);
        let info = FileInfo {
            name: e.name,
            kind,
            size: e.size.unwrap_or(0),
            modified,
            mode: 0o644,
            links: 1,
            owner: b"o",
            group: b"g",
            link_target: None,
            perm: e.perm,
            unique: e.unique,
        };
        let mut out = BytesMut::new();
        if write_mlsx(&info, MlsxFacts::default(), &mut out).is_ok() {
            let again = parse_mlsx(&out).expect("written MLSx line parses");
            assert_eq!(again.name, e.name);
            assert_eq!(again.modify, Some(modified));
            assert_eq!(again.perm, e.perm);
            assert_eq!(again.unique, e.unique);
        }
    }
}

/// Unix `ls -l` parser: never panics; a parsed entry written back parses to
/// the same name, kind, mode and size (when its columns are unambiguous).
pub fn list_unix(data: &[u8]) {
    let now = now_ts();
    for line in crate::list::lines(data) {
        let _ = parse_list_line(line, now);
        let Ok(e) = parse_unix(line, now) else { continue };
        let info = FileInfo {
            name: e.name,
            kind: e.kind,
            size: e.size,
            modified: e.modified,
            mode: e.mode,
            links: e.links.unwrap_or(1),
            owner: b"owner",
            group: b"group",
            link_target: e.link_target,
            perm: None,
            unique: None,
        };
        let mut out = BytesMut::new();
        if e.device.is_some() || write_unix(&info, now, &mut out).is_err() {
            continue;
        }
        let again = parse_unix(&out, now).expect("written ls line parses");
        assert_eq!(
            (again.name, again.kind, again.mode, again.size),
            (e.name, e.kind, e.mode, e.size)
        );
        assert_eq!(again.link_target, e.link_target);
    }
}

/// DOS/IIS parser: never panics; parsed times are valid.
pub fn list_dos(data: &[u8]) {
    for line in crate::list::lines(data) {
        if let Ok(e) = parse_dos(line) {
            assert!(e.modified.is_valid());
            assert!(!e.name.is_empty());
        }
    }
}

/// TYPE A codec: decode(encode(x)) == x in any chunking.
pub fn ascii(data: &[u8]) {
    let (seed, input) = plan(data);
    let mut wire = BytesMut::new();
    let mut enc = AsciiEncoder::new();
    for c in chunks(seed, input) {
        enc.encode(c, &mut wire);
    }
    let mut dec = AsciiDecoder::new();
    let mut back = BytesMut::new();
    for c in chunks(seed.wrapping_add(1), &wire) {
        dec.decode(c, &mut back);
    }
    dec.finish(&mut back);
    assert_eq!(&back[..], input);
}

/// Runs a server over `pieces`, answering every event the same way, and
/// returns what it sent plus a log of events.
#[must_use]
pub fn run_server(pieces: &[&[u8]]) -> (Vec<u8>, Vec<String>) {
    let now = Instant::now();
    let config = ServerConfig {
        limits: Limits {
            line: 128,
            failed_login_delay: std::time::Duration::ZERO,
            ..Limits::default()
        },
        allow_anonymous: true,
        ..ServerConfig::default()
    };
    let peer = "192.0.2.10:40000".parse().expect("address");
    let mut s = ServerSession::new(config, peer, now);
    let mut log = Vec::new();
    let mut sent = Vec::new();
    for p in pieces {
        s.handle_input(p);
        loop {
            match s.poll_event() {
                Ok(Some(ev)) => {
                    log.push(format!("{ev:?}"));
                    answer(&mut s, ev, now);
                }
                Ok(None) => break,
                Err(e) => {
                    log.push(format!("error {e:?}"));
                    break;
                }
            }
        }
        while let Some(out) = s.poll_transmit() {
            sent.extend_from_slice(out);
            let n = out.len();
            s.advance_transmit(n);
        }
        assert!(sent.len() < 1 << 24, "output bounded");
    }
    (sent, log)
}

fn answer(s: &mut ServerSession, ev: ServerEvent, now: Instant) {
    let r = match ev {
        ServerEvent::Login { password, .. } => {
            if password.expose().is_empty() {
                s.login_reject(now)
            } else if password.expose() == b"acct" {
                s.login_need_account()
            } else {
                s.login_accept()
            }
        }
        ServerEvent::Account { .. } => s.login_accept(),
        ServerEvent::Request(req) => {
            if let crate::server::Request::Stat(p) = &req
                && p.ends_with(b"big")
            {
                // A STAT listing sent in pieces, then ended.
                let _ = s.complete_part(&[&b"-rw-r--r-- 1 ftp ftp 1 Jan 01 2024 a"[..], b"213 b"]);
            }
            let outcome = match req {
                crate::server::Request::Size { .. } => Outcome::Size(42),
                crate::server::Request::ModTime(_) => Outcome::Time(now_ts()),
                crate::server::Request::Mlst { .. } | crate::server::Request::Stat(_) => {
                    Outcome::Lines(vec![b"type=file;size=42; x".to_vec()])
                }
                crate::server::Request::Site(_) => Outcome::Reply(200, b"SITE ok".to_vec()),
                crate::server::Request::Delete(p) if p.ends_with(b"missing") => Outcome::NotFound,
                _ => Outcome::Ok,
            };
            s.complete(outcome)
        }
        ServerEvent::PassiveListen { .. } => s.passive_ready("192.0.2.1:50000".parse().expect("address")),
        ServerEvent::OpenDataChannel { transfer, .. } => {
            if transfer.path.as_deref().is_some_and(|p| p.ends_with(b"fail")) {
                s.data_failed(transfer.id, DataFailure::Unavailable)
            } else if transfer.path.as_deref().is_some_and(|p| p.ends_with(b"slow")) {
                // Left open: ABOR or the next commands are exercised while it runs.
                s.data_connected(transfer.id)
            } else {
                s.data_connected(transfer.id)
                    .and_then(|()| s.data_finished(transfer.id, 7))
            }
        }
        // The handshake never completes here, so the outcome does not depend on timing.
        ServerEvent::StartTls
        | ServerEvent::AbortTransfer(_)
        | ServerEvent::Reinitialized
        | ServerEvent::Closed(_) => Ok(()),
    };
    assert!(r.is_ok(), "answer refused: {r:?}");
}

/// Server session: no panic, bounded output, same bytes and events whole and in chunks.
pub fn server_session(data: &[u8]) {
    let (seed, input) = plan(data);
    let whole = run_server(&[input]);
    let split = run_server(&chunks(seed, input));
    assert_eq!(whole, split, "server split invariance");
}

/// Runs a client over `pieces` of server replies, starting operations when ready.
#[must_use]
pub fn run_client(pieces: &[&[u8]]) -> (Vec<u8>, Vec<String>) {
    let now = Instant::now();
    let config = ClientConfig {
        limits: Limits {
            reply: 1024,
            ..Limits::default()
        },
        tls: ClientTls::IfOffered,
        account: Some(b"acct".to_vec()),
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(config, "192.0.2.1:21".parse().expect("address"), now);
    let mut log = Vec::new();
    let mut sent = Vec::new();
    let mut step = 0u32;
    for p in pieces {
        c.handle_input(p);
        loop {
            match c.poll_event() {
                Ok(Some(ev)) => {
                    log.push(format!("{ev:?}"));
                    match ev {
                        ClientEvent::OpenDataChannel { id, .. } => {
                            let _ = c.data_closed(id);
                        }
                        ClientEvent::Listen(id) => {
                            let _ = c.data_listening(id, "192.0.2.10:50001".parse().expect("address"));
                        }
                        _ => {}
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // The bytes an error carries are what was buffered when a
                    // malformed reply was recognised, which depends on the
                    // split (the reply's shape is judged from its first bytes);
                    // the kind and the message must not.
                    log.push(format!("error {:?} {}", e.kind, e.message));
                    break;
                }
            }
            if c.is_ready() {
                step += 1;
                let r = match step % 8 {
                    0 => c.list(None).map(|_| ()),
                    1 => c.retr(b"f", 10).map(|_| ()),
                    2 => c.size(b"f"),
                    3 => c.pwd(),
                    4 => c.rename(b"a", b"b"),
                    5 => c.mlst(Some(b"f")),
                    6 => c.mdtm(b"f"),
                    _ => c.stor(b"g", 0).map(|_| ()),
                };
                assert!(r.is_ok());
            }
        }
        while let Some(out) = c.poll_transmit() {
            sent.extend_from_slice(out);
            let n = out.len();
            c.advance_transmit(n);
        }
    }
    (sent, log)
}

/// Client session: no panic, same bytes and events whole and in chunks.
pub fn client_session(data: &[u8]) {
    let (seed, input) = plan(data);
    let whole = run_client(&[input]);
    let split = run_client(&chunks(seed, input));
    assert_eq!(whole, split, "client split invariance");
}
