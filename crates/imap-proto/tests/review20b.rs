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

fn resp(wire: &[u8]) -> Result<imap_proto::Response, imap_proto::ParseError> {
    imap_proto::Response::parse(&Bytes::copy_from_slice(wire), &Options::default())
}

// RFC 9051 section 9:
//   msg-att-static  =/ "RFC822.SIZE" SP number64 / ...
//   status-att-val  =  ... ("SIZE" SP number64)
//   search-key      =/ "LARGER" SP number64 / "SMALLER" SP number64
//   body-extension  = nstring / number / number64 / ...
//   number64        = 1*DIGIT ; Unsigned 63-bit integer
//                       ; (0 <= n <= 9,223,372,036,854,775,807)
// RFC 9208 section 9: resource-usage / resource-limit = number64; RFC 7162
// section 7: UNCHANGEDSINCE takes mod-sequence-valzer (63-bit). RFC 7889's
// APPENDLIMIT value is at most as wide. These values were read and written
// up to 2^64-1, which a peer keeping them in a signed 64-bit integer (the
// width the RFCs promise) reads as negative or refuses.
#[test]
fn number64_values_stop_at_2_pow_63_minus_1() {
    let max = i64::MAX as u64;
    for wire in [
        &b"* 1 FETCH (RFC822.SIZE 9223372036854775807)\r\n"[..],
        b"* STATUS INBOX (SIZE 9223372036854775807)\r\n",
        b"* QUOTA \"\" (STORAGE 9223372036854775807 9223372036854775807)\r\n",
        b"* OK [APPENDLIMIT 9223372036854775807] x\r\n",
        b"* 1 FETCH (BINARY.SIZE[1] 9223372036854775807)\r\n",
    ] {
        // number64 is IMAP4rev2's (RFC 3501 has 32-bit `number` for
        // RFC822.SIZE and BINARY.SIZE; see review23.rs).
        let r = imap_proto::Response::parse(&Bytes::copy_from_slice(wire), &Options::rev2())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(&r.encode(&Options::rev2()).unwrap().bytes[..], wire);
    }
    for wire in [
        &b"* 1 FETCH (RFC822.SIZE 9223372036854775808)\r\n"[..],
        b"* 1 FETCH (RFC822.SIZE 18446744073709551615)\r\n",
        b"* STATUS INBOX (SIZE 9223372036854775808)\r\n",
        b"* QUOTA \"\" (STORAGE 1 9223372036854775808)\r\n",
        b"* OK [APPENDLIMIT 9223372036854775808] x\r\n",
        b"* 1 FETCH (BINARY.SIZE[1] 9223372036854775808)\r\n",
        b"* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL NIL NIL NIL 9223372036854775808))\r\n",
    ] {
        let r = resp(wire);
        // APPENDLIMIT with a bad argument is kept raw, as other known codes are.
        let typed = matches!(
            &r,
            Ok(imap_proto::Response::Status(s)) if matches!(s.code, Some(imap_proto::Code::AppendLimit(_)))
        );
        assert!(r.is_err() || !typed && wire.starts_with(b"* OK"), "{}", String::from_utf8_lossy(wire));
    }
    for wire in [
        &b"a1 SEARCH LARGER 9223372036854775808\r\n"[..],
        b"a1 SEARCH SMALLER 9223372036854775808\r\n",
        b"a1 STORE 1 (UNCHANGEDSINCE 9223372036854775808) FLAGS (\\Seen)\r\n",
        b"a1 SETQUOTA \"\" (STORAGE 9223372036854775808)\r\n",
    ] {
        assert!(cmd(wire).is_err(), "{}", String::from_utf8_lossy(wire));
    }
    let o = Options::rev2();
    let size = imap_proto::Response::Data(imap_proto::Data::Fetch {
        seq: 1,
        items: vec![imap_proto::response::FetchItem::Rfc822Size(max + 1)],
    });
    assert!(size.encode(&o).is_err());
    let larger = Command {
        tag: Tag::new("a1").unwrap(),
        body: CommandBody::Search {
            uid: false,
            returns: None,
            charset: None,
            criteria: vec![imap_proto::command::SearchKey::Larger(max + 1)],
        },
    };
    assert!(larger.encode(&o).is_err());
    let limit = imap_proto::Response::Status(imap_proto::StatusResponse {
        tag: None,
        kind: imap_proto::StatusKind::Ok,
        code: Some(imap_proto::Code::AppendLimit(Some(u64::MAX))),
        text: Bytes::from_static(b"x"),
    });
    assert!(limit.encode(&o).is_err());
}

