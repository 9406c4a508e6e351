//! Command and reply codec: known answers for every command, round trips
//! parse(encode(x)) == x, injection refusal, reply framing whole vs split.

use bytes::BytesMut;
use ftp_proto::command::{FormatControl, Password};
use ftp_proto::reply::{Features, encode_reply, feat_lines};
use ftp_proto::{
    Command, CommandError, EpsvArg, ProtLevel, Reply, ReplyConfig, Structure, Timestamp, TransferMode,
    TransferType,
};
use proptest::prelude::*;
use std::net::{IpAddr, SocketAddr};

fn enc(c: &Command<'_>) -> Vec<u8> {
    let mut b = BytesMut::new();
    c.encode(&mut b).unwrap();
    b.to_vec()
}

#[test]
fn every_command_known_answer() {
    let t = Timestamp::new(2020, 1, 2, 3, 4, 5).unwrap();
    let cases: Vec<(&[u8], Command<'_>)> = vec![
        (b"USER anonymous", Command::User(b"anonymous")),
        (b"PASS p w", Command::Pass(Password(b"p w"))),
        (b"ACCT acc", Command::Acct(b"acc")),
        (b"CWD /a b", Command::Cwd(b"/a b")),
        (b"CDUP", Command::Cdup),
        (b"SMNT /mnt", Command::Smnt(b"/mnt")),
        (b"REIN", Command::Rein),
        (b"QUIT", Command::Quit),
        (
            b"PORT 10,0,0,1,4,1",
            Command::Port("10.0.0.1:1025".parse().unwrap()),
        ),
        (b"PASV", Command::Pasv),
        (
            b"TYPE A",
            Command::Type(TransferType::Ascii(FormatControl::Default)),
        ),
        (
            b"TYPE A N",
            Command::Type(TransferType::Ascii(FormatControl::NonPrint)),
        ),
        (
            b"TYPE E T",
            Command::Type(TransferType::Ebcdic(FormatControl::Telnet)),
        ),
        (
            b"TYPE A C",
            Command::Type(TransferType::Ascii(FormatControl::Asa)),
        ),
        (b"TYPE I", Command::Type(TransferType::Image)),
        (b"TYPE L 8", Command::Type(TransferType::Local(8))),
        (b"STRU F", Command::Stru(Structure::File)),
        (b"STRU R", Command::Stru(Structure::Record)),
        (b"STRU P", Command::Stru(Structure::Page)),
        (b"MODE S", Command::Mode(TransferMode::Stream)),
        (b"MODE B", Command::Mode(TransferMode::Block)),
        (b"MODE C", Command::Mode(TransferMode::Compressed)),
        (b"RETR f", Command::Retr(b"f")),
        (b"STOR f g", Command::Stor(b"f g")),
        (b"STOU", Command::Stou(None)),
        (b"STOU name", Command::Stou(Some(b"name"))),
        (b"APPE log", Command::Appe(b"log")),
        (
            b"ALLO 100",
            Command::Allo {
                size: 100,
                record: None,
            },
        ),
        (
            b"ALLO 100 R 10",
            Command::Allo {
                size: 100,
                record: Some(10),
            },
        ),
        (b"REST 12345", Command::Rest(b"12345")),
        (b"RNFR a", Command::Rnfr(b"a")),
        (b"RNTO b", Command::Rnto(b"b")),
        (b"ABOR", Command::Abor),
        (b"DELE x", Command::Dele(b"x")),
        (b"RMD d", Command::Rmd(b"d")),
        (b"MKD d", Command::Mkd(b"d")),
        (b"PWD", Command::Pwd),
        (b"LIST", Command::List(None)),
        (b"LIST -la /pub", Command::List(Some(b"-la /pub"))),
        (b"NLST *.txt", Command::Nlst(Some(b"*.txt"))),
        (b"SITE CHMOD 644 f", Command::Site(b"CHMOD 644 f")),
        (b"SYST", Command::Syst),
        (b"STAT", Command::Stat(None)),
        (b"STAT /", Command::Stat(Some(b"/"))),
        (b"HELP", Command::Help(None)),
        (b"HELP RETR", Command::Help(Some(b"RETR"))),
        (b"NOOP", Command::Noop),
        (b"AUTH TLS", Command::Auth(b"TLS")),
        (b"ADAT Zm9v", Command::Adat(b"Zm9v")),
        (b"PROT C", Command::Prot(ProtLevel::Clear)),
        (b"PROT S", Command::Prot(ProtLevel::Safe)),
        (b"PROT E", Command::Prot(ProtLevel::Confidential)),
        (b"PROT P", Command::Prot(ProtLevel::Private)),
        (b"PBSZ 0", Command::Pbsz(0)),
        (b"CCC", Command::Ccc),
        (b"FEAT", Command::Feat),
        (
            b"OPTS UTF8 ON",
            Command::Opts {
                command: b"UTF8",
                params: Some(b"ON"),
            },
        ),
        (
            b"OPTS MLST type;size;",
            Command::Opts {
                command: b"MLST",
                params: Some(b"type;size;"),
            },
        ),
        (
            b"EPRT |1|132.235.1.2|6275|",
            Command::Eprt("132.235.1.2:6275".parse().unwrap()),
        ),
        (
            b"EPRT |2|1080::8:800:200c:417a|5282|",
            Command::Eprt("[1080::8:800:200c:417a]:5282".parse().unwrap()),
        ),
        (b"EPSV", Command::Epsv(EpsvArg::Any)),
        (b"EPSV 2", Command::Epsv(EpsvArg::Protocol(2))),
        (b"EPSV ALL", Command::Epsv(EpsvArg::All)),
        (b"SIZE f", Command::Size(b"f")),
        (b"MDTM f", Command::Mdtm(b"f")),
        (b"MLST", Command::Mlst(None)),
        (b"MLST f", Command::Mlst(Some(b"f"))),
        (b"MLSD", Command::Mlsd(None)),
        (b"MLSD /d", Command::Mlsd(Some(b"/d"))),
        (b"LANG", Command::Lang(None)),
        (b"LANG fr", Command::Lang(Some(b"fr"))),
        (b"HOST ftp.example.test", Command::Host(b"ftp.example.test")),
        (b"MFMT 20200102030405 f", Command::Mfmt { time: t, path: b"f" }),
        (b"XCWD d", Command::Xcwd(b"d")),
        (b"XPWD", Command::Xpwd),
        (b"XMKD d", Command::Xmkd(b"d")),
        (b"XRMD d", Command::Xrmd(b"d")),
        (b"XCUP", Command::Xcup),
        (
            b"CLNT client 1.0",
            Command::Other {
                verb: b"CLNT",
                args: Some(b"client 1.0"),
            },
        ),
    ];
    for (line, cmd) in &cases {
        assert_eq!(
            Command::parse(line).as_ref(),
            Ok(cmd),
            "{}",
            String::from_utf8_lossy(line)
        );
        let mut wire = line.to_vec();
        wire.extend_from_slice(b"\r\n");
        assert_eq!(enc(cmd), wire);
        // Verbs are case-insensitive.
        let lower: Vec<u8> = line
            .iter()
            .take_while(|&&c| c != b' ')
            .map(u8::to_ascii_lowercase)
            .chain(line.iter().skip_while(|&&c| c != b' ').copied())
            .collect();
        if !matches!(cmd, Command::Other { .. }) {
            assert_eq!(Command::parse(&lower).as_ref(), Ok(cmd));
        }
    }
    // EPRT with another delimiter (RFC 2428 2), aliases' canonical forms.
    assert_eq!(
        Command::parse(b"EPRT !1!10.0.0.1!21!"),
        Ok(Command::Eprt("10.0.0.1:21".parse().unwrap()))
    );
    assert_eq!(Command::Xcwd(b"d").canonical(), Command::Cwd(b"d"));
    assert_eq!(Command::Rest(b"77").rest_offset(), Some(77));
    assert!(format!("{:?}", Command::Pass(Password(b"hunter2"))).contains("redacted"));
}

