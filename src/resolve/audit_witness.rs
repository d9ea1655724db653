//! The witness key: an Ed25519 key that cosigns audit checkpoints in the
//! c2sp.org/tlog-cosignature `cosignature/v1` format. A witness runs on another
//! host under another owner; verifiers hold its public key (`WW1:` and 64 hex
//! digits). The key name on a cosignature line is the witness's own choice: a
//! verifier matches it by key id, SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[..4].
//!
//! A cosignature is the 8-byte big-endian time (unix seconds) followed by the
//! Ed25519 signature of:
//!
//! ```text
//! cosignature/v1
//! time <time>
//! <checkpoint body: origin, size, root lines>
//! ```

use super::audit_note::{note_key_id, NoteFormatError};
use super::ed25519_key::{key_role, Ed25519Key, Ed25519PublicKey};

/// The signed-note signature type of a `cosignature/v1` key.
const ALG_COSIGNATURE_V1: u8 = 0x04;

/// A witness's signing key. Zeroized on drop; `Debug` shows the public key only.
pub type WitnessKey = Ed25519Key<key_role::Witness>;

/// A witness's public key. Text form: `WW1:` and 64 hex digits.
pub type WitnessPublicKey = Ed25519PublicKey<key_role::Witness>;

fn cosigned_message(body: &[u8], time: u64) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {time}\n").into_bytes();
    m.extend_from_slice(body);
    m
}

impl WitnessKey {
    /// A fresh key from the OS random source.
    ///
    /// # Panics
    /// If the OS random source fails, as [`AuditKey::generate`](crate::AuditKey::generate).
    pub fn generate() -> Self {
        let Some(key) = Self::random() else {
            panic!("the OS random source failed");
        };
        key
    }

    /// The cosignature line (`— name base64`, newline-terminated) over a
    /// checkpoint's `body` (its text, newline-terminated), made at `time`.
    ///
    /// # Errors
    /// [`NoteFormatError::BadOrigin`] when `name` cannot be a note key name.
    pub fn cosignature_line(
        &self,
        name: &str,
        body: &[u8],
        time: u64,
    ) -> Result<String, NoteFormatError> {
        let sig = self.sign(&cosigned_message(body, time));
        let mut bytes = time.to_be_bytes().to_vec();
        bytes.extend_from_slice(&sig);
        let id = self.public_key().note_key_id(name);
        let line = signed_note::Signature::new(name.to_owned(), id, bytes)
            .map_err(|_| NoteFormatError::BadOrigin)?;
        Ok(String::from_utf8_lossy(&line.to_bytes()).into_owned())
    }
}

impl WitnessPublicKey {
    /// The note key id of this key under `name`.
    pub fn note_key_id(&self, name: &str) -> u32 {
        note_key_id(name, ALG_COSIGNATURE_V1, self.as_bytes())
    }

    /// The cosignature's time when `signature` (time ‖ Ed25519 signature) is a
    /// valid `cosignature/v1` by this key over `body`; `None` otherwise.
    pub fn verify_cosignature(&self, body: &[u8], signature: &[u8]) -> Option<u64> {
        let (time, sig) = signature.split_first_chunk::<8>()?;
        let time = u64::from_be_bytes(*time);
        self.verify(&cosigned_message(body, time), sig)
            .then_some(time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::audit_note::SignedCheckpoint;
    use crate::AuditKey;

    #[test]
    fn witness_key_errors_name_the_witness_key() {
        let e = "WW1:zz".parse::<WitnessPublicKey>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid witness key: not WW1: and 64 hex digits"
        );
        let e = WitnessKey::from_json("{}").unwrap_err();
        assert!(e.to_string().starts_with("invalid witness key: "), "{e}");
    }

    #[test]
    fn a_cosigned_checkpoint_verifies_under_both_keys_and_nothing_else() {
        let log = AuditKey::generate();
        let witness = WitnessKey::generate();
        let other = WitnessKey::generate();
        let mut cp = log
            .sign_checkpoint("waybill-redact.audit/a", 7, [5; 32])
            .unwrap();
        assert!(cp.verify(&log.public_key()));
        assert_eq!(
            cp.cosigned_by(&log.public_key(), &witness.public_key()),
            None
        );
        cp.cosign(&witness, "compliance.example/witness", 1_800_000_000)
            .unwrap();
        let text = cp.as_text().to_owned();
        let parsed = SignedCheckpoint::from_text(&text).unwrap();
        assert_eq!((parsed.size(), parsed.root()), (7, [5; 32]));
        assert_eq!(
            parsed.cosigned_by(&log.public_key(), &witness.public_key()),
            Some(1_800_000_000)
        );
        assert_eq!(
            parsed.cosigned_by(&log.public_key(), &other.public_key()),
            None
        );
        assert!(!parsed.verify(&AuditKey::generate().public_key()));
        // A cosignature moved onto another checkpoint does not verify there.
        let line = text.lines().last().unwrap();
        let mut moved = log
            .sign_checkpoint("waybill-redact.audit/a", 8, [5; 32])
            .unwrap();
        moved.add_signature_line(line).unwrap();
        assert_eq!(
            moved.cosigned_by(&log.public_key(), &witness.public_key()),
            None
        );
        let key_text = witness.public_key().to_string();
        assert_eq!(
            key_text.parse::<WitnessPublicKey>().unwrap(),
            witness.public_key()
        );
        let json = witness.to_json();
        assert_eq!(
            WitnessKey::from_json(&json).unwrap().public_key(),
            witness.public_key()
        );
    }
}
