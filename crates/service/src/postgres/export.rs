//! Reading the audit chains back: this instance's chain at start, and every
//! chain for an export.

use tokio_postgres::{Client, Row};
use waybill_redact::{AuditCheckpoint, AuditRecord, Outcome};

use crate::chain::{export_lines, ChainState};
use crate::error::StoreError;

use super::pg;

const SELECT_AUDIT: &str = "SELECT instance, seq, time, tracking_number, courier, grant_id,
    purpose, outcome, reason, scope, prev, hash FROM audit";

pub(super) fn record_from_row(r: &Row) -> Result<AuditRecord, StoreError> {
    let outcome = Outcome::from_parts(r.get(7), r.get(8))
        .map_err(|e| StoreError::Corrupt(format!("audit record {}: {e}", r.get::<_, i64>(1))))?;
    Ok(AuditRecord {
        instance: r.get(0),
        seq: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
        time: r.get(2),
        tracking_number: r.get(3),
        courier: r.get(4),
        grant: r.get(5),
        purpose: r.get(6),
        outcome,
        scope: r.get(9),
        prev: r.get(10),
        hash: r.get(11),
    })
}

pub(super) async fn resume(client: &Client, instance: &str) -> Result<ChainState, StoreError> {
    let last = client
        .query_opt(
            &format!("{SELECT_AUDIT} WHERE instance = $1 ORDER BY seq DESC LIMIT 1"),
            &[&instance],
        )
        .await
        .map_err(pg)?
        .map(|r| record_from_row(&r))
        .transpose()?;
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

/// Every instance's chain, with its checkpoints, as export lines.
pub(super) async fn export(client: &Client) -> Result<Vec<String>, StoreError> {
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
            .collect::<Result<_, _>>()?;
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
}
