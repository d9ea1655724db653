//! Courier tokens: the sealed QR envelope, key ring, grants and the resolver.
//!
//! The byte format is written down, with test vectors, in `docs/TOKEN.md`.

mod audit;
mod base45;
mod envelope;
#[cfg(fuzzing)]
mod fuzzing;
mod grant;
mod issuer;
mod keyring;
mod payload;
mod ratelimit;
mod reader;
mod resolver;
mod sealer;
#[cfg(test)]
mod vectors;

pub use audit::{
    verify_audit_log, AuditChain, AuditEvent, AuditSink, JsonLinesFileSink, MemorySink, Outcome,
};
pub use envelope::{Token, TokenHeader};
pub use grant::{Grant, GrantId, GrantSpec, Scope};
pub use issuer::{IssuerKey, IssuerPublicKey};
pub use keyring::KeyRing;
pub use payload::{Payload, PayloadItem};
pub use ratelimit::{Limit, RateLimiter, TokenBucket};
pub use resolver::{Disclosure, Purpose, ResolveRequest, Resolver};
