//! The audit log as a transparency log: each chain's records are the leaves of
//! an RFC 6962 / RFC 9162 Merkle tree (SHA-256), leaf `i` being record `i + 1`'s
//! canonical bytes ([`AuditRecord::hashed_bytes`]). The tree, its root, and the
//! inclusion and consistency proofs are `tlog_tiles`' (a port of Go's
//! `golang.org/x/mod/sumdb/tlog`); this module only keeps the stored hashes.
//!
//! The tree is kept in memory, about two hashes (64 bytes) per record.

use tlog_tiles::{
    check_record, check_tree, prove_record, prove_tree, record_hash, stored_hash_count,
    stored_hash_index, stored_hashes_for_record_hash, tree_hash, Hash, HashReader,
};

use super::audit_record::AuditRecord;

/// A Merkle tree hash (a leaf hash or a root), 32 bytes.
pub type TreeHash = [u8; 32];

/// An RFC 6962 Merkle tree over a chain's records, grown one leaf at a time.
#[derive(Clone, Default)]
pub struct AuditTree {
    /// Every stored hash, in `tlog_tiles`' stored-hash order.
    stored: Vec<Hash>,
    size: u64,
}

impl core::fmt::Debug for AuditTree {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuditTree")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Why a proof was not made or did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The sizes or index asked for are outside the tree (or out of order).
    #[error("the requested leaf or tree size is outside the tree")]
    OutOfRange,
    /// The proof does not lead to the expected root: the trees differ.
    #[error("the proof does not verify")]
    Invalid,
}

/// The leaf hash of a record: SHA-256(0x00 ‖ canonical bytes).
pub fn leaf_hash(record: &AuditRecord) -> TreeHash {
    record_hash(&record.hashed_bytes()).0
}

struct Stored<'a>(&'a [Hash]);

impl HashReader for Stored<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.0.get(i))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesOutOfOrder)
            })
            .collect()
    }
}

impl AuditTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends the leaf for `record`.
    pub fn push(&mut self, record: &AuditRecord) {
        self.push_leaf_hash(leaf_hash(record));
    }

    /// Appends a leaf given its leaf hash.
    pub fn push_leaf_hash(&mut self, leaf: TreeHash) {
        // Reads only hashes already stored (those of completed subtrees), which
        // `Stored` always has; were one missing, the tree stays as it was.
        if let Ok(new) = stored_hashes_for_record_hash(self.size, Hash(leaf), &Stored(&self.stored))
        {
            self.stored.extend(new);
            self.size = self.size.saturating_add(1);
        }
    }

    /// Drops the leaves after the first `size` (a batch whose commit failed).
    pub fn truncate(&mut self, size: u64) {
        if size < self.size {
            let keep = usize::try_from(stored_hash_count(size)).unwrap_or(usize::MAX);
            self.stored.truncate(keep);
            self.size = size;
        }
    }

    /// The root of the tree's first `size` leaves (the empty tree's root, the
    /// SHA-256 of nothing, for 0); `None` when `size` exceeds the tree.
    pub fn root_at(&self, size: u64) -> Option<TreeHash> {
        if size > self.size {
            return None;
        }
        tree_hash(size, &Stored(&self.stored)).ok().map(|h| h.0)
    }

    /// The root of the whole tree.
    pub fn root(&self) -> TreeHash {
        self.root_at(self.size).unwrap_or_default()
    }

    /// The leaf hash of leaf `index` (0-based), when the tree has it.
    pub fn leaf(&self, index: u64) -> Option<TreeHash> {
        if index >= self.size {
            return None;
        }
        let i = usize::try_from(stored_hash_index(0, index)).ok()?;
        self.stored.get(i).map(|h| h.0)
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves.
    ///
    /// # Errors
    /// [`ProofError::OutOfRange`] unless `index < size <= self.size()`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<TreeHash>, ProofError> {
        if index >= size || size > self.size {
            return Err(ProofError::OutOfRange);
        }
        prove_record(size, index, &Stored(&self.stored))
            .map(|p| p.into_iter().map(|h| h.0).collect())
            .map_err(|_| ProofError::OutOfRange)
    }

    /// The consistency proof from the tree of the first `old` leaves to that of
    /// the first `new` leaves.
    ///
    /// # Errors
    /// [`ProofError::OutOfRange`] unless `1 <= old <= new <= self.size()`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<TreeHash>, ProofError> {
        if old == 0 || old > new || new > self.size {
            return Err(ProofError::OutOfRange);
        }
        prove_tree(new, old, &Stored(&self.stored))
            .map(|p| p.into_iter().map(|h| h.0).collect())
            .map_err(|_| ProofError::OutOfRange)
    }
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves whose root is
/// `root`.
///
/// # Errors
/// [`ProofError::OutOfRange`] when `index >= size`; [`ProofError::Invalid`] when
/// the proof does not lead to `root`.
pub fn verify_inclusion(
    proof: &[TreeHash],
    index: u64,
    size: u64,
    leaf: TreeHash,
    root: TreeHash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange);
    }
    let proof: Vec<Hash> = proof.iter().copied().map(Hash).collect();
    check_record(&proof, size, Hash(root), index, Hash(leaf)).map_err(|_| ProofError::Invalid)
}

