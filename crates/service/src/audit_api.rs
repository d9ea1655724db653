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
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::http::App;

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    size: u64,
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    old: u64,
    new: u64,
}

fn hexes(proof: Vec<[u8; 32]>) -> Vec<String> {
    proof.into_iter().map(hex::encode).collect()
}

async fn checkpoint(State(app): State<Arc<App>>) -> Response {
    match app.log.latest() {
        Some(cp) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            cp.as_text().to_owned(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no checkpoint yet\n").into_response(),
    }
}

async fn inclusion(State(app): State<Arc<App>>, Query(q): Query<InclusionQuery>) -> Response {
    match app.log.inclusion_proof(q.index, q.size) {
        Ok((leaf, proof)) => Json(serde_json::json!({
            "index": q.index,
            "size": q.size,
            "leaf_hash": hex::encode(leaf),
            "proof": hexes(proof),
        }))
        .into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "index or size outside the tree\n").into_response(),
    }
}

async fn consistency(State(app): State<Arc<App>>, Query(q): Query<ConsistencyQuery>) -> Response {
    match app.log.consistency_proof(q.old, q.new) {
        Ok(proof) => Json(serde_json::json!({
            "old": q.old,
            "new": q.new,
            "proof": hexes(proof),
        }))
        .into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "sizes outside the tree\n").into_response(),
    }
}

/// The auditors' routes.
pub(crate) fn audit_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/audit/checkpoint", get(checkpoint))
        .route("/v1/audit/proof/inclusion", get(inclusion))
        .route("/v1/audit/proof/consistency", get(consistency))
}
