//! The instance's metrics, kept in a `prometheus-client` registry and served
//! at `/metrics` in the OpenMetrics text format: answers by outcome and
//! refusals by reason, latency per route, store commits (latency, size), the
//! audit queue, batch sizes, the witness's lag, the process (`process_*`,
//! read from `/proc/self`) and the build.
//!
//! Every label value is a fixed name (an outcome, an audit reason or an
//! answer's code, a route's template, a status): never a token, a grant or a
//! disclosed field.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::witness_client::WitnessStatus;

/// Latency buckets, seconds: 250 µs to 2 s.
const LATENCY: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.512, 2.0,
];

/// Size buckets (tokens in a batch, jobs in a commit).
const SIZES: [f64; 9] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];

/// After a failed commit, `/readyz` fails for this long unless a commit
/// succeeds first.
pub const COMMIT_RETRY_MS: u64 = 5_000;

fn committing(ok_ms: u64, failed_ms: u64, now_ms: u64) -> bool {
    failed_ms == 0 || ok_ms >= failed_ms || now_ms.saturating_sub(failed_ms) > COMMIT_RETRY_MS
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Outcomes counted in `waybill_resolve_requests_total`.
pub const OUTCOMES: [&str; 7] = [
    "allowed",
    "denied",
    "malformed",
    "rate_limited",
    "quota_exceeded",
    "store_unavailable",
    "suppressed",
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// A route's template (`/app/{file}`, never the path asked for) and the
/// answer's status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY)
}

/// Every metric of one instance.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<OutcomeLabel, Counter>,
    refusals: Family<ReasonLabel, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    commit: Histogram,
    commit_size: Histogram,
    commits: Counter,
    commit_jobs: Counter,
    batch_size: Histogram,
    /// Requests under a bearer grant (bound to no device) that passed the grant
    /// checks: what a carrier still migrating watches fall to zero.
    pub bearer_requests: Counter,
    /// Jobs waiting for the store's writer.
    pub queue_depth: Arc<AtomicUsize>,
    sampled: Arc<Sampled>,
    /// Unix ms of the last commit that succeeded, and of the last that failed
    /// (0: none yet), for `/readyz`.
    last_commit_ok_ms: AtomicU64,
    last_commit_failed_ms: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<OutcomeLabel, Counter>::default();
        for outcome in OUTCOMES {
            let _ = requests.get_or_create(&OutcomeLabel { outcome });
        }
        registry.register(
            "waybill_resolve_requests",
            "Tokens answered, by outcome",
            requests.clone(),
        );
        let refusals = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "waybill_refusals",
            "Refused tokens, by reason (the audit's reason, or the answer's code where nothing was audited; suppressed: past the per-client allowance)",
            refusals.clone(),
        );
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "waybill_request_duration",
            "HTTP request latency, by route template and status",
            Unit::Seconds,
            latency.clone(),
        );
        let commit = latency_histogram();
        registry.register_with_unit(
            "waybill_store_commit_duration",
            "Store writer commit latency (one batch)",
            Unit::Seconds,
            commit.clone(),
        );
        let commit_size = Histogram::new(SIZES);
        registry.register(
            "waybill_store_commit_jobs",
            "Jobs (claims and audit records) per store commit",
            commit_size.clone(),
        );
        let commits = Counter::default();
        registry.register("waybill_store_commits", "Store commits", commits.clone());
        let commit_jobs = Counter::default();
        registry.register(
            "waybill_store_committed_jobs",
            "Jobs (claims and audit records) committed",
            commit_jobs.clone(),
        );
        let batch_size = Histogram::new(SIZES);
        registry.register(
            "waybill_resolve_batch_tokens",
            "Tokens per POST /v1/resolve/batch request",
            batch_size.clone(),
        );
        let bearer_requests = Counter::default();
        registry.register(
            "waybill_bearer_grant_requests",
            "Requests admitted under bearer grants (bound to no device)",
            bearer_requests.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register(
            "waybill_build_info",
            "The running build: always 1, its version in a label",
            build,
        );
        let queue_depth = Arc::new(AtomicUsize::new(0));
        let sampled = Arc::new(Sampled {
            queue_depth: queue_depth.clone(),
            witness: OnceLock::new(),
        });
        registry.register_collector(Box::new(sampled.clone()));
        registry.register_collector(Box::new(crate::process::ProcessCollector));
        Self {
            registry,
            requests,
            refusals,
            latency,
            commit,
            commit_size,
            commits,
            commit_jobs,
            batch_size,
            bearer_requests,
            queue_depth,
            sampled,
            last_commit_ok_ms: AtomicU64::new(0),
            last_commit_failed_ms: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one answered token by outcome (one of [`OUTCOMES`]).
    pub fn count(&self, outcome: &str) {
        if let Some(outcome) = OUTCOMES.iter().find(|o| **o == outcome) {
            self.requests.get_or_create(&OutcomeLabel { outcome }).inc();
        }
    }

    /// How many answers had this outcome.
    pub fn counted(&self, outcome: &str) -> u64 {
        OUTCOMES
            .iter()
            .find(|o| **o == outcome)
            .map_or(0, |outcome| {
                self.requests.get_or_create(&OutcomeLabel { outcome }).get()
            })
    }

    /// Counts one refused token under its reason.
    pub fn refused(&self, reason: &'static str) {
        let reason = if reason.is_empty() { "unknown" } else { reason };
        self.refusals.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// Records one HTTP request's latency under its route's template
    /// (`None`: no route matched).
    pub fn observe_request(&self, route: Option<&str>, status: u16, d: Duration) {
        let labels = RouteLabels {
            route: route.unwrap_or("unmatched").to_owned(),
            status,
        };
        self.latency.get_or_create(&labels).observe(d.as_secs_f64());
    }

    /// Records how many tokens one batch request held.
    pub fn observe_batch(&self, tokens: usize) {
        self.batch_size.observe(tokens as f64);
    }

    /// Records one store commit, how many jobs it carried and whether it
    /// succeeded.
    pub fn observe_commit(&self, d: Duration, jobs: usize, ok: bool) {
        let now = now_ms();
        if ok {
            self.last_commit_ok_ms.store(now, Ordering::Relaxed);
        } else {
            self.last_commit_failed_ms.store(now, Ordering::Relaxed);
        }
        self.commit.observe(d.as_secs_f64());
        self.commit_size.observe(jobs as f64);
        self.commits.inc();
        self.commit_jobs
            .inc_by(u64::try_from(jobs).unwrap_or(u64::MAX));
    }

    /// Whether the store commits, as far as its writers last saw: not while
    /// the last commit failed, until one succeeds or `COMMIT_RETRY_MS` (5 s) passed
    /// (then a few requests try again, so an instance that no load balancer
    /// sends traffic to still finds out that the store is back).
    pub fn store_committing(&self) -> bool {
        committing(
            self.last_commit_ok_ms.load(Ordering::Relaxed),
            self.last_commit_failed_ms.load(Ordering::Relaxed),
            now_ms(),
        )
    }

    /// Adds the witness's lag (`waybill_audit_unwitnessed_seconds`,
    /// `waybill_audit_cosigned_total`) to the metrics. Called once, at start.
    pub fn watch_witness(&self, witness: Arc<WitnessStatus>) {
        let _ = self.sampled.witness.set(witness);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Values read when scraped: the audit queue and the witness.
#[derive(Debug)]
struct Sampled {
    queue_depth: Arc<AtomicUsize>,
    witness: OnceLock<Arc<WitnessStatus>>,
}

impl Collector for Sampled {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let depth = ConstGauge::new(
            i64::try_from(self.queue_depth.load(Ordering::Relaxed)).unwrap_or(i64::MAX),
        );
        depth.encode(encoder.encode_descriptor(
            "waybill_audit_queue_depth",
            "Jobs waiting for the store writer",
            None,
            depth.metric_type(),
        )?)?;
        if let Some(w) = self.witness.get() {
            let lag = ConstGauge::new(i64::try_from(w.unwitnessed_secs()).unwrap_or(i64::MAX));
            lag.encode(encoder.encode_descriptor(
                "waybill_audit_unwitnessed",
                "How long the latest audit checkpoint has waited for a witness cosignature",
                Some(&Unit::Seconds),
                lag.metric_type(),
            )?)?;
            let cosigned = ConstCounter::new(w.cosigned());
            cosigned.encode(encoder.encode_descriptor(
                "waybill_audit_cosigned",
                "Audit checkpoints cosigned by a witness since start",
                None,
                cosigned.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_ready_after_a_failed_commit_until_one_succeeds_or_the_retry_time() {
        assert!(committing(0, 0, 1_000), "no commit yet");
        assert!(committing(900, 0, 1_000));
        assert!(!committing(900, 950, 1_000), "the last commit failed");
        assert!(
            !committing(0, 950, 950 + COMMIT_RETRY_MS),
            "still within the retry time"
        );
        assert!(committing(0, 950, 951 + COMMIT_RETRY_MS), "retry after it");
        assert!(committing(960, 950, 1_000), "a later commit succeeded");
        let m = Metrics::default();
        assert!(m.store_committing());
        m.observe_commit(Duration::from_millis(1), 1, false);
        assert!(!m.store_committing());
        m.observe_commit(Duration::from_millis(1), 1, true);
        assert!(m.store_committing());
    }
}
