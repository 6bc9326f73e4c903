//! Backends (one SQLite connection pair each) shared by the blocking threads:
//! a rusqlite connection serves one thread at a time, so each request borrows one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use skilltrack_api::native::NativeBackend;

use crate::Synchronous;

/// As many idle backends as the host keeps idle connections.
const MAX_IDLE: usize = 16;

#[derive(Clone)]
pub struct BackendPool {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    synchronous: Synchronous,
    idle: Mutex<Vec<NativeBackend>>,
    writer: Mutex<()>,
}

impl BackendPool {
    /// Opens one backend up front so a bad data dir fails at start.
    pub fn open(dir: &Path, synchronous: Synchronous) -> anyhow::Result<Self> {
        let pool = BackendPool {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                synchronous,
                idle: Mutex::new(Vec::new()),
                writer: Mutex::new(()),
            }),
        };
        let first = pool.connect()?;
        pool.put_back(first);
        Ok(pool)
    }

    fn connect(&self) -> anyhow::Result<NativeBackend> {
        let backend = NativeBackend::open_dir(&self.inner.dir)?;
        backend
            .connection()
            .pragma_update(None, "synchronous", self.inner.synchronous.pragma())?;
        Ok(backend)
    }

    /// An idle backend, or a new one when all are busy.
    pub fn take(&self) -> anyhow::Result<NativeBackend> {
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        match idle {
            Some(b) => Ok(b),
            None => self.connect(),
        }
    }

    /// Writers queue here, as they queue on tracker-host's per-database writer lock,
    /// instead of meeting SQLITE_BUSY and sleeping in SQLite's busy handler.
    pub fn writer(&self) -> MutexGuard<'_, ()> {
        self.inner.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn put_back(&self, backend: NativeBackend) {
        let mut idle = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(backend);
        }
    }
}
