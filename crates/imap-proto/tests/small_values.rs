//! Parsed values held inline ([`SmallBytes`]) and the word-at-a-time scan
//! of quoted strings behave as the plain byte-by-byte definitions do.

use bytes::Bytes;
use imap_proto::response::ListData;
use imap_proto::{Data, Flag, Options, Quirks, Response, SmallBytes, Str, StrForm};
use std::collections::HashSet;

fn mailbox_of(r: &Response) -> &Str {
    match r {
        Response::Data(Data::List(ListData { mailbox, .. })) => &mailbox.0,
        other => panic!("not a LIST: {other:?}"),
    }
}

#[test]
fn inline_and_shared_values_behave_alike() {
    let long = b"0123456789abcdef0123456789abcdef0123456789abcdef";
    for len in [0, 1, 22, 37, 38, 39, 48] {
        let want = &long[..len];
        let forms = [
            SmallBytes::new(want),
            SmallBytes::from(Bytes::copy_from_slice(want)),
            SmallBytes::from(want.to_vec()),
            SmallBytes::from(std::str::from_utf8(want).unwrap()),
        ];
        for v in &forms {
            assert_eq!(v.as_bytes(), want);
            assert_eq!(&v[..], want);
            assert_eq!(v, &forms[0]);
            assert_eq!(*v, Bytes::copy_from_slice(want));
            assert_eq!(v.to_bytes(), want);
            assert_eq!(Bytes::from(v.clone()), want);
            assert_eq!(format!("{v:?}"), format!("{:?}", Bytes::copy_from_slice(want)));
            let set: HashSet<SmallBytes> = [v.clone()].into_iter().collect();
            assert!(set.contains(want));
        }
    }
    let odd = SmallBytes::new(b"a\"b\\c\x01\r\n\t\0\xff");
    assert_eq!(
        format!("{odd:?}"),
        format!("{:?}", Bytes::from_static(b"a\"b\\c\x01\r\n\t\0\xff"))
    );
    assert!(SmallBytes::new(b"a") < SmallBytes::new(b"b"));
    assert_eq!(SmallBytes::default(), SmallBytes::new(b""));
    assert_eq!(SmallBytes::from_static(b"Seen"), SmallBytes::new(b"Seen"));
}

#[test]
fn parsed_values_inline_or_sliced_compare_as_bytes() {
    let o = Options::default();
    for len in [1, 37, 38, 39, 120] {
        let name = "m".repeat(len);
        let atom = format!("* LIST (\\X{name}) \"/\" {name}\r\n");
        let quoted = format!("* LIST (\\X{name}) \"/\" \"{name}\"\r\n");
        let literal = format!("* LIST (\\X{name}) \"/\" {{{len}}}\r\n{name}\r\n");
        let mut seen = Vec::new();
        for wire in [atom, quoted, literal] {
            let unit = Bytes::from(wire);
            let r = Response::parse(&unit, &o).unwrap();
            let Response::Data(Data::List(l)) = &r else {
                panic!()
            };
            assert_eq!(
                l.attrs,
                vec![Flag::Extension(SmallBytes::new(format!("X{name}").as_bytes()))]
            );
            assert_eq!(l.mailbox.as_bytes(), name.as_bytes());
            seen.push(mailbox_of(&r).clone());
        }
        assert!(seen.iter().all(|s| *s == seen[0]));
    }
}

#[test]
fn long_literals_stay_zero_copy() {
    let o = Options::default();
    let body = "x".repeat(4096);
    let unit = Bytes::from(format!("* 1 FETCH (BODY[] {{4096}}\r\n{body})\r\n"));
    let Response::Data(Data::Fetch { items, .. }) = Response::parse(&unit, &o).unwrap() else {
        panic!()
    };
    let imap_proto::response::FetchItem::BodySection { data: Some(s), .. } = &items[0] else {
        panic!()
    };
    assert!(matches!(s.form, StrForm::Literal { .. }));
    let b = Bytes::from(s.data.clone());
    let range = unit.as_ptr() as usize..unit.as_ptr() as usize + unit.len();
    assert!(
        range.contains(&(b.as_ptr() as usize)),
        "the literal is a slice of the unit"
    );
}

/// The quoted-string grammar byte by byte (RFC 3501 section 9 `quoted`;
/// 8-bit content only when `eight_bit`, then as UTF-8): the unescaped
/// content, or `None` when refused.
fn reference_quoted(content: &[u8], eight_bit: bool) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < content.len() {
        match content[i] {
            b'\\' => match content.get(i + 1) {
                Some(&c @ (b'"' | b'\\')) => {
                    out.push(c);
                    i += 2;
                    continue;
                }
                _ => return None,
            },
            b'"' | b'\r' | b'\n' | 0 => return None,
            0x80.. if !eight_bit => return None,
            c => out.push(c),
        }
        i += 1;
    }
    if eight_bit && std::str::from_utf8(content).is_err() {
        return None;
    }
    Some(out)
}

