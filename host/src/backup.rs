//! `tracker-host backup` and `tracker-host restore`: the data dir's state in one file.
//!
//! The backup file is itself a SQLite database (`application_id` 0x536B5472, "SkTr"):
//!
//! ```sql
//! backup_info(key TEXT PRIMARY KEY, value TEXT)        -- format, created_unix, host_version
//! backup_files(path TEXT PRIMARY KEY,                   -- relative to the data dir, '/'-separated
//!              kind TEXT,                               -- 'sqlite' or 'file'
//!              size INTEGER, sha256 TEXT, content BLOB)
//! ```
//!
//! Every database a capability keeps in the data dir (`caps::stored()`: today
//! `sqlite/<label>.db` and `key-value.db`) is copied with `database::snapshot`, a
//! consistent online copy that is safe while the server writes. Hot-swapped
//! component versions under `components/` are stored as plain files; the
//! compiled-code cache is derived data and is left out.
//!
//! Restore verifies everything (checksums, `PRAGMA integrity_check` of each database)
//! in a staging dir before it touches the data dir, refuses while a server holds the
//! data dir's `.lock`, and holds that lock itself so no server starts half-way through.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use rusqlite::{Connection, OpenFlags, params};

use crate::caps;
use crate::data_dir::{COMPONENTS_DIR, DataDir, LockError};
use crate::database::snapshot;
use crate::files::{sha256_hex, sync_parent, write_atomically};
use crate::stamps::unix_seconds;

/// Marks a SQLite file as a tracker-host backup ("SkTr").
const APPLICATION_ID: i32 = 0x536B_5472;
/// The version of the backup file layout described in the module docs.
const FORMAT_VERSION: &str = "1";
/// What `--out` / `--from` take to mean standard output / input.
const STDIO: &str = "-";

/// What one backup contains.
#[derive(Debug)]
pub struct BackupReport {
    pub out: PathBuf,
    pub files: Vec<FileEntry>,
}

/// What one restore did.
#[derive(Debug)]
pub struct RestoreReport {
    pub data_dir: PathBuf,
    pub files: Vec<FileEntry>,
    /// Where the data that was replaced (with `--force`) was moved to.
    pub previous_data: Option<PathBuf>,
}

/// What `verify` found in a backup file.
#[derive(Debug)]
pub struct VerifyReport {
    pub backup: PathBuf,
    pub files: Vec<FileEntry>,
}

/// One file of a backup.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub path: String,
    pub kind: Kind,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A SQLite database, copied with the online backup API and integrity-checked.
    Sqlite,
    /// A plain file copied as it is.
    File,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::File => "file",
        }
    }

    fn parse(s: &str) -> Result<Kind> {
        match s {
            "sqlite" => Ok(Kind::Sqlite),
            "file" => Ok(Kind::File),
            other => bail!("unknown file kind {other:?} in backup"),
        }
    }
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes: u64 = self.files.iter().map(|e| e.size).sum();
        let out = describe(&self.out, "standard output");
        write!(
            f,
            "backup written to {out}: {} files, {bytes} bytes",
            self.files.len()
        )?;
        for e in &self.files {
            write!(f, "\n  {} ({}, {} bytes)", e.path, e.kind.as_str(), e.size)?;
        }
        Ok(())
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is intact: {} files, every checksum and integrity_check passed",
            describe(&self.backup, "the backup on standard input"),
            self.files.len()
        )
    }
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "restored {} files into {}",
            self.files.len(),
            self.data_dir.display()
        )?;
        if let Some(prev) = &self.previous_data {
            write!(f, "; the data it replaced is in {}", prev.display())?;
        }
        Ok(())
    }
}

/// A path for messages, naming `-` for what it stands for.
fn describe(path: &Path, stdio: &str) -> String {
    if path.as_os_str() == STDIO {
        stdio.to_string()
    } else {
        path.display().to_string()
    }
}

