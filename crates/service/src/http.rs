//! The HTTP routes. Each resolve runs in its own task, so a client that hangs
//! up does not cancel a claim or an audit write that has begun.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use waybill_redact::{
    Attempt, Denied, Disclosure, Limit, Purpose, ReplayGuard, RequestProof, ResolveRequest,
};

use crate::access::AccessNote;
use crate::api::{ApiError, BatchAnswer, BatchBody, BatchItem, ErrorCode, ResolveBody, MAX_BATCH};
use crate::client::{Allowance, TrustedProxies};
use crate::delivery::{AbandonOnDrop, Spent};
use crate::layers;
use crate::metrics::Metrics;
use crate::store::{Claim, ResolverStore};

/// What every request shares.
pub struct App {
    /// The resolver, replaced whole on a reload (`reload.rs`); a request keeps
    /// the one it started with.
    pub(crate) resolver: crate::reload::Live,
    pub(crate) store: Arc<dyn ResolverStore>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) noise: Noise,
    /// Refusals held back past the allowance, for their summary records.
    pub(crate) suppressed: Arc<crate::suppressed::Suppressed>,
    /// Bearer grants already logged by this instance (each is logged once).
    pub(crate) bearer_seen: Mutex<std::collections::HashSet<waybill_redact::GrantId>>,
    pub(crate) admin_key_sha256: Option<[u8; 32]>,
    /// Failed admin keys per client address.
    pub(crate) admin_failures: Noise,
    /// Failed admin key log lines, one a second at most.
    pub(crate) log_admin: crate::logline::Limiter,
    pub(crate) revocation_refresh_ms: u64,
    /// Each request's deadline.
    pub(crate) deadline: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub(crate) trusted_proxies: TrustedProxies,
    /// The public listener's connection settings.
    pub(crate) limits: crate::listen::ConnectionLimits,
    /// How long the audit log has waited for a witness.
    pub(crate) witness: Arc<crate::witness_client::WitnessStatus>,
    /// This instance's committed audit tree and latest checkpoint.
    pub(crate) log: Arc<crate::log_view::LogView>,
    /// The task sending checkpoints to the witnesses, awaited at shutdown so
    /// that the closing checkpoint is offered before the process ends.
    pub(crate) witness_client: Mutex<Option<tokio::task::JoinHandle<()>>>,
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

    fn interval_and_tolerance(&self) -> (u64, u64) {
        let interval = 60_000 / u64::from(self.per_minute.max(1));
        let tolerance = interval.saturating_mul(u64::from(self.per_minute.max(1)) / 4);
        (interval, tolerance)
    }

    /// Spends one unit of `peer`'s allowance; false when none is left.
    pub(crate) fn allow(&self, peer: IpAddr, now_ms: u64) -> bool {
        let (interval, tolerance) = self.interval_and_tolerance();
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

    /// Whether `peer` has no allowance left, without spending any.
    pub(crate) fn exhausted(&self, peer: IpAddr, now_ms: u64) -> bool {
        let (_, tolerance) = self.interval_and_tolerance();
        let tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        tat.get(&peer)
            .is_some_and(|t| *t > now_ms.saturating_add(tolerance))
    }
}