#[test]
fn malformed_commands() {
    for (line, err) in [
        (&b""[..], CommandError::BadVerb),
        (b" NOOP", CommandError::BadVerb),
        (b"N-OP", CommandError::BadVerb),
        (b"1ABC", CommandError::BadVerb),
        (b"CWD", CommandError::BadArguments { verb: "CWD" }),
        (b"CWD ", CommandError::BadArguments { verb: "CWD" }),
        (b"PASV x", CommandError::BadArguments { verb: "PASV" }),
        (b"PORT 1,2,3,4,5,256", CommandError::BadArguments { verb: "PORT" }),
        (b"PORT 1,2,3,4,5,6,7", CommandError::BadArguments { verb: "PORT" }),
        (b"TYPE L 0", CommandError::BadArguments { verb: "TYPE" }),
        (b"TYPE I N", CommandError::BadArguments { verb: "TYPE" }),
        (b"EPRT |1|::1|21|", CommandError::BadArguments { verb: "EPRT" }),
        (
            b"EPRT |1|1.2.3.4|70000|",
            CommandError::BadArguments { verb: "EPRT" },
        ),
        (b"EPRT |1|1.2.3.4|21", CommandError::BadArguments { verb: "EPRT" }),
        (b"EPSV X", CommandError::BadArguments { verb: "EPSV" }),
        (b"PBSZ 99999999999", CommandError::BadArguments { verb: "PBSZ" }),
        (
            b"MFMT 20201301000000 f",
            CommandError::BadArguments { verb: "MFMT" },
        ),
        (
            b"MFMT 20200101000000",
            CommandError::BadArguments { verb: "MFMT" },
        ),
        (b"ALLO 1 X 2", CommandError::BadArguments { verb: "ALLO" }),
        (b"REST 1 2", CommandError::BadArguments { verb: "REST" }),
        (b"RETR a\0b", CommandError::Nul),
    ] {
        assert_eq!(
            Command::parse(line),
            Err(err.clone()),
            "{}",
            String::from_utf8_lossy(line)
        );
        assert!(matches!(err.reply_code(), 500 | 501));
    }
}

