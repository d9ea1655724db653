//! The courier's web app at `/app/` (built from `web/courier/`, embedded from
//! `crates/service/app/`), and the security headers every answer carries, the
//! API's included.
//!
//! The app belongs on the public listener, next to `POST /v1/resolve`: the
//! phone loads it from the same origin it resolves against, so the CSP can be
//! `default-src 'self'`.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Only this origin's files; no inline script or style, no framing, no `<base>`.
const CONTENT_SECURITY_POLICY_VALUE: &str =
    "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// One embedded file of the app.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../app/", $name)),
        }
    };
}

/// Every file `web/courier/build.mjs` writes.
const ASSETS: [Asset; 8] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("sw.js", "text/javascript; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("manifest.webmanifest", "application/manifest+json"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("icon-192.png", "image/png"),
    asset!("icon-512.png", "image/png"),
];

/// Per asset, made on first request: its ETag and, for text, its gzip form.
struct Prepared {
    etag: HeaderValue,
    gzip: Option<Vec<u8>>,
}

static PREPARED: [OnceLock<Prepared>; ASSETS.len()] = [const { OnceLock::new() }; ASSETS.len()];

fn prepared(i: usize, asset: &Asset) -> Option<&'static Prepared> {
    let slot = PREPARED.get(i)?;
    Some(slot.get_or_init(|| {
        let digest = Sha256::digest(asset.bytes);
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..12])))
            .unwrap_or(HeaderValue::from_static("\"0\""));
        let text = !asset.content_type.starts_with("image/png");
        let gzip = text.then(|| gzip(asset.bytes)).flatten();
        Prepared { etag, gzip }
    }))
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).ok()?;
    e.finish().ok()
}

/// Whether the client takes gzip (`Accept-Encoding`, a zero q-value refuses).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some((i, asset)) = ASSETS.iter().enumerate().find(|(_, a)| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(prep) = prepared(i, asset) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // The shell revalidates every time (cheap with the ETag), so a deployment
    // reaches phones at once; the service worker keeps a copy for offline use.
    let common = [
        (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
        (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (ETAG, prep.etag.clone()),
        (VARY, HeaderValue::from_static("accept-encoding")),
    ];
    let fresh = headers
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == prep.etag.as_bytes());
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    match &prep.gzip {
        Some(gz) if accepts_gzip(headers) => (
            common,
            [(CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
            gz.as_slice(),
        )
            .into_response(),
        _ => (common, asset.bytes).into_response(),
    }
}

/// `/app` without its slash: the app is at `/app/`.
#[utoipa::path(
    get,
    path = "/app",
    tag = "public",
    operation_id = "appRedirect",
    responses(
        (status = 308, description = "The app is at `/app/`.", headers(("Location" = String, description = "`/app/`"))),
    ),
)]
async fn redirect() -> Redirect {
    Redirect::permanent("/app/")
}

/// The courier's web app: its page.
#[utoipa::path(
    get,
    path = "/app/",
    tag = "public",
    operation_id = "app",
    params(("If-None-Match" = Option<String>, Header, description = "An ETag this client holds.")),
    responses(
        (status = 200, description = "The app's page (gzip when the client accepts it).", content_type = "text/html; charset=utf-8", body = String,
            headers(("ETag" = String, description = "The file's version."))),
        (status = 304, description = "The client's copy is current.", headers(("ETag" = String, description = "The file's version."))),
    ),
)]
async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// One of the app's files.
#[utoipa::path(
    get,
    path = "/app/{file}",
    tag = "public",
    operation_id = "appFile",
    params(
        ("file" = inline(AppFile), Path, description = "The file's name."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag this client holds."),
    ),
    responses(
        (status = 200, description = "The file (gzip for text when the client accepts it).", body = String,
            headers(("ETag" = String, description = "The file's version."))),
        (status = 304, description = "The client's copy is current.", headers(("ETag" = String, description = "The file's version."))),
        (status = 404, description = "No such file."),
    ),
)]
async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

/// The name of one of the app's files, for the OpenAPI document: the names
/// and their content types come from the embedded files themselves.
pub(crate) struct AppFile;

impl utoipa::PartialSchema for AppFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ASSETS.iter().map(|a| a.name)))
            .into()
    }
}

impl utoipa::ToSchema for AppFile {}

/// Every file's content type, for the OpenAPI document.
pub(crate) fn content_types() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.content_type)
}

/// The app's routes: `/app` (a redirect), `/app/` and its files. They use no
/// state, so they join any router.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    OpenApiRouter::new()
        .routes(routes!(redirect))
        .routes(routes!(index))
        .routes(routes!(file))
}

/// The security headers on every answer of `router`. An answer that set no
/// `Cache-Control` (every API answer) gets `no-store`.
pub(crate) fn with_headers(router: Router) -> Router {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(header(
            CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY_VALUE,
        ))
        .layer(header(REFERRER_POLICY, "no-referrer"))
        .layer(header(
            HeaderName::from_static("permissions-policy"),
            "camera=(self)",
        ))
        .layer(header(X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        h
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        assert!(accepts_gzip(&headers("gzip, deflate, br")));
        assert!(accepts_gzip(&headers("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&headers("*")));
        assert!(!accepts_gzip(&headers("gzip;q=0")));
        assert!(!accepts_gzip(&headers("br, deflate")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn every_file_the_page_names_is_embedded() {
        let index = std::str::from_utf8(ASSETS[0].bytes).unwrap();
        for name in [
            "app.js",
            "app.css",
            "manifest.webmanifest",
            "icon.svg",
            "icon-192.png",
        ] {
            assert!(index.contains(name), "{name} not in index.html");
            assert!(ASSETS.iter().any(|a| a.name == name), "{name} not embedded");
        }
        // No inline script or style: the CSP forbids them.
        assert!(!index.contains("<style"));
        assert!(!index.contains("style="));
        assert!(!index.contains("<script>"));
        let handler = index.match_indices(" on").any(|(at, _)| {
            let rest = &index[at + 3..];
            let name = rest.len()
                - rest
                    .trim_start_matches(|c: char| c.is_ascii_lowercase())
                    .len();
            name > 0 && rest[name..].starts_with('=')
        });
        assert!(!handler, "an inline event handler (onclick=…)");
    }

    #[test]
    fn text_files_are_gzipped_and_unchanged_after_inflating() {
        use std::io::Read;
        for (i, asset) in ASSETS.iter().enumerate() {
            let prep = prepared(i, asset).unwrap();
            if let Some(gz) = &prep.gzip {
                let mut back = Vec::new();
                flate2::read::GzDecoder::new(gz.as_slice())
                    .read_to_end(&mut back)
                    .unwrap();
                assert_eq!(back, asset.bytes, "{}", asset.name);
            }
        }
    }
}
