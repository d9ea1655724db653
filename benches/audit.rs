//! The cost the transparency log adds per audited request: the record's leaf
//! hash, and growing the tree by one leaf (the hashes of the subtrees it
//! completes); the record's own chain hash for comparison. Signing a
//! checkpoint (once per 1,000 records or minute) is measured separately.
//!
//! Run with `cargo bench --bench audit`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use time::OffsetDateTime;
use waybill_redact::{
    audit_origin, leaf_hash, AuditChain, AuditEvent, AuditKey, AuditTree, GrantId, Outcome,
    Purpose, Scope,
};

fn event() -> AuditEvent {
    let time =
        OffsetDateTime::from_unix_timestamp(1_795_831_200).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    AuditEvent::new(time, Purpose::Delivery, Outcome::Allowed)
        .with_tracking_number("SF1234567890123")
        .with_grant("C-10023", GrantId::from_bytes([7; 16]))
        .with_scope(Scope::DELIVERY)
}

fn bench(c: &mut Criterion) {
    let mut chain = AuditChain::for_instance("node-1");
    let record = chain.append(&event());
    let mut g = c.benchmark_group("audit");
    g.throughput(Throughput::Elements(1));
    g.bench_function("record chain hash", |b| {
        b.iter(|| black_box(&record).digest())
    });
    g.bench_function("leaf hash", |b| b.iter(|| leaf_hash(black_box(&record))));
    g.bench_function("tree push (leaf hash and completed subtrees)", |b| {
        let mut tree = AuditTree::new();
        b.iter(|| tree.push(black_box(&record)));
    });
    let key = AuditKey::generate();
    let mut tree = AuditTree::new();
    for _ in 0..1000 {
        tree.push(&record);
    }
    let origin = audit_origin("node-1");
    g.bench_function("checkpoint sign (per 1,000 records)", |b| {
        b.iter(|| key.sign_checkpoint(&origin, tree.size(), tree.root()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
