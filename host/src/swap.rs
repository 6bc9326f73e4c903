//! Hot swap: a new build of a component is compiled, linked, instantiated once and
//! smoke-tested off the request path, then made active atomically; any failure
//! leaves the old version serving. Also rollback.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;

use crate::app::App;
use crate::engine::{PrepareError, Runtime};
use crate::files::sha256_hex;
use crate::fleet::Fleet;
use crate::host_state::new_store;
use crate::limits::Limits;
use crate::manifest::HttpTrigger;
use crate::metrics::{Registry, RejectReason};
use crate::slot::{Candidates, SMOKE_HEADER, Slot, Version};
use crate::stamps::random_token;
use crate::versions::{SlotRecord, VersionStore};

/// How long a candidate's smoke request may take.
const SMOKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a failed smoke response's body goes into the rejection reason.
const SMOKE_BODY_EXCERPT: usize = 300;
/// What the source of an uploaded version is reported as.
pub const UPLOAD_SOURCE: &str = "admin upload";

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
    #[error("cannot record the swap: {0:#}")]
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

/// Where accepted versions are recorded.
pub enum Record {
    /// `<data>/components`: this host alone.
    Disk(VersionStore),
    /// The fleet's database: every replica follows it (`fleet.rs`).
    Fleet(Arc<Fleet>),
}

/// What following the fleet's record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    /// The version already served here.
    Already,
    Switched,
}

