//! A zone directory fetched from the carrier's `GET /v1/directory`, and its
//! cache file: how long the copy may be used without asking again (the
//! service's `Cache-Control: max-age`, never past the directory's own expiry),
//! and the refusal of a stale copy.
//!
//! There is no HTTP here: the caller fetches (the command line with its HTTP
//! client, a binding with its own) and hands over the body and the
//! `Cache-Control` header, so that every caller applies the same rules.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::token::DirectoryError;
use crate::{IssuerPublicKey, ZoneDirectory};

/// The `format` field of the cache file.
const CACHE_FORMAT: &str = "waybill-redact directory cache v1";

/// A verified zone directory as fetched from a URL, with the time until which
/// it may be used without fetching it again.
///
/// # Guarantees
/// The directory's signature verified against the carrier key it was read
/// with, and it was valid when fetched or read from the cache;
/// `fresh_until` is never after the directory's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedDirectory {
    directory: ZoneDirectory,
    json: String,
    url: String,
    fetched_at: u64,
    fresh_until: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    format: String,
    url: String,
    fetched_at: u64,
    fresh_until: u64,
    /// The directory's JSON exactly as the service sent it (its signature is
    /// checked again on every read).
    directory: String,
}

/// How many seconds a response may be cached, from its `Cache-Control` header
/// (RFC 9111 §5.2): `max-age=N`; 0 when the header is absent, says `no-store`
/// or `no-cache`, or has no valid `max-age`. Directive names are
/// case-insensitive; a repeated `max-age` counts as invalid (RFC 9111 §4.2.1).
pub fn cache_max_age(cache_control: Option<&str>) -> u64 {
    let Some(header) = cache_control else {
        return 0;
    };
    let mut max_age = None;
    for directive in header.split(',') {
        let directive = directive.trim();
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return 0;
        }
        if name.eq_ignore_ascii_case("max-age") {
            let value = value.trim().trim_matches('"');
            let parsed = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                // RFC 9111 §1.2.2: a delta-seconds too large to hold is the largest.
                Some(value.parse::<u64>().unwrap_or(u64::MAX))
            } else {
                None
            };
            if max_age.is_some() || parsed.is_none() {
                return 0;
            }
            max_age = parsed;
        }
    }
    max_age.unwrap_or(0)
}

fn unix(now: OffsetDateTime) -> u64 {
    u64::try_from(now.unix_timestamp()).unwrap_or(0)
}

impl FetchedDirectory {
    /// Verifies a directory just fetched from `url`: `body` must be a directory
    /// signed by `carrier` and valid at `now`. It may be used until `now` plus
    /// the `Cache-Control` max-age, and never past its expiry.
    ///
    /// # Errors
    /// What [`ZoneDirectory::from_json`] refuses: not a directory, another
    /// issuer (the wrong carrier), a bad signature, not yet valid, expired.
    pub fn from_response(
        url: &str,
        body: &str,
        cache_control: Option<&str>,
        carrier: &IssuerPublicKey,
        now: OffsetDateTime,
    ) -> Result<Self, DirectoryError> {
        let directory = ZoneDirectory::from_json(body, carrier, now)?;
        let fetched_at = unix(now);
        let fresh_until = fetched_at
            .saturating_add(cache_max_age(cache_control))
            .min(directory.expires_at_unix());
        Ok(Self {
            directory,
            json: body.to_owned(),
            url: url.to_owned(),
            fetched_at,
            fresh_until,
        })
    }

    /// Reads a cache file written by [`to_cache_json`](Self::to_cache_json)
    /// for `url`, and verifies the directory in it again against `carrier`.
    ///
    /// # Errors
    /// [`DirectoryError::Stale`] when the copy is past its freshness time,
    /// [`DirectoryError::NotACache`] when the file is not a cache of `url`,
    /// and every refusal of [`ZoneDirectory::from_json`] (a cache of another
    /// carrier's directory is [`DirectoryError::WrongIssuer`]). The caller
    /// fetches the directory again; a stale copy is never used.
    pub fn from_cache_json(
        text: &str,
        url: &str,
        carrier: &IssuerPublicKey,
        now: OffsetDateTime,
    ) -> Result<Self, DirectoryError> {
        let file: CacheFile = serde_json::from_str(text).map_err(|_| DirectoryError::NotACache)?;
        if file.format != CACHE_FORMAT || file.url != url || file.fresh_until < file.fetched_at {
            return Err(DirectoryError::NotACache);
        }
        let directory = ZoneDirectory::from_json(&file.directory, carrier, now)?;
        // A file edited to stay fresh longer still ends at the expiry.
        let fresh_until = file.fresh_until.min(directory.expires_at_unix());
        if unix(now) >= fresh_until {
            return Err(DirectoryError::Stale);
        }
        Ok(Self {
            directory,
            json: file.directory,
            url: file.url,
            fetched_at: file.fetched_at,
            fresh_until,
        })
    }

