//! The courier's web app as the service serves it (SQLite store, 127.0.0.1):
//! the shell's files with their types, gzip when asked, revalidation by ETag;
//! the security headers on the app and on every API answer, denials included;
//! and `courier_app = false` turning `/app/` off while the API keeps its headers.
//! (The app itself is tested in chromium by `scripts/test-web.sh`.)

mod common;

use common::{client, sqlite_url, Keys, Running};

const CSP: &str = "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

fn assert_security(r: &reqwest::Response, what: &str) {
    let h = r.headers();
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(get("content-security-policy"), CSP, "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("permissions-policy"), "camera=(self)", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_files_and_headers() {
    let keys = Keys::new();
    let service = Running::start(keys.config(&sqlite_url(keys.dir.path()), "app")).await;
    let c = client();

    let index = c.get(format!("{}/app/", service.url)).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_security(&index, "/app/");
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(index.headers()["cache-control"], "no-cache");
    let etag = index.headers()["etag"].clone();
    assert!(index
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"device-key\""));

    // Unchanged: 304 and no body.
    let again = c
        .get(format!("{}/app/", service.url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    for (file, kind) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("sw.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("manifest.webmanifest", "application/manifest+json"),
        ("icon-192.png", "image/png"),
    ] {
        let r = c
            .get(format!("{}/app/{file}", service.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{file}");
        assert_eq!(r.headers()["content-type"], kind, "{file}");
        assert_security(&r, file);
    }

    // gzip only when asked (reqwest here decodes nothing, so the bytes are raw).
    let gz = c
        .get(format!("{}/app/app.js", service.url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let body = gz.bytes().await.unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b]);

    let missing = c
        .get(format!("{}/app/../v1/resolve", service.url))
        .send()
        .await
        .unwrap();
    assert_ne!(missing.status(), 200);
    let missing = c
        .get(format!("{}/app/nope.js", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Every API answer: no-store and the same headers, a denial's too.
    let denied = c
        .post(format!("{}/v1/resolve", service.url))
        .json(&common::resolve_body(&keys.token(), "WG2:garbage"))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 400);
    assert_eq!(denied.headers()["cache-control"], "no-store");
    assert_security(&denied, "a denial");
    let grant = keys.grant(10);
    let allowed = c
        .post(format!("{}/v1/resolve", service.url))
        .json(&common::resolve_body(&keys.token(), &grant))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["cache-control"], "no-store");
    assert_security(&allowed, "a disclosure");
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn courier_app_false_turns_the_app_off() {
    let keys = Keys::new();
    let mut config = keys.config(&sqlite_url(keys.dir.path()), "no-app");
    config.courier_app = false;
    let service = Running::start(config).await;
    let c = client();
    let r = c.get(format!("{}/app/", service.url)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(format!("{}/healthz", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_security(&r, "/healthz");
    service.stop().await;
}
