//! The Date field (RFC 5322 section 3.3 and the obsolete forms of section 4.3).

use crate::header::{Cursor, unfold};
use proto_core::civil::{civil_from_days, days_from_civil};

/// A parsed date-time with its zone offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Four-digit year (two- and three-digit years are mapped per RFC 5322 4.3).
    pub year: i32,
    /// 1..=12
    pub month: u8,
    /// 1..=31
    pub day: u8,
    /// 0..=23
    pub hour: u8,
    /// 0..=59
    pub minute: u8,
    /// 0..=60 (leap second)
    pub second: u8,
    /// Offset from UTC in minutes (obsolete military zones give 0).
    pub offset_minutes: i16,
    /// The zone was `-0000`: the time is given in UTC but "contains no information
    /// about the local time zone" (RFC 5322 section 3.3), unlike `+0000`, `UT` or
    /// `GMT`. [`DateTime::parse`] sets it for the zones RFC 5322 section 4.3 reads
    /// as `-0000` too (military letters, an unknown zone name) and for a missing or
    /// malformed zone, all with `offset_minutes` 0; [`DateTime::to_rfc5322`] then
    /// writes `-0000`. Meaningful only with `offset_minutes` 0 (with another
    /// offset it is ignored by `to_rfc5322`, and [`crate::MessageBuilder`] refuses
    /// such a date).
    pub zone_unknown: bool,
}

/// Why [`DateTime::parse_strict`] refused a Date value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// Not a date-time at all (the cases where [`DateTime::parse`] gives `None`).
    #[error("not an RFC 5322 date-time")]
    Invalid,
    /// A day-of-week is written but it is no `day-name` (`Mon` ... `Sun`, RFC 5322
    /// section 3.3); the date itself was readable and is kept.
    #[error("the day-of-week is not a day name")]
    UnknownDayOfWeek {
        /// The date as [`DateTime::parse`] reads it.
        date: DateTime,
    },
    /// The day-of-week is not the one the date implies (RFC 5322 section 3.3: "the
    /// day-of-week (if included) MUST be the day implied by the date"); the date
    /// itself is kept.
    #[error("the day-of-week is not {}, the day of the date", .date.day_of_week())]
    WrongDayOfWeek {
        /// The date as [`DateTime::parse`] reads it.
        date: DateTime,
    },
    /// No zone, or one that is neither a sign and four digits, such as `+05`, nor
    /// an obs-zone name, such as `CEST` (RFC 5322 section 3.3: `zone = (FWS ( "+"
    /// / "-" ) 4DIGIT) / obs-zone`). [`DateTime::parse`] reads such a zone as
    /// -0000, "no information about the local time zone" (section 3.3), since the
    /// digits do not say whether they count hours or minutes; that date is kept
    /// here.
    #[error("the zone is missing or not a sign and four digits")]
    InvalidZone {
        /// The date as [`DateTime::parse`] reads it (zone offset 0).
        date: DateTime,
    },
    /// Readable, but outside the grammar of RFC 5322 sections 3.3 and 4.3 (which
    /// has the obsolete forms): a day-of-week without its `,`, a day or year
    /// that is not plain digits (`1*2DIGIT`; `4*DIGIT` or `obs-year = 2*DIGIT`), a
    /// month that is not the three-letter name, an hour, minute or second of
    /// one digit (`2DIGIT`), or anything but comments and white space after the
    /// zone. The date as [`DateTime::parse`] reads it is kept.
    #[error("not of the RFC 5322 date-time grammar")]
    Malformed {
        /// The date as [`DateTime::parse`] reads it.
        date: DateTime,
    },
}

/// Day names in the order of `days_from_civil(..).rem_euclid(7)` (day 0 of the
/// epoch, 1970-01-01, was a Thursday).
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

impl DateTime {
    /// Seconds since the Unix epoch (UTC).
    #[must_use]
    pub fn unix_time(&self) -> i64 {
        let days = days_from_civil(i64::from(self.year), i64::from(self.month), i64::from(self.day));
        days * 86_400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }

    /// The date-time at `unix` seconds, shown in zone `offset_minutes`.
    #[must_use]
    pub fn from_unix(unix: i64, offset_minutes: i16) -> Self {
        // saturating: a time at the ends of i64 must not overflow (the date is
        // then merely far off)
        let local = unix.saturating_add(i64::from(offset_minutes) * 60);
        let (y, m, d) = civil_from_days(local.div_euclid(86_400));
        let secs = local.rem_euclid(86_400);
        DateTime {
            year: i32::try_from(y).unwrap_or(i32::MAX),
            month: u8::try_from(m).unwrap_or(1),
            day: u8::try_from(d).unwrap_or(1),
            hour: u8::try_from(secs / 3600).unwrap_or(0),
            minute: u8::try_from(secs / 60 % 60).unwrap_or(0),
            second: u8::try_from(secs % 60).unwrap_or(0),
            offset_minutes,
            zone_unknown: false,
        }
    }

