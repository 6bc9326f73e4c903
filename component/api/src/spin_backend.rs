//! The Backend on Spin: spin:sqlite@3.0.0, fermyon:spin/key-value@2.0.0 and
//! fermyon:spin/variables@2.0.0, or spin:postgres/postgres@4.0.0 when the
//! `database_url` variable is set; plus the WASI HTTP entry point.

use crate::backend::{Backend, BackendError, Dialect, Rows, Value, numbered_placeholders};
use crate::http::{Request, Response};
use crate::routes;
use futures::StreamExt;
use spin_sdk::http::{IncomingRequest, Response as SpinResponse};
use spin_sdk::http_component;
use spin_sdk::pg4;
use spin_sdk::{key_value, sqlite3, variables};
use std::cell::OnceCell;

/// The variable that switches the store to PostgreSQL.
const DATABASE_URL: &str = "database_url";

/// Picks and opens its store on first use only: `/health` reads no variable and
/// opens nothing, and on SQLite the settings routes never open the database.
struct SpinBackend {
    store: OnceCell<Store>,
}

enum Store {
    Sqlite {
        db: OnceCell<sqlite3::Connection>,
        kv: OnceCell<key_value::Store>,
    },
    Postgres {
        url: String,
        db: OnceCell<pg4::Connection>,
    },
}

fn sql_err(e: sqlite3::Error) -> BackendError {
    match e {
        sqlite3::Error::Io(msg) => BackendError::from_message(msg),
        other => BackendError::Other(format!("{other:?}")),
    }
}

fn kv_err(e: key_value::Error) -> BackendError {
    BackendError::Other(format!("key-value: {e:?}"))
}

/// PostgreSQL errors by what the caller can do about them. The URL holds a
/// password, so it never appears in a message.
fn pg_err(e: pg4::PgError, url: &str) -> BackendError {
    let hide = |msg: String| msg.replace(url, "<database_url>");
    match e {
        pg4::PgError::ConnectionFailed(msg) => BackendError::Unavailable(hide(msg)),
        pg4::PgError::QueryFailed(pg4::QueryError::DbError(db)) => {
            // SQLSTATE class 08 is "connection exception", 57P0x the server
            // shutting down or starting; 40001/40P01 are worth retrying.
            let code = db.code.as_str();
            if code.starts_with("08") || code.starts_with("57P0") {
                BackendError::Unavailable(hide(db.message))
            } else if code == "40001" || code == "40P01" {
                BackendError::Busy
            } else {
                BackendError::Other(hide(db.as_text))
            }
        }
        pg4::PgError::QueryFailed(pg4::QueryError::Text(msg)) => {
            // A pooled connection the server closed under us.
            let lower = msg.to_ascii_lowercase();
            if lower.contains("closed") || lower.contains("connection") {
                BackendError::Unavailable(hide(msg))
            } else {
                BackendError::Other(hide(msg))
            }
        }
        other => BackendError::Other(hide(format!("{other:?}"))),
    }
}

impl Store {
    fn sqlite() -> Self {
        Store::Sqlite {
            db: OnceCell::new(),
            kv: OnceCell::new(),
        }
    }
}

impl SpinBackend {
    fn store(&self) -> &Store {
        self.store
            .get_or_init(|| match variables::get(DATABASE_URL) {
                Ok(url) if !url.trim().is_empty() => Store::Postgres {
                    url: url.trim().to_owned(),
                    db: OnceCell::new(),
                },
                _ => Store::sqlite(),
            })
    }

    fn sqlite(&self) -> Result<&sqlite3::Connection, BackendError> {
        let Store::Sqlite { db, .. } = self.store() else {
            return Err(BackendError::Other("not in SQLite mode".into()));
        };
        if let Some(c) = db.get() {
            return Ok(c);
        }
        let c = sqlite3::Connection::open_default().map_err(sql_err)?;
        Ok(db.get_or_init(|| c))
    }

    fn kv(&self) -> Result<&key_value::Store, BackendError> {
        let Store::Sqlite { kv, .. } = self.store() else {
            return Err(BackendError::Other("not in SQLite mode".into()));
        };
        if let Some(s) = kv.get() {
            return Ok(s);
        }
        let s = key_value::Store::open_default().map_err(kv_err)?;
        Ok(kv.get_or_init(|| s))
    }

