//! Event time: [`EventTime`], and reading and writing the timestamps found in logs.
//!
//! Every time logwarden computes with (window spans, episodes, the storm limiter's clock,
//! alert timestamps) is an [`EventTime`]: milliseconds since the Unix epoch, always within the
//! years 0000 to 9999. Every source converts through a checked constructor
//! ([`EventTime::from_millis`], [`EventTime::from_secs`], [`EventTime::parse_iso`] ...) that
//! returns `None` for a value outside that range, and arithmetic saturates at its ends, so no
//! input (Go's zero time `0001-01-01T00:00:00Z`, `i64::MAX`, a VPC Flow `start` of 1e17) can
//! make time arithmetic overflow or panic.
//!
//! **Which time a record is counted at.** A log event delivered by CloudWatch Logs carries the
//! timestamp CloudWatch stored with it; logwarden counts, throttles and dates the event at
//! that time ([`trusted_time`]). The record's own time (a JSON `timestamp`, CloudTrail
//! `eventTime`, a text line's prefix) is used only when the input carries no CloudWatch
//! timestamp (local text and JSON Lines files). A log line therefore cannot move its event out
//! of the window it arrived in by writing a time into its text; how far its own time lies from
//! its arrival is available to rules as the derived field [`LAG_FIELD`].

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Whether `s` starts like an ISO 8601 date-time (`YYYY-MM-DDTHH:MM`), cheaply.
pub fn looks_like_iso(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 16
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':'
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &d| {
        acc.checked_mul(10)?.checked_add((d - b'0') as u32)
    })
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fff|,fff][Z|±HH:MM|±HHMM]` (no zone means UTC) into epoch
/// milliseconds. `None` for anything else or an impossible date.
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 19 || !looks_like_iso(s.trim()) || b[16] != b':' {
        return None;
    }
    let year = num(&b[0..4])? as i32;
    let month = Month::try_from(num(&b[5..7])? as u8).ok()?;
    let day = num(&b[8..10])? as u8;
    let (h, m, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let mut i = 19;
    let mut millis = 0u32;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &b[start..i];
        if frac.is_empty() {
            return None;
        }
        let mut ms = 0;
        for k in 0..3 {
            ms = ms * 10 + frac.get(k).map_or(0, |d| (d - b'0') as u32);
        }
        millis = ms;
    }
    let offset_secs: i32 = match b.get(i) {
        None => 0,
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (oh, om) = match rest.len() {
                5 if rest[2] == b':' => (num(&rest[0..2])?, num(&rest[3..5])?),
                4 => (num(&rest[0..2])?, num(&rest[2..4])?),
                2 => (num(rest)?, 0),
                _ => return None,
            };
            let v = (oh * 3600 + om * 60) as i32;
            if sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_milli(h as u8, m as u8, sec.min(59) as u8, millis as u16).ok()?;
    let offset = UtcOffset::from_whole_seconds(offset_secs).ok()?;
    let dt = PrimitiveDateTime::new(date, time).assume_offset(offset);
    Some((dt.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Parses the CLF time `25/Nov/2026:10:00:00 +0000` into epoch milliseconds.
pub fn parse_clf_ms(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let day = num(&b[0..2])? as u8;
    let month = match &b[3..6] {
        b"Jan" => Month::January,
        b"Feb" => Month::February,
        b"Mar" => Month::March,
        b"Apr" => Month::April,
        b"May" => Month::May,
        b"Jun" => Month::June,
        b"Jul" => Month::July,
        b"Aug" => Month::August,
        b"Sep" => Month::September,
        b"Oct" => Month::October,
        b"Nov" => Month::November,
        b"Dec" => Month::December,
        _ => return None,
    };
    let year = num(&b[7..11])? as i32;
    let iso = format!(
        "{year:04}-{:02}-{day:02}T{}{}",
        month as u8,
        std::str::from_utf8(&b[12..20]).ok()?,
        std::str::from_utf8(b.get(20..)?)
            .ok()?
            .trim()
            .replace(' ', "")
    );
    parse_iso_ms(&iso)
}

/// Formats epoch milliseconds as RFC 3339 UTC with millisecond precision
/// (`2026-11-25T10:00:00.123Z`). Out-of-range values are clamped to the representable range.
pub fn format_rfc3339(ms: i64) -> String {
    let nanos = (ms as i128) * 1_000_000;
    let dt = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(if ms < 0 {
        time::macros::datetime!(-9999-01-01 0:00 UTC)
    } else {
        time::macros::datetime!(9999-12-31 23:59:59.999 UTC)
    });
    let (y, mo, d) = (dt.year(), dt.month() as u8, dt.day());
    let (h, mi, s, milli) = (dt.hour(), dt.minute(), dt.second(), dt.millisecond());
    if (0..=9999).contains(&y) {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
    } else {
        format!("{y:+05}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
    }
}

/// A point in event time: milliseconds since the Unix epoch, within
/// [`EventTime::MIN`]..=[`EventTime::MAX`] (years 0000 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(i64);

/// Derived field: the record's own time minus its CloudWatch timestamp, in whole seconds
/// (negative when the record claims to be older than its arrival). Present only when both
/// times are known.
pub const LAG_FIELD: &str = "logwarden.lag_seconds";

impl EventTime {
    /// `0000-01-01T00:00:00.000Z`.
    pub const MIN: EventTime = EventTime(-62_167_219_200_000);
    /// `9999-12-31T23:59:59.999Z`.
    pub const MAX: EventTime = EventTime(253_402_300_799_999);
    /// The Unix epoch.
    pub const EPOCH: EventTime = EventTime(0);

    /// Milliseconds since the epoch, if within range.
    pub fn from_millis(ms: i64) -> Option<Self> {
        (Self::MIN.0..=Self::MAX.0)
            .contains(&ms)
            .then_some(EventTime(ms))
    }

    /// Milliseconds since the epoch, clamped into range.
    pub fn clamped(ms: i64) -> Self {
        EventTime(ms.clamp(Self::MIN.0, Self::MAX.0))
    }

    /// Whole seconds since the epoch (VPC Flow `start`, epoch-second JSON fields), if the
    /// result is within range.
    pub fn from_secs(secs: i64) -> Option<Self> {
        Self::from_millis(secs.checked_mul(1000)?)
    }

    /// Seconds since the epoch with a fraction, if finite and within range.
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        let ms = (secs * 1000.0).round();
        (ms.is_finite() && ms >= Self::MIN.0 as f64 && ms <= Self::MAX.0 as f64)
            .then_some(EventTime(ms as i64))
    }

    /// Parses an ISO 8601 / RFC 3339 date-time ([`parse_iso_ms`]).
    pub fn parse_iso(s: &str) -> Option<Self> {
        parse_iso_ms(s).and_then(Self::from_millis)
    }

    /// Parses a CLF time ([`parse_clf_ms`]).
    pub fn parse_clf(s: &str) -> Option<Self> {
        parse_clf_ms(s).and_then(Self::from_millis)
    }

    /// Milliseconds since the epoch.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// This time plus `ms` milliseconds (negative goes back), saturating at the range's ends.
    pub fn add_millis(self, ms: i64) -> Self {
        Self::clamped(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (negative when `earlier` is later). Never
    /// overflows: the range spans about 3.2e14 ms.
    pub fn millis_since(self, earlier: EventTime) -> i64 {
        self.0 - earlier.0
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-25T10:00:00.123Z`.
    pub fn to_rfc3339(self) -> String {
        format_rfc3339(self.0)
    }
}

