//! The admin listener's access rules, its metrics, and the CLI client.

mod swap_support;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use integration::{Host, HostOptions, free_port, host_bin, manifest};
use swap_support::{A_VERSION, VARIANT_LABEL, api_b, health_version, misbehave};

#[test]
fn a_non_loopback_admin_listener_without_a_token_refuses_to_start() {
    let data = tempfile::tempdir().expect("data dir");
    // A documentation address (TEST-NET-1): never bound, so even a host that failed
    // to refuse could not open an admin API to the network here.
    let mut child = Command::new(host_bin())
        .args(["up", "--manifest"])
        .arg(manifest())
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--admin-listen", "192.0.2.1:3001"])
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("TRACKER_ADMIN_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tracker-host");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tracker-host did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(!status.success(), "started without a token");
    assert!(stderr.contains("not a loopback address"), "{stderr}");
    assert!(stderr.contains("--admin-token"), "{stderr}");
}

#[test]
fn the_admin_listener_can_be_turned_off() {
    let host = Host::start_with(HostOptions {
        args: vec!["--admin-listen".into(), "off".into()],
        ..HostOptions::default()
    });
    assert_eq!(host.get("/health").status, 200);
    assert!(!host.log().contains("admin API on"), "{}", host.log());
}

#[test]
fn with_a_token_every_admin_request_needs_it() {
    let admin = format!("127.0.0.1:{}", free_port());
    let host = Host::start_with(HostOptions {
        args: vec![
            "--admin-listen".into(),
            admin,
            "--admin-token".into(),
            "s3cret".into(),
        ],
        ..HostOptions::default()
    });
    for (method, path) in [
        ("GET", "/-/components"),
        ("GET", "/-/metrics"),
        ("PUT", "/-/components/api"),
        ("POST", "/-/components/api/rollback"),
    ] {
        let none = host.admin_request(method, path, &[], Some(b"x"));
        assert_eq!(none.status, 401, "{method} {path}");
        let wrong = host.admin_request(
            method,
            path,
            &[("authorization", "Bearer nope")],
            Some(b"x"),
        );
        assert_eq!(wrong.status, 401, "{method} {path}");
    }
    let ok = host.admin_request(
        "GET",
        "/-/components",
        &[("authorization", "Bearer s3cret")],
        None,
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    // The app's own listener does not serve the admin API.
    assert!(!host.get("/-/components").text().contains("\"components\""));
}

#[test]
fn the_cli_swaps_lists_and_rolls_back_and_fails_on_rejection() {
    let host = Host::start();
    let dir = tempfile::tempdir().expect("temp");
    let good = dir.path().join("b.wasm");
    let bad = dir.path().join("bad.wasm");
    std::fs::write(&good, api_b()).expect("write");
    std::fs::write(&bad, misbehave("bad-health")).expect("write");
    let admin = host.admin_url("");
    let cli = |args: &[&str]| {
        Command::new(host_bin())
            .args(args)
            .args(["--admin", &admin])
            .env_remove("TRACKER_ADMIN_TOKEN")
            .env_remove("TRACKER_ADMIN_URL")
            .output()
            .expect("run CLI")
    };

    let swap = cli(&["swap", "api", &good.to_string_lossy()]);
    assert!(
        swap.status.success(),
        "{}",
        String::from_utf8_lossy(&swap.stderr)
    );
    assert!(String::from_utf8_lossy(&swap.stdout).contains("api: now serving"));
    assert_eq!(health_version(&host), VARIANT_LABEL);

    let rejected = cli(&["swap", "api", &bad.to_string_lossy()]);
    assert!(!rejected.status.success());
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(stderr.contains("rejected (smoke_status)"), "{stderr}");
    assert_eq!(health_version(&host), VARIANT_LABEL);

    let versions = cli(&["versions"]);
    assert!(versions.status.success());
    let text = String::from_utf8_lossy(&versions.stdout);
    assert!(
        text.contains("api") && text.contains("web") && text.contains("previous"),
        "{text}"
    );

    let back = cli(&["rollback", "api"]);
    assert!(
        back.status.success(),
        "{}",
        String::from_utf8_lossy(&back.stderr)
    );
    assert!(String::from_utf8_lossy(&back.stdout).contains("rolled back"));
    assert_eq!(health_version(&host), A_VERSION);
}

#[test]
fn metrics_report_requests_by_component_status_and_version() {
    let host = Host::start();
    for _ in 0..3 {
        assert_eq!(host.get("/health").status, 200);
    }
    let metrics = host.admin_request("GET", "/-/metrics", &[], None);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain"))
    );
    let text = metrics.text();
    let api = &swap_support::slot(&host, "api")["active"]["sha256"];
    let short = &api.as_str().expect("sha")[..12];
    assert!(
        text.lines().any(|l| l.starts_with(&format!(
            "tracker_requests_total{{component=\"api\",status=\"200\",version=\"{short}\"}}"
        ))),
        "{text}"
    );
    assert!(text.contains("tracker_request_duration_seconds_bucket{component=\"api\""));
    assert!(text.contains("tracker_instantiation_duration_seconds_count{component=\"api\""));
    assert!(text.contains(&format!(
        "tracker_component_info{{component=\"api\",sha256=\"{}\"}} 1",
        api.as_str().expect("sha")
    )));
}
