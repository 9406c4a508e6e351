//! Replays every stored fuzz input (fuzz/corpus and testdata/fuzz-regressions)
//! through the same checks the fuzz targets run, on stable Rust.

use proto_core::dot::checks;
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