pub struct Swapper {
    app: Arc<App>,
    runtime: Arc<Runtime>,
    limits: Limits,
    metrics: Arc<Registry>,
    candidates: Arc<Candidates>,
    /// The server's instance permits (one per pool slot).
    instances: Arc<tokio::sync::Semaphore>,
    record: Record,
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
    pub record: Record,
    /// The manifest's triggers: smoke requests go to each component's routes.
    pub triggers: Vec<HttpTrigger>,
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
            record: parts.record,
            smoke_paths: smoke_paths(&parts.triggers),
            listener,
            busy: tokio::sync::Mutex::new(()),
        }
    }

    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// The fleet, in fleet mode.
    pub fn fleet(&self) -> Option<&Arc<Fleet>> {
        match &self.record {
            Record::Fleet(fleet) => Some(fleet),
            Record::Disk(_) => None,
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
        let sha256 = sha256_hex(&bytes);
        let result = self.try_swap(&slot, bytes, &sha256, &origin, started).await;
        if let Origin::SourceFile(_) = origin {
            // Seen, accepted or not: a restart keeps what serves now instead of
            // promoting a source file that was already judged.
            self.note_source(name, &sha256).await;
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
        let (version, bytes) = self.candidate(slot, bytes, sha256, origin.source()).await?;

        let previous = match &self.record {
            Record::Disk(store) => {
                let record = SlotRecord {
                    active: sha256.to_owned(),
                    active_source: version.source.display().to_string(),
                    previous: Some(active.sha256.clone()),
                    previous_source: Some(active.source.display().to_string()),
                    source_sha256: self.last_source_sha(store, &slot.id, &active),
                };
                store
                    .save_wasm(sha256, &bytes)
                    .and_then(|()| store.save(&slot.id, &record))
                    .map_err(|e| rejected(RejectReason::Io, format!("{e:#}")))?;
                Some(active.sha256.clone())
            }
            Record::Fleet(fleet) => fleet
                .commit(
                    &slot.id,
                    sha256,
                    &version.source.display().to_string(),
                    Some(&bytes),
                )
                .await
                .map_err(|e| {
                    rejected(
                        RejectReason::Io,
                        format!("cannot record the version in the fleet database: {e:#}"),
                    )
                })?,
        };

        self.metrics.adopt(&slot.id, sha256, version.stats.clone());
        slot.activate(version);
        Ok(Outcome {
            component: slot.id.clone(),
            sha256: sha256.to_owned(),
            previous,
            unchanged: false,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// A build checked as every new version is: header, compile (with the cache),
    /// link, one instantiation, the smoke request. Gives the bytes back.
    async fn candidate(
        &self,
        slot: &Arc<Slot>,
        bytes: Vec<u8>,
        sha256: &str,
        source: PathBuf,
    ) -> Result<(Arc<Version>, Vec<u8>), SwapError> {
        check_header(&bytes)?;
        let runtime = self.runtime.clone();
        let (version, bytes) = tokio::task::spawn_blocking(move || {
            let version = runtime.prepare_version_from_bytes(&bytes, &source);
            (version, bytes)
        })
        .await
        .map_err(|e| rejected(RejectReason::Compile, format!("compile task failed: {e}")))?;
        let version = version.map_err(|e| {
            let reason = match e {
                PrepareError::Compile { .. } => RejectReason::Compile,
                PrepareError::Link { .. } => RejectReason::Link,
            };
            rejected(reason, format!("{:#}", anyhow::Error::from(e)))
        })?;
        let version = Arc::new(Version {
            stats: self.metrics.candidate_stats(&slot.id, sha256),
            ..version
        });
        self.instantiate_once(slot, &version).await?;
        self.smoke(slot, &version).await?;
        Ok((version, bytes))
    }

    /// Fleet mode: makes `sha256`, which the fleet's record names as the active
    /// version, serve here too, after the checks an upload gets (the previous
    /// version, already checked here, is taken back as it is). Records nothing:
    /// the record already says so. `fetch` gives the bytes when they are needed.
    pub async fn follow(
        &self,
        name: &str,
        sha256: &str,
        source: &str,
        fetch: impl Future<Output = anyhow::Result<Vec<u8>>>,
    ) -> Result<Followed, SwapError> {
        let slot = self.slot(name)?.clone();
        let _busy = self.busy.lock().await;
        if slot.active().sha256 == sha256 {
            return Ok(Followed::Already);
        }
        let version = match slot.previous().filter(|v| v.sha256 == sha256) {
            Some(previous) => previous,
            None => {
                let bytes = fetch.await.map_err(|e| {
                    rejected(
                        RejectReason::Io,
                        format!("cannot fetch the build from the fleet database: {e:#}"),
                    )
                })?;
                match self
                    .candidate(&slot, bytes, sha256, PathBuf::from(source))
                    .await
                {
                    Ok((version, _)) => version,
                    Err(e) => {
                        if let SwapError::Rejected { reason, .. } = &e {
                            self.metrics.swap_rejected(name, *reason);
                        }
                        return Err(e);
                    }
                }
            }
        };
        self.metrics.adopt(&slot.id, sha256, version.stats.clone());
        slot.activate(version);
        self.metrics.swap_accepted(name);
        Ok(Followed::Switched)
    }

    /// The source sha the record holds, or (first swap) the active version's.
    fn last_source_sha(&self, store: &VersionStore, name: &str, active: &Version) -> String {
        store
            .load(name)
            .map(|r| r.source_sha256)
            .unwrap_or_else(|| active.sha256.clone())
    }

    async fn note_source(&self, name: &str, sha256: &str) {
        match &self.record {
            Record::Disk(store) => {
                let Some(mut record) = store.load(name) else {
                    return;
                };
                if record.source_sha256 != sha256 {
                    record.source_sha256 = sha256.to_owned();
                    if let Err(e) = store.save(name, &record) {
                        tracing::warn!(component = name, error = %format!("{e:#}"), "cannot record the source file's hash");
                    }
                }
            }
            Record::Fleet(fleet) => {
                if let Err(e) = fleet.note_source(name, sha256).await {
                    tracing::warn!(component = name, error = %format!("{e:#}"), "cannot record the source file's hash in the fleet database");
                }
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
        let mut store = new_store(
            self.runtime.engine(),
            &self.app.capabilities,
            &slot.grants,
            &self.limits,
        );
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
            Ok(Ok((status, body))) if status.is_server_error() => {
                let excerpt: String = String::from_utf8_lossy(&body)
                    .chars()
                    .take(SMOKE_BODY_EXCERPT)
                    .collect();
                Err(rejected(
                    RejectReason::SmokeStatus,
                    format!(
                        "smoke request GET {path} answered {}: {excerpt}",
                        status.as_u16()
                    ),
                ))
            }
            Ok(Ok(_)) => Ok(()),
        }
    }

    async fn smoke_request(
        &self,
        path: &str,
        token: &str,
    ) -> anyhow::Result<(http::StatusCode, Bytes)> {
        let request = http::Request::get(path)
            .header(http::header::HOST, self.listener.to_string())
            .header(SMOKE_HEADER, token)
            .header("user-agent", "tracker-host-smoke")
            .body(Full::default())?;
        crate::client::send(self.listener, request).await
    }

    /// Makes the previous version active again (and the current one previous).
    pub async fn rollback(&self, name: &str) -> Result<Outcome, SwapError> {
        let started = Instant::now();
        let slot = self.slot(name)?.clone();
        let _busy = self.busy.lock().await;
        let active = slot.active();
        let (previous, replaced) = match &self.record {
            Record::Disk(store) => {
                let previous = slot
                    .previous()
                    .ok_or_else(|| SwapError::NoPrevious(name.to_owned()))?;
                let record = SlotRecord {
                    active: previous.sha256.clone(),
                    active_source: previous.source.display().to_string(),
                    previous: Some(active.sha256.clone()),
                    previous_source: Some(active.source.display().to_string()),
                    source_sha256: self.last_source_sha(store, name, &active),
                };
                store.save(name, &record).map_err(SwapError::Persist)?;
                (previous, Some(active.sha256.clone()))
            }
            Record::Fleet(fleet) => self.fleet_rollback(fleet, &slot).await?,
        };
        if previous.sha256 != active.sha256 {
            slot.activate(previous.clone());
        }
        self.metrics.rolled_back(name);
        tracing::info!(component = name, sha256 = %previous.sha256, replaced = %active.sha256, "rolled back");
        Ok(Outcome {
            component: name.to_owned(),
            sha256: previous.sha256.clone(),
            previous: replaced,
            unchanged: false,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Fleet mode: the fleet's previous version (not necessarily this replica's)
    /// becomes active: checked here first unless this replica already has it,
    /// then recorded and announced. Returns it and the version it replaced.
    async fn fleet_rollback(
        &self,
        fleet: &Fleet,
        slot: &Arc<Slot>,
    ) -> Result<(Arc<Version>, Option<String>), SwapError> {
        let name = slot.id.as_str();
        let record = fleet.record(name).await.map_err(SwapError::Persist)?;
        let Some((target, target_source)) = record.and_then(|r| {
            let source = r.previous_source.unwrap_or_default();
            r.previous.map(|p| (p, source))
        }) else {
            return Err(SwapError::NoPrevious(name.to_owned()));
        };
        let known = [slot.previous(), Some(slot.active())]
            .into_iter()
            .flatten()
            .find(|v| v.sha256 == target);
        let version = match known {
            Some(version) => version,
            None => {
                let bytes = fleet.build(&target).await.map_err(SwapError::Persist)?;
                let checked = self
                    .candidate(slot, bytes, &target, PathBuf::from(&target_source))
                    .await;
                match checked {
                    Ok((version, _)) => version,
                    Err(e) => {
                        if let SwapError::Rejected { reason, .. } = &e {
                            self.metrics.swap_rejected(name, *reason);
                        }
                        return Err(e);
                    }
                }
            }
        };
        let replaced = fleet
            .commit(name, &target, &target_source, None)
            .await
            .map_err(SwapError::Persist)?;
        self.metrics.adopt(name, &target, version.stats.clone());
        Ok((version, replaced))
    }
}

/// Each component's smoke-test path: `/health` where it serves it, else its first
/// route's base.
fn smoke_paths(triggers: &[HttpTrigger]) -> BTreeMap<String, String> {
    let mut paths = BTreeMap::new();
    for trigger in triggers {
        let Some(route) = &trigger.route else {
            continue;
        };
        let base = match route.pattern.base() {
            "" => "/",
            base => base,
        };
        if base == "/health" {
            paths.insert(trigger.component.clone(), base.to_owned());
        } else {
            paths
                .entry(trigger.component.clone())
                .or_insert_with(|| base.to_owned());
        }
    }
    paths
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
