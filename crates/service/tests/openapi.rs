//! The OpenAPI document the admin listener serves describes what the service
//! does: every documented operation is served on its listener (and only there),
//! with a status the document lists and the `x-request-id` header; a path no
//! route serves is the fallback's 404. (That every route the routers serve is
//! documented is `openapi::tests` in the library: it reads the routers.)

mod common;

use common::{post, resolve_body, sqlite_url, Keys, Running};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_on_its_listener_as_documented() {
    let keys = Keys::new();
    let s = Running::start(keys.config(&sqlite_url(keys.dir.path()), "node-a")).await;
    // Redirects are answers to check, not to follow.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let doc: Value = c
        .get(format!("{}/openapi.json", s.admin_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let is_fallback =
        |status: u16, body: &Value| status == 404 && body["error"]["message"] == "no such route";
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let (home, away) = match op["tags"][0].as_str().unwrap() {
                "public" => (&s.url, &s.admin_url),
                "admin" => (&s.admin_url, &s.url),
                other => panic!("{method} {path}: tag {other}"),
            };
            let concrete = path.replace("{file}", "app.js");
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let send = |base: &String| {
                c.request(method.clone(), format!("{base}{concrete}"))
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
            };
            let r = send(home).await.unwrap();
            let status = r.status().as_u16();
            assert!(
                r.headers().contains_key("x-request-id"),
                "{method} {path}: x-request-id"
            );
            let documented = op["responses"]
                .as_object()
                .unwrap()
                .contains_key(&status.to_string());
            assert!(documented, "{method} {path}: {status} is not documented");
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert!(!is_fallback(status, &body), "{method} {path} not served");
            assert_ne!(status, 405, "{method} {path}");
            // Not on the other listener.
            let r = send(away).await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            assert!(is_fallback(status, &body), "{method} {path} on both");
            operations += 1;
        }
    }
    assert_eq!(operations, 14, "public 7 (with the courier app), admin 7");

    // The answers schemathesis cannot reach (it holds no valid grant) have the
    // documented shape: a disclosure, and a batch with one refused token.
    let schemas = &doc["components"]["schemas"];
    let disclosure = &schemas["Disclosure"];
    let check_disclosure = |d: &Value| {
        for key in d.as_object().unwrap().keys() {
            assert!(
                disclosure["properties"][key].is_object(),
                "{key} undocumented"
            );
        }
        for key in disclosure["required"].as_array().unwrap() {
            assert!(d.get(key.as_str().unwrap()).is_some(), "{key} missing");
        }
    };
    let grant = keys.grant(10);
    let token = keys.token();
    let (status, body) = post(
        &c,
        &format!("{}/v1/resolve", s.url),
        resolve_body(&token, &grant),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    check_disclosure(&body);
    let (status, body) = post(
        &c,
        &format!("{}/v1/resolve/batch", s.url),
        serde_json::json!({ "tokens": [keys.token(), "WB3:NOT A TOKEN"], "grant": grant, "purpose": "delivery" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1, "results only");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], 200);
    check_disclosure(&results[0]["disclosure"]);
    let refused = &results[1];
    let status = refused["status"].as_u64().unwrap();
    let codes =
        &schemas[format!("Error{status}")]["properties"]["error"]["properties"]["code"]["enum"];
    assert!(
        codes
            .as_array()
            .unwrap()
            .contains(&refused["error"]["code"]),
        "{refused}"
    );
    // Axum's own routes for `/` lead to the fallback, as the library's test
    // of the routers assumes.
    for base in [&s.url, &s.admin_url] {
        let r = c.get(format!("{base}/")).send().await.unwrap();
        let status = r.status().as_u16();
        assert!(is_fallback(status, &r.json().await.unwrap()));
    }
    s.stop().await;
}
