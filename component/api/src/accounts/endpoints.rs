//! The account routes of docs/accounts.md.

use super::records::{self, Account, Flag};
use super::{
    Access, Mode, Signed, Via, invites, passwords, purge, sessions, team, throttle, tokens,
};
use crate::backend::Backend;
use crate::calendar;
use crate::dates;
use crate::errors::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::library::Library;
use crate::routes::json_body;
use crate::store;
use crate::transfer;
use serde_json::{Map, Value as Json, json};

/// Whether `path` is one of the routes below.
pub fn owns(path: &str) -> bool {
    path.starts_with("/api/auth/") || path == "/api/team" || path.starts_with("/api/admin/")
}

fn accounts_off() -> ApiError {
    ApiError::new(
        404,
        "accounts_off",
        "accounts are turned off on this server (auth = none)",
    )
}

fn signed(access: &Access) -> ApiResult<&Signed> {
    access
        .who
        .as_ref()
        .ok_or_else(|| ApiError::new(401, "sign_in_required", "sign in first"))
}

fn admin(access: &Access) -> ApiResult<&Account> {
    let who = signed(access)?;
    if who.account.is_admin {
        Ok(&who.account)
    } else {
        Err(ApiError::new(
            403,
            "admin_only",
            "only an admin may do this",
        ))
    }
}

fn object(req: &Request) -> ApiResult<Map<String, Json>> {
    match json_body(req)? {
        Json::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request(
            "invalid_body",
            "the body must be a JSON object",
        )),
    }
}

fn text_field<'a>(obj: &'a Map<String, Json>, name: &str) -> ApiResult<&'a str> {
    obj.get(name)
        .and_then(Json::as_str)
        .ok_or_else(|| ApiError::invalid_field(name, format!("{name} must be a string")))
}

fn bool_field(obj: &Map<String, Json>, name: &str) -> ApiResult<bool> {
    obj.get(name)
        .and_then(Json::as_bool)
        .ok_or_else(|| ApiError::invalid_field(name, format!("{name} must be true or false")))
}

/// `{"username", "password"}`, both checked before any hashing.
fn credentials(req: &Request) -> ApiResult<(String, String)> {
    let obj = object(req)?;
    let username = obj
        .get("username")
        .and_then(Json::as_str)
        .ok_or_else(records::invalid_username)?;
    let username = records::normalize_username(username)?;
    let password = text_field(&obj, "password").map_err(|_| {
        ApiError::new(400, "invalid_password", "password must be a string").with_field("password")
    })?;
    passwords::check("password", password)?;
    Ok((username, password.to_owned()))
}

/// A signed-in answer: the account and a new session cookie.
fn signed_in(
    b: &impl Backend,
    req: &Request,
    status: u16,
    account: &Account,
) -> ApiResult<Response> {
    let token = sessions::create(b, account.id)?;
    Ok(
        Response::json(status, &json!({"account": account.public()}))
            .with_header("set-cookie", &sessions::set_cookie(req, &token))
            .with_header("cache-control", "no-store"),
    )
}

fn id_param(param: &str) -> ApiResult<i64> {
    param
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found(format!("no account {param:?}")))
}

/// One account route. `route` and `method` are already matched and allowed.
pub fn handle(
    b: &impl Backend,
    req: &Request,
    access: &Access,
    route: &str,
    method: &str,
    param: &str,
) -> ApiResult<Response> {
    if access.mode == Mode::None {
        return match route {
            "/api/auth/state" => Ok(Response::json(
                200,
                &json!({"mode": "none", "setupRequired": false, "account": null}),
            )),
            _ => Err(accounts_off()),
        };
    }
    match (route, method) {
        ("/api/auth/state", _) => state(b, access),
        ("/api/auth/setup", _) => setup(b, req),
        ("/api/auth/sign-in", _) => sign_in(b, req),
        ("/api/auth/invites/{token}", _) => invite_status(b, param),
        ("/api/auth/invites/{token}/accept", _) => accept_invite(b, req, param),
        ("/api/auth/sign-out", _) => sign_out(b, req, access, false),
        ("/api/auth/sign-out-everywhere", _) => sign_out(b, req, access, true),
        ("/api/auth/password", _) => change_password(b, req, access),
        ("/api/auth/sharing", _) => sharing(b, req, access),
        ("/api/auth/tokens", "GET") => {
            let who = signed(access)?;
            Ok(Response::json(
                200,
                &json!({"tokens": tokens::list(b, who.account.id)?}),
            ))
        }
        ("/api/auth/tokens", _) => create_token(b, req, access),
        ("/api/auth/tokens/{id}", _) => {
            let who = signed(access)?;
            if tokens::revoke(b, who.account.id, param)? {
                Ok(Response::json(200, &json!({"id": param, "revoked": true})))
            } else {
                Err(ApiError::not_found(format!("no token {param:?}")))
            }
        }
        ("/api/team", _) => {
            signed(access)?;
            let all = records::all(b)?;
            Ok(Response::json(
                200,
                &json!({"members": team::members(b, &all)?}),
            ))
        }
        ("/api/admin/accounts", _) => list_accounts(b, access),
        ("/api/admin/accounts/{id}", "PATCH") => patch_account(b, req, access, param),
        ("/api/admin/accounts/{id}", _) => remove_account(b, req, access, param),
        ("/api/admin/accounts/{id}/export", _) => {
            admin(access)?;
            let account = records::by_id(b, id_param(param)?)?
                .ok_or_else(|| ApiError::not_found(format!("no account {param:?}")))?;
            let doc = transfer::export_json(&Library::new(b, account.id))?;
            Ok(Response::json(200, &doc).with_header(
                "content-disposition",
                &format!(
                    "attachment; filename=\"skilltrack-backup-{}.json\"",
                    account.username
                ),
            ))
        }
        ("/api/admin/invites", "GET") => {
            admin(access)?;
            Ok(Response::json(
                200,
                &json!({"invites": invites::pending(b)?}),
            ))
        }
        ("/api/admin/invites", _) => create_invite(b, req, access),
        ("/api/admin/invites/{id}", _) => {
            admin(access)?;
            if invites::delete(b, param)? {
                Ok(Response::json(200, &json!({"id": param, "deleted": true})))
            } else {
                Err(ApiError::not_found(format!("no invitation {param:?}")))
            }
        }
        _ => Err(ApiError::not_found(format!("no endpoint at {}", req.path))),
    }
}

