//! Revisions, per-course writes with preconditions, the bulk replace, and the
//! change feed.

use crate::activity;
use crate::backend::Backend;
use crate::dates;
use crate::errors::{ApiError, ApiResult};
use crate::http::{etag_for, parse_if_match};
use crate::model::{self, Course, CourseFields, Status};
use crate::store::{self, StoredCourse, Tx};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::{HashMap, HashSet};

pub const DEFAULT_FEED_LIMIT: i64 = 500;
pub const MAX_FEED_LIMIT: i64 = 1000;
pub const MAX_BULK_COURSES: usize = 20_000;

/// Server stamps a backup may carry for a course it creates.
#[derive(Debug, Default, Clone)]
pub struct Stamps {
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub completed_at: Option<String>,
}

impl Stamps {
    pub fn from_fields(f: &CourseFields) -> Stamps {
        Stamps {
            created_at: f.created_at.clone(),
            updated_at: f.updated_at.clone(),
            completed_at: f.completed_at.clone(),
        }
    }
}

pub fn now<B: Backend>(tx: &Tx<'_, B>) -> String {
    dates::timestamp(tx.backend().now_millis())
}

/// Store `new` as the next revision of its course. `old` is the live version
/// it replaces; the server stamps follow from the two.
pub fn commit_course<B: Backend>(
    tx: &Tx<'_, B>,
    mut new: Course,
    old: Option<&Course>,
    stamps: &Stamps,
) -> ApiResult<Course> {
    let now = now(tx);
    new.rev = tx.next_rev()?;
    match old {
        Some(o) => {
            new.created_at = o.created_at.clone();
            new.updated_at = now.clone();
        }
        None => {
            new.created_at = stamps.created_at.clone().unwrap_or_else(|| now.clone());
            new.updated_at = stamps.updated_at.clone().unwrap_or_else(|| now.clone());
        }
    }
    new.completed_at = if new.status != Status::Completed {
        None
    } else {
        match old {
            Some(o) if o.status == Status::Completed => o.completed_at.clone(),
            _ => stamps.completed_at.clone().or_else(|| Some(now.clone())),
        }
    };
    store::write_row(tx.backend(), &new, false)?;
    activity::record_change(tx, old, &new, &now)?;
    Ok(new)
}

/// Turn a live course into a tombstone at the next revision.
pub fn tombstone<B: Backend>(tx: &Tx<'_, B>, live: &Course) -> ApiResult<Course> {
    let now = now(tx);
    let mut t = live.clone();
    t.rev = tx.next_rev()?;
    t.updated_at = now.clone();
    store::write_row(tx.backend(), &t, true)?;
    activity::record_delete(tx, &t, &now)?;
    Ok(t)
}

fn live(stored: Option<StoredCourse>) -> Option<Course> {
    stored.filter(|s| !s.deleted).map(|s| s.course)
}

/// 412 carrying the server's copy, so the client can merge and retry.
pub fn precondition_failed(current: Option<&Course>) -> ApiError {
    let mut e = ApiError::new(
        412,
        "precondition_failed",
        match current {
            Some(c) => format!(
                "the course is at rev {}; merge with the current copy and retry",
                c.rev
            ),
            None => "the course does not exist (it was deleted or never created)".to_owned(),
        },
    )
    .with_extra("current", current.map_or(Json::Null, Course::to_json));
    if let Some(c) = current {
        e = e.with_header("etag", &etag_for(c.rev));
    }
    e
}

