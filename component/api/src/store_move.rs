//! Moving a single-node instance to PostgreSQL: every course (tombstones included)
//! with its revision, the activity log with its ids, and every key of the
//! key-value store (settings, the calendar feed token), copied from SQLite into an
//! empty PostgreSQL database in one transaction. Clients keep syncing from the
//! revision they had: the history is the same, only its home changed.

use crate::backend::{Backend, Dialect, Value};
use crate::errors::{ApiError, ApiResult};
use crate::store;
use serde::Serialize;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MoveReport {
    pub courses: usize,
    pub tombstones: usize,
    pub activity: usize,
    /// Keys of the key-value store: settings and the calendar feed token.
    pub keys: usize,
    /// The revision the change feed continues from.
    pub rev: i64,
}

const ACTIVITY_COLUMNS: &str = "id, at, rev, course_id, title, kind, detail";

fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(409, code, message)
}

/// Copy the SQLite stores beside `b` into `b`'s PostgreSQL database.
pub fn move_from_sqlite(b: &impl Backend) -> ApiResult<MoveReport> {
    if b.dialect() != Dialect::Postgres {
        return Err(conflict(
            "not_on_postgres",
            "this instance keeps its data in SQLite; set database_url (and database_host) \
             and restart on the same data directory, then move",
        ));
    }
    let source = b.sqlite_source().ok_or_else(|| {
        conflict(
            "no_sqlite_source",
            "this host gives the component no SQLite database to move from",
        )
    })?;
    store::ensure_schema(&source)?;
    let (rev, rows, activity) = store::read_tx(&source, |tx| {
        Ok((
            tx.current_rev()?,
            store::all_rows(&source)?,
            tx.exec(
                &format!("SELECT {ACTIVITY_COLUMNS} FROM activity ORDER BY id"),
                &[],
            )?,
        ))
    })?;
    let mut keys = source.kv_keys()?;
    keys.sort();
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(value) = source.kv_get(&key)? {
            entries.push((key, value));
        }
    }

    store::write_tx(b, |tx| {
        let count = |table: &str| -> ApiResult<i64> {
            let rows = tx.exec(&format!("SELECT count(*) FROM {table}"), &[])?;
            Ok(rows
                .first()
                .and_then(|r| r.first())
                .and_then(Value::as_i64)
                .unwrap_or(0))
        };
        let held = count("courses")? + count("activity")? + count("kv")?;
        if held > 0 || tx.current_rev()? > 0 {
            return Err(conflict(
                "target_not_empty",
                "the PostgreSQL database already holds a library; the move only fills an \
                 empty one, so nothing was changed",
            ));
        }
        let mut report = MoveReport {
            rev,
            ..MoveReport::default()
        };
        for row in &rows {
            store::write_row(b, &row.course, row.deleted)?;
            if row.deleted {
                report.tombstones += 1;
            } else {
                report.courses += 1;
            }
        }
        for entry in &activity {
            tx.exec(
                &format!("INSERT INTO activity ({ACTIVITY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                entry,
            )?;
        }
        report.activity = activity.len();
        // Ids were given explicitly: new entries continue after the last one.
        tx.exec(
            "SELECT setval(pg_get_serial_sequence('activity', 'id'), \
             (SELECT coalesce(max(id), 0) + 1 FROM activity), false)",
            &[],
        )?;
        for (key, value) in &entries {
            b.kv_set(key, value)?;
        }
        report.keys = entries.len();
        tx.advance_rev_to(rev)?;
        Ok(report)
    })
}
