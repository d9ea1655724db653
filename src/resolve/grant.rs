//! Courier grants: signed permission for one courier to resolve tokens of some
//! zones, for one shift, for some fields, up to a quota.
//!
//! ```text
//! offset  size  field
//! 0       1     version (1)
//! 1       8     issuer id (first 8 bytes of SHA-256 of the issuer public key)
//! 9       16    grant id
//! 25      1     courier id length n (1..=64), then n bytes of ASCII
//! ..      8     not-before, unix seconds, big-endian
//! ..      8     expiry, unix seconds, big-endian
//! ..      1     scope bits: 1 name, 2 phone, 4 address, 8 items
//! ..      4     quota, big-endian (≥ 1)
//! ..      1     zone count k (1..=64), then k zone ids (u32, big-endian)
//! ..      32    version 2 only: the courier device's Ed25519 public key
//! ..      64    Ed25519 signature over the version's domain ‖ every byte before it
//! ```
//!
//! Version 1 (`WG1:`) is a bearer grant: whoever holds its text can use it, so a
//! resolver accepts it only where the carrier allows bearer grants. Version 2
//! (`WG2:`) is bound to a device: every request must carry the device's
//! [`RequestProof`](crate::RequestProof).

use core::fmt;
use core::str::FromStr;

use time::OffsetDateTime;

use crate::resolve::{Denied, GrantError};
use crate::token::base45;
use crate::token::reader::Reader;
use crate::{DevicePublicKey, IssuerKey, IssuerPublicKey};

/// The text prefix of a bearer grant (version 1).
const PREFIX_V1: &str = "WG1:";
/// The text prefix of a device-bound grant (version 2).
const PREFIX_V2: &str = "WG2:";
/// Signed before the grant bytes, so a grant signature means nothing elsewhere.
const GRANT_DOMAIN_V1: &[u8] = b"waybill-redact grant v1";
const GRANT_DOMAIN_V2: &[u8] = b"waybill-redact grant v2";
const MAX_COURIER: usize = 64;
const MAX_ZONES: usize = 64;
const SIGNATURE_LEN: usize = 64;

/// Which fields a grant may disclose. Text form: the comma-separated names in
/// `name,phone,address,items` order ([`Display`](fmt::Display) and [`FromStr`]).
///
/// Build one from [`Scope::DELIVERY`], [`Scope::ALL`] or [`Scope::NONE`] and the
/// `with_*` methods, or parse its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Scope {
    /// The recipient's name.
    pub name: bool,
    /// The recipient's phone number.
    pub phone: bool,
    /// The recipient's address.
    pub address: bool,
    /// The parcel's contents (off unless asked for: item details are sensitive).
    pub items: bool,
}

impl Scope {
    /// Name, phone and address: what a delivery needs.
    pub const DELIVERY: Self = Self {
        name: true,
        phone: true,
        address: true,
        items: false,
    };

    /// Every field, items included.
    pub const ALL: Self = Self {
        name: true,
        phone: true,
        address: true,
        items: true,
    };

    /// No field: the starting point for the `with_*` methods (a grant needs at
    /// least one field).
    pub const NONE: Self = Self {
        name: false,
        phone: false,
        address: false,
        items: false,
    };

    /// With or without the recipient's name.
    #[must_use]
    pub const fn with_name(mut self, on: bool) -> Self {
        self.name = on;
        self
    }

    /// With or without the recipient's phone number.
    #[must_use]
    pub const fn with_phone(mut self, on: bool) -> Self {
        self.phone = on;
        self
    }

    /// With or without the recipient's address.
    #[must_use]
    pub const fn with_address(mut self, on: bool) -> Self {
        self.address = on;
        self
    }

    /// With or without the parcel's contents.
    #[must_use]
    pub const fn with_items(mut self, on: bool) -> Self {
        self.items = on;
        self
    }

    fn to_bits(self) -> u8 {
        u8::from(self.name)
            | u8::from(self.phone) << 1
            | u8::from(self.address) << 2
            | u8::from(self.items) << 3
    }

    fn from_bits(bits: u8) -> Option<Self> {
        (bits & !0x0F == 0 && bits != 0).then_some(Self {
            name: bits & 1 != 0,
            phone: bits & 2 != 0,
            address: bits & 4 != 0,
            items: bits & 8 != 0,
        })
    }
}

