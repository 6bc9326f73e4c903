//! The courses API in the real host: per-course CRUD with revisions, the
//! seed's bulk replace, the change feed, the activity log, and every
//! validation rule with its error body.

mod api_common;

use api_common::{course, error_of, rev_of, start};
use serde_json::json;

#[test]
fn health_is_open_and_reports_the_component_version() {
    let api = start();
    let r = api.get("/health");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    assert_eq!(r.json()["version"], "0.1.0");
}

#[test]
fn a_course_is_created_read_updated_and_deleted_with_revisions() {
    let api = start();
    let created = api.put("/api/courses/6716873", &course("6716873", "Method of Loci"));
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(
        created.header("location").as_deref(),
        Some("/api/courses/6716873")
    );
    let rev1 = rev_of(&created);
    assert_eq!(created.header("etag"), Some(format!("\"{rev1}\"")));
    let c = created.json();
    assert_eq!(
        (c["status"].as_str(), c["completionRatio"].as_i64()),
        (Some("Pending"), Some(0))
    );
    assert!(c["createdAt"].is_string() && c["completedAt"].is_null());

    let got = api.get("/api/courses/6716873");
    assert_eq!(got.json(), c);
    let etag = got.header("etag").expect("etag");
    assert_eq!(
        api.get_with("/api/courses/6716873", &[("if-none-match", &etag)])
            .status,
        304
    );

    let patched = api.patch(
        "/api/courses/6716873",
        &json!({"completionRatio": 40, "isFavorite": true}),
    );
    assert_eq!(patched.status, 200);
    let rev2 = rev_of(&patched);
    assert!(rev2 > rev1);
    assert_eq!(patched.json()["status"], "In Progress");
    assert_eq!(patched.json()["createdAt"], c["createdAt"]);

    let done = api.patch("/api/courses/6716873", &json!({"completionRatio": 100}));
    assert_eq!(done.json()["status"], "Completed");
    assert!(done.json()["completedAt"].is_string());
    let reopened = api.patch(
        "/api/courses/6716873",
        &json!({"status": "In Progress", "completionRatio": 80}),
    );
    assert!(reopened.json()["completedAt"].is_null());

    let replaced = api.put(
        "/api/courses/6716873",
        &json!({"title": "Loci", "completionRatio": 10}),
    );
    assert_eq!(replaced.status, 200);
    assert_eq!(
        replaced.json()["isFavorite"],
        false,
        "PUT replaces the whole course"
    );

    let del = api.delete("/api/courses/6716873");
    assert_eq!(del.status, 200);
    let tomb_rev = rev_of(&del);
    assert_eq!(del.json()["deleted"], true);
    let gone = api.get("/api/courses/6716873");
    assert_eq!(error_of(&gone).1, "not_found");
    assert_eq!(gone.json()["error"]["deleted"], true);
    assert_eq!(
        rev_of(&api.delete("/api/courses/6716873")),
        tomb_rev,
        "a second DELETE is idempotent"
    );
    assert_eq!(api.delete("/api/courses/never-was").status, 404);
    let feed = api.get("/api/changes?since=0").json();
    assert_eq!(feed["deleted"], json!(["6716873"]));
    assert_eq!(feed["rev"], tomb_rev);
}

#[test]
fn stale_if_match_is_refused_with_server_copy() {
    let api = start();
    let rev = rev_of(&api.put("/api/courses/c1", &course("c1", "T")));
    let tag = format!("\"{rev}\"");
    let first = api.json_with(
        "PATCH",
        "/api/courses/c1",
        &json!({"notes": "first"}),
        &[("if-match", &tag)],
    );
    assert_eq!(first.status, 200);
    let stale = api.json_with(
        "PATCH",
        "/api/courses/c1",
        &json!({"notes": "second"}),
        &[("if-match", &tag)],
    );
    assert_eq!(error_of(&stale), (412, "precondition_failed".into(), None));
    assert_eq!(stale.json()["current"]["notes"], "first");
    assert_eq!(stale.json()["current"]["rev"], rev_of(&first));
    assert_eq!(api.get("/api/courses/c1").json()["notes"], "first");
    let stale_put = api.json_with(
        "PUT",
        "/api/courses/c1",
        &course("c1", "X"),
        &[("if-match", &tag)],
    );
    assert_eq!(stale_put.status, 412);
    let stale_delete = api.request("DELETE", "/api/courses/c1", &[("if-match", &tag)], None);
    assert_eq!(stale_delete.status, 412);
    let create_only = api.json_with(
        "PUT",
        "/api/courses/c1",
        &course("c1", "X"),
        &[("if-none-match", "*")],
    );
    assert_eq!(create_only.status, 412);
    assert_eq!(api.get("/api/courses/c1").json()["title"], "T");
}

