//! Sellers' sealer keys (static X25519, HPKE Auth mode), their `WS1:` public
//! keys and 4-byte ids, and the carrier's registry of sealers it accepts.

use core::fmt;

use hpke::{Deserializable, Kem as _, Serializable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::suite2::{self, Kem, KemPublic, KemSecret};
use crate::keyfile::{self, KeyFileError};
use crate::token::{SealerError, TokenError};

/// The text prefix of a sealer public key.
const PUBLIC_PREFIX: &str = "WS1:";
/// The `format` field of a sealer key file.
const KEY_FORMAT: &str = "waybill-redact sealer key v1";
/// The `format` field of a sealer registry file.
const REGISTRY_FORMAT: &str = "waybill-redact sealer registry v1";

/// A sealer's id: the first 4 bytes of SHA-256 of its 32-byte public key. Suite-2
/// tokens carry it in their header. Text form: 8 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SealerId([u8; 4]);

impl SealerId {
    pub(crate) fn from_bytes(bytes: [u8; 4]) -> Self {
        Self(bytes)
    }

    /// The 4 bytes.
    pub fn as_bytes(&self) -> &[u8; 4] {
        &self.0
    }
}

impl core::str::FromStr for SealerId {
    type Err = SealerError;
    /// Parses the text form: 8 hex digits.
    fn from_str(s: &str) -> Result<Self, SealerError> {
        let mut id = [0u8; 4];
        hex::decode_to_slice(s.trim(), &mut id).map_err(|_| SealerError::Unknown {
            id: "(not 8 hex digits)".into(),
        })?;
        Ok(Self(id))
    }
}

impl fmt::Display for SealerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A seller's sealer key: seals suite-2 tokens (through a
/// [`PublicSealer`](crate::PublicSealer)) and proves which seller made them. It
/// opens nothing. Zeroized on drop; `Debug` shows the public key only.
#[derive(Clone)]
pub struct SealerKey {
    secret: KemSecret,
    public: SealerPublicKey,
}

/// A sealer's public key, which the carrier registers.
///
/// Text form: `WS1:` followed by the 32-byte X25519 key in lowercase hex.
#[derive(Clone, PartialEq, Eq)]
pub struct SealerPublicKey {
    key: KemPublic,
}

impl SealerKey {
    /// A fresh key: RFC 9180 `DeriveKeyPair` over 32 bytes from the OS.
    ///
    /// # Errors
    /// [`TokenError::Seal`] when the OS random source fails.
    pub fn generate() -> Result<Self, TokenError> {
        let seed = suite2::random::<32>()?;
        Ok(Self::from_seed(&seed))
    }

    /// The key `DeriveKeyPair(seed)` gives. For test vectors and imports.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let (secret, key) = Kem::derive_keypair(seed);
        Self {
            secret,
            public: SealerPublicKey { key },
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> &SealerPublicKey {
        &self.public
    }

    pub(crate) fn pair(&self) -> (&KemSecret, &KemPublic) {
        (&self.secret, &self.public.key)
    }

    /// The sealer key file (JSON, holds the secret; store it owner-only).
    pub fn to_json(&self) -> Zeroizing<String> {
        let mut secret = Zeroizing::new([0u8; 32]);
        for (to, from) in secret.iter_mut().zip(self.secret.to_bytes().iter()) {
            *to = *from;
        }
        keyfile::to_json(KEY_FORMAT, secret.as_slice(), self.public.to_string())
    }

    /// Reads a sealer key file written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    /// [`SealerError`] when it is malformed or its public key does not match its
    /// secret.
    pub fn from_json(text: &str) -> Result<Self, SealerError> {
        let (bytes, public_text) = keyfile::from_json(text, KEY_FORMAT).map_err(|e| match e {
            KeyFileError::UnknownFormat => SealerError::UnknownFormat,
            KeyFileError::NotAKeyFile | KeyFileError::Secret => SealerError::NotAKeyFile,
        })?;
        let secret =
            KemSecret::from_bytes(bytes.as_slice()).map_err(|_| SealerError::NotAKeyFile)?;
        let public = SealerPublicKey {
            key: Kem::sk_to_pk(&secret),
        };
        if public_text.parse::<SealerPublicKey>()? != public {
            return Err(SealerError::KeyMismatch);
        }
        Ok(Self { secret, public })
    }
}

impl fmt::Debug for SealerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealerKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SealerPublicKey {
    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.key.to_bytes());
        out
    }

    /// The sealer id: the first 4 bytes of SHA-256 of the key bytes.
    pub fn id(&self) -> SealerId {
        let digest = Sha256::digest(self.to_bytes());
        let mut id = [0u8; 4];
        id.copy_from_slice(digest.get(..4).unwrap_or(&[0; 4]));
        SealerId(id)
    }

    pub(crate) fn kem(&self) -> &KemPublic {
        &self.key
    }
}

