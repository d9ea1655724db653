//! `kill -9` of a serving process under load: every 200 a client received has
//! its audit row, and the chain resumes on restart. With a witness: `kill -9`
//! of the resolver, and separately of the witness, leaves a log that verifies
//! with the witness (every record under a cosigned checkpoint), and the witness
//! catches up after the restart.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use waybill_redact::{AuditRecord, WitnessPublicKey};

/// Starts `waybill-resolver serve` on `port`, with `witness` (its URL and
/// key) when given.
fn spawn(keys: &Keys, store: &str, port: u16, witness: Option<(&str, WitnessPublicKey)>) -> Child {
    let config = keys.path("resolver.toml");
    let mut toml = String::from(
        "checkpoint_every = 100\nallow_bearer_grants = true\n[rate]\nburst = 1000000\nper_minute = 600000000\n",
    );
    if let Some((url, key)) = witness {
        toml.push_str(&format!("[[witness]]\nurl = {url:?}\nkey = \"{key}\"\n"));
    }
    std::fs::write(&config, toml).unwrap();
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
    for _ in 0..400 {
        if let Ok(r) = c.get(format!("{url}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not become ready");
}

/// Graceful stop (SIGTERM): the service drains, flushes and signs its closing
/// checkpoint. Killed after 30 s.
fn terminate(child: &mut Child) {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the service stopped with {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("the service did not stop on SIGTERM within 30 s");
}

/// 32 clients resolving as fast as the service answers, counting the 200s.
struct Load {
    ok: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(url: &str, keys: &Keys) -> Self {
        let ok = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (token, grant) = (keys.token(), keys.grant(u32::MAX));
        let c = client();
        let tasks = (0..32)
            .map(|_| {
                let (ok, stop, c) = (ok.clone(), stop.clone(), c.clone());
                let body = resolve_body(&token, &grant);
                let url = format!("{url}/v1/resolve");
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        match c.post(&url).json(&body).send().await {
                            Ok(r) if r.status().as_u16() == 200 => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        Self { ok, stop, tasks }
    }

    fn answered(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }

    /// Waits (20 s at most) until `n` 200s came back in all.
    async fn until(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.answered() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the clients; the 200s they received in all.
    async fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        let answered = self.ok.clone();
        for t in self.tasks {
            t.await.unwrap();
        }
        answered.load(Ordering::Relaxed)
    }
}

/// Loads the service, kills it with SIGKILL once `target` 200s came back
/// (mid-load: requests are in flight), and returns how many 200s the clients
/// received in all.
async fn load_then_kill(child: &mut Child, url: &str, keys: &Keys, target: usize) -> usize {
    let load = Load::start(url, keys);
    load.until(target).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    load.stop().await
}

async fn kill_and_restart(store: &str, keys: &Keys, allowed_rows: impl AsyncFn() -> usize) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = spawn(keys, store, port, None);
    wait_ready(&url).await;
    let answered = load_then_kill(&mut child, &url, keys, 500).await;
    assert!(answered >= 500, "the load ran ({answered} answers)");
    let rows = allowed_rows().await;
    assert!(
        rows >= answered,
        "{answered} answered 200s but only {rows} audit rows"
    );
    // Restarted, the chain continues where the durable part ended.
    let mut child = spawn(keys, store, port, None);
    wait_ready(&url).await;
    let again = load_then_kill(&mut child, &url, keys, 50).await;
    assert!(again >= 50);
    // The second kill leaves up to `checkpoint_every` records unsigned; the
    // first kill's tail was signed by the restarted instance's first checkpoint.
    let name = format!("export-{port}.jsonl");
    let (records, _) = export_and_verify_allowing(store, keys, &name, 100).await;
    assert!(records >= u64::try_from(answered + again).unwrap());
}

/// Ends a run with a witness: stops the resolver gracefully (its closing
/// checkpoint covers every record), starts it once more so that it offers that
/// checkpoint to the witness, waits (20 s at most) until the witness has
/// cosigned it, and stops it again. Then the export must verify strictly: every
/// record under a checkpoint the witness cosigned, consistent with the
/// witness's own copy. Returns the records.
async fn settle_and_verify(
    mut child: Child,
    store: &str,
    keys: &Keys,
    port: u16,
    witness: &WitnessProcess,
) -> u64 {
    terminate(&mut child);
    let export = |name: &'static str| async move {
        let out = keys.path(name);
        waybill_redact_service::export(store, &out).await.unwrap();
        std::fs::read_to_string(out).unwrap()
    };
    let records = export("closed.jsonl")
        .await
        .lines()
        .filter(|l| serde_json::from_str::<AuditRecord>(l).is_ok())
        .count();
    let records = u64::try_from(records).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = spawn(keys, store, port, Some((&witness.url, witness.key)));
    wait_ready(&url).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while witnessed_now(witness).is_none_or(|cp| cp.size() < records) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        witnessed(witness).size(),
        records,
        "the witness caught up with the closing checkpoint"
    );
    terminate(&mut child);
    let report = verify_witnessed(&export("witnessed.jsonl").await, keys, witness);
    assert_eq!(report.records, records);
    assert!(report.cosigned >= 1, "{report:?}");
    report.records
}

/// kill -9 of the resolver under load, with a witness: every 200 has its row,
/// the witness cosigns the restarted instance's checkpoints, and the log
/// verifies with the witness.
async fn resolver_killed_with_a_witness(
    store: &str,
    keys: &Keys,
    allowed_rows: impl AsyncFn() -> usize,
) {
    let witness = spawn_witness(keys, "node-k").await;
    let w = Some((witness.url.as_str(), witness.key));
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = spawn(keys, store, port, w);
    wait_ready(&url).await;
    let answered = load_then_kill(&mut child, &url, keys, 500).await;
    assert!(answered >= 500, "the load ran ({answered} answers)");
    let rows = allowed_rows().await;
    assert!(
        rows >= answered,
        "{answered} 200s but only {rows} audit rows"
    );
    let before = witnessed_now(&witness).map_or(0, |cp| cp.size());
    // Restarted under load: the first batch signs the killed instance's tail,
    // and the witness cosigns past what it had.
    let child = spawn(keys, store, port, w);
    wait_ready(&url).await;
    let load = Load::start(&url, keys);
    load.until(300).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while witnessed_now(&witness).is_none_or(|cp| cp.size() <= rows as u64)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = load.stop().await;
    let caught_up = witnessed(&witness).size();
    assert!(
        caught_up > u64::try_from(rows).unwrap() && caught_up > before,
        "the witness cosigned past the kill: {before} → {caught_up} (rows at the kill: {rows})"
    );
    let records = settle_and_verify(child, store, keys, port, &witness).await;
    assert!(records >= u64::try_from(answered + again).unwrap());
}

/// kill -9 of the witness under load: the resolver keeps answering, the
/// restarted witness resumes from its durable checkpoint and catches up, and
/// the log verifies with the witness.
async fn witness_killed(store: &str, keys: &Keys) {
    let witness = spawn_witness(keys, "node-k").await;
    let (witness_url, witness_key) = (witness.url.clone(), witness.key);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let child = spawn(keys, store, port, Some((&witness_url, witness_key)));
    wait_ready(&url).await;
    let load = Load::start(&url, keys);
    // Past a few cosigned checkpoints (one per 100 records).
    load.until(300).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while witnessed_now(&witness).is_none_or(|cp| cp.size() < 200) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let at_kill = witnessed(&witness).size();
    let answered_at_kill = load.answered();
    drop(witness); // SIGKILL, mid-load
    load.until(answered_at_kill + 300).await;
    assert!(
        load.answered() >= answered_at_kill + 300,
        "the resolver kept answering without its witness"
    );
    let witness = spawn_witness_on(keys, "node-k", port_of(&witness_url), None).await;
    let durable = witnessed(&witness).size();
    assert!(
        durable >= at_kill,
        "the witness lost its checkpoint: {at_kill} → {durable}"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while witnessed(&witness).size() <= durable + 100 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answered = load.stop().await;
    assert!(
        witnessed(&witness).size() > durable + 100,
        "the restarted witness caught up ({durable} → {})",
        witnessed(&witness).size()
    );
    let records = settle_and_verify(child, store, keys, port, &witness).await;
    assert!(records >= u64::try_from(answered).unwrap());
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

fn sqlite_rows(keys: &Keys) -> impl AsyncFn() -> usize {
    let db = keys.path("resolver.db");
    async move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM audit WHERE outcome = 'allowed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        usize::try_from(n).unwrap()
    }
}

fn postgres_rows(db: &str) -> impl AsyncFn() -> usize {
    let db = db.to_owned();
    async move || {
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
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_every_answered_record_through_kill_9() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    kill_and_restart(&store, &keys, sqlite_rows(&keys)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_answered_record_through_kill_9() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    kill_and_restart(&db, &keys, postgres_rows(&db)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_resolver_killed_under_load_with_a_witness_verifies_witnessed() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    resolver_killed_with_a_witness(&store, &keys, sqlite_rows(&keys)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_resolver_killed_under_load_with_a_witness_verifies_witnessed() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    resolver_killed_with_a_witness(&db, &keys, postgres_rows(&db)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_witness_killed_under_load_catches_up_and_the_log_verifies() {
    let keys = Keys::new();
    let store = sqlite_url(keys.dir.path());
    witness_killed(&store, &keys).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_witness_killed_under_load_catches_up_and_the_log_verifies() {
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    witness_killed(&db, &keys).await;
}
