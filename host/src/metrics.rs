//! The Prometheus registry: per-version request counters and latency histograms
//! (atomics only on the request path), hot-swap outcomes, and the text exposition.
//!
//! Series are keyed by component and version (sha256): versions are few (each one
//! someone deployed), so the cardinality stays small.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds (seconds) of the latency and instantiation histograms.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];
/// HTTP status codes are 100..=599; an index per code keeps counting to one atomic add.
const STATUS_CODES: usize = 600;

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

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (i, le) in BUCKETS.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
        }
        cumulative += self.counts[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
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

#[derive(Default)]
struct SwapCounts {
    accepted: BTreeMap<String, u64>,
    rejected: BTreeMap<(String, RejectReason), u64>,
    rollbacks: BTreeMap<String, u64>,
}

/// Everything `/-/metrics` reports. Locks are taken on swaps and scrapes only.
#[derive(Default)]
pub struct Registry {
    /// (component, sha256) -> stats, shared with every `Version` of that build.
    versions: Mutex<BTreeMap<(String, String), Arc<VersionStats>>>,
    swaps: Mutex<SwapCounts>,
    /// Requests no route matched.
    pub unrouted: AtomicU64,
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
        let mut swaps = self.swaps.lock().unwrap_or_else(PoisonError::into_inner);
        *swaps.accepted.entry(component.to_owned()).or_default() += 1;
    }

    pub fn swap_rejected(&self, component: &str, reason: RejectReason) {
        let mut swaps = self.swaps.lock().unwrap_or_else(PoisonError::into_inner);
        *swaps
            .rejected
            .entry((component.to_owned(), reason))
            .or_default() += 1;
    }

    pub fn rolled_back(&self, component: &str) {
        let mut swaps = self.swaps.lock().unwrap_or_else(PoisonError::into_inner);
        *swaps.rollbacks.entry(component.to_owned()).or_default() += 1;
    }

    /// The Prometheus text exposition (format 0.0.4); `active` lists each
    /// component's active sha256.
    pub fn render(&self, active: &[(String, String)]) -> String {
        let mut out = String::new();
        let versions: Vec<_> = {
            let versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
            versions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };

        out.push_str("# HELP tracker_requests_total HTTP requests served, by component, status and version.\n# TYPE tracker_requests_total counter\n");
        for ((component, sha), stats) in &versions {
            for (code, count) in stats.statuses.iter().enumerate() {
                let n = count.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "tracker_requests_total{{component=\"{}\",status=\"{code}\",version=\"{}\"}} {n}",
                        escape(component),
                        short(sha)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP tracker_unrouted_requests_total Requests no route matched.\n# TYPE tracker_unrouted_requests_total counter\ntracker_unrouted_requests_total {}",
            self.unrouted.load(Ordering::Relaxed)
        );

        out.push_str("# HELP tracker_request_duration_seconds Time from request arrival to response head.\n# TYPE tracker_request_duration_seconds histogram\n");
        for ((component, sha), stats) in &versions {
            let labels = format!(
                "component=\"{}\",version=\"{}\"",
                escape(component),
                short(sha)
            );
            stats
                .latency
                .write(&mut out, "tracker_request_duration_seconds", &labels);
        }
        out.push_str("# HELP tracker_instantiation_duration_seconds Time to instantiate a component for one request.\n# TYPE tracker_instantiation_duration_seconds histogram\n");
        for ((component, sha), stats) in &versions {
            let labels = format!(
                "component=\"{}\",version=\"{}\"",
                escape(component),
                short(sha)
            );
            stats
                .instantiation
                .write(&mut out, "tracker_instantiation_duration_seconds", &labels);
        }

        {
            let swaps = self.swaps.lock().unwrap_or_else(PoisonError::into_inner);
            out.push_str("# HELP tracker_swaps_accepted_total New versions that passed every check and became active.\n# TYPE tracker_swaps_accepted_total counter\n");
            for (component, n) in &swaps.accepted {
                let _ = writeln!(
                    out,
                    "tracker_swaps_accepted_total{{component=\"{}\"}} {n}",
                    escape(component)
                );
            }
            out.push_str("# HELP tracker_swaps_rejected_total New versions refused, by reason.\n# TYPE tracker_swaps_rejected_total counter\n");
            for ((component, reason), n) in &swaps.rejected {
                let _ = writeln!(
                    out,
                    "tracker_swaps_rejected_total{{component=\"{}\",reason=\"{}\"}} {n}",
                    escape(component),
                    reason.label()
                );
            }
            out.push_str("# HELP tracker_rollbacks_total Rollbacks to the previous version.\n# TYPE tracker_rollbacks_total counter\n");
            for (component, n) in &swaps.rollbacks {
                let _ = writeln!(
                    out,
                    "tracker_rollbacks_total{{component=\"{}\"}} {n}",
                    escape(component)
                );
            }
        }

        self.connections.render(&mut out);

        out.push_str("# HELP tracker_component_info The version each component serves now.\n# TYPE tracker_component_info gauge\n");
        for (component, sha) in active {
            let _ = writeln!(
                out,
                "tracker_component_info{{component=\"{}\",sha256=\"{sha}\"}} 1",
                escape(component)
            );
        }
        out
    }
}

/// The version label: the sha256's first 12 hex digits (as `GET /-/components` shows).
pub fn short(sha256: &str) -> &str {
    sha256.get(..12).unwrap_or(sha256)
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
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
