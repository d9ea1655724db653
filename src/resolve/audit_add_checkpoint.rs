//! The body of a c2sp.org/tlog-witness `add-checkpoint` request: the size of
//! the last checkpoint the witness cosigned for the log, a consistency proof
//! from it, a blank line, and the new signed checkpoint.
//!
//! ```text
//! old 5
//! <base64 hash>
//! <base64 hash>
//!
//! <signed checkpoint note>
//! ```

use tlog_tiles::Hash;

use super::audit_note::SignedCheckpoint;
use super::audit_tree::TreeHash;

/// Longest request body a witness reads.
pub const MAX_ADD_CHECKPOINT_BYTES: usize = 64 * 1024;

/// Most proof hashes in a request (a consistency proof of a tree of 2^63
/// leaves has fewer).
const MAX_PROOF_HASHES: usize = 64;

/// An `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the last checkpoint the witness cosigned for this log (0
    /// for none).
    pub old_size: u64,
    /// The consistency proof from that tree to the new one (empty when
    /// `old_size` is 0 or equals the new size).
    pub proof: Vec<TreeHash>,
    /// The new checkpoint, signed by the log.
    pub checkpoint: SignedCheckpoint,
}

impl AddCheckpoint {
    /// Parses a request body.
    ///
    /// # Errors
    /// `None` for a malformed body (the witness answers 400).
    pub fn from_body(body: &str) -> Option<Self> {
        if body.len() > MAX_ADD_CHECKPOINT_BYTES {
            return None;
        }
        let (head, note) = body.split_once("\n\n")?;
        let mut lines = head.split('\n');
        let old = lines.next()?.strip_prefix("old ")?;
        if old.is_empty()
            || !old.bytes().all(|b| b.is_ascii_digit())
            || old.starts_with('0') && old.len() > 1
        {
            return None;
        }
        let old_size = old.parse().ok()?;
        let proof = lines
            .map(|l| Hash::parse_hash(l).ok().map(|h| h.0))
            .collect::<Option<Vec<_>>>()?;
        if proof.len() > MAX_PROOF_HASHES {
            return None;
        }
        let checkpoint = SignedCheckpoint::from_text(note).ok()?;
        Some(Self {
            old_size,
            proof,
            checkpoint,
        })
    }

    /// The request body.
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for h in &self.proof {
            body.push_str(&Hash(*h).to_string());
            body.push('\n');
        }
        body.push('\n');
        body.push_str(self.checkpoint.as_text());
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{audit_origin, AuditKey};

    #[test]
    fn a_request_round_trips_and_malformed_ones_are_refused() {
        let key = AuditKey::generate();
        let checkpoint = key.sign_checkpoint(&audit_origin("a"), 9, [4; 32]).unwrap();
        let request = AddCheckpoint {
            old_size: 5,
            proof: vec![[1; 32], [2; 32]],
            checkpoint,
        };
        let body = request.to_body();
        assert!(body.starts_with("old 5\nAQEB"));
        assert_eq!(AddCheckpoint::from_body(&body), Some(request.clone()));
        for bad in [
            body.replacen("old 5", "old -5", 1),
            body.replacen("old 5", "old 05", 1),
            body.replacen("old 5", "new 5", 1),
            body.replacen("AQEB", "!!!", 1),
            body.replacen("\n\n", "\n", 1),
            "old 0\n\nnot a note\n".to_owned(),
            String::new(),
        ] {
            assert_eq!(AddCheckpoint::from_body(&bad), None, "{bad:?}");
        }
        let empty = AddCheckpoint {
            old_size: 0,
            proof: Vec::new(),
            ..request
        };
        assert_eq!(AddCheckpoint::from_body(&empty.to_body()), Some(empty));
    }
}
