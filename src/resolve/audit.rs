//! Audit events and sinks. The record format and its hash are in
//! `audit_record`, checkpoints in `audit_key`, verification in `audit_verify`.
//! Records carry no personal data: tracking number, courier id, grant id,
//! purpose, outcome, scope disclosed and server time only.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Mutex;

use time::OffsetDateTime;

use super::audit_kind::AuditKind;
use super::audit_record::{AuditChain, AuditRecord};
use super::audit_state::{Beside, RestoredFrom};
use super::denial::{DenialReason, UnknownDenialReason};
use super::ratelimit::TokenBucket;
use super::revocation::Revocation;
use crate::resolve::{AuditBreak, AuditError};
use crate::{GrantId, Purpose, Scope, SealerId};

/// What happened to one resolve attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The disclosure was returned.
    Allowed,
    /// Refused, and why ([`Denied::reason`](crate::Denied::reason)).
    Denied(DenialReason),
}

impl Outcome {
    /// The audit log's `outcome` text: `allowed` or `denied`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied(_) => "denied",
        }
    }

    /// The denial reason, when denied.
    pub const fn reason(self) -> Option<DenialReason> {
        match self {
            Self::Allowed => None,
            Self::Denied(reason) => Some(reason),
        }
    }

    /// Reads an outcome back from the audit log's `outcome` and `reason` texts
    /// (the inverse of [`as_str`](Self::as_str) and [`reason`](Self::reason)).
    ///
    /// # Errors
    /// An unknown outcome or reason, a denial without a reason, or an allowed
    /// attempt with one.
    pub fn from_parts(outcome: &str, reason: Option<&str>) -> Result<Self, UnknownDenialReason> {
        match (outcome, reason) {
            ("allowed", None) => Ok(Self::Allowed),
            ("denied", Some(reason)) => reason.parse().map(Self::Denied),
            _ => Err(UnknownDenialReason),
        }
    }

    /// Whether the attempt passed the rate limiter and so consumed rate and
    /// quota: allowed ones and those denied afterwards
    /// ([`DenialReason::consumes_quota`]).
    pub const fn consumed_quota(self) -> bool {
        match self {
            Self::Allowed => true,
            Self::Denied(reason) => reason.consumes_quota(),
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Allowed => f.write_str("allowed"),
            Self::Denied(reason) => write!(f, "denied ({reason})"),
        }
    }
}

/// One audit event, as handed to an [`AuditSink`]: a resolve attempt, or an
/// event of another [`AuditKind`]. Holds no personal data.
///
/// Built by the resolver (attempts) and by the service (the other kinds);
/// [`AuditEvent::new`], the kinds' constructors and the `with_*` methods build
/// one for testing a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEvent {
    /// The resolver's time when the attempt was checked (the event happened).
    pub time: OffsetDateTime,
    /// What the event is: a resolve attempt unless built otherwise.
    pub kind: AuditKind,
    /// The token's tracking number, when the token could be parsed; a parcel
    /// revoked.
    pub tracking_number: Option<String>,
    /// The grant's courier id, when the grant could be parsed.
    pub courier_id: Option<String>,
    /// The grant id, when the grant could be parsed; a grant revoked.
    pub grant_id: Option<GrantId>,
    /// The token's sealer, when the resolver learned it (suites 2 and 3); a
    /// sealer revoked.
    pub sealer: Option<SealerId>,
    /// The stated purpose (resolve attempts only).
    pub purpose: Option<Purpose>,
    /// Allowed, or denied and why (resolve attempts only).
    pub outcome: Option<Outcome>,
    /// The fields disclosed, when allowed.
    pub scope: Option<Scope>,
    /// The client address group of suppressed refusals.
    pub client: Option<String>,
    /// How many refusals were suppressed.
    pub count: Option<u64>,
    /// The `seq` of the allowed record whose answer was not delivered.
    pub refers_to: Option<u64>,
}

impl AuditEvent {
    /// A resolve attempt at `time` for `purpose` with this outcome, naming no
    /// token, grant or scope.
    pub fn new(time: OffsetDateTime, purpose: Purpose, outcome: Outcome) -> Self {
        Self {
            purpose: Some(purpose),
            outcome: Some(outcome),
            ..Self::of_kind(time, AuditKind::Resolve)
        }
    }

