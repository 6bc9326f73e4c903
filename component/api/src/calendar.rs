//! The deadline feed: `GET /api/calendar.ics?token=<feed token>`, an iCalendar
//! document with one all-day event per course deadline, for calendar apps to
//! subscribe to.
//!
//! Calendar apps cannot send an `Authorization` header, so the feed is reached
//! through a secret link instead of the API token: `POST /api/calendar/token`
//! (behind the normal API auth) makes a new feed token, which replaces any earlier
//! one, and `DELETE` revokes it. Only a SHA-256 of the token is stored, in the
//! key-value store, so a copy of the data does not hold a working link.
//!
//! A feed request carries no sign-in, so the token itself says whose feed it is:
//! `<owner>.<random hex>`. Tokens made before accounts have no owner part and are
//! the first owner's. The owner part only picks the library whose stored digest
//! is compared; the digest covers the whole token.

use crate::auth;
use crate::backend::Backend;
use crate::dates::{self, Date};
use crate::errors::{ApiError, ApiResult};
use crate::http::Request;
use crate::ics::Writer;
use crate::library::FIRST_OWNER;
use crate::model::{Course, Status};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

pub const FEED_PATH: &str = "/api/calendar.ics";
pub const TOKEN_PATH: &str = "/api/calendar/token";

/// The `@` keeps the key outside the settings alphabet, so it is never listed,
/// exported or written as a setting.
const TOKEN_KEY: &str = "@calendar-feed-token";
/// 256 random bits: unguessable, and short enough for a URL (64 hex digits).
const TOKEN_BYTES: usize = 32;

const CALENDAR_NAME: &str = "SkillTrack deadlines";
/// How often calendar apps are asked to fetch the feed again.
const REFRESH: &str = "PT1H";

/// What is kept of a feed token: `{"sha256": "<hex>", "createdAt": "<time>"}`.
#[derive(Debug)]
struct StoredToken {
    sha256: String,
    created_at: String,
}

impl StoredToken {
    fn to_bytes(&self) -> Vec<u8> {
        json!({"sha256": self.sha256, "createdAt": self.created_at})
            .to_string()
            .into_bytes()
    }

    fn from_bytes(bytes: &[u8]) -> Option<StoredToken> {
        let v: Json = serde_json::from_slice(bytes).ok()?;
        Some(StoredToken {
            sha256: v["sha256"].as_str()?.to_owned(),
            created_at: v["createdAt"].as_str()?.to_owned(),
        })
    }
}

/// A token just made: the only moment it exists in clear.
#[derive(Debug)]
pub struct NewToken {
    pub token: String,
    pub created_at: String,
}

