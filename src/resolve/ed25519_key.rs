//! The Ed25519 keys the project's roles share: one signing key and one public
//! key type, generic over the role ([`Audit`](key_role::Audit),
//! [`Witness`](key_role::Witness), [`Issuer`](key_role::Issuer),
//! [`Device`](key_role::Device)). The role gives the public key's text prefix
//! (`WA1:`, `WW1:`, `WI1:`, `WD1:`), the key file's `format`, the names `Debug`
//! prints and the error its parsing returns; the key file and the text form are
//! the same for all (`crate::keyfile`). What only one role does (sign a
//! checkpoint, cosign, issue a grant, prove a request) sits in that role's
//! module.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::keyfile;

/// The roles of Ed25519 keys, each a marker type for [`Ed25519Key`] and
/// [`Ed25519PublicKey`].
pub mod key_role {
    use crate::resolve::{DeviceError, GrantError};

    mod sealed {
        pub trait Sealed {}
    }

    /// What a role fixes: its text prefix, key-file format, names and error.
    /// Sealed: the roles are this crate's.
    pub trait KeyRole: sealed::Sealed + 'static {
        /// The public key's text prefix, such as `WA1:`.
        const PREFIX: &'static str;
        /// The key file's `format` field.
        const FILE_FORMAT: &'static str;
        /// The signing key's type name, for `Debug`.
        const KEY_NAME: &'static str;
        /// The public key's type name, for `Debug`.
        const PUBLIC_NAME: &'static str;
        /// The reason given for text that is not a key file of this role.
        const NOT_A_FILE: &'static str;
        /// The reason given for text that is not this role's public key text.
        const NOT_TEXT: &'static str;
        /// The error reading a key of this role returns.
        type Error: core::fmt::Debug + core::fmt::Display;
        /// That error, for `reason`.
        #[doc(hidden)]
        fn error(reason: &'static str) -> Self::Error;
    }

    macro_rules! role {
        ($(#[$doc:meta])* $role:ident, $prefix:literal, $format:literal, $key:literal,
         $public:literal, $not_a_file:literal, $error:ty, $make:expr) => {
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum $role {}
            impl sealed::Sealed for $role {}
            impl KeyRole for $role {
                const PREFIX: &'static str = $prefix;
                const FILE_FORMAT: &'static str = $format;
                const KEY_NAME: &'static str = $key;
                const PUBLIC_NAME: &'static str = $public;
                const NOT_A_FILE: &'static str = $not_a_file;
                const NOT_TEXT: &'static str = concat!("not ", $prefix, " and 64 hex digits");
                type Error = $error;
                fn error(reason: &'static str) -> $error {
                    $make(reason)
                }
            }
        };
    }

    role!(
        /// The audit key, which signs the audit log's checkpoints (`WA1:`).
        Audit, "WA1:", "waybill-redact audit key v1", "AuditKey", "AuditPublicKey",
        "not an audit key file", GrantError, |reason| GrantError::AuditKey { reason }
    );
    role!(
        /// A witness's key, which cosigns checkpoints (`WW1:`).
        Witness, "WW1:", "waybill-redact witness key v1", "WitnessKey", "WitnessPublicKey",
        "not a witness key file", GrantError, |reason| GrantError::WitnessKey { reason }
    );
    role!(
        /// The carrier's grant issuer key (`WI1:`).
        Issuer, "WI1:", "waybill-redact issuer key v1", "IssuerKey", "IssuerPublicKey",
        "not an issuer key file", GrantError, |reason| GrantError::IssuerKey { reason }
    );
    role!(
        /// A courier device's key, which signs its requests (`WD1:`).
        Device, "WD1:", "waybill-redact device key v1", "DeviceKey", "DevicePublicKey",
        "not a device key file", DeviceError, |reason| DeviceError { reason }
    );
}

use key_role::KeyRole;

/// An Ed25519 signing key of role `R`. Zeroized on drop (ed25519-dalek's
/// `ZeroizeOnDrop`); `Debug` shows the public key only.
///
/// Used through its role's name: [`AuditKey`](crate::AuditKey),
/// `WitnessKey` (with the `audit-log` feature), [`IssuerKey`](crate::IssuerKey),
/// [`DeviceKey`](crate::DeviceKey).
pub struct Ed25519Key<R> {
    signing: SigningKey,
    role: PhantomData<R>,
}

/// An Ed25519 public key of role `R`. Text form: the role's prefix (`WA1:`,
/// `WW1:`, `WI1:`, `WD1:`) and the 32 key bytes in lowercase hex.
///
/// # Guarantees
/// A valid Ed25519 point that is not of small order (a weak key is refused when
/// parsed).
pub struct Ed25519PublicKey<R> {
    key: VerifyingKey,
    role: PhantomData<R>,
}

impl<R: KeyRole> Ed25519Key<R> {
    /// A key from its 32-byte Ed25519 secret. For test vectors and imports.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let secret = Zeroizing::new(secret);
        Self {
            signing: SigningKey::from_bytes(&secret),
            role: PhantomData,
        }
    }

