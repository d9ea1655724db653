//! The resolver: checks a courier's grant and a token, writes an audit record,
//! and discloses only what the grant's scope allows.

use core::fmt;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use super::attempt::{Attempt, ReplayGuard};
use super::audit::AuditSink;
use super::clock::{Clock, SystemClock};
use super::device::DEFAULT_REQUEST_WINDOW_SECS;
use super::ratelimit::{Limit, RateLimiter, TokenBucket};
use super::replay::NonceCache;
use super::request::{Disclosure, ResolveRequest};
use super::revocation::{Revocation, Revocations};
use crate::resolve::Denied;
use crate::token::sealers::{SealerId, SealerPublicKey, SealerRegistry, SealerStatus};
use crate::{Grant, GrantId, IssuerPublicKey, KeyRing, Payload, Token, ZoneDirectory};

/// Turns (token, grant, request) into a [`Disclosure`] or a [`Denied`] reason.
///
/// Shared by every request (`Arc<Resolver>`): revocations update through `&self`.
/// [`resolve`](Self::resolve) runs every step with the built-in rate limiter and
/// audit sink; a service with a remote store runs the steps itself:
/// [`begin`](Self::begin) (the checks before the rate limit), its store's atomic
/// rate and quota decision, [`open`](Self::open), then the audit record, awaited.
pub struct Resolver {
    ring: KeyRing,
    trusted: Vec<IssuerPublicKey>,
    revocations: Arc<Revocations>,
    limiter: Arc<dyn RateLimiter>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    max_skew: u64,
    /// SHA-256 of grants whose signature already verified: a courier sends the
    /// same grant all shift, and Ed25519 verification dominates a resolve.
    verified: Mutex<HashSet<[u8; 32]>>,
    /// The sellers whose suite-2 tokens open; empty: suite 2 is denied.
    sealers: SealerRegistry,
    /// Whether version-1 grants, bound to no device, are accepted.
    allow_bearer: bool,
    /// How far a request's time may be from the clock, seconds either way.
    request_window: u64,
    /// The longest grant validity window accepted, seconds.
    max_grant_secs: u64,
    /// Nonces of device-signed requests seen within the window.
    nonces: NonceCache,
    /// The longest token lifetime (expiry minus issue time) accepted, seconds.
    max_token_secs: u64,
    /// The validity window `[not_before, expires_at)` of each key id's zone
    /// directory: a seller's token under a listed key id must be issued inside
    /// its window.
    directories: HashMap<u16, (u64, u64)>,
}

/// The longest token lifetime accepted by default: 90 days, a label's life.
pub const DEFAULT_MAX_TOKEN_DAYS: u64 = 90;

/// Verified grants remembered; the set is emptied when it reaches this size.
const VERIFIED_MAX: usize = 4096;

/// The longest grant accepted by default: 24 hours.
pub const DEFAULT_MAX_GRANT_SECS: u64 = 24 * 3600;

