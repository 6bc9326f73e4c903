//! The table of endpoints and the handlers behind them.

use crate::accounts::{self, Access, Mode, endpoints};
use crate::activity;
use crate::backend::{Backend, Dialect};
use crate::calendar;
use crate::cors::Cors;
use crate::errors::{ApiError, ApiResult};
use crate::http::{Request, Response, etag_for, etag_matches};
use crate::library::Library;
use crate::model;
use crate::settings;
use crate::store;
use crate::sync::{self, Outcome};
use crate::transfer;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

/// Bodies of ordinary requests.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Bodies of the bulk replace and of imports.
pub const LARGE_BODY_LIMIT: usize = 4 * 1024 * 1024;

pub const DEFAULT_ACTIVITY_LIMIT: i64 = 100;
pub const MAX_ACTIVITY_LIMIT: i64 = 1000;

pub const OPENAPI: &str = include_str!("../openapi.json");

/// One route: a path template (`{id}` is one segment) and the methods it
/// answers (`HEAD` is implied wherever `GET` is).
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [&'static str],
}

/// Every route the component answers; the OpenAPI document is tested against it.
pub const ROUTES: &[Route] = &[
    Route {
        path: "/health",
        methods: &["GET"],
    },
    Route {
        path: "/health/ready",
        methods: &["GET"],
    },
    Route {
        path: "/api/courses",
        methods: &["GET", "POST"],
    },
    Route {
        path: "/api/courses/{id}",
        methods: &["GET", "PUT", "PATCH", "DELETE"],
    },
    Route {
        path: "/api/changes",
        methods: &["GET"],
    },
    Route {
        path: "/api/settings",
        methods: &["GET"],
    },
    Route {
        path: "/api/settings/{key}",
        methods: &["GET", "POST", "PUT", "DELETE"],
    },
    Route {
        path: "/api/export",
        methods: &["GET"],
    },
    Route {
        path: "/api/export.csv",
        methods: &["GET"],
    },
    Route {
        path: "/api/import",
        methods: &["POST"],
    },
    Route {
        path: "/api/activity",
        methods: &["GET"],
    },
    Route {
        path: "/api/store/move-from-sqlite",
        methods: &["POST"],
    },
    Route {
        path: "/api/openapi.json",
        methods: &["GET"],
    },
    Route {
        path: calendar::FEED_PATH,
        methods: &["GET"],
    },
    Route {
        path: calendar::TOKEN_PATH,
        methods: &["GET", "POST", "DELETE"],
    },
    // Accounts (docs/accounts.md).
    Route {
        path: "/api/auth/state",
        methods: &["GET"],
    },
    Route {
        path: "/api/auth/setup",
        methods: &["POST"],
    },
    Route {
        path: "/api/auth/sign-in",
        methods: &["POST"],
    },
    Route {
        path: "/api/auth/sign-out",
        methods: &["POST"],
    },
    Route {
        path: "/api/auth/sign-out-everywhere",
        methods: &["POST"],
    },
    Route {
        path: "/api/auth/password",
        methods: &["POST"],
    },
    Route {
        path: "/api/auth/sharing",
        methods: &["PUT"],
    },
    Route {
        path: "/api/auth/tokens",
        methods: &["GET", "POST"],
    },
    Route {
        path: "/api/auth/tokens/{id}",
        methods: &["DELETE"],
    },
    Route {
        path: "/api/auth/invites/{token}",
        methods: &["GET"],
    },
    Route {
        path: "/api/auth/invites/{token}/accept",
        methods: &["POST"],
    },
    Route {
        path: "/api/team",
        methods: &["GET"],
    },
    Route {
        path: "/api/admin/accounts",
        methods: &["GET"],
    },
    Route {
        path: "/api/admin/accounts/{id}",
        methods: &["PATCH", "DELETE"],
    },
    Route {
        path: "/api/admin/accounts/{id}/export",
        methods: &["GET"],
    },
    Route {
        path: "/api/admin/invites",
        methods: &["GET", "POST"],
    },
    Route {
        path: "/api/admin/invites/{id}",
        methods: &["DELETE"],
    },
];

