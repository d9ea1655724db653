//! A courier device's key, and the signed proof that a resolve request comes
//! from the device its grant is bound to.
//!
//! A grant of version 2 carries the device's Ed25519 public key (`WD1:…`). Each
//! request under it carries a [`RequestProof`]: the request time, a random
//! nonce and the device's signature over
//!
//! ```text
//! "waybill-redact resolve request v1" ‖ grant id (16) ‖ purpose length (1) ‖ purpose
//! ‖ time (8, unix seconds, big-endian) ‖ nonce (16) ‖ token count (2, big-endian)
//! ‖ SHA-256 of each token's text, in request order (32 each)
//! ```
//!
//! So a grant's text alone resolves nothing, and a captured request cannot be
//! replayed (the resolver refuses a nonce it has seen within the time window) or
//! pointed at other tokens.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

use super::ed25519_key::{key_role, Ed25519Key, Ed25519PublicKey};
use super::request::Purpose;
use crate::resolve::DeviceError;
use crate::GrantId;

/// The text prefix of a request proof.
const PROOF_PREFIX: &str = "WR1:";
/// Signed before every request, so a request signature means nothing elsewhere.
const REQUEST_DOMAIN: &[u8] = b"waybill-redact resolve request v1";
/// Bytes of a proof: time, nonce, signature.
const PROOF_LEN: usize = 8 + 16 + 64;
/// Tokens one proof may cover, at most.
pub const MAX_PROOF_TOKENS: usize = 100;

/// How far a request's time may be from the resolver's clock, by default, in
/// seconds either way.
pub const DEFAULT_REQUEST_WINDOW_SECS: u64 = 120;

/// A courier device's signing key. Zeroized on drop; `Debug` shows the public
/// key only. Stays on the device: the issuer only ever sees the public key.
pub type DeviceKey = Ed25519Key<key_role::Device>;

/// A device's public key, signed into a grant of version 2.
///
/// Text form: `WD1:` followed by the 32-byte Ed25519 key in lowercase hex.
pub type DevicePublicKey = Ed25519PublicKey<key_role::Device>;

fn bad(reason: &'static str) -> DeviceError {
    DeviceError { reason }
}

impl DeviceKey {
    /// A fresh key from the OS random source.
    ///
    /// # Errors
    /// [`DeviceError`] when the operating system's random source fails.
    pub fn generate() -> Result<Self, DeviceError> {
        Self::random().ok_or(bad("the OS random source failed"))
    }

    /// Signs a request for `tokens` under the grant `grant`, at `time` (unix
    /// seconds, the device's clock) with a fresh random nonce.
    ///
    /// # Errors
    /// [`DeviceError`] for no tokens or more than [`MAX_PROOF_TOKENS`], or when
    /// the OS random source fails.
    pub fn prove(
        &self,
        grant: GrantId,
        purpose: Purpose,
        tokens: &[&str],
        time: u64,
    ) -> Result<RequestProof, DeviceError> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|_| bad("the OS random source failed"))?;
        self.prove_with_nonce(grant, purpose, tokens, time, nonce)
    }

    /// [`prove`](Self::prove) with a given nonce: for test vectors. A nonce
    /// must never be used twice.
    ///
    /// # Errors
    /// [`DeviceError`] for no tokens or more than [`MAX_PROOF_TOKENS`].
    pub fn prove_with_nonce(
        &self,
        grant: GrantId,
        purpose: Purpose,
        tokens: &[&str],
        time: u64,
        nonce: [u8; 16],
    ) -> Result<RequestProof, DeviceError> {
        let message = request_message(grant, purpose, tokens, time, &nonce)?;
        Ok(RequestProof {
            time,
            nonce,
            signature: self.sign(&message),
        })
    }
}

/// The bytes a device signs for one request; see the module documentation.
pub(crate) fn request_message(
    grant: GrantId,
    purpose: Purpose,
    tokens: &[&str],
    time: u64,
    nonce: &[u8; 16],
) -> Result<Vec<u8>, DeviceError> {
    if tokens.is_empty() || tokens.len() > MAX_PROOF_TOKENS {
        return Err(bad("a request covers 1 to 100 tokens"));
    }
    let purpose = purpose.as_str().as_bytes();
    let mut m = Vec::with_capacity(REQUEST_DOMAIN.len() + 60 + purpose.len() + 32 * tokens.len());
    m.extend_from_slice(REQUEST_DOMAIN);
    m.extend_from_slice(grant.as_bytes());
    m.push(u8::try_from(purpose.len()).unwrap_or(0));
    m.extend_from_slice(purpose);
    m.extend_from_slice(&time.to_be_bytes());
    m.extend_from_slice(nonce);
    m.extend_from_slice(&u16::try_from(tokens.len()).unwrap_or(0).to_be_bytes());
    for token in tokens {
        m.extend_from_slice(&Sha256::digest(token.trim().as_bytes()));
    }
    Ok(m)
}

