//! The audit key (Ed25519) that signs checkpoints of a chain's head, so that a
//! rewritten chain, or one cut short before a checkpoint, is detected. The
//! signing key lives with the resolver; verifiers hold only the public key.
//!
//! A checkpoint signs:
//!
//! ```text
//! "waybill-redact audit checkpoint v1" 0x00
//! instance, time     each 0x01 ‖ u16 length (big-endian) ‖ UTF-8
//! seq                u64, big-endian: the last record covered
//! head               32 bytes: that record's hash
//! ```

use serde::{Deserialize, Serialize};

use super::ed25519_key::{key_role, Ed25519Key, Ed25519PublicKey};

const DOMAIN: &[u8] = b"waybill-redact audit checkpoint v1\0";

/// The key that signs audit checkpoints. Zeroized on drop; `Debug` shows the
/// public key only.
pub type AuditKey = Ed25519Key<key_role::Audit>;

/// The public half, for `audit verify --key`. Text form: `WA1:` and 64 hex digits.
pub type AuditPublicKey = Ed25519PublicKey<key_role::Audit>;

/// A signed statement that a chain's record `seq` has hash `head`.
///
/// Not `#[non_exhaustive]`, on purpose: the fields are the signed checkpoint
/// format (`docs/TOKEN.md`); a new field is a new format version, a breaking
/// change either way. Stores build checkpoints field by field from their rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditCheckpoint {
    /// The chain's instance id.
    pub instance: String,
    /// The last record covered.
    pub seq: u64,
    /// That record's hash, hex.
    pub head: String,
    /// When it was signed (record time format).
    pub time: String,
    /// The Ed25519 signature, hex.
    pub signature: String,
}

fn put(out: &mut Vec<u8>, text: &str) {
    let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
    out.push(1);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text.as_bytes().get(..usize::from(len)).unwrap_or(&[]));
}

fn message(instance: &str, time: &str, seq: u64, head: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(DOMAIN);
    put(&mut m, instance);
    put(&mut m, time);
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(head);
    m
}

impl AuditKey {
    /// A fresh key from the OS random source.
    ///
    /// # Panics
    /// If the OS random source fails, as [`IssuerKey::generate`](crate::IssuerKey::generate).
    pub fn generate() -> Self {
        let Some(key) = Self::random() else {
            panic!("the OS random source failed");
        };
        key
    }

    /// Signs a checkpoint of record `seq` whose hash is `head`.
    pub fn checkpoint(
        &self,
        instance: &str,
        seq: u64,
        head: [u8; 32],
        time: &str,
    ) -> AuditCheckpoint {
        let sig = self.sign(&message(instance, time, seq, &head));
        AuditCheckpoint {
            instance: instance.to_owned(),
            seq,
            head: hex::encode(head),
            time: time.to_owned(),
            signature: hex::encode(sig),
        }
    }
}

impl AuditCheckpoint {
    /// Whether the signature is valid under `key` (strict Ed25519).
    pub fn verify(&self, key: &AuditPublicKey) -> bool {
        let mut head = [0u8; 32];
        let mut sig = [0u8; 64];
        if hex::decode_to_slice(&self.head, &mut head).is_err()
            || hex::decode_to_slice(&self.signature, &mut sig).is_err()
        {
            return false;
        }
        let m = message(&self.instance, &self.time, self.seq, &head);
        key.verify(&m, &sig)
    }

    /// The JSON line form, `{"checkpoint":{…}}`, as `audit export` writes it.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({ "checkpoint": self }).to_string()
    }
}
