//! Grants bound to a courier's device (issue 12): a grant's text alone resolves
//! nothing; each request carries the device's signature, a fresh time and a nonce
//! used once. Every denial is audited.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    parse_batch, verify_audit_log, Denied, DeviceKey, DevicePublicKey, FixedClock, Grant,
    GrantSpec, IssuerKey, KeyRing, MemorySink, Purpose, RequestProof, ResolveRequest, Resolver,
    Validity, Waybill,
};

const FIXTURES: &str = include_str!("../fixtures/waybills.json");

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
}

/// The resolver's time in these tests.
fn now() -> OffsetDateTime {
    t0() + Duration::hours(1)
}

fn unix(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap()
}

struct Setup {
    ring: KeyRing,
    issuer: IssuerKey,
    device: DeviceKey,
    waybills: Vec<Waybill>,
    tokens: Vec<String>,
    audit: Arc<MemorySink>,
}

fn setup() -> Setup {
    let waybills: Vec<Waybill> = vec![parse_batch(FIXTURES).remove(0).unwrap()];
    assert_eq!(waybills[0].zone(), 755021);
    let ring = KeyRing::generate();
    let validity = Validity::new(t0(), Duration::days(7)).unwrap();
    // Two tokens of one parcel: sealed twice, with different nonces.
    let tokens = (0..2)
        .map(|_| {
            ring.seal(&waybills[0], &validity)
                .unwrap()
                .as_str()
                .to_owned()
        })
        .collect();
    Setup {
        ring,
        issuer: IssuerKey::generate(),
        device: DeviceKey::generate().unwrap(),
        waybills,
        tokens,
        audit: Arc::new(MemorySink::new()),
    }
}

fn spec(device: Option<DevicePublicKey>) -> GrantSpec {
    GrantSpec::new(
        "C-10023",
        vec![755021],
        t0(),
        t0() + Duration::hours(10),
        100,
    )
    .with_device(device)
}

impl Setup {
    fn resolver(&self) -> Resolver {
        Resolver::new(
            self.ring.clone(),
            vec![self.issuer.public_key()],
            self.audit.clone(),
        )
        .with_clock(Arc::new(FixedClock::new(now())))
    }

    fn bound(&self) -> Grant {
        self.issuer
            .issue(&spec(Some(self.device.public_key())))
            .unwrap()
    }

    fn signed(&self, grant: &Grant, tokens: &[&str], time: OffsetDateTime) -> ResolveRequest {
        let proof = self
            .device
            .prove(grant.id(), Purpose::Delivery, tokens, unix(time))
            .unwrap();
        ResolveRequest::new(Purpose::Delivery).with_proof(proof)
    }

    fn reasons(&self) -> Vec<String> {
        self.audit
            .lines()
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["reason"].as_str().unwrap_or("allowed").to_owned()
            })
            .collect()
    }
}

#[test]
fn a_signed_request_resolves_and_a_replay_of_it_is_denied() {
    let s = setup();
    let grant = s.bound();
    assert!(grant.as_str().starts_with("WG2:"));
    let token = s.tokens[0].as_str();
    let request = s.signed(&grant, &[token], now());
    let r = s.resolver();
    let d = r.resolve(token, grant.as_str(), &request).unwrap();
    assert_eq!(
        d.name.as_deref(),
        Some(s.waybills[0].recipient().name().as_str())
    );
    assert_eq!(
        r.resolve(token, grant.as_str(), &request).unwrap_err(),
        Denied::RequestReplayed
    );
    // A fresh signature for the same token is a new request.
    let again = s.signed(&grant, &[token], now());
    assert!(r.resolve(token, grant.as_str(), &again).is_ok());
    assert_eq!(s.reasons(), ["allowed", "request_replayed", "allowed"]);
    let log = s.audit.lines().join("\n");
    assert_eq!(verify_audit_log(log.as_bytes()).unwrap(), 3);
}

#[test]
fn the_grant_text_alone_resolves_nothing() {
    let s = setup();
    let grant = s.bound();
    let token = s.tokens[0].as_str();
    let r = s.resolver();
    let bare = ResolveRequest::new(Purpose::Delivery);
    assert_eq!(
        r.resolve(token, grant.as_str(), &bare).unwrap_err(),
        Denied::DeviceSignatureMissing
    );
    // Even where bearer grants are allowed, a bound grant needs its device.
    let lenient = s.resolver().with_bearer_grants(true);
    assert_eq!(
        lenient.resolve(token, grant.as_str(), &bare).unwrap_err(),
        Denied::DeviceSignatureMissing
    );
    assert_eq!(s.reasons(), ["device_signature_missing"; 2]);
}

