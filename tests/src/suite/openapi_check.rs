//! Checks answers against the component's own OpenAPI document, with a checker for
//! the JSON Schema subset that document uses.
//!
//! Own subset checker rather than the `jsonschema` crate: the document keeps to
//! a dozen keywords (asserted by `KNOWN_KEYWORDS` below, so nothing is silently
//! skipped), and the test build stays light on a shared 2-core machine.

use super::Resp;
use serde_json::Value as Json;

/// Keywords the checker enforces, and annotations it may ignore.
pub const KNOWN_KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "maxItems",
    "anyOf",
    // annotations
    "description",
    "format",
    "default",
];

/// The document's path template for a concrete path, if any.
pub fn template_for<'a>(doc: &'a Json, path: &str) -> Option<&'a str> {
    let segs: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .keys()
        .map(String::as_str)
        .find(|tpl| {
            let t: Vec<&str> = tpl.split('/').collect();
            t.len() == segs.len()
                && t.iter()
                    .zip(&segs)
                    .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b)
        })
}

fn resolve<'a>(doc: &'a Json, mut v: &'a Json) -> &'a Json {
    while let Some(r) = v.get("$ref").and_then(Json::as_str) {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-local $ref {r}"));
        v = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    v
}

/// Check one response against the documented response for its route, method
/// and status. Panics with the reason when it does not conform.
pub fn check_response(doc: &Json, method: &str, path_and_query: &str, resp: &Resp) {
    let path = path_and_query.split('?').next().unwrap_or_default();
    let method = if method == "HEAD" { "GET" } else { method };
    let ctx = format!("{method} {path_and_query} -> {}", resp.status);
    let documented = template_for(doc, path)
        .and_then(|t| doc["paths"][t].get(method.to_ascii_lowercase()))
        .and_then(|op| op["responses"].get(resp.status.to_string()));
    let spec = match documented {
        Some(r) => resolve(doc, r),
        None => {
            // Unknown routes, unknown methods and missing tokens answer with
            // the shared error responses.
            assert!(
                matches!(resp.status, 401 | 404 | 405 | 413),
                "{ctx}: status not documented: {}",
                resp.text()
            );
            resolve(
                doc,
                &doc["components"]["responses"][resp.status.to_string()],
            )
        }
    };
    let Some(content) = spec.get("content").and_then(Json::as_object) else {
        assert!(resp.body.is_empty(), "{ctx}: documented without a body");
        return;
    };
    if resp.body.is_empty() {
        // HEAD answers have no body.
        return;
    }
    let ctype = resp.header("content-type").unwrap_or_default();
    let media = ctype
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let schema = &content
        .get(&media)
        .unwrap_or_else(|| panic!("{ctx}: content type {media} not documented"))["schema"];
    let value = if media == "application/json" {
        serde_json::from_slice(&resp.body).unwrap_or_else(|e| panic!("{ctx}: not JSON: {e}"))
    } else {
        Json::String(resp.text())
    };
    if let Err(e) = validate(doc, schema, &value, "$") {
        panic!(
            "{ctx}: body does not match the OpenAPI schema: {e}\nbody: {}",
            resp.text()
        );
    }
}

fn type_ok(t: &str, v: &Json) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unknown type {other}"),
    }
}

/// Validate `v` against `schema` (the subset in `KNOWN_KEYWORDS`).
pub fn validate(doc: &Json, schema: &Json, v: &Json, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    let Some(s) = schema.as_object() else {
        return Ok(());
    };
    if let Some(t) = s.get("type") {
        let ok = match t {
            Json::String(t) => type_ok(t, v),
            Json::Array(ts) => ts.iter().filter_map(Json::as_str).any(|t| type_ok(t, v)),
            _ => false,
        };
        if !ok {
            return Err(format!("{at}: {v} is not of type {t}"));
        }
    }
    if let Some(e) = s.get("enum").and_then(Json::as_array)
        && !e.contains(v)
    {
        return Err(format!("{at}: {v} not in {e:?}"));
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        return Err(format!("{at}: {v} is not {c}"));
    }
    if let Some(n) = v.as_f64() {
        if s.get("minimum")
            .and_then(Json::as_f64)
            .is_some_and(|m| n < m)
        {
            return Err(format!("{at}: {n} below minimum"));
        }
        if s.get("maximum")
            .and_then(Json::as_f64)
            .is_some_and(|m| n > m)
        {
            return Err(format!("{at}: {n} above maximum"));
        }
    }
    if let Some(text) = v.as_str() {
        let len = text.chars().count() as u64;
        if s.get("minLength")
            .and_then(Json::as_u64)
            .is_some_and(|m| len < m)
        {
            return Err(format!("{at}: shorter than minLength"));
        }
        if s.get("maxLength")
            .and_then(Json::as_u64)
            .is_some_and(|m| len > m)
        {
            return Err(format!("{at}: longer than maxLength"));
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Json::as_array)
        && !any.iter().any(|alt| validate(doc, alt, v, at).is_ok())
    {
        return Err(format!("{at}: {v} matches no anyOf alternative"));
    }
    if let Some(items) = v.as_array() {
        if s.get("maxItems")
            .and_then(Json::as_u64)
            .is_some_and(|m| items.len() as u64 > m)
        {
            return Err(format!("{at}: too many items"));
        }
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(doc, item_schema, item, &format!("{at}[{i}]"))?;
            }
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Json::as_object);
        for req in s
            .get("required")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let name = req.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                return Err(format!("{at}: required property {name} missing"));
            }
        }
        for (k, val) in obj {
            let here = format!("{at}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(ps) => validate(doc, ps, val, &here)?,
                None => match s.get("additionalProperties") {
                    Some(Json::Bool(false)) => {
                        return Err(format!("{at}: unexpected property {k}"));
                    }
                    Some(extra @ Json::Object(_)) => validate(doc, extra, val, &here)?,
                    _ => {}
                },
            }
        }
    }
    Ok(())
}

/// Every keyword used by the document's schemas, for the subset check.
pub fn schema_keywords(doc: &Json) -> std::collections::BTreeSet<String> {
    fn walk_schema(s: &Json, out: &mut std::collections::BTreeSet<String>) {
        let Some(obj) = s.as_object() else { return };
        for (k, v) in obj {
            out.insert(k.clone());
            match k.as_str() {
                "properties" => {
                    for p in v.as_object().into_iter().flat_map(|m| m.values()) {
                        walk_schema(p, out);
                    }
                }
                "items" | "additionalProperties" => walk_schema(v, out),
                "anyOf" => v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .for_each(|a| walk_schema(a, out)),
                _ => {}
            }
        }
    }
    fn walk(v: &Json, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Json::Object(m) => {
                for (k, val) in m {
                    if k == "schema" {
                        walk_schema(val, out);
                    } else {
                        walk(val, out);
                    }
                }
            }
            Json::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(&doc["paths"], &mut out);
    for s in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        walk_schema(s, &mut out);
    }
    walk(&doc["components"]["responses"], &mut out);
    walk(&doc["components"]["headers"], &mut out);
    out
}
