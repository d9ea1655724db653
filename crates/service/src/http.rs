//! The HTTP routes. Each resolve runs in its own task, so a client that hangs
//! up does not cancel a claim or an audit write that has begun.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use waybill_redact::{
    Attempt, Denied, Disclosure, Limit, Purpose, ReplayGuard, RequestProof, ResolveRequest,
    Revocation,
};

use crate::api::{batch_item, ApiError, BatchBody, ResolveBody, RevocationBody, MAX_BATCH};
use crate::metrics::Metrics;
use crate::store::{Claim, ResolverStore};

const OPENAPI: &str = include_str!("../openapi.json");

/// What every request shares.
pub struct App {
    /// The resolver, replaced whole on a reload (`reload.rs`); a request keeps
    /// the one it started with.
    pub(crate) resolver: crate::reload::Live,
    pub(crate) store: Arc<dyn ResolverStore>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) noise: Noise,
    /// Bearer grants already logged by this instance (each is logged once).
    pub(crate) bearer_seen: Mutex<std::collections::HashSet<waybill_redact::GrantId>>,
    pub(crate) admin_key_sha256: Option<[u8; 32]>,
    pub(crate) revocation_refresh_ms: u64,
    /// The settings, for reloads.
    pub(crate) config: crate::config::Config,
}

impl App {
    /// The live resolver state (reload count, for tests and operators).
    pub fn live(&self) -> &crate::reload::Live {
        &self.resolver
    }
}

/// A per-address allowance for attempts refused before the rate limit, so that
/// a flood of garbage cannot grow the audit log faster than this.
pub(crate) struct Noise {
    per_minute: u32,
    /// Address → theoretical arrival time, ms.
    tat: Mutex<HashMap<IpAddr, u64>>,
}

impl Noise {
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            tat: Mutex::default(),
        }
    }

    fn allow(&self, peer: IpAddr, now_ms: u64) -> bool {
        let interval = 60_000 / u64::from(self.per_minute.max(1));
        let tolerance = interval.saturating_mul(u64::from(self.per_minute.max(1)) / 4);
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        if tat.len() > 100_000 {
            tat.retain(|_, t| *t > now_ms);
        }
        let t = tat.entry(peer).or_insert(now_ms);
        let base = (*t).max(now_ms);
        if base > now_ms.saturating_add(tolerance) {
            return false;
        }
        *t = base.saturating_add(interval);
        true
    }
}

