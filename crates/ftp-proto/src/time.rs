//! [`Timestamp`]: the calendar time FTP puts on the wire (MDTM, MFMT, MLSx
//! `modify`/`create` facts, listing dates), without a date library.
//!
//! FTP times are UTC (RFC 3659 2.3); this type does not do time zones.

use crate::error::EncodeError;
use bytes::BytesMut;
use proto_core::civil::{civil_from_days, days_from_civil};

/// A UTC calendar time with optional sub-second part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Year, e.g. 2024.
    pub year: u16,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=60 (60 for a leap second, as RFC 3659 2.3 allows).
    pub second: u8,
    /// Nanoseconds from the fraction part (`.sss`), 0 when absent.
    pub nanos: u32,
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// True when all eight bytes of `w` are ASCII digits: the high nibble is 3,
/// and adding 6 keeps it 3 (a carry out of a byte needs a byte of 0xFA or
/// more, which fails the first test anyway).
#[inline]
fn all_digits(w: u64) -> bool {
    const NIBBLE: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    (((w & NIBBLE) ^ ZEROS) | ((w.wrapping_add(0x0606_0606_0606_0606) & NIBBLE) ^ ZEROS)) == 0
}

impl Timestamp {
    /// Builds a timestamp, checking the ranges of every field.
    #[must_use]
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        let t = Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos: 0,
        };
        t.is_valid().then_some(t)
    }

    /// True when every field is in range (the day against the month's length).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60
            && self.nanos < 1_000_000_000
    }

    /// True when the time can be written as an RFC 3659 `time-val`: valid,
    /// and a year from 1000 to 9999 (2.3: four digits, "with a range of
    /// 1000--9999"; earlier years "cannot be expressed").
    #[must_use]
    pub fn fits_time_val(&self) -> bool {
        self.is_valid() && (1000..=9999).contains(&self.year)
    }

    /// Parses RFC 3659 `time-val`: `YYYYMMDDHHMMSS[.sss]`. The fraction may
    /// have any number of digits (RFC 3659 2.3: "whatever precision is
    /// appropriate"); those past the ninth are checked and dropped.
    #[must_use]
    pub fn parse_time_val(b: &[u8]) -> Option<Self> {
        let main = b.first_chunk::<14>()?;
        let nanos = match b.get(14) {
            None => 0,
            Some(b'.') => {
                let f = &b[15..];
                let (kept, rest) = f.split_at(f.len().min(9));
                if !rest.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let v = digits(kept)?;
                let scale = 10u32.pow(9 - u32::try_from(kept.len()).ok()?);
                v * scale
            }
            Some(_) => return None,
        };
        // The 14 digits checked as two overlapping words.
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&main[at..at + 8]);
            u64::from_le_bytes(w)
        };
        if !all_digits(word(0)) || !all_digits(word(6)) {
            return None;
        }
        let d = |i: usize| main[i] - b'0';
        let two = |i: usize| d(i) * 10 + d(i + 1);
        let t = Timestamp {
            year: u16::from(two(0)) * 100 + u16::from(two(2)),
            month: two(4),
            day: two(6),
            hour: two(8),
            minute: two(10),
            second: two(12),
            nanos,
        };
        t.is_valid().then_some(t)
    }

    /// Writes RFC 3659 `time-val`; the fraction only when `nanos` is not zero,
    /// with trailing zeros dropped.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Invalid`] when the time is invalid or its year is not
    /// from 1000 to 9999 ([`Timestamp::fits_time_val`]; RFC 3659 2.3: four
    /// digits, "with a range of 1000--9999"). Nothing is written then.
    pub fn write_time_val(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        if !self.fits_time_val() {
            return Err(EncodeError::Invalid(
                "time-val needs a valid time with a year 1000 to 9999",
            ));
        }
        let mut b = [0u8; 24];
        let n = self.time_val_bytes(&mut b);
        out.extend_from_slice(&b[..n]);
        Ok(())
    }

    pub(crate) fn time_val_bytes(&self, b: &mut [u8; 24]) -> usize {
        put_num(&mut b[0..4], u32::from(self.year));
        put_num(&mut b[4..6], u32::from(self.month));
        put_num(&mut b[6..8], u32::from(self.day));
        put_num(&mut b[8..10], u32::from(self.hour));
        put_num(&mut b[10..12], u32::from(self.minute));
        put_num(&mut b[12..14], u32::from(self.second));
        if self.nanos == 0 {
            return 14;
        }
        b[14] = b'.';
        put_num(&mut b[15..24], self.nanos % 1_000_000_000);
        let mut end = 24;
        while end > 16 && b[end - 1] == b'0' {
            end -= 1;
        }
        end
    }

    /// Seconds since 1970-01-01T00:00:00 UTC (negative before).
    #[must_use]
    pub fn unix_seconds(&self) -> i64 {
        let days = days_from_civil(i64::from(self.year), i64::from(self.month), i64::from(self.day));
        days * 86_400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second)
    }

    /// The timestamp for a number of seconds since the Unix epoch (UTC).
    #[must_use]
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        Some(Timestamp {
            year: u16::try_from(y).ok()?,
            month: u8::try_from(m).ok()?,
            day: u8::try_from(d).ok()?,
            hour: u8::try_from(rem / 3600).ok()?,
            minute: u8::try_from(rem % 3600 / 60).ok()?,
            second: u8::try_from(rem % 60).ok()?,
            nanos: 0,
        })
    }
}

