//! Personal API tokens for scripts: `st_` + 256 random bits, shown once; only
//! the SHA-256 is kept. Ids are derived from the token, not counted, so a
//! token's id says nothing about how many tokens or accounts exist.

use super::{digest, hex};
use crate::backend::{Backend, Value};
use crate::dates;
use crate::errors::{ApiError, ApiResult};
use serde_json::{Value as Json, json};

pub const PREFIX: &str = "st_";
const TOKEN_BYTES: usize = 32;
pub const MAX_NAME_CHARS: usize = 100;
/// `lastUsedAt` is written at most this often per token, so a busy script does
/// not turn every read into a write.
const TOUCH_MS: i64 = 60 * 1000;

fn id_for(token: &str) -> String {
    // A different input than the stored digest, so the id (which is shown)
    // cannot be matched against a leaked digest column.
    digest(&format!("id:{token}"))[..16].to_owned()
}

pub fn check_name(v: &Json) -> ApiResult<String> {
    let name = v
        .as_str()
        .map(str::trim)
        .filter(|n| {
            !n.is_empty() && n.chars().count() <= MAX_NAME_CHARS && !n.chars().any(char::is_control)
        })
        .ok_or_else(|| {
            ApiError::invalid_field(
                "name",
                format!("name is 1 to {MAX_NAME_CHARS} characters of text"),
            )
        })?;
    Ok(name.to_owned())
}

pub fn create(b: &impl Backend, account: i64, name: &str) -> ApiResult<Json> {
    let bytes = b.random_bytes(TOKEN_BYTES)?;
    if bytes.len() != TOKEN_BYTES {
        return Err(ApiError::new(
            503,
            "random_unavailable",
            "the host gave too few random bytes for a token",
        ));
    }
    let token = format!("{PREFIX}{}", hex(&bytes));
    let id = id_for(&token);
    let now = b.now_millis();
    b.execute(
        "INSERT INTO api_tokens (id, token_sha256, account_id, name, created_ms) VALUES (?, ?, ?, ?, ?)",
        &[
            id.as_str().into(),
            digest(&token).into(),
            account.into(),
            name.into(),
            now.into(),
        ],
    )?;
    Ok(json!({"id": id, "name": name, "createdAt": dates::timestamp(now), "token": token}))
}

pub fn list(b: &impl Backend, account: i64) -> ApiResult<Vec<Json>> {
    let rows = b.execute(
        "SELECT id, name, created_ms, last_used_ms FROM api_tokens WHERE account_id = ? ORDER BY created_ms, id",
        &[account.into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let text = |i: usize| r.get(i).and_then(Value::to_opt_string);
            let int = |i: usize| r.get(i).and_then(Value::as_i64);
            json!({
                "id": text(0),
                "name": text(1),
                "createdAt": dates::timestamp(int(2).unwrap_or(0)),
                "lastUsedAt": int(3).map(dates::timestamp),
            })
        })
        .collect())
}

/// Revokes one of `account`'s tokens; false when it has no such token.
pub fn revoke(b: &impl Backend, account: i64, id: &str) -> ApiResult<bool> {
    let rows = b.execute(
        "SELECT id FROM api_tokens WHERE id = ? AND account_id = ?",
        &[id.into(), account.into()],
    )?;
    if rows.is_empty() {
        return Ok(false);
    }
    b.execute(
        "DELETE FROM api_tokens WHERE id = ? AND account_id = ?",
        &[id.into(), account.into()],
    )?;
    Ok(true)
}

/// The account a presented token belongs to, if it is live and the account enabled.
pub fn find(b: &impl Backend, token: &str) -> ApiResult<Option<i64>> {
    let well_formed = token
        .strip_prefix(PREFIX)
        .is_some_and(|h| h.len() == TOKEN_BYTES * 2 && h.bytes().all(|c| c.is_ascii_hexdigit()));
    if !well_formed {
        return Ok(None);
    }
    let hash = digest(token);
    let rows = b.execute(
        "SELECT t.account_id, t.last_used_ms FROM api_tokens t JOIN accounts a ON a.id = t.account_id
         WHERE t.token_sha256 = ? AND a.disabled = 0",
        &[hash.as_str().into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let Some(account) = row.first().and_then(Value::as_i64) else {
        return Ok(None);
    };
    let now = b.now_millis();
    let last = row.get(1).and_then(Value::as_i64);
    if last.is_none_or(|l| now - l >= TOUCH_MS) {
        b.execute(
            "UPDATE api_tokens SET last_used_ms = ? WHERE token_sha256 = ?",
            &[now.into(), hash.into()],
        )?;
    }
    Ok(Some(account))
}
