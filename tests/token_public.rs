//! Suite 2 through the public API: a seller holding only the carrier's signed
//! zone directory and its own sealer key seals tokens that the carrier's
//! resolver opens, and that nothing the seller holds can open.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    parse_batch, Denied, DirectoryError, FixedClock, GrantSpec, IssuerKey, KeyRing, MemorySink,
    PublicSealer, Purpose, ResolveRequest, Resolver, SealerKey, SealerRegistry, Token, TokenError,
    Validity, Waybill, ZoneDirectory,
};

const FIXTURES: &str = include_str!("../fixtures/waybills.json");

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
}

fn fixtures() -> Vec<Waybill> {
    parse_batch(FIXTURES)
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// The carrier's side, and what it hands a seller.
struct Carrier {
    ring: KeyRing,
    issuer: IssuerKey,
    directory_json: String,
}

fn carrier() -> Carrier {
    let ring = KeyRing::generate();
    let issuer = IssuerKey::generate();
    let mut zones: Vec<u32> = fixtures().iter().map(Waybill::zone).collect();
    zones.sort_unstable();
    zones.dedup();
    let dir = ZoneDirectory::publish(&ring, &issuer, &zones, t0(), Duration::days(90)).unwrap();
    Carrier {
        ring,
        issuer,
        directory_json: dir.to_json(),
    }
}

/// The seller's side: the directory file (verified against the carrier's
/// public key) and its own sealer key. Nothing else.
fn seller(c: &Carrier, key: &SealerKey) -> PublicSealer {
    let dir = ZoneDirectory::from_json(&c.directory_json, &c.issuer.public_key(), t0()).unwrap();
    PublicSealer::new(dir, key.clone())
}

fn validity() -> Validity {
    Validity::new(t0(), Duration::days(30)).unwrap()
}

fn resolver(c: &Carrier, sealers: SealerRegistry, audit: Arc<MemorySink>) -> Resolver {
    Resolver::new(c.ring.clone(), vec![c.issuer.public_key()], audit)
        .with_bearer_grants(true)
        .with_sealers(sealers)
        .with_clock(Arc::new(FixedClock::new(now())))
}

/// The resolver's clock in these tests.
fn now() -> OffsetDateTime {
    t0() + Duration::hours(1)
}

fn grant(c: &Carrier, zones: Vec<u32>) -> String {
    c.issuer
        .issue(&GrantSpec::new(
            "C-1",
            zones,
            t0(),
            t0() + Duration::hours(12),
            1000,
        ))
        .unwrap()
        .to_string()
}

fn request() -> ResolveRequest {
    ResolveRequest::new(Purpose::Delivery)
}

#[test]
fn sellers_tokens_open_at_the_carrier_for_every_fixture() {
    let c = carrier();
    let key = SealerKey::generate().unwrap();
    let sealer = seller(&c, &key);
    let mut registry = SealerRegistry::new();
    registry.register(key.public_key().clone()).unwrap();
    let audit = Arc::new(MemorySink::new());
    let resolver = resolver(&c, registry, audit);
    let mut largest = 0;
    for w in fixtures() {
        let token = sealer.seal(&w, &validity()).unwrap();
        assert_eq!(token.header().suite(), 3);
        assert!(token.as_str().starts_with("WB3:"));
        // Suite 3 names no seller in the clear; the zone key unmasks it.
        assert_eq!(token.header().sealer_id(), None);
        assert_eq!(c.ring.sealer_of(&token), Ok(key.public_key().id()));
        if w.tracking_number().as_str() != "SF6660006660006" {
            assert!(token.as_str().len() <= 419, "{}", token.as_str().len());
            largest = largest.max(token.as_str().len());
        }
        let d = resolver
            .resolve(token.as_str(), &grant(&c, vec![w.zone()]), &request())
            .unwrap();
        assert_eq!(d.name.as_deref(), Some(w.recipient().name().as_str()));
        assert_eq!(d.phone, Some(w.recipient().phone().to_canonical()));
        let p = c.ring.open_sealed(&token, key.public_key()).unwrap();
        assert_eq!(p.address(), w.recipient().address().to_full_text());
    }
    println!("largest typical suite-2 token: {largest} chars");
}

#[test]
fn nothing_the_seller_holds_opens_its_tokens() {
    let c = carrier();
    let key = SealerKey::generate().unwrap();
    let sealer = seller(&c, &key);
    let w = &fixtures()[0];
    let token = Token::parse(sealer.seal(w, &validity()).unwrap().as_str()).unwrap();
    // Every 32-byte value in the seller's files, used as a master key: the
    // sealer secret, its public key, and each zone public key of the directory.
    let sealer_file: serde_json::Value = serde_json::from_str(&key.to_json()).unwrap();
    let dir_file: serde_json::Value = serde_json::from_str(&c.directory_json).unwrap();
    let mut material: Vec<[u8; 32]> = vec![
        hex::decode(sealer_file["secret"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
        key.public_key().to_bytes(),
    ];
    for z in dir_file["zones"].as_array().unwrap() {
        material.push(
            hex::decode(z["key"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        );
    }
    for m in &material {
        for kid in [0, 1, token.header().kid()] {
            if let Ok(ring) = KeyRing::from_key(kid, m) {
                assert_eq!(ring.open(&token).unwrap_err(), TokenError::Open);
                assert_eq!(
                    ring.open_sealed(&token, key.public_key()).unwrap_err(),
                    TokenError::Open
                );
            }
        }
    }
    // The carrier's ring opens it; a ring missing the token's key id does not.
    assert!(c.ring.open_sealed(&token, key.public_key()).is_ok());
    assert_eq!(
        KeyRing::generate()
            .open_sealed(&token, key.public_key())
            .unwrap_err(),
        TokenError::Open
    );
    // Suite 1's open never opens a suite-2 token.
    assert_eq!(c.ring.open(&token).unwrap_err(), TokenError::Open);
}

#[test]
fn the_same_record_sealed_twice_shares_no_bytes_after_the_header() {
    let c = carrier();
    let sealer = seller(&c, &SealerKey::generate().unwrap());
    let w = &fixtures()[0];
    let a = sealer.seal(w, &validity()).unwrap();
    let b = sealer.seal(w, &validity()).unwrap();
    let header_len = 10 + w.tracking_number().as_str().len();
    let (ha, ra) = a.as_bytes().split_at(header_len);
    let (hb, rb) = b.as_bytes().split_at(header_len);
    assert_eq!(ha, hb);
    assert_eq!(ra.len(), rb.len());
    // No aligned 4-byte window of encapsulated key, ciphertext or tag repeats.
    for (x, y) in ra.chunks(4).zip(rb.chunks(4)) {
        assert_ne!(x, y);
    }
}

#[test]
fn unregistered_and_revoked_sealers_are_denied_and_audited() {
    let c = carrier();
    let known = SealerKey::generate().unwrap();
    let stranger = SealerKey::generate().unwrap();
    let mut registry = SealerRegistry::new();
    registry.register(known.public_key().clone()).unwrap();
    let w = &fixtures()[0];
    let g = grant(&c, vec![w.zone()]);
    let audit = Arc::new(MemorySink::new());
    let strange = seller(&c, &stranger).seal(w, &validity()).unwrap();
    let r = resolver(&c, registry.clone(), audit.clone());
    assert_eq!(
        r.resolve(strange.as_str(), &g, &request()).unwrap_err(),
        Denied::UnknownSealer
    );
    // A stranger that copies a registered seller's id into its header fails to open.
    let good = seller(&c, &known).seal(w, &validity()).unwrap();
    assert!(r.resolve(good.as_str(), &g, &request()).is_ok());
    registry.revoke(known.public_key().id()).unwrap();
    let r = resolver(&c, registry, audit.clone());
    assert_eq!(
        r.resolve(good.as_str(), &g, &request()).unwrap_err(),
        Denied::SealerRevoked
    );
    // Without a registry, suite 2 is denied altogether.
    let bare = Resolver::new(c.ring.clone(), vec![c.issuer.public_key()], audit.clone())
        .with_bearer_grants(true)
        .with_clock(Arc::new(FixedClock::new(now())));
    assert_eq!(
        bare.resolve(good.as_str(), &g, &request()).unwrap_err(),
        Denied::UnknownSealer
    );
    let codes: Vec<String> = audit
        .lines()
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["reason"].as_str().unwrap_or("allowed").to_owned()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "unknown_sealer",
            "allowed",
            "sealer_revoked",
            "unknown_sealer"
        ]
    );
}

#[test]
fn a_tampered_or_foreign_directory_is_refused() {
    let c = carrier();
    let pk = c.issuer.public_key();
    let mut dir: serde_json::Value = serde_json::from_str(&c.directory_json).unwrap();
    // Swap in another ring's key for the first zone.
    let other = KeyRing::generate();
    let zone = dir["zones"][0]["zone"].as_u64().unwrap() as u32;
    let foreign = ZoneDirectory::publish(&other, &c.issuer, &[zone], t0(), Duration::days(1))
        .unwrap()
        .to_json();
    let foreign: serde_json::Value = serde_json::from_str(&foreign).unwrap();
    dir["zones"][0]["key"] = foreign["zones"][0]["key"].clone();
    assert_eq!(
        ZoneDirectory::from_json(&dir.to_string(), &pk, t0()).unwrap_err(),
        DirectoryError::BadSignature
    );
    let err =
        ZoneDirectory::from_json(&c.directory_json, &pk, t0() + Duration::days(90)).unwrap_err();
    assert_eq!(err, DirectoryError::Expired);
    assert_eq!(err.to_string(), "expired");
    let stranger = IssuerKey::generate().public_key();
    assert_eq!(
        ZoneDirectory::from_json(&c.directory_json, &stranger, t0()).unwrap_err(),
        DirectoryError::WrongIssuer
    );
}

#[test]
fn issued_in_the_future_and_expired_are_denied_after_opening() {
    let c = carrier();
    let key = SealerKey::generate().unwrap();
    let mut registry = SealerRegistry::new();
    registry.register(key.public_key().clone()).unwrap();
    let sealer = seller(&c, &key);
    let w = &fixtures()[0];
    let g = grant(&c, vec![w.zone()]);
    let r = resolver(&c, registry, Arc::new(MemorySink::new()));
    // Sealed two hours ahead of the resolver's clock (skew allows five minutes).
    let ahead = Validity::new(t0() + Duration::hours(3), Duration::days(1)).unwrap();
    let token = sealer.seal(w, &ahead).unwrap();
    assert_eq!(
        r.resolve(token.as_str(), &g, &request()).unwrap_err(),
        Denied::IssuedInFuture
    );
    // Expired (exactly) although inside its 28-day clear period.
    let short = Validity::new(t0(), Duration::minutes(30)).unwrap();
    let token = sealer.seal(w, &short).unwrap();
    assert!(token.header().expiry_bound() > now());
    assert_eq!(
        r.resolve(token.as_str(), &g, &request()).unwrap_err(),
        Denied::TokenExpired
    );
}
