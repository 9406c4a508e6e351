//! Fuzz target: see `smtp_proto::checks::server_session` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| smtp_proto::checks::server_session(data));
