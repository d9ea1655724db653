//! Courier tokens: the sealed QR envelope (suites 1 and 2), key ring, zone
//! directory, sealers, grants and the resolver.
//!
//! The byte format is written down, with test vectors, in `docs/TOKEN.md`.

mod audit;
mod base45;
mod cbor;
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
mod sealer;
mod sealers;
mod suite2;
mod validity;
#[cfg(test)]
mod vectors;

pub use audit::{
    verify_audit_log, AuditChain, AuditEvent, AuditSink, JsonLinesFileSink, MemorySink, Outcome,
};
pub use directory::ZoneDirectory;
pub use envelope::{Token, TokenHeader};
pub use grant::{Grant, GrantId, GrantSpec, Scope};
pub use issuer::{IssuerKey, IssuerPublicKey};
pub use keyring::KeyRing;
pub use payload::{Payload, PayloadItem};
pub use public_sealer::PublicSealer;
pub use ratelimit::{Limit, RateLimiter, TokenBucket};
pub use resolver::{Disclosure, Purpose, ResolveRequest, Resolver};
pub use sealers::{SealerId, SealerKey, SealerPublicKey, SealerRegistry, SealerStatus};
pub use validity::{Validity, ISSUED_AT_SKEW_SECS};
