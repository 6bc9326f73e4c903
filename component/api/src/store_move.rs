//! Moving a single-node instance to PostgreSQL: every owner's courses (tombstones
//! included) with their revisions, the activity logs with their numbers, and every
//! key of the key-value store (settings, calendar feed tokens, of every owner),
//! copied from SQLite into an empty PostgreSQL database in one transaction.
//! Clients keep syncing from the revision they had: the history is the same, only
//! its home changed.
//!
//! Accounts (their tables of schema 4) come along too.
//!
//! The move is about the whole store, not one library: it reads and writes every
//! owner's rows by name and the key-value keys as stored (owner prefixes and all),
//! whichever owner the request came from.

use crate::backend::{Backend, Dialect, Value};
use crate::errors::{ApiError, ApiResult};
use crate::library::{FIRST_OWNER, Library};
use crate::store::{self, StoredCourse};
use serde::Serialize;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MoveReport {
    pub courses: usize,
    pub tombstones: usize,
    pub activity: usize,
    /// Keys of the key-value store: settings and calendar feed tokens.
    pub keys: usize,
    /// The revision the first owner's change feed continues from.
    pub rev: i64,
    /// Owners whose library came along (each with its own revision).
    pub libraries: usize,
    /// Accounts that came along (with their sessions, tokens and invitations).
    pub accounts: usize,
}

const ACTIVITY_COLUMNS: &str = "owner, seq, at, rev, course_id, title, kind, detail";

/// The account tables (schema 4) and their columns, copied as they are: people
/// keep their accounts, sessions, tokens and pending invitations across the move.
/// Without them an instance with accounts would arrive with none, and the first
/// visitor could set up an admin who owns owner 1's library. Failed sign-ins are
/// not worth moving.
const ACCOUNT_TABLES: &[(&str, &str)] = &[
    (
        "accounts",
        "id, username, password, is_admin, disabled, share_progress, created_at, last_seen_ms",
    ),
    (
        "sessions",
        "token_sha256, account_id, created_ms, last_seen_ms",
    ),
    (
        "api_tokens",
        "id, token_sha256, account_id, name, created_ms, last_used_ms",
    ),
    (
        "invites",
        "id, token_sha256, created_by, created_ms, expires_ms, used_by",
    ),
];

/// `meta` rows that belong to the accounts, not to the schema.
const ACCOUNT_META: &str = "last_account_id";

fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(409, code, message)
}

fn int(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or(0)
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
    let (libraries, rows, activity, accounts, last_id) = store::read_tx(&source, |tx| {
        let libraries: Vec<(i64, i64)> = tx
            .exec("SELECT owner, rev FROM libraries ORDER BY owner", &[])?
            .iter()
            .map(|r| (int(r.first()), int(r.get(1))))
            .collect();
        let rows: Vec<(i64, StoredCourse)> = tx
            .exec(
                &format!(
                    "SELECT owner, {} FROM courses ORDER BY owner, rev",
                    store::COURSE_COLUMNS
                ),
                &[],
            )?
            .iter()
            .filter_map(|r| r.split_first())
            .map(|(owner, course)| (int(Some(owner)), store::row_to_course(course)))
            .collect();
        let activity = tx.exec(
            &format!("SELECT {ACTIVITY_COLUMNS} FROM activity ORDER BY owner, seq"),
            &[],
        )?;
        let mut accounts = Vec::new();
        for (table, columns) in ACCOUNT_TABLES {
            accounts.push(tx.exec(&format!("SELECT {columns} FROM {table}"), &[])?);
        }
        let last_id = tx.exec(
            "SELECT value FROM meta WHERE key = ?",
            &[ACCOUNT_META.into()],
        )?;
        Ok((libraries, rows, activity, accounts, last_id))
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
        let count = |sql: &str| -> ApiResult<i64> {
            let rows = tx.exec(sql, &[])?;
            Ok(int(rows.first().and_then(|r| r.first())))
        };
        let held = count("SELECT count(*) FROM courses")?
            + count("SELECT count(*) FROM activity")?
            + count("SELECT count(*) FROM kv")?
            + count("SELECT count(*) FROM accounts")?;
        if held > 0 || count("SELECT coalesce(max(rev), 0) FROM libraries")? > 0 {
            return Err(conflict(
                "target_not_empty",
                "the PostgreSQL database already holds a library; the move only fills an \
                 empty one, so nothing was changed",
            ));
        }
        let mut report = MoveReport {
            rev: libraries
                .iter()
                .find(|(owner, _)| *owner == FIRST_OWNER)
                .map_or(0, |(_, rev)| *rev),
            libraries: libraries.len(),
            ..MoveReport::default()
        };
        for (owner, row) in &rows {
            store::write_row(&Library::new(b, *owner), &row.course, row.deleted)?;
            if row.deleted {
                report.tombstones += 1;
            } else {
                report.courses += 1;
            }
        }
        for entry in &activity {
            tx.exec(
                &format!(
                    "INSERT INTO activity ({ACTIVITY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                entry,
            )?;
        }
        report.activity = activity.len();
        // Keys as stored, not through `b`: a library view would prefix them again.
        for (key, value) in &entries {
            tx.exec(
                "INSERT INTO kv (key, value) VALUES (?, ?) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[key.as_str().into(), Value::Blob(value.clone())],
            )?;
        }
        report.keys = entries.len();
        for (owner, rev) in &libraries {
            tx.exec(
                "INSERT INTO libraries (owner, rev) VALUES (?, ?) \
                 ON CONFLICT (owner) DO UPDATE SET rev = excluded.rev",
                &[(*owner).into(), (*rev).into()],
            )?;
        }
        for ((table, columns), rows) in ACCOUNT_TABLES.iter().zip(&accounts) {
            let marks = vec!["?"; columns.split(',').count()].join(", ");
            for row in rows {
                tx.exec(
                    &format!("INSERT INTO {table} ({columns}) VALUES ({marks})"),
                    row,
                )?;
            }
        }
        report.accounts = accounts.first().map_or(0, Vec::len);
        if let Some(id) = last_id
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_i64)
        {
            tx.exec(
                "INSERT INTO meta (key, value) VALUES (?, ?) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[ACCOUNT_META.into(), id.into()],
            )?;
        }
        Ok(report)
    })
}
