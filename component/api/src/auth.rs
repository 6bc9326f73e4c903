//! Optional bearer token on `/api`: on when the Spin variable `api_token` is
//! non-empty.

use crate::backend::Backend;
use crate::errors::{ApiError, ApiResult};
use crate::http::Request;

pub const TOKEN_VARIABLE: &str = "api_token";

/// Compare without an early exit, so timing says nothing about the token.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn check(b: &impl Backend, req: &Request) -> ApiResult<()> {
    // Failing closed: if the variable cannot be read we do not know whether a
    // token is required.
    let token = b.variable(TOKEN_VARIABLE).map_err(|e| {
        ApiError::new(
            503,
            "config_unavailable",
            format!("cannot read api_token: {e}"),
        )
    })?;
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    let presented = req.header("authorization").and_then(|h| {
        let (scheme, rest) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    });
    match presented {
        Some(p) if same(p.as_bytes(), token.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            401,
            "unauthorized",
            "this server requires Authorization: Bearer <token>",
        )
        .with_header("www-authenticate", "Bearer realm=\"skilltrack\"")),
    }
}
