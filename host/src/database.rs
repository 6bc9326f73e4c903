//! SQLite files behind the Spin capabilities: WAL, `synchronous=FULL`, a busy
//! timeout, a small pool of idle connections, and one host-side writer lock per file.
//!
//! Why a writer lock when SQLite already serialises writers: a deferred transaction
//! that first reads and then writes cannot wait out a concurrent commit (SQLite
//! answers SQLITE_BUSY at once, the busy timeout does not apply), and that would
//! surface as a failed request. Taking the lock before the first write statement,
//! or when a transaction opens, and holding it until the connection is back in
//! autocommit makes writers queue instead. Reads in autocommit mode never take it,
//! so they run concurrently with each other and with the writer (WAL).
//!
//! Where SQLite calls run: a read in autocommit mode runs on the async thread that
//! asks for it, with the busy timeout off: in WAL mode such a read waits for nobody
//! (a writer never blocks it), and the hop to the blocking pool and back cost more
//! than most of these reads. Should it still meet a lock (a truncating checkpoint,
//! another process), it is run again on tokio's blocking pool, where it may wait out
//! the busy timeout. Everything that may write, and everything inside a transaction,
//! runs on the blocking pool. The two hooks the SQLite backends offer the host live
//! here too: the shutdown checkpoint and the backup snapshot.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::OwnedMutexGuard;

/// How long a connection waits for a lock held by another process (backups, CLI tools).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections kept per database; more may be open while busy.
const MAX_IDLE_CONNECTIONS: usize = 16;
const STATEMENT_CACHE_CAPACITY: usize = 64;
/// How long a snapshot waits for the server's writer when it opens a database.
const SNAPSHOT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a busy snapshot step is retried before giving up.
const SNAPSHOT_BUSY_RETRIES: u32 = 100;
/// Backup API `step` argument meaning "all remaining pages at once".
const ALL_PAGES: i32 = -1;

