//! The on-disk record of hot-swapped versions: `<data>/components/<sha256>.wasm` for
//! every accepted build and `<data>/components/<component>.json` for each slot's
//! active and previous version and the manifest source it last saw. Files are
//! written to a temp name, fsynced and renamed, so a crash leaves the old or the
//! new file, never half of one. At start-up [`VersionStore::restore`] brings the
//! recorded versions back into the slots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::engine::Runtime;
use crate::files::{sha256_hex, write_atomically};
use crate::metrics::Registry;
use crate::slot::{Slot, Version};

/// One slot's persisted state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotRecord {
    pub active: String,
    pub active_source: String,
    pub previous: Option<String>,
    pub previous_source: Option<String>,
    /// sha256 of the manifest's source file when this host last read it: a
    /// different file at start-up means a new deployment, which wins (in fleet
    /// mode only the first time the fleet sees that file: `fleet.rs`).
    pub source_sha256: String,
}

impl SlotRecord {
    /// A record of the manifest's own source and nothing before it.
    pub fn fresh(source: &Version) -> Self {
        Self {
            active: source.sha256.clone(),
            active_source: source.source.display().to_string(),
            previous: None,
            previous_source: None,
            source_sha256: source.sha256.clone(),
        }
    }
}

pub struct VersionStore {
    dir: PathBuf,
}

impl VersionStore {
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    pub fn wasm_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.wasm"))
    }

    /// Keeps an accepted build (content-addressed, so an existing file is the same bytes).
    pub fn save_wasm(&self, sha256: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.wasm_path(sha256);
        if path.is_file() {
            return Ok(());
        }
        write_atomically(&path, bytes)
    }

    pub fn read_wasm(&self, sha256: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.wasm_path(sha256);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    }

    fn record_path(&self, component: &str) -> PathBuf {
        self.dir.join(format!("{component}.json"))
    }

    /// The slot's record; an unreadable one is reported and treated as absent
    /// (the manifest's source then serves, as on a first start).
    pub fn load(&self, component: &str) -> Option<SlotRecord> {
        let path = self.record_path(component);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read version record");
                return None;
            }
        };
        match serde_json::from_slice(&text) {
            Ok(record) => Some(record),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring malformed version record");
                None
            }
        }
    }

    pub fn save(&self, component: &str, record: &SlotRecord) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(record)?;
        write_atomically(&self.record_path(component), &json)
    }
}

/// Start-up restore.
impl VersionStore {
    /// At start-up, before serving: the manifest's source has just been loaded
    /// into each slot. If that file is the one the slot last saw, the persisted
    /// active (and previous) version serves again; if it changed, it is a new
    /// deployment and wins, with the persisted active version kept as previous.
    pub fn restore(
        &self,
        slots: &BTreeMap<String, Arc<Slot>>,
        runtime: &Runtime,
        metrics: &Registry,
    ) -> anyhow::Result<()> {
        let loader = Loader {
            store: self,
            runtime,
            metrics,
        };
        for slot in slots.values() {
            let source = slot.active();
            metrics.adopt(&slot.id, &source.sha256, source.stats.clone());
            if let Ok(bytes) = std::fs::read(&source.source)
                && sha256_hex(&bytes) == source.sha256
            {
                self.save_wasm(&source.sha256, &bytes)?;
            }
            let fresh = SlotRecord::fresh(&source);
            let record = match self.load(&slot.id) {
                None => fresh,
                Some(record) if record.source_sha256 == source.sha256 => {
                    let active =
                        loader.version(slot, &record.active, &record.active_source, &source);
                    let previous = record.previous.as_deref().and_then(|sha| {
                        let from = record.previous_source.as_deref().unwrap_or("");
                        loader.version(slot, sha, from, &source)
                    });
                    match active {
                        Some(active) => {
                            if active.sha256 != source.sha256 {
                                tracing::info!(component = %slot.id, sha256 = %active.sha256, "serving the persisted active version (the manifest's source is unchanged)");
                                slot.activate(active);
                            }
                            slot.set_previous(previous);
                            record
                        }
                        None => fresh,
                    }
                }
                Some(record) => {
                    tracing::info!(component = %slot.id, sha256 = %source.sha256, replaced = %record.active, "the manifest's source changed since the last run: serving it");
                    let previous = (record.active != source.sha256)
                        .then(|| {
                            loader.version(slot, &record.active, &record.active_source, &source)
                        })
                        .flatten();
                    slot.set_previous(previous.clone());
                    SlotRecord {
                        previous: previous.as_ref().map(|v| v.sha256.clone()),
                        previous_source: previous.as_ref().map(|v| v.source.display().to_string()),
                        ..fresh
                    }
                }
            };
            self.save(&slot.id, &record)?;
        }
        Ok(())
    }
}

/// Loads persisted builds for [`VersionStore::restore`].
struct Loader<'a> {
    store: &'a VersionStore,
    runtime: &'a Runtime,
    metrics: &'a Registry,
}

impl Loader<'_> {
    /// A persisted build, loaded; `None` (with a warning) when it cannot serve.
    fn version(
        &self,
        slot: &Slot,
        sha256: &str,
        source: &str,
        manifest_version: &Arc<Version>,
    ) -> Option<Arc<Version>> {
        if sha256 == manifest_version.sha256 {
            return Some(manifest_version.clone());
        }
        let loaded = self.store.read_wasm(sha256).and_then(|bytes| {
            Ok(self
                .runtime
                .prepare_version_from_bytes(&bytes, Path::new(source))?)
        });
        match loaded {
            Ok(version) => Some(Arc::new(Version {
                stats: self.metrics.stats_for(&slot.id, sha256),
                ..version
            })),
            Err(e) => {
                tracing::warn!(component = %slot.id, %sha256, error = %format!("{e:#}"), "cannot load a persisted version");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_builds_round_trip_through_the_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = VersionStore::open(&dir.path().join("components")).expect("open");
        assert_eq!(store.load("api"), None);
        let record = SlotRecord {
            active: "bb".into(),
            active_source: "upload".into(),
            previous: Some("aa".into()),
            previous_source: Some("spin.toml".into()),
            source_sha256: "aa".into(),
        };
        store.save("api", &record).expect("save");
        store.save_wasm("bb", b"\0asm").expect("save wasm");
        let reopened = VersionStore::open(&dir.path().join("components")).expect("reopen");
        assert_eq!(reopened.load("api"), Some(record));
        assert_eq!(reopened.read_wasm("bb").expect("read"), b"\0asm");
    }

    #[test]
    fn a_malformed_record_reads_as_absent() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = VersionStore::open(dir.path()).expect("open");
        std::fs::write(dir.path().join("api.json"), b"{not json").expect("write");
        assert_eq!(store.load("api"), None);
    }
}