#[test]
fn quoted_strings_scan_as_the_grammar_reads_them() {
    let specials: [&[u8]; 10] = [
        b"\"",
        b"\\\"",
        b"\\\\",
        b"\\x",
        b"\t",
        b"\x01",
        b"\x1f",
        b"\r",
        b"\0",
        "\u{e9}".as_bytes(),
    ];
    for rev2 in [false, true] {
        let o = if rev2 { Options::rev2() } else { Options::default() };
        for len in 0..24 {
            for at in 0..=len {
                for sp in specials {
                    let mut content = vec![b'a'; len];
                    content.splice(at..at, sp.iter().copied());
                    let mut wire = b"* LIST () \"/\" \"".to_vec();
                    wire.extend_from_slice(&content);
                    wire.extend_from_slice(b"\"\r\n");
                    let got = Response::parse(&Bytes::from(wire.clone()), &o);
                    match reference_quoted(&content, rev2) {
                        Some(want) => {
                            let r = got.unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
                            assert_eq!(mailbox_of(&r).as_bytes(), &want[..], "{wire:?}");
                        }
                        None => assert!(got.is_err(), "{wire:?}"),
                    }
                }
            }
        }
    }
    // Under the quirk, any 8-bit byte is content.
    let o = Options {
        quirks: Quirks {
            eight_bit_quoted: true,
            ..Quirks::default()
        },
        ..Options::default()
    };
    let r = Response::parse(
        &Bytes::from_static(b"* LIST () \"/\" \"abcdefgh\xff\xfeabcdefgh\"\r\n"),
        &o,
    )
    .unwrap();
    assert_eq!(mailbox_of(&r).as_bytes(), b"abcdefgh\xff\xfeabcdefgh");
}

#[test]
fn flag_lists_inline_and_spilled_behave_as_vecs() {
    use imap_proto::FlagList;
    let names: Vec<Flag> = (0..5)
        .map(|i| Flag::Extension(SmallBytes::new(format!("X{i}").as_bytes())))
        .collect();
    for n in 0..=names.len() {
        let want = names[..n].to_vec();
        let pushed = {
            let mut l = FlagList::new();
            for f in &want {
                l.push(f.clone());
            }
            l
        };
        let from: FlagList = want.clone().into();
        let collected: FlagList = want.iter().cloned().collect();
        for l in [&pushed, &from, &collected] {
            assert_eq!(l.as_slice(), &want[..]);
            assert_eq!(*l, want);
            assert_eq!(l, &pushed);
            assert_eq!(l.len(), n);
            assert_eq!(format!("{l:?}"), format!("{want:?}"));
            assert_eq!(l.iter().count(), n);
            assert_eq!(Vec::from(l.clone()), want);
            let set: HashSet<FlagList> = [l.clone()].into_iter().collect();
            assert!(set.contains(&pushed));
        }
    }
    assert_eq!(FlagList::default(), FlagList::new());
    let o = Options::default();
    let r = Response::parse(
        &Bytes::from_static(b"* LIST (\\HasNoChildren \\Subscribed \\Sent \\Marked) \"/\" Sent\r\n"),
        &o,
    )
    .unwrap();
    let Response::Data(Data::List(l)) = &r else {
        panic!()
    };
    assert_eq!(l.attrs.len(), 4);
    assert_eq!(l.attrs[2], Flag::Extension(SmallBytes::new(b"Sent")));
    assert_eq!(
        &r.encode(&o).unwrap().bytes[..],
        b"* LIST (\\HasNoChildren \\Subscribed \\Sent \\Marked) \"/\" Sent\r\n"
    );
}

#[test]
fn fetch_flags_are_a_flag_list_inline_or_spilled() {
    use imap_proto::response::FetchItem;
    let o = Options::default();
    for (line, n) in [
        (&b"* 1 FETCH (FLAGS ())\r\n"[..], 0),
        (b"* 1 FETCH (FLAGS (\\Seen))\r\n", 1),
        (b"* 1 FETCH (FLAGS (\\Seen $Forwarded) UID 7)\r\n", 2),
        (
            b"* 1 FETCH (UID 7 FLAGS (\\Seen \\Answered $Forwarded \\Recent))\r\n",
            4,
        ),
    ] {
        let r = Response::parse(&Bytes::copy_from_slice(line), &o).unwrap();
        let Response::Data(Data::Fetch { items, .. }) = &r else {
            panic!("{r:?}")
        };
        let flags = items
            .iter()
            .find_map(|i| match i {
                FetchItem::Flags(f) => Some(f),
                _ => None,
            })
            .unwrap();
        assert_eq!(flags.len(), n, "{}", String::from_utf8_lossy(line));
        assert_eq!(&r.encode(&o).unwrap().bytes[..], line);
    }
}