impl std::fmt::Display for EventTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// The time an event is counted, throttled and dated at: its CloudWatch timestamp when the
/// input carried one, else the record's own time (see the module docs).
pub fn trusted_time(cloudwatch: Option<EventTime>, own: Option<EventTime>) -> Option<EventTime> {
    cloudwatch.or(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_variants() {
        let base = 1_795_600_800_123;
        assert_eq!(parse_iso_ms("2026-11-25T10:00:00.123Z"), Some(base));
        assert_eq!(parse_iso_ms("2026-11-25T10:00:00.123456Z"), Some(base));
        assert_eq!(parse_iso_ms("2026-11-25 10:00:00,123+0000"), Some(base));
        assert_eq!(parse_iso_ms("2026-11-25T11:00:00.123+01:00"), Some(base));
        assert_eq!(parse_iso_ms("2026-11-25T10:00:00Z"), Some(base - 123));
        assert_eq!(parse_iso_ms("2026-13-25T10:00:00Z"), None);
        assert_eq!(parse_iso_ms("2026-11-25T10:00:00Q"), None);
        assert_eq!(parse_iso_ms("not a time"), None);
    }

    #[test]
    fn clf() {
        assert_eq!(
            parse_clf_ms("25/Nov/2026:10:00:00 +0000"),
            Some(1_795_600_800_000)
        );
    }

    #[test]
    fn format_round_trips_and_clamps() {
        assert_eq!(
            format_rfc3339(1_795_600_800_123),
            "2026-11-25T10:00:00.123Z"
        );
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert!(format_rfc3339(i64::MAX).starts_with("9999-"));
        assert!(format_rfc3339(i64::MIN).starts_with("-9999-"));
    }

    #[test]
    fn event_times_are_checked_at_every_source() {
        assert_eq!(EventTime::from_millis(i64::MAX), None);
        assert_eq!(EventTime::from_millis(i64::MIN), None);
        assert_eq!(EventTime::from_secs(100_000_000_000_000_000), None);
        assert_eq!(EventTime::from_secs(i64::MAX), None);
        assert_eq!(EventTime::from_secs_f64(f64::NAN), None);
        assert_eq!(EventTime::from_secs_f64(1e300), None);
        let zero = EventTime::parse_iso("0001-01-01T00:00:00Z").expect("Go zero time");
        assert_eq!(zero.to_rfc3339(), "0001-01-01T00:00:00.000Z");
        assert_eq!(EventTime::MAX.add_millis(i64::MAX), EventTime::MAX);
        assert_eq!(EventTime::MIN.add_millis(i64::MIN), EventTime::MIN);
        assert_eq!(EventTime::MAX.to_rfc3339(), "9999-12-31T23:59:59.999Z");
        assert_eq!(EventTime::MIN.to_rfc3339(), "0000-01-01T00:00:00.000Z");
        assert_eq!(
            EventTime::MAX.millis_since(EventTime::MIN),
            EventTime::MAX.as_millis() - EventTime::MIN.as_millis()
        );
    }
}
