//! The carrier's grant issuer key (Ed25519) and the public keys resolvers trust.

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::keyfile;
use crate::resolve::GrantError;

/// The text prefix of a public key.
const PUBLIC_PREFIX: &str = "WI1:";
/// The `format` field of the issuer key file.
const FILE_FORMAT: &str = "waybill-redact issuer key v1";

/// An issuer's signing key: signs courier grants. Zeroized on drop; `Debug`
/// shows the public key only.
pub struct IssuerKey {
    signing: SigningKey,
}

/// An issuer's public key, which a [`Resolver`](crate::Resolver) trusts.
///
/// Text form: `WI1:` followed by the 32-byte Ed25519 key in lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IssuerPublicKey {
    key: VerifyingKey,
}

fn bad(reason: &'static str) -> GrantError {
    GrantError::IssuerKey { reason }
}

impl IssuerKey {
    /// A fresh key from the OS random source.
    ///
    /// # Panics
    /// If the operating system's random source fails.
    pub fn generate() -> Self {
        let Some(secret) = keyfile::random_secret() else {
            panic!("the OS random source failed");
        };
        Self::from_secret(*secret)
    }

    /// A key from its 32-byte Ed25519 secret. For test vectors and imports.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&secret),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> IssuerPublicKey {
        IssuerPublicKey {
            key: self.signing.verifying_key(),
        }
    }

    /// Signs `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The issuer key file (JSON, holds the secret; store it owner-only).
    pub fn to_json(&self) -> Zeroizing<String> {
        let secret = Zeroizing::new(self.signing.to_bytes());
        keyfile::to_json(
            FILE_FORMAT,
            secret.as_slice(),
            self.public_key().to_string(),
        )
    }

    /// Reads an issuer key file written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    /// [`GrantError::IssuerKey`] when it is malformed or its public key does not
    /// match its secret.
    pub fn from_json(text: &str) -> Result<Self, GrantError> {
        let (secret, public) = keyfile::from_json(text, FILE_FORMAT)
            .map_err(|e| bad(e.reason("not an issuer key file")))?;
        let key = Self::from_secret(*secret);
        if public.parse::<IssuerPublicKey>()? != key.public_key() {
            return Err(bad("the public key does not match the secret"));
        }
        Ok(key)
    }
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKey")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl IssuerPublicKey {
    /// Parses the text form, or the public key out of an issuer key file.
    ///
    /// # Errors
    /// [`GrantError::IssuerKey`] when it is neither.
    pub fn from_text_or_file(text: &str) -> Result<Self, GrantError> {
        keyfile::public_text(text)
            .ok_or(bad("not a key file"))?
            .parse()
    }

    /// A short id: the first 8 bytes of SHA-256 of the key. Grants name their
    /// issuer by it.
    pub fn id(&self) -> [u8; 8] {
        let digest = Sha256::digest(self.key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
        id
    }

    /// Checks an Ed25519 signature (strict: no malleable or small-order keys).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }
}

impl fmt::Display for IssuerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", hex::encode(self.key.as_bytes()))
    }
}

impl fmt::Debug for IssuerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuerPublicKey({self})")
    }
}

impl core::str::FromStr for IssuerPublicKey {
    type Err = GrantError;
    fn from_str(s: &str) -> Result<Self, GrantError> {
        let bytes =
            keyfile::public_bytes(s, PUBLIC_PREFIX).ok_or(bad("not WI1: and 64 hex digits"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad("not an Ed25519 key"))?;
        Ok(Self { key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_text_round_trip() {
        let key = IssuerKey::generate();
        let json = key.to_json();
        let back = IssuerKey::from_json(&json).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let text = key.public_key().to_string();
        assert!(text.starts_with("WI1:") && text.len() == 68);
        assert_eq!(
            IssuerPublicKey::from_text_or_file(&text),
            Ok(key.public_key())
        );
        assert_eq!(
            IssuerPublicKey::from_text_or_file(&json),
            Ok(key.public_key())
        );
        let secret = hex::encode(key.signing.to_bytes());
        assert!(!format!("{key:?}").contains(&secret));
    }

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
        let small: IssuerPublicKey = format!("WI1:{}", hex::encode(identity)).parse().unwrap();
        let mut forged = [0u8; 64];
        forged[..32].copy_from_slice(&identity);
        assert!(small
            .key
            .verify(MESSAGE, &Signature::from_bytes(&forged))
            .is_ok());
        assert!(!small.verify(MESSAGE, &forged));
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

    #[test]
    fn mismatched_file_is_rejected() {
        let a = IssuerKey::generate().to_json();
        let b = IssuerKey::generate().public_key().to_string();
        let pos = a.find("WI1:").unwrap();
        let forged = format!("{}{}\"\n}}", &a[..pos], b);
        assert_eq!(
            IssuerKey::from_json(&forged).unwrap_err(),
            bad("the public key does not match the secret")
        );
    }
}
