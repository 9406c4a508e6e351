//! smtp-send: builds a message with mime's `MessageBuilder` and submits it
//! with smtp-proto's sans-IO `ClientSession` over tokio.
//!
//! ```text
//! smtp-send --server 127.0.0.1 --port 2587 --user alice@example.test --password secret \
//!     --from alice@example.test --to bob@example.test --cc carol@example.test \
//!     --subject "Hello" --body "Hi Bob" --attach report.pdf --insecure
//! ```
//!
//! STARTTLS is required by default (`--starttls opportunistic|never` relaxes
//! it), `--implicit-tls` connects with TLS from the first byte (port 465,
//! RFC 8314). Certificates are verified against the Mozilla roots plus
//! `--ca-file`, unless `--insecure`. AUTH runs when `--user` is given: the
//! strongest mechanism both sides support (SCRAM before PLAIN/LOGIN), the
//! plaintext ones only under TLS. Attachments get a content type from the
//! file's first bytes (magic numbers) or else its extension.
//!
//! Every recipient's RCPT reply and the final reply are printed; the exit
//! status is 0 when every recipient was accepted and the message was taken,
//! 2 when only some recipients were, 1 otherwise.

use clap::{Parser, ValueEnum};
use examples::net::{Conn, Read};
use mime::{Address, BodyPart, Mailbox, MessageBuilder, Transport};
use smtp_proto::{
    ClientConfig, ClientEvent, ClientSession, EhloKeyword, Envelope, Recipient, Reply, TlsPolicy,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Submit a message by SMTP (STARTTLS or implicit TLS, AUTH).
#[derive(Parser, Debug)]
#[command(name = "smtp-send", version)]
struct Args {
    /// Server host name or address.
    #[arg(long, short = 's', default_value = "127.0.0.1")]
    server: String,
    /// Server port (587 submission, 465 implicit TLS, 25 relay).
    #[arg(long, short = 'p', default_value_t = 587)]
    port: u16,
    /// Connect with TLS from the start (RFC 8314 implicit TLS, port 465).
    #[arg(long)]
    implicit_tls: bool,
    /// When to run STARTTLS on a plain connection.
    #[arg(long, value_enum, default_value_t = StartTls::Required)]
    starttls: StartTls,
    /// Accept any server certificate (self-signed test servers).
    #[arg(long, short = 'k')]
    insecure: bool,
    /// Extra trusted CA certificates (PEM), on top of the Mozilla roots.
    /// Not with --insecure, which verifies nothing.
    #[arg(long, conflicts_with = "insecure")]
    ca_file: Option<PathBuf>,
    /// Name to verify in the server certificate (default: --server).
    #[arg(long)]
    tls_name: Option<String>,
    /// User name for AUTH; without it no AUTH is attempted.
    #[arg(long, short = 'u')]
    user: Option<String>,
    /// Password for AUTH (see also --password-file and SMTP_PASSWORD).
    /// Only with --user: without it no AUTH is attempted.
    #[arg(long, requires = "user")]
    password: Option<String>,
    /// Read the password from the first line of this file. Only with --user.
    #[arg(long, conflicts_with = "password", requires = "user")]
    password_file: Option<PathBuf>,
    /// Allow PLAIN/LOGIN without TLS (only for trusted links such as loopback).
    #[arg(long)]
    allow_plaintext_auth: bool,
    /// Name sent with EHLO.
    #[arg(long, default_value = "localhost")]
    helo: String,
    /// Sender: `addr` or `Name <addr>` (also the envelope sender unless --envelope-from).
    #[arg(long, short = 'f')]
    from: String,
    /// Envelope sender (MAIL FROM) if different from --from; "" for the null path.
    #[arg(long)]
    envelope_from: Option<String>,
    /// To recipient (repeatable; `addr` or `Name <addr>`).
    #[arg(long, short = 't')]
    to: Vec<String>,
    /// Cc recipient (repeatable).
    #[arg(long)]
    cc: Vec<String>,
    /// Bcc recipient (repeatable; in the envelope only, not in the header).
    #[arg(long)]
    bcc: Vec<String>,
    /// Subject (non-ASCII is RFC 2047 encoded).
    #[arg(long, default_value = "")]
    subject: String,
    /// An extra header field `Name: value` (repeatable).
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Text body.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Text body from a file ("-" for stdin).
    #[arg(long)]
    body_file: Option<PathBuf>,
    /// Attach a file (repeatable); the content type is detected.
    #[arg(long, short = 'a')]
    attach: Vec<PathBuf>,
    /// Send this file as the message, byte for byte (but every line end as
    /// CRLF, as SMTP needs), instead of building one.
    #[arg(long, conflicts_with_all = ["subject", "body", "body_file", "attach", "headers"])]
    message: Option<PathBuf>,
    /// Also write the message as sent (before dot-stuffing) to this file.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Seconds to wait for the connection, for each reply and for each
    /// write (a server that stops reading fails the submission); at least 1.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Print the SMTP dialogue's events.
    #[arg(long, short = 'v')]
    verbose: bool,
}

/// STARTTLS policy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StartTls {
    /// Fail unless the server offers STARTTLS.
    Required,
    /// Use it when offered.
    Opportunistic,
    /// Never.
    Never,
}

