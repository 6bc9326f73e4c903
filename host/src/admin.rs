//! The admin API, on its own listener: list versions, upload a new version,
//! roll back, and the Prometheus metrics. With a token configured, every request
//! must carry `Authorization: Bearer <token>`.
//!
//! - `GET /-/components` (in fleet mode with every replica's versions, `fleet.rs`)
//! - `PUT /-/components/{name}` (body: the component's `.wasm`)
//! - `POST /-/components/{name}/rollback`
//! - `GET /-/metrics`

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use serde_json::json;
use tokio::net::TcpListener;

use crate::app::App;
use crate::conn_limits::{ConnLimits, RequestGuard, Tracker};
use crate::listener::accept_until;
use crate::metrics::{Registry, short};
use crate::respond::{error, json};
use crate::slot::Version;
use crate::stamps::rfc3339;
use crate::swap::{Origin, SwapError, Swapper};

/// Largest accepted upload: far above any component this app builds.
const MAX_UPLOAD: usize = 256 << 20;

pub struct Admin {
    pub app: Arc<App>,
    pub swapper: Arc<Swapper>,
    pub metrics: Arc<Registry>,
    /// Expected `Authorization` header value, if a token is required.
    pub bearer: Option<String>,
}

type AdminResponse = Response<Full<Bytes>>;

impl Admin {
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        conn_limits: ConnLimits,
        shutdown: impl Future<Output = ()>,
    ) {
        let tracker = Tracker::start("admin", conn_limits, self.metrics.connections.admin.clone());
        accept_until(&listener, &tracker, shutdown, |io, conn, peer| {
            let admin = self.clone();
            let requests = conn.requests();
            let service = hyper::service::service_fn(move |req| {
                let admin = admin.clone();
                let request = requests.begin();
                async move {
                    let response = admin.handle(req, peer, &request).await;
                    Ok::<_, Infallible>(response.map(|body| request.track(body)))
                }
            });
            // The same limits as the HTTP listener (see server.rs).
            let http = http1::Builder::new()
                .header_read_timeout(None)
                .serve_connection(io, service);
            tokio::spawn(async move {
                if let Err(e) = conn.serve(http).await {
                    tracing::debug!(%peer, error = %e, "admin connection ended with an error");
                }
            });
        })
        .await;
    }

    async fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        request: &RequestGuard,
    ) -> AdminResponse {
        if !self.authorised(&req) {
            tracing::warn!(%peer, path = %req.uri().path(), "admin request without a valid token");
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this admin API requires `Authorization: Bearer <token>`",
            );
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            );
            return response;
        }
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let response = match (&method, segments.as_slice()) {
            (&Method::GET, ["-", "components"]) => json(StatusCode::OK, &self.list().await),
            (&Method::GET, ["-", "metrics"]) => {
                let text = self.metrics.render(&self.active_versions());
                let mut response = Response::new(Full::new(Bytes::from(text)));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
                );
                response
            }
            (&Method::PUT, ["-", "components", name]) => {
                let name = (*name).to_owned();
                match Limited::new(request.timed(req.into_body()), MAX_UPLOAD)
                    .collect()
                    .await
                {
                    Ok(body) => {
                        let bytes = body.to_bytes().to_vec();
                        outcome(self.swapper.swap(&name, bytes, Origin::Upload).await)
                    }
                    Err(e) if request.body_stalled() => {
                        let mut response =
                            error(StatusCode::REQUEST_TIMEOUT, "body_timeout", &e.to_string());
                        response
                            .headers_mut()
                            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                        response
                    }
                    Err(e) => error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        &format!("cannot read the upload (limit {MAX_UPLOAD} bytes): {e}"),
                    ),
                }
            }
            (&Method::POST, ["-", "components", name, "rollback"]) => {
                outcome(self.swapper.rollback(name).await)
            }
            (_, ["-", "components"] | ["-", "metrics"] | ["-", "components", _])
            | (_, ["-", "components", _, "rollback"]) => error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                &format!("{method} is not allowed on {path}"),
            ),
            _ => error(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no admin endpoint at {path}"),
            ),
        };
        tracing::info!(%method, %path, status = response.status().as_u16(), "admin request");
        response
    }

    /// `GET /-/components`. In fleet mode each component also has `fleet` (the
    /// database's record and the sha256 each replica serves), and the answer a
    /// top-level `fleet` with every replica's status row.
    async fn list(&self) -> serde_json::Value {
        let overview = match self.swapper.fleet() {
            Some(fleet) => Some((fleet.replica().to_owned(), fleet.overview().await)),
            None => None,
        };
        let components: Vec<_> = self
            .app
            .slots
            .values()
            .map(|slot| {
                let mut entry = json!({
                    "name": slot.id,
                    "active": describe(&slot.active()),
                    "previous": slot.previous().as_deref().map(describe),
                });
                if let Some((_, Ok(overview))) = &overview {
                    let record = overview.slots.get(&slot.id);
                    let replicas: serde_json::Map<String, serde_json::Value> = overview
                        .replicas
                        .iter()
                        .filter_map(|r| {
                            let sha = r.active.get(&slot.id)?;
                            Some((r.replica.clone(), json!(sha)))
                        })
                        .collect();
                    entry["fleet"] = json!({
                        "active": record.map(|r| r.active.clone()),
                        "previous": record.and_then(|r| r.previous.clone()),
                        "replicas": replicas,
                    });
                }
                entry
            })
            .collect();
        match overview {
            None => json!({ "components": components }),
            Some((replica, Ok(overview))) => json!({
                "components": components,
                "fleet": { "replica": replica, "replicas": overview.replicas },
            }),
            Some((replica, Err(e))) => json!({
                "components": components,
                "fleet": { "replica": replica, "error": format!("{e:#}") },
            }),
        }
    }

    /// Each component's active sha256, for the metrics' info series.
    fn active_versions(&self) -> Vec<(String, String)> {
        self.app
            .slots
            .values()
            .map(|s| (s.id.clone(), s.active().sha256.clone()))
            .collect()
    }

    fn authorised(&self, req: &Request<Incoming>) -> bool {
        let Some(expected) = &self.bearer else {
            return true;
        };
        let given = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        constant_time_eq(given, expected.as_bytes())
    }
}

