//! A writer's audit chain: records get their sequence numbers when a batch is
//! committed, so a failed commit leaves no gap; checkpoints are signed every N
//! records and at close.

use waybill_redact::{AuditChain, AuditCheckpoint, AuditEvent, AuditRecord};

use crate::store::Checkpointing;

/// A chain and the sequence number of its last checkpoint.
#[derive(Clone)]
pub(crate) struct ChainState {
    pub(crate) chain: AuditChain,
    pub(crate) last_record: Option<AuditRecord>,
    pub(crate) checkpointed: u64,
}

/// The rows one batch adds.
pub(crate) struct Rows {
    pub(crate) records: Vec<AuditRecord>,
    pub(crate) checkpoints: Vec<AuditCheckpoint>,
}

impl ChainState {
    /// A chain resumed after its last stored record and checkpoint.
    pub(crate) fn resume(
        instance: &str,
        last: Option<AuditRecord>,
        checkpointed: u64,
    ) -> Option<Self> {
        let chain = match &last {
            None => AuditChain::for_instance(instance),
            Some(r) => AuditChain::after(r)?,
        };
        Some(Self {
            chain,
            last_record: last,
            checkpointed,
        })
    }

    /// Appends a batch's events to a copy of the chain; the caller keeps the copy
    /// only if the commit succeeds.
    pub(crate) fn extend<'a>(
        &self,
        events: impl Iterator<Item = &'a AuditEvent>,
        signing: &Checkpointing,
        closing: bool,
    ) -> (Self, Rows) {
        let mut next = self.clone();
        let mut rows = Rows {
            records: Vec::new(),
            checkpoints: Vec::new(),
        };
        for event in events {
            let record = next.chain.append(event);
            if signing.every > 0 && record.seq.is_multiple_of(signing.every) {
                rows.checkpoints.push(next.sign(&record, signing));
            }
            next.last_record = Some(record.clone());
            rows.records.push(record);
        }
        if closing {
            if let Some(last) = next.last_record.clone() {
                if last.seq > next.checkpointed {
                    rows.checkpoints.push(next.sign(&last, signing));
                }
            }
        }
        (next, rows)
    }

    fn sign(&mut self, record: &AuditRecord, signing: &Checkpointing) -> AuditCheckpoint {
        self.checkpointed = record.seq;
        signing.key.checkpoint(
            self.chain.instance(),
            record.seq,
            record.digest(),
            &record.time,
        )
    }
}

/// Interleaves a chain's records and checkpoints for export: each checkpoint
/// right after the record it covers.
pub(crate) fn export_lines(
    records: Vec<AuditRecord>,
    checkpoints: Vec<AuditCheckpoint>,
) -> Vec<String> {
    let mut cps = checkpoints.into_iter().peekable();
    let mut lines = Vec::with_capacity(records.len());
    for r in records {
        let seq = r.seq;
        lines.push(r.to_json_line());
        while let Some(cp) = cps.next_if(|cp| cp.seq <= seq) {
            if cp.seq == seq {
                lines.push(cp.to_json_line());
            }
        }
    }
    lines
}