/// Check `If-Match` against the stored course.
fn check_if_match(if_match: Option<&str>, current: Option<&Course>) -> ApiResult<()> {
    let Some(header) = if_match else {
        return Ok(());
    };
    let wanted = parse_if_match(header).ok_or_else(|| {
        ApiError::bad_request("invalid_header", "If-Match must be \"<rev>\" or *")
            .with_field("If-Match")
    })?;
    match (wanted, current) {
        (None, Some(_)) => Ok(()),
        (Some(rev), Some(c)) if c.rev == rev => Ok(()),
        _ => Err(precondition_failed(current)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// PUT: create or replace one course.
pub fn put_course(
    b: &impl Backend,
    id: &str,
    fields: &CourseFields,
    if_match: Option<&str>,
    create_only: bool,
) -> ApiResult<(Course, Outcome)> {
    store::write_tx(b, |tx| {
        let current = live(store::get_course(b, id)?);
        check_if_match(if_match, current.as_ref())?;
        if create_only && current.is_some() {
            return Err(precondition_failed(current.as_ref()));
        }
        let fallback_sort = match &current {
            Some(c) => c.sort_order,
            None => store::max_sort_order(b)?.map_or(0, |m| m.saturating_add(1)),
        };
        let new = model::replace(id, fields, fallback_sort, current.as_ref())?;
        match &current {
            Some(old) if old.same_content(&new) => Ok((old.clone(), Outcome::Unchanged)),
            Some(old) => Ok((
                commit_course(tx, new, Some(old), &Stamps::default())?,
                Outcome::Updated,
            )),
            None => {
                let c = commit_course(tx, new, None, &Stamps::default())?;
                activity::prune(tx)?;
                Ok((c, Outcome::Created))
            }
        }
    })
}

/// PATCH: change some fields of an existing course.
pub fn patch_course(
    b: &impl Backend,
    id: &str,
    fields: &CourseFields,
    if_match: Option<&str>,
) -> ApiResult<(Course, Outcome)> {
    store::write_tx(b, |tx| {
        let current = live(store::get_course(b, id)?);
        check_if_match(if_match, current.as_ref())?;
        let Some(old) = current else {
            return Err(ApiError::not_found(format!("no course with id {id:?}")));
        };
        let new = model::patch(&old, fields)?;
        if old.same_content(&new) {
            return Ok((old, Outcome::Unchanged));
        }
        let c = commit_course(tx, new, Some(&old), &Stamps::default())?;
        activity::prune(tx)?;
        Ok((c, Outcome::Updated))
    })
}

/// DELETE: leave a tombstone. Deleting a tombstone again answers its rev.
pub fn delete_course(b: &impl Backend, id: &str, if_match: Option<&str>) -> ApiResult<i64> {
    store::write_tx(b, |tx| {
        let stored = store::get_course(b, id)?;
        match stored {
            None => Err(ApiError::not_found(format!("no course with id {id:?}"))),
            Some(s) if s.deleted => {
                if if_match.is_some_and(|h| parse_if_match(h) != Some(Some(s.course.rev))) {
                    return Err(precondition_failed(None));
                }
                Ok(s.course.rev)
            }
            Some(s) => {
                check_if_match(if_match, Some(&s.course))?;
                let t = tombstone(tx, &s.course)?;
                activity::prune(tx)?;
                Ok(t.rev)
            }
        }
    })
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub rev: i64,
}

/// Parse a bulk list (the seed's whole collection) into validated courses.
pub fn parse_course_list(body: &Json) -> ApiResult<Vec<(String, CourseFields)>> {
    let list = body.as_array().ok_or_else(|| {
        ApiError::bad_request("invalid_body", "the body must be a JSON array of courses")
    })?;
    if list.len() > MAX_BULK_COURSES {
        return Err(ApiError::bad_request(
            "too_many_courses",
            format!("at most {MAX_BULK_COURSES} courses per request"),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let f = model::parse_fields(item, false).map_err(|e| e.at_index(i))?;
        let id =
            f.id.clone()
                .ok_or_else(|| ApiError::invalid_field("id", "id is required").at_index(i))?;
        if !seen.insert(id.clone()) {
            return Err(
                ApiError::bad_request("duplicate_id", format!("id {id:?} appears twice"))
                    .with_field("id")
                    .at_index(i),
            );
        }
        model::replace(&id, &f, 0, None).map_err(|e| e.at_index(i))?;
        out.push((id, f));
    }
    Ok(out)
}

/// POST /api/courses: make the live set exactly `list`, bumping revs only for
/// courses that really change and tombstoning the ones left out.
pub fn replace_all(
    b: &impl Backend,
    list: &[(String, CourseFields)],
    if_match: Option<&str>,
) -> ApiResult<Summary> {
    store::write_tx(b, |tx| {
        let rev = tx.current_rev()?;
        if let Some(h) = if_match {
            let wanted = parse_if_match(h).ok_or_else(|| {
                ApiError::bad_request("invalid_header", "If-Match must be \"<rev>\" or *")
                    .with_field("If-Match")
            })?;
            if wanted.is_some_and(|w| w != rev) {
                return Err(ApiError::new(
                    412,
                    "precondition_failed",
                    format!("the collection is at rev {rev}; fetch it again before replacing it"),
                )
                .with_extra("rev", json!(rev))
                .with_header("etag", &etag_for(rev)));
            }
        }
        let mut existing: HashMap<String, Course> = store::all_rows(b)?
            .into_iter()
            .filter(|s| !s.deleted)
            .map(|s| (s.course.id.clone(), s.course))
            .collect();
        let mut summary = Summary::default();
        for (i, (id, f)) in list.iter().enumerate() {
            let old = existing.remove(id);
            let new = model::replace(id, f, i64::try_from(i).unwrap_or(i64::MAX), old.as_ref())
                .map_err(|e| e.at_index(i))?;
            match old {
                Some(old) if old.same_content(&new) => summary.unchanged += 1,
                Some(old) => {
                    commit_course(tx, new, Some(&old), &Stamps::default())?;
                    summary.updated += 1;
                }
                None => {
                    commit_course(tx, new, None, &Stamps::default())?;
                    summary.created += 1;
                }
            }
        }
        let mut gone: Vec<Course> = existing.into_values().collect();
        gone.sort_by(|a, b| a.id.cmp(&b.id));
        for old in &gone {
            tombstone(tx, old)?;
            summary.deleted += 1;
        }
        activity::prune(tx)?;
        summary.rev = tx.current_rev()?;
        Ok(summary)
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Changes {
    pub since: i64,
    /// The high-water mark: pass it as the next `since`.
    pub rev: i64,
    pub more: bool,
    pub courses: Vec<Course>,
    pub deleted: Vec<String>,
}

/// The courses changed and ids deleted after `since`, in revision order.
pub fn changes(b: &impl Backend, since: i64, limit: i64) -> ApiResult<Changes> {
    // Most polls come from a device that is up to date: one read answers them.
    if since > 0 && store::current_rev(b)? == since {
        return Ok(Changes {
            since,
            rev: since,
            more: false,
            courses: Vec::new(),
            deleted: Vec::new(),
        });
    }
    store::read_tx(b, |tx| {
        let current = tx.current_rev()?;
        if since > current {
            return Err(ApiError::new(
                409,
                "since_ahead",
                format!(
                    "since={since} is ahead of the server (rev {current}); the data was restored or replaced: pull again from since=0"
                ),
            )
            .with_field("since")
            .with_detail("rev", json!(current)));
        }
        let rows = b.execute(
            &format!(
                "SELECT {} FROM courses WHERE owner = ? AND rev > ? ORDER BY rev LIMIT ?",
                store::COURSE_COLUMNS
            ),
            &[b.owner().into(), since.into(), (limit + 1).into()],
        )?;
        let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
        let mut courses = Vec::new();
        let mut deleted = Vec::new();
        let mut last = since;
        for row in rows.iter().take(usize::try_from(limit).unwrap_or(0)) {
            let s = store::row_to_course(row);
            last = s.course.rev;
            if s.deleted {
                deleted.push(s.course.id);
            } else {
                courses.push(s.course);
            }
        }
        Ok(Changes {
            since,
            rev: if more { last } else { current },
            more,
            courses,
            deleted,
        })
    })
}
