//! The optional bearer token (Spin variable `api_token`).

use super::{Target, error_of, start, start_with_token};

pub fn without_a_token_configured_the_api_is_open(t: &dyn Target) {
    let api = start(t);
    assert_eq!(api.raw("GET", "/api/courses", &[], None).status, 200);
}

pub fn with_a_token_every_api_request_needs_it_but_health_stays_open(t: &dyn Target) {
    let api = start_with_token(t, "correct horse");
    assert_eq!(api.raw("GET", "/health", &[], None).status, 200);
    for (method, path) in [
        ("GET", "/api/courses"),
        ("GET", "/api/settings"),
        ("GET", "/api/export"),
        ("GET", "/api/openapi.json"),
        ("DELETE", "/api/courses/x"),
        ("GET", "/api/no-such-thing"),
    ] {
        let r = api.raw(method, path, &[], None);
        assert_eq!(
            error_of(&r),
            (401, "unauthorized".into(), None),
            "{method} {path}"
        );
        assert!(
            r.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer"))
        );
        let wrong = api.raw(method, path, &[("authorization", "Bearer wrong")], None);
        assert_eq!(wrong.status, 401);
        let basic = api.raw(
            method,
            path,
            &[("authorization", "Basic Y29ycmVjdCBob3JzZQ==")],
            None,
        );
        assert_eq!(basic.status, 401);
    }
    let ok = api.raw(
        "GET",
        "/api/courses",
        &[("authorization", "Bearer correct horse")],
        None,
    );
    assert_eq!(ok.status, 200);
    let r = api.raw(
        "PUT",
        "/api/courses/a",
        &[("content-type", "application/json")],
        Some(br#"{"title":"t"}"#),
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        api.get("/api/courses").json(),
        serde_json::json!([]),
        "the refused write stored nothing"
    );
}
