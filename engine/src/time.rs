//! Event time: UTC timestamps, the whole minutes the engine counts in, and the UTC days that
//! baseline windows are aligned to.
//!
//! CloudTrail writes `eventTime` as `YYYY-MM-DDTHH:MM:SSZ`. That layout is parsed by a fixed-position
//! fast path; every other RFC 3339 form (fractional seconds, numeric offsets, lower-case `t`/`z`,
//! a space instead of `T`) goes through `chrono`. Times outside [`Timestamp::MIN_SUPPORTED`,
//! [`Timestamp::MAX_SUPPORTED`]) are rejected: they are corrupt data, and accepting them would let
//! one bad record move a partition's clock by centuries.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Minutes in one UTC day.
pub const MINUTES_PER_DAY: i64 = 1440;

/// Minutes in a week: the baseline window, and the most any lateness or horizon may be.
pub const MINUTES_PER_WEEK: i64 = 7 * MINUTES_PER_DAY;

/// A UTC instant with one-second resolution, as seconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

/// A whole UTC minute, as minutes since the Unix epoch. Insights count events per `Minute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Minute(pub i64);

/// A UTC calendar day, as days since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Day(pub i64);

/// Why an `eventTime` value was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Not an ISO 8601 / RFC 3339 date-time.
    #[error("not an ISO 8601 date-time")]
    Malformed,
    /// A valid date-time, but outside the range the engine accepts.
    #[error("outside the supported range 2000-01-01T00:00:00Z .. 2200-01-01T00:00:00Z")]
    OutOfRange,
}

impl Timestamp {
    /// 2000-01-01T00:00:00Z, the earliest accepted event time (CloudTrail started in 2013).
    pub const MIN_SUPPORTED: Timestamp = Timestamp(946_684_800);
    /// 2200-01-01T00:00:00Z, the first instant no longer accepted.
    pub const MAX_SUPPORTED: Timestamp = Timestamp(7_258_118_400);

    /// Parses an `eventTime` value.
    ///
    /// ```
    /// use trailsight_engine::time::{Minute, Timestamp};
    /// let t = Timestamp::parse("2020-07-21T20:56:12Z").unwrap();
    /// assert_eq!(t.minute().to_string(), "2020-07-21T20:56:00Z");
    /// assert_eq!(Timestamp::parse("2020-07-21T22:56:12.5+02:00"), Ok(t));
    /// ```
    pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
        let seconds = match parse_fixed_layout(text.as_bytes()) {
            Some(seconds) => seconds,
            None => parse_other_layouts(text)?,
        };
        let ts = Timestamp(seconds);
        if ts < Self::MIN_SUPPORTED || ts >= Self::MAX_SUPPORTED {
            return Err(TimeError::OutOfRange);
        }
        Ok(ts)
    }

    /// The minute this instant falls in.
    pub fn minute(self) -> Minute {
        Minute(self.0.div_euclid(60))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (date, second_of_day) = (Day(self.0.div_euclid(86_400)), self.0.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(date.0);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )
    }
}

impl Minute {
    /// The UTC day this minute falls in.
    pub fn day(self) -> Day {
        Day(self.0.div_euclid(MINUTES_PER_DAY))
    }

    /// Minutes since 00:00 UTC of this minute's day, in `0..1440`.
    pub fn minute_of_day(self) -> i64 {
        self.0.rem_euclid(MINUTES_PER_DAY)
    }

    /// The first second of this minute.
    pub fn timestamp(self) -> Timestamp {
        Timestamp(self.0 * 60)
    }

    /// This minute moved by `minutes` (which may be negative).
    pub fn plus(self, minutes: i64) -> Minute {
        Minute(self.0 + minutes)
    }

    /// Whole minutes from `earlier` to `self`.
    pub fn minutes_since(self, earlier: Minute) -> i64 {
        self.0 - earlier.0
    }
}

impl fmt::Display for Minute {
    /// Formats as CloudTrail writes Insights `eventTime`: `YYYY-MM-DDTHH:MM:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.timestamp().fmt(f)
    }
}

impl Day {
    /// 00:00 UTC of this day.
    pub fn first_minute(self) -> Minute {
        Minute(self.0 * MINUTES_PER_DAY)
    }

    /// This day moved by `days` (which may be negative).
    pub fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// The (year, month, day) of this day in the proleptic Gregorian calendar.
    pub fn civil(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, CloudTrail's own layout, without any allocation or library call.
fn parse_fixed_layout(b: &[u8]) -> Option<i64> {
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month as u32) {
        return None;
    }
    // Leap seconds (":60") are left to the general parser.
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

fn parse_other_layouts(text: &str) -> Result<i64, TimeError> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    // Exports from SQL engines drop the zone or use a space; CloudTrail times are always UTC.
    const NAIVE: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.fZ",
        "%Y-%m-%d %H:%M:%S%.f UTC",
    ];
    NAIVE
        .iter()
        .find_map(|layout| chrono::NaiveDateTime::parse_from_str(text, layout).ok())
        .map(|t| t.and_utc().timestamp())
        .ok_or(TimeError::Malformed)
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_chrono_on_many_dates() {
        let mut seconds = Timestamp::MIN_SUPPORTED.0;
        while seconds < Timestamp::MAX_SUPPORTED.0 {
            let text = Timestamp(seconds).to_string();
            let expected = chrono::DateTime::parse_from_rfc3339(&text)
                .unwrap()
                .timestamp();
            assert_eq!(
                parse_fixed_layout(text.as_bytes()),
                Some(expected),
                "{text}"
            );
            seconds += 86_400 * 37 + 3_607;
        }
    }

    #[test]
    fn seed_example_minute() {
        let t = Timestamp::parse("2020-07-21T20:56:00Z").unwrap();
        assert_eq!(t.minute().minute_of_day(), 20 * 60 + 56);
        assert_eq!(t.minute().day().civil(), (2020, 7, 21));
        assert_eq!(
            t.minute().day().plus(-7).first_minute().to_string(),
            "2020-07-14T00:00:00Z"
        );
    }

    #[test]
    fn odd_but_valid_layouts() {
        let expected = Timestamp::parse("2023-07-10T11:42:18Z").unwrap();
        for text in [
            "2023-07-10T11:42:18.000Z",
            "2023-07-10t11:42:18z",
            "2023-07-10T13:42:18+02:00",
            "2023-07-10 11:42:18",
            "2023-07-10T11:42:18",
            "2023-07-10 11:42:18.123 UTC",
            " 2023-07-10T11:42:18Z ",
        ] {
            assert_eq!(Timestamp::parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        for text in [
            "",
            "yesterday",
            "2023-02-30T00:00:00Z",
            "2023-07-10T24:00:00Z",
            "2023-07-10",
        ] {
            assert_eq!(Timestamp::parse(text), Err(TimeError::Malformed), "{text}");
        }
        for text in [
            "1999-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z",
            "9999-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(text), Err(TimeError::OutOfRange), "{text}");
        }
    }

    #[test]
    fn negative_modular_arithmetic_is_floor_based() {
        assert_eq!(Minute(-1).day(), Day(-1));
        assert_eq!(Minute(-1).minute_of_day(), 1439);
    }
}