    fn of_kind(time: OffsetDateTime, kind: AuditKind) -> Self {
        Self {
            time,
            kind,
            tracking_number: None,
            courier_id: None,
            grant_id: None,
            sealer: None,
            purpose: None,
            outcome: None,
            scope: None,
            client: None,
            count: None,
            refers_to: None,
        }
    }

    /// A revocation that came into force at `time` ([`AuditKind::Revoked`]),
    /// or, with `lifted`, one that was lifted ([`AuditKind::Unrevoked`]).
    pub fn revocation(time: OffsetDateTime, revocation: &Revocation, lifted: bool) -> Self {
        let kind = if lifted {
            AuditKind::Unrevoked
        } else {
            AuditKind::Revoked
        };
        let mut e = Self::of_kind(time, kind);
        match revocation {
            Revocation::Grant(id) => e.grant_id = Some(*id),
            Revocation::Parcel(t) => e.tracking_number = Some(t.clone()),
            // Sealer revocations hold a validated id (`Revocation::from_parts`).
            Revocation::Sealer(s) => e.sealer = s.parse().ok(),
        }
        e
    }

    /// `count` refused attempts from the address group `client` that were not
    /// audited one by one ([`AuditKind::Suppressed`]). `client` is an IPv4
    /// address or an IPv6 /64 written `2001:db8:1:2::/64`.
    pub fn suppressed(time: OffsetDateTime, client: impl Into<String>, count: u64) -> Self {
        Self {
            client: Some(client.into()),
            count: Some(count),
            ..Self::of_kind(time, AuditKind::Suppressed)
        }
    }

    /// The answer of the allowed record `seq` of the same chain was not
    /// delivered ([`AuditKind::Undelivered`]). Add its tracking number and
    /// grant with the `with_*` methods.
    pub fn undelivered(time: OffsetDateTime, seq: u64) -> Self {
        Self {
            refers_to: Some(seq),
            ..Self::of_kind(time, AuditKind::Undelivered)
        }
    }

    /// With the token's tracking number.
    #[must_use]
    pub fn with_tracking_number(mut self, tracking_number: impl Into<String>) -> Self {
        self.tracking_number = Some(tracking_number.into());
        self
    }

    /// With the grant's courier id and grant id.
    #[must_use]
    pub fn with_grant(mut self, courier_id: impl Into<String>, grant_id: GrantId) -> Self {
        self.courier_id = Some(courier_id.into());
        self.grant_id = Some(grant_id);
        self
    }

    /// With the token's sealer.
    #[must_use]
    pub fn with_sealer(mut self, sealer: SealerId) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// With the fields disclosed.
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Whether the attempt passed the rate limiter and so consumed rate and quota:
    /// allowed ones and those denied afterwards as unopenable or issued in the future.
    /// Events of other kinds consume nothing.
    pub fn consumed_quota(&self) -> bool {
        self.kind == AuditKind::Resolve && self.outcome.is_some_and(Outcome::consumed_quota)
    }
}

/// Where audit records go. Implement it for a database or a log service; use
/// [`AuditChain`] to produce the chained records.
pub trait AuditSink: Send + Sync {
    /// Appends one record durably before returning.
    ///
    /// # Errors
    /// Any failure to store it; the resolver then discloses nothing.
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError>;
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

/// An append-only JSON-lines file, created owner-only (0600); every record is
/// flushed with `fsync` before [`record`](AuditSink::record) returns. Reopening
/// reads only the last record to continue the chain.
///
/// Opened with [`open_with_limiter`](Self::open_with_limiter), it also keeps
/// the rate and quota counters in a state file beside the log (`LOG.head`), so
/// that reopening a long log does not replay it whole. One process writes a log
/// at a time.
#[derive(Debug)]
pub struct JsonLinesFileSink {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    chain: AuditChain,
    file: File,
    beside: Option<Beside>,
}

/// How far from the end a reopen looks for the last record.
const TAIL: u64 = 64 * 1024;

impl JsonLinesFileSink {
    /// Opens (or creates) the log file and continues its chain.
    ///
    /// # Errors
    /// [`AuditError::Io`], or [`AuditError::Broken`] when the last record is not
    /// intact (for example a partial line after a crash): repair the log first.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let (chain, file, _) = open_log(path.as_ref())?;
        Ok(Self {
            inner: Mutex::new(Inner {
                chain,
                file,
                beside: None,
            }),
        })
    }