fn unix_ms(t: time::OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// The wall clock, unix milliseconds.
pub(crate) fn unix_now_ms() -> u64 {
    unix_ms(time::OffsetDateTime::now_utc())
}

impl App {
    /// One token, every step: checks, replay guard and store claim, open,
    /// durable audit record.
    pub(crate) async fn resolve_one(
        &self,
        token: &str,
        grant: &str,
        request: &ResolveRequest,
        allowance: &Allowance,
    ) -> Answer {
        let attempt = self.resolver.load().begin(token, grant, request);
        // The nonce rides with the rate and quota claim: one pass through the store.
        let replay = attempt.replay_guard();
        self.finish(attempt, replay, allowance).await
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
                crate::logline::store_error("admit", &e);
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

    /// The steps after the checks: the client's allowance for refused
    /// attempts (one unit per request, shared by a batch's tokens), the store's
    /// rate and quota claim, open, and the durable audit record. A claim
    /// granted, or an allowed record committed, after the request was answered
    /// 503 is given back, or recorded as not delivered (`delivery.rs`).
    pub(crate) async fn finish(
        &self,
        mut attempt: Attempt,
        replay: Option<ReplayGuard>,
        allowance: &Allowance,
    ) -> Answer {
        let mut note = AccessNote {
            courier: attempt.grant().map(|g| g.courier_id().to_owned()),
            grant: attempt.grant().map(waybill_redact::Grant::id),
            tokens: 1,
            ..AccessNote::default()
        };
        if self.witness.refuses_disclosure() {
            note.reason = ApiError::UNWITNESSED.code.as_str();
            return Answer::new(Err(ApiError::UNWITNESSED), note);
        }
        let now_ms = unix_ms(attempt.time());
        if attempt.denied().is_some() && !allowance.admits(|key| self.noise.allow(key, now_ms)) {
            self.metrics.count("suppressed");
            // Held back from the audit one by one, not from the audit at all.
            if let Some(n) = self.suppressed.note(allowance.key, now_ms) {
                self.suppressed
                    .write(self.store.as_ref(), allowance.key, n)
                    .await;
            }
            note.reason = "suppressed";
            return Answer::new(Err(ApiError::NOISE), note);
        }
        if let Some(claim) = attempt.claim() {
            // The client has had its 503 (the deadline layer answered it): no
            // rate or quota is claimed, and nothing is opened, for nobody.
            if Instant::now() >= allowance.deadline || allowance.delivery.abandoned() {
                note.reason = ApiError::DEADLINE.code.as_str();
                return Answer::new(Err(ApiError::DEADLINE), note);
            }
            if claim.grant.device().is_none() {
                self.log_bearer(claim.grant);
            }
            let claim = Claim::from_attempt(claim, now_ms).with_replay(replay);
            let grant = claim.grant;
            match self.store.acquire(claim).await {
                Ok(Ok(())) if allowance.delivery.abandoned() => {
                    // Granted after the request was answered 503: nothing is
                    // opened, and the unit goes back.
                    self.give_back(grant).await;
                    note.reason = ApiError::DEADLINE.code.as_str();
                    return Answer::new(Err(ApiError::DEADLINE), note);
                }
                Ok(Ok(())) => {}
                Ok(Err(Limit::Quota)) => attempt.deny(Denied::QuotaExceeded),
                Ok(Err(Limit::Replayed)) => attempt.deny(Denied::RequestReplayed),
                Ok(Err(_)) => attempt.deny(Denied::RateLimited),
                Err(e) => {
                    crate::logline::store_error("claim", &e);
                    note.reason = ApiError::STORE.code.as_str();
                    return Answer::new(Err(ApiError::STORE), note);
                }
            }
        }
        let result = self.resolver.load().open(&attempt);
        let event = attempt.event(&result);
        let allowed = crate::store::is_allowed(&event).then(|| event.clone());
        match self.store.append(event).await {
            Ok(seq) => {
                let spent = allowed.and_then(|event| {
                    let grant = event.grant_id?;
                    allowance.delivery.committed(Spent { seq, event, grant })
                });
                if let Some(spent) = spent {
                    // Committed after the request was answered 503.
                    self.not_delivered(spent).await;
                    note.reason = ApiError::DEADLINE.code.as_str();
                    return Answer::new(Err(ApiError::DEADLINE), note);
                }
            }
            Err(e) => {
                // The store gives an allowed answer's quota unit back.
                crate::logline::store_error("append", &e);
                note.reason = ApiError::STORE.code.as_str();
                return Answer::new(Err(ApiError::STORE), note);
            }
        }
        note.reason = match &result {
            Ok(_) => "allowed",
            Err(d) => d.code(),
        };
        note.allowed = usize::from(result.is_ok());
        Answer::new(result.map_err(|d| ApiError::from_denied(&d)), note)
    }

    /// A request's shared state (its client, deadline and delivery), and the
    /// guard that abandons it if its handler is dropped before it answers.
    fn begin_request(
        self: &Arc<Self>,
        peer: SocketAddr,
        headers: &HeaderMap,
        started: Instant,
    ) -> (Arc<Allowance>, AbandonOnDrop) {
        let allowance = Arc::new(Allowance::new(
            self.trusted_proxies.client(peer.ip(), headers),
            started + self.deadline,
        ));
        let guard = AbandonOnDrop {
            app: self.clone(),
            request: allowance.clone(),
        };
        (allowance, guard)
    }

    /// Counts a request under a bearer grant, and logs the grant the first time
    /// this instance sees it (its id and courier, never its text).
    fn log_bearer(&self, grant: &waybill_redact::Grant) {
        self.metrics.bearer_requests.inc();
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

    fn count(&self, answer: &Answer) {
        match &answer.result {
            Ok(_) => self.metrics.count("allowed"),
            Err(e) => {
                self.metrics.count(e.outcome());
                self.metrics.refused(answer.note.reason);
            }
        }
    }
}

fn parse_purpose(p: &str) -> Result<Purpose, ApiError> {
    p.parse().map_err(|_| {
        ApiError::bad_request(
            ErrorCode::MalformedRequest,
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
                    ErrorCode::MalformedRequest,
                    "device_signature must be WR1: and 176 hex digits",
                )
            }),
    }
}

pub(crate) fn malformed() -> ApiError {
    ApiError::of(ErrorCode::MalformedRequest)
}

/// Refusals that a batch's grant or device proof earns, the same for every
/// token: the batch is refused whole.
fn refuses_whole_request(d: &Denied) -> bool {
    matches!(
        d,
        Denied::MalformedGrant(_)
            | Denied::UntrustedIssuer
            | Denied::BadSignature
            | Denied::GrantNotYetValid
            | Denied::GrantExpired
            | Denied::GrantTooLong
            | Denied::GrantRevoked
            | Denied::BearerGrantRefused
            | Denied::DeviceSignatureMissing
            | Denied::DeviceSignatureInvalid
            | Denied::RequestStale
            | Denied::RequestReplayed
    )
}

/// The answer, if the request was not abandoned first (it cannot be while
/// its handler runs: the handler's drop abandons it); 503 otherwise.
fn delivered(allowance: &Allowance, answer: Answer) -> Answer {
    if allowance.delivery.send() {
        answer
    } else {
        Answer::new(
            Err(ApiError::DEADLINE),
            AccessNote::reason(ApiError::DEADLINE.code.as_str()),
        )
    }
}

/// A resolve's answer and what its access line says.
pub(crate) struct Answer {
    pub(crate) result: Result<Disclosure, ApiError>,
    pub(crate) note: AccessNote,
}

impl Answer {
    fn new(result: Result<Disclosure, ApiError>, note: AccessNote) -> Self {
        Self { result, note }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = match self.result {
            Ok(d) => Json(&d).into_response(),
            Err(e) => e.into_response(),
        };
        response.extensions_mut().insert(self.note);
        response
    }
}

/// Resolves one token: the fields the grant's scope allows, after the
/// attempt's audit record is durable.
#[utoipa::path(
    post,
    path = "/v1/resolve",
    tag = "public",
    operation_id = "resolve",
    request_body(
        content = ResolveBody,
        description = "The token, the grant, the purpose and, for a grant bound to a device, the device's proof.",
        example = json!(crate::openapi::example_resolve()),
    ),
    responses(
        (status = 200, description = "The fields the grant's scope allows (the others are left out).", body = waybill_redact::Disclosure,
            example = json!(crate::openapi::example_disclosure())),
        (status = 400, description = "The body, the token or the grant is malformed."),
        (status = 403, description = "The grant or the device proof refuses it, or the token is not resolvable with this grant (every parcel-side reason is `not_resolvable`; the audit has the reason)."),
        (status = 429, description = "The courier's rate, the grant's quota, or this client's allowance for refused attempts is spent."),
        (status = 503, description = "The store cannot claim or commit, the request ran past its deadline, or the audit log is unwitnessed under `require_witness`: nothing was disclosed. Retry later."),
    ),
)]
async fn resolve(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let (allowance, _abandon) = app.begin_request(peer, &headers, started);
    let answer = async {
        let body: ResolveBody = serde_json::from_slice(&body).map_err(|_| malformed())?;
        let request = request(&body.purpose, body.device_signature.as_deref())?;
        let (task_app, allowance) = (app.clone(), allowance.clone());
        Ok(tokio::spawn(async move {
            task_app
                .resolve_one(&body.token, &body.grant, &request, &allowance)
                .await
        })
        .await
        .unwrap_or_else(|_| Answer::new(Err(ApiError::STORE), AccessNote::reason("panicked"))))
    }
    .await
    .unwrap_or_else(|e: ApiError| Answer::new(Err(e), AccessNote::reason(e.code.as_str())));
    let answer = delivered(&allowance, answer);
    app.count(&answer);
    answer.into_response()
}