/// A device's proof for one request: its time, nonce and signature. Text form
/// `WR1:` followed by time (8 bytes), nonce (16) and signature (64) in
/// lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestProof {
    /// The device's time when it signed, unix seconds.
    pub time: u64,
    /// 16 random bytes, never reused.
    pub nonce: [u8; 16],
    /// The Ed25519 signature over the request message.
    pub signature: [u8; 64],
}

impl RequestProof {
    /// Whether the signature verifies for this request under `device`.
    pub(crate) fn verifies(
        &self,
        device: &DevicePublicKey,
        grant: GrantId,
        purpose: Purpose,
        tokens: &[&str],
    ) -> bool {
        request_message(grant, purpose, tokens, self.time, &self.nonce)
            .is_ok_and(|m| device.verify(&m, &self.signature))
    }
}

impl fmt::Display for RequestProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = [0u8; PROOF_LEN];
        bytes[..8].copy_from_slice(&self.time.to_be_bytes());
        bytes[8..24].copy_from_slice(&self.nonce);
        bytes[24..].copy_from_slice(&self.signature);
        write!(f, "{PROOF_PREFIX}{}", hex::encode(bytes))
    }
}

impl fmt::Debug for RequestProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestProof")
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

impl FromStr for RequestProof {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, DeviceError> {
        let hex_text = s
            .trim()
            .strip_prefix(PROOF_PREFIX)
            .ok_or(bad("missing WR1: prefix"))?;
        let mut bytes = [0u8; PROOF_LEN];
        hex::decode_to_slice(hex_text, &mut bytes).map_err(|_| bad("not 176 hex digits"))?;
        let (time, rest) = bytes.split_at(8);
        let (nonce, signature) = rest.split_at(16);
        Ok(Self {
            time: u64::from_be_bytes(time.try_into().map_err(|_| bad("length"))?),
            nonce: nonce.try_into().map_err(|_| bad("length"))?,
            signature: signature.try_into().map_err(|_| bad("length"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKENS: [&str; 2] = ["WB2:AAAA", "WB2:BBBB"];

    #[test]
    fn proof_binds_every_part_of_the_request() {
        let key = DeviceKey::from_secret([3; 32]);
        let device = key.public_key();
        let grant = GrantId::from_bytes([7; 16]);
        let proof = key
            .prove(grant, Purpose::Delivery, &TOKENS, 1_800_000_000)
            .unwrap();
        assert!(proof.verifies(&device, grant, Purpose::Delivery, &TOKENS));
        assert!(!proof.verifies(
            &device,
            GrantId::from_bytes([8; 16]),
            Purpose::Delivery,
            &TOKENS
        ));
        assert!(!proof.verifies(&device, grant, Purpose::Call, &TOKENS));
        assert!(!proof.verifies(&device, grant, Purpose::Delivery, &TOKENS[..1]));
        assert!(!proof.verifies(&device, grant, Purpose::Delivery, &["WB2:AAAA", "WB2:CCCC"]));
        let other = DeviceKey::from_secret([4; 32]).public_key();
        assert!(!proof.verifies(&other, grant, Purpose::Delivery, &TOKENS));
        let mut later = proof;
        later.time += 1;
        assert!(!later.verifies(&device, grant, Purpose::Delivery, &TOKENS));
        let back: RequestProof = proof.to_string().parse().unwrap();
        assert_eq!(back, proof);
        assert_eq!(proof.to_string().len(), 4 + 2 * PROOF_LEN);
    }

    #[test]
    fn proof_text_errors_never_panic() {
        for text in ["", "WR1:", "WR1:zz", &format!("WR1:{}", "0".repeat(175))] {
            assert!(text.parse::<RequestProof>().is_err(), "{text}");
        }
        let key = DeviceKey::from_secret([3; 32]);
        assert!(key
            .prove(GrantId::from_bytes([0; 16]), Purpose::Call, &[], 0)
            .is_err());
        let many = vec!["WB2:A"; MAX_PROOF_TOKENS + 1];
        assert!(key
            .prove(GrantId::from_bytes([0; 16]), Purpose::Call, &many, 0)
            .is_err());
    }
}
