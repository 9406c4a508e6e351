//! Full parse with decoding: `mime::Message::parse` next to the `mail-parser` and
//! `mailparse` crates in the same run, on the testdata/mime corpus and on a
//! generated 10 MiB message with base64 attachments.
//!
//! "Full parse with decoding" means, for every crate: build the part tree, decode
//! the subject (RFC 2047), and for every leaf part remove the transfer encoding, and
//! turn text parts into UTF-8 in their charset. Each closure returns the total decoded
//! size so that the work cannot be skipped; the three totals are checked to be close
//! (the crates differ in small details such as the line break before a delimiter).
//!
//! Same work on both sides: mail-parser decodes every body while parsing (and parses
//! nested message/rfc822 parts recursively), so our closures ask for every leaf body
//! too, decoded and charset-converted; mailparse decodes on `get_body*`, which its
//! closure calls for every leaf. What differs: mail-parser also parses every header
//! field into a typed value (addresses, dates, ids) while parsing, which `mime` and
//! mailparse do only when asked. The `mime_corpus_typed` ratios therefore also ask
//! all three for the top-level From, To, Cc, Date and Message-ID (what the
//! `mime-tree` example prints): free for mail-parser, real work for the other two.

use benches::report_ratio;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mime::{Message, PartKind};
use std::fmt::Write as _;
use std::path::PathBuf;

fn corpus() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/mime");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("testdata/mime")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).expect("read")).collect()
}

/// A 10 MiB multipart/mixed message: a short text part, a quoted-printable HTML
/// part, and base64 attachments of pseudo-random binary data in 76-column lines.
fn big_message() -> Vec<u8> {
    use base64::Engine as _;
    let mut m = String::from(
        "From: Bench <bench@example.test>\r\nTo: you@example.test\r\n\
         Subject: =?UTF-8?Q?Gro=C3=9Fe_Anh=C3=A4nge?=\r\nDate: Sun, 1 Mar 2026 12:00:00 +0000\r\n\
         Message-ID: <big@example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"=_bench_boundary\"\r\n\r\n\
         --=_bench_boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attachments.\r\n",
    );
    m.push_str(
        "--=_bench_boundary\r\nContent-Type: text/html; charset=iso-8859-1\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n",
    );
    for i in 0..2000 {
        let _ = write!(
            m,
            "<p>Zeile {i}: Gr=FC=DFe aus K=F6ln, caf=E9 cr=E8me br=FBl=E9e =3D gut</p>=\r\n\r\n"
        );
    }
    let mut seed = 0x9e37_79b9_u32;
    let mut n = 0;
    while m.len() < 10 << 20 {
        n += 1;
        let data: Vec<u8> = (0..(2 << 20) / 4 * 3)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed.to_le_bytes()[0]
            })
            .collect();
        let _ = write!(
            m,
            "--=_bench_boundary\r\nContent-Type: application/octet-stream; name=\"a{n}.bin\"\r\n\
             Content-Disposition: attachment; filename=\"a{n}.bin\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n"
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
        for line in b64.as_bytes().chunks(76) {
            m.push_str(std::str::from_utf8(line).expect("ascii"));
            m.push_str("\r\n");
        }
    }
    m.push_str("--=_bench_boundary--\r\n");
    m.into_bytes()
}

fn ours(data: &[u8]) -> usize {
    leaves(&Message::parse(data))
}

/// Subject and every leaf body, decoded.
fn leaves(m: &Message<'_>) -> usize {
    let mut n = m.root().subject().map_or(0, |s| s.len());
    for id in m.walk() {
        let p = &m.parts[id];
        if !matches!(p.kind, PartKind::Leaf) {
            continue;
        }
        n += if p.content_type.media_type == "text" {
            m.text_cow(id).len()
        } else {
            m.decoded_body(id).0.len()
        };
    }
    n
}

fn mail_parser(data: &[u8]) -> usize {
    mail_parser::MessageParser::default()
        .parse(data)
        .map_or(0, |m| mail_parser_leaves(&m))
}

fn mail_parser_leaves(m: &mail_parser::Message<'_>) -> usize {
    let mut n = m.subject().map_or(0, str::len);
    for part in &m.parts {
        n += match &part.body {
            mail_parser::PartType::Text(t) | mail_parser::PartType::Html(t) => t.len(),
            mail_parser::PartType::Binary(b) | mail_parser::PartType::InlineBinary(b) => b.len(),
            _ => 0,
        };
    }
    n
}

fn mailparse(data: &[u8]) -> usize {
    mailparse::parse_mail(data).map_or(0, |m| mailparse_leaves(&m))
}

