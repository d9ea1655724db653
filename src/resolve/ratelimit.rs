//! Rate limiting per courier and quotas per grant.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Mutex;

use super::audit::consumed_uses;
use crate::error::AuditError;
use crate::{Grant, GrantId};

/// Why a rate limiter refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The courier sent too many requests too fast; retry later.
    Rate,
    /// The grant's quota is used up.
    Quota,
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

#[derive(Debug, Default)]
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
            // Quota u32::MAX: replayed uses always count, even past today's quota.
            let _ = self.take(&u.courier, u.grant, u32::MAX, u64::MAX, u.time);
        }
        Ok(u64::try_from(uses.len()).unwrap_or(u64::MAX))
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