pub struct Database {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl Database {
    /// Opens (creating if needed) the file, switches it to WAL and runs `init` once.
    pub fn open(path: &Path, init: &str) -> anyhow::Result<Arc<Self>> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
        let db = Arc::new(Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            writer: Arc::new(tokio::sync::Mutex::new(())),
        });
        let conn = db
            .connect()
            .with_context(|| format!("cannot open SQLite database {}", path.display()))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .with_context(|| format!("cannot enable WAL on {}", path.display()))?;
        anyhow::ensure!(
            mode.eq_ignore_ascii_case("wal"),
            "{} refused WAL mode (got {mode})",
            path.display()
        );
        if !init.is_empty() {
            conn.execute_batch(init)
                .with_context(|| format!("cannot initialise {}", path.display()))?;
        }
        db.put_back(conn);
        Ok(db)
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // FULL: an acknowledged write survives power loss, not just a process crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(conn)
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    fn put_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_CONNECTIONS
        {
            idle.push(conn);
        }
    }

    /// A connection for the caller's exclusive use until the checkout is dropped.
    pub async fn checkout(self: &Arc<Self>) -> anyhow::Result<Checkout> {
        let conn = match self.take_idle() {
            Some(conn) => conn,
            None => {
                let db = self.clone();
                tokio::task::spawn_blocking(move || db.connect())
                    .await
                    .context("connection task failed")?
                    .with_context(|| format!("cannot open {}", self.path.display()))?
            }
        };
        Ok(Checkout {
            db: self.clone(),
            inner: Some(Held { conn, writer: None }),
        })
    }

    /// Runs one read in autocommit mode, concurrently with other reads and the writer:
    /// here, unless it meets a lock (then on the blocking pool; see the module docs).
    pub async fn read<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl Fn(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> anyhow::Result<R> {
        let mut checkout = self.checkout().await?;
        if let Some(held) = checkout.inner.as_mut() {
            match held.without_waiting(&f) {
                Err(e) if is_busy(&e) => {}
                done => return done.map_err(Into::into),
            }
        }
        checkout
            .run(move |held| f(&held.conn))
            .await?
            .map_err(Into::into)
    }

    /// Runs one write (a single statement or a closure that commits) under the writer lock.
    pub async fn write<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> anyhow::Result<R> {
        let mut checkout = self.checkout().await?;
        checkout.lock_writer().await;
        checkout
            .run(move |held| f(&held.conn))
            .await?
            .map_err(Into::into)
    }

    /// Folds the WAL back into the main file and truncates it (clean shutdown).
    pub fn checkpoint(&self) -> anyhow::Result<()> {
        let conn = match self.take_idle() {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let (busy, _, _): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .with_context(|| format!("checkpoint of {} failed", self.path.display()))?;
        anyhow::ensure!(
            busy == 0,
            "checkpoint of {} could not complete (database busy)",
            self.path.display()
        );
        self.put_back(conn);
        Ok(())
    }

    /// Clean shutdown, after the last request: checkpoints (logging the outcome)
    /// and closes the idle connections.
    pub fn shutdown(&self) {
        match self.checkpoint() {
            Ok(()) => tracing::info!(db = %self.path.display(), "checkpointed"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "checkpoint failed"),
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }
}

/// Copies a live database at `src` to `dest` as one consistent snapshot (the
/// backup hook), then makes the copy a self-contained rollback-journal database
/// and checks it.
///
/// SQLite's online backup API in a single step holds one read transaction on the
/// source for the whole copy, which in WAL mode never blocks the writer and never
/// restarts, so the copy holds every commit made before it began. (Copying a WAL
/// database file with `cp` is not safe: the newest commits live in the `-wal`.)
pub fn snapshot(src: &Path, dest: &Path) -> anyhow::Result<()> {
    // Read-write without create: a WAL reader needs the -shm, and a missing file is an
    // error, not a new empty database.
    let src = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(SNAPSHOT_BUSY_TIMEOUT)?;
    let mut dst = Connection::open(dest)?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        let mut retries = 0;
        loop {
            match backup.step(ALL_PAGES)? {
                StepResult::Done => break,
                StepResult::More => continue,
                StepResult::Busy | StepResult::Locked => {
                    retries += 1;
                    anyhow::ensure!(
                        retries <= SNAPSHOT_BUSY_RETRIES,
                        "the database stayed busy; is something holding a write lock?"
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
                // StepResult is non-exhaustive.
                _ => anyhow::bail!("unexpected backup step result"),
            }
        }
    }
    drop(src);
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    let check: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    anyhow::ensure!(check == "ok", "the copy failed integrity_check: {check}");
    dst.close().map_err(|(_, e)| e)?;
    Ok(())
}

/// A checked-out connection plus, while it writes or holds a transaction open,
/// the database's writer lock.
pub struct Held {
    pub conn: Connection,
    writer: Option<OwnedMutexGuard<()>>,
}

/// SQLite's answer when a lock is held elsewhere and the busy timeout is off.
pub fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Held {
    /// Runs `f` with the busy timeout off, for work on an async thread, which must not
    /// sleep waiting for a lock: a held lock is an immediate SQLITE_BUSY instead.
    pub fn without_waiting<R>(&mut self, f: impl FnOnce(&Connection) -> R) -> R {
        let _ = self.conn.busy_timeout(Duration::ZERO);
        let out = f(&self.conn);
        let _ = self.conn.busy_timeout(BUSY_TIMEOUT);
        out
    }

    pub fn holds_writer(&self) -> bool {
        self.writer.is_some()
    }

    /// Releases the writer lock once the connection is back in autocommit mode.
    pub fn release_writer_if_idle(&mut self) {
        if self.conn.is_autocommit() {
            self.writer = None;
        }
    }
}

pub struct Checkout {
    db: Arc<Database>,
    /// `None` only while a blocking task owns it, or after that task was abandoned.
    inner: Option<Held>,
}

impl Checkout {
    pub fn held(&self) -> Option<&Held> {
        self.inner.as_ref()
    }

    pub fn held_mut(&mut self) -> Option<&mut Held> {
        self.inner.as_mut()
    }

    pub async fn lock_writer(&mut self) {
        if let Some(held) = self.inner.as_mut()
            && held.writer.is_none()
        {
            held.writer = Some(self.db.writer.clone().lock_owned().await);
        }
    }

    /// Runs `f` on the blocking pool with the connection (and any writer lock) moved in.
    /// If the caller is cancelled mid-way the connection is dropped with the task,
    /// which rolls back any open transaction and then releases the lock.
    pub async fn run<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Held) -> R + Send + 'static,
    ) -> anyhow::Result<R> {
        let mut held = self
            .inner
            .take()
            .context("the connection was lost by an earlier cancelled call")?;
        let (held, out) = tokio::task::spawn_blocking(move || {
            let out = f(&mut held);
            (held, out)
        })
        .await
        .context("SQLite task failed")?;
        self.inner = Some(held);
        Ok(out)
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let Some(held) = self.inner.take() else {
            return;
        };
        if held.conn.is_autocommit() {
            drop(held.writer);
            self.db.put_back(held.conn);
            return;
        }
        // An instance ended (trap, timeout, or simply forgot COMMIT) inside a
        // transaction: closing the connection rolls it back, which is file I/O, so
        // do it off the async threads and release the writer lock only afterwards.
        let close = move || drop(held);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(close);
            }
            Err(_) => close(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_transaction_is_rolled_back_and_frees_the_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db =
            Database::open(&dir.path().join("t.db"), "CREATE TABLE t(x INTEGER);").expect("open");

        let mut c = db.checkout().await.expect("checkout");
        c.lock_writer().await;
        c.run(|h| h.conn.execute_batch("BEGIN; INSERT INTO t VALUES (1);"))
            .await
            .expect("run")
            .expect("sql");
        drop(c);

        // The writer lock comes back once the abandoned connection is closed.
        db.write(|c| c.execute("INSERT INTO t VALUES (2)", []))
            .await
            .expect("write after abandon");
        let rows: Vec<i64> = db
            .read(|c| {
                let mut s = c.prepare("SELECT x FROM t ORDER BY x")?;
                s.query_map([], |r| r.get(0))?.collect()
            })
            .await
            .expect("read");
        assert_eq!(rows, vec![2]);
    }

    #[test]
    fn without_waiting_a_held_lock_is_an_immediate_busy_that_read_can_retry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("l.db");
        let locker = Connection::open(&path).expect("open");
        locker
            .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (7); BEGIN EXCLUSIVE;")
            .expect("lock");
        let mut held = Held {
            conn: Connection::open(&path).expect("open reader"),
            writer: None,
        };
        held.conn.busy_timeout(BUSY_TIMEOUT).expect("timeout");
        let sum = |c: &Connection| c.query_row("SELECT sum(x) FROM t", [], |r| r.get::<_, i64>(0));
        let first = held.without_waiting(sum);
        assert!(first.as_ref().is_err_and(is_busy), "{first:?}");
        locker.execute_batch("COMMIT").expect("unlock");
        assert_eq!(held.without_waiting(sum).expect("read"), 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn database_is_in_wal_mode_with_full_sync_and_checkpoints() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("w.db");
        let db = Database::open(&path, "CREATE TABLE t(x);").expect("open");
        let (mode, sync): (String, i64) = db
            .read(|c| {
                Ok((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                ))
            })
            .await
            .expect("read");
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        db.write(|c| c.execute("INSERT INTO t VALUES (1)", []))
            .await
            .expect("write");
        db.checkpoint().expect("checkpoint");
        let wal = dir.path().join("w.db-wal");
        assert_eq!(std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0), 0);
    }
}
