//! The carrier's key ring: master keys by key id, rotated and retired, and the
//! per-zone keys derived from them (suite 1's AEAD keys, suite 2's key pairs).

use core::fmt;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::masterkey::{check_value, is_weak};
use super::sealers::SealerPublicKey;
use super::suite2::{self, KemPublic, KemSecret};
use super::suite3;
use crate::token::{KeyRingError, TokenError};

/// The HKDF `info` prefix of suite 1's zone key; the zone id (u32, big-endian) follows.
pub(crate) const ZONE_KEY_INFO: &[u8] = b"waybill-redact zone key v1";

/// Zone keys kept after derivation, per suite; a cache is emptied when it
/// reaches this size.
const ZONE_CACHE_MAX: usize = 4096;

/// The `format` field of the key ring JSON file.
const FILE_FORMAT: &str = "waybill-redact key ring v2";
/// The previous format, without check values: still read, never written.
const FILE_FORMAT_V1: &str = "waybill-redact key ring v1";

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

type Cache<V> = Mutex<HashMap<(u16, u32), V>>;
/// Static-static X25519 secrets by (kid, zone, sealer public key).
type StaticCache = Mutex<HashMap<(u16, u32, [u8; 32]), Zeroizing<[u8; 32]>>>;

/// Master keys by key id. New tokens are sealed with the current (newest) key;
/// tokens sealed with older keys still open until those keys are retired.
///
/// # Guarantees
/// - The ring always has at least one key, and the current key is in it.
/// - No key is weak (see [`from_key`](Self::from_key)).
/// - Key material is zeroized on drop and never printed: `Debug` shows key ids only.
pub struct KeyRing {
    keys: Vec<MasterKey>,
    current: u16,
    /// Derived zone keys: HKDF costs about as much as the rest of a suite-1 open,
    /// and a resolver sees the same few zones again and again. Zeroized when evicted.
    zone_cache: Cache<ZoneKey>,
    /// Derived zone key pairs (suites 2 and 3): DeriveKeyPair costs an X25519
    /// base-point multiplication, a third of a suite-2 open.
    kem_cache: Cache<(KemSecret, [u8; 32])>,
    /// Suite 3's static-static secrets X25519(skZ, pkS): a resolver sees the
    /// same sellers in the same zones again and again. Zeroized when evicted.
    static_cache: StaticCache,
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
    /// The key check value, 8 hex digits (absent in v1 files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check: Option<String>,
}

fn bad(reason: KeyRingError) -> TokenError {
    TokenError::KeyRing(reason)
}

impl KeyRing {
    /// A new ring with one fresh random key, id 1, from the OS random source.
    ///
    /// # Panics
    /// If the operating system's random source fails, as `getrandom` reports it.
    pub fn generate() -> Self {
        Self::with_keys(vec![fresh_key(1)], 1)
    }

    /// A ring holding one given master key, which becomes current. For importing
    /// keys from a key management system and for test vectors.
    ///
    /// # Errors
    /// [`KeyRingError::WeakKey`] for an all-zero key, repeated bytes, a counting
    /// sequence or another low-entropy pattern: fewer than 12 distinct byte values,
    /// or fewer than 12 distinct differences between neighbouring bytes.
    pub fn from_key(kid: u16, secret: &[u8; 32]) -> Result<Self, TokenError> {
        if is_weak(secret) {
            return Err(bad(KeyRingError::WeakKey { kid }));
        }
        Ok(Self::with_keys(
            vec![MasterKey {
                kid,
                secret: *secret,
            }],
            kid,
        ))
    }

