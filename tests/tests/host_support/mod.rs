//! Shared setup of the host_* tests: the misbehave test component under its own
//! manifest, and the repository app with both of its components built.

#![allow(dead_code, reason = "each host_* test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use integration::{Host, HostOptions, build_component, host_bin};

/// A manifest in its own temp dir serving the misbehave component.
pub struct MisbehaveApp {
    pub dir: tempfile::TempDir,
    pub manifest: PathBuf,
}

/// Writes a manifest mounting misbehave at `route`, with `extra` appended to its
/// `[component.mb]` table (grants, allowed hosts).
pub fn misbehave_app(route: &str, extra: &str) -> MisbehaveApp {
    let wasm = build_component("misbehave");
    let dir = tempfile::tempdir().expect("manifest dir");
    let manifest = dir.path().join("spin.toml");
    let text = format!(
        r#"spin_manifest_version = 2

[application]
name = "misbehave"

[[trigger.http]]
route = "{route}"
component = "mb"

[component.mb]
source = "{wasm}"
{extra}
"#,
        wasm = wasm.display()
    );
    std::fs::write(&manifest, text).expect("write manifest");
    MisbehaveApp { dir, manifest }
}

/// Starts a host on the misbehave app, ready once `/ok` (under `route`) answers.
pub fn start_misbehave(app: &MisbehaveApp, ready: &str, args: &[&str]) -> Host {
    Host::start_with(HostOptions {
        manifest: Some(app.manifest.clone()),
        args: args.iter().map(|s| s.to_string()).collect(),
        ready_path: Some(ready.to_string()),
        ..HostOptions::default()
    })
}

/// The repository app (spin.toml) needs both components on disk.
pub fn build_app() {
    build_component("skilltrack-api");
    build_component("skilltrack-static");
}

/// Runs `tracker-host up` to completion (for start-up refusals).
pub fn run_host_to_exit(manifest: &Path, data_dir: &Path) -> Output {
    Command::new(host_bin())
        .arg("up")
        .arg("--manifest")
        .arg(manifest)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TRACKER_MANIFEST")
        .env_remove("TRACKER_LISTEN")
        .env_remove("TRACKER_DATA_DIR")
        .output()
        .expect("run tracker-host")
}

/// A course body the API accepts.
pub fn course(id: &str, title: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "title": title,
        "category": "Testing",
        "date": "2025-12-26",
        "completionRatio": 10,
        "status": "In Progress",
    })
}

/// Ids of all courses the API returns.
pub fn course_ids(host: &Host) -> Vec<String> {
    let resp = host.get("/api/courses");
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
        .as_array()
        .expect("course array")
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect()
}

/// `PRAGMA integrity_check` on a SQLite file, as a fresh process would see it
/// (this also replays a WAL left behind by a crash).
pub fn integrity_check(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).expect("open database file");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check runs")
}
