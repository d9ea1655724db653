//! The independent-reader checks for any label: labelize + zbarimg for ZPL,
//! qpdf + pdftoppm + zbarimg for PDF. Call them with a real label's raster,
//! dpi and placed codes.
#![allow(dead_code)]

use std::path::Path;

use super::*;
use waybill_redact::{
    decode_gf, to_pdf, to_zpl, Bitmap, CodeKind, PdfOptions, PlacedCode, ZplEncoding, ZplOptions,
};

/// Renders `zpl` with labelize at `dpi` (8 dots/mm for 203 dpi, 12 for 300) and
/// returns the picture as a raster cropped to `w` x `h`, after checking that
/// everything outside that area is white.
pub fn labelize_render(dir: &Path, name: &str, zpl: &str, dpi: u16, w: u32, h: u32) -> Bitmap {
    let dpmm = match dpi {
        203 => 8,
        300 => 12,
        600 => 24,
        _ => panic!("labelize renders 203, 300 or 600 dpi only"),
    };
    let src = dir.join(format!("{name}.zpl"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&src, zpl).unwrap();
    let out = run(
        "labelize",
        &[
            "convert",
            src.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
            "--dpmm",
            &dpmm.to_string(),
            "--width",
            &format!("{}", f64::from(w) / f64::from(dpmm)),
            "--height",
            &format!("{}", f64::from(h) / f64::from(dpmm)),
        ],
        LABELIZE_INSTALL,
    );
    assert!(
        out.status.success(),
        "labelize failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let full = png_to_bitmap(&png);
    assert!(
        full.width() >= w && full.height() >= h,
        "labelize canvas too small"
    );
    let mut cropped = Bitmap::new(w, h);
    for y in 0..full.height() {
        for x in 0..full.width() {
            if full.get(x, y) {
                assert!(
                    x < w && y < h,
                    "labelize drew outside the label at ({x}, {y})"
                );
                cropped.set(x, y, true);
            }
        }
    }
    cropped
}

/// The whole independent check for one label: every encoding round-trips
/// through `decode_gf` exactly; labelize draws the raster-only ZPL dot for dot
/// and zbarimg reads every code from it; with native codes, zbarimg reads every
/// code from labelize's picture, each drawn where the raster had it.
pub fn check_label_zpl(bitmap: &Bitmap, dpi: u16, codes: &[PlacedCode]) {
    let dir = tempfile::tempdir().unwrap();
    for enc in [ZplEncoding::Z64, ZplEncoding::Hex, ZplEncoding::Acs] {
        let zpl = to_zpl(bitmap, dpi, codes, &ZplOptions::new().encoding(enc)).unwrap();
        assert_eq!(&decode_gf(&zpl).unwrap(), bitmap, "{enc:?} round trip");

        let drawn = labelize_render(
            dir.path(),
            &format!("{enc:?}"),
            &zpl,
            dpi,
            bitmap.width(),
            bitmap.height(),
        );
        assert_eq!(
            diff_count(&drawn, bitmap),
            0,
            "labelize picture differs ({enc:?})"
        );
        assert_codes_decode(&dir.path().join(format!("{enc:?}.png")), codes);
    }

    let zpl = to_zpl(bitmap, dpi, codes, &ZplOptions::new().native_codes(true)).unwrap();
    let raster = decode_gf(&zpl).unwrap();
    let drawn = labelize_render(
        dir.path(),
        "native",
        &zpl,
        dpi,
        bitmap.width(),
        bitmap.height(),
    );
    assert_codes_decode(&dir.path().join("native.png"), codes);
    for c in codes {
        assert!(
            black_bbox(&raster, c.x, c.y, c.x + c.width, c.y + c.height).is_none(),
            "{:?} area not blank in the raster",
            c.kind
        );
        // The native symbol sits where the raster one was: same top-left corner;
        // the QR exactly the same size; a barcode never wider than the raster's.
        // Look within the code's quiet zone (4 modules for QR, 10 for Code 128).
        let q = c.module * if c.kind == CodeKind::Qr { 4 } else { 10 };
        let (x0, y0, x1, y1) = black_bbox(
            &drawn,
            c.x.saturating_sub(q),
            c.y.saturating_sub(q),
            c.x + c.width + q,
            c.y + c.height + q,
        )
        .expect("native code drawn");
        let found = (x0, y0, x1, y1);
        match c.kind {
            CodeKind::Qr => assert_eq!(
                found,
                (c.x, c.y, c.x + c.width, c.y + c.height),
                "QR position"
            ),
            _ => {
                assert_eq!((x0, y0, y1), (c.x, c.y, c.y + c.height), "barcode position");
                assert!(
                    x1 <= c.x + c.width,
                    "native barcode wider than the raster one"
                );
            }
        }
    }
}

pub fn qpdf(args: &[&str]) -> String {
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
pub fn pdftoppm(
    pdf: &Path,
    page: u32,
    dpi: u16,
    mono: bool,
    out_stem: &Path,
) -> std::path::PathBuf {
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
pub fn check_label_pdf(bitmap: &Bitmap, dpi: u16, codes: &[PlacedCode]) {
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
