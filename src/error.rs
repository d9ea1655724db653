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

/// A label could not be encoded in an output format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The raster is empty or too large for the format. Render with a valid
    /// `LabelSpec`.
    #[error("raster of {width}x{height} dots cannot be encoded")]
    InvalidSize {
        /// Width in dots.
        width: u32,
        /// Height in dots.
        height: u32,
    },
    /// Compressing or writing the output failed (out of memory, or the writer
    /// failed). Retry, or check the destination.
    #[error("encoding failed: {0}")]
    Io(#[from] std::io::Error),
}
