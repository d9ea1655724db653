//! The schema, versioned: each migration is applied once, in order, under an
//! advisory lock so that instances starting together migrate once.

use tokio_postgres::Client;

use crate::error::StoreError;

use super::pg;

/// Versioned schema; each entry is applied once, in order, under an advisory
/// lock so that instances starting together migrate once.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE revocations (
    id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(), UNIQUE (kind, subject));
CREATE TABLE quota (
    grant_id TEXT PRIMARY KEY, used BIGINT NOT NULL, granted BIGINT NOT NULL,
    asked BIGINT NOT NULL, quota_total BIGINT NOT NULL, expires_at BIGINT NOT NULL);
CREATE TABLE rate (
    courier TEXT PRIMARY KEY, tat BIGINT NOT NULL, granted BIGINT NOT NULL, asked BIGINT NOT NULL);
CREATE TABLE audit (
    instance TEXT NOT NULL, seq BIGINT NOT NULL, time TEXT NOT NULL,
    tracking_number TEXT, courier TEXT, grant_id TEXT, purpose TEXT NOT NULL,
    outcome TEXT NOT NULL, reason TEXT, scope TEXT, prev TEXT NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (instance, seq));
CREATE TABLE audit_checkpoints (
    instance TEXT NOT NULL, seq BIGINT NOT NULL, head TEXT NOT NULL, time TEXT NOT NULL,
    signature TEXT NOT NULL, PRIMARY KEY (instance, seq));
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'audit is append-only'; END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
",
    r"
CREATE TABLE seen_nonces (nonce BYTEA PRIMARY KEY, keep_until BIGINT NOT NULL);
",
    // The transparency log: checkpoint notes over each chain's tree, and the
    // witnesses' cosignature lines. Append-only, as the records are.
    r"
CREATE TABLE audit_notes (
    instance TEXT NOT NULL, size BIGINT NOT NULL, note TEXT NOT NULL,
    PRIMARY KEY (instance, size));
CREATE TABLE audit_cosignatures (
    instance TEXT NOT NULL, size BIGINT NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL,
    PRIMARY KEY (instance, size, witness));
CREATE TRIGGER audit_notes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_notes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_cosignatures_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
",
    // Record kinds (`docs/AUDIT.md`): NULL on a resolve attempt's row.
    r"
ALTER TABLE audit ADD COLUMN kind TEXT, ADD COLUMN sealer TEXT, ADD COLUMN client TEXT,
    ADD COLUMN count BIGINT, ADD COLUMN refers_to BIGINT;
CREATE INDEX audit_kinds ON audit (kind) WHERE kind IS NOT NULL;
",
];

pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(pg)?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7262012); \
         CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)",
    )
    .await
    .map_err(pg)?;
    let done: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(pg)?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
        if version > done {
            tx.batch_execute(sql).await.map_err(pg)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(pg)?;
        }
    }
    tx.commit().await.map_err(pg)
}
