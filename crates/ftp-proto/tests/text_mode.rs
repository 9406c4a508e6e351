//! `ClientSession::set_text_mode`: files move as `TYPE A` when asked, `TYPE I`
//! otherwise, and the data-channel event carries the matching `ascii` flag.

use ftp_proto::client::{ClientEvent, ClientTls};
use ftp_proto::{ClientConfig, ClientSession};
use proto_core::Secret;
use std::time::Instant;

fn sent(c: &mut ClientSession) -> String {
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit() {
        out.extend_from_slice(b);
        let n = b.len();
        c.advance_transmit(n);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn events(c: &mut ClientSession) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event().unwrap()).collect()
}

fn logged_in() -> ClientSession {
    let config = ClientConfig {
        user: b"alice".to_vec(),
        password: Secret::new(b"secret".to_vec()),
        tls: ClientTls::Never,
        ..ClientConfig::default()
    };
    let mut c = ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), Instant::now());
    c.handle_input(b"220 hi\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "FEAT\r\n");
    c.handle_input(b"211 no features\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "USER alice\r\n");
    c.handle_input(b"331 pw\r\n");
    assert!(events(&mut c).is_empty());
    assert_eq!(sent(&mut c), "PASS secret\r\n");
    c.handle_input(b"230 ok\r\n");
    assert_eq!(events(&mut c), vec![ClientEvent::LoggedIn]);
    c
}

/// Runs one transfer through EPSV; returns the TYPE line sent (if any) and
/// the `ascii` flag of the data-channel event.
fn transfer(c: &mut ClientSession, start: impl FnOnce(&mut ClientSession)) -> (String, bool) {
    start(c);
    let mut typed = sent(c);
    if typed.starts_with("TYPE") {
        c.handle_input(b"200 ok\r\n");
        assert!(events(c).is_empty());
        typed = typed.trim_end().to_owned();
        assert_eq!(sent(c), "EPSV\r\n");
    } else {
        assert_eq!(typed, "EPSV\r\n");
        typed.clear();
    }
    c.handle_input(b"229 (|||6000|)\r\n");
    let ev = events(c);
    let (id, ascii) = match ev.first() {
        Some(ClientEvent::OpenDataChannel { id, ascii, .. }) => (*id, *ascii),
        other => panic!("expected OpenDataChannel, got {other:?}"),
    };
    let _ = sent(c);
    c.handle_input(b"150 go\r\n226 done\r\n");
    let _ = events(c);
    c.data_closed(id).unwrap();
    assert!(matches!(&events(c)[..], [ClientEvent::TransferComplete { .. }]));
    (typed, ascii)
}

#[test]
fn text_mode_switches_file_transfers_to_type_a() {
    let mut c = logged_in();
    // Default: binary files.
    assert_eq!(
        transfer(&mut c, |c| {
            c.retr(b"f.bin", 0).unwrap();
        }),
        ("TYPE I".to_owned(), false)
    );
    c.set_text_mode(true);
    assert_eq!(
        transfer(&mut c, |c| {
            c.retr(b"notes.txt", 0).unwrap();
        }),
        ("TYPE A".to_owned(), true)
    );
    // Still TYPE A: no second TYPE command for the upload or a listing.
    assert_eq!(
        transfer(&mut c, |c| {
            c.stor(b"up.txt", 0).unwrap();
        }),
        (String::new(), true)
    );
    assert_eq!(
        transfer(&mut c, |c| {
            c.list(None).unwrap();
        }),
        (String::new(), true)
    );
    c.set_text_mode(false);
    assert_eq!(
        transfer(&mut c, |c| {
            c.appe(b"f.bin").unwrap();
        }),
        ("TYPE I".to_owned(), false)
    );
    // Listings stay TYPE A whatever the file mode.
    assert_eq!(
        transfer(&mut c, |c| {
            c.nlst(None).unwrap();
        }),
        ("TYPE A".to_owned(), true)
    );
}
