//! The store behind every resolver instance: revocations, per-grant quota
//! counters, per-courier rate buckets and the audit chain. One trait, three
//! backends: SQLite (one node), PostgreSQL (several), memory (benchmarks only).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use waybill_redact::{
    AuditEvent, AuditKey, AuditRecord, GrantId, Limit, QuotaClaim, ReplayGuard, Revocation,
};

use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::revocation_log::RevocationChange;

/// A boxed future, so that [`ResolverStore`] can be used as `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A store's answer to a rate and quota claim.
pub type Decision = Result<(), Limit>;

/// An owned rate and quota claim: what the store decides on atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The verified grant's courier.
    pub courier: String,
    /// The grant.
    pub grant: GrantId,
    /// The grant's total quota.
    pub quota: u32,
    /// The grant's expiry, unix seconds (counters are swept after it).
    pub grant_expires_at: u64,
    /// The resolver's time, unix milliseconds.
    pub now_ms: u64,
    /// A device-signed request's nonce, admitted once before the rate and quota
    /// (a replay takes neither); `None` for a bearer grant or a batch, whose
    /// nonce is admitted on its own ([`ResolverStore::admit`]).
    pub replay: Option<ReplayGuard>,
}

impl Claim {
    /// The claim for an attempt admitted so far, at its time.
    pub fn from_attempt(claim: QuotaClaim<'_>, now_ms: u64) -> Self {
        Self {
            courier: claim.grant.courier_id().to_owned(),
            grant: claim.grant.id(),
            quota: claim.grant.quota(),
            grant_expires_at: claim.grant.expires_at(),
            now_ms,
            replay: None,
        }
    }

    /// The same claim, also admitting a request's nonce.
    pub fn with_replay(mut self, replay: Option<ReplayGuard>) -> Self {
        self.replay = replay;
        self
    }
}

/// An answer decided but never sent (its request was answered 503 first):
/// its quota unit is given back and, when its allowed record was committed,
/// an "answer not delivered" record follows it, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    /// The grant whose quota unit is given back.
    pub grant: GrantId,
    /// The "answer not delivered" record, when an allowed record was committed.
    pub record: Option<AuditEvent>,
}

/// The per-courier rate: a burst and a sustained rate, as a GCRA (virtual
/// scheduling) bucket, so that one SQL update decides many requests at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateParams {
    /// Milliseconds between requests at the sustained rate (at least 1).
    pub interval_ms: i64,
    /// How far ahead of now the bucket may run: (burst − 1) × interval.
    pub tolerance_ms: i64,
}

impl RateParams {
    /// `burst` requests at once, `per_minute` sustained.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        let interval_ms = (60_000 / i64::from(per_minute.max(1))).max(1);
        Self {
            interval_ms,
            tolerance_ms: interval_ms.saturating_mul(i64::from(burst.max(1)) - 1),
        }
    }
}