/// Find the route for a path and the value of its one parameter, if any.
pub fn match_route(path: &str) -> Option<(&'static Route, Option<&str>)> {
    let segs: Vec<&str> = path.split('/').collect();
    ROUTES.iter().find_map(|route| {
        let tpl: Vec<&str> = route.path.split('/').collect();
        if tpl.len() != segs.len() {
            return None;
        }
        let mut param = None;
        for (t, s) in tpl.iter().zip(&segs) {
            if t.starts_with('{') {
                if s.is_empty() {
                    return None;
                }
                param = Some(*s);
            } else if t != s {
                return None;
            }
        }
        Some((route, param))
    })
}

/// The largest body a request to `path` may carry.
pub fn body_limit(path: &str) -> usize {
    if path == "/api/import" || path == "/api/courses" {
        LARGE_BODY_LIMIT
    } else {
        DEFAULT_BODY_LIMIT
    }
}

fn allow_header(route: &Route) -> String {
    let mut methods: Vec<&str> = route.methods.to_vec();
    if methods.contains(&"GET") {
        methods.insert(1, "HEAD");
    }
    methods.join(", ")
}

/// The pure entry point: every request, every backend.
pub fn handle(b: &impl Backend, req: &Request) -> Response {
    let cors = Cors::for_request(b, req);
    let preflight = cors
        .is_allowed_preflight(req)
        .then(|| match_route(&req.path))
        .flatten();
    let mut resp = match preflight {
        Some((route, _)) => Cors::preflight(route),
        None => dispatch(b, req).unwrap_or_else(ApiError::into_response),
    };
    if req.method == "HEAD" {
        resp.body.clear();
    }
    if resp.header("cache-control").is_none() {
        // Revalidate with the ETag every time: data changes on other devices.
        resp = resp.with_header("cache-control", "no-cache");
    }
    cors.apply(resp)
}

fn dispatch(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    // Who the request acts for (api_token or a signed-in person) before anything
    // else, so an unknown route tells a stranger nothing either.
    let access = accounts::resolve(b, req)?;
    // A renewed session's cookie goes out on errors too: the renewal is stored.
    let resp = serve(b, req, &access).unwrap_or_else(ApiError::into_response);
    Ok(access.finish(req, resp))
}

fn serve(b: &impl Backend, req: &Request, access: &Access) -> ApiResult<Response> {
    let Some((route, param)) = match_route(&req.path) else {
        return Err(ApiError::not_found(format!("no endpoint at {}", req.path)));
    };
    let method = if req.method == "HEAD" {
        "GET"
    } else {
        req.method.as_str()
    };
    if !route.methods.contains(&method) {
        return Err(ApiError::method_not_allowed(&allow_header(route)));
    }
    let limit = body_limit(&req.path);
    if req.body.len() > limit {
        return Err(ApiError::too_large(limit));
    }
    let param = param.unwrap_or("");
    if endpoints::owns(route.path) {
        return endpoints::handle(b, req, access, route.path, method, param);
    }
    if access.mode == Mode::Accounts
        && route.path == "/api/store/move-from-sqlite"
        && !access.who.as_ref().is_some_and(|w| w.account.is_admin)
    {
        return Err(ApiError::new(
            403,
            "admin_only",
            "only an admin may do this",
        ));
    }
    // Everything below reads and writes the library of the person signed in
    // (owner 1's without accounts).
    let b = &Library::new(b, access.owner);
    // The schema once, before the handler. Course data needs it; on PostgreSQL so
    // do settings and the feed token, which live in the same database there. The
    // feed checks its token first (on SQLite that is the key-value store), so
    // it calls for the schema itself after that.
    // With accounts, finding the person already brought the schema up to date.
    let schema_checked = access.mode == Mode::Accounts && access.who.is_some();
    let schema_first = !schema_checked
        && match route.path {
            "/health" | "/health/ready" | "/api/openapi.json" => false,
            "/api/settings"
            | "/api/settings/{key}"
            | calendar::TOKEN_PATH
            | calendar::FEED_PATH => b.dialect() == Dialect::Postgres,
            _ => true,
        };
    if schema_first {
        store::ensure_schema(b)?;
    }
    match (route.path, method) {
        ("/health", _) => Ok(health()),
        ("/health/ready", _) => ready(b),
        ("/api/openapi.json", _) => Ok(Response::new(200)
            .with_header("content-type", "application/json")
            .with_body(OPENAPI.as_bytes().to_vec())),
        ("/api/settings", _) => get_settings(b, req),
        ("/api/settings/{key}", "GET") => get_setting(b, param),
        ("/api/settings/{key}", "DELETE") => delete_setting(b, param),
        ("/api/settings/{key}", _) => set_setting(b, req, param),
        (calendar::FEED_PATH, _) => calendar_feed(b, req),
        (calendar::TOKEN_PATH, "GET") => feed_token_status(b),
        (calendar::TOKEN_PATH, "POST") => create_feed_token(b, req),
        (calendar::TOKEN_PATH, _) => revoke_feed_token(b),
        ("/api/courses", "GET") => list_courses(b, req),
        ("/api/courses", _) => replace_courses(b, req),
        ("/api/courses/{id}", "GET") => get_course(b, req, param),
        ("/api/courses/{id}", "PUT") => put_course(b, req, param),
        ("/api/courses/{id}", "PATCH") => patch_course(b, req, param),
        ("/api/courses/{id}", _) => delete_course(b, req, param),
        ("/api/changes", _) => changes(b, req),
        ("/api/export", _) => export(b),
        ("/api/export.csv", _) => export_csv(b),
        ("/api/import", _) => import(b, req),
        ("/api/store/move-from-sqlite", _) => Ok(Response::json(
            200,
            &json!({ "moved": crate::store_move::move_from_sqlite(b)? }),
        )),
        _ => activity_log(b, req),
    }
}

