//! The seller's sealer: seals suite-2 tokens to the carrier's zone public keys,
//! authenticated with the seller's own sealer key. It holds no way to open them.

use zeroize::Zeroizing;

use super::envelope::{TokenHeader, SUITE_2};
use super::payload::Payload;
use super::sealers::SealerId;
use super::suite2;
use super::validity::Validity;
use crate::token::TokenError;
use crate::{SealerKey, Token, Waybill, ZoneDirectory};

/// Seals suite-2 tokens with a verified [`ZoneDirectory`] and a [`SealerKey`].
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

    /// The id suite-2 tokens from this sealer carry.
    pub fn sealer_id(&self) -> SealerId {
        self.key.public_key().id()
    }

    /// The directory sealed with.
    pub fn directory(&self) -> &ZoneDirectory {
        &self.directory
    }

    /// Seals the waybill's recipient data into a suite-2 token to its zone's
    /// public key. Every call draws a fresh ephemeral key, so two tokens for the
    /// same waybill share nothing after the header.
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
            suite: SUITE_2,
            kid: self.directory.kid(),
            zone,
            expiry_period: validity.expiry_period()?,
            tracking_number: waybill.tracking_number().clone(),
            sealer: Some(self.sealer_id()),
        };
        let mut out = Vec::with_capacity(300);
        header.write(&mut out);
        let header_len = out.len();
        let mut plain = Zeroizing::new(Vec::with_capacity(256));
        Payload::from_waybill(waybill, validity).encode_padded(&mut plain)?;
        let (enc, tag) = suite2::seal(
            zone_key,
            self.key.pair(),
            out.get(..header_len).unwrap_or_default(),
            &mut plain,
            seed,
        )?;
        out.extend_from_slice(&enc);
        out.extend_from_slice(&plain);
        out.extend_from_slice(&tag);
        Ok(Token::from_parts(out, header_len, header))
    }
}
