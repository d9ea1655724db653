//! Courier tokens: the sealed QR envelope (suites 1 and 2), key ring, zone
//! directory and sealers. Who may open them is `resolve`'s business.
//!
//! The byte format is written down, with test vectors, in `docs/TOKEN.md`.

pub(crate) mod base45;
pub(crate) mod cbor;
mod error;
pub use error::{DirectoryError, KeyRingError, MalformedToken, SealError, SealerError, TokenError};

mod directory;
mod directory_cache;
pub(crate) mod envelope;
#[cfg(fuzzing)]
mod fuzzing;
pub(crate) mod keyring;
pub(crate) mod masterkey;
pub(crate) mod payload;
mod public_sealer;
pub(crate) mod reader;
pub(crate) mod sealer;
pub(crate) mod sealers;
pub(crate) mod suite2;
pub(crate) mod suite3;
pub(crate) mod validity;
#[cfg(test)]
mod vectors;

pub use directory::ZoneDirectory;
pub use directory_cache::{cache_max_age, FetchedDirectory};
pub use envelope::{Token, TokenHeader};
pub use keyring::KeyRing;
pub use payload::{Payload, PayloadItem};
pub use public_sealer::PublicSealer;
pub use sealers::{SealerId, SealerKey, SealerPublicKey, SealerRegistry, SealerStatus};
pub use validity::{Validity, ISSUED_AT_SKEW_SECS};
