//! Client session against server session, in memory.

use proptest::prelude::*;
use smtp_proto::checks::run_pair;
use smtp_proto::{BodyType, ClientConfig, Envelope, Notify, Recipient, ServerConfig};

fn env(rcpts: &[&str]) -> Envelope {
    Envelope {
        from: "sender@example.test".into(),
        recipients: rcpts.iter().map(|r| Recipient::new(r)).collect(),
        ..Envelope::default()
    }
}

#[test]
fn one_message_plain() {
    let body = b"Subject: hi\r\n\r\n.dot line\r\n..two\r\nend".to_vec();
    let run = run_pair(
        ClientConfig::default(),
        ServerConfig::default(),
        vec![(
            env(&["a@example.test", "reject@example.test", "b@example.test"]),
            body,
        )],
        1,
        1000,
    );
    assert_eq!(run.errors.0, None, "{:#?}", run.client.log);
    assert_eq!(
        run.server.messages,
        vec![b"Subject: hi\r\n\r\n.dot line\r\n..two\r\nend\r\n".to_vec()]
    );
    assert_eq!(run.client.results.len(), 1);
    assert!(
        run.client
            .log
            .iter()
            .any(|l| l.contains("RcptResult { index: 1") && l.contains("550"))
    );
    assert!(run.client.log.last().unwrap().contains("Closed"));
}

#[test]
fn dsn_and_bdat_and_lmtp() {
    let mut e = env(&["a@example.test", "b@example.test"]);
    e.recipients[0].notify = Some(Notify {
        success: true,
        failure: true,
        delay: false,
    });
    e.recipients[0].orcpt = Some(("rfc822".into(), "a+b=c@example.test".into()));
    e.envid = Some("id 1".into());
    e.body = Some(BodyType::EightBitMime);
    e.size = Some(40);
    for (chunking, lmtp, pipelining) in [
        (true, false, true),
        (false, true, false),
        (true, true, true),
        (false, false, false),
    ] {
        let ccfg = ClientConfig {
            chunking,
            lmtp,
            pipelining,
            ..ClientConfig::default()
        };
        let scfg = ServerConfig {
            lmtp,
            ..ServerConfig::default()
        };
        let msgs = vec![
            (e.clone(), b"A: b\r\n\r\nbody\r\n".to_vec()),
            (env(&["reject@x.test"]), b"x\r\n".to_vec()),
            (e.clone(), b".\r\n".to_vec()),
        ];
        let run = run_pair(ccfg, scfg, msgs, 7, 5);
        assert_eq!(run.errors.0, None, "{:#?}", run.client.log);
        assert_eq!(
            run.server.messages,
            vec![b"A: b\r\n\r\nbody\r\n".to_vec(), b".\r\n".to_vec()],
            "{chunking} {lmtp} {pipelining} {:#?}",
            run.client.log
        );
        let n = if lmtp { 2 } else { 1 };
        assert!(
            run.client.results.iter().all(|r| r.len() == n),
            "{:?}",
            run.client.results
        );
        assert_eq!(run.client.results.len(), 2);
    }
}

fn body_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b".".to_vec()),
        Just(b"..".to_vec()),
        Just(Vec::new()),
        Just(b".\r".to_vec()),
        "[ -~]{0,80}".prop_map(String::into_bytes),
        proptest::collection::vec(0x80u8..=0xff, 0..10),
    ];
    proptest::collection::vec(line, 0..20).prop_map(|lines| {
        let mut out = Vec::new();
        for l in lines {
            out.extend_from_slice(&l);
            if l.last() != Some(&b'\r') {
                out.extend_from_slice(b"\r\n");
            } else {
                out.push(b'\n');
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn messages_arrive_byte_exact(
        bodies in proptest::collection::vec(body_strategy(), 1..4),
        seed in any::<u32>(),
        max_chunk in 1usize..300,
        chunking in any::<bool>(),
        pipelining in any::<bool>(),
        lmtp in any::<bool>(),
    ) {
        let msgs: Vec<_> = bodies
            .iter()
            .map(|b| {
                let mut e = env(&["x@example.test", "reject@example.test", "y@example.test"]);
                e.body = Some(BodyType::EightBitMime);
                (e, b.clone())
            })
            .collect();
        let ccfg = ClientConfig { chunking, pipelining, lmtp, max_buffer: 512, ..ClientConfig::default() };
        let scfg = ServerConfig { lmtp, ..ServerConfig::default() };
        let run = run_pair(ccfg, scfg, msgs, seed, max_chunk);
        prop_assert!(run.errors.0.is_none(), "{:?}", run.client.log);
        prop_assert!(run.errors.1.is_none());
        prop_assert_eq!(&run.server.messages, &bodies);
        prop_assert_eq!(run.client.results.len(), bodies.len());
        for r in &run.client.results {
            prop_assert_eq!(r.len(), if lmtp { 2 } else { 1 });
            prop_assert!(r.iter().all(|r| r.code() == 250));
        }
    }
}

/// A body that outgrows the server's SIZE is never delivered truncated: with
/// BDAT the transaction is reset and the next message goes through; with DATA
/// the client session fails (the connection must be dropped).
#[test]
fn oversized_body_is_never_delivered_truncated() {
    for chunking in [true, false] {
        let ccfg = ClientConfig {
            chunking,
            max_buffer: 64,
            ..ClientConfig::default()
        };
        let mut scfg = ServerConfig::default();
        scfg.limits.message_size = 100;
        let big = b"0123456789abcdef\r\n".repeat(20);
        let small = b"Subject: ok\r\n\r\nsmall\r\n".to_vec();
        let msgs = vec![
            (env(&["a@example.test"]), big),
            (env(&["b@example.test"]), small.clone()),
        ];
        let run = run_pair(ccfg, scfg, msgs, 3, 40);
        if chunking {
            assert_eq!(run.errors.0, None, "{:#?}", run.client.log);
            assert_eq!(run.server.messages, vec![small], "{:#?}", run.client.log);
            assert!(
                run.client
                    .log
                    .iter()
                    .any(|l| l.contains("TransactionFailed") && l.contains("552"))
            );
        } else {
            assert_eq!(
                run.errors.0.map(|e| e.kind()),
                Some(smtp_proto::ErrorKind::MessageTooLarge)
            );
            assert!(run.server.messages.is_empty(), "{:?}", run.server.messages);
        }
    }
}
