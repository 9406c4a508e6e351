//! The `mime-tree` binary on corpus messages: part paths, digests, header fields,
//! defects, standard input, and (when python3 is present) that the output is JSON.

use sha2::{Digest, Sha256};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/mime")
        .join(name)
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mime-tree"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn mime-tree");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(data) = stdin {
        input.write_all(data).expect("write stdin");
    }
    drop(input);
    let out = child.wait_with_output().expect("mime-tree output");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

fn paths(json: &str) -> Vec<&str> {
    json.lines()
        .filter_map(|l| l.trim_start().strip_prefix("{\"path\": \""))
        .map(|l| &l[..l.find('"').expect("closing quote")])
        .collect()
}

fn sha(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn nested_message_tree() {
    let file = corpus("04-nested.eml");
    let json = run(&[file.to_str().expect("path")], None);
    assert_eq!(
        paths(&json),
        [
            "", "1", "1.1", "1.2", "1.2.1", "1.2.2", "2", "2.TEXT", "2.1", "2.2", "3"
        ]
    );
    let line = json
        .lines()
        .find(|l| l.contains("\"path\": \"2.1\""))
        .expect("part 2.1");
    assert!(line.contains("\"content_type\": \"text/plain\""), "{line}");
    assert!(
        line.contains(&format!(
            "\"decoded_size\": 11, \"sha256\": \"{}\"",
            sha(b"Inner text.")
        )),
        "{line}"
    );
    let line = json
        .lines()
        .find(|l| l.contains("\"path\": \"2\""))
        .expect("part 2");
    assert!(
        line.contains("\"content_type\": \"message/rfc822\"") && line.contains("\"sha256\": null"),
        "{line}"
    );
    assert!(json.contains("\"defects\": []"));
    // standard input gives the same document
    let data = std::fs::read(&file).expect("read");
    assert_eq!(run(&[], Some(&data)), json);
    assert_eq!(run(&["-"], Some(&data)), json);
}

#[test]
fn headers_defects_and_escaping() {
    let json = run(&[corpus("01-simple.eml").to_str().expect("path")], None);
    assert!(
        json.contains("\"subject\": \"Café meeting at midi à noon\""),
        "{json}"
    );
    assert!(
        json.contains("{\"name\": \"Alice A. Example\", \"address\": \"alice@example.test\"}"),
        "{json}"
    );
    assert!(
        json.contains("\"date\": \"Tue, 3 Mar 2026 10:00:00 +0100\""),
        "{json}"
    );
    assert!(
        json.contains("\"message_id\": \"20260303100000.4711@example.test\""),
        "{json}"
    );
    let json = run(&[corpus("10-bad-base64.eml").to_str().expect("path")], None);
    assert!(json.contains("{\"kind\": \"InvalidBase64Characters\""), "{json}");
    let json = run(&[corpus("06-rfc2231.eml").to_str().expect("path")], None);
    assert!(
        json.contains("\"filename\": \"Résumé de l'année 2025.pdf\""),
        "{json}"
    );
    assert!(json.contains("\"disposition\": \"attachment\""), "{json}");
    let msg = b"Subject: a \"quoted\" back\\slash\x01\r\nTo: undisclosed-recipients:;\r\n\r\nx";
    let json = run(&[], Some(msg));
    assert!(
        json.contains(r#""subject": "a \"quoted\" back\\slash\u0001""#),
        "{json}"
    );
    assert!(
        json.contains("\"to\": [{\"group\": \"undisclosed-recipients\", \"members\": []}]"),
        "{json}"
    );
    assert!(
        json.contains("\"from\": []") && json.contains("\"date\": null"),
        "{json}"
    );
}

#[test]
fn output_is_valid_json() {
    let Ok(status) = Command::new("python3").arg("-c").arg("pass").status() else {
        println!("NOTICE: python3 not found; JSON validity check skipped");
        return;
    };
    assert!(status.success());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/mime");
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(dir).expect("corpus").flatten() {
        if entry.path().extension().is_some_and(|e| e == "eml") {
            docs.push(run(&[entry.path().to_str().expect("path")], None));
        }
    }
    let n = docs.len();
    // one python3 process checks every document (NUL-separated)
    let mut py = Command::new("python3")
        .args([
            "-c",
            "import json,sys\nfor d in sys.stdin.read().split('\\0'): json.loads(d)",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python3");
    py.stdin
        .take()
        .expect("stdin")
        .write_all(docs.join("\0").as_bytes())
        .expect("write");
    assert!(
        py.wait().expect("python3").success(),
        "invalid JSON among: {docs:?}"
    );
    assert!(n >= 20);
}