pub(crate) fn put_num(dst: &mut [u8], mut v: u32) {
    for slot in dst.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

pub(crate) fn is_leap(y: u16) -> bool {
    proto_core::civil::is_leap_year(i64::from(y))
}

pub(crate) fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_val_round_trip() {
        let t = Timestamp::parse_time_val(b"19980615100045.014").unwrap();
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (1998, 6, 15, 10, 0, 45)
        );
        assert_eq!(t.nanos, 14_000_000);
        let mut b = BytesMut::new();
        t.write_time_val(&mut b).unwrap();
        assert_eq!(&b[..], b"19980615100045.014");
        assert!(Timestamp::parse_time_val(b"19981315100045").is_none());
        assert!(Timestamp::parse_time_val(b"1998061510004").is_none());
        assert!(Timestamp::parse_time_val(b"19980230100045").is_none());
    }

    #[test]
    fn time_val_matches_a_plain_parser() {
        // The plain reading: 14 digits, optional "." and 1 or more digits,
        // of which the first nine count.
        let plain = |b: &[u8]| -> Option<Timestamp> {
            let (main, frac) = match b.iter().position(|&c| c == b'.') {
                Some(i) => (&b[..i], Some(&b[i + 1..])),
                None => (b, None),
            };
            if main.len() != 14 || !main.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let n =
                |r: std::ops::Range<usize>| main[r].iter().fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
            let nanos = match frac {
                None => 0,
                Some(f) if !f.is_empty() && f.iter().all(u8::is_ascii_digit) => {
                    let f = &f[..f.len().min(9)];
                    f.iter().fold(0u32, |v, &c| v * 10 + u32::from(c - b'0')) * 10u32.pow(9 - f.len() as u32)
                }
                Some(_) => return None,
            };
            let t = Timestamp {
                year: u16::try_from(n(0..4)).ok()?,
                month: u8::try_from(n(4..6)).ok()?,
                day: u8::try_from(n(6..8)).ok()?,
                hour: u8::try_from(n(8..10)).ok()?,
                minute: u8::try_from(n(10..12)).ok()?,
                second: u8::try_from(n(12..14)).ok()?,
                nanos,
            };
            t.is_valid().then_some(t)
        };
        let base = *b"20240229235960.12345678901";
        for len in 0..=base.len() + 1 {
            for pos in 0..len.max(1) {
                for b in [b'0', b'9', b'/', b':', b'.', b' ', 0x00, 0xb0, 0xfa, 0xff] {
                    let mut s: Vec<u8> = base.iter().copied().chain(*b"0").take(len).collect();
                    if pos < s.len() {
                        s[pos] = b;
                    }
                    assert_eq!(
                        Timestamp::parse_time_val(&s),
                        plain(&s),
                        "{:?}",
                        String::from_utf8_lossy(&s)
                    );
                }
            }
        }
        assert!(Timestamp::parse_time_val(b"20240229235960").is_some());
        assert!(Timestamp::parse_time_val(b"20230229000000").is_none());
    }

    #[test]
    fn unix_seconds_round_trip() {
        let t = Timestamp::new(2024, 2, 29, 23, 59, 59).unwrap();
        assert_eq!(t.unix_seconds(), 1_709_251_199);
        assert_eq!(Timestamp::from_unix_seconds(1_709_251_199), Some(t));
        assert_eq!(Timestamp::from_unix_seconds(0).unwrap().year, 1970);
    }
}
