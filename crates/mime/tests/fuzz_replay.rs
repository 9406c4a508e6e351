//! Replays every stored fuzz input (fuzz/corpus/mime_* and
//! testdata/fuzz-regressions/mime_*) through the same checks the fuzz targets run,
//! on stable Rust.

use mime::fuzzing;
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

#[test]
fn replay_delivery_status() {
    assert!(
        replay("mime_dsn", fuzzing::delivery_status) > 0,
        "no stored inputs"
    );
}