    /// A fresh key from the OS random source; `None` when it fails.
    pub(crate) fn random() -> Option<Self> {
        keyfile::random_secret().map(|secret| Self::from_secret(*secret))
    }

    /// The matching public key.
    pub fn public_key(&self) -> Ed25519PublicKey<R> {
        Ed25519PublicKey {
            key: self.signing.verifying_key(),
            role: PhantomData,
        }
    }

    /// The Ed25519 signature of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The key file (JSON with `format`, the `secret` in hex and the `public`
    /// key's text; holds the secret: store it owner-only).
    pub fn to_json(&self) -> Zeroizing<String> {
        let secret = Zeroizing::new(self.signing.to_bytes());
        keyfile::to_json(
            R::FILE_FORMAT,
            secret.as_slice(),
            self.public_key().to_string(),
        )
    }

    /// Reads a key file written by [`to_json`](Self::to_json).
    ///
    /// # Errors
    /// The role's error when it is not this role's key file, or its public key
    /// does not match its secret.
    pub fn from_json(text: &str) -> Result<Self, R::Error> {
        let (secret, public) = keyfile::from_json(text, R::FILE_FORMAT)
            .map_err(|e| R::error(e.reason(R::NOT_A_FILE)))?;
        let key = Self::from_secret(*secret);
        if public.parse::<Ed25519PublicKey<R>>()? != key.public_key() {
            return Err(R::error("the public key does not match the secret"));
        }
        Ok(key)
    }
}

impl<R: KeyRole> fmt::Debug for Ed25519Key<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(R::KEY_NAME)
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl<R: KeyRole> Ed25519PublicKey<R> {
    /// A key from its 32 bytes.
    ///
    /// # Errors
    /// The role's error when the bytes are not an Ed25519 point, or are a weak
    /// (small-order) key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, R::Error> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| R::error("not an Ed25519 key"))?;
        if key.is_weak() {
            return Err(R::error("a weak (small-order) key"));
        }
        Ok(Self {
            key,
            role: PhantomData,
        })
    }

    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Parses the text form, or the public key out of a key file of this role.
    ///
    /// # Errors
    /// The role's error when it is neither.
    pub fn from_text_or_file(text: &str) -> Result<Self, R::Error> {
        keyfile::public_text(text)
            .ok_or(R::error("not a key file"))?
            .parse()
    }

    /// Whether `signature` is a valid strict Ed25519 signature of `message`
    /// (no malleable signatures, no small-order keys).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = <&[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.key
            .verify_strict(message, &Signature::from_bytes(sig))
            .is_ok()
    }

    /// The raw key, for the note signature formats.
    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }
}

impl<R: KeyRole> fmt::Display for Ed25519PublicKey<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", R::PREFIX, hex::encode(self.key.as_bytes()))
    }
}

impl<R: KeyRole> fmt::Debug for Ed25519PublicKey<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({self})", R::PUBLIC_NAME)
    }
}

impl<R: KeyRole> core::str::FromStr for Ed25519PublicKey<R> {
    type Err = R::Error;
    fn from_str(s: &str) -> Result<Self, R::Error> {
        let bytes = keyfile::public_bytes(s, R::PREFIX).ok_or(R::error(R::NOT_TEXT))?;
        Self::from_bytes(&bytes)
    }
}

