//! The embedded store: one SQLite file in WAL mode, one writer thread that
//! commits whatever queued since its last commit (`synchronous=FULL`: a commit
//! is on disk before any job of its batch is answered).
//!
//! One node owns the file, so rate and quota are decided in memory, at once,
//! and the changed counters are stored in the transaction that commits the
//! audit records: a request is answered only after that commit, so a crash
//! forgets only claims that were never answered.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rusqlite::{params, Connection, Transaction};
use tokio::sync::mpsc;
use waybill_redact::{
    AuditCheckpoint, AuditKind, AuditRecord, ReplayGuard, Revocation, SignedCheckpoint,
    ORIGIN_PREFIX,
};

use crate::chain::{
    attempt_columns, attempt_from_columns, export_lines, with_cosignatures, ChainState, Rows,
};
use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::revocation_log::{change_events, intact, RevocationChange};
use crate::store::{
    allowed_grants, drain, now_ms, Batch, BoxFuture, Changed, Checkpointing, Claim, Counters,
    Decision, Job, Queue, RateParams, ResolverStore, Undelivered,
};

/// Versioned schema; each entry is applied once, in order, at open.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE revocations (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL,
    created_at INTEGER NOT NULL, UNIQUE (kind, subject));
CREATE TABLE quota (
    grant_id TEXT PRIMARY KEY, used INTEGER NOT NULL, granted INTEGER NOT NULL,
    expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE rate (
    courier TEXT PRIMARY KEY, tat INTEGER NOT NULL, granted INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE audit (
    instance TEXT NOT NULL, seq INTEGER NOT NULL, time TEXT NOT NULL,
    tracking_number TEXT, courier TEXT, grant_id TEXT, purpose TEXT NOT NULL,
    outcome TEXT NOT NULL, reason TEXT, scope TEXT, prev TEXT NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (instance, seq)) WITHOUT ROWID;
CREATE TABLE audit_checkpoints (
    instance TEXT NOT NULL, seq INTEGER NOT NULL, head TEXT NOT NULL, time TEXT NOT NULL,
    signature TEXT NOT NULL, PRIMARY KEY (instance, seq)) WITHOUT ROWID;
CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
",
    r"
CREATE TABLE seen_nonces (nonce BLOB PRIMARY KEY, keep_until INTEGER NOT NULL) WITHOUT ROWID;
",
    // The transparency log: checkpoint notes over each chain's tree, and the
    // witnesses' cosignature lines. Append-only, as the records are.
    r"
CREATE TABLE audit_notes (
    instance TEXT NOT NULL, size INTEGER NOT NULL, note TEXT NOT NULL,
    PRIMARY KEY (instance, size)) WITHOUT ROWID;
CREATE TABLE audit_cosignatures (
    instance TEXT NOT NULL, size INTEGER NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL,
    PRIMARY KEY (instance, size, witness)) WITHOUT ROWID;
CREATE TRIGGER audit_notes_append_only_u BEFORE UPDATE ON audit_notes
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_notes_append_only_d BEFORE DELETE ON audit_notes
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_cosignatures_append_only_u BEFORE UPDATE ON audit_cosignatures
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_cosignatures_append_only_d BEFORE DELETE ON audit_cosignatures
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_checkpoints_append_only_u BEFORE UPDATE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_checkpoints_append_only_d BEFORE DELETE ON audit_checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
",
    // Record kinds (`docs/AUDIT.md`): NULL on a resolve attempt's row.
    r"
ALTER TABLE audit ADD COLUMN kind TEXT;
ALTER TABLE audit ADD COLUMN sealer TEXT;
ALTER TABLE audit ADD COLUMN client TEXT;
ALTER TABLE audit ADD COLUMN count INTEGER;
ALTER TABLE audit ADD COLUMN refers_to INTEGER;
CREATE INDEX audit_kinds ON audit (kind) WHERE kind IS NOT NULL;
",
];

const NONCE_SQL: &str = "INSERT OR IGNORE INTO seen_nonces (nonce, keep_until) VALUES (?1, ?2)";

// The counters as decided in memory (the `granted` columns are no longer used).
const RATE_SQL: &str = "INSERT INTO rate (courier, tat, granted) VALUES (?1, ?2, 0)
    ON CONFLICT (courier) DO UPDATE SET tat = excluded.tat";

const QUOTA_SQL: &str =
    "INSERT INTO quota (grant_id, used, granted, expires_at) VALUES (?1, ?2, 0, ?3)
    ON CONFLICT (grant_id) DO UPDATE SET used = excluded.used";

const INSERT_AUDIT: &str = "INSERT INTO audit (instance, seq, time, tracking_number, courier,
    grant_id, purpose, outcome, reason, scope, prev, hash, kind, sealer, client, count, refers_to)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

