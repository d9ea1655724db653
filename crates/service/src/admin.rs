//! The admin routes (revocations, readiness, metrics, the OpenAPI document)
//! and the admin key check: a failed key is logged (one line a second at most,
//! with the count held back) and each client address may fail only a few times
//! a minute; past that it gets 429 without the key being checked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use waybill_redact::Revocation;

use crate::api::{ApiError, ErrorCode, RevocationAnswer, RevocationBody};
use crate::http::{malformed, unix_now_ms, App};
use crate::layers;

/// Failed admin keys a client address may present a minute.
pub(crate) const ADMIN_FAILURES_PER_MINUTE: u32 = 10;

fn admin(app: &App, headers: &HeaderMap, peer: SocketAddr) -> Result<(), ApiError> {
    if app.admin_failures.exhausted(peer.ip(), unix_now_ms()) {
        return Err(ApiError::NOISE);
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ok = match (app.admin_key_sha256, presented) {
        (Some(expected), Some(p)) => {
            let digest: [u8; 32] = Sha256::digest(p.trim().as_bytes()).into();
            bool::from(digest.ct_eq(&expected))
        }
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let _ = app.admin_failures.allow(peer.ip(), unix_now_ms());
    if let Some(suppressed) = app.log_admin.admit("admin_auth") {
        tracing::warn!(
            peer = %peer.ip(),
            key_presented = presented.is_some(),
            suppressed,
            "admin authentication failed"
        );
    }
    Err(ApiError::UNAUTHORIZED)
}

/// Stores revocations (grant ids, tracking numbers, sealer ids); every
/// instance enforces them within `effective_within_ms`.
#[utoipa::path(
    post,
    path = "/v1/revocations",
    tag = "admin",
    operation_id = "revoke",
    security(("adminKey" = [])),
    request_body(
        content = RevocationBody,
        example = json!({
            "grants": ["a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"],
            "parcels": ["SF1234567890123"],
            "sealers": ["1f2e3d4c"],
        }),
    ),
    responses(
        (status = 200, description = "Stored.", body = RevocationAnswer,
            example = json!({"revoked": 3, "effective_within_ms": 1000})),
        (status = 400, description = "The body is malformed: a grant id that is not 32 hex digits, an empty tracking number, a sealer id that is not 8 hex digits, or not 1 to 10,000 revocations."),
        (status = 401, description = "The admin key (`Authorization: Bearer KEY`) is missing or wrong."),
        (status = 429, description = "This address presented too many wrong admin keys (10 a minute); the key was not checked."),
        (status = 503, description = "The store could not store them; retry."),
    ),
)]
async fn revocations(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = admin(&app, &headers, peer) {
        return e.into_response();
    }
    let parsed = serde_json::from_slice::<RevocationBody>(&body)
        .map_err(|_| malformed())
        .and_then(|b| {
            let mut list = Vec::new();
            for g in &b.grants {
                let id = g.parse().map_err(|_| {
                    ApiError::bad_request(
                        ErrorCode::MalformedRequest,
                        "a grant id is 32 hex digits",
                    )
                })?;
                list.push(Revocation::Grant(id));
            }
            for (kind, items) in [("parcel", &b.parcels), ("sealer", &b.sealers)] {
                for s in items {
                    list.push(Revocation::from_parts(kind, s).ok_or(ApiError::bad_request(
                        ErrorCode::MalformedRequest,
                        "an empty parcel, or a sealer id that is not 8 hex digits",
                    ))?);
                }
            }
            if list.is_empty() || list.len() > 10_000 {
                return Err(ApiError::bad_request(
                    ErrorCode::MalformedRequest,
                    "1 to 10000 revocations",
                ));
            }
            Ok(list)
        });
    let list = match parsed {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let n = list.len();
    let task_app = app.clone();
    let stored = tokio::spawn(async move {
        task_app.store.revoke(list.clone()).await?;
        task_app.resolver.load().revocations().extend(list);
        Ok::<_, crate::error::StoreError>(())
    })
    .await;
    match stored {
        Ok(Ok(())) => {
            tracing::info!(count = n, "revocations stored");
            Json(RevocationAnswer {
                revoked: n,
                effective_within_ms: app.revocation_refresh_ms,
            })
            .into_response()
        }
        _ => ApiError::STORE.into_response(),
    }
}

/// Whether this instance should get traffic: its store answers and commits,
/// and its audit log is witnessed in time.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "admin",
    operation_id = "ready",
    responses(
        (status = 200, description = "Ready.", content_type = "text/plain", body = String, example = "ready\n"),
        (status = 503, description = "Not ready: the store does not answer or its last commit failed (`store_unavailable`), or no witness cosigned the audit log within `max_unwitnessed_secs` (`audit_unwitnessed`)."),
    ),
)]
async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.witness.overdue() {
        return ApiError::new(
            ErrorCode::AuditUnwitnessed,
            "audit log unwitnessed past max_unwitnessed_secs",
        )
        .into_response();
    }
    let ping = tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await;
    match ping {
        Ok(Ok(())) if app.metrics.store_committing() => (StatusCode::OK, "ready\n").into_response(),
        _ => ApiError::STORE.into_response(),
    }
}

/// The instance's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "admin",
    operation_id = "metrics",
    responses(
        (status = 200, description = "The OpenMetrics text exposition (docs/OPERATIONS.md, \"Metrics\").", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String),
    ),
)]
async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}

/// This document: every route of both listeners, generated from the
/// handlers and their types.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "admin",
    operation_id = "openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of both listeners (operations tagged `public` are on `listen`, those tagged `admin` on `admin_listen`).",
            content_type = "application/json", body = Object),
    ),
)]
async fn openapi(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::served(app.config.courier_app),
    )
        .into_response()
}

/// The admin routes, each documented by its handler's attribute.
pub(crate) fn routes() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::new()
        .routes(routes!(revocations).map(|r| layers::json_body(r, layers::REVOCATION_BODY)))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        // Auditors' proofs: the latest checkpoint, inclusion and consistency.
        .merge(crate::audit_api::audit_routes())
        .routes(routes!(openapi))
}
