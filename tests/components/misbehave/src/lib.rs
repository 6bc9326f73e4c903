//! A deliberately badly behaved WASI HTTP component for the host's isolation
//! tests. Routes:
//! - `/ok`: 200 "ok"
//! - `/loop`: spins forever (the host's timeout must end it)
//! - `/trap`: hits `unreachable`
//! - `/oom`: allocates until the memory cap stops it
//! - `/sleep?ms=N`: answers after N milliseconds (graceful-shutdown tests)
//! - `/fetch?url=U`: makes an outbound GET and reports the outcome as text
//! - `/headers`: echoes the request headers, one `name: value` per line
//! - `/body`: reads the request body and reports its length or the read error
//! - `/kv/set?key=K&value=V`, `/kv/get?key=K`: the `default` key-value store
//! - `/kv/open?store=S`, `/sql/open?db=D`: report whether opening is allowed
//! - `/sql/counter`: increments a counter in a BEGIN..COMMIT over several calls
//! - `/sql/write?id=N`: inserts row N (idempotent); `/sql/count`: counts rows
//!
//! Features make variants a hot swap must reject: `bad-health` (`/health` is a
//! 500), `trap-at-start` (traps during instantiation), `extra-import` (imports
//! `skilltrack:misbehave/absent`, which no host provides).

#![cfg(target_arch = "wasm32")]

#[cfg(not(feature = "extra-import"))]
wit_bindgen::generate!({
    path: "../../../wit",
    world: "skilltrack:platform/http-component",
    generate_all,
});

// The world above plus an interface no host provides: linking must fail.
#[cfg(feature = "extra-import")]
wit_bindgen::generate!({
    path: ["../../../wit", "wit-extra"],
    world: "skilltrack:misbehave/http-component-plus-absent",
    generate_all,
});

/// wit-component runs an exported `_initialize` when the component is
/// instantiated: trapping there fails instantiation itself.
#[cfg(feature = "trap-at-start")]
#[unsafe(no_mangle)]
pub extern "C" fn _initialize() {
    core::arch::wasm32::unreachable()
}

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingRequest, OutgoingResponse, ResponseOutparam,
    Scheme,
};

struct Component;

impl Guest for Component {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let (full_path, query) = target.split_once('?').unwrap_or((&target, ""));
        // Routes are relative to where the manifest mounts the component.
        let path_info = request
            .headers()
            .get("spin-path-info")
            .into_iter()
            .find_map(|v| String::from_utf8(v).ok())
            .filter(|p| !p.is_empty());
        let path = path_info.as_deref().unwrap_or(full_path);
        match path {
            "/ok" => respond(out, 200, "ok"),
            #[cfg(feature = "bad-health")]
            "/health" => respond(out, 500, "unhealthy on purpose"),
            #[cfg(feature = "extra-import")]
            "/absent" => respond(out, 200, &skilltrack::misbehave::absent::ping().to_string()),
            "/loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/trap" => core::arch::wasm32::unreachable(),
            "/oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    // Filled, so every page is really committed.
                    hoard.push(vec![0xA5; 8 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "/sleep" => {
                let ms: u64 = param(query, "ms")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1000);
                // Tests wait for this line in the host log to know the request is in flight.
                eprintln!("misbehave: sleep started");
                wasi::clocks::monotonic_clock::subscribe_duration(ms * 1_000_000).block();
                respond(out, 200, &format!("slept {ms}ms"));
            }
            "/fetch" => {
                let url = param(query, "url").unwrap_or("https://example.com/");
                respond(out, 200, &fetch(url));
            }
            "/headers" => {
                let text: String = request
                    .headers()
                    .entries()
                    .into_iter()
                    .map(|(k, v)| format!("{k}: {}\n", String::from_utf8_lossy(&v)))
                    .collect();
                respond(out, 200, &text);
            }
            "/body" => {
                let report = read_body(&request);
                respond(out, 200, &report);
            }
            p if p.starts_with("/kv/") || p.starts_with("/sql/") => match storage(p, query) {
                Ok(text) => respond(out, 200, &text),
                Err(text) => respond(out, 500, &text),
            },
            _ => respond(out, 404, "no such route"),
        }
    }
}

