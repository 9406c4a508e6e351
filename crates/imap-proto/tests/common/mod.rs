//! Helpers shared by the test files that `mod common;` them.

/// Frames `wire` (whole) as `dir` under `limits` and parses every unit
/// with `parse`; stream chunks are dropped. The parse result of each unit.
pub(crate) fn frame_and_parse<T>(
    dir: imap_proto::Direction,
    limits: imap_proto::Limits,
    wire: &[u8],
    parse: impl Fn(&imap_proto::Unit) -> Result<T, imap_proto::ParseError>,
) -> Vec<Result<T, imap_proto::ParseError>> {
    use imap_proto::{Frame, Framer};
    let mut f = Framer::new(dir, limits);
    let mut buf = bytes::BytesMut::from(wire);
    let mut out = Vec::new();
    while let Some(frame) = f.next(&mut buf) {
        match frame.expect("framed") {
            Frame::Unit(u) => out.push(parse(&u)),
            Frame::LiteralAnnounced(_) | Frame::StreamStart(_) | Frame::StreamChunk(_) | Frame::StreamEnd => {
            }
        }
    }
    out
}
