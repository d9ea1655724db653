//! PostgreSQL failover under load: the primary is killed (`kill -9` of the
//! postmaster and every backend, as a crash of its host would) and its
//! synchronous standby promoted. The service, on a multi-host URL with
//! `target_session_attrs=read-write`, answers 503 until it has reconnected by
//! itself; afterwards every 200 a client received has its audit row on the new
//! primary, no grant's quota is exceeded, nonces seen before the switch are
//! still refused, and the audit log verifies. Prints the time from the kill to
//! the first 200 of a request sent after it.
//!
//! Run under `scripts/with-postgres.sh --standby`; without
//! `WAYBILL_TEST_PG_FAILOVER_URL` it prints a notice and returns. Bounded: the
//! load stops 60 s after the kill at the latest.

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use waybill_redact::{DeviceKey, Grant};

/// Load clients, each a courier with its own device and grant.
const CLIENTS: usize = 6;
/// Client 0's grant: it spends half before the kill (then waits), and runs
/// out after the switch.
const SMALL_QUOTA: u32 = 40;
/// 200s before the kill.
const BEFORE: usize = 150;
/// 200s of requests sent after the kill before the load stops.
const AFTER: usize = 100;

/// One answered request.
struct Answer {
    client: usize,
    sent: Instant,
    done: Instant,
    status: u16,
    code: String,
    body: Value,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

/// The command prefix that runs a program as the cluster's user.
fn run_as() -> Vec<String> {
    std::env::var("PG_RUN_AS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// SIGKILL to the postmaster of `pgdata` and to every child it has, at once.
fn crash(pgdata: &str) {
    let pid_file = std::fs::read_to_string(format!("{pgdata}/postmaster.pid")).unwrap();
    let postmaster = pid_file.lines().next().unwrap().trim().to_owned();
    let mut pids = vec![postmaster.clone()];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …: comm may hold spaces, so split after ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().nth(1));
        if ppid == Some(postmaster.as_str()) {
            pids.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    let status = Command::new("kill")
        .arg("-KILL")
        .args(&pids)
        .status()
        .unwrap();
    assert!(status.success(), "kill -KILL {pids:?}");
}

fn promote(pgdata: &str) {
    let run_as = run_as();
    let mut command = Command::new(
        run_as
            .first()
            .map_or_else(|| env("PG_CTL_TEST"), Clone::clone),
    );
    if !run_as.is_empty() {
        command.args(&run_as[1..]).arg(env("PG_CTL_TEST"));
    }
    let status = command
        .args(["promote", "-w", "-t", "30", "-D", pgdata])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl promote");
}

fn code(v: &Value) -> String {
    v["error"]["code"].as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failover_to_a_synchronous_standby_loses_nothing() {
    let Ok(failover_url) = std::env::var("WAYBILL_TEST_PG_FAILOVER_URL") else {
        eprintln!("skipped: WAYBILL_TEST_PG_FAILOVER_URL is not set (run under scripts/with-postgres.sh --standby)");
        return;
    };
    let primary = pg_connect(&env("WAYBILL_TEST_POSTGRES_URL")).await;
    let name = "failover_test";
    primary
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let store = failover_url.replacen("/postgres?", &format!("/{name}?"), 1);
    let keys = Keys::new();
    let s = Running::start(keys.config(&store, "node-f")).await;

    let token = keys.token();
    let clients: Arc<Vec<(DeviceKey, Grant)>> = Arc::new(
        (0..CLIENTS)
            .map(|i| {
                let device = DeviceKey::generate().unwrap();
                let quota = if i == 0 { SMALL_QUOTA } else { 1_000_000 };
                let grant = bound_grant_for(&keys, &format!("C-F{i}"), &device, quota);
                (device, grant)
            })
            .collect(),
    );
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let switched = Arc::new(AtomicBool::new(false));
    let url = format!("{}/v1/resolve", s.url);
    let http = client();
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let (clients, answers, stop, switched, http, url, token) = (
            clients.clone(),
            answers.clone(),
            stop.clone(),
            switched.clone(),
            http.clone(),
            url.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (device, grant) = &clients[i];
            let mut ok = 0;
            while !stop.load(Ordering::Relaxed) {
                if i == 0 && ok >= SMALL_QUOTA / 2 && !switched.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                let body = signed(device, grant, &[&token]);
                let sent = Instant::now();
                let (status, answer) = post(&http, &url, body.clone()).await;
                answers.lock().unwrap().push(Answer {
                    client: i,
                    sent,
                    done: Instant::now(),
                    status,
                    code: code(&answer),
                    body,
                });
                if status == 200 {
                    ok += 1;
                } else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    let oks = |answers: &Mutex<Vec<Answer>>, after: Option<Instant>| {
        answers
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.status == 200 && after.is_none_or(|k| a.sent > k))
            .count()
    };
    let start = Instant::now();
    while oks(&answers, None) < BEFORE && start.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        oks(&answers, None) >= BEFORE,
        "the load ran before the kill"
    );

    let killed = Instant::now();
    switched.store(true, Ordering::Relaxed);
    crash(&env("PGDATA_TEST"));
    promote(&env("PGDATA_STANDBY_TEST"));
    let promoted = killed.elapsed();
    let small_exhausted = |answers: &Mutex<Vec<Answer>>| {
        answers
            .lock()
            .unwrap()
            .iter()
            .any(|a| a.client == 0 && a.sent > killed && a.code == "quota_exceeded")
    };
    while (oks(&answers, Some(killed)) < AFTER || !small_exhausted(&answers))
        && killed.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let answers = std::mem::take(&mut *answers.lock().unwrap());

    // Between the kill and the reconnection: 503s only, never a 200 that
    // could lack its row (checked below), never another error.
    let first_ok = answers
        .iter()
        .filter(|a| a.status == 200 && a.sent > killed)
        .map(|a| a.done)
        .min()
        .expect("the service answered 200 again after the failover");
    let outage = first_ok - killed;
    let mut statuses: HashMap<(u16, String), usize> = HashMap::new();
    for a in &answers {
        *statuses.entry((a.status, a.code.clone())).or_default() += 1;
        let expected = a.status == 200
            || a.status == 503
            || (a.client == 0 && a.status == 429 && a.code == "quota_exceeded");
        assert!(expected, "client {}: {} {}", a.client, a.status, a.code);
    }
    let unavailable = answers.iter().filter(|a| a.status == 503).count();
    eprintln!(
        "failover: kill to first 200 of a request sent after it: {} ms (promotion took {} ms); \
         {unavailable} answers 503 meanwhile; answers by status: {statuses:?}",
        outage.as_millis(),
        promoted.as_millis()
    );
    let ok_after = answers
        .iter()
        .filter(|a| a.status == 200 && a.sent > killed)
        .count();
    assert!(ok_after >= AFTER, "{ok_after} 200s after the switch");
    assert!(
        answers
            .iter()
            .any(|a| a.client == 0 && a.sent > killed && a.code == "quota_exceeded"),
        "client 0's grant ran out after the switch"
    );

    // Nonces seen before the switch are still refused.
    let before_kill: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == 200 && a.done < killed)
        .collect();
    let replays: Vec<&&Answer> = before_kill.iter().rev().take(20).collect();
    for a in &replays {
        let (status, answer) = post(&http, &url, a.body.clone()).await;
        assert_eq!(
            (status, code(&answer).as_str()),
            (403, "request_replayed"),
            "a nonce admitted before the failover"
        );
    }
    s.stop().await;

    // Every 200 has its audit row on the new primary, per courier; no grant's
    // quota is exceeded; the log verifies.
    let standby_url = env("WAYBILL_TEST_PG_STANDBY_URL");
    let new_primary = pg_connect(&format!(
        "{}/{name}",
        standby_url.rsplit_once('/').unwrap().0
    ))
    .await;
    let in_recovery: bool = new_primary
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!in_recovery, "the standby was promoted");
    for (i, (_, grant)) in clients.iter().enumerate() {
        let received = answers
            .iter()
            .filter(|a| a.client == i && a.status == 200)
            .count();
        let rows: i64 = new_primary
            .query_one(
                "SELECT count(*) FROM audit WHERE courier = $1 AND outcome = 'allowed'",
                &[&format!("C-F{i}")],
            )
            .await
            .unwrap()
            .get(0);
        let rows = usize::try_from(rows).unwrap();
        assert!(
            rows >= received,
            "courier C-F{i}: {received} answered 200s but {rows} allowed rows"
        );
        let used: i64 = new_primary
            .query_one(
                "SELECT used FROM quota WHERE grant_id = $1",
                &[&grant.id().to_string()],
            )
            .await
            .unwrap()
            .get(0);
        assert!(
            usize::try_from(used).unwrap() >= rows,
            "C-F{i}: {used} units used, {rows} allowed"
        );
        if i == 0 {
            assert!(received <= SMALL_QUOTA as usize && rows <= SMALL_QUOTA as usize);
            assert!(used <= i64::from(SMALL_QUOTA), "quota exceeded: {used}");
        }
    }
    let (records, _) = export_and_verify(&store, &keys, "export.jsonl").await;
    let allowed = answers.iter().filter(|a| a.status == 200).count();
    assert!(records >= u64::try_from(allowed).unwrap());
}
