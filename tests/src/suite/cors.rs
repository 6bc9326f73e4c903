//! Cross-origin access: same-origin only by default; the Spin variable
//! `cors_origins` lists the exact origins that may call the API from their pages.

use super::{Api, Resp, Target, course, error_of, start, start_with};
use serde_json::json;

const APP: &str = "https://app.example.com";
const DEV: &str = "http://localhost:5173";
/// Both separators, and a stray trailing slash.
const LIST: &str = "https://app.example.com, http://localhost:5173 https://other.example/";

fn cors_headers(r: &Resp) -> Vec<&str> {
    r.header_names()
        .into_iter()
        .filter(|n| n.starts_with("access-control-"))
        .collect()
}

fn varies_by_origin(r: &Resp) -> bool {
    r.headers.iter().any(|(n, v)| {
        n == "vary"
            && v.split(',')
                .any(|part| part.trim().eq_ignore_ascii_case("origin"))
    })
}

fn list_of(header: Option<String>) -> Vec<String> {
    header
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn preflight(api: &Api, path: &str, origin: &str, method: &str) -> Resp {
    api.raw(
        "OPTIONS",
        path,
        &[
            ("origin", origin),
            ("access-control-request-method", method),
            ("access-control-request-headers", "content-type,if-match"),
        ],
        None,
    )
}

/// The headers a listed origin must get on an actual answer.
fn assert_allowed(r: &Resp, origin: &str, what: &str) {
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(origin),
        "{what}: {:?}",
        r.headers
    );
    assert!(varies_by_origin(r), "{what}: {:?}", r.headers);
    assert!(
        list_of(r.header("access-control-expose-headers")).contains(&"etag".to_owned()),
        "{what}: {:?}",
        r.headers
    );
}

pub fn the_api_is_same_origin_only_by_default(t: &dyn Target) {
    let api = start(t);
    let r = api.get_with("/api/courses", &[("origin", APP)]);
    assert_eq!(r.status, 200);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
    assert!(!varies_by_origin(&r), "{:?}", r.headers);
    let r = preflight(&api, "/api/courses/c1", APP, "PUT");
    assert_eq!(error_of(&r).0, 405);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
    let r = api.raw("GET", "/health", &[("origin", APP)], None);
    assert!(cors_headers(&r).is_empty(), "{:?}", r.headers);
}

