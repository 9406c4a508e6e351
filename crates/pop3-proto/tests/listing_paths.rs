//! LIST and UIDL listings take a word-at-a-time hot loop for lines of the
//! usual shape and a general path for everything else. Whatever the shape of
//! the lines, the limits and the chunking, the session must give exactly what
//! the public line parsers give line by line: the same entries, or the same
//! fatal error.

use pop3_proto::{
    ClientConfig, ClientEvent, ClientSession, Credentials, Error, ScanListing, TlsMode, UidListing,
};
use proptest::prelude::*;
use proto_core::{Secret, Session};
use std::time::Instant;

fn logged_in(max_entries: usize, max_line: usize) -> ClientSession {
    let mut cfg = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("p".into())),
        ..Credentials::default()
    });
    cfg.tls = TlsMode::Implicit;
    cfg.limits.max_listing_entries = max_entries;
    cfg.limits.max_response_line = max_line;
    let mut c = ClientSession::new(cfg, Instant::now());
    c.handle_input(b"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n");
    while let Some(ev) = c.poll_event().unwrap() {
        if matches!(ev, ClientEvent::LoggedIn(_)) {
            break;
        }
    }
    assert!(c.is_logged_in());
    c
}

/// Entries as `(msg, size or uid)` strings, or the error's text.
type Outcome = Result<Vec<String>, String>;

/// What the session makes of `body` (the lines after "+OK", terminator
/// included), fed in pieces of `piece` bytes.
fn session(body: &[u8], uidl: bool, max_entries: usize, max_line: usize, piece: usize) -> Outcome {
    let mut c = logged_in(max_entries, max_line);
    if uidl {
        c.uidl(None).unwrap();
    } else {
        c.list(None).unwrap();
    }
    let wire = [&b"+OK\r\n"[..], body].concat();
    for p in wire.chunks(piece) {
        c.handle_input(p);
        loop {
            match c.poll_event() {
                Ok(Some(ClientEvent::Listing(v))) => {
                    return Ok(v.iter().map(|l| format!("{} {}", l.msg, l.size)).collect());
                }
                Ok(Some(ClientEvent::UidListing(v))) => {
                    return Ok(v.iter().map(|l| format!("{} {:?}", l.msg, l.uid)).collect());
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    Err("incomplete".into())
}

/// The model: split at CRLF, check the line length, unstuff, parse each line
/// with the public parser, count entries.
fn model(body: &[u8], uidl: bool, max_entries: usize, max_line: usize) -> Outcome {
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            return Err("incomplete".into());
        };
        let raw = &rest[..=lf];
        rest = &rest[lf + 1..];
        if raw.len() > max_line {
            return Err(Error::Limit {
                what: "response line length",
            }
            .to_string());
        }
        let Some(line) = raw.strip_suffix(b"\r\n").filter(|l| !l.contains(&b'\r')) else {
            return Err("line ending".into());
        };
        if line == b"." {
            return Ok(out);
        }
        let line = line.strip_prefix(b".").unwrap_or(line);
        let parsed = if uidl {
            UidListing::parse(&bytes::Bytes::copy_from_slice(line)).map(|l| format!("{} {:?}", l.msg, l.uid))
        } else {
            ScanListing::parse(line).map(|l| format!("{} {}", l.msg, l.size))
        };
        match parsed {
            Ok(s) => out.push(s),
            Err(e) => return Err(Error::Response(e).to_string()),
        }
        if out.len() > max_entries {
            return Err(Error::Limit {
                what: "listing entries",
            }
            .to_string());
        }
    }
}

/// Line-ending errors carry the line in the message; compare their kind only.
fn kind(o: Outcome) -> Outcome {
    o.map_err(|e| {
        if e.contains("line ending") {
            "line ending".to_owned()
        } else {
            e
        }
    })
}

fn digits(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::string::string_regex(&format!("[1-9][0-9]{{0,{}}}", max.min(7) - 1)).unwrap(),
        1 => proptest::string::string_regex(&format!("[0-9]{{1,{max}}}")).unwrap(),
    ]
}

/// Listing lines: mostly the usual shape, some with longer numbers, extra
/// fields, stuffed dots, odd uids, bare CR/LF or garbage.
fn line(uidl: bool) -> impl Strategy<Value = Vec<u8>> {
    let second = if uidl {
        prop_oneof![
            4 => proptest::string::string_regex("[!-~]{1,24}").unwrap(),
            1 => proptest::string::string_regex("[!-~]{60,80}").unwrap(),
            1 => proptest::string::string_regex("[ -~\\x7f\\x80]{0,12}").unwrap(),
        ]
        .boxed()
    } else {
        digits(21).boxed()
    };
    (
        digits(11),
        second,
        prop_oneof![8 => Just(""), 1 => Just(" extra"), 1 => Just("x"), 1 => Just(" ")],
        prop_oneof![12 => Just(""), 1 => Just("."), 1 => Just("..")],
        prop_oneof![20 => Just("\r\n"), 1 => Just("\n"), 1 => Just("\r\r\n")],
    )
        .prop_map(|(a, b, tail, dots, end)| format!("{dots}{a} {b}{tail}{end}").into_bytes())
}

fn listing(uidl: bool) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(line(uidl), 0..40).prop_map(|lines| {
        let mut body = lines.concat();
        body.extend_from_slice(b".\r\n");
        body
    })
}

