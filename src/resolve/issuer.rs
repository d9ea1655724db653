//! The carrier's grant issuer key (Ed25519) and the public keys resolvers trust.

use sha2::{Digest, Sha256};

use super::ed25519_key::{key_role, Ed25519Key, Ed25519PublicKey};

/// An issuer's signing key: signs courier grants. Zeroized on drop; `Debug`
/// shows the public key only.
pub type IssuerKey = Ed25519Key<key_role::Issuer>;

/// An issuer's public key, which a [`Resolver`](crate::Resolver) trusts.
///
/// Text form: `WI1:` followed by the 32-byte Ed25519 key in lowercase hex.
pub type IssuerPublicKey = Ed25519PublicKey<key_role::Issuer>;

impl IssuerKey {
    /// A fresh key from the OS random source.
    ///
    /// # Panics
    /// If the operating system's random source fails.
    pub fn generate() -> Self {
        let Some(key) = Self::random() else {
            panic!("the OS random source failed");
        };
        key
    }
}

impl IssuerPublicKey {
    /// A short id: the first 8 bytes of SHA-256 of the key. Grants name their
    /// issuer by it.
    pub fn id(&self) -> [u8; 8] {
        let digest = Sha256::digest(self.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_message() {
        let key = IssuerKey::from_secret([9; 32]);
        let sig = key.sign(b"grant");
        assert!(key.public_key().verify(b"grant", &sig));
        assert!(!key.public_key().verify(b"grunt", &sig));
        let other = IssuerKey::from_secret([8; 32]).public_key();
        assert!(!other.verify(b"grant", &sig));
        assert_ne!(other.id(), key.public_key().id());
    }
}