fn id_list(pairs: usize, field_len: usize, value_len: usize) -> Vec<u8> {
    let mut w = b"(".to_vec();
    for i in 0..pairs {
        if i > 0 {
            w.push(b' ');
        }
        let field = format!("{i:0>field_len$}");
        w.extend_from_slice(format!("\"{field}\" \"{}\"", "v".repeat(value_len)).as_bytes());
    }
    w.push(b')');
    w
}

// RFC 2971 section 3.3: "Field strings MUST NOT be longer than 30 octets.
// Value strings MUST NOT be longer than 1024 octets.  Implementations MUST
// NOT send more than 30 field-value pairs." The ID command and response
// were read and written with any number of pairs of any length.
#[test]
fn id_lists_keep_rfc_2971_bounds() {
    let o = Options::default();
    for (pairs, field, value, ok) in [
        (30, 30, 1024, true),
        (31, 2, 1, false),
        (1, 31, 1, false),
        (1, 2, 1025, false),
    ] {
        let list = id_list(pairs, field, value);
        let mut c = b"a1 ID ".to_vec();
        c.extend_from_slice(&list);
        c.extend_from_slice(b"\r\n");
        let mut r = b"* ID ".to_vec();
        r.extend_from_slice(&list);
        r.extend_from_slice(b"\r\n");
        assert_eq!(cmd(&c).is_ok(), ok, "command {pairs} {field} {value}");
        assert_eq!(resp(&r).is_ok(), ok, "response {pairs} {field} {value}");
        let params: Vec<_> = (0..pairs)
            .map(|i| {
                (
                    imap_proto::Str::from(format!("{i:0>field$}").as_str()),
                    Some(imap_proto::Str::from("v".repeat(value).as_str())),
                )
            })
            .collect();
        let c = Command {
            tag: Tag::new("a1").unwrap(),
            body: CommandBody::Id(Some(params.clone())),
        };
        assert_eq!(c.encode(&o).is_ok(), ok, "encode command {pairs} {field} {value}");
        let r = imap_proto::Response::Data(imap_proto::Data::Id(Some(params)));
        assert_eq!(
            r.encode(&o).is_ok(),
            ok,
            "encode response {pairs} {field} {value}"
        );
    }
}

// RFC 9051 section 9 (and RFC 4959 section 7):
//   initial-resp    =  (base64 / "=")
//   base64          = *(4base64-char) [base64-terminal]
//   base64-terminal = (2base64-char "==") / (3base64-char "=")
// The parser and encoder took any run of base64 letters and '=' (`abc`,
// `a=b`, `==`, `A===`); a SASL mechanism then got data that no base64
// decoder reads the same way.
#[test]
fn authenticate_initial_response_is_base64_or_equals() {
    let o = Options::default();
    for ok in ["=", "AGZyZWQAcGFzcw==", "YWJj", "YWI=", "YQ=="] {
        let wire = format!("a1 AUTHENTICATE PLAIN {ok}\r\n");
        let c = cmd(wire.as_bytes()).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
        assert_eq!(&c.encode(&o).unwrap().bytes[..], wire.as_bytes());
    }
    for bad in ["abc", "a=b", "==", "A===", "YWJj=", "YW=j", "====", "YWJjZA"] {
        let wire = format!("a1 AUTHENTICATE PLAIN {bad}\r\n");
        assert!(cmd(wire.as_bytes()).is_err(), "{bad}");
        let c = Command {
            tag: Tag::new("a1").unwrap(),
            body: CommandBody::Authenticate {
                mechanism: Bytes::from_static(b"PLAIN"),
                initial_response: Some(imap_proto::Sensitive(Bytes::from(bad))),
            },
        };
        assert!(c.encode(&o).is_err(), "{bad}");
    }
}

