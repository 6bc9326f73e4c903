//! `spin:sqlite/sqlite@3.0.0` on rusqlite: one file per database label under
//! `<data>/sqlite/<label>.db`.
//!
//! An open `connection` resource owns one pooled rusqlite connection for the
//! instance's lifetime, so a transaction issued as `BEGIN` ... `COMMIT` over
//! several calls stays on one connection. See `database.rs` for the locking.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use rusqlite::types::{Value as SqlValue, ValueRef};
use wasmtime::component::{HasData, Resource, ResourceTable};

use super::bindings::spin::sqlite::sqlite::{self, Error, QueryResult, RowResult, Value};
use crate::database::{Checkout, Database, Held};

/// The databases every component may ask for, opened at start-up.
pub struct SqliteDatabases {
    by_label: BTreeMap<String, Arc<Database>>,
}

impl SqliteDatabases {
    /// Opens `<dir>/<label>.db` for every label any component is granted.
    pub fn open(dir: &Path, labels: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        let mut by_label = BTreeMap::new();
        for label in labels {
            let db = Database::open(&dir.join(format!("{label}.db")), "")?;
            by_label.insert(label, db);
        }
        Ok(Self { by_label })
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Database>> {
        self.by_label.values()
    }
}

/// Per-instance state: which labels this component was granted.
pub struct SqliteCtx {
    databases: Arc<SqliteDatabases>,
    granted: Arc<BTreeSet<String>>,
}

impl SqliteCtx {
    pub fn new(databases: Arc<SqliteDatabases>, granted: Arc<BTreeSet<String>>) -> Self {
        Self { databases, granted }
    }
}

/// The host side of a guest `connection`.
pub struct Connection {
    checkout: Checkout,
}

pub struct SqliteView<'a> {
    pub ctx: &'a mut SqliteCtx,
    pub table: &'a mut ResourceTable,
}

pub struct Sqlite;

impl HasData for Sqlite {
    type Data<'a> = SqliteView<'a>;
}

pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    view: fn(&mut T) -> SqliteView<'_>,
) -> wasmtime::Result<()> {
    sqlite::add_to_linker::<T, Sqlite>(linker, view)
}

impl sqlite::Host for SqliteView<'_> {}

impl sqlite::HostConnection for SqliteView<'_> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        if !self.ctx.granted.contains(&database) {
            // Spin answers AccessDenied for a label the component was not granted;
            // a label no component declares at all is reported as unknown.
            let known = self.ctx.databases.by_label.contains_key(&database);
            return Ok(Err(if known {
                Error::AccessDenied
            } else {
                Error::NoSuchDatabase
            }));
        }
        let Some(db) = self.ctx.databases.by_label.get(&database) else {
            return Ok(Err(Error::NoSuchDatabase));
        };
        match db.checkout().await {
            Ok(checkout) => Ok(Ok(self.table.push(Connection { checkout })?)),
            Err(e) => Ok(Err(Error::Io(format!("{e:#}")))),
        }
    }

    async fn execute(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let checkout = &mut self.table.get_mut(&conn)?.checkout;
        let params: Vec<SqlValue> = parameters.into_iter().map(to_sql).collect();
        Ok(execute(checkout, statement, params).await)
    }

    async fn last_insert_rowid(&mut self, conn: Resource<Connection>) -> wasmtime::Result<i64> {
        let conn = self.table.get(&conn)?;
        Ok(conn
            .checkout
            .held()
            .map_or(0, |h| h.conn.last_insert_rowid()))
    }

    async fn changes(&mut self, conn: Resource<Connection>) -> wasmtime::Result<u64> {
        let conn = self.table.get(&conn)?;
        Ok(conn.checkout.held().map_or(0, |h| h.conn.changes()))
    }

    async fn drop(&mut self, conn: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
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
                    Outcome::Done(run_statement(&held.conn, &sql, params))
                } else {
                    Outcome::NeedsWriter(params)
                }
            })
            .await
            .map_err(io)?;
        match outcome {
            Outcome::Done(result) => {
                // A read-only statement that left a transaction open (SAVEPOINT)
                // must hold the writer lock before its first read or write.
                if !checkout.held().is_some_and(|h| h.conn.is_autocommit()) {
                    checkout.lock_writer().await;
                }
                return result;
            }
            Outcome::NeedsWriter(params) => {
                return execute_as_writer(checkout, statement, params).await;
            }
        }
    }
    execute_as_writer(checkout, statement, params).await
}

async fn execute_as_writer(
    checkout: &mut Checkout,
    statement: String,
    params: Vec<SqlValue>,
) -> Result<QueryResult, Error> {
    checkout.lock_writer().await;
    checkout
        .run(move |held| {
            let result = run_statement(&held.conn, &statement, params);
            held.release_writer_if_idle();
            result
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

fn run_statement(
    conn: &rusqlite::Connection,
    sql: &str,
    params: Vec<SqlValue>,
) -> Result<QueryResult, Error> {
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

fn sql_error(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => Error::DatabaseFull,
        _ => Error::Io(e.to_string()),
    }
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