/// What a resolver instance needs from its store. Every write goes through one
/// writer per store that commits whatever queued since its last commit.
pub trait ResolverStore: Send + Sync {
    /// Decides a claim atomically across instances: its nonce (a replay is
    /// [`Limit::Replayed`]), then rate, then quota.
    fn acquire(&self, claim: Claim) -> BoxFuture<'_, Result<Decision, StoreError>>;
    /// Admits a device-signed request's nonce once across instances: `false`
    /// for a nonce seen before and still live (a replay).
    fn admit(&self, guard: ReplayGuard) -> BoxFuture<'_, Result<bool, StoreError>>;
    /// Appends an audit record; resolves once it is durable, with the record's
    /// position in its chain. On an error an allowed record's quota unit is
    /// given back by the store (the answer was 503).
    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Gives an undelivered answer's quota unit back and appends its "answer
    /// not delivered" record, if any, in one transaction. Resolves once the
    /// writer has taken it: it retries until they are durable.
    fn undelivered(&self, undelivered: Undelivered) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Stores revocations durably, each with its `revoked` audit record, in
    /// one transaction.
    fn revoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Lifts revocations durably, each with its `unrevoked` audit record, in
    /// one transaction.
    fn unrevoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Every revocation in force.
    fn revocations(&self) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>>;
    /// Every `revoked` and `unrevoked` audit record of every chain, oldest
    /// first (by time, then instance and seq), each with an intact hash.
    fn revocation_records(&self) -> BoxFuture<'_, Result<Vec<AuditRecord>, StoreError>>;
    /// Puts back revocation rows that the audit log holds in force but the
    /// table lost, without new audit records (the log has them already).
    fn restore_revocations(
        &self,
        revocations: Vec<Revocation>,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Whether the store answers.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Stores a witness's cosignature line (`— name base64`) of the checkpoint
    /// of `instance` at tree size `size`.
    fn cosign(
        &self,
        instance: String,
        size: u64,
        witness: String,
        line: String,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Every chain as JSON lines (records in order, each checkpoint after the
    /// record it covers), chain after chain.
    fn export(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// Commits what is queued, signs a closing checkpoint, stops the writer.
    fn close(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// One unit of work for a writer.
pub(crate) enum Job {
    Acquire(Claim, oneshot::Sender<Result<Decision, StoreError>>),
    Admit(ReplayGuard, oneshot::Sender<Result<bool, StoreError>>),
    Append(AuditEvent, oneshot::Sender<Result<u64, StoreError>>),
    Undelivered(Undelivered, oneshot::Sender<Result<(), StoreError>>),
    Revoke(RevocationChange, oneshot::Sender<Result<(), StoreError>>),
    Close(oneshot::Sender<Result<(), StoreError>>),
}

/// The sending side of a writer's queue, counting its depth for `/metrics`.
#[derive(Clone)]
pub(crate) struct Queue {
    tx: mpsc::UnboundedSender<Job>,
    metrics: Arc<Metrics>,
}

/// Jobs a writer takes into one transaction at most.
pub(crate) const MAX_BATCH: usize = 8192;

impl Queue {
    pub(crate) fn new(metrics: Arc<Metrics>) -> (Self, mpsc::UnboundedReceiver<Job>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx, metrics }, rx)
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.metrics.queue_depth.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(make(tx)).is_err() {
            self.metrics.queue_depth.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::Closed);
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn acquire(&self, claim: Claim) -> Result<Decision, StoreError> {
        self.call(|tx| Job::Acquire(claim, tx)).await
    }

    pub(crate) async fn admit(&self, guard: ReplayGuard) -> Result<bool, StoreError> {
        self.call(|tx| Job::Admit(guard, tx)).await
    }

    pub(crate) async fn append(&self, event: AuditEvent) -> Result<u64, StoreError> {
        self.call(|tx| Job::Append(event, tx)).await
    }

    pub(crate) async fn undelivered(&self, u: Undelivered) -> Result<(), StoreError> {
        self.call(|tx| Job::Undelivered(u, tx)).await
    }

    pub(crate) async fn revoke(&self, change: RevocationChange) -> Result<(), StoreError> {
        self.call(|tx| Job::Revoke(change, tx)).await
    }

    pub(crate) async fn close(&self) -> Result<(), StoreError> {
        self.call(Job::Close).await
    }
}

/// Takes what has queued since the last commit: blocks for the first job only.
pub(crate) fn drain(
    first: Job,
    rx: &mut mpsc::UnboundedReceiver<Job>,
    depth: &AtomicUsize,
) -> Vec<Job> {
    let mut jobs = vec![first];
    while jobs.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    depth.fetch_sub(jobs.len(), Ordering::Relaxed);
    jobs
}

/// Where a writer answers a job.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A batch split by kind, in arrival order.
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) claims: Vec<(Claim, Reply<Decision>)>,
    pub(crate) admits: Vec<(ReplayGuard, Reply<bool>)>,
    pub(crate) events: Vec<(AuditEvent, Reply<u64>)>,
    pub(crate) undelivered: Vec<Undelivered>,
    pub(crate) revocations: Vec<(RevocationChange, Reply<()>)>,
    pub(crate) close: Vec<Reply<()>>,
}

impl Batch {
    pub(crate) fn new(jobs: Vec<Job>) -> Self {
        let mut b = Self::default();
        for job in jobs {
            match job {
                Job::Acquire(c, tx) => b.claims.push((c, tx)),
                Job::Admit(g, tx) => b.admits.push((g, tx)),
                Job::Append(e, tx) => b.events.push((e, tx)),
                Job::Undelivered(u, tx) => {
                    // Taken: the writer keeps it until it is durable.
                    let _ = tx.send(Ok(()));
                    b.undelivered.push(u);
                }
                Job::Revoke(r, tx) => b.revocations.push((r, tx)),
                Job::Close(tx) => b.close.push(tx),
            }
        }
        b
    }

    /// Answers every job with the same error (the transaction failed).
    pub(crate) fn fail(self, e: &StoreError) {
        for (_, tx) in self.claims {
            let _ = tx.send(Err(e.clone()));
        }
        for (_, tx) in self.admits {
            let _ = tx.send(Err(e.clone()));
        }
        for (_, tx) in self.events {
            let _ = tx.send(Err(e.clone()));
        }
        for (_, tx) in self.revocations {
            let _ = tx.send(Err(e.clone()));
        }
        for tx in self.close {
            let _ = tx.send(Err(e.clone()));
        }
    }

    /// Answers every job after a successful commit: the claims with
    /// `decisions`, the nonces with `admitted`, the records with `seqs` (their
    /// positions in the chain), in arrival order.
    pub(crate) fn succeed(self, decisions: Vec<Decision>, admitted: Vec<bool>, seqs: &[u64]) {
        for ((_, tx), d) in self.claims.into_iter().zip(decisions) {
            let _ = tx.send(Ok(d));
        }
        for ((_, tx), a) in self.admits.into_iter().zip(admitted) {
            let _ = tx.send(Ok(a));
        }
        for ((_, tx), seq) in self.events.into_iter().zip(seqs) {
            let _ = tx.send(Ok(*seq));
        }
        for (_, tx) in self.revocations {
            let _ = tx.send(Ok(()));
        }
        for tx in self.close {
            let _ = tx.send(Ok(()));
        }
    }
}

/// Counts per key, keys sorted (so that instances lock rows in one order).
pub(crate) fn tally<K: Ord + Clone>(keys: impl Iterator<Item = K>) -> Vec<(K, u32)> {
    let mut map = std::collections::BTreeMap::new();
    for k in keys {
        let n: &mut u32 = map.entry(k).or_insert(0);
        *n = n.saturating_add(1);
    }
    map.into_iter().collect()
}

/// The "answer not delivered" record that follows the allowed record `seq`
/// (whose event was `allowed`) when its answer was never sent: its tracking
/// number, grant and sealer, at the time it is written.
pub(crate) fn not_delivered_event(seq: u64, allowed: &AuditEvent) -> AuditEvent {
    let mut e = AuditEvent::undelivered(time::OffsetDateTime::now_utc(), seq);
    if let (Some(courier), Some(grant)) = (&allowed.courier_id, allowed.grant_id) {
        e = e.with_grant(courier.clone(), grant);
    }
    if let Some(tracking) = &allowed.tracking_number {
        e = e.with_tracking_number(tracking.clone());
    }
    e.sealer.clone_from(&allowed.sealer);
    e
}

/// Whether an event is an allowed resolve (a disclosure, whose quota unit
/// was spent).
pub(crate) fn is_allowed(e: &AuditEvent) -> bool {
    e.kind == waybill_redact::AuditKind::Resolve
        && e.outcome == Some(waybill_redact::Outcome::Allowed)
}

/// The grants of a batch's allowed records: their quota units are given back
/// when the batch fails (their answers were 503).
pub(crate) fn allowed_grants<'a>(events: impl Iterator<Item = &'a AuditEvent>) -> Vec<GrantId> {
    events
        .filter(|e| is_allowed(e))
        .filter_map(|e| e.grant_id)
        .collect()
}

/// Rate then quota for a batch of claims, given functions that decide how many
/// of `n` requests per courier (rate) and per grant (quota) the store grants.
/// Requests are served in arrival order within a key.
pub(crate) fn decide<E>(
    claims: &[&Claim],
    rate: impl FnOnce(&[(String, u32)]) -> Result<Vec<u32>, E>,
    quota: impl FnOnce(&[(GrantId, u32, u32, u64)]) -> Result<Vec<u32>, E>,
) -> Result<Vec<Decision>, E> {
    let couriers = tally(claims.iter().map(|c| c.courier.clone()));
    let granted = rate(&couriers)?;
    let mut left: HashMap<&str, u32> = couriers
        .iter()
        .zip(&granted)
        .map(|((c, _), g)| (c.as_str(), *g))
        .collect();
    let mut out: Vec<Decision> = claims
        .iter()
        .map(|c| match left.get_mut(c.courier.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                Ok(())
            }
            _ => Err(Limit::Rate),
        })
        .collect();
    let mut grants: std::collections::BTreeMap<GrantId, (u32, u32, u64)> = Default::default();
    for (c, d) in claims.iter().zip(&out) {
        if d.is_ok() {
            let e = grants
                .entry(c.grant)
                .or_insert((0, c.quota, c.grant_expires_at));
            e.0 = e.0.saturating_add(1);
        }
    }
    let rows: Vec<(GrantId, u32, u32, u64)> = grants
        .iter()
        .map(|(g, (n, q, x))| (*g, *n, *q, *x))
        .collect();
    let granted = if rows.is_empty() {
        Vec::new()
    } else {
        quota(&rows)?
    };
    let mut left: HashMap<GrantId, u32> =
        rows.iter().zip(&granted).map(|(r, g)| (r.0, *g)).collect();
    for (c, d) in claims.iter().zip(out.iter_mut()) {
        if d.is_ok() {
            match left.get_mut(&c.grant) {
                Some(n) if *n > 0 => *n -= 1,
                _ => *d = Err(Limit::Quota),
            }
        }
    }
    Ok(out)
}

/// Rate buckets and quota counters held in memory: all the state of the memory
/// store, and the deciding copy of SQLite's (one node owns its file), whose
/// writer stores the changed entries in the transaction that commits the audit
/// records. No answer leaves before that commit, so a crash forgets only
/// claims that were never answered.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Courier → theoretical arrival time, ms.
    tat: HashMap<String, i64>,
    /// Grant → (uses, expiry in unix seconds).
    used: HashMap<GrantId, (u32, u64)>,
    changed_couriers: HashSet<String>,
    changed_grants: HashSet<GrantId>,
    /// Nonce → unix second after which it may be forgotten.
    nonces: HashMap<[u8; 16], u64>,
    new_nonces: Vec<([u8; 16], u64)>,
}

