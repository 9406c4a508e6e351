//! `mime-tree [FILE]`: parses an Internet message (a file, or standard input when no
//! file or `-` is given) with the `mime` crate and prints its structure as JSON:
//!
//! ```text
//! {
//!   "subject": "...", "from": [...], "to": [...], "date": "...", "message_id": "...",
//!   "parts": [
//!     {"path": "1.2", "content_type": "text/plain", "charset": "utf-8",
//!      "disposition": "attachment", "filename": "a.txt", "transfer_encoding": "base64",
//!      "decoded_size": 12, "sha256": "..."},
//!     ...
//!   ],
//!   "defects": [{"kind": "BareLineFeed", "offset": 17}, ...]
//! }
//! ```
//!
//! `path` is the IMAP part number (RFC 3501 section 6.4.5): `""` is the message
//! itself, `"2.1"` the first part of part 2. The message inside a message/rfc822
//! part `N` is `"N.TEXT"` when it is a multipart (its parts are `N.1`, `N.2`, ...) and
//! `"N.1"` when it is a single part. Header values are decoded (RFC 2047), the date is
//! normalised to RFC 5322 form, absent values are `null`. Multiparts and
//! message/rfc822 parts have `decoded_size` and `sha256` of `null`; a leaf's are
//! those of its body with the transfer encoding removed (not charset-converted).
//! Parts come in document order, and so do defects (body decoding defects are listed
//! at the offset of the part's body). The JSON is written by hand (no serde).

use mime::{Address, Message, PartId, PartKind};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Read as _;

/// Appends `s` as a JSON string literal (RFC 8259 section 7).
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_opt(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.push_str("null"),
    }
}

fn json_mailbox(out: &mut String, m: &mime::Mailbox) {
    out.push_str("{\"name\": ");
    json_opt(out, m.name.as_deref());
    out.push_str(", \"address\": ");
    json_str(out, &m.address());
    out.push('}');
}

fn json_addresses(out: &mut String, list: &[Address]) {
    out.push('[');
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match a {
            Address::Mailbox(m) => json_mailbox(out, m),
            Address::Group { name, members } => {
                out.push_str("{\"group\": ");
                json_str(out, name);
                out.push_str(", \"members\": [");
                for (j, m) in members.iter().enumerate() {
                    if j > 0 {
                        out.push_str(", ");
                    }
                    json_mailbox(out, m);
                }
                out.push_str("]}");
            }
        }
    }
    out.push(']');
}

/// The IMAP-style path of every part (see the module docs), by part id.
fn paths(m: &Message<'_>) -> Vec<String> {
    let mut out = vec![String::new(); m.parts.len()];
    // parts are in document order, so a parent's path is known before its children
    for id in m.walk() {
        let PartKind::Multipart { children, .. } = &m.parts[id].kind else {
            if let PartKind::Message { child: Some(c) } = m.parts[id].kind {
                let suffix = if matches!(m.parts[c].kind, PartKind::Multipart { .. }) {
                    "TEXT"
                } else {
                    "1"
                };
                out[c] = join(&out[id], suffix);
            }
            continue;
        };
        // the parts of a nested message's multipart are numbered as the message part's
        let base = match m.parts[id].parent {
            Some(p) if matches!(m.parts[p].kind, PartKind::Message { .. }) => out[p].clone(),
            _ => out[id].clone(),
        };
        for (i, &c) in children.iter().enumerate() {
            out[c] = join(&base, &(i + 1).to_string());
        }
    }
    out
}

fn join(base: &str, n: &str) -> String {
    if base.is_empty() {
        n.to_owned()
    } else {
        format!("{base}.{n}")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn json_part(out: &mut String, m: &Message<'_>, id: PartId, path: &str) {
    let p = &m.parts[id];
    out.push_str("    {\"path\": ");
    json_str(out, path);
    out.push_str(", \"content_type\": ");
    json_str(out, &p.content_type.essence());
    out.push_str(", \"charset\": ");
    json_opt(out, p.charset().as_deref());
    out.push_str(", \"disposition\": ");
    json_opt(
        out,
        p.disposition().map(|d| d.kind.to_ascii_lowercase()).as_deref(),
    );
    out.push_str(", \"filename\": ");
    json_opt(out, p.filename().as_deref());
    out.push_str(", \"transfer_encoding\": ");
    let cte = p
        .header("content-transfer-encoding")
        .map(|h| String::from_utf8_lossy(&h.unfolded()).trim().to_ascii_lowercase());
    json_str(out, cte.as_deref().unwrap_or(p.encoding.as_str()));
    if matches!(p.kind, PartKind::Leaf) {
        let (body, _) = m.decoded_body(id);
        let _ = write!(
            out,
            ", \"decoded_size\": {}, \"sha256\": \"{}\"}}",
            body.len(),
            hex(&Sha256::digest(&body))
        );
    } else {
        out.push_str(", \"decoded_size\": null, \"sha256\": null}");
    }
}

/// The whole JSON document for `input`.
fn tree_json(input: &[u8]) -> String {
    let m = Message::parse(input);
    let root = m.root();
    let mut out = String::from("{\n  \"subject\": ");
    json_opt(&mut out, root.subject().as_deref());
    out.push_str(",\n  \"from\": ");
    json_addresses(&mut out, &root.from());
    out.push_str(",\n  \"to\": ");
    json_addresses(&mut out, &root.to());
    out.push_str(",\n  \"date\": ");
    json_opt(&mut out, root.date().map(|d| d.to_rfc5322()).as_deref());
    out.push_str(",\n  \"message_id\": ");
    json_opt(&mut out, root.message_id().as_deref());
    out.push_str(",\n  \"parts\": [\n");
    let paths = paths(&m);
    let mut defects: Vec<(usize, String)> = m
        .defects
        .iter()
        .map(|d| (d.offset, format!("{:?}", d.kind)))
        .collect();
    for id in m.walk() {
        if id > 0 {
            out.push_str(",\n");
        }
        json_part(&mut out, &m, id, &paths[id]);
        if matches!(m.parts[id].kind, PartKind::Leaf) {
            let start = m.parts[id].body_range.start;
            defects.extend(m.decoded_body(id).1.iter().map(|k| (start, format!("{k:?}"))));
        }
    }
    defects.sort_by_key(|d| d.0);
    out.push_str("\n  ],\n  \"defects\": [");
    for (i, (offset, kind)) in defects.iter().enumerate() {
        out.push_str(if i > 0 { ",\n    " } else { "\n    " });
        out.push_str("{\"kind\": ");
        json_str(&mut out, kind);
        let _ = write!(out, ", \"offset\": {offset}}}");
    }
    out.push_str(if defects.is_empty() {
        "]\n}\n"
    } else {
        "\n  ]\n}\n"
    });
    out
}

fn main() {
    let arg = std::env::args().nth(1);
    if matches!(arg.as_deref(), Some("-h" | "--help")) {
        println!("usage: mime-tree [FILE]   (reads standard input without FILE or with -)");
        return;
    }
    let input = match arg.as_deref() {
        None | Some("-") => {
            let mut v = Vec::new();
            std::io::stdin().read_to_end(&mut v).map(|_| v)
        }
        Some(path) => std::fs::read(path),
    };
    match input {
        Ok(data) => print!("{}", tree_json(&data)),
        Err(e) => {
            eprintln!("mime-tree: {}: {e}", arg.as_deref().unwrap_or("stdin"));
            std::process::exit(1);
        }
    }
}
