//! The auditor: a batch's audit records by binary `COPY`, with its checkpoints and
//! revocations in the same transaction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Statement};
use waybill_redact::{AuditEvent, AuditKind, ORIGIN_PREFIX};

use crate::chain::{attempt_columns, ChainState, Rows};
use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::revocation_log::change_events;
use crate::store::{
    allowed_grants, drain, is_allowed, not_delivered_event, Batch, Checkpointing, Job, Undelivered,
};

use super::export::resume;
use super::timeouts::{bounded, limit, rolled_back, unlimit, Owed, Pending, DOUBT_WAIT};
use super::{connect, pg};

/// A batch's audit records, in PostgreSQL's binary copy format: on this
/// machine it costs the server about two thirds of the CPU of the same rows
/// through `INSERT … SELECT unnest(…)` (`scripts/pg-statement-cost.py`).
const COPY_AUDIT: &str = "COPY audit (instance, seq, time, tracking_number, courier, grant_id,
    purpose, outcome, reason, scope, prev, hash, kind, sealer, client, count, refers_to)
    FROM STDIN (FORMAT BINARY)";

/// The columns of [`COPY_AUDIT`], in order.
const AUDIT_TYPES: [Type; 17] = [
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
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
];

/// A batch's checkpoint notes ($1–$3).
const INSERT_CHECKPOINTS: &str = "
INSERT INTO audit_notes (instance, size, note)
SELECT * FROM unnest($1::text[], $2::int8[], $3::text[])";

const INSERT_REVOCATIONS: &str = "
INSERT INTO revocations (kind, subject) SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT DO NOTHING";

/// Gives quota units back ($1: one grant id per unit): answers that were 503
/// after all (`delivery.rs`).
const GIVE_BACK: &str = "
UPDATE quota AS q SET used = GREATEST(q.used - r.n, 0)
FROM (SELECT g, count(*)::int8 AS n FROM unnest($1::text[]) AS g GROUP BY g) AS r
WHERE q.grant_id = r.g";

const DELETE_REVOCATIONS: &str = "
DELETE FROM revocations WHERE (kind, subject) IN
    (SELECT * FROM unnest($1::text[], $2::text[]))";

/// The auditor's connection and its prepared statements.
pub(super) struct AuditConn {
    client: Client,
    audit: Statement,
    checkpoints: Statement,
    revocations: Statement,
    give_back: Statement,
    lift: Statement,
}

/// Commits audit records, checkpoints and revocations, one transaction per batch.
///
/// A batch that does not commit within the store timeout is answered 503 and
/// left to finish on its connection (`timeouts.rs`): if it commits after all,
/// each allowed record in it is followed by an "answer not delivered" record
/// and its quota unit is given back; if it fails, the quota units are given
/// back. Either is owed ([`Owed`]) until a later commit lands it.
pub(super) struct Auditor {
    config: super::Target,
    instance: String,
    conn: Option<Arc<AuditConn>>,
    /// `None` after a failed commit whose outcome is unknown: re-read from the table.
    state: Option<ChainState>,
    signing: Checkpointing,
    timeout: Duration,
    owed: Owed,
}

/// The allowed records of a batch: (seq, event).
type Allowed = Vec<(u64, AuditEvent)>;

