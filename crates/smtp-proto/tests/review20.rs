//! Review 20: DSN, SMTPUTF8, RCPT line limits and encoder round trips.
//! Each test quotes the rule it checks; each failed on the code it was
//! written against.

use bytes::BytesMut;
use smtp_proto::checks::ServerApp;
use smtp_proto::{
    ClientConfig, ClientEvent, ClientSession, Command, Envelope, ForwardPath, Mailbox, Orcpt, OtherParams,
    RcptParams, Recipient, ServerConfig, ServerEvent, ServerSession, UsageError, XText,
};
use std::time::Instant;

mod common;
use common::out_of;

/// A client past EHLO, the server having answered with `ehlo` (after 220).
fn client_ready(ehlo: &[u8], t0: Instant) -> ClientSession {
    let mut c = ClientSession::new(ClientConfig::default(), t0);
    c.handle_input(b"220 mx\r\n");
    c.handle_input(ehlo);
    let mut evs = Vec::new();
    while let Some(ev) = c.poll_event().expect("no fatal error") {
        evs.push(ev);
    }
    assert_eq!(evs, vec![ClientEvent::Ready]);
    assert_eq!(out_of(&mut c), "EHLO localhost\r\n");
    c
}

fn env() -> Envelope {
    Envelope {
        from: "a@example.test".into(),
        recipients: vec![Recipient::new("b@example.test")],
        ..Envelope::default()
    }
}

/// A server session past EHLO with `cfg`, and what it answered to EHLO.
fn server_after_ehlo(cfg: ServerConfig) -> (ServerSession, ServerApp, String) {
    let now = Instant::now();
    let mut s = ServerSession::new(cfg, now);
    let mut app = ServerApp::default();
    assert!(out_of(&mut s).starts_with("220 "));
    s.handle_input(b"EHLO client.test\r\n");
    app.drive(&mut s, now).expect("EHLO");
    let ehlo = out_of(&mut s);
    (s, app, ehlo)
}

/// RFC 3461 4.4: "the value of the ENVID parameter prior to encoding as
/// "xtext" MUST consist entirely of printable (graphic and white space)
/// characters from the US-ASCII repertoire." The client xtext-encodes
/// whatever it is given (a non-ASCII or control character becomes +HH), so
/// it sent an ENVID that breaks this rule instead of refusing it.
#[test]
fn client_refuses_an_envid_that_is_not_printable_ascii() {
    let t0 = Instant::now();
    let mut c = client_ready(b"250-mx\r\n250-DSN\r\n250 PIPELINING\r\n", t0);
    for bad in ["caf\u{e9}-42", "id\u{1b}[31m", "id\u{7f}"] {
        let mut e = env();
        e.envid = Some(bad.into());
        assert!(
            matches!(c.send_mail(e, t0), Err(UsageError::BadArgument(_))),
            "{bad:?}"
        );
    }
    assert_eq!(out_of(&mut c), "");
    // Printable ASCII, spaces included, is fine.
    let mut e = env();
    e.envid = Some("QQ 314159+x".into());
    c.send_mail(e, t0).unwrap();
    assert!(
        out_of(&mut c).starts_with("MAIL FROM:<a@example.test> ENVID=QQ+20314159+2Bx\r\n"),
        "printable ENVID goes out xtext-encoded"
    );
}

/// RFC 3461 4.2: "the value of the original recipient address prior to
/// encoding as "xtext" MUST consist entirely of printable (graphic and white
/// space) characters from the US-ASCII repertoire." For `rfc822` addresses
/// the client sent a non-ASCII or control character as +HH all the same.
#[test]
fn client_refuses_an_rfc822_orcpt_that_is_not_printable_ascii() {
    let t0 = Instant::now();
    let mut c = client_ready(b"250-mx\r\n250-DSN\r\n250 PIPELINING\r\n", t0);
    for bad in ["j\u{f6}rg@example.test", "a\tb\u{0}@example.test"] {
        let mut e = env();
        e.recipients[0].orcpt = Some(("rfc822".into(), bad.into()));
        assert!(
            matches!(c.send_mail(e, t0), Err(UsageError::BadArgument(_))),
            "{bad:?}"
        );
    }
    assert_eq!(out_of(&mut c), "");
    assert!(c.is_ready());
}