pub fn a_listed_origin_gets_a_preflight_and_cors_headers_on_every_answer(t: &dyn Target) {
    let api = start_with(t, &[("cors_origins", LIST)]);
    let pre = preflight(&api, "/api/courses/c1", APP, "PUT");
    assert_eq!(pre.status, 204, "{}", pre.text());
    assert!(pre.body.is_empty());
    assert_eq!(
        pre.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    assert!(varies_by_origin(&pre), "{:?}", pre.headers);
    let methods = list_of(pre.header("access-control-allow-methods"));
    for m in ["get", "put", "patch", "delete"] {
        assert!(methods.contains(&m.to_owned()), "{m} in {methods:?}");
    }
    let headers = list_of(pre.header("access-control-allow-headers"));
    for h in ["content-type", "if-match", "if-none-match", "authorization"] {
        assert!(headers.contains(&h.to_owned()), "{h} in {headers:?}");
    }
    let max_age = pre
        .header("access-control-max-age")
        .and_then(|v| v.parse::<u32>().ok());
    assert!(max_age.is_some_and(|s| s > 0), "{:?}", pre.headers);

    // Every listed origin, whichever separator came before it.
    for origin in [DEV, "https://other.example"] {
        let pre = preflight(&api, "/api/settings/monthly_goal", origin, "POST");
        assert_eq!(pre.status, 204, "{origin}");
        assert_eq!(
            pre.header("access-control-allow-origin").as_deref(),
            Some(origin)
        );
        assert!(list_of(pre.header("access-control-allow-methods")).contains(&"post".into()));
    }
    // A preflight for a path the API does not have is not an OK.
    assert_eq!(preflight(&api, "/api/nowhere", APP, "GET").status, 404);

    let origin = [("origin", APP)];
    let created = api.json_with(
        "PUT",
        "/api/courses/c1",
        &course("c1", "Cross-origin"),
        &origin,
    );
    assert_eq!(created.status, 201);
    assert_allowed(&created, APP, "201");
    let tag = created.header("etag").expect("etag");
    let listed = api.get_with("/api/courses", &origin);
    assert_allowed(&listed, APP, "200");
    let poll = api.get_with(
        "/api/courses",
        &[
            ("origin", APP),
            ("if-none-match", &listed.header("etag").expect("etag")),
        ],
    );
    assert_eq!(poll.status, 304);
    assert_allowed(&poll, APP, "304");
    let edited = api.json_with(
        "PATCH",
        "/api/courses/c1",
        &json!({"notes": "one"}),
        &[("origin", APP), ("if-match", &tag)],
    );
    assert_eq!(edited.status, 200);
    let stale = api.json_with(
        "PATCH",
        "/api/courses/c1",
        &json!({"notes": "two"}),
        &[("origin", APP), ("if-match", &tag)],
    );
    assert_eq!(stale.status, 412);
    assert_allowed(&stale, APP, "412");
    let invalid = api.json_with("PUT", "/api/courses/c1", &json!({"title": ""}), &origin);
    assert_eq!(invalid.status, 400);
    assert_allowed(&invalid, APP, "400");
    let missing = api.get_with("/api/nowhere", &origin);
    assert_eq!(missing.status, 404);
    assert_allowed(&missing, APP, "404");
    let health = api.raw("GET", "/health", &[("origin", DEV)], None);
    assert_allowed(&health, DEV, "/health");
}

pub fn an_origin_not_on_the_list_gets_no_cors_headers(t: &dyn Target) {
    let api = start_with(t, &[("cors_origins", LIST)]);
    for origin in [
        "https://evil.example",
        "http://app.example.com",
        "https://app.example.com.evil.example",
        "https://app.example.com:8443",
        "null",
    ] {
        let r = api.get_with("/api/courses", &[("origin", origin)]);
        assert_eq!(r.status, 200, "{origin}");
        assert!(cors_headers(&r).is_empty(), "{origin}: {:?}", r.headers);
        // The answer depends on Origin once a list is set, so caches must key on it.
        assert!(varies_by_origin(&r), "{origin}: {:?}", r.headers);
        let pre = preflight(&api, "/api/courses/c1", origin, "PUT");
        assert_eq!(error_of(&pre).0, 405, "{origin}");
        assert!(cors_headers(&pre).is_empty(), "{origin}: {:?}", pre.headers);
    }
    let no_origin = api.get("/api/courses");
    assert!(
        cors_headers(&no_origin).is_empty(),
        "{:?}",
        no_origin.headers
    );
}

pub fn a_preflight_needs_no_token_but_the_request_still_does(t: &dyn Target) {
    let api = start_with(t, &[("cors_origins", APP), ("api_token", "s3cret")]);
    // Browsers never send credentials on a preflight.
    let pre = preflight(&api, "/api/courses", APP, "GET");
    assert_eq!(pre.status, 204, "{}", pre.text());
    assert_eq!(
        pre.header("access-control-allow-origin").as_deref(),
        Some(APP)
    );
    let refused = api.raw("GET", "/api/courses", &[("origin", APP)], None);
    assert_eq!(error_of(&refused), (401, "unauthorized".into(), None));
    // The page can read why it was refused.
    assert_allowed(&refused, APP, "401");
    let allowed = api.raw(
        "GET",
        "/api/courses",
        &[("origin", APP), ("authorization", "Bearer s3cret")],
        None,
    );
    assert_eq!(allowed.status, 200);
    assert_allowed(&allowed, APP, "200 with the token");
}
