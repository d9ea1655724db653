//! Rate limiting per courier and quotas per grant.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::audit::{consumed_uses, Use};
use crate::resolve::AuditError;
use crate::{Grant, GrantId};

/// Why a rate limiter refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The courier sent too many requests too fast; retry later.
    Rate,
    /// The grant's quota is used up.
    Quota,
    /// A store's claim carried a device-signed request's nonce that was seen
    /// before: a replay (see [`ReplayGuard`](crate::ReplayGuard)).
    Replayed,
}

/// Decides whether a courier may resolve one more token now.
///
/// The built-in [`TokenBucket`] keeps its state in memory. When several resolver
/// instances run behind a load balancer, implement this over a shared store
/// (Redis and the like).
pub trait RateLimiter: Send + Sync {
    /// Takes one request from the grant's courier bucket and from the grant's
    /// quota, or refuses without taking anything. `now` is unix seconds.
    ///
    /// # Errors
    /// [`Limit::Quota`] when the grant's quota is used up, [`Limit::Rate`] when
    /// the courier's bucket is empty.
    fn acquire(&self, grant: &Grant, now: u64) -> Result<(), Limit>;
}

/// An in-memory token bucket per courier plus a use counter per grant.
///
/// Each courier's bucket holds up to `burst` requests and refills at `per_minute`
/// requests a minute.
#[derive(Debug)]
pub struct TokenBucket {
    burst: u32,
    per_minute: u32,
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone)]
struct State {
    /// Courier id → (available requests in milli-units, last refill time).
    buckets: HashMap<String, (u64, u64)>,
    /// Grant id → (uses, grant expiry), so that expired grants can be forgotten.
    used: HashMap<GrantId, (u32, u64)>,
}

impl Default for TokenBucket {
    /// A burst of 30 and 60 requests a minute.
    fn default() -> Self {
        Self::new(30, 60)
    }
}

impl TokenBucket {
    /// A limiter with a burst size and a sustained rate per courier.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Self {
            burst,
            per_minute,
            state: Mutex::default(),
        }
    }
}

/// Entries above which expired grants are swept from the quota table.
const SWEEP_AT: usize = 4096;

impl TokenBucket {
    /// Replays the quota and rate use recorded in an audit log, so that a restarted
    /// resolver (or a one-shot command) does not hand out a grant's quota again.
    /// Attempts that passed the rate limit count: allowed ones, and those denied
    /// later as unopenable. Returns the number of attempts replayed.
    ///
    /// # Errors
    /// [`AuditError`] when the log cannot be read or its chain is broken: do not
    /// serve from a log that may have had records removed.
    pub fn restore_from_audit(&self, log: impl BufRead) -> Result<u64, AuditError> {
        let uses = consumed_uses(log)?;
        for u in &uses {
            self.replay(u);
        }
        Ok(u64::try_from(uses.len()).unwrap_or(u64::MAX))
    }

    /// Counts one attempt found in a log.
    pub(crate) fn replay(&self, u: &Use) {
        // Quota u32::MAX: replayed uses always count, even past today's quota.
        let _ = self.take(&u.courier, u.grant, u32::MAX, u64::MAX, u.time);
    }

    /// The counters, for the state file beside a log.
    pub(crate) fn to_saved(&self) -> SavedCounters {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut couriers: Vec<_> = state
            .buckets
            .iter()
            .map(|(id, &(level, last))| (id.clone(), level, last))
            .collect();
        couriers.sort_unstable();
        let mut grants: Vec<_> = state
            .used
            .iter()
            .map(|(id, &(uses, expiry))| (id.to_string(), uses, expiry))
            .collect();
        grants.sort_unstable();
        SavedCounters {
            burst: self.burst,
            per_minute: self.per_minute,
            couriers,
            grants,
        }
    }

    /// Replaces the counters with saved ones. Returns false, changing nothing,
    /// when they were counted under another burst or rate, or a grant id is not hex.
    pub(crate) fn restore_saved(&self, saved: &SavedCounters) -> bool {
        if (saved.burst, saved.per_minute) != (self.burst, self.per_minute) {
            return false;
        }
        let mut used = HashMap::with_capacity(saved.grants.len());
        for (id, uses, expiry) in &saved.grants {
            let Ok(id) = id.parse::<GrantId>() else {
                return false;
            };
            used.insert(id, (*uses, *expiry));
        }
        let buckets = saved
            .couriers
            .iter()
            .map(|(id, level, last)| (id.clone(), (*level, *last)))
            .collect();
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = State { buckets, used };
        true
    }

    /// A limiter with the same burst and rate, and no counts.
    pub(crate) fn empty_like(&self) -> Self {
        Self::new(self.burst, self.per_minute)
    }

    /// Makes `self` count from where `other` stands (same burst and rate).
    pub(crate) fn copy_counters_from(&self, other: &TokenBucket) {
        let copy = other
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = copy;
    }

    fn take(
        &self,
        courier: &str,
        grant: GrantId,
        quota: u32,
        expires_at: u64,
        now: u64,
    ) -> Result<(), Limit> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let used = state.used.get(&grant).map_or(0, |u| u.0);
        if used >= quota {
            return Err(Limit::Quota);
        }
        let full = u64::from(self.burst) * 1000;
        let bucket = state
            .buckets
            .entry(courier.to_owned())
            .or_insert((full, now));
        // Refill in thousandths of a request per second elapsed.
        let elapsed = now.saturating_sub(bucket.1);
        let refill = elapsed
            .saturating_mul(u64::from(self.per_minute))
            .saturating_mul(1000)
            / 60;
        bucket.0 = bucket.0.saturating_add(refill).min(full);
        if now > bucket.1 {
            bucket.1 = now;
        }
        if bucket.0 < 1000 {
            return Err(Limit::Rate);
        }
        bucket.0 -= 1000;
        if state.used.len() >= SWEEP_AT {
            state.used.retain(|_, (_, expiry)| *expiry > now);
            state
                .buckets
                .retain(|_, (level, last)| *level < full || last.saturating_add(3600) > now);
        }
        let entry = state.used.entry(grant).or_insert((0, expires_at));
        entry.0 = entry.0.saturating_add(1);
        Ok(())
    }
}

/// A [`TokenBucket`]'s counters as the state file beside an audit log keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SavedCounters {
    burst: u32,
    per_minute: u32,
    /// Courier id, bucket level in thousandths of a request, last refill time.
    couriers: Vec<(String, u64, u64)>,
    /// Grant id in hex, uses, expiry.
    grants: Vec<(String, u32, u64)>,
}

impl RateLimiter for TokenBucket {
    fn acquire(&self, grant: &Grant, now: u64) -> Result<(), Limit> {
        self.take(
            grant.courier_id(),
            grant.id(),
            grant.quota(),
            grant.expires_at(),
            now,
        )
    }
}
