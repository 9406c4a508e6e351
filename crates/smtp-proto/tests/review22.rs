//! Review 22: gaps left open by earlier reviews, each test quoting the RFC
//! rule it checks and failing on the code as it was before its fix (but
//! `client_events_do_not_depend_on_how_replies_are_split`, which guards
//! behaviour that was already right).

use bytes::BytesMut;
use smtp_proto::{ClientConfig, ClientEvent, ClientSession, Command, Envelope, Host, Recipient};
use std::time::Instant;

/// Parses `line`, and when it parses, checks that it encodes back to a line
/// that parses to the same command.
fn parse_round_trip(line: &[u8]) -> Result<(), smtp_proto::CommandError> {
    let c = Command::parse(line)?;
    let mut out = BytesMut::new();
    c.encode(&mut out).expect("a parsed command encodes");
    let again = out.strip_suffix(b"\r\n").expect("CRLF");
    assert_eq!(
        Command::parse(again),
        Ok(c),
        "{:?}",
        String::from_utf8_lossy(again)
    );
    Ok(())
}

/// RFC 5321 4.1.3: `General-address-literal = Standardized-tag ":"
/// 1*dcontent` with `Standardized-tag = Ldh-str` and `Ldh-str = *( ALPHA /
/// DIGIT / "-" ) Let-dig`: the tag is letters, digits and hyphens ending
/// with a letter or digit; no dot, no empty tag.
#[test]
fn general_address_literal_tag_is_an_ldh_str() {
    for ok in [&b"x-tag:abc"[..], b"X1:a.b.c", b"-a:z", b"a--b:z", b"9:z"] {
        let mut path = b"MAIL FROM:<u@[".to_vec();
        path.extend_from_slice(ok);
        path.extend_from_slice(b"]>");
        assert_eq!(
            parse_round_trip(&path),
            Ok(()),
            "{:?}",
            String::from_utf8_lossy(ok)
        );
        let mut lit = b"[".to_vec();
        lit.extend_from_slice(ok);
        lit.push(b']');
        assert!(matches!(Host::parse(&lit), Ok(Host::General { .. })), "{lit:?}");
    }
    for bad in [
        &b"a.b:abc"[..],
        b"a-:abc",
        b":abc",
        b"a b:c",
        b"a_b:c",
        b".a:c",
        b"\xc3\xa9:c",
    ] {
        let mut path = b"MAIL FROM:<u@[".to_vec();
        path.extend_from_slice(bad);
        path.extend_from_slice(b"]>");
        assert!(
            Command::parse(&path).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
        let mut lit = b"[".to_vec();
        lit.extend_from_slice(bad);
        lit.push(b']');
        assert!(Host::parse(&lit).is_err(), "{:?}", String::from_utf8_lossy(bad));
        let mut ehlo = b"EHLO ".to_vec();
        ehlo.extend_from_slice(&lit);
        assert!(
            Command::parse(&ehlo).is_err(),
            "{:?}",
            String::from_utf8_lossy(&ehlo)
        );
        // The encoder refuses what the parser refuses.
        let Some(colon) = bad.iter().position(|&b| b == b':') else {
            continue;
        };
        let host = Host::General {
            tag: &bad[..colon],
            content: &bad[colon + 1..],
        };
        assert!(host.write_to(&mut BytesMut::new()).is_err(), "{host:?}");
    }
}

/// RFC 6531 3.7.4.2: `vrfy = "VRFY" SP String [ SP "SMTPUTF8" ] CRLF`,
/// `expn = "EXPN" SP String [ SP "SMTPUTF8" ] CRLF`; "The SMTPUTF8
/// parameter does not accept a value" and "enables UTF-8 replies for that
/// command only". The parameter is not part of the String: the application
/// must see the name to look up alone, and whether UTF-8 may be answered.
#[test]
fn vrfy_and_expn_take_the_smtputf8_parameter_apart() {
    let cases: [(&[u8], &[u8]); 6] = [
        (b"VRFY user SMTPUTF8", b"user"),
        (b"VRFY J\xc3\xb6rg Smith smtputf8", b"J\xc3\xb6rg Smith"),
        (b"EXPN list SMTPUTF8", b"list"),
        (b"EXPN list SmtpUtf8", b"list"),
        (b"VRFY SMTPUTF8", b"SMTPUTF8"),
        (b"VRFY user", b"user"),
    ];
    for (line, want) in cases {
        let arg = match Command::parse(line) {
            Ok(Command::Vrfy { arg, .. } | Command::Expn { arg, .. }) => arg,
            other => panic!("{other:?}"),
        };
        assert_eq!(arg, want, "{:?}", String::from_utf8_lossy(line));
        assert_eq!(parse_round_trip(line), Ok(()));
    }
    // "SMTPUTF8" with a value, or followed by more text, is part of the String.
    for (line, want) in [
        (&b"VRFY user SMTPUTF8=1"[..], &b"user SMTPUTF8=1"[..]),
        (b"VRFY user SMTPUTF8 x", b"user SMTPUTF8 x"),
        (b"VRFY user XSMTPUTF8", b"user XSMTPUTF8"),
    ] {
        let arg = match Command::parse(line) {
            Ok(Command::Vrfy { arg, .. }) => arg,
            other => panic!("{other:?}"),
        };
        assert_eq!(arg, want);
    }
    // The encoder writes the parameter from the flag, and refuses an
    // argument that would read back as holding it.
    let enc = |c: Command<'_>| {
        let mut out = BytesMut::new();
        c.encode(&mut out).map(|()| out.to_vec())
    };
    assert_eq!(
        enc(Command::Vrfy {
            arg: b"user",
            smtputf8: true
        }),
        Ok(b"VRFY user SMTPUTF8\r\n".to_vec())
    );
    assert_eq!(
        enc(Command::Expn {
            arg: b"user smtputf8",
            smtputf8: true
        }),
        Ok(b"EXPN user smtputf8 SMTPUTF8\r\n".to_vec())
    );
    for arg in [&b"user SMTPUTF8"[..], b"a smtpUTF8"] {
        assert!(enc(Command::Vrfy { arg, smtputf8: false }).is_err());
        assert!(enc(Command::Expn { arg, smtputf8: false }).is_err());
    }
    assert_eq!(
        Command::parse(b"VRFY user SMTPUTF8"),
        Ok(Command::Vrfy {
            arg: b"user",
            smtputf8: true
        })
    );
}

