//! Data written through the real host survives a graceful stop and a restart on
//! the same data dir; the data dir is held by one host at a time.

mod host_support;

use host_support::{build_app, course, course_ids, integrity_check, run_host_to_exit};
use integration::{Host, manifest};
use serde_json::json;

#[test]
fn courses_and_settings_written_before_a_stop_are_served_after_restart() {
    build_app();
    let mut host = Host::start();
    let put = host.put_json(
        "/api/courses/persist-1",
        &course("persist-1", "Kept across restarts"),
    );
    assert!(put.status == 200 || put.status == 201, "{}", put.text());
    let set = host.post_json("/api/settings/theme", &json!({ "value": "dark" }));
    assert!((200..300).contains(&set.status), "{}", set.text());

    host.stop();
    host.start_again();

    assert_eq!(course_ids(&host), vec!["persist-1".to_string()]);
    let course = host.get("/api/courses/persist-1");
    assert_eq!(course.status, 200, "{}", course.text());
    assert_eq!(course.json()["title"], "Kept across restarts");
    let setting = host.get("/api/settings/theme");
    assert_eq!(setting.status, 200, "{}", setting.text());
    assert_eq!(setting.json()["value"], "dark");
}

#[test]
fn a_graceful_stop_checkpoints_the_wal_into_the_database_files() {
    build_app();
    let mut host = Host::start();
    let put = host.put_json("/api/courses/wal-1", &course("wal-1", "Checkpointed"));
    assert!(put.status == 200 || put.status == 201, "{}", put.text());
    host.stop();

    for db in [
        host.data_dir().join("sqlite/default.db"),
        host.data_dir().join("key-value.db"),
    ] {
        assert!(db.is_file(), "{} exists", db.display());
        let wal = db.with_extension("db-wal");
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(wal_len, 0, "{} is empty after a clean stop", wal.display());
        assert_eq!(integrity_check(&db), "ok");
    }
}

#[test]
fn a_second_host_on_the_same_data_dir_refuses_to_start() {
    build_app();
    let host = Host::start();
    let out = run_host_to_exit(&manifest(), host.data_dir());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "second host must not start: {stderr}"
    );
    assert!(
        stderr.contains("in use"),
        "clear message expected: {stderr}"
    );
    assert!(!stderr.contains("listening on"), "{stderr}");
    // The first host is unaffected.
    assert_eq!(host.get("/health").status, 200);
}

#[test]
fn a_restart_loads_compiled_components_from_the_cache() {
    build_app();
    let mut host = Host::start();
    let cached: Vec<String> = std::fs::read_dir(host.data_dir().join("cache"))
        .expect("cache dir exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".cwasm"))
        .collect();
    assert_eq!(cached.len(), 2, "one entry per component: {cached:?}");
    assert!(!host.log().contains("cached=true"), "first start compiles");

    host.restart();
    assert!(
        host.log().contains("cached=true"),
        "second start loads from <data>/cache:\n{}",
        host.log()
    );
    assert_eq!(host.get("/health").status, 200);
}
