//! Account rows and the username rules.

use crate::backend::{Backend, Rows, Value};
use crate::dates;
use crate::errors::{ApiError, ApiResult};
use crate::store::Tx;
use serde_json::{Value as Json, json};

pub const MAX_USERNAME: usize = 32;

/// Key in `meta` of the highest account id ever handed out.
const LAST_ID_KEY: &str = "last_account_id";

/// A username as stored (lower-case), or 400 `invalid_username`: 1..32 of
/// `a-z 0-9 . _ -`, upper case accepted and folded. Anything outside ASCII is
/// refused rather than folded, so two different-looking names never collide.
pub fn normalize_username(raw: &str) -> ApiResult<String> {
    let ok = (1..=MAX_USERNAME).contains(&raw.len())
        && raw
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err(invalid_username())
    }
}

pub fn invalid_username() -> ApiError {
    ApiError::new(
        400,
        "invalid_username",
        format!("a username is 1 to {MAX_USERNAME} characters of a-z 0-9 . _ -"),
    )
    .with_field("username")
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub password: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub share_progress: bool,
    pub created_at: String,
    pub last_seen_ms: Option<i64>,
}

impl Account {
    /// The `Account` object of the API.
    pub fn public(&self) -> Json {
        json!({
            "id": self.id,
            "username": self.username,
            "isAdmin": self.is_admin,
            "shareProgress": self.share_progress,
        })
    }
}

const COLUMNS: &str =
    "id, username, password, is_admin, disabled, share_progress, created_at, last_seen_ms";

fn from_rows(rows: Rows) -> Vec<Account> {
    rows.into_iter()
        .filter_map(|r| {
            let int = |i: usize| r.get(i).and_then(Value::as_i64);
            let text = |i: usize| r.get(i).and_then(Value::to_opt_string);
            Some(Account {
                id: int(0)?,
                username: text(1)?,
                password: text(2)?,
                is_admin: int(3)? != 0,
                disabled: int(4)? != 0,
                share_progress: int(5)? != 0,
                created_at: text(6)?,
                last_seen_ms: int(7),
            })
        })
        .collect()
}

pub fn by_id(b: &impl Backend, id: i64) -> ApiResult<Option<Account>> {
    let rows = b.execute(
        &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?"),
        &[id.into()],
    )?;
    Ok(from_rows(rows).into_iter().next())
}

pub fn by_username(b: &impl Backend, username: &str) -> ApiResult<Option<Account>> {
    let rows = b.execute(
        &format!("SELECT {COLUMNS} FROM accounts WHERE username = ?"),
        &[username.into()],
    )?;
    Ok(from_rows(rows).into_iter().next())
}

pub fn all(b: &impl Backend) -> ApiResult<Vec<Account>> {
    let rows = b.execute(&format!("SELECT {COLUMNS} FROM accounts ORDER BY id"), &[])?;
    Ok(from_rows(rows))
}

pub fn count(b: &impl Backend) -> ApiResult<i64> {
    let rows = b.execute("SELECT count(*) FROM accounts", &[])?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .unwrap_or(0))
}

/// Inserts an account inside a write transaction. Ids are max + 1 under the
/// writers' lock, so the first account is 1 (and keeps owner 1's library) and
/// no two replicas hand out the same id.
pub fn insert(
    tx: &Tx<'_, impl Backend>,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> ApiResult<Account> {
    if by_username(tx.backend(), username)?.is_some() {
        return Err(
            ApiError::new(409, "username_taken", "that username is taken").with_field("username"),
        );
    }
    // The high-water mark in `meta` keeps a removed person's id from being
    // handed to someone new: nothing keyed by it can ever reach a stranger.
    let rows = tx.exec(
        "SELECT coalesce(max(id), 0), (SELECT value FROM meta WHERE key = ?) FROM accounts",
        &[LAST_ID_KEY.into()],
    )?;
    let row = rows.first();
    let at = |i: usize| {
        row.and_then(|r| r.get(i))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let id = at(0).max(at(1)) + 1;
    tx.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        &[LAST_ID_KEY.into(), id.into()],
    )?;
    let now = tx.backend().now_millis();
    let created_at = dates::timestamp(now);
    tx.exec(
        &format!("INSERT INTO accounts ({COLUMNS}) VALUES (?, ?, ?, ?, 0, 0, ?, ?)"),
        &[
            id.into(),
            username.into(),
            password_hash.into(),
            is_admin.into(),
            created_at.as_str().into(),
            now.into(),
        ],
    )?;
    Ok(Account {
        id,
        username: username.to_owned(),
        password: password_hash.to_owned(),
        is_admin,
        disabled: false,
        share_progress: false,
        created_at,
        last_seen_ms: Some(now),
    })
}

/// Records activity for the admin list (at most hourly, with session renewal).
pub fn touch(b: &impl Backend, id: i64, now: i64) -> ApiResult<()> {
    b.execute(
        "UPDATE accounts SET last_seen_ms = ? WHERE id = ?",
        &[now.into(), id.into()],
    )?;
    Ok(())
}

pub fn set_flag(b: &impl Backend, id: i64, column: Flag, on: bool) -> ApiResult<()> {
    let sql = match column {
        Flag::Disabled => "UPDATE accounts SET disabled = ? WHERE id = ?",
        Flag::ShareProgress => "UPDATE accounts SET share_progress = ? WHERE id = ?",
    };
    b.execute(sql, &[on.into(), id.into()])?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum Flag {
    Disabled,
    ShareProgress,
}

pub fn set_password(b: &impl Backend, id: i64, hash: &str) -> ApiResult<()> {
    b.execute(
        "UPDATE accounts SET password = ? WHERE id = ?",
        &[hash.into(), id.into()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_folded_to_lower_case_and_checked() {
        assert_eq!(normalize_username("Ada.L_1-x").unwrap(), "ada.l_1-x");
        assert_eq!(normalize_username(&"a".repeat(32)).unwrap().len(), 32);
        for bad in [
            "",
            " ada",
            "ada lovelace",
            "ädä",
            "ada@x",
            "ada/..",
            "ＡＤＡ",
            "ada\u{0}",
        ] {
            assert!(normalize_username(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_username(&"a".repeat(33)).is_err());
    }
}