    fn pg_query(
        &self,
        url: &str,
        db: &OnceCell<pg4::Connection>,
        sql: &str,
        params: &[Value],
    ) -> Result<Rows, BackendError> {
        let conn = match db.get() {
            Some(c) => c,
            None => {
                let c = pg4::Connection::open(url).map_err(|e| pg_err(e, url))?;
                db.get_or_init(|| c)
            }
        };
        let params: Vec<pg4::ParameterValue> = params.iter().map(to_pg).collect();
        let sql = numbered_placeholders(sql);
        if !returns_rows(&sql) {
            conn.execute(&sql, &params).map_err(|e| pg_err(e, url))?;
            return Ok(Rows::new());
        }
        let result = conn
            .query(&with_sentinel_row(&sql), &params)
            .map_err(|e| pg_err(e, url))?;
        // The first column numbers the real rows; the sentinel row has NULL there.
        Ok(result
            .rows
            .into_iter()
            .filter(|r| !matches!(r.first(), None | Some(pg4::DbValue::DbNull)))
            .map(|r| r.into_iter().skip(1).map(from_pg).collect())
            .collect())
    }
}

fn returns_rows(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("SELECT"))
}

/// `sql` with one extra, all-NULL row after its own rows, and its rows numbered.
///
/// Spin 4.1's `query` never returns when a statement yields no rows (it waits for
/// the column list, which it only learns from a first row), so a query must always
/// yield one. A LEFT JOIN from a one-row relation does that; `row_number()` keeps
/// the statement's own order and tells its rows from the sentinel.
fn with_sentinel_row(sql: &str) -> String {
    format!(
        "SELECT q.* FROM (SELECT 1) AS one LEFT JOIN \
         (SELECT row_number() OVER () AS sentinel_n, i.* FROM ({sql}) AS i) AS q ON true \
         ORDER BY q.sentinel_n"
    )
}

fn to_spin(v: &Value) -> sqlite3::Value {
    match v {
        Value::Null => sqlite3::Value::Null,
        Value::Integer(i) => sqlite3::Value::Integer(*i),
        Value::Real(f) => sqlite3::Value::Real(*f),
        Value::Text(s) => sqlite3::Value::Text(s.clone()),
        Value::Blob(b) => sqlite3::Value::Blob(b.clone()),
    }
}

fn from_spin(v: sqlite3::Value) -> Value {
    match v {
        sqlite3::Value::Null => Value::Null,
        sqlite3::Value::Integer(i) => Value::Integer(i),
        sqlite3::Value::Real(f) => Value::Real(f),
        sqlite3::Value::Text(s) => Value::Text(s),
        sqlite3::Value::Blob(b) => Value::Blob(b),
    }
}

/// Every integer column is BIGINT, so integers always go as INT8.
fn to_pg(v: &Value) -> pg4::ParameterValue {
    match v {
        Value::Null => pg4::ParameterValue::DbNull,
        Value::Integer(i) => pg4::ParameterValue::Int64(*i),
        Value::Real(f) => pg4::ParameterValue::Floating64(*f),
        Value::Text(s) => pg4::ParameterValue::Str(s.clone()),
        Value::Blob(b) => pg4::ParameterValue::Binary(b.clone()),
    }
}

fn from_pg(v: pg4::DbValue) -> Value {
    match v {
        pg4::DbValue::Boolean(b) => Value::Integer(i64::from(b)),
        pg4::DbValue::Int8(i) => Value::Integer(i64::from(i)),
        pg4::DbValue::Int16(i) => Value::Integer(i64::from(i)),
        pg4::DbValue::Int32(i) => Value::Integer(i64::from(i)),
        pg4::DbValue::Int64(i) => Value::Integer(i),
        pg4::DbValue::Floating32(f) => Value::Real(f64::from(f)),
        pg4::DbValue::Floating64(f) => Value::Real(f),
        pg4::DbValue::Str(s) => Value::Text(s),
        pg4::DbValue::Binary(b) => Value::Blob(b),
        // The schema uses none of the other types.
        _ => Value::Null,
    }
}

const KV_GET: &str = "SELECT value FROM kv WHERE key = ?";
const KV_SET: &str = "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const KV_DELETE: &str = "DELETE FROM kv WHERE key = ?";
const KV_KEYS: &str = "SELECT key FROM kv";

