//! The carrier's key ring: master keys by key id, rotated and retired, and the
//! per-zone keys derived from them.

use core::fmt;
use std::collections::HashMap;
use std::sync::Mutex;

use hkdf::Hkdf;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::TokenError;

/// The HKDF `info` prefix; the zone id (u32, big-endian) follows it.
pub(crate) const ZONE_KEY_INFO: &[u8] = b"waybill-redact zone key v1";

/// Zone keys kept after derivation; the cache is emptied when it reaches this size.
const ZONE_CACHE_MAX: usize = 4096;

/// The `format` field of the key ring JSON file.
const FILE_FORMAT: &str = "waybill-redact key ring v1";

/// A 32-byte master key. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct MasterKey {
    #[zeroize(skip)]
    kid: u16,
    secret: [u8; 32],
}

/// A 32-byte zone key for one (key id, zone). Zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct ZoneKey(pub(crate) [u8; 32]);

/// Master keys by key id. New tokens are sealed with the current (newest) key;
/// tokens sealed with older keys still open until those keys are retired.
///
/// # Guarantees
/// - The ring always has at least one key, and the current key is in it.
/// - Key material is zeroized on drop and never printed: `Debug` shows key ids only.
pub struct KeyRing {
    keys: Vec<MasterKey>,
    current: u16,
    /// Derived zone keys: HKDF costs about as much as the rest of an open, and a
    /// resolver sees the same few zones again and again. Zeroized when evicted.
    zone_cache: Mutex<HashMap<(u16, u32), ZoneKey>>,
}

impl Clone for KeyRing {
    fn clone(&self) -> Self {
        Self::with_keys(self.keys.clone(), self.current)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RingFile {
    format: String,
    current: u16,
    keys: Vec<KeyEntry>,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    #[zeroize(skip)]
    kid: u16,
    /// 64 lowercase hex digits.
    key: String,
}

impl KeyRing {
    /// A new ring with one fresh random key, id 1, from the OS random source.
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let ring = Self::from_key(1, secret);
        secret.zeroize();
        ring
    }

    /// A ring holding one given master key, which becomes current. For importing
    /// keys from a key management system and for test vectors.
    pub fn from_key(kid: u16, secret: [u8; 32]) -> Self {
        Self::with_keys(vec![MasterKey { kid, secret }], kid)
    }

    fn with_keys(keys: Vec<MasterKey>, current: u16) -> Self {
        Self {
            keys,
            current,
            zone_cache: Mutex::default(),
        }
    }

    /// The id of the key new tokens are sealed with.
    pub fn current_kid(&self) -> u16 {
        self.current
    }

    /// The ids of every key in the ring, oldest first.
    pub fn kids(&self) -> Vec<u16> {
        self.keys.iter().map(|k| k.kid).collect()
    }

    /// Adds a fresh random key with the next id and makes it current.
    /// Returns the new key id.
    ///
    /// # Errors
    /// [`TokenError::KeyIdsExhausted`] when id 65535 is taken.
    pub fn rotate(&mut self) -> Result<u16, TokenError> {
        let max = self.keys.iter().map(|k| k.kid).max().unwrap_or(0);
        let kid = max.checked_add(1).ok_or(TokenError::KeyIdsExhausted)?;
        let mut key = MasterKey {
            kid,
            secret: [0; 32],
        };
        OsRng.fill_bytes(&mut key.secret);
        self.keys.push(key);
        self.current = kid;
        Ok(kid)
    }

    /// Removes a key and destroys it: tokens sealed with it no longer open.
    /// Retire a key once the longest label lifetime has passed since rotation.
    ///
    /// # Errors
    /// [`TokenError::UnknownKey`] when it is not in the ring,
    /// [`TokenError::RetireCurrent`] for the current key.
    pub fn retire(&mut self, kid: u16) -> Result<(), TokenError> {
        if kid == self.current {
            return Err(TokenError::RetireCurrent { kid });
        }
        let before = self.keys.len();
        self.keys.retain(|k| k.kid != kid);
        if self.keys.len() == before {
            return Err(TokenError::UnknownKey { kid });
        }
        self.cache().retain(|&(k, _), _| k != kid);
        Ok(())
    }

    /// The key ring file: JSON with the key ids and hex key material. It holds
    /// secrets: store it with owner-only permissions. Zeroized when dropped.
    pub fn to_json(&self) -> Zeroizing<String> {
        let file = RingFile {
            format: FILE_FORMAT.into(),
            current: self.current,
            keys: self
                .keys
                .iter()
                .map(|k| KeyEntry {
                    kid: k.kid,
                    key: hex::encode(k.secret),
                })
                .collect(),
        };
        // Serializing plain strings and integers cannot fail.
        Zeroizing::new(serde_json::to_string_pretty(&file).unwrap_or_default())
    }

    /// Reads a key ring file written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    /// [`TokenError::KeyRing`] for a malformed file, a duplicate key id, or a
    /// current id with no key.
    pub fn from_json(text: &str) -> Result<Self, TokenError> {
        let bad = |reason| TokenError::KeyRing { reason };
        let file: RingFile = serde_json::from_str(text).map_err(|_| bad("not a key ring file"))?;
        if file.format != FILE_FORMAT {
            return Err(bad("unknown format"));
        }
        let mut keys: Vec<MasterKey> = Vec::with_capacity(file.keys.len());
        for entry in &file.keys {
            let mut key = MasterKey {
                kid: entry.kid,
                secret: [0; 32],
            };
            hex::decode_to_slice(&entry.key, &mut key.secret)
                .map_err(|_| bad("a key is not 64 hex digits"))?;
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(bad("duplicate key id"));
            }
            keys.push(key);
        }
        if !keys.iter().any(|k| k.kid == file.current) {
            return Err(bad("the current key id has no key"));
        }
        keys.sort_by_key(|k| k.kid);
        Ok(Self::with_keys(keys, file.current))
    }

