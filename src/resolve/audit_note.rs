//! Checkpoints of the audit log as c2sp.org signed notes.
//!
//! A checkpoint is a c2sp.org/tlog-checkpoint body (origin, tree size, base64
//! root hash, one per line) in a c2sp.org/signed-note, signed by the audit key
//! under the key name = origin; witnesses add c2sp.org/tlog-cosignature
//! (`cosignature/v1`) lines. The note and checkpoint formats are `signed_note`'s
//! and `tlog_tiles`'; the signatures are our ed25519-dalek's, through
//! `signed_note`'s `Signer` and `Verifier` traits.

use core::fmt;

use signed_note::{key_id, Note, Signature, Signer, Verifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash};

use super::audit_key::{AuditKey, AuditPublicKey};
use super::audit_tree::TreeHash;
use super::audit_witness::{WitnessKey, WitnessPublicKey};

/// The origin of every audit log: this prefix and the instance id.
pub const ORIGIN_PREFIX: &str = "waybill-redact.audit/";

/// The signed-note signature type of an Ed25519 log key (c2sp.org/signed-note).
const ALG_ED25519: u8 = 0x01;

/// The origin line of an instance's log: [`ORIGIN_PREFIX`] and the instance id.
pub fn audit_origin(instance: &str) -> String {
    format!("{ORIGIN_PREFIX}{instance}")
}

/// Why a checkpoint note was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteFormatError {
    /// Not a signed note with a c2sp tlog-checkpoint body.
    #[error("not a signed checkpoint note")]
    Malformed,
    /// The origin cannot be a note key name (it is empty or holds a space or `+`).
    #[error("the origin cannot be a note key name")]
    BadOrigin,
}

/// A checkpoint (origin, tree size, root hash) with its signature lines: the
/// log's, and any witnesses' cosignatures. Held as the note's text.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    text: String,
    origin: String,
    size: u64,
    root: TreeHash,
}

pub(crate) fn note_key_id(name: &str, alg: u8, key: &[u8; 32]) -> u32 {
    let mut encoded = [0u8; 33];
    encoded[0] = alg;
    encoded[1..].copy_from_slice(key);
    key_id(name, &encoded)
}

struct LogSigner<'a> {
    origin: &'a str,
    id: u32,
    key: &'a AuditKey,
}

impl Signer for LogSigner<'_> {
    fn name(&self) -> &str {
        self.origin
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.key.sign(msg).to_vec())
    }
}

struct LogVerifier {
    origin: String,
    id: u32,
    key: AuditPublicKey,
}

impl Verifier for LogVerifier {
    fn name(&self) -> &str {
        &self.origin
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.key.verify(msg, sig)
    }
}

impl AuditKey {
    /// Signs the checkpoint of the tree of `size` leaves with root `root` of the
    /// log `origin`.
    ///
    /// # Errors
    /// [`NoteFormatError::BadOrigin`] when `origin` cannot be a key name.
    pub fn sign_checkpoint(
        &self,
        origin: &str,
        size: u64,
        root: TreeHash,
    ) -> Result<SignedCheckpoint, NoteFormatError> {
        let checkpoint = Checkpoint::new(origin, size, Hash(root), "")
            .map_err(|_| NoteFormatError::BadOrigin)?;
        let mut note =
            Note::new(&checkpoint.to_bytes(), &[]).map_err(|_| NoteFormatError::BadOrigin)?;
        let signer = LogSigner {
            origin,
            id: note_key_id(origin, ALG_ED25519, &self.public_key().to_bytes()),
            key: self,
        };
        note.add_sigs(&[&signer])
            .map_err(|_| NoteFormatError::BadOrigin)?;
        SignedCheckpoint::from_text(&String::from_utf8_lossy(&note.to_bytes()))
    }
}

/// A signature line kept as it is (a cosignature a witness returned).
struct Fixed(Signature);

impl Signer for Fixed {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn key_id(&self) -> u32 {
        self.0.id()
    }
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.0.signature().to_vec())
    }
}

