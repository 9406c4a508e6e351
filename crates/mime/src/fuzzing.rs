//! Invariants checked by the fuzz targets (fuzz/fuzz_targets/mime_*.rs) and replayed
//! on stable by `tests/fuzz_replay.rs`. Each function panics when an invariant fails.

use crate::{
    Address, Base64Decoder, BodyPart, BuildError, ChunkKind, ContentType, DateTime, Disposition, Event,
    Limits, Mailbox, Message, MessageBuilder, PartKind, PushParser, QpDecoder, TransferEncoding, Transport,
    decode_body, decode_charset, decode_unstructured, decode_unstructured_raw, encode_words, parse_addresses,
    parse_msg_ids, unfold,
};

/// Runs the push parser over `input` cut at the given chunk sizes (cycled; 0 is
/// read as 1) and returns the events with adjacent body chunks of the same kind merged,
/// so that any two chunkings can be compared.
#[must_use]
pub fn push_events(input: &[u8], sizes: &[usize], limits: Limits) -> Vec<Event> {
    let mut p = PushParser::new(limits);
    let mut out: Vec<Event> = Vec::new();
    // the body being merged: its bytes grow in a Vec, not copied at each chunk
    // (that made byte-by-byte runs quadratic in the body's length)
    let mut body: Option<(Vec<u8>, ChunkKind, usize)> = None;
    let mut push = |ev: Option<Event>, out: &mut Vec<Event>| {
        if let Some(Event::Body { data, kind, offset }) = &ev {
            match &mut body {
                Some((v, k, _)) if k == kind => {
                    v.extend_from_slice(data);
                    return;
                }
                _ => {}
            }
            if let Some((v, kind, offset)) = body.take() {
                out.push(Event::Body {
                    data: v.into(),
                    kind,
                    offset,
                });
            }
            body = Some((data.to_vec(), *kind, *offset));
            return;
        }
        if let Some((v, kind, offset)) = body.take() {
            out.push(Event::Body {
                data: v.into(),
                kind,
                offset,
            });
        }
        out.extend(ev);
    };
    let mut i = 0;
    let mut k = 0;
    while i < input.len() {
        let n = sizes
            .get(k % sizes.len().max(1))
            .copied()
            .unwrap_or(input.len())
            .max(1);
        let end = (i + n).min(input.len());
        p.feed(&input[i..end]);
        i = end;
        k += 1;
        while let Some(ev) = p.poll_event() {
            push(Some(ev), &mut out);
        }
        assert!(
            p.buffered() <= 2 * (limits.max_field_bytes + n + 1024),
            "push parser buffer not bounded"
        );
    }
    p.finish();
    while let Some(ev) = p.poll_event() {
        push(Some(ev), &mut out);
    }
    push(None, &mut out);
    assert!(p.is_done(), "parser not done after finish");
    out
}

/// Checks a parsed tree: ranges inside the input and nested properly, no panics in
/// the accessors, and that the raw bytes of the root give the same tree again.
pub fn tree(input: &[u8]) {
    let m = Message::parse(input);
    assert!(!m.parts.is_empty());
    for (id, p) in m.parts.iter().enumerate() {
        assert!(p.header_range.start <= p.header_range.end);
        assert_eq!(p.header_range.end, p.body_range.start);
        assert!(p.body_range.end <= input.len());
        if let Some(parent) = p.parent {
            let q = &m.parts[parent];
            assert!(q.body_range.start <= p.header_range.start && p.body_range.end <= q.body_range.end);
        }
        if let PartKind::Multipart {
            preamble, epilogue, ..
        } = &p.kind
        {
            assert!(preamble.start == p.body_range.start && preamble.end <= p.body_range.end);
            if let Some(e) = epilogue {
                assert!(e.end == p.body_range.end && e.start <= e.end);
            }
        }
        let _ = (
            m.decoded_body(id),
            m.text(id),
            p.subject(),
            p.from(),
            p.date(),
            p.filename(),
        );
    }
    assert!(m.parts.len() <= Limits::default().max_parts + 1);
}

/// Parses the same input whole and in the chunk sizes taken from its first bytes,
/// and compares the event streams; then checks the tree.
pub fn push_split(data: &[u8]) {
    let (head, input) = data.split_at(data.len().min(4));
    let sizes: Vec<usize> = head.iter().map(|&b| usize::from(b % 64) + 1).collect();
    let limits = Limits {
        max_field_bytes: 512,
        max_header_bytes: 4096,
        max_depth: 8,
        max_parts: 64,
        ..Limits::default()
    };
    let whole = push_events(input, &[input.len().max(1)], limits);
    let split = push_events(input, &sizes, limits);
    assert_eq!(whole, split, "events depend on chunking");
    let bytes = push_events(input, &[1], limits);
    assert_eq!(whole, bytes, "events differ byte by byte");
    tree(input);
}