    /// The cache file (JSON, public data: no secret is in it).
    pub fn to_cache_json(&self) -> String {
        let file = CacheFile {
            format: CACHE_FORMAT.into(),
            url: self.url.clone(),
            fetched_at: self.fetched_at,
            fresh_until: self.fresh_until,
            directory: self.json.clone(),
        };
        serde_json::to_string_pretty(&file).unwrap_or_default()
    }

    /// Whether the copy may still be used at `now` without fetching it again.
    pub fn is_fresh_at(&self, now: OffsetDateTime) -> bool {
        unix(now) < self.fresh_until
    }

    /// The verified directory.
    pub fn directory(&self) -> &ZoneDirectory {
        &self.directory
    }

    /// The verified directory, by value.
    pub fn into_directory(self) -> ZoneDirectory {
        self.directory
    }

    /// The URL it was fetched from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// When it was fetched, unix seconds.
    pub fn fetched_at_unix(&self) -> u64 {
        self.fetched_at
    }

    /// Until when (exclusive, unix seconds) it may be used without fetching it
    /// again: never after the directory's expiry.
    pub fn fresh_until_unix(&self) -> u64 {
        self.fresh_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IssuerKey, KeyRing};
    use sha2::{Digest, Sha256};
    use time::Duration;

    const URL: &str = "https://carrier.example/v1/directory";

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(secs).unwrap()
    }

    fn setup() -> (IssuerKey, String) {
        let ring = KeyRing::from_key(1, &Sha256::digest(b"cache").into()).unwrap();
        let issuer = IssuerKey::from_secret([7; 32]);
        let dir = ZoneDirectory::publish(&ring, &issuer, &[10], t(1000), Duration::seconds(10_000))
            .unwrap();
        (issuer, dir.to_json())
    }

    #[test]
    fn max_age_is_read_as_rfc_9111_says() {
        for (header, want) in [
            (None, 0),
            (Some("public, max-age=3600"), 3600),
            (Some("MAX-AGE=60"), 60),
            (Some("max-age=\"60\""), 60),
            (Some("public, max-age=60, no-cache"), 0),
            (Some("no-store"), 0),
            (Some("max-age=60, max-age=70"), 0),
            (Some("max-age=-1"), 0),
            (Some("max-age="), 0),
            (Some("public"), 0),
            (Some("max-age=99999999999999999999999"), u64::MAX),
        ] {
            assert_eq!(cache_max_age(header), want, "{header:?}");
        }
    }

    #[test]
    fn fresh_for_max_age_but_never_past_the_expiry() {
        let (issuer, json) = setup();
        let pk = issuer.public_key();
        let f = FetchedDirectory::from_response(URL, &json, Some("max-age=3600"), &pk, t(2000))
            .unwrap();
        assert_eq!(f.fresh_until_unix(), 5600);
        assert!(f.is_fresh_at(t(5599)) && !f.is_fresh_at(t(5600)));
        // The directory expires at 11000: a long max-age stops there.
        let f = FetchedDirectory::from_response(URL, &json, Some("max-age=86400"), &pk, t(2000))
            .unwrap();
        assert_eq!(f.fresh_until_unix(), 11_000);
        let f = FetchedDirectory::from_response(URL, &json, None, &pk, t(2000)).unwrap();
        assert!(!f.is_fresh_at(t(2000)));
    }

    #[test]
    fn the_cache_is_used_while_fresh_and_refused_when_stale_or_foreign() {
        let (issuer, json) = setup();
        let pk = issuer.public_key();
        let f = FetchedDirectory::from_response(URL, &json, Some("max-age=3600"), &pk, t(2000))
            .unwrap();
        let cache = f.to_cache_json();
        let back = FetchedDirectory::from_cache_json(&cache, URL, &pk, t(5599)).unwrap();
        assert_eq!(back, f);
        assert_eq!(
            FetchedDirectory::from_cache_json(&cache, URL, &pk, t(5600)),
            Err(DirectoryError::Stale)
        );
        assert_eq!(
            FetchedDirectory::from_cache_json(&cache, "https://other.example/", &pk, t(3000)),
            Err(DirectoryError::NotACache)
        );
        let other = IssuerKey::from_secret([8; 32]).public_key();
        assert_eq!(
            FetchedDirectory::from_cache_json(&cache, URL, &other, t(3000)),
            Err(DirectoryError::WrongIssuer)
        );
        // Freshness edited past the expiry: the expiry still ends it.
        let edited = cache.replace("\"fresh_until\": 5600", "\"fresh_until\": 99999");
        assert_ne!(edited, cache);
        assert_eq!(
            FetchedDirectory::from_cache_json(&edited, URL, &pk, t(11_000)),
            Err(DirectoryError::Expired)
        );
        // The directory inside changed: its signature fails.
        let tampered = cache.replace("\\\"kid\\\": 1", "\\\"kid\\\": 2");
        assert_ne!(tampered, cache);
        assert_eq!(
            FetchedDirectory::from_cache_json(&tampered, URL, &pk, t(3000)),
            Err(DirectoryError::BadSignature)
        );
        assert_eq!(
            FetchedDirectory::from_cache_json("{}", URL, &pk, t(3000)),
            Err(DirectoryError::NotACache)
        );
    }
}
