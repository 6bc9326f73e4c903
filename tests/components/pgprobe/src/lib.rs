//! pgprobe: drives `spin:postgres/postgres@4.0.0` for tests/tests/host_postgres.rs.
//!
//! Routes (all GET, the database address from the `pg_url` variable):
//! - `/pg/roundtrip`: (re)creates a table, inserts one row with a parameter of each
//!   supported type, selects it back; answers the columns and values.
//! - `/pg/mismatch`: a 32-bit parameter for an INT8 column; answers the error.
//! - `/pg/begin`: `BEGIN`, an insert, and no `COMMIT`: the request just ends.
//! - `/pg/session`: what the next request's session looks like (open
//!   transaction? the rows the uncommitted insert would have added?).
//! - `/pg/open?url=...`: opens that address; any failure is a 503 JSON answer.
//!
//! Values and errors are answered as their `Debug` text so tests compare them
//! exactly, under tracker-host and under Spin alike.

#![cfg(target_arch = "wasm32")]

use serde_json::json;
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::pg4::{Connection, DbValue, ParameterValue, RowSet};

fn answer(status: u16, body: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

fn failed(what: &str, e: impl std::fmt::Debug) -> Response {
    answer(
        503,
        json!({"error": {"code": "postgres", "message": format!("{what}: {e:?}")}}),
    )
}

fn values(rows: &RowSet) -> serde_json::Value {
    let columns: Vec<String> = rows
        .columns
        .iter()
        .map(|c| format!("{}:{:?}", c.name, c.data_type))
        .collect();
    let rows: Vec<Vec<String>> = rows
        .rows
        .iter()
        .map(|r| r.iter().map(render).collect())
        .collect();
    json!({"columns": columns, "rows": rows})
}

/// A value's `Debug` text; JSONB as its compact JSON, since servers and runtimes
/// differ only in whitespace there (PostgreSQL writes `{"a": 1}`).
fn render(v: &DbValue) -> String {
    match v {
        DbValue::Jsonb(bytes) => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(doc) => format!("DbValue::Jsonb({doc})"),
            Err(e) => format!("DbValue::Jsonb(invalid: {e})"),
        },
        other => format!("{other:?}"),
    }
}

const CREATE: &str = "CREATE TABLE probe (
    id SERIAL PRIMARY KEY, small INT2, regular INT4, big INT8, single REAL,
    double DOUBLE PRECISION, label TEXT, raw BYTEA, flag BOOL, nothing TEXT,
    doc JSONB, ints INT4[], names TEXT[])";

fn roundtrip(db: &Connection) -> Result<serde_json::Value, spin_sdk::pg4::Error> {
    db.execute("DROP TABLE IF EXISTS probe", &[])?;
    db.execute(CREATE, &[])?;
    let inserted = db.execute(
        "INSERT INTO probe (small, regular, big, single, double, label, raw, flag, nothing, doc, ints, names)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            ParameterValue::Int16(i16::MIN),
            ParameterValue::Int32(i32::MAX),
            ParameterValue::Int64(i64::MIN),
            ParameterValue::Floating32(1.5),
            ParameterValue::Floating64(-2.25),
            ParameterValue::Str("héllo, 'world'".into()),
            ParameterValue::Binary(vec![0, 1, 254, 255]),
            ParameterValue::Boolean(true),
            ParameterValue::DbNull,
            ParameterValue::Jsonb(br#"{"a": 1}"#.to_vec()),
            ParameterValue::ArrayInt32(vec![Some(1), None, Some(-3)]),
            ParameterValue::ArrayStr(vec![Some("x".into()), None]),
        ],
    )?;
    let rows = db.query(
        "SELECT small, regular, big, single, double, label, raw, flag, nothing, doc, ints, names
         FROM probe WHERE big = $1",
        &[ParameterValue::Int64(i64::MIN)],
    )?;
    let mut body = values(&rows);
    body["inserted"] = json!(inserted);
    Ok(body)
}

const ROUTES: &[&str] = &["/pg/roundtrip", "/pg/mismatch", "/pg/begin", "/pg/session"];

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let path = req.path().to_string();
    let query = req.query().to_string();
    if path == "/pg/open" {
        let url = query.strip_prefix("url=").unwrap_or_default();
        return Ok(match Connection::open(url) {
            Ok(_) => answer(200, json!({"opened": true})),
            Err(e) => failed("open", e),
        });
    }
    if !ROUTES.contains(&path.as_str()) {
        return Ok(answer(
            404,
            json!({"error": {"code": "not_found", "message": path}}),
        ));
    }
    let url = match spin_sdk::variables::get("pg_url") {
        Ok(url) => url,
        Err(e) => return Ok(failed("variable pg_url", e)),
    };
    let db = match Connection::open(&url) {
        Ok(db) => db,
        Err(e) => return Ok(failed("open", e)),
    };
    Ok(match path.as_str() {
        "/pg/roundtrip" => match roundtrip(&db) {
            Ok(body) => answer(200, body),
            Err(e) => failed("roundtrip", e),
        },
        "/pg/mismatch" => match db.execute(
            "INSERT INTO probe (big) VALUES ($1)",
            &[ParameterValue::Int32(7)],
        ) {
            Ok(n) => answer(200, json!({"inserted": n})),
            Err(e) => answer(400, json!({"error": format!("{e:?}")})),
        },
        "/pg/begin" => {
            let begun = db.execute("BEGIN", &[]).and_then(|_| {
                db.execute(
                    "INSERT INTO probe (label) VALUES ($1)",
                    &[ParameterValue::Str("uncommitted".into())],
                )
            });
            match begun {
                // No COMMIT: the instance ends with the transaction open.
                Ok(_) => answer(200, json!({"begun": true})),
                Err(e) => failed("begin", e),
            }
        }
        "/pg/session" => match db.query(
            "SELECT txid_current_if_assigned() IS NULL AS no_xid,
                    (SELECT count(*) FROM probe WHERE label = 'uncommitted') AS uncommitted,
                    pg_backend_pid() AS pid",
            &[],
        ) {
            Ok(rows) => {
                let mut body = values(&rows);
                // SAVEPOINT succeeds only inside a transaction block.
                body["in_transaction"] = json!(db.execute("SAVEPOINT probe", &[]).is_ok());
                answer(200, body)
            }
            Err(e) => failed("session", e),
        },
        _ => answer(
            404,
            json!({"error": {"code": "not_found", "message": path}}),
        ),
    })
}