// RFC 9051 section 4.3: a literal's data is followed by the rest of the
// command or response, which may announce another literal; there is no limit
// on how many a unit holds other than its size. DESIGN.md: exceeding a limit
// is "never ... a stack overflow". The framer recursed once per literal that
// needs no continuation (any literal in a response, `{n+}` in a command), so
// a unit of many small literals, all in the buffer, overflowed the stack.
#[test]
fn many_literals_in_one_unit_do_not_recurse() {
    let run = |dir: imap_proto::Direction, piece: &[u8], head: &[u8], tail: &[u8]| {
        let mut wire = head.to_vec();
        for _ in 0..200_000 {
            wire.extend_from_slice(piece);
        }
        wire.extend_from_slice(tail);
        let mut buf = bytes::BytesMut::from(&wire[..]);
        let mut f = imap_proto::Framer::new(dir, imap_proto::Limits::default());
        let Some(Ok(imap_proto::Frame::Unit(u))) = f.next(&mut buf) else {
            panic!("no unit")
        };
        assert_eq!(u.bytes().len(), wire.len());
        assert!(buf.is_empty());
        u
    };
    run(
        imap_proto::Direction::ServerToClient,
        b" X {0}\r\n",
        b"* 1 FETCH (X {0}\r\n",
        b")\r\n",
    );
    let u = run(
        imap_proto::Direction::ClientToServer,
        b" {1+}\r\nx",
        b"a1 APPEND x {1+}\r\nx",
        b"\r\n",
    );
    // `{n+}` is read only where LITERAL+ (or LITERAL-, or IMAP4rev2) is in
    // effect (RFC 7888; see review23.rs).
    // 200,001 messages: more values than the default `Limits::max_items`
    // (review27.rs), raised here.
    let plus = Options {
        literal_plus: true,
        limits: imap_proto::Limits {
            max_items: usize::MAX,
            ..imap_proto::Limits::default()
        },
        ..Options::default()
    };
    let c = Command::parse_unit(&u, &plus).unwrap();
    assert!(matches!(c.body, CommandBody::Append { ref messages, .. } if messages.len() == 200_001));
}

// RFC 9051 section 5.1: "The case-insensitive mailbox name INBOX is a
// special name reserved to mean "the primary mailbox for this user on this
// server"." `Mailbox`'s doc says the same ("`INBOX` is case-insensitive"),
// but its derived equality and hash compared bytes, so `SELECT inbox` did
// not name the same mailbox as `Mailbox::from("INBOX")` (a session keeping
// the selected mailbox, or a map keyed by it, saw two mailboxes).
#[test]
fn inbox_is_one_mailbox_in_any_case() {
    use std::collections::HashSet;
    let c = cmd(b"a1 SELECT inbox\r\n").unwrap();
    let CommandBody::Select { mailbox, .. } = c.body else {
        panic!("{c:?}")
    };
    assert_eq!(mailbox, Mailbox::from("INBOX"));
    assert_eq!(Mailbox::from("InBoX"), Mailbox::from("inbox"));
    let set: HashSet<Mailbox> = ["INBOX", "inbox", "Inbox"]
        .into_iter()
        .map(Mailbox::from)
        .collect();
    assert_eq!(set.len(), 1);
    // Other names, and INBOX's children, keep their case.
    assert_ne!(Mailbox::from("Sent"), Mailbox::from("sent"));
    assert_ne!(Mailbox::from("INBOX/a"), Mailbox::from("inbox/a"));
    assert_ne!(Mailbox::from("INBOX"), Mailbox::from("INBOX2"));
    // The wire form is kept as sent.
    assert_eq!(mailbox.as_bytes(), b"inbox");
}

