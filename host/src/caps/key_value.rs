//! `fermyon:spin/key-value@2.0.0`: every store is a slice of one SQLite table,
//! `spin_key_value(store, key, value)` in `<data>/key-value.db`, as Spin's own
//! SQLite backend lays it out.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use rusqlite::OptionalExtension as _;
use wasmtime::component::{HasData, Resource, ResourceTable};

use super::bindings::fermyon::spin::key_value::{self, Error};
use crate::database::Database;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (
    store TEXT NOT NULL,
    key   TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (store, key)
);";

/// The shared key-value database and the labels any component declares.
pub struct KeyValueStores {
    db: Arc<Database>,
    known: BTreeSet<String>,
}

impl KeyValueStores {
    pub fn open(path: &Path, labels: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        Ok(Self {
            db: Database::open(path, SCHEMA)?,
            known: labels.into_iter().collect(),
        })
    }

    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }
}

pub struct KeyValueCtx {
    stores: Arc<KeyValueStores>,
    granted: Arc<BTreeSet<String>>,
}

impl KeyValueCtx {
    pub fn new(stores: Arc<KeyValueStores>, granted: Arc<BTreeSet<String>>) -> Self {
        Self { stores, granted }
    }
}

/// The host side of a guest `store`.
pub struct Store {
    label: String,
    db: Arc<Database>,
}

pub struct KeyValueView<'a> {
    pub ctx: &'a mut KeyValueCtx,
    pub table: &'a mut ResourceTable,
}

pub struct KeyValue;

impl HasData for KeyValue {
    type Data<'a> = KeyValueView<'a>;
}

pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    view: fn(&mut T) -> KeyValueView<'_>,
) -> wasmtime::Result<()> {
    key_value::add_to_linker::<T, KeyValue>(linker, view)
}

fn other(e: anyhow::Error) -> Error {
    Error::Other(format!("{e:#}"))
}

impl key_value::Host for KeyValueView<'_> {}

impl key_value::HostStore for KeyValueView<'_> {
    async fn open(&mut self, label: String) -> wasmtime::Result<Result<Resource<Store>, Error>> {
        if !self.ctx.granted.contains(&label) {
            let known = self.ctx.stores.known.contains(&label);
            return Ok(Err(if known {
                Error::AccessDenied
            } else {
                Error::NoSuchStore
            }));
        }
        let store = Store {
            label,
            db: self.ctx.stores.db.clone(),
        };
        Ok(Ok(self.table.push(store)?))
    }

    async fn get(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let s = self.table.get(&store)?;
        let label = s.label.clone();
        let result =
            s.db.read(move |c| {
                c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ? AND key = ?")?
                    .query_row((label, key), |r| r.get::<_, Vec<u8>>(0))
                    .optional()
            })
            .await;
        Ok(result.map_err(other))
    }

    async fn set(
        &mut self,
        store: Resource<Store>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let s = self.table.get(&store)?;
        let label = s.label.clone();
        let result =
            s.db.write(move |c| {
                c.prepare_cached(
                    "INSERT INTO spin_key_value (store, key, value) VALUES (?, ?, ?)
                     ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                )?
                .execute((label, key, value))
                .map(drop)
            })
            .await;
        Ok(result.map_err(other))
    }

    async fn delete(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let s = self.table.get(&store)?;
        let label = s.label.clone();
        let result =
            s.db.write(move |c| {
                c.prepare_cached("DELETE FROM spin_key_value WHERE store = ? AND key = ?")?
                    .execute((label, key))
                    .map(drop)
            })
            .await;
        Ok(result.map_err(other))
    }

    async fn exists(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let s = self.table.get(&store)?;
        let label = s.label.clone();
        let result =
            s.db.read(move |c| {
                c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ? AND key = ?")?
                    .exists((label, key))
            })
            .await;
        Ok(result.map_err(other))
    }

    async fn get_keys(
        &mut self,
        store: Resource<Store>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let s = self.table.get(&store)?;
        let label = s.label.clone();
        let result =
            s.db.read(move |c| {
                c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ? ORDER BY key")?
                    .query_map([label], |r| r.get::<_, String>(0))?
                    .collect()
            })
            .await;
        Ok(result.map_err(other))
    }

    async fn drop(&mut self, store: Resource<Store>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
