//! Fuzz target: see `pop3_proto::fuzzing::command_parser` for the invariant.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pop3_proto::fuzzing::command_parser(data));
