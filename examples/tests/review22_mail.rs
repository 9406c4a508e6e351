//! Session 22: gaps in the example mail programs, each closed with a test
//! that failed on the code before its fix; the comment above each test says
//! what was wrong.
//!
//! The shared harness is in `common/mod.rs`.

use std::time::Duration;

mod common;
use common::*;

// The queue runner learnt of queued messages only from the spool listing at
// start and from its own SMTP sessions: a message placed in the queue
// directory by hand (or by another process) while maild ran sat there until
// the next restart. The runner now lists the spool every --queue-rescan
// (here 1s) and schedules envelopes it does not know; a half-written
// envelope is not scheduled until it reads.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_placed_in_the_queue_while_running_is_relayed() {
    let b_port = free_port();
    let b_dir = temp_dir("rescan-b");
    let b = Maild::start(&b_dir, b_port, &["--user", "bob@b.test:builder"]);
    let relay = format!("127.0.0.1:{b_port}");
    let dir = temp_dir("rescan-a");
    let a = Maild::start(
        &dir,
        0,
        &[
            "--user",
            "alice@a.test:wonderland",
            "--relay-host",
            &relay,
            "--relay-ca",
            &b.cert(),
            "--queue-rescan",
            "1s",
        ],
    );
    let queue = dir.join("queue");
    // An envelope that does not parse (yet): left alone, maild keeps running.
    std::fs::write(queue.join("half.msg"), "Subject: half\r\n\r\nhalf\r\n").unwrap();
    std::fs::write(queue.join("half.env"), "spool-envelope 1\ncreated").unwrap();
    place_in_queue(
        &queue,
        "by-hand-1",
        "alice@a.test",
        "bob@b.test",
        "Subject: placed by hand\r\n\r\nfrom another process\r\n",
    );
    wait_for("the placed message relayed to B", || {
        b.messages("bob@b.test").len() == 1
    })
    .await;
    let got = std::fs::read_to_string(&b.messages("bob@b.test")[0]).unwrap();
    assert!(
        got.ends_with("Subject: placed by hand\r\n\r\nfrom another process\r\n"),
        "{got}"
    );
    wait_for("the placed message left A's queue", || {
        !queue.join("by-hand-1.env").exists()
    })
    .await;
    // The half-written envelope is completed: found at a later rescan.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        queue.join("half.env").exists(),
        "an unreadable envelope is left alone"
    );
    place_in_queue(
        &queue,
        "half",
        "alice@a.test",
        "bob@b.test",
        "Subject: half\r\n\r\nhalf\r\n",
    );
    wait_for("the completed message relayed to B", || {
        b.messages("bob@b.test").len() == 2
    })
    .await;
    wait_for("A's queue emptied", || a.queued() == 0).await;
    assert!(a.messages("alice@a.test").is_empty(), "no bounce");
}