/// Ready to serve: the store answers and its schema is one this code can use.
/// A load balancer's readiness probe: 503 while the database is unreachable.
fn ready(b: &impl Backend) -> ApiResult<Response> {
    store::ensure_schema(b)?;
    let store = match b.dialect() {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
    };
    Ok(Response::json(
        200,
        &json!({ "status": "ready", "store": store }),
    ))
}

fn health() -> Response {
    Response::json(
        200,
        &json!({
            "status": "ok",
            "component": env!("CARGO_PKG_NAME"),
            "version": option_env!("SKILLTRACK_BUILD_LABEL").unwrap_or(env!("CARGO_PKG_VERSION")),
            "schemaVersion": store::SCHEMA_VERSION,
        }),
    )
}

fn is_json_type(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// The body as JSON; a missing Content-Type is taken as JSON.
pub(crate) fn json_body(req: &Request) -> ApiResult<Json> {
    if let Some(media) = req.media_type()
        && !is_json_type(&media)
    {
        return Err(ApiError::unsupported_media("application/json"));
    }
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty",
        ));
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
    })
}

fn not_modified(req: &Request, etag: &str) -> bool {
    req.header("if-none-match")
        .is_some_and(|h| etag_matches(h, etag))
}

fn int_param(req: &Request, name: &str, default: i64, min: i64, max: i64) -> ApiResult<i64> {
    match req.query_param(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_field(
                    name,
                    format!("{name} must be an integer from {min} to {max}"),
                )
            }),
    }
}

fn list_courses(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    // An idle device polls this: answer 304 from one small read.
    let etag = etag_for(store::current_rev(b)?);
    if not_modified(req, &etag) {
        return Ok(Response::not_modified(&etag));
    }
    let (rev, body) = store::collection_json(b)?;
    Ok(Response::new(200)
        .with_header("content-type", "application/json")
        .with_header("etag", &etag_for(rev))
        .with_body(body))
}

fn replace_courses(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    let body = json_body(req)?;
    let list = sync::parse_course_list(&body)?;
    let summary = sync::replace_all(b, &list, req.header("if-match"))?;
    Ok(Response::json(200, &summary).with_header("etag", &etag_for(summary.rev)))
}

