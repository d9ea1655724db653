//! The resolver's checks, in the order DESIGN.md lists them, through the public API.

use std::cell::Cell;
use std::sync::Arc;

use proptest::prelude::*;

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    parse_batch, verify_audit_log, Clock, Denied, Grant, GrantSpec, IssuerKey, KeyRing, MemorySink,
    Purpose, ResolveRequest, Resolver, Scope, TokenBucket, Validity, Waybill,
};

const FIXTURES: &str = include_str!("../fixtures/waybills.json");

struct Setup {
    ring: KeyRing,
    issuer: IssuerKey,
    waybill: Waybill,
    token: String,
    audit: Arc<MemorySink>,
}

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
}

fn setup() -> Setup {
    let waybill = parse_batch(FIXTURES).remove(0).unwrap();
    let ring = KeyRing::generate();
    let token = ring
        .seal(&waybill, &Validity::new(t0(), Duration::days(7)).unwrap())
        .unwrap()
        .as_str()
        .to_owned();
    Setup {
        ring,
        issuer: IssuerKey::generate(),
        waybill,
        token,
        audit: Arc::new(MemorySink::new()),
    }
}

fn spec(zones: &[u32]) -> GrantSpec {
    GrantSpec::new(
        "C-10023",
        zones.to_vec(),
        t0(),
        t0() + Duration::hours(12),
        100,
    )
}

impl Setup {
    fn resolver(&self) -> Resolver {
        Resolver::new(
            self.ring.clone(),
            vec![self.issuer.public_key()],
            self.audit.clone(),
        )
        .with_bearer_grants(true)
        .with_clock(Arc::new(TestClock))
    }

    fn grant(&self, spec: &GrantSpec) -> String {
        self.issuer.issue(spec).unwrap().as_str().to_owned()
    }
}

thread_local! {
    /// Each test runs on its own thread: `at` sets that thread's resolver time.
    static NOW: Cell<i64> = const { Cell::new(0) };
}

/// The resolver's clock in these tests: the time the test last set with `at`.
#[derive(Debug)]
struct TestClock;

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(NOW.with(Cell::get)).unwrap()
    }
}

fn at(now: OffsetDateTime) -> ResolveRequest {
    NOW.with(|c| c.set(now.unix_timestamp()));
    ResolveRequest::new(Purpose::Delivery)
}

fn later() -> OffsetDateTime {
    t0() + Duration::hours(1)
}

#[test]
fn a_valid_grant_discloses_the_recipient_and_is_audited() {
    let s = setup();
    let grant = s.grant(&spec(&[755021, 755022]));
    let d = s
        .resolver()
        .resolve(&s.token, &grant, &at(later()))
        .unwrap();
    let r = s.waybill.recipient();
    assert_eq!(d.tracking_number, "SF1234567890123");
    assert_eq!(d.zone, 755021);
    assert_eq!(d.name.as_deref(), Some(r.name().as_str()));
    assert_eq!(d.phone.as_deref(), Some(r.phone().to_canonical().as_str()));
    assert_eq!(
        d.address.as_deref(),
        Some(r.address().to_full_text().as_str())
    );
    assert_eq!(d.items, None, "items are not in the delivery scope");
    assert!(!format!("{d:?}").contains("张三"));
    let lines = s.audit.lines();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains("\"outcome\":\"allowed\""));
    assert!(lines[0].contains("SF1234567890123") && lines[0].contains("C-10023"));
    for personal in ["张三", "13812345678", "腾讯", "奶粉"] {
        assert!(
            !lines[0].contains(personal),
            "audit record leaks {personal}"
        );
    }
}

fn denied(s: &Setup, resolver: &Resolver, grant: &str, now: OffsetDateTime) -> Denied {
    resolver.resolve(&s.token, grant, &at(now)).unwrap_err()
}

#[test]
fn wrong_zone_is_denied() {
    let s = setup();
    let g = s.grant(&spec(&[755022]));
    assert_eq!(
        denied(&s, &s.resolver(), &g, later()),
        Denied::ZoneNotGranted
    );
}

