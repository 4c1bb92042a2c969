//! Close's timestamp formats: records carry `2021-07-13T11:39:05.012000+00:00` (or without fraction when the
//! microseconds are zero), event-log records carry naive UTC `2023-04-07T10:01:14.670000`, and date-only fields
//! carry `2022-11-12`. Also parses the date filters clients send (offset, naive = UTC, or date-only = midnight),
//! and formats the HTTP `Date` header.
//!
//! Internally every timestamp is an `i64` of microseconds since the Unix epoch.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Microseconds since the Unix epoch.
pub type Micros = i64;

/// Formats a record timestamp the way Close does (`+00:00`, microseconds unless they are all zero).
pub fn close_ts(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

/// Formats an event-log timestamp: naive UTC, always six fractional digits.
pub fn naive_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Formats a date-only value.
pub fn date_only(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// An HTTP `Date` header value (IMF-fixdate): `Wed, 02 Dec 2026 04:36:05 GMT`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses any timestamp Close emits or accepts: RFC 3339 with offset or `Z`, naive (taken as UTC), or a date
/// (midnight UTC). A space may separate date and time.
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
}

/// [`parse_ts`] as microseconds.
pub fn parse_micros(s: &str) -> Option<Micros> {
    parse_ts(s).map(|t| t.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_close() {
        let t = parse_ts("2021-07-13T11:39:05.012000+00:00").expect("parses");
        assert_eq!(close_ts(t), "2021-07-13T11:39:05.012000+00:00");
        assert_eq!(naive_ts(t), "2021-07-13T11:39:05.012000");
        let whole = parse_ts("2021-09-17T21:29:12+00:00").expect("parses");
        assert_eq!(close_ts(whole), "2021-09-17T21:29:12+00:00");
        assert_eq!(date_only(whole), "2021-09-17");
        assert_eq!(http_date(whole), "Fri, 17 Sep 2021 21:29:12 GMT");
    }

    #[test]
    fn parses_every_filter_form() {
        let a = parse_micros("2024-01-01T02:00:00+02:00");
        assert_eq!(a, parse_micros("2024-01-01T00:00:00"));
        assert_eq!(a, parse_micros("2024-01-01"));
        assert_eq!(a, parse_micros("2024-01-01T00:00:00Z"));
        assert_eq!(a, parse_micros("2024-01-01 00:00:00.000000"));
        assert!(parse_ts("yesterday").is_none());
    }
}
