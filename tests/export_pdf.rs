//! PDF export, checked with qpdf and by rendering the pages back with poppler's
//! pdftoppm, then decoding the codes with zbarimg.
#![cfg(feature = "render")]

mod common;

use std::path::Path;

use common::*;
use waybill_redact::{to_pdf, Bitmap, ExportError, PdfOptions, PdfPage, PdfWriter, PlacedCode};

fn qpdf(args: &[&str]) -> String {
    let out = run("qpdf", args, APT_INSTALL);
    assert!(
        out.status.success(),
        "qpdf {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Renders page `page` of `pdf` at `dpi` with pdftoppm; `mono` gives a PBM.
fn pdftoppm(pdf: &Path, page: u32, dpi: u32, mono: bool, out_stem: &Path) -> std::path::PathBuf {
    let p = page.to_string();
    let r = dpi.to_string();
    let mut args = vec!["-r", &r, "-f", &p, "-l", &p, "-singlefile"];
    args.push(if mono { "-mono" } else { "-gray" });
    if !mono {
        args.push("-png");
    }
    args.push(pdf.to_str().unwrap());
    args.push(out_stem.to_str().unwrap());
    let out = run("pdftoppm", &args, APT_INSTALL);
    assert!(
        out.status.success(),
        "pdftoppm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out_stem.with_extension(if mono { "pbm" } else { "png" })
}

/// The whole independent check for one label as a one-page PDF: qpdf finds it
/// valid, poppler renders it at the label's dpi dot for dot, and zbarimg reads
/// every code from the rendered page.
pub fn check_label_pdf(bitmap: &Bitmap, dpi: u32, codes: &[PlacedCode]) {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("label.pdf");
    std::fs::write(&pdf, to_pdf(&[(bitmap, dpi)], &PdfOptions::new()).unwrap()).unwrap();
    qpdf(&["--check", pdf.to_str().unwrap()]);

    let pbm = pdftoppm(&pdf, 1, dpi, true, &dir.path().join("mono"));
    let back = pbm_to_bitmap(&std::fs::read(pbm).unwrap());
    assert_eq!(
        (back.width(), back.height()),
        (bitmap.width(), bitmap.height()),
        "page size"
    );
    assert_eq!(
        diff_count(&back, bitmap),
        0,
        "rendered page differs from the raster"
    );

    let png = pdftoppm(&pdf, 1, dpi, false, &dir.path().join("gray"));
    assert_codes_decode(&png, codes);
}

#[test]
fn sample_label_passes_independent_pdf_checks() {
    let s = sample_label();
    check_label_pdf(&s.bitmap, s.dpi, &s.codes);
}

#[test]
fn output_is_deterministic_and_streaming_matches() {
    let s = sample_label();
    let opts = PdfOptions::new().title("waybills");
    let a = to_pdf(&[(&s.bitmap, 203), (&s.bitmap, 203)], &opts).unwrap();
    let b = to_pdf(&[(&s.bitmap, 203), (&s.bitmap, 203)], &opts).unwrap();
    assert_eq!(a, b);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.pdf");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut w = PdfWriter::new(file, &opts).unwrap();
    let page = PdfPage::new(&s.bitmap, 203, &opts).unwrap();
    w.push(&page).unwrap();
    w.push(&page).unwrap();
    assert_eq!(w.page_count(), 2);
    drop(w.finish().unwrap());
    assert_eq!(std::fs::read(&path).unwrap(), a);

    let text = String::from_utf8_lossy(&a);
    assert!(text.contains("/Producer (waybill-redact "));
    assert!(!text.contains("/CreationDate") && !text.contains("/ID"));
}

#[test]
fn batch_has_one_page_per_label_at_physical_size() {
    let s = sample_label();
    let small = Bitmap::new(608, 1040); // 76x130 mm at 203 dpi
    let fine = Bitmap::new(1181, 1772); // 100x150 mm at 300 dpi
    let pdf = to_pdf(
        &[(&s.bitmap, 203), (&small, 203), (&fine, 300)],
        &PdfOptions::new(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.pdf");
    std::fs::write(&path, pdf).unwrap();
    let p = path.to_str().unwrap();
    qpdf(&["--check", p]);
    assert_eq!(qpdf(&["--show-npages", p]).trim(), "3");

    let out = run("pdfinfo", &["-f", "1", "-l", "3", p], APT_INSTALL);
    let info = String::from_utf8_lossy(&out.stdout);
    // 800 dots / 203 dpi = 3.941 in = 283.74 pt; 1200 -> 425.62 pt.
    for (page, w, h) in [
        (1, 283.74, 425.62),
        (2, 215.65, 368.87),
        (3, 283.44, 425.28),
    ] {
        let line = info
            .lines()
            .find(|l| l.starts_with(&format!("Page {page:>4} size:")))
            .unwrap_or_else(|| panic!("no size for page {page}: {info}"));
        let nums: Vec<f64> = line
            .split_whitespace()
            .filter_map(|t| t.parse().ok())
            .collect();
        assert!(
            (nums[1] - w).abs() < 0.01 && (nums[2] - h).abs() < 0.01,
            "{line}"
        );
    }
    // The 300 dpi page renders back dot for dot at 300 dpi.
    let pbm = pdftoppm(&path, 3, 300, true, &dir.path().join("p3"));
    let back = pbm_to_bitmap(&std::fs::read(pbm).unwrap());
    assert_eq!((back.width(), back.height()), (1181, 1772));
}

#[test]
fn invalid_input_is_an_error() {
    let o = PdfOptions::new();
    assert!(matches!(to_pdf(&[], &o), Err(ExportError::EmptyBatch)));
    assert!(matches!(
        to_pdf(&[(&Bitmap::new(0, 10), 203)], &o),
        Err(ExportError::InvalidSize { .. })
    ));
    assert!(matches!(
        to_pdf(&[(&Bitmap::new(10, 10), 0)], &o),
        Err(ExportError::Dpi { dpi: 0 })
    ));
    let w = PdfWriter::new(Vec::new(), &o).unwrap();
    assert!(matches!(w.finish(), Err(ExportError::EmptyBatch)));
}

#[test]
fn label_at_300_dpi_passes_independent_pdf_checks() {
    let s = sample_label_300dpi();
    check_label_pdf(&s.bitmap, s.dpi, &s.codes);
}

#[test]
fn a_large_batch_streams_into_one_valid_pdf() {
    let s = sample_label();
    let opts = PdfOptions::new();
    let page = PdfPage::new(&s.bitmap, s.dpi, &opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batch.pdf");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut w = PdfWriter::new(file, &opts).unwrap();
    for _ in 0..300 {
        w.push(&page).unwrap();
    }
    drop(w.finish().unwrap());
    let p = path.to_str().unwrap();
    qpdf(&["--check", p]);
    assert_eq!(qpdf(&["--show-npages", p]).trim(), "300");
}

/// A sink that fails once `room` bytes are used, like a full disk.
struct Full {
    room: usize,
}

impl std::io::Write for Full {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.room {
            return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "full"));
        }
        self.room -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_failures_are_reported() {
    let s = sample_label();
    let opts = PdfOptions::new();
    let page = PdfPage::new(&s.bitmap, s.dpi, &opts).unwrap();
    let mut w = PdfWriter::new(Full { room: 5_000 }, &opts).unwrap();
    assert!(matches!(w.push(&page), Err(ExportError::Io(_))));
    // Room for the header and one page, not for the trailer.
    let mut probe = PdfWriter::new(Vec::new(), &opts).unwrap();
    probe.push(&page).unwrap();
    let room = probe.finish().unwrap().len() - 100;
    let mut w = PdfWriter::new(Full { room }, &opts).unwrap();
    w.push(&page).unwrap();
    assert!(matches!(w.finish(), Err(ExportError::Io(_))));
}
