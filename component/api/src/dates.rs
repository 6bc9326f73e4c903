//! Calendar dates and timestamps: the API reads ISO dates and `M/D/YYYY` from
//! spreadsheets, and writes UTC timestamps to the millisecond.
//!
//! The calendar (valid days, epoch arithmetic) is the `time` crate's. Reading and
//! writing the few fixed formats stays here: `time`'s format descriptions
//! (`formatting`, `parsing`) made the component 102 KB (16%) larger, for the
//! three formats below.

use time::{Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Years a purchase date or deadline may plausibly have.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(time::Date);

impl Date {
    /// A day that exists on the calendar, in a plausible year.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return None;
        }
        let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
        let day = u8::try_from(day).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Date)
    }

    /// Strict `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = digits(&s[0..4])?;
        let month = digits(&s[5..7])?;
        let day = digits(&s[8..10])?;
        Date::new(i32::try_from(year).ok()?, month, day)
    }

    /// `M/D/YYYY` (one or two digit month and day), as US spreadsheets write dates.
    pub fn parse_us(s: &str) -> Option<Date> {
        let mut parts = s.split('/');
        let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || m.len() > 2 || d.len() > 2 || y.len() != 4 {
            return None;
        }
        Date::new(i32::try_from(digits(y)?).ok()?, digits(m)?, digits(d)?)
    }

    pub fn iso(&self) -> String {
        let (year, month, day) = self.0.to_calendar_date();
        format!("{year:04}-{:02}-{day:02}", u8::from(month))
    }

    pub fn us(&self) -> String {
        let (year, month, day) = self.0.to_calendar_date();
        format!("{}/{day}/{year}", u8::from(month))
    }

    /// `YYYYMMDD`, iCalendar's DATE form.
    pub fn basic(&self) -> String {
        let (year, month, day) = self.0.to_calendar_date();
        format!("{year:04}{:02}{day:02}", u8::from(month))
    }

    /// The day after (an all-day calendar event ends there, exclusively). Years
    /// stop at 2999, far inside `time`'s calendar, so there always is one.
    pub fn next_day(&self) -> Date {
        Date(self.0.next_day().unwrap_or(self.0))
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `2026-11-20T10:00:00.123Z`.
fn format_utc(at: PrimitiveDateTime) -> String {
    let (year, month, day) = at.date().to_calendar_date();
    format!(
        "{year:04}-{:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        u8::from(month),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// `2026-11-20T10:00:00.123Z` for milliseconds since the epoch.
pub fn timestamp(millis: i64) -> String {
    // Out of range only past the year 9999, which a clock does not reach.
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map(|at| format_utc(PrimitiveDateTime::new(at.date(), at.time())))
        .unwrap_or_default()
}

/// Accept an RFC 3339 UTC timestamp (`Z`, optional fraction) as found in our
/// own backups; returns it normalised to `timestamp`'s form.
pub fn normalize_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let date = Date::parse_iso(&s[..10])?;
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    let rest = &s[19..s.len() - 1];
    let ms = if rest.is_empty() {
        0
    } else {
        let frac = rest.strip_prefix('.')?;
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits(&format!("{frac:0<3}")[..3])?
    };
    // A leap second (`:60`) reads as the second before it.
    let sec = if sec == 60 { 59 } else { sec };
    let time = Time::from_hms_milli(
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(sec).ok()?,
        u16::try_from(ms).ok()?,
    )
    .ok()?;
    Some(format_utc(PrimitiveDateTime::new(date.0, time)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_day_crosses_months_years_and_leap_days() {
        let next = |s: &str| Date::parse_iso(s).map(|d| d.next_day().iso());
        assert_eq!(next("2025-12-26").as_deref(), Some("2025-12-27"));
        assert_eq!(next("2025-01-31").as_deref(), Some("2025-02-01"));
        assert_eq!(next("2024-02-28").as_deref(), Some("2024-02-29"));
        assert_eq!(next("2024-02-29").as_deref(), Some("2024-03-01"));
        assert_eq!(next("2025-02-28").as_deref(), Some("2025-03-01"));
        assert_eq!(next("2025-12-31").as_deref(), Some("2026-01-01"));
        assert_eq!(
            Date::parse_iso("2025-03-09").map(|d| d.basic()).as_deref(),
            Some("20250309")
        );
    }

    #[test]
    fn iso_dates_must_exist_on_the_calendar() {
        assert_eq!(
            Date::parse_iso("2025-12-26").map(|d| d.us()),
            Some("12/26/2025".into())
        );
        assert!(Date::parse_iso("2024-02-29").is_some());
        assert!(Date::parse_iso("2023-02-29").is_none());
        assert!(Date::parse_iso("2023-13-01").is_none());
        assert!(Date::parse_iso("2023-1-01").is_none());
        assert!(Date::parse_iso("20231-01-01").is_none());
        assert!(Date::parse_iso("+023-01-01").is_none());
        assert!(Date::parse_iso("1800-01-01").is_none());
    }

    #[test]
    fn us_dates_take_one_or_two_digit_parts() {
        assert_eq!(
            Date::parse_us("1/3/2022").map(|d| d.iso()),
            Some("2022-01-03".into())
        );
        assert_eq!(
            Date::parse_us("12/26/2025").map(|d| d.iso()),
            Some("2025-12-26".into())
        );
        assert!(Date::parse_us("13/1/2022").is_none());
        assert!(Date::parse_us("2/30/2022").is_none());
        assert!(Date::parse_us("1/3/22").is_none());
        assert!(Date::parse_us("2022-01-03").is_none());
        assert!(Date::parse_us("1/3/2022/1").is_none());
    }

    #[test]
    fn timestamps_round_trip() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_795_168_800_123), "2026-11-20T10:00:00.123Z");
        assert_eq!(
            normalize_timestamp("2026-11-20T10:00:00Z").as_deref(),
            Some("2026-11-20T10:00:00.000Z")
        );
        assert_eq!(
            normalize_timestamp("2026-11-20T10:00:00.123Z").as_deref(),
            Some("2026-11-20T10:00:00.123Z")
        );
        assert!(normalize_timestamp("2026-11-20 10:00:00Z").is_none());
        assert!(normalize_timestamp("2026-11-20T25:00:00Z").is_none());
        assert!(normalize_timestamp("2026-11-20T10:00:00+01:00").is_none());
    }

    #[test]
    fn edge_cases_read_as_the_hand_written_calendar_read_them() {
        assert!(Date::parse_iso("+2023-01-01").is_none());
        assert!(Date::parse_us("1/3/+2022").is_none());
        assert_eq!(
            Date::parse_us("01/03/2022").map(|d| d.iso()),
            Some("2022-01-03".into())
        );
        assert_eq!(
            normalize_timestamp("2026-11-20T10:00:60.5Z").as_deref(),
            Some("2026-11-20T10:00:59.500Z")
        );
        assert_eq!(
            normalize_timestamp("1969-12-31T23:59:59.123456789Z").as_deref(),
            Some("1969-12-31T23:59:59.123Z")
        );
        assert_eq!(timestamp(-1), "1969-12-31T23:59:59.999Z");
        assert!(normalize_timestamp("1899-12-31T10:00:00Z").is_none());
        assert!(normalize_timestamp("2026-11-20T10:00:00.Z").is_none());
        assert!(normalize_timestamp("2026-11-20T10:00:00.1234567891Z").is_none());
        assert!(normalize_timestamp("2026-11-20t10:00:00z").is_none());
    }
}
