//! HTTP/1 serving: listener -> router -> slot -> fresh instance -> response.
//!
//! Every request gets its own `Store` and instance of the version that was
//! active when it arrived. A guest that traps costs that request a 500, one that
//! runs past the timeout a 503; the host keeps serving either way.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use wasmtime::{Engine, Trap};
use wasmtime_wasi_http::WasiBody;
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;

use crate::app::App;
use crate::conn_limits::{ConnLimits, RequestGuard, TimedBody, Tracker};
use crate::host_state::new_store;
use crate::limits::{EPOCH_PERIOD, LimitedBody, Limits};
use crate::listener::accept_until;
use crate::metrics::Registry;
use crate::router::RouteMatch;
use crate::slot::{Candidates, Pick, Slot, Version};

pub struct Server {
    app: Arc<App>,
    engine: Engine,
    limits: Limits,
    /// One permit per concurrently running instance (the pool's size).
    instances: Arc<Semaphore>,
    max_instances: u32,
    metrics: Arc<Registry>,
    /// Versions under test by hot swap, reachable only with their secret token.
    candidates: Arc<Candidates>,
}

/// Which component and version answered a request.
struct Served {
    component: String,
    version: Arc<Version>,
    /// A hot-swap smoke request: not user traffic, not counted.
    smoke: bool,
}

/// Why a request got no response from its component.
enum Failure {
    Timeout,
    Trap(wasmtime::Error),
}

impl Server {
    pub fn new(app: Arc<App>, engine: Engine, limits: Limits, max_instances: u32) -> Self {
        Self {
            app,
            engine,
            limits,
            instances: Arc::new(Semaphore::new(max_instances as usize)),
            max_instances,
            metrics: Arc::default(),
            candidates: Arc::default(),
        }
    }

    pub fn metrics(&self) -> &Arc<Registry> {
        &self.metrics
    }

    pub fn candidates(&self) -> &Arc<Candidates> {
        &self.candidates
    }

    /// The instance permits: hot swap takes one for its trial instantiation, so
    /// it never takes a pool slot a request was promised.
    pub fn instances(&self) -> &Arc<Semaphore> {
        &self.instances
    }

