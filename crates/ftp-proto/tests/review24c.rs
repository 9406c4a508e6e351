//! Review (session 24, helper 3): the client's feature list after AUTH TLS.
//! Each test failed on the code before its fix; the rule it checks is quoted
//! above it.

mod common;

use ftp_proto::client::ClientTls;
use ftp_proto::{ClientConfig, ClientEvent, ClientSession};
use proto_core::drain_transmit;
use std::time::Instant;

/// A client with `tls` taken through the greeting, a plaintext FEAT that
/// offers AUTH TLS and nothing else, AUTH TLS and the handshake.
fn after_handshake(tls: ClientTls) -> ClientSession {
    let config = ClientConfig {
        tls,
        ..common::alice(None)
    };
    let mut c = ClientSession::new(config, "203.0.113.1:21".parse().unwrap(), Instant::now());
    c.handle_input(b"220 hi\r\n211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 End\r\n");
    assert!(common::client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\nAUTH TLS\r\n");
    assert!(c.features().auth_tls());
    c.handle_input(b"234 go\r\n");
    assert_eq!(common::client_events(&mut c), [ClientEvent::StartTls]);
    c.tls_established().unwrap();
    c
}

// RFC 4217 section 4: after AUTH "all other transfer parameters (other than
// the AUTH parameter) must be reset, almost as if a REIN command was
// issued"; and the FEAT reply before it came over the unprotected
// connection, where anyone on the path may have rewritten it. RFC 4217 and
// RFC 2389 say nothing more, but the other mail protocols' TLS rules do for
// the same reason: RFC 2595 section 3.1 "Once TLS has been started, the
// client MUST discard cached information about server capabilities and
// SHOULD re-issue the CAPABILITY command ... to protect against
// man-in-the-middle attacks which alter the capabilities list prior to
// STARTTLS", RFC 3207 section 4.2 likewise. The client kept the plaintext
// FEAT list and went on to USER; it now asks FEAT again over TLS (RFC 2389
// section 3) and keeps only that answer.
#[test]
fn feat_is_asked_again_after_the_tls_handshake() {
    for tls in [ClientTls::IfOffered, ClientTls::Required] {
        let mut c = after_handshake(tls);
        assert_eq!(drain_transmit(&mut c), b"FEAT\r\n");
        c.handle_input(
            b"211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n MLST type*;size*;modify*;\r\n \
              EPSV\r\n UTF8\r\n REST STREAM\r\n SIZE\r\n MDTM\r\n211 End\r\n",
        );
        assert!(common::client_events(&mut c).is_empty());
        assert_eq!(drain_transmit(&mut c), b"USER alice\r\n");
        for f in ["mlst", "epsv", "utf8", "size", "mdtm"] {
            assert!(c.features().has(f), "{f}");
        }
        assert!(c.features().rest_stream());
        c.handle_input(b"331 pw\r\n230 ok\r\n200 PBSZ=0\r\n200 PROT P\r\n");
        assert_eq!(common::client_events(&mut c), [ClientEvent::LoggedIn]);
        assert_eq!(drain_transmit(&mut c), b"PASS secret\r\nPBSZ 0\r\nPROT P\r\n");
        assert!(c.is_tls());
    }
}

// The same rule the other way: what the plaintext FEAT listed is gone when
// the FEAT over TLS lists less, or is refused (RFC 2389 section 3.2: 500 or
// 502 from a server without FEAT; the list is then empty, not the old one).
#[test]
fn plaintext_features_are_forgotten_after_tls() {
    let mut c = after_handshake(ClientTls::IfOffered);
    assert_eq!(drain_transmit(&mut c), b"FEAT\r\n");
    c.handle_input(b"502 no FEAT here\r\n");
    assert!(common::client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"USER alice\r\n");
    assert!(!c.features().auth_tls());
    assert_eq!(c.features().iter().count(), 0);
    let mut c = after_handshake(ClientTls::IfOffered);
    drain_transmit(&mut c);
    c.handle_input(b"211-Features:\r\n SIZE\r\n211 End\r\n");
    assert!(common::client_events(&mut c).is_empty());
    assert_eq!(drain_transmit(&mut c), b"USER alice\r\n");
    assert_eq!(c.features().iter().count(), 1);
    assert!(c.features().has("size") && !c.features().auth_tls());
}
