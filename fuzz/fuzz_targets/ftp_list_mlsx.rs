//! Fuzz target: see `ftp_proto::fuzzing::list_mlsx` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ftp_proto::fuzzing::list_mlsx(data));
