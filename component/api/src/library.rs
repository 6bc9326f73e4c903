//! Whose data a request reads and writes.
//!
//! Every course, revision, activity entry and setting belongs to one library,
//! named by its owner's account id. [`Library`] wraps a backend for one owner:
//! SQL statements name the owner themselves (`Backend::owner`), and the key-value
//! store is partitioned here, so settings code never sees another owner's keys.
//!
//! The library of a single-user instance (`auth = none`) is owner 1; the first
//! account created when accounts are turned on is account 1, so it keeps that
//! library. Owner 1's key-value keys are the unprefixed ones an instance wrote
//! before accounts existed.

use crate::backend::{Backend, BackendError, Dialect, Rows, Value};

/// The owner of the single library of `auth = none`, and the first account.
pub const FIRST_OWNER: i64 = 1;

/// Key-value keys of every owner but the first start with this. Setting keys
/// cannot hold `/`, so no setting of the first owner is ever mistaken for one.
const OWNER_PREFIX: &str = "acct/";

fn owner_prefix(owner: i64) -> String {
    format!("{OWNER_PREFIX}{owner}/")
}

/// A backend seen as one owner's library.
pub struct Library<'a, B: Backend> {
    inner: &'a B,
    owner: i64,
}

impl<'a, B: Backend> Library<'a, B> {
    pub fn new(inner: &'a B, owner: i64) -> Self {
        Library { inner, owner }
    }

    /// A view of a backend that already is this owner's (the handlers wrap
    /// whatever they are given in the owner a request resolved to) adds nothing:
    /// keys must not be prefixed twice.
    fn same_owner(&self) -> bool {
        self.inner.owner() == self.owner
    }

    fn key(&self, key: &str) -> String {
        if self.owner == FIRST_OWNER || self.same_owner() {
            key.to_owned()
        } else {
            format!("{}{key}", owner_prefix(self.owner))
        }
    }
}

impl<B: Backend> Backend for Library<'_, B> {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    fn owner(&self) -> i64 {
        self.owner
    }
    fn execute(&self, sql: &str, params: &[Value]) -> Result<Rows, BackendError> {
        self.inner.execute(sql, params)
    }
    fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        self.inner.kv_get(&self.key(key))
    }
    fn kv_set(&self, key: &str, value: &[u8]) -> Result<(), BackendError> {
        self.inner.kv_set(&self.key(key), value)
    }
    fn kv_delete(&self, key: &str) -> Result<(), BackendError> {
        self.inner.kv_delete(&self.key(key))
    }
    fn kv_keys(&self) -> Result<Vec<String>, BackendError> {
        let all = self.inner.kv_keys()?;
        Ok(if self.same_owner() {
            all
        } else if self.owner == FIRST_OWNER {
            all.into_iter()
                .filter(|k| !k.starts_with(OWNER_PREFIX))
                .collect()
        } else {
            let prefix = owner_prefix(self.owner);
            all.into_iter()
                .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
                .collect()
        })
    }
    fn variable(&self, name: &str) -> Result<Option<String>, BackendError> {
        self.inner.variable(name)
    }
    fn random_bytes(&self, len: usize) -> Result<Vec<u8>, BackendError> {
        self.inner.random_bytes(len)
    }
    fn now_millis(&self) -> i64 {
        self.inner.now_millis()
    }
    fn sqlite_source(&self) -> Option<Box<dyn Backend>> {
        self.inner.sqlite_source()
    }
    fn backoff(&self, attempt: u32) {
        self.inner.backoff(attempt)
    }
}

#[cfg(all(test, feature = "native"))]
mod tests {
    use super::*;
    use crate::native::NativeBackend;

    #[test]
    fn a_view_of_a_view_of_the_same_owner_prefixes_keys_once() {
        let store = NativeBackend::in_memory().expect("store");
        let two = Library::new(&store, 2);
        let again = Library::new(&two, 2);
        again.kv_set("theme", b"dark").expect("set");
        assert_eq!(
            store.kv_get("acct/2/theme").expect("get"),
            Some(b"dark".to_vec())
        );
        assert_eq!(again.kv_keys().expect("keys"), vec!["theme".to_owned()]);
        // Owner 1 over the store, then another owner: that owner's partition.
        let first = Library::new(&store, FIRST_OWNER);
        let three = Library::new(&first, 3);
        three.kv_set("goal", b"1").expect("set");
        assert_eq!(
            store.kv_get("acct/3/goal").expect("get"),
            Some(b"1".to_vec())
        );
    }
}
