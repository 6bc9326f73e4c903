//! The Course, its fields' rules, and how a write request's fields become a course.

use crate::dates::Date;
use crate::errors::{ApiError, ApiResult};
use serde::Serialize;
use serde_json::{Map, Value as Json};

pub const MAX_ID_LEN: usize = 64;
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_CATEGORY_CHARS: usize = 100;
pub const MAX_NOTES_CHARS: usize = 10_000;
pub const MAX_LESSONS: i64 = 100_000;
pub const MAX_SORT_ORDER: i64 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    Pending,
    #[serde(rename = "In Progress")]
    InProgress,
    #[serde(rename = "Up Next")]
    UpNext,
    Completed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::InProgress,
        Status::UpNext,
        Status::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::InProgress => "In Progress",
            Status::UpNext => "Up Next",
            Status::Completed => "Completed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The status a spreadsheet ratio implies: 100 Completed, above 0 In Progress.
    pub fn from_ratio(ratio: i64) -> Status {
        match ratio {
            100 => Status::Completed,
            r if r > 0 => Status::InProgress,
            _ => Status::Pending,
        }
    }

    /// The status after only the ratio changed: reaching 100 completes, leaving
    /// 100 reopens, and the first progress starts a pending course.
    fn after_ratio_change(self, ratio: i64) -> Status {
        match (self, ratio) {
            (_, 100) => Status::Completed,
            (Status::Completed, r) => Status::from_ratio(r),
            (Status::Pending, r) if r > 0 => Status::InProgress,
            (s, _) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Course {
    pub id: String,
    pub title: String,
    pub category: String,
    pub date: Option<String>,
    pub notes: String,
    pub completion_ratio: i64,
    pub status: Status,
    pub is_favorite: bool,
    pub total_lessons: i64,
    pub completed_lessons: i64,
    pub deadline: Option<String>,
    pub sort_order: i64,
    pub pinned_to_dashboard: bool,
    pub is_archived: bool,
    // Server-managed from here on.
    pub rev: i64,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
}

impl Course {
    /// A course with every client field at its default.
    pub fn blank(id: &str) -> Course {
        Course {
            id: id.to_owned(),
            title: String::new(),
            category: String::new(),
            date: None,
            notes: String::new(),
            completion_ratio: 0,
            status: Status::Pending,
            is_favorite: false,
            total_lessons: 0,
            completed_lessons: 0,
            deadline: None,
            sort_order: 0,
            pinned_to_dashboard: false,
            is_archived: false,
            rev: 0,
            created_at: String::new(),
            updated_at: String::new(),
            completed_at: None,
        }
    }

    /// Equal in every client-owned field (server stamps ignored).
    pub fn same_content(&self, other: &Course) -> bool {
        self.id == other.id
            && self.title == other.title
            && self.category == other.category
            && self.date == other.date
            && self.notes == other.notes
            && self.completion_ratio == other.completion_ratio
            && self.status == other.status
            && self.is_favorite == other.is_favorite
            && self.total_lessons == other.total_lessons
            && self.completed_lessons == other.completed_lessons
            && self.deadline == other.deadline
            && self.sort_order == other.sort_order
            && self.pinned_to_dashboard == other.pinned_to_dashboard
            && self.is_archived == other.is_archived
    }

    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

/// The client fields present in a write request; `None` means "not sent".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CourseFields {
    pub id: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub date: Option<Option<String>>,
    pub notes: Option<String>,
    pub completion_ratio: Option<i64>,
    pub status: Option<Status>,
    pub is_favorite: Option<bool>,
    pub total_lessons: Option<i64>,
    pub completed_lessons: Option<i64>,
    pub deadline: Option<Option<String>>,
    pub sort_order: Option<i64>,
    pub pinned_to_dashboard: Option<bool>,
    pub is_archived: Option<bool>,
    /// Backups carry the server stamps; plain writes ignore them.
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub completed_at: Option<String>,
}

/// Fields the server manages: accepted in a body (clients send whole
/// courses back) and ignored.
const SERVER_FIELDS: [&str; 4] = ["rev", "createdAt", "updatedAt", "completedAt"];

pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn check_id(field: &str, id: &str) -> ApiResult<()> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must be 1..{MAX_ID_LEN} characters of A-Z a-z 0-9 _ -"),
        ))
    }
}