    /// Serves until `shutdown` resolves, then stops accepting and drains in-flight
    /// requests (bounded by the request timeout).
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        conn_limits: ConnLimits,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let tracker = Tracker::start("http", conn_limits, self.metrics.connections.http.clone());
        accept_until(&listener, &tracker, shutdown, |io, conn, peer| {
            let server = self.clone();
            let requests = conn.requests();
            let service = hyper::service::service_fn(move |req| {
                let server = server.clone();
                let request = requests.begin();
                async move {
                    let response = server.handle(req, peer, &request).await;
                    Ok::<_, Infallible>(response.map(|body| request.track(body)))
                }
            });
            let http = http1::Builder::new()
                .keep_alive(true)
                // conn_limits enforces header and idle timeouts; hyper's header timer
                // would also run while a keep-alive connection waits, cutting it short.
                .header_read_timeout(None)
                .serve_connection(io, service);
            tokio::spawn(async move {
                if let Err(e) = conn.serve(http).await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        })
        .await;
        drop(listener);

        tracing::info!("shutting down: no longer accepting, draining in-flight requests");
        let drain = self.limits.request_timeout + Duration::from_secs(2);
        tracker.shutdown();
        if !tracker.drained(drain).await {
            tracing::warn!("connections still open after {drain:?}; closing them");
        }
        // Instances may outlive their connection (a guest still finishing its body).
        if tokio::time::timeout(drain, self.instances.acquire_many(self.max_instances))
            .await
            .is_err()
        {
            tracing::warn!("instances still running after {drain:?}; abandoning them");
        }
        Ok(())
    }

    async fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        request: &RequestGuard,
    ) -> Response<WasiBody> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let (served, response) = self.dispatch(req, peer, request, &method, &path).await;
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        match &served {
            Some(s) if !s.smoke => s.version.stats.record(status, elapsed),
            Some(_) => {}
            None => {
                self.metrics.unrouted.inc();
            }
        }
        let duration_ms = format!("{:.2}", elapsed.as_secs_f64() * 1000.0);
        let component = served.as_ref().map_or("-", |s| s.component.as_str());
        if status >= 500 {
            tracing::warn!(%method, %path, %component, status, %duration_ms, "request");
        } else {
            tracing::info!(%method, %path, %component, status, %duration_ms, "request");
        }
        response
    }

    async fn dispatch(
        &self,
        mut req: Request<Incoming>,
        peer: SocketAddr,
        request: &RequestGuard,
        method: &Method,
        path: &str,
    ) -> (Option<Served>, Response<WasiBody>) {
        let Some(matched) = self.app.router.find(path) else {
            return (
                None,
                error_response(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &format!("no route matches {path}"),
                ),
            );
        };
        let slot = matched.route.target.clone();
        // The version is fixed here, on arrival: a swap during the request does not move it.
        let (version, smoke) = match self.candidates.pick(&slot, req.headers_mut()) {
            Pick::Active(version) => (version, false),
            Pick::Candidate(version) => (version, true),
            Pick::Misrouted => {
                return (
                    None,
                    error_response(
                        StatusCode::MISDIRECTED_REQUEST,
                        "smoke_misrouted",
                        "this path does not reach the component under test",
                    ),
                );
            }
        };
        let component = Some(Served {
            component: slot.id.clone(),
            version: version.clone(),
            smoke,
        });

        match declared_length(req.headers()) {
            Ok(Some(len)) if len > self.limits.max_body => {
                let msg = format!(
                    "request body of {len} bytes exceeds the limit of {} bytes",
                    self.limits.max_body
                );
                return (
                    component,
                    error_response(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", &msg),
                );
            }
            Ok(_) => {}
            Err(msg) => {
                return (
                    component,
                    error_response(StatusCode::BAD_REQUEST, "bad_request", msg),
                );
            }
        }

        // WASI HTTP needs an authority; without one the request could not be handed over.
        let has_authority = req.uri().authority().is_some()
            || req
                .headers()
                .get(http::header::HOST)
                .is_some_and(|h| h.to_str().is_ok_and(|h| !h.is_empty()));
        if !has_authority {
            return (
                component,
                error_response(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "the request has no valid Host header",
                ),
            );
        }

        set_spin_headers(&mut req, &matched, peer);

        let permit = match tokio::time::timeout(
            self.limits.request_timeout,
            self.instances.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            _ => {
                return (
                    component,
                    error_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "overloaded",
                        "too many requests in flight; try again",
                    ),
                );
            }
        };

        let req = req.map(|body| request.timed(body));
        let result = self.run_instance(&slot, version, req, permit).await;
        if request.body_stalled() {
            // Whatever the component made of the failed read, the client is at fault.
            tracing::info!(component = %slot.id, %method, path, "request body stalled");
            return (
                component,
                body_timeout_response(request.body_read_timeout()),
            );
        }
        let response = match result {
            Ok(response) => response,
            Err(Failure::Timeout) => {
                tracing::warn!(component = %slot.id, %method, path, "request timed out");
                error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    &format!(
                        "the component did not answer within {:?}",
                        self.limits.request_timeout
                    ),
                )
            }
            Err(Failure::Trap(e)) => {
                tracing::error!(component = %slot.id, %method, path, error = %format!("{e:?}"), "component failed");
                error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "component_failed",
                    "the component failed while handling the request",
                )
            }
        };
        (component, response)
    }

    async fn run_instance(
        &self,
        slot: &Slot,
        version: Arc<Version>,
        req: Request<TimedBody<Incoming>>,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<Response<WasiBody>, Failure> {
        let mut store = new_store(
            &self.engine,
            &self.app.capabilities,
            &slot.grants,
            &self.limits,
        );

        let req = req.map(|body| LimitedBody::new(body, self.limits.max_body));
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let (incoming, outparam) = {
            let mut http = store.data_mut().http();
            let incoming = http
                .new_incoming_request(Scheme::Http, req)
                .map_err(Failure::Trap)?;
            let outparam = http.new_response_outparam(sender).map_err(Failure::Trap)?;
            (incoming, outparam)
        };

        // The epoch deadline normally fires first; this backstop also covers a guest
        // parked in a host call (a lock, a slow outbound request).
        let hard_limit = self.limits.request_timeout + 2 * EPOCH_PERIOD;
        let task = tokio::spawn(async move {
            let _permit = permit;
            let run = async {
                let instantiating = Instant::now();
                let proxy = version.pre.instantiate_async(&mut store).await?;
                version.stats.instantiation.observe(instantiating.elapsed());
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, outparam)
                    .await
            };
            match tokio::time::timeout(hard_limit, run).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) if is_interrupt(&e) => Err(Failure::Timeout),
                Ok(Err(e)) => Err(Failure::Trap(e)),
                Err(_) => Err(Failure::Timeout),
            }
        });

        match receiver.await {
            Ok(Ok(response)) => {
                // The guest may keep running to stream the body; report late failures.
                tokio::spawn(async move {
                    match task.await {
                        Ok(Err(Failure::Timeout)) => {
                            tracing::warn!("request timed out while streaming its response body");
                        }
                        Ok(Err(Failure::Trap(e))) => {
                            tracing::warn!(error = %format!("{e:?}"), "component failed after responding");
                        }
                        _ => {}
                    }
                });
                Ok(response)
            }
            Ok(Err(code)) => Err(Failure::Trap(wasmtime::Error::msg(format!(
                "component answered with error code {code:?}"
            )))),
            Err(_) => match task.await {
                Ok(Ok(())) => Err(Failure::Trap(wasmtime::Error::msg(
                    "component returned without setting a response",
                ))),
                Ok(Err(failure)) => Err(failure),
                Err(join) => Err(Failure::Trap(wasmtime::Error::msg(format!(
                    "instance task failed: {join}"
                )))),
            },
        }
    }
}

