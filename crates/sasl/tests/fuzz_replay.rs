//! Replays every stored fuzz input (fuzz/corpus/sasl_* and
//! testdata/fuzz-regressions/sasl_*) through the checks the fuzz targets run,
//! on stable Rust.
//!
//! `cargo test -p sasl --test fuzz_replay -- --ignored` rewrites the seed files.

use proto_core::transcript::{fuzz_inputs, replay_fuzz_inputs};
use sasl::Mechanism;
use sasl::fuzzing::{self, client_flags, encode_input};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn replay(target: &str, check: fn(&[u8])) -> usize {
    replay_fuzz_inputs(&root(), target, check)
}

#[test]
fn replay_sasl_server() {
    assert!(
        replay("sasl_server", |d| {
            let _ = fuzzing::server_check(d);
        }) > 0,
        "no stored inputs"
    );
}

#[test]
fn replay_sasl_client() {
    assert!(
        replay("sasl_client", fuzzing::client_check) > 0,
        "no stored inputs"
    );
}

/// The stored server seeds still authenticate (the corpus tracks the code).
#[test]
fn server_corpus_holds_successful_exchanges() {
    let inputs = fuzz_inputs(&root(), "sasl_server");
    let ok = inputs.iter().filter(|(_, d)| fuzzing::server_check(d)).count();
    assert!(ok >= 2 * Mechanism::ALL.len(), "only {ok} seeds authenticate");
}

fn client_seeds() -> Vec<Vec<u8>> {
    use client_flags::{FINISH, INITIAL_RESPONSE as IR};
    let sha1_first: &[u8] = b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    let sha1_final: &[u8] = b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
    vec![
        encode_input(Mechanism::Plain, IR | FINISH, &[b""]),
        encode_input(Mechanism::Plain, 0, &[b""]),
        encode_input(Mechanism::Login, FINISH, &[b"Username:", b"Password:", b""]),
        encode_input(
            Mechanism::CramMd5,
            FINISH,
            &[fuzzing::CRAM_CHALLENGE.as_bytes(), b""],
        ),
        encode_input(Mechanism::ScramSha1, IR, &[sha1_first, sha1_final]),
        encode_input(Mechanism::ScramSha1, IR | FINISH, &[sha1_first, sha1_final]),
        encode_input(
            Mechanism::ScramSha256,
            IR,
            &[b"r=fyko+d2lbbFgONRv9qkxdawLX,s=QSXCR+Q6sek8bf92,i=16", b"v=AAAA"],
        ),
        encode_input(
            Mechanism::XOAuth2,
            IR,
            &[br#"{"status":"401","schemes":"bearer"}"#],
        ),
        encode_input(
            Mechanism::OAuthBearer,
            IR | client_flags::AUTHZID,
            &[br#"{"status":"invalid_token"}"#],
        ),
        encode_input(Mechanism::External, IR | FINISH, &[b""]),
        encode_input(Mechanism::Anonymous, 0, &[b""]),
    ]
}

#[test]
fn client_seeds_pass() {
    for seed in client_seeds() {
        fuzzing::client_check(&seed);
    }
}

#[test]
#[ignore = "rewrites fuzz/corpus/sasl_*; run by hand after changing the input layout"]
fn write_seeds() {
    for (target, seeds) in [
        ("sasl_server", fuzzing::server_seeds()),
        ("sasl_client", client_seeds()),
    ] {
        let dir = root().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), seed).unwrap();
        }
    }
}
