//! The log, as an operator reads it: the `waybill-resolver` binary run with
//! JSON logs through a full session (resolves allowed and refused, a batch,
//! garbage, failed and good admin keys, metrics, readiness, shutdown). Every
//! line is JSON without ANSI codes; each request has one access line; failed
//! admin keys are logged; and no line holds a token, a grant's text, the admin
//! key or any value the service disclosed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

struct Service {
    child: Child,
    url: String,
    admin_url: String,
    lines: Arc<Mutex<Vec<String>>>,
    reader: std::thread::JoinHandle<()>,
}

impl Service {
    fn start(keys: &Keys, rust_log: &str, format: &str) -> Self {
        Self::start_with(keys, rust_log, format, &[])
    }

    fn start_with(keys: &Keys, rust_log: &str, format: &str, env: &[(&str, String)]) -> Self {
        // A free port: bound, read, released.
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
        };
        let (addr, admin) = (free(), free());
        let config = keys.path("resolver.toml");
        std::fs::write(
            &config,
            format!(
                "ring = {:?}\ntrust = [{:?}]\nstore = {:?}\nlisten = \"{addr}\"\nadmin_listen = \"{admin}\"\n\
                 audit_key = {:?}\nadmin_key_sha256 = {:?}\nallow_bearer_grants = true\n",
                keys.path("ring.json"),
                keys.issuer.public_key().to_string(),
                sqlite_url(keys.dir.path()),
                keys.path("audit-key.json"),
                hex_sha256("admin-secret"),
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_waybill-resolver"))
            .args(["serve", "--log-format", format, "--config"])
            .arg(&config)
            .env("RUST_LOG", rust_log)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    lines.lock().unwrap().push(line.unwrap());
                }
            })
        };
        let url = format!("http://{addr}");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(std::time::Instant::now() < deadline, "the service listens");
            std::thread::sleep(Duration::from_millis(50));
        }
        let admin_url = format!("http://{admin}");
        Self {
            child,
            url,
            admin_url,
            lines,
            reader,
        }
    }

    /// SIGTERM, then every line it wrote.
    fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "clean exit: {status}");
        self.reader.join().unwrap();
        let lines = self.lines.lock().unwrap().clone();
        lines
    }
}

