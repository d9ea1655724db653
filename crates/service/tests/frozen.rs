//! A store that stops answering under load: PostgreSQL frozen with SIGSTOP
//! (the postmaster and every backend: a network partition, as the server sees
//! it), and SQLite locked by another connection, each for 8 s.
//!
//! Asserted: while it lasts, clients get 503 within the request deadline (plus
//! a margin) and no request hangs; no audit record says "allowed" for an
//! answer that was not sent (each allowed record either stands for a 200 the
//! clients received or is followed by an "answer not delivered" record naming
//! it); the quota spent equals the 200s delivered; `/readyz` fails during the
//! outage and recovers after it; the exported log verifies. Each drill takes
//! about 20 s. The figures are printed (`--nocapture`).
//!
//! The PostgreSQL drill runs under `scripts/with-postgres.sh` (it freezes the
//! throwaway cluster; cargo runs test binaries one at a time, and this one's
//! other tests use SQLite: keep every other PostgreSQL test out of this file);
//! without `PGDATA_TEST` it prints a notice and returns.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tokio::sync::Mutex;
use waybill_redact_service::Config;

/// The request deadline and the store timeout of the drills.
const DEADLINE: Duration = Duration::from_millis(2000);
/// How late a 503 may be after the deadline (timers on a loaded machine).
const MARGIN: Duration = Duration::from_millis(1500);
/// A client that waits this long for an answer counts the request as hung.
const HUNG: Duration = Duration::from_secs(10);
const CLIENTS: usize = 4;
const OUTAGE_AT: Duration = Duration::from_secs(3);
const OUTAGE: Duration = Duration::from_secs(8);
const LOAD: Duration = Duration::from_secs(17);

/// One answer a client received: when it was sent (since the load began), how
/// long it took, and its status (0: no answer within [`HUNG`]).
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: Duration,
    took: Duration,
    status: u16,
}

/// What the load saw.
struct Drill {
    answers: Vec<Seen>,
    /// `/readyz` polls: (when, status; 0 for no answer).
    ready: Vec<(Duration, u16)>,
}

impl Drill {
    /// Runs [`CLIENTS`] clients and a `/readyz` poller against `service` for
    /// [`LOAD`], with `outage` started at [`OUTAGE_AT`] and `recover` run
    /// [`OUTAGE`] later.
    async fn run(
        service: &Running,
        keys: &Keys,
        grant: &str,
        outage: impl FnOnce(),
        recover: impl FnOnce(),
    ) -> Self {
        let c = reqwest::Client::builder().timeout(HUNG).build().unwrap();
        let start = Instant::now();
        let answers = Arc::new(Mutex::new(Vec::new()));
        let ready = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (c, answers) = (c.clone(), answers.clone());
            let url = format!("{}/v1/resolve", service.url);
            let body = resolve_body(&keys.token(), grant);
            tasks.push(tokio::spawn(async move {
                while start.elapsed() < LOAD {
                    let at = start.elapsed();
                    let status = match c.post(&url).json(&body).send().await {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    };
                    let took = start.elapsed() - at;
                    answers.lock().await.push(Seen { at, took, status });
                }
            }));
        }
        {
            let (c, ready) = (c.clone(), ready.clone());
            let url = format!("{}/readyz", service.admin_url);
            tasks.push(tokio::spawn(async move {
                while start.elapsed() < LOAD {
                    let at = start.elapsed();
                    let status = match c.get(&url).send().await {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    };
                    ready.lock().await.push((at, status));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }));
        }
        tokio::time::sleep(OUTAGE_AT).await;
        outage();
        tokio::time::sleep(OUTAGE).await;
        recover();
        for t in tasks {
            t.await.unwrap();
        }
        let answers = answers.lock().await.clone();
        let ready = ready.lock().await.clone();
        Self { answers, ready }
    }

    fn ok(&self) -> usize {
        self.answers.iter().filter(|s| s.status == 200).count()
    }

