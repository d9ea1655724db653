//! Sealing a waybill into a suite-1 token with the key ring, and opening tokens
//! of every suite (generation 3's suites 1 and 3, generation 2's suites 1 and 2).

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, Tag, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use super::envelope::{TokenHeader, GENERATION, NONCE_LEN, SUITE_1, SUITE_2, SUITE_3};
use super::payload::Payload;
use super::sealers::{SealerId, SealerPublicKey};
use super::suite2;
use super::suite3::{self, Unmasked};
use super::validity::{Validity, EXPIRY_PERIOD_SECS};
use crate::token::{SealError, TokenError};
use crate::{KeyRing, Token, Waybill};

impl KeyRing {
    /// Seals the waybill's recipient data into a suite-1 token bound to the
    /// waybill's zone, with the current key. Every call draws a fresh random
    /// nonce, so two tokens for the same waybill share no ciphertext.
    ///
    /// # Errors
    /// [`TokenError::Seal`] when the record does not fit the largest padding
    /// bucket, or the OS random source fails.
    pub fn seal(&self, waybill: &Waybill, validity: &Validity) -> Result<Token, TokenError> {
        let nonce = suite2::random::<NONCE_LEN>()?;
        self.seal_with_nonce(GENERATION, waybill, validity, *nonce)
    }

    /// [`seal`](Self::seal) in a given generation with a given nonce: for test
    /// vectors only, since a repeated nonce under one zone key breaks
    /// confidentiality.
    pub(crate) fn seal_with_nonce(
        &self,
        generation: u8,
        waybill: &Waybill,
        validity: &Validity,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Token, TokenError> {
        let header = TokenHeader {
            generation,
            suite: SUITE_1,
            kid: self.current_kid(),
            zone: waybill.zone(),
            expiry_period: validity.expiry_period()?,
            tracking_number: waybill.tracking_number().clone(),
            sealer: None,
        };
        let payload = Payload::from_waybill(waybill, validity);
        let key = self
            .zone_key(header.kid, header.zone)
            .ok_or(TokenError::UnknownKey { kid: header.kid })?;
        let mut out = Vec::with_capacity(280);
        header.write(&mut out);
        let header_len = out.len();
        out.extend_from_slice(&nonce);
        let body_start = out.len();
        // The plaintext is encrypted in place; if encryption fails it is wiped.
        let mut out = Zeroizing::new(out);
        payload.encode_padded(&mut out)?;
        let aad = associated_data(header.domain(), out.get(..header_len).unwrap_or_default());
        let (_, body) = out.split_at_mut(body_start);
        let tag = XChaCha20Poly1305::new(&key.0.into())
            .encrypt_inout_detached(&XNonce::from(nonce), &aad, body.into())
            .map_err(|_| TokenError::Seal(SealError::RecordTooLarge))?;
        out.extend_from_slice(&tag);
        Ok(Token::from_parts(
            core::mem::take(&mut *out),
            header_len,
            header,
        ))
    }

    /// Opens a suite-1 token: derives the zone key for its key id and zone, checks
    /// the tag over the header and ciphertext, and only then decodes the payload.
    ///
    /// Expiry is not checked against the clock here: the
    /// [`Resolver`](crate::Resolver) does that.
    ///
    /// # Errors
    /// [`TokenError::Open`] for a seller's token, an unknown key id, a wrong zone,
    /// or any changed byte; nothing more precise, by design.
    pub fn open(&self, token: &Token) -> Result<Payload, TokenError> {
        let header = token.header();
        if header.suite != SUITE_1 {
            return Err(TokenError::Open);
        }
        let key = self
            .zone_key(header.kid, header.zone)
            .ok_or(TokenError::Open)?;
        let (header_bytes, nonce, ciphertext, tag) = token.parts();
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| TokenError::Open)?;
        let tag = <[u8; 16]>::try_from(tag).map_err(|_| TokenError::Open)?;
        let aad = associated_data(header.domain(), header_bytes);
        let mut plain = Zeroizing::new(ciphertext.to_vec());
        XChaCha20Poly1305::new(&key.0.into())
            .decrypt_inout_detached(
                &XNonce::from(nonce),
                &aad,
                plain.as_mut_slice().into(),
                &Tag::from(tag),
            )
            .map_err(|_| TokenError::Open)?;
        decode(header, &plain)
    }

