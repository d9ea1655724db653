//! Refusals held back past a client's allowance still reach the audit log, as
//! summaries: one `suppressed` record per client address group per minute at
//! most (`docs/AUDIT.md`, "Record kinds"). The first refusal held back after a
//! quiet minute is written at once, so a burst shows when it began; the ones
//! after it are counted and written a minute later (by [`flush`]), or when the
//! service stops. No burst is invisible, and a flood adds one record a minute
//! per group.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use waybill_redact::AuditEvent;

use crate::store::ResolverStore;

/// One summary a minute per group at most.
const WINDOW_MS: u64 = 60_000;

/// Groups remembered at most; quiet ones are forgotten first.
const MAX_GROUPS: usize = 100_000;

#[derive(Debug, Default, Clone, Copy)]
struct Group {
    /// Refusals held back and not yet in a record.
    pending: u64,
    /// When the group's last summary was written, unix ms.
    written_ms: Option<u64>,
}

/// The refusals held back per client address group, not yet audited.
#[derive(Debug, Default)]
pub(crate) struct Suppressed {
    groups: Mutex<HashMap<IpAddr, Group>>,
}

/// The `client` text of a group: an IPv4 address, or an IPv6 /64
/// (`allowance_key` has cleared its host bits).
pub(crate) fn group_text(key: IpAddr) -> String {
    match key {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("{v6}/64"),
    }
}

impl Suppressed {
    /// Notes one refusal held back from group `key`; returns the count to
    /// write now, when the group's last summary is a minute old (or none).
    pub(crate) fn note(&self, key: IpAddr, now_ms: u64) -> Option<u64> {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if groups.len() >= MAX_GROUPS && !groups.contains_key(&key) {
            groups.retain(|_, g| g.pending > 0);
        }
        let g = groups.entry(key).or_default();
        g.pending = g.pending.saturating_add(1);
        let due = g
            .written_ms
            .is_none_or(|t| now_ms >= t.saturating_add(WINDOW_MS));
        due.then(|| {
            g.written_ms = Some(now_ms);
            std::mem::take(&mut g.pending)
        })
    }

    /// Takes the counts whose summary is due: of groups whose last summary is
    /// a minute old, or of every group with `all` (at shutdown). Forgets groups
    /// that have been quiet for a minute.
    pub(crate) fn due(&self, now_ms: u64, all: bool) -> Vec<(IpAddr, u64)> {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        groups.retain(|key, g| {
            let old = g
                .written_ms
                .is_none_or(|t| now_ms >= t.saturating_add(WINDOW_MS));
            if g.pending > 0 && (all || old) {
                out.push((*key, std::mem::take(&mut g.pending)));
                g.written_ms = Some(now_ms);
                return true;
            }
            g.pending > 0 || !old
        });
        out
    }

    /// Gives back a count whose record could not be written: it joins the
    /// group's next summary.
    pub(crate) fn give_back(&self, key: IpAddr, count: u64) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let g = groups.entry(key).or_default();
        g.pending = g.pending.saturating_add(count);
    }

    /// Writes one group's summary record; on a store error the count is
    /// given back.
    pub(crate) async fn write(&self, store: &dyn ResolverStore, key: IpAddr, count: u64) {
        let event = AuditEvent::suppressed(OffsetDateTime::now_utc(), group_text(key), count);
        if let Err(e) = store.append(event).await {
            crate::logline::store_error("append", &e);
            self.give_back(key, count);
        }
    }
}

/// Writes the summaries that are due, every few seconds, until aborted.
pub(crate) async fn flush(suppressed: Arc<Suppressed>, store: Arc<dyn ResolverStore>) {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        for (key, count) in suppressed.due(crate::store::now_ms(), false) {
            suppressed.write(store.as_ref(), key, count).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_summary_a_minute_per_group_and_nothing_lost() {
        let s = Suppressed::default();
        let a: IpAddr = "203.0.113.9".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::".parse().unwrap();
        assert_eq!(s.note(a, 1_000), Some(1), "the first is written at once");
        for i in 0..68 {
            assert_eq!(s.note(a, 2_000 + i), None);
        }
        assert_eq!(s.note(b, 3_000), Some(1), "each group on its own");
        assert!(s.due(30_000, false).is_empty(), "not a minute yet");
        assert_eq!(s.due(61_000, false), [(a, 68)]);
        assert!(s.due(62_000, false).is_empty());
        // After the flush, the next one waits a minute from it.
        assert_eq!(s.note(a, 63_000), None);
        s.give_back(a, 4);
        assert_eq!(s.due(64_000, true), [(a, 5)], "at shutdown, all");
        // Quiet groups are forgotten; a new burst is written at once.
        assert!(s.due(200_000, false).is_empty());
        assert_eq!(s.groups.lock().unwrap().len(), 0);
        assert_eq!(s.note(a, 200_001), Some(1));
        assert_eq!(group_text(b), "2001:db8:1:2::/64");
        assert_eq!(group_text(a), "203.0.113.9");
    }
}
