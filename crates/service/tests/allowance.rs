//! The per-address allowance for refused attempts, as it was gamed: a junk
//! batch spent 100 units of it, a batch needed no valid grant, and behind a
//! reverse proxy every courier shared one address. Now a batch under a bad
//! grant is refused whole (one answer, one audit record), a request spends one
//! unit however many tokens it holds, and the allowance keys on the client
//! address a trusted proxy reports, IPv6 grouped by /64.

mod common;

use common::*;
use serde_json::{json, Value};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// `POST` with an `X-Forwarded-For` header.
async fn post_from(c: &reqwest::Client, url: &str, xff: &str, body: &Value) -> (u16, Value) {
    let r = c
        .post(url)
        .header("x-forwarded-for", xff)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_spend_one_unit_per_request_per_client_and_a_bad_grant_refuses_a_batch_whole() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let mut config = keys.config(&store, "node-a");
    // Two refused requests a minute per client, then 429 without a record.
    config.noise_per_minute = 4;
    config.trusted_proxies = vec!["127.0.0.1".into()];
    let s = Running::start(config).await;
    let c = client();
    let batch_url = format!("{}/v1/resolve/batch", s.url);
    let junk: Vec<String> = (0..100).map(|i| format!("junk-{i}")).collect();
    let forged = keys.grant(5).replace("WG1:", "WG1:00");
    let junk_batch = json!({ "tokens": junk, "grant": forged, "purpose": "delivery" });

    // Client A (behind the proxy): two junk batches are refused whole and
    // audited once each; the third is 429 and unaudited.
    let a = "198.51.100.7";
    for _ in 0..2 {
        let (status, v) = post_from(&c, &batch_url, a, &junk_batch).await;
        assert_eq!((status, code(&v)), (400, "malformed_grant"), "{v}");
    }
    let (status, v) = post_from(&c, &batch_url, a, &junk_batch).await;
    assert_eq!((status, code(&v)), (429, "rate_limited"));
    // A stolen grant's single attempts from A are past the allowance too.
    let token = keys.token();
    let resolve_url = format!("{}/v1/resolve", s.url);
    let wrong_zone = keys.grant_for("C-99", vec![keys.waybill.zone() + 1], 5);
    let (status, _) = post_from(&c, &resolve_url, a, &resolve_body(&token, &wrong_zone)).await;
    assert_eq!(status, 429);
    // The proxy's other clients keep their own allowance: B is audited.
    let (status, v) = post_from(
        &c,
        &resolve_url,
        "198.51.100.8",
        &resolve_body(&token, &wrong_zone),
    )
    .await;
    assert_eq!((status, code(&v)), (403, "not_resolvable"));
    // A client naming itself in X-Forwarded-For, not through a trusted proxy,
    // is keyed on its own address: tested in the unit tests (here every
    // request comes from 127.0.0.1, the trusted proxy).

    // IPv6 clients share their /64's allowance.
    let (status, _) = post_from(&c, &batch_url, "2001:db8:5:6::1", &junk_batch).await;
    assert_eq!(status, 400);
    let (status, _) = post_from(&c, &batch_url, "2001:db8:5:6:ffff::2", &junk_batch).await;
    assert_eq!(status, 400);
    let (status, _) = post_from(&c, &batch_url, "2001:db8:5:6:abcd::3", &junk_batch).await;
    assert_eq!(status, 429, "the third from the same /64");
    let (status, _) = post_from(&c, &batch_url, "2001:db8:5:7::1", &junk_batch).await;
    assert_eq!(status, 400, "another /64");

    // A valid grant's batch with some junk tokens is answered token by token.
    let grant = keys.grant(50);
    let mixed = json!({ "tokens": [token, "junk"], "grant": grant, "purpose": "delivery" });
    let (status, v) = post_from(&c, &batch_url, "198.51.100.9", &mixed).await;
    assert_eq!(status, 200);
    assert_eq!(v["results"][0]["status"], 200);
    assert_eq!(v["results"][1]["error"]["code"], "malformed_token");

    // Refusals by reason in the metrics (a whole batch counts once).
    let metrics = c
        .get(format!("{}/metrics", s.admin_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "waybill_refusals_total{reason=\"malformed_grant\"} 5",
        "waybill_refusals_total{reason=\"suppressed\"} 3",
        "waybill_refusals_total{reason=\"zone_not_granted\"} 1",
        "waybill_refusals_total{reason=\"malformed_token\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    s.stop().await;

    // Records: A's 2 batches, B's 1, the /64s' 3, and the mixed batch's 2;
    // and the summaries of what was held back: A's first at once, its second
    // at shutdown, the /64's one at once.
    let (records, lines) = export_and_verify(&store, &keys, "export.jsonl").await;
    assert_eq!(count(&lines, "\"reason\":\"malformed_grant\""), 5);
    assert_eq!(count(&lines, "\"reason\":\"zone_not_granted\""), 1);
    assert_eq!(records, 8 + 3);
    assert_eq!(
        suppressed(&lines),
        [
            ("198.51.100.7".to_owned(), vec![1, 1]),
            ("2001:db8:5:6::/64".to_owned(), vec![1])
        ]
    );
}

/// The `suppressed` records of an export: each client group with its counts,
/// in log order.
fn suppressed(lines: &[String]) -> Vec<(String, Vec<u64>)> {
    let mut out: Vec<(String, Vec<u64>)> = Vec::new();
    for line in lines.iter().filter(|l| !l.starts_with("{\"checkpoint\"")) {
        let r: waybill_redact::AuditRecord = serde_json::from_str(line).unwrap();
        if r.kind != waybill_redact::AuditKind::Suppressed {
            continue;
        }
        let (client, n) = (r.client.unwrap(), r.count.unwrap());
        match out.iter_mut().find(|(c, _)| *c == client) {
            Some((_, counts)) => counts.push(n),
            None => out.push((client, vec![n])),
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_the_allowance_is_summarised_in_the_audit_log() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let mut config = keys.config(&store, "node-a");
    // Two refused requests at once per client, then 429 without a record.
    config.noise_per_minute = 4;
    config.trusted_proxies = vec!["127.0.0.1".into()];
    let s = Running::start(config).await;
    let c = client();
    let url = format!("{}/v1/resolve", s.url);
    let stolen = keys.grant_for("C-99", vec![keys.waybill.zone() + 1], 5);
    let body = resolve_body(&keys.token(), &stolen);
    // 50 stolen-grant attempts from one address, 10 from hosts of one /64,
    // all at once.
    let mut handles = Vec::new();
    for i in 0..60 {
        let (c, url, body) = (c.clone(), url.clone(), body.clone());
        let from = if i < 50 {
            "198.51.100.20".to_owned()
        } else {
            format!("2001:db8:9:9::{i:x}")
        };
        handles.push(tokio::spawn(async move {
            post_from(&c, &url, &from, &body).await.0
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 403).count(), 4);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 56);
    s.stop().await;
    // Nothing held back is missing from the verified log: each group's first
    // refusal past the allowance at once, the rest when the service stopped
    // (or a minute later, had it kept running).
    let (records, lines) = export_and_verify(&store, &keys, "export.jsonl").await;
    assert_eq!(count(&lines, "\"reason\":\"zone_not_granted\""), 4);
    assert_eq!(
        suppressed(&lines),
        [
            ("198.51.100.20".to_owned(), vec![1, 47]),
            ("2001:db8:9:9::/64".to_owned(), vec![1, 7])
        ]
    );
    assert_eq!(records, 4 + 4);
}