/// Counter entries changed since the last [`Counters::take_changed`].
#[derive(Debug, Default)]
pub(crate) struct Changed {
    /// (courier, theoretical arrival time in ms).
    pub(crate) rates: Vec<(String, i64)>,
    /// (grant, uses, expiry in unix seconds).
    pub(crate) quotas: Vec<(GrantId, u32, u64)>,
    /// (nonce, keep until in unix seconds), admitted since the last commit.
    pub(crate) nonces: Vec<([u8; 16], u64)>,
}

/// Buckets idle this long are forgotten (a new one starts full, the same state).
const IDLE_BUCKET_MS: i64 = 3_600_000;
/// Counters of grants expired this long ago are forgotten (they no longer verify).
const EXPIRED_GRANT_SECS: u64 = 86_400;

impl Counters {
    /// Counters as stored, without entries old enough to be swept.
    pub(crate) fn load(
        rates: impl IntoIterator<Item = (String, i64)>,
        quotas: impl IntoIterator<Item = (GrantId, u32, u64)>,
        nonces: impl IntoIterator<Item = ([u8; 16], u64)>,
        now_ms: u64,
    ) -> Self {
        let mut c = Self {
            tat: rates.into_iter().collect(),
            used: quotas.into_iter().map(|(g, n, x)| (g, (n, x))).collect(),
            nonces: nonces.into_iter().collect(),
            ..Self::default()
        };
        c.sweep(now_ms);
        c
    }

