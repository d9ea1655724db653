//! The zone directory: the carrier's suite-2 zone public keys for one key id,
//! with validity dates, signed with its Ed25519 issuer key. Sellers seal with it.

use std::collections::BTreeMap;

use hpke::{Deserializable, Serializable};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::suite2::KemPublic;
use crate::token::DirectoryError;
use crate::{IssuerKey, IssuerPublicKey, KeyRing};

/// The `format` field of the directory file.
const FILE_FORMAT: &str = "waybill-redact zone directory v1";
/// The domain string that starts the signed bytes.
const SIGN_DOMAIN: &[u8] = b"waybill-redact zone directory v1";
/// Most zones one directory lists.
pub(crate) const MAX_ZONES: usize = 65_536;

/// The carrier's signed list of zone public keys. Holds no secret: a seller
/// seals to these keys and cannot open what it sealed.
///
/// # Guarantees
/// A value of this type was either published from a key ring or read from a file
/// whose signature verified against the carrier's issuer key, within its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneDirectory {
    issuer: IssuerPublicKey,
    kid: u16,
    not_before: u64,
    expires_at: u64,
    zones: BTreeMap<u32, KemPublic>,
    signature: [u8; 64],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    format: String,
    issuer: String,
    kid: u16,
    not_before: u64,
    expires_at: u64,
    zones: Vec<ZoneEntry>,
    signature: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneEntry {
    zone: u32,
    key: String,
}

fn unix(t: OffsetDateTime) -> Result<u64, DirectoryError> {
    u64::try_from(t.unix_timestamp()).map_err(|_| DirectoryError::Window)
}

impl ZoneDirectory {
    /// Publishes the zone public keys of `zones` under the ring's current key,
    /// valid from `not_before` for `lifetime`, signed with `issuer`.
    ///
    /// # Errors
    /// [`DirectoryError::Zones`] for no zones or more than 65536,
    /// [`DirectoryError::Window`] for a lifetime that is not positive or a start
    /// before 1970.
    pub fn publish(
        ring: &KeyRing,
        issuer: &IssuerKey,
        zones: &[u32],
        not_before: OffsetDateTime,
        lifetime: Duration,
    ) -> Result<Self, DirectoryError> {
        if zones.is_empty() || zones.len() > MAX_ZONES {
            return Err(DirectoryError::Zones);
        }
        let start = unix(not_before)?;
        let end = unix(not_before + lifetime)?;
        if end <= start {
            return Err(DirectoryError::Window);
        }
        let kid = ring.current_kid();
        let zones = zones
            .iter()
            .filter_map(|&z| Some((z, ring.zone_public(kid, z)?)))
            .collect();
        let mut dir = Self {
            issuer: issuer.public_key(),
            kid,
            not_before: start,
            expires_at: end,
            zones,
            signature: [0; 64],
        };
        dir.signature = issuer.sign(&dir.signed_bytes());
        Ok(dir)
    }

