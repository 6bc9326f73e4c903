//! The whole API natively: the same handlers and SQL as the component, on
//! rusqlite in memory (or temp files where persistence matters).

use serde_json::{Value as Json, json};
use skilltrack_api::native::NativeBackend;
use skilltrack_api::{Request, Response, handle};

const FIXTURE: &str = "/work/shared/fixtures/udemy_course_list.csv";

fn fixture() -> String {
    let path = std::env::var("SKILLTRACK_FIXTURE").unwrap_or_else(|_| FIXTURE.to_owned());
    std::fs::read_to_string(path).expect("fixture readable")
}

fn backend() -> NativeBackend {
    NativeBackend::in_memory().expect("in-memory backend")
}

fn get(b: &NativeBackend, path: &str) -> Response {
    handle(b, Request::new("GET", path))
}

fn send(b: &NativeBackend, method: &str, path: &str, body: Json) -> Response {
    handle(b, Request::new(method, path).with_json(&body))
}

fn send_with(
    b: &NativeBackend,
    method: &str,
    path: &str,
    body: Json,
    headers: &[(&str, &str)],
) -> Response {
    let mut req = Request::new(method, path).with_json(&body);
    for (n, v) in headers {
        req = req.with_header(n, v);
    }
    handle(b, req)
}

fn error_of(r: &Response) -> (u16, String, Option<String>) {
    let body = r.json_body();
    (
        r.status,
        body["error"]["code"].as_str().unwrap_or("").to_owned(),
        body["error"]["field"].as_str().map(str::to_owned),
    )
}

fn course(id: &str, title: &str) -> Json {
    json!({"id": id, "title": title, "category": "Cloud", "date": "2025-12-26"})
}

