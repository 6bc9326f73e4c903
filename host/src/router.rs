//! Spin's HTTP route matching: exact routes beat wildcards, and among wildcards
//! the longest prefix wins. `/api/...` matches `/api` and anything under `/api/`
//! (not `/apix`); `/...` matches every path. A trailing slash on the request path
//! does not change which route matches.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RoutePattern {
    /// Normalised path without trailing slash; the root is the empty string.
    Exact(String),
    /// Everything at or under this normalised prefix; the empty string is `/...`.
    Wildcard(String),
}

impl RoutePattern {
    pub fn parse(route: &str) -> Result<Self, String> {
        if !route.starts_with('/') {
            return Err(format!("route `{route}` must start with `/`"));
        }
        let (body, wildcard) = match route.strip_suffix("/...") {
            Some(prefix) => (prefix, true),
            None => (route, false),
        };
        if body.contains("...") {
            return Err(format!(
                "route `{route}`: `...` is only allowed as the final segment"
            ));
        }
        if body.split('/').any(|seg| seg.starts_with(':')) {
            return Err(format!(
                "route `{route}`: route parameters (`:name`) are not supported; use a wildcard route"
            ));
        }
        if body.contains(['?', '#', '*']) {
            return Err(format!("route `{route}` may not contain `?`, `#` or `*`"));
        }
        let normalised = normalise(body).to_owned();
        Ok(if wildcard {
            Self::Wildcard(normalised)
        } else {
            Self::Exact(normalised)
        })
    }

    /// The path a component is mounted at (`spin-component-route`).
    pub fn base(&self) -> &str {
        match self {
            Self::Exact(p) | Self::Wildcard(p) => p,
        }
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(p) if p.is_empty() => f.write_str("/"),
            Self::Exact(p) => f.write_str(p),
            Self::Wildcard(p) => write!(f, "{p}/..."),
        }
    }
}

fn normalise(path: &str) -> &str {
    path.trim_end_matches('/')
}

#[derive(Debug, Clone)]
pub struct Route<T> {
    pub pattern: RoutePattern,
    /// The route as written in the manifest.
    pub raw: String,
    pub target: T,
}

#[derive(Debug)]
pub struct RouteMatch<'a, T> {
    pub route: &'a Route<T>,
    /// The part of the request path after the route's base (`spin-path-info`).
    pub path_info: &'a str,
}

#[derive(Debug, Clone)]
pub struct Router<T> {
    routes: Vec<Route<T>>,
}

impl<T> Router<T> {
    pub fn new(routes: Vec<Route<T>>) -> Self {
        Self { routes }
    }

    pub fn find<'a>(&'a self, path: &'a str) -> Option<RouteMatch<'a, T>> {
        let wanted = normalise(path);
        if let Some(route) = self
            .routes
            .iter()
            .find(|r| matches!(&r.pattern, RoutePattern::Exact(p) if p == wanted))
        {
            return Some(RouteMatch {
                route,
                path_info: "",
            });
        }
        self.routes
            .iter()
            .filter_map(|r| match &r.pattern {
                RoutePattern::Wildcard(prefix) if under(wanted, prefix) => Some((prefix.len(), r)),
                _ => None,
            })
            .max_by_key(|(len, _)| *len)
            .map(|(len, route)| RouteMatch {
                route,
                path_info: path.get(len..).unwrap_or(""),
            })
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &'static str)]) -> Router<&'static str> {
        Router::new(
            routes
                .iter()
                .map(|(raw, target)| Route {
                    pattern: RoutePattern::parse(raw).expect("valid route"),
                    raw: raw.to_string(),
                    target: *target,
                })
                .collect(),
        )
    }

    fn target(r: &Router<&'static str>, path: &str) -> Option<&'static str> {
        r.find(path).map(|m| m.route.target)
    }

    #[test]
    fn exact_route_beats_a_wildcard_covering_it() {
        let r = router(&[("/...", "web"), ("/health", "api")]);
        assert_eq!(target(&r, "/health"), Some("api"));
        assert_eq!(target(&r, "/healthz"), Some("web"));
        assert_eq!(target(&r, "/health/x"), Some("web"));
    }

    #[test]
    fn longest_wildcard_prefix_wins() {
        let r = router(&[
            ("/...", "web"),
            ("/api/...", "api"),
            ("/api/admin/...", "admin"),
        ]);
        assert_eq!(target(&r, "/api/courses"), Some("api"));
        assert_eq!(target(&r, "/api/admin/users"), Some("admin"));
        assert_eq!(target(&r, "/index.html"), Some("web"));
        assert_eq!(target(&r, "/"), Some("web"));
    }

    #[test]
    fn wildcard_matches_its_base_and_below_but_not_siblings() {
        let r = router(&[("/api/...", "api")]);
        assert_eq!(target(&r, "/api"), Some("api"));
        assert_eq!(target(&r, "/api/"), Some("api"));
        assert_eq!(target(&r, "/api/x/y"), Some("api"));
        assert_eq!(target(&r, "/apix"), None);
        assert_eq!(target(&r, "/"), None);
    }

    #[test]
    fn no_match_without_a_catch_all() {
        let r = router(&[("/health", "api")]);
        assert_eq!(target(&r, "/other"), None);
    }

    #[test]
    fn trailing_slash_on_request_or_route_is_ignored_for_exact_routes() {
        let r = router(&[("/health/", "api")]);
        assert_eq!(target(&r, "/health"), Some("api"));
        assert_eq!(target(&r, "/health/"), Some("api"));
    }

    #[test]
    fn path_info_is_the_rest_after_the_wildcard_base() {
        let r = router(&[("/api/...", "api"), ("/...", "web"), ("/health", "api")]);
        assert_eq!(
            r.find("/api/courses/7").map(|m| m.path_info),
            Some("/courses/7")
        );
        assert_eq!(r.find("/api").map(|m| m.path_info), Some(""));
        assert_eq!(r.find("/a/b").map(|m| m.path_info), Some("/a/b"));
        assert_eq!(r.find("/health").map(|m| m.path_info), Some(""));
    }

    #[test]
    fn route_syntax_is_checked() {
        assert!(RoutePattern::parse("api").is_err());
        assert!(RoutePattern::parse("/a/.../b").is_err());
        assert!(RoutePattern::parse("/users/:id").is_err());
        assert!(RoutePattern::parse("/x*").is_err());
        assert_eq!(
            RoutePattern::parse("/").expect("root"),
            RoutePattern::Exact(String::new())
        );
    }

    #[test]
    fn equivalent_spellings_display_the_same_so_duplicates_are_caught() {
        let a = RoutePattern::parse("/api/").expect("valid");
        let b = RoutePattern::parse("/api").expect("valid");
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(
            RoutePattern::parse("/...").expect("valid").to_string(),
            "/..."
        );
        assert_eq!(
            RoutePattern::parse("/api/...").expect("valid").base(),
            "/api"
        );
    }
}