/// Writes a backup of `data_dir` to `out` (`-` for standard output). Safe while a
/// server runs and writes: see the module docs.
pub fn backup(data_dir: &Path, out: &Path) -> Result<BackupReport> {
    ensure!(
        data_dir.is_dir(),
        "data dir {} does not exist",
        data_dir.display()
    );
    let to_stdout = out.as_os_str() == STDIO;
    // Built beside the destination and renamed, so a partial backup never has the
    // final name; for stdout, in the temp dir and streamed when complete.
    let work = if to_stdout {
        ScratchDir::new_in(&std::env::temp_dir(), ".tracker-backup-")
            .context("create a temp dir for the backup (set TMPDIR)")?
    } else {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .with_context(|| format!("create directory {}", parent.display()))?;
        ScratchDir::new_in(&parent, ".tracker-backup-")?
    };
    let archive_path = work.path().join("backup.db");
    let mut archive = create_archive(&archive_path)?;
    let mut files = Vec::new();

    for rel in DataDir::new(data_dir).databases(&caps::stored())? {
        let copy = work.path().join("copy.db");
        snapshot(&data_dir.join(&rel), &copy)
            .with_context(|| format!("back up {}", data_dir.join(&rel).display()))?;
        let content = fs::read(&copy).with_context(|| format!("read {}", copy.display()))?;
        fs::remove_file(&copy).with_context(|| format!("remove {}", copy.display()))?;
        files.push(store(&mut archive, &rel, Kind::Sqlite, &content)?);
    }
    // Version records before the builds they name: a build is written before a
    // record points at it, so listing the builds afterwards finds every one named.
    let records = plain_files(data_dir, |name| name.ends_with(".json"))?;
    let builds = || plain_files(data_dir, |name| !name.ends_with(".json"));
    for rel in records.into_iter().chain(builds()?) {
        let content = fs::read(data_dir.join(&rel))
            .with_context(|| format!("read {}", data_dir.join(&rel).display()))?;
        files.push(store(&mut archive, &rel, Kind::File, &content)?);
    }
    ensure!(
        !files.is_empty(),
        "{} holds no data to back up (no sqlite/*.db, key-value.db or components/)",
        data_dir.display()
    );
    let check: String = archive.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    ensure!(
        check == "ok",
        "the new backup failed integrity_check: {check}"
    );
    archive
        .close()
        .map_err(|(_, e)| e)
        .context("close the backup file")?;

    if to_stdout {
        let mut src = File::open(&archive_path)?;
        let mut stdout = io::stdout().lock();
        io::copy(&mut src, &mut stdout).context("write the backup to stdout")?;
        stdout.flush().context("write the backup to stdout")?;
    } else {
        File::open(&archive_path)?
            .sync_all()
            .context("sync the backup file")?;
        fs::rename(&archive_path, out)
            .with_context(|| format!("move the backup to {}", out.display()))?;
        sync_parent(out)?;
    }
    Ok(BackupReport {
        out: out.to_path_buf(),
        files,
    })
}

/// Checks a backup file completely (format, checksums, integrity of every database)
/// without touching any data dir.
pub fn verify(backup_file: &Path) -> Result<VerifyReport> {
    let staging = ScratchDir::new_in(&std::env::temp_dir(), ".tracker-verify-")
        .context("create a temp dir (set TMPDIR)")?;
    let files = stage(backup_file, staging.path())?;
    Ok(VerifyReport {
        backup: backup_file.to_path_buf(),
        files,
    })
}

/// Replaces the data of `data_dir` with the content of `backup_file` (`-` for standard
/// input). Refuses while a server runs on `data_dir`, and when `data_dir` already holds
/// data unless `force` (the replaced data is then moved aside, not deleted).
pub fn restore(backup_file: &Path, data_dir: &Path, force: bool) -> Result<RestoreReport> {
    // Held until this function returns: a server started meanwhile finds it taken.
    let _lock = DataDir::new(data_dir).lock().map_err(|e| match e {
        LockError::Held(path) => anyhow::anyhow!(
            "a tracker-host is running on {} (it holds {}); stop it before restoring",
            data_dir.display(),
            path.display()
        ),
        LockError::Io(e) => e,
    })?;

    let existing = existing_data(data_dir)?;
    if !existing.is_empty() && !force {
        bail!(
            "{} already holds data ({}); pass --force to replace it (it is moved aside, not deleted)",
            data_dir.display(),
            existing.join(", ")
        );
    }

    // Staged inside the data dir so the final moves are renames on one filesystem.
    let staging = ScratchDir::new_in(data_dir, ".restore-")?;
    let files = stage(backup_file, staging.path())?;

    let previous_data = if existing.is_empty() {
        None
    } else {
        Some(move_aside(data_dir, &existing)?)
    };
    for entry in &files {
        let from = staging.path().join(&entry.path);
        let to = data_dir.join(&entry.path);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("create directory {}", parent.display()))?;
        }
        fs::rename(&from, &to).with_context(|| format!("move into place {}", to.display()))?;
        sync_parent(&to)?;
    }
    Ok(RestoreReport {
        data_dir: data_dir.to_path_buf(),
        files,
        previous_data,
    })
}

