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
use utoipa::ToSchema;
use waybill_redact::{Denied, Disclosure};

/// `POST /v1/resolve`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// The token text from the QR code (`WB3:…`, or `WB2:…` until the last generation-2 label has expired).
    pub token: String,
    /// The courier's grant (`WG2:…`, or `WG1:…` where bearer grants are allowed).
    pub grant: String,
    /// Why the courier asks.
    #[schema(value_type = PurposeName)]
    pub purpose: String,
    /// The device's proof over this request (`WR1:` and 176 hex digits: time,
    /// nonce and Ed25519 signature; docs/TOKEN.md, "Signed requests"),
    /// required for a grant bound to a device.
    #[serde(default)]
    #[schema(pattern = "^WR1:[0-9a-f]{176}$")]
    pub device_signature: Option<String>,
}

/// `POST /v1/resolve/batch`: up to [`MAX_BATCH`] tokens under one grant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// The tokens, 1 to 100.
    #[schema(min_items = 1, max_items = 100)]
    pub tokens: Vec<String>,
    /// The courier's grant.
    pub grant: String,
    /// Why the courier asks, for every token.
    #[schema(value_type = PurposeName)]
    pub purpose: String,
    /// The device's proof over the whole batch (`WR1:…`, covering every
    /// token's SHA-256 in order), required for a grant bound to a device.
    #[serde(default)]
    #[schema(pattern = "^WR1:[0-9a-f]{176}$")]
    pub device_signature: Option<String>,
}

/// Why a courier asks (the grant's purposes must include it).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[schema(as = Purpose)]
#[allow(dead_code)] // Only its schema is used: the body keeps the text, parsed by the library.
pub(crate) enum PurposeName {
    /// Delivering the parcel.
    Delivery,
    /// Calling the recipient.
    Call,
    /// Returning the parcel to the sender.
    Return,
    /// After-sales service.
    AfterSales,
}

/// Tokens in one batch, at most.
pub const MAX_BATCH: usize = 100;

/// `POST /v1/revocations`: 1 to 10,000 revocations in all.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RevocationBody {
    /// Grant ids.
    #[schema(value_type = Vec<GrantIdText>)]
    pub grants: Vec<String>,
    /// Tracking numbers.
    #[schema(value_type = Vec<ParcelText>)]
    pub parcels: Vec<String>,
    /// Sealer ids.
    #[schema(value_type = Vec<SealerIdText>)]
    pub sealers: Vec<String>,
}

/// A string schema with a pattern, for text the handlers parse themselves.
macro_rules! text_schema {
    ($name:ident, $doc:literal, $pattern:literal) => {
        #[doc = $doc]
        pub(crate) struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .description(Some($doc))
                    .into()
            }
        }

        impl ToSchema for $name {}
    };
}

// Surrounding white space is allowed: the parsers trim it.
text_schema!(
    GrantIdText,
    "A grant id: 32 hex digits.",
    "^\\s*[0-9a-fA-F]{32}\\s*$"
);
text_schema!(
    SealerIdText,
    "A sealer id: 8 hex digits (stored in lower case).",
    "^\\s*[0-9a-fA-F]{8}\\s*$"
);
text_schema!(
    ParcelText,
    "A tracking number: not empty or only white space.",
    "\\S"
);

/// `POST /v1/revocations`' answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationAnswer {
    /// How many revocations were stored.
    pub revoked: usize,
    /// Every instance enforces them within this many milliseconds.
    pub effective_within_ms: u64,
}

/// An error answer's stable `code`. Its JSON name (and the OpenAPI
/// document's list of codes) come from this enum, and each code has one HTTP
/// status ([`ErrorCode::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the body or the query is not a valid request.
    MalformedRequest,
    /// 400: the token is not a token.
    MalformedToken,
    /// 400: the grant is not a grant.
    MalformedGrant,
    /// 401: the admin key is missing or wrong.
    Unauthorized,
    /// 403: only grants bound to a device are accepted.
    BearerGrantRefused,
    /// 403: the grant is bound to a device, and the request is not signed.
    DeviceSignatureRequired,
    /// 403: the device signature does not match the request and grant.
    DeviceSignatureInvalid,
    /// 403: the request's time is too far from the server's.
    RequestStale,
    /// 403: the signed request was already made.
    RequestReplayed,
    /// 403: the grant is not valid here (untrusted issuer, bad signature, too long).
    GrantInvalid,
    /// 403: the grant is outside its validity window.
    GrantExpired,
    /// 403: the grant was revoked.
    GrantRevoked,
    /// 403: this grant cannot resolve this token (every parcel-side refusal).
    NotResolvable,
    /// 404: no such route, or nothing there yet.
    NotFound,
    /// 405: the route does not take that method.
    MethodNotAllowed,
    /// 413: the body is larger than the route accepts.
    BodyTooLarge,
    /// 415: the body is not declared `application/json`.
    UnsupportedMediaType,
    /// 429: too many requests (the courier's rate, refused attempts or failed
    /// admin keys from one address).
    RateLimited,
    /// 429: the grant's quota is used up.
    QuotaExceeded,
    /// 500: a bug.
    Internal,
    /// 503: the store cannot claim or commit; nothing was disclosed.
    StoreUnavailable,
    /// 503: the request ran past its deadline; nothing was disclosed.
    DeadlineExceeded,
    /// 503: `require_witness` is set and the audit log is unwitnessed.
    AuditUnwitnessed,
    /// 503: no valid zone directory is configured.
    DirectoryUnavailable,
}

