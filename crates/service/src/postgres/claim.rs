//! The claimer: rate, quota and replay decisions for a batch of claims, in one
//! statement.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_postgres::{Client, Statement};
use waybill_redact::{GrantId, Limit, ReplayGuard};

use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::store::{decide, drain, Batch, Claim, Decision, Job, RateParams};

use super::timeouts::{bounded, limit, rolled_back, Owed, Pending, DOUBT_WAIT};
use super::{connect, pg};

/// Device-signed requests' nonces ($1, distinct within the batch) and when each
/// may be forgotten ($2, unix seconds); returns the nonces that were new. A
/// nonce still stored is a replay, whichever instance saw it first; expired
/// ones are deleted by the sweep before they could be reused.
const NONCE_SQL: &str = "
INSERT INTO seen_nonces (nonce, keep_until)
SELECT * FROM unnest($1::bytea[], $2::int8[])
ON CONFLICT (nonce) DO NOTHING RETURNING nonce";

/// How often the claimer deletes nonces past their window, ms.
const NONCE_SWEEP_MS: u64 = 60_000;

/// One batch of claims, in arrival order ($1 couriers, $2 grants, $3 quotas, $4
/// grant expiries; $5 now in ms, $6 the rate's interval, $7 its tolerance):
/// first the couriers' GCRA buckets (`r`), then the quota of the grants whose
/// claims passed them, taken in arrival order per courier (`q`). Rows are locked
/// in key order, rate rows before quota rows, so instances never deadlock.
/// Returns (is quota, key, granted) for every courier and grant.
const CLAIM_SQL: &str = "
WITH c AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[])
    WITH ORDINALITY AS c(courier, grant_id, total, expires, i)),
asked AS (SELECT courier, count(*)::int8 AS n FROM c GROUP BY courier),
r AS (
  INSERT INTO rate AS r (courier, tat, granted, asked)
  SELECT courier, $5::int8 + LEAST(n, $7::int8 / $6::int8 + 1) * $6::int8,
         LEAST(n, $7::int8 / $6::int8 + 1), n
  FROM asked ORDER BY courier
  ON CONFLICT (courier) DO UPDATE SET
    granted = CASE WHEN $5::int8 + $7::int8 < GREATEST(r.tat, $5::int8) THEN 0
                   ELSE LEAST(EXCLUDED.asked, ($5::int8 + $7::int8 - GREATEST(r.tat, $5::int8)) / $6::int8 + 1) END,
    tat = GREATEST(r.tat, $5::int8) + $6::int8 * (CASE WHEN $5::int8 + $7::int8 < GREATEST(r.tat, $5::int8) THEN 0
                   ELSE LEAST(EXCLUDED.asked, ($5::int8 + $7::int8 - GREATEST(r.tat, $5::int8)) / $6::int8 + 1) END),
    asked = EXCLUDED.asked
  RETURNING courier, granted),
passed AS (
  SELECT c.grant_id, c.total, c.expires,
         row_number() OVER (PARTITION BY c.courier ORDER BY c.i) <= r.granted AS ok
  FROM c JOIN r USING (courier)),
wanted AS (
  SELECT grant_id, count(*)::int8 AS n, max(total) AS t, max(expires) AS x
  FROM passed WHERE ok GROUP BY grant_id),
q AS (
  INSERT INTO quota AS q (grant_id, used, granted, asked, quota_total, expires_at)
  SELECT grant_id, LEAST(n, t), LEAST(n, t), n, t, x FROM wanted ORDER BY grant_id
  ON CONFLICT (grant_id) DO UPDATE SET
    granted = LEAST(EXCLUDED.asked, GREATEST(EXCLUDED.quota_total - q.used, 0)),
    used = q.used + LEAST(EXCLUDED.asked, GREATEST(EXCLUDED.quota_total - q.used, 0)),
    asked = EXCLUDED.asked
  RETURNING grant_id, granted)
SELECT false, courier, granted FROM r UNION ALL SELECT true, grant_id, granted FROM q";

/// Decides claims, one statement per batch.
///
/// Its connection commits with `synchronous_commit = off`, without waiting
/// for the disk. That loses nothing that was answered: a request is answered
/// only after its audit record commits, that commit waits until the log is on
/// disk up to its own commit record, and the claim's commit record comes
/// earlier in the same log. A crash can forget only claims whose requests were
/// never answered. Other instances see a claim as soon as it commits.
///
/// A batch that does not finish within the store timeout is answered 503 and
/// left to finish on its connection (`timeouts.rs`): if it commits after all,
/// the quota units it granted are given back.
pub(super) struct Claimer {
    config: super::Target,
    /// The connection and its prepared claim and nonce statements.
    conn: Option<Arc<ClaimConn>>,
    rate: RateParams,
    /// When expired nonces were last deleted, unix ms.
    last_sweep: u64,
    timeout: Duration,
    /// Quota units to give back, committed by the auditor.
    owed: Owed,
}

