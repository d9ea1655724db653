//! The resolver: checks a courier's grant and a token, writes an audit record,
//! and discloses only what the grant's scope allows.

use core::fmt;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::attempt::Attempt;
use super::audit::AuditSink;
use super::clock::{Clock, SystemClock};
use super::payload::PayloadItem;
use super::ratelimit::{Limit, RateLimiter, TokenBucket};
use super::revocation::{Revocation, Revocations};
use super::sealers::{SealerPublicKey, SealerRegistry, SealerStatus};
use crate::error::Denied;
use crate::{Grant, GrantId, IssuerPublicKey, KeyRing, Token};

/// Why a courier asks to see a parcel's data. Written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// Delivering the parcel.
    Delivery,
    /// Calling the recipient.
    Call,
    /// Returning the parcel to the sender.
    Return,
    /// After-sales service.
    AfterSales,
}

impl Purpose {
    /// The name used in the audit log and the CLI: `delivery`, `call`, `return`,
    /// `after-sales`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivery => "delivery",
            Self::Call => "call",
            Self::Return => "return",
            Self::AfterSales => "after-sales",
        }
    }
}

impl core::str::FromStr for Purpose {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, &'static str> {
        match s {
            "delivery" => Ok(Self::Delivery),
            "call" => Ok(Self::Call),
            "return" => Ok(Self::Return),
            "after-sales" => Ok(Self::AfterSales),
            _ => Err("purpose must be delivery, call, return or after-sales"),
        }
    }
}

/// A courier's request: why. The time is the resolver's own ([`Clock`]); more
/// fields (a device signature) may be added, so build it with [`new`](Self::new).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolveRequest {
    /// Why the courier asks.
    pub purpose: Purpose,
}

impl ResolveRequest {
    /// A request for `purpose`.
    pub fn new(purpose: Purpose) -> Self {
        Self { purpose }
    }
}

/// What a courier is shown: the fields the grant's scope allows, `None` for the
/// others. `Debug` shows nothing; zeroized on drop. Serializes to JSON with the
/// hidden fields left out.
#[derive(Clone, PartialEq, Eq, Serialize, Zeroize, ZeroizeOnDrop)]
pub struct Disclosure {
    /// The parcel's tracking number.
    pub tracking_number: String,
    /// The parcel's zone.
    #[zeroize(skip)]
    pub zone: u32,
    /// The recipient's name, if in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The recipient's phone, if in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The recipient's address, if in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The contents, if in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<PayloadItem>>,
}

impl fmt::Debug for Disclosure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disclosure")
            .field("tracking_number", &self.tracking_number)
            .finish_non_exhaustive()
    }
}

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
}

/// Verified grants remembered; the set is emptied when it reaches this size.
const VERIFIED_MAX: usize = 4096;

