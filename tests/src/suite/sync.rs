//! Devices syncing the way the browser app does: a local copy, writes with
//! If-Match, pulls of /api/changes, and a three-way merge on 412. No acknowledged
//! edit is ever lost; replaying the feed always rebuilds the collection.

use super::{Api, Client, Resp, Target, course, error_of, rev_of, start};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value as Json, json};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};

/// A device: the server copies it last saw (the merge base) and its cursor.
pub struct Device {
    pub base: BTreeMap<String, Json>,
    pub since: i64,
}

impl Device {
    pub fn new<C: Client>(api: &Api<C>) -> Device {
        let mut d = Device {
            base: BTreeMap::new(),
            since: 0,
        };
        d.pull(api);
        d
    }

    pub fn pull<C: Client>(&mut self, api: &Api<C>) {
        loop {
            let feed = api
                .get(&format!("/api/changes?since={}", self.since))
                .json();
            for c in feed["courses"].as_array().expect("courses") {
                self.base
                    .insert(c["id"].as_str().expect("id").to_owned(), c.clone());
            }
            for id in feed["deleted"].as_array().expect("deleted") {
                self.base.remove(id.as_str().expect("id"));
            }
            self.since = feed["rev"].as_i64().expect("rev");
            if feed["more"] == false {
                return;
            }
        }
    }

    pub fn rev(&self, id: &str) -> i64 {
        self.base[id]["rev"].as_i64().expect("rev")
    }