/// Checks that the tree of `old` leaves with root `old_root` is a prefix of the
/// tree of `new` leaves with root `new_root`. Equal sizes need an empty proof
/// and equal roots.
///
/// # Errors
/// [`ProofError::OutOfRange`] unless `1 <= old <= new`; [`ProofError::Invalid`]
/// when the proof does not verify.
pub fn verify_consistency(
    proof: &[TreeHash],
    old: u64,
    new: u64,
    old_root: TreeHash,
    new_root: TreeHash,
) -> Result<(), ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::OutOfRange);
    }
    let proof: Vec<Hash> = proof.iter().copied().map(Hash).collect();
    check_tree(&proof, new, Hash(new_root), old, Hash(old_root)).map_err(|_| ProofError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(n: u8) -> AuditTree {
        let mut t = AuditTree::new();
        for i in 0..n {
            t.push_leaf_hash(record_hash(&[i]).0);
        }
        t
    }

    #[test]
    fn every_inclusion_and_consistency_proof_of_small_trees_verifies_and_a_changed_one_does_not() {
        let t = tree_of(13);
        for size in 1..=13u64 {
            let root = t.root_at(size).unwrap();
            for index in 0..size {
                let p = t.inclusion_proof(index, size).unwrap();
                let leaf = t.leaf(index).unwrap();
                assert_eq!(verify_inclusion(&p, index, size, leaf, root), Ok(()));
                assert_eq!(
                    verify_inclusion(&p, index, size, [0; 32], root),
                    Err(ProofError::Invalid)
                );
            }
            for old in 1..=size {
                let p = t.consistency_proof(old, size).unwrap();
                let old_root = t.root_at(old).unwrap();
                assert_eq!(verify_consistency(&p, old, size, old_root, root), Ok(()));
                assert_eq!(
                    verify_consistency(&p, old, size, [1; 32], root),
                    Err(ProofError::Invalid),
                    "{old} -> {size}"
                );
            }
        }
        assert_eq!(t.inclusion_proof(13, 13), Err(ProofError::OutOfRange));
        assert_eq!(t.consistency_proof(0, 3), Err(ProofError::OutOfRange));
        assert_eq!(t.consistency_proof(3, 14), Err(ProofError::OutOfRange));
        assert_eq!(t.root_at(14), None);
        let mut cut = t.clone();
        cut.truncate(6);
        assert_eq!((cut.size(), cut.root()), (6, t.root_at(6).unwrap()));
        cut.push_leaf_hash(t.leaf(6).unwrap());
        assert_eq!(cut.root(), t.root_at(7).unwrap());
    }

    #[test]
    fn the_empty_tree_has_the_rfc_6962_empty_root_and_a_forked_tree_is_not_consistent() {
        assert_eq!(
            hex::encode(AuditTree::new().root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let a = tree_of(6);
        let mut b = tree_of(5);
        b.push_leaf_hash([9; 32]);
        b.push_leaf_hash([9; 32]);
        let p = b.consistency_proof(6, 7).unwrap();
        assert_eq!(
            verify_consistency(&p, 6, 7, a.root(), b.root()),
            Err(ProofError::Invalid)
        );
    }

    #[test]
    fn garbage_proofs_of_any_length_are_refused_without_panicking() {
        let t = tree_of(9);
        for len in 0..70 {
            let p = vec![[3u8; 32]; len];
            assert!(verify_inclusion(&p, 4, 9, t.leaf(4).unwrap(), t.root()).is_err());
            assert!(verify_consistency(&p, 4, 9, t.root_at(4).unwrap(), t.root()).is_err());
            assert!(verify_consistency(&p, 1, u64::MAX, [0; 32], t.root()).is_err());
        }
    }
}