pub fn check_title(field: &str, title: &str) -> ApiResult<()> {
    let chars = title.chars().count();
    if title.trim().is_empty() || chars > MAX_TITLE_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be 1..{MAX_TITLE_CHARS} characters and not blank"),
        ));
    }
    check_no_control(field, title, false)
}

pub fn check_category(field: &str, category: &str) -> ApiResult<()> {
    if category.chars().count() > MAX_CATEGORY_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be at most {MAX_CATEGORY_CHARS} characters"),
        ));
    }
    check_no_control(field, category, false)
}

pub fn check_notes(field: &str, notes: &str) -> ApiResult<()> {
    if notes.chars().count() > MAX_NOTES_CHARS {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} must be at most {MAX_NOTES_CHARS} characters"),
        ));
    }
    check_no_control(field, notes, true)
}

fn check_no_control(field: &str, s: &str, allow_line_breaks: bool) -> ApiResult<()> {
    let bad = s
        .chars()
        .any(|c| c.is_control() && !(allow_line_breaks && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must not contain control characters"),
        ))
    } else {
        Ok(())
    }
}

pub fn check_ratio(field: &str, ratio: i64) -> ApiResult<()> {
    if (0..=100).contains(&ratio) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must be an integer from 0 to 100"),
        ))
    }
}

fn expect_str<'a>(field: &str, v: &'a Json) -> ApiResult<&'a str> {
    v.as_str()
        .ok_or_else(|| ApiError::invalid_field(field, format!("{field} must be a string")))
}

fn expect_bool(field: &str, v: &Json) -> ApiResult<bool> {
    v.as_bool()
        .ok_or_else(|| ApiError::invalid_field(field, format!("{field} must be true or false")))
}

fn expect_int(field: &str, v: &Json, min: i64, max: i64) -> ApiResult<i64> {
    match v.as_i64() {
        Some(i) if (min..=max).contains(&i) => Ok(i),
        _ => Err(ApiError::invalid_field(
            field,
            format!("{field} must be an integer from {min} to {max}"),
        )),
    }
}

fn expect_date(field: &str, v: &Json) -> ApiResult<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    let s = expect_str(field, v)?;
    if s.is_empty() {
        return Ok(None);
    }
    Date::parse_iso(s).map(|d| Some(d.iso())).ok_or_else(|| {
        ApiError::invalid_field(
            field,
            format!("{field} must be an ISO 8601 date (YYYY-MM-DD) or null"),
        )
    })
}

fn expect_timestamp(field: &str, v: &Json) -> ApiResult<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    let s = expect_str(field, v)?;
    crate::dates::normalize_timestamp(s)
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid_field(field, format!("{field} must be a UTC timestamp or null"))
        })
}

