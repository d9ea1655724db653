//! Revocations are audit records. Every change to the revocation table is
//! committed with a `revoked` or `unrevoked` record in the same transaction,
//! and at start the table is checked against the log: the log is append-only
//! and witnessed, the table is not. A revocation the log holds in force but the
//! table lost (a row deleted behind the log's back) is put back, with an error
//! line naming it; a row the log does not know (written before revocations
//! were audited, or behind the log's back) is recorded now. Either way the
//! resolver starts refusing what the log says is revoked
//! (`docs/OPERATIONS.md`, "Revocations").

use std::collections::HashSet;

use time::OffsetDateTime;
use waybill_redact::{AuditEvent, AuditKind, AuditRecord, Revocation};

use crate::error::StoreError;
use crate::store::ResolverStore;

/// One admin request's revocations, or their lifting.
#[derive(Debug, Clone)]
pub(crate) struct RevocationChange {
    /// What is revoked (or lifted), without repeats.
    pub(crate) list: Vec<Revocation>,
    /// Whether the revocations are lifted.
    pub(crate) lifted: bool,
}

impl RevocationChange {
    /// A change of `list` (repeats dropped, order kept).
    pub(crate) fn new(list: Vec<Revocation>, lifted: bool) -> Self {
        let mut seen = HashSet::new();
        let list = list
            .into_iter()
            .filter(|r| seen.insert(r.clone()))
            .collect();
        Self { list, lifted }
    }

    /// The audit events of the change, one per revocation, at `time`.
    pub(crate) fn events(&self, time: OffsetDateTime) -> impl Iterator<Item = AuditEvent> + '_ {
        self.list
            .iter()
            .map(move |r| AuditEvent::revocation(time, r, self.lifted))
    }
}

/// The audit events of a batch's revocation changes, in arrival order.
pub(crate) fn change_events<'a>(
    changes: impl IntoIterator<Item = &'a RevocationChange>,
) -> Vec<AuditEvent> {
    let now = OffsetDateTime::now_utc();
    changes.into_iter().flat_map(|c| c.events(now)).collect()
}

/// The revocations in force by the log: each subject as its latest record
/// left it. `records` come oldest first.
pub(crate) fn in_force<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> HashSet<Revocation> {
    let mut set = HashSet::new();
    for record in records {
        if let Some(r) = record.revocation() {
            if record.kind == AuditKind::Unrevoked {
                set.remove(&r);
            } else {
                set.insert(r);
            }
        }
    }
    set
}

/// Revocation records as a store reads them: each must hash to its `hash`.
///
/// # Errors
/// [`StoreError::Corrupt`] naming the first edited record.
pub(crate) fn intact(records: Vec<AuditRecord>) -> Result<Vec<AuditRecord>, StoreError> {
    match records.iter().find(|r| !r.hash_matches() || !r.fits_kind()) {
        Some(r) => Err(StoreError::Corrupt(format!(
            "audit record {} of {} (a revocation) was edited: its hash does not match",
            r.seq, r.instance
        ))),
        None => Ok(records),
    }
}

/// What [`reconcile`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Reconciled {
    /// Revocations the log holds in force that the table had lost: put back.
    pub(crate) restored: Vec<Revocation>,
    /// Rows the log did not know: recorded now.
    pub(crate) recorded: Vec<Revocation>,
}

/// Checks the revocation table against the audit log at start, and makes
/// the table what the log says, as the module says.
///
/// # Errors
/// [`StoreError`] when the store cannot be read or written, or a revocation
/// record was edited.
pub(crate) async fn reconcile(store: &dyn ResolverStore) -> Result<Reconciled, StoreError> {
    let records = store.revocation_records().await?;
    let logged = in_force(&records);
    let table: HashSet<Revocation> = store.revocations().await?.into_iter().collect();
    let mut restored: Vec<Revocation> = logged.difference(&table).cloned().collect();
    let mut recorded: Vec<Revocation> = table.difference(&logged).cloned().collect();
    restored.sort_by_key(|r| (r.kind(), r.subject()));
    recorded.sort_by_key(|r| (r.kind(), r.subject()));
    for r in &restored {
        tracing::error!(
            kind = r.kind(),
            subject = %r.subject(),
            "a revocation the audit log holds in force was missing from the revocation \
             table (deleted behind the log's back): restored"
        );
    }
    if !restored.is_empty() {
        store.restore_revocations(restored.clone()).await?;
    }
    for r in &recorded {
        tracing::warn!(
            kind = r.kind(),
            subject = %r.subject(),
            "a revocation row had no audit record: recorded now"
        );
    }
    if !recorded.is_empty() {
        store.revoke(recorded.clone()).await?;
    }
    Ok(Reconciled { restored, recorded })
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_redact::{AuditChain, GrantId};

    #[test]
    fn the_latest_record_of_each_subject_decides() {
        let a = Revocation::Grant(GrantId::from_bytes([1; 16]));
        let b = Revocation::parcel("sf1");
        let mut chain = AuditChain::for_instance("i");
        let changes = [
            RevocationChange::new(vec![a.clone(), b.clone(), a.clone()], false),
            RevocationChange::new(vec![a.clone()], true),
        ];
        assert_eq!(changes[0].list.len(), 2, "repeats are dropped");
        let records: Vec<AuditRecord> = change_events(&changes)
            .iter()
            .map(|e| chain.append(e))
            .collect();
        assert_eq!(records.len(), 3);
        assert_eq!(in_force(&records), HashSet::from([b]));
        assert_eq!(intact(records.clone()).map(|r| r.len()).ok(), Some(3));
        let mut edited = records;
        edited[1].tracking_number = Some("SF2".into());
        assert!(matches!(intact(edited), Err(StoreError::Corrupt(_))));
    }
}
