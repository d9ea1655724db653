//! The access log: one line per request, written by a `TraceLayer` when the
//! response leaves. Handlers attach an [`AccessNote`] to their response (the
//! courier, the grant id and the outcome's reason); the line never holds a
//! token, a grant's text or a disclosed field.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::{HeaderValue, Request, Response};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestId, RequestId};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;
use waybill_redact::GrantId;

/// What a handler knows about its request that the log line should say.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccessNote {
    /// The grant's courier id, when the grant parsed.
    pub courier: Option<String>,
    /// The grant's id, when the grant parsed.
    pub grant: Option<GrantId>,
    /// `allowed`, an audit reason (`grant_expired`, `bad_signature`, …) or an
    /// answer's code (`store_unavailable`, `unsupported_media_type`, …).
    pub reason: &'static str,
    /// Tokens in the request (1, or a batch's size).
    pub tokens: usize,
    /// Tokens answered 200.
    pub allowed: usize,
}

impl AccessNote {
    /// A note for an answer that names no grant.
    pub(crate) fn reason(reason: &'static str) -> Self {
        Self {
            reason,
            ..Self::default()
        }
    }
}

/// Request ids: a random prefix per process and a counter. A client's own
/// `x-request-id` is replaced, so the log holds only ids the service made.
#[derive(Debug, Clone)]
pub(crate) struct RequestIds {
    prefix: u32,
    next: std::sync::Arc<AtomicU64>,
}

impl RequestIds {
    pub(crate) fn new() -> Self {
        // A request id only has to differ between instances and restarts: if the
        // OS random source fails, a zero prefix still leaves ids unique here.
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        Self {
            prefix: u32::from_be_bytes(b),
            next: std::sync::Arc::default(),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:08x}-{n}", self.prefix);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The span every request's lines are written in: its route and id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &Request<B>) -> Span {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str);
        let id = req
            .extensions()
            .get::<RequestId>()
            .and_then(|i| i.header_value().to_str().ok())
            .unwrap_or("");
        tracing::info_span!("request", route, id, method = %req.method())
    }
}

/// Writes the access line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AccessLine;

impl<B> OnResponse<B> for AccessLine {
    fn on_response(self, res: &Response<B>, latency: Duration, _: &Span) {
        let note = res.extensions().get::<AccessNote>();
        let status = res.status().as_u16();
        let latency_ms = latency.as_secs_f64() * 1e3;
        let courier = note.and_then(|n| n.courier.as_deref()).unwrap_or("");
        let grant = note
            .and_then(|n| n.grant)
            .map(|g| g.to_string())
            .unwrap_or_default();
        let reason = note.map_or("", |n| n.reason);
        let tokens = note.map_or(0, |n| n.tokens);
        let allowed = note.map_or(0, |n| n.allowed);
        tracing::info!(status, latency_ms, courier, grant, reason, tokens, allowed, "access");
    }
}

/// The tracing layer: a span per request, one access line per response.
pub(crate) fn trace_layer(
) -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), AccessLine, (), (), ()> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(AccessLine)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}