// By hand: derives would ask the same of the marker `R`.
impl<R> Clone for Ed25519PublicKey<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Ed25519PublicKey<R> {}
impl<R> PartialEq for Ed25519PublicKey<R> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<R> Eq for Ed25519PublicKey<R> {}
impl<R> Hash for Ed25519PublicKey<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::key_role::{Audit, Device, Issuer, Witness};
    use super::*;

    /// What every role shares: the key file and text round-trip, the file
    /// format and the text prefix are the role's own, errors name the role,
    /// `Debug` hides the secret.
    fn round_trip<R: KeyRole>(other_prefix: &str, noun: &str)
    where
        R::Error: PartialEq,
    {
        let key = Ed25519Key::<R>::random().unwrap();
        let json = key.to_json();
        assert!(json.contains(R::FILE_FORMAT));
        let back = Ed25519Key::<R>::from_json(&json).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let text = key.public_key().to_string();
        assert!(text.starts_with(R::PREFIX) && text.len() == 68, "{text}");
        assert_eq!(text.parse(), Ok(key.public_key()));
        assert_eq!(
            Ed25519PublicKey::<R>::from_text_or_file(&json),
            Ok(key.public_key())
        );
        assert_eq!(
            Ed25519PublicKey::<R>::from_bytes(&key.public_key().to_bytes()),
            Ok(key.public_key())
        );
        let secret = hex::encode(key.signing.to_bytes());
        assert!(!format!("{key:?}").contains(&secret));
        assert!(format!("{key:?}").starts_with(R::KEY_NAME));
        assert_eq!(
            format!("{:?}", key.public_key()),
            format!("{}({text})", R::PUBLIC_NAME)
        );
        // Another role's text and file are refused, naming this role.
        let other = text.replacen(R::PREFIX, other_prefix, 1);
        let e = other.parse::<Ed25519PublicKey<R>>().unwrap_err();
        assert!(e.to_string().contains(noun), "{e}");
        let e = Ed25519Key::<R>::from_json(&json.replace("key v1", "key v9")).unwrap_err();
        assert!(e.to_string().contains(noun), "{e}");
        // A file whose public key is another key's.
        let stranger = Ed25519Key::<R>::random().unwrap().public_key().to_string();
        let forged = json.replace(&text, &stranger);
        assert_eq!(
            Ed25519Key::<R>::from_json(&forged).unwrap_err(),
            R::error("the public key does not match the secret")
        );
        // A weak key is refused for every role.
        let identity = format!("{}01{}", R::PREFIX, "00".repeat(31));
        assert_eq!(
            identity.parse::<Ed25519PublicKey<R>>(),
            Err(R::error("a weak (small-order) key"))
        );
        let sig = key.sign(b"m");
        assert!(key.public_key().verify(b"m", &sig));
        assert!(!key.public_key().verify(b"n", &sig));
        assert!(!key.public_key().verify(b"m", &sig[..63]));
    }

    #[test]
    fn every_role_round_trips_and_names_itself() {
        round_trip::<Audit>("WW1:", "audit key");
        round_trip::<Witness>("WA1:", "witness key");
        round_trip::<Issuer>("WD1:", "issuer key");
        round_trip::<Device>("WI1:", "device key");
    }

    #[test]
    fn existing_key_files_and_texts_load_unchanged() {
        // tests/data/wb2/issuer.json, written before the key types were shared.
        let file = include_str!("../../tests/data/wb2/issuer.json");
        let key = Ed25519Key::<Issuer>::from_json(file).unwrap();
        assert_eq!(
            key.public_key().to_string(),
            "WI1:fc55804aa9506a2487f02026f2b91673b9bcf1af6c6198b7fe41b91eb0523be7"
        );
        // The key file's text, byte for byte, as before.
        let key = Ed25519Key::<Audit>::from_secret([7; 32]);
        let public = key.public_key().to_string();
        assert_eq!(
            key.to_json().as_str(),
            format!(
                "{{\n  \"format\": \"waybill-redact audit key v1\",\n  \"secret\": \"{}\",\n  \"public\": \"{public}\"\n}}",
                "07".repeat(32)
            )
        );
    }
}