// RFC 7162 section 7:
//   mod-sequence-value  = 1*DIGIT ;; Positive unsigned 63-bit integer
//                          ;; (1 <= n <= 9,223,372,036,854,775,807).
//   mod-sequence-valzer = "0" / mod-sequence-value
// HIGHESTMODSEQ (response code), FETCH MODSEQ (permsg-modsequence), the
// SEARCH/SORT `(MODSEQ n)`, CHANGEDSINCE and the QRESYNC parameter take
// mod-sequence-value; only STATUS HIGHESTMODSEQ, UNCHANGEDSINCE and the
// SEARCH key take 0. Zero was read and written everywhere (a server without
// mod-sequences says NOMODSEQ, RFC 7162 section 3.1.2, not HIGHESTMODSEQ 0).
#[test]
fn zero_is_no_mod_sequence_value() {
    for wire in [&b"* 1 FETCH (MODSEQ (0))\r\n"[..], b"* SEARCH 1 (MODSEQ 0)\r\n"] {
        assert!(resp(wire).is_err(), "{}", String::from_utf8_lossy(wire));
    }
    // A known code whose argument breaks its grammar is kept raw.
    let r = resp(b"* OK [HIGHESTMODSEQ 0] x\r\n").unwrap();
    assert!(
        !matches!(&r, imap_proto::Response::Status(s) if matches!(s.code, Some(imap_proto::Code::HighestModSeq(_)))),
        "{r:?}"
    );
    for wire in [
        &b"a1 FETCH 1 (FLAGS) (CHANGEDSINCE 0)\r\n"[..],
        b"a1 SELECT INBOX (QRESYNC (1 0))\r\n",
    ] {
        assert!(cmd(wire).is_err(), "{}", String::from_utf8_lossy(wire));
    }
    for wire in [
        &b"a1 STORE 1 (UNCHANGEDSINCE 0) FLAGS (\\Seen)\r\n"[..],
        b"a1 SEARCH MODSEQ 0\r\n",
    ] {
        let c = cmd(wire).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(&c.encode(&Options::default()).unwrap().bytes[..], wire);
    }
    let r = resp(b"* STATUS INBOX (HIGHESTMODSEQ 0)\r\n").unwrap();
    assert_eq!(
        &r.encode(&Options::default()).unwrap().bytes[..],
        b"* STATUS INBOX (HIGHESTMODSEQ 0)\r\n"
    );
    let o = Options::default();
    let code = imap_proto::Response::Status(imap_proto::StatusResponse {
        tag: None,
        kind: imap_proto::StatusKind::Ok,
        code: Some(imap_proto::Code::HighestModSeq(0)),
        text: Bytes::from_static(b"x"),
    });
    assert!(code.encode(&o).is_err());
    let fetch = imap_proto::Response::Data(imap_proto::Data::Fetch {
        seq: 1,
        items: vec![imap_proto::response::FetchItem::ModSeq(0)],
    });
    assert!(fetch.encode(&o).is_err());
    let qr = select(SelectParam::QResync {
        uid_validity: 1,
        mod_seq: 0,
        known_uids: None,
        seq_match: None,
    });
    assert!(qr.encode(&o).is_err());
}

// RFC 7889 section 3.1 (the STATUS extension this crate lists as
// `StatusItem::AppendLimit`):
//   status-att-val =/ "APPENDLIMIT" SP (number / nil)
// and a server with no limit for a mailbox answers `APPENDLIMIT NIL` (Apache
// James does). The whole STATUS response was refused, so a client lost the
// other items with it; NIL stays distinct from 0 ("no APPEND at all").
#[test]
fn status_appendlimit_nil_is_read_and_written() {
    use imap_proto::command::StatusItem;
    let wire = b"* STATUS INBOX (MESSAGES 3 APPENDLIMIT NIL)\r\n";
    let r = resp(wire).unwrap_or_else(|e| panic!("{e:?}"));
    let imap_proto::Response::Data(imap_proto::Data::Status { items, .. }) = &r else {
        panic!("{r:?}")
    };
    assert_eq!(
        items,
        &[(StatusItem::Messages, Some(3)), (StatusItem::AppendLimit, None)]
    );
    assert_eq!(&r.encode(&Options::default()).unwrap().bytes[..], wire);
    let zero = resp(b"* STATUS INBOX (APPENDLIMIT 0)\r\n").unwrap();
    assert_ne!(zero, resp(b"* STATUS INBOX (APPENDLIMIT NIL)\r\n").unwrap());
    // Only APPENDLIMIT takes NIL.
    assert!(resp(b"* STATUS INBOX (MESSAGES NIL)\r\n").is_err());
    let bad = imap_proto::Response::Data(imap_proto::Data::Status {
        mailbox: Mailbox::from("INBOX"),
        items: vec![(StatusItem::Messages, None)],
        mailbox_id: None,
        other: Vec::new(),
    });
    assert!(bad.encode(&Options::default()).is_err());
}

