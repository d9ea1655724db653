//! The JSON the service speaks, and how denials become HTTP answers.
//!
//! Courier-facing codes say what the courier can act on and nothing about other
//! parcels: every parcel-side refusal (zone, parcel revoked, token expired,
//! unopenable, issued in the future) is `not_resolvable`. The full reason goes
//! to the audit record.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use waybill_redact::{Denied, Disclosure};

/// `POST /v1/resolve`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// The token text from the QR code (`WB3:…`, or `WB2:…` until the last generation-2 label has expired).
    pub token: String,
    /// The courier's grant (`WG2:…`, or `WG1:…` where bearer grants are allowed).
    pub grant: String,
    /// `delivery`, `call`, `return` or `after-sales`.
    pub purpose: String,
    /// The device's proof over this request (`WR1:…`), required for a grant
    /// bound to a device.
    #[serde(default)]
    pub device_signature: Option<String>,
}

/// `POST /v1/resolve/batch`: up to [`MAX_BATCH`] tokens under one grant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// The tokens.
    pub tokens: Vec<String>,
    /// The courier's grant.
    pub grant: String,
    /// The purpose, for every token.
    pub purpose: String,
    /// The device's proof over the whole batch (`WR1:…`, covering every
    /// token's SHA-256 in order), required for a grant bound to a device.
    #[serde(default)]
    pub device_signature: Option<String>,
}

/// Tokens in one batch, at most.
pub const MAX_BATCH: usize = 100;

/// `POST /v1/revocations`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RevocationBody {
    /// Grant ids, 32 hex digits each.
    pub grants: Vec<String>,
    /// Tracking numbers.
    pub parcels: Vec<String>,
    /// Sealer ids.
    pub sealers: Vec<String>,
}

/// A typed error answer: `{"error": {"code": …, "message": …}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code.
    pub code: &'static str,
    /// A short message for people.
    pub message: &'static str,
}

#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: &'static str,
}

impl ApiError {
    /// 400 with a code.
    pub const fn bad_request(code: &'static str, message: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            message,
        }
    }

    /// 503: the store is down; nothing was disclosed.
    pub const STORE: Self = Self {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "store_unavailable",
        message: "the resolver's store is unavailable; retry later",
    };

    /// 429 for an address that sent too many refused attempts.
    pub const NOISE: Self = Self {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "rate_limited",
        message: "too many requests; slow down",
    };

    /// The courier-facing answer for a denial.
    pub fn from_denied(d: &Denied) -> Self {
        let (status, code, message) = match d {
            Denied::MalformedToken(_) => (
                StatusCode::BAD_REQUEST,
                "malformed_token",
                "the token is not a token; rescan the QR code",
            ),
            Denied::MalformedGrant(_) => (
                StatusCode::BAD_REQUEST,
                "malformed_grant",
                "the grant is not a grant",
            ),
            Denied::BearerGrantRefused => (
                StatusCode::FORBIDDEN,
                "bearer_grant_refused",
                "this resolver accepts only grants bound to a device",
            ),
            Denied::DeviceSignatureMissing => (
                StatusCode::FORBIDDEN,
                "device_signature_required",
                "the grant is bound to a device: sign the request with it",
            ),
            Denied::DeviceSignatureInvalid => (
                StatusCode::FORBIDDEN,
                "device_signature_invalid",
                "the device signature does not match this request and grant",
            ),
            Denied::RequestStale => (
                StatusCode::FORBIDDEN,
                "request_stale",
                "the request time is too far from the server's; check the device clock",
            ),
            Denied::RequestReplayed => (
                StatusCode::FORBIDDEN,
                "request_replayed",
                "this request was already made; sign each request anew",
            ),
            Denied::UntrustedIssuer | Denied::BadSignature | Denied::GrantTooLong => (
                StatusCode::FORBIDDEN,
                "grant_invalid",
                "the grant is not valid here",
            ),
            Denied::GrantNotYetValid | Denied::GrantExpired => (
                StatusCode::FORBIDDEN,
                "grant_expired",
                "the grant is outside its validity window",
            ),
            Denied::GrantRevoked => (
                StatusCode::FORBIDDEN,
                "grant_revoked",
                "the grant was revoked",
            ),
            Denied::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; slow down",
            ),
            Denied::QuotaExceeded => (
                StatusCode::TOO_MANY_REQUESTS,
                "quota_exceeded",
                "the grant's quota is used up",
            ),
            Denied::AuditUnavailable => return Self::STORE,
            _ => (
                StatusCode::FORBIDDEN,
                "not_resolvable",
                "this grant cannot resolve this token",
            ),
        };
        Self {
            status,
            code,
            message,
        }
    }

    /// The metrics outcome it counts as.
    pub fn outcome(&self) -> &'static str {
        match (self.status.as_u16(), self.code) {
            (400, _) => "malformed",
            (429, "quota_exceeded") => "quota_exceeded",
            (429, _) => "rate_limited",
            (503, _) => "store_unavailable",
            _ => "denied",
        }
    }

    fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": ErrorBody { code: self.code, message: self.message } })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// One answer of a batch.
pub fn batch_item(result: &Result<Disclosure, ApiError>) -> serde_json::Value {
    match result {
        Ok(d) => serde_json::json!({ "status": 200, "disclosure": d }),
        Err(e) => {
            let mut v = e.body();
            v["status"] = e.status.as_u16().into();
            v
        }
    }
}
