//! Session 24 (helper 3): maild's POP3 sizes of Maildir files that another
//! program dropped in. The comment above the test says what was wrong and
//! quotes the rule; the test failed on the code before its fix.
//!
//! The shared harness is in `common/mod.rs`.

mod common;
use common::*;

const USER: &str = "alice@example.test";

// RFC 1939 5, LIST: "the exact size of the message in octets"; RFC 1939 11:
// "if the POP3 server host internally represents end-of-line as a single
// character, then the POP3 server simply counts each occurrence of this
// character in a message as two octets." RETR sends every line end as CRLF
// (pop3-proto normalises a bare LF or CR, and ends an unterminated last
// line). A file with LF line ends and no ",S=" or ",W=" in its name (put
// there by another MDA, procmail or a script) was listed with its size on
// disk, so LIST, STAT and RETR's "+OK n octets" understated it by one octet
// a line. Its size is now counted as it goes on the wire.
#[tokio::test]
async fn list_counts_crlf_for_a_dropped_in_file_with_lf_line_ends() {
    let dir = temp_dir("pop3-lf-size");
    let m = Maild::start(&dir, 0, &["--user", "alice@example.test:wonderland"]);
    let root = m.maildir(USER);
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    let files: [(&str, &[u8]); 4] = [
        (
            "new/1700000000.M1P1Q1.mda",
            b"Subject: lf\n\nline one\n.dot line\nline two\n",
        ),
        // no line end at the end, a bare CR, a CRLF, an empty line
        ("new/1700000001.M1P1Q1.mda", b"Subject: mixed\r\n\na\rb\n\nlast"),
        // already CRLF: the size on disk is right
        ("cur/1700000002.M1P1Q1.mda:2,S", b"Subject: crlf\r\n\r\nbody\r\n"),
        ("new/1700000003.M1P1Q1.mda", b""),
    ];
    for (name, body) in files {
        std::fs::write(root.join(name), body).unwrap();
    }
    let mut p = Raw::connect_tls(m.port("pop3s")).await;
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"USER alice@example.test\r\nPASS wonderland\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    assert!(p.line().await.starts_with("+OK"));
    p.send(b"LIST\r\n").await;
    assert!(p.line().await.starts_with("+OK"));
    let listed: Vec<u64> = String::from_utf8(p.multiline().await)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(listed.len(), files.len());
    let mut total = 0;
    for (i, size) in listed.iter().enumerate() {
        p.send(format!("RETR {}\r\n", i + 1).as_bytes()).await;
        assert_eq!(p.line().await, format!("+OK {size} octets"), "message {}", i + 1);
        let got = p.multiline().await;
        assert_eq!(
            got.len() as u64,
            *size,
            "message {}: {:?}",
            i + 1,
            String::from_utf8_lossy(&got)
        );
        total += size;
    }
    // the expected sizes, by hand: each LF or lone CR counts two octets, and
    // an unterminated last line gets its CRLF
    assert_eq!(listed, [46, 32, 23, 0]);
    p.send(b"STAT\r\n").await;
    assert_eq!(p.line().await, format!("+OK 4 {total}"));
}
