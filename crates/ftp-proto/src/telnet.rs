//! The Telnet layer of the control connection (RFC 959 4: "The FTP uses the
//! Telnet protocol on the control connection"; RFC 854). FTP uses little of
//! it: a data byte 255 travels as `IAC IAC`, since a lone 255 is IAC, the
//! start of a Telnet command. The FTP codecs ([`crate::Command::encode`],
//! [`crate::reply::encode_reply`], [`crate::Reply::parse`]) read and write
//! the FTP text itself; the sessions apply this layer on the wire, so the
//! codec round trip is unchanged.
//!
//! The server's reading side is `strip_telnet` in `server.rs` (it also
//! refuses option negotiation, RFC 1123 4.1.2.12).

use bytes::BytesMut;

const IAC: u8 = 0xff;

/// Doubles every 0xFF byte written to `buf` from `start` on.
pub(crate) fn escape(buf: &mut BytesMut, start: usize) {
    if memchr::memchr(IAC, &buf[start..]).is_none() {
        return;
    }
    let line = buf.split_off(start);
    buf.reserve(line.len() + 8);
    for part in line.split_inclusive(|&b| b == IAC) {
        buf.extend_from_slice(part);
        if part.last() == Some(&IAC) {
            buf.extend_from_slice(&[IAC]);
        }
    }
}

/// Where the client's reading side is in a Telnet sequence that a read may
/// have split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Unescape {
    /// Plain data.
    #[default]
    Data,
    /// After an IAC.
    Iac,
    /// After IAC WILL/WONT/DO/DONT: the option byte comes next.
    Option,
}

impl Unescape {
    /// Appends `data` to `out` without its Telnet layer: `IAC IAC` becomes
    /// one 255 byte; the commands `IAC x` (x from 240 to 250, e.g. NOP, GA,
    /// DM) and the negotiations `IAC WILL/WONT/DO/DONT opt` are dropped, as a
    /// user-FTP does not negotiate options (RFC 1123 4.1.2.12). An IAC before
    /// a byte that is no Telnet command (below 240) is kept with that byte:
    /// a server that does not double 255 meant a data byte.
    pub(crate) fn feed(&mut self, data: &[u8], out: &mut BytesMut) {
        let mut rest = data;
        while !rest.is_empty() {
            match *self {
                Unescape::Data => match memchr::memchr(IAC, rest) {
                    None => {
                        out.extend_from_slice(rest);
                        return;
                    }
                    Some(i) => {
                        out.extend_from_slice(&rest[..i]);
                        *self = Unescape::Iac;
                        rest = &rest[i + 1..];
                    }
                },
                Unescape::Iac => {
                    let b = rest[0];
                    rest = &rest[1..];
                    *self = match b {
                        IAC => {
                            out.extend_from_slice(&[IAC]);
                            Unescape::Data
                        }
                        251..=254 => Unescape::Option,
                        240..=250 => Unescape::Data,
                        _ => {
                            out.extend_from_slice(&[IAC, b]);
                            Unescape::Data
                        }
                    };
                }
                Unescape::Option => {
                    rest = &rest[1..];
                    *self = Unescape::Data;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_is_split_invariant_and_undoes_escape() {
        let text: &[u8] = b"257 \"/a\xffb\xff\xff\" \xff\xfb\x01x\xff\xf1y\xff\x41\r\n";
        let want: &[u8] = b"257 \"/a\xffb\xff\xff\" xy\xff\x41\r\n";
        let mut whole = BytesMut::new();
        let mut escaped = BytesMut::from(&text[..4]);
        escape(&mut escaped, 0);
        assert_eq!(&escaped[..], &text[..4]);
        // Raw `text` as sent by a peer: IAC IAC, a negotiation, a NOP and an
        // undoubled IAC before 'A'.
        let raw: &[u8] = b"257 \"/a\xff\xffb\xff\xff\xff\xff\" \xff\xfb\x01x\xff\xf1y\xff\x41\r\n";
        Unescape::default().feed(raw, &mut whole);
        assert_eq!(&whole[..], want);
        for cut in 0..raw.len() {
            let mut u = Unescape::default();
            let mut out = BytesMut::new();
            u.feed(&raw[..cut], &mut out);
            u.feed(&raw[cut..], &mut out);
            assert_eq!(&out[..], want, "cut at {cut}");
        }
        let mut buf = BytesMut::from(&b"x"[..]);
        buf.extend_from_slice(b"a\xffb\xff");
        escape(&mut buf, 1);
        let mut back = BytesMut::new();
        Unescape::default().feed(&buf[1..], &mut back);
        assert_eq!(&back[..], b"a\xffb\xff");
    }
}
