//! Parsing and masking throughput on the shared fixtures.

use std::hint::black_box;
use std::ops::ControlFlow;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use waybill_redact::{mask, parse_batch, read_batch, InputFormat, MaskPolicy};

const FIXTURES: &str = include_str!("../fixtures/waybills.json");

fn bench(c: &mut Criterion) {
    let waybills: Vec<_> = parse_batch(FIXTURES)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let n = waybills.len() as u64;
    let policy = MaskPolicy::default();
    let mut g = c.benchmark_group("mask");
    g.throughput(Throughput::Elements(n));
    g.bench_function("mask 20 fixtures", |b| {
        b.iter(|| {
            for w in &waybills {
                black_box(mask(black_box(w), &policy));
            }
        });
    });
    g.bench_function("parse 20 fixtures (JSON array, streamed)", |b| {
        b.iter(|| {
            let mut count = 0;
            read_batch(FIXTURES.as_bytes(), InputFormat::Json, |_, r| {
                count += usize::from(r.is_ok());
                ControlFlow::Continue(())
            })
            .unwrap();
            black_box(count)
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
