//! The activity log: what changed on which course, and when.

use crate::backend::{Backend, Value};
use crate::errors::ApiResult;
use crate::model::Course;
use crate::store::Tx;
use serde_json::{Map, Value as Json, json};

/// Entries kept; older ones are pruned as new ones arrive.
const KEEP: i64 = 10_000;

fn insert<B: Backend>(
    tx: &Tx<'_, B>,
    at: &str,
    c: &Course,
    kind: &str,
    detail: Json,
) -> ApiResult<()> {
    let owner = tx.backend().owner();
    // Writers are serialised (see store::begin), so the next number is free.
    tx.exec(
        "INSERT INTO activity (owner, seq, at, rev, course_id, title, kind, detail) VALUES \
         (?, (SELECT coalesce(max(seq), 0) + 1 FROM activity WHERE owner = ?), ?, ?, ?, ?, ?, ?)",
        &[
            owner.into(),
            owner.into(),
            at.into(),
            c.rev.into(),
            c.id.as_str().into(),
            c.title.as_str().into(),
            kind.into(),
            detail.to_string().into(),
        ],
    )?;
    Ok(())
}

/// Record what a write did to a course (`old` is the live version before it).
pub fn record_change<B: Backend>(
    tx: &Tx<'_, B>,
    old: Option<&Course>,
    new: &Course,
    at: &str,
) -> ApiResult<()> {
    let Some(old) = old else {
        return insert(
            tx,
            at,
            new,
            "created",
            json!({"status": new.status, "completionRatio": new.completion_ratio}),
        );
    };
    if old.completion_ratio != new.completion_ratio {
        insert(
            tx,
            at,
            new,
            "progress",
            json!({"from": old.completion_ratio, "to": new.completion_ratio}),
        )?;
    }
    if old.status != new.status {
        insert(
            tx,
            at,
            new,
            "status",
            json!({"from": old.status, "to": new.status}),
        )?;
    }
    let mut fields = Vec::new();
    let mut note = |changed: bool, name: &str| {
        if changed {
            fields.push(name.to_owned());
        }
    };
    note(old.title != new.title, "title");
    note(old.category != new.category, "category");
    note(old.date != new.date, "date");
    note(old.notes != new.notes, "notes");
    note(old.is_favorite != new.is_favorite, "isFavorite");
    note(old.total_lessons != new.total_lessons, "totalLessons");
    note(
        old.completed_lessons != new.completed_lessons,
        "completedLessons",
    );
    note(old.deadline != new.deadline, "deadline");
    note(old.sort_order != new.sort_order, "sortOrder");
    note(
        old.pinned_to_dashboard != new.pinned_to_dashboard,
        "pinnedToDashboard",
    );
    note(old.is_archived != new.is_archived, "isArchived");
    if !fields.is_empty() {
        insert(tx, at, new, "updated", json!({ "fields": fields }))?;
    }
    Ok(())
}

pub fn record_delete<B: Backend>(tx: &Tx<'_, B>, tombstone: &Course, at: &str) -> ApiResult<()> {
    insert(tx, at, tombstone, "deleted", json!({}))
}

/// Keep the owner's newest entries; other owners' logs are theirs to prune.
pub fn prune<B: Backend>(tx: &Tx<'_, B>) -> ApiResult<()> {
    let owner = tx.backend().owner();
    tx.exec(
        "DELETE FROM activity WHERE owner = ? \
         AND seq <= (SELECT max(seq) FROM activity WHERE owner = ?) - ?",
        &[owner.into(), owner.into(), KEEP.into()],
    )?;
    Ok(())
}

/// The owner's newest `limit` entries, newest first. An entry's `id` is its
/// number in the owner's log, so it tells nothing about other libraries.
pub fn list(b: &impl Backend, limit: i64) -> ApiResult<Vec<Json>> {
    let rows = b.execute(
        "SELECT seq, at, rev, course_id, title, kind, detail FROM activity \
         WHERE owner = ? ORDER BY seq DESC LIMIT ?",
        &[b.owner().into(), limit.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let mut entry = Map::new();
            let get = |i: usize| r.get(i).cloned().unwrap_or(Value::Null);
            entry.insert("id".into(), json!(get(0).as_i64()));
            entry.insert("at".into(), json!(get(1).as_str()));
            entry.insert("rev".into(), json!(get(2).as_i64()));
            entry.insert("courseId".into(), json!(get(3).as_str()));
            entry.insert("title".into(), json!(get(4).as_str()));
            entry.insert("kind".into(), json!(get(5).as_str()));
            let detail = get(6)
                .as_str()
                .and_then(|d| serde_json::from_str::<Map<String, Json>>(d).ok())
                .unwrap_or_default();
            entry.extend(detail);
            Json::Object(entry)
        })
        .collect())
}
