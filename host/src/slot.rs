//! A component slot: the compiled version a manifest component currently serves.
//!
//! Each request loads the active version once, when it arrives, and keeps that
//! `Arc` until it finishes; replacing the active version never disturbs requests
//! already running on the old one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::{ArcSwap, ArcSwapOption};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::host_state::{Grants, HostState};

/// One compiled, type-checked build of a component, ready to instantiate.
pub struct Version {
    pub pre: ProxyPre<HostState>,
    /// Hex sha256 of the `.wasm` bytes: the version's identity.
    pub sha256: String,
    pub size: u64,
    pub source: PathBuf,
    pub loaded_at: SystemTime,
    /// Whether the machine code came from `<data>/cache` instead of a fresh compile.
    pub from_cache: bool,
    /// Requests and latency of this build (shared by every load of the same sha256).
    pub stats: Arc<crate::metrics::VersionStats>,
}

pub struct Slot {
    pub id: String,
    pub grants: Grants,
    active: ArcSwap<Version>,
    /// What `rollback` returns to; only hot swap writes it.
    previous: ArcSwapOption<Version>,
}

impl Slot {
    pub fn new(id: String, grants: Grants, version: Version) -> Self {
        Self {
            id,
            grants,
            active: ArcSwap::from_pointee(version),
            previous: ArcSwapOption::empty(),
        }
    }

    pub fn active(&self) -> Arc<Version> {
        self.active.load_full()
    }

    pub fn previous(&self) -> Option<Arc<Version>> {
        self.previous.load_full()
    }

    /// Makes `version` active for requests arriving from now on; the one it
    /// replaces becomes the previous version. Callers serialise swaps.
    pub fn activate(&self, version: Arc<Version>) -> Arc<Version> {
        let old = self.active.swap(version);
        self.previous.store(Some(old.clone()));
        old
    }

    /// Sets the previous version without serving it (restoring state at start-up).
    pub fn set_previous(&self, version: Option<Arc<Version>>) {
        self.previous.store(version);
    }
}
