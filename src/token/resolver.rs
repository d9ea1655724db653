//! The resolver: checks a courier's grant and a token, writes an audit record,
//! and discloses only what the grant's scope allows.

use core::fmt;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::audit::{AuditEvent, AuditSink, Outcome};
use super::payload::PayloadItem;
use super::ratelimit::{Limit, RateLimiter, TokenBucket};
use super::sealers::{SealerRegistry, SealerStatus};
use super::validity::ISSUED_AT_SKEW_SECS;
use crate::error::Denied;
use crate::{Grant, GrantId, IssuerPublicKey, KeyRing, Payload, Token};

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

/// A courier's request: why, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolveRequest {
    /// Why the courier asks.
    pub purpose: Purpose,
    /// The current time (the resolver never reads the clock itself).
    pub now: OffsetDateTime,
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

/// Turns (token, grant, request) into a [`Disclosure`] or a [`Denied`] reason,
/// auditing every attempt. Stateless apart from its rate limiter and audit sink.
pub struct Resolver {
    ring: KeyRing,
    trusted: Vec<IssuerPublicKey>,
    revoked_grants: HashSet<GrantId>,
    revoked_parcels: HashSet<String>,
    limiter: Arc<dyn RateLimiter>,
    audit: Arc<dyn AuditSink>,
    /// SHA-256 of grants whose signature already verified: a courier sends the
    /// same grant all shift, and Ed25519 verification dominates a resolve.
    verified: Mutex<HashSet<[u8; 32]>>,
    /// The sellers whose suite-2 tokens open; empty: suite 2 is denied.
    sealers: SealerRegistry,
}

/// The exact expiry and the issue time, which only the opened payload holds.
fn check_times(payload: &Payload, now: u64) -> Result<(), Denied> {
    if now >= payload.expires_at() {
        return Err(Denied::TokenExpired);
    }
    if payload.issued_at() > now.saturating_add(ISSUED_AT_SKEW_SECS) {
        return Err(Denied::IssuedInFuture);
    }
    Ok(())
}

/// Verified grants remembered; the set is emptied when it reaches this size.
const VERIFIED_MAX: usize = 4096;

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("ring", &self.ring)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// A resolver with the default in-memory [`TokenBucket`].
    pub fn new(ring: KeyRing, trusted: Vec<IssuerPublicKey>, audit: Arc<dyn AuditSink>) -> Self {
        Self {
            ring,
            trusted,
            revoked_grants: HashSet::new(),
            revoked_parcels: HashSet::new(),
            limiter: Arc::new(TokenBucket::default()),
            audit,
            verified: Mutex::default(),
            sealers: SealerRegistry::new(),
        }
    }

    /// Sets the sealer registry: suite-2 tokens open only when their sealer is
    /// registered and not revoked.
    pub fn with_sealers(mut self, sealers: SealerRegistry) -> Self {
        self.sealers = sealers;
        self
    }

    /// Replaces the rate limiter (for example with one over a shared store).
    pub fn with_rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// Revokes a grant: it is denied from now on.
    pub fn revoke_grant(&mut self, id: GrantId) {
        self.revoked_grants.insert(id);
    }

    /// Revokes every token of a parcel, by tracking number.
    pub fn revoke_parcel(&mut self, tracking_number: &str) {
        self.revoked_parcels
            .insert(tracking_number.trim().to_ascii_uppercase());
    }

    /// Checks, in this order: parse; grant signature and trusted issuer; grant
    /// validity window; revocation (grant, parcel, and for suite 2 the sealer:
    /// unknown or revoked); token zone within the grant's zones; token expiry
    /// bound; rate limit and quota; open; exact expiry and issue time (at most
    /// [`ISSUED_AT_SKEW_SECS`] ahead); then discloses only what the grant's
    /// scope allows. Every attempt is audited.
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
        let token = Token::parse(token);
        let grant = Grant::parse(grant);
        let result = match (&token, &grant) {
            (Err(e), _) => Err(Denied::MalformedToken(e.clone())),
            (_, Err(e)) => Err(Denied::MalformedGrant(e.clone())),
            (Ok(t), Ok(g)) => self.check(t, g, request),
        };
        let event = AuditEvent {
            time: request.now,
            tracking_number: token
                .as_ref()
                .ok()
                .map(|t| t.header().tracking_number().as_str().to_owned()),
            courier_id: grant.as_ref().ok().map(|g| g.courier_id().to_owned()),
            grant_id: grant.as_ref().ok().map(Grant::id),
            purpose: request.purpose,
            outcome: match &result {
                Ok(_) => Outcome::Allowed,
                Err(d) => Outcome::Denied(d.code()),
            },
        };
        self.audit
            .record(&event)
            .map_err(|_| Denied::AuditUnavailable)?;
        result
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

    fn check(
        &self,
        token: &Token,
        grant: &Grant,
        request: &ResolveRequest,
    ) -> Result<Disclosure, Denied> {
        let now = u64::try_from(request.now.unix_timestamp()).unwrap_or(0);
        let header = token.header();
        self.verify(grant)?;
        if now < grant.not_before() {
            return Err(Denied::GrantNotYetValid);
        }
        if now >= grant.expires_at() {
            return Err(Denied::GrantExpired);
        }
        if self.revoked_grants.contains(&grant.id()) {
            return Err(Denied::GrantRevoked);
        }
        if self
            .revoked_parcels
            .contains(header.tracking_number().as_str())
        {
            return Err(Denied::ParcelRevoked);
        }
        let sealer = match header.sealer_id().map(|id| self.sealers.status(id)) {
            None => None,
            Some(SealerStatus::Active(key)) => Some(key),
            Some(SealerStatus::Revoked) => return Err(Denied::SealerRevoked),
            Some(_) => return Err(Denied::UnknownSealer),
        };
        if !grant.zones().contains(&header.zone()) {
            return Err(Denied::ZoneNotGranted);
        }
        // The clear header bounds the expiry to its 28-day period: a cheap first
        // check; the exact expiry is checked once the token is open.
        if now >= header.expiry_bound_unix() {
            return Err(Denied::TokenExpired);
        }
        self.limiter.acquire(grant, now).map_err(|l| match l {
            Limit::Rate => Denied::RateLimited,
            Limit::Quota => Denied::QuotaExceeded,
        })?;
        let payload = match sealer {
            None => self.ring.open(token),
            Some(key) => self.ring.open_sealed(token, key),
        }
        .map_err(|_| Denied::Unopenable)?;
        check_times(&payload, now)?;
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
}
