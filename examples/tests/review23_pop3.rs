//! Session 23: maild's POP3 maildrop, each gap closed with a test that
//! failed on the code before its fix; the comment above each test says what
//! was wrong and quotes the rule.
//!
//! The shared harness is in `common/mod.rs`.

mod common;
use common::*;

const USER: &str = "alice@example.test";

/// Puts `files` (name under the Maildir, content) into alice's Maildir.
fn place(m: &Maild, files: &[(&str, &str)]) {
    let root = m.maildir(USER);
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    for (name, body) in files {
        std::fs::write(root.join(name), body).unwrap();
    }
}

/// A POP3S session logged in as alice.
async fn login(m: &Maild) -> Raw {
    let mut p = Raw::connect_tls(m.port("pop3s")).await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"USER alice@example.test\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"PASS wonderland\r\n").await;
    let ok = p.line().await;
    assert!(ok.starts_with("+OK"), "{ok}");
    p
}

async fn pop_cmd(p: &mut Raw, line: &str) -> String {
    p.send(format!("{line}\r\n").as_bytes()).await;
    p.line().await
}

// RFC 1939 8: the maildrop is locked for POP3 only; a Maildir is shared with
// other readers (a mail user agent, an IMAP server) that move a message
// from new/ to cur/ when they see it. RFC 1939 6, QUIT: "The POP3 server
// removes all messages marked as deleted from the maildrop and replies as
// to the status of this operation." maild removed the file by the path it
// listed at login and took "not found" as done: a message moved meanwhile
// stayed in the maildrop behind a +OK, and RETR of it said it was gone.
// Both now find the message by its unique name in new/ or cur/.
#[tokio::test]
async fn a_message_moved_by_another_reader_is_still_retrieved_and_deleted() {
    let dir = temp_dir("pop3-moved");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let unique = "1700000000.M1P1Q1.other";
    let body = "Subject: moved\r\n\r\nhello\r\n";
    place(&m, &[(&format!("new/{unique}"), body)]);
    let mut p = login(&m).await;
    assert_eq!(pop_cmd(&mut p, "STAT").await, format!("+OK 1 {}", body.len()));
    // Another reader sees the message and marks it seen.
    let root = m.maildir(USER);
    std::fs::rename(
        root.join("new").join(unique),
        root.join("cur").join(format!("{unique}:2,S")),
    )
    .unwrap();
    let reply = pop_cmd(&mut p, "RETR 1").await;
    assert!(reply.starts_with("+OK"), "{reply}");
    assert_eq!(String::from_utf8(p.multiline().await).unwrap(), body);
    assert!(pop_cmd(&mut p, "DELE 1").await.starts_with("+OK"));
    let quit = pop_cmd(&mut p, "QUIT").await;
    assert!(quit.starts_with("+OK"), "{quit}");
    assert_eq!(
        m.messages(USER),
        Vec::<std::path::PathBuf>::new(),
        "+OK but the message is still there"
    );
}
