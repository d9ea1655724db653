//! Where a label's machine-readable codes sit, so that printer formats can draw
//! them natively (ZPL `^BC` / `^BQ`) instead of as raster.

/// The kind of a placed code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeKind {
    /// A Code 128 barcode (the tracking number).
    Code128,
    /// A QR code (the token), error correction level M.
    Qr,
}

/// One code drawn on a label: its kind, its data, and the rectangle (in dots, from
/// the top-left corner, quiet zone excluded) it occupies in the raster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlacedCode {
    /// What kind of code.
    pub kind: CodeKind,
    /// The encoded text (tracking number or token text). Never personal data.
    pub data: String,
    /// Left edge in dots.
    pub x: u32,
    /// Top edge in dots.
    pub y: u32,
    /// Width in dots.
    pub width: u32,
    /// Height in dots.
    pub height: u32,
    /// Dots per QR module, or per narrowest Code 128 bar.
    pub module: u32,
}

impl PlacedCode {
    /// A code of `kind` holding `data`, at (`x`, `y`) with this size in dots and
    /// `module` dots per module: for describing a label drawn elsewhere.
    pub fn new(
        kind: CodeKind,
        data: impl Into<String>,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        module: u32,
    ) -> Self {
        Self {
            kind,
            data: data.into(),
            x,
            y,
            width,
            height,
            module,
        }
    }
}
