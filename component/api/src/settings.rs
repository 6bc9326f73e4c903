//! Settings in the key-value store, one JSON value per key.

use crate::backend::Backend;
use crate::errors::{ApiError, ApiResult};
use serde_json::{Map, Value as Json, json};

pub const MAX_KEY_LEN: usize = 64;
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
pub const MONTHLY_GOAL: &str = "monthly_goal";
pub const DEFAULT_MONTHLY_GOAL: i64 = 2;
const MAX_MONTHLY_GOAL: i64 = 1000;

/// Changes on every settings write, so `GET /api/settings` can answer 304 from
/// one read. The `@` keeps it outside the key alphabet clients may use.
const VERSION_KEY: &str = "@settings-version";

pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
        })
}

pub fn check_key(key: &str) -> ApiResult<()> {
    if valid_key(key) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "key",
            format!("a settings key is 1..{MAX_KEY_LEN} characters of a-z 0-9 _ . -"),
        ))
    }
}

/// Check a value for `key`; returns its stored form.
pub fn check_value(key: &str, value: &Json) -> ApiResult<Vec<u8>> {
    if value.is_null() {
        return Err(ApiError::invalid_field("value", "value must not be null"));
    }
    if key == MONTHLY_GOAL
        && !value
            .as_i64()
            .is_some_and(|g| (0..=MAX_MONTHLY_GOAL).contains(&g))
    {
        return Err(ApiError::invalid_field(
            "value",
            format!("monthly_goal must be an integer from 0 to {MAX_MONTHLY_GOAL}"),
        ));
    }
    let bytes = value.to_string().into_bytes();
    if bytes.len() > MAX_VALUE_BYTES {
        return Err(ApiError::invalid_field(
            "value",
            format!("a settings value is at most {MAX_VALUE_BYTES} bytes of JSON"),
        ));
    }
    Ok(bytes)
}

fn default_for(key: &str) -> Option<Json> {
    (key == MONTHLY_GOAL).then(|| json!(DEFAULT_MONTHLY_GOAL))
}

pub fn get(b: &impl Backend, key: &str) -> ApiResult<Option<Json>> {
    let stored = b.kv_get(key)?;
    Ok(stored
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .or_else(|| default_for(key)))
}

/// The current settings version as an entity tag.
pub fn etag(b: &impl Backend) -> ApiResult<String> {
    let v = b.kv_get(VERSION_KEY)?;
    let v = v
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| "0".into());
    Ok(format!("\"s{v}\""))
}

fn bump_version(b: &impl Backend, salt: &[u8]) -> ApiResult<String> {
    // Unique per write even when two writers race: time plus a hash of what
    // was written (the store has no atomic increment).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in salt {
        h = (h ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let v = format!("{:x}-{:x}", b.now_millis(), h & 0xffff_ffff);
    b.kv_set(VERSION_KEY, v.as_bytes())?;
    etag(b)
}

pub fn set(b: &impl Backend, key: &str, stored: &[u8]) -> ApiResult<String> {
    b.kv_set(key, stored)?;
    let mut salt = key.as_bytes().to_vec();
    salt.extend_from_slice(stored);
    bump_version(b, &salt)
}

/// Delete a key; false when it was not set.
pub fn delete(b: &impl Backend, key: &str) -> ApiResult<bool> {
    if b.kv_get(key)?.is_none() {
        return Ok(false);
    }
    b.kv_delete(key)?;
    bump_version(b, key.as_bytes())?;
    Ok(true)
}

/// Every setting, defaults included, ordered by key.
pub fn all(b: &impl Backend) -> ApiResult<Map<String, Json>> {
    let mut keys: Vec<String> = b.kv_keys()?.into_iter().filter(|k| valid_key(k)).collect();
    keys.sort();
    let mut out = Map::new();
    for k in keys {
        if let Some(v) = b
            .kv_get(&k)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        {
            out.insert(k, v);
        }
    }
    if !out.contains_key(MONTHLY_GOAL) {
        out.insert(MONTHLY_GOAL.into(), json!(DEFAULT_MONTHLY_GOAL));
    }
    Ok(out)
}
