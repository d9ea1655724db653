//! Revocations are audit records: revoking and lifting each append a record
//! with the row change, and at start the revocation table is made what the log
//! says. A revocation row deleted behind the log's back is restored (the grant
//! stays refused); a row the log does not know is recorded. Real SQLite and
//! real PostgreSQL (`scripts/with-postgres.sh`); the log verifies throughout.

mod common;

use common::*;
use serde_json::json;

/// Runs `sql` on the store's database directly, as an insider with database
/// access would, while no instance is running.
async fn insider(store: &str, sql: &str) {
    if let Some(path) = store.strip_prefix("sqlite:") {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch(sql).unwrap();
    } else {
        let (client, conn) = tokio_postgres::connect(store, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
    }
}

/// `POST` (revoke) or `DELETE` (lift) on `/v1/revocations`; the status and body.
async fn change(s: &Running, body: serde_json::Value, lift: bool) -> (u16, serde_json::Value) {
    let c = client();
    let url = format!("{}/v1/revocations", s.admin_url);
    let request = if lift { c.delete(url) } else { c.post(url) };
    let r = request
        .bearer_auth("admin-secret")
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The status and error code of one resolve.
async fn resolve(s: &Running, keys: &Keys, grant: &str) -> (u16, Option<String>) {
    let (status, body) = post(
        &client(),
        &format!("{}/v1/resolve", s.url),
        resolve_body(&keys.token(), grant),
    )
    .await;
    (status, body["error"]["code"].as_str().map(str::to_owned))
}

fn refused() -> (u16, Option<String>) {
    (403, Some("grant_revoked".to_owned()))
}

async fn a_deleted_revocation_row_is_restored_from_the_log(store: &str) {
    let keys = Keys::new();
    let grant_text = keys.grant(10);
    let grant = waybill_redact::Grant::parse(&grant_text).unwrap();
    let id = grant.id().to_string();
    let other = keys.grant_for("C-2", vec![keys.waybill.zone()], 10);
    let other_id = waybill_redact::Grant::parse(&other)
        .unwrap()
        .id()
        .to_string();

    let s = Running::start(keys.config(store, "node-a")).await;
    assert_eq!(resolve(&s, &keys, &grant_text).await.0, 200);
    let (status, body) = change(&s, json!({ "grants": [id, id] }), false).await;
    assert_eq!((status, body["revoked"].as_u64()), (200, Some(1)));
    assert_eq!(resolve(&s, &keys, &grant_text).await, refused());
    s.stop().await;

    // The insider deletes the row; the log still says the grant is revoked.
    insider(
        store,
        &format!("DELETE FROM revocations WHERE subject = '{id}'"),
    )
    .await;
    let s = Running::start(keys.config(store, "node-a")).await;
    assert_eq!(
        resolve(&s, &keys, &grant_text).await,
        refused(),
        "restored from the log at start"
    );
    // A lift is recorded, and a restart does not bring the revocation back.
    let (status, body) = change(&s, json!({ "grants": [id] }), true).await;
    assert_eq!((status, body["unrevoked"].as_u64()), (200, Some(1)));
    assert_eq!(resolve(&s, &keys, &grant_text).await.0, 200);
    s.stop().await;

    // A row the log does not know (as written before revocations were
    // audited) is enforced and recorded.
    let insert = if store.starts_with("sqlite:") {
        format!(
            "INSERT INTO revocations (kind, subject, created_at) VALUES ('grant', '{other_id}', 0)"
        )
    } else {
        format!("INSERT INTO revocations (kind, subject) VALUES ('grant', '{other_id}')")
    };
    insider(store, &insert).await;
    let s = Running::start(keys.config(store, "node-a")).await;
    assert_eq!(resolve(&s, &keys, &grant_text).await.0, 200, "stays lifted");
    assert_eq!(resolve(&s, &keys, &other).await, refused());
    s.stop().await;

    let (records, lines) = export_and_verify(store, &keys, "export.jsonl").await;
    let revoked = format!(
        "\"kind\":\"revoked\",\"tracking_number\":null,\"courier\":null,\"grant\":\"{id}\""
    );
    let lifted = format!(
        "\"kind\":\"unrevoked\",\"tracking_number\":null,\"courier\":null,\"grant\":\"{id}\""
    );
    let adopted = format!(
        "\"kind\":\"revoked\",\"tracking_number\":null,\"courier\":null,\"grant\":\"{other_id}\""
    );
    assert_eq!(
        count(&lines, &revoked),
        1,
        "one record, however often named"
    );
    assert_eq!(count(&lines, &lifted), 1);
    assert_eq!(count(&lines, &adopted), 1);
    // Two resolves in each of three runs, and three revocation records.
    assert_eq!(records, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_restores_a_deleted_revocation_row_from_the_log() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    a_deleted_revocation_row_is_restored_from_the_log(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restores_a_deleted_revocation_row_from_the_log() {
    let Some(db) = postgres_db().await else {
        return;
    };
    a_deleted_revocation_row_is_restored_from_the_log(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_record_edited_in_the_database_refuses_the_start() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let s = Running::start(keys.config(&store, "node-a")).await;
    let (status, _) = change(&s, json!({ "parcels": ["sf1234567890123"] }), false).await;
    assert_eq!(status, 200);
    s.stop().await;
    // SQLite's append-only triggers can be dropped by whoever holds the file.
    insider(
        &store,
        "DROP TRIGGER audit_append_only_u; \
         UPDATE audit SET tracking_number = 'SF0' WHERE kind = 'revoked';",
    )
    .await;
    let err = waybill_redact_service::build(&keys.config(&store, "node-a"))
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("audit record 1 of node-a"),
        "{err}"
    );
}
