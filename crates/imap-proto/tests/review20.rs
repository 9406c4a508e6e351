//! Review (session 20, known gaps): each test failed on the code before its
//! fix (did not compile, or asserted wrongly) and cites the rule it checks.

use bytes::{Bytes, BytesMut};
use imap_proto::command::{AppendMessage, FetchAttr, FetchItems, Section};
use imap_proto::response::FetchItem;
use imap_proto::{
    Code, Command, CommandBody, Data, Direction, Frame, Framer, Limits, Mailbox, Options, Response, SeqNum,
    SeqRange, SeqSet, StatusKind, StatusResponse, Str, StrForm, Tag,
};

fn rev2() -> Options {
    Options {
        version: imap_proto::Version::Rev2,
        ..Options::default()
    }
}

fn cmd_round_trip(wire: &[u8], o: &Options) -> Command {
    let c = Command::parse(&Bytes::copy_from_slice(wire), o).unwrap_or_else(|e| panic!("{e:?}"));
    let enc = c.encode(o).unwrap();
    assert_eq!(&enc.bytes[..], wire);
    c
}

fn resp_round_trip(wire: &[u8], o: &Options) -> Response {
    let r = Response::parse(&Bytes::copy_from_slice(wire), o).unwrap_or_else(|e| panic!("{e:?}"));
    let enc = r.encode(o).unwrap();
    assert_eq!(&enc.bytes[..], wire);
    r
}

