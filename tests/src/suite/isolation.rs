//! Accounts (`auth = accounts`): random operations by several people, interleaved,
//! never let one read, change or infer anything of another's library.
//!
//! After every operation by one person, everything the others can see of their own
//! library (courses, tombstones and revisions through the change feed, the
//! collection's and the settings' ETags, settings, activity, export, calendar feed)
//! is compared with what it was before: identical, to the byte. Every view a person
//! gets holds only their own titles. And asking for a course id that only someone
//! else holds answers exactly like an id nobody holds.

use super::{Api, Target, error_of, start_with};
use crate::Resp;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value as Json, json};
use std::cell::RefCell;

const PASSWORD: &str = "isolation-passphrase";
const PEOPLE: usize = 3;
/// Course ids come from a small shared pool, so people often hold the same id.
const IDS: u8 = 6;

/// One signed-in person, acting through a personal API token.
struct Person {
    name: String,
    bearer: String,
}

impl Person {
    fn send(&self, api: &Api, method: &str, path: &str, body: Option<&Json>) -> Resp {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("serialisable"));
        let mut headers = vec![("authorization", self.bearer.as_str())];
        if bytes.is_some() {
            headers.push(("content-type", "application/json"));
        }
        api.raw(method, path, &headers, bytes.as_deref())
    }

    fn get(&self, api: &Api, path: &str) -> Resp {
        self.send(api, "GET", path, None)
    }

    /// A title that says whose it is.
    fn title(&self, n: u8) -> String {
        format!("{}'s course {n}", self.name)
    }
}

/// The `skilltrack_session=...` pair of a response's cookie.
fn session_cookie(r: &Resp) -> String {
    let set = r
        .header("set-cookie")
        .unwrap_or_else(|| panic!("no session cookie in {} {}", r.status, r.text()));
    set.split(';').next().unwrap_or_default().trim().to_owned()
}