#[test]
fn bulk_replace_keeps_unchanged_revs_tombstones_the_rest_and_honours_if_match() {
    let api = start();
    let first = api.post(
        "/api/courses",
        &json!([course("a", "A"), course("b", "B"), course("c", "C")]),
    );
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["created"], 3);
    let etag = first.header("etag").expect("collection etag");
    let rev_a = api.get("/api/courses/a").json()["rev"].clone();

    let second = api.json_with(
        "POST",
        "/api/courses",
        &json!([course("b", "B changed"), course("a", "A")]),
        &[("if-match", &etag)],
    );
    assert_eq!(second.status, 200, "{}", second.text());
    let s = second.json();
    assert_eq!(
        (
            s["created"].as_i64(),
            s["updated"].as_i64(),
            s["unchanged"].as_i64(),
            s["deleted"].as_i64()
        ),
        (Some(0), Some(2), Some(0), Some(1))
    );
    // a moved from position 0 to 1, so its sortOrder (and rev) changed; c is gone.
    assert_ne!(api.get("/api/courses/a").json()["rev"], rev_a);
    let order: Vec<String> = api
        .get("/api/courses")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, vec!["b", "a"]);
    assert_eq!(api.get("/api/courses/c").status, 404);

    let same = api.post(
        "/api/courses",
        &json!([course("b", "B changed"), course("a", "A")]),
    );
    assert_eq!(same.json()["unchanged"], 2);
    assert_eq!(
        same.json()["rev"],
        s["rev"],
        "an identical replace bumps nothing"
    );

    let stale = api.json_with("POST", "/api/courses", &json!([]), &[("if-match", &etag)]);
    assert_eq!(error_of(&stale).0, 412);
    assert_eq!(api.courses().len(), 2);
}

#[test]
fn collection_poll_is_304_until_a_write() {
    let api = start();
    api.put("/api/courses/a", &course("a", "A"));
    let etag = api.get("/api/courses").header("etag").expect("etag");
    let poll = api.get_with("/api/courses", &[("if-none-match", &etag)]);
    assert_eq!(poll.status, 304);
    assert!(poll.body.is_empty());
    api.patch("/api/courses/a", &json!({"notes": "n"}));
    let poll = api.get_with("/api/courses", &[("if-none-match", &etag)]);
    assert_eq!(poll.status, 200);
    assert_ne!(poll.header("etag").as_deref(), Some(etag.as_str()));
}

#[test]
fn change_feed_pages_replay_to_the_collection() {
    let api = start();
    for i in 0..12 {
        api.put(
            &format!("/api/courses/c{i}"),
            &course(&format!("c{i}"), "T"),
        );
    }
    for i in [0, 5, 7] {
        api.delete(&format!("/api/courses/c{i}"));
    }
    api.patch("/api/courses/c3", &json!({"completionRatio": 55}));
    let page = api.get("/api/changes?since=0&limit=4").json();
    assert_eq!(page["more"], true);
    assert_eq!(
        page["courses"].as_array().unwrap().len() + page["deleted"].as_array().unwrap().len(),
        4
    );
    assert_eq!(api.replay(4), api.courses());
    assert_eq!(api.replay(1000), api.courses());
    let last = api.get("/api/changes?since=0").json()["rev"]
        .as_i64()
        .unwrap();
    let empty = api.get(&format!("/api/changes?since={last}")).json();
    assert_eq!(
        (
            empty["courses"].as_array().unwrap().len(),
            empty["more"].as_bool()
        ),
        (0, Some(false))
    );
    assert_eq!(
        error_of(&api.get(&format!("/api/changes?since={}", last + 1))).0,
        409
    );
    assert_eq!(
        error_of(&api.get("/api/changes?since=abc")),
        (400, "invalid_field".into(), Some("since".into()))
    );
    assert_eq!(
        error_of(&api.get("/api/changes?limit=5000")).2.as_deref(),
        Some("limit")
    );
}

#[test]
fn activity_log_says_what_changed_newest_first() {
    let api = start();
    api.put("/api/courses/a", &course("a", "A"));
    api.patch("/api/courses/a", &json!({"completionRatio": 100}));
    api.patch("/api/courses/a", &json!({"category": "Python"}));
    api.delete("/api/courses/a");
    let entries = api.get("/api/activity?limit=50").json()["entries"].clone();
    let kinds: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["deleted", "updated", "status", "progress", "created"]
    );
    assert_eq!(
        (entries[3]["from"].as_i64(), entries[3]["to"].as_i64()),
        (Some(0), Some(100))
    );
    assert_eq!(entries[2]["to"], "Completed");
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["courseId"] == "a" && e["at"].is_string())
    );
    assert_eq!(
        api.get("/api/activity?limit=1").json()["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        error_of(&api.get("/api/activity?limit=0")).2.as_deref(),
        Some("limit")
    );
}

