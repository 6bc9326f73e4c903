//! The change feed: pages, replay, the cursor's rules.

use super::{Target, course, error_of, start};
use serde_json::json;

pub fn change_feed_pages_replay_to_the_collection(t: &dyn Target) {
    let api = start(t);
    for i in 0..25 {
        api.put(
            &format!("/api/courses/c{i}"),
            &course(&format!("c{i}"), "T"),
        );
    }
    for i in (0..25).step_by(3) {
        api.delete(&format!("/api/courses/c{i}"));
    }
    api.patch("/api/courses/c1", &json!({"completionRatio": 55}));
    let page = api.get("/api/changes?since=0&limit=4").json();
    assert_eq!(page["more"], true);
    assert_eq!(
        page["courses"].as_array().map(Vec::len).unwrap_or_default()
            + page["deleted"].as_array().map(Vec::len).unwrap_or_default(),
        4
    );
    let (state, pages) = api.replay_counting_pages(7);
    assert!(pages > 1, "25 changes come in pages of 7");
    assert_eq!(state, api.courses());
    assert_eq!(api.replay(4), api.courses());
    assert_eq!(api.replay(1000), api.courses());
    let last = api.get("/api/changes?since=0").json()["rev"]
        .as_i64()
        .expect("rev");
    let empty = api.get(&format!("/api/changes?since={last}")).json();
    assert_eq!(
        empty,
        json!({"since": last, "rev": last, "more": false, "courses": [], "deleted": []}),
        "an up-to-date poll is empty"
    );
    assert_eq!(
        error_of(&api.get(&format!("/api/changes?since={}", last + 1))),
        (409, "since_ahead".into(), Some("since".into()))
    );
    assert_eq!(
        error_of(&api.get(&format!("/api/changes?since={}", last + 5))).1,
        "since_ahead"
    );
    assert_eq!(
        error_of(&api.get("/api/changes?since=abc")),
        (400, "invalid_field".into(), Some("since".into()))
    );
    assert_eq!(
        error_of(&api.get("/api/changes?since=-1")).2.as_deref(),
        Some("since")
    );
    assert_eq!(
        error_of(&api.get("/api/changes?limit=0")).2.as_deref(),
        Some("limit")
    );
    assert_eq!(
        error_of(&api.get("/api/changes?limit=5000")).2.as_deref(),
        Some("limit")
    );
}
