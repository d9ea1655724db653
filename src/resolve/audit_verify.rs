//! Verifying exported audit logs: one or more chains (one per instance) as JSON
//! lines, with checkpoints. A checkpoint line is `{"checkpoint": NOTE}`, NOTE
//! being a c2sp signed checkpoint note (a JSON string) over the chain's Merkle
//! tree, or, in logs written before the tree, `{"checkpoint": {…}}`, a signed
//! chain head (still verified).
//!
//! Without the `audit-log` feature only the keyless [`verify_audit_log`] is
//! here: it checks the chains and skips checkpoint notes unparsed (it never
//! vouches for checkpoints); the tree and the notes need the feature.

use std::collections::HashMap;
use std::io::BufRead;

use serde::Deserialize;

use super::audit::Outcome;
use super::audit_key::{AuditCheckpoint, AuditPublicKey};
use super::audit_kind::AuditKind;
#[cfg(feature = "audit-log")]
use super::audit_note::{SignedCheckpoint, ORIGIN_PREFIX};
use super::audit_record::AuditRecord;
#[cfg(feature = "audit-log")]
use super::audit_tree::AuditTree;
#[cfg(feature = "audit-log")]
use super::audit_witness::WitnessPublicKey;
use crate::resolve::{AuditBreak, AuditError};

/// What [`verify_audit_log_with_key`] found in an intact log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
#[cfg_attr(not(feature = "audit-log"), allow(dead_code))]
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
    /// Checkpoints cosigned by one of the witnesses (with [`AuditRules::witnesses`]).
    pub cosigned: u64,
    /// Records after their chain's last cosigned checkpoint (with witnesses).
    pub unwitnessed: u64,
}

/// What [`verify_audit_log_with`] requires of a log, beyond intact chains.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(feature = "audit-log"), allow(dead_code))]
pub struct AuditRules {
    /// The audit key: every checkpoint's log signature must verify under it.
    pub key: Option<AuditPublicKey>,
    /// Witness keys: the records must be covered by checkpoints that one of
    /// them cosigned.
    #[cfg(feature = "audit-log")]
    pub witnesses: Vec<WitnessPublicKey>,
    /// How many records of a chain may follow its last checkpoint (its last
    /// cosigned one, with witnesses) before the log is refused.
    pub allow_unwitnessed: u64,
    /// Checkpoints obtained elsewhere (from a witness): each must be a prefix of
    /// its chain in the log, so that a log cut before them is refused even when
    /// their lines were removed from it too.
    #[cfg(feature = "audit-log")]
    pub known: Vec<SignedCheckpoint>,
}

