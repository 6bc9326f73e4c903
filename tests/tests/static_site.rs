//! The static component in the real host: the embedded web app with its headers,
//! validation, compression, caching, SPA fallback and path confinement.
//!
//! Asset names are content-hashed, so tests find them through index.html.

use std::io::Read;

use integration::{Host, Resp, build_component};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn start() -> Host {
    build_component("skilltrack-static");
    build_component("skilltrack-api");
    Host::start()
}

fn get_with(host: &Host, path: &str, headers: &[(&str, &str)]) -> Resp {
    host.request("GET", path, headers, None)
}

fn assert_security_headers(resp: &Resp) {
    assert_eq!(resp.header("content-security-policy").as_deref(), Some(CSP));
    assert_eq!(
        resp.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        resp.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    assert_eq!(resp.header("x-frame-options").as_deref(), Some("DENY"));
}

/// The `/assets/...` URLs index.html refers to (`src="..."` and `href="..."`).
fn asset_urls(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|s| s.starts_with("/assets/") && !s.contains(char::is_whitespace))
        .map(str::to_owned)
        .collect()
}

/// The app's entry script, found through index.html.
fn entry_script(host: &Host) -> String {
    let index = host.get("/").text();
    asset_urls(&index)
        .into_iter()
        .find(|u| u.ends_with(".js"))
        .unwrap_or_else(|| {
            panic!("index.html names no /assets/*.js (is web/dist built? run `make web-dist`):\n{index}")
        })
}

fn brotli_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("valid brotli stream");
    out
}

fn gzip_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip stream");
    out
}

#[test]
fn index_page_is_html_that_revalidates_with_security_headers() {
    let host = start();
    let resp = host.get("/");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(resp.header("cache-control").as_deref(), Some("no-cache"));
    assert_eq!(resp.header("content-encoding"), None);
    let etag = resp.header("etag").expect("index has an ETag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );
    assert!(
        resp.text()
            .to_ascii_lowercase()
            .starts_with("<!doctype html")
    );
    assert_security_headers(&resp);

    let by_name = host.get("/index.html");
    assert_eq!(by_name.status, 200);
    assert_eq!(by_name.body, resp.body);
    assert_eq!(by_name.header("etag"), Some(etag));
}

#[test]
fn current_etag_in_if_none_match_gives_304_without_body() {
    let host = start();
    let etag = host.get("/").header("etag").expect("ETag");
    let weak = format!("W/{etag}");
    let list = format!("\"stale\", {etag}");
    for inm in [etag.as_str(), weak.as_str(), list.as_str(), "*"] {
        let resp = get_with(&host, "/", &[("if-none-match", inm)]);
        assert_eq!(resp.status, 304, "If-None-Match: {inm}");
        assert!(resp.body.is_empty());
        assert_eq!(resp.header("etag").as_deref(), Some(etag.as_str()));
        assert_eq!(resp.header("cache-control").as_deref(), Some("no-cache"));
        assert_security_headers(&resp);
    }
    let resp = get_with(&host, "/", &[("if-none-match", "\"stale\"")]);
    assert_eq!(resp.status, 200);
    assert!(!resp.body.is_empty());
}

#[test]
fn brotli_and_gzip_follow_accept_encoding_and_decode_to_the_same_bytes() {
    let host = start();
    let script = entry_script(&host);
    let identity = get_with(&host, &script, &[]);
    assert_eq!(identity.status, 200);
    assert_eq!(identity.header("content-encoding"), None);
    let identity_tag = identity.header("etag").expect("ETag");

    let br = get_with(
        &host,
        &script,
        &[("accept-encoding", "gzip, deflate, br, zstd")],
    );
    assert_eq!(br.status, 200);
    assert_eq!(br.header("content-encoding").as_deref(), Some("br"));
    assert_eq!(br.header("vary").as_deref(), Some("Accept-Encoding"));
    assert!(br.body.len() < identity.body.len());
    assert_eq!(br.header("content-length"), Some(br.body.len().to_string()));
    assert_eq!(brotli_decode(&br.body), identity.body);
    assert_ne!(br.header("etag").as_deref(), Some(identity_tag.as_str()));

    let gz = get_with(&host, &script, &[("accept-encoding", "br;q=0, gzip")]);
    assert_eq!(gz.status, 200);
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gzip_decode(&gz.body), identity.body);

    let none = get_with(&host, &script, &[("accept-encoding", "br;q=0, gzip;q=0")]);
    assert_eq!(none.header("content-encoding"), None);
    assert_eq!(none.body, identity.body);

    // A 304 is judged against the encoding that would be sent.
    let br_tag = br.header("etag").expect("ETag");
    let revalidated = get_with(
        &host,
        &script,
        &[("accept-encoding", "br"), ("if-none-match", &br_tag)],
    );
    assert_eq!(revalidated.status, 304);
}