    /// Admits a nonce once while it is live (`keep_until` is after `now_ms`).
    pub(crate) fn admit(&mut self, guard: &ReplayGuard, now_ms: u64) -> bool {
        let now = now_ms / 1000;
        if self
            .nonces
            .get(&guard.nonce)
            .is_some_and(|until| *until > now)
        {
            return false;
        }
        self.nonces.insert(guard.nonce, guard.keep_until);
        self.new_nonces.push((guard.nonce, guard.keep_until));
        true
    }

    /// Nonce, then rate, then quota for one claim: a replay takes nothing, a
    /// refused rate takes nothing, a refused quota still spends the rate.
    pub(crate) fn decide(&mut self, claim: &Claim, rate: RateParams) -> Decision {
        if let Some(guard) = &claim.replay {
            if !self.admit(guard, claim.now_ms) {
                return Err(Limit::Replayed);
            }
        }
        let now = i64::try_from(claim.now_ms).unwrap_or(i64::MAX);
        if !self.tat.contains_key(&claim.courier) {
            self.tat.insert(claim.courier.clone(), now);
        }
        let tat = self.tat.get_mut(&claim.courier).ok_or(Limit::Rate)?;
        let base = (*tat).max(now);
        if base > now.saturating_add(rate.tolerance_ms) {
            return Err(Limit::Rate);
        }
        *tat = base.saturating_add(rate.interval_ms);
        if !self.changed_couriers.contains(&claim.courier) {
            self.changed_couriers.insert(claim.courier.clone());
        }
        let used = self
            .used
            .entry(claim.grant)
            .or_insert((0, claim.grant_expires_at));
        if used.0 >= claim.quota {
            return Err(Limit::Quota);
        }
        used.0 += 1;
        self.changed_grants.insert(claim.grant);
        Ok(())
    }

