//! The data directory: its layout and its lock, one definition for `up`, `backup`
//! and `restore`.
//!
//! ```text
//! <data>/.lock           advisory lock held by `up` and `restore`
//! <data>/cache/          compiled components (derived: never backed up)
//! <data>/components/     hot-swapped versions (versions.rs)
//! <data>/...             what each capability's backend stores (caps::Stored)
//! ```

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::caps::Stored;

const LOCK_FILE: &str = ".lock";
const CACHE_DIR: &str = "cache";
pub const COMPONENTS_DIR: &str = "components";

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another process holds {}", .0.display())]
    Held(PathBuf),
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// `<data>` and what lives in it. Only paths: opening it does no I/O.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// Holds the exclusive advisory lock on `<data>/.lock` until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDir {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn lock_path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(CACHE_DIR)
    }

    pub fn components_dir(&self) -> PathBuf {
        self.root.join(COMPONENTS_DIR)
    }

    /// Creates the directory if needed and takes its lock; a running host or a
    /// restore in progress holds it.
    pub fn lock(&self) -> Result<DataDirLock, LockError> {
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("cannot create data directory {}", self.root.display()))?;
        let path = self.lock_path();
        let file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Held(path)),
            Err(TryLockError::Error(e)) => Err(LockError::Io(
                anyhow::Error::from(e).context(format!("cannot lock {}", path.display())),
            )),
        }
    }

    /// The SQLite databases `stored` names that exist now, relative to the root
    /// and '/'-separated, sorted.
    pub fn databases(&self, stored: &[Stored]) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for s in stored {
            match *s {
                Stored::Database(file) => {
                    if self.root.join(file).is_file() {
                        out.push(file.to_owned());
                    }
                }
                Stored::Databases(dir) => {
                    let path = self.root.join(dir);
                    if !path.is_dir() {
                        continue;
                    }
                    let entries = std::fs::read_dir(&path)
                        .with_context(|| format!("list {}", path.display()))?;
                    for entry in entries {
                        let entry = entry?;
                        let name = entry.file_name();
                        let Some(name) = name.to_str() else { continue };
                        if name.ends_with(".db") && entry.file_type()?.is_file() {
                            out.push(format!("{dir}/{name}"));
                        }
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

impl Stored {
    /// Where the database `label` lives under `data`.
    pub fn path(&self, data: &DataDir, label: &str) -> PathBuf {
        match *self {
            Self::Database(file) => data.root().join(file),
            Self::Databases(dir) => data.root().join(dir).join(format!("{label}.db")),
        }
    }

    /// Whether `rel` ('/'-separated, relative to the root) is one of these databases.
    pub fn holds(&self, rel: &str) -> bool {
        match *self {
            Self::Database(file) => rel == file,
            Self::Databases(dir) => rel
                .strip_prefix(dir)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|name| name.ends_with(".db") && !name.contains('/')),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_dir_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = DataDir::new(dir.path());
        let held = data.lock().expect("first lock");
        assert!(matches!(data.lock(), Err(LockError::Held(_))));
        drop(held);
        data.lock().expect("free again");
    }

    #[test]
    fn stored_databases_are_listed_and_recognised() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = DataDir::new(dir.path());
        let stored = [Stored::Databases("sqlite"), Stored::Database("kv.db")];
        std::fs::create_dir_all(dir.path().join("sqlite")).expect("mkdir");
        for file in ["sqlite/a.db", "sqlite/a.db-wal", "kv.db", "other.db"] {
            std::fs::write(dir.path().join(file), b"").expect("write");
        }
        assert_eq!(
            data.databases(&stored).expect("list"),
            ["kv.db", "sqlite/a.db"]
        );
        assert!(stored[0].holds("sqlite/a.db"));
        assert!(!stored[0].holds("sqlite/x/a.db"));
        assert!(!stored[0].holds("sqlite/a.db-wal"));
        assert!(stored[1].holds("kv.db"));
        assert_eq!(stored[0].path(&data, "a"), dir.path().join("sqlite/a.db"));
    }
}
