//! `tracker-host backup` / `restore` against a real host: a backup taken while a
//! client keeps writing is consistent and complete, and a restored data dir serves
//! exactly what the backup holds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use integration::{Host, HostOptions, host_bin};
use serde_json::json;

/// Upper bound on the writer's loop, so the test stops by itself whatever happens.
const MAX_WRITES: usize = 3000;
/// Writes acknowledged before the backup starts (enough to make every table non-trivial).
const WRITES_BEFORE_BACKUP: usize = 25;
const TITLE_PREFIX: &str = "bk-write-";

fn course_id(i: usize) -> String {
    format!("bk-{i:05}")
}

fn title(i: usize) -> String {
    format!("{TITLE_PREFIX}{i:05}")
}

fn setting_key(i: usize) -> String {
    format!("bk.{i:05}")
}

fn tracker_host(args: &[&str]) -> Output {
    Command::new(host_bin())
        .args(args)
        .env_remove("TRACKER_DATA_DIR")
        .output()
        .expect("run tracker-host")
}

fn backup(data_dir: &Path, out: &Path) -> Output {
    tracker_host(&[
        "backup",
        "--data-dir",
        path_str(data_dir),
        "--out",
        path_str(out),
    ])
}

fn restore(backup: &Path, data_dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "restore",
        "--from",
        path_str(backup),
        "--data-dir",
        path_str(data_dir),
    ];
    args.extend_from_slice(extra);
    tracker_host(&args)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn assert_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One write to SQLite (a course) and one to the key-value store (a setting).
fn write_pair(host: &Host, i: usize) {
    let course = host.put_json(
        &format!("/api/courses/{}", course_id(i)),
        &json!({"title": title(i)}),
    );
    let setting = host.post_json(
        &format!("/api/settings/{}", setting_key(i)),
        &json!({"value": title(i)}),
    );
    assert!(
        course.status < 300 && setting.status < 300,
        "write {i} refused: course {} {}, setting {} {}",
        course.status,
        course.text(),
        setting.status,
        setting.text()
    );
}

/// Served course ids that this test wrote, as write numbers.
fn served_course_writes(host: &Host) -> BTreeSet<usize> {
    let resp = host.get("/api/courses");
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
        .as_array()
        .expect("courses is an array")
        .iter()
        .filter_map(|c| c["id"].as_str()?.strip_prefix("bk-")?.parse().ok())
        .collect()
}

/// Served settings keys that this test wrote, as write numbers, with their values.
fn served_setting_writes(host: &Host) -> BTreeSet<(usize, String)> {
    let resp = host.get("/api/settings");
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
        .as_object()
        .expect("settings is an object")
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("bk.")?.parse().ok()?;
            let value = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            Some((n, value))
        })
        .collect()
}

/// Writes 0..n exactly, nothing missing in between: what a consistent snapshot of one
/// sequential client's writes looks like.
fn assert_prefix(what: &str, got: &BTreeSet<usize>, at_least: usize) -> usize {
    let n = got.len();
    let expected: BTreeSet<usize> = (0..n).collect();
    assert_eq!(got, &expected, "{what}: not a gap-free run of writes");
    assert!(
        n >= at_least,
        "{what}: {n} writes, but {at_least} were acknowledged before the backup began"
    );
    n
}

