//! The shared store: PostgreSQL. Quota and rate decisions are single
//! `INSERT … ON CONFLICT DO UPDATE … RETURNING` statements over the whole batch,
//! so any number of instances never allow more than a grant's quota. One writer
//! task per instance commits whatever queued since its last commit; each
//! instance keeps its own audit chain.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::mpsc;
use tokio_postgres::{Client, NoTls, Row};
use waybill_redact::{AuditCheckpoint, AuditEvent, AuditRecord, Revocation};

use crate::chain::{export_lines, ChainState, Rows};
use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::store::{
    decide, drain, Batch, BoxFuture, Checkpointing, Claim, Decision, Job, Queue, RateParams,
    ResolverStore,
};

/// Versioned schema; each entry is applied once, in order, under an advisory
/// lock so that instances starting together migrate once.
const MIGRATIONS: &[&str] = &[r"
CREATE TABLE revocations (
    id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(), UNIQUE (kind, subject));
CREATE TABLE quota (
    grant_id TEXT PRIMARY KEY, used BIGINT NOT NULL, granted BIGINT NOT NULL,
    asked BIGINT NOT NULL, quota_total BIGINT NOT NULL, expires_at BIGINT NOT NULL);
CREATE TABLE rate (
    courier TEXT PRIMARY KEY, tat BIGINT NOT NULL, granted BIGINT NOT NULL, asked BIGINT NOT NULL);
CREATE TABLE audit (
    instance TEXT NOT NULL, seq BIGINT NOT NULL, time TEXT NOT NULL,
    tracking_number TEXT, courier TEXT, grant_id TEXT, purpose TEXT NOT NULL,
    outcome TEXT NOT NULL, reason TEXT, scope TEXT, prev TEXT NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (instance, seq));
CREATE TABLE audit_checkpoints (
    instance TEXT NOT NULL, seq BIGINT NOT NULL, head TEXT NOT NULL, time TEXT NOT NULL,
    signature TEXT NOT NULL, PRIMARY KEY (instance, seq));
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'audit is append-only'; END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"];

const RATE_SQL: &str = "
WITH p AS (SELECT $2::int8 AS now, $3::int8 AS t, $4::int8 AS tol)
INSERT INTO rate AS r (courier, tat, granted, asked)
SELECT c, p.now + LEAST(n, p.tol / p.t + 1) * p.t, LEAST(n, p.tol / p.t + 1), n
FROM unnest($1::text[], $5::int8[]) AS u(c, n), p ORDER BY c
ON CONFLICT (courier) DO UPDATE SET
  granted = CASE WHEN $2::int8 + $4::int8 < GREATEST(r.tat, $2::int8) THEN 0
                 ELSE LEAST(EXCLUDED.asked, ($2::int8 + $4::int8 - GREATEST(r.tat, $2::int8)) / $3::int8 + 1) END,
  tat = GREATEST(r.tat, $2::int8) + $3::int8 * (CASE WHEN $2::int8 + $4::int8 < GREATEST(r.tat, $2::int8) THEN 0
                 ELSE LEAST(EXCLUDED.asked, ($2::int8 + $4::int8 - GREATEST(r.tat, $2::int8)) / $3::int8 + 1) END),
  asked = EXCLUDED.asked
RETURNING courier, granted";

const QUOTA_SQL: &str = "
INSERT INTO quota AS q (grant_id, used, granted, asked, quota_total, expires_at)
SELECT g, LEAST(n, t), LEAST(n, t), n, t, x
FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[]) AS u(g, n, t, x) ORDER BY g
ON CONFLICT (grant_id) DO UPDATE SET
  granted = LEAST(EXCLUDED.asked, GREATEST(EXCLUDED.quota_total - q.used, 0)),
  used = q.used + LEAST(EXCLUDED.asked, GREATEST(EXCLUDED.quota_total - q.used, 0)),
  asked = EXCLUDED.asked
RETURNING grant_id, granted";

