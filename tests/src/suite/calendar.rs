//! The calendar feed (`GET /api/calendar.ics`) and its secret, revocable link.
//!
//! Every feed is checked twice: here, line by line against RFC 5545's form (CRLF,
//! 75-octet folding that never cuts a UTF-8 sequence), and by a real parser,
//! Python's `icalendar` package (`make tools` installs it; see `ical_python`).

use super::{Api, Resp, Target, course, error_of, start, start_with_token};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const FEED: &str = "/api/calendar.ics";
const TOKEN: &str = "/api/calendar/token";

/// Makes a feed link; returns the created answer.
fn make_link(api: &Api) -> Json {
    let r = api.request("POST", TOKEN, &[], None);
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    let token = body["token"].as_str().expect("token");
    assert_eq!(body["path"], format!("{FEED}?token={token}"));
    body
}

/// The feed as a calendar app fetches it: no Authorization header, only the link.
fn fetch(api: &Api, path: &str, headers: &[(&str, &str)]) -> Resp {
    api.raw("GET", path, headers, None)
}

fn feed_text(api: &Api, path: &str) -> String {
    let r = fetch(api, path, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    let cache = r.header("cache-control").unwrap_or_default();
    assert!(cache.contains("private"), "a secret URL's answer: {cache}");
    let text = String::from_utf8(r.body.clone()).expect("the feed is UTF-8");
    assert_rfc5545_form(&text);
    text
}

fn assert_feed_closed(api: &Api, path: &str) {
    let r = fetch(api, path, &[]);
    assert_eq!(
        error_of(&r),
        (404, "not_found".into(), None),
        "{path}: {}",
        r.text()
    );
}

/// CRLF after every line, no bare CR or LF, no physical line over 75 octets, and
/// every physical line valid UTF-8 on its own (a fold never cuts a character).
fn assert_rfc5545_form(text: &str) {
    let bytes = text.as_bytes();
    assert!(text.ends_with("\r\n"), "ends with CRLF");
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at octet {i}");
        }
        if b == b'\r' {
            assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at octet {i}");
        }
    }
    for line in bytes[..bytes.len() - 2].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(
            line.len() <= 75,
            "{} octets: {}",
            line.len(),
            String::from_utf8_lossy(line)
        );
        assert!(
            std::str::from_utf8(line).is_ok(),
            "a fold cut a UTF-8 sequence: {line:?}"
        );
    }
}

/// Content lines after unfolding, as `(name with parameters, raw value)`.
fn unfolded(text: &str) -> Vec<(String, String)> {
    text.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, value) = l.split_once(':').expect("NAME:VALUE");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// The events of a feed by UID: each one's properties (raw values, unfolded).
fn events(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut current: Option<BTreeMap<String, String>> = None;
    for (name, value) in unfolded(text) {
        match (name.as_str(), value.as_str()) {
            ("BEGIN", "VEVENT") => current = Some(BTreeMap::new()),
            ("END", "VEVENT") => {
                let ev = current.take().expect("END without BEGIN");
                out.insert(ev["UID"].clone(), ev);
            }
            _ => {
                if let Some(ev) = current.as_mut() {
                    ev.insert(name, value);
                }
            }
        }
    }
    out
}

fn uid(id: &str) -> String {
    format!("course-{id}@skilltrack")
}

