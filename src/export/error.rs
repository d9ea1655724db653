//! Errors of exporting a raster as ZPL II or PDF, and of reading ZPL back.

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
    Io(std::io::Error),
}

// The cause is in the message, so it is not also a `source()`: printed once.
impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
