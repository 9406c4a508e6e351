//! Internet messages (RFC 5322, RFC 6532) and MIME (RFC 2045-2049, 2047, 2231, 2183):
//! a push parser, a tree with byte offsets, decoders and a builder.
//!
//! # Overview
//!
//! - [`PushParser`]: feed chunks of any size (an SMTP DATA stream, an IMAP literal)
//!   and poll [`Event`]s: header fields, part starts with their headers, body chunks,
//!   delimiters, part ends and defects. Buffering is bounded by [`Limits`]; nesting
//!   is kept on an explicit stack, so no message can overflow the call stack.
//! - [`Message::parse`]: the whole tree at once, with byte ranges of every header,
//!   header block, body, preamble and epilogue, so parts and IMAP sections
//!   (`BODY[1.2.MIME]`, `HEADER`, `TEXT`) are cut byte-exactly from the input. Header
//!   values borrow from the input.
//! - Typed header access: addresses ([`parse_addresses`]), dates ([`DateTime`]),
//!   RFC 2047 text ([`decode_unstructured`]), message ids ([`parse_msg_ids`]),
//!   Content-Type / Content-Disposition with RFC 2231 ([`ContentType`], [`Disposition`]).
//!   Header text (subjects, display names, file names, parameters, addresses,
//!   message ids, Content-Location, Content-Language) is handed out in a safe form:
//!   no CR, LF or NUL, which encoded words, RFC 2231 values and obsolete syntax can
//!   otherwise smuggle into a header a caller writes back; see
//!   [`decode_unstructured`] ([`decode_unstructured_raw`] keeps them).
//! - Delivery status notifications: [`DeliveryStatus`] reads a
//!   `message/delivery-status` body (RFC 3464) into typed fields.
//! - Bodies: [`decode_body`], streaming [`Base64Decoder`] and [`QpDecoder`], charsets
//!   ([`decode_charset`], `encoding_rs` plus UTF-7, ISO-2022-KR and HZ).
//! - Real mail is messy: problems become [`Defect`]s (as in Python's `email`
//!   package); [`ParseOptions::strict`] refuses any defect instead.
//! - [`MessageBuilder`]: text/html/alternative/related/mixed, attachments, inline
//!   parts, nested messages; RFC 2047 and 2231 where allowed, folding at 78 with a
//!   hard 998 limit, CRLF, a transfer encoding chosen per part.
//!
//! Line endings: CRLF is canonical. A bare LF is accepted as a line ending (files on
//! disk and many MTAs use it) and reported once as [`DefectKind::BareLineFeed`], so
//! strict mode refuses it. A bare CR is no line ending: in a header field it stays in
//! the value and is reported once as [`DefectKind::BareCarriageReturn`].
//!
//! # Example
//!
//! ```
//! use mime::{MessageBuilder, Message, Section, BodyPart, Mailbox};
//!
//! let bytes = MessageBuilder::new()
//!     .from(Mailbox { name: Some("Zoë".into()), local: "zoe".into(), domain: "example.test".into() })
//!     .to(Mailbox { name: None, local: "bob".into(), domain: "example.test".into() })
//!     .subject("Grüße")
//!     .body(BodyPart::mixed(vec![
//!         BodyPart::text("plain text\r\n"),
//!         BodyPart::attachment("application/octet-stream", "data.bin", vec![0, 1, 2, 255]),
//!     ]))
//!     .build_at(1_700_000_000, 0)
//!     .unwrap();
//!
//! let msg = Message::parse(&bytes);
//! assert!(msg.defects.is_empty());
//! let root = msg.root();
//! assert_eq!(root.subject().as_deref(), Some("Grüße"));
//! let att = msg.resolve(&[2]).unwrap();
//! assert_eq!(msg.parts[att].filename().as_deref(), Some("data.bin"));
//! assert_eq!(&*msg.decoded_body(att).0, &[0, 1, 2, 255]);
//! assert!(msg.section(&[2], Section::Mime).unwrap().starts_with(b"Content-Type: application/octet-stream"));
//! ```
//!
//! # Streaming
//!
//! The push parser reports the same events for any chunking of the input (split
//! invariance, checked by property tests and the `mime_push` fuzz target), so it can
//! sit directly behind an SMTP DATA decoder:
//!
//! ```
//! use mime::{Base64Decoder, Event, Limits, PushParser, TransferEncoding};
//!
//! let wire = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\
//!              Content-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--x--\r\n";
//! let mut p = PushParser::new(Limits::default());
//! let (mut decoder, mut decoded, mut in_base64) = (Base64Decoder::new(), Vec::new(), false);
//! for chunk in wire.chunks(5) {
//!     p.feed(chunk);
//!     while let Some(ev) = p.poll_event() {
//!         match ev {
//!             Event::PartStart { encoding, .. } => in_base64 = encoding == TransferEncoding::Base64,
//!             Event::Body { data, .. } if in_base64 => decoder.decode(&data, &mut decoded),
//!             _ => {}
//!         }
//!     }
//! }
//! p.finish();
//! while p.poll_event().is_some() {}
//! assert!(decoder.finish(&mut decoded).is_empty());
//! assert_eq!(decoded, b"hello");
//! ```
//!
//! # Testing aids
//!
//! [`fuzzing`] holds the invariants the fuzz targets check (also replayed on stable
//! by `tests/fuzz_replay.rs`). `tests/differential.rs` compares every corpus message
//! with Python's `email` package and lists each known difference with its reason.
//! The `mime-tree` example program prints any message's tree as JSON.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod address;
mod builder;
mod charset;
mod date;
mod decode;
mod defect;
mod dsn;
mod encoded_word;
pub mod fuzzing;
mod header;
mod limits;
mod params;
mod push;
mod scan;
mod tree;

pub use address::{Address, Mailbox, ReturnPath, parse_addresses, parse_return_path};
pub use builder::{BodyPart, BuildError, MessageBuilder, Transport};
pub use charset::decode_charset;
pub use date::{DateError, DateTime};
pub use decode::{Base64Decoder, QpDecoder, TransferEncoding, decode_body};
pub use defect::{Defect, DefectKind};
pub use dsn::{
    DeliveryStatus, DsnAction, DsnError, DsnField, PerMessageFields, PerRecipientFields, StatusCode,
    TypedValue,
};
pub use encoded_word::{decode_unstructured, decode_unstructured_raw, encode_words};
pub use header::{Header, parse_msg_ids, unfold};
pub use limits::Limits;
pub use params::{ContentType, Disposition, Param};
pub use push::{Event, PushParser, RawField};
pub use scan::{ChunkKind, Shape};
pub use tree::{Message, ParseOptions, Part, PartId, PartKind, PieceKind, Section, StrictError};
