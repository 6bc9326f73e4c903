//! What one request's `Store` holds: WASI, WASI HTTP, each capability's context
//! and the resource limits. Built fresh per request from the component's grants.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::caps::key_value::{KeyValueCtx, KeyValueStores, KeyValueView};
use crate::caps::outbound_http::{AllowList, OutboundHooks};
use crate::caps::sqlite::{SqliteCtx, SqliteDatabases, SqliteView};
use crate::caps::variables::VariablesCtx;

/// Capability backends shared by every component.
pub struct Backends {
    pub sqlite: Arc<SqliteDatabases>,
    pub key_value: Arc<KeyValueStores>,
}

/// What the manifest grants one component, resolved once at start-up.
pub struct Grants {
    pub sqlite_databases: Arc<BTreeSet<String>>,
    pub key_value_stores: Arc<BTreeSet<String>>,
    pub variables: Arc<BTreeMap<String, String>>,
    pub outbound: Arc<AllowList>,
    pub environment: Vec<(String, String)>,
}

pub struct HostState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundHooks,
    sqlite: SqliteCtx,
    key_value: KeyValueCtx,
    variables: VariablesCtx,
    pub limits: StoreLimits,
}

impl HostState {
    pub fn new(backends: &Backends, grants: &Grants, max_memory: usize) -> Self {
        let wasi = WasiCtx::builder()
            .inherit_stdout()
            .inherit_stderr()
            .envs(&grants.environment)
            .build();
        Self {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks: OutboundHooks::new(grants.outbound.clone()),
            sqlite: SqliteCtx::new(backends.sqlite.clone(), grants.sqlite_databases.clone()),
            key_value: KeyValueCtx::new(
                backends.key_value.clone(),
                grants.key_value_stores.clone(),
            ),
            variables: VariablesCtx::new(grants.variables.clone()),
            limits: StoreLimitsBuilder::new()
                .memory_size(max_memory)
                // A failed grow is reported to the guest (which usually aborts),
                // never a host error.
                .trap_on_grow_failure(false)
                .build(),
        }
    }

    pub fn sqlite(&mut self) -> SqliteView<'_> {
        SqliteView {
            ctx: &mut self.sqlite,
            table: &mut self.table,
        }
    }

    pub fn key_value(&mut self) -> KeyValueView<'_> {
        KeyValueView {
            ctx: &mut self.key_value,
            table: &mut self.table,
        }
    }

    pub fn variables(&mut self) -> &mut VariablesCtx {
        &mut self.variables
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}
