//! Error types: one enum per area, wrapped by the top-level [`Error`].
//!
//! Every variant says what went wrong and, in its doc comment, what the caller
//! should do about it. Messages never contain personal data: a field is named by
//! its path (`recipient.phone`), never by its value.

/// A `Result` whose error is the crate's top-level [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Any error this crate returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The waybill data is invalid. Fix the named field in the input.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Masking failed. The policy or the data cannot produce a compliant label.
    #[error(transparent)]
    Mask(#[from] MaskError),
    /// Sealing, parsing or opening a token, key ring or grant failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A zone directory could not be read, verified or published.
    #[error("zone directory: {0}")]
    Directory(#[from] DirectoryError),
    /// A sealer key or the sealer registry is unusable.
    #[error("sealer: {0}")]
    Sealer(#[from] SealerError),
    /// A courier grant or issuer key is invalid.
    #[error(transparent)]
    Grant(#[from] GrantError),
    /// The resolver refused to disclose a token's contents.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// Writing or verifying the audit log failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// Rendering a label failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Encoding a label as PNG, ZPL or PDF failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// Reading or writing a file failed. Check the path and permissions.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Invalid waybill input. The `field` is a path such as `recipient.phone`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A required field is absent. Supply it.
    #[error("{field}: missing required field")]
    Missing {
        /// Path of the missing field.
        field: String,
    },
    /// A text field is empty or only white space. Supply a value.
    #[error("{field}: empty")]
    Empty {
        /// Path of the empty field.
        field: String,
    },
    /// A field is longer than the label and token can carry. Shorten it.
    #[error("{field}: too long ({len} characters, at most {max})")]
    TooLong {
        /// Path of the field.
        field: String,
        /// Its length in grapheme clusters (or bytes for ASCII identifiers).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field holds a control character. Remove it.
    #[error("{field}: contains a control character")]
    ControlCharacter {
        /// Path of the field.
        field: String,
    },
    /// A phone number has no digits, too few or too many, or a malformed prefix.
    #[error("{field}: invalid phone number: {reason}")]
    Phone {
        /// Path of the field.
        field: String,
        /// What is wrong (never the number itself).
        reason: &'static str,
    },
    /// A tracking number is malformed. Check it against the carrier's format.
    #[error("{field}: invalid tracking number: {reason}")]
    TrackingNumber {
        /// Path of the field.
        field: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A tracking number has the UPU S10 or GS1 SSCC shape but a wrong check digit.
    /// It was probably mistyped; re-read it from the source system.
    #[error("{field}: wrong check digit for {scheme} (expected {expected})")]
    CheckDigit {
        /// Path of the field.
        field: String,
        /// `UPU S10` or `GS1 SSCC`.
        scheme: &'static str,
        /// The digit the number should end with.
        expected: char,
    },
    /// A country is not an ISO 3166-1 alpha-2 code. Use codes such as `CN`, `HK`, `US`.
    #[error("{field}: unknown country code")]
    Country {
        /// Path of the field.
        field: String,
    },
    /// A field has the wrong JSON type or an out-of-range value.
    #[error("{field}: {reason}")]
    Invalid {
        /// Path of the field.
        field: String,
        /// What was expected.
        reason: &'static str,
    },
    /// A date-time is not RFC 3339 (`2026-11-28T10:00:00+08:00`).
    #[error("{field}: invalid RFC 3339 date-time")]
    DateTime {
        /// Path of the field.
        field: String,
    },
    /// A CSV row is malformed (wrong number of cells, bad quoting, not UTF-8).
    #[error("invalid CSV at line {line}: {reason}")]
    Csv {
        /// 1-based line in the file.
        line: u64,
        /// What is wrong, without the row's content.
        reason: &'static str,
    },
    /// The JSON is malformed or a field has the wrong type.
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    Json {
        /// 1-based line in the record's text.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's description, without the offending value.
        reason: String,
    },
    /// The record is larger than the reader's limit, so it was skipped unread.
    /// Split the record, or raise the limit
    /// ([`InputLimits::with_max_record_bytes`](crate::InputLimits::with_max_record_bytes))
    /// if it is genuine.
    #[error("too large: more than {max} bytes")]
    RecordTooLarge {
        /// The limit, in bytes of input text.
        max: usize,
    },
    /// An array holds more entries than the reader's limit (for `items`, more
    /// lines of contents than a label can describe). Shorten the list, or raise the
    /// limit with [`InputLimits::with_max_items`](crate::InputLimits::with_max_items).
    #[error("{field}: more than {max} entries")]
    TooManyEntries {
        /// Path of the array.
        field: String,
        /// The limit.
        max: usize,
    },
    /// A key appears twice in one JSON object, so which value is meant is
    /// ambiguous. Keep one. Keys this format does not know are named `<unknown>`,
    /// since they may hold anything.
    #[error("{field}: key appears more than once")]
    DuplicateKey {
        /// Path of the repeated key.
        field: String,
    },
    /// Two columns of a CSV header have the same name, so which cell is meant is
    /// ambiguous. Rename or drop one; no row is read.
    #[error("invalid CSV at line {line}: columns {first} and {second} have the same name")]
    DuplicateColumn {
        /// 1-based line of the header row.
        line: u64,
        /// 1-based number of the first of the two columns.
        first: usize,
        /// 1-based number of the second.
        second: usize,
    },
    /// A record over the size limit holds a NUL byte: the input is binary, not JSON
    /// or CSV text, and skipping to the record's end could take forever. Reading
    /// stops here; check that the right file was given.
    #[error("the input is binary (a NUL byte), not text; reading stops")]
    BinaryInput,
}

/// Masking could not produce a compliant label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MaskError {
    /// The configured mask string is empty or contains characters a label cannot use.
    /// Pick a non-empty mask of printable characters.
    #[error("invalid mask string: {reason}")]
    InvalidMask {
        /// What is wrong.
        reason: &'static str,
    },
}

/// Token, key ring and grant errors. Opening a token that fails authentication
/// always reports [`TokenError::Open`] and nothing more precise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token could not be opened: wrong key, wrong zone, wrong sealer or
    /// tampered bytes. Deliberately says no more. Treat the token as invalid.
    #[error("token could not be opened")]
    Open,
    /// The text is not a token: wrong prefix, bad Base45, or a malformed envelope.
    /// The QR code was misread or is not ours; scan it again.
    #[error("malformed token: {0}")]
    Malformed(MalformedToken),
    /// The token uses a format version or cipher suite this build does not know.
    /// Upgrade the resolver.
    #[error("unsupported token suite {suite}")]
    UnsupportedSuite {
        /// The suite byte found.
        suite: u8,
    },
    /// The waybill cannot be sealed as asked. Fix the input or the validity.
    #[error("cannot seal: {0}")]
    Seal(SealError),
    /// The key ring file or key is unusable. Restore the ring from backup.
    #[error("invalid key ring: {0}")]
    KeyRing(KeyRingError),
    /// The key ring has no key with this id (never created, or retired).
    /// Use a key id listed in the ring.
    #[error("no key with id {kid} in the key ring")]
    UnknownKey {
        /// The key id asked for.
        kid: u16,
    },
    /// The current key cannot be retired. Rotate first, then retire the old key.
    #[error("key {kid} is the current key and cannot be retired")]
    RetireCurrent {
        /// The current key id.
        kid: u16,
    },
    /// All 65535 key ids are used. Start a new key ring.
    #[error("key ids exhausted")]
    KeyIdsExhausted,
    /// The zone directory has no public key for this zone. Ask the carrier for a
    /// directory that lists it, or fix the waybill's zone.
    #[error("zone {zone} is not in the zone directory")]
    ZoneNotInDirectory {
        /// The waybill's zone.
        zone: u32,
    },
    /// The zone directory cannot be sealed with (for example it is not valid at
    /// the issue time). Ask the carrier for a current directory.
    #[error("zone directory: {0}")]
    Directory(DirectoryError),
}

/// What is wrong with a token's text or envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedToken {
    /// The text does not start with `WB2:`.
    #[error("missing WB2: prefix")]
    Prefix,
    /// The text is longer than 4296 characters (prefix included).
    #[error("too long")]
    TooLong,
    /// The text after the prefix is not Base45.
    #[error("invalid Base45")]
    Base45,
    /// The envelope ends before its fixed fields do.
    #[error("truncated")]
    Truncated,
    /// The expiry period is 0.
    #[error("expiry out of range")]
    Expiry,
    /// The tracking number is not a canonical tracking number.
    #[error("invalid tracking number")]
    TrackingNumber,
    /// The ciphertext is not one of the padding bucket sizes.
    #[error("ciphertext length is not a padding bucket")]
    CiphertextLength,
}

/// Why a waybill cannot be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The issue time is before 1970. Check the clock.
    #[error("issue time before 1970")]
    IssuedBeforeEpoch,
    /// The lifetime is not 1 second to 3650 days.
    #[error("lifetime must be 1 second to 3650 days")]
    Lifetime,
    /// The record does not fit the largest padding bucket. Shorten the address or
    /// the item descriptions.
    #[error("record too large for a token")]
    RecordTooLarge,
    /// The operating system's random source failed. Retry; check the host.
    #[error("the OS random source failed")]
    Random,
    /// The encryption itself failed (a zone public key of small order in the
    /// directory). Ask the carrier for a new directory.
    #[error("encryption failed")]
    Encrypt,
}

/// What is wrong with a key ring file or a master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRingError {
    /// The text is not a key ring file (JSON shape or fields).
    #[error("not a key ring file")]
    NotAKeyRing,
    /// The `format` field names another format or version.
    #[error("unknown format")]
    UnknownFormat,
    /// A key is not 64 hex digits.
    #[error("key {kid} is not 64 hex digits")]
    KeyHex {
        /// Its key id.
        kid: u16,
    },
    /// A key's check value does not match the key: the file was damaged.
    #[error("key {kid} does not match its check value (damaged)")]
    CheckValue {
        /// Its key id.
        kid: u16,
    },
    /// A key is weak: all zero, repeated bytes or another low-entropy pattern.
    /// Generate keys with `keys new` or a random source, never by hand.
    #[error("key {kid} is weak (low-entropy pattern)")]
    WeakKey {
        /// Its key id.
        kid: u16,
    },
    /// Two keys share an id.
    #[error("duplicate key id {kid}")]
    DuplicateKid {
        /// The repeated id.
        kid: u16,
    },
    /// The current key id has no key.
    #[error("the current key id has no key")]
    NoCurrentKey,
}

