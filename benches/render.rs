//! Label rendering throughput: the whole path (render + 1-bit PNG) for a
//! 100 × 150 mm label at 203 dpi, its parts, and the physical floor measured in
//! the same group: `floor_clear_raster` + `floor_fdeflate_scanlines` +
//! `floor_blit_glyphs` is the least any renderer writing this PNG must spend
//! (a blank raster, fdeflate over the label's own filtered scanlines, and the
//! label's cached glyphs blitted as packed rows).
//!
//! `cargo bench --bench render -- --warm-up-time 1 --measurement-time 3`
//!
//! On a busy machine, wall-clock times mostly measure the other processes. With
//! `BENCH_CLOCK=cpu` every item but the cold-cache one is timed by the CPU time
//! its thread ran (Linux `/proc/thread-self/schedstat`, updated at each context
//! switch and tick): use long samples (`--measurement-time 10` or more), so the
//! few milliseconds of tick granularity do not matter.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Bencher, Criterion, Throughput};
use waybill_redact::{
    bench_parts, mask, parse_batch, render, Bitmap, Fonts, LabelSpec, MaskPolicy, MaskedWaybill,
    PngMode,
};

fn fixture() -> MaskedWaybill {
    let text = include_str!("../fixtures/waybills.json");
    let w = parse_batch(text).remove(0).expect("fixture parses");
    mask(&w, &MaskPolicy::default())
}

/// A token of the size a typical record seals to: `WR1:` and 360 Base45
/// characters (QR version 12-M), made from `seed`.
fn token_from(seed: u64) -> String {
    const B45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut s = seed;
    let mut out = String::from("WR1:");
    for _ in 0..360 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(B45[((s >> 33) % 45) as usize] as char);
    }
    out
}

/// CPU time this thread has run so far.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// Times `f` by the wall clock, or by this thread's CPU time under
/// `BENCH_CLOCK=cpu`.
fn run<O>(b: &mut Bencher<'_>, mut f: impl FnMut() -> O) {
    if std::env::var("BENCH_CLOCK").is_ok_and(|v| v == "cpu") {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                std::hint::black_box(f());
            }
            thread_cpu().saturating_sub(start)
        });
    } else {
        b.iter(f);
    }
}

fn bench(c: &mut Criterion) {
    let m = fixture();
    let token = token_from(1);
    let spec = LabelSpec::MM_100X150;
    let fonts = Fonts::bundled();
    let mut g = c.benchmark_group("label_100x150_203dpi");
    g.throughput(Throughput::Elements(1));
    // The floor: the same label's raster, scanlines and glyphs.
    g.bench_function("floor_clear_raster", |b| {
        run(b, || Bitmap::new(spec.width_dots(), spec.height_dots()))
    });
    let label = render(&m, &token, &spec, &fonts).expect("renders");
    let scanlines = bench_parts::png_scanlines(label.bitmap());
    g.bench_function("floor_fdeflate_scanlines", |b| {
        run(b, || fdeflate::compress_to_vec(&scanlines))
    });
    let glyphs = bench_parts::LabelGlyphs::of(&m, &token, &spec, &fonts).expect("renders");
    eprintln!("the label draws {} glyphs", glyphs.len());
    let mut canvas = Bitmap::new(spec.width_dots(), spec.height_dots());
    g.bench_function("floor_blit_glyphs", |b| run(b, || glyphs.draw(&mut canvas)));
    g.bench_function("render_and_png_1bit", |b| {
        run(b, || {
            let l = render(&m, &token, &spec, &fonts).expect("renders");
            l.to_png(PngMode::OneBit).expect("encodes")
        })
    });
    g.bench_function("render", |b| {
        run(b, || render(&m, &token, &spec, &fonts).expect("renders"))
    });
    // The glyph cache's worth: a fresh font set (empty cache) for every label.
    let regular = waybill_redact_fonts::NOTO_SANS_CJK_SC_REGULAR.to_vec();
    let bold = waybill_redact_fonts::NOTO_SANS_CJK_SC_BOLD.to_vec();
    g.bench_function("render_cold_glyph_cache", |b| {
        b.iter_batched(
            || {
                Fonts::from_bytes(regular.clone(), 0)
                    .and_then(|f| f.with_bold(bold.clone(), 0))
                    .expect("fonts parse")
            },
            |cold| render(&m, &token, &spec, &cold).expect("renders"),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("png_1bit", |b| {
        run(b, || label.to_png(PngMode::OneBit).expect("encodes"))
    });
    // The same label over and over lets the CPU's branch predictor learn its
    // data, which flatters a coder that branches on it (fdeflate); a batch
    // encodes different labels, so these take 16 in turn.
    let labels: Vec<_> = parse_batch(include_str!("../fixtures/waybills.json"))
        .into_iter()
        .filter_map(Result::ok)
        .zip(1u64..)
        .filter_map(|(w, seed)| {
            let m = mask(&w, &MaskPolicy::default());
            render(&m, &token_from(seed), &spec, &fonts).ok()
        })
        .take(16)
        .collect();
    let mut next = 0;
    g.bench_function("png_1bit_16_labels", |b| {
        run(b, || {
            next = (next + 1) % labels.len();
            labels[next].to_png(PngMode::OneBit).expect("encodes")
        })
    });
    let scanlines: Vec<_> = labels
        .iter()
        .map(|l| bench_parts::png_scanlines(l.bitmap()))
        .collect();
    g.bench_function("fdeflate_16_labels", |b| {
        run(b, || {
            next = (next + 1) % scanlines.len();
            fdeflate::compress_to_vec(&scanlines[next])
        })
    });
    g.bench_function("png_deflate_16_labels", |b| {
        run(b, || {
            next = (next + 1) % scanlines.len();
            bench_parts::png_deflate(&scanlines[next])
        })
    });
    g.bench_function("png_gray", |b| {
        run(b, || label.to_png(PngMode::Gray).expect("encodes"))
    });
    let mut bm = Bitmap::new(spec.width_dots(), spec.height_dots());
    g.bench_function("qr_fixed_mask", |b| {
        run(b, || bench_parts::qr(&token, &mut bm))
    });
    g.bench_function("qr_auto_mask_qrcode_crate", |b| {
        run(b, || {
            qrcode::QrCode::with_error_correction_level(token.as_bytes(), qrcode::EcLevel::M)
                .expect("fits")
        })
    });
    let tn = m.tracking_number().as_str().to_owned();
    g.bench_function("code128", |b| run(b, || bench_parts::code128(&tn, &mut bm)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
