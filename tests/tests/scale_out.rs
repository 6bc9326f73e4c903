//! Scale-out: several tracker-host replicas serving the API in PostgreSQL mode from
//! one real PostgreSQL database, over real HTTP. Any replica answers any request,
//! the change feed stays exact with writers on every replica, a replica killed
//! mid-write loses nothing it acknowledged, and a database outage is a prompt 503
//! that heals without a restart. With accounts, a session and the sign-in throttle
//! made on one replica hold on every other.

use integration::postgres::{self, Postgres};
use integration::suite::{Api, course, rev_of};
use integration::targets::host::{HostClient, start_api};
use integration::targets::spin_variable_env;
use integration::{HostOptions, Resp};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `n` replicas on a new database of `pg`.
fn replicas(pg: &Postgres, n: usize) -> Vec<Api<HostClient>> {
    replicas_with(pg, n, &[])
}

/// `n` replicas on a new database of `pg`, with more Spin variables.
fn replicas_with(pg: &Postgres, n: usize, more: &[(&str, &str)]) -> Vec<Api<HostClient>> {
    let url = pg.create_database();
    let host = pg.host_entry();
    let mut variables = vec![
        ("database_url", url.as_str()),
        ("database_host", host.as_str()),
    ];
    variables.extend_from_slice(more);
    let env = spin_variable_env(&variables);
    (0..n)
        .map(|_| {
            start_api(HostOptions {
                env: env.clone(),
                ..HostOptions::default()
            })
        })
        .collect()
}

fn shared_pg() -> Option<&'static Postgres> {
    let pg = postgres::shared();
    if pg.is_none() {
        eprintln!("skipped: PostgreSQL not found (`make deps` installs it)");
    }
    pg
}

/// A client that follows the change feed from 0, as the browser app does: every
/// page from `since`, keeping the newest copy of each course.
struct Follower {
    since: i64,
    state: BTreeMap<String, Json>,
}

impl Follower {
    fn new() -> Self {
        Self {
            since: 0,
            state: BTreeMap::new(),
        }
    }

    fn poll(&mut self, api: &Api<HostClient>) {
        loop {
            let r = api.get(&format!("/api/changes?since={}&limit=50", self.since));
            assert_eq!(r.status, 200, "{}", r.text());
            let feed = r.json();
            let mut last = self.since;
            for c in feed["courses"].as_array().expect("courses") {
                let rev = c["rev"].as_i64().expect("rev");
                assert!(rev > last, "the feed runs in revision order");
                last = rev;
                self.state
                    .insert(c["id"].as_str().expect("id").to_owned(), c.clone());
            }
            for id in feed["deleted"].as_array().expect("deleted") {
                self.state.remove(id.as_str().expect("id"));
            }
            self.since = feed["rev"].as_i64().expect("rev");
            if !feed["more"].as_bool().expect("more") {
                return;
            }
        }
    }
}

fn by_id(list: &[Json]) -> BTreeMap<String, Json> {
    list.iter()
        .map(|c| (c["id"].as_str().expect("id").to_owned(), c.clone()))
        .collect()
}

