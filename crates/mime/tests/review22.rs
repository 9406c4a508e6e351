//! Review (session 22, third pass) of the mime crate: each test failed on the code
//! before its fix; the rule it checks is quoted above it.

use mime::{Base64Decoder, DefectKind, TransferEncoding, decode_body};

/// Decodes `enc` whole and split at every point; all must agree.
fn base64_everywhere(enc: &[u8]) -> (Vec<u8>, Vec<DefectKind>) {
    let whole = decode_body(enc, TransferEncoding::Base64);
    for cut in 0..=enc.len() {
        let mut d = Base64Decoder::new();
        let mut out = Vec::new();
        d.decode(&enc[..cut], &mut out);
        d.decode(&enc[cut..], &mut out);
        let defects = d.finish(&mut out);
        assert_eq!((&out, &defects), (&whole.0, &whole.1), "cut at {cut} of {enc:?}");
    }
    whole
}

// RFC 2045 section 6.8: "(2) the final quantum of encoding input is exactly 8 bits;
// here, the final unit of encoded output will be two characters followed by two "="
// padding characters, or (3) the final quantum of encoding input is exactly 16 bits;
// here, the final unit of encoded output will be three characters followed by one
// "=" padding character." A final unit with too few `=` (`YQ=`) was taken without a
// defect, though a unit with none (`YQ`) was reported; so was one with too many
// (`YWI==`, `YQ===`) and padding with no unit before it (`====`). Each is now
// InvalidBase64Padding; the bytes decoded stay the same.
#[test]
fn base64_padding_must_complete_the_final_unit() {
    for ok in [
        &b"YQ=="[..],
        b"YWI=",
        b"YWJj",
        b"YQ=\r\n=",
        b"Y Q = =",
        b"",
        b"\r\n",
    ] {
        let (_, defects) = base64_everywhere(ok);
        assert!(
            defects.is_empty(),
            "{:?}: {defects:?}",
            String::from_utf8_lossy(ok)
        );
    }
    for (bad, want) in [
        (&b"YQ="[..], &b"a"[..]),
        (b"YQ", b"a"),
        (b"YWI==", b"ab"),
        (b"YQ===", b"a"),
        (b"====", b""),
        (b"YWJj=", b"abc"),
        (b"YQ=YQ==", b"aa"),
        (b"YQ==YQ==", b"aa"),
    ] {
        let (out, defects) = base64_everywhere(bad);
        assert_eq!(out, want, "{:?}", String::from_utf8_lossy(bad));
        assert_eq!(
            defects,
            [DefectKind::InvalidBase64Padding],
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

// RFC 5322 section 3.6.4:
//   msg-id          =   [CFWS] "<" id-left "@" id-right ">" [CFWS]
//   id-left         =   dot-atom-text / obs-id-left
// and dot-atom-text is `1*atext *("." 1*atext)`: an id is never empty. `<>` (and
// `< >`, folding inside the brackets) was read as an empty message id, which a
// threading reader of References or In-Reply-To would take for a real one; such
// pieces are dropped now, as `parse_addresses` drops an empty `<>`. The builder,
// which wrote `message_id("")` as `<>`, refuses an empty id.
#[test]
fn empty_angle_brackets_are_no_message_id() {
    assert_eq!(mime::parse_msg_ids(b"<>"), Vec::<String>::new());
    assert_eq!(mime::parse_msg_ids(b" < \r\n >"), Vec::<String>::new());
    assert_eq!(
        mime::parse_msg_ids(b"<a@b.test> <>\r\n <c@d.test>"),
        ["a@b.test", "c@d.test"]
    );
    // the tree's accessors read ids the same way
    let m = mime::Message::parse(b"References: <> <x@y.test>\r\nIn-Reply-To: <>\r\n\r\n");
    assert_eq!(m.root().references(), ["x@y.test"]);
    assert_eq!(m.root().in_reply_to(), Vec::<String>::new());
    let build = |b: mime::MessageBuilder| b.body(mime::BodyPart::text("x\r\n")).build_at(0, 0);
    for b in [
        mime::MessageBuilder::new().message_id(""),
        mime::MessageBuilder::new().message_id("<>"),
        mime::MessageBuilder::new().references("a@b.test").references(""),
        mime::MessageBuilder::new().in_reply_to(""),
    ] {
        assert_eq!(build(b), Err(mime::BuildError::EmptyMessageId));
    }
    assert!(build(mime::MessageBuilder::new().message_id("a@b.test")).is_ok());
}
