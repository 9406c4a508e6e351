//! Property tests: round trips of every codec type, and split invariance of
//! both sessions (the fuzz checks run on random inputs).

use bytes::{Bytes, BytesMut};
use pop3_proto::{Command, ResponseCode, ScanListing, Status, StatusLine, UidListing, fuzzing};
use proptest::prelude::*;
use proto_core::Secret;

fn token(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(0x21u8..0x7f, 1..max).prop_map(Bytes::from)
}

fn text() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..40).prop_map(|mut v| {
        v.retain(|&b| b != b'\r' && b != b'\n' && b != 0);
        Bytes::from(v)
    })
}

fn mechanism() -> impl Strategy<Value = Bytes> {
    "[A-Z0-9_-]{1,20}".prop_map(Bytes::from)
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        text()
            .prop_filter("non-empty", |t| !t.is_empty())
            .prop_map(Command::User),
        text().prop_map(|t| Command::Pass(Secret::new(t.to_vec()))),
        (token(30), "[0-9a-f]{32}").prop_map(|(name, d)| Command::Apop {
            name,
            digest: Secret::new(d.into_bytes())
        }),
        Just(Command::Quit),
        Just(Command::Stat),
        any::<Option<u32>>().prop_map(Command::List),
        any::<u32>().prop_map(Command::Retr),
        any::<u32>().prop_map(Command::Dele),
        Just(Command::Noop),
        Just(Command::Rset),
        (any::<u32>(), any::<u32>()).prop_map(|(msg, lines)| Command::Top { msg, lines }),
        any::<Option<u32>>().prop_map(Command::Uidl),
        Just(Command::Capa),
        Just(Command::Stls),
        Just(Command::Auth {
            mechanism: None,
            initial_response: None
        }),
        (
            mechanism(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..60))
        )
            .prop_map(|(m, ir)| {
                Command::Auth {
                    mechanism: Some(m),
                    initial_response: ir.map(Secret::new),
                }
            }),
        Just(Command::Utf8),
        proptest::option::of(token(20)).prop_map(Command::Lang),
    ]
}

fn code() -> impl Strategy<Value = Option<ResponseCode>> {
    prop_oneof![
        Just(None),
        Just(Some(ResponseCode::InUse)),
        Just(Some(ResponseCode::LoginDelay)),
        Just(Some(ResponseCode::SysTemp)),
        Just(Some(ResponseCode::SysPerm)),
        Just(Some(ResponseCode::Auth)),
        Just(Some(ResponseCode::Utf8)),
        "X-[A-Z]{1,8}(/[A-Z0-9]{1,5}){0,2}".prop_map(|c| Some(ResponseCode::Other(Bytes::from(c)))),
    ]
}

