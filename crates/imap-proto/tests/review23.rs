//! Review (session 23): each test failed on the code before its fix and
//! cites the rule it checks.

use bytes::Bytes;
use imap_proto::response::ListData;
use imap_proto::{Data, Flag, Mailbox, Options, Response, SmallBytes};

fn parse(wire: &[u8], o: &Options) -> Result<Response, imap_proto::ParseError> {
    Response::parse(&Bytes::copy_from_slice(wire), o)
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