fn list(b: &NativeBackend) -> Vec<Json> {
    get(b, "/api/courses")
        .json_body()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn health_reports_the_component_version() {
    let r = get(&backend(), "/health");
    assert_eq!(r.status, 200);
    let body = r.json_body();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn put_creates_then_updates_with_increasing_revs_and_etags() {
    let b = backend();
    let r = send(&b, "PUT", "/api/courses/a1", course("a1", "Rust"));
    assert_eq!(r.status, 201);
    let rev1 = r.json_body()["rev"].as_i64().unwrap();
    assert_eq!(r.header("etag"), Some(format!("\"{rev1}\"").as_str()));
    assert_eq!(r.json_body()["status"], "Pending");
    assert!(r.json_body()["createdAt"].as_str().unwrap().ends_with('Z'));

    let r = send(
        &b,
        "PUT",
        "/api/courses/a1",
        json!({"title": "Rust 2", "completionRatio": 40}),
    );
    assert_eq!(r.status, 200);
    let rev2 = r.json_body()["rev"].as_i64().unwrap();
    assert!(rev2 > rev1);
    assert_eq!(r.json_body()["status"], "In Progress");

    let unchanged = send(
        &b,
        "PUT",
        "/api/courses/a1",
        json!({"title": "Rust 2", "completionRatio": 40}),
    );
    assert_eq!(
        unchanged.json_body()["rev"].as_i64(),
        Some(rev2),
        "no-op write keeps the rev"
    );

    let r = get(&b, "/api/courses/a1");
    assert_eq!(r.json_body()["title"], "Rust 2");
    let etag = r.header("etag").unwrap().to_owned();
    let r = handle(
        &b,
        Request::new("GET", "/api/courses/a1").with_header("If-None-Match", &etag),
    );
    assert_eq!(r.status, 304);
}

#[test]
fn stale_if_match_is_refused_with_server_copy() {
    let b = backend();
    let rev = send(&b, "PUT", "/api/courses/c", course("c", "T")).json_body()["rev"]
        .as_i64()
        .unwrap();
    let fresh = send_with(
        &b,
        "PATCH",
        "/api/courses/c",
        json!({"notes": "one"}),
        &[("If-Match", &format!("\"{rev}\""))],
    );
    assert_eq!(fresh.status, 200);
    let stale = send_with(
        &b,
        "PATCH",
        "/api/courses/c",
        json!({"notes": "two"}),
        &[("If-Match", &format!("\"{rev}\""))],
    );
    assert_eq!(stale.status, 412);
    let body = stale.json_body();
    assert_eq!(body["error"]["code"], "precondition_failed");
    assert_eq!(body["current"]["notes"], "one");
    assert_eq!(body["current"]["rev"], fresh.json_body()["rev"]);
    assert_eq!(get(&b, "/api/courses/c").json_body()["notes"], "one");
}

#[test]
fn completed_at_follows_the_status() {
    let b = backend();
    send(&b, "PUT", "/api/courses/c", course("c", "T"));
    let done = send(
        &b,
        "PATCH",
        "/api/courses/c",
        json!({"completionRatio": 100}),
    );
    assert_eq!(done.json_body()["status"], "Completed");
    assert!(done.json_body()["completedAt"].is_string());
    let notes = send(&b, "PATCH", "/api/courses/c", json!({"notes": "x"}));
    assert_eq!(
        notes.json_body()["completedAt"],
        done.json_body()["completedAt"]
    );
    let reopened = send(
        &b,
        "PATCH",
        "/api/courses/c",
        json!({"status": "In Progress", "completionRatio": 90}),
    );
    assert_eq!(reopened.status, 200);
    assert!(reopened.json_body()["completedAt"].is_null());
}

#[test]
fn delete_leaves_a_tombstone_in_the_feed() {
    let b = backend();
    send(&b, "PUT", "/api/courses/x", course("x", "X"));
    send(&b, "PUT", "/api/courses/y", course("y", "Y"));
    let del = handle(&b, Request::new("DELETE", "/api/courses/x"));
    assert_eq!(del.status, 200);
    let rev = del.json_body()["rev"].as_i64().unwrap();
    assert_eq!(get(&b, "/api/courses/x").status, 404);
    let again = handle(&b, Request::new("DELETE", "/api/courses/x"));
    assert_eq!(
        again.json_body()["rev"].as_i64(),
        Some(rev),
        "deleting twice is idempotent"
    );
    assert_eq!(
        handle(&b, Request::new("DELETE", "/api/courses/never")).status,
        404
    );
    let feed = get(&b, "/api/changes?since=0").json_body();
    assert_eq!(feed["deleted"], json!(["x"]));
    assert_eq!(feed["courses"].as_array().unwrap().len(), 1);
    assert_eq!(feed["rev"].as_i64(), Some(rev));
    // Recreating a deleted id is a fresh course.
    let r = send(&b, "PUT", "/api/courses/x", course("x", "X again"));
    assert_eq!(r.status, 201);
}

#[test]
fn change_feed_pages_and_replays_to_the_server_state() {
    let b = backend();
    for i in 0..25 {
        send(
            &b,
            "PUT",
            &format!("/api/courses/c{i}"),
            course(&format!("c{i}"), "T"),
        );
    }
    for i in (0..25).step_by(3) {
        handle(&b, Request::new("DELETE", &format!("/api/courses/c{i}")));
    }
    send(
        &b,
        "PATCH",
        "/api/courses/c1",
        json!({"completionRatio": 50}),
    );
    let mut since = 0;
    let mut state = std::collections::BTreeMap::new();
    let mut pages = 0;
    loop {
        let feed = get(&b, &format!("/api/changes?since={since}&limit=7")).json_body();
        for c in feed["courses"].as_array().unwrap() {
            state.insert(c["id"].as_str().unwrap().to_owned(), c.clone());
        }
        for id in feed["deleted"].as_array().unwrap() {
            state.remove(id.as_str().unwrap());
        }
        assert!(feed["rev"].as_i64().unwrap() > since || !feed["more"].as_bool().unwrap());
        since = feed["rev"].as_i64().unwrap();
        pages += 1;
        if !feed["more"].as_bool().unwrap() {
            break;
        }
    }
    assert!(pages > 1);
    let mut server: Vec<Json> = list(&b);
    server.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    assert_eq!(state.into_values().collect::<Vec<_>>(), server);
    let ahead = get(&b, &format!("/api/changes?since={}", since + 5));
    assert_eq!(error_of(&ahead).1, "since_ahead");
    assert_eq!(
        error_of(&get(&b, "/api/changes?since=-1")).2.as_deref(),
        Some("since")
    );
    assert_eq!(
        error_of(&get(&b, "/api/changes?limit=0")).2.as_deref(),
        Some("limit")
    );
}

#[test]
fn collection_etag_gives_304_until_something_changes() {
    let b = backend();
    send(&b, "PUT", "/api/courses/a", course("a", "A"));
    let r = get(&b, "/api/courses");
    let etag = r.header("etag").unwrap().to_owned();
    let cond = || {
        handle(
            &b,
            Request::new("GET", "/api/courses").with_header("If-None-Match", &etag),
        )
    };
    assert_eq!(cond().status, 304);
    assert!(cond().body.is_empty());
    send(&b, "PATCH", "/api/courses/a", json!({"isFavorite": true}));
    assert_eq!(cond().status, 200);
}

#[test]
fn bulk_replace_bumps_only_changed_courses_and_tombstones_the_rest() {
    let b = backend();
    let first = send(
        &b,
        "POST",
        "/api/courses",
        json!([course("a", "A"), course("b", "B"), course("c", "C")]),
    );
    assert_eq!(first.status, 200, "{:?}", first.json_body());
    assert_eq!(first.json_body()["created"], 3);
    let rev_a = get(&b, "/api/courses/a").json_body()["rev"].clone();
    let etag = first.header("etag").unwrap().to_owned();
    let second = send_with(
        &b,
        "POST",
        "/api/courses",
        json!([course("a", "A"), {"id": "b", "title": "B2", "category": "Cloud", "date": "2025-12-26", "sortOrder": 1}]),
        &[("If-Match", &etag)],
    );
    let s = second.json_body();
    assert_eq!(
        (
            s["unchanged"].as_i64(),
            s["updated"].as_i64(),
            s["deleted"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(get(&b, "/api/courses/a").json_body()["rev"], rev_a);
    assert_eq!(get(&b, "/api/courses/c").status, 404);
    let ids: Vec<Json> = list(&b).iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, vec![json!("a"), json!("b")]);
    let stale = send_with(
        &b,
        "POST",
        "/api/courses",
        json!([]),
        &[("If-Match", &etag)],
    );
    assert_eq!(stale.status, 412);
    assert_eq!(list(&b).len(), 2);
    let bad = send(
        &b,
        "POST",
        "/api/courses",
        json!([course("a", "A"), {"id": "z", "title": "Z", "completionRatio": 101}]),
    );
    assert_eq!(
        error_of(&bad),
        (
            400,
            "invalid_field".into(),
            Some("[1].completionRatio".into())
        )
    );
    let dup = send(
        &b,
        "POST",
        "/api/courses",
        json!([course("a", "A"), course("a", "A")]),
    );
    assert_eq!(error_of(&dup).1, "duplicate_id");
    assert_eq!(list(&b).len(), 2);
}

#[test]
fn bad_requests_get_json_errors_and_change_nothing() {
    let b = backend();
    send(&b, "PUT", "/api/courses/keep", course("keep", "Keep"));
    let before = get(&b, "/api/export.csv").body;
    let cases: Vec<(Request, u16, &str)> = vec![
        (
            Request::new("PUT", "/api/courses/a")
                .with_header("content-type", "application/json")
                .with_body("{not json"),
            400,
            "invalid_json",
        ),
        (
            Request::new("PUT", "/api/courses/a")
                .with_header("content-type", "application/json")
                .with_body(""),
            400,
            "invalid_json",
        ),
        (
            Request::new("PUT", "/api/courses/a")
                .with_header("content-type", "text/plain")
                .with_body("{}"),
            415,
            "unsupported_media_type",
        ),
        (
            Request::new("PUT", "/api/courses/a").with_json(&json!([1])),
            400,
            "invalid_body",
        ),
        (
            Request::new("PUT", "/api/courses/a").with_json(&json!({"completionRatio": 3})),
            400,
            "invalid_field",
        ),
        (
            Request::new("PUT", "/api/courses/bad%20id").with_json(&course("x", "X")),
            400,
            "invalid_field",
        ),
        (
            Request::new("PUT", "/api/courses/a").with_json(&json!({"title": "x", "extra": 1})),
            400,
            "unknown_field",
        ),
        (
            Request::new("PUT", "/api/courses/a")
                .with_json(&json!({"title": "x".repeat(2_000_000)})),
            413,
            "body_too_large",
        ),
        (
            Request::new("PATCH", "/api/courses/missing").with_json(&json!({"title": "x"})),
            404,
            "not_found",
        ),
        (
            Request::new("PATCH", "/api/courses/keep").with_json(&json!({"status": "Finished"})),
            400,
            "invalid_field",
        ),
        (
            Request::new("PUT", "/api/courses/keep")
                .with_json(&course("keep", "K"))
                .with_header("If-Match", "nonsense"),
            400,
            "invalid_header",
        ),
        (Request::new("GET", "/api/nothing"), 404, "not_found"),
        (Request::new("GET", "/elsewhere"), 404, "not_found"),
        (
            Request::new("DELETE", "/api/courses"),
            405,
            "method_not_allowed",
        ),
        (
            Request::new("POST", "/api/export"),
            405,
            "method_not_allowed",
        ),
        (
            Request::new("POST", "/api/settings/UPPER").with_json(&json!({"value": 1})),
            400,
            "invalid_field",
        ),
        (
            Request::new("POST", "/api/settings/monthly_goal").with_json(&json!({"value": "lots"})),
            400,
            "invalid_field",
        ),
        (
            Request::new("POST", "/api/settings/theme")
                .with_json(&json!({"value": "x".repeat(70_000)})),
            400,
            "invalid_field",
        ),
        (
            Request::new("POST", "/api/settings/theme").with_json(&json!({"valu": "dark"})),
            400,
            "unknown_field",
        ),
    ];
    for (req, status, code) in cases {
        let desc = format!("{} {}", req.method, req.path);
        let r = handle(&b, req);
        assert_eq!(
            (r.status, error_of(&r).1.as_str()),
            (status, code),
            "{desc}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("content-type"), Some("application/json"), "{desc}");
    }
    let r = handle(&b, Request::new("DELETE", "/api/courses"));
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST"));
    assert_eq!(get(&b, "/api/export.csv").body, before);
    assert_eq!(
        get(&b, "/api/settings").json_body(),
        json!({"monthly_goal": 2})
    );
}

#[test]
fn settings_default_store_and_revalidate() {
    let b = backend();
    assert_eq!(
        get(&b, "/api/settings/monthly_goal").json_body(),
        json!({"value": 2})
    );
    assert_eq!(get(&b, "/api/settings/theme").status, 404);
    let etag = get(&b, "/api/settings").header("etag").unwrap().to_owned();
    let cond = || {
        handle(
            &b,
            Request::new("GET", "/api/settings").with_header("If-None-Match", &etag),
        )
    };
    assert_eq!(cond().status, 304);
    assert_eq!(
        send(&b, "POST", "/api/settings/theme", json!({"value": "dark"})).status,
        200
    );
    assert_eq!(
        send(
            &b,
            "POST",
            "/api/settings/monthly_goal",
            json!({"value": 5})
        )
        .status,
        200
    );
    assert_eq!(cond().status, 200);
    assert_eq!(
        get(&b, "/api/settings").json_body(),
        json!({"monthly_goal": 5, "theme": "dark"})
    );
    assert_eq!(
        get(&b, "/api/settings/theme").json_body(),
        json!({"value": "dark"})
    );
    let big = "v".repeat(64 * 1024 - 2);
    assert_eq!(
        send(&b, "POST", "/api/settings/big", json!({"value": big})).status,
        200
    );
    assert_eq!(
        handle(&b, Request::new("DELETE", "/api/settings/theme")).status,
        200
    );
    assert_eq!(get(&b, "/api/settings/theme").status, 404);
}

#[test]
fn token_guards_api_but_not_health() {
    let mut b = backend();
    b.set_variable("api_token", "s3cret");
    assert_eq!(get(&b, "/health").status, 200);
    let r = get(&b, "/api/courses");
    assert_eq!(error_of(&r), (401, "unauthorized".into(), None));
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(get(&b, "/api/unknown").status, 401);
    let wrong = handle(
        &b,
        Request::new("GET", "/api/courses").with_header("Authorization", "Bearer nope"),
    );
    assert_eq!(wrong.status, 401);
    let ok = handle(
        &b,
        Request::new("GET", "/api/courses").with_header("Authorization", "Bearer s3cret"),
    );
    assert_eq!(ok.status, 200);
    b.set_variable("api_token", "");
    assert_eq!(get(&b, "/api/courses").status, 200);
}

fn import_csv(b: &NativeBackend, text: &str, query: &str) -> Response {
    handle(
        b,
        Request::new("POST", &format!("/api/import{query}"))
            .with_header("content-type", "text/csv")
            .with_body(text.as_bytes().to_vec()),
    )
}

fn csv_rows(text: &str) -> std::collections::BTreeSet<Vec<String>> {
    skilltrack_api::csv::parse(text)
        .unwrap()
        .into_iter()
        .skip(1)
        .map(|r| r.fields)
        .collect()
}

#[test]
fn fixture_csv_imports_whole_and_exports_back_equal() {
    let b = backend();
    let text = fixture();
    let r = import_csv(&b, &text, "");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let report = r.json_body();
    assert_eq!(report["created"], 272);
    assert_eq!(report["errors"], json!([]));
    assert_eq!(list(&b).len(), 272);
    let completed = list(&b)
        .iter()
        .filter(|c| c["status"] == "Completed")
        .count();
    assert_eq!(completed, 2);

    let exported = String::from_utf8(get(&b, "/api/export.csv").body).unwrap();
    assert_eq!(csv_rows(&exported), csv_rows(&text));
    // Same order as the file, too.
    assert_eq!(exported.trim_end(), text.trim_end());

    let again = import_csv(&b, &exported, "").json_body();
    assert_eq!(
        (again["created"].as_i64(), again["unchanged"].as_i64()),
        (Some(0), Some(272))
    );
}

#[test]
fn hostile_csv_files_are_refused_and_change_nothing() {
    let b = backend();
    import_csv(
        &b,
        "Id,Date,Category,Title,Notes,Completion ratio\n1,1/2/2024,C,Kept,,0\n",
        "",
    );
    let before = get(&b, "/api/export").json_body()["courses"].clone();
    let header = "Id,Date,Category,Title,Notes,Completion ratio\r\n";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            format!("{header}2,13/45/2024,C,T,,0\r\n").into_bytes(),
            "import_rejected",
        ),
        (
            format!("{header}2,1/2/2024,C,T,,101\r\n").into_bytes(),
            "import_rejected",
        ),
        (
            format!("{header}2,1/2/2024,C,T,,4.5\r\n").into_bytes(),
            "import_rejected",
        ),
        (
            format!("{header}2,1/2/2024,C,T\r\n").into_bytes(),
            "import_rejected",
        ),
        (
            format!("{header}bad id,1/2/2024,C,T,,1\r\n").into_bytes(),
            "import_rejected",
        ),
        (
            format!("{header}2,1/2/2024,C,,,1\r\n").into_bytes(),
            "import_rejected",
        ),
        (
            format!("{header}2,1/2/2024,C,T,,1\r\n2,1/2/2024,C,T,,1\r\n").into_bytes(),
            "import_rejected",
        ),
        (
            format!("{header}2,1/2/2024,C,\"open,,1\r\n").into_bytes(),
            "invalid_csv",
        ),
        (
            b"Id,Date,Category,Notes\r\n2,1/2/2024,C,x\r\n".to_vec(),
            "missing_columns",
        ),
        (b"".to_vec(), "empty_file"),
        (b"\xef\xbb\xbf\r\n\r\n".to_vec(), "empty_file"),
        (
            vec![0x00, 0x9f, 0x92, 0x96, 0xff, 0x00, 0x13],
            "invalid_encoding",
        ),
        (b"PK\x03\x04\x00\x00binary\x00".to_vec(), "invalid_encoding"),
    ];
    for (body, code) in cases {
        let r = handle(
            &b,
            Request::new("POST", "/api/import")
                .with_header("content-type", "text/csv")
                .with_body(body.clone()),
        );
        assert_eq!(
            (r.status, error_of(&r).1.as_str()),
            (400, code),
            "{:?}",
            String::from_utf8_lossy(&body)
        );
    }
    let big = vec![b'a'; 10 * 1024 * 1024];
    let r = handle(
        &b,
        Request::new("POST", "/api/import")
            .with_header("content-type", "text/csv")
            .with_body(big),
    );
    assert_eq!(r.status, 413);
    let r = handle(
        &b,
        Request::new("POST", "/api/import")
            .with_header("content-type", "application/pdf")
            .with_body("x"),
    );
    assert_eq!(r.status, 415);
    assert_eq!(get(&b, "/api/export").json_body()["courses"], before);
}

#[test]
fn row_errors_name_their_line_and_partial_imports_the_rest() {
    let b = backend();
    let text = "Id,Date,Category,Title,Notes,Completion ratio\n1,1/2/2024,C,\"multi\nline title? no: notes\",,10\n2,2/30/2024,C,T,,0\n3,1/2/2024,C,T3,\"a \"\"quoted\"\", note\",100\n";
    let r = import_csv(&b, text, "");
    assert_eq!(r.status, 400);
    let errors = r.json_body()["errors"].clone();
    assert_eq!(errors.as_array().map(Vec::len), Some(2), "{errors}");
    assert_eq!(errors[0]["line"], 2);
    assert_eq!(errors[0]["field"], "Title");
    assert_eq!(errors[1]["line"], 4);
    assert_eq!(errors[1]["field"], "Date");
    assert_eq!(list(&b).len(), 0);
    let r = import_csv(&b, text, "?partial=true");
    assert_eq!(r.status, 200);
    let body = r.json_body();
    assert_eq!(
        (body["created"].as_i64(), body["skipped"].as_i64()),
        (Some(1), Some(2))
    );
    let c = get(&b, "/api/courses/3").json_body();
    assert_eq!(c["notes"], "a \"quoted\", note");
    assert_eq!(c["status"], "Completed");
}

#[test]
fn export_then_import_into_an_empty_server_gives_the_same_state() {
    let a = backend();
    import_csv(&a, &fixture(), "");
    send(
        &a,
        "PATCH",
        "/api/courses/6716873",
        json!({"isFavorite": true, "totalLessons": 10, "completedLessons": 3, "deadline": "2026-01-31", "notes": "multi\nline, \"quoted\""}),
    );
    send(
        &a,
        "POST",
        "/api/settings/theme",
        json!({"value": {"mode": "dark"}}),
    );
    let backup = get(&a, "/api/export").json_body();
    assert_eq!(backup["format"], "skilltrack-backup");

    let b = backend();
    let r = send(&b, "POST", "/api/import", backup.clone());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json_body()["created"], 272);
    let strip = |v: Json| -> Vec<Json> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.as_object_mut().unwrap().remove("rev");
                c
            })
            .collect()
    };
    assert_eq!(
        strip(get(&b, "/api/courses").json_body()),
        strip(get(&a, "/api/courses").json_body())
    );
    assert_eq!(
        get(&b, "/api/settings").json_body(),
        get(&a, "/api/settings").json_body()
    );
    assert_eq!(
        get(&b, "/api/export.csv").body,
        get(&a, "/api/export.csv").body
    );
}

