//! Hooks for the fuzz targets only: compiled when cargo-fuzz builds with
//! `--cfg fuzzing`, never in a normal build.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};

use super::envelope::{TokenHeader, NONCE_LEN, SUITE_1};
use super::sealer::associated_data;
use crate::error::TokenError;
use crate::{KeyRing, Token, TrackingNumber};

impl KeyRing {
    /// Seals `plaintext` as it stands, in place of an encoded payload, so that a
    /// fuzz target reaches the payload decoder behind a successful open.
    #[doc(hidden)]
    pub fn fuzz_seal_plaintext(&self, zone: u32, plaintext: &[u8]) -> Result<Token, TokenError> {
        let header = TokenHeader {
            suite: SUITE_1,
            kid: self.current_kid(),
            zone,
            expires_at: 4_102_444_800,
            tracking_number: TrackingNumber::parse_field("tracking_number", "SF1234567890123")
                .map_err(|_| TokenError::Seal { reason: "fixture" })?,
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
        out.extend_from_slice(plaintext);
        let aad = associated_data(out.get(..header_len).unwrap_or_default());
        let (_, body) = out.split_at_mut(body_start);
        let tag = XChaCha20Poly1305::new(Key::from_slice(&key.0))
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &aad, body)
            .map_err(|_| TokenError::Seal { reason: "too long" })?;
        out.extend_from_slice(&tag);
        Ok(Token::from_parts(out, header_len, header))
    }
}
