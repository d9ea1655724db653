//! Auditors' routes over this instance's audit log: the latest checkpoint and
//! inclusion and consistency proofs (RFC 9162), so that an auditor holding a
//! record, or an older checkpoint, can check it against the current tree.
//!
//! - `GET /v1/audit/checkpoint`: the latest signed checkpoint note.
//! - `GET /v1/audit/proof/inclusion?index=I&size=N`: leaf `I` (record `I + 1`)
//!   in the tree of `N` leaves.
//! - `GET /v1/audit/proof/consistency?old=M&new=N`.
//!
//! Hashes are lower-case hex. These routes disclose record hashes only, no
//! record content.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{ApiError, ErrorCode};
use crate::http::App;

/// `GET /v1/audit/proof/inclusion`'s query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct InclusionQuery {
    /// The leaf: record `index + 1`.
    index: u64,
    /// The tree's size (at most the committed tree's).
    size: u64,
}

/// `GET /v1/audit/proof/consistency`'s query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    /// The older tree's size.
    old: u64,
    /// The newer tree's size.
    new: u64,
}

/// An inclusion proof (RFC 9162, 2.1.3).
#[derive(Serialize, ToSchema)]
pub(crate) struct InclusionProof {
    /// The leaf's index.
    index: u64,
    /// The tree's size.
    size: u64,
    /// The leaf's hash, 64 hex digits.
    leaf_hash: String,
    /// The proof's hashes, 64 hex digits each, from the leaf up.
    proof: Vec<String>,
}

/// A consistency proof (RFC 9162, 2.1.4).
#[derive(Serialize, ToSchema)]
pub(crate) struct ConsistencyProof {
    /// The older tree's size.
    old: u64,
    /// The newer tree's size.
    new: u64,
    /// The proof's hashes, 64 hex digits each.
    proof: Vec<String>,
}

fn hexes(proof: Vec<[u8; 32]>) -> Vec<String> {
    proof.into_iter().map(hex::encode).collect()
}

/// The latest signed checkpoint, as a c2sp signed note.
#[utoipa::path(
    get,
    path = "/v1/audit/checkpoint",
    tag = "admin",
    operation_id = "auditCheckpoint",
    responses(
        (status = 200, description = "The latest checkpoint: a c2sp.org/tlog-checkpoint body (origin, tree size, root hash) signed as a c2sp.org/signed-note.",
            content_type = "text/plain", body = String,
            example = "waybill-redact.audit/node-a\n42\nq1bY...=\n\n\u{2014} waybill-redact.audit/node-a AbCd...=\n"),
        (status = 404, description = "No checkpoint has been signed yet."),
    ),
)]
async fn checkpoint(State(app): State<Arc<App>>) -> Response {
    match app.log.latest() {
        Some(cp) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            cp.as_text().to_owned(),
        )
            .into_response(),
        None => ApiError::new(ErrorCode::NotFound, "no checkpoint yet").into_response(),
    }
}

/// Proves that leaf `index` (record `index + 1`) is in the tree of `size`
/// leaves.
#[utoipa::path(
    get,
    path = "/v1/audit/proof/inclusion",
    tag = "admin",
    operation_id = "auditInclusionProof",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The leaf's hash and its inclusion proof.", body = InclusionProof),
        (status = 400, description = "A parameter is missing or not a number."),
        (status = 404, description = "No such proof in the committed tree: the index is not below the size, or the size is past the tree's."),
    ),
)]
async fn inclusion(State(app): State<Arc<App>>, Query(q): Query<InclusionQuery>) -> Response {
    match app.log.inclusion_proof(q.index, q.size) {
        Ok((leaf, proof)) => Json(InclusionProof {
            index: q.index,
            size: q.size,
            leaf_hash: hex::encode(leaf),
            proof: hexes(proof),
        })
        .into_response(),
        Err(_) => {
            ApiError::new(ErrorCode::NotFound, "index or size outside the tree").into_response()
        }
    }
}

/// Proves that the tree of `old` leaves is a prefix of the tree of `new`.
#[utoipa::path(
    get,
    path = "/v1/audit/proof/consistency",
    tag = "admin",
    operation_id = "auditConsistencyProof",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The consistency proof.", body = ConsistencyProof),
        (status = 400, description = "A parameter is missing or not a number."),
        (status = 404, description = "No such proof in the committed tree: `old` is past `new`, or `new` past the tree's size."),
    ),
)]
async fn consistency(State(app): State<Arc<App>>, Query(q): Query<ConsistencyQuery>) -> Response {
    match app.log.consistency_proof(q.old, q.new) {
        Ok(proof) => Json(ConsistencyProof {
            old: q.old,
            new: q.new,
            proof: hexes(proof),
        })
        .into_response(),
        Err(_) => ApiError::new(ErrorCode::NotFound, "sizes outside the tree").into_response(),
    }
}

/// The auditors' routes.
pub(crate) fn audit_routes() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
}