#[test]
fn a_request_signed_by_another_device_is_denied() {
    let s = setup();
    let grant = s.bound();
    let token = s.tokens[0].as_str();
    let thief = DeviceKey::generate().unwrap();
    let proof = thief
        .prove(grant.id(), Purpose::Delivery, &[token], unix(now()))
        .unwrap();
    let request = ResolveRequest::new(Purpose::Delivery).with_proof(proof);
    assert_eq!(
        s.resolver()
            .resolve(token, grant.as_str(), &request)
            .unwrap_err(),
        Denied::DeviceSignatureInvalid
    );
    assert_eq!(s.reasons(), ["device_signature_invalid"]);
}

#[test]
fn a_signature_is_good_for_its_own_token_and_purpose_only() {
    let s = setup();
    let grant = s.bound();
    let (a, b) = (s.tokens[0].as_str(), s.tokens[1].as_str());
    let r = s.resolver();
    let for_a = s.signed(&grant, &[a], now());
    assert_eq!(
        r.resolve(b, grant.as_str(), &for_a).unwrap_err(),
        Denied::DeviceSignatureInvalid
    );
    let mut other_purpose = for_a.clone();
    other_purpose.purpose = Purpose::AfterSales;
    assert_eq!(
        r.resolve(a, grant.as_str(), &other_purpose).unwrap_err(),
        Denied::DeviceSignatureInvalid
    );
    // Under another grant bound to the same device, the grant id differs.
    let second = s.issuer.issue(&spec(Some(s.device.public_key()))).unwrap();
    assert_eq!(
        r.resolve(a, second.as_str(), &for_a).unwrap_err(),
        Denied::DeviceSignatureInvalid
    );
    assert!(r.resolve(a, grant.as_str(), &for_a).is_ok());
}

#[test]
fn a_stale_or_future_request_time_is_denied() {
    let s = setup();
    let grant = s.bound();
    let token = s.tokens[0].as_str();
    let r = s.resolver();
    for skew in [-121, 121, -3600] {
        let request = s.signed(&grant, &[token], now() + Duration::seconds(skew));
        assert_eq!(
            r.resolve(token, grant.as_str(), &request).unwrap_err(),
            Denied::RequestStale,
            "{skew} s"
        );
    }
    // The window is ±120 s, inclusive.
    for skew in [-120, 120] {
        let request = s.signed(&grant, &[token], now() + Duration::seconds(skew));
        assert!(
            r.resolve(token, grant.as_str(), &request).is_ok(),
            "{skew} s"
        );
    }
    let narrow = s.resolver().with_request_window(10);
    let request = s.signed(&grant, &[token], now() - Duration::seconds(11));
    assert_eq!(
        narrow.resolve(token, grant.as_str(), &request).unwrap_err(),
        Denied::RequestStale
    );
    let reasons = s.reasons();
    assert_eq!(&reasons[..3], ["request_stale"; 3]);
}

#[test]
fn bearer_grants_are_refused_unless_the_carrier_allows_them() {
    let s = setup();
    let bearer = s.issuer.issue(&spec(None)).unwrap();
    assert!(bearer.as_str().starts_with("WG1:") && bearer.device().is_none());
    let token = s.tokens[0].as_str();
    let request = ResolveRequest::new(Purpose::Delivery);
    assert_eq!(
        s.resolver()
            .resolve(token, bearer.as_str(), &request)
            .unwrap_err(),
        Denied::BearerGrantRefused
    );
    let migrating = s.resolver().with_bearer_grants(true);
    assert!(migrating.allows_bearer_grants());
    assert!(migrating.resolve(token, bearer.as_str(), &request).is_ok());
    assert_eq!(s.reasons(), ["bearer_grant_refused", "allowed"]);
}

