//! The OpenAPI document of both listeners, generated from the code: each
//! route is registered by `utoipa-axum` from the same `#[utoipa::path]`
//! attribute that documents it, bodies and answers are the handlers' own types
//! (`ToSchema`), and what the layers add to every route (the deadline's 503,
//! the body limit's 413, the `Content-Type` check's 415, the `x-request-id`
//! header, the JSON error shape with the codes each status can carry) is
//! added here from the same facts the layers use.
//!
//! Operations tagged `public` are served on `listen`, those tagged `admin` on
//! `admin_listen`.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, PartialSchema};

use crate::api::{ErrorAnswer, ErrorCode, MAX_BATCH};
use crate::http::App;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "waybill-redact resolver",
        description = "Couriers resolve sealed waybill QR tokens (`WB3:`, `WB2:`) within their grant (`WG2:`, bound to a device; `WG1:` where bearer grants are allowed). Every attempt is audited before the answer.\n\nTwo listeners: operations tagged `public` are on `listen` (couriers), those tagged `admin` on `admin_listen` (operators; keep it on a private network).\n\nEvery answer carries `x-request-id` (the line of the access log that tells of it) and the security headers `Content-Security-Policy`, `Referrer-Policy: no-referrer`, `Permissions-Policy`, `X-Content-Type-Options: nosniff`; API answers are `Cache-Control: no-store`. Every error is `{\"error\": {\"code\", \"message\"}}`: act on `code` (its status is fixed), show `message` to people. A path that no route serves is 404 `not_found`, a method a route does not take 405 `method_not_allowed`.",
    ),
    tags(
        (name = "public", description = "On the public listener (`listen`): what couriers and sellers call."),
        (name = "admin", description = "On the admin listener (`admin_listen`): revocations, readiness, metrics, this document and the auditors' proofs."),
    ),
    components(schemas(ErrorAnswer, ErrorCode)),
    modifiers(&AdminKey),
)]
struct ApiDoc;

/// The admin key: `Authorization: Bearer KEY`, whose SHA-256 is
/// `admin_key_sha256`.
struct AdminKey;

impl Modify for AdminKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "adminKey",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The routers of both listeners (before their layers) and the document that
/// describes them, built together.
pub(crate) struct Api {
    /// The public listener's routes.
    pub(crate) public: Router<Arc<App>>,
    /// The admin listener's routes.
    pub(crate) admin: Router<Arc<App>>,
    /// The OpenAPI document.
    pub(crate) document: Value,
}

/// Builds both listeners' routes and their document. The courier's web app
/// joins the public listener when `courier_app` is on.
pub(crate) fn api(courier_app: bool) -> Api {
    let mut public = crate::http::public_routes();
    if courier_app {
        public = public.merge(crate::app::routes());
    }
    let (public, public_doc) = public.split_for_parts();
    let (admin, admin_doc) = crate::admin::routes().split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(public_doc);
    doc.merge(admin_doc);
    let mut document = serde_json::to_value(&doc).unwrap_or(Value::Null);
    complete(&mut document);
    Api {
        public,
        admin,
        document,
    }
}

/// The document as `/openapi.json` serves it, made once per setting.
pub(crate) fn served(courier_app: bool) -> &'static str {
    static DOCS: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    DOCS[usize::from(courier_app)].get_or_init(|| {
        serde_json::to_string_pretty(&api(courier_app).document).unwrap_or_default()
    })
}

/// The statuses the layers can answer on every route with a JSON body.
const BODY_STATUSES: [(u16, &str); 3] = [
    (400, "The body is not a valid request."),
    (413, "The body is larger than this route accepts."),
    (
        415,
        "The body is not declared `Content-Type: application/json`.",
    ),
];

/// What the deadline layer answers on every route.
const DEADLINE: &str =
    "The request ran past its deadline (`request_timeout_ms`); nothing was disclosed. Retry later.";

