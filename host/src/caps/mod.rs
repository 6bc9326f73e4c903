//! The Spin capabilities tracker-host provides beyond WASI HTTP, one module each.
//! Adding one: a module with its context, view and `add_to_linker`, plus one line
//! in [`add_to_linker`] and a field in the store's state.

pub mod key_value;
pub mod outbound_http;
pub mod sqlite;
pub mod variables;

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "skilltrack:platform/capabilities",
        imports: { default: async | trappable },
        with: {
            "spin:sqlite/sqlite.connection": super::sqlite::Connection,
            "fermyon:spin/key-value.store": super::key_value::Store,
        },
    });
}

use crate::host_state::HostState;

/// Registers every capability interface on the linker.
pub fn add_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> anyhow::Result<()> {
    sqlite::add_to_linker(linker, HostState::sqlite)?;
    key_value::add_to_linker(linker, HostState::key_value)?;
    variables::add_to_linker(linker, HostState::variables)?;
    Ok(())
}