/// RFC 3461 4.2: "The entire ORCPT parameter MAY be up to 500 characters in
/// length." The parser refuses a longer ORCPT value (501), but the encoder
/// wrote one, so `parse(encode(x)) == x` (DESIGN.md) failed and the client
/// sent a RCPT its own server side answers with 501.
#[test]
fn orcpt_longer_than_500_characters_is_refused_by_the_encoder() {
    let long = format!("{}@example.test", "x".repeat(490));
    let cmd = Command::Rcpt {
        to: ForwardPath::Mailbox(Mailbox::parse(b"b@example.test").unwrap()),
        params: RcptParams {
            orcpt: Some(Orcpt {
                addr_type: b"rfc822",
                addr: XText(long.as_bytes()),
            }),
            ..RcptParams::default()
        },
    };
    let mut out = BytesMut::new();
    if cmd.encode(&mut out).is_ok() {
        let line = &out[..out.len() - 2];
        assert_eq!(
            Command::parse_with(
                line,
                &smtp_proto::Limits {
                    rcpt_params_extra: 10_000,
                    ..smtp_proto::Limits::default()
                }
            ),
            Ok(cmd),
            "what the encoder writes must read back"
        );
    }
    // The client finds it before sending anything.
    let t0 = Instant::now();
    let mut c = client_ready(b"250-mx\r\n250-DSN\r\n250 PIPELINING\r\n", t0);
    let mut e = env();
    e.recipients[0].orcpt = Some(("rfc822".into(), long));
    assert!(matches!(c.send_mail(e, t0), Err(UsageError::BadArgument(_))));
    assert_eq!(out_of(&mut c), "");
}

/// `OtherParams::new`: "Entries whose keyword is typed in
/// `MailParams`/`RcptParams` are ignored." In a RCPT command, NOTIFY and
/// ORCPT given through `other` were written all the same, so a caller's
/// untyped list could inject a DSN parameter the typed fields do not hold
/// (`parse(encode(x)) != x`, DESIGN.md), or a second NOTIFY the server
/// refuses.
#[test]
fn other_params_cannot_smuggle_typed_rcpt_parameters() {
    let to = ForwardPath::Mailbox(Mailbox::parse(b"b@example.test").unwrap());
    let cmd = Command::Rcpt {
        to,
        params: RcptParams {
            other: OtherParams::new(b"NOTIFY=NEVER ORCPT=rfc822;x@example.test X-TAG=1"),
            ..RcptParams::default()
        },
    };
    let mut out = BytesMut::new();
    cmd.encode(&mut out).unwrap();
    let line = &out[..out.len() - 2];
    assert_eq!(
        std::str::from_utf8(line).unwrap(),
        "RCPT TO:<b@example.test> X-TAG=1"
    );
    let Ok(Command::Rcpt { params, .. }) = Command::parse(line) else {
        panic!("the RCPT reads back");
    };
    assert_eq!(params.notify, None);
    assert_eq!(params.orcpt, None);
}

