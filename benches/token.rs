//! Token throughput: suite 1, suite 3 (generation 3) and generation 2's suite 2
//! seal and open in the same run, full resolves, and the
//! bare primitives on the same bytes for comparison: XChaCha20-Poly1305 for
//! suite 1, and for suite 2 the X25519 Diffie-Hellman operations HPKE Auth mode
//! needs plus ChaCha20-Poly1305.
//!
//! Run with `cargo bench --bench token`.

use std::hint::black_box;
use std::sync::Arc;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, XChaCha20Poly1305};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use time::{Duration, OffsetDateTime};
use waybill_redact::{
    parse_batch, AuditError, AuditEvent, AuditSink, DeviceKey, FixedClock, Grant, GrantSpec,
    IssuerKey, KeyRing, Limit, PublicSealer, Purpose, RateLimiter, ResolveRequest, Resolver,
    SealerKey, SealerRegistry, Token, Validity, ZoneDirectory,
};
use x25519_dalek::{PublicKey, StaticSecret};

const FIXTURES: &str = include_str!("../fixtures/waybills.json");

/// An audit sink that keeps nothing, so the bench measures the resolver itself.
struct NullSink;
impl AuditSink for NullSink {
    fn record(&self, e: &AuditEvent) -> Result<(), AuditError> {
        black_box(e);
        Ok(())
    }
}

/// A limiter that always allows, so a long bench run is not throttled.
struct NoLimit;
impl RateLimiter for NoLimit {
    fn acquire(&self, g: &Grant, _now: u64) -> Result<(), Limit> {
        black_box(g);
        Ok(())
    }
}

/// The padded plaintext of every typical record: the first padding bucket.
const PLAINTEXT: usize = 192;

