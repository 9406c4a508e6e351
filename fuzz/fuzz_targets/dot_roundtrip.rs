//! Fuzz target: see `proto_core::dot::checks::dot_roundtrip` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| proto_core::dot::checks::dot_roundtrip(data));
