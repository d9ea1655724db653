//! The service's errors. Messages never hold tokens, grants or personal data.

/// A store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database did not answer or refused the statement. The request got a
    /// 503 and nothing was disclosed; check the database and retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The stored audit chain is damaged (its last record does not match its
    /// hash). Investigate with `audit export` and `audit verify` before serving.
    #[error("store corrupt: {0}")]
    Corrupt(String),
    /// The store's writer has stopped (the service is shutting down).
    #[error("store closed")]
    Closed,
    /// The store's URL or its settings are wrong (an unsupported `sslmode`, an
    /// unreadable `sslrootcert`, a schema this role may not migrate): the
    /// message names the setting. Fix the configuration; retrying cannot help.
    #[error("store settings: {0}")]
    Config(String),
}

/// The service could not start or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The configuration is invalid; the message names the setting.
    #[error("config: {0}")]
    Config(String),
    /// A key file (ring, issuer, audit key) could not be read.
    #[error("key: {0}")]
    Key(String),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Binding, serving or writing failed.
    #[error("I/O: {0}")]
    Io(std::io::Error),
}

// The cause is in the message, so it is not also a `source()`: printed once.
impl From<std::io::Error> for ServiceError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
