//! Moving a single-node SQLite instance to PostgreSQL with
//! `POST /api/store/move-from-sqlite`, as docs/operations.md tells an operator to:
//! the same data dir, restarted with `database_url` set, then the move. Every course
//! keeps its revision, tombstones and the activity log come along, settings and the
//! calendar feed token too, and clients keep syncing from the revision they had.
//! Every owner's library comes along, each with its own revisions.

use integration::postgres;
use integration::suite::{Api, course, error_of, fixture, rev_of};
use integration::targets::host::{HostClient, start_api};
use integration::targets::spin_variable_env;
use integration::{HostOptions, Resp};
use serde_json::{Value as Json, json};
use skilltrack_api::library::Library;
use skilltrack_api::native::NativeBackend;
use skilltrack_api::{Request, handle};

const MOVE: &str = "/api/store/move-from-sqlite";

/// Everything a client can see of a library.
fn snapshot(api: &Api<HostClient>) -> Json {
    let ok = |r: Resp| {
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    let feed = ok(api.get("/api/changes?since=0&limit=1000"));
    json!({
        "courses": ok(api.get("/api/courses")),
        "feed": feed,
        "activity": ok(api.get("/api/activity?limit=1000")),
        "settings": ok(api.get("/api/settings")),
        "rev": feed["rev"],
    })
}

#[test]
fn a_sqlite_instance_moves_to_postgres_with_its_whole_history() {
    let Some(pg) = postgres::shared() else {
        eprintln!("skipped: PostgreSQL not found (`make deps` installs it)");
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let opts = |env: Vec<(String, String)>| HostOptions {
        data_dir: Some(data.path().to_path_buf()),
        env,
        ..HostOptions::default()
    };

    // A lived-in single-node library.
    let mut old = start_api(opts(Vec::new()));
    let imported = old.import_csv(fixture().as_bytes(), "");
    assert_eq!(imported.status, 200, "{}", imported.text());
    let r = old.patch("/api/courses/6716873", &json!({"completionRatio": 40}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(old.delete("/api/courses/6716871").status, 200);
    assert_eq!(
        old.put("/api/settings/monthly_goal", &json!({"value": 7}))
            .status,
        200
    );
    assert_eq!(
        old.put("/api/settings/theme", &json!({"value": "light"}))
            .status,
        200
    );
    let token = old.post("/api/calendar/token", &json!({}));
    assert_eq!(token.status, 201, "{}", token.text());
    let feed_path = token.json()["path"].as_str().expect("path").to_owned();
    let before = snapshot(&old);
    let refused = old.post(MOVE, &json!({}));
    assert_eq!(
        error_of(&refused).1,
        "not_on_postgres",
        "{}",
        refused.text()
    );
    old.client.host.stop();

    // A second owner's library in the same files, as accounts will make one: the
    // same course id as the first owner's, a tombstone, a setting, a feed link.
    let second_feed = {
        let files = NativeBackend::open_dir(data.path()).expect("the data dir");
        let second = Library::new(&files, 2);
        let send = |method: &str, path: &str, body: Json| {
            let r = handle(&second, Request::new(method, path).with_json(&body));
            assert!(r.status < 300, "{method} {path}: {}", r.json_body());
            r.json_body()
        };
        send(
            "PUT",
            "/api/courses/6716873",
            json!({"title": "Second owner", "deadline": "2030-05-06"}),
        );
        send("PUT", "/api/courses/gone", json!({"title": "Gone"}));
        send("DELETE", "/api/courses/gone", json!({}));
        send("POST", "/api/settings/monthly_goal", json!({"value": 3}));
        let link = send("POST", "/api/calendar/token", json!({}));
        link["path"].as_str().expect("path").to_owned()
    };

    // The same data dir, now with a database.
    let url = pg.create_database();
    let host = pg.host_entry();
    let env = spin_variable_env(&[("database_url", &url), ("database_host", &host)]);
    let moved_api = start_api(opts(env.clone()));
    let moved = moved_api.post(MOVE, &json!({}));
    assert_eq!(moved.status, 200, "{}", moved.text());
    let report = &moved.json()["moved"];
    assert_eq!(report["courses"], 271 + 1);
    assert_eq!(report["tombstones"], 1 + 1);
    assert_eq!(report["rev"], before["rev"]);
    assert_eq!(report["libraries"], 2);
    // The second owner: created twice, deleted once.
    let second_activity = 3;
    assert_eq!(
        report["activity"].as_u64(),
        Some(
            before["activity"]["entries"]
                .as_array()
                .expect("entries")
                .len() as u64
                + second_activity
        )
    );
    assert_eq!(
        pg.psql_in(
            &url,
            "SELECT owner || ':' || rev FROM libraries ORDER BY owner"
        ),
        format!("1:{}\n2:3", before["rev"])
    );
    assert_eq!(
        pg.psql_in(&url, "SELECT count(*) FROM activity WHERE owner = 2"),
        second_activity.to_string()
    );

    // Any replica, even one with no SQLite data at all, serves the moved library.
    let replica = start_api(HostOptions {
        env,
        ..HostOptions::default()
    });
    for api in [&moved_api, &replica] {
        assert_eq!(
            snapshot(api),
            before,
            "the library is the same, revisions and all"
        );
        let feed = api.get(&feed_path);
        assert_eq!(feed.status, 200, "the calendar link still works");
        assert!(!feed.text().contains("Second owner"));
        let feed = api.get(&second_feed);
        assert_eq!(feed.status, 200, "the second owner's link works too");
        assert!(feed.text().contains("Second owner"), "{}", feed.text());
        let poll = api.get(&format!("/api/changes?since={}", before["rev"]));
        assert_eq!(
            poll.json()["courses"],
            json!([]),
            "nothing new for an up-to-date client"
        );
    }

    // Writes continue the history: the next revision, the next activity entry.
    let next = replica.put("/api/courses/new-1", &course("new-1", "After the move"));
    assert_eq!(next.status, 201, "{}", next.text());
    assert_eq!(rev_of(&next), before["rev"].as_i64().expect("rev") + 1);
    let newest = &replica.get("/api/activity?limit=1").json()["entries"][0];
    let last_before = before["activity"]["entries"][0]["id"].as_i64().expect("id");
    assert_eq!(newest["courseId"], "new-1");
    assert!(newest["id"].as_i64().expect("id") > last_before);

    // A second move finds the database in use and changes nothing.
    let again = moved_api.post(MOVE, &json!({}));
    assert_eq!(error_of(&again).0, 409);
    assert_eq!(error_of(&again).1, "target_not_empty", "{}", again.text());
    assert_eq!(
        rev_of(&replica.get("/api/changes?since=0")),
        before["rev"].as_i64().expect("rev") + 1
    );
}
