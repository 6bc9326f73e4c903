//! Two libraries in one store: every piece of library data belongs to exactly one
//! owner. Each test drives the real handlers over one SQLite database through two
//! `Library` views, as accounts will, and shows that nothing one owner does is seen
//! by, or changes anything of, the other.

use serde_json::{Value as Json, json};
use skilltrack_api::library::Library;
use skilltrack_api::native::NativeBackend;
use skilltrack_api::{Backend, Request, Response, handle};

const A: i64 = 1;
const B: i64 = 2;

fn store() -> NativeBackend {
    NativeBackend::in_memory().expect("in-memory backend")
}

fn get(b: &impl Backend, path: &str) -> Response {
    handle(b, Request::new("GET", path))
}

fn send(b: &impl Backend, method: &str, path: &str, body: Json) -> Response {
    handle(b, Request::new(method, path).with_json(&body))
}

fn ok(r: Response) -> Json {
    assert!(
        (200..300).contains(&r.status),
        "{}: {}",
        r.status,
        r.json_body()
    );
    r.json_body()
}

fn titles(b: &impl Backend) -> Vec<(String, String)> {
    ok(get(b, "/api/courses"))
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("").to_owned(),
                c["title"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn pair(id: &str, title: &str) -> (String, String) {
    (id.to_owned(), title.to_owned())
}

fn etag(b: &impl Backend) -> String {
    get(b, "/api/courses")
        .header("etag")
        .expect("an ETag")
        .to_owned()
}

#[test]
fn the_same_course_id_in_two_libraries_is_two_courses() {
    let base = store();
    let (a, b) = (Library::new(&base, A), Library::new(&base, B));
    assert_eq!(
        send(&a, "PUT", "/api/courses/c1", json!({"title": "A's"})).status,
        201
    );
    // Not "updated": B has no c1 of its own yet.
    assert_eq!(
        send(&b, "PUT", "/api/courses/c1", json!({"title": "B's"})).status,
        201
    );
    assert_eq!(ok(get(&a, "/api/courses/c1"))["title"], "A's");
    assert_eq!(ok(get(&b, "/api/courses/c1"))["title"], "B's");

    ok(send(
        &b,
        "PATCH",
        "/api/courses/c1",
        json!({"completionRatio": 50}),
    ));
    assert_eq!(ok(get(&a, "/api/courses/c1"))["completionRatio"], 0);

    ok(handle(&b, Request::new("DELETE", "/api/courses/c1")));
    assert_eq!(get(&b, "/api/courses/c1").status, 404);
    assert_eq!(titles(&a), vec![pair("c1", "A's")]);
    // B's course only in B: A answers as for an id that never existed.
    ok(send(
        &b,
        "PUT",
        "/api/courses/only-b",
        json!({"title": "B"}),
    ));
    let r = get(&a, "/api/courses/only-b");
    assert_eq!(
        (r.status, r.json_body()["error"].get("deleted")),
        (404, None)
    );
}

#[test]
fn revisions_etags_and_the_change_feed_are_per_owner() {
    let base = store();
    let (a, b) = (Library::new(&base, A), Library::new(&base, B));
    ok(send(&a, "PUT", "/api/courses/a1", json!({"title": "A1"})));
    ok(send(&a, "PUT", "/api/courses/a2", json!({"title": "A2"})));
    let a_etag = etag(&a);
    assert_eq!(a_etag, "\"2\"");

    // B counts from its own start, and its writes leave A's revision alone.
    let first = ok(send(&b, "PUT", "/api/courses/b1", json!({"title": "B1"})));
    assert_eq!(first["rev"], 1);
    ok(send(&b, "PUT", "/api/courses/b2", json!({"title": "B2"})));
    ok(send(&b, "PUT", "/api/courses/b3", json!({"title": "B3"})));
    ok(send(
        &b,
        "POST",
        "/api/courses",
        json!([{"id": "b9", "title": "B9"}]),
    ));
    assert_eq!(etag(&a), a_etag);
    let r = handle(
        &a,
        Request::new("GET", "/api/courses").with_header("if-none-match", &a_etag),
    );
    assert_eq!(r.status, 304, "an idle device of A sees nothing new");

    let feed = ok(get(&a, "/api/changes?since=2"));
    assert_eq!(
        (feed["rev"].clone(), feed["courses"].clone()),
        (json!(2), json!([]))
    );
    let all = ok(get(&a, "/api/changes?since=0"));
    let ids: Vec<&str> = all["courses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!((ids, all["deleted"].clone()), (vec!["a1", "a2"], json!([])));

    let b_feed = ok(get(&b, "/api/changes?since=0"));
    let b_ids: Vec<&str> = b_feed["courses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(b_ids, vec!["b9"]);
    assert_eq!(b_feed["deleted"], json!(["b1", "b2", "b3"]));
    assert_eq!(b_feed["rev"], 7);
    // A revision of B's is "ahead" for A, not a shared point in one history.
    assert_eq!(get(&a, "/api/changes?since=7").status, 409);

    // If-Match against the collection is checked against the owner's revision.
    let r = handle(
        &a,
        Request::new("POST", "/api/courses")
            .with_header("if-match", "\"7\"")
            .with_json(&json!([])),
    );
    assert_eq!(r.status, 412);
    assert_eq!(titles(&a).len(), 2);
}

#[test]
fn settings_are_per_owner() {
    let base = store();
    let (a, b) = (Library::new(&base, A), Library::new(&base, B));
    ok(send(
        &a,
        "POST",
        "/api/settings/monthly_goal",
        json!({"value": 5}),
    ));
    let a_tag = get(&a, "/api/settings").header("etag").map(str::to_owned);
    ok(send(
        &b,
        "POST",
        "/api/settings/theme",
        json!({"value": "dark"}),
    ));

    assert_eq!(ok(get(&a, "/api/settings")), json!({"monthly_goal": 5}));
    assert_eq!(
        ok(get(&b, "/api/settings")),
        json!({"monthly_goal": 2, "theme": "dark"})
    );
    assert_eq!(get(&a, "/api/settings/theme").status, 404);
    assert_eq!(
        get(&a, "/api/settings").header("etag").map(str::to_owned),
        a_tag
    );

    ok(handle(&b, Request::new("DELETE", "/api/settings/theme")));
    assert_eq!(ok(get(&a, "/api/settings/monthly_goal"))["value"], 5);
}

fn activity(b: &impl Backend, limit: usize) -> Vec<Json> {
    ok(get(b, &format!("/api/activity?limit={limit}")))["entries"]
        .as_array()
        .cloned()
        .expect("entries")
}

#[test]
fn activity_is_listed_numbered_and_pruned_per_owner() {
    let base = store();
    let (a, b) = (Library::new(&base, A), Library::new(&base, B));
    ok(send(&a, "PUT", "/api/courses/a1", json!({"title": "A1"})));
    ok(send(
        &a,
        "PATCH",
        "/api/courses/a1",
        json!({"completionRatio": 30}),
    ));
    ok(send(&b, "PUT", "/api/courses/b1", json!({"title": "B1"})));

    let a_log = activity(&a, 100);
    let kinds: Vec<(&str, i64)> = a_log
        .iter()
        .map(|e| {
            (
                e["courseId"].as_str().unwrap_or(""),
                e["id"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    // Created, then progress and status (Pending to In Progress).
    assert_eq!(kinds, vec![("a1", 3), ("a1", 2), ("a1", 1)]);
    // B's first entry is B's number 1: it says nothing about how much A did.
    let b_log = activity(&b, 100);
    assert_eq!(b_log.len(), 1);
    assert_eq!(
        (b_log[0]["courseId"].clone(), b_log[0]["id"].clone()),
        (json!("b1"), json!(1))
    );

    // More than the log keeps, all B's: A's entries stay, B keeps its newest.
    let many: Vec<Json> = (0..10_001)
        .map(|i| json!({"id": format!("m{i}"), "title": "M"}))
        .collect();
    ok(send(&b, "POST", "/api/courses", Json::Array(many)));
    assert_eq!(activity(&a, 100), a_log);
    let b_log = activity(&b, 1000);
    // b1 created, 10,001 created, b1 deleted.
    assert_eq!(b_log[0]["id"], 10_003);
    let kept: i64 = base
        .connection()
        .query_row("SELECT count(*) FROM activity WHERE owner = ?", [B], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kept, 10_000);
}

#[test]
fn export_import_and_replace_all_touch_only_their_owner() {
    let base = store();
    let (a, b) = (Library::new(&base, A), Library::new(&base, B));
    ok(send(
        &a,
        "PUT",
        "/api/courses/shared",
        json!({"title": "A shared"}),
    ));
    ok(send(
        &a,
        "PUT",
        "/api/courses/a-only",
        json!({"title": "A only"}),
    ));
    ok(send(
        &a,
        "POST",
        "/api/settings/monthly_goal",
        json!({"value": 7}),
    ));
    ok(send(
        &b,
        "PUT",
        "/api/courses/shared",
        json!({"title": "B shared"}),
    ));

    let backup = ok(get(&a, "/api/export"));
    assert_eq!(backup["courses"].as_array().map(Vec::len), Some(2));
    assert_eq!(backup["rev"], 2);
    assert_eq!(backup["settings"]["monthly_goal"], 7);
    let csv = String::from_utf8(get(&b, "/api/export.csv").body).unwrap();
    assert!(csv.contains("B shared") && !csv.contains("A only"), "{csv}");

    // A's backup restored into B: B's own "shared" is replaced, A's is not touched.
    let a_before = (etag(&a), titles(&a));
    let report = ok(send(&b, "POST", "/api/import", backup));
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        titles(&b),
        vec![pair("shared", "A shared"), pair("a-only", "A only")]
    );
    assert_eq!(ok(get(&b, "/api/settings/monthly_goal"))["value"], 7);
    assert_eq!((etag(&a), titles(&a)), a_before);

    // Replacing B's whole list with nothing leaves A's list as it was.
    let summary = ok(send(&b, "POST", "/api/courses", json!([])));
    assert_eq!(summary["deleted"], 2);
    assert!(titles(&b).is_empty());
    assert_eq!((etag(&a), titles(&a)), a_before);
    let a_after = ok(get(&a, "/api/changes?since=0"));
    assert_eq!(a_after["deleted"], json!([]));
}

fn feed(b: &impl Backend, token: &str) -> Response {
    get(b, &format!("/api/calendar.ics?token={token}"))
}

#[test]
fn calendar_feed_tokens_name_and_open_one_owners_feed() {
    let base = store();
    let (a, b) = (Library::new(&base, A), Library::new(&base, B));
    ok(send(
        &a,
        "PUT",
        "/api/courses/c1",
        json!({"title": "A deadline", "deadline": "2030-01-02"}),
    ));
    ok(send(
        &b,
        "PUT",
        "/api/courses/c1",
        json!({"title": "B deadline", "deadline": "2030-03-04"}),
    ));
    let a_token = ok(send(&a, "POST", "/api/calendar/token", json!({})))["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let b_token = ok(send(&b, "POST", "/api/calendar/token", json!({})))["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(
        a_token.starts_with("1.") && b_token.starts_with("2."),
        "{a_token} {b_token}"
    );

    // The feed is reached without signing in, on the host's backend: the token
    // picks the library.
    let a_feed = String::from_utf8(feed(&base, &a_token).body).unwrap();
    assert!(
        a_feed.contains("A deadline") && !a_feed.contains("B deadline"),
        "{a_feed}"
    );
    let b_feed = String::from_utf8(feed(&base, &b_token).body).unwrap();
    assert!(
        b_feed.contains("B deadline") && !b_feed.contains("A deadline"),
        "{b_feed}"
    );

    // The random part under another owner's number opens nothing.
    let (_, a_random) = a_token.split_once('.').unwrap();
    for wrong in [
        format!("2.{a_random}"),
        format!("x.{a_random}"),
        a_random.to_owned(),
    ] {
        let r = feed(&base, &wrong);
        assert_eq!(r.status, 404, "{wrong}");
        assert_eq!(r.json_body()["error"]["code"], "not_found");
    }

    // Revoking B's link leaves A's working, and each owner sees only its own state.
    ok(handle(&b, Request::new("DELETE", "/api/calendar/token")));
    assert_eq!(feed(&base, &b_token).status, 404);
    assert_eq!(feed(&base, &a_token).status, 200);
    assert_eq!(ok(get(&a, "/api/calendar/token"))["active"], true);
    assert_eq!(ok(get(&b, "/api/calendar/token"))["active"], false);
}

#[test]
fn a_feed_token_made_before_accounts_still_opens_the_first_owners_feed() {
    use sha2::{Digest, Sha256};
    let base = store();
    ok(send(
        &base,
        "PUT",
        "/api/courses/c1",
        json!({"title": "Old link", "deadline": "2030-01-02"}),
    ));
    // What a build before accounts stored: 64 hex digits, no owner part.
    let token = "ab".repeat(32);
    let digest: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let record = json!({"sha256": digest, "createdAt": "2026-01-01T00:00:00.000Z"});
    base.kv_set("@calendar-feed-token", record.to_string().as_bytes())
        .unwrap();
    let r = feed(&base, &token);
    assert_eq!(r.status, 200);
    assert!(String::from_utf8(r.body).unwrap().contains("Old link"));
    assert_eq!(feed(&base, &format!("1.{token}")).status, 404);
}

/// The schema as builds before accounts left it (versions 1 and 2, SQLite),
/// written out here because store.rs only keeps the steps to migrate it.
const SCHEMA_2: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE courses (
    id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL, category TEXT NOT NULL DEFAULT '',
    date TEXT, notes TEXT NOT NULL DEFAULT '', completion_ratio INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'Pending', is_favorite INTEGER NOT NULL DEFAULT 0,
    total_lessons INTEGER NOT NULL DEFAULT 0, completed_lessons INTEGER NOT NULL DEFAULT 0,
    deadline TEXT, sort_order INTEGER NOT NULL DEFAULT 0,
    pinned_to_dashboard INTEGER NOT NULL DEFAULT 0, is_archived INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    completed_at TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX courses_by_rev ON courses (rev);
CREATE TABLE activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, rev INTEGER NOT NULL,
    course_id TEXT NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}');
CREATE TABLE collection_cache (
    id INTEGER PRIMARY KEY CHECK (id = 1), rev INTEGER NOT NULL, producer TEXT NOT NULL,
    body TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('rev', 5), ('min_compatible_schema', 1);
PRAGMA user_version = 2;
";

const T: &str = "2026-01-01T00:00:00.000Z";

#[test]
fn a_schema_2_library_becomes_the_first_owners_with_its_history() {
    let base = store();
    let c = base.connection();
    c.execute_batch(SCHEMA_2).unwrap();
    for (id, title, rev, deleted) in [
        ("c1", "One", 3, 0),
        ("c2", "Gone", 4, 1),
        ("c3", "Three", 5, 0),
    ] {
        c.execute(
            "INSERT INTO courses (id, title, rev, created_at, updated_at, deleted, sort_order) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            rusqlite::params![id, title, rev, T, T, deleted, rev],
        )
        .unwrap();
    }
    // Ids with a gap, as pruning leaves them.
    for (id, rev, course, kind) in [
        (7, 3, "c1", "created"),
        (8, 4, "c2", "deleted"),
        (12, 5, "c3", "created"),
    ] {
        c.execute(
            "INSERT INTO activity (id, at, rev, course_id, title, kind) VALUES (?, ?, ?, ?, 't', ?)",
            rusqlite::params![id, T, rev, course, kind],
        )
        .unwrap();
    }
    c.execute(
        "INSERT INTO collection_cache (id, rev, producer, body) VALUES (1, 5, 'old build', '[]')",
        [],
    )
    .unwrap();
    base.kv_set("monthly_goal", b"4").unwrap();

    // The first request migrates.
    assert_eq!(etag(&base), "\"5\"");
    let (version, floor): (i64, i64) = (
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap(),
        c.query_row(
            "SELECT value FROM meta WHERE key = 'min_compatible_schema'",
            [],
            |r| r.get(0),
        )
        .unwrap(),
    );
    assert_eq!((version, floor), (skilltrack_api::store::SCHEMA_VERSION, 3));
    let rows: Vec<(i64, String, i64, i64)> = c
        .prepare("SELECT owner, id, rev, deleted FROM courses ORDER BY rev")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let own = |id: &str, rev, deleted| (A, id.to_owned(), rev, deleted);
    assert_eq!(
        rows,
        vec![own("c1", 3, 0), own("c2", 4, 1), own("c3", 5, 0)]
    );
    let libraries: Vec<(i64, i64)> = c
        .prepare("SELECT owner, rev FROM libraries")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(libraries, vec![(A, 5)]);
    let log: Vec<(i64, i64, i64)> = c
        .prepare("SELECT owner, seq, rev FROM activity ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(log, vec![(A, 7, 3), (A, 8, 4), (A, 12, 5)]);

    // Clients see the same library and history.
    assert_eq!(titles(&base), vec![pair("c1", "One"), pair("c3", "Three")]);
    let feed = ok(get(&base, "/api/changes?since=0"));
    assert_eq!(
        (feed["rev"].clone(), feed["deleted"].clone()),
        (json!(5), json!(["c2"]))
    );
    let ids: Vec<i64> = activity(&base, 10)
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![12, 8, 7]);
    assert_eq!(ok(get(&base, "/api/settings/monthly_goal"))["value"], 4);

    // Writes continue the history; another owner starts empty.
    assert_eq!(
        ok(send(
            &base,
            "PATCH",
            "/api/courses/c1",
            json!({"title": "Uno"})
        ))["rev"],
        6
    );
    assert_eq!(activity(&base, 1)[0]["id"], 13);
    let b = Library::new(&base, B);
    assert!(titles(&b).is_empty());
    assert_eq!(etag(&b), "\"0\"");
    assert_eq!(ok(get(&b, "/api/settings/monthly_goal"))["value"], 2);
}

#[test]
fn erasing_a_library_removes_all_of_it_and_nothing_else() {
    let base = store();
    let (a, b) = (Library::new(&base, A), Library::new(&base, B));
    for lib in [&a, &b] {
        ok(send(
            lib,
            "PUT",
            "/api/courses/c1",
            json!({"title": "Same id", "deadline": "2030-01-01"}),
        ));
        ok(send(
            lib,
            "PUT",
            "/api/courses/c2",
            json!({"title": "Gone"}),
        ));
        ok(handle(lib, Request::new("DELETE", "/api/courses/c2")));
        ok(send(
            lib,
            "POST",
            "/api/settings/theme",
            json!({"value": "dark"}),
        ));
        ok(send(lib, "POST", "/api/calendar/token", json!({})));
        get(lib, "/api/courses");
    }
    let a_before = (
        ok(get(&a, "/api/export"))["courses"].clone(),
        ok(get(&a, "/api/changes?since=0")),
        activity(&a, 100),
        ok(get(&a, "/api/settings")),
        etag(&a),
    );

    skilltrack_api::store::erase_library(&b).expect("erased");
    let left = |table: &str| -> i64 {
        base.connection()
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE owner = ?"),
                [B],
                |r| r.get(0),
            )
            .unwrap()
    };
    for table in ["courses", "activity", "collection_cache", "libraries"] {
        assert_eq!(left(table), 0, "{table}");
    }
    assert!(b.kv_keys().unwrap().is_empty());
    assert!(titles(&b).is_empty());
    assert_eq!(ok(get(&b, "/api/calendar/token"))["active"], false);

    let a_after = (
        ok(get(&a, "/api/export"))["courses"].clone(),
        ok(get(&a, "/api/changes?since=0")),
        activity(&a, 100),
        ok(get(&a, "/api/settings")),
        etag(&a),
    );
    assert_eq!(a_after, a_before);
    assert_eq!(ok(get(&a, "/api/calendar/token"))["active"], true);
}