    /// The zone key for `(kid, zone)`: HKDF-SHA256 with no salt, the master key
    /// as input key material and `ZONE_KEY_INFO ‖ zone` as info.
    pub(crate) fn zone_key(&self, kid: u16, zone: u32) -> Option<ZoneKey> {
        if let Some(key) = self.cache().get(&(kid, zone)) {
            return Some(ZoneKey(key.0));
        }
        let key = self.derive_zone_key(kid, zone)?;
        let mut cache = self.cache();
        if cache.len() >= ZONE_CACHE_MAX {
            cache.clear();
        }
        cache.insert((kid, zone), ZoneKey(key.0));
        Some(key)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(u16, u32), ZoneKey>> {
        self.zone_cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn derive_zone_key(&self, kid: u16, zone: u32) -> Option<ZoneKey> {
        let master = self.keys.iter().find(|k| k.kid == kid)?;
        let mut info = [0u8; ZONE_KEY_INFO.len() + 4];
        let (prefix, zone_bytes) = info.split_at_mut(ZONE_KEY_INFO.len());
        prefix.copy_from_slice(ZONE_KEY_INFO);
        zone_bytes.copy_from_slice(&zone.to_be_bytes());
        let mut out = ZoneKey([0; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        Hkdf::<Sha256>::new(None, &master.secret)
            .expand(&info, &mut out.0)
            .ok()?;
        Some(out)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current)
            .field("kids", &self.kids())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_retire_and_file_round_trip() {
        let mut ring = KeyRing::generate();
        assert_eq!(ring.current_kid(), 1);
        assert_eq!(ring.rotate(), Ok(2));
        assert_eq!(ring.kids(), vec![1, 2]);
        assert_eq!(ring.retire(2), Err(TokenError::RetireCurrent { kid: 2 }));
        let copy = KeyRing::from_json(&ring.to_json()).unwrap();
        assert_eq!(copy.kids(), vec![1, 2]);
        assert_eq!(copy.current_kid(), 2);
        assert_eq!(
            copy.zone_key(1, 7).map(|k| k.0),
            ring.zone_key(1, 7).map(|k| k.0)
        );
        ring.retire(1).unwrap();
        assert!(ring.zone_key(1, 7).is_none());
        assert_eq!(ring.retire(1), Err(TokenError::UnknownKey { kid: 1 }));
    }

    #[test]
    fn zone_keys_differ_by_zone_and_epoch() {
        let mut ring = KeyRing::from_key(1, [7; 32]);
        ring.rotate().unwrap();
        let a = ring.zone_key(1, 755021).unwrap();
        let b = ring.zone_key(1, 755022).unwrap();
        let c = ring.zone_key(2, 755021).unwrap();
        assert_ne!(a.0, b.0);
        assert_ne!(a.0, c.0);
    }

    #[test]
    fn debug_hides_keys_and_bad_files_are_rejected() {
        let ring = KeyRing::from_key(3, [0xAB; 32]);
        let dbg = format!("{ring:?}");
        assert!(!dbg.to_lowercase().contains("abab"), "{dbg}");
        assert!(KeyRing::from_json("{}").is_err());
        let text = ring.to_json().replace("\"current\": 3", "\"current\": 4");
        assert_eq!(
            KeyRing::from_json(&text).unwrap_err(),
            TokenError::KeyRing {
                reason: "the current key id has no key"
            }
        );
    }
}
