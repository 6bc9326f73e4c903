//! The metrics `/-/metrics` reports, in the Prometheus text format written by
//! `prometheus-client`.
//!
//! The request path only does atomic adds: each version holds its own counters
//! and histograms ([`VersionStats`]), which a collector reads at scrape time.
//! (prometheus-client's `Family` takes a lock for each lookup by label and its
//! `Histogram` a mutex for each observation; neither belongs on that path.)
//! Swap outcomes and unrouted requests are plain prometheus-client counters.
//!
//! Series are keyed by component and version (sha256): versions are few (each one
//! someone deployed), so the cardinality stays small.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the latency and instantiation histograms.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];
/// HTTP status codes are 100..=599; an index per code keeps counting to one atomic add.
const STATUS_CODES: usize = 600;

/// A histogram of durations that observes with atomic adds only.
pub struct Histogram {
    /// Per bucket (not cumulative); the last slot is +Inf.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_micros: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(BUCKETS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// (sum in seconds, count, per-bucket counts of the finite buckets), as
    /// prometheus-client takes them: it writes the `+Inf` bucket from the count.
    fn snapshot(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect();
        let buckets = BUCKETS
            .iter()
            .copied()
            .zip(counts.iter().copied())
            .collect();
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        (sum, counts.iter().sum(), buckets)
    }
}

/// What one version of one component has served.
pub struct VersionStats {
    statuses: [AtomicU64; STATUS_CODES],
    pub latency: Histogram,
    pub instantiation: Histogram,
}

impl Default for VersionStats {
    fn default() -> Self {
        Self {
            statuses: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: Histogram::default(),
            instantiation: Histogram::default(),
        }
    }
}

impl VersionStats {
    pub fn record(&self, status: u16, elapsed: Duration) {
        let i = usize::from(status).min(STATUS_CODES - 1);
        self.statuses[i].fetch_add(1, Ordering::Relaxed);
        self.latency.observe(elapsed);
    }