/// The feed itself is exempt from the API token; it needs the feed token instead.
pub fn is_feed_request(req: &Request) -> bool {
    req.path == FEED_PATH && (req.method == "GET" || req.method == "HEAD")
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn stored(b: &impl Backend) -> ApiResult<Option<StoredToken>> {
    // A record that no longer parses is no token: the feed stays closed.
    Ok(b.kv_get(TOKEN_KEY)?
        .and_then(|bytes| StoredToken::from_bytes(&bytes)))
}

/// Makes a new feed token, replacing (and so revoking) the previous one.
pub fn create(b: &impl Backend) -> ApiResult<NewToken> {
    let random = b.random_bytes(TOKEN_BYTES)?;
    if random.len() != TOKEN_BYTES {
        return Err(ApiError::new(
            503,
            "random_unavailable",
            "the host gave too few random bytes for a feed token",
        ));
    }
    let token = format!("{}.{}", b.owner(), hex(&random));
    let created_at = dates::timestamp(b.now_millis());
    let record = StoredToken {
        sha256: digest(&token),
        created_at: created_at.clone(),
    };
    b.kv_set(TOKEN_KEY, &record.to_bytes())?;
    Ok(NewToken { token, created_at })
}

/// When the current feed token was made; `None` when there is none.
pub fn active_since(b: &impl Backend) -> ApiResult<Option<String>> {
    Ok(stored(b)?.map(|s| s.created_at))
}

/// Revokes the feed token; false when there was none.
pub fn revoke(b: &impl Backend) -> ApiResult<bool> {
    if b.kv_get(TOKEN_KEY)?.is_none() {
        return Ok(false);
    }
    b.kv_delete(TOKEN_KEY)?;
    Ok(true)
}

fn closed() -> ApiError {
    ApiError::not_found("no calendar feed at this address")
}

/// Whose feed a presented token opens, before it is checked. A token without an
/// owner part is the first owner's; an owner part that is not an account id is
/// the same 404 as a wrong token.
pub fn feed_owner(presented: Option<&str>) -> ApiResult<i64> {
    let Some((owner, _)) = presented.and_then(|p| p.split_once('.')) else {
        return Ok(FIRST_OWNER);
    };
    // Digits only: `parse` alone would also take a sign.
    if owner.is_empty() || owner.len() > 18 || !owner.bytes().all(|c| c.is_ascii_digit()) {
        return Err(closed());
    }
    owner
        .parse::<i64>()
        .ok()
        .filter(|o| *o >= FIRST_OWNER)
        .ok_or_else(closed)
}

/// Ok when `presented` is the current feed token of `b`'s owner. No token made,
/// none presented, a wrong or a revoked one all get the same 404, so the answer
/// tells nothing about which, nor that a feed exists. Digests are compared in
/// constant time.
pub fn check(b: &impl Backend, presented: Option<&str>) -> ApiResult<()> {
    let presented = presented.filter(|p| !p.is_empty()).ok_or_else(closed)?;
    let stored = stored(b)?.ok_or_else(closed)?;
    if auth::same(digest(presented).as_bytes(), stored.sha256.as_bytes()) {
        Ok(())
    } else {
        Err(closed())
    }
}

/// The feed's path with its token in the query.
pub fn feed_path(token: &str) -> String {
    format!("{FEED_PATH}?token={token}")
}

/// The origin the client reached this server at (`http://host:port`), for the
/// absolute links a feed needs. Spin and tracker-host pass the request's full URL
/// as `spin-full-url`; without it, `Host`. A TLS-terminating proxy's
/// `X-Forwarded-Proto: https` makes the scheme https. `None` when no plausible
/// host is given: the feed then carries no links rather than broken ones.
pub fn request_origin(req: &Request) -> Option<String> {
    let (scheme, host) = match req.header("spin-full-url") {
        Some(url) => {
            let (scheme, rest) = url.split_once("://")?;
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            (scheme.to_ascii_lowercase(), host.to_owned())
        }
        None => ("http".to_owned(), req.header("host")?.trim().to_owned()),
    };
    let plausible_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b));
    if !plausible_host || !(scheme == "http" || scheme == "https") {
        return None;
    }
    let forwarded_https = req
        .header("x-forwarded-proto")
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https { "https" } else { &scheme };
    Some(format!("{scheme}://{host}"))
}

/// Where a course opens in the browser app.
pub fn course_link(origin: &str, id: &str) -> String {
    // Ids are A-Z a-z 0-9 _ - (model::valid_id): nothing to percent-encode.
    format!("{origin}/#/course/{id}")
}

/// `20261120T100000Z` for one of our UTC timestamps.
fn utc_stamp(timestamp: &str) -> Option<String> {
    let t = dates::normalize_timestamp(timestamp)?;
    let digits: String = t[..19].chars().filter(char::is_ascii_digit).collect();
    Some(format!("{}T{}Z", &digits[..8], &digits[8..14]))
}

/// Which courses are in the feed: every live course with a deadline, except
/// archived ones (put away, no longer planned). Completed courses stay, marked,
/// so finishing one does not make its event vanish from the calendar.
fn in_feed(course: &Course) -> Option<Date> {
    if course.is_archived {
        return None;
    }
    Date::parse_iso(course.deadline.as_deref()?)
}