impl FromStr for Scope {
    type Err = GrantError;
    /// Parses a comma-separated list of `name`, `phone`, `address`, `items`.
    fn from_str(s: &str) -> Result<Self, GrantError> {
        let mut scope = Self::NONE;
        for part in s.split(',').map(str::trim) {
            let flag = match part {
                "name" => &mut scope.name,
                "phone" => &mut scope.phone,
                "address" => &mut scope.address,
                "items" => &mut scope.items,
                _ => {
                    return Err(GrantError::Invalid {
                        field: "scope",
                        reason: "use name, phone, address or items",
                    })
                }
            };
            *flag = true;
        }
        Ok(scope)
    }
}

impl fmt::Display for Scope {
    /// The canonical text: the fields in `name,phone,address,items` order, which
    /// [`FromStr`] reads back (and the audit log records).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.name, "name"),
            (self.phone, "phone"),
            (self.address, "address"),
            (self.items, "items"),
        ];
        let mut first = true;
        for (_, name) in names.iter().filter(|(on, _)| *on) {
            if !first {
                f.write_str(",")?;
            }
            f.write_str(name)?;
            first = false;
        }
        Ok(())
    }
}

/// A grant's 16-byte random id; its text form is 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId([u8; 16]);

impl GrantId {
    /// The id with these bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The id's bytes.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The id's bytes, borrowed.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl From<[u8; 16]> for GrantId {
    fn from(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for GrantId {
    type Err = GrantError;
    fn from_str(s: &str) -> Result<Self, GrantError> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut id).map_err(|_| GrantError::Invalid {
            field: "grant id",
            reason: "must be 32 hex digits",
        })?;
        Ok(Self(id))
    }
}

/// What a new grant allows; signed into a [`Grant`] by [`IssuerKey::issue`].
///
/// Built with [`GrantSpec::new`] and the `with_*` methods:
///
/// ```
/// # use waybill_redact::{GrantSpec, Scope};
/// # use time::macros::datetime;
/// let start = datetime!(2026-11-28 08:00 UTC);
/// let spec = GrantSpec::new("C-10023", vec![310_115], start, start + time::Duration::hours(10), 200)
///     .with_scope(Scope::DELIVERY.with_items(true));
/// assert_eq!(spec.quota, 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantSpec {
    /// The courier's id: 1 to 64 printable ASCII characters, no spaces.
    pub courier_id: String,
    /// The zones whose tokens it opens: 1 to 64.
    pub zones: Vec<u32>,
    /// When it starts to be valid.
    pub not_before: OffsetDateTime,
    /// When it stops (about one shift later).
    pub expires_at: OffsetDateTime,
    /// Which fields it discloses.
    pub scope: Scope,
    /// How many resolutions it allows in total (at least 1).
    pub quota: u32,
    /// The courier device it is bound to (a version-2 grant: every request must
    /// be signed by this device), or `None` for a bearer grant (version 1).
    pub device: Option<DevicePublicKey>,
}

impl GrantSpec {
    /// A bearer grant (bound to no device) for `courier_id` over `zones`, valid
    /// from `not_before` to `expires_at`, allowing `quota` resolutions of the
    /// [`Scope::DELIVERY`] fields. [`IssuerKey::issue`] checks the values.
    pub fn new(
        courier_id: impl Into<String>,
        zones: Vec<u32>,
        not_before: OffsetDateTime,
        expires_at: OffsetDateTime,
        quota: u32,
    ) -> Self {
        Self {
            courier_id: courier_id.into(),
            zones,
            not_before,
            expires_at,
            scope: Scope::DELIVERY,
            quota,
            device: None,
        }
    }

    /// With these fields disclosed instead of [`Scope::DELIVERY`].
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Bound to this courier device (a version-2 grant), or to none (`None`, a
    /// bearer grant).
    #[must_use]
    pub fn with_device(mut self, device: Option<DevicePublicKey>) -> Self {
        self.device = device;
        self
    }
}

/// A signed courier grant, as parsed from its text form.
///
/// Parsing checks the structure only; the [`Resolver`](crate::Resolver) checks
/// the signature against its trusted issuers. The text is a credential: `Debug`
/// shows the grant id and courier only.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    issuer_id: [u8; 8],
    id: GrantId,
    courier_id: String,
    not_before: u64,
    expires_at: u64,
    scope: Scope,
    quota: u32,
    zones: Vec<u32>,
    device: Option<DevicePublicKey>,
    signed_len: usize,
    bytes: Vec<u8>,
    text: String,
}

