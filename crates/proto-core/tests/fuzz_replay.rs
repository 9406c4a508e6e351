//! Replays every stored fuzz input (fuzz/corpus and testdata/fuzz-regressions)
//! through the same checks the fuzz targets run, on stable Rust.

use proto_core::dot::checks;
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
fn replay_line_framer() {
    assert!(replay("line_framer", checks::line_framer) > 0, "no stored inputs");
}

#[test]
fn replay_dot_decoder() {
    assert!(replay("dot_decoder", checks::dot_decoder) > 0, "no stored inputs");
}

#[test]
fn replay_dot_roundtrip() {
    assert!(
        replay("dot_roundtrip", checks::dot_roundtrip) > 0,
        "no stored inputs"
    );
}