impl ErrorCode {
    /// The code as it is sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformed_request",
            Self::MalformedToken => "malformed_token",
            Self::MalformedGrant => "malformed_grant",
            Self::Unauthorized => "unauthorized",
            Self::BearerGrantRefused => "bearer_grant_refused",
            Self::DeviceSignatureRequired => "device_signature_required",
            Self::DeviceSignatureInvalid => "device_signature_invalid",
            Self::RequestStale => "request_stale",
            Self::RequestReplayed => "request_replayed",
            Self::GrantInvalid => "grant_invalid",
            Self::GrantExpired => "grant_expired",
            Self::GrantRevoked => "grant_revoked",
            Self::NotResolvable => "not_resolvable",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::BodyTooLarge => "body_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::QuotaExceeded => "quota_exceeded",
            Self::Internal => "internal",
            Self::StoreUnavailable => "store_unavailable",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::AuditUnwitnessed => "audit_unwitnessed",
            Self::DirectoryUnavailable => "directory_unavailable",
        }
    }

    /// The HTTP status every answer with this code has.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::MalformedRequest | Self::MalformedToken | Self::MalformedGrant => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::BearerGrantRefused
            | Self::DeviceSignatureRequired
            | Self::DeviceSignatureInvalid
            | Self::RequestStale
            | Self::RequestReplayed
            | Self::GrantInvalid
            | Self::GrantExpired
            | Self::GrantRevoked
            | Self::NotResolvable => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited | Self::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StoreUnavailable
            | Self::DeadlineExceeded
            | Self::AuditUnwitnessed
            | Self::DirectoryUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
    /// What the code means, in a few words (the OpenAPI document's examples).
    pub const fn summary(self) -> &'static str {
        match self {
            Self::MalformedRequest => "the body is not a valid request",
            Self::MalformedToken => "the token is not a token; rescan the QR code",
            Self::MalformedGrant => "the grant is not a grant",
            Self::Unauthorized => "an admin key is required",
            Self::BearerGrantRefused => "this resolver accepts only grants bound to a device",
            Self::DeviceSignatureRequired => {
                "the grant is bound to a device: sign the request with it"
            }
            Self::DeviceSignatureInvalid => {
                "the device signature does not match this request and grant"
            }
            Self::RequestStale => {
                "the request time is too far from the server's; check the device clock"
            }
            Self::RequestReplayed => "this request was already made; sign each request anew",
            Self::GrantInvalid => "the grant is not valid here",
            Self::GrantExpired => "the grant is outside its validity window",
            Self::GrantRevoked => "the grant was revoked",
            Self::NotResolvable => "this grant cannot resolve this token",
            Self::NotFound => "no such route",
            Self::MethodNotAllowed => "this route does not take that method",
            Self::BodyTooLarge => "the body is larger than this route accepts",
            Self::UnsupportedMediaType => "send the body as Content-Type: application/json",
            Self::RateLimited => "too many requests; slow down",
            Self::QuotaExceeded => "the grant's quota is used up",
            Self::Internal => "internal error",
            Self::StoreUnavailable => "the resolver's store is unavailable; retry later",
            Self::DeadlineExceeded => {
                "the request ran past its deadline; nothing was disclosed; retry later"
            }
            Self::AuditUnwitnessed => "the audit log is not witnessed; retry later",
            Self::DirectoryUnavailable => "no valid zone directory is configured",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed error answer: `{"error": {"code": …, "message": …}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status (the code's).
    pub status: StatusCode,
    /// A stable code.
    pub code: ErrorCode,
    /// A short message for people.
    pub message: &'static str,
}

/// What an error answer holds under `error`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: act on it.
    pub code: ErrorCode,
    /// A short message for people; it may change.
    pub message: String,
}

/// Every error answer: `{"error": {"code": …, "message": …}}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorAnswer {
    /// The error.
    pub error: ErrorBody,
}

impl ApiError {
    /// An answer with `code` (and its status).
    pub const fn new(code: ErrorCode, message: &'static str) -> Self {
        Self {
            status: code.status(),
            code,
            message,
        }
    }

    /// 400 with a code.
    pub const fn bad_request(code: ErrorCode, message: &'static str) -> Self {
        Self::new(code, message)
    }

    /// An answer with `code` and its [`summary`](ErrorCode::summary).
    pub const fn of(code: ErrorCode) -> Self {
        Self::new(code, code.summary())
    }

    /// 503: the store is down; nothing was disclosed.
    pub const STORE: Self = Self::of(ErrorCode::StoreUnavailable);

    /// 503: the request ran past its deadline (`request_timeout_ms`).
    pub const DEADLINE: Self = Self::of(ErrorCode::DeadlineExceeded);

    /// 404.
    pub const NOT_FOUND: Self = Self::of(ErrorCode::NotFound);

    /// 405.
    pub const METHOD_NOT_ALLOWED: Self = Self::of(ErrorCode::MethodNotAllowed);

    /// 413.
    pub const TOO_LARGE: Self = Self::of(ErrorCode::BodyTooLarge);

    /// 415.
    pub const UNSUPPORTED_MEDIA_TYPE: Self = Self::of(ErrorCode::UnsupportedMediaType);

    /// 500 (not expected: a bug).
    pub const INTERNAL: Self = Self::of(ErrorCode::Internal);

    /// 503: `require_witness` is set and no witness has cosigned the audit log
    /// for longer than `max_unwitnessed_secs`; nothing was disclosed.
    pub const UNWITNESSED: Self = Self::of(ErrorCode::AuditUnwitnessed);

    /// 429 for an address that sent too many refused attempts.
    pub const NOISE: Self = Self::of(ErrorCode::RateLimited);

    /// 401: the admin key is missing or wrong.
    pub const UNAUTHORIZED: Self = Self::of(ErrorCode::Unauthorized);

    /// The courier-facing answer for a denial.
    pub fn from_denied(d: &Denied) -> Self {
        Self::of(match d {
            Denied::MalformedToken(_) => ErrorCode::MalformedToken,
            Denied::MalformedGrant(_) => ErrorCode::MalformedGrant,
            Denied::BearerGrantRefused => ErrorCode::BearerGrantRefused,
            Denied::DeviceSignatureMissing => ErrorCode::DeviceSignatureRequired,
            Denied::DeviceSignatureInvalid => ErrorCode::DeviceSignatureInvalid,
            Denied::RequestStale => ErrorCode::RequestStale,
            Denied::RequestReplayed => ErrorCode::RequestReplayed,
            Denied::UntrustedIssuer | Denied::BadSignature | Denied::GrantTooLong => {
                ErrorCode::GrantInvalid
            }
            Denied::GrantNotYetValid | Denied::GrantExpired => ErrorCode::GrantExpired,
            Denied::GrantRevoked => ErrorCode::GrantRevoked,
            Denied::RateLimited => ErrorCode::RateLimited,
            Denied::QuotaExceeded => ErrorCode::QuotaExceeded,
            Denied::AuditUnavailable => ErrorCode::StoreUnavailable,
            _ => ErrorCode::NotResolvable,
        })
    }

    /// The metrics outcome it counts as.
    pub fn outcome(&self) -> &'static str {
        match (self.status.as_u16(), self.code) {
            (400, _) => "malformed",
            (_, ErrorCode::QuotaExceeded) => "quota_exceeded",
            (429, _) => "rate_limited",
            (503, _) => "store_unavailable",
            _ => "denied",
        }
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.to_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(ErrorAnswer { error: self.body() })).into_response();
        response
            .extensions_mut()
            .insert(crate::access::AccessNote::reason(self.code.as_str()));
        response
    }
}

/// `POST /v1/resolve/batch`'s answer: one item per token, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    /// The answers, in the tokens' order.
    pub results: Vec<BatchItem>,
}

/// One token's answer in a batch: its status, and the disclosure or the error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    /// The token resolved.
    Disclosed {
        /// 200.
        #[schema(minimum = 200, maximum = 200)]
        status: u16,
        /// The fields the grant's scope allows.
        disclosure: Disclosure,
    },
    /// The token was refused; the other tokens were answered on their own.
    Refused {
        /// The status this token alone would have had.
        #[schema(minimum = 400, maximum = 599)]
        status: u16,
        /// Why.
        error: ErrorBody,
    },
}

impl From<Result<Disclosure, ApiError>> for BatchItem {
    fn from(result: Result<Disclosure, ApiError>) -> Self {
        match result {
            Ok(disclosure) => Self::Disclosed {
                status: 200,
                disclosure,
            },
            Err(e) => Self::Refused {
                status: e.status.as_u16(),
                error: e.body(),
            },
        }
    }
}
