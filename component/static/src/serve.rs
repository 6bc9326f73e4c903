//! The whole behaviour of the component as one pure function: a request's method,
//! target and relevant headers in, a complete response out.

use std::borrow::Cow;

use crate::embedded::{self, Asset, Representation};
use crate::etag;
use crate::negotiate::{self, Coding};
use crate::path;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/// Sent with every response, errors and 304s included.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

/// Vite puts content-hashed file names here, so they never change in place.
const HASHED_ASSETS_PREFIX: &str = "/assets/";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Files whose name stays the same across releases: revalidate on every use.
const REVALIDATE: &str = "no-cache";

/// What the component reads from a request.
#[derive(Debug, Default, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query as sent (`/assets/x.js?v=1`).
    pub target: &'a str,
    pub accept: Option<&'a str>,
    pub accept_encoding: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
}

/// A complete response. For HEAD the body is empty while `content-length` still
/// states the size a GET would send.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Cow<'static, [u8]>,
}

#[cfg(test)]
impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers a request from the given table of files.
pub fn respond(req: &Request, assets: &'static [Asset]) -> Response {
    let head = match req.method {
        "GET" => false,
        "HEAD" => true,
        _ => {
            let mut resp = error(
                405,
                "method_not_allowed",
                "only GET and HEAD are supported",
                false,
            );
            resp.headers.push(("allow", "GET, HEAD".into()));
            return resp;
        }
    };
    let path = match path::normalise(req.target) {
        Ok(path) => path,
        Err(e) => return error(400, "invalid_path", &e.to_string(), head),
    };
    let key = if path == "/" { "/index.html" } else { &path };
    if let Some(asset) = embedded::find(assets, key) {
        return file(req, asset, head, false);
    }
    if !looks_like_a_file(&path)
        && negotiate::accepts_html(req.accept)
        && let Some(index) = embedded::find(assets, "/index.html")
    {
        return file(req, index, head, true);
    }
    error(404, "not_found", "no such file", head)
}

/// A path the SPA router could own has no file extension and is not a build asset;
/// anything else that is missing is a real 404 (a stale script URL must not get HTML).
fn looks_like_a_file(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    path.starts_with(HASHED_ASSETS_PREFIX) || last.contains('.')
}

fn file(req: &Request, asset: &'static Asset, head: bool, fallback: bool) -> Response {
    let coding = negotiate::choose_coding(
        req.accept_encoding,
        asset.gzip.is_some(),
        asset.br.is_some(),
    );
    let rep: &'static Representation = match coding {
        Coding::Br => asset.br.as_ref(),
        Coding::Gzip => asset.gzip.as_ref(),
        Coding::Identity => None,
    }
    .unwrap_or(&asset.identity);

    let cache_control = if asset.path.starts_with(HASHED_ASSETS_PREFIX) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    // The fallback's answer also depends on Accept (HTML or 404).
    let vary = if fallback {
        "Accept-Encoding, Accept"
    } else {
        "Accept-Encoding"
    };
    let mut headers = vec![
        ("etag", rep.etag.to_string()),
        ("cache-control", cache_control.to_string()),
        ("vary", vary.to_string()),
    ];
    with_security_headers(&mut headers);

    if req
        .if_none_match
        .is_some_and(|inm| etag::none_match(inm, rep.etag))
    {
        return Response {
            status: 304,
            headers,
            body: Cow::Borrowed(&[]),
        };
    }
    headers.push(("content-type", asset.content_type.to_string()));
    headers.push(("content-length", rep.body.len().to_string()));
    if let Some(encoding) = coding.header_value() {
        headers.push(("content-encoding", encoding.to_string()));
    }
    Response {
        status: 200,
        headers,
        body: Cow::Borrowed(if head { &[] } else { rep.body }),
    }
}

/// The project's JSON error shape; messages are fixed strings, so no escaping.
fn error(status: u16, code: &str, message: &str, head: bool) -> Response {
    let body = format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#).into_bytes();
    let mut headers = vec![
        ("content-type", "application/json".to_string()),
        ("content-length", body.len().to_string()),
        ("cache-control", "no-store".to_string()),
    ];
    with_security_headers(&mut headers);
    Response {
        status,
        headers,
        body: if head {
            Cow::Borrowed(&[])
        } else {
            body.into()
        },
    }
}

