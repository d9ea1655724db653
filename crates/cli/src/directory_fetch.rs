//! `--directory https://…`: the carrier's zone directory fetched from its
//! resolver's `GET /v1/directory`, verified against `--carrier`, and cached on
//! disk for as long as the service's `Cache-Control` allows and never past the
//! directory's expiry. The rules (freshness, the cache file, verification) are
//! the library's [`FetchedDirectory`]; this module only finds the cache file
//! and does the HTTP (with the `fetch` feature).

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use waybill_redact::{DirectoryError, FetchedDirectory, IssuerPublicKey, ZoneDirectory};

use crate::files::{read, write_public};

/// The largest directory answer read: 65,536 zones of about 90 bytes each.
#[cfg_attr(not(feature = "fetch"), allow(dead_code))]
const MAX_DIRECTORY_BYTES: u64 = 8 * 1024 * 1024;

/// Whether `--directory` names a URL rather than a file.
pub fn is_url(arg: &str) -> bool {
    let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The cache file for `url`: `$XDG_CACHE_HOME/waybill-redact/` (or
/// `~/.cache/waybill-redact/`), named after the URL. The file records its URL,
/// so two URLs that map to one name only replace each other's copy.
fn default_cache_path(url: &str) -> Result<PathBuf, String> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .ok_or("--directory URL: no cache folder (neither XDG_CACHE_HOME nor HOME is set); give --directory-cache FILE")?;
    let name: String = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    Ok(base
        .join("waybill-redact")
        .join(format!("directory-{name}.json")))
}

fn when(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Why the cached copy was not used, for the error when fetching fails too.
fn cached(
    path: &Path,
    url: &str,
    carrier: &IssuerPublicKey,
    now: OffsetDateTime,
) -> Result<ZoneDirectory, String> {
    let text = read(path)?;
    match FetchedDirectory::from_cache_json(&text, url, carrier, now) {
        Ok(fetched) => {
            if crate::verbose() {
                eprintln!(
                    "zone directory: the cached copy in {} (fetched {}), fresh until {}",
                    path.display(),
                    when(fetched.fetched_at_unix()),
                    when(fetched.fresh_until_unix())
                );
            }
            Ok(fetched.into_directory())
        }
        Err(DirectoryError::Stale) => Err(format!(
            "the cached copy in {} is stale and is not used",
            path.display()
        )),
        Err(e) => Err(format!(
            "the cached copy in {} is not used: {e}",
            path.display()
        )),
    }
}

/// The directory at `url`: the cached copy while it is fresh, else fetched,
/// verified against `carrier` and cached again.
pub fn load(
    url: &str,
    cache: Option<&Path>,
    carrier: &IssuerPublicKey,
    now: OffsetDateTime,
) -> Result<ZoneDirectory, String> {
    let path = match cache {
        Some(p) => p.to_owned(),
        None => default_cache_path(url)?,
    };
    let missed = if path.exists() {
        match cached(&path, url, carrier, now) {
            Ok(dir) => return Ok(dir),
            Err(why) => why,
        }
    } else {
        format!("no cached copy in {}", path.display())
    };
    let fetched = fetch(url, carrier, now, &missed)?;
    if fetched.is_fresh_at(now) {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        }
        write_public(&path, &fetched.to_cache_json())?;
    }
    Ok(fetched.into_directory())
}

/// Without the `fetch` feature: the cached copy was all there was.
#[cfg(not(feature = "fetch"))]
fn fetch(
    url: &str,
    _carrier: &IssuerPublicKey,
    _now: OffsetDateTime,
    missed: &str,
) -> Result<FetchedDirectory, String> {
    Err(format!(
        "--directory {url}: {missed}, and this build cannot fetch it: fetching needs the \
         `fetch` feature (`cargo install waybill-redact-cli --features fetch`); or download \
         the directory yourself and give the file"
    ))
}

/// GETs the directory, with a timeout and a bound on its size, and verifies it.
#[cfg(feature = "fetch")]
fn fetch(
    url: &str,
    carrier: &IssuerPublicKey,
    now: OffsetDateTime,
    missed: &str,
) -> Result<FetchedDirectory, String> {
    let loopback = crate::net::check_url(
        "--directory",
        url,
        "so that no one in the path can hold back a newer directory",
    )?;
    let cannot = |why: String| format!("--directory {url}: {why} ({missed})");
    let mut response = crate::net::agent(loopback, 30)
        .get(url)
        .header("accept", "application/json")
        .call()
        .map_err(|e| cannot(format!("cannot fetch the zone directory: {e}")))?;
    let status = response.status().as_u16();
    let cache_control = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_DIRECTORY_BYTES)
        .read_to_string()
        .map_err(|e| cannot(format!("reading the zone directory: {e}")))?;
    if status != 200 {
        let first = body
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        return Err(cannot(format!("HTTP {status}: {first}")));
    }
    FetchedDirectory::from_response(url, &body, cache_control.as_deref(), carrier, now).map_err(
        |e| match e {
            DirectoryError::WrongIssuer => {
                format!("--directory {url}: the zone directory is another carrier's (not signed by --carrier)")
            }
            e => format!("--directory {url}: zone directory: {e}"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_files() {
        for url in [
            "https://c.example/v1/directory",
            "HTTP://127.0.0.1:8080/v1/directory",
        ] {
            assert!(is_url(url), "{url}");
        }
        for file in ["directory.json", "./https:/x", "http", ""] {
            assert!(!is_url(file), "{file}");
        }
    }

    #[test]
    fn the_cache_file_is_named_after_the_url() {
        let path = default_cache_path("https://carrier.example:8443/v1/directory?k=1").unwrap();
        assert!(
            path.ends_with("waybill-redact/directory-carrier.example_8443_v1_directory_k_1.json"),
            "{}",
            path.display()
        );
    }
}