const INSERT_NOTE: &str = "INSERT INTO audit_notes (instance, size, note) VALUES (?1, ?2, ?3)";

/// The SQLite store.
pub struct SqliteStore {
    queue: Queue,
    reader: Arc<Mutex<Connection>>,
    counters: Arc<Mutex<Counters>>,
    rate: RateParams,
    /// The exclusive lock on the database file, held while the store is open.
    _lock: std::fs::File,
}

/// Takes an exclusive lock on the database file (an `flock`, which SQLite's own
/// POSIX locks do not see), so that a second instance on the same file
/// refuses to start: two writers would each decide quotas alone.
fn lock_file(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(StoreError::Unavailable(format!(
            "{} is in use by another resolver instance (it holds the file's lock); \
             one instance owns a SQLite store, use PostgreSQL for several",
            path.display()
        ))),
        Err(e) => Err(StoreError::Unavailable(format!(
            "{}: cannot lock: {e}",
            path.display()
        ))),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Opens the file with `busy` as its busy timeout: a statement waits this long
/// at most for a lock (another process reading the file, a checkpoint).
fn connect(path: &Path, busy: std::time::Duration) -> Result<Connection, StoreError> {
    #[cfg(unix)]
    if !path.exists() {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    }
    let conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(busy).map_err(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)",
    )
    .map_err(db)?;
    let done: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
        if version <= done {
            continue;
        }
        let tx = conn.transaction().map_err(db)?;
        tx.execute_batch(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES (?1)",
            [version],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
    }
    Ok(())
}

/// The stored counters, as the writer last committed them.
fn load_counters(conn: &Connection) -> Result<Counters, StoreError> {
    let mut stmt = conn.prepare("SELECT courier, tat FROM rate").map_err(db)?;
    let rates: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let mut stmt = conn
        .prepare("SELECT grant_id, used, expires_at FROM quota")
        .map_err(db)?;
    let quotas: Vec<(String, i64, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let quotas = quotas.into_iter().filter_map(|(g, n, x)| {
        Some((
            g.parse().ok()?,
            u32::try_from(n).unwrap_or(u32::MAX),
            u64::try_from(x).unwrap_or(0),
        ))
    });
    let mut stmt = conn
        .prepare("SELECT nonce, keep_until FROM seen_nonces")
        .map_err(db)?;
    let nonces: Vec<(Vec<u8>, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let nonces = nonces.into_iter().filter_map(|(n, until)| {
        Some((
            <[u8; 16]>::try_from(n.as_slice()).ok()?,
            u64::try_from(until).ok()?,
        ))
    });
    Ok(Counters::load(rates, quotas, nonces, now_ms()))
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    let number = |i: usize| -> rusqlite::Result<Option<u64>> {
        Ok(r.get::<_, Option<i64>>(i)?
            .map(|n| u64::try_from(n).unwrap_or(0)))
    };
    let (kind, purpose, outcome) = attempt_from_columns(
        r.get::<_, Option<String>>(12)?.as_deref(),
        r.get(6)?,
        &r.get::<_, String>(7)?,
        r.get::<_, Option<String>>(8)?.as_deref(),
    )
    .map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, e.into())
    })?;
    Ok(AuditRecord {
        instance: r.get(0)?,
        seq: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        time: r.get(2)?,
        kind,
        tracking_number: r.get(3)?,
        courier: r.get(4)?,
        grant: r.get(5)?,
        sealer: r.get(13)?,
        purpose,
        outcome,
        scope: r.get(9)?,
        client: r.get(14)?,
        count: number(15)?,
        refers_to: number(16)?,
        prev: r.get(10)?,
        hash: r.get(11)?,
    })
}

const SELECT_AUDIT: &str = "SELECT instance, seq, time, tracking_number, courier, grant_id,
    purpose, outcome, reason, scope, prev, hash, kind, sealer, client, count, refers_to FROM audit";

