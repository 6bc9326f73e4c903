//! `/health`: open, and says which component answers.

use super::{Target, start};

pub fn health_is_open_and_reports_the_component_version(t: &dyn Target) {
    let api = start(t);
    let r = api.get("/health");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    // The workspace shares one version, so this crate's is the component's.
    assert_eq!(r.json()["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r.json()["version"], "0.1.0");
}