#[test]
fn expired_token_is_denied() {
    let s = setup();
    let mut sp = spec(&[755021]);
    sp.expires_at = t0() + Duration::days(30);
    let g = s.grant(&sp);
    // A month-long grant, so that the token (7 days) expires first.
    let r = s.resolver().with_max_grant_secs(31 * 86_400);
    assert!(r
        .resolve(
            &s.token,
            &g,
            &at(t0() + Duration::days(7) - Duration::seconds(1))
        )
        .is_ok());
    assert_eq!(
        denied(&s, &r, &g, t0() + Duration::days(7)),
        Denied::TokenExpired
    );
}

#[test]
fn grant_window_is_enforced() {
    let s = setup();
    let g = s.grant(&spec(&[755021]));
    let r = s.resolver();
    assert_eq!(
        denied(&s, &r, &g, t0() - Duration::seconds(1)),
        Denied::GrantNotYetValid
    );
    assert_eq!(
        denied(&s, &r, &g, t0() + Duration::hours(12)),
        Denied::GrantExpired
    );
}

#[test]
fn untrusted_issuer_and_forged_signature_are_denied() {
    let s = setup();
    let stranger = IssuerKey::generate().issue(&spec(&[755021])).unwrap();
    assert_eq!(
        denied(&s, &s.resolver(), stranger.as_str(), later()),
        Denied::UntrustedIssuer
    );
    // Widen the quota of a genuine grant without re-signing it. The resolver has
    // just verified (and remembered) the genuine one; the forgery must still fail.
    let genuine = s.issuer.issue(&spec(&[755021])).unwrap();
    let r = s.resolver();
    assert!(r.resolve(&s.token, genuine.as_str(), &at(later())).is_ok());
    let forged = tamper_grant(&genuine, |bytes| {
        let quota_at = 1 + 8 + 16 + 1 + genuine.courier_id().len() + 8 + 8 + 1;
        bytes[quota_at] ^= 0x40;
    });
    assert_eq!(denied(&s, &r, &forged, later()), Denied::BadSignature);
    let codes: Vec<_> = s.audit.lines();
    assert!(
        codes[0].contains("untrusted_issuer")
            && codes[1].contains("allowed")
            && codes[2].contains("bad_signature")
    );
}

#[test]
fn revoked_grant_and_revoked_parcel_are_denied() {
    let s = setup();
    let grant = s.issuer.issue(&spec(&[755021])).unwrap();
    let r = s.resolver();
    r.revoke_grant(grant.id());
    assert_eq!(
        denied(&s, &r, grant.as_str(), later()),
        Denied::GrantRevoked
    );
    let r = s.resolver();
    r.revoke_parcel("sf1234567890123");
    assert_eq!(
        denied(&s, &r, grant.as_str(), later()),
        Denied::ParcelRevoked
    );
}

#[test]
fn quota_is_enforced_per_grant() {
    let s = setup();
    let mut sp = spec(&[755021]);
    sp.quota = 2;
    let g = s.grant(&sp);
    let r = s.resolver();
    assert!(r.resolve(&s.token, &g, &at(later())).is_ok());
    assert!(r.resolve(&s.token, &g, &at(later())).is_ok());
    assert_eq!(denied(&s, &r, &g, later()), Denied::QuotaExceeded);
    // A fresh grant for the same courier still works.
    assert!(r
        .resolve(&s.token, &s.grant(&spec(&[755021])), &at(later()))
        .is_ok());
}

#[test]
fn rate_limit_is_enforced_per_courier_and_refills() {
    let s = setup();
    let r = s
        .resolver()
        .with_rate_limiter(Arc::new(TokenBucket::new(3, 60)));
    let g = s.grant(&spec(&[755021]));
    for _ in 0..3 {
        assert!(r.resolve(&s.token, &g, &at(later())).is_ok());
    }
    assert_eq!(denied(&s, &r, &g, later()), Denied::RateLimited);
    // Another grant of the same courier shares the bucket.
    let g2 = s.grant(&spec(&[755021]));
    assert_eq!(denied(&s, &r, &g2, later()), Denied::RateLimited);
    // One request a second refills.
    assert!(r
        .resolve(&s.token, &g, &at(later() + Duration::seconds(1)))
        .is_ok());
}

