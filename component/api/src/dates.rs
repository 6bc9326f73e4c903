//! Calendar dates and timestamps without a date library: the API only needs
//! ISO dates, `M/D/YYYY` from spreadsheets, and UTC timestamps.

/// Years a purchase date or deadline may plausibly have.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (MIN_YEAR..=MAX_YEAR).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
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
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    pub fn us(&self) -> String {
        format!("{}/{}/{}", self.month, self.day, self.year)
    }

    /// `YYYYMMDD`, iCalendar's DATE form.
    pub fn basic(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// The day after (an all-day calendar event ends there, exclusively).
    pub fn next_day(&self) -> Date {
        let days = days_from_civil(i64::from(self.year), self.month, self.day) + 1;
        let (year, month, day) = civil_from_days(days);
        Date {
            // Four-digit years stay four digits: far from i32's limits.
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month,
            day,
        }
    }
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-20T10:00:00.123Z` for milliseconds since the epoch.
pub fn timestamp(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
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
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let rest = &s[19..s.len() - 1];
    let ms = if rest.is_empty() {
        0
    } else {
        let frac = rest.strip_prefix('.')?;
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let padded = format!("{frac:0<3}");
        digits(&padded[..3])?
    };
    let days = days_from_civil(i64::from(date.year), date.month, date.day);
    let millis =
        ((days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(sec.min(59)))
            * 1000)
            + i64::from(ms);
    Some(timestamp(millis))
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
}