fn bench(c: &mut Criterion) {
    let waybill = parse_batch(FIXTURES).remove(0).expect("fixture");
    let now = OffsetDateTime::from_unix_timestamp(1_795_000_000).expect("time");
    let validity = Validity::new(now, Duration::days(30)).expect("validity");
    let ring = KeyRing::generate();
    let issuer = IssuerKey::generate();
    let directory =
        ZoneDirectory::publish(&ring, &issuer, &[waybill.zone()], now, Duration::days(90))
            .expect("directory");
    let sealer_key = SealerKey::generate().expect("sealer");
    let sealer = PublicSealer::new(directory, sealer_key.clone());
    let token1 = ring.seal(&waybill, &validity).expect("seal");
    let token2 = sealer.seal_generation_2(&waybill, &validity).expect("seal");
    let token3 = sealer.seal(&waybill, &validity).expect("seal");
    let (text1, text2, text3) = (
        token1.as_str().to_owned(),
        token2.as_str().to_owned(),
        token3.as_str().to_owned(),
    );
    println!(
        "fixture: suite 1 {} chars, suite 2 {} chars, suite 3 {} chars, {PLAINTEXT} plaintext bytes",
        text1.len(),
        text2.len(),
        text3.len()
    );

    let mut g = c.benchmark_group("token");
    g.throughput(Throughput::Elements(1));
    g.bench_function("suite1_seal", |b| {
        b.iter(|| ring.seal(black_box(&waybill), &validity).expect("seal"))
    });
    g.bench_function("suite1_open", |b| {
        b.iter(|| {
            let t = Token::parse(black_box(&text1)).expect("parse");
            ring.open(&t).expect("open")
        })
    });
    g.bench_function("suite2_seal", |b| {
        b.iter(|| {
            sealer
                .seal_generation_2(black_box(&waybill), &validity)
                .expect("seal")
        })
    });
    g.bench_function("suite3_seal", |b| {
        b.iter(|| sealer.seal(black_box(&waybill), &validity).expect("seal"))
    });
    // Zone keys are cached after the first open, as in a resolver.
    g.bench_function("suite2_open", |b| {
        b.iter(|| {
            let t = Token::parse(black_box(&text2)).expect("parse");
            ring.open_sealed(&t, sealer_key.public_key()).expect("open")
        })
    });
    // Zone keys and the static-static secret are cached after the first open.
    g.bench_function("suite3_open", |b| {
        b.iter(|| {
            let t = Token::parse(black_box(&text3)).expect("parse");
            ring.open_sealed(&t, sealer_key.public_key()).expect("open")
        })
    });

    // Suite 1's bare AEAD on the same bytes and associated-data size.
    let x = XChaCha20Poly1305::new(&[7u8; 32].into());
    let aad = vec![1u8; 23 + 25];
    let plain = vec![0x42u8; PLAINTEXT];
    g.bench_function("bare_xchacha_encrypt", |b| {
        b.iter(|| {
            let mut buf = plain.clone();
            x.encrypt_inout_detached(&[9u8; 24].into(), &aad, buf.as_mut_slice().into())
                .expect("encrypt")
        })
    });

    // Suite 2's bare operations: what HPKE Auth mode must do, without HPKE's key
    // schedule, the envelope, CBOR or Base45.
    let zone_sk = StaticSecret::from([3u8; 32]);
    let zone_pk = PublicKey::from(&zone_sk);
    let sender_sk = StaticSecret::from([4u8; 32]);
    let sender_pk = PublicKey::from(&sender_sk);
    let aead = ChaCha20Poly1305::new(&[5u8; 32].into());
    let aad2 = vec![1u8; 29];
    // Seal: an ephemeral key pair (one base-point multiplication), DH(eph, zone)
    // and DH(sender, zone), then the AEAD.
    g.bench_function("bare_dh_seal", |b| {
        b.iter(|| {
            let eph = StaticSecret::from(black_box([6u8; 32]));
            let enc = PublicKey::from(&eph);
            let a = eph.diffie_hellman(&zone_pk);
            let s = sender_sk.diffie_hellman(&zone_pk);
            let mut buf = plain.clone();
            let tag = aead
                .encrypt_inout_detached(&[0u8; 12].into(), &aad2, buf.as_mut_slice().into())
                .expect("encrypt");
            (enc, a, s, tag)
        })
    });
    // Open: DH(zone, enc) and DH(zone, sender), then the AEAD.
    let enc = PublicKey::from(&StaticSecret::from([6u8; 32]));
    let mut sealed = plain.clone();
    let tag = aead
        .encrypt_inout_detached(&[0u8; 12].into(), &aad2, sealed.as_mut_slice().into())
        .expect("encrypt");
    g.bench_function("bare_dh_open", |b| {
        b.iter(|| {
            let a = zone_sk.diffie_hellman(black_box(&enc));
            let s = zone_sk.diffie_hellman(&sender_pk);
            let mut buf = sealed.clone();
            aead.decrypt_inout_detached(&[0u8; 12].into(), &aad2, buf.as_mut_slice().into(), &tag)
                .expect("decrypt");
            (a, s, buf)
        })
    });
    // RFC 9180's AuthDecap also serialises pk(skR): one base-point multiplication.
    g.bench_function("bare_base_point_mul", |b| {
        b.iter(|| PublicKey::from(black_box(&zone_sk)))
    });

    // A shift's grant for the waybill's zone, bound to `device` or a bearer one.
    let shift_grant = |device| {
        issuer
            .issue(
                &GrantSpec::new(
                    "C-10023",
                    vec![waybill.zone()],
                    now,
                    now + Duration::hours(12),
                    u32::MAX,
                )
                .with_device(device),
            )
            .expect("grant")
    };
    let grant = shift_grant(None);
    let mut sealers = SealerRegistry::new();
    sealers
        .register(sealer_key.public_key().clone())
        .expect("register");
    let resolver = Resolver::new(ring.clone(), vec![issuer.public_key()], Arc::new(NullSink))
        .with_bearer_grants(true)
        .with_rate_limiter(Arc::new(NoLimit))
        .with_sealers(sealers)
        .with_clock(Arc::new(FixedClock::new(now + Duration::hours(1))));
    let request = ResolveRequest::new(Purpose::Delivery);
    for (name, text) in [
        ("suite1_resolve", &text1),
        ("suite2_resolve", &text2),
        ("suite3_resolve", &text3),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                resolver
                    .resolve(black_box(text), grant.as_str(), &request)
                    .expect("resolve")
            })
        });
    }
    // Device binding: the checks before the rate limit, with a bearer grant and
    // with a device-bound grant and its signed request (one Ed25519 verification).
    let device = DeviceKey::from_secret([5u8; 32]);
    let bound = shift_grant(Some(device.public_key()));
    let time = u64::try_from((now + Duration::hours(1)).unix_timestamp()).expect("time");
    let proof = device
        .prove(bound.id(), Purpose::Delivery, &[text1.as_str()], time)
        .expect("proof");
    let signed = ResolveRequest::new(Purpose::Delivery).with_proof(proof);
    for (name, grant, request) in [
        ("suite1_begin_bearer", &grant, &request),
        ("suite1_begin_device", &bound, &signed),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let attempt = resolver.begin(black_box(&text1), grant.as_str(), request);
                assert!(attempt.denied().is_none());
                attempt
            })
        });
    }
    g.bench_function("device_prove", |b| {
        b.iter(|| device.prove(bound.id(), Purpose::Delivery, &[text1.as_str()], time))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