fn is_interrupt(e: &wasmtime::Error) -> bool {
    matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt))
}

/// The declared body length, if any; a malformed header is the client's error.
fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, &'static str> {
    match headers.get(http::header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Some)
            .ok_or("invalid Content-Length header"),
    }
}

/// The request metadata Spin passes to components. Client-sent `spin-*` headers
/// are dropped first so they cannot be spoofed.
fn set_spin_headers(
    req: &mut Request<Incoming>,
    matched: &RouteMatch<'_, Arc<Slot>>,
    peer: SocketAddr,
) {
    let full_url = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|host| {
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            format!("http://{host}{path}")
        });
    let headers = req.headers_mut();
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(&name);
    }
    let route = &matched.route;
    let set = |headers: &mut HeaderMap, name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set(headers, "spin-path-info", matched.path_info);
    set(headers, "spin-matched-route", &route.raw);
    set(headers, "spin-raw-component-route", &route.raw);
    set(headers, "spin-component-route", route.pattern.base());
    set(headers, "spin-base-path", "/");
    set(headers, "spin-client-addr", &peer.to_string());
    if let Some(url) = full_url {
        set(headers, "spin-full-url", &url);
    }
}
/// A 408 for a request whose body stalled; the connection closes after it (the
/// rest of the body may still arrive).
fn body_timeout_response(timeout: Duration) -> Response<WasiBody> {
    let mut response = error_response(
        StatusCode::REQUEST_TIMEOUT,
        "body_timeout",
        &format!("the request body sent nothing for {timeout:?}"),
    );
    response
        .headers_mut()
        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response<WasiBody> {
    crate::respond::error(status, code, message)
        .map(|body| body.map_err(|never| match never {}).boxed_unsync())
}