/// Read a JSON object's client fields, checking each one's type and range.
/// With `keep_stamps` (backups) the server stamps are read too.
pub fn parse_fields(body: &Json, keep_stamps: bool) -> ApiResult<CourseFields> {
    let obj: &Map<String, Json> = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("invalid_body", "a course must be a JSON object"))?;
    let mut f = CourseFields::default();
    for (key, v) in obj {
        let k = key.as_str();
        match k {
            "id" => {
                let id = expect_str(k, v)?;
                check_id(k, id)?;
                f.id = Some(id.to_owned());
            }
            "title" => {
                let t = expect_str(k, v)?;
                check_title(k, t)?;
                f.title = Some(t.to_owned());
            }
            "category" => {
                let c = if v.is_null() { "" } else { expect_str(k, v)? };
                check_category(k, c)?;
                f.category = Some(c.to_owned());
            }
            "notes" => {
                let n = if v.is_null() { "" } else { expect_str(k, v)? };
                check_notes(k, n)?;
                f.notes = Some(n.to_owned());
            }
            "date" => f.date = Some(expect_date(k, v)?),
            "deadline" => f.deadline = Some(expect_date(k, v)?),
            "completionRatio" => f.completion_ratio = Some(expect_int(k, v, 0, 100)?),
            "status" => {
                let s = expect_str(k, v)?;
                f.status = Some(Status::parse(s).ok_or_else(|| {
                    ApiError::invalid_field(
                        k,
                        "status must be one of Pending, In Progress, Up Next, Completed",
                    )
                })?);
            }
            "isFavorite" => f.is_favorite = Some(expect_bool(k, v)?),
            "pinnedToDashboard" => f.pinned_to_dashboard = Some(expect_bool(k, v)?),
            "isArchived" => f.is_archived = Some(expect_bool(k, v)?),
            "totalLessons" => f.total_lessons = Some(expect_int(k, v, 0, MAX_LESSONS)?),
            "completedLessons" => f.completed_lessons = Some(expect_int(k, v, 0, MAX_LESSONS)?),
            "sortOrder" => f.sort_order = Some(expect_int(k, v, -MAX_SORT_ORDER, MAX_SORT_ORDER)?),
            "createdAt" if keep_stamps => f.created_at = expect_timestamp(k, v)?,
            "updatedAt" if keep_stamps => f.updated_at = expect_timestamp(k, v)?,
            "completedAt" if keep_stamps => f.completed_at = expect_timestamp(k, v)?,
            _ if SERVER_FIELDS.contains(&k) => {
                if k != "rev" {
                    expect_timestamp(k, v)?;
                }
            }
            _ => {
                return Err(
                    ApiError::bad_request("unknown_field", format!("unknown field {k:?}"))
                        .with_field(k),
                );
            }
        }
    }
    Ok(f)
}

/// Build the client fields of a course from a whole-course write (PUT, a bulk
/// list element, a backup): unsent fields take their defaults. `existing` is
/// the sortOrder to use when the request sends none; `previous` is the live
/// course being replaced, if any.
pub fn replace(
    id: &str,
    f: &CourseFields,
    fallback_sort: i64,
    previous: Option<&Course>,
) -> ApiResult<Course> {
    if let Some(body_id) = &f.id
        && body_id != id
    {
        return Err(ApiError::invalid_field(
            "id",
            format!("id {body_id:?} in the body does not match {id:?} in the path"),
        ));
    }
    let mut c = Course::blank(id);
    c.title = f
        .title
        .clone()
        .ok_or_else(|| ApiError::invalid_field("title", "title is required"))?;
    c.sort_order = f.sort_order.unwrap_or(fallback_sort);
    apply_plain_fields(&mut c, f);
    reconcile_status(&mut c, f, previous)?;
    check_lessons(&c)?;
    Ok(c)
}

/// Apply a partial update to an existing course.
pub fn patch(existing: &Course, f: &CourseFields) -> ApiResult<Course> {
    if let Some(body_id) = &f.id
        && body_id != &existing.id
    {
        return Err(ApiError::invalid_field(
            "id",
            "id cannot be changed; it must match the path",
        ));
    }
    let mut c = existing.clone();
    if let Some(t) = &f.title {
        c.title = t.clone();
    }
    if let Some(s) = f.sort_order {
        c.sort_order = s;
    }
    apply_plain_fields(&mut c, f);
    reconcile_status(&mut c, f, Some(existing))?;
    check_lessons(&c)?;
    Ok(c)
}

fn apply_plain_fields(c: &mut Course, f: &CourseFields) {
    if let Some(v) = &f.category {
        c.category = v.clone();
    }
    if let Some(v) = &f.date {
        c.date = v.clone();
    }
    if let Some(v) = &f.notes {
        c.notes = v.clone();
    }
    if let Some(v) = f.completion_ratio {
        c.completion_ratio = v;
    }
    if let Some(v) = f.is_favorite {
        c.is_favorite = v;
    }
    if let Some(v) = f.total_lessons {
        c.total_lessons = v;
    }
    if let Some(v) = f.completed_lessons {
        c.completed_lessons = v;
    }
    if let Some(v) = &f.deadline {
        c.deadline = v.clone();
    }
    if let Some(v) = f.pinned_to_dashboard {
        c.pinned_to_dashboard = v;
    }
    if let Some(v) = f.is_archived {
        c.is_archived = v;
    }
}