#[test]
fn encoders_refuse_injection() {
    let mut out = BytesMut::new();
    for c in [
        Command::Cwd(b"a\r\nDELE b"),
        Command::Retr(b"a\nb"),
        Command::Pass(Password(b"pw\rx")),
        Command::Site(b"x\0y"),
        Command::List(Some(b"\n")),
        Command::Opts {
            command: b"UTF8",
            params: Some(b"ON\r\n"),
        },
        Command::Other {
            verb: b"XX",
            args: Some(b"\r"),
        },
        Command::Mfmt {
            time: Timestamp::new(2020, 1, 1, 0, 0, 0).unwrap(),
            path: b"f\r\n",
        },
    ] {
        assert!(c.encode(&mut out).is_err(), "{c:?}");
    }
    for c in [
        Command::Cwd(b""),
        Command::Opts {
            command: b"A B",
            params: None,
        },
        Command::Other {
            verb: b"NO OP",
            args: None,
        },
        Command::Type(TransferType::Local(0)),
        Command::Rest(b"1 2"),
    ] {
        assert!(c.encode(&mut out).is_err(), "{c:?}");
    }
    assert!(out.is_empty(), "nothing written on error");
}

fn path() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_filter("clean", |c| !matches!(c, b'\r' | b'\n' | 0)),
        1..40,
    )
}

fn addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::new(IpAddr::from(ip), p)),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::new(IpAddr::from(ip), p)),
    ]
}

