//! The hash-chained audit log of resolve attempts.
//!
//! Each record is one JSON line. Its `hash` is the SHA-256 of the record's JSON
//! without the `hash` field, and its `prev` is the previous record's `hash` (64
//! zeros for the first). Sequence numbers start at 1. Records carry no personal
//! data: tracking number, courier id, grant id, purpose, outcome and time only.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::{AuditBreak, AuditError};
use crate::{GrantId, Purpose};

/// What happened to one resolve attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The disclosure was returned.
    Allowed,
    /// Refused, with the [`Denied::code`](crate::Denied::code).
    Denied(&'static str),
}

/// One resolve attempt, as handed to an [`AuditSink`]. Holds no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The request time.
    pub time: OffsetDateTime,
    /// The token's tracking number, when the token could be parsed.
    pub tracking_number: Option<String>,
    /// The grant's courier id, when the grant could be parsed.
    pub courier_id: Option<String>,
    /// The grant id, when the grant could be parsed.
    pub grant_id: Option<GrantId>,
    /// The stated purpose.
    pub purpose: Purpose,
    /// Allowed, or denied and why.
    pub outcome: Outcome,
}

/// Where audit records go. Implement it for a database or a log service; use
/// [`AuditChain`] to produce the chained lines.
pub trait AuditSink: Send + Sync {
    /// Appends one record durably before returning.
    ///
    /// # Errors
    /// Any failure to store it; the resolver then discloses nothing.
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError>;
}

/// One record on disk; field order is the JSON order and is part of the format.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Record {
    seq: u64,
    time: String,
    tracking_number: Option<String>,
    courier: Option<String>,
    grant: Option<String>,
    purpose: String,
    outcome: String,
    reason: Option<String>,
    prev: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    hash: String,
}

impl Record {
    /// SHA-256 of the JSON of the record without its hash.
    fn digest(&self) -> [u8; 32] {
        let mut body = self.clone();
        body.hash.clear();
        let json = serde_json::to_vec(&body).unwrap_or_default();
        Sha256::digest(json).into()
    }
}

/// The state of a chain: the next sequence number and the last record's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChain {
    next_seq: u64,
    prev: [u8; 32],
}

impl Default for AuditChain {
    fn default() -> Self {
        Self::new()
    }
}

impl AuditChain {
    /// A chain for an empty log.
    pub fn new() -> Self {
        Self {
            next_seq: 1,
            prev: [0; 32],
        }
    }

    /// Continues the chain after an existing log's last line.
    ///
    /// # Errors
    /// [`AuditError::Broken`] with [`AuditBreak::Malformed`] or
    /// [`AuditBreak::Edited`] when that line is not an intact record.
    pub fn resume(last_line: &str, line_number: usize) -> Result<Self, AuditError> {
        let broken = |kind| AuditError::Broken {
            line: line_number,
            kind,
        };
        let record: Record =
            serde_json::from_str(last_line).map_err(|_| broken(AuditBreak::Malformed))?;
        let digest = record.digest();
        if hex::encode(digest) != record.hash {
            return Err(broken(AuditBreak::Edited));
        }
        Ok(Self {
            next_seq: record.seq.saturating_add(1),
            prev: digest,
        })
    }

    /// Produces the next record's JSON line (without newline) and advances.
    pub fn next_line(&mut self, event: &AuditEvent) -> String {
        let (outcome, reason) = match event.outcome {
            Outcome::Allowed => ("allowed", None),
            Outcome::Denied(code) => ("denied", Some(code.to_owned())),
        };
        let time = event
            .time
            .to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_default();
        let mut record = Record {
            seq: self.next_seq,
            time,
            tracking_number: event.tracking_number.clone(),
            courier: event.courier_id.clone(),
            grant: event.grant_id.map(|g| g.to_string()),
            purpose: event.purpose.as_str().to_owned(),
            outcome: outcome.to_owned(),
            reason,
            prev: hex::encode(self.prev),
            hash: String::new(),
        };
        let digest = record.digest();
        record.hash = hex::encode(digest);
        self.next_seq = self.next_seq.saturating_add(1);
        self.prev = digest;
        serde_json::to_string(&record).unwrap_or_default()
    }
}

