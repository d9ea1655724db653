//! One resolve attempt between its steps: checked up to the rate limit, then
//! limited by a store, then opened, then audited.

use std::sync::OnceLock;

use time::OffsetDateTime;

use super::audit::{AuditEvent, Outcome};
use super::request::{Disclosure, Purpose};
use crate::resolve::Denied;
use crate::{Grant, GrantId, SealerId, Token};

/// A resolve attempt after [`Resolver::begin`](crate::Resolver::begin): the
/// parsed token and grant, the resolver's time, and the first denial, if any.
#[derive(Debug)]
pub struct Attempt {
    time: OffsetDateTime,
    purpose: Purpose,
    token: Option<Token>,
    grant: Option<Grant>,
    denied: Option<Denied>,
    replay: Option<ReplayGuard>,
    /// A suite-3 token's sealer, once opening has unmasked it (suite 2's is in
    /// the clear header).
    sealer: OnceLock<SealerId>,
}

/// A device-signed request's nonce, which a resolver must admit once only: a
/// store records it atomically (across instances) before the rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplayGuard {
    /// The grant the request was made under.
    pub grant: GrantId,
    /// The request's 16-byte nonce.
    pub nonce: [u8; 16],
    /// Unix seconds after which the nonce may be forgotten: no request with it
    /// can be fresh any more.
    pub keep_until: u64,
}

/// What a rate limiter and quota store decide on: the verified grant (its
/// courier, id, quota and expiry) and the resolver's time in unix seconds.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct QuotaClaim<'a> {
    /// The grant, whose signature verified.
    pub grant: &'a Grant,
    /// The resolver's time, unix seconds.
    pub now: u64,
}

impl<'a> QuotaClaim<'a> {
    /// A claim on `grant` at `now` (unix seconds): for testing a store.
    pub fn new(grant: &'a Grant, now: u64) -> Self {
        Self { grant, now }
    }
}

impl ReplayGuard {
    /// A guard for `nonce` under `grant`, to be kept until `keep_until` (unix
    /// seconds): for testing a store.
    pub fn new(grant: GrantId, nonce: [u8; 16], keep_until: u64) -> Self {
        Self {
            grant,
            nonce,
            keep_until,
        }
    }
}

impl Attempt {
    pub(crate) fn new(
        time: OffsetDateTime,
        purpose: Purpose,
        token: Option<Token>,
        grant: Option<Grant>,
        denied: Option<Denied>,
        replay: Option<ReplayGuard>,
    ) -> Self {
        Self {
            time,
            purpose,
            token,
            grant,
            denied,
            replay,
            sealer: OnceLock::new(),
        }
    }

    /// Notes the sealer that opening a suite-3 token unmasked.
    pub(crate) fn learned_sealer(&self, sealer: SealerId) {
        let _ = self.sealer.set(sealer);
    }

    /// The token's sealer as far as the resolver learned it: suite 2's clear
    /// id, or suite 3's once unmasked. A claim unless the attempt was allowed.
    pub fn sealer(&self) -> Option<SealerId> {
        self.token
            .as_ref()
            .and_then(|t| t.header().sealer_id())
            .or_else(|| self.sealer.get().copied())
    }

    /// The nonce to admit once, while the attempt is admitted so far and its
    /// grant is device-bound. Every attempt of a batch shares its request's guard:
    /// admit it once for the batch.
    pub fn replay_guard(&self) -> Option<ReplayGuard> {
        self.replay.filter(|_| self.denied.is_none())
    }

    /// The resolver's time for this attempt.
    pub fn time(&self) -> OffsetDateTime {
        self.time
    }

    /// The first denial so far, if any.
    pub fn denied(&self) -> Option<&Denied> {
        self.denied.as_ref()
    }

    /// The grant as presented, when it parsed (verified only when not denied).
    pub fn grant(&self) -> Option<&Grant> {
        self.grant.as_ref()
    }

    /// The rate and quota claim, while the attempt is admitted so far.
    pub fn claim(&self) -> Option<QuotaClaim<'_>> {
        match (&self.denied, &self.grant, &self.token) {
            (None, Some(grant), Some(_)) => Some(QuotaClaim {
                grant,
                now: u64::try_from(self.time.unix_timestamp()).unwrap_or(0),
            }),
            _ => None,
        }
    }

    /// Records a denial from a later step (rate limit, quota); the first one stays.
    pub fn deny(&mut self, denied: Denied) {
        self.denied.get_or_insert(denied);
    }

    pub(crate) fn admitted(&self) -> Result<(&Token, &Grant), Denied> {
        if let Some(d) = &self.denied {
            return Err(d.clone());
        }
        match (&self.token, &self.grant) {
            (Some(t), Some(g)) => Ok((t, g)),
            _ => Err(Denied::Unopenable),
        }
    }

    /// The audit event for this attempt and its result.
    pub fn event(&self, result: &Result<Disclosure, Denied>) -> AuditEvent {
        let outcome = match result {
            Ok(_) => Outcome::Allowed,
            Err(d) => Outcome::Denied(d.reason()),
        };
        let mut event = AuditEvent::new(self.time, self.purpose, outcome);
        event.tracking_number = self
            .token
            .as_ref()
            .map(|t| t.header().tracking_number().as_str().to_owned());
        event.courier_id = self.grant.as_ref().map(|g| g.courier_id().to_owned());
        event.grant_id = self.grant.as_ref().map(Grant::id);
        event.sealer = self.sealer();
        event.scope = match (result, &self.grant) {
            (Ok(_), Some(g)) => Some(g.scope()),
            _ => None,
        };
        event
    }
}