/// A zone directory could not be read, verified or published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The text is not a zone directory (JSON shape, fields or hex). Ask the
    /// carrier for the file again.
    #[error("not a zone directory file")]
    Malformed,
    /// The `format` field names another format or version. Upgrade.
    #[error("unknown directory format")]
    UnknownFormat,
    /// The directory lists no zone, more than 65536, or one zone twice.
    #[error("the zone list is empty, too long or repeats a zone")]
    Zones,
    /// The validity window is empty (expiry not after not-before).
    #[error("empty validity window")]
    Window,
    /// The directory names another issuer than the carrier key it is checked
    /// against. Check which carrier it is from.
    #[error("signed by another issuer")]
    WrongIssuer,
    /// The signature does not verify: the directory was altered. Do not use it.
    #[error("signature is invalid (the directory was altered)")]
    BadSignature,
    /// The directory is not valid yet. Check the clock.
    #[error("not valid yet")]
    NotYetValid,
    /// The directory has expired. Ask the carrier for a current one.
    #[error("expired")]
    Expired,
}

/// A sealer key, sealer public key or sealer registry is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealerError {
    /// The text is not a sealer key file.
    #[error("not a sealer key file")]
    NotAKeyFile,
    /// The text is not a `WS1:` public key (64 hex digits after the prefix).
    #[error("not a WS1: sealer public key")]
    PublicKey,
    /// The key file's public key does not match its secret: it was damaged.
    #[error("the public key does not match the secret")]
    KeyMismatch,
    /// The text is not a sealer registry file.
    #[error("not a sealer registry file")]
    NotARegistry,
    /// The `format` field names another format or version.
    #[error("unknown format")]
    UnknownFormat,
    /// Another key with the same 4-byte id is registered. Make a new sealer key.
    #[error("sealer id {id} is taken by another key")]
    IdTaken {
        /// The id, 8 hex digits.
        id: String,
    },
    /// No sealer with this id is registered.
    #[error("no sealer {id} in the registry")]
    Unknown {
        /// The id, 8 hex digits.
        id: String,
    },
}

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
}

