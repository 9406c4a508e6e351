//! Replays every stored fuzz input (fuzz/corpus/pop3_* and
//! testdata/fuzz-regressions/pop3_*) through the same checks the fuzz
//! targets run, on stable Rust.

use pop3_proto::fuzzing;
use proto_core::transcript::fuzz_inputs;
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let inputs = fuzz_inputs(&root, target);
    for (path, data) in &inputs {
        let result = std::panic::catch_unwind(|| check(data));
        assert!(result.is_ok(), "fuzz input {} fails its check", path.display());
    }
    inputs.len()
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