fn storage(path: &str, query: &str) -> Result<String, String> {
    use fermyon::spin::key_value::Store;
    use spin::sqlite::sqlite::{Connection, Value};
    let q = |name: &str| param(query, name).unwrap_or("").to_string();
    let db = || Connection::open("default").map_err(|e| format!("open: {e:?}"));
    let setup = |c: &Connection| {
        c.execute(
            "CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
            &[],
        )
        .and_then(|_| {
            c.execute(
                "CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY)",
                &[],
            )
        })
        .map_err(|e| format!("setup: {e:?}"))
    };
    match path {
        "/kv/set" => {
            let store = Store::open("default").map_err(|e| format!("{e:?}"))?;
            store
                .set(&q("key"), q("value").as_bytes())
                .map_err(|e| format!("{e:?}"))?;
            Ok("stored".into())
        }
        "/kv/get" => {
            let store = Store::open("default").map_err(|e| format!("{e:?}"))?;
            match store.get(&q("key")).map_err(|e| format!("{e:?}"))? {
                Some(v) => Ok(String::from_utf8_lossy(&v).into_owned()),
                None => Ok("<none>".into()),
            }
        }
        "/kv/open" => Ok(match Store::open(&q("store")) {
            Ok(_) => "opened".into(),
            Err(e) => format!("{e:?}"),
        }),
        "/sql/open" => Ok(match Connection::open(&q("db")) {
            Ok(_) => "opened".into(),
            Err(e) => format!("{e:?}"),
        }),
        "/sql/counter" => {
            let c = db()?;
            setup(&c)?;
            let run = |sql: &str, params: &[Value]| {
                c.execute(sql, params).map_err(|e| format!("{sql}: {e:?}"))
            };
            run("BEGIN", &[])?;
            run("INSERT OR IGNORE INTO counter (id, n) VALUES (1, 0)", &[])?;
            let rows = run("SELECT n FROM counter WHERE id = 1", &[])?;
            let n = match rows.rows.first().and_then(|r| r.values.first()) {
                Some(Value::Integer(n)) => *n,
                other => return Err(format!("unexpected counter value {other:?}")),
            };
            run(
                "UPDATE counter SET n = ? WHERE id = 1",
                &[Value::Integer(n + 1)],
            )?;
            run("COMMIT", &[])?;
            Ok((n + 1).to_string())
        }
        "/sql/write" => {
            let id: i64 = q("id")
                .parse()
                .map_err(|_| "id must be an integer".to_string())?;
            let c = db()?;
            setup(&c)?;
            c.execute(
                "INSERT OR IGNORE INTO writes (id) VALUES (?)",
                &[Value::Integer(id)],
            )
            .map_err(|e| format!("insert: {e:?}"))?;
            Ok(format!("wrote {id}"))
        }
        "/sql/count" => {
            let c = db()?;
            setup(&c)?;
            let rows = c
                .execute("SELECT count(*) FROM writes", &[])
                .map_err(|e| format!("count: {e:?}"))?;
            match rows.rows.first().and_then(|r| r.values.first()) {
                Some(Value::Integer(n)) => Ok(n.to_string()),
                other => Err(format!("unexpected count {other:?}")),
            }
        }
        _ => Err(format!("no storage route {path}")),
    }
}

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn read_body(request: &IncomingRequest) -> String {
    let Ok(body) = request.consume() else {
        return "error: no body".into();
    };
    let Ok(stream) = body.stream() else {
        return "error: no stream".into();
    };
    let mut total = 0usize;
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => total += chunk.len(),
            Err(wasi::io::streams::StreamError::Closed) => return format!("read {total} bytes"),
            Err(wasi::io::streams::StreamError::LastOperationFailed(e)) => {
                return format!("error after {total} bytes: {}", e.to_debug_string());
            }
        }
    }
}

/// Outbound GET; the result (status or error code) is the response text.
fn fetch(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return format!("error: unsupported url {url}"),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let req = OutgoingRequest::new(Fields::new());
    let _ = req.set_scheme(Some(&scheme));
    let _ = req.set_authority(Some(authority));
    let _ = req.set_path_with_query(Some(path));
    let future = match wasi::http::outgoing_handler::handle(req, None) {
        Ok(f) => f,
        Err(code) => return format!("error: {code:?}"),
    };
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(resp))) => format!("status: {}", resp.status()),
        Some(Ok(Err(code))) => format!("error: {code:?}"),
        Some(Err(())) => "error: response already taken".into(),
        None => "error: no response".into(),
    }
}

fn respond(out: ResponseOutparam, status: u16, text: &str) {
    let headers = Fields::from_list(&[(
        "content-type".to_string(),
        b"text/plain; charset=utf-8".to_vec(),
    )])
    .unwrap_or_else(|_| Fields::new());
    let resp = OutgoingResponse::new(headers);
    let _ = resp.set_status_code(status);
    let Ok(body) = resp.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(resp));
    if let Ok(stream) = body.write() {
        for chunk in text.as_bytes().chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return;
            }
        }
    }
    let _ = OutgoingBody::finish(body, None);
}

export!(Component);
