//! Transcript files: the `C:`/`S:` notation of the RFCs, for tests.
//!
//! Every protocol crate keeps its transcript tests under
//! `testdata/transcripts/<proto>/*.txt` in this format:
//!
//! ```text
//! # a comment; blank lines are ignored
//! S: 220 mail.example.test ESMTP
//! C: EHLO client.example.test
//! C- DATA\x0d\x0a          (C- / S- : no CRLF is appended)
//! ```
//!
//! `C: text` is the client sending `text` CRLF, `S: text` the server. The
//! only escape is `\xHH` (a byte in hex), so IMAP flags such as `\Seen` need
//! no quoting; write `\x5c` for a backslash followed by `x`.

use std::fmt;

/// Who sends a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client (`C:`).
    Client,
    /// The server (`S:`).
    Server,
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Who sends it.
    pub side: Side,
    /// The bytes on the wire, CRLF included unless the line used `C-`/`S-`.
    pub bytes: Vec<u8>,
    /// 1-based line number in the file, for messages.
    pub line: usize,
}

/// A parsed transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// The steps in order.
    pub steps: Vec<Step>,
}

/// A malformed transcript line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TranscriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transcript line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TranscriptError {}

impl Transcript {
    /// Parses transcript text.
    ///
    /// # Errors
    ///
    /// A line that is not a comment, blank, or a `C:`/`S:`/`C-`/`S-` step, or
    /// a bad `\x` escape.
    ///
    /// ```
    /// use proto_core::transcript::{Side, Transcript};
    /// let t = Transcript::parse("S: +OK ready\nC: USER \\x41\n").unwrap();
    /// assert_eq!(t.steps[1].side, Side::Client);
    /// assert_eq!(t.steps[1].bytes, b"USER A\r\n");
    /// assert_eq!(t.side_bytes(Side::Server), b"+OK ready\r\n");
    /// ```
    pub fn parse(text: &str) -> Result<Transcript, TranscriptError> {
        let mut steps = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim_end_matches('\r');
            if trimmed.trim().is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let err = |message: &str| TranscriptError {
                line,
                message: message.to_owned(),
            };
            let (side, crlf) = match trimmed.get(..2) {
                Some("C:") => (Side::Client, true),
                Some("S:") => (Side::Server, true),
                Some("C-") => (Side::Client, false),
                Some("S-") => (Side::Server, false),
                _ => return Err(err("expected C:, S:, C- or S-")),
            };
            let rest = &trimmed[2..];
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            let mut bytes = unescape(rest).map_err(err)?;
            if crlf {
                bytes.extend_from_slice(b"\r\n");
            }
            steps.push(Step { side, bytes, line });
        }
        Ok(Transcript { steps })
    }

    /// Everything one side sends, concatenated.
    #[must_use]
    pub fn side_bytes(&self, side: Side) -> Vec<u8> {
        self.steps
            .iter()
            .filter(|s| s.side == side)
            .flat_map(|s| s.bytes.iter().copied())
            .collect()
    }

    /// Consecutive steps of the same side merged into turns.
    #[must_use]
    pub fn turns(&self) -> Vec<(Side, Vec<u8>)> {
        let mut out: Vec<(Side, Vec<u8>)> = Vec::new();
        for s in &self.steps {
            match out.last_mut() {
                Some((side, bytes)) if *side == s.side => bytes.extend_from_slice(&s.bytes),
                _ => out.push((s.side, s.bytes.clone())),
            }
        }
        out
    }
}

fn unescape(s: &str) -> Result<Vec<u8>, &'static str> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            let hex = b.get(i + 2..i + 4).ok_or("truncated \\x escape")?;
            // Two hex digits exactly: `from_str_radix` alone would also take "+1".
            let digit = |c: u8| char::from(c).to_digit(16).ok_or("bad \\x escape");
            out.push(u8::try_from(digit(hex[0])? << 4 | digit(hex[1])?).map_err(|_| "bad \\x escape")?);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Every stored fuzz input for `target`: the files in `fuzz/corpus/<target>/`
/// and `testdata/fuzz-regressions/<target>/` under `workspace_root`, sorted by
/// path. Missing directories count as empty. Used by each crate's replay test,
/// which runs the same check as the fuzz target on stable Rust.
#[must_use]
pub fn fuzz_inputs(workspace_root: &std::path::Path, target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in [
        workspace_root.join("fuzz/corpus").join(target),
        workspace_root.join("testdata/fuzz-regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            if let Ok(data) = std::fs::read(&path) {
                out.push((path, data));
            }
        }
    }
    out.sort();
    out
}

/// Runs `check` on every stored fuzz input for `target` (see [`fuzz_inputs`])
/// and returns how many there were. A check that panics fails the calling test
/// with the path of the input, so a crash found by a fuzzer stays a regression
/// test on stable Rust.
///
/// # Panics
///
/// When `check` panics on an input.
pub fn replay_fuzz_inputs(workspace_root: &std::path::Path, target: &str, check: impl Fn(&[u8])) -> usize {
    let inputs = fuzz_inputs(workspace_root, target);
    for (path, data) in &inputs {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(data)));
        assert!(result.is_ok(), "fuzz input {} fails its check", path.display());
    }
    inputs.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_and_escapes() {
        let t = Transcript::parse("# c\n\nS: 220 hi\nC- .\\x0d\\x0a\nC: a \\Seen\n").unwrap();
        assert_eq!(t.steps.len(), 3);
        assert_eq!(t.steps[1].bytes, b".\r\n");
        assert_eq!(t.steps[2].bytes, b"a \\Seen\r\n");
        assert_eq!(t.turns().len(), 2);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(Transcript::parse("X: hi").unwrap_err().line, 1);
        assert!(Transcript::parse("C: \\xZZ").is_err());
        assert!(Transcript::parse("C: \\x4").is_err());
    }
}
