//! The courses API: per-course CRUD with revisions, the seed's bulk replace, the
//! activity log, and every validation rule with its error body.

use super::{Api, Resp, Target, course, error_of, rev_of, start};
use serde_json::{Value as Json, json};

pub fn a_course_is_created_read_updated_and_deleted_with_revisions(t: &dyn Target) {
    let api = start(t);
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
    assert!(c["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));

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
    let unchanged = api.put(
        "/api/courses/6716873",
        &json!({"title": "Loci", "completionRatio": 10}),
    );
    assert_eq!(
        rev_of(&unchanged),
        rev_of(&replaced),
        "a write that changes nothing keeps the rev"
    );

    let del = api.delete("/api/courses/6716873");
    assert_eq!(del.status, 200);
    let tomb_rev = rev_of(&del);
    assert_eq!(del.json()["deleted"], true);
    let gone = api.get("/api/courses/6716873");
    assert_eq!(error_of(&gone).1, "not_found");
    assert_eq!(gone.json()["error"]["deleted"], true);
    assert_tombstone(&api, "6716873", tomb_rev);
}

/// What a course just deleted at `rev` leaves: deleting it again answers the same
/// rev, deleting an id that never was is a 404, and the change feed lists it as
/// deleted at that rev. Returns the feed.
fn assert_tombstone(api: &Api, id: &str, rev: i64) -> Json {
    assert_eq!(
        rev_of(&api.delete(&format!("/api/courses/{id}"))),
        rev,
        "a second DELETE is idempotent"
    );
    assert_eq!(api.delete("/api/courses/never-was").status, 404);
    let feed = api.get("/api/changes?since=0").json();
    assert_eq!(feed["deleted"], json!([id]));
    assert_eq!(feed["rev"].as_i64(), Some(rev));
    feed
}

pub fn stale_if_match_is_refused_with_server_copy(t: &dyn Target) {
    let api = start(t);
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

pub fn completed_at_follows_the_status(t: &dyn Target) {
    let api = start(t);
    api.put("/api/courses/c", &course("c", "T"));
    let done = api.patch("/api/courses/c", &json!({"completionRatio": 100}));
    assert_eq!(done.json()["status"], "Completed");
    assert!(done.json()["completedAt"].is_string());
    let notes = api.patch("/api/courses/c", &json!({"notes": "x"}));
    assert_eq!(notes.json()["completedAt"], done.json()["completedAt"]);
    let reopened = api.patch(
        "/api/courses/c",
        &json!({"status": "In Progress", "completionRatio": 90}),
    );
    assert_eq!(reopened.status, 200);
    assert!(reopened.json()["completedAt"].is_null());
}

pub fn delete_leaves_a_tombstone_in_the_feed(t: &dyn Target) {
    let api = start(t);
    api.put("/api/courses/x", &course("x", "X"));
    api.put("/api/courses/y", &course("y", "Y"));
    let del = api.delete("/api/courses/x");
    assert_eq!(del.status, 200);
    let rev = rev_of(&del);
    assert_eq!(api.get("/api/courses/x").status, 404);
    let feed = assert_tombstone(&api, "x", rev);
    assert_eq!(feed["courses"].as_array().map(Vec::len), Some(1));
    // Recreating a deleted id is a fresh course.
    assert_eq!(
        api.put("/api/courses/x", &course("x", "X again")).status,
        201
    );
}

pub fn collection_poll_is_304_until_a_write(t: &dyn Target) {
    let api = start(t);
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

/// Replaces the list with three new courses a, b and c; returns the collection's
/// etag and a's rev after that.
fn replace_with_abc(api: &Api) -> (String, Json) {
    let first = api.post(
        "/api/courses",
        &json!([course("a", "A"), course("b", "B"), course("c", "C")]),
    );
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["created"], 3);
    let etag = first.header("etag").expect("collection etag");
    let rev_a = api.get("/api/courses/a").json()["rev"].clone();
    (etag, rev_a)
}

pub fn bulk_replace_keeps_unchanged_revs_tombstones_the_rest_and_honours_if_match(t: &dyn Target) {
    let api = start(t);
    let (etag, rev_a) = replace_with_abc(&api);

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
        .course_list()
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
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

pub fn bulk_replace_bumps_only_changed_courses_and_refuses_a_bad_list_whole(t: &dyn Target) {
    let api = start(t);
    let (etag, rev_a) = replace_with_abc(&api);
    let second = api.json_with(
        "POST",
        "/api/courses",
        &json!([course("a", "A"), {"id": "b", "title": "B2", "category": "Cloud", "date": "2025-12-26", "sortOrder": 1}]),
        &[("if-match", &etag)],
    );
    let s = second.json();
    assert_eq!(
        (
            s["unchanged"].as_i64(),
            s["updated"].as_i64(),
            s["deleted"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(api.get("/api/courses/a").json()["rev"], rev_a);
    assert_eq!(api.get("/api/courses/c").status, 404);
    let ids: Vec<serde_json::Value> = api.course_list().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(ids, vec![json!("a"), json!("b")]);
    let stale = api.json_with("POST", "/api/courses", &json!([]), &[("if-match", &etag)]);
    assert_eq!(stale.status, 412);
    assert_eq!(api.course_list().len(), 2);
    let bad = api.post(
        "/api/courses",
        &json!([course("a", "A"), {"id": "z", "title": "Z", "completionRatio": 101}]),
    );
    assert_eq!(
        error_of(&bad),
        (
            400,
            "invalid_field".into(),
            Some("[1].completionRatio".into())
        )
    );
    let dup = api.post("/api/courses", &json!([course("a", "A"), course("a", "A")]));
    assert_eq!(error_of(&dup).1, "duplicate_id");
    assert_eq!(api.course_list().len(), 2);
}

/// Each case: a body that breaks exactly one rule, and the field the error names.
pub fn every_course_field_rule_answers_400_naming_the_field(t: &dyn Target) {
    let api = start(t);
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
    String,
    Vec<(&'static str, &'static str)>,
    Vec<u8>,
    u16,
    &'static str,
);

pub fn malformed_requests_get_json_errors_and_change_nothing(t: &dyn Target) {
    let api = start(t);
    api.put("/api/courses/keep", &course("keep", "Keep"));
    let before = api.get("/api/export").json()["courses"].clone();
    let before_csv = api.get("/api/export.csv").body;
    let json_ct = vec![("content-type", "application/json")];
    let body = |v: serde_json::Value| v.to_string().into_bytes();
    let cases: Vec<BadRequest> = vec![
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            b"{\"title\":".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            b"{not json".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            b"".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            b"[1,2]".to_vec(),
            400,
            "invalid_body",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            b"\xff\xfe\x00garbage".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            "[".repeat(100_000).into_bytes(),
            400,
            "invalid_json",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            body(json!({"completionRatio": 3})),
            400,
            "invalid_field",
        ),
        (
            "PUT",
            "/api/courses/bad%20id".into(),
            json_ct.clone(),
            body(course("x", "X")),
            400,
            "invalid_field",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            body(json!({"title": "x", "extra": 1})),
            400,
            "unknown_field",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            vec![("content-type", "text/plain")],
            b"{\"title\":\"t\"}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            vec![("content-type", "application/x-www-form-urlencoded")],
            b"title=t".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "PUT",
            "/api/courses/a".into(),
            json_ct.clone(),
            format!("{{\"title\":\"{}\"}}", "x".repeat(2 << 20)).into_bytes(),
            413,
            "body_too_large",
        ),
        (
            "POST",
            "/api/courses".into(),
            json_ct.clone(),
            b"{\"id\":\"a\"}".to_vec(),
            400,
            "invalid_body",
        ),
        (
            "POST",
            "/api/courses".into(),
            json_ct.clone(),
            b"[{\"title\":\"no id\"}]".to_vec(),
            400,
            "invalid_field",
        ),
        (
            "POST",
            "/api/courses".into(),
            json_ct.clone(),
            b"[{\"id\":\"a\",\"title\":\"A\"},{\"id\":\"a\",\"title\":\"B\"}]".to_vec(),
            400,
            "duplicate_id",
        ),
        (
            "PUT",
            "/api/courses/keep".into(),
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
            "/api/courses/nope".into(),
            json_ct.clone(),
            b"{\"title\":\"t\"}".to_vec(),
            404,
            "not_found",
        ),
        (
            "PATCH",
            "/api/courses/keep".into(),
            json_ct.clone(),
            body(json!({"status": "Finished"})),
            400,
            "invalid_field",
        ),
        (
            "GET",
            "/api/nowhere".into(),
            vec![],
            vec![],
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/courses/a/b".into(),
            vec![],
            vec![],
            404,
            "not_found",
        ),
        (
            "DELETE",
            "/api/courses".into(),
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            "PUT",
            "/api/changes".into(),
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            "GET",
            "/api/import".into(),
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            "POST",
            "/api/export".into(),
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            "POST",
            "/health".into(),
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            "POST",
            "/api/settings/UPPER".into(),
            json_ct.clone(),
            body(json!({"value": 1})),
            400,
            "invalid_field",
        ),
        (
            "POST",
            "/api/settings/monthly_goal".into(),
            json_ct.clone(),
            body(json!({"value": "lots"})),
            400,
            "invalid_field",
        ),
        (
            "POST",
            "/api/settings/theme".into(),
            json_ct.clone(),
            body(json!({"value": "x".repeat(70_000)})),
            400,
            "invalid_field",
        ),
        (
            "POST",
            "/api/settings/theme".into(),
            json_ct.clone(),
            body(json!({"valu": "dark"})),
            400,
            "unknown_field",
        ),
    ];
    for (method, path, headers, body, status, code) in cases {
        let r = api.request(method, &path, &headers, Some(&body));
        assert_eq!(
            (r.status, error_of(&r).1.as_str()),
            (status, code),
            "{method} {path}: {}",
            r.text()
        );
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json"),
            "{method} {path}"
        );
    }
    let r = api.request("DELETE", "/api/courses", &[], None);
    assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD, POST"));
    assert_eq!(api.get("/api/export").json()["courses"], before);
    assert_eq!(api.get("/api/export.csv").body, before_csv);
    assert_eq!(
        api.get("/api/settings").json(),
        json!({"monthly_goal": 2}),
        "no refused setting was stored"
    );
}

pub fn head_is_answered_like_get_without_a_body(t: &dyn Target) {
    let api = start(t);
    let r = api.request("HEAD", "/api/courses", &[], None);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert!(r.header("etag").is_some());
}

pub fn progress_and_status_stay_consistent(t: &dyn Target) {
    let api = start(t);
    let pair = |r: &Resp| {
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

pub fn activity_log_says_what_changed_newest_first(t: &dyn Target) {
    let api = start(t);
    api.put("/api/courses/a", &course("a", "A"));
    api.patch("/api/courses/a", &json!({"completionRatio": 100}));
    api.patch("/api/courses/a", &json!({"category": "Python"}));
    api.delete("/api/courses/a");
    let entries = api.get("/api/activity?limit=50").json()["entries"].clone();
    let kinds: Vec<&str> = entries
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default())
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
    assert_eq!(entries[1]["fields"], json!(["category"]));
    assert!(
        entries
            .as_array()
            .expect("entries")
            .iter()
            .all(|e| e["courseId"] == "a" && e["at"].is_string())
    );
    assert_eq!(
        api.get("/api/activity?limit=1").json()["entries"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        api.get("/api/activity?limit=2").json()["entries"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        error_of(&api.get("/api/activity?limit=0")).2.as_deref(),
        Some("limit")
    );
}
