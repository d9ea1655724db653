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
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use waybill_redact::Revocation;

use crate::api::{ApiError, RevocationBody};
use crate::http::{malformed, unix_now_ms, App};
use crate::layers;

const OPENAPI: &str = include_str!("../openapi.json");

/// Failed admin keys a client address may present a minute.
pub(crate) const ADMIN_FAILURES_PER_MINUTE: u32 = 10;

fn admin(app: &App, headers: &HeaderMap, peer: SocketAddr) -> Result<(), ApiError> {
    let forbidden = ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message: "an admin key is required",
    };
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
    Err(forbidden)
}

/// `POST /v1/revocations`: revokes, each with a `revoked` audit record.
async fn revoke(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change(app, peer, &headers, &body, false).await
}

/// `DELETE /v1/revocations` (the same body): lifts, each with an `unrevoked`
/// audit record.
async fn unrevoke(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    change(app, peer, &headers, &body, true).await
}

async fn change(
    app: Arc<App>,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
    lifted: bool,
) -> Response {
    if let Err(e) = admin(&app, headers, peer) {
        return e.into_response();
    }
    let parsed = serde_json::from_slice::<RevocationBody>(body)
        .map_err(|_| malformed())
        .and_then(|b| {
            let mut list = Vec::new();
            for g in &b.grants {
                let id = g.parse().map_err(|_| {
                    ApiError::bad_request("malformed_request", "a grant id is 32 hex digits")
                })?;
                list.push(Revocation::Grant(id));
            }
            for (kind, items) in [("parcel", &b.parcels), ("sealer", &b.sealers)] {
                for s in items {
                    list.push(Revocation::from_parts(kind, s).ok_or(ApiError::bad_request(
                        "malformed_request",
                        "an empty parcel, or a sealer id that is not 8 hex digits",
                    ))?);
                }
            }
            if list.is_empty() || list.len() > 10_000 {
                return Err(ApiError::bad_request(
                    "malformed_request",
                    "1 to 10000 revocations",
                ));
            }
            Ok(list)
        });
    let list = match parsed {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    // Each revocation once: one audit record each, and the count says so.
    let list = crate::revocation_log::RevocationChange::new(list, lifted).list;
    let n = list.len();
    let task_app = app.clone();
    // Its own task: a client that hangs up does not cancel a begun commit.
    let stored = tokio::spawn(async move {
        let revocations = task_app.resolver.load().revocations().clone();
        if lifted {
            task_app.store.unrevoke(list.clone()).await?;
            for r in &list {
                revocations.remove(r);
            }
        } else {
            task_app.store.revoke(list.clone()).await?;
            revocations.extend(list);
        }
        Ok::<_, crate::error::StoreError>(())
    })
    .await;
    match stored {
        Ok(Ok(())) => {
            let field = if lifted { "unrevoked" } else { "revoked" };
            tracing::info!(count = n, lifted, "revocations stored");
            Json(serde_json::json!({
                field: n,
                "effective_within_ms": app.revocation_refresh_ms,
            }))
            .into_response()
        }
        _ => ApiError::STORE.into_response(),
    }
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.witness.overdue() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "audit log unwitnessed past max_unwitnessed_secs\n",
        )
            .into_response();
    }
    let ping = tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await;
    match ping {
        Ok(Ok(())) if app.metrics.store_committing() => (StatusCode::OK, "ready\n").into_response(),
        _ => ApiError::STORE.into_response(),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render() + &witness_metrics(&app.witness),
    )
        .into_response()
}

fn witness_metrics(w: &crate::witness_client::WitnessStatus) -> String {
    format!(
        "# HELP waybill_audit_unwitnessed_seconds How long the latest audit checkpoint has waited for a witness cosignature.\n\
         # TYPE waybill_audit_unwitnessed_seconds gauge\n\
         waybill_audit_unwitnessed_seconds {}\n\
         # HELP waybill_audit_cosigned_total Audit checkpoints cosigned by a witness since start.\n\
         # TYPE waybill_audit_cosigned_total counter\n\
         waybill_audit_cosigned_total {}\n",
        w.unwitnessed_secs(),
        w.cosigned()
    )
}

/// The admin routes.
pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/v1/revocations",
            layers::json_body(post(revoke).delete(unrevoke), layers::REVOCATION_BODY),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        // Auditors' proofs: the latest checkpoint, inclusion and consistency.
        .merge(crate::audit_api::audit_routes())
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
}
