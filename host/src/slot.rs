//! A component slot: the compiled version a manifest component currently serves.
//!
//! Each request loads the active version once, when it arrives, and keeps that
//! `Arc` until it finishes; replacing the active version never disturbs requests
//! already running on the old one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::host_state::{Grants, HostState};

/// One compiled, type-checked build of a component, ready to instantiate.
pub struct Version {
    pub pre: ProxyPre<HostState>,
    /// Hex sha256 of the `.wasm` bytes: the version's identity.
    pub sha256: String,
    pub size: u64,
    pub source: PathBuf,
    #[allow(dead_code, reason = "reported by the admin API")]
    pub loaded_at: SystemTime,
    /// Whether the machine code came from `<data>/cache` instead of a fresh compile.
    pub from_cache: bool,
}

pub struct Slot {
    pub id: String,
    pub grants: Grants,
    active: ArcSwap<Version>,
}

impl Slot {
    pub fn new(id: String, grants: Grants, version: Version) -> Self {
        Self {
            id,
            grants,
            active: ArcSwap::from_pointee(version),
        }
    }

    pub fn active(&self) -> Arc<Version> {
        self.active.load_full()
    }

    #[allow(dead_code, reason = "called by hot swap and rollback")]
    /// Makes `version` active for requests arriving from now on; returns the one it replaced.
    pub fn activate(&self, version: Arc<Version>) -> Arc<Version> {
        self.active.swap(version)
    }
}
