//! What one request's `Store` holds: WASI, WASI HTTP, each capability's instance
//! state and the resource limits; and the one place that builds such a store
//! (for a request, and for hot swap's trial instantiation).

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::caps::{self, Capabilities};
use crate::limits::{Limits, arm_deadline};

/// What the manifest gives one component, resolved once at start-up.
pub struct Grants {
    pub environment: Vec<(String, String)>,
    pub caps: caps::Grants,
}

pub struct HostState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    caps: caps::Instances,
    limits: StoreLimits,
}

/// A fresh store for one instance of a component with `grants`: memory capped,
/// and interrupted once `limits.request_timeout` has passed.
pub fn new_store(
    engine: &Engine,
    capabilities: &Capabilities,
    grants: &Grants,
    limits: &Limits,
) -> Store<HostState> {
    let wasi = WasiCtx::builder()
        .inherit_stdout()
        .inherit_stderr()
        .envs(&grants.environment)
        .build();
    let state = HostState {
        table: ResourceTable::new(),
        wasi,
        http: WasiHttpCtx::new(),
        caps: capabilities.instances(&grants.caps),
        limits: StoreLimitsBuilder::new()
            .memory_size(limits.max_memory)
            // A failed grow is reported to the guest (which usually aborts),
            // never a host error.
            .trap_on_grow_failure(false)
            .build(),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limits);
    arm_deadline(&mut store, limits.request_timeout);
    store
}

impl HostState {
    /// The capabilities' instance states and the resource table, for their bindings.
    pub fn capabilities(&mut self) -> (&mut caps::Instances, &mut ResourceTable) {
        (&mut self.caps, &mut self.table)
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
            hooks: &mut self.caps.outbound_http,
        }
    }
}
