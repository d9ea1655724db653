//! Errors of grants, device proofs and the audit log, and why the resolver refused.

use crate::token::TokenError;

/// Courier grant and issuer key errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// The text is not a grant: wrong prefix, bad Base45, or a malformed body.
    /// Ask the carrier for a fresh grant.
    #[error("malformed grant: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The grant uses a format version this build does not know. Upgrade.
    #[error("unsupported grant version {version}")]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },
    /// A value given to issue a grant is invalid. Fix the named field.
    #[error("invalid grant {field}: {reason}")]
    Invalid {
        /// The field (`courier`, `zones`, `window`, `quota`, `scope`).
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The issuer key file or public key text is malformed. Restore it.
    #[error("invalid issuer key: {reason}")]
    IssuerKey {
        /// What is wrong (never key material).
        reason: &'static str,
    },
    /// The audit key file or audit public key text is malformed. Restore it.
    #[error("invalid audit key: {reason}")]
    AuditKey {
        /// What is wrong (never key material).
        reason: &'static str,
    },
    /// The witness key file or witness public key text (`WW1:`) is malformed.
    /// Restore it, or ask the witness's operator for its public key again.
    #[error("invalid witness key: {reason}")]
    WitnessKey {
        /// What is wrong (never key material).
        reason: &'static str,
    },
}

/// A device key or request proof is malformed. Nothing secret is in the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid device key or request proof: {reason}")]
#[non_exhaustive]
pub struct DeviceError {
    /// What is wrong (never key material).
    pub reason: &'static str,
}

/// Why the resolver refused a request. Each reason is also written to the audit
/// log as its [`code`](Denied::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denied {
    /// The token text is not a token. Rescan the QR code.
    #[error("malformed token: {0}")]
    MalformedToken(TokenError),
    /// The grant text is not a grant. Ask the carrier for a new grant.
    #[error("malformed grant: {0}")]
    MalformedGrant(GrantError),
    /// The grant was signed by an issuer this resolver does not trust.
    /// Use a grant from the carrier's issuer.
    #[error("grant issuer is not trusted")]
    UntrustedIssuer,
    /// The grant's signature is invalid: it was altered or forged. Do not retry.
    #[error("grant signature is invalid")]
    BadSignature,
    /// The grant's validity has not started yet. Wait, or check the clock.
    #[error("grant is not valid yet")]
    GrantNotYetValid,
    /// The grant has expired. Ask for a new grant.
    #[error("grant has expired")]
    GrantExpired,
    /// The grant was revoked. Contact the carrier.
    #[error("grant is revoked")]
    GrantRevoked,
    /// This parcel's tokens were revoked. Contact the carrier.
    #[error("parcel is revoked")]
    ParcelRevoked,
    /// The parcel's zone is not among the grant's zones. Use a grant for that zone.
    #[error("zone not covered by the grant")]
    ZoneNotGranted,
    /// The token has expired. The label must be reprinted.
    #[error("token has expired")]
    TokenExpired,
    /// A suite-2 token from a seller whose sealer key is not registered. The
    /// label was not made by a known seller; treat it as suspect.
    #[error("token sealed by an unregistered sealer")]
    UnknownSealer,
    /// A suite-2 token from a seller whose sealer key was revoked. Contact the
    /// carrier.
    #[error("token sealed by a revoked sealer")]
    SealerRevoked,
    /// The token says it was issued in the future, beyond the allowed clock skew
    /// (five minutes). The sealer's clock is wrong, or the token is forged.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// A bearer grant (version 1, bound to no device), and this resolver accepts
    /// only device-bound grants. Ask the carrier for a grant bound to your device.
    #[error("bearer grants are not accepted here")]
    BearerGrantRefused,
    /// The grant is bound to a device, and the request carries no device
    /// signature. Sign the request with the device key.
    #[error("the request carries no device signature")]
    DeviceSignatureMissing,
    /// The device signature does not verify: another device signed it, or the
    /// request was altered. Do not retry.
    #[error("the device signature is invalid")]
    DeviceSignatureInvalid,
    /// The request's time is outside the resolver's window (±120 s by default).
    /// Check the device clock.
    #[error("the request time is outside the allowed window")]
    RequestStale,
    /// The request's nonce was seen before: a replay. Sign each request anew.
    #[error("the request was replayed")]
    RequestReplayed,
    /// The grant's validity window is longer than this resolver accepts (24 hours
    /// by default). Ask for a grant of one shift.
    #[error("grant lasts longer than allowed")]
    GrantTooLong,
    /// Too many requests from this courier. Slow down and retry later.
    #[error("rate limit exceeded")]
    RateLimited,
    /// The grant's quota is used up. Ask for a new grant.
    #[error("grant quota exceeded")]
    QuotaExceeded,
    /// The token could not be opened (wrong key, wrong zone or tampered); deliberately
    /// says no more. Treat the label as suspect.
    #[error("token could not be opened")]
    Unopenable,
    /// The token's expiry is more than the resolver's `max_token_days` (90 by
    /// default) after its issue time. The sealer asked for too long a life;
    /// reprint the label with a shorter one.
    #[error("token lifetime longer than allowed")]
    TokenLifetimeTooLong,
    /// The token's key id was retired from the carrier's key ring. The label is
    /// older than any key in use; reprint it.
    #[error("token sealed under a retired key")]
    KeyRetired,
    /// A seller's token sealed under a key id whose zone directory was not valid
    /// at the token's issue time (expired, not yet valid, or never published).
    /// The seller's software used a stale directory; reprint the label.
    #[error("token sealed under a directory that was not valid at its issue time")]
    DirectoryExpired,
    /// The attempt could not be written to the audit log, so nothing is disclosed.
    /// Fix the audit store; the request may be retried.
    #[error("audit log unavailable")]
    AuditUnavailable,
}