impl SignedCheckpoint {
    /// Parses a signed checkpoint note (its signatures are not checked here).
    ///
    /// # Errors
    /// [`NoteFormatError::Malformed`].
    pub fn from_text(text: &str) -> Result<Self, NoteFormatError> {
        let note = Note::from_bytes(text.as_bytes()).map_err(|_| NoteFormatError::Malformed)?;
        let checkpoint =
            Checkpoint::from_bytes(note.text()).map_err(|_| NoteFormatError::Malformed)?;
        Ok(Self {
            text: text.to_owned(),
            origin: checkpoint.origin().to_owned(),
            size: checkpoint.size(),
            root: checkpoint.hash().0,
        })
    }

    fn note(&self) -> Option<Note> {
        Note::from_bytes(self.text.as_bytes()).ok()
    }

    /// The note: the checkpoint's text, a blank line, and the signature lines.
    pub fn as_text(&self) -> &str {
        &self.text
    }

    /// The JSON line form, `{"checkpoint":"<note>"}`, as `audit export` writes it
    /// after the record that ends the checkpoint's tree.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({ "checkpoint": self.text }).to_string()
    }

    /// The checkpoint's text alone (origin, size, root), without signatures.
    pub fn body(&self) -> &str {
        self.text
            .split_once("\n\n")
            .map_or(self.text.as_str(), |(body, _)| body)
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash.
    pub fn root(&self) -> TreeHash {
        self.root
    }

    /// The note and its signature lines other than the log's `key` (cosignatures
    /// and others), when the log's signature under `key` is valid.
    fn verified_by_log(&self, key: &AuditPublicKey) -> Option<(Note, Vec<Signature>)> {
        let note = self.note()?;
        let origin = self.origin.clone();
        let id = note_key_id(&origin, ALG_ED25519, &key.to_bytes());
        let known = VerifierList::new(vec![Box::new(LogVerifier {
            origin,
            id,
            key: *key,
        })]);
        let (_, others) = note.verify(&known).ok()?;
        Some((note, others))
    }

    /// Whether the log's signature under `key` (key name = origin) is valid.
    pub fn verify(&self, key: &AuditPublicKey) -> bool {
        self.verified_by_log(key).is_some()
    }

    /// The time (unix seconds) of a valid cosignature by `witness` on a
    /// checkpoint whose log signature under `key` is valid; `None` when there is
    /// none.
    pub fn cosigned_by(&self, key: &AuditPublicKey, witness: &WitnessPublicKey) -> Option<u64> {
        let (note, others) = self.verified_by_log(key)?;
        others.iter().find_map(|sig| {
            (sig.id() == witness.note_key_id(sig.name()))
                .then(|| witness.verify_cosignature(note.text(), sig.signature()))
                .flatten()
        })
    }

    /// Adds (or replaces) `witness`'s cosignature, made at `time` (unix seconds),
    /// under the key name `name`.
    ///
    /// # Errors
    /// [`NoteFormatError::BadOrigin`] when `name` cannot be a key name.
    pub fn cosign(
        &mut self,
        witness: &WitnessKey,
        name: &str,
        time: u64,
    ) -> Result<(), NoteFormatError> {
        let body = self.body().to_owned() + "\n";
        let line = witness.cosignature_line(name, body.as_bytes(), time)?;
        self.add_signature_line(&line)
    }

    /// Adds a signature line (`— name base64`) as a witness returns it, replacing
    /// an earlier one of the same key. It is not checked here.
    ///
    /// # Errors
    /// [`NoteFormatError::Malformed`] when it is not a signature line.
    pub fn add_signature_line(&mut self, line: &str) -> Result<(), NoteFormatError> {
        let sig = Signature::from_bytes(line.trim_end_matches('\n').as_bytes())
            .map_err(|_| NoteFormatError::Malformed)?;
        let mut note = self.note().ok_or(NoteFormatError::Malformed)?;
        note.add_sigs(&[&Fixed(sig)])
            .map_err(|_| NoteFormatError::Malformed)?;
        self.text = String::from_utf8_lossy(&note.to_bytes()).into_owned();
        Ok(())
    }
}

impl fmt::Debug for SignedCheckpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedCheckpoint")
            .field("origin", &self.origin())
            .field("size", &self.size())
            .field("root", &hex::encode(self.root()))
            .finish_non_exhaustive()
    }
}