/// The feed for these (live) courses: one all-day event per deadline, ordered by
/// date then id, so the same data always renders to the same bytes.
pub fn render(courses: &[Course], origin: Option<&str>) -> String {
    let mut events: Vec<(Date, &Course)> = courses
        .iter()
        .filter_map(|c| in_feed(c).map(|d| (d, c)))
        .collect();
    events.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));

    let mut w = Writer::new();
    w.line("BEGIN", "VCALENDAR");
    w.line("VERSION", "2.0");
    w.text("PRODID", "-//SkillTrack//Course deadlines//EN");
    w.line("CALSCALE", "GREGORIAN");
    w.line("METHOD", "PUBLISH");
    // NAME and REFRESH-INTERVAL are RFC 7986; the X- pair says the same to apps
    // that predate it.
    w.text("NAME", CALENDAR_NAME);
    w.text("X-WR-CALNAME", CALENDAR_NAME);
    w.line("REFRESH-INTERVAL;VALUE=DURATION", REFRESH);
    w.line("X-PUBLISHED-TTL", REFRESH);
    for (date, course) in events {
        event(&mut w, course, date, origin);
    }
    w.line("END", "VCALENDAR");
    w.finish()
}

fn event(w: &mut Writer, c: &Course, deadline: Date, origin: Option<&str>) {
    let completed = c.status == Status::Completed;
    let link = origin.map(|o| course_link(o, &c.id));
    // The last change of the course is the stamp: the same data gives the same
    // bytes (and ETag), and a calendar sees which events changed.
    let stamp = utc_stamp(&c.updated_at)
        .or_else(|| utc_stamp(&c.created_at))
        .unwrap_or_else(|| "19700101T000000Z".to_owned());

    w.line("BEGIN", "VEVENT");
    // One UID per course for its whole life: an edited deadline moves the event.
    w.text("UID", &format!("course-{}@skilltrack", c.id));
    w.line("DTSTAMP", &stamp);
    w.line("LAST-MODIFIED", &stamp);
    w.line("DTSTART;VALUE=DATE", &deadline.basic());
    w.line("DTEND;VALUE=DATE", &deadline.next_day().basic());
    let summary = if completed {
        format!("✓ {} (completed)", c.title)
    } else {
        format!("Deadline: {}", c.title)
    };
    w.text("SUMMARY", &summary);
    w.text("DESCRIPTION", &description(c, link.as_deref()));
    if !c.category.is_empty() {
        w.text("CATEGORIES", &c.category);
    }
    if let Some(link) = &link {
        w.line("URL", link);
    }
    // A deadline is a reminder, not time the person is busy.
    w.line("TRANSP", "TRANSPARENT");
    w.line("END", "VEVENT");
}