/// Opens the backup (copying stdin to a file in `staging` first), checks it and writes
/// every file, verified, under `staging`.
fn stage(backup_file: &Path, staging: &Path) -> Result<Vec<FileEntry>> {
    let path = if backup_file.as_os_str() == STDIO {
        // Not a name a data dir file can have, so it cannot collide with one.
        let copy = staging.join("stdin.backup");
        let mut file = File::create(&copy).context("create a temp file for standard input")?;
        io::copy(&mut io::stdin().lock(), &mut file).context("read the backup from stdin")?;
        copy
    } else {
        backup_file.to_path_buf()
    };
    ensure!(
        path.is_file(),
        "backup file {} does not exist",
        path.display()
    );
    let archive = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("open backup file {}", backup_file.display()))?;
    check_header(&archive)
        .with_context(|| format!("{} is not a usable backup", backup_file.display()))?;

    let mut stmt = archive
        .prepare("SELECT path, kind, size, sha256, content FROM backup_files ORDER BY path")?;
    let mut rows = stmt.query([])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        let rel: String = row.get(0)?;
        let kind = Kind::parse(&row.get::<_, String>(1)?)?;
        let size: i64 = row.get(2)?;
        let sha: String = row.get(3)?;
        let content: Vec<u8> = row.get(4)?;
        let target = safe_relative(&rel)
            .with_context(|| format!("backup holds a file with a bad path {rel:?}"))?;
        ensure!(
            u64::try_from(size).ok() == Some(content.len() as u64) && sha256_hex(&content) == sha,
            "{rel} in the backup is damaged (size or checksum does not match)"
        );
        let dest = staging.join(target);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)?;
        }
        write_atomically(&dest, &content)?;
        if kind == Kind::Sqlite {
            check_database(&dest).with_context(|| format!("{rel} in the backup"))?;
        }
        entries.push(FileEntry {
            path: rel,
            kind,
            size: content.len() as u64,
        });
    }
    ensure!(!entries.is_empty(), "the backup holds no files");
    Ok(entries)
}

fn check_header(archive: &Connection) -> Result<()> {
    let app_id: i32 = archive.pragma_query_value(None, "application_id", |r| r.get(0))?;
    ensure!(
        app_id == APPLICATION_ID,
        "not a tracker-host backup (application_id {app_id:#x})"
    );
    let format: String = archive
        .query_row(
            "SELECT value FROM backup_info WHERE key = 'format'",
            [],
            |r| r.get(0),
        )
        .context("read the backup format")?;
    ensure!(
        format == FORMAT_VERSION,
        "backup format {format} is not supported (this tracker-host reads {FORMAT_VERSION})"
    );
    let check: String = archive.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    ensure!(check == "ok", "backup file failed integrity_check: {check}");
    Ok(())
}

/// Opens a restored database and runs `PRAGMA integrity_check` on it.
fn check_database(path: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .with_context(|| format!("open {}", path.display()))?;
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    ensure!(check == "ok", "integrity_check failed: {check}");
    conn.close().map_err(|(_, e)| e)?;
    Ok(())
}

fn create_archive(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("create {}", path.display()))?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    conn.execute_batch(
        "CREATE TABLE backup_info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE backup_files(
             path TEXT PRIMARY KEY,
             kind TEXT NOT NULL CHECK (kind IN ('sqlite', 'file')),
             size INTEGER NOT NULL,
             sha256 TEXT NOT NULL,
             content BLOB NOT NULL
         );",
    )?;
    let info = [
        ("format", FORMAT_VERSION.to_string()),
        ("created_unix", unix_seconds().to_string()),
        ("host_version", env!("CARGO_PKG_VERSION").to_string()),
    ];
    for (k, v) in info {
        conn.execute(
            "INSERT INTO backup_info(key, value) VALUES (?1, ?2)",
            params![k, v],
        )?;
    }
    Ok(conn)
}