const INSERT_AUDIT: &str = "
INSERT INTO audit (instance, seq, time, tracking_number, courier, grant_id, purpose, outcome,
    reason, scope, prev, hash)
SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])";

const SELECT_AUDIT: &str = "SELECT instance, seq, time, tracking_number, courier, grant_id,
    purpose, outcome, reason, scope, prev, hash FROM audit";

/// The PostgreSQL store.
pub struct PostgresStore {
    queue: Queue,
    pool: Pool,
}

/// The error's text; for a database error its message only (never its detail,
/// which may quote row values).
fn pg(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Unavailable(format!("{}: {}", db.code().code(), db.message())),
        None => StoreError::Unavailable(e.to_string()),
    }
}

fn config(url: &str) -> Result<tokio_postgres::Config, StoreError> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|_| StoreError::Unavailable("invalid postgres URL".into()))?;
    config.connect_timeout(Duration::from_secs(2));
    config.application_name("waybill-redact-service");
    Ok(config)
}

async fn connect(config: &tokio_postgres::Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(pg)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "postgres connection closed");
        }
    });
    Ok(client)
}

async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7262012); \
         CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)",
    )
    .await
    .map_err(pg)?;
    let done: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(pg)?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
        if version > done {
            tx.batch_execute(sql).await.map_err(pg)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(pg)?;
        }
    }
    tx.commit().await.map_err(pg)
}

fn record_from_row(r: &Row) -> AuditRecord {
    AuditRecord {
        instance: r.get(0),
        seq: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
        time: r.get(2),
        tracking_number: r.get(3),
        courier: r.get(4),
        grant: r.get(5),
        purpose: r.get(6),
        outcome: r.get(7),
        reason: r.get(8),
        scope: r.get(9),
        prev: r.get(10),
        hash: r.get(11),
    }
}

async fn resume(client: &Client, instance: &str) -> Result<ChainState, StoreError> {
    let last = client
        .query_opt(
            &format!("{SELECT_AUDIT} WHERE instance = $1 ORDER BY seq DESC LIMIT 1"),
            &[&instance],
        )
        .await
        .map_err(pg)?
        .map(|r| record_from_row(&r));
    let checkpointed: i64 = client
        .query_one(
            "SELECT COALESCE(MAX(seq), 0)::int8 FROM audit_checkpoints WHERE instance = $1",
            &[&instance],
        )
        .await
        .map_err(pg)?
        .get(0);
    ChainState::resume(instance, last, u64::try_from(checkpointed).unwrap_or(0)).ok_or_else(|| {
        StoreError::Corrupt("the chain's last record does not match its hash".into())
    })
}

