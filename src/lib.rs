#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod input;
mod keyfile;
mod mask;
mod model;
mod resolve;
mod token;

#[cfg(feature = "bench")]
#[doc(hidden)]
pub mod bench_parts;
#[cfg(feature = "render")]
mod export;
#[cfg(feature = "render")]
mod render;

pub use error::{Error, Result};
#[cfg(feature = "render")]
#[cfg_attr(docsrs, doc(cfg(feature = "render")))]
pub use export::ExportError;
#[cfg(feature = "render")]
#[cfg_attr(docsrs, doc(cfg(feature = "render")))]
pub use export::{
    decode_gf, to_pdf, to_zpl, PdfOptions, PdfPage, PdfWriter, PngMode, ZplEncoding, ZplOptions,
};
pub use input::{
    parse_batch, read_batch, read_batch_with_limits, InputFormat, InputLimits, RecordError,
    CSV_COLUMNS, CSV_PARTY_COLUMNS,
};
pub use mask::MaskError;
pub use mask::{
    danger, mask, AddressRule, ItemRule, MaskPolicy, MaskWarning, MaskedParty, MaskedText,
    MaskedWaybill, NameRule, PartyPolicy, PhoneRule,
};
pub use model::ModelError;
pub use model::{
    Address, AddressFields, Item, Party, PersonName, Phone, Routing, TrackingNumber,
    TrackingScheme, VirtualPhone, Waybill,
};
#[cfg(feature = "render")]
#[cfg_attr(docsrs, doc(cfg(feature = "render")))]
pub use render::{
    render, Bitmap, CodeKind, Fonts, Label, LabelSize, LabelSpec, PlacedCode, RenderWarning,
};
#[cfg(feature = "image")]
#[cfg_attr(docsrs, doc(cfg(feature = "image")))]
pub use render::{Logo, LogoMode};
#[cfg(feature = "render")]
#[cfg_attr(docsrs, doc(cfg(feature = "render")))]
pub use render::{LogoProblem, RenderError};
pub use resolve::{
    record_time, scope_text, verify_audit_log, Attempt, AuditChain, AuditCheckpoint, AuditEvent,
    AuditKey, AuditPublicKey, AuditRecord, AuditSink, Clock, DenialReason, DeviceKey,
    DevicePublicKey, Disclosure, FixedClock, Grant, GrantId, GrantSpec, IssuerKey, IssuerPublicKey,
    JsonLinesFileSink, Limit, MemorySink, Outcome, Purpose, QuotaClaim, RateLimiter, ReplayGuard,
    RequestProof, ResolveRequest, Resolver, RestoredFrom, Revocation, Revocations, Scope,
    SystemClock, TokenBucket, UnknownDenialReason, DEFAULT_MAX_GRANT_SECS, DEFAULT_MAX_SKEW_SECS,
    DEFAULT_MAX_TOKEN_DAYS, DEFAULT_REQUEST_WINDOW_SECS, MAX_PROOF_TOKENS,
};
pub use resolve::{AuditBreak, AuditError, Denied, DeviceError, GrantError};
pub use resolve::{AuditKind, UnknownAuditKind};
// The Ed25519 keys of every role (audit, witness, issuer, device) share one type.
pub use resolve::{key_role, Ed25519Key, Ed25519PublicKey};
// Every secret key file is read the same way: owner-only or refused.
pub use keyfile::{read_secret_key_file, KeyFileReadError, MAX_SECRET_KEY_FILE_BYTES};
// The audit log as a transparency log (issue 19).
#[cfg(feature = "audit-log")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit-log")))]
pub use resolve::{
    audit_origin, leaf_hash, verify_audit_log_with, verify_audit_log_with_key, verify_consistency,
    verify_inclusion, AddCheckpoint, AuditReport, AuditRules, AuditTree, NoteFormatError,
    ProofError, SignedCheckpoint, TreeHash, WitnessKey, WitnessPublicKey, MAX_ADD_CHECKPOINT_BYTES,
    ORIGIN_PREFIX,
};
pub use token::{cache_max_age, FetchedDirectory};
pub use token::{DirectoryError, KeyRingError, MalformedToken, SealError, SealerError, TokenError};
pub use token::{
    KeyRing, Payload, PayloadItem, PublicSealer, SealerId, SealerKey, SealerPublicKey,
    SealerRegistry, SealerStatus, Token, TokenHeader, Validity, ZoneDirectory, ISSUED_AT_SKEW_SECS,
};