/// Keeps the log in memory: for tests and short-lived tools.
#[derive(Debug, Default)]
pub struct MemorySink {
    inner: Mutex<(AuditChain, Vec<String>)>,
}

impl MemorySink {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The JSON lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.inner.lock().map(|g| g.1.clone()).unwrap_or_default()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let line = guard.0.next_line(event);
        guard.1.push(line);
        Ok(())
    }
}

/// An append-only JSON-lines file; every record is flushed with `fsync` before
/// [`record`](AuditSink::record) returns. Reopening continues the chain.
#[derive(Debug)]
pub struct JsonLinesFileSink {
    inner: Mutex<(AuditChain, File)>,
}

impl JsonLinesFileSink {
    /// Opens (or creates) the log file and continues its chain.
    ///
    /// # Errors
    /// [`AuditError::Io`], or [`AuditError::Broken`] when the last record is not
    /// intact (for example a partial line after a crash): repair the log first.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let chain = match text.lines().enumerate().last() {
            None => AuditChain::new(),
            Some((i, _)) if !text.ends_with('\n') => {
                return Err(AuditError::Broken {
                    line: i + 1,
                    kind: AuditBreak::Malformed,
                })
            }
            Some((i, last)) => AuditChain::resume(last, i + 1)?,
        };
        Ok(Self {
            inner: Mutex::new((chain, file)),
        })
    }
}

impl AuditSink for JsonLinesFileSink {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (chain, file) = &mut *guard;
        // Advance a copy; commit it only once the line is on disk.
        let mut next = chain.clone();
        let mut line = next.next_line(event);
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        *chain = next;
        Ok(())
    }
}

/// One attempt that passed the rate limiter, as found in a log.
pub(crate) struct Use {
    pub(crate) courier: String,
    pub(crate) grant: GrantId,
    pub(crate) time: u64,
}

/// Verifies a log and returns the attempts that consumed rate and quota.
pub(crate) fn consumed_uses(reader: impl BufRead) -> Result<Vec<Use>, AuditError> {
    let lines = reader.lines().collect::<Result<Vec<_>, _>>()?;
    verify_audit_log(lines.join("\n").as_bytes())?;
    Ok(lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Record>(l).ok())
        .filter(|r| r.outcome == "allowed" || r.reason.as_deref() == Some("unopenable"))
        .filter_map(|r| {
            let time = OffsetDateTime::parse(&r.time, &Rfc3339)
                .ok()?
                .unix_timestamp();
            Some(Use {
                courier: r.courier?,
                grant: r.grant?.parse().ok()?,
                time: u64::try_from(time).ok()?,
            })
        })
        .collect())
}

/// Verifies a whole audit log and returns its number of records.
///
/// # Errors
/// [`AuditError::Broken`] at the first broken record: edited (content does not
/// match its hash), unchained (does not follow the previous record's hash),
/// dropped, reordered, inserted, or malformed; [`AuditError::Io`] when reading fails.
pub fn verify_audit_log(reader: impl BufRead) -> Result<u64, AuditError> {
    let lines = reader.lines().collect::<Result<Vec<_>, _>>()?;
    let mut prev = [0u8; 32];
    let mut expected: u64 = 1;
    for (i, line) in lines.iter().enumerate() {
        let broken = |kind| AuditError::Broken { line: i + 1, kind };
        let record: Record =
            serde_json::from_str(line).map_err(|_| broken(AuditBreak::Malformed))?;
        let digest = record.digest();
        if hex::encode(digest) != record.hash {
            return Err(broken(AuditBreak::Edited));
        }
        if record.seq > expected {
            let next_seq = lines
                .get(i + 1)
                .and_then(|l| serde_json::from_str::<Record>(l).ok())
                .map(|r| r.seq);
            let kind = if next_seq == Some(expected) {
                AuditBreak::Reordered
            } else {
                AuditBreak::Dropped
            };
            return Err(broken(kind));
        }
        if record.seq < expected {
            return Err(broken(AuditBreak::Inserted));
        }
        if record.prev != hex::encode(prev) {
            return Err(broken(AuditBreak::Unchained));
        }
        prev = digest;
        expected = expected.saturating_add(1);
    }
    Ok(expected.saturating_sub(1))
}