    /// The entries changed since the last call, with their values now.
    pub(crate) fn take_changed(&mut self) -> Changed {
        let rates = self
            .changed_couriers
            .drain()
            .filter_map(|c| self.tat.get(&c).map(|t| (c, *t)))
            .collect();
        let quotas = self
            .changed_grants
            .drain()
            .filter_map(|g| self.used.get(&g).map(|(n, x)| (g, *n, *x)))
            .collect();
        let nonces = std::mem::take(&mut self.new_nonces);
        Changed {
            rates,
            quotas,
            nonces,
        }
    }

    /// Gives back one quota unit of `grant` (an answer that was not sent).
    pub(crate) fn refund(&mut self, grant: GrantId) {
        if let Some(used) = self.used.get_mut(&grant) {
            used.0 = used.0.saturating_sub(1);
            self.changed_grants.insert(grant);
        }
    }

    /// Marks entries taken by [`Counters::take_changed`] as changed again (their
    /// commit failed).
    pub(crate) fn restore(&mut self, changed: Changed) {
        self.changed_couriers
            .extend(changed.rates.into_iter().map(|(c, _)| c));
        self.changed_grants
            .extend(changed.quotas.into_iter().map(|(g, _, _)| g));
        self.new_nonces.extend(changed.nonces);
    }

