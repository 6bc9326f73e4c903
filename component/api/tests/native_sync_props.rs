//! Property: any interleaving of writes from several clients leaves a change
//! feed that, replayed from 0, is exactly the server's collection; revisions
//! only ever go up.

use proptest::prelude::*;
use serde_json::{Value as Json, json};
use skilltrack_api::native::NativeBackend;
use skilltrack_api::{Request, handle};
use std::collections::{BTreeMap, HashMap};

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
    /// A client writes with the rev it last saw (possibly stale).
    Conditional {
        client: u8,
        id: u8,
        notes: u8,
    },
    Bulk {
        ids: Vec<u8>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..8, 0u8..=100, 0u8..4).prop_map(|(id, ratio, title)| Op::Put { id, ratio, title }),
        (0u8..8, 0u8..=100, any::<bool>()).prop_map(|(id, ratio, fav)| Op::Patch {
            id,
            ratio,
            fav
        }),
        (0u8..8).prop_map(|id| Op::Delete { id }),
        (0u8..3, 0u8..8, 0u8..4).prop_map(|(client, id, notes)| Op::Conditional {
            client,
            id,
            notes
        }),
        proptest::collection::vec(0u8..8, 0..5).prop_map(|ids| Op::Bulk { ids }),
    ]
}

fn replay(b: &NativeBackend, page: i64) -> BTreeMap<String, Json> {
    let mut state = BTreeMap::new();
    let mut since = 0;
    loop {
        let feed = handle(
            b,
            Request::new("GET", &format!("/api/changes?since={since}&limit={page}")),
        )
        .json_body();
        for c in feed["courses"].as_array().unwrap() {
            state.insert(c["id"].as_str().unwrap().to_owned(), c.clone());
        }
        for id in feed["deleted"].as_array().unwrap() {
            state.remove(id.as_str().unwrap());
        }
        since = feed["rev"].as_i64().unwrap();
        if !feed["more"].as_bool().unwrap() {
            return state;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn change_feed_replay_equals_the_collection(ops in proptest::collection::vec(op(), 1..40), page in 1i64..6) {
        let b = NativeBackend::in_memory().unwrap();
        let mut seen: HashMap<(u8, u8), i64> = HashMap::new();
        let mut last_rev = 0;
        for op in ops {
            let resp = match op {
                Op::Put { id, ratio, title } => handle(&b, Request::new("PUT", &format!("/api/courses/c{id}"))
                    .with_json(&json!({"title": format!("t{title}"), "completionRatio": ratio}))),
                Op::Patch { id, ratio, fav } => handle(&b, Request::new("PATCH", &format!("/api/courses/c{id}"))
                    .with_json(&json!({"completionRatio": ratio, "isFavorite": fav}))),
                Op::Delete { id } => handle(&b, Request::new("DELETE", &format!("/api/courses/c{id}"))),
                Op::Conditional { client, id, notes } => {
                    let rev = seen.get(&(client, id)).copied().unwrap_or(0);
                    let r = handle(&b, Request::new("PATCH", &format!("/api/courses/c{id}"))
                        .with_json(&json!({"notes": format!("n{notes}")}))
                        .with_header("If-Match", &format!("\"{rev}\"")));
                    let current = r.json_body();
                    let rev = current["rev"].as_i64().or_else(|| current["current"]["rev"].as_i64());
                    if let Some(rev) = rev { seen.insert((client, id), rev); }
                    r
                }
                Op::Bulk { ids } => {
                    let mut ids = ids; ids.sort(); ids.dedup();
                    let list: Vec<Json> = ids.iter().map(|i| json!({"id": format!("c{i}"), "title": "bulk"})).collect();
                    handle(&b, Request::new("POST", "/api/courses").with_json(&Json::Array(list)))
                }
            };
            prop_assert!(resp.status < 500, "5xx: {:?}", resp.json_body());
            let rev = skilltrack_api::store::current_rev(&b).unwrap();
            prop_assert!(rev >= last_rev);
            if resp.status < 300 && resp.json_body()["rev"].as_i64().is_some_and(|r| r > last_rev) {
                prop_assert!(rev > last_rev);
            }
            last_rev = rev;
        }
        let server: BTreeMap<String, Json> = handle(&b, Request::new("GET", "/api/courses")).json_body()
            .as_array().unwrap().iter().map(|c| (c["id"].as_str().unwrap().to_owned(), c.clone())).collect();
        prop_assert_eq!(replay(&b, page), server);
        let revs: Vec<i64> = replay(&b, 100).values().map(|c| c["rev"].as_i64().unwrap()).collect();
        let mut unique = revs.clone(); unique.sort(); unique.dedup();
        prop_assert_eq!(unique.len(), revs.len(), "every stored revision is distinct");
    }
}