fn state(b: &impl Backend, access: &Access) -> ApiResult<Response> {
    let setup_required = records::count(b)? == 0;
    Ok(Response::json(
        200,
        &json!({
            "mode": "accounts",
            "setupRequired": setup_required,
            "account": access.who.as_ref().map(|w| w.account.public()),
        }),
    ))
}

fn setup(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    let (username, password) = credentials(req)?;
    let done = || ApiError::new(409, "setup_done", "the first account already exists");
    // Cheap refusal first, so a finished setup costs no hashing; the check that
    // counts is the one under the writers' lock below.
    if records::count(b)? > 0 {
        return Err(done());
    }
    let hash = passwords::hash(b, &password)?;
    let account = store::write_tx(b, |tx| {
        if records::count(tx.backend())? > 0 {
            return Err(done());
        }
        records::insert(tx, &username, &hash, true)
    })?;
    signed_in(b, req, 201, &account)
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        401,
        "invalid_credentials",
        "the username or the password is wrong",
    )
}

fn sign_in(b: &impl Backend, req: &Request) -> ApiResult<Response> {
    let (username, password) = credentials(req)?;
    let subjects = throttle::subjects(b, &username, req);
    throttle::check(b, &subjects)?;
    let account = records::by_username(b, &username)?.filter(|a| !a.disabled);
    let ok = passwords::verify(account.as_ref().map(|a| a.password.as_str()), &password)?;
    match account {
        Some(account) if ok => {
            throttle::clear_user(b, &username)?;
            records::touch(b, account.id, b.now_millis())?;
            signed_in(b, req, 200, &account)
        }
        _ => {
            throttle::record_failure(b, &subjects)?;
            Err(invalid_credentials())
        }
    }
}

fn invite_status(b: &impl Backend, token: &str) -> ApiResult<Response> {
    let expires = invites::usable(b, token)?.ok_or_else(invites::invalid)?;
    Ok(Response::json(
        200,
        &json!({"valid": true, "expiresAt": dates::timestamp(expires)}),
    )
    .with_header("cache-control", "no-store"))
}

fn accept_invite(b: &impl Backend, req: &Request, token: &str) -> ApiResult<Response> {
    // A dead link answers the same before and after reading the body.
    invites::usable(b, token)?.ok_or_else(invites::invalid)?;
    let (username, password) = credentials(req)?;
    if records::by_username(b, &username)?.is_some() {
        return Err(
            ApiError::new(409, "username_taken", "that username is taken").with_field("username"),
        );
    }
    let hash = passwords::hash(b, &password)?;
    let account = store::write_tx(b, |tx| invites::accept(tx, token, &username, &hash))?;
    signed_in(b, req, 201, &account)
}

fn sign_out(
    b: &impl Backend,
    req: &Request,
    access: &Access,
    everywhere: bool,
) -> ApiResult<Response> {
    let who = signed(access)?;
    if everywhere {
        sessions::end_all(b, who.account.id, None)?;
    } else if let Via::Session(token) = &who.via {
        sessions::end(b, token)?;
    }
    Ok(Response::json(200, &json!({"signedOut": true}))
        .with_header("set-cookie", &sessions::clear_cookie(req)))
}

