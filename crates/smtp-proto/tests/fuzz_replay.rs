//! Replays every stored fuzz input (fuzz/corpus/smtp_* and
//! testdata/fuzz-regressions/smtp_*) through the checks the fuzz targets run.

use proto_core::transcript::replay_fuzz_inputs;
use smtp_proto::checks;
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    replay_fuzz_inputs(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        target,
        check,
    )
}

#[test]
fn replay_smtp_command() {
    assert!(
        replay("smtp_command", checks::command_parser) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_smtp_reply() {
    assert!(replay("smtp_reply", checks::reply_parser) > 0, "no stored inputs");
}

#[test]
fn replay_smtp_server() {
    assert!(
        replay("smtp_server", checks::server_session) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_smtp_client() {
    assert!(
        replay("smtp_client", checks::client_session) > 0,
        "no stored inputs"
    );
}