    /// Asserts the clients' side and prints the figures; returns the 200s.
    fn check(&self, name: &str) -> usize {
        let (from, to) = (OUTAGE_AT, OUTAGE_AT + OUTAGE);
        let hung = self.answers.iter().filter(|s| s.status == 0).count();
        assert_eq!(
            hung, 0,
            "{name}: {hung} requests got no answer within {HUNG:?}"
        );
        let slowest = self.answers.iter().map(|s| s.took).max().unwrap();
        assert!(
            slowest <= DEADLINE + MARGIN,
            "{name}: an answer took {slowest:?} (deadline {DEADLINE:?})"
        );
        for s in &self.answers {
            assert!(
                s.status == 200 || s.status == 503,
                "{name}: status {} at {:?}",
                s.status,
                s.at
            );
        }
        // Sent well inside the outage: nothing can commit, every answer is 503.
        let inside: Vec<&Seen> = self
            .answers
            .iter()
            .filter(|s| s.at > from + Duration::from_millis(500) && s.at + s.took < to)
            .collect();
        assert!(
            inside.len() >= CLIENTS,
            "{name}: the clients kept asking during the outage ({} answers)",
            inside.len()
        );
        assert!(
            inside.iter().all(|s| s.status == 503),
            "{name}: a 200 while the store could not commit: {:?}",
            inside
                .iter()
                .filter(|s| s.status != 503)
                .collect::<Vec<_>>()
        );
        let mut took: Vec<Duration> = inside.iter().map(|s| s.took).collect();
        took.sort();
        let unavailable = self.answers.iter().filter(|s| s.status == 503).count();
        // Readiness: fails during the outage, ready again after it.
        let not_ready = self
            .ready
            .iter()
            .filter(|(at, st)| *at > from && *at < to && *st != 200)
            .count();
        assert!(
            not_ready > 0,
            "{name}: /readyz never failed during the outage"
        );
        let ready_again = self
            .ready
            .iter()
            .find(|(at, st)| *at > to && *st == 200)
            .map(|(at, _)| *at - to);
        assert!(
            ready_again.is_some(),
            "{name}: /readyz did not recover: {:?}",
            self.ready
                .iter()
                .filter(|(at, _)| *at > to)
                .collect::<Vec<_>>()
        );
        let first_ok = self
            .answers
            .iter()
            .filter(|s| s.at >= to && s.status == 200)
            .map(|s| s.at + s.took - to)
            .min();
        assert!(first_ok.is_some(), "{name}: no 200 after the outage");
        eprintln!(
            "{name}: {} answers, {} x 200, {unavailable} x 503; inside the outage {} answers, \
             all 503, latency median {:?} max {:?}; slowest answer overall {slowest:?}; \
             first 200 {:?} after the outage ended; /readyz failed {not_ready} of {} polls \
             during it and was ready again {:?} after it",
            self.answers.len(),
            self.ok(),
            inside.len(),
            took[took.len() / 2],
            took[took.len() - 1],
            first_ok.unwrap(),
            self.ready
                .iter()
                .filter(|(at, _)| *at > from && *at < to)
                .count(),
            ready_again.unwrap(),
        );
        self.ok()
    }
}

/// The store's side after a drill: the log verifies, its allowed records
/// stand for the `ok` 200s or are followed by not-delivered records, and the
/// quota `spent` is `ok`.
async fn check_log(name: &str, store: &str, keys: &Keys, ok: usize, spent: i64) {
    let (_, lines) = export_and_verify(store, keys, "export.jsonl").await;
    let (delivered, undelivered) = allowed_and_undelivered(&lines);
    eprintln!("{name}: {undelivered} allowed records followed by \"answer not delivered\"");
    assert_eq!(delivered, ok, "{name}: allowed records standing for 200s");
    assert_eq!(
        usize::try_from(spent).unwrap(),
        ok,
        "{name}: quota spent = 200s delivered"
    );
}

fn config(keys: &Keys, store: &str) -> Config {
    Config {
        request_timeout_ms: u64::try_from(DEADLINE.as_millis()).unwrap(),
        ..keys.config(store, "node-f")
    }
}

