//! Review 23: HELO and address literals, enhanced status codes with leading
//! zeros, ESMTP parameters in a HELO session, and the issue 5 audit. Each
//! test quotes the RFC rule it checks; the fixes' tests failed on the code
//! as it was before them.

use bytes::{Bytes, BytesMut};
use smtp_proto::{
    BodyType, ClientConfig, ClientSession, Command, EnhancedCode, Envelope, ErrorKind, Host, Recipient, Reply,
};
use std::net::Ipv4Addr;
use std::time::Instant;

mod common;
use common::{client_events, out_of};

/// RFC 3463 2: "Each numeric sub-code within the status-code MUST be
/// expressed without leading zero digits." `2.01.0` is no enhanced status
/// code: the reply text keeps it.
#[test]
fn enhanced_codes_with_leading_zeros_are_text() {
    for bad in [
        &b"2.01.0 Ok"[..],
        b"2.1.00 Ok",
        b"2.00.0 Ok",
        b"2.001.1 Ok",
        b"5.1.01",
    ] {
        assert_eq!(
            EnhancedCode::parse_prefix(bad),
            None,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    for (good, e) in [
        (&b"2.0.0 Ok"[..], EnhancedCode(2, 0, 0)),
        (b"2.10.0 Ok", EnhancedCode(2, 10, 0)),
        (b"5.7.100 Ok", EnhancedCode(5, 7, 100)),
        (b"4.100.0", EnhancedCode(4, 100, 0)),
    ] {
        assert_eq!(EnhancedCode::parse_prefix(good).map(|(c, _)| c), Some(e));
    }
    let (r, _) = Reply::parse(b"250 2.01.0 Ok\r\n").unwrap().unwrap();
    assert_eq!(r.enhanced(), None);
    assert_eq!(r.lines(), &[Bytes::from_static(b"2.01.0 Ok")]);
    // A continuation line's prefix is taken off only when it is the same
    // code, written the same way.
    let (r, _) = Reply::parse(b"250-2.1.0 a\r\n250 2.01.0 b\r\n").unwrap().unwrap();
    assert_eq!(r.enhanced(), Some(EnhancedCode(2, 1, 0)));
    assert_eq!(r.lines()[1], Bytes::from_static(b"2.01.0 b"));
    assert_eq!(
        r.to_vec().unwrap(),
        b"250-2.1.0 a\r\n250 2.1.0 2.01.0 b\r\n".to_vec()
    );
}

/// The encoder does not write a first line, without enhanced code, that
/// starts like an enhanced code with leading zeros: a reader that is less
/// strict than RFC 3463 2 would take `2.01.0` for the code `2.1.0`.
#[test]
fn encoder_refuses_text_that_looks_like_a_zero_padded_code() {
    for text in ["2.01.0 Ok", "2.1.00", "2.000.0 x"] {
        let r = Reply::new(250, None, text);
        assert!(r.to_vec().is_err(), "{text:?}");
        assert!(r.check(512).is_err(), "{text:?}");
        // Behind a real enhanced code, the same text is fine.
        let r = Reply::new(250, Some(EnhancedCode(2, 1, 0)), text);
        assert_eq!(r.to_vec().unwrap(), format!("250 2.1.0 {text}\r\n").into_bytes());
    }
    // Another class is not read as a code of this reply (as before).
    assert!(Reply::new(550, None, "2.01.0 x").to_vec().is_ok());
}

/// RFC 5321 4.1.1.1: `helo = "HELO" SP Domain CRLF`, while `ehlo = "EHLO"
/// SP ( Domain / address-literal ) CRLF`. The codec is strict: an address
/// literal after HELO is a syntax error, and the encoder does not write one
/// (what the parser refuses). EHLO and LHLO (RFC 2033 4.1) keep literals.
#[test]
fn helo_takes_a_domain_not_an_address_literal() {
    for line in [
        &b"HELO [192.0.2.1]"[..],
        b"helo [IPv6:2001:db8::1]",
        b"HELO [x-tag:abc]",
    ] {
        assert!(
            matches!(Command::parse(line), Err(smtp_proto::CommandError::Syntax(_))),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    assert_eq!(
        Command::parse(b"EHLO [192.0.2.1]"),
        Ok(Command::Ehlo {
            host: Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        })
    );
    assert!(Command::parse(b"LHLO [IPv6:2001:db8::1]").is_ok());
    assert_eq!(
        Command::parse(b"HELO relay.example.test"),
        Ok(Command::Helo {
            host: Host::Domain(b"relay.example.test")
        })
    );
    let mut out = BytesMut::new();
    for host in [
        Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1)),
        Host::Ipv6("2001:db8::1".parse().unwrap()),
        Host::General {
            tag: b"x-tag",
            content: b"abc",
        },
    ] {
        assert!(Command::Helo { host }.encode(&mut out).is_err(), "{host:?}");
        assert!(out.is_empty());
        Command::Ehlo { host }.encode(&mut out).unwrap();
        out.clear();
    }
}

/// The client falls back to HELO (RFC 5321 3.2) with its name; a name that
/// is an address literal cannot go in HELO (4.1.1.1 `helo = "HELO" SP
/// Domain`), so the client gives up with QUIT instead of sending a command
/// the grammar forbids.
#[test]
fn client_never_sends_helo_with_an_address_literal() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig {
            helo_name: "[192.0.2.1]".into(),
            ..ClientConfig::default()
        },
        t0,
    );
    c.handle_input(b"220 old.example\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "EHLO [192.0.2.1]\r\n");
    c.handle_input(b"500 5.5.1 what\r\n");
    let ev = client_events(&mut c);
    let sent = out_of(&mut c);
    assert!(!sent.contains("HELO"), "{sent:?}");
    assert_eq!(sent, "QUIT\r\n");
    assert!(ev.is_empty(), "{ev:?}");
    c.handle_input(b"221 bye\r\n");
    let ev = client_events(&mut c);
    assert_eq!(ev, vec![format!("error {:?}", ErrorKind::UnexpectedReply)]);
}

/// RFC 5321 4.1.1.11 and 2.2.1: parameters of MAIL and RCPT belong to
/// service extensions, which exist only after EHLO; RFC 6152 2 defines
/// `BODY=7BIT` as a parameter of the 8BITMIME extension. A client that fell
/// back to HELO sends MAIL and RCPT without any parameter.
#[test]
fn client_after_helo_sends_no_esmtp_parameters() {
    let t0 = Instant::now();
    let mut c = ClientSession::new(
        ClientConfig {
            helo_name: "me.example".into(),
            ..ClientConfig::default()
        },
        t0,
    );
    c.handle_input(b"220 old.example\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "EHLO me.example\r\n");
    c.handle_input(b"502 5.5.1 what\r\n");
    client_events(&mut c);
    assert_eq!(out_of(&mut c), "HELO me.example\r\n");
    c.handle_input(b"250 old.example\r\n");
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    let env = Envelope {
        from: "a@example.test".into(),
        recipients: vec![Recipient::new("b@example.test")],
        size: Some(1000),
        body: Some(BodyType::SevenBit),
        auth: Some("<>".into()),
        ..Envelope::default()
    };
    c.send_mail(env, t0).unwrap();
    assert_eq!(out_of(&mut c), "MAIL FROM:<a@example.test>\r\n");
    c.handle_input(b"250 ok\r\n");
    assert!(client_events(&mut c)[0].starts_with("MailResult"));
    assert_eq!(out_of(&mut c), "RCPT TO:<b@example.test>\r\n");
    // The same in an EHLO session whose server has no 8BITMIME: BODY=7BIT
    // names an extension the server did not offer.
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 SIZE 1000\r\n");
    assert_eq!(client_events(&mut c), vec!["Ready"]);
    out_of(&mut c);
    let env = Envelope {
        from: "a@example.test".into(),
        recipients: vec![Recipient::new("b@example.test")],
        body: Some(BodyType::SevenBit),
        ..Envelope::default()
    };
    c.send_mail(env, t0).unwrap();
    assert_eq!(out_of(&mut c), "MAIL FROM:<a@example.test>\r\n");
}

/// Issue 5, client: "AUTH via sasl with the strongest common mechanism".
/// Of the mechanisms both sides have, SCRAM-SHA-256 is chosen over
/// SCRAM-SHA-1, CRAM-MD5, PLAIN and LOGIN (under TLS); before TLS only the
/// ones that give an eavesdropper nothing are candidates (RFC 4954 4:
/// PLAIN needs a protected link), and the strongest of those is chosen.
#[test]
fn client_auth_picks_the_strongest_common_mechanism() {
    let t0 = Instant::now();
    let creds = sasl::Credentials {
        username: "user".into(),
        password: Some(proto_core::Secret::new("pencil".into())),
        ..sasl::Credentials::default()
    };
    for (tls, offered, want) in [
        (
            true,
            "LOGIN PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256",
            "SCRAM-SHA-256",
        ),
        (true, "LOGIN PLAIN CRAM-MD5 SCRAM-SHA-1", "SCRAM-SHA-1"),
        (true, "PLAIN LOGIN CRAM-MD5", "CRAM-MD5"),
        (true, "LOGIN PLAIN", "PLAIN"),
        (false, "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256", "SCRAM-SHA-256"),
        (false, "PLAIN LOGIN CRAM-MD5", "CRAM-MD5"),
    ] {
        let mut c = ClientSession::new(
            ClientConfig {
                credentials: Some(creds.clone()),
                implicit_tls: tls,
                ..ClientConfig::default()
            },
            t0,
        );
        c.handle_input(format!("220 mx\r\n250-mx\r\n250 AUTH {offered}\r\n").as_bytes());
        client_events(&mut c);
        let out = out_of(&mut c);
        let auth = out.lines().nth(1).unwrap_or_default();
        let mech = auth.split(' ').nth(1).unwrap_or_default();
        assert_eq!(mech, want, "{offered} (TLS {tls}): {out:?}");
    }
}

/// Issue 5: "EHLO keyword list typed (every IANA-registered keyword known by
/// full name, unknown ones kept)". Every keyword of the IANA "SMTP Service
/// Extensions" registry reads, in any case, as a typed keyword whose name is
/// the registered one; a longer or shorter word is not it.
#[test]
fn every_iana_ehlo_keyword_is_known_by_full_name() {
    use smtp_proto::EhloKeyword;
    const IANA: &[&str] = &[
        "SEND",
        "SOML",
        "SAML",
        "VRFY",
        "EXPN",
        "HELP",
        "TURN",
        "8BITMIME",
        "SIZE",
        "VERB",
        "ONEX",
        "CHUNKING",
        "BINARYMIME",
        "CHECKPOINT",
        "DELIVERBY",
        "PIPELINING",
        "DSN",
        "ETRN",
        "ENHANCEDSTATUSCODES",
        "STARTTLS",
        "NO-SOLICITING",
        "MTRK",
        "AUTH",
        "ATRN",
        "BURL",
        "FUTURERELEASE",
        "CONPERM",
        "CONNEG",
        "SMTPUTF8",
        "UTF8SMTP",
        "MT-PRIORITY",
        "RRVS",
        "REQUIRETLS",
        "LIMITS",
        "SUBMITTER",
    ];
    for name in IANA {
        for spelled in [name.to_string(), name.to_ascii_lowercase()] {
            let kw = EhloKeyword::from_bytes(spelled.as_bytes());
            assert!(!matches!(kw, EhloKeyword::Other(_)), "{spelled} is not typed");
            assert_eq!(kw.name(), name.as_bytes());
        }
        for near in [format!("{name}X"), name[..name.len() - 1].to_string()] {
            assert!(
                matches!(EhloKeyword::from_bytes(near.as_bytes()), EhloKeyword::Other(_)),
                "{near}"
            );
        }
    }
}

/// Issue 5: "Timeouts from RFC 5321 4.5.3.2 via poll_timeout/handle_timeout".
/// The client waits 5 minutes for a RCPT reply (4.5.3.2.3) and 10 minutes
/// for the reply after the end of data (4.5.3.2.6: "Timeout: 10 minutes"),
/// never less.
#[test]
fn client_waits_five_minutes_for_rcpt_and_ten_for_the_end_of_data() {
    const MIN: std::time::Duration = std::time::Duration::from_secs(60);
    let t0 = Instant::now();
    let env = || Envelope {
        from: "a@example.test".into(),
        recipients: vec![Recipient::new("b@example.test")],
        ..Envelope::default()
    };
    // RCPT: 5 minutes.
    let mut c = ClientSession::new(
        ClientConfig {
            pipelining: false,
            ..ClientConfig::default()
        },
        t0,
    );
    c.handle_input(b"220 mx\r\n250 mx\r\n");
    client_events(&mut c);
    c.send_mail(env(), t0).unwrap();
    c.handle_input(b"250 ok\r\n");
    client_events(&mut c);
    assert!(out_of(&mut c).ends_with("RCPT TO:<b@example.test>\r\n"));
    let mut at = c.poll_timeout().unwrap();
    c.handle_timeout(at);
    if !c.is_closed() {
        // A reply arrived since the timer started: it restarts in full.
        assert_eq!(c.poll_timeout(), Some(at + 5 * MIN));
        at += 5 * MIN;
        c.handle_timeout(at - std::time::Duration::from_secs(1));
        assert!(client_events(&mut c).is_empty());
        c.handle_timeout(at);
    }
    assert_eq!(client_events(&mut c).last().unwrap(), "error Timeout");
    // End of data: 10 minutes after the data block timer's turn.
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250 PIPELINING\r\n");
    client_events(&mut c);
    c.send_mail(env(), t0).unwrap();
    c.handle_input(b"250 ok\r\n250 ok\r\n354 go\r\n");
    assert_eq!(client_events(&mut c).last().unwrap(), "SendBody");
    c.send_data(b"hi\r\n").unwrap();
    c.finish_data().unwrap();
    assert!(out_of(&mut c).ends_with("hi\r\n.\r\n"));
    let mut now = c.poll_timeout().unwrap();
    c.handle_timeout(now);
    assert!(!c.is_closed());
    let next = c.poll_timeout().unwrap();
    assert!(next >= now + 10 * MIN, "{:?}", next - now);
    now = next;
    c.handle_timeout(now - std::time::Duration::from_secs(1));
    assert!(client_events(&mut c).is_empty());
    c.handle_timeout(now);
    let ev = client_events(&mut c);
    assert!(ev[0].contains("code: 451"), "{ev:?}");
    assert_eq!(ev.last().unwrap(), "error Timeout");
}
