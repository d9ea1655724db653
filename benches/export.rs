//! Export cost per label: ZPL (Z64 and hex) and PDF for a 100x150 mm label at
//! 203 dpi (800x1200 dots, text-like strokes, a barcode and a QR, ~12% black).
//! Prints the output size per label once per format.
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use waybill_redact::{to_pdf, to_zpl, PdfOptions, PdfPage, PdfWriter, ZplEncoding, ZplOptions};

#[path = "../tests/common/mod.rs"]
mod common;

fn export(c: &mut Criterion) {
    let s = common::sample_label();
    let mut g = c.benchmark_group("export_100x150mm_203dpi");
    g.throughput(Throughput::Elements(1));

    for (name, opts) in [
        ("zpl_z64", ZplOptions::new()),
        ("zpl_hex", ZplOptions::new().encoding(ZplEncoding::Hex)),
        ("zpl_acs", ZplOptions::new().encoding(ZplEncoding::Acs)),
        ("zpl_z64_native_codes", ZplOptions::new().native_codes(true)),
    ] {
        let bytes = to_zpl(&s.bitmap, s.dpi, &s.codes, &opts).unwrap().len();
        eprintln!("{name}: {bytes} bytes per label");
        g.bench_function(name, |b| {
            b.iter(|| to_zpl(black_box(&s.bitmap), s.dpi, &s.codes, &opts).unwrap())
        });
    }

    let opts = PdfOptions::new();
    let one = to_pdf(&[(&s.bitmap, s.dpi)], &opts).unwrap().len();
    let hundred: Vec<_> = (0..100).map(|_| (&s.bitmap, s.dpi)).collect();
    let per_page = to_pdf(&hundred, &opts).unwrap().len() / 100;
    eprintln!("pdf: {one} bytes for one label, {per_page} bytes per page in a 100-page file");
    // Per page in a streaming batch: compress, then append to the file.
    let mut writer = PdfWriter::new(std::io::sink(), &opts).unwrap();
    g.bench_function("pdf_page_streamed", |b| {
        b.iter(|| {
            let page = PdfPage::new(black_box(&s.bitmap), s.dpi, &opts).unwrap();
            writer.push(&page).unwrap();
        })
    });
    g.bench_function("pdf_single_label_file", |b| {
        b.iter(|| to_pdf(&[(black_box(&s.bitmap), s.dpi)], &opts).unwrap())
    });
    // `image` interop: the packed raster as a GrayImage, one pass over the bytes.
    #[cfg(feature = "image")]
    g.bench_function("to_gray_image", |b| {
        b.iter(|| black_box(&s.bitmap).to_gray_image())
    });
    g.finish();
}

criterion_group!(benches, export);
criterion_main!(benches);
