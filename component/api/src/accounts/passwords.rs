//! Password rules and hashing: Argon2id with OWASP's minimum cost, salts from
//! the host's secure random source, and a dummy verification for unknown or
//! disabled accounts so a sign-in takes about the same time either way.

use crate::backend::Backend;
use crate::errors::{ApiError, ApiResult};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_BYTES: usize = 8;
pub const MAX_BYTES: usize = 1024;

/// m = 19 MiB, t = 2, p = 1 (OWASP's minimum for Argon2id).
const M_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;
/// The stored form names its parameters, so a later cost change can still
/// verify the hashes made before it.
const SCHEME: &str = "argon2id";

/// 400 `invalid_password` unless 8..=1024 bytes: checked before any hashing,
/// so an oversized password costs nothing.
pub fn check(field: &str, password: &str) -> ApiResult<()> {
    if (MIN_BYTES..=MAX_BYTES).contains(&password.len()) {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "invalid_password",
            format!("a password is {MIN_BYTES} to {MAX_BYTES} bytes"),
        )
        .with_field(field))
    }
}

fn argon(m: u32, t: u32, p: u32) -> ApiResult<Argon2<'static>> {
    let params = Params::new(m, t, p, Some(HASH_BYTES))
        .map_err(|e| ApiError::new(500, "internal_error", format!("password parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn derive(argon: &Argon2<'_>, password: &str, salt: &[u8]) -> ApiResult<[u8; HASH_BYTES]> {
    let mut out = [0u8; HASH_BYTES];
    argon
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|e| ApiError::new(500, "internal_error", format!("password hashing: {e}")))?;
    Ok(out)
}

/// The stored form: `argon2id$m=19456,t=2,p=1$<salt hex>$<hash hex>`.
pub fn hash(b: &impl Backend, password: &str) -> ApiResult<String> {
    let salt = b.random_bytes(SALT_BYTES)?;
    if salt.len() != SALT_BYTES {
        return Err(ApiError::new(
            503,
            "random_unavailable",
            "the host gave too few random bytes for a salt",
        ));
    }
    let out = derive(&argon(M_KIB, T_COST, P_COST)?, password, &salt)?;
    Ok(format!(
        "{SCHEME}$m={M_KIB},t={T_COST},p={P_COST}${}${}",
        super::hex(&salt),
        super::hex(&out)
    ))
}

struct Stored {
    m: u32,
    t: u32,
    p: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn parse(stored: &str) -> Option<Stored> {
    let mut parts = stored.split('$');
    if parts.next()? != SCHEME {
        return None;
    }
    let (mut m, mut t, mut p) = (None, None, None);
    for kv in parts.next()?.split(',') {
        let (k, v) = kv.split_once('=')?;
        let v: u32 = v.parse().ok()?;
        match k {
            "m" => m = Some(v),
            "t" => t = Some(v),
            "p" => p = Some(v),
            _ => return None,
        }
    }
    let salt = super::unhex(parts.next()?)?;
    let hash = super::unhex(parts.next()?)?;
    if parts.next().is_some() || hash.len() != HASH_BYTES {
        return None;
    }
    Some(Stored {
        m: m?,
        t: t?,
        p: p?,
        salt,
        hash,
    })
}

/// Whether `password` matches `stored`. `None` (no such account, or one that
/// may not sign in) still runs one full derivation with the same cost, so the
/// answer's timing does not tell an unknown user from a wrong password.
pub fn verify(stored: Option<&str>, password: &str) -> ApiResult<bool> {
    let Some(s) = stored.and_then(parse) else {
        let dummy_salt = [0x5au8; SALT_BYTES];
        let _ = derive(&argon(M_KIB, T_COST, P_COST)?, password, &dummy_salt)?;
        return Ok(false);
    };
    let out = derive(&argon(s.m, s.t, s.p)?, password, &s.salt)?;
    Ok(crate::auth::same(&out, &s.hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_checked_in_bytes() {
        assert!(check("password", "1234567").is_err());
        assert!(check("password", "12345678").is_ok());
        // Four characters, eight bytes.
        assert!(check("password", "éééé").is_ok());
        assert!(check("password", &"x".repeat(MAX_BYTES)).is_ok());
        assert!(check("password", &"x".repeat(MAX_BYTES + 1)).is_err());
    }

    #[test]
    fn stored_form_round_trips_and_rejects_garbage() {
        let salt = [7u8; SALT_BYTES];
        let out = derive(
            &argon(M_KIB, T_COST, P_COST).unwrap(),
            "correct horse",
            &salt,
        )
        .unwrap();
        let stored = format!(
            "{SCHEME}$m={M_KIB},t={T_COST},p={P_COST}${}${}",
            crate::accounts::hex(&salt),
            crate::accounts::hex(&out)
        );
        assert!(verify(Some(&stored), "correct horse").unwrap());
        assert!(!verify(Some(&stored), "correct horsf").unwrap());
        assert!(!verify(None, "correct horse").unwrap());
        for bad in ["", "argon2id", "bcrypt$x$y$z", "argon2id$m=1$00$00"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
