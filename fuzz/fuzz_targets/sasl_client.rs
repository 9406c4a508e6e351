//! Fuzz target: arbitrary server challenges to the client side of every SASL
//! mechanism. See `sasl::fuzzing::client_check` for the input layout and invariants.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sasl::fuzzing::client_check(data));
