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
    /// Reading or writing a file failed. Check the path and permissions.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Exporting a label raster to ZPL or PDF failed, or a ZPL graphic field could
    /// not be read back.
    #[error(transparent)]
    Export(#[from] ExportError),
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
    /// The token could not be opened: wrong key, wrong zone or tampered bytes.
    /// Deliberately says no more. Treat the token as invalid.
    #[error("token could not be opened")]
    Open,
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
        dpi: u32,
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
    Io(#[source] std::io::Error),
}