/// Extracts the files of a backup with plain SQL (the format is documented), after
/// checking the backup file itself with `PRAGMA integrity_check`.
fn extract(backup: &Path, into: &Path) -> Vec<PathBuf> {
    let archive =
        rusqlite::Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("the backup opens as SQLite");
    let check: String = archive
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check runs");
    assert_eq!(check, "ok", "backup file integrity_check");
    let mut stmt = archive
        .prepare("SELECT path, content FROM backup_files WHERE kind = 'sqlite'")
        .expect("backup_files table");
    let files: Vec<(String, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    files
        .into_iter()
        .map(|(rel, content)| {
            let path = into.join(rel.replace('/', "__"));
            std::fs::write(&path, content).expect("write extracted db");
            let db = rusqlite::Connection::open(&path).expect("extracted db opens");
            let check: String = db
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .expect("integrity_check runs");
            assert_eq!(check, "ok", "{rel} integrity_check");
            path
        })
        .collect()
}

/// Every write number whose title appears anywhere in a database's text or blobs.
fn titles_in_database(path: &Path) -> BTreeSet<usize> {
    let db = rusqlite::Connection::open(path).expect("open");
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("list tables");
    let mut found = BTreeSet::new();
    for table in tables {
        let mut stmt = db
            .prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))
            .expect("select");
        let cols = stmt.column_count();
        let mut rows = stmt.query([]).expect("query");
        while let Some(row) = rows.next().expect("row") {
            for c in 0..cols {
                let text = match row.get_ref(c).expect("value") {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    _ => continue,
                };
                let mut rest = text.as_str();
                while let Some(at) = rest.find(TITLE_PREFIX) {
                    rest = &rest[at + TITLE_PREFIX.len()..];
                    if let Some(n) = rest.get(..5).and_then(|d| d.parse().ok()) {
                        found.insert(n);
                    }
                }
            }
        }
    }
    found
}

#[test]
fn backup_during_writes_holds_every_acknowledged_write_and_restores_exactly() {
    let host = Host::start();
    let work = tempfile::tempdir().expect("temp dir");
    let backup_file = work.path().join("skilltrack.backup");
    let acknowledged = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);

    let acked_before_backup = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for i in 0..MAX_WRITES {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                write_pair(&host, i);
                acknowledged.store(i + 1, Ordering::SeqCst);
            }
        });
        while acknowledged.load(Ordering::SeqCst) < WRITES_BEFORE_BACKUP {
            assert!(!writer.is_finished(), "the writer stopped early");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let before = acknowledged.load(Ordering::SeqCst);
        let out = backup(host.data_dir(), &backup_file);
        stop.store(true, Ordering::SeqCst);
        writer.join().expect("writer thread");
        assert_ok("backup while writing", &out);
        before
    });
    let acked_total = acknowledged.load(Ordering::SeqCst);

    // The backup, read with plain SQLite: intact, and a consistent snapshot holding
    // every write acknowledged before it began.
    let extracted = extract(&backup_file, work.path());
    let names: Vec<String> = extracted
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(names.contains(&"key-value.db".to_string()), "{names:?}");
    assert!(
        names.contains(&"sqlite__default.db".to_string()),
        "{names:?}"
    );
    let in_sqlite = titles_in_database(&work.path().join("sqlite__default.db"));
    let in_kv = titles_in_database(&work.path().join("key-value.db"));
    let courses_in_backup = assert_prefix("courses in the backup", &in_sqlite, acked_before_backup);
    let settings_in_backup = assert_prefix("settings in the backup", &in_kv, acked_before_backup);
    eprintln!(
        "acknowledged before the backup: {acked_before_backup}; in the backup: {courses_in_backup} \
         courses, {settings_in_backup} settings; acknowledged in all: {acked_total}"
    );
    // At most the one write in flight when the writer was stopped is beyond the acks.
    assert!(courses_in_backup <= acked_total + 1 && settings_in_backup <= acked_total + 1);

    // Restored into a fresh data dir, a new host serves exactly the backup's state.
    let fresh = tempfile::tempdir().expect("temp dir");
    let data_dir = fresh.path().join("data");
    assert_ok(
        "restore into a fresh data dir",
        &restore(&backup_file, &data_dir, &[]),
    );
    let restored = Host::start_with(HostOptions {
        data_dir: Some(data_dir),
        ..HostOptions::default()
    });
    assert_eq!(served_course_writes(&restored), in_sqlite);
    let settings = served_setting_writes(&restored);
    let expected: BTreeSet<(usize, String)> = in_kv.iter().map(|&i| (i, title(i))).collect();
    assert_eq!(settings, expected);
}

