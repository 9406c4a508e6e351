//! Fuzz target: see `ftp_proto::fuzzing::command` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ftp_proto::fuzzing::command(data));
