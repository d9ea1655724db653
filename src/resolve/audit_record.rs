//! One audit record, its canonical hashed bytes, and the chain that links them.
//!
//! A record's `hash` is SHA-256 over bytes defined field by field (see
//! `docs/TOKEN.md`, "Audit records"), never over whatever a JSON printer emits:
//!
//! ```text
//! "waybill-redact audit v2" 0x00
//! prev                      32 bytes (zeros for the first record)
//! seq                       u64, big-endian
//! instance, time, tracking_number, courier, grant, purpose, outcome, reason, scope
//!                           each: 0x00 when absent, or 0x01 ‖ u16 length (big-endian) ‖ UTF-8
//! kind, sealer, client, count, refers_to
//!                           only when present, each after its tag byte (`audit_kind`)
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::audit::{AuditEvent, Outcome};
use super::audit_kind::{is_client_group, revocation_subject, tag, AuditKind};
use super::revocation::Revocation;
use crate::Scope;

const DOMAIN: &[u8] = b"waybill-redact audit v2\0";

/// One audit record, as written to a JSON line or a database row. Field order
/// is the JSON order. It holds no personal data.
///
/// Not `#[non_exhaustive]`, on purpose: the fields are the log's format, fixed
/// by the hash over them (`docs/TOKEN.md`, "Audit records", domain
/// `waybill-redact audit v2`, and `docs/AUDIT.md`, "Record kinds"); stores
/// build records field by field from their rows. The fields after `scope`
/// exist since record kinds: absent, they are absent from the hashed bytes
/// too, so every older record hashes as it did.
///
/// In JSON (and in a database row) the outcome is two fields: `outcome`
/// (`allowed` or `denied`) and `reason` (the [`DenialReason`](crate::DenialReason)
/// text, when denied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in its chain, from 1.
    pub seq: u64,
    /// The resolver instance whose chain this is.
    pub instance: String,
    /// Server time, RFC 3339 UTC to the second (`2026-11-28T02:00:00Z`); never
    /// earlier than the previous record's.
    pub time: String,
    /// What the record stands for (JSON `kind`, absent for a resolve attempt).
    pub kind: AuditKind,
    /// The token's tracking number, when the token parsed; a revoked parcel.
    pub tracking_number: Option<String>,
    /// The grant's courier id, when the grant parsed (a claim unless allowed).
    pub courier: Option<String>,
    /// The grant id in hex, when the grant parsed; a revoked grant.
    pub grant: Option<String>,
    /// The seller's sealer id (8 hex digits) of a suite-2 or suite-3 token,
    /// when the resolver learned it (a claim unless allowed); a revoked sealer.
    pub sealer: Option<String>,
    /// `delivery`, `call`, `return` or `after-sales`: a resolve attempt's only.
    pub purpose: Option<String>,
    /// Allowed, or denied and why (the JSON fields `outcome` and `reason`): a
    /// resolve attempt's only.
    pub outcome: Option<Outcome>,
    /// The fields disclosed, comma-separated (`name,phone,address,items` order), when allowed.
    pub scope: Option<String>,
    /// The client address group of suppressed refusals (`203.0.113.9`, or an
    /// IPv6 /64 as `2001:db8:1:2::/64`).
    pub client: Option<String>,
    /// How many refusals were suppressed.
    pub count: Option<u64>,
    /// The `seq` of the allowed record whose answer was not delivered.
    pub refers_to: Option<u64>,
    /// The previous record's hash in hex (64 zeros for the first).
    pub prev: String,
    /// This record's hash in hex.
    pub hash: String,
}

fn is_resolve(kind: &AuditKind) -> bool {
    *kind == AuditKind::Resolve
}

/// The JSON line of a record, field by field (`outcome` and `reason` as text).
/// The fields of record kinds are left out when absent, so an older record's
/// line is written as it always was.
#[derive(Serialize)]
struct LineRef<'a> {
    seq: u64,
    instance: &'a str,
    time: &'a str,
    #[serde(skip_serializing_if = "is_resolve")]
    kind: AuditKind,
    tracking_number: Option<&'a str>,
    courier: Option<&'a str>,
    grant: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sealer: Option<&'a str>,
    purpose: Option<&'a str>,
    outcome: Option<&'static str>,
    reason: Option<&'static str>,
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refers_to: Option<u64>,
    prev: &'a str,
    hash: &'a str,
}

impl Serialize for AuditKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    seq: u64,
    instance: String,
    time: String,
    kind: Option<String>,
    tracking_number: Option<String>,
    courier: Option<String>,
    grant: Option<String>,
    sealer: Option<String>,
    purpose: Option<String>,
    outcome: Option<String>,
    reason: Option<String>,
    scope: Option<String>,
    client: Option<String>,
    count: Option<u64>,
    refers_to: Option<u64>,
    prev: String,
    hash: String,
}

