//! `SmallBytes::new`, `SmallBytes::slice_of` and `SmallBytes::set_slice_of` agree with the
//! plain slice, for every range of short and long inputs (inline values, a
//! range within 38 bytes of the end, long values held as `Bytes`), and
//! `set_slice_of` overwrites whatever the value held before.

use bytes::Bytes;
use proptest::prelude::*;
use proto_core::SmallBytes;

proptest! {
    #[test]
    fn slices_agree(
        data in proptest::collection::vec(any::<u8>(), 0..120),
        a in 0usize..120,
        b in 0usize..120,
        before in proptest::collection::vec(any::<u8>(), 0..60),
    ) {
        let src = Bytes::from(data.clone());
        let (s, e) = (a.min(b).min(data.len()), a.max(b).min(data.len()));
        let want = &data[s..e];
        let v = SmallBytes::slice_of(&src, s..e);
        prop_assert_eq!(&v[..], want);
        prop_assert_eq!(&SmallBytes::new(want)[..], want);
        let mut w = SmallBytes::new(&before);
        w.set_slice_of(&src, s..e);
        prop_assert_eq!(&w[..], want);
        prop_assert_eq!(&w, &v);
    }
}