fn build<'a>(k: u8, a: &'a [u8], n: u64, sa: SocketAddr, t: Timestamp, digits: &'a [u8]) -> Command<'a> {
    let v4 = match sa {
        SocketAddr::V4(v) => v,
        SocketAddr::V6(v) => std::net::SocketAddrV4::new([1, 2, 3, 4].into(), v.port()),
    };
    match k % 40 {
        0 => Command::User(a),
        1 => Command::Pass(Password(if n.is_multiple_of(2) { a } else { b"" })),
        2 => Command::Cwd(a),
        3 => Command::Retr(a),
        4 => Command::Stor(a),
        5 => Command::Stou(if n.is_multiple_of(2) { Some(a) } else { None }),
        6 => Command::Appe(a),
        7 => Command::Rnfr(a),
        8 => Command::Rnto(a),
        9 => Command::Dele(a),
        10 => Command::Mkd(a),
        11 => Command::Rmd(a),
        12 => Command::List(Some(a)),
        13 => Command::Nlst(None),
        14 => Command::Site(a),
        15 => Command::Stat(Some(a)),
        16 => Command::Help(Some(a)),
        17 => Command::Auth(a),
        18 => Command::Adat(a),
        19 => Command::Size(a),
        20 => Command::Mdtm(a),
        21 => Command::Mlst(Some(a)),
        22 => Command::Mlsd(Some(a)),
        23 => Command::Lang(Some(a)),
        24 => Command::Host(a),
        25 => Command::Xcwd(a),
        26 => Command::Xmkd(a),
        27 => Command::Xrmd(a),
        28 => Command::Port(v4),
        29 => Command::Eprt(sa),
        30 => Command::Epsv(match n % 3 {
            0 => EpsvArg::Any,
            1 => EpsvArg::All,
            _ => EpsvArg::Protocol((n % 65536) as u16),
        }),
        31 => Command::Allo {
            size: n,
            record: n.is_multiple_of(3).then_some(n / 3),
        },
        32 => Command::Rest(digits),
        33 => Command::Pbsz((n % (1 << 32)) as u32),
        34 => Command::Mfmt { time: t, path: a },
        35 => Command::Opts {
            command: b"MLST",
            params: Some(a),
        },
        36 => Command::Type(TransferType::Local(((n % 255) + 1) as u8)),
        37 => Command::Acct(a),
        38 => Command::Smnt(a),
        _ => Command::Other {
            verb: b"CLNT",
            args: Some(a),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn command_round_trip(k in any::<u8>(), a in path(), n in any::<u64>(), sa in addr(),
                          secs in 0i64..253_402_300_799, nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000]) {
        let t = Timestamp { nanos, ..Timestamp::from_unix_seconds(secs).unwrap() };
        let digits = n.to_string().into_bytes();
        let cmd = build(k, &a, n, sa, t, &digits);
        let wire = enc(&cmd);
        prop_assert!(wire.ends_with(b"\r\n"));
        prop_assert_eq!(wire.iter().filter(|&&c| c == b'\n').count(), 1);
        prop_assert_eq!(Command::parse(&wire[..wire.len() - 2]), Ok(cmd));
    }

    #[test]
    fn command_parser_never_panics(line in proptest::collection::vec(any::<u8>(), 0..64)) {
        ftp_proto::fuzzing::command(&line);
    }

    #[test]
    fn replies_whole_and_split(
        replies in proptest::collection::vec(
            (100u16..600, proptest::collection::vec("[ -~]{0,20}", 1..5)), 1..6),
        cuts in proptest::collection::vec(1usize..12, 1..40),
    ) {
        let mut wire = BytesMut::new();
        for (code, lines) in &replies {
            let lines: Vec<&[u8]> = lines.iter().map(String::as_bytes).collect();
            encode_reply(*code, &lines, &mut wire).unwrap();
        }
        let config = ReplyConfig::default();
        // Whole.
        let mut whole = Vec::new();
        let mut rest = &wire[..];
        while let Some((r, n)) = Reply::parse(rest, &config).unwrap() {
            whole.push((r.code(), r.lines().count(), r.raw().to_vec()));
            rest = &rest[n..];
        }
        prop_assert!(rest.is_empty());
        prop_assert_eq!(whole.len(), replies.len());
        for ((code, lines), got) in replies.iter().zip(&whole) {
            prop_assert_eq!((*code, lines.len()), (got.0, got.1));
        }
        // Split at arbitrary points.
        let mut buf = BytesMut::new();
        let mut split = Vec::new();
        let mut src = &wire[..];
        let mut i = 0;
        while !src.is_empty() {
            let n = cuts[i % cuts.len()].min(src.len());
            buf.extend_from_slice(&src[..n]);
            src = &src[n..];
            i += 1;
            while let Some((r, n)) = Reply::parse(&buf, &config).unwrap() {
                split.push((r.code(), r.lines().count(), r.raw().to_vec()));
                let _ = buf.split_to(n);
            }
        }
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn reply_parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..128)) {
        ftp_proto::fuzzing::reply(&data);
    }
}

#[test]
fn feat_reply_typed() {
    // RFC 2389 3.2 example shape, plus lines that are not features.
    let raw = b"211-Extensions supported:\r\n MLST size*;create;modify*;perm;media-type\r\n SIZE\r\n COMPRESSION\r\nnot a feature\r\n MDTM\r\n211 END\r\n";
    let r = Reply::parse_exact(raw, &ReplyConfig::default()).unwrap();
    let names: Vec<&[u8]> = feat_lines(&r).map(|f| f.name).collect();
    assert_eq!(names, [&b"MLST"[..], b"SIZE", b"COMPRESSION", b"MDTM"]);
    let f = Features::from_reply(&r);
    assert!(f.has("mdtm") && !f.auth_tls() && !f.rest_stream());
    assert_eq!(f.mlst_facts().filter(|(_, on)| *on).count(), 2);
    let single = Reply::parse_exact(b"211 no features\r\n", &ReplyConfig::default()).unwrap();
    assert_eq!(Features::from_reply(&single).iter().count(), 0);
}