/// A device key or request proof is malformed. Nothing secret is in the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid device key or request proof: {reason}")]
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
    /// The attempt could not be written to the audit log, so nothing is disclosed.
    /// Fix the audit store; the request may be retried.
    #[error("audit log unavailable")]
    AuditUnavailable,
}

impl Denied {
    /// A stable machine-readable reason, as written to the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedToken(_) => "malformed_token",
            Self::MalformedGrant(_) => "malformed_grant",
            Self::UntrustedIssuer => "untrusted_issuer",
            Self::BadSignature => "bad_signature",
            Self::GrantNotYetValid => "grant_not_yet_valid",
            Self::GrantExpired => "grant_expired",
            Self::GrantRevoked => "grant_revoked",
            Self::ParcelRevoked => "parcel_revoked",
            Self::ZoneNotGranted => "zone_not_granted",
            Self::TokenExpired => "token_expired",
            Self::UnknownSealer => "unknown_sealer",
            Self::SealerRevoked => "sealer_revoked",
            Self::IssuedInFuture => "issued_in_future",
            Self::BearerGrantRefused => "bearer_grant_refused",
            Self::DeviceSignatureMissing => "device_signature_missing",
            Self::DeviceSignatureInvalid => "device_signature_invalid",
            Self::RequestStale => "request_stale",
            Self::RequestReplayed => "request_replayed",
            Self::GrantTooLong => "grant_too_long",
            Self::RateLimited => "rate_limited",
            Self::QuotaExceeded => "quota_exceeded",
            Self::Unopenable => "unopenable",
            Self::AuditUnavailable => "audit_unavailable",
        }
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
}