/// How far in the future a payload's issued-at may be, by default: 5 minutes.
pub const DEFAULT_MAX_SKEW_SECS: u64 = crate::token::validity::ISSUED_AT_SKEW_SECS;

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("ring", &self.ring)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// A resolver with the system clock and the default in-memory [`TokenBucket`].
    pub fn new(ring: KeyRing, trusted: Vec<IssuerPublicKey>, audit: Arc<dyn AuditSink>) -> Self {
        Self {
            ring,
            trusted,
            revocations: Arc::default(),
            limiter: Arc::new(TokenBucket::default()),
            audit,
            clock: Arc::new(SystemClock),
            max_skew: DEFAULT_MAX_SKEW_SECS,
            verified: Mutex::default(),
            sealers: SealerRegistry::new(),
            allow_bearer: false,
            request_window: DEFAULT_REQUEST_WINDOW_SECS,
            max_grant_secs: DEFAULT_MAX_GRANT_SECS,
            nonces: NonceCache::default(),
            max_token_secs: DEFAULT_MAX_TOKEN_DAYS * 86_400,
            directories: HashMap::new(),
        }
    }

    /// Sets the longest token lifetime accepted, in days
    /// ([`DEFAULT_MAX_TOKEN_DAYS`] by default): a token whose expiry is further
    /// from its issue time is refused ([`Denied::TokenLifetimeTooLong`]).
    pub fn with_max_token_days(mut self, days: u64) -> Self {
        self.max_token_secs = days.saturating_mul(86_400);
        self
    }

    /// Records the validity windows of the zone directories the carrier has
    /// published: a seller's token under one of their key ids must then be issued
    /// within that key id's directory window ([`Denied::DirectoryExpired`]).
    /// Tokens under key ids with no recorded directory are not checked: list
    /// every directory still in use (the previous key id's until its last token
    /// has expired).
    pub fn with_directories<'a>(
        mut self,
        directories: impl IntoIterator<Item = &'a ZoneDirectory>,
    ) -> Self {
        for d in directories {
            let window = (d.not_before_unix(), d.expires_at_unix());
            let entry = self.directories.entry(d.kid()).or_insert(window);
            // Several directories for one key id: the union of their windows.
            entry.0 = entry.0.min(window.0);
            entry.1 = entry.1.max(window.1);
        }
        self
    }

    /// Replaces the sealer registry in place of [`with_sealers`](Self::with_sealers).
    pub fn set_sealers(&mut self, sealers: SealerRegistry) {
        self.sealers = sealers;
    }

    /// Accepts bearer grants (version 1, bound to no device) as well, for
    /// carriers still migrating. Off by default: a leaked bearer grant resolves
    /// anything in its zones, while a device-bound grant's text alone resolves
    /// nothing.
    pub fn with_bearer_grants(mut self, allow: bool) -> Self {
        self.allow_bearer = allow;
        self
    }

    /// Whether bearer grants are accepted.
    pub fn allows_bearer_grants(&self) -> bool {
        self.allow_bearer
    }

    /// Sets how far a device-signed request's time may be from the resolver's
    /// clock, in seconds either way ([`DEFAULT_REQUEST_WINDOW_SECS`] by default).
    pub fn with_request_window(mut self, seconds: u64) -> Self {
        self.request_window = seconds;
        self
    }

    /// Sets the longest grant validity window accepted, in seconds
    /// ([`DEFAULT_MAX_GRANT_SECS`], one day, by default).
    pub fn with_max_grant_secs(mut self, seconds: u64) -> Self {
        self.max_grant_secs = seconds;
        self
    }

    /// Sets the sealer registry: suite-2 tokens open only when their sealer is
    /// registered and revoked neither in the registry nor in the shared
    /// [`Revocations`] (`Revocation::Sealer` with the id in hex).
    pub fn with_sealers(mut self, sealers: SealerRegistry) -> Self {
        self.sealers = sealers;
        self
    }

    /// The key of a suite-2 token's sealer (`None` for suite 1 and 3: suite 3's
    /// sealer is found only when opening), or why it is denied.
    fn sealer_of(&self, token: &Token) -> Result<Option<&SealerPublicKey>, Denied> {
        match token.header().sealer_id() {
            Some(id) => self.sealer(id).map(Some),
            None => Ok(None),
        }
    }

    /// A registered sealer's key, or why it is denied.
    fn sealer(&self, id: SealerId) -> Result<&SealerPublicKey, Denied> {
        match self.sealers.status(id) {
            SealerStatus::Active(_) if self.revocations.sealer_revoked(&id.to_string()) => {
                Err(Denied::SealerRevoked)
            }
            SealerStatus::Active(key) => Ok(key),
            SealerStatus::Revoked => Err(Denied::SealerRevoked),
            _ => Err(Denied::UnknownSealer),
        }
    }

    /// Replaces the rate limiter (for example with one over a shared store).
    pub fn with_rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// Replaces the clock (tests only: a serving resolver uses the system clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Shares a revocation set (a store keeps it in step with its table).
    pub fn with_revocations(mut self, revocations: Arc<Revocations>) -> Self {
        self.revocations = revocations;
        self
    }

    /// Sets how far in the future a payload's issued-at may be, in seconds.
    pub fn with_max_skew(mut self, seconds: u64) -> Self {
        self.max_skew = seconds;
        self
    }

    /// The revocations in force.
    pub fn revocations(&self) -> &Arc<Revocations> {
        &self.revocations
    }

    /// The resolver's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Revokes a grant: it is denied from now on.
    pub fn revoke_grant(&self, id: GrantId) {
        self.revocations.insert(Revocation::Grant(id));
    }

    /// Revokes every token of a parcel, by tracking number.
    pub fn revoke_parcel(&self, tracking_number: &str) {
        self.revocations.insert(Revocation::parcel(tracking_number));
    }

    /// Checks, in this order: parse; grant signature and trusted issuer; device
    /// binding (a bearer grant only where allowed; for a device-bound grant the
    /// device's signature over this request and its time within the window);
    /// grant validity window and length; grant revocation; token zone within the
    /// grant's zones; parcel revocation (after the zone, so a foreign parcel's
    /// revocation is never revealed); token expiry; the request's nonce (a replay
    /// is refused); rate limit and quota; open (and the payload's issued-at against
    /// the clock); then discloses only what the grant's scope allows. Every attempt
    /// is audited. All times are the resolver's clock.
    ///
    /// A carrier that prints its own labels seals with its ring (suite 1); a
    /// courier's scan comes back with the courier's grant, bound to the courier's
    /// device, and the device's signature over the request:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use time::{Duration, OffsetDateTime};
    /// use waybill_redact::{
    ///     DeviceKey, GrantSpec, IssuerKey, KeyRing, MemorySink, Purpose, ResolveRequest, Resolver,
    ///     Scope, Validity, Waybill,
    /// };
    ///
    /// let waybill = Waybill::from_json(r#"{"tracking_number": "SF1234567890123", "zone": 755021,
    ///   "recipient": {"name": "张三", "phone": "13812345678", "address": "广东省深圳市南山区深南大道10000号"}}"#)?;
    /// let ring = KeyRing::generate();
    /// let now = OffsetDateTime::now_utc();
    /// let token = ring.seal(&waybill, &Validity::new(now, Duration::days(30))?)?;
    ///
    /// // The courier's phone makes its key; the carrier's issuer binds a grant to it.
    /// let device = DeviceKey::generate()?;
    /// let issuer = IssuerKey::generate();
    /// let spec = GrantSpec::new("C-0421", vec![755021], now - Duration::minutes(5), now + Duration::hours(8), 200)
    ///     .with_scope(Scope::DELIVERY)
    ///     .with_device(Some(device.public_key()));
    /// let grant = issuer.issue(&spec)?;
    ///
    /// let audit = Arc::new(MemorySink::new());
    /// let resolver = Resolver::new(ring, vec![issuer.public_key()], audit.clone());
    /// let time = u64::try_from(now.unix_timestamp())?;
    /// let proof = device.prove(grant.id(), Purpose::Delivery, &[token.as_str()], time)?;
    /// let request = ResolveRequest::new(Purpose::Delivery).with_proof(proof);
    /// let disclosure = resolver
    ///     .resolve(token.as_str(), grant.as_str(), &request)
    ///     .expect("allowed");
    /// assert_eq!(disclosure.address.as_deref(), Some("广东省深圳市南山区深南大道10000号"));
    /// // The same request again is a replay; the grant text alone is refused.
    /// assert!(resolver.resolve(token.as_str(), grant.as_str(), &request).is_err());
    /// let bare = ResolveRequest::new(Purpose::Delivery);
    /// assert!(resolver.resolve(token.as_str(), grant.as_str(), &bare).is_err());
    /// assert_eq!(audit.lines().len(), 3); // every attempt is audited
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The first failed check as a [`Denied`] reason; [`Denied::AuditUnavailable`]
    /// when the audit record could not be written (nothing is disclosed then).
    pub fn resolve(
        &self,
        token: &str,
        grant: &str,
        request: &ResolveRequest,
    ) -> Result<Disclosure, Denied> {
        let mut attempt = self.begin(token, grant, request);
        if let Some(guard) = attempt.replay_guard() {
            let now = u64::try_from(attempt.time().unix_timestamp()).unwrap_or(0);
            if !self.admit_nonce(&guard, now) {
                attempt.deny(Denied::RequestReplayed);
            }
        }
        if let Some(claim) = attempt.claim() {
            if let Err(l) = self.limiter.acquire(claim.grant, claim.now) {
                attempt.deny(match l {
                    Limit::Quota => Denied::QuotaExceeded,
                    _ => Denied::RateLimited,
                });
            }
        }
        let result = self.open(&attempt);
        self.audit
            .record(&attempt.event(&result))
            .map_err(|_| Denied::AuditUnavailable)?;
        result
    }

    /// Admits a device-signed request's nonce once, in this resolver's memory
    /// (what [`resolve`](Self::resolve) does): `false` for a replay. Several
    /// instances must share their seen nonces through a store instead.
    pub fn admit_nonce(&self, guard: &ReplayGuard, now: u64) -> bool {
        self.nonces.admit(guard, now)
    }

    /// Parses and runs every check before the replay guard and the rate limit,
    /// at the clock's time.
    pub fn begin(&self, token: &str, grant: &str, request: &ResolveRequest) -> Attempt {
        let mut attempts = self.begin_batch(&[token], grant, request);
        attempts.pop().unwrap_or_else(|| {
            let time = self.clock.now();
            Attempt::new(
                time,
                request.purpose,
                None,
                None,
                Some(Denied::Unopenable),
                None,
            )
        })
    }

    /// [`begin`](Self::begin) for several tokens under one grant and one request
    /// (one device proof covers them all): the grant and the proof are checked
    /// once, then each token. The attempts share one [`ReplayGuard`]: admit it
    /// once for the batch.
    pub fn begin_batch(
        &self,
        tokens: &[&str],
        grant: &str,
        request: &ResolveRequest,
    ) -> Vec<Attempt> {
        let time = self.clock.now();
        let now = u64::try_from(time.unix_timestamp()).unwrap_or(0);
        let grant = Grant::parse(grant);
        let shared = match &grant {
            Err(e) => Err(Denied::MalformedGrant(e.clone())),
            Ok(g) => self.check_grant(g, request, tokens, now),
        };
        let guard = shared.as_ref().ok().copied().flatten();
        let mut grant = grant.ok();
        let last = tokens.len().saturating_sub(1);
        let mut attempts = Vec::with_capacity(tokens.len());
        for (i, text) in tokens.iter().enumerate() {
            let token = Token::parse(text);
            // The grant and the device's proof come first: a batch under a bad
            // grant is refused as such whatever its tokens are.
            let denied = match (&token, &shared) {
                (_, Err(d)) => Some(d.clone()),
                (Err(e), _) => Some(Denied::MalformedToken(e.clone())),
                // The grant parsed (else `shared` is its denial).
                (Ok(t), Ok(_)) => grant
                    .as_ref()
                    .and_then(|g| self.check_token(t, g, now).err()),
            };
            // The last attempt takes the grant: one request, one token, no copy.
            let g = if i == last {
                grant.take()
            } else {
                grant.clone()
            };
            attempts.push(Attempt::new(
                time,
                request.purpose,
                token.ok(),
                g,
                denied,
                guard,
            ));
        }
        attempts
    }

    /// Opens an admitted attempt's token and discloses what its grant's scope
    /// allows; an attempt already denied returns that denial.
    ///
    /// # Errors
    /// The attempt's denial, [`Denied::Unopenable`], or [`Denied::IssuedInFuture`].
    pub fn open(&self, attempt: &Attempt) -> Result<Disclosure, Denied> {
        let (token, grant) = attempt.admitted()?;
        let header = token.header();
        let payload = self.open_token(token, attempt)?;
        let now = u64::try_from(attempt.time().unix_timestamp()).unwrap_or(0);
        // The clear header bounds the expiry to its period; the exact expiry and
        // the issue time are inside.
        if now >= payload.expires_at() {
            return Err(Denied::TokenExpired);
        }
        if payload.issued_at() > now.saturating_add(self.max_skew) {
            return Err(Denied::IssuedInFuture);
        }
        if payload.expires_at() - payload.issued_at() > self.max_token_secs {
            return Err(Denied::TokenLifetimeTooLong);
        }
        if header.suite() != 1 {
            if let Some(&(from, until)) = self.directories.get(&header.kid()) {
                let issued = payload.issued_at();
                if issued < from || issued >= until {
                    return Err(Denied::DirectoryExpired);
                }
            }
        }
        let scope = grant.scope();
        Ok(Disclosure {
            tracking_number: header.tracking_number().as_str().to_owned(),
            zone: header.zone(),
            name: scope.name.then(|| payload.name().to_owned()),
            phone: scope.phone.then(|| payload.phone().to_owned()),
            address: scope.address.then(|| payload.address().to_owned()),
            items: scope.items.then(|| payload.items().to_vec()),
        })
    }

    /// Opens a token of any suite: suite 1 with the ring; suite 2 with its
    /// clear sealer id's registered key; suite 3 by unmasking its sealer id with
    /// the zone key, refusing an unknown or revoked sealer, then opening with
    /// that sealer's registered key.
    fn open_token(&self, token: &Token, attempt: &Attempt) -> Result<Payload, Denied> {
        let opened = match token.header().suite() {
            3 => {
                let unmasked = self.ring.unmask(token).map_err(|_| Denied::Unopenable)?;
                attempt.learned_sealer(unmasked.sealer);
                let key = self.sealer(unmasked.sealer)?;
                self.ring.open_unmasked(token, &unmasked, key)
            }
            _ => match self.sealer_of(token)? {
                None => self.ring.open(token),
                Some(key) => self.ring.open_sealed(token, key),
            },
        };
        opened.map_err(|_| Denied::Unopenable)
    }

    /// Verifies the grant's signature, or finds it verified before.
    fn verify(&self, grant: &Grant) -> Result<(), Denied> {
        let digest: [u8; 32] = Sha256::digest(grant.as_bytes()).into();
        let seen = |v: &Mutex<HashSet<[u8; 32]>>| {
            v.lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&digest)
        };
        if seen(&self.verified) {
            return Ok(());
        }
        grant.verify(&self.trusted)?;
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_MAX {
            verified.clear();
        }
        verified.insert(digest);
        Ok(())
    }

    /// The checks on the grant and the request as a whole, in order: signature
    /// and issuer; device binding (bearer policy, device signature, request time);
    /// validity window and length; revocation.
    fn check_grant(
        &self,
        grant: &Grant,
        request: &ResolveRequest,
        tokens: &[&str],
        now: u64,
    ) -> Result<Option<ReplayGuard>, Denied> {
        self.verify(grant)?;
        let guard = self.check_device(grant, request, tokens, now)?;
        if now < grant.not_before() {
            return Err(Denied::GrantNotYetValid);
        }
        if now >= grant.expires_at() {
            return Err(Denied::GrantExpired);
        }
        if grant.expires_at() - grant.not_before() > self.max_grant_secs {
            return Err(Denied::GrantTooLong);
        }
        if self.revocations.grant_revoked(grant.id()) {
            return Err(Denied::GrantRevoked);
        }
        Ok(guard)
    }

    /// A bearer grant passes only where allowed; a device-bound grant needs its
    /// device's signature over this very request, made within the window.
    fn check_device(
        &self,
        grant: &Grant,
        request: &ResolveRequest,
        tokens: &[&str],
        now: u64,
    ) -> Result<Option<ReplayGuard>, Denied> {
        let Some(device) = grant.device() else {
            return if self.allow_bearer {
                Ok(None)
            } else {
                Err(Denied::BearerGrantRefused)
            };
        };
        let proof = request.proof.ok_or(Denied::DeviceSignatureMissing)?;
        if !proof.verifies(device, grant.id(), request.purpose, tokens) {
            return Err(Denied::DeviceSignatureInvalid);
        }
        if proof.time.abs_diff(now) > self.request_window {
            return Err(Denied::RequestStale);
        }
        Ok(Some(ReplayGuard {
            grant: grant.id(),
            nonce: proof.nonce,
            keep_until: proof
                .time
                .saturating_add(self.request_window)
                .saturating_add(1),
        }))
    }

    /// The checks on one token under an admitted grant.
    fn check_token(&self, token: &Token, grant: &Grant, now: u64) -> Result<(), Denied> {
        let header = token.header();
        // The zone before the parcel's revocation: a courier asking about a parcel
        // outside its zones must not learn whether that parcel is revoked.
        if !grant.zones().contains(&header.zone()) {
            return Err(Denied::ZoneNotGranted);
        }
        if self
            .revocations
            .parcel_revoked(header.tracking_number().as_str())
        {
            return Err(Denied::ParcelRevoked);
        }
        self.sealer_of(token)?;
        // Key ids are issued in increasing order: one below the current key that
        // the ring no longer holds was retired.
        if !self.ring.has_kid(header.kid()) && header.kid() < self.ring.current_kid() {
            return Err(Denied::KeyRetired);
        }
        // The clear header carries only the 28-day period the expiry falls in: a
        // cheap first check; the exact expiry is checked once the token is open.
        if now >= header.expiry_bound_unix() {
            return Err(Denied::TokenExpired);
        }
        Ok(())
    }
}
