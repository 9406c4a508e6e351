//! Known-answer, round-trip and split-invariance tests of the command and reply codec.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use smtp_proto::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn enc(c: &Command<'_>) -> Vec<u8> {
    let mut b = BytesMut::new();
    c.encode(&mut b).expect("encodes");
    b.to_vec()
}

#[test]
fn every_command_parses() {
    let cases: Vec<(&[u8], Command<'_>)> = vec![
        (
            b"HELO relay.example.test",
            Command::Helo {
                host: Host::Domain(b"relay.example.test"),
            },
        ),
        (
            b"ehlo [192.0.2.1]",
            Command::Ehlo {
                host: Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)),
            },
        ),
        (
            b"LHLO [IPv6:2001:db8::1]",
            Command::Lhlo {
                host: Host::Ipv6("2001:db8::1".parse().unwrap()),
            },
        ),
        (b"DATA", Command::Data),
        (
            b"BDAT 1000",
            Command::Bdat {
                size: 1000,
                last: false,
            },
        ),
        (b"BDAT 0 LAST", Command::Bdat { size: 0, last: true }),
        (b"bdat 12 last", Command::Bdat { size: 12, last: true }),
        (b"RSET", Command::Rset),
        (
            b"VRFY Smith",
            Command::Vrfy {
                arg: b"Smith",
                smtputf8: false,
            },
        ),
        (
            b"EXPN Example-People",
            Command::Expn {
                arg: b"Example-People",
                smtputf8: false,
            },
        ),
        (b"HELP", Command::Help { topic: None }),
        (b"HELP MAIL", Command::Help { topic: Some(b"MAIL") }),
        (b"NOOP", Command::Noop { arg: None }),
        (b"QUIT", Command::Quit),
        (b"STARTTLS", Command::StartTls),
        (b"starttls", Command::StartTls),
        (
            b"AUTH PLAIN",
            Command::Auth {
                mechanism: b"PLAIN",
                initial_response: None,
            },
        ),
        (
            b"AUTH PLAIN =",
            Command::Auth {
                mechanism: b"PLAIN",
                initial_response: Some(b"="),
            },
        ),
        (
            b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=",
            Command::Auth {
                mechanism: b"PLAIN",
                initial_response: Some(b"dGVzdAB0ZXN0AHRlc3Q="),
            },
        ),
        (b"ETRN #queue", Command::Etrn { node: b"#queue" }),
        (
            b"BURL imap://x LAST",
            Command::Burl {
                args: b"imap://x LAST",
            },
        ),
    ];
    for (line, want) in cases {
        assert_eq!(
            Command::parse(line),
            Ok(want),
            "{}",
            String::from_utf8_lossy(line)
        );
        assert_eq!(Command::parse(&enc(&want)[..enc(&want).len() - 2]), Ok(want));
    }
    assert_eq!(Command::parse(b"FOO"), Err(CommandError::Unrecognized));
    assert_eq!(Command::parse(b"MAILX FROM:<>"), Err(CommandError::Unrecognized));
    // Verbs are matched in full: leading NULs are not swallowed by the key.
    assert_eq!(Command::parse(b"\0MAIL FROM:<>"), Err(CommandError::Unrecognized));
    assert_eq!(Command::parse(b"\0\0\0\0QUIT"), Err(CommandError::Unrecognized));
    assert_eq!(Command::parse(b"QU\0IT"), Err(CommandError::Unrecognized));
    smtp_proto::checks::command_parser(b"\0\0DATA\r\n\0RSET\r\n");
    assert_eq!(Command::parse(b"TURN"), Err(CommandError::NotImplemented));
    assert!(matches!(Command::parse(b"DATA x"), Err(CommandError::Syntax(_))));
    assert!(matches!(Command::parse(b"BDAT"), Err(CommandError::Syntax(_))));
    assert!(matches!(
        Command::parse(b"BDAT 1 FIRST"),
        Err(CommandError::Syntax(_))
    ));
    // Past u64: larger than any limit, not a syntax error (its octets must
    // still be read as the chunk).
    assert_eq!(
        Command::parse(b"BDAT 99999999999999999999999"),
        Ok(Command::Bdat {
            size: u64::MAX,
            last: false
        })
    );
    // RFC 4954 4: an initial response outside base64 is 501 5.5.2.
    assert_eq!(Command::parse(b"AUTH PLAIN !!!"), Err(CommandError::BadBase64));
    assert_eq!(
        CommandError::BadBase64.reply().to_vec().unwrap(),
        b"501 5.5.2 Invalid base64 data\r\n"
    );
    assert!(matches!(
        Command::parse(b"AUTH PL!AIN"),
        Err(CommandError::Syntax(_))
    ));
    assert!(matches!(Command::parse(b"VRFY"), Err(CommandError::Syntax(_))));
    assert_eq!(CommandError::Unrecognized.reply().code(), 500);
    assert_eq!(CommandError::NotImplemented.reply().code(), 502);
    assert_eq!(CommandError::Syntax("x").reply().code(), 501);
}