type Result<T> = std::result::Result<T, String>;

fn reply_text(r: &Reply) -> String {
    let mut s = r.code().to_string();
    if let Some(e) = r.enhanced() {
        s.push_str(&format!(" {e}"));
    }
    let text: Vec<String> = r
        .lines()
        .iter()
        .map(|l| String::from_utf8_lossy(l).trim_end().to_owned())
        .collect();
    // Shown on the user's terminal: no escape sequences from the server.
    let text = examples::escape_log_text(&text.join(" / ")).into_owned();
    if !text.is_empty() {
        s.push(' ');
        s.push_str(&text);
    }
    s
}

/// Parses `addr` or `Name <addr>` into one mailbox.
fn mailbox(s: &str) -> Result<Mailbox> {
    let parsed = mime::parse_addresses(s.as_bytes());
    match parsed.as_slice() {
        [Address::Mailbox(m)] if !m.local.is_empty() && !m.domain.is_empty() => Ok(m.clone()),
        _ => Err(format!("not a single mail address: {s:?}")),
    }
}

/// Guesses a media type from a file's leading bytes, then its extension.
fn content_type(path: &Path, data: &[u8]) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\x1f\x8b", "application/gzip"),
        (b"BZh", "application/x-bzip2"),
        (b"\xfd7zXZ\x00", "application/x-xz"),
        (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
        (b"\x28\xb5\x2f\xfd", "application/zstd"),
        (b"%!PS", "application/postscript"),
        (b"OggS", "audio/ogg"),
        (b"fLaC", "audio/flac"),
        (b"ID3", "audio/mpeg"),
        (b"\x00\x00\x01\x00", "image/vnd.microsoft.icon"),
        (b"BM", "image/bmp"),
        (b"{\\rtf", "application/rtf"),
    ];
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    for (magic, ty) in MAGIC {
        if data.starts_with(magic) {
            return ty;
        }
    }
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return "image/webp";
    }
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WAVE" {
        return "audio/wav";
    }
    if data.len() >= 12 && &data[4..8] == b"ftyp" {
        return "video/mp4";
    }
    // ZIP containers: the extension says which kind.
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return match ext.as_str() {
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "odt" => "application/vnd.oasis.opendocument.text",
            "ods" => "application/vnd.oasis.opendocument.spreadsheet",
            "jar" => "application/java-archive",
            "epub" => "application/epub+zip",
            _ => "application/zip",
        };
    }
    let by_ext = match ext.as_str() {
        "txt" | "text" | "log" | "md" => Some("text/plain"),
        "html" | "htm" => Some("text/html"),
        "css" => Some("text/css"),
        "csv" => Some("text/csv"),
        "xml" => Some("application/xml"),
        "json" => Some("application/json"),
        "js" => Some("text/javascript"),
        "ics" => Some("text/calendar"),
        "vcf" => Some("text/vcard"),
        "eml" => Some("message/rfc822"),
        "svg" => Some("image/svg+xml"),
        "tif" | "tiff" => Some("image/tiff"),
        "mp3" => Some("audio/mpeg"),
        "tar" => Some("application/x-tar"),
        "wasm" => Some("application/wasm"),
        _ => None,
    };
    if let Some(ty) = by_ext {
        return ty;
    }
    // Unknown: text if it is UTF-8 without control bytes other than whitespace.
    let texty = std::str::from_utf8(data).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0c'))
    });
    if texty {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

fn read_password(args: &Args) -> Result<Option<String>> {
    if let Some(p) = &args.password {
        return Ok(Some(p.clone()));
    }
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(Some(text.lines().next().unwrap_or("").to_owned()));
    }
    Ok(std::env::var("SMTP_PASSWORD").ok())
}