#[test]
fn index_page_is_compressed_too() {
    let host = start();
    let identity = host.get("/");
    let br = get_with(&host, "/", &[("accept-encoding", "br")]);
    if br.header("content-encoding").is_some() {
        assert_eq!(brotli_decode(&br.body), identity.body);
    } else {
        // Only a tiny page (the not-built placeholder) may be left uncompressed.
        assert_eq!(br.body, identity.body);
        assert!(identity.body.len() < 512, "index.html was not compressed");
    }
}

#[test]
fn hashed_asset_is_cached_as_immutable() {
    let host = start();
    let script = entry_script(&host);
    let resp = host.get(&script);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(resp.header("cache-control").as_deref(), Some(IMMUTABLE));
    assert_security_headers(&resp);
    for url in asset_urls(&host.get("/").text()) {
        let resp = host.get(&url);
        assert_eq!(resp.status, 200, "{url}");
        assert_eq!(
            resp.header("cache-control").as_deref(),
            Some(IMMUTABLE),
            "{url}"
        );
    }
}

#[test]
fn head_sends_the_headers_of_get_without_body() {
    let host = start();
    let get = host.get("/");
    let head = host.request("HEAD", "/", &[], None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(head.header("content-type"), get.header("content-type"));
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string())
    );
}

#[test]
fn unknown_app_route_gets_the_index_page() {
    let host = start();
    let index = host.get("/");
    let browser = [("accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    for path in [
        "/courses",
        "/courses/6716873",
        "/library?tab=archived",
        "/settings/",
    ] {
        let resp = get_with(&host, path, &browser);
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.body, index.body, "{path}");
        assert_eq!(resp.header("cache-control").as_deref(), Some("no-cache"));
        assert_eq!(
            resp.header("content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_security_headers(&resp);
    }
}

#[test]
fn route_fallback_is_not_given_to_clients_refusing_html() {
    let host = start();
    let resp = get_with(&host, "/courses", &[("accept", "application/json")]);
    assert_eq!(resp.status, 404);
}

#[test]
fn missing_asset_is_404_not_the_index_page() {
    let host = start();
    for path in [
        "/assets/index-00000000.js",
        "/assets/gone",
        "/missing.png",
        "/robots.txt",
    ] {
        let resp = get_with(&host, path, &[("accept", "*/*")]);
        assert_eq!(resp.status, 404, "{path}");
        assert_eq!(resp.json()["error"]["code"], "not_found", "{path}");
        assert_security_headers(&resp);
    }
}

#[test]
fn traversal_attempts_never_reach_outside_the_embedded_files() {
    let host = start();
    let index = host.get("/");
    assert_eq!(index.status, 200);
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/",
        "/%2e%2e/Cargo.toml",
        "/assets/..%2f..%2fspin.toml",
        "/assets/%2e%2e/%2e%2e/spin.toml",
        "//etc/passwd",
        "/..%5cCargo.toml",
        "/index.html%00.js",
    ] {
        let resp = get_with(&host, path, &[("accept", "text/html")]);
        assert!(
            resp.status == 400 || resp.status == 404,
            "{path}: status {} body {}",
            resp.status,
            resp.text()
        );
        let body = resp.text();
        assert_ne!(resp.body, index.body, "{path} served the index page");
        for secret in ["[workspace]", "spin_manifest_version", "root:"] {
            assert!(!body.contains(secret), "{path} leaked {secret}");
        }
    }
}

#[test]
fn methods_other_than_get_and_head_are_405_with_allow() {
    let host = start();
    for (method, path) in [
        ("POST", "/"),
        ("PUT", "/index.html"),
        ("DELETE", "/courses"),
    ] {
        let resp = host.request(method, path, &[], Some(b"x"));
        assert_eq!(resp.status, 405, "{method} {path}");
        assert_eq!(resp.header("allow").as_deref(), Some("GET, HEAD"));
        assert_eq!(resp.json()["error"]["code"], "method_not_allowed");
        assert_security_headers(&resp);
    }
}