    /// The bytes the issuer signs: `SIGN_DOMAIN ‖ u16 kid ‖ u64 not_before ‖
    /// u64 expires_at ‖ u32 count ‖ (u32 zone ‖ 32-byte key)*`, zones ascending,
    /// all integers big-endian.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(SIGN_DOMAIN.len() + 22 + self.zones.len() * 36);
        m.extend_from_slice(SIGN_DOMAIN);
        m.extend_from_slice(&self.kid.to_be_bytes());
        m.extend_from_slice(&self.not_before.to_be_bytes());
        m.extend_from_slice(&self.expires_at.to_be_bytes());
        // At most MAX_ZONES entries.
        m.extend_from_slice(
            &u32::try_from(self.zones.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        for (zone, key) in &self.zones {
            m.extend_from_slice(&zone.to_be_bytes());
            m.extend_from_slice(&key.to_bytes());
        }
        m
    }

    /// The directory file (JSON, public data).
    pub fn to_json(&self) -> String {
        let file = DirectoryFile {
            format: FILE_FORMAT.into(),
            issuer: self.issuer.to_string(),
            kid: self.kid,
            not_before: self.not_before,
            expires_at: self.expires_at,
            zones: self
                .zones
                .iter()
                .map(|(&zone, key)| ZoneEntry {
                    zone,
                    key: hex::encode(key.to_bytes()),
                })
                .collect(),
            signature: hex::encode(self.signature),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Reads a directory file and verifies it: it must name `carrier` as its
    /// issuer, carry a valid (strict RFC 8032) signature by it, and be valid at
    /// `now`.
    ///
    /// # Errors
    /// [`DirectoryError`]: malformed, wrong issuer, bad signature (tampered), not
    /// yet valid, or expired.
    pub fn from_json(
        text: &str,
        carrier: &IssuerPublicKey,
        now: OffsetDateTime,
    ) -> Result<Self, DirectoryError> {
        let file: DirectoryFile =
            serde_json::from_str(text).map_err(|_| DirectoryError::Malformed)?;
        if file.format != FILE_FORMAT {
            return Err(DirectoryError::UnknownFormat);
        }
        let issuer: IssuerPublicKey = file.issuer.parse().map_err(|_| DirectoryError::Malformed)?;
        if issuer != *carrier {
            return Err(DirectoryError::WrongIssuer);
        }
        if file.zones.is_empty() || file.zones.len() > MAX_ZONES {
            return Err(DirectoryError::Zones);
        }
        let mut zones = BTreeMap::new();
        let mut last = None;
        for entry in &file.zones {
            // Ascending and unique, as written, so that the signed bytes are one.
            if last.is_some_and(|l| entry.zone <= l) {
                return Err(DirectoryError::Zones);
            }
            last = Some(entry.zone);
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(&entry.key, &mut bytes).map_err(|_| DirectoryError::Malformed)?;
            let key = KemPublic::from_bytes(&bytes).map_err(|_| DirectoryError::Malformed)?;
            zones.insert(entry.zone, key);
        }
        let mut signature = [0u8; 64];
        hex::decode_to_slice(&file.signature, &mut signature)
            .map_err(|_| DirectoryError::Malformed)?;
        let dir = Self {
            issuer,
            kid: file.kid,
            not_before: file.not_before,
            expires_at: file.expires_at,
            zones,
            signature,
        };
        if !carrier.verify(&dir.signed_bytes(), &dir.signature) {
            return Err(DirectoryError::BadSignature);
        }
        if dir.expires_at <= dir.not_before {
            return Err(DirectoryError::Window);
        }
        dir.check_valid_at(now)?;
        Ok(dir)
    }

    /// Checks the validity window against `now`.
    ///
    /// # Errors
    /// [`DirectoryError::NotYetValid`] or [`DirectoryError::Expired`].
    pub fn check_valid_at(&self, now: OffsetDateTime) -> Result<(), DirectoryError> {
        let now = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        if now < self.not_before {
            return Err(DirectoryError::NotYetValid);
        }
        if now >= self.expires_at {
            return Err(DirectoryError::Expired);
        }
        Ok(())
    }

    /// The key id whose zone keys this lists.
    pub fn kid(&self) -> u16 {
        self.kid
    }

    /// The zones listed, ascending.
    pub fn zones(&self) -> impl Iterator<Item = u32> + '_ {
        self.zones.keys().copied()
    }

    /// Start of validity, unix seconds.
    pub fn not_before_unix(&self) -> u64 {
        self.not_before
    }

    /// End of validity (exclusive), unix seconds.
    pub fn expires_at_unix(&self) -> u64 {
        self.expires_at
    }

    pub(crate) fn zone_key(&self, zone: u32) -> Option<&KemPublic> {
        self.zones.get(&zone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    fn setup() -> (KeyRing, IssuerKey, ZoneDirectory) {
        let ring = KeyRing::from_key(1, &Sha256::digest(b"dir").into()).unwrap();
        let issuer = IssuerKey::from_secret([5; 32]);
        let dir =
            ZoneDirectory::publish(&ring, &issuer, &[20, 10], t(1000), Duration::days(30)).unwrap();
        (ring, issuer, dir)
    }

    #[test]
    fn round_trips_and_lists_the_rings_public_keys() {
        let (ring, issuer, dir) = setup();
        let back = ZoneDirectory::from_json(&dir.to_json(), &issuer.public_key(), t(2000)).unwrap();
        assert_eq!(back, dir);
        assert_eq!(back.zones().collect::<Vec<_>>(), vec![10, 20]);
        assert_eq!(back.zone_key(10), ring.zone_public(1, 10).as_ref());
        assert!(back.zone_key(11).is_none());
    }

    #[test]
    fn tampered_wrong_issuer_and_out_of_window_are_refused() {
        let (_, issuer, dir) = setup();
        let json = dir.to_json();
        let pk = issuer.public_key();
        let moved = json.replace("\"zone\": 10", "\"zone\": 11");
        assert_eq!(
            ZoneDirectory::from_json(&moved, &pk, t(2000)),
            Err(DirectoryError::BadSignature)
        );
        let longer = json.replace(
            &format!("\"expires_at\": {}", dir.expires_at),
            &format!("\"expires_at\": {}", dir.expires_at + 1),
        );
        assert_eq!(
            ZoneDirectory::from_json(&longer, &pk, t(2000)),
            Err(DirectoryError::BadSignature)
        );
        let other = IssuerKey::from_secret([6; 32]).public_key();
        assert_eq!(
            ZoneDirectory::from_json(&json, &other, t(2000)),
            Err(DirectoryError::WrongIssuer)
        );
        assert_eq!(
            ZoneDirectory::from_json(&json, &pk, t(999)),
            Err(DirectoryError::NotYetValid)
        );
        let end = i64::try_from(dir.expires_at).unwrap();
        assert_eq!(
            ZoneDirectory::from_json(&json, &pk, t(end)),
            Err(DirectoryError::Expired)
        );
        assert_eq!(
            ZoneDirectory::from_json("{}", &pk, t(2000)),
            Err(DirectoryError::Malformed)
        );
    }
}
