//! Label rendering throughput: the whole path (render + 1-bit PNG) for a
//! 100 × 150 mm label at 203 dpi, and its parts.
//!
//! `cargo bench --bench render -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
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
/// characters (QR version 12-M).
fn token() -> String {
    const B45: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut s = 1u64;
    let mut out = String::from("WR1:");
    for _ in 0..360 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(B45[((s >> 33) % 45) as usize] as char);
    }
    out
}

fn bench(c: &mut Criterion) {
    let m = fixture();
    let token = token();
    let spec = LabelSpec::MM_100X150;
    let fonts = Fonts::bundled();
    let mut g = c.benchmark_group("label_100x150_203dpi");
    g.throughput(Throughput::Elements(1));
    g.bench_function("render_and_png_1bit", |b| {
        b.iter(|| {
            let l = render(&m, &token, &spec, &fonts).expect("renders");
            l.to_png(PngMode::OneBit).expect("encodes")
        })
    });
    g.bench_function("render", |b| {
        b.iter(|| render(&m, &token, &spec, &fonts).expect("renders"))
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
    let label = render(&m, &token, &spec, &fonts).expect("renders");
    g.bench_function("png_1bit", |b| {
        b.iter(|| label.to_png(PngMode::OneBit).expect("encodes"))
    });
    g.bench_function("png_gray", |b| {
        b.iter(|| label.to_png(PngMode::Gray).expect("encodes"))
    });
    let mut bm = Bitmap::new(spec.width_dots(), spec.height_dots());
    g.bench_function("qr_fixed_mask", |b| {
        b.iter(|| bench_parts::qr(&token, &mut bm))
    });
    g.bench_function("qr_auto_mask_qrcode_crate", |b| {
        b.iter(|| {
            qrcode::QrCode::with_error_correction_level(token.as_bytes(), qrcode::EcLevel::M)
                .expect("fits")
        })
    });
    let tn = m.tracking_number().as_str().to_owned();
    g.bench_function("code128", |b| b.iter(|| bench_parts::code128(&tn, &mut bm)));
    g.bench_function("blank_bitmap", |b| {
        b.iter(|| Bitmap::new(spec.width_dots(), spec.height_dots()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
