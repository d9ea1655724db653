//! The nonces a resolver has seen within its request window, so a captured
//! device-signed request cannot be replayed. In memory, for one resolver; the
//! service keeps them in its shared store instead.

use std::collections::HashMap;
use std::sync::Mutex;

use super::attempt::ReplayGuard;

/// Nonces held before expired ones are swept.
const SWEEP_AT: usize = 65_536;

/// Seen nonces and when each may be forgotten (unix seconds).
#[derive(Debug, Default)]
pub(crate) struct NonceCache {
    seen: Mutex<HashMap<[u8; 16], u64>>,
}

impl NonceCache {
    /// Records the guard's nonce; `false` when it was seen and is still live.
    pub(crate) fn admit(&self, guard: &ReplayGuard, now: u64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= SWEEP_AT {
            seen.retain(|_, until| *until > now);
        }
        match seen.get(&guard.nonce) {
            Some(until) if *until > now => false,
            _ => {
                seen.insert(guard.nonce, guard.keep_until);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GrantId;

    #[test]
    fn a_nonce_is_admitted_once_while_it_is_live() {
        let cache = NonceCache::default();
        let guard = ReplayGuard {
            grant: GrantId::from_bytes([1; 16]),
            nonce: [9; 16],
            keep_until: 1_000,
        };
        assert!(cache.admit(&guard, 900));
        assert!(!cache.admit(&guard, 999));
        let other = ReplayGuard {
            nonce: [8; 16],
            ..guard
        };
        assert!(cache.admit(&other, 999));
        // After its window no request with that nonce can be fresh anyway.
        assert!(cache.admit(&guard, 1_000));
    }
}
