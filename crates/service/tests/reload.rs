//! Live reload under load: the ring is rotated ten times while couriers keep
//! resolving; no request fails, and each new key's tokens resolve right after
//! the reload. A damaged ring file is refused and the service keeps going.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use waybill_redact_service::{build, run, App};

/// Writes `text` to `path` the way an operator should: a new owner-only file
/// renamed over the old, so the service never reads half a file.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    write_secret(&tmp, text);
    std::fs::rename(&tmp, path).unwrap();
}

async fn wait_for_reloads(app: &App, n: u64) {
    // Generous: CI machines are slow and shared.
    for _ in 0..3000 {
        if app.live().reloads() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no reload {n} within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_reloads_under_load_drop_no_request_and_a_rotated_key_resolves_at_once() {
    let mut keys = Keys::new();
    let mut config = keys.config(&sqlite_url(keys.dir.path()), "node-a");
    config.reload_check_ms = 20;
    waybill_redact_service::init_logging(waybill_redact_service::LogFormat::Auto);
    let app = build(&config).await.unwrap();
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let listeners = waybill_redact_service::Listeners {
        public: tokio::net::TcpListener::bind(any).await.unwrap(),
        admin: tokio::net::TcpListener::bind(any).await.unwrap(),
    };
    let url = format!("http://{}", listeners.public.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(app.clone(), listeners, async {
        let _ = rx.await;
    }));

    // Bounded load: four couriers resolving a kid-1 token, 2 ms apart each.
    let old_token = keys.token();
    let grant = keys.grant(u32::MAX);
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (url, token, grant, stop) =
                (url.clone(), old_token.clone(), grant.clone(), stop.clone());
            tokio::spawn(async move {
                let c = client();
                let mut statuses = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let body = resolve_body(&token, &grant);
                    statuses.push(post(&c, &format!("{url}/v1/resolve"), body).await.0);
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                statuses
            })
        })
        .collect();

    let c = client();
    for round in 1..=10u64 {
        let kid = keys.ring.rotate().unwrap();
        replace(&keys.path("ring.json"), &keys.ring.to_json());
        wait_for_reloads(&app, round).await;
        // Sealed with the key just added: resolves at once.
        let fresh = keys.token();
        assert!(fresh.starts_with("WB3:"));
        let (status, body) = post(
            &c,
            &format!("{url}/v1/resolve"),
            resolve_body(&fresh, &grant),
        )
        .await;
        assert_eq!(status, 200, "round {round}, kid {kid}: {body}");
    }
    // A damaged ring is refused; the previous state keeps serving.
    replace(&keys.path("ring.json"), "{\"format\": \"not a ring\"}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.live().reloads(), 10);
    let (status, _) = post(
        &c,
        &format!("{url}/v1/resolve"),
        resolve_body(&keys.token(), &grant),
    )
    .await;
    assert_eq!(status, 200);

    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        let statuses = w.await.unwrap();
        total += statuses.len();
        assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    }
    assert!(total > 0);
    println!("{total} requests during 10 reloads, all answered 200");
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}
