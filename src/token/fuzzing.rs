//! Hooks for the fuzz targets only: compiled when cargo-fuzz builds with
//! `--cfg fuzzing`, never in a normal build.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};

use super::envelope::{TokenHeader, GENERATION, NONCE_LEN, SUITE_1};
use super::payload::PAD_BUCKETS;
use super::sealer::associated_data;
use crate::token::{SealError, TokenError};
use crate::{KeyRing, Token, TrackingNumber};

impl KeyRing {
    /// Seals `plaintext` as it stands, in place of an encoded payload (zero-padded
    /// to its bucket, or cut to the largest), so that a fuzz target reaches the
    /// payload decoder behind a successful open.
    #[doc(hidden)]
    pub fn fuzz_seal_plaintext(&self, zone: u32, plaintext: &[u8]) -> Result<Token, TokenError> {
        let header = TokenHeader {
            generation: GENERATION,
            suite: SUITE_1,
            kid: self.current_kid(),
            zone,
            // 2100-01-01 is in period 1696.
            expiry_period: 1696,
            tracking_number: TrackingNumber::parse_field("tracking_number", "SF1234567890123")
                .map_err(|_| TokenError::Seal(SealError::RecordTooLarge))?,
            sealer: None,
        };
        let key = self
            .zone_key(header.kid, header.zone)
            .ok_or(TokenError::UnknownKey { kid: header.kid })?;
        let nonce = [0x5a; NONCE_LEN];
        let mut out = Vec::new();
        header.write(&mut out);
        let header_len = out.len();
        out.extend_from_slice(&nonce);
        let body_start = out.len();
        let max = PAD_BUCKETS[PAD_BUCKETS.len() - 1];
        let plain = plaintext.get(..max).unwrap_or(plaintext);
        let bucket = PAD_BUCKETS
            .iter()
            .copied()
            .find(|&b| b >= plain.len())
            .unwrap_or(max);
        out.extend_from_slice(plain);
        out.resize(body_start + bucket, 0);
        let aad = associated_data(header.domain(), out.get(..header_len).unwrap_or_default());
        let (_, body) = out.split_at_mut(body_start);
        let tag = XChaCha20Poly1305::new(&key.0.into())
            .encrypt_inout_detached(&XNonce::from(nonce), &aad, body.into())
            .map_err(|_| TokenError::Seal(SealError::RecordTooLarge))?;
        out.extend_from_slice(&tag);
        Ok(Token::from_parts(out, header_len, header))
    }
}
