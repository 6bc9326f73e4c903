//! SQL: schema migrations, transactions, and reading/writing course rows.

use crate::backend::{Backend, BackendError, Rows, Value};
use crate::errors::{ApiError, ApiResult};
use crate::model::{Course, Status};
use serde_json::json;
use std::cell::Cell;

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = 2;

struct Migration {
    /// `PRAGMA user_version` after this step.
    version: i64,
    /// Oldest schema version whose code can still read and write the database
    /// after this step. Additive steps keep the previous floor.
    floor: i64,
    statements: &'static [&'static str],
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        floor: 1,
        statements: &[
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('rev', 0)",
            "CREATE TABLE IF NOT EXISTS courses (
            id TEXT PRIMARY KEY NOT NULL,
            title TEXT NOT NULL,
            category TEXT NOT NULL DEFAULT '',
            date TEXT,
            notes TEXT NOT NULL DEFAULT '',
            completion_ratio INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'Pending',
            is_favorite INTEGER NOT NULL DEFAULT 0,
            total_lessons INTEGER NOT NULL DEFAULT 0,
            completed_lessons INTEGER NOT NULL DEFAULT 0,
            deadline TEXT,
            sort_order INTEGER NOT NULL DEFAULT 0,
            pinned_to_dashboard INTEGER NOT NULL DEFAULT 0,
            is_archived INTEGER NOT NULL DEFAULT 0,
            rev INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            completed_at TEXT,
            deleted INTEGER NOT NULL DEFAULT 0
        )",
            "CREATE UNIQUE INDEX IF NOT EXISTS courses_by_rev ON courses (rev)",
            "CREATE TABLE IF NOT EXISTS activity (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            rev INTEGER NOT NULL,
            course_id TEXT NOT NULL,
            title TEXT NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        )",
        ],
    },
    Migration {
        // Additive: schema-1 code ignores the table, so the floor stays.
        version: 2,
        floor: 1,
        statements: &["CREATE TABLE IF NOT EXISTS collection_cache (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            rev INTEGER NOT NULL,
            producer TEXT NOT NULL,
            body TEXT NOT NULL
        )"],
    },
];

/// Who rendered a cached collection: another build may render it differently.
const PRODUCER: &str = concat!(
    env!("CARGO_PKG_NAME"),
    "@",
    env!("CARGO_PKG_VERSION"),
    "+schema2"
);

/// Key of the compatibility floor in `meta`.
const FLOOR_KEY: &str = "min_compatible_schema";

fn scalar(rows: &Rows) -> Option<i64> {
    rows.first().and_then(|r| r.first()).and_then(Value::as_i64)
}

fn user_version(b: &impl Backend) -> Result<i64, BackendError> {
    Ok(scalar(&b.execute("PRAGMA user_version", &[])?).unwrap_or(0))
}

fn floor(b: &impl Backend) -> Result<i64, BackendError> {
    Ok(
        scalar(&b.execute("SELECT value FROM meta WHERE key = ?", &[FLOOR_KEY.into()])?)
            .unwrap_or(0),
    )
}

fn schema_too_new(version: i64, floor: i64) -> ApiError {
    ApiError::new(
        503,
        "schema_too_new",
        format!(
            "the database is at schema version {version} and needs code for schema {floor} or newer; \
             this component knows schema {SCHEMA_VERSION}. Deploy a newer version; nothing was changed"
        ),
    )
    .with_detail("schemaVersion", json!(version))
    .with_detail("minCompatibleSchema", json!(floor))
    .with_detail("supportedSchema", json!(SCHEMA_VERSION))
}

/// Make sure the database is at a schema this code can use, migrating it if
/// it is older. Costs one `PRAGMA` when nothing needs doing.
pub fn ensure_schema(b: &impl Backend) -> ApiResult<()> {
    let version = user_version(b)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version > SCHEMA_VERSION {
        let floor = floor(b)?;
        return if floor > SCHEMA_VERSION {
            Err(schema_too_new(version, floor))
        } else {
            Ok(())
        };
    }
    write_tx(b, |tx| {
        // Another request may have migrated while we waited for the lock.
        let version = user_version(tx.backend())?;
        if version >= SCHEMA_VERSION {
            return Ok(());
        }
        let mut new_floor = if version == 0 {
            0
        } else {
            floor(tx.backend())?
        };
        for m in MIGRATIONS.iter().filter(|m| m.version > version) {
            for sql in m.statements {
                tx.exec(sql, &[])?;
            }
            new_floor = new_floor.max(m.floor);
        }
        tx.exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            &[FLOOR_KEY.into(), new_floor.into()],
        )?;
        // PRAGMA takes no parameters; the value is our own constant.
        tx.exec(&format!("PRAGMA user_version = {SCHEMA_VERSION}"), &[])?;
        Ok(())
    })
}

