//! Replays every stored fuzz input (fuzz/corpus/mime_* and
//! testdata/fuzz-regressions/mime_*) through the same checks the fuzz targets run,
//! on stable Rust.

use mime::fuzzing;
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
fn replay_push_parser() {
    assert!(replay("mime_push", fuzzing::push_split) > 0, "no stored inputs");
}

#[test]
fn replay_header_parsers() {
    assert!(replay("mime_headers", fuzzing::headers) > 0, "no stored inputs");
}

#[test]
fn replay_build_roundtrip() {
    assert!(
        replay("mime_build", fuzzing::build_roundtrip) > 0,
        "no stored inputs"
    );
}
