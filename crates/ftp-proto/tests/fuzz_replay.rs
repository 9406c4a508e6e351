//! Replays every stored fuzz input (fuzz/corpus/ftp_* and
//! testdata/fuzz-regressions/ftp_*) through the same checks the fuzz targets
//! run, on stable Rust.

use ftp_proto::fuzzing;
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
fn replay_command() {
    assert!(replay("ftp_command", fuzzing::command) > 0, "no stored inputs");
}

#[test]
fn replay_reply() {
    assert!(replay("ftp_reply", fuzzing::reply) > 0, "no stored inputs");
}

#[test]
fn replay_list_mlsx() {
    assert!(
        replay("ftp_list_mlsx", fuzzing::list_mlsx) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_list_unix() {
    assert!(
        replay("ftp_list_unix", fuzzing::list_unix) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_list_dos() {
    assert!(replay("ftp_list_dos", fuzzing::list_dos) > 0, "no stored inputs");
}

#[test]
fn replay_ascii() {
    assert!(replay("ftp_ascii", fuzzing::ascii) > 0, "no stored inputs");
}

#[test]
fn replay_server() {
    assert!(
        replay("ftp_server", fuzzing::server_session) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_client() {
    assert!(
        replay("ftp_client", fuzzing::client_session) > 0,
        "no stored inputs"
    );
}