/// Keep "ratio 100" and "Completed" the same thing, deciding by what the
/// request changed. A changed ratio decides the status (100 completes, a lower
/// ratio reopens a completed course, the first progress starts a pending one;
/// an explicit non-Completed status below 100 is kept). An unchanged ratio
/// lets a changed status decide (Completed sets 100). The one state with no
/// right answer, leaving Completed while the ratio stays 100, is refused.
fn reconcile_status(c: &mut Course, f: &CourseFields, previous: Option<&Course>) -> ApiResult<()> {
    let ratio = c.completion_ratio;
    let ratio_decides = match previous {
        Some(p) => p.completion_ratio != ratio,
        None => f.completion_ratio.is_some() || f.status.is_none(),
    };
    if ratio_decides {
        c.status = match (ratio, f.status) {
            (100, _) => Status::Completed,
            (_, Some(s)) if s != Status::Completed => s,
            (_, Some(_)) => Status::from_ratio(ratio),
            (_, None) => previous.map_or(Status::from_ratio(ratio), |p| {
                p.status.after_ratio_change(ratio)
            }),
        };
        return Ok(());
    }
    match f.status {
        None => c.status = previous.map_or(Status::Pending, |p| p.status),
        Some(Status::Completed) => {
            c.status = Status::Completed;
            c.completion_ratio = 100;
        }
        Some(s) if ratio == 100 => {
            return Err(ApiError::invalid_field(
                "completionRatio",
                format!(
                    "a course at completionRatio 100 is Completed; to make it {} send a completionRatio below 100 too",
                    s.as_str()
                ),
            ));
        }
        Some(s) => c.status = s,
    }
    Ok(())
}

