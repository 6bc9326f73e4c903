//! What only the native backend can show: the SQLite file under the handlers
//! (migrations, the compatibility floor, the rendering cache) and answers the
//! component gives to paths no host routes to it. Everything a client can see is
//! in the shared API suite (tests/src/suite, run natively by
//! `cargo test -p integration --test suite_native`).

use serde_json::{Value as Json, json};
use skilltrack_api::native::NativeBackend;
use skilltrack_api::{Request, Response, handle};

fn backend() -> NativeBackend {
    NativeBackend::in_memory().expect("in-memory backend")
}

fn get(b: &NativeBackend, path: &str) -> Response {
    handle(b, Request::new("GET", path))
}

fn send(b: &NativeBackend, method: &str, path: &str, body: Json) -> Response {
    handle(b, Request::new(method, path).with_json(&body))
}

fn error_of(r: &Response) -> (u16, String, Option<String>) {
    let body = r.json_body();
    (
        r.status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
        body["error"]["field"].as_str().map(str::to_owned),
    )
}

fn list(b: &NativeBackend) -> Vec<Json> {
    get(b, "/api/courses")
        .json_body()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Hosts route only `/health` and `/api/...` to the component; anything else that
/// reaches it is still a JSON 404, never a panic.
#[test]
fn a_path_outside_the_api_is_a_json_404_from_the_component() {
    let b = backend();
    for path in ["/elsewhere", "/", "/apix", "/health/extra"] {
        let r = get(&b, path);
        assert_eq!(
            (r.status, error_of(&r).1.as_str()),
            (404, "not_found"),
            "{path}"
        );
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    }
}

#[test]
fn fresh_database_is_migrated_with_a_compatibility_floor() {
    let b = backend();
    get(&b, "/api/courses");
    let c = b.connection();
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let floor: i64 = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'min_compatible_schema'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // Schema 3 gave every row an owner: older code cannot write it.
    assert_eq!((version, floor), (skilltrack_api::store::SCHEMA_VERSION, 3));
}

#[test]
fn newer_additive_schema_keeps_working() {
    let b = backend();
    send(&b, "PUT", "/api/courses/a", json!({"title": "A"}));
    let c = b.connection();
    c.execute_batch(&format!(
        "ALTER TABLE courses ADD COLUMN colour TEXT NOT NULL DEFAULT ''; PRAGMA user_version = {};",
        skilltrack_api::store::SCHEMA_VERSION + 1
    ))
    .unwrap();
    assert_eq!(
        send(&b, "PUT", "/api/courses/b", json!({"title": "B"})).status,
        201
    );
    assert_eq!(list(&b).len(), 2);
}

#[test]
fn schema_floor_above_this_code_answers_503_and_touches_nothing() {
    const NEXT: i64 = skilltrack_api::store::SCHEMA_VERSION + 1;
    let dir = std::env::temp_dir().join(format!("skilltrack-floor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let b = NativeBackend::open_dir(&dir).unwrap();
        send(&b, "PUT", "/api/courses/a", json!({"title": "A"}));
        b.connection()
            .execute_batch(&format!(
                "UPDATE meta SET value = {NEXT} WHERE key = 'min_compatible_schema'; PRAGMA user_version = {NEXT};"
            ))
            .unwrap();
    }
    let b = NativeBackend::open_dir(&dir).unwrap();
    let r = send(&b, "PUT", "/api/courses/b", json!({"title": "B"}));
    assert_eq!(error_of(&r), (503, "schema_too_new".into(), None));
    assert_eq!(get(&b, "/api/courses").status, 503);
    let count: i64 = b
        .connection()
        .query_row("SELECT count(*) FROM courses", [], |r| r.get(0))
        .unwrap();
    let version: i64 = b
        .connection()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!((count, version), (1, NEXT));
    assert_eq!(get(&b, "/health").status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_collection_rendering_is_reused_only_for_its_revision() {
    let b = backend();
    send(&b, "PUT", "/api/courses/a", json!({"title": "A"}));
    let first = get(&b, "/api/courses");
    let again = get(&b, "/api/courses");
    assert_eq!(first.body, again.body);
    let kept: (i64, String) = b
        .connection()
        .query_row("SELECT rev, body FROM collection_cache", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(kept, (1, String::from_utf8(first.body).unwrap()));
    // A write moves the revision on, so the next read renders afresh.
    send(
        &b,
        "PATCH",
        "/api/courses/a",
        json!({"completionRatio": 40}),
    );
    send(&b, "PUT", "/api/courses/b", json!({"title": "B"}));
    let now = list(&b);
    assert_eq!(now.len(), 2);
    assert_eq!(
        now.iter().find(|c| c["id"] == "a").unwrap()["completionRatio"],
        40
    );
}