/// Each case: a body that breaks exactly one rule, and the field the error names.
#[test]
fn every_course_field_rule_answers_400_naming_the_field() {
    let api = start();
    api.put("/api/courses/keep", &course("keep", "Keep"));
    let before = api.get("/api/export.csv").body;
    let long = "x".repeat(301);
    let cases = [
        (json!({"completionRatio": 10}), "title"),
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": long}), "title"),
        (json!({"title": 42}), "title"),
        (json!({"title": "tab\tin title"}), "title"),
        (
            json!({"title": "t", "category": "c".repeat(101)}),
            "category",
        ),
        (json!({"title": "t", "category": 3}), "category"),
        (json!({"title": "t", "notes": "n".repeat(10_001)}), "notes"),
        (json!({"title": "t", "date": "12/26/2025"}), "date"),
        (json!({"title": "t", "date": "2025-02-29"}), "date"),
        (json!({"title": "t", "date": 20251226}), "date"),
        (json!({"title": "t", "deadline": "tomorrow"}), "deadline"),
        (
            json!({"title": "t", "completionRatio": 101}),
            "completionRatio",
        ),
        (
            json!({"title": "t", "completionRatio": -1}),
            "completionRatio",
        ),
        (
            json!({"title": "t", "completionRatio": 12.5}),
            "completionRatio",
        ),
        (
            json!({"title": "t", "completionRatio": "40"}),
            "completionRatio",
        ),
        (
            json!({"title": "t", "completionRatio": null}),
            "completionRatio",
        ),
        (json!({"title": "t", "status": "Done"}), "status"),
        (json!({"title": "t", "status": "completed"}), "status"),
        (json!({"title": "t", "isFavorite": "true"}), "isFavorite"),
        (
            json!({"title": "t", "pinnedToDashboard": 0}),
            "pinnedToDashboard",
        ),
        (json!({"title": "t", "isArchived": null}), "isArchived"),
        (json!({"title": "t", "totalLessons": -1}), "totalLessons"),
        (json!({"title": "t", "totalLessons": 2.5}), "totalLessons"),
        (
            json!({"title": "t", "completedLessons": -2}),
            "completedLessons",
        ),
        (
            json!({"title": "t", "totalLessons": 3, "completedLessons": 4}),
            "completedLessons",
        ),
        (json!({"title": "t", "sortOrder": 1e15}), "sortOrder"),
        (json!({"title": "t", "sortOrder": "1"}), "sortOrder"),
        (json!({"title": "t", "id": "other"}), "id"),
        (json!({"title": "t", "id": "bad id!"}), "id"),
        (
            json!({"title": "t", "createdAt": "not a time"}),
            "createdAt",
        ),
    ];
    for (body, field) in &cases {
        let r = api.put("/api/courses/new1", body);
        assert_eq!(
            error_of(&r),
            (400, "invalid_field".into(), Some((*field).into())),
            "{body}: {}",
            r.text()
        );
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let unknown = api.put("/api/courses/new1", &json!({"title": "t", "colour": "red"}));
    assert_eq!(
        error_of(&unknown),
        (400, "unknown_field".into(), Some("colour".into()))
    );
    let leaving = api.patch("/api/courses/keep", &json!({"completionRatio": 100}));
    assert_eq!(leaving.status, 200);
    let status_only = api.patch("/api/courses/keep", &json!({"status": "Up Next"}));
    assert_eq!(error_of(&status_only).2.as_deref(), Some("completionRatio"));
    for id in ["bad%20id", "a.b", &"x".repeat(65)] {
        let r = api.put(&format!("/api/courses/{id}"), &json!({"title": "t"}));
        assert_eq!(
            error_of(&r),
            (400, "invalid_field".into(), Some("id".into())),
            "{id}"
        );
    }
    api.patch(
        "/api/courses/keep",
        &json!({"completionRatio": 0, "status": "Pending"}),
    );
    assert_eq!(
        api.get("/api/courses/new1").status,
        404,
        "no rejected write created anything"
    );
    assert_eq!(
        api.get("/api/export.csv").body,
        before,
        "no rejected write changed anything"
    );
}

/// Method, path, headers, body, and the status and code it must get.
type BadRequest = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<u8>,
    u16,
    &'static str,
);