/// Resolves up to 100 tokens under one grant and one device proof. A bad
/// grant or proof refuses the whole batch (one answer, one audit record);
/// otherwise each token gets its own answer, in order.
#[utoipa::path(
    post,
    path = "/v1/resolve/batch",
    tag = "public",
    operation_id = "resolveBatch",
    request_body(
        content = BatchBody,
        description = "The tokens, the grant, the purpose and, for a grant bound to a device, one proof over every token.",
        example = json!(crate::openapi::example_batch()),
    ),
    responses(
        (status = 200, description = "One answer per token, in order: a disclosure, or that token's error with the status it alone would have had.", body = BatchAnswer,
            example = json!(crate::openapi::example_batch_answer())),
        (status = 400, description = "The body is malformed, holds no token or more than 100, or the grant is malformed."),
        (status = 403, description = "The grant or the device proof refuses the whole batch."),
        (status = 429, description = "This client's allowance for refused attempts is spent."),
        (status = 503, description = "The store cannot admit the proof, or the request ran past its deadline: nothing was disclosed. Retry later."),
    ),
)]
async fn resolve_batch(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let (allowance, _abandon) = app.begin_request(peer, &headers, started);
    let parsed = serde_json::from_slice::<BatchBody>(&body)
        .map_err(|_| malformed())
        .and_then(|b| {
            if b.tokens.is_empty() || b.tokens.len() > MAX_BATCH {
                return Err(ApiError::bad_request(
                    ErrorCode::MalformedRequest,
                    "a batch holds 1 to 100 tokens",
                ));
            }
            request(&b.purpose, b.device_signature.as_deref()).map(|r| (b, r))
        });
    let (body, request) = match parsed {
        Ok(x) => {
            app.metrics.observe_batch(x.0.tokens.len());
            x
        }
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
    let n = attempts.len();
    let whole = attempts
        .first()
        .and_then(Attempt::denied)
        .is_some_and(refuses_whole_request);
    if whole {
        // A bad grant or device proof refuses the request as such: one audit
        // record and one answer, not one per token.
        let first = attempts.into_iter().next();
        let (task_app, task_allowance) = (app.clone(), allowance.clone());
        let answer = match first {
            Some(attempt) => {
                tokio::spawn(async move { task_app.finish(attempt, None, &task_allowance).await })
                    .await
                    .unwrap_or_else(|_| {
                        Answer::new(Err(ApiError::STORE), AccessNote::reason("panicked"))
                    })
            }
            None => Answer::new(Err(malformed()), AccessNote::reason("malformed_request")),
        };
        let mut answer = delivered(&allowance, answer);
        app.count(&answer);
        answer.note.tokens = n;
        return answer.into_response();
    }
    let handles: Vec<_> = attempts
        .into_iter()
        .map(|attempt| {
            let (app, allowance) = (app.clone(), allowance.clone());
            tokio::spawn(async move { app.finish(attempt, None, &allowance).await })
        })
        .collect();
    let mut answers = Vec::with_capacity(handles.len());
    for h in handles {
        answers.push(
            h.await.unwrap_or_else(|_| {
                Answer::new(Err(ApiError::STORE), AccessNote::reason("panicked"))
            }),
        );
    }
    if !allowance.delivery.send() {
        return ApiError::DEADLINE.into_response();
    }
    let mut results = Vec::with_capacity(answers.len());
    let mut note = AccessNote {
        tokens: answers.len(),
        reason: "allowed",
        ..AccessNote::default()
    };
    for answer in answers {
        app.count(&answer);
        if note.grant.is_none() {
            note.grant = answer.note.grant;
            note.courier.clone_from(&answer.note.courier);
        }
        note.allowed += answer.note.allowed;
        if answer.result.is_err() && note.reason == "allowed" {
            // The first refusal's reason stands for the batch; the audit has each.
            note.reason = answer.note.reason;
        }
        results.push(BatchItem::from(answer.result));
    }
    let mut response = Json(BatchAnswer { results }).into_response();
    response.extensions_mut().insert(note);
    response
}

/// `GET /healthz`: the process is up (it says nothing about the store: that is
/// `/readyz` on the admin listener).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "public",
    operation_id = "health",
    responses((status = 200, description = "The process is up.", content_type = "text/plain", body = String, example = "ok\n")),
)]
async fn healthz() -> &'static str {
    "ok\n"
}

/// The public routes: what couriers call, each documented by its handler's
/// attribute.
pub(crate) fn public_routes() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::new()
        .routes(routes!(resolve).map(|r| layers::json_body(r, layers::RESOLVE_BODY)))
        .routes(routes!(resolve_batch).map(|r| layers::json_body(r, layers::BATCH_BODY)))
        .routes(routes!(crate::directory::serve))
        .routes(routes!(healthz))
}
