//! The SQLite backend on local files: `<data>/sqlite/<label>.db`, each a
//! [`Database`] (pool and writer lock; see `database.rs` for the locking).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rusqlite::types::{Value as SqlValue, ValueRef};

use super::{SqliteBackend, SqliteConnection};
use crate::caps::Stored;
use crate::caps::bindings::spin::sqlite::sqlite::{Error, QueryResult, RowResult, Value};
use crate::data_dir::DataDir;
use crate::database::{Checkout, Database, Held, is_busy};

pub const STORED: Stored = Stored::Databases("sqlite");

/// The databases every component may ask for, opened at start-up.
pub struct SqliteFiles {
    by_label: BTreeMap<String, Arc<Database>>,
}

impl SqliteFiles {
    /// Opens `<data>/sqlite/<label>.db` for every label any component is granted.
    pub fn open(data: &DataDir, labels: &BTreeSet<String>) -> anyhow::Result<Self> {
        let mut by_label = BTreeMap::new();
        for label in labels {
            let db = Database::open(&STORED.path(data, label), "")?;
            by_label.insert(label.clone(), db);
        }
        Ok(Self { by_label })
    }
}

#[async_trait::async_trait]
impl SqliteBackend for SqliteFiles {
    async fn connect(&self, database: &str) -> Result<Box<dyn SqliteConnection>, Error> {
        let Some(db) = self.by_label.get(database) else {
            return Err(Error::NoSuchDatabase);
        };
        match db.checkout().await {
            Ok(checkout) => Ok(Box::new(FileConnection { checkout })),
            Err(e) => Err(Error::Io(format!("{e:#}"))),
        }
    }

    fn shutdown(&self) {
        for db in self.by_label.values() {
            db.shutdown();
        }
    }
}

/// A pooled connection, checked out for one guest connection's life.
struct FileConnection {
    checkout: Checkout,
}

#[async_trait::async_trait]
impl SqliteConnection for FileConnection {
    async fn execute(
        &mut self,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, Error> {
        let params: Vec<SqlValue> = parameters.into_iter().map(to_sql).collect();
        execute(&mut self.checkout, statement, params).await
    }

    fn last_insert_rowid(&self) -> i64 {
        self.checkout
            .held()
            .map_or(0, |h| h.conn.last_insert_rowid())
    }

    fn changes(&self) -> u64 {
        self.checkout.held().map_or(0, |h| h.conn.changes())
    }
}

enum Outcome {
    Done(Result<QueryResult, Error>),
    /// The statement may write or opens a transaction: retry holding the writer lock.
    NeedsWriter(Vec<SqlValue>),
}

async fn execute(
    checkout: &mut Checkout,
    statement: String,
    params: Vec<SqlValue>,
) -> Result<QueryResult, Error> {
    let io = |e: anyhow::Error| Error::Io(format!("{e:#}"));
    let begins = starts_transaction(&statement);

    if !begins && !checkout.held().is_some_and(Held::holds_writer) {
        // A read in autocommit mode runs here, without waiting for locks (see
        // database.rs); one that meets a lock goes to the blocking pool below.
        let here = checkout.held_mut().and_then(|held| {
            let readonly_now = held.conn.is_autocommit()
                && held
                    .conn
                    .prepare_cached(&statement)
                    .map(|s| s.readonly())
                    .unwrap_or(false);
            if !readonly_now {
                return None;
            }
            match held.without_waiting(|conn| run_statement(conn, &statement, &params)) {
                Err(Failed::Busy(_)) => None,
                done => Some(done),
            }
        });
        if let Some(result) = here {
            return finish_read(checkout, result).await;
        }
        let sql = statement.clone();
        let outcome = checkout
            .run(move |held| {
                let readonly_now = held.conn.is_autocommit()
                    && held
                        .conn
                        .prepare_cached(&sql)
                        .map(|s| s.readonly())
                        .unwrap_or(false);
                if readonly_now {
                    Outcome::Done(run_statement(&held.conn, &sql, &params).map_err(Error::from))
                } else {
                    Outcome::NeedsWriter(params)
                }
            })
            .await
            .map_err(io)?;
        match outcome {
            Outcome::Done(result) => {
                return finish_read(checkout, result.map_err(Failed::Sql)).await;
            }
            Outcome::NeedsWriter(params) => {
                return execute_as_writer(checkout, statement, params).await;
            }
        }
    }
    execute_as_writer(checkout, statement, params).await
}

/// After a read-only statement: one that left a transaction open (SAVEPOINT) must
/// hold the writer lock before its next read or write.
async fn finish_read(
    checkout: &mut Checkout,
    result: Result<QueryResult, Failed>,
) -> Result<QueryResult, Error> {
    if !checkout.held().is_some_and(|h| h.conn.is_autocommit()) {
        checkout.lock_writer().await;
    }
    result.map_err(Error::from)
}

async fn execute_as_writer(
    checkout: &mut Checkout,
    statement: String,
    params: Vec<SqlValue>,
) -> Result<QueryResult, Error> {
    checkout.lock_writer().await;
    checkout
        .run(move |held| {
            let result = run_statement(&held.conn, &statement, &params);
            held.release_writer_if_idle();
            result.map_err(Error::from)
        })
        .await
        .map_err(|e| Error::Io(format!("{e:#}")))?
}

fn starts_transaction(statement: &str) -> bool {
    statement
        .trim_start()
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case("begin"))
}

