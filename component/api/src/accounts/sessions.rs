//! Browser sessions: a 256-bit random cookie, only its SHA-256 stored; idle
//! expiry of 30 days, renewed at most once an hour (each renewal re-sends the
//! cookie, so the browser's expiry slides with the server's).

use super::{digest, hex};
use crate::backend::{Backend, Value};
use crate::errors::{ApiError, ApiResult};
use crate::http::Request;

pub const COOKIE: &str = "skilltrack_session";
const TOKEN_BYTES: usize = 32;
pub const IDLE_MS: i64 = 30 * 24 * 3600 * 1000;
pub const RENEW_MS: i64 = 3600 * 1000;

/// The session cookie's value from a `Cookie` header, when it is well formed
/// (64 lower-case hex digits). Anything else is no session, looked up or not.
pub fn cookie_value(req: &Request) -> Option<String> {
    req.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|v| {
            v.len() == TOKEN_BYTES * 2 && v.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        })
        .map(str::to_owned)
}

/// Whether the request reached us over https (directly or through a TLS proxy
/// that says so), which decides the cookie's `Secure`.
pub fn is_https(req: &Request) -> bool {
    crate::calendar::request_origin(req).is_some_and(|o| o.starts_with("https://"))
}

pub fn set_cookie(req: &Request, token: &str) -> String {
    let secure = if is_https(req) { "; Secure" } else { "" };
    format!(
        "{COOKIE}={token}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{secure}",
        IDLE_MS / 1000
    )
}

pub fn clear_cookie(req: &Request) -> String {
    let secure = if is_https(req) { "; Secure" } else { "" };
    format!("{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// Starts a session for `account`; returns the cookie's value.
pub fn create(b: &impl Backend, account: i64) -> ApiResult<String> {
    let bytes = b.random_bytes(TOKEN_BYTES)?;
    if bytes.len() != TOKEN_BYTES {
        return Err(ApiError::new(
            503,
            "random_unavailable",
            "the host gave too few random bytes for a session",
        ));
    }
    let token = hex(&bytes);
    let now = b.now_millis();
    b.execute(
        "INSERT INTO sessions (token_sha256, account_id, created_ms, last_seen_ms) VALUES (?, ?, ?, ?)",
        &[digest(&token).into(), account.into(), now.into(), now.into()],
    )?;
    Ok(token)
}

/// A live session: whose it is, and whether the cookie should be sent again.
pub struct Found {
    pub account: i64,
    pub renewed: bool,
}

/// Looks a cookie up: its account, if the session is live and the account enabled.
pub fn find(b: &impl Backend, token: &str) -> ApiResult<Option<Found>> {
    let hash = digest(token);
    let rows = b.execute(
        "SELECT s.account_id, s.last_seen_ms FROM sessions s JOIN accounts a ON a.id = s.account_id
         WHERE s.token_sha256 = ? AND a.disabled = 0",
        &[hash.as_str().into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let (Some(account), Some(last_seen)) = (
        row.first().and_then(Value::as_i64),
        row.get(1).and_then(Value::as_i64),
    ) else {
        return Ok(None);
    };
    let now = b.now_millis();
    if now - last_seen > IDLE_MS {
        b.execute(
            "DELETE FROM sessions WHERE token_sha256 = ?",
            &[hash.into()],
        )?;
        return Ok(None);
    }
    let renewed = now - last_seen >= RENEW_MS;
    if renewed {
        b.execute(
            "UPDATE sessions SET last_seen_ms = ? WHERE token_sha256 = ?",
            &[now.into(), hash.into()],
        )?;
        super::records::touch(b, account, now)?;
    }
    Ok(Some(Found { account, renewed }))
}

pub fn end(b: &impl Backend, token: &str) -> ApiResult<()> {
    b.execute(
        "DELETE FROM sessions WHERE token_sha256 = ?",
        &[digest(token).into()],
    )?;
    Ok(())
}

/// Ends every session of `account` except `keep` (a cookie value).
pub fn end_all(b: &impl Backend, account: i64, keep: Option<&str>) -> ApiResult<()> {
    b.execute(
        "DELETE FROM sessions WHERE account_id = ? AND token_sha256 <> ?",
        &[account.into(), keep.map(digest).unwrap_or_default().into()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn with_cookie(v: &str) -> Request {
        Request::new("GET", "/").with_header("Cookie", v)
    }

    #[test]
    fn the_cookie_is_found_among_others_and_must_be_well_formed() {
        assert_eq!(
            cookie_value(&with_cookie(&format!("a=b; {COOKIE}={T}; c=d"))).as_deref(),
            Some(T)
        );
        assert_eq!(
            cookie_value(&with_cookie(&format!("{COOKIE}={}", &T[..63]))),
            None
        );
        assert_eq!(
            cookie_value(&with_cookie(&format!("{COOKIE}={}", T.to_uppercase()))),
            None
        );
        assert_eq!(cookie_value(&with_cookie(&format!("x{COOKIE}={T}"))), None);
        assert_eq!(cookie_value(&with_cookie("garbage;;=;")), None);
        assert_eq!(cookie_value(&Request::new("GET", "/")), None);
    }

    #[test]
    fn the_cookie_is_secure_only_over_https() {
        let plain = Request::new("POST", "/").with_header("spin-full-url", "http://h/api");
        let tls = Request::new("POST", "/").with_header("spin-full-url", "https://h/api");
        assert!(!set_cookie(&plain, T).contains("Secure"));
        let c = set_cookie(&tls, T);
        for part in [
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Secure",
            "Max-Age=2592000",
        ] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        assert!(clear_cookie(&tls).contains("Max-Age=0"));
    }
}