/// A personal API token for the person signed in with `cookie`.
fn token_for(api: &Api, name: &str, cookie: &str) -> Person {
    let r = api.raw(
        "POST",
        "/api/auth/tokens",
        &[("cookie", cookie), ("content-type", "application/json")],
        Some(br#"{"name":"isolation test"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"].as_str().expect("token").to_owned();
    Person {
        name: name.to_owned(),
        bearer: format!("Bearer {token}"),
    }
}

/// An instance with accounts, its admin and `PEOPLE - 1` invited people.
fn team(api: &Api) -> Vec<Person> {
    let json = [("content-type", "application/json")];
    let setup = api.raw(
        "POST",
        "/api/auth/setup",
        &json,
        Some(
            json!({"username": "p0", "password": PASSWORD})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(setup.status, 201, "{}", setup.text());
    let admin_cookie = session_cookie(&setup);
    let mut people = vec![token_for(api, "p0", &admin_cookie)];
    for i in 1..PEOPLE {
        let invite = api.raw(
            "POST",
            "/api/admin/invites",
            &[
                ("cookie", &admin_cookie),
                ("content-type", "application/json"),
            ],
            Some(b"{}"),
        );
        assert_eq!(invite.status, 201, "{}", invite.text());
        let token = invite.json()["token"].as_str().expect("token").to_owned();
        let name = format!("p{i}");
        let accepted = api.raw(
            "POST",
            &format!("/api/auth/invites/{token}/accept"),
            &json,
            Some(
                json!({"username": name, "password": PASSWORD})
                    .to_string()
                    .as_bytes(),
            ),
        );
        assert_eq!(accepted.status, 201, "{}", accepted.text());
        people.push(token_for(api, &name, &session_cookie(&accepted)));
    }
    people
}

#[derive(Debug, Clone)]
enum Op {
    Put { who: usize, id: u8, n: u8 },
    Patch { who: usize, id: u8, ratio: u8 },
    Delete { who: usize, id: u8 },
    Replace { who: usize, ids: Vec<u8> },
    Goal { who: usize, goal: u8 },
    Setting { who: usize, n: u8 },
    ClearSetting { who: usize },
    Import { who: usize, id: u8 },
    FeedLink { who: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..PEOPLE;
    prop_oneof![
        4 => (who.clone(), 0..IDS, any::<u8>()).prop_map(|(who, id, n)| Op::Put { who, id, n }),
        3 => (who.clone(), 0..IDS, 0u8..=100).prop_map(|(who, id, ratio)| Op::Patch { who, id, ratio }),
        2 => (who.clone(), 0..IDS).prop_map(|(who, id)| Op::Delete { who, id }),
        1 => (who.clone(), proptest::collection::vec(0..IDS, 0..4)).prop_map(|(who, ids)| Op::Replace { who, ids }),
        1 => (who.clone(), 0u8..20).prop_map(|(who, goal)| Op::Goal { who, goal }),
        1 => (who.clone(), any::<u8>()).prop_map(|(who, n)| Op::Setting { who, n }),
        1 => who.clone().prop_map(|who| Op::ClearSetting { who }),
        1 => (who.clone(), 0..IDS).prop_map(|(who, id)| Op::Import { who, id }),
        1 => who.prop_map(|who| Op::FeedLink { who }),
    ]
}

fn apply(api: &Api, people: &[Person], op: &Op, feeds: &mut [Option<String>]) -> Resp {
    let path = |id: &u8| format!("/api/courses/c{id}");
    match op {
        Op::Put { who, id, n } => {
            let p = &people[*who];
            p.send(
                api,
                "PUT",
                &path(id),
                Some(&json!({"title": p.title(*n), "notes": format!("private to {}", p.name)})),
            )
        }
        Op::Patch { who, id, ratio } => people[*who].send(
            api,
            "PATCH",
            &path(id),
            Some(&json!({"completionRatio": ratio})),
        ),
        Op::Delete { who, id } => people[*who].send(api, "DELETE", &path(id), None),
        Op::Replace { who, ids } => {
            let p = &people[*who];
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            let list: Vec<Json> = ids
                .iter()
                .map(|i| json!({"id": format!("c{i}"), "title": p.title(*i)}))
                .collect();
            p.send(api, "POST", "/api/courses", Some(&Json::Array(list)))
        }
        Op::Goal { who, goal } => people[*who].send(
            api,
            "PUT",
            "/api/settings/monthly_goal",
            Some(&json!({"value": goal})),
        ),
        Op::Setting { who, n } => {
            let p = &people[*who];
            p.send(
                api,
                "PUT",
                "/api/settings/note",
                Some(&json!({"value": format!("{} {n}", p.name)})),
            )
        }
        Op::ClearSetting { who } => people[*who].send(api, "DELETE", "/api/settings/note", None),
        Op::Import { who, id } => {
            let p = &people[*who];
            let doc = json!({"courses": [{"id": format!("c{id}"), "title": p.title(*id)}]});
            p.send(api, "POST", "/api/import?partial=true", Some(&doc))
        }
        Op::FeedLink { who } => {
            let r = people[*who].send(api, "POST", "/api/calendar/token", None);
            if let Some(token) = r.json()["token"].as_str() {
                feeds[*who] = Some(token.to_owned());
            }
            r
        }
    }
}

/// Everything one person can see of their own library, volatile stamps removed.
fn view(api: &Api, p: &Person, feed: Option<&str>) -> Json {
    let ok = |r: Resp| {
        assert!(r.status < 300, "{}", r.text());
        r
    };
    let courses = ok(p.get(api, "/api/courses"));
    let settings = ok(p.get(api, "/api/settings"));
    let changes = ok(p.get(api, "/api/changes?since=0&limit=1000")).json();
    let activity = ok(p.get(api, "/api/activity?limit=1000")).json();
    let mut export = ok(p.get(api, "/api/export")).json();
    if let Some(doc) = export.as_object_mut() {
        doc.remove("exportedAt");
    }
    let calendar = feed.map(|token| {
        let r = api.raw(
            "GET",
            &format!("/api/calendar.ics?token={token}"),
            &[],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        // The stamp of the document itself changes every second.
        r.text()
            .lines()
            .filter(|l| !l.starts_with("DTSTAMP"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    json!({
        "courses": courses.json(),
        "coursesEtag": courses.header("etag"),
        "settings": settings.json(),
        "settingsEtag": settings.header("etag"),
        "changes": changes,
        "activity": activity,
        "export": export,
        "calendar": calendar,
    })
}

/// Every name of a person that appears in a view.
fn names_in(view: &Json, people: &[Person]) -> Vec<String> {
    let text = view.to_string();
    people
        .iter()
        .filter(|p| {
            text.contains(&format!("{}'s course", p.name))
                || text.contains(&format!("private to {}", p.name))
        })
        .map(|p| p.name.clone())
        .collect()
}

fn run_ops(
    api: &Api,
    people: &[Person],
    ops: &[Op],
    feeds: &mut [Option<String>],
) -> Result<(), TestCaseError> {
    let mut views: Vec<Json> = people
        .iter()
        .zip(feeds.iter())
        .map(|(p, f)| view(api, p, f.as_deref()))
        .collect();
    for op in ops {
        let r = apply(api, people, op, feeds);
        prop_assert!(r.status < 500, "{op:?}: {} {}", r.status, r.text());
        let actor = match op {
            Op::Put { who, .. }
            | Op::Patch { who, .. }
            | Op::Delete { who, .. }
            | Op::Replace { who, .. }
            | Op::Goal { who, .. }
            | Op::Setting { who, .. }
            | Op::ClearSetting { who }
            | Op::Import { who, .. }
            | Op::FeedLink { who } => *who,
        };
        for (i, p) in people.iter().enumerate() {
            let now = view(api, p, feeds[i].as_deref());
            let seen = names_in(&now, people);
            prop_assert!(
                seen.iter().all(|n| *n == p.name),
                "{op:?}: {} sees data of {seen:?}",
                p.name
            );
            if i != actor {
                prop_assert_eq!(
                    &now,
                    &views[i],
                    "{:?} by {} changed what {} sees",
                    op,
                    people[actor].name,
                    p.name
                );
            }
            views[i] = now;
        }
    }
    // Ids someone else holds answer like ids nobody holds, on every verb.
    for (i, p) in people.iter().enumerate() {
        let mine: Vec<&str> = views[i]["courses"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["id"].as_str()).collect())
            .unwrap_or_default();
        for id in 0..IDS {
            let id = format!("c{id}");
            if mine.contains(&id.as_str()) {
                continue;
            }
            let r = p.get(api, &format!("/api/courses/{id}"));
            prop_assert_eq!(r.status, 404, "{} reading {}: {}", p.name, id, r.text());
            let never = p.get(api, "/api/courses/never-held");
            prop_assert_eq!(error_of(&r).1, error_of(&never).1);
            let patched = p.send(
                api,
                "PATCH",
                &format!("/api/courses/{id}"),
                Some(&json!({"completionRatio": 1})),
            );
            prop_assert!(
                matches!(patched.status, 404 | 410),
                "{} patching {}: {}",
                p.name,
                id,
                patched.text()
            );
        }
        let after = view(api, p, feeds[i].as_deref());
        prop_assert_eq!(&after, &views[i], "refused writes changed nothing");
    }
    Ok(())
}

pub fn accounts_never_read_change_or_infer_each_others_data(t: &dyn Target) {
    let api = start_with(t, &[("auth", "accounts")]);
    let people = team(&api);
    // Feed links made in one case stay valid in the next: the runner's closure
    // only borrows.
    let feeds = RefCell::new(vec![None; PEOPLE]);
    let mut runner = TestRunner::new(Config {
        cases: t.property_cases().min(8),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..25), |ops| {
            run_ops(&api, &people, &ops, &mut feeds.borrow_mut())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
