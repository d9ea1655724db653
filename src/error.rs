//! Error types: one enum per area, wrapped by the top-level [`Error`].
//!
//! Every variant says what went wrong and, in its doc comment, what the caller
//! should do about it. Messages never contain personal data: a field is named by
//! its path (`recipient.phone`), never by its value.

#[cfg(feature = "render")]
use crate::export::ExportError;
use crate::mask::MaskError;
use crate::model::ModelError;
#[cfg(feature = "render")]
use crate::render::RenderError;
use crate::resolve::{AuditError, Denied, GrantError};
use crate::token::{DirectoryError, SealerError, TokenError};

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
    Directory(DirectoryError),
    /// A sealer key or the sealer registry is unusable.
    #[error("sealer: {0}")]
    Sealer(SealerError),
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
    #[cfg(feature = "render")]
    #[cfg_attr(docsrs, doc(cfg(feature = "render")))]
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Encoding a label as PNG, ZPL or PDF failed.
    #[cfg(feature = "render")]
    #[cfg_attr(docsrs, doc(cfg(feature = "render")))]
    #[error(transparent)]
    Export(#[from] ExportError),
    /// Reading or writing a file failed. Check the path and permissions.
    #[error("I/O error: {0}")]
    Io(std::io::Error),
}

// The cause is in the message, so it is not also a `source()`: printed once.
impl From<DirectoryError> for Error {
    fn from(e: DirectoryError) -> Self {
        Self::Directory(e)
    }
}

// The cause is in the message, so it is not also a `source()`: printed once.
impl From<SealerError> for Error {
    fn from(e: SealerError) -> Self {
        Self::Sealer(e)
    }
}

// The cause is in the message, so it is not also a `source()`: printed once.
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
