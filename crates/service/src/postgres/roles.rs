//! Database roles: the schema's owner migrates (`waybill-resolver migrate`);
//! the service connects as a role that may read and append the audit tables
//! and nothing more, so that it can neither rewrite the log nor turn its
//! append-only triggers off (only a table's owner may alter it).

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::error::StoreError;

use super::migrations::{migrate, MIGRATIONS};
use super::{config, connect, pg};

/// Every table of the schema and what the service's role may do on it. Least
/// privilege, table by table:
/// - the audit tables: read and append (no UPDATE, DELETE or TRUNCATE; the old
///   checkpoint table is only read, for exports);
/// - revocations: read and add (never lifted by the service);
/// - quota and rate: the claim statement's `INSERT … ON CONFLICT DO UPDATE`;
/// - seen nonces: the claim's insert, and the sweep's delete of expired ones.
///
/// A new table must be added here: the PostgreSQL roles test fails otherwise.
pub const SERVICE_GRANTS: &[(&str, &str)] = &[
    ("audit", "SELECT, INSERT"),
    ("audit_notes", "SELECT, INSERT"),
    ("audit_cosignatures", "SELECT, INSERT"),
    ("audit_checkpoints", "SELECT"),
    // Lifting a revocation deletes its row; a row deleted behind the log's
    // back is restored from the audit log at start (`revocation_log`).
    ("revocations", "SELECT, INSERT, DELETE"),
    ("quota", "SELECT, INSERT, UPDATE"),
    ("rate", "SELECT, INSERT, UPDATE"),
    ("seen_nonces", "SELECT, INSERT, DELETE"),
    ("schema_migrations", "SELECT"),
];

/// The sequences the service's inserts draw from.
const SERVICE_SEQUENCES: &[&str] = &["revocations_id_seq"];

/// The statements that give `role` exactly [`SERVICE_GRANTS`] (whatever it
/// had before on these tables is revoked first), as `docs/OPERATIONS.md`
/// lists them. The role must exist.
///
/// # Errors
/// [`StoreError::Config`] when `role` is not a plain lower-case name.
pub fn service_grants_sql(role: &str) -> Result<String, StoreError> {
    let plain = role.len() <= 63
        && role.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        return Err(StoreError::Config(format!(
            "service role {role:?}: use a lower-case name of letters, digits and _"
        )));
    }
    let tables: Vec<&str> = SERVICE_GRANTS.iter().map(|(t, _)| *t).collect();
    let mut sql = format!("REVOKE ALL ON {} FROM {role};\n", tables.join(", "));
    sql.push_str(&format!("GRANT USAGE ON SCHEMA public TO {role};\n"));
    for (table, rights) in SERVICE_GRANTS {
        sql.push_str(&format!("GRANT {rights} ON {table} TO {role};\n"));
    }
    for sequence in SERVICE_SEQUENCES {
        sql.push_str(&format!("GRANT USAGE ON SEQUENCE {sequence} TO {role};\n"));
    }
    Ok(sql)
}

/// The schema version a database is at (0: none yet).
async fn schema_version(client: &Client) -> Result<i64, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await
        .map_err(pg)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(pg)?
        .get(0))
}

/// At the service's start: nothing when the schema is current (the service's
/// role need not be able to create anything); otherwise migrates, which only
/// the owner may, and says what to run when this role may not.
pub(super) async fn migrate_if_needed(client: &mut Client) -> Result<(), StoreError> {
    let have = schema_version(client).await?;
    let want = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if have >= want {
        return Ok(());
    }
    migrate(client).await.map_err(|e| match e {
        StoreError::Unavailable(text)
            if text.starts_with(SqlState::INSUFFICIENT_PRIVILEGE.code()) =>
        {
            StoreError::Config(format!(
                "the schema is at version {have}, this build needs {want}, and the service's \
                 role may not migrate it ({text}): run `waybill-resolver migrate --store \
                 <the owner's URL> --service-role <the service's role>` as the owner"
            ))
        }
        other => other,
    })
}