// RFC 9051 section 9: `partial = "<" number64 "." nz-number64 ">"` with
// `number64 = 1*DIGIT ; Unsigned 63-bit integer (0 <= n <=
// 9,223,372,036,854,775,807)`, and Appendix D: "IMAP4rev2 increases allowed
// body part and message sizes that servers can support from 32 to 63 bits
// ... client implementations have to expect them." A partial fetch past
// 4 GiB must parse and encode, and so must the origin the server echoes.
#[test]
fn partial_fetch_offsets_are_63_bit() {
    let o = rev2();
    let c = cmd_round_trip(
        b"a1 FETCH 1 (BODY.PEEK[]<5000000000.4294967296> BINARY[1]<9223372036854775807.1>)\r\n",
        &o,
    );
    let CommandBody::Fetch {
        items: FetchItems::Attrs(a),
        ..
    } = &c.body
    else {
        panic!("{c:?}")
    };
    assert!(
        matches!(
            a[0],
            FetchAttr::BodySection {
                partial: Some((5_000_000_000, 4_294_967_296)),
                ..
            }
        ),
        "{a:?}"
    );
    assert!(
        matches!(
            a[1],
            FetchAttr::Binary {
                partial: Some((9_223_372_036_854_775_807, 1)),
                ..
            }
        ),
        "{a:?}"
    );

    let r = resp_round_trip(b"* 1 FETCH (BODY[]<5000000000> {3}\r\nabc)\r\n", &o);
    let Response::Data(Data::Fetch { items, .. }) = &r else {
        panic!("{r:?}")
    };
    assert!(
        matches!(
            items[0],
            FetchItem::BodySection {
                origin: Some(5_000_000_000),
                ..
            }
        ),
        "{items:?}"
    );

    // 2^63 is beyond number64, and a zero length is not nz-number64.
    for bad in [
        &b"a1 FETCH 1 BODY[]<9223372036854775808.1>\r\n"[..],
        b"a1 FETCH 1 BODY[]<0.9223372036854775808>\r\n",
        b"a1 FETCH 1 BODY[]<5000000000.0>\r\n",
    ] {
        assert!(
            Command::parse(&Bytes::copy_from_slice(bad), &o).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let r = Bytes::from_static(b"* 1 FETCH (BODY[]<9223372036854775808> NIL)\r\n");
    assert!(Response::parse(&r, &o).is_err());
    let c = Command {
        tag: imap_proto::Tag::new("a1").unwrap(),
        body: CommandBody::Fetch {
            uid: false,
            set: imap_proto::SeqSet::single(1),
            items: FetchItems::Attrs(vec![FetchAttr::BodySection {
                peek: false,
                section: Section::default(),
                partial: Some((1 << 63, 1)),
            }]),
            modifiers: vec![],
        },
    };
    assert!(c.encode(&o).is_err(), "2^63 must not be written");
}

fn utf8_append(message: Str) -> Command {
    Command {
        tag: Tag::new("A1").unwrap(),
        body: CommandBody::Append {
            mailbox: Mailbox::from("INBOX"),
            messages: vec![AppendMessage {
                flags: vec![imap_proto::Flag::Seen],
                date: None,
                message,
                utf8: true,
            }],
        },
    }
}

/// Feeds `wire` to a server framer in pieces of `step` bytes; returns the
/// streamed data and the unit.
fn frame_command(wire: &[u8], limits: Limits, step: usize) -> (Vec<u8>, imap_proto::Unit) {
    let mut f = Framer::new(Direction::ClientToServer, limits);
    let mut buf = BytesMut::new();
    let mut streamed = Vec::new();
    let mut unit = None;
    for chunk in wire.chunks(step) {
        buf.extend_from_slice(chunk);
        while let Some(fr) = f.next(&mut buf) {
            match fr.unwrap() {
                Frame::StreamChunk(c) => streamed.extend_from_slice(&c),
                Frame::Unit(u) => {
                    assert!(unit.is_none(), "one unit only");
                    unit = Some(u);
                }
                Frame::StreamStart(i) | Frame::LiteralAnnounced(i) => assert!(i.binary, "literal8: {i:?}"),
                Frame::StreamEnd => {}
            }
        }
    }
    assert!(buf.is_empty());
    (streamed, unit.expect("a unit"))
}

// RFC 6855 section 4: "A client that sends a message with UTF-8 headers to
// the server MUST send them using the "UTF8" data extension to the "APPEND"
// command." with `utf8-literal = "UTF8" SP "(" literal8 ")"` and
// `append-data =/ utf8-literal`. The command must parse and encode, the
// literal8 inside the parentheses must frame whole, split at every byte and
// streamed, and the `)` after it must still be read.
#[test]
fn append_utf8_literal8_round_trips_and_frames() {
    let o = Options::default();
    let msg = "Subject: caf\u{e9}\r\n\r\nbody\0\r\n".as_bytes();
    let wire = [
        &b"A1 APPEND INBOX (\\Seen) UTF8 (~{"[..],
        msg.len().to_string().as_bytes(),
        b"}\r\n",
        msg,
        b")\r\n",
    ]
    .concat();
    let c = cmd_round_trip(&wire, &o);
    assert_eq!(c, utf8_append(Str::new(msg.to_vec())));
    let CommandBody::Append { messages, .. } = &c.body else {
        panic!()
    };
    assert!(messages[0].utf8);
    // The encoder writes the literal8 even for a value with no NUL.
    let enc = utf8_append(Str::from("Subject: x\r\n\r\n")).encode(&o).unwrap();
    assert_eq!(
        &enc.bytes[..],
        b"A1 APPEND INBOX (\\Seen) UTF8 (~{14}\r\nSubject: x\r\n\r\n)\r\n"
    );
    assert_eq!(enc.pauses.len(), 1, "a synchronizing literal8 waits for '+'");

    // Framed whole and byte by byte, with another command after it.
    let mut two = wire.clone();
    two.extend_from_slice(b"A2 NOOP\r\n");
    for step in [two.len(), 1, 7] {
        let mut f = Framer::new(Direction::ClientToServer, Limits::default());
        let mut buf = BytesMut::new();
        let mut units = Vec::new();
        for chunk in two.chunks(step) {
            buf.extend_from_slice(chunk);
            while let Some(fr) = f.next(&mut buf) {
                if let Frame::Unit(u) = fr.unwrap() {
                    units.push(u);
                }
            }
        }
        assert_eq!(units.len(), 2, "step {step}");
        assert_eq!(Command::parse_unit(&units[0], &o).unwrap(), c, "step {step}");
        assert!(matches!(
            Command::parse_unit(&units[1], &o).unwrap().body,
            CommandBody::Noop
        ));
    }

    // Streamed: the data comes as chunks and the unit keeps the `)`.
    let limits = Limits {
        stream_literals_over: Some(16),
        ..Limits::default()
    };
    for step in [wire.len(), 1, 5] {
        let (data, unit) = frame_command(&wire, limits, step);
        assert_eq!(data, msg, "step {step}");
        let p = Command::parse_unit(&unit, &o).unwrap();
        let CommandBody::Append { messages, .. } = &p.body else {
            panic!()
        };
        assert!(messages[0].utf8);
        assert_eq!(
            messages[0].message.form,
            StrForm::Streamed {
                len: msg.len() as u64,
                binary: true
            }
        );
        // Re-encoded, the streamed value leaves its pause inside the parentheses.
        let again = p.encode(&o).unwrap();
        let at = again.pauses.last().unwrap().offset;
        assert!(
            again.bytes[..at].ends_with(format!("UTF8 (~{{{}}}\r\n", msg.len()).as_bytes()),
            "{:?}",
            again.bytes
        );
        assert_eq!(&again.bytes[at..], b")\r\n");
    }

    // Not a literal8, or no closing parenthesis: refused.
    for bad in [
        &b"A1 APPEND INBOX UTF8 ({3}\r\nabc)\r\n"[..],
        b"A1 APPEND INBOX UTF8 (~{3}\r\nabc\r\n",
        b"A1 APPEND INBOX UTF8 ~{3}\r\nabc\r\n",
        b"A1 APPEND INBOX UTF8 (\"abc\")\r\n",
    ] {
        assert!(
            Command::parse(&Bytes::copy_from_slice(bad), &o).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

fn code_of(wire: &[u8]) -> Code {
    let r = Response::parse(&Bytes::copy_from_slice(wire), &Options::default())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let Response::Status(StatusResponse { code: Some(c), .. }) = r else {
        panic!("{r:?}")
    };
    c
}

// RFC 4315 section 4 (and RFC 9051 section 9): `resp-code-apnd =
// "APPENDUID" SP nz-number SP append-uid`, `resp-code-copy = "COPYUID" SP
// nz-number SP uid-set SP uid-set`, `uid-set = (uniqueid / uid-range)
// *("," uid-set)`, `uniqueid = nz-number`. A uid-set holds no "*" and no
// "$" (those are sequence-set only). The crate's policy for a known code
// whose arguments do not follow its grammar (as `[UIDNEXT 0]`) is to keep it
// raw as `Code::Other`; APPENDUID/COPYUID with "*" or "$" must get the same,
// and the encoder must not write them. Commands keep "*" and "$".
#[test]
fn appenduid_and_copyuid_refuse_star_and_dollar() {
    // The existing policy, for reference.
    assert_eq!(
        code_of(b"a1 OK [UIDNEXT 0] x\r\n"),
        Code::Other(Bytes::from_static(b"UIDNEXT"), Some(Bytes::from_static(b"0")))
    );
    for (wire, name, arg) in [
        (&b"a1 OK [APPENDUID 38505 *] done\r\n"[..], "APPENDUID", "38505 *"),
        (
            b"a1 OK [APPENDUID 38505 3955:*] done\r\n",
            "APPENDUID",
            "38505 3955:*",
        ),
        (b"a1 OK [APPENDUID 38505 $] done\r\n", "APPENDUID", "38505 $"),
        (
            b"a1 OK [COPYUID 38505 304,319:* 3956:3958] done\r\n",
            "COPYUID",
            "38505 304,319:* 3956:3958",
        ),
        (
            b"a1 OK [COPYUID 38505 $ 3956] done\r\n",
            "COPYUID",
            "38505 $ 3956",
        ),
        (b"a1 OK [COPYUID 38505 304 *] done\r\n", "COPYUID", "38505 304 *"),
    ] {
        assert_eq!(
            code_of(wire),
            Code::Other(Bytes::from(name), Some(Bytes::from(arg))),
            "{}",
            String::from_utf8_lossy(wire)
        );
    }
    // The RFC 4315 examples still parse as typed codes.
    assert!(matches!(
        code_of(b"A003 OK [APPENDUID 38505 3955] APPEND completed\r\n"),
        Code::AppendUid {
            uid_validity: 38505,
            ..
        }
    ));
    assert!(matches!(
        code_of(b"A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"),
        Code::CopyUid {
            uid_validity: 38505,
            ..
        }
    ));

    // The encoder refuses them.
    let star = SeqSet::Ranges(vec![SeqRange {
        start: SeqNum::Num(3),
        end: SeqNum::Star,
    }]);
    let one = SeqSet::single(1);
    for code in [
        Code::AppendUid {
            uid_validity: 1,
            uids: star.clone(),
        },
        Code::AppendUid {
            uid_validity: 1,
            uids: SeqSet::Saved,
        },
        Code::CopyUid {
            uid_validity: 1,
            source: star.clone(),
            dest: one.clone(),
        },
        Code::CopyUid {
            uid_validity: 1,
            source: one.clone(),
            dest: SeqSet::Saved,
        },
    ] {
        let r = Response::Status(StatusResponse {
            tag: Some(Tag::new("a1").unwrap()),
            kind: StatusKind::Ok,
            code: Some(code.clone()),
            text: Bytes::from_static(b"done"),
        });
        assert!(r.encode(&Options::default()).is_err(), "{code:?}");
    }

    // Sequence sets in commands still take "*" and "$".
    let o = Options::default();
    cmd_round_trip(b"a1 UID COPY 1:* INBOX\r\n", &o);
    cmd_round_trip(b"a1 UID FETCH $ FLAGS\r\n", &o);
}

// RFC 3516 section 4.3: "BINARY<section-binary>[<<number>>] ... If <number> is
// present it refers to the offset within the DECODED section data." and RFC 9051
// section 7.5.2: "BINARY[<section-binary>]<<number>> ... If <number> is present,
// it refers to the offset within the DECODED section data." (the `msg-att-static`
// ABNF leaves it out, as it writes the BODY origin as 32-bit). A server answering a
// partial BINARY fetch sends the origin; the whole FETCH response was refused.
#[test]
fn binary_response_keeps_its_origin() {
    let o = rev2();
    let r = resp_round_trip(b"* 1 FETCH (BINARY[1]<0> ~{3}\r\na\x00c)\r\n", &o);
    let Response::Data(Data::Fetch { items, .. }) = &r else {
        panic!("{r:?}")
    };
    assert!(
        matches!(&items[0], FetchItem::Binary { origin: Some(0), data: Some(d), .. } if &d.data[..] == b"a\0c"),
        "{items:?}"
    );
    resp_round_trip(b"* 1 FETCH (BINARY[1.2]<5000000000> \"abc\")\r\n", &o);
    resp_round_trip(b"* 1 FETCH (BINARY[] NIL)\r\n", &o);
    let r = Bytes::from_static(b"* 1 FETCH (BINARY[1]<9223372036854775808> NIL)\r\n");
    assert!(Response::parse(&r, &o).is_err());
}

// RFC 7162 section 7: `expunged-resp = "VANISHED" [SP "(EARLIER)"] SP known-uids`,
// `known-uids = sequence-set ;; Sequence of UIDs; "*" is not allowed.` A server
// names the UIDs it removed; "*" (or the client's "$") there would make a client
// drop messages nobody named. Refused like the uid-sets of APPENDUID/COPYUID.
#[test]
fn vanished_takes_uids_only() {
    let o = Options::default();
    let r = resp_round_trip(b"* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n", &o);
    assert!(
        matches!(r, Response::Data(Data::Vanished { earlier: true, .. })),
        "{r:?}"
    );
    for bad in [
        &b"* VANISHED 1:*\r\n"[..],
        b"* VANISHED *\r\n",
        b"* VANISHED (EARLIER) $\r\n",
    ] {
        assert!(
            Response::parse(&Bytes::copy_from_slice(bad), &o).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let star = SeqSet::Ranges(vec![SeqRange {
        start: SeqNum::Num(3),
        end: SeqNum::Star,
    }]);
    for uids in [star, SeqSet::Saved] {
        let r = Response::Data(Data::Vanished { earlier: false, uids });
        assert!(r.encode(&o).is_err(), "{r:?}");
    }
}