pub fn a_feed_link_is_shown_once_and_revoking_it_answers_404(t: &dyn Target) {
    let api = start(t);
    assert_eq!(
        api.get(TOKEN).json(),
        json!({"active": false, "createdAt": null})
    );
    // No link made yet: the feed is closed, with or without a guess.
    assert_feed_closed(&api, FEED);
    assert_feed_closed(&api, &format!("{FEED}?token="));
    assert_feed_closed(&api, &format!("{FEED}?token={}", "0".repeat(64)));

    let first = make_link(&api);
    let first_path = first["path"].as_str().expect("path").to_owned();
    let status = api.get(TOKEN).json();
    assert_eq!(status["active"], true);
    assert_eq!(status["createdAt"], first["createdAt"]);
    assert!(
        status.get("token").is_none(),
        "the token is shown only once"
    );
    // The absolute URL is this server's origin and the path.
    let url = first["url"].as_str().expect("url");
    assert!(
        url.starts_with("http://") && url.ends_with(&first_path),
        "{url}"
    );
    feed_text(&api, &first_path);
    // HEAD too, for apps that check before fetching.
    assert_eq!(api.raw("HEAD", &first_path, &[], None).status, 200);
    // The owner part is part of the secret: another owner's, a malformed one or
    // none at all opens nothing, with the same answer as a wrong token.
    let random = first["token"]
        .as_str()
        .and_then(|t| t.split_once('.'))
        .map(|(_, r)| r.to_owned())
        .expect("<owner>.<random>");
    for other in ["2.", "x.", "-1.", "0.", ".", ""] {
        assert_feed_closed(&api, &format!("{FEED}?token={other}{random}"));
    }

    // A new link replaces the old one, which stops working at once.
    let second = make_link(&api);
    let second_path = second["path"].as_str().expect("path").to_owned();
    assert_ne!(first["token"], second["token"]);
    assert_feed_closed(&api, &first_path);
    feed_text(&api, &second_path);

    // Revoked: the URL answers 404 and the state says so.
    let r = api.delete(TOKEN);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"active": false, "revoked": true}));
    assert_feed_closed(&api, &second_path);
    assert_eq!(api.get(TOKEN).json()["active"], false);
    assert_eq!(api.delete(TOKEN).json()["revoked"], false);

    // Revocation is stored, not remembered by one process.
    let third = make_link(&api);
    let third_path = third["path"].as_str().expect("path").to_owned();
    let mut api = api;
    api.restart();
    feed_text(&api, &third_path);
    assert_feed_closed(&api, &second_path);
}

