//! Review (session 26, helper H2): adversarial inputs against the public
//! API. Each test failed on the code before its fix.

use bytes::Bytes;
use imap_proto::response::ESearchItem;
use imap_proto::{Data, Options, Response};

fn parse(wire: &[u8], o: &Options) -> Result<Response, imap_proto::ParseError> {
    Response::parse(&Bytes::copy_from_slice(wire), o)
}

// RFC 4731 section 3.2 (with RFC 7162 section 3.1.10): `search-return-data
// =/ "MODSEQ" SP mod-sequence-value`, and RFC 7162 section 7 has
// `mod-sequence-value = 1*DIGIT ;; (1 <= n <= 9,223,372,036,854,775,807)`:
// the highest mod-sequence of a non-empty result is never 0 (the SEARCH
// form, `search-sort-mod-seq`, was already read so). `* ESEARCH MODSEQ 0`
// parsed, and `ESearchItem::ModSeq(0)` was written.
#[test]
fn esearch_modseq_is_not_zero() {
    for o in [Options::default(), Options::rev2()] {
        assert!(parse(b"* ESEARCH ALL 1:3 MODSEQ 0\r\n", &o).is_err());
        let r = parse(b"* ESEARCH ALL 1:3 MODSEQ 1236\r\n", &o).unwrap();
        let Response::Data(Data::ESearch { items, .. }) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(items[1], ESearchItem::ModSeq(1236));
        assert_eq!(
            &r.encode(&o).unwrap().bytes[..],
            b"* ESEARCH ALL 1:3 MODSEQ 1236\r\n"
        );
        let zero = Response::Data(Data::ESearch {
            tag: None,
            mailbox: None,
            uid: false,
            items: vec![ESearchItem::ModSeq(0)],
        });
        assert!(zero.encode(&o).is_err());
    }
}
