//! Verifying exported audit logs: one or more chains (one per instance) as JSON
//! lines, with signed checkpoints.

use std::collections::HashMap;
use std::io::BufRead;

use serde::Deserialize;

use super::audit_key::{AuditCheckpoint, AuditPublicKey};
use super::audit_record::AuditRecord;
use crate::resolve::{AuditBreak, AuditError};

/// What [`verify_audit_log_with_key`] found in an intact log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AuditReport {
    /// Records, all chains together.
    pub records: u64,
    /// Chains (instances).
    pub chains: u64,
    /// Checkpoints whose signature verified.
    pub checkpoints: u64,
    /// Records after their chain's last checkpoint: not yet signed, so a cut
    /// there would not be detected.
    pub unsigned: u64,
}

#[derive(Default)]
struct ChainState {
    expected: u64,
    prev: [u8; 32],
    last_time: i64,
    signed_through: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointLine {
    checkpoint: AuditCheckpoint,
}

/// Verifies a log without a key: hashes, sequence, links and time order of every
/// chain. Checkpoints are accepted unchecked. Returns the number of records.
///
/// # Errors
/// [`AuditError::Broken`] at the first broken line; [`AuditError::Io`].
pub fn verify_audit_log(reader: impl BufRead) -> Result<u64, AuditError> {
    verify_each(reader, None, |_| {}).map(|r| r.records)
}

/// Verifies a log and every checkpoint's signature under `key`. A rewritten chain
/// fails at its first checkpoint after the change; a chain cut before a checkpoint
/// fails there too.
///
/// # Errors
/// [`AuditError::Broken`] at the first broken line; [`AuditError::Io`].
pub fn verify_audit_log_with_key(
    reader: impl BufRead,
    key: &AuditPublicKey,
) -> Result<AuditReport, AuditError> {
    verify_each(reader, Some(key), |_| {})
}

/// The one audit-log parser: verifies as above and hands each record, once its
/// own line checks out, to `each`. A later line can still break the log, so a
/// caller acts on what it was handed only when this returns `Ok`.
pub(crate) fn verify_each(
    reader: impl BufRead,
    key: Option<&AuditPublicKey>,
    mut each: impl FnMut(&AuditRecord),
) -> Result<AuditReport, AuditError> {
    let mut chains: HashMap<String, ChainState> = HashMap::new();
    let mut report = AuditReport::default();
    let mut lines = reader.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let line = line?;
        let n = i.saturating_add(1);
        let broken = |kind| AuditError::Broken { line: n, kind };
        if line.starts_with("{\"checkpoint\"") {
            let cp: CheckpointLine =
                serde_json::from_str(&line).map_err(|_| broken(AuditBreak::Malformed))?;
            let cp = cp.checkpoint;
            let state = chains
                .get_mut(&cp.instance)
                .ok_or(broken(AuditBreak::Truncated))?;
            if cp.seq >= state.expected {
                return Err(broken(AuditBreak::Truncated));
            }
            let valid = key.is_none_or(|k| cp.verify(k));
            if !valid
                || cp.seq.saturating_add(1) != state.expected
                || cp.head != hex::encode(state.prev)
            {
                return Err(broken(AuditBreak::BadCheckpoint));
            }
            state.signed_through = cp.seq;
            if key.is_some() {
                report.checkpoints = report.checkpoints.saturating_add(1);
            }
            continue;
        }
        let record: AuditRecord =
            serde_json::from_str(&line).map_err(|_| broken(AuditBreak::Malformed))?;
        let time = record.unix_time().ok_or(broken(AuditBreak::Malformed))?;
        if !record.hash_matches() {
            return Err(broken(AuditBreak::Edited));
        }
        let state = chains
            .entry(record.instance.clone())
            .or_insert_with(|| ChainState {
                expected: 1,
                last_time: i64::MIN,
                ..ChainState::default()
            });
        if record.seq > state.expected {
            let next_seq = lines
                .peek()
                .and_then(|(_, l)| l.as_ref().ok())
                .and_then(|l| serde_json::from_str::<AuditRecord>(l).ok())
                .map(|r| r.seq);
            let kind = if next_seq == Some(state.expected) {
                AuditBreak::Reordered
            } else {
                AuditBreak::Dropped
            };
            return Err(broken(kind));
        }
        if record.seq < state.expected {
            return Err(broken(AuditBreak::Inserted));
        }
        if record.prev != hex::encode(state.prev) {
            return Err(broken(AuditBreak::Unchained));
        }
        if time < state.last_time {
            return Err(broken(AuditBreak::TimeWentBack));
        }
        state.prev = record.digest();
        state.expected = state.expected.saturating_add(1);
        state.last_time = time;
        each(&record);
        report.records = report.records.saturating_add(1);
    }
    report.chains = u64::try_from(chains.len()).unwrap_or(u64::MAX);
    report.unsigned = chains
        .values()
        .map(|s| {
            s.expected
                .saturating_sub(1)
                .saturating_sub(s.signed_through)
        })
        .sum();
    Ok(report)
}
