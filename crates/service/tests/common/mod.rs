//! Shared setup: keys, a sealed token, grants, and a service on 127.0.0.1.

#![allow(dead_code)]

mod witness;
#[allow(unused_imports)]
pub use witness::*;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::{Duration, OffsetDateTime};
use tokio::sync::oneshot;
use waybill_redact::{
    parse_batch, AuditKey, DeviceKey, Grant, GrantSpec, IssuerKey, KeyRing, Purpose, Waybill,
};
use waybill_redact_service::{build, run, Config, Listeners, RateConfig};

pub const FIXTURES: &str = include_str!("../../../../fixtures/waybills.json");

pub struct Keys {
    pub dir: tempfile::TempDir,
    pub ring: KeyRing,
    pub issuer: IssuerKey,
    pub audit: AuditKey,
    pub waybill: Waybill,
}

impl Keys {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::generate();
        write_secret(&dir.path().join("ring.json"), &ring.to_json());
        let audit = AuditKey::generate();
        write_secret(&dir.path().join("audit-key.json"), &audit.to_json());
        Self {
            ring,
            issuer: IssuerKey::generate(),
            audit,
            waybill: parse_batch(FIXTURES).remove(0).unwrap(),
            dir,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn token(&self) -> String {
        let now = OffsetDateTime::now_utc();
        self.ring
            .seal(
                &self.waybill,
                &waybill_redact::Validity::new(now, Duration::days(7)).unwrap(),
            )
            .unwrap()
            .as_str()
            .to_owned()
    }

    pub fn grant_for(&self, courier: &str, zones: Vec<u32>, quota: u32) -> String {
        let now = OffsetDateTime::now_utc();
        self.issuer
            .issue(&GrantSpec::new(
                courier,
                zones,
                now - Duration::minutes(5),
                now + Duration::hours(8),
                quota,
            ))
            .unwrap()
            .as_str()
            .to_owned()
    }

    pub fn grant(&self, quota: u32) -> String {
        self.grant_for("C-10023", vec![self.waybill.zone()], quota)
    }

    /// A config for `store`, with a rate limit high enough for load tests.
    pub fn config(&self, store: &str, instance: &str) -> Config {
        Config {
            ring: self.path("ring.json"),
            trust: vec![self.issuer.public_key().to_string()],
            store: store.into(),
            instance: instance.into(),
            audit_key: self.path("audit-key.json"),
            checkpoint_every: 50,
            // sha256("admin-secret")
            admin_key_sha256: hex_sha256("admin-secret"),
            rate: RateConfig {
                burst: 100_000,
                per_minute: 60_000_000,
            },
            revocation_refresh_ms: 200,
            // These tests use bearer grants; tests/device.rs uses bound ones.
            allow_bearer_grants: true,
            ..Config::default()
        }
    }
}

/// A grant for the fixture's zone bound to `device`, as courier "C-77".
pub fn bound_grant(keys: &Keys, device: &DeviceKey, quota: u32) -> Grant {
    bound_grant_for(keys, "C-77", device, quota)
}

/// A grant for the fixture's zone bound to `device`.
pub fn bound_grant_for(keys: &Keys, courier: &str, device: &DeviceKey, quota: u32) -> Grant {
    let now = OffsetDateTime::now_utc();
    keys.issuer
        .issue(
            &GrantSpec::new(
                courier,
                vec![keys.waybill.zone()],
                now - Duration::minutes(5),
                now + Duration::hours(8),
                quota,
            )
            .with_device(Some(device.public_key())),
        )
        .unwrap()
}

/// A body signed by `device` for `tokens` (one token: `/v1/resolve`, more: batch).
pub fn signed(device: &DeviceKey, grant: &Grant, tokens: &[&str]) -> serde_json::Value {
    let now = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap();
    let proof = device
        .prove(grant.id(), Purpose::Delivery, tokens, now)
        .unwrap()
        .to_string();
    match tokens {
        [one] => serde_json::json!({"token": one, "grant": grant.as_str(), "purpose": "delivery",
                        "device_signature": proof}),
        _ => serde_json::json!({"tokens": tokens, "grant": grant.as_str(), "purpose": "delivery",
                    "device_signature": proof}),
    }
}

/// Writes a secret key file as an operator must: owner-only (the service
/// refuses a key file group or others may read).
pub fn write_secret(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

pub fn hex_sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// A running service; dropping `stop` (or sending) shuts it down.
pub struct Running {
    /// The public listener.
    pub url: String,
    /// The admin listener.
    pub admin_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), waybill_redact_service::ServiceError>>,
}

impl Running {
    pub async fn start(config: Config) -> Self {
        waybill_redact_service::init_logging(waybill_redact_service::LogFormat::Auto);
        let app = build(&config).await.unwrap();
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let listeners = Listeners {
            public: tokio::net::TcpListener::bind(any).await.unwrap(),
            admin: tokio::net::TcpListener::bind(any).await.unwrap(),
        };
        let url = format!("http://{}", listeners.public.local_addr().unwrap());
        let admin_url = format!("http://{}", listeners.admin.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(run(app, listeners, async {
            let _ = rx.await;
        }));
        Self {
            url,
            admin_url,
            stop: Some(tx),
            task,
        }
    }

    /// Graceful shutdown: drains, flushes the audit, signs the closing checkpoint.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap()
}

pub async fn post(
    c: &reqwest::Client,
    url: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

pub fn resolve_body(token: &str, grant: &str) -> serde_json::Value {
    serde_json::json!({ "token": token, "grant": grant, "purpose": "delivery" })
}

/// `n` concurrent resolves; returns the statuses.
pub async fn burst(urls: &[String], token: &str, grant: &str, n: usize) -> Vec<u16> {
    let c = client();
    let mut handles = Vec::new();
    for i in 0..n {
        let c = c.clone();
        let url = format!("{}/v1/resolve", urls[i % urls.len()]);
        let body = resolve_body(token, grant);
        handles.push(tokio::spawn(async move { post(&c, &url, body).await.0 }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Exports a store and verifies it with the audit key; returns (records, lines).
pub async fn export_and_verify(store: &str, keys: &Keys, name: &str) -> (u64, Vec<String>) {
    export_and_verify_allowing(store, keys, name, 0).await
}

/// As [`export_and_verify`], allowing `unsigned` records after a chain's last
/// checkpoint (a process killed with `kill -9` signs no closing one).
pub async fn export_and_verify_allowing(
    store: &str,
    keys: &Keys,
    name: &str,
    unsigned: u64,
) -> (u64, Vec<String>) {
    let out = keys.path(name);
    waybill_redact_service::export(store, &out).await.unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    // Strict: every record is covered by a signed checkpoint (the closing one).
    let rules = waybill_redact::AuditRules {
        key: Some(keys.audit.public_key()),
        allow_unwitnessed: unsigned,
        ..Default::default()
    };
    let report = waybill_redact::verify_audit_log_with(text.as_bytes(), &rules).unwrap();
    (report.records, text.lines().map(str::to_owned).collect())
}

pub fn count(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("resolver.db").display())
}

/// A plain-text connection to `url` (tests' own checks and set-up).
pub async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// A fresh database on the test cluster, or `None` (with a notice) when
/// `WAYBILL_TEST_POSTGRES_URL` is not set.
pub async fn postgres_db() -> Option<String> {
    let Ok(base) = std::env::var("WAYBILL_TEST_POSTGRES_URL") else {
        eprintln!(
            "skipped: WAYBILL_TEST_POSTGRES_URL is not set (run under scripts/with-postgres.sh)"
        );
        return None;
    };
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let name = format!("t_{}", hex::encode(rand_bytes()));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{name}"))
}

fn rand_bytes() -> [u8; 6] {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    b
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}

/// Every allowed record either stands for a 200 or is named by exactly one
/// later "answer not delivered" record of its chain: returns how many allowed
/// records stand for 200s and how many were not delivered.
pub fn allowed_and_undelivered(lines: &[String]) -> (usize, usize) {
    let mut allowed = std::collections::HashMap::new();
    let mut undelivered = Vec::new();
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(seq) = v["seq"].as_u64() else {
            continue; // a checkpoint
        };
        let instance = v["instance"].as_str().unwrap().to_owned();
        if v["outcome"] == "allowed" {
            allowed.insert((instance.clone(), seq), v["grant"].clone());
        }
        if v["kind"] == "undelivered" {
            let refers = v["refers_to"].as_u64().unwrap();
            assert!(refers < seq, "a not-delivered record names a later one");
            undelivered.push(((instance, refers), v["grant"].clone()));
        }
    }
    let mut named = std::collections::HashSet::new();
    for (key, grant) in &undelivered {
        let original = allowed
            .get(key)
            .unwrap_or_else(|| panic!("not-delivered record names {key:?}, not an allowed one"));
        assert_eq!(original, grant, "the not-delivered record names its grant");
        assert!(named.insert(key.clone()), "{key:?} named twice");
    }
    (allowed.len() - undelivered.len(), undelivered.len())
}

/// A service whose requests' deadline (1 s) is shorter than its store timeout
/// (5 s), so that a commit held up by a lock ends after the deadline.
pub async fn late_service(keys: &Keys, store: &str) -> Running {
    Running::start(Config {
        request_timeout_ms: 1000,
        store_timeout_ms: 5000,
        ..keys.config(store, "node-l")
    })
    .await
}

/// With the audit commits held up by a lock, four requests are answered 503 at
/// their deadline although their claims were granted; `release` lets the held
/// commits land. Then every allowed record of those four is followed by its
/// not-delivered record, and their quota units came back: ten more requests
/// under the quota of ten are all allowed.
pub async fn late_commits(
    s: Running,
    keys: &Keys,
    store: &str,
    grant: &str,
    release: impl std::future::Future,
) {
    let statuses = burst(std::slice::from_ref(&s.url), &keys.token(), grant, 4).await;
    assert_eq!(statuses, [503; 4], "answered at the deadline");
    release.await;
    // The writer commits the four allowed records, then their four
    // not-delivered records with the four units.
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let statuses = burst(std::slice::from_ref(&s.url), &keys.token(), grant, 10).await;
    assert_eq!(statuses, [200; 10], "the four units came back");
    s.stop().await;
    let (_, lines) = export_and_verify(store, keys, "export.jsonl").await;
    assert_eq!(allowed_and_undelivered(&lines), (10, 4));
}