/// Encoders write only what parses back: a VRFY, EXPN, HELP, NOOP or ETRN
/// argument with a control byte other than HTAB, or DEL, is refused by the
/// parser (501) and so must be refused by the encoder.
#[test]
fn string_arguments_the_parser_refuses_are_not_encoded() {
    for bad in [&b"a\x01b"[..], b"a\x7fb", b"\x1b[0m", b"a\x0cb"] {
        let mut line = b"VRFY ".to_vec();
        line.extend_from_slice(bad);
        assert!(Command::parse(&line).is_err(), "{line:?}");
        for c in [
            Command::Vrfy {
                arg: bad,
                smtputf8: false,
            },
            Command::Expn {
                arg: bad,
                smtputf8: true,
            },
            Command::Help { topic: Some(bad) },
            Command::Noop { arg: Some(bad) },
            Command::Etrn { node: bad },
        ] {
            assert!(c.encode(&mut BytesMut::new()).is_err(), "{c:?}");
        }
    }
}

/// The name the server gives for itself in the greeting, the EHLO reply and
/// the other replies that carry it: RFC 5321 4.2 `Greeting = ( "220 "
/// (Domain / address-literal) [ SP textstring ] CRLF ) / ...` and 4.1.1.1
/// `ehlo-ok-rsp = ( "250" SP Domain [ SP ehlo-greet ] CRLF ) / ...`; RFC
/// 6531 3.7.1: "If the SMTPUTF8-aware SMTP server provides domain names in
/// the EHLO response, they MUST be in the form of LDH labels or A-labels."
/// A configured name that is not one (a U-label, a space, a control byte)
/// is replaced by `localhost`, as the client does with its EHLO name.
#[test]
fn server_names_itself_with_an_ascii_domain_or_address_literal() {
    use smtp_proto::checks::ServerApp;
    use smtp_proto::{ServerConfig, ServerSession};
    let first_word = |line: &str, skip: usize| -> String {
        line[skip..]
            .split([' ', '\r'])
            .next()
            .unwrap_or_default()
            .to_string()
    };
    for (name, want) in [
        ("mx.example.test", "mx.example.test"),
        ("[192.0.2.1]", "[192.0.2.1]"),
        ("[IPv6:2001:db8::1]", "[IPv6:2001:db8::1]"),
        ("b\u{fc}cher.example.test", "localhost"),
        ("mx.example.test ESMTP Postfix", "localhost"),
        ("mx\texample", "localhost"),
        ("mx\r\n250 x", "localhost"),
        ("", "localhost"),
    ] {
        let now = Instant::now();
        let mut s = ServerSession::new(
            ServerConfig {
                hostname: name.into(),
                ..ServerConfig::default()
            },
            now,
        );
        let mut app = ServerApp::default();
        let greeting = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
        assert!(greeting.starts_with("220 "), "{name:?}: {greeting:?}");
        assert_eq!(first_word(&greeting, 4), want, "{name:?}: {greeting:?}");
        s.handle_input(b"EHLO client.test\r\n");
        let r = app.drive(&mut s, now);
        s.handle_input(b"QUIT\r\n");
        let r = r.and_then(|()| app.drive(&mut s, now));
        let out = String::from_utf8_lossy(&proto_core::drain_transmit(&mut s)).into_owned();
        assert!(r.is_ok(), "{name:?}: {out:?}");
        assert!(out.starts_with("250-"), "{name:?}: {out:?}");
        assert_eq!(first_word(&out, 4), want, "{name:?}: {out:?}");
        assert!(out.contains(&format!("221 2.0.0 {want} ")), "{name:?}: {out:?}");
        assert!(out.is_ascii());
    }
}

