//! Session 23: maild's POP3 maildrop, each gap closed with a test that
//! failed on the code before its fix; the comment above each test says what
//! was wrong and quotes the rule.
//!
//! The shared harness is in `common/mod.rs`.

mod common;
use common::*;

const USER: &str = "alice@example.test";

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

/// The UIDL listing of a logged-in session: (number, unique id) pairs.
async fn uidl(p: &mut Raw) -> Vec<(String, String)> {
    let ok = pop_cmd(p, "UIDL").await;
    assert!(ok.starts_with("+OK"), "{ok}");
    String::from_utf8(p.multiline().await)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, id) = l.split_once(' ').unwrap();
            (n.to_owned(), id.to_owned())
        })
        .collect()
}

// RFC 1939 7, UIDL: the unique-id "uniquely identifies a message within a
// maildrop and ... persists across sessions". maild made it from the
// Maildir name up to its first "," with invisible characters dropped, so two
// files could get one id: here a copy of a message in both new/ and cur/ (a
// restored backup), and two names that differ only after a ",". A client
// keeping the ids it fetched then skips, or deletes unread, the other
// message. maild listed both with one id; pop3-proto now refuses such a
// maildrop, and maild gives a repeated id a stable substitute.
#[tokio::test]
async fn unique_ids_stay_unique_when_maildir_names_collide() {
    let dir = temp_dir("pop3-uid-collide");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    place(
        &m,
        &[
            ("new/1700000000.M1P1Q1.other", "Subject: a\r\n\r\na\r\n"),
            ("cur/1700000000.M1P1Q1.other:2,S", "Subject: a\r\n\r\na\r\n"),
            ("new/1700000001.M1P1Q1.other,S=17", "Subject: b\r\n\r\nb\r\n"),
            ("new/1700000001.M1P1Q1.other,X=1", "Subject: c\r\n\r\nc\r\n"),
        ],
    );
    let mut p = login(&m).await;
    let first = uidl(&mut p).await;
    assert_eq!(first.len(), 4, "{first:?}");
    let ids: std::collections::HashSet<&str> = first.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids.len(), 4, "one id for two messages: {first:?}");
    assert!(
        first
            .iter()
            .all(|(_, id)| id.len() <= 70 && id.bytes().all(|b| (0x21..=0x7e).contains(&b))),
        "{first:?}"
    );
    assert!(pop_cmd(&mut p, "QUIT").await.starts_with("+OK"));
    // The same ids in the next session.
    let mut p = login(&m).await;
    assert_eq!(uidl(&mut p).await, first);
}

// RFC 1939 5, LIST: "the exact size of the message"; 11: "if the POP3
// server host internally represents end-of-line as a single character,
// then the POP3 server simply counts each occurrence of this character in
// a message as two octets." A Maildir written by Dovecot keeps LF line
// ends and names the file with both sizes, ",S=" as stored and ",W=" with
// CRLF line ends (what RETR sends, since pop3-proto sends every line end
// as CRLF). maild listed the stored size, so LIST, STAT and the RETR
// "+OK n octets" understated every such message.
#[tokio::test]
async fn list_gives_the_size_with_crlf_line_ends_from_a_dovecot_name() {
    let dir = temp_dir("pop3-wsize");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let stored = "Subject: lf\n\nline one\nline two\n";
    let sent = stored.replace('\n', "\r\n");
    place(
        &m,
        &[(
            &format!("new/1700000000.M1P1Q1.other,S={},W={}", stored.len(), sent.len()),
            stored,
        )],
    );
    let mut p = login(&m).await;
    assert_eq!(pop_cmd(&mut p, "LIST 1").await, format!("+OK 1 {}", sent.len()));
    assert_eq!(pop_cmd(&mut p, "STAT").await, format!("+OK 1 {}", sent.len()));
    let reply = pop_cmd(&mut p, "RETR 1").await;
    assert_eq!(reply, format!("+OK {} octets", sent.len()));
    assert_eq!(String::from_utf8(p.multiline().await).unwrap(), sent);
}

// RFC 1939 7 again: the id "persists across sessions", and a client that
// has seen an id takes it for the message it fetched. When two Maildir
// names share the part maild makes the id from, the first in the listing
// kept the plain id and the other got a substitute; so a message that
// arrives later and sorts first took over the id of one the client had
// already fetched, and "fetch only new, delete known" deleted it unread.
// Every message of such a group now gets an id made from its own full name.
#[tokio::test]
async fn a_later_message_never_takes_over_the_id_of_an_earlier_one() {
    let dir = temp_dir("pop3-uid-takeover");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    place(
        &m,
        &[("new/1700000001.M1P1Q1.other,S=17", "Subject: b\r\n\r\nb\r\n")],
    );
    let mut p = login(&m).await;
    let first = uidl(&mut p).await;
    assert!(pop_cmd(&mut p, "QUIT").await.starts_with("+OK"));
    // A different message whose name sorts before it, alike up to the ",".
    place(
        &m,
        &[("new/1700000001.M1P1Q1.other,B=1", "Subject: c\r\n\r\nc\r\n")],
    );
    let mut p = login(&m).await;
    let second = uidl(&mut p).await;
    assert_eq!(second.len(), 2, "{second:?}");
    let newcomer = &second[0];
    assert_ne!(
        newcomer.1, first[0].1,
        "the new message took the old one's id: {first:?} {second:?}"
    );
}