/// Adds what the layers do to every operation, and the error answers' shape.
fn complete(doc: &mut Value) {
    let codes = codes_by_status();
    let mut schemas = Map::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                let has_body = op.get("requestBody").is_some();
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                    continue;
                };
                if has_body {
                    for (status, why) in BODY_STATUSES {
                        responses
                            .entry(status.to_string())
                            .or_insert_with(|| json!({ "description": why }));
                    }
                }
                responses
                    .entry("503")
                    .or_insert_with(|| json!({ "description": DEADLINE }));
                for (status, response) in responses.iter_mut() {
                    let Ok(status) = status.parse::<u16>() else {
                        continue;
                    };
                    complete_response(status, response, &codes, &mut schemas);
                    if (path.as_str(), method.as_str(), status) == ("/app/{file}", "get", 200) {
                        app_file_content(response);
                    }
                }
            }
        }
    }
    if let Some(components) = doc
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
        .and_then(Value::as_object_mut)
    {
        components.extend(schemas);
        if let Some(Value::Object(body)) = components.get_mut("RevocationBody") {
            // What a derive cannot say: at least one revocation in all.
            let lists = ["grants", "parcels", "sealers"];
            body.insert(
                "anyOf".into(),
                lists
                    .iter()
                    .map(|l| json!({ "required": [l], "properties": { *l: { "minItems": 1 } } }))
                    .collect(),
            );
        }
    }
}

/// Every error code by its status, from [`ErrorCode`]'s own schema.
fn codes_by_status() -> BTreeMap<u16, Vec<ErrorCode>> {
    let schema = serde_json::to_value(ErrorCode::schema()).unwrap_or(Value::Null);
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for name in schema["enum"].as_array().into_iter().flatten() {
        if let Ok(code) = serde_json::from_value::<ErrorCode>(name.clone()) {
            by_status
                .entry(code.status().as_u16())
                .or_default()
                .push(code);
        }
    }
    by_status
}

/// The `x-request-id` header on every answer; for an error, the JSON error
/// shape whose `code` is one of the status's codes, with an example of each.
fn complete_response(
    status: u16,
    response: &mut Value,
    codes: &BTreeMap<u16, Vec<ErrorCode>>,
    schemas: &mut Map<String, Value>,
) {
    let Some(response) = response.as_object_mut() else {
        return;
    };
    let headers = response
        .entry("headers")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(headers) = headers {
        headers.insert(
            "x-request-id".into(),
            json!({
                "description": "This request's id, as the access log names it (the service makes it; a client's own is replaced).",
                "required": true,
                "schema": { "type": "string", "pattern": "^[0-9a-f]{8}-[0-9]+$" },
            }),
        );
    }
    let Some(codes) = codes.get(&status).filter(|_| status >= 400) else {
        return;
    };
    let name = format!("Error{status}");
    let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    schemas.insert(
        name.clone(),
        json!({
            "description": format!("An error answer with status {status}."),
            "type": "object",
            "required": ["error"],
            "properties": { "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": { "type": "string", "enum": names },
                    "message": { "type": "string" },
                },
            }},
        }),
    );
    let examples: Map<String, Value> = codes
        .iter()
        .map(|c| {
            (
                c.as_str().to_owned(),
                json!({ "value": { "error": { "code": c.as_str(), "message": c.summary() } } }),
            )
        })
        .collect();
    response.insert(
        "content".into(),
        json!({ "application/json": {
            "schema": { "$ref": format!("#/components/schemas/{name}") },
            "examples": examples,
        }}),
    );
}

/// The app's files: each content type the embedded files have (the web
/// manifest is a JSON object; the rest are text or bytes).
fn app_file_content(response: &mut Value) {
    let content: Map<String, Value> = crate::app::content_types()
        .map(|t| {
            let schema = if t.contains("json") {
                json!({ "type": "object" })
            } else {
                json!({ "type": "string" })
            };
            (t.to_owned(), json!({ "schema": schema }))
        })
        .collect();
    if let Some(r) = response.as_object_mut() {
        r.insert("content".into(), Value::Object(content));
    }
}