fn check_lessons(c: &Course) -> ApiResult<()> {
    if c.completed_lessons > c.total_lessons {
        return Err(ApiError::invalid_field(
            "completedLessons",
            "completedLessons must not exceed totalLessons",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Json) -> ApiResult<CourseFields> {
        parse_fields(&v, false)
    }

    fn field_of(r: ApiResult<CourseFields>) -> String {
        r.err().and_then(|e| e.field.clone()).unwrap_or_default()
    }

    #[test]
    fn ids_allow_only_the_documented_alphabet() {
        assert!(valid_id("6716873"));
        assert!(valid_id("0b4e7c1a-2f3d-4e5f-9a8b-7c6d5e4f3a2b"));
        assert!(valid_id(&"a".repeat(64)));
        assert!(!valid_id(&"a".repeat(65)));
        assert!(!valid_id(""));
        assert!(!valid_id("a b"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id("é"));
    }

    #[test]
    fn every_field_rejects_wrong_types_and_ranges() {
        let cases = [
            (json!({"title": ""}), "title"),
            (json!({"title": "   "}), "title"),
            (json!({"title": "x".repeat(301)}), "title"),
            (json!({"title": 5}), "title"),
            (json!({"title": "a\u{0007}b"}), "title"),
            (json!({"completionRatio": 101}), "completionRatio"),
            (json!({"completionRatio": -1}), "completionRatio"),
            (json!({"completionRatio": 40.5}), "completionRatio"),
            (json!({"completionRatio": "40"}), "completionRatio"),
            (json!({"status": "Done"}), "status"),
            (json!({"status": null}), "status"),
            (json!({"date": "12/26/2025"}), "date"),
            (json!({"date": "2025-02-30"}), "date"),
            (json!({"deadline": 20250101}), "deadline"),
            (json!({"isFavorite": "yes"}), "isFavorite"),
            (json!({"pinnedToDashboard": 1}), "pinnedToDashboard"),
            (json!({"isArchived": null}), "isArchived"),
            (json!({"totalLessons": -3}), "totalLessons"),
            (json!({"completedLessons": 100001}), "completedLessons"),
            (json!({"sortOrder": 1e12}), "sortOrder"),
            (json!({"category": "c".repeat(101)}), "category"),
            (json!({"notes": "n".repeat(10_001)}), "notes"),
            (json!({"id": "bad id"}), "id"),
            (json!({"createdAt": "yesterday"}), "createdAt"),
            (json!({"colour": "red"}), "colour"),
        ];
        for (body, field) in cases {
            assert_eq!(field_of(fields(body.clone())), field, "{body}");
        }
    }

    #[test]
    fn server_stamps_in_a_body_are_ignored() {
        let f = fields(json!({"title": "t", "rev": 9, "createdAt": "2026-01-01T00:00:00Z"}));
        assert_eq!(f.ok().and_then(|f| f.created_at), None);
    }

    #[test]
    fn ratio_and_status_follow_each_other() {
        let new = |body: Json| replace("a", &fields(body).unwrap(), 0, None);
        let status = |r: ApiResult<Course>| r.map(|c| (c.status, c.completion_ratio)).ok();
        assert_eq!(
            status(new(json!({"title": "t", "completionRatio": 100}))),
            Some((Status::Completed, 100))
        );
        assert_eq!(
            status(new(json!({"title": "t", "completionRatio": 30}))),
            Some((Status::InProgress, 30))
        );
        assert_eq!(
            status(new(json!({"title": "t"}))),
            Some((Status::Pending, 0))
        );
        assert_eq!(
            status(new(json!({"title": "t", "status": "Completed"}))),
            Some((Status::Completed, 100))
        );
        assert_eq!(
            status(new(json!({"title": "t", "status": "Up Next"}))),
            Some((Status::UpNext, 0))
        );
        // Both sent and contradicting: the ratio decides.
        assert_eq!(
            status(new(
                json!({"title": "t", "status": "Completed", "completionRatio": 40})
            )),
            Some((Status::InProgress, 40))
        );
        assert_eq!(
            status(new(
                json!({"title": "t", "status": "Pending", "completionRatio": 100})
            )),
            Some((Status::Completed, 100))
        );

        let done = new(json!({"title": "t", "completionRatio": 100})).unwrap();
        let edit = |c: &Course, body: Json| status(patch(c, &fields(body).unwrap()));
        assert_eq!(
            edit(&done, json!({"completionRatio": 60})),
            Some((Status::InProgress, 60))
        );
        assert_eq!(
            edit(&done, json!({"completionRatio": 0})),
            Some((Status::Pending, 0))
        );
        assert_eq!(
            edit(&done, json!({"status": "Up Next"})),
            None,
            "leaving 100 needs a ratio"
        );
        assert_eq!(
            edit(&done, json!({"status": "Up Next", "completionRatio": 0})),
            Some((Status::UpNext, 0))
        );
        // A whole-course PUT that marks a course done without touching the ratio.
        let started = new(json!({"title": "t", "completionRatio": 40})).unwrap();
        let put = replace(
            "a",
            &fields(json!({"title": "t", "completionRatio": 40, "status": "Completed"})).unwrap(),
            0,
            Some(&started),
        );
        assert_eq!(status(put), Some((Status::Completed, 100)));
        let put = replace(
            "a",
            &fields(json!({"title": "t", "completionRatio": 40})).unwrap(),
            0,
            Some(&started),
        );
        assert_eq!(
            status(put),
            Some((Status::InProgress, 40)),
            "an unsent status is kept"
        );
        let up_next = edit(&started, json!({"status": "Up Next"}));
        assert_eq!(up_next, Some((Status::UpNext, 40)));
        let pending = new(json!({"title": "t"})).unwrap();
        assert_eq!(
            edit(&pending, json!({"completionRatio": 5})),
            Some((Status::InProgress, 5))
        );
        assert_eq!(
            edit(&pending, json!({"notes": "x"})),
            Some((Status::Pending, 0))
        );
    }

    #[test]
    fn completed_lessons_cannot_exceed_total() {
        let f = fields(json!({"title": "t", "totalLessons": 3, "completedLessons": 4})).unwrap();
        let err = replace("a", &f, 0, None)
            .err()
            .and_then(|e| e.field.clone());
        assert_eq!(err.as_deref(), Some("completedLessons"));
    }

    #[test]
    fn body_id_must_match_path() {
        let f = fields(json!({"id": "other", "title": "t"})).unwrap();
        assert!(replace("a", &f, 0, None).is_err());
    }
}
