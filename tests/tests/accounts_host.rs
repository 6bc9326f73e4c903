//! Accounts (docs/accounts.md) over real HTTP: the real tracker-host serving the
//! real components with `auth = accounts`, on SQLite and on PostgreSQL, and Spin
//! where a `spin` binary is found. Every answer is checked against openapi.json
//! (through `Api`).
//!
//! The scenarios are functions of a target, like the API suite's; `accounts!`
//! below makes one `#[test]` per scenario and target. What only tracker-host on
//! SQLite can show (expiry, by editing the stored times) is at the end.

use integration::HostOptions;
use integration::suite::{Api, Client, Resp, Target, error_of, start_with};
use integration::targets::host::start_api;
use integration::targets::{
    HostTarget, PostgresTarget, SpinPostgresTarget, SpinTarget, spin_variable_env,
};
use serde_json::{Value as Json, json};

const ACCOUNTS: &[(&str, &str)] = &[("auth", "accounts")];
const ADMIN_PW: &str = "correct horse battery";
const MEMBER_PW: &str = "member password 1";
const COOKIE: &str = "skilltrack_session";

/// A credential to send: a session cookie (`Cookie` header) or a personal token.
#[derive(Clone)]
enum Who {
    Nobody,
    Cookie(String),
    Token(String),
}

fn headers_for<'a>(who: &'a Who, extra: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    match who {
        Who::Nobody => {}
        Who::Cookie(c) => h.push(("cookie".into(), c.clone())),
        Who::Token(t) => h.push(("authorization".into(), format!("Bearer {t}"))),
    }
    h
}

fn send<C: Client>(
    api: &Api<C>,
    who: &Who,
    method: &str,
    path: &str,
    body: Option<&Json>,
    extra: &[(&str, &str)],
) -> Resp {
    let mut h = headers_for(who, extra);
    let bytes = body.map(|b| b.to_string().into_bytes());
    if bytes.is_some() {
        h.push(("content-type".into(), "application/json".into()));
    }
    let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    api.raw(method, path, &refs, bytes.as_deref())
}

fn post<C: Client>(api: &Api<C>, who: &Who, path: &str, body: &Json) -> Resp {
    send(api, who, "POST", path, Some(body), &[])
}

fn put<C: Client>(api: &Api<C>, who: &Who, path: &str, body: &Json) -> Resp {
    send(api, who, "PUT", path, Some(body), &[])
}

fn patch<C: Client>(api: &Api<C>, who: &Who, path: &str, body: &Json) -> Resp {
    send(api, who, "PATCH", path, Some(body), &[])
}

fn get<C: Client>(api: &Api<C>, who: &Who, path: &str) -> Resp {
    send(api, who, "GET", path, None, &[])
}

/// `name=value` of the session cookie an answer sets.
fn cookie_of(r: &Resp) -> String {
    let set = r
        .header("set-cookie")
        .unwrap_or_else(|| panic!("no Set-Cookie on {} {}", r.status, r.text()));
    let pair = set.split(';').next().unwrap_or_default().trim().to_owned();
    assert!(pair.starts_with(&format!("{COOKIE}=")), "{set}");
    pair
}

fn code(r: &Resp) -> (u16, String) {
    let (status, code, _) = error_of(r);
    (status, code)
}

fn creds(username: &str, password: &str) -> Json {
    json!({"username": username, "password": password})
}

fn start(t: &dyn Target) -> Api {
    start_with(t, ACCOUNTS)
}

/// A server with its admin (account 1, `admin`) signed in.
fn with_admin(t: &dyn Target) -> (Api, Who) {
    let api = start(t);
    let who = set_up_admin(&api);
    (api, who)
}