pub fn with_an_api_token_the_feed_link_is_separate_from_it(t: &dyn Target) {
    let api = start_with_token(t, "api-secret");
    // Managing the link is an ordinary API call: the API token is needed.
    for method in ["GET", "POST", "DELETE"] {
        assert_eq!(
            api.raw(method, TOKEN, &[], None).status,
            401,
            "{method} {TOKEN}"
        );
    }
    let link = make_link(&api);
    let token = link["token"].as_str().expect("token");
    assert_ne!(token, "api-secret");
    // Without accounts the library is owner 1's: `1.` and 256 random bits.
    let random = token.strip_prefix("1.").expect("the owner part");
    assert_eq!(random.len(), 64);
    assert!(random.bytes().all(|b| b.is_ascii_hexdigit()));

    // The feed needs the feed token and nothing else ...
    feed_text(&api, link["path"].as_str().expect("path"));
    // ... and the API token is no feed token, in the query or as a header.
    assert_feed_closed(&api, &format!("{FEED}?token=api-secret"));
    let r = fetch(&api, FEED, &[("authorization", "Bearer api-secret")]);
    assert_eq!(r.status, 404, "{}", r.text());
    // The feed token opens nothing else.
    let r = api.raw(
        "GET",
        "/api/courses",
        &[("authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(r.status, 401);
    // Only reading is exempt from the API token on the feed's path.
    let r = api.raw("POST", &format!("{FEED}?token={token}"), &[], None);
    assert_eq!(r.status, 401);
}

pub fn the_feed_has_one_all_day_event_per_deadline_with_stable_uids(t: &dyn Target) {
    let api = start(t);
    let put = |id: &str, extra: Json| {
        let mut body = course(id, &format!("Course {id}"));
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        let r = api.put(&format!("/api/courses/{id}"), &body);
        assert!(r.status == 200 || r.status == 201, "{}", r.text());
    };
    put(
        "due",
        json!({"deadline": "2026-03-31", "completionRatio": 40, "totalLessons": 10, "completedLessons": 4}),
    );
    put("none", json!({}));
    put(
        "done",
        json!({"deadline": "2026-01-15", "completionRatio": 100}),
    );
    put(
        "shelved",
        json!({"deadline": "2026-02-01", "isArchived": true}),
    );
    put("gone", json!({"deadline": "2026-02-02"}));
    assert_eq!(api.delete("/api/courses/gone").status, 200);
    let link = make_link(&api);
    let path = link["path"].as_str().expect("path");
    let origin = link["url"]
        .as_str()
        .and_then(|u| u.strip_suffix(path))
        .expect("url = origin + path")
        .to_owned();

    let text = feed_text(&api, path);
    let lines = unfolded(&text);
    assert_eq!(lines.first(), Some(&("BEGIN".into(), "VCALENDAR".into())));
    assert_eq!(lines.last(), Some(&("END".into(), "VCALENDAR".into())));
    assert!(lines.contains(&("VERSION".into(), "2.0".into())));
    assert!(lines.iter().any(|(n, _)| n == "PRODID"));

    let evs = events(&text);
    // Archived courses are left out, deleted ones and those without a deadline too.
    assert_eq!(
        evs.keys().cloned().collect::<Vec<_>>(),
        vec![uid("done"), uid("due")]
    );
    let due = &evs[&uid("due")];
    assert_eq!(due["DTSTART;VALUE=DATE"], "20260331");
    assert_eq!(due["DTEND;VALUE=DATE"], "20260401");
    assert_eq!(due["SUMMARY"], "Deadline: Course due");
    assert_eq!(due["URL"], format!("{origin}/#/course/due"));
    assert!(
        due["DESCRIPTION"].starts_with("Progress: 40% (In Progress)\\nLessons: 4 of 10"),
        "{}",
        due["DESCRIPTION"]
    );
    assert!(due["DTSTAMP"].ends_with('Z') && due["DTSTAMP"].len() == 16);
    // Completed courses stay, marked.
    assert_eq!(evs[&uid("done")]["SUMMARY"], "✓ Course done (completed)");

    // An edit moves the same event: same UID, new date and title. Its stamp is the
    // course's last change, to the second: edits go on until the clock has moved.
    let before = due["DTSTAMP"].clone();
    let (round, moved) = (0..50)
        .find_map(|round| {
            let r = api.patch(
                "/api/courses/due",
                &json!({"deadline": "2026-04-10", "title": format!("Renamed {round}")}),
            );
            assert_eq!(r.status, 200, "{}", r.text());
            let evs = events(&feed_text(&api, path));
            assert_eq!(evs.len(), 2, "an edit adds no event");
            let ev = evs[&uid("due")].clone();
            if ev["DTSTAMP"] == before {
                std::thread::sleep(std::time::Duration::from_millis(100));
                return None;
            }
            Some((round, ev))
        })
        .expect("the stamp follows the course's last change");
    assert_eq!(moved["DTSTART;VALUE=DATE"], "20260410");
    assert_eq!(moved["SUMMARY"], format!("Deadline: Renamed {round}"));
    assert!(moved["DTSTAMP"] > before);

    // Archiving takes the event out; unarchiving brings the same UID back.
    api.patch("/api/courses/due", &json!({"isArchived": true}));
    assert!(!events(&feed_text(&api, path)).contains_key(&uid("due")));
    api.patch("/api/courses/due", &json!({"isArchived": false}));
    assert!(events(&feed_text(&api, path)).contains_key(&uid("due")));
}

pub fn the_feed_answers_304_until_a_course_changes(t: &dyn Target) {
    let api = start(t);
    api.put(
        "/api/courses/a",
        &json!({"id": "a", "title": "A", "deadline": "2026-05-01"}),
    );
    let link = make_link(&api);
    let path = link["path"].as_str().expect("path");
    let first = fetch(&api, path, &[]);
    let etag = first.header("etag").expect("an ETag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let again = fetch(&api, path, &[("if-none-match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
    // A wrong token gets no 304 either: the token is checked first.
    let r = fetch(
        &api,
        &format!("{FEED}?token={}", "f".repeat(64)),
        &[("if-none-match", &etag)],
    );
    assert_eq!(r.status, 404);

    api.patch("/api/courses/a", &json!({"deadline": "2026-05-02"}));
    let changed = fetch(&api, path, &[("if-none-match", &etag)]);
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(etag));
    // A course without a deadline is not in the feed: the feed is unchanged.
    let etag = changed.header("etag").expect("ETag");
    api.put("/api/courses/b", &json!({"id": "b", "title": "B"}));
    assert_eq!(fetch(&api, path, &[("if-none-match", &etag)]).status, 304);
}

/// Titles (and notes) a real library has: commas, semicolons, backslashes, quotes,
/// emoji and other multi-octet text long enough to fold at every alignment. Titles
/// cannot hold line breaks (the API refuses control characters in them), notes
/// can: they are the last part of each event's description.
pub fn hostile_titles_and_notes_survive_a_real_icalendar_parser(t: &dyn Target) {
    let api = start(t);
    let titles = [
        "Kubernetes, Docker; and Helm: the \"complete\" guide \\ 2026",
        "🎓🚀 Emoji everywhere 👩‍💻 — naïve café façade, 日本語のコース, Ελληνικά",
        "a,b;c\\d,,;;\\\\ end",
        &"€".repeat(120),
        &format!("x{}", "🎉".repeat(70)),
        "BEGIN:VEVENT",
    ];
    for (i, title) in titles.iter().enumerate() {
        let id = format!("t{i}");
        let notes = format!("line one, with; stuff\nline two 🎯\r\nline three\\n{i}");
        let r = api.put(
            &format!("/api/courses/{id}"),
            &json!({"id": id, "title": title, "category": "Q&A, Misc; more", "notes": notes,
                    "deadline": format!("2026-06-{:02}", i + 1)}),
        );
        assert!(r.status == 200 || r.status == 201, "{}", r.text());
    }
    let link = make_link(&api);
    let text = feed_text(&api, link["path"].as_str().expect("path"));
    assert_eq!(events(&text).len(), titles.len());

    let Some(parsed) = parse_with_icalendar(&text) else {
        return;
    };
    assert_eq!(parsed["errors"], json!([]), "parser complaints");
    let by_uid: BTreeMap<String, Json> = parsed["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["uid"].as_str().expect("uid").to_owned(), e.clone()))
        .collect();
    assert_eq!(by_uid.len(), titles.len());
    for (i, title) in titles.iter().enumerate() {
        let ev = &by_uid[&uid(&format!("t{i}"))];
        assert_eq!(ev["summary"], format!("Deadline: {title}"), "title {i}");
        assert_eq!(ev["dtstart"], format!("2026-06-{:02}", i + 1));
        assert_eq!(ev["dtend"], format!("2026-06-{:02}", i + 2));
        assert_eq!(ev["categories"], json!(["Q&A, Misc; more"]));
        let description = ev["description"].as_str().expect("description");
        // The notes come back with their line breaks (CRLF read back as LF).
        assert!(
            description.ends_with(&format!(
                "\n\nline one, with; stuff\nline two 🎯\nline three\\n{i}"
            )),
            "{description:?}"
        );
        assert!(description.starts_with("Progress: 0% (Pending)\n"));
        assert!(
            ev["url"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!("/#/course/t{i}")))
        );
    }
    assert_eq!(parsed["name"], "SkillTrack deadlines");
}

/// A Python that can `import icalendar`: `$ICAL_PYTHON`, else the virtualenv
/// `make tools` makes in `target/tools/icalendar-venv`, else `python3` on PATH if
/// it has the package.
fn ical_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ICAL_PYTHON").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let venv = crate::repo_root().join("target/tools/icalendar-venv/bin/python");
    [venv, PathBuf::from("python3")].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import icalendar"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Reads the feed with Python's `icalendar` and returns what it understood, or
/// `None` (saying so) where no such Python is found.
fn parse_with_icalendar(text: &str) -> Option<Json> {
    const SCRIPT: &str = r#"
import json, sys
from icalendar import Calendar
cal = Calendar.from_ical(sys.stdin.buffer.read())
errors = [str(e) for c in cal.walk() for e in getattr(c, "errors", [])]
events = []
for ev in cal.walk("VEVENT"):
    cats = ev.get("CATEGORIES")
    events.append({
        "uid": str(ev.get("UID")),
        "summary": str(ev.get("SUMMARY")),
        "description": str(ev.get("DESCRIPTION")),
        "dtstart": ev.decoded("DTSTART").isoformat(),
        "dtend": ev.decoded("DTEND").isoformat(),
        "url": str(ev.get("URL")),
        "categories": [str(c) for c in cats.cats] if cats is not None else [],
    })
print(json.dumps({"name": str(cal.get("NAME")), "errors": errors, "events": events}))
"#;
    let Some(python) = ical_python() else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the real-parser check (no Python with the icalendar package: run \
             `make tools` or set ICAL_PYTHON; see docs/testing.md)"
        );
        return None;
    };
    let mut child = Command::new(&python)
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(text.as_bytes())
            .expect("feed to the parser");
    }
    let out = child.wait_with_output().expect("parser output");
    assert!(
        out.status.success(),
        "icalendar refused the feed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("the parser's JSON"))
}