fn describe(version: &Version) -> serde_json::Value {
    json!({
        "sha256": version.sha256,
        "short": short(&version.sha256),
        "size": version.size,
        "source": version.source.display().to_string(),
        "loadedAt": rfc3339(version.loaded_at),
        "requests": version.stats.requests(),
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn outcome(result: Result<crate::swap::Outcome, SwapError>) -> AdminResponse {
    match result {
        Ok(outcome) => json(
            StatusCode::OK,
            &serde_json::to_value(&outcome).unwrap_or_default(),
        ),
        Err(SwapError::UnknownComponent(name)) => error(
            StatusCode::NOT_FOUND,
            "unknown_component",
            &format!("no component named `{name}` in the manifest"),
        ),
        Err(SwapError::Rejected { reason, message }) => json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({
                "error": {
                    "code": "version_rejected",
                    "reason": reason.label(),
                    "message": message,
                }
            }),
        ),
        Err(e @ SwapError::NoPrevious(_)) => {
            error(StatusCode::CONFLICT, "no_previous_version", &e.to_string())
        }
        Err(e @ SwapError::Persist(_)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "persist_failed",
            &e.to_string(),
        ),
    }
}

/// The `swap`, `rollback` and `versions` subcommands: a small client of the admin API.
pub mod client {
    use anyhow::{Context as _, anyhow, bail};
    use bytes::Bytes;
    use http_body_util::Full;

    use crate::metrics::short;

    pub struct Target {
        pub url: String,
        pub token: Option<String>,
    }

    /// Sends one request; returns the status and the parsed JSON answer.
    fn call(
        target: &Target,
        method: http::Method,
        path: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let uri: http::Uri = format!("{}{path}", target.url.trim_end_matches('/'))
            .parse()
            .with_context(|| format!("bad --admin URL {}", target.url))?;
        if uri.scheme_str() != Some("http") {
            bail!("--admin must be an http:// URL (got {})", target.url);
        }
        let host = uri
            .host()
            .ok_or_else(|| anyhow!("--admin URL has no host"))?
            .trim_matches(['[', ']'])
            .to_owned();
        let port = uri.port_u16().unwrap_or(80);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let mut request = http::Request::builder()
            .method(method)
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(http::header::HOST, format!("{host}:{port}"));
        if let Some(token) = &target.token {
            request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        let (status, bytes) = rt
            .block_on(crate::client::send((host.as_str(), port), request))
            .with_context(|| format!("cannot reach the admin API at {}", target.url))?;
        let value = serde_json::from_slice(&bytes).unwrap_or_else(
            |_| serde_json::json!({ "error": { "message": String::from_utf8_lossy(&bytes) } }),
        );
        Ok((status.as_u16(), value))
    }

    fn failure(status: u16, answer: &serde_json::Value) -> anyhow::Error {
        let error = &answer["error"];
        let message = error["message"].as_str().unwrap_or("no message");
        match error["reason"].as_str() {
            Some(reason) => anyhow!("rejected ({reason}): {message}"),
            None => anyhow!("admin API answered {status}: {message}"),
        }
    }

    pub fn swap(target: &Target, name: &str, file: &std::path::Path) -> anyhow::Result<()> {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let (status, answer) = call(
            target,
            http::Method::PUT,
            &format!("/-/components/{name}"),
            bytes,
        )?;
        if status != 200 {
            return Err(failure(status, &answer));
        }
        let sha = answer["sha256"].as_str().unwrap_or("");
        if answer["unchanged"].as_bool() == Some(true) {
            println!("{name}: {} is already active; nothing changed", short(sha));
        } else {
            println!(
                "{name}: now serving {} (was {}), accepted in {} ms",
                short(sha),
                short(answer["previous"].as_str().unwrap_or("-")),
                answer["elapsedMs"]
            );
        }
        Ok(())
    }

    pub fn rollback(target: &Target, name: &str) -> anyhow::Result<()> {
        let (status, answer) = call(
            target,
            http::Method::POST,
            &format!("/-/components/{name}/rollback"),
            Vec::new(),
        )?;
        if status != 200 {
            return Err(failure(status, &answer));
        }
        println!(
            "{name}: rolled back to {} (was {})",
            short(answer["sha256"].as_str().unwrap_or("")),
            short(answer["previous"].as_str().unwrap_or("-"))
        );
        Ok(())
    }

    pub fn versions(target: &Target) -> anyhow::Result<()> {
        let (status, answer) = call(target, http::Method::GET, "/-/components", Vec::new())?;
        if status != 200 {
            return Err(failure(status, &answer));
        }
        let line = |label: &str, v: &serde_json::Value| {
            if v.is_null() {
                println!("  {label:<8} -");
            } else {
                println!(
                    "  {label:<8} {}  {:>9} bytes  {:>8} requests  loaded {}  from {}",
                    short(v["sha256"].as_str().unwrap_or("")),
                    v["size"],
                    v["requests"],
                    v["loadedAt"].as_str().unwrap_or("?"),
                    v["source"].as_str().unwrap_or("?")
                );
            }
        };
        for component in answer["components"].as_array().into_iter().flatten() {
            println!("{}", component["name"].as_str().unwrap_or("?"));
            line("active", &component["active"]);
            line("previous", &component["previous"]);
            let fleet = &component["fleet"];
            if !fleet.is_null() {
                println!(
                    "  {:<8} {} (previous {})",
                    "fleet",
                    short(fleet["active"].as_str().unwrap_or("-")),
                    short(fleet["previous"].as_str().unwrap_or("-"))
                );
            }
        }
        let fleet = &answer["fleet"];
        if !fleet.is_null() {
            println!(
                "fleet (this replica: {})",
                fleet["replica"].as_str().unwrap_or("?")
            );
            if let Some(error) = fleet["error"].as_str() {
                println!("  cannot read the fleet database: {error}");
            }
            for replica in fleet["replicas"].as_array().into_iter().flatten() {
                let active: Vec<String> = replica["active"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(c, sha)| format!("{c}={}", short(sha.as_str().unwrap_or("?"))))
                    .collect();
                println!(
                    "  {:<20} {}  seen {:.0}s ago{}",
                    replica["replica"].as_str().unwrap_or("?"),
                    active.join(" "),
                    replica["ageSeconds"].as_f64().unwrap_or(f64::NAN),
                    replica["lastError"]
                        .as_str()
                        .map(|e| format!("  ! {e}"))
                        .unwrap_or_default()
                );
            }
        }
        Ok(())
    }
}
