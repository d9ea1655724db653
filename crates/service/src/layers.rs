//! The layers around the routes: request ids, the access log, the deadline,
//! a body limit per route, `Content-Type: application/json` on every body, and
//! the JSON error shape on every error answer (413, 404, 405, 415 and a
//! deadline's 503 included).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;

use crate::access;
use crate::api::{ApiError, ErrorCode};
use crate::http::App;

/// Body limits, bytes.
pub(crate) const RESOLVE_BODY: usize = 64 * 1024;
/// A batch of 100 tokens, with room.
pub(crate) const BATCH_BODY: usize = 512 * 1024;
/// 10,000 revocations.
pub(crate) const REVOCATION_BODY: usize = 1024 * 1024;

/// The layers every route of `routes` is served through.
pub(crate) fn serve(routes: Router<Arc<App>>, app: Arc<App>, deadline: Duration) -> Router {
    routes
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            deadline,
        ))
        .layer(middleware::map_response(json_errors))
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(access::trace_layer())
        .layer(SetRequestIdLayer::x_request_id(access::RequestIds::new()))
        .with_state(app)
}

/// Records each request's latency under its route's template and its final
/// status (the deadline's 503 and the JSON errors included).
async fn observe(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    app.metrics.observe_request(
        route.as_ref().map(MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// A route's body limit and its `Content-Type` check.
pub(crate) fn json_body<S>(
    route: axum::routing::MethodRouter<S>,
    limit: usize,
) -> axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route
        .route_layer(middleware::from_fn(require_json))
        .route_layer(RequestBodyLimitLayer::new(limit))
}

/// `415` unless the body is declared `application/json` (parameters such as
/// `charset=utf-8` allowed).
async fn require_json(req: Request, next: Next) -> Response {
    if is_json(req.headers()) {
        next.run(req).await
    } else {
        ApiError::UNSUPPORTED_MEDIA_TYPE.into_response()
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Gives an error answer that is not JSON yet (axum's and tower-http's own
/// 404, 405, 413 and the deadline's 503) the JSON error shape.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UNSUPPORTED_MEDIA_TYPE,
        StatusCode::SERVICE_UNAVAILABLE => ApiError::DEADLINE,
        s if s.is_server_error() => ApiError::INTERNAL,
        _ => ApiError::bad_request(ErrorCode::MalformedRequest, "the request is not valid"),
    };
    let (mut parts, _) = response.into_parts();
    let fresh = error.into_response();
    // A 405 keeps its `Allow` header: the methods the route takes.
    let allow = parts.headers.remove(header::ALLOW);
    parts.headers = fresh.headers().clone();
    if let Some(allow) = allow {
        parts.headers.insert(header::ALLOW, allow);
    }
    parts.status = fresh.status();
    let note = fresh.extensions().get::<access::AccessNote>().cloned();
    if parts.extensions.get::<access::AccessNote>().is_none() {
        if let Some(note) = note {
            parts.extensions.insert(note);
        }
    }
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, Body::new(body))
}
