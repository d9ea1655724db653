//! A writer's audit chain: records get their sequence numbers when a batch is
//! committed, so a failed commit leaves no gap. The records are the leaves of
//! the chain's Merkle tree; a checkpoint (a signed note of the tree's size and
//! root) is signed every N records, when the last one is older than the
//! checkpoint interval, and at close.

use std::time::{Duration, Instant};

use waybill_redact::{
    audit_origin, AuditChain, AuditCheckpoint, AuditEvent, AuditKind, AuditRecord, AuditTree,
    DenialReason, Outcome, SignedCheckpoint, TreeHash,
};

use crate::error::StoreError;
use crate::store::Checkpointing;

/// What a store's writer tells the witness client.
#[derive(Debug)]
pub enum Feed {
    /// The chain as resumed at start: its tree and last checkpoint.
    Start {
        /// Every leaf so far.
        tree: AuditTree,
        /// The last stored checkpoint.
        last: Option<SignedCheckpoint>,
    },
    /// A committed batch: its leaves, in order, and its checkpoints.
    Committed {
        /// The leaf hashes of its records.
        leaves: Vec<TreeHash>,
        /// The checkpoints it signed.
        checkpoints: Vec<SignedCheckpoint>,
    },
}

/// A chain, its tree, and its last checkpoint.
pub(crate) struct ChainState {
    pub(crate) chain: AuditChain,
    pub(crate) tree: AuditTree,
    /// The tree size of the last checkpoint.
    pub(crate) checkpointed: u64,
    /// When the last checkpoint was signed (or the chain resumed).
    signed_at: Instant,
}

/// What [`ChainState::undo`] needs to forget a batch whose commit failed.
pub(crate) struct Undo {
    chain: AuditChain,
    size: u64,
    checkpointed: u64,
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
                // The root is what binds the records; the signature may be an
                // older audit key's (the key was rotated).
                if !cp.verify(&signing.key.public_key()) {
                    tracing::info!(
                        size = cp.size(),
                        "the last audit checkpoint is signed by another audit key (rotated)"
                    );
                }
                let matches = cp.origin() == audit_origin(instance)
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
        if let Some(feed) = &signing.feed {
            let _ = feed.send(Feed::Start {
                tree: tree.clone(),
                last: last_checkpoint.cloned(),
            });
        }
        // Records after the last checkpoint (a crash signed no closing one) are
        // signed with the first batch after the restart.
        let now = Instant::now();
        let signed_at = if tree.size() > checkpointed {
            now.checked_sub(signing.interval).unwrap_or(now)
        } else {
            now
        };
        Ok(Self {
            chain,
            tree,
            checkpointed,
            signed_at,
        })
    }

    /// Appends a batch's events to the chain and its tree; the caller hands
    /// the [`Undo`] back if the commit fails. (The tree is not cloned per batch:
    /// it grows with the chain.)
    pub(crate) fn extend<'a>(
        &mut self,
        events: impl Iterator<Item = &'a AuditEvent>,
        signing: &Checkpointing,
        closing: bool,
    ) -> (Undo, Rows) {
        let undo = Undo {
            chain: self.chain.clone(),
            size: self.tree.size(),
            checkpointed: self.checkpointed,
            signed_at: self.signed_at,
        };
        let mut rows = Rows {
            records: Vec::new(),
            checkpoints: Vec::new(),
        };
        for event in events {
            let record = self.chain.append(event);
            self.tree.push(&record);
            if signing.every > 0 && record.seq.is_multiple_of(signing.every) {
                rows.checkpoints.extend(self.sign(signing));
            }
            rows.records.push(record);
        }
        let stale = self.signed_at.elapsed() >= signing.interval;
        if (closing || stale) && self.tree.size() > self.checkpointed {
            rows.checkpoints.extend(self.sign(signing));
        }
        (undo, rows)
    }

    /// Forgets the batch [`extend`](Self::extend) added.
    pub(crate) fn undo(&mut self, undo: Undo) {
        self.chain = undo.chain;
        self.tree.truncate(undo.size);
        self.checkpointed = undo.checkpointed;
        self.signed_at = undo.signed_at;
    }

    /// Tells the witness feed (if any) what a batch committed: the new leaves
    /// since `from` and its checkpoints.
    pub(crate) fn committed(&self, from: u64, rows: &Rows, signing: &Checkpointing) {
        if let Some(feed) = &signing.feed {
            let leaves = (from..self.tree.size())
                .filter_map(|i| self.tree.leaf(i))
                .collect();
            let _ = feed.send(Feed::Committed {
                leaves,
                checkpoints: rows.checkpoints.clone(),
            });
        }
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

/// A record's `purpose`, `outcome` and `reason` columns. The first two are
/// NOT NULL (they predate record kinds): a record of another kind stores an
/// empty purpose and its kind as its outcome, so that `outcome = 'allowed'`
/// still finds exactly the disclosures.
pub(crate) fn attempt_columns(r: &AuditRecord) -> (&str, &'static str, Option<&'static str>) {
    (
        r.purpose.as_deref().unwrap_or(""),
        r.outcome.map_or(r.kind.as_str(), Outcome::as_str),
        r.outcome
            .and_then(Outcome::reason)
            .map(DenialReason::as_str),
    )
}

/// The kind, purpose and outcome of a stored record, from its `kind`,
/// `purpose`, `outcome` and `reason` columns (the inverse of [`attempt_columns`]).
///
/// # Errors
/// An unknown kind, outcome or reason.
pub(crate) fn attempt_from_columns(
    kind: Option<&str>,
    purpose: String,
    outcome: &str,
    reason: Option<&str>,
) -> Result<(AuditKind, Option<String>, Option<Outcome>), String> {
    match kind {
        None => Outcome::from_parts(outcome, reason)
            .map(|o| (AuditKind::Resolve, Some(purpose), Some(o)))
            .map_err(|e| e.to_string()),
        Some(k) => k
            .parse::<AuditKind>()
            .ok()
            .filter(|k| *k != AuditKind::Resolve)
            .map(|k| (k, None, None))
            .ok_or_else(|| format!("unknown audit record kind {k:?}")),
    }
}