/// RFC 2034 4: the server that announces ENHANCEDSTATUSCODES (this one
/// always does) "must preface the text part of almost all response lines
/// with a status code"; "These codes must appear in all 2xx, 4xx, and 5xx
/// response lines other than initial greeting and any response to HELO or
/// EHLO", and "must agree with the primary response code". A reply the
/// application gives without one (accept_with, reject, lmtp_replies,
/// shutdown, auth_finish, set_starttls_unavailable) went out without it;
/// the session now writes RFC 3463 3.1 `X.0.0` ("Other undefined Status
/// ... should be used for all errors for which only the class of the error
/// is known") on every line, and keeps a code the application gave.
#[test]
fn application_replies_carry_an_enhanced_status_code() {
    use smtp_proto::{AuthOutcome, Reply, ServerConfig, ServerEvent, ServerSession};
    let now = Instant::now();
    let drain = |s: &mut ServerSession| String::from_utf8_lossy(&proto_core::drain_transmit(s)).into_owned();
    let events = |s: &mut ServerSession| {
        let mut v = Vec::new();
        while let Some(ev) = s.poll_event().expect("no fatal error") {
            v.push(ev);
        }
        v
    };
    // Every line after the greeting and the EHLO reply has a code of its class.
    let check = |out: &str| {
        for line in out.split_terminator("\r\n") {
            let (code, rest) = line.split_at(3);
            if code.starts_with('3') {
                continue;
            }
            let e = rest[1..].split(' ').next().unwrap_or_default();
            let parts: Vec<&str> = e.split('.').collect();
            assert!(
                parts.len() == 3 && parts[0] == &code[..1] && parts.iter().all(|p| p.parse::<u16>().is_ok()),
                "{line:?} in {out:?}"
            );
        }
    };
    for lmtp in [false, true] {
        let mut s = ServerSession::new(
            ServerConfig {
                lmtp,
                auth_mechanisms: vec!["PLAIN".into()],
                allow_plaintext_auth: true,
                starttls: true,
                ..ServerConfig::default()
            },
            now,
        );
        drain(&mut s);
        s.handle_input(if lmtp {
            b"LHLO c.test\r\n"
        } else {
            b"EHLO c.test\r\n"
        });
        events(&mut s);
        drain(&mut s);
        s.set_starttls_unavailable(Some(Reply::new(454, None, "TLS not available now")))
            .unwrap();
        s.handle_input(b"STARTTLS\r\n");
        events(&mut s);
        s.handle_input(b"AUTH PLAIN AHUAcA==\r\n");
        events(&mut s);
        s.auth_finish(AuthOutcome::Failure(Some(Reply::new(535, None, "No"))))
            .unwrap();
        s.handle_input(b"MAIL FROM:<a@x.test>\r\n");
        events(&mut s);
        s.accept_with(&Reply::new(250, None, "Sender fine")).unwrap();
        s.handle_input(b"RCPT TO:<b@x.test>\r\n");
        events(&mut s);
        s.reject(Reply::with_lines(
            550,
            None,
            vec!["No such".into(), "user here".into()],
        ))
        .unwrap();
        s.handle_input(b"RCPT TO:<c@x.test>\r\n");
        events(&mut s);
        s.accept_with(&Reply::new(251, Some(smtp_proto::EnhancedCode(2, 1, 5)), "Kept"))
            .unwrap();
        s.handle_input(b"DATA\r\n");
        events(&mut s);
        s.handle_input(b"hi\r\n.\r\n");
        let evs = events(&mut s);
        assert!(matches!(evs.last(), Some(ServerEvent::DataEnd)), "{evs:?}");
        if lmtp {
            s.lmtp_replies(&[Reply::new(452, None, "Over quota")]).unwrap();
        } else {
            s.reject(Reply::new(554, None, "Not today")).unwrap();
        }
        s.shutdown(Some(&Reply::new(421, None, "Going down"))).unwrap();
        let out = drain(&mut s);
        check(&out);
        // The code given is kept.
        assert!(out.contains("251 2.1.5 Kept\r\n"), "{out}");
        assert!(
            out.contains("550-5.0.0 No such\r\n550 5.0.0 user here\r\n"),
            "{out}"
        );
    }
}

