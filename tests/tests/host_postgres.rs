//! `spin:postgres/postgres@4.0.0` in tracker-host against a real PostgreSQL (see
//! tests/src/postgres.rs), driven over HTTP through the pgprobe component: values
//! of each type round-trip with their integer widths, a transaction left open by
//! one request is gone for the next, `allowed_outbound_hosts` is enforced, and an
//! unreachable server costs its request a prompt error, not the host.
//! Without PostgreSQL binaries every test prints `skipped: postgresql not found`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use integration::postgres::{Postgres, PostgresOptions};
use integration::process::{ServeSpec, Served};
use integration::targets::spin::spin_up_args;
use integration::{Host, HostOptions, build_component, free_port, tools};

/// A manifest in its own temp dir serving pgprobe with `pg_url` = `url`.
struct ProbeApp {
    _dir: tempfile::TempDir,
    manifest: PathBuf,
}

fn probe_app(url: &str, allowed: &[String]) -> ProbeApp {
    let wasm = build_component("pgprobe");
    let dir = tempfile::tempdir().expect("manifest dir");
    let manifest = dir.path().join("spin.toml");
    let allowed = allowed
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        r#"spin_manifest_version = 2

[application]
name = "pgprobe"

[variables]
pg_url = {{ default = "{url}" }}

[[trigger.http]]
route = "/..."
component = "probe"

[component.probe]
source = "{wasm}"
allowed_outbound_hosts = [{allowed}]

[component.probe.variables]
pg_url = "{{{{ pg_url }}}}"
"#,
        wasm = wasm.display()
    );
    std::fs::write(&manifest, text).expect("write manifest");
    ProbeApp {
        _dir: dir,
        manifest,
    }
}

fn start_host(app: &ProbeApp, env: &[(&str, &str)]) -> Host {
    Host::start_with(HostOptions {
        manifest: Some(app.manifest.clone()),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ready_path: Some("/ready".into()),
        ..HostOptions::default()
    })
}

fn allow(port: u16) -> String {
    format!("postgres://127.0.0.1:{port}")
}

/// The values the roundtrip route reads back, as pgprobe renders them.
fn expected_roundtrip() -> serde_json::Value {
    serde_json::json!({
        "inserted": 1,
        "columns": [
            "small:DbDataType::Int16", "regular:DbDataType::Int32", "big:DbDataType::Int64",
            "single:DbDataType::Floating32", "double:DbDataType::Floating64",
            "label:DbDataType::Str", "raw:DbDataType::Binary", "flag:DbDataType::Boolean",
            "nothing:DbDataType::Str", "doc:DbDataType::Jsonb", "ints:DbDataType::ArrayInt32",
            "names:DbDataType::ArrayStr"
        ],
        "rows": [[
            "DbValue::Int16(-32768)", "DbValue::Int32(2147483647)",
            "DbValue::Int64(-9223372036854775808)", "DbValue::Floating32(1.5)",
            "DbValue::Floating64(-2.25)", "DbValue::Str(\"héllo, 'world'\")",
            "DbValue::Binary([0, 1, 254, 255])", "DbValue::Boolean(true)", "DbValue::DbNull",
            "DbValue::Jsonb({\"a\":1})",
            "DbValue::ArrayInt32([Some(1), None, Some(-3)])",
            "DbValue::ArrayStr([Some(\"x\"), None])"
        ]]
    })
}

#[test]
fn values_round_trip_with_their_integer_widths() {
    let Some(pg) = Postgres::start() else { return };
    let app = probe_app(&pg.url(), &[allow(pg.port())]);
    let host = start_host(&app, &[]);

    let resp = host.get("/pg/roundtrip");
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), host.log());
    assert_eq!(resp.json(), expected_roundtrip());

    // A 32-bit value for an INT8 column is an error value, not a widening or a trap.
    let resp = host.get("/pg/mismatch");
    assert_eq!(resp.status, 400, "{}", resp.text());
    let error = resp.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.starts_with("Error::BadParameter("), "{error}");
    assert!(error.contains("int8"), "{error}");
    // The host is unharmed.
    assert_eq!(host.get("/pg/roundtrip").status, 200);
}

#[test]
fn a_transaction_left_open_does_not_reach_the_next_request() {
    let Some(pg) = Postgres::start() else { return };
    let app = probe_app(&pg.url(), &[allow(pg.port())]);
    // One pooled session, so the next request is sure to get the same one.
    let host = start_host(&app, &[("TRACKER_PG_MAX_CONNECTIONS", "1")]);
    assert_eq!(host.get("/pg/roundtrip").status, 200, "{}", host.log());

    let session = |host: &Host| {
        let resp = host.get("/pg/session");
        assert_eq!(resp.status, 200, "{}", resp.text());
        let body = resp.json();
        let row = &body["rows"][0];
        let cells = (0..3)
            .map(|i| row[i].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>();
        (body["in_transaction"].as_bool(), cells)
    };
    let (in_transaction, before) = session(&host);
    assert_eq!(in_transaction, Some(false));

    let resp = host.get("/pg/begin");
    assert_eq!(resp.status, 200, "{}", resp.text());

    // The instance ended between BEGIN and COMMIT. The next request gets the same
    // session (same backend pid), outside any transaction block, without the
    // insert's transaction id, and the insert is gone.
    let (in_transaction, after) = session(&host);
    assert_eq!(in_transaction, Some(false), "{after:?}");
    assert_eq!(after[0], "DbValue::Boolean(true)", "{after:?}");
    assert_eq!(after[1], "DbValue::Int64(0)", "{after:?}");
    assert_eq!(after[2], before[2], "the pooled session was reused");
}

#[test]
fn an_address_outside_allowed_outbound_hosts_is_refused() {
    let Some(pg) = Postgres::start() else { return };
    let app = probe_app(&pg.url(), &[allow(pg.port())]);
    let host = start_host(&app, &[]);

    // The same server, named by a host or port the manifest does not list.
    for url in [
        format!("postgres://tracker@localhost:{}/postgres", pg.port()),
        "postgres://tracker@127.0.0.1/postgres".to_string(),
        format!("postgres://tracker@127.0.0.1:{}/postgres", free_port()),
    ] {
        let resp = host.get(&format!("/pg/open?url={url}"));
        assert_eq!(resp.status, 503, "{url}: {}", resp.text());
        let message = resp.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            message.starts_with("open: Error::ConnectionFailed(")
                && message.contains("not permitted"),
            "{url}: {message}"
        );
    }
    // The listed address opens.
    let resp = host.get(&format!("/pg/open?url={}", pg.url()));
    assert_eq!(resp.status, 200, "{}", resp.text());
}

