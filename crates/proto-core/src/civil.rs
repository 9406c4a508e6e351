//! Calendar arithmetic shared by every crate that reads or writes dates (RFC
//! 5322 Date headers, FTP MDTM/MFMT and listings, IMAP INTERNALDATE): days
//! since the Unix epoch to and from proleptic Gregorian dates, with no clock
//! and no time-zone database.

/// Days since 1970-01-01 of the date `year`-`month`-`day` (month 1..=12).
///
/// Exact for any year an `i64` day count can hold; out-of-range months or days
/// are not checked here (callers validate what they parse). A date whose day
/// count does not fit an `i64` gives `i64::MIN` or `i64::MAX`, never a panic.
///
/// ```
/// assert_eq!(proto_core::civil::days_from_civil(1970, 1, 1), 0);
/// assert_eq!(proto_core::civil::days_from_civil(2000, 3, 1), 11_017);
/// assert_eq!(proto_core::civil::days_from_civil(i64::MAX, 1, 1), i64::MAX);
/// ```
#[must_use]
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // The common case in i64 with every step checked; only a value near the
    // ends of i64 takes the (slower) i128 path, which saturates.
    let fast = || {
        let y = if month <= 2 { year.checked_sub(1)? } else { year };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = month.checked_add(9)? % 12;
        let doy = ((153 * mp + 2) / 5).checked_add(day)?.checked_sub(1)?;
        let doe = (yoe * 365 + yoe / 4 - yoe / 100).checked_add(doy)?;
        era.checked_mul(146_097)?.checked_add(doe)?.checked_sub(719_468)
    };
    fast().unwrap_or_else(|| {
        let (year, month, day) = (i128::from(year), i128::from(month), i128::from(day));
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        i64::try_from(days).unwrap_or(if days < 0 { i64::MIN } else { i64::MAX })
    })
}

/// The date (year, month 1..=12, day 1..=31) of a day count since 1970-01-01.
///
/// ```
/// assert_eq!(proto_core::civil::civil_from_days(0), (1970, 1, 1));
/// assert_eq!(proto_core::civil::civil_from_days(-1), (1969, 12, 31));
/// ```
///
/// Every `i64` is a valid day count.
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // Days since 0000-03-01 are `days + 719_468`, which overflows at the top
    // of i64: split the count into eras (146,097 days, 400 years) first.
    let shifted = days.rem_euclid(146_097) + 719_468;
    let era = days.div_euclid(146_097) + shifted / 146_097;
    let doe = shifted % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day of the week of a day count since 1970-01-01: 0 = Sunday .. 6 = Saturday.
///
/// ```
/// assert_eq!(proto_core::civil::weekday(0), 4); // 1970-01-01 was a Thursday
/// ```
#[must_use]
pub fn weekday(days: i64) -> i64 {
    (days.rem_euclid(7) + 4) % 7
}

/// Whether `year` is a leap year in the proleptic Gregorian calendar.
#[must_use]
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1..=12) of `year`; 0 for an invalid month.
#[must_use]
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_over_many_years() {
        let mut expect_day = days_from_civil(1600, 1, 1);
        for year in 1600..2500 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    let d = days_from_civil(year, month, day);
                    assert_eq!(d, expect_day, "{year}-{month}-{day}");
                    assert_eq!(civil_from_days(d), (year, month, day));
                    expect_day += 1;
                }
            }
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(2026, 11, 22), 20_779);
        assert_eq!(weekday(days_from_civil(2026, 11, 22)), 0); // a Sunday
        assert!(is_leap_year(2000) && !is_leap_year(1900) && is_leap_year(2024));
    }
}