    fn with_keys(keys: Vec<MasterKey>, current: u16) -> Self {
        Self {
            keys,
            current,
            zone_cache: Mutex::default(),
            kem_cache: Mutex::default(),
            static_cache: Mutex::default(),
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
    ///
    /// # Panics
    /// If the operating system's random source fails.
    pub fn rotate(&mut self) -> Result<u16, TokenError> {
        let max = self.keys.iter().map(|k| k.kid).max().unwrap_or(0);
        let kid = max.checked_add(1).ok_or(TokenError::KeyIdsExhausted)?;
        self.keys.push(fresh_key(kid));
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
        lock(&self.zone_cache).retain(|&(k, _), _| k != kid);
        lock(&self.kem_cache).retain(|&(k, _), _| k != kid);
        self.static_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|&(k, _, _), _| k != kid);
        Ok(())
    }

    /// The key ring file: JSON with the key ids, hex key material and each key's
    /// check value. It holds secrets: store it with owner-only permissions.
    /// Zeroized when dropped.
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
                    check: Some(check_value(&k.secret)),
                })
                .collect(),
        };
        // Serializing plain strings and integers cannot fail.
        Zeroizing::new(serde_json::to_string_pretty(&file).unwrap_or_default())
    }

    /// Reads a key ring file written by [`to_json`](Self::to_json) (or a v1 file,
    /// which has no check values).
    ///
    /// # Errors
    /// [`TokenError::KeyRing`] for a malformed file, a key whose check value does
    /// not match, a weak key, a duplicate key id, or a current id with no key.
    pub fn from_json(text: &str) -> Result<Self, TokenError> {
        let file: RingFile =
            serde_json::from_str(text).map_err(|_| bad(KeyRingError::NotAKeyRing))?;
        let v2 = file.format == FILE_FORMAT;
        if !v2 && file.format != FILE_FORMAT_V1 {
            return Err(bad(KeyRingError::UnknownFormat));
        }
        let mut keys: Vec<MasterKey> = Vec::with_capacity(file.keys.len().min(1024));
        for entry in &file.keys {
            let kid = entry.kid;
            let mut key = MasterKey {
                kid,
                secret: [0; 32],
            };
            hex::decode_to_slice(&entry.key, &mut key.secret)
                .map_err(|_| bad(KeyRingError::KeyHex { kid }))?;
            match &entry.check {
                Some(c) if *c == check_value(&key.secret) => {}
                None if !v2 => {}
                _ => return Err(bad(KeyRingError::CheckValue { kid })),
            }
            if is_weak(&key.secret) {
                return Err(bad(KeyRingError::WeakKey { kid }));
            }
            if keys.iter().any(|k| k.kid == kid) {
                return Err(bad(KeyRingError::DuplicateKid { kid }));
            }
            keys.push(key);
        }
        if !keys.iter().any(|k| k.kid == file.current) {
            return Err(bad(KeyRingError::NoCurrentKey));
        }
        keys.sort_by_key(|k| k.kid);
        Ok(Self::with_keys(keys, file.current))
    }

    fn master(&self, kid: u16) -> Option<&[u8; 32]> {
        self.keys.iter().find(|k| k.kid == kid).map(|k| &k.secret)
    }

    /// Suite 1's zone key for `(kid, zone)`: HKDF-SHA256 with no salt, the master
    /// key as input key material and `ZONE_KEY_INFO ‖ zone` as info.
    pub(crate) fn zone_key(&self, kid: u16, zone: u32) -> Option<ZoneKey> {
        if let Some(key) = lock(&self.zone_cache).get(&(kid, zone)) {
            return Some(ZoneKey(key.0));
        }
        let master = self.master(kid)?;
        let mut info = [0u8; ZONE_KEY_INFO.len() + 4];
        let (prefix, zone_bytes) = info.split_at_mut(ZONE_KEY_INFO.len());
        prefix.copy_from_slice(ZONE_KEY_INFO);
        zone_bytes.copy_from_slice(&zone.to_be_bytes());
        let mut key = ZoneKey([0; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        Hkdf::<Sha256>::new(None, master)
            .expand(&info, &mut key.0)
            .ok()?;
        insert(&self.zone_cache, (kid, zone), ZoneKey(key.0));
        Some(key)
    }

    /// Whether the ring holds a key with this id.
    pub fn has_kid(&self, kid: u16) -> bool {
        self.master(kid).is_some()
    }

    /// The zone key pair for `(kid, zone)` (suites 2 and 3), cached.
    fn zone_pair(&self, kid: u16, zone: u32) -> Option<(KemSecret, [u8; 32])> {
        if let Some(pair) = lock(&self.kem_cache).get(&(kid, zone)) {
            return Some(pair.clone());
        }
        let (sk, pk) = suite2::zone_keypair(self.master(kid)?, zone);
        let pair = (sk, suite3::bytes32(&pk));
        insert(&self.kem_cache, (kid, zone), pair.clone());
        Some(pair)
    }

    /// The zone secret key for `(kid, zone)`, cached.
    pub(crate) fn zone_secret(&self, kid: u16, zone: u32) -> Option<KemSecret> {
        self.zone_pair(kid, zone).map(|p| p.0)
    }

    /// The zone public key's bytes for `(kid, zone)`, cached.
    pub(crate) fn zone_public_bytes(&self, kid: u16, zone: u32) -> Option<[u8; 32]> {
        self.zone_pair(kid, zone).map(|p| p.1)
    }

    /// Suite 3's static-static secret `X25519(skZ, pkS)`, cached; `None` for an
    /// unknown kid or an all-zero result.
    pub(crate) fn static_secret(
        &self,
        kid: u16,
        zone: u32,
        sealer: &SealerPublicKey,
    ) -> Option<Zeroizing<[u8; 32]>> {
        let at = (kid, zone, sealer.to_bytes());
        let cache = || self.static_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = cache().get(&at) {
            return Some(k.clone());
        }
        let k = suite3::static_secret(&self.zone_secret(kid, zone)?, sealer.kem())?;
        let mut c = cache();
        if c.len() >= ZONE_CACHE_MAX {
            c.clear();
        }
        c.insert(at, k.clone());
        Some(k)
    }

    /// Suite 2's zone public key for `(kid, zone)`, for a zone directory.
    pub(crate) fn zone_public(&self, kid: u16, zone: u32) -> Option<KemPublic> {
        Some(suite2::zone_keypair(self.master(kid)?, zone).1)
    }
}

/// A random master key that is not weak.
fn fresh_key(kid: u16) -> MasterKey {
    let mut key = MasterKey {
        kid,
        secret: [0; 32],
    };
    // A weak draw has a probability below 2^-70; draw again all the same.
    while key.secret == [0; 32] || is_weak(&key.secret) {
        if getrandom::fill(&mut key.secret).is_err() {
            panic!("the OS random source failed");
        }
    }
    key
}

fn lock<V>(cache: &Cache<V>) -> MutexGuard<'_, HashMap<(u16, u32), V>> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

fn insert<V>(cache: &Cache<V>, at: (u16, u32), value: V) {
    let mut cache = lock(cache);
    if cache.len() >= ZONE_CACHE_MAX {
        cache.clear();
    }
    cache.insert(at, value);
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
    use sha2::Digest;

    fn strong(label: &str) -> [u8; 32] {
        Sha256::digest(label.as_bytes()).into()
    }

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
        assert!(ring.zone_secret(1, 7).is_none());
        assert_eq!(ring.retire(1), Err(TokenError::UnknownKey { kid: 1 }));
    }

    #[test]
    fn zone_keys_differ_by_zone_and_epoch() {
        let mut ring = KeyRing::from_key(1, &strong("a")).unwrap();
        ring.rotate().unwrap();
        let a = ring.zone_key(1, 755021).unwrap();
        let b = ring.zone_key(1, 755022).unwrap();
        let c = ring.zone_key(2, 755021).unwrap();
        assert_ne!(a.0, b.0);
        assert_ne!(a.0, c.0);
        let pa = ring.zone_public(1, 755021).unwrap();
        assert_ne!(pa, ring.zone_public(1, 755022).unwrap());
        assert_ne!(pa, ring.zone_public(2, 755021).unwrap());
    }

    #[test]
    fn weak_keys_are_refused_in_code_and_in_files() {
        assert_eq!(
            KeyRing::from_key(3, &[0; 32]).unwrap_err(),
            bad(KeyRingError::WeakKey { kid: 3 })
        );
        let ring = KeyRing::from_key(3, &strong("b")).unwrap();
        let text = ring
            .to_json()
            .replace(&hex::encode(strong("b")), &"00".repeat(32))
            .replace(&check_value(&strong("b")), &check_value(&[0; 32]));
        assert_eq!(
            KeyRing::from_json(&text).unwrap_err(),
            bad(KeyRingError::WeakKey { kid: 3 })
        );
    }

    #[test]
    fn a_damaged_key_is_caught_by_its_check_value() {
        let key = strong("c");
        let ring = KeyRing::from_key(5, &key).unwrap();
        let hex_key = hex::encode(key);
        let mut damaged = hex_key.clone().into_bytes();
        damaged[10] = if damaged[10] == b'0' { b'1' } else { b'0' };
        let text = ring
            .to_json()
            .replace(&hex_key, core::str::from_utf8(&damaged).unwrap());
        assert_eq!(
            KeyRing::from_json(&text).unwrap_err(),
            bad(KeyRingError::CheckValue { kid: 5 })
        );
        // A v1 file (no check values) still loads, for migration.
        let v1 = format!(
            r#"{{"format":"waybill-redact key ring v1","current":5,"keys":[{{"kid":5,"key":"{hex_key}"}}]}}"#
        );
        assert_eq!(KeyRing::from_json(&v1).unwrap().kids(), vec![5]);
    }

    #[test]
    fn debug_hides_keys_and_bad_files_are_rejected() {
        let ring = KeyRing::from_key(3, &strong("d")).unwrap();
        let dbg = format!("{ring:?}");
        assert!(!dbg.contains(&hex::encode(strong("d"))[..8]), "{dbg}");
        assert!(KeyRing::from_json("{}").is_err());
        let text = ring.to_json().replace("\"current\": 3", "\"current\": 4");
        assert_eq!(
            KeyRing::from_json(&text).unwrap_err(),
            bad(KeyRingError::NoCurrentKey)
        );
    }
}
