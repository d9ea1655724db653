//! `/metrics` through a real run: every family the docs and alert rules name
//! is there, in the OpenMetrics text format, and no label value is anything but
//! a fixed name: never a token, a grant, a disclosed field or a path asked for.

mod common;

use common::*;

/// Every label value of every sample line.
fn label_values(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((_, labels)) = line.split_once('{') else {
            continue;
        };
        let labels = labels.rsplit_once('}').unwrap().0;
        for pair in labels.split("\",") {
            let value = pair.split_once("=\"").unwrap().1;
            out.push(value.trim_end_matches('"').to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_have_every_family_and_no_label_carries_a_secret_or_a_disclosed_value() {
    let keys = Keys::new();
    let s = Running::start(keys.config(&sqlite_url(keys.dir.path()), "node-a")).await;
    let c = client();
    let grant = keys.grant(50);
    let tokens: Vec<String> = (0..3).map(|_| keys.token()).collect();
    let mut secrets = vec![grant.clone(), grant[4..40].to_owned()];
    secrets.extend(tokens.iter().cloned());
    for t in &tokens {
        let (status, body) = post(
            &c,
            &format!("{}/v1/resolve", s.url),
            resolve_body(t, &grant),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        for field in ["tracking_number", "name", "phone", "address"] {
            if let Some(v) = body[field].as_str() {
                secrets.push(v.to_owned());
            }
        }
    }
    let (status, _) = post(
        &c,
        &format!("{}/v1/resolve/batch", s.url),
        serde_json::json!({ "tokens": tokens[..2], "grant": grant, "purpose": "delivery" }),
    )
    .await;
    assert_eq!(status, 200);
    let wrong_zone = keys.grant_for("C-20001", vec![keys.waybill.zone() + 1], 5);
    secrets.push(wrong_zone.clone());
    let (status, _) = post(
        &c,
        &format!("{}/v1/resolve", s.url),
        resolve_body(&tokens[0], &wrong_zone),
    )
    .await;
    assert_eq!(status, 403);
    // A path that holds a token: no route, so it counts as "unmatched".
    let r = c
        .get(format!("{}/v1/{}", s.url, &tokens[0][..40]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    secrets.push(tokens[0][..40].to_owned());
    let r = c
        .post(format!("{}/v1/revocations", s.admin_url))
        .bearer_auth("wrong-admin-key")
        .json(&serde_json::json!({ "parcels": ["SF1"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    secrets.push("wrong-admin-key".into());

    let r = c
        .get(format!("{}/metrics", s.admin_url))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = r.text().await.unwrap();
    s.stop().await;

    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    for needle in [
        "waybill_resolve_requests_total{outcome=\"allowed\"} 5",
        "waybill_resolve_requests_total{outcome=\"denied\"} 1",
        "waybill_resolve_requests_total{outcome=\"store_unavailable\"} 0",
        "waybill_refusals_total{reason=\"zone_not_granted\"} 1",
        "waybill_request_duration_seconds_count{route=\"/v1/resolve\",status=\"200\"} 3",
        "waybill_request_duration_seconds_count{route=\"/v1/resolve\",status=\"403\"} 1",
        "waybill_request_duration_seconds_count{route=\"/v1/resolve/batch\",status=\"200\"} 1",
        "waybill_request_duration_seconds_count{route=\"/v1/revocations\",status=\"401\"} 1",
        "waybill_request_duration_seconds_count{route=\"unmatched\",status=\"404\"} 1",
        "waybill_resolve_batch_tokens_count 1",
        "waybill_resolve_batch_tokens_sum 2.0",
        "waybill_audit_queue_depth 0",
        "waybill_bearer_grant_requests_total 5",
        "# TYPE waybill_store_commit_duration_seconds histogram",
        "# TYPE waybill_store_commit_jobs histogram",
        "# TYPE waybill_store_commits counter",
        "# TYPE waybill_store_committed_jobs counter",
        "# TYPE process_cpu_seconds counter",
        "# TYPE process_resident_memory_bytes gauge",
        "# TYPE process_virtual_memory_bytes gauge",
        "# TYPE process_open_fds gauge",
        "# TYPE process_max_fds gauge",
        "# TYPE process_threads gauge",
        "# TYPE process_start_time_seconds gauge",
        &format!(
            "waybill_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
    // No witness is configured: no witness lag.
    assert!(!text.contains("waybill_audit_unwitnessed"));

    let values = label_values(&text);
    assert!(values.len() > 30, "read the labels: {values:?}");
    for v in &values {
        let fixed = v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./{}+-".contains(c));
        assert!(fixed && v.len() <= 32, "label value {v:?}");
    }
    secrets.retain(|v| v.len() >= 4);
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "the metrics hold a secret or disclosed value"
        );
    }
}