fn unix_ms(t: time::OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

impl App {
    /// One token, every step: checks, replay guard and store claim, open,
    /// durable audit record.
    pub(crate) async fn resolve_one(
        &self,
        token: &str,
        grant: &str,
        request: &ResolveRequest,
        peer: IpAddr,
    ) -> Result<Disclosure, ApiError> {
        let attempt = self.resolver.load().begin(token, grant, request);
        // The nonce rides with the rate and quota claim: one pass through the store.
        let replay = attempt.replay_guard();
        self.finish(attempt, replay, peer).await
    }

    /// Several tokens under one grant and one device proof: the proof's nonce is
    /// admitted once for the whole batch, then each token goes on alone.
    pub(crate) async fn begin_batch(
        &self,
        tokens: &[&str],
        grant: &str,
        request: &ResolveRequest,
    ) -> Result<Vec<Attempt>, ApiError> {
        let mut attempts = self.resolver.load().begin_batch(tokens, grant, request);
        let first = attempts.iter().find_map(Attempt::replay_guard);
        if let Some(guard) = first {
            let admitted = self.store.admit(guard).await.map_err(|e| {
                tracing::warn!(error = %e, "nonce admission failed");
                ApiError::STORE
            })?;
            if !admitted {
                for a in &mut attempts {
                    a.deny(Denied::RequestReplayed);
                }
            }
        }
        Ok(attempts)
    }

    /// The steps after the checks: the noise allowance for denied attempts, the
    /// store's rate and quota claim, open, and the durable audit record.
    pub(crate) async fn finish(
        &self,
        mut attempt: Attempt,
        replay: Option<ReplayGuard>,
        peer: IpAddr,
    ) -> Result<Disclosure, ApiError> {
        let now_ms = unix_ms(attempt.time());
        if attempt.denied().is_some() && !self.noise.allow(peer, now_ms) {
            self.metrics.count("suppressed");
            return Err(ApiError::NOISE);
        }
        if let Some(claim) = attempt.claim() {
            if claim.grant.device().is_none() {
                self.log_bearer(claim.grant);
            }
            let claim = Claim::from_attempt(claim, now_ms).with_replay(replay);
            match self.store.acquire(claim).await {
                Ok(Ok(())) => {}
                Ok(Err(Limit::Quota)) => attempt.deny(Denied::QuotaExceeded),
                Ok(Err(Limit::Replayed)) => attempt.deny(Denied::RequestReplayed),
                Ok(Err(_)) => attempt.deny(Denied::RateLimited),
                Err(e) => {
                    tracing::warn!(error = %e, "claim failed");
                    return Err(ApiError::STORE);
                }
            }
        }
        let result = self.resolver.load().open(&attempt);
        if let Err(e) = self.store.append(attempt.event(&result)).await {
            tracing::warn!(error = %e, "audit append failed");
            return Err(ApiError::STORE);
        }
        result.map_err(|d| ApiError::from_denied(&d))
    }

    /// Counts a request under a bearer grant, and logs the grant the first time
    /// this instance sees it (its id and courier, never its text).
    fn log_bearer(&self, grant: &waybill_redact::Grant) {
        self.metrics.bearer_requests.fetch_add(1, Ordering::Relaxed);
        let mut seen = self.bearer_seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= 10_000 {
            seen.clear();
        }
        if seen.insert(grant.id()) {
            tracing::warn!(
                grant = %grant.id(),
                courier = grant.courier_id(),
                "bearer grant accepted (bound to no device; --allow-bearer-grants)"
            );
        }
    }

    fn count(&self, result: &Result<Disclosure, ApiError>) {
        match result {
            Ok(_) => self.metrics.count("allowed"),
            Err(e) => self.metrics.count(e.outcome()),
        }
    }
}

fn parse_purpose(p: &str) -> Result<Purpose, ApiError> {
    p.parse().map_err(|_| {
        ApiError::bad_request(
            "malformed_request",
            "purpose must be delivery, call, return or after-sales",
        )
    })
}

/// The purpose and, when given, the device's proof (`WR1:…`).
fn request(purpose: &str, proof: Option<&str>) -> Result<ResolveRequest, ApiError> {
    let request = ResolveRequest::new(parse_purpose(purpose)?);
    match proof {
        None => Ok(request),
        Some(text) => text
            .parse::<RequestProof>()
            .map(|p| request.with_proof(p))
            .map_err(|_| {
                ApiError::bad_request(
                    "malformed_request",
                    "device_signature must be WR1: and 176 hex digits",
                )
            }),
    }
}

fn malformed() -> ApiError {
    ApiError::bad_request("malformed_request", "the body is not a valid request")
}

async fn resolve(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let answer = async {
        let body: ResolveBody = serde_json::from_slice(&body).map_err(|_| malformed())?;
        let request = request(&body.purpose, body.device_signature.as_deref())?;
        let task_app = app.clone();
        tokio::spawn(async move {
            task_app
                .resolve_one(&body.token, &body.grant, &request, peer.ip())
                .await
        })
        .await
        .unwrap_or(Err(ApiError::STORE))
    }
    .await;
    app.count(&answer);
    app.metrics.observe_request(started.elapsed());
    match answer {
        Ok(d) => Json(&d).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn resolve_batch(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let parsed = serde_json::from_slice::<BatchBody>(&body)
        .map_err(|_| malformed())
        .and_then(|b| {
            if b.tokens.is_empty() || b.tokens.len() > MAX_BATCH {
                return Err(ApiError::bad_request(
                    "malformed_request",
                    "a batch holds 1 to 100 tokens",
                ));
            }
            request(&b.purpose, b.device_signature.as_deref()).map(|r| (b, r))
        });
    let (body, request) = match parsed {
        Ok(x) => x,
        Err(e) => {
            app.metrics.count(e.outcome());
            return e.into_response();
        }
    };
    let task_app = app.clone();
    let attempts = tokio::spawn(async move {
        let tokens: Vec<&str> = body.tokens.iter().map(String::as_str).collect();
        task_app.begin_batch(&tokens, &body.grant, &request).await
    })
    .await
    .unwrap_or(Err(ApiError::STORE));
    let attempts = match attempts {
        Ok(a) => a,
        Err(e) => {
            app.metrics.count(e.outcome());
            return e.into_response();
        }
    };
    let handles: Vec<_> = attempts
        .into_iter()
        .map(|attempt| {
            let app = app.clone();
            tokio::spawn(async move { app.finish(attempt, None, peer.ip()).await })
        })
        .collect();
    let mut results = Vec::with_capacity(handles.len());
    for h in handles {
        let r = h.await.unwrap_or(Err(ApiError::STORE));
        app.count(&r);
        results.push(batch_item(&r));
    }
    app.metrics.observe_request(started.elapsed());
    Json(serde_json::json!({ "results": results })).into_response()
}

fn admin(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let forbidden = ApiError {
        status: StatusCode::UNAUTHORIZED,
        code: "unauthorized",
        message: "an admin key is required",
    };
    let expected = app.admin_key_sha256.ok_or(forbidden)?;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(forbidden)?;
    let digest: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
    if bool::from(digest.ct_eq(&expected)) {
        Ok(())
    } else {
        Err(forbidden)
    }
}

async fn revocations(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = admin(&app, &headers) {
        return e.into_response();
    }
    let parsed = serde_json::from_slice::<RevocationBody>(&body)
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
            Json(serde_json::json!({
                "revoked": n,
                "effective_within_ms": app.revocation_refresh_ms,
            }))
            .into_response()
        }
        _ => ApiError::STORE.into_response(),
    }
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let ping = tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await;
    match ping {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response(),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

/// The router with every route.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/resolve", post(resolve))
        .route("/v1/resolve/batch", post(resolve_batch))
        .route("/v1/revocations", post(revocations))
        .route("/v1/directory", get(crate::directory::serve))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .layer(DefaultBodyLimit::max(256 * 1024))
        .with_state(app)
}
