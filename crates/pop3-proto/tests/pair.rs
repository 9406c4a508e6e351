//! Client against server, in memory, over random chunking: a maildrop of
//! random messages (lines starting with ".", empty messages, 8-bit bytes)
//! arrives byte-exact in every fetch mode, with every login method.

mod common;

use bytes::Bytes;
use common::{App, config_from_directives, rfc_messages};
use pop3_proto::{
    ClientConfig, ClientEvent, ClientSession, Credentials, FetchMode, LoginMethod, ServerConfig,
    ServerSession, TlsMode,
};
use proptest::prelude::*;
use proto_core::{Secret, Session, transfer};
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

struct Run {
    messages: BTreeMap<u32, Vec<u8>>,
    uids: BTreeMap<u32, Option<Bytes>>,
    login: Option<LoginMethod>,
    done: Option<(u32, u32, u32)>,
    closed: Option<bool>,
    deleted_on_server: Option<Vec<u32>>,
    error: Option<String>,
    events: Vec<String>,
}

fn creds(pw: &str) -> Credentials {
    Credentials {
        username: "mrose".into(),
        password: Some(Secret::new(pw.into())),
        ..Credentials::default()
    }
}

/// Runs a whole session; `chunks` gives the transfer sizes in turn.
fn run(
    server_cfg: ServerConfig,
    mut client_cfg: ClientConfig,
    msgs: Vec<(Bytes, Vec<u8>)>,
    mode: FetchMode,
    chunks: &[usize],
) -> Run {
    client_cfg.limits.max_listing_entries = 10_000;
    let now = Instant::now();
    let mut server = ServerSession::new(server_cfg, now);
    let mut client = ClientSession::new(client_cfg, now);
    let mut app = App::new(msgs);
    app.chunk = chunks.first().copied().unwrap_or(5).max(1);
    let mut r = Run {
        messages: BTreeMap::new(),
        uids: BTreeMap::new(),
        login: None,
        done: None,
        closed: None,
        deleted_on_server: None,
        error: None,
        events: Vec::new(),
    };
    let mut current: Option<u32> = None;
    let mut mode = Some(mode);
    for k in 0..100_000 {
        let c = chunks.get(k % chunks.len().max(1)).copied().unwrap_or(7).max(1);
        let a = transfer(&mut server, &mut client, c);
        let b = transfer(&mut client, &mut server, c);
        if let Err(e) = app.drive(&mut server).and_then(|()| app.finish_turn(&mut server)) {
            r.error = Some(format!("server: {e}"));
            break;
        }
        let mut progressed = a + b > 0;
        loop {
            let ev = match client.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    r.error = Some(format!("client: {e}"));
                    break;
                }
            };
            progressed = true;
            if !matches!(ev, ClientEvent::MessageData(_)) {
                r.events.push(format!("{ev:?}"));
            }
            match ev {
                ClientEvent::StartTls => client.tls_established().unwrap(),
                ClientEvent::LoggedIn(m) => {
                    r.login = Some(m);
                    client.fetch(mode.take().unwrap()).unwrap();
                }
                ClientEvent::MessageStart { msg, uid, .. } => {
                    assert!(current.is_none());
                    current = Some(msg);
                    r.uids.insert(msg, uid);
                    assert!(
                        r.messages.insert(msg, Vec::new()).is_none(),
                        "message {msg} twice"
                    );
                }
                ClientEvent::MessageData(d) => {
                    r.messages
                        .get_mut(&current.unwrap())
                        .unwrap()
                        .extend_from_slice(&d);
                }
                ClientEvent::MessageEnd { msg } => assert_eq!(current.take(), Some(msg)),
                ClientEvent::FetchDone {
                    fetched,
                    deleted,
                    skipped,
                } => {
                    r.done = Some((fetched, deleted, skipped));
                    client.quit().unwrap();
                }
                ClientEvent::Closed { quit_ok } => r.closed = Some(quit_ok),
                _ => {}
            }
        }
        if r.error.is_some() || (r.closed.is_some() && server.is_closed()) {
            break;
        }
        if !progressed && client.poll_transmit().is_none() && server.poll_transmit().is_none() {
            break;
        }
    }
    r.deleted_on_server = app.deleted.clone();
    r
}

fn stls_plain_server() -> ServerConfig {
    config_from_directives("#! stls\n#! sasl PLAIN X-UNKNOWN-MECH\n")
}

#[test]
fn rfc_maildrop_every_login_method() {
    let cases: Vec<(&str, ServerConfig, ClientConfig, LoginMethod)> = vec![
        (
            "stls+sasl",
            stls_plain_server(),
            ClientConfig::new(creds("tanstaaf")),
            LoginMethod::Sasl("PLAIN"),
        ),
        (
            "stls+user",
            config_from_directives("#! stls\n"),
            ClientConfig::new(creds("tanstaaf")),
            LoginMethod::UserPass,
        ),
        (
            "implicit tls+user",
            config_from_directives("#! tls\n"),
            {
                let mut c = ClientConfig::new(creds("tanstaaf"));
                c.tls = TlsMode::Implicit;
                c
            },
            LoginMethod::UserPass,
        ),
        (
            "apop without tls",
            config_from_directives("#! apop <7.8@host.test>\n"),
            {
                let mut c = ClientConfig::new(creds("tanstaaf"));
                c.tls = TlsMode::Opportunistic;
                c
            },
            LoginMethod::Apop,
        ),
    ];
    for (name, s, c, method) in cases {
        let r = run(s, c, rfc_messages(), FetchMode::Keep, &[3, 50, 1, 512]);
        assert_eq!(r.error, None, "{name}: {:#?}", r.events);
        assert_eq!(r.login, Some(method), "{name}");
        let want: BTreeMap<u32, Vec<u8>> = rfc_messages()
            .into_iter()
            .zip(1..)
            .map(|((_, m), i)| (i, m))
            .collect();
        assert_eq!(r.messages, want, "{name}");
        assert_eq!(r.uids[&2].as_deref(), Some(&b"QhdPYR:00WBw1Ph7x7"[..]));
        assert_eq!(r.done, Some((2, 0, 0)));
        assert_eq!(r.closed, Some(true));
        assert_eq!(r.deleted_on_server, Some(vec![]), "{name}");
    }
}

