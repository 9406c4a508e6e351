//! `Message::decoded_text`: the text of a part together with what went wrong
//! while decoding it.

use mime::{DefectKind, Message};

#[test]
fn unknown_charset_is_reported_with_the_text() {
    let raw = b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\ncaf\xc3\xa9\r\n";
    let m = Message::parse(raw);
    let (text, defects) = m.decoded_text(0);
    assert_eq!(text, "caf\u{e9}\r\n");
    assert_eq!(defects, [DefectKind::UnknownCharset]);
    assert_eq!(m.text_cow(0), text);
}

#[test]
fn known_charsets_and_transfer_defects() {
    let raw = b"Content-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: base64\r\n\r\nY2Fm6Q==!\r\n";
    let m = Message::parse(raw);
    let (text, defects) = m.decoded_text(0);
    assert_eq!(text, "caf\u{e9}");
    assert_eq!(defects, [DefectKind::InvalidBase64Characters]);

    let plain = Message::parse(b"Subject: x\r\n\r\nhello\r\n");
    assert_eq!(plain.decoded_text(0), ("hello\r\n".into(), Vec::new()));
}
