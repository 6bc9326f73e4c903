//! New versions arriving through the watched manifest source file.

mod swap_support;

use std::path::Path;
use std::time::{Duration, Instant};

use integration::{Host, HostOptions};
use swap_support::{
    A_VERSION, VARIANT_LABEL, api_a, api_b, health_version, misbehave, sha256_hex, slot, temp_app,
};

/// How long a file change may take to be picked up (debounce + compile on a busy machine).
const PICKUP: Duration = Duration::from_secs(60);

fn wait_for_active(host: &Host, sha: &str) {
    let deadline = Instant::now() + PICKUP;
    while slot(host, "api")["active"]["sha256"] != sha {
        assert!(
            Instant::now() < deadline,
            "{sha} never became active:\n{}",
            host.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What editors and `cargo` do: write elsewhere in the directory, then rename over.
fn replace_by_rename(target: &Path, bytes: &[u8]) {
    let tmp = target.with_file_name(".api.wasm.tmp");
    std::fs::write(&tmp, bytes).expect("write temp");
    std::fs::rename(&tmp, target).expect("rename over source");
}

#[test]
fn a_source_file_replaced_by_rename_or_rewritten_in_place_is_swapped_in() {
    let app = temp_app();
    let host = Host::start_with(HostOptions {
        manifest: Some(app.manifest.clone()),
        ..HostOptions::default()
    });
    assert_eq!(health_version(&host), A_VERSION);

    replace_by_rename(&app.api_source, &api_b());
    wait_for_active(&host, &sha256_hex(&api_b()));
    assert_eq!(health_version(&host), VARIANT_LABEL);
    assert_eq!(
        slot(&host, "api")["active"]["source"],
        app.api_source.to_string_lossy().as_ref()
    );

    std::fs::write(&app.api_source, api_a()).expect("rewrite in place");
    wait_for_active(&host, &sha256_hex(&api_a()));
    assert_eq!(health_version(&host), A_VERSION);

    // A broken file is rejected; the good version keeps serving.
    replace_by_rename(&app.api_source, b"garbage, not wasm");
    let deadline = Instant::now() + PICKUP;
    while !host
        .admin_request("GET", "/-/metrics", &[], None)
        .text()
        .contains("tracker_swaps_rejected_total{component=\"api\",reason=\"not_wasm\"} 1")
    {
        assert!(
            Instant::now() < deadline,
            "the broken file was never judged:\n{}",
            host.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(slot(&host, "api")["active"]["sha256"], sha256_hex(&api_a()));
    assert_eq!(host.get("/health").status, 200);
}

#[test]
fn a_source_file_rejected_by_the_watcher_does_not_take_over_at_restart() {
    let app = temp_app();
    let mut host = Host::start_with(HostOptions {
        manifest: Some(app.manifest.clone()),
        ..HostOptions::default()
    });
    replace_by_rename(&app.api_source, &misbehave("bad-health"));
    let deadline = Instant::now() + PICKUP;
    while !host
        .admin_request("GET", "/-/metrics", &[], None)
        .text()
        .contains("tracker_swaps_rejected_total{component=\"api\",reason=\"smoke_status\"} 1")
    {
        assert!(
            Instant::now() < deadline,
            "the bad file was never judged:\n{}",
            host.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The file was already judged: the start-up rule keeps the version that served.
    host.restart();
    assert_eq!(slot(&host, "api")["active"]["sha256"], sha256_hex(&api_a()));
    let health = host.get("/health");
    assert_eq!(health.status, 200, "{}", health.text());
    assert_eq!(health.json()["component"], "skilltrack-api");
}
