//! The two listeners and what every answer looks like: couriers' routes on the
//! public one, operators' on the admin one; `Content-Type` checked (415); every
//! error in the JSON error shape, 404, 405 and 413 included.

mod common;

use common::*;

fn error_code(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_and_admin_routes_are_apart_and_every_error_is_json() {
    let keys = Keys::new();
    let s = Running::start(keys.config(&sqlite_url(keys.dir.path()), "node-a")).await;
    let c = client();

    // Each listener has its own routes; the other's are 404, in JSON.
    for (base, path, want) in [
        (&s.url, "/healthz", 200),
        (&s.url, "/metrics", 404),
        (&s.url, "/readyz", 404),
        (&s.url, "/openapi.json", 404),
        (&s.admin_url, "/metrics", 200),
        (&s.admin_url, "/readyz", 200),
        (&s.admin_url, "/openapi.json", 200),
        (&s.admin_url, "/healthz", 404),
    ] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), want, "{path}");
        if want == 404 {
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(error_code(&body), "not_found");
        }
    }
    let (status, body) = post(
        &c,
        &format!("{}/v1/revocations", s.url),
        serde_json::json!({ "parcels": ["SF1"] }),
    )
    .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = post(
        &c,
        &format!("{}/v1/resolve", s.admin_url),
        resolve_body(&keys.token(), &keys.grant(1)),
    )
    .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));

    // 405 in JSON.
    let r = c.get(format!("{}/v1/resolve", s.url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "method_not_allowed");

    // A valid request as text/plain, a form and multipart: 415, nothing resolved.
    let good = resolve_body(&keys.token(), &keys.grant(5)).to_string();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = c
            .post(format!("{}/v1/resolve", s.url))
            .header("content-type", ct)
            .body(good.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 415, "{ct}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(error_code(&body), "unsupported_media_type");
    }
    let r = c
        .post(format!("{}/v1/resolve", s.url))
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415, "no Content-Type");
    let r = c
        .post(format!("{}/v1/resolve", s.url))
        .header("content-type", "application/json; charset=utf-8")
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "a charset parameter is fine");

    // 413 in JSON: declared too large, and streamed too large without a length.
    let big = format!("{{\"token\":\"{}\"}}", "A".repeat(70 * 1024));
    let r = c
        .post(format!("{}/v1/resolve", s.url))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "body_too_large");
    let (status, body) = chunked_post(&s.url, "/v1/resolve", big.as_bytes()).await;
    assert_eq!(status, 413);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error_code(&body), "body_too_large");
    // The same size is within a batch's limit (and refused there as malformed).
    // A fresh client: the server closes a connection whose body it refused.
    let r = client()
        .post(format!("{}/v1/resolve/batch", s.url))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // Every answer carries the request id the access log names. (A fresh
    // client again: `c`'s connection may be the one closed after the 413.)
    let r = client()
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("x-request-id").is_some());
    s.stop().await;
}

/// A POST whose body is sent chunked (no length up front), over a raw socket;
/// returns the status and the body.
async fn chunked_post(base: &str, path: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(8 * 1024) {
        let sent = async {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            stream.write_all(chunk).await?;
            stream.write_all(b"\r\n").await
        };
        if sent.await.is_err() {
            break; // the server answered and closed early
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}
