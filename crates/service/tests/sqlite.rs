//! The service over its default store, SQLite: answers, audit, quota, batch,
//! revocation, restart.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resolves_denies_and_audits_every_attempt() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let s = Running::start(keys.config(&store, "node-a")).await;
    let c = client();
    let token = keys.token();
    let url = format!("{}/v1/resolve", s.url);

    let (status, body) = post(&c, &url, resolve_body(&token, &keys.grant(10))).await;
    assert_eq!(status, 200);
    let recipient = keys.waybill.recipient();
    assert_eq!(body["name"], recipient.name().as_str());
    assert_eq!(
        body["tracking_number"],
        keys.waybill.tracking_number().as_str()
    );
    assert!(
        body.get("items").is_none(),
        "items are outside the delivery scope"
    );

    // Another zone: a courier-facing code that says nothing about the parcel.
    let stranger = keys.grant_for("C-2", vec![1], 10);
    let (status, body) = post(&c, &url, resolve_body(&token, &stranger)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_resolvable"))
    );

    let (status, body) = post(&c, &url, resolve_body("WB1:garbage", &keys.grant(10))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_token"))
    );
    let (status, body) = post(&c, &url, json!({"token": token})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_request"))
    );

    s.stop().await;
    let (records, lines) = export_and_verify(&store, &keys, "export.jsonl").await;
    assert_eq!(
        records, 3,
        "the malformed body is not an attempt; the rest are"
    );
    assert_eq!(
        count(&lines, "\"reason\":\"zone_not_granted\""),
        1,
        "the audit has the full reason"
    );
    assert_eq!(count(&lines, "\"scope\":\"name,phone,address\""), 1);
    assert_eq!(count(&lines, "{\"checkpoint\""), 1, "closing checkpoint");
    assert!(lines.iter().all(|l| !l.contains(recipient.name().as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quota_holds_exactly_under_concurrency() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let s = Running::start(keys.config(&store, "node-a")).await;
    let statuses = burst(
        std::slice::from_ref(&s.url),
        &keys.token(),
        &keys.grant(100),
        300,
    )
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 100);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 200);
    s.stop().await;
    let (records, lines) = export_and_verify(&store, &keys, "export.jsonl").await;
    assert_eq!(records, 300);
    assert_eq!(count(&lines, "\"outcome\":\"allowed\""), 100);
    assert_eq!(count(&lines, "\"reason\":\"quota_exceeded\""), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rate_limit_and_quota_survive_a_restart() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let grant = keys.grant(3);
    let token = keys.token();
    for round in 0..2 {
        let s = Running::start(keys.config(&store, "node-a")).await;
        let statuses = burst(std::slice::from_ref(&s.url), &token, &grant, 2).await;
        let ok = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(ok, if round == 0 { 2 } else { 1 });
        s.stop().await;
    }
    // The chain resumed across the restart: one chain, four records, two closes.
    let (records, lines) = export_and_verify(&store, &keys, "export.jsonl").await;
    assert_eq!(records, 4);
    assert_eq!(count(&lines, "{\"checkpoint\""), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_answers_per_token() {
    let keys = Keys::new();
    let s = Running::start(keys.config(&sqlite_url(keys.dir.path()), "node-a")).await;
    let c = client();
    let token = keys.token();
    let body = json!({
        "tokens": [token, "not a token", token],
        "grant": keys.grant(10),
        "purpose": "call",
    });
    let (status, out) = post(&c, &format!("{}/v1/resolve/batch", s.url), body).await;
    assert_eq!(status, 200);
    let results = out["results"].as_array().unwrap();
    let statuses: Vec<u64> = results
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 400, 200]);
    assert_eq!(
        results[0]["disclosure"]["name"],
        keys.waybill.recipient().name().as_str()
    );
    assert_eq!(results[1]["error"]["code"], "malformed_token");
    let too_many =
        json!({ "tokens": vec![token; 101], "grant": keys.grant(10), "purpose": "call" });
    let (status, _) = post(&c, &format!("{}/v1/resolve/batch", s.url), too_many).await;
    assert_eq!(status, 400);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_needs_the_admin_key_and_persists() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let s = Running::start(keys.config(&store, "node-a")).await;
    let c = client();
    let grant_text = keys.grant(10);
    let grant = waybill_redact::Grant::parse(&grant_text).unwrap();
    let revoke = json!({ "grants": [grant.id().to_string()] });
    let url = format!("{}/v1/revocations", s.admin_url);
    let r = c.post(&url).json(&revoke).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .post(&url)
        .bearer_auth("wrong")
        .json(&revoke)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .post(&url)
        .bearer_auth("admin-secret")
        .json(&revoke)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let resolve = format!("{}/v1/resolve", s.url);
    let (status, body) = post(&c, &resolve, resolve_body(&keys.token(), &grant_text)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("grant_revoked"))
    );
    s.stop().await;
    // A restarted instance loads it from the store.
    let s = Running::start(keys.config(&store, "node-a")).await;
    let (status, _) = post(
        &c,
        &format!("{}/v1/resolve", s.url),
        resolve_body(&keys.token(), &grant_text),
    )
    .await;
    assert_eq!(status, 403);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn garbage_floods_do_not_grow_the_log_past_the_allowance() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let mut config = keys.config(&store, "node-a");
    config.noise_per_minute = 40; // 10 at once, then one every 1.5 s
    let s = Running::start(config).await;
    let c = client();
    let url = format!("{}/v1/resolve", s.url);
    let mut statuses = Vec::new();
    for _ in 0..50 {
        statuses.push(post(&c, &url, resolve_body("WB1:junk", "WG1:junk")).await.0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 11);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 39);
    s.stop().await;
    let (records, _) = export_and_verify(&store, &keys, "export.jsonl").await;
    assert_eq!(records, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_openapi() {
    let keys = Keys::new();
    let s = Running::start(keys.config(&sqlite_url(keys.dir.path()), "node-a")).await;
    let c = client();
    for (base, path) in [
        (&s.url, "/healthz"),
        (&s.admin_url, "/readyz"),
        (&s.admin_url, "/openapi.json"),
    ] {
        assert_eq!(
            c.get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200
        );
    }
    burst(
        std::slice::from_ref(&s.url),
        &keys.token(),
        &keys.grant(1),
        2,
    )
    .await;
    let text = c
        .get(format!("{}/metrics", s.admin_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("waybill_resolve_requests_total{outcome=\"allowed\"} 1"));
    assert!(text.contains("waybill_resolve_requests_total{outcome=\"quota_exceeded\"} 1"));
    for status in [200, 429] {
        let count = format!(
            "waybill_request_duration_seconds_count{{route=\"/v1/resolve\",status=\"{status}\"}} 1"
        );
        assert!(text.contains(&count), "{count}");
    }
    assert!(text.contains("waybill_audit_queue_depth 0"));
    let spec: serde_json::Value = c
        .get(format!("{}/openapi.json", s.admin_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/v1/resolve"]["post"].is_object());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_courier_rate_limit_holds_in_the_store() {
    let keys = Keys::new();
    let mut config = keys.config(&sqlite_url(keys.dir.path()), "node-a");
    config.rate = waybill_redact_service::RateConfig {
        burst: 3,
        per_minute: 1,
    };
    let s = Running::start(config).await;
    let c = client();
    let url = format!("{}/v1/resolve", s.url);
    let (token, grant) = (keys.token(), keys.grant(100));
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (status, body) = post(&c, &url, resolve_body(&token, &grant)).await;
        codes.push((status, body["error"]["code"].as_str().map(str::to_owned)));
    }
    let limited = (429, Some("rate_limited".to_owned()));
    assert_eq!(codes[..3], [(200, None), (200, None), (200, None)]);
    assert_eq!(codes[3..], [limited.clone(), limited]);
    // Another courier has its own bucket.
    let other = keys.grant_for("C-2", vec![keys.waybill.zone()], 100);
    assert_eq!(post(&c, &url, resolve_body(&token, &other)).await.0, 200);
    s.stop().await;
}