/// Stops the throwaway cluster's processes: the postmaster (from
/// `postmaster.pid`) first, so that it forks no new backend, then its
/// children, each backend included. Returns them all.
fn freeze(data: &str) -> Vec<String> {
    let pid_file = std::fs::read_to_string(format!("{data}/postmaster.pid")).unwrap();
    let postmaster = pid_file.lines().next().unwrap().trim().to_owned();
    signal("STOP", std::slice::from_ref(&postmaster));
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …: comm may hold spaces, so split after ')'.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        if after.split_whitespace().nth(1) == Some(postmaster.as_str()) {
            children.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    signal("STOP", &children);
    children.push(postmaster);
    children
}

fn signal(signal: &str, pids: &[String]) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .args(pids)
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pids:?}");
}

/// Resumes the frozen processes, also when the test fails half-way, so that
/// the tests after it find a running database.
#[derive(Default)]
struct Thaw(std::sync::Mutex<Vec<String>>);

impl Thaw {
    fn thaw(&self) {
        let pids = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        if !pids.is_empty() {
            let _ = Command::new("kill").arg("-CONT").args(&pids).status();
        }
    }
}

impl Drop for Thaw {
    fn drop(&mut self) {
        self.thaw();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_frozen_for_8_s_answers_503_in_time_and_spends_nothing_for_nobody() {
    let Ok(data) = std::env::var("PGDATA_TEST") else {
        eprintln!("skipped: PGDATA_TEST is not set (run under scripts/with-postgres.sh)");
        return;
    };
    let Some(db) = postgres_db().await else {
        return;
    };
    let keys = Keys::new();
    let grant = keys.grant(1_000_000);
    let s = Running::start(config(&keys, &db)).await;
    let frozen = Thaw::default();
    let drill = Drill::run(
        &s,
        &keys,
        &grant,
        || {
            let pids = freeze(&data);
            // The postmaster, its helpers and the service's connections.
            assert!(pids.len() > 6, "the postmaster and its backends: {pids:?}");
            *frozen.0.lock().unwrap() = pids;
        },
        || frozen.thaw(),
    )
    .await;
    frozen.thaw();
    let ok = drill.check("postgres");
    s.stop().await;

    let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let spent: i64 = client
        .query_one("SELECT COALESCE(sum(used), 0)::int8 FROM quota", &[])
        .await
        .unwrap()
        .get(0);
    check_log("postgres", &db, &keys, ok, spent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_locked_for_8_s_answers_503_in_time_and_spends_nothing_for_nobody() {
    let keys = Keys::new();
    let grant = keys.grant(1_000_000);
    let store = sqlite_url(keys.dir.path());
    let s = Running::start(config(&keys, &store)).await;
    // Another connection holds the write lock: the writer's commits wait their
    // busy timeout and fail.
    let path = keys.path("resolver.db");
    let (lock_tx, lock_rx) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        lock_rx.recv().unwrap();
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        locked_tx.send(()).unwrap();
        // Held until told to let go (or the test fails and drops the sender).
        let _ = lock_rx.recv();
        let _ = conn.execute_batch("ROLLBACK");
    });
    let drill = Drill::run(
        &s,
        &keys,
        &grant,
        || {
            lock_tx.send(()).unwrap();
            locked_rx.recv().unwrap();
        },
        || lock_tx.send(()).unwrap(),
    )
    .await;
    holder.join().unwrap();
    let ok = drill.check("sqlite");
    s.stop().await;

    let conn = rusqlite::Connection::open(keys.path("resolver.db")).unwrap();
    let spent: i64 = conn
        .query_row("SELECT COALESCE(sum(used), 0) FROM quota", [], |r| r.get(0))
        .unwrap();
    check_log("sqlite", &store, &keys, ok, spent).await;
}

/// Commits that end after their requests' deadline, deterministically: SQLite's
/// file is write-locked for longer than the deadline but shorter than the store
/// timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_records_committed_after_the_deadline_are_followed_by_not_delivered_records() {
    let keys = Keys::new();
    let grant = keys.grant(10);
    let store = sqlite_url(keys.dir.path());
    let s = late_service(&keys, &store).await;
    let conn = rusqlite::Connection::open(keys.path("resolver.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    late_commits(s, &keys, &store, &grant, async {
        conn.execute_batch("ROLLBACK").unwrap();
    })
    .await;
}
