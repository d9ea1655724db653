//! The shared store: PostgreSQL. Rate and quota are decided by one statement
//! per batch of claims (`INSERT … ON CONFLICT DO UPDATE … RETURNING` over
//! arrays), so any number of instances never allow more than a grant's quota.
//! Each instance keeps its own audit chain.
//!
//! Two tasks per instance, each with its own connection and its statements
//! prepared once, each on its own thread (so that request tasks never delay
//! their round trips): the claimer decides whatever claims queued since its last
//! statement, the auditor commits whatever records queued since its last
//! commit, one binary `COPY` each time (with the batch's checkpoints and
//! revocations, if any, in the same transaction).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls, Row, Statement};
use waybill_redact::{
    AuditCheckpoint, AuditEvent, AuditRecord, GrantId, Limit, ReplayGuard, Revocation,
};

use crate::chain::{export_lines, ChainState, Rows};
use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::store::{
    decide, drain, Batch, BoxFuture, Checkpointing, Claim, Decision, Job, Queue, RateParams,
    ResolverStore,
};

/// Versioned schema; each entry is applied once, in order, under an advisory
/// lock so that instances starting together migrate once.
const MIGRATIONS: &[&str] = &[
    r"
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
",
    r"
CREATE TABLE seen_nonces (nonce BYTEA PRIMARY KEY, keep_until BIGINT NOT NULL);
",
];

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

/// A batch's audit records, in PostgreSQL's binary copy format: on this
/// machine it costs the server about two thirds of the CPU of the same rows
/// through `INSERT … SELECT unnest(…)` (`scripts/pg-statement-cost.py`).
const COPY_AUDIT: &str = "COPY audit (instance, seq, time, tracking_number, courier, grant_id,
    purpose, outcome, reason, scope, prev, hash) FROM STDIN (FORMAT BINARY)";

/// The columns of [`COPY_AUDIT`], in order.
const AUDIT_TYPES: [Type; 12] = [
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

/// A batch's checkpoints ($1–$5).
const INSERT_CHECKPOINTS: &str = "
INSERT INTO audit_checkpoints (instance, seq, head, time, signature)
SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[])";

const INSERT_REVOCATIONS: &str = "
INSERT INTO revocations (kind, subject) SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT DO NOTHING";

const SELECT_AUDIT: &str = "SELECT instance, seq, time, tracking_number, courier, grant_id,
    purpose, outcome, reason, scope, prev, hash FROM audit";

/// The PostgreSQL store.
pub struct PostgresStore {
    claims: Queue,
    writes: Queue,
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

/// Runs `task` on a thread of its own, with a single-threaded runtime.
fn spawn_thread(
    name: &str,
    task: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StoreError> {
    let unavailable = |e: std::io::Error| StoreError::Unavailable(e.to_string());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(unavailable)?;
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || runtime.block_on(task))
        .map(drop)
        .map_err(unavailable)
}

impl PostgresStore {
    /// Connects, applies migrations, resumes this instance's chain and starts
    /// the claimer and the auditor. Must be called inside a tokio runtime.
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
        drop(client);
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
        let (claims, claims_rx) = Queue::new(metrics.clone());
        let (writes, writes_rx) = Queue::new(metrics.clone());
        let claimer = Claimer {
            config: config.clone(),
            conn: None,
            rate,
            last_sweep: 0,
        };
        spawn_thread("pg-claimer", claimer.run(claims_rx, metrics.clone()))?;
        let auditor = Auditor {
            config,
            instance: instance.to_owned(),
            conn: None,
            state: Some(state),
            signing,
        };
        spawn_thread("pg-auditor", auditor.run(writes_rx, metrics))?;
        Ok(Self {
            claims,
            writes,
            pool,
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }
}

/// Decides claims, one statement per batch.
///
/// Its connection commits with `synchronous_commit = off`, without waiting
/// for the disk. That loses nothing that was answered: a request is answered
/// only after its audit record commits, that commit waits until the log is on
/// disk up to its own commit record, and the claim's commit record comes
/// earlier in the same log. A crash can forget only claims whose requests were
/// never answered. Other instances see a claim as soon as it commits.
struct Claimer {
    config: tokio_postgres::Config,
    /// The connection and its prepared claim and nonce statements.
    conn: Option<(Client, Statement, Statement)>,
    rate: RateParams,
    /// When expired nonces were last deleted, unix ms.
    last_sweep: u64,
}

impl Claimer {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>, metrics: Arc<Metrics>) {
        while let Some(first) = rx.recv().await {
            let batch = Batch::new(drain(first, &mut rx, &metrics.queue_depth));
            let started = Instant::now();
            let result = self.decide(&batch).await;
            metrics.observe_commit(started.elapsed(), batch.claims.len());
            match result {
                Ok((decisions, admitted)) => batch.succeed(decisions, admitted),
                Err(e) => {
                    tracing::error!(error = %e, "claim failed");
                    self.conn = None;
                    batch.fail(&e);
                }
            }
        }
    }

