//! This instance's audit log as readers see it: the tree of the committed
//! records and the latest checkpoint, fed by the store's writer after each
//! commit. The witness client and the proof routes read it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use tokio::sync::{mpsc, watch};
use waybill_redact::{AuditTree, ProofError, SignedCheckpoint, TreeHash};

use crate::chain::Feed;

#[derive(Default)]
struct View {
    tree: AuditTree,
    latest: Option<SignedCheckpoint>,
}

/// The committed tree and the latest checkpoint.
pub(crate) struct LogView {
    view: RwLock<View>,
    /// Set once the writer has stopped: nothing will change any more.
    closed: AtomicBool,
    /// Bumped after each change; closed when the writer stops.
    changed: watch::Sender<u64>,
}

impl Default for LogView {
    fn default() -> Self {
        Self {
            view: RwLock::default(),
            closed: AtomicBool::new(false),
            changed: watch::Sender::new(0),
        }
    }
}

impl LogView {
    fn apply(&self, feed: Feed) {
        let mut view = self.view.write().unwrap_or_else(|e| e.into_inner());
        match feed {
            Feed::Start { tree, last } => {
                view.tree = tree;
                view.latest = last;
            }
            Feed::Committed {
                leaves,
                checkpoints,
            } => {
                for leaf in leaves {
                    view.tree.push_leaf_hash(leaf);
                }
                if let Some(cp) = checkpoints.into_iter().last() {
                    view.latest = Some(cp);
                }
            }
        }
        drop(view);
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Applies what the writer sends until it stops.
    pub(crate) async fn follow(&self, mut rx: mpsc::UnboundedReceiver<Feed>) {
        while let Some(feed) = rx.recv().await {
            self.apply(feed);
        }
        self.closed.store(true, Ordering::Release);
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether the writer has stopped.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Wakes on each change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The latest checkpoint signed.
    pub(crate) fn latest(&self) -> Option<SignedCheckpoint> {
        let view = self.view.read().unwrap_or_else(|e| e.into_inner());
        view.latest.clone()
    }

    /// The consistency proof from `old` to `new` leaves.
    pub(crate) fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Vec<TreeHash>, ProofError> {
        let view = self.view.read().unwrap_or_else(|e| e.into_inner());
        view.tree.consistency_proof(old, new)
    }

    /// Leaf `index`'s hash and its inclusion proof in the tree of `size`.
    pub(crate) fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<(TreeHash, Vec<TreeHash>), ProofError> {
        let view = self.view.read().unwrap_or_else(|e| e.into_inner());
        let proof = view.tree.inclusion_proof(index, size)?;
        let leaf = view.tree.leaf(index).ok_or(ProofError::OutOfRange)?;
        Ok((leaf, proof))
    }
}