#[test]
fn plaintext_is_not_sent_without_tls() {
    // The server has no STLS and no APOP: the client must not send the password.
    let mut c = ClientConfig::new(creds("tanstaaf"));
    c.tls = TlsMode::Opportunistic;
    let r = run(
        config_from_directives("#! plaintext\n"),
        c,
        rfc_messages(),
        FetchMode::Keep,
        &[64],
    );
    assert_eq!(r.error.as_deref(), Some("client: no usable login method"));
    // TLS required but not offered: STLS is refused and the client stops.
    let r = run(
        config_from_directives("#! plaintext\n"),
        ClientConfig::new(creds("tanstaaf")),
        rfc_messages(),
        FetchMode::Keep,
        &[64],
    );
    assert_eq!(r.error.as_deref(), Some("client: TLS required but not available"));
}

#[test]
fn wrong_password_is_reported() {
    let r = run(
        config_from_directives("#! stls\n"),
        ClientConfig::new(creds("nope")),
        rfc_messages(),
        FetchMode::Keep,
        &[9],
    );
    assert!(r.error.unwrap().starts_with("client: login rejected"));
}

#[test]
fn delete_and_fetch_new_modes() {
    let r = run(
        stls_plain_server(),
        ClientConfig::new(creds("tanstaaf")),
        rfc_messages(),
        FetchMode::Delete,
        &[17],
    );
    assert_eq!(r.error, None);
    assert_eq!(r.done, Some((2, 2, 0)));
    assert_eq!(r.deleted_on_server, Some(vec![1, 2]));

    let known: HashSet<Bytes> = [Bytes::from_static(b"whqtswO00WBw418f9t5JxYwZ")].into();
    let r = run(
        stls_plain_server(),
        ClientConfig::new(creds("tanstaaf")),
        rfc_messages(),
        FetchMode::KeepNew(known.clone()),
        &[17],
    );
    assert_eq!(r.error, None);
    assert_eq!(r.messages.keys().copied().collect::<Vec<_>>(), vec![2]);
    assert_eq!(r.done, Some((1, 0, 1)));
    assert_eq!(r.deleted_on_server, Some(vec![]));

    let r = run(
        stls_plain_server(),
        ClientConfig::new(creds("tanstaaf")),
        rfc_messages(),
        FetchMode::DeleteKnown(known),
        &[17],
    );
    assert_eq!(r.done, Some((1, 2, 1)));
    assert_eq!(r.deleted_on_server, Some(vec![1, 2]));
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    let line = proptest::collection::vec(
        prop_oneof![Just(b'.'), Just(b'a'), Just(b' '), 0x80u8..=0xff, any::<u8>()],
        0..40,
    )
    .prop_map(|mut l| {
        l.retain(|&b| b != b'\r' && b != b'\n');
        l.extend_from_slice(b"\r\n");
        l
    });
    proptest::collection::vec(line, 0..12).prop_map(|ls| ls.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_maildrop_arrives_byte_exact(
        msgs in proptest::collection::vec(message(), 0..8),
        chunks in proptest::collection::vec(1usize..80, 1..6),
        delete in any::<bool>(),
        known_mask in any::<u8>(),
    ) {
        let msgs: Vec<(Bytes, Vec<u8>)> =
            msgs.into_iter().enumerate().map(|(i, m)| (Bytes::from(format!("uid-{i}")), m)).collect();
        let known: HashSet<Bytes> = msgs
            .iter()
            .enumerate()
            .filter(|(i, _)| known_mask & (1 << i) != 0)
            .map(|(_, (u, _))| u.clone())
            .collect();
        let mode = if delete { FetchMode::Delete } else { FetchMode::KeepNew(known.clone()) };
        let r = run(stls_plain_server(), ClientConfig::new(creds("tanstaaf")), msgs.clone(), mode, &chunks);
        prop_assert_eq!(&r.error, &None);
        let want: BTreeMap<u32, Vec<u8>> = msgs
            .iter()
            .zip(1..)
            .filter(|((u, _), _)| delete || !known.contains(u))
            .map(|((_, m), i)| (i, m.clone()))
            .collect();
        prop_assert_eq!(&r.messages, &want);
        prop_assert_eq!(r.closed, Some(true));
        let deleted: Vec<u32> = if delete { (1..=msgs.len() as u32).collect() } else { vec![] };
        prop_assert_eq!(r.deleted_on_server, Some(deleted));
    }
}
