//! Review (session 23): each test failed on the code before its fix and
//! cites the rule it checks.

use bytes::Bytes;
use imap_proto::response::ListData;
use imap_proto::{Command, Data, Flag, Mailbox, Options, Response, SmallBytes, Version};

fn parse(wire: &[u8], o: &Options) -> Result<Response, imap_proto::ParseError> {
    Response::parse(&Bytes::copy_from_slice(wire), o)
}

fn command(wire: &[u8], o: &Options) -> Result<Command, imap_proto::ParseError> {
    Command::parse(&Bytes::copy_from_slice(wire), o)
}

// RFC 3501 section 9 (RFC 9051 section 9 alike, RFC 5258 section 6 adds
// "\NonExistent" to mbx-list-sflag):
//   mbx-list-flags = *(mbx-list-oflag SP) mbx-list-sflag
//                    *(SP mbx-list-oflag) /
//                    mbx-list-oflag *(SP mbx-list-oflag)
//   mbx-list-sflag = "\Noselect" / "\Marked" / "\Unmarked"
// At most one selectability flag; `(\Noselect \Marked)` was read and written.
#[test]
fn list_attributes_hold_at_most_one_selectability_flag() {
    let o = Options::default();
    for wire in [
        &b"* LIST (\\Noselect \\Marked) \"/\" a\r\n"[..],
        b"* LIST (\\Marked \\Unmarked) \"/\" a\r\n",
        b"* LSUB (\\HasChildren \\noselect \\UNMARKED) \"/\" a\r\n",
        b"* LIST (\\NonExistent \\Noselect) \"/\" a\r\n",
        b"* LIST (\\Marked \\Marked) \"/\" a\r\n",
    ] {
        assert!(parse(wire, &o).is_err(), "{wire:?}");
    }
    for wire in [
        &b"* LIST (\\Noselect \\HasChildren) \"/\" a\r\n"[..],
        b"* LIST (\\Subscribed \\NonExistent) \"/\" a\r\n",
        b"* LIST (\\HasNoChildren \\Marked \\Subscribed) \"/\" a\r\n",
        b"* LIST () \"/\" a\r\n",
    ] {
        let r = parse(wire, &o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
        assert_eq!(&r.encode(&o).unwrap().bytes[..], wire);
    }
    let attr = |n: &'static [u8]| Flag::Extension(SmallBytes::from_static(n));
    let two = Response::Data(Data::List(ListData {
        attrs: vec![attr(b"Noselect"), attr(b"HasChildren"), attr(b"Unmarked")].into(),
        delimiter: Some('/'),
        mailbox: Mailbox::from("a"),
        extended: vec![],
    }));
    assert!(two.encode(&o).is_err());
}

// RFC 3501 section 9: `literal = "{" number "}" CRLF *CHAR8`, no `{n+}`;
// RFC 7888 adds it for a server that advertises LITERAL+ (any size) or
// LITERAL- (section 5: at most 4096 octets), and RFC 9051 section 4.3 makes
// the LITERAL- form part of IMAP4rev2 ("Unless otherwise specified in an
// IMAP extension, non-synchronizing literals MUST NOT be larger than 4096
// octets"). A command with `{n+}` was read whatever the options said.
#[test]
fn nonsync_literals_only_where_in_effect() {
    let small = b"a LOGIN {4+}\r\nfred {2+}\r\npw\r\n";
    let big = format!("a APPEND x {{5000+}}\r\n{}\r\n", "x".repeat(5000));
    let rev1 = Options::default();
    assert!(command(small, &rev1).is_err());
    assert!(command(big.as_bytes(), &rev1).is_err());
    // The synchronizing form is always fine.
    assert!(command(b"a LOGIN {4}\r\nfred {2}\r\npw\r\n", &rev1).is_ok());

    let minus = Options {
        literal_minus: true,
        ..Options::default()
    };
    let rev2 = Options {
        version: Version::Rev2,
        ..Options::default()
    };
    for o in [minus, rev2] {
        assert!(command(small, &o).is_ok(), "{o:?}");
        assert!(command(big.as_bytes(), &o).is_err(), "{o:?}");
    }
    let plus = Options {
        literal_plus: true,
        ..Options::default()
    };
    assert!(command(small, &plus).is_ok());
    assert!(command(big.as_bytes(), &plus).is_ok());
}

// RFC 3501 section 9: `number = 1*DIGIT ; Unsigned 32-bit integer (0 <= n <
// 4,294,967,296)`, and RFC822.SIZE, body-fld-lines, body-extension, the
// `<origin>` of BODY[] and `section-partial` are `number` (RFC 3516 section
// 4: BINARY.SIZE and BINARY's `<origin>` too); RFC 9051 section 9 made them
// `number64` (63-bit). Under IMAP4rev1 they were read and written up to
// 2^63-1.
#[test]
fn rev1_numbers_are_32_bit_where_rev2_has_number64() {
    let rev1 = Options::default();
    let rev2 = Options::rev2();
    let big = u64::from(u32::MAX) + 1;
    let responses = [
        format!("* 1 FETCH (RFC822.SIZE {big})\r\n"),
        format!("* 1 FETCH (BODY (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 {big}))\r\n"),
        format!(
            "* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL NIL NIL NIL {big}))\r\n"
        ),
        format!("* 1 FETCH (BODY[]<{big}> \"x\")\r\n"),
        format!("* 1 FETCH (BINARY[1]<{big}> \"x\")\r\n"),
        format!("* 1 FETCH (BINARY.SIZE[1] {big})\r\n"),
    ];
    for wire in &responses {
        assert!(parse(wire.as_bytes(), &rev1).is_err(), "{wire}");
        let r = parse(wire.as_bytes(), &rev2).unwrap_or_else(|e| panic!("{wire}: {e:?}"));
        assert_eq!(&r.encode(&rev2).unwrap().bytes[..], wire.as_bytes());
        assert!(r.encode(&rev1).is_err(), "{wire}");
        let at_max = wire.replace(&big.to_string(), &u32::MAX.to_string());
        let r = parse(at_max.as_bytes(), &rev1).unwrap_or_else(|e| panic!("{at_max}: {e:?}"));
        assert_eq!(&r.encode(&rev1).unwrap().bytes[..], at_max.as_bytes());
    }
    let commands = [
        format!("a SEARCH LARGER {big}\r\n"),
        format!("a SEARCH SMALLER {big}\r\n"),
        format!("a FETCH 1 BODY.PEEK[]<{big}.1>\r\n"),
        format!("a FETCH 1 BODY[]<0.{big}>\r\n"),
        format!("a FETCH 1 BINARY[1]<{big}.1>\r\n"),
    ];
    for wire in &commands {
        assert!(command(wire.as_bytes(), &rev1).is_err(), "{wire}");
        let c = command(wire.as_bytes(), &rev2).unwrap_or_else(|e| panic!("{wire}: {e:?}"));
        assert_eq!(&c.encode(&rev2).unwrap().bytes[..], wire.as_bytes());
        assert!(c.encode(&rev1).is_err(), "{wire}");
    }
}

// RFC 9051 section 4.3: "The non-synchronizing literal form MUST NOT be
// sent from server to client", and section 9: `literal = "{" number64
// ["+"] "}" CRLF *CHAR8 ... ; Non-synchronizing literals are not allowed
// when sent from server to the client` (RFC 7888 section 3 alike). A
// response with `{n+}` was read as a literal.
#[test]
fn responses_hold_no_nonsync_literals() {
    for o in [Options::default(), Options::rev2()] {
        assert!(parse(b"* 1 FETCH (BODY[] {3+}\r\nabc)\r\n", &o).is_err());
        assert!(parse(b"* LIST () \"/\" {1+}\r\na\r\n", &o).is_err());
        assert!(parse(b"* 1 FETCH (BODY[] {3}\r\nabc)\r\n", &o).is_ok());
        // In text it is text, not a literal.
        assert!(parse(b"a1 OK see {12+}\r\n", &o).is_ok());
    }
}

// RFC 3501 / RFC 9051 section 9: `nz-number = digit-nz *DIGIT` (while
// `number = 1*DIGIT` may start with 0): message sequence numbers, UIDs and
// SEARCH results have no leading zero. `01` was read as 1.
#[test]
fn nz_numbers_have_no_leading_zero() {
    let o = Options::default();
    for wire in [
        &b"* 01 EXPUNGE\r\n"[..],
        b"* 01 FETCH (FLAGS ())\r\n",
        b"* 1 FETCH (UID 007)\r\n",
        b"* SEARCH 1 02\r\n",
        b"* SEARCH 02\r\n",
        b"* ESEARCH MIN 01\r\n",
        b"* THREAD (01)\r\n",
        b"* VANISHED 1:02\r\n",
        b"a OK [UIDVALIDITY 01] x\r\n",
    ] {
        let r = parse(wire, &o);
        // A known code with an unreadable argument is kept raw (Code::Other).
        let typed =
            matches!(&r, Ok(Response::Status(s)) if !matches!(s.code, Some(imap_proto::Code::Other(..))));
        assert!(r.is_err() || wire.starts_with(b"a OK") && !typed, "{wire:?}");
    }
    for wire in [
        &b"a FETCH 01 FLAGS\r\n"[..],
        b"a UID FETCH 1:02 FLAGS\r\n",
        b"a UID EXPUNGE 01\r\n",
    ] {
        assert!(command(wire, &o).is_err(), "{wire:?}");
    }
    // `number` may: EXISTS, RECENT, ESEARCH COUNT.
    for wire in [
        &b"* 01 EXISTS\r\n"[..],
        b"* 00 RECENT\r\n",
        b"* ESEARCH COUNT 01\r\n",
    ] {
        assert!(parse(wire, &o).is_ok(), "{wire:?}");
    }
}

// RFC 9051 section 9 (RFC 3501 alike): `resp-text-code = "ALERT" / ... /
// "UIDNEXT" SP nz-number / "UIDVALIDITY" SP nz-number / ... / atom [SP
// 1*<any TEXT-CHAR except "]">]`, and RFC 4315 section 4: `resp-code-apnd =
// "APPENDUID" SP nz-number SP append-uid`. A known code whose argument breaks
// its own rule still matches the generic alternative, so the response is
// kept (its completion or text must not be lost) as `Code::Other`; but a
// client relying on UIDNEXT must be able to tell it was malformed rather
// than an extension code it may ignore (section 7.1).
#[test]
fn known_codes_with_bad_arguments_are_detectable() {
    use imap_proto::Code;
    let code_of = |wire: &str, o: &Options| match parse(wire.as_bytes(), o) {
        Ok(Response::Status(s)) => s.code.expect("a code"),
        other => panic!("{wire}: {other:?}"),
    };
    for o in [Options::default(), Options::rev2()] {
        for wire in [
            "* OK [UIDNEXT 4294967296] Predicted next UID\r\n",
            "* OK [UIDNEXT 0] x\r\n",
            "* OK [UIDVALIDITY 01] x\r\n",
            "* OK [uidvalidity x] x\r\n",
            "a1 OK [APPENDUID x 1] done\r\n",
            "a1 OK [APPENDUID 1 *] done\r\n",
            "a1 OK [COPYUID 1 2] done\r\n",
            "* OK [UNSEEN -1] x\r\n",
            "* OK [HIGHESTMODSEQ 0] x\r\n",
            "* OK [MODIFIED] x\r\n",
            "* OK [PERMANENTFLAGS \\Seen] x\r\n",
            "* OK [CAPABILITY] x\r\n",
            "* OK [MAILBOXID id] x\r\n",
            "* OK [APPENDLIMIT big] x\r\n",
            "* OK [BADCHARSET UTF-8] x\r\n",
            "* OK [ALERT now] x\r\n",
            "a1 NO [TRYCREATE Archive] x\r\n",
        ] {
            let c = code_of(wire, &o);
            assert!(matches!(c, Code::Other(..)), "{wire}: {c:?}");
            assert!(c.is_malformed(), "{wire}: {c:?}");
            // Kept as it came: it encodes back to the same line.
            let r = parse(wire.as_bytes(), &o).unwrap();
            assert_eq!(&r.encode(&o).unwrap().bytes[..], wire.as_bytes());
        }
        for wire in [
            "* OK [UIDNEXT 5] x\r\n",
            "* OK [ALERT] x\r\n",
            "* OK [X-UIDNEXT 4294967296] x\r\n",
            "* OK [UIDNEXTS 1] x\r\n",
            "* OK [NOTIFICATIONOVERFLOW] x\r\n",
            "* OK [X-GM-THRID 4294967296] x\r\n",
        ] {
            assert!(!code_of(wire, &o).is_malformed(), "{wire}");
        }
    }
}

// RFC 4466 section 3 (the rules of sections 2.1 and 2.4, which RFC 7162
// extends):
//   select-params   = SP "(" select-param *(SP select-param) ")"
//   fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
// At least one parameter or modifier; `SELECT INBOX ()` and
// `FETCH 1 FLAGS ()` were read as if no list had been sent.
#[test]
fn select_params_and_fetch_modifiers_are_not_empty() {
    for o in [Options::default(), Options::rev2()] {
        for wire in [
            &b"a SELECT INBOX ()\r\n"[..],
            b"a EXAMINE INBOX ()\r\n",
            b"a FETCH 1 FLAGS ()\r\n",
            b"a UID FETCH 1:* (FLAGS UID) ()\r\n",
        ] {
            assert!(command(wire, &o).is_err(), "{wire:?}");
        }
        for wire in [
            &b"a SELECT INBOX (CONDSTORE)\r\n"[..],
            b"a EXAMINE INBOX\r\n",
            b"a FETCH 1 FLAGS (CHANGEDSINCE 5)\r\n",
            b"a UID FETCH 1:* (FLAGS UID)\r\n",
        ] {
            let c = command(wire, &o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
            assert_eq!(&c.encode(&o).unwrap().bytes[..], wire);
        }
    }
}

// RFC 7162 section 3.2.6: "the VANISHED UID FETCH modifier is NOT allowed
// with a FETCH command. The server MUST return a tagged BAD response if this
// response is specified as a modifier to the FETCH command", and "The
// VANISHED UID FETCH modifier MUST only be specified together with the
// CHANGEDSINCE UID FETCH modifier ... the server MUST respond with a tagged
// BAD response". Both were read (and written) as valid.
#[test]
fn vanished_fetch_modifier_needs_uid_fetch_and_changedsince() {
    use imap_proto::command::{FetchAttr, FetchItems, FetchModifier};
    use imap_proto::{CommandBody, SeqSet, Tag};
    for o in [Options::default(), Options::rev2()] {
        for wire in [
            &b"a FETCH 1:* FLAGS (CHANGEDSINCE 5 VANISHED)\r\n"[..],
            b"a FETCH 1:* FLAGS (VANISHED)\r\n",
            b"a UID FETCH 1:* FLAGS (VANISHED)\r\n",
        ] {
            assert!(command(wire, &o).is_err(), "{wire:?}");
        }
        for wire in [
            &b"a UID FETCH 1:* FLAGS (CHANGEDSINCE 5 VANISHED)\r\n"[..],
            b"a UID FETCH 1:* (FLAGS UID) (VANISHED CHANGEDSINCE 5)\r\n",
            b"a FETCH 1:* FLAGS (CHANGEDSINCE 5)\r\n",
        ] {
            let c = command(wire, &o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
            assert_eq!(&c.encode(&o).unwrap().bytes[..], wire);
        }
        for (uid, modifiers) in [
            (
                false,
                vec![FetchModifier::ChangedSince(5), FetchModifier::Vanished],
            ),
            (true, vec![FetchModifier::Vanished]),
        ] {
            let c = Command {
                tag: Tag::new("a").unwrap(),
                body: CommandBody::Fetch {
                    uid,
                    set: SeqSet::single(1),
                    items: FetchItems::Attrs(vec![FetchAttr::Flags]),
                    modifiers,
                },
            };
            assert!(c.encode(&o).is_err(), "{c:?}");
        }
    }
}

// RFC 7162 section 7:
//   entry-flag-name     = DQUOTE "/flags/" attr-flag DQUOTE
//   attr-flag           = "\\Answered" / ... / attr-flag-keyword /
//                         attr-flag-extension
//   attr-flag-extension = "\\" atom
//   attr-flag-keyword   = atom
// After "/flags/" comes one flag (the quoted string's `\\` is one
// backslash); only the prefix was checked, so "/flags/" alone or
// "/flags/a b" were read and written.
#[test]
fn modseq_search_entry_names_a_flag() {
    use imap_proto::command::SearchKey;
    use imap_proto::{CommandBody, Str, Tag};
    let o = Options::default();
    for name in [
        "/flags/",
        "/flags/a b",
        "/flags/\\\\",
        "/flags/\\\\\\\\Seen",
        "/flags/a(b",
        "/flags/a]b",
        "/flags/a*",
        "/flags/\\\\Seen\\\\Draft",
    ] {
        let wire = format!("a SEARCH MODSEQ \"{name}\" all 5\r\n");
        assert!(command(wire.as_bytes(), &o).is_err(), "{wire}");
    }
    for name in [
        "/flags/\\\\Seen",
        "/flags/$MDNSent",
        "/FLAGS/custom",
        "/flags/\\\\X-Ext",
    ] {
        let wire = format!("a SEARCH MODSEQ \"{name}\" priv 5\r\n");
        let c = command(wire.as_bytes(), &o).unwrap_or_else(|e| panic!("{wire}: {e:?}"));
        assert_eq!(&c.encode(&o).unwrap().bytes[..], wire.as_bytes());
    }
    for name in ["/flags/", "/flags/a b", "/flags/\\\\x"] {
        let c = Command {
            tag: Tag::new("a").unwrap(),
            body: CommandBody::Search {
                uid: false,
                returns: None,
                charset: None,
                criteria: vec![SearchKey::ModSeq {
                    entry: Some((Str::from(name), Bytes::from_static(b"all"))),
                    mod_seq: 5,
                }],
            },
        };
        assert!(c.encode(&o).is_err(), "{name}");
    }
}

// RFC 9051 section 9 and RFC 4466 section 3 (which updates RFC 3501's
// `"CHARSET" SP astring`): `search-program = ["CHARSET" SP charset SP]
// search-key *(SP search-key)`, `charset = atom / quoted`; RFC 5256 section
// 5: `search-criteria = charset 1*(SP search-key)` for SORT and THREAD. A
// charset was read as an astring, so a literal or an atom with `]` passed,
// and the encoder sent a charset no quoted string holds as a literal.
#[test]
fn search_sort_thread_charset_is_atom_or_quoted() {
    use imap_proto::command::SearchKey;
    use imap_proto::{CommandBody, Str, StrForm, Tag};
    for o in [Options::default(), Options::rev2()] {
        for wire in [
            &b"a SEARCH CHARSET {5}\r\nUTF-8 ALL\r\n"[..],
            b"a SEARCH CHARSET UTF]8 ALL\r\n",
            b"a UID SEARCH RETURN (ALL) CHARSET {5}\r\nUTF-8 ALL\r\n",
            b"a SORT (DATE) {5}\r\nUTF-8 ALL\r\n",
            b"a SORT (DATE) UTF]8 ALL\r\n",
            b"a THREAD REFERENCES {5}\r\nUTF-8 ALL\r\n",
            b"a UID THREAD ORDEREDSUBJECT UTF]8 ALL\r\n",
        ] {
            assert!(command(wire, &o).is_err(), "{wire:?}");
        }
        for wire in [
            &b"a SEARCH CHARSET UTF-8 ALL\r\n"[..],
            b"a SEARCH CHARSET \"UTF-8\" ALL\r\n",
            b"a SEARCH CHARSET \"x]y\" ALL\r\n",
            b"a SORT (DATE) US-ASCII ALL\r\n",
            b"a SORT (DATE) \"UTF-8\" ALL\r\n",
            b"a THREAD REFERENCES UTF-8 ALL\r\n",
        ] {
            let c = command(wire, &o).unwrap_or_else(|e| panic!("{wire:?}: {e:?}"));
            assert_eq!(&c.encode(&o).unwrap().bytes[..], wire);
        }
        let search = |charset: Str| Command {
            tag: Tag::new("a").unwrap(),
            body: CommandBody::Search {
                uid: false,
                returns: None,
                charset: Some(charset),
                criteria: vec![SearchKey::All],
            },
        };
        // No literal, whatever the form asks: quoted where a quoted string
        // holds it, refused where none does.
        let c = search(Str::from("UTF-8").with_form(StrForm::Literal {
            mode: imap_proto::LiteralMode::Sync,
            binary: false,
        }));
        assert_eq!(
            &c.encode(&o).unwrap().bytes[..],
            b"a SEARCH CHARSET \"UTF-8\" ALL\r\n"
        );
        let long = "x ".repeat(600);
        for bad in ["a\u{e4}", long.as_str()] {
            if bad.len() < 1024 && o.utf8() {
                continue;
            }
            assert!(search(Str::from(bad)).encode(&o).is_err(), "{bad}");
        }
    }
}
