//! Hot-swapping the static component: a reload gets the new UI.

mod swap_support;

use integration::Host;
use swap_support::{WEB_VARIANT_MARKER, put_version, rollback, web_b};

#[test]
fn after_swapping_the_static_component_a_reload_gets_the_new_index_html() {
    let new_ui = web_b();
    let host = Host::start();
    let before = host.get("/");
    assert_eq!(before.status, 200);
    assert!(!before.text().contains(WEB_VARIANT_MARKER));

    let put = put_version(&host, "web", &new_ui);
    assert_eq!(put.status, 200, "{}", put.text());
    let after = host.get("/");
    assert_eq!(after.status, 200);
    assert!(
        after.text().contains(WEB_VARIANT_MARKER),
        "{}",
        after.text()
    );
    assert_ne!(
        before.header("etag"),
        after.header("etag"),
        "caches see a new document"
    );
    // The API is untouched by the web swap.
    assert_eq!(host.get("/health").json()["component"], "skilltrack-api");

    assert_eq!(rollback(&host, "web").status, 200);
    assert_eq!(host.get("/").body, before.body);
}
