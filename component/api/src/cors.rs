//! Opt-in cross-origin access. The seed's front end ran on another origin than its
//! API; this one is same-origin only unless the Spin variable `cors_origins` lists
//! the exact origins (`scheme://host[:port]`, comma- or space-separated) whose
//! pages may call it. Empty, the default, sends no CORS header at all.

use crate::backend::Backend;
use crate::http::{Request, Response};
use crate::routes::Route;

pub const ORIGINS_VARIABLE: &str = "cors_origins";

/// What a cross-origin page may send: the JSON body type, the revision
/// preconditions and the bearer token.
pub const ALLOWED_HEADERS: &str = "Content-Type, If-Match, If-None-Match, Authorization";
/// What it may read beyond the CORS-safelisted headers: the revision, where a new
/// course lives, and when to retry a busy server.
pub const EXPOSED_HEADERS: &str = "ETag, Location, Retry-After";
/// How long a browser may reuse a preflight answer (browsers cap it: Chromium
/// at 2 hours, Firefox at 24).
pub const MAX_AGE_SECONDS: &str = "7200";

/// The allow-list of one request, read once.
pub struct Cors {
    configured: bool,
    /// The request's `Origin` when the allow-list names it.
    allowed: Option<String>,
}

/// The origins a `cors_origins` value lists. A trailing `/` is dropped (an
/// origin never has one, a pasted URL often does); `null`, the origin of
/// sandboxed and `file:` pages, is never allowed.
pub fn parse_origins(value: &str) -> Vec<&str> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|o| o.strip_suffix('/').unwrap_or(o))
        .filter(|o| !o.is_empty() && *o != "null")
        .collect()
}

impl Cors {
    pub fn for_request(b: &impl Backend, req: &Request) -> Cors {
        // A variable that cannot be read grants nothing: the request itself still
        // gets its answer (the token check reports the broken configuration).
        let list = b
            .variable(ORIGINS_VARIABLE)
            .ok()
            .flatten()
            .unwrap_or_default();
        let origins = parse_origins(&list);
        let allowed = req
            .header("origin")
            .filter(|o| origins.contains(o))
            .map(str::to_owned);
        Cors {
            configured: !origins.is_empty(),
            allowed,
        }
    }

    /// A preflight from a listed origin: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`. Any other `OPTIONS` is an ordinary request
    /// (and answered 405).
    pub fn is_allowed_preflight(&self, req: &Request) -> bool {
        self.allowed.is_some()
            && req.method == "OPTIONS"
            && req.header("access-control-request-method").is_some()
    }

    /// The preflight answer for a route: its methods, the headers above. Sent
    /// before the token check, as browsers never send credentials on a preflight.
    pub fn preflight(route: &Route) -> Response {
        let mut methods: Vec<&str> = route.methods.to_vec();
        if methods.contains(&"GET") {
            methods.insert(1, "HEAD");
        }
        Response::new(204)
            .with_header("access-control-allow-methods", &methods.join(", "))
            .with_header("access-control-allow-headers", ALLOWED_HEADERS)
            .with_header("access-control-max-age", MAX_AGE_SECONDS)
    }

    /// Adds the CORS headers to any answer (errors included) for a listed origin.
    pub fn apply(&self, mut resp: Response) -> Response {
        if self.configured {
            // With an allow-list the answer depends on Origin, so caches must key on it
            // even when this origin got no CORS header.
            resp = resp.with_header("vary", "Origin");
        }
        if let Some(origin) = &self.allowed {
            resp = resp
                .with_header("access-control-allow-origin", origin)
                .with_header("access-control-expose-headers", EXPOSED_HEADERS);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_split_on_commas_and_spaces() {
        assert_eq!(
            parse_origins(" https://a.example, http://localhost:5173\nhttps://b.example/ ,,"),
            [
                "https://a.example",
                "http://localhost:5173",
                "https://b.example"
            ]
        );
        assert!(parse_origins("").is_empty());
        assert!(parse_origins(" , ").is_empty());
        assert!(parse_origins("null").is_empty());
    }
}