/// A batch's decisions (claims) and new nonces (admits), in arrival order.
type Decided = (Vec<Decision>, Vec<bool>);

/// A claimer's connection and its prepared statements.
struct ClaimConn {
    client: Client,
    claim: Statement,
    nonce: Statement,
}

impl Claimer {
    /// A claimer that connects on its first batch.
    pub(super) fn new(
        config: super::Target,
        rate: RateParams,
        timeout: Duration,
        owed: Owed,
    ) -> Self {
        Self {
            config,
            conn: None,
            rate,
            last_sweep: 0,
            timeout,
            owed,
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>, metrics: Arc<Metrics>) {
        while let Some(first) = rx.recv().await {
            let batch = Batch::new(drain(first, &mut rx, &metrics.queue_depth));
            let started = Instant::now();
            let result = self.decide(&batch).await;
            metrics.observe_commit(started.elapsed(), batch.claims.len(), result.is_ok());
            match result {
                Ok((decisions, admitted)) => batch.succeed(decisions, admitted, &[]),
                Err(e) => {
                    crate::logline::store_error("claim", &e);
                    self.conn = None;
                    batch.fail(&e);
                }
            }
        }
    }

    async fn connect(config: super::Target, timeout: Duration) -> Result<ClaimConn, StoreError> {
        let client = connect(&config).await?;
        client
            .batch_execute("SET synchronous_commit = off")
            .await
            .map_err(pg)?;
        limit(&client, timeout).await.map_err(pg)?;
        let claim = client.prepare(CLAIM_SQL).await.map_err(pg)?;
        let nonce = client.prepare(NONCE_SQL).await.map_err(pg)?;
        Ok(ClaimConn {
            client,
            claim,
            nonce,
        })
    }

    async fn decide(&mut self, batch: &Batch) -> Result<(Vec<Decision>, Vec<bool>), StoreError> {
        let conn = match self.conn.clone().filter(|c| !c.client.is_closed()) {
            Some(c) => c,
            None => {
                let connecting = Box::pin(Self::connect(self.config.clone(), self.timeout));
                let c = Arc::new(bounded(connecting, self.timeout).await.map_err(|_| {
                    StoreError::Unavailable("connecting timed out (store_timeout_ms)".into())
                })??);
                self.conn = Some(c.clone());
                c
            }
        };
        let now_ms = crate::store::now_ms();
        let sweep = now_ms > self.last_sweep.saturating_add(NONCE_SWEEP_MS);
        let admits: Vec<ReplayGuard> = batch.admits.iter().map(|(g, _)| *g).collect();
        let claims: Vec<Claim> = batch.claims.iter().map(|(c, _)| c.clone()).collect();
        let grants: Vec<GrantId> = claims.iter().map(|c| c.grant).collect();
        let work = Box::pin(decide_on(
            conn,
            admits,
            claims,
            self.rate,
            sweep.then_some(now_ms),
        ));
        match bounded(work, self.timeout).await {
            Ok(Ok(out)) => {
                if sweep {
                    self.last_sweep = now_ms;
                }
                Ok(out)
            }
            Ok(Err(e)) => Err(pg(e)),
            Err(pending) => {
                // The batch is answered 503; its statement may still commit.
                self.conn = None;
                tokio::spawn(settle(pending, grants, self.owed.clone()));
                Err(StoreError::Unavailable(
                    "the claim statement timed out (store_timeout_ms)".into(),
                ))
            }
        }
    }
}

/// Waits for the outcome of a batch answered 503 while its statement ran, and
/// gives back the quota units it granted if it committed after all.
async fn settle(
    pending: Pending<Result<Decided, tokio_postgres::Error>>,
    grants: Vec<GrantId>,
    owed: Owed,
) {
    match tokio::time::timeout(DOUBT_WAIT, pending).await {
        Ok(Ok((decisions, _))) => {
            let granted: Vec<GrantId> = grants
                .into_iter()
                .zip(decisions)
                .filter(|(_, d)| d.is_ok())
                .map(|(g, _)| g)
                .collect();
            tracing::warn!(
                units = granted.len(),
                "a claim statement given up on committed later: its quota units are given back"
            );
            owed.give_back(granted);
        }
        Ok(Err(e)) if rolled_back(&e) => {}
        _ => tracing::error!(
            claims = grants.len(),
            "a claim statement given up on has no known outcome: up to this many quota \
             units may stay spent without an answer"
        ),
    }
}

/// One batch on `conn`: expired nonces swept (when `sweep` holds the time),
/// nonces admitted, then rate and quota. Owns its inputs, so that it can run on
/// after the claimer has given up on it.
async fn decide_on(
    conn: Arc<ClaimConn>,
    admits: Vec<ReplayGuard>,
    claims: Vec<Claim>,
    rate: RateParams,
    sweep: Option<u64>,
) -> Result<Decided, tokio_postgres::Error> {
    let client = &conn.client;
    if let Some(now_ms) = sweep {
        let now_s = i64::try_from(now_ms / 1000).unwrap_or(i64::MAX);
        client
            .execute("DELETE FROM seen_nonces WHERE keep_until <= $1", &[&now_s])
            .await?;
    }
    // Nonces first: the batch's own, then those carried by claims, in arrival
    // order; a nonce twice in one batch is new once at most.
    let guards: Vec<&ReplayGuard> = admits
        .iter()
        .chain(claims.iter().filter_map(|c| c.replay.as_ref()))
        .collect();
    let mut first: HashMap<[u8; 16], (usize, u64)> = HashMap::new();
    for (i, g) in guards.iter().enumerate() {
        first.entry(g.nonce).or_insert((i, g.keep_until));
    }
    let new: std::collections::HashSet<Vec<u8>> = if guards.is_empty() {
        Default::default()
    } else {
        let (nonces, untils): (Vec<&[u8]>, Vec<i64>) = first
            .iter()
            .map(|(n, (_, until))| (n.as_slice(), i64::try_from(*until).unwrap_or(i64::MAX)))
            .unzip();
        client
            .query(&conn.nonce, &[&nonces, &untils])
            .await?
            .iter()
            .map(|r| r.get::<_, Vec<u8>>(0))
            .collect()
    };
    let fresh: Vec<bool> = guards
        .iter()
        .enumerate()
        .map(|(i, g)| {
            first.get(&g.nonce).map(|(at, _)| *at) == Some(i) && new.contains(g.nonce.as_slice())
        })
        .collect();
    let (admitted, carried) = fresh.split_at(admits.len());
    let mut carried = carried.iter();
    let replayed: Vec<bool> = claims
        .iter()
        .map(|c| c.replay.is_some() && !carried.next().copied().unwrap_or(false))
        .collect();
    let live: Vec<&Claim> = claims
        .iter()
        .zip(&replayed)
        .filter(|(_, r)| !**r)
        .map(|(c, _)| c)
        .collect();
    let decided = Claimer::claim((client, &conn.claim), &live, rate).await?;
    let mut decided = decided.into_iter();
    let decisions = replayed
        .iter()
        .map(|r| {
            if *r {
                Err(Limit::Replayed)
            } else {
                decided.next().unwrap_or(Err(Limit::Rate))
            }
        })
        .collect();
    Ok((decisions, admitted.to_vec()))
}

impl Claimer {
    /// Rate then quota for claims whose nonces (if any) were new.
    async fn claim(
        (client, statement): (&Client, &Statement),
        claims: &[&Claim],
        rate: RateParams,
    ) -> Result<Vec<Decision>, tokio_postgres::Error> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let now = claims.iter().map(|c| c.now_ms).max().unwrap_or(0);
        let couriers: Vec<&str> = claims.iter().map(|c| c.courier.as_str()).collect();
        let grants: Vec<String> = claims.iter().map(|c| c.grant.to_string()).collect();
        let quotas: Vec<i64> = claims.iter().map(|c| i64::from(c.quota)).collect();
        let expiries: Vec<i64> = claims
            .iter()
            .map(|c| i64::try_from(c.grant_expires_at).unwrap_or(i64::MAX))
            .collect();
        let rows = client
            .query(
                statement,
                &[
                    &couriers,
                    &grants,
                    &quotas,
                    &expiries,
                    &i64::try_from(now).unwrap_or(i64::MAX),
                    &rate.interval_ms,
                    &rate.tolerance_ms,
                ],
            )
            .await?;
        let mut rate: HashMap<String, u32> = HashMap::new();
        let mut quota: HashMap<GrantId, u32> = HashMap::new();
        for row in &rows {
            let key: &str = row.get(1);
            let granted = u32::try_from(row.get::<_, i64>(2)).unwrap_or(0);
            if row.get::<_, bool>(0) {
                if let Ok(g) = key.parse() {
                    quota.insert(g, granted);
                }
            } else {
                rate.insert(key.to_owned(), granted);
            }
        }
        decide::<tokio_postgres::Error>(
            claims,
            |couriers| {
                Ok(couriers
                    .iter()
                    .map(|(c, _)| rate.get(c.as_str()).copied().unwrap_or(0))
                    .collect())
            },
            |grants| {
                Ok(grants
                    .iter()
                    .map(|g| quota.get(&g.0).copied().unwrap_or(0))
                    .collect())
            },
        )
    }
}