#[test]
fn an_unreachable_server_fails_within_the_connect_timeout() {
    let Some(pg) = Postgres::start() else { return };
    // Accepts TCP connections (the kernel does) and never says a word.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let closed_port = free_port();
    let app = probe_app(
        &pg.url(),
        &[allow(pg.port()), allow(silent_port), allow(closed_port)],
    );
    let host = start_host(&app, &[("TRACKER_PG_CONNECT_TIMEOUT", "1")]);

    for port in [silent_port, closed_port] {
        let started = Instant::now();
        let resp = host.get(&format!(
            "/pg/open?url=postgres://tracker@127.0.0.1:{port}/postgres"
        ));
        let took = started.elapsed();
        assert_eq!(resp.status, 503, "port {port}: {}", resp.text());
        let message = resp.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            message.starts_with("open: Error::ConnectionFailed("),
            "{message}"
        );
        assert!(took < Duration::from_secs(5), "port {port}: took {took:?}");
    }
    // The host keeps serving, PostgreSQL included.
    assert_eq!(host.get("/pg/roundtrip").status, 200);
    drop(silent);
}

/// The answer of `/pg/open?url=...`: its status and error message.
fn open(host: &Host, url: &str) -> (u16, String) {
    let resp = host.get(&format!("/pg/open?url={url}"));
    let message = match resp.status {
        200 => String::new(),
        _ => resp.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    (resp.status, message)
}

#[test]
fn sslmode_require_connects_over_tls_and_unsupported_modes_are_named() {
    let Some(pg) = Postgres::start_with(PostgresOptions { tls: true }) else {
        return;
    };
    let app = probe_app(&pg.url_with_sslmode("require"), &[allow(pg.port())]);
    let host = start_host(&app, &[]);

    let resp = host.get("/pg/roundtrip");
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), host.log());
    assert_eq!(resp.json(), expected_roundtrip());
    // The pooled session the request used is encrypted (psql's own is not).
    let encrypted = pg.psql(
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE ssl AND backend_type = 'client backend'",
    );
    assert_ne!(encrypted, "0", "no TLS session from the capability");
    // prefer takes TLS when the server has it; disable does not.
    assert_eq!(
        open(&host, &pg.url_with_sslmode("prefer")),
        (200, String::new())
    );
    assert_eq!(
        open(&host, &pg.url_with_sslmode("disable")),
        (200, String::new())
    );
    // Certificate verification is not offered, and says so.
    for mode in ["verify-full", "verify-ca"] {
        let (status, message) = open(&host, &pg.url_with_sslmode(mode));
        assert_eq!(status, 503, "{message}");
        assert!(
            message.starts_with("open: Error::ConnectionFailed(")
                && message.contains(&format!("sslmode={mode} is not supported")),
            "{message}"
        );
    }
}

#[test]
fn sslmode_require_refuses_a_server_without_tls() {
    let Some(pg) = Postgres::start() else { return };
    let app = probe_app(&pg.url(), &[allow(pg.port())]);
    let host = start_host(&app, &[]);
    let (status, message) = open(&host, &pg.url_with_sslmode("require"));
    assert_eq!(status, 503, "{message}");
    assert!(
        message.starts_with("open: Error::ConnectionFailed("),
        "{message}"
    );
    // prefer falls back to plain text, as libpq does.
    assert_eq!(
        open(&host, &pg.url_with_sslmode("prefer")),
        (200, String::new())
    );
}

#[test]
fn spin_gives_the_same_answers() {
    let Some(spin) = tools::spin() else {
        eprintln!("{}", tools::missing("spin", "SPIN"));
        return;
    };
    let Some(pg) = Postgres::start() else { return };
    let app = probe_app(&pg.url(), &[allow(pg.port())]);
    let state = tempfile::tempdir().expect("spin state dir");
    let served = Served::start(ServeSpec {
        name: "spin".into(),
        program: spin,
        args: spin_up_args(app.manifest.clone(), state.path().to_path_buf()),
        env: Vec::new(),
        current_dir: state.path().to_path_buf(),
        ready_path: "/ready".into(),
    });
    let resp = served.request("GET", "/pg/roundtrip", &[], None);
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), served.log());
    assert_eq!(resp.json(), expected_roundtrip());
}
