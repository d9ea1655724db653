//! `kill -9` of a serving process under load: every 200 a client received has
//! its audit row, and the chain resumes on restart.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(keys: &Keys, store: &str, port: u16) -> Child {
    let config = keys.path("resolver.toml");
    std::fs::write(
        &config,
        "checkpoint_every = 100\nallow_bearer_grants = true\n[rate]\nburst = 1000000\nper_minute = 600000000\n",
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_waybill-resolver"))
        .arg("serve")
        .args(["--ring", keys.path("ring.json").to_str().unwrap()])
        .args(["--trust", &keys.issuer.public_key().to_string()])
        .args(["--store", store])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--admin-listen", "127.0.0.1:0"])
        .args(["--instance", "node-k"])
        .args(["--audit-key", keys.path("audit-key.json").to_str().unwrap()])
        .args(["--config", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(url: &str) {
    let c = client();
    for _ in 0..200 {
        if let Ok(r) = c.get(format!("{url}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not become ready");
}

/// Loads the service from 32 clients, kills it with SIGKILL once `target` 200s
/// came back (mid-load: requests are in flight), and returns how many 200s the
/// clients received in all.
async fn load_then_kill(child: &mut Child, url: &str, keys: &Keys, target: usize) -> usize {
    let ok = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (token, grant) = (keys.token(), keys.grant(u32::MAX));
    let c = client();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (ok, stop, c) = (ok.clone(), stop.clone(), c.clone());
        let body = resolve_body(&token, &grant);
        let url = format!("{url}/v1/resolve");
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match c.post(&url).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 200 => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }));
    }
    for _ in 0..2000 {
        if ok.load(Ordering::Relaxed) >= target {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    ok.load(Ordering::Relaxed)
}

async fn kill_and_restart(store: &str, keys: &Keys, allowed_rows: impl AsyncFn() -> usize) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = spawn(keys, store, port);
    wait_ready(&url).await;
    let answered = load_then_kill(&mut child, &url, keys, 500).await;
    assert!(answered >= 500, "the load ran ({answered} answers)");
    let rows = allowed_rows().await;
    assert!(
        rows >= answered,
        "{answered} answered 200s but only {rows} audit rows"
    );
    // Restarted, the chain continues where the durable part ended.
    let mut child = spawn(keys, store, port);
    wait_ready(&url).await;
    let again = load_then_kill(&mut child, &url, keys, 50).await;
    assert!(again >= 50);
    let (records, _) = export_and_verify(store, keys, &format!("export-{port}.jsonl")).await;
    assert!(records >= u64::try_from(answered + again).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_answered_record_through_kill_9() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    let db = keys.path("resolver.db");
    kill_and_restart(&store, &keys, async || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM audit WHERE outcome = 'allowed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        usize::try_from(n).unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_answered_record_through_kill_9() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    kill_and_restart(&db, &keys, async || {
        let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let n: i64 = client
            .query_one("SELECT count(*) FROM audit WHERE outcome = 'allowed'", &[])
            .await
            .unwrap()
            .get(0);
        usize::try_from(n).unwrap()
    })
    .await;
}