fn invalid(field: &'static str, reason: &'static str) -> GrantError {
    GrantError::Invalid { field, reason }
}

fn unix(t: OffsetDateTime, field: &'static str) -> Result<u64, GrantError> {
    u64::try_from(t.unix_timestamp()).map_err(|_| invalid(field, "before 1970"))
}

impl IssuerKey {
    /// Signs a new grant with a fresh random id.
    ///
    /// # Errors
    /// [`GrantError::Invalid`] for an empty or overlong courier id, no zones or
    /// too many, an empty window, an empty scope, or a zero quota.
    pub fn issue(&self, spec: &GrantSpec) -> Result<Grant, GrantError> {
        let courier = spec.courier_id.as_bytes();
        if courier.is_empty() || courier.len() > MAX_COURIER {
            return Err(invalid("courier", "must be 1 to 64 characters"));
        }
        if !courier.iter().all(u8::is_ascii_graphic) {
            return Err(invalid("courier", "printable ASCII without spaces only"));
        }
        if spec.zones.is_empty() || spec.zones.len() > MAX_ZONES {
            return Err(invalid("zones", "must list 1 to 64 zones"));
        }
        if spec.expires_at <= spec.not_before {
            return Err(invalid("window", "expiry must be after not-before"));
        }
        if spec.scope.to_bits() == 0 {
            return Err(invalid("scope", "must allow at least one field"));
        }
        if spec.quota == 0 {
            return Err(invalid("quota", "must be at least 1"));
        }
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|_| invalid("id", "the OS random source failed"))?;
        self.issue_with_id(spec, id)
    }

    /// [`issue`](Self::issue) with a given id, after its checks: for test vectors.
    pub(crate) fn issue_with_id(
        &self,
        spec: &GrantSpec,
        id: [u8; 16],
    ) -> Result<Grant, GrantError> {
        let courier = spec.courier_id.as_bytes();
        let mut b = Vec::with_capacity(160 + 4 * spec.zones.len());
        b.push(if spec.device.is_some() { 2 } else { 1 });
        b.extend_from_slice(&self.public_key().id());
        b.extend_from_slice(&id);
        b.push(u8::try_from(courier.len()).unwrap_or(0));
        b.extend_from_slice(courier);
        b.extend_from_slice(&unix(spec.not_before, "window")?.to_be_bytes());
        b.extend_from_slice(&unix(spec.expires_at, "window")?.to_be_bytes());
        b.push(spec.scope.to_bits());
        b.extend_from_slice(&spec.quota.to_be_bytes());
        b.push(u8::try_from(spec.zones.len()).unwrap_or(0));
        for zone in &spec.zones {
            b.extend_from_slice(&zone.to_be_bytes());
        }
        if let Some(device) = &spec.device {
            b.extend_from_slice(&device.to_bytes());
        }
        let signature = self.sign(&signed_message(&b));
        b.extend_from_slice(&signature);
        Grant::from_bytes(b)
    }
}

/// The version's domain ‖ the grant bytes before the signature.
fn signed_message(body: &[u8]) -> Vec<u8> {
    let domain = match body.first() {
        Some(2) => GRANT_DOMAIN_V2,
        _ => GRANT_DOMAIN_V1,
    };
    let mut m = Vec::with_capacity(domain.len() + body.len());
    m.extend_from_slice(domain);
    m.extend_from_slice(body);
    m
}

fn malformed(reason: &'static str) -> GrantError {
    GrantError::Malformed { reason }
}