fn resume(
    conn: &Connection,
    instance: &str,
    signing: &Checkpointing,
) -> Result<ChainState, StoreError> {
    let records = chain_records(conn, instance)?;
    let notes = chain_notes(conn, instance)?;
    ChainState::resume(instance, records, notes.last(), signing)
}

fn chain_records(conn: &Connection, instance: &str) -> Result<Vec<AuditRecord>, StoreError> {
    let mut stmt = conn
        .prepare(&format!("{SELECT_AUDIT} WHERE instance = ?1 ORDER BY seq"))
        .map_err(db)?;
    let records = stmt
        .query_map([instance], record_from_row)
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    Ok(records)
}

/// A chain's checkpoint notes by tree size, each with its cosignatures.
fn chain_notes(conn: &Connection, instance: &str) -> Result<Vec<SignedCheckpoint>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT size, note FROM audit_notes WHERE instance = ?1 ORDER BY size")
        .map_err(db)?;
    let notes: Vec<(i64, String)> = stmt
        .query_map([instance], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let mut stmt = conn
        .prepare("SELECT size, line FROM audit_cosignatures WHERE instance = ?1")
        .map_err(db)?;
    let cosignatures: Vec<(i64, String)> = stmt
        .query_map([instance], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    with_cosignatures(notes, cosignatures)
}

impl SqliteStore {
    /// Opens (or creates, 0600) the database, applies migrations, resumes this
    /// instance's chain and starts the writer thread.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened or migrated, or the chain's
    /// last record is damaged.
    /// Statements wait `timeout` at most for a lock (SQLite's busy timeout).
    pub fn open(
        path: &Path,
        instance: &str,
        signing: Checkpointing,
        rate: RateParams,
        metrics: Arc<Metrics>,
        timeout: std::time::Duration,
    ) -> Result<Self, StoreError> {
        let lock = lock_file(path)?;
        let mut writer = connect(path, timeout)?;
        migrate(&mut writer)?;
        let state = resume(&writer, instance, &signing)?;
        let counters = Arc::new(Mutex::new(load_counters(&writer)?));
        let reader = connect(path, timeout)?;
        let (queue, rx) = Queue::new(metrics.clone());
        let writer_counters = counters.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(writer, state, signing, &writer_counters, rx, &metrics))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            queue,
            reader: Arc::new(Mutex::new(reader)),
            counters,
            rate,
            _lock: lock,
        })
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let conn = lock(&reader);
            f(&conn)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

/// Commits audit records, revocations and the counters changed since the last
/// commit, batch after batch, until a close.
fn run_writer(
    mut conn: Connection,
    mut state: ChainState,
    signing: Checkpointing,
    counters: &Mutex<Counters>,
    mut rx: mpsc::UnboundedReceiver<Job>,
    metrics: &Metrics,
) {
    let mut last_sweep = 0u64;
    // "Answer not delivered" records not yet committed; their quota units were
    // given back in memory, and are stored with them.
    let mut owed: Vec<waybill_redact::AuditEvent> = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut batch = Batch::new(drain(first, &mut rx, &metrics.queue_depth));
        let closing = !batch.close.is_empty();
        let started = Instant::now();
        let from = state.tree.size();
        let undelivered: Vec<Undelivered> = std::mem::take(&mut batch.undelivered);
        if !undelivered.is_empty() {
            let mut counters = lock(counters);
            for u in undelivered {
                counters.refund(u.grant);
                owed.extend(u.record);
            }
        }
        // A revocation's record commits in the transaction that changes its row.
        let revocations = change_events(batch.revocations.iter().map(|(c, _)| c));
        let events = batch
            .events
            .iter()
            .map(|(e, _)| e)
            .chain(&owed)
            .chain(&revocations);
        let (undo, rows) = state.extend(events, &signing, closing);
        let now = now_ms();
        // Every claim of this batch's requests was decided before its record
        // was queued, so the counters taken now cover them (and the quota
        // given back for the records owed).
        let sweep = now > last_sweep.saturating_add(60_000);
        let changed = {
            let mut counters = lock(counters);
            if sweep {
                counters.sweep(now);
            }
            counters.take_changed()
        };
        let result = conn.transaction().map_err(db).and_then(|tx| {
            commit(&tx, &batch, &rows, &changed, now, sweep)?;
            tx.commit().map_err(db)
        });
        metrics.observe_commit(started.elapsed(), batch.events.len(), result.is_ok());
        match result {
            Ok(()) => {
                state.committed(from, &rows, &signing);
                if sweep {
                    last_sweep = now;
                }
                metrics.count_undelivered(owed.len());
                owed.clear();
                let seqs: Vec<u64> = rows.records.iter().map(|r| r.seq).collect();
                batch.succeed(Vec::new(), Vec::new(), &seqs);
            }
            Err(e) => {
                crate::logline::store_error("commit", &e);
                state.undo(undo);
                let mut counters = lock(counters);
                counters.restore(changed);
                // The allowed answers of this batch are 503: their quota back.
                for grant in allowed_grants(batch.events.iter().map(|(e, _)| e)) {
                    counters.refund(grant);
                }
                drop(counters);
                batch.fail(&e);
            }
        }
        if closing {
            break;
        }
    }
}