    /// Opens (or creates) the log file, continues its chain, and sets `limiter`
    /// to the rate and quota use the log records, so that quotas hold across
    /// runs. The counters come from the state file beside the log (`LOG.head`)
    /// when its length and last record match the log's; otherwise the log is
    /// verified and replayed whole, and the state file written anew. The state
    /// file is rewritten by [`save_state`](Self::save_state), and on drop.
    ///
    /// The state file is trusted as far as the log's own permissions are: it
    /// does not make `audit verify` unnecessary.
    ///
    /// # Errors
    /// As [`open`](Self::open); and, when the log is replayed, [`AuditError::Broken`]
    /// at its first broken line.
    pub fn open_with_limiter(
        path: impl AsRef<Path>,
        limiter: &TokenBucket,
    ) -> Result<(Self, RestoredFrom), AuditError> {
        let path = path.as_ref();
        let (chain, file, len) = open_log(path)?;
        let (beside, from) = Beside::open(path, len, &chain, limiter.empty_like())?;
        limiter.copy_counters_from(beside.counters());
        let sink = Self {
            inner: Mutex::new(Inner {
                chain,
                file,
                beside: Some(beside),
            }),
        };
        Ok((sink, from))
    }

    /// Writes the state file beside the log, when opened with
    /// [`open_with_limiter`](Self::open_with_limiter) and records were added
    /// since it was last written. Records are durable without it; a state file
    /// that was not saved only makes the next open replay the log.
    ///
    /// # Errors
    /// [`AuditError::Io`].
    pub fn save_state(&self) -> Result<(), AuditError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { chain, beside, .. } = &mut *guard;
        beside.as_mut().map_or(Ok(()), |b| b.save(chain))
    }
}

impl Drop for JsonLinesFileSink {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(beside) = &mut inner.beside {
            let _ = beside.save(&inner.chain);
        }
    }
}

/// Opens (or creates, 0600) a log for appending; returns the chain continued
/// after its last record, the file, and its length.
fn open_log(path: &Path) -> Result<(AuditChain, File, u64), AuditError> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL)))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    let broken = AuditError::Broken {
        line: 0,
        kind: AuditBreak::Malformed,
    };
    let chain = if tail.is_empty() {
        AuditChain::new()
    } else if tail.last() != Some(&b'\n') {
        return Err(broken);
    } else {
        let text = core::str::from_utf8(&tail).map_err(|_| broken)?;
        let last = text
            .lines()
            .rev()
            .find(|l| !l.starts_with("{\"checkpoint\""))
            .unwrap_or_default();
        let record: AuditRecord = serde_json::from_str(last).map_err(|_| AuditError::Broken {
            line: 0,
            kind: AuditBreak::Malformed,
        })?;
        AuditChain::after(&record).ok_or(AuditError::Broken {
            line: 0,
            kind: AuditBreak::Edited,
        })?
    };
    Ok((chain, file, len))
}

impl AuditSink for JsonLinesFileSink {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner {
            chain,
            file,
            beside,
        } = &mut *guard;
        // Advance a copy; commit it only once the line is on disk.
        let mut next = chain.clone();
        let record = next.append(event);
        let mut line = record.to_json_line();
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        *chain = next;
        if let Some(beside) = beside {
            beside.appended(&record, line.len());
        }
        Ok(())
    }
}

/// One attempt that passed the rate limiter, as found in a log.
pub(crate) struct Use {
    pub(crate) courier: String,
    pub(crate) grant: GrantId,
    pub(crate) time: u64,
}

/// The attempt a record stands for, when it passed the rate limiter and so
/// consumed rate and quota (the record-side twin of [`AuditEvent::consumed_quota`]).
pub(crate) fn consumed_use(record: &AuditRecord) -> Option<Use> {
    if record.kind != AuditKind::Resolve || !record.outcome.is_some_and(Outcome::consumed_quota) {
        return None;
    }
    Some(Use {
        time: u64::try_from(record.unix_time()?).ok()?,
        courier: record.courier.clone()?,
        grant: record.grant.as_deref()?.parse().ok()?,
    })
}

/// Verifies a log with the same parser as `audit verify` and returns the
/// attempts that consumed rate and quota.
pub(crate) fn consumed_uses(reader: impl BufRead) -> Result<Vec<Use>, AuditError> {
    let mut uses = Vec::new();
    super::audit_verify::verify_each(reader, &Default::default(), |r| {
        uses.extend(consumed_use(r))
    })?;
    Ok(uses)
}