/// The first account (`admin`), signed in.
fn set_up_admin<C: Client>(api: &Api<C>) -> Who {
    let r = post(
        api,
        &Who::Nobody,
        "/api/auth/setup",
        &creds("admin", ADMIN_PW),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    Who::Cookie(cookie_of(&r))
}

/// A new personal API token of `who`, as a credential.
fn new_token<C: Client>(api: &Api<C>, who: &Who, name: &str) -> Who {
    let r = post(api, who, "/api/auth/tokens", &json!({ "name": name }));
    assert_eq!(r.status, 201, "{}", r.text());
    Who::Token(r.json()["token"].as_str().unwrap_or_default().to_owned())
}

/// An invitation accepted by `username`: their id and signed-in cookie.
fn invite_member<C: Client>(api: &Api<C>, admin: &Who, username: &str) -> (i64, Who) {
    let inv = post(api, admin, "/api/admin/invites", &json!({}));
    assert_eq!(inv.status, 201, "{}", inv.text());
    let token = inv.json()["token"].as_str().unwrap_or_default().to_owned();
    let r = post(
        api,
        &Who::Nobody,
        &format!("/api/auth/invites/{token}/accept"),
        &creds(username, MEMBER_PW),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["account"]["id"].as_i64().unwrap_or_default();
    (id, Who::Cookie(cookie_of(&r)))
}

fn sign_in(api: &Api, username: &str, password: &str) -> Resp {
    post(
        api,
        &Who::Nobody,
        "/api/auth/sign-in",
        &creds(username, password),
    )
}

// ---- scenarios -------------------------------------------------------------

pub fn setup_happens_once_and_signs_the_admin_in(t: &dyn Target) {
    let api = start(t);
    let state = get(&api, &Who::Nobody, "/api/auth/state").json();
    assert_eq!(
        state,
        json!({"mode": "accounts", "setupRequired": true, "account": null})
    );
    let r = post(
        &api,
        &Who::Nobody,
        "/api/auth/setup",
        &creds("Admin", ADMIN_PW),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json()["account"],
        json!({"id": 1, "username": "admin", "isAdmin": true, "shareProgress": false})
    );
    let set = r.header("set-cookie").unwrap_or_default();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(set.contains(part), "{set} lacks {part}");
    }
    assert!(!set.contains("Secure"), "plain http gets no Secure: {set}");
    let value = cookie_of(&r);
    let token = value.split_once('=').map(|(_, v)| v).unwrap_or_default();
    assert_eq!(token.len(), 64, "256 bits as hex: {token}");
    let admin = Who::Cookie(value);

    let again = post(
        &api,
        &Who::Nobody,
        "/api/auth/setup",
        &creds("other", ADMIN_PW),
    );
    assert_eq!(code(&again), (409, "setup_done".into()));
    let state = get(&api, &admin, "/api/auth/state").json();
    assert_eq!(state["setupRequired"], false);
    assert_eq!(state["account"]["username"], "admin");
    assert_eq!(
        get(&api, &Who::Nobody, "/api/auth/state").json()["account"],
        Json::Null
    );
    // Over https (a TLS proxy saying so) the cookie is Secure.
    let tls = send(
        &api,
        &Who::Nobody,
        "POST",
        "/api/auth/sign-in",
        Some(&creds("admin", ADMIN_PW)),
        &[("x-forwarded-proto", "https")],
    );
    assert_eq!(tls.status, 200, "{}", tls.text());
    assert!(
        tls.header("set-cookie")
            .unwrap_or_default()
            .contains("Secure")
    );
}

pub fn without_a_valid_credential_the_api_answers_401(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    assert_eq!(get(&api, &admin, "/api/courses").status, 200);
    let forged = format!("{COOKIE}={}", "ab".repeat(32));
    let truncated = match &admin {
        Who::Cookie(c) => c[..c.len() - 1].to_owned(),
        _ => unreachable!(),
    };
    for who in [
        Who::Nobody,
        Who::Cookie(forged),
        Who::Cookie(truncated),
        Who::Cookie(format!("{COOKIE}=")),
        Who::Cookie(format!("{COOKIE}=\u{e9}\u{e9}")),
        Who::Token("st_".to_owned() + &"0".repeat(64)),
        Who::Token("not-a-token".into()),
    ] {
        for path in [
            "/api/courses",
            "/api/settings",
            "/api/team",
            "/api/no-such-route",
        ] {
            let r = get(&api, &who, path);
            assert_eq!(code(&r), (401, "sign_in_required".into()), "{path}");
        }
    }
    // Health and the public routes stay open.
    assert_eq!(get(&api, &Who::Nobody, "/health").status, 200);
    assert_eq!(get(&api, &Who::Nobody, "/api/auth/state").status, 200);
}

pub fn a_failed_sign_in_answers_the_same_for_every_reason(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    let (member_id, _) = invite_member(&api, &admin, "bob");
    let wrong = sign_in(&api, "admin", "not the password");
    let unknown = sign_in(&api, "nobody", "not the password");
    let r = patch(
        &api,
        &admin,
        &format!("/api/admin/accounts/{member_id}"),
        &json!({"disabled": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let disabled = sign_in(&api, "bob", MEMBER_PW);
    for r in [&wrong, &unknown, &disabled] {
        assert_eq!(code(r), (401, "invalid_credentials".into()));
        assert_eq!(r.body, wrong.body, "one answer for every failure");
        assert!(r.header("set-cookie").is_none());
    }
    // Usernames are case-insensitive.
    let ok = sign_in(&api, "ADMIN", ADMIN_PW);
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["account"]["id"], 1);
}

pub fn a_session_survives_a_restart(t: &dyn Target) {
    let (mut api, admin) = with_admin(t);
    let r = put(&api, &admin, "/api/courses/kept", &json!({"title": "Kept"}));
    assert_eq!(r.status, 201, "{}", r.text());
    api.restart();
    let r = get(&api, &admin, "/api/courses/kept");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get(&api, &Who::Nobody, "/api/courses").status, 401);
}

pub fn a_cookie_write_from_another_site_is_refused(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    // The server's own origin, as it reports it in an invitation link.
    let inv = send(&api, &admin, "POST", "/api/admin/invites", None, &[]).json();
    let url = inv["url"].as_str().unwrap_or_default().to_owned();
    let own = url.split("/#/").next().unwrap_or_default().to_owned();
    assert!(own.starts_with("http://"), "{url}");
    let course = json!({"title": "X"});
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "http://evil.example")],
        vec![("origin", "null")],
        vec![
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://evil.example"),
        ],
    ] {
        let r = send(
            &api,
            &admin,
            "PUT",
            "/api/courses/x",
            Some(&course),
            &headers,
        );
        assert_eq!(code(&r), (403, "cross_site".into()), "{headers:?}");
        let r = send(&api, &admin, "POST", "/api/auth/sign-out", None, &headers);
        assert_eq!(code(&r), (403, "cross_site".into()), "{headers:?}");
    }
    assert_eq!(
        get(&api, &admin, "/api/courses/x").status,
        404,
        "nothing written"
    );
    assert_eq!(
        get(&api, &admin, "/api/auth/state").json()["account"]["id"],
        1
    );
    // Reads are not refused, and the app's own pages may write.
    let r = send(
        &api,
        &admin,
        "GET",
        "/api/courses",
        None,
        &[("sec-fetch-site", "cross-site")],
    );
    assert_eq!(r.status, 200);
    let r = send(
        &api,
        &admin,
        "PUT",
        "/api/courses/x",
        Some(&course),
        &[("sec-fetch-site", "same-origin"), ("origin", own.as_str())],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // A sign-in posted from another site's page is refused too (login CSRF).
    let r = send(
        &api,
        &Who::Nobody,
        "POST",
        "/api/auth/sign-in",
        Some(&creds("admin", ADMIN_PW)),
        &[("sec-fetch-site", "cross-site")],
    );
    assert_eq!(code(&r), (403, "cross_site".into()));
    // A personal token is not a browser credential: it is exempt.
    let token = new_token(&api, &admin, "ci");
    let r = send(
        &api,
        &token,
        "PUT",
        "/api/courses/y",
        Some(&course),
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://evil.example"),
        ],
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

pub fn repeated_failures_for_one_username_are_throttled(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    invite_member(&api, &admin, "bob");
    for i in 0..5 {
        let r = sign_in(&api, "admin", "wrong password");
        assert_eq!(code(&r), (401, "invalid_credentials".into()), "attempt {i}");
    }
    // Locked: even the right password is not checked.
    let r = sign_in(&api, "admin", ADMIN_PW);
    assert_eq!(code(&r), (429, "too_many_attempts".into()));
    let secs: i64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    assert!((1..=30).contains(&secs), "Retry-After {secs}");
    // Another username is not locked, nor is the admin's live session.
    assert_eq!(sign_in(&api, "bob", MEMBER_PW).status, 200);
    assert_eq!(get(&api, &admin, "/api/courses").status, 200);
}

pub fn repeated_failures_from_one_address_are_throttled(t: &dyn Target) {
    let (api, _admin) = with_admin(t);
    for i in 0..20 {
        // Different usernames, so only the address counts them all.
        let r = sign_in(&api, &format!("guess{i}"), "wrong password");
        assert_eq!(code(&r), (401, "invalid_credentials".into()), "attempt {i}");
    }
    let r = sign_in(&api, "admin", ADMIN_PW);
    assert_eq!(code(&r), (429, "too_many_attempts".into()));
    assert!(r.header("retry-after").is_some());
}

/// Behind a proxy the peer is the proxy: with `trusted_proxy_hops` the address
/// limit reads the client from `X-Forwarded-For`, as far to the right as the
/// operator's proxies wrote it, so one client's guessing does not lock out the
/// others behind the same proxy, and a client cannot dodge it by writing the header.
pub fn behind_a_trusted_proxy_the_address_limit_counts_each_client(t: &dyn Target) {
    let api = start_with(t, &[("auth", "accounts"), ("trusted_proxy_hops", "1")]);
    set_up_admin(&api);
    let via_proxy = |client: &'static str, forged: &'static str, username: &str, pw: &str| {
        let forwarded = format!("{forged}, {client}");
        send(
            &api,
            &Who::Nobody,
            "POST",
            "/api/auth/sign-in",
            Some(&creds(username, pw)),
            &[("x-forwarded-for", forwarded.as_str())],
        )
    };
    for i in 0..20 {
        // A new forged left part each time: it must not reset the count.
        let forged = if i % 2 == 0 { "192.0.2.1" } else { "192.0.2.2" };
        let r = via_proxy(
            "198.51.100.7",
            forged,
            &format!("guess{i}"),
            "wrong password",
        );
        assert_eq!(code(&r), (401, "invalid_credentials".into()), "attempt {i}");
    }
    let locked = via_proxy("198.51.100.7", "192.0.2.3", "admin", ADMIN_PW);
    assert_eq!(code(&locked), (429, "too_many_attempts".into()));
    let other = via_proxy("198.51.100.8", "192.0.2.1", "admin", ADMIN_PW);
    assert_eq!(
        other.status,
        200,
        "another client behind the proxy: {}",
        other.text()
    );
}

pub fn an_invitation_is_single_use_and_admin_made(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    let inv = post(
        &api,
        &admin,
        "/api/admin/invites",
        &json!({"expiresInHours": 2}),
    );
    assert_eq!(inv.status, 201, "{}", inv.text());
    let inv = inv.json();
    let token = inv["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(inv["path"], format!("/#/invite/{token}"));
    assert!(
        inv["url"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("/#/invite/{token}"))
    );
    let listed = get(&api, &admin, "/api/admin/invites").json()["invites"].clone();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["id"], inv["id"]);
    assert!(
        !listed.to_string().contains(&token),
        "the list never shows tokens"
    );

    let status = get(&api, &Who::Nobody, &format!("/api/auth/invites/{token}"));
    assert_eq!(status.status, 200, "{}", status.text());
    assert_eq!(status.json()["valid"], true);
    // A taken username leaves the invitation usable.
    let taken = post(
        &api,
        &Who::Nobody,
        &format!("/api/auth/invites/{token}/accept"),
        &creds("ADMIN", MEMBER_PW),
    );
    assert_eq!(code(&taken), (409, "username_taken".into()));
    let accept = post(
        &api,
        &Who::Nobody,
        &format!("/api/auth/invites/{token}/accept"),
        &creds("carol", MEMBER_PW),
    );
    assert_eq!(accept.status, 201, "{}", accept.text());
    assert_eq!(accept.json()["account"]["isAdmin"], false);
    assert_eq!(accept.json()["account"]["id"], 2);
    let carol = Who::Cookie(cookie_of(&accept));
    assert_eq!(
        get(&api, &carol, "/api/auth/state").json()["account"]["username"],
        "carol"
    );
    // Replayed: the same 404 as a link that never existed.
    let replay = post(
        &api,
        &Who::Nobody,
        &format!("/api/auth/invites/{token}/accept"),
        &creds("mallory", MEMBER_PW),
    );
    assert_eq!(code(&replay), (404, "invite_invalid".into()));
    for path in [
        format!("/api/auth/invites/{token}"),
        format!("/api/auth/invites/{}", "0".repeat(64)),
        "/api/auth/invites/short".to_owned(),
    ] {
        assert_eq!(
            code(&get(&api, &Who::Nobody, &path)),
            (404, "invite_invalid".into())
        );
    }
    assert_eq!(sign_in(&api, "mallory", MEMBER_PW).status, 401);
    assert_eq!(
        get(&api, &admin, "/api/admin/invites").json()["invites"],
        json!([])
    );
    // Withdrawn before use: dead.
    let inv = send(&api, &admin, "POST", "/api/admin/invites", None, &[]).json();
    let (id, token) = (
        inv["id"].as_str().unwrap_or_default(),
        inv["token"].as_str().unwrap_or_default(),
    );
    let r = send(
        &api,
        &admin,
        "DELETE",
        &format!("/api/admin/invites/{id}"),
        None,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        code(&get(
            &api,
            &Who::Nobody,
            &format!("/api/auth/invites/{token}")
        )),
        (404, "invite_invalid".into())
    );
    let r = send(
        &api,
        &admin,
        "DELETE",
        &format!("/api/admin/invites/{id}"),
        None,
        &[],
    );
    assert_eq!(r.status, 404);
    for hours in [json!(0), json!(721), json!("72"), json!(1.5)] {
        let r = post(
            &api,
            &admin,
            "/api/admin/invites",
            &json!({"expiresInHours": hours}),
        );
        assert_eq!(r.status, 400, "{hours}: {}", r.text());
    }
}

pub fn admin_routes_are_for_the_admin_only(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    let (bob_id, bob) = invite_member(&api, &admin, "bob");
    let forbidden: Vec<(&str, String, Option<Json>)> = vec![
        ("GET", "/api/admin/accounts".into(), None),
        (
            "PATCH",
            "/api/admin/accounts/1".into(),
            Some(json!({"disabled": true})),
        ),
        ("DELETE", "/api/admin/accounts/1?confirm=admin".into(), None),
        ("GET", "/api/admin/accounts/1/export".into(), None),
        ("GET", "/api/admin/invites".into(), None),
        ("POST", "/api/admin/invites".into(), Some(json!({}))),
        ("DELETE", "/api/admin/invites/abc".into(), None),
        ("POST", "/api/store/move-from-sqlite".into(), None),
    ];
    for (method, path, body) in &forbidden {
        let r = send(&api, &bob, method, path, body.as_ref(), &[]);
        assert_eq!(code(&r), (403, "admin_only".into()), "{method} {path}");
    }
    assert_eq!(
        get(&api, &admin, "/api/auth/state").json()["account"]["id"],
        1
    );
    let list = get(&api, &admin, "/api/admin/accounts").json()["accounts"].clone();
    let names: Vec<&str> = list
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["username"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["admin", "bob"]);
    assert_eq!(list[1]["id"], bob_id);
    assert_eq!(list[1]["disabled"], false);
    assert!(list[1]["lastSeenAt"].is_string());
    // The admin's export of a person is the export document.
    let r = post(
        &api,
        &bob,
        "/api/settings/monthly_goal",
        &json!({"value": 7}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let export = get(
        &api,
        &admin,
        &format!("/api/admin/accounts/{bob_id}/export"),
    );
    assert_eq!(export.status, 200, "{}", export.text());
    assert_eq!(
        export.json()["settings"]["monthly_goal"],
        7,
        "{}",
        export.text()
    );
    assert_eq!(
        get(&api, &admin, "/api/admin/accounts/99/export").status,
        404
    );
}

pub fn disabling_and_removing_end_access(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    let (bob_id, bob) = invite_member(&api, &admin, "bob");
    let bob_token = new_token(&api, &bob, "script");
    let r = post(
        &api,
        &bob,
        "/api/settings/monthly_goal",
        &json!({"value": 9}),
    );
    assert_eq!(r.status, 200);
    let path = format!("/api/admin/accounts/{bob_id}");

    // The admin cannot lock themself out.
    let r = patch(
        &api,
        &admin,
        "/api/admin/accounts/1",
        &json!({"disabled": true}),
    );
    assert_eq!(code(&r), (400, "own_account".into()));
    let r = send(
        &api,
        &admin,
        "DELETE",
        "/api/admin/accounts/1?confirm=admin",
        None,
        &[],
    );
    assert_eq!(code(&r), (400, "own_account".into()));

    let r = patch(&api, &admin, &path, &json!({"disabled": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["account"]["disabled"], true);
    for who in [&bob, &bob_token] {
        assert_eq!(
            code(&get(&api, who, "/api/courses")),
            (401, "sign_in_required".into())
        );
    }
    assert_eq!(sign_in(&api, "bob", MEMBER_PW).status, 401);
    let r = patch(&api, &admin, &path, &json!({"disabled": false}));
    assert_eq!(r.status, 200);
    // Enabled again: the old session stays ended, the token works again.
    assert_eq!(get(&api, &bob, "/api/courses").status, 401);
    assert_eq!(get(&api, &bob_token, "/api/courses").status, 200);
    let bob = Who::Cookie(cookie_of(&sign_in(&api, "bob", MEMBER_PW)));

    for confirm in ["", "?confirm=", "?confirm=BOB", "?confirm=admin"] {
        let r = send(
            &api,
            &admin,
            "DELETE",
            &format!("{path}{confirm}"),
            None,
            &[],
        );
        assert_eq!(code(&r), (400, "confirm_required".into()), "{confirm}");
    }
    assert_eq!(
        get(&api, &bob, "/api/courses").status,
        200,
        "nothing removed yet"
    );
    let r = send(
        &api,
        &admin,
        "DELETE",
        &format!("{path}?confirm=bob"),
        None,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for who in [&bob, &bob_token] {
        assert_eq!(get(&api, who, "/api/courses").status, 401);
    }
    assert_eq!(sign_in(&api, "bob", MEMBER_PW).status, 401);
    assert_eq!(get(&api, &admin, &format!("{path}/export")).status, 404);
    let r = send(
        &api,
        &admin,
        "DELETE",
        &format!("{path}?confirm=bob"),
        None,
        &[],
    );
    assert_eq!(r.status, 404);
    let names = get(&api, &admin, "/api/admin/accounts").json()["accounts"].to_string();
    assert!(!names.contains("bob"), "{names}");
    // A new person never inherits the removed one's settings.
    let (new_id, new) = invite_member(&api, &admin, "dave");
    assert_ne!(new_id, bob_id);
    let r = get(&api, &new, "/api/settings/monthly_goal");
    assert_ne!(r.json()["value"], 9, "{}", r.text());
}

pub fn personal_tokens_are_shown_once_used_and_revoked(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    let (_, bob) = invite_member(&api, &admin, "bob");
    let r = post(
        &api,
        &admin,
        "/api/auth/tokens",
        &json!({"name": "backup script"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    let token = created["token"].as_str().unwrap_or_default().to_owned();
    assert!(token.starts_with("st_") && token.len() == 67, "{token}");
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let list = get(&api, &admin, "/api/auth/tokens").json()["tokens"].clone();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "backup script");
    assert_eq!(list[0]["lastUsedAt"], Json::Null);
    assert!(!list.to_string().contains(&token), "never shown again");
    // Another person's list does not show it.
    assert_eq!(
        get(&api, &bob, "/api/auth/tokens").json()["tokens"],
        json!([])
    );

    let script = Who::Token(token.clone());
    assert_eq!(get(&api, &script, "/api/courses").status, 200);
    assert_eq!(
        get(&api, &script, "/api/auth/state").json()["account"]["id"],
        1
    );
    let list = get(&api, &admin, "/api/auth/tokens").json()["tokens"].clone();
    assert!(list[0]["lastUsedAt"].is_string(), "{list}");
    // Not someone else's to revoke.
    let r = send(
        &api,
        &bob,
        "DELETE",
        &format!("/api/auth/tokens/{id}"),
        None,
        &[],
    );
    assert_eq!(r.status, 404);
    assert_eq!(get(&api, &script, "/api/courses").status, 200);
    let r = send(
        &api,
        &admin,
        "DELETE",
        &format!("/api/auth/tokens/{id}"),
        None,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        code(&get(&api, &script, "/api/courses")),
        (401, "sign_in_required".into())
    );
    let r = send(
        &api,
        &admin,
        "DELETE",
        &format!("/api/auth/tokens/{id}"),
        None,
        &[],
    );
    assert_eq!(r.status, 404);
    // A second token has a different, unrelated id.
    let other = post(&api, &admin, "/api/auth/tokens", &json!({"name": "x"})).json();
    assert_ne!(other["id"], created["id"]);
    assert!(
        other["id"]
            .as_str()
            .is_some_and(|s| s.len() >= 16 && s.parse::<i64>().is_err())
    );
}

pub fn changing_the_password_ends_the_other_sessions(t: &dyn Target) {
    let (api, first) = with_admin(t);
    let second = Who::Cookie(cookie_of(&sign_in(&api, "admin", ADMIN_PW)));
    let third = Who::Cookie(cookie_of(&sign_in(&api, "admin", ADMIN_PW)));
    let change = |current: &str, new: &str| {
        post(
            &api,
            &first,
            "/api/auth/password",
            &json!({"currentPassword": current, "newPassword": new}),
        )
    };
    assert_eq!(
        code(&change("wrong password", "new password 1")),
        (403, "wrong_password".into())
    );
    assert_eq!(
        code(&change(ADMIN_PW, "short")),
        (400, "invalid_password".into())
    );
    assert_eq!(
        get(&api, &second, "/api/courses").status,
        200,
        "nothing changed yet"
    );
    let r = change(ADMIN_PW, "new password 1");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        get(&api, &first, "/api/courses").status,
        200,
        "this session stays"
    );
    assert_eq!(get(&api, &second, "/api/courses").status, 401);
    assert_eq!(get(&api, &third, "/api/courses").status, 401);
    assert_eq!(sign_in(&api, "admin", ADMIN_PW).status, 401);
    let again = Who::Cookie(cookie_of(&sign_in(&api, "admin", "new password 1")));

    // Sign-out ends one session and clears the cookie; everywhere ends all.
    let r = send(&api, &first, "POST", "/api/auth/sign-out", None, &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.header("set-cookie")
            .unwrap_or_default()
            .contains("Max-Age=0")
    );
    assert_eq!(get(&api, &first, "/api/courses").status, 401);
    assert_eq!(get(&api, &again, "/api/courses").status, 200);
    let other = Who::Cookie(cookie_of(&sign_in(&api, "admin", "new password 1")));
    let r = send(
        &api,
        &again,
        "POST",
        "/api/auth/sign-out-everywhere",
        None,
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(get(&api, &again, "/api/courses").status, 401);
    assert_eq!(get(&api, &other, "/api/courses").status, 401);
}

pub fn the_team_page_shows_only_those_who_share(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    let (_, bob) = invite_member(&api, &admin, "bob");
    let add_course = |who: &Who, id: &str, body: Json| {
        let r = put(&api, who, &format!("/api/courses/{id}"), &body);
        assert!(r.status == 201 || r.status == 200, "{}", r.text());
    };
    add_course(
        &bob,
        "rust",
        json!({"title": "Rust", "completionRatio": 40, "notes": "private note"}),
    );
    add_course(&bob, "go", json!({"title": "Go", "completionRatio": 100}));
    add_course(
        &bob,
        "old",
        json!({"title": "Old", "completionRatio": 10, "isArchived": true}),
    );
    let r = post(
        &api,
        &bob,
        "/api/settings/monthly_goal",
        &json!({"value": "5"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&api, &admin, "/api/team").json(),
        json!({"members": []})
    );

    let r = put(&api, &bob, "/api/auth/sharing", &json!({"share": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["account"]["shareProgress"], true);
    let team = get(&api, &admin, "/api/team");
    assert_eq!(team.status, 200, "{}", team.text());
    let members = team.json()["members"].clone();
    assert_eq!(members.as_array().map(Vec::len), Some(1), "{members}");
    let bob_card = &members[0];
    assert_eq!(bob_card["username"], "bob");
    assert_eq!(bob_card["monthlyGoal"], 5);
    assert_eq!(bob_card["completedThisMonth"], 1);
    assert_eq!(bob_card["completedThisYear"], 1);
    assert_eq!(
        bob_card["studying"],
        json!([{"title": "Rust", "completionRatio": 40}])
    );
    assert!(!team.text().contains("private note"), "never notes");
    assert_eq!(get(&api, &bob, "/api/team").json()["members"], members);

    let r = put(&api, &bob, "/api/auth/sharing", &json!({"share": false}));
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&api, &admin, "/api/team").json(),
        json!({"members": []})
    );
}

pub fn each_person_sees_only_their_own_library(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    let (_, bob) = invite_member(&api, &admin, "bob");
    let r = put(
        &api,
        &admin,
        "/api/courses/mine",
        &json!({"title": "Admin's"}),
    );
    assert_eq!(r.status, 201);
    let r = post(
        &api,
        &admin,
        "/api/settings/theme",
        &json!({"value": "dark"}),
    );
    assert_eq!(r.status, 200);
    // Settings are partitioned already by the key-value prefix.
    assert_eq!(get(&api, &bob, "/api/settings/theme").status, 404);
    assert!(
        get(&api, &bob, "/api/settings")
            .json()
            .get("theme")
            .is_none()
    );
    let r = post(
        &api,
        &bob,
        "/api/settings/layout",
        &json!({"value": "grid"}),
    );
    assert_eq!(r.status, 200);
    let admin_settings = get(&api, &admin, "/api/settings").text();
    assert!(
        !admin_settings.contains("layout") && !admin_settings.contains("acct"),
        "{admin_settings}"
    );
    let export = get(&api, &admin, "/api/export").text();
    assert!(
        !export.contains("grid"),
        "the admin's own export holds only their library"
    );
    // Courses, revisions and the change feed are per owner (schema 3).
    assert_eq!(
        get(&api, &bob, "/api/courses/mine").status,
        404,
        "another person's course id is 404"
    );
    assert_eq!(get(&api, &bob, "/api/courses").json(), json!([]));
    let r = patch(&api, &bob, "/api/courses/mine", &json!({"title": "Stolen"}));
    assert_ne!(r.status, 200);
    assert_eq!(
        get(&api, &admin, "/api/courses/mine").json()["title"],
        "Admin's"
    );
}

pub fn bad_input_is_a_4xx_and_changes_nothing(t: &dyn Target) {
    let api = start(t);
    let huge = "x".repeat(1025);
    let bodies: Vec<(&str, Vec<u8>, u16)> = vec![
        ("application/json", b"{".to_vec(), 400),
        ("application/json", b"".to_vec(), 400),
        ("application/json", b"[]".to_vec(), 400),
        ("application/json", b"null".to_vec(), 400),
        (
            "application/json",
            br#"{"username": "admin"}"#.to_vec(),
            400,
        ),
        (
            "application/json",
            br#"{"password": "long enough pw"}"#.to_vec(),
            400,
        ),
        (
            "application/json",
            br#"{"username": 1, "password": "long enough pw"}"#.to_vec(),
            400,
        ),
        (
            "application/json",
            br#"{"username": "admin", "password": 12345678}"#.to_vec(),
            400,
        ),
        (
            "application/json",
            br#"{"username": "admin", "password": "short"}"#.to_vec(),
            400,
        ),
        (
            "application/json",
            creds("admin", &huge).to_string().into_bytes(),
            400,
        ),
        (
            "application/json",
            creds("\u{e4}dmin", ADMIN_PW).to_string().into_bytes(),
            400,
        ),
        (
            "application/json",
            creds("ad min", ADMIN_PW).to_string().into_bytes(),
            400,
        ),
        (
            "application/json",
            creds("", ADMIN_PW).to_string().into_bytes(),
            400,
        ),
        (
            "application/json",
            creds(&"a".repeat(33), ADMIN_PW).to_string().into_bytes(),
            400,
        ),
        ("application/json", b"\xff\xfe".to_vec(), 400),
        (
            "text/plain",
            creds("admin", ADMIN_PW).to_string().into_bytes(),
            415,
        ),
        (
            "application/x-www-form-urlencoded",
            b"username=admin&password=xxxxxxxxx".to_vec(),
            415,
        ),
    ];
    let over_limit = vec![b'x'; 1024 * 1024 + 10];
    for path in ["/api/auth/setup", "/api/auth/sign-in"] {
        for (ctype, body, want) in &bodies {
            let r = api.raw("POST", path, &[("content-type", ctype)], Some(body));
            assert_eq!(
                r.status,
                *want,
                "{path} {ctype} {:?}: {}",
                String::from_utf8_lossy(body),
                r.text()
            );
        }
        let r = api.raw(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(&over_limit),
        );
        assert_eq!(r.status, 413);
    }
    let r = get(&api, &Who::Nobody, "/api/auth/state").json();
    assert_eq!(r["setupRequired"], true, "no bad request made an account");

    let (api, admin) = with_admin(t);
    let inv = send(&api, &admin, "POST", "/api/admin/invites", None, &[]).json();
    let accept = format!(
        "/api/auth/invites/{}/accept",
        inv["token"].as_str().unwrap_or_default()
    );
    for (ctype, body, want) in &bodies {
        let r = api.raw("POST", &accept, &[("content-type", ctype)], Some(body));
        assert_eq!(r.status, *want, "accept {ctype}: {}", r.text());
    }
    let status = format!(
        "/api/auth/invites/{}",
        inv["token"].as_str().unwrap_or_default()
    );
    assert_eq!(
        get(&api, &Who::Nobody, &status).status,
        200,
        "the invitation is still usable"
    );
    let signed_writes: Vec<(&str, &str, Json)> = vec![
        ("PUT", "/api/auth/sharing", json!({"share": 1})),
        ("PUT", "/api/auth/sharing", json!({})),
        ("POST", "/api/auth/tokens", json!({"name": ""})),
        ("POST", "/api/auth/tokens", json!({"name": "x".repeat(101)})),
        ("POST", "/api/auth/tokens", json!({"name": 5})),
        (
            "POST",
            "/api/auth/password",
            json!({"currentPassword": ADMIN_PW}),
        ),
        (
            "POST",
            "/api/auth/password",
            json!({"currentPassword": ADMIN_PW, "newPassword": huge}),
        ),
        ("PATCH", "/api/admin/accounts/2", json!({"disabled": "yes"})),
    ];
    for (method, path, body) in &signed_writes {
        let r = send(&api, &admin, method, path, Some(body), &[]);
        assert_eq!(r.status, 400, "{method} {path} {body}: {}", r.text());
    }
    for path in [
        "/api/admin/accounts/abc",
        "/api/admin/accounts/-1",
        "/api/admin/accounts/99999999999999999999",
    ] {
        let r = patch(&api, &admin, path, &json!({"disabled": true}));
        assert_eq!(r.status, 404, "{path}: {}", r.text());
    }
    let r = send(&api, &admin, "GET", "/api/auth/sign-in", None, &[]);
    assert_eq!(r.status, 405);
    assert_eq!(
        sign_in(&api, "admin", ADMIN_PW).status,
        200,
        "the password did not change"
    );
    assert_eq!(
        get(&api, &admin, "/api/auth/tokens").json()["tokens"],
        json!([])
    );
    assert_eq!(
        get(&api, &admin, "/api/auth/state").json()["account"]["shareProgress"],
        false
    );
}

pub fn without_accounts_nothing_changes(t: &dyn Target) {
    let api = start_with(t, &[]);
    assert_eq!(
        get(&api, &Who::Nobody, "/api/auth/state").json(),
        json!({"mode": "none", "setupRequired": false, "account": null})
    );
    let r = post(
        &api,
        &Who::Nobody,
        "/api/auth/setup",
        &creds("admin", ADMIN_PW),
    );
    assert_eq!(code(&r), (404, "accounts_off".into()));
    assert_eq!(
        code(&get(&api, &Who::Nobody, "/api/team")),
        (404, "accounts_off".into())
    );
    let r = put(&api, &Who::Nobody, "/api/courses/a", &json!({"title": "A"}));
    assert_eq!(r.status, 201);

    // api_token still guards /api; the mode stays readable.
    let api = start_with(t, &[("api_token", "s3cret")]);
    assert_eq!(get(&api, &Who::Nobody, "/api/auth/state").status, 200);
    assert_eq!(get(&api, &Who::Nobody, "/api/courses").status, 401);
    assert_eq!(
        get(&api, &Who::Token("s3cret".into()), "/api/courses").status,
        200
    );

    // Anything else fails closed.
    let api = start_with(t, &[("auth", "maybe")]);
    let r = get(&api, &Who::Nobody, "/api/courses");
    assert_eq!(code(&r), (503, "config_unavailable".into()));
    assert_eq!(get(&api, &Who::Nobody, "/health").status, 200);
}

pub fn the_calendar_feed_stays_reachable_by_its_token(t: &dyn Target) {
    let (api, admin) = with_admin(t);
    let r = put(
        &api,
        &admin,
        "/api/courses/a",
        &json!({"title": "A", "deadline": "2027-01-10"}),
    );
    assert_eq!(r.status, 201);
    let made = send(&api, &admin, "POST", "/api/calendar/token", None, &[]);
    assert_eq!(made.status, 201, "{}", made.text());
    let path = made.json()["path"].as_str().unwrap_or_default().to_owned();
    let feed = get(&api, &Who::Nobody, &path);
    assert_eq!(feed.status, 200, "{}", feed.text());
    assert!(feed.text().contains("BEGIN:VCALENDAR"));
}

macro_rules! accounts {
    ($module:ident: $target:expr; $($scenario:ident),* $(,)?) => {
        mod $module {
            $(
                #[test]
                fn $scenario() {
                    integration::suite::run(&$target, super::$scenario);
                }
            )*
        }
    };
}

macro_rules! every_scenario {
    ($module:ident: $target:expr) => {
        accounts!($module: $target;
            setup_happens_once_and_signs_the_admin_in,
            without_a_valid_credential_the_api_answers_401,
            a_failed_sign_in_answers_the_same_for_every_reason,
            a_session_survives_a_restart,
            a_cookie_write_from_another_site_is_refused,
            repeated_failures_for_one_username_are_throttled,
            repeated_failures_from_one_address_are_throttled,
            behind_a_trusted_proxy_the_address_limit_counts_each_client,
            an_invitation_is_single_use_and_admin_made,
            admin_routes_are_for_the_admin_only,
            disabling_and_removing_end_access,
            personal_tokens_are_shown_once_used_and_revoked,
            changing_the_password_ends_the_other_sessions,
            the_team_page_shows_only_those_who_share,
            each_person_sees_only_their_own_library,
            bad_input_is_a_4xx_and_changes_nothing,
            without_accounts_nothing_changes,
            the_calendar_feed_stays_reachable_by_its_token,
        );
    };
}

every_scenario!(host: super::HostTarget);
every_scenario!(postgres: super::PostgresTarget);
every_scenario!(spin: super::SpinTarget);
every_scenario!(spin_postgres: super::SpinPostgresTarget);

// ---- what only tracker-host on SQLite shows: stored times moved back ---------

fn host_with_admin() -> (Api<integration::targets::host::HostClient>, String) {
    let api = start_api(HostOptions {
        env: spin_variable_env(ACCOUNTS),
        ..HostOptions::default()
    });
    let body = creds("admin", ADMIN_PW).to_string();
    let r = api.raw(
        "POST",
        "/api/auth/setup",
        &[("content-type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    (api, cookie_of(&r))
}

fn database(api: &Api<integration::targets::host::HostClient>) -> rusqlite::Connection {
    let path = api.client.host.data_dir().join("sqlite").join("default.db");
    let c = rusqlite::Connection::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    c.busy_timeout(std::time::Duration::from_secs(5)).ok();
    c
}

#[test]
fn an_idle_session_expires_after_30_days_and_a_used_one_slides() {
    let (api, cookie) = host_with_admin();
    let day: i64 = 24 * 3600 * 1000;
    let status = |c: &str| api.raw("GET", "/api/courses", &[("cookie", c)], None);
    // Used two hours ago: renewed now, and the cookie is sent again.
    database(&api)
        .execute(
            "UPDATE sessions SET last_seen_ms = last_seen_ms - ?",
            [2 * 3600 * 1000],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let r = status(&cookie);
    assert_eq!(r.status, 200);
    assert_eq!(
        cookie_of(&r),
        cookie,
        "the same session, its expiry renewed"
    );
    let r = status(&cookie);
    assert!(r.header("set-cookie").is_none(), "renewed at most hourly");
    // Idle for more than 30 days: gone.
    database(&api)
        .execute(
            "UPDATE sessions SET last_seen_ms = last_seen_ms - ?",
            [30 * day + 1000],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let r = status(&cookie);
    assert_eq!(code(&r), (401, "sign_in_required".into()));
    let left: i64 = database(&api)
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(left, 0, "an expired session is deleted when seen");
    // Only digests are stored.
    let c = database(&api);
    let value = cookie
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    let dump: String = c
        .query_row(
            "SELECT group_concat(password, ',') FROM accounts",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(dump.starts_with("argon2id$m=19456,t=2,p=1$"), "{dump}");
    assert!(!dump.contains(ADMIN_PW));
    assert!(!value.is_empty());
}

#[test]
fn an_expired_invitation_is_dead() {
    let (api, cookie) = host_with_admin();
    let r = api.raw("POST", "/api/admin/invites", &[("cookie", &cookie)], None);
    assert_eq!(r.status, 201, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap_or_default().to_owned();
    database(&api)
        .execute(
            "UPDATE invites SET expires_ms = expires_ms - ?",
            [73 * 3600 * 1000_i64],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let r = api.raw("GET", &format!("/api/auth/invites/{token}"), &[], None);
    assert_eq!(code(&r), (404, "invite_invalid".into()));
    let body = creds("late", MEMBER_PW).to_string();
    let r = api.raw(
        "POST",
        &format!("/api/auth/invites/{token}/accept"),
        &[("content-type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(code(&r), (404, "invite_invalid".into()));
    let r = api.raw("GET", "/api/admin/invites", &[("cookie", &cookie)], None);
    assert_eq!(r.json()["invites"], json!([]));
}

#[test]
fn a_removed_person_leaves_nothing_behind() {
    let (api, admin) = host_with_admin();
    let inv = api.raw("POST", "/api/admin/invites", &[("cookie", &admin)], None);
    let token = inv.json()["token"].as_str().unwrap_or_default().to_owned();
    let body = creds("bob", MEMBER_PW).to_string();
    let r = api.raw(
        "POST",
        &format!("/api/auth/invites/{token}/accept"),
        &[("content-type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let bob = cookie_of(&r);
    let id = r.json()["account"]["id"].as_i64().unwrap_or_default();
    let json_headers = [
        ("cookie", bob.as_str()),
        ("content-type", "application/json"),
    ];
    let writes = [
        ("PUT", "/api/courses/b1", r#"{"title": "Bob's"}"#),
        ("POST", "/api/settings/monthly_goal", r#"{"value": 4}"#),
        ("POST", "/api/auth/tokens", r#"{"name": "x"}"#),
        ("POST", "/api/calendar/token", ""),
    ];
    for (method, path, body) in writes {
        let r = api.raw(method, path, &json_headers, Some(body.as_bytes()));
        assert!(r.status < 300, "{method} {path}: {}", r.text());
    }
    let r = api.raw(
        "PUT",
        "/api/courses/a1",
        &[("cookie", &admin), ("content-type", "application/json")],
        Some(br#"{"title": "Admin's"}"#),
    );
    assert_eq!(r.status, 201);
    let r = api.raw(
        "DELETE",
        &format!("/api/admin/accounts/{id}?confirm=bob"),
        &[("cookie", &admin)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());

    let db = database(&api);
    let count = |sql: &str| -> i64 {
        db.query_row(sql, [id], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    assert_eq!(count("SELECT count(*) FROM accounts WHERE id = ?1"), 0);
    assert_eq!(
        count("SELECT count(*) FROM sessions WHERE account_id = ?1"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM api_tokens WHERE account_id = ?1"),
        0
    );
    for table in ["courses", "activity", "libraries", "collection_cache"] {
        let sql = format!("SELECT count(*) FROM {table} WHERE owner = ?1");
        assert_eq!(count(&sql), 0, "{table}");
    }
    let kept: i64 = db
        .query_row("SELECT count(*) FROM courses WHERE owner = 1", [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept, 1, "the admin's course stays");
    let kv = rusqlite::Connection::open(api.client.host.data_dir().join("key-value.db"))
        .unwrap_or_else(|e| panic!("{e}"));
    let left: i64 = kv
        .query_row(
            "SELECT count(*) FROM spin_key_value WHERE key LIKE ?1",
            [format!("acct/{id}/%")],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        left, 0,
        "no setting or feed token of the removed person is kept"
    );
}

/// An instance with accounts moves to PostgreSQL as docs/accounts.md says: the move
/// runs with `auth = none` behind `api_token` (on an empty database no one can
/// sign in yet), then the server restarts with accounts on the moved data.
#[test]
fn accounts_move_to_postgres_with_the_store() {
    let Some(pg) = integration::postgres::shared() else {
        eprintln!("skipped: PostgreSQL not found (`make deps` installs it)");
        return;
    };
    let data = tempfile::tempdir().expect("data dir");
    let opts = |vars: &[(&str, &str)]| HostOptions {
        data_dir: Some(data.path().to_path_buf()),
        env: spin_variable_env(vars),
        ..HostOptions::default()
    };
    let json_with = |cookie: &str| {
        [
            ("cookie", cookie.to_owned()),
            ("content-type", "application/json".to_owned()),
        ]
    };
    let send_as = |api: &Api<integration::targets::host::HostClient>,
                   cookie: &str,
                   method: &str,
                   path: &str,
                   body: &str| {
        let h = json_with(cookie);
        let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        api.raw(method, path, &refs, Some(body.as_bytes()))
    };

    let mut old = start_api(opts(ACCOUNTS));
    let r = send_as(
        &old,
        "",
        "POST",
        "/api/auth/setup",
        &creds("admin", ADMIN_PW).to_string(),
    );
    let admin = cookie_of(&r);
    let inv = send_as(&old, &admin, "POST", "/api/admin/invites", "{}").json();
    let token = inv["token"].as_str().unwrap_or_default().to_owned();
    let r = send_as(
        &old,
        "",
        "POST",
        &format!("/api/auth/invites/{token}/accept"),
        &creds("bob", MEMBER_PW).to_string(),
    );
    let bob = cookie_of(&r);
    assert_eq!(
        send_as(
            &old,
            &bob,
            "PUT",
            "/api/courses/b1",
            r#"{"title": "Bob's"}"#
        )
        .status,
        201
    );
    assert_eq!(
        send_as(
            &old,
            &admin,
            "PUT",
            "/api/courses/a1",
            r#"{"title": "Admin's"}"#
        )
        .status,
        201
    );
    let script =
        send_as(&old, &bob, "POST", "/api/auth/tokens", r#"{"name": "s"}"#).json()["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    old.client.host.stop();

    let url = pg.create_database();
    let host = pg.host_entry();
    let db: &[(&str, &str)] = &[("database_url", &url), ("database_host", &host)];
    let mut vars = db.to_vec();
    vars.push(("api_token", "operator"));
    let mut mover = start_api(opts(&vars));
    let r = mover.raw(
        "POST",
        "/api/store/move-from-sqlite",
        &[("authorization", "Bearer operator")],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["moved"]["accounts"], 2);
    mover.client.host.stop();

    let mut vars = db.to_vec();
    vars.extend_from_slice(ACCOUNTS);
    let moved = start_api(opts(&vars));
    assert_eq!(
        moved.raw("GET", "/health/ready", &[], None).json()["store"],
        "postgres"
    );
    // The same sessions and tokens, the same libraries, each still private.
    let list = |who: (&str, &str)| moved.raw("GET", "/api/courses", &[who], None).json();
    let bearer = format!("Bearer {script}");
    assert_eq!(list(("cookie", &bob))[0]["id"], "b1");
    assert_eq!(
        list(("authorization", &bearer)).as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(list(("cookie", &admin))[0]["id"], "a1");
    let state = moved.raw("GET", "/api/auth/state", &[], None).json();
    assert_eq!(
        state["setupRequired"], false,
        "nobody can set up a new admin"
    );
    // Ids continue after the moved ones.
    let inv = send_as(&moved, &admin, "POST", "/api/admin/invites", "{}").json();
    let token = inv["token"].as_str().unwrap_or_default().to_owned();
    let r = send_as(
        &moved,
        "",
        "POST",
        &format!("/api/auth/invites/{token}/accept"),
        &creds("carol", MEMBER_PW).to_string(),
    );
    assert_eq!(r.json()["account"]["id"], 3, "{}", r.text());
}

#[test]
fn switching_an_instance_to_accounts_gives_its_library_to_the_first_account() {
    // A single-user instance with courses, a tombstone, a setting and a feed link.
    let data = tempfile::tempdir().expect("temp dir");
    let mut before = start_api(HostOptions {
        data_dir: Some(data.path().to_path_buf()),
        ..HostOptions::default()
    });
    for (id, title) in [("a", "Kept"), ("b", "Deleted later")] {
        let r = before.put(&format!("/api/courses/{id}"), &json!({"title": title}));
        assert_eq!(r.status, 201, "{}", r.text());
    }
    assert_eq!(before.delete("/api/courses/b").status, 200);
    let goal = before.put("/api/settings/monthly_goal", &json!({"value": 7}));
    assert_eq!(goal.status, 200, "{}", goal.text());
    let feed = before.request("POST", "/api/calendar/token", &[], None);
    assert_eq!(feed.status, 201, "{}", feed.text());
    let feed_token = feed.json()["token"].as_str().unwrap_or_default().to_owned();
    let history = before.replay(100);
    let etag = before.get("/api/courses").header("etag");
    before.client.host.stop();

    // The same data dir with accounts on: nothing is readable before setup.
    let after = start_api(HostOptions {
        data_dir: Some(data.path().to_path_buf()),
        env: spin_variable_env(ACCOUNTS),
        ..HostOptions::default()
    });
    assert_eq!(
        code(&get(&after, &Who::Nobody, "/api/courses")),
        (401, "sign_in_required".into())
    );
    let admin = set_up_admin(&after);
    let courses = get(&after, &admin, "/api/courses");
    assert_eq!(courses.header("etag"), etag, "the same revision");
    let titles: Vec<Json> = courses
        .json()
        .as_array()
        .map(|a| a.iter().map(|c| c["title"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(titles, vec![json!("Kept")]);
    let changes = get(&after, &admin, "/api/changes?since=0&limit=100").json();
    assert_eq!(changes["deleted"], json!(["b"]), "the tombstone too");
    assert_eq!(
        changes["courses"].as_array().map(Vec::len),
        Some(history.len())
    );
    assert_eq!(
        get(&after, &admin, "/api/settings/monthly_goal").json()["value"],
        json!(7)
    );
    let ics = after.raw(
        "GET",
        &format!("/api/calendar.ics?token={feed_token}"),
        &[],
        None,
    );
    assert_eq!(ics.status, 200, "the feed link made before still works");

    // The next person starts empty.
    let (_, member) = invite_member(&after, &admin, "bea");
    assert_eq!(get(&after, &member, "/api/courses").json(), json!([]));
    assert_eq!(
        get(&after, &member, "/api/settings/monthly_goal").json()["value"],
        json!(2),
        "the default goal, not the admin's"
    );
}