type Run = (Vec<String>, Option<String>, Vec<u8>);

/// Runs a client against the server bytes of `script` (fed in pieces of
/// `split` bytes, 0 for whole turns): its events, its error, what it sent.
fn client_run(script: &[&[u8]], split: usize) -> Run {
    let now = Instant::now();
    let mut c = ClientSession::new(ClientConfig::default(), now);
    let mut evs = Vec::new();
    let mut err = None;
    let mut sent = Vec::new();
    let mut started = false;
    for chunk in script {
        let pieces: Vec<&[u8]> = if split == 0 {
            vec![chunk]
        } else {
            chunk.chunks(split).collect()
        };
        for p in pieces {
            c.handle_input(p);
            loop {
                match c.poll_event() {
                    Ok(Some(ev)) => {
                        match &ev {
                            ClientEvent::Ready if !started => {
                                started = true;
                                let env = Envelope {
                                    from: "a@x.test".into(),
                                    recipients: vec![Recipient::new("b@x.test"), Recipient::new("c@x.test")],
                                    ..Envelope::default()
                                };
                                c.send_mail(env, now).unwrap();
                            }
                            ClientEvent::SendBody => {
                                c.send_data(b"hi\r\n").unwrap();
                                c.finish_data().unwrap();
                            }
                            _ => {}
                        }
                        evs.push(format!("{ev:?}"));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        err = Some(format!("{:?}", e.kind()));
                        break;
                    }
                }
            }
            sent.extend(proto_core::drain_transmit(&mut c));
        }
    }
    (evs, err, sent)
}

