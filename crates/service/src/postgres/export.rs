//! Reading the audit chains back: this instance's chain at start, and every
//! chain for an export.

use tokio_postgres::{Client, Row};
use waybill_redact::{AuditCheckpoint, AuditRecord, SignedCheckpoint};

use crate::chain::{attempt_from_columns, export_lines, with_cosignatures, ChainState};
use crate::error::StoreError;
use crate::store::Checkpointing;

use super::pg;

const SELECT_AUDIT: &str = "SELECT instance, seq, time, tracking_number, courier, grant_id,
    purpose, outcome, reason, scope, prev, hash, kind, sealer, client, count, refers_to FROM audit";

pub(super) fn record_from_row(r: &Row) -> Result<AuditRecord, StoreError> {
    let (kind, purpose, outcome) = attempt_from_columns(r.get(12), r.get(6), r.get(7), r.get(8))
        .map_err(|e| StoreError::Corrupt(format!("audit record {}: {e}", r.get::<_, i64>(1))))?;
    let number = |i: usize| {
        r.get::<_, Option<i64>>(i)
            .map(|n| u64::try_from(n).unwrap_or(0))
    };
    Ok(AuditRecord {
        instance: r.get(0),
        seq: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
        time: r.get(2),
        kind,
        tracking_number: r.get(3),
        courier: r.get(4),
        grant: r.get(5),
        sealer: r.get(13),
        purpose,
        outcome,
        scope: r.get(9),
        client: r.get(14),
        count: number(15),
        refers_to: number(16),
        prev: r.get(10),
        hash: r.get(11),
    })
}

pub(super) async fn resume(
    client: &Client,
    instance: &str,
    signing: &Checkpointing,
) -> Result<ChainState, StoreError> {
    let records = chain_records(client, instance).await?;
    let notes = chain_notes(client, instance).await?;
    ChainState::resume(instance, records, notes.last(), signing)
}

async fn chain_records(client: &Client, instance: &str) -> Result<Vec<AuditRecord>, StoreError> {
    client
        .query(
            &format!("{SELECT_AUDIT} WHERE instance = $1 ORDER BY seq"),
            &[&instance],
        )
        .await
        .map_err(pg)?
        .iter()
        .map(record_from_row)
        .collect()
}

/// Every revocation record of every chain, oldest first, each intact.
pub(super) async fn revocation_records(client: &Client) -> Result<Vec<AuditRecord>, StoreError> {
    let records = client
        .query(
            &format!(
                "{SELECT_AUDIT} WHERE kind IN ('revoked', 'unrevoked') ORDER BY time, instance, seq"
            ),
            &[],
        )
        .await
        .map_err(pg)?
        .iter()
        .map(record_from_row)
        .collect::<Result<_, _>>()?;
    crate::revocation_log::intact(records)
}

/// A chain's checkpoint notes by tree size, each with its cosignatures.
async fn chain_notes(client: &Client, instance: &str) -> Result<Vec<SignedCheckpoint>, StoreError> {
    let pairs = |rows: Vec<Row>| -> Vec<(i64, String)> {
        rows.iter().map(|r| (r.get(0), r.get(1))).collect()
    };
    let notes = client
        .query(
            "SELECT size, note FROM audit_notes WHERE instance = $1 ORDER BY size",
            &[&instance],
        )
        .await
        .map_err(pg)?;
    let cosignatures = client
        .query(
            "SELECT size, line FROM audit_cosignatures WHERE instance = $1",
            &[&instance],
        )
        .await
        .map_err(pg)?;
    with_cosignatures(pairs(notes), pairs(cosignatures))
}

/// Every instance's chain, with its checkpoints, as export lines.
pub(super) async fn export(client: &Client) -> Result<Vec<String>, StoreError> {
    let instances = client
        .query(
            "SELECT instance FROM audit UNION SELECT instance FROM audit_notes ORDER BY instance",
            &[],
        )
        .await
        .map_err(pg)?;
    let mut lines = Vec::new();
    for row in instances {
        let instance: String = row.get(0);
        let records = chain_records(client, &instance).await?;
        let checkpoints = client
            .query(
                "SELECT instance, seq, head, time, signature FROM audit_checkpoints \
                 WHERE instance = $1 ORDER BY seq",
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
        let notes = chain_notes(client, &instance).await?;
        lines.extend(export_lines(records, checkpoints, notes));
    }
    Ok(lines)
}
