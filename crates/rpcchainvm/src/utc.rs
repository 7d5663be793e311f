//! Times as RFC 3339 UTC text: Unix seconds for `stampvm verify-proof`'s verdict line, and a
//! `SystemTime` to the nanosecond, as Go's `time.Time` marshals into JSON, for the dev node's
//! `/ext/health`. No date crate is in the tree and one is not worth adding for this: the
//! calendar date of a day count is a dozen lines (Howard Hinnant's `civil_from_days`, proleptic
//! Gregorian, exact for every `i64`).

use std::time::{SystemTime, UNIX_EPOCH};

const SECS_PER_DAY: i64 = 86_400;

/// `YYYY-MM-DDThh:mm:ssZ`. Years before 0 or after 9999, which RFC 3339 cannot write, come
/// out with a sign or more digits rather than wrong.
pub fn rfc3339(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(SECS_PER_DAY));
    let secs = unix.rem_euclid(SECS_PER_DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Go's `time.RFC3339Nano` in UTC, as `encoding/json` writes a `time.Time`: the fraction of
/// the second with its trailing zeros dropped, none at all on a whole second
/// (`2024-05-01T10:00:00.12Z`, `2024-05-01T10:00:00Z`). Times before 1970 are not expected.
pub fn rfc3339_nanos(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let whole = rfc3339(secs);
    let nanos = since.subsec_nanos();
    if nanos == 0 {
        return whole;
    }
    let fraction = format!("{nanos:09}");
    let fraction = fraction.trim_end_matches('0');
    format!("{}.{fraction}Z", whole.trim_end_matches('Z'))
}

/// `(year, month 1-12, day 1-31)` of the day `days` after 1970-01-01. Counts in 400-year eras
/// (146,097 days each) of years starting on March 1st, so the leap day is each year's last.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    //! Known instants, then every day of 1900-2100 against a day-by-day walk of the calendar.

    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(1_795_258_433), "2026-11-21T10:53:53Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(-62_135_596_800), "0001-01-01T00:00:00Z");
        // The extremes do not overflow.
        assert!(rfc3339(i64::MIN).ends_with('Z'));
        assert!(rfc3339(i64::MAX).ends_with('Z'));
    }

    #[test]
    fn nanoseconds_as_go_writes_them() {
        use std::time::Duration;
        let at = |secs, nanos| UNIX_EPOCH + Duration::new(secs, nanos);
        assert_eq!(rfc3339_nanos(at(1_700_000_000, 0)), "2023-11-14T22:13:20Z");
        assert_eq!(
            rfc3339_nanos(at(1_700_000_000, 120_000_000)),
            "2023-11-14T22:13:20.12Z"
        );
        assert_eq!(
            rfc3339_nanos(at(1_700_000_000, 1)),
            "2023-11-14T22:13:20.000000001Z"
        );
        assert_eq!(rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn every_day_from_1900_to_2100() {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_len = |y: i64, m: u32| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let (mut date, mut days) = ((1900, 1, 1), -25_567); // 1900-01-01
        while date.0 <= 2100 {
            assert_eq!(civil_from_days(days), date, "day {days}");
            let (y, m, d) = date;
            date = match (d == month_len(y, m), m) {
                (false, _) => (y, m, d + 1),
                (true, 12) => (y + 1, 1, 1),
                (true, _) => (y, m + 1, 1),
            };
            days += 1;
        }
    }
}
