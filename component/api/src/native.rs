//! The Backend on rusqlite: native unit tests and the native benchmark
//! baseline run the very handlers and SQL the component runs under Spin.

use crate::backend::{Backend, BackendError, Rows, Value};
use rusqlite::types::Value as SqlValue;
use std::collections::HashMap;
use std::path::Path;

/// Statements kept prepared per connection.
const STATEMENT_CACHE: usize = 64;

pub struct NativeBackend {
    db: rusqlite::Connection,
    kv: rusqlite::Connection,
    variables: HashMap<String, String>,
}

fn err(e: rusqlite::Error) -> BackendError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            BackendError::Busy
        }
        _ => BackendError::Other(e.to_string()),
    }
}

impl NativeBackend {
    /// Both stores in memory: for tests.
    pub fn in_memory() -> Result<Self, BackendError> {
        let db = rusqlite::Connection::open_in_memory().map_err(err)?;
        let kv = rusqlite::Connection::open_in_memory().map_err(err)?;
        Self::setup(db, kv)
    }

    /// Files laid out as tracker-host does: `<dir>/sqlite/default.db` and
    /// `<dir>/key-value.db`, WAL with synchronous=FULL.
    pub fn open_dir(dir: &Path) -> Result<Self, BackendError> {
        let sqlite_dir = dir.join("sqlite");
        std::fs::create_dir_all(&sqlite_dir).map_err(|e| BackendError::Other(e.to_string()))?;
        let db = rusqlite::Connection::open(sqlite_dir.join("default.db")).map_err(err)?;
        let kv = rusqlite::Connection::open(dir.join("key-value.db")).map_err(err)?;
        for c in [&db, &kv] {
            c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
            c.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        }
        Self::setup(db, kv)
    }

    fn setup(db: rusqlite::Connection, kv: rusqlite::Connection) -> Result<Self, BackendError> {
        for c in [&db, &kv] {
            c.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(err)?;
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        }
        kv.execute_batch(
            "CREATE TABLE IF NOT EXISTS spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, \
             value BLOB NOT NULL, PRIMARY KEY (store, key))",
        )
        .map_err(err)?;
        Ok(NativeBackend {
            db,
            kv,
            variables: HashMap::new(),
        })
    }

    pub fn set_variable(&mut self, name: &str, value: &str) {
        self.variables.insert(name.to_owned(), value.to_owned());
    }

    /// The SQLite connection, for tests that inspect or tamper with the schema.
    pub fn connection(&self) -> &rusqlite::Connection {
        &self.db
    }
}

fn to_sql(v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Integer(i) => SqlValue::Integer(*i),
        Value::Real(f) => SqlValue::Real(*f),
        Value::Text(s) => SqlValue::Text(s.clone()),
        Value::Blob(b) => SqlValue::Blob(b.clone()),
    }
}

fn from_sql(v: SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Integer(i),
        SqlValue::Real(f) => Value::Real(f),
        SqlValue::Text(s) => Value::Text(s),
        SqlValue::Blob(b) => Value::Blob(b),
    }
}

const STORE: &str = "default";

impl Backend for NativeBackend {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, BackendError> {
        let mut stmt = self.db.prepare_cached(sql).map_err(err)?;
        let columns = stmt.column_count();
        let params: Vec<SqlValue> = params.iter().map(to_sql).collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(err)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(from_sql(row.get::<_, SqlValue>(i).map_err(err)?));
            }
            out.push(values);
        }
        Ok(out)
    }

    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        let mut stmt = self
            .kv
            .prepare_cached("SELECT value FROM spin_key_value WHERE store = ? AND key = ?")
            .map_err(err)?;
        let mut rows = stmt.query((STORE, key)).map_err(err)?;
        match rows.next().map_err(err)? {
            Some(row) => Ok(Some(row.get::<_, Vec<u8>>(0).map_err(err)?)),
            None => Ok(None),
        }
    }

    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), BackendError> {
        self.kv
            .prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?, ?, ?) \
                 ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut s| s.execute((STORE, key, value)))
            .map(|_| ())
            .map_err(err)
    }

    fn kv_delete(&self, key: &str) -> Result<(), BackendError> {
        self.kv
            .prepare_cached("DELETE FROM spin_key_value WHERE store = ? AND key = ?")
            .and_then(|mut s| s.execute((STORE, key)))
            .map(|_| ())
            .map_err(err)
    }

    fn kv_keys(&self) -> Result<Vec<String>, BackendError> {
        let mut stmt = self
            .kv
            .prepare_cached("SELECT key FROM spin_key_value WHERE store = ?")
            .map_err(err)?;
        let keys = stmt
            .query_map([STORE], |r| r.get::<_, String>(0))
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        Ok(keys)
    }

    fn variable(&self, name: &str) -> Result<Option<String>, BackendError> {
        Ok(self.variables.get(name).cloned())
    }

    fn random_bytes(&self, len: usize) -> Result<Vec<u8>, BackendError> {
        let mut bytes = vec![0; len];
        getrandom::fill(&mut bytes)
            .map_err(|e| BackendError::Other(format!("random source: {e}")))?;
        Ok(bytes)
    }
}