    /// The day of the week the date falls on, as RFC 5322 section 3.3 writes it
    /// (`Mon` ... `Sun`; proleptic Gregorian calendar).
    #[must_use]
    pub fn day_of_week(&self) -> &'static str {
        let days = days_from_civil(i64::from(self.year), i64::from(self.month), i64::from(self.day));
        DAYS[days.rem_euclid(7) as usize]
    }

    /// RFC 5322 form, e.g. `Fri, 21 Nov 1997 09:55:06 -0600`; `-0000` for offset 0
    /// with [`DateTime::zone_unknown`].
    ///
    /// ```
    /// let d = mime::DateTime::parse(b"21 Nov 1997 09:55:06 -0000").unwrap();
    /// assert!(d.zone_unknown);
    /// assert_eq!(d.to_rfc5322(), "Fri, 21 Nov 1997 09:55:06 -0000");
    /// let d = mime::DateTime { zone_unknown: false, ..d };
    /// assert_eq!(d.to_rfc5322(), "Fri, 21 Nov 1997 09:55:06 +0000");
    /// ```
    #[must_use]
    pub fn to_rfc5322(&self) -> String {
        let dow = self.day_of_week();
        let mon = MONTHS[usize::from(self.month.clamp(1, 12)) - 1];
        let mon = format!("{}{}", mon[..1].to_ascii_uppercase(), &mon[1..]);
        let minus = self.offset_minutes < 0 || (self.offset_minutes == 0 && self.zone_unknown);
        let sign = if minus { '-' } else { '+' };
        let off = self.offset_minutes.unsigned_abs();
        format!(
            "{dow}, {} {mon} {:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
            self.day,
            self.year,
            self.hour,
            self.minute,
            self.second,
            off / 60,
            off % 60
        )
    }

    /// Parses a Date value. Accepts comments and folding anywhere, an optional
    /// day-of-week, two- and three-digit years, missing seconds, and the obsolete
    /// zones (UT, GMT, EST/EDT, CST/CDT, MST/MDT, PST/PDT, military letters). A
    /// missing zone is taken as -0000 ([`DateTime::zone_unknown`]).
    ///
    /// It is lenient about the day-of-week, as a reader of real mail must be: any
    /// word is skipped, and one that is not the day of the date (RFC 5322 section
    /// 3.3: it "MUST be the day implied by the date") does not lose the date, which
    /// is the part every reader uses. [`DateTime::parse_strict`] reports both.
    ///
    /// ```
    /// let d = mime::DateTime::parse(b"Thu,\r\n  13\r\n    Feb\r\n      1969\r\n  23:32\r\n           -0330 (Newfoundland Time)").unwrap();
    /// assert_eq!((d.year, d.month, d.day, d.hour, d.minute, d.offset_minutes), (1969, 2, 13, 23, 32, -210));
    /// assert_eq!(mime::DateTime::parse(b"21 Nov 97 09:55:06 GMT").unwrap().year, 1997);
    /// ```
    #[must_use]
    pub fn parse(value: &[u8]) -> Option<Self> {
        Self::parse_with_day(value).map(|(d, _, _)| d)
    }

    /// Parses a Date value as [`DateTime::parse`] does (the obsolete forms still
    /// read, as RFC 5322 section 4 asks of parsers) and checks its day-of-week: when
    /// one is written it must be a `day-name` and the day the date falls on (RFC 5322
    /// section 3.3). The zone must be a sign and exactly four digits or an obs-zone,
    /// and the rest must keep to the grammar of sections 3.3 and 4.3 (see
    /// [`DateError::Malformed`]). The errors other than [`DateError::Invalid`]
    /// carry the date, so a caller can still use it and flag the message.
    ///
    /// ```
    /// use mime::{DateError, DateTime};
    /// assert!(DateTime::parse_strict(b"Fri, 21 Nov 1997 09:55:06 -0600").is_ok());
    /// let e = DateTime::parse_strict(b"Mon, 21 Nov 1997 09:55:06 -0600").unwrap_err();
    /// let DateError::WrongDayOfWeek { date } = e else { panic!() };
    /// assert_eq!((date.day, date.day_of_week()), (21, "Fri"));
    /// assert_eq!(e.to_string(), "the day-of-week is not Fri, the day of the date");
    /// ```
    ///
    /// # Errors
    ///
    /// [`DateError::Invalid`] where [`DateTime::parse`] gives `None`, else (the
    /// first that applies) [`DateError::InvalidZone`], [`DateError::Malformed`],
    /// [`DateError::UnknownDayOfWeek`] or [`DateError::WrongDayOfWeek`].
    pub fn parse_strict(value: &[u8]) -> Result<Self, DateError> {
        let (date, day, Grammar { zone_ok, syntax_ok }) =
            Self::parse_with_day(value).ok_or(DateError::Invalid)?;
        if !zone_ok {
            return Err(DateError::InvalidZone { date });
        }
        if !syntax_ok {
            return Err(DateError::Malformed { date });
        }
        match day {
            None => Ok(date),
            Some(None) => Err(DateError::UnknownDayOfWeek { date }),
            Some(Some(d)) if d == date.day_of_week() => Ok(date),
            Some(Some(_)) => Err(DateError::WrongDayOfWeek { date }),
        }
    }

    /// The date, its day-of-week (`None` when none is written, `Some(None)` when
    /// the word written is no day name) and how well it keeps to the grammar.
    #[allow(clippy::option_option)]
    fn parse_with_day(value: &[u8]) -> Option<(Self, Option<Option<&'static str>>, Grammar)> {
        let value = unfold(value);
        let mut c = Cursor::new(&value);
        let all_digits = |w: &[u8], n: std::ops::RangeInclusive<usize>| {
            n.contains(&w.len()) && w.iter().all(u8::is_ascii_digit)
        };
        c.skip_cfws();
        let mut word = c.atom(false)?;
        let mut dow = None;
        let mut syntax_ok = true;
        if word.first()?.is_ascii_alphabetic() {
            // day-of-week
            dow = Some(
                DAYS.iter()
                    .copied()
                    .find(|d| word.eq_ignore_ascii_case(d.as_bytes())),
            );
            c.skip_cfws();
            syntax_ok &= c.eat(b',');
            c.skip_cfws();
            word = c.atom(false)?;
        }
        syntax_ok &= all_digits(word, 1..=2);
        let day: u8 = std::str::from_utf8(word).ok()?.parse().ok()?;
        c.skip_cfws();
        let mon = std::str::from_utf8(c.atom(false)?).ok()?.as_bytes();
        let month = MONTHS.iter().position(|m| {
            mon.get(..m.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(m.as_bytes()))
        })? as u8
            + 1;
        syntax_ok &= mon.len() == 3;
        c.skip_cfws();
        let ytext = std::str::from_utf8(c.atom(false)?).ok()?;
        syntax_ok &= all_digits(ytext.as_bytes(), 2..=usize::MAX);
        let mut year: i32 = ytext.parse().ok()?;
        if ytext.len() == 2 {
            year += if year < 50 { 2000 } else { 1900 };
        } else if ytext.len() == 3 {
            year += 1900;
        }
        c.skip_cfws();
        let mut nums = [0u8; 3];
        for (k, n) in nums.iter_mut().enumerate() {
            if k > 0 {
                c.skip_cfws();
                if !c.eat(b':') {
                    break;
                }
                c.skip_cfws();
            }
            let mut v: u32 = 0;
            let mut digits = 0;
            while let Some(d @ b'0'..=b'9') = c.peek() {
                v = v * 10 + u32::from(d - b'0');
                digits += 1;
                c.bump();
                if digits > 2 {
                    return None;
                }
            }
            if digits == 0 {
                return None;
            }
            syntax_ok &= digits == 2;
            *n = v as u8;
        }
        c.skip_cfws();
        let Zone {
            offset_minutes,
            ok: zone_ok,
            unknown: zone_unknown,
        } = zone(&mut c)?;
        // date-time ends with [CFWS]
        c.skip_cfws();
        syntax_ok &= c.is_empty();
        let dt = DateTime {
            year,
            month,
            day,
            hour: nums[0],
            minute: nums[1],
            second: nums[2],
            offset_minutes,
            zone_unknown,
        };
        // RFC 5322 section 3.3: "A date-time specification MUST be semantically valid"
        (day >= 1 && day <= days_in_month(year, month) && dt.hour < 24 && dt.minute < 60 && dt.second <= 60)
            .then_some((dt, dow, Grammar { zone_ok, syntax_ok }))
    }
}

