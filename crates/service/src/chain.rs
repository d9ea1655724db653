//! A writer's audit chain: records get their sequence numbers when a batch is
//! committed, so a failed commit leaves no gap. The records are the leaves of
//! the chain's Merkle tree; a checkpoint (a signed note of the tree's size and
//! root) is signed every N records, when the last one is older than the
//! checkpoint interval, and at close.

use std::time::{Duration, Instant};

use waybill_redact::{
    audit_origin, AuditChain, AuditCheckpoint, AuditEvent, AuditRecord, AuditTree, SignedCheckpoint,
};

use crate::error::StoreError;
use crate::store::Checkpointing;

/// A chain, its tree, and its last checkpoint.
#[derive(Clone)]
pub(crate) struct ChainState {
    pub(crate) chain: AuditChain,
    pub(crate) tree: AuditTree,
    /// The tree size of the last checkpoint.
    pub(crate) checkpointed: u64,
    /// When the last checkpoint was signed (or the chain resumed).
    signed_at: Instant,
}

/// The rows one batch adds.
pub(crate) struct Rows {
    pub(crate) records: Vec<AuditRecord>,
    pub(crate) checkpoints: Vec<SignedCheckpoint>,
}

impl ChainState {
    /// A chain resumed from all its stored records, in order, and its last
    /// stored checkpoint. Every record must chain to the one before, and the
    /// tree of the records must have the checkpoint's root: a chain rewritten
    /// behind the service's back is refused rather than signed over.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] naming the first bad record, or the checkpoint
    /// the records contradict.
    pub(crate) fn resume(
        instance: &str,
        records: impl IntoIterator<Item = AuditRecord>,
        last_checkpoint: Option<&SignedCheckpoint>,
        signing: &Checkpointing,
    ) -> Result<Self, StoreError> {
        let mut tree = AuditTree::new();
        let mut chain = AuditChain::for_instance(instance);
        for record in records {
            let next = AuditChain::after(&record)
                .filter(|_| record.seq == chain.next_seq())
                .filter(|_| record.prev == hex::encode(chain.head()))
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "audit record {} of {instance} is not the next link of its chain",
                        record.seq
                    ))
                })?;
            tree.push(&record);
            chain = next;
        }
        let checkpointed = match last_checkpoint {
            None => 0,
            Some(cp) => {
                let matches = cp.verify(&signing.key.public_key())
                    && cp.origin() == audit_origin(instance)
                    && tree.root_at(cp.size()) == Some(cp.root());
                if !matches {
                    return Err(StoreError::Corrupt(format!(
                        "the audit records of {instance} contradict its last checkpoint \
                         (tree size {}): the log was cut or rewritten",
                        cp.size()
                    )));
                }
                cp.size()
            }
        };
        Ok(Self {
            chain,
            tree,
            checkpointed,
            signed_at: Instant::now(),
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
            next.tree.push(&record);
            if signing.every > 0 && record.seq.is_multiple_of(signing.every) {
                rows.checkpoints.extend(next.sign(signing));
            }
            rows.records.push(record);
        }
        let stale = next.signed_at.elapsed() >= signing.interval;
        if (closing || stale) && next.tree.size() > next.checkpointed {
            rows.checkpoints.extend(next.sign(signing));
        }
        (next, rows)
    }

    fn sign(&mut self, signing: &Checkpointing) -> Option<SignedCheckpoint> {
        let cp = signing
            .key
            .sign_checkpoint(
                &audit_origin(self.chain.instance()),
                self.tree.size(),
                self.tree.root(),
            )
            .map_err(|e| tracing::error!(error = %e, "cannot sign an audit checkpoint"))
            .ok()?;
        self.checkpointed = cp.size();
        self.signed_at = Instant::now();
        Some(cp)
    }
}

/// The default time between checkpoints while records arrive.
pub(crate) const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);

/// Interleaves a chain's records and checkpoints for export: each checkpoint
/// right after the record that ends it. A checkpoint naming records the chain
/// no longer has is written after the chain's last record, so that `audit
/// verify` reports it instead of never seeing it.
pub(crate) fn export_lines(
    records: Vec<AuditRecord>,
    heads: Vec<AuditCheckpoint>,
    notes: Vec<SignedCheckpoint>,
) -> Vec<String> {
    let mut heads = heads.into_iter().peekable();
    let mut notes = notes.into_iter().peekable();
    let mut lines = Vec::with_capacity(records.len());
    for r in records {
        let seq = r.seq;
        lines.push(r.to_json_line());
        while let Some(cp) = heads.next_if(|cp| cp.seq <= seq) {
            lines.push(cp.to_json_line());
        }
        while let Some(cp) = notes.next_if(|cp| cp.size() <= seq) {
            lines.push(cp.to_json_line());
        }
    }
    lines.extend(heads.map(|cp| cp.to_json_line()));
    lines.extend(notes.map(|cp| cp.to_json_line()));
    lines
}

/// A chain's stored notes (tree size, text), each with the cosignature lines
/// stored for its size.
///
/// # Errors
/// [`StoreError::Corrupt`] when a stored note or line does not parse.
pub(crate) fn with_cosignatures(
    notes: Vec<(i64, String)>,
    cosignatures: Vec<(i64, String)>,
) -> Result<Vec<SignedCheckpoint>, StoreError> {
    let corrupt =
        |size: i64| StoreError::Corrupt(format!("the audit checkpoint at {size} does not parse"));
    notes
        .into_iter()
        .map(|(size, text)| {
            let mut cp = SignedCheckpoint::from_text(&text).map_err(|_| corrupt(size))?;
            for (_, line) in cosignatures.iter().filter(|(s, _)| *s == size) {
                cp.add_signature_line(line).map_err(|_| corrupt(size))?;
            }
            Ok(cp)
        })
        .collect()
}