/// RFC 3461 5.4: "A conforming MTA MUST be able to accept SMTP command-lines
/// which are at least 1036 characters long (530 characters for the ORCPT and
/// NOTIFY parameters of the RCPT command, in addition to the 512 characters
/// required by [1])." The server allowed RCPT lines of 512 + 500 = 1012.
#[test]
fn server_accepts_a_1036_character_rcpt_line() {
    let (mut s, mut app, _) = server_after_ehlo(ServerConfig::default());
    s.handle_input(b"MAIL FROM:<a@example.test>\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    assert!(out_of(&mut s).starts_with("250 "));
    let head = "RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;";
    // The ORCPT parameter at its 500 characters, then other parameters up
    // to 1036 characters with the CRLF.
    let addr = format!("{}@example.test", "o".repeat(500 - "ORCPT=rfc822;".len() - 13));
    let mut line = format!("{head}{addr}");
    let pad = 1036 - 2 - line.len() - " X-PAD=".len();
    line.push_str(&format!(" X-PAD={}", "p".repeat(pad)));
    line.push_str("\r\n");
    assert_eq!(line.len(), 1036);
    s.handle_input(line.as_bytes());
    let mut rcpt = false;
    while let Some(ev) = s.poll_event().unwrap() {
        if let ServerEvent::Rcpt(_) = ev {
            rcpt = true;
            s.accept().unwrap();
        }
    }
    let out = out_of(&mut s);
    assert!(rcpt && out.starts_with("250 "), "{out}");
}

/// RFC 6531 3.1 item 8: "Servers offering this extension MUST provide
/// support for, and announce, the 8BITMIME extension." With
/// `eight_bit_mime: false` the server still announced SMTPUTF8 (and took
/// the parameter).
#[test]
fn server_does_not_offer_smtputf8_without_8bitmime() {
    let cfg = ServerConfig {
        eight_bit_mime: false,
        smtputf8: true,
        ..ServerConfig::default()
    };
    let (mut s, mut app, ehlo) = server_after_ehlo(cfg);
    assert!(!ehlo.contains("8BITMIME"), "{ehlo}");
    assert!(!ehlo.contains("SMTPUTF8"), "{ehlo}");
    s.handle_input("MAIL FROM:<j\u{f6}rg@example.test> SMTPUTF8\r\n".as_bytes());
    app.drive(&mut s, Instant::now()).unwrap();
    let out = out_of(&mut s);
    assert!(out.starts_with("555 "), "{out}");
}

/// DESIGN.md: "Encoders refuse what cannot be sent safely" and
/// `parse(encode(x)) == x`. `Command::Auth`'s initial response is "base64
/// text, or `=` for an empty one" (RFC 4954 4: `initial-response =
/// base64 / "="`), but the encoder wrote any bytes but CR, LF and NUL: a
/// space and a second word went out, which the parser then refuses.
#[test]
fn auth_encoder_refuses_an_initial_response_that_is_not_base64() {
    for ir in [&b"AGEAYg== extra"[..], b"not base64!", b"\x1b[0m"] {
        let cmd = Command::Auth {
            mechanism: b"PLAIN",
            initial_response: Some(ir),
        };
        let mut out = BytesMut::new();
        assert!(cmd.encode(&mut out).is_err(), "{ir:?}");
        assert!(out.is_empty());
    }
    let cmd = Command::Auth {
        mechanism: b"PLAIN",
        initial_response: Some(b"AGEAYg=="),
    };
    let mut out = BytesMut::new();
    cmd.encode(&mut out).unwrap();
    assert_eq!(Command::parse(&out[..out.len() - 2]), Ok(cmd));
}

/// RFC 3461 4.4: "the value of the ENVID parameter prior to encoding as
/// "xtext" MUST consist entirely of printable (graphic and white space)
/// characters from the US-ASCII repertoire"; 4.2 says the same of the ORCPT
/// address, and 5.1 (a): "if the associated esmtp-value is not valid (i.e.,
/// contains illegal characters) ... the server MUST issue the reply-code
/// 501". The server took `ENVID=a+00b` (a NUL once decoded) and handed it
/// on, and a relay built on this crate's client then could not pass it on.
#[test]
fn server_refuses_dsn_values_that_decode_to_non_printable_characters() {
    for line in [
        "MAIL FROM:<a@example.test> ENVID=a+00b\r\n",
        "MAIL FROM:<a@example.test> ENVID=caf+C3+A9\r\n",
    ] {
        let (mut s, mut app, _) = server_after_ehlo(ServerConfig::default());
        s.handle_input(line.as_bytes());
        app.drive(&mut s, Instant::now()).unwrap();
        let out = out_of(&mut s);
        assert!(out.starts_with("501 "), "{line:?}: {out}");
    }
    let (mut s, mut app, _) = server_after_ehlo(ServerConfig::default());
    s.handle_input(b"MAIL FROM:<a@example.test> ENVID=QQ+20314159+2B\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    assert!(out_of(&mut s).starts_with("250 "));
    s.handle_input(b"RCPT TO:<b@example.test> ORCPT=rfc822;b+0D+0ARSET@example.test\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    let out = out_of(&mut s);
    assert!(out.starts_with("501 "), "{out}");
    // The utf-8 type has its own rules (RFC 6533) and is passed on.
    s.handle_input(b"RCPT TO:<b@example.test> ORCPT=utf-8;b+C3+A9@example.test\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    let out = out_of(&mut s);
    assert!(out.starts_with("250 "), "{out}");
    // The encoder keeps to the same rule, so what it writes reads back.
    let mail = Command::Mail {
        from: smtp_proto::ReversePath::Null,
        params: smtp_proto::MailParams {
            envid: Some(XText(b"a+00b")),
            ..smtp_proto::MailParams::default()
        },
    };
    assert!(mail.encode(&mut BytesMut::new()).is_err());
}

/// RFC 3030 2: "If a failure occurs after a BDAT command is received, the
/// receiver-SMTP MUST accept and discard the associated message data before
/// sending the appropriate 5XX or 4XX code." A BDAT whose chunk-size is
/// readable but whose end marker is not (`BDAT 6 LAST2`, a trailing space)
/// got 501 at once, and the chunk's octets were then read as commands: a
/// body line "QUIT" ended the session (command injection through the body).
#[test]
fn bdat_with_a_bad_end_marker_still_consumes_its_chunk() {
    for bdat in ["BDAT 6 LAST2\r\n", "BDAT 6 \r\n", "BDAT 6 MORE\r\n"] {
        let (mut s, mut app, _) = server_after_ehlo(ServerConfig::default());
        let mut input = b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n".to_vec();
        input.extend_from_slice(bdat.as_bytes());
        input.extend_from_slice(b"QUIT\r\n");
        input.extend_from_slice(b"NOOP\r\n");
        s.handle_input(&input);
        let r = app.drive(&mut s, Instant::now());
        let out = out_of(&mut s);
        assert!(r.is_ok() && !s.is_closed(), "{bdat:?}: {out}");
        let codes: Vec<&str> = out.lines().map(|l| &l[..3]).collect();
        assert_eq!(codes, ["250", "250", "501", "250"], "{bdat:?}: {out}");
        // The message lacks that chunk now: it is never delivered.
        s.handle_input(b"BDAT 3 LAST\r\nabc");
        let mut ended = false;
        while let Some(ev) = s.poll_event().unwrap() {
            ended |= matches!(ev, ServerEvent::DataEnd);
        }
        let out = out_of(&mut s);
        assert!(!ended && out.starts_with("503 "), "{bdat:?}: {out}");
    }
    // LMTP: DATA after it is refused once (503), so no reply count is owed.
    let cfg = ServerConfig {
        lmtp: true,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, Instant::now());
    let mut app = ServerApp::default();
    out_of(&mut s);
    s.handle_input(b"LHLO c.test\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    s.handle_input(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    out_of(&mut s);
    s.handle_input(b"BDAT 2 LAST2\r\nxxDATA\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    let out = out_of(&mut s);
    let codes: Vec<&str> = out.lines().map(|l| &l[..3]).collect();
    assert_eq!(codes, ["501", "503"], "{out}");
}

/// RFC 6531 3.2: "If an SMTPUTF8-aware SMTP server advertises the Delivery
/// Status Notification (DSN) [RFC3461] extension, it MUST implement RFC 6533
/// [RFC6533]." RFC 6533 3 lets the `utf-8` ORCPT carry the address as
/// utf-8-addr-unitext (raw UTF-8) when SMTPUTF8 is advertised. The default
/// server offers both, yet answered such an ORCPT with 501.
#[test]
fn server_takes_a_utf8_orcpt_in_unitext_form() {
    let (mut s, mut app, ehlo) = server_after_ehlo(ServerConfig::default());
    assert!(ehlo.contains("SMTPUTF8") && ehlo.contains("DSN"), "{ehlo}");
    s.handle_input(b"MAIL FROM:<a@example.test> SMTPUTF8\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    assert!(out_of(&mut s).starts_with("250 "));
    let line = "RCPT TO:<bj\u{f6}rn@example.test> ORCPT=utf-8;bj\u{f6}rn@example.test";
    s.handle_input(format!("{line}\r\n").as_bytes());
    app.drive(&mut s, Instant::now()).unwrap();
    let out = out_of(&mut s);
    assert!(out.starts_with("250 "), "{out}");
    // It reads back as written.
    let cmd = Command::parse(line.as_bytes()).unwrap();
    let mut enc = BytesMut::new();
    cmd.encode(&mut enc).unwrap();
    assert_eq!(&enc[..enc.len() - 2], line.as_bytes());
    // Not for another type, and not from a server without SMTPUTF8.
    assert!(
        Command::parse("RCPT TO:<b@example.test> ORCPT=rfc822;bj\u{f6}rn@example.test".as_bytes()).is_err()
    );
    let cfg = ServerConfig {
        smtputf8: false,
        ..ServerConfig::default()
    };
    let (mut s, mut app, _) = server_after_ehlo(cfg);
    s.handle_input(b"MAIL FROM:<a@example.test>\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    out_of(&mut s);
    s.handle_input("RCPT TO:<b@example.test> ORCPT=utf-8;bj\u{f6}rn@example.test\r\n".as_bytes());
    app.drive(&mut s, Instant::now()).unwrap();
    let out = out_of(&mut s);
    assert!(out.starts_with("501 "), "{out}");
}

/// RFC 3461 4.2: an addr-type for addresses outside printable US-ASCII
/// "MUST define the means of encoding those addresses in printable US-ASCII
/// characters when are then encoded as xtext"; for `utf-8` that is RFC 6533's
/// utf-8-addr-xtext, where a non-ASCII character (and "+", "=", "\") is
/// written `\x{HEX}`. The client xtext-encoded the UTF-8 bytes instead
/// (`bj+C3+B6rn`), which is not that form.
#[test]
fn client_writes_a_utf8_orcpt_as_utf8_addr_xtext() {
    let t0 = Instant::now();
    let mut c = client_ready(b"250-mx\r\n250-DSN\r\n250 PIPELINING\r\n", t0);
    let mut e = env();
    e.recipients[0].orcpt = Some(("utf-8".into(), "bj\u{f6}rn+tag@example.test".into()));
    c.send_mail(e, t0).unwrap();
    let out = out_of(&mut c);
    assert!(
        out.contains("RCPT TO:<b@example.test> ORCPT=utf-8;bj\\x{F6}rn\\x{2B}tag@example.test\r\n"),
        "{out}"
    );
    // An address already in that form (a relay passing on the ORCPT it
    // received, xtext-decoded) goes out unchanged, not encoded twice.
    c.handle_input(b"250 ok\r\n250 ok\r\n554 no\r\n");
    while c.poll_event().unwrap().is_some() {}
    out_of(&mut c);
    c.handle_input(b"250 ok\r\n");
    while c.poll_event().unwrap().is_some() {}
    let mut e = env();
    e.recipients[0].orcpt = Some(("utf-8".into(), "bj\\x{F6}rn@example.test".into()));
    c.send_mail(e, t0).unwrap();
    let out = out_of(&mut c);
    assert!(out.contains(" ORCPT=utf-8;bj\\x{F6}rn@example.test\r\n"), "{out}");
}

/// RFC 3030 2: "The resulting state from a failed BDAT command is
/// indeterminate. A RSET command MUST be issued to clear the transaction
/// before additional commands may be sent." When `BDAT 0 LAST` itself was
/// refused (554 after the body), the client reported the result and sent
/// the next MAIL without RSET.
#[test]
fn client_resets_after_a_refused_bdat_last() {
    let t0 = Instant::now();
    let cfg = ClientConfig {
        chunking: true,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(cfg, t0);
    c.handle_input(b"220 mx\r\n250-mx\r\n250-CHUNKING\r\n250 PIPELINING\r\n");
    while c.poll_event().unwrap().is_some() {}
    out_of(&mut c);
    c.send_mail(env(), t0).unwrap();
    c.handle_input(b"250 ok\r\n250 ok\r\n");
    let mut body = false;
    while let Some(ev) = c.poll_event().unwrap() {
        body |= ev == ClientEvent::SendBody;
    }
    assert!(body);
    c.send_data(b"hello\r\n").unwrap();
    c.finish_data().unwrap();
    assert!(out_of(&mut c).ends_with("BDAT 7\r\nhello\r\nBDAT 0 LAST\r\n"));
    c.handle_input(b"250 2.0.0 7 octets\r\n554 5.7.1 Message refused\r\n");
    let mut result = None;
    while let Some(ev) = c.poll_event().unwrap() {
        if let ClientEvent::MessageResult(r) = ev {
            result = Some(r[0].code());
        }
    }
    assert_eq!(result, Some(554));
    assert_eq!(out_of(&mut c), "RSET\r\n");
}

/// RFC 2033 5: "If the connection closes after replies for some, but not
/// all, recipients have arrived, the client MUST process the replies that
/// arrived and treat the rest as temporary failures." The LMTP client
/// dropped the replies it had and only reported the closed connection, so
/// the application could not tell the delivered recipient from the others
/// (a retry delivers it twice).
#[test]
fn lmtp_client_reports_partial_replies_when_the_connection_closes() {
    for end in [&b""[..], b"421 4.3.2 shutting down\r\n"] {
        let t0 = Instant::now();
        let cfg = ClientConfig {
            lmtp: true,
            ..ClientConfig::default()
        };
        let mut c = ClientSession::new(cfg, t0);
        c.handle_input(b"220 lmtp\r\n250-lmtp\r\n250-ENHANCEDSTATUSCODES\r\n250 PIPELINING\r\n");
        while c.poll_event().unwrap().is_some() {}
        out_of(&mut c);
        let mut e = env();
        e.recipients.push(Recipient::new("c@example.test"));
        c.send_mail(e, t0).unwrap();
        c.handle_input(b"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
        while c.poll_event().unwrap().is_some() {}
        c.send_data(b"hi\r\n").unwrap();
        c.finish_data().unwrap();
        out_of(&mut c);
        c.handle_input(b"250 2.1.5 b delivered\r\n");
        c.handle_input(end);
        if end.is_empty() {
            c.handle_eof();
        }
        let mut results = None;
        let mut closed = false;
        loop {
            match c.poll_event() {
                Ok(Some(ClientEvent::MessageResult(r))) => results = Some(r),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        assert!(closed, "{end:?}");
        let r = results.unwrap_or_else(|| panic!("{end:?}: no MessageResult"));
        assert_eq!(r.len(), 2, "{end:?}");
        assert_eq!(r[0].code(), 250);
        assert!(r[1].is_transient(), "{end:?}: {:?}", r[1]);
    }
}

/// RFC 2033 5: "A server implementation MUST implement the PIPELINING
/// [PIPELINING] and ENHANCEDSTATUSCODES [ENHANCEDSTATUSCODES] ESMTP
/// extensions." With `pipelining: false` an LMTP server left PIPELINING out
/// of its LHLO reply, and (with the default synchronisation check) closed
/// on the pipelined MAIL/RCPT an LMTP client may send.
#[test]
fn lmtp_server_always_offers_pipelining() {
    let cfg = ServerConfig {
        lmtp: true,
        pipelining: false,
        ..ServerConfig::default()
    };
    let mut s = ServerSession::new(cfg, Instant::now());
    let mut app = ServerApp::default();
    out_of(&mut s);
    s.handle_input(b"LHLO client.test\r\n");
    app.drive(&mut s, Instant::now()).unwrap();
    let lhlo = out_of(&mut s);
    assert!(
        lhlo.contains("PIPELINING") && lhlo.contains("ENHANCEDSTATUSCODES"),
        "{lhlo}"
    );
    s.handle_input(b"MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\n");
    let r = app.drive(&mut s, Instant::now());
    let out = out_of(&mut s);
    assert!(
        r.is_ok() && out == "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n",
        "{out}"
    );
}
