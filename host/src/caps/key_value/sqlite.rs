//! The key-value backend on SQLite: `spin_key_value(store, key, value)` in
//! `<data>/key-value.db`, the table layout of Spin's own SQLite backend.

use std::path::Path;
use std::sync::Arc;

use rusqlite::OptionalExtension as _;

use super::KeyValueBackend;
use crate::caps::Stored;
use crate::database::Database;

pub const FILE: &str = "key-value.db";
pub const STORED: Stored = Stored::Database(FILE);

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
);";

pub struct SqliteStores {
    db: Arc<Database>,
}

impl SqliteStores {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            db: Database::open(path, SCHEMA)?,
        })
    }
}

#[async_trait::async_trait]
impl KeyValueBackend for SqliteStores {
    async fn get(&self, store: String, key: String) -> anyhow::Result<Option<Vec<u8>>> {
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ? AND key = ?")?
                    .query_row((&store, &key), |r| r.get::<_, Vec<u8>>(0))
                    .optional()
            })
            .await
    }

    async fn set(&self, store: String, key: String, value: Vec<u8>) -> anyhow::Result<()> {
        self.db
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO spin_key_value (store, key, value) VALUES (?, ?, ?)
                     ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                )?
                .execute((store, key, value))
                .map(drop)
            })
            .await
    }

    async fn delete(&self, store: String, key: String) -> anyhow::Result<()> {
        self.db
            .write(move |c| {
                c.prepare_cached("DELETE FROM spin_key_value WHERE store = ? AND key = ?")?
                    .execute((store, key))
                    .map(drop)
            })
            .await
    }

    async fn exists(&self, store: String, key: String) -> anyhow::Result<bool> {
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ? AND key = ?")?
                    .exists((&store, &key))
            })
            .await
    }

    async fn keys(&self, store: String) -> anyhow::Result<Vec<String>> {
        self.db
            .read(move |c| {
                c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ? ORDER BY key")?
                    .query_map([&store], |r| r.get::<_, String>(0))?
                    .collect()
            })
            .await
    }

    fn shutdown(&self) {
        self.db.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stores_are_separate_slices_of_one_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kv = SqliteStores::open(&dir.path().join(FILE)).expect("open");
        let s = |v: &str| v.to_owned();
        kv.set(s("a"), s("k"), b"1".to_vec()).await.expect("set a");
        kv.set(s("b"), s("k"), b"2".to_vec()).await.expect("set b");
        kv.set(s("a"), s("k"), b"3".to_vec())
            .await
            .expect("overwrite");
        assert_eq!(
            kv.get(s("a"), s("k")).await.expect("get"),
            Some(b"3".to_vec())
        );
        assert_eq!(kv.keys(s("b")).await.expect("keys"), ["k"]);
        kv.delete(s("a"), s("k")).await.expect("delete");
        assert!(!kv.exists(s("a"), s("k")).await.expect("exists"));
        assert!(kv.exists(s("b"), s("k")).await.expect("exists"));
    }
}