impl Serialize for AuditRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LineRef {
            seq: self.seq,
            instance: &self.instance,
            time: &self.time,
            kind: self.kind,
            tracking_number: self.tracking_number.as_deref(),
            courier: self.courier.as_deref(),
            grant: self.grant.as_deref(),
            sealer: self.sealer.as_deref(),
            purpose: self.purpose.as_deref(),
            outcome: self.outcome.map(Outcome::as_str),
            reason: self
                .outcome
                .and_then(Outcome::reason)
                .map(crate::DenialReason::as_str),
            scope: self.scope.as_deref(),
            client: self.client.as_deref(),
            count: self.count,
            refers_to: self.refers_to,
            prev: &self.prev,
            hash: &self.hash,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AuditRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let line = Line::deserialize(deserializer)?;
        // `resolve` is the default and never written: one record, one line.
        let kind = match line.kind.as_deref() {
            None => AuditKind::Resolve,
            Some("resolve") => return Err(serde::de::Error::custom("kind resolve is implied")),
            Some(k) => k.parse().map_err(serde::de::Error::custom)?,
        };
        let outcome = match (line.outcome.as_deref(), line.reason.as_deref()) {
            (None, None) => None,
            (Some(o), r) => Some(Outcome::from_parts(o, r).map_err(serde::de::Error::custom)?),
            (None, Some(_)) => return Err(serde::de::Error::custom("a reason without outcome")),
        };
        let record = Self {
            seq: line.seq,
            instance: line.instance,
            time: line.time,
            kind,
            tracking_number: line.tracking_number,
            courier: line.courier,
            grant: line.grant,
            sealer: line.sealer,
            purpose: line.purpose,
            outcome,
            scope: line.scope,
            client: line.client,
            count: line.count,
            refers_to: line.refers_to,
            prev: line.prev,
            hash: line.hash,
        };
        if !record.fits_kind() {
            return Err(serde::de::Error::custom(
                "the record's fields do not fit its kind",
            ));
        }
        Ok(record)
    }
}

fn field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.push(0),
        Some(text) => {
            // Fields are bounded far below 64 KiB; a longer one is cut in the
            // hash only, which the JSON check below then reports as edited.
            let bytes = text.as_bytes();
            let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
            out.push(1);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(bytes.get(..usize::from(len)).unwrap_or(bytes));
        }
    }
}

/// The scope's canonical text (its [`Display`](std::fmt::Display)).
pub fn scope_text(scope: Scope) -> String {
    scope.to_string()
}

/// A time as records carry it.
pub fn record_time(time: OffsetDateTime) -> String {
    let t = time
        .to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(time);
    t.format(&Rfc3339).unwrap_or_default()
}

