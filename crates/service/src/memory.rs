//! The storeless baseline: in-memory rate, quota and chain, nothing durable.
//! For benchmarks and trials only; `serve` prints a warning when it is used.

use std::sync::Mutex;

use waybill_redact::{AuditChain, AuditEvent, AuditRecord, ReplayGuard, Revocation};

use crate::error::StoreError;
use crate::revocation_log::{change_events, RevocationChange};
use crate::store::{
    now_ms, BoxFuture, Claim, Counters, Decision, RateParams, ResolverStore, Undelivered,
};

/// Memory-only state.
pub struct MemoryStore {
    rate: RateParams,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    counters: Counters,
    chain: AuditChain,
    revocations: Vec<Revocation>,
    /// The chain's revocation records (the other records are not kept).
    revocation_records: Vec<AuditRecord>,
}

impl State {
    /// Changes the set and appends the change's records under one lock: the
    /// memory store's transaction.
    fn change(&mut self, change: &RevocationChange) {
        for event in change_events([change]) {
            let record = self.chain.append(&event);
            self.revocation_records.push(record);
        }
        if change.lifted {
            self.revocations.retain(|r| !change.list.contains(r));
        } else {
            for r in &change.list {
                if !self.revocations.contains(r) {
                    self.revocations.push(r.clone());
                }
            }
        }
    }
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
        let d = state.counters.decide(&claim, self.rate);
        Box::pin(async move { Ok(d) })
    }

    fn admit(&self, guard: ReplayGuard) -> BoxFuture<'_, Result<bool, StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let admitted = state.counters.admit(&guard, now_ms());
        Box::pin(async move { Ok(admitted) })
    }

    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<u64, StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let seq = state.chain.append(&event).seq;
        Box::pin(async move { Ok(seq) })
    }

    fn undelivered(&self, u: Undelivered) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.counters.refund(u.grant);
        if let Some(record) = &u.record {
            state.chain.append(record);
        }
        Box::pin(async { Ok(()) })
    }

    fn revoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.change(&RevocationChange::new(revocations, false));
        Box::pin(async { Ok(()) })
    }

    fn unrevoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.change(&RevocationChange::new(revocations, true));
        Box::pin(async { Ok(()) })
    }

    fn revocation_records(&self) -> BoxFuture<'_, Result<Vec<AuditRecord>, StoreError>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let records = state.revocation_records.clone();
        Box::pin(async move { Ok(records) })
    }

    fn restore_revocations(&self, list: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for r in list {
            if !state.revocations.contains(&r) {
                state.revocations.push(r);
            }
        }
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

    fn cosign(
        &self,
        _: String,
        _: u64,
        _: String,
        _: String,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn export(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}
