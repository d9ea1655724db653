//! `GET /v1/directory`: the carrier's current signed zone directory, public
//! and cacheable, the way browsers get certificates. Sellers verify it against
//! the carrier's `WI1:` key themselves; the service only refuses to serve a
//! directory no trusted issuer signed.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use waybill_redact::{IssuerPublicKey, ZoneDirectory};

use crate::api::{ApiError, ErrorCode};
use crate::error::ServiceError;
use crate::http::App;

/// Longest time a client may cache the directory, seconds (it may also not
/// cache it past its expiry).
const MAX_AGE_SECS: u64 = 3600;

/// A directory as served: its JSON exactly as signed, and its window.
pub(crate) struct Published {
    json: String,
    not_before: u64,
    expires_at: u64,
}

/// Reads and verifies every directory file against the trusted issuer keys.
/// The signature is checked whatever the date: a directory of a previous key
/// id, expired now, still gives that key id's window.
pub(crate) fn read_all(
    paths: &[PathBuf],
    trusted: &[IssuerPublicKey],
) -> Result<Vec<(ZoneDirectory, String)>, ServiceError> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let bad = |why: String| ServiceError::Config(format!("{}: {why}", path.display()));
        let json = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        // Verify at the directory's own start: only the signature and the issuer
        // are checked here.
        let start = serde_json::from_str::<serde_json::Value>(&json)
            .ok()
            .and_then(|v| v["not_before"].as_i64())
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .ok_or_else(|| bad("not a zone directory".into()))?;
        let dir = trusted
            .iter()
            .find_map(|k| ZoneDirectory::from_json(&json, k, start).ok())
            .ok_or_else(|| bad("not signed by a trusted issuer (trust)".into()))?;
        out.push((dir, json));
    }
    Ok(out)
}

/// The directory to serve at `now`: valid now, the latest to expire.
pub(crate) fn current(dirs: &[(ZoneDirectory, String)], now: OffsetDateTime) -> Option<Published> {
    dirs.iter()
        .filter(|(d, _)| d.check_valid_at(now).is_ok())
        .max_by_key(|(d, _)| (d.expires_at_unix(), d.kid()))
        .map(|(d, json)| Published {
            json: json.clone(),
            not_before: d.not_before_unix(),
            expires_at: d.expires_at_unix(),
        })
}

/// `GET /v1/directory`: the carrier's current signed zone directory
/// (docs/TOKEN.md, "Zone directory"), exactly as signed.
#[utoipa::path(
    get,
    path = "/v1/directory",
    tag = "public",
    operation_id = "directory",
    responses(
        (status = 200, description = "The directory JSON exactly as signed, valid now (the latest to expire). Cacheable for Cache-Control's max-age: at most an hour, never past `expires_at`. Verify it against the carrier's `WI1:` key.",
            content_type = "application/json", body = DirectoryDocument,
            headers(
                ("Cache-Control" = String, description = "`public, max-age=N`: N is at most 3600 and never past the directory's expiry."),
                ("X-Directory-Expires" = String, description = "`expires_at` as an RFC 2822 date."),
            )),
        (status = 503, description = "No valid zone directory is configured."),
    ),
)]
pub(crate) async fn serve(State(app): State<Arc<App>>) -> Response {
    let now = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    match app.resolver.directory() {
        Some(d) if d.not_before <= now && now < d.expires_at => {
            let max_age = (d.expires_at - now).min(MAX_AGE_SECS);
            let expires = OffsetDateTime::from_unix_timestamp(
                i64::try_from(d.expires_at).unwrap_or(i64::MAX),
            )
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc2822)
                    .ok()
            })
            .unwrap_or_default();
            (
                [
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                    (header::CACHE_CONTROL, format!("public, max-age={max_age}")),
                    (
                        header::HeaderName::from_static("x-directory-expires"),
                        expires,
                    ),
                ],
                d.json.clone(),
            )
                .into_response()
        }
        _ => ApiError::of(ErrorCode::DirectoryUnavailable).into_response(),
    }
}

/// The signed zone directory's shape, for the OpenAPI document; the library's
/// `ZoneDirectory` reads and verifies it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used.
pub(crate) struct DirectoryDocument {
    /// The format's name and version.
    format: String,
    /// The carrier's issuer key (`WI1:…`) that signed it.
    issuer: String,
    /// The key id whose zone keys it lists.
    kid: u32,
    /// Unix seconds: valid from.
    not_before: u64,
    /// Unix seconds: valid until.
    expires_at: u64,
    /// The zones' public keys.
    zones: Vec<DirectoryZone>,
    /// The issuer's Ed25519 signature.
    signature: String,
}

/// One zone of a [`DirectoryDocument`].
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used.
pub(crate) struct DirectoryZone {
    /// The zone number.
    zone: u32,
    /// Its X25519 public key, 64 hex digits.
    key: String,
}