/// The message to send and its envelope.
fn compose(args: &Args) -> Result<(Vec<u8>, Envelope)> {
    let from = mailbox(&args.from)?;
    let to = args.to.iter().map(|s| mailbox(s)).collect::<Result<Vec<_>>>()?;
    let cc = args.cc.iter().map(|s| mailbox(s)).collect::<Result<Vec<_>>>()?;
    let bcc = args.bcc.iter().map(|s| mailbox(s)).collect::<Result<Vec<_>>>()?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() {
        return Err("no recipients (--to, --cc or --bcc)".into());
    }
    let all: Vec<&Mailbox> = to.iter().chain(&cc).chain(&bcc).collect();
    let utf8 = std::iter::once(&from)
        .chain(all.iter().copied())
        .any(|m| !m.address().is_ascii());
    let envelope_from = match &args.envelope_from {
        Some(s) if s.is_empty() || s == "<>" => String::new(),
        Some(s) => mailbox(s)?.address(),
        None => from.address(),
    };

    let message = if let Some(path) = &args.message {
        crlf_lines(&std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
    } else {
        let text = match (&args.body, &args.body_file) {
            (Some(b), _) => b.clone(),
            (None, Some(p)) if p.as_os_str() == "-" => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| e.to_string())?;
                s
            }
            (None, Some(p)) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
            (None, None) => String::new(),
        };
        let mut parts = vec![BodyPart::text(&text)];
        for path in &args.attach {
            let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("{}: no usable file name", path.display()))?;
            let ty = content_type(path, &data);
            parts.push(BodyPart::attachment(ty, name, data));
        }
        let body = if parts.len() == 1 {
            parts.remove(0)
        } else {
            BodyPart::mixed(parts)
        };
        let mut b = MessageBuilder::new()
            // The text comes from the command line or a file with local (LF)
            // line endings: made CRLF (RFC 2049 section 4).
            .normalize_line_endings(true)
            .from(from.clone())
            .subject(&args.subject)
            .body(body)
            .transport(Transport {
                utf8_headers: utf8,
                ..Transport::default()
            });
        for m in &to {
            b = b.to(m.clone());
        }
        for m in &cc {
            b = b.cc(m.clone());
        }
        for h in &args.headers {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| format!("--header needs `Name: value`: {h:?}"))?;
            b = b.header(name.trim(), value.trim());
        }
        b.build().map_err(|e| format!("building the message: {e}"))?
    };

    let envelope = Envelope {
        from: envelope_from,
        recipients: all.iter().map(|m| Recipient::new(&m.address())).collect(),
        size: Some(message.len() as u64),
        smtputf8: utf8,
        body: (!message.is_ascii()).then_some(smtp_proto::BodyType::EightBitMime),
        ..Envelope::default()
    };
    Ok((message, envelope))
}

