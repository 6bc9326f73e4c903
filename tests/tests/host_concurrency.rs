//! Eight clients writing and reading at once: no 5xx, nothing lost.

mod host_support;

use host_support::{build_app, course, course_ids, misbehave_app, start_misbehave};
use integration::Host;

const CLIENTS: usize = 8;
const STEPS: usize = 15;

#[test]
fn eight_clients_writing_and_reading_courses_get_no_5xx_and_lose_nothing() {
    build_app();
    let host = Host::start();
    std::thread::scope(|s| {
        for client in 0..CLIENTS {
            let host = &host;
            s.spawn(move || {
                for step in 0..STEPS {
                    let id = format!("c{client}-{step}");
                    let put = host.put_json(
                        &format!("/api/courses/{id}"),
                        &course(&id, &format!("Client {client} step {step}")),
                    );
                    assert!(
                        (200..300).contains(&put.status),
                        "PUT {id}: {} {}",
                        put.status,
                        put.text()
                    );
                    let one = host.get(&format!("/api/courses/{id}"));
                    assert_eq!(one.status, 200, "GET {id}: {}", one.text());
                    let all = host.get("/api/courses");
                    assert_eq!(all.status, 200, "GET /api/courses: {}", all.text());
                    let key = format!("client-{client}");
                    let set = host.post_json(
                        &format!("/api/settings/{key}"),
                        &serde_json::json!({ "value": step }),
                    );
                    assert!(
                        (200..300).contains(&set.status),
                        "POST setting: {} {}",
                        set.status,
                        set.text()
                    );
                    let got = host.get(&format!("/api/settings/{key}"));
                    assert_eq!(got.status, 200, "{}", got.text());
                    assert_eq!(
                        got.json()["value"],
                        serde_json::json!(step),
                        "own writes are read back"
                    );
                }
            });
        }
    });

    let mut ids = course_ids(&host);
    ids.sort();
    let mut expected: Vec<String> = (0..CLIENTS)
        .flat_map(|c| (0..STEPS).map(move |s| format!("c{c}-{s}")))
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
    for client in 0..CLIENTS {
        let got = host.get(&format!("/api/settings/client-{client}"));
        assert_eq!(got.json()["value"], serde_json::json!(STEPS - 1));
    }
}

#[test]
fn concurrent_read_modify_write_transactions_lose_no_update() {
    let app = misbehave_app("/...", "sqlite_databases = [\"default\"]");
    let host = start_misbehave(&app, "/ok", &[]);
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| {
                for _ in 0..STEPS {
                    let r = host.get("/sql/counter");
                    assert_eq!(r.status, 200, "{}", r.text());
                }
            });
        }
    });
    // One more increment reports the total.
    let last = host.get("/sql/counter");
    assert_eq!(last.text(), (CLIENTS * STEPS + 1).to_string());
}