impl Grant {
    /// Parses grant text (`WG1:` or `WG2:`, then Base45).
    ///
    /// # Errors
    /// [`GrantError::Malformed`] or [`GrantError::UnsupportedVersion`].
    pub fn parse(text: &str) -> Result<Self, GrantError> {
        // Trimming is safe although Base45 has a space: the last character of a
        // Base45 text is never a space (its value is at most 32), and the prefix
        // comes first.
        let text = text.trim();
        let (version, body) = if let Some(body) = text.strip_prefix(PREFIX_V2) {
            (2, body)
        } else if let Some(body) = text.strip_prefix(PREFIX_V1) {
            (1, body)
        } else {
            return Err(malformed("missing WG1: or WG2: prefix"));
        };
        if body.len() > 1024 {
            return Err(malformed("too long"));
        }
        let bytes = base45::decode(body.as_bytes()).map_err(|_| malformed("invalid Base45"))?;
        if bytes.first().is_some_and(|v| *v != version) {
            return Err(malformed("the version does not match the prefix"));
        }
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: Vec<u8>) -> Result<Self, GrantError> {
        let t = |_| malformed("truncated");
        let mut r = Reader::new(&bytes);
        let version = r.u8().map_err(t)?;
        if version != 1 && version != 2 {
            return Err(GrantError::UnsupportedVersion { version });
        }
        let issuer_id = r.array::<8>().map_err(t)?;
        let id = GrantId(r.array::<16>().map_err(t)?);
        let courier = r.bytes_u8().map_err(t)?;
        if courier.is_empty() || courier.len() > MAX_COURIER {
            return Err(malformed("courier id length"));
        }
        let courier_id = core::str::from_utf8(courier)
            .ok()
            .filter(|c| c.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or(malformed("courier id characters"))?
            .to_owned();
        let not_before = r.u64().map_err(t)?;
        let expires_at = r.u64().map_err(t)?;
        if i64::try_from(expires_at).is_err() || expires_at <= not_before {
            return Err(malformed("validity window"));
        }
        let scope = Scope::from_bits(r.u8().map_err(t)?).ok_or(malformed("scope bits"))?;
        let quota = r.u32().map_err(t)?;
        if quota == 0 {
            return Err(malformed("zero quota"));
        }
        let count = usize::from(r.u8().map_err(t)?);
        if count == 0 || count > MAX_ZONES {
            return Err(malformed("zone count"));
        }
        let mut zones = Vec::with_capacity(count);
        for _ in 0..count {
            zones.push(r.u32().map_err(t)?);
        }
        let device = if version == 2 {
            let key = r.array::<32>().map_err(t)?;
            Some(DevicePublicKey::from_bytes(&key).map_err(|_| malformed("device key"))?)
        } else {
            None
        };
        let signed_len = bytes.len() - r.remaining();
        r.take(SIGNATURE_LEN).map_err(t)?;
        r.finish().map_err(|_| malformed("trailing bytes"))?;
        let prefix = if version == 2 { PREFIX_V2 } else { PREFIX_V1 };
        let mut text = String::with_capacity(prefix.len() + base45::encoded_len(bytes.len()));
        text.push_str(prefix);
        base45::encode_into(&bytes, &mut text);
        Ok(Self {
            issuer_id,
            id,
            courier_id,
            not_before,
            expires_at,
            scope,
            quota,
            zones,
            device,
            signed_len,
            bytes,
            text,
        })
    }

    /// Checks the signature against the trusted issuers.
    ///
    /// # Errors
    /// [`Denied::UntrustedIssuer`] when no trusted key has the grant's issuer id,
    /// [`Denied::BadSignature`] when the signature does not verify.
    pub fn verify(&self, trusted: &[IssuerPublicKey]) -> Result<(), Denied> {
        let issuer = trusted
            .iter()
            .find(|k| k.id() == self.issuer_id)
            .ok_or(Denied::UntrustedIssuer)?;
        let (body, sig) = self.bytes.split_at(self.signed_len.min(self.bytes.len()));
        let sig: &[u8; SIGNATURE_LEN] = sig.try_into().map_err(|_| Denied::BadSignature)?;
        if issuer.verify(&signed_message(body), sig) {
            Ok(())
        } else {
            Err(Denied::BadSignature)
        }
    }

    /// The grant's bytes (before Base45), signature included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The grant id.
    pub fn id(&self) -> GrantId {
        self.id
    }

    /// The courier it was issued to.
    pub fn courier_id(&self) -> &str {
        &self.courier_id
    }

    /// The zones it covers.
    pub fn zones(&self) -> &[u32] {
        &self.zones
    }

    /// Start of validity, unix seconds.
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// End of validity, unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The fields it may disclose.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The total number of resolutions allowed.
    pub fn quota(&self) -> u32 {
        self.quota
    }

    /// The device the grant is bound to; `None` for a bearer grant.
    pub fn device(&self) -> Option<&DevicePublicKey> {
        self.device.as_ref()
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("id", &format_args!("{}", self.id))
            .field("courier_id", &self.courier_id)
            .field("device_bound", &self.device.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Grant {
    type Err = GrantError;
    fn from_str(s: &str) -> Result<Self, GrantError> {
        Self::parse(s)
    }
}