#[test]
fn activity_lists_what_changed_newest_first() {
    let b = backend();
    send(&b, "PUT", "/api/courses/a", course("a", "A"));
    send(
        &b,
        "PATCH",
        "/api/courses/a",
        json!({"completionRatio": 30}),
    );
    send(&b, "PATCH", "/api/courses/a", json!({"title": "A2"}));
    handle(&b, Request::new("DELETE", "/api/courses/a"));
    let entries = get(&b, "/api/activity?limit=10").json_body()["entries"].clone();
    let kinds: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["deleted", "updated", "status", "progress", "created"]
    );
    assert_eq!(entries[3]["from"], 0);
    assert_eq!(entries[3]["to"], 30);
    assert_eq!(entries[2]["to"], "In Progress");
    assert_eq!(entries[1]["fields"], json!(["title"]));
    assert_eq!(
        get(&b, "/api/activity?limit=2").json_body()["entries"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
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
    assert_eq!((version, floor), (skilltrack_api::store::SCHEMA_VERSION, 1));
}

#[test]
fn newer_additive_schema_keeps_working() {
    let b = backend();
    send(&b, "PUT", "/api/courses/a", course("a", "A"));
    let c = b.connection();
    c.execute_batch(&format!(
        "ALTER TABLE courses ADD COLUMN colour TEXT NOT NULL DEFAULT ''; PRAGMA user_version = {};",
        skilltrack_api::store::SCHEMA_VERSION + 1
    ))
    .unwrap();
    assert_eq!(
        send(&b, "PUT", "/api/courses/b", course("b", "B")).status,
        201
    );
    assert_eq!(list(&b).len(), 2);
}

#[test]
fn schema_floor_above_this_code_answers_503_and_touches_nothing() {
    let dir = std::env::temp_dir().join(format!("skilltrack-floor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let b = NativeBackend::open_dir(&dir).unwrap();
        send(&b, "PUT", "/api/courses/a", course("a", "A"));
        b.connection()
            .execute_batch("UPDATE meta SET value = 3 WHERE key = 'min_compatible_schema'; PRAGMA user_version = 3;")
            .unwrap();
    }
    let b = NativeBackend::open_dir(&dir).unwrap();
    let r = send(&b, "PUT", "/api/courses/b", course("b", "B"));
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
    assert_eq!((count, version), (1, 3));
    assert_eq!(get(&b, "/health").status, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openapi_documents_exactly_the_routes_answered() {
    let doc: Json = serde_json::from_str(skilltrack_api::routes::OPENAPI).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "put", "post", "patch", "delete"].contains(&k.as_str()))
                .map(move |m| (p.clone(), m.to_uppercase()))
        })
        .collect();
    let mut answered: Vec<(String, String)> = skilltrack_api::ROUTES
        .iter()
        .flat_map(|r| {
            r.methods
                .iter()
                .map(move |m| (r.path.to_owned(), (*m).to_owned()))
        })
        .collect();
    documented.sort();
    answered.sort();
    assert_eq!(documented, answered);
    let r = get(&backend(), "/api/openapi.json");
    assert_eq!(r.json_body(), doc);
}

#[test]
fn head_answers_like_get_without_a_body() {
    let b = backend();
    let r = handle(&b, Request::new("HEAD", "/api/courses"));
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert!(r.header("etag").is_some());
}

#[test]
fn the_collection_rendering_is_reused_only_for_its_revision() {
    let b = backend();
    send(&b, "PUT", "/api/courses/a", course("a", "A"));
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
    send(&b, "PUT", "/api/courses/b", course("b", "B"));
    let now = list(&b);
    assert_eq!(now.len(), 2);
    assert_eq!(
        now.iter().find(|c| c["id"] == "a").unwrap()["completionRatio"],
        40
    );
}

#[test]
fn an_up_to_date_poll_of_the_change_feed_is_empty() {
    let b = backend();
    send(&b, "PUT", "/api/courses/a", course("a", "A"));
    let feed = get(&b, "/api/changes?since=1").json_body();
    assert_eq!(
        feed,
        json!({"since": 1, "rev": 1, "more": false, "courses": [], "deleted": []})
    );
}
