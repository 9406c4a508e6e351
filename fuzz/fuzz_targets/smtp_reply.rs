//! Fuzz target: see `smtp_proto::checks::reply_parser` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| smtp_proto::checks::reply_parser(data));
