//! Review (session 24, helper 3) of the mime builder. Each test failed on the
//! code before its fix; the rule it checks is quoted above it.

mod common;
use common::mb;
use mime::{BodyPart, BuildError, Message, MessageBuilder};

// RFC 5322 section 3.6: "The only required header fields are the origination
// date field and the originator address field(s)", and the table of the same
// section gives orig-date and from a minimum and maximum of 1 each. The builder
// wrote a message without From; it now refuses that (BuildError::FromRequired).
#[test]
fn builder_refuses_a_message_without_from() {
    assert_eq!(
        MessageBuilder::new().build_at(0, 0),
        Err(BuildError::FromRequired)
    );
    let built = MessageBuilder::new()
        .to(mb("b"))
        .subject("s")
        .body(BodyPart::text("x"))
        .build_at(0, 0);
    assert_eq!(built, Err(BuildError::FromRequired));
    assert_eq!(
        MessageBuilder::new().build().unwrap_err(),
        BuildError::FromRequired
    );
    // a Sender alone is no author (RFC 5322 section 3.6.2: From is the author)
    let built = MessageBuilder::new().sender(mb("a")).build_at(0, 0);
    assert_eq!(built, Err(BuildError::FromRequired));
}

// RFC 5322 section 3.6: at most one From field. The builder writes From from
// `from()`, so one given as a raw `header("From", ..)` would be a second one
// (refused before) or one that escapes the checks of section 3.6.2 (Sender with
// several authors) and of the address syntax (accepted before, without from()).
#[test]
fn builder_refuses_from_as_a_raw_header() {
    let built = MessageBuilder::new()
        .header("From", "a@example.test, b@example.test")
        .build_at(0, 0);
    assert_eq!(built, Err(BuildError::FromRequired));
    let built = MessageBuilder::new()
        .from(mb("a"))
        .header("from", "b@example.test")
        .build_at(0, 0);
    assert_eq!(built, Err(BuildError::DuplicateField("from".into())));
}

// What the builder writes has exactly one Date and one From (RFC 5322 section
// 3.6), Date from the clock given to build_at when none is set.
#[test]
fn built_message_has_one_date_and_one_from() {
    let built = MessageBuilder::new().from(mb("a")).build_at(86_400, 60).unwrap();
    let m = Message::parse(&built);
    assert!(m.defects.is_empty(), "{:?}", m.defects);
    assert_eq!(m.root().from().len(), 1);
    let text = String::from_utf8(built).unwrap();
    assert_eq!(
        text.matches("\r\nFrom: ").count() + usize::from(text.starts_with("From: ")),
        1
    );
    assert_eq!(text.matches("Date: ").count(), 1);
    assert!(
        text.starts_with("Date: Fri, 2 Jan 1970 01:00:00 +0100\r\n"),
        "{text}"
    );
}
