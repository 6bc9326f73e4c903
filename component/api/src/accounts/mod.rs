//! Accounts (docs/accounts.md): with the variable `auth = accounts`, each
//! person signs in and the library routes run on their own library.
//!
//! [`resolve`] turns a request into an [`Access`] (whose library, signed in
//! how) before any route runs; `endpoints` holds the account routes. In
//! `auth = none` nothing here reads the database and `/api` keeps its optional
//! `api_token`.

pub mod endpoints;
pub mod invites;
pub mod passwords;
pub mod purge;
pub mod records;
pub mod sessions;
pub mod team;
pub mod throttle;
pub mod tokens;

use crate::auth;
use crate::backend::Backend;
use crate::calendar;
use crate::errors::{ApiError, ApiResult};
use crate::http::{Request, Response};
use crate::store;
use records::Account;
use sha2::{Digest, Sha256};

pub const MODE_VARIABLE: &str = "auth";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    None,
    Accounts,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Accounts => "accounts",
        }
    }
}

/// The `auth` variable. Unreadable or unknown values fail closed (503): we
/// cannot tell whether the data must be guarded per person.
pub fn mode(b: &impl Backend) -> ApiResult<Mode> {
    let value = b
        .variable(MODE_VARIABLE)
        .map_err(|e| ApiError::new(503, "config_unavailable", format!("cannot read auth: {e}")))?;
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("none") => Ok(Mode::None),
        Some("accounts") => Ok(Mode::Accounts),
        Some(other) => Err(ApiError::new(
            503,
            "config_unavailable",
            format!("the variable auth is {other:?}; it must be \"none\" or \"accounts\""),
        )),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What is stored of a secret: its SHA-256, hex.
pub(crate) fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// How a signed-in request proved who it is.
#[derive(Debug, Clone)]
pub enum Via {
    /// The session cookie, with its value.
    Session(String),
    /// A personal API token.
    Token,
}

#[derive(Debug, Clone)]
pub struct Signed {
    pub account: Account,
    pub via: Via,
    /// The session was renewed: the cookie is sent again so its expiry slides.
    pub renewed: bool,
}

/// Who a request acts for.
#[derive(Debug, Clone)]
pub struct Access {
    pub mode: Mode,
    /// Whose library the library routes read and write.
    pub owner: i64,
    pub who: Option<Signed>,
}

impl Access {
    /// Without accounts: the backend's own library (owner 1's, unless the caller
    /// handed in one owner's view already, as the owner tests do).
    fn single(b: &impl Backend) -> Access {
        Access {
            mode: Mode::None,
            owner: b.owner(),
            who: None,
        }
    }

    /// Adds the renewed session cookie to an answer that sets none itself.
    pub fn finish(&self, req: &Request, resp: Response) -> Response {
        match &self.who {
            Some(Signed {
                via: Via::Session(token),
                renewed: true,
                ..
            }) if resp.header("set-cookie").is_none() => {
                resp.with_header("set-cookie", &sessions::set_cookie(req, token))
            }
            _ => resp,
        }
    }
}

/// Routes anyone may call in accounts mode.
pub fn is_public(req: &Request) -> bool {
    let p = req.path.as_str();
    calendar::is_feed_request(req)
        || p == "/api/auth/state"
        || p == "/api/auth/setup"
        || p == "/api/auth/sign-in"
        || p.starts_with("/api/auth/invites/")
}

/// A write sent by a page of another site (or an unknown one). Browsers send
/// `Sec-Fetch-Site` and `Origin` on such requests; a same-origin page sends
/// `same-origin` (or `none` for the user's own navigation). Requests without
/// either header come from non-browser clients, which cannot carry a victim's
/// cookie, so they pass.
pub fn is_cross_site(req: &Request) -> bool {
    if matches!(req.method.as_str(), "GET" | "HEAD" | "OPTIONS") {
        return false;
    }
    if let Some(site) = req.header("sec-fetch-site") {
        let site = site.trim().to_ascii_lowercase();
        if site != "same-origin" && site != "none" {
            return true;
        }
    }
    if let Some(origin) = req.header("origin") {
        return calendar::request_origin(req).as_deref() != Some(origin.trim());
    }
    false
}

pub fn cross_site_error() -> ApiError {
    ApiError::new(
        403,
        "cross_site",
        "a write with the session cookie must come from this app's own pages",
    )
}

fn sign_in_required() -> ApiError {
    ApiError::new(401, "sign_in_required", "sign in first")
        .with_header("www-authenticate", "Bearer realm=\"skilltrack\"")
}

fn bearer(req: &Request) -> Option<&str> {
    req.header("authorization").and_then(|h| {
        let (scheme, rest) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    })
}

/// The signed-in person, if any: a bearer token first (scripts), else the cookie.
/// `Err` only for store failures; a presented but unknown credential is `None`.
fn who(b: &impl Backend, req: &Request) -> ApiResult<Option<Signed>> {
    let found = if let Some(token) = bearer(req) {
        tokens::find(b, token)?.map(|id| (id, Via::Token, false))
    } else if let Some(cookie) = sessions::cookie_value(req) {
        sessions::find(b, &cookie)?.map(|f| (f.account, Via::Session(cookie), f.renewed))
    } else {
        None
    };
    let Some((id, via, renewed)) = found else {
        return Ok(None);
    };
    Ok(records::by_id(b, id)?
        .filter(|a| !a.disabled)
        .map(|account| Signed {
            account,
            via,
            renewed,
        }))
}

/// Who the request acts for, or the error that ends it: 401 without a valid
/// credential on a non-public route, 403 for a cross-site cookie write.
pub fn resolve(b: &impl Backend, req: &Request) -> ApiResult<Access> {
    let is_api = req.path == "/api" || req.path.starts_with("/api/");
    if !is_api {
        return Ok(Access::single(b));
    }
    let mode = mode(b)?;
    if mode == Mode::None {
        // Calendar apps cannot send the API token: the feed checks its own token.
        // The mode itself is no secret: the app asks before it has a token.
        if !calendar::is_feed_request(req) && req.path != "/api/auth/state" {
            auth::check(b, req)?;
        }
        return Ok(Access::single(b));
    }
    if calendar::is_feed_request(req) {
        // The feed token names its owner (checked by the feed route).
        return Ok(Access {
            mode,
            owner: b.owner(),
            who: None,
        });
    }
    store::ensure_schema(b)?;
    let who = who(b, req)?;
    if is_public(req) {
        if is_cross_site(req) {
            // Signing in from another site's page would sign the victim in as
            // the attacker (login CSRF).
            return Err(cross_site_error());
        }
        return Ok(Access {
            mode,
            owner: who.as_ref().map_or(b.owner(), |w| w.account.id),
            who,
        });
    }
    let who = who.ok_or_else(sign_in_required)?;
    if matches!(who.via, Via::Session(_)) && is_cross_site(req) {
        return Err(cross_site_error());
    }
    Ok(Access {
        mode,
        owner: who.account.id,
        who: Some(who),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(unhex("000fff"), Some(vec![0, 15, 255]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("é0"), None);
    }

    #[test]
    fn cross_site_writes_are_told_from_same_origin_ones() {
        let post = || {
            Request::new("POST", "/api/courses")
                .with_header("spin-full-url", "http://h:3000/api/courses")
        };
        assert!(!is_cross_site(&post()));
        assert!(!is_cross_site(
            &post().with_header("sec-fetch-site", "same-origin")
        ));
        assert!(!is_cross_site(
            &post().with_header("origin", "http://h:3000")
        ));
        assert!(is_cross_site(
            &post().with_header("sec-fetch-site", "cross-site")
        ));
        assert!(is_cross_site(
            &post().with_header("sec-fetch-site", "same-site")
        ));
        assert!(is_cross_site(
            &post().with_header("origin", "http://evil.example")
        ));
        assert!(is_cross_site(&post().with_header("origin", "null")));
        let get = Request::new("GET", "/api/courses").with_header("sec-fetch-site", "cross-site");
        assert!(!is_cross_site(&get));
    }
}
