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

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::keyfile;
use crate::resolve::GrantError;

const DOMAIN: &[u8] = b"waybill-redact audit checkpoint v1\0";
const PUBLIC_PREFIX: &str = "WA1:";
const FILE_FORMAT: &str = "waybill-redact audit key v1";

/// The key that signs audit checkpoints. Zeroized on drop; `Debug` shows the
/// public key only.
pub struct AuditKey {
    signing: SigningKey,
}

/// The public half, for `audit verify --key`. Text form: `WA1:` and 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditPublicKey {
    key: VerifyingKey,
}

fn bad(reason: &'static str) -> GrantError {
    GrantError::AuditKey { reason }
}

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
        let Some(secret) = keyfile::random_secret() else {
            panic!("the OS random source failed");
        };
        Self {
            signing: SigningKey::from_bytes(&secret),
        }
    }

    /// The public key verifiers use.
    pub fn public_key(&self) -> AuditPublicKey {
        AuditPublicKey {
            key: self.signing.verifying_key(),
        }
    }

    /// Signs a checkpoint of record `seq` whose hash is `head`.
    pub fn checkpoint(
        &self,
        instance: &str,
        seq: u64,
        head: [u8; 32],
        time: &str,
    ) -> AuditCheckpoint {
        let sig = self.signing.sign(&message(instance, time, seq, &head));
        AuditCheckpoint {
            instance: instance.to_owned(),
            seq,
            head: hex::encode(head),
            time: time.to_owned(),
            signature: hex::encode(sig.to_bytes()),
        }
    }

    /// An Ed25519 signature of `message` (a checkpoint note's text).
    #[cfg(feature = "audit-log")]
    pub(crate) fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The key file (JSON, holds the secret; store it owner-only).
    pub fn to_json(&self) -> Zeroizing<String> {
        let secret = Zeroizing::new(self.signing.to_bytes());
        keyfile::to_json(
            FILE_FORMAT,
            secret.as_slice(),
            self.public_key().to_string(),
        )
    }

    /// Reads a key file written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    /// [`GrantError::AuditKey`] when it is malformed or inconsistent.
    pub fn from_json(text: &str) -> Result<Self, GrantError> {
        let (secret, public) = keyfile::from_json(text, FILE_FORMAT)
            .map_err(|e| bad(e.reason("not an audit key file")))?;
        let key = Self {
            signing: SigningKey::from_bytes(&secret),
        };
        if public.parse::<AuditPublicKey>()? != key.public_key() {
            return Err(bad("the public key does not match the secret"));
        }
        Ok(key)
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
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
        key.key
            .verify_strict(&m, &Signature::from_bytes(&sig))
            .is_ok()
    }

    /// The JSON line form, `{"checkpoint":{…}}`, as `audit export` writes it.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({ "checkpoint": self }).to_string()
    }
}

impl AuditPublicKey {
    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether `signature` is a valid strict Ed25519 signature of `message`.
    #[cfg(feature = "audit-log")]
    pub(crate) fn verify_bytes(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.key
            .verify_strict(message, &Signature::from_bytes(&sig))
            .is_ok()
    }
}

impl fmt::Display for AuditPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", hex::encode(self.key.as_bytes()))
    }
}

impl fmt::Debug for AuditPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditPublicKey({self})")
    }
}

impl core::str::FromStr for AuditPublicKey {
    type Err = GrantError;
    fn from_str(s: &str) -> Result<Self, GrantError> {
        let bytes =
            keyfile::public_bytes(s, PUBLIC_PREFIX).ok_or(bad("not WA1: and 64 hex digits"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not an Ed25519 key"))?;
        Ok(Self { key })
    }
}