#[test]
fn restore_refuses_a_data_dir_that_a_running_host_holds() {
    let mut host = Host::start();
    write_pair(&host, 0);
    let work = tempfile::tempdir().expect("temp dir");
    let backup_file = work.path().join("b.backup");
    assert_ok("backup", &backup(host.data_dir(), &backup_file));
    write_pair(&host, 1);

    let out = restore(&backup_file, host.data_dir(), &["--force"]);
    assert!(
        !out.status.success(),
        "restore over a running host succeeded"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("running"), "unclear refusal: {stderr}");
    // Nothing was touched: the write made after the backup is still served.
    assert_eq!(served_course_writes(&host), BTreeSet::from([0, 1]));

    // Once the host is stopped, the same restore goes through and rolls back to the backup.
    host.stop();
    assert_ok(
        "restore after stop",
        &restore(&backup_file, host.data_dir(), &["--force"]),
    );
    host.start_again();
    assert_eq!(served_course_writes(&host), BTreeSet::from([0]));
}

#[test]
fn damaged_backup_is_rejected_and_the_data_dir_is_left_alone() {
    let host = Host::start();
    write_pair(&host, 0);
    let work = tempfile::tempdir().expect("temp dir");
    let backup_file = work.path().join("b.backup");
    assert_ok("backup", &backup(host.data_dir(), &backup_file));

    // Damage the copy of the database inside an otherwise valid backup file.
    let archive = rusqlite::Connection::open(&backup_file).expect("open backup");
    archive
        .execute(
            "UPDATE backup_files SET content = substr(content, 1, length(content) / 2) \
             WHERE path = 'sqlite/default.db'",
            [],
        )
        .expect("damage");
    drop(archive);

    let target = work.path().join("target");
    let out = restore(&backup_file, &target, &[]);
    assert!(!out.status.success(), "a damaged backup was restored");
    assert!(
        !target.join("sqlite").exists() && !target.join("key-value.db").exists(),
        "the data dir changed"
    );
    let verify = tracker_host(&["restore", "--verify-only", "--from", path_str(&backup_file)]);
    assert!(
        !verify.status.success(),
        "--verify-only passed a damaged backup"
    );
}

/// A backup covers the data dir only; in PostgreSQL mode the command says where the
/// library is instead and how to back it up, and in SQLite mode it says nothing.
#[test]
fn a_backup_says_when_the_library_lives_in_postgresql() {
    let data = tempfile::tempdir().expect("data dir");
    let out = data.path().join("b.backup");
    // A replica's data dir in PostgreSQL mode: nothing of the library in it.
    std::fs::create_dir_all(data.path().join("d/sqlite")).expect("data dir");
    std::fs::write(data.path().join("d/sqlite/default.db"), b"").expect("empty db");
    let manifest = integration::manifest();
    let run = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(host_bin());
        cmd.args(["backup", "--data-dir"])
            .arg(data.path().join("d"))
            .arg("--out")
            .arg(&out)
            .arg("--manifest")
            .arg(&manifest)
            .env_remove("TRACKER_DATA_DIR")
            .env_remove("TRACKER_FLEET_DATABASE_URL")
            .env_remove("SPIN_VARIABLE_DATABASE_HOST");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd.output().expect("run tracker-host");
        assert_ok("backup", &output);
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let single_node = run(&[]);
    assert!(!single_node.contains("note:"), "{single_node}");
    let postgres = run(&[
        ("SPIN_VARIABLE_DATABASE_HOST", "postgres://db.internal:5432"),
        (
            "TRACKER_FLEET_DATABASE_URL",
            "postgres://db.internal:5432/app",
        ),
    ]);
    assert!(
        postgres
            .contains("component `api` may keep data in PostgreSQL (postgres://db.internal:5432)"),
        "{postgres}"
    );
    assert!(postgres.contains("pg_dump"), "{postgres}");
    assert!(postgres.contains("fleet mode"), "{postgres}");
}
