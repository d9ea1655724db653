//! Errors of rendering a label.

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