fn get_course(b: &impl Backend, req: &Request, id: &str) -> ApiResult<Response> {
    model::check_id("id", id)?;
    let stored = store::get_course(b, id)?;
    let course = match stored {
        Some(s) if !s.deleted => s.course,
        Some(_) => {
            return Err(ApiError::not_found(format!("course {id:?} was deleted"))
                .with_detail("deleted", json!(true)));
        }
        None => return Err(ApiError::not_found(format!("no course with id {id:?}"))),
    };
    let etag = etag_for(course.rev);
    if not_modified(req, &etag) {
        return Ok(Response::not_modified(&etag));
    }
    Ok(Response::json(200, &course).with_header("etag", &etag))
}

fn course_response(course: &model::Course, outcome: Outcome) -> Response {
    let status = if outcome == Outcome::Created {
        201
    } else {
        200
    };
    let mut resp = Response::json(status, course).with_header("etag", &etag_for(course.rev));
    if outcome == Outcome::Created {
        resp = resp.with_header("location", &format!("/api/courses/{}", course.id));
    }
    resp
}

fn put_course(b: &impl Backend, req: &Request, id: &str) -> ApiResult<Response> {
    model::check_id("id", id)?;
    let body = json_body(req)?;
    let fields = model::parse_fields(&body, false)?;
    let create_only = req.header("if-none-match").is_some_and(|h| h.trim() == "*");
    let (course, outcome) = sync::put_course(b, id, &fields, req.header("if-match"), create_only)?;
    Ok(course_response(&course, outcome))
}

fn patch_course(b: &impl Backend, req: &Request, id: &str) -> ApiResult<Response> {
    model::check_id("id", id)?;
    let body = json_body(req)?;
    let fields = model::parse_fields(&body, false)?;
    let (course, outcome) = sync::patch_course(b, id, &fields, req.header("if-match"))?;
    Ok(course_response(&course, outcome))
}

fn delete_course(b: &impl Backend, req: &Request, id: &str) -> ApiResult<Response> {
    model::check_id("id", id)?;
    let rev = sync::delete_course(b, id, req.header("if-match"))?;
    Ok(
        Response::json(200, &json!({"id": id, "deleted": true, "rev": rev}))
            .with_header("etag", &etag_for(rev)),
    )
}

fn changes(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    let since = int_param(req, "since", 0, 0, i64::MAX / 2)?;
    let limit = int_param(
        req,
        "limit",
        sync::DEFAULT_FEED_LIMIT,
        1,
        sync::MAX_FEED_LIMIT,
    )?;
    let feed = sync::changes(b, since, limit)?;
    Ok(Response::json(200, &feed).with_header("etag", &etag_for(feed.rev)))
}

fn get_settings(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    let etag = settings::etag(b)?;
    if not_modified(req, &etag) {
        return Ok(Response::not_modified(&etag));
    }
    let all = settings::all(b)?;
    Ok(Response::json(200, &all).with_header("etag", &etag))
}

fn get_setting(b: &impl Backend, key: &str) -> ApiResult<Response> {
    settings::check_key(key)?;
    match settings::get(b, key)? {
        Some(v) => Ok(Response::json(200, &json!({"value": v}))),
        None => Err(ApiError::not_found(format!("setting {key:?} is not set"))),
    }
}

fn set_setting(b: &impl Backend, req: &Request, key: &str) -> ApiResult<Response> {
    settings::check_key(key)?;
    let body = json_body(req)?;
    let obj = body.as_object().ok_or_else(|| {
        ApiError::bad_request("invalid_body", "the body must be {\"value\": ...}")
    })?;
    if let Some(other) = obj.keys().find(|k| k.as_str() != "value") {
        return Err(
            ApiError::bad_request("unknown_field", format!("unknown field {other:?}"))
                .with_field(other),
        );
    }
    let value = obj
        .get("value")
        .ok_or_else(|| ApiError::invalid_field("value", "value is required"))?;
    // The answer shows the value as stored: a goal sent as "3" reads back as 3.
    let (value, stored) = settings::check(key, value)?;
    let etag = settings::set(b, key, &stored)?;
    Ok(Response::json(200, &json!({"key": key, "value": value})).with_header("etag", &etag))
}

