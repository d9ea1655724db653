//! The auditor: a batch's audit records by binary `COPY`, with its checkpoints and
//! revocations in the same transaction.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Statement};
use waybill_redact::{AuditKind, Revocation, ORIGIN_PREFIX};

use crate::chain::{attempt_columns, ChainState, Rows};
use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::revocation_log::change_events;
use crate::store::{drain, Batch, Checkpointing, Job};

use super::export::resume;
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

const DELETE_REVOCATIONS: &str = "
DELETE FROM revocations WHERE (kind, subject) IN
    (SELECT * FROM unnest($1::text[], $2::text[]))";

/// The auditor's connection and its prepared statements.
pub(super) struct AuditConn {
    client: Client,
    audit: Statement,
    checkpoints: Statement,
    revocations: Statement,
    lift: Statement,
}

/// Commits audit records, checkpoints and revocations, one transaction per batch.
pub(super) struct Auditor {
    config: super::Target,
    instance: String,
    conn: Option<AuditConn>,
    /// `None` after a failed commit whose outcome is unknown: re-read from the table.
    state: Option<ChainState>,
    signing: Checkpointing,
}

impl Auditor {
    /// An auditor that continues `state`, the chain as read at start, and
    /// connects on its first batch.
    pub(super) fn new(
        config: super::Target,
        instance: &str,
        state: ChainState,
        signing: Checkpointing,
    ) -> Self {
        Self {
            config,
            instance: instance.to_owned(),
            conn: None,
            state: Some(state),
            signing,
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Job>, metrics: Arc<Metrics>) {
        while let Some(first) = rx.recv().await {
            let batch = Batch::new(drain(first, &mut rx, &metrics.queue_depth));
            let closing = !batch.close.is_empty();
            let started = Instant::now();
            let result = self.commit(&batch, closing).await;
            metrics.observe_commit(started.elapsed(), batch.events.len(), result.is_ok());
            match result {
                Ok(()) => batch.succeed(Vec::new(), Vec::new()),
                Err(e) => {
                    crate::logline::store_error("commit", &e);
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
            let (audit, checkpoints, revocations, lift) = tokio::try_join!(
                client.prepare(COPY_AUDIT),
                client.prepare(INSERT_CHECKPOINTS),
                client.prepare(INSERT_REVOCATIONS),
                client.prepare(DELETE_REVOCATIONS)
            )
            .map_err(pg)?;
            self.conn = Some(AuditConn {
                client,
                audit,
                checkpoints,
                revocations,
                lift,
            });
        }
        self.conn.as_ref().ok_or(StoreError::Closed)
    }

    async fn commit(&mut self, batch: &Batch, closing: bool) -> Result<(), StoreError> {
        self.connection().await?;
        if self.state.is_none() {
            let conn = self.conn.as_ref().ok_or(StoreError::Closed)?;
            self.state = Some(resume(&conn.client, &self.instance, &self.signing).await?);
        }
        let conn = self.conn.as_ref().ok_or(StoreError::Closed)?;
        // On any error below the state is dropped and resumed from the table.
        let state = self.state.as_mut().ok_or(StoreError::Closed)?;
        let from = state.tree.size();
        // A revocation's record commits in the transaction that changes its row.
        let revocations = change_events(batch.revocations.iter().map(|(c, _)| c));
        let events = batch.events.iter().map(|(e, _)| e).chain(&revocations);
        let (_, rows) = state.extend(events, &self.signing, closing);
        // Records alone are one statement, so one transaction: the copy commits
        // itself. With checkpoints or revocations, one transaction holds them all
        // (on an error the connection is dropped, which rolls it back).
        let together = !batch.revocations.is_empty() || !rows.checkpoints.is_empty();
        if together {
            conn.client.batch_execute("BEGIN").await.map_err(pg)?;
        }
        for (change, _) in &batch.revocations {
            let kinds: Vec<&str> = change.list.iter().map(Revocation::kind).collect();
            let subjects: Vec<String> = change.list.iter().map(Revocation::subject).collect();
            let statement = if change.lifted {
                &conn.lift
            } else {
                &conn.revocations
            };
            conn.client
                .execute(statement, &[&kinds, &subjects])
                .await
                .map_err(pg)?;
        }
        insert_rows(conn, &rows).await?;
        if together {
            conn.client.batch_execute("COMMIT").await.map_err(pg)?;
        }
        if let Some(state) = &self.state {
            state.committed(from, &rows, &self.signing);
        }
        Ok(())
    }
}

/// Adds a batch's records (one binary copy) and checkpoints (one statement), in
/// the caller's transaction.
pub(super) async fn insert_rows(conn: &AuditConn, rows: &Rows) -> Result<(), StoreError> {
    if !rows.records.is_empty() {
        let sink = conn.client.copy_in(&conn.audit).await.map_err(pg)?;
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
                .await
                .map_err(pg)?;
        }
        writer.finish().await.map_err(pg)?;
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
            .await
            .map_err(pg)?;
    }
    Ok(())
}