// Examples: docs/TOKEN.md's vector 4 (a device-bound grant, its device's proof
// over one request) and vector 1's token. A unit test checks they are there.

/// Vector 1's token.
pub(crate) const EXAMPLE_TOKEN: &str = "WB2:V50V50OK14X97FTXNA*96DL6WW66:6FA7*96PL6BB8UM84Y8N09.B9GN9ZY991ASCA2OALZA/3BIAQCVPWZQ2 3AGDMZDOEM3FJZ HS094FPT%6QG74SM*NMB.2XZA5CCO3O8YCSJS1QJ$Z09YKQYC4L0/OGA2I-BLXOO+BUGS65UM62DNVJ4PJEVOSQAOS8TWTAXVR6T%ZAEMUZ:OI0IT-H$CUH5TM1LXVS0965G79REX3O*+0ZK7EYUTK0LT2*NAH4AMQ5Y+2*ZKWFE2QJ:HEMLGUVE0H69:MA$VL*N+EU%.N3TPJR0ZRIVMJBJNU.70V5ZZ4.3BG76ELR%EAUH2*NE900%WD-*UH6KB%26KITZP03NHUKZAS+YVSZL.1T12";
/// Vector 4's grant.
pub(crate) const EXAMPLE_GRANT: &str = "WG2:3D0/A84HC1798N5NJK.UKG.KZ8L9KLSVL2/LW5M7M8$968466K6000H203D1AAK000H209G1B48000U60V50OK1L 97XT8MIU:0S S*.7Q 6MQAM-S*+3FDSL7MW1S4VDOTSLAW9YF4233UI8SDQV8P:U FDDIA :4TK1K:BE0L/:8Q.4OVSJU9RPC.+R4Z3R-V4WVBC3N60R+JQ+N1 Q-L534IMOFK/G*HGFUA70";
/// Vector 4's device proof.
pub(crate) const EXAMPLE_PROOF: &str = "WR1:000000006b0a43b05a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a87c301dc34d614a9ee5905e0c78dce2ede721eb831a535577c9d725d665d95b031a1f431707a733871d26a303236e9019588ed38bb1abdc0c2ae1e4b58a2510f";

/// `POST /v1/resolve`'s example.
pub(crate) fn example_resolve() -> Value {
    json!({
        "token": EXAMPLE_TOKEN,
        "grant": EXAMPLE_GRANT,
        "purpose": "delivery",
        "device_signature": EXAMPLE_PROOF,
    })
}

/// `POST /v1/resolve/batch`'s example.
pub(crate) fn example_batch() -> Value {
    json!({
        "tokens": [EXAMPLE_TOKEN],
        "grant": EXAMPLE_GRANT,
        "purpose": "delivery",
        "device_signature": EXAMPLE_PROOF,
    })
}

/// A disclosure under a scope of name, phone and address.
pub(crate) fn example_disclosure() -> Value {
    json!({
        "tracking_number": "SF1234567890123",
        "zone": 440305,
        "name": "张三",
        "phone": "13812345678",
        "address": "广东省深圳市南山区深南大道10000号",
    })
}

/// A batch's answer: one token resolved, one refused.
pub(crate) fn example_batch_answer() -> Value {
    json!({ "results": [
        { "status": 200, "disclosure": example_disclosure() },
        { "status": 403, "error": {
            "code": ErrorCode::NotResolvable.as_str(),
            "message": ErrorCode::NotResolvable.summary(),
        }},
    ]})
}

