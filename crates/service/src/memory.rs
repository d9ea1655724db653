//! The storeless baseline: in-memory rate, quota and chain, nothing durable.
//! For benchmarks and trials only; `serve` prints a warning when it is used.

use std::sync::Mutex;

use waybill_redact::{AuditChain, AuditEvent, Revocation};

use crate::error::StoreError;
use crate::store::{decide, BoxFuture, Claim, Decision, RateParams, ResolverStore};

/// Memory-only state.
pub struct MemoryStore {
    rate: RateParams,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Courier → theoretical arrival time (ms).
    tat: std::collections::HashMap<String, i64>,
    /// Grant → uses.
    used: std::collections::HashMap<waybill_redact::GrantId, u32>,
    chain: AuditChain,
    revocations: Vec<Revocation>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new(rate: RateParams) -> Self {
        Self {
            rate,
            state: Mutex::default(),
        }
    }
}

impl ResolverStore for MemoryStore {
    fn acquire(&self, claim: Claim) -> BoxFuture<'_, Result<Decision, StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = i64::try_from(claim.now_ms).unwrap_or(i64::MAX);
        let rate = self.rate;
        let st = &mut *state;
        let d = decide::<StoreError>(
            std::slice::from_ref(&claim),
            |couriers| {
                Ok(couriers
                    .iter()
                    .map(|(c, n)| {
                        let tat = st.tat.entry(c.clone()).or_insert(now);
                        let base = (*tat).max(now);
                        let room = now + rate.tolerance_ms - base;
                        let k = if room < 0 {
                            0
                        } else {
                            (room / rate.interval_ms + 1).min(i64::from(*n))
                        };
                        *tat = base + k * rate.interval_ms;
                        u32::try_from(k).unwrap_or(0)
                    })
                    .collect())
            },
            |grants| {
                Ok(grants
                    .iter()
                    .map(|(g, n, quota, _)| {
                        let used = st.used.entry(*g).or_insert(0);
                        let k = (*n).min(quota.saturating_sub(*used));
                        *used += k;
                        k
                    })
                    .collect())
            },
        );
        let d = d.map(|v| v.into_iter().next().unwrap_or(Ok(())));
        Box::pin(async move { d })
    }

    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.chain.append(&event);
        Box::pin(async { Ok(()) })
    }

    fn revoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.revocations.extend(revocations);
        Box::pin(async { Ok(()) })
    }

    fn revocations(&self) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let r = state.revocations.clone();
        Box::pin(async move { Ok(r) })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn export(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}