    async fn decide(&mut self, batch: &Batch) -> Result<(Vec<Decision>, Vec<bool>), StoreError> {
        if self.conn.as_ref().is_none_or(|(c, _, _)| c.is_closed()) {
            let client = connect(&self.config).await?;
            client
                .batch_execute("SET synchronous_commit = off")
                .await
                .map_err(pg)?;
            let claim = client.prepare(CLAIM_SQL).await.map_err(pg)?;
            let nonce = client.prepare(NONCE_SQL).await.map_err(pg)?;
            self.conn = Some((client, claim, nonce));
        }
        let (client, statement, nonce_statement) = self.conn.as_ref().ok_or(StoreError::Closed)?;
        let now_ms = crate::store::now_ms();
        if now_ms > self.last_sweep.saturating_add(NONCE_SWEEP_MS) {
            let now_s = i64::try_from(now_ms / 1000).unwrap_or(i64::MAX);
            client
                .execute("DELETE FROM seen_nonces WHERE keep_until <= $1", &[&now_s])
                .await
                .map_err(pg)?;
            self.last_sweep = now_ms;
        }
        // Nonces first: the batch's own, then those carried by claims, in arrival
        // order; a nonce twice in one batch is new once at most.
        let guards: Vec<&ReplayGuard> = batch
            .admits
            .iter()
            .map(|(g, _)| g)
            .chain(batch.claims.iter().filter_map(|(c, _)| c.replay.as_ref()))
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
                .query(nonce_statement, &[&nonces, &untils])
                .await
                .map_err(pg)?
                .iter()
                .map(|r| r.get::<_, Vec<u8>>(0))
                .collect()
        };
        let fresh: Vec<bool> = guards
            .iter()
            .enumerate()
            .map(|(i, g)| {
                first.get(&g.nonce).map(|(at, _)| *at) == Some(i)
                    && new.contains(g.nonce.as_slice())
            })
            .collect();
        let (admitted, carried) = fresh.split_at(batch.admits.len());
        let mut carried = carried.iter();
        let replayed: Vec<bool> = batch
            .claims
            .iter()
            .map(|(c, _)| c.replay.is_some() && !carried.next().copied().unwrap_or(false))
            .collect();
        let claims: Vec<&Claim> = batch
            .claims
            .iter()
            .zip(&replayed)
            .filter(|(_, r)| !**r)
            .map(|((c, _), _)| c)
            .collect();
        let decided = Self::claim((client, statement), &claims, self.rate).await?;
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

    /// Rate then quota for claims whose nonces (if any) were new.
    async fn claim(
        (client, statement): (&Client, &Statement),
        claims: &[&Claim],
        rate: RateParams,
    ) -> Result<Vec<Decision>, StoreError> {
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
            .await
            .map_err(pg)?;
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
        decide::<StoreError>(
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

/// The auditor's connection and its prepared statements.
struct AuditConn {
    client: Client,
    audit: Statement,
    checkpoints: Statement,
    revocations: Statement,
}

/// Commits audit records, checkpoints and revocations, one transaction per batch.
struct Auditor {
    config: tokio_postgres::Config,
    instance: String,
    conn: Option<AuditConn>,
    /// `None` after a failed commit whose outcome is unknown: re-read from the table.
    state: Option<ChainState>,
    signing: Checkpointing,
}

impl Auditor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>, metrics: Arc<Metrics>) {
        while let Some(first) = rx.recv().await {
            let batch = Batch::new(drain(first, &mut rx, &metrics.queue_depth));
            let closing = !batch.close.is_empty();
            let started = Instant::now();
            let result = self.commit(&batch, closing).await;
            metrics.observe_commit(started.elapsed(), batch.events.len());
            match result {
                Ok(()) => batch.succeed(Vec::new(), Vec::new()),
                Err(e) => {
                    tracing::error!(error = %e, "store commit failed");
                    // The connection may be gone, and whether the commit landed
                    // is unknown: reconnect and resume from the table next time.
                    self.conn = None;
                    self.state = None;
                    batch.fail(&e);
                }
            }
            if closing {
                break;
            }
        }
    }

    async fn connection(&mut self) -> Result<&AuditConn, StoreError> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            let client = connect(&self.config).await?;
            // A 200 waits for this connection's commits: never let them skip the disk.
            let sync: String = client
                .query_one("SELECT current_setting('synchronous_commit')", &[])
                .await
                .map_err(pg)?
                .get(0);
            if sync == "off" {
                client
                    .batch_execute("SET synchronous_commit = on")
                    .await
                    .map_err(pg)?;
            }
            let (audit, checkpoints, revocations) = tokio::try_join!(
                client.prepare(COPY_AUDIT),
                client.prepare(INSERT_CHECKPOINTS),
                client.prepare(INSERT_REVOCATIONS)
            )
            .map_err(pg)?;
            self.conn = Some(AuditConn {
                client,
                audit,
                checkpoints,
                revocations,
            });
        }
        self.conn.as_ref().ok_or(StoreError::Closed)
    }

