//! The static component is a plain WASI HTTP component (no Spin imports), so the
//! reference host serves it too: `wasmtime serve -Scli`. Skipped, with a line
//! saying so, where no wasmtime CLI is found (see docs/testing.md).

use integration::process::{ServeSpec, Served};
use integration::{build_component, repo_root, tools};
use std::ffi::OsString;

#[test]
fn wasmtime_serve_serves_the_app_its_assets_and_the_spa_fallback() {
    let Some(wasmtime) = tools::wasmtime() else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            tools::missing("wasmtime", "WASMTIME")
        );
        return;
    };
    let wasm = build_component("skilltrack-static");
    let server = Served::start(ServeSpec {
        name: "wasmtime serve".into(),
        program: wasmtime,
        args: Box::new(move |port| -> Vec<OsString> {
            vec![
                "serve".into(),
                "-Scli".into(),
                "--addr".into(),
                format!("127.0.0.1:{port}").into(),
                wasm.clone().into(),
            ]
        }),
        env: Vec::new(),
        current_dir: repo_root(),
        ready_path: "/".into(),
    });

    let index = server.request("GET", "/", &[], None);
    assert_eq!(index.status, 200, "{}", server.log());
    assert!(
        index
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        index.headers
    );
    assert!(index.header("content-security-policy").is_some());
    let html = index.text();

    let script = html
        .split(['"', '\''])
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("index.html names no /assets/*.js:\n{html}"));
    let asset = server.request("GET", script, &[], None);
    assert_eq!(asset.status, 200, "{script}");
    assert!(
        asset
            .header("content-type")
            .is_some_and(|c| c.contains("javascript")),
        "{script}: {:?}",
        asset.headers
    );
    assert!(
        asset
            .header("cache-control")
            .is_some_and(|c| c.contains("immutable")),
        "{script}: {:?}",
        asset.headers
    );
    assert!(!asset.body.is_empty());

    let route = server.request("GET", "/library/6716873", &[("accept", "text/html")], None);
    assert_eq!(route.status, 200, "an app route gets the app");
    assert_eq!(route.text(), html);

    let missing = server.request("GET", "/assets/no-such-file.js", &[], None);
    assert_eq!(missing.status, 404, "a missing asset is not the app");
}