/// Logs a warning when the service's role could rewrite the log: it owns the
/// audit table (so it may disable its trigger) or is a superuser.
pub(super) async fn warn_if_privileged(client: &Client) {
    let row = client
        .query_one(
            "SELECT current_user::text, \
                    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), \
                    pg_has_role(current_user, (SELECT tableowner FROM pg_tables \
                        WHERE schemaname = current_schema() AND tablename = 'audit'), 'USAGE')",
            &[],
        )
        .await;
    if let Ok(row) = row {
        let (role, superuser, owner): (String, bool, bool) = (row.get(0), row.get(1), row.get(2));
        if superuser || owner {
            tracing::warn!(
                role,
                superuser,
                owner,
                "the service's database role could rewrite the audit log (it owns the audit \
                 tables or is a superuser): migrate as an owner role and serve as a role with \
                 only the grants of docs/OPERATIONS.md (waybill-resolver migrate --service-role)"
            );
        }
    }
}

/// `waybill-resolver migrate`: as the schema's owner (`url`), applies the
/// migrations and, given `service_role`, grants it exactly [`SERVICE_GRANTS`].
/// Returns the schema version.
///
/// # Errors
/// [`StoreError`] when the database cannot be reached or migrated, the role is
/// missing, is this very role, or is a superuser.
pub async fn migrate_as_owner(url: &str, service_role: Option<&str>) -> Result<i64, StoreError> {
    let mut client = connect(&config(url)?).await?;
    migrate(&mut client).await?;
    if let Some(role) = service_role {
        grant_service_role(&client, role).await?;
    }
    schema_version(&client).await
}

/// Gives `role` exactly [`SERVICE_GRANTS`], in one transaction.
///
/// # Errors
/// As [`migrate_as_owner`].
pub async fn grant_service_role(client: &Client, role: &str) -> Result<(), StoreError> {
    let sql = service_grants_sql(role)?;
    let row = client
        .query_opt(
            "SELECT rolname = current_user::text, rolsuper, rolcreaterole, \
                    pg_has_role(rolname, current_user, 'USAGE') \
             FROM pg_roles WHERE rolname = $1",
            &[&role],
        )
        .await
        .map_err(pg)?;
    let refuse = |why: &str| Err(StoreError::Config(format!("service role {role}: {why}")));
    let flags = row.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)));
    match flags {
        None => refuse("no such role; create it first (CREATE ROLE … LOGIN PASSWORD …)"),
        Some((true, _, _, _)) => {
            refuse("is the owner migrating; the service needs a role of its own")
        }
        Some((_, true, _, _)) => refuse("is a superuser, which may do anything; use a plain role"),
        // Either could act as the owner (SET ROLE, or grant itself the owner).
        Some((_, _, true, _)) => refuse("may create roles (CREATEROLE); use a plain role"),
        Some((_, _, _, true)) => refuse("is a member of the owner role; use a plain role"),
        Some((false, false, false, false)) => client
            .batch_execute(&format!("BEGIN;\n{sql}COMMIT;"))
            .await
            .map_err(pg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grants_are_exact_and_role_names_plain() {
        let sql = service_grants_sql("waybill_resolver").unwrap();
        assert!(sql.starts_with("REVOKE ALL ON audit, "), "{sql}");
        assert!(sql.contains("GRANT SELECT, INSERT ON audit TO waybill_resolver;\n"));
        assert!(!sql.contains("UPDATE ON audit"), "{sql}");
        assert!(!sql.contains("TRUNCATE"), "{sql}");
        for bad in ["", "Resolver", "x; DROP TABLE audit", "9lives", "\"q\""] {
            assert!(service_grants_sql(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_operations_guide_lists_these_grants() {
        let guide = include_str!("../../../../docs/OPERATIONS.md");
        let sql = service_grants_sql("waybill_resolver").unwrap();
        assert!(
            guide.contains(&sql),
            "docs/OPERATIONS.md must list, verbatim:\n{sql}"
        );
    }
}