/// A revocation change for [`write`]: lifted or not, kinds, subjects.
type Change = (bool, Vec<&'static str>, Vec<String>);

impl Auditor {
    /// An auditor that continues `state`, the chain as read at start, and
    /// connects on its first batch.
    pub(super) fn new(
        config: super::Target,
        instance: &str,
        state: ChainState,
        signing: Checkpointing,
        timeout: Duration,
        owed: Owed,
    ) -> Self {
        Self {
            config,
            instance: instance.to_owned(),
            conn: None,
            state: Some(state),
            signing,
            timeout,
            owed,
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>, metrics: Arc<Metrics>) {
        while let Some(first) = rx.recv().await {
            let mut batch = Batch::new(drain(first, &mut rx, &metrics.queue_depth));
            self.owed.push(std::mem::take(&mut batch.undelivered));
            let closing = !batch.close.is_empty();
            let started = Instant::now();
            let result = self.commit(&batch, closing).await;
            metrics.observe_commit(started.elapsed(), batch.events.len(), result.is_ok());
            match result {
                Ok((seqs, undelivered)) => {
                    metrics.count_undelivered(undelivered);
                    batch.succeed(Vec::new(), Vec::new(), &seqs);
                }
                Err(e) => {
                    crate::logline::store_error("commit", &e);
                    // The connection may be gone, and whether the commit landed
                    // may be unknown: reconnect and resume from the table next time.
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

    async fn connect(config: super::Target, timeout: Duration) -> Result<AuditConn, StoreError> {
        let client = connect(&config).await?;
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
        limit(&client, timeout).await.map_err(pg)?;
        let (audit, checkpoints, revocations, lift, give_back) = tokio::try_join!(
            client.prepare(COPY_AUDIT),
            client.prepare(INSERT_CHECKPOINTS),
            client.prepare(INSERT_REVOCATIONS),
            client.prepare(DELETE_REVOCATIONS),
            client.prepare(GIVE_BACK)
        )
        .map_err(pg)?;
        Ok(AuditConn {
            client,
            audit,
            checkpoints,
            revocations,
            lift,
            give_back,
        })
    }

    async fn connection(&mut self) -> Result<Arc<AuditConn>, StoreError> {
        if let Some(c) = self.conn.clone().filter(|c| !c.client.is_closed()) {
            return Ok(c);
        }
        let connecting = Box::pin(Self::connect(self.config.clone(), self.timeout));
        let conn = Arc::new(bounded(connecting, self.timeout).await.map_err(|_| {
            StoreError::Unavailable("connecting timed out (store_timeout_ms)".into())
        })??);
        self.conn = Some(conn.clone());
        Ok(conn)
    }

    /// The connection, with the chain resumed from the table if it was lost.
    async fn ready(&mut self) -> Result<Arc<AuditConn>, StoreError> {
        let conn = self.connection().await?;
        if self.state.is_none() {
            // Reading a whole chain may take longer than a statement may.
            unlimit(&conn.client).await.map_err(pg)?;
            self.state = Some(resume(&conn.client, &self.instance, &self.signing).await?);
            limit(&conn.client, self.timeout).await.map_err(pg)?;
        }
        Ok(conn)
    }

    /// Commits a batch: the positions of its records, and how many "answer
    /// not delivered" records it added.
    async fn commit(
        &mut self,
        batch: &Batch,
        closing: bool,
    ) -> Result<(Vec<u64>, usize), StoreError> {
        let conn = match self.ready().await {
            Ok(conn) => conn,
            Err(e) => {
                // Nothing was written: the allowed answers' quota units back.
                self.owed
                    .give_back(allowed_grants(batch.events.iter().map(|(e, _)| e)));
                return Err(e);
            }
        };
        // On any error below the state is dropped and resumed from the table.
        let state = self.state.as_mut().ok_or(StoreError::Closed)?;
        let owed = self.owed.take();
        let from = state.tree.size();
        let events = batch.events.iter().map(|(e, _)| e);
        // A revocation's record commits in the transaction that changes its row.
        let revocation_events = change_events(batch.revocations.iter().map(|(c, _)| c));
        let (_, rows) = state.extend(
            events
                .clone()
                .chain(owed.iter().filter_map(|u| u.record.as_ref()))
                .chain(&revocation_events),
            &self.signing,
            closing,
        );
        let seqs: Vec<u64> = rows.records.iter().map(|r| r.seq).collect();
        let allowed: Allowed = events
            .zip(&seqs)
            .filter(|(e, _)| is_allowed(e))
            .map(|(e, seq)| (*seq, e.clone()))
            .collect();
        let revoked: Vec<Change> = batch
            .revocations
            .iter()
            .map(|(c, _)| {
                let (kinds, subjects) = c.list.iter().map(|r| (r.kind(), r.subject())).unzip();
                (c.lifted, kinds, subjects)
            })
            .collect();
        let give_back: Vec<String> = owed.iter().map(|u| u.grant.to_string()).collect();
        let rows = Arc::new(rows);
        let work = Box::pin(write(conn, rows.clone(), revoked, give_back));
        match bounded(work, self.timeout).await {
            Ok(Ok(())) => {
                if let Some(state) = &self.state {
                    state.committed(from, &rows, &self.signing);
                }
                let undelivered = owed.iter().filter(|u| u.record.is_some()).count();
                Ok((seqs, undelivered))
            }
            Ok(Err(e)) => {
                Settled::failed(&e).owes(owed, allowed, &self.owed);
                Err(pg(e))
            }
            Err(pending) => {
                self.conn = None;
                tokio::spawn(settle(pending, owed, allowed, self.owed.clone()));
                Err(StoreError::Unavailable(
                    "the audit commit timed out (store_timeout_ms)".into(),
                ))
            }
        }
    }
}

/// Waits for the outcome of a commit given up on (its jobs were answered 503).
async fn settle(
    pending: Pending<Result<(), tokio_postgres::Error>>,
    owed: Vec<Undelivered>,
    allowed: Allowed,
    list: Owed,
) {
    let outcome = match tokio::time::timeout(DOUBT_WAIT, pending).await {
        Ok(Ok(())) => {
            tracing::warn!(
                allowed = allowed.len(),
                "an audit commit given up on landed later: its allowed records are \
                 followed by \"answer not delivered\" records"
            );
            Settled::Landed
        }
        Ok(Err(e)) => Settled::failed(&e),
        Err(_) => Settled::Unknown,
    };
    outcome.owes(owed, allowed, &list);
}

/// How a commit ended.
enum Settled {
    Landed,
    RolledBack,
    Unknown,
}

impl Settled {
    fn failed(e: &tokio_postgres::Error) -> Self {
        if rolled_back(e) {
            Self::RolledBack
        } else {
            Self::Unknown
        }
    }

    /// What the commit owes now, all its jobs having been answered 503:
    /// landed, each allowed record gets its "answer not delivered" record;
    /// rolled back, what it carried is owed again and its allowed answers'
    /// quota units are given back; unknown, nothing (logged: quota stays spent,
    /// and the allowed records, if they landed, stand without their "not
    /// delivered" records).
    fn owes(self, owed: Vec<Undelivered>, allowed: Allowed, list: &Owed) {
        match self {
            Self::Landed => list.push(allowed.into_iter().filter_map(|(seq, e)| {
                Some(Undelivered {
                    grant: e.grant_id?,
                    record: Some(not_delivered_event(seq, &e)),
                })
            })),
            Self::RolledBack => {
                list.push(owed);
                list.give_back(allowed.into_iter().filter_map(|(_, e)| e.grant_id));
            }
            Self::Unknown => tracing::error!(
                allowed = allowed.len(),
                owed = owed.len(),
                "an audit commit has no known outcome: its allowed records, if they \
                 landed, have no \"answer not delivered\" record, and no quota unit is \
                 given back"
            ),
        }
    }
}

/// One batch's rows, revocations and quota units given back, in one
/// transaction. Owns its inputs, so that it can run on after the auditor has
/// given up on it.
async fn write(
    conn: Arc<AuditConn>,
    rows: Arc<Rows>,
    revoked: Vec<Change>,
    give_back: Vec<String>,
) -> Result<(), tokio_postgres::Error> {
    // Records alone are one statement, so one transaction: the copy commits
    // itself. With checkpoints, revocations or quota given back, one
    // transaction holds them all (on an error the connection is dropped, which
    // rolls it back).
    let together = !revoked.is_empty() || !rows.checkpoints.is_empty() || !give_back.is_empty();
    if together {
        conn.client.batch_execute("BEGIN").await?;
    }
    for (lifted, kinds, subjects) in &revoked {
        let statement = if *lifted {
            &conn.lift
        } else {
            &conn.revocations
        };
        conn.client.execute(statement, &[kinds, subjects]).await?;
    }
    if !give_back.is_empty() {
        conn.client.execute(&conn.give_back, &[&give_back]).await?;
    }
    insert_rows(&conn, &rows).await?;
    if together {
        conn.client.batch_execute("COMMIT").await?;
    }
    Ok(())
}

/// Adds a batch's records (one binary copy) and checkpoints (one statement), in
/// the caller's transaction.
pub(super) async fn insert_rows(
    conn: &AuditConn,
    rows: &Rows,
) -> Result<(), tokio_postgres::Error> {
    if !rows.records.is_empty() {
        let sink = conn.client.copy_in(&conn.audit).await?;
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &AUDIT_TYPES));
        let number = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        for r in &rows.records {
            let seq = i64::try_from(r.seq).unwrap_or(i64::MAX);
            let (purpose, outcome, reason) = attempt_columns(r);
            let kind = (r.kind != AuditKind::Resolve).then(|| r.kind.as_str());
            writer
                .as_mut()
                .write(&[
                    &r.instance,
                    &seq,
                    &r.time,
                    &r.tracking_number,
                    &r.courier,
                    &r.grant,
                    &purpose,
                    &outcome,
                    &reason,
                    &r.scope,
                    &r.prev,
                    &r.hash,
                    &kind,
                    &r.sealer,
                    &r.client,
                    &number(r.count),
                    &number(r.refers_to),
                ])
                .await?;
        }
        writer.finish().await?;
    }
    let c = &rows.checkpoints;
    if !c.is_empty() {
        let instances: Vec<&str> = c
            .iter()
            .map(|x| x.origin().strip_prefix(ORIGIN_PREFIX).unwrap_or_default())
            .collect();
        let sizes: Vec<i64> = c
            .iter()
            .map(|x| i64::try_from(x.size()).unwrap_or(i64::MAX))
            .collect();
        let notes: Vec<&str> = c.iter().map(|x| x.as_text()).collect();
        conn.client
            .execute(&conn.checkpoints, &[&instances, &sizes, &notes])
            .await?;
    }
    Ok(())
}