#[test]
fn writers_on_three_replicas_and_a_follower_on_another_all_converge() {
    let Some(pg) = shared_pg() else { return };
    let apis = Arc::new(replicas(pg, 3));
    let done = Arc::new(AtomicBool::new(false));

    // Followers poll through each replica while the writes go on: if a revision
    // could commit after a higher one was visible, a follower past it would never
    // see it, and would end up behind the collection.
    let followers: Vec<_> = (0..3)
        .map(|i| {
            let (apis, done) = (apis.clone(), done.clone());
            std::thread::spawn(move || {
                let mut f = Follower::new();
                while !done.load(Ordering::Relaxed) {
                    f.poll(&apis[i]);
                }
                f.poll(&apis[i]);
                f
            })
        })
        .collect();

    // Four writers, each request to the next replica round-robin; some courses
    // are written by every writer, so writes to one row race across replicas.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (apis, acknowledged) = (apis.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for i in 0..30 {
                    let api = &apis[(w + i) % 3];
                    let id = if i % 3 == 0 {
                        format!("shared-{}", i % 4)
                    } else {
                        format!("w{w}-{i}")
                    };
                    let r = api.put(
                        &format!("/api/courses/{id}"),
                        &course(&id, &format!("writer {w} write {i}")),
                    );
                    assert!(
                        matches!(r.status, 200 | 201),
                        "write {i} of writer {w}: {} {}",
                        r.status,
                        r.text()
                    );
                    acknowledged.lock().expect("lock").push((id, rev_of(&r)));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    done.store(true, Ordering::Relaxed);
    let followers: Vec<Follower> = followers
        .into_iter()
        .map(|f| f.join().expect("follower"))
        .collect();

    let collection = by_id(&apis[0].course_list());
    for (i, api) in apis.iter().enumerate() {
        assert_eq!(
            by_id(&api.course_list()),
            collection,
            "replica {i} serves the same collection"
        );
        assert_eq!(
            api.replay(7),
            collection,
            "replaying replica {i}'s feed from 0 gives the collection"
        );
    }
    for (i, f) in followers.iter().enumerate() {
        assert_eq!(
            f.state, collection,
            "the follower on replica {i} missed nothing"
        );
    }
    // Every acknowledged write is there, at its revision or a later one.
    let acknowledged = acknowledged.lock().expect("lock");
    assert_eq!(acknowledged.len(), 120);
    let mut revs: Vec<i64> = acknowledged.iter().map(|(_, rev)| *rev).collect();
    revs.sort_unstable();
    revs.dedup();
    assert_eq!(revs.len(), 120, "each write got a revision of its own");
    for (id, rev) in acknowledged.iter() {
        let stored = collection[id]["rev"].as_i64().expect("rev");
        assert!(
            stored >= *rev,
            "{id}: stored rev {stored} < acknowledged {rev}"
        );
    }
}

#[test]
fn two_devices_syncing_through_different_replicas_converge() {
    let Some(pg) = shared_pg() else { return };
    let apis = replicas(pg, 2);
    let created = apis[0].put("/api/courses/c1", &course("c1", "Rust"));
    assert_eq!(created.status, 201, "{}", created.text());
    let base = rev_of(&created).to_string();
    let tag = format!("\"{base}\"");

    // Both devices edit from the same base, each through its own replica.
    let a = apis[0].json_with(
        "PATCH",
        "/api/courses/c1",
        &json!({"notes": "from the phone"}),
        &[("if-match", &tag)],
    );
    assert_eq!(a.status, 200, "{}", a.text());
    let b = apis[1].json_with(
        "PATCH",
        "/api/courses/c1",
        &json!({"completedLessons": 3, "totalLessons": 10}),
        &[("if-match", &tag)],
    );
    assert!(
        matches!(b.status, 200 | 412),
        "a concurrent edit merges or is refused with the server copy: {} {}",
        b.status,
        b.text()
    );
    if b.status == 412 {
        let current = b.json()["current"]["rev"].as_i64().expect("server copy");
        let retry = apis[1].json_with(
            "PATCH",
            "/api/courses/c1",
            &json!({"completedLessons": 3, "totalLessons": 10}),
            &[("if-match", &format!("\"{current}\""))],
        );
        assert_eq!(retry.status, 200, "{}", retry.text());
    }
    let one = by_id(&apis[0].course_list());
    assert_eq!(one, by_id(&apis[1].course_list()));
    assert_eq!(one["c1"]["notes"], "from the phone");
    assert_eq!(one["c1"]["completedLessons"], 3);
    // Settings are shared too: one database holds them.
    let set = apis[1].put("/api/settings/monthly_goal", &json!({"value": 5}));
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(apis[0].get("/api/settings/monthly_goal").json()["value"], 5);
}

