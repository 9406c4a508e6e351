//! Client-side limits and malformed listings: each is a clear fatal error,
//! whether the listing arrives whole or byte by byte.

use pop3_proto::{ClientConfig, ClientEvent, ClientSession, Credentials, Error, TlsMode};
use proto_core::{Secret, Session};
use std::time::Instant;

fn logged_in(max_entries: usize) -> ClientSession {
    let mut cfg = ClientConfig::new(Credentials {
        username: "u".into(),
        password: Some(Secret::new("p".into())),
        ..Credentials::default()
    });
    cfg.tls = TlsMode::Implicit;
    cfg.limits.max_listing_entries = max_entries;
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

fn outcome(answer: &[u8], max_entries: usize, byte_by_byte: bool, uidl: bool) -> Result<Vec<String>, Error> {
    let mut c = logged_in(max_entries);
    if uidl {
        c.uidl(None).unwrap();
    } else {
        c.list(None).unwrap();
    }
    let mut events = Vec::new();
    let pieces: Vec<&[u8]> = if byte_by_byte {
        answer.chunks(1).collect()
    } else {
        vec![answer]
    };
    for p in pieces {
        c.handle_input(p);
        while let Some(ev) = c.poll_event()? {
            events.push(format!("{ev:?}"));
        }
    }
    Ok(events)
}

#[test]
fn listing_limits_and_malformed_lines() {
    let long = [&b"+OK\r\n1 "[..], &[b'9'; 600], b"\r\n.\r\n"].concat();
    let cases: Vec<(&[u8], usize, bool, &str)> = vec![
        (
            b"+OK\r\n1 10\r\n2 20\r\n3 30\r\n.\r\n",
            2,
            false,
            "limit exceeded: listing entries",
        ),
        (b"+OK\r\n1 10\nx\r\n.\r\n", 10, false, "line ending"),
        (b"+OK\r\n1 1\r0\r\n.\r\n", 10, false, "line ending"),
        (b"+OK\r\n1 ten\r\n.\r\n", 10, false, "scan listing"),
        (b"+OK\r\n1 u\x01id\r\n.\r\n", 10, true, "unique-id listing"),
        (&long, 10, false, "response line length"),
    ];
    for (answer, max, uidl, want) in cases {
        for bbb in [false, true] {
            let e = outcome(answer, max, bbb, uidl).expect_err("must fail");
            assert!(
                e.to_string().contains(want),
                "{e} for {:?}",
                String::from_utf8_lossy(answer)
            );
        }
    }
    // Within the limits both paths give the same listing, stuffed lines included.
    let ok = b"+OK\r\n1 abc\r\n2 ..x\r\n.\r\n";
    let whole = outcome(ok, 10, false, true).unwrap();
    assert_eq!(whole, outcome(ok, 10, true, true).unwrap());
    assert!(
        whole[0].contains("uid: b\"abc\"") && whole[0].contains("uid: b\"..x\""),
        "{whole:?}"
    );
}