    /// Opens a seller's token (suite 3, or generation 2's suite 2) sealed by
    /// `sealer`, and only then decodes the payload.
    ///
    /// The caller refuses unknown and revoked sealers first: for suite 2 by the
    /// header's [`sealer_id`](crate::TokenHeader::sealer_id), for suite 3 by
    /// [`sealer_of`](Self::sealer_of), which only the zone key reveals.
    ///
    /// # Errors
    /// [`TokenError::Open`] for a suite-1 token, a sealer that did not seal it
    /// (its id is not the token's, or its key is not the one the token was
    /// sealed with), an unknown key id, a wrong zone, or any changed byte.
    pub fn open_sealed(
        &self,
        token: &Token,
        sealer: &SealerPublicKey,
    ) -> Result<Payload, TokenError> {
        let header = token.header();
        match header.suite {
            SUITE_3 => {
                let unmasked = self.unmask(token)?;
                if unmasked.sealer != sealer.id() {
                    return Err(TokenError::Open);
                }
                self.open_unmasked(token, &unmasked, sealer)
            }
            SUITE_2 if header.sealer == Some(sealer.id()) => {
                let zone = self
                    .zone_secret(header.kid, header.zone)
                    .ok_or(TokenError::Open)?;
                let (header_bytes, enc, ciphertext, tag) = token.parts();
                let mut plain = Zeroizing::new(ciphertext.to_vec());
                suite2::open(&zone, sealer.kem(), enc, header_bytes, &mut plain, tag)?;
                decode(header, &plain)
            }
            _ => Err(TokenError::Open),
        }
    }

    /// The sealer a suite-3 token names, unmasked with the zone's secret key
    /// (one X25519 operation). The name is not yet authenticated: only
    /// [`open_sealed`](Self::open_sealed) with that sealer's registered key
    /// proves it.
    ///
    /// # Errors
    /// [`TokenError::Open`] for another suite, an unknown key id, or an
    /// encapsulated key that is not a valid X25519 public key.
    pub fn sealer_of(&self, token: &Token) -> Result<SealerId, TokenError> {
        self.unmask(token).map(|u| u.sealer)
    }

    /// Suite 3's first step: decapsulate and unmask the sealer id.
    pub(crate) fn unmask(&self, token: &Token) -> Result<Unmasked, TokenError> {
        let header = token.header();
        if header.suite != SUITE_3 {
            return Err(TokenError::Open);
        }
        let zone = self
            .zone_secret(header.kid, header.zone)
            .ok_or(TokenError::Open)?;
        let (_, kex, _, _) = token.parts();
        let (enc, encrypted_id) = kex.split_at(suite3::ENC_LEN.min(kex.len()));
        suite3::unmask(&zone, enc, encrypted_id)
    }

    /// Suite 3's second step, with the unmasked sealer's registered key.
    pub(crate) fn open_unmasked(
        &self,
        token: &Token,
        unmasked: &Unmasked,
        sealer: &SealerPublicKey,
    ) -> Result<Payload, TokenError> {
        let header = token.header();
        let k_ss = self
            .static_secret(header.kid, header.zone, sealer)
            .ok_or(TokenError::Open)?;
        let zone_public = self
            .zone_public_bytes(header.kid, header.zone)
            .ok_or(TokenError::Open)?;
        let (header_bytes, kex, ciphertext, tag) = token.parts();
        let (enc, encrypted_id) = kex.split_at(suite3::ENC_LEN.min(kex.len()));
        let mut plain = Zeroizing::new(ciphertext.to_vec());
        suite3::open(
            unmasked,
            &k_ss,
            &sealer.to_bytes(),
            &zone_public,
            header_bytes,
            enc,
            encrypted_id,
            &mut plain,
            tag,
        )?;
        decode(header, &plain)
    }
}

/// Decodes an authenticated plaintext and checks that its exact expiry lies in
/// the header's 28-day period. Authenticated bytes that fail come from a buggy
/// sealer holding a valid key; keep the error opaque all the same.
pub(crate) fn decode(header: &TokenHeader, plain: &[u8]) -> Result<Payload, TokenError> {
    let payload = Payload::decode_padded(plain)?;
    let bound = header.expiry_bound_unix();
    let exp = payload.expires_at();
    if exp > bound || exp <= bound.saturating_sub(EXPIRY_PERIOD_SECS) {
        return Err(TokenError::Open);
    }
    Ok(payload)
}

/// Suite 1's associated data: `domain ‖ header bytes`.
pub(super) fn associated_data(domain: &[u8], header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(domain.len() + header.len());
    aad.extend_from_slice(domain);
    aad.extend_from_slice(header);
    aad
}