impl core::hash::Hash for SealerPublicKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.to_bytes().hash(state);
    }
}

impl fmt::Display for SealerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for SealerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealerPublicKey({self})")
    }
}

impl core::str::FromStr for SealerPublicKey {
    type Err = SealerError;
    fn from_str(s: &str) -> Result<Self, SealerError> {
        let bytes = keyfile::public_bytes(s, PUBLIC_PREFIX).ok_or(SealerError::PublicKey)?;
        let key = KemPublic::from_bytes(&bytes).map_err(|_| SealerError::PublicKey)?;
        Ok(Self { key })
    }
}

/// What the registry says about a sealer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealerStatus<'a> {
    /// Registered and not revoked: its tokens may be opened.
    Active(&'a SealerPublicKey),
    /// Registered, then revoked: its tokens are denied.
    Revoked,
    /// Never registered.
    Unknown,
}

/// The sealers a carrier accepts suite-2 tokens from, by id; revocable.
#[derive(Debug, Clone, Default)]
pub struct SealerRegistry {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    /// The key's id, computed once: a resolver looks it up on every suite-2 token.
    id: SealerId,
    key: SealerPublicKey,
    revoked: bool,
    /// The carrier station or outlet this key belongs to; `None` for a seller.
    station: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    format: String,
    sealers: Vec<RegistryEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryEntry {
    id: String,
    key: String,
    revoked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    station: Option<String>,
}

/// Checks a station name: 1 to 64 ASCII letters, digits, `.`, `_`, `-`.
fn station_name(name: &str) -> Result<String, SealerError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(SealerError::StationName)
    }
}