/// `POST /v1/revocations` of one parcel with `key`; the status.
async fn revoke(c: &reqwest::Client, admin_url: &str, key: &str) -> u16 {
    c.post(format!("{admin_url}/v1/revocations"))
        .bearer_auth(key)
        .json(&serde_json::json!({ "parcels": ["SF0000000001"] }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Every string in a JSON value, recursively.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_have_one_access_line_per_request_and_no_secret_or_disclosed_value() {
    let keys = Keys::new();
    let s = Service::start(&keys, "info", "json");
    let c = client();
    let grant = keys.grant(50);
    let wrong_zone = keys.grant_for("C-20001", vec![keys.waybill.zone() + 1], 5);
    let tokens: Vec<String> = (0..3).map(|_| keys.token()).collect();
    let mut disclosed = Vec::new();
    let mut requests = 0;

    for t in &tokens {
        let (status, body) = post(
            &c,
            &format!("{}/v1/resolve", s.url),
            resolve_body(t, &grant),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        strings(&body, &mut disclosed);
        requests += 1;
    }
    let (status, body) = post(
        &c,
        &format!("{}/v1/resolve/batch", s.url),
        serde_json::json!({ "tokens": tokens, "grant": grant, "purpose": "delivery" }),
    )
    .await;
    assert_eq!(status, 200);
    strings(&body, &mut disclosed);
    requests += 1;
    let (status, _) = post(
        &c,
        &format!("{}/v1/resolve", s.url),
        resolve_body(&tokens[0], &wrong_zone),
    )
    .await;
    assert_eq!(status, 403);
    requests += 1;
    let (status, _) = post(
        &c,
        &format!("{}/v1/resolve", s.url),
        serde_json::json!({"token": 1}),
    )
    .await;
    assert_eq!(status, 400);
    requests += 1;
    for key in ["guess-1", "guess-2"] {
        let status = revoke(&c, &s.admin_url, key).await;
        assert_eq!(status, 401);
        requests += 1;
    }
    let status = revoke(&c, &s.admin_url, "admin-secret").await;
    assert_eq!(status, 200);
    requests += 1;
    for url in [
        format!("{}/metrics", s.admin_url),
        format!("{}/readyz", s.admin_url),
        format!("{}/healthz", s.url),
    ] {
        assert_eq!(c.get(url).send().await.unwrap().status(), 200);
        requests += 1;
    }

    let lines = s.stop();
    if std::env::var_os("SHOW_LOG").is_some() {
        lines.iter().for_each(|l| eprintln!("{l}"));
    }
    let mut access = 0;
    let mut admin_failures = 0;
    for line in &lines {
        assert!(!line.contains('\u{1b}'), "no ANSI codes: {line}");
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("JSON line ({e}): {line}"));
        let message = v["fields"]["message"].as_str().unwrap_or("");
        if message == "access" {
            access += 1;
            assert!(v["span"]["route"].is_string(), "the route: {line}");
            assert!(v["fields"]["status"].is_u64() && v["fields"]["latency_ms"].is_f64());
        }
        if message == "admin authentication failed" {
            admin_failures += 1;
        }
    }
    assert_eq!(access, requests, "one access line per request");
    assert!(admin_failures >= 1, "failed admin keys are logged");
    let allowed = lines
        .iter()
        .find(|l| l.contains("\"route\":\"/v1/resolve\"") && l.contains("\"reason\":\"allowed\""))
        .expect("an allowed resolve's access line");
    assert!(allowed.contains("C-10023"), "the courier id: {allowed}");
    assert!(allowed.contains("\"allowed\":1"), "{allowed}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"reason\":\"zone_not_granted\"")),
        "a refusal's audit reason"
    );

    // Disclosed values and secrets: none may appear in any line.
    disclosed.retain(|v| v.len() >= 4);
    assert!(!disclosed.is_empty());
    let recipient = keys.waybill.recipient();
    let mut secrets = disclosed;
    secrets.extend(tokens.iter().cloned());
    secrets.push(grant.clone());
    secrets.push(grant[4..40].to_owned());
    secrets.push(wrong_zone.clone());
    secrets.push("admin-secret".into());
    secrets.push("guess-1".into());
    secrets.push(recipient.name().as_str().to_owned());
    secrets.push(recipient.phone().national_digits().to_owned());
    for line in &lines {
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a log line holds a secret or disclosed value"
            );
        }
    }
    eprintln!(
        "{} log lines scanned for {} disclosed values and secrets: none found",
        lines.len(),
        secrets.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_log_is_honoured_text_has_no_ansi_and_the_environment_overrides_the_file() {
    let keys = Keys::new();
    // The environment overrides the file: the admin key's hash comes from a
    // file named by WAYBILL_RESOLVER_ADMIN_KEY_SHA256_FILE, as a systemd
    // credential would give it.
    let hash_file = keys.path("admin-hash");
    std::fs::write(&hash_file, format!("{}\n", hex_sha256("rotated-secret"))).unwrap();
    let s = Service::start_with(
        &keys,
        "warn",
        "text",
        &[(
            "WAYBILL_RESOLVER_ADMIN_KEY_SHA256_FILE",
            hash_file.display().to_string(),
        )],
    );
    let c = client();
    let (status, _) = post(
        &c,
        &format!("{}/v1/resolve", s.url),
        resolve_body(&keys.token(), &keys.grant(5)),
    )
    .await;
    assert_eq!(status, 200);
    let status = revoke(&c, &s.admin_url, "wrong").await;
    assert_eq!(status, 401);
    let status = revoke(&c, &s.admin_url, "admin-secret").await;
    assert_eq!(status, 401, "the file's admin key is overridden");
    let status = revoke(&c, &s.admin_url, "rotated-secret").await;
    assert_eq!(status, 200, "the environment's admin key");
    let lines = s.stop();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("WARN") && l.contains("admin authentication failed")),
        "the WARN line is written: {lines:?}"
    );
    for line in &lines {
        assert!(
            !line.contains('\u{1b}'),
            "no ANSI codes off a terminal: {line}"
        );
        assert!(
            !line.contains("INFO"),
            "RUST_LOG=warn holds INFO lines back: {line}"
        );
        assert!(!line.starts_with('{'), "text, not JSON: {line}");
    }
}