fn commit(
    tx: &Transaction<'_>,
    batch: &Batch,
    rows: &Rows,
    changed: &Changed,
    now_ms: u64,
    sweep: bool,
) -> Result<(), StoreError> {
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    {
        let mut stmt = tx.prepare_cached(RATE_SQL).map_err(db)?;
        for (courier, tat) in &changed.rates {
            stmt.execute(params![courier, tat]).map_err(db)?;
        }
        let mut stmt = tx.prepare_cached(QUOTA_SQL).map_err(db)?;
        for (grant, used, expires) in &changed.quotas {
            let expires = i64::try_from(*expires).unwrap_or(i64::MAX);
            stmt.execute(params![grant.to_string(), used, expires])
                .map_err(db)?;
        }
        let mut stmt = tx.prepare_cached(NONCE_SQL).map_err(db)?;
        for (nonce, until) in &changed.nonces {
            let until = i64::try_from(*until).unwrap_or(i64::MAX);
            stmt.execute(params![nonce.as_slice(), until]).map_err(db)?;
        }
    }
    for (change, _) in &batch.revocations {
        let sql = if change.lifted {
            "DELETE FROM revocations WHERE kind = ?1 AND subject = ?2"
        } else {
            "INSERT OR IGNORE INTO revocations (kind, subject, created_at) VALUES (?1, ?2, ?3)"
        };
        let mut stmt = tx.prepare_cached(sql).map_err(db)?;
        for r in &change.list {
            if change.lifted {
                stmt.execute(params![r.kind(), r.subject()])
            } else {
                stmt.execute(params![r.kind(), r.subject(), now / 1000])
            }
            .map_err(db)?;
        }
    }
    insert_rows(tx, rows)?;
    // Forget counters of grants expired a day ago and buckets idle for an hour,
    // by server time, once a minute (as the writer did in memory).
    if sweep {
        tx.execute(
            "DELETE FROM quota WHERE expires_at < ?1",
            [now / 1000 - 86_400],
        )
        .map_err(db)?;
        tx.execute("DELETE FROM rate WHERE tat < ?1", [now - 3_600_000])
            .map_err(db)?;
        tx.execute(
            "DELETE FROM seen_nonces WHERE keep_until <= ?1",
            [now / 1000],
        )
        .map_err(db)?;
    }
    Ok(())
}

fn insert_rows(tx: &Transaction<'_>, rows: &Rows) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(INSERT_AUDIT).map_err(db)?;
    let number = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    for r in &rows.records {
        let (purpose, outcome, reason) = attempt_columns(r);
        let kind = (r.kind != AuditKind::Resolve).then(|| r.kind.as_str());
        stmt.execute(params![
            r.instance,
            i64::try_from(r.seq).unwrap_or(i64::MAX),
            r.time,
            r.tracking_number,
            r.courier,
            r.grant,
            purpose,
            outcome,
            reason,
            r.scope,
            r.prev,
            r.hash,
            kind,
            r.sealer,
            r.client,
            number(r.count),
            number(r.refers_to),
        ])
        .map_err(db)?;
    }
    let mut stmt = tx.prepare_cached(INSERT_NOTE).map_err(db)?;
    for c in &rows.checkpoints {
        let instance = c.origin().strip_prefix(ORIGIN_PREFIX).unwrap_or_default();
        let size = i64::try_from(c.size()).unwrap_or(i64::MAX);
        stmt.execute(params![instance, size, c.as_text()])
            .map_err(db)?;
    }
    Ok(())
}

