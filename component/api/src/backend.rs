//! The capabilities the API needs from its host, as one small trait.
//!
//! On wasm32 it is implemented over spin-sdk (`spin_backend`); natively over
//! rusqlite (`native`, feature `native`). Handlers only ever see `&impl Backend`.

/// A SQLite value, as both spin:sqlite@3.0.0 and rusqlite model it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Blob(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// Text, or `None` for NULL (and for anything that is not text).
    pub fn to_opt_string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Integer(i64::from(b))
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Self {
        s.map_or(Value::Null, Value::Text)
    }
}

/// The rows a statement produced (empty for statements that return none).
pub type Rows = Vec<Vec<Value>>;

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Another writer holds the database; worth retrying shortly.
    #[error("database is busy")]
    Busy,
    /// The database server cannot be reached (PostgreSQL mode); worth retrying
    /// once it is back, with no restart needed.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Other(String),
}

impl BackendError {
    /// Classify an error message from SQLite (both hosts report busy as text).
    pub fn from_message(message: String) -> Self {
        let lower = message.to_ascii_lowercase();
        if lower.contains("database is locked") || lower.contains("busy") {
            BackendError::Busy
        } else {
            BackendError::Other(message)
        }
    }
}

/// The SQL the store speaks. Only migrations, transaction openers and the
/// schema-version lookup differ; every other statement is written once, in the
/// subset both engines read alike, with `?` placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// `?` placeholders numbered as PostgreSQL wants them (`$1`, `$2`, ...). Quoted
/// text is left alone, so a literal `'?'` stays a question mark.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quoted = false;
    for ch in sql.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(ch),
        }
    }
    out
}

/// What the API needs from the host: one SQLite database, one key-value store,
/// variables, and a clock.
pub trait Backend {
    /// Which engine `execute` talks to.
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    /// Whose library statements read and write (see `library`); the single
    /// library of an instance without accounts is the first owner's.
    fn owner(&self) -> i64 {
        crate::library::FIRST_OWNER
    }

    /// Run one SQL statement with positional parameters and return its rows.
    /// Transactions are plain `BEGIN IMMEDIATE` / `COMMIT` / `ROLLBACK`
    /// statements on the same connection (see `store::Tx`).
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, BackendError>;

    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError>;
    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), BackendError>;
    fn kv_delete(&self, key: &str) -> Result<(), BackendError>;
    fn kv_keys(&self) -> Result<Vec<String>, BackendError>;

    /// A Spin variable; `Ok(None)` when it is not defined.
    fn variable(&self, name: &str) -> Result<Option<String>, BackendError>;

    /// `len` bytes from a cryptographically secure source (secrets are made of them).
    fn random_bytes(&self, len: usize) -> Result<Vec<u8>, BackendError>;

    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// The single-node stores (SQLite and key-value) while the API runs on
    /// PostgreSQL: where `POST /api/store/move-from-sqlite` reads. `None` where
    /// there are none beside the current store.
    fn sqlite_source(&self) -> Option<Box<dyn Backend>> {
        None
    }

    /// Wait a little before retrying a busy database.
    fn backoff(&self, attempt: u32) {
        std::thread::sleep(std::time::Duration::from_millis(u64::from(
            5 * (attempt + 1),
        )));
    }
}

/// A boxed backend is a backend, so handlers generic over `impl Backend` also read
/// from [`Backend::sqlite_source`].
impl Backend for Box<dyn Backend> {
    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }
    fn owner(&self) -> i64 {
        (**self).owner()
    }
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, BackendError> {
        (**self).execute(sql, params)
    }
    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        (**self).kv_get(key)
    }
    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), BackendError> {
        (**self).kv_set(key, value)
    }
    fn kv_delete(&self, key: &str) -> Result<(), BackendError> {
        (**self).kv_delete(key)
    }
    fn kv_keys(&self) -> Result<Vec<String>, BackendError> {
        (**self).kv_keys()
    }
    fn variable(&self, name: &str) -> Result<Option<String>, BackendError> {
        (**self).variable(name)
    }
    fn random_bytes(&self, len: usize) -> Result<Vec<u8>, BackendError> {
        (**self).random_bytes(len)
    }
    fn now_millis(&self) -> i64 {
        (**self).now_millis()
    }
    fn backoff(&self, attempt: u32) {
        (**self).backoff(attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::numbered_placeholders;

    #[test]
    fn placeholders_are_numbered_in_order_and_quoted_text_is_kept() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ? AND c = '?' AND d > ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d > $2"
        );
        assert_eq!(numbered_placeholders("SELECT 1"), "SELECT 1");
    }
}