/// Audit log errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Reading or writing the log failed. Check the path, permissions and disk.
    #[error("audit log I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The chain is broken at this record. Investigate the log from this line on.
    #[error("audit log broken at line {line}: {kind:?}")]
    Broken {
        /// 1-based line of the first broken record.
        line: usize,
        /// What was found there.
        kind: AuditBreak,
    },
}

/// A label could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The label size or resolution is out of range. Use a preset or a size within
    /// the documented limits.
    #[error("invalid label spec: {reason}")]
    InvalidSpec {
        /// What is wrong.
        reason: &'static str,
    },
    /// No font has a glyph for a character of a field. Add a fallback font that
    /// covers it, or fix the data; the label is never printed with a blank box.
    #[error("{field}: no font has a glyph for U+{:04X}", *ch as u32)]
    MissingGlyph {
        /// The character.
        ch: char,
        /// Path of the field it is in (`recipient.name`, …), or `label` for the
        /// label's own captions.
        field: &'static str,
    },
    /// Font bytes could not be parsed, or the face index is out of range. Supply a
    /// TrueType/OpenType font or collection and a valid index.
    #[error("invalid font (face index {index})")]
    InvalidFont {
        /// The face index asked for.
        index: u32,
    },
    /// The logo cannot be used: see [`LogoProblem`]. Supply a PNG or JPEG picture
    /// of at most 4096 pixels a side.
    #[error("invalid logo: {problem}")]
    InvalidLogo {
        /// What is wrong with it.
        problem: LogoProblem,
    },
    /// More fallback fonts than supported. Merge or drop some.
    #[error("too many fallback fonts")]
    TooManyFonts,
    /// The token text does not fit a QR code on this label. Use a larger label or
    /// a shorter token.
    #[error("token too long for a QR code on this label ({len} bytes)")]
    TokenTooLong {
        /// Length of the token text in bytes.
        len: usize,
    },
    /// The tracking number cannot be drawn as Code 128 on this label. Check the
    /// number or use a wider label.
    #[error("tracking barcode: {reason}")]
    Barcode {
        /// What is wrong.
        reason: &'static str,
    },
}

/// Why a logo was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogoProblem {
    /// The bytes are not a picture the crate reads (PNG, JPEG).
    #[error("not a PNG or JPEG picture")]
    Undecodable,
    /// The picture has no pixels.
    #[error("the picture is empty")]
    Empty,
    /// The picture is larger than 4096 pixels a side.
    #[error("the picture is larger than 4096 pixels a side")]
    TooLarge,
}

/// Exporting a raster to ZPL II or PDF failed, or ZPL text could not be read back
/// into a raster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The raster is empty or larger than the format allows (ZPL: 32,000 dots a
    /// side). Render the label at a supported size.
    #[error("raster of {width}x{height} dots cannot be exported: {reason}")]
    InvalidSize {
        /// Width in dots.
        width: u32,
        /// Height in dots.
        height: u32,
        /// Which limit was hit.
        reason: &'static str,
    },
    /// A resolution outside 1..=9600 dpi was given. Pass the label's real dpi.
    #[error("invalid resolution: {dpi} dpi")]
    Dpi {
        /// The rejected value.
        dpi: u16,
    },
    /// An export option is out of range (for example 0 copies). Fix the option.
    #[error("invalid export option: {reason}")]
    InvalidOption {
        /// What is wrong.
        reason: &'static str,
    },
    /// A batch export was given no labels. Pass at least one.
    #[error("no labels to export")]
    EmptyBatch,
    /// ZPL text has no well-formed `^GF` graphic field, or a field is malformed.
    /// The text was not produced by this crate or was damaged in transit.
    #[error("malformed ZPL: {reason}")]
    ZplSyntax {
        /// What is wrong (never the data itself).
        reason: &'static str,
    },
    /// A Z64 graphic field's CRC does not match its data: the text was damaged.
    /// Regenerate it.
    #[error("Z64 checksum mismatch")]
    ZplChecksum,
    /// Decoding would need more memory than the decoder allows. The input is not a
    /// label this crate produces.
    #[error("graphic too large to decode ({bytes} bytes)")]
    TooLarge {
        /// The size the input asked for.
        bytes: u64,
    },
    /// Writing the output failed. Check the destination (disk full, closed pipe).
    #[error("export I/O error: {0}")]
    Io(#[from] std::io::Error),
}
