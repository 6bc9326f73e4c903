//! Two devices syncing through the real host the way the browser app does:
//! a local copy, writes with If-Match, pulls of /api/changes, and a three-way
//! merge on 412. No acknowledged edit is ever lost.

mod api_common;

use api_common::{Api, course, error_of, rev_of, start};
use integration::Resp;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// A device: the server copies it last saw (the merge base) and its cursor.
struct Device {
    base: BTreeMap<String, Json>,
    since: i64,
}

impl Device {
    fn new(api: &Api) -> Device {
        let mut d = Device {
            base: BTreeMap::new(),
            since: 0,
        };
        d.pull(api);
        d
    }

    fn pull(&mut self, api: &Api) {
        loop {
            let feed = api
                .get(&format!("/api/changes?since={}", self.since))
                .json();
            for c in feed["courses"].as_array().unwrap() {
                self.base
                    .insert(c["id"].as_str().unwrap().to_owned(), c.clone());
            }
            for id in feed["deleted"].as_array().unwrap() {
                self.base.remove(id.as_str().unwrap());
            }
            self.since = feed["rev"].as_i64().unwrap();
            if feed["more"] == false {
                return;
            }
        }
    }

    fn rev(&self, id: &str) -> i64 {
        self.base[id]["rev"].as_i64().unwrap()
    }

    /// PATCH `edit` on top of the copy this device last saw.
    fn edit(&self, api: &Api, id: &str, edit: &Json) -> Resp {
        let tag = format!("\"{}\"", self.rev(id));
        api.json_with(
            "PATCH",
            &format!("/api/courses/{id}"),
            edit,
            &[("if-match", &tag)],
        )
    }

    /// The app's conflict rule: fields changed on one side only are kept; a
    /// field changed on both sides takes the local edit. Retries until it lands.
    fn edit_resolving(&mut self, api: &Api, id: &str, edit: &Json) -> Resp {
        let mut r = self.edit(api, id, edit);
        for _ in 0..3 {
            if r.status != 412 {
                break;
            }
            let server = r.json()["current"].clone();
            if server.is_null() {
                // Deleted elsewhere: the local edit wins by recreating the course.
                let mut local = self.base[id].clone();
                merge_into(&mut local, edit);
                strip_server_fields(&mut local);
                return api.put(&format!("/api/courses/{id}"), &local);
            }
            // Three-way merge: the server copy already holds every field the
            // other side changed; re-sending only the locally edited fields on
            // top of it keeps those and lets the local edit win where both
            // sides changed the same field.
            self.base.insert(id.to_owned(), server);
            r = self.edit(api, id, edit);
        }
        r
    }
}

fn merge_into(target: &mut Json, edit: &Json) {
    for (k, v) in edit.as_object().unwrap() {
        target[k] = v.clone();
    }
}

fn strip_server_fields(c: &mut Json) {
    for k in ["rev", "createdAt", "updatedAt", "completedAt"] {
        c.as_object_mut().unwrap().remove(k);
    }
}

fn seeded() -> (Api, Device, Device) {
    let api = start();
    for (id, title) in [("x", "X course"), ("y", "Y course")] {
        assert_eq!(
            api.put(&format!("/api/courses/{id}"), &course(id, title))
                .status,
            201
        );
    }
    let a = Device::new(&api);
    let b = Device::new(&api);
    (api, a, b)
}

#[test]
fn two_devices_editing_different_courses_both_land() {
    let (api, mut a, mut b) = seeded();
    assert_eq!(a.edit(&api, "x", &json!({"notes": "from A"})).status, 200);
    assert_eq!(
        b.edit(&api, "y", &json!({"completionRatio": 30})).status,
        200
    );
    a.pull(&api);
    b.pull(&api);
    assert_eq!(a.base, b.base);
    assert_eq!(a.base, api.courses());
    assert_eq!(api.courses()["x"]["notes"], "from A");
    assert_eq!(api.courses()["y"]["completionRatio"], 30);
}

#[test]
fn same_course_different_fields_merges_both_edits() {
    let (api, mut a, mut b) = seeded();
    assert_eq!(a.edit(&api, "x", &json!({"notes": "A's note"})).status, 200);
    let first_try = b.edit(&api, "x", &json!({"completionRatio": 60}));
    assert_eq!(error_of(&first_try).0, 412, "B's copy is stale");
    assert_eq!(first_try.json()["current"]["notes"], "A's note");
    let resolved = b.edit_resolving(&api, "x", &json!({"completionRatio": 60}));
    assert_eq!(resolved.status, 200, "{}", resolved.text());
    let x = &api.courses()["x"];
    assert_eq!(
        (x["notes"].as_str(), x["completionRatio"].as_i64()),
        (Some("A's note"), Some(60))
    );
    a.pull(&api);
    b.pull(&api);
    assert_eq!(a.base, api.courses());
    assert_eq!(b.base, api.courses());
}

