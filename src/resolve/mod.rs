//! Who may open a token: courier grants and their issuers, device-signed
//! requests, the resolver with its checks, rate limits and quotas, revocations,
//! and the audit chain that records every attempt. The service crate implements
//! its stores over these types.
//!
//! The grant, request and audit formats are written down in `docs/TOKEN.md`.
//!
//! The transparency-log parts of the audit log (its Merkle tree, checkpoint
//! notes, witnesses, and verification under the audit key) are behind the
//! `audit-log` feature; the hash chain, the sinks and the keyless
//! [`verify_audit_log`] are always here.

mod error;
pub use error::{AuditBreak, AuditError, Denied, DeviceError, GrantError};

mod attempt;
mod audit;
#[cfg(feature = "audit-log")]
mod audit_add_checkpoint;
mod audit_key;
mod audit_kind;
#[cfg(feature = "audit-log")]
mod audit_note;
mod audit_record;
mod audit_state;
#[cfg(feature = "audit-log")]
mod audit_tree;
mod audit_verify;
#[cfg(feature = "audit-log")]
mod audit_witness;
mod clock;
mod denial;
pub(crate) mod device;
mod ed25519_key;
mod grant;
mod issuer;
mod ratelimit;
mod replay;
mod request;
mod resolver;
mod revocation;

pub use attempt::{Attempt, QuotaClaim, ReplayGuard};
pub use audit::{AuditEvent, AuditSink, JsonLinesFileSink, MemorySink, Outcome};
#[cfg(feature = "audit-log")]
pub use audit_add_checkpoint::{AddCheckpoint, MAX_ADD_CHECKPOINT_BYTES};
pub use audit_key::{AuditCheckpoint, AuditKey, AuditPublicKey};
pub use audit_kind::{AuditKind, UnknownAuditKind};
#[cfg(feature = "audit-log")]
pub use audit_note::{audit_origin, NoteFormatError, SignedCheckpoint, ORIGIN_PREFIX};
pub use audit_record::{record_time, scope_text, AuditChain, AuditRecord};
pub use audit_state::RestoredFrom;
#[cfg(feature = "audit-log")]
pub use audit_tree::{
    leaf_hash, verify_consistency, verify_inclusion, AuditTree, ProofError, TreeHash,
};
pub use audit_verify::verify_audit_log;
#[cfg(feature = "audit-log")]
pub use audit_verify::{verify_audit_log_with, verify_audit_log_with_key, AuditReport, AuditRules};
#[cfg(feature = "audit-log")]
pub use audit_witness::{WitnessKey, WitnessPublicKey};
pub use clock::{Clock, FixedClock, SystemClock};
pub use denial::{DenialReason, UnknownDenialReason};
pub use device::{
    DeviceKey, DevicePublicKey, RequestProof, DEFAULT_REQUEST_WINDOW_SECS, MAX_PROOF_TOKENS,
};
pub use ed25519_key::{key_role, Ed25519Key, Ed25519PublicKey};
pub use grant::{Grant, GrantId, GrantSpec, Scope};
pub use issuer::{IssuerKey, IssuerPublicKey};
pub use ratelimit::{Limit, RateLimiter, TokenBucket};
pub use request::{Disclosure, Purpose, ResolveRequest};
pub use resolver::{
    Resolver, DEFAULT_MAX_GRANT_SECS, DEFAULT_MAX_SKEW_SECS, DEFAULT_MAX_TOKEN_DAYS,
};
pub use revocation::{Revocation, Revocations};
