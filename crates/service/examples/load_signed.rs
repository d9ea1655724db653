//! Load for device-bound grants: `oha` repeats one body, and every repeat of a
//! device-signed request is a replay. This signs `REQUESTS` requests up front,
//! each with its own nonce, then sends them over `CONNECTIONS` connections to
//! 127.0.0.1 for at most `SECS` seconds, and prints a summary in the subset of
//! oha's JSON that `scripts/bench-resolver.sh` reads (req/s, p50, p99 in seconds,
//! status counts).
//!
//! ```sh
//! cargo run --release -p waybill-redact-service --example bench_fixture -- DIR
//! cargo run --release -p waybill-redact-service --example load_signed -- \
//!     http://127.0.0.1:8080 DIR [SECS=15] [CONNECTIONS=64] [REQUESTS=300000]
//! ```
//!
//! The signatures are made before the clock starts, so the numbers are the
//! service's. Requests left unsent when the time is up are dropped; they are
//! signed with the time before the run, so keep SECS well inside the service's
//! `request_window_secs` (120 s by default).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use waybill_redact::{DeviceKey, Grant, Purpose};

struct Args {
    url: String,
    dir: PathBuf,
    secs: u64,
    connections: usize,
    requests: usize,
}

fn args() -> Result<Args, Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: load_signed URL DIR [SECS] [CONNECTIONS] [REQUESTS]";
    let number = |i: usize, default: u64| -> Result<u64, Box<dyn std::error::Error>> {
        Ok(a.get(i).map(|s| s.parse()).transpose()?.unwrap_or(default))
    };
    let url = a.first().ok_or(usage)?;
    if !url.starts_with("http://127.0.0.1:") {
        return Err("load only 127.0.0.1 (http://127.0.0.1:PORT)".into());
    }
    Ok(Args {
        url: format!("{}/v1/resolve", url.trim_end_matches('/')),
        dir: PathBuf::from(a.get(1).ok_or(usage)?),
        secs: number(2, 15)?.clamp(1, 60),
        connections: usize::try_from(number(3, 64)?.clamp(1, 1024))?,
        requests: usize::try_from(number(4, 300_000)?.clamp(1, 5_000_000))?,
    })
}

/// Bodies for `n` requests, each signed with a fresh nonce.
fn sign_all(args: &Args) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let device = DeviceKey::from_json(&std::fs::read_to_string(args.dir.join("device.json"))?)?;
    let bound: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(args.dir.join("bound.json"))?)?;
    let token = bound["token"].as_str().ok_or("bound.json: token")?;
    let grant = bound["grant"].as_str().ok_or("bound.json: grant")?;
    let grant_id = Grant::parse(grant)?.id();
    let time = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    (0..args.requests)
        .map(|_| {
            let proof = device.prove(grant_id, Purpose::Delivery, &[token], time)?;
            Ok(serde_json::json!({
                "token": token,
                "grant": grant,
                "purpose": "delivery",
                "device_signature": proof.to_string(),
            })
            .to_string())
        })
        .collect()
}

/// One connection's share: latencies in seconds and status counts.
#[derive(Default)]
struct Tally {
    latencies: Vec<f64>,
    statuses: BTreeMap<String, u64>,
}

async fn worker(
    client: reqwest::Client,
    url: Arc<String>,
    bodies: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(body) = bodies.get(i) else { break };
        let started = Instant::now();
        let status = match client
            .post(url.as_str())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16().to_string();
                // Read the whole answer, as a client would.
                let _ = r.bytes().await;
                status
            }
            Err(_) => "error".to_owned(),
        };
        tally.latencies.push(started.elapsed().as_secs_f64());
        *tally.statuses.entry(status).or_default() += 1;
    }
    tally
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest rank; the index is within bounds for p in 0..=1.
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    let bodies = Arc::new(sign_all(&args)?);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = Arc::new(args.url.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.secs);
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            tokio::spawn(worker(
                client.clone(),
                url.clone(),
                bodies.clone(),
                next.clone(),
                deadline,
            ))
        })
        .collect();
    let mut all = Tally::default();
    for w in workers {
        let t = w.await?;
        all.latencies.extend(t.latencies);
        for (k, v) in t.statuses {
            *all.statuses.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.latencies.sort_by(f64::total_cmp);
    let sent = all.latencies.len();
    if sent == bodies.len() {
        eprintln!("note: all {sent} signed requests were sent before the time was up; sign more");
    }
    let summary = serde_json::json!({
        "summary": { "requestsPerSec": sent as f64 / elapsed, "total": elapsed },
        "latencyPercentiles": {
            "p50": percentile(&all.latencies, 0.50),
            "p99": percentile(&all.latencies, 0.99),
        },
        "statusCodeDistribution": all.statuses,
    });
    println!("{summary}");
    Ok(())
}
