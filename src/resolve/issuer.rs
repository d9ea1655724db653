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

    /// `docs/TOKEN.md`, "Strict Ed25519 vectors": each passes a laxer check
    /// and is refused by the strict rule every signature here is checked with.
    #[test]
    fn the_strict_rule_refuses_the_pages_edge_cases() {
        use ed25519_dalek::Verifier as _;
        const MESSAGE: &[u8] = b"waybill-redact strict vector";
        // 1. S not canonical: vector 3's issuer, a valid signature with the group
        //    order L added to S (still below 2^256).
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let seed: [u8; 32] = sha2::Sha256::digest(b"waybill-redact vector issuer").into();
        let key = IssuerKey::from_secret(seed);
        let pk = key.public_key();
        let sig = key.sign(MESSAGE);
        assert!(pk.verify(MESSAGE, &sig));
        let mut high = sig;
        let mut carry = 0u16;
        for (s, l) in high[32..].iter_mut().zip(L) {
            let sum = u16::from(*s) + u16::from(l) + carry;
            *s = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0);
        assert!(!pk.verify(MESSAGE, &high));
        // 2. Small order: the identity as public key and as R, S = 0. The
        //    cofactorless equation holds ([0]B = R + [k]A), so a lax verifier
        //    accepts it for every message.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut forged = [0u8; 64];
        forged[..32].copy_from_slice(&identity);
        let lax = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
        assert!(lax
            .verify(MESSAGE, &ed25519_dalek::Signature::from_bytes(&forged))
            .is_ok());
        // Refused when read (a weak key), or else by the strict rule.
        if let Ok(small) = format!("WI1:{}", hex::encode(identity)).parse::<IssuerPublicKey>() {
            assert!(!small.verify(MESSAGE, &forged));
        }
        // 3. The identity encoded non-canonically (y = p + 1): refused when read,
        //    or else by the strict rule.
        let mut noncanonical = [0xffu8; 32];
        noncanonical[0] = 0xee;
        noncanonical[31] = 0x7f;
        if let Ok(pk) = format!("WI1:{}", hex::encode(noncanonical)).parse::<IssuerPublicKey>() {
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&noncanonical);
            assert!(!pk.verify(MESSAGE, &sig));
            sig[..32].copy_from_slice(&identity);
            assert!(!pk.verify(MESSAGE, &sig));
        }
    }
}
