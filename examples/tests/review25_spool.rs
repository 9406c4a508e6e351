//! Session 25: maild's relay spool and Maildir store. Each test closes a
//! gap and failed on the code before its fix; the comment above it says
//! what was wrong and quotes the rule.
//!
//! The shared harness is in `common/mod.rs`.

mod common;
use common::*;

// RFC 1939 5, LIST: "the exact size of the message in octets"; RFC 1939 11:
// "the POP3 server simply counts each occurrence of this character in a
// message as two octets". Dovecot's ",S=<size>" in a Maildir name is the
// size as stored, which for a file with LF line ends is less than what
// RETR sends (every line end as CRLF); only ",W=<size>" is the size on the
// wire. maild took ",S=" for the wire size when ",W=" was missing (a
// Maildir written by a Dovecot without the W= option, or by another MDA
// that follows the S= convention), so LIST, STAT and "+OK n octets"
// understated such messages. It now counts the wire size unless ",W=" is
// there, and names its own deliveries with both.
#[tokio::test]
async fn an_s_size_without_w_is_not_taken_for_the_wire_size() {
    let dir = temp_dir("pop3-s-only");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let stored = "Subject: lf\n\nline one\nline two\n";
    let sent = stored.replace('\n', "\r\n");
    place(
        &m,
        &[(&format!("new/1700000000.M1P1Q1.other,S={}", stored.len()), stored)],
    );
    let mut p = login(&m).await;
    assert_eq!(pop_cmd(&mut p, "LIST 1").await, format!("+OK 1 {}", sent.len()));
    assert_eq!(pop_cmd(&mut p, "STAT").await, format!("+OK 1 {}", sent.len()));
    let reply = pop_cmd(&mut p, "RETR 1").await;
    assert_eq!(reply, format!("+OK {} octets", sent.len()));
    assert_eq!(String::from_utf8(p.multiline().await).unwrap(), sent);
    assert!(pop_cmd(&mut p, "QUIT").await.starts_with("+OK"));

    // maild's own delivery carries ",W=", which is the size RETR sends.
    let (codes, code) = submit(
        m.port("submission"),
        "alice@example.test",
        "wonderland",
        "alice@example.test",
        &["alice@example.test"],
        "Subject: own\r\n\r\nstored as sent\r\n",
    )
    .await;
    assert_eq!((codes, code), (vec![250], 250));
    let own = m
        .messages("alice@example.test")
        .into_iter()
        .find(|p| !p.to_string_lossy().contains(".other"))
        .unwrap();
    let name = own.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.contains(",S=") && name.contains(",W="), "{name}");
    let mut p = login(&m).await;
    let listed = pop_cmd(&mut p, "LIST 2").await;
    let size: usize = listed.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(pop_cmd(&mut p, "RETR 2").await.starts_with("+OK"));
    assert_eq!(p.multiline().await.len(), size, "{name}");
}