impl SealerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a sealer and returns its id. Registering a key again changes
    /// nothing (a revoked key stays revoked).
    ///
    /// # Errors
    /// [`SealerError::IdTaken`] when another key with the same id is registered.
    pub fn register(&mut self, key: SealerPublicKey) -> Result<SealerId, SealerError> {
        self.add(key, None)
    }

    /// Registers the sealer key of one of the carrier's own stations or
    /// outlets, under its name (1 to 64 ASCII letters, digits, `.`, `_`, `-`),
    /// and returns its id. A station seals as a seller does (suite 3), with
    /// this key and the directory, and never holds the ring. Registering the
    /// same key under the same name again changes nothing.
    ///
    /// # Errors
    /// [`SealerError::StationName`] for a bad name;
    /// [`SealerError::StationTaken`] when another key of that station is
    /// registered and not revoked; [`SealerError::IdTaken`] when the key's id is
    /// another key's, or the key is registered already under another name or
    /// as a seller's.
    pub fn register_station(
        &mut self,
        key: SealerPublicKey,
        name: &str,
    ) -> Result<SealerId, SealerError> {
        let name = station_name(name)?;
        if let Some(other) = self
            .entries
            .iter()
            .find(|e| e.station.as_deref() == Some(name.as_str()) && !e.revoked && e.key != key)
        {
            return Err(SealerError::StationTaken {
                name,
                id: other.id.to_string(),
            });
        }
        self.add(key, Some(name))
    }

    fn add(
        &mut self,
        key: SealerPublicKey,
        station: Option<String>,
    ) -> Result<SealerId, SealerError> {
        let id = key.id();
        match self.entries.iter().find(|e| e.id == id) {
            Some(e) if e.key == key && e.station == station => Ok(id),
            Some(_) => Err(SealerError::IdTaken { id: id.to_string() }),
            None => {
                self.entries.push(Entry {
                    id,
                    key,
                    revoked: false,
                    station,
                });
                Ok(id)
            }
        }
    }

    /// Checks a station name as [`register_station`](Self::register_station)
    /// does, before a key is made for it.
    ///
    /// # Errors
    /// [`SealerError::StationName`].
    pub fn check_station_name(name: &str) -> Result<(), SealerError> {
        station_name(name).map(|_| ())
    }

    /// The station a sealer id belongs to: `None` for a seller's key or an
    /// unknown id.
    pub fn station(&self, id: SealerId) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.station.as_deref())
    }

    /// The ids registered under a station's name, the current key last.
    pub fn station_keys(&self, name: &str) -> Vec<SealerId> {
        self.entries
            .iter()
            .filter(|e| e.station.as_deref() == Some(name))
            .map(|e| e.id)
            .collect()
    }

    /// Revokes a sealer: its tokens are denied from now on.
    ///
    /// # Errors
    /// [`SealerError::Unknown`] when no sealer has this id.
    pub fn revoke(&mut self, id: SealerId) -> Result<(), SealerError> {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or(SealerError::Unknown { id: id.to_string() })?;
        entry.revoked = true;
        Ok(())
    }

    /// What the registry says about `id`.
    pub fn status(&self, id: SealerId) -> SealerStatus<'_> {
        match self.entries.iter().find(|e| e.id == id) {
            Some(e) if e.revoked => SealerStatus::Revoked,
            Some(e) => SealerStatus::Active(&e.key),
            None => SealerStatus::Unknown,
        }
    }

    /// The registry file (JSON, public data).
    pub fn to_json(&self) -> String {
        let file = RegistryFile {
            format: REGISTRY_FORMAT.into(),
            sealers: self
                .entries
                .iter()
                .map(|e| RegistryEntry {
                    id: e.id.to_string(),
                    key: e.key.to_string(),
                    revoked: e.revoked,
                    station: e.station.clone(),
                })
                .collect(),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Reads a registry file written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    /// [`SealerError`] for a malformed file, an id that is not its key's, or two
    /// entries with one id.
    pub fn from_json(text: &str) -> Result<Self, SealerError> {
        let file: RegistryFile =
            serde_json::from_str(text).map_err(|_| SealerError::NotARegistry)?;
        if file.format != REGISTRY_FORMAT {
            return Err(SealerError::UnknownFormat);
        }
        let mut registry = Self::new();
        for e in file.sealers {
            let key: SealerPublicKey = e.key.parse()?;
            let id = key.id();
            // Ids are compared as written by `to_json`: lower-case hex; an
            // upper-case id in a hand-edited file is the same id.
            let named = e.id.trim().to_ascii_lowercase();
            if id.to_string() != named || registry.entries.iter().any(|x| x.id == id) {
                return Err(SealerError::NotARegistry);
            }
            let station = e.station.as_deref().map(station_name).transpose()?;
            // One live key per station name, as `register_station` keeps it.
            if let Some(name) = &station {
                let live = |x: &Entry| x.station.as_ref() == Some(name) && !x.revoked;
                if !e.revoked && registry.entries.iter().any(live) {
                    return Err(SealerError::NotARegistry);
                }
            }
            registry.entries.push(Entry {
                id,
                key,
                revoked: e.revoked,
                station,
            });
        }
        Ok(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_text_and_id() {
        let key = SealerKey::generate().unwrap();
        let back = SealerKey::from_json(&key.to_json()).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let text = key.public_key().to_string();
        assert!(text.starts_with("WS1:") && text.len() == 68);
        assert_eq!(text.parse::<SealerPublicKey>().unwrap(), *key.public_key());
        let digest = Sha256::digest(key.public_key().to_bytes());
        assert_eq!(key.public_key().id().as_bytes(), &digest[..4]);
        let secret = hex::encode(key.secret.to_bytes());
        assert!(!format!("{key:?}").contains(&secret));
        let other = SealerKey::generate().unwrap().public_key().to_string();
        let json = key.to_json();
        let forged = json.replace(&text, &other);
        assert_eq!(
            SealerKey::from_json(&forged).unwrap_err(),
            SealerError::KeyMismatch
        );
    }

    /// `docs/TOKEN.md`, "Key files": hex in either case is read, lower case is
    /// written; a secret is any 32 bytes, clamped on use (RFC 7748), so its
    /// clamped and unclamped forms are one key.
    #[test]
    fn key_files_take_either_hex_case_and_either_clamping() {
        let key = SealerKey::from_seed(&[9; 32]);
        let json = key.to_json();
        let secret = hex::encode(key.secret.to_bytes());
        let public = key.public_key().to_string();
        assert!(json.contains(&secret) && secret == secret.to_ascii_lowercase());
        let upper = json
            .replace(&secret, &secret.to_ascii_uppercase())
            .replace(&public[4..], &public[4..].to_ascii_uppercase());
        assert_ne!(upper.as_str(), json.as_str());
        assert_eq!(
            SealerKey::from_json(&upper).unwrap().public_key(),
            key.public_key()
        );
        assert_eq!(
            format!("WS1:{}", public[4..].to_ascii_uppercase())
                .parse::<SealerPublicKey>()
                .unwrap(),
            *key.public_key()
        );
        // The prefix is not a hex digit: its case is fixed.
        assert!(format!("ws1:{}", &public[4..])
            .parse::<SealerPublicKey>()
            .is_err());
        // Flip the bits clamping sets or clears: the same key.
        let mut bytes = key.secret.to_bytes().to_vec();
        bytes[0] ^= 0b111;
        bytes[31] ^= 0b1100_0000;
        let flipped = json.replace(&secret, &hex::encode(&bytes));
        assert_ne!(flipped.as_str(), json.as_str());
        assert_eq!(
            SealerKey::from_json(&flipped).unwrap().public_key(),
            key.public_key()
        );
    }

    #[test]
    fn registry_register_revoke_and_file() {
        let a = SealerKey::from_seed(&[1; 32]).public_key().clone();
        let b = SealerKey::from_seed(&[2; 32]).public_key().clone();
        let mut r = SealerRegistry::new();
        assert_eq!(r.status(a.id()), SealerStatus::Unknown);
        assert_eq!(r.register(a.clone()), Ok(a.id()));
        assert_eq!(r.register(a.clone()), Ok(a.id()));
        r.register(b.clone()).unwrap();
        r.revoke(b.id()).unwrap();
        assert_eq!(r.status(a.id()), SealerStatus::Active(&a));
        assert_eq!(r.status(b.id()), SealerStatus::Revoked);
        let back = SealerRegistry::from_json(&r.to_json()).unwrap();
        assert_eq!(back.status(b.id()), SealerStatus::Revoked);
        assert_eq!(back.status(a.id()), SealerStatus::Active(&a));
        let damaged = r.to_json().replacen(&a.id().to_string(), "00000000", 1);
        assert_eq!(
            SealerRegistry::from_json(&damaged).unwrap_err(),
            SealerError::NotARegistry
        );
    }

    #[test]
    fn stations_have_one_live_key_each_and_their_names_are_kept() {
        let s1 = SealerKey::from_seed(&[3; 32]).public_key().clone();
        let s2 = SealerKey::from_seed(&[4; 32]).public_key().clone();
        let seller = SealerKey::from_seed(&[5; 32]).public_key().clone();
        let mut r = SealerRegistry::new();
        assert_eq!(r.register_station(s1.clone(), "SZ-Nanshan.03"), Ok(s1.id()));
        assert_eq!(r.register_station(s1.clone(), "SZ-Nanshan.03"), Ok(s1.id()));
        r.register(seller.clone()).unwrap();
        assert_eq!(r.station(s1.id()), Some("SZ-Nanshan.03"));
        assert_eq!(r.station(seller.id()), None);
        // The same key as a seller's, or under another name: its id is taken.
        assert!(matches!(
            r.register(s1.clone()),
            Err(SealerError::IdTaken { .. })
        ));
        assert!(matches!(
            r.register_station(seller.clone(), "X"),
            Err(SealerError::IdTaken { .. })
        ));
        for bad in ["", "a b", "站点", &"x".repeat(65)] {
            assert_eq!(
                r.register_station(s2.clone(), bad),
                Err(SealerError::StationName)
            );
        }
        // A new key for the station only once the old one is revoked.
        assert_eq!(
            r.register_station(s2.clone(), "SZ-Nanshan.03"),
            Err(SealerError::StationTaken {
                name: "SZ-Nanshan.03".into(),
                id: s1.id().to_string()
            })
        );
        r.revoke(s1.id()).unwrap();
        assert_eq!(r.register_station(s2.clone(), "SZ-Nanshan.03"), Ok(s2.id()));
        assert_eq!(r.station_keys("SZ-Nanshan.03"), vec![s1.id(), s2.id()]);
        let json = r.to_json();
        assert!(json.contains("\"station\": \"SZ-Nanshan.03\""), "{json}");
        let back = SealerRegistry::from_json(&json).unwrap();
        assert_eq!(back.station(s2.id()), Some("SZ-Nanshan.03"));
        assert_eq!(back.status(s1.id()), SealerStatus::Revoked);
        assert_eq!(back.status(s2.id()), SealerStatus::Active(&s2));
        // A file with two live keys for one station is refused.
        let two = json.replacen("\"revoked\": true", "\"revoked\": false", 1);
        assert_eq!(
            SealerRegistry::from_json(&two).unwrap_err(),
            SealerError::NotARegistry
        );
        let bad_name = json.replace("SZ-Nanshan.03", "SZ Nanshan");
        assert_eq!(
            SealerRegistry::from_json(&bad_name).unwrap_err(),
            SealerError::StationName
        );
    }
}
