//! `fermyon:spin/key-value@2.0.0`.
//!
//! Binding: `open` checks the component's grant; every other call goes to the
//! [`KeyValueBackend`]. Backend: [`sqlite::SqliteStores`], every store a slice of
//! one table in `<data>/key-value.db`, as Spin's own SQLite backend lays it out.

mod sqlite;

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::bindings::fermyon::spin::key_value::{self, Error};
use super::{Access, Capability, Labels, Setup, Stored, View, ViewOf};
use crate::host_state::HostState;
use crate::manifest::ComponentDecl;

/// Where key-value data lives. `store` is a label the component was granted.
#[async_trait::async_trait]
pub trait KeyValueBackend: Send + Sync {
    async fn get(&self, store: String, key: String) -> anyhow::Result<Option<Vec<u8>>>;
    async fn set(&self, store: String, key: String, value: Vec<u8>) -> anyhow::Result<()>;
    async fn delete(&self, store: String, key: String) -> anyhow::Result<()>;
    async fn exists(&self, store: String, key: String) -> anyhow::Result<bool>;
    /// Every key of `store`, sorted.
    async fn keys(&self, store: String) -> anyhow::Result<Vec<String>>;
    /// After the last request of a clean shutdown.
    fn shutdown(&self) {}
}

/// The capability: the backend and the stores any component declares.
pub struct KeyValue {
    backend: Arc<dyn KeyValueBackend>,
    declared: Arc<BTreeSet<String>>,
}

impl Capability for KeyValue {
    type Grant = Labels;
    type Instance = KeyValueCtx;

    const STORED: &'static [Stored] = &[sqlite::STORED];

    fn open(setup: &Setup<'_>) -> anyhow::Result<Self> {
        let path = setup.data.root().join(sqlite::FILE);
        Ok(Self {
            backend: Arc::new(sqlite::SqliteStores::open(&path)?),
            declared: Labels::declared(setup.manifest, |c| &c.key_value_stores),
        })
    }

    fn grant(&self, component: &ComponentDecl) -> anyhow::Result<Labels> {
        Ok(Labels::new(&self.declared, &component.key_value_stores))
    }

    fn instance(&self, grant: &Labels) -> KeyValueCtx {
        KeyValueCtx {
            backend: self.backend.clone(),
            stores: grant.clone(),
        }
    }

    fn add_to_linker(
        linker: &mut Linker<HostState>,
        view: fn(&mut HostState) -> View<'_, KeyValueCtx>,
    ) -> anyhow::Result<()> {
        Ok(key_value::add_to_linker::<_, ViewOf<KeyValueCtx>>(
            linker, view,
        )?)
    }

    fn shutdown(&self) {
        self.backend.shutdown();
    }
}

/// One instance's key-value access.
pub struct KeyValueCtx {
    backend: Arc<dyn KeyValueBackend>,
    stores: Labels,
}

/// The host side of a guest `store`.
pub struct Store {
    label: String,
}

fn other(e: anyhow::Error) -> Error {
    Error::Other(format!("{e:#}"))
}

impl View<'_, KeyValueCtx> {
    fn label(&self, store: &Resource<Store>) -> wasmtime::Result<String> {
        Ok(self.table.get(store)?.label.clone())
    }
}

impl key_value::Host for View<'_, KeyValueCtx> {}

impl key_value::HostStore for View<'_, KeyValueCtx> {
    async fn open(&mut self, label: String) -> wasmtime::Result<Result<Resource<Store>, Error>> {
        match self.state.stores.access(&label) {
            Access::Granted => Ok(Ok(self.table.push(Store { label })?)),
            Access::Denied => Ok(Err(Error::AccessDenied)),
            Access::Unknown => Ok(Err(Error::NoSuchStore)),
        }
    }

    async fn get(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let label = self.label(&store)?;
        Ok(self.state.backend.get(label, key).await.map_err(other))
    }

    async fn set(
        &mut self,
        store: Resource<Store>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let label = self.label(&store)?;
        Ok(self
            .state
            .backend
            .set(label, key, value)
            .await
            .map_err(other))
    }

    async fn delete(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let label = self.label(&store)?;
        Ok(self.state.backend.delete(label, key).await.map_err(other))
    }

    async fn exists(
        &mut self,
        store: Resource<Store>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let label = self.label(&store)?;
        Ok(self.state.backend.exists(label, key).await.map_err(other))
    }

    async fn get_keys(
        &mut self,
        store: Resource<Store>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let label = self.label(&store)?;
        Ok(self.state.backend.keys(label).await.map_err(other))
    }

    async fn drop(&mut self, store: Resource<Store>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