fn store(archive: &mut Connection, rel: &str, kind: Kind, content: &[u8]) -> Result<FileEntry> {
    archive
        .execute(
            "INSERT INTO backup_files(path, kind, size, sha256, content) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                rel,
                kind.as_str(),
                i64::try_from(content.len()).context("file too large")?,
                sha256_hex(content),
                content
            ],
        )
        .with_context(|| format!("store {rel} in the backup"))?;
    Ok(FileEntry {
        path: rel.to_string(),
        kind,
        size: content.len() as u64,
    })
}

/// The files under `components/` whose name `keep` accepts, relative and
/// '/'-separated; half-written temp files (`*.tmp<pid>`) are never included.
fn plain_files(data_dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = vec![PathBuf::from(COMPONENTS_DIR)];
    while let Some(rel_dir) = pending.pop() {
        let dir = data_dir.join(&rel_dir);
        if !dir.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&dir).with_context(|| format!("list {}", dir.display()))? {
            let entry = entry?;
            let rel = rel_dir.join(entry.file_name());
            let ty = entry.file_type()?;
            if ty.is_dir() {
                pending.push(rel);
            } else if ty.is_file() {
                let name = entry.file_name();
                let name = name.to_str().unwrap_or_default();
                let temp = Path::new(name)
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.starts_with("tmp"));
                if temp || !keep(name) {
                    continue;
                }
                let Some(s) = rel.to_str() else {
                    bail!("{} has a name that is not UTF-8", rel.display());
                };
                out.push(s.replace(std::path::MAIN_SEPARATOR, "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What a restore would replace in `data_dir`.
fn existing_data(data_dir: &Path) -> Result<Vec<String>> {
    let mut out = DataDir::new(data_dir).databases(&caps::stored())?;
    if data_dir.join(COMPONENTS_DIR).exists() {
        out.push(format!("{COMPONENTS_DIR}/"));
    }
    Ok(out)
}

/// Moves the databases (with their -wal/-shm) and components/ into
/// `<data>/pre-restore-<unix time>/` and returns that dir.
fn move_aside(data_dir: &Path, existing: &[String]) -> Result<PathBuf> {
    let stamp = unix_seconds();
    let mut aside = data_dir.join(format!("pre-restore-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        aside = data_dir.join(format!("pre-restore-{stamp}-{n}"));
        n += 1;
    }
    for rel in existing {
        let rel = rel.trim_end_matches('/');
        let names = if rel == COMPONENTS_DIR {
            vec![rel.to_string()]
        } else {
            vec![
                rel.to_string(),
                format!("{rel}-wal"),
                format!("{rel}-shm"),
                format!("{rel}-journal"),
            ]
        };
        for name in names {
            let from = data_dir.join(&name);
            if !from.exists() {
                continue;
            }
            let to = aside.join(&name);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::rename(&from, &to)
                .with_context(|| format!("move {} to {}", from.display(), to.display()))?;
        }
    }
    Ok(aside)
}

/// A backup's stored path as a relative path that stays inside the data dir.
fn safe_relative(rel: &str) -> Result<PathBuf> {
    let path = Path::new(rel);
    ensure!(!rel.is_empty(), "empty path");
    ensure!(
        path.components().all(|c| matches!(c, Component::Normal(_))),
        "path leaves the data dir"
    );
    let allowed = caps::stored().iter().any(|s| s.holds(rel))
        || rel.starts_with(&format!("{COMPONENTS_DIR}/"));
    ensure!(allowed, "not a data dir file");
    Ok(path.to_path_buf())
}

/// A directory removed (with its content) when dropped, so a failed backup or restore
/// leaves nothing behind.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new_in(parent: &Path, prefix: &str) -> Result<ScratchDir> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = parent.join(format!("{prefix}{}-{nanos}", std::process::id()));
        fs::create_dir(&path).with_context(|| format!("create {}", path.display()))?;
        Ok(ScratchDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQLITE_DIR: &str = "sqlite";
    const KEY_VALUE_FILE: &str = "key-value.db";

    fn scratch() -> ScratchDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ScratchDir::new_in(&std::env::temp_dir(), &format!("backup-test-{n}-")).expect("temp dir")
    }

    fn data_dir_with_data() -> ScratchDir {
        let dir = scratch();
        fs::create_dir_all(dir.path().join(SQLITE_DIR)).expect("mkdir");
        let db = Connection::open(dir.path().join("sqlite/default.db")).expect("open");
        db.pragma_update(None, "journal_mode", "WAL").expect("wal");
        db.execute_batch(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
             INSERT INTO t(v) VALUES ('one'), ('two');",
        )
        .expect("seed");
        let kv = Connection::open(dir.path().join(KEY_VALUE_FILE)).expect("open kv");
        kv.execute_batch(
            "CREATE TABLE spin_key_value(store TEXT, key TEXT, value BLOB, PRIMARY KEY(store, key));
             INSERT INTO spin_key_value VALUES ('default', 'monthly_goal', x'33');",
        )
        .expect("seed kv");
        fs::create_dir_all(dir.path().join("components/api")).expect("mkdir");
        fs::write(dir.path().join("components/api/v1.wasm"), b"\0asm").expect("write");
        fs::write(dir.path().join("components/api.json"), b"{}").expect("write");
        // A version being written right now: never part of a backup.
        fs::write(dir.path().join("components/api/v2.tmp42"), b"\0as").expect("write");
        dir
    }

    #[test]
    fn backup_then_restore_round_trips_databases_and_files() {
        let src = data_dir_with_data();
        let out_dir = scratch();
        let out = out_dir.path().join("b.skilltrack-backup");
        let report = backup(src.path(), &out).expect("backup");
        let paths: Vec<_> = report.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "key-value.db",
                "sqlite/default.db",
                "components/api.json",
                "components/api/v1.wasm"
            ]
        );

        let dest = scratch();
        let restored = restore(&out, dest.path(), false).expect("restore");
        assert!(restored.previous_data.is_none());
        let db = Connection::open(dest.path().join("sqlite/default.db")).expect("open");
        let n: i64 = db
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 2);
        let kv = Connection::open(dest.path().join(KEY_VALUE_FILE)).expect("open");
        let v: Vec<u8> = kv
            .query_row(
                "SELECT value FROM spin_key_value WHERE key='monthly_goal'",
                [],
                |r| r.get(0),
            )
            .expect("kv row");
        assert_eq!(v, b"3");
        assert_eq!(
            fs::read(dest.path().join("components/api/v1.wasm")).expect("read"),
            b"\0asm"
        );
    }

    #[test]
    fn restore_refuses_a_data_dir_with_data_unless_forced() {
        let src = data_dir_with_data();
        let out_dir = scratch();
        let out = out_dir.path().join("b");
        backup(src.path(), &out).expect("backup");
        let err = restore(&out, src.path(), false).expect_err("must refuse");
        assert!(err.to_string().contains("--force"), "{err:#}");
        let report = restore(&out, src.path(), true).expect("forced restore");
        let aside = report.previous_data.expect("old data moved aside");
        assert!(aside.join("sqlite/default.db").is_file());
        assert!(src.path().join("sqlite/default.db").is_file());
    }

    #[test]
    fn restore_refuses_while_the_lock_is_held() {
        let src = data_dir_with_data();
        let out_dir = scratch();
        let out = out_dir.path().join("b");
        backup(src.path(), &out).expect("backup");
        let dest = scratch();
        let held = DataDir::new(dest.path()).lock().expect("first lock");
        let err = restore(&out, dest.path(), true).expect_err("must refuse");
        assert!(err.to_string().contains("running"), "{err:#}");
        assert!(!dest.path().join("sqlite").exists());
        drop(held);
    }

    #[test]
    fn damaged_backup_is_rejected_before_the_data_dir_changes() {
        let src = data_dir_with_data();
        let out_dir = scratch();
        let out = out_dir.path().join("b");
        backup(src.path(), &out).expect("backup");
        let archive = Connection::open(&out).expect("open");
        archive
            .execute(
                "UPDATE backup_files SET content = zeroblob(length(content)) WHERE path = 'sqlite/default.db'",
                [],
            )
            .expect("damage");
        drop(archive);
        let dest = scratch();
        let err = restore(&out, dest.path(), false).expect_err("must reject");
        assert!(format!("{err:#}").contains("damaged"), "{err:#}");
        assert!(!dest.path().join("sqlite").exists());
    }

    #[test]
    fn paths_outside_the_data_dir_are_rejected() {
        assert!(safe_relative("../etc/passwd").is_err());
        assert!(safe_relative("/etc/passwd").is_err());
        assert!(safe_relative("sqlite/../../x.db").is_err());
        assert!(safe_relative("cache/x").is_err());
        assert!(safe_relative("sqlite/default.db").is_ok());
    }
}