#[test]
fn same_field_second_writer_gets_412_and_resolves_with_its_local_edit() {
    let (api, mut a, mut b) = seeded();
    let a_write = a.edit(&api, "x", &json!({"title": "Title by A"}));
    assert_eq!(a_write.status, 200);
    let conflict = b.edit(&api, "x", &json!({"title": "Title by B"}));
    assert_eq!(error_of(&conflict).0, 412);
    assert_eq!(
        conflict.json()["current"]["title"],
        "Title by A",
        "B sees A's acknowledged edit"
    );
    assert_eq!(
        api.courses()["x"]["title"],
        "Title by A",
        "the refused write changed nothing"
    );
    let resolved = b.edit_resolving(&api, "x", &json!({"title": "Title by B"}));
    assert_eq!(resolved.status, 200);
    assert!(rev_of(&resolved) > rev_of(&a_write));
    assert_eq!(api.courses()["x"]["title"], "Title by B");
    // A's acknowledged edit is still on record.
    let log = api.get("/api/activity?limit=10").json()["entries"].clone();
    let title_edits = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["courseId"] == "x" && e["kind"] == "updated")
        .count();
    assert_eq!(title_edits, 2);
    a.pull(&api);
    assert_eq!(a.base["x"]["title"], "Title by B");
}

#[test]
fn delete_on_one_device_while_the_other_edits() {
    let (api, mut a, mut b) = seeded();
    // A deletes first: B's edit is refused (nothing acknowledged is lost), and
    // B decides to keep its work by recreating the course.
    let tag = format!("\"{}\"", a.rev("x"));
    assert_eq!(
        api.request("DELETE", "/api/courses/x", &[("if-match", &tag)], None)
            .status,
        200
    );
    let refused = b.edit(&api, "x", &json!({"notes": "B kept working"}));
    assert_eq!(error_of(&refused).0, 412);
    assert!(refused.json()["current"].is_null());
    let recreated = b.edit_resolving(&api, "x", &json!({"notes": "B kept working"}));
    assert_eq!(recreated.status, 201, "{}", recreated.text());
    assert_eq!(api.courses()["x"]["notes"], "B kept working");
    a.pull(&api);
    assert_eq!(a.base["x"]["notes"], "B kept working");

    // The other order: B edits y first, A's stale delete is refused with B's copy.
    assert_eq!(
        b.edit(&api, "y", &json!({"completionRatio": 70})).status,
        200
    );
    let tag = format!("\"{}\"", a.rev("y"));
    let stale_delete = api.request("DELETE", "/api/courses/y", &[("if-match", &tag)], None);
    assert_eq!(error_of(&stale_delete).0, 412);
    assert_eq!(stale_delete.json()["current"]["completionRatio"], 70);
    assert_eq!(api.courses()["y"]["completionRatio"], 70);
    b.pull(&api);
    assert_eq!(b.base, api.courses());
    assert_eq!(api.replay(3), api.courses());
}

#[test]
fn acknowledged_writes_survive_a_host_kill() {
    let (mut api, a, _b) = seeded();
    let r = a.edit(&api, "x", &json!({"completionRatio": 100}));
    assert_eq!(r.status, 200);
    api.host.kill();
    api.host.start_again();
    let x = &api.courses()["x"];
    assert_eq!(
        (x["status"].as_str(), x["rev"].as_i64()),
        (Some("Completed"), Some(rev_of(&r)))
    );
    assert_eq!(api.replay(500), api.courses());
}

#[test]
fn concurrent_writers_each_get_a_distinct_rev_and_nothing_is_lost() {
    let api = start();
    let revs: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let api = &api;
                s.spawn(move || {
                    (0..10)
                        .map(|i| {
                            let id = format!("t{t}-{i}");
                            let r = api.put(&format!("/api/courses/{id}"), &course(&id, "T"));
                            assert_eq!(r.status, 201, "{}", r.text());
                            rev_of(&r)
                        })
                        .collect::<Vec<i64>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("writer thread"))
            .collect()
    });
    let mut unique = revs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 40, "every acknowledged write has its own rev");
    assert_eq!(api.courses().len(), 40);
    assert_eq!(api.replay(7), api.courses());
}