/// How far in the future a payload's issued-at may be, by default: 5 minutes.
pub const DEFAULT_MAX_SKEW_SECS: u64 = super::validity::ISSUED_AT_SKEW_SECS;

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
        }
    }

    /// Sets the sealer registry: suite-2 tokens open only when their sealer is
    /// registered and revoked neither in the registry nor in the shared
    /// [`Revocations`] (`Revocation::Sealer` with the id in hex).
    pub fn with_sealers(mut self, sealers: SealerRegistry) -> Self {
        self.sealers = sealers;
        self
    }

    /// The key of a suite-2 token's sealer (`None` for suite 1), or why it is denied.
    fn sealer_of(&self, token: &Token) -> Result<Option<&SealerPublicKey>, Denied> {
        let Some(id) = token.header().sealer_id() else {
            return Ok(None);
        };
        match self.sealers.status(id) {
            SealerStatus::Active(_) if self.revocations.sealer_revoked(&id.to_string()) => {
                Err(Denied::SealerRevoked)
            }
            SealerStatus::Active(key) => Ok(Some(key)),
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

    /// Checks, in this order: parse; grant signature and trusted issuer; grant
    /// validity window; grant revocation; token zone within the grant's zones;
    /// parcel revocation (after the zone, so a foreign parcel's revocation is never
    /// revealed); token expiry; rate limit and quota; open (and the payload's issued-at
    /// against the clock); then discloses only what the grant's scope allows.
    /// Every attempt is audited. All times are the resolver's clock.
    ///
    /// A carrier that prints its own labels seals with its ring (suite 1); a
    /// courier's scan comes back with the courier's grant:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use time::{Duration, OffsetDateTime};
    /// use waybill_redact::{
    ///     GrantSpec, IssuerKey, KeyRing, MemorySink, Purpose, ResolveRequest, Resolver, Scope,
    ///     Validity, Waybill,
    /// };
    ///
    /// let waybill = Waybill::from_json(r#"{"tracking_number": "SF1234567890123", "zone": 755021,
    ///   "recipient": {"name": "张三", "phone": "13812345678", "address": "广东省深圳市南山区深南大道10000号"}}"#)?;
    /// let ring = KeyRing::generate();
    /// let now = OffsetDateTime::now_utc();
    /// let token = ring.seal(&waybill, &Validity::new(now, Duration::days(30))?)?;
    ///
    /// let issuer = IssuerKey::generate();
    /// let grant = issuer.issue(&GrantSpec {
    ///     courier_id: "C-0421".into(),
    ///     zones: vec![755021],
    ///     not_before: now - Duration::minutes(5),
    ///     expires_at: now + Duration::hours(8),
    ///     scope: Scope::DELIVERY,
    ///     quota: 200,
    /// })?;
    ///
    /// let audit = Arc::new(MemorySink::new());
    /// let resolver = Resolver::new(ring, vec![issuer.public_key()], audit.clone());
    /// let request = ResolveRequest::new(Purpose::Delivery);
    /// let disclosure = resolver
    ///     .resolve(token.as_str(), &grant.to_string(), &request)
    ///     .expect("allowed");
    /// assert_eq!(disclosure.address.as_deref(), Some("广东省深圳市南山区深南大道10000号"));
    /// assert_eq!(audit.lines().len(), 1); // every attempt is audited
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
        if let Some(claim) = attempt.claim() {
            if let Err(l) = self.limiter.acquire(claim.grant, claim.now) {
                attempt.deny(match l {
                    Limit::Rate => Denied::RateLimited,
                    Limit::Quota => Denied::QuotaExceeded,
                });
            }
        }
        let result = self.open(&attempt);
        self.audit
            .record(&attempt.event(&result))
            .map_err(|_| Denied::AuditUnavailable)?;
        result
    }

    /// Parses and runs every check before the rate limit, at the clock's time.
    pub fn begin(&self, token: &str, grant: &str, request: &ResolveRequest) -> Attempt {
        let time = self.clock.now();
        let token = Token::parse(token);
        let grant = Grant::parse(grant);
        let denied = match (&token, &grant) {
            (Err(e), _) => Some(Denied::MalformedToken(e.clone())),
            (_, Err(e)) => Some(Denied::MalformedGrant(e.clone())),
            (Ok(t), Ok(g)) => self.check(t, g, time.unix_timestamp()).err(),
        };
        Attempt::new(time, request.purpose, token.ok(), grant.ok(), denied)
    }

    /// Opens an admitted attempt's token and discloses what its grant's scope
    /// allows; an attempt already denied returns that denial.
    ///
    /// # Errors
    /// The attempt's denial, [`Denied::Unopenable`], or [`Denied::IssuedInFuture`].
    pub fn open(&self, attempt: &Attempt) -> Result<Disclosure, Denied> {
        let (token, grant) = attempt.admitted()?;
        let header = token.header();
        let payload = match self.sealer_of(token)? {
            None => self.ring.open(token),
            Some(key) => self.ring.open_sealed(token, key),
        }
        .map_err(|_| Denied::Unopenable)?;
        let now = u64::try_from(attempt.time().unix_timestamp()).unwrap_or(0);
        // The clear header bounds the expiry to its period; the exact expiry and
        // the issue time are inside.
        if now >= payload.expires_at() {
            return Err(Denied::TokenExpired);
        }
        if payload.issued_at() > now.saturating_add(self.max_skew) {
            return Err(Denied::IssuedInFuture);
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

    fn check(&self, token: &Token, grant: &Grant, now: i64) -> Result<(), Denied> {
        let now = u64::try_from(now).unwrap_or(0);
        let header = token.header();
        self.verify(grant)?;
        if now < grant.not_before() {
            return Err(Denied::GrantNotYetValid);
        }
        if now >= grant.expires_at() {
            return Err(Denied::GrantExpired);
        }
        if self.revocations.grant_revoked(grant.id()) {
            return Err(Denied::GrantRevoked);
        }
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
        // The clear header carries only the 28-day period the expiry falls in: a
        // cheap first check; the exact expiry is checked once the token is open.
        if now >= header.expiry_bound_unix() {
            return Err(Denied::TokenExpired);
        }
        Ok(())
    }
}