    /// PATCH `edit` on top of the copy this device last saw.
    pub fn edit<C: Client>(&self, api: &Api<C>, id: &str, edit: &Json) -> Resp {
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
    pub fn edit_resolving<C: Client>(&mut self, api: &Api<C>, id: &str, edit: &Json) -> Resp {
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
    for (k, v) in edit.as_object().into_iter().flatten() {
        target[k] = v.clone();
    }
}

fn strip_server_fields(c: &mut Json) {
    if let Some(o) = c.as_object_mut() {
        for k in ["rev", "createdAt", "updatedAt", "completedAt"] {
            o.remove(k);
        }
    }
}

/// Courses x and y on a fresh server, and two devices that pulled them.
pub fn seeded(t: &dyn Target) -> (Api, Device, Device) {
    let api = start(t);
    seed_two_courses(&api);
    let a = Device::new(&api);
    let b = Device::new(&api);
    (api, a, b)
}

pub fn seed_two_courses<C: Client>(api: &Api<C>) {
    for (id, title) in [("x", "X course"), ("y", "Y course")] {
        assert_eq!(
            api.put(&format!("/api/courses/{id}"), &course(id, title))
                .status,
            201
        );
    }
}

pub fn two_devices_editing_different_courses_both_land(t: &dyn Target) {
    let (api, mut a, mut b) = seeded(t);
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

pub fn same_course_different_fields_merges_both_edits(t: &dyn Target) {
    let (api, mut a, mut b) = seeded(t);
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

pub fn same_field_second_writer_gets_412_and_resolves_with_its_local_edit(t: &dyn Target) {
    let (api, mut a, mut b) = seeded(t);
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
        .expect("entries")
        .iter()
        .filter(|e| e["courseId"] == "x" && e["kind"] == "updated")
        .count();
    assert_eq!(title_edits, 2);
    a.pull(&api);
    assert_eq!(a.base["x"]["title"], "Title by B");
}

pub fn delete_on_one_device_while_the_other_edits(t: &dyn Target) {
    let (api, mut a, mut b) = seeded(t);
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

#[derive(Debug, Clone)]
enum Op {
    Put {
        id: u8,
        ratio: u8,
        title: u8,
    },
    Patch {
        id: u8,
        ratio: u8,
        fav: bool,
    },
    Delete {
        id: u8,
    },
    /// A client writes with the rev it last saw of the course (possibly stale).
    PatchSeen {
        client: u8,
        id: u8,
        ratio: u8,
    },
    NotesSeen {
        client: u8,
        id: u8,
        notes: u8,
    },
    DeleteSeen {
        client: u8,
        id: u8,
    },
    Bulk {
        ids: Vec<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..8, 0u8..=100, 0u8..4).prop_map(|(id, ratio, title)| Op::Put { id, ratio, title }),
        2 => (0u8..8, 0u8..=100, any::<bool>()).prop_map(|(id, ratio, fav)| Op::Patch { id, ratio, fav }),
        1 => (0u8..8).prop_map(|id| Op::Delete { id }),
        3 => (0u8..3, 0u8..8, 0u8..=100).prop_map(|(client, id, ratio)| Op::PatchSeen { client, id, ratio }),
        2 => (0u8..3, 0u8..8, 0u8..4).prop_map(|(client, id, notes)| Op::NotesSeen { client, id, notes }),
        2 => (0u8..3, 0u8..8).prop_map(|(client, id)| Op::DeleteSeen { client, id }),
        1 => proptest::collection::vec(0u8..8, 0..5).prop_map(|ids| Op::Bulk { ids }),
    ]
}

/// The server's revision counter: the collection's ETag.
fn current_rev(api: &Api) -> i64 {
    api.get("/api/courses")
        .header("etag")
        .and_then(|t| t.trim_matches('"').parse().ok())
        .unwrap_or_else(|| panic!("GET /api/courses has no revision ETag"))
}

fn run_ops(api: &Api, ops: &[Op], page: usize, last_rev: &Cell<i64>) -> Result<(), TestCaseError> {
    // What each client last saw of each course: its If-Match.
    let mut seen: HashMap<(u8, u8), i64> = HashMap::new();
    let tag = |seen: &HashMap<(u8, u8), i64>, client: u8, id: u8| {
        format!("\"{}\"", seen.get(&(client, id)).copied().unwrap_or(0))
    };
    for op in ops {
        let r = match op {
            Op::Put { id, ratio, title } => api.put(
                &format!("/api/courses/c{id}"),
                &json!({"title": format!("title {title}"), "completionRatio": ratio}),
            ),
            Op::Patch { id, ratio, fav } => api.patch(
                &format!("/api/courses/c{id}"),
                &json!({"completionRatio": ratio, "isFavorite": fav}),
            ),
            Op::Delete { id } => api.delete(&format!("/api/courses/c{id}")),
            Op::PatchSeen { client, id, ratio } => api.json_with(
                "PATCH",
                &format!("/api/courses/c{id}"),
                &json!({"completionRatio": ratio}),
                &[("if-match", &tag(&seen, *client, *id))],
            ),
            Op::NotesSeen { client, id, notes } => api.json_with(
                "PATCH",
                &format!("/api/courses/c{id}"),
                &json!({"notes": format!("n{notes}")}),
                &[("if-match", &tag(&seen, *client, *id))],
            ),
            Op::DeleteSeen { client, id } => api.request(
                "DELETE",
                &format!("/api/courses/c{id}"),
                &[("if-match", &tag(&seen, *client, *id))],
                None,
            ),
            Op::Bulk { ids } => {
                let mut ids = ids.clone();
                ids.sort();
                ids.dedup();
                let list: Vec<Json> = ids
                    .iter()
                    .map(|i| json!({"id": format!("c{i}"), "title": "bulk"}))
                    .collect();
                api.post("/api/courses", &Json::Array(list))
            }
        };
        prop_assert!(r.status < 500, "{op:?}: {}", r.text());
        let body: Json = serde_json::from_slice(&r.body).unwrap_or(Json::Null);
        let answered_rev = body["rev"]
            .as_i64()
            .or_else(|| body["current"]["rev"].as_i64());
        if let (
            Op::PatchSeen { client, id, .. }
            | Op::NotesSeen { client, id, .. }
            | Op::DeleteSeen { client, id },
            Some(rev),
        ) = (op, answered_rev)
        {
            seen.insert((*client, *id), rev);
        }
        let before = last_rev.get();
        let now = current_rev(api);
        prop_assert!(now >= before, "the revision counter never goes back");
        if r.status < 300
            && let Some(rev) = body["rev"].as_i64()
            && rev > before
        {
            // A write that moved the counter moved it past everything before.
            prop_assert!(
                now >= rev,
                "{op:?}: acknowledged rev {rev} above the counter {now}"
            );
        }
        last_rev.set(now);
        let feed_rev = api.get("/api/changes?since=0&limit=1000").json()["rev"]
            .as_i64()
            .unwrap_or(0);
        prop_assert!(feed_rev >= now, "the high-water mark never goes back");
    }
    prop_assert_eq!(api.replay(page), api.courses());
    let revs: Vec<i64> = api
        .replay(100)
        .values()
        .filter_map(|c| c["rev"].as_i64())
        .collect();
    let mut unique = revs.clone();
    unique.sort();
    unique.dedup();
    prop_assert_eq!(
        unique.len(),
        revs.len(),
        "every stored revision is distinct"
    );
    Ok(())
}

pub fn change_feed_replay_equals_the_collection_under_random_writes(t: &dyn Target) {
    let api = start(t);
    let last_rev = Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: t.property_cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(proptest::collection::vec(op(), 1..40), 1usize..6),
            |(ops, page)| run_ops(&api, &ops, page, &last_rev),
        )
        .unwrap_or_else(|e| panic!("{e}"));
}
