//! Fuzz target: arbitrary client messages to the server side of every SASL
//! mechanism. See `sasl::fuzzing::server_check` for the input layout and invariants.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sasl::fuzzing::server_check(data);
});
