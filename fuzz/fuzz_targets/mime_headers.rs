//! Fuzz target: see `mime::fuzzing::headers` for the invariants (address, date,
//! RFC 2047, RFC 2231 and message-id parsers, streaming body decoders).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mime::fuzzing::headers(data));