impl PostgresStore {
    /// Connects, applies migrations, resumes this instance's chain and starts
    /// the writer task. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be reached or migrated, or the
    /// chain's last record is damaged.
    pub async fn open(
        url: &str,
        instance: &str,
        signing: Checkpointing,
        rate: RateParams,
        metrics: Arc<Metrics>,
    ) -> Result<Self, StoreError> {
        let config = config(url)?;
        let mut client = connect(&config).await?;
        migrate(&mut client).await?;
        let state = resume(&client, instance).await?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(4)
            .wait_timeout(Some(Duration::from_secs(2)))
            .create_timeout(Some(Duration::from_secs(2)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let (queue, rx) = Queue::new(metrics.clone());
        let writer = Writer {
            config,
            instance: instance.to_owned(),
            client: Some(client),
            state: Some(state),
            signing,
            rate,
        };
        tokio::spawn(writer.run(rx, metrics));
        Ok(Self { queue, pool })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

struct Writer {
    config: tokio_postgres::Config,
    instance: String,
    client: Option<Client>,
    /// `None` after a failed commit whose outcome is unknown: re-read from the table.
    state: Option<ChainState>,
    signing: Checkpointing,
    rate: RateParams,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>, metrics: Arc<Metrics>) {
        while let Some(first) = rx.recv().await {
            let batch = Batch::new(drain(first, &mut rx, &metrics.queue_depth));
            let closing = !batch.close.is_empty();
            let started = Instant::now();
            let result = self.commit(&batch, closing).await;
            metrics.observe_commit(started.elapsed(), batch.claims.len() + batch.events.len());
            match result {
                Ok(decisions) => batch.succeed(decisions),
                Err(e) => {
                    tracing::error!(error = %e, "store commit failed");
                    // The connection may be gone, and whether the commit landed
                    // is unknown: reconnect and resume from the table next time.
                    self.client = None;
                    self.state = None;
                    batch.fail(&e);
                }
            }
            if closing {
                break;
            }
        }
    }

    async fn commit(&mut self, batch: &Batch, closing: bool) -> Result<Vec<Decision>, StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = Some(connect(&self.config).await?);
        }
        let client = self.client.as_mut().ok_or(StoreError::Closed)?;
        if self.state.is_none() {
            self.state = Some(resume(client, &self.instance).await?);
        }
        let state = self.state.as_ref().ok_or(StoreError::Closed)?;
        let (next, rows) =
            state.extend(batch.events.iter().map(|(e, _)| e), &self.signing, closing);
        let tx = client.transaction().await.map_err(pg)?;
        let claims: Vec<Claim> = batch.claims.iter().map(|(c, _)| c.clone()).collect();
        let now = claims
            .iter()
            .map(|c| i64::try_from(c.now_ms).unwrap_or(i64::MAX))
            .max()
            .unwrap_or(0);
        let rate_rows = if claims.is_empty() {
            Vec::new()
        } else {
            let couriers = crate::store::tally(claims.iter().map(|c| c.courier.clone()));
            let names: Vec<&str> = couriers.iter().map(|(c, _)| c.as_str()).collect();
            let asked: Vec<i64> = couriers.iter().map(|(_, n)| i64::from(*n)).collect();
            let r = tx
                .query(
                    RATE_SQL,
                    &[
                        &names,
                        &now,
                        &self.rate.interval_ms,
                        &self.rate.tolerance_ms,
                        &asked,
                    ],
                )
                .await
                .map_err(pg)?;
            r
        };
        let rate_granted: std::collections::HashMap<String, u32> = rate_rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    u32::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                )
            })
            .collect();
        // Rate is decided; a dry run of `decide` finds the grants that passed it,
        // whose quota the next statement decides.
        let mut quota_input = Vec::new();
        let _ = decide::<StoreError>(
            &claims,
            |couriers| {
                Ok(couriers
                    .iter()
                    .map(|(c, _)| rate_granted.get(c).copied().unwrap_or(0))
                    .collect())
            },
            |grants| {
                quota_input = grants.to_vec();
                Ok(vec![0; grants.len()])
            },
        );
        let quota_granted: std::collections::HashMap<String, u32> = if quota_input.is_empty() {
            Default::default()
        } else {
            let ids: Vec<String> = quota_input.iter().map(|g| g.0.to_string()).collect();
            let n: Vec<i64> = quota_input.iter().map(|g| i64::from(g.1)).collect();
            let total: Vec<i64> = quota_input.iter().map(|g| i64::from(g.2)).collect();
            let expiry: Vec<i64> = quota_input
                .iter()
                .map(|g| i64::try_from(g.3).unwrap_or(i64::MAX))
                .collect();
            tx.query(QUOTA_SQL, &[&ids, &n, &total, &expiry])
                .await
                .map_err(pg)?
                .iter()
                .map(|r| {
                    (
                        r.get::<_, String>(0),
                        u32::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                    )
                })
                .collect()
        };
        let decisions = decide::<StoreError>(
            &claims,
            |couriers| {
                Ok(couriers
                    .iter()
                    .map(|(c, _)| rate_granted.get(c).copied().unwrap_or(0))
                    .collect())
            },
            |grants| {
                Ok(grants
                    .iter()
                    .map(|g| quota_granted.get(&g.0.to_string()).copied().unwrap_or(0))
                    .collect())
            },
        )?;
        for (r, _) in &batch.revocations {
            for r in r {
                tx.execute(
                    "INSERT INTO revocations (kind, subject) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&r.kind(), &r.subject()],
                )
                .await
                .map_err(pg)?;
            }
        }
        insert_rows(&tx, &rows).await?;
        tx.commit().await.map_err(pg)?;
        self.state = Some(next);
        Ok(decisions)
    }
}

