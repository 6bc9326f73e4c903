//! The API scenarios, written once and run against every way of serving the API
//! (a [`Target`]): the component's handlers natively on rusqlite, the real
//! tracker-host over HTTP, Spin. Each scenario is a function of a target; the
//! [`api_suite!`](crate::api_suite) macro turns the list of scenarios into one
//! `#[test]` per scenario for a target. Every answer, on every target, is checked
//! against the component's OpenAPI document.
//!
//! Adding a target: implement [`Target`] (start a fresh server with some Spin
//! variables, return a [`Client`] to it) and add a test file with
//! `integration::api_suite!(all: MyTarget);`. See docs/testing.md.

pub mod openapi_check;

pub mod auth;
pub mod calendar;
pub mod cors;
pub mod courses;
pub mod feed;
pub mod health;
pub mod import_export;
pub mod isolation;
pub mod openapi;
pub mod seed;
pub mod settings;
pub mod sync;

use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::sync::MutexGuard;

/// The 272-course spreadsheet, in the repository.
pub const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/udemy_course_list.csv"
);

pub fn fixture() -> String {
    std::fs::read_to_string(FIXTURE).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"))
}

/// One answer, fully read: the same type on every target.
pub use crate::Resp;

/// A connection to one running server of the API.
pub trait Client {
    /// Sends one request and returns the whole answer. Panics (with what the
    /// server logged) when no answer came back: that is a failure on every target.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp;

    /// Stops the server and starts it again on the same data.
    fn restart(&mut self);
}

impl Client for Box<dyn Client> {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        (**self).send(method, path, headers, body)
    }

    fn restart(&mut self) {
        (**self).restart();
    }
}

/// A way of serving the API: a store and a runtime.
pub trait Target: Sync {
    /// Why this target cannot run on this machine (say, its runtime is not
    /// installed); `None` when it can.
    fn unavailable(&self) -> Option<String> {
        None
    }

    /// A fresh server with no data; `variables` are Spin variables by name
    /// (`api_token`, `cors_origins`).
    fn start(&self, variables: &[(&str, &str)]) -> Box<dyn Client>;

    /// Cases per property scenario: more where a request is cheap.
    fn property_cases(&self) -> u32 {
        12
    }

    /// Held while one scenario runs, for targets whose servers must not run side
    /// by side.
    fn exclusive(&self) -> Option<MutexGuard<'static, ()>> {
        None
    }
}

/// Runs one scenario on a target, or says why it is skipped.
pub fn run(target: &dyn Target, scenario: fn(&dyn Target)) {
    if let Some(reason) = target.unavailable() {
        // Once per test binary, straight to stderr past the harness's capture, so
        // the skip shows in the run's output.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\n{reason}");
        });
        return;
    }
    let _serial = target.exclusive();
    scenario(target);
}

/// The API on one server, every answer checked against the OpenAPI document.
pub struct Api<C: Client = Box<dyn Client>> {
    pub client: C,
    pub doc: Json,
    token: Option<String>,
}

/// A fresh server of `target` with the default variables.
pub fn start(target: &dyn Target) -> Api {
    start_with(target, &[])
}

pub fn start_with(target: &dyn Target, variables: &[(&str, &str)]) -> Api {
    let mut api = Api::new(target.start(variables));
    api.token = variables
        .iter()
        .find(|(k, v)| *k == "api_token" && !v.is_empty())
        .map(|(_, v)| (*v).to_owned());
    api
}

/// A server that requires `token` on /api; `Api::request` sends it.
pub fn start_with_token(target: &dyn Target, token: &str) -> Api {
    start_with(target, &[("api_token", token)])
}

/// The component's OpenAPI document.
pub fn openapi_doc() -> Json {
    serde_json::from_str(skilltrack_api::routes::OPENAPI).expect("openapi.json is JSON")
}

impl<C: Client> Api<C> {
    pub fn new(client: C) -> Api<C> {
        Api {
            client,
            doc: openapi_doc(),
            token: None,
        }
    }