#[test]
fn scope_limits_the_disclosure() {
    let s = setup();
    let mut sp = spec(&[755021]);
    sp.scope = "address".parse().unwrap();
    let d = s
        .resolver()
        .resolve(&s.token, &s.grant(&sp), &at(later()))
        .unwrap();
    assert!(d.address.is_some());
    assert!(d.name.is_none() && d.phone.is_none() && d.items.is_none());
    let mut sp = spec(&[755021]);
    sp.scope = "name,address,items".parse().unwrap();
    let d = s
        .resolver()
        .resolve(&s.token, &s.grant(&sp), &at(later()))
        .unwrap();
    assert!(d.name.is_some() && d.items.is_some());
    assert_eq!(d.phone, None, "a grant without phone scope gets no phone");
    let json = serde_json::to_string(&d).unwrap();
    assert!(!json.contains("phone"));
}

#[test]
fn tampered_token_and_garbage_are_denied_and_audited() {
    let s = setup();
    let g = s.grant(&spec(&[755021]));
    let r = s.resolver();
    let mut chars: Vec<char> = s.token.chars().collect();
    let last = chars.len() - 5;
    chars[last] = if chars[last] == '0' { '1' } else { '0' };
    let tampered: String = chars.into_iter().collect();
    assert_eq!(
        r.resolve(&tampered, &g, &at(later())).unwrap_err(),
        Denied::Unopenable
    );
    assert!(matches!(
        r.resolve("not a token", &g, &at(later())).unwrap_err(),
        Denied::MalformedToken(_)
    ));
    assert!(matches!(
        r.resolve(&s.token, "WG1:XYZ", &at(later())).unwrap_err(),
        Denied::MalformedGrant(_)
    ));
    let lines = s.audit.lines();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].contains("\"tracking_number\":null"));
    assert!(lines[2].contains("\"courier\":null"));
    assert_eq!(verify_audit_log(lines.join("\n").as_bytes()).unwrap(), 3);
}

#[test]
fn checks_run_in_the_documented_order() {
    // An expired, wrong-zone grant from an untrusted issuer reports the issuer first.
    let s = setup();
    let mut sp = spec(&[1]);
    sp.expires_at = t0() + Duration::seconds(1);
    let stranger = IssuerKey::generate().issue(&sp).unwrap();
    assert_eq!(
        denied(&s, &s.resolver(), stranger.as_str(), later()),
        Denied::UntrustedIssuer
    );
    // Trusted but expired and wrong zone: the window comes before the zone.
    let g = s.grant(&sp);
    assert_eq!(denied(&s, &s.resolver(), &g, later()), Denied::GrantExpired);
    // Wrong zone before the parcel's revocation: a courier asking about a parcel
    // outside its zones cannot tell whether that parcel is revoked.
    let g = s.grant(&spec(&[1]));
    let r = s.resolver();
    assert_eq!(denied(&s, &r, &g, later()), Denied::ZoneNotGranted);
    r.revoke_parcel("SF1234567890123");
    assert_eq!(denied(&s, &r, &g, later()), Denied::ZoneNotGranted);
    // Within the grant's zones the revocation is reported.
    let g = s.grant(&spec(&[s.waybill.zone()]));
    assert_eq!(denied(&s, &r, &g, later()), Denied::ParcelRevoked);
}

#[test]
fn grant_text_round_trips() {
    let issuer = IssuerKey::generate();
    let g = issuer.issue(&spec(&[755021, 755022])).unwrap();
    let back = Grant::parse(g.as_str()).unwrap();
    assert_eq!(back, g);
    assert_eq!(back.courier_id(), "C-10023");
    assert_eq!(back.zones(), &[755021, 755022]);
    assert_eq!(back.quota(), 100);
    assert_eq!(back.scope(), Scope::DELIVERY);
    assert!(back.verify(&[issuer.public_key()]).is_ok());
    assert_eq!(
        back.id()
            .to_string()
            .parse::<waybill_redact::GrantId>()
            .unwrap(),
        g.id()
    );
    let mut bad = spec(&[]);
    assert!(issuer.issue(&bad).is_err());
    bad.zones = vec![1];
    bad.quota = 0;
    assert!(issuer.issue(&bad).is_err());
}

