//! Rollback, and which version serves after a restart.

mod swap_support;

use integration::{Host, HostOptions};
use swap_support::{
    A_VERSION, VARIANT_LABEL, api_a, api_b, health_version, put_version, rollback, sha256_hex,
    slot, temp_app, with_custom_section,
};

#[test]
fn rollback_returns_to_the_previous_version_and_back() {
    let (a, b) = (sha256_hex(&api_a()), sha256_hex(&api_b()));
    let host = Host::start();
    assert_eq!(put_version(&host, "api", &api_b()).status, 200);
    assert_eq!(health_version(&host), VARIANT_LABEL);
    let api = slot(&host, "api");
    assert_eq!(api["active"]["sha256"], b);
    assert_eq!(api["previous"]["sha256"], a);
    assert_eq!(api["active"]["source"], "admin upload");
    assert!(api["active"]["size"].as_u64().is_some_and(|n| n > 0));
    assert!(
        api["active"]["loadedAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(
        api["active"]["requests"].as_u64().is_some_and(|n| n >= 1),
        "{api}"
    );

    let back = rollback(&host, "api");
    assert_eq!(back.status, 200, "{}", back.text());
    assert_eq!(back.json()["sha256"], a);
    assert_eq!(health_version(&host), A_VERSION);
    let api = slot(&host, "api");
    assert_eq!(api["active"]["sha256"], a);
    assert_eq!(api["previous"]["sha256"], b);

    // Rolling back again undoes the rollback.
    assert_eq!(rollback(&host, "api").status, 200);
    assert_eq!(health_version(&host), VARIANT_LABEL);
    let metrics = host.admin_request("GET", "/-/metrics", &[], None).text();
    assert!(
        metrics.contains("tracker_rollbacks_total{component=\"api\"} 2"),
        "{metrics}"
    );
}

#[test]
fn the_active_version_survives_a_restart() {
    let b = sha256_hex(&api_b());
    let mut host = Host::start();
    assert_eq!(put_version(&host, "api", &api_b()).status, 200);
    host.restart();
    assert_eq!(
        health_version(&host),
        VARIANT_LABEL,
        "the swapped-in version serves after restart"
    );
    let api = slot(&host, "api");
    assert_eq!(api["active"]["sha256"], b);
    assert_eq!(
        api["previous"]["sha256"],
        sha256_hex(&api_a()),
        "rollback still possible"
    );
    assert!(
        host.data_dir()
            .join(format!("components/{b}.wasm"))
            .is_file()
    );

    // Rollback is persisted too.
    assert_eq!(rollback(&host, "api").status, 200);
    host.restart();
    assert_eq!(health_version(&host), A_VERSION);
}

#[test]
fn a_changed_source_file_at_start_wins_over_the_stored_version() {
    let app = temp_app();
    let mut host = Host::start_with(HostOptions {
        manifest: Some(app.manifest.clone()),
        args: vec!["--no-watch".into()],
        ..HostOptions::default()
    });
    assert_eq!(put_version(&host, "api", &api_b()).status, 200);
    host.stop();

    // A new deployment while the host was down: same behaviour as A, new hash.
    let rebuilt = with_custom_section(&api_a(), "rebuild-1");
    std::fs::write(&app.api_source, &rebuilt).expect("replace source");
    host.start_again();
    let api = slot(&host, "api");
    assert_eq!(
        api["active"]["sha256"],
        sha256_hex(&rebuilt),
        "the new source serves"
    );
    assert_eq!(
        api["previous"]["sha256"],
        sha256_hex(&api_b()),
        "the stored active became previous"
    );
    assert_eq!(health_version(&host), A_VERSION);

    // Unchanged source at the next start: the stored active (now the source) stays.
    assert_eq!(put_version(&host, "api", &api_b()).status, 200);
    host.restart();
    assert_eq!(health_version(&host), VARIANT_LABEL);
}
