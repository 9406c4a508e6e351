#!/usr/bin/env python3
"""Differential oracle: prints what Python's `email` package sees in each message.

Used by crates/mime/tests/differential.rs, which prints the same lines from the
`mime` crate and compares. Output, per file:

    F <file name>
    S <decoded Subject or ->
    P <content type> <charset or -> <filename or -> <sha256 of decoded body or ->

one P line per part in `Message.walk()` order (a message/rfc822 part is followed by
its nested message). Fields are tab-separated; backslash, tab, CR and LF inside a
field are escaped as \\\\, \\t, \\r, \\n. Bodies of multiparts and message/rfc822
parts have no digest (-). Quoted-printable bodies are digested with CRLF turned
into LF, because Python's quopri decoder rewrites line breaks as LF.
"""
import email
import email.policy
import hashlib
import sys


def esc(s):
    if s is None:
        return "-"
    return (str(s).replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\r", "\\r").replace("\n", "\\n"))


def main(paths):
    for path in paths:
        with open(path, "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
        print("F\t" + path.rsplit("/", 1)[-1])
        subject = msg["subject"]
        print("S\t" + esc(None if subject is None else str(subject)))
        for part in msg.walk():
            digest = None
            if not part.is_multipart():
                body = part.get_payload(decode=True) or b""
                cte = str(part.get("content-transfer-encoding", "")).strip().lower()
                if cte == "quoted-printable":
                    body = body.replace(b"\r\n", b"\n")
                digest = hashlib.sha256(body).hexdigest()
            try:
                filename = part.get_filename()
            except Exception as e:  # noqa: BLE001 - report, do not crash the oracle
                filename = "!" + type(e).__name__
            print("P\t" + "\t".join([
                esc(part.get_content_type()),
                esc(part.get_content_charset()),
                esc(filename),
                esc(digest),
            ]))


if __name__ == "__main__":
    main(sys.argv[1:])
