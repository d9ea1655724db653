//! Errors of masking.

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