    /// Forgets buckets idle for an hour, grants expired a day ago, and nonces
    /// past their window.
    pub(crate) fn sweep(&mut self, now_ms: u64) {
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        self.tat
            .retain(|_, t| *t >= now.saturating_sub(IDLE_BUCKET_MS));
        let oldest = (now_ms / 1000).saturating_sub(EXPIRED_GRANT_SECS);
        self.used.retain(|_, (_, x)| *x >= oldest);
        let now_s = now_ms / 1000;
        self.nonces.retain(|_, until| *until > now_s);
    }
}

/// The server's time, unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How a writer signs checkpoints: every `every` records, when records have
/// waited `interval` since the last one, and at close.
#[derive(Debug, Clone)]
pub struct Checkpointing {
    /// The audit key.
    pub key: Arc<AuditKey>,
    /// Records between checkpoints (0: only by time and at close).
    pub every: u64,
    /// The longest time between checkpoints while records arrive.
    pub interval: std::time::Duration,
    /// Where committed leaves and checkpoints go for the witnesses, if any.
    pub feed: Option<mpsc::UnboundedSender<crate::chain::Feed>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(courier: &str, grant: u8, quota: u32, now_ms: u64) -> Claim {
        Claim {
            courier: courier.into(),
            grant: GrantId::from_bytes([grant; 16]),
            quota,
            grant_expires_at: 2_000_000_000,
            now_ms,
            replay: None,
        }
    }

    /// The batch decision with the arithmetic of the PostgreSQL statement: a
    /// GCRA bucket granting `n` at once, a quota granting what is left.
    fn batch(
        claims: &[Claim],
        rate: RateParams,
        tat: &mut HashMap<String, i64>,
        used: &mut HashMap<GrantId, u32>,
    ) -> Vec<Decision> {
        let refs: Vec<&Claim> = claims.iter().collect();
        let now = claims.iter().map(|c| c.now_ms).max().unwrap_or(0) as i64;
        decide::<()>(
            &refs,
            |couriers| {
                Ok(couriers
                    .iter()
                    .map(|(c, n)| {
                        let t = tat.entry(c.clone()).or_insert(now);
                        let base = (*t).max(now);
                        let room = now + rate.tolerance_ms - base;
                        let k = if room < 0 {
                            0
                        } else {
                            (room / rate.interval_ms + 1).min(i64::from(*n))
                        };
                        *t = base + k * rate.interval_ms;
                        k as u32
                    })
                    .collect())
            },
            |grants| {
                Ok(grants
                    .iter()
                    .map(|(g, n, quota, _)| {
                        let u = used.entry(*g).or_insert(0);
                        let k = (*n).min(quota.saturating_sub(*u));
                        *u += k;
                        k
                    })
                    .collect())
            },
        )
        .unwrap()
    }

