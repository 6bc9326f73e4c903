//! API behaviour only the real host shows: surviving a kill -9, and many
//! connections writing at once. Everything else the API does is in the shared
//! suite (`suite_*.rs`).

use integration::HostOptions;
use integration::suite::sync::{Device, seed_two_courses};
use integration::suite::{course, rev_of};
use integration::targets::host::start_api;
use serde_json::json;

#[test]
fn acknowledged_writes_survive_a_host_kill() {
    let mut api = start_api(HostOptions::default());
    seed_two_courses(&api);
    let a = Device::new(&api);
    let r = a.edit(&api, "x", &json!({"completionRatio": 100}));
    assert_eq!(r.status, 200);
    api.client.host.kill();
    api.client.host.start_again();
    let x = &api.courses()["x"];
    assert_eq!(
        (x["status"].as_str(), x["rev"].as_i64()),
        (Some("Completed"), Some(rev_of(&r)))
    );
    assert_eq!(api.replay(500), api.courses());
}

#[test]
fn concurrent_writers_each_get_a_distinct_rev_and_nothing_is_lost() {
    let api = start_api(HostOptions::default());
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
