//! Plain owned request/response types: what `handle` takes and returns, so the
//! same handlers run inside Spin, under the native benchmark and in unit tests.

use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Upper-case method name, e.g. `GET`.
    pub method: String,
    /// Path without the query string, e.g. `/api/courses/42`.
    pub path: String,
    /// Raw query string without the `?`.
    pub query: String,
    /// Header names in any case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Request {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// A JSON request body with the matching content type.
    pub fn with_json(self, value: &serde_json::Value) -> Self {
        self.with_header("content-type", "application/json")
            .with_body(value.to_string())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of one query parameter (first occurrence, percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }

    /// The media type of the body, lower-cased, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                out.push(hex_value(bytes[i + 1]) * 16 + hex_value(bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b.to_ascii_lowercase().wrapping_sub(b'a') + 10,
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Self {
        // Serialising our own plain data types cannot fail; fall back to an
        // empty object rather than panic if it ever did.
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Response::new(status)
            .with_header("content-type", "application/json")
            .with_body(body)
    }

    pub fn not_modified(etag: &str) -> Self {
        Response::new(304).with_header("etag", etag)
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Null` when it is not JSON); for tests and tools.
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A strong entity tag for a revision number.
pub fn etag_for(rev: i64) -> String {
    format!("\"{rev}\"")
}

/// Whether an `If-None-Match` / `If-Match` header value lists `etag`
/// (weak comparison for `If-None-Match`, as RFC 9110 asks, is the same here:
/// all our tags are strong).
pub fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').any(|candidate| {
        let c = candidate.trim();
        let c = c.strip_prefix("W/").unwrap_or(c);
        c == "*" || c == etag
    })
}

/// Parse `If-Match: "<rev>"` into a revision; `Some(None)` for `*`.
pub fn parse_if_match(header: &str) -> Option<Option<i64>> {
    let h = header.trim();
    if h == "*" {
        return Some(None);
    }
    let h = h.strip_prefix("W/").unwrap_or(h);
    let inner = h.strip_prefix('"')?.strip_suffix('"')?;
    inner.parse::<i64>().ok().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_percent_decoded() {
        let r = Request::new("GET", "/x?since=12&name=a%20b&flag");
        assert_eq!(r.query_param("since").as_deref(), Some("12"));
        assert_eq!(r.query_param("name").as_deref(), Some("a b"));
        assert_eq!(r.query_param("flag").as_deref(), Some(""));
        assert_eq!(r.query_param("missing"), None);
        assert_eq!(
            Request::new("GET", "/x?a=%zz%4")
                .query_param("a")
                .as_deref(),
            Some("%zz%4")
        );
    }

    #[test]
    fn if_match_accepts_quoted_revs_and_star() {
        assert_eq!(parse_if_match("\"42\""), Some(Some(42)));
        assert_eq!(parse_if_match("W/\"7\""), Some(Some(7)));
        assert_eq!(parse_if_match("*"), Some(None));
        assert_eq!(parse_if_match("42"), None);
        assert_eq!(parse_if_match("\"x\""), None);
        assert!(etag_matches("\"1\", \"2\"", "\"2\""));
        assert!(!etag_matches("\"1\"", "\"2\""));
    }
}
