//! Application variables reach components: `SPIN_VARIABLE_API_TOKEN` overrides
//! the manifest default of `api_token`, which the API component enforces.

mod host_support;

use host_support::build_app;
use integration::{Host, HostOptions};

#[test]
fn the_env_override_of_a_manifest_variable_reaches_the_component() {
    build_app();
    let host = Host::start_with(HostOptions {
        env: vec![("SPIN_VARIABLE_API_TOKEN".into(), "s3cret".into())],
        ..HostOptions::default()
    });
    assert_eq!(host.get("/api/courses").status, 401);
    let authed = host.request(
        "GET",
        "/api/courses",
        &[("authorization", "Bearer s3cret")],
        None,
    );
    assert_eq!(authed.status, 200, "{}", authed.text());
}

#[test]
fn without_an_override_the_manifest_default_applies() {
    build_app();
    let host = Host::start();
    // The default is empty: no token required.
    assert_eq!(host.get("/api/courses").status, 200);
}
