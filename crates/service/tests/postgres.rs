//! The service over PostgreSQL, several instances on one database. Run under
//! `scripts/with-postgres.sh`; without `WAYBILL_TEST_POSTGRES_URL` each test
//! prints a notice and returns.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_quota_exactly() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let a = Running::start(keys.config(&db, "node-a")).await;
    let b = Running::start(keys.config(&db, "node-b")).await;
    let statuses = burst(
        &[a.url.clone(), b.url.clone()],
        &keys.token(),
        &keys.grant(100),
        300,
    )
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 100);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 200);
    a.stop().await;
    b.stop().await;
    let (records, lines) = export_and_verify(&db, &keys, "export.jsonl").await;
    assert_eq!(records, 300);
    assert_eq!(count(&lines, "\"outcome\":\"allowed\""), 100);
    assert!(
        count(&lines, "\"instance\":\"node-a\"") > 0
            && count(&lines, "\"instance\":\"node-b\"") > 0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_of_several_couriers_and_grants_in_one_batch_each_get_their_quota() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let a = Running::start(keys.config(&db, "node-a")).await;
    let b = Running::start(keys.config(&db, "node-b")).await;
    let urls = [a.url.clone(), b.url.clone()];
    let token = keys.token();
    let zone = vec![keys.waybill.zone()];
    // Two grants of one courier and one of another, all at once: one claim
    // statement decides claims of every kind together.
    let grants = [
        keys.grant_for("C-1", zone.clone(), 7),
        keys.grant_for("C-1", zone.clone(), 11),
        keys.grant_for("C-2", zone, 13),
    ];
    let (x, y, z) = tokio::join!(
        burst(&urls, &token, &grants[0], 40),
        burst(&urls, &token, &grants[1], 40),
        burst(&urls, &token, &grants[2], 40),
    );
    let allowed = |s: &[u16]| s.iter().filter(|s| **s == 200).count();
    assert_eq!((allowed(&x), allowed(&y), allowed(&z)), (7, 11, 13));
    for s in [&x, &y, &z] {
        assert!(s.iter().all(|s| *s == 200 || *s == 429));
    }
    a.stop().await;
    b.stop().await;
    let (records, lines) = export_and_verify(&db, &keys, "export.jsonl").await;
    assert_eq!(records, 120);
    assert_eq!(count(&lines, "\"outcome\":\"allowed\""), 31);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_on_one_instance_reaches_the_other() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let a = Running::start(keys.config(&db, "node-a")).await;
    let b = Running::start(keys.config(&db, "node-b")).await;
    let c = client();
    let token = keys.token();
    let (status, _) = post(
        &c,
        &format!("{}/v1/resolve", b.url),
        resolve_body(&token, &keys.grant(10)),
    )
    .await;
    assert_eq!(status, 200);
    let tracking = keys.waybill.tracking_number().as_str().to_owned();
    let r = c
        .post(format!("{}/v1/revocations", a.admin_url))
        .bearer_auth("admin-secret")
        .json(&json!({ "parcels": [tracking] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let bound: u64 = r.json::<serde_json::Value>().await.unwrap()["effective_within_ms"]
        .as_u64()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(bound + 300)).await;
    let (status, body) = post(
        &c,
        &format!("{}/v1/resolve", b.url),
        resolve_body(&token, &keys.grant(10)),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_resolvable"))
    );
    a.stop().await;
    b.stop().await;
    let (_, lines) = export_and_verify(&db, &keys, "export.jsonl").await;
    assert_eq!(count(&lines, "\"reason\":\"parcel_revoked\""), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_outage_answers_503_and_discloses_nothing() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let s = Running::start(keys.config(&db, "node-a")).await;
    let c = client();
    let url = format!("{}/v1/resolve", s.url);
    let (token, grant) = (keys.token(), keys.grant(100));
    assert_eq!(post(&c, &url, resolve_body(&token, &grant)).await.0, 200);

    let name = db.rsplit('/').next().unwrap().to_owned();
    let base = std::env::var("WAYBILL_TEST_POSTGRES_URL").unwrap();
    let (admin, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    let (status, body) = post(&c, &url, resolve_body(&token, &grant)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("store_unavailable"))
    );
    assert!(body.get("name").is_none());
    // pg_terminate_backend only signals the backends: the readiness probe's
    // own connection may answer once more before it goes. Not ready within
    // a few seconds, then.
    let mut ready = Vec::new();
    for _ in 0..50 {
        let status = c
            .get(format!("{}/readyz", s.admin_url))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        ready.push(status);
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        ready.last(),
        Some(&503),
        "/readyz while the store is down: {ready:?}"
    );

    // Back up: the writer reconnects and resumes its chain from the table.
    admin
        .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    assert_eq!(post(&c, &url, resolve_body(&token, &grant)).await.0, 200);
    s.stop().await;
    let (records, _) = export_and_verify(&db, &keys, "export.jsonl").await;
    assert_eq!(records, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_audit_table_is_append_only() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let s = Running::start(keys.config(&db, "node-a")).await;
    burst(
        std::slice::from_ref(&s.url),
        &keys.token(),
        &keys.grant(5),
        3,
    )
    .await;
    s.stop().await;
    let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let err = client
        .batch_execute("UPDATE audit SET outcome = 'allowed'")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("db error"), "{err}");
    assert!(client.batch_execute("DELETE FROM audit").await.is_err());
    let rows: i64 = client
        .query_one("SELECT count(*) FROM audit", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 3);
    let version: i64 = client
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 4, "migration 4 adds the record kinds' columns");
    assert!(client
        .batch_execute("DELETE FROM audit_notes")
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_courier_rate_limit_holds_across_instances() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let rate = waybill_redact_service::RateConfig {
        burst: 4,
        per_minute: 1,
    };
    let mut ca = keys.config(&db, "node-a");
    ca.rate = rate;
    let mut cb = keys.config(&db, "node-b");
    cb.rate = rate;
    let a = Running::start(ca).await;
    let b = Running::start(cb).await;
    let statuses = burst(
        &[a.url.clone(), b.url.clone()],
        &keys.token(),
        &keys.grant(100),
        20,
    )
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 4);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 16);
    a.stop().await;
    b.stop().await;
}

/// The same on PostgreSQL: the audit table is locked by another session for
/// longer than the deadline but shorter than the store timeout (the claims,
/// on the quota table, go through).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_records_committed_after_the_deadline_are_followed_by_not_delivered_records() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let grant = keys.grant(10);
    let s = late_service(&keys, &db).await;
    let (admin, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    admin
        .batch_execute("BEGIN; LOCK TABLE audit IN EXCLUSIVE MODE")
        .await
        .unwrap();
    late_commits(s, &keys, &db, &grant, async {
        admin.batch_execute("ROLLBACK").await.unwrap();
    })
    .await;
    let spent: i64 = admin
        .query_one("SELECT COALESCE(sum(used), 0)::int8 FROM quota", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(spent, 10, "quota spent = 200s delivered");
}
