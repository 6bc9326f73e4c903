//! Outbound HTTP from a component is denied unless `allowed_outbound_hosts` lists
//! the destination.

mod host_support;

use host_support::{misbehave_app, start_misbehave};

#[test]
fn outbound_request_to_an_unlisted_host_is_denied() {
    let app = misbehave_app("/...", "allowed_outbound_hosts = [\"https://example.com\"]");
    let host = start_misbehave(&app, "/ok", &[]);
    let target = host.url("/ok");
    let resp = host.get(&format!("/fetch?url={target}"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "error: ErrorCode::HttpRequestDenied");
}

#[test]
fn outbound_request_to_a_listed_host_goes_out() {
    let app = misbehave_app("/...", "allowed_outbound_hosts = [\"http://127.0.0.1:*\"]");
    let host = start_misbehave(&app, "/ok", &[]);
    let target = host.url("/ok");
    let resp = host.get(&format!("/fetch?url={target}"));
    assert_eq!(resp.text(), "status: 200");
}