fn change_password(b: &impl Backend, req: &Request, access: &Access) -> ApiResult<Response> {
    let who = signed(access)?;
    let obj = object(req)?;
    let current = text_field(&obj, "currentPassword")?;
    let new = obj
        .get("newPassword")
        .and_then(Json::as_str)
        .ok_or_else(|| {
            ApiError::new(400, "invalid_password", "newPassword must be a string")
                .with_field("newPassword")
        })?;
    passwords::check("newPassword", new)?;
    if current.len() > passwords::MAX_BYTES {
        return Err(ApiError::new(
            403,
            "wrong_password",
            "the current password is wrong",
        ));
    }
    // A stolen session must not become a way to guess the password at full speed.
    let subjects = throttle::subjects(b, &who.account.username, req);
    throttle::check(b, &subjects)?;
    if !passwords::verify(Some(&who.account.password), current)? {
        throttle::record_failure(b, &subjects)?;
        return Err(
            ApiError::new(403, "wrong_password", "the current password is wrong")
                .with_field("currentPassword"),
        );
    }
    let hash = passwords::hash(b, new)?;
    records::set_password(b, who.account.id, &hash)?;
    let keep = match &who.via {
        Via::Session(token) => Some(token.as_str()),
        Via::Token => None,
    };
    sessions::end_all(b, who.account.id, keep)?;
    Ok(Response::json(200, &json!({"changed": true})))
}

fn sharing(b: &impl Backend, req: &Request, access: &Access) -> ApiResult<Response> {
    let who = signed(access)?;
    let share = bool_field(&object(req)?, "share")?;
    records::set_flag(b, who.account.id, Flag::ShareProgress, share)?;
    let mut account = who.account.clone();
    account.share_progress = share;
    Ok(Response::json(200, &json!({"account": account.public()})))
}

fn create_token(b: &impl Backend, req: &Request, access: &Access) -> ApiResult<Response> {
    let who = signed(access)?;
    let obj = object(req)?;
    let name = tokens::check_name(obj.get("name").unwrap_or(&Json::Null))?;
    let created = tokens::create(b, who.account.id, &name)?;
    Ok(Response::json(201, &created).with_header("cache-control", "no-store"))
}

fn admin_view(b: &impl Backend, a: &Account) -> ApiResult<Json> {
    let mut v = a.public();
    let courses = store::live_courses(&Library::new(b, a.id))?.len();
    if let Json::Object(m) = &mut v {
        m.insert("disabled".into(), json!(a.disabled));
        m.insert("createdAt".into(), json!(a.created_at));
        m.insert(
            "lastSeenAt".into(),
            json!(a.last_seen_ms.map(dates::timestamp)),
        );
        m.insert("courses".into(), json!(courses));
    }
    Ok(v)
}

fn list_accounts(b: &impl Backend, access: &Access) -> ApiResult<Response> {
    admin(access)?;
    let list = records::all(b)?
        .iter()
        .map(|a| admin_view(b, a))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Response::json(200, &json!({"accounts": list})))
}

fn target(b: &impl Backend, access: &Access, param: &str) -> ApiResult<Account> {
    let me = admin(access)?;
    let account = records::by_id(b, id_param(param)?)?
        .ok_or_else(|| ApiError::not_found(format!("no account {param:?}")))?;
    if account.id == me.id {
        return Err(ApiError::new(
            400,
            "own_account",
            "an admin cannot disable or remove their own account",
        ));
    }
    Ok(account)
}

fn patch_account(
    b: &impl Backend,
    req: &Request,
    access: &Access,
    param: &str,
) -> ApiResult<Response> {
    admin(access)?;
    let disabled = bool_field(&object(req)?, "disabled")?;
    let mut account = target(b, access, param)?;
    records::set_flag(b, account.id, Flag::Disabled, disabled)?;
    if disabled {
        sessions::end_all(b, account.id, None)?;
    }
    account.disabled = disabled;
    Ok(Response::json(
        200,
        &json!({"account": admin_view(b, &account)?}),
    ))
}

fn remove_account(
    b: &impl Backend,
    req: &Request,
    access: &Access,
    param: &str,
) -> ApiResult<Response> {
    let account = target(b, access, param)?;
    if req.query_param("confirm").as_deref() != Some(account.username.as_str()) {
        return Err(ApiError::new(
            400,
            "confirm_required",
            "add ?confirm=<username> to remove this account and all its data",
        )
        .with_field("confirm"));
    }
    purge::remove(b, &account)?;
    Ok(Response::json(
        200,
        &json!({"id": account.id, "removed": true}),
    ))
}

fn create_invite(b: &impl Backend, req: &Request, access: &Access) -> ApiResult<Response> {
    let me = admin(access)?;
    // The body is optional: no body (or `{}`) is the default expiry.
    let hours = if req.body.iter().all(u8::is_ascii_whitespace) {
        invites::DEFAULT_HOURS
    } else {
        match object(req)?.get("expiresInHours") {
            None => invites::DEFAULT_HOURS,
            Some(v) => v
                .as_i64()
                .filter(|h| (1..=invites::MAX_HOURS).contains(h))
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "expiresInHours",
                        format!(
                            "expiresInHours is an integer from 1 to {}",
                            invites::MAX_HOURS
                        ),
                    )
                })?,
        }
    };
    let new = invites::create(b, me.id, hours)?;
    let path = invites::path(&new.token);
    let url = calendar::request_origin(req).map(|o| format!("{o}{path}"));
    Ok(Response::json(
        201,
        &json!({
            "id": new.id,
            "token": new.token,
            "path": path,
            "url": url,
            "expiresAt": new.expires_at,
        }),
    )
    .with_header("cache-control", "no-store"))
}
