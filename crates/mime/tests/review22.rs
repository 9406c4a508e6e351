//! Review (session 22, third pass) of the mime crate: each test failed on the code
//! before its fix; the rule it checks is quoted above it.

mod common;

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
        mime::MessageBuilder::new().from(common::author()).message_id(""),
        mime::MessageBuilder::new()
            .from(common::author())
            .message_id("<>"),
        mime::MessageBuilder::new()
            .from(common::author())
            .references("a@b.test")
            .references(""),
        mime::MessageBuilder::new().from(common::author()).in_reply_to(""),
    ] {
        assert_eq!(build(b), Err(mime::BuildError::EmptyMessageId));
    }
    assert!(
        build(
            mime::MessageBuilder::new()
                .from(common::author())
                .message_id("a@b.test")
        )
        .is_ok()
    );
}

// RFC 5322 section 3.3 with the obsolete forms of section 4.3:
//   date-time   = [ day-of-week "," ] date time [CFWS]
//   day         = ([FWS] 1*2DIGIT FWS) / obs-day     obs-day  = [CFWS] 1*2DIGIT [CFWS]
//   month       = "Jan" / "Feb" / ... / "Dec"
//   year        = (FWS 4*DIGIT FWS) / obs-year       obs-year = [CFWS] 2*DIGIT [CFWS]
//   hour        = 2DIGIT / obs-hour                  obs-hour = [CFWS] 2DIGIT [CFWS]
// (minute and second alike). `DateTime::parse_strict` is the check against that
// grammar (`Part::date` uses it to flag a message), but it took what only the
// lenient reader should: a day name without its comma, a month written out, a
// signed day or year, one-digit times and text after the zone. Each is now
// `DateError::Malformed`, which keeps the date as `DateTime::parse` reads it.
#[test]
fn strict_date_follows_the_grammar() {
    use mime::{DateError, DateTime};
    for v in [
        &b"Fri 21 Nov 1997 09:55:06 -0600"[..],
        b"21 November 1997 09:55:06 -0600",
        b"+21 Nov 1997 09:55:06 -0600",
        b"021 Nov 1997 09:55:06 -0600",
        b"21 Nov +97 09:55:06 -0600",
        b"21 Nov -5 09:55:06 -0600",
        b"21 Nov 7 09:55:06 -0600",
        b"21 Nov 1997 9:55:06 -0600",
        b"21 Nov 1997 09:5:06 -0600",
        b"21 Nov 1997 09:55:6 -0600",
        b"Fri, 21 Nov 1997 09:55:06 -0600 extra",
        b"Fri, 21 Nov 1997 09:55:06 EST EDT",
    ] {
        let text = String::from_utf8_lossy(v);
        match DateTime::parse_strict(v) {
            Err(DateError::Malformed { date }) => assert_eq!(Some(date), DateTime::parse(v), "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    // what the grammar allows, obsolete forms included
    for v in [
        &b"Fri, 21 Nov 1997 09:55:06 -0600"[..],
        b"fri , 21 nov 1997 09:55:06 -0600",
        b"21 Nov 1997 09:55:06 -0600",
        b"1 Nov 1997 09:55:06 -0600 (comment)\r\n ",
        b"Fri, 21 Nov 97 09:55 -0600",
        b"Fri, 21 Nov 097 09:55 -0600",
        b"Fri,21 Nov 1997 09 : 55 : 06 -0600",
        b"(c) Fri (c) , (c) 21 (c) Nov (c) 1997 (c) 09:55:06 (c) EST (c)",
        b"Thu,\r\n  13\r\n    Feb\r\n      1969\r\n  23:32\r\n           -0330 (Newfoundland Time)",
    ] {
        assert!(
            DateTime::parse_strict(v).is_ok(),
            "{}: {:?}",
            String::from_utf8_lossy(v),
            DateTime::parse_strict(v)
        );
    }
    // the checks that were there keep their errors
    assert!(matches!(
        DateTime::parse_strict(b"Mon, 21 Nov 1997 09:55:06 -0600"),
        Err(DateError::WrongDayOfWeek { .. })
    ));
    assert!(matches!(
        DateTime::parse_strict(b"Fri, 21 Nov 1997 09:55:06 +05"),
        Err(DateError::InvalidZone { .. })
    ));
}