#[test]
/// RFC 5321 4.2: a multiline reply is its lines up to the one with SP after
/// the code, however the bytes arrive; RFC 2034 5: a client cannot require
/// the enhanced codes. The client's events and output do not depend on how
/// the server's bytes are split, down to one byte at a time.
fn client_events_do_not_depend_on_how_replies_are_split() {
    let script: &[&[u8]] = &[
        b"220 mx ESMTP\r\n",
        b"250-mx\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
        b"250 ok\r\n550 5.1.1 no\r\n250-2.1.5 ok\r\n250 2.1.5 more\r\n354 go\r\n",
        b"250-fine\r\n250 2.0.0 \xc3\xa9\r\n",
        b"421 4.3.2 bye\r\n",
    ];
    let whole = client_run(script, 0);
    // Replies without an enhanced code although ENHANCEDSTATUSCODES was
    // announced are taken as they are; UTF-8 text too.
    assert_eq!(whole.0.len(), 6, "{whole:#?}");
    assert!(whole.0[5].starts_with("MessageResult"), "{whole:#?}");
    assert_eq!(whole.1.as_deref(), Some("ServiceClosing"));
    assert!(whole.2.ends_with(b"DATA\r\nhi\r\n.\r\n"));
    for k in 1..=7 {
        assert_eq!(client_run(script, k), whole, "split {k}");
    }
    // A 554 greeting: QUIT and nothing else (RFC 5321 3.1); a 421 at once.
    let refused = client_run(&[b"554 5.3.2 go away\r\n", b"221 bye\r\n"], 1);
    assert_eq!(refused.2, b"QUIT\r\n");
    let closing = client_run(&[b"220 mx\r\n", b"421 4.3.2 bye\r\n"], 1);
    assert_eq!(closing.1.as_deref(), Some("ServiceClosing"));
    assert_eq!(closing.2, b"EHLO localhost\r\n");
}

/// RFC 3461 4.2: `original-recipient-address = addr-type ";" xtext`, the
/// xtext holding "an encoded representation of the original recipient
/// address" of that type; for the `utf-8` type (RFC 6533) that address is
/// UTF-8 text (a Mailbox of RFC 6531 3.3, its ASCII form written with
/// `\x{HEX}`), which holds no control character. An xtext that decodes to
/// bytes that are not UTF-8 (`+FF`) or to a control character (`+00`,
/// `+0A`) is no such address: 501, as for `rfc822` (review 20).
#[test]
fn utf8_orcpt_must_decode_to_utf8_text() {
    let bad = [
        &b"RCPT TO:<a@x.test> ORCPT=utf-8;a+FF@x.test"[..],
        b"RCPT TO:<a@x.test> ORCPT=utf-8;a+C3@x.test",
        b"RCPT TO:<a@x.test> ORCPT=utf-8;a+00b@x.test",
        b"RCPT TO:<a@x.test> ORCPT=utf-8;a+0D+0AQUIT@x.test",
        b"RCPT TO:<a@x.test> ORCPT=UTF-8;a+7F@x.test",
        b"RCPT TO:<a@x.test> ORCPT=utf-8;\xc3\xa9+FF@x.test",
    ];
    for line in bad {
        assert!(
            matches!(
                Command::parse(line),
                Err(smtp_proto::CommandError::BadDsnParameter(_))
            ),
            "{:?}: {:?}",
            String::from_utf8_lossy(line),
            Command::parse(line)
        );
    }
    let good = [
        &b"RCPT TO:<a@x.test> ORCPT=utf-8;a\\x{E9}@x.test"[..],
        b"RCPT TO:<a@x.test> ORCPT=utf-8;b+C3+A9@x.test",
        b"RCPT TO:<a@x.test> ORCPT=utf-8;bj\xc3\xb6rn@x.test",
        b"RCPT TO:<a@x.test> ORCPT=rfc822;a+2Bb@x.test",
    ];
    for line in good {
        assert_eq!(
            parse_round_trip(line),
            Ok(()),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    // The encoder keeps to the same rule.
    let rcpt = Command::Rcpt {
        to: smtp_proto::ForwardPath::Postmaster,
        params: smtp_proto::RcptParams {
            orcpt: Some(smtp_proto::Orcpt {
                addr_type: b"utf-8",
                addr: smtp_proto::XText(b"a+FF@x.test"),
            }),
            ..smtp_proto::RcptParams::default()
        },
    };
    assert!(rcpt.encode(&mut BytesMut::new()).is_err());
}
