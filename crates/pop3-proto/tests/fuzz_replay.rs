//! Replays every stored fuzz input (fuzz/corpus/pop3_* and
//! testdata/fuzz-regressions/pop3_*) through the same checks the fuzz
//! targets run, on stable Rust.

use pop3_proto::fuzzing;
use proto_core::transcript::replay_fuzz_inputs;
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    replay_fuzz_inputs(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        target,
        check,
    )
}

#[test]
fn replay_command_parser() {
    assert!(
        replay("pop3_command", fuzzing::command_parser) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_response_parser() {
    assert!(
        replay("pop3_response", fuzzing::response_parser) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_server_session() {
    assert!(
        replay("pop3_server", fuzzing::server_session) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_client_session() {
    assert!(
        replay("pop3_client", fuzzing::client_session) > 0,
        "no stored inputs"
    );
}
