//! Settings in the key-value store.

use super::{Target, error_of, start};
use serde_json::json;

pub fn monthly_goal_defaults_to_two_and_can_be_set(t: &dyn Target) {
    let api = start(t);
    assert_eq!(
        api.get("/api/settings/monthly_goal").json(),
        json!({"value": 2})
    );
    let r = api.post("/api/settings/monthly_goal", &json!({"value": 4}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"key": "monthly_goal", "value": 4}));
    assert_eq!(
        api.get("/api/settings/monthly_goal").json(),
        json!({"value": 4})
    );
    assert_eq!(api.get("/api/settings").json()["monthly_goal"], 4);
}

pub fn settings_hold_any_json_and_survive_a_restart(t: &dyn Target) {
    let mut api = start(t);
    assert_eq!(api.get("/api/settings/theme").status, 404);
    assert_eq!(
        api.post("/api/settings/theme", &json!({"value": "dark"}))
            .status,
        200
    );
    assert_eq!(
        api.json(
            "PUT",
            "/api/settings/ui.layout-v2",
            &json!({"value": {"columns": [1, 2]}}),
        )
        .status,
        200
    );
    assert_eq!(
        api.get("/api/settings/theme").json(),
        json!({"value": "dark"})
    );
    api.restart();
    assert_eq!(
        api.get("/api/settings").json(),
        json!({"monthly_goal": 2, "theme": "dark", "ui.layout-v2": {"columns": [1, 2]}})
    );
    assert_eq!(api.delete("/api/settings/theme").status, 200);
    assert_eq!(api.get("/api/settings/theme").status, 404);
    assert_eq!(api.delete("/api/settings/theme").status, 404);
}

pub fn settings_etag_answers_304_until_a_setting_changes(t: &dyn Target) {
    let api = start(t);
    let etag = api.get("/api/settings").header("etag").expect("etag");
    assert_eq!(
        api.get_with("/api/settings", &[("if-none-match", &etag)])
            .status,
        304
    );
    api.post("/api/settings/theme", &json!({"value": "light"}));
    let r = api.get_with("/api/settings", &[("if-none-match", &etag)]);
    assert_eq!(r.status, 200);
    let etag2 = r.header("etag").expect("etag");
    api.post("/api/settings/theme", &json!({"value": "dark"}));
    assert_eq!(
        api.get_with("/api/settings", &[("if-none-match", &etag2)])
            .status,
        200
    );
}

pub fn bad_keys_and_values_are_refused(t: &dyn Target) {
    let api = start(t);
    let cases = [
        ("/api/settings/Theme", json!({"value": 1}), "key"),
        ("/api/settings/has%20space", json!({"value": 1}), "key"),
        (
            &*format!("/api/settings/{}", "k".repeat(65)),
            json!({"value": 1}),
            "key",
        ),
        ("/api/settings/theme", json!({"value": null}), "value"),
        ("/api/settings/theme", json!({}), "value"),
        (
            "/api/settings/theme",
            json!({"value": "v".repeat(64 * 1024)}),
            "value",
        ),
        (
            "/api/settings/monthly_goal",
            json!({"value": "three"}),
            "value",
        ),
        ("/api/settings/monthly_goal", json!({"value": -1}), "value"),
        ("/api/settings/monthly_goal", json!({"value": 2.5}), "value"),
    ];
    for (path, body, field) in cases {
        let r = api.post(path, &body);
        assert_eq!(
            error_of(&r),
            (400, "invalid_field".into(), Some(field.into())),
            "{path} {body}"
        );
    }
    assert_eq!(
        error_of(&api.post("/api/settings/theme", &json!({"value": 1, "x": 2}))).1,
        "unknown_field"
    );
    assert_eq!(
        error_of(&api.post("/api/settings/theme", &json!("dark"))).1,
        "invalid_body"
    );
    let r = api.request(
        "POST",
        "/api/settings/theme",
        &[("content-type", "text/plain")],
        Some(b"dark"),
    );
    assert_eq!(r.status, 415);
    assert_eq!(
        error_of(&api.get("/api/settings/UPPER")).2.as_deref(),
        Some("key")
    );
    assert_eq!(
        api.get("/api/settings").json(),
        json!({"monthly_goal": 2}),
        "nothing was stored"
    );
    // Just under the limit: 64 KiB of JSON, the quotes included.
    let big = "v".repeat(64 * 1024 - 2);
    assert_eq!(
        api.post("/api/settings/big", &json!({"value": big})).status,
        200
    );
}
