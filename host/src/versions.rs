//! The on-disk record of hot-swapped versions: `<data>/components/<sha256>.wasm` for
//! every accepted build and `<data>/components/<component>.json` for each slot's
//! active and previous version and the manifest source it last saw. Files are
//! written to a temp name, fsynced and renamed, so a crash leaves the old or the
//! new file, never half of one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// One slot's persisted state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotRecord {
    pub active: String,
    pub active_source: String,
    pub previous: Option<String>,
    pub previous_source: Option<String>,
    /// sha256 of the manifest's source file when this host last read it: a
    /// different file at start-up means a new deployment, which wins.
    pub source_sha256: String,
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

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename itself is durable only once the directory is synced.
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
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