/// Decodes a grant's Base45, lets `f` change the bytes, and re-encodes.
fn tamper_grant(grant: &Grant, f: impl FnOnce(&mut Vec<u8>)) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let body = grant.as_str().strip_prefix("WG1:").unwrap().as_bytes();
    let val = |c: u8| A.iter().position(|&a| a == c).unwrap() as u32;
    let mut bytes = Vec::new();
    for g in body.chunks(3) {
        match g {
            [c, d, e] => {
                let n = val(*c) + val(*d) * 45 + val(*e) * 2025;
                bytes.extend_from_slice(&(n as u16).to_be_bytes());
            }
            [c, d] => bytes.push((val(*c) + val(*d) * 45) as u8),
            _ => unreachable!(),
        }
    }
    f(&mut bytes);
    let mut s = String::from("WG1:");
    for c in bytes.chunks(2) {
        let (mut n, digits) = match c {
            [a, b] => (u32::from(*a) * 256 + u32::from(*b), 3),
            [a] => (u32::from(*a), 2),
            _ => unreachable!(),
        };
        for _ in 0..digits {
            s.push(char::from(A[(n % 45) as usize]));
            n /= 45;
        }
    }
    s
}

proptest! {
    #[test]
    fn parsing_arbitrary_grant_text_never_panics(text in "(WG1:)?[0-9A-Z $%*+./:-]{0,300}|\\PC{0,100}") {
        let trusted = [IssuerKey::from_secret([3; 32]).public_key()];
        if let Ok(g) = Grant::parse(&text) {
            prop_assert!(g.verify(&trusted).is_err());
        }
    }
}

#[test]
fn quota_survives_a_restart_through_the_audit_log() {
    let s = setup();
    let mut sp = spec(&[755021]);
    sp.quota = 2;
    let g = s.grant(&sp);
    let r = s.resolver();
    assert!(r.resolve(&s.token, &g, &at(later())).is_ok());
    assert!(r.resolve(&s.token, &g, &at(later())).is_ok());
    let log = s.audit.lines().join("\n");
    let bucket = TokenBucket::default();
    assert_eq!(bucket.restore_from_audit(log.as_bytes()).unwrap(), 2);
    let restarted = s.resolver().with_rate_limiter(Arc::new(bucket));
    assert_eq!(denied(&s, &restarted, &g, later()), Denied::QuotaExceeded);
    // A log with a record removed is refused rather than replayed.
    let lines = s.audit.lines();
    let cut = format!("{}\n{}", lines[0], lines[2]);
    assert!(TokenBucket::default()
        .restore_from_audit(cut.as_bytes())
        .is_err());
}

#[test]
fn a_payload_issued_in_the_future_is_refused() {
    let s = setup();
    // Sealed by a sealer whose clock runs an hour ahead of the resolver's.
    let ahead = s
        .ring
        .seal(
            &s.waybill,
            &Validity::new(later() + Duration::hours(1), Duration::days(6)).unwrap(),
        )
        .unwrap();
    let g = s.grant(&spec(&[s.waybill.zone()]));
    let r = s.resolver();
    assert_eq!(
        r.resolve(ahead.as_str(), &g, &at(later())).unwrap_err(),
        Denied::IssuedInFuture
    );
    // Within the stated skew (5 minutes) it opens.
    let near = s
        .ring
        .seal(
            &s.waybill,
            &Validity::new(later() + Duration::minutes(4), Duration::days(6)).unwrap(),
        )
        .unwrap();
    assert!(r.resolve(near.as_str(), &g, &at(later())).is_ok());
    let log = s.audit.lines();
    assert!(log[0].contains("\"reason\":\"issued_in_future\""));
}
