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
    check(key, value).map(|(_, bytes)| bytes)
}

/// Check a value for `key`; returns the value as it is stored (and read back)
/// and its stored bytes.
pub fn check(key: &str, value: &Json) -> ApiResult<(Json, Vec<u8>)> {
    if value.is_null() {
        return Err(ApiError::invalid_field("value", "value must not be null"));
    }
    let value = if key == MONTHLY_GOAL {
        let goal = monthly_goal(value).ok_or_else(|| {
            ApiError::invalid_field(
                "value",
                format!("monthly_goal must be an integer from 0 to {MAX_MONTHLY_GOAL}"),
            )
        })?;
        json!(goal)
    } else {
        value.clone()
    };
    let bytes = value.to_string().into_bytes();
    if bytes.len() > MAX_VALUE_BYTES {
        return Err(ApiError::invalid_field(
            "value",
            format!("a settings value is at most {MAX_VALUE_BYTES} bytes of JSON"),
        ));
    }
    Ok((value, bytes))
}

/// The goal a `monthly_goal` value stands for. The seed's client sends it as a
/// string (`goal.toString()`) and reads it back with `parseInt`, so a string of
/// decimal digits (surrounding spaces aside) is the same goal as the number and
/// is stored as the number, which `parseInt` and this app's client both read.
/// Anything `parseInt` would only half-read (`"1e3"`, `"3.5"`, `"-1"`) is refused.
fn monthly_goal(value: &Json) -> Option<i64> {
    let goal = match value {
        Json::Number(n) => n.as_i64()?,
        Json::String(s) => {
            let digits = s.trim();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // A run of digits too long for i64 fails here, and is out of range anyway.
            digits.parse::<i64>().ok()?
        }
        _ => return None,
    };
    (0..=MAX_MONTHLY_GOAL).contains(&goal).then_some(goal)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(value: Json) -> Result<Json, String> {
        check(MONTHLY_GOAL, &value)
            .map(|(v, bytes)| {
                assert_eq!(bytes, v.to_string().into_bytes());
                v
            })
            .map_err(|e| e.field.clone().unwrap_or_default())
    }

    #[test]
    fn a_monthly_goal_sent_as_a_digit_string_is_stored_as_the_number() {
        assert_eq!(stored(json!("3")), Ok(json!(3)));
        assert_eq!(stored(json!(" 4 ")), Ok(json!(4)));
        assert_eq!(stored(json!("0")), Ok(json!(0)));
        assert_eq!(stored(json!("1000")), Ok(json!(1000)));
        assert_eq!(stored(json!(7)), Ok(json!(7)));
    }

    #[test]
    fn anything_else_is_not_a_monthly_goal() {
        for bad in [
            json!("abc"),
            json!("1e3"),
            json!("3.5"),
            json!("-1"),
            json!("+3"),
            json!("1001"),
            json!("99999999999999999999999"),
            json!(""),
            json!("  "),
            json!(-1),
            json!(1001),
            json!(3.5),
            json!(null),
            json!([3]),
            json!({"value": 3}),
            json!(true),
        ] {
            assert_eq!(stored(bad.clone()), Err("value".into()), "{bad}");
        }
    }

    #[test]
    fn other_settings_are_stored_as_sent() {
        let (v, bytes) = check("theme", &json!("3")).expect("valid");
        assert_eq!((v, bytes), (json!("3"), b"\"3\"".to_vec()));
    }
}