/// Schema facts for exports and `/health`-like reports.
pub fn schema_info(b: &impl Backend) -> ApiResult<(i64, i64)> {
    Ok((user_version(b)?, floor(b)?))
}

const MAX_BUSY_RETRIES: u32 = 40;

/// One transaction on the backend's connection. Revisions are allocated in
/// memory and written back once at commit.
pub struct Tx<'a, B: Backend> {
    backend: &'a B,
    rev: Cell<Option<i64>>,
    rev_dirty: Cell<bool>,
}

impl<'a, B: Backend> Tx<'a, B> {
    pub fn backend(&self) -> &'a B {
        self.backend
    }

    pub fn exec(&self, sql: &str, params: &[Value]) -> ApiResult<Rows> {
        Ok(self.backend.execute(sql, params)?)
    }

    /// The database-wide revision as of now in this transaction.
    pub fn current_rev(&self) -> ApiResult<i64> {
        if let Some(r) = self.rev.get() {
            return Ok(r);
        }
        let r = current_rev(self.backend)?;
        self.rev.set(Some(r));
        Ok(r)
    }

    /// Bump the database-wide revision counter.
    pub fn next_rev(&self) -> ApiResult<i64> {
        let r = self.current_rev()? + 1;
        self.rev.set(Some(r));
        self.rev_dirty.set(true);
        Ok(r)
    }

    fn flush(&self) -> ApiResult<()> {
        if let (true, Some(r)) = (self.rev_dirty.get(), self.rev.get()) {
            self.exec("UPDATE meta SET value = ? WHERE key = 'rev'", &[r.into()])?;
        }
        Ok(())
    }
}

fn run_with_retry(b: &impl Backend, sql: &str) -> Result<(), BackendError> {
    let mut attempt = 0;
    loop {
        match b.execute(sql, &[]) {
            Err(BackendError::Busy) if attempt < MAX_BUSY_RETRIES => {
                b.backoff(attempt);
                attempt += 1;
            }
            other => return other.map(|_| ()),
        }
    }
}