fn delete_setting(b: &impl Backend, key: &str) -> ApiResult<Response> {
    settings::check_key(key)?;
    if settings::delete(b, key)? {
        Ok(Response::json(200, &json!({"key": key, "deleted": true})))
    } else {
        Err(ApiError::not_found(format!("setting {key:?} is not set")))
    }
}

fn export(b: &impl Backend) -> ApiResult<Response> {
    let doc = transfer::export_json(b)?;
    Ok(Response::json(200, &doc).with_header(
        "content-disposition",
        "attachment; filename=\"skilltrack-backup.json\"",
    ))
}

fn export_csv(b: &impl Backend) -> ApiResult<Response> {
    let text = transfer::export_csv(b)?;
    Ok(Response::new(200)
        .with_header("content-type", "text/csv; charset=utf-8")
        .with_header(
            "content-disposition",
            "attachment; filename=\"skilltrack-courses.csv\"",
        )
        .with_body(text.into_bytes()))
}

fn import(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    let partial = req
        .query_param("partial")
        .is_some_and(|v| v == "true" || v == "1");
    let media = req.media_type();
    let parsed = match media.as_deref() {
        Some("text/csv") | Some("application/csv") => transfer::parse_csv(&req.body)?,
        None => transfer::parse_backup(&req.body)?,
        Some(m) if is_json_type(m) => transfer::parse_backup(&req.body)?,
        Some(_) => return Err(ApiError::unsupported_media("application/json or text/csv")),
    };
    let report = transfer::apply(b, parsed, partial)?;
    Ok(Response::json(200, &report).with_header("etag", &etag_for(report.rev)))
}

fn activity_log(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    let limit = int_param(req, "limit", DEFAULT_ACTIVITY_LIMIT, 1, MAX_ACTIVITY_LIMIT)?;
    let entries = activity::list(b, limit)?;
    Ok(Response::json(200, &json!({ "entries": entries })))
}

fn calendar_feed(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    // No sign-in here: the token says whose feed it is.
    let token = req.query_param("token");
    let library = Library::new(b, calendar::feed_owner(token.as_deref())?);
    // The token first: a request without the right one touches no course data.
    calendar::check(&library, token.as_deref())?;
    if b.dialect() == Dialect::Sqlite {
        store::ensure_schema(b)?;
    }
    let courses = store::live_courses(&library)?;
    let body = calendar::render(&courses, calendar::request_origin(req).as_deref());
    // The body is small and rendered anyway: its hash is an exact validator.
    let hash = Sha256::digest(body.as_bytes());
    let tag: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"ics-{tag}\"");
    // The URL holds a secret: no shared cache may keep the answer.
    let cache = "private, no-cache";
    if not_modified(req, &etag) {
        return Ok(Response::not_modified(&etag).with_header("cache-control", cache));
    }
    Ok(Response::new(200)
        .with_header("content-type", "text/calendar; charset=utf-8")
        .with_header(
            "content-disposition",
            "inline; filename=\"skilltrack-deadlines.ics\"",
        )
        .with_header("etag", &etag)
        .with_header("cache-control", cache)
        .with_body(body.into_bytes()))
}

fn feed_token_status(b: &impl Backend) -> ApiResult<Response> {
    let since = calendar::active_since(b)?;
    Ok(Response::json(
        200,
        &json!({"active": since.is_some(), "createdAt": since}),
    ))
}

/// Makes a new feed link (revoking the previous one) and answers it: the one time
/// the token is shown.
fn create_feed_token(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    let new = calendar::create(b)?;
    let path = calendar::feed_path(&new.token);
    let url = calendar::request_origin(req).map(|o| format!("{o}{path}"));
    Ok(Response::json(
        201,
        &json!({
            "active": true,
            "createdAt": new.created_at,
            "token": new.token,
            "path": path,
            "url": url,
        }),
    )
    .with_header("cache-control", "no-store"))
}

fn revoke_feed_token(b: &impl Backend) -> ApiResult<Response> {
    let revoked = calendar::revoke(b)?;
    Ok(Response::json(
        200,
        &json!({"active": false, "revoked": revoked}),
    ))
}