    pub fn requests(&self) -> u64 {
        self.statuses
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// Why a version was rejected: a fixed set, so the metric label stays small.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RejectReason {
    NotWasm,
    Compile,
    Link,
    Instantiate,
    SmokeStatus,
    SmokeTimeout,
    SmokeError,
    Io,
}

impl RejectReason {
    pub fn label(self) -> &'static str {
        match self {
            Self::NotWasm => "not_wasm",
            Self::Compile => "compile",
            Self::Link => "link",
            Self::Instantiate => "instantiate",
            Self::SmokeStatus => "smoke_status",
            Self::SmokeTimeout => "smoke_timeout",
            Self::SmokeError => "smoke_error",
            Self::Io => "io",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabel {
    component: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectLabels {
    component: String,
    reason: &'static str,
}

/// (component, sha256) -> stats, shared with every `Version` of that build.
type Versions = BTreeMap<(String, String), Arc<VersionStats>>;

/// Everything `/-/metrics` reports. Locks are taken on swaps and scrapes only.
#[derive(Default)]
pub struct Registry {
    versions: Mutex<Versions>,
    /// Requests no route matched.
    pub unrouted: Counter,
    swaps_accepted: Family<ComponentLabel, Counter>,
    swaps_rejected: Family<RejectLabels, Counter>,
    rollbacks: Family<ComponentLabel, Counter>,
    /// Connection limits of both listeners (`conn_limits`).
    pub connections: crate::conn_limits::ConnCounters,
}

impl Registry {
    /// The stats of `component`'s build `sha256`, shared by every load of that build
    /// (a rollback or a re-upload continues the same series).
    pub fn stats_for(&self, component: &str, sha256: &str) -> Arc<VersionStats> {
        let mut versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
        versions
            .entry((component.to_owned(), sha256.to_owned()))
            .or_default()
            .clone()
    }

    /// The stats an existing series of this build continues, or fresh ones not yet
    /// registered (a candidate that may be rejected must not leave a series behind).
    pub fn candidate_stats(&self, component: &str, sha256: &str) -> Arc<VersionStats> {
        let versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
        versions
            .get(&(component.to_owned(), sha256.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Registers the stats of a version loaded before the registry knew it.
    pub fn adopt(&self, component: &str, sha256: &str, stats: Arc<VersionStats>) {
        let mut versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
        versions
            .entry((component.to_owned(), sha256.to_owned()))
            .or_insert(stats);
    }

    pub fn swap_accepted(&self, component: &str) {
        self.swaps_accepted
            .get_or_create(&ComponentLabel {
                component: component.to_owned(),
            })
            .inc();
    }

    pub fn swap_rejected(&self, component: &str, reason: RejectReason) {
        self.swaps_rejected
            .get_or_create(&RejectLabels {
                component: component.to_owned(),
                reason: reason.label(),
            })
            .inc();
    }

    pub fn rolled_back(&self, component: &str) {
        self.rollbacks
            .get_or_create(&ComponentLabel {
                component: component.to_owned(),
            })
            .inc();
    }

    /// The Prometheus text exposition (format 0.0.4); `active` lists each
    /// component's active sha256.
    pub fn render(&self, active: &[(String, String)]) -> String {
        let versions = self
            .versions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register(
            "tracker_unrouted_requests",
            "Requests no route matched",
            self.unrouted.clone(),
        );
        registry.register(
            "tracker_swaps_accepted",
            "New versions that passed every check and became active",
            self.swaps_accepted.clone(),
        );
        registry.register(
            "tracker_swaps_rejected",
            "New versions refused, by reason",
            self.swaps_rejected.clone(),
        );
        registry.register(
            "tracker_rollbacks",
            "Rollbacks to the previous version",
            self.rollbacks.clone(),
        );
        registry.register_collector(Box::new(Scrape {
            versions,
            active: active.to_vec(),
        }));
        registry.register_collector(Box::new(self.connections.clone()));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }
}

/// What a scrape reads from the versions and the slots.
#[derive(Debug)]
struct Scrape {
    versions: Versions,
    active: Vec<(String, String)>,
}

impl std::fmt::Debug for VersionStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionStats")
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl Scrape {
    fn encode_histogram(
        &self,
        encoder: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        histogram: impl Fn(&VersionStats) -> &Histogram,
    ) -> std::fmt::Result {
        let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
        for ((component, sha), stats) in &self.versions {
            let labels = [("component", component.as_str()), ("version", short(sha))];
            let (sum, count, buckets) = histogram(stats).snapshot();
            metric
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)?;
        }
        Ok(())
    }
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let mut requests = encoder.encode_descriptor(
            "tracker_requests",
            "HTTP requests served, by component, status and version.",
            None,
            MetricType::Counter,
        )?;
        for ((component, sha), stats) in &self.versions {
            for (code, count) in stats.statuses.iter().enumerate() {
                let n = count.load(Ordering::Relaxed);
                if n > 0 {
                    let code = code.to_string();
                    let labels = [
                        ("component", component.as_str()),
                        ("status", code.as_str()),
                        ("version", short(sha)),
                    ];
                    requests
                        .encode_family(&labels)?
                        .encode_counter::<NoLabelSet, _, u64>(&n, None)?;
                }
            }
        }

        self.encode_histogram(
            &mut encoder,
            "tracker_request_duration_seconds",
            "Time from request arrival to response head.",
            |s| &s.latency,
        )?;
        self.encode_histogram(
            &mut encoder,
            "tracker_instantiation_duration_seconds",
            "Time to instantiate a component for one request.",
            |s| &s.instantiation,
        )?;

        let mut info = encoder.encode_descriptor(
            "tracker_component",
            "The version each component serves now.",
            None,
            MetricType::Info,
        )?;
        for (component, sha) in &self.active {
            info.encode_info(&[("component", component.as_str()), ("sha256", sha.as_str())])?;
        }
        Ok(())
    }
}

/// The version label: the sha256's first 12 hex digits (as `GET /-/components` shows).
pub fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_statuses_and_cumulates_buckets() {
        let registry = Registry::default();
        let stats = registry.stats_for("api", "abcdef0123456789");
        stats.record(200, Duration::from_millis(3));
        stats.record(200, Duration::from_millis(40));
        stats.record(503, Duration::from_secs(60));
        registry.swap_rejected("api", RejectReason::SmokeStatus);
        let text = registry.render(&[("api".into(), "abcdef0123456789".into())]);
        assert!(text.contains(
            "tracker_requests_total{component=\"api\",status=\"200\",version=\"abcdef012345\"} 2"
        ));
        assert!(text.contains("status=\"503\""));
        assert!(text.contains(
            "tracker_request_duration_seconds_bucket{component=\"api\",version=\"abcdef012345\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "tracker_request_duration_seconds_bucket{component=\"api\",version=\"abcdef012345\",le=\"+Inf\"} 3"
        ));
        assert!(
            text.contains(
                "tracker_swaps_rejected_total{component=\"api\",reason=\"smoke_status\"} 1"
            )
        );
        assert!(
            text.contains(
                "tracker_component_info{component=\"api\",sha256=\"abcdef0123456789\"} 1"
            )
        );
        assert_eq!(stats.requests(), 3);
    }
}