/// Every chain of the database at `path`, for `audit export`: read through a
/// connection of its own, without the instance lock, so that a serving
/// instance's store can be exported.
///
/// # Errors
/// [`StoreError`] when the file cannot be opened or read.
pub fn export_file(path: &Path) -> Result<Vec<String>, StoreError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db)?;
    export(&conn)
}

fn export(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut instances = conn
        .prepare(
            "SELECT instance FROM audit UNION SELECT instance FROM audit_notes ORDER BY instance",
        )
        .map_err(db)?;
    let instances: Vec<String> = instances
        .query_map([], |r| r.get(0))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let mut lines = Vec::new();
    for instance in instances {
        let records = chain_records(conn, &instance)?;
        let mut stmt = conn
            .prepare("SELECT instance, seq, head, time, signature FROM audit_checkpoints WHERE instance = ?1 ORDER BY seq")
            .map_err(db)?;
        let checkpoints: Vec<AuditCheckpoint> = stmt
            .query_map([&instance], |r| {
                Ok(AuditCheckpoint {
                    instance: r.get(0)?,
                    seq: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    head: r.get(2)?,
                    time: r.get(3)?,
                    signature: r.get(4)?,
                })
            })
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?;
        let notes = chain_notes(conn, &instance)?;
        lines.extend(export_lines(records, checkpoints, notes));
    }
    Ok(lines)
}

impl ResolverStore for SqliteStore {
    fn acquire(&self, claim: Claim) -> BoxFuture<'_, Result<Decision, StoreError>> {
        let d = lock(&self.counters).decide(&claim, self.rate);
        Box::pin(async move { Ok(d) })
    }

    fn admit(&self, guard: ReplayGuard) -> BoxFuture<'_, Result<bool, StoreError>> {
        let admitted = lock(&self.counters).admit(&guard, now_ms());
        Box::pin(async move { Ok(admitted) })
    }

    fn append(&self, event: waybill_redact::AuditEvent) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.queue.append(event))
    }

    fn undelivered(&self, u: Undelivered) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.queue.undelivered(u))
    }

    fn revoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.queue.revoke(RevocationChange::new(revocations, false)))
    }

    fn unrevoke(&self, revocations: Vec<Revocation>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.queue.revoke(RevocationChange::new(revocations, true)))
    }

    fn revocation_records(&self) -> BoxFuture<'_, Result<Vec<AuditRecord>, StoreError>> {
        Box::pin(self.read(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "{SELECT_AUDIT} WHERE kind IN ('revoked', 'unrevoked') \
                     ORDER BY time, instance, seq"
                ))
                .map_err(db)?;
            let records = stmt
                .query_map([], record_from_row)
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?;
            intact(records)
        }))
    }

    fn restore_revocations(
        &self,
        revocations: Vec<Revocation>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.read(move |conn| {
            let mut stmt = conn
                .prepare(
                    "INSERT OR IGNORE INTO revocations (kind, subject, created_at) \
                     VALUES (?1, ?2, unixepoch())",
                )
                .map_err(db)?;
            for r in &revocations {
                stmt.execute(params![r.kind(), r.subject()]).map_err(db)?;
            }
            Ok(())
        }))
    }

    fn revocations(&self) -> BoxFuture<'_, Result<Vec<Revocation>, StoreError>> {
        Box::pin(self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT kind, subject FROM revocations")
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db)?;
            Ok(rows
                .filter_map(Result::ok)
                .filter_map(|(k, s)| Revocation::from_parts(&k, &s))
                .collect())
        }))
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(db)))
    }

    fn cosign(
        &self,
        instance: String,
        size: u64,
        witness: String,
        line: String,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.read(move |conn| {
            let size = i64::try_from(size).unwrap_or(i64::MAX);
            conn.execute(
                "INSERT OR IGNORE INTO audit_cosignatures (instance, size, witness, line)
                 VALUES (?1, ?2, ?3, ?4)",
                params![instance, size, witness, line],
            )
            .map(drop)
            .map_err(db)
        }))
    }

    fn export(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(self.read(export))
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.queue.close())
    }
}
