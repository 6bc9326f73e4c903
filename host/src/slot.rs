//! A component slot: the compiled version a manifest component currently serves,
//! and the versions under test that hot swap's smoke requests reach instead.
//!
//! Each request loads the active version once, when it arrives, and keeps that
//! `Arc` until it finishes; replacing the active version never disturbs requests
//! already running on the old one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::{ArcSwap, ArcSwapOption};
use http::HeaderMap;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::host_state::{Grants, HostState};

/// The header that sends a smoke request to a candidate version. Its value is a
/// random token known only to this process, so clients cannot reach a candidate.
pub const SMOKE_HEADER: &str = "x-tracker-smoke";

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

/// Versions under test, by token. Touched only by smoke requests and swaps.
#[derive(Default)]
pub struct Candidates(Mutex<HashMap<String, (String, Arc<Version>)>>);

/// Which version serves a request, chosen on arrival.
pub enum Pick {
    Active(Arc<Version>),
    /// A hot-swap candidate, reached by a smoke request: not user traffic.
    Candidate(Arc<Version>),
    /// A smoke token that names another component's candidate.
    Misrouted,
}

impl Candidates {
    /// The slot's active version, or the candidate a smoke header names. The
    /// header is removed either way, so the guest never sees it.
    pub fn pick(&self, slot: &Slot, headers: &mut HeaderMap) -> Pick {
        let Some(token) = headers.remove(SMOKE_HEADER) else {
            return Pick::Active(slot.active());
        };
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match token.to_str().ok().and_then(|t| map.get(t)) {
            Some((id, version)) if *id == slot.id => Pick::Candidate(version.clone()),
            Some(_) => Pick::Misrouted,
            None => Pick::Active(slot.active()),
        }
    }

    pub fn insert(&self, token: String, component: String, version: Arc<Version>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(token, (component, version));
    }

    pub fn remove(&self, token: &str) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(token);
    }
}
