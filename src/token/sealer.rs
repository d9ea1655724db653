//! Sealing a waybill into a token and opening it again (suite 1).

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::envelope::{TokenHeader, AAD_DOMAIN, NONCE_LEN, SUITE_1, TAG_LEN};
use super::payload::Payload;
use crate::error::TokenError;
use crate::{KeyRing, Token, Waybill};

/// Largest envelope sealed, in bytes: the text must still fit a version 40 QR code.
const MAX_ENVELOPE: usize = 2048;

impl KeyRing {
    /// Seals the waybill's recipient data into a token bound to the waybill's
    /// zone, with the current key, issued at `now` and valid until `expires_at`.
    /// Every call draws a fresh random nonce, so two tokens for the same waybill
    /// share no ciphertext.
    ///
    /// # Errors
    /// [`TokenError::Seal`] when `expires_at` is not after `now`, or the record
    /// does not fit in a QR code.
    pub fn seal(
        &self,
        waybill: &Waybill,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Token, TokenError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        self.seal_with_nonce(waybill, expires_at, now, nonce)
    }

    /// [`seal`](Self::seal) with a given nonce: for test vectors only, since a
    /// repeated nonce under one zone key breaks confidentiality.
    pub(crate) fn seal_with_nonce(
        &self,
        waybill: &Waybill,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Token, TokenError> {
        if expires_at <= now {
            return Err(TokenError::Seal {
                reason: "expiry must be after the issue time",
            });
        }
        let expires_at =
            u64::try_from(expires_at.unix_timestamp()).map_err(|_| TokenError::Seal {
                reason: "expiry before 1970",
            })?;
        let header = TokenHeader {
            suite: SUITE_1,
            kid: self.current_kid(),
            zone: waybill.zone(),
            expires_at,
            tracking_number: waybill.tracking_number().clone(),
        };
        let payload = Payload::from_waybill(waybill, now);
        self.seal_payload(&header, &payload, nonce)
    }

    /// Encrypts `payload` under `header` into envelope bytes.
    pub(crate) fn seal_payload(
        &self,
        header: &TokenHeader,
        payload: &Payload,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Token, TokenError> {
        let key = self
            .zone_key(header.kid, header.zone)
            .ok_or(TokenError::UnknownKey { kid: header.kid })?;
        let mut out = Vec::with_capacity(320);
        header.write(&mut out);
        let header_len = out.len();
        out.extend_from_slice(&nonce);
        let body_start = out.len();
        // The plaintext is encrypted in place; if encryption fails it is wiped.
        let mut out = Zeroizing::new(out);
        payload.encode_into(&mut out)?;
        if out.len() + TAG_LEN > MAX_ENVELOPE {
            return Err(TokenError::Seal {
                reason: "record too large for a token",
            });
        }
        let aad = associated_data(out.get(..header_len).unwrap_or_default());
        let (_, body) = out.split_at_mut(body_start);
        let tag = XChaCha20Poly1305::new(Key::from_slice(&key.0))
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &aad, body)
            .map_err(|_| TokenError::Seal {
                reason: "record too large for a token",
            })?;
        out.extend_from_slice(&tag);
        Ok(Token::from_parts(
            core::mem::take(&mut *out),
            header_len,
            header.clone(),
        ))
    }

    /// Opens a token: derives the zone key for its key id and zone, checks the tag
    /// over the header and ciphertext, and only then decodes the payload.
    ///
    /// Expiry is not checked here: the [`Resolver`](crate::Resolver) checks it
    /// against the request time.
    ///
    /// # Errors
    /// [`TokenError::Open`] for an unknown key id, a wrong zone, or any changed
    /// byte; nothing more precise, by design.
    pub fn open(&self, token: &Token) -> Result<Payload, TokenError> {
        let header = token.header();
        let key = self
            .zone_key(header.kid, header.zone)
            .ok_or(TokenError::Open)?;
        let (header_bytes, nonce, sealed) = token.parts();
        let split = sealed.len().checked_sub(TAG_LEN).ok_or(TokenError::Open)?;
        let (ciphertext, tag) = sealed.split_at(split);
        if nonce.len() != NONCE_LEN {
            return Err(TokenError::Open);
        }
        let aad = associated_data(header_bytes);
        let mut plain = Zeroizing::new(ciphertext.to_vec());
        XChaCha20Poly1305::new(Key::from_slice(&key.0))
            .decrypt_in_place_detached(
                XNonce::from_slice(nonce),
                &aad,
                plain.as_mut_slice(),
                Tag::from_slice(tag),
            )
            .map_err(|_| TokenError::Open)?;
        // Authenticated bytes that do not decode come from a buggy sealer holding
        // our key; that is no secret, but keep the error opaque all the same.
        Payload::decode(&plain).map_err(|_| TokenError::Open)
    }
}

/// `AAD_DOMAIN ‖ header bytes`.
pub(super) fn associated_data(header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + header.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.extend_from_slice(header);
    aad
}