    /// A request as-is (no token added), checked against the document.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let resp = self
            .client
            .send(method, path, headers, body.unwrap_or_default());
        openapi_check::check_response(&self.doc, method, path, &resp);
        resp
    }

    /// A request with the server's token, if it has one.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("authorization", a));
        }
        self.raw(method, path, &all, body)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], None)
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request("GET", path, headers, None)
    }

    pub fn json(&self, method: &str, path: &str, body: &Json) -> Resp {
        self.json_with(method, path, body, &[])
    }

    pub fn json_with(
        &self,
        method: &str,
        path: &str,
        body: &Json,
        headers: &[(&str, &str)],
    ) -> Resp {
        let bytes = serde_json::to_vec(body).expect("serialisable");
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.request(method, path, &all, Some(&bytes))
    }

    pub fn put(&self, path: &str, body: &Json) -> Resp {
        self.json("PUT", path, body)
    }

    pub fn patch(&self, path: &str, body: &Json) -> Resp {
        self.json("PATCH", path, body)
    }

    pub fn post(&self, path: &str, body: &Json) -> Resp {
        self.json("POST", path, body)
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.request("DELETE", path, &[], None)
    }

    pub fn import_csv(&self, text: &[u8], query: &str) -> Resp {
        self.request(
            "POST",
            &format!("/api/import{query}"),
            &[("content-type", "text/csv")],
            Some(text),
        )
    }

    /// Stops the server and starts it again on the same data.
    pub fn restart(&mut self) {
        self.client.restart();
    }

    /// The live courses, by id.
    pub fn courses(&self) -> BTreeMap<String, Json> {
        let r = self.get("/api/courses");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
            .as_array()
            .expect("array")
            .iter()
            .map(|c| (c["id"].as_str().expect("id").to_owned(), c.clone()))
            .collect()
    }

    /// The live courses in display order.
    pub fn course_list(&self) -> Vec<Json> {
        let r = self.get("/api/courses");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json().as_array().expect("array").clone()
    }

    /// Replay the change feed from 0 in pages of `limit`.
    pub fn replay(&self, limit: usize) -> BTreeMap<String, Json> {
        self.replay_counting_pages(limit).0
    }

    /// Replay the change feed from 0 in pages of `limit`; also the number of pages.
    pub fn replay_counting_pages(&self, limit: usize) -> (BTreeMap<String, Json>, usize) {
        let mut state = BTreeMap::new();
        let mut since = 0;
        let mut pages = 0;
        loop {
            let r = self.get(&format!("/api/changes?since={since}&limit={limit}"));
            assert_eq!(r.status, 200, "{}", r.text());
            let feed = r.json();
            pages += 1;
            for c in feed["courses"].as_array().expect("courses") {
                state.insert(c["id"].as_str().expect("id").to_owned(), c.clone());
            }
            for id in feed["deleted"].as_array().expect("deleted") {
                state.remove(id.as_str().expect("id"));
            }
            let rev = feed["rev"].as_i64().expect("rev");
            let more = feed["more"].as_bool().expect("more");
            assert!(rev >= since, "the high-water mark never goes back");
            assert!(
                rev > since || !more,
                "a page that says more moves the cursor"
            );
            since = rev;
            if !more {
                return (state, pages);
            }
        }
    }
}

pub fn course(id: &str, title: &str) -> Json {
    json!({"id": id, "title": title, "category": "Cloud", "date": "2025-12-26"})
}

/// `(status, code, field)` of an error answer.
pub fn error_of(r: &Resp) -> (u16, String, Option<String>) {
    let body = r.json();
    (
        r.status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["field"].as_str().map(str::to_owned),
    )
}

pub fn rev_of(r: &Resp) -> i64 {
    r.json()["rev"]
        .as_i64()
        .unwrap_or_else(|| panic!("no rev in {}", r.text()))
}

