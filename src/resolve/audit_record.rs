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
//! ```

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use super::audit::AuditEvent;
use crate::Scope;

const DOMAIN: &[u8] = b"waybill-redact audit v2\0";

/// One audit record, as written to a JSON line or a database row. Field order
/// is the JSON order. It holds no personal data.
///
/// Not `#[non_exhaustive]`, on purpose: the fields are the log's format, fixed
/// by the hash over them (`docs/TOKEN.md`, "Audit records", domain
/// `waybill-redact audit v2`). A new field is a new format version, a breaking
/// change either way; stores build records field by field from their rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// Position in its chain, from 1.
    pub seq: u64,
    /// The resolver instance whose chain this is.
    pub instance: String,
    /// Server time, RFC 3339 UTC to the second (`2026-11-28T02:00:00Z`); never
    /// earlier than the previous record's.
    pub time: String,
    /// The token's tracking number, when the token parsed.
    pub tracking_number: Option<String>,
    /// The grant's courier id, when the grant parsed (a claim unless allowed).
    pub courier: Option<String>,
    /// The grant id in hex, when the grant parsed.
    pub grant: Option<String>,
    /// `delivery`, `call`, `return` or `after-sales`.
    pub purpose: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    /// The full denial code, when denied.
    pub reason: Option<String>,
    /// The fields disclosed, comma-separated (`name,phone,address,items` order), when allowed.
    pub scope: Option<String>,
    /// The previous record's hash in hex (64 zeros for the first).
    pub prev: String,
    /// This record's hash in hex.
    pub hash: String,
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
            Some(self.purpose.as_str()),
            Some(self.outcome.as_str()),
            self.reason.as_deref(),
            self.scope.as_deref(),
        ] {
            field(&mut b, value);
        }
        b
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
            tracking_number: event.tracking_number.clone(),
            courier: event.courier_id.clone(),
            grant: event.grant_id.map(|g| g.to_string()),
            purpose: event.purpose.as_str().to_owned(),
            outcome: event.outcome.as_str().to_owned(),
            reason: event.outcome.reason().map(|r| r.as_str().to_owned()),
            scope: event.scope.map(scope_text),
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
