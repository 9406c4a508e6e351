//! Fuzz target: see `proto_core::dot::checks::dot_decoder` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| proto_core::dot::checks::dot_decoder(data));
