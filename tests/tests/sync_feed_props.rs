//! Property, end to end: random interleavings of writes from several clients
//! against the real host. Replaying the change feed from 0 always equals
//! GET /api/courses, and every acknowledged write carries a higher rev than
//! any before it.

mod api_common;

use api_common::{Api, start};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value as Json, json};
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Debug, Clone)]
enum Op {
    Put { id: u8, ratio: u8, title: u8 },
    Patch { client: u8, id: u8, ratio: u8 },
    Delete { client: u8, id: u8 },
    Bulk { ids: Vec<u8> },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..6, 0u8..=100, 0u8..3).prop_map(|(id, ratio, title)| Op::Put { id, ratio, title }),
        4 => (0u8..3, 0u8..6, 0u8..=100).prop_map(|(client, id, ratio)| Op::Patch { client, id, ratio }),
        2 => (0u8..3, 0u8..6).prop_map(|(client, id)| Op::Delete { client, id }),
        1 => proptest::collection::vec(0u8..6, 0..4).prop_map(|ids| Op::Bulk { ids }),
    ]
}

fn run(api: &Api, ops: &[Op], last_rev: &RefCell<i64>) -> Result<(), TestCaseError> {
    // What each client last saw of each course: its If-Match.
    let mut seen: HashMap<(u8, u8), i64> = HashMap::new();
    for op in ops {
        let r = match op {
            Op::Put { id, ratio, title } => api.put(
                &format!("/api/courses/p{id}"),
                &json!({"title": format!("title {title}"), "completionRatio": ratio}),
            ),
            Op::Patch { client, id, ratio } => {
                let tag = format!("\"{}\"", seen.get(&(*client, *id)).copied().unwrap_or(0));
                api.json_with(
                    "PATCH",
                    &format!("/api/courses/p{id}"),
                    &json!({"completionRatio": ratio}),
                    &[("if-match", &tag)],
                )
            }
            Op::Delete { client, id } => {
                let tag = format!("\"{}\"", seen.get(&(*client, *id)).copied().unwrap_or(0));
                api.request(
                    "DELETE",
                    &format!("/api/courses/p{id}"),
                    &[("if-match", &tag)],
                    None,
                )
            }
            Op::Bulk { ids } => {
                let mut ids = ids.clone();
                ids.sort();
                ids.dedup();
                let list: Vec<Json> = ids
                    .iter()
                    .map(|i| json!({"id": format!("p{i}"), "title": "bulk"}))
                    .collect();
                api.post("/api/courses", &Json::Array(list))
            }
        };
        prop_assert!(r.status < 500, "{op:?}: {}", r.text());
        let body: Json = serde_json::from_slice(&r.body).unwrap_or(Json::Null);
        if let (Op::Patch { client, id, .. } | Op::Delete { client, id }, Some(rev)) = (
            op,
            body["rev"]
                .as_i64()
                .or_else(|| body["current"]["rev"].as_i64()),
        ) {
            seen.insert((*client, *id), rev);
        }
        if r.status < 300
            && let Some(rev) = body["rev"].as_i64()
            && rev > *last_rev.borrow()
        {
            // A write that moved the counter moved it past everything before.
            *last_rev.borrow_mut() = rev;
        }
        let feed_rev = api.get("/api/changes?since=0&limit=1000").json()["rev"]
            .as_i64()
            .unwrap_or(0);
        prop_assert!(
            feed_rev >= *last_rev.borrow(),
            "the high-water mark never goes back"
        );
    }
    prop_assert_eq!(api.replay(3), api.courses());
    Ok(())
}

#[test]
fn change_feed_replay_equals_the_collection_under_random_writes() {
    let api = start();
    let last_rev = RefCell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..25), |ops| {
            run(&api, &ops, &last_rev)
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