/// `data` with every line end (CRLF, or a bare LF or CR as files saved on
/// Unix or old Macs have) as CRLF: SMTP sends a bare CR or LF never (RFC
/// 5321 2.3.8), and smtp-proto refuses one.
fn crlf_lines(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// What the submission came to.
struct Outcome {
    accepted: usize,
    recipients: usize,
    message_ok: bool,
}

async fn submit(
    args: &Args,
    message: &[u8],
    envelope: Envelope,
    password: Option<String>,
) -> Result<Outcome> {
    let timeout = Duration::from_secs(args.timeout);
    // Read before connecting: a bad --ca-file is reported even when the
    // server is down.
    let connector = examples::tls::connector(args.insecure, args.ca_file.as_deref())
        .map_err(|e| format!("--ca-file: {e}"))?;
    let addr = tokio::net::lookup_host((args.server.as_str(), args.port))
        .await
        .map_err(|e| format!("{}: {e}", args.server))?
        .next()
        .ok_or_else(|| format!("{}: no address", args.server))?;
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| format!("connecting to {addr} timed out"))?
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let tls_name = args.tls_name.clone().unwrap_or_else(|| args.server.clone());
    let mut conn = Conn::Plain(tcp);
    if args.implicit_tls {
        tokio::time::timeout(timeout, conn.start_client_tls(&connector, &tls_name))
            .await
            .map_err(|_| "TLS handshake timed out".to_owned())?
            .map_err(|e| format!("TLS: {e}"))?;
    }

    let mut cfg = ClientConfig {
        helo_name: args.helo.clone(),
        implicit_tls: args.implicit_tls,
        tls: match (args.implicit_tls, args.starttls) {
            (true, _) | (false, StartTls::Never) => TlsPolicy::Disabled,
            (false, StartTls::Required) => TlsPolicy::Required,
            (false, StartTls::Opportunistic) => TlsPolicy::Opportunistic,
        },
        allow_plaintext_auth: args.allow_plaintext_auth,
        ..ClientConfig::default()
    };
    cfg.timeouts.greeting = timeout;
    if let Some(user) = &args.user {
        let pw = password.ok_or("--user needs --password, --password-file or SMTP_PASSWORD")?;
        cfg.credentials = Some(sasl::Credentials::with_password(user.clone(), pw));
    }
    let want_auth = cfg.credentials.is_some();
    let mut s = ClientSession::new(cfg, Instant::now());
    let mut buf = vec![0u8; 16 * 1024];
    let mut envelope = Some(envelope);
    let recipients: Vec<String> = envelope
        .as_ref()
        .map(|e| e.recipients.iter().map(|r| r.address.clone()).collect())
        .unwrap_or_default();
    let mut outcome = Outcome {
        accepted: 0,
        recipients: recipients.len(),
        message_ok: false,
    };
    let mut body_at: Option<usize> = None;
    let mut failure: Option<String> = None;

    loop {
        loop {
            let ev = match s.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => break,
                Err(e) => {
                    let _ = conn.flush_session_within(&mut s, timeout).await;
                    return Err(format!("SMTP session failed: {e}"));
                }
            };
            if args.verbose {
                eprintln!("smtp-send: {ev:?}");
            }
            match ev {
                ClientEvent::Ready => {
                    if failure.is_some() {
                        // QUIT is already on its way.
                    } else if want_auth && !s.is_authenticated() {
                        failure = Some("AUTH did not run (the server offers no usable mechanism)".into());
                        s.quit(Instant::now()).map_err(|e| e.to_string())?;
                    } else if envelope.as_ref().is_some_and(|env| env.body.is_some())
                        && !s.capabilities().has(&EhloKeyword::EightBitMime)
                    {
                        // An 8-bit --message to a server without 8BITMIME:
                        // it must not be sent (RFC 6152 3), and smtp-proto
                        // would refuse the body in the middle of DATA.
                        failure = Some(
                            "the message has 8-bit content, but the server does not offer 8BITMIME (RFC 6152 3)"
                                .into(),
                        );
                        s.quit(Instant::now()).map_err(|e| e.to_string())?;
                    } else if let Some(env) = envelope.take() {
                        s.send_mail(env, Instant::now())
                            .map_err(|e| format!("MAIL: {e}"))?;
                    }
                }
                ClientEvent::StartTls => {
                    conn.flush_session_within(&mut s, timeout)
                        .await
                        .map_err(|e| e.to_string())?;
                    tokio::time::timeout(timeout, conn.start_client_tls(&connector, &tls_name))
                        .await
                        .map_err(|_| "TLS handshake timed out".to_owned())?
                        .map_err(|e| format!("STARTTLS: {e}"))?;
                    s.tls_established(Instant::now()).map_err(|e| e.to_string())?;
                    println!("tls: STARTTLS done");
                }
                ClientEvent::PlaintextDiscarded { len } => {
                    eprintln!("smtp-send: warning: discarded {len} bytes the server sent before TLS");
                }
                ClientEvent::Authenticated => println!("auth: ok"),
                ClientEvent::AuthFailed(reply) => {
                    let why = reply.map_or_else(|| "no usable mechanism".to_owned(), |r| reply_text(&r));
                    failure = Some(format!("AUTH failed: {why}"));
                    println!("auth: failed: {why}");
                    s.quit(Instant::now()).map_err(|e| e.to_string())?;
                }
                ClientEvent::MailResult(reply) => println!("MAIL FROM: {}", reply_text(&reply)),
                ClientEvent::RcptResult { index, reply } => {
                    let who = recipients.get(index).map_or("?", String::as_str);
                    if reply.is_positive() {
                        outcome.accepted += 1;
                    }
                    println!("RCPT {who}: {}", reply_text(&reply));
                }
                ClientEvent::SendBody => body_at = Some(0),
                ClientEvent::MessageResult(replies) => {
                    outcome.message_ok = !replies.is_empty() && replies.iter().all(Reply::is_positive);
                    for r in &replies {
                        println!("message: {}", reply_text(r));
                    }
                    s.quit(Instant::now()).map_err(|e| e.to_string())?;
                }
                ClientEvent::TransactionFailed(reply) => {
                    println!("transaction failed: {}", reply_text(&reply));
                    s.quit(Instant::now()).map_err(|e| e.to_string())?;
                }
                ClientEvent::Closed => {}
                other => {
                    if args.verbose {
                        eprintln!("smtp-send: unhandled {other:?}");
                    }
                }
            }
        }
        // Whether the body moved on (or was finished) in this round.
        let mut body_moved = false;
        if let Some(at) = body_at {
            let n = s.send_data(&message[at..]).map_err(|e| format!("body: {e}"))?;
            let at = at + n;
            body_moved = n > 0;
            if at == message.len() {
                s.finish_data().map_err(|e| format!("body: {e}"))?;
                body_at = None;
                body_moved = true;
            } else {
                body_at = Some(at);
            }
        }
        conn.flush_session_within(&mut s, timeout)
            .await
            .map_err(|e| format!("write: {e}"))?;
        if s.is_closed() {
            break;
        }
        // More body to send goes on at once, unless the session took none:
        // then it waits for the server (BDAT without PIPELINING waits for
        // each chunk's reply), so read.
        if body_at.is_some() && body_moved {
            continue;
        }
        let read = tokio::time::timeout(timeout, conn.read_into(&mut s, &mut buf, Instant::now))
            .await
            .map_err(|_| "timed out waiting for the server".to_owned())?
            .map_err(|e| format!("read: {e}"))?;
        if read == Read::Eof && s.is_closed() {
            break;
        }
    }
    let _ = tokio::time::timeout(timeout, conn.shutdown()).await;
    if let Some(f) = failure {
        return Err(f);
    }
    Ok(outcome)
}

