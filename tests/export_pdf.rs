//! PDF export, checked with qpdf and by rendering the pages back with poppler's
//! pdftoppm, then decoding the codes with zbarimg.
#![cfg(feature = "render")]

mod common;

use common::checks::*;
use common::*;
use waybill_redact::{to_pdf, Bitmap, ExportError, PdfOptions, PdfPage, PdfWriter};

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