fn run_tx<B: Backend, T>(
    b: &B,
    begin: &str,
    f: impl FnOnce(&Tx<'_, B>) -> ApiResult<T>,
) -> ApiResult<T> {
    run_with_retry(b, begin)?;
    let tx = Tx {
        backend: b,
        rev: Cell::new(None),
        rev_dirty: Cell::new(false),
    };
    let outcome = f(&tx).and_then(|v| {
        tx.flush()?;
        run_with_retry(b, "COMMIT")?;
        Ok(v)
    });
    if outcome.is_err() {
        // The transaction may already be gone (a failed COMMIT ends it);
        // an error here changes nothing about the answer.
        let _ = b.execute("ROLLBACK", &[]);
    }
    outcome
}

/// A write transaction: takes the write lock up front so two writers never
/// deadlock upgrading read locks.
pub fn write_tx<B: Backend, T>(b: &B, f: impl FnOnce(&Tx<'_, B>) -> ApiResult<T>) -> ApiResult<T> {
    run_tx(b, "BEGIN IMMEDIATE", f)
}

/// A read transaction: one consistent snapshot for several queries.
pub fn read_tx<B: Backend, T>(b: &B, f: impl FnOnce(&Tx<'_, B>) -> ApiResult<T>) -> ApiResult<T> {
    run_tx(b, "BEGIN", f)
}

pub fn current_rev(b: &impl Backend) -> ApiResult<i64> {
    Ok(scalar(&b.execute("SELECT value FROM meta WHERE key = 'rev'", &[])?).unwrap_or(0))
}

pub const COURSE_COLUMNS: &str = "id, title, category, date, notes, completion_ratio, status, \
     is_favorite, total_lessons, completed_lessons, deadline, sort_order, pinned_to_dashboard, \
     is_archived, rev, created_at, updated_at, completed_at, deleted";

/// A stored row: the course and whether it is a tombstone.
#[derive(Debug, Clone)]
pub struct StoredCourse {
    pub course: Course,
    pub deleted: bool,
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn opt_text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::to_opt_string)
}

fn int(v: Option<&Value>) -> i64 {
    v.and_then(Value::as_i64).unwrap_or(0)
}

pub fn row_to_course(row: &[Value]) -> StoredCourse {
    let g = |i: usize| row.get(i);
    StoredCourse {
        course: Course {
            id: text(g(0)),
            title: text(g(1)),
            category: text(g(2)),
            date: opt_text(g(3)),
            notes: text(g(4)),
            completion_ratio: int(g(5)),
            status: Status::parse(&text(g(6))).unwrap_or(Status::Pending),
            is_favorite: int(g(7)) != 0,
            total_lessons: int(g(8)),
            completed_lessons: int(g(9)),
            deadline: opt_text(g(10)),
            sort_order: int(g(11)),
            pinned_to_dashboard: int(g(12)) != 0,
            is_archived: int(g(13)) != 0,
            rev: int(g(14)),
            created_at: text(g(15)),
            updated_at: text(g(16)),
            completed_at: opt_text(g(17)),
        },
        deleted: int(g(18)) != 0,
    }
}

pub fn get_course(b: &impl Backend, id: &str) -> ApiResult<Option<StoredCourse>> {
    let rows = b.execute(
        &format!("SELECT {COURSE_COLUMNS} FROM courses WHERE id = ?"),
        &[id.into()],
    )?;
    Ok(rows.first().map(|r| row_to_course(r)))
}

/// All live courses in display order.
pub fn live_courses(b: &impl Backend) -> ApiResult<Vec<Course>> {
    let rows = b.execute(
        &format!("SELECT {COURSE_COLUMNS} FROM courses WHERE deleted = 0 ORDER BY sort_order, id"),
        &[],
    )?;
    Ok(rows.iter().map(|r| row_to_course(r).course).collect())
}

/// The JSON array of live courses and the revision it shows. Rendering 300 courses
/// is most of the cost of a full-list request and the list changes far less often
/// than it is read, so the rendering is kept per revision and reused until the next
/// write; the revision keys it, so no write has to invalidate anything.
pub fn collection_json(b: &impl Backend) -> ApiResult<(i64, Vec<u8>)> {
    let (rev, cached, body) = read_tx(b, |tx| {
        let rev = tx.current_rev()?;
        let rows = tx.exec(
            "SELECT body FROM collection_cache WHERE id = 1 AND rev = ? AND producer = ?",
            &[rev.into(), PRODUCER.into()],
        )?;
        if let Some(Value::Text(body)) = rows.into_iter().next().and_then(|r| r.into_iter().next())
        {
            return Ok((rev, true, body.into_bytes()));
        }
        let body = serde_json::to_vec(&live_courses(b)?).map_err(|e| {
            ApiError::new(
                500,
                "internal_error",
                format!("cannot render the course list: {e}"),
            )
        })?;
        Ok((rev, false, body))
    })?;
    if !cached && let Ok(text) = std::str::from_utf8(&body) {
        // Best effort: a busy database only means no reuse this time, and a
        // newer writer's rendering must not be replaced by an older one.
        let _ = b.execute(
            "INSERT INTO collection_cache (id, rev, producer, body) VALUES (1, ?, ?, ?)
                 ON CONFLICT(id) DO UPDATE SET rev = excluded.rev, producer = excluded.producer,
                 body = excluded.body WHERE excluded.rev >= collection_cache.rev",
            &[rev.into(), PRODUCER.into(), text.into()],
        );
    }
    Ok((rev, body))
}

/// Every row, tombstones included, keyed for merging.
pub fn all_rows(b: &impl Backend) -> ApiResult<Vec<StoredCourse>> {
    let rows = b.execute(&format!("SELECT {COURSE_COLUMNS} FROM courses"), &[])?;
    Ok(rows.iter().map(|r| row_to_course(r)).collect())
}

pub fn max_sort_order(b: &impl Backend) -> ApiResult<Option<i64>> {
    Ok(scalar(&b.execute(
        "SELECT max(sort_order) FROM courses WHERE deleted = 0",
        &[],
    )?))
}

fn opt(s: &Option<String>) -> Value {
    s.clone().into()
}

/// Insert or overwrite a course row (live or tombstone).
pub fn write_row(b: &impl Backend, c: &Course, deleted: bool) -> ApiResult<()> {
    b.execute(
        &format!(
            "INSERT INTO courses ({COURSE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) \
             ON CONFLICT(id) DO UPDATE SET title = excluded.title, category = excluded.category, \
             date = excluded.date, notes = excluded.notes, completion_ratio = excluded.completion_ratio, \
             status = excluded.status, is_favorite = excluded.is_favorite, \
             total_lessons = excluded.total_lessons, completed_lessons = excluded.completed_lessons, \
             deadline = excluded.deadline, sort_order = excluded.sort_order, \
             pinned_to_dashboard = excluded.pinned_to_dashboard, is_archived = excluded.is_archived, \
             rev = excluded.rev, created_at = excluded.created_at, updated_at = excluded.updated_at, \
             completed_at = excluded.completed_at, deleted = excluded.deleted"
        ),
        &[
            c.id.as_str().into(),
            c.title.as_str().into(),
            c.category.as_str().into(),
            opt(&c.date),
            c.notes.as_str().into(),
            c.completion_ratio.into(),
            c.status.as_str().into(),
            c.is_favorite.into(),
            c.total_lessons.into(),
            c.completed_lessons.into(),
            opt(&c.deadline),
            c.sort_order.into(),
            c.pinned_to_dashboard.into(),
            c.is_archived.into(),
            c.rev.into(),
            c.created_at.as_str().into(),
            c.updated_at.as_str().into(),
            opt(&c.completed_at),
            deleted.into(),
        ],
    )?;
    Ok(())
}
