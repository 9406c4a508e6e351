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
        attrs: vec![attr(b"Noselect"), attr(b"HasChildren"), attr(b"Unmarked")],
        delimiter: Some(b'/'),
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
