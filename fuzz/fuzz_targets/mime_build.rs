//! Fuzz target: see `mime::fuzzing::build_roundtrip` for the invariant (what the
//! builder writes parses back to the same subject, names, text and attachment).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mime::fuzzing::build_roundtrip(data));