/// One `#[test]` per scenario for a target: `api_suite!(all: MyTarget);` runs every
/// scenario, `api_suite!(core: MyTarget);` the core ones (health, course CRUD with
/// If-Match, settings with the seed's shapes, the change feed, the fixture import).
#[macro_export]
macro_rules! api_suite {
    (all: $target:expr) => {
        $crate::api_suite!(core: $target);
        $crate::__suite_tests!($target;
            courses::completed_at_follows_the_status,
            courses::delete_leaves_a_tombstone_in_the_feed,
            courses::collection_poll_is_304_until_a_write,
            courses::bulk_replace_keeps_unchanged_revs_tombstones_the_rest_and_honours_if_match,
            courses::bulk_replace_bumps_only_changed_courses_and_refuses_a_bad_list_whole,
            courses::every_course_field_rule_answers_400_naming_the_field,
            courses::malformed_requests_get_json_errors_and_change_nothing,
            courses::head_is_answered_like_get_without_a_body,
            courses::progress_and_status_stay_consistent,
            courses::activity_log_says_what_changed_newest_first,
            cors::the_api_is_same_origin_only_by_default,
            cors::a_listed_origin_gets_a_preflight_and_cors_headers_on_every_answer,
            cors::an_origin_not_on_the_list_gets_no_cors_headers,
            cors::a_preflight_needs_no_token_but_the_request_still_does,
            auth::without_a_token_configured_the_api_is_open,
            auth::with_a_token_every_api_request_needs_it_but_health_stays_open,
            import_export::csv_variants_people_have_are_read,
            import_export::hostile_files_each_get_a_clear_400_and_change_nothing,
            import_export::row_errors_name_their_line_and_partial_imports_the_rest,
            import_export::partial_import_takes_the_valid_rows_and_reports_the_rest,
            import_export::export_then_import_into_an_empty_server_gives_the_same_state,
            sync::two_devices_editing_different_courses_both_land,
            sync::same_course_different_fields_merges_both_edits,
            sync::same_field_second_writer_gets_412_and_resolves_with_its_local_edit,
            sync::delete_on_one_device_while_the_other_edits,
            sync::change_feed_replay_equals_the_collection_under_random_writes,
            isolation::accounts_never_read_change_or_infer_each_others_data,
            openapi::the_document_lists_exactly_the_routes_the_component_answers,
            openapi::the_document_uses_only_the_schema_keywords_the_checker_enforces,
            openapi::the_checker_rejects_what_the_schema_forbids,
            openapi::a_tour_of_every_endpoint_conforms_to_the_document,
            calendar::a_feed_link_is_shown_once_and_revoking_it_answers_404,
            calendar::with_an_api_token_the_feed_link_is_separate_from_it,
            calendar::the_feed_has_one_all_day_event_per_deadline_with_stable_uids,
            calendar::the_feed_answers_304_until_a_course_changes,
            calendar::hostile_titles_and_notes_survive_a_real_icalendar_parser,
        );
    };
    (core: $target:expr) => {
        $crate::__suite_tests!($target;
            health::health_is_open_and_reports_the_component_version,
            courses::a_course_is_created_read_updated_and_deleted_with_revisions,
            courses::stale_if_match_is_refused_with_server_copy,
            feed::change_feed_pages_replay_to_the_collection,
            settings::monthly_goal_defaults_to_two_and_can_be_set,
            settings::settings_hold_any_json_and_survive_a_restart,
            settings::settings_etag_answers_304_until_a_setting_changes,
            settings::bad_keys_and_values_are_refused,
            seed::seed_client_checks_health,
            seed::seed_client_uses_the_course_list_as_a_plain_array,
            seed::seed_client_replaces_the_whole_list_with_one_post,
            seed::seed_client_reads_a_setting_and_takes_404_as_unset,
            seed::seed_client_saves_its_monthly_goal_as_a_string,
            seed::a_monthly_goal_that_is_not_a_goal_is_refused_and_changes_nothing,
            import_export::the_real_spreadsheet_imports_whole_and_exports_back_equal,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __suite_tests {
    ($target:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::suite::run(&$target, $crate::suite::$module::$name);
            }
        )*
    };
}
