//! The OpenAPI document stays true: it lists exactly the routes the component
//! answers, the server serves it, and every answer in the suite (all of them go
//! through `Api`, which checks each against the document) conforms to it.

use super::openapi_check::{KNOWN_KEYWORDS, schema_keywords, template_for, validate};
use super::{Target, course, start};
use serde_json::{Value as Json, json};

pub fn the_document_lists_exactly_the_routes_the_component_answers(t: &dyn Target) {
    let api = start(t);
    let served = api.get("/api/openapi.json").json();
    assert_eq!(
        served, api.doc,
        "the served document is the one in the crate"
    );
    assert_eq!(served["openapi"], "3.1.0");
    let paths = served["paths"].as_object().expect("paths");
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in paths {
        let ops = ops.as_object().expect("operations");
        for m in ops.keys() {
            if ["get", "put", "post", "patch", "delete"].contains(&m.as_str()) {
                documented.push((path.clone(), m.to_uppercase()));
            }
        }
        // Every path answers a CORS preflight from a listed origin.
        assert!(ops.contains_key("options"), "{path} documents no preflight");
    }
    let mut answered: Vec<(String, String)> = skilltrack_api::ROUTES
        .iter()
        .flat_map(|r| {
            r.methods
                .iter()
                .map(move |m| (r.path.to_owned(), (*m).to_owned()))
        })
        .collect();
    documented.sort();
    answered.sort();
    assert_eq!(documented, answered);

    // And each documented operation is really answered by the running component
    // (not a 404 from routing).
    for (path, method) in &documented {
        let concrete = path.replace("{id}", "probe").replace("{key}", "probe");
        let r = api.request(
            method,
            &concrete,
            &[("content-type", "application/json")],
            Some(b"{}"),
        );
        let routed = !(r.status == 404
            && r.json()["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("no endpoint")));
        assert!(
            routed && r.status != 405,
            "{method} {path} -> {} {}",
            r.status,
            r.text()
        );
        assert!(r.status < 500, "{method} {path} -> {}", r.status);
    }
}

pub fn the_document_uses_only_the_schema_keywords_the_checker_enforces(t: &dyn Target) {
    let api = start(t);
    let used = schema_keywords(&api.doc);
    let unknown: Vec<&String> = used
        .iter()
        .filter(|k| !KNOWN_KEYWORDS.contains(&k.as_str()))
        .collect();
    assert!(unknown.is_empty(), "unchecked keywords: {unknown:?}");
    // Every $ref resolves.
    let text = api.doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap_or_default();
        assert!(
            api.doc.pointer(target.trim_start_matches('#')).is_some(),
            "dangling {target}"
        );
    }
}

pub fn the_checker_rejects_what_the_schema_forbids(t: &dyn Target) {
    let api = start(t);
    let course_schema = json!({"$ref": "#/components/schemas/Course"});
    let good = api.put("/api/courses/a", &course("a", "A")).json();
    assert!(validate(&api.doc, &course_schema, &good, "$").is_ok());
    let mut bad = good.clone();
    bad["completionRatio"] = json!(101);
    assert!(validate(&api.doc, &course_schema, &bad, "$").is_err());
    let mut bad = good.clone();
    bad["status"] = json!("Done");
    assert!(validate(&api.doc, &course_schema, &bad, "$").is_err());
    let mut bad = good.clone();
    if let Some(o) = bad.as_object_mut() {
        o.remove("rev");
    }
    assert!(validate(&api.doc, &course_schema, &bad, "$").is_err());
    let mut bad = good;
    bad["surprise"] = Json::Bool(true);
    assert!(validate(&api.doc, &course_schema, &bad, "$").is_err());
    assert_eq!(
        template_for(&api.doc, "/api/courses/x1"),
        Some("/api/courses/{id}")
    );
}

pub fn a_tour_of_every_endpoint_conforms_to_the_document(t: &dyn Target) {
    let api = start(t);
    api.get("/health");
    api.put("/api/courses/a", &course("a", "A"));
    api.put(
        "/api/courses/b",
        &json!({"title": "B", "completionRatio": 100}),
    );
    api.patch("/api/courses/a", &json!({"completionRatio": 20}));
    let etag = api.get("/api/courses").header("etag").expect("etag");
    api.get_with("/api/courses", &[("if-none-match", &etag)]);
    api.get("/api/courses/a");
    api.json_with(
        "PATCH",
        "/api/courses/a",
        &json!({"notes": "x"}),
        &[("if-match", "\"1\"")],
    );
    api.post("/api/courses", &json!([course("a", "A"), course("c", "C")]));
    api.delete("/api/courses/c");
    api.get("/api/changes?since=0&limit=2");
    api.get("/api/changes?since=999");
    api.get("/api/settings");
    api.post("/api/settings/theme", &json!({"value": [1, "two"]}));
    api.json("PUT", "/api/settings/monthly_goal", &json!({"value": 3}));
    api.post("/api/settings/monthly_goal", &json!({"value": "4"}));
    api.get("/api/settings/theme");
    api.delete("/api/settings/theme");
    api.get("/api/export");
    api.get("/api/export.csv");
    api.import_csv(
        b"Id,Date,Category,Title,Notes,Completion ratio\nz,1/1/2024,C,Z,,1\n",
        "",
    );
    api.import_csv(
        b"Id,Date,Category,Title,Notes,Completion ratio\nz,1/1/2024,C,Z,,1000\n",
        "",
    );
    api.import_csv(
        b"Id,Date,Category,Title,Notes,Completion ratio\nz,1/1/2024,C,Z,,1000\n",
        "?partial=true",
    );
    api.get("/api/activity");
    api.get("/api/openapi.json");
    api.get("/api/calendar/token");
    let link = api.request("POST", "/api/calendar/token", &[], None).json();
    let feed = link["path"].as_str().expect("feed path");
    let etag = api.get(feed).header("etag").expect("feed etag");
    api.get_with(feed, &[("if-none-match", &etag)]);
    api.get("/api/calendar.ics?token=nope");
    api.delete("/api/calendar/token");
    api.request("OPTIONS", "/api/courses", &[], None);
    api.get("/api/nowhere");
}