fn mailparse_leaves(m: &mailparse::ParsedMail<'_>) -> usize {
    let mut n = mailparse::MailHeaderMap::get_first_value(&m.headers[..], "Subject").map_or(0, |s| s.len());
    // walk the tree with an explicit stack
    let mut stack = vec![m];
    while let Some(p) = stack.pop() {
        if p.subparts.is_empty() {
            n += if p.ctype.mimetype.starts_with("text/") {
                p.get_body().map_or(0, |s| s.len())
            } else {
                p.get_body_raw().map_or(0, |b| b.len())
            };
        }
        stack.extend(p.subparts.iter().rev());
    }
    n
}

/// [`ours`] plus the typed top-level envelope fields.
fn ours_typed(data: &[u8]) -> usize {
    let m = Message::parse(data);
    let r = m.root();
    let mut n = r.from().len() + r.to().len() + r.cc().len();
    n += r.date().map_or(0, |d| usize::from(d.day)) + r.message_id().map_or(0, |s| s.len());
    n + leaves(&m)
}

/// [`mail_parser`] plus the typed top-level envelope fields (parsed already).
fn mail_parser_typed(data: &[u8]) -> usize {
    let Some(m) = mail_parser::MessageParser::default().parse(data) else {
        return 0;
    };
    let count = |a: Option<&mail_parser::Address<'_>>| a.and_then(|a| a.as_list()).map_or(0, <[_]>::len);
    let mut n = count(m.from()) + count(m.to()) + count(m.cc());
    n += m.date().map_or(0, |d| usize::from(d.day)) + m.message_id().map_or(0, str::len);
    n + mail_parser_leaves(&m)
}

/// [`mailparse`] plus the typed top-level envelope fields.
fn mailparse_typed(data: &[u8]) -> usize {
    use mailparse::MailHeaderMap as _;
    let Ok(m) = mailparse::parse_mail(data) else {
        return 0;
    };
    let mut n = 0;
    for name in ["From", "To", "Cc"] {
        if let Some(h) = m.headers.get_first_header(name) {
            n += mailparse::addrparse_header(h).map_or(0, |l| l.len());
        }
    }
    if let Some(d) = m.headers.get_first_value("Date") {
        n += mailparse::dateparse(&d).map_or(0, |t| usize::from(t > 0));
    }
    n += m.headers.get_first_value("Message-ID").map_or(0, |s| s.len());
    n + mailparse_leaves(&m)
}

fn all(files: &[Vec<u8>], f: fn(&[u8]) -> usize) -> usize {
    files.iter().map(|d| f(d)).sum()
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let total: usize = files.iter().map(Vec::len).sum();
    let big = big_message();
    let sizes = [
        all(&files, ours),
        all(&files, mail_parser),
        all(&files, mailparse),
    ];
    println!(
        "corpus: {} files, {total} bytes; decoded sizes ours/mail-parser/mailparse {sizes:?}",
        files.len()
    );
    let sizes = [ours(&big), mail_parser(&big), mailparse(&big)];
    println!("big message: {} bytes; decoded sizes {sizes:?}", big.len());
    assert!(
        sizes.iter().all(|&s| s.abs_diff(sizes[0]) < sizes[0] / 100),
        "crates decode different amounts"
    );

    let mut g = c.benchmark_group("mime_corpus");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("mime", |b| b.iter(|| all(&files, ours)));
    g.bench_function("mail-parser", |b| b.iter(|| all(&files, mail_parser)));
    g.bench_function("mailparse", |b| b.iter(|| all(&files, mailparse)));
    g.finish();

    let mut g = c.benchmark_group("mime_10MiB_base64");
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.sample_size(10);
    g.bench_function("mime", |b| b.iter(|| ours(&big)));
    g.bench_function("mail-parser", |b| b.iter(|| mail_parser(&big)));
    g.bench_function("mailparse", |b| b.iter(|| mailparse(&big)));
    g.finish();

    // corpus rounds repeat the whole corpus 50 times so each timing is well above
    // the clock resolution
    let files = &files;
    let rep = |f: fn(&[u8]) -> usize| move |(): ()| (0..50).map(|_| all(files, f)).sum::<usize>();
    report_ratio(
        "mime_corpus mime vs mail-parser",
        total * 50,
        31,
        || (),
        rep(ours),
        rep(mail_parser),
    );
    report_ratio(
        "mime_corpus mime vs mailparse",
        total * 50,
        31,
        || (),
        rep(ours),
        rep(mailparse),
    );
    report_ratio(
        "mime_corpus_typed mime vs mail-parser",
        total * 50,
        31,
        || (),
        rep(ours_typed),
        rep(mail_parser_typed),
    );
    report_ratio(
        "mime_corpus_typed mime vs mailparse",
        total * 50,
        31,
        || (),
        rep(ours_typed),
        rep(mailparse_typed),
    );
    report_ratio(
        "mime_10MiB_base64 mime vs mail-parser",
        big.len(),
        11,
        || (),
        |()| ours(&big),
        |()| mail_parser(&big),
    );
    report_ratio(
        "mime_10MiB_base64 mime vs mailparse",
        big.len(),
        11,
        || (),
        |()| ours(&big),
        |()| mailparse(&big),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
