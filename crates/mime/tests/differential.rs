//! Differential test against Python's `email` package (policy=default): content
//! types, charsets, filenames, decoded subject and decoded-body digests of every
//! corpus message, in `walk()` order. The Python side is testdata/mime/pydiff.py.
//! Skips with a notice when python3 is not installed.

mod common;

use common::{corpus, corpus_dir, summary};
use mime::Message;
use std::collections::BTreeMap;

/// Files where the two parsers are known to disagree, and why. Every other file must
/// match line for line; a listed file must really differ (so the list stays honest).
const EXPECTED_DIFFERENCES: &[(&str, &str)] = &[
    (
        "07-missing-close.eml",
        "the last part runs to the end of input without a close delimiter: Python drops \
         the final line break of that body; we keep it, because no delimiter claims it \
         (RFC 2046 5.1.1 gives the CRLF to the delimiter that follows, and none does)",
    ),
    (
        "08-no-start-boundary.eml",
        "multipart without any delimiter: Python turns the part into a leaf and digests \
         the whole body; we keep it a multipart with zero children (the text is its \
         preamble, defect StartBoundaryNotFound), so our line has no digest",
    ),
    (
        "21-encoded-rfc822.eml",
        "message/rfc822 with Content-Transfer-Encoding: base64 (forbidden by RFC 2046 \
         5.2.1): Python parses the still-encoded text as a nested message; we keep the \
         part a leaf (defect InvalidEncodingForCompositeType) so its decoded body is the \
         inner message",
    ),
    (
        "23-empty-parts.eml",
        "two delimiter lines in a row: we report an empty body part between them (no \
         headers, no body), as IMAP servers number it; Python skips it, so the walks \
         differ by that one part",
    ),
    (
        "26-binary-and-other-cte.eml",
        "Content-Transfer-Encoding x-uuencode: Python's email package decodes uuencode \
         (here to nothing, the data is truncated); uuencode is not a MIME encoding and we \
         return the body as is with defect UnknownTransferEncoding",
    ),
];

fn python_lines(paths: &[std::path::PathBuf]) -> Option<String> {
    let script = corpus_dir().join("pydiff.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(paths)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "pydiff.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8 output"))
}

fn by_file(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cur = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("F\t") {
            cur = name.to_owned();
        }
        map.entry(cur.clone()).or_default().push(line.to_owned());
    }
    map
}

#[test]
fn corpus_agrees_with_python_email() {
    let files = corpus();
    let paths: Vec<_> = files.iter().map(|(n, _)| corpus_dir().join(n)).collect();
    let Some(py) = python_lines(&paths) else {
        println!("NOTICE: python3 not found; differential test against Python's email package skipped");
        return;
    };
    let py = by_file(&py);
    let mut differing = Vec::new();
    for (name, data) in &files {
        let m = Message::parse(data);
        let ours = summary(name, &m);
        let theirs = py.get(name).cloned().unwrap_or_default();
        if ours != theirs {
            println!("== {name} differs");
            let n = ours.len().max(theirs.len());
            for i in 0..n {
                let (a, b) = (ours.get(i), theirs.get(i));
                if a != b {
                    println!("  ours:   {}", a.map_or("(none)", String::as_str));
                    println!("  python: {}", b.map_or("(none)", String::as_str));
                }
            }
            differing.push(name.clone());
        }
    }
    let expected: Vec<String> = EXPECTED_DIFFERENCES
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    for (n, why) in EXPECTED_DIFFERENCES {
        println!("expected difference {n}: {why}");
    }
    println!(
        "{} files compared, {} differ (all explained above)",
        files.len(),
        differing.len()
    );
    assert_eq!(
        differing, expected,
        "unexplained differences with Python's email package"
    );
}
