//! The seller's sealer: seals suite-3 tokens (generation 3, `WB3:`) to the
//! carrier's zone public keys, authenticated with the seller's own sealer key,
//! whose id only the zone key's holder can read. It holds no way to open them.

use zeroize::Zeroizing;

use super::envelope::{TokenHeader, GENERATION, SUITE_3};
use super::payload::Payload;
use super::sealers::SealerId;
use super::validity::Validity;
use super::{suite2, suite3};
use crate::token::TokenError;
use crate::{SealerKey, Token, Waybill, ZoneDirectory};

/// Seals suite-3 tokens with a verified [`ZoneDirectory`] and a [`SealerKey`].
/// There is no `open`: the zone secret keys are never in a seller's hands.
///
/// ```
/// use time::{Duration, OffsetDateTime};
/// use waybill_redact::{
///     IssuerKey, KeyRing, PublicSealer, SealerKey, SealerRegistry, Validity, Waybill,
///     ZoneDirectory,
/// };
///
/// let now = OffsetDateTime::now_utc();
/// // The carrier publishes its zone directory and registers the seller's key.
/// let (ring, issuer) = (KeyRing::generate(), IssuerKey::generate());
/// let json = ZoneDirectory::publish(&ring, &issuer, &[755021], now, Duration::days(90))?
///     .to_json();
/// let seller_key = SealerKey::generate()?;
/// let mut registry = SealerRegistry::new();
/// registry.register(seller_key.public_key().clone())?;
///
/// // The seller verifies the directory against the carrier's public key and seals.
/// let directory = ZoneDirectory::from_json(&json, &issuer.public_key(), now)?;
/// let sealer = PublicSealer::new(directory, seller_key.clone());
/// let waybill = Waybill::from_json(r#"{"tracking_number": "SF1234567890123", "zone": 755021,
///   "recipient": {"name": "张三", "phone": "13812345678", "address": "广东省深圳市南山区"}}"#)?;
/// let token = sealer.seal(&waybill, &Validity::days(now, 30)?)?;
///
/// // Only the carrier's ring opens it.
/// let payload = ring.open_sealed(&token, seller_key.public_key())?;
/// assert_eq!(payload.name(), "张三");
/// # Ok::<(), waybill_redact::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PublicSealer {
    directory: ZoneDirectory,
    key: SealerKey,
}

impl PublicSealer {
    /// A sealer for the directory's zones, as the seller holding `key`.
    pub fn new(directory: ZoneDirectory, key: SealerKey) -> Self {
        Self { directory, key }
    }

    /// The id of this sealer's key, which its tokens carry encrypted.
    pub fn sealer_id(&self) -> SealerId {
        self.key.public_key().id()
    }

    /// The directory sealed with.
    pub fn directory(&self) -> &ZoneDirectory {
        &self.directory
    }

    /// Seals the waybill's recipient data into a suite-3 token to its zone's
    /// public key. Every call draws a fresh ephemeral key, so two tokens for the
    /// same waybill share nothing after the header, and the header names no seller.
    ///
    /// # Errors
    /// [`TokenError::ZoneNotInDirectory`]; [`TokenError::Directory`] when the
    /// directory is not valid at the issue time; [`TokenError::Seal`] when the
    /// record does not fit, or the OS random source fails.
    pub fn seal(&self, waybill: &Waybill, validity: &Validity) -> Result<Token, TokenError> {
        self.seal_with_seed(waybill, validity, suite2::random::<32>()?)
    }

    /// [`seal`](Self::seal) with a given ephemeral seed, for test vectors.
    pub(crate) fn seal_with_seed(
        &self,
        waybill: &Waybill,
        validity: &Validity,
        seed: Zeroizing<[u8; 32]>,
    ) -> Result<Token, TokenError> {
        self.seal_claiming(self.sealer_id(), waybill, validity, seed)
    }

    /// Seals with this sealer's key a token whose encrypted id is `id`: the
    /// sealer's own id, or (in tests) another seller's, which the resolver must
    /// refuse.
    pub(crate) fn seal_claiming(
        &self,
        id: SealerId,
        waybill: &Waybill,
        validity: &Validity,
        seed: Zeroizing<[u8; 32]>,
    ) -> Result<Token, TokenError> {
        let issued = i64::try_from(validity.issued_at_unix())
            .ok()
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        self.directory
            .check_valid_at(issued)
            .map_err(TokenError::Directory)?;
        let zone = waybill.zone();
        let zone_key = self
            .directory
            .zone_key(zone)
            .ok_or(TokenError::ZoneNotInDirectory { zone })?;
        let header = TokenHeader {
            generation: GENERATION,
            suite: SUITE_3,
            kid: self.directory.kid(),
            zone,
            expiry_period: validity.expiry_period()?,
            tracking_number: waybill.tracking_number().clone(),
            sealer: None,
        };
        let mut out = Vec::with_capacity(300);
        header.write(&mut out);
        let header_len = out.len();
        let mut plain = Zeroizing::new(Vec::with_capacity(256));
        Payload::from_waybill(waybill, validity).encode_padded(&mut plain)?;
        let sealed = suite3::seal(
            zone_key,
            self.key.pair(),
            id,
            out.get(..header_len).unwrap_or_default(),
            &mut plain,
            seed,
        )?;
        out.extend_from_slice(&sealed.enc);
        out.extend_from_slice(&sealed.encrypted_id);
        out.extend_from_slice(&plain);
        out.extend_from_slice(&sealed.tag);
        Ok(Token::from_parts(out, header_len, header))
    }
}

impl PublicSealer {
    /// Seals a generation-2 suite-2 token (HPKE Auth mode, the sealer id in the
    /// clear), as before generation 3. Not for labels: only for the token
    /// benchmark, which compares suite 3 with it in one run.
    #[doc(hidden)]
    pub fn seal_generation_2(
        &self,
        waybill: &Waybill,
        validity: &Validity,
    ) -> Result<Token, TokenError> {
        seal_suite2_with_seed(self, waybill, validity, suite2::random::<32>()?)
    }
}

/// Generation 2's suite 2 (HPKE Auth mode, the sealer id in the clear), kept
/// to recompute `docs/TOKEN.md`'s vector 3 and for the benchmark; nothing
/// seals labels with it any more.
pub(crate) fn seal_suite2_with_seed(
    sealer: &PublicSealer,
    waybill: &Waybill,
    validity: &Validity,
    seed: Zeroizing<[u8; 32]>,
) -> Result<Token, TokenError> {
    use super::envelope::{GENERATION_2, SUITE_2};
    let zone = waybill.zone();
    let zone_key = sealer
        .directory
        .zone_key(zone)
        .ok_or(TokenError::ZoneNotInDirectory { zone })?;
    let header = TokenHeader {
        generation: GENERATION_2,
        suite: SUITE_2,
        kid: sealer.directory.kid(),
        zone,
        expiry_period: validity.expiry_period()?,
        tracking_number: waybill.tracking_number().clone(),
        sealer: Some(sealer.sealer_id()),
    };
    let mut out = Vec::with_capacity(300);
    header.write(&mut out);
    let header_len = out.len();
    let mut plain = Zeroizing::new(Vec::with_capacity(256));
    Payload::from_waybill(waybill, validity).encode_padded(&mut plain)?;
    let (enc, tag) = suite2::seal(
        zone_key,
        sealer.key.pair(),
        out.get(..header_len).unwrap_or_default(),
        &mut plain,
        seed,
    )?;
    out.extend_from_slice(&enc);
    out.extend_from_slice(&plain);
    out.extend_from_slice(&tag);
    Ok(Token::from_parts(out, header_len, header))
}
