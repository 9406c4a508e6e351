//! Fuzz target: see `mime::fuzzing::push_split` for the invariant (push parser events
//! independent of chunking, bounded buffering, a consistent tree).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mime::fuzzing::push_split(data));
