//! Replays every stored fuzz input (fuzz/corpus/imap_* and
//! testdata/fuzz-regressions/imap_*) through the checks the fuzz targets
//! run, on stable Rust.

use imap_proto::checks;
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
fn replay_imap_command() {
    assert!(
        replay("imap_command", checks::command_parser) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_imap_response() {
    assert!(
        replay("imap_response", checks::response_parser) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_imap_framer() {
    assert!(replay("imap_framer", checks::framer) > 0, "no stored inputs");
}

#[test]
fn replay_imap_encode_oracle() {
    assert!(
        replay("imap_encode_oracle", checks::encode_oracle) > 0,
        "no stored inputs"
    );
}
