//! Shared setup of the swap_* tests: second builds of the components (built once,
//! into `target/swap-variant`), the misbehaving variants a swap must reject, and
//! small admin API helpers.

#![allow(dead_code, reason = "each swap_* test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use integration::{Host, Resp, build_component, repo_root};

/// The `version` the API's `/health` reports for the second build (its
/// SKILLTRACK_BUILD_LABEL).
pub const VARIANT_LABEL: &str = "0.1.0-swap-variant-b";
/// The `version` of the build spin.toml serves: the crate version, which the API
/// and this crate share through the workspace.
pub const A_VERSION: &str = env!("CARGO_PKG_VERSION");
/// A marker in the second static build's index.html.
pub const WEB_VARIANT_MARKER: &str = "skilltrack-web-variant-b";

/// One build at a time: the variants share a target dir and output file name.
static BUILD_LOCK: Mutex<()> = Mutex::new(());

fn variant_target() -> PathBuf {
    repo_root().join("target/swap-variant")
}

/// Builds `package` (with `features` and `env`) into target/swap-variant and copies
/// the .wasm to `out_name` there, so later builds do not overwrite it.
fn build_variant(package: &str, features: &str, env: &[(&str, &str)], out_name: &str) -> PathBuf {
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let out = variant_target().join("out").join(out_name);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo_root())
        .env("CARGO_TARGET_DIR", variant_target())
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "wasm",
            "-p",
            package,
        ]);
    if !features.is_empty() {
        cmd.args(["--features", features]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd.status().expect("cargo runs");
    assert!(status.success(), "building {package} {features} failed");
    let built = variant_target()
        .join("wasm32-wasip2/wasm")
        .join(format!("{}.wasm", package.replace('-', "_")));
    std::fs::create_dir_all(out.parent().expect("out has a parent")).expect("out dir");
    std::fs::copy(&built, &out).expect("copy variant");
    out
}

fn once(cell: &'static OnceLock<PathBuf>, build: impl FnOnce() -> PathBuf) -> Vec<u8> {
    let path = cell.get_or_init(build);
    std::fs::read(path).expect("read built variant")
}

/// The API component as spin.toml serves it.
pub fn api_a() -> Vec<u8> {
    std::fs::read(build_component("skilltrack-api")).expect("read api build")
}

/// The API component built with SKILLTRACK_BUILD_LABEL=VARIANT_LABEL.
pub fn api_b() -> Vec<u8> {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    once(&CELL, || {
        build_variant(
            "skilltrack-api",
            "",
            &[("SKILLTRACK_BUILD_LABEL", VARIANT_LABEL)],
            "skilltrack_api_b.wasm",
        )
    })
}

/// The static component embedding a one-page app whose index.html carries the marker.
pub fn web_b() -> Vec<u8> {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    once(&CELL, || {
        let dist = variant_target().join("web-dist-b");
        std::fs::create_dir_all(&dist).expect("dist dir");
        let index = format!(
            "<!doctype html>\n<html><head><title>SkillTrack</title></head><body><p id=\"{WEB_VARIANT_MARKER}\">new UI</p></body></html>\n"
        );
        // Rewritten only when different, so cargo does not rebuild every run.
        if std::fs::read_to_string(dist.join("index.html"))
            .ok()
            .as_deref()
            != Some(index.as_str())
        {
            std::fs::write(dist.join("index.html"), index).expect("write index");
        }
        let dist = dist.to_string_lossy().into_owned();
        build_variant(
            "skilltrack-static",
            "",
            &[("SKILLTRACK_WEB_DIST", dist.as_str())],
            "skilltrack_static_b.wasm",
        )
    })
}

/// misbehave with one cargo feature (`bad-health`, `trap-at-start`, `extra-import`).
pub fn misbehave(feature: &'static str) -> Vec<u8> {
    static CELLS: Mutex<Vec<(&'static str, PathBuf)>> = Mutex::new(Vec::new());
    let mut cells = CELLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = cells.iter().find(|(f, _)| *f == feature) {
        return std::fs::read(path).expect("read misbehave variant");
    }
    let path = build_variant(
        "misbehave",
        feature,
        &[],
        &format!("misbehave_{feature}.wasm"),
    );
    cells.push((feature, path.clone()));
    std::fs::read(path).expect("read misbehave variant")
}

/// The same component with a custom section appended: a new sha256, same behaviour.
pub fn with_custom_section(wasm: &[u8], tag: &str) -> Vec<u8> {
    let name = b"swap-test";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(tag.as_bytes());
    assert!(payload.len() < 128, "one-byte LEB128 length");
    let mut out = wasm.to_vec();
    out.push(0);
    out.push(payload.len() as u8);
    out.extend_from_slice(&payload);
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    // The host reports versions by sha256; computing it here keeps the assertions exact.
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().expect("stdin").write_all(bytes)?;
            child.wait_with_output()
        })
        .expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sha256sum output")
        .to_owned()
}

pub fn put_version(host: &Host, component: &str, wasm: &[u8]) -> Resp {
    host.admin_request(
        "PUT",
        &format!("/-/components/{component}"),
        &[],
        Some(wasm),
    )
}

pub fn rollback(host: &Host, component: &str) -> Resp {
    host.admin_request(
        "POST",
        &format!("/-/components/{component}/rollback"),
        &[],
        None,
    )
}

/// `GET /-/components`, the entry for `component`.
pub fn slot(host: &Host, component: &str) -> serde_json::Value {
    let list = host.admin_request("GET", "/-/components", &[], None);
    assert_eq!(list.status, 200, "{}", list.text());
    list.json()["components"]
        .as_array()
        .expect("components array")
        .iter()
        .find(|c| c["name"] == component)
        .cloned()
        .unwrap_or_else(|| panic!("no slot {component} in {}", list.text()))
}

/// The `version` `/health` reports (A_VERSION or VARIANT_LABEL here).
pub fn health_version(host: &Host) -> String {
    let health = host.get("/health");
    assert_eq!(health.status, 200, "{}", health.text());
    health.json()["version"]
        .as_str()
        .expect("version")
        .to_owned()
}

/// A manifest like spin.toml whose component sources are copies in a temp dir
/// (tests change them). Returns (temp dir, manifest, api source, web source).
pub struct TempApp {
    pub dir: tempfile::TempDir,
    pub manifest: PathBuf,
    pub api_source: PathBuf,
    pub web_source: PathBuf,
}

pub fn temp_app() -> TempApp {
    let dir = tempfile::tempdir().expect("temp app dir");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let api_source = bin.join("api.wasm");
    let web_source = bin.join("web.wasm");
    std::fs::write(&api_source, api_a()).expect("copy api");
    std::fs::copy(build_component("skilltrack-static"), &web_source).expect("copy web");
    let text = std::fs::read_to_string(integration::manifest())
        .expect("read spin.toml")
        .replace(
            "target/wasm32-wasip2/wasm/skilltrack_api.wasm",
            &path_str(&api_source),
        )
        .replace(
            "target/wasm32-wasip2/wasm/skilltrack_static.wasm",
            &path_str(&web_source),
        );
    let manifest = dir.path().join("spin.toml");
    std::fs::write(&manifest, text).expect("write manifest");
    TempApp {
        dir,
        manifest,
        api_source,
        web_source,
    }
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
