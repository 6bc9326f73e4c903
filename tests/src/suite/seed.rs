//! The seed app's client, request for request as it sends them: the API promised
//! that existing clients and scripts keep working. The seed's `fetch` calls send
//! `Accept: */*` and, with a body, `Content-Type: application/json`; no
//! `If-Match`, no token.

use super::{Api, Resp, Target, error_of, start};
use serde_json::{Value as Json, json};

const ACCEPT: (&str, &str) = ("accept", "*/*");
const JSON: (&str, &str) = ("content-type", "application/json");

fn seed_get(api: &Api, path: &str) -> Resp {
    api.request("GET", path, &[ACCEPT], None)
}

fn seed_post(api: &Api, path: &str, body: &Json) -> Resp {
    let bytes = body.to_string().into_bytes();
    api.request("POST", path, &[ACCEPT, JSON], Some(&bytes))
}

/// A course as the seed's client keeps it: no server fields.
fn seed_course(id: &str, title: &str, ratio: u8) -> Json {
    let status = match ratio {
        100 => "Completed",
        0 => "Pending",
        _ => "In Progress",
    };
    json!({
        "id": id, "title": title, "category": "Improvement", "date": "2025-12-26",
        "notes": "", "completionRatio": ratio, "status": status, "isFavorite": false
    })
}

/// What JavaScript's `parseInt(value)` makes of a JSON value (`None` for NaN).
fn parse_int_like_js(value: &Json) -> Option<i64> {
    let text = match value {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        _ => return None,
    };
    let text = text.trim_start();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

pub fn seed_client_checks_health(t: &dyn Target) {
    let api = start(t);
    let r = seed_get(&api, "/health");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
}

pub fn seed_client_uses_the_course_list_as_a_plain_array(t: &dyn Target) {
    let api = start(t);
    let empty = seed_get(&api, "/api/courses");
    assert_eq!(empty.status, 200);
    assert_eq!(
        empty.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(empty.json(), json!([]));
    let list = json!([
        seed_course("6716873", "Method of Loci", 40),
        seed_course("6716865", "Brain Exercises", 0)
    ]);
    assert_eq!(seed_post(&api, "/api/courses", &list).status, 200);
    let got = seed_get(&api, "/api/courses").json();
    let got = got.as_array().expect("a plain JSON array");
    assert_eq!(got.len(), 2);
    // In the order sent, each with every field the seed's client keeps, as sent.
    for (sent, back) in list.as_array().into_iter().flatten().zip(got) {
        for (field, value) in sent.as_object().into_iter().flatten() {
            assert_eq!(&back[field], value, "{field} of {}", sent["id"]);
        }
    }
}

pub fn seed_client_replaces_the_whole_list_with_one_post(t: &dyn Target) {
    let api = start(t);
    let first = json!([
        seed_course("a1", "Rust", 0),
        seed_course("a2", "Go", 100),
        seed_course("a3", "Zig", 10)
    ]);
    let r = seed_post(&api, "/api/courses", &first);
    assert!((200..300).contains(&r.status), "{}", r.text());
    // The client edits the list it read (server fields included) and posts it all back.
    let mut list = seed_get(&api, "/api/courses").json();
    let courses = list.as_array_mut().expect("array");
    courses.retain(|c| c["id"] != "a2");
    courses[0]["completionRatio"] = json!(50);
    courses[0]["status"] = json!("In Progress");
    courses.push(seed_course("a4", "Elm", 0));
    let r = seed_post(&api, "/api/courses", &list);
    assert!((200..300).contains(&r.status), "{}", r.text());
    let now = api.courses();
    assert_eq!(now.keys().collect::<Vec<_>>(), ["a1", "a3", "a4"]);
    assert_eq!(now["a1"]["completionRatio"], 50);
    // And the user clearing the library.
    let r = seed_post(&api, "/api/courses", &json!([]));
    assert!((200..300).contains(&r.status), "{}", r.text());
    assert!(api.courses().is_empty());
}

pub fn seed_client_reads_a_setting_and_takes_404_as_unset(t: &dyn Target) {
    let api = start(t);
    let unset = seed_get(&api, "/api/settings/theme");
    assert_eq!(error_of(&unset), (404, "not_found".into(), None));
    // The seed's client sends every setting as a string and gets it back as one.
    let r = seed_post(&api, "/api/settings/theme", &json!({"value": "dark"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = seed_post(&api, "/api/settings/last_page", &json!({"value": "3"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let read = seed_get(&api, "/api/settings/theme");
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["value"], "dark");
    assert_eq!(
        seed_get(&api, "/api/settings/last_page").json()["value"],
        "3"
    );
    // The goal it reads before ever saving one is the default.
    let goal = seed_get(&api, "/api/settings/monthly_goal").json();
    assert_eq!(parse_int_like_js(&goal["value"]), Some(2));
}

pub fn seed_client_saves_its_monthly_goal_as_a_string(t: &dyn Target) {
    let api = start(t);
    // `{"value": goal.toString()}`
    let r = seed_post(&api, "/api/settings/monthly_goal", &json!({"value": "3"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"key": "monthly_goal", "value": 3}));
    let data = seed_get(&api, "/api/settings/monthly_goal").json();
    assert_eq!(
        parse_int_like_js(&data["value"]),
        Some(3),
        "parseInt(data.value)"
    );
    // Stored as the number: this app's client reads Number(settings.monthly_goal).
    assert_eq!(data, json!({"value": 3}));
    assert_eq!(api.get("/api/settings").json()["monthly_goal"], 3);
    let r = seed_post(&api, "/api/settings/monthly_goal", &json!({"value": " 4 "}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        seed_get(&api, "/api/settings/monthly_goal").json(),
        json!({"value": 4})
    );
}

pub fn a_monthly_goal_that_is_not_a_goal_is_refused_and_changes_nothing(t: &dyn Target) {
    let api = start(t);
    assert_eq!(
        seed_post(&api, "/api/settings/monthly_goal", &json!({"value": "5"})).status,
        200
    );
    let etag = api.get("/api/settings").header("etag").expect("etag");
    for bad in [
        json!("abc"),
        json!("1e3"),
        json!("3.5"),
        json!("-1"),
        json!(""),
        json!(" "),
        json!(-1),
        json!(1001),
        json!("1001"),
        json!(3.5),
        json!(null),
        json!([]),
        json!([3]),
        json!({"goal": 3}),
        json!(true),
    ] {
        let r = seed_post(&api, "/api/settings/monthly_goal", &json!({"value": bad}));
        assert_eq!(
            error_of(&r),
            (400, "invalid_field".into(), Some("value".into())),
            "{bad}: {}",
            r.text()
        );
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{bad}"
        );
    }
    assert_eq!(
        seed_get(&api, "/api/settings/monthly_goal").json(),
        json!({"value": 5})
    );
    assert_eq!(
        api.get_with("/api/settings", &[("if-none-match", &etag)])
            .status,
        304,
        "no refused goal touched the settings"
    );
}