async fn run(args: Args) -> Result<ExitCode> {
    let password = read_password(&args)?;
    let (message, envelope) = compose(&args)?;
    if let Some(path) = &args.save {
        std::fs::write(path, &message).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let o = submit(&args, &message, envelope, password).await?;
    println!(
        "{} of {} recipients accepted; message {}",
        o.accepted,
        o.recipients,
        if o.message_ok { "accepted" } else { "not accepted" }
    );
    Ok(if o.message_ok && o.accepted == o.recipients {
        ExitCode::SUCCESS
    } else if o.message_ok {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("smtp-send: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_from_magic_then_extension() {
        let p = Path::new;
        assert_eq!(content_type(p("x.bin"), b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(
            content_type(p("photo.txt"), b"\x89PNG\r\n\x1a\n...."),
            "image/png"
        );
        assert_eq!(
            content_type(p("a.docx"), b"PK\x03\x04rest"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(content_type(p("a.zip"), b"PK\x03\x04rest"), "application/zip");
        assert_eq!(content_type(p("data.csv"), b"a,b\n1,2\n"), "text/csv");
        assert_eq!(
            content_type(p("notes"), "gr\u{fc}\u{df}e\n".as_bytes()),
            "text/plain"
        );
        assert_eq!(
            content_type(p("blob"), b"\x00\x01\x02\xff"),
            "application/octet-stream"
        );
    }

    #[test]
    fn mailboxes_parse_with_and_without_names() {
        let m = mailbox("Bob Example <bob@example.test>").unwrap();
        assert_eq!(
            (m.name.as_deref(), m.address().as_str()),
            (Some("Bob Example"), "bob@example.test")
        );
        assert_eq!(
            mailbox("carol@example.test").unwrap().address(),
            "carol@example.test"
        );
        assert!(mailbox("not an address").is_err());
        assert!(mailbox("a@example.test, b@example.test").is_err());
    }
}