/// Runs every header-value parser on `data` (addresses, RFC 2047 text, message ids,
/// Content-Type / Content-Disposition with RFC 2231, dates) and the body decoders.
/// Dates that parse must round-trip, RFC 2047 encoding of the text must decode back,
/// and the streaming base64 / quoted-printable decoders must give the same bytes
/// however the input is split.
pub fn headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let words = encode_words(&text);
    assert!(words.iter().all(|w| w.len() <= 75), "encoded word too long");
    assert_eq!(
        decode_unstructured_raw(words.join("\r\n ").as_bytes()),
        text,
        "2047 round trip"
    );
    let _ = decode_charset(data, "utf-7");
    let cut = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    for enc in [TransferEncoding::Base64, TransferEncoding::QuotedPrintable] {
        let (whole, defects) = decode_body(data, enc);
        let mut out = Vec::new();
        let streamed = if enc == TransferEncoding::Base64 {
            let mut d = Base64Decoder::new();
            d.decode(&data[..cut], &mut out);
            d.decode(&data[cut..], &mut out);
            d.finish(&mut out)
        } else {
            let mut d = QpDecoder::new();
            d.decode(&data[..cut], &mut out);
            d.decode(&data[cut..], &mut out);
            d.finish(&mut out)
        };
        assert_eq!(out, whole, "{enc:?} decoding depends on the split");
        assert_eq!(streamed, defects, "{enc:?} defects depend on the split");
    }
    for a in parse_addresses(data) {
        if let Address::Mailbox(m) = a {
            let _ = m.address();
        }
    }
    assert!(
        !decode_unstructured(data).contains(['\r', '\n', '\0']),
        "decoded header text not in its safe form"
    );
    let _ = parse_msg_ids(data);
    // Content-Type and Content-Disposition are parsed in place, folding included:
    // the result must be the one of the unfolded value
    let unfolded = unfold(data);
    // the one-pass reader of common values agrees with the general parser
    if let Some(simple) = ContentType::parse_simple(data) {
        assert_eq!(
            Some(simple),
            ContentType::parse_general(data),
            "simple Content-Type reader disagrees"
        );
    }
    let ct = ContentType::parse(data);
    if let Some(ct) = &ct {
        let _ = ct.essence();
    }
    assert_eq!(
        ct,
        ContentType::parse(&unfolded),
        "Content-Type depends on folding"
    );
    assert_eq!(
        Disposition::parse(data),
        Disposition::parse(&unfolded),
        "Content-Disposition depends on folding"
    );
    if let Some(d) = DateTime::parse(data)
        && (1..=9999).contains(&d.year)
        && d.second < 60
    {
        // the same date back, its -0000 zone too (RFC 5322 section 3.3)
        let again = DateTime::parse(d.to_rfc5322().as_bytes());
        assert_eq!(again, Some(d));
        // what the crate writes has the right day-of-week
        let strict = DateTime::parse_strict(d.to_rfc5322().as_bytes());
        assert_eq!(strict.map(|x| x.unix_time()), Ok(d.unix_time()));
    }
}

fn text_from(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace(['\r', '\n', '\0'], " ")
}