    async fn commit(&mut self, batch: &Batch, closing: bool) -> Result<(), StoreError> {
        self.connection().await?;
        if self.state.is_none() {
            let conn = self.conn.as_ref().ok_or(StoreError::Closed)?;
            self.state = Some(resume(&conn.client, &self.instance).await?);
        }
        let conn = self.conn.as_ref().ok_or(StoreError::Closed)?;
        let state = self.state.as_ref().ok_or(StoreError::Closed)?;
        let (next, rows) =
            state.extend(batch.events.iter().map(|(e, _)| e), &self.signing, closing);
        let revoked: Vec<&Revocation> = batch.revocations.iter().flat_map(|(r, _)| r).collect();
        // Records alone are one statement, so one transaction: the copy commits
        // itself. With checkpoints or revocations, one transaction holds them all
        // (on an error the connection is dropped, which rolls it back).
        let together = !revoked.is_empty() || !rows.checkpoints.is_empty();
        if together {
            conn.client.batch_execute("BEGIN").await.map_err(pg)?;
        }
        if !revoked.is_empty() {
            let kinds: Vec<&str> = revoked.iter().map(|r| r.kind()).collect();
            let subjects: Vec<String> = revoked.iter().map(|r| r.subject()).collect();
            conn.client
                .execute(&conn.revocations, &[&kinds, &subjects])
                .await
                .map_err(pg)?;
        }
        insert_rows(conn, &rows).await?;
        if together {
            conn.client.batch_execute("COMMIT").await.map_err(pg)?;
        }
        self.state = Some(next);
        Ok(())
    }
}

/// Adds a batch's records (one binary copy) and checkpoints (one statement), in
/// the caller's transaction.
async fn insert_rows(conn: &AuditConn, rows: &Rows) -> Result<(), StoreError> {
    if !rows.records.is_empty() {
        let sink = conn.client.copy_in(&conn.audit).await.map_err(pg)?;
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &AUDIT_TYPES));
        for r in &rows.records {
            let seq = i64::try_from(r.seq).unwrap_or(i64::MAX);
            writer
                .as_mut()
                .write(&[
                    &r.instance,
                    &seq,
                    &r.time,
                    &r.tracking_number,
                    &r.courier,
                    &r.grant,
                    &r.purpose,
                    &r.outcome,
                    &r.reason,
                    &r.scope,
                    &r.prev,
                    &r.hash,
                ])
                .await
                .map_err(pg)?;
        }
        writer.finish().await.map_err(pg)?;
    }
    let c = &rows.checkpoints;
    if !c.is_empty() {
        let text = |f: fn(&AuditCheckpoint) -> &str| c.iter().map(f).collect::<Vec<&str>>();
        let seq: Vec<i64> = c
            .iter()
            .map(|x| i64::try_from(x.seq).unwrap_or(i64::MAX))
            .collect();
        conn.client
            .execute(
                &conn.checkpoints,
                &[
                    &text(|x| &x.instance),
                    &seq,
                    &text(|x| &x.head),
                    &text(|x| &x.time),
                    &text(|x| &x.signature),
                ],
            )
            .await
            .map_err(pg)?;
    }
    Ok(())
}

impl ResolverStore for PostgresStore {
    fn acquire(&self, claim: Claim) -> BoxFuture<'_, Result<Decision, StoreError>> {
        Box::pin(self.claims.acquire(claim))
    }

    fn admit(&self, guard: ReplayGuard) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(self.claims.admit(guard))
    }

    fn append(&self, event: AuditEvent) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.writes.append(event))
    }

    fn revoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.writes.revoke(revocations))
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
        Box::pin(self.writes.close())
    }
}
