//! Database roles on a real PostgreSQL: the owner migrates, the service runs
//! as a role that may only read and append the audit tables, and cannot turn
//! their triggers off, delete, update or truncate. Run under
//! `scripts/with-postgres.sh`; without `WAYBILL_TEST_POSTGRES_URL` each test
//! prints a notice and returns.

mod common;

use common::*;
use serde_json::json;
use tokio_postgres::error::SqlState;
use waybill_redact::DeviceKey;

/// A fresh database owned by a new owner role, and a new service role with
/// the service's grants: (owner URL, service URL, service role).
async fn database_with_roles() -> Option<(String, String, String)> {
    let db = postgres_db().await?;
    let (prefix, name) = db.rsplit_once('/').unwrap();
    let (owner, service) = (format!("{name}_owner"), format!("{name}_svc"));
    let admin = pg_connect(&db).await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {owner} LOGIN; CREATE ROLE {service} LOGIN; \
             ALTER DATABASE {name} OWNER TO {owner};"
        ))
        .await
        .unwrap();
    let with_user = |user: &str| prefix.replacen("postgres@", &format!("{user}@"), 1) + "/" + name;
    Some((with_user(&owner), with_user(&service), service))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_role_may_only_read_and_append_the_audit() {
    let Some((owner_url, service_url, role)) = database_with_roles().await else {
        return;
    };
    let version = waybill_redact_service::migrate_as_owner(&owner_url, Some(&role))
        .await
        .unwrap();
    assert!(version >= 3);
    // Again, through the command: idempotent, the grants re-applied exactly.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waybill-resolver"))
        .args(["migrate", "--store", &owner_url, "--service-role", &role])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("schema at version {version}")),
        "{said}"
    );

    // Every table of the schema has its line in the grant list.
    let owner = pg_connect(&owner_url).await;
    let tables: Vec<String> = owner
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for table in &tables {
        assert!(
            waybill_redact_service::SERVICE_GRANTS
                .iter()
                .any(|(t, _)| t == table),
            "table {table} has no line in SERVICE_GRANTS"
        );
    }

    // The service works normally under its role: bearer and device-signed
    // resolves (claims, nonces and their sweep), a revocation, checkpoints.
    let keys = Keys::new();
    let s = Running::start(keys.config(&service_url, "node-r")).await;
    let statuses = burst(
        std::slice::from_ref(&s.url),
        &keys.token(),
        &keys.grant(5),
        8,
    )
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 3);
    let c = client();
    let device = DeviceKey::generate().unwrap();
    let grant = bound_grant(&keys, &device, 10);
    let token = keys.token();
    let body = signed(&device, &grant, &[&token]);
    let url = format!("{}/v1/resolve", s.url);
    assert_eq!(post(&c, &url, body.clone()).await.0, 200);
    assert_eq!(post(&c, &url, body).await.0, 403, "a replay is refused");
    let r = c
        .post(format!("{}/v1/revocations", s.admin_url))
        .bearer_auth("admin-secret")
        .json(&json!({ "parcels": [keys.waybill.tracking_number().as_str()] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    s.stop().await;
    let (records, _) = export_and_verify(&service_url, &keys, "export.jsonl").await;
    assert!(records >= 10, "{records}");

    // What an insider holding the service's credentials would try.
    let count_rows = async || -> i64 {
        owner
            .query_one("SELECT count(*) FROM audit", &[])
            .await
            .unwrap()
            .get(0)
    };
    let before = count_rows().await;
    let service = pg_connect(&service_url).await;
    for sql in [
        "ALTER TABLE audit DISABLE TRIGGER ALL",
        "ALTER TABLE audit DISABLE TRIGGER audit_append_only",
        "DELETE FROM audit",
        "UPDATE audit SET outcome = 'denied'",
        "TRUNCATE audit",
        "DROP TABLE audit",
        "DELETE FROM audit_notes",
        "UPDATE audit_notes SET note = ''",
        "TRUNCATE audit_notes",
        "ALTER TABLE audit_notes DISABLE TRIGGER ALL",
        "DELETE FROM audit_cosignatures",
        // It may delete revocation rows (lifting one, with its audit record);
        // a row deleted behind the log's back is restored at start
        // (tests/revocations.rs). It may not rewrite one.
        "UPDATE revocations SET subject = 'x'",
        "DELETE FROM quota",
        "TRUNCATE rate",
        "UPDATE schema_migrations SET version = 0",
        "SET session_replication_role = replica",
        "CREATE TABLE audit_shadow (x int)",
    ] {
        let err = service
            .batch_execute(sql)
            .await
            .expect_err(&format!("the service role may not: {sql}"));
        assert_eq!(
            err.code(),
            Some(&SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {err:?}"
        );
    }
    assert_eq!(count_rows().await, before, "nothing was removed");

    // The owner may not hand the service its own or a superuser's rights.
    let owner_role = owner_url
        .rsplit_once('@')
        .unwrap()
        .0
        .rsplit('/')
        .next()
        .unwrap();
    let member = format!("{role}_member");
    pg_connect(&std::env::var("WAYBILL_TEST_POSTGRES_URL").unwrap())
        .await
        .batch_execute(&format!("CREATE ROLE {member} LOGIN IN ROLE {owner_role}"))
        .await
        .unwrap();
    for (bad, says) in [
        ("postgres", "superuser"),
        (member.as_str(), "member of the owner role"),
        (owner_role, "the owner migrating"),
        ("no_such_role_here", "no such role"),
    ] {
        let err = waybill_redact_service::migrate_as_owner(&owner_url, Some(bad))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_role_that_may_not_migrate_says_what_to_run() {
    let Some((_, service_url, _)) = database_with_roles().await else {
        return;
    };
    let keys = Keys::new();
    let err = waybill_redact_service::build(&keys.config(&service_url, "node-r"))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("waybill-resolver migrate") && err.contains("version 0"),
        "{err}"
    );
}