/// Builds a message from pieces of `data` and checks that parsing gives them back.
///
/// The first byte picks the transport (bit 0: 8bit allowed) and dot-safe mode
/// (bit 1). The builder may refuse only with [`BuildError::LineTooLong`] (a
/// word in a header too long to fold); anything it builds must also build as
/// a message/rfc822 part of another message under the same options, since a
/// built message is valid content for one.
pub fn build_roundtrip(data: &[u8]) {
    let (&flags, data) = data.split_first().unwrap_or((&0, &[]));
    let transport = Transport {
        eight_bit: flags & 1 != 0,
        ..Transport::default()
    };
    let dot_safe = flags & 2 != 0;
    let mut it = data.splitn(4, |&b| b == 0xff);
    let subject = text_from(it.next().unwrap_or_default()).trim().to_owned();
    let name = text_from(it.next().unwrap_or_default()).trim().to_owned();
    let body = it.next().unwrap_or_default().to_vec();
    let fname = text_from(it.next().unwrap_or_default()).trim().to_owned();
    let text = String::from_utf8_lossy(&body)
        .replace('\r', "")
        .replace('\n', "\r\n");
    let from = Mailbox {
        name: (!name.is_empty()).then(|| name.clone()),
        local: "a".into(),
        domain: "b.test".into(),
    };
    let built = MessageBuilder::new()
        .from(from.clone())
        .subject(&subject)
        .transport(transport)
        .dot_safe(dot_safe)
        .body(BodyPart::mixed(vec![
            BodyPart::text(&text),
            BodyPart::attachment(
                "application/octet-stream",
                if fname.is_empty() { "f" } else { &fname },
                body.clone(),
            ),
        ]))
        .build_at(0, 0);
    let bytes = match built {
        Ok(bytes) => bytes,
        Err(BuildError::LineTooLong) => return,
        Err(e) => panic!("build refused: {e}"),
    };
    let octets_ok = |b: &[u8]| {
        b.split(|&c| c == b'\n')
            .all(|l| l.strip_suffix(b"\r").unwrap_or(l).len() <= 998)
    };
    assert!(octets_ok(&bytes), "line over 998");
    if !transport.eight_bit {
        assert!(bytes.is_ascii(), "8-bit octets without an 8bit transport");
    }
    let m = Message::parse(&bytes);
    assert!(m.defects.is_empty(), "defects {:?}", m.defects);
    assert_eq!(m.root().subject().unwrap_or_default(), subject);
    let Some(Address::Mailbox(f)) = m.root().from().into_iter().next() else {
        panic!("no from")
    };
    assert_eq!(f.name.unwrap_or_default(), name);
    let t = m.resolve(&[1]).expect("part 1");
    assert_eq!(m.text(t), text);
    let a = m.resolve(&[2]).expect("part 2");
    assert_eq!(&*m.decoded_body(a).0, &body[..]);
    assert_eq!(
        m.parts[a].filename().unwrap_or_default(),
        if fname.is_empty() { "f" } else { &fname }
    );
    let outer = MessageBuilder::new()
        .from(from)
        .subject("outer")
        .transport(transport)
        .dot_safe(dot_safe)
        .body(BodyPart::message(bytes.clone()))
        .build_at(0, 0)
        .unwrap_or_else(|e| panic!("a built message refused as message/rfc822: {e}"));
    assert!(octets_ok(&outer), "line over 998 around the message");
    let m = Message::parse(&outer);
    assert!(m.defects.is_empty(), "defects {:?}", m.defects);
    let PartKind::Message { child: Some(c) } = m.parts[0].kind else {
        panic!("no nested message")
    };
    assert_eq!(m.parts[c].subject().unwrap_or_default(), subject);
}

/// Reads `data` as a `message/delivery-status` body ([`crate::DeliveryStatus`]).
/// Invariants: no panic; the same result with every CRLF turned into LF (when
/// `data` has no CR outside CRLF); values are unfolded (no CR or LF), types and
/// names are non-empty, at least one recipient; a status code prints as it parses.
pub fn delivery_status(data: &[u8]) {
    use crate::{DeliveryStatus, DsnField, StatusCode, TypedValue};
    let got = DeliveryStatus::parse(data);
    let bare_cr = data
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && data.get(i + 1) != Some(&b'\n'));
    if !bare_cr {
        let mut lf = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            if data[i] != b'\r' {
                lf.push(data[i]);
            }
            i += 1;
        }
        let again = DeliveryStatus::parse(&lf);
        match (&got, &again) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "CRLF and LF read differently"),
            (Err(a), Err(b)) => assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(b),
                "CRLF and LF fail differently: {a} / {b}"
            ),
            _ => panic!("CRLF and LF read differently: {got:?} / {again:?}"),
        }
    }
    let Ok(d) = got else { return };
    let clean = |v: &[u8]| {
        assert!(
            !v.contains(&b'\r') && !v.contains(&b'\n'),
            "a value kept a line break"
        );
    };
    let typed = |t: &TypedValue<'_>| {
        assert!(!t.kind.is_empty(), "empty type");
        clean(&t.kind);
        clean(&t.value);
    };
    let ext = |f: &DsnField<'_>| {
        assert!(!f.name.is_empty());
        clean(&f.value);
    };
    let m = &d.per_message;
    typed(&m.reporting_mta);
    m.dsn_gateway.iter().chain(&m.received_from_mta).for_each(typed);
    m.original_envelope_id.iter().for_each(|v| clean(v));
    m.extensions.iter().for_each(ext);
    assert!(!d.recipients.is_empty(), "a DSN without recipients");
    for r in &d.recipients {
        typed(&r.final_recipient);
        r.original_recipient
            .iter()
            .chain(&r.remote_mta)
            .chain(&r.diagnostic_code)
            .for_each(typed);
        r.final_log_id.iter().for_each(|v| clean(v));
        r.extensions.iter().for_each(ext);
        assert_eq!(
            StatusCode::parse(r.status.to_string().as_bytes()),
            Some(r.status),
            "status code does not print as it parses"
        );
    }
}