impl AuditRecord {
    /// The canonical bytes the hash covers.
    pub fn hashed_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(256);
        b.extend_from_slice(DOMAIN);
        let mut prev = [0u8; 32];
        // A malformed prev hashes as zeros; the chain check then fails on it.
        let _ = hex::decode_to_slice(&self.prev, &mut prev);
        b.extend_from_slice(&prev);
        b.extend_from_slice(&self.seq.to_be_bytes());
        for value in [
            Some(self.instance.as_str()),
            Some(self.time.as_str()),
            self.tracking_number.as_deref(),
            self.courier.as_deref(),
            self.grant.as_deref(),
            self.purpose.as_deref(),
            self.outcome.map(Outcome::as_str),
            self.outcome
                .and_then(Outcome::reason)
                .map(crate::DenialReason::as_str),
            self.scope.as_deref(),
        ] {
            field(&mut b, value);
        }
        // The fields of record kinds, each after its tag, only when present.
        if self.kind != AuditKind::Resolve {
            b.push(tag::KIND);
            field(&mut b, Some(self.kind.as_str()));
        }
        for (t, value) in [
            (tag::SEALER, self.sealer.as_deref()),
            (tag::CLIENT, self.client.as_deref()),
        ] {
            if let Some(v) = value {
                b.push(t);
                field(&mut b, Some(v));
            }
        }
        for (t, value) in [(tag::COUNT, self.count), (tag::REFERS_TO, self.refers_to)] {
            if let Some(v) = value {
                b.push(t);
                b.extend_from_slice(&v.to_be_bytes());
            }
        }
        b
    }

    /// Whether the record's fields fit its kind (`docs/AUDIT.md`, "Record
    /// kinds"): a resolve attempt has a purpose and an outcome; a revocation
    /// names exactly one grant, parcel or sealer and nothing else; suppressed
    /// refusals have a client group and a count of at least 1; an undelivered
    /// answer names an earlier record. Records that do not fit do not parse.
    pub fn fits_kind(&self) -> bool {
        let sealer_ok = self
            .sealer
            .as_deref()
            .is_none_or(|s| Revocation::from_parts("sealer", s).is_some_and(|r| r.subject() == s));
        let attempt_fields =
            self.purpose.is_none() && self.outcome.is_none() && self.scope.is_none();
        let summary_fields = self.client.is_none() && self.count.is_none();
        match self.kind {
            AuditKind::Resolve => {
                sealer_ok
                    && self.purpose.is_some()
                    && self.outcome.is_some()
                    && summary_fields
                    && self.refers_to.is_none()
            }
            AuditKind::Revoked | AuditKind::Unrevoked => {
                self.revocation().is_some()
                    && self.courier.is_none()
                    && attempt_fields
                    && summary_fields
                    && self.refers_to.is_none()
            }
            AuditKind::Suppressed => {
                self.client.as_deref().is_some_and(is_client_group)
                    && self.count.is_some_and(|n| n > 0)
                    && self.tracking_number.is_none()
                    && self.courier.is_none()
                    && self.grant.is_none()
                    && self.sealer.is_none()
                    && attempt_fields
                    && self.refers_to.is_none()
            }
            AuditKind::Undelivered => {
                sealer_ok
                    && self.refers_to.is_some_and(|r| r > 0 && r < self.seq)
                    && attempt_fields
                    && summary_fields
            }
        }
    }

    /// The revocation a [`Revoked`](AuditKind::Revoked) or
    /// [`Unrevoked`](AuditKind::Unrevoked) record names (its one subject).
    pub fn revocation(&self) -> Option<Revocation> {
        if !self.kind.is_revocation() {
            return None;
        }
        revocation_subject(
            self.grant.as_deref(),
            self.tracking_number.as_deref(),
            self.sealer.as_deref(),
        )
    }

    /// SHA-256 of [`hashed_bytes`](Self::hashed_bytes).
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.hashed_bytes()).into()
    }

    /// Whether `hash` matches the content.
    pub fn hash_matches(&self) -> bool {
        hex::encode(self.digest()) == self.hash
    }

    /// The record's unix time, when `time` is in the canonical form.
    pub fn unix_time(&self) -> Option<i64> {
        let t = OffsetDateTime::parse(&self.time, &Rfc3339).ok()?;
        (record_time(t) == self.time).then(|| t.unix_timestamp())
    }

    /// The compact JSON line (no newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The state of one instance's chain: next sequence number, last hash, last time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChain {
    instance: String,
    next_seq: u64,
    prev: [u8; 32],
    last_time: i64,
}

impl Default for AuditChain {
    fn default() -> Self {
        Self::new()
    }
}

impl AuditChain {
    /// A new chain for the instance `local`.
    pub fn new() -> Self {
        Self::for_instance("local")
    }

    /// A new, empty chain for a named instance.
    pub fn for_instance(instance: &str) -> Self {
        Self {
            instance: instance.to_owned(),
            next_seq: 1,
            prev: [0; 32],
            last_time: i64::MIN,
        }
    }

    /// Continues a chain after its last record (which must be intact).
    pub fn after(last: &AuditRecord) -> Option<Self> {
        if !last.hash_matches() {
            return None;
        }
        Some(Self {
            instance: last.instance.clone(),
            next_seq: last.seq.checked_add(1)?,
            prev: last.digest(),
            last_time: last.unix_time()?,
        })
    }

    /// The instance id.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The sequence number the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The last record's hash (zeros before the first).
    pub fn head(&self) -> [u8; 32] {
        self.prev
    }

    /// The last record's unix time (`i64::MIN` before the first).
    pub(crate) fn last_time(&self) -> i64 {
        self.last_time
    }

    /// Builds the next record and advances. Its time is the event's, or the
    /// previous record's when the clock stepped back: time never goes backwards.
    pub fn append(&mut self, event: &AuditEvent) -> AuditRecord {
        let unix = event.time.unix_timestamp().max(self.last_time);
        let time = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(event.time);
        let mut record = AuditRecord {
            seq: self.next_seq,
            instance: self.instance.clone(),
            time: record_time(time),
            kind: event.kind,
            tracking_number: event.tracking_number.clone(),
            courier: event.courier_id.clone(),
            grant: event.grant_id.map(|g| g.to_string()),
            sealer: event.sealer.map(|s| s.to_string()),
            purpose: event.purpose.map(|p| p.as_str().to_owned()),
            outcome: event.outcome,
            scope: event.scope.map(scope_text),
            client: event.client.clone(),
            count: event.count,
            refers_to: event.refers_to,
            prev: hex::encode(self.prev),
            hash: String::new(),
        };
        let digest = record.digest();
        record.hash = hex::encode(digest);
        self.next_seq = self.next_seq.saturating_add(1);
        self.prev = digest;
        self.last_time = unix;
        record
    }

    /// Produces the next record's JSON line (without newline) and advances.
    pub fn next_line(&mut self, event: &AuditEvent) -> String {
        self.append(event).to_json_line()
    }
}
