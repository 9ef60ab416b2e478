//! Reading and writing the timestamps found in logs.

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
}
