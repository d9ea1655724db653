//! Courier tokens: the sealed QR envelope (suites 1 and 2), key ring, zone
//! directory, sealers, grants and the resolver.
//!
//! The byte format is written down, with test vectors, in `docs/TOKEN.md`.

mod attempt;
mod audit;
mod audit_key;
mod audit_record;
mod audit_state;
mod audit_verify;
mod base45;
mod cbor;
mod clock;
mod directory;
mod envelope;
#[cfg(fuzzing)]
mod fuzzing;
mod grant;
mod issuer;
mod keyring;
mod masterkey;
mod payload;
mod public_sealer;
mod ratelimit;
mod reader;
mod resolver;
mod revocation;
mod sealer;
mod sealers;
mod suite2;
mod validity;
#[cfg(test)]
mod vectors;

pub use attempt::{Attempt, QuotaClaim};
pub use audit::{AuditEvent, AuditSink, JsonLinesFileSink, MemorySink, Outcome};
pub use audit_key::{AuditCheckpoint, AuditKey, AuditPublicKey};
pub use audit_record::{record_time, scope_text, AuditChain, AuditRecord};
pub use audit_state::RestoredFrom;
pub use audit_verify::{verify_audit_log, verify_audit_log_with_key, AuditReport};
pub use clock::{Clock, FixedClock, SystemClock};
pub use directory::ZoneDirectory;
pub use envelope::{Token, TokenHeader};
pub use grant::{Grant, GrantId, GrantSpec, Scope};
pub use issuer::{IssuerKey, IssuerPublicKey};
pub use keyring::KeyRing;
pub use payload::{Payload, PayloadItem};
pub use public_sealer::PublicSealer;
pub use ratelimit::{Limit, RateLimiter, TokenBucket};
pub use resolver::{Disclosure, Purpose, ResolveRequest, Resolver, DEFAULT_MAX_SKEW_SECS};
pub use revocation::{Revocation, Revocations};
pub use sealers::{SealerId, SealerKey, SealerPublicKey, SealerRegistry, SealerStatus};
pub use validity::{Validity, ISSUED_AT_SKEW_SECS};
