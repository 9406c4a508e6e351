//! Fuzz target: see `mime::fuzzing::delivery_status` for the invariants
//! (message/delivery-status bodies, RFC 3464).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mime::fuzzing::delivery_status(data));