#[test]
fn a_replica_killed_during_writes_loses_no_acknowledged_write() {
    let Some(pg) = shared_pg() else { return };
    let apis = Arc::new(Mutex::new(replicas(pg, 3)));
    let hosts: Vec<_> = {
        let apis = apis.lock().expect("lock");
        apis.iter().map(|a| a.client.host.url("")).collect()
    };
    // Writers on every replica at once; replica 0 is killed (SIGKILL) while they run.
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let hosts = hosts.clone();
            std::thread::spawn(move || {
                let agent = integration::http_agent();
                let (mut acknowledged, mut unanswered) = (Vec::new(), 0);
                for i in 0..150 {
                    let id = format!("c{}", (w * 7 + i) % 20);
                    let title = format!("w{w} v{i}");
                    let body = serde_json::to_vec(&course(&id, &title)).expect("json");
                    let answer = integration::send_request(
                        &agent,
                        "PUT",
                        &format!("{}/api/courses/{id}", hosts[(w + i) % 3]),
                        &[("content-type", "application/json")],
                        Some(&body),
                    );
                    // No answer (the killed replica) is no acknowledgement.
                    match answer {
                        Ok(r) if matches!(r.status, 200 | 201) => {
                            acknowledged.push((id, rev_of(&r), title));
                        }
                        // "Not now, retry" is an honest answer too (the write did
                        // not happen); anything else is a failure.
                        Ok(r) if r.status == 503 && r.header("retry-after").is_some() => {
                            eprintln!("503 during the kill: {}", r.text());
                        }
                        Ok(r) => panic!("{} {}", r.status, r.text()),
                        Err(_) => unanswered += 1,
                    }
                }
                (acknowledged, unanswered)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    apis.lock().expect("lock")[0].client.host.kill();
    let (mut acknowledged, mut unanswered) = (Vec::new(), 0);
    for w in writers {
        let (a, u) = w.join().expect("writer");
        acknowledged.extend(a);
        unanswered += u;
    }
    assert!(unanswered > 0, "the kill landed while the writes went on");
    assert!(
        acknowledged.len() >= 300,
        "the survivors kept acknowledging"
    );

    let mut apis = apis.lock().expect("lock");
    for api in &apis[1..] {
        let stored = by_id(&api.course_list());
        for (id, rev, title) in &acknowledged {
            let c = &stored[id];
            let stored_rev = c["rev"].as_i64().expect("rev");
            assert!(
                stored_rev >= *rev,
                "{id}: rev {stored_rev} < acknowledged {rev}"
            );
            if stored_rev == *rev {
                assert_eq!(c["title"], title.as_str(), "{id} at rev {rev}");
            }
        }
        assert_eq!(api.replay(9), stored, "the feed agrees with the collection");
    }
    // The killed replica comes back on the same database and serves it all.
    apis[0].client.host.start_again();
    assert_eq!(by_id(&apis[0].course_list()), by_id(&apis[1].course_list()));
}

/// Waits until `f` answers `Some`, up to `limit`.
fn eventually<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "gave up after {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn send(api: &Api<HostClient>, method: &str, path: &str) -> Resp {
    api.request(method, path, &[], None)
}

#[test]
fn a_database_outage_is_a_503_with_retry_after_and_heals_without_a_restart() {
    // A server of its own: this test stops it.
    let Some(pg) = Postgres::start() else {
        eprintln!("skipped: PostgreSQL not found (`make deps` installs it)");
        return;
    };
    let apis = replicas(&pg, 2);
    let created = apis[0].put("/api/courses/c1", &course("c1", "Kept"));
    assert_eq!(created.status, 201, "{}", created.text());

    pg.stop();
    for api in &apis {
        for path in ["/api/courses", "/api/settings", "/health/ready"] {
            let r = send(api, "GET", path);
            assert_eq!(r.status, 503, "{path}: {}", r.text());
            assert!(r.header("retry-after").is_some(), "{path}: no Retry-After");
            assert_eq!(
                r.json()["error"]["code"],
                "database_unavailable",
                "{path}: {}",
                r.text()
            );
            assert!(
                !r.text().contains("postgres://"),
                "the database URL (it may hold a password) never reaches a client"
            );
        }
        let w = api.put("/api/courses/c2", &course("c2", "Lost?"));
        assert_eq!(w.status, 503, "{}", w.text());
        // Liveness does not depend on the database: the pod is not restarted.
        assert_eq!(send(api, "GET", "/health").status, 200);
    }

    pg.start_again();
    for api in &apis {
        eventually(Duration::from_secs(30), || {
            (send(api, "GET", "/health/ready").status == 200).then_some(())
        });
        let list = by_id(&api.course_list());
        assert_eq!(
            list.keys().collect::<Vec<_>>(),
            ["c1"],
            "nothing lost, nothing half-written"
        );
    }
    let w = apis[1].put("/api/courses/c2", &course("c2", "After"));
    assert_eq!(w.status, 201, "{}", w.text());
}

/// One request as a browser page of the app sends it, with the session cookie.
fn as_person(
    api: &Api<HostClient>,
    cookie: &str,
    method: &str,
    path: &str,
    body: Option<&Json>,
) -> Resp {
    let bytes = body.map(Json::to_string);
    let mut headers = vec![("cookie", cookie), ("sec-fetch-site", "same-origin")];
    if bytes.is_some() {
        headers.push(("content-type", "application/json"));
    }
    api.raw(method, path, &headers, bytes.as_deref().map(str::as_bytes))
}

fn sign_in(api: &Api<HostClient>, username: &str, password: &str) -> Resp {
    let body = json!({"username": username, "password": password}).to_string();
    api.raw(
        "POST",
        "/api/auth/sign-in",
        &[("content-type", "application/json")],
        Some(body.as_bytes()),
    )
}

#[test]
fn sessions_and_the_sign_in_throttle_hold_across_replicas() {
    let Some(pg) = shared_pg() else { return };
    let fleet = replicas_with(pg, 2, &[("auth", "accounts")]);
    let (a, b) = (&fleet[0], &fleet[1]);
    let password = "replicated passphrase";
    let body = json!({"username": "ada", "password": password}).to_string();
    let setup = a.raw(
        "POST",
        "/api/auth/setup",
        &[("content-type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(setup.status, 201, "{}", setup.text());
    // The first step is taken once for the fleet, not once per replica.
    let again = b.raw(
        "POST",
        "/api/auth/setup",
        &[("content-type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(again.status, 409, "{}", again.text());
    let cookie = setup
        .header("set-cookie")
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("a session cookie");

    // A session made on one replica is good on the other, for reads and writes.
    let put = as_person(
        b,
        &cookie,
        "PUT",
        "/api/courses/c1",
        Some(&course("c1", "Rust")),
    );
    assert_eq!(put.status, 201, "{}", put.text());
    let list = as_person(a, &cookie, "GET", "/api/courses", None);
    assert_eq!(list.status, 200);
    assert_eq!(list.json()[0]["title"], "Rust");

    // Signing out on one replica ends the session on every replica.
    let out = as_person(a, &cookie, "POST", "/api/auth/sign-out", None);
    assert_eq!(out.status, 200, "{}", out.text());
    let gone = as_person(b, &cookie, "GET", "/api/courses", None);
    assert_eq!(gone.status, 401, "{}", gone.text());

    // Failures counted on one replica lock the account on the other.
    for i in 0..5 {
        let r = sign_in(if i % 2 == 0 { a } else { b }, "ada", "not the password");
        assert_eq!(r.status, 401, "attempt {i}: {}", r.text());
    }
    for replica in [a, b] {
        let r = sign_in(replica, "ada", password);
        assert_eq!(r.status, 429, "{}", r.text());
        assert!(r.header("retry-after").is_some());
    }
}
