//! Device-signed requests against real stores: a nonce is admitted once across
//! instances (PostgreSQL) and across a restart (SQLite), a replayed batch is
//! refused whole, and every replay is audited. PostgreSQL tests run under
//! `scripts/with-postgres.sh`.

mod common;

use common::*;
use serde_json::Value;
use waybill_redact::DeviceKey;

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nonce_is_admitted_once_across_two_postgres_instances() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let mut config = keys.config(&db, "node-a");
    config.allow_bearer_grants = false;
    let a = Running::start(config.clone()).await;
    config.instance = "node-b".into();
    let b = Running::start(config).await;
    let device = DeviceKey::generate().unwrap();
    let grant = bound_grant(&keys, &device, 1000);
    let token = keys.token();
    let c = client();

    // One request to each instance at once, many times over: one 200 only.
    let body = signed(&device, &grant, &[&token]);
    let mut handles = Vec::new();
    for i in 0..20 {
        let (c, body) = (c.clone(), body.clone());
        let url = format!("{}/v1/resolve", if i % 2 == 0 { &a.url } else { &b.url });
        handles.push(tokio::spawn(async move { post(&c, &url, body).await }));
    }
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    assert_eq!(answers.iter().filter(|(s, _)| *s == 200).count(), 1);
    assert!(answers
        .iter()
        .filter(|(s, _)| *s != 200)
        .all(|(s, v)| *s == 403 && code(v) == "request_replayed"));

    // A batch answered by one instance is refused whole by the other.
    let other = keys.token();
    let batch = signed(&device, &grant, &[&token, &other]);
    let (s, v) = post(&c, &format!("{}/v1/resolve/batch", a.url), batch.clone()).await;
    assert_eq!(s, 200);
    assert!(v["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == 200));
    // Refused as a request (one answer, one audit record), not token by token.
    let (s, v) = post(&c, &format!("{}/v1/resolve/batch", b.url), batch).await;
    assert_eq!((s, code(&v)), (403, "request_replayed"));

    a.stop().await;
    b.stop().await;
    let (records, lines) = export_and_verify(&db, &keys, "export.jsonl").await;
    assert_eq!(records, 23);
    assert_eq!(count(&lines, "\"reason\":\"request_replayed\""), 20);
    assert_eq!(count(&lines, "\"outcome\":\"allowed\""), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_node_remembers_nonces_across_a_restart() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let mut config = keys.config(&store, "local");
    config.allow_bearer_grants = false;
    let device = DeviceKey::generate().unwrap();
    let grant = bound_grant(&keys, &device, 10);
    let token = keys.token();
    let body = signed(&device, &grant, &[&token]);
    let c = client();

    let node = Running::start(config.clone()).await;
    let url = format!("{}/v1/resolve", node.url);
    let (s, v) = post(&c, &url, body.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["name"], keys.waybill.recipient().name().as_str());
    node.stop().await;

    let node = Running::start(config).await;
    let url = format!("{}/v1/resolve", node.url);
    let (s, v) = post(&c, &url, body).await;
    assert_eq!((s, code(&v)), (403, "request_replayed"));
    // The grant's text alone is refused, and so is a bearer grant.
    let (s, v) = post(&c, &url, resolve_body(&token, grant.as_str())).await;
    assert_eq!((s, code(&v)), (403, "device_signature_required"));
    let (s, v) = post(&c, &url, resolve_body(&token, &keys.grant(5))).await;
    assert_eq!((s, code(&v)), (403, "bearer_grant_refused"));
    node.stop().await;

    let (_, lines) = export_and_verify(&store, &keys, "export.jsonl").await;
    assert_eq!(count(&lines, "\"reason\":\"request_replayed\""), 1);
    assert_eq!(count(&lines, "\"reason\":\"device_signature_missing\""), 1);
    assert_eq!(count(&lines, "\"reason\":\"bearer_grant_refused\""), 1);
}
