//! Review (session 20, second pass): each test failed on the code before
//! its fix and cites the rule it checks.

use bytes::Bytes;
use imap_proto::command::SelectParam;
use imap_proto::{Command, CommandBody, Mailbox, Options, SeqNum, SeqRange, SeqSet, Tag};

fn cmd(wire: &[u8]) -> Result<Command, imap_proto::ParseError> {
    Command::parse(&Bytes::copy_from_slice(wire), &Options::default())
}

fn select(param: SelectParam) -> Command {
    Command {
        tag: Tag::new("a1").unwrap(),
        body: CommandBody::Select {
            mailbox: Mailbox::from("INBOX"),
            params: vec![param],
        },
    }
}

fn star_set() -> SeqSet {
    SeqSet::Ranges(vec![SeqRange {
        start: SeqNum::Num(1),
        end: SeqNum::Star,
    }])
}

fn nums(a: u32, b: u32) -> SeqSet {
    SeqSet::Ranges(vec![SeqRange {
        start: SeqNum::Num(a),
        end: SeqNum::Num(b),
    }])
}

// RFC 7162 section 7:
//   known-uids          =  sequence-set
//                       ;; Sequence of UIDs; "*" is not allowed.
//   known-sequence-set  =  sequence-set ... ;; * is not allowed.
//   known-uid-set       =  sequence-set ... ;; * is not allowed.
// The QRESYNC select parameter took any sequence set (with `*` and `$`) in
// all three places, both when parsing and when encoding.
#[test]
fn qresync_known_sets_refuse_star_and_dollar() {
    let ok = cmd(b"a1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:3 5:7)))\r\n");
    assert!(ok.is_ok(), "{ok:?}");
    for wire in [
        &b"a1 SELECT INBOX (QRESYNC (1 2 1:*))\r\n"[..],
        b"a1 SELECT INBOX (QRESYNC (1 2 $))\r\n",
        b"a1 EXAMINE INBOX (QRESYNC (1 2 1:5 (1:* 1:5)))\r\n",
        b"a1 SELECT INBOX (QRESYNC (1 2 1:5 (1:5 *)))\r\n",
        b"a1 SELECT INBOX (QRESYNC (1 2 ($ 1:5)))\r\n",
    ] {
        assert!(cmd(wire).is_err(), "{}", String::from_utf8_lossy(wire));
    }
    let o = Options::default();
    let qr = |known_uids, seq_match| SelectParam::QResync {
        uid_validity: 1,
        mod_seq: 2,
        known_uids,
        seq_match,
    };
    assert!(select(qr(Some(star_set()), None)).encode(&o).is_err());
    assert!(select(qr(Some(SeqSet::Saved), None)).encode(&o).is_err());
    assert!(
        select(qr(None, Some((star_set(), nums(1, 5)))))
            .encode(&o)
            .is_err()
    );
    assert!(
        select(qr(None, Some((nums(1, 5), SeqSet::Saved))))
            .encode(&o)
            .is_err()
    );
    let good = select(qr(Some(nums(1, 9)), Some((nums(1, 3), nums(4, 6)))));
    let enc = good.encode(&o).unwrap();
    assert_eq!(Command::parse(&enc.bytes, &o).unwrap(), good);
}
