//! Timestamps as close-lake handles them: microseconds since the Unix epoch, in UTC.
//!
//! Close sends three shapes (`2021-07-13T11:39:05.012000+00:00`, the same without fractional seconds,
//! and the event log's naive `2023-04-07T10:01:14.670000`, which is UTC); filters are sent back in the
//! first shape. Keeping keys as `i64` micros makes comparisons, windows and Parquet values one type.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

pub const MICROS_PER_MILLI: i64 = 1_000;
pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SECOND;
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// Parses any timestamp shape Close sends. Naive values are UTC. Returns `None` for anything else.
pub fn parse_timestamp(s: &str) -> Option<Micros> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_micros());
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()?;
    Some(naive.and_utc().timestamp_micros())
}

/// Parses a date-only value (`2022-11-12`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Days since the Unix epoch, as Arrow's `Date32` stores dates.
pub fn date_to_days(date: NaiveDate) -> i32 {
    // Unix epoch day 0 is 1970-01-01, which chrono numbers 719_163 from the common era.
    date.num_days_from_ce() - 719_163
}

/// Midnight UTC of a date.
pub fn date_start(date: NaiveDate) -> Micros {
    date.and_hms_opt(0, 0, 0).map_or(0, |dt| dt.and_utc().timestamp_micros())
}

pub fn to_datetime(micros: Micros) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

/// The filter format Close documents: `2021-07-13T11:39:05.012000+00:00`.
pub fn format_filter(micros: Micros) -> String {
    to_datetime(micros).format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

/// RFC 3339 with microseconds and `Z`, for manifests, bookmarks and reports.
pub fn format_rfc3339(micros: Micros) -> String {
    to_datetime(micros).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// `YYYY-MM` of a timestamp in UTC: the value of a month partition.
pub fn month_of(micros: Micros) -> String {
    to_datetime(micros).format("%Y-%m").to_string()
}

pub fn now() -> Micros {
    Utc::now().timestamp_micros()
}

/// `t` rounded down to a whole multiple of `granule` (a millisecond, a minute): Close keeps
/// milliseconds and may truncate finer bounds, so every bound close-lake sends falls on one.
pub fn floor_to(t: Micros, granule: Micros) -> Micros {
    t.div_euclid(granule.max(1)) * granule.max(1)
}

/// Parses a duration such as `5m`, `0s`, `90s`, `2h`, `1d`.
pub fn parse_duration(s: &str) -> Option<Micros> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = s.split_at(split);
    let n: i64 = digits.parse().ok()?;
    let unit = match unit {
        "ms" => 1_000,
        "s" => MICROS_PER_SECOND,
        "m" => 60 * MICROS_PER_SECOND,
        "h" => MICROS_PER_HOUR,
        "d" => MICROS_PER_DAY,
        _ => return None,
    };
    n.checked_mul(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_close_shape() {
        let with_offset = parse_timestamp("2021-07-13T11:39:05.012000+00:00").unwrap();
        assert_eq!(parse_timestamp("2021-07-13T11:39:05.012000").unwrap(), with_offset);
        assert_eq!(parse_timestamp("2021-07-13T13:39:05.012+02:00").unwrap(), with_offset);
        assert_eq!(parse_timestamp("2021-09-17T21:29:12+00:00").unwrap() % MICROS_PER_SECOND, 0);
        assert_eq!(parse_timestamp("2022-11-12"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn formats_round_trip() {
        let t = parse_timestamp("2023-04-07T10:01:14.670000").unwrap();
        assert_eq!(format_filter(t), "2023-04-07T10:01:14.670000+00:00");
        assert_eq!(parse_timestamp(&format_rfc3339(t)), Some(t));
        assert_eq!(month_of(t), "2023-04");
    }

    #[test]
    fn dates_count_from_the_epoch() {
        assert_eq!(date_to_days(parse_date("1970-01-02").unwrap()), 1);
        assert_eq!(date_to_days(parse_date("2022-11-12").unwrap()), 19_308);
    }

    #[test]
    fn bounds_fall_on_whole_granules() {
        let t = parse_timestamp("2024-05-01T10:05:30.123456Z").unwrap();
        assert_eq!(format_filter(floor_to(t, MICROS_PER_MILLI)), "2024-05-01T10:05:30.123000+00:00");
        assert_eq!(format_filter(floor_to(t, MICROS_PER_MINUTE)), "2024-05-01T10:05:00.000000+00:00");
        assert_eq!(floor_to(-1, MICROS_PER_MILLI), -1_000, "before the epoch too");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Some(300 * MICROS_PER_SECOND));
        assert_eq!(parse_duration("0s"), Some(0));
        assert_eq!(parse_duration("1d"), Some(MICROS_PER_DAY));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("m"), None);
    }
}
