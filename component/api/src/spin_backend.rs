//! The Backend on Spin: spin:sqlite@3.0.0, fermyon:spin/key-value@2.0.0 and
//! fermyon:spin/variables@2.0.0, plus the WASI HTTP entry point.

use crate::backend::{Backend, BackendError, Rows, Value};
use crate::http::{Request, Response};
use crate::routes;
use futures::StreamExt;
use spin_sdk::http::{IncomingRequest, Response as SpinResponse};
use spin_sdk::http_component;
use spin_sdk::{key_value, sqlite3, variables};
use std::cell::OnceCell;

/// Opens the database and the store on first use only: `/health` and the
/// settings routes never open SQLite.
struct SpinBackend {
    db: OnceCell<sqlite3::Connection>,
    kv: OnceCell<key_value::Store>,
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

impl SpinBackend {
    fn db(&self) -> Result<&sqlite3::Connection, BackendError> {
        if let Some(c) = self.db.get() {
            return Ok(c);
        }
        let c = sqlite3::Connection::open_default().map_err(sql_err)?;
        Ok(self.db.get_or_init(|| c))
    }

    fn kv(&self) -> Result<&key_value::Store, BackendError> {
        if let Some(s) = self.kv.get() {
            return Ok(s);
        }
        let s = key_value::Store::open_default().map_err(kv_err)?;
        Ok(self.kv.get_or_init(|| s))
    }
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

impl Backend for SpinBackend {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, BackendError> {
        let params: Vec<sqlite3::Value> = params.iter().map(to_spin).collect();
        let result = self.db()?.execute(sql, &params).map_err(sql_err)?;
        Ok(result
            .rows
            .into_iter()
            .map(|r| r.values.into_iter().map(from_spin).collect())
            .collect())
    }

    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        self.kv()?.get(key).map_err(kv_err)
    }

    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), BackendError> {
        self.kv()?.set(key, value).map_err(kv_err)
    }

    fn kv_delete(&self, key: &str) -> Result<(), BackendError> {
        self.kv()?.delete(key).map_err(kv_err)
    }

    fn kv_keys(&self) -> Result<Vec<String>, BackendError> {
        self.kv()?.get_keys().map_err(kv_err)
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
        db: OnceCell::new(),
        kv: OnceCell::new(),
    };
    let response: Response = crate::handle(&backend, request);
    let mut builder = SpinResponse::builder();
    builder.status(response.status);
    for (name, value) in &response.headers {
        builder.header(name.as_str(), value.as_str());
    }
    builder.body(response.body).build()
}
