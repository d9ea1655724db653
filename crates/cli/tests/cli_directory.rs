//! `seal --directory http(s)://…` against the real resolver service on
//! 127.0.0.1: the seller fetches the carrier's directory from
//! `GET /v1/directory`, verifies it against `--carrier` and caches it; with the
//! service gone it seals from the fresh cache; a stale cache is refused, not
//! used; an unreachable service, another carrier's key, an expired and an
//! altered directory each fail with an error that says so.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use time::{Duration, OffsetDateTime};
use waybill_redact::{IssuerKey, KeyRing, Token, ZoneDirectory};
use waybill_redact_service::Config;

#[path = "common/service.rs"]
mod service;
use service::Service;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/waybills.json");

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("waybill-redact")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

struct Env {
    dir: tempfile::TempDir,
    issuer: IssuerKey,
    ring: KeyRing,
    zone: u32,
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn carrier(&self) -> String {
        self.issuer.public_key().to_string()
    }

    fn directory(&self, not_before: OffsetDateTime, lifetime: Duration) -> ZoneDirectory {
        ZoneDirectory::publish(&self.ring, &self.issuer, &[self.zone], not_before, lifetime)
            .unwrap()
    }

    /// `seal` of the first fixture record as a seller, with `--directory URL`.
    fn seal(&self, url: &str, cache: &Path, carrier: &str) -> std::process::Output {
        run(&[
            "seal",
            "--directory",
            url,
            "--directory-cache",
            p(cache),
            "--sealer",
            p(&self.path("seller.json")),
            "--carrier",
            carrier,
            "--input",
            p(&self.path("one.json")),
        ])
    }
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let f = |n: &str| dir.path().join(n);
    let ring = KeyRing::generate();
    std::fs::write(f("ring.json"), ring.to_json().as_bytes()).unwrap();
    // Secret key files are refused unless owner-only.
    std::fs::set_permissions(
        f("ring.json"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let issuer = IssuerKey::generate();
    let records: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(FIXTURES).unwrap()).unwrap();
    let first = &records[0];
    let zone = u32::try_from(first["zone"].as_u64().unwrap()).unwrap();
    std::fs::write(f("one.json"), serde_json::json!([first]).to_string()).unwrap();
    stdout(&["sealer", "new", "--out", p(&f("seller.json"))]);
    stdout(&["audit", "key-new", "--out", p(&f("audit-key.json"))]);
    Env {
        dir,
        issuer,
        ring,
        zone,
    }
}

fn service(e: &Env, directory: &ZoneDirectory) -> Service {
    std::fs::write(e.path("directory.json"), directory.to_json()).unwrap();
    Service::start(Config {
        ring: e.path("ring.json"),
        trust: vec![e.carrier()],
        store: format!("sqlite:{}", e.path("store.db").display()),
        instance: "node-a".into(),
        audit_key: e.path("audit-key.json"),
        directories: vec![e.path("directory.json")],
        ..Config::default()
    })
}

/// One HTTP answer from a server that is not the carrier's: whatever `body`
/// holds (an attacker in the path, or a misconfigured mirror).
fn serve_once(body: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1/directory", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: public, \
             max-age=3600\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(answer.as_bytes()).unwrap();
    });
    url
}

#[test]
fn the_directory_is_fetched_verified_cached_and_used_offline_until_stale() {
    let e = env();
    let now = OffsetDateTime::now_utc();
    let directory = e.directory(now - Duration::days(1), Duration::days(90));
    let s = service(&e, &directory);
    let url = format!("{}/v1/directory", s.url);
    let cache = e.path("cache/directory.json");

    // Fetched from the service, verified, cached (the folder is created).
    let out = e.seal(&url, &cache, &e.carrier());
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap();
    assert!(token.starts_with("WB3:"), "{token}");
    let header = Token::parse_header(token.trim()).unwrap();
    assert_eq!((header.suite(), header.zone()), (3, e.zone));
    let cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    assert_eq!(cached["url"], url.as_str());
    assert_eq!(cached["directory"], directory.to_json().as_str());
    let fetched_at = cached["fetched_at"].as_u64().unwrap();
    let fresh_until = cached["fresh_until"].as_u64().unwrap();
    // The service's Cache-Control: public, max-age=3600 (and the directory
    // expires later than that).
    assert_eq!(fresh_until - fetched_at, 3600);

    // Another carrier's key: the directory is refused, and the error says why.
    let other = IssuerKey::generate().public_key().to_string();
    let out = e.seal(&url, &e.path("other-cache.json"), &other);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the zone directory is another carrier's"),
        "{}",
        stderr(&out)
    );
    assert!(!e.path("other-cache.json").exists());

    // The service goes away: the fresh cache still seals, with no network.
    s.stop();
    let out = e.seal(&url, &cache, &e.carrier());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("WB3:"));

    // Without a cached copy, an unreachable service is said to be one.
    let out = e.seal(&url, &e.path("none.json"), &e.carrier());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot fetch the zone directory") && err.contains("no cached copy"),
        "{err}"
    );

    // The cached copy went stale: refused, not used, and the error says both.
    let text = std::fs::read_to_string(&cache).unwrap();
    let stale = text.replace(
        &format!("\"fresh_until\": {fresh_until}"),
        &format!("\"fresh_until\": {fetched_at}"),
    );
    assert_ne!(stale, text);
    std::fs::write(&cache, stale).unwrap();
    let out = e.seal(&url, &cache, &e.carrier());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot fetch the zone directory") && err.contains("is stale and is not used"),
        "{err}"
    );
}

#[test]
fn an_expired_or_altered_directory_from_the_network_is_refused() {
    let e = env();
    let now = OffsetDateTime::now_utc();
    // Expired an hour ago.
    let expired = e.directory(
        now - Duration::days(91),
        Duration::days(91) - Duration::hours(1),
    );
    let url = serve_once(expired.to_json());
    let cache = e.path("cache.json");
    let out = e.seal(&url, &cache, &e.carrier());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("zone directory: expired"),
        "{}",
        stderr(&out)
    );
    assert!(!cache.exists(), "a refused directory is not cached");

    // Valid, but its start moved a second earlier on the way.
    let valid = e.directory(now - Duration::days(1), Duration::days(90));
    let start = valid.not_before_unix();
    let json = valid.to_json();
    let altered = json.replace(
        &format!("\"not_before\": {start}"),
        &format!("\"not_before\": {}", start - 1),
    );
    assert_ne!(altered, json);
    let url = serve_once(altered);
    let out = e.seal(&url, &cache, &e.carrier());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("signature is invalid (the directory was altered)"),
        "{}",
        stderr(&out)
    );
    assert!(!cache.exists());
}