async fn insert_rows(tx: &tokio_postgres::Transaction<'_>, rows: &Rows) -> Result<(), StoreError> {
    if !rows.records.is_empty() {
        let r = &rows.records;
        let text = |f: fn(&AuditRecord) -> &str| r.iter().map(f).collect::<Vec<&str>>();
        let opt =
            |f: fn(&AuditRecord) -> Option<&str>| r.iter().map(f).collect::<Vec<Option<&str>>>();
        let seq: Vec<i64> = r
            .iter()
            .map(|x| i64::try_from(x.seq).unwrap_or(i64::MAX))
            .collect();
        tx.execute(
            INSERT_AUDIT,
            &[
                &text(|x| &x.instance),
                &seq,
                &text(|x| &x.time),
                &opt(|x| x.tracking_number.as_deref()),
                &opt(|x| x.courier.as_deref()),
                &opt(|x| x.grant.as_deref()),
                &text(|x| &x.purpose),
                &text(|x| &x.outcome),
                &opt(|x| x.reason.as_deref()),
                &opt(|x| x.scope.as_deref()),
                &text(|x| &x.prev),
                &text(|x| &x.hash),
            ],
        )
        .await
        .map_err(pg)?;
    }
    for c in &rows.checkpoints {
        let seq = i64::try_from(c.seq).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO audit_checkpoints (instance, seq, head, time, signature) VALUES ($1, $2, $3, $4, $5)",
            &[&c.instance, &seq, &c.head, &c.time, &c.signature],
        )
        .await
        .map_err(pg)?;
    }
    Ok(())
}

impl ResolverStore for PostgresStore {
    fn acquire(&self, claim: Claim) -> BoxFuture<'_, Result<Decision, StoreError>> {
        Box::pin(self.queue.acquire(claim))
    }

    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.queue.append(event))
    }

    fn revoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.queue.revoke(revocations))
    }

    fn revocations(&self) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>> {
        Box::pin(async move {
            let client = self.client().await?;
            let rows = client
                .query("SELECT kind, subject FROM revocations", &[])
                .await
                .map_err(pg)?;
            Ok(rows
                .iter()
                .filter_map(|r| Revocation::from_parts(r.get(0), r.get(1)))
                .collect())
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.client()
                .await?
                .query_one("SELECT 1", &[])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn export(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let client = self.client().await?;
            let instances = client
                .query("SELECT DISTINCT instance FROM audit ORDER BY instance", &[])
                .await
                .map_err(pg)?;
            let mut lines = Vec::new();
            for row in instances {
                let instance: String = row.get(0);
                let records = client
                    .query(
                        &format!("{SELECT_AUDIT} WHERE instance = $1 ORDER BY seq"),
                        &[&instance],
                    )
                    .await
                    .map_err(pg)?
                    .iter()
                    .map(record_from_row)
                    .collect();
                let checkpoints = client
                    .query(
                        "SELECT instance, seq, head, time, signature FROM audit_checkpoints WHERE instance = $1 ORDER BY seq",
                        &[&instance],
                    )
                    .await
                    .map_err(pg)?
                    .iter()
                    .map(|r| AuditCheckpoint {
                        instance: r.get(0),
                        seq: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                        head: r.get(2),
                        time: r.get(3),
                        signature: r.get(4),
                    })
                    .collect();
                lines.extend(export_lines(records, checkpoints));
            }
            Ok(lines)
        })
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.queue.close())
    }
}