/// How a readable date keeps to the RFC 5322 grammar (obsolete forms included).
struct Grammar {
    /// A zone of the grammar: a sign and four digits, or an obs-zone name.
    zone_ok: bool,
    /// Everything else (see [`DateError::Malformed`]).
    syntax_ok: bool,
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A zone as read.
struct Zone {
    /// Offset from UTC in minutes.
    offset_minutes: i16,
    /// A zone of the grammar (a sign and four digits, or an obs-zone name).
    ok: bool,
    /// Read as `-0000` ([`DateTime::zone_unknown`]).
    unknown: bool,
}

/// The zone; `None` when the minutes of a numeric zone are beyond 59 (RFC 5322
/// section 3.3).
///
/// A numeric zone must be exactly four digits (`zone = (FWS ( "+" / "-" ) 4DIGIT)
/// / obs-zone`). With fewer or more the digits could be hours or minutes, so the
/// offset is taken as -0000 (no information) and the zone reported as malformed;
/// so is a missing zone, or a name that is no obs-zone (such as `CEST`, which RFC
/// 5322 section 4.3 says to read as -0000). The military letters are obs-zones,
/// read as -0000 too (section 4.3: RFC 822 gave their signs the wrong way round).
fn zone(c: &mut Cursor<'_>) -> Option<Zone> {
    // -0000, "no information about the local time zone"
    let unknown = Zone {
        offset_minutes: 0,
        ok: false,
        unknown: true,
    };
    match c.peek() {
        Some(s @ (b'+' | b'-')) => {
            c.bump();
            let mut v: i16 = 0;
            let mut digits = 0;
            while let Some(d @ b'0'..=b'9') = c.peek() {
                c.bump();
                digits += 1;
                if digits <= 4 {
                    v = v * 10 + i16::from(d - b'0');
                }
            }
            if digits != 4 {
                return Some(unknown);
            }
            if v % 100 > 59 {
                return None;
            }
            let m = (v / 100) * 60 + v % 100;
            Some(Zone {
                offset_minutes: if s == b'-' { -m } else { m },
                ok: true,
                unknown: s == b'-' && m == 0,
            })
        }
        _ => {
            let z = c.atom(false).unwrap_or_default();
            let is = |name: &str| z.eq_ignore_ascii_case(name.as_bytes());
            let offset = if is("UT") || is("GMT") {
                0
            } else if is("EDT") {
                -4 * 60
            } else if is("EST") || is("CDT") {
                -5 * 60
            } else if is("CST") || is("MDT") {
                -6 * 60
            } else if is("MST") || is("PDT") {
                -7 * 60
            } else if is("PST") {
                -8 * 60
            } else {
                // obs-zone: one military letter but J (RFC 5322 4.3: treat as
                // -0000); any other name or none is no obs-zone
                let military = matches!(z, [l] if l.is_ascii_alphabetic() && !l.eq_ignore_ascii_case(&b'j'));
                return Some(Zone {
                    ok: military,
                    ..unknown
                });
            };
            Some(Zone {
                offset_minutes: offset,
                ok: true,
                unknown: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5322_examples_and_obsolete() {
        let d = DateTime::parse(b"Fri, 21 Nov 1997 09:55:06 -0600").unwrap();
        assert_eq!(d.to_rfc5322(), "Fri, 21 Nov 1997 09:55:06 -0600");
        assert_eq!(d.unix_time(), 880_127_706);
        let d = DateTime::parse(b"21 Nov 97 09:55:06 GMT").unwrap();
        assert_eq!((d.year, d.offset_minutes), (1997, 0));
        let d = DateTime::parse(b"Mon, 1 Jan 04 1:02 EST").unwrap();
        assert_eq!(
            (d.year, d.hour, d.minute, d.second, d.offset_minutes),
            (2004, 1, 2, 0, -300)
        );
        let d = DateTime::parse(b"1 Jan 104 00:00:00 PDT").unwrap();
        assert_eq!((d.year, d.offset_minutes), (2004, -420));
        assert!(DateTime::parse(b"yesterday").is_none());
        assert!(DateTime::parse(b"32 Jan 2000 00:00").is_none());
    }

    #[test]
    fn unix_roundtrip() {
        for t in [0i64, 951_782_400, 4_102_444_799, -86_401] {
            let d = DateTime::from_unix(t, 90);
            assert_eq!(d.unix_time(), t);
            assert_eq!(DateTime::parse(d.to_rfc5322().as_bytes()), Some(d));
        }
    }
}
