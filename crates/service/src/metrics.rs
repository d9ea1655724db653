//! Prometheus text metrics: requests by outcome, request latency, store commit
//! latency and batch size, audit queue depth. Kept as atomics, no registry.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Histogram bucket bounds, seconds.
const BOUNDS: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.512, 2.0,
];

/// A fixed-bucket histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BOUNDS.iter().position(|b| secs <= *b) {
            if let Some(b) = self.buckets.get(i) {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0u64;
        for (bound, bucket) in BOUNDS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

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

/// Every metric of one instance.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; 7],
    latency: Histogram,
    commit: Histogram,
    commit_jobs: AtomicU64,
    commits: AtomicU64,
    /// Jobs waiting for the store's writer.
    pub queue_depth: AtomicUsize,
    /// Unix ms of the last commit that succeeded, and of the last that failed
    /// (0: none yet), for `/readyz`.
    last_commit_ok_ms: AtomicU64,
    last_commit_failed_ms: AtomicU64,
    /// Requests under a bearer grant (bound to no device) that passed the grant
    /// checks: what a carrier still migrating watches fall to zero.
    pub bearer_requests: AtomicU64,
    /// Allowed answers whose record committed after their request was
    /// answered 503 (each followed by an "answer not delivered" record).
    undelivered: AtomicU64,
    /// Refused tokens by the audit reason (or the answer's code where nothing
    /// was audited): a fixed set of names.
    refusals: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Counts one answered token by outcome (one of [`OUTCOMES`]).
    pub fn count(&self, outcome: &str) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            if let Some(c) = self.requests.get(i) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// How many answers had this outcome.
    pub fn counted(&self, outcome: &str) -> u64 {
        OUTCOMES
            .iter()
            .position(|o| *o == outcome)
            .and_then(|i| self.requests.get(i))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Counts one refused token under its reason.
    pub fn refused(&self, reason: &'static str) {
        let reason = if reason.is_empty() { "unknown" } else { reason };
        let mut r = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        *r.entry(reason).or_default() += 1;
    }

    /// Counts "answer not delivered" records committed.
    pub fn count_undelivered(&self, n: usize) {
        self.undelivered
            .fetch_add(u64::try_from(n).unwrap_or(0), Ordering::Relaxed);
    }

    /// Records one HTTP request's latency.
    pub fn observe_request(&self, d: Duration) {
        self.latency.observe(d);
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
        self.commit.observe(d);
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.commit_jobs
            .fetch_add(u64::try_from(jobs).unwrap_or(0), Ordering::Relaxed);
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

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP waybill_resolve_requests_total Tokens answered, by outcome.\n");
        out.push_str("# TYPE waybill_resolve_requests_total counter\n");
        for (name, c) in OUTCOMES.iter().zip(&self.requests) {
            let _ = writeln!(
                out,
                "waybill_resolve_requests_total{{outcome=\"{name}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP waybill_refusals_total Refused tokens, by reason (the audit's reason; suppressed: past the per-client allowance, not audited).\n");
        out.push_str("# TYPE waybill_refusals_total counter\n");
        for (reason, n) in self
            .refusals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "waybill_refusals_total{{reason=\"{reason}\"}} {n}");
        }
        self.latency.write(
            &mut out,
            "waybill_request_duration_seconds",
            "HTTP resolve request latency.",
        );
        self.commit.write(
            &mut out,
            "waybill_store_commit_duration_seconds",
            "Store writer commit latency (one batch).",
        );
        let _ = writeln!(
            out,
            "# HELP waybill_store_commits_total Store commits.\n# TYPE waybill_store_commits_total counter\nwaybill_store_commits_total {}",
            self.commits.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP waybill_store_committed_jobs_total Jobs (claims and audit records) committed.\n# TYPE waybill_store_committed_jobs_total counter\nwaybill_store_committed_jobs_total {}",
            self.commit_jobs.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP waybill_audit_queue_depth Jobs waiting for the store writer.\n# TYPE waybill_audit_queue_depth gauge\nwaybill_audit_queue_depth {}",
            self.queue_depth.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP waybill_bearer_grant_requests_total Requests admitted under bearer grants (bound to no device).\n# TYPE waybill_bearer_grant_requests_total counter\nwaybill_bearer_grant_requests_total {}",
            self.bearer_requests.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP waybill_undelivered_answers_total Allowed answers committed after their request was answered 503 (recorded as not delivered, quota given back).\n# TYPE waybill_undelivered_answers_total counter\nwaybill_undelivered_answers_total {}",
            self.undelivered.load(Ordering::Relaxed)
        );
        out
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
