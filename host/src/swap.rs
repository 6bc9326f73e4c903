//! Hot swap: a new build of a component is compiled, linked, instantiated once and
//! smoke-tested off the request path, then made active atomically; any failure
//! leaves the old version serving. Also rollback and the start-up restore of the
//! persisted active version.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher as _, Hasher as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use wasmtime::Store;

use crate::app::App;
use crate::engine::Runtime;
use crate::host_state::HostState;
use crate::limits::{Limits, arm_deadline};
use crate::metrics::{Registry, RejectReason, short};
use crate::slot::{Slot, Version};
use crate::versions::{SlotRecord, VersionStore};

/// The header that sends a smoke request to a candidate version. Its value is a
/// random token known only to this process, so clients cannot reach a candidate.
pub const SMOKE_HEADER: &str = "x-tracker-smoke";
/// How long a candidate's smoke request may take.
const SMOKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a failed smoke response's body goes into the rejection reason.
const SMOKE_BODY_EXCERPT: usize = 300;
/// What the source of an uploaded version is reported as.
pub const UPLOAD_SOURCE: &str = "admin upload";

/// Versions under test, by token. Touched only by smoke requests and swaps.
#[derive(Default)]
pub struct Candidates(Mutex<HashMap<String, (String, Arc<Version>)>>);

impl Candidates {
    pub fn get(&self, token: &str) -> Option<(String, Arc<Version>)> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(token).cloned()
    }

    fn insert(&self, token: String, component: String, version: Arc<Version>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(token, (component, version));
    }

    fn remove(&self, token: &str) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(token);
    }
}

/// Where a new version came from.
#[derive(Debug, Clone)]
pub enum Origin {
    Upload,
    /// The manifest's source file changed.
    SourceFile(PathBuf),
}

impl Origin {
    fn source(&self) -> PathBuf {
        match self {
            Self::Upload => PathBuf::from(UPLOAD_SOURCE),
            Self::SourceFile(path) => path.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("no component named `{0}` in the manifest")]
    UnknownComponent(String),
    #[error("version rejected ({}): {message}", reason.label())]
    Rejected {
        reason: RejectReason,
        message: String,
    },
    #[error("component `{0}` has no previous version to roll back to")]
    NoPrevious(String),
    #[error("cannot record the swap on disk: {0:#}")]
    Persist(anyhow::Error),
}

/// The answer to an accepted swap or rollback.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub component: String,
    pub sha256: String,
    pub previous: Option<String>,
    /// The version was already active: nothing changed.
    pub unchanged: bool,
    /// From receiving the bytes to the version serving, milliseconds.
    pub elapsed_ms: u64,
}

pub struct Swapper {
    app: Arc<App>,
    runtime: Arc<Runtime>,
    limits: Limits,
    metrics: Arc<Registry>,
    candidates: Arc<Candidates>,
    /// The server's instance permits (one per pool slot).
    instances: Arc<tokio::sync::Semaphore>,
    store: VersionStore,
    /// Component -> the path its smoke request uses.
    smoke_paths: BTreeMap<String, String>,
    /// The main listener, where smoke requests go (the path real traffic takes).
    listener: SocketAddr,
    /// One swap or rollback at a time, so active/previous and the record agree.
    busy: tokio::sync::Mutex<()>,
}

pub struct SwapperParts {
    pub app: Arc<App>,
    pub runtime: Arc<Runtime>,
    pub limits: Limits,
    pub metrics: Arc<Registry>,
    pub candidates: Arc<Candidates>,
    pub instances: Arc<tokio::sync::Semaphore>,
    pub store: VersionStore,
    pub smoke_paths: BTreeMap<String, String>,
    pub listener: SocketAddr,
}