impl Denied {
    /// A stable machine-readable reason, as written to the audit log: the
    /// [`reason`](Self::reason)'s [`as_str`](crate::DenialReason::as_str).
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
    }
}

/// How an audit chain is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditBreak {
    /// The record's content does not match its own hash: it was edited.
    Edited,
    /// The record does not chain to the one before: that one was edited and
    /// re-hashed, or records around it were replaced.
    Unchained,
    /// One or more records before this one are missing.
    Dropped,
    /// This record is out of order (records were swapped or moved).
    Reordered,
    /// This record repeats a sequence number: a record was inserted or duplicated.
    Inserted,
    /// The line is not an audit record.
    Malformed,
    /// The record's time is earlier than the previous record's: records were moved
    /// or the log was rewritten.
    TimeWentBack,
    /// A checkpoint's signature does not verify under the audit key, or it does
    /// not match the chain's head: the chain was rewritten.
    BadCheckpoint,
    /// A checkpoint names records that are missing: the chain was cut short.
    Truncated,
    /// More records follow the chain's last signed checkpoint than allowed,
    /// from this one on: records after it could have been cut or rewritten
    /// unseen. Get a later checkpoint, or allow them knowingly.
    Unsigned,
    /// More records follow the chain's last witness-cosigned checkpoint than
    /// allowed, from this one on: nothing outside the carrier vouches for them.
    /// Find out why the witness has not cosigned, or allow them knowingly.
    Unwitnessed,
    /// An "answer not delivered" record names no earlier allowed resolve of
    /// its chain, or one already named: the record was forged or moved.
    BadReference,
}

impl std::fmt::Display for AuditBreak {
    /// What was found, in a few words: `the record was edited`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Edited => "the record was edited (its hash does not match)",
            Self::Unchained => "the record does not chain to the one before",
            Self::Dropped => "records before this one are missing",
            Self::Reordered => "the record is out of order",
            Self::Inserted => "the record repeats a sequence number",
            Self::Malformed => "the line is not an audit record",
            Self::TimeWentBack => "the record's time is earlier than the previous record's",
            Self::BadCheckpoint => "a checkpoint does not verify or does not match the chain",
            Self::Truncated => "a checkpoint names records that are missing",
            Self::Unsigned => "more records follow the last signed checkpoint than allowed",
            Self::Unwitnessed => {
                "more records follow the last witness-cosigned checkpoint than allowed"
            }
            Self::BadReference => {
                "an undelivered-answer record names no earlier allowed record, or one already named"
            }
        })
    }
}

/// Audit log errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Reading or writing the log failed. Check the path, permissions and disk.
    #[error("audit log I/O error: {0}")]
    Io(std::io::Error),
    /// The chain is broken at this record. Investigate the log from this line on.
    #[error("audit log broken at line {line}: {kind}")]
    Broken {
        /// 1-based line of the first broken record.
        line: usize,
        /// What was found there.
        kind: AuditBreak,
    },
    /// The log holds no records: there is nothing to trust. Export the right
    /// store, or find out where its records went.
    #[error("the audit log holds no records")]
    Empty,
    /// A checkpoint obtained from a witness is not a prefix of the log: the log
    /// was cut (`Truncated`) or rewritten (`BadCheckpoint`) after the witness
    /// cosigned it.
    #[error(
        "the witnessed checkpoint of {origin} at tree size {size} contradicts the log: {kind:?}"
    )]
    Witnessed {
        /// The checkpoint's origin.
        origin: String,
        /// Its tree size.
        size: u64,
        /// How the log contradicts it.
        kind: AuditBreak,
    },
}

// The cause is in the message, so it is not also a `source()`: printed once.
impl From<std::io::Error> for AuditError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