fn with_security_headers(headers: &mut Vec<(&'static str, String)>) {
    headers.extend(SECURITY_HEADERS.iter().map(|(n, v)| (*n, v.to_string())));
}

#[cfg(test)]
mod tests {
    use super::*;

    static INDEX: &[u8] = b"<!doctype html><script src=\"/assets/app-1a2b.js\"></script>";
    static APP: &[u8] = b"console.log('app')";

    static TABLE: &[Asset] = &[
        Asset {
            path: "/assets/app-1a2b.js",
            content_type: "text/javascript; charset=utf-8",
            identity: Representation {
                etag: "\"app\"",
                body: APP,
            },
            gzip: Some(Representation {
                etag: "\"app-gz\"",
                body: b"GZ",
            }),
            br: Some(Representation {
                etag: "\"app-br\"",
                body: b"BR",
            }),
        },
        Asset {
            path: "/assets/logo-9f.png",
            content_type: "image/png",
            identity: Representation {
                etag: "\"png\"",
                body: b"PNG",
            },
            gzip: None,
            br: None,
        },
        Asset {
            path: "/favicon.svg",
            content_type: "image/svg+xml",
            identity: Representation {
                etag: "\"svg\"",
                body: b"<svg/>",
            },
            gzip: None,
            br: None,
        },
        Asset {
            path: "/index.html",
            content_type: "text/html; charset=utf-8",
            identity: Representation {
                etag: "\"idx\"",
                body: INDEX,
            },
            gzip: Some(Representation {
                etag: "\"idx-gz\"",
                body: b"IGZ",
            }),
            br: None,
        },
        Asset {
            path: "/manifest.webmanifest",
            content_type: "application/manifest+json",
            identity: Representation {
                etag: "\"mf\"",
                body: b"{}",
            },
            gzip: None,
            br: None,
        },
        Asset {
            path: "/sw.js",
            content_type: "text/javascript; charset=utf-8",
            identity: Representation {
                etag: "\"sw\"",
                body: b"self.addEventListener('fetch', () => {});",
            },
            gzip: None,
            br: None,
        },
    ];

    fn get(target: &str) -> Request<'_> {
        Request {
            method: "GET",
            target,
            ..Default::default()
        }
    }

    fn assert_security_headers(resp: &Response) {
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(resp.header(name), Some(value), "{name} on {}", resp.status);
        }
    }

    #[test]
    fn root_serves_index_with_revalidation_and_security_headers() {
        let resp = respond(&get("/"), TABLE);
        assert_eq!(resp.status, 200);
        assert_eq!(&*resp.body, INDEX);
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(resp.header("cache-control"), Some("no-cache"));
        assert_eq!(resp.header("etag"), Some("\"idx\""));
        assert_eq!(
            resp.header("content-length"),
            Some(INDEX.len().to_string().as_str())
        );
        assert_eq!(resp.header("content-encoding"), None);
        assert_security_headers(&resp);
    }

    #[test]
    fn hashed_assets_are_immutable_and_other_files_revalidate() {
        let resp = respond(&get("/assets/app-1a2b.js"), TABLE);
        assert_eq!(resp.header("cache-control"), Some(IMMUTABLE));
        let resp = respond(&get("/favicon.svg"), TABLE);
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("cache-control"), Some("no-cache"));
    }

    #[test]
    fn the_manifest_and_the_service_worker_revalidate_on_every_use() {
        // Both keep their names across releases: a stale copy would pin an old
        // version of the app (the worker) or of its icons (the manifest).
        let resp = respond(&get("/manifest.webmanifest"), TABLE);
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("content-type"),
            Some("application/manifest+json")
        );
        assert_eq!(resp.header("cache-control"), Some(REVALIDATE));
        let mut req = get("/manifest.webmanifest");
        req.if_none_match = Some("\"mf\"");
        assert_eq!(respond(&req, TABLE).status, 304);

        let resp = respond(&get("/sw.js"), TABLE);
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("cache-control"), Some(REVALIDATE));
    }

    #[test]
    fn encoding_follows_accept_encoding_with_its_own_etag() {
        let mut req = get("/assets/app-1a2b.js");
        req.accept_encoding = Some("gzip, br");
        let resp = respond(&req, TABLE);
        assert_eq!(&*resp.body, b"BR");
        assert_eq!(resp.header("content-encoding"), Some("br"));
        assert_eq!(resp.header("etag"), Some("\"app-br\""));
        assert_eq!(resp.header("vary"), Some("Accept-Encoding"));
        assert_eq!(resp.header("content-length"), Some("2"));

        req.accept_encoding = Some("gzip");
        let resp = respond(&req, TABLE);
        assert_eq!(&*resp.body, b"GZ");
        assert_eq!(resp.header("content-encoding"), Some("gzip"));

        req.accept_encoding = Some("br;q=0, gzip;q=0");
        let resp = respond(&req, TABLE);
        assert_eq!(&*resp.body, APP);
        assert_eq!(resp.header("content-encoding"), None);
        assert_eq!(resp.header("vary"), Some("Accept-Encoding"));
    }

    #[test]
    fn matching_if_none_match_gives_304_without_body() {
        let mut req = get("/assets/app-1a2b.js");
        req.if_none_match = Some("\"other\", W/\"app\"");
        let resp = respond(&req, TABLE);
        assert_eq!(resp.status, 304);
        assert!(resp.body.is_empty());
        assert_eq!(resp.header("etag"), Some("\"app\""));
        assert_eq!(resp.header("cache-control"), Some(IMMUTABLE));
        assert_eq!(resp.header("content-length"), None);
        assert_security_headers(&resp);
    }

    #[test]
    fn if_none_match_is_compared_with_the_chosen_encoding() {
        let mut req = get("/assets/app-1a2b.js");
        req.if_none_match = Some("\"app\"");
        req.accept_encoding = Some("br");
        let resp = respond(&req, TABLE);
        assert_eq!(
            resp.status, 200,
            "identity tag must not validate the br copy"
        );
        req.if_none_match = Some("\"app-br\"");
        assert_eq!(respond(&req, TABLE).status, 304);
    }

    #[test]
    fn head_sends_headers_and_length_but_no_body() {
        let mut req = get("/index.html");
        req.method = "HEAD";
        let resp = respond(&req, TABLE);
        assert_eq!(resp.status, 200);
        assert!(resp.body.is_empty());
        assert_eq!(
            resp.header("content-length"),
            Some(INDEX.len().to_string().as_str())
        );
    }

    #[test]
    fn other_methods_get_405_with_allow() {
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"] {
            let mut req = get("/index.html");
            req.method = method;
            let resp = respond(&req, TABLE);
            assert_eq!(resp.status, 405, "{method}");
            assert_eq!(resp.header("allow"), Some("GET, HEAD"));
            assert_eq!(resp.header("content-type"), Some("application/json"));
            assert_security_headers(&resp);
        }
    }

    #[test]
    fn unknown_route_without_extension_falls_back_to_index() {
        for target in [
            "/courses",
            "/courses/6716873",
            "/library/?tab=all",
            "/a-b_c",
        ] {
            let mut req = get(target);
            req.accept = Some("text/html,application/xhtml+xml,*/*;q=0.8");
            let resp = respond(&req, TABLE);
            assert_eq!(resp.status, 200, "{target}");
            assert_eq!(&*resp.body, INDEX, "{target}");
            assert_eq!(resp.header("cache-control"), Some("no-cache"));
            assert_eq!(resp.header("vary"), Some("Accept-Encoding, Accept"));
        }
    }

    #[test]
    fn fallback_is_refused_to_clients_not_accepting_html() {
        let mut req = get("/courses");
        req.accept = Some("application/json");
        assert_eq!(respond(&req, TABLE).status, 404);
    }

    #[test]
    fn missing_asset_like_paths_are_404_json() {
        for target in [
            "/assets/app-0000.js",
            "/assets/new-route",
            "/robots.txt",
            "/a/b.map",
        ] {
            let resp = respond(&get(target), TABLE);
            assert_eq!(resp.status, 404, "{target}");
            assert_eq!(resp.header("content-type"), Some("application/json"));
            assert!(resp.body.starts_with(br#"{"error":{"code":"not_found""#));
            assert_security_headers(&resp);
        }
    }

    #[test]
    fn traversal_attempts_are_400_and_never_served() {
        for target in [
            "/../Cargo.toml",
            "/%2e%2e/",
            "/assets/..%2f..%2fspin.toml",
            "//etc/passwd",
            "/assets/%2e%2e/index.html",
            "/index.html%00",
            "/..\\index.html",
        ] {
            let resp = respond(&get(target), TABLE);
            assert_eq!(resp.status, 400, "{target}");
            assert!(resp.body.starts_with(br#"{"error":{"code":"invalid_path""#));
            assert_security_headers(&resp);
        }
    }

    #[test]
    fn percent_encoded_name_of_an_embedded_file_is_served() {
        let resp = respond(&get("/assets/app%2D1a2b.js"), TABLE);
        assert_eq!(resp.status, 200);
        assert_eq!(&*resp.body, APP);
    }

    #[test]
    fn error_bodies_are_the_project_json_error_shape() {
        let resp = respond(&get("/%zz"), TABLE);
        let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON body");
        assert_eq!(json["error"]["code"], "invalid_path");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}