#[test]
fn malformed_requests_get_json_errors_not_5xx() {
    let api = start();
    api.put("/api/courses/keep", &course("keep", "Keep"));
    let before = api.get("/api/export").json()["courses"].clone();
    let json_ct = [("content-type", "application/json")];
    let cases: Vec<BadRequest> = vec![
        (
            "PUT",
            "/api/courses/a",
            json_ct.to_vec(),
            b"{\"title\":".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a",
            json_ct.to_vec(),
            b"".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a",
            json_ct.to_vec(),
            b"[1,2]".to_vec(),
            400,
            "invalid_body",
        ),
        (
            "PUT",
            "/api/courses/a",
            json_ct.to_vec(),
            b"\xff\xfe\x00garbage".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a",
            json_ct.to_vec(),
            "[".repeat(100_000).into_bytes(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a",
            vec![("content-type", "text/plain")],
            b"{\"title\":\"t\"}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "PUT",
            "/api/courses/a",
            vec![("content-type", "application/x-www-form-urlencoded")],
            b"title=t".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "PUT",
            "/api/courses/a",
            json_ct.to_vec(),
            format!("{{\"title\":\"{}\"}}", "x".repeat(2 << 20)).into_bytes(),
            413,
            "body_too_large",
        ),
        (
            "POST",
            "/api/courses",
            json_ct.to_vec(),
            b"{\"id\":\"a\"}".to_vec(),
            400,
            "invalid_body",
        ),
        (
            "POST",
            "/api/courses",
            json_ct.to_vec(),
            b"[{\"title\":\"no id\"}]".to_vec(),
            400,
            "invalid_field",
        ),
        (
            "POST",
            "/api/courses",
            json_ct.to_vec(),
            b"[{\"id\":\"a\",\"title\":\"A\"},{\"id\":\"a\",\"title\":\"B\"}]".to_vec(),
            400,
            "duplicate_id",
        ),
        (
            "PUT",
            "/api/courses/keep",
            vec![
                ("content-type", "application/json"),
                ("if-match", "yesterday"),
            ],
            b"{\"title\":\"t\"}".to_vec(),
            400,
            "invalid_header",
        ),
        (
            "PATCH",
            "/api/courses/nope",
            json_ct.to_vec(),
            b"{\"title\":\"t\"}".to_vec(),
            404,
            "not_found",
        ),
        ("GET", "/api/nowhere", vec![], vec![], 404, "not_found"),
        ("GET", "/api/courses/a/b", vec![], vec![], 404, "not_found"),
        (
            "DELETE",
            "/api/courses",
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            "PUT",
            "/api/changes",
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            "GET",
            "/api/import",
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
        ("POST", "/health", vec![], vec![], 405, "method_not_allowed"),
    ];
    for (method, path, headers, body, status, code) in cases {
        let r = api.request(method, path, &headers, Some(&body));
        assert_eq!(
            (r.status, error_of(&r).1.as_str()),
            (status, code),
            "{method} {path}: {}",
            r.text()
        );
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
        );
    }
    let r = api.request("DELETE", "/api/courses", &[], None);
    assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD, POST"));
    assert_eq!(api.get("/api/export").json()["courses"], before);
}

#[test]
fn head_is_answered_like_get_without_a_body() {
    let api = start();
    let r = api.request("HEAD", "/api/courses", &[], None);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert!(r.header("etag").is_some());
}

#[test]
fn progress_and_status_stay_consistent() {
    let api = start();
    let pair = |r: &integration::Resp| {
        let c = r.json();
        (
            c["status"].as_str().map(str::to_owned),
            c["completionRatio"].as_i64(),
        )
    };
    let both = api.put(
        "/api/courses/a",
        &json!({"title": "t", "status": "Completed", "completionRatio": 50}),
    );
    assert_eq!(
        pair(&both),
        (Some("In Progress".into()), Some(50)),
        "a new ratio decides"
    );
    let done = api.put(
        "/api/courses/a",
        &json!({"title": "t", "status": "Completed", "completionRatio": 50}),
    );
    assert_eq!(
        pair(&done),
        (Some("Completed".into()), Some(100)),
        "an unchanged ratio lets the status decide"
    );
    assert!(done.json()["completedAt"].is_string());
    let stuck = api.patch("/api/courses/a", &json!({"status": "In Progress"}));
    assert_eq!(
        error_of(&stuck),
        (400, "invalid_field".into(), Some("completionRatio".into()))
    );
    let reopened = api.patch(
        "/api/courses/a",
        &json!({"status": "In Progress", "completionRatio": 90}),
    );
    assert_eq!(pair(&reopened), (Some("In Progress".into()), Some(90)));
    assert!(reopened.json()["completedAt"].is_null());
    let up_next = api.put(
        "/api/courses/b",
        &json!({"title": "t", "status": "Up Next"}),
    );
    assert_eq!(up_next.json()["status"], "Up Next");
    let started = api.patch("/api/courses/b", &json!({"completionRatio": 10}));
    assert_eq!(
        started.json()["status"],
        "Up Next",
        "a queued course stays queued"
    );
    assert_eq!(
        api.put("/api/courses/c", &json!({"title": "t"})).json()["status"],
        "Pending"
    );
    let first_progress = api.patch("/api/courses/c", &json!({"completionRatio": 1}));
    assert_eq!(first_progress.json()["status"], "In Progress");
}
