//! Invitations: a single-use, expiring secret link an admin hands to a new
//! person; accepting it creates their account and signs them in.

use super::{digest, hex, records};
use crate::backend::{Backend, Value};
use crate::dates;
use crate::errors::{ApiError, ApiResult};
use crate::store::Tx;
use serde_json::{Value as Json, json};

const TOKEN_BYTES: usize = 32;
pub const DEFAULT_HOURS: i64 = 72;
pub const MAX_HOURS: i64 = 720;

/// Where the browser app opens an invitation.
pub fn path(token: &str) -> String {
    format!("/#/invite/{token}")
}

pub fn invalid() -> ApiError {
    ApiError::new(
        404,
        "invite_invalid",
        "this invitation is unknown, used or expired",
    )
}

pub struct NewInvite {
    pub id: String,
    pub token: String,
    pub expires_at: String,
}

pub fn create(b: &impl Backend, admin: i64, hours: i64) -> ApiResult<NewInvite> {
    let bytes = b.random_bytes(TOKEN_BYTES)?;
    if bytes.len() != TOKEN_BYTES {
        return Err(ApiError::new(
            503,
            "random_unavailable",
            "the host gave too few random bytes for an invitation",
        ));
    }
    let token = hex(&bytes);
    let id = digest(&format!("id:{token}"))[..16].to_owned();
    let now = b.now_millis();
    let expires = now + hours * 3600 * 1000;
    b.execute(
        "INSERT INTO invites (id, token_sha256, created_by, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)",
        &[
            id.as_str().into(),
            digest(&token).into(),
            admin.into(),
            now.into(),
            expires.into(),
        ],
    )?;
    Ok(NewInvite {
        id,
        token,
        expires_at: dates::timestamp(expires),
    })
}

/// Pending invitations (unused, unexpired), oldest first.
pub fn pending(b: &impl Backend) -> ApiResult<Vec<Json>> {
    let rows = b.execute(
        "SELECT id, created_ms, expires_ms FROM invites WHERE used_by IS NULL AND expires_ms > ? ORDER BY created_ms, id",
        &[b.now_millis().into()],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let int = |i: usize| r.get(i).and_then(Value::as_i64).unwrap_or(0);
            json!({
                "id": r.first().and_then(Value::to_opt_string),
                "createdAt": dates::timestamp(int(1)),
                "expiresAt": dates::timestamp(int(2)),
            })
        })
        .collect())
}

pub fn delete(b: &impl Backend, id: &str) -> ApiResult<bool> {
    let rows = b.execute("SELECT id FROM invites WHERE id = ?", &[id.into()])?;
    if rows.is_empty() {
        return Ok(false);
    }
    b.execute("DELETE FROM invites WHERE id = ?", &[id.into()])?;
    Ok(true)
}

/// The expiry of a usable invitation, by its token; `None` when unknown, used
/// or expired (all the same to the caller).
pub fn usable(b: &impl Backend, token: &str) -> ApiResult<Option<i64>> {
    if token.len() != TOKEN_BYTES * 2 || !token.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let rows = b.execute(
        "SELECT expires_ms FROM invites WHERE token_sha256 = ? AND used_by IS NULL AND expires_ms > ?",
        &[digest(token).into(), b.now_millis().into()],
    )?;
    Ok(rows.first().and_then(|r| r.first()).and_then(Value::as_i64))
}

/// Uses the invitation for a new account, in the caller's write transaction:
/// two people racing with one link get one account between them.
pub fn accept(
    tx: &Tx<'_, impl Backend>,
    token: &str,
    username: &str,
    password_hash: &str,
) -> ApiResult<records::Account> {
    if usable(tx.backend(), token)?.is_none() {
        return Err(invalid());
    }
    let account = records::insert(tx, username, password_hash, false)?;
    tx.exec(
        "UPDATE invites SET used_by = ? WHERE token_sha256 = ?",
        &[account.id.into(), digest(token).into()],
    )?;
    Ok(account)
}
