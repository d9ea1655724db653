//! Token throughput: seal, open, seal+open, full resolve, and the bare
//! XChaCha20-Poly1305 on the same number of plaintext bytes, for comparison.
//!
//! Run with `cargo bench --bench token`.

use std::hint::black_box;
use std::sync::Arc;

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use time::{Duration, OffsetDateTime};
use waybill_redact::{
    parse_batch, AuditError, AuditEvent, AuditSink, FixedClock, Grant, GrantSpec, IssuerKey,
    KeyRing, Limit, Purpose, RateLimiter, ResolveRequest, Resolver, Scope, Token,
};

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

fn bench(c: &mut Criterion) {
    let waybill = parse_batch(FIXTURES).remove(0).expect("fixture");
    let now = OffsetDateTime::from_unix_timestamp(1_795_000_000).expect("time");
    let expiry = now + Duration::days(30);
    let ring = KeyRing::generate();
    let token = ring.seal(&waybill, expiry, now).expect("seal");
    let text = token.as_str().to_owned();
    let header_len = 16 + waybill.tracking_number().as_str().len();
    let plaintext_len = token.as_bytes().len() - header_len - 24 - 16;
    println!(
        "fixture: {} token chars, {} envelope bytes, {plaintext_len} plaintext bytes",
        text.len(),
        token.as_bytes().len()
    );

    let mut g = c.benchmark_group("token");
    g.throughput(Throughput::Elements(1));
    g.bench_function("seal", |b| {
        b.iter(|| ring.seal(black_box(&waybill), expiry, now).expect("seal"))
    });
    g.bench_function("open", |b| {
        b.iter(|| {
            let t = Token::parse(black_box(&text)).expect("parse");
            ring.open(&t).expect("open")
        })
    });
    g.bench_function("seal_open", |b| {
        b.iter(|| {
            let t = ring.seal(black_box(&waybill), expiry, now).expect("seal");
            let t = Token::parse(t.as_str()).expect("parse");
            ring.open(&t).expect("open")
        })
    });

    // The bare AEAD: encrypt and decrypt the same number of bytes, same AAD size.
    let key = Key::from([7u8; 32]);
    let cipher = XChaCha20Poly1305::new(&key);
    let nonce = XNonce::from([9u8; 24]);
    let aad = vec![1u8; 23 + header_len];
    let plain = vec![0x42u8; plaintext_len];
    g.bench_function("bare_aead_encrypt_decrypt", |b| {
        b.iter(|| {
            let mut buf = plain.clone();
            let tag = cipher
                .encrypt_in_place_detached(&nonce, &aad, &mut buf)
                .expect("encrypt");
            cipher
                .decrypt_in_place_detached(&nonce, &aad, &mut buf, &tag)
                .expect("decrypt");
            buf
        })
    });

    let issuer = IssuerKey::generate();
    let grant = issuer
        .issue(&GrantSpec {
            courier_id: "C-10023".into(),
            zones: vec![waybill.zone()],
            not_before: now,
            expires_at: now + Duration::hours(12),
            scope: Scope::DELIVERY,
            quota: u32::MAX,
        })
        .expect("grant");
    let resolver = Resolver::new(ring.clone(), vec![issuer.public_key()], Arc::new(NullSink))
        .with_rate_limiter(Arc::new(NoLimit))
        .with_clock(Arc::new(FixedClock::new(now + Duration::hours(1))));
    let request = ResolveRequest::new(Purpose::Delivery);
    g.bench_function("resolve", |b| {
        b.iter(|| {
            resolver
                .resolve(black_box(&text), grant.as_str(), &request)
                .expect("resolve")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
