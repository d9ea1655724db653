//! Errors of tokens, key rings, zone directories and sealers.

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
    /// The text starts with neither `WB3:` nor `WB2:`.
    #[error("missing WB3: (or WB2:) prefix")]
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
    /// A cached copy is past the time until which it may be used (the
    /// service's `Cache-Control` max-age, or the directory's expiry). Fetch it
    /// again; a stale copy is never used.
    #[error("the cached copy is stale")]
    Stale,
    /// The file is not a directory cache, or caches another URL. Fetch the
    /// directory again.
    #[error("not a directory cache of this URL")]
    NotACache,
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
    /// A station name that is not 1 to 64 ASCII letters, digits, `.`, `_` or
    /// `-`. Choose another name.
    #[error("a station name is 1 to 64 ASCII letters, digits, `.`, `_` or `-`")]
    StationName,
    /// Another station's key, not revoked, is registered under this name.
    /// Revoke the old key first (a station that changes its key), or choose
    /// another name.
    #[error("station {name} already has a key that is not revoked ({id})")]
    StationTaken {
        /// The station's name.
        name: String,
        /// The id of the key registered under it, 8 hex digits.
        id: String,
    },
}