fn description(c: &Course, link: Option<&str>) -> String {
    let mut lines = vec![format!(
        "Progress: {}% ({})",
        c.completion_ratio,
        c.status.as_str()
    )];
    if c.total_lessons > 0 {
        lines.push(format!(
            "Lessons: {} of {}",
            c.completed_lessons, c.total_lessons
        ));
    }
    if let Some(done) = c.completed_at.as_deref().filter(|d| d.len() >= 10) {
        lines.push(format!("Completed on {}", &done[..10]));
    }
    if !c.category.is_empty() {
        lines.push(format!("Category: {}", c.category));
    }
    if let Some(link) = link {
        lines.push(format!("Open in SkillTrack: {link}"));
    }
    let notes = c.notes.trim();
    if !notes.is_empty() {
        lines.push(String::new());
        lines.push(notes.to_owned());
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ics::unfold;

    fn course(id: &str, title: &str, deadline: Option<&str>) -> Course {
        let mut c = Course::blank(id);
        c.title = title.to_owned();
        c.deadline = deadline.map(str::to_owned);
        c.category = "Cloud, DevOps".to_owned();
        c.created_at = "2025-01-02T03:04:05.000Z".to_owned();
        c.updated_at = "2025-02-03T04:05:06.789Z".to_owned();
        c
    }

    #[test]
    fn one_all_day_event_per_deadline_archived_left_out_completed_marked() {
        let mut done = course("c3", "Done one", Some("2025-03-01"));
        done.status = Status::Completed;
        done.completion_ratio = 100;
        done.completed_at = Some("2025-02-20T10:00:00.000Z".to_owned());
        let mut archived = course("c4", "Shelved", Some("2025-03-02"));
        archived.is_archived = true;
        let courses = vec![
            course("c2", "Later", Some("2025-12-31")),
            course("c1", "No deadline", None),
            done,
            archived,
        ];
        let text = unfold(&render(&courses, Some("http://tracker.test:3000")));
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2, "{text}");
        assert!(!text.contains("Shelved") && !text.contains("No deadline"));
        // Ordered by date: the completed course first.
        let first = text.find("UID:course-c3@skilltrack").expect("c3");
        let second = text.find("UID:course-c2@skilltrack").expect("c2");
        assert!(first < second);
        assert!(text.contains("SUMMARY:✓ Done one (completed)\r\n"));
        assert!(text.contains("SUMMARY:Deadline: Later\r\n"));
        assert!(text.contains("DTSTART;VALUE=DATE:20251231\r\nDTEND;VALUE=DATE:20260101\r\n"));
        assert!(text.contains("DTSTAMP:20250203T040506Z\r\n"));
        assert!(text.contains("URL:http://tracker.test:3000/#/course/c2\r\n"));
        assert!(text.contains("CATEGORIES:Cloud\\, DevOps\r\n"));
        assert!(text.contains("Completed on 2025-02-20"));
        assert!(text.contains("DESCRIPTION:Progress: 0% (Pending)\\nCategory: Cloud\\, DevOps\\nOpen in SkillTrack: http://tracker.test:3000/#/course/c2\r\n"), "{text}");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn notes_and_a_title_with_line_breaks_stay_one_escaped_property_each() {
        let mut c = course("c1", "a\r\nb;c,d\\e", Some("2025-01-01"));
        c.notes = "first line\nsecond, line; end\n".to_owned();
        let text = unfold(&render(&[c], None));
        assert!(
            text.contains("SUMMARY:Deadline: a\\nb\\;c\\,d\\\\e\r\n"),
            "{text}"
        );
        assert!(
            text.contains("\\n\\nfirst line\\nsecond\\, line\\; end\r\n"),
            "{text}"
        );
    }

    #[test]
    fn without_an_origin_the_feed_has_no_links() {
        let text = render(&[course("c1", "T", Some("2025-01-01"))], None);
        assert!(!text.contains("URL:") && !text.contains("http"));
    }

    #[test]
    fn the_origin_comes_from_the_full_url_or_host_and_must_look_like_one() {
        let with = |headers: &[(&str, &str)]| {
            let mut req = Request::new("GET", FEED_PATH);
            for (n, v) in headers {
                req = req.with_header(n, v);
            }
            request_origin(&req)
        };
        assert_eq!(
            with(&[(
                "spin-full-url",
                "http://127.0.0.1:3000/api/calendar.ics?token=x"
            )])
            .as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(
            with(&[("host", "tracker.example")]).as_deref(),
            Some("http://tracker.example")
        );
        assert_eq!(
            with(&[
                ("spin-full-url", "http://tracker.example/api/calendar.ics"),
                ("x-forwarded-proto", "https")
            ])
            .as_deref(),
            Some("https://tracker.example")
        );
        assert_eq!(with(&[]), None);
        assert_eq!(with(&[("host", "evil\"/><x")]), None);
        assert_eq!(with(&[("spin-full-url", "javascript://x/")]), None);
    }

    #[test]
    fn a_feed_token_names_its_owner_and_an_old_one_is_the_first_owners() {
        assert_eq!(feed_owner(Some("ab12")).ok(), Some(FIRST_OWNER));
        assert_eq!(feed_owner(None).ok(), Some(FIRST_OWNER));
        assert_eq!(feed_owner(Some("")).ok(), Some(FIRST_OWNER));
        assert_eq!(feed_owner(Some("7.ab12")).ok(), Some(7));
        assert_eq!(feed_owner(Some("1.ab.12")).ok(), Some(1));
        for bad in [
            ".ab12",
            "0.ab12",
            "-2.ab12",
            "+2.ab12",
            "x.ab12",
            " 2.ab12",
            "99999999999999999999.ab12",
        ] {
            let e = feed_owner(Some(bad)).expect_err(bad);
            assert_eq!((e.status, e.code), (404, "not_found"), "{bad}");
        }
    }

    #[test]
    fn stamps_are_utc_basic_form() {
        assert_eq!(
            utc_stamp("2026-11-20T10:00:00.123Z").as_deref(),
            Some("20261120T100000Z")
        );
        assert_eq!(utc_stamp("yesterday"), None);
    }
}