const _: () = assert!(MAX_BATCH == 100, "the batch's schema says 1 to 100 tokens");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The paths an axum router serves, read from its `Debug` form (axum has
    /// no other way to list them). A merged router routes `/` and
    /// `/{*__private__axum_fallback}` to its fallback (our JSON 404, which
    /// `tests/openapi.rs` checks on `/`): those are left out.
    fn served_paths(router: &Router<Arc<App>>) -> BTreeSet<String> {
        let text = format!("{router:?}");
        let mut paths: BTreeSet<String> = text
            .split("RouteId(")
            .skip(1)
            .filter_map(|rest| {
                let quoted = rest.split_once(": \"")?.1;
                Some(quoted.split_once('"')?.0.to_owned())
            })
            .collect();
        if paths.remove("/{*__private__axum_fallback}") {
            paths.remove("/");
        }
        paths
    }

    fn documented_paths(doc: &Value, tag: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let tags: Vec<&str> = op["tags"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {path} has no tag"))
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                assert_eq!(tags.len(), 1, "{method} {path}: one listener");
                if tags[0] == tag {
                    out.insert(path.clone());
                }
            }
        }
        out
    }

    #[test]
    fn every_served_route_is_documented_and_every_documented_route_served() {
        for courier_app in [true, false] {
            let api = api(courier_app);
            let public = served_paths(&api.public);
            let admin = served_paths(&api.admin);
            assert!(
                public.contains("/v1/resolve"),
                "read the routes: {public:?}"
            );
            assert_eq!(public, documented_paths(&api.document, "public"));
            assert_eq!(admin, documented_paths(&api.document, "admin"));
            assert_eq!(public.contains("/app/{file}"), courier_app);
            for path in [
                "/v1/resolve",
                "/v1/resolve/batch",
                "/v1/directory",
                "/healthz",
            ] {
                assert!(public.contains(path), "{path}");
            }
            for path in [
                "/v1/revocations",
                "/metrics",
                "/readyz",
                "/openapi.json",
                "/v1/audit/checkpoint",
                "/v1/audit/proof/inclusion",
                "/v1/audit/proof/consistency",
            ] {
                assert!(admin.contains(path), "{path}");
            }
        }
    }

    #[test]
    fn every_error_answer_has_its_codes_and_every_answer_its_request_id() {
        let doc = api(true).document;
        let codes = codes_by_status();
        let mut seen = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("503"), "{method} {path}: deadline");
                if op.get("requestBody").is_some() {
                    for s in ["400", "413", "415"] {
                        assert!(responses.contains_key(s), "{method} {path}: {s}");
                    }
                    let example = &op["requestBody"]["content"]["application/json"]["example"];
                    assert!(example.is_object(), "{method} {path}: a body example");
                }
                for (status, r) in responses {
                    assert!(
                        r["headers"]["x-request-id"].is_object(),
                        "{method} {path} {status}"
                    );
                    let status: u16 = status.parse().unwrap();
                    if status >= 400 {
                        let content = &r["content"]["application/json"];
                        assert_eq!(
                            content["schema"]["$ref"],
                            format!("#/components/schemas/Error{status}")
                        );
                        let examples = content["examples"].as_object().unwrap();
                        assert_eq!(examples.len(), codes[&status].len());
                        seen.insert(status);
                    }
                }
            }
        }
        assert_eq!(
            seen,
            BTreeSet::from([400, 401, 403, 404, 413, 415, 429, 503]),
            "the documented error statuses (405 is any route's)"
        );
        let e429 = &doc["components"]["schemas"]["Error429"]["properties"]["error"];
        assert_eq!(
            e429["properties"]["code"]["enum"],
            json!(["rate_limited", "quota_exceeded"])
        );
    }

    #[test]
    fn the_examples_are_the_specs_vectors() {
        let spec = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/TOKEN.md"),
        )
        .unwrap();
        for text in [EXAMPLE_TOKEN, EXAMPLE_GRANT, EXAMPLE_PROOF] {
            assert!(spec.contains(text), "{}… not in TOKEN.md", &text[..12]);
        }
    }
}