// RFC 5819 section 6:
//   return-option =/ "STATUS" SP "(" status-att *(SP status-att) ")"
// At least one item, as in the STATUS command (whose empty list the codec
// already refuses). `LIST "" * RETURN (STATUS ())` was read, and written.
#[test]
fn list_return_status_needs_an_item() {
    assert!(cmd(b"a1 LIST \"\" * RETURN (STATUS ())\r\n").is_err());
    let ok = cmd(b"a1 LIST \"\" * RETURN (STATUS (MESSAGES))\r\n").unwrap();
    assert_eq!(
        &ok.encode(&Options::default()).unwrap().bytes[..],
        b"a1 LIST \"\" * RETURN (STATUS (MESSAGES))\r\n"
    );
    let c = Command {
        tag: Tag::new("a1").unwrap(),
        body: CommandBody::List {
            selection: vec![],
            reference: Mailbox::from(""),
            patterns: vec![imap_proto::Str::from("*")],
            returns: Some(vec![imap_proto::command::ListReturn::Status(vec![])]),
        },
    };
    assert!(c.encode(&Options::default()).is_err());
}

// RFC 9208 section 9: `quota-list = "(" quota-resource *(SP
// quota-resource) ")"` (at least one; only SETQUOTA's list may be empty),
// and RFC 7162 section 7: `mailbox-data =/ "SEARCH" [1*(SP nz-number) SP
// search-sort-mod-seq]` (the same for SORT): a MODSEQ needs a number before
// it. `* QUOTA "" ()` and `* SEARCH (MODSEQ 5)` were read and written.
#[test]
fn quota_and_search_modseq_lists_are_not_empty() {
    for wire in [
        &b"* QUOTA \"\" ()\r\n"[..],
        b"* SEARCH (MODSEQ 5)\r\n",
        b"* SORT (MODSEQ 5)\r\n",
    ] {
        assert!(resp(wire).is_err(), "{}", String::from_utf8_lossy(wire));
    }
    for wire in [
        &b"* QUOTA \"\" (STORAGE 1 2)\r\n"[..],
        b"* SEARCH 1 (MODSEQ 5)\r\n",
        b"* SEARCH\r\n",
        b"a1 SETQUOTA \"\" ()\r\n",
    ] {
        let enc = if wire.starts_with(b"*") {
            resp(wire).unwrap().encode(&Options::default()).unwrap()
        } else {
            cmd(wire).unwrap().encode(&Options::default()).unwrap()
        };
        assert_eq!(&enc.bytes[..], wire);
    }
    let o = Options::default();
    let quota = imap_proto::Response::Data(imap_proto::Data::Quota {
        root: imap_proto::Str::from(""),
        resources: vec![],
    });
    assert!(quota.encode(&o).is_err());
    let search = imap_proto::Response::Data(imap_proto::Data::Search {
        nums: vec![],
        mod_seq: Some(5),
    });
    assert!(search.encode(&o).is_err());
}

// RFC 5258 section 3: "The RECURSIVEMATCH option MUST NOT occur as the only
// selection option (or only with REMOTE) ... The server MUST return BAD
// tagged response in such case." (ABNF: "If a list-select-mod-opt appears,
// then a list-select-base-opt must also appear.") `LIST (RECURSIVEMATCH)`
// and `(REMOTE RECURSIVEMATCH)` were read as valid commands, and written.
#[test]
fn recursivematch_needs_a_base_option() {
    use imap_proto::command::ListSelect;
    for wire in [
        &b"a1 LIST (RECURSIVEMATCH) \"\" *\r\n"[..],
        b"a1 LIST (REMOTE RECURSIVEMATCH) \"\" *\r\n",
        b"a1 LIST (SPECIAL-USE RECURSIVEMATCH) \"\" *\r\n",
    ] {
        assert!(cmd(wire).is_err(), "{}", String::from_utf8_lossy(wire));
    }
    for wire in [
        &b"a1 LIST (REMOTE RECURSIVEMATCH SUBSCRIBED) \"\" *\r\n"[..],
        b"a1 LIST (RECURSIVEMATCH X-BASE) \"\" *\r\n",
        b"a1 LIST (REMOTE) \"\" *\r\n",
    ] {
        let c = cmd(wire).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(&c.encode(&Options::default()).unwrap().bytes[..], wire);
    }
    let c = Command {
        tag: Tag::new("a1").unwrap(),
        body: CommandBody::List {
            selection: vec![ListSelect::Remote, ListSelect::RecursiveMatch],
            reference: Mailbox::from(""),
            patterns: vec![imap_proto::Str::from("*")],
            returns: None,
        },
    };
    assert!(c.encode(&Options::default()).is_err());
}