impl Swapper {
    pub fn new(parts: SwapperParts) -> Self {
        let mut listener = parts.listener;
        if listener.ip().is_unspecified() {
            listener.set_ip(match listener {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        Self {
            app: parts.app,
            runtime: parts.runtime,
            limits: parts.limits,
            metrics: parts.metrics,
            candidates: parts.candidates,
            instances: parts.instances,
            store: parts.store,
            smoke_paths: parts.smoke_paths,
            listener,
            busy: tokio::sync::Mutex::new(()),
        }
    }

    fn slot(&self, name: &str) -> Result<&Arc<Slot>, SwapError> {
        self.app
            .slots
            .get(name)
            .ok_or_else(|| SwapError::UnknownComponent(name.to_owned()))
    }

    /// Validates `bytes` as the next version of `name` and makes it active.
    pub async fn swap(
        &self,
        name: &str,
        bytes: Vec<u8>,
        origin: Origin,
    ) -> Result<Outcome, SwapError> {
        let started = Instant::now();
        let slot = self.slot(name)?.clone();
        let _busy = self.busy.lock().await;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let result = self.try_swap(&slot, bytes, &sha256, &origin, started).await;
        if let Origin::SourceFile(_) = origin {
            // Seen, accepted or not: a restart keeps what serves now instead of
            // promoting a source file that was already judged.
            self.note_source(name, &sha256);
        }
        match &result {
            Ok(outcome) if outcome.unchanged => {}
            Ok(outcome) => {
                self.metrics.swap_accepted(name);
                tracing::info!(
                    component = name,
                    sha256 = %outcome.sha256,
                    previous = outcome.previous.as_deref().unwrap_or("-"),
                    source = %origin.source().display(),
                    ms = outcome.elapsed_ms,
                    "new version accepted and serving"
                );
            }
            Err(SwapError::Rejected { reason, message }) => {
                self.metrics.swap_rejected(name, *reason);
                tracing::warn!(
                    component = name,
                    %sha256,
                    reason = reason.label(),
                    source = %origin.source().display(),
                    %message,
                    "new version rejected; the old version keeps serving"
                );
            }
            Err(e) => tracing::warn!(component = name, error = %e, "swap failed"),
        }
        result
    }

    async fn try_swap(
        &self,
        slot: &Arc<Slot>,
        bytes: Vec<u8>,
        sha256: &str,
        origin: &Origin,
        started: Instant,
    ) -> Result<Outcome, SwapError> {
        let active = slot.active();
        if active.sha256 == sha256 {
            return Ok(Outcome {
                component: slot.id.clone(),
                sha256: sha256.to_owned(),
                previous: slot.previous().map(|v| v.sha256.clone()),
                unchanged: true,
                elapsed_ms: 0,
            });
        }
        check_header(&bytes)?;

        let runtime = self.runtime.clone();
        let source = origin.source();
        let (version, bytes) = tokio::task::spawn_blocking(move || {
            let version = runtime.prepare_version_from_bytes(&bytes, &source);
            (version, bytes)
        })
        .await
        .map_err(|e| rejected(RejectReason::Compile, format!("compile task failed: {e}")))?;
        let version = version.map_err(classify_prepare_error)?;
        let version = Arc::new(Version {
            stats: self.metrics.candidate_stats(&slot.id, sha256),
            ..version
        });

        self.instantiate_once(slot, &version).await?;
        self.smoke(slot, &version).await?;

        let record = SlotRecord {
            active: sha256.to_owned(),
            active_source: version.source.display().to_string(),
            previous: Some(active.sha256.clone()),
            previous_source: Some(active.source.display().to_string()),
            source_sha256: self.last_source_sha(&slot.id, &active),
        };
        self.store
            .save_wasm(sha256, &bytes)
            .and_then(|()| self.store.save(&slot.id, &record))
            .map_err(|e| rejected(RejectReason::Io, format!("{e:#}")))?;

        self.metrics.adopt(&slot.id, sha256, version.stats.clone());
        slot.activate(version);
        Ok(Outcome {
            component: slot.id.clone(),
            sha256: sha256.to_owned(),
            previous: Some(active.sha256.clone()),
            unchanged: false,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// The source sha the record holds, or (first swap) the active version's.
    fn last_source_sha(&self, name: &str, active: &Version) -> String {
        self.store
            .load(name)
            .map(|r| r.source_sha256)
            .unwrap_or_else(|| active.sha256.clone())
    }

    fn note_source(&self, name: &str, sha256: &str) {
        let Some(mut record) = self.store.load(name) else {
            return;
        };
        if record.source_sha256 != sha256 {
            record.source_sha256 = sha256.to_owned();
            if let Err(e) = self.store.save(name, &record) {
                tracing::warn!(component = name, error = %format!("{e:#}"), "cannot record the source file's hash");
            }
        }
    }

    /// A start-up trap (a failing constructor, a bad data segment) shows here,
    /// before any request could meet it.
    async fn instantiate_once(&self, slot: &Slot, version: &Version) -> Result<(), SwapError> {
        let limit = self.limits.request_timeout + Duration::from_secs(1);
        let Ok(Ok(_permit)) = tokio::time::timeout(limit, self.instances.acquire()).await else {
            return Err(rejected(
                RejectReason::Instantiate,
                format!("no free instance slot within {limit:?} (the host is saturated)"),
            ));
        };
        let mut store = Store::new(
            self.runtime.engine(),
            HostState::new(&self.app.backends, &slot.grants, self.limits.max_memory),
        );
        store.limiter(|state| &mut state.limits);
        arm_deadline(&mut store, self.limits.request_timeout);
        match tokio::time::timeout(limit, version.pre.instantiate_async(&mut store)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(rejected(
                RejectReason::Instantiate,
                format!("instantiation failed: {e:#}"),
            )),
            Err(_) => Err(rejected(
                RejectReason::Instantiate,
                format!("instantiation did not finish within {limit:?}"),
            )),
        }
    }

    /// One GET through the main listener, served by the candidate; anything but a
    /// non-5xx answer within the timeout rejects it.
    async fn smoke(&self, slot: &Slot, version: &Arc<Version>) -> Result<(), SwapError> {
        let path = self
            .smoke_paths
            .get(&slot.id)
            .cloned()
            .unwrap_or_else(|| "/".to_owned());
        let token = random_token();
        self.candidates
            .insert(token.clone(), slot.id.clone(), version.clone());
        let result = tokio::time::timeout(SMOKE_TIMEOUT, self.smoke_request(&path, &token)).await;
        self.candidates.remove(&token);
        match result {
            Err(_) => Err(rejected(
                RejectReason::SmokeTimeout,
                format!("smoke request GET {path} got no answer within {SMOKE_TIMEOUT:?}"),
            )),
            Ok(Err(e)) => Err(rejected(
                RejectReason::SmokeError,
                format!("smoke request GET {path} failed: {e:#}"),
            )),
            Ok(Ok((status, body))) if status >= 500 => {
                let excerpt: String = String::from_utf8_lossy(&body)
                    .chars()
                    .take(SMOKE_BODY_EXCERPT)
                    .collect();
                Err(rejected(
                    RejectReason::SmokeStatus,
                    format!("smoke request GET {path} answered {status}: {excerpt}"),
                ))
            }
            Ok(Ok(_)) => Ok(()),
        }
    }

    async fn smoke_request(&self, path: &str, token: &str) -> anyhow::Result<(u16, Bytes)> {
        let stream = tokio::net::TcpStream::connect(self.listener).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let conn = tokio::spawn(conn);
        let request = http::Request::get(path)
            .header(http::header::HOST, self.listener.to_string())
            .header(SMOKE_HEADER, token)
            .header("user-agent", "tracker-host-smoke")
            .body(Empty::<Bytes>::new())?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        drop(sender);
        let _ = conn.await;
        Ok((status, body))
    }

    /// Makes the previous version active again (and the current one previous).
    pub async fn rollback(&self, name: &str) -> Result<Outcome, SwapError> {
        let started = Instant::now();
        let slot = self.slot(name)?.clone();
        let _busy = self.busy.lock().await;
        let previous = slot
            .previous()
            .ok_or_else(|| SwapError::NoPrevious(name.to_owned()))?;
        let active = slot.active();
        let record = SlotRecord {
            active: previous.sha256.clone(),
            active_source: previous.source.display().to_string(),
            previous: Some(active.sha256.clone()),
            previous_source: Some(active.source.display().to_string()),
            source_sha256: self.last_source_sha(name, &active),
        };
        self.store.save(name, &record).map_err(SwapError::Persist)?;
        slot.activate(previous.clone());
        self.metrics.rolled_back(name);
        tracing::info!(component = name, sha256 = %previous.sha256, replaced = %active.sha256, "rolled back");
        Ok(Outcome {
            component: name.to_owned(),
            sha256: previous.sha256.clone(),
            previous: Some(active.sha256.clone()),
            unchanged: false,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// `GET /-/components`.
    pub fn list(&self) -> serde_json::Value {
        let components: Vec<_> = self
            .app
            .slots
            .values()
            .map(|slot| {
                json!({
                    "name": slot.id,
                    "active": describe(&slot.active()),
                    "previous": slot.previous().as_deref().map(describe),
                })
            })
            .collect();
        json!({ "components": components })
    }

    /// Each component's active sha256, for the metrics' info series.
    pub fn active_versions(&self) -> Vec<(String, String)> {
        self.app
            .slots
            .values()
            .map(|s| (s.id.clone(), s.active().sha256.clone()))
            .collect()
    }

    /// At start-up, before serving: the manifest's source has just been loaded
    /// into each slot. If that file is the one the slot last saw, the persisted
    /// active (and previous) version serves again; if it changed, it is a new
    /// deployment and wins, with the persisted active version kept as previous.
    pub fn restore(&self) -> anyhow::Result<()> {
        for slot in self.app.slots.values() {
            let source = slot.active();
            self.metrics
                .adopt(&slot.id, &source.sha256, source.stats.clone());
            if let Ok(bytes) = std::fs::read(&source.source)
                && hex::encode(Sha256::digest(&bytes)) == source.sha256
            {
                self.store.save_wasm(&source.sha256, &bytes)?;
            }
            let fresh = SlotRecord {
                active: source.sha256.clone(),
                active_source: source.source.display().to_string(),
                previous: None,
                previous_source: None,
                source_sha256: source.sha256.clone(),
            };
            let record = match self.store.load(&slot.id) {
                None => fresh,
                Some(record) if record.source_sha256 == source.sha256 => {
                    let active =
                        self.stored_version(slot, &record.active, &record.active_source, &source);
                    let previous = record.previous.as_deref().and_then(|sha| {
                        let from = record.previous_source.as_deref().unwrap_or("");
                        self.stored_version(slot, sha, from, &source)
                    });
                    match active {
                        Some(active) => {
                            if active.sha256 != source.sha256 {
                                tracing::info!(component = %slot.id, sha256 = %active.sha256, "serving the persisted active version (the manifest's source is unchanged)");
                                slot.activate(active);
                            }
                            slot.set_previous(previous);
                            record
                        }
                        None => fresh,
                    }
                }
                Some(record) => {
                    tracing::info!(component = %slot.id, sha256 = %source.sha256, replaced = %record.active, "the manifest's source changed since the last run: serving it");
                    let previous = (record.active != source.sha256)
                        .then(|| {
                            self.stored_version(
                                slot,
                                &record.active,
                                &record.active_source,
                                &source,
                            )
                        })
                        .flatten();
                    slot.set_previous(previous.clone());
                    SlotRecord {
                        previous: previous.as_ref().map(|v| v.sha256.clone()),
                        previous_source: previous.as_ref().map(|v| v.source.display().to_string()),
                        ..fresh
                    }
                }
            };
            self.store.save(&slot.id, &record)?;
        }
        Ok(())
    }

    /// A persisted build, loaded; `None` (with a warning) when it cannot serve.
    fn stored_version(
        &self,
        slot: &Slot,
        sha256: &str,
        source: &str,
        manifest_version: &Arc<Version>,
    ) -> Option<Arc<Version>> {
        if sha256 == manifest_version.sha256 {
            return Some(manifest_version.clone());
        }
        let loaded = self.store.read_wasm(sha256).and_then(|bytes| {
            self.runtime
                .prepare_version_from_bytes(&bytes, Path::new(source))
        });
        match loaded {
            Ok(version) => Some(Arc::new(Version {
                stats: self.metrics.stats_for(&slot.id, sha256),
                ..version
            })),
            Err(e) => {
                tracing::warn!(component = %slot.id, %sha256, error = %format!("{e:#}"), "cannot load a persisted version");
                None
            }
        }
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

fn rejected(reason: RejectReason, message: String) -> SwapError {
    SwapError::Rejected { reason, message }
}

/// A component starts with the wasm magic and the component-model layer.
fn check_header(bytes: &[u8]) -> Result<(), SwapError> {
    if !bytes.starts_with(b"\0asm") || bytes.len() < 8 {
        return Err(rejected(
            RejectReason::NotWasm,
            "not a WebAssembly file (no \\0asm header)".into(),
        ));
    }
    if bytes[6..8] != [1, 0] {
        return Err(rejected(
            RejectReason::NotWasm,
            "a core WebAssembly module, not a component".into(),
        ));
    }
    Ok(())
}

/// `Runtime::prepare_version_from_bytes` wraps compile failures in "failed to
/// compile" and link/export failures in "cannot run here"; the outer context
/// tells the two apart.
fn classify_prepare_error(e: anyhow::Error) -> SwapError {
    let message = format!("{e:#}");
    let reason = if e.to_string().starts_with("failed to compile") {
        RejectReason::Compile
    } else {
        RejectReason::Link
    };
    rejected(reason, message)
}

/// 128 bits from std's per-process random hasher keys (seeded by the OS).
fn random_token() -> String {
    let mut token = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        token.push_str(&format!("{:016x}", h.finish()));
    }
    token
}

/// UTC time as `2024-05-01T12:34:56Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil conversion.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_utc_rfc3339() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_210_096);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn headers_tell_components_from_modules_and_junk() {
        assert!(check_header(b"\0asm\x0d\0\x01\0rest").is_ok());
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(SwapError::Rejected {
                reason: RejectReason::NotWasm,
                ..
            })
        ));
        assert!(matches!(
            check_header(b"<html>"),
            Err(SwapError::Rejected {
                reason: RejectReason::NotWasm,
                ..
            })
        ));
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 32);
    }
}