#[test]
fn mail_and_rcpt_parameters_are_typed() {
    let line = b"MAIL FROM:<> SIZE=12345 BODY=BINARYMIME SMTPUTF8 RET=FULL ENVID=QQ+2B314 AUTH=e+3Dmc2@example.com REQUIRETLS MT-PRIORITY=+4 XFOO X-BAR=baz";
    let Ok(Command::Mail { from, params }) = Command::parse(line) else {
        panic!()
    };
    assert_eq!(from, ReversePath::Null);
    assert_eq!(params.size, Some(12345));
    assert_eq!(params.body, Some(BodyType::BinaryMime));
    assert!(params.smtputf8 && params.requiretls);
    assert_eq!(params.ret, Some(Ret::Full));
    assert_eq!(params.envid.unwrap().decode(), b"QQ+314");
    assert_eq!(params.auth.unwrap().decode(), b"e=mc2@example.com");
    assert_eq!(params.mt_priority, Some(4));
    let other: Vec<_> = params.other.iter().collect();
    assert_eq!(
        other,
        vec![(&b"XFOO"[..], None), (&b"X-BAR"[..], Some(&b"baz"[..]))]
    );

    let line = b"RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;userc+40d.bar.org Z=1";
    let Ok(Command::Rcpt {
        to: ForwardPath::Mailbox(m),
        params,
    }) = Command::parse(line)
    else {
        panic!()
    };
    assert_eq!(m.local_part, b"userc");
    assert_eq!(m.domain, Host::Domain(b"d.bar.org"));
    assert_eq!(
        params.notify,
        Some(Notify {
            success: false,
            failure: true,
            delay: true
        })
    );
    let o = params.orcpt.unwrap();
    assert_eq!(
        (o.addr_type, o.addr.decode()),
        (&b"rfc822"[..], b"userc@d.bar.org".to_vec())
    );
    assert_eq!(params.other.iter().count(), 1);

    for bad in [
        &b"MAIL FROM:<> SIZE=x"[..],
        b"MAIL FROM:<> BODY=8BIT",
        b"MAIL FROM:<> SMTPUTF8=yes",
        b"MAIL FROM:<> MT-PRIORITY=10",
        b"MAIL FROM:<> SIZE=1 size=2",
        b"MAIL FROM:<> SIZE=123456789012345678901",
    ] {
        assert!(
            matches!(Command::parse(bad), Err(CommandError::BadParameter(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // RFC 3461 5.1: bad or repeated DSN parameters are 501, not 555.
    for bad in [
        &b"MAIL FROM:<> RET=ALL"[..],
        b"MAIL FROM:<> RET",
        b"MAIL FROM:<> RET=FULL ret=HDRS",
        b"MAIL FROM:<> ENVID=a+zz",
        b"MAIL FROM:<> ENVID=a ENVID=b",
        b"RCPT TO:<a@b.c> NOTIFY=NEVER,SUCCESS",
        b"RCPT TO:<a@b.c> NOTIFY=SUCCESS NOTIFY=FAILURE",
        b"RCPT TO:<a@b.c> ORCPT=rfc822",
        b"RCPT TO:<a@b.c> ORCPT=rfc822;a+zz",
        b"RCPT TO:<a@b.c> ORCPT=rfc822;a ORCPT=rfc822;b",
    ] {
        let r = Command::parse(bad);
        assert!(
            matches!(r, Err(CommandError::BadDsnParameter(_))),
            "{}: {r:?}",
            String::from_utf8_lossy(bad)
        );
        assert_eq!(r.unwrap_err().reply().code(), 501);
    }
    // RFC 1870 6: size-value ::= 1*20DIGIT; above u64::MAX it reads as u64::MAX.
    let Ok(Command::Mail { params, .. }) = Command::parse(b"MAIL FROM:<> SIZE=99999999999999999999") else {
        panic!("20-digit SIZE refused");
    };
    assert_eq!(params.size, Some(u64::MAX));
    for bad in [
        &b"MAIL FROM:<> =x"[..],
        b"MAIL FROM:<>  SIZE=1",
        b"MAIL FROM:<> SIZE=1 ",
        b"MAIL FROM:<> -X",
        b"MAIL FROM:<> ENVID=a=b",
    ] {
        assert!(
            matches!(Command::parse(bad), Err(CommandError::Syntax(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn paths() {
    fn m(s: &[u8]) -> Result<Mailbox<'_>, CommandError> {
        match Command::parse(s) {
            Ok(Command::Rcpt {
                to: ForwardPath::Mailbox(m),
                ..
            }) => Ok(m),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        }
    }
    assert_eq!(
        Command::parse(b"RCPT TO:<postmaster>").map(|c| matches!(
            c,
            Command::Rcpt {
                to: ForwardPath::Postmaster,
                ..
            }
        )),
        Ok(true)
    );
    assert_eq!(
        m(b"RCPT TO:<\"a b\\\"c\"@x.test>").unwrap().local_part,
        b"\"a b\\\"c\""
    );
    assert_eq!(
        m(b"RCPT TO:<\"a b\\\"c\"@x.test>")
            .unwrap()
            .local_part_unquoted()
            .as_ref(),
        b"a b\"c"
    );
    assert_eq!(
        m(b"RCPT TO:<a@[1.2.3.4]>").unwrap().domain,
        Host::Ipv4(Ipv4Addr::new(1, 2, 3, 4))
    );
    assert_eq!(
        m(b"RCPT TO:<a@[001.002.003.004]>").unwrap().domain,
        Host::Ipv4(Ipv4Addr::new(1, 2, 3, 4))
    );
    assert_eq!(
        m(b"RCPT TO:<a@[IPv6:::1]>").unwrap().domain,
        Host::Ipv6(Ipv6Addr::LOCALHOST)
    );
    assert_eq!(
        m(b"RCPT TO:<a@[x-tag:stuff]>").unwrap().domain,
        Host::General {
            tag: b"x-tag",
            content: b"stuff"
        }
    );
    // UTF-8 is accepted by the parser on RCPT (the server checks SMTPUTF8), but not on MAIL without it.
    assert!(!m("RCPT TO:<ö@ü.test>".as_bytes()).unwrap().is_ascii());
    assert_eq!(
        Command::parse("MAIL FROM:<ö@x.test>".as_bytes()),
        Err(CommandError::Utf8NotAllowed)
    );
    assert!(Command::parse("MAIL FROM:<ö@x.test> SMTPUTF8".as_bytes()).is_ok());
    assert!(m(b"RCPT TO:<\xc3@x.test>").is_err(), "invalid UTF-8");
    for bad in [
        &b"RCPT TO:<>"[..],
        b"RCPT TO:<a>",
        b"RCPT TO:<a@>",
        b"RCPT TO:<.a@b.c>",
        b"RCPT TO:<a..b@b.c>",
        b"RCPT TO:<a@b..c>",
        b"RCPT TO:<a@-b.c>",
        b"RCPT TO:<a@[1.2.3]>",
        b"RCPT TO:<a@[1.2.3.256]>",
        b"RCPT TO:<a@[IPv6:1::2::3]>",
        b"RCPT TO:<a@b.c",
        b"RCPT TO:a@b.c",
        b"RCPT TO: <a@b.c>",
        b"RCPT TO:<a b@c.d>",
        b"RCPT TO:<\"a@b.c>",
    ] {
        assert!(m(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn limits_of_rfc5321_4_5_3_1() {
    let lp = "a".repeat(64);
    assert!(Command::parse(format!("RCPT TO:<{lp}@x.test>").as_bytes()).is_ok());
    assert_eq!(
        Command::parse(format!("RCPT TO:<{lp}a@x.test>").as_bytes()),
        Err(CommandError::TooLong("local part"))
    );
    let dom = format!("{}.test", vec!["a".repeat(60); 4].join("."));
    assert_eq!(dom.len(), 248);
    assert!(Command::parse(format!("RCPT TO:<a@{dom}>").as_bytes()).is_ok());
    let long = format!("{}.test", vec!["a".repeat(62); 4].join("."));
    assert_eq!(
        Command::parse(format!("RCPT TO:<a@{long}>").as_bytes()),
        Err(CommandError::TooLong("domain"))
    );
    let path = format!("RCPT TO:<{lp}@{dom}>");
    assert_eq!(
        Command::parse(path.as_bytes()),
        Err(CommandError::TooLong("path"))
    );
    let small = Limits {
        local_part: 3,
        ..Limits::default()
    };
    assert!(Command::parse_with(b"RCPT TO:<abcd@x.test>", &small).is_err());
    let l = Limits::default();
    assert_eq!(
        (l.command_line, l.reply_line, l.text_line, l.auth_line),
        (512, 512, 1000, 12288)
    );
}

#[test]
fn encoders_refuse_cr_lf_nul() {
    let mut out = BytesMut::new();
    for bad in [&b"x\r\nRSET"[..], b"x\ny", b"x\0y", b"x\ry"] {
        assert!(
            Command::Vrfy {
                arg: bad,
                smtputf8: false
            }
            .encode(&mut out)
            .is_err()
        );
        assert!(
            Command::Helo {
                host: Host::Domain(bad)
            }
            .encode(&mut out)
            .is_err()
        );
        let mb = Mailbox {
            local_part: bad,
            domain: Host::Domain(b"x.test"),
        };
        assert!(
            Command::Rcpt {
                to: ForwardPath::Mailbox(mb),
                params: RcptParams::default()
            }
            .encode(&mut out)
            .is_err()
        );
        let params = MailParams {
            other: OtherParams::new(bad),
            ..MailParams::default()
        };
        assert!(
            Command::Mail {
                from: ReversePath::Null,
                params
            }
            .encode(&mut out)
            .is_err()
        );
        let r = Reply::with_lines(250, None, vec![Bytes::copy_from_slice(bad)]);
        assert!(r.write_to(&mut out).is_err());
        assert!(
            Command::Auth {
                mechanism: b"PLAIN",
                initial_response: Some(bad)
            }
            .encode(&mut out)
            .is_err()
        );
    }
    assert!(
        out.is_empty() || !out.contains(&b'\r'),
        "a refused encoder wrote bytes"
    );
}

#[test]
fn parsed_command_owns_no_heap() {
    // `Command` is `Copy`: it can hold only borrowed slices and plain values,
    // so a parsed command never owns a heap allocation.
    fn is_copy<T: Copy>(_: &T) {}
    let line = b"MAIL FROM:<a@example.test> SIZE=1 BODY=8BITMIME";
    let c = Command::parse(line).unwrap();
    is_copy(&c);
}

#[test]
fn replies() {
    let (r, n) = Reply::parse(b"250-mx.example.test\r\n250-SIZE 100\r\n250 8BITMIME\r\n")
        .unwrap()
        .unwrap();
    assert_eq!((r.code(), n, r.lines().len()), (250, 49, 3));
    let caps = Capabilities::from_reply(&r);
    assert_eq!(caps.size(), Some(100));
    assert!(caps.has(&EhloKeyword::EightBitMime));
    let (r, _) = Reply::parse(b"550-5.1.1 first\r\n550 5.1.1 second\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(r.enhanced(), Some(EnhancedCode(5, 1, 1)));
    assert_eq!(
        r.lines(),
        &[Bytes::from_static(b"first"), Bytes::from_static(b"second")]
    );
    assert_eq!(
        Reply::parse(b"250-a\r\n251 b\r\n"),
        Err(ReplyError::InconsistentCode)
    );
    assert_eq!(Reply::parse(b"650 x\r\n"), Err(ReplyError::BadCode));
    assert_eq!(Reply::parse(b"260 x\r\n"), Err(ReplyError::BadCode));
    assert_eq!(Reply::parse(b"159 x\r\n"), Err(ReplyError::BadCode));
    assert_eq!(Reply::parse(b"25 x\r\n"), Err(ReplyError::Malformed));
    assert_eq!(Reply::parse(b"250x\r\n"), Err(ReplyError::Malformed));
    assert_eq!(Reply::parse(b"250-a\r\n250"), Ok(None));
    let (r, _) = Reply::parse(b"250\r\n").unwrap().unwrap();
    assert_eq!(r.lines(), &[Bytes::new()]);
    // A class that does not match the code is text, not an enhanced code.
    let (r, _) = Reply::parse(b"250 5.0.0 odd\r\n").unwrap().unwrap();
    assert_eq!(r.enhanced(), None);
    assert_eq!(
        EnhancedCode::parse_prefix(b"4.7.11 x"),
        Some((EnhancedCode(4, 7, 11), &b"x"[..]))
    );
    assert_eq!(EnhancedCode::parse_prefix(b"4.7.1111 x"), None);
    let multi = Reply::with_lines(
        421,
        Some(EnhancedCode(4, 4, 2)),
        vec![Bytes::from_static(b"a"), Bytes::new()],
    );
    assert_eq!(multi.to_vec().unwrap(), b"421-4.4.2 a\r\n421 4.4.2\r\n");
    assert!(
        Reply::new(250, Some(EnhancedCode(5, 0, 0)), "x")
            .to_vec()
            .is_err()
    );
    assert!(Reply::new(700, None, "x").to_vec().is_err());
    assert!(
        Reply::new(354, Some(EnhancedCode(3, 0, 0)), "x")
            .to_vec()
            .is_err()
    );
}

#[test]
fn ehlo_keywords_by_full_name() {
    let text = b"250-mx\r\n250-PIPELINING\r\n250-size 1000\r\n250-SIZEX\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=CRAM-MD5\r\n\
250-DSN\r\n250-STARTTLS\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250-SMTPUTF8\r\n250-REQUIRETLS\r\n250-MT-PRIORITY MIXER\r\n\
250-LIMITS RCPTMAX=100\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DELIVERBY 240\r\n250-X-VENDOR a b\r\n250 ETRN\r\n";
    let (r, _) = Reply::parse(text).unwrap().unwrap();
    let caps = Capabilities::from_reply(&r);
    assert_eq!(caps.size(), Some(1000));
    assert_eq!(caps.auth_mechanisms(), vec![&b"PLAIN"[..], b"LOGIN", b"CRAM-MD5"]);
    for kw in [
        EhloKeyword::Pipelining,
        EhloKeyword::Dsn,
        EhloKeyword::StartTls,
        EhloKeyword::Chunking,
        EhloKeyword::BinaryMime,
        EhloKeyword::SmtpUtf8,
        EhloKeyword::RequireTls,
        EhloKeyword::MtPriority,
        EhloKeyword::Limits,
        EhloKeyword::EnhancedStatusCodes,
        EhloKeyword::EightBitMime,
        EhloKeyword::DeliverBy,
        EhloKeyword::Etrn,
    ] {
        assert!(caps.has(&kw), "{kw:?}");
    }
    assert!(caps.has(&EhloKeyword::Other(Bytes::from_static(b"SIZEX"))));
    let v = caps
        .get(&EhloKeyword::Other(Bytes::from_static(b"X-VENDOR")))
        .unwrap();
    assert_eq!(v.params.len(), 2);
    assert_eq!(
        EhloKeyword::from_bytes(b"no-soliciting"),
        EhloKeyword::NoSoliciting
    );
    assert_eq!(EhloKeyword::FutureRelease.name(), b"FUTURERELEASE");
    // The reply rebuilds from the capabilities.
    let again = Capabilities::from_reply(&caps.to_reply().unwrap());
    assert_eq!(again, caps);
}

// ---- round trips -------------------------------------------------------

#[derive(Debug, Clone)]
enum HostSpec {
    Domain(String),
    V4([u8; 4]),
    V6([u16; 8]),
    General(String, String),
}

fn domain() -> impl Strategy<Value = String> {
    proptest::collection::vec("[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", 1..4).prop_map(|l| l.join("."))
}

fn host() -> impl Strategy<Value = HostSpec> {
    prop_oneof![
        domain().prop_map(HostSpec::Domain),
        any::<[u8; 4]>().prop_map(HostSpec::V4),
        any::<[u16; 8]>().prop_map(HostSpec::V6),
        ("[a-z][a-z0-9-]{0,5}[a-z0-9]", "[!-Z^-~]{1,10}").prop_map(|(t, c)| HostSpec::General(t, c)),
    ]
}

fn build_host(h: &HostSpec) -> Host<'_> {
    match h {
        HostSpec::Domain(d) => Host::Domain(d.as_bytes()),
        HostSpec::V4(o) => Host::Ipv4(Ipv4Addr::from(*o)),
        HostSpec::V6(s) => Host::Ipv6(Ipv6Addr::from(*s)),
        HostSpec::General(t, c) => Host::General {
            tag: t.as_bytes(),
            content: c.as_bytes(),
        },
    }
}

fn local_part() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]{1,10}(\\.[a-zA-Z0-9_-]{1,8}){0,2}",
        "\"([ !#-\\[\\]-~]|\\\\[ -~]){0,10}\"",
    ]
}

fn xtext() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 1..20).prop_map(|v| XText::encode(&v))
}

/// xtext of printable US-ASCII, as ENVID and ORCPT need (RFC 3461 4.2, 4.4).
fn printable_xtext() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f], 1..20).prop_map(|v| XText::encode(&v))
}

#[derive(Debug, Clone)]
struct MailSpec {
    from: Option<(String, HostSpec)>,
    size: Option<u64>,
    body: Option<u8>,
    smtputf8: bool,
    ret: Option<bool>,
    envid: Option<String>,
    auth: Option<String>,
    requiretls: bool,
    prio: Option<i8>,
    other: Vec<(String, Option<String>)>,
}

fn other_params() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    proptest::collection::vec(("X[A-Z0-9-]{0,6}", proptest::option::of("[!-<>-~]{1,8}")), 0..3)
}

fn mail_spec() -> impl Strategy<Value = MailSpec> {
    (
        proptest::option::of((local_part(), host())),
        proptest::option::of(any::<u64>()),
        proptest::option::of(0u8..3),
        any::<bool>(),
        proptest::option::of(any::<bool>()),
        proptest::option::of(printable_xtext()),
        proptest::option::of(xtext()),
        any::<bool>(),
        proptest::option::of(-9i8..=9),
        other_params(),
    )
        .prop_map(
            |(from, size, body, smtputf8, ret, envid, auth, requiretls, prio, other)| MailSpec {
                from,
                size,
                body,
                smtputf8,
                ret,
                envid: envid.map(|e| e.chars().take(100).collect()),
                auth,
                requiretls,
                prio,
                other,
            },
        )
}

fn other_raw(o: &[(String, Option<String>)]) -> String {
    o.iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mail_round_trip(s in mail_spec()) {
        let raw = other_raw(&s.other);
        let from = match &s.from {
            None => ReversePath::Null,
            Some((lp, h)) => ReversePath::Mailbox(Mailbox { local_part: lp.as_bytes(), domain: build_host(h) }),
        };
        let params = MailParams {
            size: s.size,
            body: s.body.map(|b| [BodyType::SevenBit, BodyType::EightBitMime, BodyType::BinaryMime][b as usize]),
            smtputf8: s.smtputf8,
            ret: s.ret.map(|f| if f { Ret::Full } else { Ret::Hdrs }),
            envid: s.envid.as_deref().map(|e| XText(e.as_bytes())),
            auth: s.auth.as_deref().map(|e| XText(e.as_bytes())),
            requiretls: s.requiretls,
            mt_priority: s.prio,
            other: OtherParams::new(raw.as_bytes()),
        };
        let cmd = Command::Mail { from, params };
        let line = enc(&cmd);
        let limits = Limits { path: 1000, command_line: 10_000, ..Limits::default() };
        prop_assert_eq!(Command::parse_with(&line[..line.len() - 2], &limits), Ok(cmd));
    }

    #[test]
    fn rcpt_round_trip(lp in local_part(), h in host(), notify in proptest::option::of(any::<(bool, bool, bool)>()),
                       orcpt in proptest::option::of(("[a-z0-9-]{1,8}", printable_xtext())), other in other_params()) {
        let raw = other_raw(&other);
        let params = RcptParams {
            notify: notify.map(|(success, failure, delay)| Notify { success, failure, delay }),
            orcpt: orcpt.as_ref().map(|(t, a)| Orcpt { addr_type: t.as_bytes(), addr: XText(a.as_bytes()) }),
            other: OtherParams::new(raw.as_bytes()),
        };
        let cmd = Command::Rcpt { to: ForwardPath::Mailbox(Mailbox { local_part: lp.as_bytes(), domain: build_host(&h) }), params };
        // ORCPT longer than 500 characters is refused by the encoder and
        // the parser alike (RFC 3461 4.2).
        if orcpt.as_ref().is_some_and(|(t, a)| t.len() + a.len() + 1 > 500) {
            prop_assert!(cmd.encode(&mut BytesMut::new()).is_err());
        } else {
            let line = enc(&cmd);
            prop_assert_eq!(Command::parse(&line[..line.len() - 2]), Ok(cmd));
        }
    }

    #[test]
    fn other_commands_round_trip(h in host(), n in any::<u64>(), last in any::<bool>(), arg in "[!-~]([ -~]{0,20}[!-~])?",
                                 mech in "[A-Z0-9_-]{1,20}", ir in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40))) {
        use base64::Engine;
        let ir_text = ir.map(|v| if v.is_empty() { "=".to_string() } else { base64::engine::general_purpose::STANDARD.encode(v) });
        let cmds = [
            Command::Ehlo { host: build_host(&h) },
            Command::Helo { host: build_host(&h) },
            Command::Lhlo { host: build_host(&h) },
            Command::Bdat { size: n, last },
            Command::Vrfy { arg: arg.as_bytes(), smtputf8: last },
            Command::Expn { arg: arg.as_bytes(), smtputf8: !last },
            Command::Help { topic: Some(arg.as_bytes()) },
            Command::Noop { arg: Some(arg.as_bytes()) },
            Command::Etrn { node: arg.as_bytes() },
            Command::Auth { mechanism: mech.as_bytes(), initial_response: ir_text.as_deref().map(str::as_bytes) },
            Command::Data, Command::Rset, Command::Quit, Command::StartTls,
        ];
        for c in cmds {
            // RFC 5321 4.1.1.1: `helo = "HELO" SP Domain CRLF`; the encoder
            // refuses an address literal there, as the parser does.
            if matches!(c, Command::Helo { host } if !matches!(host, Host::Domain(_))) {
                prop_assert!(c.encode(&mut BytesMut::new()).is_err());
                continue;
            }
            let line = enc(&c);
            prop_assert_eq!(Command::parse(&line[..line.len() - 2]), Ok(c));
        }
    }

    #[test]
    fn reply_round_trip(code in 200u16..=559, e in proptest::option::of((0u16..=999, 0u16..=999)),
                        lines in proptest::collection::vec("([A-Za-z][ -~]{0,40})?", 1..5)) {
        prop_assume!(code % 100 <= 59);
        let e = e.filter(|_| code / 100 != 3);
        let enhanced = e.map(|(s, d)| EnhancedCode(u8::try_from(code / 100).unwrap(), s, d));
        let r = Reply::with_lines(code, enhanced, lines.iter().map(|l| Bytes::from(l.clone())).collect());
        let wire = r.to_vec().unwrap();
        // The encoder writes digits by hand; the same text through `fmt`:
        let mut expected = String::new();
        for (i, l) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            match enhanced {
                Some(e) if l.is_empty() => expected.push_str(&format!("{code}{sep}{e}\r\n")),
                Some(e) => expected.push_str(&format!("{code}{sep}{e} {l}\r\n")),
                None if l.is_empty() && sep == ' ' => expected.push_str(&format!("{code}\r\n")),
                None if l.is_empty() => expected.push_str(&format!("{code}-\r\n")),
                None => expected.push_str(&format!("{code}{sep}{l}\r\n")),
            }
        }
        prop_assert_eq!(String::from_utf8_lossy(&wire), expected);
        prop_assert_eq!(Reply::parse(&wire), Ok(Some((r.clone(), wire.len()))));
        // `check(max)` passes exactly when the longest written line fits.
        let longest = wire.split_inclusive(|&b| b == b'\n').map(<[u8]>::len).max().unwrap();
        prop_assert!(r.check(longest).is_ok());
        prop_assert!(r.check(longest - 1).is_err());
        // Split invariance: line by line through a ReplyParser, the framer fed at random points.
        let mut framer = proto_core::LineFramer::new(proto_core::LineConfig::with_max_len(4096));
        let mut parser = ReplyParser::new(100, 4096);
        let mut buf = BytesMut::new();
        let mut got = None;
        for piece in wire.chunks(3) {
            buf.extend_from_slice(piece);
            while let Some(line) = framer.next_line(&mut buf) {
                if let Some(done) = parser.push_line(&line.unwrap()).unwrap() { got = Some(done) }
            }
        }
        prop_assert_eq!(got, Some(r));
    }

    #[test]
    fn command_parser_never_panics(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        smtp_proto::checks::command_parser(&line);
        smtp_proto::checks::reply_parser(&line);
    }
}

#[test]
fn encoders_refuse_what_would_not_read_back_the_same() {
    let rcpt = |local: &'static [u8], domain: Host<'static>| Command::Rcpt {
        to: ForwardPath::Mailbox(Mailbox {
            local_part: local,
            domain,
        }),
        params: RcptParams::default(),
    };
    // A local part or domain that would close the path and inject parameters.
    for (local, domain) in [
        (
            &b"victim@evil.test> NOTIFY=NEVER X=<y"[..],
            Host::Domain(b"example.test"),
        ),
        (b"a b", Host::Domain(b"example.test")),
        (b"a..b", Host::Domain(b"example.test")),
        (b"\"unterminated", Host::Domain(b"example.test")),
        (b"", Host::Domain(b"example.test")),
        (b"user", Host::Domain(b"example.test> NOTIFY=NEVER")),
        (b"user", Host::Domain(b"[1.2.3.4]")),
        (b"user", Host::Domain(b"-bad.example")),
        (
            b"user",
            Host::General {
                tag: b"x",
                content: b"a]b",
            },
        ),
    ] {
        let mut out = BytesMut::new();
        assert!(
            rcpt(local, domain).encode(&mut out).is_err(),
            "{:?} @ {domain:?}",
            String::from_utf8_lossy(local)
        );
    }
    // What is allowed still round-trips.
    for (local, domain) in [
        (&b"\"john doe\""[..], Host::Domain(b"example.test")),
        (b"first.last", Host::Domain(b"b\xc3\xbccher.example")),
        (
            b"u",
            Host::General {
                tag: b"x-tag",
                content: b"abc",
            },
        ),
    ] {
        let bytes = enc(&rcpt(local, domain));
        let line = &bytes[..bytes.len() - 2];
        assert_eq!(Command::parse(line).unwrap(), rcpt(local, domain));
    }
    // A mechanism name with a space would smuggle an initial response.
    for m in [&b"PLAIN AGFkbWluAHg="[..], b"", b"THIS-NAME-IS-TOO-LONG-X"] {
        let c = Command::Auth {
            mechanism: m,
            initial_response: None,
        };
        assert!(c.encode(&mut BytesMut::new()).is_err(), "{m:?}");
    }
    // ENVID: at most 100 characters (RFC 3461 4.4), as the parser reads it.
    let long = vec![b'a'; 101];
    let mail = Command::Mail {
        from: ReversePath::Null,
        params: MailParams {
            envid: Some(XText(&long)),
            ..MailParams::default()
        },
    };
    assert!(mail.encode(&mut BytesMut::new()).is_err());
    // A reply text that starts like an enhanced code of its class, with no
    // enhanced code given, would read back with one.
    let mut out = BytesMut::new();
    assert!(Reply::new(250, None, "2.1.0 Ok").write_to(&mut out).is_err());
    assert!(
        Reply::new(250, None, "5.1.0 is fine in a 250")
            .write_to(&mut out)
            .is_ok()
    );
    out.clear();
    Reply::new(250, Some(EnhancedCode(2, 1, 0)), "Ok")
        .write_to(&mut out)
        .unwrap();
    assert_eq!(&out[..], b"250 2.1.0 Ok\r\n");
}

#[test]
fn bdat_size_takes_any_number_of_digits() {
    // chunk-size = 1*DIGIT (RFC 3030 2).
    let cases: [(&[u8], u64, bool); 5] = [
        (b"BDAT 0000000000000000000000005 LAST", 5, true),
        (b"BDAT 0", 0, false),
        (b"BDAT 000", 0, false),
        (b"BDAT 18446744073709551615", u64::MAX, false),
        (b"BDAT 123456789012345678901234567890 LAST", u64::MAX, true),
    ];
    for (line, size, last) in cases {
        assert_eq!(
            Command::parse(line).unwrap(),
            Command::Bdat { size, last },
            "{line:?}"
        );
    }
    for bad in [&b"BDAT"[..], b"BDAT ", b"BDAT -1", b"BDAT 1x", b"BDAT 1 LAST x"] {
        assert!(Command::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn greeting_commands_take_only_ascii_domains() {
    // RFC 6531 3.7.1: EHLO carries LDH labels or A-labels only.
    for line in [
        &b"EHLO b\xc3\xbccher.example"[..],
        b"HELO b\xc3\xbccher.example",
        b"LHLO b\xc3\xbccher.example",
    ] {
        assert!(
            matches!(Command::parse(line), Err(CommandError::Syntax(_))),
            "{line:?}"
        );
    }
    assert!(Command::parse(b"EHLO xn--bcher-kva.example").is_ok());
    let c = Command::Ehlo {
        host: Host::Domain("b\u{fc}cher.example".as_bytes()),
    };
    assert!(c.encode(&mut BytesMut::new()).is_err());
}