#[derive(Default)]
struct ChainState {
    expected: u64,
    prev: [u8; 32],
    last_time: i64,
    signed_through: u64,
    #[cfg(feature = "audit-log")]
    witnessed_through: u64,
    #[cfg(feature = "audit-log")]
    tree: AuditTree,
    /// The line of each record, by `seq - 1`.
    #[cfg(feature = "audit-log")]
    lines: Vec<usize>,
    /// Whether each record, by `seq - 1`, is an allowed resolve whose answer
    /// no "not delivered" record has named yet.
    deliverable: Vec<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AnyCheckpoint {
    Note(#[cfg_attr(not(feature = "audit-log"), allow(dead_code))] String),
    Head(AuditCheckpoint),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointLine {
    checkpoint: AnyCheckpoint,
}

/// Verifies a log without a key: hashes, sequence, links and time order of every
/// chain. Checkpoints are accepted unchecked. Returns the number of records.
///
/// # Errors
/// [`AuditError::Broken`] at the first broken line; [`AuditError::Io`].
pub fn verify_audit_log(reader: impl BufRead) -> Result<u64, AuditError> {
    verify_each(reader, &AuditRules::default(), |_| {}).map(|r| r.records)
}

/// Verifies a log and every checkpoint's signature under `key`. A rewritten chain
/// fails at its first checkpoint after the change; a chain cut before a checkpoint
/// fails there too.
///
/// # Errors
/// [`AuditError::Broken`] at the first broken line; [`AuditError::Io`].
#[cfg(feature = "audit-log")]
pub fn verify_audit_log_with_key(
    reader: impl BufRead,
    key: &AuditPublicKey,
) -> Result<AuditReport, AuditError> {
    let rules = AuditRules {
        key: Some(*key),
        ..AuditRules::default()
    };
    verify_each(reader, &rules, |_| {})
}

/// Verifies a log under `rules`, as `audit verify` does: every chain intact and
/// every record a leaf of its chain's tree; every checkpoint's root the tree's
/// at its size and its signature valid under the key; no checkpoint naming
/// records the log lacks; each [`AuditRules::known`] checkpoint a prefix of
/// its chain; and at most [`AuditRules::allow_unwitnessed`] records of a chain
/// after its last checkpoint (its last cosigned one, with witnesses). With a
/// key, a log without records is refused.
///
/// # Errors
/// [`AuditError::Broken`] at the first bad line (for records beyond the
/// allowance, the first record not covered); [`AuditError::Empty`];
/// [`AuditError::Witnessed`] for a known checkpoint the log contradicts;
/// [`AuditError::Io`].
#[cfg(feature = "audit-log")]
pub fn verify_audit_log_with(
    reader: impl BufRead,
    rules: &AuditRules,
) -> Result<AuditReport, AuditError> {
    let mut chains = HashMap::new();
    let mut report = verify_lines(reader, rules, &mut chains, |_| {})?;
    if rules.key.is_some() && report.records == 0 {
        return Err(AuditError::Empty);
    }
    for known in &rules.known {
        let vouched = rules.key.as_ref().is_none_or(|key| {
            known.verify(key)
                && (rules.witnesses.is_empty()
                    || rules
                        .witnesses
                        .iter()
                        .any(|w| known.cosigned_by(key, w).is_some()))
        });
        let kind = match instance_of(known).and_then(|i| chains.get(i)) {
            _ if !vouched => Some(AuditBreak::BadCheckpoint),
            None => Some(AuditBreak::Truncated),
            Some(state) => match state.tree.root_at(known.size()) {
                None => Some(AuditBreak::Truncated),
                Some(root) if root != known.root() => Some(AuditBreak::BadCheckpoint),
                Some(_) => None,
            },
        };
        if let Some(kind) = kind {
            return Err(AuditError::Witnessed {
                origin: known.origin().to_owned(),
                size: known.size(),
                kind,
            });
        }
    }
    // The first record beyond the allowance, over all chains, by line.
    let witnessing = !rules.witnesses.is_empty();
    let mut first_bad: Option<usize> = None;
    for state in chains.values().filter(|_| rules.key.is_some()) {
        let through = if witnessing {
            state.witnessed_through
        } else {
            state.signed_through
        };
        let allowed = through.saturating_add(rules.allow_unwitnessed);
        if state.tree.size() > allowed {
            let line = usize::try_from(through)
                .ok()
                .and_then(|i| state.lines.get(i))
                .copied()
                .unwrap_or(0);
            first_bad = Some(first_bad.map_or(line, |l| l.min(line)));
        }
    }
    if let Some(line) = first_bad {
        let kind = if witnessing {
            AuditBreak::Unwitnessed
        } else {
            AuditBreak::Unsigned
        };
        return Err(AuditError::Broken { line, kind });
    }
    report.unwitnessed = if witnessing {
        chains
            .values()
            .map(|s| s.tree.size().saturating_sub(s.witnessed_through))
            .sum()
    } else {
        0
    };
    Ok(report)
}

/// The chain a checkpoint note names, from its origin.
#[cfg(feature = "audit-log")]
fn instance_of(cp: &SignedCheckpoint) -> Option<&str> {
    cp.origin().strip_prefix(ORIGIN_PREFIX)
}

/// The one audit-log parser: verifies as above and hands each record, once its
/// own line checks out, to `each`. A later line can still break the log, so a
/// caller acts on what it was handed only when this returns `Ok`.
pub(crate) fn verify_each(
    reader: impl BufRead,
    rules: &AuditRules,
    each: impl FnMut(&AuditRecord),
) -> Result<AuditReport, AuditError> {
    verify_lines(reader, rules, &mut HashMap::new(), each)
}

fn verify_lines(
    reader: impl BufRead,
    rules: &AuditRules,
    chains: &mut HashMap<String, ChainState>,
    mut each: impl FnMut(&AuditRecord),
) -> Result<AuditReport, AuditError> {
    let key = rules.key.as_ref();
    let mut report = AuditReport::default();
    let mut lines = reader.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let line = line?;
        let n = i.saturating_add(1);
        let broken = |kind| AuditError::Broken { line: n, kind };
        if line.starts_with("{\"checkpoint\"") {
            let cp: CheckpointLine =
                serde_json::from_str(&line).map_err(|_| broken(AuditBreak::Malformed))?;
            match cp.checkpoint {
                AnyCheckpoint::Head(cp) => {
                    check_head(&cp, chains, key, &mut report).map_err(broken)?
                }
                #[cfg(feature = "audit-log")]
                AnyCheckpoint::Note(text) => {
                    let cp = SignedCheckpoint::from_text(&text)
                        .map_err(|_| broken(AuditBreak::Malformed))?;
                    check_note(&cp, chains, rules, &mut report).map_err(broken)?;
                }
                // Without the tree a note cannot be checked: skipped, never vouched for.
                #[cfg(not(feature = "audit-log"))]
                AnyCheckpoint::Note(_) => {}
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
        if let Some(r) = record.refers_to {
            // An undelivered answer names an earlier allowed record, once.
            let named = usize::try_from(r.saturating_sub(1))
                .ok()
                .and_then(|i| state.deliverable.get_mut(i))
                .filter(|d| **d)
                .ok_or(broken(AuditBreak::BadReference))?;
            *named = false;
        }
        state.prev = record.digest();
        #[cfg(feature = "audit-log")]
        {
            state.tree.push(&record);
            state.lines.push(n);
        }
        state
            .deliverable
            .push(record.kind == AuditKind::Resolve && record.outcome == Some(Outcome::Allowed));
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

/// A legacy checkpoint: a signed head right after the record it names.
fn check_head(
    cp: &AuditCheckpoint,
    chains: &mut HashMap<String, ChainState>,
    key: Option<&AuditPublicKey>,
    report: &mut AuditReport,
) -> Result<(), AuditBreak> {
    let state = chains.get_mut(&cp.instance).ok_or(AuditBreak::Truncated)?;
    if cp.seq >= state.expected {
        return Err(AuditBreak::Truncated);
    }
    let valid = key.is_none_or(|k| cp.verify(k));
    if !valid || cp.seq.saturating_add(1) != state.expected || cp.head != hex::encode(state.prev) {
        return Err(AuditBreak::BadCheckpoint);
    }
    state.signed_through = cp.seq;
    if key.is_some() {
        report.checkpoints = report.checkpoints.saturating_add(1);
    }
    Ok(())
}

/// A checkpoint note: its root must be the chain's tree's at its size.
#[cfg(feature = "audit-log")]
fn check_note(
    cp: &SignedCheckpoint,
    chains: &mut HashMap<String, ChainState>,
    rules: &AuditRules,
    report: &mut AuditReport,
) -> Result<(), AuditBreak> {
    let state = instance_of(cp)
        .and_then(|i| chains.get_mut(i))
        .ok_or(AuditBreak::Truncated)?;
    let root = state.tree.root_at(cp.size()).ok_or(AuditBreak::Truncated)?;
    if cp.size() == 0 || root != cp.root() {
        return Err(AuditBreak::BadCheckpoint);
    }
    if let Some(key) = &rules.key {
        if !cp.verify(key) {
            return Err(AuditBreak::BadCheckpoint);
        }
        report.checkpoints = report.checkpoints.saturating_add(1);
        if rules
            .witnesses
            .iter()
            .any(|w| cp.cosigned_by(key, w).is_some())
        {
            report.cosigned = report.cosigned.saturating_add(1);
            state.witnessed_through = state.witnessed_through.max(cp.size());
        }
    }
    state.signed_through = state.signed_through.max(cp.size());
    Ok(())
}