#[test]
fn one_signature_covers_a_batch_and_only_that_batch() {
    let s = setup();
    let grant = s.bound();
    let tokens: Vec<&str> = s.tokens.iter().map(String::as_str).collect();
    let r = s.resolver();
    let request = s.signed(&grant, &tokens, now());
    let attempts = r.begin_batch(&tokens, grant.as_str(), &request);
    assert_eq!(attempts.len(), tokens.len());
    let guards: Vec<_> = attempts.iter().map(|a| a.replay_guard()).collect();
    assert!(attempts.iter().all(|a| a.denied().is_none()));
    assert!(guards[0].is_some() && guards.iter().all(|g| *g == guards[0]));
    let guard = guards[0].unwrap();
    assert_eq!(guard.grant, grant.id());
    assert_eq!(guard.keep_until, unix(now()) + 121);
    for attempt in &attempts {
        assert!(r.open(attempt).is_ok());
    }
    // The same signature with one token left out, or in another order, fails.
    let fewer = r.begin_batch(&tokens[..1], grant.as_str(), &request);
    assert_eq!(fewer[0].denied(), Some(&Denied::DeviceSignatureInvalid));
    let reversed: Vec<&str> = tokens.iter().rev().copied().collect();
    let swapped = r.begin_batch(&reversed, grant.as_str(), &request);
    assert!(swapped
        .iter()
        .all(|a| a.denied() == Some(&Denied::DeviceSignatureInvalid)));
    assert!(swapped.iter().all(|a| a.replay_guard().is_none()));
}

#[test]
fn grants_longer_than_a_day_are_refused_unless_configured() {
    let s = setup();
    let mut long = spec(Some(s.device.public_key()));
    long.expires_at = t0() + Duration::hours(25);
    let grant = s.issuer.issue(&long).unwrap();
    let token = s.tokens[0].as_str();
    let request = s.signed(&grant, &[token], now());
    assert_eq!(
        s.resolver()
            .resolve(token, grant.as_str(), &request)
            .unwrap_err(),
        Denied::GrantTooLong
    );
    let configured = s.resolver().with_max_grant_secs(48 * 3600);
    assert!(configured.resolve(token, grant.as_str(), &request).is_ok());
}

#[test]
fn checks_run_in_the_documented_order() {
    let s = setup();
    let token = s.tokens[0].as_str();
    let bare = ResolveRequest::new(Purpose::Delivery);
    // An untrusted issuer is reported before the missing device signature.
    let stranger = IssuerKey::generate()
        .issue(&spec(Some(s.device.public_key())))
        .unwrap();
    let r = s.resolver();
    assert_eq!(
        r.resolve(token, stranger.as_str(), &bare).unwrap_err(),
        Denied::UntrustedIssuer
    );
    // The device check comes before the window: a stolen expired grant tells
    // nothing about its window to someone without the device.
    let mut expired = spec(Some(s.device.public_key()));
    expired.expires_at = t0() + Duration::minutes(30);
    let expired = s.issuer.issue(&expired).unwrap();
    assert_eq!(
        r.resolve(token, expired.as_str(), &bare).unwrap_err(),
        Denied::DeviceSignatureMissing
    );
    let signed = s.signed(&expired, &[token], now());
    assert_eq!(
        r.resolve(token, expired.as_str(), &signed).unwrap_err(),
        Denied::GrantExpired
    );
    // A denied attempt records no nonce: the zone denial repeats, not a replay.
    let mut elsewhere = spec(Some(s.device.public_key()));
    elsewhere.zones = vec![100000];
    let elsewhere = s.issuer.issue(&elsewhere).unwrap();
    let signed = s.signed(&elsewhere, &[token], now());
    for _ in 0..2 {
        assert_eq!(
            r.resolve(token, elsewhere.as_str(), &signed).unwrap_err(),
            Denied::ZoneNotGranted
        );
    }
}

#[test]
fn bound_grant_text_round_trips_and_debug_hides_it() {
    let s = setup();
    let grant = s.bound();
    let back = Grant::parse(grant.as_str()).unwrap();
    assert_eq!(back, grant);
    assert_eq!(back.device(), Some(&s.device.public_key()));
    assert!(back.verify(&[s.issuer.public_key()]).is_ok());
    let debug = format!("{grant:?}");
    assert!(debug.contains(&grant.id().to_string()));
    assert!(!debug.contains(&grant.as_str()[4..40]));
    // A version-2 body under the version-1 prefix is refused.
    let relabelled = grant.as_str().replacen("WG2:", "WG1:", 1);
    assert!(Grant::parse(&relabelled).is_err());
    // The proof's text form round-trips; its Debug shows no signature.
    let proof = s
        .device
        .prove(grant.id(), Purpose::Call, &[s.tokens[0].as_str()], 7)
        .unwrap();
    let text = proof.to_string();
    assert_eq!(text.parse::<RequestProof>().unwrap(), proof);
    assert!(!format!("{proof:?}").contains(&text[40..80]));
}
