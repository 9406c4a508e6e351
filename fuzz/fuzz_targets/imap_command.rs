//! Fuzz target: see `imap_proto::checks` for the invariant.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| imap_proto::checks::command_parser(data));