fn cased(kw: &str, mask: u32) -> String {
    kw.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask & (1 << i) != 0 {
                c.to_ascii_lowercase()
            } else {
                c
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn command_round_trip(cmd in command(), mask in any::<u32>()) {
        let mut out = BytesMut::new();
        cmd.encode(&mut out).unwrap();
        prop_assert!(out.ends_with(b"\r\n"));
        let line = out.split_to(out.len() - 2).freeze();
        prop_assert_eq!(&Command::parse(&line).unwrap(), &cmd);
        // Keywords are case-insensitive.
        let kw = cmd.keyword();
        let mut lower = cased(kw, mask).into_bytes();
        lower.extend_from_slice(&line[kw.len()..]);
        prop_assert_eq!(&Command::parse(&Bytes::from(lower)).unwrap(), &cmd);
    }

    #[test]
    fn encoders_refuse_line_breaks(pre in text(), bad in prop_oneof![Just(b'\r'), Just(b'\n'), Just(0u8)], post in text()) {
        let mut arg = pre.to_vec();
        arg.push(bad);
        arg.extend_from_slice(&post);
        let arg = Bytes::from(arg);
        let mut out = BytesMut::new();
        prop_assert!(Command::User(arg.clone()).encode(&mut out).is_err());
        prop_assert!(Command::Pass(Secret::new(arg.to_vec())).encode(&mut out).is_err());
        prop_assert!(Command::Lang(Some(arg.clone())).encode(&mut out).is_err());
        prop_assert!(StatusLine::ok(arg).encode(&mut out).is_err());
        prop_assert!(out.is_empty());
    }

    #[test]
    fn status_line_round_trip(ok in any::<bool>(), code in code(), text in text()) {
        let st = StatusLine { status: if ok { Status::Ok } else { Status::Err }, code, text };
        let mut out = BytesMut::new();
        if st.encode(&mut out).is_ok() {
            let line = out.split_to(out.len() - 2).freeze();
            prop_assert_eq!(StatusLine::parse(&line).unwrap(), st);
        } else {
            prop_assert!(st.code.is_none() && st.text.first() == Some(&b'['));
        }
    }

    #[test]
    fn listing_round_trip(msg in any::<u32>(), size in any::<u64>(), uid in token(71)) {
        let mut out = BytesMut::new();
        ScanListing { msg, size }.encode(&mut out);
        prop_assert_eq!(ScanListing::parse(&out[..out.len() - 2]).unwrap(), ScanListing { msg, size });
        let u = UidListing { msg, uid: uid.into() };
        let mut out = BytesMut::new();
        u.encode(&mut out).unwrap();
        let line = out.split_to(out.len() - 2).freeze();
        prop_assert_eq!(UidListing::parse(&line).unwrap(), u);
    }

    #[test]
    fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        fuzzing::command_parser(&data);
        fuzzing::response_parser(&data);
    }
}

/// Commands (valid, invalid, pipelined) for the server split-invariance check.
fn client_bytes() -> impl Strategy<Value = Vec<u8>> {
    let line = proptest::sample::select(vec![
        &b"USER mrose"[..],
        &b"PASS pw"[..],
        &b"PASS bad"[..],
        &b"APOP mrose c4c9334bac560ecc979e58001b3e22fb"[..],
        &b"AUTH PLAIN"[..],
        &b"AUTH PLAIN AHUAcHc="[..],
        &b"cHc="[..],
        &b"*"[..],
        &b"STAT"[..],
        &b"LIST"[..],
        &b"LIST 2"[..],
        &b"UIDL"[..],
        &b"RETR 1"[..],
        &b"RETR 3"[..],
        &b"TOP 1 0"[..],
        &b"TOP 3 1"[..],
        &b"DELE 1"[..],
        &b"DELE 2"[..],
        &b"RSET"[..],
        &b"NOOP"[..],
        &b"CAPA"[..],
        &b"UTF8"[..],
        &b"LANG"[..],
        &b"QUIT"[..],
        &b"STLS"[..],
        &b"BOGUS"[..],
        &b"x\rx"[..],
    ])
    .prop_map(|l: &[u8]| [l, b"\r\n"].concat());
    (any::<u8>(), proptest::collection::vec(line, 0..16)).prop_map(|(seed, ls)| {
        let mut v = vec![seed];
        v.extend(ls.concat());
        v
    })
}

/// Server answers for the client split-invariance check.
fn server_bytes() -> impl Strategy<Value = Vec<u8>> {
    let line = proptest::sample::select(vec![
        &b"+OK hi"[..],
        &b"-ERR no"[..],
        &b"+OK"[..],
        &b"1 u1"[..],
        &b"2 22"[..],
        &b"."[..],
        &b"..x"[..],
        &b"TOP"[..],
        &b"PIPELINING"[..],
        &b"+ "[..],
        &b"+OK 3 octets"[..],
        &b"+OK [IN-USE] busy"[..],
        &b"junk"[..],
    ])
    .prop_map(|l: &[u8]| [l, b"\r\n"].concat());
    (any::<u8>(), proptest::collection::vec(line, 0..24)).prop_map(|(seed, ls)| {
        let mut v = vec![seed];
        v.extend(ls.concat());
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn server_split_invariance(data in client_bytes()) {
        fuzzing::server_session(&data);
    }

    #[test]
    fn client_split_invariance(data in server_bytes()) {
        fuzzing::client_session(&data);
    }
}