/// A statement's failure; `Busy` only where the busy timeout was off.
enum Failed {
    Busy(String),
    Sql(Error),
}

impl From<Failed> for Error {
    fn from(f: Failed) -> Self {
        match f {
            Failed::Busy(message) => Error::Io(message),
            Failed::Sql(e) => e,
        }
    }
}

fn run_statement(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[SqlValue],
) -> Result<QueryResult, Failed> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(sql_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map(from_sql).map_err(sql_error))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(RowResult { values });
    }
    Ok(QueryResult { columns, rows: out })
}

fn sql_error(e: rusqlite::Error) -> Failed {
    if is_busy(&e) {
        return Failed::Busy(e.to_string());
    }
    Failed::Sql(match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => Error::DatabaseFull,
        _ => Error::Io(e.to_string()),
    })
}

fn to_sql(v: Value) -> SqlValue {
    match v {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(f) => SqlValue::Real(f),
        Value::Text(s) => SqlValue::Text(s),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    }
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        // SQLite does not check that text is UTF-8; the fast check covers what it holds.
        ValueRef::Text(t) => Value::Text(match std::str::from_utf8(t) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(t).into_owned(),
        }),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Null => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, Arc<Database>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::open(
            &dir.path().join("s.db"),
            "CREATE TABLE t(k TEXT PRIMARY KEY, n INTEGER);",
        )
        .expect("open");
        (dir, db)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn transaction_over_several_calls_stays_on_one_connection() {
        let (_dir, db) = db().await;
        let mut c = db.checkout().await.expect("checkout");
        execute(&mut c, "BEGIN".into(), vec![])
            .await
            .expect("begin");
        execute(&mut c, "INSERT INTO t VALUES ('a', 1)".into(), vec![])
            .await
            .expect("insert");
        // Another connection does not see the uncommitted row...
        let seen: i64 = db
            .read(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
            .await
            .expect("read");
        assert_eq!(seen, 0);
        execute(&mut c, "COMMIT".into(), vec![])
            .await
            .expect("commit");
        assert!(!c.held().expect("held").holds_writer());
        // ...and sees it after COMMIT.
        let seen: i64 = db
            .read(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
            .await
            .expect("read");
        assert_eq!(seen, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_read_modify_write_transactions_do_not_fail_busy() {
        let (_dir, db) = db().await;
        db.write(|c| c.execute("INSERT INTO t VALUES ('n', 0)", []))
            .await
            .expect("seed");
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    let mut c = db.checkout().await.expect("checkout");
                    execute(&mut c, "BEGIN".into(), vec![]).await?;
                    let r = execute(&mut c, "SELECT n FROM t WHERE k = 'n'".into(), vec![]).await?;
                    let Value::Integer(n) = r.rows[0].values[0] else {
                        panic!("integer expected")
                    };
                    execute(
                        &mut c,
                        "UPDATE t SET n = ? WHERE k = 'n'".into(),
                        vec![SqlValue::Integer(n + 1)],
                    )
                    .await?;
                    execute(&mut c, "COMMIT".into(), vec![]).await?;
                }
                Ok::<_, Error>(())
            }));
        }
        for t in tasks {
            t.await.expect("task").expect("no SQLITE_BUSY");
        }
        let n: i64 = db
            .read(|c| c.query_row("SELECT n FROM t WHERE k = 'n'", [], |r| r.get(0)))
            .await
            .expect("read");
        assert_eq!(n, 80, "no lost update");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn values_round_trip_with_their_types() {
        let (_dir, db) = db().await;
        let mut c = db.checkout().await.expect("checkout");
        let r = execute(
            &mut c,
            "SELECT ?, ?, ?, ?, ?".into(),
            vec![
                SqlValue::Integer(-7),
                SqlValue::Real(1.5),
                SqlValue::Text("héllo".into()),
                SqlValue::Blob(vec![0, 255]),
                SqlValue::Null,
            ],
        )
        .await
        .expect("select");
        assert_eq!(r.columns.len(), 5);
        let v = &r.rows[0].values;
        assert!(matches!(v[0], Value::Integer(-7)));
        assert!(matches!(v[1], Value::Real(f) if f == 1.5));
        assert!(matches!(&v[2], Value::Text(s) if s == "héllo"));
        assert!(matches!(&v[3], Value::Blob(b) if b == &[0, 255]));
        assert!(matches!(v[4], Value::Null));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sql_errors_are_reported_not_trapped() {
        let (_dir, db) = db().await;
        let mut c = db.checkout().await.expect("checkout");
        let e = execute(&mut c, "SELEC nonsense".into(), vec![]).await;
        assert!(matches!(e, Err(Error::Io(_))));
        // The connection stays usable.
        execute(&mut c, "SELECT 1".into(), vec![])
            .await
            .expect("usable");
    }
}