    #[test]
    fn deciding_in_memory_one_by_one_matches_the_batch_statement() {
        let rate = RateParams::new(5, 60);
        let couriers = ["A", "B", "C"];
        // A fixed pseudo-random walk over couriers, grants and times.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..50 {
            let mut counters = Counters::default();
            let (mut tat, mut used) = (HashMap::new(), HashMap::new());
            let mut now = 1_000_000u64;
            for _ in 0..10 {
                now += next() % 3_000;
                let claims: Vec<Claim> = (0..(next() % 12))
                    .map(|_| {
                        let c = couriers[(next() % 3) as usize];
                        // Each grant belongs to one courier, as a real grant does.
                        let g = (c.as_bytes()[0] - b'A') * 2 + (next() % 2) as u8;
                        claim(c, g, 2 + u32::from(g), now)
                    })
                    .collect();
                let one_by_one: Vec<Decision> =
                    claims.iter().map(|c| counters.decide(c, rate)).collect();
                let together = batch(&claims, rate, &mut tat, &mut used);
                assert_eq!(one_by_one, together, "round {round}");
            }
        }
    }

    #[test]
    fn quota_is_exact_and_a_refused_rate_takes_no_quota() {
        let mut counters = Counters::default();
        let rate = RateParams::new(3, 1);
        let decisions: Vec<Decision> = (0..5)
            .map(|_| counters.decide(&claim("A", 1, 2, 1_000), rate))
            .collect();
        assert_eq!(
            decisions,
            [
                Ok(()),
                Ok(()),
                Err(Limit::Quota),
                Err(Limit::Rate),
                Err(Limit::Rate)
            ]
        );
        assert_eq!(
            counters.used.get(&GrantId::from_bytes([1; 16])),
            Some(&(2, 2_000_000_000))
        );
    }

    #[test]
    fn changed_counters_are_taken_once_and_given_back_after_a_failed_commit() {
        let mut counters = Counters::default();
        let rate = RateParams::new(10, 600);
        let _ = counters.decide(&claim("A", 1, 5, 1_000), rate);
        let _ = counters.decide(&claim("A", 1, 5, 1_000), rate);
        let changed = counters.take_changed();
        assert_eq!(changed.rates, [("A".to_owned(), 1_200)]);
        assert_eq!(
            changed.quotas,
            [(GrantId::from_bytes([1; 16]), 2, 2_000_000_000)]
        );
        assert!(counters.take_changed().rates.is_empty());
        counters.restore(changed);
        let again = counters.take_changed();
        assert_eq!((again.rates.len(), again.quotas.len()), (1, 1));
    }

    #[test]
    fn loading_and_sweeping_forget_idle_buckets_and_long_expired_grants() {
        let now_ms = 10_000_000_000u64;
        let now = now_ms as i64;
        let counters = Counters::load(
            [
                ("idle".to_owned(), now - IDLE_BUCKET_MS - 1),
                ("busy".to_owned(), now - 1),
            ],
            [
                (
                    GrantId::from_bytes([1; 16]),
                    3,
                    now_ms / 1000 - EXPIRED_GRANT_SECS - 1,
                ),
                (GrantId::from_bytes([2; 16]), 4, now_ms / 1000 - 1),
            ],
            [([7; 16], now_ms / 1000 - 1), ([8; 16], now_ms / 1000 + 60)],
            now_ms,
        );
        assert_eq!(
            counters.nonces.keys().collect::<Vec<_>>(),
            [&[8u8; 16]],
            "a nonce past its window is forgotten"
        );
        assert_eq!(counters.tat.keys().collect::<Vec<_>>(), ["busy"]);
        assert_eq!(
            counters.used.keys().collect::<Vec<_>>(),
            [&GrantId::from_bytes([2; 16])]
        );
    }

    #[test]
    fn a_nonce_is_admitted_once_and_a_replay_takes_no_rate_or_quota() {
        let rate = RateParams::new(10, 600);
        let mut counters = Counters::default();
        let guard = ReplayGuard::new(GrantId::from_bytes([1; 16]), [5; 16], 1_000_120);
        let first = claim("C-1", 1, 1, 1_000_000_000).with_replay(Some(guard));
        assert_eq!(counters.decide(&first, rate), Ok(()));
        // The quota is 1 and spent: the replay is refused as a replay, before it.
        assert_eq!(counters.decide(&first, rate), Err(Limit::Replayed));
        assert!(!counters.admit(&guard, 1_000_000_000));
        let changed = counters.take_changed();
        assert_eq!(changed.nonces, [([5; 16], 1_000_120)]);
        // A failed commit gives the nonce back to be stored with the next one.
        counters.restore(changed);
        assert_eq!(counters.take_changed().nonces.len(), 1);
        // After its window the nonce may be admitted again (no request with it
        // could be fresh then).
        assert!(counters.admit(&guard, 1_000_120_000));
    }
}