impl Backend for SpinBackend {
    fn dialect(&self) -> Dialect {
        match self.store() {
            Store::Sqlite { .. } => Dialect::Sqlite,
            Store::Postgres { .. } => Dialect::Postgres,
        }
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, BackendError> {
        if let Store::Postgres { url, db } = self.store() {
            return self.pg_query(url, db, sql, params);
        }
        let params: Vec<sqlite3::Value> = params.iter().map(to_spin).collect();
        let result = self.sqlite()?.execute(sql, &params).map_err(sql_err)?;
        Ok(result
            .rows
            .into_iter()
            .map(|r| r.values.into_iter().map(from_spin).collect())
            .collect())
    }

    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        match self.store() {
            Store::Postgres { .. } => Ok(self
                .execute(KV_GET, &[key.into()])?
                .into_iter()
                .next()
                .and_then(|r| r.into_iter().next())
                .and_then(|v| match v {
                    Value::Blob(b) => Some(b),
                    _ => None,
                })),
            Store::Sqlite { .. } => self.kv()?.get(key).map_err(kv_err),
        }
    }

    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), BackendError> {
        match self.store() {
            Store::Postgres { .. } => {
                self.execute(KV_SET, &[key.into(), Value::Blob(value.to_vec())])?;
                Ok(())
            }
            Store::Sqlite { .. } => self.kv()?.set(key, value).map_err(kv_err),
        }
    }

    fn kv_delete(&self, key: &str) -> Result<(), BackendError> {
        match self.store() {
            Store::Postgres { .. } => {
                self.execute(KV_DELETE, &[key.into()])?;
                Ok(())
            }
            Store::Sqlite { .. } => self.kv()?.delete(key).map_err(kv_err),
        }
    }

    fn kv_keys(&self) -> Result<Vec<String>, BackendError> {
        match self.store() {
            Store::Postgres { .. } => Ok(self
                .execute(KV_KEYS, &[])?
                .into_iter()
                .filter_map(|r| r.into_iter().next().and_then(|v| v.to_opt_string()))
                .collect()),
            Store::Sqlite { .. } => self.kv()?.get_keys().map_err(kv_err),
        }
    }

    fn sqlite_source(&self) -> Option<Box<dyn Backend>> {
        matches!(self.store(), Store::Postgres { .. }).then(|| {
            Box::new(SpinBackend {
                store: OnceCell::from(Store::sqlite()),
            }) as Box<dyn Backend>
        })
    }

    fn variable(&self, name: &str) -> Result<Option<String>, BackendError> {
        match variables::get(name) {
            Ok(v) => Ok(Some(v)),
            Err(variables::Error::Undefined(_)) => Ok(None),
            Err(e) => Err(BackendError::Other(format!("variables: {e:?}"))),
        }
    }

    fn random_bytes(&self, len: usize) -> Result<Vec<u8>, BackendError> {
        // wasi:random/random, which every WASI 0.2 host provides (the `wasi` crate
        // is the one spin-sdk itself links).
        let len = u64::try_from(len).map_err(|e| BackendError::Other(e.to_string()))?;
        Ok(wasi::random::random::get_random_bytes(len))
    }
}

/// Read the body, keeping at most `limit + 1` bytes (enough for the handler
/// to see that it is too large). The rest is drained, not stored: a client
/// still sending when we answer would otherwise see a broken connection
/// instead of our 413. The host's own body cap bounds the draining.
async fn read_capped(req: IncomingRequest, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = req.into_body_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        let room = (limit + 1).saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    body
}

#[http_component]
async fn serve(req: IncomingRequest) -> SpinResponse {
    let method = req.method().to_string().to_ascii_uppercase();
    let path_and_query = req.path_with_query().unwrap_or_else(|| "/".to_owned());
    let mut request = Request::new(&method, &path_and_query);
    request.headers = req
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let limit = routes::body_limit(&request.path);
    request.body = read_capped(req, limit).await;
    let backend = SpinBackend {
        store: OnceCell::new(),
    };
    let response: Response = crate::handle(&backend, request);
    let mut builder = SpinResponse::builder();
    builder.status(response.status);
    for (name, value) in &response.headers {
        builder.header(name.as_str(), value.as_str());
    }
    builder.body(response.body).build()
}
