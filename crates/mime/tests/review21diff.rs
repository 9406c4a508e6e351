//! Review (session 21, differential against mail-parser and mailparse, see
//! benches/tests/mime_differential.rs) of the mime crate: each test failed on the
//! code before its fix; the rule it checks is quoted above it.

use mime::{Message, decode_unstructured};

// RFC 2047 section 6.1 (1): "Beginning at the start of the field-body and
// immediately following each occurrence of 'linear-white-space', each sequence of up
// to 75 printable characters (not containing any 'linear-white-space') should be
// examined to see if it is an 'encoded-word' according to the syntax rules in
// section 2. Any other sequence of printable characters should be treated as
// ordinary ASCII text." and section 5 (1): an 'encoded-word' in '*text' "MUST be
// separated from any adjacent 'encoded-word' or 'text' by 'linear-white-space'".
// `=?utf-8?q?b?=y` is one such sequence and is no encoded word (text follows the
// `?=`), so it stays as written; it was decoded to `by`.
#[test]
fn encoded_word_followed_by_text_is_ordinary_text() {
    assert_eq!(decode_unstructured(b"=?utf-8?q?b?=y"), "=?utf-8?q?b?=y");
    assert_eq!(decode_unstructured(b"a =?utf-8?q?b?=y c"), "a =?utf-8?q?b?=y c");
    let msg = b"Subject: x =?utf-8?q?caf=C3=A9?=s\r\n\r\n";
    assert_eq!(
        Message::parse(msg).root().subject().as_deref(),
        Some("x =?utf-8?q?caf=C3=A9?=s")
    );
    // still decoded: at the end, before white space, and the tolerated forms the
    // decoder already read (adjacent words, a word in parentheses or quotes)
    assert_eq!(decode_unstructured(b"=?utf-8?q?b?= y"), "b y");
    assert_eq!(decode_unstructured(b"=?utf-8?q?a?==?utf-8?q?b?="), "ab");
    assert_eq!(decode_unstructured(b"(=?utf-8?q?c?=)"), "(c)");
    assert_eq!(decode_unstructured(b"\"=?utf-8?q?d?=\""), "\"d\"");
    // parameter values are no unstructured text: RFC 2047 forbids words there at
    // all, and the ones real mail has (also glued to text) are still decoded
    let msg = b"Content-Type: application/pdf; name=\"=?UTF-8?B?w6k=?=.pdf\"\r\n\r\nx";
    assert_eq!(
        Message::parse(msg).root().filename().as_deref(),
        Some("\u{e9}.pdf")
    );
}