fn check(
    body: &[u8],
    uidl: bool,
    max_entries: usize,
    max_line: usize,
    piece: usize,
) -> Result<(), TestCaseError> {
    let want = kind(model(body, uidl, max_entries, max_line));
    let whole = kind(session(body, uidl, max_entries, max_line, body.len() + 5));
    prop_assert_eq!(&whole, &want, "whole, {:?}", String::from_utf8_lossy(body));
    let pieces = kind(session(body, uidl, max_entries, max_line, piece));
    prop_assert_eq!(
        &pieces,
        &want,
        "pieces of {}, {:?}",
        piece,
        String::from_utf8_lossy(body)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn scan_listing_paths_agree(
        body in listing(false),
        max_entries in prop_oneof![Just(1_000usize), 0usize..30],
        max_line in prop_oneof![Just(512usize), 8usize..40],
        piece in 1usize..64,
    ) {
        check(&body, false, max_entries, max_line, piece)?;
    }

    #[test]
    fn uid_listing_paths_agree(
        body in listing(true),
        max_entries in prop_oneof![Just(1_000usize), 0usize..30],
        max_line in prop_oneof![Just(512usize), 8usize..100],
        piece in 1usize..64,
    ) {
        check(&body, true, max_entries, max_line, piece)?;
    }
}

#[test]
fn usual_shapes_at_every_number_length() {
    // Every digit count on both sides of the word boundary (numbers that
    // overflow included), in runs long enough for the hot loop, down to the
    // last lines near the end of the chunk.
    let mut checked = 0;
    for a in 1..=11 {
        for b in 1..=21 {
            let msg: String = "4294967295".chars().cycle().skip(a % 3).take(a).collect();
            let size: String = "18446744073709551615"
                .chars()
                .cycle()
                .skip(b % 5)
                .take(b)
                .collect();
            let mut body = format!("{msg} {size}\r\n").repeat(12).into_bytes();
            body.extend_from_slice(b".\r\n");
            for uidl in [false, true] {
                let want = kind(model(&body, uidl, 10_000, 512));
                for piece in [1, 7, 4096] {
                    assert_eq!(
                        kind(session(&body, uidl, 10_000, 512, piece)),
                        want,
                        "{msg} {size}"
                    );
                }
                checked += usize::from(want.is_ok());
            }
        }
    }
    // Most shapes parse; the model rejects message numbers over u32::MAX and
    // sizes over u64::MAX.
    assert!(checked > 400, "{checked}");
    assert!(matches!(model(b"1 x\r\n.\r\n", false, 10, 512), Err(e) if e.contains("scan listing")));
}
