//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use mime::{Mailbox, Message, PartKind, TransferEncoding};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/mime")
}

/// (file name, bytes) of every corpus message, sorted.
pub fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .expect("testdata/mime")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    v.sort();
    assert!(v.len() >= 20, "corpus missing");
    v
}

pub fn esc(s: Option<&str>) -> String {
    match s {
        None => "-".into(),
        Some(s) => s
            .replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\r', "\\r")
            .replace('\n', "\\n"),
    }
}

pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The same lines testdata/mime/pydiff.py prints for one message.
pub fn summary(name: &str, m: &Message<'_>) -> Vec<String> {
    let mut out = vec![
        format!("F\t{name}"),
        format!("S\t{}", esc(m.root().subject().as_deref())),
    ];
    for id in m.walk() {
        let p = &m.parts[id];
        let digest = match p.kind {
            PartKind::Leaf => {
                let (body, _) = m.decoded_body(id);
                let body = if p.encoding == TransferEncoding::QuotedPrintable {
                    let mut v = Vec::with_capacity(body.len());
                    let mut i = 0;
                    while i < body.len() {
                        if body[i] == b'\r' && body.get(i + 1) == Some(&b'\n') {
                            i += 1;
                            continue;
                        }
                        v.push(body[i]);
                        i += 1;
                    }
                    v
                } else {
                    body.into_owned()
                };
                Some(hex(&Sha256::digest(&body)))
            }
            _ => None,
        };
        out.push(format!(
            "P\t{}\t{}\t{}\t{}",
            esc(Some(&p.content_type.essence())),
            esc(p.charset().as_deref()),
            esc(p.filename().as_deref()),
            esc(digest.as_deref())
        ));
    }
    out
}

/// The From mailbox of test messages that have no author of their own (RFC 5322
/// section 3.6: the builder refuses a message without From).
pub fn author() -> Mailbox {
    mb("author")
}

/// The mailbox `local@example.test`, without a display name.
pub fn mb(local: &str) -> Mailbox {
    Mailbox {
        name: None,
        local: local.into(),
        domain: "example.test".into(),
    }
}
